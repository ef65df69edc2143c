#!/usr/bin/env bash
# The status suites (004 §12, spec.md §4: status, long-connection devices;
# status-short, short-connection ones) check their rules: each passes against the
# embedded platform (one job: the cases' logins would replace each other's
# tokens, one application), and against each status mutant (fleetsim conform
# --platform-mutant) the case of that rule fails.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mutants.sh"
suite_passes scenarios/conformance/status --jobs 1
suite_passes scenarios/conformance/status-short --jobs 1
TRIED=()
while read -r s m c; do
    mutant_caught "scenarios/conformance/$s" "$m" "$c"
    TRIED+=("$m")
done <<'LIST'
status status-no-inactive ST-INACTIVE-001
status status-long-by-report ST-ONLINE-001
status status-no-grace ST-GRACE-001
status status-no-push ST-PUSH-001
status status-no-history ST-HIST-001
status-short status-no-offline SS-OFFLINE-001
status-short status-no-abnormal SS-ABNORMAL-001
LIST
every_mutant_tried "status-"
