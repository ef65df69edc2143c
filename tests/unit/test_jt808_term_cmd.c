/* The JT/T 808 terminal's answers to the platform requests beyond the foundation's
 * (jt808_term_cmd.c, jt808_term_media.c): a one-terminal fleet on the memory
 * transport and a frozen clock (tests/unit/jt808_term_fixture.h).  Each request is
 * built with the codec's layout engine, each answer decoded and checked field by
 * field against it; timings are exact in virtual time.  The JPEG of a shot is
 * reassembled from its 0x0801 packages and handed to libjpeg, a decoder we did
 * not write. */
#include <stdio.h>
#include <time.h>

#include <jpeglib.h> /* before cmocka.h, which the fixture includes */
#include "tests/unit/jt808_term_fixture.h"
#include "sim/proto/jt808_pkgs.h"
#include "sim/proto/jt808_rsa.h"

static const char *one_fleet(int version, const char *fleet)
{
    static char json[2048];
    snprintf(json, sizeof json,
             "{\"name\": \"d\", \"duration\": \"1h\", \"fleets\": [{\"id\": \"f\", \"protocol\": \"jt808\", "
             "\"count\": 1, \"version\": %d, \"phone\": \"13800000000+\", \"ack_timeout\": \"10s\""
             "%s%s%s%s}]}",
             version, strstr(fleet, "\"heartbeat\"") ? "" : ", \"heartbeat\": \"1h\"",
             strstr(fleet, "\"report\"") ? "" : ", \"report\": null", fleet[0] ? ", " : "", fleet);
    return json;
}

/* --- what the terminal sent (more in tests/unit/jt808_term_fixture.h) --- */

static uint32_t u32(const struct jt808_msg *m, const char *path)
{
    uint32_t v = 0;
    if (!jt808_lay_get_u32(m->lay, path, &v))
        fail_msg("0x%04X has no %s", m->h.msg_id, path);
    return v;
}

static const char *str(const struct jt808_msg *m, const char *path)
{
    const char *v = NULL;
    if (!jt808_lay_get_str(m->lay, path, &v))
        fail_msg("0x%04X has no %s", m->h.msg_id, path);
    return v;
}

static size_t list_len(const struct jt808_msg *m, const char *path)
{
    size_t n = 0;
    if (!jt808_lay_list_len(m->lay, path, &n))
        fail_msg("0x%04X has no list %s", m->h.msg_id, path);
    return n;
}

/* Start, register and authenticate at virtual time 0. */
static struct dh *online(int version, const char *fleet)
{
    return online_from(one_fleet(version, fleet));
}

/* ---- jt808_term_cmd.c ------------------------------------------------------------------ */

/* 0x8106: 0x0104 answering it, with only the asked ids it knows, in the order asked. */
static void test_query_given_params(void **state)
{
    (void)state;
    struct dh *h = online(2013, "\"heartbeat\": \"30s\", \"report\": {\"every\": \"1h\"}");
    struct term *t = dh_term(h, 0, 0);
    const struct jt808_lay_kv kv[] = {{.path = "ids[0].id", .u = 0x0029}, {.path = "ids[1].id", .u = 0x9999},
                                      {.path = "ids[2].id", .u = 0x0001}};
    uint16_t q = send_lay(t, 0x8106, kv, 3);
    struct sent s = {0};
    sent_take(&s, t);
    const struct jt808_msg *m = want(&s, 0x0104);
    assert_int_equal(m->b.params_resp.ack_serial, q);
    assert_int_equal(m->b.params_resp.p.count, 2);
    assert_int_equal(m->b.params_resp.p.n_params, 2);
    assert_int_equal(m->b.params_resp.p.params[0].id, 0x0029);
    assert_int_equal(m->b.params_resp.p.params[0].len, 4);
    assert_int_equal(m->b.params_resp.p.params[0].num, 3600);
    assert_int_equal(m->b.params_resp.p.params[1].id, 0x0001);
    assert_int_equal(m->b.params_resp.p.params[1].num, 30);
    want_none(&s);
    sent_free(&s);
    assert_int_equal(dh_stats(h, 0)->replies, 1);
    assert_int_equal(JT(t)->more, 0); /* nothing kept for it */
    finish(h);
}

/* 0x8107: 0x0107 with the registration's fields at the edition's sizes. */
static void test_properties(void **state)
{
    (void)state;
    for (int v = 0; v < 2; v++) {
        struct dh *h = online(v ? 2019 : 2013, "");
        struct term *t = dh_term(h, 0, 0);
        send_body(t, 0x8107, NULL, 0);
        struct sent s = {0};
        sent_take(&s, t);
        const struct jt808_msg *m = want(&s, 0x0107);
        /* type, manufacturer, model, terminal id, ICCID BCD[10], hw len + 6, fw len + 12, gnss, comm */
        assert_int_equal(m->h.body_len, 2 + (v ? 11 + 30 + 30 : 5 + 20 + 7) + 10 + 1 + 6 + 1 + 12 + 1 + 1);
        assert_int_equal(u32(m, "type"), 0x0004);
        assert_string_equal(str(m, "manufacturer"), "FSIM1");
        assert_string_equal(str(m, "model"), "FS-TERM");
        assert_string_equal(str(m, "terminal_id"), v ? "T00000000001" : "T000001");
        assert_string_equal(str(m, "iccid"), "89860000000000000001");
        assert_string_equal(str(m, "hw_version"), "FS-HW1");
        assert_string_equal(str(m, "fw_version"), "fleetsim-1.0");
        assert_int_equal(u32(m, "gnss"), 0x03);
        assert_int_equal(u32(m, "comm"), 0x01);
        want_none(&s);
        sent_free(&s);
        finish(h);
    }
}

/* 0x8202: reports every interval for the validity, then none; the tracking state
 * exists only while it runs.  Interval 0 stops a tracking early. */
static void test_temporary_tracking(void **state)
{
    (void)state;
    struct dh *h = online(2013, "");
    struct term *t = dh_term(h, 0, 0);
    struct fleet_stats *st = dh_stats(h, 0);
    dh_run_to(h, 1 * S);
    const struct jt808_lay_kv kv[] = {{.path = "interval", .u = 2}, {.path = "duration", .u = 7}};
    uint16_t q = send_lay(t, 0x8202, kv, 2);
    struct sent s = {0};
    sent_take(&s, t);
    check_general(want(&s, 0x0001), q, 0x8202, 0);
    want_none(&s);
    assert_non_null(jt_more(t, false));
    assert_non_null(jt_more(t, false)->track);
    uint64_t at[3] = {3 * S, 5 * S, 7 * S};
    for (int i = 0; i < 3; i++) {
        dh_run_to(h, at[i] - 10 * MS);
        nothing_sent(t);
        dh_run_to(h, at[i] + 3 * MS); /* the wheel's resolution */
        sent_take(&s, t);
        const struct jt808_msg *m = want(&s, 0x0200);
        want_none(&s);
        ack(t, m->h.serial, 0x0200);
    }
    dh_run_to(h, 20 * S);
    nothing_sent(t);
    assert_int_equal(st->dc[JT808_C_TRACKING_REPORTS], 3);
    assert_int_equal(st->reports_acked, 3);
    assert_null(jt_more(t, false)->track);

    const struct jt808_lay_kv again[] = {{.path = "interval", .u = 1}, {.path = "duration", .u = 100}};
    send_lay(t, 0x8202, again, 2);
    sent_take(&s, t);
    want(&s, 0x0001);
    dh_run_to(h, 21 * S + 3 * MS);
    sent_take(&s, t);
    ack(t, want(&s, 0x0200)->h.serial, 0x0200);
    const struct jt808_lay_kv stop[] = {{.path = "interval", .u = 0}, {.path = "duration", .u = 0}};
    q = send_lay(t, 0x8202, stop, 2);
    sent_take(&s, t);
    check_general(want(&s, 0x0001), q, 0x8202, 0);
    assert_null(jt_more(t, false)->track);
    dh_run_to(h, 30 * S);
    nothing_sent(t);
    assert_int_equal(st->dc[JT808_C_TRACKING_REPORTS], 4);
    sent_free(&s);
    finish(h);
}

/* 0x8203: the confirmed bits leave the alarm word, the others stay. */
static void test_alarm_confirm(void **state)
{
    (void)state;
    struct dh *h = online(2013, "");
    struct term *t = dh_term(h, 0, 0);
    JT(t)->alarm_bits = 0x00300001u;
    const struct jt808_lay_kv kv[] = {{.path = "ack_serial", .u = 0}, {.path = "alarm_type", .u = 0x00100001u}};
    uint16_t q = send_lay(t, 0x8203, kv, 2);
    struct sent s = {0};
    sent_take(&s, t);
    check_general(want(&s, 0x0001), q, 0x8203, 0);
    assert_int_equal(JT(t)->alarm_bits, 0x00200000u);
    q = send_body(t, 0x8201, NULL, 0);
    sent_take(&s, t);
    const struct jt808_msg *m = want(&s, 0x0201);
    assert_int_equal(m->b.loc_resp.ack_serial, q);
    assert_int_equal(m->b.loc_resp.loc.alarm, 0x00200000u);
    sent_free(&s);
    finish(h);
}

/* Requests answered by 0x0001 alone; 0x8301 events and 0x8303 menu items are kept,
 * and the driver reports the first event set (0x0301) or orders the first item
 * (0x0303 flag 1), but not after a delete. */
static void test_general_answers(void **state)
{
    (void)state;
    struct dh *h = online(2019, "");
    struct term *t = dh_term(h, 0, 0);
    struct sent s = {0};
    uint16_t q = send_body(t, 0x8204, NULL, 0);
    sent_take(&s, t);
    check_general(want(&s, 0x0001), q, 0x8204, 0);

    const struct jt808_lay_kv ev[] = {{.path = "type", .u = 1}, {.path = "events[0].id", .u = 3},
                                      {.path = "events[0].content", .s = "jam"},
                                      {.path = "events[1].id", .u = 9}, {.path = "events[1].content", .s = "rain"}};
    q = send_lay(t, 0x8301, ev, 5);
    sent_take(&s, t);
    check_general(want(&s, 0x0001), q, 0x8301, 0);
    const struct jt808_msg *r = want(&s, 0x0301);
    assert_int_equal(r->h.body_len, 1);
    assert_int_equal(u32(r, "event_id"), 3);
    want_none(&s);
    assert_int_equal(jt_more(t, false)->events[0], 1u << 3);
    assert_int_equal(jt_more(t, false)->events[1], 1u << 1);
    const struct jt808_lay_kv ev2[] = {{.path = "type", .u = 4}, {.path = "events[0].id", .u = 3},
                                       {.path = "events[0].content", .s = ""}};
    send_lay(t, 0x8301, ev2, 3);
    sent_take(&s, t);
    want(&s, 0x0001);
    want_none(&s); /* a delete: nothing to report */
    assert_int_equal(jt_more(t, false)->events[0], 0);
    assert_int_equal(jt_more(t, false)->events[1], 1u << 1);

    const struct jt808_lay_kv menu[] = {{.path = "type", .u = 2}, {.path = "items[0].type", .u = 7},
                                        {.path = "items[0].name", .s = "news"}};
    q = send_lay(t, 0x8303, menu, 3);
    sent_take(&s, t);
    check_general(want(&s, 0x0001), q, 0x8303, 0);
    r = want(&s, 0x0303);
    assert_int_equal(r->h.body_len, 2);
    assert_int_equal(u32(r, "type"), 7);
    assert_int_equal(u32(r, "flag"), 1);
    want_none(&s);
    const struct jt808_lay_kv menu0[] = {{.path = "type", .u = 0}, {.path = "count", .u = 0}};
    send_lay(t, 0x8303, menu0, 2);
    sent_take(&s, t);
    want(&s, 0x0001);
    want_none(&s); /* delete all: nothing to order */
    assert_int_equal(jt_more(t, false)->menu[0], 0);
    send_lay(t, 0x8303, menu, 3);
    sent_take(&s, t);
    want(&s, 0x0001);
    want(&s, 0x0303);
    assert_int_equal(jt_more(t, false)->menu[0], 1u << 7);

    const struct { uint16_t id; struct jt808_lay_kv kv[2]; } more[] = {
        {0x8304, {{.path = "type", .u = 7}, {.path = "content", .s = "sunny"}}},
        {0x8400, {{.path = "flag", .u = 0}, {.path = "phone", .s = "13800000001"}}},
        {0x8401, {{.path = "type", .u = 0}, {.path = "count", .u = 0}}},
        {0x8701, {{.path = "command", .u = 0x82}, {.path = "data", .p = (const uint8_t *)"\x01\x02", .n = 2}}},
        {0x8900, {{.path = "type", .u = 0x41}, {.path = "data", .p = (const uint8_t *)"\xAA", .n = 1}}},
    };
    for (size_t i = 0; i < sizeof more / sizeof more[0]; i++) {
        q = send_lay(t, more[i].id, more[i].kv, 2);
        sent_take(&s, t);
        check_general(want(&s, 0x0001), q, more[i].id, 0);
        want_none(&s);
    }
    assert_int_equal(dh_stats(h, 0)->replies, 11);
    assert_int_equal(dh_stats(h, 0)->commands, 11);
    sent_free(&s);
    finish(h);
}

/* 0x8302: 0x0001, then 0x0302 answering that question with its first answer. */
static void test_question(void **state)
{
    (void)state;
    struct dh *h = online(2013, "");
    struct term *t = dh_term(h, 0, 0);
    const struct jt808_lay_kv kv[] = {
        {.path = "flag", .u = 0x08}, {.path = "question", .s = "ok?"}, {.path = "answers[0].id", .u = 5},
        {.path = "answers[0].content", .s = "yes"}, {.path = "answers[1].id", .u = 6},
        {.path = "answers[1].content", .s = "no"}};
    uint16_t q = send_lay(t, 0x8302, kv, 6);
    struct sent s = {0};
    sent_take(&s, t);
    check_general(want(&s, 0x0001), q, 0x8302, 0);
    const struct jt808_msg *m = want(&s, 0x0302);
    assert_int_equal(m->h.body_len, 3);
    assert_int_equal(u32(m, "ack_serial"), q);
    assert_int_equal(u32(m, "answer_id"), 5);
    want_none(&s);
    sent_free(&s);
    finish(h);
}

static void check_0500(struct sent *s, uint16_t q, bool locked)
{
    const struct jt808_msg *m = want(s, 0x0500);
    assert_int_equal(u32(m, "ack_serial"), q);
    struct jt808_location loc;
    assert_true(jt808_lay_get_loc(m->lay, &rx, "location", &loc));
    assert_int_equal(!!(loc.status & (1u << 12)), locked);
    assert_true(loc.status & 0x2u); /* positioned */
    assert_int_equal(loc.n_items, TERM_ITEMS);
    assert_in_range(loc.lat, 39800000, 40000000);
}

/* 0x8500: 0x0500 with the location whose door bit the control changed. */
static void test_vehicle_control(void **state)
{
    (void)state;
    struct dh *h = online(2013, "");
    struct term *t = dh_term(h, 0, 0);
    struct sent s = {0};
    const struct jt808_lay_kv lock[] = {{.path = "flag", .u = 1}};
    uint16_t q = send_lay(t, 0x8500, lock, 1);
    sent_take(&s, t);
    check_0500(&s, q, true);
    const struct jt808_lay_kv unlock[] = {{.path = "flag", .u = 0}};
    q = send_lay(t, 0x8500, unlock, 1);
    sent_take(&s, t);
    check_0500(&s, q, false);
    finish(h);

    h = online(2019, "");
    t = dh_term(h, 0, 0);
    const struct jt808_lay_kv close19[] = {{.path = "controls[0].id", .u = 1}, {.path = "controls[0].param", .u = 0}};
    q = send_lay(t, 0x8500, close19, 2);
    sent_take(&s, t);
    check_0500(&s, q, true);
    assert_int_equal(JT(t)->status_bits, 1u << 12);
    const struct jt808_lay_kv open19[] = {{.path = "controls[0].id", .u = 1}, {.path = "controls[0].param", .u = 1}};
    q = send_lay(t, 0x8500, open19, 2);
    sent_take(&s, t);
    check_0500(&s, q, false);
    sent_free(&s);
    finish(h);
}

/* 0x8700: 0x0700 with the command and a GB/T 19056 frame: 55 7A, command, length,
 * reserved, data, XOR check. */
static void test_tachograph(void **state)
{
    (void)state;
    struct dh *h = online(2013, "");
    struct term *t = dh_term(h, 0, 0);
    struct sent s = {0};
    static const uint8_t want_len[] = {2, 18, 6, 20, 8, 0};
    static const uint8_t cmds[] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x10};
    for (size_t i = 0; i < sizeof cmds; i++) {
        const struct jt808_lay_kv kv[] = {{.path = "command", .u = cmds[i]}, {.path = "data", .p = (const uint8_t *)"", .n = 0}};
        uint16_t q = send_lay(t, 0x8700, kv, 2);
        sent_take(&s, t);
        const struct jt808_msg *m = want(&s, 0x0700);
        assert_int_equal(u32(m, "ack_serial"), q);
        assert_int_equal(u32(m, "command"), cmds[i]);
        const uint8_t *d;
        size_t n;
        assert_true(jt808_lay_get_bytes(m->lay, "data", &d, &n));
        assert_int_equal(n, 7u + want_len[i]);
        assert_int_equal(d[0], 0x55);
        assert_int_equal(d[1], 0x7A);
        assert_int_equal(d[2], cmds[i]);
        assert_int_equal(d[3] << 8 | d[4], want_len[i]);
        assert_int_equal(d[5], 0x00);
        assert_int_equal(d[n - 1], jt808_xor(d, n - 1));
        if (cmds[i] == 0x00)
            assert_int_equal(d[6], 0x12); /* GB/T 19056-2012 */
        if (cmds[i] == 0x02) { /* now, BCD, GMT+8 */
            char txt[13], now[13];
            size_t bad;
            assert_int_equal(jt808_bcd_decode(d + 6, 6, txt, &bad), JT808_OK);
            jt808_time_text(clock_unix_at(clock_now_us()), now);
            assert_memory_equal(txt, now, 10); /* to the minute */
        }
    }
    sent_free(&s);
    finish(h);
}

/* 0x8702: 0x0702 with a card read, answered by the platform (a request). */
static void test_driver_identity(void **state)
{
    (void)state;
    for (int v = 0; v < 2; v++) {
        struct dh *h = online(v ? 2019 : 2013, "");
        struct term *t = dh_term(h, 0, 0);
        struct fleet_stats *st = dh_stats(h, 0);
        uint64_t sent0 = st->ledger.sent;
        send_body(t, 0x8702, NULL, 0);
        struct sent s = {0};
        sent_take(&s, t);
        const struct jt808_msg *m = want(&s, 0x0702);
        assert_int_equal(u32(m, "state"), 1);
        assert_int_equal(u32(m, "ic_result"), 0);
        assert_int_equal(strlen(str(m, "time")), 12);
        assert_string_equal(str(m, "name"), "DRIVER00001");
        assert_string_equal(str(m, "certificate"), "QC000000000000000001");
        assert_string_equal(str(m, "org"), "FLEETSIM TRANSPORT");
        assert_string_equal(str(m, "cert_expiry"), "20301231");
        const char *id = NULL;
        assert_int_equal(jt808_lay_get_str(m->lay, "driver_id", &id), v == 1);
        if (v)
            assert_string_equal(id, "110101198001010001");
        assert_int_equal(st->ledger.sent, sent0 + 1);
        ack(t, m->h.serial, 0x0702);
        assert_int_equal(st->ledger.acked, st->ledger.sent);
        sent_free(&s);
        finish(h);
    }
}

/* ---- jt808_term_media.c ------------------------------------------------------------------ */

/* One 0x0801 as it came: its packages' frames and the body they make. */
struct upload_seen {
    uint16_t first_serial, total;
    uint8_t frames[32][JT808_MAX_FRAME];
    size_t frame_len[32];
    uint16_t serial[32];
    uint8_t body[16384];
    size_t body_len;
    struct jt808_msg whole;
};
static struct upload_seen U;

/* Take the packages of one 0x0801 from s (more come on later turns of the loop: at
 * most `burst` per turn, the rest after the pacing gap). */
static void take_upload(struct dh *h, struct term *t, struct sent *s, int burst)
{
    memset(U.frame_len, 0, sizeof U.frame_len);
    U.body_len = 0;
    uint16_t got = 0;
    for (int turn = 0; turn < 50 && (!got || got < U.total); turn++) {
        int this_turn = 0;
        const struct jt808_msg *m;
        while ((m = sent_next(s)) != NULL) {
            if (m->h.msg_id != 0x0801)
                fail_msg("0x%04X amid the 0x0801 packages", m->h.msg_id);
            assert_true(m->h.subpackage);
            if (!got) {
                U.total = m->h.pkg_total;
                U.first_serial = m->h.serial;
                assert_true(U.total <= 32);
            }
            assert_int_equal(m->h.pkg_total, U.total);
            assert_int_equal(m->h.pkg_index, got + 1); /* in order */
            assert_int_equal(m->h.serial, (uint16_t)(U.first_serial + got));
            assert_true(m->body_bytes <= 900);
            memcpy(U.frames[got], s->frame, s->frame_len);
            U.frame_len[got] = s->frame_len;
            U.serial[got] = m->h.serial;
            memcpy(U.body + U.body_len, m->body, m->body_bytes);
            U.body_len += m->body_bytes;
            got++;
            this_turn++;
        }
        if (got && got < U.total && burst)
            assert_true(this_turn <= burst); /* paced, not one burst */
        if (got == U.total && got)
            break;
        dh_run_to(h, clock_now_us() + 20 * MS);
        sent_take(s, t);
    }
    if (!got || got != U.total)
        fail_msg("%u of %u packages of the 0x0801 came", got, U.total);
    jt808_msg_free(&U.whole);
    memset(&U.whole, 0, sizeof U.whole);
    U.whole.h.msg_id = 0x0801;
    U.whole.h.version = rx.h.version;
    struct jt808_err e;
    assert_int_equal(jt808_body_decode(U.body, U.body_len, &U.whole, &e), JT808_OK);
}

struct jerr {
    struct jpeg_error_mgr mgr;
    jmp_buf jb;
};
static void jpeg_fail(j_common_ptr c)
{
    longjmp(((struct jerr *)c->err)->jb, 1);
}

/* libjpeg takes the bytes as a baseline JPEG: width x height, one component. */
static void libjpeg_decodes(const uint8_t *p, size_t n, unsigned w, unsigned hgt)
{
    struct jpeg_decompress_struct d;
    struct jerr je;
    d.err = jpeg_std_error(&je.mgr);
    je.mgr.error_exit = jpeg_fail;
    if (setjmp(je.jb)) {
        char msg[JMSG_LENGTH_MAX];
        je.mgr.format_message((j_common_ptr)&d, msg);
        jpeg_destroy_decompress(&d);
        fail_msg("libjpeg: %s", msg);
    }
    jpeg_create_decompress(&d);
    jpeg_mem_src(&d, p, (unsigned long)n);
    assert_int_equal(jpeg_read_header(&d, TRUE), JPEG_HEADER_OK);
    jpeg_start_decompress(&d);
    assert_int_equal(d.output_width, w);
    assert_int_equal(d.output_height, hgt);
    assert_int_equal(d.output_components, 1);
    JSAMPLE row[64];
    JSAMPROW rows[1] = {row};
    while (d.output_scanline < d.output_height)
        jpeg_read_scanlines(&d, rows, 1);
    assert_int_equal(row[0], 128); /* DC 0: mid grey */
    jpeg_finish_decompress(&d);
    assert_int_equal(je.mgr.num_warnings, 0);
    jpeg_destroy_decompress(&d);
}

static void check_jpeg_upload(uint32_t media_id, uint8_t channel, uint8_t res)
{
    uint32_t v;
    assert_true(jt808_lay_get_u32(U.whole.lay, "media_id", &v));
    assert_int_equal(v, media_id);
    assert_true(jt808_lay_get_u32(U.whole.lay, "type", &v));
    assert_int_equal(v, 0); /* image */
    assert_true(jt808_lay_get_u32(U.whole.lay, "format", &v));
    assert_int_equal(v, 0); /* JPEG */
    assert_true(jt808_lay_get_u32(U.whole.lay, "channel", &v));
    assert_int_equal(v, channel);
    struct jt808_location loc;
    assert_true(jt808_lay_get_loc(U.whole.lay, &U.whole, "location", &loc));
    assert_int_equal(loc.n_items, 0);
    assert_in_range(loc.lat, 39800000, 40000000);
    const uint8_t *d;
    size_t n;
    assert_true(jt808_lay_get_bytes(U.whole.lay, "data", &d, &n));
    assert_int_equal(n, U.body_len - 36); /* what the packages carried after the fields */
    assert_true(n >= 4);
    assert_int_equal(d[0], 0xFF);
    assert_int_equal(d[1], 0xD8);
    assert_int_equal(d[n - 2], 0xFF);
    assert_int_equal(d[n - 1], 0xD9);
    static const unsigned px[] = {640 * 480, 320 * 240, 640 * 480, 800 * 600, 1024 * 768};
    assert_int_equal(n, 1024 + px[res] / 256);
    libjpeg_decodes(d, n, 8, 8);
}

/* jt808_split's emit: frames into a caller's array (struct collect). */
struct collect {
    uint8_t (*f)[JT808_MAX_FRAME];
    size_t *len;
    size_t *n;
};
static void collect_frame(const uint8_t *frame, size_t len, void *arg)
{
    struct collect *c = arg;
    memcpy(c->f[*c->n], frame, len);
    c->len[*c->n] = len;
    (*c->n)++;
}

static void media_done(struct term *t, uint32_t media_id)
{
    const struct jt808_lay_kv kv[] = {{.path = "media_id", .u = media_id}, {.path = "count", .u = 0}};
    send_lay(t, 0x8800, kv, 2);
}

/* 0x8801: 0x0805 with the ids, then each shot's 0x0800 and its JPEG in paced
 * 0x0801 packages, the second shot only once the platform has the first. */
static void test_camera_shots(void **state)
{
    (void)state;
    struct dh *h = online(2013, "");
    struct term *t = dh_term(h, 0, 0);
    struct fleet_stats *st = dh_stats(h, 0);
    const struct jt808_lay_kv kv[] = {
        {.path = "channel", .u = 2}, {.path = "command", .u = 2}, {.path = "interval", .u = 0},
        {.path = "save", .u = 0}, {.path = "resolution", .u = 4}, {.path = "quality", .u = 5}};
    uint16_t q = send_lay(t, 0x8801, kv, 6);
    struct sent s = {0};
    sent_take(&s, t);
    const struct jt808_msg *m = want(&s, 0x0805);
    assert_int_equal(u32(m, "ack_serial"), q);
    assert_int_equal(u32(m, "result"), 0);
    assert_int_equal(u32(m, "count"), 2);
    assert_int_equal(list_len(m, "ids"), 2);
    assert_int_equal(u32(m, "ids[0].id"), 1);
    assert_int_equal(u32(m, "ids[1].id"), 2);
    want_none(&s);
    for (uint32_t id = 1; id <= 2; id++) {
        dh_run_to(h, clock_now_us() + 1 * MS);
        sent_take(&s, t);
        m = want(&s, 0x0800);
        assert_int_equal(m->h.body_len, 8);
        assert_int_equal(u32(m, "media_id"), id);
        assert_int_equal(u32(m, "type"), 0);
        assert_int_equal(u32(m, "format"), 0);
        assert_int_equal(u32(m, "event"), 0);
        assert_int_equal(u32(m, "channel"), 2);
        ack(t, m->h.serial, 0x0800);
        take_upload(h, t, &s, 4);
        assert_int_equal(U.total, (36 + 1024 + 1024 * 768 / 256 + 899) / 900);
        check_jpeg_upload(id, 2, 4);
        /* nothing more until the platform has it whole */
        dh_run_to(h, clock_now_us() + 500 * MS);
        nothing_sent(t);
        media_done(t, id);
    }
    dh_run_to(h, clock_now_us() + 500 * MS);
    nothing_sent(t);
    assert_int_equal(st->dc[JT808_C_MEDIA_SHOTS], 2);
    assert_int_equal(st->dc[JT808_C_MEDIA_PACKAGES], 2u * U.total);
    assert_int_equal(st->dc[JT808_C_MEDIA_RESENT], 0);
    /* 0x0800 and 0x0801 each answered: the ledger is balanced */
    assert_int_equal(st->ledger.acked, st->ledger.sent);
    sent_free(&s);
    finish(h);
}

/* 0x8800 with ids and 0x8003 get exactly the listed packages again, as they were. */
static void test_resend_listed_packages(void **state)
{
    (void)state;
    for (int v = 0; v < 2; v++) {
        struct dh *h = online(v ? 2019 : 2013, "");
        struct term *t = dh_term(h, 0, 0);
        struct fleet_stats *st = dh_stats(h, 0);
        const struct jt808_lay_kv kv[] = {{.path = "channel", .u = 1}, {.path = "command", .u = 1},
                                          {.path = "resolution", .u = 2}};
        send_lay(t, 0x8801, kv, 3);
        struct sent s = {0};
        sent_take(&s, t);
        want(&s, 0x0805);
        dh_run_to(h, clock_now_us() + 1 * MS);
        sent_take(&s, t);
        ack(t, want(&s, 0x0800)->h.serial, 0x0800);
        take_upload(h, t, &s, 4);
        check_jpeg_upload(1, 1, 2);
        assert_int_equal(U.total, 3);

        const struct jt808_lay_kv again[] = {{.path = "media_id", .u = 1}, {.path = "ids[0].id", .u = 3},
                                             {.path = "ids[1].id", .u = 2}};
        send_lay(t, 0x8800, again, 3);
        sent_take(&s, t);
        uint16_t order[] = {3, 2};
        for (int i = 0; i < 2; i++) {
            const struct jt808_msg *m = want(&s, 0x0801);
            assert_int_equal(m->h.pkg_index, order[i]);
            assert_int_equal(m->h.serial, U.serial[order[i] - 1]);
            assert_int_equal(s.frame_len, U.frame_len[order[i] - 1]);
            assert_memory_equal(s.frame, U.frames[order[i] - 1], s.frame_len);
        }
        want_none(&s);

        const struct jt808_lay_kv ask[] = {{.path = "orig_serial", .u = U.first_serial}, {.path = "ids[0].id", .u = 1}};
        send_lay(t, 0x8003, ask, 2);
        sent_take(&s, t);
        const struct jt808_msg *m = want(&s, 0x0801); /* no 0x0001 */
        assert_int_equal(m->h.pkg_index, 1);
        assert_memory_equal(s.frame, U.frames[0], U.frame_len[0]);
        want_none(&s);
        assert_int_equal(st->dc[JT808_C_MEDIA_RESENT], 3);

        media_done(t, 1);
        assert_int_equal(st->ledger.acked, st->ledger.sent);
        /* let go once whole: a later 0x8003 for it finds nothing */
        uint16_t q = send_lay(t, 0x8003, ask, 2);
        sent_take(&s, t);
        check_general(want(&s, 0x0001), q, 0x8003, 1);
        want_none(&s);
        sent_free(&s);
        finish(h);
    }
}

/* An upload the platform never confirms is given up at the ack timeout, and the
 * next shot goes. */
static void test_unconfirmed_upload_times_out(void **state)
{
    (void)state;
    struct dh *h = online(2013, "");
    struct term *t = dh_term(h, 0, 0);
    struct fleet_stats *st = dh_stats(h, 0);
    const struct jt808_lay_kv kv[] = {{.path = "command", .u = 2}, {.path = "resolution", .u = 5}};
    send_lay(t, 0x8801, kv, 2);
    struct sent s = {0};
    sent_take(&s, t);
    want(&s, 0x0805);
    dh_run_to(h, clock_now_us() + 1 * MS);
    sent_take(&s, t);
    ack(t, want(&s, 0x0800)->h.serial, 0x0800);
    take_upload(h, t, &s, 4);
    uint64_t sent_at = clock_now_us();
    dh_run_to(h, sent_at + 9 * S);
    nothing_sent(t);
    dh_run_to(h, sent_at + 11 * S);
    sent_take(&s, t);
    assert_int_equal(u32(want(&s, 0x0800), "media_id"), 2);
    assert_int_equal(st->ledger.timed_out, 1);
    sent_free(&s);
    finish(h);
}

/* Shots kept (save 1): 0x8802 lists the matching ones, 0x8805 uploads one and
 * deletes it when asked, 0x8803 uploads each match in turn. */
static void test_stored_media(void **state)
{
    (void)state;
    struct dh *h = online(2013, "");
    struct term *t = dh_term(h, 0, 0);
    const struct jt808_lay_kv kv[] = {{.path = "channel", .u = 3}, {.path = "command", .u = 3},
                                      {.path = "interval", .u = 1}, {.path = "save", .u = 1},
                                      {.path = "resolution", .u = 1}};
    send_lay(t, 0x8801, kv, 5);
    struct sent s = {0};
    sent_take(&s, t);
    want(&s, 0x0805);
    dh_run_to(h, 3 * S);
    nothing_sent(t); /* kept, not sent */
    assert_int_equal(dh_stats(h, 0)->dc[JT808_C_MEDIA_SHOTS], 3);

    const struct jt808_lay_kv all[] = {{.path = "type", .u = 0}, {.path = "channel", .u = 0}, {.path = "event", .u = 0},
                                       {.path = "start", .s = "000000000000"}, {.path = "end", .s = "000000000000"}};
    uint16_t q = send_lay(t, 0x8802, all, 5);
    sent_take(&s, t);
    const struct jt808_msg *m = want(&s, 0x0802);
    assert_int_equal(u32(m, "ack_serial"), q);
    assert_int_equal(u32(m, "count"), 3);
    assert_int_equal(m->h.body_len, 4 + 3 * 35);
    char path[40];
    for (uint32_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "items[%u].media_id", i);
        uint32_t id = u32(m, path);
        assert_in_range(id, 1, 3);
        snprintf(path, sizeof path, "items[%u].channel", i);
        assert_int_equal(u32(m, path), 3);
        snprintf(path, sizeof path, "items[%u].type", i);
        assert_int_equal(u32(m, path), 0);
    }
    const struct jt808_lay_kv other[] = {{.path = "type", .u = 0}, {.path = "channel", .u = 4}, {.path = "event", .u = 0},
                                         {.path = "start", .s = "000000000000"}, {.path = "end", .s = "000000000000"}};
    send_lay(t, 0x8802, other, 5);
    sent_take(&s, t);
    assert_int_equal(u32(want(&s, 0x0802), "count"), 0);
    /* a time range that ends before the shots */
    const struct jt808_lay_kv old[] = {{.path = "type", .u = 0}, {.path = "channel", .u = 0}, {.path = "event", .u = 0},
                                       {.path = "start", .s = "000101000000"}, {.path = "end", .s = "000101000001"}};
    send_lay(t, 0x8802, old, 5);
    sent_take(&s, t);
    assert_int_equal(u32(want(&s, 0x0802), "count"), 0);

    const struct jt808_lay_kv one[] = {{.path = "media_id", .u = 2}, {.path = "delete", .u = 1}};
    q = send_lay(t, 0x8805, one, 2);
    sent_take(&s, t);
    check_general(want(&s, 0x0001), q, 0x8805, 0);
    dh_run_to(h, clock_now_us() + 1 * MS);
    sent_take(&s, t);
    take_upload(h, t, &s, 4);
    check_jpeg_upload(2, 3, 1);
    media_done(t, 2);
    send_lay(t, 0x8802, all, 5);
    sent_take(&s, t);
    assert_int_equal(u32(want(&s, 0x0802), "count"), 2); /* 2 is gone */

    const struct jt808_lay_kv up[] = {{.path = "type", .u = 0}, {.path = "channel", .u = 3}, {.path = "event", .u = 0},
                                      {.path = "start", .s = "000000000000"}, {.path = "end", .s = "000000000000"},
                                      {.path = "delete", .u = 0}};
    q = send_lay(t, 0x8803, up, 6);
    sent_take(&s, t);
    check_general(want(&s, 0x0001), q, 0x8803, 0);
    uint32_t ids[] = {1, 3};
    for (int i = 0; i < 2; i++) {
        dh_run_to(h, clock_now_us() + 1 * MS);
        sent_take(&s, t);
        take_upload(h, t, &s, 4);
        check_jpeg_upload(ids[i], 3, 1);
        media_done(t, ids[i]);
    }
    send_lay(t, 0x8802, all, 5);
    sent_take(&s, t);
    assert_int_equal(u32(want(&s, 0x0802), "count"), 2); /* kept: delete 0 */
    sent_free(&s);
    finish(h);
}

/* 0x8804: 0x0001; on stop an audio 0x0801 (WAV) of what was recorded. */
static void test_recording(void **state)
{
    (void)state;
    struct dh *h = online(2013, "");
    struct term *t = dh_term(h, 0, 0);
    const struct jt808_lay_kv start[] = {{.path = "command", .u = 1}, {.path = "duration", .u = 0}};
    uint16_t q = send_lay(t, 0x8804, start, 2);
    struct sent s = {0};
    sent_take(&s, t);
    check_general(want(&s, 0x0001), q, 0x8804, 0);
    dh_run_to(h, 5 * S);
    nothing_sent(t);
    const struct jt808_lay_kv stop[] = {{.path = "command", .u = 0}};
    q = send_lay(t, 0x8804, stop, 1);
    sent_take(&s, t);
    check_general(want(&s, 0x0001), q, 0x8804, 0);
    dh_run_to(h, clock_now_us() + 1 * MS);
    sent_take(&s, t);
    take_upload(h, t, &s, 4);
    uint32_t v;
    assert_true(jt808_lay_get_u32(U.whole.lay, "type", &v));
    assert_int_equal(v, 1); /* audio */
    assert_true(jt808_lay_get_u32(U.whole.lay, "format", &v));
    assert_int_equal(v, 3); /* WAV */
    const uint8_t *d;
    size_t n;
    assert_true(jt808_lay_get_bytes(U.whole.lay, "data", &d, &n));
    assert_int_equal(n, 44 + 4096);
    assert_memory_equal(d, "RIFF", 4);
    assert_memory_equal(d + 8, "WAVE", 4);
    sent_free(&s);
    finish(h);
}

/* 2019: a platform message still missing packages 5 s after the last one came is
 * asked for with 0x0005 (the first package's serial, the missing indexes). */
static void test_terminal_asks_resend(void **state)
{
    (void)state;
    struct dh *h = online(2019, "");
    struct term *t = dh_term(h, 0, 0);
    struct fleet_stats *st = dh_stats(h, 0);
    static uint8_t body[1100];
    body[0] = 0x01; /* 0x8300: flag, type, text */
    body[1] = 0x01;
    memset(body + 2, 'x', sizeof body - 2);
    struct jt808_header hd = platform_header(t, 0x8300);
    hd.subpackage = true;
    hd.pkg_total = 3;
    uint16_t first = pserial;
    pserial = (uint16_t)(pserial + 3);
    uint8_t frame[JT808_MAX_FRAME];
    size_t fl;
    struct sent s = {0};
    for (int i = 0; i < 3; i += 2) { /* packages 1 and 3 */
        hd.pkg_index = (uint16_t)(i + 1);
        hd.serial = (uint16_t)(first + i);
        size_t off = (size_t)i * 400, len = i == 2 ? sizeof body - 800 : 400;
        tx.h = hd;
        tx.body = body + off;
        tx.body_bytes = len;
        struct jt808_err e;
        assert_int_equal(jt808_encode(&tx, frame, sizeof frame, &fl, &e), JT808_OK);
        term_input(t, frame, fl);
        sent_take(&s, t);
        check_general(want(&s, 0x0001), hd.serial, 0x8300, 0);
    }
    tx.body = NULL;
    uint64_t last = clock_now_us();
    dh_run_to(h, last + 4900 * MS);
    nothing_sent(t);
    dh_run_to(h, last + 5100 * MS);
    sent_take(&s, t);
    const struct jt808_msg *m = want(&s, 0x0005);
    assert_int_equal(u32(m, "orig_serial"), first);
    assert_int_equal(u32(m, "count"), 1);
    assert_int_equal(list_len(m, "ids"), 1);
    assert_int_equal(u32(m, "ids[0].id"), 2);
    want_none(&s);
    assert_int_equal(st->dc[JT808_C_RESEND_ASKED], 1);
    /* the missing one comes: the message is whole and handled */
    hd.pkg_index = 2;
    hd.serial = (uint16_t)(first + 1);
    tx.h = hd;
    tx.body = body + 400;
    tx.body_bytes = 400;
    struct jt808_err e;
    assert_int_equal(jt808_encode(&tx, frame, sizeof frame, &fl, &e), JT808_OK);
    tx.body = NULL;
    term_input(t, frame, fl);
    sent_take(&s, t);
    check_general(want(&s, 0x0001), hd.serial, 0x8300, 0);
    want_none(&s);
    assert_int_equal(st->commands, 1);
    dh_run_to(h, clock_now_us() + 20 * S);
    nothing_sent(t); /* nothing left to ask for */
    assert_int_equal(st->dc[JT808_C_RESEND_ASKED], 1);
    sent_free(&s);
    finish(h);
}

/* ---- a platform flooding requests --------------------------------------------------------- */

/* 10,000 0x8801: the queue of shots takes what fits (two requests of 16 shots an hour
 * apart), every further one is answered 0x0805 result 1 and counted; 0x8805 and
 * 0x8803 then get 0x0001 result 1.  What the terminal holds stays flat. */
static void test_flood_of_shots(void **state)
{
    (void)state;
    struct dh *h = online(2013, "");
    struct term *t = dh_term(h, 0, 0);
    struct fleet_stats *st = dh_stats(h, 0);
    const struct jt808_lay_kv kv[] = {{.path = "channel", .u = 1}, {.path = "command", .u = 16},
                                      {.path = "interval", .u = 3600}, {.path = "save", .u = 1}};
    struct sent s = {0};
    size_t held_at_100 = 0;
    for (int i = 0; i < 10000; i++) {
        uint16_t q = send_lay(t, 0x8801, kv, 4);
        sent_take(&s, t);
        const struct jt808_msg *m = want(&s, 0x0805);
        assert_int_equal(u32(m, "ack_serial"), q);
        assert_int_equal(u32(m, "result"), i < 2 ? 0 : 1);
        if (i < 2)
            assert_int_equal(u32(m, "count"), 16);
        want_none(&s);
        if (i == 100)
            held_at_100 = jt808_term_held(t);
    }
    assert_int_equal(st->dc[JT808_C_REQ_REFUSED], 9998);
    assert_int_equal(st->replies, 10000);
    assert_int_equal(jt808_term_held(t), held_at_100);
    assert_true(jt808_term_held(t) <= JT808_TERM_HELD_MAX);
    dh_run_to(h, 1 * MS); /* the first shot of each is taken and stored */
    nothing_sent(t);
    assert_int_equal(st->dc[JT808_C_MEDIA_SHOTS], 1);
    /* that shot's place in the queue is free again: one more fits, then none */
    const struct jt808_lay_kv later[] = {{.path = "channel", .u = 1}, {.path = "command", .u = 2},
                                         {.path = "interval", .u = 3600}, {.path = "save", .u = 1}};
    send_lay(t, 0x8801, later, 4);
    sent_take(&s, t);
    const struct jt808_msg *m = want(&s, 0x0805);
    assert_int_equal(u32(m, "result"), 0);
    assert_int_equal(u32(m, "count"), 1);

    const struct jt808_lay_kv one[] = {{.path = "media_id", .u = 1}, {.path = "delete", .u = 0}};
    uint16_t q = send_lay(t, 0x8805, one, 2);
    sent_take(&s, t);
    check_general(want(&s, 0x0001), q, 0x8805, 1);
    const struct jt808_lay_kv all[] = {{.path = "type", .u = 0}, {.path = "channel", .u = 0}, {.path = "event", .u = 0},
                                       {.path = "start", .s = "000000000000"}, {.path = "end", .s = "000000000000"},
                                       {.path = "delete", .u = 0}};
    q = send_lay(t, 0x8803, all, 6);
    sent_take(&s, t);
    check_general(want(&s, 0x0001), q, 0x8803, 1);
    want_none(&s);
    assert_int_equal(st->dc[JT808_C_REQ_REFUSED], 10000);
    /* an item it does not hold: result 1, not a refusal */
    const struct jt808_lay_kv gone[] = {{.path = "media_id", .u = 999}, {.path = "delete", .u = 0}};
    q = send_lay(t, 0x8805, gone, 2);
    sent_take(&s, t);
    check_general(want(&s, 0x0001), q, 0x8805, 1);
    assert_int_equal(st->dc[JT808_C_REQ_REFUSED], 10000);
    assert_int_equal(jt808_term_held(t), held_at_100);
    sent_free(&s);
    finish(h);
}

/* A tracking report due while TERM_MAX_PEND requests are in flight is not sent, and
 * counted (terminal.send_held): nothing is dropped unaccounted. */
static void test_tracking_held(void **state)
{
    (void)state;
    struct dh *h = online(2019, "");
    struct term *t = dh_term(h, 0, 0);
    struct fleet_stats *st = dh_stats(h, 0);
    struct sent s = {0};
    dh_run_to(h, 1 * S);
    for (int i = 0; i < TERM_MAX_PEND; i++) { /* each 0x0702 a request left unanswered */
        send_body(t, 0x8702, NULL, 0);
        sent_take(&s, t);
        want(&s, 0x0702);
    }
    assert_int_equal(t->npend, TERM_MAX_PEND);
    const struct jt808_lay_kv kv[] = {{.path = "interval", .u = 1}, {.path = "duration", .u = 3}};
    send_lay(t, 0x8202, kv, 2);
    sent_take(&s, t);
    want(&s, 0x0001);
    dh_run_to(h, 2 * S + 500 * MS);
    sent_take(&s, t);
    want_none(&s);
    assert_int_equal(st->dc[JT808_C_TRACKING_REPORTS], 0);
    assert_true(st->dc[JT808_C_SEND_HELD] >= 1);
    sent_free(&s);
    finish(h);
}

/* Regression (fuzz_jt808_term): each 0x8702's 0x0702 is a request of the terminal's
 * own; a platform sending 0x8702 faster than it answers the 0x0702s overran the
 * TERM_MAX_PEND entries of the requests in flight (a heap overflow).  Now the ones
 * that find the ledger full are answered 0x0001 result 1 and counted. */
static void test_flood_of_driver_queries(void **state)
{
    (void)state;
    struct dh *h = online(2019, "");
    struct term *t = dh_term(h, 0, 0);
    struct fleet_stats *st = dh_stats(h, 0);
    struct sent s = {0};
    uint16_t first = 0;
    for (int i = 0; i < 1000; i++) {
        uint16_t q = send_body(t, 0x8702, NULL, 0);
        sent_take(&s, t);
        if (i < TERM_MAX_PEND) {
            const struct jt808_msg *m = want(&s, 0x0702);
            if (i == 0)
                first = m->h.serial;
        } else {
            check_general(want(&s, 0x0001), q, 0x8702, 1);
        }
        want_none(&s);
        assert_true(t->npend <= TERM_MAX_PEND);
    }
    assert_int_equal(st->dc[JT808_C_REQ_REFUSED], 1000 - TERM_MAX_PEND);
    assert_int_equal(st->ledger.sent, 2 + TERM_MAX_PEND); /* 0x0100, 0x0102, the 0x0702s */
    /* one answered: room for one more */
    ack(t, first, 0x0702);
    send_body(t, 0x8702, NULL, 0);
    sent_take(&s, t);
    want(&s, 0x0702);
    want_none(&s);
    sent_free(&s);
    finish(h);
}

/* An 0x8003 listing 20,000 ids (in subpackages, reassembled) for an upload of 3
 * packages: each package goes again once, in the order first listed; an 0x8003
 * naming none of its packages is answered 0x0001 result 2. */
static void test_resend_huge_list(void **state)
{
    (void)state;
    struct dh *h = online(2019, "");
    struct term *t = dh_term(h, 0, 0);
    struct fleet_stats *st = dh_stats(h, 0);
    const struct jt808_lay_kv kv[] = {{.path = "channel", .u = 1}, {.path = "command", .u = 1},
                                      {.path = "resolution", .u = 2}};
    send_lay(t, 0x8801, kv, 3);
    struct sent s = {0};
    sent_take(&s, t);
    want(&s, 0x0805);
    dh_run_to(h, clock_now_us() + 1 * MS);
    sent_take(&s, t);
    ack(t, want(&s, 0x0800)->h.serial, 0x0800);
    take_upload(h, t, &s, 4);
    assert_int_equal(U.total, 3);

    enum { N = 20000 };
    static uint8_t body[4 + 2 * N];
    body[0] = (uint8_t)(U.first_serial >> 8);
    body[1] = (uint8_t)U.first_serial;
    body[2] = (uint8_t)(N >> 8);
    body[3] = (uint8_t)N;
    for (int i = 0; i < N; i++) { /* 2, 3, 1, 2, 3, 1, ... and a few out of range */
        uint16_t id = i % 1000 == 999 ? 7 : (uint16_t)((i + 1) % 3 + 1);
        body[4 + 2 * i] = (uint8_t)(id >> 8);
        body[5 + 2 * i] = (uint8_t)id;
    }
    struct jt808_header hd = platform_header(t, 0x8003);
    uint16_t first = pserial;
    size_t total = (sizeof body + 999) / 1000;
    pserial = (uint16_t)(pserial + total);
    static uint8_t frames[64][JT808_MAX_FRAME];
    static size_t lens[64];
    size_t nf = 0;
    struct collect col = {frames, lens, &nf};
    assert_int_equal(jt808_split(&hd, first, body, sizeof body, 1000, collect_frame, &col), JT808_OK);
    assert_int_equal(nf, total);
    for (size_t i = 0; i < nf; i++)
        term_input(t, frames[i], lens[i]);
    sent_take(&s, t);
    for (size_t i = 0; i + 1 < nf; i++)
        check_general(want(&s, 0x0001), (uint16_t)(first + i), 0x8003, 0);
    uint16_t order[] = {2, 3, 1};
    for (int i = 0; i < 3; i++) {
        const struct jt808_msg *m = want(&s, 0x0801);
        assert_int_equal(m->h.pkg_index, order[i]);
        assert_memory_equal(s.frame, U.frames[order[i] - 1], U.frame_len[order[i] - 1]);
    }
    want_none(&s);
    assert_int_equal(st->dc[JT808_C_MEDIA_RESENT], 3);

    const struct jt808_lay_kv bogus[] = {{.path = "orig_serial", .u = U.first_serial}, {.path = "ids[0].id", .u = 4},
                                         {.path = "ids[1].id", .u = 0}};
    uint16_t q = send_lay(t, 0x8003, bogus, 3);
    sent_take(&s, t);
    check_general(want(&s, 0x0001), q, 0x8003, 2);
    want_none(&s);
    const struct jt808_lay_kv bogus8800[] = {{.path = "media_id", .u = 1}, {.path = "ids[0].id", .u = 9}};
    q = send_lay(t, 0x8800, bogus8800, 2);
    sent_take(&s, t);
    check_general(want(&s, 0x0001), q, 0x8800, 2);
    want_none(&s);
    assert_int_equal(st->dc[JT808_C_MEDIA_RESENT], 3);
    assert_true(jt808_term_held(t) <= JT808_TERM_HELD_MAX);
    sent_free(&s);
    finish(h);
}

/* Regression (fuzz_jt808_term): an 0x8103 report interval of 4294967295 s is kept
 * as UINT32_MAX ms, and the first report's random offset after the next
 * authentication divided by report_ms + 1 in 32 bits: by zero. */
static void test_longest_report_interval(void **state)
{
    (void)state;
    struct dh *h = online(2013, "\"reconnect\": {\"min\": \"1s\", \"max\": \"1s\"}");
    struct term *t = dh_term(h, 0, 0);
    static const uint8_t body[] = {1, 0x00, 0x00, 0x00, 0x29, 4, 0xFF, 0xFF, 0xFF, 0xFF};
    uint16_t q = send_body(t, 0x8103, body, sizeof body);
    struct sent s = {0};
    sent_take(&s, t);
    check_general(want(&s, 0x0001), q, 0x8103, 0);
    assert_int_equal(JT(t)->report_ms, UINT32_MAX);
    term_drop(t, 0, false);
    dh_run_to(h, clock_now_us() + 2 * S);
    sent_take(&s, t);
    const struct jt808_msg *m = want(&s, 0x0102); /* its auth code kept: straight to 0x0102 */
    ack(t, m->h.serial, 0x0102);
    assert_int_equal(t->state, TS_AUTHENTICATED);
    assert_true(JT(t)->next_report_us >= clock_now_us());
    sent_free(&s);
    finish(h);
}

/* A stall longer than the report interval (the worker's loop held up 3.4 s, 1 s
 * reports): one report, not a burst of the missed ones, and the next on the
 * terminal's own phase (due + 4 s), not a period from the moment the stall ended,
 * which would put every terminal the stall held up on one instant. */
static void test_report_after_stall(void **state)
{
    (void)state;
    struct dh *h = online(2013, "\"report\": {\"every\": \"1s\"}");
    struct term *t = dh_term(h, 0, 0);
    uint64_t due = JT(t)->next_report_us;
    assert_true(due > 0);
    dh_run_to(h, due);
    struct sent s = {0};
    sent_take(&s, t);
    const struct jt808_msg *m = want(&s, 0x0200);
    ack(t, m->h.serial, 0x0200);
    want_none(&s);
    due += 1 * S;
    assert_int_equal(JT(t)->next_report_us, due);
    clock_advance(due + 3400 * MS - clock_now_us()); /* the stall: no poll meanwhile */
    worker_poll(h->w);
    sent_take(&s, t);
    m = want(&s, 0x0200);
    ack(t, m->h.serial, 0x0200);
    want_none(&s);
    assert_int_equal(JT(t)->next_report_us, due + 4 * S);
    dh_run_to(h, due + 4 * S);
    sent_take(&s, t);
    want(&s, 0x0200);
    want_none(&s);
    sent_free(&s);
    finish(h);
}

/* ---- jt808_term_time.c ------------------------------------------------------------------- */

/* 0x8004 answering the terminal's 0x0004 with this time. */
static void server_time(struct term *t, const char *digits)
{
    const struct jt808_lay_kv kv[] = {{.path = "time", .s = digits}};
    send_lay(t, 0x8004, kv, 1);
}

static void utc_digits(int64_t unix_s, char out[13])
{
    time_t s = (time_t)unix_s;
    struct tm tm;
    gmtime_r(&s, &tm);
    snprintf(out, 13, "%02d%02d%02d%02d%02d%02d", tm.tm_year % 100, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec);
}

/* time_query: 0x0004 (empty body) right after the authentication is acknowledged;
 * the 0x8004 that answers it settles it in the ledger and is counted, off when its
 * time is not the terminal's (an hour away, a day February does not have). */
static void test_time_query(void **state)
{
    (void)state;
    const struct { int64_t shift; const char *fixed; bool ok, off; } cases[] = {
        {0, NULL, true, false}, {3600, NULL, true, true}, {0, "250230120000", false, true}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        struct dh *h = online(2019, "\"time_query\": true");
        struct term *t = dh_term(h, 0, 0);
        struct fleet_stats *st = dh_stats(h, 0);
        struct sent s = {0};
        sent_take(&s, t);
        const struct jt808_msg *m = want(&s, 0x0004);
        assert_int_equal(m->h.body_len, 0);
        assert_int_equal(m->h.version, JT808_V2019);
        want_none(&s);
        assert_int_equal(st->dc[JT808_C_TIME_QUERIES], 1);
        assert_int_equal(st->ledger.sent, 3); /* 0x0100, 0x0102, 0x0004 */
        dh_run_to(h, 2 * S);
        char now[13];
        utc_digits(clock_unix_at(clock_now_us()) + cases[c].shift, now);
        server_time(t, cases[c].fixed ? cases[c].fixed : now);
        nothing_sent(t); /* an answer: not answered itself */
        assert_int_equal(st->dc[JT808_C_TIME_ANSWERS], 1);
        assert_int_equal(st->dc[JT808_C_TIME_OFF], cases[c].off);
        assert_int_equal(st->ledger.acked, cases[c].ok ? 3 : 2);
        assert_int_equal(st->ledger.failed, cases[c].ok ? 0 : 1);
        assert_int_equal(st->commands, 0);
        /* another 0x8004 answers nothing in flight: ignored, as a late 0x8001 is */
        server_time(t, now);
        nothing_sent(t);
        assert_int_equal(st->dc[JT808_C_TIME_ANSWERS], 1);
        assert_int_equal(JT(t)->more, 0); /* nothing kept for it */
        sent_free(&s);
        finish(h);
    }
    /* without the option: no 0x0004 */
    struct dh *h = online(2019, "");
    struct term *t = dh_term(h, 0, 0);
    nothing_sent(t);
    assert_int_equal(dh_stats(h, 0)->dc[JT808_C_TIME_QUERIES], 0);
    finish(h);
}

static void test_time_parse(void **state)
{
    (void)state;
    int64_t s = 0;
    assert_true(jt808_term_time_parse("240229235959", &s));
    assert_int_equal(s, 1709251199); /* date -u -d '2024-02-29 23:59:59' +%s */
    assert_true(jt808_term_time_parse("000101000000", &s));
    assert_int_equal(s, 946684800);
    assert_false(jt808_term_time_parse("230229000000", &s)); /* 2023 is no leap year */
    assert_false(jt808_term_time_parse("241301000000", &s));
    assert_false(jt808_term_time_parse("240100000000", &s));
    assert_false(jt808_term_time_parse("240101240000", &s));
    assert_false(jt808_term_time_parse("240101006000", &s));
    assert_false(jt808_term_time_parse("2401010000", &s));
    assert_false(jt808_term_time_parse("2401010000000", &s));
    assert_false(jt808_term_time_parse("24010100000a", &s));
}

/* A platform message of 16,000 packages of which two came: the 15,998 missing ones
 * are asked for in 0x0005s of at most 509 ids (what one frame's body holds), all
 * of them, ascending, each body orig_serial, count and the ids. */
static void test_terminal_asks_many(void **state)
{
    (void)state;
    struct dh *h = online(2019, "");
    struct term *t = dh_term(h, 0, 0);
    struct fleet_stats *st = dh_stats(h, 0);
    enum { TOTAL = 16000 };
    static const uint8_t part[8] = {0x01, 0x01, 'a', 'b', 'c', 'd', 'e', 'f'};
    struct jt808_header hd = platform_header(t, 0x8300);
    hd.subpackage = true;
    hd.pkg_total = TOTAL;
    uint16_t first = pserial;
    pserial = (uint16_t)(pserial + TOTAL);
    uint8_t frame[JT808_MAX_FRAME];
    size_t fl;
    struct sent s = {0};
    const uint16_t got[] = {1, TOTAL};
    for (int i = 0; i < 2; i++) {
        hd.pkg_index = got[i];
        hd.serial = (uint16_t)(first + got[i] - 1);
        tx.h = hd;
        tx.body = part;
        tx.body_bytes = sizeof part;
        struct jt808_err e;
        assert_int_equal(jt808_encode(&tx, frame, sizeof frame, &fl, &e), JT808_OK);
        term_input(t, frame, fl);
        sent_take(&s, t);
        check_general(want(&s, 0x0001), hd.serial, 0x8300, 0);
    }
    tx.body = NULL;
    dh_run_to(h, clock_now_us() + 5100 * MS);
    sent_take(&s, t);
    uint32_t next = 2;
    size_t msgs = 0;
    const struct jt808_msg *m;
    static uint32_t ids[TOTAL];
    while ((m = sent_next(&s)) != NULL) {
        assert_int_equal(m->h.msg_id, 0x0005);
        assert_false(m->h.subpackage);
        assert_true(m->h.body_len <= JT808_MAX_BODY);
        assert_int_equal(u32(m, "orig_serial"), first);
        size_t n = 0;
        assert_true(jt808_lay_list_get_u32(m->lay, "ids", "id", ids, TOTAL, &n));
        assert_int_equal(u32(m, "count"), n);
        assert_int_equal(m->h.body_len, 4 + 2 * n);
        assert_true(n >= 1 && n <= 509);
        for (size_t i = 0; i < n; i++)
            if (ids[i] != next++)
                fail_msg("0x0005 %zu, id %zu: %u, want %u", msgs, i, ids[i], next - 1);
        msgs++;
    }
    assert_int_equal(next, TOTAL); /* 2 .. 15999 */
    assert_int_equal(msgs, (TOTAL - 2 + 508) / 509);
    assert_int_equal(st->dc[JT808_C_RESEND_ASKED], msgs);
    assert_true(jt808_term_held(t) <= JT808_TERM_HELD_MAX);
    sent_free(&s);
    finish(h);
}

/* A terminal that never gets these requests keeps nothing for them. */
static void test_no_state_without_requests(void **state)
{
    (void)state;
    struct dh *h = online(2013, "");
    struct term *t = dh_term(h, 0, 0);
    send_body(t, 0x8104, NULL, 0);
    send_body(t, 0x8201, NULL, 0);
    const struct jt808_lay_kv none[] = {{.path = "media_id", .u = 9}, {.path = "count", .u = 0}};
    send_lay(t, 0x8800, none, 2); /* about nothing held: ignored */
    struct sent s = {0};
    sent_take(&s, t);
    want(&s, 0x0104);
    want(&s, 0x0201);
    want_none(&s);
    assert_int_equal(JT(t)->more, 0);
    assert_null(jt_more(t, false));
    sent_free(&s);
    finish(h);
}

/* ---- jt808_term_rsa.c ------------------------------------------------------------------ */

#define RSA_TEST_KEY "tests/data/jt808-rsa-test-key.pem"

/* 0x8A00 with the platform's key -> 0x0A00 with the terminal's; then (after-exchange)
 * what it sends is encrypted for the platform's key, and what the platform encrypts for
 * the terminal's key is decrypted and answered; a block that does not decrypt is
 * answered 0x0001 result 2 and counted.  "off": 0x0A00 all the same, nothing encrypted. */
static void rsa_exchange(bool after)
{
    char err[256];
    EVP_PKEY *plat = jt808_rsa_load(RSA_TEST_KEY, err, sizeof err);
    if (!plat)
        fail_msg("%s", err);
    uint32_t e = 0;
    uint8_t n[JT808_RSA_N_BYTES];
    assert_int_equal(jt808_rsa_public(plat, &e, n), 0);
    struct dh *h = online(2019, after ? "\"rsa\": \"after-exchange\"" : "");
    struct term *t = dh_term(h, 0, 0);
    struct fleet_stats *st = dh_stats(h, 0);
    const struct jt808_lay_kv kv[] = {{.path = "e", .u = e}, {.path = "n", .p = n, .n = sizeof n}};
    send_lay(t, 0x8A00, kv, 2);
    struct sent s = {0};
    sent_take(&s, t);
    const struct jt808_msg *m = want(&s, 0x0A00);
    assert_int_equal(m->h.encryption, 0); /* the answer carries its key in the clear */
    assert_int_equal(u32(m, "e"), 65537);
    const uint8_t *tn = NULL;
    size_t tl = 0;
    assert_true(jt808_lay_get_bytes(m->lay, "n", &tn, &tl));
    assert_int_equal(tl, JT808_RSA_N_BYTES);
    EVP_PKEY *term_pub = jt808_rsa_from_public(65537, tn, err, sizeof err);
    assert_non_null(term_pub);
    want_none(&s);

    /* a position query encrypted for the terminal: decrypted, answered */
    struct jt808_header hd = platform_header(t, 0x8201);
    tx.h = hd;
    tx.lay = NULL;
    static const uint8_t none[1];
    tx.body = none;
    tx.body_bytes = 0;
    uint8_t frame[JT808_MAX_FRAME];
    size_t len = 0;
    assert_int_equal(jt808_rsa_encode(term_pub, &tx, frame, sizeof frame, &len, NULL), JT808_OK);
    term_input(t, frame, len);
    hd = platform_header(t, 0x8300); /* a text, one block */
    tx.h = hd;
    tx.body = NULL;
    memset(&tx.b.text, 0, sizeof tx.b.text);
    tx.b.text.flag = 1;
    tx.b.text.text_type = 1;
    snprintf(tx.b.text.text, sizeof tx.b.text.text, "hello");
    assert_int_equal(jt808_rsa_encode(term_pub, &tx, frame, sizeof frame, &len, NULL), JT808_OK);
    term_input(t, frame, len);
    sent_take(&s, t);
    m = want(&s, 0x0201);
    assert_int_equal(m->h.encryption, after ? JT808_ENC_RSA : 0);
    static struct jt808_msg plain;
    static uint8_t pscratch[2 * JT808_MAX_FRAME];
    struct jt808_err je;
    assert_int_equal(jt808_rsa_decode(s.frame, s.frame_len, pscratch, sizeof pscratch, plat, &plain, &je), JT808_OK);
    assert_int_equal(plain.b.loc_resp.ack_serial, hd.serial - 1);
    m = want(&s, 0x0001);
    assert_int_equal(jt808_rsa_decode(s.frame, s.frame_len, pscratch, sizeof pscratch, plat, &plain, &je), JT808_OK);
    check_general(&plain, hd.serial, 0x8300, 0);
    want_none(&s);
    assert_int_equal(st->dc[JT808_C_RSA_DECRYPTED], 2);
    assert_int_equal(st->dc[JT808_C_RSA_ENCRYPTED], after ? 2 : 0);

    /* the last block damaged (the frame around it well formed): "bad message", counted */
    static uint8_t fscratch[JT808_MAX_FRAME], cipher[JT808_MAX_BODY];
    assert_int_equal(jt808_decode(frame, len, fscratch, sizeof fscratch, &plain, &je), JT808_OK);
    assert_int_equal(plain.h.encryption, JT808_ENC_RSA);
    memcpy(cipher, plain.body, plain.body_bytes);
    cipher[plain.body_bytes - 10] ^= 0x55;
    plain.body = cipher;
    assert_int_equal(jt808_encode(&plain, frame, sizeof frame, &len, &je), JT808_OK);
    term_input(t, frame, len);
    sent_take(&s, t);
    want(&s, 0x0001);
    assert_int_equal(jt808_rsa_decode(s.frame, s.frame_len, pscratch, sizeof pscratch, plat, &plain, &je), JT808_OK);
    check_general(&plain, hd.serial, 0x8300, 2);
    assert_int_equal(st->dc[JT808_C_RSA_ERRORS], 1);

    /* a body over 819 bytes would not fit a frame encrypted: it goes in 2 packages, each
     * encrypted on its own, which decrypt with the platform's key and reassemble into
     * the body sent; a 0x8003 gets the second again, the same bytes */
    if (after) {
        static uint8_t data[900];
        for (size_t i = 0; i < sizeof data; i++)
            data[i] = (uint8_t)(i * 13 + 1);
        struct jt808_lay_body *lb = jt_lay_start(t, 0x0900);
        assert_non_null(lb);
        assert_true(jt808_lay_set_u32(lb, &jt_out, "type", 0xF0));
        assert_true(jt808_lay_set_bytes(lb, &jt_out, "data", data, sizeof data));
        uint16_t first = jt_out.h.serial;
        uint64_t encrypted = st->dc[JT808_C_RSA_ENCRYPTED];
        assert_true(jt_send(t, false));
        sent_take(&s, t);
        struct jt808_reasm r;
        jt808_reasm_init(&r, 64 * 1024, 60000);
        static uint8_t pl[JT808_MAX_BODY], second[JT808_MAX_FRAME];
        size_t second_len = 0;
        bool done = false;
        uint8_t *whole = NULL;
        size_t whole_len = 0;
        struct jt808_header last = {0};
        for (unsigned i = 1; i <= 2; i++) {
            want(&s, 0x0900);
            assert_true(rx.h.subpackage);
            assert_int_equal(rx.h.encryption, JT808_ENC_RSA);
            assert_int_equal(rx.h.pkg_total, 2);
            assert_int_equal(rx.h.pkg_index, i);
            assert_int_equal(rx.h.serial, (uint16_t)(first + i - 1));
            if (i == 2) {
                memcpy(second, s.frame, s.frame_len);
                second_len = s.frame_len;
            }
            assert_int_equal(jt808_pkgs_open(plat, &rx, pl, sizeof pl, &je), JT808_OK);
            assert_int_equal(rx.body_bytes, i == 1 ? JT808_PKGS_RSA_CHUNK : 1 + sizeof data - JT808_PKGS_RSA_CHUNK);
            last = rx.h;
            assert_int_equal(jt808_reasm_feed(&r, &rx.h, rx.body, rx.body_bytes, 0, &done, &whole, &whole_len, &je),
                             JT808_OK);
            assert_int_equal(done, i == 2);
        }
        want_none(&s);
        static struct jt808_msg full;
        assert_int_equal(jt808_reasm_decode(&r, &last, whole, whole_len, &full, &je), JT808_OK);
        assert_int_equal(u32(&full, "type"), 0xF0);
        const uint8_t *got = NULL;
        size_t gl = 0;
        assert_true(jt808_lay_get_bytes(full.lay, "data", &got, &gl));
        assert_int_equal(gl, sizeof data);
        assert_memory_equal(got, data, gl);
        full.body = NULL;
        jt808_msg_free(&full);
        free(whole);
        jt808_reasm_free(&r);
        assert_int_equal(st->dc[JT808_C_RSA_ENCRYPTED], encrypted + 2);
        assert_int_equal(st->dc[JT808_C_RSA_ERRORS], 1);
        const struct jt808_lay_kv again[] = {{.path = "orig_serial", .u = first}, {.path = "ids[0].id", .u = 2}};
        send_lay(t, 0x8003, again, 2);
        sent_take(&s, t);
        want(&s, 0x0900);
        assert_int_equal(s.frame_len, second_len);
        assert_memory_equal(s.frame, second, second_len);
        want_none(&s);
        assert_int_equal(st->dc[JT808_C_PKGS_RESENT], 1);
    }
    assert_int_equal(st->dc[JT808_C_RSA_CLEAR], 0);

    /* a reconnect forgets the platform's key: what follows goes in the clear again */
    jt808_term_rsa_forget(t);
    send_body(t, 0x8104, NULL, 0);
    sent_take(&s, t);
    m = want(&s, 0x0104);
    assert_int_equal(m->h.encryption, 0);
    sent_free(&s);
    jt808_msg_free(&plain);
    EVP_PKEY_free(term_pub);
    EVP_PKEY_free(plat);
    finish(h);
}

static void test_rsa_after_exchange(void **state)
{
    (void)state;
    rsa_exchange(true);
}

static void test_rsa_off(void **state)
{
    (void)state;
    rsa_exchange(false);
}

/* After the exchange a frame that deviates on purpose (fleet option deviate) goes in
 * the clear, its bytes being the deviation: counted rsa_clear; one that does not
 * deviate goes encrypted. */
static void test_rsa_clear_deviation(void **state)
{
    (void)state;
    char err[256];
    EVP_PKEY *plat = jt808_rsa_load(RSA_TEST_KEY, err, sizeof err);
    if (!plat)
        fail_msg("%s", err);
    uint32_t e = 0;
    uint8_t n[JT808_RSA_N_BYTES];
    assert_int_equal(jt808_rsa_public(plat, &e, n), 0);
    struct dh *h = online(2019, "\"rsa\": \"after-exchange\", "
                                "\"deviate\": {\"kinds\": [\"trailing-bytes\"], \"share\": 1}");
    struct term *t = dh_term(h, 0, 0);
    struct fleet_stats *st = dh_stats(h, 0);
    send_body(t, 0x8104, NULL, 0); /* before the exchange: deviating, in the clear, not counted */
    struct sent s = {0};
    sent_take(&s, t);
    assert_int_equal(want(&s, 0x0104)->h.encryption, 0);
    want_none(&s);
    assert_int_equal(st->dc[JT808_C_RSA_CLEAR], 0);
    const struct jt808_lay_kv kv[] = {{.path = "e", .u = e}, {.path = "n", .p = n, .n = sizeof n}};
    send_lay(t, 0x8A00, kv, 2);
    sent_take(&s, t);
    want(&s, 0x0A00);
    want_none(&s);
    send_body(t, 0x8104, NULL, 0);
    send_body(t, 0x8201, NULL, 0);
    sent_take(&s, t);
    const struct jt808_msg *m = want(&s, 0x0104);
    assert_int_equal(m->h.encryption, 0);
    assert_int_equal(m->devs.total, 1); /* its trailing bytes, read in the clear */
    assert_int_equal(want(&s, 0x0201)->h.encryption, JT808_ENC_RSA);
    want_none(&s);
    assert_int_equal(st->dc[JT808_C_RSA_CLEAR], 1);
    assert_int_equal(st->dc[JT808_C_DEV_FIRST + JT808_DEV_TRAILING_BYTES], 2);
    assert_int_equal(st->dc[JT808_C_RSA_ENCRYPTED], 1);
    sent_free(&s);
    EVP_PKEY_free(plat);
    finish(h);
}

/* A 0x8A00 whose n is not a 1024-bit key: refused (0x0001 result 2), counted. */
static void test_rsa_bad_key(void **state)
{
    (void)state;
    struct dh *h = online(2013, "\"rsa\": \"after-exchange\"");
    struct term *t = dh_term(h, 0, 0);
    uint8_t n[JT808_RSA_N_BYTES] = {0x01, 0x02};
    const struct jt808_lay_kv kv[] = {{.path = "e", .u = 65537}, {.path = "n", .p = n, .n = sizeof n}};
    uint16_t q = send_lay(t, 0x8A00, kv, 2);
    struct sent s = {0};
    sent_take(&s, t);
    check_general(want(&s, 0x0001), q, 0x8A00, 2);
    want_none(&s);
    assert_int_equal(dh_stats(h, 0)->dc[JT808_C_RSA_ERRORS], 1);
    sent_free(&s);
    finish(h);
}

/* Body attribute bits 10-12 other than 0 or bit 10 alone (RSA) are reserved: the body
 * cannot be read, so the request is "bad message" (0x0001 result 2), counted as a
 * decode error, and not taken as a plain one. */
static void test_reserved_encryption(void **state)
{
    (void)state;
    struct dh *h = online(2019, "\"rsa\": \"after-exchange\"");
    struct term *t = dh_term(h, 0, 0);
    struct fleet_stats *st = dh_stats(h, 0);
    uint64_t errors = st->decode_errors;
    struct sent s = {0};
    for (unsigned enc = 2; enc <= 7; enc++) {
        struct jt808_header hd = platform_header(t, 0x8300);
        hd.encryption = (uint8_t)enc;
        tx.h = hd;
        tx.body = NULL;
        tx.lay = NULL;
        memset(&tx.b.text, 0, sizeof tx.b.text);
        tx.b.text.flag = 1;
        tx.b.text.text_type = 1;
        snprintf(tx.b.text.text, sizeof tx.b.text.text, "hello");
        platform_frame(t);
        sent_take(&s, t);
        check_general(want(&s, 0x0001), hd.serial, 0x8300, 2);
        want_none(&s);
    }
    assert_int_equal(st->decode_errors, errors + 6);
    assert_int_equal(st->dc[JT808_C_RSA_ERRORS], 0);
    sent_free(&s);
    finish(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query_given_params),
        cmocka_unit_test(test_properties),
        cmocka_unit_test(test_temporary_tracking),
        cmocka_unit_test(test_alarm_confirm),
        cmocka_unit_test(test_general_answers),
        cmocka_unit_test(test_question),
        cmocka_unit_test(test_vehicle_control),
        cmocka_unit_test(test_tachograph),
        cmocka_unit_test(test_driver_identity),
        cmocka_unit_test(test_camera_shots),
        cmocka_unit_test(test_resend_listed_packages),
        cmocka_unit_test(test_unconfirmed_upload_times_out),
        cmocka_unit_test(test_stored_media),
        cmocka_unit_test(test_recording),
        cmocka_unit_test(test_terminal_asks_resend),
        cmocka_unit_test(test_terminal_asks_many),
        cmocka_unit_test(test_no_state_without_requests),
        cmocka_unit_test(test_time_query),
        cmocka_unit_test(test_tracking_held),
        cmocka_unit_test(test_longest_report_interval),
        cmocka_unit_test(test_report_after_stall),
        cmocka_unit_test(test_flood_of_shots),
        cmocka_unit_test(test_flood_of_driver_queries),
        cmocka_unit_test(test_resend_huge_list),
        cmocka_unit_test(test_time_parse),
        cmocka_unit_test(test_rsa_after_exchange),
        cmocka_unit_test(test_rsa_off),
        cmocka_unit_test(test_rsa_clear_deviation),
        cmocka_unit_test(test_rsa_bad_key),
        cmocka_unit_test(test_reserved_encryption),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
