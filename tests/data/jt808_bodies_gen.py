#!/usr/bin/env python3
"""Golden vectors for the JT/T 808-2013/2019 bodies of the layout engine.

Each body is assembled byte by byte from the standard's tables (JT/T 808-2013 §8,
JT/T 808-2019 §8: field order, type, size, and the conditions noted per message),
independently of fleetsim's C code; the frame around it follows §4.4 (header,
XOR check, 0x7E/0x7D escaping).  `fields` is what `fleetsim decode` must print.

    python3 tests/data/jt808_bodies_gen.py > vectors/jt808-bodies.json
"""
import gzip
import json
import struct
import zlib

PHONE13 = "013912345678"
PHONE19 = "00000000013912345678"


def B(v):
    return struct.pack(">B", v)


def W(v):
    return struct.pack(">H", v)


def DW(v):
    return struct.pack(">I", v)


def bcd(digits, n):
    digits = digits.rjust(2 * n, "0")
    return bytes(int(digits[i:i + 2], 16) for i in range(0, 2 * n, 2))


def gbk(s):
    return s.encode("gbk")


def fixed(s, n):
    b = gbk(s)
    assert len(b) <= n
    return b + b"\0" * (n - len(b))


def hx(b):
    return b.hex().upper()


def frame(msg_id, body, ver, serial):
    props = len(body) | (0x4000 if ver == 2019 else 0)
    head = W(msg_id) + W(props)
    if ver == 2019:
        head += B(1) + bcd(PHONE19, 10)
    else:
        head += bcd(PHONE13, 6)
    head += W(serial)
    raw = head + body
    chk = 0
    for x in raw:
        chk ^= x
    raw += B(chk)
    esc = raw.replace(b"\x7d", b"\x7d\x01").replace(b"\x7e", b"\x7d\x02")
    return "7E" + hx(esc) + "7E", len(head)


VECTORS = []
SERIAL = [100]


def vec(msg_id, name, ver, body, fields, source, note=""):
    SERIAL[0] += 1
    h, _ = frame(msg_id, body, ver, SERIAL[0])
    f = {"msg_id": "0x%04X" % msg_id, "name": name, "version": str(ver)}
    if ver == 2019:
        f["proto_version"] = 1
    f.update({"phone": PHONE19 if ver == 2019 else PHONE13, "serial": SERIAL[0],
              "encryption": 0, "body": fields})
    VECTORS.append({"name": "0x%04X %s (%d)%s" % (msg_id, name, ver, note), "source": source,
                    "hex": h, "fields": f})


def err_vec(msg_id, ver, body, body_off, field, source, note):
    SERIAL[0] += 1
    h, hlen = frame(msg_id, body, ver, SERIAL[0])
    VECTORS.append({"name": "malformed: 0x%04X %s (%d)" % (msg_id, note, ver), "source": source,
                    "hex": h, "error": {"code": "short", "offset": 1 + hlen + body_off,
                                        "field": field}})


S13 = "JT/T 808-2013 %s"
S19 = "JT/T 808-2019 %s"


def both(fn):
    for v in (2013, 2019):
        fn(v)


# A location basic part (§8.18, 28 bytes) and its JSON.
def loc(alarm=0, status=3, lat=30123456, lon=120654321, alt=12, speed=456, dirn=90,
        time="260315081530", items=b"", items_json=()):
    b = DW(alarm) + DW(status) + DW(lat) + DW(lon) + W(alt) + W(speed) + W(dirn) + bcd(time, 6)
    j = {"alarm": alarm, "status": status, "lat": lat, "lon": lon, "altitude": alt,
         "speed": speed, "direction": dirn, "time": time, "items": list(items_json)}
    return b + items, j


def main():
    # 0x8003 resend subpackage request: original serial W, count (2013 BYTE, 2019 WORD), ids W
    for v in (2013, 2019):
        ids = [2, 5, 7]
        cnt = B(len(ids)) if v == 2013 else W(len(ids))
        body = W(0x1234) + cnt + b"".join(W(i) for i in ids)
        vec(0x8003, "resend subpackage request", v, body,
            {"orig_serial": 0x1234, "count": 3, "ids": [{"id": i} for i in ids]},
            (S13 if v == 2013 else S19) % "0x8003: original serial W, count %s, ids W[n]" %
            ("BYTE" if v == 2013 else "WORD"))
    # 0x0005 terminal resend request (2019): original serial W, count W, ids W
    vec(0x0005, "terminal resend subpackage request", 2019, W(9) + W(2) + W(1) + W(4),
        {"orig_serial": 9, "count": 2, "ids": [{"id": 1}, {"id": 4}]},
        S19 % "0x0005: original serial W, count W, ids W[n]")
    vec(0x0004, "query server time", 2019, b"", {}, S19 % "0x0004: empty body")
    vec(0x8004, "server time response", 2019, bcd("260315081530", 6), {"time": "260315081530"},
        S19 % "0x8004: UTC time BCD[6]")
    # 0x8106 query given parameters: count B, ids DW
    vec(0x8106, "query specified terminal parameters", 2013, B(2) + DW(0x0001) + DW(0x0013),
        {"count": 2, "ids": [{"id": 1}, {"id": 0x13}]}, S13 % "0x8106: count B, parameter ids DW[n]")
    vec(0x8107, "query terminal properties", 2013, b"", {}, S13 % "0x8107: empty body")

    # 0x0107: type W, manufacturer 5/11, model 20/30, terminal id 7/30, ICCID BCD[10],
    # hw len B, hw STRING, fw len B, fw STRING, GNSS B, comm B
    for v in (2013, 2019):
        m, mo, t = (5, 20, 7) if v == 2013 else (11, 30, 30)
        hw, fw = "HW1.2", "FW3.4.5"
        body = (W(0x0006) + fixed("ACME", m) + fixed("TX-100", mo) + fixed("T0001", t) +
                bcd("89860012345678901234", 10) + B(len(hw)) + gbk(hw) + B(len(fw)) + gbk(fw) +
                B(0x03) + B(0x01))
        vec(0x0107, "query terminal properties response", v, body,
            {"type": 6, "manufacturer": "ACME", "model": "TX-100", "terminal_id": "T0001",
             "iccid": "89860012345678901234", "hw_version_len": 5, "hw_version": hw,
             "fw_version_len": 7, "fw_version": fw, "gnss": 3, "comm": 1},
            (S13 if v == 2013 else S19) %
            "0x0107: manufacturer BYTE[%d], model BYTE[%d], terminal id BYTE[%d]" % (m, mo, t))

    vec(0x8202, "temporary location tracking", 2013, W(10) + DW(3600),
        {"interval": 10, "duration": 3600}, S13 % "0x8202: interval W, validity DW")
    err_vec(0x8202, 2013, W(10) + b"\x00\x0E", 2, "body.duration",
            S13 % "0x8202: validity DW needs 4 bytes after the interval W", "truncated validity")
    vec(0x8203, "manual alarm confirmation", 2013, W(77) + DW(0x00000001),
        {"ack_serial": 77, "alarm_type": 1}, S13 % "0x8203: alarm serial W, alarm type DW")
    vec(0x8204, "link check", 2019, b"", {}, S19 % "0x8204: empty body")

    ev = [(1, "堵车"), (2, "事故")]
    body = B(1) + B(len(ev)) + b"".join(B(i) + B(len(gbk(s))) + gbk(s) for i, s in ev)
    vec(0x8301, "set events", 2013, body,
        {"type": 1, "count": 2, "events": [{"id": i, "len": len(gbk(s)), "content": s} for i, s in ev]},
        S13 % "0x8301: type B, count B, events (id B, len B, content STRING)")
    vec(0x0301, "event report", 2013, B(2), {"event_id": 2}, S13 % "0x0301: event id B")
    q = "今天天气?"
    ans = [(1, "好"), (2, "不好")]
    body = B(0x19) + B(len(gbk(q))) + gbk(q) + b"".join(B(i) + W(len(gbk(s))) + gbk(s) for i, s in ans)
    vec(0x8302, "question", 2013, body,
        {"flag": 0x19, "question_len": len(gbk(q)), "question": q,
         "answers": [{"id": i, "len": len(gbk(s)), "content": s} for i, s in ans]},
        S13 % "0x8302: flag B, question len B, question, answers to the end (id B, len W, content)")
    vec(0x0302, "question answer", 2013, W(88) + B(2), {"ack_serial": 88, "answer_id": 2},
        S13 % "0x0302: ack serial W, answer id B")
    items = [(1, "新闻"), (2, "天气")]
    body = B(1) + B(2) + b"".join(B(i) + W(len(gbk(s))) + gbk(s) for i, s in items)
    vec(0x8303, "set information menu", 2013, body,
        {"type": 1, "count": 2, "items": [{"type": i, "len": len(gbk(s)), "name": s} for i, s in items]},
        S13 % "0x8303: type B, count B, items (type B, len W, name)")
    vec(0x0303, "information order or cancel", 2013, B(2) + B(1), {"type": 2, "flag": 1},
        S13 % "0x0303: type B, flag B")
    c = "明天有雨"
    vec(0x8304, "information service", 2013, B(2) + W(len(gbk(c))) + gbk(c),
        {"type": 2, "len": len(gbk(c)), "content": c}, S13 % "0x8304: type B, len W, content")
    vec(0x8400, "call back", 2013, B(1) + gbk("13800138000"), {"flag": 1, "phone": "13800138000"},
        S13 % "0x8400: flag B, phone STRING to the end")
    ct = [(1, "13800138000", "调度"), (3, "95555", "Bank")]
    body = B(2) + B(2) + b"".join(B(f) + B(len(p)) + gbk(p) + B(len(gbk(n))) + gbk(n) for f, p, n in ct)
    vec(0x8401, "set phone book", 2013, body,
        {"type": 2, "count": 2, "contacts": [{"flag": f, "phone_len": len(p), "phone": p,
                                              "name_len": len(gbk(n)), "name": n} for f, p, n in ct]},
        S13 % "0x8401: type B, count B, contacts (flag B, len B, phone, len B, name)")

    vec(0x8500, "vehicle control", 2013, B(0x01), {"flag": 1}, S13 % "0x8500: control flag B")
    vec(0x8500, "vehicle control", 2019, W(1) + W(0x0001) + B(1),
        {"count": 1, "controls": [{"id": 1, "param": 1}]},
        S19 % "0x8500: count W, (control type id W, parameter; 0x0001 doors BYTE)")
    lb, lj = loc(items=B(0x01) + B(4) + DW(12345),
                 items_json=[{"id": "0x01", "len": 4, "value": 12345}])
    vec(0x0500, "vehicle control response", 2013, W(321) + lb, {"ack_serial": 321, "location": lj},
        S13 % "0x0500: ack serial W, location report body (§8.18)")

    # Areas (§8.33-8.40): attribute bit 0 -> start/end BCD[6]; bit 1 -> max speed W,
    # overspeed duration B (2019 + night max speed W); 2019: name len W, name.
    def area_tail(v, attr, name):
        b, j = b"", {}
        if attr & 1:
            b += bcd("260101000000", 6) + bcd("261231235959", 6)
            j.update({"start": "260101000000", "end": "261231235959"})
        if attr & 2:
            b += W(80) + B(15)
            j.update({"max_speed": 80, "overspeed_duration": 15})
            if v == 2019:
                b += W(60)
                j["night_max_speed"] = 60
        return b, j

    def area_name(v, name):
        if v != 2019:
            return b"", {}
        return W(len(gbk(name))) + gbk(name), {"name_len": len(gbk(name)), "name": name}

    for v in (2013, 2019):
        S = S13 if v == 2013 else S19
        areas_b, areas_j = b"", []
        for aid, attr in ((1, 3), (2, 0)):
            t, tj = area_tail(v, attr, "")
            n, nj = area_name(v, "园区%d" % aid)
            areas_b += DW(aid) + W(attr) + DW(30000000 + aid) + DW(120000000) + DW(500) + t + n
            a = {"id": aid, "attr": attr, "lat": 30000000 + aid, "lon": 120000000, "radius": 500}
            a.update(tj)
            a.update(nj)
            areas_j.append(a)
        vec(0x8600, "set circle area", v, B(0) + B(2) + areas_b,
            {"attr": 0, "count": 2, "areas": areas_j},
            S % "0x8600: set attribute B, count B, areas (id DW, attr W, centre DW DW, radius DW, conditional fields)")
        t, tj = area_tail(v, 2, "")
        n, nj = area_name(v, "仓库")
        body = B(1) + B(1) + DW(9) + W(2) + DW(31000000) + DW(121000000) + DW(30900000) + DW(121100000) + t + n
        a = {"id": 9, "attr": 2, "top_left_lat": 31000000, "top_left_lon": 121000000,
             "bottom_right_lat": 30900000, "bottom_right_lon": 121100000}
        a.update(tj)
        a.update(nj)
        vec(0x8602, "set rectangle area", v, body, {"attr": 1, "count": 1, "areas": [a]},
            S % "0x8602: set attribute B, count B, areas (id DW, attr W, corners DW x4, conditional fields)")
        # polygon: id DW, attr W, [start end], [max speed, duration], vertex count W,
        # vertices (lat DW, lon DW), 2019: [night max speed], name len W, name
        attr = 3
        t = bcd("260101000000", 6) + bcd("261231235959", 6) + W(80) + B(15)
        vs = [(30000000, 120000000), (30001000, 120000000), (30001000, 120001000)]
        body = DW(5) + W(attr) + t + W(len(vs)) + b"".join(DW(a) + DW(o) for a, o in vs)
        j = {"id": 5, "attr": attr, "start": "260101000000", "end": "261231235959", "max_speed": 80,
             "overspeed_duration": 15, "vertex_count": 3,
             "vertices": [{"lat": a, "lon": o} for a, o in vs]}
        if v == 2019:
            body += W(60) + W(len(gbk("三角"))) + gbk("三角")
            j.update({"night_max_speed": 60, "name_len": 4, "name": "三角"})
        vec(0x8604, "set polygon area", v, body, j,
            S % "0x8604: id DW, attr W, conditional times and speeds, vertex count W, vertices DW DW")
        # route: id DW, attr W, [start end], point count W, points: point id DW, road id DW,
        # lat DW, lon DW, width B, attr B, [long/short threshold W W if bit 0],
        # [max speed W, duration B if bit 1, 2019 + night max speed W]; 2019 name len W, name
        pts_b, pts_j = b"", []
        for pid, pattr in ((1, 3), (2, 0)):
            pb = DW(pid) + DW(100 + pid) + DW(30000000 + pid) + DW(120000000 + pid) + B(20) + B(pattr)
            pj = {"point_id": pid, "road_id": 100 + pid, "lat": 30000000 + pid, "lon": 120000000 + pid,
                  "width": 20, "attr": pattr}
            if pattr & 1:
                pb += W(600) + W(60)
                pj.update({"long_threshold": 600, "short_threshold": 60})
            if pattr & 2:
                pb += W(70) + B(5)
                pj.update({"max_speed": 70, "overspeed_duration": 5})
                if v == 2019:
                    pb += W(50)
                    pj["night_max_speed"] = 50
            pts_b += pb
            pts_j.append(pj)
        body = DW(7) + W(1) + bcd("260101000000", 6) + bcd("261231235959", 6) + W(2) + pts_b
        j = {"id": 7, "attr": 1, "start": "260101000000", "end": "261231235959", "point_count": 2,
             "points": pts_j}
        if v == 2019:
            body += W(len(gbk("线路A"))) + gbk("线路A")
            j.update({"name_len": len(gbk("线路A")), "name": "线路A"})
        vec(0x8606, "set route", v, body, j,
            S % "0x8606: id DW, attr W, times, point count W, points with conditional fields")
    for mid, nm in ((0x8601, "delete circle area"), (0x8603, "delete rectangle area"),
                    (0x8605, "delete polygon area"), (0x8607, "delete route")):
        vec(mid, nm, 2013, B(2) + DW(1) + DW(2), {"count": 2, "ids": [{"id": 1}, {"id": 2}]},
            S13 % ("0x%04X: count B, ids DW[n]" % mid))
    vec(0x8608, "query areas or routes", 2019, B(1) + DW(2) + DW(1) + DW(2),
        {"type": 1, "count": 2, "ids": [{"id": 1}, {"id": 2}]}, S19 % "0x8608: type B, count DW, ids DW[n]")
    data = DW(1) + W(0) + DW(30000001) + DW(120000000) + DW(500)
    vec(0x0608, "query areas or routes response", 2019, B(1) + DW(1) + data,
        {"type": 1, "count": 1, "data": hx(data)}, S19 % "0x0608: type B, count DW, area data")

    vec(0x8700, "tachograph data collection command", 2013, B(0x01) + bytes.fromhex("AA7500"),
        {"command": 1, "data": "AA7500"}, S13 % "0x8700: command B, data block")
    vec(0x0700, "tachograph data upload", 2013, W(12) + B(0x01) + bytes.fromhex("557A0100"),
        {"ack_serial": 12, "command": 1, "data": "557A0100"}, S13 % "0x0700: ack serial W, command B, data")
    vec(0x8701, "tachograph parameter command", 2013, B(0x82) + bytes.fromhex("AA75820000"),
        {"command": 0x82, "data": "AA75820000"}, S13 % "0x8701: command B, data block")
    wb = gbk("运单001")
    vec(0x0701, "electronic waybill report", 2013, DW(len(wb)) + wb, {"len": len(wb), "content": hx(wb)},
        S13 % "0x0701: length DW, content")
    # 0x0702 driver identity: state B, time BCD[6], when state 1: IC result B, when result 0:
    # name len B, name, certificate STRING[20], org len B, org, expiry BCD[4] (2019 + id STRING[20])
    for v in (2013, 2019):
        nm, org = "张三", "交通局"
        body = (B(1) + bcd("260315081530", 6) + B(0) + B(len(gbk(nm))) + gbk(nm) +
                fixed("C1234567890", 20) + B(len(gbk(org))) + gbk(org) + bcd("20301231", 4))
        j = {"state": 1, "time": "260315081530", "ic_result": 0, "name_len": 4, "name": nm,
             "certificate": "C1234567890", "org_len": 6, "org": org, "cert_expiry": "20301231"}
        if v == 2019:
            body += fixed("110101199001011234", 20)
            j["driver_id"] = "110101199001011234"
        vec(0x0702, "driver identity report", v, body, j,
            (S13 if v == 2013 else S19) % "0x0702: card inserted and read (state 1, result 0)")
    vec(0x0702, "driver identity report", 2013, B(2) + bcd("260315090000", 6),
        {"state": 2, "time": "260315090000"}, S13 % "0x0702: card removed (state 2): state and time only",
        " card removed")
    vec(0x8702, "driver identity request", 2013, b"", {}, S13 % "0x8702: empty body")
    body = W(2) + bcd("0815301234", 5) + DW(0x18FEF100) + bytes(range(8)) + DW(0x0CF00400) + bytes(range(8, 16))
    vec(0x0705, "CAN bus data upload", 2013, body,
        {"count": 2, "time": "0815301234", "items": [
            {"can_id": "18FEF100", "data": "0001020304050607"},
            {"can_id": "0CF00400", "data": "08090A0B0C0D0E0F"}]},
        S13 % "0x0705: count W, receive time BCD[5] hhmmssmsms, items (CAN id BYTE[4], data BYTE[8])")

    vec(0x0800, "multimedia event upload", 2013, DW(1001) + B(0) + B(0) + B(1) + B(1),
        {"media_id": 1001, "type": 0, "format": 0, "event": 1, "channel": 1},
        S13 % "0x0800: media id DW, type B, format B, event B, channel B")
    lb, lj = loc()
    jpeg = bytes.fromhex("FFD8FFE000104A46494600FFD9")
    vec(0x0801, "multimedia data upload", 2013, DW(1001) + B(0) + B(0) + B(1) + B(1) + lb + jpeg,
        {"media_id": 1001, "type": 0, "format": 0, "event": 1, "channel": 1, "location": lj,
         "data": hx(jpeg)}, S13 % "0x0801: media id DW, type, format, event, channel, location BYTE[28], data")
    vec(0x8800, "multimedia data upload response", 2013, DW(1001) + B(2) + W(3) + W(4),
        {"media_id": 1001, "count": 2, "ids": [{"id": 3}, {"id": 4}]},
        S13 % "0x8800: media id DW, retransmission count B, package ids W[n]")
    vec(0x8801, "camera shoot command", 2013,
        B(1) + W(2) + W(5) + B(1) + B(1) + B(5) + B(128) + B(64) + B(64) + B(128),
        {"channel": 1, "command": 2, "interval": 5, "save": 1, "resolution": 1, "quality": 5,
         "brightness": 128, "contrast": 64, "saturation": 64, "chroma": 128},
        S13 % "0x8801: channel B, command W, interval W, save B, resolution B, quality B, 4 x B")
    vec(0x0805, "camera shoot response", 2013, W(55) + B(0) + W(2) + DW(1001) + DW(1002),
        {"ack_serial": 55, "result": 0, "count": 2, "ids": [{"id": 1001}, {"id": 1002}]},
        S13 % "0x0805: ack serial W, result B, count W, media ids DW[n]")
    vec(0x0805, "camera shoot response", 2013, W(56) + B(1), {"ack_serial": 56, "result": 1},
        S13 % "0x0805: a failed shot has no count and no ids", " failed")
    vec(0x8802, "stored multimedia retrieval", 2013,
        B(0) + B(1) + B(0) + bcd("260301000000", 6) + bcd("260331235959", 6),
        {"type": 0, "channel": 1, "event": 0, "start": "260301000000", "end": "260331235959"},
        S13 % "0x8802: type B, channel B, event B, start BCD[6], end BCD[6]")
    lb, lj = loc()
    vec(0x0802, "stored multimedia retrieval response", 2013,
        W(60) + W(1) + DW(1001) + B(0) + B(1) + B(0) + lb,
        {"ack_serial": 60, "count": 1, "items": [
            {"media_id": 1001, "type": 0, "channel": 1, "event": 0, "location": lj}]},
        S13 % "0x0802: ack serial W, count W, items (id DW, type B, channel B, event B, location BYTE[28])")
    vec(0x8803, "stored multimedia upload command", 2013,
        B(0) + B(1) + B(0) + bcd("260301000000", 6) + bcd("260331235959", 6) + B(1),
        {"type": 0, "channel": 1, "event": 0, "start": "260301000000", "end": "260331235959",
         "delete": 1}, S13 % "0x8803: type, channel, event, start, end, delete flag B")
    vec(0x8804, "sound recording command", 2013, B(1) + W(30) + B(0) + B(1),
        {"command": 1, "duration": 30, "save": 0, "rate": 1},
        S13 % "0x8804: command B, duration W, save B, sampling rate B")
    vec(0x8805, "single stored multimedia upload command", 2013, DW(1001) + B(0),
        {"media_id": 1001, "delete": 0}, S13 % "0x8805: media id DW, delete flag B")
    vec(0x8900, "data downlink passthrough", 2013, B(0xF1) + bytes.fromhex("0102037E"),
        {"type": 0xF1, "data": "0102037E"}, S13 % "0x8900: type B, content")
    vec(0x0900, "data uplink passthrough", 2013, B(0x41) + bytes.fromhex("A1B2"),
        {"type": 0x41, "data": "A1B2"}, S13 % "0x0900: type B, content")
    content = gbk("压缩的消息体 compressed body " * 3)
    for kind, comp in (("gzip", gzip.compress(content, mtime=0)), ("zlib", zlib.compress(content))):
        vec(0x0901, "data compression report", 2013, DW(len(comp)) + comp,
            {"len": len(comp), "data": hx(comp), "data_inflated": hx(content)},
            S13 % ("0x0901: compressed length DW, compressed body (%s)" % kind), " " + kind)
    n = bytes((i * 37 + 11) & 0xFF for i in range(128))
    for mid, nm in ((0x8A00, "platform RSA public key"), (0x0A00, "terminal RSA public key")):
        vec(mid, nm, 2013, DW(65537) + n, {"e": 65537, "n": hx(n)}, S13 % ("0x%04X: e DW, n BYTE[128]" % mid))

    out = {"protocol": "jt808",
           "source": "JT/T 808-2013/2019 bodies of the layout engine, built by "
                     "tests/data/jt808_bodies_gen.py from the standard's byte layouts.",
           "vectors": VECTORS}
    print("{\"protocol\": \"jt808\",")
    print(" \"source\": %s," % json.dumps(out["source"], ensure_ascii=False))
    print(" \"vectors\": [")
    print(",\n".join("  " + json.dumps(v, ensure_ascii=False) for v in VECTORS))
    print(" ]}")


if __name__ == "__main__":
    main()
