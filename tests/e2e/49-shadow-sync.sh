#!/usr/bin/env bash
# A shadow's sync end to end (docs/api.md, Device shadows): a desired change on an
# online JT/T 808 terminal goes as one 0x8103 (a command of origin shadow, its path
# SENT -> SUCCESSFUL), the terminal applies it, and once it answers a 0x8104 its
# reported Parameters hold the new value and the delta is empty; a change made while
# the terminal is offline waits and goes when it is back.
. "$(dirname "$0")/lib.sh"
port=$(free_port); api=$(free_port)
"$FLEETSIM" serve --port "$port" --db "$TMP/p.db" --quiet --api "127.0.0.1:$api" --app demo:s3cret \
    >"$TMP/serve.out" 2>&1 &
spid=$!
wait_port "$port" && wait_port "$api" || nok "serve starts with its API" "$(cat "$TMP/serve.out")"
cat >"$TMP/s.json" <<JSON
{"name": "shadow-sync", "target": "tcp://127.0.0.1:$port", "duration": "30s",
 "fleets": [{"id": "f", "protocol": "jt808", "version": 2019, "count": 2, "ramp": "100/s",
             "phone": "13650000000+", "heartbeat": "20s", "report": {"every": "1s"}}]}
JSON
timeout 60 "$FLEETSIM" run "$TMP/s.json" --quiet >"$TMP/run.out" 2>&1 &
rpid=$!
U="http://127.0.0.1:$api"
tok=$(curl -s -m 5 -d 'appId=demo&secret=s3cret' "$U/iocm/app/sec/v1.1.0/login" |
    python3 -c 'import json,sys; print(json.load(sys.stdin).get("accessToken",""))')
call() { # METHOD PATH [BODY]: the status; the body in $TMP/body
    local m=$1 p=$2; shift 2
    curl -s -m 5 -o "$TMP/body" -w '%{http_code}' -X "$m" -H 'app_key: demo' -H "Authorization: Bearer $tok" \
        -H 'Content-Type: application/json' ${1:+-d "$1"} "$U$p"
}
py() { python3 -c "$1" "$TMP/body" 2>"$TMP/py.err"; }
S=/iocm/app/shadow/v1.5.0/devices
C=/iocm/app/cmd/v1.4.0/deviceCommands
dev=00000000013650000000
for _ in $(seq 50); do
    code=$(call GET "$S/$dev"); [ "$code" = 200 ] && grep -q '"lat":' "$TMP/body" && break; sleep 0.2
done
[ "$code" = 200 ] || { nok "the terminal's shadow exists" "HTTP $code $(cat "$TMP/body")" "$(ls /dev/null)"; }
code=$(call PUT "$S/$dev" '{"serviceDesireds":[{"serviceId":"Parameters","desired":{"heartbeatInterval":45,"maxSpeed":110}}]}')
if [ "$code" = 200 ]; then ok "PUT desired heartbeatInterval 45, maxSpeed 110 on an online terminal"
else nok "PUT desired on an online terminal" "HTTP $code" "$(cat "$TMP/body")"; fi
for _ in $(seq 50); do
    call GET "$C?deviceId=$dev" >/dev/null
    py 'import json,sys; d=json.load(open(sys.argv[1])); assert any(c["status"] == "SUCCESSFUL" for c in d["data"])' && break
    sleep 0.2
done
if py 'import json,sys; d=json.load(open(sys.argv[1]))
cs = [c for c in d["data"] if c["command"]["method"] == "0x8103"]
assert len(cs) == 1, d
c = cs[0]
assert c["status"] == "SUCCESSFUL", c
assert [t["status"] for t in c["transitions"]] == ["SENT", "SUCCESSFUL"], c
ps = {p["id"]: p["value"] for p in c["command"]["paras"]["params"]}
assert ps == {"0x0001": 45, "0x0055": 110}, ps'; then
    ok "... it went as one 0x8103 with both parameters by id, SENT -> SUCCESSFUL"
else nok "... it went as one 0x8103 with both parameters by id, SENT -> SUCCESSFUL" "$(cat "$TMP/body")" "$(cat "$TMP/py.err")"; fi
code=$(call POST "$C" "{\"deviceId\":\"$dev\",\"command\":{\"serviceId\":\"Parameters\",\"method\":\"QUERY_PARAMS\"}}")
for _ in $(seq 50); do
    call GET "$S/$dev" >/dev/null
    py 'import json,sys; d=json.load(open(sys.argv[1])); p=[s for s in d["services"] if s["serviceId"] == "Parameters"][0]
assert p["reportedProps"].get("heartbeatInterval") == 45' && break
    sleep 0.2
done
if py 'import json,sys; d=json.load(open(sys.argv[1])); p=[s for s in d["services"] if s["serviceId"] == "Parameters"][0]
assert p["reportedProps"]["heartbeatInterval"] == 45 and p["reportedProps"]["maxSpeed"] == 110, p
assert p["desiredProps"] == {"heartbeatInterval": 45, "maxSpeed": 110} and p["delta"] == {}, p'; then
    ok "the terminal applied them: its 0x0104 reports them, the shadow's delta is empty"
else nok "the terminal applied them: its 0x0104 reports them, the shadow's delta is empty" "$(cat "$TMP/body")" "$(cat "$TMP/py.err")"; fi
kill -INT $rpid 2>/dev/null; wait $rpid 2>/dev/null
sleep 0.3
# offline now: a change waits for the terminal
code=$(call PUT "$S/$dev" '{"serviceDesireds":[{"serviceId":"Parameters","desired":{"heartbeatInterval":50}}]}')
call GET "$C?deviceId=$dev&pageSize=100" >/dev/null
n_before=$(py 'import json,sys; print(len(json.load(open(sys.argv[1]))["data"]))')
sleep 1
call GET "$C?deviceId=$dev&pageSize=100" >/dev/null
n_after=$(py 'import json,sys; print(len(json.load(open(sys.argv[1]))["data"]))')
if [ "$code" = 200 ] && [ "$n_before" = 2 ] && [ "$n_after" = 2 ]; then ok "a change while the terminal is offline makes no command"
else nok "a change while the terminal is offline makes no command" "HTTP $code, commands $n_before then $n_after" "$(cat "$TMP/body")"; fi
timeout 60 "$FLEETSIM" run "$TMP/s.json" --quiet >"$TMP/run2.out" 2>&1 &
rpid=$!
for _ in $(seq 60); do
    call GET "$C?deviceId=$dev&pageSize=100" >/dev/null
    py 'import json,sys; d=json.load(open(sys.argv[1])); assert sum(c["status"] == "SUCCESSFUL" and c["command"]["method"] == "0x8103" for c in d["data"]) == 2' && break
    sleep 0.2
done
if py 'import json,sys; d=json.load(open(sys.argv[1]))
cs = [c for c in d["data"] if c["command"]["method"] == "0x8103"]
assert len(cs) == 2 and cs[1]["status"] == "SUCCESSFUL", cs
assert cs[1]["command"]["paras"]["params"] == [{"id": "0x0001", "value": 50}], cs[1]'; then
    ok "... and goes when it comes back: one 0x8103 of the delta alone (heartbeatInterval 50), SUCCESSFUL"
else nok "... and goes when it comes back: one 0x8103 of the delta alone, SUCCESSFUL" "$(py 'import json,sys
for c in json.load(open(sys.argv[1]))["data"]: print(c["command"]["method"], c["status"], c["result"]["resultDetail"], c["command"]["paras"], [t["status"] for t in c["transitions"]])')"; fi
kill -INT $rpid 2>/dev/null; wait $rpid 2>/dev/null
kill -INT $spid 2>/dev/null; wait $spid
