#!/usr/bin/env bash
# The dashboard on a real terminal (tmux, on a server of its own): `run --dash` at
# 80x24 shows the fleet coming online during the ramp; / finds a terminal and the
# Terminal view shows its frames both ways in hex and decoded (and says so when the
# run has no such terminal); the Transitions, Events (the gateway's deviations, with
# their frames) and Verdicts views; p pauses and resumes (the rate drops to 0 and
# comes back); + grows the fleet by 10%, f disconnects 10%; a resize to 160x48 and
# back leaves nothing behind; Ctrl-L repaints what another process wrote; q asks, n
# keeps the run, q y ends it as an interrupted run (exit 3, verdicts printed, the
# terminal restored and the alternate screen left); the same for Ctrl-C, SIGSEGV,
# Ctrl-\ and a run that ends by itself; `top` on a run's socket (q leaves it going)
# and on two shards' sockets (summed, + grows the whole fleet by 10%), SIGHUP; without
# a terminal `run --dash` says so and keeps its status lines, `top` is a usage error.
# Every wait is a bounded poll.
. "$(dirname "$0")/lib.sh"
if ! command -v tmux >/dev/null; then
    nok "tmux is installed (the dashboard's end-to-end test needs it)"
    exit 0
fi
TMUX_SOCK="fleetsim-$$"
TM() { tmux -L "$TMUX_SOCK" -f /dev/null "$@"; }
bg_pids=()
cleanup() {
    [ "$BASHPID" = "$$" ] || return
    local p
    # a run the test did not see end: asked to stop (twice: at once), then the terminal goes
    for p in $(cat "$TMP"/*.pid 2>/dev/null) "${bg_pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
    sleep 0.2
    for p in $(cat "$TMP"/*.pid 2>/dev/null) "${bg_pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
    TM kill-server 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
F=$(cd "$(dirname "$FLEETSIM")" && pwd)/$(basename "$FLEETSIM")

# until_ok SECONDS COMMAND...: COMMAND every 0.2 s until it succeeds (0) or SECONDS pass (1)
until_ok() {
    local end=$(($(date +%s%N) / 1000000 + $1 * 1000)); shift
    while :; do
        "$@" && return 0
        [ $(($(date +%s%N) / 1000000)) -ge $end ] && return 1
        sleep 0.2
    done
}
# snap SESSION [FILE]: the pane's screen as text into FILE ($TMP/scr)
snap() { TM capture-pane -p -t "$1" >"${2:-$TMP/scr}" 2>/dev/null; }
# col NAME [FILE]: fleet f's value in the overview's column NAME (its " (p)" mark dropped)
col() {
    awk -v want="$1" '$1 == "FLEET" { for (i = 1; i <= NF; i++) if ($i == want) k = i; next }
        k && $1 == "f" { sub(/ \(p\)/, ""); print $k; exit }' "${2:-$TMP/scr}"
}
# shows SESSION ERE: the screen has a line matching ERE
shows() { snap "$1" && grep -Eq -- "$2" "$TMP/scr"; }
# run_pid SESSION: the pid of the run (the process named fleetsim nearest the pane's shell)
run_pid() {
    local q p c
    q=$(TM display -p -t "$1" '#{pane_pid}')
    while [ -n "$q" ]; do
        local next=""
        for p in $q; do
            for c in $(children "$p"); do
                [ "$(cat "/proc/$c/comm" 2>/dev/null)" = fleetsim ] && { echo "$c"; return 0; }
                next="$next $c"
            done
        done
        q=$next
    done
    return 1
}
# session NAME COLSxROWS COMMAND: a shell in a detached session of that size that runs
# COMMAND with the terminal's settings saved before (NAME.before) and after (NAME.after)
# and its exit status in NAME.rc
session() {
    local n=$1 w=${2%x*} h=${2#*x}
    TM new-session -d -s "$n" -x "$w" -y "$h" "cd '$TMP' && PS1='shell> ' exec bash --norc --noprofile"
    TM send-keys -t "$n" "bash -c 'ulimit -c 0; stty -g >$n.before; $3; echo rc=\$? >$n.rc; stty -g >$n.after'" Enter
}
rc_of() { sed -n 's/^rc=//p' "$TMP/$1.rc" 2>/dev/null; }
alt_off() { [ "$(TM display -p -t "$1" '#{alternate_on}')" = 0 ]; }
# restored NAME: the run's terminal settings are back and the alternate screen left
restored() {
    local what="$1: the terminal is restored (stty -g the same) and the alternate screen left"
    # the settings after are saved once the exit status is (a moment later)
    if [ -s "$TMP/$1.before" ] && until_ok 5 test -s "$TMP/$1.after" && cmp -s "$TMP/$1.before" "$TMP/$1.after" &&
        until_ok 5 alt_off "$1" && until_ok 5 shows "$1" '^shell>'; then
        ok "$what"
    else
        nok "$what" "before: $(cat "$TMP/$1.before" 2>/dev/null)" "after:  $(cat "$TMP/$1.after" 2>/dev/null)" \
            "alternate screen: $(TM display -p -t "$1" '#{alternate_on}')" "$(tail -8 "$TMP/scr")"
    fi
}

# --- without a terminal: the status lines, and the reason (in the background meanwhile)
cat >"$TMP/short.json" <<'JSON'
{"name": "dash-short", "target": "embedded", "duration": "3s",
 "fleets": [{"id": "f", "protocol": "jt808", "version": 2019, "count": 5, "ramp": "100/s",
             "phone": "13900000000+", "report": {"every": "500ms"}}]}
JSON
"$F" run "$TMP/short.json" --dash </dev/null >"$TMP/notty.out" 2>"$TMP/notty.err" &
notty=$!
bg_pids+=("$notty")

# --- run --dash at 80x24 ------------------------------------------------------------------
cat >"$TMP/s.json" <<'JSON'
{"name": "dash", "target": "embedded", "duration": "80s",
 "fleets": [{"id": "f", "protocol": "jt808", "version": 2019, "count": 40, "max": 60, "ramp": "8/s",
             "phone": "13800000000+", "heartbeat": "20s", "report": {"every": "500ms"},
             "deviate": {"kinds": ["item-length"], "share": 0.1}}],
 "expect": [{"id": "ONLINE", "state": "authenticated", "within": "20s"},
            {"id": "LEDGER", "ledger": "balanced"}]}
JSON
session m 80x24 "\"$F\" run s.json --dash"
seen=""
online_40() {
    snap m || return 1
    local v
    v=$(col ONLINE)
    case "$v" in '' | *[!0-9]*) return 1 ;; esac
    case " $seen " in *" $v "*) ;; *) seen="$seen $v" ;; esac
    [ "$v" = 40 ]
}
if until_ok 30 online_40 && grep -q '^ fleetsim dash  elapsed .*\[1 Overview\]' "$TMP/scr"; then
    rising=0
    for v in $seen; do [ "$v" -gt 0 ] && [ "$v" -lt 40 ] && rising=1; done
    if [ $rising = 1 ]; then
        ok "run --dash: the overview shows the fleet coming online during the ramp (online:$seen)"
    else
        nok "run --dash: the overview shows the fleet coming online during the ramp" "online values seen:$seen"
    fi
else
    nok "run --dash: the overview shows the fleet coming online, to 40" "online values seen:$seen" "$(cat "$TMP/scr")"
fi
run_pid m >"$TMP/m.pid"

# / and an id no terminal has: the Terminal view says what the run answered
TM send-keys -t m /
until_ok 5 shows m '^ search terminal: _'
TM send-keys -t m -l 99999
TM send-keys -t m Enter
if until_ok 10 shows m '^ terminal 99999: inspect: .*no fleet has a' &&
    grep -q '^ inspect: .*no fleet has a terminal "99999"' "$TMP/scr"; then
    ok "/ 99999 Enter: the Terminal view says no fleet has that terminal"
else
    nok "/ 99999 Enter: the Terminal view says no fleet has that terminal" "$(cat "$TMP/scr")"
fi

# / and a terminal's id: the Terminal view, its state, its frames in hex and decoded
TM send-keys -t m /
until_ok 5 shows m '^ search terminal: _' || nok "/ opens the search prompt" "$(tail -3 "$TMP/scr")"
TM send-keys -t m -l 13800000001
TM send-keys -t m Enter
terminal_view() {
    shows m '\[4 Terminal\]' &&
        grep -Eq '^ terminal 0?13800000001  fleet f  index 1  state authenticated' "$TMP/scr" &&
        grep -Eq '^ > +[0-9.]+s 7e[0-9a-f]{40,}' "$TMP/scr" &&
        grep -Eq '^ < +[0-9.]+s 7e([0-9a-f]{2})+7e$' "$TMP/scr" &&
        grep -Eq '^ {13}\{"msg_id":"0x0200"' "$TMP/scr" && grep -Eq '^ {13}\{"msg_id":"0x8001"' "$TMP/scr"
}
if until_ok 10 terminal_view; then
    ok "/ 13800000001 Enter: the Terminal view shows it authenticated, frames both ways in hex and decoded"
else
    nok "/ 13800000001 Enter: the Terminal view shows it authenticated, frames both ways in hex and decoded" \
        "$(cat "$TMP/scr")"
fi

# 2: the Transitions view, a column per state, each named apart
TM send-keys -t m 2
transitions() {
    shows m '\[2 Transitions\]' &&
        grep -Eq '^ FLEET +connect +conn-ok +reg +reg-ok +auth +online +lost +unreg$' "$TMP/scr" &&
        grep -Eq '^ f( +40){6} +0 +0$' "$TMP/scr"
}
if until_ok 5 transitions; then
    ok "2: the Transitions view, every state its own column (40 reached each of the six on the way online)"
else
    nok "2: the Transitions view, every state its own column" "$(cat "$TMP/scr")"
fi

# 3: the Events view, fed by the documents' "live" member: the gateway's deviations
# (fleet option deviate: terminals 9, 19, 29 and 39), each with its frame in hex and decoded
TM send-keys -t m 3
events() {
    shows m '\[3 Events\]' &&
        awk '/^ +[0-9.]+s +0*138000000[0-9]9 +deviation +gateway 0: 0x0200 deviates: / { getline h; getline d
                if (h ~ /^   hex 7e0200[0-9a-f]+/ && d ~ /^   decoded \{"msg_id":"0x0200"/) found = 1 }
             END { exit !found }' "$TMP/scr"
}
if until_ok 10 events; then
    ok "3: the Events view shows the gateway's deviations, each frame in hex (7e0200...) and decoded"
else
    nok "3: the Events view shows the gateway's deviations, each frame in hex and decoded" "$(cat "$TMP/scr")"
fi
# 5: the Verdicts view judges the expectations as the run goes
TM send-keys -t m 5
verdicts() { shows m '^ ONLINE +PASS +all 40 terminals' && grep -Eq '^ LEDGER +PASS ' "$TMP/scr"; }
if until_ok 5 verdicts; then
    ok "5: the Verdicts view: ONLINE and LEDGER pass while the run goes"
else
    nok "5: the Verdicts view: ONLINE and LEDGER pass while the run goes" "$(cat "$TMP/scr")"
fi

# p: paused, no traffic; p again: traffic again
TM send-keys -t m 1
paused_quiet() { shows m '^ f \(p\) ' && [ "$(col IN/S)" = 0 ]; }
running_again() { shows m '^ f  ' && ! grep -q '^ f (p)' "$TMP/scr" && [ "$(col IN/S)" -gt 0 ] 2>/dev/null; }
TM send-keys -t m p
if until_ok 10 paused_quiet; then
    ok "p: the fleet shows paused and its rate drops to 0"
else
    nok "p: the fleet shows paused and its rate drops to 0" "$(head -8 "$TMP/scr")" "$(tail -2 "$TMP/scr")"
fi
TM send-keys -t m p
if until_ok 10 running_again; then
    ok "p again: resumed, the rate above 0 ($(col IN/S)/s)"
else
    nok "p again: resumed, the rate above 0" "$(head -8 "$TMP/scr")" "$(tail -2 "$TMP/scr")"
fi

# +: 10% more terminals (40 -> 44, within max 60); f: 10% of them disconnected
snap m
before=$(col ONLINE)
want=$((before + (before + 9) / 10))
TM send-keys -t m +
grown() { shows m "active $want, max 60" && [ "$(col ONLINE)" = "$want" ]; }
if until_ok 15 grown; then
    ok "+: the fleet grows by 10% ($before -> $want active of max 60, $want online)"
else
    nok "+: the fleet grows by 10% ($before -> $want active of max 60, $want online)" "$(head -8 "$TMP/scr")" \
        "$(tail -2 "$TMP/scr")"
fi
snap m
before=$(col ONLINE)
TM send-keys -t m f
dc_of() { sed -n 's/^ f .* dc \([0-9][0-9]*\).*/\1/p' "$TMP/scr"; }
dropped() {
    snap m || return 1
    local on dc n
    on=$(col ONLINE)
    dc=$(dc_of)
    n=$(sed -n 's/.*fraction 0.1, terminals \([0-9][0-9]*\).*/\1/p' "$TMP/scr")
    [ "$n" = $((before / 10)) ] && { [ "${on:-$before}" -lt "$before" ] 2>/dev/null || [ "${dc:-0}" -ge "$n" ]; }
}
if until_ok 10 dropped; then
    ok "f: 10% disconnected ($((before / 10)) of $before; online $(col ONLINE), disconnects $(dc_of))"
else
    nok "f: 10% disconnected (the online count dips or the disconnect counter rises)" "$(head -8 "$TMP/scr")" \
        "$(tail -2 "$TMP/scr")"
fi
# the disconnected ones come back before the resize (so only numbers change meanwhile)
until_ok 15 shows m "^ f  .* $before +0 " >/dev/null

# resize to 160x48 and back: a fresh draw at each size, nothing left of the other
elapsed() { sed -n '1s/^ fleetsim dash  elapsed \([0-9.]*s\) .*/\1/p' "$1"; }
# numbers, units, sparklines and runs of blanks are what may change from one second to the
# next; a line that reaches the right edge is cut there, its last word by how long the numbers are
norm() { # FILE WIDTH
    awk -v w="$2" 'length($0) >= w - 1 { sub(/ *[^ ]*$/, "") } { print }' "$1" |
        sed -E 's/[0-9]+(\.[0-9]+)?(us|ms|s|kB|MB|GB|%|k|M)?/N/g; s/[-_.=+*#@]+/S/g; s/ +/ /g'
}
drawn_at() { # W H: the screen is drawn for W columns (the header's right end) and H rows
    snap m "$TMP/ra" && [ "$(wc -l <"$TMP/ra")" = "$2" ] &&
        [ "$(head -1 "$TMP/ra" | awk '{ print length($0) }')" = $(($1 - 1)) ]
}
later() { snap m "$TMP/rb" && [ -n "$(elapsed "$TMP/rb")" ] && [ "$(elapsed "$TMP/rb")" != "$(elapsed "$TMP/ra")" ]; }
for size in 160x48 80x24; do
    w=${size%x*} h=${size#*x}
    TM resize-window -t m -x "$w" -y "$h"
    if until_ok 10 drawn_at "$w" "$h" && until_ok 5 later; then
        long=$(awk -v w="$w" 'length($0) > w' "$TMP/ra" | wc -l)
        heads=$(grep -c '^ fleetsim dash  elapsed' "$TMP/ra")
        if [ "$long" = 0 ] && [ "$heads" = 1 ] && diff <(norm "$TMP/ra" "$w") <(norm "$TMP/rb" "$w") >"$TMP/rdiff"; then
            ok "resize to $size: drawn afresh, no leftovers (the same screen a second later but for the numbers)"
        else
            nok "resize to $size: drawn afresh, no leftovers" "lines longer than $w: $long, headers: $heads" \
                "$(cat "$TMP/rdiff")" "$(cat "$TMP/ra")"
        fi
    else
        nok "resize to $size: drawn afresh at that size" "$(cat "$TMP/ra")"
    fi
done

# what another process writes on the terminal stays until the cells under it change
# (a blank row of the overview never does); Ctrl-L repaints the screen
printf '\033[14;30HSTRAY-TEXT' >"$(TM display -p -t m '#{pane_tty}')"
snap m "$TMP/ra"
if until_ok 5 later && grep -q 'STRAY-TEXT' "$TMP/rb"; then
    TM send-keys -t m C-l
    if until_ok 5 eval '! shows m STRAY && grep -q "^ fleetsim dash  elapsed" "$TMP/scr"'; then
        ok "Ctrl-L: the screen repainted, what another process wrote on it gone"
    else
        nok "Ctrl-L: the screen repainted, what another process wrote on it gone" "$(cat "$TMP/scr")"
    fi
else
    nok "text written on the dashboard's terminal shows (to be repainted)" "$(cat "$TMP/rb")"
fi

# q asks; n keeps the run going; q y ends it: exit 3 (interrupted), the verdicts printed
TM send-keys -t m q
if until_ok 5 shows m '^ the run is going: quit and stop it\? \(y/n\)'; then
    ok "q while the run goes: the quit prompt"
else
    nok "q while the run goes: the quit prompt" "$(tail -3 "$TMP/scr")"
fi
TM send-keys -t m n
snap m "$TMP/ra"
gone_prompt() { snap m && ! grep -q 'quit and stop it' "$TMP/scr"; }
if until_ok 5 gone_prompt && until_ok 5 later && [ ! -e "$TMP/m.rc" ]; then
    ok "n: the prompt goes, the run goes on"
else
    nok "n: the prompt goes, the run goes on" "$(tail -3 "$TMP/scr")"
fi
TM send-keys -t m q
until_ok 5 shows m 'quit and stop it'
TM send-keys -t m y
if until_ok 25 test -s "$TMP/m.rc" && [ "$(rc_of m)" = 3 ] && until_ok 5 shows m '^checks: .* 1 error' &&
    grep -q 'HARNESS .*interrupted' "$TMP/scr"; then
    ok "q y: the run ends as an interrupted run (exit 3) and prints its verdicts"
else
    nok "q y: the run ends as an interrupted run (exit 3) and prints its verdicts" "$(cat "$TMP/m.rc" 2>/dev/null)" \
        "$(tail -12 "$TMP/scr")"
fi
restored m

# --- Ctrl-C, and a crash signal, during run --dash ------------------------------------------
cat >"$TMP/c.json" <<'JSON'
{"name": "dash-c", "target": "embedded", "duration": "60s",
 "fleets": [{"id": "f", "protocol": "jt808", "version": 2019, "count": 10, "ramp": "50/s",
             "phone": "13700000000+", "report": {"every": "1s"}}],
 "expect": [{"id": "ONLINE", "state": "authenticated", "within": "10s"}]}
JSON
sed 's/"duration": "60s"/"duration": "6s"/' "$TMP/c.json" >"$TMP/e.json"
session e 80x24 "\"$F\" run e.json --dash"
session c 80x24 "\"$F\" run c.json --dash"
session k 80x24 "\"$F\" run c.json --dash"
session q 80x24 "\"$F\" run c.json --dash"
for s in c k q; do
    until_ok 30 shows "$s" '^ f  .* 10 +0 ' || nok "$s: the run's 10 terminals online" "$(cat "$TMP/scr")"
    run_pid "$s" >"$TMP/$s.pid"
done
TM send-keys -t c C-c
if until_ok 25 test -s "$TMP/c.rc" && [ "$(rc_of c)" = 3 ] && until_ok 5 shows c 'HARNESS .*interrupted'; then
    ok "Ctrl-C: the run ends as interrupted (exit 3), its verdicts printed"
else
    nok "Ctrl-C: the run ends as interrupted (exit 3), its verdicts printed" "$(cat "$TMP/c.rc" 2>/dev/null)" \
        "$(tail -8 "$TMP/scr")"
fi
# what the run wrote to stderr while the dashboard was up went to a file, written
# out once the terminal was given back: on the shell's screen, not lost
if TM capture-pane -p -S -300 -t c >"$TMP/hist" 2>/dev/null && grep -q 'fleetsim: interrupted; draining' "$TMP/hist"; then
    ok "Ctrl-C: the run's own message while the dashboard was up is on the terminal after it"
else
    nok "Ctrl-C: the run's own message while the dashboard was up is on the terminal after it" "$(head -12 "$TMP/hist")"
fi
restored c
kpid=$(cat "$TMP/k.pid")
kids=$(children "$kpid")
kill -SEGV "$kpid"
if until_ok 10 test -s "$TMP/k.rc" && [ "$(rc_of k)" = $((128 + 11)) ]; then
    ok "SIGSEGV in the dashboard's process: it dies of it (exit 139)"
else
    nok "SIGSEGV in the dashboard's process: it dies of it (exit 139)" "$(cat "$TMP/k.rc" 2>/dev/null)"
fi
restored k
gone() { local p; for p in $kids; do kill -0 "$p" 2>/dev/null && return 1; done; return 0; }
if [ -n "$kids" ] && until_ok 10 gone; then
    ok "... and the run's processes go with it"
else
    nok "... and the run's processes go with it" "left: $(for p in $kids; do kill -0 "$p" 2>/dev/null && cat "/proc/$p/comm"; done)"
fi
# Ctrl-\ (SIGQUIT, from the keyboard: the dashboard keeps the terminal's signal keys)
TM send-keys -t q 'C-\'
if until_ok 10 test -s "$TMP/q.rc" && [ "$(rc_of q)" = $((128 + 3)) ]; then
    ok "Ctrl-\\ (SIGQUIT): the run dies of it (exit 131)"
else
    nok "Ctrl-\\ (SIGQUIT): the run dies of it (exit 131)" "$(cat "$TMP/q.rc" 2>/dev/null)"
fi
restored q

# a run that ends by itself: the dashboard goes, the verdicts are printed, exit 0
if until_ok 30 test -s "$TMP/e.rc" && [ "$(rc_of e)" = 0 ] && until_ok 5 shows e '^checks: 1 of 1 passed' &&
    grep -q 'ONLINE .*all 10 terminals' "$TMP/scr"; then
    ok "a run --dash that ends by itself: its verdicts printed, exit 0"
else
    nok "a run --dash that ends by itself: its verdicts printed, exit 0" "$(cat "$TMP/e.rc" 2>/dev/null)" "$(tail -8 "$TMP/scr")"
fi
restored e

# --- top on a run's socket, and on two shards' (summed) -------------------------------------
cat >"$TMP/t.json" <<'JSON'
{"name": "dash-top", "target": "embedded", "duration": "40s",
 "fleets": [{"id": "f", "protocol": "jt808", "version": 2019, "count": 40, "max": 60, "ramp": "200/s",
             "phone": "13600000000+", "report": {"every": "1s"}}]}
JSON
"$F" run "$TMP/t.json" -q --shard 1/2 --stats "$TMP/a.sock" >"$TMP/a.out" 2>&1 &
bg_pids+=($!)
"$F" run "$TMP/t.json" -q --shard 2/2 --stats "$TMP/b.sock" >"$TMP/b.out" 2>&1 &
bg_pids+=($!)
once_shows() { # N SOCKET...: top --once shows fleet f with N online
    local n=$1; shift
    "$F" top --once -w 100 "$@" >"$TMP/once" 2>&1 && grep -Eq "^ f +jt808 +[0-9]+ +[0-9]+ +$n " "$TMP/once"
}
if until_ok 30 once_shows 20 "$TMP/a.sock" && until_ok 10 once_shows 20 "$TMP/b.sock"; then
    ok "top --once on each shard's socket: 20 online each"
else
    nok "top --once on each shard's socket: 20 online each" "$(cat "$TMP/once")"
fi
session t 80x24 "\"$F\" top a.sock"
if until_ok 15 shows t '^ f  .* 20 +0 ' && grep -q '^ fleetsim dash-top' "$TMP/scr"; then
    ok "top SOCKET in a terminal: the run's fleet, 20 online"
else
    nok "top SOCKET in a terminal: the run's fleet, 20 online" "$(cat "$TMP/scr")"
fi
TM send-keys -t t q
if until_ok 5 shows t '^ the run is going: leave it\? it goes on without the dashboard \(y/n\)'; then
    ok "top: q asks to leave the run going"
else
    nok "top: q asks to leave the run going" "$(tail -3 "$TMP/scr")"
fi
TM send-keys -t t y
if until_ok 10 test -s "$TMP/t.rc" && [ "$(rc_of t)" = 0 ] && once_shows 20 "$TMP/a.sock"; then
    ok "top: q y leaves (exit 0), the run goes on"
else
    nok "top: q y leaves (exit 0), the run goes on" "$(cat "$TMP/t.rc" 2>/dev/null)" "$(cat "$TMP/once")"
fi
restored t
session u 80x24 "\"$F\" top a.sock b.sock"
if until_ok 15 shows u '^ f  .* 40 +0 ' && grep -q 'sources 2 up' "$TMP/scr"; then
    ok "top A B on two shards: the counts summed (40 online = 20 + 20)"
else
    nok "top A B on two shards: the counts summed (40 online = 20 + 20)" "$(cat "$TMP/scr")"
fi
if once_shows 40 "$TMP/a.sock" "$TMP/b.sock"; then
    ok "top --once A B: 40 online"
else
    nok "top --once A B: 40 online" "$(cat "$TMP/once")"
fi
# + on two shards: the fleet grows by 10% of the whole (40 -> 44: each shard its 22)
TM send-keys -t u +
if until_ok 15 shows u '^ f  .* 44 +0 ' && grep -Eq 'ok, fleet f, was 40, active 44, max 60, here 22' "$TMP/scr" &&
    once_shows 44 "$TMP/a.sock" "$TMP/b.sock"; then
    ok "top A B, +: the fleet grows by 10% of the whole (40 -> 44, 22 on each shard)"
else
    nok "top A B, +: the fleet grows by 10% of the whole (40 -> 44, 22 on each shard)" "$(cat "$TMP/scr")" "$(cat "$TMP/once")"
fi
TM send-keys -t u C-c
if until_ok 10 test -s "$TMP/u.rc" && [ "$(rc_of u)" = 0 ]; then ok "top: Ctrl-C leaves (exit 0)"; else nok "top: Ctrl-C leaves (exit 0)" "$(cat "$TMP/u.rc" 2>/dev/null)"; fi
restored u
# SIGHUP (the terminal closed, kill -HUP): top leaves as on Ctrl-C
session h 80x24 "\"$F\" top a.sock"
until_ok 15 shows h '^ f  .* 2[0-9] +0 ' || nok "top on a shard shows its fleet" "$(cat "$TMP/scr")"
run_pid h >"$TMP/h.pid"
kill -HUP "$(cat "$TMP/h.pid")"
if until_ok 10 test -s "$TMP/h.rc" && [ "$(rc_of h)" = 0 ]; then ok "top: SIGHUP leaves (exit 0)"; else nok "top: SIGHUP leaves (exit 0)" "$(cat "$TMP/h.rc" 2>/dev/null)"; fi
restored h

# --- the run without a terminal ----------------------------------------------------------
wait "$notty"; rc=$?
if [ $rc = 0 ] && grep -q -- '--dash needs a terminal (stdin and stdout); status lines instead' "$TMP/notty.err" &&
    grep -Eq '^\[ *[0-9.]+s/3s .*online 5/5' "$TMP/notty.out"; then
    ok "run --dash without a terminal: says it needs one and keeps its status lines"
else
    nok "run --dash without a terminal: says it needs one and keeps its status lines" "exit $rc" \
        "$(cat "$TMP/notty.err")" "$(head -5 "$TMP/notty.out")"
fi
"$F" top "$TMP/a.sock" </dev/null >"$TMP/top-notty.out" 2>&1; rc=$?
if [ $rc = 2 ] && grep -q 'the dashboard needs a terminal (stdin and stdout); --once prints the overview' "$TMP/top-notty.out"; then
    ok "top without a terminal: a usage error (exit 2) pointing at --once"
else
    nok "top without a terminal: a usage error (exit 2) pointing at --once" "exit $rc" "$(cat "$TMP/top-notty.out")"
fi
