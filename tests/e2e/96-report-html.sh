#!/usr/bin/env bash
# report.html: a short run writes it next to report.json and junit.xml; it parses
# as HTML with every element closed, names no external resource, carries a matrix
# cell per case and the plots; `fleetsim report DIR -o OUT` renders it again (and
# as JUnit or JSON); headless Chromium renders it (a screenshot, and the DOM after
# the page's script ran) without a console error.
. "$(dirname "$0")/lib.sh"

# A second's worth of terminals reporting every second, a disconnect at 3 s, and
# one expectation that cannot hold (a FAIL in the matrix).
cat >"$TMP/html.json" <<'JSON'
{"name": "report-html", "duration": "6s", "time_scale": 2,
 "fleets": [{"id": "a", "protocol": "jt808", "version": 2013, "count": 20, "ramp": "40/s", "report": {"every": "1s"}},
            {"id": "b", "protocol": "jt808", "version": 2019, "count": 10, "report": {"every": "1s"}}],
 "steps": [{"at": "3s", "fault": {"kind": "disconnect", "fleet": "a", "fraction": 0.5, "down": "1s"}}],
 "expect": [{"id": "HTML-AUTH-001", "state": "authenticated", "within": "5s"},
            {"id": "HTML-REPORTS-001", "counter": "terminal.reports", "min": 1000000},
            {"id": "HTML-LEDGER-001", "ledger": "balanced"}]}
JSON

expect_exit "a run with a failing case exits 1" 1 \
    "$FLEETSIM" run "$TMP/html.json" -q --status-interval 250ms --report "$TMP/rep"
contains "the run names report.html among its reports" "$TMP/rep/report.html" "$TMP/out"
check "report.html is written next to report.json and junit.xml" \
    test -s "$TMP/rep/report.html" -a -s "$TMP/rep/report.json" -a -s "$TMP/rep/junit.xml"
if grep -qiE 'https?://|(src|href)="//' "$TMP/rep/report.html"; then
    nok "report.html names no external URL" "$(grep -oiE '.{40}(https?://|(src|href)="//).{40}' "$TMP/rep/report.html" | head -3)"
else
    ok "report.html names no external URL"
fi

# parse: no unbalanced or stray tag, no external src/href, the elements expected
html_check() { # FILE REPORT.json
    python3 - "$1" "$2" <<'PY'
import json, sys
from html.parser import HTMLParser
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
class P(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.bad, self.tags, self.cells, self.svg_ids = [], [], {}, [], []
        self.doctype = False
    def handle_decl(self, d):
        self.doctype = self.doctype or d.lower() == "doctype html"
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags[tag] = self.tags.get(tag, 0) + 1
        for k in ("src", "href", "action", "xlink:href"):
            v = a.get(k) or ""
            if v and not v.startswith("#"):
                self.bad.append("%s %s=%r: not a link inside the page" % (tag, k, v))
        if tag == "a" and "cell" in (a.get("class") or "").split():
            self.cells.append(a)
        if tag == "figure" and a.get("id"):
            self.svg_ids.append(a["id"])
        if tag not in VOID:
            self.stack.append((tag, self.getpos()))
    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()
    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1][0] != tag:
            self.bad.append("</%s> at %s closes %s" % (tag, self.getpos(), self.stack[-1] if self.stack else "nothing"))
            return
        self.stack.pop()
text = open(sys.argv[1], encoding="utf-8").read()   # also: valid UTF-8
p = P()
p.feed(text)
p.close()
rep = json.load(open(sys.argv[2]))
if not p.doctype:
    p.bad.append("no <!DOCTYPE html>")
if p.stack:
    p.bad.append("left open: %s" % p.stack)
ids = [c["id"] for c in rep["cases"]]
if len(p.cells) != len(ids):
    p.bad.append("%d matrix cells for %d cases" % (len(p.cells), len(ids)))
for c, case in zip(p.cells, rep["cases"]):
    if c.get("data-verdict") != case["verdict"]:
        p.bad.append("cell %s: %s, report.json %s" % (c.get("href"), c.get("data-verdict"), case["verdict"]))
want = ["plot-throughput", "plot-online", "plot-latency", "plot-errors", "plot-histogram"]
if p.svg_ids != want:
    p.bad.append("plots %s, wanted %s" % (p.svg_ids, want))
if p.tags.get("svg", 0) != 5:
    p.bad.append("%d <svg>, wanted 5" % p.tags.get("svg", 0))
if p.tags.get("script", 0) != 1 or p.tags.get("style", 0) != 1:
    p.bad.append("scripts %d, styles %d: wanted one inline each" % (p.tags.get("script", 0), p.tags.get("style", 0)))
for case in rep["cases"]:
    if case["id"] not in text or case["expected"].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") not in text:
        p.bad.append("case %s: id or expected text missing" % case["id"])
print("\n".join(p.bad) if p.bad else "html ok: %d cells, plots %s" % (len(p.cells), p.svg_ids))
sys.exit(1 if p.bad else 0)
PY
}
check "report.html parses as HTML: balanced, a cell per case, five plots, nothing external" \
    html_check "$TMP/rep/report.html" "$TMP/rep/report.json"
contains "the page names the failing case's verdict" '<a class="cell fail" href="#case-1" data-verdict="FAIL"' "$TMP/rep/report.html"
contains "the page prints well" "@media print" "$TMP/rep/report.html"

# rendered again from the directory, in each format
expect_exit "fleetsim report DIR -o OUT.html renders it again" 1 \
    "$FLEETSIM" report "$TMP/rep" -q -o "$TMP/again.html"
check "... and it parses the same" html_check "$TMP/again.html" "$TMP/rep/report.json"
expect_exit "--format junit" 1 "$FLEETSIM" report "$TMP/rep" -q -o "$TMP/again.out" --format junit
check "... writes JUnit XML" grep -q "<testsuites" "$TMP/again.out"
expect_exit "--format json" 1 "$FLEETSIM" report "$TMP/rep/report.json" -q -o "$TMP/again.json" --format json
check "... writes a report.json with its snapshot" grep -q '"snapshot":' "$TMP/again.json"
expect_exit "report merge --html writes the page too" 1 \
    "$FLEETSIM" report merge "$TMP/rep" -q -o "$TMP/m.json" --html "$TMP/m.html"
check "... a page that parses" html_check "$TMP/m.html" "$TMP/rep/report.json"
expect_exit "an unknown --format is a usage error" 2 "$FLEETSIM" report "$TMP/rep" -o "$TMP/x" --format pdf
contains "... naming the formats" "expected html, junit or json" "$TMP/out"
expect_exit "a report that does not exist is an input error" 2 "$FLEETSIM" report "$TMP/nope" -o "$TMP/x.html"
expect_exit "an unwritable OUT is an error" 2 "$FLEETSIM" report "$TMP/rep" -q -o "$TMP/no/such/dir/r.html"
contains "... naming it" "html report '$TMP/no/such/dir/r.html'" "$TMP/out"

# Headless Chromium, with a profile of its own (others may run one), bounded in time.
chrome=$(command -v chromium || command -v chromium-browser || true)
chrome_run() { # ARGS...: stdout to $TMP/dom, stderr to $TMP/chrome.err
    timeout 45 "$chrome" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
        --user-data-dir="$TMP/chrome-profile" --enable-logging=stderr --v=0 "$@" >"$TMP/dom" 2>"$TMP/chrome.err"
}
# chromium logs the page's console as INFO:CONSOLE:LINE] "message" (older: CONSOLE(LINE))
console_errors() { grep -E 'Uncaught|ERROR:CONSOLE|CONSOLE[:(][0-9]+\)?\] ".*([Ee]rror|Failed to load)' "$TMP/chrome.err"; }
if [ -z "$chrome" ]; then
    ok "chromium renders report.html # skipped: no chromium (Debian package chromium, in DEB_PKGS)"
elif ! chrome_run --dump-dom "data:text/html,<p>probe</p>" || ! grep -q probe "$TMP/dom"; then
    ok "chromium renders report.html # skipped: chromium cannot start here: $(grep -m1 -iE 'error|fatal' "$TMP/chrome.err")"
else
    # the detector sees a console error when there is one
    printf '<!DOCTYPE html><title>t</title><script>no_such_function();</script>\n' >"$TMP/broken.html"
    chrome_run --dump-dom "file://$TMP/broken.html"
    check "a page with a script error shows on chromium's console (the check below can fail)" console_errors

    chrome_run --screenshot="$TMP/shot.png" --window-size=1200,2000 "file://$TMP/rep/report.html"
    shot_ok() {
        python3 - "$TMP/shot.png" <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read()
assert b[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
w, h = struct.unpack(">II", b[16:24])
assert (w, h) == (1200, 2000), (w, h)
assert len(b) > 20000, "%d bytes: an empty page?" % len(b)
print("png", w, h, len(b))
PY
    }
    check "headless chromium takes a 1200x2000 screenshot of report.html" shot_ok
    if console_errors >/dev/null; then nok "no console error taking it" "$(console_errors | head -5)"; else ok "no console error taking it"; fi

    chrome_run --dump-dom "file://$TMP/rep/report.html"
    # the DOM as chromium serialised it, read with a parser (attribute values may hold a raw '>')
    dom_check() { # MODE: all | fail-only
        python3 - "$1" "$TMP/dom" "$TMP/rep/report.json" <<'PY'
import json, sys
from html.parser import HTMLParser
mode, dom, rep = sys.argv[1], open(sys.argv[2], encoding="utf-8").read(), json.load(open(sys.argv[3]))
class P(HTMLParser):
    def __init__(self):
        super().__init__()
        self.cells, self.cases, self.fig, self.figs, self.filter, self.out = [], [], None, {}, None, None
        self.in_out = False
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = (a.get("class") or "").split()
        if tag == "a" and "cell" in cls:
            self.cells.append(a)
        if tag == "article" and "case" in cls:
            self.cases.append(a)
        if tag == "figure":
            self.fig = a.get("id")
            self.figs[self.fig] = []
        elif self.fig and tag in ("svg", "path", "rect"):
            if tag != "path" or (a.get("d") or "").startswith("M"):
                self.figs[self.fig].append(tag)
        if tag == "div" and a.get("id") == "filter":
            self.filter = a
        self.in_out = tag == "output" and a.get("id") == "fn"
    def handle_endtag(self, tag):
        if tag == "figure":
            self.fig = None
        if tag == "output":
            self.in_out = False
    def handle_data(self, d):
        if self.in_out:
            self.out = (self.out or "") + d
p = P()
p.feed(dom)
n, bad = len(rep["cases"]), []
if len(p.cells) != n or len(p.cases) != n:
    bad.append("%d cells, %d case sections in the DOM for %d cases" % (len(p.cells), len(p.cases), n))
for pid in ["plot-throughput", "plot-online", "plot-latency", "plot-errors", "plot-histogram"]:
    els = p.figs.get(pid, [])
    if "svg" not in els or ("rect" if pid == "plot-histogram" else "path") not in els:
        bad.append("%s: %s in the DOM (no svg, or nothing drawn)" % (pid, els))
if p.filter is None or "hidden" in p.filter:
    bad.append("the filter is hidden: the script did not run")
if mode == "all":
    if p.out != "%d of %d cases" % (n, n):
        bad.append("the filter counts %r" % p.out)
else:
    shown = [c.get("data-verdict") for c in p.cells if "hidden" not in c]
    shown_cases = [c.get("id") for c in p.cases if "hidden" not in c]
    want = [c["verdict"] for c in rep["cases"] if c["verdict"] == "FAIL"]
    if shown != want or len(shown_cases) != len(want):
        bad.append("shown cells %s, cases %s; wanted %s" % (shown, shown_cases, want))
    if p.out != "%d of %d cases" % (len(want), n):
        bad.append("the filter counts %r" % p.out)
print("\n".join(bad) if bad else "dom ok (%s): %d cells" % (mode, n))
sys.exit(1 if bad else 0)
PY
    }
    check "the rendered DOM has the matrix, the plots with lines and bars, and the filter the script showed" dom_check all
    if console_errors >/dev/null; then nok "no console error rendering it" "$(console_errors | head -5)"; else ok "no console error rendering it"; fi

    chrome_run --print-to-pdf="$TMP/report.pdf" "file://$TMP/rep/report.html"
    pdf_ok() { head -c 5 "$TMP/report.pdf" | grep -q '%PDF-' && [ "$(stat -c %s "$TMP/report.pdf")" -gt 10000 ]; }
    check "it prints (to PDF)" pdf_ok

    # ?verdict=FAIL: only the failing case is left shown
    chrome_run --dump-dom "file://$TMP/rep/report.html?verdict=FAIL"
    check "the filter, set from the address (?verdict=FAIL), leaves the failing case only" dom_check fail-only
fi
