#!/usr/bin/env bash
# The platform core's store under load: positions flushed a slice at a time and WAL
# checkpoints on a thread of their own.  2,000 terminals reporting 8,000 times a
# second for 10 s: every report acknowledged, every terminal's latest position in the
# database at the end, the WAL checkpointed off the loop and started over, its size
# bounded, and the figures in the summary and report.json.
. "$(dirname "$0")/lib.sh"
cat >"$TMP/load.json" <<'JSON'
{"name": "store-load", "duration": "10s", "platform": {"idle_timeout": "1h"},
 "fleets": [{"id": "a", "protocol": "jt808", "version": 2019, "count": 2000, "ramp": "2000/s",
             "phone": "13900000000+", "heartbeat": "120s", "report": {"every": "250ms"}, "ack_timeout": "10s"}],
 "expect": [{"id": "STORE-HELD-001", "state": "authenticated"},
            {"id": "STORE-ACKED-001", "ledger": "acked"}]}
JSON
expect_exit "2,000 terminals reporting 8,000/s: every report acknowledged" 0 \
    "$FLEETSIM" run "$TMP/load.json" --db "$TMP/p.db" --report "$TMP/r"
cp "$TMP/out" "$TMP/run.out"
line=$(grep "platform store:" "$TMP/run.out")
if [[ $line =~ started\ over\ ([0-9]+)\ times,\ ([0-9]+)\ checkpoints\ off\ the\ loop ]] \
   && [ "${BASH_REMATCH[1]}" -ge 1 ] && [ "${BASH_REMATCH[2]}" -ge 1 ]; then
    ok "the summary says the WAL was checkpointed off the loop and started over"
else
    nok "the summary says the WAL was checkpointed off the loop and started over" "$line"
fi
got=$(python3 - "$TMP/r/report.json" <<'PY'
import json, sys
k = json.load(open(sys.argv[1]))["snapshot"]["platform"]["core"]
# 8,000 values a second, 50 ms flush ticks: slices, many more than the ticks' 200
print(k["checkpoints"] >= 1, k["wal_restarts"] >= 1, 0 < k["wal_max_kb"] <= 16384, k["flushes"] > 200,
      k["checkpoints_incomplete"] <= k["checkpoints"])
PY
)
if [ "$got" = "True True True True True" ]; then
    ok "report.json: checkpoints, WAL restarts, the WAL at most 16 MB, flush slices"
else
    nok "report.json: checkpoints, WAL restarts, the WAL at most 16 MB, flush slices" "$got" \
        "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["snapshot"]["platform"]["core"])' "$TMP/r/report.json" 2>&1)"
fi
q() { sqlite3 -batch -noheader "$TMP/p.db" "$1" 2>&1; }
got=$(q "select count(distinct device_id) from reports")
if [ "$got" = 2000 ]; then ok "a position of every terminal is in the database"; else nok "a position of every terminal is in the database" "$got"; fi
# each terminal reported every 250 ms to the end: its stored row is one of its last
got=$(q "select (max(updated_at) - min(updated_at)) < 2000 from reports")
if [ "$got" = 1 ]; then
    ok "every terminal's stored position is one of its last (nothing left behind by the slices)"
else
    nok "every terminal's stored position is one of its last (nothing left behind by the slices)" \
        "$(q "select min(updated_at), max(updated_at) from reports")"
fi
