#!/usr/bin/env python3
"""A JT/T 808-2019 terminal that sends a long message encrypted, for
tests/e2e/57-rsa.sh.  Written from the standard's layouts, not with fleetsim's codec,
and doing its RSA itself (PKCS#1 v1.5, RFC 8017 §7.2.1, with Python integers; n and e
from `openssl rsa` of the key file, as tests/data/gen_jt808_rsa.py does).

It registers (0x0100), authenticates (0x0102), then sends a 0x0704 batch of COUNT
locations (type 0, the i-th with speed 100 + i) as a subpackaged message, each
package's piece of the body (at most 819 bytes, 7 blocks of 117) encrypted on its own
for the platform's key: properties bit 10 (RSA) and bit 13 (subpackaged), package
total and index after the serial.  With "mixed" every other package goes in the clear.
Prints one line per 0x8001 answer to the packages ("ack SERIAL RESULT") and exits 0
when every package was answered result 0.

usage: jt808_rsa_terminal.py PORT KEY.pem PHONE COUNT [mixed]"""
import os
import random
import re
import socket
import struct
import subprocess
import sys

PORT, KEY, PHONE, COUNT = int(sys.argv[1]), sys.argv[2], sys.argv[3].rjust(20, "0"), int(sys.argv[4])
MIXED = sys.argv[5:] == ["mixed"]
BLOCK, PIECE = 117, 7 * 117


def public_key():
    mod = subprocess.run(["openssl", "rsa", "-in", KEY, "-noout", "-modulus"], check=True,
                         capture_output=True, text=True).stdout
    text = subprocess.run(["openssl", "rsa", "-in", KEY, "-noout", "-text"], check=True,
                          capture_output=True, text=True).stdout
    return int(mod.strip().split("=", 1)[1], 16), int(re.search(r"publicExponent: (\d+)", text).group(1))


N, E = public_key()
RNG = random.Random(os.getpid())


def encrypt(body):
    out = b""
    for i in range(0, len(body), BLOCK):
        m = body[i:i + BLOCK]
        ps = bytes(RNG.randrange(1, 256) for _ in range(128 - 3 - len(m)))
        out += pow(int.from_bytes(b"\x00\x02" + ps + b"\x00" + m, "big"), E, N).to_bytes(128, "big")
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

    def send(self, msg_id, body, enc=0, sub=None):
        props = (1 << 14) | len(body) | (enc << 10) | (0x2000 if sub else 0)
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
        while True:
            a = self.buf.find(b"\x7e")
            e = self.buf.find(b"\x7e", a + 1) if a >= 0 else -1
            if e > a + 1:
                raw = unescape(self.buf[a + 1:e])
                self.buf = self.buf[e + 1:]
                msg_id, props = struct.unpack(">HH", raw[:4])
                if props & (7 << 10):
                    sys.exit("0x%04X came encrypted: this terminal sent no key" % msg_id)
                hl = 17 if props & (1 << 14) else 12
                return msg_id, raw[hl:-1]
            if e == a + 1:
                self.buf = self.buf[e:]
                continue
            data = self.s.recv(4096)
            if not data:
                sys.exit("the platform closed the connection")
            self.buf += data


def location(i):
    return struct.pack(">IIIIHHH", 0, 3, 31230416 + i, 121473701, 12, 100 + i, 90) + bcd("260315083000")


d = Dev(socket.create_connection(("127.0.0.1", PORT), timeout=10))
reg = struct.pack(">HH", 44, 300) + b"MF0042".ljust(11, b"\0") + b"RSA-T".ljust(30, b"\0") + \
    PHONE[-7:].encode().ljust(30, b"\0") + b"\x01" + ("粤B" + PHONE[-5:]).encode("gbk")
d.send(0x0100, reg)
msg_id, body = d.frame()
if msg_id != 0x8100 or body[2] != 0:
    sys.exit("registration: 0x%04X %s" % (msg_id, body.hex()))
code = body[3:]
d.send(0x0102, bytes([len(code)]) + code + b"860000000000808" + b"1.0".ljust(20, b"\0"))
msg_id, body = d.frame()
if msg_id != 0x8001 or body[4] != 0:
    sys.exit("authentication: 0x%04X %s" % (msg_id, body.hex()))

batch = struct.pack(">HB", COUNT, 0) + b"".join(struct.pack(">H", 28) + location(i) for i in range(COUNT))
pieces = [batch[i:i + PIECE] for i in range(0, len(batch), PIECE)]
first = d.serial
for k, p in enumerate(pieces):
    enc = 0 if MIXED and k % 2 else 1
    d.send(0x0704, encrypt(p) if enc else p, enc, (len(pieces), k + 1))
bad = 0
for k in range(len(pieces)):
    msg_id, body = d.frame()
    serial, ack_id, result = struct.unpack(">HHB", body[:5])
    print("ack %d %d" % (serial, result))
    bad += msg_id != 0x8001 or ack_id != 0x0704 or serial != first + k or result != 0
print("%d packages, %d locations" % (len(pieces), COUNT))
sys.exit(1 if bad else 0)
