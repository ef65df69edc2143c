#!/usr/bin/env python3
"""Builds vectors/jt808-rsa.json: JT/T 808 frames whose body is RSA-encrypted (message
body properties bit 10, JT/T 808-2013 §4.4.3 / 2019 §4.4.3 table 2), with the test key
tests/data/jt808-rsa-test-key.pem (1024 bits, made once with openssl; a TEST key).

JT/T 808 encrypts a body with the receiver's RSA public key: the body is cut into
117-byte blocks, each encrypted with PKCS#1 v1.5 padding (RFC 8017 §7.2.1:
EM = 00 02 PS 00 M, PS nonzero, at least 8 bytes; c = EM^e mod n) to 128 bytes.  This
script does that arithmetic itself, with Python integers and a seeded generator for PS
so that the file comes out the same on every run; n and e come from `openssl rsa
-modulus` / `-text` of the key.  `--check` also decrypts every block with `openssl
pkeyutl -decrypt -pkeyopt rsa_padding_mode:pkcs1`, an independent implementation.
The bodies are built from the standard's layouts (0x0200 location, 0x0900
passthrough, 0x0A00 public key), the frame around them per §4.4 (header, XOR check,
0x7E/0x7D escaping).  A subpackaged message is encrypted package by package, each
package's piece of the body (at most 819 bytes) on its own.  Nothing is taken from
fleetsim.

    python3 tests/data/gen_jt808_rsa.py > vectors/jt808-rsa.json
    python3 tests/data/gen_jt808_rsa.py --check     # every block through openssl
"""
import json
import os
import random
import re
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
KEY = os.path.join(HERE, "jt808-rsa-test-key.pem")
PHONE13 = "013912345678"
PHONE19 = "00000000013912345678"
BLOCK = 117


def public_key():
    mod = subprocess.run(["openssl", "rsa", "-in", KEY, "-noout", "-modulus"], check=True,
                         capture_output=True, text=True).stdout
    text = subprocess.run(["openssl", "rsa", "-in", KEY, "-noout", "-text"], check=True,
                          capture_output=True, text=True).stdout
    n = int(mod.strip().split("=", 1)[1], 16)
    e = int(re.search(r"publicExponent: (\d+)", text).group(1))
    assert n.bit_length() == 1024
    return n, e


N, E = public_key()
RNG = random.Random(808)


def pkcs1_block(m):
    assert len(m) <= BLOCK
    ps = bytes(RNG.randrange(1, 256) for _ in range(128 - 3 - len(m)))
    em = b"\x00\x02" + ps + b"\x00" + m
    return pow(int.from_bytes(em, "big"), E, N).to_bytes(128, "big")


def encrypt(body):
    return b"".join(pkcs1_block(body[i:i + BLOCK]) for i in range(0, len(body), BLOCK))


def bcd(digits, n):
    digits = digits.rjust(2 * n, "0")
    return bytes(int(digits[i:i + 2], 16) for i in range(0, 2 * n, 2))


def frame(msg_id, body, ver, serial, enc=1, body_len=None, sub=None):
    """Wire hex and, per unescaped byte of header+body+check, its wire offset.  sub:
    (total, index) of a package of a subpackaged message (properties bit 13, then the
    package fields, total WORD and index WORD, after the serial)."""
    props = (len(body) if body_len is None else body_len) | (enc << 10) | (0x4000 if ver == 2019 else 0)
    if sub:
        props |= 0x2000
    head = struct.pack(">HH", msg_id, props)
    head += (b"\x01" + bcd(PHONE19, 10)) if ver == 2019 else bcd(PHONE13, 6)
    head += struct.pack(">H", serial)
    if sub:
        head += struct.pack(">HH", *sub)
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


def header_fields(msg_id, name, ver, serial, enc=1):
    f = {"msg_id": "0x%04X" % msg_id, "name": name, "version": str(ver)}
    if ver == 2019:
        f["proto_version"] = 1
    f.update({"phone": PHONE19 if ver == 2019 else PHONE13, "serial": serial, "encryption": enc})
    return f


def location(alarm, status, lat, lon, alt, speed, direction, time, items):
    b = struct.pack(">IIIIHHH", alarm, status, lat, lon, alt, speed, direction) + bcd(time, 6)
    js = []
    for (i, size, v) in items:
        b += struct.pack(">BB", i, size) + v.to_bytes(size, "big")
        js.append({"id": "0x%02X" % i, "len": size, "value": v})
    f = {"alarm": alarm, "status": status, "lat": lat, "lon": lon, "altitude": alt, "speed": speed,
         "direction": direction, "time": time, "items": js}
    return b, f


VECTORS = []
SRC = "JT/T 808-2013 §4.4.3 (body properties bit 10: RSA), 117-byte blocks, PKCS#1 v1.5 (RFC 8017 §7.2.1)"
BLOCKS = []  # (plaintext, ciphertext) of every block, for --check


def add_encrypted(name, msg_id, msg_name, ver, serial, body, body_fields, layout):
    c = encrypt(body)
    for i in range(0, len(body), BLOCK):
        BLOCKS.append((body[i:i + BLOCK], c[i // BLOCK * 128:i // BLOCK * 128 + 128]))
    hx, where, hlen = frame(msg_id, c, ver, serial)
    f = header_fields(msg_id, msg_name, ver, serial)
    f["decrypted"] = True
    f["body"] = body_fields
    VECTORS.append({"name": name + " (%d), decrypted with the key" % ver, "source": SRC + "; " + layout,
                    "hex": hx, "key": "test", "fields": f})
    raw = header_fields(msg_id, msg_name, ver, serial)
    raw["body_hex"] = c.hex().upper()
    VECTORS.append({"name": name + " (%d), no key: the body stays raw" % ver, "source": SRC + "; " + layout,
                    "hex": hx, "fields": raw})
    return c, where, hlen


# one block: a location with two additional items (28 + 6 + 3 bytes)
loc, loc_f = location(0, 3, 31230416, 121473701, 12, 605, 90, "240315083000", [(0x01, 4, 123456), (0x30, 1, 25)])
add_encrypted("0x0200 location, RSA-encrypted body of one block", 0x0200, "location report", 2013, 1201, loc,
              loc_f, "0x0200 alarm DW, status DW, lat DW, lon DW, altitude W, speed W, direction W, time BCD[6], items")

# two blocks, the second short: the terminal's own public key (e DW + n BYTE[128] = 132 bytes)
n_bytes = N.to_bytes(128, "big")
key_body = struct.pack(">I", E) + n_bytes
add_encrypted("0x0A00 terminal RSA public key, RSA-encrypted body of two blocks", 0x0A00, "terminal RSA public key",
              2019, 1202, key_body, {"e": E, "n": n_bytes.hex().upper()}, "0x0A00 e DWORD, n BYTE[128]")

# three blocks (117 + 117 + 7): a passthrough of 240 bytes
data = bytes((i * 37 + 11) & 0xFF for i in range(240))
pt_body = b"\x41" + data
c3, where3, hlen3 = add_encrypted("0x0900 passthrough, RSA-encrypted body of three blocks", 0x0900,
                                  "data uplink passthrough", 2013, 1203, pt_body,
                                  {"type": 0x41, "data": data.hex().upper()}, "0x0900 type BYTE, content")

# exactly 117 bytes: one full block (0x0900, type + 116 bytes)
data117 = bytes((i * 13 + 5) & 0xFF for i in range(116))
add_encrypted("0x0900 passthrough of exactly 117 bytes, one full block", 0x0900, "data uplink passthrough", 2019,
              1204, b"\x42" + data117, {"type": 0x42, "data": data117.hex().upper()}, "0x0900 type BYTE, content")

# errors: a damaged second block; a body that ends inside its first block
bad = bytearray(c3)
bad[128 + 40] ^= 0xFF
hx, where, hlen = frame(0x0900, bytes(bad), 2013, 1205)
VECTORS.append({"name": "0x0900 with its second RSA block damaged: decrypt error where the block starts",
                "source": SRC + "; the error names the wire offset of the block that does not decrypt",
                "hex": hx, "key": "test",
                "error": {"code": "decrypt", "offset": where[hlen + 128], "field": "body.rsa_block"}})
cut = c3[:127]
hx, where, hlen = frame(0x0900, cut, 2013, 1206)
VECTORS.append({"name": "0x0900 with an RSA body of 127 bytes: a block cut short",
                "source": SRC + "; a body that ends inside a 128-byte block cannot be decrypted",
                "hex": hx, "key": "test",
                "error": {"code": "decrypt", "offset": where[hlen], "field": "body.rsa_block"}})


# A subpackaged message, each package's body encrypted on its own (fleetsim's layout:
# README "RSA key exchange and encrypted bodies"): a 0x0900 passthrough of 1000 bytes
# cut into pieces of at most 819 bytes (7 blocks of 117, whose 896 bytes of ciphertext
# fit a package's 1023), each piece encrypted alone into the body of its package, whose
# properties carry bit 10 (RSA) and bit 13 (subpackaged) with that package's length.
# The packages reassemble (decrypted) into the whole message, given here in the clear.
PIECE = 7 * BLOCK
data1k = bytes((i * 29 + 3) & 0xFF for i in range(999))
long_body = b"\x43" + data1k
SRC_PKG = (SRC + "; JT/T 808-2019 §4.4.3 (bit 13: subpackaged; package total WORD, index WORD); "
           "each package's body encrypted on its own, pieces of at most 819 bytes")
whole_name = "0x0900 passthrough of 1000 bytes (2019) in the clear: the message its encrypted packages make"
hx, _, _ = frame(0x0900, long_body, 2019, 1300, enc=0)
wf = header_fields(0x0900, "data uplink passthrough", 2019, 1300, enc=0)
wf["body"] = {"type": 0x43, "data": data1k.hex().upper()}
VECTORS.append({"name": whole_name, "source": SRC_PKG + "; 0x0900 type BYTE, content", "hex": hx, "fields": wf})
pieces = [long_body[i:i + PIECE] for i in range(0, len(long_body), PIECE)]
assert [len(p) for p in pieces] == [819, 181]
pkg_cipher = []
for idx, piece in enumerate(pieces, 1):
    c = encrypt(piece)
    pkg_cipher.append(c)
    for i in range(0, len(piece), BLOCK):
        BLOCKS.append((piece[i:i + BLOCK], c[i // BLOCK * 128:i // BLOCK * 128 + 128]))
    serial = 1300 + idx - 1
    hx, where, hlen = frame(0x0900, c, 2019, serial, sub=(len(pieces), idx))
    f = header_fields(0x0900, "data uplink passthrough", 2019, serial)
    f["subpackage"] = {"total": len(pieces), "index": idx}
    f["decrypted"] = True
    f["body_hex"] = piece.hex().upper()
    VECTORS.append({"name": "0x0900 package %d of 2, its %d bytes RSA-encrypted on their own (%d blocks), "
                            "decrypted with the key" % (idx, len(piece), len(c) // 128),
                    "source": SRC_PKG, "hex": hx, "key": "test", "fragment_of": whole_name, "fields": f})
    if idx == 2:
        raw = header_fields(0x0900, "data uplink passthrough", 2019, serial)
        raw["subpackage"] = {"total": len(pieces), "index": idx}
        raw["body_hex"] = c.hex().upper()
        VECTORS.append({"name": "0x0900 package 2 of 2, RSA-encrypted, no key: the body stays raw",
                        "source": SRC_PKG, "hex": hx, "fields": raw})
# package 1 with its fourth block damaged: the error names the wire offset of that block
bad = bytearray(pkg_cipher[0])
bad[3 * 128 + 5] ^= 0x5A
hx, where, hlen = frame(0x0900, bytes(bad), 2019, 1300, sub=(2, 1))
VECTORS.append({"name": "0x0900 package 1 of 2 with its fourth RSA block damaged: decrypt error where the block starts",
                "source": SRC_PKG + "; a package decrypts alone, so the error is its own",
                "hex": hx, "key": "test",
                "error": {"code": "decrypt", "offset": where[hlen + 3 * 128], "field": "body.rsa_block"}})


def check():
    """Every block decrypted by openssl must give the plaintext it was made from."""
    bad = 0
    with tempfile.TemporaryDirectory() as d:
        for i, (plain, c) in enumerate(BLOCKS):
            p = os.path.join(d, "c")
            with open(p, "wb") as f:
                f.write(c)
            out = subprocess.run(["openssl", "pkeyutl", "-decrypt", "-inkey", KEY, "-pkeyopt",
                                  "rsa_padding_mode:pkcs1", "-in", p], capture_output=True).stdout
            if out != plain:
                bad += 1
                print("block %d: openssl decrypts %d bytes, not the %d made" % (i, len(out), len(plain)))
    print("%d blocks, %d decrypt as made" % (len(BLOCKS), len(BLOCKS) - bad))
    return bad == 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--check"]:
        sys.exit(0 if check() else 1)
    with open(KEY) as f:
        pem = f.read()
    pem = pem[pem.index("-----BEGIN "):]
    doc = {"protocol": "jt808",
           "source": "JT/T 808-2013/2019 RSA-encrypted bodies; built by tests/data/gen_jt808_rsa.py",
           "note": "key \"test\" is tests/data/jt808-rsa-test-key.pem, a published test key",
           "keys": {"test": pem},
           "vectors": VECTORS}
    json.dump(doc, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
