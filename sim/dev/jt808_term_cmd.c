/* JT/T 808 terminal: the platform's commands beyond the foundation's (see the
 * request/reply table in README.md, "JT/T 808 terminals").
 *
 *   0x8106 -> 0x0104 with the asked ids it knows     0x8107 -> 0x0107 properties
 *   0x8202 -> 0x0001, then 0x0200 every interval for the validity (virtual clock)
 *   0x8203 -> 0x0001, the confirmed bits cleared from the alarm word
 *   0x8204, 0x8304, 0x8400, 0x8401, 0x8701, 0x8900 -> 0x0001
 *   0x8301 -> 0x0001, then (update, append, modify) 0x0301 reporting the first event set
 *   0x8302 -> 0x0001, then 0x0302 with the first answer
 *   0x8303 -> 0x0001, then (update, append, modify) 0x0303 ordering the first item set
 *   (the driver of a simulated terminal acts at once: picks the first of what it is offered)
 *   0x8500 -> 0x0500, door bit (status bit 12) as the control says
 *   0x8700 -> 0x0700 with a GB/T 19056 data block  0x8702 -> 0x0702 driver identity
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/dev/jt808_term_int.h"
#include "sim/proto/jt808_layout.h"

#define DOOR_LOCKED (1u << 12) /* status bit 12: doors locked */

/* Only while tracking (0x8202 with an interval). */
struct jt808_track {
    uint64_t every_us;
    uint64_t next_us;   /* the next report */
    uint64_t until_us;  /* the end of the validity: no report after it */
};

static bool send_reply(struct term *t)
{
    if (!jt_send(t, false))
        return false;
    jt_count_reply(t);
    return true;
}

/* --- 0x8106 / 0x8107 --------------------------------------------------------------- */

static void query_params(struct term *t, const struct jt808_msg *m)
{
    static struct jt808_param asked[JT808_MAX_QUERY_IDS];
    struct jt808_params all;
    jt_fill_params(t, &all);
    size_t n = 0, k = 0;
    jt808_lay_list_len(m->lay, "ids", &n);
    char path[32];
    for (size_t i = 0; i < n && k < JT808_MAX_QUERY_IDS; i++) {
        uint32_t id = 0;
        snprintf(path, sizeof path, "ids[%zu].id", i);
        if (!jt808_lay_get_u32(m->lay, path, &id))
            continue;
        for (int j = 0; j < all.n_params; j++)
            if (all.params[j].id == id) { /* ids it does not know are left out */
                asked[k++] = all.params[j];
                break;
            }
    }
    jt_header(t, 0x0104);
    jt_out.b.params_resp.ack_serial = m->h.serial;
    jt_out.b.params_resp.p.params = asked;
    jt_out.b.params_resp.p.count = jt_out.b.params_resp.p.n_params = (uint8_t)k;
    send_reply(t);
}

static void properties(struct term *t, const struct jt808_msg *m)
{
    (void)m;
    const struct jt808_fleet_cfg *f = cfg(t);
    struct jt808_lay_body *b = jt_lay_start(t, 0x0107);
    if (!b)
        return;
    char tid[31], iccid[21];
    jt_terminal_id(t, tid, sizeof tid);
    snprintf(iccid, sizeof iccid, "8986%016u", term_gindex(t) + 1);
    /* the registration's own fields, cut to the edition's sizes by the codec */
    const struct jt808_lay_kv kv[] = {
        {.path = "type", .u = 0x0004}, /* bit 2: freight vehicle */
        {.path = "manufacturer", .s = f->manufacturer}, {.path = "model", .s = f->model},
        {.path = "terminal_id", .s = tid}, {.path = "iccid", .s = iccid},
        {.path = "hw_version", .s = "FS-HW1"}, {.path = "fw_version", .s = "fleetsim-1.0"},
        {.path = "gnss", .u = 0x03}, /* GPS and BeiDou */
        {.path = "comm", .u = 0x01}, /* GPRS */
    };
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) {
        bool ok = kv[i].s ? jt808_lay_set_str(b, &jt_out, kv[i].path, kv[i].s)
                          : jt808_lay_set_u32(b, &jt_out, kv[i].path, kv[i].u);
        if (!ok)
            return;
    }
    send_reply(t);
}

/* --- 0x8202 temporary tracking ------------------------------------------------------ */

static void track_stop(struct jt808_more *x)
{
    free(x->track);
    x->track = NULL;
}

static void tracking(struct term *t, const struct jt808_msg *m)
{
    uint32_t every = 0, validity = 0;
    jt808_lay_get_u32(m->lay, "interval", &every);
    jt808_lay_get_u32(m->lay, "duration", &validity);
    struct jt808_more *x = jt_more(t, every != 0);
    if (every == 0) { /* interval 0: stop tracking */
        if (x)
            track_stop(x);
        jt_general_reply(t, &m->h, 0);
        return;
    }
    if (!x || (!x->track && !(x->track = calloc(1, sizeof *x->track)))) {
        jt_general_reply(t, &m->h, 1);
        return;
    }
    uint64_t now = term_now();
    x->track->every_us = every * 1000000ull;
    x->track->next_us = now + x->track->every_us;
    x->track->until_us = now + validity * 1000000ull;
    jt_general_reply(t, &m->h, 0);
    term_wake_at(t, x->track->next_us);
}

uint64_t jt808_term_cmd_tick(struct term *t, uint64_t now)
{
    struct jt808_more *x = jt_more(t, false);
    struct jt808_track *k = x ? x->track : NULL;
    if (!k)
        return 0;
    if (now >= k->next_us) {
        if (k->next_us > k->until_us) {
            track_stop(x); /* the validity is over */
            return 0;
        }
        if (t->state == TS_AUTHENTICATED) { /* a full ledger: jt_send_at counts it held */
            const struct jt808_tstate *s = ts(t);
            static struct jt808_loc_item items[TERM_ITEMS];
            jt_header(t, 0x0200);
            jt_fill_location(t, &jt_out.b.loc, items, s->lat, s->lon, s->speed, s->dir, now);
            if (jt_send_at(t, true, k->next_us)) {
                t->fleet->st->reports++;
                term_count(t, JT808_C_TRACKING_REPORTS, 1);
            }
        }
        k->next_us = term_next_due(k->next_us, k->every_us, now); /* a long stall: skip, don't burst */
        if (k->next_us > k->until_us) {
            track_stop(x);
            return 0;
        }
    }
    return k->next_us;
}

size_t jt808_term_cmd_held(const struct jt808_more *x)
{
    return x->track ? sizeof *x->track : 0;
}

void jt808_term_cmd_free(struct jt808_more *x)
{
    track_stop(x);
    free(x->params);
    x->params = NULL;
    x->n_params = 0;
}

/* --- parameters 0x8103 set ------------------------------------------------------------- */

void jt808_term_params_keep(struct term *t, const struct jt808_params *p)
{
    struct jt808_more *x = NULL;
    for (int i = 0; i < p->n_params; i++) {
        const struct jt808_param *q = &p->params[i];
        if (q->id == 0x0001 || q->id == 0x0029)
            continue; /* the state's own (jt808_term.c) */
        if (!x && !(x = jt_more(t, true)))
            return;
        int k = 0;
        while (k < x->n_params && x->params[k].id != q->id)
            k++;
        if (k == x->n_params) {
            if (x->n_params >= JT808_TERM_KEPT_PARAMS)
                continue;
            struct jt808_param *np = realloc(x->params, (size_t)(x->n_params + 1) * sizeof *np);
            if (!np)
                return;
            x->params = np;
            x->n_params++;
        }
        x->params[k] = *q;
    }
}

const struct jt808_param *jt808_term_param_kept(struct term *t, uint32_t id)
{
    struct jt808_more *x = jt_more(t, false);
    for (int k = 0; x && k < x->n_params; k++)
        if (x->params[k].id == id)
            return &x->params[k];
    return NULL;
}

const struct jt808_param *jt808_term_params_kept(struct term *t, int *n)
{
    struct jt808_more *x = jt_more(t, false);
    *n = x ? x->n_params : 0;
    return x ? x->params : NULL;
}

/* --- settings kept for later messages ------------------------------------------------ */

/* 0x8301 events / 0x8303 menu: type 0 delete all, 1 update (replace), 2 append,
 * 3 modify, 4 delete the listed ones (events only). */
static void set_ids(uint8_t bits[32], const struct jt808_lay_body *b, const char *list,
                    const char *field)
{
    uint32_t type = 0;
    size_t n = 0;
    jt808_lay_get_u32(b, "type", &type);
    jt808_lay_list_len(b, list, &n);
    if (type == 0 || type == 1)
        memset(bits, 0, 32);
    char path[40];
    for (size_t i = 0; i < n; i++) {
        uint32_t id = 0;
        snprintf(path, sizeof path, "%s[%zu].%s", list, i, field);
        if (!jt808_lay_get_u32(b, path, &id) || id > 255)
            continue;
        if (type == 4)
            bits[id / 8] &= (uint8_t)~(1u << (id % 8));
        else if (type != 0)
            bits[id / 8] |= (uint8_t)(1u << (id % 8));
    }
}

static void question(struct term *t, const struct jt808_msg *m)
{
    uint32_t answer = 0;
    bool have = jt808_lay_get_u32(m->lay, "answers[0].id", &answer);
    jt_general_reply(t, &m->h, 0);
    if (!have)
        return; /* no answer to choose */
    struct jt808_lay_body *b = jt_lay_start(t, 0x0302);
    if (b && jt808_lay_set_u32(b, &jt_out, "ack_serial", m->h.serial) &&
        jt808_lay_set_u32(b, &jt_out, "answer_id", answer))
        send_reply(t);
}

/* The driver reports the first event 0x8301 set (0x0301), or orders the first
 * menu item 0x8303 set (0x0303, flag 1): only for the set types that leave it
 * there (1 update, 2 append, 3 modify), not for deletes (0, 4). */
static void driver_picks(struct term *t, const struct jt808_msg *m)
{
    bool events = m->h.msg_id == 0x8301;
    uint32_t type = 0, id = 0;
    jt808_lay_get_u32(m->lay, "type", &type);
    if (type < 1 || type > 3 || !jt808_lay_get_u32(m->lay, events ? "events[0].id" : "items[0].type", &id))
        return;
    struct jt808_lay_body *b = jt_lay_start(t, events ? 0x0301 : 0x0303);
    bool ok = b && (events ? jt808_lay_set_u32(b, &jt_out, "event_id", id)
                           : jt808_lay_set_u32(b, &jt_out, "type", id) && jt808_lay_set_u32(b, &jt_out, "flag", 1));
    if (ok)
        jt_send(t, false); /* a report of the driver's, not an answer: the platform's 0x8001 settles nothing */
}

/* --- 0x8500 vehicle control ------------------------------------------------------------ */

static void vehicle_control(struct term *t, const struct jt808_msg *m)
{
    struct jt808_tstate *s = ts(t);
    uint32_t flag = 0;
    if (m->h.version != JT808_V2019) {
        /* 2013: bit 0 of the flag, 1 lock the doors, 0 unlock */
        if (jt808_lay_get_u32(m->lay, "flag", &flag))
            s->status_bits = flag & 1u ? s->status_bits | DOOR_LOCKED : s->status_bits & ~DOOR_LOCKED;
    } else {
        /* 2019: control type 0x0001 (doors), parameter 0 close (lock), 1 open */
        size_t n = 0;
        jt808_lay_list_len(m->lay, "controls", &n);
        char path[40];
        for (size_t i = 0; i < n; i++) {
            uint32_t id = 0, p = 0;
            snprintf(path, sizeof path, "controls[%zu].id", i);
            jt808_lay_get_u32(m->lay, path, &id);
            snprintf(path, sizeof path, "controls[%zu].param", i);
            if (id == 0x0001 && jt808_lay_get_u32(m->lay, path, &p))
                s->status_bits = p == 0 ? s->status_bits | DOOR_LOCKED : s->status_bits & ~DOOR_LOCKED;
        }
    }
    uint8_t loc[JT808_MAX_BODY];
    size_t n = jt_location_bytes(t, true, loc, sizeof loc);
    struct jt808_lay_body *b = jt_lay_start(t, 0x0500);
    if (n && b && jt808_lay_set_u32(b, &jt_out, "ack_serial", m->h.serial) &&
        jt808_lay_set_bytes(b, &jt_out, "location", loc, n))
        send_reply(t);
}

/* --- 0x8700 tachograph data ------------------------------------------------------------ */

static size_t bcd_now(uint8_t out[6])
{
    char txt[13];
    jt808_time_text(clock_unix_at(term_now()), txt);
    jt808_bcd_encode(txt, out, 6);
    return 6;
}

static uint8_t bcd_byte(unsigned v) { return (uint8_t)((v / 10 % 10) << 4 | v % 10); }

/* A GB/T 19056-2012 upload frame: 55 7A, command, length WORD, reserved 00, data,
 * XOR of everything before it.  The data is the recorder's synthetic answer. */
static size_t tachograph_block(struct term *t, uint8_t cmd, uint8_t *out, size_t cap)
{
    uint8_t d[64];
    size_t n = 0;
    switch (cmd) {
    case 0x00: /* standard edition: 2012, modification 0 */
        d[n++] = bcd_byte(12);
        d[n++] = 0x00;
        break;
    case 0x01: /* driver's licence number, 18 ASCII */
        n = (size_t)snprintf((char *)d, sizeof d, "11010119800101%04u", term_gindex(t) % 10000u);
        break;
    case 0x02: /* real time */
        n = bcd_now(d);
        break;
    case 0x03: { /* time, installed at, initial and total mileage (BCD[4], 0.1 km) */
        n = bcd_now(d);
        memcpy(d + n, "\x20\x01\x01\x00\x00\x00", 6);
        n += 6;
        memset(d + n, 0, 4);
        n += 4;
        unsigned km = ts(t)->mileage % 100000000u;
        for (int i = 3; i >= 0; i--, km /= 100)
            d[n + (size_t)i] = bcd_byte(km % 100);
        n += 4;
        break;
    }
    case 0x04: /* time and pulse coefficient */
        n = bcd_now(d);
        d[n++] = 0x0E;
        d[n++] = 0x10; /* 3600 pulses/km */
        break;
    default: /* other collections: an empty data block */
        break;
    }
    if (n + 7 > cap)
        return 0;
    size_t k = 0;
    out[k++] = 0x55;
    out[k++] = 0x7A;
    out[k++] = cmd;
    out[k++] = (uint8_t)(n >> 8);
    out[k++] = (uint8_t)n;
    out[k++] = 0x00;
    memcpy(out + k, d, n);
    k += n;
    out[k] = jt808_xor(out, k);
    return k + 1;
}

static void tachograph(struct term *t, const struct jt808_msg *m)
{
    uint32_t cmd = 0;
    jt808_lay_get_u32(m->lay, "command", &cmd);
    uint8_t blk[96];
    size_t n = tachograph_block(t, (uint8_t)cmd, blk, sizeof blk);
    struct jt808_lay_body *b = jt_lay_start(t, 0x0700);
    if (n && b && jt808_lay_set_u32(b, &jt_out, "ack_serial", m->h.serial) &&
        jt808_lay_set_u32(b, &jt_out, "command", cmd) && jt808_lay_set_bytes(b, &jt_out, "data", blk, n))
        send_reply(t);
}

/* --- 0x8702 driver identity -------------------------------------------------------------- */

static void driver_identity(struct term *t, const struct jt808_msg *m)
{
    if (!term_can_request(t)) {
        /* its 0x0702 is a request of its own (answered 0x8001): none while the
         * ledger is full, so a platform flooding 0x8702 is refused, not followed */
        term_count(t, JT808_C_REQ_REFUSED, 1);
        jt_general_reply(t, &m->h, 1);
        return;
    }
    struct jt808_lay_body *b = jt_lay_start(t, 0x0702);
    if (!b)
        return;
    char now[13], name[24], cert[24], id[24];
    jt808_time_text(clock_unix_at(term_now()), now);
    unsigned g = term_gindex(t) + 1;
    snprintf(name, sizeof name, "DRIVER%05u", g % 100000u);
    snprintf(cert, sizeof cert, "QC%018u", g);
    snprintf(id, sizeof id, "11010119800101%04u", g % 10000u);
    /* card inserted (1), read (0); valid to the end of 2030 */
    bool ok = jt808_lay_set_u32(b, &jt_out, "state", 1) && jt808_lay_set_str(b, &jt_out, "time", now) &&
              jt808_lay_set_u32(b, &jt_out, "ic_result", 0) && jt808_lay_set_str(b, &jt_out, "name", name) &&
              jt808_lay_set_str(b, &jt_out, "certificate", cert) &&
              jt808_lay_set_str(b, &jt_out, "org", "FLEETSIM TRANSPORT") &&
              jt808_lay_set_str(b, &jt_out, "cert_expiry", "20301231");
    if (ok && jt_version(t) == JT808_V2019)
        ok = jt808_lay_set_str(b, &jt_out, "driver_id", id);
    /* the platform answers it with 0x8001 */
    if (ok && jt_send(t, true))
        jt_count_reply(t);
}

/* --- dispatch ----------------------------------------------------------------------------- */

bool jt808_term_cmd(struct term *t, const struct jt808_msg *m)
{
    struct jt808_more *x;
    switch (m->h.msg_id) {
    case 0x8106: query_params(t, m); return true;
    case 0x8107: properties(t, m); return true;
    case 0x8202: tracking(t, m); return true;
    case 0x8203: {
        uint32_t bits = 0;
        jt808_lay_get_u32(m->lay, "alarm_type", &bits);
        ts(t)->alarm_bits &= ~bits;
        jt_general_reply(t, &m->h, 0);
        return true;
    }
    case 0x8301:
    case 0x8303:
        if (!(x = jt_more(t, true))) {
            jt_general_reply(t, &m->h, 1);
            return true;
        }
        if (m->h.msg_id == 0x8301)
            set_ids(x->events, m->lay, "events", "id");
        else
            set_ids(x->menu, m->lay, "items", "type");
        jt_general_reply(t, &m->h, 0);
        driver_picks(t, m);
        return true;
    case 0x8302: question(t, m); return true;
    case 0x8500: vehicle_control(t, m); return true;
    case 0x8700: tachograph(t, m); return true;
    case 0x8702: driver_identity(t, m); return true;
    case 0x8204: case 0x8304: case 0x8400: case 0x8401: case 0x8701: case 0x8900:
        jt_general_reply(t, &m->h, 0);
        return true;
    default:
        return false;
    }
}
