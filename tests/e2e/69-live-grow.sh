#!/usr/bin/env bash
# A fleet grown by a live resize is the fleet from then on: a later command step
# addresses the grown terminals too (and a reply expectation judges them), and the
# status line counts online terminals out of the active ones, not the count.
. "$(dirname "$0")/lib.sh"
cat >"$TMP/s.json" <<'JSON'
{"name": "live-grow", "target": "embedded", "duration": "9s",
 "fleets": [{"id": "f", "protocol": "jt808", "count": 4, "max": 8, "ramp": "100/s", "phone": "13600000000+",
             "heartbeat": "20s"}],
 "steps": [{"at": "6s", "command": {"fleet": "f", "msg": "0x8104"}}],
 "expect": [{"id": "QUERY", "fleet": "f", "reply": "0x0104", "to": "0x8104", "within": "2s"}]}
JSON
timeout 60 "$FLEETSIM" run "$TMP/s.json" --stats "$TMP/s.sock" --report "$TMP/r" >"$TMP/run.out" 2>&1 &
rpid=$!
timeout 30 python3 - "$TMP/s.sock" >"$TMP/client.out" 2>&1 <<'PY'
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX)
for _ in range(100):
    try:
        s.connect(sys.argv[1]); break
    except OSError:
        time.sleep(0.1)
f = s.makefile("rwb")
f.write(b'{"id":1,"op":"resize","fleet":"f","delta":4}\n'); f.flush()
end = time.time() + 20
while time.time() < end:
    j = json.loads(f.readline())
    if j.get("reply") == 1:
        print("resized", j.get("ok"), j.get("active"), flush=True)
        break
PY
wait $rpid; rc=$?
if grep -q "resized True 8" "$TMP/client.out"; then ok "the fleet is resized to 8 while the run goes"
else nok "the fleet is resized to 8 while the run goes" "$(cat "$TMP/client.out")"; fi
if [ $rc = 0 ] && python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))
c=[c for c in r["cases"] if c["id"]=="QUERY"][0]
sys.exit(0 if c["verdict"]=="PASS" and c["observed"].startswith("addressed 8: answered 8") else 1)' "$TMP/r/report.json"; then
    ok "a command step after the growth addresses the grown terminals, all 8 answer"
else nok "a command step after the growth addresses the grown terminals" "exit $rc" \
    "$(grep -A1 QUERY "$TMP/run.out" | head -4)"; fi
if grep -q "online 8/8" "$TMP/run.out" && ! grep -Eq "online [0-9]+/([0-35-79]|[0-9]{2,})( |$)" "$TMP/run.out"; then
    ok "the status line counts online terminals of the active 8"
else nok "the status line counts online terminals of the active 8" "$(grep -o 'online [0-9]*/[0-9]*' "$TMP/run.out" | sort | uniq -c)"; fi
