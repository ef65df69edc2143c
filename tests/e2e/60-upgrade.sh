#!/usr/bin/env bash
# 0x8108 upgrade packages: one that fits a frame, and one of 5,000 bytes that the
# gateway sends in subpackages and the terminals reassemble before answering.  Each
# terminal answers its 0x8108 with 0x0001, then reports the outcome in a 0x0108
# (result 0 when the whole package arrived) that the gateway acknowledges.
. "$(dirname "$0")/lib.sh"
# matches NAME ERE FILE
matches() { if grep -qE -- "$2" "$3"; then ok "$1"; else nok "$1" "no match: $2" "$(tail -20 "$3")"; fi; }
cat >"$TMP/u.json" <<'JSON'
{"name": "upgrade", "duration": "6s", "time_scale": 2,
 "fleets": [{"id": "a", "protocol": "jt808", "version": 2013, "count": 10},
            {"id": "b", "protocol": "jt808", "version": 2019, "count": 10}],
 "steps": [{"at": "2s", "command": {"fleet": "a", "msg": "0x8108",
            "body": {"type": 0, "manufacturer": "FSIM1", "version": "2.0.1", "package_len": 5000}}},
           {"at": "2s", "command": {"fleet": "b", "msg": "0x8108",
            "body": {"type": 0, "manufacturer": "FSIM1", "version": "2.0.1", "package_len": 300}}}],
 "expect": [{"id": "UPG-BIG-001", "fleet": "a", "reply": "0x0001", "to": "0x8108"},
            {"id": "UPG-SMALL-001", "fleet": "b", "reply": "0x0001", "to": "0x8108"},
            {"id": "UPG-SPLIT-001", "fleet": "a", "counter": "terminal.replies", "min": 20},
            {"id": "UPG-RESULT-001", "counter": "gateway.upgrade_ok", "min": 20, "max": 20},
            {"id": "UPG-RESULT-002", "counter": "gateway.upgrade_failed", "max": 0},
            {"id": "UPG-RESULT-003", "counter": "gateway.upgrade_cancelled", "max": 0},
            {"id": "UPG-DECODE-001", "counter": "terminal.decode_errors", "max": 0},
            {"id": "UPG-LEDGER-001", "ledger": "acked"}]}
JSON
expect_exit "a 5,000-byte upgrade package is split, reassembled and answered" 0 \
    "$FLEETSIM" run "$TMP/u.json" -q --report "$TMP/r"
cp "$TMP/out" "$TMP/run.out"
contains "all eight upgrade checks pass" "8 cases: 8 pass" "$TMP/run.out"
# every 0x8108 answered with 0x0001 (for fleet a, the answer to the last subpackage)
matches "fleet a answered the big package" \
    '^UPG-BIG-001 +PASS .*addressed 10: answered 10, refused 0, timed out 0' "$TMP/run.out"
matches "fleet b answered the small package" \
    '^UPG-SMALL-001 +PASS .*addressed 10: answered 10, refused 0, timed out 0' "$TMP/run.out"
# fleet a's terminals answered each subpackage: the package did not come in one frame
matches "the big package came in subpackages" '^UPG-SPLIT-001 +PASS ' "$TMP/run.out"
# one 0x0108 per terminal and each one result 0: 20 results from 20 terminals, none
# failed, so every one of fleet a's 10 (the subpackaged package) succeeded as well
matches "the gateway received 20 upgrade results 0" '"upgrade_ok":[[:space:]]*20,' "$TMP/r/report.json"
matches "no upgrade failed" '"upgrade_failed":[[:space:]]*0,' "$TMP/r/report.json"
matches "no upgrade was cancelled" '"upgrade_cancelled":[[:space:]]*0,' "$TMP/r/report.json"
# the 0x0108 are terminal requests: unacknowledged, they would count as failed or
# timed out in the terminals' ledger
matches "the gateway acknowledged every terminal request, the 0x0108 among them" \
    'terminals sent ([0-9]+) = acked \1 \+ failed 0 \+ timed out 0' "$TMP/run.out"
