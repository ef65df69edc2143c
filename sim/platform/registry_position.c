/* Last positions.  Every 0x0200 lands here, so registry_position() touches memory
 * only: an open-addressing table keyed by phone, entries stored inline, so after a
 * phone's first report an update is a hash, a short probe and a copy.  A periodic
 * registry_flush() writes what changed in one transaction. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/platform/registry_internal.h"

#define POS_INITIAL_CAP 1024

/* FNV-1a: phones are short digit strings, this spreads them well enough */
static uint32_t hash_phone(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

/* The slot holding phone, or the empty slot where it belongs.  The table is never
 * full (load <= 3/4), so the probe ends. */
static struct registry_pos *find_slot(struct registry_pos *slots, size_t cap, const char *phone, uint32_t h)
{
    size_t mask = cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        struct registry_pos *p = &slots[i];
        if (p->phone[0] == '\0' || (p->hash == h && strcmp(p->phone, phone) == 0))
            return p;
    }
}

static int grow(struct registry_pos_table *t)
{
    size_t ncap = t->cap ? t->cap * 2 : POS_INITIAL_CAP;
    struct registry_pos *ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return -1;
    for (size_t i = 0; i < t->cap; i++) {
        const struct registry_pos *p = &t->slots[i];
        if (p->phone[0] != '\0')
            *find_slot(ns, ncap, p->phone, p->hash) = *p;
    }
    free(t->slots);
    t->slots = ns;
    t->cap = ncap;
    return 0;
}

void registry__pos_free(struct registry_pos_table *t)
{
    free(t->slots);
    memset(t, 0, sizeof *t);
}

void registry_position(struct registry *r, const char *phone, const struct jt808_location *loc)
{
    if (!r || !phone || !loc)
        return;
    size_t n = strnlen(phone, REGISTRY_PHONE_MAX + 1);
    if (n == 0 || n > REGISTRY_PHONE_MAX)
        return;
    struct registry_pos_table *t = &r->pos;
    uint32_t h = hash_phone(phone, n);
    struct registry_pos *p = t->cap ? find_slot(t->slots, t->cap, phone, h) : NULL;
    if (!p || p->phone[0] == '\0') {
        /* Out of memory drops this report; the phone's next one tries again. */
        if ((t->used + 1) * 4 > t->cap * 3 && grow(t) != 0)
            return;
        p = find_slot(t->slots, t->cap, phone, h);
        memcpy(p->phone, phone, n + 1);
        p->hash = h;
        t->used++;
    }
    if (!p->dirty) {
        p->dirty = true;
        t->dirty++;
    }
    p->alarm = loc->alarm;
    p->status = loc->status;
    p->lat = loc->lat;
    p->lon = loc->lon;
    p->altitude = loc->altitude;
    p->speed = loc->speed;
    p->direction = loc->direction;
    size_t tn = strnlen(loc->time, sizeof p->time - 1);
    memcpy(p->time, loc->time, tn);
    p->time[tn] = '\0';
    p->arrived_ms = registry__now_ms();
}

static int put_one(sqlite3_stmt *st, const struct registry_pos *p)
{
    sqlite3_bind_text(st, 1, p->phone, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, p->lat);
    sqlite3_bind_int64(st, 3, p->lon);
    sqlite3_bind_int(st, 4, p->speed);
    sqlite3_bind_int(st, 5, p->direction);
    sqlite3_bind_int(st, 6, p->altitude);
    sqlite3_bind_int64(st, 7, p->alarm);
    sqlite3_bind_int64(st, 8, p->status);
    sqlite3_bind_text(st, 9, p->time, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 10, p->arrived_ms);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

/* 0, or -1 with err; on error nothing is written and every entry stays dirty for
 * the next flush. */
int registry_flush(struct registry *r, char *err, size_t errcap)
{
    if (!r) {
        registry__err(err, errcap, "registry_flush: registry is NULL");
        return -1;
    }
    struct registry_pos_table *t = &r->pos;
    if (t->dirty == 0)
        return 0;
    if (registry__exec(r, RS_BEGIN) != SQLITE_OK) {
        registry__err(err, errcap, "positions: database: %s", sqlite3_errmsg(r->db));
        return -1;
    }
    for (size_t i = 0; i < t->cap; i++) {
        const struct registry_pos *p = &t->slots[i];
        if (!p->dirty)
            continue;
        if (put_one(r->st[RS_POS_PUT], p) != SQLITE_DONE) {
            registry__err(err, errcap, "positions: phone %s: database: %s", p->phone, sqlite3_errmsg(r->db));
            registry__exec(r, RS_ROLLBACK);
            return -1;
        }
    }
    if (registry__exec(r, RS_COMMIT) != SQLITE_OK) {
        registry__err(err, errcap, "positions: database: %s", sqlite3_errmsg(r->db));
        registry__exec(r, RS_ROLLBACK);
        return -1;
    }
    for (size_t i = 0; i < t->cap; i++)
        t->slots[i].dirty = false;
    t->dirty = 0;
    return 0;
}

bool registry_last_position(struct registry *r, const char *phone, struct jt808_location *loc)
{
    if (!r || !phone || !loc)
        return false;
    size_t n = strnlen(phone, REGISTRY_PHONE_MAX + 1);
    if (n == 0 || n > REGISTRY_PHONE_MAX)
        return false;
    sqlite3_stmt *st = r->st[RS_POS_GET];
    bool found = false;
    sqlite3_bind_text(st, 1, phone, (int)n, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        memset(loc, 0, sizeof *loc);
        loc->lat = (uint32_t)sqlite3_column_int64(st, 0);
        loc->lon = (uint32_t)sqlite3_column_int64(st, 1);
        loc->speed = (uint16_t)sqlite3_column_int(st, 2);
        loc->direction = (uint16_t)sqlite3_column_int(st, 3);
        loc->altitude = (uint16_t)sqlite3_column_int(st, 4);
        loc->alarm = (uint32_t)sqlite3_column_int64(st, 5);
        loc->status = (uint32_t)sqlite3_column_int64(st, 6);
        const unsigned char *tm = sqlite3_column_text(st, 7);
        if (tm)
            snprintf(loc->time, sizeof loc->time, "%s", (const char *)tm);
        found = true;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return found;
}
