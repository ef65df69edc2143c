/* Frames that deviate on purpose (sim/dev/jt808_deviate.c): each kind, encoded into
 * a 0x0200 or 0x0104 as a terminal sends them, decodes with exactly that deviation
 * and nothing else; the chosen share of a fleet; the kind rotation. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sim/dev/jt808_deviate.h"
#include "sim/proto/jt808.h"

#include <setjmp.h>
#include <cmocka.h>

static struct jt808_msg out, in;
static struct jt808_loc_item items[5];
static struct jt808_param params[3];

static void header(uint16_t id, enum jt808_version v)
{
    memset(&out.h, 0, sizeof out.h);
    out.h.msg_id = id;
    out.h.version = v;
    out.h.proto_version = v == JT808_V2019 ? 1 : 0;
    snprintf(out.h.phone, sizeof out.h.phone, v == JT808_V2019 ? "00000000013800000001" : "013800000001");
    out.h.serial = 7;
    out.body = NULL;
    out.body_bytes = 0;
}

static void fill_0200(enum jt808_version v)
{
    header(0x0200, v);
    struct jt808_location *l = &out.b.loc;
    memset(l, 0, sizeof *l);
    l->status = 3;
    l->lat = 31230000;
    l->lon = 121470000;
    l->altitude = 50;
    l->speed = 400;
    l->direction = 90;
    memcpy(l->time, "260102030405", 13);
    static const struct { uint8_t id, len; uint32_t v; } it[5] = {
        {0x01, 4, 1234}, {0x25, 4, 0}, {0x2A, 2, 0}, {0x30, 1, 25}, {0x31, 1, 9}};
    l->items = items;
    l->n_items = 5;
    for (int i = 0; i < 5; i++) {
        memset(&items[i], 0, sizeof items[i]);
        items[i].id = it[i].id;
        items[i].len = it[i].len;
        items[i].value = it[i].v;
        items[i].known = true;
        for (int b = 0; b < it[i].len; b++)
            items[i].raw[b] = (uint8_t)(it[i].v >> (8 * (it[i].len - 1 - b)));
    }
}

static void fill_0104(enum jt808_version v)
{
    header(0x0104, v);
    struct jt808_params_resp *r = &out.b.params_resp;
    r->ack_serial = 3;
    r->p.params = params;
    r->p.count = r->p.n_params = 3;
    static const uint32_t ids[3] = {0x0083, 0x0001, 0x0029};
    for (int i = 0; i < 3; i++) {
        struct jt808_param *q = &params[i];
        memset(q, 0, sizeof *q);
        q->id = ids[i];
        if (ids[i] == 0x0083) {
            q->type = JT808_PT_STRING;
            snprintf(q->str, sizeof q->str, "TEST01");
            q->len = 6;
            memcpy(q->raw, q->str, 6);
        } else {
            q->type = JT808_PT_DWORD;
            q->len = 4;
            q->num = 30;
            q->raw[3] = 30;
        }
    }
}

/* encode with kind k and decode: exactly one deviation, of that kind */
static void one_kind(enum jt808_dev_kind k, enum jt808_version v)
{
    uint8_t frame[JT808_MAX_FRAME], scratch[JT808_MAX_FRAME];
    size_t len = 0;
    struct jt808_err err;
    assert_int_equal(jt808_deviate_encode(&out, k, frame, sizeof frame, &len, &err), JT808_OK);
    assert_null(out.body); /* the rewritten body is not left behind */
    assert_int_equal(jt808_decode(frame, len, scratch, sizeof scratch, &in, &err), JT808_OK);
    assert_int_equal(in.devs.total, 1);
    assert_int_equal(in.devs.d[0].kind, k);
    assert_int_equal(in.h.msg_id, out.h.msg_id);
    assert_int_equal(in.h.serial, 7);
    /* the strict decoder refuses it */
    assert_int_equal(jt808_decode_strict(frame, len, scratch, sizeof scratch, &in, &err), JT808_E_DEVIATION);
    /* and the same message without the deviation is clean */
    assert_int_equal(jt808_encode(&out, frame, sizeof frame, &len, &err), JT808_OK);
    assert_int_equal(jt808_decode(frame, len, scratch, sizeof scratch, &in, &err), JT808_OK);
    assert_int_equal(in.devs.total, 0);
}

static void test_report_kinds(void **state)
{
    (void)state;
    for (int v = 0; v < 2; v++) {
        enum jt808_version ver = v ? JT808_V2019 : JT808_V2013;
        fill_0200(ver);
        one_kind(JT808_DEV_ITEM_LENGTH, ver);
        fill_0200(ver);
        one_kind(JT808_DEV_ITEM_TRUNCATED, ver);
        fill_0200(ver);
        one_kind(JT808_DEV_UNESCAPED_CHECK, ver);
    }
    /* the unescaped check: the frame ends 7D 7E, the rest of the report intact */
    fill_0200(JT808_V2013);
    uint8_t frame[JT808_MAX_FRAME], scratch[JT808_MAX_FRAME];
    size_t len = 0;
    struct jt808_err err;
    assert_int_equal(jt808_deviate_encode(&out, JT808_DEV_UNESCAPED_CHECK, frame, sizeof frame, &len, &err),
                     JT808_OK);
    assert_int_equal(frame[len - 2], 0x7D);
    assert_int_equal(frame[len - 1], 0x7E);
    assert_int_equal(jt808_decode(frame, len, scratch, sizeof scratch, &in, &err), JT808_OK);
    assert_int_equal(in.b.loc.lat, 31230000);
    assert_int_equal(in.b.loc.n_items, 5);
    assert_int_equal(in.b.loc.items[3].value, 25);
    /* item-length: 0x30 sent as two bytes, kept raw */
    fill_0200(JT808_V2013);
    assert_int_equal(jt808_deviate_encode(&out, JT808_DEV_ITEM_LENGTH, frame, sizeof frame, &len, &err), JT808_OK);
    assert_int_equal(jt808_decode(frame, len, scratch, sizeof scratch, &in, &err), JT808_OK);
    assert_int_equal(in.b.loc.items[3].id, 0x30);
    assert_int_equal(in.b.loc.items[3].len, 2);
    assert_false(in.b.loc.items[3].known);
    assert_string_equal(in.devs.d[0].field, "body.items[0x30]");
    jt808_msg_free(&in);
}

static void test_params_kinds(void **state)
{
    (void)state;
    for (int v = 0; v < 2; v++) {
        enum jt808_version ver = v ? JT808_V2019 : JT808_V2013;
        fill_0104(ver);
        one_kind(JT808_DEV_PARAM_LENGTH, ver);
        fill_0104(ver);
        one_kind(JT808_DEV_COUNT_OVERRUN, ver);
        fill_0104(ver);
        one_kind(JT808_DEV_TRAILING_BYTES, ver);
    }
    uint8_t frame[JT808_MAX_FRAME], scratch[JT808_MAX_FRAME];
    size_t len = 0;
    struct jt808_err err;
    fill_0104(JT808_V2013);
    assert_int_equal(jt808_deviate_encode(&out, JT808_DEV_PARAM_LENGTH, frame, sizeof frame, &len, &err), JT808_OK);
    assert_int_equal(jt808_decode(frame, len, scratch, sizeof scratch, &in, &err), JT808_OK);
    assert_int_equal(in.b.params_resp.p.n_params, 3);
    assert_int_equal(in.b.params_resp.p.params[1].id, 0x0001); /* the first DWORD, sent as a WORD */
    assert_int_equal(in.b.params_resp.p.params[1].len, 2);
    assert_int_equal(in.b.params_resp.p.params[1].type, JT808_PT_RAW);
    assert_int_equal(in.b.params_resp.p.params[2].num, 30);
    fill_0104(JT808_V2013);
    assert_int_equal(jt808_deviate_encode(&out, JT808_DEV_COUNT_OVERRUN, frame, sizeof frame, &len, &err), JT808_OK);
    assert_int_equal(jt808_decode(frame, len, scratch, sizeof scratch, &in, &err), JT808_OK);
    assert_int_equal(in.b.params_resp.p.count, 4);
    assert_int_equal(in.b.params_resp.p.n_params, 3);
    jt808_msg_free(&in);
}

static void test_not_applicable(void **state)
{
    (void)state;
    uint8_t frame[JT808_MAX_FRAME];
    size_t len = 0;
    struct jt808_err err;
    fill_0200(JT808_V2013);
    assert_int_equal(jt808_deviate_encode(&out, JT808_DEV_COUNT_OVERRUN, frame, sizeof frame, &len, &err),
                     JT808_E_VALUE);
    fill_0104(JT808_V2013);
    assert_int_equal(jt808_deviate_encode(&out, JT808_DEV_ITEM_LENGTH, frame, sizeof frame, &len, &err),
                     JT808_E_VALUE);
    /* a report without item 0x30 cannot carry item-length */
    fill_0200(JT808_V2013);
    out.b.loc.n_items = 3;
    assert_int_equal(jt808_deviate_encode(&out, JT808_DEV_ITEM_LENGTH, frame, sizeof frame, &len, &err),
                     JT808_E_VALUE);
    assert_false(jt808_deviate_applies(0x0002, JT808_DEV_TRAILING_BYTES));
}

static void test_chosen_and_pick(void **state)
{
    (void)state;
    int n = 0;
    for (uint32_t i = 0; i < 20; i++)
        if (jt808_deviate_chosen(i, 0.25)) {
            assert_int_equal(i % 4, 3);
            n++;
        }
    assert_int_equal(n, 5);
    n = 0;
    for (uint32_t i = 0; i < 1000; i++)
        n += jt808_deviate_chosen(i, 0.1);
    assert_int_equal(n, 100);
    for (uint32_t i = 0; i < 10; i++) {
        assert_false(jt808_deviate_chosen(i, 0));
        assert_true(jt808_deviate_chosen(i, 1));
    }
    unsigned mask = 1u << JT808_DEV_ITEM_LENGTH | 1u << JT808_DEV_UNESCAPED_CHECK | 1u << JT808_DEV_COUNT_OVERRUN;
    assert_int_equal(jt808_deviate_pick(0x0200, mask, 0), JT808_DEV_ITEM_LENGTH);
    assert_int_equal(jt808_deviate_pick(0x0200, mask, 1), JT808_DEV_UNESCAPED_CHECK);
    assert_int_equal(jt808_deviate_pick(0x0200, mask, 2), JT808_DEV_ITEM_LENGTH);
    assert_int_equal(jt808_deviate_pick(0x0104, mask, 5), JT808_DEV_COUNT_OVERRUN);
    assert_int_equal(jt808_deviate_pick(0x0002, mask, 5), -1);
    assert_int_equal(jt808_deviate_pick(0x0104, 1u << JT808_DEV_ITEM_LENGTH, 5), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_kinds),
        cmocka_unit_test(test_params_kinds),
        cmocka_unit_test(test_not_applicable),
        cmocka_unit_test(test_chosen_and_pick),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    jt808_msg_free(&in);
    return rc;
}
