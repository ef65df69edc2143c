#!/usr/bin/env bash
# fleetsim conform --shard K/N and the merge of conformance reports: the JT/T 808
# suite run whole, as 2 shards (each its own embedded platform) and as 3 shards
# against one shared `fleetsim serve`; every case falls to exactly one shard
# (--dryrun), the shards never share a device (the phones of their frames), and
# `fleetsim report` of the shards' folders has exactly the whole run's case ids
# and verdicts, in its order; the JUnit of the merge validates against the
# schema, the HTML carries the matrix rows; a missing shard, a report given
# twice, a load run mixed in and a damaged report.json are refused.
. "$(dirname "$0")/lib.sh"
SUITE=scenarios/conformance/jt808
XSD=tests/data/junit.xsd

# --- the slices: --dryrun lists a shard's cases, and the shards cover the run once
"$FLEETSIM" conform "$SUITE" --exclude 'JT808-TLS-*' --dryrun >"$TMP/dry" 2>&1
n_run=$(sed -n 's/^\([0-9]*\) cases to run.*/\1/p' "$TMP/dry")
awk 'NR > 1 && !/not run/ && !/cases to run/ {print $1}' "$TMP/dry" >"$TMP/dry.ids"
for n in 2 3; do
    : >"$TMP/dry$n.all"
    sizes=""
    for k in $(seq "$n"); do
        "$FLEETSIM" conform "$SUITE" --exclude 'JT808-TLS-*' --dryrun --shard "$k/$n" >"$TMP/dry$n-$k" 2>&1
        awk 'NR > 1 && !/not run/ && !/cases chosen to run/ {print $1}' "$TMP/dry$n-$k" >"$TMP/dry$n-$k.ids"
        cat "$TMP/dry$n-$k.ids" >>"$TMP/dry$n.all"
        sizes="$sizes $(wc -l <"$TMP/dry$n-$k.ids")"
    done
    if [ "$(sort "$TMP/dry$n.all")" = "$(sort "$TMP/dry.ids")" ] && [ -z "$(sort "$TMP/dry$n.all" | uniq -d)" ] &&
        [ "$(wc -l <"$TMP/dry.ids")" = "$n_run" ]; then
        ok "--dryrun --shard K/$n: the $n shards list every one of the $n_run cases once (slices of$sizes)"
    else
        nok "--dryrun --shard K/$n: the $n shards list every case once" "$(sort "$TMP/dry$n.all" | uniq -d | head -3)" \
            "$(diff <(sort "$TMP/dry$n.all") <(sort "$TMP/dry.ids") | head -5)"
    fi
done
contains "--dryrun --shard says which shard and how many of the chosen cases" \
    "shard 2/3: $(wc -l <"$TMP/dry3-2.ids") of the $n_run cases chosen to run" "$TMP/dry3-2"
for bad in 0/3 4/3 1/0 x/2 1/2/3 -1/2 2; do
    expect_exit "--shard $bad is a usage error" 2 "$FLEETSIM" conform "$SUITE" --exclude 'JT808-TLS-*' --dryrun --shard "$bad"
done
contains "... saying what K/N must be" "--shard: '2' is not K/N with 1 <= K <= N <= 65536" "$TMP/out"

# --- the whole run and its 2 shards, each against its own embedded platform
"$FLEETSIM" conform "$SUITE" --exclude 'JT808-TLS-*' -q -j2 --report "$TMP/whole" >"$TMP/whole.out" 2>&1 &
w=$!
"$FLEETSIM" conform "$SUITE" --exclude 'JT808-TLS-*' -q --shard 1/2 --report "$TMP/n2-1" >"$TMP/n2-1.out" 2>&1 &
a=$!
"$FLEETSIM" conform "$SUITE" --exclude 'JT808-TLS-*' -q --shard 2/2 --report "$TMP/n2-2" >"$TMP/n2-2.out" 2>&1 &
b=$!
wait $w; rw=$?; wait $a; ra=$?; wait $b; rb=$?
if [ $rw -eq 0 ] && [ $ra -eq 0 ] && [ $rb -eq 0 ]; then
    ok "the suite passes whole and in both of 2 shards against the embedded platform"
else
    nok "the suite passes whole and in 2 shards" "exits $rw $ra $rb" "$(tail -3 "$TMP/n2-1.out" "$TMP/n2-2.out")"
fi
contains "a shard's report says which shard of how many cases it is" "(shard 2/2 of $n_run cases)" "$TMP/n2-2/report.json"

# same_as WHOLE MERGED: the same case ids and verdicts, in the same order
same_as() {
    python3 - "$1" "$2" <<'PY'
import json, sys
w, m = (json.load(open(p)) for p in sys.argv[1:3])
a = [(c["id"], c["verdict"]) for c in w["cases"]]
b = [(c["id"], c["verdict"]) for c in m["cases"]]
if a != b:
    print("whole %d cases, merged %d; first difference: %s" % (len(a), len(b),
          next(((x, y) for x, y in zip(a, b) if x != y), "length")))
    sys.exit(1)
if w["verdict"] != m["verdict"] or sorted(w["metrics"]["not_run"]) != sorted(m["metrics"]["not_run"]):
    print("verdict %s / %s, not_run %s / %s" % (w["verdict"], m["verdict"], w["metrics"]["not_run"], m["metrics"]["not_run"]))
    sys.exit(1)
print("%d cases, the same ids and verdicts" % len(a))
PY
}
expect_exit "fleetsim report of the 2 shards' folders (exit 0: all pass)" 0 \
    "$FLEETSIM" report "$TMP/n2-2" "$TMP/n2-1" -o "$TMP/m2.json"
contains "... saying what it merged" "$n_run cases from 2 reports (shards 1-2 of 2)" "$TMP/out"
check "the merge of 2 shards has exactly the whole run's case ids and verdicts, in its order" same_as "$TMP/whole/report.json" "$TMP/m2.json"

# --- 3 shards side by side against one shared fleetsim serve (and the whole run against another)
port=$(free_port)
"$FLEETSIM" serve --port "$port" --db "$TMP/shared.db" -q >"$TMP/serve.log" 2>&1 &
spid=$!
port2=$(free_port)
while [ "$port2" = "$port" ]; do port2=$(free_port); done
"$FLEETSIM" serve --port "$port2" --db "$TMP/own.db" -q >"$TMP/serve2.log" 2>&1 &
spid2=$!
for _ in $(seq 50); do
    (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && (exec 3<>/dev/tcp/127.0.0.1/$port2) 2>/dev/null && break
    sleep 0.1
done
"$FLEETSIM" conform "$SUITE" --exclude 'JT808-TLS-*' -q -j2 --target "tcp://127.0.0.1:$port2" --report "$TMP/whole-tcp" >"$TMP/wt.out" 2>&1 &
w=$!
pids=""
for k in 1 2 3; do
    "$FLEETSIM" conform "$SUITE" --exclude 'JT808-TLS-*' -q --shard "$k/3" --target "tcp://127.0.0.1:$port" --report "$TMP/n3-$k" \
        >"$TMP/n3-$k.out" 2>&1 &
    pids="$pids $!"
done
rcs=""
for p in $w $pids; do wait "$p"; rcs="$rcs $?"; done
kill -TERM $spid $spid2; wait $spid $spid2
# the scenario cases need the embedded platform: inconclusive (4) against a tcp:// target
fleet_shard=$(grep -l "^JT808-FLEET-" "$TMP"/dry3-?.ids | sed 's/.*dry3-\([0-9]\)\.ids/\1/' | tr '\n' ' ')
want=" 4"
for k in 1 2 3; do case " $fleet_shard" in *" $k "*) want="$want 4" ;; *) want="$want 0" ;; esac; done
if [ "$rcs" = "$want" ]; then
    ok "whole and 3 shards against fleetsim serve: nothing failed (the scenario cases, of shard $fleet_shard, inconclusive: exits$rcs)"
else
    nok "whole and 3 shards against fleetsim serve: nothing failed" "exits$rcs, wanted$want" "$(grep -h "FAIL\|ERROR" "$TMP"/n3-*.out | head -5)"
fi
python3 - "$TMP" >"$TMP/phones" 2>&1 <<'PY'
import json, re, sys
d = sys.argv[1]
def phones(p):
    s = set()
    for c in json.load(open(p))["cases"]:
        for line in (c.get("wire_log") or "").splitlines():
            if " > " in line:
                s.update(re.findall(r'"phone":"(\d+)"', line))
    return s
shard = [phones("%s/n3-%d/report.json" % (d, k)) for k in (1, 2, 3)]
whole = phones(d + "/whole-tcp/report.json")
bad = ["shards %d and %d share %s" % (i + 1, j + 1, sorted(shard[i] & shard[j])[:3])
       for i in range(3) for j in range(i + 1, 3) if shard[i] & shard[j]]
if set().union(*shard) != whole:
    bad.append("the shards' phones are not the whole run's: %s" % sorted(set().union(*shard) ^ whole)[:5])
if bad or not all(shard):
    print("\n".join(bad) or "a shard sent no frame")
    sys.exit(1)
print("phones per shard: %s, %d in all" % ([len(s) for s in shard], len(whole)))
PY
if [ $? -eq 0 ]; then ok "the 3 shards on one target never share a device: $(cat "$TMP/phones")"; else nok "the 3 shards on one target never share a device" "$(cat "$TMP/phones")"; fi

expect_exit "fleetsim report of the 3 shards as JSON (exit 4: the inconclusive scenario cases)" 4 \
    "$FLEETSIM" report "$TMP/n3-1" "$TMP/n3-2" "$TMP/n3-3" -o "$TMP/m3.json"
check "the merge of 3 shards has exactly the whole run's case ids and verdicts, in its order" same_as "$TMP/whole-tcp/report.json" "$TMP/m3.json"
expect_exit "... as JUnit (--format junit)" 4 \
    "$FLEETSIM" report "$TMP/n3-1" "$TMP/n3-2" "$TMP/n3-3" -o "$TMP/m3.junit" --format junit
if xmllint --noout --schema "$XSD" "$TMP/m3.junit" >"$TMP/lint" 2>&1; then
    ok "the JUnit of the merge validates against the JUnit schema"
else
    nok "the JUnit of the merge validates against the JUnit schema" "$(head -5 "$TMP/lint")"
fi
python3 - "$TMP/m3.junit" "$TMP/whole-tcp/report.json" >"$TMP/py" 2>&1 <<'PY'
import json, sys, xml.etree.ElementTree as ET
tcs = ET.parse(sys.argv[1]).getroot().findall(".//testcase")
w = json.load(open(sys.argv[2]))["cases"]
got = [(t.get("name").split(" ")[0], "skipped" if t.find("skipped") is not None else
        "failure" if t.find("failure") is not None else "error" if t.find("error") is not None else "pass") for t in tcs]
want = [(c["id"], {"PASS": "pass", "INCONCLUSIVE": "skipped", "FAIL": "failure", "ERROR": "error"}[c["verdict"]]) for c in w]
assert got == want, (got[:3], want[:3])
print("%d testcases, %d skipped" % (len(got), sum(1 for g in got if g[1] == "skipped")))
PY
if [ $? -eq 0 ]; then ok "... a testcase per case of the whole run, the inconclusive ones <skipped>: $(cat "$TMP/py")"; else nok "... a testcase per case of the whole run" "$(tail -3 "$TMP/py")"; fi
expect_exit "... as HTML (from the file name)" 4 "$FLEETSIM" report "$TMP/n3-1" "$TMP/n3-2" "$TMP/n3-3" -o "$TMP/m3.html"
python3 - "$TMP/m3.html" "$TMP/m3.json" >"$TMP/py" 2>&1 <<'PY'
import json, re, sys
h = open(sys.argv[1], encoding="utf-8").read()
cases = json.load(open(sys.argv[2]))["cases"]
rows = re.findall(r'<tr class="mrow"><th scope="row">([^<]*)</th>', h)
cells = re.findall(r'<a class="cell [a-z]+" href="#case-\d+" data-verdict="([A-Z]+)"', h)
assert rows == ["jt808"], rows
assert cells == [c["verdict"] for c in cases], (len(cells), len(cases))
missing = [c["id"] for c in cases if c["id"] not in h]
assert not missing, missing
print("matrix row %s, %d cells" % (rows, len(cells)))
PY
if [ $? -eq 0 ]; then ok "the HTML of the merge has the matrix: $(cat "$TMP/py")"; else nok "the HTML of the merge has the matrix" "$(tail -3 "$TMP/py")"; fi

# one conformance report rendered again: the same cases, JUnit that validates
expect_exit "one conformance report rendered again as JUnit (exit 0)" 0 "$FLEETSIM" report "$TMP/whole" -o "$TMP/again.xml"
if xmllint --noout --schema "$XSD" "$TMP/again.xml" >"$TMP/lint" 2>&1 &&
    [ "$(grep -c "<testcase" "$TMP/again.xml")" = "$(grep -c "<testcase" "$TMP/whole/junit.xml")" ]; then
    ok "... valid, with a testcase per case as the run's own junit.xml"
else
    nok "... valid, with a testcase per case" "$(head -3 "$TMP/lint")"
fi

# --- what the merge refuses, and the repeated runs it takes
expect_exit "a shard missing is an input error (exit 2)" 2 "$FLEETSIM" report "$TMP/n3-1" "$TMP/n3-3" -o "$TMP/x.json"
contains "... naming the shard and a case of it" "shard 2 of 3 of a run of $n_run cases not given (only 1, 3)" "$TMP/out"
expect_exit "... which --partial merges anyway (the inconclusive cases: exit 4)" 4 \
    "$FLEETSIM" report "$TMP/n3-1" "$TMP/n3-3" --partial -o "$TMP/x.json"
contains "... saying what is missing" "--partial: shard 2 of 3 not given: $(wc -l <"$TMP/dry3-2.ids") of the run's $n_run cases are missing" "$TMP/out"
expect_exit "a report given twice is an input error (exit 2)" 2 "$FLEETSIM" report "$TMP/n3-1" "$TMP/n3-1/report.json" -o "$TMP/x.json"
contains "... saying so" "is given twice" "$TMP/out"
expect_exit "a load run's snapshot and a conformance report do not merge (exit 2)" 2 \
    "$FLEETSIM" report tests/data/snapshots/three-terminals.json "$TMP/n3-1" -o "$TMP/x.json"
contains "... saying which is which" "a load run's report (fleetsim run), $TMP/n3-1 a conformance report" "$TMP/out"
expect_exit "--scenario is for load runs (exit 2)" 2 "$FLEETSIM" report "$TMP/whole" --scenario x.json -o "$TMP/x.json"
# the whole run and its shards again: repeated runs, each case once, its verdict the worst
expect_exit "the whole run merged with its 2 shards (repeated runs): exit 0" 0 \
    "$FLEETSIM" report "$TMP/whole" "$TMP/n2-1" "$TMP/n2-2" -o "$TMP/rep.json"
contains "... saying the cases are in several reports" "$n_run cases are in several reports with the same verdict" "$TMP/out"
check "... with the whole run's ids and verdicts" same_as "$TMP/whole/report.json" "$TMP/rep.json"
# a repeat in which one case failed: the merge fails it, and keeps both attempts
python3 - "$TMP/n2-1/report.json" "$TMP/fail/report.json" <<'PY'
import json, os, sys
r = json.load(open(sys.argv[1]))
c = r["cases"][0]
c["verdict"], c["observed"] = "FAIL", "0x8001 result 2 (a repeat that failed)"
r["verdict"] = "FAIL"
os.makedirs(os.path.dirname(sys.argv[2]), exist_ok=True)
json.dump(r, open(sys.argv[2], "w"), indent=1)
PY
first=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["cases"][0]["id"])' "$TMP/n2-1/report.json")
expect_exit "a repeated shard whose case failed fails the merge (exit 1)" 1 \
    "$FLEETSIM" report "$TMP/n2-1" "$TMP/n2-2" "$TMP/fail" -o "$TMP/rep2.json"
contains "... saying which case and which reports" "$first: in 2 reports ($TMP/n2-1/report.json PASS, $TMP/fail/report.json FAIL): the worst verdict, FAIL, is kept" "$TMP/out"
got=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); c=[c for c in r["cases"] if c["id"]==sys.argv[2]][0]; print(c["verdict"], c["observed"], r["metrics"]["attempts"][sys.argv[2]])' "$TMP/rep2.json" "$first")
if [ "$got" = "FAIL 0x8001 result 2 (a repeat that failed) ['PASS', 'FAIL']" ]; then
    ok "... the merged case is the failed attempt's, both attempts in metrics.attempts"
else
    nok "... the merged case is the failed attempt's, both attempts kept" "$got"
fi
# a damaged report.json: the file and the JSON path
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); r["cases"][2]["duration_s"]="1s"; json.dump(r, open(sys.argv[2], "w"))' \
    "$TMP/n2-2/report.json" "$TMP/bad.json"
expect_exit "a damaged report.json is an input error (exit 2)" 2 "$FLEETSIM" report "$TMP/bad.json" -o "$TMP/x.json"
contains "... naming the file and the JSON path" "$TMP/bad.json: cases[2].duration_s: expected a number" "$TMP/out"
sed 's/"jobs":\t1/"jobs":\t1, "job": 2/' "$TMP/n2-2/report.json" >"$TMP/bad2.json"
expect_exit "an unknown field in a conformance report's metrics is an input error (exit 2)" 2 \
    "$FLEETSIM" report "$TMP/bad2.json" -o "$TMP/x.json"
contains "... naming it" "$TMP/bad2.json: metrics.job: unknown field" "$TMP/out"
