#!/usr/bin/env bash
# `fleetsim receiver` (the callback receiver alone) answered by curl, a client we
# did not write: the status of each request as the plan says, a delay and a drop,
# the request lines on stdout and in the log, the summary at the end (SIGTERM or
# --duration), HTTPS with a certificate openssl made, and the bad flags' errors.
. "$(dirname "$0")/lib.sh"
RPID=
start() { # start ARGS...: a receiver; sets URL (its first line)
    rm -f "$TMP/r.out" "$TMP/r.err"
    "$FLEETSIM" receiver "$@" >"$TMP/r.out" 2>"$TMP/r.err" &
    RPID=$!
    URL=
    for _ in $(seq 50); do URL=$(head -1 "$TMP/r.out" 2>/dev/null); [ -n "$URL" ] && break; sleep 0.1; done
}
finish() { kill -TERM "$RPID" 2>/dev/null; wait "$RPID" 2>/dev/null; RC=$?; RPID=; }
trap '[ "$BASHPID" = "$$" ] || exit; [ -n "$RPID" ] && kill "$RPID" 2>/dev/null; rm -rf "$TMP"' EXIT
post() { curl -sS -m 5 -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d "$1" "$URL$2"; }
same() { if [ "$2" = "$3" ]; then ok "$1"; else nok "$1" "got:  $2" "want: $3"; fi; }

start --plan 503x3,200 --log "$TMP/log.jsonl"
case "$URL" in http://127.0.0.1:*) ok "the first line is the URL ($URL)" ;; *) nok "the first line is the URL" "got: $URL" "$(cat "$TMP/r.err")" ;; esac
codes=
for i in 1 2 3 4 5; do codes="$codes $(post "{\"n\":$i}" /push)"; done
same "503x3,200: three 503s, then 200 from then on" "$codes" " 503 503 503 200 200"
same "a request not JSON is answered too" "$(post 'plain text' /other)" 200
same "the log has a line per request" "$(wc -l <"$TMP/log.jsonl")" 6
contains "the log line has the path, the parsed body and the status" \
    '"method":"POST","path":"/push","content_type":"application/json","bytes":7,"body":{"n":1},"status":503' "$TMP/log.jsonl"
contains "a body that is not JSON is logged as text" '"body_text":"plain text","status":200' "$TMP/log.jsonl"
finish
same "SIGTERM: exit 0" "$RC" 0
same "stdout: the URL, a line per request, the summary" "$(wc -l <"$TMP/r.out")" 8
same "the summary counts the requests by status" "$(tail -1 "$TMP/r.out")" "summary: 6 requests: 200 x3, 503 x3"
contains "stdout has the same request lines" '"seq":4,' "$TMP/r.out"

start --plan 'drop,200@1500ms,204' --duration 4s
curl -sS -m 5 -o /dev/null -d '{}' "$URL/d" 2>/dev/null; rc=$?
same "drop: the connection closed without an answer (curl exit 52)" "$rc" 52
t0=$(date +%s%N); code=$(post '{}' /slow); t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
same "200@1500ms: 200" "$code" 200
if [ "$ms" -ge 1400 ] && [ "$ms" -lt 4000 ]; then ok "200@1500ms: after ${ms} ms"; else nok "200@1500ms: after ${ms} ms"; fi
same "then 204" "$(post '{}' /)" 204
wait "$RPID"; RC=$?; RPID=
same "--duration: ends by itself, exit 0" "$RC" 0
same "the summary names the drop" "$(tail -1 "$TMP/r.out")" "summary: 3 requests: 200 x1, 204 x1, dropped x1"

start --plan 202
same "SIGINT: answered before" "$(post '{}' /i)" 202
kill -INT "$RPID"; wait "$RPID"; RC=$?; RPID=
same "SIGINT: exit 0" "$RC" 0
same "SIGINT: the summary" "$(tail -1 "$TMP/r.out")" "summary: 1 request: 202 x1"

big="$TMP/big.json"
head -c $((1024 * 1024 + 1)) /dev/zero | tr '\0' 'a' >"$big"
start
same "a body over 1 MiB: 413" "$(curl -sS -m 5 -o /dev/null -w '%{http_code}' --data-binary @"$big" "$URL/big")" 413
contains "... recorded as too big" '"status":413,"too_big":true' "$TMP/r.out"
finish

start --listen '[::1]:0'
case "$URL" in "http://[::1]:"*) ok "IPv6: the URL is http://[::1]:PORT" ;; *) nok "IPv6 URL" "got: $URL" "$(cat "$TMP/r.err")" ;; esac
same "IPv6: answered" "$(curl -sS -g -m 5 -o /dev/null -w '%{http_code}' -d '{}' "$URL/6")" 200
finish

if openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$TMP/k.pem" -out "$TMP/c.pem" >/dev/null 2>&1; then
    start --tls-cert "$TMP/c.pem" --tls-key "$TMP/k.pem" --plan 201
    case "$URL" in https://127.0.0.1:*) ok "HTTPS: the URL is https://" ;; *) nok "HTTPS URL" "got: $URL" "$(cat "$TMP/r.err")" ;; esac
    same "HTTPS: answered, the certificate verified" \
        "$(curl -sS -m 5 --cacert "$TMP/c.pem" -o /dev/null -w '%{http_code}' -d '{}' "$URL/s")" 201
    finish
else
    nok "openssl made a certificate"
fi

usage_err() { # NAME WANT-TEXT ARGS...
    local n=$1 want=$2; shift 2
    "$FLEETSIM" receiver "$@" >"$TMP/u.out" 2>"$TMP/u.err"; local rc=$?
    if [ "$rc" = 2 ] && grep -qF -- "$want" "$TMP/u.err" && grep -qF "see 'fleetsim receiver --help'" "$TMP/u.err"; then
        ok "$n"
    else
        nok "$n" "exit $rc" "$(cat "$TMP/u.err")"
    fi
}
usage_err "a bad plan names its entry" "fleetsim receiver: --plan: plan entry 2 '5O3': not a status" --plan 200,5O3
usage_err "a bad delay is named" "plan entry 1 '200@20': the delay: '20': units required" --plan 200@20
usage_err "a bad --listen" "--listen: 'nowhere' is not HOST:PORT" --listen nowhere
usage_err "a bad --duration" "--duration: '5': units required" --duration 5
usage_err "an unknown option" "unknown option '--bogus'" --bogus
usage_err "a missing argument" "option '--plan' needs an argument" --plan
usage_err "--tls-cert without --tls-key" "--tls-cert and --tls-key go together" --tls-cert "$TMP/c.pem"
usage_err "an extra argument" "unexpected argument 'x'" x
expect_exit "a log file that cannot be opened: exit 2" 2 "$FLEETSIM" receiver --log "$TMP/no/such/dir/log"
contains "... said" "$TMP/no/such/dir/log: No such file or directory" "$TMP/out"
expect_exit "a host that is not an address: exit 2" 2 "$FLEETSIM" receiver --listen localhost:0
contains "... said" "'localhost': not an IPv4 or IPv6 address" "$TMP/out"
expect_exit "--help: exit 0" 0 "$FLEETSIM" receiver --help
contains "--help shows the plan's form" "STATUS[@DELAY][xCOUNT]" "$TMP/out"
expect_exit "fleetsim help receiver" 0 "$FLEETSIM" help receiver

# the conformance runner's receivers: --receiver is an address
expect_exit "conform --receiver that is not an address: exit 2" 2 "$FLEETSIM" conform --receiver nope scenarios/conformance/jt808
contains "... said" "fleetsim conform: --receiver: 'nope' is not an IPv4 or IPv6 address" "$TMP/out"

# a conformance case's receiver, pushed to by curl on the port --receiver fixes:
# the push that matches passes the case, the others are its evidence; a push that
# never comes fails the next case
SUITE="$TMP/push-suite"
mkdir -p "$SUITE"
echo '{"name": "push-e2e", "protocol": "jt808"}' >"$SUITE/suite.json"
cat >"$SUITE/10-push.json" <<'JSON'
{"cases": [
 {"id": "PUSH-E2E-001", "ref": "004 5", "objective": "a push that matches arrives", "level": "MUST", "steps": [
   {"receiver_plan": "503x1,200"},
   {"expect_push": {"notifyType": "deviceDataChanged", "match": {"deviceId": "d1"}}, "within": "30s"},
   {"bind": {"dev": "deviceId"}}, {"verify": "${dev} == d1"}]},
 {"id": "PUSH-E2E-002", "ref": "004 5", "objective": "a push that never comes", "level": "MUST", "steps": [
   {"expect_push": {"notifyType": "deviceDeleted"}, "within": "2s"}]}]}
JSON
RP=$(free_port)
(
    for _ in $(seq 600); do
        code=$(curl -s -m 2 -o /dev/null -w '%{http_code}' -d '{"notifyType":"deviceAdded","deviceId":"d0"}' \
            "http://127.0.0.1:$RP/push" 2>/dev/null)
        case "$code" in 2*|5*) break ;; esac
        sleep 0.1
    done
    curl -s -m 2 -o /dev/null -d '{"notifyType":"deviceDataChanged","deviceId":"d1"}' "http://127.0.0.1:$RP/push"
) &
PUSHER=$!
"$FLEETSIM" conform "$SUITE" --receiver "127.0.0.1:$RP" --jobs 2 --report "$TMP/rep" >"$TMP/c.out" 2>&1; rc=$?
wait "$PUSHER"
same "conform: a push case passes, the one whose push never comes fails (exit 1)" "$rc" 1
python3 - "$TMP/rep/report.json" >"$TMP/rep.txt" 2>&1 <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for c in r["cases"]:
    print(c["id"], c["verdict"], "|", c["observed"])
    print(c["wire_log"])
PY
contains "... PUSH-E2E-001 passes" "PUSH-E2E-001 PASS" "$TMP/rep.txt"
contains "... PUSH-E2E-002 fails: no push" "PUSH-E2E-002 FAIL | no push" "$TMP/rep.txt"
contains "... the wire log has the receiver's URL" "receiver at http://127.0.0.1:$RP" "$TMP/rep.txt"
contains "... and the pushes skipped" "skipped: notifyType deviceDataChanged, got deviceAdded" "$TMP/rep.txt"
if grep -qE '^\+[0-9.]+ push 2 < POST /push answered (200|503): \{"notifyType":"deviceDataChanged","deviceId":"d1"\}$' "$TMP/rep.txt"; then
    ok "... and the one that matched"
else
    nok "... and the one that matched" "$(cat "$TMP/rep.txt")"
fi
contains "... and the receiver's summary" "receiver: " "$TMP/rep.txt"
