#!/usr/bin/env bash
# Runs every unit test binary and end-to-end script for each build directory given
# (e.g. build build-san) and prints one closing line: "N passed, N failed".
# Unit tests speak TAP through cmocka; end-to-end scripts print "ok - name" or
# "not ok - name" per check.  A binary that crashes or exits non-zero without
# reporting a failure counts as one failure.  Each line ends with the wall time it
# took, to find the slow ones.
set -u
cd "$(dirname "$0")/.." || exit 2
pass=0; fail=0; failed_names=()
export CMOCKA_MESSAGE_OUTPUT=TAP
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

now_ms() { local t; t=$(date +%s%N); echo $((t / 1000000)); }

count() { # $1 label, $2 log file, $3 exit status, $4 start (now_ms)
    local p f ms
    p=$(grep -cE '^ok [0-9]* ?-? ?' "$2" || true)
    f=$(grep -cE '^not ok ' "$2" || true)
    if [ "$3" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    pass=$((pass + p)); fail=$((fail + f))
    if [ "$f" -ne 0 ]; then
        failed_names+=("$1")
        echo "---- $1 (exit $3) ----"; grep -E '^not ok|ERROR|error|Assert|Sanitizer|runtime error' "$2" | head -40
    fi
    ms=$(($(now_ms) - $4))
    printf '%-48s %4d passed, %d failed %7d.%01d s\n' "$1" "$p" "$f" $((ms / 1000)) $((ms % 1000 / 100))
}

for dir in "$@"; do
    for t in "$dir"/tests/test_*; do
        [ -x "$t" ] || continue
        log=$(mktemp); t0=$(now_ms)
        timeout 300 "$t" >"$log" 2>&1; rc=$?
        count "$t" "$log" "$rc" "$t0"; rm -f "$log"
    done
    for s in tests/e2e/[0-9]*.sh; do
        [ -f "$s" ] || continue
        log=$(mktemp); t0=$(now_ms)
        FLEETSIM="$PWD/$dir/fleetsim" BUILD="$dir" timeout 600 bash "$s" >"$log" 2>&1; rc=$?
        count "$dir:$s" "$log" "$rc" "$t0"; rm -f "$log"
    done
done
if [ "${#failed_names[@]}" -gt 0 ]; then echo "failed: ${failed_names[*]}"; fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
