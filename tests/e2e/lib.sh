# Shared helpers for the end-to-end scripts: each check prints "ok - name" or
# "not ok - name" (counted by tests/run.sh).  FLEETSIM is the binary under test.
FLEETSIM=${FLEETSIM:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/fleetsim}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 2
TMP=$(mktemp -d /tmp/fleetsim-e2e-XXXXXX)
# Only the script's own shell removes it: a background child that a signal reaches
# before it has exec'd its command (kill -INT of a job just started) would run an
# inherited EXIT trap and take TMP away from under the script.
trap '[ "$BASHPID" = "$$" ] && rm -rf "$TMP"' EXIT
ok() { echo "ok - $1"; }
nok() { echo "not ok - $1"; shift; for l in "$@"; do echo "    $l"; done; }
# check NAME COMMAND...: passes when the command exits 0
check() { local n=$1; shift; if "$@" >"$TMP/out" 2>&1; then ok "$n"; else nok "$n" "$(tail -20 "$TMP/out")"; fi; }
# expect_exit NAME CODE COMMAND...: passes when the command exits with CODE
expect_exit() {
    local n=$1 want=$2; shift 2
    "$@" >"$TMP/out" 2>&1; local got=$?
    if [ "$got" = "$want" ]; then ok "$n"; else nok "$n" "exit $got, wanted $want" "$(tail -20 "$TMP/out")"; fi
}
# contains NAME TEXT FILE
contains() { if grep -qF -- "$2" "$3"; then ok "$1"; else nok "$1" "missing: $2" "$(tail -20 "$3")"; fi; }
# children PID [NAME-GLOB]: its child processes, those whose process name (what ps
# shows: fs-core, fs-gateway-0, fs-worker-1) matches the glob when one is given
children() {
    local p
    for p in $(cat "/proc/$1/task/$1/children" 2>/dev/null); do
        case "$(cat "/proc/$p/comm" 2>/dev/null)" in ${2:-*}) echo "$p" ;; esac
    done
}
# a free TCP port on loopback: one a bind (without SO_REUSEADDR) can have now, so
# neither a listener, nor the local end of a connection, nor one in TIME_WAIT holds
# it (a connect probe sees only a listener: a runner then failed to bind a port a
# connection held, EADDRINUSE); below the kernel's ephemeral range, so an outgoing
# connection is not given it between now and the bind of whoever asked for it
free_port() {
    python3 -c '
import random, socket
low = 32768
try:
    low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
except (OSError, ValueError, IndexError):
    pass
lo, hi = 10000, max(low, 10002)
start = random.randrange(lo, hi)
for i in range(hi - lo):
    p = lo + (start - lo + i) % (hi - lo)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    print(p)
    break
'
}

# wait_port PORT: something accepts connections on it within 5 s
wait_port() {
    local _
    for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done
    return 1
}

# start_proxy TARGET-PORT MODE: tests/data/jt808_broken_proxy.py in front of the
# platform on TARGET-PORT, on a free port; pport and ppid set.  The output file is
# emptied before the proxy starts: a stale "up" from the last one would be taken
# for this one before it listens (a connection refused).
start_proxy() {
    pport=$(free_port)
    rm -f "$TMP/proxy.out"
    python3 tests/data/jt808_broken_proxy.py "$pport" "$1" "$2" >"$TMP/proxy.out" 2>&1 &
    ppid=$!
    for _ in $(seq 50); do grep -q up "$TMP/proxy.out" 2>/dev/null && return 0; sleep 0.1; done
    return 1
}

# start_responder INDEX SIGNER KEY CA OUT: openssl's OCSP responder on a free port,
# RPORT and RPID set.  It binds without SO_REUSEADDR, so a port that a closed
# connection still holds (TIME_WAIT) fails: then another port.  It is not probed
# with a connection: it serves one at a time, and would wait on that one.
start_responder() {
    local i
    for i in 1 2 3 4 5 6 7 8; do
        RPORT=$(free_port)
        openssl ocsp -index "$1" -port "$RPORT" -rsigner "$2" -rkey "$3" -CA "$4" -nmin 10 >"$5" 2>&1 &
        RPID=$!
        for _ in $(seq 50); do
            grep -q "waiting for OCSP client connections" "$5" && return 0
            kill -0 "$RPID" 2>/dev/null || break
            sleep 0.1
        done
        kill "$RPID" 2>/dev/null; wait "$RPID" 2>/dev/null
    done
    return 1
}
# mutation runs: the plain build's alone (tests/run.sh gives BUILD). What a mutant
# shows is a suite's power, which the sanitizers do not change; under them the suites
# still run once, clean, and the mutants' runs (minutes) are left to the plain build.
plain_build_only() { case "${BUILD:-}" in *san*) return 1 ;; esac; return 0; }
