#!/usr/bin/env python3
"""Bodies for the subpackaging cases of scenarios/conformance/jt808/35-subpackage.json,
built from the JT/T 808-2013 layouts (not by fleetsim): the location basic
information (alarm DWORD, status DWORD, lat DWORD, lon DWORD, altitude WORD, speed
WORD, direction WORD, time BCD[6]); 0x0704 batch upload (count WORD, type BYTE, then
per location its length WORD and the location); 0x0801 multimedia data upload
(media id DWORD, type, format, event, channel BYTE each, the location, the data);
and for scenarios/conformance/jt808-terminal/95-upgrade.json the 0x8108 terminal
upgrade package of each edition (type BYTE, manufacturer BYTE[5] in 2013 and
BYTE[11] in 2019, version length BYTE, version STRING, package length DWORD, the
package), split so that only the first package differs between the editions.
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

PACKAGE = bytes(range(0x60, 0xA0))  # 64 bytes of upgrade; 0x7D and 0x7E (escaped on the wire) in package 2

def upgrade(manufacturer_width):
    manufacturer = b"FLTSM" if manufacturer_width == 5 else b"FLEETSIM001"
    assert len(manufacturer) == manufacturer_width
    version = b"FS-2.0.1"
    return (struct.pack(">B", 0) + manufacturer + struct.pack(">B", len(version)) + version
            + struct.pack(">I", len(PACKAGE)) + PACKAGE)

up13, up19 = upgrade(5), upgrade(11)
head13, head19 = len(up13) - len(PACKAGE), len(up19) - len(PACKAGE)
assert b"\x7d\x7e" in PACKAGE[11:41]

for name, body, sizes in (("0x0704", batch(), (30, 33)), ("0x0801", media(), (20, 20, 9)),
                          ("0x8108-2013", up13, (head13 + 11, 30, 23)), ("0x8108-2019", up19, (head19 + 11, 30, 23))):
    print(name, "whole", body.hex().upper())
    for i, p in enumerate(split(body, sizes), 1):
        print(name, "package %d/%d" % (i, len(sizes)), p.hex().upper())
