#!/usr/bin/env python3
"""Seeds for tests/fuzz/fuzz_jt808_term.c: a few platform conversations in its input
format (byte 0 the set-up, then steps; see the target's comment).  Bodies follow the
layouts of JT/T 808-2013/2019 as sim/proto/jt808_layouts.c describes them.
Run from the repository root: python3 tests/data/fuzz_jt808_term/gen.py"""
import os
import struct

IDS = [0x8001, 0x8003, 0x8004, 0x8100, 0x8103, 0x8104, 0x8105, 0x8106, 0x8107, 0x8108, 0x8201, 0x8202,
       0x8203, 0x8204, 0x8300, 0x8301, 0x8302, 0x8303, 0x8304, 0x8400, 0x8401, 0x8500, 0x8600, 0x8601,
       0x8602, 0x8603, 0x8604, 0x8605, 0x8606, 0x8607, 0x8608, 0x8700, 0x8701, 0x8702, 0x8800, 0x8801,
       0x8802, 0x8803, 0x8804, 0x8805, 0x8900, 0x8A00]


def whole(msg, body):
    return bytes([0, IDS.index(msg)]) + struct.pack(">H", len(body)) + body


def part(msg, key, total, index, body):
    return bytes([1, IDS.index(msg), key]) + struct.pack(">HHH", total, index, len(body)) + body


def wait(k):  # k*k*2 ms + 1 s
    return bytes([3, k])


def ack(result=0):
    return bytes([4, result])


DROP = bytes([5])


def kind(k, at=0, x=0):  # fleetsim's default body of jt808_kinds[k], byte at XOR x
    return bytes([6, k, at, x])


def about_upload(kind, ids=()):  # 0: 0x8800 done, 1: 0x8800 listing ids, 2: 0x8003 listing ids
    return bytes([7, kind, len(ids)]) + bytes(ids)
# 0x8801: channel, command W, interval W, save, resolution, quality, brightness, contrast, saturation, chroma
SHOOT = struct.pack(">BHHBBBBBBB", 1, 2, 0, 0, 2, 5, 128, 64, 64, 128)
seeds = {
    "shots-2013": bytes([0]) + whole(0x8801, SHOOT) + wait(5) + ack() + wait(5) + ack()
    + whole(0x8800, struct.pack(">IBH", 1, 1, 2)) + whole(0x8003, struct.pack(">HBH", 4, 1, 1))
    + whole(0x8800, struct.pack(">IB", 1, 0)) + wait(5) + ack() + wait(40),
    "shots-2019": bytes([1]) + whole(0x8801, SHOOT) + wait(5) + ack() + wait(5)
    + whole(0x8003, struct.pack(">HHHH", 4, 2, 1, 3)) + DROP + wait(60) + wait(5) + ack(),
    "time-2019": bytes([3]) + whole(0x8004, bytes.fromhex("250101120000")) + wait(1) + ack(),
    "resend-2019": bytes([1]) + part(0x8300, 1, 3, 1, b"\x01\x01" + b"x" * 400)
    + part(0x8300, 1, 3, 3, b"y" * 300) + wait(50) + part(0x8300, 1, 3, 2, b"z" * 400) + wait(200),
    "tracking-2013": bytes([4]) + whole(0x8202, struct.pack(">HI", 2, 9)) + wait(60) + ack()
    + whole(0x8103, bytes.fromhex("02" "00000001" "04" "0000000A" "00000029" "04" "00000005")) + wait(60)
    + whole(0x8106, bytes.fromhex("02" "00000001" "00000029")) + whole(0x8201, b""),
    "stored-2013": bytes([0]) + whole(0x8801, struct.pack(">BHHBBBBBBB", 3, 3, 1, 1, 1, 5, 1, 1, 1, 1))
    + wait(60) + whole(0x8802, bytes([0, 0, 0]) + bytes(12)) + whole(0x8805, struct.pack(">IB", 2, 1))
    + wait(3) + ack() + whole(0x8803, bytes([0, 3, 0]) + bytes(12) + b"\x00") + wait(10)
    + whole(0x8804, struct.pack(">BHBB", 1, 3, 0, 0)) + wait(60),
}
KINDS = 39  # JT808_N_KINDS
for v, setup in (("2013", 0), ("2019", 1)):
    seeds["kinds-" + v] = bytes([setup]) + b"".join(kind(k) + wait(2) + ack() for k in range(KINDS))
    seeds["upload-" + v] = bytes([setup]) + whole(0x8801, SHOOT) + wait(2) + ack() + wait(3) \
        + about_upload(1, (2, 1, 2)) + about_upload(2, (3, 3, 30)) + about_upload(0) + wait(3) + ack() \
        + wait(3) + about_upload(0) + wait(5)
here = os.path.dirname(os.path.abspath(__file__))
for name, data in seeds.items():
    with open(os.path.join(here, name + ".bin"), "wb") as f:
        f.write(data)
