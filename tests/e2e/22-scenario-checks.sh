#!/usr/bin/env bash
# What a scenario file is checked for before anything starts: every error at once,
# metric and counter names, units on every duration (the command line's too), the
# deadline of a reply, a warning for a file that checks nothing; and terminal
# numbers that start at 1, as a CSV of known terminals does.
. "$(dirname "$0")/lib.sh"

# run NAME CODE ARGS...: runs fleetsim with stdout and stderr apart ($TMP/so, $TMP/se)
run() {
    local n=$1 want=$2; shift 2
    "$FLEETSIM" "$@" >"$TMP/so" 2>"$TMP/se"; local got=$?
    if [ "$got" = "$want" ]; then ok "$n"; else nok "$n" "exit $got, wanted $want" "$(tail -20 "$TMP/se")"; fi
}
# lines TEXT FILE: how many lines of FILE hold TEXT
lines() { grep -cF -- "$1" "$2"; }

# ---- every error in one pass, each with its path
cat >"$TMP/many.json" <<'JSON'
{"name": "many", "duration": "10s",
 "fleets": [{"id": "a", "protocol": "jt808", "count": 0, "heartbeat": "5x"}],
 "steps": [{"at": "1s", "fault": {"kind": "crash", "fleet": "a"}}],
 "expect": [{"id": "A-1", "state": "flying"}]}
JSON
run "a file with four errors exits 2" 2 run "$TMP/many.json" --dry-run
contains "the first error is shown" "many.json: fleets[0].count: expected a positive count, got 0" "$TMP/se"
contains "the second, in the same fleet" "many.json: fleets[0].heartbeat: '5x': unknown unit 'x'" "$TMP/se"
contains "the third, in the steps" "many.json: steps[0].fault.kind: expected one of" "$TMP/se"
contains "the fourth, in the expectations" "many.json: expect[0].state: unknown state \"flying\"" "$TMP/se"
if [ "$(wc -l <"$TMP/se")" = 4 ]; then ok "one line per error, nothing else"; else nok "one line per error, nothing else" "$(cat "$TMP/se")"; fi
{
    printf '{"name": "lots", "duration": "10s", "fleets": [{"id": "a", "protocol": "jt808", "count": 1}],\n "expect": ['
    for i in $(seq 1 30); do printf '%s{"id": "S-%d", "state": "nowhere"}' "$([ "$i" = 1 ] || echo ,)" "$i"; done
    printf ']}\n'
} >"$TMP/lots.json"
run "a file with thirty errors exits 2" 2 run "$TMP/lots.json"
contains "past the ones shown, the rest are counted" "lots.json: and " "$TMP/se"
if [ "$(lines "unknown state" "$TMP/se")" -le 20 ]; then ok "at most twenty errors are shown"; else nok "at most twenty errors are shown" "$(lines "unknown state" "$TMP/se") shown"; fi

# ---- metric and counter names, when the file is read
cat >"$TMP/names.json" <<'JSON'
{"name": "names", "duration": "10s",
 "fleets": [{"id": "a", "protocol": "jt808", "count": 1}],
 "expect": [{"id": "PERF-001", "metric": "report.latncy.p99", "below": "50ms"},
            {"id": "CHECK-001", "counter": "gateway.bad_chek", "max": 0}]}
JSON
run "a misspelt metric or counter fails --dry-run (exit 2)" 2 run "$TMP/names.json" --dry-run
contains "the metric is named, with the closest known one" \
    'names.json: expect[0].metric: unknown metric "report.latncy.p99" (did you mean "report.latency.p99"?)' "$TMP/se"
contains "the counter is named, with the closest known one" \
    'names.json: expect[1].counter: unknown counter "gateway.bad_chek" (did you mean "gateway.bad_check"?)' "$TMP/se"
run "and a run stops before it starts (exit 2)" 2 run "$TMP/names.json" -q
if [ ! -s "$TMP/so" ]; then ok "nothing ran"; else nok "nothing ran" "$(head -5 "$TMP/so")"; fi
sed -e 's/latncy/latency/' -e 's/bad_chek/bad_check/' "$TMP/names.json" >"$TMP/names-ok.json"
run "spelt right, the same file passes --dry-run" 0 run "$TMP/names-ok.json" --dry-run

# ---- units on every duration: a latency bound, a field, the command line
cat >"$TMP/bare.json" <<'JSON'
{"name": "bare", "duration": "10s",
 "fleets": [{"id": "a", "protocol": "jt808", "count": 1, "heartbeat": 30}],
 "expect": [{"id": "PERF-001", "metric": "report.latency.p99", "below": 200}]}
JSON
run "bare numbers on durations exit 2" 2 run "$TMP/bare.json" --dry-run
contains "a latency bound without a unit is refused, with the units accepted" \
    "bare.json: expect[0].below: '200': units required (use us, ms, s, m, h, d)" "$TMP/se"
contains "so is any duration field" "bare.json: fleets[0].heartbeat: '30': units required (use us, ms, s, m, h, d)" "$TMP/se"
run "--status-interval without a unit exits 2" 2 run scenarios/quickstart.json --status-interval 5
contains "--status-interval 5 says units required" \
    "fleetsim run: --status-interval: '5': units required (use us, ms, s, m, h, d)" "$TMP/se"
run "--status-interval below its floor exits 2" 2 run scenarios/quickstart.json --status-interval 50ms
contains "the floor is named" "fleetsim run: --status-interval: '50ms': must be at least 100ms" "$TMP/se"
run "--idle-timeout without a unit exits 2" 2 serve --idle-timeout 5
contains "--idle-timeout says the same words" \
    "fleetsim serve: --idle-timeout: '5': units required (use us, ms, s, m, h, d)" "$TMP/se"

# ---- a reply's deadline: the platform's command timeout unless given
cat >"$TMP/reply.json" <<'JSON'
{"name": "reply", "duration": "10s",
 "fleets": [{"id": "a", "protocol": "jt808", "count": 1}],
 "steps": [{"at": "2s", "command": {"fleet": "a", "msg": "0x8104"}}],
 "expect": [{"id": "Q-001", "reply": "0x0104", "to": "0x8104"},
            {"id": "Q-002", "reply": "0x0104", "to": "0x8104", "within": "3s"}]}
JSON
run "a plan with reply expectations" 0 run "$TMP/reply.json" --dry-run
contains "the plan gives the default deadline" "every terminal sent 0x8104 answers with 0x0104 within 10s" "$TMP/so"
contains "and a given one" "every terminal sent 0x8104 answers with 0x0104 within 3s" "$TMP/so"
if ! grep -q "by the end of the run" "$TMP/so"; then ok "no reply is judged 'by the end of the run'"; else nok "no reply is judged 'by the end of the run'" "$(cat "$TMP/so")"; fi

# ---- a file with no expectations: a warning at load and beside the verdicts
cat >"$TMP/none.json" <<'JSON'
{"name": "none", "duration": "2s", "time_scale": 4,
 "fleets": [{"id": "a", "protocol": "jt808", "count": 1}]}
JSON
warning="none.json: warning: no expectations: the run checks nothing and passes whatever happens"
run "a plan with no expectations is not an error" 0 run "$TMP/none.json" --dry-run
contains "the plan warns on stderr" "$warning" "$TMP/se"
run "a run with no expectations passes (exit 0)" 0 run "$TMP/none.json"
if [ "$(lines "$warning" "$TMP/se")" = 2 ]; then ok "the run warns at load and again with the verdicts"; else nok "the run warns at load and again with the verdicts" "$(cat "$TMP/se")"; fi
contains "the verdicts count no cases" "0 cases: 0 pass" "$TMP/so"

# ---- terminals are numbered from 1: a CSV of T000001-T000003 admits a fleet of three
printf 'manufacturer,model,terminal_id\nFSIM1,FS-TERM,T000001\nFSIM1,FS-TERM,T000002\nFSIM1,FS-TERM,T000003\n' \
    >"$TMP/three.csv"
cat >"$TMP/three.json" <<'JSON'
{"name": "three", "duration": "4s", "time_scale": 2,
 "platform": {"auth": "one-party", "triples": "three.csv"},
 "fleets": [{"id": "a", "protocol": "jt808", "version": 2013, "count": 3,
             "reconnect": {"min": "10s", "max": "10s"}}],
 "expect": [{"id": "ONE-001", "state": "authenticated", "within": "2s"},
            {"id": "ONE-002", "counter": "gateway.registrations", "min": 3, "max": 3},
            {"id": "ONE-003", "counter": "terminal.reg_refused", "max": 0}]}
JSON
run "one-party: a CSV of T000001-T000003 admits all three terminals" 0 run "$TMP/three.json" -q
contains "one-party: all three checks pass" "3 cases: 3 pass" "$TMP/so"
