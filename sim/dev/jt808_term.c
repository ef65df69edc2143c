/* JT/T 808 terminal behaviour.
 *
 *   connected --0x0100--> registering --0x8100 ok--> registered --0x0102--> authenticating
 *   authenticating --0x8001 ok--> authenticated: heartbeats 0x0002, reports 0x0200,
 *                                 backfill of buffered reports as 0x0704 type 1
 *   0x8100 refused            -> try again after the backoff
 *   0x8001 refusing 0x0102    -> forget the auth code and register again
 *   platform requests         -> 0x8104/0x0104, 0x8103/0x0001 (applied), 0x8201/0x0201,
 *                                0x8105, 0x8300/0x0001, 0x8108/0x0001 then 0x0108
 *   the others                -> jt808_term_more.c dispatches them: jt808_term_cmd.c
 *                                (0x8106/0x0104, 0x8107/0x0107, 0x8202 tracking, 0x8203,
 *                                0x8204, 0x8301-0x8304, 0x8400/0x8401, 0x8500/0x0500,
 *                                0x8700/0x0700, 0x8701, 0x8702/0x0702, 0x8900) and
 *                                jt808_term_media.c (0x8801/0x0805 then 0x0800 and 0x0801
 *                                in subpackages, 0x8800 and 0x8003 resends, 0x8802/0x0802,
 *                                0x8803, 0x8804, 0x8805) and jt808_term_area.c
 *                                (0x8600-0x8607 stored, 0x8608/0x0608; crossings raise
 *                                alarm bits 20/21 with item 0x12 in the next 0x0200)
 *   a platform message missing subpackages (2019) -> 0x0005 after 5 s, up to 3 times
 *   fleet option time_query (2019) -> 0x0004 after authenticating, 0x8004 settles it
 *                                (jt808_term_time.c)
 *   0x8A00 -> 0x0A00 and RSA-encrypted bodies both ways: jt808_term_rsa.c
 */
#include "sim/dev/jt808_term.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/dev/fleet.h"
#include "sim/dev/jt808_deviate.h"
#include "sim/dev/jt808_term_area.h"
#include "sim/dev/jt808_term_int.h"
#include "sim/proto/jt808.h"
#include "sim/proto/jt808_json.h"
#include "sim/proto/jt808_kinds.h"
#include "sim/proto/jt808_pkgs.h"
#include "sim/proto/jt808_rsa.h"


/* The terminal's number, counted from 1 across the whole scenario (the counts of
 * the fleets before it plus its place in its own): its terminal id, plate and IMEI
 * end in it, so the first terminal of a scenario is T000001, as a CSV of known
 * terminals lists it. */
static inline unsigned long long term_number(const struct term *t)
{
    return (unsigned long long)term_gindex(t) + 1;
}

/* The codec's message struct is large; terminals of one worker share one. */
struct jt808_msg jt_out;
static struct jt808_msg in_msg;
static uint8_t out_frame[JT808_MAX_FRAME];
static uint8_t in_scratch[JT808_MAX_FRAME];

enum jt808_version jt_version(const struct term *t)
{
    return cfg(t)->version == 2019 ? JT808_V2019 : JT808_V2013;
}

void jt_header(struct term *t, uint16_t msg_id)
{
    struct jt808_header *h = &jt_out.h;
    memset(h, 0, sizeof *h);
    h->msg_id = msg_id;
    h->version = jt_version(t);
    h->proto_version = h->version == JT808_V2019 ? 1 : 0;
    term_ident(t, h->phone, sizeof h->phone);
    h->serial = term_next_serial(t);
    jt_out.body = NULL;
    jt_out.body_bytes = 0;
}

/* The fault "corrupt": give a whole frame a wrong check byte, keeping it a
 * well-formed frame otherwise.  Returns the new length. */
static size_t jt_corrupt(struct term *t, uint8_t *f, size_t len, size_t cap)
{
    (void)t;
    (void)cap;
    if (len < 4)
        return len;
    size_t e = len - 2; /* last byte before the closing flag */
    if (f[e - 1] == 0x7D) {
        /* the check was escaped (0x7D or 0x7E): one plain byte instead */
        f[e - 1] = 0x55;
        f[e] = JT808_FLAG;
        return len - 1;
    }
    static const uint8_t masks[] = {0x55, 0x11, 0x22};
    for (size_t i = 0; i < sizeof masks; i++) {
        uint8_t c = f[e] ^ masks[i];
        if (c != 0x7D && c != 0x7E) {
            f[e] = c;
            break;
        }
    }
    return len;
}

/* A body too long for one encrypted frame, in packages each encrypted on its own
 * (jt808_term_rsa_encode): sent one after the other and kept for a 0x8003.  The
 * platform answers each package; a request is settled by the answer to its last,
 * which completes the message. */
static bool send_pkgs(struct term *t, struct jt808_pkgs *pk, bool request, uint64_t intended_us)
{
    static uint8_t frame[JT808_MAX_FRAME];
    if (request)
        term_expect_at(t, (uint16_t)(pk->first_serial + pk->total - 1), jt_out.h.msg_id, intended_us);
    bool ok = true;
    for (unsigned i = 1; ok && i <= pk->total; i++) {
        size_t flen = 0;
        ok = jt808_pkgs_frame(pk, i, frame, sizeof frame, &flen, NULL) == JT808_OK && term_send(t, frame, flen);
    }
    jt808_term_keep(t, pk);
    if (ok)
        ts(t)->last_tx_us = term_now();
    return ok; /* a drop already failed the request */
}

/* Encode jt_out and send it; a request is entered in the ledger, timed from
 * intended_us when it is a scheduled one (0: from now). */
bool jt_send_at(struct term *t, bool request, uint64_t intended_us)
{
    if (request && !term_can_request(t)) {
        term_count(t, JT808_C_SEND_HELD, 1);
        return false; /* TERM_MAX_PEND in flight: the caller refuses or waits */
    }
    size_t len = 0;
    struct jt808_err err;
    const struct jt808_fleet_cfg *f = cfg(t);
    int dev = -1;
    if (f->deviate_mask && jt808_deviate_chosen(t->index, f->deviate_share))
        dev = jt808_deviate_pick(jt_out.h.msg_id, f->deviate_mask, jt_out.h.serial);
    /* a frame that deviates goes in the clear: its bytes are the deviation */
    struct jt808_pkgs *pk = NULL;
    enum jt808_rc rc = dev >= 0 ? jt808_deviate_encode(&jt_out, (enum jt808_dev_kind)dev, out_frame,
                                                       sizeof out_frame, &len, &err)
                       : jt808_term_rsa_encode(t, out_frame, sizeof out_frame, &len, &pk)
                           ? JT808_OK
                           : jt808_encode(&jt_out, out_frame, sizeof out_frame, &len, &err);
    if (rc != JT808_OK) {
        fprintf(stderr, "jt808 terminal: cannot encode 0x%04X: %s (%s)\n", jt_out.h.msg_id,
                jt808_rc_text(err.rc), err.field ? err.field : "");
        return false;
    }
    if (pk)
        return send_pkgs(t, pk, request, intended_us);
    uint16_t serial = jt_out.h.serial, id = jt_out.h.msg_id;
    if (request)
        term_expect_at(t, serial, id, intended_us);
    if (!term_send(t, out_frame, len))
        return false; /* the drop already failed the request */
    if (dev >= 0) {
        term_count(t, JT808_C_DEV_FIRST + dev, 1);
        if (jt808_term_rsa_active(t))
            term_count(t, JT808_C_RSA_CLEAR, 1);
    }
    ts(t)->last_tx_us = term_now();
    return true;
}

static void forget_auth(struct term *t)
{
    free(ts(t)->auth);
    ts(t)->auth = NULL;
}

bool jt_send(struct term *t, bool request)
{
    return jt_send_at(t, request, 0);
}

void jt_terminal_id(const struct term *t, char *out, size_t cap)
{
    const struct jt808_fleet_cfg *f = cfg(t);
    int width = f->version == 2019 ? 12 : 7;
    int plen = (int)strlen(f->terminal_prefix);
    snprintf(out, cap, "%s%0*llu", f->terminal_prefix, width - plen > 0 ? width - plen : 1, term_number(t));
}

static void send_register(struct term *t)
{
    const struct jt808_fleet_cfg *f = cfg(t);
    jt_header(t, 0x0100);
    struct jt808_register *r = &jt_out.b.reg;
    memset(r, 0, sizeof *r);
    r->layout = f->version == 2019 ? JT808_REG_2019 : f->version == 2011 ? JT808_REG_2011 : JT808_REG_2013;
    r->province = f->province;
    r->city = f->city;
    snprintf(r->manufacturer, sizeof r->manufacturer, "%s", f->manufacturer);
    snprintf(r->model, sizeof r->model, "%s", f->model);
    /* terminal ids and plates number terminals across the whole scenario, so two
     * fleets with the same prefixes do not claim each other's vehicles */
    unsigned long long g = term_number(t);
    jt_terminal_id(t, r->terminal_id, sizeof r->terminal_id);
    r->plate_color = f->plate_color;
    snprintf(r->plate, sizeof r->plate, "%s%05llu", f->plate_prefix, g);
    term_set_state(t, TS_REGISTERING);
    jt_send(t, true);
}

static void send_auth(struct term *t)
{
    jt_header(t, 0x0102);
    struct jt808_auth *a = &jt_out.b.auth;
    memset(a, 0, sizeof *a);
    snprintf(a->auth_code, sizeof a->auth_code, "%s", ts(t)->auth ? ts(t)->auth : "");
    snprintf(a->imei, sizeof a->imei, "86%013llu", term_number(t));
    snprintf(a->sw_version, sizeof a->sw_version, "fleetsim-1.0");
    term_set_state(t, TS_AUTHENTICATING);
    jt_send(t, true);
}

void jt_general_reply(struct term *t, const struct jt808_header *req, uint8_t result)
{
    jt_header(t, 0x0001);
    jt_out.b.gen_resp.ack_serial = req->serial;
    jt_out.b.gen_resp.ack_id = req->msg_id;
    jt_out.b.gen_resp.result = result;
    if (jt_send(t, false))
        t->fleet->st->replies++;
}

/* --- position ------------------------------------------------------------------ */

static void walk(struct term *t)
{
    struct jt808_tstate *s = ts(t);
    if (strcmp(cfg(t)->location_model, "fixed") == 0)
        return;
    /* a vehicle-like random walk: heading drifts, speed drifts within 0..120 km/h */
    int turn = (int)(term_rand(t) % 61u) - 30;
    s->dir = (uint16_t)((s->dir + 360 + turn) % 360);
    int dv = (int)(term_rand(t) % 101u) - 50;
    int v = s->speed + dv;
    s->speed = (uint16_t)(v < 0 ? 0 : v > 1200 ? 1200 : v);
    /* about speed * 10 s, in 1e-6 degree (1e-6 deg ~ 0.11 m) */
    int step = s->speed * 25 / 10;
    static const int dx[8] = {0, 7, 10, 7, 0, -7, -10, -7}, dy[8] = {10, 7, 0, -7, -10, -7, 0, 7};
    int oct = ((s->dir + 22) / 45) % 8;
    s->lat += dy[oct] * step / 10;
    s->lon += dx[oct] * step / 10;
    s->mileage += (uint32_t)(s->speed / 36);
}

#define TERM_BATCH_MAX 18   /* locations per 0x0704: the body stays under 1023 bytes */

/* taken_us: the virtual time the position was taken (its report's time); items:
 * TERM_ITEMS of the caller's for the report's additional items. */
void jt_fill_location(struct term *t, struct jt808_location *loc, struct jt808_loc_item *items_out,
                          int32_t lat, int32_t lon, uint16_t speed, uint16_t dir, uint64_t taken_us)
{
    memset(loc, 0, sizeof *loc);
    loc->items = items_out;
    loc->alarm = ts(t)->alarm_bits;
    /* ACC on, positioned, and what the terminal's state adds (door, ...) */
    loc->status = 0x3u | (lat < 0 ? 0x4u : 0) | (lon < 0 ? 0x8u : 0) | ts(t)->status_bits;
    loc->lat = (uint32_t)(lat < 0 ? -lat : lat);
    loc->lon = (uint32_t)(lon < 0 ? -lon : lon);
    loc->altitude = 50;
    loc->speed = speed;
    loc->direction = dir;
    jt808_time_text(clock_unix_at(taken_us), loc->time);
    struct { uint8_t id, len; uint32_t v; } items[] = {
        {0x01, 4, ts(t)->mileage},
        {0x25, 4, 0},
        {0x2A, 2, 0},
        {0x30, 1, 20 + term_rand(t) % 12u},
        {0x31, 1, 6 + term_rand(t) % 10u},
    };
    _Static_assert(sizeof items / sizeof items[0] == TERM_ITEMS, "TERM_ITEMS");
    loc->n_items = TERM_ITEMS;
    for (int i = 0; i < loc->n_items; i++) {
        struct jt808_loc_item *it = &loc->items[i];
        it->id = items[i].id;
        it->len = items[i].len;
        it->value = items[i].v;
        it->known = true;
        for (int b = 0; b < it->len; b++)
            it->raw[b] = (uint8_t)(items[i].v >> (8 * (it->len - 1 - b)));
    }
}

static void blind_push(struct term *t, const struct jt808_blind_rec *r)
{
    struct jt808_tstate *s = ts(t);
    if (!s->blind) {
        s->blind = calloc(1, sizeof *s->blind);
        if (!s->blind) {
            term_count(t, JT808_C_BLIND_DROPPED, 1);
            return;
        }
    }
    struct jt808_blind *b = s->blind;
    if (b->count == JT808_BLIND_MAX) {
        b->head = (uint16_t)((b->head + 1) % JT808_BLIND_MAX);
        b->count--;
        term_count(t, JT808_C_BLIND_DROPPED, 1);
    }
    b->rec[(b->head + b->count) % JT808_BLIND_MAX] = *r;
    b->count++;
}

/* due_us: when the report was scheduled (latency counts from then). */
static void report(struct term *t, uint64_t now, uint64_t due_us)
{
    struct jt808_tstate *s = ts(t);
    walk(t);
    if (t->state != TS_AUTHENTICATED || !term_can_request(t)) {
        struct jt808_blind_rec r = {s->lat, s->lon, s->speed, s->dir, (uint32_t)(now / 1000000u)};
        blind_push(t, &r);
        return;
    }
    jt_header(t, 0x0200);
    static struct jt808_loc_item items[TERM_ITEMS + JT808_AREA_REPORT_ITEMS];
    /* areas crossed since the last report: alarm bits first, their items after ours */
    int crossed = jt808_term_area_check(t, now, jt_out.h.serial, items + TERM_ITEMS, JT808_AREA_REPORT_ITEMS);
    jt_fill_location(t, &jt_out.b.loc, items, s->lat, s->lon, s->speed, s->dir, now);
    jt_out.b.loc.n_items = (uint16_t)(jt_out.b.loc.n_items + crossed);
    /* remember it as taken, for a backfill should the connection go first */
    struct jt808_sent_rec *k = &s->sent[s->sent_next];
    k->serial = jt_out.h.serial;
    k->rec = (struct jt808_blind_rec){s->lat, s->lon, s->speed, s->dir, (uint32_t)(now / 1000000u)};
    s->sent_next = (uint8_t)((s->sent_next + 1) % JT808_SENT_KEEP);
    if (jt_send_at(t, true, due_us))
        t->fleet->st->reports++;
}

/* Send up to 32 buffered reports as one 0x0704 (type 1, blind-area backfill). */
static void backfill(struct term *t)
{
    struct jt808_blind *b = ts(t)->blind;
    if (!b || !b->count || t->state != TS_AUTHENTICATED || !term_can_request(t))
        return;
    jt_header(t, 0x0704);
    struct jt808_batch *bt = &jt_out.b.batch;
    bt->type = 1;
    /* keep the body under the 1023-byte limit: each location here is 28 + 21 bytes + 2 */
    uint16_t n = b->count < TERM_BATCH_MAX ? b->count : TERM_BATCH_MAX;
    static struct jt808_location locs[TERM_BATCH_MAX];
    static struct jt808_loc_item items[TERM_BATCH_MAX][TERM_ITEMS];
    bt->count = bt->n_locs = n;
    bt->locs = locs;
    for (uint16_t i = 0; i < n; i++) {
        const struct jt808_blind_rec *r = &b->rec[(b->head + i) % JT808_BLIND_MAX];
        jt_fill_location(t, &locs[i], items[i], r->lat, r->lon, r->speed, r->dir, (uint64_t)r->t_s * 1000000u);
    }
    if (!jt_send(t, true))
        return;
    b->head = (uint16_t)((b->head + n) % JT808_BLIND_MAX);
    b->count = (uint16_t)(b->count - n);
    term_count(t, JT808_C_BACKFILL_BATCHES, 1);
    term_count(t, JT808_C_BACKFILL_LOCATIONS, n);
}

/* --- platform requests ------------------------------------------------------------ */

void jt_fill_params(struct term *t, struct jt808_params *p)
{
    static struct jt808_param list[4 + JT808_TERM_KEPT_PARAMS];
    p->params = list;
    const struct jt808_tstate *s = ts(t);
    struct { uint32_t id; uint32_t v; } nums[] = {
        {0x0001, s->heartbeat_ms / 1000u},
        {0x0029, s->report_ms / 1000u},
        {0x0002, (uint32_t)(t->fleet->spec->ack_timeout_ms / 1000u)},
    };
    p->count = 0;
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        struct jt808_param *q = &p->params[p->count++];
        const struct jt808_param *k = jt808_term_param_kept(t, nums[i].id);
        if (k) { /* a value 0x8103 set wins over the fleet's */
            *q = *k;
            continue;
        }
        memset(q, 0, offsetof(struct jt808_param, str));
        q->id = nums[i].id;
        q->len = 4;
        q->type = JT808_PT_DWORD;
        q->num = nums[i].v;
        for (int b = 0; b < 4; b++)
            q->raw[b] = (uint8_t)(nums[i].v >> (24 - 8 * b));
    }
    struct jt808_param *q = &p->params[p->count++];
    const struct jt808_param *plate = jt808_term_param_kept(t, 0x0083);
    if (plate) {
        *q = *plate;
    } else {
        memset(q, 0, sizeof *q);
        q->id = 0x0083;
        q->type = JT808_PT_STRING;
        snprintf(q->str, sizeof q->str, "%s%05llu", cfg(t)->plate_prefix, term_number(t));
        q->len = (uint8_t)strlen(q->str);
        memcpy(q->raw, q->str, q->len);
    }
    /* the rest of what 0x8103 set, as it was set */
    int n = 0;
    const struct jt808_param *kept = jt808_term_params_kept(t, &n);
    for (int i = 0; i < n && p->count < 4 + JT808_TERM_KEPT_PARAMS; i++)
        if (kept[i].id != 0x0002 && kept[i].id != 0x0083)
            p->params[p->count++] = kept[i];
    p->n_params = p->count;
}

static void apply_params(struct term *t, const struct jt808_params *p)
{
    struct jt808_tstate *s = ts(t);
    for (int i = 0; i < p->n_params; i++) {
        const struct jt808_param *q = &p->params[i];
        if (q->type == JT808_PT_RAW)
            continue; /* a value whose length deviates is not taken */
        /* seconds from the platform, kept in ms: clamp rather than wrap */
        uint64_t ms = (uint64_t)q->num * 1000u;
        uint32_t ms32 = ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
        if (q->id == 0x0001 && q->num > 0)
            s->heartbeat_ms = ms32;
        else if (q->id == 0x0029 && q->num > 0) {
            s->report_ms = ms32;
            s->next_report_us = term_now() + s->report_ms * 1000ull;
            term_wake_at(t, s->next_report_us);
        }
    }
}

static void on_request(struct term *t, const struct jt808_msg *m)
{
    struct jt808_tstate *s = ts(t);
    t->fleet->st->commands++;
    switch (m->h.msg_id) {
    case 0x8104:
        jt_header(t, 0x0104);
        jt_out.b.params_resp.ack_serial = m->h.serial;
        jt_fill_params(t, &jt_out.b.params_resp.p);
        if (jt_send(t, false))
            t->fleet->st->replies++;
        break;
    case 0x8103:
        apply_params(t, &m->b.params);
        jt808_term_params_keep(t, &m->b.params);
        jt_general_reply(t, &m->h, 0);
        break;
    case 0x8201:
        jt_header(t, 0x0201);
        jt_out.b.loc_resp.ack_serial = m->h.serial;
        static struct jt808_loc_item items[TERM_ITEMS];
        jt_fill_location(t, &jt_out.b.loc_resp.loc, items, s->lat, s->lon, s->speed, s->dir, term_now());
        if (jt_send(t, false))
            t->fleet->st->replies++;
        break;
    case 0x8105:
    case 0x8300:
        jt_general_reply(t, &m->h, 0);
        break;
    case 0x8108: {
        uint8_t type = m->b.upgrade.type;
        /* the whole package arrived, or the upgrade fails */
        uint8_t result = m->b.upgrade.pkg_bytes == m->b.upgrade.pkg_len ? 0 : 1;
        term_count(t, result == 0 ? JT808_C_UPGRADES : JT808_C_UPGRADES_FAILED, 1);
        jt_general_reply(t, &m->h, 0);
        if (conn_open(&t->conn) && term_can_request(t)) {
            jt_header(t, 0x0108);
            jt_out.b.upgrade_result.type = type;
            jt_out.b.upgrade_result.result = result;
            jt_send(t, true);
        }
        break;
    }
    default:
        if (!jt808_term_more(t, m))
            jt_general_reply(t, &m->h, 3); /* unsupported */
        break;
    }
}

static void start_traffic(struct term *t)
{
    struct jt808_tstate *s = ts(t);
    uint64_t now = term_now();
    if (s->report_ms)
        s->next_report_us = now + (uint64_t)(term_rand(t) % ((uint64_t)s->report_ms + 1u)) * 1000u;
    term_wake_at(t, s->next_report_us);
    term_wake_at(t, now + s->heartbeat_ms * 1000ull);
    if (jt_more(t, false))
        term_wake_at(t, now + 1); /* tracking, uploads: their schedule again after a reconnect */
    jt808_term_time_query(t);
    backfill(t);
}

static void on_platform_ack(struct term *t, const struct jt808_msg *m)
{
    const struct jt808_gen_resp *g = &m->b.gen_resp;
    bool ok = g->result == 0 || g->result == 4;
    enum ledger_why why = g->result == 3 ? LEDGER_UNSUPPORTED : LEDGER_REFUSED;
    uint64_t sent = 0;
    uint16_t id = 0;
    if (!term_settle(t, g->ack_serial, ok, why, &id, &sent))
        return; /* an answer to nothing in flight: late after a timeout */
    struct fleet_stats *st = t->fleet->st;
    switch (id) {
    case 0x0102:
        if (ok) {
            term_set_state(t, TS_AUTHENTICATED);
            start_traffic(t);
        } else {
            /* refused: the auth code is stale; register again */
            term_count(t, JT808_C_AUTH_REFUSED, 1);
            forget_auth(t);
            send_register(t);
        }
        break;
    case 0x0200:
        if (ok) {
            jt808_term_area_acked(t, g->ack_serial);
            st->reports_acked++;
            hist_record(&st->report_latency, clock_wall_since_us(sent));
        }
        break;
    case 0x0704:
        backfill(t);
        break;
    case 0x0003:
        term_drop(t, 0, true);
        break;
    case 0x0100:
        /* a platform that answers a registration with 0x8001 refuses it (bad
         * message, or its own failure): try again after the backoff */
        term_count(t, JT808_C_REG_REFUSED, 1);
        term_drop(t, 0, false);
        break;
    default:
        break;
    }
}

static void on_register_resp(struct term *t, const struct jt808_msg *m)
{
    const struct jt808_register_resp *r = &m->b.reg_resp;
    uint16_t id = 0;
    if (!term_settle(t, r->ack_serial, r->result == 0, LEDGER_REFUSED, &id, NULL) || id != 0x0100)
        return;
    if (r->result != 0 || !r->auth_code[0]) {
        term_count(t, JT808_C_REG_REFUSED, 1);
        /* come back later: a refused terminal retries after the backoff */
        term_drop(t, 0, false);
        return;
    }
    forget_auth(t);
    ts(t)->auth = strdup(r->auth_code);
    if (!ts(t)->auth) {
        term_drop(t, 0, false);
        return;
    }
    term_set_state(t, TS_REGISTERED);
    send_auth(t);
}

static void handle(struct term *t, const struct jt808_msg *m)
{
    switch (m->h.msg_id) {
    case 0x8001:
        on_platform_ack(t, m);
        break;
    case 0x8100:
        on_register_resp(t, m);
        break;
    case 0x8004:
        jt808_term_time_answer(t, m); /* an answer (to 0x0004), not a request */
        break;
    default:
        on_request(t, m);
        break;
    }
}

/* A frame from the platform this terminal cannot take: counted, and an event
 * for the live statistics with the frame and why. */
static void bad_frame(struct term *t, const uint8_t *frame, size_t len, const struct jt808_err *e, const char *what)
{
    t->fleet->st->decode_errors++;
    if (e)
        term_event(t, LEV_DECODE_ERROR, frame, len, "%s: %s at byte %zu (%s)", what, jt808_rc_text(e->rc),
                   e->offset, e->field ? e->field : "");
    else
        term_event(t, LEV_DECODE_ERROR, frame, len, "%s", what);
}

/* A subpackage from the platform (a long 0x8108): each one is acknowledged,
 * except the one that completes the message, whose answer is the message's. */
static void on_fragment(struct term *t, const struct jt808_msg *m)
{
    struct jt808_tstate *s = ts(t);
    if (!s->reasm) {
        s->reasm = calloc(1, sizeof *s->reasm);
        if (!s->reasm) {
            jt_general_reply(t, &m->h, 1);
            return;
        }
        jt808_reasm_init(s->reasm, JT808_TERM_REASM_MEM, 60000);
    }
    bool done = false;
    uint8_t *whole = NULL;
    size_t whole_len = 0;
    struct jt808_err err;
    if (jt808_reasm_feed(s->reasm, &m->h, m->body, m->body_bytes, term_now() / 1000u, &done, &whole,
                         &whole_len, &err) != JT808_OK) {
        bad_frame(t, m->body, m->body_bytes, &err, "a subpackage (body) that does not fit its message");
        jt_general_reply(t, &m->h, 2);
        return;
    }
    if (!done) {
        jt_general_reply(t, &m->h, 0);
        /* 2019: ask for what is still missing if nothing comes for a while (0x0005) */
        jt808_term_more_reasm_pending(t, term_now() + JT808_RESEND_ASK_MS * 1000ull);
        return;
    }
    /* its packages were decrypted as they came (each on its own: jt808_pkgs.h) */
    static struct jt808_msg full;
    if (jt808_reasm_decode(s->reasm, &m->h, whole, whole_len, &full, &err) != JT808_OK) {
        bad_frame(t, whole, whole_len, &err, "a reassembled message (body)");
        jt_general_reply(t, &m->h, 2);
    } else {
        handle(t, &full);
    }
    full.body = NULL; /* it pointed into whole */
    free(whole);
    /* the reassembly state stays: another message may be half way in */
}

static long jt_on_data(struct term *t, const uint8_t *buf, size_t n)
{
    size_t off = 0;
    while (off < n && conn_open(&t->conn)) {
        size_t start = 0, len = 0, skipped = 0;
        size_t used = jt808_frame_find(buf + off, n - off, &start, &len, &skipped);
        size_t junk = used ? start : skipped;
        if (junk) {
            /* not JT/T 808 (an HTTP server, say): a bad frame, not a silence */
            t->fleet->st->dc[JT808_C_GARBAGE_BYTES] += junk;
            bad_frame(t, buf + off, junk, NULL, "bytes outside any 0x7e frame (not JT/T 808)");
        }
        if (!used) {
            off += skipped;
            break;
        }
        struct jt808_err err;
        t->fleet->st->frames_in++;
        static uint8_t plain[JT808_MAX_BODY];
        const uint8_t *frame = buf + off + start;
        if (jt808_decode(frame, len, in_scratch, sizeof in_scratch, &in_msg, &err) != JT808_OK) {
            bad_frame(t, frame, len, &err, "a frame");
        } else if (in_msg.h.encryption != 0 && in_msg.h.encryption != JT808_ENC_RSA) {
            /* body attribute bits 10-12 other than RSA (bit 10 alone) are reserved: a body
             * encrypted some unknown way cannot be read */
            bad_frame(t, frame, len, NULL, "a body encrypted in a reserved way (body attribute bits 10-12)");
            jt_general_reply(t, &in_msg.h, 2);
        } else if (in_msg.h.encryption == JT808_ENC_RSA &&
                   !(in_msg.h.subpackage ? jt808_term_rsa_open_package(t, &in_msg, plain, sizeof plain)
                                         : jt808_term_rsa_open(t, &in_msg, in_msg.body, in_msg.body_bytes, plain,
                                                               sizeof plain))) {
            /* not for this terminal's key, or damaged: "bad message", so the platform knows */
            bad_frame(t, frame, len, NULL, "an RSA body this terminal cannot decrypt (not for its key, or damaged)");
            jt_general_reply(t, &in_msg.h, 2);
        } else if (in_msg.h.subpackage) {
            on_fragment(t, &in_msg);
        } else {
            handle(t, &in_msg);
        }
        off += used;
    }
    return (long)off;
}

static void jt_on_connected(struct term *t)
{
    struct jt808_tstate *s = ts(t);
    const struct jt808_fleet_cfg *f = cfg(t);
    if (!s->heartbeat_ms) {
        /* first start: parameters and position from the scenario */
        s->heartbeat_ms = f->heartbeat_ms > UINT32_MAX ? UINT32_MAX : (uint32_t)f->heartbeat_ms;
        s->report_ms = f->report_every_ms > UINT32_MAX ? UINT32_MAX : (uint32_t)f->report_every_ms;
        s->lat = (int32_t)(f->lat * 1e6) + (int32_t)(term_rand(t) % 20001u) - 10000;
        s->lon = (int32_t)(f->lon * 1e6) + (int32_t)(term_rand(t) % 20001u) - 10000;
        s->dir = (uint16_t)(term_rand(t) % 360u);
        s->speed = (uint16_t)(term_rand(t) % 800u);
    }
    if (s->auth)
        send_auth(t);
    else
        send_register(t);
}

static uint64_t jt_on_tick(struct term *t, uint64_t now)
{
    struct jt808_tstate *s = ts(t);
    if (term_draining(t))
        return 0;
    if (s->report_ms && s->next_report_us && now >= s->next_report_us && term_paused(t)) {
        /* paused: the positions that fall due are not sent, and the schedule keeps
         * its phase, so nothing is late when the fleet resumes */
        s->next_report_us = term_next_due(s->next_report_us, s->report_ms * 1000ull, now);
    } else if (s->report_ms && s->next_report_us && now >= s->next_report_us) {
        uint64_t due = s->next_report_us;
        /* lateness within one turn of the timer wheel is its resolution, not a stall */
        uint64_t slack = term_tick_us(t);
        report(t, now, now - due <= slack ? now : due);
        /* keep the schedule: one period after this one was due, on the terminal's
         * own phase after a stall too */
        s->next_report_us = term_next_due(due, s->report_ms * 1000ull, now);
    }
    if (t->state == TS_AUTHENTICATED && s->heartbeat_ms &&
        now >= s->last_tx_us + s->heartbeat_ms * 1000ull && term_can_request(t)) {
        jt_header(t, 0x0002);
        if (jt_send(t, true))
            term_count(t, JT808_C_HEARTBEATS, 1);
    }
    uint64_t next = s->heartbeat_ms ? s->last_tx_us + s->heartbeat_ms * 1000ull : 0;
    if (next <= now)
        next = now + (s->heartbeat_ms ? s->heartbeat_ms * 1000ull : 1000000u);
    if (s->report_ms && s->next_report_us && s->next_report_us < next)
        next = s->next_report_us;
    uint64_t more = jt808_term_more_tick(t, now);
    if (more && more < next)
        next = more;
    return next;
}

static void jt_on_timeout(struct term *t, uint16_t msg_id)
{
    /* No answer to the handshake: start over on a new connection. */
    if (msg_id == 0x0100 || msg_id == 0x0102)
        term_drop(t, 0, false);
    else if (msg_id == 0x0003)
        term_drop(t, 0, true); /* unanswered goodbye: leave all the same */
    else
        jt808_term_more_timeout(t, msg_id);
}

static void jt_on_disconnected(struct term *t)
{
    /* Reports that were never acknowledged are kept for the blind-area backfill;
     * their ledger entries fail (connection lost) and the backfill is a new message. */
    struct jt808_tstate *s = ts(t);
    uint64_t now = term_now();
    jt808_term_rsa_forget(t); /* a key exchange holds for its connection */
    jt808_term_area_forget(t); /* and the packages of its last 0x0608 */
    for (int i = 0; i < t->npend; i++) {
        if (t->pend[i].kind != 0x0200)
            continue;
        /* as it was taken when remembered; else (more in flight than remembered)
         * the current position at the time it was sent */
        struct jt808_blind_rec r = {s->lat, s->lon, s->speed, s->dir, (uint32_t)(t->pend[i].sent_us / 1000000u)};
        for (int k = 0; k < JT808_SENT_KEEP; k++)
            if (s->sent[k].serial == t->pend[i].serial)
                r = s->sent[k].rec;
        blind_push(t, &r);
    }
    /* While offline the terminal keeps taking positions on schedule. */
    if (s->report_ms && !term_draining(t)) {
        if (!s->next_report_us || s->next_report_us < now)
            s->next_report_us = now + s->report_ms * 1000ull;
        term_wake_at(t, s->next_report_us);
    }
}

static void jt_unregister(struct term *t)
{
    if (t->state != TS_AUTHENTICATED || !term_can_request(t))
        return;
    jt_header(t, 0x0003);
    forget_auth(t);
    term_count(t, JT808_C_UNREGISTERED, 1);
    jt_send(t, true);
}

static void jt_drain(struct term *t)
{
    ts(t)->next_report_us = 0;
}

size_t jt808_term_held(struct term *t)
{
    const struct jt808_tstate *s = ts(t);
    size_t n = jt808_term_more_held(t);
    if (s->blind)
        n += sizeof *s->blind;
    if (s->auth)
        n += strlen(s->auth) + 1;
    if (s->reasm)
        n += sizeof *s->reasm + s->reasm->mem_used;
    return n;
}

static void jt_state_free(struct term *t)
{
    struct jt808_tstate *s = ts(t);
    jt808_term_more_free(t);
    free(s->blind);
    free(s->auth);
    if (s->reasm) {
        jt808_reasm_free(s->reasm);
        free(s->reasm);
    }
}

/* --trace: every whole frame in the bytes, decoded as `fleetsim decode` shows it. */
static size_t jt_describe(const uint8_t *buf, size_t n, char *out, size_t cap)
{
    static struct jt808_msg m;
    static uint8_t scratch[JT808_MAX_FRAME];
    size_t len = 0, off = 0;
    if (cap)
        out[0] = '\0';
    while (off < n && len + 1 < cap) {
        size_t start = 0, flen = 0, skipped = 0;
        size_t used = jt808_frame_find(buf + off, n - off, &start, &flen, &skipped);
        if (!used)
            break;
        struct jt808_err err;
        char *text = NULL;
        if (jt808_decode(buf + off + start, flen, scratch, sizeof scratch, &m, &err) == JT808_OK) {
            cJSON *j = jt808_to_json(&m);
            text = j ? cJSON_PrintUnformatted(j) : NULL;
            cJSON_Delete(j);
        }
        int k;
        if (text)
            k = snprintf(out + len, cap - len, "%s%s", len ? " " : "", text);
        else
            k = snprintf(out + len, cap - len, "%s{\"error\":\"%s at byte %zu\"}", len ? " " : "",
                         jt808_rc_text(err.rc), err.offset);
        free(text);
        len = k > 0 && (size_t)k < cap - len ? len + (size_t)k : cap - 1;
        off += used;
    }
    return len;
}

#define C(id, n, d) {"terminal." n, id, d}
static const struct stats_counter jt_counters[] = {
    C(JT808_C_HEARTBEATS, "heartbeats", "0x0002 heartbeats sent"),
    C(JT808_C_BACKFILL_BATCHES, "backfill_batches", "0x0704 blind-area batches sent"),
    C(JT808_C_BACKFILL_LOCATIONS, "backfill_locations", "locations carried by them"),
    C(JT808_C_BLIND_DROPPED, "blind_dropped", "reports lost because the blind-area buffer was full"),
    C(JT808_C_REG_REFUSED, "reg_refused", "registrations the platform refused"),
    C(JT808_C_AUTH_REFUSED, "auth_refused", "authentications the platform refused"),
    C(JT808_C_UNREGISTERED, "unregistered", "0x0003 unregistrations sent"),
    C(JT808_C_GARBAGE_BYTES, "garbage_bytes",
      "bytes from the platform outside any 0x7E frame (each run of them is a decode error)"),
    C(JT808_C_TRACKING_REPORTS, "tracking_reports", "0x0200 sent for a temporary tracking (0x8202)"),
    C(JT808_C_MEDIA_SHOTS, "media_shots", "pictures taken (0x8801)"),
    C(JT808_C_MEDIA_PACKAGES, "media_packages", "0x0801 multimedia packages sent (first time)"),
    C(JT808_C_MEDIA_RESENT, "media_resent", "packages sent again on a 0x8800 list or a 0x8003"),
    C(JT808_C_RESEND_ASKED, "resend_asked", "0x0005 sent: a subpackaged platform message missing packages"),
    C(JT808_C_TIME_QUERIES, "time_queries", "0x0004 server time queries sent (fleet option time_query)"),
    C(JT808_C_TIME_ANSWERS, "time_answers", "0x8004 server times received answering them"),
    C(JT808_C_TIME_OFF, "time_off",
      "0x8004 whose time is no valid date, or lies outside the query's send and answer times"),
    C(JT808_C_REQ_REFUSED, "requests_refused",
      "platform requests refused (result 1): the terminal's queue of shots and uploads (0x8801, 0x8803, "
      "0x8805) or its requests in flight (0x8702) full"),
    C(JT808_C_AREA_SETS, "area_sets", "area and route sets applied (0x8600, 0x8602, 0x8604, 0x8606)"),
    C(JT808_C_AREA_DELETES, "area_deletes", "area and route deletes applied (0x8601, 0x8603, 0x8605, 0x8607)"),
    C(JT808_C_AREA_REFUSED, "area_refused",
      "area and route sets refused: over the store's caps (result 1) or a bad item (result 2)"),
    C(JT808_C_AREA_ALARMS, "area_alarms",
      "area and route crossings reported to the platform (alarm bit 20/21 with item 0x12)"),
#define DEV(id, counter, name, text, sent, accepted) \
    C(JT808_C_DEV_FIRST + JT808_DEV_##id, "dev_" #counter, "frames sent with " sent),
    JT808_DEV_KINDS(DEV)
#undef DEV
    C(JT808_C_RSA_ENCRYPTED, "rsa_encrypted",
      "bodies sent RSA-encrypted for the platform's 0x8A00 key (fleet option rsa after-exchange)"),
    C(JT808_C_RSA_DECRYPTED, "rsa_decrypted", "RSA-encrypted platform bodies decrypted with the terminal's key"),
    C(JT808_C_RSA_ERRORS, "rsa_errors",
      "RSA failures: platform bodies that do not decrypt (answered 0x0001 result 2), 0x8A00 keys refused"),
    C(JT808_C_RSA_CLEAR, "rsa_clear",
      "frames sent in the clear after the key exchange because they deviate on purpose (fleet option "
      "deviate: their bytes are the deviation); a body over 819 bytes goes encrypted package by package"),
    C(JT808_C_SEND_HELD, "send_held",
      "requests not sent because 8 of the terminal's were in flight already (an 0x0108, a tracking 0x0200, "
      "an 0x0004, an 0x0702 answer; the caller refuses or leaves it)"),
    C(JT808_C_UPGRADES, "upgrades",
      "0x8108 upgrade packages received whole (in one frame or reassembled from subpackages): 0x0108 result 0"),
    C(JT808_C_UPGRADES_FAILED, "upgrades_failed",
      "0x8108 whose package holds fewer bytes than its length field says: 0x0108 result 1"),
    C(JT808_C_PKGS_RESENT, "pkgs_resent",
      "packages of the last subpackaged 0x0608, or of a body too long for one encrypted frame, sent again, as "
      "they were, on a 0x8003"),
};
_Static_assert(sizeof jt_counters / sizeof jt_counters[0] == JT808_C__COUNT, "jt_counters");
/* all 32 slots are taken: a new counter or deviation kind needs STATS_DIALECT_COUNTERS raised */
_Static_assert(JT808_C__COUNT <= STATS_DIALECT_COUNTERS, "fleet_stats.dc has a slot for every JT/T 808 counter");
#undef C

const struct dialect jt808_dialect = {
    .name = "jt808",
    .io = DIALECT_IO_SOCKET,
    .state_size = sizeof(struct jt808_tstate),
    .state_free = jt_state_free,
    .on_connected = jt_on_connected,
    .on_data = jt_on_data,
    .on_tick = jt_on_tick,
    .on_timeout = jt_on_timeout,
    .on_disconnected = jt_on_disconnected,
    .unregister = jt_unregister,
    .drain = jt_drain,
    .corrupt = jt_corrupt,
    .describe = jt_describe,
    .counters = jt_counters,
    .n_counters = (int)(sizeof jt_counters / sizeof jt_counters[0]),
    .cmds = jt808_kinds,
    .n_cmds = JT808_N_KINDS,
};
