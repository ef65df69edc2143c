#!/usr/bin/env python3
"""Builds vectors/pcodec.json: messages of the water meter's codec (profiles/watermeter.json),
their bytes laid out here with struct.pack from the codec's field tables (a message id
byte, then each field in order, big-endian; a scale of 0.01 stores value*100), without
fleetsim's codec; and the decode the codec must give, deviations and errors included.
Usage: gen_pcodec_vectors.py > vectors/pcodec.json"""
import json, struct

def u8(v): return struct.pack(">B", v)
def u16(v): return struct.pack(">H", v)
def i16(v): return struct.pack(">h", v)
def u32(v): return struct.pack(">I", v)

def report(mid, service, name, data, devs=None):
    d = {"message": name, "kind": "report", "serviceId": service, "data": data}
    if devs:
        d["deviations"] = devs
    return d

V = []
def vec(name, source, up, raw, fields=None, error=None, encode=True):
    v = {"name": name, "source": source, "direction": "up" if up else "down", "hex": raw.hex().upper()}
    if fields is not None:
        v["fields"] = fields
        if encode and "deviations" not in fields:
            v["encode"] = True   # encoding fields.data (with mid, errcode) gives these bytes back
    if error is not None:
        v["error"] = error
    V.append(v)

B = "WaterMeterBasic"
vec("basic-report", "codec message basicReport (id 1): registerFlow uint32 x0.01, currentReading uint32 x0.01, "
    "temperature int16 x0.1, pressure uint16 x0.001, meterIdLength uint8, meterId varstring", True,
    u8(1) + u32(123456) + u32(1234) + i16(215) + u16(350) + u8(6) + b"WM0001",
    report(1, B, "basicReport", {"registerFlow": 1234.56, "currentReading": 12.34, "temperature": 21.5,
                                 "pressure": 0.35, "meterId": "WM0001"}))
vec("basic-report-frost", "basicReport with a negative temperature (int16 two's complement) and an empty meterId", True,
    u8(1) + u32(0) + u32(0) + i16(-125) + u16(0) + u8(0),
    report(1, B, "basicReport", {"registerFlow": 0, "currentReading": 0, "temperature": -12.5, "pressure": 0,
                                 "meterId": ""}))
vec("alarm-report", "codec message alarmReport (id 2): alarmType uint8, lowBattery bool, leakage bool", True,
    u8(2) + u8(3) + u8(1) + u8(0),
    report(2, "WaterMeterAlarm", "alarmReport", {"alarmType": 3, "lowBattery": True, "leakage": False}))
vec("battery-report", "codec message batteryReport (id 3): batteryLevel uint8, batteryVoltage uint16 x0.01", True,
    u8(3) + u8(87) + u16(345),
    report(3, "Battery", "batteryReport", {"batteryLevel": 87, "batteryVoltage": 3.45}))
vec("connectivity-report", "codec message connectivityReport (id 4): signalStrength int16, cellId uint32, ecl uint8, "
    "iccid string of 20 bytes", True,
    u8(4) + i16(-90) + u32(1234567) + u8(1) + b"89860012345678901234",
    report(4, "Connectivity", "connectivityReport", {"signalStrength": -90, "cellId": 1234567, "ecl": 1,
                                                     "iccid": "89860012345678901234"}))
vec("connectivity-report-short-iccid", "connectivityReport with an iccid of 19 characters: the fixed string is "
    "padded with NUL, which the decode drops", True,
    u8(4) + i16(-110) + u32(7) + u8(2) + b"8986001234567890123\0",
    report(4, "Connectivity", "connectivityReport", {"signalStrength": -110, "cellId": 7, "ecl": 2,
                                                     "iccid": "8986001234567890123"}))
vec("set-read-period", "codec message setReadPeriod (id 16, a command): mid uint16, value uint16", False,
    u8(16) + u16(7) + u16(60),
    {"message": "setReadPeriod", "kind": "command", "serviceId": B, "command": "SET_TEMPERATURE_READ_PERIOD",
     "mid": 7, "data": {"value": 60}})
vec("set-read-period-ack", "codec message setReadPeriodAck (id 17, a response): mid uint16, errcode uint8, result uint8",
    True, u8(17) + u16(7) + u8(0) + u8(0),
    {"message": "setReadPeriodAck", "kind": "response", "serviceId": B, "command": "SET_TEMPERATURE_READ_PERIOD",
     "mid": 7, "errcode": 0, "data": {"result": 0}})
vec("set-report-period", "codec message setReportPeriod (id 18): mid uint16, period uint32", False,
    u8(18) + u16(42) + u32(3600),
    {"message": "setReportPeriod", "kind": "command", "serviceId": "DeliverySchedule", "command": "SET_REPORT_PERIOD",
     "mid": 42, "data": {"period": 3600}})
vec("set-report-period-ack-failed", "codec message setReportPeriodAck (id 19): mid, errcode 1 (the device refused), "
    "result 1, the period it kept", True, u8(19) + u16(42) + u8(1) + u8(1) + u32(900),
    {"message": "setReportPeriodAck", "kind": "response", "serviceId": "DeliverySchedule",
     "command": "SET_REPORT_PERIOD", "mid": 42, "errcode": 1, "data": {"result": 1, "period": 900}})
# deviations: read anyway, reported
vec("basic-report-out-of-range-trailing", "basicReport whose pressure 3.000 MPa is past the model's max 2.5, "
    "followed by one byte no field holds", True,
    u8(1) + u32(1) + u32(2) + i16(200) + u16(3000) + u8(1) + b"A" + b"\xAA",
    report(1, B, "basicReport", {"registerFlow": 0.01, "currentReading": 0.02, "temperature": 20, "pressure": 3,
                                 "meterId": "A"},
           [{"kind": "out-of-range", "field": "pressure", "offset": 11,
             "text": "3 is outside pressure's range 0..2.5"},
            {"kind": "trailing-bytes", "offset": 15, "text": "1 byte after the last field of basicReport"}]))
vec("alarm-report-odd-values", "alarmReport with alarmType 7 (not in its enumList 0-3) and lowBattery 2 "
    "(a bool byte is 0 or 1)", True, u8(2) + u8(7) + u8(2) + u8(0),
    report(2, "WaterMeterAlarm", "alarmReport", {"alarmType": 7, "lowBattery": True, "leakage": False},
           [{"kind": "not-in-enum", "field": "alarmType", "offset": 1, "text": "7 is not in alarmType's enumList"},
            {"kind": "bool-value", "field": "lowBattery", "offset": 2, "text": "2 for a bool (0 or 1)"}]))
# errors: the bytes cannot be read
vec("unknown-message", "message id 9: no message from the device has it", True, u8(9) + u8(0),
    error={"offset": 0, "text": "field messageId (uint8) at offset 0: 9 is no message from the device"})
vec("command-id-upstream", "message id 16 is a command: from the device it is unknown", True,
    u8(16) + u16(7) + u16(60),
    error={"offset": 0, "text": "field messageId (uint8) at offset 0: 16 is no message from the device"})
vec("battery-short", "batteryReport cut after the first byte of batteryVoltage", True, u8(3) + u8(50) + u8(1),
    error={"offset": 2, "text": "field batteryVoltage (uint16) at offset 2: needs 2 bytes, 1 left"})
vec("meter-id-length-past-end", "basicReport whose meterIdLength says 6 bytes where 1 is left", True,
    u8(1) + u32(1) + u32(2) + i16(200) + u16(300) + u8(6) + b"W",
    error={"offset": 14, "text": "field meterId (varstring) at offset 14: its length field meterIdLength says "
           "6 bytes, 1 left"})
vec("empty", "no bytes at all", True, b"",
    error={"offset": 0, "text": "field messageId (uint8) at offset 0: needs 1 byte, 0 there"})

print(json.dumps({"protocol": "pcodec", "profile": "profiles/watermeter.json",
                  "source": "profiles/watermeter.json: the water meter of 004 §3 with this project's codec "
                            "layout; bytes built by tests/data/gen_pcodec_vectors.py from the field tables",
                  "vectors": V}, indent=2, ensure_ascii=False))
