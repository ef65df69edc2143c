#!/usr/bin/env bash
# The replay dialect against peers it did not write: libcoap's coap-server over UDP
# (CoAP GETs rendered from a template, its piggybacked 2.05 answers matched by
# message id), and every golden frame of vectors/jt808.json replayed over TCP to
# fleetsim serve.  And the checks failing when the peer's answers do not match.
. "$(dirname "$0")/lib.sh"

coap=$(command -v coap-server-notls || command -v coap-server-openssl || command -v coap-server || true)
if [ -z "$coap" ]; then
    nok "libcoap's coap-server is installed (Debian package libcoap3-bin; make deps installs it)"
else
    cport=$(free_port)
    "$coap" -A 127.0.0.1 -p "$cport" >"$TMP/coap.log" 2>&1 &
    cpid=$!
    sleep 0.3
    cat >"$TMP/coap.json" <<JSON
{"name": "replay-coap", "duration": "4s",
 "fleets": [{"id": "c", "protocol": "replay", "count": 50, "ramp": "100/s", "transport": "udp",
             "target": "udp://127.0.0.1:$cport", "ack_timeout": "2s",
             "messages": [{"name": "get", "template": "40 01 {serial:2}", "every": "500ms",
                           "reply": "60 45 {serial:2} *"}]}],
 "expect": [{"id": "RP-ONLINE-001", "state": "authenticated", "within": "2s"},
            {"id": "RP-MATCH-001", "counter": "terminal.matched", "min": 200},
            {"id": "RP-UNMATCHED-001", "counter": "terminal.unmatched", "max": 0},
            {"id": "RP-LATENCY-001", "metric": "report.latency.p99", "below": "500ms"},
            {"id": "RP-LEDGER-001", "ledger": "acked"}]}
JSON
    expect_exit "50 UDP terminals' CoAP GETs answered by coap-server, matched by message id" 0 \
        "$FLEETSIM" run "$TMP/coap.json" -q
    contains "all five replay checks pass" "5 cases: 5 pass" "$TMP/out"
    # the same with a reply pattern the server never sends (2.04 instead of 2.05): red
    sed 's/"60 45 {serial:2} \*"/"60 44 {serial:2} *"/' "$TMP/coap.json" >"$TMP/coap-bad.json"
    expect_exit "answers that match no pattern fail the run" 1 "$FLEETSIM" run "$TMP/coap-bad.json" -q
    if grep -q "RP-UNMATCHED-001 *FAIL" "$TMP/out" && grep -q "RP-LEDGER-001 *FAIL" "$TMP/out"; then
        ok "they are counted as unmatched and the requests time out"
    else
        nok "they are counted as unmatched and the requests time out" "$(tail -12 "$TMP/out")"
    fi
    kill "$cpid" 2>/dev/null; wait "$cpid" 2>/dev/null
fi

port=$(free_port)
"$FLEETSIM" serve --port "$port" --db "$TMP/p.db" >"$TMP/serve.log" 2>&1 &
spid=$!
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
cat >"$TMP/vec.json" <<JSON
{"name": "replay-vectors", "duration": "3s",
 "fleets": [{"id": "v", "protocol": "replay", "count": 10, "target": "tcp://127.0.0.1:$port",
             "ack_timeout": "2s", "framing": "delim:7E",
             "messages": [{"name": "golden", "vectors": "$ROOT/vectors/jt808.json", "every": "50ms",
                           "reply": "7E * 7E"}]}],
 "expect": [{"id": "RV-LEDGER-001", "ledger": "acked"},
            {"id": "RV-UNMATCHED-001", "counter": "terminal.unmatched", "max": 0},
            {"id": "RV-DROP-001", "counter": "terminal.disconnects", "max": 0}]}
JSON
expect_exit "the golden JT/T 808 frames replayed over TCP are each answered by the gateway" 0 \
    "$FLEETSIM" run "$TMP/vec.json" -q
"$FLEETSIM" run "$TMP/vec.json" -q --report "$TMP/r" >/dev/null 2>&1
n=$(grep -o '"matched":[[:space:]]*[0-9]*' "$TMP/r/report.json" | head -1 | grep -o '[0-9]*$')
if [ -n "$n" ] && [ "$n" -ge 400 ]; then ok "hundreds of replayed frames matched ($n)"; else nok "hundreds of replayed frames matched" "got '$n'"; fi
kill -TERM $spid; wait $spid

# bad input names the field and the character
cat >"$TMP/typo.json" <<'JSON'
{"name": "t", "duration": "1s",
 "fleets": [{"id": "r", "protocol": "replay", "count": 1, "target": "tcp://127.0.0.1:9", "framing": "none",
             "messages": [{"template": "7E {idx:2} 7E", "every": "1s"}]}]}
JSON
expect_exit "a template typo is an input error" 2 "$FLEETSIM" run "$TMP/typo.json" --dry-run
contains "it names the field and the offset" 'fleets[0].messages[0].template: offset 3: unknown placeholder "idx" (did you mean "index"?)' "$TMP/out"
cat >"$TMP/notarget.json" <<'JSON'
{"name": "t", "duration": "1s",
 "fleets": [{"id": "r", "protocol": "replay", "count": 1, "messages": [{"template": "00", "every": "1s"}]}]}
JSON
expect_exit "a replay fleet without a target is an input error" 2 "$FLEETSIM" run "$TMP/notarget.json"
contains "it says the fleet needs one" 'fleet r: the embedded platform does not serve replay terminals' "$TMP/out"
