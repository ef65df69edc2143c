#!/usr/bin/env python3
"""A client of `fleetsim run --stats PATH` for tests/e2e/66-live-control.sh: reads the
snapshot documents (one JSON line each), sends request lines and checks the reply
lines (docs: README "Live statistics").  Prints "ok - ..." / "not ok - ..." lines.

  live_client.py SOCKET FLEET PHONE COUNT MAX
Every wait is bounded; the whole client gives up after 60 s."""
import json, socket, sys, threading, time

path, fleet, phone, count, cap = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
threading.Timer(60, lambda: (print("not ok - the client finished within 60 s", flush=True),
                             __import__("os")._exit(1))).start()
s = socket.socket(socket.AF_UNIX)
for _ in range(100):
    try:
        s.connect(path)
        break
    except OSError:
        time.sleep(0.1)
f = s.makefile("rb")
docs, replies, lock = [], {}, threading.Condition()

def reader():
    for line in f:
        try:
            j = json.loads(line)
        except ValueError:
            j = {"unparsable": line[:200].decode("utf-8", "replace")}
        with lock:
            if "reply" in j:
                replies[json.dumps(j["reply"])] = j
            else:
                docs.append((time.monotonic(), j))
            lock.notify_all()
    with lock:
        docs.append((time.monotonic(), None))
        lock.notify_all()

threading.Thread(target=reader, daemon=True).start()

def ok(cond, name, *why):
    print(("ok - " if cond else "not ok - ") + name, flush=True)
    if not cond:
        for w in why:
            print("    " + str(w), flush=True)
    return cond

def request(obj, raw=None, key=None, timeout=8):
    s.sendall((raw if raw is not None else json.dumps(obj)).encode() + b"\n")
    key = json.dumps(obj.get("id") if obj else key)
    end = time.monotonic() + timeout
    with lock:
        while key not in replies and time.monotonic() < end:
            lock.wait(0.2)
        return replies.pop(key, None)

def fl(doc):
    return next(x for x in doc["fleets"] if x["id"] == fleet)

def latest():
    with lock:
        return docs[-1][1] if docs else None

def wait_doc(pred, timeout):
    """The first document, from now on, for which pred holds; None after timeout."""
    end = time.monotonic() + timeout
    with lock:
        seen = len(docs)
    while time.monotonic() < end:
        with lock:
            for _, d in docs[seen:]:
                if d is not None and pred(d):
                    return d
            seen = len(docs)
            lock.wait(0.2)
    return None

def reports_over(seconds):
    """reports acknowledged over about that many seconds (two documents apart)."""
    a = wait_doc(lambda d: True, 3)
    time.sleep(seconds)
    b = wait_doc(lambda d: True, 3)
    if a is None or b is None:
        return None
    return fl(b)["counters"]["reports"] - fl(a)["counters"]["reports"]

online = lambda d: fl(d)["in_state"]["authenticated"]
d = wait_doc(lambda d: online(d) == count, 10)
ok(d is not None, f"the documents show all {count} terminals online", latest() and fl(latest())["in_state"])

# pause: reports stop, connections stay; resume: they come back
r = request({"id": 1, "op": "pause"})
ok(r is not None and r.get("ok") is True and fleet in r.get("paused", []), "pause is answered ok, the fleet paused", r)
time.sleep(1.5)  # reports already on the wire are answered
n = reports_over(2.0)
d = latest()
ok(n == 0 and d is not None and online(d) == count, f"paused: no report in 2 s, all {count} still online",
   f"reports {n}", d and fl(d)["in_state"])
r = request({"id": 2, "op": "resume"})
ok(r is not None and r.get("ok") is True and r.get("paused", []) == [], "resume is answered ok, nothing paused", r)
n = reports_over(2.0)
ok(n is not None and n >= count, f"resumed: reports again (at least {count} in 2 s)", f"reports {n}")

# disconnect 10%: counted, and they come back
before = fl(latest())["counters"]["disconnects"]
r = request({"id": 3, "op": "disconnect", "fleet": fleet, "fraction": 0.1})
want = count // 10
ok(r is not None and r.get("ok") is True and r.get("terminals") == want, f"disconnect 0.1 picks {want}", r)
d = wait_doc(lambda d: fl(d)["counters"]["disconnects"] - before >= want, 5)
ok(d is not None, f"... {want} disconnects counted", latest() and fl(latest())["counters"]["disconnects"])
ok(wait_doc(lambda d: online(d) == count, 10) is not None, "... and they are back online",
   latest() and fl(latest())["in_state"])

# resize: grow by 10, then past max (clamped), then back to count
r = request({"id": 4, "op": "resize", "fleet": fleet, "delta": 10})
ok(r is not None and r.get("ok") is True and r.get("active") == count + 10, f"resize +10: active {count + 10}", r)
ok(wait_doc(lambda d: online(d) == count + 10, 10) is not None, f"... {count + 10} online",
   latest() and fl(latest())["in_state"])
r = request({"id": 5, "op": "resize", "fleet": fleet, "delta": 1000})
ok(r is not None and r.get("ok") is True and r.get("active") == cap and "clamped" in r,
   f"resize past max: clamped at {cap}, saying so", r)
r = request({"id": 6, "op": "resize", "fleet": fleet, "delta": count - cap})
ok(r is not None and r.get("active") == count, f"resize back to {count}", r)
ok(wait_doc(lambda d: online(d) == count, 10) is not None, f"... {count} online, the rest stopped",
   latest() and fl(latest())["in_state"])

# inspect: the first starts watching; the next has its frames, hex and decoded
r = request({"id": 7, "op": "inspect", "terminal": phone})
ok(r is not None and r.get("ok") is True and r.get("fleet") == fleet and r.get("state") == "authenticated",
   f"inspect {phone}: its fleet and state", r)
time.sleep(1.5)
r = request({"id": 8, "op": "inspect", "terminal": phone})
fr = (r or {}).get("frames") or []
ok(len(fr) >= 2 and {x.get("dir") for x in fr} == {">", "<"} and
   all(x.get("hex", "").lower().startswith("7e") and x.get("decoded") for x in fr),
   "... then its frames both ways, in hex and decoded", json.dumps(r)[:600])
print("FRAME " + (fr[0]["hex"] if fr else "") + " " + json.dumps(fr[0]["decoded"] if fr else None), flush=True)
r = request({"id": 9, "op": "inspect", "terminal": "19999999999"})
ok(r is not None and r.get("ok") is False and r.get("error"), "inspect of a terminal no fleet has: an error", r)

# bad requests: each an error reply saying what, the connection kept
r = request(None, raw="this is not json", key=None)
ok(r is not None and r.get("ok") is False and "JSON" in r.get("error", ""), "a line that is not JSON: an error", r)
r = request({"id": 10, "op": "grow"})
ok(r is not None and r.get("ok") is False and "grow" in r.get("error", ""), "an unknown op: an error naming it", r)
r = request({"id": 11, "op": "disconnect", "fleet": fleet, "fraction": 2})
ok(r is not None and r.get("ok") is False and "fraction" in r.get("error", ""), "a fraction over 1: an error naming it", r)
r = request({"id": 12, "op": "pause", "fleet": "nosuch"})
ok(r is not None and r.get("ok") is False and "nosuch" in r.get("error", ""), "a fleet the run has not: an error naming it", r)
r = request({"id": 13, "op": "pause", "fleet": fleet, "colour": 1})
ok(r is not None and r.get("ok") is False and "colour" in r.get("error", ""), "an unknown member: an error naming it", r)
d = wait_doc(lambda d: True, 3)
ok(d is not None, "... and the documents keep coming")
__import__("os")._exit(0)
