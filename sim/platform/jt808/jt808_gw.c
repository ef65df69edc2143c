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
#include "sim/platform/jt808/jt808_reg.h"

static struct jt808_msg in_msg, out_msg;
static uint8_t in_scratch[JT808_MAX_FRAME];
static uint8_t out_frame[JT808_MAX_FRAME];

static void close_conn(struct gw_conn *c);
static void bus_failed(struct gw *g);

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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

/* --- replies ---------------------------------------------------------------------- */

static void out_header(struct gw_conn *c, uint16_t msg_id, const char *phone, enum jt808_version v)
{
    struct jt808_header *h = &out_msg.h;
    memset(h, 0, sizeof *h);
    h->msg_id = msg_id;
    h->version = v;
    h->proto_version = v == JT808_V2019 ? 1 : 0;
    snprintf(h->phone, sizeof h->phone, "%s", phone);
    h->serial = c->serial++;
    out_msg.body = NULL;
    out_msg.body_bytes = 0;
}

static int send_out(struct gw_conn *c)
{
    size_t len = 0;
    struct jt808_err err;
    if (jt808_encode(&out_msg, out_frame, sizeof out_frame, &len, &err) != JT808_OK) {
        fprintf(stderr, "gateway: cannot encode 0x%04X: %s\n", out_msg.h.msg_id, jt808_rc_text(err.rc));
        return -1;
    }
    gw_conn_send(c, out_frame, len);
    return 0;
}

static void general_resp(struct gw_conn *c, const struct jt808_header *req, uint8_t result)
{
    out_header(c, 0x8001, req->phone, req->version);
    out_msg.b.gen_resp.ack_serial = req->serial;
    out_msg.b.gen_resp.ack_id = req->msg_id;
    out_msg.b.gen_resp.result = result;
    send_out(c);
}

/* A frame the codec rejected: answer "bad message" for the id and serial it claims,
 * read leniently from whatever could be unescaped. */
static void reject(struct gw_conn *c, const uint8_t *frame, size_t len, const struct jt808_err *e)
{
    struct gw_slot *st = c->gw->st;
    st->rejected++;
    if (e->rc == JT808_E_CHECK)
        st->c[GWC_BAD_CHECK]++;
    else if (e->rc == JT808_E_ESCAPE)
        st->c[GWC_BAD_ESCAPE]++;
    else
        st->c[GWC_BAD_FRAME]++;
    if (c->gw->cfg->verbose)
        fprintf(stderr, "gateway %d: %s: rejected frame: %s at byte %zu (%s)\n", c->gw->id,
                c->phone[0] ? c->phone : "?", jt808_rc_text(e->rc), e->offset, e->field ? e->field : "");
    struct jt808_header h;
    memset(&h, 0, sizeof h);
    uint8_t raw[JT808_MAX_FRAME];
    size_t rl = 0;
    /* unescape what can be; a bad escape sequence stops early but the header may be whole */
    size_t inner = len >= 2 ? len - 2 : 0;
    size_t i = 0;
    for (; i < inner && rl < sizeof raw; i++) {
        uint8_t b = frame[1 + i];
        if (b == 0x7D && i + 1 < inner && (frame[2 + i] == 1 || frame[2 + i] == 2)) {
            raw[rl++] = frame[2 + i] == 1 ? 0x7D : 0x7E;
            i++;
        } else if (b == 0x7D) {
            break;
        } else {
            raw[rl++] = b;
        }
    }
    if (rl >= 4) {
        h.msg_id = (uint16_t)(raw[0] << 8 | raw[1]);
        uint16_t props = (uint16_t)(raw[2] << 8 | raw[3]);
        h.version = (props & 0x4000) ? JT808_V2019 : JT808_V2013;
        size_t so = h.version == JT808_V2019 ? 15 : 10;
        if (rl >= so + 2)
            h.serial = (uint16_t)(raw[so] << 8 | raw[so + 1]);
    } else {
        h.version = c->version;
    }
    snprintf(h.phone, sizeof h.phone, "%s", c->phone[0] ? c->phone : "0");
    general_resp(c, &h, 2);
}

/* --- terminal messages ------------------------------------------------------------- */

/* --- requests at the platform core ----------------------------------------------------- */

/* Park a request for the core's answer; NULL when out of memory. */
static struct gw_wait *wait_push(struct gw *g, struct gw_conn *c, const struct jt808_header *h)
{
    if (g->wait_n == g->wait_cap) {
        uint32_t ncap = g->wait_cap ? g->wait_cap * 2 : 256;
        struct gw_wait *nw = malloc(ncap * sizeof *nw);
        if (!nw)
            return NULL;
        for (uint32_t i = 0; i < g->wait_n; i++)
            nw[i] = g->wait[(g->wait_head + i) % g->wait_cap];
        free(g->wait);
        g->wait = nw;
        g->wait_cap = ncap;
        g->wait_head = 0;
    }
    struct gw_wait *w = &g->wait[(g->wait_head + g->wait_n++) % g->wait_cap];
    w->c = c;
    w->token = ++g->next_token;
    w->serial = h->serial;
    w->msg_id = h->msg_id;
    w->version = (uint8_t)h->version;
    snprintf(w->phone, sizeof w->phone, "%s", h->phone);
    c->waiting++;
    return w;
}

/* The oldest request, which the core's answer with this token is for. */
static struct gw_wait *wait_pop(struct gw *g, uint32_t token, const char *what)
{
    if (!g->wait_n || g->wait[g->wait_head].token != token) {
        snprintf(g->st->error, sizeof g->st->error, "gateway %d: the core answered %s %u, %s", g->id, what, token,
                 g->wait_n ? "not the oldest request" : "which nobody asked");
        return NULL;
    }
    struct gw_wait *w = &g->wait[g->wait_head];
    g->wait_head = (g->wait_head + 1) % g->wait_cap;
    g->wait_n--;
    if (w->c)
        w->c->waiting--;
    return w;
}

static long deliver(void *arg, const uint8_t *buf, size_t n);

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

static void wait_header(const struct gw_wait *w, struct jt808_header *h)
{
    memset(h, 0, sizeof *h);
    h->msg_id = w->msg_id;
    h->serial = w->serial;
    h->version = (enum jt808_version)w->version;
    snprintf(h->phone, sizeof h->phone, "%s", w->phone);
}

static void on_register(struct gw_conn *c, const struct jt808_msg *m)
{
    struct gw *g = c->gw;
    static struct jt808_reg_req q;
    char why[160] = "";
    if (jt808_reg_check(m->h.phone, &m->b.reg, &q, why, sizeof why) < 0) {
        g->st->c[GWC_REG_REFUSED]++;
        g->st->c[GWC_REG_RESULT_5]++;
        if (g->cfg->verbose)
            fprintf(stderr, "gateway %d: %s: registration refused: %s\n", g->id, m->h.phone, why);
        general_resp(c, &m->h, 2);
        return;
    }
    struct gw_wait *w = wait_push(g, c, &m->h);
    if (!w) {
        general_resp(c, &m->h, 1);
        return;
    }
    struct store_device d;
    jt808_reg_device(&q, &d);
    g->bus_urgent = 1; /* a terminal waits for the answer */
    if (bus_register(&g->bus, w->token, g->cfg->one_party ? BUS_REG_PROVISIONED : 0, d.device_id, d.name,
                     d.binding, d.product, d.attrs) < 0)
        bus_failed(g);
}

static void on_reg_reply(struct gw *g, const struct bus_rec *r)
{
    struct gw_wait *w = wait_pop(g, r->token, "registration");
    if (!w) {
        bus_failed(g);
        return;
    }
    struct gw_conn *c = w->c;
    if (!c)
        return; /* it left meanwhile */
    struct jt808_header h;
    wait_header(w, &h);
    int result = r->u8 == STORE_REG_ERROR ? -1 : jt808_reg_result((enum store_reg_result)r->u8);
    if (result < 0) {
        /* the store failed: no 0x8100 result says that, so "bad message" */
        g->st->c[GWC_REG_REFUSED]++;
        g->st->c[GWC_REG_RESULT_5]++;
        fprintf(stderr, "gateway %d: %s: registration failed: %.*s\n", g->id, h.phone, (int)r->s[1].n, r->s[1].p);
        general_resp(c, &h, 2);
    } else {
        if (result == 0) {
            g->st->c[GWC_REGISTRATIONS]++;
        } else {
            g->st->c[GWC_REG_REFUSED]++;
            g->st->c[GWC_REG_RESULT_1 + (result >= 1 && result <= 4 ? result - 1 : 4)]++;
        }
        out_header(c, 0x8100, h.phone, h.version);
        out_msg.b.reg_resp.ack_serial = h.serial;
        out_msg.b.reg_resp.result = (uint8_t)result;
        out_msg.b.reg_resp.auth_code[0] = '\0';
        if (result == 0)
            bus_str_copy(r->s[0], out_msg.b.reg_resp.auth_code, sizeof out_msg.b.reg_resp.auth_code);
        send_out(c);
    }
    resume(c);
}

static void remember_phone(struct gw_conn *c, const struct jt808_header *h)
{
    snprintf(c->phone, sizeof c->phone, "%s", h->phone);
    c->version = h->version;
    uint64_t v = 0;
    for (const char *p = h->phone; *p; p++)
        v = v * 10 + (uint64_t)(*p - '0');
    c->phone_num = v;
}

static void on_auth_reply(struct gw *g, const struct bus_rec *r)
{
    struct gw_wait *w = wait_pop(g, r->token, "authentication");
    if (!w) {
        bus_failed(g);
        return;
    }
    struct gw_conn *c = w->c;
    if (!c)
        return;
    struct jt808_header h;
    wait_header(w, &h);
    if (r->u8) {
        /* the same connection speaking for another phone: the old one is not here any more */
        if (c->authed && strcmp(c->phone, h.phone) != 0 && bus_offline(&g->bus, c->handle, c->phone) < 0)
            bus_failed(g);
        c->authed = 1;
        remember_phone(c, &h);
        g->st->c[GWC_AUTHENTICATIONS]++;
    } else {
        g->st->c[GWC_AUTH_REFUSED]++;
    }
    general_resp(c, &h, r->u8 ? 0 : 1);
    resume(c);
}

/* Where a position goes: the core, as the service "location" (wire units). */
static void report_location(struct gw_conn *c, const struct jt808_location *loc)
{
    struct gw *g = c->gw;
    char data[256];
    const char *t = loc->time;
    for (const char *p = t; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'F') || (*p >= 'a' && *p <= 'f')))
            t = ""; /* not BCD digits: nothing JSON would need escaping is kept */
    snprintf(data, sizeof data,
             "{\"lat\":%u,\"lon\":%u,\"altitude\":%u,\"speed\":%u,\"direction\":%u,\"alarm\":%u,"
             "\"status\":%u,\"time\":\"%s\"}",
             loc->lat, loc->lon, loc->altitude, loc->speed, loc->direction, loc->alarm, loc->status, t);
    if (bus_report(&g->bus, (uint64_t)wall_ms(), c->phone, "location", data) < 0)
        bus_failed(g);
    g->st->c[GWC_POSITIONS]++;
}

/* A terminal's answer to a platform request. */
static void on_reply(struct gw_conn *c, const struct jt808_msg *m)
{
    struct gw *g = c->gw;
    uint16_t ack_serial, reply = m->h.msg_id;
    int ok = 1, unsupported = 0;
    if (reply == 0x0001) {
        ack_serial = m->b.gen_resp.ack_serial;
        ok = m->b.gen_resp.result == 0;
        unsupported = m->b.gen_resp.result == 3;
    } else if (reply == 0x0104) {
        ack_serial = m->b.params_resp.ack_serial;
    } else {
        ack_serial = m->b.loc_resp.ack_serial;
        report_location(c, &m->b.loc_resp.loc);
    }
    for (int i = 0; i < c->npend; i++) {
        struct gw_pend *p = &c->pend[i];
        /* a general response names the message it answers as well */
        if (p->serial != ack_serial || (reply == 0x0001 && m->b.gen_resp.ack_id != p->msg_id))
            continue;
        struct cmd_stats *cs = &g->st->cmd[p->fleet][p->cmd];
        if (ok && reply == jt808_kind_reply(p->cmd)) {
            cs->answered++;
            ledger_acked(&g->st->ledger);
            hist_record(&g->st->cmd_latency, clock_wall_since_us(p->sent_us));
            gw_cmd_result(g, c, p, STORE_CMD_SUCCESSFUL);
        } else {
            cs->refused++;
            ledger_failed(&g->st->ledger, unsupported ? LEDGER_UNSUPPORTED : LEDGER_REFUSED);
            gw_cmd_result(g, c, p, STORE_CMD_FAIL);
        }
        memmove(p, p + 1, (size_t)(c->npend - i - 1) * sizeof *p);
        c->npend--;
        g->inflight--;
        gw_conn_reschedule(c);
        return;
    }
}

/* Act on one whole message.  answer = false for a message reassembled from
 * subpackages: each fragment has been answered already. */
static void on_message(struct gw_conn *c, const struct jt808_msg *m, bool answer)
{
    struct gw *g = c->gw;
    uint16_t id = m->h.msg_id;
    uint8_t result = 0;
    if (id == 0x0100) {
        on_register(c, m);
        return;
    }
    if (id == 0x0102) {
        struct gw_wait *w = answer ? wait_push(g, c, &m->h) : NULL;
        if (!w) {
            /* out of memory, or reassembled (its fragments were answered): refused */
            g->st->c[GWC_AUTH_REFUSED]++;
            result = 1;
            goto answer;
        }
        g->bus_urgent = 1;
        if (bus_auth(&g->bus, w->token, c->handle, m->h.phone, m->b.auth.auth_code) < 0)
            bus_failed(g);
        return; /* answered when the core has checked it */
    }
    if (!c->authed || strcmp(m->h.phone, c->phone) != 0) {
        g->st->c[GWC_UNAUTHENTICATED]++;
        result = 1;
        goto answer;
    }
    switch (id) {
    case 0x0001:
    case 0x0104:
    case 0x0201:
        on_reply(c, m);
        return; /* answers are not answered */
    case 0x0002:
        break;
    case 0x0108:
        /* kept by result: the only trace of an upgrade's outcome outside the terminal */
        if (m->b.upgrade_result.result == 0)
            g->st->c[GWC_UPGRADE_OK]++;
        else if (m->b.upgrade_result.result == 2)
            g->st->c[GWC_UPGRADE_CANCELLED]++;
        else
            g->st->c[GWC_UPGRADE_FAILED]++;
        break;
    case 0x0200:
        report_location(c, &m->b.loc);
        break;
    case 0x0704:
        /* the locations the body holds: fewer than its count after a count-overrun */
        for (int i = 0; i < m->b.batch.n_locs; i++)
            report_location(c, &m->b.batch.locs[i]);
        break;
    case 0x0003:
        if (bus_unregister(&g->bus, c->phone) < 0)
            bus_failed(g);
        g->st->c[GWC_UNREGISTRATIONS]++;
        c->authed = 0;
        break;
    default:
        g->st->c[GWC_UNSUPPORTED]++;
        result = 3;
        break;
    }
answer:
    if (answer)
        general_resp(c, &m->h, result);
}

/* Deviations of an accepted message, counted per kind (the first JT808_MAX_DEVIATIONS
 * of a message carry their kind; the rest count with the last one's). */
static void count_devs(struct gw *g, struct gw_conn *c, const struct jt808_msg *m)
{
    if (!m->devs.total)
        return;
    for (unsigned i = 0; i < m->devs.n; i++) {
        g->st->c[GWC_DEV_FIRST + m->devs.d[i].kind]++;
        if (g->cfg->verbose)
            fprintf(stderr, "gateway %d: %s: 0x%04X deviates: %s at byte %zu (%s)\n", g->id,
                    c->phone[0] ? c->phone : "?", m->h.msg_id, jt808_dev_name(m->devs.d[i].kind),
                    m->devs.d[i].offset, m->devs.d[i].field ? m->devs.d[i].field : "");
    }
    if (m->devs.n && m->devs.total > m->devs.n)
        g->st->c[GWC_DEV_FIRST + m->devs.d[m->devs.n - 1].kind] += m->devs.total - m->devs.n;
}

static void on_fragment(struct gw_conn *c, struct jt808_msg *m)
{
    struct gw *g = c->gw;
    g->st->c[GWC_SUBPACKAGES]++;
    /* fragments of anything but the handshake need an authenticated terminal */
    if (m->h.msg_id != 0x0100 && m->h.msg_id != 0x0102 && (!c->authed || strcmp(m->h.phone, c->phone) != 0)) {
        g->st->c[GWC_UNAUTHENTICATED]++;
        general_resp(c, &m->h, 1);
        return;
    }
    if (!c->reasm) {
        c->reasm = calloc(1, sizeof *c->reasm);
        if (!c->reasm) {
            general_resp(c, &m->h, 1);
            return;
        }
        jt808_reasm_init(c->reasm, 64 * 1024, 60000);
        g->reasm_n++;
    }
    bool done = false;
    uint8_t *whole = NULL;
    size_t whole_len = 0;
    struct jt808_err err;
    enum jt808_rc rc = jt808_reasm_feed(c->reasm, &m->h, m->body, m->body_bytes, clock_now_ms(),
                                        &done, &whole, &whole_len, &err);
    general_resp(c, &m->h, rc == JT808_OK ? 0 : 2);
    if (rc != JT808_OK || !done)
        return;
    g->st->c[GWC_REASSEMBLED]++;
    static struct jt808_msg full;
    memset(&full.h, 0, sizeof full.h);
    full.h = m->h;
    full.h.subpackage = false;
    full.h.body_len = (uint16_t)(whole_len > 0xFFFF ? 0xFFFF : whole_len);
    if (jt808_body_decode(whole, whole_len, &full, &err) != JT808_OK) {
        g->st->c[GWC_BAD_FRAME]++;
        g->st->rejected++;
        if (g->cfg->verbose)
            fprintf(stderr, "gateway %d: %s: reassembled 0x%04X: %s at body byte %zu (%s)\n", g->id, c->phone,
                    full.h.msg_id, jt808_rc_text(err.rc), err.offset, err.field ? err.field : "");
    } else if (count_devs(g, c, &full), full.h.msg_id == 0x0100) {
        on_register(c, &full); /* registration is answered by 0x8100 in any case */
    } else {
        on_message(c, &full, false);
    }
    free(whole);
}

static long on_bytes(struct gw_conn *c, const uint8_t *buf, size_t n)
{
    struct gw *g = c->gw;
    size_t off = 0;
    /* after a request that waits for the core, the rest is held (conn keeps it) */
    while (off < n && !c->closing && !c->waiting) {
        size_t start = 0, len = 0, skipped = 0;
        size_t used = jt808_frame_find(buf + off, n - off, &start, &len, &skipped);
        if (!used) {
            g->st->c[GWC_GARBAGE_BYTES] += skipped;
            off += skipped;
            break;
        }
        g->st->c[GWC_GARBAGE_BYTES] += start;
        g->st->frames_in++;
        struct jt808_err err;
        const uint8_t *frame = buf + off + start;
        if (jt808_decode(frame, len, in_scratch, sizeof in_scratch, &in_msg, &err) != JT808_OK) {
            reject(c, frame, len, &err);
            off += used;
            continue;
        }
        count_devs(g, c, &in_msg);
        if (in_msg.h.subpackage)
            on_fragment(c, &in_msg);
        else
            on_message(c, &in_msg, true);
        off += used;
    }
    return (long)off;
}

/* --- connection life ------------------------------------------------------------------- */

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
        gw_cmd_result(g, c, p, STORE_CMD_TIMEOUT);
        memmove(p, p + 1, (size_t)(c->npend - i - 1) * sizeof *p);
        c->npend--;
        g->inflight--;
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
    /* answers of the core still to come find nobody */
    for (uint32_t i = 0; i < g->wait_n && c->waiting; i++) {
        struct gw_wait *w = &g->wait[(g->wait_head + i) % g->wait_cap];
        if (w->c == c) {
            w->c = NULL;
            c->waiting--;
        }
    }
    if (c->authed && bus_offline(&g->bus, c->handle, c->phone) < 0)
        bus_failed(g);
    /* commands in flight to a terminal that left cannot be answered any more */
    for (int i = 0; i < c->npend; i++) {
        g->st->cmd[c->pend[i].fleet][c->pend[i].cmd].refused++;
        ledger_failed(&g->st->ledger, LEDGER_CONN_LOST);
        gw_cmd_result(g, c, &c->pend[i], STORE_CMD_FAIL);
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
    free(c);
}

static long deliver(void *arg, const uint8_t *buf, size_t n) { return on_bytes(arg, buf, n); }

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
static void bus_failed(struct gw *g)
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
        bus_failed(g);
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
        on_reg_reply(g, r);
        break;
    case BUS_AUTH_REPLY:
        on_auth_reply(g, r);
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
            bus_failed(g);
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
            bus_failed(g);
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
            bus_failed(g);
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
    double t0 = lag_begin();
    wheel_advance(&g->wheel, now);
    lag_end("wheel", t0);
    if (g->draining == 1 && ((g->inflight == 0 && !g->jobs && !g->wait_n) || now >= g->drain_deadline_us)) {
        /* the results are with the core before the parent hears "drained" */
        if (bus_out_flush(&g->bus) < 0)
            bus_failed(g);
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
    double t0 = lag_begin();
    g->st->rss_kb = stats_rss_kb();
    resume_accept(g);
    /* only when some terminal sent subpackages: walking 10,000 connections held the
     * loop 0.7 ms every 200 ms */
    for (struct gw_conn *c = g->reasm_n ? g->conns : NULL; c; c = c->next)
        if (c->reasm)
            jt808_reasm_expire(c->reasm, clock_now_ms());
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
    ev_loop_destroy(g->loop);
    staple_free(g);
    ocsp_client_free(g->ocsp);
    tls_transport_free(g->tp);
    if (slot->phase != WP_DONE && !failed)
        slot->phase = WP_DONE;
    free(g->wait);
    free(g->slots);
    free(g->body);
    free(g);
    return failed ? 1 : 0;
}

/* --- as a front-end of the embedded platform ------------------------------------ */

static int fe_configure(void *cfgp, const struct frontend_opts *o, char *err, size_t errcap)
{
    struct gw_config *g = cfgp;
    snprintf(g->bind, sizeof g->bind, "%s", o->bind[0] ? o->bind : "127.0.0.1");
    g->port = o->port;
    g->one_party = strcmp(o->auth, "one-party") == 0;
    snprintf(g->triples, sizeof g->triples, "%s", o->triples);
    snprintf(g->core, sizeof g->core, "%s", o->core);
    g->idle_timeout_ms = o->idle_timeout_ms ? o->idle_timeout_ms : 180000;
    g->cmd_timeout_ms = o->cmd_timeout_ms ? o->cmd_timeout_ms : 10000;
    g->verbose = o->verbose;
    g->tls = o->tls;
    if (g->tls.cert[0] || g->tls.key[0] || g->tls.ca[0])
        return tls_opts_check(&g->tls, 1, err, errcap);
    return 0;
}

static int fe_listen(void *cfgp, int *fds, int n, uint16_t *port, char *err, size_t errcap)
{
    struct gw_config *g = cfgp;
    if (gw_listen(g, fds, n, err, errcap) < 0)
        return -1;
    *port = g->port;
    return 0;
}

/* One-party mode: the CSV of known terminals, provisioned in the core. */
static int fe_provision(const void *cfgp, int (*emit)(void *ctx, const struct store_provision *p), void *ctx,
                        char *err, size_t errcap)
{
    const struct gw_config *g = cfgp;
    if (!g->one_party || !g->triples[0])
        return 0;
    return jt808_triples_load(g->triples, emit, ctx, err, errcap);
}

static int fe_main(const void *cfg, int id, int lfd, int ctl_fd, struct gw_slot *slot)
{
    return gw_main(cfg, id, lfd, ctl_fd, slot);
}

#define C(id, n, d) {"gateway." n, id, d}
static const struct stats_counter fe_counters[] = {
    C(GWC_BAD_CHECK, "bad_check", "frames with a bad check code (answered 0x8001 result 2)"),
    C(GWC_BAD_ESCAPE, "bad_escape", "frames with a bad escape (answered 0x8001 result 2)"),
    C(GWC_BAD_FRAME, "bad_frame", "other malformed frames (answered 0x8001 result 2)"),
    C(GWC_GARBAGE_BYTES, "garbage_bytes", "bytes skipped between frames"),
    C(GWC_UNAUTHENTICATED, "unauthenticated", "messages refused before authentication"),
    C(GWC_UNSUPPORTED, "unsupported", "message ids answered with result 3"),
    C(GWC_REGISTRATIONS, "registrations", "registrations accepted"),
    C(GWC_REG_REFUSED, "reg_refused", "registrations refused (results 1-4, or invalid)"),
    C(GWC_AUTHENTICATIONS, "authentications", "authentications accepted"),
    C(GWC_AUTH_REFUSED, "auth_refused", "authentications refused"),
    C(GWC_POSITIONS, "positions", "locations stored (0x0200, 0x0201, 0x0704 items)"),
    C(GWC_UNREGISTRATIONS, "unregistrations", "0x0003 unregistrations"),
    C(GWC_SUBPACKAGES, "subpackages", "subpackage fragments received"),
    C(GWC_REASSEMBLED, "reassembled", "messages completed from fragments"),
    C(GWC_UPGRADE_OK, "upgrade_ok", "0x0108 upgrade results 0 (succeeded)"),
    C(GWC_UPGRADE_FAILED, "upgrade_failed", "0x0108 upgrade results 1, or a code JT/T 808 does not define"),
    C(GWC_UPGRADE_CANCELLED, "upgrade_cancelled", "0x0108 upgrade results 2 (cancelled)"),
    C(GWC_TLS_HANDSHAKES + TLS_EV_HANDSHAKE, "tls_handshakes", "TLS handshakes completed"),
    C(GWC_TLS_HANDSHAKES + TLS_EV_NO_CERT, "tls_no_cert", "TLS terminals refused: no device certificate"),
    C(GWC_TLS_HANDSHAKES + TLS_EV_UNKNOWN_CA, "tls_unknown_ca",
      "TLS terminals refused: a certificate the device root CA did not sign"),
    C(GWC_TLS_HANDSHAKES + TLS_EV_EXPIRED, "tls_expired", "TLS terminals refused: an expired or not yet valid certificate"),
    C(GWC_TLS_HANDSHAKES + TLS_EV_BAD_CERT, "tls_bad_cert", "TLS terminals refused: another certificate failure"),
    C(GWC_TLS_HANDSHAKES + TLS_EV_REVOKED, "tls_revoked", "TLS terminals refused: OCSP says the device certificate is revoked"),
    C(GWC_TLS_HANDSHAKES + TLS_EV_OCSP_FAILED, "tls_ocsp_failed",
      "TLS terminals refused: OCSP status unknown, or no valid answer from the responder"),
    C(GWC_TLS_STAPLES, "tls_staples", "OCSP responses for the server certificate obtained for stapling"),
    C(GWC_TLS_HANDSHAKES + TLS_EV_FAILED, "tls_handshake_failed", "TLS handshakes failed otherwise (not TLS, a protocol error)"),
    C(GWC_DEV_FIRST + JT808_DEV_ITEM_LENGTH, "dev_item_length",
      "deviations accepted: an additional item whose length disagrees with its id (kept raw)"),
    C(GWC_DEV_FIRST + JT808_DEV_PARAM_LENGTH, "dev_param_length",
      "deviations accepted: a parameter whose length disagrees with its type (kept raw)"),
    C(GWC_DEV_FIRST + JT808_DEV_COUNT_OVERRUN, "dev_count_overrun",
      "deviations accepted: a count larger than the body holds"),
    C(GWC_DEV_FIRST + JT808_DEV_TRAILING_BYTES, "dev_trailing_bytes",
      "deviations accepted: bytes after the last field (kept raw)"),
    C(GWC_DEV_FIRST + JT808_DEV_UNESCAPED_CHECK, "dev_unescaped_check",
      "deviations accepted: a lone 0x7D before the closing 0x7E read as the check byte"),
    C(GWC_DEV_FIRST + JT808_DEV_ITEM_TRUNCATED, "dev_item_truncated",
      "deviations accepted: an item whose length runs past the body"),
};
_Static_assert(TLS_EV__COUNT == 8, "a counter per TLS event");
_Static_assert(GWC__COUNT <= STATS_FE_COUNTERS, "gateway counters");
#undef C

const struct frontend jt808_frontend = {
    .name = "jt808",
    .cfg_size = sizeof(struct gw_config),
    .configure = fe_configure,
    .listen = fe_listen,
    .main = fe_main,
    .provision = fe_provision,
    .counters = fe_counters,
    .n_counters = (int)(sizeof fe_counters / sizeof fe_counters[0]),
};
