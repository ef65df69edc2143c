/* The JT/T 808 platform requests beyond the foundation's: each is answered by the
 * file of its subject (jt808_term_*.c); this is where they are dispatched, and
 * where the state they need is kept.
 *
 * That state is allocated on a terminal's first such request and found through a
 * 32-bit slot number in the terminal's block (struct jt808_tstate.more, in what was
 * padding), so terminals that never get one cost no byte more.  Workers are
 * processes: the slot table is this process's. */
#include <stdlib.h>
#include <string.h>

#include "sim/dev/jt808_term_area.h"
#include "sim/dev/jt808_term_int.h"
#include "sim/proto/jt808_layout.h"

static struct jt808_more **slots; /* slot k: the state of the terminal whose more is k + 1 */
static uint32_t n_slots, cap_slots;
static uint32_t *free_slots;      /* slots given back, reused first */
static uint32_t n_free;

struct jt808_more *jt_more(struct term *t, bool create)
{
    struct jt808_tstate *s = ts(t);
    if (s->more)
        return slots[s->more - 1];
    if (!create)
        return NULL;
    struct jt808_more *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    uint32_t k;
    if (n_free) {
        k = free_slots[--n_free];
    } else {
        if (n_slots == cap_slots) {
            uint32_t cap = cap_slots ? cap_slots * 2 : 64;
            struct jt808_more **ns = realloc(slots, cap * sizeof *ns);
            uint32_t *nf = ns ? realloc(free_slots, cap * sizeof *nf) : NULL;
            if (ns)
                slots = ns;
            if (!nf) {
                free(x);
                return NULL;
            }
            free_slots = nf;
            cap_slots = cap;
        }
        k = n_slots++;
    }
    slots[k] = x;
    s->more = k + 1;
    return x;
}

void jt808_term_more_free(struct term *t)
{
    struct jt808_tstate *s = ts(t);
    if (!s->more)
        return;
    uint32_t k = s->more - 1;
    struct jt808_more *x = slots[k];
    jt808_term_cmd_free(x);
    jt808_term_media_free(x);
    jt808_term_area_free(x);
    jt808_term_rsa_free(x);
    free(x);
    slots[k] = NULL;
    free_slots[n_free++] = k;
    s->more = 0;
    if (n_free == n_slots) { /* the last one gone (a worker's end): nothing left */
        free(slots);
        free(free_slots);
        slots = NULL;
        free_slots = NULL;
        n_slots = cap_slots = n_free = 0;
        jt808_term_rsa_pool_free();
    }
}

size_t jt808_term_more_held(struct term *t)
{
    struct jt808_more *x = jt_more(t, false);
    if (!x)
        return 0;
    return sizeof *x + jt808_term_cmd_held(x) + jt808_term_media_held(x) + jt808_areas_held(x->areas) +
           jt808_term_area_held(x);
}

struct jt808_lay_body *jt_lay_start(struct term *t, uint16_t msg_id)
{
    jt_header(t, msg_id);
    jt808_arena_reset(&jt_out.arena);
    return jt808_lay_new(&jt_out);
}

size_t jt_location_bytes(struct term *t, bool items, uint8_t *out, size_t cap)
{
    static struct jt808_msg m;
    static struct jt808_loc_item it[TERM_ITEMS];
    const struct jt808_tstate *s = ts(t);
    memset(&m.h, 0, sizeof m.h);
    m.h.msg_id = 0x0200;
    m.h.version = jt_version(t);
    m.body = NULL;
    jt_fill_location(t, &m.b.loc, it, s->lat, s->lon, s->speed, s->dir, term_now());
    if (!items)
        m.b.loc.n_items = 0;
    size_t n = 0;
    struct jt808_err err;
    return jt808_body_encode(&m, out, cap, &n, &err) == JT808_OK ? n : 0;
}

void jt_count_reply(struct term *t)
{
    t->fleet->st->replies++;
}

/* --- 2019: asking the platform for the packages it has not sent (0x0005) -------- */

void jt808_term_more_reasm_pending(struct term *t, uint64_t at_us)
{
    if (jt_version(t) != JT808_V2019)
        return;
    struct jt808_more *x = jt_more(t, true);
    if (!x)
        return;
    x->reasm_check_us = at_us;
    term_wake_at(t, at_us);
}

struct ask_ctx {
    struct term *t;
    bool sent;
};

/* Ids per 0x0005: orig_serial and count (4 bytes) and 2 bytes an id within one
 * frame's body (no subpackaged 0x0005: the platform could not answer it before it
 * had it whole). */
#define ASK_IDS_MAX ((JT808_MAX_BODY - 4) / 2)

/* The missing ids of one message, ASK_IDS_MAX per 0x0005, each body built in one
 * pass (jt808_lay_list_set_u32). */
static void ask_missing(uint16_t msg_id, uint16_t first_serial, const uint16_t *ids, size_t n, void *arg)
{
    struct ask_ctx *c = arg;
    (void)msg_id;
    uint32_t chunk[ASK_IDS_MAX];
    for (size_t at = 0; at < n && conn_open(&c->t->conn); at += ASK_IDS_MAX) {
        size_t k = n - at < ASK_IDS_MAX ? n - at : ASK_IDS_MAX;
        for (size_t i = 0; i < k; i++)
            chunk[i] = ids[at + i];
        struct jt808_lay_body *b = jt_lay_start(c->t, 0x0005);
        bool ok = b && jt808_lay_set_u32(b, &jt_out, "orig_serial", first_serial) &&
                  jt808_lay_list_set_u32(b, &jt_out, "ids", "id", chunk, k) &&
                  jt808_lay_set_u32(b, &jt_out, "count", (uint32_t)k);
        if (!ok || !jt_send(c->t, false))
            return;
        term_count(c->t, JT808_C_RESEND_ASKED, 1);
        c->sent = true;
    }
}

static uint64_t reasm_tick(struct term *t, struct jt808_more *x, uint64_t now)
{
    struct jt808_reasm *r = ts(t)->reasm;
    if (!x->reasm_check_us || now < x->reasm_check_us)
        return x->reasm_check_us;
    x->reasm_check_us = 0;
    if (!r || t->state != TS_AUTHENTICATED || !conn_open(&t->conn))
        return 0;
    struct ask_ctx c = {t, false};
    uint64_t now_ms = now / 1000u;
    jt808_reasm_expire(r, now_ms);
    uint64_t next_ms = jt808_reasm_missing(r, now_ms, JT808_RESEND_ASK_MS, JT808_RESEND_ASKS, ask_missing, &c);
    if (next_ms)
        x->reasm_check_us = next_ms * 1000u;
    return x->reasm_check_us;
}

/* --- dispatch ---------------------------------------------------------------------- */

bool jt808_term_more(struct term *t, const struct jt808_msg *m)
{
    switch (m->h.msg_id) {
    case 0x8106: case 0x8107: case 0x8202: case 0x8203: case 0x8204: case 0x8301: case 0x8302:
    case 0x8303: case 0x8304: case 0x8400: case 0x8401: case 0x8500: case 0x8700: case 0x8701:
    case 0x8702: case 0x8900:
        return jt808_term_cmd(t, m);
    case 0x8003:
        if (jt808_term_area_resend(t, m))
            return true; /* its last 0x0608's packages; else an upload's */
        return jt808_term_media(t, m);
    case 0x8800: case 0x8801: case 0x8802: case 0x8803: case 0x8804: case 0x8805:
        return jt808_term_media(t, m);
    case 0x8600: case 0x8601: case 0x8602: case 0x8603: case 0x8604: case 0x8605: case 0x8606:
    case 0x8607: case 0x8608:
        return jt808_term_area(t, m);
    case 0x8A00:
        return jt808_term_rsa(t, m);
    default:
        return false;
    }
}

static uint64_t earliest(uint64_t a, uint64_t b)
{
    return !a ? b : !b ? a : a < b ? a : b;
}

uint64_t jt808_term_more_tick(struct term *t, uint64_t now)
{
    struct jt808_more *x = jt_more(t, false);
    if (!x)
        return 0;
    uint64_t next = jt808_term_cmd_tick(t, now);
    next = earliest(next, jt808_term_media_tick(t, now));
    return earliest(next, reasm_tick(t, x, now));
}

bool jt808_term_more_timeout(struct term *t, uint16_t msg_id)
{
    return jt808_term_media_timeout(t, msg_id);
}
