/* The protocol-neutral half of a worker: terminals' connections, states, ledger
 * and timers.  libev callbacks here are thin adapters into these functions. */
#include "sim/dev/fleet.h"
#include "sim/dev/fleet_int.h"

#include "sim/net/tls.h"

#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/core/ctl.h"
#include "sim/core/lag.h"

static void io_cb(struct ev_loop *loop, ev_io *io, int revents);
static void term_connect(struct term *t);
static void reschedule(struct term *t);

static const char *state_names[TS__COUNT] = {
    "idle", "connecting", "connected", "registering", "registered",
    "authenticating", "authenticated", "disconnected", "unregistered",
};

const char *term_state_name(enum term_state s)
{
    return (unsigned)s < TS__COUNT ? state_names[s] : "?";
}

int term_state_from_name(const char *name)
{
    for (int i = 0; i < TS__COUNT; i++)
        if (strcmp(state_names[i], name) == 0)
            return i;
    return -1;
}

uint32_t term_rand(struct term *t)
{
    /* xorshift32 over the worker's state: reproducible for a given seed */
    uint32_t x = t->fleet->w->rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    t->fleet->w->rng = x;
    return x;
}

uint16_t term_next_serial(struct term *t) { return t->serial++; }

/* What snprintf(out, cap, "%s%0*" PRIu64, prefix, digits, n) writes (the prefix
 * alone when !numbered), without snprintf: every message a terminal sends has
 * its identity in the header. */
void fleet_ident_format(const char *prefix, bool numbered, int digits, uint64_t n, char *out, size_t cap)
{
    if (!cap)
        return;
    size_t o = 0, last = cap - 1;
    for (const char *p = prefix; *p && o < last; p++)
        out[o++] = *p;
    if (numbered) {
        char num[20];
        int nd = 0;
        do {
            num[nd++] = (char)('0' + n % 10);
            n /= 10;
        } while (n);
        for (int z = digits - nd; z > 0 && o < last; z--)
            out[o++] = '0';
        while (nd && o < last)
            out[o++] = num[--nd];
    }
    out[o] = '\0';
}

void term_ident(const struct term *t, char *out, size_t cap)
{
    const struct fleet_rt *fr = t->fleet;
    fleet_ident_format(fr->ident_prefix, fr->ident_numbered, fr->ident_digits, fr->ident_base + t->index, out,
                       cap);
}

int fleet_ident_parse(const char *pattern, char *prefix, size_t cap, uint64_t *base, int *digits,
                      bool *numbered)
{
    size_t len = strlen(pattern);
    *numbered = len > 0 && pattern[len - 1] == '+';
    *base = 0;
    *digits = 0;
    if (!*numbered) {
        snprintf(prefix, cap, "%s", pattern);
        return len < cap ? 0 : -1;
    }
    size_t end = len - 1, start = end;
    while (start > 0 && pattern[start - 1] >= '0' && pattern[start - 1] <= '9')
        start--;
    if (start >= cap)
        return -1;
    memcpy(prefix, pattern, start);
    prefix[start] = 0;
    uint64_t x = 0;
    for (size_t i = start; i < end; i++) {
        uint64_t d = (uint64_t)(pattern[i] - '0');
        if (x > (UINT64_MAX - d) / 10)
            return -1; /* beyond 2^64: not a number we can count up from */
        x = x * 10 + d;
    }
    *base = x;
    *digits = (int)(end - start);
    return 0;
}

void term_event(struct term *t, enum live_ev_kind kind, const uint8_t *frame, size_t n, const char *fmt, ...)
{
    struct live_ring *r = &t->fleet->w->slot->events;
    uint64_t now = term_now();
    if (!live_ev_admit(r, now))
        return;
    char id[LIVE_EV_TERM];
    term_ident(t, id, sizeof id);
    va_list ap;
    va_start(ap, fmt);
    live_ev_vput(r, now, t->fleet->index, kind, id, frame, n, fmt, ap);
    va_end(ap);
}

/* How a terminal's TLS handshake ended, counted in its fleet (terminal.tls_*). */
void tls_client_cb(void *arg, enum tls_client_event ev)
{
    static const size_t at[TLS_CEV__COUNT] = {
        [TLS_CEV_HANDSHAKE] = offsetof(struct fleet_stats, tls_handshakes),
        [TLS_CEV_NAME_MISMATCH] = offsetof(struct fleet_stats, tls_name_mismatch),
        [TLS_CEV_UNTRUSTED] = offsetof(struct fleet_stats, tls_untrusted),
        [TLS_CEV_STAPLE_MISSING] = offsetof(struct fleet_stats, tls_ocsp_missing),
        [TLS_CEV_STAPLE_REVOKED] = offsetof(struct fleet_stats, tls_ocsp_revoked),
        [TLS_CEV_STAPLE_BAD] = offsetof(struct fleet_stats, tls_ocsp_bad),
        [TLS_CEV_FAILED] = offsetof(struct fleet_stats, tls_handshake_failed),
    };
    struct fleet_rt *fr = arg;
    if ((unsigned)ev < TLS_CEV__COUNT)
        (*(uint64_t *)((char *)fr->st + at[ev]))++;
    fr->tls_last = ev; /* the connect failure that follows says why */
}

/* A connect that failed, counted by why; the last reason is shown with the counts. */
static void connect_failed(struct term *t, int err)
{
    struct fleet_stats *st = t->fleet->st;
    static const char *const tls_why[TLS_CEV__COUNT] = {
        [TLS_CEV_NAME_MISMATCH] = "the server's certificate is not for the fleet's server_name",
        [TLS_CEV_UNTRUSTED] = "the server's certificate failed verification",
        [TLS_CEV_STAPLE_MISSING] = "no OCSP status stapled (ocsp_stapling require)",
        [TLS_CEV_STAPLE_REVOKED] = "the stapled OCSP status says revoked",
        [TLS_CEV_STAPLE_BAD] = "the stapled OCSP response does not verify or is out of date",
        [TLS_CEV_FAILED] = "the handshake failed (the server refused it)",
    };
    enum tls_client_event tev = (enum tls_client_event)t->fleet->tls_last;
    t->fleet->tls_last = TLS_CEV_HANDSHAKE;
    if (tev != TLS_CEV_HANDSHAKE && (unsigned)tev < TLS_CEV__COUNT && tls_why[tev])
        term_event(t, LEV_TLS, NULL, 0, "TLS: %s", tls_why[tev]);
    else
        term_event(t, LEV_CONNECT_FAILED, NULL, 0, "connect: %s", strerror(err ? err : EIO));
    st->connect_failures++;
    if (err == ECONNREFUSED || err == ECONNRESET)
        st->connect_refused++;
    else if (err == ETIMEDOUT)
        st->connect_timeouts++;
    else if (err == ENETUNREACH || err == EHOSTUNREACH || err == EADDRNOTAVAIL)
        st->connect_unreachable++;
    t->fleet->w->slot->connect_errno = err ? err : EIO;
}

/* A TLS fleet's terminals in a handshake are held to hs_max per worker: a
 * burst of handshakes (a ramp "all at once", a reconnect storm) each holding
 * OpenSSL's handshake buffers would make the worker as large as all of them.
 * true: t waits its turn (its timer is woken when a slot frees). */
static bool handshake_wait(struct term *t)
{
    struct fleet_rt *fr = t->fleet;
    if (!fr->hs_wait || fr->st->in_state[TS_CONNECTING] < fr->hs_max || fr->hs_len >= fr->n)
        return false;
    fr->hs_wait[(fr->hs_head + fr->hs_len++) % fr->n] = (uint32_t)(t - fr->terms);
    t->reconnect_at_us = UINT64_MAX; /* until woken */
    reschedule(t);
    return true;
}

/* A handshake slot freed: the first waiting terminal's turn. */
static void handshake_next(struct fleet_rt *fr)
{
    struct term *t = NULL;
    while (fr->hs_len && !t) {
        t = &fr->terms[fr->hs_wait[fr->hs_head]];
        fr->hs_head = (fr->hs_head + 1) % fr->n;
        fr->hs_len--;
        if (t->stay_away || (t->state != TS_IDLE && t->state != TS_DISCONNECTED))
            t = NULL; /* gone another way meanwhile */
    }
    if (!t)
        return;
    t->reconnect_at_us = term_now();
    wheel_schedule(&fr->w->wheel, &t->timer, t->reconnect_at_us);
}

void term_set_state(struct term *t, enum term_state s)
{
    struct fleet_stats *st = t->fleet->st;
    if (t->state == s)
        return;
    if (t->state == TS_CONNECTING)
        handshake_next(t->fleet);
    st->in_state[t->state]--;
    st->in_state[s]++;
    t->state = (uint8_t)s;
    if (!t->first_reach_ms[s]) {
        uint64_t now = term_now();
        uint64_t ms = (now - t->start_us) / 1000u + 1;
        t->first_reach_ms[s] = ms >= UINT32_MAX ? UINT32_MAX : (uint32_t)ms; /* ~49 days: "very late" */
        st->reached[s]++;
        struct worker_slot *ws = t->fleet->w->slot;
        if (s == TS_AUTHENTICATED && ++ws->online_count == ws->terminals && !ws->online_all_at_us)
            ws->online_all_at_us = now ? now : 1;
    }
    /* sequences see every entry into a state, so a path through a reconnect
     * (authenticated -> disconnected -> connecting -> authenticated) can be checked */
    struct fleet_rt *fr = t->fleet;
    if (fr->n_seq) {
        uint8_t *prog = fr->seq_progress + (size_t)(t - fr->terms) * (size_t)fr->n_seq;
        for (int i = 0; i < fr->n_seq; i++)
            if (prog[i] < fr->seq[i]->n_seq && fr->seq[i]->seq[prog[i]] == s)
                prog[i]++;
    }
    if (s == TS_AUTHENTICATED) {
        hist_record(&st->online_latency, term_now() - t->conn_start_us);
        t->attempt = 0;
    }
}

void term_wake_at(struct term *t, uint64_t at_us)
{
    if (at_us && (!t->wake_proto_us || at_us < t->wake_proto_us))
        t->wake_proto_us = at_us;
    reschedule(t);
}

void term_expect(struct term *t, uint32_t serial, uint16_t kind)
{
    term_expect_at(t, serial, kind, term_now());
}

void term_expect_at(struct term *t, uint32_t serial, uint16_t kind, uint64_t intended_us)
{
    struct term_pend *p = &t->pend[t->npend++];
    uint64_t now = term_now();
    p->sent_us = intended_us && intended_us < now ? intended_us : now;
    p->serial = serial;
    p->kind = kind;
    t->request_armed = 1;
    ledger_sent(&t->fleet->st->ledger);
    t->fleet->w->inflight++;
    if (t->npend == 1)
        reschedule(t);
}

void pend_remove(struct term *t, int i)
{
    memmove(&t->pend[i], &t->pend[i + 1], (size_t)(t->npend - i - 1) * sizeof t->pend[0]);
    t->npend--;
    t->fleet->w->inflight--;
}

bool term_settle(struct term *t, uint32_t serial, bool ok, enum ledger_why why, uint16_t *kind,
                 uint64_t *sent_us)
{
    for (int i = 0; i < t->npend; i++) {
        if (t->pend[i].serial != serial)
            continue;
        uint16_t id = t->pend[i].kind;
        uint64_t sent = t->pend[i].sent_us;
        struct fleet_stats *st = t->fleet->st;
        if (ok) {
            ledger_acked(&st->ledger);
            hist_record(&st->ack_latency, clock_wall_since_us(sent));
        } else {
            ledger_failed(&st->ledger, why);
        }
        pend_remove(t, i);
        if (t->stopping && !t->npend)
            term_wake_at(t, term_now()); /* resized out: it may go now */
        if (sent_us)
            *sent_us = sent;
        if (kind)
            *kind = id;
        return true;
    }
    return false;
}

/* This terminal's trace state, when its traffic is traced or captured. */
struct trace_conn *term_traced(struct term *t)
{
    struct fleet_rt *fr = t->fleet;
    if (!fr->tc || !(t->traced || fr->w->trace.pcap_all))
        return NULL;
    return &fr->tc[t - fr->terms];
}

void term_close(struct term *t, bool abort)
{
    struct trace_conn *tc = term_traced(t);
    if (tc)
        trace_closed(&t->fleet->w->trace, t, tc);
    if (conn_open(&t->conn))
        ev_io_stop(t->fleet->w->loop, &t->io);
    conn_close(&t->conn, abort);
}

static uint64_t backoff_us(struct term *t)
{
    const struct fleet_spec *f = t->fleet->spec;
    uint64_t d = f->reconnect_min_ms * 1000u;
    for (int i = 0; i < t->attempt && d < f->reconnect_max_ms * 1000u; i++)
        d *= 2;
    if (d > f->reconnect_max_ms * 1000u)
        d = f->reconnect_max_ms * 1000u;
    if (t->attempt < 30)
        t->attempt++;
    /* jitter: 100..150% of the delay (min stays a floor, max a ceiling), so a fleet
     * dropped at once does not return at once */
    uint64_t j = d + (d / 2) * (term_rand(t) % 1024u) / 1024u;
    return j > f->reconnect_max_ms * 1000u ? f->reconnect_max_ms * 1000u : j;
}

void term_drop_ex(struct term *t, uint64_t down_us, bool stay_away, bool abort)
{
    struct fleet_stats *st = t->fleet->st;
    struct worker *w = t->fleet->w;
    /* a connect that never completed is a connect failure, not a disconnect */
    bool was_connected = t->conn.tp.fd >= 0 && t->state != TS_CONNECTING;
    if (was_connected)
        st->disconnects++;
    t->wake_proto_us = 0;
    if (t->fleet->d->on_disconnected)
        t->fleet->d->on_disconnected(t);
    while (t->npend) {
        ledger_failed(&st->ledger, LEDGER_CONN_LOST);
        pend_remove(t, t->npend - 1);
    }
    term_close(t, abort);
    if (stay_away || w->draining) {
        t->stay_away = 1;
        term_set_state(t, stay_away ? TS_UNREGISTERED : TS_DISCONNECTED);
        wheel_cancel(&w->wheel, &t->timer);
        return;
    }
    term_set_state(t, TS_DISCONNECTED);
    t->reconnect_at_us = term_now() + (down_us ? down_us : backoff_us(t));
    reschedule(t);
}

void term_drop(struct term *t, uint64_t down_us, bool stay_away) { term_drop_ex(t, down_us, stay_away, false); }

/* A terminal resized out: a plain close, counted as a stop (not a disconnect),
 * and idle until a resize makes it active again. */
static void term_stop(struct term *t)
{
    struct fleet_stats *st = t->fleet->st;
    struct worker *w = t->fleet->w;
    t->stopping = 0;
    t->resized_out = 1;
    st->stops++;
    t->wake_proto_us = 0;
    if (t->state != TS_IDLE && t->fleet->d->on_disconnected)
        t->fleet->d->on_disconnected(t);
    while (t->npend) {
        ledger_failed(&st->ledger, LEDGER_CONN_LOST);
        pend_remove(t, t->npend - 1);
    }
    term_close(t, false);
    t->stay_away = 1;
    term_set_state(t, TS_IDLE);
    wheel_cancel(&w->wheel, &t->timer);
}

/* CTL_RESIZE: the fleet's active terminals become those of index < n. */
void fleet_resize(struct fleet_rt *fr, uint32_t n)
{
    struct worker *w = fr->w;
    uint32_t old = fr->active;
    uint64_t now = term_now();
    fr->active = n;
    for (uint32_t k = 0; k < fr->n; k++) {
        struct term *t = &fr->terms[k];
        bool was = t->index < old, is = t->index < n;
        if (was && !is) {
            fr->st->terminals--;
            w->slot->terminals--;
            if (!t->started) {
                wheel_cancel(&w->wheel, &t->timer); /* its ramp turn had not come */
            } else if (!t->resized_out && !t->stopping) {
                /* no new traffic from it; it closes once what is in flight settles */
                t->stopping = 1;
                term_wake_at(t, now);
            }
        } else if (!was && is) {
            fr->st->terminals++;
            w->slot->terminals++;
            /* at the fleet's ramp rate, from now, in index order */
            uint64_t at = now;
            if (fr->spec->ramp_per_s > 0)
                at += (uint64_t)((double)(t->index - old) * 1e6 / fr->spec->ramp_per_s);
            if (t->stopping) {
                t->stopping = 0; /* still connected: it just goes on */
                continue;
            }
            if (t->resized_out) {
                t->resized_out = 0;
                t->stay_away = 0;
                t->attempt = 0;
                t->reconnect_at_us = at;
            }
            wheel_schedule(&w->wheel, &t->timer, at);
        }
    }
}

static void io_update(struct term *t)
{
    struct worker *w = t->fleet->w;
    int ev = conn_events(&t->conn);
    if (t->state == TS_CONNECTING)
        ev |= EV_WRITE;
    if (ev_is_active(&t->io) && t->io.events == ev)
        return;
    ev_io_stop(w->loop, &t->io);
    ev_io_set(&t->io, t->conn.tp.fd, ev);
    ev_io_start(w->loop, &t->io);
}

bool term_send(struct term *t, const uint8_t *buf, size_t n)
{
    struct fleet_stats *st = t->fleet->st;
    struct worker *w = t->fleet->w;
    if (t->conn.tp.fd < 0)
        return false;
    if (t->request_armed && t->corrupt_next && t->fleet->d->corrupt && n <= sizeof w->wscratch) {
        /* fault: this request goes out damaged, the way the dialect damages one */
        t->corrupt_next = 0;
        memcpy(w->wscratch, buf, n);
        n = t->fleet->d->corrupt(t, w->wscratch, n, sizeof w->wscratch);
        buf = w->wscratch;
    }
    t->request_armed = 0;
    enum conn_rc rc = conn_send(&t->conn, buf, n);
    if (rc == CONN_CLOSED) {
        term_drop(t, 0, false);
        return false;
    }
    st->frames_out++;
    st->bytes_out += n;
    if (t->watched)
        watch_record(t, true, buf, n);
    struct trace_conn *tc = term_traced(t);
    if (tc)
        trace_data(&w->trace, t, tc, true, buf, n);
    if (rc != CONN_OK) {
        term_drop(t, 0, false); /* too far behind, or out of memory */
        return false;
    }
    if (conn_queued(&t->conn))
        io_update(t);
    return true;
}

static void on_connect_ok(struct term *t)
{
    t->fleet->st->connects++;
    struct trace_conn *tc = term_traced(t);
    if (tc)
        trace_connected(&t->fleet->w->trace, t, tc);
    term_set_state(t, TS_CONNECTED);
    io_update(t);
    t->fleet->d->on_connected(t);
}

static void term_connect(struct term *t)
{
    struct worker *w = t->fleet->w;
    struct sockaddr_storage src, *srcp = NULL;
    if (t->fleet->d->io == DIALECT_IO_LIBRARY) {
        /* the library makes its own sockets: the dialect starts from here */
        t->conn_start_us = term_now();
        term_set_state(t, TS_CONNECTING);
        t->fleet->d->on_connected(t);
        reschedule(t);
        return;
    }
    if (t->fleet->spread) {
        transport_spread_source(term_gindex(t), &src);
        srcp = &src;
    }
    t->conn.tp.tp = t->fleet->tp;
    t->conn.tp.id = t->index; /* TLS: the device certificate "{n}" names */
    t->conn_start_us = term_now();
    term_set_state(t, TS_CONNECTING);
    enum tp_rc rc = t->conn.tp.tp->connect(&t->conn.tp, t->fleet->target, srcp);
    if (rc == TP_ERR) {
        connect_failed(t, t->conn.tp.err);
        if (t->conn.tp.err == EMFILE || t->conn.tp.err == ENFILE)
            snprintf(w->slot->error, sizeof w->slot->error,
                     "worker %d: out of file descriptors at %" PRIu64 " terminals", w->id,
                     w->slot->terminals);
        t->conn.tp.fd = -1;
        term_drop(t, 0, false);
        return;
    }
    ev_io_init(&t->io, io_cb, t->conn.tp.fd, EV_WRITE);
    t->io.data = t;
    ev_io_start(w->loop, &t->io);
    if (rc == TP_OK)
        on_connect_ok(t);
    reschedule(t);
}

static long term_deliver(void *arg, const uint8_t *buf, size_t n)
{
    struct term *t = arg;
    return t->fleet->d->on_data(t, buf, n);
}

/* Hand bytes to the dialect, keeping any partial frame for next time. */
void term_input(struct term *t, const uint8_t *buf, size_t n)
{
    if (conn_input(&t->conn, buf, n, term_deliver, t) != CONN_OK)
        term_drop(t, 0, false);
}

static void io_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct term *t = io->data;
    struct worker *w = t->fleet->w;
    if (t->state == TS_CONNECTING) {
        enum tp_rc rc = t->conn.tp.tp->finish(&t->conn.tp);
        if (rc == TP_WANT_READ || rc == TP_WANT_WRITE) {
            /* a TLS handshake waits on either; TCP's connect on writability */
            int ev = rc == TP_WANT_READ ? EV_READ : EV_WRITE;
            if (t->io.events != ev) {
                ev_io_stop(loop, &t->io);
                ev_io_set(&t->io, t->conn.tp.fd, ev);
                ev_io_start(loop, &t->io);
            }
            return;
        }
        if (rc == TP_ERR) {
            connect_failed(t, t->conn.tp.err);
            term_drop(t, 0, false);
            return;
        }
        on_connect_ok(t);
        return;
    }
    if (revents & EV_WRITE) {
        if (conn_flush(&t->conn) != CONN_OK) {
            term_drop(t, 0, false);
            return;
        }
        io_update(t);
    }
    /* a read that wanted writability is tried again on it */
    if (!conn_open(&t->conn) || (!(revents & EV_READ) && !t->conn.want_write))
        return;
    /* a datagram socket may hold many datagrams: read a few per wake-up, fairly */
    bool dgram = t->conn.tp.tp->datagram;
    int max_rounds = dgram ? 16 : 4;
    for (int rounds = 0; rounds < max_rounds && conn_open(&t->conn); rounds++) {
        size_t got = 0;
        struct trace_conn *tc = term_traced(t);
        enum conn_rc rc;
        if (tc || t->watched) {
            /* the bytes into the trace before the dialect acts on them */
            rc = conn_recv(&t->conn, w->rscratch, sizeof w->rscratch, &got);
            if (rc == CONN_OK) {
                if (tc)
                    trace_data(&w->trace, t, tc, false, w->rscratch, got);
                if (t->watched)
                    watch_record(t, false, w->rscratch, got);
                rc = conn_input(&t->conn, w->rscratch, got, term_deliver, t);
            }
        } else {
            rc = conn_read(&t->conn, w->rscratch, sizeof w->rscratch, term_deliver, t, &got);
        }
        t->fleet->st->bytes_in += got;
        if (rc == CONN_AGAIN)
            break;
        if (rc != CONN_OK) {
            const char *why = rc == CONN_CLOSED && !t->conn.tp.err ? "the platform closed the connection"
                              : rc == CONN_CLOSED                  ? strerror(t->conn.tp.err)
                              : rc == CONN_FULL                    ? "a partial frame over the input limit"
                              : rc == CONN_NOMEM                   ? "out of memory"
                                                                   : "the terminal gave up on what it received";
            term_event(t, LEV_DISCONNECT, NULL, 0, "%s (in state %s)", why,
                       term_state_name((enum term_state)t->state));
            term_drop(t, 0, false);
            return;
        }
        if (!dgram && got < sizeof w->rscratch)
            break;
    }
    if (conn_open(&t->conn))
        io_update(t); /* EV_WRITE on or off as the transport wants */
    (void)loop;
}

static void reschedule(struct term *t)
{
    struct worker *w = t->fleet->w;
    if (t->stay_away)
        return;
    uint64_t at = UINT64_MAX;
    if (!t->started) {
        return; /* scheduled by the ramp */
    } else if (t->state == TS_DISCONNECTED) {
        at = t->reconnect_at_us;
    } else if (t->state == TS_CONNECTING && t->fleet->d->io != DIALECT_IO_LIBRARY) {
        at = t->conn_start_us + t->fleet->spec->ack_timeout_ms * 1000u;
    }
    if (t->npend) {
        uint64_t due = t->pend[0].sent_us + t->fleet->spec->ack_timeout_ms * 1000u;
        if (due < at)
            at = due;
    }
    if (t->wake_proto_us && t->wake_proto_us < at)
        at = t->wake_proto_us;
    if (at == UINT64_MAX) {
        wheel_cancel(&w->wheel, &t->timer);
        return;
    }
    if (wheel_pending(&t->timer) && t->timer.at_us == at)
        return;
    wheel_schedule(&w->wheel, &t->timer, at);
}

void term_fire(struct wheel_node *n, void *arg)
{
    struct term *t = (struct term *)n; /* the node is the first member */
    struct worker *w = arg;
    uint64_t now = term_now();
    const struct fleet_spec *f = t->fleet->spec;
    if (!t->started) {
        if (w->draining)
            return;
        t->started = 1;
        t->start_us = now;
        t->fleet->st->started++;
        if (!handshake_wait(t))
            term_connect(t);
        return;
    }
    if (t->stopping) {
        /* resized out: gone once what it asked is answered (or timed out) */
        if (!t->npend || w->draining) {
            term_stop(t);
            return;
        }
    } else if (t->resized_out) {
        return;
    }
    if (t->state == TS_IDLE) {
        /* started, its handshake slot come */
        if (!w->draining && !t->stay_away && now >= t->reconnect_at_us && !handshake_wait(t))
            term_connect(t);
        return;
    }
    if (t->state == TS_DISCONNECTED) {
        if (w->draining) {
            /* no reconnects while draining: nothing left to wake up for */
            wheel_cancel(&w->wheel, &t->timer);
            return;
        }
        if (now >= t->reconnect_at_us) {
            if (!handshake_wait(t))
                term_connect(t);
            return;
        }
        /* offline terminals keep their schedule (positions go to the blind-area buffer) */
        if (t->wake_proto_us && now >= t->wake_proto_us) {
            t->wake_proto_us = 0;
            uint64_t next = t->fleet->d->on_tick(t, now);
            if (next && (!t->wake_proto_us || next < t->wake_proto_us))
                t->wake_proto_us = next;
        }
        reschedule(t);
        return;
    }
    if (t->state == TS_CONNECTING && t->fleet->d->io != DIALECT_IO_LIBRARY &&
        now >= t->conn_start_us + f->ack_timeout_ms * 1000u) {
        connect_failed(t, ETIMEDOUT);
        term_drop(t, 0, false);
        return;
    }
    while (t->npend && now >= t->pend[0].sent_us + f->ack_timeout_ms * 1000u) {
        uint16_t id = t->pend[0].kind;
        term_event(t, LEV_TIMEOUT, NULL, 0, "request 0x%04X serial %u unanswered after %" PRIu64 " ms", id,
                   t->pend[0].serial, (uint64_t)f->ack_timeout_ms);
        ledger_timeout(&t->fleet->st->ledger);
        pend_remove(t, 0);
        if (t->fleet->d->on_timeout)
            t->fleet->d->on_timeout(t, id);
        if (t->conn.tp.fd < 0 && t->fleet->d->io != DIALECT_IO_LIBRARY)
            return;
    }
    bool up = t->conn.tp.fd >= 0 || t->fleet->d->io == DIALECT_IO_LIBRARY;
    if (t->wake_proto_us && now >= t->wake_proto_us && up) {
        t->wake_proto_us = 0;
        uint64_t next = t->fleet->d->on_tick(t, now);
        if (t->conn.tp.fd < 0 && t->fleet->d->io != DIALECT_IO_LIBRARY)
            return;
        if (next && (!t->wake_proto_us || next < t->wake_proto_us))
            t->wake_proto_us = next;
    }
    reschedule(t);
}
