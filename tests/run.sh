#!/usr/bin/env bash
# Runs every unit test binary and end-to-end script for each build directory given
# (e.g. build build-san) and prints one closing line: "N passed, N failed".
# Unit tests speak TAP through cmocka; end-to-end scripts print "ok - name" or
# "not ok - name" per check.  A binary that crashes or exits non-zero without
# reporting a failure counts as one failure.  Each line ends with the wall time it
# took, to find the slow ones.
#
# TEST_JOBS (default 2) of them run at once: most of a script's time is waiting
# (for virtual time, timeouts, processes), not CPU, and every script has its own
# temporary directory and free ports.  The lines still come in the suite's order,
# each once its test is done.  TEST_JOBS=1 runs one at a time.
set -u
cd "$(dirname "$0")/.." || exit 2
pass=0; fail=0; failed_names=()
export CMOCKA_MESSAGE_OUTPUT=TAP
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# 3 at a time on 2 cores: most tests wait on timers and sockets (a clean run at 2 used
# 5.5 min of user and 2.7 min of system CPU in 18.4 min of wall time)
jobs_max=${TEST_JOBS:-3}
case "$jobs_max" in ''|*[!0-9]*|0) echo "tests/run.sh: TEST_JOBS must be a number from 1" >&2; exit 2 ;; esac
work=$(mktemp -d) || exit 2
trap 'rm -rf "$work"' EXIT

now_ms() { local t; t=$(date +%s%N); echo $((t / 1000000)); }

count() { # $1 label, $2 log file, $3 exit status, $4 wall time in ms
    local p f
    p=$(grep -cE '^ok [0-9]* ?-? ?' "$2" || true)
    f=$(grep -cE '^not ok ' "$2" || true)
    if [ "$3" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    pass=$((pass + p)); fail=$((fail + f))
    if [ "$f" -ne 0 ]; then
        failed_names+=("$1")
        echo "---- $1 (exit $3) ----"; grep -E '^not ok|ERROR|error|Assert|Sanitizer|runtime error' "$2" | head -40
    fi
    printf '%-48s %4d passed, %d failed %7d.%01d s\n' "$1" "$p" "$f" $(($4 / 1000)) $(($4 % 1000 / 100))
}

# Test i's files in $work: i.log (its output), i.rc, i.ms, and i.done once all are there.
labels=(); started=0; shown=0
show_done() { # count the finished tests, in order, up to the first still running
    while [ "$shown" -lt "$started" ] && [ -f "$work/$shown.done" ]; do
        count "${labels[$shown]}" "$work/$shown.log" "$(cat "$work/$shown.rc")" "$(cat "$work/$shown.ms")"
        rm -f "$work/$shown".*
        shown=$((shown + 1))
    done
}
start() { # LABEL COMMAND...: run it in the background once fewer than TEST_JOBS run
    local label=$1 i=$started; shift
    while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do
        wait -n 2>/dev/null
        show_done
    done
    labels[i]=$label
    (
        t0=$(now_ms)
        "$@" >"$work/$i.log" 2>&1
        echo $? >"$work/$i.rc"
        echo $(($(now_ms) - t0)) >"$work/$i.ms"
        : >"$work/$i.done"
    ) &
    started=$((started + 1))
    show_done
}

t_suite=$(now_ms)
for dir in "$@"; do
    for t in "$dir"/tests/test_*; do
        [ -x "$t" ] || continue
        start "$t" timeout 300 "$t"
    done
    for s in tests/e2e/[0-9]*.sh; do
        [ -f "$s" ] || continue
        start "$dir:$s" env FLEETSIM="$PWD/$dir/fleetsim" BUILD="$dir" timeout 600 bash "$s"
    done
done
wait
show_done
if [ "${#failed_names[@]}" -gt 0 ]; then echo "failed: ${failed_names[*]}"; fi
ms=$(($(now_ms) - t_suite))
echo "wall time $((ms / 1000)) s, $jobs_max at a time"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
