#!/usr/bin/env bash
# fleetsim decode on frames that deviate the way field devices do: the decode is
# printed with each deviation (kind, byte offset, field), exit 0; --strict exits 1;
# real errors (bad check, bad escape elsewhere, truncated header) exit 1 either way.
. "$(dirname "$0")/lib.sh"
# One frame per kind, from vectors/jt808-deviations.json (tests/data/gen_jt808_deviations.py).
while read -r kind off field hex; do
    "$FLEETSIM" decode -c jt808 "$hex" >"$TMP/json" 2>"$TMP/err"; rc=$?
    if [ $rc -eq 0 ] && grep -qF "deviation: $kind at byte $off ($field)" "$TMP/err" &&
        grep -qF "\"kind\":\"$kind\",\"offset\":$off" "$TMP/json"; then
        ok "$kind: decoded, printed at byte $off ($field), exit 0"
    else
        nok "$kind: decoded, printed at byte $off ($field), exit 0" "exit $rc" "$(cat "$TMP/err")" "$(cat "$TMP/json")"
    fi
    "$FLEETSIM" decode --strict jt808 "$hex" >"$TMP/json" 2>"$TMP/err"; rc=$?
    if [ $rc -eq 1 ] && grep -qF "error: deviation at byte $off" "$TMP/err"; then
        ok "$kind: --strict exits 1 naming byte $off"
    else
        nok "$kind: --strict exits 1 naming byte $off" "exit $rc" "$(cat "$TMP/err")"
    fi
done <<'FRAMES'
item-length 42 body.items[0x01] 7E020000210139123456780001000000000000000301DC89D0073D8AA5000C025D005A2403150830000103000001807E
param-length 18 body.params[0x0001] 7E810300080139123456780001010000000102001EA77E
count-overrun 13 body.count 7E8103000A01391234567800010300000029040000001E897E
count-overrun 13 body.count 7E070400210139123456780001000200001C000000000000000301DC89D0073D8AA5000C025D005A2403150830009C7E
trailing-bytes 18 body 7E8001000601391234567800010007020000FF4C7E
item-truncated 42 body.items.data 7E020000200139123456780001000000000000000301DC89D0073D8AA5000C025D005A240315083000E105AAAA667E
unescaped-check 18 check 7E000100050139123456780001000100024B7D7E
FRAMES
# a frame without deviations: nothing printed on stderr, --strict exits 0
"$FLEETSIM" decode --strict jt808 7E000200000139123456780001337E >"$TMP/json" 2>"$TMP/err"; rc=$?
if [ $rc -eq 0 ] && [ ! -s "$TMP/err" ] && ! grep -q deviations "$TMP/json"; then
    ok "a conforming frame: no deviations, --strict exits 0"
else
    nok "a conforming frame: no deviations, --strict exits 0" "exit $rc" "$(cat "$TMP/err")"
fi
# real errors stay errors
"$FLEETSIM" decode jt808 7E000200000139123456780001327E >/dev/null 2>"$TMP/err"; rc=$?
[ $rc -eq 1 ] && grep -qF "error: check at byte 13" "$TMP/err" && ok "bad check: exit 1" || nok "bad check: exit 1" "exit $rc" "$(cat "$TMP/err")"
"$FLEETSIM" decode jt808 7E000200000139123456787D0300017E >/dev/null 2>"$TMP/err"; rc=$?
[ $rc -eq 1 ] && grep -qF "error: escape at byte 11" "$TMP/err" && ok "bad escape inside the frame: exit 1" || nok "bad escape inside the frame: exit 1" "exit $rc" "$(cat "$TMP/err")"
"$FLEETSIM" decode jt808 7E000100050139123456780001000100024C7D7E >/dev/null 2>"$TMP/err"; rc=$?
[ $rc -eq 1 ] && grep -qF "error: check at byte 18" "$TMP/err" && ok "a lone 0x7D that is not the check: exit 1" || nok "a lone 0x7D that is not the check: exit 1" "exit $rc" "$(cat "$TMP/err")"
"$FLEETSIM" decode jt808 7E00020000013912287E >/dev/null 2>"$TMP/err"; rc=$?
[ $rc -eq 1 ] && grep -qF "error: short" "$TMP/err" && ok "truncated header: exit 1" || nok "truncated header: exit 1" "exit $rc" "$(cat "$TMP/err")"
# the vectors command runs the deviation vectors
"$FLEETSIM" vectors vectors/jt808-deviations.json >"$TMP/out" 2>&1; rc=$?
[ $rc -eq 0 ] && grep -q "7 vectors in 1 file: 7 passed" "$TMP/out" && ok "fleetsim vectors checks the deviation vectors" || nok "fleetsim vectors checks the deviation vectors" "exit $rc" "$(tail -5 "$TMP/out")"
