#!/usr/bin/env bash
# `fleetsim verifier` (seed 000's third-party verification endpoint) against curl,
# an HTTP client we did not write: each mode's answer to the seed's register, auth
# and unregister bodies, and the request log a test reads to see what was sent.
. "$(dirname "$0")/lib.sh"
REG='{"manufacturer":"mf0001","deviceModel":"dm0001","deviceId":"di0042","licensePlateColour":"1","licensePlateNumber":"ZhejiangA12345","phone":"13800000042","action":"register"}'
AUTH='{"phone":"13800000042","authCode":"AC13800000042","protocol":"TCP","action":"auth"}'
UNREG='{"phone":"13800000042","manufacturer":"mf0001","deviceModel":"dm0001","deviceId":"di0042","action":"unregister"}'
VPID=
start() { # start MODE: a verifier in that mode; sets URL
    rm -f "$TMP/log.jsonl" "$TMP/v.out"
    "$FLEETSIM" verifier --mode "$1" --log "$TMP/log.jsonl" >"$TMP/v.out" 2>&1 &
    VPID=$!
    for _ in $(seq 50); do grep -q '^listening on' "$TMP/v.out" && break; sleep 0.1; done
    URL="http://$(sed -n 's/^listening on //p' "$TMP/v.out")/verify"
}
finish() { kill "$VPID" 2>/dev/null; wait "$VPID" 2>/dev/null; VPID=; }
trap '[ "$BASHPID" = "$$" ] || exit; [ -n "$VPID" ] && kill "$VPID" 2>/dev/null; rm -rf "$TMP"' EXIT
post() { curl -sS -m 5 -o "$TMP/ans" -w '%{http_code}' -H 'Content-Type: application/json' -d "$1" "$URL"; }
same() { if [ "$2" = "$3" ]; then ok "$1"; else nok "$1" "got:  $2" "want: $3"; fi; }

start true
same "true: register answers 200" "$(post "$REG")" 200
same "true: register returns an authCode" "$(cat "$TMP/ans")" '{"result":"true","message":"","authCode":"AC13800000042"}'
post "$AUTH" >/dev/null
same "true: auth names the device the phone registered" "$(cat "$TMP/ans")" \
    '{"result":"true","message":"","manufacturer":"mf0001","deviceModel":"dm0001","deviceId":"di0042"}'
post "$UNREG" >/dev/null
same "true: unregister accepted" "$(cat "$TMP/ans")" '{"result":"true","message":""}'
same "the log has one line per request" "$(wc -l <"$TMP/log.jsonl")" 3
contains "the log keeps the register body as sent" "\"body\":$REG" "$TMP/log.jsonl"
contains "the log keeps the auth body as sent" "\"body\":$AUTH" "$TMP/log.jsonl"
same "GET is refused 405" "$(curl -sS -o /dev/null -w '%{http_code}' "$URL")" 405
same "a body that is not JSON is refused 400" "$(post 'not json')" 400
finish

for code in 1 2 3 4; do
    start "false:$code"
    post "$REG" >/dev/null
    same "false:$code: register refused with message $code" "$(cat "$TMP/ans")" "{\"result\":\"false\",\"message\":\"$code\"}"
    finish
done

start slow:1500
t0=$(date +%s%N)
code=$(curl -sS -m 0.5 -o /dev/null -w '%{http_code}' -d "$AUTH" "$URL" 2>/dev/null); rc=$?
t1=$(date +%s%N)
same "slow:1500: a client with a 0.5 s timeout gives up (curl exit 28)" "$rc" 28
ms=$(( (t1 - t0) / 1000000 ))
if [ "$ms" -lt 1400 ]; then ok "slow: the client gave up before the answer (${ms} ms)"; else nok "slow: gave up after ${ms} ms"; fi
t0=$(date +%s%N); post "$AUTH" >/dev/null; t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
if [ "$ms" -ge 1400 ]; then ok "slow:1500: the answer comes after ${ms} ms"; else nok "slow: answered after ${ms} ms"; fi
finish

start garbage
same "garbage: answers 200" "$(post "$REG")" 200
contains "garbage: the body is not JSON" "<html>" "$TMP/ans"
finish

start http:503
same "http:503: answers 503" "$(post "$REG")" 503
finish

expect_exit "a bad mode is a usage error" 2 "$FLEETSIM" verifier --mode false:5
contains "the error names the modes" "is not true, false:1-4" "$TMP/out"
expect_exit "a bad listen address is a usage error" 2 "$FLEETSIM" verifier --listen nowhere
