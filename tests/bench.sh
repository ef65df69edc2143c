#!/usr/bin/env bash
# make bench: 10,000 JT/T 808 terminals (half 2013, half 2019) against the embedded
# gateway on this machine.  Prints the figures the foundation is judged by: time to
# register and authenticate all, location reports per second end to end, p99
# report -> 0x8001 latency, resident memory per terminal, the report latency in
# the second after a 0x8104 to all of them; and fails when not every report was
# acknowledged, a command went unanswered or a connection was lost.
set -eu
FLEETSIM=${1:-./fleetsim}
N=${BENCH_TERMINALS:-10000}
DUR=${BENCH_DURATION:-40s}
EVERY=${BENCH_REPORT_EVERY:-2s}
GW_PROCS=${BENCH_GW_PROCS:-1}
CMD_AT=${BENCH_COMMAND_AT:-20s}   # a 0x8104 to every terminal then: the data path must not stall
dir=$(mktemp -d /tmp/fleetsim-bench-XXXXXX)
trap 'rm -rf "$dir"' EXIT
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
echo "bench: $N terminals, reports every $EVERY for $DUR, $(nproc) cores"
start=$(date +%s.%N)
set +e
"$FLEETSIM" run "$dir/bench.json" --report "$dir/report" --status-interval 5s
rc=$?
set -e
end=$(date +%s.%N)
echo "bench: wall time $(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.1f", b - a}') s, exit $rc"
exit $rc
