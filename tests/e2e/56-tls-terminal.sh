#!/usr/bin/env bash
# The terminals' side of TLS: they check the gateway's host name (the fleet's
# server_name, by default the target's host) and refuse a certificate for
# another name, counted; they send the name as SNI (openssl s_server sees it);
# with ocsp_stapling they ask for the gateway's OCSP status and check what is
# stapled: against fleetsim's own gateway stapling its status from openssl's
# responder, and against openssl s_server stapling a good or a revoked response
# (made by openssl's responder), over TLS 1.3 and over TLS 1.2.  Certificates made here (tests/tls-certs.sh).
. "$(dirname "$0")/lib.sh"
C="$TMP/certs"
if ! command -v openssl >/dev/null || ! tests/tls-certs.sh "$C" 1 >"$TMP/out" 2>&1; then
    nok "test certificates made with openssl" "$(tail -5 "$TMP/out")"; exit 0
fi
# wait_accept FILE PID: openssl s_server printed ACCEPT (it listens) in FILE
wait_accept() {
    for _ in $(seq 100); do
        grep -q '^ACCEPT' "$1" 2>/dev/null && return 0
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}
# start_s_server OUT ARGS...: openssl s_server on a free port with ARGS, SPORT and SS
# set; a port it cannot bind (another test's, or one in TIME_WAIT) is tried again
# with another, as start_responder does
start_s_server() {
    local out=$1 i
    shift
    for i in 1 2 3 4 5 6 7 8; do
        SPORT=$(free_port)
        (sleep 30 | timeout 40 openssl s_server -accept "$SPORT" "$@" >"$out" 2>&1) 2>/dev/null &
        SS=$!
        wait_accept "$out" "$SS" && return 0
        pkill -P "$SS" 2>/dev/null; wait "$SS" 2>/dev/null
    done
    return 1
}
# run_expect NAME FILE CASES: the run passes all its cases
run_expect() {
    "$FLEETSIM" run "$2" >"$2.out" 2>&1; local rc=$?
    if [ $rc -eq 0 ] && grep -q "$3 cases: $3 pass" "$2.out"; then ok "$1"; else nok "$1" "exit $rc" "$(tail -14 "$2.out")"; fi
}

# 1. host name: the embedded gateway presents a certificate for other.example only
cat >"$TMP/name.json" <<JSON
{"name": "tls-name", "duration": "3s",
 "platform": {"tls": {"cert": "certs/server-other.crt", "key": "certs/server-other.key"}},
 "fleets": [
  {"id": "default", "protocol": "jt808", "count": 2, "transport": "tls", "reconnect": {"min": "10s"},
   "tls": {"ca": "certs/server-ca.crt"}},
  {"id": "named", "protocol": "jt808", "count": 2, "transport": "tls", "report": {"every": "1s"},
   "tls": {"ca": "certs/server-ca.crt", "server_name": "other.example"}},
  {"id": "wrong", "protocol": "jt808", "count": 1, "transport": "tls", "reconnect": {"min": "10s"},
   "tls": {"ca": "certs/server-ca.crt", "server_name": "www.other.example"}}],
 "expect": [
  {"id": "TLS-NAME-001", "counter": "terminal.tls_name_mismatch", "fleet": "default", "min": 2, "max": 2},
  {"id": "TLS-NAME-002", "counter": "terminal.tls_handshakes", "fleet": "default", "max": 0},
  {"id": "TLS-NAME-003", "fleet": "named", "state": "authenticated", "within": "2s"},
  {"id": "TLS-NAME-004", "counter": "terminal.tls_handshakes", "fleet": "named", "min": 2, "max": 2},
  {"id": "TLS-NAME-005", "counter": "terminal.tls_name_mismatch", "fleet": "wrong", "min": 1, "max": 1},
  {"id": "TLS-NAME-006", "counter": "gateway.authentications", "min": 2, "max": 2}]}
JSON
run_expect "host name: a certificate for another name is refused and counted; server_name other.example is let in" \
    "$TMP/name.json" 6

# handshakes held to max_handshakes per worker: the others wait their turn, and every one comes
cat >"$TMP/cap.json" <<JSON
{"name": "tls-cap", "duration": "4s",
 "platform": {"tls": {"cert": "certs/server.crt", "key": "certs/server.key"}},
 "fleets": [
  {"id": "one", "protocol": "jt808", "count": 30, "transport": "tls",
   "tls": {"ca": "certs/server-ca.crt", "max_handshakes": 1}}],
 "expect": [
  {"id": "TLS-CAP-001", "fleet": "one", "state": "authenticated", "within": "3s"},
  {"id": "TLS-CAP-002", "counter": "terminal.tls_handshakes", "min": 30, "max": 30},
  {"id": "TLS-CAP-003", "counter": "terminal.connect_failures", "max": 0}]}
JSON
run_expect "max_handshakes 1: 30 terminals handshake one at a time, every one in" "$TMP/cap.json" 3

# 2. SNI: openssl s_server prints the host name the terminal sent
start_s_server "$TMP/sni.out" -cert "$C/server.crt" -key "$C/server.key" \
    -servername localhost -cert2 "$C/server.crt" -key2 "$C/server.key" || nok "openssl s_server starts" "$(tail -3 "$TMP/sni.out")"
P=$SPORT
cat >"$TMP/sni.json" <<JSON
{"name": "tls-sni", "duration": "2s", "target": "tls://127.0.0.1:$P",
 "fleets": [{"id": "t", "protocol": "jt808", "count": 1, "transport": "tls", "ack_timeout": "1s",
   "tls": {"ca": "certs/server-ca.crt", "server_name": "localhost"}}],
 "expect": [{"id": "TLS-SNI-001", "counter": "terminal.tls_handshakes", "min": 1, "max": 1}]}
JSON
run_expect "a terminal with server_name localhost verifies openssl s_server's certificate for it" "$TMP/sni.json" 1
pkill -P "$SS" 2>/dev/null; wait "$SS" 2>/dev/null
contains "... and sends the name as SNI (s_server: Hostname in TLS extension)" 'Hostname in TLS extension: "localhost"' "$TMP/sni.out"

# 3. stapling against fleetsim's gateway, which staples its status from openssl's responder
start_responder "$C/ca-server-ca/index.txt" "$C/server-ocsp.crt" "$C/server-ocsp.key" "$C/server-ca.crt" "$TMP/socsp.out" ||
    nok "openssl ocsp starts (server CA)" "$(tail -3 "$TMP/socsp.out")"
cat >"$TMP/staple.json" <<JSON
{"name": "tls-staple", "duration": "4s",
 "platform": {"tls": {"cert": "certs/server.crt", "key": "certs/server.key", "ocsp": "server",
                      "server_ocsp_responder": "http://127.0.0.1:$RPORT/", "trusted_ca": "certs/server-ca.crt"}},
 "fleets": [
  {"id": "require", "protocol": "jt808", "count": 2, "transport": "tls", "ramp": "1/s", "reconnect": {"min": "300ms"},
   "tls": {"ca": "certs/server-ca.crt", "ocsp_stapling": "require"}}],
 "expect": [
  {"id": "TLS-STAPLE-001", "fleet": "require", "state": "authenticated", "within": "3s"},
  {"id": "TLS-STAPLE-002", "counter": "terminal.tls_handshakes", "fleet": "require", "min": 2, "max": 2},
  {"id": "TLS-STAPLE-003", "counter": "terminal.tls_ocsp_revoked", "max": 0},
  {"id": "TLS-STAPLE-004", "counter": "terminal.tls_ocsp_bad", "max": 0},
  {"id": "TLS-STAPLE-005", "counter": "gateway.tls_staples", "min": 1}]}
JSON
run_expect "ocsp_stapling require: the gateway's stapled status (openssl ocsp responder) checked, terminals in" \
    "$TMP/staple.json" 5
kill "$RPID"; wait "$RPID" 2>/dev/null

cat >"$TMP/nostaple.json" <<JSON
{"name": "tls-no-staple", "duration": "2s",
 "platform": {"tls": {"cert": "certs/server.crt", "key": "certs/server.key"}},
 "fleets": [
  {"id": "require", "protocol": "jt808", "count": 2, "transport": "tls", "reconnect": {"min": "10s"},
   "tls": {"ca": "certs/server-ca.crt", "ocsp_stapling": "require"}},
  {"id": "request", "protocol": "jt808", "count": 1, "transport": "tls",
   "tls": {"ca": "certs/server-ca.crt", "ocsp_stapling": "request"}}],
 "expect": [
  {"id": "TLS-STAPLE-011", "counter": "terminal.tls_ocsp_missing", "fleet": "require", "min": 2, "max": 2},
  {"id": "TLS-STAPLE-012", "counter": "terminal.tls_handshakes", "fleet": "require", "max": 0},
  {"id": "TLS-STAPLE-013", "fleet": "request", "state": "authenticated", "within": "1s"},
  {"id": "TLS-STAPLE-014", "counter": "gateway.authentications", "min": 1, "max": 1}]}
JSON
run_expect "a gateway that staples nothing: require refuses it (counted), request goes on" "$TMP/nostaple.json" 4

# 4. openssl s_server stapling a response made by openssl's responder: good, revoked
(cd "$C" && for n in server server-revoked; do
    openssl ocsp -issuer server-ca.crt -cert $n.crt -reqout $n.req -no_nonce &&
        openssl ocsp -index ca-server-ca/index.txt -rsigner server-ocsp.crt -rkey server-ocsp.key -CA server-ca.crt \
            -reqin $n.req -respout $n.ocsp -ndays 1 || exit 1
done) >"$TMP/resp.out" 2>&1 || nok "OCSP responses made with openssl ocsp" "$(tail -3 "$TMP/resp.out")"
s_server_staple() { # name cert staple want-counter [s_server option: -tls1_2]
    start_s_server "$TMP/ss-$3${5:-}.out" -cert "$C/$2.crt" -key "$C/$2.key" -status_file "$C/$3" ${5:+"$5"} ||
        nok "openssl s_server starts" "$(tail -3 "$TMP/ss-$3${5:-}.out")"
    local p=$SPORT ss=$SS
    cat >"$TMP/ss-$3.json" <<JSON
{"name": "tls-s-server-staple", "duration": "2s", "target": "tls://127.0.0.1:$p",
 "fleets": [{"id": "t", "protocol": "jt808", "count": 1, "transport": "tls", "ack_timeout": "1s",
   "reconnect": {"min": "10s"}, "tls": {"ca": "certs/server-ca.crt", "ocsp_stapling": "require"}}],
 "expect": [{"id": "TLS-STAPLE-021", "counter": "terminal.$4", "min": 1, "max": 1},
            {"id": "TLS-STAPLE-030", "counter": "terminal.tls_handshake_failed", "max": 0}]}
JSON
    run_expect "$1" "$TMP/ss-$3.json" 2
    pkill -P "$ss" 2>/dev/null; wait "$ss" 2>/dev/null
}
# ... the same over TLS 1.2 (s_server -tls1_2 speaks nothing else), where the status
# comes in a CertificateStatus message of its own, not in the Certificate message as
# in TLS 1.3; s_server's log of the good one names the cipher suite the terminal got,
# a TLS 1.2 one (ECDHE-..., where TLS 1.3's are TLS_...: the runs above log TLS_...)
s_server_staple12() { # name cert staple want-counter
    s_server_staple "$@" -tls1_2
    [ "$4" = tls_handshakes ] || return 0
    if grep -aq "^CIPHER is ECDHE-" "$TMP/ss-$3-tls1_2.out" && grep -aq "^CIPHER is TLS_" "$TMP/ss-$3.out"; then
        ok "... over TLS 1.2 (s_server's log)"
    else
        nok "... over TLS 1.2 (s_server's log)" "$(grep -aE "Protocol|CIPHER|ERROR|error" "$TMP/ss-$3-tls1_2.out" | head -5)"
    fi
}
s_server_staple "openssl s_server stapling a good status: the terminal checks it and goes on" \
    server server.ocsp tls_handshakes
s_server_staple "openssl s_server stapling a revoked status: refused, counted" \
    server-revoked server-revoked.ocsp tls_ocsp_revoked
cp "$C/server.ocsp" "$C/other.ocsp"
s_server_staple "a staple for another certificate: refused as bad, counted" server-revoked other.ocsp tls_ocsp_bad 2>/dev/null
s_server_staple12 "TLS 1.2: openssl s_server stapling a good status: the terminal checks it and goes on" \
    server server.ocsp tls_handshakes
s_server_staple12 "TLS 1.2: openssl s_server stapling a revoked status: refused, counted" \
    server-revoked server-revoked.ocsp tls_ocsp_revoked

# bad settings: exit 2, the field named
sed 's|"ocsp_stapling": "require"|"ocsp_stapling": "sometimes"|' "$TMP/nostaple.json" >"$TMP/bad.json"
expect_exit "an unknown ocsp_stapling is an input error" 2 "$FLEETSIM" run "$TMP/bad.json"
contains "... naming the field" 'fleets[0].tls.ocsp_stapling: ' "$TMP/out"
