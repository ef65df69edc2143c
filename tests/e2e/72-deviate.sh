#!/usr/bin/env bash
# Terminals told to deviate (fleet option "deviate"): the chosen share of a fleet
# sends 0x0200 reports and 0x0104 answers with the listed deviation kinds; the
# embedded gateway accepts and acknowledges them and counts each kind as the
# terminals sent it; an expectation requiring none fails.
. "$(dirname "$0")/lib.sh"
scenario() { # $1: extra expectations (JSON members of "expect", with a leading comma)
    cat <<JSON
{"name": "deviate", "duration": "8s", "time_scale": 2,
 "fleets": [{"id": "a", "protocol": "jt808", "version": 2013, "count": 20, "report": {"every": "1s"},
             "deviate": {"kinds": ["item-length", "count-overrun", "unescaped-check"], "share": 0.25}},
            {"id": "b", "protocol": "jt808", "version": 2019, "count": 10, "report": {"every": "1s"},
             "deviate": {"kinds": ["item-truncated", "param-length", "trailing-bytes"], "share": 1}},
            {"id": "c", "protocol": "jt808", "version": 2019, "count": 10, "report": {"every": "1s"}}],
 "steps": [{"at": "4s", "command": {"fleet": "a", "msg": "0x8104"}},
           {"at": "4s", "command": {"fleet": "b", "msg": "0x8104"}},
           {"at": "4s", "command": {"fleet": "c", "msg": "0x8104"}}],
 "expect": [{"id": "DEV-001", "state": "authenticated"},
            {"id": "DEV-002", "ledger": "balanced"},
            {"id": "DEV-003", "counter": "terminal.disconnects", "max": 0},
            {"id": "DEV-004", "counter": "gateway.bad_check", "max": 0}$1]}
JSON
}
scenario "" >"$TMP/d.json"
"$FLEETSIM" run "$TMP/d.json" -q --report "$TMP/rep" >"$TMP/out" 2>&1; rc=$?
if [ $rc -eq 0 ] && grep -q "4 cases: 4 pass" "$TMP/out"; then
    ok "deviating terminals stay authenticated; every frame acknowledged (ledger balanced)"
else
    nok "deviating terminals stay authenticated; every frame acknowledged (ledger balanced)" "exit $rc" "$(tail -12 "$TMP/out")"
fi
# per kind: what the terminals sent (terminal.dev_<kind>) is what the gateway counted
python3 - "$TMP/rep/report.json" >"$TMP/cmp" 2>&1 <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))["metrics"]
kinds = ["item_length", "param_length", "count_overrun", "trailing_bytes", "unescaped_check", "item_truncated"]
listed = {"a": {"item_length", "count_overrun", "unescaped_check"},
          "b": {"item_truncated", "param_length", "trailing_bytes"}, "c": set()}
bad = 0
for k in kinds:
    sent = sum(m["fleets"][f]["dev_" + k] for f in listed)
    got = m["gateway"]["dev_" + k]
    for f, ks in listed.items():
        n = m["fleets"][f]["dev_" + k]
        if (n > 0) != (k in ks):
            print(f"fleet {f}: dev_{k} = {n}, listed: {k in ks}"); bad += 1
    if sent != got or sent == 0:
        print(f"dev_{k}: terminals sent {sent}, gateway counted {got}"); bad += 1
    else:
        print(f"dev_{k}: {sent} sent = {got} counted")
sys.exit(1 if bad else 0)
PY
if [ $? -eq 0 ]; then
    ok "gateway.dev_<kind> equals the frames sent with it, nonzero only for listed kinds"
else
    nok "gateway.dev_<kind> equals the frames sent with it, nonzero only for listed kinds" "$(cat "$TMP/cmp")"
fi
# fleet a: 20 * 0.25 = 5 deviating terminals, each reporting about 7 times: the
# 0x0200 kinds alternate, so item-length and unescaped-check are each about 15-20
grep -q "dev_count_overrun: 5 sent" "$TMP/cmp" && ok "count-overrun: one 0x0104 from each of the 5 chosen terminals of fleet a" ||
    nok "count-overrun: one 0x0104 from each of the 5 chosen terminals of fleet a" "$(cat "$TMP/cmp")"
# an expectation that requires none fails when they arrive
scenario ', {"id": "DEV-NONE", "counter": "gateway.dev_item_length", "max": 0}, {"id": "DEV-NONE-C", "counter": "gateway.dev_param_length", "fleet": "c", "max": 0}' >"$TMP/n.json"
"$FLEETSIM" run "$TMP/n.json" -q >"$TMP/out" 2>&1; rc=$?
if [ $rc -ne 0 ] && grep -Eq "^DEV-NONE +FAIL" "$TMP/out"; then
    ok "an expectation of no deviations fails when deviating frames arrive"
else
    nok "an expectation of no deviations fails when deviating frames arrive" "exit $rc" "$(tail -12 "$TMP/out")"
fi
# validation: unknown kind, share outside 0..1, naming the JSON path
cat >"$TMP/bad.json" <<'JSON'
{"name": "bad-deviate", "duration": "2s",
 "fleets": [{"id": "a", "protocol": "jt808", "count": 2,
             "deviate": {"kinds": ["item-lenght", "bogus"], "share": 1.5}},
            {"id": "b", "protocol": "jt808", "count": 2, "deviate": {"kinds": [], "share": -0.1, "x": 1}}]}
JSON
"$FLEETSIM" run -n "$TMP/bad.json" >"$TMP/out" 2>&1; rc=$?
[ $rc -eq 2 ] && ok "a bad deviate option is refused (exit 2)" || nok "a bad deviate option is refused (exit 2)" "exit $rc"
contains "unknown kind: path, suggestion" 'fleets[0].deviate.kinds[0]: unknown deviation kind "item-lenght" (did you mean "item-length"?)' "$TMP/out"
contains "unknown kind: the kinds there are" 'fleets[0].deviate.kinds[1]: unknown deviation kind "bogus"; one of item-length, param-length, count-overrun, trailing-bytes, unescaped-check, item-truncated' "$TMP/out"
contains "share above 1" 'fleets[0].deviate.share: must be between 0 and 1 (a share of the fleet), got 1.5' "$TMP/out"
contains "share below 0" 'fleets[1].deviate.share: must be between 0 and 1 (a share of the fleet), got -0.1' "$TMP/out"
contains "no kinds" 'fleets[1].deviate.kinds: must list at least one deviation kind' "$TMP/out"
