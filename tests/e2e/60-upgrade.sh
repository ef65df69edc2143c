#!/usr/bin/env bash
# 0x8108 upgrade packages: one that fits a frame, and one of 5,000 bytes that the
# gateway sends in subpackages and the terminals reassemble before answering.
. "$(dirname "$0")/lib.sh"
cat >"$TMP/u.json" <<'JSON'
{"name": "upgrade", "duration": "6s", "time_scale": 2,
 "fleets": [{"id": "a", "protocol": "jt808", "version": 2013, "count": 10},
            {"id": "b", "protocol": "jt808", "version": 2019, "count": 10}],
 "steps": [{"at": "2s", "command": {"fleet": "a", "msg": "0x8108",
            "body": {"type": 0, "manufacturer": "FSIM1", "version": "2.0.1", "package_len": 5000}}},
           {"at": "2s", "command": {"fleet": "b", "msg": "0x8108",
            "body": {"type": 0, "manufacturer": "FSIM1", "version": "2.0.1", "package_len": 300}}}],
 "expect": [{"id": "UPG-BIG-001", "fleet": "a", "reply": "0x0001", "to": "0x8108"},
            {"id": "UPG-SMALL-001", "fleet": "b", "reply": "0x0001", "to": "0x8108"},
            {"id": "UPG-DECODE-001", "counter": "terminal.decode_errors", "max": 0},
            {"id": "UPG-LEDGER-001", "ledger": "acked"}]}
JSON
expect_exit "a 5,000-byte upgrade package is split, reassembled and answered" 0 "$FLEETSIM" run "$TMP/u.json" -q
contains "all four upgrade checks pass" "4 cases: 4 pass" "$TMP/out"
# the terminals' 0x0108 results went into their ledger and were acknowledged
contains "the upgrade results are acknowledged" "terminals sent" "$TMP/out"
