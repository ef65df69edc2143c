#!/usr/bin/env bash
# make install puts the binary, the man pages and the scenarios where they
# belong; the installed fleetsim finds a scenario by name; man shows its pages;
# make uninstall takes it all away again.
. "$(dirname "$0")/lib.sh"
root="$TMP/root"
make -s --no-print-directory install DESTDIR="$root" PREFIX=/usr O="${BUILD:-build}" >"$TMP/install.out" 2>&1
rc=$?
if [ $rc -eq 0 ] && [ -x "$root/usr/bin/fleetsim" ] && [ -s "$root/usr/share/fleetsim/scenarios/SCHEMA.md" ] \
   && [ -s "$root/usr/share/man/man1/fleetsim-run.1" ]; then
    ok "make install: the binary, SCHEMA.md and the scenarios, the man pages"
else
    nok "make install: the binary, SCHEMA.md and the scenarios, the man pages" "exit $rc" "$(tail -5 "$TMP/install.out")"
fi
(cd "$TMP" && "$root/usr/bin/fleetsim" run quickstart --dry-run) >"$TMP/byname.out" 2>&1; rc=$?
if [ $rc -eq 0 ] && grep -q "jt808-quickstart" "$TMP/byname.out"; then
    ok "the installed fleetsim runs an installed scenario by its name"
else
    nok "the installed fleetsim runs an installed scenario by its name" "exit $rc" "$(tail -5 "$TMP/byname.out")"
fi
if command -v man >/dev/null 2>&1; then
    MANWIDTH=80 man -M "$root/usr/share/man" fleetsim >"$TMP/man.out" 2>&1
    contains "man fleetsim shows the page" "fleetsim - device-fleet simulator and conformance harness" "$TMP/man.out"
    MANWIDTH=80 man -M "$root/usr/share/man" fleetsim-run >"$TMP/man.out" 2>&1
    contains "man fleetsim-run has the quick runs" "--protocol NAME" "$TMP/man.out"
    MANWIDTH=80 man -M "$root/usr/share/man" fleetsim-encode >"$TMP/man.out" 2>&1
    contains "man fleetsim-encode is the decode page" "fleetsim-decode, fleetsim-encode" "$TMP/man.out"
else
    nok "man is installed (man-db)" "no man command"
fi
make -s --no-print-directory uninstall DESTDIR="$root" PREFIX=/usr O="${BUILD:-build}" >"$TMP/uninstall.out" 2>&1
left=$(find "$root" -type f | head -5)
if [ -z "$left" ]; then ok "make uninstall leaves no file behind"; else nok "make uninstall leaves no file behind" "$left"; fi
