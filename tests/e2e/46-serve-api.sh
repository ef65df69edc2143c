#!/usr/bin/env bash
# serve --api ADDR --app ID:SECRET: the northbound API in the platform core, asked
# with curl: login (form and JSON), a device as the platform knows it (its
# registration, ONLINE while its terminal is connected, its latest location),
# every refusal with its status and code, the options' errors before anything starts.
. "$(dirname "$0")/lib.sh"
port=$(free_port); api=$(free_port)
"$FLEETSIM" serve --port "$port" --db "$TMP/p.db" --quiet --api "127.0.0.1:$api" --app demo:s3cret \
    --app other:pw >"$TMP/serve.out" 2>&1 &
spid=$!
wait_port "$port" && wait_port "$api" || nok "serve starts with its API" "$(cat "$TMP/serve.out")"
contains "serve says where the API is" "northbound API at http://127.0.0.1:$api (2 applications)" "$TMP/serve.out"
cat >"$TMP/s.json" <<JSON
{"name": "api-devices", "target": "tcp://127.0.0.1:$port", "duration": "30s",
 "fleets": [{"id": "f", "protocol": "jt808", "version": 2013, "count": 3, "ramp": "100/s",
             "phone": "13500000000+", "heartbeat": "20s", "report": {"every": "500ms"}}],
 "expect": [{"id": "ONLINE", "state": "authenticated", "within": "5s"}]}
JSON
timeout 60 "$FLEETSIM" run "$TMP/s.json" --quiet >"$TMP/run.out" 2>&1 &
rpid=$!
U="http://127.0.0.1:$api"
login() { curl -s -m 5 "$@" "$U/iocm/app/sec/v1.1.0/login"; }
tok=$(login -d 'appId=demo&secret=s3cret' | python3 -c 'import json,sys; print(json.load(sys.stdin).get("accessToken",""))')
if [ ${#tok} = 32 ]; then ok "login with form fields gives an accessToken"; else nok "login with form fields gives an accessToken" "$tok"; fi
login -H 'Content-Type: application/json' -d '{"appId":"other","secret":"pw"}' >"$TMP/l2.json"
if grep -q '"tokenType":"bearer"' "$TMP/l2.json" && grep -q '"expiresIn":3600' "$TMP/l2.json"; then
    ok "login with JSON too (another application)"
else nok "login with JSON too" "$(cat "$TMP/l2.json")"; fi
get() { curl -s -m 5 -o "$TMP/body" -w '%{http_code}' "$@"; }
dev="$U/iocm/app/dm/v1.4.0/devices/013500000001"
for _ in $(seq 50); do
    code=$(get -H 'app_key: demo' -H "Authorization: Bearer $tok" "$dev")
    [ "$code" = 200 ] && grep -q '"status":"ONLINE"' "$TMP/body" && grep -q '"serviceId":"location"' "$TMP/body" && break
    sleep 0.2
done
if [ "$code" = 200 ] && python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
assert d["deviceId"] == "013500000001" and d["protocolType"] == "jt808" and d["status"] == "ONLINE", d
assert d["name"].count("_") == 2 and len(d["createTime"]) == 16 and d["createTime"].endswith("Z"), d
loc = [s for s in d["services"] if s["serviceId"] == "location"][0]
assert "lat" in loc["data"] and "lon" in loc["data"] and len(loc["eventTime"]) == 16, loc' "$TMP/body" 2>"$TMP/py.err"; then
    ok "GET a device: its registration, ONLINE while connected, its latest location"
else nok "GET a device: its registration, ONLINE while connected, its latest location" "HTTP $code" "$(cat "$TMP/body")" "$(cat "$TMP/py.err")"; fi
refused() { # NAME STATUS CODE CURL-ARGS...
    local name=$1 want=$2 ecode=$3; shift 3
    local c; c=$(get "$@")
    if [ "$c" = "$want" ] && grep -q "\"error_code\":\"$ecode\"" "$TMP/body"; then ok "$name ($want, $ecode)"
    else nok "$name" "HTTP $c" "$(cat "$TMP/body")"; fi
}
refused "an unknown device" 404 100006 -H 'app_key: demo' -H "Authorization: Bearer $tok" "$U/iocm/app/dm/v1.4.0/devices/019999999999"
refused "no token" 401 100211 -H 'app_key: demo' "$dev"
refused "no app_key" 401 100210 -H "Authorization: Bearer $tok" "$dev"
refused "another application's token" 401 100212 -H 'app_key: other' -H "Authorization: Bearer $tok" "$dev"
refused "a wrong secret" 401 100208 -d 'appId=demo&secret=nope' "$U/iocm/app/sec/v1.1.0/login"
refused "a call that does not exist" 404 100004 -H 'app_key: demo' -H "Authorization: Bearer $tok" "$U/iocm/app/nothing"
refused "a method the path does not take" 405 100005 -X PATCH -H 'app_key: demo' -H "Authorization: Bearer $tok" "$dev"
refused "a login body that is not JSON" 400 100002 -H 'Content-Type: application/json' -d '{"appId":' "$U/iocm/app/sec/v1.1.0/login"
kill -INT $rpid 2>/dev/null; wait $rpid
kill -INT $spid 2>/dev/null; wait $spid; rc=$?
if [ $rc = 0 ]; then ok "serve stops cleanly with its API (exit 0)"; else nok "serve stops cleanly with its API" "exit $rc" "$(tail -5 "$TMP/serve.out")"; fi
expect_exit "--api without --app is a usage error" 2 "$FLEETSIM" serve --port "$port" --db "$TMP/q.db" --api "127.0.0.1:$api"
contains "... saying what is missing" "--api needs an application to log in: --app ID:SECRET" "$TMP/out"
expect_exit "--api with a bad address is a usage error" 2 "$FLEETSIM" serve --api 127.0.0.1:99999 --app a:b
contains "... naming it" "--api: '127.0.0.1:99999': the port is not 1..65535" "$TMP/out"
expect_exit "--app without a secret is a usage error" 2 "$FLEETSIM" serve --api "127.0.0.1:$api" --app demo
python3 -c 'import socket,sys,time; s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(1); time.sleep(8)' "$api" &
hold=$!
sleep 0.5
expect_exit "--api on a port in use is refused before anything starts" 2 "$FLEETSIM" serve --port "$port" --db "$TMP/r.db" --api "127.0.0.1:$api" --app a:b
contains "... saying so" "cannot listen there" "$TMP/out"
kill $hold 2>/dev/null; wait $hold 2>/dev/null || true # its end is ours, not a failure

# the API over HTTPS: --api-cert and --api-key, checked before anything starts
bash "$(dirname "$0")/../tls-certs.sh" "$TMP/certs" 1 >/dev/null 2>&1
hport=$(free_port); hapi=$(free_port)
"$FLEETSIM" serve --port "$hport" --db "$TMP/h.db" --quiet --api "127.0.0.1:$hapi" --app demo:s3cret \
    --api-cert "$TMP/certs/server.crt" --api-key "$TMP/certs/server.key" >"$TMP/hserve.out" 2>&1 &
hpid=$!
wait_port "$hapi" || nok "serve starts with its API over HTTPS" "$(cat "$TMP/hserve.out")"
contains "serve says the API is https" "northbound API at https://127.0.0.1:$hapi" "$TMP/hserve.out"
code=$(curl -s -m 5 -o "$TMP/hl.json" -w '%{http_code}' --cacert "$TMP/certs/server-ca.crt" \
    -d 'appId=demo&secret=s3cret' "https://127.0.0.1:$hapi/iocm/app/sec/v1.1.0/login")
if [ "$code" = 200 ] && grep -q '"accessToken"' "$TMP/hl.json"; then ok "login over HTTPS, the certificate verified by its CA"
else nok "login over HTTPS, the certificate verified by its CA" "HTTP $code" "$(cat "$TMP/hl.json" "$TMP/hserve.out")"; fi
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' -d 'appId=demo&secret=s3cret' "https://127.0.0.1:$hapi/iocm/app/sec/v1.1.0/login")
if [ "$code" = 000 ]; then ok "... refused by a client that does not trust the CA"; else nok "... refused by a client that does not trust the CA" "HTTP $code"; fi
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' -d 'appId=demo&secret=s3cret' "http://127.0.0.1:$hapi/iocm/app/sec/v1.1.0/login")
if [ "$code" != 200 ]; then ok "... and plain HTTP to it gets no answer (HTTP $code)"; else nok "... and plain HTTP to it gets no answer" "HTTP $code"; fi
kill -INT $hpid 2>/dev/null; wait $hpid
expect_exit "--api-cert without --api-key is a usage error" 2 "$FLEETSIM" serve --api "127.0.0.1:$hapi" --app a:b \
    --api-cert "$TMP/certs/server.crt"
contains "... saying they go together" "--api-cert FILE and --api-key FILE go together" "$TMP/out"
expect_exit "a key that is not the certificate's is refused before anything starts" 2 "$FLEETSIM" serve \
    --api "127.0.0.1:$hapi" --app a:b --api-cert "$TMP/certs/server.crt" --api-key "$TMP/certs/dev-0.key" --db "$TMP/i.db"
contains "... naming both" "not the key of --api-cert" "$TMP/out"
