/* The gateway test fixture shared by test_gateway*.c: a platform core and one
 * gateway process forked per test, terminals on blocking TCP sockets, frames
 * encoded and decoded with the codec.  Included by one test file each, so its
 * helpers are static (not every file uses every one). */
#ifndef FLEETSIM_TESTS_GW_FIXTURE_H
#define FLEETSIM_TESTS_GW_FIXTURE_H

#pragma GCC diagnostic ignored "-Wunused-function"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include "tests/unit/scratch.h"
#include <cmocka.h>

#include "sim/core/clock.h"
#include "sim/core/ctl.h"
#include "sim/core/stats.h"
#include "sim/platform/jt808/jt808_gw.h"
#include "sim/proto/jt808_kinds.h"
#include "sim/platform/core/core.h"
#include "sim/platform/core/store.h"
#include "sim/proto/jt808.h"

#define TRIPLES_CSV "tests/data/triples.csv"
#define PHONE13 "013912345678"            /* 2013 header: BCD[6] */
#define PHONE13_B "013912345679"
#define PHONE13_C "013912345680"
#define PHONE19 "00000000013912345678"    /* 2019 header: BCD[10] */
#define PHONE_NUM "13912345678"           /* the number both stand for */
#define PLATE "\xE7\xB2\xA4" "B12345"     /* 粤B12345 in UTF-8 */
#define RX_TIMEOUT_MS 2000
#define MAX_CLIENTS 3

static struct stats_shm *shm;

/* Messages are large (a 0x0704 holds 32 locations): keep them off the stack. */
static struct jt808_msg tx, rx;

struct client {
    int fd;
    enum jt808_version v;
    char phone[21];
    uint16_t serial;                 /* next request serial */
    uint8_t buf[16384];              /* bytes received, not yet a whole frame */
    size_t len;
    uint8_t scratch[JT808_MAX_FRAME];
};

struct fixture {
    char dir[256];
    char db[300];
    struct gw_config cfg;
    struct core_config core_cfg;
    pid_t pid;
    int ctl;                         /* parent's end of the control pair */
    pid_t core_pid;
    int core_ctl;                    /* the core's: commands go there */
    struct gw_slot *slot;
    struct client cl[MAX_CLIENTS];
};

/* ---- gateway process ----------------------------------------------------- */

static void cfg_defaults(struct fixture *f)
{
    memset(&f->cfg, 0, sizeof f->cfg);
    snprintf(f->cfg.bind, sizeof f->cfg.bind, "127.0.0.1");
    f->cfg.port = 0;
    memset(&f->core_cfg, 0, sizeof f->core_cfg);
    snprintf(f->core_cfg.db, sizeof f->core_cfg.db, "%s", f->db);
    f->core_cfg.provision = jt808_frontend.provision;
    f->core_cfg.provision_arg = &f->cfg;
    f->cfg.one_party = 0;
    f->cfg.idle_timeout_ms = 10000;
    f->cfg.cmd_timeout_ms = 5000;
    f->cfg.procs = 1;
    f->cfg.verbose = getenv("GW_VERBOSE") != NULL;
}

static void wait_ready(int ctl, const char *who, const char *error)
{
    struct timeval tv = {.tv_sec = 5};
    setsockopt(ctl, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct ctl_msg m;
    int r = ctl_recv(ctl, &m, NULL, 0);
    if (r != 1 || m.type != CTL_READY)
        fail_msg("%s did not report ready (ctl_recv %d, type %u): %s", who, r, r == 1 ? m.type : 0, error);
}

/* Fork the platform core on f->core_cfg and wait until it is ready. */
static void core_start(struct fixture *f)
{
    int cp[2];
    char err[256] = "";
    memset(&shm->core, 0, sizeof shm->core);
    int lfd = core_listen(f->cfg.core, sizeof f->cfg.core, err, sizeof err);
    if (lfd < 0)
        fail_msg("core_listen: %s", err);
    assert_int_equal(ctl_pair(cp), 0);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(cp[0]);
        _exit(core_main(&f->core_cfg, lfd, cp[1], &shm->core));
    }
    close(lfd);
    close(cp[1]);
    f->core_pid = pid;
    f->core_ctl = cp[0];
    wait_ready(f->core_ctl, "platform core", shm->core.error);
}

static int reap(pid_t pid)
{
    int status = 0;
    for (int i = 0; i < 300; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

/* CTL_STOP to a child, then reap it and forget its pid and control channel. */
static int stop_child(pid_t *pid, int *ctl)
{
    if (*pid <= 0)
        return 0;
    struct ctl_msg m = {.type = CTL_STOP};
    ctl_send(*ctl, &m, NULL);
    int rc = reap(*pid);
    close(*ctl);
    *ctl = -1;
    *pid = 0;
    return rc;
}

static int core_stop(struct fixture *f) { return stop_child(&f->core_pid, &f->core_ctl); }

/* Fork a gateway on f->cfg (and the core it needs, if none runs) and wait until
 * it says it listens. */
static void gw_start(struct fixture *f)
{
    int lfd = -1, cp[2];
    char err[256] = "";
    if (f->core_pid <= 0)
        core_start(f);
    memset(f->slot, 0, sizeof *f->slot);
    f->cfg.port = 0;
    if (gw_listen(&f->cfg, &lfd, 1, err, sizeof err) != 0)
        fail_msg("gw_listen: %s", err);
    assert_int_not_equal(f->cfg.port, 0);
    assert_int_equal(ctl_pair(cp), 0);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(cp[0]);
        int rc = gw_main(&f->cfg, 0, lfd, cp[1], f->slot);
        _exit(rc);
    }
    close(lfd);
    close(cp[1]);
    f->pid = pid;
    f->ctl = cp[0];
    wait_ready(f->ctl, "gateway", f->slot->error);
    assert_int_equal(f->slot->phase, WP_RUNNING);
}

/* CTL_STOP to the gateway, then to the core (which stores what the gateway sent
 * last); each waited for at most 3 s, then SIGKILL.  Returns the gateway's exit
 * status (the core's if the gateway's is 0), -1 when one had to be killed. */
static int gw_stop_only(struct fixture *f);
static int gw_stop(struct fixture *f)
{
    int rc = gw_stop_only(f);
    int krc = core_stop(f);
    return rc ? rc : krc;
}

static int gw_stop_only(struct fixture *f) { return stop_child(&f->pid, &f->ctl); }

/* Command msg_id to a fleet of version (2013/2019) and count phones starting at
 * PHONE_NUM; settle_us 0 leaves the deadline to cfg.cmd_timeout_ms. */
static void send_ctl_command_v(struct fixture *f, uint16_t msg_id, uint16_t version, uint32_t count,
                               uint64_t settle_us, const char *payload)
{
    struct ctl_msg m;
    memset(&m, 0, sizeof m);
    m.type = CTL_COMMAND;
    m.fleet = 0;
    m.kind = (uint32_t)jt808_kind_index(msg_id);
    (void)version; /* each terminal is answered in its own edition */
    m.fraction = 1.0;
    m.count = count;
    m.settle_us = settle_us;
    snprintf(m.ident, sizeof m.ident, "%s", PHONE_NUM);
    snprintf(m.protocol, sizeof m.protocol, "jt808");
    snprintf(m.what, sizeof m.what, "0x%04X", msg_id);
    assert_int_equal(ctl_send(f->core_ctl, &m, payload), 0);
}

static void send_ctl_command(struct fixture *f, uint16_t msg_id, uint32_t count, const char *payload)
{
    send_ctl_command_v(f, msg_id, 2013, count, 0, payload);
}

/* A counter another process writes: poll until it reaches want (or 2 s pass). */
static uint64_t wait_u64(const uint64_t *p, uint64_t want)
{
    const volatile uint64_t *v = p;
    for (int i = 0; i < 200 && *v != want; i++)
        usleep(10000);
    return *v;
}

/* ---- fixture -------------------------------------------------------------- */

static const char *argv0 = "";

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    if (scratch_make(argv0, "test_gateway", f->dir, sizeof f->dir) < 0) {
        free(f);
        return -1;
    }
    snprintf(f->db, sizeof f->db, "%s/platform.db", f->dir);
    f->ctl = -1;
    f->core_ctl = -1;
    f->slot = &shm->gateways[0];
    for (int i = 0; i < MAX_CLIENTS; i++)
        f->cl[i].fd = -1;
    cfg_defaults(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    int ok = 0;
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (f->cl[i].fd >= 0)
            close(f->cl[i].fd);
    if (f->pid > 0) {
        if (gw_stop(f) != 0) {
            print_error("gateway did not exit cleanly on CTL_STOP\n");
            ok = -1;
        }
        if (f->slot->error[0]) {
            print_error("gateway error: %s\n", f->slot->error);
            ok = -1;
        }
    }
    if (f->core_pid > 0 && core_stop(f) != 0) {
        print_error("platform core did not exit cleanly on CTL_STOP\n");
        ok = -1;
    }
    if (shm->core.error[0]) {
        print_error("platform core error: %s\n", shm->core.error);
        ok = -1;
    }
    scratch_remove(f->dir);
    free(f);
    return ok;
}

/* What the core stored (read after gw_stop). */
static bool stored_location(struct fixture *f, const char *phone, char *data, size_t cap)
{
    struct store *s = NULL;
    char err[256] = "";
    if (store_open(&s, f->db, err, sizeof err) != 0)
        fail_msg("store_open %s: %s", f->db, err);
    int64_t at = 0;
    bool have = store_last_report(s, "jt808", phone, "location", data, cap, &at);
    store_close(s);
    return have;
}

static size_t stored_count(struct fixture *f)
{
    struct store *s = NULL;
    char err[256] = "";
    if (store_open(&s, f->db, err, sizeof err) != 0)
        fail_msg("store_open %s: %s", f->db, err);
    size_t n = store_count(s, "jt808");
    store_close(s);
    return n;
}

/* ---- terminal side ---------------------------------------------------------- */

static struct client *cl_open(struct fixture *f, int i, enum jt808_version v, const char *phone)
{
    struct client *c = &f->cl[i];
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(c->fd >= 0);
    struct timeval tv = {.tv_sec = RX_TIMEOUT_MS / 1000};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(f->cfg.port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c->fd, (struct sockaddr *)&a, sizeof a) != 0)
        fail_msg("connect to 127.0.0.1:%u: %s", f->cfg.port, strerror(errno));
    c->v = v;
    snprintf(c->phone, sizeof c->phone, "%s", phone);
    c->serial = 1;
    c->len = 0;
    return c;
}

static void send_all(struct client *c, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t w = send(c->fd, b, n, MSG_NOSIGNAL);
        if (w <= 0)
            fail_msg("send: %s", strerror(errno));
        b += w;
        n -= (size_t)w;
    }
}

/* Start a request in tx with the client's header; returns its serial. */
static uint16_t tx_begin(struct client *c, uint16_t msg_id)
{
    memset(&tx, 0, sizeof tx);
    tx.h.msg_id = msg_id;
    tx.h.version = c->v;
    tx.h.proto_version = c->v == JT808_V2019 ? 1 : 0;
    snprintf(tx.h.phone, sizeof tx.h.phone, "%s", c->phone);
    tx.h.serial = c->serial++;
    return tx.h.serial;
}

static size_t tx_encode(uint8_t *out, size_t cap)
{
    size_t n = 0;
    struct jt808_err e;
    enum jt808_rc rc = jt808_encode(&tx, out, cap, &n, &e);
    if (rc != JT808_OK)
        fail_msg("encode 0x%04X: %s at %zu (%s)", tx.h.msg_id, jt808_rc_name(rc), e.offset,
                 e.field ? e.field : "");
    return n;
}

static void tx_send(struct client *c)
{
    uint8_t frame[JT808_MAX_FRAME];
    send_all(c, frame, tx_encode(frame, sizeof frame));
}

/* Next frame from the gateway, decoded into rx. */
static void rx_next(struct client *c)
{
    for (;;) {
        size_t start = 0, len = 0, skipped = 0;
        size_t used = jt808_frame_find(c->buf, c->len, &start, &len, &skipped);
        if (used) {
            struct jt808_err e;
            jt808_msg_free(&rx);
            memset(&rx, 0, sizeof rx);
            enum jt808_rc rc = jt808_decode(c->buf + start, len, c->scratch, sizeof c->scratch, &rx, &e);
            if (rc != JT808_OK)
                fail_msg("gateway sent a frame the codec rejects: %s at %zu (%s)", jt808_rc_name(rc),
                         e.offset, e.field ? e.field : "");
            assert_int_equal(start, 0); /* the gateway sends no garbage */
            memmove(c->buf, c->buf + used, c->len - used);
            c->len -= used;
            return;
        }
        if (c->len == sizeof c->buf)
            fail_msg("no frame in %zu bytes from the gateway", c->len);
        ssize_t r = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
        if (r == 0)
            fail_msg("gateway closed the connection while an answer was expected");
        if (r < 0)
            fail_msg("no answer from the gateway within %d ms: %s", RX_TIMEOUT_MS, strerror(errno));
        c->len += (size_t)r;
    }
}

/* The next frame must be 0x8001 answering (ack_id, ack_serial) with result. */
static void expect_gen(struct client *c, uint16_t ack_id, uint16_t ack_serial, uint8_t result)
{
    rx_next(c);
    if (rx.h.msg_id != 0x8001)
        fail_msg("expected 0x8001 for 0x%04X serial %u, got 0x%04X", ack_id, ack_serial, rx.h.msg_id);
    const struct jt808_gen_resp *g = &rx.b.gen_resp;
    if (g->ack_id != ack_id || g->ack_serial != ack_serial || g->result != result)
        fail_msg("expected 0x8001 {ack 0x%04X, serial %u, result %u}, got {ack 0x%04X, serial %u, result %u}",
                 ack_id, ack_serial, result, g->ack_id, g->ack_serial, g->result);
    assert_int_equal(rx.h.version, c->v);
    if (c->v == JT808_V2019)
        assert_int_equal(rx.h.proto_version, 1);
    assert_false(rx.h.subpackage);
}

/* Same, and the answer is addressed to the terminal's phone. */
static void expect_gen_to(struct client *c, uint16_t ack_id, uint16_t ack_serial, uint8_t result)
{
    expect_gen(c, ack_id, ack_serial, result);
    assert_string_equal(rx.h.phone, c->phone);
}

/* Nothing more arrives within ms (and the connection is still open). */
static void expect_silence(struct client *c, int ms)
{
    size_t start, len, skipped;
    assert_int_equal(jt808_frame_find(c->buf, c->len, &start, &len, &skipped), 0);
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    int r = poll(&p, 1, ms);
    if (r != 0) {
        uint8_t b[64];
        ssize_t n = recv(c->fd, b, sizeof b, MSG_DONTWAIT);
        fail_msg("expected silence, got %zd bytes (first 0x%02X)", n, n > 0 ? b[0] : 0);
    }
}

static void fill_register(struct jt808_register *reg, enum jt808_version v, const char *manu,
                          const char *model, const char *tid, uint8_t color, const char *plate)
{
    memset(reg, 0, sizeof *reg);
    reg->layout = v == JT808_V2019 ? JT808_REG_2019 : JT808_REG_2013;
    reg->province = 44;
    reg->city = 300;
    snprintf(reg->manufacturer, sizeof reg->manufacturer, "%s", manu);
    snprintf(reg->model, sizeof reg->model, "%s", model);
    snprintf(reg->terminal_id, sizeof reg->terminal_id, "%s", tid);
    reg->plate_color = color;
    snprintf(reg->plate, sizeof reg->plate, "%s", plate);
}

/* 0x0100 -> 0x8100; returns the result, the auth code in code (when 0). */
static uint8_t do_register_as(struct client *c, const char *manu, const char *model, const char *tid,
                              uint8_t color, const char *plate, char code[64])
{
    uint16_t s = tx_begin(c, 0x0100);
    fill_register(&tx.b.reg, c->v, manu, model, tid, color, plate);
    tx_send(c);
    rx_next(c);
    if (rx.h.msg_id != 0x8100)
        fail_msg("expected 0x8100 for 0x0100 serial %u, got 0x%04X (result %u)", s, rx.h.msg_id,
                 rx.h.msg_id == 0x8001 ? rx.b.gen_resp.result : 0);
    assert_string_equal(rx.h.phone, c->phone);
    assert_int_equal(rx.h.version, c->v);
    assert_int_equal(rx.b.reg_resp.ack_serial, s);
    if (code)
        snprintf(code, 64, "%s", rx.b.reg_resp.auth_code);
    if (rx.b.reg_resp.result != 0)
        assert_string_equal(rx.b.reg_resp.auth_code, "");
    return rx.b.reg_resp.result;
}

static uint8_t do_register(struct client *c, const char *tid, char code[64])
{
    return do_register_as(c, "MF001", "MODEL-A1", tid, 1, PLATE, code);
}

/* 0x0102 with code; returns the 0x8001 result. */
static uint8_t do_auth(struct client *c, const char *code)
{
    uint16_t s = tx_begin(c, 0x0102);
    snprintf(tx.b.auth.auth_code, sizeof tx.b.auth.auth_code, "%s", code);
    if (c->v == JT808_V2019) {
        snprintf(tx.b.auth.imei, sizeof tx.b.auth.imei, "861234567890123");
        snprintf(tx.b.auth.sw_version, sizeof tx.b.auth.sw_version, "SW-1.2.3");
    }
    tx_send(c);
    rx_next(c);
    assert_int_equal(rx.h.msg_id, 0x8001);
    assert_int_equal(rx.b.gen_resp.ack_id, 0x0102);
    assert_int_equal(rx.b.gen_resp.ack_serial, s);
    assert_string_equal(rx.h.phone, c->phone);
    return rx.b.gen_resp.result;
}

/* Register and authenticate; the gateway must accept both. */
static void online(struct client *c)
{
    char code[64];
    assert_int_equal(do_register(c, "T000001", code), 0);
    assert_true(strlen(code) > 0);
    assert_int_equal(do_auth(c, code), 0);
}

static void fill_location(struct jt808_location *l)
{
    memset(l, 0, sizeof *l);
    l->status = 0x3;
    l->lat = 22543096;
    l->lon = 114057865;
    l->altitude = 12;
    l->speed = 600;
    l->direction = 90;
    snprintf(l->time, sizeof l->time, "240501120000");
}

static uint16_t tx_location(struct client *c)
{
    uint16_t s = tx_begin(c, 0x0200);
    fill_location(&tx.b.loc);
    return s;
}

/* Unescape a frame, let mutate change the raw bytes (header body check), escape it
 * again and put the flags back: how malformed-but-well-escaped frames are made. */
static size_t reframe(const uint8_t *frame, size_t len, uint8_t *out, size_t cap,
                      void (*mutate)(uint8_t *raw, size_t n))
{
    uint8_t raw[JT808_MAX_FRAME];
    size_t n = 0, m = 0;
    assert_int_equal(jt808_unescape(frame + 1, len - 2, raw, sizeof raw, &n, NULL), JT808_OK);
    mutate(raw, n);
    assert_true(cap >= 2);
    assert_int_equal(jt808_escape(raw, n, out + 1, cap - 2, &m), JT808_OK);
    out[0] = JT808_FLAG;
    out[m + 1] = JT808_FLAG;
    return m + 2;
}

static void flip_check(uint8_t *raw, size_t n)
{
    raw[n - 1] ^= 0x5A;
}

#endif
