#!/usr/bin/env bash
# The commands suites catch the rules they check (docs/conformance.md, Mutants): each
# passes against the embedded platform, and against a platform serving a mutant that
# breaks one rule of 004 §7 / spec.md §3, the case of that rule FAILS (exit 1).
. "$(dirname "$0")/lib.sh"
S=scenarios/conformance
for suite in commands commands-cached commands-expiry; do
    "$FLEETSIM" conform "$S/$suite" --jobs 2 >"$TMP/out" 2>&1; rc=$?
    if [ $rc -eq 0 ] && grep -qE "^[0-9]+ cases: [0-9]+ pass, 0 fail, 0 error, 0 inconclusive" "$TMP/out"; then
        ok "suite $suite passes without a mutant"
    else
        nok "suite $suite passes without a mutant" "exit $rc" "$(grep -E "FAIL|ERROR|INCONCLUSIVE|cases:" "$TMP/out")"
    fi
done
# mutant suite case: the case fails against the mutant
while read -r m suite case; do
    plain_build_only || continue
    "$FLEETSIM" conform "$S/$suite" --platform-mutant "$m" --cases "$case" >"$TMP/out" 2>&1; rc=$?
    if [ $rc -eq 1 ] && grep -qE "^$case +FAIL " "$TMP/out"; then
        ok "mutant $m: $case FAILS"
    else
        nok "mutant $m: $case FAILS" "exit $rc" "$(tail -5 "$TMP/out")"
    fi
done <<'LIST'
cmd-offline-sent commands CMD-IMM-003
cmd-refusal-success commands CMD-IMM-002
cmd-cached-long-conn commands CMD-IMM-004
cmd-no-timeout commands CMD-TMO-001
cmd-no-retransmit commands CMD-TMO-002
cmd-no-delivered commands CMD-UPG-001
cmd-no-callback commands CMD-PUSH-001
cmd-no-commandrsp commands CMD-PUSH-002
cmd-query-status-ignored commands CMD-QRY-001
cmd-query-page-ignored commands CMD-QRY-001
cmd-cached-not-on-online commands-cached CCMD-PEND-001
cmd-cached-not-in-order commands-cached CCMD-PEND-002
cmd-cached-all-at-once commands-cached CCMD-PEND-002
cmd-no-expire commands-cached CCMD-EXP-001
cmd-cancel-sent commands-cached CCMD-CAN-002
cmd-cancel-task-first commands-cached CCMD-CAN-003
cmd-default-expire-30d commands-expiry CEXP-001
LIST
