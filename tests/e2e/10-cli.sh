#!/usr/bin/env bash
# The command line: help, usage errors, vectors, decode of every vector.
. "$(dirname "$0")/lib.sh"

expect_exit "fleetsim --help exits 0" 0 "$FLEETSIM" --help
expect_exit "unknown command exits 2" 2 "$FLEETSIM" frobnicate
for c in run serve vectors decode encode report conform; do
    expect_exit "fleetsim $c --help exits 0" 0 "$FLEETSIM" "$c" --help
done
expect_exit "run without a scenario exits 2" 2 "$FLEETSIM" run
expect_exit "run with a bad --procs exits 2" 2 "$FLEETSIM" run scenarios/quickstart.json --procs 0
expect_exit "serve with a port below 1024 exits 2" 2 "$FLEETSIM" serve --port 80

# every shipped vector, both ways
expect_exit "fleetsim vectors passes" 0 "$FLEETSIM" vectors
contains "vectors table has a total line" "passed, 0 failed" "$TMP/out"

# a vector file with one byte changed fails with exit 1
sed 's/"hex": *"7E0002/"hex": "7E0003/' vectors/jt808.json >"$TMP/bad.json"
if ! cmp -s vectors/jt808.json "$TMP/bad.json"; then
    expect_exit "an altered vector fails (exit 1)" 1 "$FLEETSIM" vectors "$TMP/bad.json"
else
    nok "an altered vector fails (exit 1)" "sed found no 0x0002 vector to alter"
fi

# decode every vector by hand: good ones exit 0 and print JSON with msg_id;
# malformed ones exit 1 and name the byte offset.
good=0; bad=0; fails=()
while IFS=$'\t' read -r kind hex _from; do
    [ -n "$hex" ] || continue
    "$FLEETSIM" decode jt808 "$hex" >"$TMP/d.out" 2>"$TMP/d.err"; rc=$?
    if [ "$kind" = error ]; then
        if [ $rc -eq 1 ] && grep -q "at byte [0-9]" "$TMP/d.err"; then bad=$((bad + 1)); else fails+=("error vector $hex: exit $rc $(cat "$TMP/d.err")"); fi
    else
        if [ $rc -eq 0 ] && grep -q '"msg_id"' "$TMP/d.out"; then good=$((good + 1)); else fails+=("vector $hex: exit $rc $(cat "$TMP/d.err")"); fi
    fi
done < <("$FLEETSIM" vectors --list vectors/jt808.json)
if [ ${#fails[@]} -eq 0 ] && [ $good -ge 40 ] && [ $bad -ge 8 ]; then
    ok "decode: $good frames decoded, $bad malformed ones name their offset"
else
    nok "decode of every jt808 vector ($good good, $bad malformed)" "${fails[@]:0:5}"
fi
fails=()
while IFS=$'\t' read -r kind hex from; do
    [ -n "$hex" ] || continue
    "$FLEETSIM" decode pcp --from "$from" "$hex" >"$TMP/d.out" 2>"$TMP/d.err"; rc=$?
    want=0; [ "$kind" = error ] && want=1
    [ $rc -eq $want ] || fails+=("pcp $hex: exit $rc")
done < <("$FLEETSIM" vectors --list vectors/pcp.json)
if [ ${#fails[@]} -eq 0 ]; then ok "decode of every pcp vector"; else nok "decode of every pcp vector" "${fails[@]:0:5}"; fi

# decode -> encode round trip of one frame through the CLI
hex=$("$FLEETSIM" vectors --list vectors/jt808.json | awk -F'\t' '$1=="ok"{print $2; exit}')
"$FLEETSIM" decode jt808 "$hex" >"$TMP/frame.json"
back=$("$FLEETSIM" encode jt808 @"$TMP/frame.json")
if [ "$back" = "$hex" ]; then ok "decode then encode gives the same bytes"; else nok "decode then encode gives the same bytes" "$hex" "$back"; fi
expect_exit "decode of bad hex exits 2" 2 "$FLEETSIM" decode jt808 7E00ZZ7E
contains "bad hex names the character" "'Z'" "$TMP/out"

# --dry-run checks the scenario and lists the cases without running anything
expect_exit "run --dry-run exits 0" 0 "$FLEETSIM" run scenarios/quickstart.json --dry-run
contains "dry run lists the cases with their areas" "JT808-QUERY-001          jt808.query" "$TMP/out"
contains "dry run shows the plan" "command 0x8104 to 1 of vans" "$TMP/out"
expect_exit "run --dry-run of a broken scenario exits 2" 2 "$FLEETSIM" run tests/data/scenarios/typo.json --dry-run

# the subpackaged message's fragments reassemble into it; one missing is a failure
contains "the fragments reassemble into their message" "[reassembled from 3 fragments]" <("$FLEETSIM" vectors vectors/jt808.json)
awk 'BEGIN{n=0} /"fragment_of"/ && n==0 {n=1; next} {print}' vectors/jt808.json >"$TMP/nofrag.json"
expect_exit "a missing fragment fails the vector check (exit 1)" 1 "$FLEETSIM" vectors "$TMP/nofrag.json"
contains "... saying the message is not complete" "do not complete the message" "$TMP/out"
