#!/usr/bin/env bash
# The command line as a process: a closed pipe does not kill a run, a port already
# served is refused, every path is checked before anything starts, the exit status
# tells a harness error and an inconclusive run from a failed check, and errors,
# help and version are said the same way by every subcommand.
. "$(dirname "$0")/lib.sh"

# lines FILE: how many lines it has
lines() { wc -l <"$1" | tr -d ' '; }
# usage_error NAME SUB CMD...: exit 2, nothing on stdout, and on stderr exactly one line
# "fleetsim SUB: ..." and the pointer to SUB's help, not the whole help
usage_error() {
    local n=$1 name=$2; shift 2
    "$FLEETSIM" "$@" >"$TMP/u.out" 2>"$TMP/u.err"; local rc=$?
    if [ "$rc" = 2 ] && [ "$(lines "$TMP/u.err")" = 2 ] && head -1 "$TMP/u.err" | grep -q "^fleetsim $name: " \
       && [ "$(tail -1 "$TMP/u.err")" = "see 'fleetsim $name --help'" ] && ! grep -qi "usage:" "$TMP/u.err" \
       && [ ! -s "$TMP/u.out" ]; then
        ok "$n"
    else
        nok "$n" "exit $rc" "$(cat "$TMP/u.err")"
    fi
}
cat >"$TMP/short.json" <<'JSON'
{"name": "short", "duration": "3s",
 "fleets": [{"id": "a", "protocol": "jt808", "count": 5, "report": {"every": "1s"}}],
 "expect": [{"id": "S-AUTH-001", "state": "authenticated", "within": "2s"}]}
JSON

# --- 1. SIGPIPE: a reader that goes away does not take the run and its reports with it
# (the default disposition restored, as an interactive shell has it)
env --default-signal=PIPE "$FLEETSIM" run "$TMP/short.json" --report "$TMP/pipe" 2>"$TMP/pipe.err" | head -1 >"$TMP/head.out"
rc=${PIPESTATUS[0]}
if [ "$rc" = 0 ]; then ok "run | head -1: the run exits with its verdict (0), not 141"; else
    nok "run | head -1: the run exits with its verdict (0), not 141" "exit $rc" "$(cat "$TMP/pipe.err")"; fi
check "... and writes report.json" test -s "$TMP/pipe/report.json"
check "... and junit.xml" test -s "$TMP/pipe/junit.xml"
contains "... and head got the first line" "fleetsim: short: 5 terminals" "$TMP/head.out"

# --- 2. a port another process serves (a serve that started would not end: timeout)
port=$(free_port)
"$FLEETSIM" serve --port "$port" --db "$TMP/a.db" --quiet >"$TMP/a.log" 2>&1 &
apid=$!
wait_port "$port" || nok "serve A starts" "$(cat "$TMP/a.log")"
expect_exit "serve on a port another fleetsim serves exits 2" 2 timeout 10 "$FLEETSIM" serve --port "$port" --db "$TMP/b.db"
contains "... saying so and naming --join" "fleetsim serve: port $port is already served by another process; --join to share it" "$TMP/out"
check "... having started nothing (no database made)" test ! -e "$TMP/b.db"
"$FLEETSIM" serve --port "$port" --db "$TMP/b.db" --join --quiet >"$TMP/b.log" 2>&1 &
bpid=$!
for _ in $(seq 50); do grep -q "joining" "$TMP/b.log" && break; sleep 0.1; done
if kill -0 "$bpid" 2>/dev/null && grep -q "joining the server already on the port" "$TMP/b.log"; then
    ok "serve --join shares the port on request"
else
    nok "serve --join shares the port on request" "$(cat "$TMP/b.log")"
fi
kill -TERM "$bpid"; wait "$bpid"; rc=$?
if [ "$rc" = 0 ]; then ok "... and the joined serve stops cleanly"; else nok "... and the joined serve stops cleanly" "exit $rc"; fi
# a run whose scenario fixes the same port: refused before it starts, dry run too
sed "s/\"duration\": \"3s\"/\"duration\": \"3s\", \"platform\": {\"port\": $port}/" "$TMP/short.json" >"$TMP/fixed.json"
expect_exit "run with a fixed platform.port that is served exits 2" 2 "$FLEETSIM" run "$TMP/fixed.json" -q
contains "... naming the field and the port" "platform.port: port $port is already served by another process" "$TMP/out"
if grep -q "HARNESS\|cases:" "$TMP/out"; then nok "... with no run behind it" "$(cat "$TMP/out")"; else ok "... with no run behind it"; fi
expect_exit "... and --dry-run finds it too" 2 "$FLEETSIM" run "$TMP/fixed.json" --dry-run
kill -TERM "$apid"; wait "$apid"
expect_exit "once the port is free the same scenario runs" 0 "$FLEETSIM" run "$TMP/fixed.json" -q
# a server that does not share its port (no SO_REUSEPORT) cannot be joined either
port2=$(free_port)
python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); print("up", flush=True); time.sleep(20)' \
    "$port2" >"$TMP/py.out" &
ppid_=$!
for _ in $(seq 50); do grep -q up "$TMP/py.out" && break; sleep 0.1; done
expect_exit "serve on a port some other program holds exits 2" 2 timeout 10 "$FLEETSIM" serve --port "$port2" --db "$TMP/c.db"
contains "... saying it is in use" "port $port2 is already in use by another process" "$TMP/out"
expect_exit "... and --join does not change that" 2 timeout 10 "$FLEETSIM" serve --port "$port2" --db "$TMP/c.db" --join
kill "$ppid_"; wait "$ppid_" 2>/dev/null

# --- 10. every path is checked before anything starts, exit 2, dry run too
mkdir -p "$TMP/ro"
if [ "$(id -u)" = 0 ]; then unwritable=/sys; else chmod 555 "$TMP/ro"; unwritable=$TMP/ro; fi
echo "not a database" >"$TMP/text.db"
bad_run() { # NAME TEXT OPTION...: exit 2 with TEXT, quickly, no verdict table; then the same with --dry-run
    local n=$1 text=$2; shift 2
    local t0=$SECONDS
    expect_exit "$n exits 2" 2 "$FLEETSIM" run "$TMP/short.json" -q "$@"
    if grep -qF -- "$text" "$TMP/out" && ! grep -q "HARNESS\|cases:" "$TMP/out" && [ $((SECONDS - t0)) -le 2 ]; then
        ok "... at once, saying: $text"
    else
        nok "... at once, saying: $text" "$(tail -5 "$TMP/out")"
    fi
    expect_exit "... and --dry-run finds it too" 2 "$FLEETSIM" run "$TMP/short.json" --dry-run "$@"
}
bad_run "--db in a missing folder" "fleetsim run: --db $TMP/nope/p.db: directory $TMP/nope does not exist" --db "$TMP/nope/p.db"
bad_run "--db in an unwritable folder" "fleetsim run: --db $unwritable/p.db: cannot create files in $unwritable" --db "$unwritable/p.db"
bad_run "--db that is not a database" "fleetsim run: --db $TMP/text.db: $TMP/text.db is not an SQLite database" --db "$TMP/text.db"
bad_run "--report under a file" "fleetsim run: --report $TMP/text.db/r: $TMP/text.db is not a directory" --report "$TMP/text.db/r"
bad_run "--report in an unwritable folder" "fleetsim run: --report $unwritable/r: cannot create files in $unwritable" --report "$unwritable/r"
bad_run "--stats in a missing folder" "fleetsim run: --stats $TMP/nope/s.sock: directory $TMP/nope does not exist" --stats "$TMP/nope/s.sock"
bad_run "--stats on a file" "fleetsim run: --stats $TMP/text.db: exists and is not a socket" --stats "$TMP/text.db"
sed 's/"duration": "3s"/"duration": "3s", "platform": {"auth": "one-party", "triples": "missing.csv"}/' \
    "$TMP/short.json" >"$TMP/triples.json"
expect_exit "an unreadable platform.triples exits 2 in a dry run" 2 "$FLEETSIM" run "$TMP/triples.json" --dry-run
contains "... naming the field and the file" "platform.triples: cannot read $TMP/missing.csv" "$TMP/out"
expect_exit "a dry run with a report folder still to make passes" 0 "$FLEETSIM" run "$TMP/short.json" --dry-run \
    --report "$TMP/new/deep/r" --db "$TMP/new.db"
check "... and makes nothing" test ! -e "$TMP/new" -a ! -e "$TMP/new.db"
expect_exit "serve with --db in a missing folder exits 2" 2 timeout 10 "$FLEETSIM" serve --port "$(free_port)" --db "$TMP/nope/p.db"
contains "... naming --db" "fleetsim serve: --db $TMP/nope/p.db: directory $TMP/nope does not exist" "$TMP/out"
expect_exit "serve with an unreadable --triples exits 2" 2 timeout 10 "$FLEETSIM" serve --port "$(free_port)" --db "$TMP/s.db" \
    --auth one-party --triples "$TMP/missing.csv"
contains "... naming --triples" "fleetsim serve: --triples $TMP/missing.csv" "$TMP/out"

# --- 11. exit status: 4 when nothing failed but something could not be judged,
# 1 when a check failed even beside an inconclusive one
cat >"$TMP/inconclusive.json" <<'JSON'
{"name": "inconclusive", "duration": "2s",
 "fleets": [{"id": "a", "protocol": "jt808", "count": 3}],
 "expect": [{"id": "I-AUTH-001", "state": "authenticated", "within": "2s"},
            {"id": "I-LAT-001", "metric": "report.latency.p99", "below": "1s"}]}
JSON
# (the terminals send no reports: a latency over no samples cannot be judged)
expect_exit "a run with a pass and an inconclusive case exits 4" 4 "$FLEETSIM" run "$TMP/inconclusive.json" -q
contains "... the case is inconclusive" "I-LAT-001   INCONCLUSIVE" "$TMP/out"
contains "... and the other one passed" "1 pass, 0 fail, 0 error, 1 inconclusive" "$TMP/out"
sed 's/"below": "1s"}/"below": "1s"}, {"id": "I-GW-001", "counter": "gateway.registrations", "max": 0}/' \
    "$TMP/inconclusive.json" >"$TMP/failing.json"
expect_exit "a failed check outranks an inconclusive one: exit 1" 1 "$FLEETSIM" run "$TMP/failing.json" -q
contains "... the failed case is there" "1 pass, 1 fail, 0 error, 1 inconclusive" "$TMP/out"
for c in run serve report vectors decode encode conform; do
    "$FLEETSIM" "$c" --help >"$TMP/h.out" 2>&1
    contains "fleetsim $c --help says its exit status" "exit status" "$TMP/h.out"
done
"$FLEETSIM" run --help >"$TMP/h.out"
if grep -q "^  3  harness error" "$TMP/h.out" && grep -q "^  4  none failed, but one or more were inconclusive" "$TMP/h.out"; then
    ok "fleetsim run --help names 3 (harness error) and 4 (inconclusive)"
else
    nok "fleetsim run --help names 3 (harness error) and 4 (inconclusive)" "$(grep -A8 'exit status' "$TMP/h.out")"
fi
check "README.md has an Exit status section" grep -q "^## Exit status" README.md
check "... with 3, a harness error" grep -q "^| 3 | harness error" README.md
check "... and 4, inconclusive" grep -q "^| 4 | inconclusive" README.md
"$FLEETSIM" serve --help >"$TMP/h.out"
contains "fleetsim serve --help names 3 for a dead process" "3  harness error" "$TMP/h.out"

# --- conventions: usage errors, help CMD, --version, serve --quiet / --status-interval
usage_error "run: an unknown option is one line and the pointer to --help" "run" run --frobnicate "$TMP/short.json"
usage_error "run: an option without its argument" "run" run "$TMP/short.json" --report
usage_error "run: an ambiguous option" "run" run --s 1 "$TMP/short.json"
usage_error "run: a flag given a value" "run" run --quiet=1 "$TMP/short.json"
usage_error "run: no scenario" "run" run
usage_error "run: two scenarios" "run" run "$TMP/short.json" "$TMP/short.json"
usage_error "run: a bad --procs" "run" run --procs 0 "$TMP/short.json"
usage_error "serve: an unknown option" "serve" serve --frobnicate
usage_error "serve: a stray argument" "serve" serve extra
usage_error "report merge: an unknown option" "report merge" report merge --frobnicate x.json
usage_error "report merge: no reports" "report merge" report merge
usage_error "report: no subcommand" "report" report
usage_error "decode: an unknown option" "decode" decode -z jt808 7E7E
usage_error "vectors: an unknown option" "vectors" vectors --frobnicate
usage_error "conform: an unknown option" "conform" conform --frobnicate scenarios/conformance/jt808
usage_error "conform: no suite" "conform" conform
expect_exit "run with a missing scenario file says it with the prefix" 2 "$FLEETSIM" run "$TMP/nope.json"
if grep -q "^fleetsim run: .*nope.json" "$TMP/out"; then ok "... fleetsim run: FILE: ..."; else nok "... fleetsim run: FILE: ..." "$(cat "$TMP/out")"; fi
expect_exit "a scenario error has the prefix too" 2 "$FLEETSIM" run tests/data/scenarios/typo.json
if grep -q '^fleetsim run: tests/data/scenarios/typo.json: fleets\[0\].cout: unknown field' "$TMP/out"; then
    ok "... fleetsim run: FILE: PATH: ..."; else nok "... fleetsim run: FILE: PATH: ..." "$(cat "$TMP/out")"; fi
expect_exit "an unknown command exits 2" 2 "$FLEETSIM" frobnicate
if [ "$(lines "$TMP/out")" = 2 ] && grep -q "^see 'fleetsim --help'" "$TMP/out"; then ok "... in two lines, not the whole help"
else nok "... in two lines, not the whole help" "$(cat "$TMP/out")"; fi

for c in run serve report vectors decode encode conform; do
    "$FLEETSIM" help "$c" >"$TMP/h1.out" 2>&1; rc=$?
    "$FLEETSIM" "$c" --help >"$TMP/h2.out" 2>&1
    if [ "$rc" = 0 ] && [ -s "$TMP/h1.out" ] && cmp -s "$TMP/h1.out" "$TMP/h2.out"; then ok "fleetsim help $c is fleetsim $c --help"
    else nok "fleetsim help $c is fleetsim $c --help" "exit $rc" "$(head -3 "$TMP/h1.out")"; fi
done
expect_exit "fleetsim help of an unknown command exits 2" 2 "$FLEETSIM" help frobnicate
expect_exit "fleetsim help alone exits 0" 0 "$FLEETSIM" help
contains "... and lists the commands" "serve" "$TMP/out"
version=$(sed -n 's/^#define FLEETSIM_VERSION "\(.*\)"$/\1/p' sim/cli/version.h)
expect_exit "fleetsim --version exits 0" 0 "$FLEETSIM" --version
if [ -n "$version" ] && [ "$(cat "$TMP/out")" = "fleetsim $version" ]; then ok "... and prints the one version of sim/cli/version.h ($version)"
else nok "... and prints the one version of sim/cli/version.h ($version)" "$(cat "$TMP/out")"; fi

port=$(free_port)
"$FLEETSIM" serve --port "$port" --db "$TMP/q.db" --quiet >"$TMP/q.log" 2>&1 &
qpid=$!
wait_port "$port"; sleep 1.5
kill -TERM "$qpid"; wait "$qpid"; rc=$?
if [ "$rc" = 0 ] && ! grep -q "connections [0-9]" "$TMP/q.log" && grep -q "fleetsim serve: stopped" "$TMP/q.log"; then
    ok "serve --quiet prints no counters lines"
else
    nok "serve --quiet prints no counters lines" "exit $rc" "$(cat "$TMP/q.log")"
fi
port=$(free_port)
"$FLEETSIM" serve --port "$port" --db "$TMP/i.db" --status-interval 200ms >"$TMP/i.log" 2>&1 &
ipid=$!
wait_port "$port"; sleep 1.5
kill -TERM "$ipid"; wait "$ipid"
n=$(grep -c "connections [0-9]" "$TMP/i.log")
if [ "$n" -ge 4 ]; then ok "serve --status-interval 200ms prints the counters every 200 ms ($n lines)"
else nok "serve --status-interval 200ms prints the counters every 200 ms" "$n lines" "$(cat "$TMP/i.log")"; fi
usage_error "serve --status-interval below 100ms" "serve" serve --status-interval 50ms
usage_error "serve --status-interval without a unit" "serve" serve --status-interval 5
