#!/usr/bin/env bash
# The shadow suite (004 §9, §8) checks its rules: it passes against the embedded
# platform (one job: the cases' logins would replace each other's tokens), and against each shadow mutant (fleetsim conform --platform-mutant) the
# case of that rule fails.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mutants.sh"
SUITE=scenarios/conformance/shadow
suite_passes "$SUITE" --jobs 1
TRIED=()
while read -r m c; do
    mutant_caught "$SUITE" "$m" "$c"
    TRIED+=("$m")
done <<'LIST'
shadow-no-sync-now SH-SYNC-001
shadow-no-sync-on-online SH-ONLINE-001
shadow-no-merge SH-MERGE-001
shadow-no-reported SH-REPORTED-001
shadow-no-reported SH-REPORTED-002
shadow-no-delta SH-DELTA-001
shadow-no-check SH-BAD-001
shadow-no-check SH-BAD-002
shadow-no-push SH-PUSH-001
task-no-retry SH-TASK-RETRY-001
task-no-retry SH-TASK-RETRY-002
LIST
every_mutant_tried "shadow-|task-"
