#!/usr/bin/env bash
# The api suite catches the rules it checks (docs/conformance.md, Mutants): it passes
# against the embedded platform, and against a platform serving a mutant that breaks
# one of the northbound API's rules (tokens, refusals, registration, deletion), the
# case of that rule FAILS (exit 1).
. "$(dirname "$0")/lib.sh"
S=scenarios/conformance/api
"$FLEETSIM" conform "$S" >"$TMP/out" 2>&1; rc=$?
if [ $rc -eq 0 ] && grep -qE "^[0-9]+ cases: [0-9]+ pass, 0 fail, 0 error, 0 inconclusive" "$TMP/out"; then
    ok "suite api passes without a mutant"
else
    nok "suite api passes without a mutant" "exit $rc" "$(grep -E "FAIL|ERROR|INCONCLUSIVE|cases:" "$TMP/out")"
fi
# two jobs: each logs in as an application of its own, so no login takes another's token
"$FLEETSIM" conform "$S" --jobs 2 >"$TMP/out" 2>&1; rc=$?
if [ $rc -eq 0 ] && grep -qE "^[0-9]+ cases: [0-9]+ pass, 0 fail, 0 error, 0 inconclusive" "$TMP/out"; then
    ok "suite api passes with --jobs 2 too"
else
    nok "suite api passes with --jobs 2 too" "exit $rc" "$(grep -E "FAIL|ERROR|INCONCLUSIVE|cases:" "$TMP/out")"
fi
while read -r m case; do
    plain_build_only || continue
    "$FLEETSIM" conform "$S" --platform-mutant "$m" --cases "$case" >"$TMP/out" 2>&1; rc=$?
    if [ $rc -eq 1 ] && grep -qE "^$case +FAIL " "$TMP/out"; then
        ok "mutant $m: $case FAILS"
    else
        nok "mutant $m: $case FAILS" "exit $rc" "$(tail -5 "$TMP/out")"
    fi
done <<'LIST'
api-any-secret API-LOGIN-002
api-refresh-reuse API-LOGIN-003
api-no-app-key API-AUTH-001
api-no-token API-AUTH-002
api-any-token API-AUTH-003
api-expired-token API-AUTH-004
api-bad-json-empty API-ERR-001
api-405-as-404 API-ERR-003
api-body-limit-4m API-ERR-004
dev-id-rule API-REG-001
dev-repeat-nodeid API-REG-002
dev-no-reg-timeout API-REG-003
dev-delete-noop API-DEL-001
LIST
