#!/usr/bin/env bash
# Device shadows through the northbound API (docs/api.md, Device shadows), asked with curl
# of `fleetsim serve --api` while JT/T 808 terminals of `fleetsim run --target`
# report to it: the shadow of a terminal (the built-in JT/T 808 model), its
# reported location following the terminals' reports, a desired change and its
# delta, refusals naming the member, a configuration task, a desired change kept
# across a SIGKILL of serve; and a 0x8104 answered by a terminal (an embedded run)
# becoming the reported Parameters of its shadow.
. "$(dirname "$0")/lib.sh"
port=$(free_port); api=$(free_port)
start_serve() {
    "$FLEETSIM" serve --port "$port" --db "$TMP/p.db" --quiet --api "127.0.0.1:$api" --app demo:s3cret \
        >>"$TMP/serve.out" 2>&1 &
    spid=$!
    wait_port "$port" && wait_port "$api" || nok "serve starts with its API" "$(cat "$TMP/serve.out")"
}
start_serve
cat >"$TMP/s.json" <<JSON
{"name": "api-shadow", "target": "tcp://127.0.0.1:$port", "duration": "40s",
 "fleets": [{"id": "f", "protocol": "jt808", "version": 2013, "count": 3, "ramp": "100/s",
             "phone": "13600000000+", "heartbeat": "20s",
             "report": {"every": "300ms", "location": "random-walk"}}]}
JSON
timeout 60 "$FLEETSIM" run "$TMP/s.json" --quiet >"$TMP/run.out" 2>&1 &
rpid=$!
U="http://127.0.0.1:$api"
login() {
    tok=$(curl -s -m 5 -d 'appId=demo&secret=s3cret' "$U/iocm/app/sec/v1.1.0/login" |
        python3 -c 'import json,sys; print(json.load(sys.stdin).get("accessToken",""))')
}
login
call() { # METHOD PATH [BODY]: the status; the body in $TMP/body
    local m=$1 p=$2; shift 2
    curl -s -m 5 -o "$TMP/body" -w '%{http_code}' -X "$m" -H 'app_key: demo' -H "Authorization: Bearer $tok" \
        -H 'Content-Type: application/json' ${1:+-d "$1"} "$U$p"
}
py() { python3 -c "$1" "$TMP/body" 2>"$TMP/py.err"; }
S=/iocm/app/shadow/v1.5.0/devices
dev=013600000001
for _ in $(seq 50); do
    code=$(call GET "$S/$dev")
    [ "$code" = 200 ] && grep -q '"lat":' "$TMP/body" && break
    sleep 0.2
done
if [ "$code" = 200 ] && py 'import json,sys; d=json.load(open(sys.argv[1]))
assert d["deviceId"] == "013600000001" and d["nodeType"] == "ENDPOINT", d
assert d["deviceInfo"]["protocolType"] == "JT808" and len(d["createTime"]) == 16, d
s = {x["serviceId"]: x for x in d["services"]}
assert set(s) == {"location", "Parameters"}, s.keys()
r = s["location"]["reportedProps"]
assert isinstance(r["lat"], int) and isinstance(r["lon"], int) and len(r["time"]) == 12, r
assert s["Parameters"]["desiredProps"] == {} and s["Parameters"]["version"] == 0, s'; then
    ok "GET a terminal's shadow: the JT/T 808 model, its reported location"
else nok "GET a terminal's shadow: the JT/T 808 model, its reported location" "HTTP $code" "$(cat "$TMP/body")" "$(cat "$TMP/py.err")"; fi
first=$(py 'import json,sys; d=json.load(open(sys.argv[1])); print([s for s in d["services"] if s["serviceId"] == "location"][0]["reportedProps"])')
moved=0
for _ in $(seq 40); do
    sleep 0.25
    call GET "$S/$dev" >/dev/null
    now=$(py 'import json,sys; d=json.load(open(sys.argv[1])); print([s for s in d["services"] if s["serviceId"] == "location"][0]["reportedProps"])')
    [ -n "$now" ] && [ "$now" != "$first" ] && { moved=1; break; }
done
if [ $moved = 1 ]; then ok "the reported location follows the terminal's reports"
else nok "the reported location follows the terminal's reports" "$first" "$now"; fi

code=$(call PUT "$S/$dev" '{"serviceDesireds":[{"serviceId":"Parameters","desired":{"heartbeatInterval":30,"maxSpeed":90}}]}')
if [ "$code" = 200 ] && [ ! -s "$TMP/body" ]; then ok "PUT desired: 200, no body (004 §9)"
else nok "PUT desired: 200, no body (004 §9)" "HTTP $code" "$(cat "$TMP/body")"; fi
code=$(call PUT "$S/$dev" '{"serviceDesireds":[{"serviceId":"Parameters","desired":{"maxSpeed":100}}]}')
code=$(call GET "$S/$dev")
if [ "$code" = 200 ] && py 'import json,sys; d=json.load(open(sys.argv[1]))
p = [s for s in d["services"] if s["serviceId"] == "Parameters"][0]
assert p["desiredProps"] == {"heartbeatInterval": 30, "maxSpeed": 100}, p
assert p["delta"] == {"heartbeatInterval": 30, "maxSpeed": 100}, p
assert p["version"] == 2, p'; then
    ok "GET shows the desired values merged (later keys win) and the delta"
else nok "GET shows the desired values merged (later keys win) and the delta" "HTTP $code" "$(cat "$TMP/body")" "$(cat "$TMP/py.err")"; fi

refused() { # NAME STATUS TEXT METHOD PATH [BODY]
    local n=$1 want=$2 text=$3; shift 3
    local c; c=$(call "$@")
    if [ "$c" = "$want" ] && grep -qF -- "$text" "$TMP/body"; then ok "$n ($want)"
    else nok "$n" "HTTP $c" "$(cat "$TMP/body")"; fi
}
refused "a property that is not writable is refused by name" 400 '"error_desc":"serviceDesireds[0].desired.lat: not writable' \
    PUT "$S/$dev" '{"serviceDesireds":[{"serviceId":"location","desired":{"lat":1}}]}'
refused "a value out of its range is refused by name" 400 'serviceDesireds[0].desired.heartbeatInterval: 0 is outside its range 1..86400' \
    PUT "$S/$dev" '{"serviceDesireds":[{"serviceId":"Parameters","desired":{"heartbeatInterval":0}}]}'
refused "an unknown member" 400 'serviceDesireds[0].desire: unknown member' \
    PUT "$S/$dev" '{"serviceDesireds":[{"serviceId":"Parameters","desire":{}}]}'
refused "a body that is not JSON" 400 '"error_code":"100002"' PUT "$S/$dev" '{"serviceDesireds":['
refused "the shadow of an unknown device" 404 '"error_code":"100006"' GET "$S/019999999999"
refused "PUT to an unknown device" 404 'no device 019999999999 is registered' \
    PUT "$S/019999999999" '{"serviceDesireds":[{"serviceId":"Parameters","desired":{"maxSpeed":1}}]}'

code=$(call POST "$S/$dev/configTasks" '{"serviceId":"Parameters","config":{"cornerAngle":20},"executeType":"DEVICE_ONLINE","retryTimes":2,"retryInterval":30}')
task=$(py 'import json,sys; d=json.load(open(sys.argv[1])); print(d["taskId"])')
if [ "$code" = 201 ] && [ -n "$task" ] && [ "$(call GET "$S/$dev/configTasks/$task")" = 200 ] &&
   py 'import json,sys; d=json.load(open(sys.argv[1]))
assert d["config"] == {"cornerAngle": 20} and d["executeType"] == "DEVICE_ONLINE" and d["retryTimes"] == 2, d
assert d["status"] in ("PENDING", "SENT", "SUCCESSFUL"), d'; then
    ok "POST a configuration task (201), GET it with its state"
else nok "POST a configuration task (201), GET it with its state" "HTTP $code" "$(cat "$TMP/body")" "$(cat "$TMP/py.err")"; fi
refused "a configuration task's bad member is named" 400 'config.cornerAngle: 200 is outside its range' \
    POST "$S/$dev/configTasks" '{"serviceId":"Parameters","config":{"cornerAngle":200}}'
call GET "$S/$dev" >/dev/null
if py 'import json,sys; d=json.load(open(sys.argv[1]))
p = [s for s in d["services"] if s["serviceId"] == "Parameters"][0]
assert p["desiredProps"].get("cornerAngle") == 20, p'; then ok "... its configuration is in the shadow's desired section"
else nok "... its configuration is in the shadow's desired section" "$(cat "$TMP/body")"; fi

# SIGKILL the platform core (then serve): what a 200 promised is in the file
kill -INT $rpid 2>/dev/null; wait $rpid
core=$(children $spid 'fs-core*')
if [ -n "$core" ]; then ok "serve runs its platform core as a process of its own"
else nok "serve runs its platform core as a process of its own" "$(ps -o pid,comm --ppid $spid)"; fi
kill -KILL $core $spid 2>/dev/null; wait $spid 2>/dev/null
for _ in $(seq 50); do pgrep -f "fleetsim serve --port $port " >/dev/null || break; sleep 0.1; done
start_serve
login
code=$(call GET "$S/$dev")
if [ "$code" = 200 ] && py 'import json,sys; d=json.load(open(sys.argv[1]))
p = [s for s in d["services"] if s["serviceId"] == "Parameters"][0]
assert p["desiredProps"] == {"heartbeatInterval": 30, "maxSpeed": 100, "cornerAngle": 20}, p
assert p["version"] == 3 and p["delta"] == p["desiredProps"], p'; then
    ok "after a SIGKILL of serve and a restart, the desired values are still pending"
else nok "after a SIGKILL of serve and a restart, the desired values are still pending" "HTTP $code" "$(cat "$TMP/body")" "$(cat "$TMP/py.err")"; fi
code=$(call GET "$S/$dev/configTasks")
if [ "$code" = 200 ] && grep -q "\"taskId\":\"$task\"" "$TMP/body"; then ok "... and so is the configuration task"
else nok "... and so is the configuration task" "HTTP $code" "$(cat "$TMP/body")"; fi
kill -INT $spid 2>/dev/null; wait $spid; rc=$?
if [ $rc = 0 ]; then ok "serve stops cleanly (exit 0)"; else nok "serve stops cleanly" "exit $rc" "$(tail -5 "$TMP/serve.out")"; fi

# a terminal's 0x0104 answer is its reported Parameters (the embedded platform, its file kept)
cat >"$TMP/q.json" <<JSON
{"name": "params", "target": "embedded", "duration": "6s",
 "fleets": [{"id": "v", "protocol": "jt808", "version": 2013, "count": 2, "ramp": "100/s",
             "phone": "13700000000+", "heartbeat": "20s", "report": {"every": "1s"}}],
 "steps": [{"at": "2s", "command": {"fleet": "v", "msg": "0x8104"}}],
 "expect": [{"id": "Q", "fleet": "v", "reply": "0x0104", "to": "0x8104", "within": "3s"}]}
JSON
expect_exit "an embedded run whose terminals answer a 0x8104" 0 timeout 60 "$FLEETSIM" run "$TMP/q.json" --quiet --db "$TMP/q.db"
hb=$(sqlite3 -batch -noheader "$TMP/q.db" "SELECT json_extract(data, '$.\"0x0001\"') FROM reports
     WHERE protocol = 'jt808' AND device_id = '013700000001' AND service = 'Parameters'" 2>&1)
if [ -n "$hb" ] && [ "$hb" -gt 0 ] 2>/dev/null; then ok "the gateway reports the 0x0104 as the service Parameters (0x0001: $hb)"
else nok "the gateway reports the 0x0104 as the service Parameters" "$hb"; fi
"$FLEETSIM" serve --port "$port" --db "$TMP/q.db" --quiet --api "127.0.0.1:$api" --app demo:s3cret >"$TMP/serve2.out" 2>&1 &
spid=$!
wait_port "$api" || nok "serve starts on the run's file" "$(cat "$TMP/serve2.out")"
login
code=$(call GET "$S/013700000001")
if [ "$code" = 200 ] && py "import json,sys; d=json.load(open(sys.argv[1]))
p = [s for s in d['services'] if s['serviceId'] == 'Parameters'][0]
assert p['reportedProps'].get('heartbeatInterval') == $hb, p"; then
    ok "... which is the shadow's reported heartbeatInterval, by the model's name"
else nok "... which is the shadow's reported heartbeatInterval, by the model's name" "HTTP $code" "$(cat "$TMP/body")" "$(cat "$TMP/py.err")"; fi
kill -INT $spid 2>/dev/null; wait $spid

expect_exit "serve --profile with a bad file is a usage error" 2 "$FLEETSIM" serve --profile "$TMP/s.json" --db "$TMP/z.db"
contains "... naming what is wrong" "name: unknown member" "$TMP/out"
expect_exit "serve --profile with no such file" 2 "$FLEETSIM" serve --profile "$TMP/none.json" --db "$TMP/z.db"
contains "... saying so" "cannot read it" "$TMP/out"
