#!/usr/bin/env bash
# 0x8105 commands 1 and 2 through the CLI: the vectors are what their generator builds
# from the standard's table, binary fields holding 0x3B decode by type, a port sent as
# text is a deviation (--strict fails on it), and bad JSON names the field.
. "$(dirname "$0")/lib.sh"
VEC="$ROOT/vectors/jt808-control.json"

python3 "$ROOT/tests/data/gen_jt808_control.py" >"$TMP/gen.json"
if cmp -s "$TMP/gen.json" "$VEC"; then ok "vectors/jt808-control.json is what gen_jt808_control.py builds"
else nok "vectors/jt808-control.json is what gen_jt808_control.py builds" "$(diff "$TMP/gen.json" "$VEC" | head -5)"; fi
"$FLEETSIM" vectors -q "$VEC" >"$TMP/v.txt" 2>&1; rc=$?
if [ $rc -eq 0 ] && grep -q "12 passed, 0 failed" "$TMP/v.txt"; then ok "fleetsim vectors passes the 12 control vectors"
else nok "fleetsim vectors passes the 12 control vectors" "$(tail -5 "$TMP/v.txt")"; fi

# command 2: TCP port 0x3B00 and UDP port 0x1F3B, each with a ';' byte
j='{"msg_id":"0x8105","version":"2013","phone":"13912345678","body":{"command":2,"connection":0,"auth_code":"A","apn":"","user":"","password":"","host":"h","tcp_port":15104,"udp_port":7995,"time_limit":59}}'
hex=$("$FLEETSIM" encode jt808 "$j")
case "$hex" in *3B3B003B1F3B3B003B*) ok "encode writes the ports and time limit as binary WORDs";;
               *) nok "encode writes the ports and time limit as binary WORDs" "$hex";; esac
"$FLEETSIM" decode --compact jt808 "$hex" >"$TMP/d.json" 2>&1
contains "decode walks the fields by type" '"host":"h","tcp_port":15104,"udp_port":7995,"time_limit":59}' "$TMP/d.json"

# the port as the text "7999": decodes with a deviation, --strict refuses it
hex=$(python3 -c 'import json,sys; print(next(v["hex"] for v in json.load(open(sys.argv[1]))["vectors"] if "7999" in v["name"]))' "$VEC")
expect_exit "a port sent as text decodes (exit 0)" 0 "$FLEETSIM" decode jt808 "$hex"
contains "... reporting the deviation" "param-length at byte" "$TMP/out"
contains "... keeping the bytes" '"tcp_port_hex":	"37393939"' "$TMP/out"
expect_exit "--strict refuses it (exit 1)" 1 "$FLEETSIM" decode --strict jt808 "$hex"

# bad JSON names the field
"$FLEETSIM" encode jt808 '{"msg_id":"0x8105","phone":"1","body":{"command":1,"url":"a","host":"h"}}' >"$TMP/e.txt" 2>&1
contains "a field left out in the middle is refused by name" "body.apn: missing" "$TMP/e.txt"
"$FLEETSIM" encode jt808 '{"msg_id":"0x8105","phone":"1","body":{"command":2,"connection":0,"auth_code":"a;b"}}' >"$TMP/e.txt" 2>&1
contains "a ';' in a STRING is refused" "body.auth_code: ';' separates the fields" "$TMP/e.txt"
