/* The terminals' answers to the gateway's platform requests: matched to the
 * request by reply serial (0x0001 also by the id it answers; 0x0107, 0x0608,
 * 0x0702 and 0x0A00, which carry no serial, to the oldest request of their kind),
 * decoded with the layouts and checked; 0x8003 and 0x8800 are answered by the
 * packages they list, resent.  A wrong answer is refused and counted by reason. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/core/clock.h"
#include "sim/platform/core/store.h"
#include "sim/platform/jt808/jt808_gw_internal.h"
#include "sim/proto/jt808_layout.h"

/* Requests are built straight to body bytes: read back with the layout. */
static struct jt808_msg want_msg;

struct gw_want *gw_want_make(uint16_t msg_id, enum jt808_version ver, const uint8_t *body, size_t len)
{
    const char *list = msg_id == 0x8106 || msg_id == 0x8003 || msg_id == 0x8800 ? "ids" : NULL;
    if (!list && msg_id != 0x8700 && msg_id != 0x8608)
        return NULL;
    struct jt808_err e;
    memset(&want_msg.h, 0, sizeof want_msg.h);
    want_msg.h.msg_id = msg_id;
    want_msg.h.version = ver;
    want_msg.lay = NULL;
    if (jt808_lay_decode(body, len, &want_msg, &e) != JT808_OK)
        return NULL;
    const struct jt808_lay_body *b = want_msg.lay;
    size_t n = 0;
    if (list && !jt808_lay_list_len(b, list, &n))
        n = 0;
    struct gw_want *w = calloc(1, sizeof *w + n * sizeof w->ids[0]);
    if (!w)
        return NULL;
    w->refs = 1;
    w->n = (uint16_t)n;
    for (size_t i = 0; i < n; i++) {
        char path[32];
        snprintf(path, sizeof path, "ids[%zu].id", i);
        jt808_lay_get_u32(b, path, &w->ids[i]);
    }
    uint32_t v = 0;
    if (msg_id == 0x8003 && jt808_lay_get_u32(b, "orig_serial", &v))
        w->orig_serial = (uint16_t)v;
    if (msg_id == 0x8800 && jt808_lay_get_u32(b, "media_id", &v))
        w->media_id = v;
    if ((msg_id == 0x8700 && jt808_lay_get_u32(b, "command", &v)) ||
        (msg_id == 0x8608 && jt808_lay_get_u32(b, "type", &v)))
        w->sel = v;
    return w;
}

void gw_want_put(struct gw_want *w)
{
    if (w && --w->refs == 0)
        free(w);
}

void gw_pend_remove(struct gw_conn *c, int i)
{
    struct gw_pend *p = &c->pend[i];
    gw_want_put(p->want);
    memmove(p, p + 1, (size_t)(c->npend - i - 1) * sizeof *p);
    c->npend--;
    c->gw->inflight--;
}

static bool want_has(const struct gw_want *w, uint32_t id)
{
    for (unsigned i = 0; w && i < w->n; i++)
        if (w->ids[i] == id)
            return true;
    return false;
}

enum verdict { V_OK, V_REFUSED, V_UNSUPPORTED, V_INVALID };

/* How request p ended with this answer. */
void gw_pend_settle(struct gw_conn *c, int i, int verdict, int reason, const char *why)
{
    struct gw *g = c->gw;
    struct gw_pend *p = &c->pend[i];
    struct cmd_stats *cs = &g->st->cmd[p->fleet][p->cmd];
    if (verdict == V_OK) {
        cs->answered++;
        ledger_acked(&g->st->ledger);
        hist_record(&g->st->cmd_latency, clock_wall_since_us(p->sent_us));
        gw_cmd_result(g, c, p, STORE_CMD_SUCCESSFUL);
    } else {
        cs->refused++;
        ledger_failed(&g->st->ledger, verdict == V_UNSUPPORTED ? LEDGER_UNSUPPORTED : LEDGER_REFUSED);
        gw_cmd_result(g, c, p, STORE_CMD_FAIL);
        if (verdict == V_INVALID) {
            g->st->c[reason]++;
            if (g->cfg->verbose)
                fprintf(stderr, "gateway %d: %s: the answer to 0x%04X (serial %u) is invalid: %s\n", g->id,
                        c->phone, p->msg_id, p->serial, why);
        }
    }
    gw_pend_remove(c, i);
    gw_conn_reschedule(c);
}

static int find_serial(const struct gw_conn *c, uint16_t serial, int ack_id)
{
    for (int i = 0; i < c->npend; i++)
        if (c->pend[i].serial == serial && (ack_id < 0 || c->pend[i].msg_id == ack_id))
            return i;
    return -1;
}

static int find_kind(const struct gw_conn *c, uint16_t msg_id)
{
    for (int i = 0; i < c->npend; i++)
        if (c->pend[i].msg_id == msg_id)
            return i;
    return -1;
}

static uint32_t lay_u32(const struct jt808_msg *m, const char *path, uint32_t dflt)
{
    uint32_t v;
    return jt808_lay_get_u32(m->lay, path, &v) ? v : dflt;
}

/* The body of an answer of the expected id: V_OK, or V_INVALID with the reason. */
static int check_body(struct gw_conn *c, const struct gw_pend *p, struct jt808_msg *m, int *reason, char *why,
                      size_t cap)
{
    size_t n = 0;
    switch (m->h.msg_id) {
    case 0x0104:
        if (p->msg_id != 0x8106)
            return V_OK;
        for (unsigned k = 0; k < m->b.params_resp.p.n_params; k++)
            if (!want_has(p->want, m->b.params_resp.p.params[k].id)) {
                *reason = GWC_REPLY_BAD_IDS;
                snprintf(why, cap, "parameter 0x%04X was not asked", m->b.params_resp.p.params[k].id);
                return V_INVALID;
            }
        return V_OK;
    case 0x0107:
        /* read with the widths of the header's edition: the other edition's leaves bytes over */
        if (m->h.version != c->version || !m->lay || m->lay->n_trailing || m->devs.total) {
            *reason = GWC_REPLY_BAD_BODY;
            snprintf(why, cap, "not the %s field widths (%zu bytes left over, %u deviations)",
                     c->version == JT808_V2019 ? "2019" : "2013", m->lay ? m->lay->n_trailing : 0,
                     m->devs.total);
            return V_INVALID;
        }
        return V_OK;
    case 0x0500: {
        struct jt808_location loc;
        if (!jt808_lay_get_loc(m->lay, m, "location", &loc)) {
            *reason = GWC_REPLY_BAD_LOCATION;
            snprintf(why, cap, "no location");
            return V_INVALID;
        }
        gw_report_location(c, &loc);
        return V_OK;
    }
    case 0x0805:
        if (lay_u32(m, "result", 0) != 0)
            return V_REFUSED;
        if (!jt808_lay_list_len(m->lay, "ids", &n) || n == 0 || n != lay_u32(m, "count", 0)) {
            *reason = GWC_REPLY_BAD_IDS;
            snprintf(why, cap, "result 0 with %zu multimedia ids for a count of %u", n, lay_u32(m, "count", 0));
            return V_INVALID;
        }
        return V_OK;
    case 0x0802:
        if (!jt808_lay_list_len(m->lay, "items", &n) || n != lay_u32(m, "count", 0)) {
            *reason = GWC_REPLY_BAD_IDS;
            snprintf(why, cap, "%zu items for a count of %u", n, lay_u32(m, "count", 0));
            return V_INVALID;
        }
        return V_OK;
    case 0x0700:
    case 0x0608: {
        const char *f = m->h.msg_id == 0x0700 ? "command" : "type";
        uint32_t got = lay_u32(m, f, 0xFFFFFFFFu), want = p->want ? p->want->sel : 0;
        if (got != want) {
            *reason = GWC_REPLY_MISMATCH;
            snprintf(why, cap, "%s %u, asked %u", f, got, want);
            return V_INVALID;
        }
        return V_OK;
    }
    default:
        return V_OK;
    }
}

bool gw_reply(struct gw_conn *c, struct jt808_msg *m)
{
    uint16_t id = m->h.msg_id;
    int i = -1;
    switch (id) {
    case 0x0001:
        i = find_serial(c, m->b.gen_resp.ack_serial, m->b.gen_resp.ack_id);
        break;
    case 0x0104:
        i = find_serial(c, m->b.params_resp.ack_serial, -1);
        break;
    case 0x0201:
        gw_report_location(c, &m->b.loc_resp.loc);
        i = find_serial(c, m->b.loc_resp.ack_serial, -1);
        break;
    case 0x0500:
    case 0x0700:
    case 0x0802:
    case 0x0805:
        i = find_serial(c, (uint16_t)lay_u32(m, "ack_serial", 0x10000), -1);
        break;
    case 0x0107:
        i = find_kind(c, 0x8107);
        break;
    case 0x0608:
        i = find_kind(c, 0x8608);
        break;
    case 0x0702:
        if ((i = find_kind(c, 0x8702)) < 0)
            return false; /* a report of its own accord */
        break;
    case 0x0A00:
        if ((i = find_kind(c, 0x8A00)) < 0)
            return false;
        break;
    default:
        return false;
    }
    if (i < 0)
        return true; /* late, or for nothing asked: answers are not answered */
    const struct gw_pend *p = &c->pend[i];
    uint16_t want = jt808_kind_reply(p->cmd);
    int reason = GWC_REPLY_WRONG_ID;
    char why[160] = "";
    if (id == 0x0001) {
        uint8_t r = m->b.gen_resp.result;
        if (r == 3)
            gw_pend_settle(c, i, V_UNSUPPORTED, 0, NULL);
        else if (r != 0)
            gw_pend_settle(c, i, V_REFUSED, 0, NULL);
        else if (want == 0x0001 && p->two_phase) {
            /* acknowledged: the answer is the 0x0108 to come (gw_reply_upgrade_result);
             * the same 0x0001 again changes nothing */
            if (!p->delivered) {
                c->pend[i].delivered = 1;
                gw_cmd_result(c->gw, c, p, STORE_CMD_DELIVERED);
            }
        } else if (want == 0x0001)
            gw_pend_settle(c, i, V_OK, 0, NULL);
        else if (want != 0) { /* a request answered by its packages: 0x0001 alone settles nothing */
            snprintf(why, sizeof why, "0x0001, not 0x%04X", want);
            gw_pend_settle(c, i, V_INVALID, reason, why);
        }
        return true;
    }
    if (id != want) {
        snprintf(why, sizeof why, "0x%04X, not 0x%04X", id, want);
        gw_pend_settle(c, i, V_INVALID, reason, why);
        return true;
    }
    int v = check_body(c, p, m, &reason, why, sizeof why);
    gw_pend_settle(c, i, v, reason, why);
    return true;
}

void gw_reply_upgrade_result(struct gw_conn *c, uint8_t result)
{
    for (int i = 0; i < c->npend; i++)
        if (c->pend[i].msg_id == 0x8108 && c->pend[i].delivered) {
            gw_pend_settle(c, i, result == 0 ? V_OK : V_REFUSED, 0, NULL);
            return;
        }
}

void gw_reply_rejected(struct gw_conn *c, uint16_t id, const uint8_t *body, size_t n, const char *why)
{
    int i = -1;
    uint16_t serial = n >= 2 ? (uint16_t)(body[0] << 8 | body[1]) : 0;
    switch (id) {
    case 0x0001:
        if (n >= 4)
            i = find_serial(c, serial, body[2] << 8 | body[3]);
        break;
    case 0x0104:
    case 0x0201:
    case 0x0500:
    case 0x0700:
    case 0x0802:
    case 0x0805:
        if (n >= 2)
            i = find_serial(c, serial, -1);
        break;
    case 0x0107:
        i = find_kind(c, 0x8107);
        break;
    case 0x0608:
        i = find_kind(c, 0x8608);
        break;
    case 0x0702:
        i = find_kind(c, 0x8702);
        break;
    case 0x0A00:
        i = find_kind(c, 0x8A00);
        break;
    default:
        break;
    }
    if (i >= 0)
        gw_pend_settle(c, i, V_INVALID, GWC_REPLY_BAD_BODY, why);
}

void gw_reply_fragment(struct gw_conn *c, const struct jt808_header *h)
{
    uint16_t first = (uint16_t)(h->serial - (h->pkg_index - 1));
    for (int i = 0; i < c->npend; i++) {
        const struct gw_pend *p = &c->pend[i];
        bool hit = (p->msg_id == 0x8003 && p->want && p->want->orig_serial == first &&
                    want_has(p->want, h->pkg_index)) ||
                   (p->msg_id == 0x8800 && h->msg_id == 0x0801 && want_has(p->want, h->pkg_index));
        if (hit) {
            gw_pend_settle(c, i, V_OK, 0, NULL);
            return;
        }
    }
}
