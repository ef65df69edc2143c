#!/usr/bin/env bash
# Sharded runs and `fleetsim report merge`: a scenario run whole, and run as
# --shard 1/2 and --shard 2/2 then merged, give the same verdicts and the same
# deterministic counters; the merge's percentiles are those of the union of the
# shards' histogram buckets.  Also --stats, the live snapshot on a unix socket,
# and the merges that must be refused.
. "$(dirname "$0")/lib.sh"

# Reports are off until a 0x8103 sets their interval to 1 s at 1 s, so every
# terminal reports on the same schedule whichever process runs it: at about 2, 3,
# 4 and 5 s, 4 reports each, 160 in all, none near the end at 5.5 s.
cat >"$TMP/rm.json" <<'JSON'
{"name": "report-merge", "duration": "5500ms", "time_scale": 2,
 "fleets": [{"id": "a", "protocol": "jt808", "version": 2013, "count": 25, "ramp": "100/s", "report": null},
            {"id": "b", "protocol": "jt808", "version": 2019, "count": 15, "report": null}],
 "steps": [{"at": "1s", "command": {"fleet": "a", "msg": "0x8103", "body": {"params": [{"id": "0x0029", "value": 1}]}}},
           {"at": "1s", "command": {"fleet": "b", "msg": "0x8103", "body": {"params": [{"id": "0x0029", "value": 1}]}}},
           {"at": "3s", "command": {"fleet": "b", "msg": "0x8104", "fraction": 0.5}}],
 "expect": [{"id": "RM-AUTH-001", "state": "authenticated", "within": "3s"},
            {"id": "RM-HELD-001", "fleet": "a", "state": "authenticated"},
            {"id": "RM-TRANS-001", "transitions": ["connecting", "registered", "authenticated"]},
            {"id": "RM-SET-001", "reply": "0x0001", "to": "0x8103"},
            {"id": "RM-QUERY-001", "fleet": "b", "reply": "0x0104", "to": "0x8104"},
            {"id": "RM-REPORTS-001", "counter": "terminal.reports", "min": 160, "max": 160},
            {"id": "RM-PERF-001", "metric": "report.latency.p99", "below": "1s"},
            {"id": "RM-LEDGER-001", "ledger": "acked"}]}
JSON

have_py=0
if command -v python3 >/dev/null 2>&1; then have_py=1; fi
skip() { ok "$1 # skipped: python3 not found"; }

expect_exit "the scenario passes run whole" 0 "$FLEETSIM" run "$TMP/rm.json" -q --report "$TMP/whole"
contains "whole: 8 cases pass" "8 cases: 8 pass" "$TMP/out"
check "report.json carries the snapshot" grep -q '"snapshot":' "$TMP/whole/report.json"
check "report.json keeps its metrics" grep -q '"reports_acked":' "$TMP/whole/report.json"

# the two shards side by side; shard 1 also serves its snapshot on a socket
sock="$TMP/stats.sock"
"$FLEETSIM" run "$TMP/rm.json" -q --shard 1/2 --report "$TMP/s1" --stats "$sock" >"$TMP/s1.out" 2>&1 &
p1=$!
"$FLEETSIM" run "$TMP/rm.json" -q --shard 2/2 --report "$TMP/s2" >"$TMP/s2.out" 2>&1 &
p2=$!
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
if [ "$have_py" = 1 ]; then
    # one client takes one document and goes; another stays for two more
    python3 - "$sock" >"$TMP/stats.out" 2>&1 <<'PY'
import json, socket, sys
def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(sys.argv[1])
    return s, s.makefile("r")
s, f = connect()
one = json.loads(f.readline())
s.close()
assert one["format"] == "fleetsim-snapshot" and one["version"] == 1, one.get("format")
assert one["shard"] == {"count": 2, "covered": [1]}, one["shard"]
assert [x["planned"] for x in one["fleets"]] == [13, 8], [x["planned"] for x in one["fleets"]]
s, f = connect()
docs = [json.loads(f.readline()) for _ in range(3)]
s.close()
ticks = [len(d["timeline"]) for d in docs]
assert ticks[2] > ticks[1] >= ticks[0], ticks
print("stats ok", ticks)
PY
    rc=$?
    if [ $rc -eq 0 ]; then ok "--stats: a JSON snapshot on connect, then one per second"; else nok "--stats: a JSON snapshot on connect, then one per second" "$(tail -5 "$TMP/stats.out")"; fi
else
    skip "--stats: a JSON snapshot on connect, then one per second"
fi
wait $p1; rc1=$?
wait $p2; rc2=$?
if [ $rc1 -eq 1 ] && [ $rc2 -eq 1 ] && grep -q "RM-REPORTS-001  FAIL" "$TMP/s1.out" && grep -q "RM-REPORTS-001  FAIL" "$TMP/s2.out"; then
    ok "each shard alone fails the whole fleet's counter (exit 1), and passes the rest"
else
    nok "each shard alone fails the whole fleet's counter (exit 1), and passes the rest" "exit $rc1 $rc2" "$(tail -14 "$TMP/s1.out")"
fi
contains "a shard's verdicts count its slice" "all 21 terminals of all fleets reach authenticated" "$TMP/s1.out"
check "--stats removes its socket when the run ends" test ! -e "$sock"

expect_exit "report merge of the two shards passes" 0 \
    "$FLEETSIM" report merge "$TMP/s1/report.json" "$TMP/s2/report.json" -o "$TMP/merged.json" --junit "$TMP/merged.xml"
contains "merge: 8 cases pass" "8 cases: 8 pass" "$TMP/out"
contains "merge: the counter of the whole fleet holds again" "terminal.reports >= 160 and <= 160" "$TMP/out"
contains "merge: says which shards it joined" "shards 1,2/2" "$TMP/out"
if command -v xmllint >/dev/null 2>&1; then
    check "merge: the JUnit file is well-formed XML" xmllint --noout "$TMP/merged.xml"
else
    check "merge: the JUnit file was written" grep -q "<testsuites" "$TMP/merged.xml"
fi

if [ "$have_py" = 1 ]; then
    python3 - "$TMP/whole/report.json" "$TMP/merged.json" "$TMP/s1/report.json" "$TMP/s2/report.json" \
        >"$TMP/cmp.out" 2>&1 <<'PY'
import json, sys
whole, merged, s1, s2 = (json.load(open(p)) for p in sys.argv[1:5])
bad = []
def same(what, a, b):
    if a != b:
        bad.append("%s: whole %r, merged %r" % (what, a, b))
same("verdicts", [(c["id"], c["verdict"]) for c in whole["cases"]], [(c["id"], c["verdict"]) for c in merged["cases"]])
# what does not depend on timing: terminals, states, reports on the fixed schedule, commands
keys = ["started", "connects", "reports", "reports_acked", "commands", "replies", "disconnects"]
for fid in ["a", "b"]:
    w, m = whole["metrics"]["fleets"][fid], merged["metrics"]["fleets"][fid]
    for k in keys:
        same("%s.%s" % (fid, k), w[k], m[k])
    same(fid + ".states_reached", w["states_reached"], m["states_reached"])
    same(fid + ".states_now", w["states_now"], m["states_now"])
    same(fid + ".ledger", w["ledger"], m["ledger"])
    same(fid + ".report_latency.n", w["report_latency"]["n"], m["report_latency"]["n"])
ws, ms = whole["snapshot"], merged["snapshot"]
same("planned", [f["planned"] for f in ws["fleets"]], [f["planned"] for f in ms["fleets"]])
same("commands", [f["commands"] for f in ws["fleets"]], [f["commands"] for f in ms["fleets"]])
same("partials", [(e["id"], e["ok"], e["total"]) for e in ws["expect"]], [(e["id"], e["ok"], e["total"]) for e in ms["expect"]])
same("gateway.accepted", whole["metrics"]["gateway"]["accepted"], merged["metrics"]["gateway"]["accepted"])
same("shards", ms["shard"], {"count": 2, "covered": [1, 2]})

# percentiles of the merge are those of the union of the shards' buckets
def lower(b):
    if b < 64:
        return b
    e, sub = 6 + (b - 64) // 32, (b - 64) % 32
    return (32 + sub) << (e - 5)
def upper(b):
    return 2**64 - 1 if b >= 1183 else lower(b + 1) - 1
def pct(h, p):
    n = h["n"]
    if n == 0:
        return 0
    pm = int(p * 10000 + 0.5)
    rank = max(1, n // 1000000 * pm + ((n % 1000000) * pm + 999999) // 1000000)
    cum = 0
    for b, c in sorted(h["buckets"].items()):
        cum += c
        if cum >= rank:
            v = upper(b)
            return h["min"] if v < h["min"] else min(v, h["max"])
    return h["max"]
union = {"n": 0, "min": 2**64, "max": 0, "buckets": {}}
for s in (s1, s2):
    for f in s["snapshot"]["fleets"]:
        h = f["report_latency"]
        union["n"] += h["n"]
        if h["n"]:
            union["min"] = min(union["min"], h["min"])
            union["max"] = max(union["max"], h["max"])
        for b, c in h["buckets"]:
            union["buckets"][b] = union["buckets"].get(b, 0) + c
tot = merged["metrics"]["total"]["report_latency"]
for p, k in [(50, "p50_us"), (90, "p90_us"), (99, "p99_us"), (99.9, "p999_us")]:
    if pct(union, p) != tot[k]:
        bad.append("%s: merged %r, union of the shards' buckets %r" % (k, tot[k], pct(union, p)))
if union["n"] != tot["n"] or union["max"] != tot["max_us"]:
    bad.append("n/max: merged %r/%r, union %r/%r" % (tot["n"], tot["max_us"], union["n"], union["max"]))
print("\n".join(bad) if bad else "same: verdicts, %d counters, percentiles %s" % (len(keys), {k: tot[k] for k in ("p50_us", "p99_us")}))
sys.exit(1 if bad else 0)
PY
    rc=$?
    if [ $rc -eq 0 ]; then
        ok "whole and merged shards: same verdicts, counters, states, ledger and commands"
    else
        nok "whole and merged shards: same verdicts, counters, states, ledger and commands" "$(head -12 "$TMP/cmp.out")"
    fi
    cat "$TMP/cmp.out"
else
    skip "whole and merged shards: same verdicts, counters, states, ledger and commands"
fi

# merging the merge with nothing new changes nothing: it is a report like any other
expect_exit "a merged report merges again (alone)" 0 "$FLEETSIM" report merge "$TMP/merged.json" -q

# refused merges: exit 2 and why
expect_exit "the same shard twice is refused" 2 "$FLEETSIM" report merge "$TMP/s1/report.json" "$TMP/s1/report.json"
contains "... saying which" "shard 1/2 twice" "$TMP/out"
expect_exit "a shard and the whole run are refused" 2 "$FLEETSIM" report merge "$TMP/s1/report.json" "$TMP/whole/report.json"
contains "... as different splits" "shards of different splits" "$TMP/out"
sed 's/"hash":[[:space:]]*"fnv1a64:[0-9a-f]*"/"hash": "fnv1a64:0000000000000000"/' "$TMP/s2/report.json" >"$TMP/other.json"
expect_exit "reports of different scenarios are refused" 2 "$FLEETSIM" report merge "$TMP/s1/report.json" "$TMP/other.json"
contains "... as different scenarios" "different scenarios" "$TMP/out"
sed 's/"name": "report-merge"/"name": "report-merge-changed"/' "$TMP/rm.json" >"$TMP/changed.json"
expect_exit "a scenario file that is not the runs' is refused" 2 \
    "$FLEETSIM" report merge "$TMP/s1/report.json" "$TMP/s2/report.json" --scenario "$TMP/changed.json"
contains "... naming both hashes" "is not the scenario the runs had" "$TMP/out"
sed 's/"buckets":[[:space:]]*\[\[[0-9]*/"buckets": [["x"/' "$TMP/s2/report.json" >"$TMP/broken.json"
expect_exit "a damaged snapshot is an input error" 2 "$FLEETSIM" report merge "$TMP/s1/report.json" "$TMP/broken.json"
contains "... naming the JSON path" "broken.json: snapshot.fleets[0].report_latency.buckets[0][0]: expected a whole number" "$TMP/out"
expect_exit "one shard of two is judged on its own share" 1 "$FLEETSIM" report merge "$TMP/s1/report.json"
contains "... and says so" "shards 1/2 only" "$TMP/out"

expect_exit "report --help exits 0" 0 "$FLEETSIM" report --help
expect_exit "report merge --help exits 0" 0 "$FLEETSIM" report merge --help
expect_exit "report merge without files exits 2" 2 "$FLEETSIM" report merge
expect_exit "report with a REPORT that is not there (no subcommand of that name) exits 2" 2 "$FLEETSIM" report render
for bad in 0/2 3/2 x 1/ /2 1/0 -1/2; do
    expect_exit "--shard $bad is refused" 2 "$FLEETSIM" run "$TMP/rm.json" --shard "$bad" --dry-run
done
expect_exit "--dry-run with --shard" 0 "$FLEETSIM" run "$TMP/rm.json" --shard 2/2 --dry-run
contains "the plan names the shard" "shard 2/2: terminals i of each fleet with i % 2 == 1" "$TMP/out"
contains "the plan counts the slice" "fleet a            jt808          12 terminals" "$TMP/out"
: >"$TMP/not-a-socket"
expect_exit "--stats on a file that is not a socket is refused" 2 "$FLEETSIM" run "$TMP/rm.json" -q --stats "$TMP/not-a-socket"
