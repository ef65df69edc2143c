#!/usr/bin/env bash
# JT/T 808 RSA bodies through the CLI, against OpenSSL's own RSA: a body fleetsim
# encrypts (`encode --key`) decrypts with `openssl pkeyutl -decrypt` block by block to
# the plain body, and a body openssl encrypts (`pkeyutl -encrypt`) decodes with
# `decode --key`.  The vectors are what their generator builds (and openssl decrypts
# every block of them); without a key an encrypted body is shown raw with a note.
. "$(dirname "$0")/lib.sh"
KEY="$ROOT/tests/data/jt808-rsa-test-key.pem"
VEC="$ROOT/vectors/jt808-rsa.json"

python3 "$ROOT/tests/data/gen_jt808_rsa.py" >"$TMP/gen.json"
if cmp -s "$TMP/gen.json" "$VEC"; then ok "vectors/jt808-rsa.json is what gen_jt808_rsa.py builds"
else nok "vectors/jt808-rsa.json is what gen_jt808_rsa.py builds" "$(diff "$TMP/gen.json" "$VEC" | head -5)"; fi
check "openssl pkeyutl decrypts every block of the vectors to its plaintext" \
    python3 "$ROOT/tests/data/gen_jt808_rsa.py" --check
"$FLEETSIM" vectors -q "$VEC" >"$TMP/v.txt" 2>&1; rc=$?
# 15 entries, and a row for the two encrypted packages reassembled into their message
if [ $rc -eq 0 ] && grep -q "16 vectors in 1 file: 16 passed, 0 failed" "$TMP/v.txt"; then
    ok "fleetsim vectors passes the 16 RSA vectors (the encrypted packages reassembled among them)"
else nok "fleetsim vectors passes the 16 RSA vectors (the encrypted packages reassembled among them)" "$(tail -5 "$TMP/v.txt")"; fi

# fleetsim encrypts, openssl decrypts: a 0x0900 of 1 + 250 bytes (three blocks)
data=$(python3 -c 'print(bytes((i * 29 + 3) & 0xFF for i in range(250)).hex().upper())')
plain='{"msg_id":"0x0900","version":"2013","phone":"13912345678","serial":7,"body":{"type":65,"data":"'$data'"}}'
enc='{"msg_id":"0x0900","version":"2013","phone":"13912345678","serial":7,"encryption":1,"decrypted":true,"body":{"type":65,"data":"'$data'"}}'
plain_hex=$("$FLEETSIM" encode jt808 "$plain")
enc_hex=$("$FLEETSIM" encode --key "$KEY" jt808 "$enc")
enc_hex2=$("$FLEETSIM" encode --key "$KEY" jt808 "$enc")
if [ -n "$enc_hex" ] && [ "$enc_hex" != "$enc_hex2" ]; then ok "encode --key encrypts with random padding (two runs differ)"
else nok "encode --key encrypts with random padding (two runs differ)" "$enc_hex"; fi
# the frames' bodies (unescaped, after a 12-byte 2013 header, before the check byte)
body_of() { python3 -c '
import sys
w = bytes.fromhex(sys.argv[1])[1:-1]
r, i = bytearray(), 0
while i < len(w):
    if w[i] == 0x7D: r.append(0x7D if w[i + 1] == 1 else 0x7E); i += 2
    else: r.append(w[i]); i += 1
sys.stdout.buffer.write(bytes(r[12:-1]))' "$1"; }
body_of "$plain_hex" >"$TMP/plain.bin"
body_of "$enc_hex" >"$TMP/enc.bin"
props=$(python3 -c 'import sys; w = bytes.fromhex(sys.argv[1]); print("%04X" % (w[3] << 8 | w[4]))' "$enc_hex")
if [ "$props" = "0580" ]; then ok "the encrypted frame sets bit 10 and a body length of 3 x 128 (properties 0x0580)"
else nok "the encrypted frame sets bit 10 and a body length of 3 x 128 (properties 0x0580)" "$props"; fi
: >"$TMP/dec.bin"
for i in 0 1 2; do
    dd if="$TMP/enc.bin" of="$TMP/blk" bs=128 skip=$i count=1 status=none
    openssl pkeyutl -decrypt -inkey "$KEY" -pkeyopt rsa_padding_mode:pkcs1 -in "$TMP/blk" >>"$TMP/dec.bin" 2>"$TMP/ossl.err"
done
if cmp -s "$TMP/dec.bin" "$TMP/plain.bin"; then ok "openssl pkeyutl -decrypt gives back the plain body, block by block"
else nok "openssl pkeyutl -decrypt gives back the plain body, block by block" "$(cat "$TMP/ossl.err")" \
    "$(od -An -tx1 "$TMP/dec.bin" | head -3)"; fi

# openssl encrypts, fleetsim decrypts: the plain body cut in 117-byte blocks
openssl pkey -in "$KEY" -pubout -out "$TMP/pub.pem" 2>/dev/null
split -b 117 -d "$TMP/plain.bin" "$TMP/part."
: >"$TMP/oenc.bin"
for p in "$TMP"/part.*; do
    openssl pkeyutl -encrypt -pubin -inkey "$TMP/pub.pem" -pkeyopt rsa_padding_mode:pkcs1 -in "$p" >>"$TMP/oenc.bin"
done
frame=$(python3 -c '
import struct, sys
body = open(sys.argv[1], "rb").read()
raw = struct.pack(">HH", 0x0900, 0x0400 | len(body)) + bytes.fromhex("013912345678") + struct.pack(">H", 7) + body
c = 0
for x in raw: c ^= x
raw += bytes([c])
out = bytearray()
for x in raw: out += {0x7E: b"\x7d\x02", 0x7D: b"\x7d\x01"}.get(x, bytes([x]))
print("7E" + out.hex().upper() + "7E")' "$TMP/oenc.bin")
"$FLEETSIM" decode -c --key "$KEY" jt808 "$frame" >"$TMP/d.json" 2>"$TMP/d.err"
contains "decode --key reads a body openssl encrypted" '"encryption":1,"decrypted":true,"body":{"type":65,"data":"'$data'"}' "$TMP/d.json"

# without the key: raw, a note, exit 0; a wrong key or a cut block: exit 1 naming the byte
expect_exit "an encrypted body without --key decodes (exit 0)" 0 "$FLEETSIM" decode -c jt808 "$frame"
contains "... shown as body_hex" '"encryption":1,"body_hex":"' "$TMP/out"
contains "... with a note" "note: the body is RSA-encrypted (encryption 1)" "$TMP/out"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$TMP/other.pem" 2>/dev/null
expect_exit "another 1024-bit key does not decrypt it (exit 1)" 1 "$FLEETSIM" decode --key "$TMP/other.pem" jt808 "$frame"
contains "... the error names the first block's byte" "error: decrypt at byte 13 (body.rsa_block)" "$TMP/out"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$TMP/big.pem" 2>/dev/null
expect_exit "a 2048-bit key is refused (exit 2)" 2 "$FLEETSIM" decode --key "$TMP/big.pem" jt808 "$frame"
contains "... saying so" "a 2048-bit key; JT/T 808 uses 1024-bit RSA keys" "$TMP/out"
expect_exit "a missing key file is a usage error (exit 2)" 2 "$FLEETSIM" decode --key "$TMP/none.pem" jt808 "$frame"
expect_exit "encode of a decrypted body without --key is refused (exit 2)" 2 "$FLEETSIM" encode jt808 "$enc"
contains "... saying a key is needed" "a key is needed to encrypt it" "$TMP/out"
