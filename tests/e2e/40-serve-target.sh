#!/usr/bin/env bash
# fleetsim serve on its own, a run against it as a third-party target, a restart
# that keeps the store (read back with sqlite3), and the descriptor budget.
. "$(dirname "$0")/lib.sh"
port=$(free_port)
"$FLEETSIM" serve --port "$port" --db "$TMP/p.db" >"$TMP/serve.log" 2>&1 &
spid=$!
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
cat >"$TMP/t.json" <<JSON
{"name": "against-serve", "duration": "6s", "target": "tcp://127.0.0.1:$port",
 "fleets": [{"id": "a", "protocol": "jt808", "version": 2019, "count": 50, "ramp": "100/s",
             "report": {"every": "1s"}}],
 "expect": [
   {"id": "T-AUTH-001", "state": "authenticated", "within": "3s"},
   {"id": "T-GW-001", "counter": "gateway.bad_check", "max": 0},
   {"id": "T-LEDGER-001", "ledger": "balanced"}
 ]}
JSON
"$FLEETSIM" run "$TMP/t.json" -q >"$TMP/out" 2>&1; rc=$?
# gateway counters cannot be read from a third-party platform: inconclusive, so exit 4
if [ $rc -eq 4 ] && grep -q "T-AUTH-001 *PASS" "$TMP/out" && grep -q "T-GW-001 *INCONCLUSIVE" "$TMP/out" \
   && grep -q "T-LEDGER-001 *PASS" "$TMP/out"; then
    ok "a run against fleetsim serve as a tcp:// target"
else
    nok "a run against fleetsim serve as a tcp:// target" "exit $rc" "$(tail -15 "$TMP/out")"
fi
contains "serve prints its counters" "authenticated 50" "$TMP/serve.log"
kill -TERM $spid; wait $spid; rc=$?
if [ $rc -eq 0 ]; then ok "serve stops cleanly on SIGTERM"; else nok "serve stops cleanly on SIGTERM" "exit $rc"; fi
check "the store survives in the database file" test -s "$TMP/p.db"
# read back with SQLite's own shell: what the platform core stored
q() { sqlite3 -batch -noheader "$TMP/p.db" "$1" 2>&1; }
got=$(q "SELECT count(*) FROM devices WHERE protocol = 'jt808'")
if [ "$got" = 50 ]; then ok "sqlite3 reads 50 JT/T 808 devices from the store"; else nok "sqlite3 reads 50 JT/T 808 devices from the store" "$got"; fi
got=$(q "SELECT count(*) FROM reports WHERE protocol = 'jt808' AND service = 'location'
         AND json_extract(data, '$.lat') IS NOT NULL AND length(json_extract(data, '$.time')) = 12")
if [ "$got" = 50 ]; then ok "... with a location each (JSON with the wire's fields)"; else nok "... with a location each (JSON with the wire's fields)" "$got"; fi
got=$(q "SELECT count(*) FROM status WHERE protocol = 'jt808' AND online = 0")
if [ "$got" = 50 ]; then ok "... and every one offline after the run"; else nok "... and every one offline after the run" "$got"; fi
# restart on the same database: the same terminals authenticate again
"$FLEETSIM" serve --port "$port" --db "$TMP/p.db" >"$TMP/serve2.log" 2>&1 &
spid=$!
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
sed -i 's/"T-GW-001", "counter": "gateway.bad_check", "max": 0/"T-REG-001", "counter": "terminal.reg_refused", "max": 0/' "$TMP/t.json"
expect_exit "after a restart the same terminals register and authenticate" 0 "$FLEETSIM" run "$TMP/t.json" -q
kill -TERM $spid; wait $spid

# the descriptor budget: with a hard limit of 200, 1000 terminals need more workers
# (1000 / (200 - 64 reserved) -> 8 workers, and 8 gateway processes)
( ulimit -Sn 200 && ulimit -Hn 200 && "$FLEETSIM" run scenarios/quickstart.json --time-scale 10 --procs 1 \
    --status-interval 10s ) >"$TMP/out" 2>&1
contains "a low open-file limit spreads the fleet over more workers" "8 worker(s)" "$TMP/out"
# (latency and deadlines are in virtual time, 10x magnified here, so only the
# command and ledger cases count)
if grep -q "JT808-QUERY-001 *PASS" "$TMP/out" && grep -q "LEDGER-001 *PASS" "$TMP/out"; then
    ok "... and the commands and the ledger still pass"
else
    nok "... and the commands and the ledger still pass" "$(tail -20 "$TMP/out")"
fi
( ulimit -Sn 70 && ulimit -Hn 70 && "$FLEETSIM" run scenarios/quickstart.json -q ) >"$TMP/out" 2>&1; rc=$?
if [ $rc -eq 2 ] && grep -q "need more than 64 worker processes" "$TMP/out"; then
    ok "an impossible descriptor budget is a clear error"
else
    nok "an impossible descriptor budget is a clear error" "exit $rc" "$(tail -5 "$TMP/out")"
fi
