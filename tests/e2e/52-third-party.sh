#!/usr/bin/env bash
# Third-party verification (seed 000) from a scenario: the embedded gateway asks
# `fleetsim verifier` about each registration, authentication and unregistration.
# Both sides are checked: the bodies the verifier logged, and the terminals' and the
# gateway's outcome and counters.
. "$(dirname "$0")/lib.sh"
VPID=
start() { # start MODE: a verifier in that mode; sets URL
    rm -f "$TMP/log.jsonl" "$TMP/v.out"
    "$FLEETSIM" verifier --listen 127.0.0.1:0 --mode "$1" --log "$TMP/log.jsonl" >"$TMP/v.out" 2>&1 &
    VPID=$!
    for _ in $(seq 50); do grep -q '^listening on' "$TMP/v.out" && break; sleep 0.1; done
    URL="http://$(sed -n 's/^listening on //p' "$TMP/v.out")/verify"
}
finish() { kill "$VPID" 2>/dev/null; wait "$VPID" 2>/dev/null; VPID=; }
trap '[ "$BASHPID" = "$$" ] || exit; [ -n "$VPID" ] && kill "$VPID" 2>/dev/null; rm -rf "$TMP"' EXIT
same() { if [ "$2" = "$3" ]; then ok "$1"; else nok "$1" "got:  $2" "want: $3"; fi; }
scenario() { # scenario FILE EXPECT-JSON [STEPS-JSON]: three 2013 terminals against the verifier at URL
    cat >"$1" <<JSON
{"name": "third-party", "duration": "4s", "time_scale": 2,
 "platform": {"auth": "third-party", "verify": {"url": "$URL", "timeout": "1s"}},
 "fleets": [{"id": "a", "protocol": "jt808", "version": 2013, "count": 3, "report": {"every": "1s"},
             "reconnect": {"min": "20s", "max": "20s"}}],
 "steps": [${3:-}],
 "expect": [$2]}
JSON
}

# true: registered with the verifier's code, authenticated, online, named by the verifier
start true
scenario "$TMP/t.json" '{"id": "TP-AUTH-001", "fleet": "a", "state": "authenticated", "within": "2s"},
  {"id": "TP-UNREG-001", "fleet": "a", "state": "unregistered", "fraction": 0.3},
  {"id": "TP-GW-001", "counter": "gateway.authentications", "min": 3, "max": 3},
  {"id": "TP-GW-002", "counter": "gateway.verify_ok", "min": 7, "max": 7},
  {"id": "TP-GW-003", "counter": "gateway.unregistrations", "min": 1, "max": 1},
  {"id": "TP-LEDGER-001", "ledger": "balanced"}' \
  '{"at": "3s", "terminal": {"fleet": "a", "action": "unregister", "fraction": 0.34}}'
expect_exit "true: three terminals register, authenticate and one unregisters" 0 \
    "$FLEETSIM" run "$TMP/t.json" -q --db "$TMP/t.db"
contains "true: all six checks pass" "6 cases: 6 pass" "$TMP/out"
finish
same "true: the verifier was asked 3 registrations" "$(grep -c '"action":"register"' "$TMP/log.jsonl")" 3
contains "true: the register body is seed 000's Table 1" \
    '"body":{"manufacturer":"FSIM1","deviceModel":"FS-TERM","deviceId":"T000001","licensePlateColour":"1","licensePlateNumber":"SIM00001","phone":"013800000000","action":"register"}' \
    "$TMP/log.jsonl"
contains "true: the terminal authenticates with the code the verifier issued" \
    '"body":{"phone":"013800000000","authCode":"AC013800000000","protocol":"TCP","action":"auth"}' "$TMP/log.jsonl"
same "true: one unregistration asked, with the device triple" \
    "$(grep -c '"manufacturer":"FSIM1","deviceModel":"FS-TERM","deviceId":"T00000[0-9]","action":"unregister"' "$TMP/log.jsonl")" 1
same "true: the store names the devices manufacturer_model_id (the unregistered one gone)" \
    "$(sqlite3 "$TMP/t.db" "select name from devices order by name" | grep -c '^FSIM1_FS-TERM_T00000[123]$')" 2

# false:N: refused with 0x8100 result N, counted on both sides; nothing reaches the core
for code in 1 2 3 4; do
    start "false:$code"
    scenario "$TMP/f.json" "{\"id\": \"TP-F-001\", \"fleet\": \"a\", \"counter\": \"terminal.reg_refused\", \"min\": 3, \"max\": 3},
      {\"id\": \"TP-F-002\", \"counter\": \"gateway.reg_result_$code\", \"min\": 3, \"max\": 3},
      {\"id\": \"TP-F-003\", \"counter\": \"gateway.verify_refused\", \"min\": 3, \"max\": 3},
      {\"id\": \"TP-F-004\", \"counter\": \"gateway.authentications\", \"max\": 0},
      {\"id\": \"TP-F-005\", \"counter\": \"gateway.registrations\", \"max\": 0}"
    expect_exit "false:$code: registrations refused with result $code" 0 "$FLEETSIM" run "$TMP/f.json" -q --db "$TMP/f$code.db"
    contains "false:$code: all five checks pass" "5 cases: 5 pass" "$TMP/out"
    finish
    same "false:$code: the verifier saw the 3 registrations and nothing else" "$(grep -c '"action":"register"' "$TMP/log.jsonl"):$(wc -l <"$TMP/log.jsonl")" "3:3"
    same "false:$code: no device in the store" "$(sqlite3 "$TMP/f$code.db" 'select count(*) from devices')" 0
done

# slow beyond the timeout, and garbage: fail closed, counted by reason
for m in slow:2500:verify_timeout garbage:verify_malformed http:503:verify_http_error; do
    mode=${m%:*} counter=${m##*:}
    start "$mode"
    scenario "$TMP/s.json" "{\"id\": \"TP-S-001\", \"counter\": \"gateway.authentications\", \"max\": 0},
      {\"id\": \"TP-S-002\", \"counter\": \"gateway.$counter\", \"min\": 3, \"max\": 3},
      {\"id\": \"TP-S-003\", \"counter\": \"gateway.reg_refused\", \"min\": 3, \"max\": 3},
      {\"id\": \"TP-S-004\", \"counter\": \"gateway.verify_ok\", \"max\": 0}"
    expect_exit "$mode: fails closed" 0 "$FLEETSIM" run "$TMP/s.json" -q --db "$TMP/s.db"
    contains "$mode: all four checks pass ($counter)" "4 cases: 4 pass" "$TMP/out"
    finish
    same "$mode: the verifier was asked the 3 registrations" "$(grep -c '"action":"register"' "$TMP/log.jsonl")" 3
    rm -f "$TMP/s.db"
done

# a connection that closes while its request is out: the late answer finds nobody,
# and the terminal's next try (the verifier answering within the timeout) gets in
start slow:1200
cat >"$TMP/c.json" <<JSON
{"name": "third-party-close", "duration": "10s", "time_scale": 2,
 "platform": {"auth": "third-party", "verify": {"url": "$URL", "timeout": "3s"}},
 "fleets": [{"id": "a", "protocol": "jt808", "version": 2019, "count": 2, "report": {"every": "1s"}}],
 "steps": [{"at": "1s", "fault": {"kind": "cut", "fleet": "a", "fraction": 1, "down": "1s"}}],
 "expect": [{"id": "TP-C-001", "fleet": "a", "state": "authenticated", "fraction": 1},
            {"id": "TP-C-002", "counter": "gateway.verify_timeout", "max": 0},
            {"id": "TP-C-003", "counter": "gateway.authentications", "min": 2, "max": 2}]}
JSON
expect_exit "closed while asked: the terminals get in on their next try" 0 "$FLEETSIM" run "$TMP/c.json" -q
contains "closed while asked: all three checks pass" "3 cases: 3 pass" "$TMP/out"
finish
n=$(grep -c '"action":"register"' "$TMP/log.jsonl")
if [ "$n" -ge 4 ]; then ok "closed while asked: the registrations were asked again ($n)"; else nok "closed while asked: $n registrations asked, wanted >= 4"; fi

# settings: errors name the JSON path
URL=http://127.0.0.1:1/verify
cat >"$TMP/bad.json" <<'JSON'
{"name": "bad", "duration": "1s", "platform": {"auth": "third-party", "verify": {"url": "ftp://x", "timeout": "0s", "events": ["regster"]}},
 "fleets": [{"id": "a", "protocol": "jt808", "count": 1}]}
JSON
expect_exit "bad verify settings are an input error" 2 "$FLEETSIM" run "$TMP/bad.json" -q
contains "the url error names platform.verify.url" "platform.verify.url" "$TMP/out"
contains "the timeout error names platform.verify.timeout" "platform.verify.timeout" "$TMP/out"
contains "the events error names platform.verify.events[0]" "platform.verify.events[0]" "$TMP/out"
echo '{"name": "bad", "duration": "1s", "platform": {"auth": "third-party"}, "fleets": [{"id": "a", "protocol": "jt808", "count": 1}]}' >"$TMP/bad2.json"
expect_exit "third-party without verify is an input error" 2 "$FLEETSIM" run "$TMP/bad2.json" -q
contains "... saying verify is required" 'platform.verify' "$TMP/out"
expect_exit "serve: --auth third-party without --verify-url is a usage error" 2 "$FLEETSIM" serve --auth third-party
contains "... saying they go together" "go together" "$TMP/out"
expect_exit "serve: a bad --verify-timeout is a usage error" 2 "$FLEETSIM" serve --auth third-party --verify-url "$URL" --verify-timeout 0s
