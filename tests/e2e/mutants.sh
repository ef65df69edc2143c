# Shared by the mutation tests (tests/e2e/64-mutants-*.sh): a suite passes against
# the embedded platform, and each mutant (fleetsim conform --platform-mutant RULE)
# fails the case of its rule. Sourced after lib.sh.

# suite_passes DIR [ARGS...]: every case of DIR passes (exit 0, no FAIL)
suite_passes() {
    local dir=$1 name; name=$(basename "$1"); shift
    "$FLEETSIM" conform "$dir" -q "$@" --report "$TMP/$name-clean" >"$TMP/out" 2>&1; local rc=$?
    local n; n=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(len(r["cases"]), sum(c["verdict"]=="PASS" for c in r["cases"]))' \
        "$TMP/$name-clean/report.json" 2>/dev/null)
    if [ $rc -eq 0 ] && [ -n "$n" ] && [ "${n% *}" = "${n#* }" ] && [ "${n% *}" -gt 0 ]; then
        ok "suite $name passes without a mutant (${n% *} cases)"
    else
        nok "suite $name passes without a mutant" "exit $rc, cases/passed: $n" "$(grep -E "FAIL|ERROR|cases:" "$TMP/out")"
    fi
}

# mutant_caught DIR MUTANT CASE: against MUTANT, CASE runs and FAILs (exit 1, the report says so)
mutant_caught() {
    local dir=$1 m=$2 c=$3 name; name=$(basename "$1")
    plain_build_only || return 0
    "$FLEETSIM" conform "$dir" -q --platform-mutant "$m" --cases "$c" --report "$TMP/$name-$m-$c" >"$TMP/out" 2>&1
    local rc=$? v
    v=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(" ".join(c["id"]+"="+c["verdict"] for c in r["cases"]))' \
        "$TMP/$name-$m-$c/report.json" 2>/dev/null)
    if [ $rc -eq 1 ] && [ "$v" = "$c=FAIL" ]; then
        ok "$name: mutant $m fails $c"
    else
        nok "$name: mutant $m fails $c" "exit $rc (wanted 1), verdicts: $v" "$(tail -5 "$TMP/out")"
    fi
}

# every_mutant_tried REGEX: the mutants whose names start so that serve --mutant list
# names are the ones the script tried (TRIED): none is left without its case
every_mutant_tried() {
    local listed tried
    listed=$("$FLEETSIM" serve --mutant list | awk '{print $1}' | grep -E "^($1)" | sort -u | tr '\n' ' ')
    tried=$(printf '%s\n' "${TRIED[@]}" | grep -E "^($1)" | sort -u | tr '\n' ' ')
    if [ "$listed" = "$tried" ]; then
        ok "every mutant of $1 has a case that catches it"
    else
        nok "every mutant of $1 has a case that catches it" "listed: $listed" "tried:  $tried"
    fi
}
