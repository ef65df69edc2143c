#!/usr/bin/env bash
# Terminals that unregister (0x0003) on a step leave and stay away; the platform forgets them.
. "$(dirname "$0")/lib.sh"
cat >"$TMP/u.json" <<'JSON'
{"name": "unregister", "duration": "12s", "time_scale": 4,
 "fleets": [{"id": "a", "protocol": "jt808", "version": 2019, "count": 20, "report": {"every": "1s"}}],
 "steps": [{"at": "4s", "terminal": {"fleet": "a", "action": "unregister", "fraction": 0.5}}],
 "expect": [
   {"id": "U-STATE-001", "fleet": "a", "state": "unregistered", "fraction": 0.5},
   {"id": "U-STAY-001", "fleet": "a", "state": "authenticated", "fraction": 0.5},
   {"id": "U-GW-001", "counter": "gateway.unregistrations", "min": 10, "max": 10},
   {"id": "U-TERM-001", "counter": "terminal.unregistered", "min": 10, "max": 10},
   {"id": "U-LEDGER-001", "ledger": "balanced"}
 ]}
JSON
expect_exit "half the fleet unregisters and stays away" 0 "$FLEETSIM" run "$TMP/u.json" -q
contains "all five unregister checks pass" "5 cases: 5 pass" "$TMP/out"
