#!/usr/bin/env python3
"""Checks the "live" member of the documents on a stats socket (docs/live.md) for
tests/e2e/68-live-events.sh.  Prints "ok - ..." / "not ok - ..." lines and, for the
script to decode again, "FRAME <kind> <hex>" for the first event of each kind
with a frame.

  live_events_check.py run SOCKET      a run: events, verdicts as it goes, pause
  live_events_check.py serve SOCKET    serve: the gateway's events, requests refused
  live_events_check.py active SOCKET FLEET   print the fleet's live active and max
Every wait is bounded; the whole client gives up after 60 s."""
import json, os, socket, sys, threading, time

mode, path = sys.argv[1], sys.argv[2]
timer = threading.Timer(60, lambda: (print("not ok - the client finished within 60 s", flush=True), os._exit(1)))
timer.daemon = True
timer.start()

def ok(cond, name, detail=""):
    print(("ok - " if cond else "not ok - ") + name + ("" if cond or not detail else "  # " + str(detail)[:600]),
          flush=True)

s = socket.socket(socket.AF_UNIX)
for _ in range(100):
    try:
        s.connect(path)
        break
    except OSError:
        time.sleep(0.1)
f = s.makefile("rwb")

def line():
    l = f.readline()
    if not l:
        return None
    return json.loads(l)

def doc_until(pred, secs):
    """Documents until pred(doc) holds (returns it) or secs pass (returns the last)."""
    end, last = time.time() + secs, None
    while time.time() < end:
        j = line()
        if j is None:
            return last
        if "reply" in j:
            continue
        last = j
        if pred(j):
            return j
    return last

def send(req):
    f.write((json.dumps(req) + "\n").encode())
    f.flush()

def reply_for(rid, secs=10):
    end = time.time() + secs
    while time.time() < end:
        j = line()
        if j is None:
            return None
        if j.get("reply") == rid:
            return j
    return None

def kinds(j):
    return {e["kind"] for e in j.get("live", {}).get("events", [])}

def first(j, kind):
    for e in j["live"]["events"]:
        if e["kind"] == kind:
            return e
    return None

if mode == "active":
    j = doc_until(lambda j: "live" in j, 10)
    l = j["live"] if j else {}
    print(l.get("active", {}).get(sys.argv[3], -1), l.get("max", {}).get(sys.argv[3], -1))
    os._exit(0)

if mode == "run":
    j = doc_until(lambda j: "live" in j, 10)
    ok(j is not None and "live" in j, "a run's document has a live member")
    live = j["live"]
    ok(all(k in live for k in ("events", "verdicts", "paused", "active", "max")),
       "live has events, verdicts, paused, active and max", list(live))
    ok(live["active"].get("f") == 6 and live["max"].get("f") == 8, "active and max are the fleet's count and max",
       (live["active"], live["max"]))
    # verdicts as the run goes: G-ONLINE undecided first, FAIL once its deadline passed
    v0 = {v["id"]: v["verdict"] for v in live["verdicts"]}
    ok(set(v0) == {"F-ONLINE", "G-ONLINE", "LEDGER"}, "every expectation has a live verdict", v0)
    want = {"decode_error", "timeout", "connect_failed", "expectation"}
    j = doc_until(lambda j: want <= kinds(j) and
                  {v["id"]: v["verdict"] for v in j["live"]["verdicts"]}.get("G-ONLINE") == "FAIL", 30)
    ok(want <= kinds(j), "events of every kind the run makes: decode errors, timeouts, connect failures, "
       "failed expectations", sorted(kinds(j)))
    v = {x["id"]: x for x in j["live"]["verdicts"]}
    ok(v.get("G-ONLINE", {}).get("verdict") == "FAIL" and j.get("phase", "") != "done",
       "a terminal that missed its deadline makes the verdict FAIL while the run goes", v.get("G-ONLINE"))
    ok(v.get("F-ONLINE", {}).get("verdict") == "PASS", "the fleet online in time passes already", v.get("F-ONLINE"))
    e = first(j, "decode_error")
    ok(e and e["fleet"] == "f" and e["terminal"].endswith("1380000000" + e["terminal"][-1]) and
       e["hex"].startswith("7e8001") and "check" in e["text"],
       "a decode error names its fleet and terminal, with the frame and why", e)
    if e:
        print("FRAME decode_error " + e["hex"], flush=True)
    e = first(j, "timeout")
    ok(e and "0x0200" in e["text"] and "unanswered" in e["text"], "a timeout names the request", e)
    e = first(j, "connect_failed")
    ok(e and e["fleet"] == "g" and "refused" in e["text"].lower(), "a connect failure says why", e)
    e = first(j, "expectation")
    ok(e and e["fleet"] == "g" and e["text"].startswith("G-ONLINE: did not reach authenticated within 2 s"),
       "a failed expectation is an event of the terminal that failed it", e)
    ts = [x["t"] for x in j["live"]["events"]]
    ok(ts == sorted(ts) and len(ts) <= 64, "events oldest first, at most 64", ts[:5])
    send({"id": 1, "op": "pause", "fleet": "f"})
    r = reply_for(1)
    ok(r and r.get("ok"), "pause answered", r)
    j = doc_until(lambda j: "f" in j["live"]["paused"], 5)
    ok(j and "f" in j["live"]["paused"], "live.paused lists the paused fleet", j and j["live"]["paused"])
    send({"id": 2, "op": "resize", "fleet": "f", "delta": 2})
    r = reply_for(2)
    j = doc_until(lambda j: j["live"]["active"].get("f") == 8, 5)
    ok(j and j["live"]["active"].get("f") == 8, "live.active follows a resize", j and j["live"]["active"])
    os._exit(0)

if mode == "serve":
    j = doc_until(lambda j: "deviation" in kinds(j) and "rejected" in kinds(j), 30)
    ok(j is not None and "live" in j, "serve's document has a live member")
    ok({"deviation", "rejected"} <= kinds(j), "the gateway's deviations and rejections are events",
       sorted(kinds(j)) if j else None)
    e = first(j, "deviation") if j else None
    ok(e and e["fleet"] == "" and "gateway" in e and "item-length" in e["text"] and e["hex"].startswith("7e0200")
       and '"msg_id":"0x0200"' in e["decoded"].replace(" ", ""),
       "a deviation has the terminal's frame, decoded", e)
    if e:
        print("FRAME deviation " + e["hex"], flush=True)
    e = first(j, "rejected") if j else None
    ok(e and "check" in e["text"], "a rejected frame says why", e)
    send({"id": "a", "op": "pause"})
    r = reply_for("a")
    ok(r and r.get("ok") is False and "serve runs no fleets" in r.get("error", ""), "serve refuses pause", r)
    send({"id": "b", "op": "nonsense"})
    r = reply_for("b")
    ok(r and r.get("ok") is False and "unknown" in r.get("error", ""), "serve parses requests as a run does", r)
    os._exit(0)
