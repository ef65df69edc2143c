#!/usr/bin/env bash
# make bench: 10,000 JT/T 808 terminals (half 2013, half 2019) against the embedded
# gateway on this machine; 100,000 held reporting 10,000/s; 10,000 at 40,000 and at
# 20,000 reports/s; then 10,000 replay terminals over TCP (against fleetsim
# serve) and 10,000 over UDP (against libcoap's coap-server).  Prints the figures the foundation is judged by: time to
# register and authenticate all, location reports per second end to end, p99
# report -> 0x8001 latency, resident memory per terminal, the report latency in
# the second after a 0x8104 to all of them; and fails when not every report was
# acknowledged, a command went unanswered or a connection was lost.
set -eu
case ${1:-} in
-h|--help)
    echo "usage: tests/bench.sh [FLEETSIM]   (default ./fleetsim)"
    echo "  BENCH_CASES='jt808 held-100k rate-40k rate-20k tls-10k replay' picks the cases,"
    echo "  BENCH_DIR=DIR runs in a new folder under DIR (default /tmp), BENCH_LAG=1 adds the loop-lag probe"
    exit 0;;
esac
FLEETSIM=${1:-./fleetsim}
if [ ! -x "$FLEETSIM" ] || [ -d "$FLEETSIM" ]; then
    echo "bench: $FLEETSIM is not an executable fleetsim binary (usage: tests/bench.sh [FLEETSIM])" >&2
    exit 2
fi
N=${BENCH_TERMINALS:-10000}
DUR=${BENCH_DURATION:-40s}
EVERY=${BENCH_REPORT_EVERY:-2s}
GW_PROCS=${BENCH_GW_PROCS:-1}
CMD_AT=${BENCH_COMMAND_AT:-20s}   # a 0x8104 to every terminal then: the data path must not stall
dir=$(mktemp -d "${BENCH_DIR:-/tmp}/fleetsim-bench-XXXXXX")
[ -n "${BENCH_KEEP:-}" ] || trap 'rm -rf "$dir"' EXIT
half=$((N / 2))
cat >"$dir/bench.json" <<JSON
{
  "name": "bench-jt808-$N",
  "description": "$N JT/T 808 terminals, reports every $EVERY, against the embedded gateway",
  "duration": "$DUR",
  "platform": {"procs": $GW_PROCS},
  "fleets": [
    {"id": "t2013", "protocol": "jt808", "version": 2013, "count": $half, "ramp": "2500/s",
     "phone": "13900000000+", "heartbeat": "60s", "report": {"every": "$EVERY"}, "ack_timeout": "10s"},
    {"id": "t2019", "protocol": "jt808", "version": 2019, "count": $((N - half)), "ramp": "2500/s",
     "phone": "13950000000+", "heartbeat": "60s", "report": {"every": "$EVERY"}, "ack_timeout": "10s"}
  ],
  "steps": [
    {"at": "$CMD_AT", "command": {"fleet": "t2013", "msg": "0x8104"}},
    {"at": "$CMD_AT", "command": {"fleet": "t2019", "msg": "0x8104"}}
  ],
  "expect": [
    {"id": "BENCH-CMD-001", "reply": "0x0104", "to": "0x8104"},
    {"id": "BENCH-ONLINE-001", "state": "authenticated", "within": "30s"},
    {"id": "BENCH-HELD-001", "state": "authenticated"},
    {"id": "BENCH-DROP-001", "counter": "terminal.disconnects", "max": 0},
    {"id": "BENCH-REPORTS-001", "counter": "terminal.reports", "min": 1},
    {"id": "BENCH-ACKED-001", "ledger": "acked"}
  ]
}
JSON
rc=0
run_case() { # name scenario-file [run options]: run it, print its wall time; a failure makes the bench fail
    local s e r name=$1 file=$2
    shift 2
    s=$(date +%s.%N)
    set +e
    "$FLEETSIM" run "$file" --report "$dir/$name" --status-interval 5s "$@"
    r=$?
    set -e
    e=$(date +%s.%N)
    echo "bench: $name wall time $(awk -v a="$s" -v b="$e" 'BEGIN{printf "%.1f", b - a}') s, exit $r"
    [ $r -eq 0 ] || rc=$r
}
# BENCH_CASES picks the cases (all by default); BENCH_REPLAY=0 leaves the replay ones out.
CASES=${BENCH_CASES:-jt808 held-100k rate-40k rate-20k tls-10k replay}
[ "${BENCH_REPLAY:-1}" = 0 ] && CASES=${CASES//replay/}
want() { case " $CASES " in *" $1 "*) return 0 ;; esac; return 1; }

# A JT/T 808 load at a fixed report rate: N terminals (half 2013, half 2019) reporting
# every E for D, gateway processes G.  Prints the rate reached and the p99 of the
# report -> 0x8001 latency over the run and in its worst second once every terminal
# is online (a second's p99 is what a user sees stall), against the target in ms.
load_case() { # name terminals every duration gateways target-p99-ms
    local name=$1 n=$2 every=$3 d=$4 g=$5 target=$6 h=$(($2 / 2))
    cat >"$dir/$name.json" <<JSON
{"name": "bench-$name", "duration": "$d", "platform": {"procs": $g, "idle_timeout": "1h"},
 "fleets": [
  {"id": "a", "protocol": "jt808", "version": 2013, "count": $h, "ramp": "5000/s",
   "phone": "13900000000+", "heartbeat": "120s", "report": {"every": "$every"}, "ack_timeout": "10s"},
  {"id": "b", "protocol": "jt808", "version": 2019, "count": $((n - h)), "ramp": "5000/s",
   "phone": "13950000000+", "heartbeat": "120s", "report": {"every": "$every"}, "ack_timeout": "10s"}],
 "expect": [
  {"id": "BENCH-HELD-001", "state": "authenticated"},
  {"id": "BENCH-DROP-001", "counter": "terminal.disconnects", "max": 0},
  {"id": "BENCH-ACKED-001", "ledger": "acked"}]}
JSON
    echo "bench: $name: $n terminals reporting every $every for $d, $g gateway process(es)"
    local before=$rc lagdir=${FLEETSIM_LOOP_LAG:-}
    if [ -n "${BENCH_LAG:-}" ]; then lagdir=$dir/lag-$name; mkdir -p "$lagdir"; fi
    FLEETSIM_LOOP_LAG=$lagdir run_case "$name" "$dir/$name.json" --csv "$dir/$name.csv" --status-interval 1s >"$dir/$name.log" 2>&1
    sed -n '/^figures:/,/^reports:/p' "$dir/$name.log" | sed '1d;$d'
    # csv: time_s,elapsed_s,terminals,online,reports_per_s,p50_us,p99_us,max_us,...
    awk -F, -v name="$name" -v target="$target" 'NR > 1 && $4 == $3 && $3 > 0 {
            if (!on) { on = 1; next }        # the second everyone came online is still the ramp
            secs++; rate += $5; if ($7 > worst) { worst = $7; at = $1 } }
        END {
            if (!secs) { printf "bench: %s: never all online\n", name; exit }
            printf "bench: %s: %.0f reports/s over %d s with all online; worst second p99 %.1f ms (at %.0f s); target p99 < %s ms: %s\n",
                   name, rate / secs, secs, worst / 1000, at, target, worst / 1000 < target ? "met" : "MISSED" }' "$dir/$name.csv"
    [ -z "${BENCH_LAG:-}" ] || lag_summary "$name" "$lagdir"
    grep "^bench: $name wall time" "$dir/$name.log"
    [ "$rc" = "$before" ] || tail -20 "$dir/$name.log" >&2
}

# BENCH_LAG=1: the loop-lag probe (sim/core/lag.h) in every process of a load case; per
# process, its longest loop iteration and its longest named section over the run, each
# with the CPU the loop's thread spent in it, how often it was descheduled while
# runnable and how often it blocked in a system call (a long stall with little CPU is
# the machine's other work or a wait, not our work), its CPU share, and the section
# that took the most CPU at once.
lag_summary() { # name lag-dir
    local f
    for f in "$2"/lag-*.txt; do
        [ -s "$f" ] || continue
        awk -v name="$1" -v who="$(basename "$f" .txt | sed 's/^lag-//; s/-[0-9]*$//')" '
            # time iters N busy B% cpu C% ivcsw K worst W ms cpu C ms ivcsw I vcsw V at T
            # over1ms N over5ms N section S W ms cpu C ms ivcsw I vcsw V at T steal S%
            { secs++; cpu += $7 + 0; if ($40 + 0 > steal) steal = $40 + 0
              if ($11 + 0 > w) { w = $11; wc = $14; wi = $17; wv = $19 }
              if ($28 + 0 > s) { s = $28; sc = $31; si = $34; sv = $36; sw = $27 }
              if ($31 + 0 > scmax) { scmax = $31; scw = $27 } }
            END { if (secs) printf "bench: %s: loop %s: cpu %.1f%%; longest iteration %.2f ms (cpu %.2f ms, descheduled %d, blocked %d); longest section %s %.2f ms (cpu %.2f ms, descheduled %d, blocked %d); most cpu in a section: %s %.2f ms; hypervisor steal up to %.1f%% in a second\n",
                                  name, who, cpu / secs, w, wc, wi, wv, sw, s, sc, si, sv, scw, scmax, steal }' "$f"
    done
}

echo "bench: cases: $CASES; $(nproc) cores"
if want jt808; then
    echo "bench: $N terminals, reports every $EVERY for $DUR"
    run_case jt808 "$dir/bench.json"
fi
# 100,000 held (20,000 descriptors a process: workers and gateways both spread)
want held-100k && load_case held-100k 100000 10s 70s 8 20
want rate-40k && load_case rate-40k 10000 250ms 70s 2 20
want rate-20k && load_case rate-20k 10000 500ms 40s 1 5

# 10,000 TLS terminals (one shared device certificate, verified by the gateway
# against the device root CA), all started at once: handshakes per second (TLS,
# then registration and authentication, to all online) and memory per TLS
# terminal on both sides.  Certificates made here, in the bench's folder.
if want tls-10k; then
    TN=${BENCH_TLS_TERMINALS:-10000}
    tests/tls-certs.sh "$dir/certs" 1
    cat >"$dir/tls-10k.json" <<JSON
{"name": "bench-tls-10k", "duration": "30s",
 "platform": {"procs": 2, "idle_timeout": "1h",
              "tls": {"cert": "certs/server.crt", "key": "certs/server.key", "device_ca": "certs/device-ca.crt"}},
 "fleets": [{"id": "t", "protocol": "jt808", "version": 2019, "count": $TN, "transport": "tls",
   "phone": "13900000000+", "heartbeat": "120s", "report": {"every": "10s"}, "ack_timeout": "20s",
   "tls": {"ca": "certs/server-ca.crt", "cert": "certs/dev-0.crt", "key": "certs/dev-0.key"}}],
 "expect": [
  {"id": "BENCH-TLS-001", "state": "authenticated", "within": "25s"},
  {"id": "BENCH-TLS-002", "counter": "gateway.tls_handshakes", "min": $TN},
  {"id": "BENCH-DROP-001", "counter": "terminal.disconnects", "max": 0},
  {"id": "BENCH-ACKED-001", "ledger": "acked"}]}
JSON
    echo "bench: tls-10k: $TN TLS terminals with device certificates, all at once, 2 gateway processes"
    before=$rc
    run_case tls-10k "$dir/tls-10k.json" --status-interval 5s >"$dir/tls-10k.log" 2>&1
    sed -n '/^figures:/,/^reports:/p' "$dir/tls-10k.log" | sed '1d;$d'
    awk -v n="$TN" '
        /all [0-9]+ terminals online \(authenticated\) after/ { for (i = 1; i <= NF; i++) if ($i == "after") t = $(i + 1) }
        /resident memory per terminal:/ { w = $5 }
        /gateway resident memory:/ { g = $4 }
        END {
            s = t; ms = 0
            if (s ~ /ms$/) { sub(/ms$/, "", s); ms = s + 0 } else if (s ~ /us$/) { sub(/us$/, "", s); ms = s / 1000 } else if (s ~ /s$/) { sub(/s$/, "", s); ms = s * 1000 }
            if (ms > 0) printf "bench: tls-10k: %d terminals online over TLS in %s: %.0f handshakes/s (with registration and authentication)\n", n, t, n / (ms / 1000)
            else printf "bench: tls-10k: never all online\n"
            printf "bench: tls-10k: memory per TLS terminal: %.1f kB in the workers, %.1f kB in the gateways\n", w / 1024, g / n }' "$dir/tls-10k.log"
    grep "^bench: tls-10k wall time" "$dir/tls-10k.log"
    [ "$rc" = "$before" ] || tail -20 "$dir/tls-10k.log" >&2
fi
want replay || exit $rc

# replay fleets of RN terminals each: TCP against fleetsim serve (JT/T 808 heartbeats
# from a template, stuffed on the wire, answered 0x8001), and UDP against libcoap's
# coap-server (CoAP GETs, answered 2.05).  Messages per second and memory per terminal.
RN=${BENCH_REPLAY_TERMINALS:-10000}
RDUR=${BENCH_REPLAY_DURATION:-20s}
free_port() {
    local p
    for p in $(seq $((20000 + RANDOM % 20000)) 1 60999); do
        if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then echo "$p"; return; fi
    done
}
tport=$(free_port)
"$FLEETSIM" serve --port "$tport" --db "$dir/serve.db" --procs 2 --idle-timeout 1h >"$dir/serve.log" 2>&1 &
spid=$!
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$tport) 2>/dev/null && break; sleep 0.1; done
cat >"$dir/replay-tcp.json" <<JSON
{"name": "bench-replay-tcp-$RN", "duration": "$RDUR",
 "fleets": [{"id": "tcp", "protocol": "replay", "count": $RN, "ramp": "2500/s",
             "target": "tcp://127.0.0.1:$tport", "ack_timeout": "10s", "framing": "delim:jt808",
             "device_id": "013700000000+",
             "messages": [{"name": "heartbeat", "template": "7E [0002 0000 {id:bcd6} {serial:2}] {xor8} 7E",
                           "every": "2s",
                           "reply": "7E [8001 0005 {id:bcd6} ?? ?? {serial:2} 0002 ??] {xor8} 7E"}]}],
 "expect": [{"id": "BENCH-RTCP-ONLINE-001", "state": "authenticated", "within": "30s"},
            {"id": "BENCH-RTCP-DROP-001", "counter": "terminal.disconnects", "max": 0},
            {"id": "BENCH-RTCP-UNMATCHED-001", "counter": "terminal.unmatched", "max": 0},
            {"id": "BENCH-RTCP-ACKED-001", "ledger": "acked"}]}
JSON
echo "bench: replay over TCP, $RN terminals"
run_case replay-tcp "$dir/replay-tcp.json"
kill -TERM $spid; wait $spid || true

coap=$(command -v coap-server-notls || command -v coap-server-openssl || command -v coap-server || true)
if [ -z "$coap" ]; then
    echo "bench: no coap-server (Debian package libcoap3-bin): UDP replay skipped" >&2
    exit 1
fi
uport=$(free_port)
"$coap" -A 127.0.0.1 -p "$uport" >"$dir/coap.log" 2>&1 &
cpid=$!
sleep 0.3
# coap-server answers some 2,500 GETs a second on this machine: every 5 s keeps it within that
cat >"$dir/replay-udp.json" <<JSON
{"name": "bench-replay-udp-$RN", "duration": "$RDUR",
 "fleets": [{"id": "udp", "protocol": "replay", "count": $RN, "ramp": "2500/s", "transport": "udp",
             "target": "udp://127.0.0.1:$uport", "ack_timeout": "10s",
             "messages": [{"name": "get", "template": "40 01 {serial:2}", "every": "5s",
                           "reply": "60 45 {serial:2} *"}]}],
 "expect": [{"id": "BENCH-RUDP-ONLINE-001", "state": "authenticated", "within": "30s"},
            {"id": "BENCH-RUDP-UNMATCHED-001", "counter": "terminal.unmatched", "max": 0},
            {"id": "BENCH-RUDP-ACKED-001", "ledger": "acked"}]}
JSON
echo "bench: replay over UDP, $RN terminals"
run_case replay-udp "$dir/replay-udp.json"
kill $cpid; wait $cpid 2>/dev/null || true
exit $rc
