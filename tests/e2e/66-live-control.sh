#!/usr/bin/env bash
# Live requests on `fleetsim run --stats PATH` (README "Live statistics"): pause and
# resume (the reports stop, the terminals stay online), disconnect a share, resize
# within fleets[].max (clamped past it), inspect a terminal (its frames both ways,
# decoded as `fleetsim decode` decodes them), every bad request an error reply;
# then `fleetsim top --once` on the same socket shows the fleet.  Every wait bounded.
. "$(dirname "$0")/lib.sh"
cat >"$TMP/s.json" <<'JSON'
{"name": "live-control", "target": "embedded", "duration": "40s",
 "fleets": [{"id": "f", "protocol": "jt808", "version": 2019, "count": 40, "max": 60, "ramp": "200/s",
             "phone": "13800000000+", "heartbeat": "20s", "report": {"every": "500ms"}}],
 "expect": [{"id": "ONLINE", "state": "authenticated", "within": "5s"},
            {"id": "LEDGER", "ledger": "balanced"}]}
JSON
timeout 60 "$FLEETSIM" run "$TMP/s.json" --quiet --stats "$TMP/s.sock" --report "$TMP/r" >"$TMP/run.out" 2>&1 &
rpid=$!
timeout 70 python3 tests/data/live_client.py "$TMP/s.sock" f 13800000001 40 60 >"$TMP/client.out" 2>&1
grep -v '^FRAME ' "$TMP/client.out"
# the frame the inspect reply decoded, decoded again by `fleetsim decode`
read -r hex decoded < <(sed -n 's/^FRAME //p' "$TMP/client.out")
if [ -n "$hex" ] && "$FLEETSIM" decode jt808 "$hex" >"$TMP/dec.out" 2>&1 &&
    python3 -c 'import json,sys; a=json.loads(sys.argv[1]); a=a[0] if isinstance(a,list) else a; b=json.load(open(sys.argv[2]))
b=b[0] if isinstance(b,list) else b
sys.exit(0 if a.get("msg_id")==b.get("msg_id") and a.get("body")==b.get("body") else 1)' "$decoded" "$TMP/dec.out"; then
    ok "an inspected frame decodes the same with fleetsim decode"
else
    nok "an inspected frame decodes the same with fleetsim decode" "$hex" "$decoded" "$(head -c 600 "$TMP/dec.out")"
fi
"$FLEETSIM" top --once -w 100 "$TMP/s.sock" >"$TMP/top.out" 2>&1; rc=$?
if [ $rc = 0 ] && grep -Eq '^ *f +jt808 +[0-9]+ +[0-9]+ +40 ' "$TMP/top.out"; then
    ok "top --once shows the fleet's row, its protocol, 40 online"
else
    nok "top --once shows the fleet's row, its protocol, 40 online" "exit $rc" "$(cat "$TMP/top.out")"
fi
expect_exit "top on a socket that is not there is a usage error (exit 2)" 2 "$FLEETSIM" top --once "$TMP/none.sock"
kill -INT $rpid 2>/dev/null; wait $rpid; rc=$?
if [ $rc = 3 ] || [ $rc = 0 ]; then ok "the run ends when asked (exit $rc)"; else nok "the run ends when asked" "exit $rc" "$(tail -5 "$TMP/run.out")"; fi
