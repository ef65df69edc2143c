#!/usr/bin/env python3
"""Builds vectors/jt808-params.json: 0x0104 query-parameters responses carrying every
parameter id of the terminal parameter tables, one frame per type class and edition.

The tables below are transcribed from JT/T 808-2013 Table 12 and JT/T 808-2019
Table 14 (terminal parameter settings); the frames (header, body, XOR check,
escaping) and the expected decode are computed here from those layouts, without
the codec.  Usage: gen_jt808_params.py > vectors/jt808-params.json
"""
import json, sys

D, W, B, S = "DWORD", "WORD", "BYTE", "STRING"
# id: type, for the ids both editions define
BOTH = {
    0x0001: D, 0x0002: D, 0x0003: D, 0x0004: D, 0x0005: D, 0x0006: D, 0x0007: D,
    0x0010: S, 0x0011: S, 0x0012: S, 0x0013: S, 0x0014: S, 0x0015: S, 0x0016: S, 0x0017: S,
    0x0018: D, 0x0019: D, 0x001A: S, 0x001B: D, 0x001C: D, 0x001D: S,
    0x0020: D, 0x0021: D, 0x0022: D, 0x0027: D, 0x0028: D, 0x0029: D,
    0x002C: D, 0x002D: D, 0x002E: D, 0x002F: D, 0x0030: D, 0x0031: W,
    0x0040: S, 0x0041: S, 0x0042: S, 0x0043: S, 0x0044: S, 0x0045: D, 0x0046: D, 0x0047: D,
    0x0048: S, 0x0049: S,
    0x0050: D, 0x0051: D, 0x0052: D, 0x0053: D, 0x0054: D, 0x0055: D, 0x0056: D, 0x0057: D,
    0x0058: D, 0x0059: D, 0x005A: D, 0x005B: W, 0x005C: W, 0x005D: W, 0x005E: W,
    0x0064: D, 0x0065: D, 0x0070: D, 0x0071: D, 0x0072: D, 0x0073: D, 0x0074: D,
    0x0080: D, 0x0081: W, 0x0082: W, 0x0083: S, 0x0084: B,
    0x0090: B, 0x0091: B, 0x0092: B, 0x0093: D, 0x0094: B, 0x0095: D,
    0x0100: D, 0x0101: W, 0x0102: D, 0x0103: W,
    0x0110: "BYTE[8]",
}
# the CAN id settings 0x0111-0x01FF are BYTE[8] like 0x0110: first, one in the middle, last
for i in (0x0111, 0x0150, 0x01FF):
    BOTH[i] = "BYTE[8]"
ONLY_2019 = {0x0023: S, 0x0024: S, 0x0025: S, 0x0026: S, 0x0032: "BYTE[4]"}
TABLES = {"2013": dict(BOTH), "2019": {**BOTH, **ONLY_2019}}
SIZE = {B: 1, W: 2, D: 4, "BYTE[4]": 4, "BYTE[8]": 8}


def value(pid, t):
    """A value for each id: distinct, within its type."""
    if t == S:
        if pid == 0x0083:
            return "京A12345"  # GBK, 7 bytes
        return "p%04x.example" % pid if pid in (0x0013, 0x0017, 0x001A, 0x001D, 0x0026) else "v%04X" % pid
    if t.startswith("BYTE["):
        if pid == 0x0032:
            return bytes.fromhex("22300600")  # 22:30 to 06:00 (BCD)
        # collection interval DWORD ms, then channel/frame type/method bits and a 29-bit CAN id
        return (1000 + pid).to_bytes(4, "big") + (0x40000000 | pid).to_bytes(4, "big")
    return (pid * 7 + 3) % (1 << (8 * SIZE[t]))


def wire(pid, t, v):
    if t == S:
        data = v.encode("gbk")
    elif t.startswith("BYTE["):
        data = v
    else:
        data = v.to_bytes(SIZE[t], "big")
    return pid.to_bytes(4, "big") + bytes([len(data)]) + data, len(data)


def frame(edition, body, serial):
    phone = "013912345678" if edition == "2013" else "00000000013912345678"
    props = len(body) | (0x4000 if edition == "2019" else 0)
    raw = (0x0104).to_bytes(2, "big") + props.to_bytes(2, "big")
    if edition == "2019":
        raw += b"\x01"
    raw += bytes.fromhex(phone) + serial.to_bytes(2, "big") + body
    c = 0
    for b in raw:
        c ^= b
    raw += bytes([c])
    out = bytearray([0x7E])
    for b in raw:
        out += {0x7E: b"\x7D\x02", 0x7D: b"\x7D\x01"}.get(b, bytes([b]))
    out.append(0x7E)
    return bytes(out).hex().upper(), phone


CLASSES = [("DWORD", [D]), ("WORD", [W]), ("BYTE", [B]), ("STRING", [S]), ("BYTE[n]", ["BYTE[4]", "BYTE[8]"])]
TABLE_NAME = {"2013": "JT/T 808-2013 Table 12", "2019": "JT/T 808-2019 Table 14"}
vectors = []
serial = 0x0100
for edition in ("2013", "2019"):
    for cname, types in CLASSES:
        ids = sorted(i for i, t in TABLES[edition].items() if t in types)
        if not ids:
            continue
        body, params = bytearray(), []
        for pid in ids:
            t = TABLES[edition][pid]
            v = value(pid, t)
            w, n = wire(pid, t, v)
            body += w
            params.append({"id": "0x%04X" % pid, "len": n,
                           "value": v.hex().upper() if isinstance(v, bytes) else v})
        body = (0x0042).to_bytes(2, "big") + bytes([len(ids)]) + bytes(body)
        assert len(body) <= 1023, (edition, cname, len(body))
        serial += 1
        hexs, phone = frame(edition, body, serial)
        fields = {"msg_id": "0x0104", "name": "query terminal parameters response", "version": edition,
                  "phone": phone, "serial": serial, "encryption": 0,
                  "body": {"ack_serial": 0x0042, "count": len(ids), "params": params}}
        if edition == "2019":
            fields["proto_version"] = 1
        only = [p for p in ids if p in ONLY_2019]
        note = "; 2019-only: " + ", ".join("0x%04X" % p for p in only) if only else ""
        vectors.append({"name": "0x0104 with every %s parameter (%s, %d ids)" % (cname, edition, len(ids)),
                        "source": "%s: parameter ids and types; values chosen by tests/data/gen_jt808_params.py%s"
                                  % (TABLE_NAME[edition], note),
                        "hex": hexs, "fields": fields})

json.dump({"protocol": "jt808",
           "source": "frames built by tests/data/gen_jt808_params.py from JT/T 808-2013 Table 12 and "
                     "JT/T 808-2019 Table 14",
           "note": "BYTE[n] parameters (0x0032, 0x0110-0x01FF) decode to hex in value; 0x0111-0x01FF "
                   "sampled at 0x0111, 0x0150, 0x01FF",
           "vectors": vectors}, sys.stdout, indent=1, ensure_ascii=False)
print()
