#!/usr/bin/env bash
# JT/T 808 RSA against the embedded gateway: a fleet with "rsa": "after-exchange" and
# a platform with "rsa": "encrypt" and the test key; a bodiless 0x8A00 step sends the
# gateway's key, the terminals answer 0x0A00 with theirs, then their location reports
# go encrypted and are decrypted, stored and acknowledged, and a 0x8201 goes to them
# encrypted and is answered (encrypted).  A fleet given another key in its 0x8A00 body
# sends bodies the gateway cannot read: counted, answered "bad message".  A fleet left
# "off" answers 0x0A00 and never encrypts.  Long messages go encrypted package by
# package, both ways, from fleetsim's terminals and from an independent one, and so
# does a single body too long for one frame encrypted, each way.
. "$(dirname "$0")/lib.sh"
KEY="$ROOT/tests/data/jt808-rsa-test-key.pem"

python3 - "$KEY" >"$TMP/r.json" <<'PY'
import json, sys
print(json.dumps({
    "name": "rsa", "duration": "14s",
    "platform": {"rsa": "encrypt", "rsa_key": sys.argv[1]},
    "fleets": [
        {"id": "enc", "protocol": "jt808", "version": 2019, "count": 3, "phone": "13800000000+",
         "rsa": "after-exchange", "report": {"every": "1s"}},
        {"id": "plain", "protocol": "jt808", "version": 2013, "count": 2, "phone": "13810000000+",
         "report": {"every": "1s"}}],
    "steps": [
        {"at": "2s", "command": {"fleet": "enc", "msg": "0x8A00"}},
        {"at": "2s", "command": {"fleet": "plain", "msg": "0x8A00"}},
        {"at": "7s", "command": {"fleet": "enc", "msg": "0x8201"}}],
    "expect": [
        {"id": "RSA-KEY-001", "fleet": "enc", "to": "0x8A00", "reply": "0x0A00", "within": "5s"},
        {"id": "RSA-KEY-002", "fleet": "plain", "to": "0x8A00", "reply": "0x0A00", "within": "5s"},
        {"id": "RSA-QUERY-001", "fleet": "enc", "to": "0x8201", "reply": "0x0201", "within": "5s"},
        {"id": "RSA-TERM-ENC-001", "counter": "terminal.rsa_encrypted", "fleet": "enc", "min": 15},
        {"id": "RSA-TERM-ENC-002", "counter": "terminal.rsa_encrypted", "fleet": "plain", "max": 0},
        {"id": "RSA-TERM-DEC-001", "counter": "terminal.rsa_decrypted", "fleet": "enc", "min": 3},
        {"id": "RSA-TERM-ERR-001", "counter": "terminal.rsa_errors", "max": 0},
        {"id": "RSA-GW-DEC-001", "counter": "gateway.rsa_decrypted", "min": 15},
        {"id": "RSA-GW-ENC-001", "counter": "gateway.rsa_encrypted", "min": 3},
        {"id": "RSA-GW-ERR-001", "counter": "gateway.rsa_errors", "max": 0},
        {"id": "RSA-GW-BAD-001", "counter": "gateway.bad_frame", "max": 0},
        {"id": "RSA-REPORTS-001", "counter": "terminal.reports_acked", "fleet": "enc", "min": 30},
        {"id": "RSA-LEDGER-001", "ledger": "balanced"}]}))
PY
n=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["expect"]))' "$TMP/r.json")
"$FLEETSIM" run "$TMP/r.json" -q --report "$TMP/rep" >"$TMP/out" 2>&1; rc=$?
cp "$TMP/out" "$TMP/run.out"
if [ $rc -eq 0 ] && grep -q "$n cases: $n pass" "$TMP/out"; then
    ok "keys exchanged, reports encrypted, decrypted and acknowledged, a request encrypted both ways ($n cases)"
else
    nok "keys exchanged, reports encrypted, decrypted and acknowledged, a request encrypted both ways" "exit $rc" \
        "$(grep -E "FAIL|ERROR|cases:|error" "$TMP/run.out" | head -20)"
fi

# the gateway's key is the one given: a 0x8A00 step body of another key makes the
# terminals encrypt for a key the gateway does not hold
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$TMP/other.pem" 2>/dev/null
python3 - "$KEY" "$TMP/other.pem" >"$TMP/w.json" <<'PY'
import json, re, subprocess, sys
mod = subprocess.run(["openssl", "rsa", "-in", sys.argv[2], "-noout", "-modulus"], capture_output=True,
                     text=True, check=True).stdout.strip().split("=", 1)[1]
print(json.dumps({
    "name": "rsa-wrong-key", "duration": "8s",
    "platform": {"rsa_key": sys.argv[1]},
    "fleets": [{"id": "enc", "protocol": "jt808", "version": 2013, "count": 2, "rsa": "after-exchange",
                "report": {"every": "1s"}}],
    "steps": [{"at": "2s", "command": {"fleet": "enc", "msg": "0x8A00", "body": {"e": 65537, "n": mod}}}],
    "expect": [
        {"id": "RSA-WRONG-001", "counter": "gateway.rsa_errors", "min": 4},
        {"id": "RSA-WRONG-002", "counter": "gateway.rsa_decrypted", "max": 0},
        {"id": "RSA-WRONG-003", "counter": "terminal.rsa_encrypted", "min": 4}]}))
PY
"$FLEETSIM" run "$TMP/w.json" -q --report "$TMP/rep2" >"$TMP/out" 2>&1; rc=$?
if grep -q "3 cases: 3 pass" "$TMP/out"; then
    ok "bodies encrypted for another key are counted as rsa_errors and none decrypts"
else
    nok "bodies encrypted for another key are counted as rsa_errors and none decrypts" "exit $rc" \
        "$(grep -E "FAIL|ERROR|cases:|error" "$TMP/out" | head -20)"
fi

# long messages both ways, encrypted package by package: the gateway's 0x8604 polygons
# of 120 vertices (968 bytes, over the 819 of one encrypted frame) go in 2 encrypted
# packages each and are applied; the terminals' 0x0608 answering 0x8608 (3 polygons,
# 2909 bytes) in 4 and their 0x0801 pictures in packages of 819 bytes, each encrypted
# on its own, are decrypted, reassembled and checked by the gateway; nothing goes in
# the clear.  A fleet deviating with mixed-encryption sends every other package in the
# clear: the gateway takes its messages and counts the deviation.
python3 - "$KEY" >"$TMP/p.json" <<'PY'
import json, sys
def poly(i, v19):
    p = {"id": i, "attr": 0, "vertices": [{"lat": 22500000 + i * 10000 + (k % 2) * 1000,
                                           "lon": 114000000 + k * 100} for k in range(120)]}
    if v19:
        p["name"] = "poly%d" % i
    return p
steps = [{"at": "2s", "command": {"fleet": f, "msg": "0x8A00"}} for f in ("enc", "mix")]
for f in ("enc", "mix"):
    steps += [{"at": "%.1fs" % (3 + i * 0.3), "command": {"fleet": f, "msg": "0x8604", "body": poly(i, True)}}
              for i in range(3)]
    steps += [{"at": "5s", "command": {"fleet": f, "msg": "0x8608", "body": {"type": 3, "ids": []}}},
              {"at": "6s", "command": {"fleet": f, "msg": "0x8801",
                                       "body": {"channel": 1, "command": 1, "interval": 0, "save": 0,
                                                "resolution": 2, "quality": 5, "brightness": 128,
                                                "contrast": 64, "saturation": 64, "chroma": 128}}}]
print(json.dumps({
    "name": "rsa-packages", "duration": "12s",
    "platform": {"rsa": "encrypt", "rsa_key": sys.argv[1]},
    "fleets": [
        {"id": "enc", "protocol": "jt808", "version": 2019, "count": 2, "phone": "13820000000+",
         "rsa": "after-exchange", "report": None},
        {"id": "mix", "protocol": "jt808", "version": 2019, "count": 2, "phone": "13830000000+",
         "rsa": "after-exchange", "report": None,
         "deviate": {"kinds": ["mixed-encryption"], "share": 1}}],
    "steps": steps,
    "expect": [
        {"id": "RSA-PKG-SET-001", "fleet": "enc", "to": "0x8604", "reply": "0x0001", "within": "3s"},
        {"id": "RSA-PKG-QUERY-001", "fleet": "enc", "to": "0x8608", "reply": "0x0608", "within": "3s"},
        {"id": "RSA-PKG-QUERY-002", "fleet": "mix", "to": "0x8608", "reply": "0x0608", "within": "3s"},
        {"id": "RSA-PKG-MEDIA-001", "fleet": "enc", "to": "0x8801", "reply": "0x0805", "within": "3s"},
        {"id": "RSA-PKG-SETS-001", "counter": "terminal.area_sets", "min": 12, "max": 12},
        {"id": "RSA-PKG-TDEC-001", "counter": "terminal.rsa_decrypted", "fleet": "enc", "min": 12},
        {"id": "RSA-PKG-MEDIA-002", "counter": "gateway.media_received", "min": 4},
        {"id": "RSA-PKG-REASM-001", "counter": "gateway.reassembled", "min": 8},
        {"id": "RSA-PKG-MIXED-001", "counter": "gateway.dev_mixed_encryption", "min": 4},
        {"id": "RSA-PKG-MIXED-002", "counter": "terminal.dev_mixed_encryption", "fleet": "mix", "min": 4},
        {"id": "RSA-PKG-MIXED-003", "counter": "terminal.dev_mixed_encryption", "fleet": "enc", "max": 0},
        {"id": "RSA-PKG-CLEAR-001", "counter": "terminal.rsa_clear", "max": 0},
        {"id": "RSA-PKG-ERR-001", "counter": "gateway.rsa_errors", "max": 0},
        {"id": "RSA-PKG-ERR-002", "counter": "terminal.rsa_errors", "max": 0},
        {"id": "RSA-PKG-BAD-001", "counter": "gateway.bad_frame", "max": 0},
        {"id": "RSA-PKG-BAD-002", "counter": "gateway.reply_mismatch", "max": 0},
        {"id": "RSA-PKG-BAD-003", "counter": "gateway.reply_bad_body", "max": 0}]}))
PY
n=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["expect"]))' "$TMP/p.json")
"$FLEETSIM" run "$TMP/p.json" -q --report "$TMP/rep3" >"$TMP/out" 2>&1; rc=$?
if [ $rc -eq 0 ] && grep -q "$n cases: $n pass" "$TMP/out"; then
    ok "long messages both ways go encrypted package by package and read back; a mixed one is counted ($n cases)"
else
    nok "long messages both ways go encrypted package by package and read back; a mixed one is counted" \
        "exit $rc" "$(grep -E "FAIL|ERROR|cases:|error" "$TMP/out" | head -20)"
fi

# a long message from an independent terminal (tests/data/jt808_rsa_terminal.py, its
# own framing and RSA): a 0x0704 of 40 locations in 2 packages, each encrypted on its
# own for the gateway's key, is decrypted, reassembled and stored; read back with
# sqlite3.  One with its second package in the clear is stored as well.
port=$(free_port)
"$FLEETSIM" serve --port "$port" --rsa on --rsa-key "$KEY" --db "$TMP/pk.db" >"$TMP/serve.log" 2>&1 &
spid=$!
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
check "an independent terminal's 0x0704 in 2 packages encrypted on their own: each answered result 0" \
    python3 tests/data/jt808_rsa_terminal.py "$port" "$KEY" 13900000808 40
check "... and one with its second package in the clear: answered result 0 too" \
    python3 tests/data/jt808_rsa_terminal.py "$port" "$KEY" 13900000809 40 mixed
kill -TERM $spid; wait $spid
q() { sqlite3 -batch -noheader "$TMP/pk.db" "$1" 2>&1; }
got=$(q "SELECT json_extract(data, '\$.speed') || ' ' || json_extract(data, '\$.lat') FROM reports
         WHERE protocol = 'jt808' AND device_id LIKE '%13900000808' AND service = 'location'")
if [ "$got" = "139 31230455" ]; then ok "sqlite3 reads its last location from the store, decrypted"
else nok "sqlite3 reads its last location from the store, decrypted" "got '$got', wanted '139 31230455'" "$(tail -5 "$TMP/serve.log")"; fi
got=$(q "SELECT json_extract(data, '\$.speed') FROM reports WHERE protocol = 'jt808' AND device_id LIKE '%13900000809'")
if [ "$got" = 139 ]; then ok "... and the mixed one's"; else nok "... and the mixed one's" "got '$got'"; fi

# a single body over 819 bytes, too long for one frame encrypted, goes in packages each
# encrypted on its own, both ways.  The gateway's own 0x8003 to an independent 2019
# terminal (tests/data/jt808_rsa_ask.py, with its own key in 0x0A00): asking for 500
# missing packages, 1004 bytes in 2 encrypted packages that it decrypts and checks.
port=$(free_port)
"$FLEETSIM" serve --port "$port" --rsa encrypt --rsa-key "$KEY" --reasm-timeout 1s --db "$TMP/ask.db" \
    >"$TMP/serve-ask.log" 2>&1 &
spid=$!
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
if timeout 30 python3 tests/data/jt808_rsa_ask.py "$port" "$KEY" 13900000810 >"$TMP/ask.out" 2>&1 &&
    grep -q "^0x8003 500 ids, 1004 bytes in 2 packages, all encrypted$" "$TMP/ask.out"; then
    ok "the gateway's 0x8003 of 1004 bytes goes in 2 packages encrypted for the terminal's key and decrypts to its 500 ids"
else
    nok "the gateway's 0x8003 of 1004 bytes goes in 2 packages encrypted for the terminal's key" \
        "$(tail -3 "$TMP/ask.out")" "$(tail -3 "$TMP/serve-ask.log")"
fi
kill -TERM $spid; wait $spid
# ... and the terminals' own: a fleetsim terminal's blind-area backfill after the key
# exchange (0x0704 of 17 or 18 locations, over 819 bytes) to an independent platform
# (tests/data/jt808_rsa_platform.py) that leaves its reports unanswered on its first
# connection and sends 0x8A00 on its second: every package encrypted, decrypted by the
# platform with its own RSA, every location read back.
port=$(free_port)
python3 tests/data/jt808_rsa_platform.py "$port" "$KEY" >"$TMP/plat.out" 2>&1 &
ppid=$!
for _ in $(seq 50); do grep -q up "$TMP/plat.out" 2>/dev/null && break; sleep 0.1; done
cat >"$TMP/b.json" <<'JSON'
{"name": "rsa-backfill", "duration": "8s",
 "fleets": [{"id": "enc", "protocol": "jt808", "version": 2013, "count": 1, "phone": "13840000000+",
             "rsa": "after-exchange", "reconnect": {"min": "1s", "max": "1s"},
             "report": {"every": "100ms", "location": "fixed", "lat": 31.23, "lon": 121.47}}],
 "expect": [{"id": "RSA-LONG-UP-001", "counter": "terminal.rsa_encrypted", "min": 2},
            {"id": "RSA-LONG-UP-002", "counter": "terminal.rsa_clear", "max": 0},
            {"id": "RSA-LONG-UP-003", "counter": "terminal.rsa_errors", "max": 0}]}
JSON
"$FLEETSIM" run "$TMP/b.json" --target "tcp://127.0.0.1:$port" -q >"$TMP/out" 2>&1; rc=$?
kill $ppid; wait $ppid 2>/dev/null
if [ $rc -eq 0 ] && grep -q "3 cases: 3 pass" "$TMP/out" && ! grep -q FAIL "$TMP/plat.out" &&
    grep -qE "^0x0704 1[78] locations, [0-9]+ bytes in 2 packages, all encrypted$" "$TMP/plat.out"; then
    ok "a terminal's 0x0704 over 819 bytes goes in 2 packages encrypted for the platform's key and reads back whole"
else
    nok "a terminal's 0x0704 over 819 bytes goes in 2 packages encrypted for the platform's key" "exit $rc" \
        "$(cat "$TMP/plat.out")" "$(grep -E "FAIL|ERROR|cases:|error" "$TMP/out" | head -5)"
fi

# scenario errors name the field
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); s["fleets"][0]["rsa"]="always"; print(json.dumps(s))' \
    "$TMP/r.json" >"$TMP/bad.json"
expect_exit "an unknown fleet rsa mode is refused when the scenario is read" 2 "$FLEETSIM" run --dry-run "$TMP/bad.json"
contains "... naming the field" "fleets[0].rsa" "$TMP/out"
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); s["platform"]["rsa"]="off"; print(json.dumps(s))' \
    "$TMP/r.json" >"$TMP/bad2.json"
expect_exit "a key with platform.rsa off is refused" 2 "$FLEETSIM" run --dry-run "$TMP/bad2.json"
contains "... naming platform.rsa_key" "platform.rsa_key" "$TMP/out"
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); s["platform"]["rsa_key"]="no-such-key.pem"; print(json.dumps(s))' \
    "$TMP/r.json" >"$TMP/bad3.json"
expect_exit "a key file that is not there is an input error" 2 "$FLEETSIM" run --dry-run "$TMP/bad3.json"
contains "... naming platform.rsa_key and the file" "platform.rsa_key: cannot read $TMP/no-such-key.pem" "$TMP/out"
cp "$ROOT/Makefile" "$TMP/not-a-key.pem"
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); s["platform"]["rsa_key"]="not-a-key.pem"; print(json.dumps(s))' \
    "$TMP/r.json" >"$TMP/bad4.json"
expect_exit "a key file that is not a PEM key is an input error too" 2 "$FLEETSIM" run --dry-run "$TMP/bad4.json"
contains "... naming platform.rsa_key" "platform.rsa_key: $TMP/not-a-key.pem: not a PEM private key" "$TMP/out"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$TMP/big.pem" 2>/dev/null
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); s["platform"]["rsa_key"]="big.pem"; print(json.dumps(s))' \
    "$TMP/r.json" >"$TMP/bad5.json"
expect_exit "a 2048-bit key is refused before the run" 2 "$FLEETSIM" run --dry-run "$TMP/bad5.json"
contains "... saying JT/T 808 uses 1024 bits" "a 2048-bit key; JT/T 808 uses 1024-bit RSA keys" "$TMP/out"

# serve: the same options, refused before anything starts
expect_exit "serve --rsa with an unknown mode is a usage error" 2 "$FLEETSIM" serve --rsa sometimes --db "$TMP/s.db"
contains "... naming the option" "--rsa: 'sometimes' is not on, encrypt or off" "$TMP/out"
expect_exit "serve --rsa-key with a file that is not a key exits 2" 2 "$FLEETSIM" serve --rsa-key "$TMP/not-a-key.pem" --db "$TMP/s.db"
contains "... naming it" "--rsa-key $TMP/not-a-key.pem: not a PEM private key" "$TMP/out"
expect_exit "serve --rsa off with a key exits 2" 2 "$FLEETSIM" serve --rsa off --rsa-key "$KEY" --db "$TMP/s.db"
contains "... saying to leave one out" "with rsa off: leave one of them out" "$TMP/out"
