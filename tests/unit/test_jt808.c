/* JT/T 808 codec: hand-built frames, layouts, escaping, every error code with its
 * offset, reassembly, GBK, and the golden vectors in vectors/jt808.json both ways. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sim/proto/hex.h"
#include "sim/proto/jt808.h"
#include "sim/proto/jt808_json.h"

#define VECTORS "vectors/jt808.json"

/* Release a message from new_msg: its arena, then the struct. */
static void msg_del(struct jt808_msg *m)
{
    if (m)
        jt808_msg_free(m);
    free(m);
}

static struct jt808_msg *new_msg(void)
{
    struct jt808_msg *m = calloc(1, sizeof *m);
    assert_non_null(m);
    return m;
}

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = 0;
    assert_int_equal(hex_decode(s, strlen(s), HEX_STRICT, out, cap, &n, NULL), HEX_OK);
    return n;
}

static void assert_bytes(const uint8_t *got, size_t got_n, const uint8_t *want, size_t want_n)
{
    if (got_n != want_n || memcmp(got, want, want_n) != 0) {
        fprintf(stderr, "got  ");
        for (size_t i = 0; i < got_n; i++)
            fprintf(stderr, "%02X", got[i]);
        fprintf(stderr, "\nwant ");
        for (size_t i = 0; i < want_n; i++)
            fprintf(stderr, "%02X", want[i]);
        fprintf(stderr, "\n");
        fail_msg("byte mismatch");
    }
}

/* Decode a hex frame, expecting an error. */
static void expect_error(const char *hex, enum jt808_rc rc, size_t offset, const char *field)
{
    uint8_t wire[4096], scratch[4096];
    size_t n = unhex(hex, wire, sizeof wire);
    struct jt808_msg *m = new_msg();
    struct jt808_err e;
    enum jt808_rc got = jt808_decode(wire, n, scratch, sizeof scratch, m, &e);
    if (got != rc || e.offset != offset || strcmp(e.field, field) != 0)
        fail_msg("%s: got %s@%zu %s, want %s@%zu %s", hex, jt808_rc_name(got), e.offset,
                 e.field ? e.field : "-", jt808_rc_name(rc), offset, field);
    assert_int_equal(e.rc, rc);
    msg_del(m);
}

/* --- hand-built frames ------------------------------------------------------ */

/* 0x0200, 2013 header, serial 0x7E01 (escaped), two items; every byte from the layout. */
static const uint8_t frame_0200_2013[] = {
    0x7E,
    0x02, 0x00,                         /* msg id */
    0x00, 0x25,                         /* properties: 2013, no subpackage, body 37 bytes */
    0x01, 0x39, 0x12, 0x34, 0x56, 0x78, /* phone BCD[6] 013912345678 */
    0x7D, 0x02, 0x01,                   /* serial 0x7E01, 0x7E escaped */
    0x00, 0x00, 0x00, 0x00,             /* alarm */
    0x00, 0x00, 0x00, 0x03,             /* status: ACC on, positioned */
    0x01, 0xDC, 0x89, 0xD0,             /* lat 31230416 */
    0x07, 0x3D, 0x8A, 0xA5,             /* lon 121473701 */
    0x00, 0x0C,                         /* altitude 12 m */
    0x02, 0x5D,                         /* speed 60.5 km/h */
    0x00, 0x5A,                         /* direction 90 */
    0x24, 0x03, 0x15, 0x08, 0x30, 0x00, /* 24-03-15 08:30:00 */
    0x01, 0x04, 0x00, 0x01, 0xE2, 0x40, /* item 0x01 mileage 123456 */
    0x30, 0x01, 0x1C,                   /* item 0x30 signal 28 */
    0x72,                               /* XOR of the 49 unescaped bytes */
    0x7E,
};

static void fill_loc(struct jt808_location *l)
{
    memset(l, 0, sizeof *l);
    l->status = 3;
    l->lat = 31230416;
    l->lon = 121473701;
    l->altitude = 12;
    l->speed = 605;
    l->direction = 90;
    strcpy(l->time, "240315083000");
}

static void test_hand_frame_2013(void **state)
{
    struct jt808_msg *m = new_msg();
    m->h.msg_id = 0x0200;
    m->h.version = JT808_V2013;
    strcpy(m->h.phone, "13912345678"); /* left-padded to 12 digits */
    m->h.serial = 0x7E01;
    fill_loc(&m->b.loc);
    struct jt808_loc_item its[2];
    m->b.loc.items = its;
    m->b.loc.n_items = 2;
    m->b.loc.items[0] = (struct jt808_loc_item){.id = 0x01, .len = 4, .value = 123456, .known = true};
    m->b.loc.items[1] = (struct jt808_loc_item){.id = 0x30, .len = 0, .value = 28, .known = true};
    uint8_t out[JT808_MAX_FRAME];
    size_t n = 0;
    struct jt808_err e;
    assert_int_equal(jt808_encode(m, out, sizeof out, &n, &e), JT808_OK);
    assert_bytes(out, n, frame_0200_2013, sizeof frame_0200_2013);

    uint8_t scratch[256];
    struct jt808_msg *d = new_msg();
    assert_int_equal(jt808_decode(frame_0200_2013, sizeof frame_0200_2013, scratch, sizeof scratch, d, &e),
                     JT808_OK);
    assert_int_equal(d->h.msg_id, 0x0200);
    assert_int_equal(d->h.body_len, 37);
    assert_int_equal(d->h.serial, 0x7E01);
    assert_int_equal(d->h.version, JT808_V2013);
    assert_string_equal(d->h.phone, "013912345678");
    assert_int_equal(d->body_bytes, 37);
    assert_int_equal(d->b.loc.lat, 31230416);
    assert_int_equal(d->b.loc.lon, 121473701);
    assert_int_equal(d->b.loc.speed, 605);
    assert_string_equal(d->b.loc.time, "240315083000");
    assert_int_equal(d->b.loc.n_items, 2);
    assert_int_equal(d->b.loc.items[0].value, 123456);
    assert_true(d->b.loc.items[0].known);
    assert_int_equal(d->b.loc.items[1].id, 0x30);
    assert_int_equal(d->b.loc.items[1].len, 1);
    assert_int_equal(d->b.loc.items[1].value, 28);
    msg_del(m);
    msg_del(d);
}

/* 0x0102, 2019 header: auth code length, code, IMEI B[15], software version B[20]. */
static const uint8_t frame_0102_2019[] = {
    0x7E,
    0x01, 0x02,                   /* msg id */
    0x40, 0x27,                   /* properties: version flag, body 39 bytes */
    0x01,                         /* protocol version */
    0x00, 0x00, 0x00, 0x00, 0x01, /* phone BCD[10] 00000000013912345678 */
    0x39, 0x12, 0x34, 0x56, 0x78,
    0x00, 0x2A,                   /* serial 42 */
    0x03, 'A', 'C', '7',          /* auth code length 3, "AC7" */
    '8', '6', '1', '2', '3', '4', '5', '6', '7', '8', '9', '0', '1', '2', '3', /* IMEI */
    'V', '1', '.', '0', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,        /* sw version */
    0x0F,                         /* XOR check */
    0x7E,
};

static void test_hand_frame_2019(void **state)
{
    struct jt808_msg *m = new_msg();
    m->h.msg_id = 0x0102;
    m->h.version = JT808_V2019;
    m->h.proto_version = 1;
    strcpy(m->h.phone, "13912345678");
    m->h.serial = 42;
    strcpy(m->b.auth.auth_code, "AC7");
    strcpy(m->b.auth.imei, "861234567890123");
    strcpy(m->b.auth.sw_version, "V1.0");
    uint8_t out[JT808_MAX_FRAME];
    size_t n = 0;
    struct jt808_err e;
    assert_int_equal(jt808_encode(m, out, sizeof out, &n, &e), JT808_OK);
    assert_bytes(out, n, frame_0102_2019, sizeof frame_0102_2019);

    uint8_t scratch[256];
    struct jt808_msg *d = new_msg();
    assert_int_equal(jt808_decode(frame_0102_2019, sizeof frame_0102_2019, scratch, sizeof scratch, d, &e),
                     JT808_OK);
    assert_int_equal(d->h.version, JT808_V2019);
    assert_int_equal(d->h.proto_version, 1);
    assert_string_equal(d->h.phone, "00000000013912345678");
    assert_string_equal(d->b.auth.auth_code, "AC7");
    assert_string_equal(d->b.auth.imei, "861234567890123");
    assert_string_equal(d->b.auth.sw_version, "V1.0");
    msg_del(m);
    msg_del(d);
}

/* --- body layouts, table-driven ----------------------------------------------- */

struct layout_case {
    uint16_t msg_id;
    enum jt808_version v;
    const char *body_hex; /* written from the standard's table */
    const char *json;     /* the typed body as jt808_to_json prints it */
};

static const struct layout_case layouts[] = {
    {0x0001, JT808_V2013, "0007810300", "{\"ack_serial\":7,\"ack_id\":\"0x8103\",\"result\":0}"},
    {0x8001, JT808_V2019, "FFFF020004", "{\"ack_serial\":65535,\"ack_id\":\"0x0200\",\"result\":4}"},
    {0x0002, JT808_V2013, "", "{}"},
    {0x0003, JT808_V2019, "", "{}"},
    {0x8104, JT808_V2013, "", "{}"},
    {0x8201, JT808_V2019, "", "{}"},
    {0x0100, JT808_V2013, "001F0073" "464C54534D" "46532D31303030" "00" "54303030303031" "01" "413132333435",
     "{\"layout\":\"2011\",\"province\":31,\"city\":115,\"manufacturer\":\"FLTSM\",\"model\":\"FS-1000\","
     "\"terminal_id\":\"T000001\",\"plate_color\":1,\"plate\":\"A12345\"}"},
    {0x0100, JT808_V2013,
     "000B0065" "464C54534D" "4D4F44454C2D3230313300000000000000000000" "54303030303032" "00" "",
     "{\"layout\":\"2013\",\"province\":11,\"city\":101,\"manufacturer\":\"FLTSM\",\"model\":\"MODEL-2013\","
     "\"terminal_id\":\"T000002\",\"plate_color\":0,\"plate\":\"\"}"},
    {0x0100, JT808_V2019,
     "002C012C" "464C45455453494D303031"
     "4D3139000000000000000000000000000000000000000000000000000000"
     "5431390000000000000000000000000000000000000000000000000000" "00"
     "02" "D4C142313233343536",
     "{\"layout\":\"2019\",\"province\":44,\"city\":300,\"manufacturer\":\"FLEETSIM001\",\"model\":\"M19\","
     "\"terminal_id\":\"T19\",\"plate_color\":2,\"plate\":\"粤B123456\"}"},
    {0x8100, JT808_V2013, "000100" "414243", "{\"ack_serial\":1,\"result\":0,\"auth_code\":\"ABC\"}"},
    {0x8100, JT808_V2013, "000104", "{\"ack_serial\":1,\"result\":4}"},
    {0x0102, JT808_V2013, "414243", "{\"auth_code\":\"ABC\"}"},
    {0x0200, JT808_V2013,
     "80000001" "0000000C" "02054A2C" "0436B4E4" "FFFF" "0000" "0167" "991231235959",
     "{\"alarm\":2147483649,\"status\":12,\"lat\":33901100,\"lon\":70694116,\"altitude\":65535,\"speed\":0,"
     "\"direction\":359,\"time\":\"991231235959\",\"items\":[]}"},
    {0x0200, JT808_V2019,
     "00000000" "00000000" "00000000" "00000000" "0000" "0000" "0000" "000000000000"
     "0202" "01F4" "0302" "0258" "2504" "00000001" "2A02" "0003" "2B04" "00120034" "3101" "0C" "E000",
     "{\"alarm\":0,\"status\":0,\"lat\":0,\"lon\":0,\"altitude\":0,\"speed\":0,\"direction\":0,"
     "\"time\":\"000000000000\",\"items\":[{\"id\":\"0x02\",\"len\":2,\"value\":500},"
     "{\"id\":\"0x03\",\"len\":2,\"value\":600},{\"id\":\"0x25\",\"len\":4,\"value\":1},"
     "{\"id\":\"0x2A\",\"len\":2,\"value\":3},{\"id\":\"0x2B\",\"len\":4,\"value\":1179700},"
     "{\"id\":\"0x31\",\"len\":1,\"value\":12},{\"id\":\"0xE0\",\"len\":0,\"raw\":\"\"}]}"},
    {0x0201, JT808_V2013,
     "0009" "00000000" "00000002" "00000001" "00000002" "0003" "0004" "0005" "240101000000",
     "{\"ack_serial\":9,\"location\":{\"alarm\":0,\"status\":2,\"lat\":1,\"lon\":2,\"altitude\":3,"
     "\"speed\":4,\"direction\":5,\"time\":\"240101000000\",\"items\":[]}}"},
    {0x0704, JT808_V2019,
     "0001" "01" "001F" "00000000" "00000002" "00000001" "00000002" "0003" "0004" "0005" "240101000000"
     "300114",
     "{\"count\":1,\"type\":1,\"locations\":[{\"alarm\":0,\"status\":2,\"lat\":1,\"lon\":2,\"altitude\":3,"
     "\"speed\":4,\"direction\":5,\"time\":\"240101000000\",\"items\":[{\"id\":\"0x30\",\"len\":1,\"value\":20}]}]}"},
    {0x8103, JT808_V2013,
     "04" "0000000104" "0000001E" "0000001305" "68656C6C6F" "0000008102" "001F" "0000008401" "02",
     "{\"count\":4,\"params\":[{\"id\":\"0x0001\",\"len\":4,\"value\":30},"
     "{\"id\":\"0x0013\",\"len\":5,\"value\":\"hello\"},{\"id\":\"0x0081\",\"len\":2,\"value\":31},"
     "{\"id\":\"0x0084\",\"len\":1,\"value\":2}]}"},
    {0x0104, JT808_V2019, "0102" "01" "F000000103" "AABBCC",
     "{\"ack_serial\":258,\"count\":1,\"params\":[{\"id\":\"0xF0000001\",\"len\":3,\"raw\":\"AABBCC\"}]}"},
    {0x8105, JT808_V2013, "07" "7777772E6578616D706C652E636F6D",
     "{\"command\":7,\"params\":\"www.example.com\"}"},
    {0x8300, JT808_V2013, "08" "C4E3BAC3", "{\"flag\":8,\"text\":\"你好\"}"},
    {0x8300, JT808_V2019, "01" "02" "4869", "{\"flag\":1,\"text_type\":2,\"text\":\"Hi\"}"},
    {0x8108, JT808_V2013, "0C" "4142434445" "03" "312E30" "00000004" "01020304",
     "{\"type\":12,\"manufacturer\":\"ABCDE\",\"version\":\"1.0\",\"package_len\":4,\"package_hex\":\"01020304\"}"},
    {0x8108, JT808_V2019, "34" "4142430000000000000000" "00" "00000100" "",
     "{\"type\":52,\"manufacturer\":\"ABC\",\"version\":\"\",\"package_len\":256,\"package_hex\":\"\"}"},
    {0x0108, JT808_V2013, "0001", "{\"type\":0,\"result\":1}"},
};

static void test_layouts(void **state)
{
    struct jt808_msg *m = new_msg();
    struct jt808_msg *b = new_msg();
    for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++) {
        const struct layout_case *c = &layouts[i];
        uint8_t body[1100], out[1100];
        size_t n = unhex(c->body_hex, body, sizeof body), on = 0;
        struct jt808_err e = {0};
        memset(&m->h, 0, sizeof m->h);
        m->h.msg_id = c->msg_id;
        m->h.version = c->v;
        m->body = NULL;
        enum jt808_rc rc = jt808_body_decode(body, n, m, &e);
        if (rc != JT808_OK)
            fail_msg("case %zu (0x%04X): %s at %zu %s", i, c->msg_id, jt808_rc_name(rc), e.offset, e.field);
        strcpy(m->h.phone, "1");
        m->body = body;
        m->body_bytes = n;
        cJSON *j = jt808_to_json(m);
        cJSON *want = cJSON_Parse(c->json);
        assert_non_null(want);
        if (!cJSON_Compare(cJSON_GetObjectItem(j, "body"), want, true)) {
            char *s = cJSON_PrintUnformatted(cJSON_GetObjectItem(j, "body"));
            fail_msg("case %zu (0x%04X): body json %s", i, c->msg_id, s);
        }
        /* Typed encode (no raw body) must give the same bytes back. */
        m->body = NULL;
        assert_int_equal(jt808_body_encode(m, out, sizeof out, &on, &e), JT808_OK);
        assert_bytes(out, on, body, n);
        /* And from the JSON form. */
        static uint8_t store[1100];
        char err[200];
        assert_int_equal(jt808_from_json(j, b, store, sizeof store, err, sizeof err), JT808_OK);
        assert_int_equal(jt808_body_encode(b, out, sizeof out, &on, &e), JT808_OK);
        assert_bytes(out, on, body, n);
        cJSON_Delete(j);
        cJSON_Delete(want);
    }
    msg_del(m);
    msg_del(b);
}

/* Body-level errors with body offsets (jt808_body_decode). */
static void expect_body_error(uint16_t id, enum jt808_version v, const char *hex, enum jt808_rc rc,
                              size_t off, const char *field)
{
    uint8_t body[1100];
    size_t n = unhex(hex, body, sizeof body);
    struct jt808_msg *m = new_msg();
    m->h.msg_id = id;
    m->h.version = v;
    struct jt808_err e = {0};
    enum jt808_rc got = jt808_body_decode(body, n, m, &e);
    if (got != rc || e.offset != off || strcmp(e.field, field) != 0)
        fail_msg("0x%04X %s: got %s@%zu %s, want %s@%zu %s", id, hex, jt808_rc_name(got), e.offset,
                 e.field ? e.field : "-", jt808_rc_name(rc), off, field);
    msg_del(m);
}

/* Body-level deviations: decoding succeeds and the first deviation is kind@off field. */
static void expect_body_dev(uint16_t id, enum jt808_version v, const char *hex, enum jt808_dev_kind kind,
                            size_t off, const char *field)
{
    uint8_t body[1100];
    size_t n = unhex(hex, body, sizeof body);
    struct jt808_msg *m = new_msg();
    m->h.msg_id = id;
    m->h.version = v;
    struct jt808_err e = {0};
    enum jt808_rc got = jt808_body_decode(body, n, m, &e);
    if (got != JT808_OK || m->devs.n == 0 || m->devs.d[0].kind != kind || m->devs.d[0].offset != off ||
        strcmp(m->devs.d[0].field, field) != 0)
        fail_msg("0x%04X %s: got %s, %u deviations (%s@%zu %s), want %s@%zu %s", id, hex, jt808_rc_name(got),
                 m->devs.n, m->devs.n ? jt808_dev_name(m->devs.d[0].kind) : "-", m->devs.n ? m->devs.d[0].offset : 0,
                 m->devs.n ? m->devs.d[0].field : "-", jt808_dev_name(kind), off, field);
    msg_del(m);
}

static void test_layout_errors(void **state)
{
    /* 0x0081 (province, WORD) sent with length 1; its length byte is body offset 24 */
    expect_body_dev(0x8103, JT808_V2013,
                    "04" "0000000104" "0000001E" "0000001305" "68656C6C6F" "0000008101" "1F" "0000008401" "02",
                    JT808_DEV_PARAM_LENGTH, 24, "body.params[0x0081]");
    expect_body_error(0x0001, JT808_V2013, "00078103", JT808_E_SHORT, 4, "body.result");
    expect_body_error(0x0001, JT808_V2013, "000781", JT808_E_SHORT, 2, "body.ack_id");
    expect_body_dev(0x8001, JT808_V2013, "000781030000", JT808_DEV_TRAILING_BYTES, 5, "body");
    expect_body_dev(0x0002, JT808_V2019, "00", JT808_DEV_TRAILING_BYTES, 0, "body");
    expect_body_dev(0x8104, JT808_V2013, "0102", JT808_DEV_TRAILING_BYTES, 0, "body");
    expect_body_dev(0x8201, JT808_V2013, "01", JT808_DEV_TRAILING_BYTES, 0, "body");
    expect_body_dev(0x0003, JT808_V2013, "01", JT808_DEV_TRAILING_BYTES, 0, "body");
    expect_body_dev(0x0108, JT808_V2013, "000100", JT808_DEV_TRAILING_BYTES, 2, "body");
    expect_body_error(0x0200, JT808_V2013, "0000000000000000", JT808_E_SHORT, 8, "body.lat");
    /* each known item with a wrong length: kept raw */
    static const struct { const char *item, *field; } items[] = {
        {"0103000001", "body.items[0x01]"}, {"020100", "body.items[0x02]"},
        {"03030000FF", "body.items[0x03]"}, {"2502AAAA", "body.items[0x25]"},
        {"2A0100", "body.items[0x2A]"}, {"2B020000", "body.items[0x2B]"},
        {"30020000", "body.items[0x30]"}, {"3100", "body.items[0x31]"},
    };
    const char *base = "00000000" "00000000" "00000000" "00000000" "0000" "0000" "0000" "240101000000";
    for (size_t i = 0; i < sizeof items / sizeof items[0]; i++) {
        char hex[200];
        snprintf(hex, sizeof hex, "%s%s", base, items[i].item);
        expect_body_dev(0x0200, JT808_V2013, hex, JT808_DEV_ITEM_LENGTH, 29, items[i].field);
    }
    char hex[300];
    snprintf(hex, sizeof hex, "%s%s", base, "0104000000");        /* known item cut short */
    expect_body_dev(0x0200, JT808_V2013, hex, JT808_DEV_ITEM_TRUNCATED, 29, "body.items[0x01]");
    snprintf(hex, sizeof hex, "%s%s", base, "E1");                /* id without a length */
    expect_body_dev(0x0200, JT808_V2013, hex, JT808_DEV_ITEM_TRUNCATED, 28, "body.items.len");
    expect_body_error(0x0200, JT808_V2013, "00000000" "00000000" "00000000" "00000000" "0000" "0000" "0000" "2401010000F0",
                      JT808_E_BCD, 27, "body.time");
    snprintf(hex, sizeof hex, "0009%s%s", base, "010400");
    expect_body_dev(0x0201, JT808_V2013, hex, JT808_DEV_ITEM_TRUNCATED, 31, "body.location.items[0x01]");
    /* 0x0704: the item's length bounds its location; a trailing byte after the count */
    snprintf(hex, sizeof hex, "000100001D%s%s", base, "3002");
    expect_body_dev(0x0704, JT808_V2013, hex, JT808_DEV_ITEM_TRUNCATED, 33, "body.locations.items.len");
    snprintf(hex, sizeof hex, "000100001C%s%s", base, "FF");
    expect_body_dev(0x0704, JT808_V2013, hex, JT808_DEV_TRAILING_BYTES, 33, "body");
    expect_body_dev(0x0704, JT808_V2013, "002100", JT808_DEV_COUNT_OVERRUN, 0, "body.count");
    snprintf(hex, sizeof hex, "000200003C%s", base);              /* location length past the body */
    expect_body_dev(0x0704, JT808_V2013, hex, JT808_DEV_ITEM_TRUNCATED, 3, "body.locations.len");
    /* parameters */
    expect_body_dev(0x8103, JT808_V2013, "0100000001", JT808_DEV_ITEM_TRUNCATED, 1, "body.params.id");
    expect_body_dev(0x8103, JT808_V2013, "010000000104000000", JT808_DEV_ITEM_TRUNCATED, 5, "body.params[0x0001]");
    expect_body_dev(0x8103, JT808_V2013, "0100000084020001", JT808_DEV_PARAM_LENGTH, 5, "body.params[0x0084]");
    expect_body_dev(0x8103, JT808_V2013, "0100000031040000000A", JT808_DEV_PARAM_LENGTH, 5, "body.params[0x0031]");
    expect_body_dev(0x8103, JT808_V2013, "02000000840101", JT808_DEV_COUNT_OVERRUN, 0, "body.count");
    expect_body_dev(0x8103, JT808_V2013, "00FF", JT808_DEV_TRAILING_BYTES, 1, "body");
    expect_body_dev(0x8103, JT808_V2013, "41", JT808_DEV_COUNT_OVERRUN, 0, "body.count");
    expect_body_error(0x0104, JT808_V2013, "0001", JT808_E_SHORT, 2, "body.count");
    expect_body_error(0x8103, JT808_V2013, "010000001302FFFF", JT808_E_ENCODING, 6, "body.params[0x0013]");
    /* registration */
    expect_body_error(0x0100, JT808_V2013, "001F0073464C54", JT808_E_SHORT, 4, "body.manufacturer");
    expect_body_error(0x0100, JT808_V2019, "001F0073464C54534D00000000000000", JT808_E_SHORT, 15, "body.model");
    expect_body_error(0x0100, JT808_V2013, "001F0073" "464C00534D" "46532D31303030" "00" "54303030303031" "01",
                      JT808_E_VALUE, 4, "body.manufacturer");
    expect_body_error(0x0100, JT808_V2013, "001F0073" "464C54534D" "46532D31303030" "00" "54303030303031" "01" "FFFF",
                      JT808_E_ENCODING, 25, "body.plate");
    /* auth 2019 */
    expect_body_error(0x0102, JT808_V2019, "", JT808_E_SHORT, 0, "body.auth_code_len");
    expect_body_error(0x0102, JT808_V2019, "0141" "383631323334353637383930313233", JT808_E_SHORT, 17,
                      "body.sw_version");
    expect_body_dev(0x0102, JT808_V2019,
                      "0141" "383631323334353637383930313233" "5631000000000000000000000000000000000000" "00",
                      JT808_DEV_TRAILING_BYTES, 37, "body");
    /* text too long for the struct field is E_NOSPACE, not truncation */
    char longhex[2100];
    strcpy(longhex, "00");
    for (int i = 0; i < (int)sizeof(((struct jt808_auth *)0)->auth_code); i++)
        strcat(longhex, "41");
    expect_body_error(0x0102, JT808_V2013, longhex + 2, JT808_E_NOSPACE, 0, "body.auth_code");
    /* upgrade */
    expect_body_error(0x8108, JT808_V2013, "00414243444503312E30000000", JT808_E_SHORT, 10, "body.package_len");
    expect_body_error(0x8108, JT808_V2013, "0041424344450A312E30", JT808_E_SHORT, 7, "body.version");
    expect_body_error(0x8300, JT808_V2019, "01", JT808_E_SHORT, 1, "body.text_type");
    expect_body_error(0x8105, JT808_V2013, "", JT808_E_SHORT, 0, "body.command");
}

/* 2011 vs 2013 registration is decided by body length alone. */
static void test_register_layouts(void **state)
{
    struct jt808_msg *m = new_msg();
    uint8_t out[1100];
    size_t n = 0;
    struct jt808_err e;
    m->h.msg_id = 0x0100;
    m->h.version = JT808_V2013;
    m->b.reg.layout = JT808_REG_2011;
    strcpy(m->b.reg.manufacturer, "FLTSM");
    strcpy(m->b.reg.plate, "ABCDEFGHIJK"); /* 25 + 11 = 36: still 2011 */
    assert_int_equal(jt808_body_encode(m, out, sizeof out, &n, &e), JT808_OK);
    assert_int_equal(n, 36);
    struct jt808_msg *d = new_msg();
    d->h = m->h;
    assert_int_equal(jt808_body_decode(out, n, d, &e), JT808_OK);
    assert_int_equal(d->b.reg.layout, JT808_REG_2011);
    assert_string_equal(d->b.reg.plate, "ABCDEFGHIJK");

    strcpy(m->b.reg.plate, "ABCDEFGHIJKL"); /* 37 bytes would read back as 2013 */
    assert_int_equal(jt808_body_encode(m, out, sizeof out, &n, &e), JT808_E_VALUE);
    assert_string_equal(e.field, "body.plate");
    assert_int_equal(e.offset, 25);

    m->b.reg.layout = JT808_REG_2013;
    strcpy(m->b.reg.plate, "");
    assert_int_equal(jt808_body_encode(m, out, sizeof out, &n, &e), JT808_OK);
    assert_int_equal(n, 37);
    assert_int_equal(jt808_body_decode(out, n, d, &e), JT808_OK);
    assert_int_equal(d->b.reg.layout, JT808_REG_2013);

    m->b.reg.layout = JT808_REG_2019; /* on a 2013 header */
    assert_int_equal(jt808_body_encode(m, out, sizeof out, &n, &e), JT808_E_VALUE);
    assert_string_equal(e.field, "body.layout");
    m->h.version = JT808_V2019;
    assert_int_equal(jt808_body_encode(m, out, sizeof out, &n, &e), JT808_OK);
    assert_int_equal(n, 76);
    m->b.reg.layout = JT808_REG_2013; /* on a 2019 header */
    assert_int_equal(jt808_body_encode(m, out, sizeof out, &n, &e), JT808_E_VALUE);

    /* fixed fields: too long for B[5] is refused, not cut */
    m->h.version = JT808_V2013;
    strcpy(m->b.reg.manufacturer, "FLTSMX");
    assert_int_equal(jt808_body_encode(m, out, sizeof out, &n, &e), JT808_E_VALUE);
    assert_string_equal(e.field, "body.manufacturer");
    assert_int_equal(e.offset, 4);
    msg_del(m);
    msg_del(d);
}

/* --- escaping and the frame layer ------------------------------------------- */

static void test_escape(void **state)
{
    static const struct { const char *raw, *wire; } cases[] = {
        {"7E", "7D02"}, {"7D", "7D01"}, {"7D02", "7D0102"}, {"7D01", "7D0101"},
        {"7E7E7D7D", "7D027D027D017D01"}, {"01027F7C", "01027F7C"}, {"", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t raw[16], wire[32], out[32];
        size_t rn = unhex(cases[i].raw, raw, sizeof raw), wn = unhex(cases[i].wire, wire, sizeof wire), n = 99;
        assert_int_equal(jt808_escape(raw, rn, out, sizeof out, &n), JT808_OK);
        assert_bytes(out, n, wire, wn);
        struct jt808_err e;
        assert_int_equal(jt808_unescape(wire, wn, out, sizeof out, &n, &e), JT808_OK);
        assert_bytes(out, n, raw, rn);
    }
    /* every byte value round-trips */
    uint8_t all[256], wire[512], back[256];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    size_t wn = 0, bn = 0;
    assert_int_equal(jt808_escape(all, 256, wire, sizeof wire, &wn), JT808_OK);
    assert_int_equal(wn, 258);
    assert_null(memchr(wire, 0x7E, wn));
    struct jt808_err e;
    assert_int_equal(jt808_unescape(wire, wn, back, sizeof back, &bn, &e), JT808_OK);
    assert_bytes(back, bn, all, 256);
    /* no room for the second byte of an escape */
    uint8_t one = 0x7E, small[1];
    assert_int_equal(jt808_escape(&one, 1, small, 1, &wn), JT808_E_NOSPACE);
    /* unescape errors point at the 7D */
    static const struct { const char *wire; enum jt808_rc rc; size_t off; } bad[] = {
        {"017D", JT808_E_ESCAPE, 1}, {"7D00", JT808_E_ESCAPE, 0}, {"00017D03", JT808_E_ESCAPE, 2},
        {"7D7D01", JT808_E_ESCAPE, 0}, {"017E", JT808_E_FLAG, 1},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t w[8], o[8];
        size_t n = unhex(bad[i].wire, w, sizeof w), on;
        assert_int_equal(jt808_unescape(w, n, o, sizeof o, &on, &e), bad[i].rc);
        assert_int_equal(e.offset, bad[i].off);
    }
    uint8_t w2[] = {1, 2, 3};
    uint8_t o2[2];
    size_t on;
    assert_int_equal(jt808_unescape(w2, 3, o2, 2, &on, &e), JT808_E_NOSPACE);
    assert_int_equal(jt808_xor(w2, 3), 0);
    assert_int_equal(jt808_xor(w2, 0), 0);
}

static void test_frame_find(void **state)
{
    size_t start = 99, len = 99, skipped = 99;
    const uint8_t two[] = {0xAA, 0xBB, 0x7E, 1, 2, 0x7E, 0x7E, 3, 0x7E, 0x7E, 4};
    assert_int_equal(jt808_frame_find(two, sizeof two, &start, &len, &skipped), 6);
    assert_int_equal(start, 2);
    assert_int_equal(len, 4);
    assert_int_equal(jt808_frame_find(two + 6, sizeof two - 6, &start, &len, &skipped), 3);
    assert_int_equal(start, 0);
    assert_int_equal(len, 3);
    /* 7E 4: incomplete, nothing to drop */
    assert_int_equal(jt808_frame_find(two + 9, 2, &start, &len, &skipped), 0);
    assert_int_equal(skipped, 0);
    /* garbage only */
    const uint8_t junk[] = {1, 2, 3};
    assert_int_equal(jt808_frame_find(junk, 3, &start, &len, &skipped), 0);
    assert_int_equal(skipped, 3);
    assert_int_equal(jt808_frame_find(junk, 0, &start, &len, &skipped), 0);
    assert_int_equal(skipped, 0);
    /* 7E 7E 5 7E: an empty pair resyncs on the second flag */
    const uint8_t pair[] = {9, 0x7E, 0x7E, 5, 0x7E};
    assert_int_equal(jt808_frame_find(pair, sizeof pair, &start, &len, &skipped), 5);
    assert_int_equal(start, 2);
    assert_int_equal(len, 3);
    /* partial frame after garbage: the garbage may go */
    const uint8_t part[] = {1, 1, 0x7E, 2, 3};
    assert_int_equal(jt808_frame_find(part, sizeof part, &start, &len, &skipped), 0);
    assert_int_equal(skipped, 2);
    /* a start flag with no end in more than a maximal frame is dropped entirely */
    static uint8_t big[JT808_MAX_FRAME + 10];
    memset(big, 1, sizeof big);
    big[3] = 0x7E;
    assert_int_equal(jt808_frame_find(big, sizeof big, &start, &len, &skipped), 0);
    assert_int_equal(skipped, sizeof big);
    /* a hand frame is found whole */
    assert_int_equal(jt808_frame_find(frame_0200_2013, sizeof frame_0200_2013, &start, &len, &skipped),
                     sizeof frame_0200_2013);
    assert_int_equal(start, 0);
    assert_int_equal(len, sizeof frame_0200_2013);
}

/* Every error code, with its offset, through jt808_decode where a frame can carry it. */
static void test_frame_errors(void **state)
{
    struct jt808_msg *m = new_msg();
    uint8_t scratch[64];
    struct jt808_err e;
    assert_int_equal(jt808_decode(NULL, 0, scratch, sizeof scratch, m, &e), JT808_E_SHORT);
    assert_int_equal(e.offset, 0);
    expect_error("7E", JT808_E_SHORT, 1, "end_flag");
    expect_error("7E7E", JT808_E_SHORT, 1, "check");
    expect_error("7E017E", JT808_E_CHECK, 1, "check");
    expect_error("7E007E", JT808_E_SHORT, 1, "header.msg_id");
    expect_error("7E000200027E", JT808_E_SHORT, 3, "header.props");
    expect_error("017E", JT808_E_FLAG, 0, "start_flag");
    expect_error("7E00020000013912345678000121", JT808_E_FLAG, 13, "end_flag");
    expect_error("7E000200000139123456787D0300017E", JT808_E_ESCAPE, 11, "escape");
    expect_error("7E000200000139123456780001207E", JT808_E_CHECK, 13, "check");
    /* check byte escaped: the offset is where its escape starts */
    expect_error("7E000200000139123456780001217D027E", JT808_E_CHECK, 14, "check");
    msg_del(m);
}

static void test_frame_errors_2(void **state)
{
    /* 00 02 00 00 01 39 AA 34 56 78 00 01 XORs to 0x8B */
    expect_error("7E000200000139AA3456780001007E", JT808_E_CHECK, 13, "check");
    expect_error("7E000200000139AA34567800018B7E", JT808_E_BCD, 7, "header.phone");
    /* serial cut after one byte: 00 02 00 00 01 39 12 34 56 78 00 XORs to 0x32 */
    expect_error("7E0002000001391234567800327E", JT808_E_SHORT, 11, "header.serial");
}

static void test_frame_errors_3(void **state)
{
    /* 08 01 20 00 01 39 12 34 56 78 00 01 00 00 00 01: total 0 at raw 12 -> wire 13 */
    uint8_t raw[] = {0x08, 0x01, 0x20, 0x00, 0x01, 0x39, 0x12, 0x34, 0x56, 0x78, 0x00, 0x01,
                     0x00, 0x00, 0x00, 0x01};
    uint8_t wire[40], scratch[40];
    size_t n = 0;
    wire[0] = 0x7E;
    memcpy(wire + 1, raw, sizeof raw);
    wire[1 + sizeof raw] = jt808_xor(raw, sizeof raw);
    wire[2 + sizeof raw] = 0x7E;
    n = sizeof raw + 3;
    struct jt808_msg *m = new_msg();
    struct jt808_err e;
    assert_int_equal(jt808_decode(wire, n, scratch, sizeof scratch, m, &e), JT808_E_SUBPKG);
    assert_int_equal(e.offset, 13);
    assert_string_equal(e.field, "header.pkg_total");
    /* scratch too small */
    assert_int_equal(jt808_decode(frame_0200_2013, sizeof frame_0200_2013, scratch, 10, m, &e),
                     JT808_E_NOSPACE);
    /* unknown id decodes with its raw body only */
    uint8_t raw2[] = {0x12, 0x34, 0x00, 0x02, 0x01, 0x39, 0x12, 0x34, 0x56, 0x78, 0x00, 0x05, 0xAB, 0xCD};
    memcpy(wire + 1, raw2, sizeof raw2);
    wire[1 + sizeof raw2] = jt808_xor(raw2, sizeof raw2);
    wire[2 + sizeof raw2] = 0x7E;
    assert_int_equal(jt808_decode(wire, sizeof raw2 + 3, scratch, sizeof scratch, m, &e), JT808_OK);
    assert_int_equal(m->h.msg_id, 0x1234);
    assert_int_equal(m->body_bytes, 2);
    assert_int_equal(m->body[0], 0xAB);
    assert_false(jt808_msg_known(0x1234));
    assert_null(jt808_msg_name(0x1234));
    /* it re-encodes from the raw body, and refuses without one */
    uint8_t out[64];
    size_t on = 0;
    assert_int_equal(jt808_encode(m, out, sizeof out, &on, &e), JT808_OK);
    assert_bytes(out, on, wire, sizeof raw2 + 3);
    m->body = NULL;
    assert_int_equal(jt808_encode(m, out, sizeof out, &on, &e), JT808_E_UNKNOWN_ID);
    assert_string_equal(e.field, "header.msg_id");
    assert_int_equal(jt808_body_encode(m, out, sizeof out, &on, &e), JT808_E_UNKNOWN_ID);
    msg_del(m);
}

static void test_encode_errors(void **state)
{
    struct jt808_msg *m = new_msg();
    uint8_t out[JT808_MAX_FRAME];
    size_t n = 0;
    struct jt808_err e;
    m->h.msg_id = 0x0002;
    strcpy(m->h.phone, "1391234567X");
    assert_int_equal(jt808_encode(m, out, sizeof out, &n, &e), JT808_E_VALUE);
    assert_string_equal(e.field, "header.phone");
    strcpy(m->h.phone, "1234567890123"); /* 13 digits do not fit BCD[6] */
    assert_int_equal(jt808_encode(m, out, sizeof out, &n, &e), JT808_E_VALUE);
    m->h.version = JT808_V2019;
    assert_int_equal(jt808_encode(m, out, sizeof out, &n, &e), JT808_OK);
    assert_int_equal(n, 20); /* 7E + 17 header + check + 7E */
    m->h.encryption = 8;
    assert_int_equal(jt808_encode(m, out, sizeof out, &n, &e), JT808_E_VALUE);
    assert_string_equal(e.field, "header.encryption");
    m->h.encryption = 0;
    m->h.subpackage = true;
    m->h.pkg_total = 2;
    m->h.pkg_index = 3;
    assert_int_equal(jt808_encode(m, out, sizeof out, &n, &e), JT808_E_SUBPKG);
    assert_string_equal(e.field, "header.pkg_index");
    m->h.subpackage = false;
    /* output too small */
    assert_int_equal(jt808_encode(m, out, 10, &n, &e), JT808_E_NOSPACE);
    assert_int_equal(jt808_encode(m, out, 19, &n, &e), JT808_E_NOSPACE);
    assert_int_equal(jt808_encode(m, out, 20, &n, &e), JT808_OK);
    /* raw body over 1023 bytes */
    static uint8_t big[1024];
    m->body = big;
    m->body_bytes = sizeof big;
    assert_int_equal(jt808_encode(m, out, sizeof out, &n, &e), JT808_E_LENGTH);
    m->body_bytes = 1023;
    assert_int_equal(jt808_encode(m, out, sizeof out, &n, &e), JT808_OK);
    m->body = NULL;
    /* typed body over 1023 bytes: text of 1023 bytes plus the flag */
    m->h.msg_id = 0x8300;
    memset(m->b.text.text, 'a', 1022);
    m->b.text.text[1022] = '\0';
    assert_int_equal(jt808_encode(m, out, sizeof out, &n, &e), JT808_E_LENGTH); /* 2019: flag+type+1022 */
    m->h.version = JT808_V2013;
    strcpy(m->h.phone, "13912345678");
    assert_int_equal(jt808_encode(m, out, sizeof out, &n, &e), JT808_OK);
    assert_int_equal(n, 1 + 12 + 1023 + 1 + 1);
    /* location: bad time, unknown "known" item, item value too wide, wrong item len */
    m->h.msg_id = 0x0200;
    fill_loc(&m->b.loc);
    strcpy(m->b.loc.time, "2403150830");
    assert_int_equal(jt808_encode(m, out, sizeof out, &n, &e), JT808_E_VALUE);
    assert_string_equal(e.field, "body.time");
    strcpy(m->b.loc.time, "24031508300A");
    assert_int_equal(jt808_encode(m, out, sizeof out, &n, &e), JT808_E_VALUE);
    strcpy(m->b.loc.time, "240315083000");
    struct jt808_loc_item its[1];
    m->b.loc.items = its;
    m->b.loc.n_items = 1;
    m->b.loc.items[0] = (struct jt808_loc_item){.id = 0x77, .known = true, .value = 1};
    assert_int_equal(jt808_encode(m, out, sizeof out, &n, &e), JT808_E_UNKNOWN_ID);
    assert_string_equal(e.field, "body.items.id");
    m->b.loc.items[0] = (struct jt808_loc_item){.id = 0x30, .known = true, .value = 256};
    assert_int_equal(jt808_encode(m, out, sizeof out, &n, &e), JT808_E_VALUE);
    assert_string_equal(e.field, "body.items[0x30]");
    m->b.loc.items[0] = (struct jt808_loc_item){.id = 0x02, .len = 4, .known = true, .value = 1};
    assert_int_equal(jt808_encode(m, out, sizeof out, &n, &e), JT808_E_LENGTH);
    assert_string_equal(e.field, "body.items[0x02]");
    /* a raw item with a known id goes out as given (to build malformed reports) */
    m->b.loc.items[0] = (struct jt808_loc_item){.id = 0x02, .len = 3, .known = false, .raw = {1, 2, 3}};
    assert_int_equal(jt808_encode(m, out, sizeof out, &n, &e), JT808_OK);
    uint8_t scratch[JT808_MAX_FRAME];
    struct jt808_msg *d = new_msg();
    assert_int_equal(jt808_decode(out, n, scratch, sizeof scratch, d, &e), JT808_OK);
    assert_int_equal(d->devs.n, 1);
    assert_int_equal(d->devs.d[0].kind, JT808_DEV_ITEM_LENGTH);
    assert_string_equal(d->devs.d[0].field, "body.items[0x02]");
    assert_int_equal(jt808_decode_strict(out, n, scratch, sizeof scratch, d, &e), JT808_E_DEVIATION);
    assert_string_equal(e.field, "body.items[0x02]");
    assert_int_equal(e.offset, d->devs.d[0].offset);
    /* parameters: numeric len mismatch, value too wide */
    m->h.msg_id = 0x8103;
    struct jt808_param ps[1];
    m->b.params.params = ps;
    m->b.params.count = m->b.params.n_params = 1;
    m->b.params.params[0] = (struct jt808_param){.id = 0x0031, .type = JT808_PT_WORD, .len = 4, .num = 1};
    assert_int_equal(jt808_encode(m, out, sizeof out, &n, &e), JT808_E_LENGTH);
    assert_string_equal(e.field, "body.params[0x0031]");
    m->b.params.params[0] = (struct jt808_param){.id = 0x0031, .type = JT808_PT_WORD, .num = 70000};
    assert_int_equal(jt808_encode(m, out, sizeof out, &n, &e), JT808_E_VALUE);
    /* text that GBK cannot hold */
    m->h.msg_id = 0x8300;
    strcpy(m->b.text.text, "emoji \xF0\x9F\x98\x80");
    assert_int_equal(jt808_encode(m, out, sizeof out, &n, &e), JT808_E_ENCODING);
    assert_string_equal(e.field, "body.text");
    strcpy(m->b.text.text, "bad \xC3");
    assert_int_equal(jt808_encode(m, out, sizeof out, &n, &e), JT808_E_ENCODING);
    msg_del(m);
    msg_del(d);
}

/* Truncations and random byte changes of a frame never crash, and errors point inside it. */
static void test_mutations(void **state)
{
    const uint8_t *base = frame_0200_2013;
    size_t bn = sizeof frame_0200_2013;
    uint8_t buf[128], scratch[128];
    struct jt808_msg *m = new_msg();
    struct jt808_err e;
    for (size_t cut = 0; cut <= bn; cut++) {
        memcpy(buf, base, cut);
        enum jt808_rc rc = jt808_decode(buf, cut, scratch, sizeof scratch, m, &e);
        if (cut < bn)
            assert_int_not_equal(rc, JT808_OK);
        if (rc != JT808_OK)
            assert_true(e.offset <= cut);
    }
    uint32_t seed = 12345;
    for (int round = 0; round < 20000; round++) {
        memcpy(buf, base, bn);
        for (int k = 0; k < 3; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t pos = 1 + (seed >> 8) % (bn - 2);
            seed = seed * 1103515245u + 12345u;
            buf[pos] = (uint8_t)(seed >> 16);
        }
        enum jt808_rc rc = jt808_decode(buf, bn, scratch, sizeof scratch, m, &e);
        if (rc != JT808_OK)
            assert_true(e.offset < bn);
    }
    msg_del(m);
}

/* --- BCD and GBK -------------------------------------------------------------- */

static void test_bcd(void **state)
{
    uint8_t b[10];
    char s[21];
    /* 2020-01-01 00:00:00 UTC is 08:00 in GMT+8; 16:00 UTC is past midnight there */
    jt808_time_text(1577836800, s);
    assert_string_equal(s, "200101080000");
    jt808_time_text(1577836800 + 16 * 3600 + 61, s);
    assert_string_equal(s, "200102000101");
    assert_int_equal(jt808_bcd_encode("13912345678", b, 6), JT808_OK);
    assert_bytes(b, 6, (const uint8_t[]){0x01, 0x39, 0x12, 0x34, 0x56, 0x78}, 6);
    assert_int_equal(jt808_bcd_encode("", b, 2), JT808_OK);
    assert_bytes(b, 2, (const uint8_t[]){0, 0}, 2);
    assert_int_equal(jt808_bcd_encode("12345", b, 2), JT808_E_VALUE);
    assert_int_equal(jt808_bcd_encode("12a4", b, 2), JT808_E_VALUE);
    assert_int_equal(jt808_bcd_decode((const uint8_t[]){0x01, 0x39}, 2, s, NULL), JT808_OK);
    assert_string_equal(s, "0139");
    size_t bad = 99;
    assert_int_equal(jt808_bcd_decode((const uint8_t[]){0x01, 0x39, 0xA0}, 3, s, &bad), JT808_E_BCD);
    assert_int_equal(bad, 2);
    assert_int_equal(jt808_bcd_decode((const uint8_t[]){0x0F}, 1, s, &bad), JT808_E_BCD);
    assert_int_equal(bad, 0);
}

static void test_gbk(void **state)
{
    uint8_t g[32];
    size_t n = 0;
    assert_int_equal(jt808_utf8_to_gbk("京A12345", g, sizeof g, &n), JT808_OK);
    assert_bytes(g, n, (const uint8_t[]){0xBE, 0xA9, 'A', '1', '2', '3', '4', '5'}, 8);
    char u[32];
    assert_int_equal(jt808_gbk_to_utf8(g, n, u, sizeof u), JT808_OK);
    assert_string_equal(u, "京A12345");
    assert_int_equal(jt808_utf8_to_gbk("京A12345", g, 7, &n), JT808_E_NOSPACE);
    assert_int_equal(jt808_utf8_to_gbk("ABC", g, 2, &n), JT808_E_NOSPACE);
    assert_int_equal(jt808_gbk_to_utf8(g, 8, u, 9), JT808_E_NOSPACE); /* needs 10 with the NUL */
    assert_int_equal(jt808_gbk_to_utf8(g, 8, u, 10), JT808_OK);
    assert_int_equal(jt808_gbk_to_utf8((const uint8_t *)"AB", 2, u, 2), JT808_E_NOSPACE);
    assert_int_equal(jt808_gbk_to_utf8((const uint8_t[]){0xBE}, 1, u, sizeof u), JT808_E_ENCODING);
    assert_int_equal(jt808_gbk_to_utf8((const uint8_t[]){'A', 0, 'B'}, 3, u, sizeof u), JT808_E_ENCODING);
    assert_int_equal(jt808_utf8_to_gbk("\xFF", g, sizeof g, &n), JT808_E_ENCODING);

    /* the plate through a whole 0x0100 frame and back */
    struct jt808_msg *m = new_msg();
    m->h.msg_id = 0x0100;
    m->h.version = JT808_V2013;
    strcpy(m->h.phone, "13912345678");
    m->b.reg.layout = JT808_REG_2013;
    strcpy(m->b.reg.manufacturer, "FLTSM");
    strcpy(m->b.reg.model, "M1");
    strcpy(m->b.reg.terminal_id, "T1");
    m->b.reg.plate_color = 2;
    strcpy(m->b.reg.plate, "京A12345");
    uint8_t out[256], scratch[256];
    struct jt808_err e;
    assert_int_equal(jt808_encode(m, out, sizeof out, &n, &e), JT808_OK);
    assert_int_equal(n, 1 + 12 + 37 + 8 + 1 + 1);
    assert_int_equal(out[13 + 37], 0xBE);
    assert_int_equal(out[13 + 38], 0xA9);
    struct jt808_msg *d = new_msg();
    assert_int_equal(jt808_decode(out, n, scratch, sizeof scratch, d, &e), JT808_OK);
    assert_string_equal(d->b.reg.plate, "京A12345");
    assert_string_equal(d->b.reg.model, "M1");
    assert_int_equal(d->b.reg.layout, JT808_REG_2013);
    msg_del(m);
    msg_del(d);
}

static void test_names(void **state)
{
    assert_string_equal(jt808_rc_name(JT808_E_CHECK), "check");
    assert_string_equal(jt808_rc_name(JT808_E_SUBPKG), "subpkg");
    assert_string_equal(jt808_rc_name(JT808_OK), "ok");
    assert_string_equal(jt808_rc_name((enum jt808_rc)99), "unknown");
    assert_string_equal(jt808_rc_text(JT808_E_CHECK), "check byte mismatch");
    for (int rc = JT808_OK; rc <= JT808_E_SUBPKG; rc++) {
        assert_non_null(jt808_rc_name((enum jt808_rc)rc));
        assert_non_null(jt808_rc_text((enum jt808_rc)rc));
    }
    assert_string_equal(jt808_msg_name(0x0200), "location report");
    assert_true(jt808_msg_known(0x8201));
    assert_true(jt808_msg_known(0x0900)); /* a layout body (jt808_layouts.c) */
    assert_false(jt808_msg_known(0x0F01));
    assert_string_equal(jt808_msg_name(0x0900), "data uplink passthrough");
    static const uint16_t typed[] = {0x0001, 0x8001, 0x0002, 0x0003, 0x0100, 0x8100, 0x0102, 0x0200,
                                     0x0704, 0x8103, 0x8104, 0x0104, 0x8105, 0x8201, 0x0201, 0x8300,
                                     0x8108, 0x0108};
    for (size_t i = 0; i < sizeof typed / sizeof typed[0]; i++) {
        assert_true(jt808_msg_known(typed[i]));
        assert_non_null(jt808_msg_name(typed[i]));
    }
    static const struct { uint32_t id; enum jt808_param_type t; } pt[] = {
        {0x0001, JT808_PT_DWORD}, {0x0002, JT808_PT_DWORD}, {0x0003, JT808_PT_DWORD},
        {0x0004, JT808_PT_DWORD}, {0x0005, JT808_PT_DWORD}, {0x0006, JT808_PT_DWORD},
        {0x0007, JT808_PT_DWORD}, {0x0018, JT808_PT_DWORD}, {0x0019, JT808_PT_DWORD},
        {0x0020, JT808_PT_DWORD}, {0x0021, JT808_PT_DWORD}, {0x0022, JT808_PT_DWORD},
        {0x0027, JT808_PT_DWORD}, {0x0028, JT808_PT_DWORD}, {0x0029, JT808_PT_DWORD},
        {0x002C, JT808_PT_DWORD}, {0x0030, JT808_PT_DWORD}, {0x0050, JT808_PT_DWORD},
        {0x0055, JT808_PT_DWORD}, {0x0056, JT808_PT_DWORD}, {0x0080, JT808_PT_DWORD},
        {0x0031, JT808_PT_WORD}, {0x0081, JT808_PT_WORD}, {0x0082, JT808_PT_WORD},
        {0x0084, JT808_PT_BYTE}, {0x0010, JT808_PT_STRING}, {0x0011, JT808_PT_STRING},
        {0x0012, JT808_PT_STRING}, {0x0013, JT808_PT_STRING}, {0x0017, JT808_PT_STRING},
        {0x0083, JT808_PT_STRING}, {0xF001, JT808_PT_RAW}, {0x0032, JT808_PT_BYTES},
        {0x0023, JT808_PT_STRING}, {0x0026, JT808_PT_STRING}, {0x0110, JT808_PT_BYTES},
        {0x0111, JT808_PT_BYTES}, {0x01FF, JT808_PT_BYTES}, {0x0200, JT808_PT_RAW},
        {0x0008, JT808_PT_RAW}, {0x002A, JT808_PT_RAW},
    };
    for (size_t i = 0; i < sizeof pt / sizeof pt[0]; i++)
        assert_int_equal(jt808_param_type_of(pt[i].id), pt[i].t);
    /* sizes, and which edition's table lists the id */
    assert_int_equal(jt808_param_size(0x0032), 4);
    assert_int_equal(jt808_param_size(0x0110), 8);
    assert_int_equal(jt808_param_size(0x0150), 8);
    assert_int_equal(jt808_param_size(0x0031), 2);
    assert_int_equal(jt808_param_size(0x0083), 0);
    assert_int_equal(jt808_param_editions(0x0023), JT808_PE_2019);
    assert_int_equal(jt808_param_editions(0x0032), JT808_PE_2019);
    assert_int_equal(jt808_param_editions(0x0110), JT808_PE_2013 | JT808_PE_2019);
    assert_int_equal(jt808_param_editions(0x0001), JT808_PE_2013 | JT808_PE_2019);
    assert_int_equal(jt808_param_editions(0xF001), 0);
}

/* --- reassembly --------------------------------------------------------------- */

static struct jt808_header frag_hdr(uint16_t id, uint16_t serial, uint16_t total, uint16_t index)
{
    struct jt808_header h = {.msg_id = id, .subpackage = true, .serial = serial,
                             .pkg_total = total, .pkg_index = index};
    strcpy(h.phone, "013912345678");
    return h;
}

static enum jt808_rc feed(struct jt808_reasm *r, uint16_t id, uint16_t first, uint16_t total,
                          uint16_t index, const char *data, uint64_t now, bool *done, uint8_t **out,
                          size_t *n)
{
    struct jt808_header h = frag_hdr(id, (uint16_t)(first + index - 1), total, index);
    struct jt808_err e;
    return jt808_reasm_feed(r, &h, (const uint8_t *)data, strlen(data), now, done, out, n, &e);
}

static void test_reasm_orders(void **state)
{
    struct jt808_reasm r;
    jt808_reasm_init(&r, 1 << 20, 5000);
    bool done;
    uint8_t *out;
    size_t n;
    /* in order */
    assert_int_equal(feed(&r, 0x0801, 10, 3, 1, "aa", 0, &done, &out, &n), JT808_OK);
    assert_false(done);
    assert_int_equal(feed(&r, 0x0801, 10, 3, 2, "bbb", 1, &done, &out, &n), JT808_OK);
    assert_false(done);
    assert_true(r.mem_used > 5);
    assert_int_equal(feed(&r, 0x0801, 10, 3, 3, "c", 2, &done, &out, &n), JT808_OK);
    assert_true(done);
    assert_int_equal(n, 6);
    assert_memory_equal(out, "aabbbc", 6);
    free(out);
    assert_int_equal(r.mem_used, 0);
    assert_null(r.slots);
    /* out of order, with a duplicate, interleaved with another message; serial wraps */
    assert_int_equal(feed(&r, 0x0801, 65535, 3, 3, "3", 0, &done, &out, &n), JT808_OK);
    assert_int_equal(feed(&r, 0x0900, 65535, 2, 2, "y", 0, &done, &out, &n), JT808_OK);
    assert_int_equal(feed(&r, 0x0801, 65535, 3, 1, "1", 0, &done, &out, &n), JT808_OK);
    assert_int_equal(feed(&r, 0x0801, 65535, 3, 1, "X", 0, &done, &out, &n), JT808_OK); /* dup */
    assert_false(done);
    assert_int_equal(feed(&r, 0x0801, 65535, 3, 2, "2", 0, &done, &out, &n), JT808_OK);
    assert_true(done);
    assert_memory_equal(out, "123", 3);
    free(out);
    assert_int_equal(feed(&r, 0x0900, 65535, 2, 1, "x", 0, &done, &out, &n), JT808_OK);
    assert_true(done);
    assert_memory_equal(out, "xy", 2);
    free(out);
    /* a single package completes at once; an empty fragment counts */
    assert_int_equal(feed(&r, 0x0801, 7, 1, 1, "", 0, &done, &out, &n), JT808_OK);
    assert_true(done);
    assert_int_equal(n, 0);
    free(out);
    assert_int_equal(r.mem_used, 0);
    jt808_reasm_free(&r);
}

static void test_reasm_invalid(void **state)
{
    struct jt808_reasm r;
    jt808_reasm_init(&r, 1 << 20, 5000);
    bool done;
    uint8_t *out;
    size_t n;
    struct jt808_err e;
    struct jt808_header h = frag_hdr(0x0801, 1, 0, 1);
    assert_int_equal(jt808_reasm_feed(&r, &h, (const uint8_t *)"a", 1, 0, &done, &out, &n, &e), JT808_E_SUBPKG);
    assert_string_equal(e.field, "header.pkg_total");
    h = frag_hdr(0x0801, 1, 2, 0);
    assert_int_equal(jt808_reasm_feed(&r, &h, (const uint8_t *)"a", 1, 0, &done, &out, &n, &e), JT808_E_SUBPKG);
    assert_string_equal(e.field, "header.pkg_index");
    h = frag_hdr(0x0801, 1, 2, 3);
    assert_int_equal(jt808_reasm_feed(&r, &h, (const uint8_t *)"a", 1, 0, &done, &out, &n, &e), JT808_E_SUBPKG);
    assert_string_equal(e.field, "header.pkg_index");
    h.subpackage = false;
    assert_int_equal(jt808_reasm_feed(&r, &h, (const uint8_t *)"a", 1, 0, &done, &out, &n, &e), JT808_E_SUBPKG);
    /* total changes mid-message */
    assert_int_equal(feed(&r, 0x0801, 100, 3, 1, "a", 0, &done, &out, &n), JT808_OK);
    h = frag_hdr(0x0801, 101, 4, 2);
    assert_int_equal(jt808_reasm_feed(&r, &h, (const uint8_t *)"b", 1, 0, &done, &out, &n, &e), JT808_E_SUBPKG);
    assert_string_equal(e.field, "header.pkg_total");
    assert_false(done);
    /* the message still completes with the right total */
    assert_int_equal(feed(&r, 0x0801, 100, 3, 2, "b", 0, &done, &out, &n), JT808_OK);
    assert_int_equal(feed(&r, 0x0801, 100, 3, 3, "c", 0, &done, &out, &n), JT808_OK);
    assert_true(done);
    assert_memory_equal(out, "abc", 3);
    free(out);
    jt808_reasm_free(&r);
}

static void test_reasm_timeout(void **state)
{
    struct jt808_reasm r;
    jt808_reasm_init(&r, 1 << 20, 1000);
    bool done;
    uint8_t *out;
    size_t n;
    assert_int_equal(feed(&r, 0x0801, 1, 2, 1, "a", 100, &done, &out, &n), JT808_OK);
    assert_int_equal(jt808_reasm_expire(&r, 1100), 0); /* idle exactly the timeout: kept */
    assert_int_equal(feed(&r, 0x0900, 1, 2, 1, "q", 1050, &done, &out, &n), JT808_OK);
    assert_int_equal(jt808_reasm_expire(&r, 1101), 1);
    assert_int_equal(r.dropped, 1);
    assert_non_null(r.slots);
    /* the late second half of the expired message starts over and does not complete */
    assert_int_equal(feed(&r, 0x0801, 1, 2, 2, "b", 1102, &done, &out, &n), JT808_OK);
    assert_false(done);
    /* feed expires by itself: 0x0900 (last seen 1050) is gone at 2051 */
    assert_int_equal(feed(&r, 0x0900, 1, 2, 2, "r", 2051, &done, &out, &n), JT808_OK);
    assert_false(done);
    assert_int_equal(r.dropped, 2);
    /* a clock that goes back drops nothing */
    assert_int_equal(jt808_reasm_expire(&r, 0), 0);
    jt808_reasm_free(&r);
    assert_int_equal(r.mem_used, 0);
    /* timeout 0 disables expiry */
    jt808_reasm_init(&r, 1 << 20, 0);
    assert_int_equal(feed(&r, 0x0801, 1, 2, 1, "a", 0, &done, &out, &n), JT808_OK);
    assert_int_equal(jt808_reasm_expire(&r, UINT64_MAX), 0);
    jt808_reasm_free(&r);
}

static void test_reasm_memory(void **state)
{
    struct jt808_reasm r;
    static char chunk[1001];
    memset(chunk, 'z', 1000);
    jt808_reasm_init(&r, 4096, 1000);
    bool done;
    uint8_t *out;
    size_t n;
    /* a fragment announcing 65535 packages cannot even open a slot */
    assert_int_equal(feed(&r, 0x0801, 1, 65535, 1, "a", 0, &done, &out, &n), JT808_E_SUBPKG);
    assert_int_equal(r.mem_used, 0);
    assert_int_equal(r.dropped, 1);
    /* 3 x 1000 bytes fit, the 4th fragment does not: the message is dropped */
    for (uint16_t i = 1; i <= 3; i++)
        assert_int_equal(feed(&r, 0x0801, 10, 5, i, chunk, 0, &done, &out, &n), JT808_OK);
    assert_true(r.mem_used > 3000 && r.mem_used <= 4096);
    struct jt808_err e;
    struct jt808_header h = frag_hdr(0x0801, 13, 5, 4);
    assert_int_equal(jt808_reasm_feed(&r, &h, (const uint8_t *)chunk, 1000, 0, &done, &out, &n, &e),
                     JT808_E_SUBPKG);
    assert_string_equal(e.field, "reasm.mem_limit");
    assert_int_equal(r.mem_used, 0);
    assert_null(r.slots);
    assert_int_equal(r.dropped, 2);
    /* memory is free again for the next message */
    assert_int_equal(feed(&r, 0x0801, 20, 2, 1, chunk, 0, &done, &out, &n), JT808_OK);
    assert_int_equal(feed(&r, 0x0801, 20, 2, 2, chunk, 0, &done, &out, &n), JT808_OK);
    assert_true(done);
    assert_int_equal(n, 2000);
    free(out);
    jt808_reasm_free(&r);
}

struct collected {
    uint8_t frames[8][JT808_MAX_FRAME];
    size_t lens[8];
    int n;
};

static void collect(const uint8_t *frame, size_t len, void *arg)
{
    struct collected *c = arg;
    assert_true(c->n < 8);
    memcpy(c->frames[c->n], frame, len);
    c->lens[c->n++] = len;
}

static void test_split_reasm(void **state)
{
    static uint8_t body[2500];
    for (size_t i = 0; i < sizeof body; i++)
        body[i] = (uint8_t)(i * 7); /* includes 0x7E and 0x7D */
    struct jt808_header h = {.msg_id = 0x0801, .version = JT808_V2019, .proto_version = 1};
    strcpy(h.phone, "13912345678");
    struct collected *c = calloc(1, sizeof *c);
    assert_int_equal(jt808_split(&h, 0xFFFF, body, sizeof body, 1023, collect, c), JT808_OK);
    assert_int_equal(c->n, 3);
    struct jt808_reasm r;
    jt808_reasm_init(&r, 1 << 16, 1000);
    struct jt808_msg *m = new_msg();
    static uint8_t scratch[JT808_MAX_FRAME];
    static const int order[] = {2, 0, 1};
    bool done = false;
    uint8_t *out = NULL;
    size_t n = 0;
    for (int k = 0; k < 3; k++) {
        int i = order[k];
        struct jt808_err e;
        assert_int_equal(jt808_decode(c->frames[i], c->lens[i], scratch, sizeof scratch, m, &e), JT808_OK);
        assert_true(m->h.subpackage);
        assert_int_equal(m->h.pkg_total, 3);
        assert_int_equal(m->h.pkg_index, i + 1);
        assert_int_equal(m->h.serial, (uint16_t)(0xFFFF + i));
        assert_int_equal(m->body_bytes, i < 2 ? 1023 : 454);
        assert_int_equal(jt808_reasm_feed(&r, &m->h, m->body, m->body_bytes, 0, &done, &out, &n, &e),
                         JT808_OK);
        assert_int_equal(done, k == 2);
    }
    assert_int_equal(n, sizeof body);
    assert_memory_equal(out, body, sizeof body);
    free(out);
    /* bad chunk sizes */
    assert_int_equal(jt808_split(&h, 0, body, 10, 0, collect, c), JT808_E_VALUE);
    assert_int_equal(jt808_split(&h, 0, body, 10, 1024, collect, c), JT808_E_VALUE);
    /* an empty body is one package */
    c->n = 0;
    assert_int_equal(jt808_split(&h, 5, NULL, 0, 100, collect, c), JT808_OK);
    assert_int_equal(c->n, 1);
    jt808_reasm_free(&r);
    free(c);
    msg_del(m);
}

/* --- JSON ---------------------------------------------------------------------- */

static void expect_json_error(const char *json, const char *msg)
{
    cJSON *j = cJSON_Parse(json);
    assert_non_null(j);
    struct jt808_msg *m = new_msg();
    uint8_t store[64];
    char err[200];
    enum jt808_rc rc = jt808_from_json(j, m, store, sizeof store, err, sizeof err);
    if (rc == JT808_OK || strcmp(err, msg) != 0)
        fail_msg("%s: got %s \"%s\", want \"%s\"", json, jt808_rc_name(rc), err, msg);
    cJSON_Delete(j);
    msg_del(m);
}

#define HB13 "\"msg_id\":\"0x0002\",\"phone\":\"1\""

static void test_json_errors(void **state)
{
    expect_json_error("[]", "message: expected an object");
    expect_json_error("{\"phone\":\"1\",\"body\":{}}", "msg_id: missing");
    expect_json_error("{\"msg_id\":2,\"phone\":\"1\",\"body\":{}}", "msg_id: expected a hex string like \"0x0200\"");
    expect_json_error("{\"msg_id\":\"0x1FFFF\",\"phone\":\"1\",\"body\":{}}", "msg_id: above 0xFFFF");
    expect_json_error("{" HB13 ",\"bogus\":1,\"body\":{}}", "bogus: unknown field");
    /* an RSA body as its plaintext: only with encryption 1 */
    expect_json_error("{" HB13 ",\"decrypted\":true,\"body\":{}}", "decrypted: only with \"encryption\": 1 (RSA)");
    expect_json_error("{" HB13 ",\"encryption\":1,\"decrypted\":false,\"body\":{}}",
                      "decrypted: expected true (or leave it out)");
    expect_json_error("{" HB13 ",\"encryption\":1,\"body\":{}}", "body: fragments and encrypted bodies carry body_hex");
    expect_json_error("{" HB13 ",\"serial\":\"1\",\"body\":{}}", "serial: expected a number");
    expect_json_error("{" HB13 ",\"serial\":65536,\"body\":{}}", "serial: expected an integer 0..65535");
    expect_json_error("{" HB13 ",\"serial\":1.5,\"body\":{}}", "serial: expected an integer 0..65535");
    expect_json_error("{" HB13 ",\"serial\":-1,\"body\":{}}", "serial: expected an integer 0..65535");
    expect_json_error("{" HB13 ",\"serial\":1,\"serial\":2,\"body\":{}}", "serial: duplicate field");
    expect_json_error("{\"msg_id\":\"0x0002\",\"body\":{}}", "phone: missing");
    expect_json_error("{\"msg_id\":\"0x0002\",\"phone\":\"1234567890123\",\"body\":{}}", "phone: expected up to 12 digits");
    expect_json_error("{\"msg_id\":\"0x0002\",\"phone\":\"12a\",\"body\":{}}", "phone: expected up to 12 digits");
    expect_json_error("{" HB13 ",\"version\":\"2011\",\"body\":{}}", "version: expected \"2013\" or \"2019\"");
    expect_json_error("{" HB13 ",\"proto_version\":1,\"body\":{}}", "proto_version: only in 2019 headers");
    expect_json_error("{" HB13 ",\"name\":\"heartbeat\",\"body\":{}}", "name: 0x0002 is \"terminal heartbeat\"");
    expect_json_error("{" HB13 ",\"body\":{\"x\":1}}", "body.x: unknown field");
    expect_json_error("{" HB13 ",\"body\":[]}", "body: expected an object");
    expect_json_error("{" HB13 "}", "body: missing (or body_hex)");
    expect_json_error("{" HB13 ",\"body\":{},\"body_hex\":\"\"}", "body: give body or body_hex, not both");
    expect_json_error("{\"msg_id\":\"0x0F01\",\"phone\":\"1\",\"body\":{}}", "body: 0x0F01 has no typed layout; use body_hex");
    expect_json_error("{\"msg_id\":\"0x0900\",\"phone\":\"1\",\"body\":{}}", "body.type: missing");
    expect_json_error("{" HB13 ",\"body_hex\":\"0\"}", "body_hex: odd number of hex digits");
    expect_json_error("{" HB13 ",\"body_hex\":\"0G\"}", "body_hex: not a hex digit at position 1");
    expect_json_error("{" HB13 ",\"body_hex\":\"0G1\"}", "body_hex: odd number of hex digits");
    expect_json_error("{" HB13 ",\"body_hex\":\"G000\"}", "body_hex: not a hex digit at position 0");
    /* unlike vector files, bodies take no spaces: each character is a digit */
    expect_json_error("{" HB13 ",\"body_hex\":\"01 0\"}", "body_hex: not a hex digit at position 2");
    expect_json_error("{" HB13 ",\"subpackage\":{\"total\":2,\"index\":3},\"body_hex\":\"\"}",
                      "subpackage.index: must be 1..total");
    expect_json_error("{" HB13 ",\"subpackage\":{\"total\":2,\"index\":1},\"body\":{}}",
                      "body: fragments and encrypted bodies carry body_hex");
    expect_json_error("{\"msg_id\":\"0x0001\",\"phone\":\"1\",\"body\":{\"ack_serial\":1,\"result\":0}}",
                      "body.ack_id: missing");
    expect_json_error("{\"msg_id\":\"0x0200\",\"phone\":\"1\",\"body\":{\"alarm\":0,\"status\":0,\"lat\":0,"
                      "\"lon\":0,\"altitude\":0,\"speed\":0,\"direction\":0,\"time\":\"240101000000\","
                      "\"items\":[{\"id\":\"0x01\",\"value\":1},{\"id\":5,\"value\":1}]}}",
                      "body.items[1].id: expected a hex string like \"0x01\"");
    expect_json_error("{\"msg_id\":\"0x0200\",\"phone\":\"1\",\"body\":{\"alarm\":0,\"status\":0,\"lat\":0,"
                      "\"lon\":0,\"altitude\":0,\"speed\":0,\"direction\":0,\"time\":\"240101000000\","
                      "\"items\":[{\"id\":\"0x01\",\"len\":2,\"value\":1}]}}",
                      "body.items[0].len: item 0x01 takes 4 bytes");
    expect_json_error("{\"msg_id\":\"0x0200\",\"phone\":\"1\",\"body\":{\"alarm\":0,\"status\":0,\"lat\":0,"
                      "\"lon\":0,\"altitude\":0,\"speed\":0,\"direction\":0,\"time\":\"240101000000\","
                      "\"items\":[{\"id\":\"0xE1\",\"value\":1}]}}",
                      "body.items[0].value: item 0xE1 has no known type; use raw");
    expect_json_error("{\"msg_id\":\"0x0200\",\"phone\":\"1\",\"body\":{\"alarm\":0,\"status\":0,\"lat\":0,"
                      "\"lon\":0,\"altitude\":0,\"speed\":0,\"direction\":0,\"time\":\"2401010000\"}}",
                      "body.time: expected 12 digits YYMMDDhhmmss");
    expect_json_error("{\"msg_id\":\"0x0201\",\"phone\":\"1\",\"body\":{\"ack_serial\":1,\"location\":{\"alarm\":0,"
                      "\"status\":0,\"lat\":0,\"lon\":0,\"altitude\":0,\"speed\":0,\"direction\":0,"
                      "\"time\":\"240101000000\",\"items\":[{\"id\":\"0x30\",\"value\":256}]}}}",
                      "body.location.items[0].value: expected an integer 0..255");
    expect_json_error("{\"msg_id\":\"0x8103\",\"phone\":\"1\",\"body\":{\"params\":[{\"id\":\"0x0013\",\"value\":5}]}}",
                      "body.params[0].value: parameter 0x0013 is a STRING");
    expect_json_error("{\"msg_id\":\"0x8103\",\"phone\":\"1\",\"body\":{\"count\":2,\"params\":[]}}",
                      "body.count: disagrees with params (0)");
    expect_json_error("{\"msg_id\":\"0x8103\",\"phone\":\"1\",\"body\":{\"params\":[{\"id\":\"0x0031\",\"len\":4,\"value\":5}]}}",
                      "body.params[0].len: parameter 0x0031 takes 2 bytes");
    expect_json_error("{\"msg_id\":\"0x8103\",\"phone\":\"1\",\"body\":{\"params\":[{\"id\":\"0xF000\",\"value\":5}]}}",
                      "body.params[0].value: parameter 0xF000 has no known type; use raw");
    expect_json_error("{\"msg_id\":\"0x8103\",\"phone\":\"1\",\"body\":{\"params\":[{\"id\":\"0xF000\"}]}}",
                      "body.params[0]: needs exactly one of value and raw");
    expect_json_error("{\"msg_id\":\"0x8100\",\"phone\":\"1\",\"body\":{\"ack_serial\":1,\"result\":1,\"auth_code\":\"x\"}}",
                      "body.auth_code: only present when result is 0");
    expect_json_error("{\"msg_id\":\"0x0100\",\"phone\":\"1\",\"body\":{\"layout\":\"2019\",\"province\":0,\"city\":0,"
                      "\"manufacturer\":\"\",\"model\":\"\",\"terminal_id\":\"\",\"plate_color\":0,\"plate\":\"\"}}",
                      "body.layout: layout 2019 needs a 2019 header");
    expect_json_error("{\"msg_id\":\"0x0100\",\"phone\":\"1\",\"body\":{\"province\":0,\"city\":0,"
                      "\"manufacturer\":\"TOO-LONG-MANUF\",\"model\":\"\",\"terminal_id\":\"\",\"plate_color\":0,\"plate\":\"\"}}",
                      "body.manufacturer: too long (at most 11 bytes)");
    expect_json_error("{\"msg_id\":\"0x8108\",\"phone\":\"1\",\"body\":{\"type\":0,\"manufacturer\":\"A\",\"version\":\"1\","
                      "\"package_len\":1,\"package_hex\":\"0102\"}}",
                      "body.package_len: smaller than package_hex (2 bytes)");
    /* scratch too small is E_NOSPACE */
    cJSON *j = cJSON_Parse("{" HB13 ",\"body_hex\":\"0102030405\"}");
    struct jt808_msg *m = new_msg();
    uint8_t store[4];
    char err[100];
    assert_int_equal(jt808_from_json(j, m, store, sizeof store, err, sizeof err), JT808_E_NOSPACE);
    assert_string_equal(err, "body_hex: longer than the 4 bytes of scratch");
    cJSON_Delete(j);
    /* hand-written input may leave out len, count and items */
    j = cJSON_Parse("{\"msg_id\":\"0x8103\",\"phone\":\"13912345678\",\"body\":{\"params\":["
                    "{\"id\":\"0x0001\",\"value\":30},{\"id\":\"0x0083\",\"value\":\"京A12345\"}]}}");
    uint8_t st[16];
    assert_int_equal(jt808_from_json(j, m, st, sizeof st, err, sizeof err), JT808_OK);
    assert_int_equal(m->b.params.count, 2);
    assert_int_equal(m->b.params.params[1].len, 8);
    cJSON_Delete(j);
    msg_del(m);
}

/* body_hex on a typed id is sent verbatim, and fills the typed fields when it decodes. */
static void test_json_raw_override(void **state)
{
    cJSON *j = cJSON_Parse("{\"msg_id\":\"0x0001\",\"phone\":\"1\",\"body_hex\":\"000102000300\"}");
    struct jt808_msg *m = new_msg();
    uint8_t store[16], out[64], scratch[64];
    char err[100];
    assert_int_equal(jt808_from_json(j, m, store, sizeof store, err, sizeof err), JT808_OK);
    size_t n = 0;
    struct jt808_err e;
    assert_int_equal(jt808_encode(m, out, sizeof out, &n, &e), JT808_OK);
    struct jt808_msg *d = new_msg();
    assert_int_equal(jt808_decode_strict(out, n, scratch, sizeof scratch, d, &e), JT808_E_DEVIATION);
    assert_string_equal(e.field, "body");
    assert_int_equal(d->devs.d[0].kind, JT808_DEV_TRAILING_BYTES);
    cJSON_Delete(j);
    j = cJSON_Parse("{\"msg_id\":\"0x0001\",\"phone\":\"1\",\"body_hex\":\"0001020003\"}");
    assert_int_equal(jt808_from_json(j, m, store, sizeof store, err, sizeof err), JT808_OK);
    assert_int_equal(m->b.gen_resp.ack_id, 0x0200);
    assert_int_equal(m->b.gen_resp.result, 3);
    cJSON_Delete(j);
    msg_del(m);
    msg_del(d);
}

/* --- golden vectors ------------------------------------------------------------- */

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = '\0';
    fclose(f);
    return b;
}

static void test_vectors(void **state)
{
    char *text = slurp(VECTORS);
    if (!text)
        fail_msg("cannot read %s (tests run from the repo root)", VECTORS);
    cJSON *root = cJSON_Parse(text);
    assert_non_null(root);
    assert_string_equal(cJSON_GetObjectItem(root, "protocol")->valuestring, "jt808");
    const cJSON *vectors = cJSON_GetObjectItem(root, "vectors");
    assert_true(cJSON_IsArray(vectors));
    struct jt808_msg *m = new_msg(), *b = new_msg();
    static uint8_t wire[4096], scratch[4096], out[4096], store[4096];
    int normal = 0, errors = 0, deviating = 0, fragments = 0, with_7e_check = 0, with_7d_check = 0;
    bool v2013 = false, v2019 = false, l2011 = false;
    const cJSON *v;
    cJSON_ArrayForEach(v, vectors) {
        const char *name = cJSON_GetObjectItem(v, "name")->valuestring;
        assert_non_null(cJSON_GetObjectItem(v, "source"));
        size_t n = unhex(cJSON_GetObjectItem(v, "hex")->valuestring, wire, sizeof wire);
        struct jt808_err e = {0};
        enum jt808_rc rc = jt808_decode(wire, n, scratch, sizeof scratch, m, &e);
        const cJSON *err = cJSON_GetObjectItem(v, "error");
        if (err) {
            const char *code = cJSON_GetObjectItem(err, "code")->valuestring;
            size_t off = (size_t)cJSON_GetObjectItem(err, "offset")->valuedouble;
            const char *field = cJSON_GetObjectItem(err, "field")->valuestring;
            if (rc == JT808_OK || strcmp(jt808_rc_name(rc), code) != 0 || e.offset != off ||
                strcmp(e.field, field) != 0)
                fail_msg("%s: got %s@%zu %s, want %s@%zu %s", name, jt808_rc_name(rc), e.offset,
                         e.field ? e.field : "-", code, off, field);
            errors++;
            continue;
        }
        if (rc != JT808_OK)
            fail_msg("%s: %s at %zu (%s)", name, jt808_rc_name(rc), e.offset, e.field);
        const cJSON *fields = cJSON_GetObjectItem(v, "fields");
        cJSON *j = jt808_to_json(m);
        if (!cJSON_Compare(j, fields, true)) {
            char *s = cJSON_PrintUnformatted(j);
            fail_msg("%s: to_json gives %s", name, s);
        }
        cJSON_Delete(j);
        if (cJSON_GetObjectItem(fields, "deviations")) {
            /* deviates: decode only, and strict decoding refuses it at the first deviation */
            const cJSON *d0 = cJSON_GetArrayItem(cJSON_GetObjectItem(fields, "deviations"), 0);
            assert_int_equal(jt808_decode_strict(wire, n, scratch, sizeof scratch, m, &e), JT808_E_DEVIATION);
            assert_int_equal(e.offset, (size_t)cJSON_GetObjectItem(d0, "offset")->valuedouble);
            deviating++;
            continue;
        }
        char msg[200];
        rc = jt808_from_json(fields, b, store, sizeof store, msg, sizeof msg);
        if (rc != JT808_OK)
            fail_msg("%s: from_json: %s", name, msg);
        size_t on = 0;
        rc = jt808_encode(b, out, sizeof out, &on, &e);
        if (rc != JT808_OK)
            fail_msg("%s: encode: %s %s", name, jt808_rc_name(rc), e.field);
        assert_bytes(out, on, wire, n);
        normal++;
        fragments += cJSON_GetObjectItem(v, "fragment_of") != NULL;
        v2013 |= m->h.version == JT808_V2013;
        v2019 |= m->h.version == JT808_V2019;
        l2011 |= m->h.msg_id == 0x0100 && m->b.reg.layout == JT808_REG_2011;
        with_7e_check += n >= 4 && wire[n - 3] == 0x7D && wire[n - 2] == 0x02 && scratch[m->body - scratch + m->body_bytes] == 0x7E;
        with_7d_check += n >= 4 && wire[n - 3] == 0x7D && wire[n - 2] == 0x01 && scratch[m->body - scratch + m->body_bytes] == 0x7D;
    }
    assert_true(normal >= 40);
    assert_true(errors >= 8);
    assert_true(deviating >= 8);
    assert_true(fragments >= 2);
    assert_true(v2013 && v2019 && l2011);
    assert_true(with_7e_check >= 1);
    assert_true(with_7d_check >= 1);
    msg_del(m);
    msg_del(b);
    cJSON_Delete(root);
    free(text);
}

/* The marked fragments reassemble (in any order) to the body of the vector they name. */
static void test_vector_fragments(void **state)
{
    char *text = slurp(VECTORS);
    assert_non_null(text);
    cJSON *root = cJSON_Parse(text);
    const cJSON *vectors = cJSON_GetObjectItem(root, "vectors");
    struct jt808_msg *m = new_msg();
    static uint8_t wire[4096], scratch[4096], whole[4096];
    const char *of = NULL;
    const cJSON *frags[16];
    int nf = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, vectors) {
        const cJSON *f = cJSON_GetObjectItem(v, "fragment_of");
        if (!f)
            continue;
        if (!of)
            of = f->valuestring;
        if (strcmp(of, f->valuestring) == 0 && nf < 16)
            frags[nf++] = v;
    }
    assert_non_null(of);
    assert_true(nf >= 2);
    size_t whole_n = 0;
    cJSON_ArrayForEach(v, vectors) {
        if (strcmp(cJSON_GetObjectItem(v, "name")->valuestring, of) != 0)
            continue;
        size_t n = unhex(cJSON_GetObjectItem(v, "hex")->valuestring, wire, sizeof wire);
        struct jt808_err e;
        assert_int_equal(jt808_decode(wire, n, scratch, sizeof scratch, m, &e), JT808_OK);
        memcpy(whole, m->body, m->body_bytes);
        whole_n = m->body_bytes;
    }
    assert_true(whole_n > 0);
    for (int pass = 0; pass < 2; pass++) {
        struct jt808_reasm r;
        jt808_reasm_init(&r, 1 << 16, 10000);
        bool done = false;
        uint8_t *out = NULL;
        size_t out_n = 0;
        for (int k = 0; k < nf; k++) {
            const cJSON *fv = frags[pass ? nf - 1 - k : k];
            size_t n = unhex(cJSON_GetObjectItem(fv, "hex")->valuestring, wire, sizeof wire);
            struct jt808_err e;
            assert_int_equal(jt808_decode(wire, n, scratch, sizeof scratch, m, &e), JT808_OK);
            assert_true(m->h.subpackage);
            assert_int_equal(m->h.pkg_total, nf);
            assert_int_equal(jt808_reasm_feed(&r, &m->h, m->body, m->body_bytes, (uint64_t)k, &done, &out,
                                              &out_n, &e), JT808_OK);
            assert_int_equal(done, k == nf - 1);
        }
        assert_bytes(out, out_n, whole, whole_n);
        /* and the reassembled body decodes as the whole message */
        m->h.subpackage = false;
        struct jt808_err e;
        assert_int_equal(jt808_body_decode(out, out_n, m, &e), JT808_OK);
        assert_int_equal(m->b.upgrade.pkg_bytes, m->b.upgrade.pkg_len);
        free(out);
        jt808_reasm_free(&r);
    }
    msg_del(m);
    cJSON_Delete(root);
    free(text);
}

/* What real devices send that the letter of the standard does not: the reserved
 * bit 15 (kept, so the frame round-trips), a STRING ended by a C terminator, and
 * GBK user-defined-area characters. */
static void test_device_quirks(void **state)
{
    (void)state;
    struct jt808_msg *m = new_msg(), *m2 = new_msg();
    uint8_t wire[64], scratch[64], out[64];
    struct jt808_err e;
    size_t n, o;
    /* 0x0002 heartbeat, 2013, props 0x8000 (bit 15 set), phone 013912345678, serial 0x0013 */
    n = unhex("7E000280000139123456780013" "B3" "7E", wire, sizeof wire);
    wire[n - 2] = jt808_xor(wire + 1, n - 3);
    assert_int_equal(jt808_decode(wire, n, scratch, sizeof scratch, m, &e), JT808_OK);
    assert_true(m->h.reserved15);
    assert_int_equal(jt808_encode(m, out, sizeof out, &o, &e), JT808_OK);
    assert_int_equal(o, n);
    assert_memory_equal(out, wire, n);
    cJSON *j = jt808_to_json(m);
    assert_int_equal(cJSON_GetObjectItem(j, "reserved")->valueint, 1);
    static uint8_t store[256];
    char err[128];
    assert_int_equal(jt808_from_json(j, m2, store, sizeof store, err, sizeof err), JT808_OK);
    assert_true(m2->h.reserved15);
    cJSON_Delete(j);
    /* a STRING with a trailing NUL (APN "CMNET\0") decodes to "CMNET" */
    uint8_t body[32];
    size_t bn = unhex("01" "00000010" "06" "434D4E455400", body, sizeof body);
    m->h.msg_id = 0x8103;
    m->h.version = JT808_V2013;
    assert_int_equal(jt808_body_decode(body, bn, m, &e), JT808_OK);
    assert_string_equal(m->b.params.params[0].str, "CMNET");
    /* a NUL inside the text is still refused */
    bn = unhex("01" "00000010" "06" "434D00455400", body, sizeof body);
    assert_int_equal(jt808_body_decode(body, bn, m, &e), JT808_E_ENCODING);
    /* a user-defined-area code (AAA1) decodes */
    char u[16];
    assert_int_equal(jt808_gbk_to_utf8((const uint8_t[]){0xAA, 0xA1}, 2, u, sizeof u), JT808_OK);
    assert_true(strlen(u) >= 3);
    msg_del(m);
    free(m2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hand_frame_2013),
        cmocka_unit_test(test_hand_frame_2019),
        cmocka_unit_test(test_layouts),
        cmocka_unit_test(test_layout_errors),
        cmocka_unit_test(test_register_layouts),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_frame_find),
        cmocka_unit_test(test_frame_errors),
        cmocka_unit_test(test_frame_errors_2),
        cmocka_unit_test(test_frame_errors_3),
        cmocka_unit_test(test_encode_errors),
        cmocka_unit_test(test_mutations),
        cmocka_unit_test(test_bcd),
        cmocka_unit_test(test_gbk),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_reasm_orders),
        cmocka_unit_test(test_reasm_invalid),
        cmocka_unit_test(test_reasm_timeout),
        cmocka_unit_test(test_reasm_memory),
        cmocka_unit_test(test_split_reasm),
        cmocka_unit_test(test_json_errors),
        cmocka_unit_test(test_json_raw_override),
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_vector_fragments),
        cmocka_unit_test(test_device_quirks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
