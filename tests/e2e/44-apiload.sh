#!/usr/bin/env bash
# fleetsim apiload against serve --api: every request answered and counted by status,
# the figures printed as one JSON object, an unexpected status makes exit 1, a login
# refused exit 2, the options' errors.
. "$(dirname "$0")/lib.sh"
port=$(free_port); api=$(free_port)
"$FLEETSIM" serve --port "$port" --db "$TMP/p.db" --quiet --api "127.0.0.1:$api" --app bench:s3cret >"$TMP/serve.out" 2>&1 &
spid=$!
wait_port "$api" || nok "serve starts with its API" "$(cat "$TMP/serve.out")"
U="http://127.0.0.1:$api"
"$FLEETSIM" apiload --api "$U" --app bench:s3cret --path '/iocm/app/dm/v1.4.0/devices/{id}' \
    --ids 013800000000:100 -n 3000 -c 8 --expect 404 >"$TMP/a.json" 2>"$TMP/a.err"; rc=$?
if [ $rc = 0 ] && python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
assert d["requests"] == 3000 and d["expected"] == 3000 and d["by_status"] == {"404": 3000}, d
assert d["errors"] == 0 and d["concurrency"] == 8 and d["rate_per_s"] > 0, d
l = d["latency_ms"]; assert 0 < l["p50"] <= l["p90"] <= l["p99"] <= l["max"], l' "$TMP/a.json"; then
    ok "3000 requests from 8 connections, all answered 404 as expected, with rate and percentiles"
else nok "3000 requests from 8 connections, all answered 404 as expected" "exit $rc" "$(cat "$TMP/a.json" "$TMP/a.err")"; fi
"$FLEETSIM" apiload --api "$U/" --app bench:s3cret --path '/iocm/app/dm/v1.4.0/devices/{id}' --ids X1:5 -n 20 \
    >"$TMP/b.json" 2>&1; rc=$?
if [ $rc = 1 ] && grep -q '"first_error":"HTTP 404"' "$TMP/b.json" && grep -q '"expected":0' "$TMP/b.json"; then
    ok "answers other than 2xx (the default expectation) make exit 1 and are named"
else nok "answers other than 2xx make exit 1" "exit $rc" "$(cat "$TMP/b.json")"; fi
expect_exit "a refused login is exit 2 with the platform's answer" 2 "$FLEETSIM" apiload --api "$U" --app bench:nope --path /x
contains "... which names the error code" '"error_code":"100208"' "$TMP/out"
expect_exit "--ids that do not end in digits: a usage error" 2 "$FLEETSIM" apiload --api "$U" --app a:b --path /x --ids abc:3
contains "... naming the flag" "--ids: 'abc:3' is not FIRST:COUNT" "$TMP/out"
expect_exit "{id} without --ids: a usage error" 2 "$FLEETSIM" apiload --api "$U" --app a:b --path '/d/{id}'
expect_exit "--concurrency past 1024: a usage error" 2 "$FLEETSIM" apiload --api "$U" --app a:b --path /x -c 2000
expect_exit "a URL that is not http(s): a usage error" 2 "$FLEETSIM" apiload --api ftp://x --app a:b --path /x
kill "$spid"; wait "$spid" 2>/dev/null
