#!/usr/bin/env python3
"""Bodies for the subpackaging cases of scenarios/conformance/jt808/35-subpackage.json,
built from the JT/T 808-2013 layouts (not by fleetsim): the location basic
information (alarm DWORD, status DWORD, lat DWORD, lon DWORD, altitude WORD, speed
WORD, direction WORD, time BCD[6]); 0x0704 batch upload (count WORD, type BYTE, then
per location its length WORD and the location); 0x0801 multimedia data upload
(media id DWORD, type, format, event, channel BYTE each, the location, the data).
Prints each message's whole body and its packages in hex."""
import struct

def loc(speed, time):
    return struct.pack(">IIIIHHH", 0, 3, 31230416, 121473701, 12, speed, 90) + bytes.fromhex(time)

def batch():
    a, b = loc(590, "240315082950"), loc(605, "240315083000")
    return struct.pack(">HB", 2, 0) + struct.pack(">H", len(a)) + a + struct.pack(">H", len(b)) + b

def media():
    return struct.pack(">IBBBB", 1001, 0, 0, 1, 1) + loc(456, "260315081530") + bytes.fromhex("FFD8FFE000104A46494600FFD9")

def split(body, sizes):
    out, at = [], 0
    for n in sizes:
        out.append(body[at:at + n]); at += n
    assert at == len(body) and all(out)
    return out

for name, body, sizes in (("0x0704", batch(), (30, 33)), ("0x0801", media(), (20, 20, 9))):
    print(name, "whole", body.hex().upper())
    for i, p in enumerate(split(body, sizes), 1):
        print(name, "package %d/%d" % (i, len(sizes)), p.hex().upper())
