/* The gateway's terminal messages: frames decoded and acted on (registration and
 * authentication through the platform core, positions, answers to platform
 * requests, subpackages reassembled), the answers it sends, the requests parked
 * at the core until it answers. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/core/clock.h"
#include "sim/platform/core/core.h"
#include "sim/platform/jt808/jt808_gw_internal.h"
#include "sim/platform/jt808/jt808_reg.h"
#include "sim/proto/jt808.h"
#include "sim/proto/jt808_rsa.h"

static struct jt808_msg in_msg, out_msg;
static uint8_t in_scratch[JT808_MAX_FRAME];

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- replies ---------------------------------------------------------------------- */

static void out_header(struct gw_conn *c, uint16_t msg_id, const char *phone, enum jt808_version v)
{
    struct jt808_header *h = &out_msg.h;
    memset(h, 0, sizeof *h);
    h->msg_id = msg_id;
    h->version = v;
    h->proto_version = v == JT808_V2019 ? 1 : 0;
    size_t pl = strnlen(phone, sizeof h->phone - 1);
    memcpy(h->phone, phone, pl); /* h is zeroed: NUL-terminated */
    h->serial = c->serial++;
    out_msg.body = NULL;
    out_msg.body_bytes = 0;
}

static int send_out(struct gw_conn *c)
{
    struct jt808_err err;
    if (gw_rsa_send(c, &out_msg, &err) != JT808_OK) {
        fprintf(stderr, "gateway: cannot encode 0x%04X: %s\n", out_msg.h.msg_id, jt808_rc_text(err.rc));
        return -1;
    }
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

void gw_general_resp(struct gw_conn *c, const struct jt808_header *req, uint8_t result)
{
    general_resp(c, req, result);
}

void gw_reg_resp(struct gw_conn *c, const struct jt808_header *req, uint8_t result, const char *auth_code)
{
    out_header(c, 0x8100, req->phone, req->version);
    out_msg.b.reg_resp.ack_serial = req->serial;
    out_msg.b.reg_resp.result = result;
    snprintf(out_msg.b.reg_resp.auth_code, sizeof out_msg.b.reg_resp.auth_code, "%s", auth_code);
    send_out(c);
}

/* An event for the live statistics (sim/core/live_events.h), of the terminal on c. */
static void gw_event(struct gw_conn *c, enum live_ev_kind kind, const uint8_t *frame, size_t len, const char *fmt,
                     ...) __attribute__((format(printf, 5, 6)));
static void gw_event(struct gw_conn *c, enum live_ev_kind kind, const uint8_t *frame, size_t len, const char *fmt,
                     ...)
{
    struct live_ring *r = &c->gw->st->events;
    uint64_t now = clock_now_us();
    if (!live_ev_admit(r, now))
        return;
    va_list ap;
    va_start(ap, fmt);
    live_ev_vput(r, now, -1, kind, c->phone, frame, len, fmt, ap);
    va_end(ap);
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
    gw_event(c, LEV_REJECTED, frame, len, "gateway %d: %s at byte %zu (%s)", c->gw->id, jt808_rc_text(e->rc),
             e->offset, e->field ? e->field : "");
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
    /* an answer to a request whose body is off its layout: that request is refused */
    size_t so = h.version == JT808_V2019 ? 15 : 10;
    if (rl >= so + 3 && c->authed && e->rc != JT808_E_CHECK && e->rc != JT808_E_ESCAPE &&
        !(raw[2] & 0x20)) {
        char why[160];
        snprintf(why, sizeof why, "%s at byte %zu (%s)", jt808_rc_text(e->rc), e->offset, e->field ? e->field : "");
        gw_reply_rejected(c, h.msg_id, raw + so + 2, rl - so - 3, why);
    }
    general_resp(c, &h, 2);
}

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
    if (gw_verify_wants(g, JT808_VERIFY_REGISTER)) {
        if (gw_verify_start(c, m, JT808_VERIFY_REGISTER, &q) < 0) {
            g->st->c[GWC_REG_REFUSED]++;
            general_resp(c, &m->h, 1); /* fails closed: see jt808_gw_verify.c */
        }
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
        gw_bus_failed(g);
}

void gw_on_reg_reply(struct gw *g, const struct bus_rec *r)
{
    struct gw_wait *w = wait_pop(g, r->token, "registration");
    if (!w) {
        gw_bus_failed(g);
        return;
    }
    struct gw_conn *c = w->c;
    if (!c)
        return; /* it left meanwhile */
    struct jt808_header h;
    wait_header(w, &h);
    if (h.msg_id == 0x0102) {
        /* a device the verifier accepted, registered: now authenticated */
        struct gw_wait *aw = r->u8 == STORE_REG_OK ? wait_push(g, c, &h) : NULL;
        if (aw) {
            char secret[STORE_SECRET_MAX + 1];
            bus_str_copy(r->s[0], secret, sizeof secret);
            g->bus_urgent = 1;
            if (bus_auth(&g->bus, aw->token, c->handle, h.phone, secret) < 0)
                gw_bus_failed(g);
            return;
        }
        fprintf(stderr, "gateway %d: %s: the verified device cannot be registered: result %u: %.*s\n", g->id,
                h.phone, r->u8, (int)r->s[1].n, r->s[1].p);
        g->st->c[GWC_AUTH_REFUSED]++;
        general_resp(c, &h, 1);
        gw_resume(c);
        return;
    }
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
    gw_resume(c);
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

void gw_on_auth_reply(struct gw *g, const struct bus_rec *r)
{
    struct gw_wait *w = wait_pop(g, r->token, "authentication");
    if (!w) {
        gw_bus_failed(g);
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
            gw_bus_failed(g);
        c->authed = 1;
        remember_phone(c, &h);
        g->st->c[GWC_AUTHENTICATIONS]++;
    } else {
        g->st->c[GWC_AUTH_REFUSED]++;
    }
    general_resp(c, &h, r->u8 ? 0 : 1);
    gw_resume(c);
}

int gw_core_register_auth(struct gw_conn *c, const struct jt808_header *h, const struct jt808_verify_dev *d)
{
    struct gw *g = c->gw;
    char name[STORE_NAME_MAX + 1], attrs[256];
    snprintf(name, sizeof name, "%s_%s_%s", d->manufacturer, d->model, d->device_id);
    snprintf(attrs, sizeof attrs, "{\"manufacturer\":\"%s\",\"model\":\"%s\",\"terminal_id\":\"%s\"}",
             d->manufacturer, d->model, d->device_id);
    struct gw_wait *w = wait_push(g, c, h);
    if (!w)
        return -1;
    g->bus_urgent = 1;
    if (bus_register(&g->bus, w->token, 0, h->phone, name, "", "", attrs) < 0)
        gw_bus_failed(g);
    return 0;
}

void gw_unregister(struct gw_conn *c)
{
    struct gw *g = c->gw;
    if (bus_unregister(&g->bus, c->phone) < 0)
        gw_bus_failed(g);
    g->st->c[GWC_UNREGISTRATIONS]++;
    c->authed = 0;
    c->vdev_set = 0;
}

/* Decimal digits of v at p; past them. */
static char *put_u32(char *p, uint32_t v)
{
    char tmp[10];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

static char *put_lit(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

#define PUT_LIT(p, s) put_lit(p, s, sizeof s - 1)

size_t gw_location_json(const struct jt808_location *loc, char out[GW_LOCATION_JSON_MAX])
{
    /* every report goes through here: written by hand, not by snprintf (a fifth of
     * the gateway's instructions per report went to formatting it) */
    size_t tn = 0;
    for (const char *p = loc->time; *p && tn < sizeof loc->time; p++, tn++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'F') || (*p >= 'a' && *p <= 'f'))) {
            tn = 0; /* not BCD digits: nothing JSON would need escaping is kept */
            break;
        }
    char *p = out;
    p = put_u32(PUT_LIT(p, "{\"lat\":"), loc->lat);
    p = put_u32(PUT_LIT(p, ",\"lon\":"), loc->lon);
    p = put_u32(PUT_LIT(p, ",\"altitude\":"), loc->altitude);
    p = put_u32(PUT_LIT(p, ",\"speed\":"), loc->speed);
    p = put_u32(PUT_LIT(p, ",\"direction\":"), loc->direction);
    p = put_u32(PUT_LIT(p, ",\"alarm\":"), loc->alarm);
    p = put_u32(PUT_LIT(p, ",\"status\":"), loc->status);
    p = put_lit(PUT_LIT(p, ",\"time\":\""), loc->time, tn);
    p = PUT_LIT(p, "\"}");
    *p = '\0';
    return (size_t)(p - out);
}

/* Where a position goes: the core, as the service "location" (wire units). */
void gw_report_location(struct gw_conn *c, const struct jt808_location *loc)
{
    struct gw *g = c->gw;
    char data[GW_LOCATION_JSON_MAX];
    gw_location_json(loc, data);
    if (bus_report(&g->bus, (uint64_t)wall_ms(), c->phone, "location", data) < 0)
        gw_bus_failed(g);
    g->st->c[GWC_POSITIONS]++;
}

/* Act on one whole message.  answer = false for a message reassembled from
 * subpackages: each fragment has been answered already. */
static void on_message(struct gw_conn *c, struct jt808_msg *m, bool answer)
{
    struct gw *g = c->gw;
    uint16_t id = m->h.msg_id;
    uint8_t result = 0;
    if (id == 0x0100) {
        on_register(c, m);
        return;
    }
    if (id == 0x0102 && answer && gw_verify_wants(g, JT808_VERIFY_AUTH)) {
        if (gw_verify_start(c, m, JT808_VERIFY_AUTH, NULL) == 0)
            return;
        g->st->c[GWC_AUTH_REFUSED]++;
        result = 1;
        goto answer;
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
            gw_bus_failed(g);
        return; /* answered when the core has checked it */
    }
    if (!c->authed || strcmp(m->h.phone, c->phone) != 0) {
        g->st->c[GWC_UNAUTHENTICATED]++;
        result = 1;
        goto answer;
    }
    if (id == 0x0A00 && !gw_rsa_peer_key(c, m)) {
        /* a key it cannot use (not a 1024-bit modulus, a bad exponent) is not taken: not
         * "done", but a bad message, as a body off its layout; the 0x8A00 it answers, if
         * any, is refused (reply_bad_body) */
        gw_reply_rejected(c, id, m->body, m->body_bytes, "0x0A00: a key the gateway cannot use");
        result = 2;
        goto answer;
    }
    if (gw_reply(c, m))
        return; /* answers are not answered */
    switch (id) {
    case 0x0002:
        break;
    case 0x0108:
        /* kept by result: the only trace of an upgrade's outcome outside the terminal;
         * the answer of an API 0x8108 its 0x0001 delivered */
        gw_reply_upgrade_result(c, m->b.upgrade_result.result);
        if (m->b.upgrade_result.result == 0)
            g->st->c[GWC_UPGRADE_OK]++;
        else if (m->b.upgrade_result.result == 2)
            g->st->c[GWC_UPGRADE_CANCELLED]++;
        else
            g->st->c[GWC_UPGRADE_FAILED]++;
        break;
    case 0x0200:
        gw_report_location(c, &m->b.loc);
        break;
    case 0x0704:
        /* the locations the body holds: fewer than its count after a count-overrun */
        for (int i = 0; i < m->b.batch.n_locs; i++)
            gw_report_location(c, &m->b.batch.locs[i]);
        break;
    case 0x0003:
        if (answer && gw_verify_wants(g, JT808_VERIFY_UNREGISTER)) {
            if (gw_verify_start(c, m, JT808_VERIFY_UNREGISTER, NULL) == 0)
                return; /* answered with the verifier's answer */
            result = 1;
            break;
        }
        gw_unregister(c);
        break;
    default: {
        int r = gw_up_message(c, m);
        if (r == -1)
            return; /* answered by its own message */
        if (r >= 0) {
            result = (uint8_t)r;
            break;
        }
        g->st->c[GWC_UNSUPPORTED]++; /* not a message a terminal sends a platform */
        result = 3;
        break;
    }
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
        jt808_reasm_init(c->reasm, 256 * 1024, g->cfg->reasm_timeout_ms);
        g->reasm_n++;
    }
    bool done = false;
    uint8_t *whole = NULL;
    size_t whole_len = 0;
    gw_reply_fragment(c, &m->h); /* a package 0x8003 or 0x8800 asked for */
    struct jt808_err err;
    enum jt808_rc rc = jt808_reasm_feed(c->reasm, &m->h, m->body, m->body_bytes, clock_now_ms(),
                                        &done, &whole, &whole_len, &err);
    general_resp(c, &m->h, rc == JT808_OK ? 0 : 2);
    if (rc != JT808_OK || !done)
        return;
    g->st->c[GWC_REASSEMBLED]++;
    /* its packages were decrypted as they came (each on its own: jt808_pkgs.h); a
     * message whose packages disagree on it is read so, with a deviation */
    static struct jt808_msg full;
    if (jt808_reasm_decode(c->reasm, &m->h, whole, whole_len, &full, &err) != JT808_OK) {
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
    full.body = NULL; /* it pointed into whole */
    free(whole);
}

long gw_on_bytes(struct gw_conn *c, const uint8_t *buf, size_t n)
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
        if (in_msg.h.encryption != 0 && in_msg.h.encryption != JT808_ENC_RSA) {
            /* body attribute bits 10-12: bit 10 alone is RSA, the rest is reserved; a
             * body encrypted in a way the gateway does not know cannot be read */
            g->st->c[GWC_BAD_FRAME]++;
            g->st->rejected++;
            gw_event(c, LEV_REJECTED, frame, len, "gateway %d: 0x%04X encryption %u in body attribute bits 10-12 "
                     "(only 1, RSA, is defined)", g->id, in_msg.h.msg_id, in_msg.h.encryption);
            if (g->cfg->verbose)
                fprintf(stderr, "gateway %d: %s: 0x%04X serial %u refused: encryption %u in body attribute "
                        "bits 10-12 (only 1, RSA, is defined)\n", g->id, c->phone[0] ? c->phone : "?",
                        in_msg.h.msg_id, in_msg.h.serial, in_msg.h.encryption);
            general_resp(c, &in_msg.h, 2);
            off += used;
            continue;
        }
        char why[200];
        if (in_msg.h.encryption == JT808_ENC_RSA && !in_msg.h.subpackage &&
            !gw_rsa_open(c, &in_msg, in_msg.body, in_msg.body_bytes, why, sizeof why)) {
            /* a body the gateway cannot read: "bad message", as a frame that does not decode */
            g->st->rejected++;
            gw_event(c, LEV_REJECTED, frame, len, "gateway %d: 0x%04X: %s", g->id, in_msg.h.msg_id, why);
            if (g->cfg->verbose)
                fprintf(stderr, "gateway %d: %s: 0x%04X refused: %s\n", g->id, c->phone[0] ? c->phone : "?",
                        in_msg.h.msg_id, why);
            if (in_msg.rsa_plain) {
                /* decrypted, its plaintext off the layout: a malformed frame, as in the
                 * clear, and an answer with it refuses its request (reject) */
                g->st->c[GWC_BAD_FRAME]++;
                if (c->authed)
                    gw_reply_rejected(c, in_msg.h.msg_id, in_msg.body, in_msg.body_bytes, why);
            }
            general_resp(c, &in_msg.h, 2);
            off += used;
            continue;
        }
        if (in_msg.h.encryption == JT808_ENC_RSA && in_msg.h.subpackage &&
            !gw_rsa_open_package(c, &in_msg, why, sizeof why)) {
            /* a package the gateway cannot read: "bad message", and its message cannot complete */
            g->st->rejected++;
            gw_event(c, LEV_REJECTED, frame, len, "gateway %d: 0x%04X package: %s", g->id, in_msg.h.msg_id, why);
            if (g->cfg->verbose)
                fprintf(stderr, "gateway %d: %s: 0x%04X serial %u refused: %s\n", g->id,
                        c->phone[0] ? c->phone : "?", in_msg.h.msg_id, in_msg.h.serial, why);
            general_resp(c, &in_msg.h, 2);
            off += used;
            continue;
        }
        count_devs(g, c, &in_msg);
        if (in_msg.devs.n) {
            const struct jt808_deviation *d = &in_msg.devs.d[0];
            gw_event(c, LEV_DEVIATION, frame, len, "gateway %d: 0x%04X deviates: %s at byte %zu (%s)%s", g->id,
                     in_msg.h.msg_id, jt808_dev_name(d->kind), d->offset, d->field ? d->field : "",
                     in_msg.devs.total > 1 ? ", and more" : "");
        }
        if (in_msg.h.subpackage)
            on_fragment(c, &in_msg);
        else
            on_message(c, &in_msg, true);
        off += used;
    }
    return (long)off;
}

