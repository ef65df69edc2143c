#!/usr/bin/env bash
# Terminals that send a frame with a bad check byte: the gateway answers 0x8001
# result 2, counts it, and keeps the connection; the ledger records the refusal.
. "$(dirname "$0")/lib.sh"
cat >"$TMP/b.json" <<'JSON'
{"name": "bad-check", "duration": "8s", "time_scale": 2,
 "fleets": [{"id": "a", "protocol": "jt808", "version": 2013, "count": 20, "report": {"every": "1s"}},
            {"id": "b", "protocol": "jt808", "version": 2019, "count": 20, "report": {"every": "1s"}}],
 "steps": [{"at": "3s", "fault": {"kind": "bad-check", "fleet": "a", "fraction": 0.5}},
           {"at": "3s", "fault": {"kind": "bad-check", "fleet": "b"}}],
 "expect": [{"id": "BAD-CHECK-001", "counter": "gateway.bad_check", "min": 30, "max": 30},
            {"id": "BAD-CHECK-002", "counter": "terminal.disconnects", "max": 0},
            {"id": "BAD-CHECK-003", "state": "authenticated"},
            {"id": "BAD-CHECK-004", "ledger": "balanced"}]}
JSON
"$FLEETSIM" run "$TMP/b.json" -q --verbose >"$TMP/out" 2>&1; rc=$?
if [ $rc -eq 0 ] && grep -q "4 cases: 4 pass" "$TMP/out"; then
    ok "30 frames with a bad check byte are refused and counted; no connection drops"
else
    nok "30 frames with a bad check byte are refused and counted; no connection drops" "exit $rc" "$(tail -12 "$TMP/out")"
fi
contains "the ledger shows the refusals" "(refused 30)" "$TMP/out"
contains "the gateway logs each rejected frame with its offset" "rejected frame: check byte mismatch at byte" "$TMP/out"
