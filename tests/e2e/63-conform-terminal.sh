#!/usr/bin/env bash
# fleetsim conform --terminal: the runner is the platform and checks the devices
# that connect to it.  fleetsim's own terminals (a `fleetsim run` whose target is
# the runner) pass the jt808-terminal suite as 2019 terminals and as 2013 ones
# (each the cases of no edition in particular and the variants of its edition; a
# variant of the other edition is inconclusive); a deliberately wrong device (a small Python
# terminal that answers 0x8107 with the 2013 width of a 2019 field and never
# answers 0x8801) fails exactly those two cases; a platform-side run skips the
# terminal cases and a --terminal run the platform cases; bad --listen values
# are usage errors.  Every run is bounded (timeout).
. "$(dirname "$0")/lib.sh"
SUITE=scenarios/conformance/jt808-terminal
# the cases a device of each edition runs: those of no edition in particular, and
# the variants ("editions") of its own
read -r n13 n19 <<<"$(python3 -c '
import json, os, sys
d = sys.argv[1]
n = {2013: 0, 2019: 0}
for f in os.listdir(d):
    if f.endswith(".json") and f != "suite.json":
        j = json.load(open(os.path.join(d, f)))
        for c in j.get("cases", [j]):
            for e in n:
                n[e] += e in c.get("editions", [e])
print(n[2013], n[2019])' "$SUITE")"

# device SCENARIO-FILE PORT VERSION: a one-terminal scenario aimed at the runner;
# it comes back 20 ms after each case closes its connection (the next case waits for it).
# A 2019 one asks the server time after authenticating (time_query: the MAY case
# JT808T-TIME-001 checks how it takes the answer)
device() {
    local tq=""
    [ "$3" = 2019 ] && tq=', "time_query": true'
    cat >"$1" <<JSON
{"name": "conform-device", "duration": "240s", "target": "tcp://127.0.0.1:$2",
 "fleets": [{"id": "dev", "protocol": "jt808", "count": 1, "version": $3,
             "reconnect": {"min": "20ms", "max": "200ms"}, "heartbeat": "30s", "report": {"every": "5s"}$tq}]}
JSON
}
# conform_with NAME PORT DEVICE-COMMAND... -- CONFORM-ARGS...: the runner on PORT,
# then the device; the runner's exit status in $TMP/NAME.rc, its output in $TMP/NAME.out
conform_with() {
    local name=$1 port=$2; shift 2
    local dev=()
    while [ "$1" != "--" ]; do dev+=("$1"); shift; done
    shift
    timeout 300 "$FLEETSIM" conform --terminal --listen "127.0.0.1:$port" -q "$@" >"$TMP/$name.out" 2>&1 &
    local cpid=$!
    local i
    # listening once it says so (a probe connection would be taken for the device)
    for i in $(seq 50); do grep -q "listening on" "$TMP/$name.out" 2>/dev/null && break; sleep 0.1; done
    timeout 300 "${dev[@]}" >"$TMP/$name.dev" 2>&1 &
    local dpid=$!
    wait "$cpid"; echo $? >"$TMP/$name.rc"
    kill -INT "$dpid" 2>/dev/null
    wait "$dpid" 2>/dev/null
}
verdicts() { python3 -c 'import json,sys; print("\n".join(c["id"]+" "+c["verdict"] for c in json.load(open(sys.argv[1]))["cases"]))' "$1"; }

# 1. fleetsim's own 2019 terminal: every case of its edition passes, the MAY ones
# (what a device does of its own accord, which a simulated one does at once) too
port=$(free_port)
device "$TMP/d2019.json" "$port" 2019
conform_with t2019 "$port" "$FLEETSIM" run "$TMP/d2019.json" --quiet -- "$SUITE" --strict --exclude '*-2013' --report "$TMP/r2019"
n_cases=$n19
if [ "$(cat "$TMP/t2019.rc")" = 0 ] && grep -q "^$n_cases cases: $n_cases pass" "$TMP/t2019.out"; then
    ok "fleetsim's own 2019 terminal passes the jt808-terminal suite's 2019 cases ($n_cases)"
else
    nok "fleetsim's own 2019 terminal passes the jt808-terminal suite" "exit $(cat "$TMP/t2019.rc")" \
        "$(grep -E "FAIL|ERROR|cases:" "$TMP/t2019.out")"
fi
python3 - "$TMP/r2019" "$n_cases" >"$TMP/py" 2>&1 <<'PY'
import json, sys, xml.etree.ElementTree as ET
d, n = sys.argv[1], int(sys.argv[2])
r = json.load(open(d + "/report.json"))
assert len(r["cases"]) == n and r["verdict"] == "PASS", r["verdict"]
assert r["metrics"]["target"].startswith("terminal:127.0.0.1:"), r["metrics"]["target"]
for c in r["cases"]:
    log = c["wire_log"]
    assert "device connected from 127." in log, c["id"]
    assert " c0 < 7E0100" in log or " c0 < 7E0102" in log, c["id"]   # the device speaks first
    assert " c0 > 7E8100" in log, c["id"]                             # the runner registers it
assert len(ET.parse(d + "/junit.xml").getroot().findall(".//testcase")) == n
print("fine")
PY
contains "report.json and junit.xml: every case with the device's frames and the runner's answers" "fine" "$TMP/py"
# log LINE-PATTERN CASE REPORT: the case's wire log has a line matching the (Python) pattern
log() { python3 -c 'import json, re, sys
c = [c for c in json.load(open(sys.argv[3]))["cases"] if c["id"] == sys.argv[2]][0]
sys.exit(0 if re.search(sys.argv[1], c["wire_log"], re.M) else 1)' "$@"; }
if log 'c0 < 7E0102[\s\S]*?c0 > 7E8001[^\n]*"result":1\}[\s\S]*?c0 < 7E0100' JT808T-REG-002 "$TMP/r2019/report.json"; then
    ok "a device that reconnects with its old auth code is refused (0x8001 result 1) and registers again"
else
    nok "a device that reconnects with its old auth code is refused and registers again"
fi

if log 'c0 > 7E81086' JT808T-UPG-001-2019 "$TMP/r2019/report.json" &&
    log '(c0 < 7E0001[^\n]*"ack_id":"0x8108","result":0[\s\S]*?){3}c0 < 7E0108[^\n]*"result":0' JT808T-UPG-001-2019 "$TMP/r2019/report.json" &&
    log 'c0 < 7E0108[^\n]*"result":1' JT808T-UPG-002-2019 "$TMP/r2019/report.json"; then
    ok "an upgrade package in 3 subpackages: 0x0001 to each, then 0x0108 result 0; a short one: 0x0108 result 1"
else
    nok "an upgrade package in 3 subpackages: 0x0001 to each, then 0x0108 result 0; a short one: 0x0108 result 1"
fi

# 2. a 2013 terminal: the cases of no edition in particular and the 2013 variants
port=$(free_port)
device "$TMP/d2013.json" "$port" 2013
conform_with t2013 "$port" "$FLEETSIM" run "$TMP/d2013.json" --quiet -- "$SUITE" --strict --exclude '*-2019' --report "$TMP/r2013"
if [ "$(cat "$TMP/t2013.rc")" = 0 ] && grep -q "^$n13 cases: $n13 pass" "$TMP/t2013.out" &&
    log 'c0 < 7E0107.*"msg_id":"0x0107".*"version":"2013"' JT808T-PROP-001-2013 "$TMP/r2013/report.json" &&
    log 'c0 < 7E0100.*"layout":"2013"' JT808T-REG-001-2013 "$TMP/r2013/report.json"; then
    ok "fleetsim's own 2013 terminal passes the suite's 2013 cases ($n13; 0x0100 and 0x0107 with the 2013 widths)"
else
    nok "fleetsim's own 2013 terminal passes the suite's 2013 cases" "exit $(cat "$TMP/t2013.rc")" \
        "$(grep -E "FAIL|ERROR|cases:" "$TMP/t2013.out")"
fi
# ... and the 2019 variant of a case is inconclusive with a 2013 device (not a rule it broke)
port=$(free_port)
device "$TMP/d2013.json" "$port" 2013
conform_with t2013b "$port" "$FLEETSIM" run "$TMP/d2013.json" --quiet -- "$SUITE" --cases 'JT808T-PROP-001-*' \
    --report "$TMP/r2013b"
got=$(verdicts "$TMP/r2013b/report.json" 2>&1)
if [ "$(cat "$TMP/t2013b.rc")" = 4 ] && [ "$got" = "JT808T-PROP-001-2013 PASS
JT808T-PROP-001-2019 INCONCLUSIVE" ] && grep -q "the device speaks 2013" "$TMP/r2013b/report.json"; then
    ok "a 2013 device: the 2019 variant is inconclusive, saying the device speaks 2013 (exit 4)"
else
    nok "a 2013 device: the 2019 variant is inconclusive" "exit $(cat "$TMP/t2013b.rc")" "$got"
fi

# 3. a wrong device fails exactly the cases it breaks, with the evidence
port=$(free_port)
conform_with wrong "$port" python3 tests/data/jt808_wrong_device.py "$port" 120 -- "$SUITE" \
    --cases 'JT808T-REG-001-2019,JT808T-LOCQ-001,JT808T-TEXT-001-2019,JT808T-PROP-001-2019,JT808T-CAM-001' --report "$TMP/rw"
want="JT808T-REG-001-2019 PASS
JT808T-PROP-001-2019 FAIL
JT808T-LOCQ-001 PASS
JT808T-TEXT-001-2019 PASS
JT808T-CAM-001 FAIL"
got=$(verdicts "$TMP/rw/report.json" 2>&1)
if [ "$(cat "$TMP/wrong.rc")" = 1 ] && [ "$got" = "$want" ]; then
    ok "a wrong device fails exactly 0x8107 (field widths) and 0x8801 (no answer); exit 1"
else
    nok "a wrong device fails exactly 0x8107 and 0x8801" "exit $(cat "$TMP/wrong.rc")" "$got"
fi
python3 - "$TMP/rw/report.json" >"$TMP/py" 2>&1 <<'PY'
import json, sys
c = {c["id"]: c for c in json.load(open(sys.argv[1]))["cases"]}
p, m = c["JT808T-PROP-001-2019"], c["JT808T-CAM-001"]
assert "laid out as JT/T 808" in p["expected"] and "body." in p["observed"], p
assert "does not decode" in p["wire_log"] and " c0 < 7E0107" in p["wire_log"], p["wire_log"]
assert "0x0805" in m["expected"] and m["observed"] == "no frame", m
assert " c0 > 7E8801" in m["wire_log"], m["wire_log"]
print("fine")
PY
contains "... with expected vs observed and the frames (the 0x0107 that does not decode, the 0x8801 unanswered)" "fine" "$TMP/py"

# 4. sides: a platform run skips terminal cases, a --terminal run platform cases
expect_exit "a platform-side run of a terminal suite has nothing to run (exit 2)" 2 \
    "$FLEETSIM" conform "$SUITE" -q
contains "... and says why" "the terminal cases (\"side\": \"terminal\") run with --terminal" "$TMP/out"
"$FLEETSIM" conform "$SUITE" --dryrun >"$TMP/out" 2>&1
contains "--dryrun without --terminal lists the terminal cases as not run" "(not run: --terminal runs it)" "$TMP/out"
"$FLEETSIM" conform --terminal scenarios/conformance/jt808 --dryrun >"$TMP/out" 2>&1
contains "--terminal --dryrun lists the platform cases as not run" "(not run: a platform case)" "$TMP/out"
contains "... and none to run" "0 cases to run" "$TMP/out"

# 5. usage errors
expect_exit "--listen off loopback is a usage error" 2 "$FLEETSIM" conform --terminal --listen 10.0.0.1:7808 "$SUITE"
contains "... naming loopback" "loopback (127.0.0.0/8)" "$TMP/out"
expect_exit "--listen without --terminal is a usage error" 2 "$FLEETSIM" conform --listen 127.0.0.1:7808 "$SUITE"
expect_exit "--terminal with --target is a usage error" 2 "$FLEETSIM" conform --terminal --target tcp://127.0.0.1:7999 "$SUITE"
expect_exit "--listen with a bad port is a usage error" 2 "$FLEETSIM" conform --terminal --listen 127.0.0.1:80 "$SUITE"
