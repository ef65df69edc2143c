#!/usr/bin/env bash
# The embedded gateway's modes from a scenario: one-party registration from a CSV
# of terminal triples, and the idle timeout in virtual time.
. "$(dirname "$0")/lib.sh"
# fleet "known" numbers its terminals T000001..T000010 (numbers count from 1 across
# the scenario); fleet "stranger" follows as T000011.. and is not in the file
{
    echo "manufacturer,model,terminal_id"
    for i in $(seq 1 10); do printf 'FSIM1,FS-TERM,T%06d\n' "$i"; done
} >"$TMP/triples.csv"
cat >"$TMP/one.json" <<'JSON'
{"name": "one-party", "duration": "6s", "time_scale": 2,
 "platform": {"auth": "one-party", "triples": "triples.csv"},
 "fleets": [{"id": "known", "protocol": "jt808", "version": 2013, "count": 10},
            {"id": "stranger", "protocol": "jt808", "version": 2013, "count": 3,
             "phone": "13900000000+", "reconnect": {"min": "10s", "max": "10s"}}],
 "expect": [{"id": "ONE-KNOWN-001", "fleet": "known", "state": "authenticated", "within": "2s"},
            {"id": "ONE-STRANGER-001", "fleet": "stranger", "counter": "terminal.reg_refused", "min": 3},
            {"id": "ONE-STRANGER-002", "fleet": "stranger", "counter": "terminal.replies", "max": 0},
            {"id": "ONE-GW-001", "counter": "gateway.registrations", "min": 10, "max": 10},
            {"id": "ONE-LEDGER-001", "ledger": "balanced"}]}
JSON
expect_exit "one-party: imported terminals register, others are refused (result 4)" 0 \
    "$FLEETSIM" run "$TMP/one.json" -q
contains "one-party: all five checks pass" "5 cases: 5 pass" "$TMP/out"
contains "one-party: the refusals are in the ledger" "(refused " "$TMP/out"

cat >"$TMP/idle.json" <<'JSON'
{"name": "idle", "duration": "150s", "time_scale": 50,
 "platform": {"idle_timeout": "60s"},
 "fleets": [{"id": "quiet", "protocol": "jt808", "count": 5, "heartbeat": "100s", "report": {"every": "0s"},
             "reconnect": {"min": "200s", "max": "200s"}},
            {"id": "chatty", "protocol": "jt808", "count": 5, "heartbeat": "20s", "report": {"every": "0s"}}],
 "expect": [{"id": "IDLE-001", "counter": "gateway.closed_idle", "min": 5, "max": 5},
            {"id": "IDLE-002", "fleet": "quiet", "state": "disconnected"},
            {"id": "IDLE-003", "fleet": "chatty", "state": "authenticated"}]}
JSON
expect_exit "the idle timeout closes silent terminals (virtual time, 50x)" 0 "$FLEETSIM" run "$TMP/idle.json" -q
contains "idle: all three checks pass" "3 cases: 3 pass" "$TMP/out"
