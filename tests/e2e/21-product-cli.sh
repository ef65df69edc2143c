#!/usr/bin/env bash
# `fleetsim decode|encode --profile FILE product ...`: every golden vector of
# vectors/pcodec.json through the command line, both ways (the decode as the
# vector gives it, the encode back to its bytes), deviations on stderr, errors
# with their exit status, and a bad product file named with its JSON path.
. "$(dirname "$0")/lib.sh"
P=profiles/watermeter.json
python3 - "$FLEETSIM" "$P" <<'PY'
import json, subprocess, sys
fs, prof = sys.argv[1], sys.argv[2]
vs = json.load(open("vectors/pcodec.json"))["vectors"]
bad = []
for v in vs:
    if not v["hex"]:
        continue  # no bytes: the command line refuses "no hex digits" first (the unit test has it)
    frm = v["from"]
    r = subprocess.run([fs, "decode", "-c", "-P", prof, "-f", frm, "product", v["hex"]], capture_output=True, text=True)
    if "error" in v:
        want = "error: field %s " % v["error"]["field"]
        at = " at offset %d: " % v["error"]["offset"]
        if r.returncode != 1 or want not in r.stderr or at not in r.stderr:
            bad.append("%s: want exit 1 and %r...%r, got %d %r" % (v["name"], want, at, r.returncode, r.stderr))
        continue
    got = json.loads(r.stdout) if r.returncode == 0 else None
    if got != v["fields"]:
        bad.append("%s: decoded %r" % (v["name"], r.stdout or r.stderr))
    for d in v["fields"].get("deviations", []):
        if "deviation: %s at byte %d" % (d["kind"], d["offset"]) not in r.stderr:
            bad.append("%s: no stderr line for the deviation %s" % (v["name"], d["kind"]))
    if "deviations" not in v["fields"]:
        f = v["fields"]
        arg = {"message": f["message"], "data": f["data"]}
        for k in ("mid", "errcode"):
            if k in f:
                arg[k] = f[k]
        e = subprocess.run([fs, "encode", "-P", prof, "product", json.dumps(arg)], capture_output=True, text=True)
        if e.returncode != 0 or e.stdout.strip() != v["hex"]:
            bad.append("%s: encoded %r %r" % (v["name"], e.stdout, e.stderr))
print(("ok - " if not bad else "not ok - ") + "every vector of vectors/pcodec.json decodes and encodes on the command line (%d)" % len(vs))
for b in bad[:10]:
    print("    " + b)
PY
expect_exit "a command's value outside the model's range is refused (exit 2)" 2 \
    "$FLEETSIM" encode -P "$P" product '{"message":"setReportPeriod","mid":1,"data":{"period":5}}'
"$FLEETSIM" encode -P "$P" product '{"message":"setReportPeriod","mid":1,"data":{"period":5}}' 2>"$TMP/e.txt"
contains "... saying which value and why" "error: data.period: 5 is outside its range 60..86400" "$TMP/e.txt"
"$FLEETSIM" encode -P "$P" product '{"message":"nope","data":{}}' 2>"$TMP/e.txt"
contains "an unknown message lists the codec's" "is not one (the codec's: basicReport, alarmReport" "$TMP/e.txt"
expect_exit "product without --profile is a usage error" 2 "$FLEETSIM" decode product 0102
expect_exit "--profile with jt808 is a usage error" 2 "$FLEETSIM" decode -P "$P" jt808 7E7E
printf '{"product": {"productId": "P", "manufacturerId": "M", "deviceType": "T", "model": "X", "protocolType": "CoAP"},\n "services": [{"serviceId": "S", "properties": [{"name": "a", "dataType": "integer"}]}]}\n' >"$TMP/bad.json"
"$FLEETSIM" decode -P "$TMP/bad.json" product 01 2>"$TMP/e.txt"; rc=$?
if [ $rc = 2 ] && grep -q "bad.json: services\[0\].properties\[0\].dataType: expected one of int, decimal" "$TMP/e.txt"; then
    ok "a bad product file is refused with its JSON path (exit 2)"
else nok "a bad product file is refused with its JSON path" "exit $rc" "$(cat "$TMP/e.txt")"; fi
