/* The bodies of JT/T 808-2013 and -2019 that jt808_body.c does not type, as field
 * tables for the layout engine (jt808_layout.c).  Per field: name, kind, size, and
 * the edition (E13 / E19) or condition (BIT: a bit of an earlier field is set; EQ: an
 * earlier field has a value) under which it is on the wire.  ref/cref are indexes of
 * earlier fields of the same group (the [n] comments).
 *
 * Doubts, where the standard is silent or its editions and common practice differ:
 * - 0x0005 and 0x8004/0x0004/0x8204/0x8608/0x0608 are 2019 messages; a 2013 header is
 *   decoded with the same layout rather than refused.  0x8301-0x8304 and 0x0301-0x0303
 *   were removed in 2019; a 2019 header uses the 2013 layout.
 * - 0x8003: the count is a BYTE in 2013 and a WORD in 2019 (0x0005 has a WORD).
 * - 0x8500 (2019): count W then (control type id W, parameter); only id 0x0001 (doors,
 *   BYTE) is defined, so every parameter is read as one BYTE.
 * - 0x8600/0x8602/0x8604/0x8606 (2019): night maximum speed only when attribute bit 1
 *   is set; name length W and name are always present in 2019.
 * - 0x0608: the area/route data after type and count is kept as bytes (its layout
 *   follows the set command of the type).
 * - 0x0702: the fields after the IC card result only when the state is 1 (card
 *   inserted) and the result is 0 (read); 2019 adds the driver id number STRING[20].
 * - 0x0805: count and ids only when the result is 0 (success).
 * - 0x0801/0x0802: the location is the 28-byte basic part, without additional items.
 * - 0x8700/0x0700/0x8701: the data block (GB/T 19056) is kept as bytes.
 */
#include <stddef.h>

#include "sim/proto/jt808_layout.h"

#define N(a) ((uint8_t)(sizeof(a) / sizeof((a)[0])))
#define A 0, 0, 0, 0                    /* always */
#define E13 1, 0, 0, 0                  /* 2013 only */
#define E19 2, 0, 0, 0                  /* 2019 only */
#define BIT(c, b) 0, 1, c, b            /* bit b of field c set */
#define BIT19(c, b) 2, 1, c, b
#define EQ(c, v) 0, 2, c, v             /* field c == v */
#define EQ19(c, v) 2, 2, c, v
#define K(nm, kd, sz, n, ref, sub, nsub, ...) \
    {nm, JT808_FK_##kd, JT808_SZ_##sz, n, ref, __VA_ARGS__, sub, nsub, PFX nm}
#define U8(nm, W) K(nm, BYTE, FIXED, 1, 0, NULL, 0, W)
#define U16(nm, W) K(nm, WORD, FIXED, 2, 0, NULL, 0, W)
#define U32(nm, W) K(nm, DWORD, FIXED, 4, 0, NULL, 0, W)
#define BCD(nm, n, W) K(nm, BCD, FIXED, n, 0, NULL, 0, W)
#define BY(nm, n, W) K(nm, BYTES, FIXED, n, 0, NULL, 0, W)
#define BYR(nm, r, W) K(nm, BYTES, REF, 0, r, NULL, 0, W)
#define BYZ(nm, W) K(nm, BYTES, REST, 0, 0, NULL, 0, W)
#define ST(nm, n, W) K(nm, STRING, FIXED, n, 0, NULL, 0, W)
#define STR(nm, r, W) K(nm, STRING, REF, 0, r, NULL, 0, W)
#define STZ(nm, W) K(nm, STRING, REST, 0, 0, NULL, 0, W)
#define LST(nm, r, s, W) K(nm, LIST, REF, 0, r, s, N(s), W)
#define LSTZ(nm, s, W) K(nm, LIST, REST, 0, 0, s, N(s), W)
#define LOC(nm, n, W) K(nm, LOC, FIXED, n, 0, NULL, 0, W)
#define LOCZ(nm, W) K(nm, LOC, REST, 0, 0, NULL, 0, W)
#define ZIPR(nm, r, W) K(nm, ZIP, REF, 0, r, NULL, 0, W)

/* --- list items ------------------------------------------------------------- */
#define PFX "body.ids."
static const struct jt808_fd id_w[] = {U16("id", A)};
static const struct jt808_fd id_dw[] = {U32("id", A)};
#undef PFX
#define PFX "body.events."
static const struct jt808_fd event[] = {U8("id", A), U8("len", A), STR("content", 1, A)};
#undef PFX
#define PFX "body.answers."
static const struct jt808_fd answer[] = {U8("id", A), U16("len", A), STR("content", 1, A)};
#undef PFX
#define PFX "body.items."
static const struct jt808_fd info_item[] = {U8("type", A), U16("len", A), STR("name", 1, A)};
static const struct jt808_fd can_item[] = {BY("can_id", 4, A), BY("data", 8, A)};
static const struct jt808_fd media_item[] = {U32("media_id", A), U8("type", A), U8("channel", A),
                                             U8("event", A), LOC("location", 28, A)};
#undef PFX
#define PFX "body.contacts."
static const struct jt808_fd contact[] = {U8("flag", A), U8("phone_len", A), STR("phone", 1, A),
                                          U8("name_len", A), STR("name", 3, A)};
#undef PFX
#define PFX "body.controls."
static const struct jt808_fd control[] = {U16("id", A), U8("param", A)};
#undef PFX
#define PFX "body.areas."
static const struct jt808_fd circle[] = {
    U32("id", A), U16("attr", A), U32("lat", A), U32("lon", A), U32("radius", A),
    BCD("start", 6, BIT(1, 0)), BCD("end", 6, BIT(1, 0)), U16("max_speed", BIT(1, 1)),
    U8("overspeed_duration", BIT(1, 1)), U16("night_max_speed", BIT19(1, 1)),
    U16("name_len", E19), STR("name", 10, E19)};
static const struct jt808_fd rect[] = {
    U32("id", A), U16("attr", A), U32("top_left_lat", A), U32("top_left_lon", A),
    U32("bottom_right_lat", A), U32("bottom_right_lon", A), BCD("start", 6, BIT(1, 0)),
    BCD("end", 6, BIT(1, 0)), U16("max_speed", BIT(1, 1)), U8("overspeed_duration", BIT(1, 1)),
    U16("night_max_speed", BIT19(1, 1)), U16("name_len", E19), STR("name", 11, E19)};
#undef PFX
#define PFX "body.vertices."
static const struct jt808_fd vertex[] = {U32("lat", A), U32("lon", A)};
#undef PFX
#define PFX "body.points."
static const struct jt808_fd point[] = {
    U32("point_id", A), U32("road_id", A), U32("lat", A), U32("lon", A), U8("width", A),
    U8("attr", A), U16("long_threshold", BIT(5, 0)), U16("short_threshold", BIT(5, 0)),
    U16("max_speed", BIT(5, 1)), U8("overspeed_duration", BIT(5, 1)),
    U16("night_max_speed", BIT19(5, 1))};
#undef PFX

/* --- bodies ------------------------------------------------------------------ */
#define PFX "body."
static const struct jt808_fd b8003[] = {U16("orig_serial", A), U8("count", E13), U16("count", E19),
                                        LST("ids", 1, id_w, E13), LST("ids", 2, id_w, E19)};
static const struct jt808_fd b0005[] = {U16("orig_serial", A), U16("count", A), LST("ids", 1, id_w, A)};
static const struct jt808_fd b8004[] = {BCD("time", 6, A)};
static const struct jt808_fd b8106[] = {U8("count", A), LST("ids", 0, id_dw, A)};
static const struct jt808_fd b0107[] = {
    U16("type", A), ST("manufacturer", 5, E13), ST("manufacturer", 11, E19), ST("model", 20, E13),
    ST("model", 30, E19), ST("terminal_id", 7, E13), ST("terminal_id", 30, E19), BCD("iccid", 10, A),
    U8("hw_version_len", A), STR("hw_version", 8, A), U8("fw_version_len", A),
    STR("fw_version", 10, A), U8("gnss", A), U8("comm", A)};
static const struct jt808_fd b8202[] = {U16("interval", A), U32("duration", A)};
static const struct jt808_fd b8203[] = {U16("ack_serial", A), U32("alarm_type", A)};
static const struct jt808_fd b8301[] = {U8("type", A), U8("count", A), LST("events", 1, event, A)};
static const struct jt808_fd b0301[] = {U8("event_id", A)};
static const struct jt808_fd b8302[] = {U8("flag", A), U8("question_len", A), STR("question", 1, A),
                                        LSTZ("answers", answer, A)};
static const struct jt808_fd b0302[] = {U16("ack_serial", A), U8("answer_id", A)};
static const struct jt808_fd b8303[] = {U8("type", A), U8("count", A), LST("items", 1, info_item, A)};
static const struct jt808_fd b0303[] = {U8("type", A), U8("flag", A)};
static const struct jt808_fd b8304[] = {U8("type", A), U16("len", A), STR("content", 1, A)};
static const struct jt808_fd b8400[] = {U8("flag", A), STZ("phone", A)};
static const struct jt808_fd b8401[] = {U8("type", A), U8("count", A), LST("contacts", 1, contact, A)};
static const struct jt808_fd b8500[] = {U8("flag", E13), U16("count", E19),
                                        LST("controls", 1, control, E19)};
static const struct jt808_fd b0500[] = {U16("ack_serial", A), LOCZ("location", A)};
static const struct jt808_fd b8600[] = {U8("attr", A), U8("count", A), LST("areas", 1, circle, A)};
static const struct jt808_fd b8602[] = {U8("attr", A), U8("count", A), LST("areas", 1, rect, A)};
static const struct jt808_fd b8601[] = {U8("count", A), LST("ids", 0, id_dw, A)};
static const struct jt808_fd b8604[] = {
    U32("id", A), U16("attr", A), BCD("start", 6, BIT(1, 0)), BCD("end", 6, BIT(1, 0)),
    U16("max_speed", BIT(1, 1)), U8("overspeed_duration", BIT(1, 1)), U16("vertex_count", A),
    LST("vertices", 6, vertex, A), U16("night_max_speed", BIT19(1, 1)), U16("name_len", E19),
    STR("name", 9, E19)};
static const struct jt808_fd b8606[] = {
    U32("id", A), U16("attr", A), BCD("start", 6, BIT(1, 0)), BCD("end", 6, BIT(1, 0)),
    U16("point_count", A), LST("points", 4, point, A), U16("name_len", E19), STR("name", 6, E19)};
static const struct jt808_fd b8608[] = {U8("type", A), U32("count", A), LST("ids", 1, id_dw, A)};
static const struct jt808_fd b0608[] = {U8("type", A), U32("count", A), BYZ("data", A)};
static const struct jt808_fd b8700[] = {U8("command", A), BYZ("data", A)};
static const struct jt808_fd b0700[] = {U16("ack_serial", A), U8("command", A), BYZ("data", A)};
static const struct jt808_fd b0701[] = {U32("len", A), BYR("content", 0, A)};
static const struct jt808_fd b0702[] = {
    U8("state", A), BCD("time", 6, A), U8("ic_result", EQ(0, 1)), U8("name_len", EQ(2, 0)),
    STR("name", 3, EQ(2, 0)), ST("certificate", 20, EQ(2, 0)), U8("org_len", EQ(2, 0)),
    STR("org", 6, EQ(2, 0)), BCD("cert_expiry", 4, EQ(2, 0)), ST("driver_id", 20, EQ19(2, 0))};
static const struct jt808_fd b0705[] = {U16("count", A), BCD("time", 5, A), LST("items", 0, can_item, A)};
static const struct jt808_fd b0800[] = {U32("media_id", A), U8("type", A), U8("format", A),
                                        U8("event", A), U8("channel", A)};
static const struct jt808_fd b0801[] = {U32("media_id", A), U8("type", A), U8("format", A),
                                        U8("event", A), U8("channel", A), LOC("location", 28, A),
                                        BYZ("data", A)};
static const struct jt808_fd b8800[] = {U32("media_id", A), U8("count", A), LST("ids", 1, id_w, A)};
static const struct jt808_fd b8801[] = {
    U8("channel", A), U16("command", A), U16("interval", A), U8("save", A), U8("resolution", A),
    U8("quality", A), U8("brightness", A), U8("contrast", A), U8("saturation", A), U8("chroma", A)};
static const struct jt808_fd b0805[] = {U16("ack_serial", A), U8("result", A), U16("count", EQ(1, 0)),
                                        LST("ids", 2, id_dw, EQ(1, 0))};
static const struct jt808_fd b8802[] = {U8("type", A), U8("channel", A), U8("event", A),
                                        BCD("start", 6, A), BCD("end", 6, A)};
static const struct jt808_fd b0802[] = {U16("ack_serial", A), U16("count", A),
                                        LST("items", 1, media_item, A)};
static const struct jt808_fd b8803[] = {U8("type", A), U8("channel", A), U8("event", A),
                                        BCD("start", 6, A), BCD("end", 6, A), U8("delete", A)};
static const struct jt808_fd b8804[] = {U8("command", A), U16("duration", A), U8("save", A),
                                        U8("rate", A)};
static const struct jt808_fd b8805[] = {U32("media_id", A), U8("delete", A)};
static const struct jt808_fd b0900[] = {U8("type", A), BYZ("data", A)};
static const struct jt808_fd b0901[] = {U32("len", A), ZIPR("data", 0, A)};
static const struct jt808_fd b8A00[] = {U32("e", A), BY("n", 128, A)};
#undef PFX

#define L(id, name, f) {id, name, f, N(f)}
#define EMPTY(id, name) {id, name, NULL, 0}
static const struct jt808_layout layouts[] = {
    L(0x8003, "resend subpackage request", b8003),
    L(0x0005, "terminal resend subpackage request", b0005),
    EMPTY(0x0004, "query server time"),
    L(0x8004, "server time response", b8004),
    L(0x8106, "query specified terminal parameters", b8106),
    EMPTY(0x8107, "query terminal properties"),
    L(0x0107, "query terminal properties response", b0107),
    L(0x8202, "temporary location tracking", b8202),
    L(0x8203, "manual alarm confirmation", b8203),
    EMPTY(0x8204, "link check"),
    L(0x8301, "set events", b8301),
    L(0x0301, "event report", b0301),
    L(0x8302, "question", b8302),
    L(0x0302, "question answer", b0302),
    L(0x8303, "set information menu", b8303),
    L(0x0303, "information order or cancel", b0303),
    L(0x8304, "information service", b8304),
    L(0x8400, "call back", b8400),
    L(0x8401, "set phone book", b8401),
    L(0x8500, "vehicle control", b8500),
    L(0x0500, "vehicle control response", b0500),
    L(0x8600, "set circle area", b8600),
    L(0x8601, "delete circle area", b8601),
    L(0x8602, "set rectangle area", b8602),
    L(0x8603, "delete rectangle area", b8601),
    L(0x8604, "set polygon area", b8604),
    L(0x8605, "delete polygon area", b8601),
    L(0x8606, "set route", b8606),
    L(0x8607, "delete route", b8601),
    L(0x8608, "query areas or routes", b8608),
    L(0x0608, "query areas or routes response", b0608),
    L(0x8700, "tachograph data collection command", b8700),
    L(0x0700, "tachograph data upload", b0700),
    L(0x8701, "tachograph parameter command", b8700),
    L(0x0701, "electronic waybill report", b0701),
    L(0x0702, "driver identity report", b0702),
    EMPTY(0x8702, "driver identity request"),
    L(0x0705, "CAN bus data upload", b0705),
    L(0x0800, "multimedia event upload", b0800),
    L(0x0801, "multimedia data upload", b0801),
    L(0x8800, "multimedia data upload response", b8800),
    L(0x8801, "camera shoot command", b8801),
    L(0x0805, "camera shoot response", b0805),
    L(0x8802, "stored multimedia retrieval", b8802),
    L(0x0802, "stored multimedia retrieval response", b0802),
    L(0x8803, "stored multimedia upload command", b8803),
    L(0x8804, "sound recording command", b8804),
    L(0x8805, "single stored multimedia upload command", b8805),
    L(0x8900, "data downlink passthrough", b0900),
    L(0x0900, "data uplink passthrough", b0900),
    L(0x0901, "data compression report", b0901),
    L(0x8A00, "platform RSA public key", b8A00),
    L(0x0A00, "terminal RSA public key", b8A00),
};

const struct jt808_layout *jt808_lay_find(uint16_t msg_id)
{
    for (size_t i = 0; i < N(layouts); i++)
        if (layouts[i].id == msg_id)
            return &layouts[i];
    return NULL;
}

const struct jt808_layout *jt808_lay_all(size_t *n)
{
    *n = N(layouts);
    return layouts;
}
