#!/usr/bin/env bash
# fleetsim serve supervises its gateway processes: SIGTERM stops every one of
# them, a gateway that dies is named and takes serve down with it, and a serve
# killed outright does not leave its gateways running.
. "$(dirname "$0")/lib.sh"
# Waits are long (30 s) for a loaded machine under ASan; they end as soon as the state is seen.
# start_serve PROCS: serve in the background as $spid, its gateways in $gws
start_serve() {
    local port _
    port=$(free_port)
    "$FLEETSIM" serve --port "$port" --db "$TMP/p.db" --procs "$1" >"$TMP/serve.log" 2>&1 &
    spid=$!
    for _ in $(seq 300); do
        gws=$(children $spid 'fs-gateway-*')
        [ "$(echo $gws | wc -w)" -ge "$1" ] && (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
# ends PID: PID ends within 30 s (else it is killed); its exit status in $rc
ends() {
    local _
    for _ in $(seq 300); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$1" 2>/dev/null && { kill -9 "$1"; wait "$1"; rc=124; return 1; }
    wait "$1"; rc=$?
}
# gone PID...: none of them is running within 5 s (a zombie waiting for init is gone)
gone() {
    local p _ left
    for _ in $(seq 50); do
        left=""
        for p in "$@"; do
            if [ -e "/proc/$p" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$p/status" 2>/dev/null; then
                left="$left $p"
            fi
        done
        [ -z "$left" ] && return 0
        sleep 0.1
    done
    echo "still running:$left"
    return 1
}

start_serve 3 || nok "serve starts three gateway processes" "$(tail -5 "$TMP/serve.log")"
kill -TERM $spid
ends $spid
if [ "$rc" -eq 0 ] && grep -q "fleetsim serve: stopped" "$TMP/serve.log"; then
    ok "serve --procs 3 stops cleanly on SIGTERM"
else
    nok "serve --procs 3 stops cleanly on SIGTERM" "exit $rc" "$(tail -5 "$TMP/serve.log")"
fi
check "... and leaves no gateway process behind" gone $gws

start_serve 2 || nok "serve starts two gateway processes" "$(tail -5 "$TMP/serve.log")"
set -- $gws
victim=$1
kill -KILL "$victim"
ends $spid
if [ "$rc" -eq 3 ] && grep -qE "gateway [01] \(pid $victim\) died of signal 9" "$TMP/serve.log"; then
    ok "a gateway killed with SIGKILL is named, and serve stops with exit 3 (a harness error)"
else
    nok "a gateway killed with SIGKILL is named, and serve stops with exit 3 (a harness error)" "exit $rc (124 = hung)" \
        "$(tail -5 "$TMP/serve.log")"
fi
check "... and the other gateway is stopped too" gone "$2"

start_serve 2 || nok "serve starts two gateway processes" "$(tail -5 "$TMP/serve.log")"
core=$(children $spid 'fs-core')
kill -KILL "$core"
ends $spid
if [ "$rc" -eq 3 ] && grep -qE "platform core \(pid $core\) died of signal 9" "$TMP/serve.log"; then
    ok "the platform core killed with SIGKILL is named, and serve stops with exit 3 (a harness error)"
else
    nok "the platform core killed with SIGKILL is named, and serve stops with exit 3 (a harness error)" "exit $rc (124 = hung)" \
        "$(tail -5 "$TMP/serve.log")"
fi
check "... and its gateways are stopped too" gone $gws

start_serve 2 || nok "serve starts two gateway processes" "$(tail -5 "$TMP/serve.log")"
core=$(children $spid 'fs-core')
exec 3>&2 2>/dev/null   # no "Killed" notice from the shell
kill -KILL $spid
wait $spid
exec 2>&3 3>&-
check "a serve killed with SIGKILL does not leave its gateways running" gone $gws
check "... nor its platform core" gone $core
