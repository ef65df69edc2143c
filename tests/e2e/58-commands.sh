#!/usr/bin/env bash
# Every platform request the embedded gateway sends from a command step, to a 2013
# and a 2019 fleet (which also asks the server time, fleet option time_query), each with a reply expectation: the gateway matches and checks
# each reply (tests/unit/test_gateway_cmds.c has the wrong answers).  Kinds left
# out: 0x8003 (it names serials of one terminal's own message; unit-tested);
# 59-areas.sh has the areas' alarms.  0x8A00, sent bodiless, carries the gateway's
# own key (57-rsa.sh goes further).
# A 2013 fleet cannot be sent 0x8204 or 0x8608 and a 2019 fleet 0x8304: the
# scenario is refused when read, naming the step.
. "$(dirname "$0")/lib.sh"
python3 - >"$TMP/c.json" <<'PY'
import json
both = ["0x8104", "0x8201", "0x8106", "0x8107", "0x8202", "0x8203", "0x8301", "0x8302", "0x8303",
        "0x8400", "0x8401", "0x8500", "0x8700", "0x8701", "0x8702", "0x8800", "0x8801", "0x8802",
        "0x8803", "0x8804", "0x8805", "0x8900", "0x8600", "0x8601", "0x8602", "0x8603", "0x8604",
        "0x8605", "0x8606", "0x8607", "0x8A00"]
replies = {"0x8104": "0x0104", "0x8201": "0x0201", "0x8106": "0x0104", "0x8107": "0x0107",
           "0x8500": "0x0500", "0x8700": "0x0700", "0x8702": "0x0702", "0x8800": "packages",
           "0x8801": "0x0805", "0x8802": "0x0802", "0x8608": "0x0608", "0x8A00": "0x0A00"}
kinds = {"t13": both + ["0x8304"], "t19": both + ["0x8204", "0x8608"]}
steps, expect = [], []
for fleet, ks in kinds.items():
    for i, k in enumerate(ks):
        steps.append({"at": "%.1fs" % (2 + 0.4 * i), "command": {"fleet": fleet, "msg": k}})
        expect.append({"id": "CMD%s-%s-001" % (fleet[1:], k[2:]), "fleet": fleet, "to": k,
                       "reply": replies.get(k, "0x0001"), "within": "5s"})
for n in ["reply_wrong_id", "reply_bad_body", "reply_bad_ids", "reply_bad_location", "reply_mismatch",
          "unsupported", "bad_frame", "reasm_expired"]:
    expect.append({"id": "CMD-%s-001" % n.upper().replace("_", "."), "counter": "gateway." + n, "max": 0})
expect.append({"id": "CMD-MEDIA-001", "counter": "gateway.media_received", "min": 2})
# the 2019 fleet asks the server time after authenticating (time_query): each 0x0004
# answered with an 0x8004 whose UTC time is the terminal's own
expect.append({"id": "TIME-QUERY-001", "counter": "terminal.time_answers", "min": 2, "max": 2})
expect.append({"id": "TIME-QUERY-002", "counter": "terminal.time_off", "max": 0})
expect.append({"id": "TIME-QUERY-003", "counter": "gateway.server_time", "min": 2, "max": 2})
print(json.dumps({"name": "commands", "duration": "20s",
                  "fleets": [{"id": "t13", "protocol": "jt808", "version": 2013, "count": 2, "phone": "13800000000+"},
                             {"id": "t19", "protocol": "jt808", "version": 2019, "count": 2, "phone": "13810000000+",
                              "time_query": True}],
                  "steps": steps, "expect": expect}))
PY
n=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["expect"]))' "$TMP/c.json")
"$FLEETSIM" run "$TMP/c.json" -q --report "$TMP/rep" >"$TMP/out" 2>&1; rc=$?
cp "$TMP/out" "$TMP/run.out"
if [ $rc -eq 0 ] && grep -q "$n cases: $n pass" "$TMP/out"; then
    ok "every request sent from a step is answered as the table says, by both editions ($n cases)"
else
    nok "every request sent from a step is answered as the table says, by both editions" "exit $rc" \
        "$(grep -E "FAIL|ERROR|cases:" "$TMP/run.out")"
fi
# an edition's own request sent to the other edition: refused when the scenario is read
python3 - "$TMP/c.json" >"$TMP/bad.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
s["steps"].append({"at": "3s", "command": {"fleet": "t13", "msg": "0x8204"}})
print(json.dumps(s))
PY
expect_exit "0x8204 to a 2013 fleet is refused when the scenario is read" 2 "$FLEETSIM" run --dry-run "$TMP/bad.json"
contains "... with the step and the edition named" "command: 0x8204 exists in JT/T 808-2019 only: not a request for 2013 (or 2011) terminals" "$TMP/out"
sed 's/"0x8202"}/"0x8202", "body": {"interval": 5, "duration": 60, "intervall": 1}}/' "$TMP/c.json" >"$TMP/bad2.json"
expect_exit "a body field the layout does not have is refused when the scenario is read" 2 \
    "$FLEETSIM" run --dry-run "$TMP/bad2.json"
contains "... naming the step and the field" "command: body.intervall" "$TMP/out"
