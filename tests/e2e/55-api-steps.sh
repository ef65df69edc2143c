#!/usr/bin/env bash
# Scenario api steps: a run with platform.api calls the embedded core's northbound
# API at the steps' times (GET a device by ${device:FLEET:N}, a value captured and
# used by a later call), a mismatching expect_status fails the run with the answer
# in the evidence, a step without an id is recorded but judges nothing, the same
# steps against `fleetsim serve --api` with --target-api, and the input errors; the
# conformance api step (scenarios/conformance/northbound) on the embedded platform,
# against serve with --target-api, and inconclusive without an API.
. "$(dirname "$0")/lib.sh"
dev=/iocm/app/dm/v1.4.0/devices
cat >"$TMP/ok.json" <<JSON
{"name": "api-steps", "duration": "5s", "platform": {"api": true},
 "fleets": [{"id": "vans", "protocol": "jt808", "version": 2013, "count": 2, "ramp": "100/s",
             "phone": "13500000000+", "heartbeat": "20s", "report": {"every": "500ms"}}],
 "steps": [
   {"at": "2s", "api": {"method": "GET", "path": "$dev/\${device:vans:0}", "expect_status": 200,
                        "capture": {"st": "status", "dev": "deviceId"}, "id": "API-DEV-1"}},
   {"at": "2500ms", "api": {"method": "GET", "path": "$dev/\${dev}?seen=\${st}", "id": "API-DEV-2"}},
   {"at": "3s", "api": {"method": "GET", "path": "$dev/019999999999", "expect_status": 404}}
 ],
 "expect": [{"id": "ONLINE", "state": "authenticated", "within": "5s"}]}
JSON
expect_exit "a run with platform.api and api steps passes" 0 timeout 60 "$FLEETSIM" run "$TMP/ok.json" --quiet \
    --report "$TMP/ok"
cp "$TMP/out" "$TMP/ok.out"
if python3 - "$TMP/ok/report.json" 2>"$TMP/py.err" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
cases = {c["id"]: c for c in d["cases"]}
c1, c2 = cases["API-DEV-1"], cases["API-DEV-2"]
assert c1["verdict"] == "PASS" and "st=ONLINE" in c1["observed"] and "dev=013500000000" in c1["observed"], c1
assert "/devices/013500000000" in c1["wire_log"] and '"status":"ONLINE"' in c1["wire_log"], c1
assert c2["verdict"] == "PASS" and c2["expected"] == "HTTP 2xx", c2
calls = d["metrics"]["api_calls"]
assert [c["step"] for c in calls] == [0, 1, 2], calls
assert calls[1]["path"] == "/iocm/app/dm/v1.4.0/devices/013500000000?seen=ONLINE", calls[1]
assert "id" not in calls[2] and calls[2]["status"] == 404 and calls[2]["verdict"] == "PASS", calls[2]
assert 1.9 < calls[0]["at_s"] < 3 and 2.4 < calls[1]["at_s"] < 3.5, calls
PY
then ok "each call at its time: the device by \${device:vans:0}, values captured and used, a step without an id recorded"
else nok "each call at its time, captures used, a step without an id recorded" "$(cat "$TMP/py.err")"; fi

sed -e 's/"expect_status": 404}/"expect_status": 200, "id": "API-NOBODY"}/' "$TMP/ok.json" >"$TMP/bad.json"
expect_exit "a mismatching expect_status fails the run" 1 timeout 60 "$FLEETSIM" run "$TMP/bad.json" --quiet \
    --report "$TMP/bad"
contains "... in the verdict table, with the answer's body" "API-NOBODY" "$TMP/out"
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); c=[c for c in d["cases"] if c["id"]=="API-NOBODY"][0]
assert c["verdict"] == "FAIL" and c["expected"] == "HTTP 200", c
assert c["observed"].startswith("HTTP 404: ") and "100006" in c["observed"], c
assert "< HTTP 404" in c["wire_log"] and "no device 019999999999 is registered" in c["wire_log"], c' \
    "$TMP/bad/report.json" 2>"$TMP/py.err"; then
    ok "... the request and the answer in its evidence"
else nok "... the request and the answer in its evidence" "$(cat "$TMP/py.err")"; fi
grep -q "019999999999" "$TMP/bad/junit.xml" && ok "... and in junit.xml" || nok "... and in junit.xml"

# the conformance api step: the northbound suite on the embedded platform (served with its API)
NB=scenarios/conformance/northbound
expect_exit "conform: the northbound suite passes on the embedded platform" 0 timeout 120 "$FLEETSIM" conform "$NB" \
    --report "$TMP/c1" --quiet
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); c={c["id"]: c for c in d["cases"]}
w = c["NB-DEV-001"]["wire_log"]
assert c["NB-DEV-001"]["verdict"] == "PASS" and c["NB-DEV-002"]["verdict"] == "PASS", c
assert "api > GET http://127.0.0.1:" in w and "bind st = ONLINE (api status)" in w, w' "$TMP/c1/report.json" 2>"$TMP/py.err"
then ok "... its calls and captures in the wire log"
else nok "... its calls and captures in the wire log" "$(cat "$TMP/py.err")"; fi

# the same steps against a third-party platform: fleetsim serve --api, the run's target and --target-api
port=$(free_port); api=$(free_port)
"$FLEETSIM" serve --port "$port" --db "$TMP/p.db" --quiet --api "127.0.0.1:$api" --app tp:pw >"$TMP/serve.out" 2>&1 &
spid=$!
if wait_port "$port" && wait_port "$api"; then
    sed -e 's/"platform": {"api": true},//' "$TMP/ok.json" >"$TMP/tp.json"
    expect_exit "--target-api against fleetsim serve --api passes" 0 timeout 60 "$FLEETSIM" run "$TMP/tp.json" \
        --quiet --target "tcp://127.0.0.1:$port" --target-api "http://127.0.0.1:$api" --api-app tp:pw --report "$TMP/tp"
    if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); c=[c for c in d["cases"] if c["id"]=="API-DEV-1"][0]
assert c["verdict"] == "PASS" and "st=ONLINE" in c["observed"] and sys.argv[2] in c["wire_log"], c' \
        "$TMP/tp/report.json" "127.0.0.1:$api" 2>"$TMP/py.err"; then
        ok "... the calls went to its API"
    else nok "... the calls went to its API" "$(cat "$TMP/py.err")"; fi
    expect_exit "a wrong --api-app secret is the harness's error" 3 timeout 60 "$FLEETSIM" run "$TMP/tp.json" \
        --quiet --target "tcp://127.0.0.1:$port" --target-api "http://127.0.0.1:$api" --api-app tp:nope --report "$TMP/tp2"
    contains "... saying the login was refused" "login refused: HTTP 401" "$TMP/out"
    expect_exit "conform: a target without --target-api leaves the API cases inconclusive" 4 timeout 120 \
        "$FLEETSIM" conform "$NB" --target "tcp://127.0.0.1:$port" --quiet
    contains "... saying why" "not run: the target lacks northbound-api" "$TMP/out"
    expect_exit "conform --target-api against fleetsim serve --api passes" 0 timeout 120 "$FLEETSIM" conform "$NB" \
        --target "tcp://127.0.0.1:$port" --target-api "http://127.0.0.1:$api" --api-app tp:pw --quiet
else
    nok "serve starts with its API" "$(cat "$TMP/serve.out")"
fi
kill -INT $spid 2>/dev/null; wait $spid

# a command's path (command_path), judged at the end by GET deviceCommands?deviceId=... of a
# third-party API that shows transitions (tests/data/fake_north_api.py); the fleet on the embedded platform
fport=$(free_port)
python3 tests/data/fake_north_api.py "$fport" >"$TMP/fake.out" 2>&1 &
fpid=$!
for _ in $(seq 50); do grep -q up "$TMP/fake.out" 2>/dev/null && break; sleep 0.1; done
cat >"$TMP/cp.json" <<'JSON'
{"name": "cmd-path", "duration": "4s",
 "fleets": [{"id": "vans", "protocol": "jt808", "version": 2013, "count": 1, "ramp": "100/s",
             "phone": "13500000000+", "heartbeat": "20s"}],
 "steps": [{"at": "1s", "api": {"method": "POST", "path": "/iocm/app/cmd/v1.4.0/deviceCommands",
                                "body": {"deviceId": "${device:vans:0}", "command": {"serviceId": "S", "method": "M"}},
                                "expect_status": 201, "capture": {"cmd1": "commandId"}, "id": "API-CMD-1"}}],
 "expect": [{"id": "CMD-PATH-1", "command_path": {"capture": "cmd1", "states": ["SENT", "SUCCESSFUL"]}},
            {"id": "CMD-PATH-2", "command_path": {"capture": "cmd1", "states": ["SENT", "FAIL"]}},
            {"id": "ONLINE", "state": "authenticated", "within": "3s"}]}
JSON
expect_exit "command_path: a path the command did not take fails the run" 1 timeout 60 "$FLEETSIM" run "$TMP/cp.json" \
    --quiet --target-api "http://127.0.0.1:$fport" --api-app fake:pw --report "$TMP/cp"
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); c={c["id"]: c for c in d["cases"]}
assert c["API-CMD-1"]["verdict"] == "PASS", c["API-CMD-1"]
p1, p2 = c["CMD-PATH-1"], c["CMD-PATH-2"]
assert p1["verdict"] == "PASS" and p1["observed"] == "PENDING -> SENT -> DELIVERED -> SUCCESSFUL", p1
assert "deviceCommands?deviceId=013500000000" in p1["wire_log"], p1
assert p2["verdict"] == "FAIL" and p2["observed"].endswith("(no FAIL after that)"), p2' "$TMP/cp/report.json" 2>"$TMP/py.err"
then ok "... and the path it took passes (its token renewed on the way)"
else nok "... and the path it took passes" "$(cat "$TMP/py.err")"; fi
kill $fpid 2>/dev/null; wait $fpid 2>/dev/null

# input errors, before anything starts
sed -e 's/"platform": {"api": true},//' "$TMP/ok.json" >"$TMP/noapi.json"
expect_exit "api steps without an API are an input error" 2 "$FLEETSIM" run "$TMP/noapi.json" --dry-run
contains "... naming the step" "steps[0].api: no API: set platform.api or --target-api" "$TMP/out"
expect_exit "--target-api without --api-app" 2 "$FLEETSIM" run "$TMP/noapi.json" --target-api http://127.0.0.1:1
contains "... says what is missing" "--target-api needs the application to log in as: --api-app ID:SECRET" "$TMP/out"
expect_exit "--api-ca with an http:// API" 2 "$FLEETSIM" run "$TMP/noapi.json" --target-api http://127.0.0.1:1 \
    --api-app a:b --api-ca /etc/hostname
contains "... is refused" "--api-ca is for an https:// --target-api" "$TMP/out"
sed -e 's/"method": "GET", "path": "[^"]*\/019999999999"/"method": "GET", "path": "\/x\/${cmd9}"/' "$TMP/ok.json" >"$TMP/ref.json"
expect_exit "a \${name} no earlier step captures is an input error" 2 "$FLEETSIM" run "$TMP/ref.json" --dry-run
contains "... naming where" 'steps[2].api.path: ${cmd9}: not captured by an earlier api step' "$TMP/out"
