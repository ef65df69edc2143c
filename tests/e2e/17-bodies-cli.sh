#!/usr/bin/env bash
# The layout bodies through the CLI: golden frames decode to their fields, fields
# encode to the golden frames, in both editions, and bad input says where.
. "$(dirname "$0")/lib.sh"
VEC="$(dirname "$0")/../../vectors/jt808-bodies.json"

# decode -> encode gives the same frame back, for a few ids of each shape
for name in "0x8003 resend subpackage request (2019)" "0x0107 query terminal properties response (2013)" \
            "0x0107 query terminal properties response (2019)" "0x8606 set route (2019)" \
            "0x0500 vehicle control response (2013)" "0x0901 data compression report (2013) gzip"; do
    hex=$(python3 -c 'import json,sys; print(next(v["hex"] for v in json.load(open(sys.argv[1]))["vectors"] if v["name"]==sys.argv[2]))' "$VEC" "$name")
    "$FLEETSIM" decode --compact jt808 "$hex" >"$TMP/d.json" 2>&1; rc=$?
    back=$("$FLEETSIM" encode jt808 @"$TMP/d.json" 2>&1)
    if [ $rc -eq 0 ] && [ "$back" = "$hex" ]; then ok "$name: decode then encode gives the frame back"
    else nok "$name: decode then encode gives the frame back" "exit $rc" "$back" "$(head -c 300 "$TMP/d.json")"; fi
done

# 0x0107 of each edition: 5- vs 11-byte manufacturer
j13='{"msg_id":"0x0107","version":"2013","phone":"1","body":{"type":1,"manufacturer":"ACME","model":"M","terminal_id":"T","iccid":"1","hw_version":"h","fw_version":"f","gnss":1,"comm":1}}'
j19=${j13/\"2013\"/\"2019\"}
h13=$("$FLEETSIM" encode jt808 "$j13"); h19=$("$FLEETSIM" encode jt808 "$j19")
# body lengths: 2+5+20+7+10+2+2+2 = 50 (0x32), 2+11+30+30+10+2+2+2 = 89 (0x59)
if [ "${h13:6:4}" = "0032" ] && [ "${h19:6:4}" = "4059" ]; then ok "0x0107: the 2013 body is 50 bytes, the 2019 one 89"
else nok "0x0107: the 2013 body is 50 bytes, the 2019 one 89" "$h13" "$h19"; fi
"$FLEETSIM" decode --compact jt808 "$h19" >"$TMP/d19.json" 2>&1
contains "0x0107 (2019) decodes its manufacturer" '"manufacturer":"ACME"' "$TMP/d19.json"

# the builder computes counts and lengths
hex=$("$FLEETSIM" encode jt808 '{"msg_id":"0x8800","version":"2013","phone":"1","serial":3,"body":{"media_id":7,"ids":[{"id":1},{"id":2}]}}')
"$FLEETSIM" decode --compact jt808 "$hex" >"$TMP/d.json" 2>&1
contains "0x8800: the retransmission count is computed" '"count":2,"ids":[{"id":1},{"id":2}]' "$TMP/d.json"

# a truncated body: error with field and offset
expect_exit "a truncated 0x8202 body fails to decode" 1 "$FLEETSIM" decode jt808 7E820200040139123456780001000A0000BF7E
contains "... naming the field" "body.duration" "$TMP/out"
# bytes after the last field: kept, and a deviation
hex=$("$FLEETSIM" encode jt808 '{"msg_id":"0x8202","version":"2013","phone":"1","body":{"interval":10,"duration":60,"trailing_hex":"EEFF"}}')
"$FLEETSIM" decode jt808 "$hex" >"$TMP/t.json" 2>&1
contains "trailing bytes are kept" '"trailing_hex":	"EEFF"' "$TMP/t.json"
# bad JSON: the path
"$FLEETSIM" encode jt808 '{"msg_id":"0x8600","phone":"1","body":{"attr":0,"areas":[{"id":1,"attr":0,"lat":1,"lon":2,"radius":"x"}]}}' >"$TMP/e.txt" 2>&1
contains "encode names the bad field by path" "body.areas[0].radius: expected an integer" "$TMP/e.txt"
"$FLEETSIM" vectors -q "$VEC" >"$TMP/v.txt" 2>&1; rc=$?
if [ $rc -eq 0 ] && grep -q " 0 failed" "$TMP/v.txt"; then ok "fleetsim vectors passes vectors/jt808-bodies.json"; else nok "fleetsim vectors passes vectors/jt808-bodies.json" "$(tail -5 "$TMP/v.txt")"; fi
