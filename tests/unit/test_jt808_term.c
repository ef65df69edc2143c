/* jt808_term: the virtual JT/T 808 terminal as a black box.  Each test runs one worker
 * with a one-terminal fleet in this process, plays the platform on a loopback TCP
 * listener, and drives the worker's loop in small steps between its own reads and
 * writes.  Frames are checked field by field (ids, serials, bodies), and so are the
 * counters and the ledger the worker keeps in its stats slot.
 *
 * Tests marked "regression" guard against bugs these tests once found in the
 * terminal (jt808_term.c) or the worker (fleet.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <errno.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "harness/scenario.h"
#include "sim/core/clock.h"
#include "sim/core/ctl.h"
#include "sim/core/stats.h"
#include "sim/dev/fleet.h"
#include "sim/dev/jt808_term.h"
#include "sim/proto/jt808.h"

#define AUTH "ABC123"
#define START_LAT 39.9           /* scenario defaults (SCHEMA.md, report) */
#define START_LON 116.4

struct fx {
    struct scenario sc;
    bool sc_ok;
    struct worker *w;
    struct worker_slot *slot;
    int lfd, cfd, ctl[2];
    struct sockaddr_storage target;
    int accepts;
    uint64_t accept_us;           /* real time of the last accept */
    bool peer_closed;             /* the terminal closed the current connection */
    uint64_t closed_us;           /* real time that was seen */
    uint8_t buf[65536];           /* bytes from the terminal not yet taken as frames */
    size_t len;
    uint8_t scratch[JT808_MAX_FRAME];
    /* what the platform answers with: the terminal's own header fields */
    enum jt808_version v;
    uint8_t proto_version;
    char phone[21];
    uint16_t pserial;             /* next platform serial */
    bool have_serial;
    uint16_t last_serial;         /* the terminal's last frame serial */
    uint64_t rx_us;               /* real time the last frame was taken */
    unsigned reports_acked;       /* 0x0200 this platform acknowledged */
    unsigned heartbeats_seen;
};

static struct fx *F;
/* Messages are large (a 0x0704 holds 32 locations): keep them off the stack. */
static struct jt808_msg rx, tx;

#define ST (&F->slot->fleets[0])
#define JT(t) ((struct jt808_tstate *)term_dstate(t))

static uint64_t now_ms(void) { return clock_mono_us() / 1000u; }

/* ---- platform side ---------------------------------------------------------- */

static int listen_on(struct sockaddr_storage *addr)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    socklen_t sl = sizeof(struct sockaddr_in);
    if (bind(fd, (struct sockaddr *)addr, sl) != 0 || listen(fd, 16) != 0) {
        int e = errno;
        close(fd);
        fail_msg("listen on 127.0.0.1: %s", strerror(e));
    }
    getsockname(fd, (struct sockaddr *)addr, &sl);
    return fd;
}

/* Start a one-terminal fleet of `version` with `fields` added to the fleet object;
 * ack_timeout 1s and reconnect 100ms..200ms unless fields say otherwise. */
static void fx_start(int version, const char *fields)
{
    char json[2048], err[512] = "";
    F = calloc(1, sizeof *F);
    assert_non_null(F);
    F->lfd = F->cfd = F->ctl[0] = F->ctl[1] = -1;
    clock_init(1.0);
    snprintf(json, sizeof json,
             "{\"name\": \"term\", \"duration\": \"1h\", \"fleets\": [{\"id\": \"f\", "
             "\"protocol\": \"jt808\", \"count\": 1, \"version\": %d%s%s%s%s}]}",
             version, strstr(fields, "\"ack_timeout\"") ? "" : ", \"ack_timeout\": \"1s\"",
             strstr(fields, "\"reconnect\"") ? "" : ", \"reconnect\": {\"min\": \"100ms\", \"max\": \"200ms\"}",
             fields[0] ? ", " : "", fields);
    if (scenario_parse(json, "term.json", &F->sc, err, sizeof err) != 0)
        fail_msg("scenario: %s", err);
    F->sc_ok = true;
    struct sockaddr_in *a = (struct sockaddr_in *)&F->target;
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    F->lfd = listen_on(&F->target);
    F->w = calloc(1, sizeof *F->w);
    F->slot = calloc(1, sizeof *F->slot);
    assert_non_null(F->w);
    assert_non_null(F->slot);
    assert_int_equal(ctl_pair(F->ctl), 0);
    struct worker_plan plan = {.fleets = F->sc.fleets, .n_fleets = F->sc.n_fleets, .targets = &F->target,
                               .seed = F->sc.seed};
    if (worker_setup(F->w, &plan, 0, 1, F->slot, F->ctl[1], err, sizeof err) != 0)
        fail_msg("worker_setup: %s", err);
    assert_int_equal(ST->terminals, 1);
    assert_int_equal(ST->in_state[TS_IDLE], 1);
    struct ctl_msg m = {.type = CTL_START};
    assert_int_equal(ctl_send(F->ctl[0], &m, NULL), 0);
}

static int fx_teardown(void **state)
{
    (void)state;
    if (!F)
        return 0;
    if (F->w) {
        worker_free(F->w);
        free(F->w);
    }
    if (F->sc_ok)
        scenario_free(&F->sc);
    int fds[] = {F->lfd, F->cfd, F->ctl[0], F->ctl[1]};
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    free(F->slot);
    free(F);
    F = NULL;
    return 0;
}

static void read_some(void)
{
    if (F->cfd < 0 || F->peer_closed)
        return;
    for (;;) {
        if (F->len == sizeof F->buf)
            fail_msg("the terminal sent %zu bytes without a whole frame", F->len);
        ssize_t r = recv(F->cfd, F->buf + F->len, sizeof F->buf - F->len, MSG_DONTWAIT);
        if (r > 0) {
            F->len += (size_t)r;
            continue;
        }
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return;
        F->peer_closed = true; /* orderly close or reset */
        F->closed_us = clock_mono_us();
        return;
    }
}

/* One turn of the worker's loop, then whatever the terminal sent. */
static void step(void)
{
    ev_run(F->w->loop, EVRUN_NOWAIT);
    read_some();
    usleep(1000);
}

static void pump(int ms)
{
    uint64_t end = clock_mono_us() + (uint64_t)ms * 1000u;
    do
        step();
    while (clock_mono_us() < end);
}

static bool try_accept(void)
{
    int fd = accept4(F->lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        return false;
    if (F->cfd >= 0)
        close(F->cfd);
    F->cfd = fd;
    F->len = 0;
    F->peer_closed = false;
    F->accepts++;
    F->accept_us = clock_mono_us();
    return true;
}

static void wait_accept(int ms)
{
    uint64_t end = clock_mono_us() + (uint64_t)ms * 1000u;
    while (!try_accept()) {
        if (clock_mono_us() >= end)
            fail_msg("no connection from the terminal within %d ms (state %s, connects %lu, "
                     "connect failures %lu)", ms, term_state_name(F->w->fleets[0].terms[0].state),
                     (unsigned long)ST->connects, (unsigned long)ST->connect_failures);
        step();
    }
}

static void wait_closed(int ms)
{
    uint64_t end = clock_mono_us() + (uint64_t)ms * 1000u;
    while (!F->peer_closed) {
        if (clock_mono_us() >= end)
            fail_msg("the terminal did not close the connection within %d ms (state %s)", ms,
                     term_state_name(F->w->fleets[0].terms[0].state));
        step();
    }
}

static void wait_state(enum term_state s, int ms)
{
    uint64_t end = clock_mono_us() + (uint64_t)ms * 1000u;
    while (ST->in_state[s] != 1) {
        if (clock_mono_us() >= end)
            fail_msg("the terminal is %s, not %s, after %d ms",
                     term_state_name(F->w->fleets[0].terms[0].state), term_state_name(s), ms);
        step();
    }
}

/* Take one whole frame from the bytes received into rx.  Every frame must decode,
 * and serials go up by one from frame to frame, across connections too. */
static bool take_frame(void)
{
    size_t start = 0, flen = 0, skipped = 0;
    size_t used = jt808_frame_find(F->buf, F->len, &start, &flen, &skipped);
    if (!used) {
        if (skipped)
            fail_msg("the terminal sent %zu bytes outside any frame", skipped);
        return false;
    }
    if (start)
        fail_msg("the terminal sent %zu bytes before a frame", start);
    struct jt808_err err;
    jt808_msg_free(&rx);
    memset(&rx, 0, sizeof rx);
    if (jt808_decode(F->buf, flen, F->scratch, sizeof F->scratch, &rx, &err) != JT808_OK)
        fail_msg("a frame from the terminal does not decode: %s at %zu (%s)", jt808_rc_name(err.rc),
                 err.offset, err.field ? err.field : "");
    memmove(F->buf, F->buf + used, F->len - used);
    F->len -= used;
    if (F->have_serial && rx.h.serial != (uint16_t)(F->last_serial + 1))
        fail_msg("0x%04X has serial %u after %u", rx.h.msg_id, rx.h.serial, F->last_serial);
    F->have_serial = true;
    F->last_serial = rx.h.serial;
    F->v = rx.h.version;
    F->proto_version = rx.h.proto_version;
    snprintf(F->phone, sizeof F->phone, "%s", rx.h.phone);
    F->rx_us = clock_mono_us();
    return true;
}

static bool next_frame(int ms)
{
    uint64_t end = clock_mono_us() + (uint64_t)ms * 1000u;
    for (;;) {
        if (take_frame())
            return true;
        if (clock_mono_us() >= end)
            return false;
        step();
    }
}

static void send_bytes(const void *p, size_t n)
{
    assert_true(F->cfd >= 0);
    const uint8_t *b = p;
    while (n) {
        ssize_t r = send(F->cfd, b, n, MSG_NOSIGNAL);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            fail_msg("send to the terminal: %s", strerror(errno));
        b += r;
        n -= (size_t)r;
    }
}

/* Encode tx's typed body (or raw_body when not NULL) with the terminal's header
 * fields and a new platform serial into out; returns the serial. */
static uint16_t build_body(uint16_t msg_id, const uint8_t *raw_body, size_t raw_n, uint8_t *out,
                           size_t cap, size_t *len)
{
    tx.body = raw_body;
    tx.body_bytes = raw_n;
    tx.h.pkg_total = tx.h.pkg_index = 0;
    tx.h.msg_id = msg_id;
    tx.h.version = F->v;
    tx.h.proto_version = F->proto_version;
    tx.h.encryption = 0;
    tx.h.subpackage = false;
    snprintf(tx.h.phone, sizeof tx.h.phone, "%s", F->phone);
    tx.h.serial = F->pserial++;
    struct jt808_err err;
    if (jt808_encode(&tx, out, cap, len, &err) != JT808_OK)
        fail_msg("cannot encode 0x%04X: %s (%s)", msg_id, jt808_rc_name(err.rc), err.field ? err.field : "");
    tx.body = NULL;
    tx.body_bytes = 0;
    return tx.h.serial;
}

static uint16_t build(uint16_t msg_id, uint8_t *out, size_t cap, size_t *len)
{
    return build_body(msg_id, NULL, 0, out, cap, len);
}

static uint16_t send_raw(uint16_t msg_id, const uint8_t *body, size_t n)
{
    uint8_t out[JT808_MAX_FRAME];
    size_t len = 0;
    uint16_t serial = build_body(msg_id, body, n, out, sizeof out, &len);
    send_bytes(out, len);
    return serial;
}

static uint16_t send_msg(uint16_t msg_id)
{
    return send_raw(msg_id, NULL, 0);
}

/* Unescaped header + body -> a wire frame with its check byte (for frames the
 * encoder refuses to make). */
static size_t wrap(const uint8_t *raw, size_t n, uint8_t *out, size_t cap)
{
    uint8_t tmp[JT808_MAX_FRAME];
    assert_true(n + 1 <= sizeof tmp);
    memcpy(tmp, raw, n);
    tmp[n] = jt808_xor(raw, n);
    size_t wl = 0;
    assert_true(cap >= 2);
    out[0] = JT808_FLAG;
    assert_int_equal(jt808_escape(tmp, n + 1, out + 1, cap - 2, &wl), JT808_OK);
    out[1 + wl] = JT808_FLAG;
    return wl + 2;
}

static void ack(uint16_t serial, uint16_t id, uint8_t result)
{
    tx.b.gen_resp.ack_serial = serial;
    tx.b.gen_resp.ack_id = id;
    tx.b.gen_resp.result = result;
    send_msg(0x8001);
}

static void reg_resp(uint16_t serial, uint8_t result, const char *code)
{
    memset(&tx.b.reg_resp, 0, sizeof tx.b.reg_resp);
    tx.b.reg_resp.ack_serial = serial;
    tx.b.reg_resp.result = result;
    snprintf(tx.b.reg_resp.auth_code, sizeof tx.b.reg_resp.auth_code, "%s", code);
    send_msg(0x8100);
}

/* The next frame must be msg_id; periodic traffic (0x0200, 0x0002) met on the way
 * is acknowledged and counted. */
static const struct jt808_msg *expect_msg(uint16_t msg_id, int ms)
{
    uint64_t end = clock_mono_us() + (uint64_t)ms * 1000u;
    for (;;) {
        uint64_t now = clock_mono_us();
        int left = now >= end ? 0 : (int)((end - now) / 1000u);
        if (!next_frame(left))
            fail_msg("no 0x%04X from the terminal within %d ms (state %s%s)", msg_id, ms,
                     term_state_name(F->w->fleets[0].terms[0].state),
                     F->peer_closed ? ", connection closed" : "");
        if (rx.h.msg_id == msg_id)
            return &rx;
        if (rx.h.msg_id == 0x0200) {
            ack(rx.h.serial, 0x0200, 0);
            F->reports_acked++;
        } else if (rx.h.msg_id == 0x0002) {
            ack(rx.h.serial, 0x0002, 0);
            F->heartbeats_seen++;
        } else {
            fail_msg("expected 0x%04X from the terminal, got 0x%04X", msg_id, rx.h.msg_id);
        }
    }
}

/* Acknowledge periodic traffic for ms; anything else is a failure. */
static void serve(int ms)
{
    uint64_t end = clock_mono_us() + (uint64_t)ms * 1000u;
    while (clock_mono_us() < end) {
        if (!next_frame(1))
            continue;
        if (rx.h.msg_id == 0x0200) {
            ack(rx.h.serial, 0x0200, 0);
            F->reports_acked++;
        } else if (rx.h.msg_id == 0x0002) {
            ack(rx.h.serial, 0x0002, 0);
            F->heartbeats_seen++;
        } else {
            fail_msg("unexpected 0x%04X from the terminal", rx.h.msg_id);
        }
    }
}

/* accept -> 0x0100 -> 0x8100(code) -> 0x0102 -> 0x8001 -> authenticated */
static void handshake(const char *code)
{
    wait_accept(2000);
    const struct jt808_msg *m = expect_msg(0x0100, 2000);
    reg_resp(m->h.serial, 0, code);
    m = expect_msg(0x0102, 1000);
    assert_string_equal(m->b.auth.auth_code, code);
    ack(m->h.serial, 0x0102, 0);
    wait_state(TS_AUTHENTICATED, 1000);
}

static void send_ctl(uint32_t type, double fraction, uint64_t down_us)
{
    struct ctl_msg m = {.type = type, .fleet = 0, .fraction = fraction, .down_us = down_us,
                        .kind = CTL_FAULT_DISCONNECT};
    assert_int_equal(ctl_send(F->ctl[0], &m, NULL), 0);
}

/* "YYMMDDhhmmss" (GMT+8) -> seconds since the epoch in that zone; -1 when not a time. */
static long long bcd_time(const char *s)
{
    if (strlen(s) != 12)
        return -1;
    int v[6];
    for (int i = 0; i < 6; i++) {
        if (s[2 * i] < '0' || s[2 * i] > '9' || s[2 * i + 1] < '0' || s[2 * i + 1] > '9')
            return -1;
        v[i] = (s[2 * i] - '0') * 10 + (s[2 * i + 1] - '0');
    }
    if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 59)
        return -1;
    struct tm tm = {.tm_year = 100 + v[0], .tm_mon = v[1] - 1, .tm_mday = v[2],
                    .tm_hour = v[3], .tm_min = v[4], .tm_sec = v[5]};
    return (long long)timegm(&tm);
}

static long long wall_gmt8(void) { return (long long)time(NULL) + 8 * 3600; }

static const struct jt808_loc_item *item(const struct jt808_location *loc, uint8_t id)
{
    for (int i = 0; i < loc->n_items; i++)
        if (loc->items[i].id == id)
            return &loc->items[i];
    return NULL;
}

static const struct jt808_param *param(const struct jt808_params *p, uint32_t id)
{
    for (int i = 0; i < p->n_params; i++)
        if (p->params[i].id == id)
            return &p->params[i];
    return NULL;
}

/* A location as this terminal takes it: positioned, north/east, near the start, now. */
static void check_location(const struct jt808_location *loc, long long when, int slack_s)
{
    assert_int_equal(loc->alarm, 0);
    assert_true(loc->status & 0x2u);                  /* positioned */
    assert_int_equal(loc->status & 0xCu, 0);          /* north, east */
    assert_in_range(loc->lat, (uint32_t)((START_LAT - 0.1) * 1e6), (uint32_t)((START_LAT + 0.1) * 1e6));
    assert_in_range(loc->lon, (uint32_t)((START_LON - 0.1) * 1e6), (uint32_t)((START_LON + 0.1) * 1e6));
    assert_in_range(loc->speed, 0, 1200);
    assert_in_range(loc->direction, 0, 359);
    long long t = bcd_time(loc->time);
    if (t < 0)
        fail_msg("location time '%s' is not YYMMDDhhmmss", loc->time);
    if (t < when - slack_s || t > when + slack_s)
        fail_msg("location time %s is %lld s away from %lld", loc->time, t - when, when);
    const struct jt808_loc_item *mileage = item(loc, 0x01), *sig = item(loc, 0x30), *sats = item(loc, 0x31);
    assert_non_null(mileage);
    assert_non_null(sig);
    assert_non_null(sats);
    assert_int_equal(mileage->len, 4);
    assert_int_equal(sig->len, 1);
    assert_int_equal(sats->len, 1);
    assert_in_range(sig->value, 20, 31);
    assert_in_range(sats->value, 6, 15);
}

/* ---- 1. 2013: register, authenticate, report ------------------------------------ */

static void test_register_auth_report_2013(void **state)
{
    fx_start(2013, "\"heartbeat\": \"2s\", \"report\": {\"every\": \"1s\"}");
    wait_accept(2000);
    assert_int_equal(ST->started, 1);

    const struct jt808_msg *m = expect_msg(0x0100, 2000);
    assert_int_equal(ST->connects, 1);
    assert_int_equal(m->h.version, JT808_V2013);
    assert_false(m->h.subpackage);
    assert_int_equal(m->h.encryption, 0);
    assert_string_equal(m->h.phone, "013800000000");  /* "13800000000+" padded to BCD[6] */
    const struct jt808_register *r = &m->b.reg;
    assert_int_equal(r->layout, JT808_REG_2013);
    assert_int_equal(m->h.body_len, 2 + 2 + 5 + 20 + 7 + 1 + 8);
    assert_int_equal(r->province, 11);
    assert_int_equal(r->city, 0);
    assert_string_equal(r->manufacturer, "FSIM1");
    assert_string_equal(r->model, "FS-TERM");
    assert_string_equal(r->terminal_id, "T000001");
    assert_int_equal(r->plate_color, 1);
    assert_string_equal(r->plate, "SIM00001");
    assert_int_equal(ST->in_state[TS_REGISTERING], 1);
    assert_int_equal(ST->ledger.sent, 1);
    uint16_t reg_serial = m->h.serial;

    reg_resp(reg_serial, 0, AUTH);
    m = expect_msg(0x0102, 1000);
    assert_int_equal(m->h.serial, (uint16_t)(reg_serial + 1));
    assert_string_equal(m->b.auth.auth_code, AUTH);
    assert_int_equal(m->h.body_len, strlen(AUTH));
    assert_int_equal(ST->in_state[TS_AUTHENTICATING], 1);
    assert_int_equal(ST->reached[TS_REGISTERED], 1);
    uint16_t auth_serial = m->h.serial;

    ack(auth_serial, 0x0102, 0);
    wait_state(TS_AUTHENTICATED, 1000);
    uint64_t authed = now_ms();
    for (int s = TS_CONNECTING; s <= TS_AUTHENTICATED; s++)
        assert_int_equal(ST->reached[s], 1);
    assert_int_equal(ST->reached[TS_DISCONNECTED], 0);
    assert_int_equal(ST->in_state[TS_IDLE], 0);
    assert_int_equal(ST->ledger.sent, 2);
    assert_int_equal(ST->ledger.acked, 2);
    assert_int_equal(ST->online_latency.n, 1);
    assert_int_equal(ST->ack_latency.n, 2);
    const struct term *t = &F->w->fleets[0].terms[0];
    assert_true(t->first_reach_ms[TS_CONNECTING] <= t->first_reach_ms[TS_REGISTERED]);
    assert_true(t->first_reach_ms[TS_REGISTERED] <= t->first_reach_ms[TS_AUTHENTICATED]);

    m = expect_msg(0x0200, 1500);
    assert_true(now_ms() - authed <= 1100);           /* first report within one interval */
    assert_int_equal(m->h.serial, (uint16_t)(auth_serial + 1));
    check_location(&m->b.loc, wall_gmt8(), 2);
    ack(m->h.serial, 0x0200, 0);
    pump(50);
    assert_int_equal(ST->reports, 1);
    assert_int_equal(ST->reports_acked, 1);
    assert_int_equal(ST->ledger.sent, 3);
    assert_int_equal(ST->ledger.acked, 3);
    assert_int_equal(ST->report_latency.n, 1);
    assert_int_equal(ST->frames_out, 3);
    assert_int_equal(ST->frames_in, 3);
    assert_int_equal(ST->decode_errors, 0);
}

/* ---- 2. 2019 layouts ------------------------------------------------------------ */

static void test_register_auth_2019(void **state)
{
    fx_start(2019, "\"phone\": \"13912345678\", \"heartbeat\": \"30s\", \"report\": null");
    wait_accept(2000);
    const struct jt808_msg *m = expect_msg(0x0100, 2000);
    assert_int_equal(m->h.version, JT808_V2019);
    assert_int_equal(m->h.proto_version, 1);
    assert_string_equal(m->h.phone, "00000000013912345678"); /* BCD[10] */
    const struct jt808_register *r = &m->b.reg;
    assert_int_equal(r->layout, JT808_REG_2019);
    assert_int_equal(m->h.body_len, 2 + 2 + 11 + 30 + 30 + 1 + 8);
    assert_int_equal(r->province, 11);
    assert_string_equal(r->manufacturer, "FSIM1");
    assert_string_equal(r->model, "FS-TERM");
    assert_string_equal(r->terminal_id, "T00000000001");
    assert_int_equal(r->plate_color, 1);
    assert_string_equal(r->plate, "SIM00001");

    reg_resp(m->h.serial, 0, AUTH);
    m = expect_msg(0x0102, 1000);
    assert_int_equal(m->h.version, JT808_V2019);
    assert_string_equal(m->h.phone, "00000000013912345678");
    assert_string_equal(m->b.auth.auth_code, AUTH);
    assert_int_equal(strlen(m->b.auth.imei), 15);
    assert_int_equal(strspn(m->b.auth.imei, "0123456789"), 15);
    assert_string_equal(m->b.auth.imei, "860000000000001");
    assert_string_equal(m->b.auth.sw_version, "fleetsim-1.0");
    assert_int_equal(m->h.body_len, 1 + strlen(AUTH) + 15 + 20);
    ack(m->h.serial, 0x0102, 0);
    wait_state(TS_AUTHENTICATED, 1000);
    assert_int_equal(ST->ledger.sent, 2);
    assert_int_equal(ST->ledger.acked, 2);
    /* no reports configured */
    serve(300);
    assert_int_equal(F->reports_acked, 0);
    assert_int_equal(ST->reports, 0);
}

/* ---- 3. heartbeats ----------------------------------------------------------------- */

static void test_heartbeat_period(void **state)
{
    fx_start(2013, "\"heartbeat\": \"1s\", \"report\": {\"every\": \"0s\"}");
    wait_accept(2000);
    const struct jt808_msg *m = expect_msg(0x0100, 2000);
    reg_resp(m->h.serial, 0, AUTH);
    m = expect_msg(0x0102, 1000);
    uint64_t last = F->rx_us;                 /* the last thing the terminal said */
    ack(m->h.serial, 0x0102, 0);
    wait_state(TS_AUTHENTICATED, 1000);
    for (int i = 0; i < 3; i++) {
        if (!next_frame(1500))
            fail_msg("heartbeat %d did not come within 1.5 s", i + 1);
        assert_int_equal(rx.h.msg_id, 0x0002);
        assert_int_equal(rx.h.body_len, 0);
        uint64_t gap_ms = (F->rx_us - last) / 1000u;
        if (gap_ms < 950 || gap_ms > 1150)
            fail_msg("heartbeat %d came %lu ms after the previous frame (period 1 s)", i + 1,
                     (unsigned long)gap_ms);
        last = F->rx_us;
        ack(rx.h.serial, 0x0002, 0);
    }
    pump(20);
    assert_int_equal(ST->dc[JT808_C_HEARTBEATS], 3);
    assert_int_equal(ST->reports, 0);
    assert_int_equal(ST->ledger.sent, 5);
    assert_int_equal(ST->ledger.acked, 5);
}

/* ---- 4. ledger and latency of reports ---------------------------------------------- */

static void test_report_ledger(void **state)
{
    fx_start(2013, "\"heartbeat\": \"30s\", \"report\": {\"every\": \"500ms\"}");
    handshake(AUTH);
    for (int i = 0; i < 3; i++) {
        const struct jt808_msg *r = expect_msg(0x0200, 1000);
        ack(r->h.serial, 0x0200, 0);
        F->reports_acked++;
    }
    pump(30);
    assert_int_equal(F->reports_acked, 3);
    assert_int_equal(ST->reports, 3);
    assert_int_equal(ST->reports_acked, 3);
    assert_int_equal(ST->ledger.sent, 5);
    assert_int_equal(ST->ledger.acked, 5);
    assert_int_equal(ST->ledger.failed + ST->ledger.timed_out, 0);
    assert_int_equal(ST->report_latency.n, 3);
    assert_int_equal(ST->ack_latency.n, 5);
    assert_true(ST->report_latency.max < 500000); /* answered at once on loopback */

    /* one report left unanswered past ack_timeout (1 s) */
    const struct jt808_msg *m = expect_msg(0x0200, 1000);
    uint16_t lost = m->h.serial;
    serve(1300);
    assert_int_equal(ST->ledger.timed_out, 1);
    assert_int_equal(ST->ledger.failed, 0);
    assert_int_equal(ST->ledger.sent, ST->ledger.acked + 1);
    assert_int_equal(ST->reports_acked, F->reports_acked);
    assert_int_equal(ST->report_latency.n, F->reports_acked);
    assert_int_equal(ST->reports, F->reports_acked + 1);
    assert_false(F->peer_closed);                      /* a lost report is no reason to leave */

    /* a late answer settles nothing */
    uint64_t acked = ST->ledger.acked;
    ack(lost, 0x0200, 0);
    pump(50);
    assert_int_equal(ST->ledger.acked, acked);
    assert_int_equal(ST->ledger.timed_out, 1);
    assert_int_equal(ST->reports_acked, F->reports_acked);
}

/* ---- 5. platform requests ------------------------------------------------------------ */

static void test_platform_requests(void **state)
{
    fx_start(2013, "\"heartbeat\": \"30s\", \"report\": {\"every\": \"5s\"}");
    handshake(AUTH);

    uint16_t s = send_msg(0x8104);
    const struct jt808_msg *m = expect_msg(0x0104, 1000);
    assert_int_equal(m->b.params_resp.ack_serial, s);
    const struct jt808_param *p = param(&m->b.params_resp.p, 0x0001);
    assert_non_null(p);
    assert_int_equal(p->len, 4);
    assert_int_equal(p->num, 30);
    p = param(&m->b.params_resp.p, 0x0029);
    assert_non_null(p);
    assert_int_equal(p->len, 4);
    assert_int_equal(p->num, 5);
    p = param(&m->b.params_resp.p, 0x0002);
    assert_non_null(p);
    assert_int_equal(p->num, 1);                       /* ack_timeout, s */

    memset(&tx.b.params, 0, sizeof tx.b.params);
    static struct jt808_param tx_params2[2];
    memset(tx_params2, 0, sizeof tx_params2);
    tx.b.params.params = tx_params2;
    tx.b.params.n_params = 2;
    tx.b.params.count = 2;
    tx.b.params.params[0].id = 0x0029;
    tx.b.params.params[0].type = JT808_PT_DWORD;
    tx.b.params.params[0].num = 3;
    tx.b.params.params[1].id = 0x0001;
    tx.b.params.params[1].type = JT808_PT_DWORD;
    tx.b.params.params[1].num = 10;
    s = send_msg(0x8103);
    m = expect_msg(0x0001, 1000);
    assert_int_equal(m->b.gen_resp.ack_serial, s);
    assert_int_equal(m->b.gen_resp.ack_id, 0x8103);
    assert_int_equal(m->b.gen_resp.result, 0);

    s = send_msg(0x8104);
    m = expect_msg(0x0104, 1000);
    assert_int_equal(m->b.params_resp.ack_serial, s);
    p = param(&m->b.params_resp.p, 0x0029);
    assert_non_null(p);
    assert_int_equal(p->num, 3);
    p = param(&m->b.params_resp.p, 0x0001);
    assert_non_null(p);
    assert_int_equal(p->num, 10);

    s = send_msg(0x8201);
    m = expect_msg(0x0201, 1000);
    assert_int_equal(m->b.loc_resp.ack_serial, s);
    check_location(&m->b.loc_resp.loc, wall_gmt8(), 2);

    memset(&tx.b.text, 0, sizeof tx.b.text);
    tx.b.text.flag = 0x01;
    snprintf(tx.b.text.text, sizeof tx.b.text.text, "hello");
    s = send_msg(0x8300);
    m = expect_msg(0x0001, 1000);
    assert_int_equal(m->b.gen_resp.ack_serial, s);
    assert_int_equal(m->b.gen_resp.ack_id, 0x8300);
    assert_int_equal(m->b.gen_resp.result, 0);

    memset(&tx.b.control, 0, sizeof tx.b.control);
    tx.b.control.command = 4;
    s = send_msg(0x8105);
    m = expect_msg(0x0001, 1000);
    assert_int_equal(m->b.gen_resp.ack_serial, s);
    assert_int_equal(m->b.gen_resp.ack_id, 0x8105);
    assert_int_equal(m->b.gen_resp.result, 0);

    static const uint8_t odd[] = {0x01, 0x02};
    s = send_raw(0x8F00, odd, sizeof odd);
    m = expect_msg(0x0001, 1000);
    assert_int_equal(m->b.gen_resp.ack_serial, s);
    assert_int_equal(m->b.gen_resp.ack_id, 0x8F00);
    assert_int_equal(m->b.gen_resp.result, 3);         /* unsupported */

    static const uint8_t pkg[] = {0xDE, 0xAD, 0xBE, 0xEF};
    memset(&tx.b.upgrade, 0, sizeof tx.b.upgrade);
    tx.b.upgrade.type = 52;
    snprintf(tx.b.upgrade.manufacturer, sizeof tx.b.upgrade.manufacturer, "FSIM1");
    snprintf(tx.b.upgrade.version, sizeof tx.b.upgrade.version, "1.1");
    tx.b.upgrade.pkg_len = sizeof pkg;
    tx.b.upgrade.pkg = pkg;
    tx.b.upgrade.pkg_bytes = sizeof pkg;
    s = send_msg(0x8108);
    m = expect_msg(0x0001, 1000);
    assert_int_equal(m->b.gen_resp.ack_serial, s);
    assert_int_equal(m->b.gen_resp.ack_id, 0x8108);
    assert_int_equal(m->b.gen_resp.result, 0);
    m = expect_msg(0x0108, 1000);
    assert_int_equal(m->b.upgrade_result.type, 52);
    assert_int_equal(m->b.upgrade_result.result, 0);
    ack(m->h.serial, 0x0108, 0);
    pump(30);

    assert_int_equal(ST->commands, 8);
    assert_int_equal(ST->replies, 8);
    assert_int_equal(ST->decode_errors, 0);
    /* answers to the platform are not requests; only 0x0100, 0x0102, reports and
     * 0x0108 wait for an answer */
    assert_int_equal(ST->ledger.sent, 3 + F->reports_acked);
    assert_int_equal(ST->ledger.acked, ST->ledger.sent);
}

/* The report interval set by 0x8103 is the one reports then follow. */
static void test_set_report_interval_applies(void **state)
{
    fx_start(2013, "\"heartbeat\": \"30s\", \"report\": {\"every\": \"0s\"}");
    handshake(AUTH);
    memset(&tx.b.params, 0, sizeof tx.b.params);
    static struct jt808_param tx_params1[1];
    memset(tx_params1, 0, sizeof tx_params1);
    tx.b.params.params = tx_params1;
    tx.b.params.n_params = 1;
    tx.b.params.count = 1;
    tx.b.params.params[0].id = 0x0029;
    tx.b.params.params[0].type = JT808_PT_DWORD;
    tx.b.params.params[0].num = 1;
    uint16_t s = send_msg(0x8103);
    const struct jt808_msg *m = expect_msg(0x0001, 1000);
    assert_int_equal(m->b.gen_resp.ack_serial, s);
    uint64_t t0 = F->rx_us;
    m = expect_msg(0x0200, 1500);
    uint64_t gap1 = (F->rx_us - t0) / 1000u;
    t0 = F->rx_us;
    ack(m->h.serial, 0x0200, 0);
    m = expect_msg(0x0200, 1500);
    uint64_t gap2 = (F->rx_us - t0) / 1000u;
    ack(m->h.serial, 0x0200, 0);
    assert_in_range(gap1, 950, 1150);
    assert_in_range(gap2, 950, 1150);
}

/* ---- 6. authentication refused ---------------------------------------------------------- */

static void test_auth_refused_reregisters(void **state)
{
    fx_start(2013, "\"heartbeat\": \"30s\", \"report\": null");
    wait_accept(2000);
    const struct jt808_msg *m = expect_msg(0x0100, 2000);
    reg_resp(m->h.serial, 0, AUTH);
    m = expect_msg(0x0102, 1000);
    assert_string_equal(m->b.auth.auth_code, AUTH);
    ack(m->h.serial, 0x0102, 1);

    m = expect_msg(0x0100, 1000);                      /* same connection, registers again */
    assert_int_equal(F->accepts, 1);
    assert_int_equal(ST->dc[JT808_C_AUTH_REFUSED], 1);
    assert_int_equal(ST->in_state[TS_REGISTERING], 1);
    assert_int_equal(ST->ledger.failed, 1);
    assert_int_equal(ST->ledger.why[LEDGER_REFUSED], 1);
    assert_string_equal(m->b.reg.terminal_id, "T000001");

    reg_resp(m->h.serial, 0, "XYZ789");
    m = expect_msg(0x0102, 1000);
    assert_string_equal(m->b.auth.auth_code, "XYZ789");
    ack(m->h.serial, 0x0102, 0);
    wait_state(TS_AUTHENTICATED, 1000);
    assert_int_equal(ST->connects, 1);
    assert_int_equal(ST->disconnects, 0);
    assert_int_equal(ST->ledger.sent, 4);
    assert_int_equal(ST->ledger.acked, 3);
    assert_int_equal(ST->ledger.failed, 1);
}

/* ---- 7. registration refused ----------------------------------------------------------- */

static void test_register_refused_reconnects(void **state)
{
    fx_start(2013, "\"heartbeat\": \"30s\", \"report\": null");
    wait_accept(2000);
    const struct jt808_msg *m = expect_msg(0x0100, 2000);
    reg_resp(m->h.serial, 3, "");
    wait_closed(500);
    pump(5);
    assert_int_equal(ST->dc[JT808_C_REG_REFUSED], 1);
    assert_int_equal(ST->disconnects, 1);
    assert_int_equal(ST->ledger.sent, 1);
    assert_int_equal(ST->ledger.failed, 1);
    assert_int_equal(ST->ledger.why[LEDGER_REFUSED], 1);
    assert_int_equal(ST->reached[TS_REGISTERED], 0);

    wait_accept(1000);
    assert_int_equal(F->accepts, 2);
    m = expect_msg(0x0100, 1000);
    assert_string_equal(m->b.reg.terminal_id, "T000001");
    reg_resp(m->h.serial, 0, AUTH);
    m = expect_msg(0x0102, 1000);
    assert_string_equal(m->b.auth.auth_code, AUTH);
    ack(m->h.serial, 0x0102, 0);
    wait_state(TS_AUTHENTICATED, 1000);
    assert_int_equal(ST->connects, 2);
    assert_int_equal(ST->dc[JT808_C_REG_REFUSED], 1);
}

/* A platform may answer a registration with 0x8001 (bad message, or its own
 * failure): that refuses it too, and the terminal tries again on a new connection
 * (regression: it once waited in "registering" forever). */
static void test_register_answered_by_8001(void **state)
{
    fx_start(2013, "\"heartbeat\": \"30s\", \"report\": null");
    wait_accept(2000);
    const struct jt808_msg *m = expect_msg(0x0100, 2000);
    ack(m->h.serial, 0x0100, 2);
    wait_closed(500);
    pump(5);
    assert_int_equal(ST->dc[JT808_C_REG_REFUSED], 1);
    assert_int_equal(ST->ledger.why[LEDGER_REFUSED], 1);
    wait_accept(3000);
    m = expect_msg(0x0100, 1000);
    reg_resp(m->h.serial, 0, AUTH);
    m = expect_msg(0x0102, 1000);
    ack(m->h.serial, 0x0102, 0);
    wait_state(TS_AUTHENTICATED, 1000);
}

/* reconnect.min is the backoff floor (scenario.h) and the first wait after a lost
 * connection (SCHEMA.md); reconnect.max the longest wait.  Regression: the jitter
 * once took 50..100% of the delay, so waits fell below min.  What is checked is
 * the wait the terminal decides (reconnect_at_us less the instant of the drop,
 * with virtual time held while it drops), not the wall clock between a close and
 * the next accept, which a busy machine stretches. */
static void test_reconnect_backoff_within_min_max(void **state)
{
    fx_start(2013, "\"heartbeat\": \"30s\", \"report\": null, "
                   "\"reconnect\": {\"min\": \"200ms\", \"max\": \"400ms\"}");
    wait_accept(2000);
    struct term *t = &F->w->fleets[0].terms[0];
    for (int i = 0; i < 3; i++) {
        const struct jt808_msg *m = expect_msg(0x0100, 2000);
        uint64_t at = clock_now_us();
        clock_freeze(at); /* the drop happens at `at`, however long the loop takes to get to it */
        reg_resp(m->h.serial, 2, "");
        wait_state(TS_DISCONNECTED, 2000);
        uint64_t wait_ms = (t->reconnect_at_us - at) / 1000u;
        clock_thaw();
        if (t->reconnect_at_us < at + 200000u || t->reconnect_at_us > at + 400000u)
            fail_msg("reconnect %d decided %lu ms after the drop (reconnect min 200ms, max 400ms)", i + 1,
                     (unsigned long)wait_ms);
        wait_closed(500);
        wait_accept(3000); /* ... and it does come back */
    }
    assert_int_equal(ST->dc[JT808_C_REG_REFUSED], 3);
}

/* ---- 8. disconnect, blind area, backfill ------------------------------------------------ */

static void relisten(void)
{
    F->lfd = listen_on(&F->target);
}

static void test_disconnect_backfill(void **state)
{
    fx_start(2013, "\"heartbeat\": \"30s\", \"report\": {\"every\": \"500ms\"}");
    handshake(AUTH);
    const struct jt808_msg *m = expect_msg(0x0200, 1000);
    ack(m->h.serial, 0x0200, 0);
    F->reports_acked++;
    pump(30);
    assert_int_equal(ST->ledger.sent, ST->ledger.acked);

    /* the platform goes away: connection and listener */
    close(F->cfd);
    F->cfd = -1;
    close(F->lfd);
    F->lfd = -1;
    pump(1500);
    uint64_t refused = ST->connect_failures, disconnects = ST->disconnects;
    assert_true(refused >= 1);
    assert_int_equal(ST->reports, 1);                  /* the rest went to the blind area */
    assert_int_equal(ST->reached[TS_DISCONNECTED], 1);
    const struct jt808_blind *b = JT(&F->w->fleets[0].terms[0])->blind;
    assert_non_null(b);
    uint16_t buffered = b->count;
    assert_true(buffered >= 2);

    relisten();
    wait_accept(1000);
    m = expect_msg(0x0102, 1000);                      /* keeps its code: no 0x0100 */
    assert_string_equal(m->b.auth.auth_code, AUTH);
    ack(m->h.serial, 0x0102, 0);
    m = expect_msg(0x0704, 1000);
    const struct jt808_batch *bt = &m->b.batch;
    assert_int_equal(bt->type, 1);
    assert_true(bt->count >= 2);
    assert_true(bt->count >= buffered);
    long long prev = 0, now = wall_gmt8();
    for (int i = 0; i < bt->count; i++) {
        check_location(&bt->locs[i], now - 1, 3);
        long long t = bcd_time(bt->locs[i].time);
        assert_true(t >= prev);                        /* oldest first */
        prev = t;
    }
    uint16_t n = bt->count;
    ack(m->h.serial, 0x0704, 0);
    serve(100);
    assert_int_equal(ST->dc[JT808_C_BACKFILL_BATCHES], 1);
    assert_int_equal(ST->dc[JT808_C_BACKFILL_LOCATIONS], n);
    assert_int_equal(ST->dc[JT808_C_BLIND_DROPPED], 0);
    assert_int_equal(JT(&F->w->fleets[0].terms[0])->blind->count, 0);
    assert_int_equal(ST->connects, 2);
    assert_int_equal(ST->reached[TS_AUTHENTICATED], 1);
    assert_int_equal(ST->in_state[TS_AUTHENTICATED], 1);
    const struct ledger *l = &ST->ledger;
    assert_int_equal(l->sent, l->acked + l->failed + l->timed_out);
    assert_int_equal(ledger_pending(l), 0);
    assert_int_equal(l->failed + l->timed_out, 0);
    /* Refused connects are connect failures, not lost connections (regression: a
     * connect refused after EINPROGRESS once counted as a disconnect). */
    if (disconnects != 1)
        fail_msg("disconnects %lu after one lost connection and %lu refused connects",
                 (unsigned long)disconnects, (unsigned long)refused);
}

/* Reports in flight when the connection drops are backfilled as they were taken: the
 * 0x0704 carries their own positions and times.  Regression: the current
 * position and time were once pushed for every unacknowledged report instead. */
static void test_unacked_reports_backfilled_as_taken(void **state)
{
    fx_start(2013, "\"heartbeat\": \"30s\", \"ack_timeout\": \"5s\", \"report\": {\"every\": \"500ms\"}");
    handshake(AUTH);
    struct jt808_location taken[2];
    for (int i = 0; i < 2; i++) {
        if (!next_frame(1000))
            fail_msg("report %d did not come", i + 1);
        assert_int_equal(rx.h.msg_id, 0x0200);
        taken[i] = rx.b.loc;                           /* left unanswered */
    }
    assert_false(taken[0].lat == taken[1].lat && taken[0].lon == taken[1].lon);
    close(F->cfd);
    F->cfd = -1;
    close(F->lfd);
    F->lfd = -1;
    pump(300);
    assert_int_equal(ST->ledger.why[LEDGER_CONN_LOST], 2);
    relisten();
    wait_accept(1000);
    const struct jt808_msg *m = expect_msg(0x0102, 1000);
    ack(m->h.serial, 0x0102, 0);
    m = expect_msg(0x0704, 1000);
    const struct jt808_batch *bt = &m->b.batch;
    assert_int_equal(bt->type, 1);
    assert_true(bt->count >= 2);
    for (int i = 0; i < 2; i++) {
        const struct jt808_location *got = &bt->locs[i];
        if (got->lat != taken[i].lat || got->lon != taken[i].lon)
            fail_msg("backfilled location %d is %u,%u; the report was taken at %u,%u", i, got->lat,
                     got->lon, taken[i].lat, taken[i].lon);
        long long dt = bcd_time(got->time) - bcd_time(taken[i].time);
        if (dt < -1 || dt > 1)
            fail_msg("backfilled location %d has time %s; the report was taken at %s", i, got->time,
                     taken[i].time);
    }
    ack(m->h.serial, 0x0704, 0);
    serve(50);
    const struct ledger *l = &ST->ledger;
    assert_int_equal(l->sent, l->acked + l->failed + l->timed_out);
}

/* ---- 9. unregister ----------------------------------------------------------------------- */

static void test_unregister(void **state)
{
    fx_start(2013, "\"heartbeat\": \"30s\", \"report\": null");
    handshake(AUTH);
    send_ctl(CTL_UNREGISTER, 1.0, 0);
    const struct jt808_msg *m = expect_msg(0x0003, 1000);
    assert_int_equal(m->h.body_len, 0);
    assert_int_equal(ST->dc[JT808_C_UNREGISTERED], 1);
    assert_null(JT(&F->w->fleets[0].terms[0])->auth);
    ack(m->h.serial, 0x0003, 0);
    wait_closed(500);
    pump(5);
    assert_int_equal(ST->in_state[TS_UNREGISTERED], 1);
    assert_int_equal(ST->reached[TS_UNREGISTERED], 1);
    assert_int_equal(ST->disconnects, 1);
    assert_int_equal(ST->ledger.sent, 3);
    assert_int_equal(ST->ledger.acked, 3);
    uint64_t end = clock_mono_us() + 1000000u;
    while (clock_mono_us() < end) {
        if (try_accept())
            fail_msg("the terminal came back after unregistering");
        step();
    }
    assert_int_equal(ST->connects, 1);
    assert_int_equal(ST->in_state[TS_UNREGISTERED], 1);
    /* a second unregister finds nobody online */
    send_ctl(CTL_UNREGISTER, 1.0, 0);
    pump(30);
    assert_int_equal(ST->dc[JT808_C_UNREGISTERED], 1);
}

/* Unregistering means leaving: with no answer to 0x0003 by ack_timeout the terminal
 * still disconnects and stays away (SCHEMA.md, terminal action "unregister").
 * Regression: the terminal once stayed online, "authenticated" with its auth code
 * already erased. */
static void test_unregister_unanswered_still_leaves(void **state)
{
    fx_start(2013, "\"heartbeat\": \"30s\", \"report\": null");
    handshake(AUTH);
    send_ctl(CTL_UNREGISTER, 1.0, 0);
    (void)expect_msg(0x0003, 1000);
    uint64_t end = clock_mono_us() + 1500000u;
    while (!F->peer_closed && clock_mono_us() < end)
        step();
    pump(5);
    assert_int_equal(ST->ledger.timed_out, 1);
    if (!F->peer_closed)
        fail_msg("the terminal is still connected (%s) 1.5 s after an unanswered 0x0003",
                 term_state_name(F->w->fleets[0].terms[0].state));
    assert_int_equal(ST->in_state[TS_UNREGISTERED], 1);
}

/* ---- 10. fault ------------------------------------------------------------------------------ */

static void test_fault_reconnects_after_down(void **state)
{
    fx_start(2013, "\"heartbeat\": \"30s\", \"report\": null");
    handshake(AUTH);
    uint64_t sent = clock_mono_us();
    send_ctl(CTL_FAULT, 1.0, 300000);
    wait_closed(200);
    assert_int_equal(ST->faults, 1);
    assert_int_equal(ST->disconnects, 1);
    assert_int_equal(ST->in_state[TS_DISCONNECTED], 1);
    wait_accept(1000);
    uint64_t away = (F->accept_us - sent) / 1000u;
    if (away < 250 || away > 450)
        fail_msg("the terminal came back %lu ms after the fault (down 300 ms)", (unsigned long)away);
    const struct jt808_msg *m = expect_msg(0x0102, 1000);
    assert_string_equal(m->b.auth.auth_code, AUTH);
    ack(m->h.serial, 0x0102, 0);
    wait_state(TS_AUTHENTICATED, 1000);
    assert_int_equal(ST->connects, 2);
    assert_int_equal(ST->reached[TS_AUTHENTICATED], 1);
    assert_int_equal(ST->reached[TS_DISCONNECTED], 1);
    assert_int_equal(ST->online_latency.n, 2);
    assert_int_equal(ST->ledger.sent, 3);
    assert_int_equal(ST->ledger.acked, 3);
}

/* ---- 11. garbage from the platform ------------------------------------------------------ */

static void test_garbage_from_platform(void **state)
{
    fx_start(2013, "\"heartbeat\": \"30s\", \"report\": null");
    handshake(AUTH);
    uint8_t frame[JT808_MAX_FRAME], scratch[JT808_MAX_FRAME];
    size_t len = 0;
    struct jt808_err err;

    /* bytes before a frame, then a frame whose check byte does not match */
    static const uint8_t junk[] = {0x01, 0x02, 0x03, 0xFF};
    send_bytes(junk, sizeof junk);
    build(0x8104, frame, sizeof frame, &len);
    frame[1] ^= 0x01;                                  /* 0x81 -> 0x80: the check no longer holds */
    assert_int_equal(jt808_decode(frame, len, scratch, sizeof scratch, &rx, &err), JT808_E_CHECK);
    send_bytes(frame, len);
    uint16_t s = send_msg(0x8104);
    const struct jt808_msg *m = expect_msg(0x0104, 1000);
    assert_int_equal(m->b.params_resp.ack_serial, s);
    /* the junk is a bad frame too (it once vanished without a trace), and its bytes are counted */
    assert_int_equal(ST->decode_errors, 2);
    assert_int_equal(ST->dc[JT808_C_GARBAGE_BYTES], sizeof junk);

    /* a bad escape, then a frame split over two writes */
    build(0x8104, frame, sizeof frame, &len);
    uint8_t bad[JT808_MAX_FRAME];
    bad[0] = frame[0];
    bad[1] = 0x7D;
    bad[2] = 0x03;
    memcpy(bad + 3, frame + 1, len - 1);
    assert_int_equal(jt808_decode(bad, len + 2, scratch, sizeof scratch, &rx, &err), JT808_E_ESCAPE);
    send_bytes(bad, len + 2);
    s = build(0x8104, frame, sizeof frame, &len);
    send_bytes(frame, 5);
    pump(30);
    send_bytes(frame + 5, len - 5);
    m = expect_msg(0x0104, 1000);
    assert_int_equal(m->b.params_resp.ack_serial, s);
    assert_int_equal(ST->decode_errors, 3);

    /* a length field that disagrees with the bytes, after a lone 7E */
    static const uint8_t raw[] = {0x81, 0x04, 0x00, 0x05, 0x01, 0x38, 0x00, 0x00, 0x00, 0x00, 0x12, 0x34};
    uint8_t wire[40];
    wire[0] = JT808_FLAG;
    size_t wl = wrap(raw, sizeof raw, wire + 1, sizeof wire - 1);
    assert_int_equal(jt808_decode(wire + 1, wl, scratch, sizeof scratch, &rx, &err), JT808_E_LENGTH);
    send_bytes(wire, wl + 1);
    s = send_msg(0x8104);
    m = expect_msg(0x0104, 1000);
    assert_int_equal(m->b.params_resp.ack_serial, s);
    assert_int_equal(ST->decode_errors, 5); /* the lone 7E is junk before the frame: one more */
    assert_false(F->peer_closed);
    assert_int_equal(ST->disconnects, 0);
    assert_int_equal(ST->in_state[TS_AUTHENTICATED], 1);
    assert_int_equal(ST->commands, 3);
    assert_int_equal(ST->replies, 3);
}

/* An answer to nothing in flight, or with an unknown serial, changes nothing. */
static void test_stray_answers_ignored(void **state)
{
    fx_start(2013, "\"heartbeat\": \"30s\", \"report\": null");
    handshake(AUTH);
    struct ledger before = ST->ledger;
    ack((uint16_t)(F->last_serial + 100), 0x0200, 0);
    reg_resp((uint16_t)(F->last_serial + 101), 0, "NEW");
    pump(50);
    assert_memory_equal(&ST->ledger, &before, sizeof before);
    assert_int_equal(ST->in_state[TS_AUTHENTICATED], 1);
    assert_string_equal(JT(&F->w->fleets[0].terms[0])->auth, AUTH);
    assert_false(F->peer_closed);
}

/* ---- fault: a request with a wrong check byte ------------------------------------------ */

/* Take the next whole frame as wire bytes, without decoding it. */
static size_t take_raw(uint8_t *out, size_t cap, int ms)
{
    uint64_t end = clock_mono_us() + (uint64_t)ms * 1000u;
    for (;;) {
        size_t start = 0, flen = 0, skipped = 0;
        size_t used = jt808_frame_find(F->buf, F->len, &start, &flen, &skipped);
        if (used) {
            assert_int_equal(start, 0);
            assert_true(flen <= cap);
            memcpy(out, F->buf, flen);
            memmove(F->buf, F->buf + used, F->len - used);
            F->len -= used;
            return flen;
        }
        if (clock_mono_us() >= end)
            fail_msg("no frame from the terminal within %d ms", ms);
        step();
    }
}

static void test_fault_bad_check(void **state)
{
    fx_start(2013, "\"heartbeat\": \"30s\", \"report\": {\"every\": \"500ms\"}");
    handshake(AUTH);
    struct ctl_msg c = {.type = CTL_FAULT, .fleet = 0, .fraction = 1.0, .kind = CTL_FAULT_CORRUPT};
    assert_int_equal(ctl_send(F->ctl[0], &c, NULL), 0);

    uint8_t wire[JT808_MAX_FRAME], raw[JT808_MAX_FRAME], scratch[JT808_MAX_FRAME];
    size_t len = take_raw(wire, sizeof wire, 1000), rl = 0;
    struct jt808_err err;
    assert_int_equal(jt808_decode(wire, len, scratch, sizeof scratch, &rx, &err), JT808_E_CHECK);
    /* otherwise a proper frame: it unescapes, and only the check is off */
    assert_int_equal(jt808_unescape(wire + 1, len - 2, raw, sizeof raw, &rl, &err), JT808_OK);
    assert_true(rl >= 13);
    assert_int_not_equal(jt808_xor(raw, rl - 1), raw[rl - 1]);
    uint16_t id = (uint16_t)(raw[0] << 8 | raw[1]), serial = (uint16_t)(raw[10] << 8 | raw[11]);
    assert_int_equal(id, 0x0200);
    assert_int_equal(serial, (uint16_t)(F->last_serial + 1));
    F->last_serial = serial;
    pump(5);
    assert_int_equal(ST->faults, 1);
    assert_int_equal(ST->disconnects, 0);
    assert_int_equal(ST->reports, 1);

    ack(serial, 0x0200, 2);                            /* what a platform says to a bad frame */
    const struct jt808_msg *m = expect_msg(0x0200, 1000); /* the next one is sound */
    ack(m->h.serial, 0x0200, 0);
    pump(20);
    assert_int_equal(ST->ledger.failed, 1);
    assert_int_equal(ST->ledger.why[LEDGER_REFUSED], 1);
    assert_int_equal(ST->reports_acked, 1);
    assert_int_equal(ST->ledger.sent, ST->ledger.acked + ST->ledger.failed);
    assert_false(F->peer_closed);
}

/* ---- subpackages from the platform ------------------------------------------------------- */

struct frames {
    uint8_t buf[8192];
    size_t used, off[16], len[16];
    int n;
};

static void collect(const uint8_t *frame, size_t len, void *arg)
{
    struct frames *f = arg;
    if (f->n >= 16 || f->used + len > sizeof f->buf)
        return;
    memcpy(f->buf + f->used, frame, len);
    f->off[f->n] = f->used;
    f->len[f->n++] = len;
    f->used += len;
}

/* Split tx's typed body for msg_id into frames of max_chunk body bytes; returns the
 * serial of the first. */
static uint16_t split_msg(uint16_t msg_id, size_t max_chunk, struct frames *out)
{
    uint8_t body[4096];
    size_t n = 0;
    struct jt808_err err;
    tx.h.msg_id = msg_id;
    tx.h.version = F->v;
    tx.body = NULL;
    assert_int_equal(jt808_body_encode(&tx, body, sizeof body, &n, &err), JT808_OK);
    assert_true(n > max_chunk);
    struct jt808_header h = {.msg_id = msg_id, .version = F->v, .proto_version = F->proto_version};
    snprintf(h.phone, sizeof h.phone, "%s", F->phone);
    memset(out, 0, sizeof *out);
    uint16_t first = F->pserial;
    assert_int_equal(jt808_split(&h, first, body, n, max_chunk, collect, out), JT808_OK);
    F->pserial = (uint16_t)(first + out->n);
    return first;
}

static void send_frame(const struct frames *f, int i)
{
    send_bytes(f->buf + f->off[i], f->len[i]);
}

static void expect_general(uint16_t serial, uint16_t id, uint8_t result)
{
    const struct jt808_msg *m = expect_msg(0x0001, 1000);
    assert_int_equal(m->b.gen_resp.ack_serial, serial);
    assert_int_equal(m->b.gen_resp.ack_id, id);
    assert_int_equal(m->b.gen_resp.result, result);
}

static uint8_t big_pkg[1200];

static void upgrade_body(void)
{
    for (size_t i = 0; i < sizeof big_pkg; i++)
        big_pkg[i] = (uint8_t)(i * 7);
    memset(&tx.b.upgrade, 0, sizeof tx.b.upgrade);
    tx.b.upgrade.type = 52;
    snprintf(tx.b.upgrade.manufacturer, sizeof tx.b.upgrade.manufacturer, "FSIM1");
    snprintf(tx.b.upgrade.version, sizeof tx.b.upgrade.version, "2.0");
    tx.b.upgrade.pkg_len = sizeof big_pkg;
    tx.b.upgrade.pkg = big_pkg;
    tx.b.upgrade.pkg_bytes = sizeof big_pkg;
}

/* An upgrade package shorter than its length field says (one frame, nothing more
 * to come): acknowledged, then 0x0108 result 1 (the upgrade failed), counted. */
static void test_upgrade_short_package(void **state)
{
    (void)state;
    fx_start(2019, "\"heartbeat\": \"30s\", \"report\": null");
    handshake(AUTH);
    static const uint8_t pkg[] = {0xDE, 0xAD, 0xBE, 0xEF};
    memset(&tx.b.upgrade, 0, sizeof tx.b.upgrade);
    tx.b.upgrade.type = 0;
    snprintf(tx.b.upgrade.manufacturer, sizeof tx.b.upgrade.manufacturer, "FLEETSIM001");
    snprintf(tx.b.upgrade.version, sizeof tx.b.upgrade.version, "2.0");
    tx.b.upgrade.pkg_len = 2 * sizeof pkg;
    tx.b.upgrade.pkg = pkg;
    tx.b.upgrade.pkg_bytes = sizeof pkg;
    uint16_t s = send_msg(0x8108);
    const struct jt808_msg *m = expect_msg(0x0001, 1000);
    assert_int_equal(m->b.gen_resp.ack_serial, s);
    assert_int_equal(m->b.gen_resp.ack_id, 0x8108);
    assert_int_equal(m->b.gen_resp.result, 0);
    m = expect_msg(0x0108, 1000);
    assert_int_equal(m->b.upgrade_result.type, 0);
    assert_int_equal(m->b.upgrade_result.result, 1);
    ack(m->h.serial, 0x0108, 0);
    pump(20);
    assert_int_equal(ST->dc[JT808_C_UPGRADES], 0);
    assert_int_equal(ST->dc[JT808_C_UPGRADES_FAILED], 1);
    assert_int_equal(ST->decode_errors, 0);
}

static void test_subpackaged_upgrade(void **state)
{
    fx_start(2013, "\"heartbeat\": \"30s\", \"report\": null");
    handshake(AUTH);
    static struct frames a;
    upgrade_body();
    uint16_t s = split_msg(0x8108, 500, &a);
    assert_int_equal(a.n, 3);
    /* every package is answered; the last one's answer is the message's */
    for (int i = 0; i < 3; i++) {
        send_frame(&a, i);
        expect_general((uint16_t)(s + i), 0x8108, 0);
    }
    const struct jt808_msg *m = expect_msg(0x0108, 1000);
    assert_int_equal(m->b.upgrade_result.type, 52);
    assert_int_equal(m->b.upgrade_result.result, 0);
    ack(m->h.serial, 0x0108, 0);
    pump(20);
    assert_int_equal(ST->commands, 1);
    assert_int_equal(ST->decode_errors, 0);
    assert_int_equal(ST->ledger.sent, ST->ledger.acked);
    assert_int_equal(ST->dc[JT808_C_UPGRADES], 1);
    assert_int_equal(ST->dc[JT808_C_UPGRADES_FAILED], 0);

    /* package 3 of 2 does not decode: counted, not answered (2013 header: id,
     * properties with the subpackage bit and a 4-byte body, phone, serial, total, index) */
    uint16_t bad = F->pserial++;
    const uint8_t raw[] = {0x81, 0x08, 0x20, 0x04, 0x01, 0x38, 0x00, 0x00, 0x00, 0x00,
                           (uint8_t)(bad >> 8), (uint8_t)bad, 0x00, 0x02, 0x00, 0x03, 1, 2, 3, 4};
    uint8_t frame[64];
    size_t fl = wrap(raw, sizeof raw, frame, sizeof frame);
    send_bytes(frame, fl);
    uint16_t q = send_msg(0x8104);
    m = expect_msg(0x0104, 1000);
    assert_int_equal(m->b.params_resp.ack_serial, q);
    assert_int_equal(ST->decode_errors, 1);
    assert_int_equal(ST->commands, 2);
}

/* Two subpackaged messages may arrive interleaved; finishing one must not throw away
 * the packages of the other (regression: the whole reassembly state was once freed
 * when any message completed). */
static void test_interleaved_subpackages(void **state)
{
    fx_start(2013, "\"heartbeat\": \"30s\", \"report\": null");
    handshake(AUTH);
    static struct frames a, b;
    upgrade_body();
    uint16_t sa = split_msg(0x8108, 500, &a);
    memset(&tx.b.text, 0, sizeof tx.b.text);
    tx.b.text.flag = 0x01;
    memset(tx.b.text.text, 'x', 700);
    uint16_t sb = split_msg(0x8300, 400, &b);
    assert_int_equal(a.n, 3);
    assert_int_equal(b.n, 2);

    send_frame(&a, 0);
    expect_general(sa, 0x8108, 0);
    send_frame(&b, 0);
    expect_general(sb, 0x8300, 0);
    send_frame(&a, 1);
    expect_general((uint16_t)(sa + 1), 0x8108, 0);
    send_frame(&a, 2);
    expect_general((uint16_t)(sa + 2), 0x8108, 0);
    const struct jt808_msg *m = expect_msg(0x0108, 1000);
    ack(m->h.serial, 0x0108, 0);
    send_frame(&b, 1);
    expect_general((uint16_t)(sb + 1), 0x8300, 0);
    pump(20);
    if (ST->commands != 2)
        fail_msg("%lu platform messages handled; the 0x8300 in packages %u..%u was lost",
                 (unsigned long)ST->commands, sb, (unsigned)(sb + 1));
}

/* ---- drain ------------------------------------------------------------------------------------ */

static void test_drain_settles_and_stops(void **state)
{
    fx_start(2013, "\"heartbeat\": \"30s\", \"ack_timeout\": \"5s\", \"report\": {\"every\": \"200ms\"}");
    handshake(AUTH);
    if (!next_frame(500))
        fail_msg("no report");
    assert_int_equal(rx.h.msg_id, 0x0200);              /* left unanswered */
    struct ctl_msg d = {.type = CTL_DRAIN, .settle_us = 300000};
    assert_int_equal(ctl_send(F->ctl[0], &d, NULL), 0);
    pump(20);
    uint64_t reports = ST->reports;
    struct ctl_msg m;
    int got = 0;
    uint64_t end = clock_mono_us() + 1000000u;
    while (!got && clock_mono_us() < end) {
        step();
        got = recv(F->ctl[0], &m, sizeof m, MSG_DONTWAIT) > 0;
    }
    assert_true(got);
    assert_int_equal(m.type, CTL_DRAINED);
    assert_int_equal(F->slot->phase, WP_DONE);
    pump(400);
    assert_int_equal(ST->reports, reports);             /* nothing new after the drain */
    const struct ledger *l = &ST->ledger;
    assert_int_equal(ledger_pending(l), 0);
    assert_int_equal(l->sent, l->acked + l->failed + l->timed_out);
    assert_true(l->timed_out >= 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_register_auth_report_2013, fx_teardown),
        cmocka_unit_test_teardown(test_register_auth_2019, fx_teardown),
        cmocka_unit_test_teardown(test_heartbeat_period, fx_teardown),
        cmocka_unit_test_teardown(test_report_ledger, fx_teardown),
        cmocka_unit_test_teardown(test_platform_requests, fx_teardown),
        cmocka_unit_test_teardown(test_set_report_interval_applies, fx_teardown),
        cmocka_unit_test_teardown(test_auth_refused_reregisters, fx_teardown),
        cmocka_unit_test_teardown(test_register_refused_reconnects, fx_teardown),
        cmocka_unit_test_teardown(test_register_answered_by_8001, fx_teardown),
        cmocka_unit_test_teardown(test_reconnect_backoff_within_min_max, fx_teardown),
        cmocka_unit_test_teardown(test_disconnect_backfill, fx_teardown),
        cmocka_unit_test_teardown(test_unacked_reports_backfilled_as_taken, fx_teardown),
        cmocka_unit_test_teardown(test_unregister, fx_teardown),
        cmocka_unit_test_teardown(test_unregister_unanswered_still_leaves, fx_teardown),
        cmocka_unit_test_teardown(test_fault_reconnects_after_down, fx_teardown),
        cmocka_unit_test_teardown(test_garbage_from_platform, fx_teardown),
        cmocka_unit_test_teardown(test_stray_answers_ignored, fx_teardown),
        cmocka_unit_test_teardown(test_fault_bad_check, fx_teardown),
        cmocka_unit_test_teardown(test_subpackaged_upgrade, fx_teardown),
        cmocka_unit_test_teardown(test_upgrade_short_package, fx_teardown),
        cmocka_unit_test_teardown(test_interleaved_subpackages, fx_teardown),
        cmocka_unit_test_teardown(test_drain_settles_and_stops, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
