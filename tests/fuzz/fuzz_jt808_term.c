/* libFuzzer target: one JT/T 808 terminal in-process (a one-terminal fleet on the
 * memory transport and a frozen virtual clock, as tests/unit/test_jt808_term_cmd.c
 * drives one), fed whatever a platform might send: any message id with any body,
 * whole or in subpackages of several messages at once, raw bytes, time passing,
 * answers to its requests, and dropped connections.  A platform answers its
 * registration and authentication each time, so it gets back online.
 *
 * Checked after every step: every frame the terminal sends decodes; it has no more
 * requests in flight than the ledger allows; what it holds stays under
 * JT808_TERM_HELD_MAX however many requests come.  Leaks: each input starts a new
 * worker and frees it (LeakSanitizer).
 *
 * Input: byte 0 the set-up (bit 0: 2019, else 2013; bit 1: time_query; bit 2:
 * periodic reports), then steps, each a byte that picks its kind and the bytes it
 * reads (see step()): a whole message, a subpackage, raw bytes, time, answers to
 * the requests in flight, a dropped connection, a request with fleetsim's default
 * body and one byte changed, an answer about the upload in progress.  A message id is a byte indexing the platform ids below, or
 * 0xFF followed by two bytes of any id. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/dialect_harness.h"
#include "sim/dev/jt808_term.h"
#include "sim/dev/jt808_term_int.h"
#include "sim/proto/jt808.h"
#include "sim/proto/jt808_kinds.h"
#include "sim/proto/jt808_layout_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define STEPS_MAX 200                  /* steps of one input */
#define VIRTUAL_MAX (15ull * 60 * 1000000) /* virtual time of one input */

static const uint16_t platform_ids[] = {
    0x8001, 0x8003, 0x8004, 0x8100, 0x8103, 0x8104, 0x8105, 0x8106, 0x8107, 0x8108, 0x8201, 0x8202,
    0x8203, 0x8204, 0x8300, 0x8301, 0x8302, 0x8303, 0x8304, 0x8400, 0x8401, 0x8500, 0x8600, 0x8601,
    0x8602, 0x8603, 0x8604, 0x8605, 0x8606, 0x8607, 0x8608, 0x8700, 0x8701, 0x8702, 0x8800, 0x8801,
    0x8802, 0x8803, 0x8804, 0x8805, 0x8900, 0x8A00,
};

struct in {
    const uint8_t *p;
    size_t n, off;
};

static uint8_t byte(struct in *in)
{
    return in->off < in->n ? in->p[in->off++] : 0;
}

static uint16_t word(struct in *in)
{
    uint16_t hi = byte(in);
    return (uint16_t)(hi << 8 | byte(in));
}

/* up to want bytes of the input (fewer at its end) */
static const uint8_t *bytes(struct in *in, size_t want, size_t *got)
{
    size_t left = in->n - in->off;
    *got = want < left ? want : left;
    const uint8_t *p = in->p + in->off;
    in->off += *got;
    return p;
}

static uint16_t msg_id(struct in *in)
{
    uint8_t b = byte(in);
    if (b == 0xFF)
        return word(in);
    return platform_ids[b % (sizeof platform_ids / sizeof platform_ids[0])];
}

static struct jt808_msg tx, rx;
static bool trace; /* FUZZ_TRACE set: what the terminal sends, on stderr (to read a case) */
/* The terminal's upload in progress as its frames show it, for answers about it. */
static uint32_t up_media;
static uint16_t up_first;
static uint8_t scratch[JT808_MAX_FRAME];
static uint16_t pserial;

static struct jt808_header header(int version, uint16_t id)
{
    struct jt808_header h = {.msg_id = id, .serial = pserial++};
    h.version = version == 2019 ? JT808_V2019 : JT808_V2013;
    h.proto_version = h.version == JT808_V2019 ? 1 : 0;
    snprintf(h.phone, sizeof h.phone, "%s", h.version == JT808_V2019 ? "00000000013800000000" : "013800000000");
    return h;
}

/* Encode tx (its typed body, or raw bytes when raw) and feed it. */
static void feed(struct term *t, bool raw, const uint8_t *body, size_t n)
{
    static const uint8_t none[1];
    uint8_t frame[JT808_MAX_FRAME];
    size_t len = 0;
    struct jt808_err e;
    tx.lay = NULL;
    tx.body = raw ? (n ? body : none) : NULL;
    tx.body_bytes = raw ? n : 0;
    if (jt808_encode(&tx, frame, sizeof frame, &len, &e) == JT808_OK)
        term_input(t, frame, len);
    tx.body = NULL;
    tx.body_bytes = 0;
}

static void general(struct term *t, int version, uint16_t serial, uint16_t id, uint8_t result)
{
    tx.h = header(version, 0x8001);
    tx.b.gen_resp.ack_serial = serial;
    tx.b.gen_resp.ack_id = id;
    tx.b.gen_resp.result = result;
    feed(t, false, NULL, 0);
}

/* What the terminal sent: every frame must decode; its registration and
 * authentication are answered (ok), the rest is dropped. */
static void pump(struct term *t, int version)
{
    for (int round = 0; round < 4; round++) {
        size_t n = 0;
        uint8_t *out = dh_take(t, &n);
        if (!out)
            return;
        size_t off = 0;
        while (off < n) {
            size_t start = 0, len = 0, skipped = 0;
            size_t used = jt808_frame_find(out + off, n - off, &start, &len, &skipped);
            if (!used || start)
                abort(); /* the terminal wrote bytes outside a frame */
            struct jt808_err e;
            if (jt808_decode(out + off + start, len, scratch, sizeof scratch, &rx, &e) != JT808_OK) {
                fprintf(stderr, "terminal frame does not decode: %s at %zu (%s)\n", jt808_rc_name(e.rc), e.offset,
                        e.field ? e.field : "");
                abort();
            }
            off += used;
            if (trace)
                fprintf(stderr, "%8.3f s  terminal: 0x%04X serial %u%s\n", clock_now_us() / 1e6, rx.h.msg_id,
                        rx.h.serial, rx.h.subpackage ? " (package)" : "");
            if ((rx.h.msg_id == 0x0800 || (rx.h.msg_id == 0x0801 && rx.h.pkg_index == 1)) && rx.body_bytes >= 4)
                up_media = (uint32_t)rx.body[0] << 24 | (uint32_t)rx.body[1] << 16 | (uint32_t)rx.body[2] << 8 |
                           rx.body[3];
            if (rx.h.msg_id == 0x0801 && rx.h.pkg_index == 1)
                up_first = rx.h.serial;
            if (rx.h.msg_id == 0x0100) {
                uint16_t serial = rx.h.serial;
                tx.h = header(version, 0x8100);
                memset(&tx.b.reg_resp, 0, sizeof tx.b.reg_resp);
                tx.b.reg_resp.ack_serial = serial;
                snprintf(tx.b.reg_resp.auth_code, sizeof tx.b.reg_resp.auth_code, "AUTH-1");
                feed(t, false, NULL, 0);
            } else if (rx.h.msg_id == 0x0102) {
                general(t, version, rx.h.serial, 0x0102, 0);
            }
        }
        free(out);
    }
}

static void check(struct term *t)
{
    if (t->npend > TERM_MAX_PEND)
        abort();
    if (jt808_term_held(t) > JT808_TERM_HELD_MAX) {
        fprintf(stderr, "terminal holds %zu bytes, more than %zu\n", jt808_term_held(t), (size_t)JT808_TERM_HELD_MAX);
        abort();
    }
}

/* Move the clock on by d in steps a tenth of a second at most. */
static void run_for(struct dh *h, uint64_t d)
{
    uint64_t end = clock_now_us() + d;
    while (clock_now_us() < end) {
        uint64_t left = end - clock_now_us();
        clock_advance(left < 100000 ? left : 100000);
        worker_poll(h->w);
        pump(dh_term(h, 0, 0), ((const struct jt808_fleet_cfg *)term_cfg(dh_term(h, 0, 0)))->version);
    }
}

static void step(struct dh *h, struct term *t, int own, struct in *in)
{
    uint8_t op = byte(in);
    int version = op & 0x80 ? (own == 2019 ? 2013 : 2019) : own; /* now and then the other edition */
    size_t n = 0;
    const uint8_t *b;
    switch (op % 8) {
    case 0: { /* a whole message: id, length (10 bits), body */
        uint16_t id = msg_id(in);
        b = bytes(in, word(in) & 0x3FF, &n);
        tx.h = header(version, id);
        feed(t, true, b, n);
        break;
    }
    case 1: { /* a subpackage: id, message key, total, index, length, body */
        uint16_t id = msg_id(in);
        uint16_t first = (uint16_t)(30000 + byte(in) * 256u);
        uint16_t total = word(in), index = word(in);
        b = bytes(in, word(in) & 0x3FF, &n);
        tx.h = header(version, id);
        tx.h.subpackage = true;
        tx.h.pkg_total = total;
        tx.h.pkg_index = index;
        tx.h.serial = (uint16_t)(first + index - 1);
        feed(t, true, b, n);
        break;
    }
    case 2: /* bytes as they come */
        b = bytes(in, byte(in), &n);
        term_input(t, b, n);
        break;
    case 3: { /* time passes: up to 130 s */
        uint64_t k = byte(in);
        run_for(h, k * k * 2000u + 1000u);
        break;
    }
    case 4: { /* every request in flight answered with one result */
        uint8_t result = byte(in) % 6;
        struct term_pend pend[TERM_MAX_PEND];
        int np = t->npend;
        memcpy(pend, t->pend, sizeof pend);
        for (int i = 0; i < np; i++)
            general(t, version, (uint16_t)pend[i].serial, pend[i].kind, result);
        break;
    }
    case 5: /* the connection drops; the terminal comes back after its backoff */
        if (conn_open(&t->conn))
            term_drop(t, 0, false);
        break;
    case 6: { /* a request with the default body fleetsim's platform sends (jt808_kinds), one byte changed */
        int k = byte(in) % JT808_N_KINDS;
        uint8_t at = byte(in), x = byte(in);
        const char *json = jt808_kind_default_body(k, version);
        uint8_t body[JT808_MAX_BODY];
        size_t len = 0;
        char msg[128];
        tx.h = header(version, jt808_kind_msg(k));
        cJSON *j = json ? cJSON_Parse(json) : NULL;
        if (j && jt808_lay_from_json(j, &tx.h, body, sizeof body, &len, msg, sizeof msg) != JT808_OK)
            len = 0;
        cJSON_Delete(j);
        if (len)
            body[at % len] ^= x;
        feed(t, true, body, len);
        break;
    }
    case 7: { /* about the upload in progress: 0x8800 done, 0x8800 or 0x8003 listing ids */
        uint8_t kind = byte(in) % 3, count = byte(in);
        uint8_t body[8 + 2 * 255];
        size_t len = 0;
        if (kind < 2) {
            for (int i = 0; i < 4; i++)
                body[len++] = (uint8_t)(up_media >> (24 - 8 * i));
        } else {
            body[len++] = (uint8_t)(up_first >> 8);
            body[len++] = (uint8_t)up_first;
            if (version == 2019)
                body[len++] = 0;
        }
        count = kind == 0 ? 0 : count;
        body[len++] = count;
        for (int i = 0; i < count; i++) {
            body[len++] = 0;
            body[len++] = byte(in) % 24;
        }
        tx.h = header(version, kind < 2 ? 0x8800 : 0x8003);
        feed(t, true, body, len);
        break;
    }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct in in = {data, size, 1};
    trace = getenv("FUZZ_TRACE") != NULL;
    int version = data[0] & 1 ? 2019 : 2013;
    char json[1024], err[512];
    snprintf(json, sizeof json,
             "{\"name\": \"fuzz\", \"duration\": \"1h\", \"fleets\": [{\"id\": \"f\", \"protocol\": \"jt808\", "
             "\"count\": 1, \"version\": %d, \"phone\": \"13800000000+\", \"ack_timeout\": \"10s\", "
             "\"heartbeat\": \"30s\", \"report\": %s%s}]}",
             version, data[0] & 4 ? "{\"every\": \"10s\"}" : "null",
             version == 2019 && (data[0] & 2) ? ", \"time_query\": true" : "");
    struct dh *h = dh_start(json, err, sizeof err);
    if (!h) {
        fprintf(stderr, "%s\n", err);
        abort();
    }
    pserial = 1;
    up_media = 0;
    up_first = 0;
    worker_poll(h->w);
    struct term *t = dh_term(h, 0, 0);
    pump(t, version);
    for (int k = 0; k < STEPS_MAX && in.off < in.n && clock_now_us() < VIRTUAL_MAX; k++) {
        step(h, t, version, &in);
        pump(t, version);
        check(t);
    }
    run_for(h, 70 * 1000000ull); /* timeouts and expiries */
    check(t);
    jt808_msg_free(&tx);
    jt808_msg_free(&rx);
    memset(&tx, 0, sizeof tx);
    memset(&rx, 0, sizeof rx);
    dh_free(h);
    return 0;
}
