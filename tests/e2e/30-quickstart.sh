#!/usr/bin/env bash
# The demo scenario itself (1,000 terminals), three times faster than real time.
. "$(dirname "$0")/lib.sh"
expect_exit "quickstart passes every expectation (time scale 2)" 0 \
    "$FLEETSIM" run scenarios/quickstart.json --time-scale 2 --report "$TMP/rep" --status-interval 2s
contains "quickstart: 8 cases pass" "8 cases: 8 pass, 0 fail, 0 error, 0 inconclusive" "$TMP/out"
contains "quickstart: the ledger balances" "ledger: balanced" "$TMP/out"
contains "quickstart: every terminal came online" "all 1000 terminals online (authenticated) after" "$TMP/out"
contains "quickstart: status lines were printed" "online 1000/1000" "$TMP/out"
