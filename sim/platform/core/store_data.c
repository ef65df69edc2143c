/* Status and reported data.  Every report of every device lands here, so
 * store_report and store_status touch memory only: an open-addressing table keyed
 * by (protocol, device id, service), the status of a device under service "".
 * After a key's first value an update is a hash, a short probe and a copy.  What
 * changed goes on a dirty list, so store_flush visits only that, however large
 * the table, and writes it in one unit of work; store_flush_slice writes it a
 * slice at a time from the front of the list (dirty[head..]), what changes
 * meanwhile joining at its end. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/platform/core/store_internal.h"

#define VALS_INITIAL_CAP 1024
#define DIRTY_INITIAL_CAP 256
#define KEY_MAX (STORE_PROTOCOL_MAX + STORE_ID_MAX + STORE_SERVICE_MAX + 3)

/* FNV-1a over the key with its separators */
static uint32_t hash_key(const char *k, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)k[i];
        h *= 16777619u;
    }
    return h;
}

/* protocol NUL device_id NUL service NUL into key; its length, or 0 when a part
 * is not a valid key (service may be "" only for status). */
static size_t make_key(char key[KEY_MAX], const char *protocol, const char *device_id, const char *service,
                       bool status)
{
    if (!store__len_ok(protocol, 1, STORE_PROTOCOL_MAX) || !store__len_ok(device_id, 1, STORE_ID_MAX)
        || !store__len_ok(service, status ? 0 : 1, status ? 0 : STORE_SERVICE_MAX))
        return 0;
    size_t a = strlen(protocol), b = strlen(device_id), c = strlen(service);
    memcpy(key, protocol, a + 1);
    memcpy(key + a + 1, device_id, b + 1);
    memcpy(key + a + b + 2, service, c + 1);
    return a + b + c + 3;
}

static size_t val_key_len(const struct store_val *v)
{
    return (size_t)v->proto_len + v->id_len + v->svc_len + 3;
}

static const char *val_id(const struct store_val *v)
{
    return v->key + v->proto_len + 1;
}

static const char *val_service(const struct store_val *v)
{
    return v->key + v->proto_len + v->id_len + 2;
}

/* The slot holding key, or the empty slot where it belongs.  The table is never
 * full (load <= 3/4), so the probe ends. */
static struct store_slot *find_slot(struct store_slot *slots, size_t cap, const char *key, size_t n, uint32_t h)
{
    size_t mask = cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        struct store_slot *p = &slots[i];
        if (!p->v || (p->hash == h && val_key_len(p->v) == n && memcmp(p->v->key, key, n) == 0))
            return p;
    }
}

static int grow(struct store_vals *t)
{
    size_t ncap = t->cap ? t->cap * 2 : VALS_INITIAL_CAP;
    struct store_slot *ns = calloc(ncap, sizeof *ns);
    if (!ns)
        return -1;
    for (size_t i = 0; i < t->cap; i++) {
        const struct store_slot *p = &t->slots[i];
        if (p->v)
            *find_slot(ns, ncap, p->v->key, val_key_len(p->v), p->hash) = *p;
    }
    free(t->slots);
    t->slots = ns;
    t->cap = ncap;
    return 0;
}

/* Room for one more entry on the dirty list, so marking one never fails.  Slices
 * leave written entries at the front: those make the room first. */
static int dirty_reserve(struct store_vals *t)
{
    if (t->n_dirty < t->dirty_cap)
        return 0;
    if (t->head > 0) {
        memmove(t->dirty, t->dirty + t->head, (t->n_dirty - t->head) * sizeof *t->dirty);
        t->n_dirty -= t->head;
        t->head = 0;
        return 0;
    }
    size_t ncap = t->dirty_cap ? t->dirty_cap * 2 : DIRTY_INITIAL_CAP;
    struct store_val **nd = realloc(t->dirty, ncap * sizeof *nd);
    if (!nd)
        return -1;
    t->dirty = nd;
    t->dirty_cap = ncap;
    return 0;
}

/* The entry of key, added when new; NULL when out of memory. */
static struct store_val *lookup(struct store_vals *t, const char *key, size_t n)
{
    uint32_t h = hash_key(key, n);
    struct store_slot *p = t->cap ? find_slot(t->slots, t->cap, key, n, h) : NULL;
    if (p && p->v)
        return p->v;
    if ((t->used + 1) * 4 > t->cap * 3 && grow(t) != 0)
        return NULL;
    struct store_val *v = calloc(1, sizeof *v + n);
    if (!v)
        return NULL;
    memcpy(v->key, key, n);
    v->hash = h;
    v->proto_len = (uint8_t)strlen(v->key);
    v->id_len = (uint8_t)strlen(val_id(v));
    v->svc_len = (uint8_t)strlen(val_service(v));
    p = find_slot(t->slots, t->cap, key, n, h);
    p->hash = h;
    p->v = v;
    t->used++;
    return v;
}

static void mark_dirty(struct store_vals *t, struct store_val *v)
{
    v->gen++;
    if (!v->dirty) {
        v->dirty = true;
        t->dirty[t->n_dirty++] = v;
    }
}

void store__vals_free(struct store_vals *t)
{
    for (size_t i = 0; i < t->cap; i++) {
        if (t->slots[i].v) {
            free(t->slots[i].v->data);
            free(t->slots[i].v);
        }
    }
    free(t->slots);
    free(t->dirty);
    memset(t, 0, sizeof *t);
}

/* Out of memory drops this change; the device's next one tries again. */
void store_status(struct store *s, const char *protocol, const char *device_id, bool online, int64_t at_ms)
{
    char key[KEY_MAX];
    if (!s)
        return;
    size_t n = make_key(key, protocol, device_id, "", true);
    if (n == 0 || dirty_reserve(&s->vals) != 0)
        return;
    struct store_val *v = lookup(&s->vals, key, n);
    if (!v)
        return;
    v->online = online;
    v->at_ms = at_ms;
    mark_dirty(&s->vals, v);
}

int store_report(struct store *s, const char *protocol, const char *device_id, const char *service,
                 const char *data, int64_t at_ms)
{
    char key[KEY_MAX];
    if (!s || !data)
        return -1;
    size_t dn = strnlen(data, STORE_DATA_MAX + 1);
    if (dn > STORE_DATA_MAX)
        return -1;
    size_t n = make_key(key, protocol, device_id, service, false);
    if (n == 0 || dirty_reserve(&s->vals) != 0)
        return -1;
    struct store_val *v = lookup(&s->vals, key, n);
    if (!v)
        return -1;
    if (dn + 1 > v->data_cap) {
        size_t ncap = (dn + 1 + 63) & ~(size_t)63;
        char *nd = realloc(v->data, ncap);
        if (!nd)
            return -1;
        v->data = nd;
        v->data_cap = ncap;
    }
    memcpy(v->data, data, dn);
    v->data[dn] = '\0';
    v->data_len = dn;
    v->at_ms = at_ms;
    v->arrived_ms = store__now_ms();
    mark_dirty(&s->vals, v);
    return 0;
}

static int put_one(struct store *s, const struct store_val *v)
{
    sqlite3_stmt *st;
    if (v->svc_len == 0) {
        st = s->st[SS_STATUS_PUT];
        sqlite3_bind_text(st, 1, v->key, v->proto_len, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, val_id(v), v->id_len, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, v->online ? 1 : 0);
        sqlite3_bind_int64(st, 4, v->at_ms);
    } else {
        st = s->st[SS_REPORT_PUT];
        sqlite3_bind_text(st, 1, v->key, v->proto_len, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, val_id(v), v->id_len, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, val_service(v), v->svc_len, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, v->data, (int)v->data_len, SQLITE_STATIC);
        sqlite3_bind_int64(st, 5, v->at_ms);
        sqlite3_bind_int64(st, 6, v->arrived_ms);
    }
    int rc = sqlite3_step(st);
    store__done(st);
    return rc;
}

/* Write v; on failure say which value in err, undo the unit of work, true. */
static bool put_fail(struct store *s, const struct store_val *v, char *err, size_t errcap)
{
    if (put_one(s, v) == SQLITE_DONE)
        return false;
    store__err(err, errcap, "flush: %s/%s%s%s: database: %s", v->key, val_id(v), v->svc_len ? "/" : "",
               v->svc_len ? val_service(v) : " status", sqlite3_errmsg(s->db));
    store__work_end(s, false, NULL, 0);
    return true;
}

/* 0, or -1 with err; on error nothing is written and every entry stays dirty for
 * the next flush.  Inside a batch the entries stay listed until the batch
 * commits, so a batch that fails to commit loses none of them. */
int store_flush(struct store *s, char *err, size_t errcap)
{
    char why[200];
    if (!s) {
        store__err(err, errcap, "store_flush: store is NULL");
        return -1;
    }
    struct store_vals *t = &s->vals;
    if (t->n_dirty == t->head)
        return 0;
    if (store__work_begin(s, why, sizeof why) != 0) {
        store__err(err, errcap, "flush: %s", why);
        return -1;
    }
    for (size_t i = t->head; i < t->n_dirty; i++) {
        if (put_fail(s, t->dirty[i], err, errcap))
            return -1;
    }
    if (store__work_end(s, true, why, sizeof why) != 0) {
        store__err(err, errcap, "flush: %s", why);
        return -1;
    }
    if (s->batch) {
        for (size_t i = t->head; i < t->n_dirty; i++)
            t->dirty[i]->flushed_gen = t->dirty[i]->gen;
        t->batch_flushed = true;
        return 0;
    }
    for (size_t i = t->head; i < t->n_dirty; i++)
        t->dirty[i]->dirty = false;
    t->n_dirty = t->head = 0;
    return 0;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int store_flush_slice(struct store *s, double budget_s, char *err, size_t errcap)
{
    char why[200];
    if (!s) {
        store__err(err, errcap, "store_flush_slice: store is NULL");
        return -1;
    }
    if (s->batch)
        return store_flush(s, err, errcap) == 0 ? STORE_FLUSH_DONE : -1;
    struct store_vals *t = &s->vals;
    if (t->n_dirty == t->head)
        return STORE_FLUSH_DONE;
    if (store__ckpt_busy(s))
        return STORE_FLUSH_WAIT;
    double until = mono_s() + budget_s;
    if (store__work_begin(s, why, sizeof why) != 0) {
        store__err(err, errcap, "flush: %s", why);
        return -1;
    }
    size_t end = t->head;
    do {
        if (put_fail(s, t->dirty[end], err, errcap))
            return -1;
        end++;
    } while (end < t->n_dirty && mono_s() < until);
    if (store__work_end(s, true, why, sizeof why) != 0) {
        store__err(err, errcap, "flush: %s", why);
        return -1;
    }
    for (size_t i = t->head; i < end; i++)
        t->dirty[i]->dirty = false;
    t->head = end;
    if (t->head < t->n_dirty)
        return STORE_FLUSH_MORE;
    t->n_dirty = t->head = 0;
    return STORE_FLUSH_DONE;
}

size_t store_pending(const struct store *s)
{
    return s ? s->vals.n_dirty - s->vals.head : 0;
}

/* Entries unchanged since the batch's flush are clean; those changed after it stay. */
void store__vals_committed(struct store_vals *t)
{
    if (!t->batch_flushed)
        return;
    size_t keep = 0;
    for (size_t i = t->head; i < t->n_dirty; i++) {
        struct store_val *v = t->dirty[i];
        if (v->gen == v->flushed_gen)
            v->dirty = false;
        else
            t->dirty[keep++] = v;
    }
    t->n_dirty = keep;
    t->head = 0;
    t->batch_flushed = false;
}

/* false and "" both when there is no value and when data is too small. */
bool store_last_report(struct store *s, const char *protocol, const char *device_id, const char *service,
                       char *data, size_t cap, int64_t *at_ms)
{
    if (!data || cap == 0)
        return false;
    data[0] = '\0';
    if (!s || !store__len_ok(protocol, 1, STORE_PROTOCOL_MAX) || !store__len_ok(device_id, 1, STORE_ID_MAX)
        || !store__len_ok(service, 1, STORE_SERVICE_MAX))
        return false;
    sqlite3_stmt *st = s->st[SS_REPORT_GET];
    bool found = false;
    sqlite3_bind_text(st, 1, protocol, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, device_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, service, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        size_t n = (size_t)sqlite3_column_bytes(st, 0);
        if (t && n < cap) {
            memcpy(data, t, n + 1);
            if (at_ms)
                *at_ms = sqlite3_column_int64(st, 1);
            found = true;
        }
    }
    store__done(st);
    return found;
}

bool store_last_status(struct store *s, const char *protocol, const char *device_id, bool *online,
                       int64_t *at_ms)
{
    if (!s || !store__len_ok(protocol, 1, STORE_PROTOCOL_MAX) || !store__len_ok(device_id, 1, STORE_ID_MAX))
        return false;
    sqlite3_stmt *st = s->st[SS_STATUS_GET];
    bool found = false;
    sqlite3_bind_text(st, 1, protocol, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, device_id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        if (online)
            *online = sqlite3_column_int(st, 0) != 0;
        if (at_ms)
            *at_ms = sqlite3_column_int64(st, 1);
        found = true;
    }
    store__done(st);
    return found;
}
