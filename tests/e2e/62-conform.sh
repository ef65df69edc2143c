#!/usr/bin/env bash
# fleetsim conform: the JT/T 808 suite against the embedded platform passes; the
# listings (--dryrun, --list) show every case and the counts; --cases and
# --exclude filter; --jobs 2 gives the same verdicts; junit.xml parses; a
# platform that answers wrong fails exactly the cases it breaks; and the exit
# status tells a failure, a harness error, an input error and an inconclusive
# case apart.
. "$(dirname "$0")/lib.sh"
SUITE=scenarios/conformance/jt808
# every case id of the suite's files, and the MUST ones
python3 - "$SUITE" >"$TMP/ids" <<'PY'
import json, os, sys
d = sys.argv[1]
for f in sorted(os.listdir(d)):
    if not f.endswith(".json") or f == "suite.json":
        continue
    j = json.load(open(os.path.join(d, f)))
    for c in j.get("cases", [j]):
        if c.get("kind") == "scenario":   # its expectations are the cases
            for e in c["scenario"]["expect"]:
                print(e["id"], c["level"])
        else:
            print(c["id"], c["level"])
PY
n_all=$(wc -l <"$TMP/ids")
n_must=$(grep -c " MUST$" "$TMP/ids")
# the TLS cases need a target serving TLS (tests/e2e/65-conform-tls.sh runs them):
# the plain runs here leave them out
n_tls=$(grep -c "^JT808-TLS-" "$TMP/ids")
n_plain=$((n_must - n_tls))

"$FLEETSIM" conform "$SUITE" -q --exclude 'JT808-TLS-*' --report "$TMP/r1" >"$TMP/out" 2>&1; rc=$?
cp "$TMP/out" "$TMP/run1"
if [ $rc -eq 0 ] && grep -q "^$n_plain cases: $n_plain pass" "$TMP/out"; then
    ok "the JT/T 808 suite passes against the embedded platform ($n_plain MUST cases, the $n_tls TLS ones aside)"
else
    nok "the JT/T 808 suite passes against the embedded platform" "exit $rc" "$(grep -E "FAIL|ERROR|cases:" "$TMP/out")"
fi
if [ "$n_all" -gt "$n_must" ]; then
    contains "SHOULD cases are listed as not run without --strict" "(SHOULD; --strict runs it)" "$TMP/out"
fi
n_fleet=$(grep -c "^JT808-FLEET-" "$TMP/ids")
# every SHOULD case passes too (the embedded platform has no known deviation left)
n_strict=$((n_all - n_fleet - n_tls))
expect_exit "--strict runs the SHOULD cases too, and they pass" 0 "$FLEETSIM" conform "$SUITE" -q --strict --exclude "JT808-FLEET-*,JT808-TLS-*"
contains "... all $n_strict of them" "$n_strict cases: $n_strict pass" "$TMP/out"
# a second registration issues a new code and the first is refused (it was the
# same code again, and this case failed)
expect_exit "JT808-AUTH-005 passes: the code of the first registration is stale after a second" 0 \
    "$FLEETSIM" conform "$SUITE" -q --strict --cases JT808-AUTH-005 --report "$TMP/ra5"
python3 - "$TMP/ra5/report.json" >"$TMP/py" 2>&1 <<'PY'
import json, re, sys
c = json.load(open(sys.argv[1]))["cases"][0]
codes = re.findall(r'"auth_code":"([^"]*)"', c["wire_log"])
assert c["id"] == "JT808-AUTH-005" and c["verdict"] == "PASS", c
# two 0x8100 issued two codes; the first refused (result 1), the second accepted
assert len(set(codes[:2])) == 2 and all(codes[:2]), codes
assert re.search(r'c0 > 7E0102[^\n]*\n.*c0 < 7E8001[^\n]*"result":1', c["wire_log"]), c["wire_log"]
print("fine")
PY
contains "... with two codes on the wire and the first refused (0x8001 result 1)" "fine" "$TMP/py"

# the reports: junit.xml through an XML parser, report.json with each case's evidence
python3 - "$TMP/r1" "$n_plain" >"$TMP/py" 2>&1 <<'PY'
import json, sys, xml.etree.ElementTree as ET
d, n = sys.argv[1], int(sys.argv[2])
root = ET.parse(d + "/junit.xml").getroot()
tcs = root.findall(".//testcase")
assert len(tcs) == n, (len(tcs), n)
for t in tcs:
    assert t.get("classname", "").startswith("jt808"), t.get("classname")
    assert t.get("time") is not None
    assert t.find("failure") is None and t.find("error") is None
r = json.load(open(d + "/report.json"))
assert r["verdict"] == "PASS"
assert len(r["cases"]) == n
for c in r["cases"]:
    assert c["level"] == "MUST" and c["suite"] == "jt808" and c["ref"].startswith(("JT/T 808", "seed 000 ")), c
    if not c["id"].startswith("JT808-FLEET-"):   # exchange cases: every frame in the log
        assert " c0 > 7E" in c["wire_log"] and " c0 < 7E" in c["wire_log"], c["id"]
# report.html: one page with a matrix cell and the evidence of every case
import html.parser
page = open(d + "/report.html", encoding="utf-8").read()
html.parser.HTMLParser().feed(page)
for c in r["cases"]:
    assert page.count(c["id"]) >= 2, c["id"]
assert "http://" not in page and "https://" not in page
print("fine")
PY
contains "junit.xml parses, a testcase per case with its spec area; report.json holds each wire log; report.html has every case" "fine" "$TMP/py"
contains "the escaped serial is seen on the raw wire" "7D027D01" "$TMP/r1/report.json"

# --jobs 2: the same verdicts
"$FLEETSIM" conform "$SUITE" -q --exclude 'JT808-TLS-*' --jobs 2 --report "$TMP/r2" >"$TMP/out" 2>&1; rc=$?
v() { python3 -c 'import json,sys; print("\n".join(c["id"]+" "+c["verdict"] for c in json.load(open(sys.argv[1]))["cases"]))' "$1"; }
if [ $rc -eq 0 ] && [ "$(v "$TMP/r1/report.json")" = "$(v "$TMP/r2/report.json")" ]; then
    ok "--jobs 2 gives the same verdicts, in the same order"
else
    nok "--jobs 2 gives the same verdicts, in the same order" "exit $rc" "$(diff <(v "$TMP/r1/report.json") <(v "$TMP/r2/report.json"))"
fi

# listings
"$FLEETSIM" conform scenarios/conformance --dryrun >"$TMP/dry" 2>&1; rc=$?
missing=$(while read -r id _; do grep -q "^$id " "$TMP/dry" || echo "$id"; done <"$TMP/ids")
if [ $rc -eq 0 ] && [ -z "$missing" ]; then
    ok "--dryrun over scenarios/conformance lists every case id"
else
    nok "--dryrun over scenarios/conformance lists every case id" "exit $rc" "missing: $missing"
fi
contains "... with its level and reference" "JT808-HB-001           MUST   " "$TMP/dry"
"$FLEETSIM" conform --list >"$TMP/list" 2>&1
if grep -qE "^jt808 +jt808 +$n_all +scenarios/conformance/jt808$" "$TMP/list"; then
    ok "--list prints the suite with its case count ($n_all)"
else
    nok "--list prints the suite with its case count ($n_all)" "$(cat "$TMP/list")"
fi

# filters
"$FLEETSIM" conform "$SUITE" -q --cases 'JT808-AUTH-*,JT808-HB-*' --exclude JT808-AUTH-003 >"$TMP/out" 2>&1; rc=$?
got=$(grep -oE "^JT808-[A-Z0-9-]+" "$TMP/out" | tr '\n' ' ')
if [ $rc -eq 0 ] && [ "$got" = "JT808-AUTH-001 JT808-AUTH-002 JT808-HB-001 " ]; then
    ok "--cases and --exclude choose the cases by id"
else
    nok "--cases and --exclude choose the cases by id" "exit $rc" "got: $got"
fi
expect_exit "a filter that leaves nothing is an input error" 2 "$FLEETSIM" conform "$SUITE" --cases 'NOPE-*'

# a platform that answers wrong: a suite of its own whose case wants what the
# standard does not say (a heartbeat answered result 1) fails, with the evidence
mkdir -p "$TMP/s"
cp "$SUITE/suite.json" "$TMP/s/"
cat >"$TMP/s/c.json" <<'JSON'
{"cases": [
 {"id": "X-HB-001", "ref": "JT/T 808-2013 8.3", "objective": "heartbeat answered result 1 (wrong on purpose)",
  "level": "MUST", "steps": [{"use": "register_auth"}, {"send": {"msg_id": "0x0002"}},
  {"expect": {"msg_id": "0x8001", "match": {"body.ack_id": "0x0002", "body.result": 1}}, "within": "1s"}]},
 {"id": "X-NB-001", "ref": "r", "objective": "needs what the embedded platform lacks", "level": "MUST",
  "needs": ["tls"], "steps": [{"connect": true}]}
]}
JSON
"$FLEETSIM" conform "$TMP/s" -q --cases 'X-HB-*' --report "$TMP/r3" >"$TMP/out" 2>&1; rc=$?
if [ $rc -eq 1 ] && grep -q "X-HB-001 *FAIL" "$TMP/out" && grep -q "body.result 1, got 0" "$TMP/out"; then
    ok "a wrong answer fails with expected and observed (exit 1)"
else
    nok "a wrong answer fails with expected and observed (exit 1)" "exit $rc" "$(tail -8 "$TMP/out")"
fi
python3 - "$TMP/r3/junit.xml" >"$TMP/py" 2>&1 <<'PY'
import sys, xml.etree.ElementTree as ET
t = ET.parse(sys.argv[1]).getroot().find(".//testcase")
f = t.find("failure")
assert f is not None and "7E8001" in (f.text or "") + (t.findtext("system-out") or ""), ET.tostring(t)[:400]
print("fine")
PY
contains "... and junit.xml has the <failure> with the frames in hex" "fine" "$TMP/py"
# a scenario case: its expectations are cases, judged by `fleetsim run`; chosen by their ids
cat >"$TMP/s/sc.json" <<'JSON'
{"id": "X-SC", "ref": "r 1", "objective": "a small fleet", "level": "MUST", "kind": "scenario",
 "scenario": {"name": "x", "duration": "2s", "fleets": [{"id": "a", "protocol": "jt808", "count": 3}],
   "expect": [{"id": "X-SC-001", "state": "authenticated"},
              {"id": "X-SC-002", "counter": "gateway.registrations", "max": 0}]}}
JSON
"$FLEETSIM" conform "$TMP/s" -q --cases 'X-SC*' --report "$TMP/r4" >"$TMP/out" 2>&1; rc=$?
if [ $rc -eq 1 ] && grep -q "X-SC-001 *PASS" "$TMP/out" && grep -q "X-SC-002 *FAIL" "$TMP/out" \
   && grep -q "2 cases: 1 pass, 1 fail" "$TMP/out"; then
    ok "a scenario case gives a verdict per expectation, as fleetsim run judges them"
else
    nok "a scenario case gives a verdict per expectation, as fleetsim run judges them" "exit $rc" "$(tail -6 "$TMP/out")"
fi
expect_exit "--cases picks one expectation of a scenario case" 0 "$FLEETSIM" conform "$TMP/s" -q --cases X-SC-001
contains "... and only that one" "1 cases: 1 pass" "$TMP/out"
# SIGINT ends the run: the case being run is an error, none after it starts, the
# platform is stopped and its files removed (exit 3, a harness error)
cat >"$TMP/s/long.json" <<'JSON'
{"cases": [{"id": "X-LONG-001", "ref": "r", "objective": "a long silence", "level": "MUST",
            "steps": [{"connect": true}, {"expect_silence": "30s"}]},
           {"id": "X-LONG-002", "ref": "r", "objective": "never started", "level": "MUST",
            "steps": [{"connect": true}]}]}
JSON
mkdir -p "$TMP/td"
TMPDIR="$TMP/td" "$FLEETSIM" conform "$TMP/s" -q --cases 'X-LONG-*' >"$TMP/out" 2>&1 &
cpid=$!
for _ in $(seq 50); do [ -n "$(ls "$TMP/td")" ] && break; sleep 0.1; done
sleep 1
kill -INT $cpid; t0=$(date +%s); wait $cpid; rc=$?; took=$(( $(date +%s) - t0 ))
if [ $rc -eq 3 ] && [ $took -le 5 ] && grep -q "X-LONG-001 *ERROR" "$TMP/out" && grep -q "interrupted" "$TMP/out" \
   && grep -q "X-LONG-002 *ERROR" "$TMP/out"; then
    ok "SIGINT ends the run at once: the case running and those after it are errors (exit 3)"
else
    nok "SIGINT ends the run at once: the case running and those after it are errors (exit 3)" "exit $rc after ${took}s" "$(tail -5 "$TMP/out")"
fi
if [ -z "$(ls "$TMP/td")" ]; then ok "... and the embedded platform's files are gone"
else nok "... and the embedded platform's files are gone" "$(ls -R "$TMP/td" | head -5)"; fi
TMPDIR="$TMP/td" "$FLEETSIM" conform "$TMP/s" -q --jobs 2 --cases 'X-LONG-*' >"$TMP/out" 2>&1 &
cpid=$!
sleep 1.5
kill -TERM $cpid; t0=$(date +%s); wait $cpid; rc=$?; took=$(( $(date +%s) - t0 ))
if [ $rc -eq 3 ] && [ $took -le 5 ] && grep -q "X-LONG-001 *ERROR" "$TMP/out"; then
    ok "... with --jobs 2 as well: SIGTERM stops the jobs"
else
    nok "... with --jobs 2 as well: SIGTERM stops the jobs" "exit $rc after ${took}s" "$(tail -5 "$TMP/out")"
fi
rm -f "$TMP/s/long.json"
expect_exit "a need the target lacks is inconclusive (exit 4)" 4 "$FLEETSIM" conform "$TMP/s" -q --cases 'X-NB-*'
contains "... with the reason" "the target lacks tls" "$TMP/out"
expect_exit "a target that is not there is a harness error (exit 3)" 3 \
    "$FLEETSIM" conform "$SUITE" -q --cases JT808-HB-001 --target "tcp://127.0.0.1:$(free_port)"
expect_exit "a target off loopback is refused (exit 2)" 2 "$FLEETSIM" conform "$SUITE" --target tcp://10.1.2.3:7999
echo '{"id": "X-1", "ref": "r", "objective": "o", "level": "MUSTY", "steps": [{"sendd": {}}]}' >"$TMP/s/d.json"
expect_exit "a case file with errors is an input error (exit 2)" 2 "$FLEETSIM" conform "$TMP/s" --dryrun
contains "... naming the file and the path" "$TMP/s/d.json: level: unknown value \"MUSTY\"" "$TMP/out"
contains "... every error at once" "$TMP/s/d.json: steps[0].sendd: unknown field (did you mean \"send\"?)" "$TMP/out"

# a third-party target: fleetsim serve on its own port
port=$(free_port)
"$FLEETSIM" serve --port "$port" --db "$TMP/p.db" -q >"$TMP/serve.log" 2>&1 &
spid=$!
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
# the scenario case needs the embedded platform (its gateway counters): inconclusive there
expect_exit "the suite passes against fleetsim serve as a tcp:// target, but for what needs the embedded one (exit 4)" 4 \
    "$FLEETSIM" conform "$SUITE" -q --exclude 'JT808-TLS-*' --target "tcp://127.0.0.1:$port"
n_other=$((n_must - n_fleet))
contains "... $((n_other - n_tls)) pass, the $n_fleet of the scenario case inconclusive" \
    "$n_plain cases: $((n_other - n_tls)) pass, 0 fail, 0 error, $n_fleet inconclusive" "$TMP/out"
kill -TERM $spid; wait $spid

# a deliberately broken platform (tests/data/jt808_broken_proxy.py in front of
# fleetsim serve): exactly the cases of the rule it breaks fail
port=$(free_port)
"$FLEETSIM" serve --port "$port" --db "$TMP/b.db" -q >"$TMP/serve2.log" 2>&1 &
spid=$!
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
broken() { # MODE EXPECTED-FAILING-IDS
    local pport ppid got
    start_proxy "$port" "$1"
    # --jobs 16: the cases that fail wait out their 3 s timeouts side by side, not 2 by 2
    "$FLEETSIM" conform "$SUITE" -q --jobs 16 --exclude 'JT808-FLEET-*,JT808-TLS-*' --target "tcp://127.0.0.1:$pport" --report "$TMP/rb" >"$TMP/out" 2>&1; rc=$?
    kill $ppid; wait $ppid 2>/dev/null
    got=$(python3 -c 'import json,sys; print(" ".join(c["id"] for c in json.load(open(sys.argv[1]))["cases"] if c["verdict"] == "FAIL"))' "$TMP/rb/report.json")
    if [ $rc -eq 1 ] && [ "$got" = "$2" ]; then
        ok "a platform that breaks $1 fails exactly: $2"
    else
        nok "a platform that breaks $1 fails exactly: $2" "exit $rc" "failed: $got" "$(grep -E "FAIL|ERROR" "$TMP/out" | head -5)"
    fi
}
broken skip-hb-ack "JT808-HB-001 JT808-CHECK-001 JT808-ESC-002 JT808-LEN-001 JT808-FRAME-003 JT808-FRAME-004 JT808-SUB-001 JT808-HDR-2013-001 JT808-HDR-2019-001 JT808-HDR-2019-002 JT808-COMP-002 JT808-RSA-002"
contains "... and says what it waited for" "no frame" "$TMP/out"
# every MUST case registers first but JT808-ESC-003 and JT808-FRAME-003/004 (frames
# of a terminal that has not) and those whose registration must be refused (JT808-FIELD-001..005)
broken reg-result-2 "$(grep " MUST$" "$TMP/ids" | grep -v "^JT808-FLEET-\|^JT808-TLS-\|^JT808-ESC-003 \|^JT808-FRAME-00[34] \|^JT808-FIELD-00[1-5] " | cut -d' ' -f1 | tr '\n' ' ' | sed 's/ $//')"
contains "... with the result it got" "body.result 0, got 2" "$TMP/out"
# a platform that takes a TCP read for a frame (the first frame of each read, no
# frame carried over to the next) fails the two cases of frames and reads (4.4)
broken frame-per-read "JT808-FRAME-003 JT808-FRAME-004"
# ... and those are the cases a platform that accepts every registration fails
broken reg-accept-all "JT808-FIELD-001 JT808-FIELD-002 JT808-FIELD-003 JT808-FIELD-004 JT808-FIELD-005"
# a server time far from now (0x8004 of 2000-01-01) fails the time case, saying by how much
start_proxy "$port" clock-off
expect_exit "a platform whose clock is off fails JT808-TIME-001 (exit 1)" 1 \
    "$FLEETSIM" conform "$SUITE" -q --cases 'JT808-TIME-*,JT808-HDR-2019-001' --target "tcp://127.0.0.1:$pport" --report "$TMP/rt"
kill $ppid; wait $ppid 2>/dev/null
got=$(python3 -c 'import json,sys; print(" | ".join(c["id"]+" "+c["verdict"]+" "+c["observed"] for c in json.load(open(sys.argv[1]))["cases"]))' "$TMP/rt/report.json")
if echo "$got" | grep -qE '^JT808-HDR-2019-001 PASS .* \| JT808-TIME-001 FAIL "000101000000" is -[0-9]+s from now$'; then
    ok "... saying how far from now, and only that case"
else
    nok "... saying how far from now, and only that case" "$got"
fi
kill -TERM $spid; wait $spid

# a suite with platform settings of its own (suite.json "platform"): jt808-one-party
# gets an embedded platform with provisioned terminals (--auth one-party --triples)
# and a 2s idle timeout, beside the default one the jt808 suite shares
OP=scenarios/conformance/jt808-one-party
n_op=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["cases"]))' "$OP/10-registration.json")
"$FLEETSIM" conform "$OP" "$SUITE" -q --jobs 2 --cases 'JT808-OP-*,JT808-IDLE-*,JT808-HB-001' --report "$TMP/r6" >"$TMP/out" 2>&1; rc=$?
if [ $rc -eq 0 ] && grep -q "^$((n_op + 1)) cases: $((n_op + 1)) pass" "$TMP/out"; then
    ok "the one-party suite passes against its own embedded platform, the jt808 suite's beside it ($n_op cases and 1)"
else
    nok "the one-party suite passes against its own embedded platform" "exit $rc" "$(grep -E "FAIL|ERROR|cases:" "$TMP/out")"
fi
# a scenario case in a suite with platform settings runs on them: terminals silent
# for 4 s are closed by a 2 s idle timeout (the suite's), not by the default 180 s;
# the same case in a suite without them fails; a scenario setting them itself is refused
mkdir -p "$TMP/ps" "$TMP/pn"
echo '{"name": "ps", "protocol": "jt808", "defaults": {"phone": "0139870#####"}, "platform": {"idle_timeout": "2s"}}' >"$TMP/ps/suite.json"
echo '{"name": "pn", "protocol": "jt808", "defaults": {"phone": "0139871#####"}}' >"$TMP/pn/suite.json"
cat >"$TMP/ps/sc.json" <<'JSON'
{"id": "X-PS", "ref": "JT/T 808-2013 8.3", "objective": "silent terminals are closed", "level": "MUST", "kind": "scenario",
 "scenario": {"name": "ps", "duration": "5s",
   "fleets": [{"id": "a", "protocol": "jt808", "count": 2, "heartbeat": "60s", "report": {"every": "60s"},
               "reconnect": {"min": "30s", "max": "30s"}}],
   "expect": [{"id": "X-PS-001", "counter": "gateway.closed_idle", "min": 2}]}}
JSON
# the same case under ids of its own (a run refuses one case id in two suites)
sed 's/X-PS/X-PN/g' "$TMP/ps/sc.json" >"$TMP/pn/sc.json"
"$FLEETSIM" conform "$TMP/ps" "$TMP/pn" -q --jobs 2 --report "$TMP/rps" >"$TMP/out" 2>&1; rc=$?
got=$(python3 -c 'import json,sys; print(" ".join(c["suite"]+":"+c["verdict"] for c in json.load(open(sys.argv[1]))["cases"]))' "$TMP/rps/report.json" 2>&1)
if [ $rc -eq 1 ] && [ "$got" = "ps:PASS pn:FAIL" ]; then
    ok "a scenario case runs on its suite's platform settings (idle timeout 2s: closed; without them: not)"
else
    nok "a scenario case runs on its suite's platform settings" "exit $rc" "$got" "$(tail -4 "$TMP/out")"
fi
python3 - "$TMP/ps/sc.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["scenario"]["platform"] = {"idle_timeout": "5s"}
json.dump(c, open(sys.argv[1], "w"))
PY
expect_exit "... and a scenario that sets them itself is refused (exit 2)" 2 "$FLEETSIM" conform "$TMP/ps" --dryrun
contains "... naming the field" "$TMP/ps/sc.json: scenario.platform.idle_timeout: the suite's platform settings (suite.json \"platform\") are this case's" "$TMP/out"
# against a platform without those settings (open registration, idle timeout 180s):
# the rules that need them fail, results 1 and 3 hold in open mode too
port=$(free_port)
"$FLEETSIM" serve --port "$port" --db "$TMP/o.db" -q >"$TMP/serve4.log" 2>&1 &
spid=$!
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
"$FLEETSIM" conform "$OP" -q --jobs 3 --target "tcp://127.0.0.1:$port" --report "$TMP/r7" >"$TMP/out" 2>&1; rc=$?
kill -TERM $spid; wait $spid
got=$(python3 -c 'import json,sys; print(" ".join(c["id"] for c in json.load(open(sys.argv[1]))["cases"] if c["verdict"] == "FAIL"))' "$TMP/r7/report.json")
want="JT808-OP-REG-002 JT808-OP-REG-004 JT808-IDLE-001"
if [ $rc -eq 1 ] && [ "$got" = "$want" ]; then
    ok "against an open platform with the default idle timeout exactly $want fail"
else
    nok "against an open platform with the default idle timeout exactly $want fail" "exit $rc" "failed: $got"
fi
contains "... and the runner says the target must be served as the suite's platform" "suite jt808-one-party: its platform settings (auth one-party, triples triples.csv, idle timeout 2000ms)" "$TMP/out"
# served as the suite says, behind the proxy whose 0x8100 always says result 2:
# every case but the one that wants result 2 fails
port=$(free_port)
"$FLEETSIM" serve --port "$port" --db "$TMP/o2.db" -q --auth one-party --triples "$OP/triples.csv" --idle-timeout 2s \
    >"$TMP/serve5.log" 2>&1 &
spid=$!
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
start_proxy "$port" reg-result-2
"$FLEETSIM" conform "$OP" -q --jobs 2 --target "tcp://127.0.0.1:$pport" --report "$TMP/r8" >"$TMP/out" 2>&1; rc=$?
kill $ppid; wait $ppid 2>/dev/null
got=$(python3 -c 'import json,sys; print(" ".join(c["id"] for c in json.load(open(sys.argv[1]))["cases"] if c["verdict"] != "PASS"))' "$TMP/r8/report.json")
want=$(python3 -c 'import json,sys; print(" ".join(c["id"] for c in json.load(open(sys.argv[1]))["cases"] if c["id"] != "JT808-OP-REG-002"))' "$OP/10-registration.json")
if [ $rc -eq 1 ] && [ "$got" = "$want" ]; then
    ok "a one-party platform whose 0x8100 always says 2 fails every one-party case but JT808-OP-REG-002"
else
    nok "a one-party platform whose 0x8100 always says 2 fails every one-party case but JT808-OP-REG-002" "exit $rc" "not passed: $got"
fi
start_proxy "$port" reg-accept-all
"$FLEETSIM" conform "$OP" -q --jobs 2 --cases 'JT808-OP-REG-*' --target "tcp://127.0.0.1:$pport" --report "$TMP/r9" >"$TMP/out" 2>&1; rc=$?
kill $ppid; wait $ppid 2>/dev/null
got=$(python3 -c 'import json,sys; print(" ".join(c["id"] for c in json.load(open(sys.argv[1]))["cases"] if c["verdict"] != "PASS"))' "$TMP/r9/report.json")
want="JT808-OP-REG-001 JT808-OP-REG-002 JT808-OP-REG-003 JT808-OP-REG-004"
if [ $rc -eq 1 ] && [ "$got" = "$want" ]; then
    ok "a one-party platform that accepts every registration fails each refusal: $want"
else
    nok "a one-party platform that accepts every registration fails each refusal: $want" "exit $rc" "not passed: $got"
fi
kill -TERM $spid; wait $spid

# a tls:// target: fleetsim serve with a server certificate and device verification
if command -v openssl >/dev/null && tests/tls-certs.sh "$TMP/certs" 1 >"$TMP/certs.out" 2>&1; then
    C=$TMP/certs
    port=$(free_port)
    "$FLEETSIM" serve --port "$port" --db "$TMP/t.db" -q --tls-cert "$C/server.crt" --tls-key "$C/server.key" \
        --device-ca "$C/device-ca.crt" >"$TMP/serve3.log" 2>&1 &
    spid=$!
    for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
    "$FLEETSIM" conform "$SUITE" -q --exclude 'JT808-FLEET-*' --target "tls://127.0.0.1:$port" --tls-ca "$C/server-ca.crt" \
        --tls-cert "$C/dev-0.crt" --tls-key "$C/dev-0.key" --report "$TMP/r5" >"$TMP/out" 2>&1; rc=$?
    if [ $rc -eq 0 ] && grep -q "^$n_other cases: $n_other pass" "$TMP/out"; then
        ok "the suite passes over TLS with a device certificate (tls:// target)"
    else
        nok "the suite passes over TLS with a device certificate (tls:// target)" "exit $rc" "$(tail -5 "$TMP/out")"
    fi
    contains "... the wire log says the TLS version" " c0 TLS TLSv1." "$TMP/r5/report.json"
    expect_exit "a server certificate the given CA did not issue fails the case (exit 1)" 1 \
        "$FLEETSIM" conform "$SUITE" -q --cases JT808-HB-001 --target "tls://127.0.0.1:$port" --tls-ca "$C/device-ca.crt"
    contains "... saying why" "TLS handshake: the server's certificate" "$TMP/out"
    kill -TERM $spid; wait $spid
else
    nok "certificates for the TLS cases" "$(tail -3 "$TMP/certs.out")"
fi
