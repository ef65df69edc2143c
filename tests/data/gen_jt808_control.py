#!/usr/bin/env python3
"""Builds vectors/jt808-control.json: 0x8105 terminal control with the typed parameter
lists of commands 1 (wireless upgrade) and 2 (connect to a given server).

Each body is assembled here from the standard's table (JT/T 808-2013 §8.16 table 27,
JT/T 808-2019 §8.16): the command BYTE, then the fields separated by ';', STRING fields
in GBK, WORD and BYTE fields in binary (big-endian), the manufacturer id a 0x00-padded
BYTE[5].  Several binary values are chosen to hold 0x3B (';') so that a decoder that
splits on ';' fails them.  The frame around the body follows §4.4 (header, XOR check,
0x7E/0x7D escaping).  `fields` (and the deviations with their wire offsets, computed
from where this script put each byte) are what `fleetsim decode` must print; nothing
is taken from fleetsim.

    python3 tests/data/gen_jt808_control.py > vectors/jt808-control.json
"""
import json
import struct

PHONE13 = "013912345678"
PHONE19 = "00000000013912345678"
SEP = b";"


def bcd(digits, n):
    digits = digits.rjust(2 * n, "0")
    return bytes(int(digits[i:i + 2], 16) for i in range(0, 2 * n, 2))


def frame(body, ver, serial):
    """Wire bytes and, per unescaped byte of header+body+check, its wire offset."""
    props = len(body) | (0x4000 if ver == 2019 else 0)
    head = struct.pack(">HH", 0x8105, props)
    head += (b"\x01" + bcd(PHONE19, 10)) if ver == 2019 else bcd(PHONE13, 6)
    head += struct.pack(">H", serial)
    raw = head + body
    chk = 0
    for x in raw:
        chk ^= x
    raw += bytes([chk])
    out, where = bytearray(b"\x7e"), []
    for x in raw:
        where.append(len(out))
        out += {0x7E: b"\x7d\x02", 0x7D: b"\x7d\x01"}.get(x, bytes([x]))
    out += b"\x7e"
    return bytes(out).hex().upper(), where, len(head)


# The tables: (name, type) in wire order.
CMD1 = [("url", "S"), ("apn", "S"), ("user", "S"), ("password", "S"), ("host", "S"),
        ("tcp_port", "W"), ("udp_port", "W"), ("manufacturer", "B5"), ("hw_version", "S"),
        ("fw_version", "S"), ("time_limit", "W")]
CMD2 = [("connection", "B"), ("auth_code", "S"), ("apn", "S"), ("user", "S"), ("password", "S"),
        ("host", "S"), ("tcp_port", "W"), ("udp_port", "W"), ("time_limit", "W")]


def enc(t, v):
    if t == "S":
        b = v.encode("gbk")
        assert b";" not in b
        return b
    if t == "W":
        return struct.pack(">H", v)
    if t == "B":
        return struct.pack(">B", v)
    b = v.encode("gbk")
    assert len(b) <= 5
    return b + b"\0" * (5 - len(b))


def params(table, values):
    """The ';'-separated list of the first len(values) fields."""
    return SEP.join(enc(t, values[n]) for (n, t) in table[:len(values)])


VECTORS = []
SERIAL = [400]
S13 = "JT/T 808-2013 §8.16 table 27"
S19 = "JT/T 808-2019 §8.16"


def add(name, ver, body, fields_body, source, devs=()):
    """devs: (kind, body offset, field); the offset becomes a wire offset here."""
    SERIAL[0] += 1
    hexs, where, hlen = frame(body, ver, SERIAL[0])
    f = {"msg_id": "0x8105", "name": "terminal control", "version": str(ver)}
    if ver == 2019:
        f["proto_version"] = 1
    f.update({"phone": PHONE19 if ver == 2019 else PHONE13, "serial": SERIAL[0], "encryption": 0,
              "body": fields_body})
    if devs:
        f["deviations"] = [{"kind": k, "offset": where[hlen + off], "field": fld} for k, off, fld in devs]
    VECTORS.append({"name": name, "source": source, "hex": hexs, "fields": f})


def add_error(name, ver, body, code, body_off, field, source):
    SERIAL[0] += 1
    hexs, where, hlen = frame(body, ver, SERIAL[0])
    VECTORS.append({"name": name, "source": source, "hex": hexs,
                    "error": {"code": code, "offset": where[hlen + body_off], "field": field}})


def ordered(table, values):
    return {n: values[n] for (n, _) in table if n in values}


def main():
    up = {"url": "http://fw.example.com/t1.bin", "apn": "CMNET", "user": "u", "password": "p",
          "host": "fw.example.com", "tcp_port": 7995, "udp_port": 0x3B3B, "manufacturer": "FLT;M",
          "hw_version": "HW1.0", "fw_version": "FW2.3", "time_limit": 59}
    for ver in (2013, 2019):
        body = b"\x01" + params(CMD1, up)
        add("0x8105 command 1 wireless upgrade (%d)" % ver, ver, body, {"command": 1, **ordered(CMD1, up)},
            (S13 if ver == 2013 else S19) + ": command 1, 11 fields; TCP port 7995 (0x1F3B), UDP port "
            "0x3B3B, manufacturer id with a ';', time limit 59 (0x003B)")
    srv = {"connection": 0, "auth_code": "鉴权码A1", "apn": "CMIOT", "user": "", "password": "",
           "host": "192.168.1.59", "tcp_port": 0x3B00, "udp_port": 7995, "time_limit": 0}
    for ver in (2013, 2019):
        body = b"\x02" + params(CMD2, srv)
        add("0x8105 command 2 connect to a given server (%d)" % ver, ver, body,
            {"command": 2, **ordered(CMD2, srv)},
            (S13 if ver == 2013 else S19) + ": command 2, 9 fields; GBK auth code, TCP port 0x3B00, "
            "UDP port 7995 (0x1F3B), connection BYTE 0")
    # connection 0x3B: the BYTE itself is ';'
    srv3b = dict(srv, connection=0x3B, auth_code="A", host="h", tcp_port=1, udp_port=2, time_limit=3)
    add("0x8105 command 2 with connection byte 0x3B (2013)", 2013, b"\x02" + params(CMD2, srv3b),
        {"command": 2, **ordered(CMD2, srv3b)},
        S13 + ": command 2; connection control is a BYTE, here 0x3B, read by its type")
    add("0x8105 command 2 back to the default server (2019)", 2019, b"\x02\x01",
        {"command": 2, "connection": 1}, S19 + ": command 2 with connection 1 has no further fields")
    add("0x8105 command 4 reset, other commands keep a STRING (2013)", 2013, b"\x04",
        {"command": 4, "params": ""}, S13 + ": commands 3-7 carry no typed fields")

    # Deviations
    body = b"\x02" + params(CMD2, srv)
    cut = body.index(b"192.168.1.59") + len(b"192.168.1.59") + 1  # tcp_port starts here
    ascii_body = body[:cut] + b"7999" + SEP + body[cut + 3:]        # port as text, not a WORD
    fb = {}
    for (n, _) in CMD2:
        if n == "tcp_port":
            fb["tcp_port_hex"] = b"7999".hex().upper()
        else:
            fb[n] = srv[n]
    add("0x8105 deviation: TCP port sent as the text \"7999\" (2013)", 2013, ascii_body,
        {"command": 2, **fb}, S13 + ": TCP port is a WORD; four ASCII digits are kept raw (param-length)",
        [("param-length", cut, "body.tcp_port")])
    short = dict((k, up[k]) for k in ("url", "apn", "user", "password", "host"))
    body = b"\x01" + params(CMD1, short)
    add("0x8105 deviation: command 1 ends after the host (2013)", 2013, body, {"command": 1, **short},
        S13 + ": command 1 has 11 fields; the body stops after 5 (count-overrun at the end of the body)",
        [("count-overrun", len(body), "body.tcp_port")])
    body = b"\x01" + params(CMD1, up) + SEP
    add("0x8105 deviation: command 1 with a ';' after the last field (2019)", 2019, body,
        {"command": 1, **ordered(CMD1, up), "trailing_hex": "3B"},
        S19 + ": the time limit WORD is the last field; a ';' after it is a trailing byte",
        [("trailing-bytes", len(body) - 1, "body")])

    # Errors
    add_error("malformed: 0x8105 empty body (2013)", 2013, b"", "short", 0, "body.command",
              S13 + ": the command BYTE is missing")
    body = b"\x01" + b"http://x\0" + SEP + params(CMD1, up)[len(enc("S", up["url"])) + 1:]
    add_error("malformed: 0x8105 command 1 with a NUL inside the URL (2013)", 2013, body, "value", 1,
              "body.url", S13 + ": a STRING field holding 0x00")

    out = {"protocol": "jt808",
           "source": "JT/T 808-2013/2019 0x8105 terminal control, commands 1 and 2 as typed "
                     "fields, built by tests/data/gen_jt808_control.py from the standard's table.",
           "vectors": VECTORS}
    print("{\"protocol\": \"jt808\",")
    print(" \"source\": %s," % json.dumps(out["source"], ensure_ascii=False))
    print(" \"vectors\": [")
    print(",\n".join("  " + json.dumps(v, ensure_ascii=False) for v in VECTORS))
    print(" ]}")


if __name__ == "__main__":
    main()
