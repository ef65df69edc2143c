#!/usr/bin/env bash
# decode and encode conventions: --compact / --pretty, the hex forms accepted,
# where errors point, and encode's default JT/T 808 edition.
. "$(dirname "$0")/lib.sh"

HB=7E000200000139123456780013217E   # 0x0002 heartbeat, 2013
"$FLEETSIM" decode jt808 "$HB" >"$TMP/plain.json" 2>&1

# --compact: exactly one line; --pretty (the default): several
"$FLEETSIM" decode --compact jt808 "$HB" >"$TMP/c.json" 2>&1; rc=$?
lines=$(wc -l <"$TMP/c.json")
if [ $rc -eq 0 ] && [ "$lines" -eq 1 ] && grep -q '^{"msg_id":"0x0002",' "$TMP/c.json"; then
    ok "decode --compact prints one line"
else
    nok "decode --compact prints one line" "exit $rc, $lines lines" "$(head -3 "$TMP/c.json")"
fi
"$FLEETSIM" decode --pretty jt808 "$HB" >"$TMP/p.json" 2>&1; rc=$?
lines=$(wc -l <"$TMP/p.json")
if [ $rc -eq 0 ] && [ "$lines" -gt 3 ] && cmp -s "$TMP/p.json" "$TMP/plain.json"; then
    ok "decode --pretty prints several lines, as the default does"
else
    nok "decode --pretty prints several lines, as the default does" "exit $rc, $lines lines"
fi
"$FLEETSIM" decode --pretty --compact jt808 "$HB" >"$TMP/pc.json" 2>&1
if [ "$(wc -l <"$TMP/pc.json")" -eq 1 ]; then ok "the last of --pretty and --compact wins"; else nok "the last of --pretty and --compact wins"; fi
contains "decode --help says which output is the default" "--pretty" <("$FLEETSIM" decode --help)
contains "... and that it is the default" "(the default)" <("$FLEETSIM" decode --help)

# other ways of typing the same frame decode alike
same() {
    local name=$1; shift
    "$FLEETSIM" decode jt808 "$@" >"$TMP/s.json" 2>&1; local rc=$?
    if [ $rc -eq 0 ] && cmp -s "$TMP/s.json" "$TMP/plain.json"; then ok "$name"; else nok "$name" "exit $rc" "$(head -3 "$TMP/s.json")"; fi
}
same "0x prefix decodes like plain hex" 0x7E000200000139123456780013217E
same "0X prefix, lower case" 0X7e000200000139123456780013217e
same "colons between bytes" 7E:00:02:00:00:01:39:12:34:56:78:00:13:21:7E
same "dashes between bytes" 7e-00-02-00-00-01-39-12-34-56-78-00-13-21-7e
same "spaces between bytes" "7E 00 02 00 00 01 39 12 34 56 78 00 13 21 7E"
same "a mix across arguments, each with its 0x" 0x7E0002 00:00:01 39-12-34 "0x56 0x78" 0x0013:21-7E
same "standard input with colons" - < <(echo 7E:00:02:00:00:01:39:12:34:56:78:00:13:21:7E)

# a bad character: its position (the column, from 1) in what was typed, and the character
expect_exit "a bad character exits 2" 2 "$FLEETSIM" decode jt808 7E:00:0G
contains "... naming the character and its column" "bad hex character 'G' at position 8" "$TMP/out"
expect_exit "a bad character in the second argument exits 2" 2 "$FLEETSIM" decode jt808 0x7E0002 00:0G:01
contains "... naming the argument and the column in it" "bad hex character 'G' at position 5 of argument 2" "$TMP/out"
expect_exit "a separator inside a byte exits 2" 2 "$FLEETSIM" decode jt808 7E:0:002
contains "... naming its column" "bad hex character ':' at position 5" "$TMP/out"
expect_exit "an unpaired digit exits 2" 2 "$FLEETSIM" decode jt808 7E0002:0
contains "... naming its column" "the digit at position 8 has no partner" "$TMP/out"
printf '7E0002\n00000139G2\n' >"$TMP/in.hex"
expect_exit "bad hex on standard input exits 2" 2 "$FLEETSIM" decode jt808 - <"$TMP/in.hex"
contains "... naming its line and column" "'G' at line 2, position 9" "$TMP/out"
# a malformed frame keeps "byte N" from 0 in the decoded frame
expect_exit "a malformed frame exits 1" 1 "$FLEETSIM" decode jt808 7E:00:02:00:00:01:39:12:34:56:78:00:13:22:7E
contains "... naming its byte from 0" "error: check at byte 13" "$TMP/out"
contains "decode --help states both conventions" "counted from 1" <("$FLEETSIM" decode --help)
contains "... the frame's from 0" "counted from 0" <("$FLEETSIM" decode --help)

# encode without "version" gives the scenarios' default edition (2019: version
# flag 0x4000 in the message properties, bytes 3 and 4 of the frame, after 7E and the id)
def=$(sed -n 's/^ *f->version = \(20[0-9][0-9]\);/\1/p' harness/scenario_jt808.c | head -1)
props_of() { echo $((0x${1:6:4})); }
hex=$("$FLEETSIM" encode jt808 '{"msg_id":"0x0002","phone":"013912345678","serial":19,"body":{}}' 2>&1); rc=$?
if [ $rc -ne 0 ] || [ -z "$def" ]; then
    nok "encode without version" "exit $rc: $hex; scenario default '$def'"
else
    flag=$(( $(props_of "$hex") & 0x4000 ))
    if { [ "$def" = 2019 ] && [ $flag -ne 0 ]; } || { [ "$def" != 2019 ] && [ $flag -eq 0 ]; }; then
        ok "encode without version gives the scenarios' default edition ($def)"
    else
        nok "encode without version gives the scenarios' default edition ($def)" "$hex"
    fi
    "$FLEETSIM" decode --compact jt808 "$hex" >"$TMP/e.json" 2>&1
    contains "... and decodes as that edition" "\"version\":\"$def\"" "$TMP/e.json"
fi
hex=$("$FLEETSIM" encode jt808 '{"msg_id":"0x0002","version":"2013","phone":"013912345678","serial":19,"body":{}}')
if [ "$hex" = "$HB" ]; then ok "encode with version 2013 still gives a 2013 frame"; else nok "encode with version 2013 still gives a 2013 frame" "$hex"; fi
contains "encode --help names the default edition" "defaults to \"$def\"" <("$FLEETSIM" encode --help)
