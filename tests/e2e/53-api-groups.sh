#!/usr/bin/env bash
# Groups, tags, batch tasks and data history through the northbound API (004 §7,
# §11, §12): fleetsim serve --api with JT/T 808 terminals of a run against it; groups
# made, changed and refused by curl; tags; the history of the terminals' location
# reports, newest first, paged and filtered by time; a batch task over a group; what
# the store holds.
. "$(dirname "$0")/lib.sh"
port=$(free_port); api=$(free_port)
"$FLEETSIM" serve --port "$port" --db "$TMP/p.db" --quiet --api "127.0.0.1:$api" --app demo:s3cret \
    >"$TMP/serve.out" 2>&1 &
spid=$!
wait_port "$port" && wait_port "$api" || { nok "serve starts with its API" "$(cat "$TMP/serve.out")"; exit 1; }
cat >"$TMP/s.json" <<JSON
{"name": "api-groups", "target": "tcp://127.0.0.1:$port", "duration": "30s",
 "fleets": [{"id": "f", "protocol": "jt808", "version": 2013, "count": 3, "ramp": "100/s",
             "phone": "13500000000+", "heartbeat": "20s", "report": {"every": "300ms"}}],
 "expect": [{"id": "ONLINE", "state": "authenticated", "within": "5s"}]}
JSON
timeout 60 "$FLEETSIM" run "$TMP/s.json" --quiet >"$TMP/run.out" 2>&1 &
rpid=$!
U="http://127.0.0.1:$api"
tok=$(curl -s -m 5 -d 'appId=demo&secret=s3cret' "$U/iocm/app/sec/v1.1.0/login" |
      python3 -c 'import json,sys; print(json.load(sys.stdin).get("accessToken",""))')
[ ${#tok} = 32 ] || nok "login" "$tok"
# call METHOD PATH [BODY]: the status; the body in $TMP/body
call() {
    local args=(-s -m 10 -o "$TMP/body" -w '%{http_code}' -X "$1" -H 'app_key: demo' -H "Authorization: Bearer $tok")
    [ -n "${3:-}" ] && args+=(-H 'Content-Type: application/json' -d "$3")
    curl "${args[@]}" "$U$2"
}
# js EXPR: a Python expression over the last body (d), printed
js() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($1)" "$TMP/body" 2>&1; }
expect() { # NAME STATUS EXPR (true when passing) -- the last call's
    local name=$1 want=$2 code=$3 expr=$4
    if [ "$code" = "$want" ] && [ "$(js "$expr")" = True ]; then ok "$name"
    else nok "$name" "HTTP $code" "$(cat "$TMP/body")"; fi
}
# the phones 13500000000+ are the devices 013500000000, ...01 and ...02
up=no
for _ in $(seq 50); do
    [ "$(call GET /iocm/app/dm/v1.4.0/devices/013500000002)" = 200 ] && up=yes && break
    sleep 0.2
done
[ $up = yes ] || nok "the three terminals registered" "$(tail -5 "$TMP/run.out")"
G=/iocm/app/devgroup/v1.3.0/devGroups
code=$(call POST $G '{"name":"fleet-a","description":"the first two","maxDevNum":3,"deviceIds":["013500000000","013500000001"]}')
expect "a group of two terminals" 200 "$code" 'd["name"] == "fleet-a" and d["curDevNum"] == 2 and d["appId"] == "demo" and len(d["id"]) == 36'
gid=$(js 'd.get("id","")')
code=$(call POST $G '{"name":"fleet-a"}')
expect "a second group of that name is refused" 409 "$code" 'd["error_code"] == "100007" and "name:" in d["error_desc"]'
code=$(call POST $G '{"name":"b","deviceIds":["013500000001"]}')
expect "a terminal is in one group only" 409 "$code" '"deviceIds[0]: 013500000001 is in group" in d["error_desc"]'
code=$(call POST $G '{"name":"b","deviceIds":["013599999999"]}')
expect "an unknown device is refused, named" 400 "$code" 'd["error_code"] == "100002" and "deviceIds[0]: no device 013599999999" in d["error_desc"]'
code=$(call POST "$G/$gid/addDevices" '{"deviceIds":["013500000002"]}')
expect "the third terminal added" 200 "$code" 'd["curDevNum"] == 3'
code=$(call GET "$G/$gid/members?pageSize=2&pageNo=1")
expect "members, paged" 200 "$code" 'd["totalCount"] == 3 and d["deviceIds"] == ["013500000002"]'
code=$(call PUT "$G/$gid" '{"description":"all three"}')
expect "a group modified" 200 "$code" 'd["description"] == "all three" and d["name"] == "fleet-a"'
code=$(call GET "$G?name=fleet-a")
expect "groups listed by name" 200 "$code" 'd["totalCount"] == 1 and d["list"][0]["curDevNum"] == 3'
# tags: a terminal carries several
T=/iocm/app/devgroup/v1.3.0/tags
code=$(call POST $T '{"name":"trucks"}'); t1=$(js 'd.get("id","")')
code2=$(call POST $T '{"name":"night"}'); t2=$(js 'd.get("id","")')
call POST "$T/$t1/addDevices" '{"deviceIds":["013500000000","013500000001"]}' >/dev/null
code=$(call POST "$T/$t2/addDevices" '{"deviceIds":["013500000001"]}')
expect "tags put on terminals" 200 "$code" 'd["devNum"] == 1'
code=$(call GET /iocm/app/devgroup/v1.3.0/deviceTags/013500000001)
expect "... a terminal carrying two" 200 "$code" 'sorted(t["name"] for t in d["tags"]) == ["night","trucks"]'
code=$(call GET "$T/$t1/devices")
expect "... the terminals of a tag" 200 "$code" 'd["deviceIds"] == ["013500000000","013500000001"]'
# the history of the location reports (every 300 ms)
H="/iocm/app/data/v1.1.0/deviceDataHistory?deviceId=013500000000&serviceId=location"
for _ in $(seq 50); do
    code=$(call GET "$H&pageSize=5")
    [ "$code" = 200 ] && [ "$(js 'd["totalCount"] >= 6')" = True ] && break
    sleep 0.2
done
expect "the terminal's location history, newest first, paged" 200 "$code" \
    'd["totalCount"] >= 6 and len(d["deviceDataHistoryDOs"]) == 5 and all("lat" in r["data"] and "lon" in r["data"] and r["serviceId"] == "location" and r["deviceId"] == "013500000000" and len(r["timestamp"]) == 16 for r in d["deviceDataHistoryDOs"]) and [r["timestamp"] for r in d["deviceDataHistoryDOs"]] == sorted([r["timestamp"] for r in d["deviceDataHistoryDOs"]], reverse=True)'
newest=$(js 'd["deviceDataHistoryDOs"][0]["timestamp"]')
code=$(call GET "$H&startTime=$newest&endTime=$newest")
expect "... filtered to its newest second" 200 "$code" "d['totalCount'] >= 1 and all(r['timestamp'] == '$newest' for r in d['deviceDataHistoryDOs'])"
code=$(call GET "$H&startTime=20990101T000000Z")
expect "... nothing after a time to come" 200 "$code" 'd["totalCount"] == 0'
code=$(call GET "$H&startTime=2026-12-04")
expect "a malformed time is refused, the parameter named" 400 "$code" '"startTime: " in d["error_desc"]'
# a batch task over the group: one command per member
code=$(call POST /iocm/app/batchtask/v1.1.0/tasks "{\"taskName\":\"locate\",\"taskType\":\"DeviceCmd\",\"timeout\":600,\"param\":{\"type\":\"GroupList\",\"groupList\":[\"$gid\"],\"command\":{\"serviceId\":\"location\",\"method\":\"0x8201\"}}}")
expect "a batch task over the group" 200 "$code" 'len(d["taskID"]) == 24'
tid=$(js 'd.get("taskID","")')
code=$(call GET "/iocm/app/batchtask/v1.1.0/tasks/$tid")
expect "... with a command for each of its three" 200 "$code" 'd["totalCnt"] == 3 and d["taskName"] == "locate" and d["status"] in ("WAITING","RUNNING","COMPLETE")'
code=$(call GET "/iocm/app/batchtask/v1.1.0/taskDetails?taskId=$tid")
expect "... each device in its details" 200 "$code" 'sorted(r["param"]["deviceId"] for r in d["taskDetails"]) == ["013500000000","013500000001","013500000002"]'
for _ in $(seq 50); do
    code=$(call GET "/iocm/app/batchtask/v1.1.0/tasks/$tid")
    [ "$(js 'd["status"]')" = COMPLETE ] && break
    sleep 0.2
done
expect "... COMPLETE once each terminal's command ended" 200 "$code" 'd["completeCnt"] == 3'
call GET "/iocm/app/batchtask/v1.1.0/taskDetails?taskId=$tid" >/dev/null
if grep -q '"error":"501: commands are not served' "$TMP/body"; then
    ok "... (no commands service in this build: each command refused, FAIL) # skip the terminals' answers"
else
    code=$(call GET "/iocm/app/batchtask/v1.1.0/tasks/$tid")
    expect "... each terminal answered its 0x8201: SUCCESSFUL" 200 "$code" 'd["successCnt"] == 3 and d["successRate"] == 1'
fi
code=$(call DELETE "$G/$gid")
if [ "$code" = 204 ] && [ "$(call GET "$G/$gid")" = 404 ]; then ok "a group deleted"; else nok "a group deleted" "HTTP $code"; fi
kill -INT $rpid 2>/dev/null; wait $rpid
kill -INT $spid 2>/dev/null; wait $spid; rc=$?
if [ $rc = 0 ]; then ok "serve stops cleanly"; else nok "serve stops cleanly" "exit $rc" "$(tail -5 "$TMP/serve.out")"; fi
q() { sqlite3 -batch -noheader "$TMP/p.db" "$1" 2>&1; }
got=$(q "SELECT count(DISTINCT device_id) FROM data_history WHERE service = 'location' AND n > 0")
if [ "$got" = 3 ]; then ok "the store holds the three terminals' history"; else nok "the store holds the three terminals' history" "$got"; fi
got=$(q "SELECT count(*) FROM dev_groups")
if [ "$got" = 0 ]; then ok "... and no group after the delete"; else nok "... and no group after the delete" "$got"; fi
