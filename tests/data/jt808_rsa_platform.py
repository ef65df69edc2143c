#!/usr/bin/env python3
"""A JT/T 808-2013 platform that reads a long body encrypted package by package, for
tests/e2e/57-rsa.sh.  Written from the standard's layouts, not with fleetsim's codec,
and doing its RSA itself (PKCS#1 v1.5, RFC 8017 §7.2.2, with Python integers; n, e
and d from `openssl rsa -text` of the key file).

One terminal: its first connection registers (0x8100 result 0) and authenticates
(0x8001), then its location reports go unanswered and the connection is closed after
CLOSE_AFTER seconds, so that they wait in its blind-area buffer.  On its second
connection the platform sends its key (0x8A00) before answering the authentication;
the terminal's backfill then comes as a 0x0704 over 819 bytes, too long for one frame
encrypted: in packages each encrypted on its own for the platform's key.  Every
package is answered 0x8001, decrypted and reassembled; the 0x0704 is checked field by
field (type 1, the count of the locations it holds, each item length as its
location's, latitudes and longitudes near the scenario's) and summed up on one line:
"0x0704 LOCATIONS locations, BYTES bytes in PACKAGES packages, all encrypted".  It
serves on until killed (at most 60 s); exits 1 with what went wrong.

usage: jt808_rsa_platform.py PORT KEY.pem   (prints "up" once listening)"""
import re
import socket
import struct
import subprocess
import sys
import threading

PORT, KEY = int(sys.argv[1]), sys.argv[2]
CLOSE_AFTER = 2.5


def key_numbers():
    text = subprocess.run(["openssl", "rsa", "-in", KEY, "-noout", "-text"], check=True,
                          capture_output=True, text=True).stdout

    def field(name):
        m = re.search(name + r":\s*\n((?:\s+[0-9a-f:]+\n)+)", text)
        return int(re.sub(r"[\s:]", "", m.group(1)), 16)
    return field("modulus"), int(re.search(r"publicExponent: (\d+)", text).group(1)), field("privateExponent")


N, E, D = key_numbers()


def fail(why):
    print("FAIL " + why, flush=True)
    sys.stdout.flush()
    import os
    os._exit(1)


def decrypt(body):
    if len(body) % 128:
        fail("an encrypted body of %d bytes, not blocks of 128" % len(body))
    out = b""
    for i in range(0, len(body), 128):
        m = pow(int.from_bytes(body[i:i + 128], "big"), D, N).to_bytes(128, "big")
        if m[:2] != b"\x00\x02" or b"\x00" not in m[2:]:
            fail("block %d does not decrypt (PKCS#1 v1.5 padding)" % (i // 128))
        out += m[m.index(b"\x00", 2) + 1:]
    return out


def escape(b):
    return b.replace(b"\x7d", b"\x7d\x01").replace(b"\x7e", b"\x7d\x02")


def unescape(b):
    return b.replace(b"\x7d\x02", b"\x7e").replace(b"\x7d\x01", b"\x7d")


class Conn:
    serial = 0

    def __init__(self, sock):
        self.s = sock
        self.buf = b""

    def send(self, msg_id, phone, body):
        raw = struct.pack(">HH", msg_id, len(body)) + phone + struct.pack(">H", Conn.serial) + body
        Conn.serial = (Conn.serial + 1) & 0xFFFF
        cs = 0
        for x in raw:
            cs ^= x
        self.s.sendall(b"\x7e" + escape(raw + bytes([cs])) + b"\x7e")

    def frames(self):
        while True:
            a = self.buf.find(b"\x7e")
            e = self.buf.find(b"\x7e", a + 1) if a >= 0 else -1
            if e == a + 1:
                self.buf = self.buf[e:]
                continue
            if e > a + 1:
                raw = unescape(self.buf[a + 1:e])
                self.buf = self.buf[e + 1:]
                cs = 0
                for x in raw[:-1]:
                    cs ^= x
                if cs != raw[-1]:
                    fail("a frame with a bad check byte")
                yield raw[:-1]
                continue
            try:
                data = self.s.recv(4096)
            except OSError:
                return
            if not data:
                return
            self.buf += data


def check_batch(body, packages):
    count, kind = struct.unpack(">HB", body[:3])
    if kind != 1:
        fail("0x0704 type %d, not 1 (blind-area backfill)" % kind)
    o, n = 3, 0
    while o < len(body):
        (ln,) = struct.unpack(">H", body[o:o + 2])
        loc = body[o + 2:o + 2 + ln]
        if len(loc) != ln or ln < 28:
            fail("location %d: length %d, %d bytes left" % (n, ln, len(loc)))
        lat, lon = struct.unpack(">II", loc[8:16])
        if abs(lat - 31230000) > 20000 or abs(lon - 121470000) > 20000:
            fail("location %d at %d,%d: not near the fleet's 31.23,121.47" % (n, lat, lon))
        o += 2 + ln
        n += 1
    if n != count:
        fail("0x0704 counts %d locations and holds %d" % (count, n))
    print("0x0704 %d locations, %d bytes in %d packages, all encrypted" % (n, len(body), packages), flush=True)


def serve(c, index):
    pieces, encs = {}, {}
    for raw in c.frames():
        msg_id, props = struct.unpack(">HH", raw[:4])
        phone, serial = raw[4:10], struct.unpack(">H", raw[10:12])[0]
        sub = props & 0x2000
        hl = 16 if sub else 12
        body = raw[hl:]
        if len(body) != props & 0x3FF:
            fail("0x%04X: body of %d bytes, its properties say %d" % (msg_id, len(body), props & 0x3FF))
        enc = props >> 10 & 7
        if enc:
            body = decrypt(body)
        ack = struct.pack(">HHB", serial, msg_id, 0)
        if msg_id == 0x0100:
            c.send(0x8100, phone, struct.pack(">HB", serial, 0) + b"RSAPLAT")
        elif msg_id == 0x0102:
            if index == 2:
                c.send(0x8A00, phone, struct.pack(">I", E) + N.to_bytes(128, "big"))
            c.send(0x8001, phone, ack)
            if index == 1:
                threading.Timer(CLOSE_AFTER, lambda: c.s.shutdown(socket.SHUT_RDWR)).start()
        elif sub:
            total, k = struct.unpack(">HH", raw[12:16])
            c.send(0x8001, phone, ack)
            pieces[k], encs[k] = body, enc
            if len(pieces) == total:
                if msg_id != 0x0704:
                    fail("a subpackaged 0x%04X, not the 0x0704 backfill" % msg_id)
                if not all(encs.values()):
                    fail("packages %s in the clear" % [k for k in encs if not encs[k]])
                check_batch(b"".join(pieces[i] for i in range(1, total + 1)), total)
                pieces, encs = {}, {}
        elif msg_id == 0x0704:
            if index == 2:
                fail("a 0x0704 of %d bytes in one frame after the key exchange (encryption %d)" % (len(body), enc))
            c.send(0x8001, phone, ack)
        elif msg_id == 0x0200 and index == 1:
            pass  # unanswered: it waits in the blind-area buffer
        elif msg_id != 0x0A00:
            c.send(0x8001, phone, ack)


def main():
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", PORT))
    ls.listen(4)
    print("up", flush=True)
    threading.Timer(60, lambda: __import__("os")._exit(0)).start()
    index = 0
    while True:
        s, _ = ls.accept()
        index += 1
        threading.Thread(target=serve, args=(Conn(s), index), daemon=True).start()


main()
