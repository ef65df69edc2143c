#!/usr/bin/env bash
# Quick runs without a file (the flags are overrides, checked like the file), a
# scenario from standard input, a folder as a suite; and the evidence a run
# exports as it goes: Prometheus metrics (checked by a strict reader, and by
# promtool when Debian's prometheus package is there), the CSV timeline, the
# trace of named terminals and a pcap that tshark reads without a complaint.
. "$(dirname "$0")/lib.sh"
py() { python3 - "$@"; }

# --- quick runs ------------------------------------------------------------------------
"$FLEETSIM" run --protocol jt808 -c 20 -d 3s --ramp 100/s --seed 7 -q >"$TMP/quick.out" 2>&1; rc=$?
if [ $rc -eq 0 ] && grep -q "QUICK-ONLINE-001 *PASS .*20 of 20 did" "$TMP/quick.out"; then
    ok "fleetsim run --protocol jt808 -c 20 -d 3s runs with no file"
else
    nok "fleetsim run --protocol jt808 -c 20 -d 3s runs with no file" "exit $rc" "$(tail -8 "$TMP/quick.out")"
fi
expect_exit "a quick flag is checked like the file (--ramp fast)" 2 "$FLEETSIM" run --protocol jt808 --ramp fast -n
contains "... and the message names the field" "fleets[0].ramp" "$TMP/out"
expect_exit "an unknown protocol is an input error" 2 "$FLEETSIM" run --protocol nope -n
contains "... that lists the known ones" "is not one of jt808" "$TMP/out"
expect_exit "--set past the end of a list is an input error" 2 "$FLEETSIM" run scenarios/quickstart.json \
    --set 'fleets[5].count=1' -n
contains "... naming the list" "'fleets' has 2 items" "$TMP/out"
"$FLEETSIM" run scenarios/quickstart.json --set 'fleets[0].heartbeat=7s' --set 'platform.idle_timeout=2500ms' -n \
    >"$TMP/out" 2>&1; rc=$?
if [ $rc -eq 0 ] && grep -q "heartbeat 7.00s" "$TMP/out"; then
    ok "--set takes a value with a unit as the string it is (7s, 2500ms: not the number before the unit)"
else
    nok "--set takes a value with a unit as the string it is" "exit $rc" "$(head -4 "$TMP/out")"
fi
"$FLEETSIM" run scenarios/quickstart.json --set 'fleets[*].count=3' --set 'fleets[0].version=2019' -n >"$TMP/set.out" 2>&1
if grep -q "6 terminals" "$TMP/set.out" || grep -q "terminals: 6" "$TMP/set.out"; then
    ok "--set on every fleet and on one (the plan has 6 terminals)"
else
    nok "--set on every fleet and on one (the plan has 6 terminals)" "$(head -12 "$TMP/set.out")"
fi

# --- standard input and a folder -------------------------------------------------------
cat >"$TMP/pass.json" <<'JSON'
{"name": "p", "duration": "2s", "fleets": [{"id": "a", "protocol": "jt808", "count": 5}],
 "expect": [{"id": "P-ONLINE-001", "state": "authenticated", "within": "2s"}]}
JSON
"$FLEETSIM" run - -q <"$TMP/pass.json" >"$TMP/stdin.out" 2>&1; rc=$?
if [ $rc -eq 0 ] && grep -q "P-ONLINE-001 *PASS" "$TMP/stdin.out"; then ok "run - reads the scenario from standard input"
else nok "run - reads the scenario from standard input" "exit $rc" "$(tail -5 "$TMP/stdin.out")"; fi
mkdir -p "$TMP/suite"
cp "$TMP/pass.json" "$TMP/suite/a-pass.json"
sed 's/"within": "2s"}/"within": "2s"}, {"id": "F-DROP-001", "counter": "terminal.connects", "max": 0}/' \
    "$TMP/pass.json" >"$TMP/suite/b-fail.json"
"$FLEETSIM" run "$TMP/suite" -q --report "$TMP/suite-rep" >"$TMP/suite.out" 2>&1; rc=$?
if [ $rc -eq 1 ] && grep -q "a-pass.json *pass" "$TMP/suite.out" && grep -q "b-fail.json *fail" "$TMP/suite.out" \
   && [ -s "$TMP/suite-rep/a-pass/junit.xml" ] && [ -s "$TMP/suite-rep/b-fail/report.json" ]; then
    ok "run DIR runs every scenario, reports each apart, exits with the worst"
else
    nok "run DIR runs every scenario, reports each apart, exits with the worst" "exit $rc" "$(tail -6 "$TMP/suite.out")"
fi

# --- Prometheus, CSV, trace, pcap ------------------------------------------------------
port=$(free_port)
"$FLEETSIM" run --protocol jt808 -c 10 -d 6s --rate 2 --prometheus "127.0.0.1:$port" --csv "$TMP/t.csv" \
    --trace 13800000001,13800000002 --pcap "$TMP/t.pcap" --report "$TMP/ev" -q >"$TMP/ev.out" 2>&1 &
pid=$!
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
sleep 2.5
py "$port" >"$TMP/metrics" 2>"$TMP/scrape.err" <<'PY'
import sys, urllib.request
r = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=5)
assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4"), r.headers["Content-Type"]
sys.stdout.write(r.read().decode())
PY
wait $pid; rc=$?
[ $rc -eq 0 ] || nok "the exporting run passes" "exit $rc" "$(tail -8 "$TMP/ev.out")"
got=$(py "$TMP/metrics" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
types, seen, vals = {}, set(), {}
name_re = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*$')
sample_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\["\\n])*",?)*\})? (\S+)$')
assert text.endswith("\n")
for line in text.split("\n")[:-1]:
    if line.startswith("# HELP "):
        continue
    if line.startswith("# TYPE "):
        _, _, n, t = line.split(" ")
        assert name_re.match(n) and t in ("counter", "gauge", "histogram") and n not in types, line
        assert t != "counter" or n.endswith("_total"), line
        types[n] = t
        continue
    m = sample_re.match(line)
    assert m, "bad line: " + line
    n, labels, v = m.group(1), m.group(2) or "", float(m.group(3))
    base = re.sub(r'_(bucket|sum|count)$', '', n) if re.sub(r'_(bucket|sum|count)$', '', n) in types and types[re.sub(r'_(bucket|sum|count)$', '', n)] == "histogram" else n
    assert base in types, "sample of an undeclared family: " + line
    vals[n + labels] = v
print(int(vals['fleetsim_terminals{fleet="quick",protocol="jt808"}']),
      int(vals['fleetsim_terminals_in_state{fleet="quick",protocol="jt808",state="authenticated"}']),
      vals['fleetsim_report_latency_seconds_count{fleet="quick",protocol="jt808"}'] > 0)
PY
)
if [ "$got" = "10 10 True" ]; then ok "--prometheus serves the run's metrics in the text format ($got)"
else nok "--prometheus serves the run's metrics in the text format" "$got" "$(head -5 "$TMP/metrics")" "$(cat "$TMP/scrape.err")"; fi
if command -v promtool >/dev/null 2>&1; then
    if promtool check metrics <"$TMP/metrics" >"$TMP/promtool.out" 2>&1; then ok "promtool check metrics finds nothing to say"
    else nok "promtool check metrics finds nothing to say" "$(head -10 "$TMP/promtool.out")"; fi
fi
rows=$(py "$TMP/t.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
head = rows[0]
assert head[0] == "time_s" and "latency_p99_us" in head, head
assert all(len(r) == len(head) for r in rows), "ragged rows"
print(len(rows) - 1, rows[-1][head.index("online")])
PY
)
set -- $rows
if [ "${1:-0}" -ge 4 ] && [ "${2:-}" = 10 ]; then ok "--csv writes a row per second with the columns of its header ($1 rows)"
else nok "--csv writes a row per second with the columns of its header" "$rows"; fi
if grep -q "quick/13800000001 > .*\"msg_id\":\"0x0200\"" "$TMP/ev/trace.txt" && \
   grep -q "quick/13800000002 < .*\"msg_id\":\"0x8001\"" "$TMP/ev/trace.txt" && \
   ! grep -q "quick/13800000003" "$TMP/ev/trace.txt"; then
    ok "--trace writes the named terminals' frames, both ways, decoded (and no others)"
else
    nok "--trace writes the named terminals' frames, both ways, decoded (and no others)" "$(head -4 "$TMP/ev/trace.txt")"
fi
if command -v tshark >/dev/null 2>&1; then
    tshark -r "$TMP/t.pcap" -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE \
        -T fields -e tcp.len -e tcp.checksum.status -e ip.checksum.status -e _ws.malformed -e tcp.analysis.flags \
        >"$TMP/tshark.out" 2>"$TMP/tshark.err"
    got=$(py "$TMP/tshark.out" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
data = [r for r in rows if int(r[0] or 0) > 0]
bad = [r for r in rows if r[1] != "1" or r[2] != "1" or (len(r) > 3 and r[3]) or (len(r) > 4 and r[4])]
print(len(rows) > 0 and len(data) > 0 and not bad, len(data))
PY
)
    n_frames=$(grep -c "quick/1380000000[12] [<>]" "$TMP/ev/trace.txt")
    set -- $got
    if [ "${1:-}" = True ] && [ "${2:-0}" = "$n_frames" ]; then
        ok "tshark reads the pcap: every traced chunk a TCP segment ($2), checksums good, nothing malformed"
    else
        nok "tshark reads the pcap: every traced chunk a TCP segment, checksums good, nothing malformed" \
            "$got, trace chunks $n_frames" "$(head -5 "$TMP/tshark.out")" "$(tail -3 "$TMP/tshark.err")"
    fi
fi
