#!/usr/bin/env bash
# The commands of the northbound API (docs/api-commands.md) on `fleetsim serve`
# with JT/T 808 terminals of `fleetsim run`: a 0x8104 to an online terminal ends
# SUCCESSFUL with its transitions, an 0x8108 DELIVERED first; an unknown device is
# 404; an offline one FAIL;
# a cached command to a long-connection terminal is refused; with
# --short-connection jt808 a cached one stays PENDING across a restart of serve and
# goes out when the terminal comes online.
. "$(dirname "$0")/lib.sh"
port=$(free_port); api=$(free_port)
U="http://127.0.0.1:$api"
start_serve() { # LOG EXTRA-ARGS...
    local log=$1; shift
    "$FLEETSIM" serve --port "$port" --db "$TMP/p.db" --quiet --api "127.0.0.1:$api" --app demo:s3cret "$@" \
        >"$log" 2>&1 &
    spid=$!
    wait_port "$port" && wait_port "$api" || nok "serve starts with its API" "$(cat "$log")"
    tok=$(curl -s -m 5 -d 'appId=demo&secret=s3cret' "$U/iocm/app/sec/v1.1.0/login" |
          python3 -c 'import json,sys; print(json.load(sys.stdin).get("accessToken",""))')
}
stop_serve() { kill -INT $spid 2>/dev/null; wait $spid; }
call() { # METHOD PATH [BODY]: the HTTP status; the body in $TMP/body
    curl -s -m 5 -o "$TMP/body" -w '%{http_code}' -X "$1" -H 'app_key: demo' -H "Authorization: Bearer $tok" \
        -H 'Content-Type: application/json' ${3:+-d "$3"} "$U$2"
}
terminals() { # the run in the background: 2 JT/T 808 terminals, online for $1
    cat >"$TMP/s.json" <<JSON
{"name": "api-commands", "target": "tcp://127.0.0.1:$port", "duration": "$1",
 "fleets": [{"id": "f", "protocol": "jt808", "version": 2013, "count": 2, "ramp": "100/s",
             "phone": "13500000000+", "heartbeat": "20s", "report": {"every": "1s"}}],
 "expect": [{"id": "ONLINE", "state": "authenticated", "within": "5s"}]}
JSON
    timeout 60 "$FLEETSIM" run "$TMP/s.json" --quiet >"$TMP/run.out" 2>&1 &
    rpid=$!
}
dev=013500000001
wait_online() { # DEVICE
    for _ in $(seq 50); do
        [ "$(call GET "/iocm/app/dm/v1.4.0/devices/$1")" = 200 ] && grep -q '"status":"ONLINE"' "$TMP/body" && return 0
        sleep 0.2
    done
    return 1
}
# wait_cmd ID STATUS: the command reaches STATUS within 10 s (its JSON in $TMP/cmd)
wait_cmd() {
    for _ in $(seq 50); do
        call GET "/iocm/app/cmd/v1.4.0/deviceCommands?deviceId=$dev&pageSize=1000" >/dev/null
        python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
c=[c for c in d["data"] if c["commandId"]==sys.argv[2]]
json.dump(c[0] if c else {}, open(sys.argv[3],"w"))' "$TMP/body" "$1" "$TMP/cmd"
        grep -q "\"status\": \"$2\"" "$TMP/cmd" && return 0
        sleep 0.2
    done
    return 1
}
path_of() { python3 -c 'import json,sys; print(" -> ".join(t["status"] for t in json.load(open(sys.argv[1]))["transitions"]))' "$TMP/cmd"; }

start_serve "$TMP/serve.out"
terminals 30s
wait_online $dev || nok "the terminal is online" "$(cat "$TMP/body")"
code=$(call POST /iocm/app/cmd/v1.4.0/deviceCommands \
    "{\"deviceId\":\"$dev\",\"command\":{\"serviceId\":\"Params\",\"method\":\"0x8104\"},\"expireTime\":0}")
id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("commandId",""))' "$TMP/body")
if [ "$code" = 201 ] && grep -q '"status":"SENT"' "$TMP/body" && [ ${#id} = 32 ]; then
    ok "POST deviceCommands 0x8104 to an online terminal: 201 SENT"
else nok "POST deviceCommands 0x8104 to an online terminal: 201 SENT" "HTTP $code" "$(cat "$TMP/body")"; fi
if wait_cmd "$id" SUCCESSFUL && [ "$(path_of)" = "SENT -> SUCCESSFUL" ]; then
    ok "... its terminal answers 0x0104: SUCCESSFUL, transitions SENT -> SUCCESSFUL"
else nok "... SUCCESSFUL with its transitions" "$(cat "$TMP/cmd")"; fi
# 0x8108: acknowledged by 0x0001 (DELIVERED), answered by 0x0108 (SUCCESSFUL)
code=$(call POST /iocm/app/cmd/v1.4.0/deviceCommands \
    "{\"deviceId\":\"$dev\",\"command\":{\"serviceId\":\"Firmware\",\"method\":\"UPGRADE\",\"paras\":{\"type\":0,
      \"manufacturer\":\"FSIM1\",\"version\":\"2.0\",\"package_len\":600}},\"expireTime\":0}")
id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("commandId",""))' "$TMP/body")
if [ "$code" = 201 ] && wait_cmd "$id" SUCCESSFUL && [ "$(path_of)" = "SENT -> DELIVERED -> SUCCESSFUL" ] &&
   grep -q '"deliveredTime": "2' "$TMP/cmd"; then
    ok "UPGRADE (0x8108): SENT -> DELIVERED (its 0x0001) -> SUCCESSFUL (its 0x0108)"
else nok "UPGRADE (0x8108): SENT -> DELIVERED -> SUCCESSFUL" "HTTP $code" "$(cat "$TMP/cmd")"; fi
code=$(call POST /iocm/app/cmd/v1.4.0/deviceCommands \
    '{"deviceId":"019999999999","command":{"serviceId":"P","method":"QUERY_PARAMS"},"expireTime":0}')
if [ "$code" = 404 ] && grep -q '"error_code":"100006"' "$TMP/body"; then ok "an unknown device: 404 (100006)"
else nok "an unknown device: 404" "HTTP $code" "$(cat "$TMP/body")"; fi
code=$(call POST /iocm/app/cmd/v1.4.0/deviceCommands \
    "{\"deviceId\":\"$dev\",\"command\":{\"serviceId\":\"P\",\"method\":\"0x8104\"},\"expireTime\":600}")
if [ "$code" = 400 ] && grep -q 'expireTime 600 s: a long-connection device takes immediate commands only' "$TMP/body"; then
    ok "a cached command to a long-connection terminal: 400 saying why"
else nok "a cached command to a long-connection terminal: 400" "HTTP $code" "$(cat "$TMP/body")"; fi
code=$(call POST /iocm/app/cmd/v1.4.0/deviceCommands \
    "{\"deviceId\":\"$dev\",\"command\":{\"serviceId\":\"P\",\"method\":\"0x8103\",\"paras\":{\"params\":7}}}")
if [ "$code" = 400 ] && grep -q '"error_desc":"command.paras: ' "$TMP/body"; then ok "a body 0x8103 cannot take: 400 naming command.paras"
else nok "a body 0x8103 cannot take: 400 naming command.paras" "HTTP $code" "$(cat "$TMP/body")"; fi
kill -INT $rpid 2>/dev/null; wait $rpid
# the terminals gone: offline
for _ in $(seq 50); do
    call GET "/iocm/app/dm/v1.4.0/devices/$dev" >/dev/null; grep -q '"status":"OFFLINE"' "$TMP/body" && break; sleep 0.2
done
code=$(call POST /iocm/app/cmd/v1.4.0/deviceCommands \
    "{\"deviceId\":\"$dev\",\"command\":{\"serviceId\":\"P\",\"method\":\"0x8104\"},\"expireTime\":0}")
if [ "$code" = 201 ] && grep -q '"status":"FAIL"' "$TMP/body" && grep -q 'offline' "$TMP/body"; then
    ok "an offline terminal: 201 FAIL (the device is offline)"
else nok "an offline terminal: 201 FAIL" "HTTP $code" "$(cat "$TMP/body")"; fi
stop_serve

# short-connection terminals: a cached command, kept over a restart of serve
start_serve "$TMP/serve2.out" --short-connection jt808
code=$(call POST /iocm/app/cmd/v1.4.0/deviceCommands \
    "{\"deviceId\":\"$dev\",\"command\":{\"serviceId\":\"Loc\",\"method\":\"QUERY_LOCATION\"},\"expireTime\":3600}")
id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("commandId",""))' "$TMP/body")
if [ "$code" = 201 ] && grep -q '"status":"PENDING"' "$TMP/body"; then
    ok "--short-connection jt808: a cached command to an offline terminal is PENDING"
else nok "--short-connection jt808: a cached command is PENDING" "HTTP $code" "$(cat "$TMP/body")"; fi
stop_serve
start_serve "$TMP/serve3.out" --short-connection jt808
if wait_cmd "$id" PENDING; then ok "... still PENDING after serve starts again on its file"
else nok "... still PENDING after a restart" "$(cat "$TMP/cmd")"; fi
terminals 15s
if wait_cmd "$id" SUCCESSFUL && [ "$(path_of)" = "PENDING -> SENT -> SUCCESSFUL" ]; then
    ok "... sent when the terminal comes online: PENDING -> SENT -> SUCCESSFUL"
else nok "... sent when the terminal comes online" "$(cat "$TMP/cmd")"; fi
kill -INT $rpid 2>/dev/null; wait $rpid
stop_serve; rc=$?
if [ $rc = 0 ]; then ok "serve stops cleanly (exit 0)"; else nok "serve stops cleanly" "exit $rc" "$(tail -5 "$TMP/serve3.out")"; fi
expect_exit "--short-connection of a protocol serve does not speak is a usage error" 2 \
    "$FLEETSIM" serve --port "$port" --db "$TMP/q.db" --short-connection mqtt
contains "... naming it" "--short-connection: 'mqtt' is not a protocol serve speaks (jt808)" "$TMP/out"
