#!/usr/bin/env bash
# The push suite (004 §5) checks its rules: it passes against the embedded
# platform, and against each push mutant (fleetsim conform --platform-mutant) the
# case of that rule fails. One job: the cases' logins would replace each other's
# tokens (one application).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/mutants.sh"
SUITE=scenarios/conformance/push
suite_passes "$SUITE" --jobs 1
TRIED=()
while read -r m c; do
    mutant_caught "$SUITE" "$m" "$c"
    TRIED+=("$m")
done <<'LIST'
push-no-device-added PU-ADDED-001
push-no-device-added PU-ADDED-002
push-no-data-changed PU-DATA-001
status-no-push PU-INFO-001
push-no-device-deleted PU-DELETED-001
push-no-retry PU-RETRY-001
push-no-retry PU-RETRY-002
push-no-timeout PU-TIMEOUT-001
push-retry-4xx PU-REJECT-001
push-no-expiry PU-WINDOW-001
push-never-invalid PU-INVALID-001
LIST
every_mutant_tried "push-"
