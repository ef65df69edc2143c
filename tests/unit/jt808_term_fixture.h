/* The one-terminal JT/T 808 fixture shared by the terminal tests on the memory
 * transport (test_jt808_term_cmd.c, test_jt808_area.c, test_jt808_dialect.c):
 * what the terminal sent, taken and decoded frame by frame; what the platform
 * sends, built with the codec (typed bodies, raw bodies, the layout engine) and
 * fed to the terminal; the registration and authentication that bring it online.
 * Each test file keeps its own scenario (one_fleet) and calls online_from() with
 * it.  Included by one test file each, so its helpers are static (not every file
 * uses every one); it includes cmocka.h itself, after dialect_harness.h, whose
 * harness/expect.h would otherwise have its expect_value() renamed by cmocka. */
#ifndef FLEETSIM_TESTS_JT808_TERM_FIXTURE_H
#define FLEETSIM_TESTS_JT808_TERM_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tests/unit/dialect_harness.h"
#include "sim/dev/jt808_term.h"
#include "sim/dev/jt808_term_int.h"
#include "sim/proto/jt808.h"
#include "sim/proto/jt808_layout.h"

#include <cmocka.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"

/* rx: the last frame taken from the terminal; tx: the platform's next one; dec: a
 * body decoded again by a test (finish() releases all three). */
static struct jt808_msg rx, tx, dec;
static uint8_t scratch[JT808_MAX_FRAME];
static uint16_t pserial = 100; /* the platform's next serial */

#define S 1000000ull
#define MS 1000ull
#define JT(t) ((struct jt808_tstate *)term_dstate(t))

/* --- what the terminal sent ---------------------------------------------------------- */

/* The frames terminal t sent since the last look, decoded one by one. */
struct sent {
    uint8_t *buf;
    size_t n, off;
    const uint8_t *frame; /* the last frame taken, as on the wire */
    size_t frame_len;
};

static void sent_take(struct sent *s, struct term *t)
{
    free(s->buf);
    s->buf = dh_take(t, &s->n);
    s->off = 0;
}

/* The next frame, decoded into rx; false when none is left.  *rc gets the
 * decoder's result (a corrupt frame still counts as a frame), *e (when not NULL)
 * where it failed. */
static bool sent_decode(struct sent *s, enum jt808_rc *rc, struct jt808_err *e)
{
    struct jt808_err local;
    if (!e)
        e = &local;
    size_t start, len, skipped;
    if (!s->buf || s->off >= s->n)
        return false;
    size_t used = jt808_frame_find(s->buf + s->off, s->n - s->off, &start, &len, &skipped);
    if (!used)
        return false;
    s->frame = s->buf + s->off + start;
    s->frame_len = len;
    *rc = jt808_decode(s->frame, len, scratch, sizeof scratch, &rx, e);
    s->off += used;
    return true;
}

/* The next frame into rx (it must decode); NULL when none is left. */
static const struct jt808_msg *sent_next(struct sent *s)
{
    enum jt808_rc rc = JT808_OK;
    struct jt808_err e = {0};
    if (!sent_decode(s, &rc, &e))
        return NULL;
    if (rc != JT808_OK)
        fail_msg("a frame from the terminal does not decode: %s at %zu (%s)", jt808_rc_name(e.rc), e.offset,
                 e.field ? e.field : "");
    return &rx;
}

static void sent_free(struct sent *s)
{
    free(s->buf);
    memset(s, 0, sizeof *s);
}

/* The next frame of s must be msg_id. */
static const struct jt808_msg *want(struct sent *s, uint16_t msg_id)
{
    const struct jt808_msg *m = sent_next(s);
    if (!m)
        fail_msg("nothing more sent at %llu us (wanted 0x%04X)", (unsigned long long)clock_now_us(), msg_id);
    if (m->h.msg_id != msg_id)
        fail_msg("sent 0x%04X, wanted 0x%04X", m->h.msg_id, msg_id);
    return m;
}

static void want_none(struct sent *s)
{
    const struct jt808_msg *m = sent_next(s);
    if (m)
        fail_msg("sent 0x%04X (serial %u), wanted nothing more", m->h.msg_id, m->h.serial);
}

/* Nothing sent since the last look. */
static void nothing_sent(struct term *t)
{
    struct sent s = {0};
    sent_take(&s, t);
    want_none(&s);
    sent_free(&s);
}

/* --- what the platform sends ----------------------------------------------------------- */

/* tx, encoded, as input of t. */
static void platform_frame(struct term *t)
{
    uint8_t frame[JT808_MAX_FRAME];
    size_t len = 0;
    struct jt808_err e;
    if (jt808_encode(&tx, frame, sizeof frame, &len, &e) != JT808_OK)
        fail_msg("cannot encode 0x%04X: %s (%s)", tx.h.msg_id, jt808_rc_name(e.rc), e.field ? e.field : "");
    term_input(t, frame, len);
}

/* A platform header in t's edition, with the platform's next serial. */
static struct jt808_header platform_header(struct term *t, uint16_t msg_id)
{
    struct jt808_header h = {.msg_id = msg_id, .serial = pserial++};
    h.version = ((const struct jt808_fleet_cfg *)term_cfg(t))->version == 2019 ? JT808_V2019 : JT808_V2013;
    h.proto_version = h.version == JT808_V2019 ? 1 : 0;
    snprintf(h.phone, sizeof h.phone, "%s", h.version == JT808_V2019 ? "00000000013800000000" : "013800000000");
    return h;
}

/* A layout message from kv; returns its serial. */
static uint16_t send_lay(struct term *t, uint16_t msg_id, const struct jt808_lay_kv *kv, size_t n)
{
    struct jt808_header h = platform_header(t, msg_id);
    struct jt808_err e;
    if (jt808_lay_build(&tx, &h, kv, n, &e) != JT808_OK)
        fail_msg("cannot build 0x%04X: %s", msg_id, e.field ? e.field : "");
    platform_frame(t);
    return h.serial;
}

/* A message with this body as it is (empty bodies, typed ones set in tx.b by the caller
 * when body is NULL). */
static uint16_t send_body(struct term *t, uint16_t msg_id, const uint8_t *body, size_t n)
{
    struct jt808_header h = platform_header(t, msg_id);
    tx.h = h;
    tx.lay = NULL;
    static const uint8_t none[1];
    tx.body = body ? body : none;
    tx.body_bytes = n;
    platform_frame(t);
    tx.body = NULL;
    tx.body_bytes = 0;
    return h.serial;
}

/* 0x8001 with result 0 for the terminal's (serial, id). */
static void ack(struct term *t, uint16_t serial, uint16_t id)
{
    tx.h = platform_header(t, 0x8001);
    tx.body = NULL;
    tx.lay = NULL;
    tx.b.gen_resp.ack_serial = serial;
    tx.b.gen_resp.ack_id = id;
    tx.b.gen_resp.result = 0;
    platform_frame(t);
}

/* 0x8100 accepting the registration of serial with this auth code. */
static void register_ok(struct term *t, uint16_t serial, const char *code)
{
    tx.h = platform_header(t, 0x8100);
    tx.body = NULL;
    tx.lay = NULL;
    memset(&tx.b.reg_resp, 0, sizeof tx.b.reg_resp);
    tx.b.reg_resp.ack_serial = serial;
    snprintf(tx.b.reg_resp.auth_code, sizeof tx.b.reg_resp.auth_code, "%s", code);
    platform_frame(t);
}

static void check_general(const struct jt808_msg *m, uint16_t serial, uint16_t id, uint8_t result)
{
    assert_int_equal(m->h.msg_id, 0x0001);
    assert_int_equal(m->b.gen_resp.ack_serial, serial);
    assert_int_equal(m->b.gen_resp.ack_id, id);
    assert_int_equal(m->b.gen_resp.result, result);
}

/* --- a terminal ------------------------------------------------------------------------- */

/* The one terminal of scenario json started, registered and authenticated at virtual
 * time 0. */
static struct dh *online_from(const char *json)
{
    char err[512];
    struct dh *h = dh_start(json, err, sizeof err);
    if (!h)
        fail_msg("%s", err);
    worker_poll(h->w);
    struct term *t = dh_term(h, 0, 0);
    struct sent s = {0};
    sent_take(&s, t);
    register_ok(t, want(&s, 0x0100)->h.serial, "AUTH-1");
    sent_take(&s, t);
    ack(t, want(&s, 0x0102)->h.serial, 0x0102);
    sent_free(&s);
    assert_int_equal(t->state, TS_AUTHENTICATED);
    return h;
}

/* Release the messages and the harness. */
static void finish(struct dh *h)
{
    jt808_msg_free(&rx);
    jt808_msg_free(&tx);
    jt808_msg_free(&dec);
    dh_free(h);
}

#pragma GCC diagnostic pop

#endif
