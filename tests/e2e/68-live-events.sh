#!/usr/bin/env bash
# The "live" member of the stats socket's documents (docs/live.md): a run's events
# (a frame that fails its check, a report unanswered, a connect refused, a terminal
# that misses its deadline) with their frames, its verdicts as the run goes, paused
# and active per fleet; serve --stats with the gateway's deviations and rejected
# frames, its requests refused; two shards' live counts add up.  A frame an event
# carries decodes with `fleetsim decode` to the same error or deviation.
. "$(dirname "$0")/lib.sh"
sport=$(free_port); dead=$(free_port)
"$FLEETSIM" serve --port "$sport" --db "$TMP/p.db" --quiet --stats "$TMP/serve.sock" >"$TMP/serve.out" 2>&1 &
spid=$!
wait_port "$sport" || nok "serve starts" "$(cat "$TMP/serve.out")"
# the reports' answers to fleet f go through a proxy that breaks their check byte
start_proxy "$sport" bad-check-report-ack || nok "the proxy starts" "$(cat "$TMP/proxy.out")"
cat >"$TMP/s.json" <<JSON
{"name": "live-events", "duration": "30s",
 "fleets": [{"id": "f", "protocol": "jt808", "version": 2019, "count": 6, "max": 8, "ramp": "100/s",
             "target": "tcp://127.0.0.1:$pport", "phone": "13800000000+", "heartbeat": "20s",
             "report": {"every": "1s"}, "ack_timeout": "2s", "deviate": {"kinds": ["item-length"], "share": 0.5}},
            {"id": "g", "protocol": "jt808", "count": 2, "target": "tcp://127.0.0.1:$dead", "phone": "13900000000+",
             "reconnect": {"min": "500ms", "max": "1s"}}],
 "steps": [{"at": "3s", "fault": {"kind": "corrupt", "fleet": "f", "fraction": 1}}],
 "expect": [{"id": "F-ONLINE", "fleet": "f", "state": "authenticated", "within": "5s"},
            {"id": "G-ONLINE", "fleet": "g", "state": "authenticated", "within": "2s"},
            {"id": "LEDGER", "ledger": "balanced"}]}
JSON
timeout 60 "$FLEETSIM" run "$TMP/s.json" --quiet --stats "$TMP/run.sock" --report "$TMP/r" >"$TMP/run.out" 2>&1 &
rpid=$!
timeout 70 python3 tests/data/live_events_check.py run "$TMP/run.sock" >"$TMP/run-client.out" 2>&1
grep -v '^FRAME ' "$TMP/run-client.out"
timeout 70 python3 tests/data/live_events_check.py serve "$TMP/serve.sock" >"$TMP/serve-client.out" 2>&1
grep -v '^FRAME ' "$TMP/serve-client.out"
# the frames the events carry, decoded again
hex=$(sed -n 's/^FRAME decode_error //p' "$TMP/run-client.out")
out=$("$FLEETSIM" decode jt808 "$hex" 2>&1)
if [ -n "$hex" ] && echo "$out" | grep -qi "check"; then ok "a decode error's frame fails its check in fleetsim decode too"
else nok "a decode error's frame fails its check in fleetsim decode too" "$hex" "$out"; fi
hex=$(sed -n 's/^FRAME deviation //p' "$TMP/serve-client.out")
out=$("$FLEETSIM" decode jt808 "$hex" 2>&1)
if [ -n "$hex" ] && echo "$out" | grep -q "item-length"; then ok "a deviation's frame shows the deviation in fleetsim decode"
else nok "a deviation's frame shows the deviation in fleetsim decode" "$hex" "$out"; fi
"$FLEETSIM" top --once -w 100 "$TMP/serve.sock" >"$TMP/top.out" 2>&1; rc=$?
if [ $rc = 0 ] && grep -q "fleetsim serve" "$TMP/top.out" && grep -q "gateway 0" "$TMP/top.out"; then
    ok "top --once reads serve's socket"
else nok "top --once reads serve's socket" "exit $rc" "$(cat "$TMP/top.out")"; fi
kill -INT $rpid 2>/dev/null; wait $rpid
kill $ppid 2>/dev/null
# two shards of one fleet: their live counts add up to the fleet's
cat >"$TMP/sh.json" <<'JSON'
{"name": "live-shards", "target": "embedded", "duration": "20s",
 "fleets": [{"id": "f", "protocol": "jt808", "count": 7, "max": 11, "ramp": "100/s", "phone": "13700000000+",
             "heartbeat": "20s"}],
 "expect": [{"id": "LEDGER", "ledger": "balanced"}]}
JSON
for k in 1 2; do
    timeout 40 "$FLEETSIM" run "$TMP/sh.json" --quiet --shard $k/2 --stats "$TMP/sh$k.sock" >"$TMP/sh$k.out" 2>&1 &
    eval "sh${k}pid=\$!"
done
a1=$(timeout 20 python3 tests/data/live_events_check.py active "$TMP/sh1.sock" f)
a2=$(timeout 20 python3 tests/data/live_events_check.py active "$TMP/sh2.sock" f)
read -r act1 max1 <<<"$a1"; read -r act2 max2 <<<"$a2"
if [ "$((act1 + act2))" = 7 ] && [ "$((max1 + max2))" = 11 ] && [ "$act1" != 7 ]; then
    ok "two shards' live active and max add up to the fleet's (7 of 11: $act1+$act2, $max1+$max2)"
else nok "two shards' live active and max add up to the fleet's" "shard 1: $a1" "shard 2: $a2"; fi
kill -INT "$sh1pid" "$sh2pid" 2>/dev/null; wait "$sh1pid" "$sh2pid"
kill -INT $spid 2>/dev/null; wait $spid; rc=$?
if [ $rc = 0 ] && [ ! -e "$TMP/serve.sock" ]; then ok "serve stops cleanly and removes its socket"
else nok "serve stops cleanly and removes its socket" "exit $rc" "$(tail -5 "$TMP/serve.out")"; fi
