#!/usr/bin/env python3
"""Builds vectors/jt808-deviations.json: one JT/T 808 frame per deviation kind.

Each frame is assembled here from the standard's layouts (header, body, XOR check,
escaping), independently of the codec; the deviation offsets are computed from
where this script put the deviating byte.  Only the decoded "fields" are taken from
`fleetsim decode` (pass its path); the offsets it reports must equal the ones
computed here or this script stops.  Usage: gen_jt808_deviations.py FLEETSIM > out
"""
import json, subprocess, sys

PHONE = bytes.fromhex("013912345678")


def frame(msg_id, body, serial=1, check=None):
    """7E header body check 7E, escaped; returns (bytes, map unescaped->wire offset)."""
    raw = msg_id.to_bytes(2, "big") + len(body).to_bytes(2, "big") + PHONE + serial.to_bytes(2, "big") + body
    c = 0
    for b in raw:
        c ^= b
    raw += bytes([c if check is None else check])
    out, where = bytearray([0x7E]), []
    for b in raw:
        where.append(len(out))
        out += {0x7E: b"\x7D\x02", 0x7D: b"\x7D\x01"}.get(b, bytes([b]))
    out.append(0x7E)
    return bytes(out), where

HDR = 12  # 2013 header bytes before the body
LOC = bytes.fromhex("00000000" "00000003" "01DC89D0" "073D8AA5" "000C" "025D" "005A" "240315083000")

cases = []
# item-length: item 0x01 (mileage, DWORD) sent with length 3; its length byte is body offset 29
body = LOC + bytes.fromhex("0103000001")
f, w = frame(0x0200, body)
cases.append(("item-length: location item 0x01 (DWORD) with length 3, kept raw",
              "JT/T 808-2013 table 27: additional item 0x01 mileage is DWORD; length byte at body offset 29",
              f, [("item-length", w[HDR + 29], "body.items[0x01]")]))
# param-length: 0x8103 parameter 0x0001 (DWORD) with length 2; length byte at body offset 5
body = bytes.fromhex("01" "00000001" "02" "001E")
f, w = frame(0x8103, body)
cases.append(("param-length: parameter 0x0001 (DWORD) with length 2, kept raw",
              "JT/T 808-2013 table 12: 0x0001 heartbeat interval is DWORD; length byte at body offset 5",
              f, [("param-length", w[HDR + 5], "body.params[0x0001]")]))
# count-overrun: 0x8103 says 3 parameters, holds 1; the count is body offset 0
body = bytes.fromhex("03" "00000029" "04" "0000001E")
f, w = frame(0x8103, body)
cases.append(("count-overrun: 0x8103 count 3 with one parameter",
              "JT/T 808-2013 table 10: parameter count BYTE, then the list; count at body offset 0",
              f, [("count-overrun", w[HDR + 0], "body.count")]))
# count-overrun: 0x0704 says 2 locations, holds 1
body = bytes.fromhex("0002" "00" "001C") + LOC
f, w = frame(0x0704, body)
cases.append(("count-overrun: 0x0704 count 2 with one location",
              "JT/T 808-2013 0x0704: count WORD, type BYTE, then length WORD + location; count at body offset 0",
              f, [("count-overrun", w[HDR + 0], "body.count")]))
# trailing-bytes: 0x8001 is 5 bytes; a sixth at body offset 5
body = bytes.fromhex("0007020000" "FF")
f, w = frame(0x8001, body)
cases.append(("trailing-bytes: 0x8001 with a sixth byte",
              "JT/T 808-2013 table 5: 0x8001 is ack serial WORD, ack id WORD, result BYTE; extra byte at body offset 5",
              f, [("trailing-bytes", w[HDR + 5], "body")]))
# item-truncated: item 0xE1 says 5 bytes, 2 left; length byte at body offset 29
body = LOC + bytes.fromhex("E105AAAA")
f, w = frame(0x0200, body)
cases.append(("item-truncated: location item 0xE1 with length 5 and 2 bytes left",
              "JT/T 808-2013 table 26: additional item id BYTE, length BYTE, data; length byte at body offset 29",
              f, [("item-truncated", w[HDR + 29], "body.items.data")]))
# unescaped-check: a body chosen so the check byte is 0x7D, sent unescaped
for last in range(256):
    body = bytes.fromhex("00010002") + bytes([last])
    raw_check = 0
    raw = (0x0001).to_bytes(2, "big") + len(body).to_bytes(2, "big") + PHONE + (1).to_bytes(2, "big") + body
    for b in raw:
        raw_check ^= b
    if raw_check == 0x7D and last not in (0x7D, 0x7E):
        break
f, w = frame(0x0001, body)
f = f[:-3] + b"\x7D\x7E"  # 7D 01 (the escaped check) sent as a lone 7D
cases.append(("unescaped-check: check byte 0x7D sent without its escape",
              "JT/T 808-2013 §4.4: 0x7D is sent as 7D 01; here the check byte 0x7D is sent alone before the closing 7E",
              f, [("unescaped-check", len(f) - 2, "check")]))

fleetsim = sys.argv[1]
vectors = []
for name, source, f, devs in cases:
    hexs = f.hex().upper()
    out = subprocess.run([fleetsim, "decode", "-c", "jt808", hexs], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{name}: fleetsim decode failed: {out.stderr}")
    fields = json.loads(out.stdout)
    got = [(d["kind"], d["offset"], d["field"]) for d in fields.get("deviations", [])]
    if got != devs:
        sys.exit(f"{name}: deviations {got}, computed {devs}")
    vectors.append({"name": name, "source": source, "hex": hexs, "fields": fields})

json.dump({"protocol": "jt808",
           "source": "frames built by tests/data/gen_jt808_deviations.py from the JT/T 808-2013 layouts",
           "note": "each frame deviates once; fields list the deviations with kind, wire offset and field",
           "vectors": vectors}, sys.stdout, indent=1, ensure_ascii=False)
print()
