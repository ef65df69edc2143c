#!/usr/bin/env bash
# What a run reports must be what happened: an interrupted run's figures cover the
# time it ran, deadlines and steps it never reached are inconclusive, each JUnit
# case has its own duration; the moment the fleet was online is known at any time
# scale; latency is wall-clock time; an unreachable target or one that speaks
# something else says so (connect failures by reason, bad frames), and a check
# over nothing is inconclusive.
. "$(dirname "$0")/lib.sh"
py() { python3 - "$@"; }

# --- an interrupted run -----------------------------------------------------------
cat >"$TMP/intr.json" <<'JSON'
{"name": "intr", "duration": "30s",
 "fleets": [{"id": "a", "protocol": "jt808", "count": 20, "ramp": "2/s", "report": {"every": "1s"}}],
 "steps": [{"at": "20s", "command": {"fleet": "a", "msg": "0x8104"}}],
 "expect": [{"id": "I-ONLINE-001", "state": "authenticated", "within": "8s"},
            {"id": "I-QUERY-001", "fleet": "a", "reply": "0x0104", "to": "0x8104"},
            {"id": "I-LEDGER-001", "ledger": "balanced"}]}
JSON
"$FLEETSIM" run "$TMP/intr.json" --report "$TMP/intr" >"$TMP/intr.out" 2>&1 &
pid=$!
sleep 4
kill -INT $pid
wait $pid
got=$(py "$TMP/intr/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
c = {x["id"]: x for x in r["cases"]}
print(round(r["virtual_s"]), c["I-ONLINE-001"]["verdict"], c["I-QUERY-001"]["verdict"])
PY
)
set -- $got
if [ "${1:-99}" -le 6 ]; then ok "an interrupted run covers the time it ran (virtual_s $1, not 30)"
else nok "an interrupted run covers the time it ran" "virtual_s ${1:-?}"; fi
if [ "${2:-}" = INCONCLUSIVE ]; then ok "terminals whose deadline never came are INCONCLUSIVE, not FAIL"
else nok "terminals whose deadline never came are INCONCLUSIVE, not FAIL" "${2:-?}" "$(grep I-ONLINE "$TMP/intr.out")"; fi
if [ "${3:-}" = INCONCLUSIVE ] && grep -q "I-QUERY-001.*before the 0x8104 step at 20.00s" "$TMP/intr.out"; then
    ok "a command step the run never reached is said to be that"
else
    nok "a command step the run never reached is said to be that" "$(grep I-QUERY "$TMP/intr.out")"
fi
vs=$(py "$TMP/intr/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print("%.0f" % (r["metrics"]["reports_per_s"] * r["virtual_s"]) if "reports_per_s" in r["metrics"] else "-")
PY
)
acked=$(sed -n 's/.*reports acked: \([0-9]*\) .*/\1/p' "$TMP/intr.out")
if [ -n "$acked" ] && [ "$vs" = "$acked" ]; then ok "its rate is per second it ran ($acked reports)"
else nok "its rate is per second it ran" "rate x virtual_s = $vs, acked $acked"; fi
times=$(py "$TMP/intr/junit.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
t = ET.parse(sys.argv[1])
print(" ".join(c.get("time") for c in t.iter("testcase")))
PY
)
set -- $times
if [ "$#" -ge 3 ] && [ "$1" != "$2" ] && [ "$2" = "0.000" ]; then
    ok "each JUnit case has its own duration ($times)"
else
    nok "each JUnit case has its own duration" "$times"
fi

# --- a high time scale -----------------------------------------------------------------
# 600 s of virtual time is 0.6 s on the wall at --time-scale 1000: room for a loaded
# machine to connect five terminals.
cat >"$TMP/five.json" <<'JSON'
{"name": "five", "duration": "900s",
 "fleets": [{"id": "a", "protocol": "jt808", "count": 5, "report": {"every": "30s"}}],
 "expect": [{"id": "F-ONLINE-001", "state": "authenticated", "within": "600s"}]}
JSON
"$FLEETSIM" run "$TMP/five.json" --time-scale 1000 >"$TMP/five.out" 2>&1
if grep -q "F-ONLINE-001 *PASS" "$TMP/five.out" && grep -q "terminals online (authenticated) after [0-9.]*[mu]*s" "$TMP/five.out"; then
    ok "at --time-scale 1000 the figures know when the fleet was online"
else
    nok "at --time-scale 1000 the figures know when the fleet was online" "$(grep -E 'F-ONLINE|online' "$TMP/five.out")"
fi

# --- latency is wall-clock time -----------------------------------------------------------
# At --time-scale 1000 a round trip of 50 us on the wall is 50 ms of virtual time:
# the median must stay below 20 ms, which only wall-clock figures do.  The median, not
# the tail, so that a loaded machine does not fail it.
cat >"$TMP/lat.json" <<'JSON'
{"name": "lat", "duration": "600s",
 "fleets": [{"id": "a", "protocol": "jt808", "count": 20, "report": {"every": "30s"}}],
 "expect": [{"id": "L-PERF-001", "metric": "report.latency.p50", "below": "20ms"}]}
JSON
"$FLEETSIM" run "$TMP/lat.json" --time-scale 1000 --report "$TMP/lat" >"$TMP/lat.out" 2>&1
if grep -q "L-PERF-001 *PASS" "$TMP/lat.out" && grep -q "latency (wall clock)" "$TMP/lat.out"; then
    ok "at --time-scale 1000 latency is measured on the wall clock (and says so)"
else
    nok "at --time-scale 1000 latency is measured on the wall clock (and says so)" "$(grep -E 'L-PERF|latency' "$TMP/lat.out")"
fi

# --- an unreachable target -----------------------------------------------------------------
cat >"$TMP/unreach.json" <<'JSON'
{"name": "unreach", "duration": "3s", "target": "tcp://127.0.0.1:1",
 "fleets": [{"id": "a", "protocol": "jt808", "count": 5, "report": {"every": "1s"}}],
 "expect": [{"id": "U-ONLINE-001", "state": "authenticated", "within": "2s"},
            {"id": "U-LEDGER-001", "ledger": "balanced"}]}
JSON
"$FLEETSIM" run "$TMP/unreach.json" --report "$TMP/unreach" >"$TMP/unreach.out" 2>&1
contains "the status line shows connect failures and why" "(last ECONNREFUSED)" "$TMP/unreach.out"
if grep -q "U-ONLINE-001 *FAIL .*connect failures [1-9][0-9]* (refused [1-9]" "$TMP/unreach.out"; then
    ok "the failed case says the terminals could not connect"
else
    nok "the failed case says the terminals could not connect" "$(grep U-ONLINE "$TMP/unreach.out")"
fi
contains "a ledger of nothing is INCONCLUSIVE" "U-LEDGER-001  INCONCLUSIVE" "$TMP/unreach.out"
contains "the table lists the errors by reason" "errors: connect failures" "$TMP/unreach.out"
got=$(py "$TMP/unreach/report.json" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))["errors"]
print(e["connect_failures"] > 0 and e["connect_failures"] == e["connect_refused"])
PY
)
if [ "$got" = True ]; then ok "report.json has the errors by reason"; else nok "report.json has the errors by reason" "$got"; fi

# --- a target that is not JT/T 808 (an HTTP server) ----------------------------------------
port=$(free_port)
# an HTTP server's answer to bytes that are not HTTP, as soon as they arrive
python3 - "$port" >"$TMP/http.log" 2>&1 <<'PY' &
import socket, sys, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(16)
def serve(c):
    try:
        while c.recv(4096):
            c.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 11\r\n\r\nBad Request")
    except OSError:
        pass
    c.close()
s.settimeout(30)
try:
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()
except OSError:
    pass
PY
hpid=$!
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
sed "s#tcp://127.0.0.1:1#tcp://127.0.0.1:$port#" "$TMP/unreach.json" >"$TMP/http.json"
"$FLEETSIM" run "$TMP/http.json" >"$TMP/http.out" 2>&1
kill $hpid 2>/dev/null; wait $hpid 2>/dev/null
bad=$(grep -o "bad frames [0-9]*" "$TMP/http.out" | tail -1 | awk '{print $3}')
if [ "${bad:-0}" -gt 0 ] && grep -q "errors:.*frames the terminals could not decode" "$TMP/http.out"; then
    ok "an HTTP server's answers show as bad frames ($bad)"
else
    nok "an HTTP server's answers show as bad frames" "$(tail -12 "$TMP/http.out")"
fi
