#!/usr/bin/env bash
# junit.xml validates against the JUnit schema Jenkins and GitLab read
# (tests/data/junit.xsd, the Jenkins xUnit plugin's junit-10.xsd): a run with a
# passed, a failed and an inconclusive case and text full of XML specials and
# control characters; an interrupted run, whose harness error is an <error>;
# and the JUnit file of a merge.  xmllint is libxml2-utils' (in DEB_PKGS).
. "$(dirname "$0")/lib.sh"
XSD="$ROOT/tests/data/junit.xsd"

valid() { # NAME FILE: xmllint --schema accepts FILE
    if xmllint --noout --schema "$XSD" "$2" >"$TMP/lint" 2>&1; then ok "$1"; else nok "$1" "$(head -8 "$TMP/lint")"; fi
}
check "xmllint is there (libxml2-utils)" command -v xmllint
check "the schema is well-formed" xmllint --noout "$XSD"

# the description, area and name carry <, &, quotes, "]]>", a C0 control, an ESC,
# U+FFFF (no XML character) and CJK text
cat >"$TMP/nasty.json" <<'JSON'
{"name": "junit <&> \"xsd\" 'q'", "duration": "3s",
 "fleets": [{"id": "a", "protocol": "jt808", "count": 3}],
 "expect": [{"id": "X-AUTH-001", "area": "jt808.<auth>&",
             "description": "all <authenticated> & \"fast\" 'ok' \u0001\u001b[31m ]]> \u4e2d\u6587 \uFFFF end",
             "state": "authenticated", "within": "3s"},
            {"id": "X-GW-001", "area": "jt808.8.1", "counter": "gateway.registrations", "max": 0},
            {"id": "X-LAT-001", "metric": "report.latency.p99", "below": "1s"}]}
JSON
expect_exit "a run with a pass, a fail and an inconclusive case exits 1" 1 \
    env LC_ALL=C.UTF-8 "$FLEETSIM" run "$TMP/nasty.json" -q --report "$TMP/r"
cp "$TMP/out" "$TMP/run.out"
# the closing summary, k6-style, below the table and the figures (kept)
contains "the verdict table is still there" "X-GW-001    FAIL          gateway.registrations <= 0" "$TMP/run.out"
check "the summary: a check mark and the figure for the pass" \
    grep -qE '^  ✓ X-AUTH-001  all 3 terminals of all fleets reach authenticated within 3.00s \(3 of 3 did; slowest [^)]+\)$' "$TMP/run.out"
contains "... a cross, the observed value and the verdict for the failure" \
    "  ✗ X-GW-001    gateway.registrations <= 0 (observed: 3) FAIL" "$TMP/run.out"
contains "... the inconclusive case" "  ? X-LAT-001   report.latency.p99 below 1.00s (observed: no samples) INCONCLUSIVE" "$TMP/run.out"
contains "... and the totals" "checks: 1 of 3 passed (33.3%)  ✗ 1 failed  ! 0 error  ? 1 inconclusive" "$TMP/run.out"
check "... after the figures and the reports line, last" \
    awk '/^figures:/{f=1} /^reports: /{if (f) r=1} /^checks: /{if (r) ok=1; last=NR} END{exit !(ok && last == NR)}' "$TMP/run.out"
check "no colours into a pipe" bash -c "! grep -q \$'\\033' '$TMP/run.out'"
valid "its junit.xml validates against the JUnit schema" "$TMP/r/junit.xml"

python3 - "$TMP/r/junit.xml" >"$TMP/py.out" 2>&1 <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suite = root.find("testsuite")
cases = suite.findall("testcase")
bad = []
def want(what, got, exp):
    if got != exp:
        bad.append("%s: %r, wanted %r" % (what, got, exp))
want("tests", suite.get("tests"), str(len(cases)))
kids = [[k.tag for k in c if k.tag in ("failure", "error", "skipped")] for c in cases]
want("outcomes", kids, [[], ["failure"], ["skipped"]])
for tag, attr in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
    want(attr, suite.get(attr), str(sum(k.count(tag) for k in kids)))
want("classnames", [c.get("classname") for c in cases], ["jt808.<auth>&", "jt808.8.1", "x.lat"])
name = cases[0].get("name")
want("name: id and description", name.startswith("X-AUTH-001 all <authenticated> & \"fast\" 'ok' "), True)
want("name: what XML cannot hold is U+FFFD", "\ufffd\ufffd[31m ]]> \u4e2d\u6587 \ufffd end" in name, True)
for c in cases:
    t = c.get("time")
    if t is None or float(t) < 0:
        bad.append("%s: time %r" % (c.get("name"), t))
f = cases[1].find("failure")
want("failure message", f.get("message"), "expected gateway.registrations <= 0 / observed 3")
want("failure body", f.text, "expected: gateway.registrations <= 0\nobserved: 3\n")
want("skipped body", cases[2].find("skipped").text.splitlines()[1], "observed: no samples")
want("a passed case's evidence in its system-out",
     cases[0].find("system-out").text.splitlines()[1].startswith("observed: 3 of 3 did; slowest "), True)
print("\n".join(bad) if bad else "junit.xml: counts, outcomes, names, times and bodies as the run's")
sys.exit(1 if bad else 0)
PY
if [ $? -eq 0 ]; then ok "the JUnit file says what the run did"; else nok "the JUnit file says what the run did" "$(cat "$TMP/py.out")"; fi

# an interrupted run: the harness error is an <error>, and the file still validates
cat >"$TMP/long.json" <<'JSON'
{"name": "interrupted", "duration": "30s",
 "fleets": [{"id": "a", "protocol": "jt808", "count": 5}],
 "expect": [{"id": "I-AUTH-001", "state": "authenticated", "within": "2s"}]}
JSON
"$FLEETSIM" run "$TMP/long.json" -q --report "$TMP/i" >"$TMP/i.out" 2>&1 &
pid=$!
for _ in $(seq 40); do grep -q . "$TMP/i.out" 2>/dev/null && break; sleep 0.1; done
sleep 2
kill -INT $pid
wait $pid; rc=$?
if [ $rc -eq 3 ]; then ok "an interrupted run exits 3"; else nok "an interrupted run exits 3" "exit $rc" "$(tail -5 "$TMP/i.out")"; fi
check "... with an <error> for the harness" grep -q '<error message="expected the run completes' "$TMP/i/junit.xml"
valid "... and its junit.xml validates" "$TMP/i/junit.xml"

# the merge writes its JUnit file through the same writer
"$FLEETSIM" run "$TMP/nasty.json" -q --shard 1/2 --report "$TMP/s1" >/dev/null 2>&1
"$FLEETSIM" run "$TMP/nasty.json" -q --shard 2/2 --report "$TMP/s2" >/dev/null 2>&1
expect_exit "report merge of the shards exits 1 (the failed case)" 1 \
    env LC_ALL=C "$FLEETSIM" report merge "$TMP/s1/report.json" "$TMP/s2/report.json" --junit "$TMP/merged.xml"
contains "the merge ends with the summary too, in ASCII outside a UTF-8 locale" \
    "  x X-GW-001    gateway.registrations <= 0 (observed: 3) FAIL" "$TMP/out"
contains "... its totals" "checks: 1 of 3 passed (33.3%)  x 1 failed  ! 0 error  ? 1 inconclusive" "$TMP/out"
# the summary: from the last blank line to the "checks:" line
awk '/^$/{n=0; delete l; next} {l[++n]=$0} /^checks: /{for (i=1;i<=n;i++) print l[i]; exit}' "$TMP/out" >"$TMP/summary"
if [ "$(wc -l <"$TMP/summary")" = 4 ] && ! LC_ALL=C grep -q '[^ -~]' "$TMP/summary"; then
    ok "... a line per case and the totals, no byte past ASCII"
else
    nok "... a line per case and the totals, no byte past ASCII" "$(cat -v "$TMP/summary")"
fi
if command -v script >/dev/null 2>&1; then
    # on a terminal the marks are coloured, unless --no-color or NO_COLOR says no
    tty_run() { script -qec "$*" /dev/null </dev/null >"$TMP/tty.out" 2>&1; }
    m="$FLEETSIM report merge $TMP/s1/report.json $TMP/s2/report.json"
    tty_run env LC_ALL=C.UTF-8 TERM=xterm $m
    contains "on a terminal the marks are coloured" $'\033[31m✗\033[0m X-GW-001' "$TMP/tty.out"
    tty_run env LC_ALL=C.UTF-8 TERM=xterm $m --no-color
    check "... not with --no-color" bash -c "grep -q '✗ X-GW-001' '$TMP/tty.out' && ! grep -q \$'\\033\\[3' '$TMP/tty.out'"
    tty_run env LC_ALL=C.UTF-8 TERM=xterm NO_COLOR=1 $m
    check "... nor with NO_COLOR" bash -c "grep -q '✗ X-GW-001' '$TMP/tty.out' && ! grep -q \$'\\033\\[3' '$TMP/tty.out'"
else
    ok "on a terminal the marks are coloured # skipped: script (util-linux) not found"
fi
expect_exit "report merge -q prints nothing" 1 "$FLEETSIM" report merge "$TMP/s1/report.json" "$TMP/s2/report.json" -q
check "... not even the summary" test ! -s "$TMP/out"
valid "the merged junit.xml validates" "$TMP/merged.xml"
