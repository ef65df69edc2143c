#!/usr/bin/env bash
# tests/bench.sh's own logic, not the machine's speed: --help names every variable it
# reads; the summary of repeated runs (median, min, max, the target in the median and
# in how many runs, the median over the quiet runs) from a figures file of known
# values; BENCH_JSON read back by python3; a tiny jt808 case through the whole
# path: the CPU of the run's processes, CPU per report, the machine's state and the
# "noisy machine" flag following its thresholds.
. "$(dirname "$0")/lib.sh"
tests/bench.sh --help >"$TMP/help"
missing=
for v in $(grep -o 'BENCH_[A-Z_]*' tests/bench.sh | sort -u); do
    grep -q "$v" "$TMP/help" || missing="$missing $v"
done
if [ -z "$missing" ]; then ok "--help names every BENCH_ variable the bench reads"; else nok "--help names every BENCH_ variable" "missing:$missing"; fi
expect_exit "a bench binary that is not one is refused" 2 tests/bench.sh "$TMP"
expect_exit "BENCH_REPEAT=0 is refused" 2 env BENCH_REPEAT=0 BENCH_CASES=jt808 tests/bench.sh

# case run figure value unit op target noisy: three runs, the second quiet
printf '%s\n' \
    'c	1	p99	33	ms	<	20	1' \
    'c	2	p99	12	ms	<	20	0' \
    'c	3	p99	168	ms	<	20	1' \
    'c	1	rate	39950	/s	>=	39600	1' \
    'c	2	rate	40010	/s	>=	39600	0' \
    'c	3	rate	35000	/s	>=	39600	1' \
    'c	4	rate	39000	/s	>=	39600	0' \
    'c	1	cpu	42.5	us	-		1' \
    'c	1	noisy machine	1	(1 yes)	-		1' >"$TMP/f.tsv"
awk -v mode=summary -f tests/bench-lib.awk "$TMP/f.tsv" >"$TMP/sum"; src=$?
contains "the median of three runs, min and max" "c: p99: median 33.0 ms (min 12.0, max 168.0) over 3 run(s)" "$TMP/sum"
contains "... the target missed in the median, met in one run, the quiet run's median" \
    "target < 20: MISSED in the median, met in 1 of 3; median over the 1 quiet run(s) 12.0 (met)" "$TMP/sum"
contains "the median of four runs is the mean of the middle two; a >= target" \
    "c: rate: median 39475 /s (min 35000, max 40010) over 4 run(s); target >= 39600: MISSED in the median, met in 2 of 4; median over the 2 quiet run(s) 39505 (MISSED)" "$TMP/sum"
contains "a figure with no target has none; no quiet run said" "c: cpu: median 42.5 us (min 42.5, max 42.5) over 1 run(s); no quiet run" "$TMP/sum"
if ! grep -q "noisy machine:" "$TMP/sum" && [ "$src" = 3 ]; then
    ok "the noisy flag is no figure to summarise; a target missed over the quiet runs exits 3 (BENCH_STRICT's failure)"
else
    nok "the noisy flag is no figure to summarise; a quiet miss exits 3" "exit $src" "$(cat "$TMP/sum")"
fi
expect_exit "... and 0 when the targets hold over the quiet runs (none missed: the p99 figures all noisy)" 0 \
    awk -v mode=summary -f tests/bench-lib.awk <(grep -v '	2	' "$TMP/f.tsv" | grep -v '	4	')
awk -v mode=json -v meta='"cores": 2' -f tests/bench-lib.awk "$TMP/f.tsv" >"$TMP/f.json"
if python3 - "$TMP/f.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["cores"] == 2
f = [x for x in d["figures"] if x["figure"] == "p99"]
assert [x["value"] for x in f] == [33, 12, 168] and [x["met"] for x in f] == [False, True, False]
assert [x["noisy"] for x in f] == [True, False, True] and f[0]["target"] == "< 20"
s = {x["figure"]: x for x in d["summary"]}
assert s["p99"]["median"] == 33 and s["p99"]["runs_met"] == 1 and s["p99"]["quiet_median"] == 12
assert s["p99"]["median_met"] is False and s["p99"]["quiet_median_met"] is True
assert s["rate"]["median"] == 39475 and s["cpu"]["target"] is None and s["cpu"]["quiet_median"] is None
PY
then ok "BENCH_JSON's figures and summaries read back by python3"; else nok "BENCH_JSON read back" "$(head -c 600 "$TMP/f.json")"; fi

# the whole path on 20 terminals for 3 s: thresholds that make the run quiet, then noisy
for t in quiet noisy; do
    [ $t = quiet ] && th="BENCH_NOISY_STEAL=100 BENCH_NOISY_OTHERS=100" || th="BENCH_NOISY_STEAL=-1 BENCH_NOISY_OTHERS=-1"
    env $th BENCH_CASES=jt808 BENCH_TERMINALS=20 BENCH_DURATION=3s BENCH_COMMAND_AT=1s BENCH_DIR="$TMP" \
        BENCH_JSON="$TMP/$t.json" tests/bench.sh "$FLEETSIM" >"$TMP/$t.out" 2>&1
    echo $? >"$TMP/$t.rc"
done
if [ "$(cat "$TMP/quiet.rc")" = 0 ] && grep -Eq '^bench: jt808: CPU per report: [0-9.]+ us \(user\+sys of all the run.s processes' "$TMP/quiet.out"; then
    ok "a run's CPU per report is printed (the times of its processes, over the reports acknowledged)"
else
    nok "a run's CPU per report is printed" "exit $(cat "$TMP/quiet.rc")" "$(grep '^bench' "$TMP/quiet.out")"
fi
contains "... with the machine's state over it, quiet under thresholds it cannot pass" "% of the CPU (quiet)" "$TMP/quiet.out"
contains "... and noisy under thresholds it cannot stay under" "(noisy machine: over -1% steal or -1% others)" "$TMP/noisy.out"
if python3 - "$TMP/quiet.json" "$TMP/noisy.json" <<'PY'
import json, sys
q, n = (json.load(open(p)) for p in sys.argv[1:])
def figs(d): return {x["figure"]: x for x in d["figures"] if x["case"] == "jt808"}
fq, fn = figs(q), figs(n)
assert fq["CPU per report"]["value"] > 0 and fq["CPU per report"]["unit"] == "us"
assert fq["noisy machine"]["value"] == 0 and fn["noisy machine"]["value"] == 1
assert 0 <= fq["hypervisor steal"]["value"] <= 100 and 0 <= fq["other processes' CPU"]["value"] <= 100
assert q["exit"] == 0 and q["repeat"] == 1
PY
then ok "... the same in BENCH_JSON"; else nok "... the same in BENCH_JSON" "$(head -c 800 "$TMP/quiet.json")"; fi
