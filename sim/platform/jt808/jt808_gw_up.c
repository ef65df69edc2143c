/* Terminal messages of their own accord beyond the foundation's: 0x0004 answered
 * with the server time (0x8004), 0x0005 with the packages it lists of the
 * gateway's last subpackaged message to that terminal (kept per connection),
 * 0x0801 multimedia data with 0x8800, the reports 0x0301 0x0302 0x0303 0x0701 0x0702
 * 0x0705 0x0800 0x0900 0x0901 0x0A00 counted and answered 0x8001; and the
 * subpackaged messages left incomplete: their missing packages asked for (0x8800
 * for 0x0801 when its first package names the multimedia id, else 0x8003) a
 * timeout apart, GW_REASM_ASKS times, then dropped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/core/clock.h"
#include "sim/platform/jt808/jt808_gw_internal.h"
#include "sim/proto/jt808_layout.h"
#include "sim/proto/jt808_pkgs.h"

#define GW_REASM_ASKS 3          /* requests for the missing packages before a message is dropped */
#define GW_KEEP_MAX (72 * 1024)  /* package body bytes of the last subpackaged message kept for 0x0005
                                    (a 64 KiB body, its ciphertext when encrypted) */
#define GW_ASK_IDS_2013 255      /* 0x8003 / 0x8800 counts are a BYTE (0x8003 2019: a WORD) */
#define GW_ASK_IDS_2019 500      /* ... what a 1023-byte body holds */

static struct jt808_msg up_msg;
static uint8_t up_frame[JT808_MAX_FRAME];

static void up_header(struct gw_conn *c, struct jt808_header *h, uint16_t msg_id)
{
    memset(h, 0, sizeof *h);
    h->msg_id = msg_id;
    h->version = c->version;
    h->proto_version = c->version == JT808_V2019 ? 1 : 0;
    snprintf(h->phone, sizeof h->phone, "%s", c->phone);
    h->serial = c->serial++;
}

/* Build msg_id from kvs for c and send it; -1 when it cannot be built (logged). */
static int up_send(struct gw_conn *c, uint16_t msg_id, const struct jt808_lay_kv *kv, size_t n)
{
    struct jt808_header h;
    struct jt808_err e;
    up_header(c, &h, msg_id);
    if (jt808_lay_build(&up_msg, &h, kv, n, &e) != JT808_OK || gw_rsa_send(c, &up_msg, &e) != JT808_OK) {
        fprintf(stderr, "gateway %d: cannot build 0x%04X: %s (%s)\n", c->gw->id, msg_id, jt808_rc_text(e.rc),
                e.field ? e.field : "");
        return -1;
    }
    return 0;
}

/* 0x8800 for media_id (or 0x8003 for first_serial) listing ids, the list set in one
 * pass (a path per id would cost a walk and a copy of the list per id). */
static void ask_packages(struct gw_conn *c, uint16_t msg_id, uint32_t key, const uint16_t *ids, size_t n)
{
    size_t cap = msg_id == 0x8003 && c->version == JT808_V2019 ? GW_ASK_IDS_2019 : GW_ASK_IDS_2013;
    if (n > cap)
        n = cap; /* the rest at the next ask */
    uint32_t list[GW_ASK_IDS_2019 > GW_ASK_IDS_2013 ? GW_ASK_IDS_2019 : GW_ASK_IDS_2013];
    for (size_t i = 0; i < n; i++)
        list[i] = ids[i];
    struct jt808_header h;
    struct jt808_err e;
    up_header(c, &h, msg_id);
    struct jt808_lay_kv kv = {.path = msg_id == 0x8800 ? "media_id" : "orig_serial", .u = key};
    enum jt808_rc rc = jt808_lay_build(&up_msg, &h, &kv, 1, &e);
    if (rc == JT808_OK && !jt808_lay_list_set_u32(up_msg.lay, &up_msg, "ids", "id", list, n)) {
        rc = e.rc = JT808_E_VALUE;
        e.field = "body.ids";
    }
    /* encrypted for a terminal whose key the gateway has (platform.rsa encrypt): a
     * 2019 0x8003 of over 407 ids in encrypted packages; 0x8800 with no ids: received whole */
    if (rc == JT808_OK)
        rc = gw_rsa_send(c, &up_msg, &e);
    if (rc != JT808_OK)
        fprintf(stderr, "gateway %d: cannot build 0x%04X: %s (%s)\n", c->gw->id, msg_id, jt808_rc_text(e.rc),
                e.field ? e.field : "");
}

static void on_gap(const struct jt808_reasm_gap *gp, void *arg)
{
    struct gw_conn *c = arg;
    struct gw *g = c->gw;
    if (gp->msg_id == 0x0801 && gp->first_body && gp->first_len >= 4) {
        uint32_t media = (uint32_t)gp->first_body[0] << 24 | (uint32_t)gp->first_body[1] << 16 |
                         (uint32_t)gp->first_body[2] << 8 | gp->first_body[3];
        g->st->c[GWC_MEDIA_RETRY]++;
        ask_packages(c, 0x8800, media, gp->missing, gp->n_missing);
    } else {
        g->st->c[GWC_RESEND_REQUESTS]++;
        ask_packages(c, 0x8003, gp->first_serial, gp->missing, gp->n_missing);
    }
    if (g->cfg->verbose)
        fprintf(stderr, "gateway %d: %s: 0x%04X (serial %u) misses %zu of %u packages: asked (%u of %d)\n", g->id,
                c->phone, gp->msg_id, gp->first_serial, gp->n_missing, gp->total, gp->ask, GW_REASM_ASKS);
}

void gw_reasm_expire(struct gw_conn *c, uint64_t now_ms)
{
    size_t n = jt808_reasm_expire_ask(c->reasm, now_ms, GW_REASM_ASKS, on_gap, c);
    c->gw->st->c[GWC_REASM_EXPIRED] += n;
}

/* --- the last subpackaged message, for 0x0005 --------------------------------------- */

void gw_keep(struct gw_conn *c, struct jt808_pkgs *p)
{
    jt808_pkgs_free(c->kept);
    c->kept = p;
    if (p && p->bytes > GW_KEEP_MAX) {
        jt808_pkgs_free(p); /* too long to keep: a 0x0005 for it gets result 1 */
        c->kept = NULL;
    }
}

/* 0x0005: the listed packages again, as they were sent (each once, in the message's
 * order; an encrypted one with the same ciphertext); 0 when done, else the 0x8001
 * result. */
static int on_resend(struct gw_conn *c, const struct jt808_msg *m)
{
    static uint32_t ids[UINT16_MAX];
    static uint8_t want[(UINT16_MAX + 1) / 8];
    struct gw *g = c->gw;
    uint32_t orig = 0;
    size_t n = 0;
    const struct jt808_pkgs *k = c->kept;
    g->st->c[GWC_RESEND_ASKED]++;
    if (!jt808_lay_get_u32(m->lay, "orig_serial", &orig) ||
        !jt808_lay_list_get_u32(m->lay, "ids", "id", ids, UINT16_MAX, &n) || !k || k->first_serial != orig) {
        g->st->c[GWC_RESEND_UNKNOWN]++;
        return 1;
    }
    if (n > UINT16_MAX)
        n = UINT16_MAX; /* a list item is a WORD per id: no more than that can be named */
    memset(want, 0, sizeof want);
    for (size_t i = 0; i < n; i++)
        if (ids[i] <= UINT16_MAX)
            want[ids[i] / 8] |= (uint8_t)(1u << (ids[i] % 8));
    for (unsigned i = 1; i <= k->total; i++) {
        size_t len = 0;
        if ((n && !(want[i / 8] >> (i % 8) & 1u)) ||
            jt808_pkgs_frame(k, i, up_frame, sizeof up_frame, &len, NULL) != JT808_OK)
            continue;
        gw_conn_send(c, up_frame, len);
        g->st->c[GWC_PACKAGES_RESENT]++;
    }
    return 0;
}

/* --- answers ---------------------------------------------------------------------- */

int gw_up_message(struct gw_conn *c, const struct jt808_msg *m)
{
    struct gw *g = c->gw;
    switch (m->h.msg_id) {
    case 0x0004: {
        /* UTC, BCD[6] YYMMDDhhmmss, at the virtual clock's wall time */
        time_t t = (time_t)clock_unix_at(clock_now_us());
        struct tm tm;
        char s[16];
        gmtime_r(&t, &tm);
        snprintf(s, sizeof s, "%02d%02d%02d%02d%02d%02d", tm.tm_year % 100, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec);
        struct jt808_lay_kv kv = {.path = "time", .s = s};
        g->st->c[GWC_SERVER_TIME]++;
        return up_send(c, 0x8004, &kv, 1) < 0 ? 1 : -1;
    }
    case 0x0005:
        return on_resend(c, m) == 0 ? -1 : 1;
    case 0x0801: {
        uint32_t media = 0;
        jt808_lay_get_u32(m->lay, "media_id", &media);
        g->st->c[GWC_MEDIA_RECEIVED]++;
        ask_packages(c, 0x8800, media, NULL, 0);
        return -1;
    }
    case 0x0301: g->st->c[GWC_EVENTS]++; return 0;
    case 0x0302: g->st->c[GWC_QUESTION_ANSWERS]++; return 0;
    case 0x0303: g->st->c[GWC_INFO_ORDERS]++; return 0;
    case 0x0701: g->st->c[GWC_WAYBILLS]++; return 0;
    case 0x0702: g->st->c[GWC_DRIVER_IDS]++; return 0;
    case 0x0705: g->st->c[GWC_CAN_DATA]++; return 0;
    case 0x0800: g->st->c[GWC_MEDIA_EVENTS]++; return 0;
    case 0x0900: g->st->c[GWC_PASSTHROUGH]++; return 0;
    case 0x0901:
        g->st->c[GWC_COMPRESSED]++;
        if (m->lay && m->lay->lay->n >= 2 && m->lay->root[1].present)
            g->st->c[GWC_INFLATED_BYTES] += m->lay->root[1].u;
        return 0;
    case 0x0A00: g->st->c[GWC_RSA_KEYS]++; return 0;
    default:
        return -2;
    }
}
