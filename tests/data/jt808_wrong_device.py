#!/usr/bin/env python3
"""A deliberately wrong JT/T 808-2019 terminal for `fleetsim conform --terminal`
(tests/e2e/63-conform-terminal.sh).  Written from the standard's layouts, not
with fleetsim's codec: 2019 header (id, properties with the version bit 14,
protocol version, BCD[10] phone, serial), XOR check byte, 0x7E framing with
7D 02 / 7D 01 escaping.  It registers, authenticates and answers 0x8201 (0x0201)
and 0x8300 (0x0001) as it should, but answers 0x8107 with the 2013 width of the
manufacturer field (BYTE[5] instead of 2019's BYTE[11]) and never answers 0x8801.

usage: jt808_wrong_device.py PORT SECONDS"""
import socket
import struct
import sys
import time

PHONE = "00000000013912340063"


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

    def send(self, msg_id, body):
        self.serial = (self.serial + 1) & 0xFFFF
        props = (1 << 14) | len(body)
        raw = struct.pack(">HHB", msg_id, props, 1) + bcd(PHONE) + struct.pack(">H", self.serial) + body
        cs = 0
        for x in raw:
            cs ^= x
        self.s.sendall(b"\x7e" + escape(raw + bytes([cs])) + b"\x7e")

    def frames(self):
        while True:
            data = self.s.recv(4096)
            if not data:
                return
            self.buf += data
            while True:
                a = self.buf.find(b"\x7e")
                if a < 0:
                    self.buf = b""
                    break
                e = self.buf.find(b"\x7e", a + 1)
                if e < 0:
                    self.buf = self.buf[a:]
                    break
                raw = unescape(self.buf[a + 1:e])
                self.buf = self.buf[e + 1:]
                if len(raw) < 2:
                    continue
                cs = 0
                for x in raw[:-1]:
                    cs ^= x
                if cs != raw[-1]:
                    continue  # a bad check byte: ignored, as the standard allows
                msg_id, props = struct.unpack(">HH", raw[:4])
                hl = 17 if props & (1 << 14) else 12
                serial = struct.unpack(">H", raw[hl - 2:hl])[0]
                yield msg_id, serial, raw[hl:-1]


def location():
    return struct.pack(">IIIIHHH", 0, 3, 31230416, 121473701, 12, 605, 90) + bcd(time.strftime("%y%m%d%H%M%S"))


def ack(d, serial, msg_id, result=0):
    d.send(0x0001, struct.pack(">HHB", serial, msg_id, result))


def session(sock):
    d = Dev(sock)
    reg = (struct.pack(">HH", 31, 115) + b"FLTSMWRONG1" + b"FS-WRONG".ljust(30, b"\0") +
           b"TWRONG63".ljust(30, b"\0") + b"\x01" + b"WRONG63".ljust(7, b"\0"))
    d.send(0x0100, reg)
    for msg_id, serial, body in d.frames():
        if msg_id == 0x8100 and len(body) >= 3 and body[2] == 0:
            code = body[3:]
            d.send(0x0102, bytes([len(code)]) + code + b"861234567890063" + b"WRONG-1.0".ljust(20, b"\0"))
        elif msg_id == 0x8201:
            d.send(0x0201, struct.pack(">H", serial) + location())
        elif msg_id == 0x8300:
            ack(d, serial, msg_id)
        elif msg_id == 0x8107:
            # wrong: the manufacturer is BYTE[5] (2013) in a 2019 frame, where it is BYTE[11]
            d.send(0x0107, struct.pack(">H", 6) + b"FLTSM" + b"FS-WRONG".ljust(30, b"\0") +
                   b"TWRONG63".ljust(30, b"\0") + bcd("89860012345678900063") +
                   b"\x05HW1.0" + b"\x05FW1.0" + b"\x03\x01")
        elif msg_id == 0x8801:
            pass  # wrong: no 0x0805
        elif msg_id in (0x8001,):
            pass
        else:
            ack(d, serial, msg_id, 3)  # not supported


def main():
    port, seconds = int(sys.argv[1]), float(sys.argv[2])
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=2)
        except OSError:
            time.sleep(0.2)
            continue
        s.settimeout(max(1.0, end - time.monotonic()))
        try:
            session(s)
        except OSError:
            pass
        s.close()
        time.sleep(0.2)


if __name__ == "__main__":
    main()
