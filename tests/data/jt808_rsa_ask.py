#!/usr/bin/env python3
"""A JT/T 808-2019 terminal that gets a long platform body encrypted package by
package, for tests/e2e/57-rsa.sh.  Written from the standard's layouts, not with
fleetsim's codec, and doing its RSA itself (PKCS#1 v1.5, RFC 8017 §7.2, with Python
integers; n, e and d from `openssl rsa -text` of the key file, its own key).

It registers (0x0100), authenticates (0x0102) and sends its public key (0x0A00), so
that a platform with "rsa encrypt" encrypts what it sends it; then package 1 of a
0x0200 said to have 600 packages, and nothing more.  A platform that asks for the
missing ones after its reassembly timeout sends a 0x8003 listing 500 of them (the most
a 2019 0x8003 carries here): 1004 bytes, too long for one frame encrypted, so in
packages each encrypted on its own.  Every frame from the platform must come
encrypted; the packages are decrypted and reassembled and the 0x8003 checked (the
first package's serial, ids 2 to 501).  Prints "0x8003 IDS ids, BYTES bytes in
PACKAGES packages, all encrypted" and exits 0, else 1 with what went wrong.

usage: jt808_rsa_ask.py PORT KEY.pem PHONE"""
import re
import socket
import struct
import subprocess
import sys

PORT, KEY, PHONE = int(sys.argv[1]), sys.argv[2], sys.argv[3].rjust(20, "0")


def key_numbers():
    text = subprocess.run(["openssl", "rsa", "-in", KEY, "-noout", "-text"], check=True,
                          capture_output=True, text=True).stdout

    def field(name):
        m = re.search(name + r":\s*\n((?:\s+[0-9a-f:]+\n)+)", text)
        return int(re.sub(r"[\s:]", "", m.group(1)), 16)
    return field("modulus"), int(re.search(r"publicExponent: (\d+)", text).group(1)), field("privateExponent")


N, E, D = key_numbers()


def decrypt(body):
    if len(body) % 128:
        sys.exit("an encrypted body of %d bytes, not blocks of 128" % len(body))
    out = b""
    for i in range(0, len(body), 128):
        m = pow(int.from_bytes(body[i:i + 128], "big"), D, N).to_bytes(128, "big")
        if m[:2] != b"\x00\x02" or b"\x00" not in m[2:]:
            sys.exit("block %d does not decrypt (PKCS#1 v1.5 padding)" % (i // 128))
        out += m[m.index(b"\x00", 2) + 1:]
    return out


def bcd(digits):
    return bytes(int(digits[i:i + 2], 16) for i in range(0, len(digits), 2))


def escape(b):
    return b.replace(b"\x7d", b"\x7d\x01").replace(b"\x7e", b"\x7d\x02")


def unescape(b):
    return b.replace(b"\x7d\x02", b"\x7e").replace(b"\x7d\x01", b"\x7d")


class Dev:
    def __init__(self, sock):
        self.s = sock
        self.serial = 0
        self.buf = b""
        self.keyed = False  # the platform has our key: all it sends must be encrypted

    def send(self, msg_id, body, sub=None):
        props = (1 << 14) | len(body) | (0x2000 if sub else 0)
        raw = struct.pack(">HHB", msg_id, props, 1) + bcd(PHONE) + struct.pack(">H", self.serial)
        if sub:
            raw += struct.pack(">HH", *sub)
        raw += body
        self.serial = (self.serial + 1) & 0xFFFF
        cs = 0
        for x in raw:
            cs ^= x
        self.s.sendall(b"\x7e" + escape(raw + bytes([cs])) + b"\x7e")

    def frame(self):
        """(msg_id, serial, (total, index) or None, plaintext body)"""
        while True:
            a = self.buf.find(b"\x7e")
            e = self.buf.find(b"\x7e", a + 1) if a >= 0 else -1
            if e > a + 1:
                raw = unescape(self.buf[a + 1:e])[:-1]
                self.buf = self.buf[e + 1:]
                msg_id, props = struct.unpack(">HH", raw[:4])
                (serial,) = struct.unpack(">H", raw[15:17])
                sub = struct.unpack(">HH", raw[17:21]) if props & 0x2000 else None
                body = raw[21 if sub else 17:]
                if len(body) != props & 0x3FF:
                    sys.exit("0x%04X: body of %d bytes, its properties say %d" % (msg_id, len(body), props & 0x3FF))
                enc = props >> 10 & 7
                if self.keyed and enc != 1:
                    sys.exit("0x%04X (serial %d) came in the clear (encryption %d) after the key" %
                             (msg_id, serial, enc))
                return msg_id, serial, sub, decrypt(body) if enc else body
            if e == a + 1:
                self.buf = self.buf[e:]
                continue
            data = self.s.recv(4096)
            if not data:
                sys.exit("the platform closed the connection")
            self.buf += data


d = Dev(socket.create_connection(("127.0.0.1", PORT), timeout=15))
reg = struct.pack(">HH", 44, 300) + b"MF0042".ljust(11, b"\0") + b"RSA-A".ljust(30, b"\0") + \
    PHONE[-7:].encode().ljust(30, b"\0") + b"\x01" + ("粤B" + PHONE[-5:]).encode("gbk")
d.send(0x0100, reg)
msg_id, _, _, body = d.frame()
if msg_id != 0x8100 or body[2] != 0:
    sys.exit("registration: 0x%04X %s" % (msg_id, body.hex()))
code = body[3:]
d.send(0x0102, bytes([len(code)]) + code + b"860000000000809" + b"1.0".ljust(20, b"\0"))
msg_id, _, _, body = d.frame()
if msg_id != 0x8001 or body[4] != 0:
    sys.exit("authentication: 0x%04X %s" % (msg_id, body.hex()))
d.send(0x0A00, struct.pack(">I", E) + N.to_bytes(128, "big"))
d.keyed = True
msg_id, _, _, body = d.frame()
if msg_id != 0x8001 or body[2:5] != b"\x0a\x00\x00":
    sys.exit("0x0A00: 0x%04X %s" % (msg_id, body.hex()))

first = d.serial
d.send(0x0200, bytes(10), (600, 1))
msg_id, _, _, body = d.frame()
if msg_id != 0x8001 or struct.unpack(">HHB", body[:5]) != (first, 0x0200, 0):
    sys.exit("package 1: 0x%04X %s" % (msg_id, body.hex()))

pieces, total, serials = {}, None, []
while total is None or len(pieces) < total:
    msg_id, serial, sub, body = d.frame()
    if msg_id != 0x8003 or not sub:
        sys.exit("0x%04X%s, wanted the 0x8003 in packages" % (msg_id, " subpackaged" if sub else ""))
    total = sub[0]
    pieces[sub[1]] = body
    serials.append(serial)
    if len(body) > 7 * 117:
        sys.exit("package %d: %d bytes of plaintext, over 819" % (sub[1], len(body)))
whole = b"".join(pieces[i] for i in range(1, total + 1))
orig, count = struct.unpack(">HH", whole[:4])
ids = list(struct.unpack(">%dH" % count, whole[4:4 + 2 * count]))
if orig != first or ids != list(range(2, 2 + count)) or len(whole) != 4 + 2 * count or count != 500:
    sys.exit("0x8003: orig_serial %d (sent %d), %d ids %s..., %d bytes" % (orig, first, count, ids[:4], len(whole)))
if serials != list(range(serials[0], serials[0] + total)):
    sys.exit("package serials %s, not consecutive" % serials)
print("0x8003 %d ids, %d bytes in %d packages, all encrypted" % (count, len(whole), total))
