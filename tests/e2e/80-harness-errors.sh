#!/usr/bin/env bash
# When the harness itself breaks (a worker dies, the user interrupts), the run
# still ends with a verdict table and reports, the breakage an ERROR case kept
# apart from the platform's failures, and exit status 3, not the 1 of a failed check.
. "$(dirname "$0")/lib.sh"
cat >"$TMP/long.json" <<'JSON'
{"name": "long", "duration": "20s",
 "fleets": [{"id": "a", "protocol": "jt808", "count": 100, "report": {"every": "1s"}}],
 "expect": [{"id": "L-ONLINE-001", "state": "authenticated"}, {"id": "L-LEDGER-001", "ledger": "balanced"}]}
JSON

"$FLEETSIM" run "$TMP/long.json" --procs 2 --report "$TMP/a/b/c" >"$TMP/out" 2>&1 &
pid=$!
sleep 2.5
set -- $(children $pid 'fs-worker-0')
[ $# -ge 1 ] && kill -9 "$1"
wait $pid; rc=$?
if [ $rc -eq 3 ] && grep -q "HARNESS *ERROR .*worker 0" "$TMP/out"; then
    ok "a worker killed mid-run is a harness ERROR, exit 3"
else
    nok "a worker killed mid-run is a harness ERROR, exit 3" "exit $rc" "$(tail -10 "$TMP/out")"
fi
contains "the dead worker's terminals do not pass" "L-ONLINE-001  FAIL" "$TMP/out"
check "reports are written even so (into a new nested directory)" test -s "$TMP/a/b/c/junit.xml"
check "the JUnit file has an <error> for the harness" grep -q "<error" "$TMP/a/b/c/junit.xml"

# the gateway dies: the run must still end (no wait for a drain nobody will answer)
timeout 60 "$FLEETSIM" run "$TMP/long.json" --procs 1 >"$TMP/out" 2>&1 &
pid=$!
sleep 2
fs=$(children $pid | awk '{print $1}')          # fleetsim, under timeout
gw=$(children "$fs" 'fs-gateway-0')
[ -n "$gw" ] && kill -9 "$gw"
wait $pid; rc=$?
if [ $rc -eq 3 ] && grep -q "HARNESS *ERROR .*gateway 0" "$TMP/out"; then
    ok "a gateway killed mid-run ends the run with a harness ERROR, exit 3"
else
    nok "a gateway killed mid-run ends the run with a harness ERROR, exit 3" "exit $rc (124 = hung)" "$(tail -6 "$TMP/out")"
fi

# the platform core dies: named, the run ends (its gateway cannot go on without it)
timeout 60 "$FLEETSIM" run "$TMP/long.json" --procs 1 >"$TMP/out" 2>&1 &
pid=$!
sleep 2
fs=$(children $pid)
core=$(children "$fs" 'fs-core')
[ -n "$core" ] && kill -9 "$core"
wait $pid; rc=$?
if [ $rc -eq 3 ] && grep -q "HARNESS *ERROR .*platform core (pid $core) died of signal 9" "$TMP/out"; then
    ok "the platform core killed mid-run ends the run with a harness ERROR naming it, exit 3"
else
    nok "the platform core killed mid-run ends the run with a harness ERROR naming it, exit 3" "exit $rc (124 = hung)" \
        "core $core" "$(grep -E 'HARNESS|ERROR' "$TMP/out")"
fi

"$FLEETSIM" run "$TMP/long.json" >"$TMP/out" 2>&1 &
pid=$!
sleep 2.5
kill -INT $pid
wait $pid; rc=$?
if [ $rc -eq 3 ] && grep -q "interrupted" "$TMP/out" && grep -q "L-LEDGER-001 *PASS" "$TMP/out"; then
    ok "an interrupt drains, settles the ledger and reports (a harness ERROR, exit 3)"
else
    nok "an interrupt drains, settles the ledger and reports (a harness ERROR, exit 3)" "exit $rc" "$(tail -10 "$TMP/out")"
fi
sleep 0.5
# every process whose command line names this scenario is gone (children included)
left=""
for d in /proc/[0-9]*; do
    if tr '\0' ' ' <"$d/cmdline" 2>/dev/null | grep -qF "$TMP/long.json"; then left="$left ${d#/proc/}"; fi
done
if [ -z "$left" ]; then ok "no process is left behind"; else nok "no process is left behind" "$left"; fi

# timeout(1) sends its SIGTERM to the whole process group: the run's components are in
# groups of their own, so the run alone gets it, drains and stops them in order
timeout -s TERM 2.5 "$FLEETSIM" run "$TMP/long.json" >"$TMP/out" 2>&1; rc=$?
if [ $rc -eq 124 ] && grep -q "HARNESS *ERROR .*interrupted" "$TMP/out" && ! grep -q "died of signal" "$TMP/out" \
    && grep -q "L-LEDGER-001 *PASS" "$TMP/out"; then
    ok "a group-wide SIGTERM (timeout) drains like an interrupt: no component 'died of signal 15'"
else
    nok "a group-wide SIGTERM (timeout) drains like an interrupt: no component 'died of signal 15'" "exit $rc" \
        "$(grep -E 'HARNESS|LEDGER|signal' "$TMP/out")"
fi
sleep 0.5
left=""
for d in /proc/[0-9]*; do
    if tr '\0' ' ' <"$d/cmdline" 2>/dev/null | grep -qF "$TMP/long.json"; then left="$left ${d#/proc/}"; fi
done
if [ -z "$left" ]; then ok "... and no process is left behind"; else nok "... and no process is left behind" "$left"; fi
