/* The layout engine: every layout id round-trips in both editions (tree -> bytes ->
 * tree -> bytes, and through JSON), truncated bodies name field and offset, long
 * bodies keep their tail with a deviation, and the accessors. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/proto/jt808.h"
#include "sim/proto/jt808_json.h"
#include "sim/proto/jt808_layout.h"
#include "sim/proto/jt808_layout_int.h"

#include <setjmp.h>
#include <cmocka.h>

static const uint8_t loc28[28] = {0, 0, 0, 1, 0, 0, 0, 3, 0x01, 0xCB, 0xA8, 0x40, 0x07, 0x27,
                                  0x0E, 0x00, 0, 12, 1, 200, 0, 90, 0x26, 0x03, 0x15, 0x08, 0x15, 0x30};

/* Value a number field gets so that every condition that reads it holds. */
static uint32_t num_for(const struct jt808_fd *f, size_t nf, size_t i)
{
    uint32_t v = 3;
    for (size_t j = i + 1; j < nf; j++)
        if (f[j].cref == (int8_t)i && f[j].cond == JT808_IF_EQ)
            return f[j].arg;
        else if (f[j].cref == (int8_t)i && f[j].cond == JT808_IF_BIT)
            v |= 1u << f[j].arg;
    return v;
}

/* Fill a group with values that put every field on the wire. */
static void fill(struct jt808_arena *a, const struct jt808_fd *f, size_t nf, struct jt808_lv *g,
                 enum jt808_version ver, int depth)
{
    for (size_t i = 0; i < nf; i++) {
        struct jt808_lv *v = &g[i];
        if (!v->present)
            continue;
        switch (f[i].kind) {
        case JT808_FK_BYTE:
        case JT808_FK_WORD:
        case JT808_FK_DWORD: v->u = num_for(f, nf, i); break;
        case JT808_FK_BCD: v->str = "1234"; break;
        case JT808_FK_STRING: v->str = f[i].size == JT808_SZ_FIXED ? "ab" : "数据"; break;
        case JT808_FK_BYTES:
            v->n = f[i].size == JT808_SZ_FIXED ? f[i].n : 3;
            v->bytes = jt808_arena_alloc(a, v->n);
            memset(v->bytes, 0x5A, v->n);
            break;
        case JT808_FK_LOC:
            v->bytes = (uint8_t *)loc28;
            v->n = 28;
            break;
        case JT808_FK_ZIP: {
            static uint8_t z[64];
            size_t n = 0;
            assert_int_equal(jt808_lay_gzip((const uint8_t *)"hello hello", 11, z, sizeof z, &n), JT808_OK);
            v->bytes = z;
            v->n = (uint32_t)n;
            break;
        }
        case JT808_FK_LIST:
            assert_true(jt808_lay_resize_in(a, &f[i], v, depth ? 1 : 2, ver));
            for (size_t k = 0; k < v->n; k++)
                fill(a, f[i].sub, f[i].nsub, v->items + k * f[i].nsub, ver, depth + 1);
            break;
        }
    }
}

static void roundtrip_one(const struct jt808_layout *lay, enum jt808_version ver)
{
    struct jt808_arena a = {0};
    struct jt808_lay_body *b = jt808_lay_new_in(&a, lay, ver);
    assert_non_null(b);
    fill(&a, lay->f, lay->n, b->root, ver, 0);
    static uint8_t body[4096], again[4096], viajson[4096];
    size_t n = 0, n2 = 0, n3 = 0;
    struct jt808_err e = {0};
    if (jt808_lay_encode(b, body, sizeof body, &n, &e) != JT808_OK)
        fail_msg("0x%04X: encode: %s at %zu", lay->id, e.field, e.offset);

    struct jt808_msg *m = calloc(1, sizeof *m);
    m->h.msg_id = lay->id;
    m->h.version = ver;
    if (jt808_body_decode(body, n, m, &e) != JT808_OK)
        fail_msg("0x%04X %d: decode: %s at %zu", lay->id, (int)ver, e.field, e.offset);
    assert_non_null(m->lay);
    assert_int_equal(m->devs.total, 0);
    assert_int_equal(m->lay->n_trailing, 0);
    assert_int_equal(jt808_lay_encode(m->lay, again, sizeof again, &n2, &e), JT808_OK);
    assert_int_equal(n2, n);
    assert_memory_equal(again, body, n);

    /* and through JSON by field name */
    cJSON *j = jt808_lay_to_json(m->lay);
    char err[200] = "";
    if (jt808_lay_from_json(j, &m->h, viajson, sizeof viajson, &n3, err, sizeof err) != JT808_OK)
        fail_msg("0x%04X: from json: %s", lay->id, err);
    assert_int_equal(n3, n);
    assert_memory_equal(viajson, body, n);
    cJSON_Delete(j);
    jt808_msg_free(m);
    free(m);
    jt808_arena_free(&a);
}

static void test_every_id_roundtrips(void **state)
{
    (void)state;
    size_t n;
    const struct jt808_layout *all = jt808_lay_all(&n);
    assert_true(n >= 50);
    for (size_t i = 0; i < n; i++) {
        assert_true(jt808_msg_known(all[i].id));
        assert_string_equal(jt808_msg_name(all[i].id), all[i].name);
        roundtrip_one(&all[i], JT808_V2013);
        roundtrip_one(&all[i], JT808_V2019);
    }
    /* the ids the issue lists, each has a layout */
    static const uint16_t want[] = {
        0x8003, 0x0005, 0x0004, 0x8004, 0x8106, 0x8107, 0x0107, 0x8202, 0x8203, 0x8204, 0x8301,
        0x0301, 0x8302, 0x0302, 0x8303, 0x0303, 0x8304, 0x8400, 0x8401, 0x8500, 0x0500, 0x8600,
        0x8601, 0x8602, 0x8603, 0x8604, 0x8605, 0x8606, 0x8607, 0x8608, 0x0608, 0x8700, 0x0700,
        0x8701, 0x0701, 0x0702, 0x8702, 0x0705, 0x0800, 0x0801, 0x8800, 0x8801, 0x0805, 0x8802,
        0x0802, 0x8803, 0x8804, 0x8805, 0x8900, 0x0900, 0x0901, 0x8A00, 0x0A00};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_non_null(jt808_lay_find(want[i]));
    assert_null(jt808_lay_find(0x0200)); /* the typed bodies stay in jt808_body.c */
}

static enum jt808_rc decode(uint16_t id, enum jt808_version v, const uint8_t *p, size_t n,
                            struct jt808_msg *m, struct jt808_err *e)
{
    m->h.msg_id = id;
    m->h.version = v;
    return jt808_body_decode(p, n, m, e);
}

static void test_truncated(void **state)
{
    (void)state;
    struct jt808_msg *m = calloc(1, sizeof *m);
    struct jt808_err e = {0};
    static const uint8_t b8202[] = {0x00, 0x0A, 0x00, 0x00, 0x0E};
    assert_int_equal(decode(0x8202, JT808_V2013, b8202, sizeof b8202, m, &e), JT808_E_SHORT);
    assert_string_equal(e.field, "body.duration");
    assert_int_equal(e.offset, 2);
    /* inside a list item: the second area of 0x8601 ends early (count 2, 1.5 ids) */
    static const uint8_t b8601[] = {2, 0, 0, 0, 1, 0, 0};
    assert_int_equal(decode(0x8601, JT808_V2013, b8601, sizeof b8601, m, &e), JT808_E_SHORT);
    assert_string_equal(e.field, "body.ids.id");
    assert_int_equal(e.offset, 5);
    /* 0x0107 of 2019 read as 2013 fields would be wrong: 2019 needs 11-byte manufacturer */
    static uint8_t b0107[2 + 11];
    assert_int_equal(decode(0x0107, JT808_V2019, b0107, sizeof b0107, m, &e), JT808_E_SHORT);
    assert_string_equal(e.field, "body.model");
    assert_int_equal(e.offset, 13);
    /* a length prefix beyond the body */
    static const uint8_t b8304[] = {1, 0x00, 0x09, 'a', 'b'};
    assert_int_equal(decode(0x8304, JT808_V2013, b8304, sizeof b8304, m, &e), JT808_E_SHORT);
    assert_string_equal(e.field, "body.content");
    assert_int_equal(e.offset, 3);
    /* every prefix of a rich body: an error inside the bytes, or a decode */
    static const uint8_t b8606[] = {0, 0, 0, 7, 0, 1, 0x26, 1, 1, 0, 0, 0, 0x26, 0x12, 0x31, 0x23,
                                    0x59, 0x59, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 1, 0xCB, 0xA8, 0x40,
                                    0x07, 0x27, 0x0E, 0, 20, 3, 2, 0x58, 0, 60, 0, 70, 5};
    assert_int_equal(decode(0x8606, JT808_V2013, b8606, sizeof b8606, m, &e), JT808_OK);
    uint32_t v;
    assert_true(jt808_lay_get_u32(m->lay, "points[0].max_speed", &v));
    assert_int_equal(v, 70);
    for (size_t k = 0; k < sizeof b8606; k++) {
        e.field = NULL;
        enum jt808_rc rc = decode(0x8606, JT808_V2013, b8606, k, m, &e);
        if (rc == JT808_OK) { /* cut exactly between items: a count overrun */
            assert_int_equal(m->devs.d[0].kind, JT808_DEV_COUNT_OVERRUN);
            continue;
        }
        assert_non_null(e.field);
        assert_true(e.offset <= k);
    }
    jt808_msg_free(m);
    free(m);
}

static void test_trailing_and_overrun(void **state)
{
    (void)state;
    struct jt808_msg *m = calloc(1, sizeof *m);
    struct jt808_err e = {0};
    static const uint8_t b[] = {0x00, 0x0A, 0x00, 0x00, 0x0E, 0x10, 0xEE, 0xFF};
    assert_int_equal(decode(0x8202, JT808_V2013, b, sizeof b, m, &e), JT808_OK);
    assert_int_equal(m->devs.total, 1);
    assert_int_equal(m->devs.d[0].kind, JT808_DEV_TRAILING_BYTES);
    assert_int_equal(m->devs.d[0].offset, 6);
    assert_int_equal(m->lay->n_trailing, 2);
    uint8_t out[16];
    size_t n = 0;
    assert_int_equal(jt808_lay_encode(m->lay, out, sizeof out, &n, &e), JT808_OK);
    assert_int_equal(n, sizeof b);
    assert_memory_equal(out, b, sizeof b); /* the tail is kept as sent */
    cJSON *j = jt808_lay_to_json(m->lay);
    assert_string_equal(cJSON_GetObjectItem(j, "trailing_hex")->valuestring, "EEFF");
    cJSON_Delete(j);

    /* a count larger than the body holds stops at the end, with a deviation */
    static const uint8_t c[] = {3, 0, 0, 0, 1, 0, 0, 0, 0x13};
    assert_int_equal(decode(0x8106, JT808_V2013, c, sizeof c, m, &e), JT808_OK);
    size_t len = 0;
    assert_true(jt808_lay_list_len(m->lay, "ids", &len));
    assert_int_equal(len, 2);
    assert_int_equal(m->devs.total, 1);
    assert_int_equal(m->devs.d[0].kind, JT808_DEV_COUNT_OVERRUN);
    assert_int_equal(m->devs.d[0].offset, 9);
    jt808_msg_free(m);
    free(m);
}

static void test_editions(void **state)
{
    (void)state;
    struct jt808_msg *m = calloc(1, sizeof *m);
    struct jt808_err e = {0};
    /* 0x8003: count BYTE (2013) vs WORD (2019) */
    static const uint8_t b13[] = {0x12, 0x34, 1, 0, 7};
    static const uint8_t b19[] = {0x12, 0x34, 0, 1, 0, 7};
    uint32_t v;
    assert_int_equal(decode(0x8003, JT808_V2013, b13, sizeof b13, m, &e), JT808_OK);
    assert_true(jt808_lay_get_u32(m->lay, "ids[0].id", &v));
    assert_int_equal(v, 7);
    assert_int_equal(decode(0x8003, JT808_V2019, b19, sizeof b19, m, &e), JT808_OK);
    assert_true(jt808_lay_get_u32(m->lay, "ids[0].id", &v));
    assert_int_equal(v, 7);
    assert_false(jt808_lay_get_u32(m->lay, "ids[1].id", &v));
    /* 0x8500: control flag (2013), control list (2019) */
    static const uint8_t c19[] = {0, 1, 0, 1, 1};
    assert_int_equal(decode(0x8500, JT808_V2019, c19, sizeof c19, m, &e), JT808_OK);
    assert_false(jt808_lay_get_u32(m->lay, "flag", &v));
    assert_true(jt808_lay_get_u32(m->lay, "controls[0].param", &v));
    assert_int_equal(v, 1);
    jt808_msg_free(m);
    free(m);
}

static void test_build_and_access(void **state)
{
    (void)state;
    struct jt808_msg *m = calloc(1, sizeof *m), *d = calloc(1, sizeof *d);
    struct jt808_header h = {.msg_id = 0x8600, .version = JT808_V2019, .proto_version = 1,
                             .phone = "13912345678", .serial = 9};
    const struct jt808_lay_kv kv[] = {
        {.path = "attr", .u = 1},
        {.path = "areas[1].id", .u = 22},
        {.path = "areas[1].attr", .u = 2},
        {.path = "areas[1].radius", .u = 800},
        {.path = "areas[1].max_speed", .u = 90},
        {.path = "areas[1].name", .s = "东门"},
        {.path = "areas[0].id", .u = 11},
    };
    struct jt808_err e = {0};
    assert_int_equal(jt808_lay_build(m, &h, kv, sizeof kv / sizeof kv[0], &e), JT808_OK);
    uint8_t frame[512], scratch[512];
    size_t n = 0;
    assert_int_equal(jt808_encode(m, frame, sizeof frame, &n, &e), JT808_OK);
    assert_int_equal(jt808_decode(frame, n, scratch, sizeof scratch, d, &e), JT808_OK);
    assert_non_null(d->lay);
    uint32_t v;
    const char *s;
    size_t len;
    assert_true(jt808_lay_get_u32(d->lay, "count", &v)); /* computed by the encoder */
    assert_int_equal(v, 2);
    assert_true(jt808_lay_list_len(d->lay, "areas", &len));
    assert_int_equal(len, 2);
    assert_true(jt808_lay_get_u32(d->lay, "areas[1].radius", &v));
    assert_int_equal(v, 800);
    assert_true(jt808_lay_get_u32(d->lay, "areas[1].max_speed", &v));
    assert_int_equal(v, 90);
    assert_false(jt808_lay_get_str(d->lay, "areas[0].start", &s)); /* attr bit 0 clear */
    assert_true(jt808_lay_get_str(d->lay, "areas[1].name", &s));
    assert_string_equal(s, "东门");
    assert_true(jt808_lay_get_u32(d->lay, "areas[1].name_len", &v));
    assert_int_equal(v, 4); /* GBK bytes */
    /* bad paths and kinds */
    assert_false(jt808_lay_get_u32(d->lay, "areas[2].id", &v));
    assert_false(jt808_lay_get_u32(d->lay, "nope", &v));
    assert_false(jt808_lay_get_u32(d->lay, "areas[1].name", &v));
    assert_false(jt808_lay_get_u32(d->lay, "areas.id", &v));
    const struct jt808_lay_kv bad[] = {{.path = "attr", .u = 256}};
    assert_int_equal(jt808_lay_build(m, &h, bad, 1, &e), JT808_E_VALUE);
    assert_string_equal(e.field, "attr");
    h.msg_id = 0x0200;
    assert_int_equal(jt808_lay_build(m, &h, NULL, 0, &e), JT808_E_UNKNOWN_ID);

    /* a location inside 0x0500 is the 0x0200 decoder's */
    h.msg_id = 0x0500;
    const struct jt808_lay_kv kl[] = {{.path = "ack_serial", .u = 5},
                                      {.path = "location", .p = loc28, .n = sizeof loc28}};
    assert_int_equal(jt808_lay_build(m, &h, kl, 2, &e), JT808_OK);
    assert_int_equal(jt808_encode(m, frame, sizeof frame, &n, &e), JT808_OK);
    assert_int_equal(jt808_decode(frame, n, scratch, sizeof scratch, d, &e), JT808_OK);
    static struct jt808_location ls;
    const struct jt808_location *l = &ls;
    assert_true(jt808_lay_get_loc(d->lay, d, "location", &ls));
    assert_int_equal(l->status, 3);
    assert_int_equal(l->lat, 0x01CBA840);
    assert_string_equal(l->time, "260315081530");
    jt808_msg_free(m);
    jt808_msg_free(d);
    free(m);
    free(d);
}

static void test_zip(void **state)
{
    (void)state;
    struct jt808_msg *m = calloc(1, sizeof *m);
    struct jt808_err e = {0};
    uint8_t body[128] = {0};
    size_t n = 0;
    assert_int_equal(jt808_lay_gzip((const uint8_t *)"abcabcabc", 9, body + 4, sizeof body - 4, &n), JT808_OK);
    body[3] = (uint8_t)n;
    assert_int_equal(decode(0x0901, JT808_V2013, body, n + 4, m, &e), JT808_OK);
    assert_int_equal(m->lay->root[1].u, 9);
    assert_memory_equal(m->lay->root[1].inflated, "abcabcabc", 9);
    body[4 + n / 2] ^= 0x55; /* corrupt the deflate stream */
    body[4 + n - 5] ^= 0x55; /* and the length check */
    assert_int_equal(decode(0x0901, JT808_V2013, body, n + 4, m, &e), JT808_E_VALUE);
    assert_string_equal(e.field, "body.data");
    jt808_msg_free(m);
    free(m);
}

/* A location longer than a single frame's body (a reassembled 0x0500: ack serial, then
 * a location with 1,285 bytes of items, or 600 items) goes to JSON and back to the
 * same bytes (found by fuzz_jt808_layout). */
static void test_long_location(void **state)
{
    (void)state;
    static uint8_t body[2 + 28 + 5 * 257], out[sizeof body + 16];
    memcpy(body + 2, loc28, sizeof loc28);
    body[0] = 0x12;
    body[1] = 0x34;
    for (int i = 0; i < 5; i++) {
        uint8_t *it = body + 2 + 28 + i * 257;
        it[0] = 0xE1;
        it[1] = 255;
        memset(it + 2, 0x40 + i, 255);
    }
    struct jt808_msg *m = calloc(1, sizeof *m);
    struct jt808_err e = {0};
    assert_int_equal(decode(0x0500, JT808_V2013, body, sizeof body, m, &e), JT808_OK);
    assert_int_equal(m->devs.total, 0);
    cJSON *j = jt808_lay_to_json(m->lay);
    assert_non_null(j);
    char msg[200] = "";
    size_t n = 0;
    if (jt808_lay_from_json(j, &m->h, out, sizeof out, &n, msg, sizeof msg) != JT808_OK)
        fail_msg("from json: %s", msg);
    assert_int_equal(n, sizeof body);
    assert_memory_equal(out, body, sizeof body);
    cJSON_Delete(j);

    /* and one with 600 empty items, more than 1023 bytes could hold */
    static uint8_t many[2 + 28 + 600 * 2], out2[sizeof many + 16];
    memcpy(many + 2, loc28, sizeof loc28);
    for (int i = 0; i < 600; i++)
        many[2 + 28 + 2 * i] = 0xE0;
    assert_int_equal(decode(0x0500, JT808_V2013, many, sizeof many, m, &e), JT808_OK);
    j = jt808_lay_to_json(m->lay);
    if (jt808_lay_from_json(j, &m->h, out2, sizeof out2, &n, msg, sizeof msg) != JT808_OK)
        fail_msg("from json: %s", msg);
    assert_int_equal(n, sizeof many);
    assert_memory_equal(out2, many, sizeof many);
    cJSON_Delete(j);
    jt808_msg_free(m);
    free(m);
}

static void test_json_errors(void **state)
{
    (void)state;
    struct jt808_header h = {.msg_id = 0x8202, .version = JT808_V2013};
    uint8_t out[64];
    size_t n;
    char err[200];
    cJSON *j = cJSON_Parse("{\"interval\":10}");
    assert_int_equal(jt808_lay_from_json(j, &h, out, sizeof out, &n, err, sizeof err), JT808_E_VALUE);
    assert_string_equal(err, "body.duration: missing");
    cJSON_Delete(j);
    j = cJSON_Parse("{\"interval\":70000,\"duration\":1}");
    assert_int_equal(jt808_lay_from_json(j, &h, out, sizeof out, &n, err, sizeof err), JT808_E_VALUE);
    assert_string_equal(err, "body.interval: expected an integer 0..65535");
    cJSON_Delete(j);
    j = cJSON_Parse("{\"interval\":1,\"duration\":1,\"extra\":2}");
    assert_int_equal(jt808_lay_from_json(j, &h, out, sizeof out, &n, err, sizeof err), JT808_E_VALUE);
    assert_non_null(strstr(err, "body.extra: unknown field"));
    cJSON_Delete(j);
    h.msg_id = 0x8600;
    j = cJSON_Parse("{\"attr\":0,\"areas\":[{\"id\":1,\"attr\":0,\"lat\":1,\"lon\":2}]}");
    assert_int_equal(jt808_lay_from_json(j, &h, out, sizeof out, &n, err, sizeof err), JT808_E_VALUE);
    assert_string_equal(err, "body.areas[0].radius: missing");
    cJSON_Delete(j);
}

/* The bulk list accessors: a 0x0005 naming 20,000 packages is built in one pass and
 * encodes to orig_serial, count and the ids, big-endian WORDs in order; decoded and
 * read back in one pass it gives the same ids.  Values too wide for the field, a
 * field that is not numeric, a path that is no list change nothing. */
static void test_list_bulk(void **state)
{
    (void)state;
    enum { N = 20000 };
    static uint32_t ids[N], back[N];
    static uint8_t body[4 + 2 * N];
    for (size_t i = 0; i < N; i++)
        ids[i] = (uint32_t)(i * 3 + 1) & 0xFFFF;
    struct jt808_msg m;
    memset(&m, 0, sizeof m);
    m.h.msg_id = 0x0005;
    m.h.version = JT808_V2019;
    struct jt808_lay_body *b = jt808_lay_new(&m);
    assert_non_null(b);
    assert_true(jt808_lay_set_u32(b, &m, "orig_serial", 0x1234));
    assert_true(jt808_lay_list_set_u32(b, &m, "ids", "id", ids, N));
    size_t len = 0;
    struct jt808_err e;
    assert_int_equal(jt808_lay_encode(b, body, sizeof body, &len, &e), JT808_OK);
    assert_int_equal(len, 4 + 2 * N);
    assert_int_equal(body[0], 0x12);
    assert_int_equal(body[1], 0x34);
    assert_int_equal((body[2] << 8) | body[3], N); /* the count, filled in from the list */
    for (size_t i = 0; i < N; i++)
        if (((uint32_t)body[4 + 2 * i] << 8 | body[5 + 2 * i]) != ids[i])
            fail_msg("id %zu: %02x%02x, want %04x", i, body[4 + 2 * i], body[5 + 2 * i], ids[i]);
    /* the same as a path per item would give, for a short list */
    struct jt808_msg p;
    memset(&p, 0, sizeof p);
    p.h = m.h;
    struct jt808_lay_body *pb = jt808_lay_new(&p);
    assert_true(jt808_lay_set_u32(pb, &p, "orig_serial", 0x1234));
    char path[32];
    for (size_t i = 0; i < 50; i++) {
        snprintf(path, sizeof path, "ids[%zu].id", i);
        assert_true(jt808_lay_set_u32(pb, &p, path, ids[i]));
    }
    uint8_t small[200], small2[200];
    size_t n1 = 0, n2 = 0;
    assert_int_equal(jt808_lay_encode(pb, small, sizeof small, &n1, &e), JT808_OK);
    assert_true(jt808_lay_list_set_u32(b, &m, "ids", "id", ids, 50)); /* shrinks to 50 */
    assert_int_equal(jt808_lay_encode(b, small2, sizeof small2, &n2, &e), JT808_OK);
    assert_int_equal(n1, n2);
    assert_memory_equal(small, small2, n1);

    struct jt808_msg d;
    memset(&d, 0, sizeof d);
    d.h = m.h;
    assert_int_equal(jt808_lay_decode(body, len, &d, &e), JT808_OK);
    size_t n = 0;
    assert_true(jt808_lay_list_get_u32(d.lay, "ids", "id", back, N, &n));
    assert_int_equal(n, N);
    assert_memory_equal(back, ids, sizeof ids);
    uint32_t few[3] = {0};
    assert_true(jt808_lay_list_get_u32(d.lay, "ids", "id", few, 3, &n));
    assert_int_equal(n, N); /* the length, whatever the cap */
    assert_int_equal(few[2], ids[2]);

    /* refusals leave the list as it was */
    uint32_t wide[2] = {1, 0x10000};
    assert_false(jt808_lay_list_set_u32(b, &m, "ids", "id", wide, 2));
    assert_true(jt808_lay_list_get_u32(b, "ids", "id", few, 3, &n));
    assert_int_equal(n, 50);
    assert_false(jt808_lay_list_set_u32(b, &m, "ids", "nope", ids, 2));
    assert_false(jt808_lay_list_set_u32(b, &m, "orig_serial", "id", ids, 2));
    assert_false(jt808_lay_list_set_u32(b, &m, "nolist", "id", ids, 2));
    assert_false(jt808_lay_list_get_u32(b, "count", "id", few, 3, &n));
    assert_false(jt808_lay_list_set_u32(NULL, &m, "ids", "id", ids, 2));
    /* a 2013 0x8003: count is a BYTE, the ids WORDs all the same */
    struct jt808_msg q;
    memset(&q, 0, sizeof q);
    q.h.msg_id = 0x8003;
    q.h.version = JT808_V2013;
    struct jt808_lay_body *qb = jt808_lay_new(&q);
    uint32_t two[2] = {0xFFFF, 2};
    assert_true(jt808_lay_list_set_u32(qb, &q, "ids", "id", two, 2));
    assert_int_equal(jt808_lay_encode(qb, small, sizeof small, &n1, &e), JT808_OK);
    static const uint8_t want8003[] = {0, 0, 2, 0xFF, 0xFF, 0, 2};
    assert_int_equal(n1, sizeof want8003);
    assert_memory_equal(small, want8003, sizeof want8003);
    jt808_msg_free(&m);
    jt808_msg_free(&p);
    jt808_msg_free(&d);
    jt808_msg_free(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_id_roundtrips),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_trailing_and_overrun),
        cmocka_unit_test(test_editions),
        cmocka_unit_test(test_build_and_access),
        cmocka_unit_test(test_zip),
        cmocka_unit_test(test_long_location),
        cmocka_unit_test(test_json_errors),
        cmocka_unit_test(test_list_bulk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
