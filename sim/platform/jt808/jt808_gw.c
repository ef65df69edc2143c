/* The reference JT/T 808 gateway, one process. */
#include "sim/platform/jt808/jt808_gw.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <openssl/pem.h>
#include <stddef.h>
#include <ev.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sim/core/clock.h"
#include "sim/core/ctl.h"
#include "sim/core/lag.h"
#include "sim/core/wheel.h"
#include "sim/proto/jt808.h"
#include "sim/platform/core/core.h"
#include "sim/platform/jt808/jt808_gw_internal.h"
#include "sim/proto/jt808_pkgs.h"
#include "sim/platform/jt808/jt808_reg.h"

static void close_conn(struct gw_conn *c);

/* --- sockets ---------------------------------------------------------------------- */

int gw_listen(struct gw_config *cfg, int *fds, int n, char *err, size_t errcap)
{
    struct sockaddr_storage ss;
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    memset(&ss, 0, sizeof ss);
    a->sin_family = AF_INET;
    if (inet_pton(AF_INET, cfg->bind[0] ? cfg->bind : "127.0.0.1", &a->sin_addr) != 1) {
        snprintf(err, errcap, "gateway: bind address '%s' is not an IPv4 address", cfg->bind);
        return -1;
    }
    for (int i = 0; i < n; i++)
        fds[i] = -1;
    for (int i = 0; i < n; i++) {
        struct tp_conn l;
        a->sin_port = htons(cfg->port);
        if (transport_tcp.listen(&l, &ss, 4096) != TP_OK) {
            snprintf(err, errcap, "gateway: cannot listen on %s:%u: %s", cfg->bind[0] ? cfg->bind : "127.0.0.1",
                     cfg->port, strerror(l.err));
            for (int k = 0; k < i; k++)
                close(fds[k]);
            return -1;
        }
        fds[i] = l.fd;
        cfg->port = ntohs(a->sin_port); /* port 0: the one the first picked, for the others too */
    }
    return 0;
}

static void io_update(struct gw_conn *c)
{
    int ev = conn_events(&c->conn);
    if (c->waiting)
        ev &= ~EV_READ; /* its input waits for the core's answer */
    if (ev_is_active(&c->io) && c->io.events == ev)
        return;
    ev_io_stop(c->gw->loop, &c->io);
    if (!ev)
        return;
    ev_io_set(&c->io, c->conn.tp.fd, ev);
    ev_io_start(c->gw->loop, &c->io);
}

void gw_conn_send(struct gw_conn *c, const uint8_t *buf, size_t n)
{
    if (!conn_open(&c->conn) || c->closing)
        return;
    c->gw->st->frames_out++;
    if (conn_send(&c->conn, buf, n) != CONN_OK) {
        c->closing = 1; /* the socket failed, or a terminal that stopped reading */
        return;
    }
    if (conn_queued(&c->conn))
        io_update(c);
}

static long deliver(void *arg, const uint8_t *buf, size_t n);

/* --- connection life ------------------------------------------------------------------- */

/* Answered: the input held behind the request goes on. */
static void resume(struct gw_conn *c)
{
    if (!c->waiting && !c->closing && conn_redeliver(&c->conn, deliver, c) != CONN_OK)
        c->closing = 1;
    if (c->closing) {
        close_conn(c);
        return;
    }
    io_update(c);
}

void gw_resume(struct gw_conn *c) { resume(c); }


void gw_conn_reschedule(struct gw_conn *c)
{
    struct gw *g = c->gw;
    uint64_t at = c->last_rx_us + g->cfg->idle_timeout_ms * 1000u;
    for (int i = 0; i < c->npend; i++)
        if (c->pend[i].due_us < at)
            at = c->pend[i].due_us;
    wheel_schedule(&g->wheel, &c->timer, at);
}

static void conn_fire(struct wheel_node *n, void *arg)
{
    struct gw_conn *c = (struct gw_conn *)n;
    struct gw *g = arg;
    uint64_t now = clock_now_us();
    for (int i = 0; i < c->npend;) {
        struct gw_pend *p = &c->pend[i];
        if (now < p->due_us) {
            i++;
            continue;
        }
        g->st->cmd[p->fleet][p->cmd].timed_out++;
        ledger_timeout(&g->st->ledger);
        /* a delivered one (DELIVERED) cannot time out: no answer after it is a failure */
        gw_cmd_result(g, c, p, p->delivered ? STORE_CMD_FAIL : STORE_CMD_TIMEOUT);
        gw_pend_remove(c, i);
    }
    if (now >= c->last_rx_us + g->cfg->idle_timeout_ms * 1000u) {
        g->st->closed_idle++;
        close_conn(c);
        return;
    }
    gw_conn_reschedule(c);
}

static void resume_accept(struct gw *g)
{
    if (g->accept_paused && !g->draining) {
        g->accept_paused = 0;
        ev_io_start(g->loop, &g->accept_io);
    }
}

static void close_conn(struct gw_conn *c)
{
    struct gw *g = c->gw;
    ev_io_stop(g->loop, &c->io);
    wheel_cancel(&g->wheel, &c->timer);
    conn_close(&c->conn, false);
    gw_verify_drop(c);
    /* answers of the core still to come find nobody */
    for (uint32_t i = 0; i < g->wait_n && c->waiting; i++) {
        struct gw_wait *w = &g->wait[(g->wait_head + i) % g->wait_cap];
        if (w->c == c) {
            w->c = NULL;
            c->waiting--;
        }
    }
    if (c->authed && bus_offline(&g->bus, c->handle, c->phone) < 0)
        gw_bus_failed(g);
    /* commands in flight to a terminal that left cannot be answered any more */
    for (int i = 0; i < c->npend; i++) {
        g->st->cmd[c->pend[i].fleet][c->pend[i].cmd].refused++;
        ledger_failed(&g->st->ledger, LEDGER_CONN_LOST);
        gw_cmd_result(g, c, &c->pend[i], STORE_CMD_FAIL);
        gw_want_put(c->pend[i].want);
        g->inflight--;
    }
    uint32_t idx = c->handle & 0xFFFFF;
    if (idx < g->n_slots && g->slots[idx] == c) {
        g->slots[idx] = NULL;
        if (idx < g->free_slot)
            g->free_slot = idx;
    }
    if (c->prev)
        c->prev->next = c->next;
    else
        g->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    g->st->connections--;
    resume_accept(g);
    if (c->reasm) {
        jt808_reasm_free(c->reasm);
        free(c->reasm);
        g->reasm_n--;
    }
    jt808_pkgs_free(c->kept);
    gw_rsa_conn_free(c);
    free(c);
}

static long deliver(void *arg, const uint8_t *buf, size_t n) { return gw_on_bytes(arg, buf, n); }

static void conn_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct gw_conn *c = io->data;
    struct gw *g = c->gw;
    if (revents & EV_WRITE) {
        if (conn_flush(&c->conn) != CONN_OK)
            c->closing = 1;
        if (!c->closing)
            io_update(c);
    }
    /* a read that wanted writability is tried again on it */
    if (((revents & EV_READ) || c->conn.want_write) && !c->closing && !c->waiting) {
        size_t got = 0;
        enum conn_rc rc = conn_recv(&c->conn, g->rscratch, sizeof g->rscratch, &got);
        if (rc == CONN_CLOSED) {
            g->st->closed_peer++;
            close_conn(c);
            return;
        }
        if (rc == CONN_OK) {
            c->last_rx_us = clock_now_us();
            rc = conn_input(&c->conn, g->rscratch, got, deliver, c);
            if (rc == CONN_FULL) /* no 0x7E end flag in 64 KiB: not a JT/T 808 peer */
                g->st->c[GWC_GARBAGE_BYTES] += c->conn.in_len;
            if (rc != CONN_OK)
                c->closing = 1;
            gw_conn_reschedule(c);
        }
        if (!c->closing)
            io_update(c);
    }
    if (c->closing)
        close_conn(c);
    (void)loop;
}

/* A handle for c: its index in the slot table (20 bits) and a generation (12),
 * so an old handle never finds a newer connection in the same slot. */
static int slot_take(struct gw *g, struct gw_conn *c)
{
    uint32_t i = g->free_slot;
    while (i < g->n_slots && g->slots[i])
        i++;
    if (i == g->n_slots) {
        if (g->n_slots == g->slots_cap) {
            uint32_t ncap = g->slots_cap ? g->slots_cap * 2 : 1024;
            if (ncap > 0x100000)
                return -1;
            struct gw_conn **ns = realloc(g->slots, ncap * sizeof *ns);
            if (!ns)
                return -1;
            g->slots = ns;
            g->slots_cap = ncap;
        }
        g->slots[g->n_slots++] = NULL;
    }
    g->slots[i] = c;
    g->free_slot = i + 1;
    g->gen = (uint16_t)((g->gen + 1) & 0xFFF);
    c->handle = (uint32_t)g->gen << 20 | i;
    return 0;
}

struct gw_conn *gw_conn_by_handle(struct gw *g, uint32_t handle)
{
    uint32_t i = handle & 0xFFFFF;
    struct gw_conn *c = i < g->n_slots ? g->slots[i] : NULL;
    return c && c->handle == handle ? c : NULL;
}

static void accept_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct gw *g = io->data;
    struct tp_conn *l = &g->listener;
    for (int i = 0; i < 256; i++) {
        struct tp_conn tc;
        enum tp_rc rc = l->tp->accept(l, &tc, NULL);
        if (rc != TP_OK) {
            if (rc == TP_ERR && (l->err == EMFILE || l->err == ENFILE)) {
                /* the listening socket stays readable: stop watching it until a
                 * connection closes (or the next flush tick), or the loop spins */
                snprintf(g->st->error, sizeof g->st->error, "gateway %d: out of file descriptors", g->id);
                ev_io_stop(loop, io);
                g->accept_paused = 1;
            }
            return;
        }
        if (g->draining) {
            tc.tp->close(&tc);
            continue;
        }
        struct gw_conn *c = calloc(1, sizeof *c);
        if (!c || slot_take(g, c) < 0) {
            free(c);
            tc.tp->close(&tc);
            continue;
        }
        conn_init(&c->conn, tc.tp, GW_MAX_RBUF, GW_MAX_WBUF);
        c->conn.tp = tc;
        c->gw = g;
        c->serial = 1;
        c->last_rx_us = clock_now_us();
        c->next = g->conns;
        if (g->conns)
            g->conns->prev = c;
        g->conns = c;
        g->st->accepted++;
        g->st->connections++;
        ev_io_init(&c->io, conn_cb, tc.fd, EV_READ);
        c->io.data = c;
        ev_io_start(loop, &c->io);
        gw_conn_reschedule(c);
    }
    (void)revents;
}

/* --- the bus to the platform core ------------------------------------------------------ */

/* The core is gone or the bus broke: nothing can be registered or stored any
 * more, so the gateway stops (its supervisor says why). */
void gw_bus_failed(struct gw *g)
{
    if (!g->st->error[0])
        snprintf(g->st->error, sizeof g->st->error, "gateway %d: %s", g->id,
                 g->bus.err[0] ? g->bus.err : "the platform core went away");
    g->st->phase = WP_FAILED;
    if (g->ctl_fd >= 0) {
        struct ctl_msg m = {.type = CTL_FAILED};
        ctl_send(g->ctl_fd, &m, NULL);
    }
    ev_break(g->loop, EVBREAK_ALL);
}

static void bus_watch(struct gw *g)
{
    int ev = EV_READ | (bus_out_pending(&g->bus) ? EV_WRITE : 0);
    if (g->core_io.events == ev)
        return;
    ev_io_stop(g->loop, &g->core_io);
    ev_io_set(&g->core_io, g->core_fd, ev);
    ev_io_start(g->loop, &g->core_io);
}

static void bus_send(struct gw *g)
{
    g->bus_urgent = 0;
    if (bus_out_flush(&g->bus) < 0) {
        gw_bus_failed(g);
        return;
    }
    bus_watch(g);
}

/* Before the loop sleeps: a request a terminal waits on goes out now, with what
 * else this iteration queued; events alone (reports, results, offline) wait up
 * to GW_BUS_LINGER_S to fill a message with others. */
static void bus_prep_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
    struct gw *g = w->data;
    if (!bus_out_dirty(&g->bus))
        return;
    if (g->bus_urgent || bus_out_pending(&g->bus) || g->draining) {
        ev_timer_stop(loop, &g->bus_timer);
        bus_send(g);
    } else if (!ev_is_active(&g->bus_timer)) {
        ev_timer_set(&g->bus_timer, GW_BUS_LINGER_S, 0);
        ev_timer_start(loop, &g->bus_timer);
    }
    (void)revents;
}

static void bus_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct gw *g = t->data;
    if (bus_out_dirty(&g->bus))
        bus_send(g);
    (void)loop;
    (void)revents;
}

static void on_core_record(struct gw *g, const struct bus_rec *r)
{
    switch (r->type) {
    case BUS_REG_REPLY:
        gw_on_reg_reply(g, r);
        break;
    case BUS_AUTH_REPLY:
        gw_on_auth_reply(g, r);
        break;
    case BUS_CMD_BODY:
        gw_cmd_body(g, r);
        break;
    case BUS_CMD_BEGIN:
        gw_cmd_begin(g, r);
        break;
    case BUS_CMD_TO:
        gw_cmd_to(g, r);
        break;
    case BUS_CMD_END:
        gw_cmd_end(g, r);
        break;
    case BUS_SYNC_REPLY:
        break;
    default:
        snprintf(g->st->error, sizeof g->st->error, "gateway %d: the core sent %s, which the gateway does not take",
                 g->id, bus_type_name(r->type));
        break;
    }
}

static void core_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct gw *g = io->data;
    if (revents & EV_WRITE) {
        if (bus_out_flush(&g->bus) < 0) {
            gw_bus_failed(g);
            return;
        }
        bus_watch(g);
    }
    if (!(revents & EV_READ))
        return;
    static uint8_t msg[BUS_MAX_MSG];
    /* a command's terminals come a batch per millisecond; a gateway that fell
     * behind finds several batches waiting and takes them one callback at a time,
     * with its terminals' reports answered in between */
    uint64_t sends = g->cmd_sends;
    for (int i = 0; i < 64 && g->cmd_sends - sends < GW_CMD_BURST; i++) {
        long n = bus_recv(g->core_fd, msg, sizeof msg);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
            if (n == 0 && g->draining == 2) {
                ev_break(loop, EVBREAK_ALL); /* drained: the core may go first */
                return;
            }
            if (n < 0)
                snprintf(g->bus.err, sizeof g->bus.err, "bus: recv: %s", strerror(errno));
            gw_bus_failed(g);
            return;
        }
        if (n < 0)
            return;
        struct bus_reader rd;
        struct bus_rec r;
        char err[200];
        int rc;
        bus_reader_init(&rd, msg, (size_t)n);
        while ((rc = bus_next(&rd, &r, err, sizeof err)) > 0 && g->st->phase != WP_FAILED)
            on_core_record(g, &r);
        if (rc < 0) {
            snprintf(g->bus.err, sizeof g->bus.err, "bus from the core: %s", err);
            gw_bus_failed(g);
            return;
        }
        if (g->st->phase == WP_FAILED)
            return;
    }
    (void)loop;
}

/* --- the process ------------------------------------------------------------------------ */

static void finish_drain(struct gw *g)
{
    g->draining = 2;
    g->st->phase = WP_DONE;
    struct ctl_msg m = {.type = CTL_DRAINED};
    ctl_send(g->ctl_fd, &m, NULL);
}

static void ctl_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct gw *g = io->data;
    static char payload[CTL_MAX_PAYLOAD + 1];
    struct ctl_msg m;
    int r = ctl_recv(g->ctl_fd, &m, payload, sizeof payload);
    if (r <= 0) {
        ev_break(loop, EVBREAK_ALL);
        return;
    }
    switch (m.type) {
    case CTL_DRAIN:
        g->draining = 1;
        g->st->phase = WP_DRAINING;
        g->drain_deadline_us = clock_now_us() + m.settle_us;
        break;
    case CTL_STOP:
        ev_break(loop, EVBREAK_ALL);
        break;
    default:
        break;
    }
    (void)revents;
}

static void tick_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct gw *g = t->data;
    uint64_t now = clock_now_us();
    struct lag_mark t0 = lag_begin();
    wheel_advance(&g->wheel, now);
    lag_end("wheel", t0);
    if (g->draining == 1 && ((g->inflight == 0 && !g->jobs && !g->wait_n) || now >= g->drain_deadline_us)) {
        /* the results are with the core before the parent hears "drained" */
        if (bus_out_flush(&g->bus) < 0)
            gw_bus_failed(g);
        else if (!bus_out_dirty(&g->bus))
            finish_drain(g);
        else
            bus_watch(g);
    }
    (void)loop;
    (void)revents;
}

static void flush_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct gw *g = t->data;
    struct lag_mark t0 = lag_begin();
    if (g->tp != &transport_tcp)
        tls_heap_trim(); /* at most once a second */
    g->st->rss_kb = stats_rss_kb();
    resume_accept(g);
    /* only when some terminal sent subpackages: walking 10,000 connections held the
     * loop 0.7 ms every 200 ms */
    for (struct gw_conn *c = g->reasm_n ? g->conns : NULL; c; c = c->next)
        if (c->reasm)
            gw_reasm_expire(c, clock_now_ms());
    lag_end("flush", t0);
    (void)loop;
    (void)revents;
}

/* How a TLS handshake ended: counted by reason (a refused terminal's
 * connection is closed by its failed read). */
static void tls_event_cb(void *arg, enum tls_event ev)
{
    struct gw *g = arg;
    g->st->c[GWC_TLS_HANDSHAKES + ev]++;
    if (ev != TLS_EV_HANDSHAKE && g->cfg->verbose)
        fprintf(stderr, "gateway %d: TLS terminal refused: %s\n", g->id, tls_event_name(ev));
}

/* --- OCSP stapling of the server certificate --------------------------------------- */

static void staple_ask(struct gw *g);

/* The staple's time is up: no stapling until the responder answers again (the
 * seed's gateway does the same), or a failed try is repeated. */
static void staple_timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct gw *g = t->data;
    tls_transport_staple(g->tp, NULL, 0);
    staple_ask(g);
    (void)loop;
    (void)revents;
}

static void staple_done(void *arg, enum ocsp_status st, const uint8_t *der, size_t len, uint32_t ttl_s)
{
    struct gw *g = arg;
    double next = 30;
    if (st == OCSP_ST_GOOD && der) {
        tls_transport_staple(g->tp, der, len);
        g->st->c[GWC_TLS_STAPLES]++;
        next = ttl_s;
    } else if (g->cfg->verbose) {
        fprintf(stderr, "gateway %d: no OCSP staple for the server certificate (%s)\n", g->id,
                st == OCSP_ST_REVOKED ? "revoked" : st == OCSP_ST_UNKNOWN ? "unknown" : "no valid answer");
    }
    ev_timer_set(&g->staple_timer, next, 0);
    ev_timer_start(g->loop, &g->staple_timer);
}

static void staple_ask(struct gw *g)
{
    if (ocsp_fetch(g->staple, g->srv_cert, g->srv_issuer, staple_done, g) < 0) {
        ev_timer_set(&g->staple_timer, 30, 0);
        ev_timer_start(g->loop, &g->staple_timer);
    }
}

static X509 *pem_first(const char *path)
{
    FILE *f = fopen(path, "r");
    X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    return x;
}

static int staple_start(struct gw *g, char *err, size_t errcap)
{
    const struct tls_opts *o = &g->cfg->tls;
    g->srv_cert = pem_first(o->cert);
    g->srv_issuer = pem_first(o->staple_ca);
    if (!g->srv_cert || !g->srv_issuer) {
        snprintf(err, errcap, "OCSP stapling: cannot read %s", g->srv_cert ? o->staple_ca : o->cert);
        return -1;
    }
    g->staple = ocsp_client_new(g->loop, o->staple_url, o->staple_ca, err, errcap);
    if (!g->staple)
        return -1;
    ev_timer_init(&g->staple_timer, staple_timer_cb, 30, 0);
    g->staple_timer.data = g;
    staple_ask(g);
    return 0;
}

static void staple_free(struct gw *g)
{
    if (g->staple)
        ev_timer_stop(g->loop, &g->staple_timer);
    ocsp_client_free(g->staple);
    X509_free(g->srv_cert);
    X509_free(g->srv_issuer);
    g->staple = NULL;
}

/* OCSP's verdict on a device certificate: let in, or refused and counted. */
static int ocsp_verdict(struct gw *g, enum ocsp_status st)
{
    if (st == OCSP_ST_GOOD) {
        tls_event_cb(g, TLS_EV_HANDSHAKE);
        return 0;
    }
    tls_event_cb(g, st == OCSP_ST_REVOKED ? TLS_EV_REVOKED : TLS_EV_OCSP_FAILED);
    return -1;
}

static void ocsp_done(void *arg, uint32_t handle, enum ocsp_status st)
{
    struct gw *g = arg;
    struct gw_conn *c = gw_conn_by_handle(g, handle);
    if (!c)
        return; /* gone while the responder was asked */
    if (ocsp_verdict(g, st) < 0) {
        close_conn(c);
        return;
    }
    tls_conn_release(&c->conn.tp);
    /* what it sent meanwhile waits inside OpenSSL, not on the socket */
    ev_feed_event(g->loop, &c->io, EV_READ);
}

/* A device certificate verified against the device root CA: asked of OCSP
 * (the cache first), the connection held until the answer. */
static int tls_admit_cb(void *arg, struct tp_conn *tc, void *cert, void *issuer)
{
    struct gw *g = arg;
    struct gw_conn *c = (struct gw_conn *)((char *)tc - offsetof(struct gw_conn, conn.tp));
    enum ocsp_status st = ocsp_check(g->ocsp, cert, issuer, ocsp_done, g, c->handle);
    if (st == OCSP_ST_PENDING)
        return 1;
    return ocsp_verdict(g, st);
}

static void sig_cb(struct ev_loop *loop, ev_signal *s, int revents)
{
    ev_break(loop, EVBREAK_ALL);
    (void)s;
    (void)revents;
}

int gw_main(const struct gw_config *cfg, int id, int lfd, int ctl_fd, struct gw_slot *slot)
{
    struct gw *g = calloc(1, sizeof *g);
    char err[256];
    if (!g)
        return 1;
    static struct gw_config own;
    own = *cfg; /* a zero timeout means the default, not "at once" */
    if (!own.idle_timeout_ms)
        own.idle_timeout_ms = 180000;
    if (!own.cmd_timeout_ms)
        own.cmd_timeout_ms = 10000;
    if (!own.reasm_timeout_ms)
        own.reasm_timeout_ms = 30000;
    cfg = &own;
    g->cfg = cfg;
    g->id = id;
    g->st = slot;
    g->ctl_fd = ctl_fd;
    slot->pid = (int32_t)getpid();
    hist_reset(&slot->cmd_latency);
    g->core_fd = core_connect(cfg->core, err, sizeof err);
    if (g->core_fd < 0) {
        snprintf(slot->error, sizeof slot->error, "gateway %d: %s", id, err);
        slot->phase = WP_FAILED;
        free(g);
        return 1;
    }
    bus_out_init(&g->bus, g->core_fd);
    if (bus_hello(&g->bus, JT808_REG_PROTOCOL, (uint32_t)id) < 0 || bus_out_flush(&g->bus) < 0) {
        snprintf(slot->error, sizeof slot->error, "gateway %d: %s", id, g->bus.err);
        slot->phase = WP_FAILED;
        close(g->core_fd);
        free(g);
        return 1;
    }
    if (gw_rsa_start(g, err, sizeof err) < 0) {
        snprintf(slot->error, sizeof slot->error, "gateway %d: %s", id, err);
        slot->phase = WP_FAILED;
        bus_out_free(&g->bus);
        close(g->core_fd);
        free(g);
        return 1;
    }
    g->loop = ev_loop_new(EVFLAG_AUTO);
    wheel_init(&g->wheel, (uint64_t)(GW_TICK_S * 1e6 * clock_scale()) + 1, clock_now_us(), conn_fire, g);
    g->tp = &transport_tcp;
    if (cfg->tls.cert[0]) {
        g->tp = tls_transport_new(&cfg->tls, 1, err, sizeof err);
        if (!g->tp) {
            snprintf(slot->error, sizeof slot->error, "gateway %d: %s", id, err);
            slot->phase = WP_FAILED;
            bus_out_free(&g->bus);
            close(g->core_fd);
            ev_loop_destroy(g->loop);
            gw_rsa_stop(g);
            free(g);
            return 1;
        }
        tls_transport_on_event(g->tp, tls_event_cb, g);
        if (cfg->tls.ocsp_url[0]) {
            g->ocsp = ocsp_client_new(g->loop, cfg->tls.ocsp_url, cfg->tls.ca, err, sizeof err);
            if (!g->ocsp) {
                snprintf(slot->error, sizeof slot->error, "gateway %d: %s", id, err);
                slot->phase = WP_FAILED;
                tls_transport_free(g->tp);
                bus_out_free(&g->bus);
                close(g->core_fd);
                ev_loop_destroy(g->loop);
                gw_rsa_stop(g);
                free(g);
                return 1;
            }
            tls_transport_on_admit(g->tp, tls_admit_cb, g);
        }
        if (cfg->tls.staple_url[0] && staple_start(g, err, sizeof err) < 0) {
            snprintf(slot->error, sizeof slot->error, "gateway %d: %s", id, err);
            slot->phase = WP_FAILED;
            staple_free(g);
            ocsp_client_free(g->ocsp);
            tls_transport_free(g->tp);
            bus_out_free(&g->bus);
            close(g->core_fd);
            ev_loop_destroy(g->loop);
            gw_rsa_stop(g);
            free(g);
            return 1;
        }
    }
    g->listener = (struct tp_conn){.fd = lfd, .tp = g->tp};
    ev_io_init(&g->accept_io, accept_cb, lfd, EV_READ);
    g->accept_io.data = g;
    ev_io_start(g->loop, &g->accept_io);
    ev_io_init(&g->core_io, core_cb, g->core_fd, EV_READ);
    g->core_io.data = g;
    ev_io_start(g->loop, &g->core_io);
    ev_timer_init(&g->bus_timer, bus_timer_cb, GW_BUS_LINGER_S, 0);
    g->bus_timer.data = g;
    ev_prepare_init(&g->bus_prep, bus_prep_cb);
    g->bus_prep.data = g;
    ev_prepare_start(g->loop, &g->bus_prep);
    ev_timer_init(&g->tick, tick_cb, GW_TICK_S, GW_TICK_S);
    g->tick.data = g;
    ev_timer_start(g->loop, &g->tick);
    ev_timer_init(&g->flush, flush_cb, 0.2, 0.2);
    g->flush.data = g;
    ev_timer_start(g->loop, &g->flush);
    lag_start(g->loop, "gateway", id);
    if (ctl_fd >= 0) {
        ev_io_init(&g->ctl_io, ctl_cb, ctl_fd, EV_READ);
        g->ctl_io.data = g;
        ev_io_start(g->loop, &g->ctl_io);
    } else {
        ev_signal_init(&g->sigint, sig_cb, SIGINT);
        ev_signal_init(&g->sigterm, sig_cb, SIGTERM);
        ev_signal_start(g->loop, &g->sigint);
        ev_signal_start(g->loop, &g->sigterm);
    }
    slot->phase = WP_RUNNING;
    if (ctl_fd >= 0) {
        struct ctl_msg m = {.type = CTL_READY};
        ctl_send(ctl_fd, &m, NULL);
    }
    ev_run(g->loop, 0);
    int failed = slot->phase == WP_FAILED;
    gw_cmd_free_all(g);
    while (g->conns)
        close_conn(g->conns);
    /* the last events (devices offline) go to the core, as far as it takes them */
    if (!failed) {
        bus_out_flush(&g->bus);
        for (int i = 0; i < 100 && bus_out_pending(&g->bus); i++) {
            usleep(10000);
            if (bus_out_flush(&g->bus) < 0)
                break;
        }
    }
    bus_out_free(&g->bus);
    close(g->core_fd);
    close(lfd);
    gw_verify_free(g);
    ev_loop_destroy(g->loop);
    staple_free(g);
    ocsp_client_free(g->ocsp);
    tls_transport_free(g->tp);
    gw_rsa_stop(g);
    if (slot->phase != WP_DONE && !failed)
        slot->phase = WP_DONE;
    free(g->wait);
    free(g->slots);
    free(g->body);
    free(g);
    return failed ? 1 : 0;
}
