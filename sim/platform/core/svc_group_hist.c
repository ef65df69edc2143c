/* Data history (004 §12): every report kept with its time per device and service.
 *
 * A report costs the loop a hash lookup and a copy: the values of a device and
 * service gather in memory into a block (SVC_GROUP_HIST_BLOCK values, or what came
 * in svc_group_hist_block_s), and a block is one row of the table.  Rows are
 * clustered by device, so a row written dirties a page of the file: one page for a
 * block of values instead of one per value (measured: a value a row cost 9-10 µs
 * once a device's rows filled pages of their own, most of it the pages written to
 * the WAL and checkpointed).  Blocks full or old enough are written by a timer, 1 ms
 * of work per transaction, the next slice on the next loop turn while some are left.
 *
 * Each value has a sequence number per device and service; a block's row is keyed
 * by its first value's, and rows entirely older than the last svc_group_hist_keep
 * values are deleted as blocks are written (a query shows exactly the last keep).
 * A query first writes the device's blocks as they are (an open block's row is
 * written again, whole, when it closes), so it sees every report the core took. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/platform/core/core_internal.h"
#include "sim/platform/core/shadow.h"
#include "sim/platform/core/svc_group.h"

int svc_group_hist_keep = SVC_GROUP_HIST_KEEP;
double svc_group_hist_block_s = SVC_GROUP_HIST_BLOCK_S;

enum hstmt { H_PUT, H_TRIM, H_TOP, H_TOPS, H_ROWS, H_FORGET, H__COUNT };

static const char *const HSQL[H__COUNT] = {
    [H_PUT] = ("INSERT OR REPLACE INTO data_history(device_id, service, protocol, block, n, first_ms, last_ms, vals)"
               " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
    [H_TRIM] = "DELETE FROM data_history WHERE device_id = ?1 AND service = ?2 AND protocol = ?3 AND block + n <= ?4",
    [H_TOP] = "SELECT max(block + n) FROM data_history WHERE device_id = ?1 AND service = ?2 AND protocol = ?3",
    [H_TOPS] = ("SELECT service, protocol, max(block + n) FROM data_history WHERE device_id = ?1"
                " GROUP BY service, protocol"),
    [H_ROWS] = ("SELECT service, protocol, block, vals FROM data_history WHERE device_id = ?1"
                " AND (?2 IS NULL OR service = ?2) AND last_ms >= ?3 AND first_ms < ?4"),
    [H_FORGET] = "DELETE FROM data_history WHERE device_id = ?1",
};

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS data_history(device_id TEXT NOT NULL, service TEXT NOT NULL,"
    " protocol TEXT NOT NULL, block INTEGER NOT NULL, n INTEGER NOT NULL, first_ms INTEGER NOT NULL,"
    " last_ms INTEGER NOT NULL, vals BLOB NOT NULL, PRIMARY KEY(device_id, service, protocol, block));";

/* Values packed one after the other: at_ms (8 bytes, little-endian), the data's
 * length (4), the data (JSON text). */
struct hbuf {
    uint8_t *p;
    size_t len, cap;
};

/* A block of one key's values. */
struct hblock {
    uint32_t key;
    uint32_t n;
    int64_t seq;               /* its first value's */
    int64_t first_ms, last_ms;
    struct hbuf b;
};

/* One (protocol, device, service). */
struct hkey {
    char id[STORE_ID_MAX + 1];
    char service[STORE_SERVICE_MAX + 1];
    int proto;
    uint32_t hash;
    uint32_t gen;              /* bumped by every block opened */
    int64_t next_seq;
    struct hblock open;        /* n == 0: none */
};

#define DEAD UINT32_MAX /* a queued block written out of turn, or of a deleted device */

/* A FIFO of fixed-size items. */
struct fifo {
    void *v;
    size_t head, n, cap, size;
};

struct opened {
    uint32_t key, gen;
    double at;                 /* monotonic s */
};

struct svc_group_hist {
    sqlite3 *db;
    sqlite3_stmt *st[H__COUNT];
    struct hkey *keys;
    size_t n_keys, cap_keys;
    uint32_t *table;           /* key index + 1; 0 empty */
    size_t table_cap;          /* a power of two */
    struct fifo ready;         /* struct hblock: closed, to be written, oldest first */
    struct fifo ages;          /* struct opened: open blocks by the time they opened */
    size_t waiting;            /* values in open and ready blocks */
    ev_timer timer;
    ev_check more;             /* a slice per loop turn while some are ready */
    ev_idle poll;              /* meanwhile the loop polls without waiting */
    struct core *k;
    struct svc_group_hist_counts counts;
};

static struct svc_group_hist *H(struct core *k) { return k->svc_group ? k->svc_group->hist : NULL; }

static double mono_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* --- small containers ------------------------------------------------------------------------ */

static void *fifo_at(struct fifo *f, size_t i) { return (char *)f->v + ((f->head + i) % f->cap) * f->size; }

static int fifo_push(struct fifo *f, const void *item)
{
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 256;
        void *nv = malloc(cap * f->size);
        if (!nv)
            return -1;
        for (size_t i = 0; i < f->n; i++)
            memcpy((char *)nv + i * f->size, fifo_at(f, i), f->size);
        free(f->v);
        f->v = nv;
        f->cap = cap;
        f->head = 0;
    }
    memcpy((char *)f->v + ((f->head + f->n) % f->cap) * f->size, item, f->size);
    f->n++;
    return 0;
}

static void fifo_pop(struct fifo *f)
{
    f->head = (f->head + 1) % f->cap;
    f->n--;
}

static int buf_add(struct hbuf *b, int64_t at_ms, const char *data, size_t len)
{
    size_t want = b->len + 12 + len;
    if (want > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < want)
            cap *= 2;
        uint8_t *np = realloc(b->p, cap);
        if (!np)
            return -1;
        b->p = np;
        b->cap = cap;
    }
    uint8_t *p = b->p + b->len;
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)((uint64_t)at_ms >> (8 * i));
    for (int i = 0; i < 4; i++)
        p[8 + i] = (uint8_t)((uint32_t)len >> (8 * i));
    memcpy(p + 12, data, len);
    b->len = want;
    return 0;
}

bool svc_group_hist_next(const uint8_t *b, size_t len, size_t *off, int64_t *at_ms, const char **data,
                         uint32_t *dlen)
{
    if (*off > len || len - *off < 12)
        return false;
    const uint8_t *p = b + *off;
    uint64_t at = 0;
    uint32_t n = 0;
    for (int i = 0; i < 8; i++)
        at |= (uint64_t)p[i] << (8 * i);
    for (int i = 0; i < 4; i++)
        n |= (uint32_t)p[8 + i] << (8 * i);
    if (n > len - *off - 12)
        return false;
    *at_ms = (int64_t)at;
    *data = (const char *)p + 12;
    *dlen = n;
    *off += 12 + (size_t)n;
    return true;
}

/* --- keys ------------------------------------------------------------------------------------ */

static uint32_t fnv(uint32_t h, const char *s)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return (h ^ 0xff) * 16777619u;
}

static int table_grow(struct svc_group_hist *h)
{
    size_t cap = h->table_cap ? h->table_cap * 2 : 1024;
    uint32_t *t = calloc(cap, sizeof *t);
    if (!t)
        return -1;
    for (size_t i = 0; i < h->n_keys; i++) {
        size_t j = h->keys[i].hash & (cap - 1);
        while (t[j])
            j = (j + 1) & (cap - 1);
        t[j] = (uint32_t)i + 1;
    }
    free(h->table);
    h->table = t;
    h->table_cap = cap;
    return 0;
}

/* The next sequence number of a key, from the store (once per key and process). */
static int64_t top_of(struct svc_group_hist *h, struct core *k, const struct hkey *c)
{
    sqlite3_stmt *m = h->st[H_TOP];
    sqlite3_bind_text(m, 1, c->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(m, 2, c->service, -1, SQLITE_STATIC);
    sqlite3_bind_text(m, 3, svc_proto_name(k, c->proto), -1, SQLITE_STATIC);
    int64_t top = sqlite3_step(m) == SQLITE_ROW && sqlite3_column_type(m, 0) != SQLITE_NULL ? sqlite3_column_int64(m, 0)
                                                                                          : 0;
    sqlite3_reset(m);
    return top;
}

/* The key's index, made when new; -1 out of memory. */
static long key_of(struct svc_group_hist *h, struct core *k, int proto, const char *id, const char *service)
{
    uint32_t hash = fnv(fnv(2166136261u ^ (uint32_t)proto, id), service);
    if (h->table_cap) {
        for (size_t j = hash & (h->table_cap - 1); h->table[j]; j = (j + 1) & (h->table_cap - 1)) {
            struct hkey *c = &h->keys[h->table[j] - 1];
            if (c->hash == hash && c->proto == proto && strcmp(c->id, id) == 0 && strcmp(c->service, service) == 0)
                return (long)(h->table[j] - 1);
        }
    }
    if ((h->n_keys + 1) * 2 > h->table_cap && table_grow(h) < 0)
        return -1;
    if (h->n_keys == h->cap_keys) {
        size_t cap = h->cap_keys ? h->cap_keys * 2 : 1024;
        struct hkey *nk = realloc(h->keys, cap * sizeof *nk);
        if (!nk)
            return -1;
        h->keys = nk;
        h->cap_keys = cap;
    }
    struct hkey *c = &h->keys[h->n_keys];
    memset(c, 0, sizeof *c);
    snprintf(c->id, sizeof c->id, "%s", id);
    snprintf(c->service, sizeof c->service, "%s", service);
    c->proto = proto;
    c->hash = hash;
    c->next_seq = top_of(h, k, c);
    size_t j = hash & (h->table_cap - 1);
    while (h->table[j])
        j = (j + 1) & (h->table_cap - 1);
    h->table[j] = (uint32_t)h->n_keys + 1;
    return (long)h->n_keys++;
}

/* --- blocks ---------------------------------------------------------------------------------- */

static void start_timer(struct svc_group_hist *h)
{
    if (!ev_is_active(&h->timer))
        ev_timer_again(h->k->loop, &h->timer);
}

/* Close the key's open block: to be written. */
static void close_block(struct svc_group_hist *h, uint32_t key)
{
    struct hkey *c = &h->keys[key];
    if (c->open.n == 0)
        return;
    if (fifo_push(&h->ready, &c->open) < 0) {
        h->counts.dropped += c->open.n;
        h->waiting -= c->open.n;
        free(c->open.b.p);
    }
    memset(&c->open, 0, sizeof c->open);
    start_timer(h);
}

void svc_group_report(struct core *k, int proto, const char *id, const char *service, const char *data,
                      int64_t at_ms)
{
    struct svc_group_hist *h = H(k);
    if (!h || svc_group_hist_keep <= 0)
        return;
    if (h->waiting >= SVC_GROUP_HIST_BUF_MAX) {
        h->counts.dropped++;
        return;
    }
    long key = key_of(h, k, proto, id, service);
    if (key < 0) {
        h->counts.dropped++;
        return;
    }
    struct hkey *c = &h->keys[key];
    struct hblock *o = &c->open;
    if (o->n == 0) {
        struct opened op = {.key = (uint32_t)key, .gen = ++c->gen, .at = mono_s()};
        if (fifo_push(&h->ages, &op) < 0) {
            h->counts.dropped++;
            return;
        }
        o->key = (uint32_t)key;
        o->seq = c->next_seq;
        o->first_ms = o->last_ms = at_ms;
    }
    if (buf_add(&o->b, at_ms, data, strlen(data)) < 0) {
        h->counts.dropped++;
        return;
    }
    o->n++;
    if (at_ms < o->first_ms)
        o->first_ms = at_ms;
    if (at_ms > o->last_ms)
        o->last_ms = at_ms;
    c->next_seq++;
    h->waiting++;
    h->counts.buffered++;
    if (o->n >= SVC_GROUP_HIST_BLOCK)
        close_block(h, (uint32_t)key);
    else
        start_timer(h);
}

/* Write a block's row and drop the rows older than the last keep values; 0 or -1. */
static int write_block(struct svc_group_hist *h, struct core *k, const struct hblock *b)
{
    struct hkey *c = &h->keys[b->key];
    const char *proto = svc_proto_name(k, c->proto);
    sqlite3_stmt *p = h->st[H_PUT];
    sqlite3_bind_text(p, 1, c->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(p, 2, c->service, -1, SQLITE_STATIC);
    sqlite3_bind_text(p, 3, proto, -1, SQLITE_STATIC);
    sqlite3_bind_int64(p, 4, b->seq);
    sqlite3_bind_int64(p, 5, b->n);
    sqlite3_bind_int64(p, 6, b->first_ms);
    sqlite3_bind_int64(p, 7, b->last_ms);
    sqlite3_bind_blob(p, 8, b->b.p, (int)b->b.len, SQLITE_STATIC);
    int rc = sqlite3_step(p);
    sqlite3_reset(p);
    if (rc == SQLITE_DONE) {
        sqlite3_stmt *t = h->st[H_TRIM];
        sqlite3_bind_text(t, 1, c->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(t, 2, c->service, -1, SQLITE_STATIC);
        sqlite3_bind_text(t, 3, proto, -1, SQLITE_STATIC);
        sqlite3_bind_int64(t, 4, b->seq + b->n - svc_group_hist_keep);
        rc = sqlite3_step(t);
        sqlite3_reset(t);
    }
    if (rc != SQLITE_DONE) {
        core_error(k, "data history: %s", sqlite3_errmsg(h->db));
        return -1;
    }
    return 0;
}

/* Close the blocks open for svc_group_hist_block_s (all: every open one). */
static void close_aged(struct svc_group_hist *h, bool all)
{
    double now = mono_s();
    while (h->ages.n > 0) {
        struct opened *op = fifo_at(&h->ages, 0);
        if (!all && op->at + svc_group_hist_block_s > now)
            break;
        if (h->keys[op->key].gen == op->gen)
            close_block(h, op->key);
        fifo_pop(&h->ages);
    }
}

/* Write ready blocks for budget_s seconds (at least one; < 0: all); whether some are left. */
static bool write_slice(struct svc_group_hist *h, struct core *k, double budget_s)
{
    if (h->ready.n == 0)
        return false;
    core_batch_begin(k);
    double until = budget_s >= 0 ? mono_s() + budget_s : 0;
    while (h->ready.n > 0) {
        struct hblock *b = fifo_at(&h->ready, 0);
        if (b->key != DEAD) {
            if (write_block(h, k, b) < 0)
                break; /* stays to be written: the next tick tries again */
            h->counts.written += b->n;
            h->waiting -= b->n;
        }
        free(b->b.p);
        fifo_pop(&h->ready);
        if (budget_s >= 0 && mono_s() >= until)
            break;
    }
    svc_commit(k);
    h->counts.slices++;
    return h->ready.n > 0;
}

static void more_cb(struct ev_loop *loop, ev_check *w, int revents)
{
    struct svc_group_hist *h = w->data;
    if (!write_slice(h, h->k, SVC_GROUP_HIST_SLICE_S)) {
        ev_check_stop(loop, w);
        ev_idle_stop(loop, &h->poll);
    }
    (void)revents;
}

static void poll_cb(struct ev_loop *loop, ev_idle *w, int revents) { (void)loop, (void)w, (void)revents; }

static void timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct svc_group_hist *h = t->data;
    close_aged(h, false);
    if (!ev_is_active(&h->more) && write_slice(h, h->k, SVC_GROUP_HIST_SLICE_S)) {
        ev_check_start(loop, &h->more);
        ev_idle_start(loop, &h->poll);
    }
    if (h->ages.n == 0 && h->ready.n == 0)
        ev_timer_stop(loop, t);
    (void)revents;
}

void svc_group_hist_flush_all(struct core *k)
{
    struct svc_group_hist *h = H(k);
    if (!h)
        return;
    close_aged(h, true);
    while (write_slice(h, k, -1))
        ;
}

/* Write a device's blocks now, the open ones as they are (a query is about to read them). */
static void flush_device(struct svc_group_hist *h, struct core *k, const char *device_id)
{
    bool begun = false;
    for (size_t i = 0; i < h->ready.n; i++) {
        struct hblock *b = fifo_at(&h->ready, i);
        if (b->key == DEAD || strcmp(h->keys[b->key].id, device_id) != 0)
            continue;
        if (!begun) {
            core_batch_begin(k);
            begun = true;
        }
        if (write_block(h, k, b) < 0)
            break;
        h->counts.written += b->n;
        h->waiting -= b->n;
        b->key = DEAD;
        free(b->b.p);
        b->b.p = NULL;
    }
    for (size_t i = 0; i < h->n_keys; i++) {
        struct hkey *c = &h->keys[i];
        if (c->open.n == 0 || strcmp(c->id, device_id) != 0)
            continue;
        if (!begun) {
            core_batch_begin(k);
            begun = true;
        }
        write_block(h, k, &c->open); /* again, whole, when it closes */
    }
    if (begun)
        svc_commit(k);
}

void svc_group_hist_forget(struct core *k, const char *device_id)
{
    struct svc_group_hist *h = H(k);
    if (!h)
        return;
    for (size_t i = 0; i < h->ready.n; i++) {
        struct hblock *b = fifo_at(&h->ready, i);
        if (b->key != DEAD && strcmp(h->keys[b->key].id, device_id) == 0) {
            h->waiting -= b->n;
            b->key = DEAD;
            free(b->b.p);
            b->b.p = NULL;
        }
    }
    for (size_t i = 0; i < h->n_keys; i++) {
        struct hkey *c = &h->keys[i];
        if (strcmp(c->id, device_id) != 0)
            continue;
        h->waiting -= c->open.n;
        free(c->open.b.p);
        memset(&c->open, 0, sizeof c->open);
        c->gen++;
        c->next_seq = 0;
    }
    sqlite3_stmt *st = h->st[H_FORGET];
    sqlite3_bind_text(st, 1, device_id, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_DONE)
        core_error(k, "data history: forgetting %s: %s", device_id, sqlite3_errmsg(h->db));
    sqlite3_reset(st);
}

void svc_group_hist_counts(struct core *k, struct svc_group_hist_counts *out)
{
    struct svc_group_hist *h = H(k);
    if (h)
        *out = h->counts;
    else
        memset(out, 0, sizeof *out);
}

/* --- the query ------------------------------------------------------------------------------- */

static bool time_param(const struct north_req *rq, const char *name, int64_t *ms, struct north_resp *rs)
{
    const char *v = north_query(rq, name);
    if (!v)
        return true;
    if (svc_group_parse_time(v, ms) < 0) {
        north_error(rs, 400, NE_BAD_REQUEST, "%s: '%.40s' is not a time yyyyMMddTHHmmssZ (UTC)", name, v);
        return false;
    }
    return true;
}

static bool name_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n < 1 || n > max)
        return false;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_' ||
              *s == '-' || *s == '.'))
            return false;
    return true;
}

/* One value of the query's rows. */
struct hval {
    int key;                   /* index in the query's (service, protocol) list */
    int64_t seq, at_ms;
    const char *data;
    uint32_t len;
};

struct qkey {
    char service[STORE_SERVICE_MAX + 1];
    char proto[STORE_PROTOCOL_MAX + 1];
    int64_t top;
};

static int cmp_newest(const void *a, const void *b)
{
    const struct hval *x = a, *y = b;
    if (x->at_ms != y->at_ms)
        return x->at_ms < y->at_ms ? 1 : -1;
    if (x->seq != y->seq)
        return x->seq < y->seq ? 1 : -1;
    return x->key - y->key;
}

static bool has_member(const char *data, uint32_t len, const char *name)
{
    cJSON *d = cJSON_ParseWithLength(data, len);
    bool yes = cJSON_IsObject(d) && cJSON_GetObjectItemCaseSensitive(d, name) != NULL;
    cJSON_Delete(d);
    return yes;
}

struct qrows {
    struct qkey *keys;
    int n_keys;
    uint8_t **blobs;
    size_t n_blobs, cap_blobs;
    struct hval *v;
    size_t n, cap;
};

static void qrows_free(struct qrows *q)
{
    for (size_t i = 0; i < q->n_blobs; i++)
        free(q->blobs[i]);
    free(q->blobs);
    free(q->keys);
    free(q->v);
}

static int qkey_find(const struct qrows *q, const char *service, const char *proto)
{
    for (int i = 0; i < q->n_keys; i++)
        if (strcmp(q->keys[i].service, service) == 0 && strcmp(q->keys[i].proto, proto) == 0)
            return i;
    return -1;
}

/* The device's values that pass the filters, newest first; 0 or -1 (memory). */
static int collect(struct svc_group_hist *h, const char *dev, const char *service, const char *prop, int64_t from,
                   int64_t to, struct qrows *q)
{
    sqlite3_stmt *t = h->st[H_TOPS];
    sqlite3_bind_text(t, 1, dev, -1, SQLITE_TRANSIENT);
    int cap = 0;
    while (sqlite3_step(t) == SQLITE_ROW) {
        if (q->n_keys == cap) {
            cap = cap ? cap * 2 : 8;
            struct qkey *nk = realloc(q->keys, (size_t)cap * sizeof *nk);
            if (!nk) {
                sqlite3_reset(t);
                return -1;
            }
            q->keys = nk;
        }
        struct qkey *qk = &q->keys[q->n_keys++];
        snprintf(qk->service, sizeof qk->service, "%s", (const char *)sqlite3_column_text(t, 0));
        snprintf(qk->proto, sizeof qk->proto, "%s", (const char *)sqlite3_column_text(t, 1));
        qk->top = sqlite3_column_int64(t, 2);
    }
    sqlite3_reset(t);
    sqlite3_stmt *r = h->st[H_ROWS];
    sqlite3_bind_text(r, 1, dev, -1, SQLITE_TRANSIENT);
    if (service)
        sqlite3_bind_text(r, 2, service, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(r, 2);
    sqlite3_bind_int64(r, 3, from);
    sqlite3_bind_int64(r, 4, to);
    int rc = 0;
    while (rc == 0 && sqlite3_step(r) == SQLITE_ROW) {
        int key = qkey_find(q, (const char *)sqlite3_column_text(r, 0), (const char *)sqlite3_column_text(r, 1));
        const uint8_t *blob = sqlite3_column_blob(r, 3);
        size_t len = (size_t)sqlite3_column_bytes(r, 3);
        int64_t seq = sqlite3_column_int64(r, 2);
        if (key < 0 || !blob)
            continue;
        if (q->n_blobs == q->cap_blobs) {
            size_t c = q->cap_blobs ? q->cap_blobs * 2 : 16;
            uint8_t **nb = realloc(q->blobs, c * sizeof *nb);
            if (!nb) {
                rc = -1;
                break;
            }
            q->blobs = nb;
            q->cap_blobs = c;
        }
        uint8_t *copy = malloc(len ? len : 1);
        if (!copy) {
            rc = -1;
            break;
        }
        memcpy(copy, blob, len);
        q->blobs[q->n_blobs++] = copy;
        size_t off = 0;
        struct hval v = {.key = key};
        for (; svc_group_hist_next(copy, len, &off, &v.at_ms, &v.data, &v.len); seq++) {
            v.seq = seq;
            if (seq < q->keys[key].top - svc_group_hist_keep || v.at_ms < from || v.at_ms >= to ||
                (prop && !has_member(v.data, v.len, prop)))
                continue;
            if (q->n == q->cap) {
                size_t c = q->cap ? q->cap * 2 : 256;
                struct hval *nv = realloc(q->v, c * sizeof *nv);
                if (!nv) {
                    rc = -1;
                    break;
                }
                q->v = nv;
                q->cap = c;
            }
            q->v[q->n++] = v;
        }
    }
    sqlite3_reset(r);
    if (rc == 0 && q->n > 1)
        qsort(q->v, q->n, sizeof *q->v, cmp_newest);
    return rc;
}

/* GET deviceDataHistory?deviceId=&gatewayId=&serviceId=&property=&startTime=&endTime=&pageNo=&pageSize= */
void svc_group_hist_route(void *ctx, const struct north_req *rq, struct north_resp *rs)
{
    struct core *k = ctx;
    struct svc_group_hist *h = H(k);
    const char *dev = north_query(rq, "deviceId"), *gw = north_query(rq, "gatewayId");
    const char *service = north_query(rq, "serviceId"), *prop = north_query(rq, "property");
    int64_t from = 0, to = INT64_MAX - 1000;
    int no, size;
    char proto[STORE_PROTOCOL_MAX + 1];
    if (!dev || !*dev) {
        north_error(rs, 400, NE_BAD_REQUEST, "deviceId: missing");
        return;
    }
    if (strlen(dev) > STORE_ID_MAX) {
        north_error(rs, 400, NE_BAD_REQUEST, "deviceId: over %d bytes", STORE_ID_MAX);
        return;
    }
    if (gw && (!*gw || strlen(gw) > STORE_ID_MAX)) {
        north_error(rs, 400, NE_BAD_REQUEST, "gatewayId: not a device id (1..%d bytes)", STORE_ID_MAX);
        return;
    }
    if (service && !name_ok(service, STORE_SERVICE_MAX)) {
        north_error(rs, 400, NE_BAD_REQUEST, "serviceId: not 1..%d letters, digits, '_', '-' or '.'",
                    STORE_SERVICE_MAX);
        return;
    }
    if (prop && !name_ok(prop, 64)) {
        north_error(rs, 400, NE_BAD_REQUEST, "property: not 1..64 letters, digits, '_', '-' or '.'");
        return;
    }
    if (!time_param(rq, "startTime", &from, rs) || !time_param(rq, "endTime", &to, rs) ||
        !svc_group_page(rq, 2000, 20, &no, &size, rs))
        return;
    if (north_query(rq, "startTime") && north_query(rq, "endTime") && to < from) {
        north_error(rs, 400, NE_BAD_REQUEST, "endTime: before startTime");
        return;
    }
    if (!svc_device_protocol(k, dev, proto, sizeof proto)) {
        north_error(rs, 404, NE_NOT_FOUND, "deviceId: no device %.64s is registered", dev);
        return;
    }
    /* a device that is no gateway's is its own gateway (004 §16: sub-devices come later) */
    bool none = gw && strcmp(gw, dev) != 0;
    flush_device(h, k, dev);
    struct qrows q = {0};
    if (!none && collect(h, dev, service, prop, from, to + 1000, &q) < 0) {
        qrows_free(&q);
        north_error(rs, 500, NE_INTERNAL, "out of memory");
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON *list = cJSON_CreateArray();
    for (size_t i = (size_t)no * (size_t)size; i < q.n && i < (size_t)(no + 1) * (size_t)size; i++) {
        const struct hval *v = &q.v[i];
        cJSON *r = cJSON_CreateObject();
        char t[17];
        cJSON_AddStringToObject(r, "deviceId", dev);
        cJSON_AddStringToObject(r, "gatewayId", dev);
        cJSON_AddStringToObject(r, "appId", svc_group_app(rq));
        cJSON_AddStringToObject(r, "serviceId", q.keys[v->key].service);
        cJSON *d = cJSON_ParseWithLength(v->data, v->len);
        if (!d) {
            char *s = strndup(v->data, v->len);
            d = cJSON_CreateString(s ? s : "");
            free(s);
        }
        cJSON_AddItemToObject(r, "data", d);
        shadow_time_text(v->at_ms, t);
        cJSON_AddStringToObject(r, "timestamp", t);
        cJSON_AddItemToArray(list, r);
    }
    cJSON_AddNumberToObject(o, "totalCount", (double)q.n);
    cJSON_AddNumberToObject(o, "pageNo", no);
    cJSON_AddNumberToObject(o, "pageSize", size);
    cJSON_AddItemToObject(o, "deviceDataHistoryDOs", list);
    qrows_free(&q);
    rs->status = 200;
    rs->body = o;
}

/* --- life ------------------------------------------------------------------------------------ */

int svc_group_hist_start(struct core *k, char *err, size_t errcap)
{
    struct svc_group_hist *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    h->db = store_sqlite(k->store);
    h->k = k;
    h->ready.size = sizeof(struct hblock);
    h->ages.size = sizeof(struct opened);
    char *why = NULL;
    if (sqlite3_exec(h->db, SCHEMA, NULL, NULL, &why) != SQLITE_OK) {
        snprintf(err, errcap, "the history's table: %s", why ? why : sqlite3_errmsg(h->db));
        sqlite3_free(why);
        free(h);
        return -1;
    }
    for (int i = 0; i < H__COUNT; i++)
        if (sqlite3_prepare_v2(h->db, HSQL[i], -1, &h->st[i], NULL) != SQLITE_OK) {
            snprintf(err, errcap, "the history: %s", sqlite3_errmsg(h->db));
            for (int j = 0; j < i; j++)
                sqlite3_finalize(h->st[j]);
            free(h);
            return -1;
        }
    ev_init(&h->timer, timer_cb);
    h->timer.repeat = SVC_GROUP_HIST_FLUSH_S;
    h->timer.data = h;
    ev_check_init(&h->more, more_cb);
    ev_set_priority(&h->more, EV_MINPRI);
    h->more.data = h;
    ev_idle_init(&h->poll, poll_cb);
    k->svc_group->hist = h;
    return 0;
}

void svc_group_hist_stop(struct core *k)
{
    struct svc_group_hist *h = H(k);
    if (!h)
        return;
    svc_group_hist_flush_all(k);
    ev_timer_stop(k->loop, &h->timer);
    ev_check_stop(k->loop, &h->more);
    ev_idle_stop(k->loop, &h->poll);
    for (int i = 0; i < H__COUNT; i++)
        sqlite3_finalize(h->st[i]);
    while (h->ready.n > 0) { /* what a failed write left */
        free(((struct hblock *)fifo_at(&h->ready, 0))->b.p);
        fifo_pop(&h->ready);
    }
    for (size_t i = 0; i < h->n_keys; i++)
        free(h->keys[i].open.b.p);
    free(h->ready.v);
    free(h->ages.v);
    free(h->keys);
    free(h->table);
    free(h);
    k->svc_group->hist = NULL;
}
