#!/usr/bin/env bash
# Scenario errors name the file and the JSON path, exit 2; a small run passes.
. "$(dirname "$0")/lib.sh"

expect_exit "a scenario with a typo exits 2" 2 "$FLEETSIM" run tests/data/scenarios/typo.json
contains "the typo is named with file and path" "tests/data/scenarios/typo.json: fleets[0].cout: unknown field" "$TMP/out"

cat >"$TMP/syntax.json" <<'JSON'
{"name": "x",
 "duration": "5s",
 "fleets": [ {"id": "a" "protocol": "jt808", "count": 1} ]}
JSON
expect_exit "a JSON syntax error exits 2" 2 "$FLEETSIM" run "$TMP/syntax.json"
contains "the syntax error has line and column" "syntax.json:3:" "$TMP/out"

cat >"$TMP/badfleet.json" <<'JSON'
{"name": "x", "duration": "5s",
 "fleets": [{"id": "a", "protocol": "jt808", "count": 10}],
 "steps": [{"at": "1s", "fault": {"kind": "disconnect", "fleet": "b"}}]}
JSON
expect_exit "a step naming an unknown fleet exits 2" 2 "$FLEETSIM" run "$TMP/badfleet.json"
contains "the unknown fleet is named with its path" "steps[0].fault.fleet" "$TMP/out"

expect_exit "a missing scenario file exits 2" 2 "$FLEETSIM" run "$TMP/nope.json"
contains "the missing file is named" "nope.json" "$TMP/out"

# a small run against the embedded gateway, faster than real time
cat >"$TMP/small.json" <<'JSON'
{"name": "small", "duration": "20s", "time_scale": 4,
 "fleets": [
   {"id": "a", "protocol": "jt808", "version": 2013, "count": 40, "ramp": "40/s", "report": {"every": "2s"}},
   {"id": "b", "protocol": "jt808", "version": 2019, "count": 40, "ramp": "40/s", "report": {"every": "2s"}},
   {"id": "c", "protocol": "jt808", "version": 2011, "count": 10, "report": {"every": "2s"}}
 ],
 "steps": [
   {"at": "5s", "command": {"fleet": "a", "msg": "0x8104"}},
   {"at": "5s", "command": {"fleet": "b", "msg": "0x8201"}},
   {"at": "6s", "command": {"fleet": "b", "msg": "0x8103", "body": {"count": 1, "params": [{"id": "0x00000029", "len": 4, "value": 3}]}}},
   {"at": "7s", "command": {"fleet": "c", "msg": "0x8300", "body": {"flag": 1, "text": "hello 你好"}}},
   {"at": "8s", "fault": {"kind": "disconnect", "fleet": "a", "fraction": 0.5, "down": "3s"}}
 ],
 "expect": [
   {"id": "E2E-AUTH-001", "state": "authenticated", "within": "5s"},
   {"id": "E2E-QUERY-001", "fleet": "a", "reply": "0x0104", "to": "0x8104"},
   {"id": "E2E-POS-001", "fleet": "b", "reply": "0x0201", "to": "0x8201"},
   {"id": "E2E-PARAM-001", "fleet": "b", "reply": "0x0001", "to": "0x8103"},
   {"id": "E2E-TEXT-001", "fleet": "c", "reply": "0x0001", "to": "0x8300"},
   {"id": "E2E-BACK-001", "counter": "terminal.backfill_locations", "fleet": "a", "min": 1},
   {"id": "E2E-RECONNECT-001", "state": "authenticated"},
   {"id": "E2E-ORDER-001", "transitions": ["connecting", "registering", "registered", "authenticating", "authenticated"]},
   {"id": "E2E-LEDGER-001", "ledger": "balanced"}
 ]}
JSON
expect_exit "a small mixed run passes every expectation" 0 "$FLEETSIM" run "$TMP/small.json" --report "$TMP/rep"
contains "the verdict table ends with the totals" "9 cases: 9 pass" "$TMP/out"
contains "the ledger line says balanced" "ledger: balanced" "$TMP/out"
check "report.json was written" test -s "$TMP/rep/report.json"
if command -v xmllint >/dev/null 2>&1; then
    check "junit.xml is well-formed XML" xmllint --noout "$TMP/rep/junit.xml"
else
    check "junit.xml was written" grep -q "<testsuites" "$TMP/rep/junit.xml"
fi
check "junit.xml names the case and its area" grep -q 'classname="e2e.query" name="E2E-QUERY-001' "$TMP/rep/junit.xml"

# a failing expectation exits 1 and is reported as a JUnit failure (the fault step
# disconnects half of fleet a, so "no disconnects" cannot hold; a deadline of 1ms
# could: a loopback handshake takes less)
sed 's/{"id": "E2E-AUTH-001", "state": "authenticated", "within": "5s"}/{"id": "E2E-AUTH-001", "counter": "terminal.disconnects", "max": 0}/' \
    "$TMP/small.json" >"$TMP/fail.json"
grep -q '"counter": "terminal.disconnects"' "$TMP/fail.json" || nok "the failing scenario was made" "$(cat "$TMP/fail.json")"
expect_exit "an expectation that cannot hold exits 1" 1 "$FLEETSIM" run "$TMP/fail.json" --report "$TMP/rep2" -q
contains "the failure is in the table" "E2E-AUTH-001" "$TMP/out"
check "junit.xml carries a <failure>" grep -q "<failure" "$TMP/rep2/junit.xml"
