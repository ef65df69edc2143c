#!/usr/bin/env python3
"""A deliberately broken JT/T 808 platform for the conformance tests: a TCP proxy
in front of a real one (fleetsim serve) that breaks one rule on the way back to
the terminal.  Frames are taken apart by the standard's layout (JT/T 808-2013
4.4: 0x7E flags, 7D 01 / 7D 02 escapes, XOR check; header 12 bytes, or 17 with
the 2019 version flag, bit 14 of the properties), independently of fleetsim.

  jt808_broken_proxy.py LISTEN_PORT TARGET_PORT MODE
  MODE skip-hb-ack:  0x8001 answers to heartbeats (ack id 0x0002) are dropped
  MODE reg-result-2: every 0x8100 says result 2 (vehicle not in the database), no auth code
  MODE clock-off: every 0x8004 says the server time is 2000-01-01 00:00:00
  MODE reg-accept-all: every registration is accepted: a 0x8100 refusal and a 0x8001
       to a 0x0100 become 0x8100 result 0 with the auth code "ACCEPTED"
  MODE bad-check-report-ack: every 0x8001 that answers a location report (ack id 0x0200)
       goes with a wrong check byte: the terminal must reject it (and its report times out)
  MODE frame-per-read: on the way to the platform, of each TCP read only its first
       whole frame is passed on: a second frame in the same read, and a frame begun
       in one read and ended in another, are lost (4.4: a platform reads frames by
       their 0x7E flags, not by reads)
Prints "up" once listening; serves until killed (at most 120 s)."""
import socket, sys, threading

def unescape(b):
    out, i = bytearray(), 0
    while i < len(b):
        if b[i] == 0x7D and i + 1 < len(b):
            out.append(0x7D if b[i + 1] == 1 else 0x7E); i += 2
        else:
            out.append(b[i]); i += 1
    return bytes(out)

def escape(b):
    return b.replace(b"\x7d", b"\x7d\x01").replace(b"\x7e", b"\x7d\x02")

def frame(raw):
    check = 0
    for x in raw:
        check ^= x
    return b"\x7e" + escape(raw + bytes([check])) + b"\x7e"

def rewrite(f, mode):
    """f: one frame's unescaped content with its check; the frames to pass on."""
    msg_id = int.from_bytes(f[0:2], "big")
    props = int.from_bytes(f[2:4], "big")
    hlen = 17 if props & 0x4000 else 12
    body = f[hlen:-1]
    if mode == "skip-hb-ack" and msg_id == 0x8001 and body[2:4] == b"\x00\x02":
        return b""
    if mode == "reg-result-2" and msg_id == 0x8100:
        body = body[0:2] + b"\x02"
        props = (props & ~0x3FF) | len(body)
        return frame(f[0:2] + props.to_bytes(2, "big") + f[4:hlen] + body)
    if mode == "reg-accept-all" and ((msg_id == 0x8100 and body[2] != 0) or
                                     (msg_id == 0x8001 and body[2:4] == b"\x01\x00")):
        body = body[0:2] + b"\x00" + b"ACCEPTED"
        props = (props & ~0x3FF) | len(body)
        return frame(b"\x81\x00" + props.to_bytes(2, "big") + f[4:hlen] + body)
    if mode == "bad-check-report-ack" and msg_id == 0x8001 and body[2:4] == b"\x02\x00":
        check = 0
        for x in f[:-1]:
            check ^= x
        return b"\x7e" + escape(f[:-1] + bytes([check ^ 0x55])) + b"\x7e"
    if mode == "clock-off" and msg_id == 0x8004:
        return frame(f[0:hlen] + bytes.fromhex("000101000000"))
    return frame(f[:-1])

def pump(src, dst, mode):
    buf = b""
    try:
        while True:
            d = src.recv(4096)
            if not d:
                break
            if mode is None:
                dst.sendall(d)
                continue
            buf += d
            out = b""
            while True:
                s = buf.find(b"\x7e")
                if s < 0:
                    buf = b""
                    break
                e = buf.find(b"\x7e", s + 1)
                if e < 0:
                    buf = buf[s:]
                    break
                if e == s + 1:
                    buf = buf[e:]
                    continue
                out += rewrite(unescape(buf[s + 1:e]), mode)
                buf = buf[e + 1:]
            if out:
                dst.sendall(out)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

def first_frame_per_read(src, dst):
    """The terminal's bytes: each read's first whole frame, nothing kept over."""
    try:
        while True:
            d = src.recv(4096)
            if not d:
                break
            s = d.find(b"\x7e")
            e = d.find(b"\x7e", s + 1) if s >= 0 else -1
            if e > s + 1:
                dst.sendall(d[s:e + 1])
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

def main():
    lport, tport, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", lport))
    ls.listen(64)
    print("up", flush=True)
    threading.Timer(120, lambda: __import__("os")._exit(0)).start()
    while True:
        c, _ = ls.accept()
        u = socket.create_connection(("127.0.0.1", tport))
        if mode == "frame-per-read":
            threading.Thread(target=first_frame_per_read, args=(c, u), daemon=True).start()
            threading.Thread(target=pump, args=(u, c, None), daemon=True).start()
            continue
        threading.Thread(target=pump, args=(c, u, None), daemon=True).start()
        threading.Thread(target=pump, args=(u, c, mode), daemon=True).start()

main()
