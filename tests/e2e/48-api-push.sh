#!/usr/bin/env bash
# Push notifications through serve --api (docs/api.md, Subscriptions and push notifications): an application
# subscribes with curl to a small receiver (python3, HTTP and HTTPS, a bounded
# life) and JT/T 808 terminals register and report: deviceAdded and
# deviceDataChanged arrive as 004 pushes them; a URL that answers 503 twice is
# retried until delivered; an HTTPS callback is verified with --push-ca, and
# without it (the system's CAs) nothing reaches it; the subscriptions outlive the
# serve that took them.
. "$(dirname "$0")/lib.sh"
C="$TMP/certs"
if ! command -v openssl >/dev/null || ! tests/tls-certs.sh "$C" 1 >"$TMP/out" 2>&1; then
    nok "test certificates made with openssl" "$(tail -5 "$TMP/out")"; exit 0
fi
hp=$(free_port); sp=$(free_port)
cat >"$TMP/rcv.py" <<'PY'
import http.server, json, ssl, sys, threading
hp, sp, cert, key, log = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
lock = threading.Lock()
tries = {}
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n).decode()
        with lock:
            tries[self.path] = tries.get(self.path, 0) + 1
            status = 503 if self.path == "/flaky" and tries[self.path] <= 2 else 200
            with open(log, "a") as f:
                f.write(json.dumps({"path": self.path, "status": status,
                                    "scheme": "https" if self.server.server_port == sp else "http",
                                    "type": self.headers.get("Content-Type"), "body": body}) + "\n")
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *a):
        pass
plain = http.server.ThreadingHTTPServer(("127.0.0.1", hp), H)
tls = http.server.ThreadingHTTPServer(("127.0.0.1", sp), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
tls.socket = ctx.wrap_socket(tls.socket, server_side=True)
for s in (plain, tls):
    threading.Thread(target=s.serve_forever, daemon=True).start()
print("up", flush=True)
threading.Event().wait(150)  # a bounded life
PY
python3 "$TMP/rcv.py" "$hp" "$sp" "$C/server.crt" "$C/server.key" "$TMP/got.jsonl" >"$TMP/rcv.out" 2>&1 &
rcvpid=$!
wait_port "$hp" && wait_port "$sp" || nok "the receiver starts" "$(cat "$TMP/rcv.out")"

port=$(free_port); api=$(free_port)
start_serve() { # extra args
    "$FLEETSIM" serve --port "$port" --db "$TMP/p.db" --quiet --api "127.0.0.1:$api" --app demo:s3cret \
        --time-scale 10 "$@" >"$TMP/serve.out" 2>&1 &
    spid=$!
    wait_port "$port" && wait_port "$api" || nok "serve starts with its API" "$(cat "$TMP/serve.out")"
}
start_serve --push-ca "$C/server-ca.crt"
U="http://127.0.0.1:$api"
login() {
    tok=$(curl -s -m 5 -d 'appId=demo&secret=s3cret' "$U/iocm/app/sec/v1.1.0/login" |
        python3 -c 'import json,sys; print(json.load(sys.stdin).get("accessToken",""))')
}
login
call() { curl -s -m 5 -o "$TMP/body" -w '%{http_code}' -H 'app_key: demo' -H "Authorization: Bearer $tok" \
    -H 'Content-Type: application/json' "$@"; }
SUBS="$U/iocm/app/sub/v1.2.0/subscriptions"
sub() { # TYPE URL
    local c; c=$(call -d "{\"notifyType\":\"$1\",\"callbackUrl\":\"$2\"}" "$SUBS")
    if [ "$c" = 201 ] && grep -q '"subscriptionId":"[0-9a-f]\{32\}"' "$TMP/body"; then ok "subscribe $1 to $2 (201)"
    else nok "subscribe $1 to $2" "HTTP $c" "$(cat "$TMP/body")"; fi
}
sub deviceAdded "https://127.0.0.1:$sp/added"
sub deviceDataChanged "http://127.0.0.1:$hp/data"
sub deviceDataChanged "http://127.0.0.1:$hp/flaky"
sub deviceDataChanged "https://127.0.0.1:$sp/data"
c=$(call -d '{"notifyType":"nope","callbackUrl":"http://127.0.0.1:1/"}' "$SUBS")
if [ "$c" = 400 ] && grep -q '"error_code":"100002"' "$TMP/body" && grep -q 'notifyType' "$TMP/body"; then
    ok "an unknown notifyType is refused, naming it (400)"
else nok "an unknown notifyType is refused" "HTTP $c" "$(cat "$TMP/body")"; fi
c=$(call -d '{"notifyType":"deviceAdded","callbackUrl":"ftp://127.0.0.1/"}' "$SUBS")
if [ "$c" = 400 ] && grep -q 'callbackUrl' "$TMP/body"; then ok "a callbackUrl not http(s) is refused (400)"
else nok "a callbackUrl not http(s) is refused" "HTTP $c" "$(cat "$TMP/body")"; fi
c=$(call "$SUBS?notifyType=deviceDataChanged&pageSize=2")
if [ "$c" = 200 ] && python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
assert d["totalCount"] == 3 and d["pageSize"] == 2 and len(d["subscriptions"]) == 2, d' "$TMP/body"; then
    ok "the subscriptions listed by type, a page of 2 of 3"
else nok "the subscriptions listed by type" "HTTP $c" "$(cat "$TMP/body")"; fi

cat >"$TMP/s.json" <<JSON
{"name": "api-push", "target": "tcp://127.0.0.1:$port", "duration": "6s",
 "fleets": [{"id": "f", "protocol": "jt808", "version": 2013, "count": 2, "ramp": "100/s",
             "phone": "13500000000+", "heartbeat": "5s", "report": {"every": "1s"}}],
 "expect": [{"id": "ONLINE", "state": "authenticated", "within": "5s"}]}
JSON
timeout 60 "$FLEETSIM" run "$TMP/s.json" --quiet >"$TMP/run.out" 2>&1
# what arrived: deviceAdded over HTTPS, deviceDataChanged over HTTP and HTTPS, /flaky after two 503s
arrived() {
    python3 - "$TMP/got.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def bodies(path, scheme):
    return [json.loads(r["body"]) for r in rows if r["path"] == path and r["scheme"] == scheme and r["status"] == 200]
added = bodies("/added", "https")
assert any(b["notifyType"] == "deviceAdded" and b["deviceId"] == "013500000001" and b["nodeType"] == "ENDPOINT"
           and b["deviceInfo"]["protocolType"] == "jt808" for b in added), added
for scheme in ("http", "https"):
    data = bodies("/data", scheme)
    loc = [b for b in data if b["notifyType"] == "deviceDataChanged" and b["service"]["serviceId"] == "location"]
    assert loc and "lat" in loc[0]["service"]["data"] and len(loc[0]["service"]["eventTime"]) == 16, (scheme, data[:2])
    assert loc[0]["gatewayId"] == loc[0]["deviceId"], loc[0]
flaky = [r for r in rows if r["path"] == "/flaky"]
assert [r["status"] for r in flaky[:3]] == [503, 503, 200], [r["status"] for r in flaky[:3]]
assert all(r["type"] == "application/json" for r in rows), rows[0]
PY
}
for _ in $(seq 60); do arrived >/dev/null 2>&1 && break; sleep 0.5; done
if arrived 2>"$TMP/py.err"; then
    ok "deviceAdded (HTTPS, verified with --push-ca) and deviceDataChanged (HTTP, HTTPS) arrive as 004 pushes them"
    ok "a callback that answered 503 twice is retried until it takes the message (200)"
else nok "the pushes arrive" "$(cat "$TMP/py.err")" "$(head -c 600 "$TMP/got.jsonl")"; fi
c=$(call "$U/iocm/app/sub/v1.2.0/pushStatus")
if [ "$c" = 200 ] && python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); c=d["counters"]
assert c["delivered"] >= 4 and c["retried"] >= 2 and c["failed"] >= 2 and c["dropped"] == 0, c
assert c["queued"] == c["delivered"] + c["expired"] + c["rejected"] + c["pending"], c
u = {x["callbackUrl"]: x for x in d["urls"]}
assert all(x["status"] == "VALID" for x in u.values()), u' "$TMP/body" 2>"$TMP/py.err"; then
    ok "pushStatus: every message counted, the URLs valid"
else nok "pushStatus: every message counted" "HTTP $c" "$(cat "$TMP/body")" "$(cat "$TMP/py.err")"; fi
kill -INT $spid 2>/dev/null; wait $spid

# again without --push-ca: the subscriptions are still there; the HTTPS callback is
# verified with the system's CAs, which do not know the receiver's: nothing reaches it
https_before=$(grep -c '"scheme": "https"' "$TMP/got.jsonl")
start_serve
login
c=$(call "$SUBS")
if [ "$c" = 200 ] && grep -q '"totalCount":4' "$TMP/body"; then ok "the subscriptions outlive the serve that took them"
else nok "the subscriptions outlive the serve" "HTTP $c" "$(cat "$TMP/body")"; fi
timeout 60 "$FLEETSIM" run "$TMP/s.json" --quiet >"$TMP/run.out" 2>&1
c=$(call "$U/iocm/app/sub/v1.2.0/pushStatus")
https_after=$(grep -c '"scheme": "https"' "$TMP/got.jsonl")
if [ "$c" = 200 ] && [ "$https_before" = "$https_after" ] && python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
u = [x for x in d["urls"] if x["callbackUrl"].startswith("https://")]
assert u and all(x["delivered"] == 0 and x["failed"] >= 1 for x in u), u
h = [x for x in d["urls"] if x["callbackUrl"].endswith("/data") and x["callbackUrl"].startswith("http://")]
assert h and h[0]["delivered"] >= 1, h' "$TMP/body" 2>"$TMP/py.err"; then
    ok "without --push-ca the HTTPS callback is not trusted: failed, never delivered unverified"
else nok "without --push-ca the HTTPS callback is not trusted" "https rows $https_before -> $https_after" \
    "$(cat "$TMP/body")" "$(cat "$TMP/py.err")"; fi
kill -INT $spid 2>/dev/null; wait $spid; rc=$?
if [ $rc = 0 ]; then ok "serve stops cleanly with pushes kept (exit 0)"; else nok "serve stops cleanly" "exit $rc" "$(tail -5 "$TMP/serve.out")"; fi
kill $rcvpid 2>/dev/null; wait $rcvpid 2>/dev/null
expect_exit "--push-ca of a file that cannot be read is a usage error" 2 "$FLEETSIM" serve --port "$port" \
    --db "$TMP/q.db" --api "127.0.0.1:$api" --app demo:s3cret --push-ca "$TMP/none.pem"
