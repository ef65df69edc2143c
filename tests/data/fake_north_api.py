# A third-party northbound API for tests/e2e/55-api-steps.sh (python3 fake_north_api.py PORT):
# login and refreshToken for the application fake:pw, a token that stops working after
# its second call (the client renews it once), POST deviceCommands answering 201 with a
# commandId, GET deviceCommands?deviceId=... listing that command with its transitions
# PENDING -> SENT -> DELIVERED -> SUCCESSFUL (what the commands service shows).
import json, sys, http.server, urllib.parse
state = {"token": None, "refresh": None, "n": 0, "calls": 0}
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def send(self, code, obj):
        b = json.dumps(obj).encode()
        self.send_response(code); self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b))); self.end_headers(); self.wfile.write(b)
    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(n) or b"{}")
    def tokens(self):
        state["n"] += 1
        state["token"] = "tok%d" % state["n"]; state["refresh"] = "ref%d" % state["n"]
        return {"accessToken": state["token"], "refreshToken": state["refresh"], "expiresIn": 3600}
    def authed(self):
        ok = self.headers.get("app_key") == "fake" and self.headers.get("Authorization") == "Bearer %s" % state["token"]
        if ok:
            state["calls"] += 1
            if state["calls"] == 2:   # the token "expires" once: the client renews it
                state["token"] = "gone"
        if not ok:
            self.send(401, {"error_code": "100212", "error_desc": "not the current token"})
        return ok
    def do_POST(self):
        u = urllib.parse.urlparse(self.path); b = self.body()
        if u.path == "/iocm/app/sec/v1.1.0/login":
            return self.send(200, self.tokens()) if b.get("secret") == "pw" else self.send(401, {"error_code": "100208"})
        if u.path == "/iocm/app/sec/v1.1.0/refreshToken":
            return self.send(200, self.tokens()) if b.get("refreshToken") == state["refresh"] else self.send(401, {"error_code": "100209"})
        if not self.authed(): return
        if u.path == "/iocm/app/cmd/v1.4.0/deviceCommands":
            return self.send(201, {"commandId": "cmd-" + b["deviceId"], "deviceId": b["deviceId"], "status": "SENT"})
        self.send(404, {"error_code": "100004"})
    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        if not self.authed(): return
        if u.path == "/iocm/app/cmd/v1.4.0/deviceCommands":
            d = urllib.parse.parse_qs(u.query).get("deviceId", [""])[0]
            tr = [{"status": s, "time": "20261204T000000Z"} for s in ("PENDING", "SENT", "DELIVERED", "SUCCESSFUL")]
            return self.send(200, {"pagination": {"pageNo": 0, "totalSize": 2},
                                   "data": [{"commandId": "other", "status": "FAIL"},
                                            {"commandId": "cmd-" + d, "deviceId": d, "status": "SUCCESSFUL", "transitions": tr}]})
        self.send(404, {"error_code": "100004"})
srv = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H)
print("up", flush=True)
srv.serve_forever()
