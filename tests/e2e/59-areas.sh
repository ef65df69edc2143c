#!/usr/bin/env bash
# Areas on terminals that move: a command step sets a circle around the fleets' start
# area (alarm to the platform on entering and on leaving, JT/T 808 area attribute
# bits 3 and 5), so every terminal, already in it, enters it on its next report
# (alarm bit 20 and item 0x12); 0x8608 then gets 0x0608 with that circle laid out as
# the 0x8600 item it was set with, decoded here from the trace by the codec
# (`fleetsim decode`); deletes are answered, and nothing is refused.
. "$(dirname "$0")/lib.sh"
cat >"$TMP/a.json" <<'JSON'
{"name": "areas", "duration": "12s",
 "fleets": [{"id": "t19", "protocol": "jt808", "version": 2019, "count": 3, "phone": "13810000000+",
             "report": {"every": "1s", "lat": 22.5, "lon": 114.0}},
            {"id": "t13", "protocol": "jt808", "version": 2013, "count": 2, "phone": "13800000000+",
             "report": {"every": "1s", "lat": 22.5, "lon": 114.0}}],
 "steps": [
   {"at": "2s", "command": {"fleet": "t19", "msg": "0x8600", "body": {"attr": 0, "areas": [
     {"id": 7, "attr": 40, "lat": 22500000, "lon": 114000000, "radius": 5000, "name": "depot"}]}}},
   {"at": "2s", "command": {"fleet": "t13", "msg": "0x8600", "body": {"attr": 0, "areas": [
     {"id": 7, "attr": 40, "lat": 22500000, "lon": 114000000, "radius": 5000}]}}},
   {"at": "2.5s", "command": {"fleet": "t19", "msg": "0x8602", "body": {"attr": 0, "areas": [
     {"id": 8, "attr": 0, "top_left_lat": 23000000, "top_left_lon": 115000000,
      "bottom_right_lat": 22900000, "bottom_right_lon": 115100000, "name": "far"}]}}},
   {"at": "5s", "command": {"fleet": "t19", "msg": "0x8608", "body": {"type": 1, "ids": []}}},
   {"at": "6s", "command": {"fleet": "t19", "msg": "0x8603", "body": {"ids": []}}}
 ],
 "expect": [
   {"id": "AREA-SET-001", "fleet": "t19", "to": "0x8600", "reply": "0x0001", "within": "3s"},
   {"id": "AREA-SET-002", "fleet": "t13", "to": "0x8600", "reply": "0x0001", "within": "3s"},
   {"id": "AREA-SET-003", "fleet": "t19", "to": "0x8602", "reply": "0x0001", "within": "3s"},
   {"id": "AREA-QUERY-001", "fleet": "t19", "to": "0x8608", "reply": "0x0608", "within": "3s"},
   {"id": "AREA-DELETE-001", "fleet": "t19", "to": "0x8603", "reply": "0x0001", "within": "3s"},
   {"id": "AREA-SETS-001", "counter": "terminal.area_sets", "min": 8, "max": 8},
   {"id": "AREA-DELETES-001", "counter": "terminal.area_deletes", "min": 3, "max": 3},
   {"id": "AREA-REFUSED-001", "counter": "terminal.area_refused", "max": 0},
   {"id": "AREA-ALARMS-001", "counter": "terminal.area_alarms", "min": 5},
   {"id": "AREA-MISMATCH-001", "counter": "gateway.reply_mismatch", "max": 0},
   {"id": "AREA-BADBODY-001", "counter": "gateway.reply_bad_body", "max": 0}
 ]}
JSON
n=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["expect"]))' "$TMP/a.json")
"$FLEETSIM" run "$TMP/a.json" -q --trace 13810000000 --report "$TMP/rep" >"$TMP/out" 2>&1; rc=$?
cp "$TMP/out" "$TMP/run.out"
if [ $rc -eq 0 ] && grep -q "$n cases: $n pass" "$TMP/out"; then
    ok "areas set, queried and deleted by steps, answered; every terminal raises an area alarm ($n cases)"
else
    nok "areas set, queried and deleted by steps, answered; every terminal raises an area alarm" "exit $rc" \
        "$(grep -E "FAIL|ERROR|cases:" "$TMP/run.out")"
fi
# The traced terminal's frames: a 0x0200 after the set carries bit 20 and item 0x12
# (type 1, id 7, in); its 0x0608 holds the circle as an 0x8600 item: put in an 0x8600
# frame (set attribute 0, count 1), `fleetsim decode` reads back the circle sent.
python3 - "$TMP/rep/trace.txt" "$FLEETSIM" >"$TMP/check" 2>&1 <<'PY'
import json, subprocess, sys
msgs = []
for line in open(sys.argv[1]):
    k = line.find(" {")
    if k > 0 and " > " in line[:k]:
        msgs.append(json.loads(line[k + 1:]))
def items12(m):
    return [i for i in m["body"].get("items", []) if i["id"] == "0x12"]
alarm = [m for m in msgs if m["msg_id"] == "0x0200" and items12(m)]
if not alarm:
    sys.exit("no 0x0200 with item 0x12 from the traced terminal")
a = alarm[0]["body"]
if not a["alarm"] & (1 << 20) or items12(alarm[0])[0]["raw"] != "010000000700":
    sys.exit("0x0200 with alarm %#x, item 0x12 %s: wanted bit 20, 01 00000007 00" % (a["alarm"], items12(alarm[0])))
q = [m for m in msgs if m["msg_id"] == "0x0608"]
if not q or q[0]["body"]["type"] != 1 or q[0]["body"]["count"] != 1:
    sys.exit("no 0x0608 of one circle: %s" % (q[0] if q else "none"))
body = bytes([0, 1]) + bytes.fromhex(q[0]["body"]["data"])
# a 2019 header: id, properties (version bit 14, length), protocol version, BCD[10] phone, serial
h = bytes.fromhex("8600") + (0x4000 | len(body)).to_bytes(2, "big") + bytes([1]) + \
    bytes.fromhex("00000000013810000000") + (1).to_bytes(2, "big")
raw = h + body
check = 0
for c in raw:
    check ^= c
raw += bytes([check])
esc = raw.replace(b"\x7d", b"\x7d\x01").replace(b"\x7e", b"\x7d\x02")
out = subprocess.run([sys.argv[2], "decode", "-c", "jt808", "7e" + esc.hex() + "7e"], capture_output=True, text=True)
if out.returncode != 0:
    sys.exit("fleetsim decode: exit %d: %s%s" % (out.returncode, out.stdout, out.stderr))
got = json.loads(out.stdout)["body"]
want = {"id": 7, "attr": 40, "lat": 22500000, "lon": 114000000, "radius": 5000, "name": "depot"}
area = got["areas"][0]
if got["count"] != 1 or any(area.get(k) != v for k, v in want.items()):
    sys.exit("0x0608's circle decodes as %s, wanted %s" % (got, want))
print("ok")
PY
if [ "$(cat "$TMP/check")" = ok ]; then
    ok "the traced terminal's crossing report has bit 20 and item 0x12; its 0x0608 decodes to the circle sent"
else
    nok "the traced terminal's crossing report has bit 20 and item 0x12; its 0x0608 decodes to the circle sent" \
        "$(cat "$TMP/check")"
fi
