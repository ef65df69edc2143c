#!/bin/sh
# The entrypoint of the fleetsim image on Kubernetes (deploy/k8s/README in the
# top README, section "Shards on Kubernetes"):
#
#   fleetsim-k8s shard   one shard of an Indexed Job: fleetsim run SCENARIO
#                        --shard $((JOB_COMPLETION_INDEX+1))/$FLEETSIM_SHARDS
#                        --report $FLEETSIM_REPORTS/$FLEETSIM_RUN/shard-K
#                        (with FLEETSIM_CONFORM: fleetsim conform SUITE... with
#                        the same --shard and --report: a slice of the cases)
#   fleetsim-k8s merge   the follow-up Job: fleetsim report merge of shard-1..N
#                        into $FLEETSIM_REPORTS/$FLEETSIM_RUN/{report.json,junit.xml}
#
# Environment:
#   JOB_COMPLETION_INDEX  0..N-1, set by Kubernetes in each pod of an Indexed Job
#   FLEETSIM_SHARDS       N, the Job's completions (required)
#   FLEETSIM_SCENARIO     scenario file or installed name (default: quickstart)
#   FLEETSIM_REPORTS      the shared volume (default: /reports)
#   FLEETSIM_RUN          a folder per run on it (default: run)
#   FLEETSIM_CONFORM      conformance suites instead of a scenario, split on
#                         blanks (e.g. "jt808 jt808-terminal": installed names or
#                         folders); the shards split the cases
#   FLEETSIM_RUN_ARGS     more options for fleetsim run (or conform), split on
#                         blanks (e.g. "--target tcp://platform:7999 --procs 4")
#   FLEETSIM              the fleetsim binary (default: fleetsim on PATH)
#
# Exit status.  shard: 0 when the shard ran to its verdicts, whatever they were
# (a shard alone is judged on its slice, so a check of the whole fleet can fail
# there and pass in the merge: the merge is the judge), and the run's own status
# for an input (2) or harness (3) error, so that Kubernetes retries the pod; the
# run's status is kept in shard-K/exit-status.  merge: that of fleetsim report
# merge (0 pass, 1 fail, 2 input error or a shard missing, 3 harness error in a
# shard, 4 inconclusive).
set -u

FLEETSIM=${FLEETSIM:-fleetsim}
SCENARIO=${FLEETSIM_SCENARIO:-quickstart}
REPORTS=${FLEETSIM_REPORTS:-/reports}
RUN=${FLEETSIM_RUN:-run}
MAX_SHARDS=65536

die() { # STATUS MESSAGE
    echo "fleetsim-k8s: $2" >&2
    exit "$1"
}

is_count() { # a decimal number without sign or leading zero
    case $1 in '' | *[!0-9]* | 0?*) return 1 ;; esac
    [ ${#1} -le 5 ]
}

shards() {
    n=${FLEETSIM_SHARDS:-}
    if ! { is_count "$n" && [ "$n" -ge 1 ] && [ "$n" -le "$MAX_SHARDS" ]; }; then
        die 2 "FLEETSIM_SHARDS='$n' is not a shard count 1..$MAX_SHARDS (set it to the Job's completions)"
    fi
    case $RUN in '' | */* | . | ..) die 2 "FLEETSIM_RUN='$RUN' is not a folder name" ;; esac
    echo "$n"
}

cmd_shard() {
    n=$(shards) || exit 2
    i=${JOB_COMPLETION_INDEX:-}
    if ! { is_count "$i" && [ "$i" -lt "$n" ]; }; then
        die 2 "JOB_COMPLETION_INDEX='$i' is not 0..$((n - 1)) (an Indexed Job sets it; completions must be $n)"
    fi
    k=$((i + 1))
    dir="$REPORTS/$RUN/shard-$k"
    mkdir -p "$dir" || die 3 "cannot make $dir"
    if [ -n "${FLEETSIM_CONFORM:-}" ]; then
        echo "fleetsim-k8s: shard $k/$n of the conformance cases of $FLEETSIM_CONFORM into $dir"
        # shellcheck disable=SC2086 # lists of suites and of options
        "$FLEETSIM" conform $FLEETSIM_CONFORM --shard "$k/$n" --report "$dir" ${FLEETSIM_RUN_ARGS:-}
        rc=$?
    else
        echo "fleetsim-k8s: shard $k/$n of $SCENARIO into $dir"
        # shellcheck disable=SC2086 # FLEETSIM_RUN_ARGS is a list of options
        "$FLEETSIM" run "$SCENARIO" --shard "$k/$n" --report "$dir" ${FLEETSIM_RUN_ARGS:-}
        rc=$?
    fi
    echo "$rc" >"$dir/exit-status"
    case $rc in
    0 | 1 | 4) exit 0 ;;   # judged: the merge decides
    *) exit "$rc" ;;
    esac
}

cmd_merge() {
    n=$(shards) || exit 2
    dir="$REPORTS/$RUN"
    set --
    k=1
    missing=
    while [ "$k" -le "$n" ]; do
        f="$dir/shard-$k/report.json"
        if [ -f "$f" ]; then set -- "$@" "$f"; else missing="$missing $k"; fi
        k=$((k + 1))
    done
    [ -z "$missing" ] || die 2 "no report of shard(s)$missing of $n in $dir (did every pod of the shard Job complete?)"
    "$FLEETSIM" report merge "$@" -o "$dir/report.json" --junit "$dir/junit.xml"
}

case ${1:-} in
shard) cmd_shard ;;
merge) cmd_merge ;;
*) die 2 "usage: fleetsim-k8s shard|merge (got '${1:-}')" ;;
esac
