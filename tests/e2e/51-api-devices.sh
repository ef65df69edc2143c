#!/usr/bin/env bash
# Device management through serve's northbound API (docs/api.md, Devices), with curl:
# registration (the deviceId rule, refusals), a registration timeout deleting a
# device, JT/T 808 terminals pre-registered by phone that register over the air as
# the same devices, ONLINE while connected, OFFLINE 1 min (virtual, 1 s at
# --time-scale 60) after the run ends, the status history, the list's filters,
# a change and a deletion; short-connection terminals by the 25 h and 169 h rules.
. "$(dirname "$0")/lib.sh"
port=$(free_port); api=$(free_port)
"$FLEETSIM" serve --port "$port" --db "$TMP/p.db" --quiet --api "127.0.0.1:$api" --app demo:s3cret \
    --time-scale 60 >"$TMP/serve.out" 2>&1 &
spid=$!
wait_port "$port" && wait_port "$api" || nok "serve starts with its API" "$(cat "$TMP/serve.out")"
U="http://127.0.0.1:$api"
token() { curl -s -m 5 -d 'appId=demo&secret=s3cret' "$U/iocm/app/sec/v1.1.0/login" |
          python3 -c 'import json,sys; print(json.load(sys.stdin).get("accessToken",""))'; }
tok=$(token)
# call METHOD PATH [BODY]: the HTTP status; the body in $TMP/body (a token expired meanwhile: again)
call() {
    local c i
    for i in 1 2; do
        c=$(curl -s -m 5 -o "$TMP/body" -w '%{http_code}' -X "$1" -H 'app_key: demo' -H "Authorization: Bearer $tok" \
            -H 'Content-Type: application/json' ${3:+-d "$3"} "$U$2")
        [ "$c" = 401 ] || break
        tok=$(token)
    done
    echo "$c"
}
field() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): d = d[int(k)] if isinstance(d, list) else d[k]
print(d)' "$TMP/body" "$1" 2>/dev/null; }
REG=/iocm/app/reg/v1.1.0/deviceCredentials
DEV=/iocm/app/dm/v1.4.0/devices

c=$(call POST $REG '{"nodeId":"868000000000001","productId":"WaterMeter","protocolType":"lwm2m","psk":"00112233aabbccdd"}')
if [ "$c" = 200 ] && [ "$(field deviceId)" = WaterMeter_868000000000001 ] && [ "$(field psk)" = 00112233aabbccdd ] \
   && [ "$(field timeout)" = 180 ]; then ok "register an NB-IoT device: deviceId productId_nodeId, its psk, timeout 180 s"
else nok "register an NB-IoT device" "HTTP $c" "$(cat "$TMP/body")"; fi
c=$(call POST $REG '{"nodeId":"868000000000001","productId":"WaterMeter","protocolType":"lwm2m"}')
if [ "$c" = 409 ] && grep -q '"error_code":"100007"' "$TMP/body"; then ok "the same nodeId again: 409"
else nok "the same nodeId again: 409" "HTTP $c" "$(cat "$TMP/body")"; fi
c=$(call POST $REG '{"nodeId":"868000000000002","protocolType":"lwm2m","psk":"not-hex!"}')
if [ "$c" = 400 ] && grep -q '"error_desc":"psk: ' "$TMP/body"; then ok "a psk that is not hex for an NB-IoT device: 400 naming psk"
else nok "a psk that is not hex: 400" "HTTP $c" "$(cat "$TMP/body")"; fi
c=$(call POST $REG '{"nodeId":"868000000000003","protocolType":"lwm2m","timeout":"soon"}')
if [ "$c" = 400 ] && grep -q '"error_desc":"timeout: ' "$TMP/body"; then ok "a timeout that is not a number: 400 naming timeout"
else nok "a timeout that is not a number: 400" "HTTP $c" "$(cat "$TMP/body")"; fi

# 3 s virtual (50 ms real): deleted
c=$(call POST $REG '{"nodeId":"never-comes","protocolType":"mqtt","timeout":3}')
for _ in $(seq 50); do [ "$(call GET $DEV/never-comes)" = 404 ] && break; sleep 0.1; done
if [ "$c" = 200 ] && [ "$(call GET $DEV/never-comes)" = 404 ]; then ok "a device that does not connect within its timeout is deleted"
else nok "a device that does not connect within its timeout is deleted" "HTTP $c" "$(cat "$TMP/body")"; fi

# the terminals' phones (13600000000+: 013600000000 to 2), pre-registered; 600 s virtual (10 s real) to come
for n in 0 1 2; do
    c=$(call POST $REG "{\"nodeId\":\"01360000000$n\",\"productId\":\"truck\",\"timeout\":600}")
    [ "$c" = 200 ] || nok "pre-register terminal $n" "HTTP $c" "$(cat "$TMP/body")"
done
c=$(call GET $DEV/013600000001)
if [ "$c" = 200 ] && [ "$(field status)" = INACTIVE ] && [ "$(field protocolType)" = jt808 ]; then
    ok "a JT/T 808 terminal pre-registered by its phone: deviceId = the phone, INACTIVE"
else nok "a JT/T 808 terminal pre-registered by its phone" "HTTP $c" "$(cat "$TMP/body")"; fi

cat >"$TMP/s.json" <<JSON
{"name": "api-devices", "target": "tcp://127.0.0.1:$port", "duration": "4s",
 "fleets": [{"id": "f", "protocol": "jt808", "version": 2013, "count": 3, "ramp": "100/s",
             "phone": "13600000000+", "heartbeat": "20s", "report": {"every": "500ms"}}],
 "expect": [{"id": "ONLINE", "state": "authenticated", "within": "3s"}]}
JSON
timeout 60 "$FLEETSIM" run "$TMP/s.json" --quiet >"$TMP/run.out" 2>&1 &
rpid=$!
for _ in $(seq 50); do
    [ "$(call GET "$DEV?status=ONLINE")" = 200 ] && [ "$(field totalCount)" = 3 ] && break
    sleep 0.1
done
if [ "$(field totalCount)" = 3 ]; then ok "the 3 terminals ONLINE while connected (the list's status filter)"
else nok "the 3 terminals ONLINE while connected" "$(cat "$TMP/body")"; fi
c=$(call GET $DEV/013600000001)
if [ "$c" = 200 ] && [ "$(field status)" = ONLINE ] && [ "$(field productId)" = truck ] \
   && [ "$(field name)" != 013600000001 ]; then
    ok "... each the pre-registered device: its product kept, its name from the registration over the air"
else nok "... each the pre-registered device" "HTTP $c" "$(cat "$TMP/body")"; fi
wait $rpid
ended=$(date +%s.%N)
for _ in $(seq 100); do [ "$(call GET $DEV/013600000001)" = 200 ] && [ "$(field status)" = OFFLINE ] && break; sleep 0.05; done
took=$(python3 -c "import time; print(round(time.time() - $ended, 2))")
if [ "$(field status)" = OFFLINE ] && python3 -c "import sys; sys.exit(0 if $took >= 0.5 else 1)"; then
    ok "OFFLINE 1 min after the run ended, not before (${took} s real at --time-scale 60)"
else nok "OFFLINE 1 min after the run ended" "after ${took} s" "$(cat "$TMP/body")"; fi
c=$(call GET $DEV/013600000001/statusHistory)
got=$(python3 -c 'import json,sys; print(" ".join(h["status"] for h in json.load(open(sys.argv[1]))["statusHistory"]))' "$TMP/body")
if [ "$c" = 200 ] && [ "$got" = "INACTIVE ONLINE OFFLINE" ]; then ok "its status history: INACTIVE ONLINE OFFLINE"
else nok "its status history: INACTIVE ONLINE OFFLINE" "HTTP $c" "$(cat "$TMP/body")"; fi

c=$(call GET "$DEV?productId=truck&pageNo=1&pageSize=2")
if [ "$c" = 200 ] && [ "$(field totalCount)" = 3 ] && [ "$(field devices.0.productId)" = truck ] \
   && [ -z "$(field devices.1.deviceId)" ]; then
    ok "the list by product, paged"
else nok "the list by product, paged" "HTTP $c" "$(cat "$TMP/body")"; fi
c=$(call GET "$DEV?pageSize=300")
if [ "$c" = 400 ] && grep -q '"error_desc":"pageSize: ' "$TMP/body"; then ok "pageSize over 250: 400 naming it"
else nok "pageSize over 250: 400 naming it" "HTTP $c" "$(cat "$TMP/body")"; fi
c=$(call PUT $DEV/013600000002 '{"endUser":"fleet-ops"}')
c2=$(call GET $DEV/013600000002)
if [ "$c" = 204 ] && [ "$(field endUser)" = fleet-ops ]; then ok "PUT a device's endUser"
else nok "PUT a device's endUser" "HTTP $c $c2" "$(cat "$TMP/body")"; fi
c=$(call DELETE $DEV/013600000002)
c2=$(call GET $DEV/013600000002)
if [ "$c" = 204 ] && [ "$c2" = 404 ]; then ok "DELETE a device: 204, then 404"
else nok "DELETE a device: 204, then 404" "HTTP $c $c2" "$(cat "$TMP/body")"; fi

kill -INT $spid 2>/dev/null; wait $spid; rc=$?
if [ $rc = 0 ]; then ok "serve stops cleanly (exit 0)"; else nok "serve stops cleanly" "exit $rc" "$(tail -5 "$TMP/serve.out")"; fi
got=$(sqlite3 -batch -noheader "$TMP/p.db" "SELECT group_concat(status, ' ') FROM (SELECT status FROM dev_status_history
      WHERE device_id = '013600000000' ORDER BY seq)" 2>&1)
if [ "$got" = "INACTIVE ONLINE OFFLINE" ]; then ok "the history is in the store (sqlite3)"
else nok "the history is in the store (sqlite3)" "$got"; fi

# short-connection terminals (serve --short-connection jt808): ONLINE while they report,
# OFFLINE from 25 h after the last report, ABNORMAL from 169 h (0.9 s and 6.1 s real at
# --time-scale 100000); read from the store, where every change is kept
port=$(free_port)
"$FLEETSIM" serve --port "$port" --db "$TMP/q.db" --quiet --time-scale 100000 --short-connection jt808 \
    --idle-timeout 100000h >"$TMP/serve2.out" 2>&1 &
spid=$!
wait_port "$port" || nok "serve --short-connection jt808 starts" "$(cat "$TMP/serve2.out")"
cat >"$TMP/s2.json" <<JSON
{"name": "short", "target": "tcp://127.0.0.1:$port", "duration": "2s",
 "fleets": [{"id": "f", "protocol": "jt808", "version": 2013, "count": 1, "ramp": "100/s",
             "phone": "13700000000+", "heartbeat": "20s", "report": {"every": "300ms"}}]}
JSON
timeout 60 "$FLEETSIM" run "$TMP/s2.json" --quiet >"$TMP/run2.out" 2>&1
hist() { sqlite3 -batch -noheader "$TMP/q.db" "SELECT group_concat(status, ' ') FROM (SELECT status FROM
         dev_status_history WHERE device_id = '013700000000' ORDER BY seq)" 2>/dev/null; }
ended=$(date +%s.%N)
during=$(hist)
for _ in $(seq 150); do [ "$(hist)" = "ONLINE OFFLINE ABNORMAL" ] && break; sleep 0.05; done
took=$(python3 -c "import time; print(round(time.time() - $ended, 2))")
case $during in "ONLINE"|"ONLINE OFFLINE") ;; *) during="($during)";; esac
if [ "$(hist)" = "ONLINE OFFLINE ABNORMAL" ] && [ "${during:0:1}" != "(" ] \
   && python3 -c "import sys; sys.exit(0 if $took >= 4 else 1)"; then
    ok "a short-connection terminal: ONLINE while it reports, OFFLINE from 25 h, ABNORMAL from 169 h (${took} s real)"
else nok "a short-connection terminal: ONLINE, OFFLINE, ABNORMAL" "at the run's end: $during" "then: $(hist) after $took s"; fi
kill -INT $spid 2>/dev/null; wait $spid
