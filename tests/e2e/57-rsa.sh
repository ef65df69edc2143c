#!/usr/bin/env bash
# JT/T 808 RSA against the embedded gateway: a fleet with "rsa": "after-exchange" and
# a platform with "rsa": "encrypt" and the test key; a bodiless 0x8A00 step sends the
# gateway's key, the terminals answer 0x0A00 with theirs, then their location reports
# go encrypted and are decrypted, stored and acknowledged, and a 0x8201 goes to them
# encrypted and is answered (encrypted).  A fleet given another key in its 0x8A00 body
# sends bodies the gateway cannot read: counted, answered "bad message".  A fleet left
# "off" answers 0x0A00 and never encrypts.
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
