#!/usr/bin/env bash
# TLS with device certificates (seed 000): certificates made here (tests/tls-certs.sh),
# the gateway refuses a terminal without a certificate, with one of another CA and
# with an expired one, each counted by reason, and takes the others; openssl s_client
# against our gateway, our terminals against openssl s_server; OCSP against openssl's
# responder (revoked refused; none there: refused too); bad TLS settings are
# input errors that name the file.
. "$(dirname "$0")/lib.sh"
C="$TMP/certs"
if ! command -v openssl >/dev/null || ! tests/tls-certs.sh "$C" 3 >"$TMP/out" 2>&1; then
    nok "test certificates made with openssl" "$(tail -5 "$TMP/out")"; exit 0
fi
cat >"$TMP/tls.json" <<JSON
{"name": "tls-devices", "duration": "3s",
 "platform": {"tls": {"cert": "certs/server.crt", "key": "certs/server.key", "device_ca": "certs/device-ca.crt"}},
 "fleets": [
  {"id": "good", "protocol": "jt808", "count": 3, "transport": "tls", "report": {"every": "1s"},
   "tls": {"ca": "certs/server-ca.crt", "cert": "certs/dev-{n}.crt", "key": "certs/dev-{n}.key"}},
  {"id": "nocert", "protocol": "jt808", "count": 1, "transport": "tls", "reconnect": {"min": "10s"},
   "tls": {"ca": "certs/server-ca.crt"}},
  {"id": "foreign", "protocol": "jt808", "count": 1, "transport": "tls", "reconnect": {"min": "10s"},
   "tls": {"ca": "certs/server-ca.crt", "cert": "certs/foreign.crt", "key": "certs/foreign.key"}},
  {"id": "expired", "protocol": "jt808", "count": 1, "transport": "tls", "reconnect": {"min": "10s"},
   "tls": {"ca": "certs/server-ca.crt", "cert": "certs/expired.crt", "key": "certs/expired.key"}}],
 "expect": [
  {"id": "TLS-OK-001", "fleet": "good", "state": "authenticated", "within": "2s"},
  {"id": "TLS-OK-002", "counter": "gateway.tls_handshakes", "min": 3, "max": 3},
  {"id": "TLS-REFUSE-001", "counter": "gateway.tls_no_cert", "min": 1, "max": 1},
  {"id": "TLS-REFUSE-002", "counter": "gateway.tls_unknown_ca", "min": 1, "max": 1},
  {"id": "TLS-REFUSE-003", "counter": "gateway.tls_expired", "min": 1, "max": 1},
  {"id": "TLS-REFUSE-004", "counter": "gateway.authentications", "min": 3, "max": 3},
  {"id": "TLS-OK-003", "counter": "terminal.reports_acked", "fleet": "good", "min": 3}]}
JSON
"$FLEETSIM" run "$TMP/tls.json" >"$TMP/run.out" 2>&1; rc=$?
if [ $rc -eq 0 ] && grep -q "7 cases: 7 pass" "$TMP/run.out"; then
    ok "over TLS: 3 device certificates taken, no certificate / a foreign CA / expired refused and counted"
else
    nok "over TLS: 3 device certificates taken, no certificate / a foreign CA / expired refused and counted" \
        "exit $rc" "$(tail -22 "$TMP/run.out")"
fi

# openssl s_client against fleetsim serve: a heartbeat frame in, the gateway's answer out
P=$(free_port)
"$FLEETSIM" serve --port "$P" --db "$TMP/p.db" -q --tls-cert "$C/server.crt" --tls-key "$C/server.key" \
    --device-ca "$C/device-ca.crt" >"$TMP/serve.out" 2>&1 &
SERVE=$!
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$P) 2>/dev/null && break; sleep 0.1; done
(printf '\x7e\x00\x02\x00\x00\x01\x39\x12\x34\x56\x78\x00\x13\x21\x7e'; sleep 1) |
    timeout 10 openssl s_client -connect "127.0.0.1:$P" -CAfile "$C/server-ca.crt" -verify_return_error \
        -cert "$C/dev-0.crt" -key "$C/dev-0.key" -quiet 2>"$TMP/sc.err" | od -An -tx1 | tr -d ' \n' >"$TMP/sc.hex"
# 0x8001 to phone 013912345678, acknowledging serial 0x0013 of message 0x0002
if grep -q '^7e8001' "$TMP/sc.hex" && grep -q '00130002' "$TMP/sc.hex"; then
    ok "openssl s_client with a device certificate: the gateway verifies it and answers a frame (0x8001)"
else
    nok "openssl s_client with a device certificate: the gateway verifies it and answers a frame (0x8001)" \
        "got: $(cat "$TMP/sc.hex")" "$(tail -5 "$TMP/sc.err")"
fi
(sleep 1) | timeout 10 openssl s_client -connect "127.0.0.1:$P" -CAfile "$C/server-ca.crt" >"$TMP/sc2.out" 2>&1
contains "openssl s_client without a certificate is refused (certificate required)" "alert certificate required" "$TMP/sc2.out"
kill -INT "$SERVE"; wait "$SERVE"

# our terminals against openssl s_server, which asks for and verifies a device certificate
P=$(free_port)
(sleep 8 | timeout 12 openssl s_server -accept "$P" -cert "$C/server.crt" -key "$C/server.key" \
    -CAfile "$C/device-ca.crt" -Verify 1 -verify_return_error >"$TMP/ss.out" 2>&1) &
SS=$!
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$P) 2>/dev/null && break; sleep 0.1; done
sleep 0.2
cat >"$TMP/ss.json" <<JSON
{"name": "tls-s-server", "duration": "2s", "target": "tls://127.0.0.1:$P",
 "fleets": [{"id": "t", "protocol": "jt808", "count": 1, "transport": "tls", "ack_timeout": "1s",
   "tls": {"ca": "certs/server-ca.crt", "cert": "certs/dev-{n}.crt", "key": "certs/dev-{n}.key"}}],
 "expect": [{"id": "TLS-PEER-001", "counter": "terminal.connects", "min": 1}]}
JSON
"$FLEETSIM" run "$TMP/ss.json" -q >"$TMP/ssrun.out" 2>&1
wait "$SS" 2>/dev/null
contains "a terminal's TLS handshake with openssl s_server passes its verification" "CN = device 0" "$TMP/ss.out"
if od -An -tx1 "$TMP/ss.out" | tr -d ' \n' | grep -q '7e0100'; then
    ok "openssl s_server receives the terminal's 0x0100 registration over TLS"
else
    nok "openssl s_server receives the terminal's 0x0100 registration over TLS" "$(tail -5 "$TMP/ssrun.out")"
fi

# OCSP for device certificates against openssl's own responder on loopback: the
# revoked device is refused and closed, the others let in; with the responder gone
# the gateway fails closed.
start_responder "$C/ca-device-ca/index.txt" "$C/ocsp.crt" "$C/ocsp.key" "$C/device-ca.crt" "$TMP/ocsp.out" ||
    nok "openssl ocsp starts" "$(tail -3 "$TMP/ocsp.out")"
OP=$RPORT OCSP=$RPID
ocsp_scenario() { # file min-handshakes
    cat >"$1" <<JSON
{"name": "tls-ocsp", "duration": "3s",
 "platform": {"tls": {"cert": "certs/server.crt", "key": "certs/server.key", "device_ca": "certs/device-ca.crt",
                      "ocsp": "client", "ocsp_responder": "http://127.0.0.1:$OP/"}},
 "fleets": [
  {"id": "good", "protocol": "jt808", "count": 2, "transport": "tls", "reconnect": {"min": "10s"},
   "tls": {"ca": "certs/server-ca.crt", "cert": "certs/dev-{n}.crt", "key": "certs/dev-{n}.key"}},
  {"id": "revoked", "protocol": "jt808", "count": 1, "transport": "tls", "reconnect": {"min": "10s"},
   "tls": {"ca": "certs/server-ca.crt", "cert": "certs/revoked.crt", "key": "certs/revoked.key"}}],
 "expect": [
  {"id": "TLS-OCSP-001", "counter": "gateway.tls_handshakes", "min": $2, "max": $2},
  {"id": "TLS-OCSP-002", "counter": "gateway.tls_revoked", "min": $3, "max": $3},
  {"id": "TLS-OCSP-003", "counter": "gateway.tls_ocsp_failed", "min": $4, "max": $4},
  {"id": "TLS-OCSP-004", "counter": "gateway.authentications", "min": $2, "max": $2}]}
JSON
}
ocsp_scenario "$TMP/ocsp.json" 2 1 0
"$FLEETSIM" run "$TMP/ocsp.json" >"$TMP/ocsprun.out" 2>&1; rc=$?
if [ $rc -eq 0 ] && grep -q "4 cases: 4 pass" "$TMP/ocsprun.out"; then
    ok "OCSP (openssl ocsp responder): the revoked device certificate is refused, the good ones let in"
else
    nok "OCSP (openssl ocsp responder): the revoked device certificate is refused, the good ones let in" \
        "exit $rc" "$(tail -12 "$TMP/ocsprun.out")"
fi
contains "the gateway asked the responder (HTTP POST)" "POST / HTTP/1.0" "$TMP/ocsp.out"
kill "$OCSP"; wait "$OCSP" 2>/dev/null
ocsp_scenario "$TMP/ocsp2.json" 0 0 3
"$FLEETSIM" run "$TMP/ocsp2.json" >"$TMP/ocsprun2.out" 2>&1; rc=$?
if [ $rc -eq 0 ] && grep -q "4 cases: 4 pass" "$TMP/ocsprun2.out"; then
    ok "OCSP with the responder gone: every device is refused (fails closed), counted"
else
    nok "OCSP with the responder gone: every device is refused (fails closed), counted" "exit $rc" "$(tail -12 "$TMP/ocsprun2.out")"
fi

# OCSP stapling: the gateway fetches its own certificate's status from the server
# CA's responder and staples it for a client that asks (openssl s_client -status)
start_responder "$C/ca-server-ca/index.txt" "$C/server-ocsp.crt" "$C/server-ocsp.key" "$C/server-ca.crt" "$TMP/socsp.out" ||
    nok "openssl ocsp starts (server CA)" "$(tail -3 "$TMP/socsp.out")"
SP=$RPORT SOCSP=$RPID
P=$(free_port)
"$FLEETSIM" serve --port "$P" --db "$TMP/st.db" -q --tls-cert "$C/server.crt" --tls-key "$C/server.key" \
    --staple-responder "http://127.0.0.1:$SP/" --trusted-ca "$C/server-ca.crt" >"$TMP/stserve.out" 2>&1 &
SERVE=$!
for _ in $(seq 40); do
    (sleep 0.3) | timeout 10 openssl s_client -connect "127.0.0.1:$P" -status -CAfile "$C/server-ca.crt" >"$TMP/st.out" 2>&1
    grep -q "Cert Status: good" "$TMP/st.out" && break
    sleep 0.2
done
contains "OCSP stapling: openssl s_client -status gets the server certificate's status" "OCSP Response Status: successful" "$TMP/st.out"
contains "... and it is good" "Cert Status: good" "$TMP/st.out"
kill -INT "$SERVE"; wait "$SERVE"
kill "$SOCSP"; wait "$SOCSP" 2>/dev/null

# bad settings: exit 2, the file named
bad() { # name json-tls-object message
    sed "s|\"platform\": {\"tls\": {[^}]*}}|\"platform\": {\"tls\": $2}|" "$TMP/tls.json" >"$TMP/bad.json"
    "$FLEETSIM" run "$TMP/bad.json" >"$TMP/bad.out" 2>&1; local rc=$?
    if [ $rc -eq 2 ] && grep -qF -- "$3" "$TMP/bad.out"; then ok "$1"; else nok "$1" "exit $rc" "$(tail -3 "$TMP/bad.out")"; fi
}
printf 'not a certificate\n' >"$C/junk.pem"
bad "a missing server certificate is an input error naming it" \
    '{"cert": "certs/nope.crt", "key": "certs/server.key"}' "platform.tls: server certificate: $TMP/certs/nope.crt: No such file"
bad "a certificate that is not PEM is an input error" \
    '{"cert": "certs/junk.pem", "key": "certs/server.key"}' "junk.pem: not a PEM certificate"
bad "a key that does not match the certificate is an input error" \
    '{"cert": "certs/server.crt", "key": "certs/dev-0.key"}' "dev-0.key: the key does not match the certificate"
bad "OCSP for client certificates needs a responder" \
    '{"cert": "certs/server.crt", "key": "certs/server.key", "device_ca": "certs/device-ca.crt", "ocsp": "client"}' \
    'platform.tls: "ocsp": "client" needs "device_ca" and "ocsp_responder"'
bad "OCSP stapling needs the server root CA" \
    '{"cert": "certs/server.crt", "key": "certs/server.key", "ocsp": "server", "ocsp_responder": "http://127.0.0.1:1/"}' \
    'platform.tls: "ocsp": "server" needs "trusted_ca"'
bad "a server certificate without its key is an input error" \
    '{"cert": "certs/server.crt"}' 'platform.tls: needs "cert" and "key"'
expect_exit "serve: a bad --device-ca is an input error" 2 \
    "$FLEETSIM" serve --port "$(free_port)" --db "$TMP/q.db" --tls-cert "$C/server.crt" --tls-key "$C/server.key" --device-ca "$C/junk.pem"
