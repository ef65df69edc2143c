#!/usr/bin/env bash
# fleetsim conform over TLS: the embedded platform served with TLS (certificates
# made for the run, checked here with openssl) passes a subset of the jt808 suite
# and the TLS cases, and the jt808-tls suite's device certificate cases (which a
# platform without device verification fails); the TLS cases are inconclusive on
# a plain target; --terminal --tls checks fleetsim's own TLS terminals, and with
# --client-ca a device without a certificate or with a foreign one fails; a
# tls:// target whose certificate does not verify fails with --tls-ca (the
# user's CA), is a harness error without it, and a certificate that does not
# name the address fails too.  Certificates of the runs made by tests/tls-certs.sh.
. "$(dirname "$0")/lib.sh"
C="$TMP/certs"
if ! command -v openssl >/dev/null || ! tests/tls-certs.sh "$C" 1 >"$TMP/out" 2>&1; then
    nok "test certificates made with openssl" "$(tail -5 "$TMP/out")"; exit 0
fi
J=scenarios/conformance/jt808
JT=scenarios/conformance/jt808-tls
SUBSET='JT808-REG-*,JT808-AUTH-00[1-3],JT808-HB-*,JT808-CHECK-*,JT808-ESC-*,JT808-LEN-*,JT808-LOC-*,JT808-UNREG-001,JT808-TLS-*'
cases() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(" ".join(c["id"]+"="+c["verdict"] for c in r["cases"]))' "$1"; }

# 1. the embedded platform over TLS: the subset, the TLS cases, the device certificate cases
"$FLEETSIM" conform "$J" "$JT" --tls -q --jobs 2 --cases "$SUBSET,JT808-TLSD-*" --report "$TMP/r1" >"$TMP/out" 2>&1; rc=$?
n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["cases"]))' "$TMP/r1/report.json" 2>/dev/null)
if [ $rc -eq 0 ] && [ "${n:-0}" -ge 15 ] && grep -q "^$n cases: $n pass" "$TMP/out"; then
    ok "the jt808 subset, the TLS cases and the device certificate cases pass on the embedded platform over TLS ($n cases)"
else
    nok "the jt808 subset and the TLS cases pass on the embedded platform over TLS" "exit $rc" "$(grep -E "FAIL|ERROR|INCONC|cases:" "$TMP/out")"
fi
python3 - "$TMP/r1/report.json" >"$TMP/py" 2>&1 <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["metrics"]["tls"] is True and r["metrics"]["target"] == "embedded", r["metrics"]
ids = [c["id"] for c in r["cases"]]
for want in ("JT808-TLS-001", "JT808-TLS-002", "JT808-TLSD-001", "JT808-TLSD-002", "JT808-TLSD-003"):
    assert want in ids, want
for c in r["cases"]:
    log = c["wire_log"]
    assert " c0 TLS TLSv1." in log, c["id"]       # every exchange connection is TLS
c = {c["id"]: c for c in r["cases"]}
assert "device certificate: the device's" in c["JT808-TLSD-001"]["wire_log"]
assert "alert certificate required" in c["JT808-TLSD-002"]["wire_log"], c["JT808-TLSD-002"]["wire_log"]
assert "alert unknown ca" in c["JT808-TLSD-003"]["wire_log"], c["JT808-TLSD-003"]["wire_log"]
assert " c1 TLS TLSv1." in c["JT808-TLS-002"]["wire_log"]
print("fine")
PY
contains "... every connection over TLS; no certificate: 'certificate required', a foreign one: 'unknown ca'" "fine" "$TMP/py"
# the run's certificates, checked by openssl: the server's names 127.0.0.1 and its CA issued it
T="$TMP/r1/tls"
if openssl verify -CAfile "$T/server-ca.crt" "$T/server.crt" >"$TMP/v" 2>&1 &&
    openssl verify -CAfile "$T/device-ca.crt" "$T/device.crt" >>"$TMP/v" 2>&1 &&
    ! openssl verify -CAfile "$T/device-ca.crt" "$T/foreign.crt" >>"$TMP/v" 2>&1 &&
    openssl x509 -in "$T/server.crt" -noout -ext subjectAltName 2>&1 | grep -q "IP Address:127.0.0.1"; then
    ok "the run's certificates (REPORT/tls) verify with openssl: server and device by their CAs, the foreign one not"
else
    nok "the run's certificates verify with openssl" "$(cat "$TMP/v")"
fi

# 2. a platform that does not verify device certificates fails the refusal cases
mkdir -p "$TMP/nodv"
sed 's/"device_verification": true/"device_verification": false/' "$JT/suite.json" >"$TMP/nodv/suite.json"
cp "$JT"/10-*.json "$TMP/nodv/"
"$FLEETSIM" conform "$TMP/nodv" --tls -q --report "$TMP/r2" >"$TMP/out" 2>&1; rc=$?
got=$(cases "$TMP/r2/report.json" 2>&1)
if [ $rc -eq 1 ] && [ "$got" = "JT808-TLSD-001=PASS JT808-TLSD-002=FAIL JT808-TLSD-003=FAIL" ]; then
    ok "a platform without device verification fails exactly the refusals (no certificate, a foreign CA)"
else
    nok "a platform without device verification fails exactly the refusals" "exit $rc" "$got"
fi
contains "... expecting the close that did not come" "the connection still open" "$TMP/out"

# 3. on a plain target the TLS cases are inconclusive, with the reason
"$FLEETSIM" conform "$J" "$JT" -q --cases 'JT808-HB-001,JT808-TLS*' --report "$TMP/r3" >"$TMP/out" 2>&1; rc=$?
got=$(cases "$TMP/r3/report.json" 2>&1)
if [ $rc -eq 4 ] && [ "$got" = "JT808-HB-001=PASS JT808-TLS-001=INCONCLUSIVE JT808-TLS-002=INCONCLUSIVE JT808-TLSD-001=INCONCLUSIVE JT808-TLSD-002=INCONCLUSIVE JT808-TLSD-003=INCONCLUSIVE" ]; then
    ok "on the plain embedded platform the TLS cases are inconclusive, the others pass (exit 4)"
else
    nok "on the plain embedded platform the TLS cases are inconclusive" "exit $rc" "$got"
fi
contains "... saying why" "not run: the target lacks tls" "$TMP/out"

# --terminal: conform_with NAME PORT DEVICE-SCENARIO -- CONFORM-ARGS...
device() { # FILE PORT TLS-JSON
    cat >"$1" <<JSON
{"name": "conform-tls-device", "duration": "120s", "target": "tls://127.0.0.1:$2",
 "fleets": [{"id": "dev", "protocol": "jt808", "count": 1, "version": 2019, "transport": "tls", "tls": $3,
             "reconnect": {"min": "200ms", "max": "1s"}, "heartbeat": "30s", "report": {"every": "5s"}}]}
JSON
}
conform_with() {
    local name=$1 port=$2 scen=$3; shift 4
    timeout 120 "$FLEETSIM" conform --terminal --tls --listen "127.0.0.1:$port" -q "$@" >"$TMP/$name.out" 2>&1 &
    local cpid=$! i
    for i in $(seq 50); do grep -q "listening on" "$TMP/$name.out" 2>/dev/null && break; sleep 0.1; done
    timeout 120 "$FLEETSIM" run "$scen" --quiet >"$TMP/$name.dev" 2>&1 &
    local dpid=$!
    wait "$cpid"; echo $? >"$TMP/$name.rc"
    kill -INT "$dpid" 2>/dev/null
    wait "$dpid" 2>/dev/null
}
TCASES='JT808T-REG-001-2019,JT808T-LOCQ-001,JT808T-PARAM-002,JT808T-CHECK-001'

# 4. --terminal --tls, the runner's certificate made for the run: the device trusts its CA
port=$(free_port)
device "$TMP/d1.json" "$port" '{"ca": "r4/tls/server-ca.crt"}'
conform_with t1 "$port" "$TMP/d1.json" -- scenarios/conformance/jt808-terminal --cases "$TCASES" --report "$TMP/r4"
if [ "$(cat "$TMP/t1.rc")" = 0 ] && grep -q "^4 cases: 4 pass" "$TMP/t1.out" && grep -q " c0 TLS TLSv1.*device certificate none" "$TMP/r4/report.json"; then
    ok "--terminal --tls: fleetsim's own TLS terminal passes (the runner's certificate made for the run)"
else
    nok "--terminal --tls: fleetsim's own TLS terminal passes" "exit $(cat "$TMP/t1.rc")" "$(grep -E "FAIL|ERROR|cases:|listening" "$TMP/t1.out")" "$(tail -3 "$TMP/t1.dev")"
fi
contains "... the runner says where the CA to trust is" "over TLS (the certificate's CA: $TMP/r4/tls/server-ca.crt)" "$TMP/t1.out"

# 5. --client-ca: a device certificate of that CA passes; a foreign one, or none, fails
for d in good:'{"ca": "certs/server-ca.crt", "cert": "certs/dev-{n}.crt", "key": "certs/dev-{n}.key"}' \
         foreign:'{"ca": "certs/server-ca.crt", "cert": "certs/foreign.crt", "key": "certs/foreign.key"}' \
         none:'{"ca": "certs/server-ca.crt"}'; do
    name=${d%%:*}
    port=$(free_port)
    device "$TMP/d-$name.json" "$port" "${d#*:}"
    conform_with "c-$name" "$port" "$TMP/d-$name.json" -- scenarios/conformance/jt808-terminal --cases JT808T-REG-001-2019 \
        --tls-cert "$C/server.crt" --tls-key "$C/server.key" --client-ca "$C/device-ca.crt" --report "$TMP/r5-$name"
done
if [ "$(cat "$TMP/c-good.rc")" = 0 ] && grep -q "device certificate /CN=device 0" "$TMP/r5-good/report.json"; then
    ok "--terminal --tls --client-ca: a device with a certificate of that CA passes"
else
    nok "--terminal --tls --client-ca: a device with a certificate of that CA passes" "exit $(cat "$TMP/c-good.rc")" "$(tail -4 "$TMP/c-good.out")"
fi
if [ "$(cat "$TMP/c-foreign.rc")" = 1 ] && grep -q "TLS handshake refused: the device's certificate: unable to get local issuer certificate" "$TMP/r5-foreign/report.json"; then
    ok "... a device with a certificate of another CA fails the case, saying why (exit 1)"
else
    nok "... a device with a certificate of another CA fails the case" "exit $(cat "$TMP/c-foreign.rc")" "$(tail -4 "$TMP/c-foreign.out")"
fi
if [ "$(cat "$TMP/c-none.rc")" = 1 ] && grep -q "TLS handshake refused: the device sent no certificate" "$TMP/r5-none/report.json"; then
    ok "... a device without a certificate fails the case, saying why (exit 1)"
else
    nok "... a device without a certificate fails the case" "exit $(cat "$TMP/c-none.rc")" "$(tail -4 "$TMP/c-none.out")"
fi

# 6. tls:// targets: fleetsim serve with the test server certificate (CN localhost, SAN 127.0.0.1)
port=$(free_port)
"$FLEETSIM" serve --port "$port" --db "$TMP/s.db" -q --tls-cert "$C/server.crt" --tls-key "$C/server.key" >"$TMP/serve.log" 2>&1 &
spid=$!
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
expect_exit "a tls:// target with its CA passes the TLS cases" 0 \
    "$FLEETSIM" conform "$J" -q --cases 'JT808-TLS-*,JT808-HB-001' --target "tls://127.0.0.1:$port" --tls-ca "$C/server-ca.crt"
expect_exit "a tls:// target whose certificate the given --tls-ca did not issue fails (exit 1)" 1 \
    "$FLEETSIM" conform "$J" -q --cases 'JT808-TLS-001' --target "tls://127.0.0.1:$port" --tls-ca "$C/device-ca.crt" --report "$TMP/r6"
contains "... the case FAIL with the reason" "TLS handshake: the server's certificate: unable to get local issuer certificate" "$TMP/r6/report.json"
python3 -c 'import json,sys; c=json.load(open(sys.argv[1]))["cases"][0]; assert c["verdict"]=="FAIL" and "issued by the --tls-ca CA" in c["expected"], c; print("fine")' \
    "$TMP/r6/report.json" >"$TMP/py" 2>&1
contains "... expected: a certificate the --tls-ca CA issued, naming the address" "fine" "$TMP/py"
expect_exit "without --tls-ca (the system's trust store) the same certificate is a harness error (exit 3)" 3 \
    "$FLEETSIM" conform "$J" -q --cases 'JT808-TLS-001' --target "tls://127.0.0.1:$port"
contains "... telling to name the CA" "checked against the system's trust store: --tls-ca names the CA that issued it" "$TMP/out"
kill -TERM $spid; wait $spid
# an expired certificate (tests/tls-certs.sh's expired device, naming 127.0.0.1) with its CA given
port=$(free_port)
"$FLEETSIM" serve --port "$port" --db "$TMP/s3.db" -q --tls-cert "$C/expired.crt" --tls-key "$C/expired.key" >"$TMP/serve3.log" 2>&1 &
spid=$!
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
expect_exit "a tls:// target whose certificate has expired fails (exit 1)" 1 \
    "$FLEETSIM" conform "$J" -q --cases 'JT808-TLS-001' --target "tls://127.0.0.1:$port" --tls-ca "$C/device-ca.crt"
contains "... certificate has expired" "certificate has expired" "$TMP/out"
kill -TERM $spid; wait $spid
# the host name: the same certificate served on 127.0.0.2 does not name that address
port=$(free_port)
"$FLEETSIM" serve --port "$port" --bind 127.0.0.2 --db "$TMP/s2.db" -q --tls-cert "$C/server.crt" --tls-key "$C/server.key" >"$TMP/serve2.log" 2>&1 &
spid=$!
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.2/$port) 2>/dev/null && break; sleep 0.1; done
expect_exit "a tls:// target whose certificate does not name its address fails (exit 1)" 1 \
    "$FLEETSIM" conform "$J" -q --cases 'JT808-TLS-001' --target "tls://127.0.0.2:$port" --tls-ca "$C/server-ca.crt"
contains "... IP address mismatch" "IP address mismatch" "$TMP/out"
kill -TERM $spid; wait $spid

# 7. usage errors
expect_exit "--platform-cert without --tls is a usage error" 2 "$FLEETSIM" conform "$J" --platform-cert "$C/server.crt" --platform-key "$C/server.key"
expect_exit "--platform-cert without its CA is a usage error" 2 "$FLEETSIM" conform "$J" --tls --platform-cert "$C/server.crt" --platform-key "$C/server.key"
contains "... naming what goes together" "--platform-cert, --platform-key and --tls-ca" "$TMP/out"
expect_exit "--client-ca without --terminal --tls is a usage error" 2 "$FLEETSIM" conform "$J" --client-ca "$C/device-ca.crt"
expect_exit "--tls with a tcp:// target is a usage error" 2 "$FLEETSIM" conform "$J" --tls --target tcp://127.0.0.1:7999
expect_exit "--terminal --tls with a key that is not the certificate's is a usage error" 2 \
    "$FLEETSIM" conform --terminal --tls --tls-cert "$C/server.crt" --tls-key "$C/dev-0.key" scenarios/conformance/jt808-terminal
contains "... naming the files" "--tls-cert $C/server.crt / --tls-key $C/dev-0.key" "$TMP/out"
# the embedded platform with a certificate given: its CA checks it
expect_exit "--tls with the platform's certificate given (and its CA) passes" 0 \
    "$FLEETSIM" conform "$J" -q --tls --cases 'JT808-TLS-001' --platform-cert "$C/server.crt" --platform-key "$C/server.key" --tls-ca "$C/server-ca.crt"
expect_exit "... with a CA that did not issue it, a harness error (the runner's own platform, exit 3)" 3 \
    "$FLEETSIM" conform "$J" -q --tls --cases 'JT808-TLS-001' --platform-cert "$C/server.crt" --platform-key "$C/server.key" --tls-ca "$C/device-ca.crt"
