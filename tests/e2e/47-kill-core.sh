#!/usr/bin/env bash
# Persistence (issue: "SIGKILL the core in a run and start it again: no PENDING
# command, shadow change or undelivered push within its 10 min window is lost"):
# with a JT/T 808 terminal offline (a short-connection one), a cached command
# PENDING, a desired change not synced, and a push its receiver refused (503, kept
# for a retry), the platform core is SIGKILLed; serve started again on the same
# file, with the receiver answering 200 and the terminal back: the command goes and
# ends SUCCESSFUL, the desired value goes as a 0x8103 and ends SUCCESSFUL, and the
# kept push arrives.
. "$(dirname "$0")/lib.sh"
port=$(free_port); api=$(free_port); rport=$(free_port)
U="http://127.0.0.1:$api"
serve() {
    "$FLEETSIM" serve --port "$port" --db "$TMP/p.db" --quiet --api "127.0.0.1:$api" --app demo:s3cret \
        --short-connection jt808 >>"$TMP/serve.out" 2>&1 &
    spid=$!
    wait_port "$port" && wait_port "$api" || nok "serve starts with its API" "$(cat "$TMP/serve.out")"
    tok=$(curl -s -m 5 -d 'appId=demo&secret=s3cret' "$U/iocm/app/sec/v1.1.0/login" |
        python3 -c 'import json,sys; print(json.load(sys.stdin).get("accessToken",""))')
}
call() { # METHOD PATH [BODY]: the status; the body in $TMP/body
    local m=$1 p=$2; shift 2
    curl -s -m 5 -o "$TMP/body" -w '%{http_code}' -X "$m" -H 'app_key: demo' -H "Authorization: Bearer $tok" \
        -H 'Content-Type: application/json' ${1:+-d "$1"} "$U$p"
}
py() { python3 -c "$1" "$TMP/body" 2>"$TMP/py.err"; }
receiver() { # PLAN
    "$FLEETSIM" receiver --listen "127.0.0.1:$rport" --plan "$1" --log "$TMP/pushes.jsonl" >>"$TMP/recv.out" 2>&1 &
    rpid=$!
    wait_port "$rport" || nok "the receiver listens" "$(cat "$TMP/recv.out")"
}
cat >"$TMP/t.json" <<JSON
{"name": "kill-core", "target": "tcp://127.0.0.1:$port", "duration": "8s",
 "fleets": [{"id": "f", "protocol": "jt808", "version": 2013, "count": 1, "ramp": "10/s",
             "phone": "13660000000+", "heartbeat": "20s", "report": {"every": "1s"}}],
 "expect": [{"id": "ONLINE", "state": "authenticated", "within": "5s"}]}
JSON
dev=013660000000
serve
receiver 503
# the terminal registers once, then goes away: offline
timeout 30 "$FLEETSIM" run "$TMP/t.json" --quiet >"$TMP/run1.out" 2>&1
call POST /iocm/app/sub/v1.2.0/subscriptions "{\"notifyType\":\"commandRsp\",\"callbackUrl\":\"http://127.0.0.1:$rport/cb\"}" >/dev/null
code=$(call POST /iocm/app/cmd/v1.4.0/deviceCommands \
    "{\"deviceId\":\"$dev\",\"command\":{\"serviceId\":\"p\",\"method\":\"QUERY_LOCATION\"},\"expireTime\":3600}")
cmd=$(py 'import json,sys; d=json.load(open(sys.argv[1])); assert d["status"] == "PENDING", d; print(d["commandId"])')
[ "$code" = 201 ] && [ -n "$cmd" ] && ok "a cached command to the offline terminal is PENDING" ||
    nok "a cached command to the offline terminal is PENDING" "HTTP $code" "$(cat "$TMP/body")"
code=$(call PUT /iocm/app/shadow/v1.5.0/devices/$dev '{"serviceDesireds":[{"serviceId":"Parameters","desired":{"heartbeatInterval":77}}]}')
[ "$code" = 200 ] && ok "a desired change while it is offline" || nok "a desired change while it is offline" "HTTP $code" "$(cat "$TMP/body")"
for _ in $(seq 50); do grep -q '"status":503' "$TMP/pushes.jsonl" 2>/dev/null && break; sleep 0.1; done
if grep -q "\"commandId\":\"$cmd\"" "$TMP/pushes.jsonl" && grep -q '"status":503' "$TMP/pushes.jsonl"; then
    ok "the command's push was refused by its receiver (503): kept for a retry"
else nok "the command's push was refused by its receiver (503)" "$(cat "$TMP/pushes.jsonl" 2>&1)"; fi
core=$(children "$spid" 'fs-core')
if [ -n "$core" ] && kill -9 "$core"; then ok "SIGKILL the platform core (pid $core)"; else nok "SIGKILL the platform core" "no fs-core under $spid"; fi
sleep 0.5
kill -9 "$spid" 2>/dev/null; wait "$spid" 2>/dev/null
kill "$rpid" 2>/dev/null; wait "$rpid" 2>/dev/null
: >"$TMP/pushes.jsonl"
receiver 200
serve
code=$(call GET "/iocm/app/cmd/v1.4.0/deviceCommands?deviceId=$dev")
if [ "$code" = 200 ] && py "import json,sys; d=json.load(open(sys.argv[1]))
c = [x for x in d['data'] if x['commandId'] == '$cmd'][0]
assert c['status'] == 'PENDING', c"; then ok "started again on its file: the command is still PENDING"
else nok "started again on its file: the command is still PENDING" "HTTP $code" "$(cat "$TMP/body")" "$(cat "$TMP/py.err")"; fi
for _ in $(seq 100); do grep -q "\"commandId\":\"$cmd\"" "$TMP/pushes.jsonl" 2>/dev/null && break; sleep 0.1; done
if python3 -c "import json,sys
ls = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
p = [l for l in ls if l.get('body', {}).get('commandId') == '$cmd' and l['body']['result']['resultCode'] == 'PENDING']
assert p and p[0]['status'] == 200, ls" "$TMP/pushes.jsonl" 2>"$TMP/py.err"; then
    ok "the push the killed core kept is delivered by the new one (200)"
else nok "the push the killed core kept is delivered by the new one" "$(cat "$TMP/pushes.jsonl")" "$(cat "$TMP/py.err")"; fi
# the terminal is back: the command and the desired change go
timeout 30 "$FLEETSIM" run "$TMP/t.json" --quiet >"$TMP/run2.out" 2>&1 &
tpid=$!
for _ in $(seq 60); do
    call GET "/iocm/app/cmd/v1.4.0/deviceCommands?deviceId=$dev&pageSize=100" >/dev/null
    py "import json,sys; d=json.load(open(sys.argv[1]))
assert [x for x in d['data'] if x['commandId'] == '$cmd'][0]['status'] == 'SUCCESSFUL'
assert any(x['command']['method'] == '0x8103' and x['status'] == 'SUCCESSFUL' for x in d['data'])" && break
    sleep 0.2
done
if py "import json,sys; d=json.load(open(sys.argv[1]))
c = [x for x in d['data'] if x['commandId'] == '$cmd'][0]
assert [t['status'] for t in c['transitions']] == ['PENDING', 'SENT', 'SUCCESSFUL'], c"; then
    ok "the PENDING command went when the terminal came back: PENDING -> SENT -> SUCCESSFUL"
else nok "the PENDING command went when the terminal came back" "$(cat "$TMP/body")" "$(cat "$TMP/py.err")"; fi
if py "import json,sys; d=json.load(open(sys.argv[1]))
s = [x for x in d['data'] if x['command']['method'] == '0x8103']
assert len(s) == 1 and s[0]['status'] == 'SUCCESSFUL', s
assert s[0]['command']['paras']['params'] == [{'id': '0x0001', 'value': 77}], s"; then
    ok "... and the desired change went as a 0x8103 (heartbeatInterval 77), SUCCESSFUL"
else nok "... and the desired change went as a 0x8103, SUCCESSFUL" "$(cat "$TMP/body")" "$(cat "$TMP/py.err")"; fi
wait "$tpid" 2>/dev/null
kill -INT "$spid" 2>/dev/null; wait "$spid" 2>/dev/null
kill "$rpid" 2>/dev/null; wait "$rpid" 2>/dev/null
