/* Data history (004 §12): every report kept with its time per device and service.
 * A report costs the loop a hash lookup and a copy into a buffer; a timer writes the
 * buffer a slice (SVC_GROUP_HIST_SLICE_S of work) per transaction, the next slice on
 * the next loop turn while some are left.  Each device and service keeps its last
 * svc_group_hist_keep values in a ring of slots (seq % keep, INSERT OR REPLACE), so
 * the file stops growing once every ring is full.  A query writes the device's
 * buffered values first, so it sees every report the core took. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/platform/core/core_internal.h"
#include "sim/platform/core/shadow.h"
#include "sim/platform/core/svc_group.h"

int svc_group_hist_keep = SVC_GROUP_HIST_KEEP;

enum hstmt { H_PUT, H_MAX_SEQ, H_COUNT, H_PAGE, H_FORGET, H__COUNT };

static const char *const HSQL[H__COUNT] = {
    [H_PUT] = ("INSERT OR REPLACE INTO data_history(device_id, service, protocol, slot, seq, at_ms, data)"
              " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
    [H_MAX_SEQ] = "SELECT max(seq) FROM data_history WHERE device_id = ?1 AND service = ?2 AND protocol = ?3",
    [H_COUNT] = ("SELECT count(*) FROM data_history WHERE device_id = ?1 AND (?2 IS NULL OR service = ?2)"
                " AND at_ms >= ?3 AND at_ms < ?4"
                " AND (?5 IS NULL OR (CASE WHEN json_valid(data) THEN json_type(data, ?5) END) IS NOT NULL)"),
    [H_PAGE] = ("SELECT service, data, at_ms FROM data_history WHERE device_id = ?1 AND (?2 IS NULL OR service = ?2)"
               " AND at_ms >= ?3 AND at_ms < ?4"
               " AND (?5 IS NULL OR (CASE WHEN json_valid(data) THEN json_type(data, ?5) END) IS NOT NULL)"
               " ORDER BY at_ms DESC, seq DESC LIMIT ?6 OFFSET ?7"),
    [H_FORGET] = "DELETE FROM data_history WHERE device_id = ?1",
};

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS data_history(device_id TEXT NOT NULL, service TEXT NOT NULL,"
    " protocol TEXT NOT NULL, slot INTEGER NOT NULL, seq INTEGER NOT NULL, at_ms INTEGER NOT NULL,"
    " data TEXT NOT NULL, PRIMARY KEY(device_id, service, protocol, slot)) WITHOUT ROWID;";

/* One (protocol, device, service): its ring's next seq (-1: not read from the store yet). */
struct hkey {
    char id[STORE_ID_MAX + 1];
    char service[STORE_SERVICE_MAX + 1];
    int proto;
    uint32_t hash;
    int64_t next_seq;
};

#define DEAD UINT32_MAX /* an entry written out of turn, or of a deleted device */

struct hent {
    uint32_t key;
    uint32_t len;
    size_t off;             /* in the arena */
    int64_t at_ms;
};

struct svc_group_hist {
    sqlite3 *db;
    sqlite3_stmt *st[H__COUNT];
    struct hkey *keys;
    size_t n_keys, cap_keys;
    uint32_t *table;        /* key index + 1; 0 empty */
    size_t table_cap;       /* a power of two */
    struct hent *ents;
    size_t head, n_ents, cap_ents;
    char *arena;
    size_t arena_len, arena_cap;
    ev_timer timer;
    ev_check more;          /* a slice per loop turn while some are left */
    ev_idle poll;           /* meanwhile the loop polls without waiting */
    struct core *k;
    struct svc_group_hist_counts counts;
};

static struct svc_group_hist *H(struct core *k)
{
    return k->svc_group ? k->svc_group->hist : NULL;
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

/* The key's index, made when new; -1 out of memory. */
static long key_of(struct svc_group_hist *h, int proto, const char *id, const char *service)
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
    snprintf(c->id, sizeof c->id, "%s", id);
    snprintf(c->service, sizeof c->service, "%s", service);
    c->proto = proto;
    c->hash = hash;
    c->next_seq = -1;
    size_t j = hash & (h->table_cap - 1);
    while (h->table[j])
        j = (j + 1) & (h->table_cap - 1);
    h->table[j] = (uint32_t)h->n_keys + 1;
    return (long)h->n_keys++;
}

/* --- the buffer ------------------------------------------------------------------------------ */

/* Drop what was written from the front of the buffer. */
static void compact(struct svc_group_hist *h)
{
    if (h->head == h->n_ents) {
        h->head = h->n_ents = 0;
        h->arena_len = 0;
        return;
    }
    if (h->head < h->n_ents / 2 && h->head < 4096)
        return;
    size_t base = h->ents[h->head].off;
    memmove(h->arena, h->arena + base, h->arena_len - base);
    h->arena_len -= base;
    memmove(h->ents, h->ents + h->head, (h->n_ents - h->head) * sizeof *h->ents);
    h->n_ents -= h->head;
    h->head = 0;
    for (size_t i = 0; i < h->n_ents; i++)
        h->ents[i].off -= base;
}

static int reserve(void **p, size_t *cap, size_t want, size_t size)
{
    if (want <= *cap)
        return 0;
    size_t c = *cap ? *cap : 1024;
    while (c < want)
        c *= 2;
    void *np = realloc(*p, c * size);
    if (!np)
        return -1;
    *p = np;
    *cap = c;
    return 0;
}

void svc_group_report(struct core *k, int proto, const char *id, const char *service, const char *data,
                      int64_t at_ms)
{
    struct svc_group_hist *h = H(k);
    if (!h || svc_group_hist_keep <= 0)
        return;
    if (h->n_ents - h->head >= SVC_GROUP_HIST_BUF_MAX) {
        h->counts.dropped++;
        return;
    }
    size_t len = strlen(data);
    long key = key_of(h, proto, id, service);
    if (key < 0 || reserve((void **)&h->ents, &h->cap_ents, h->n_ents + 1, sizeof *h->ents) < 0 ||
        reserve((void **)&h->arena, &h->arena_cap, h->arena_len + len + 1, 1) < 0) {
        h->counts.dropped++;
        return;
    }
    memcpy(h->arena + h->arena_len, data, len + 1);
    h->ents[h->n_ents++] = (struct hent){.key = (uint32_t)key, .len = (uint32_t)len, .off = h->arena_len, .at_ms = at_ms};
    h->arena_len += len + 1;
    h->counts.buffered++;
    if (!ev_is_active(&h->timer))
        ev_timer_again(k->loop, &h->timer);
}

/* Write one value (inside the core's batch); 0 or -1. */
static int write_one(struct svc_group_hist *h, struct core *k, struct hent *e)
{
    struct hkey *c = &h->keys[e->key];
    const char *proto = svc_proto_name(k, c->proto);
    if (c->next_seq < 0) {
        sqlite3_stmt *m = h->st[H_MAX_SEQ];
        sqlite3_bind_text(m, 1, c->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(m, 2, c->service, -1, SQLITE_STATIC);
        sqlite3_bind_text(m, 3, proto, -1, SQLITE_STATIC);
        c->next_seq = sqlite3_step(m) == SQLITE_ROW && sqlite3_column_type(m, 0) != SQLITE_NULL
                          ? sqlite3_column_int64(m, 0) + 1
                          : 0;
        sqlite3_reset(m);
    }
    int64_t seq = c->next_seq;
    sqlite3_stmt *p = h->st[H_PUT];
    sqlite3_bind_text(p, 1, c->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(p, 2, c->service, -1, SQLITE_STATIC);
    sqlite3_bind_text(p, 3, proto, -1, SQLITE_STATIC);
    sqlite3_bind_int64(p, 4, seq % svc_group_hist_keep);
    sqlite3_bind_int64(p, 5, seq);
    sqlite3_bind_int64(p, 6, e->at_ms);
    sqlite3_bind_text(p, 7, h->arena + e->off, (int)e->len, SQLITE_STATIC);
    int rc = sqlite3_step(p);
    sqlite3_reset(p);
    if (rc != SQLITE_DONE) {
        core_error(k, "data history: %s", sqlite3_errmsg(h->db));
        return -1;
    }
    c->next_seq = seq + 1;
    h->counts.written++;
    return 0;
}

static double mono_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Write values from the front for budget_s seconds (at least one; budget_s < 0:
 * all); whether some are left. */
static bool write_slice(struct svc_group_hist *h, struct core *k, double budget_s)
{
    if (h->head == h->n_ents)
        return false;
    core_batch_begin(k);
    double until = budget_s >= 0 ? mono_s() + budget_s : 0;
    size_t done = 0;
    while (h->head < h->n_ents) {
        struct hent *e = &h->ents[h->head];
        if (e->key != DEAD) {
            if (write_one(h, k, e) < 0)
                break; /* stays to be written: the next tick tries again */
            done++;
        }
        h->head++;
        if (budget_s >= 0 && done > 0 && done % 16 == 0 && mono_s() >= until)
            break;
    }
    svc_commit(k);
    h->counts.slices++;
    compact(h);
    return h->head < h->n_ents;
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
    ev_timer_stop(loop, t);
    if (!ev_is_active(&h->more) && write_slice(h, h->k, SVC_GROUP_HIST_SLICE_S)) {
        ev_check_start(loop, &h->more);
        ev_idle_start(loop, &h->poll);
    }
    (void)revents;
}

void svc_group_hist_flush_all(struct core *k)
{
    struct svc_group_hist *h = H(k);
    while (h && write_slice(h, k, -1))
        ;
}

/* Write a device's buffered values now, in their order (a query is about to read them). */
static void flush_device(struct svc_group_hist *h, struct core *k, const char *device_id)
{
    bool begun = false;
    for (size_t i = h->head; i < h->n_ents; i++) {
        struct hent *e = &h->ents[i];
        if (e->key == DEAD || strcmp(h->keys[e->key].id, device_id) != 0)
            continue;
        if (!begun) {
            core_batch_begin(k);
            begun = true;
        }
        if (write_one(h, k, e) < 0)
            break;
        e->key = DEAD;
    }
    if (begun)
        svc_commit(k);
}

void svc_group_hist_forget(struct core *k, const char *device_id)
{
    struct svc_group_hist *h = H(k);
    if (!h)
        return;
    for (size_t i = h->head; i < h->n_ents; i++)
        if (h->ents[i].key != DEAD && strcmp(h->keys[h->ents[i].key].id, device_id) == 0)
            h->ents[i].key = DEAD;
    for (size_t i = 0; i < h->n_keys; i++)
        if (strcmp(h->keys[i].id, device_id) == 0)
            h->keys[i].next_seq = 0;
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

static void bind_filter(sqlite3_stmt *st, const char *dev, const char *service, int64_t from, int64_t to,
                        const char *path)
{
    sqlite3_bind_text(st, 1, dev, -1, SQLITE_TRANSIENT);
    if (service)
        sqlite3_bind_text(st, 2, service, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, 2);
    sqlite3_bind_int64(st, 3, from);
    sqlite3_bind_int64(st, 4, to);
    if (path)
        sqlite3_bind_text(st, 5, path, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, 5);
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
    char proto[STORE_PROTOCOL_MAX + 1], path[80] = "";
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
    if (prop)
        snprintf(path, sizeof path, "$.\"%s\"", prop);
    /* a device that is no gateway's is its own gateway (004 §16: sub-devices come later) */
    bool none = gw && strcmp(gw, dev) != 0;
    flush_device(h, k, dev);
    cJSON *o = cJSON_CreateObject();
    cJSON *list = cJSON_CreateArray();
    int64_t total = 0;
    if (!none) {
        sqlite3_stmt *c = h->st[H_COUNT];
        bind_filter(c, dev, service, from, to + 1000, prop ? path : NULL);
        if (sqlite3_step(c) == SQLITE_ROW)
            total = sqlite3_column_int64(c, 0);
        sqlite3_reset(c);
        sqlite3_stmt *p = h->st[H_PAGE];
        bind_filter(p, dev, service, from, to + 1000, prop ? path : NULL);
        sqlite3_bind_int64(p, 6, size);
        sqlite3_bind_int64(p, 7, (int64_t)no * size);
        while (sqlite3_step(p) == SQLITE_ROW) {
            cJSON *r = cJSON_CreateObject();
            const char *svc = (const char *)sqlite3_column_text(p, 0), *data = (const char *)sqlite3_column_text(p, 1);
            char t[17];
            cJSON_AddStringToObject(r, "deviceId", dev);
            cJSON_AddStringToObject(r, "gatewayId", dev);
            cJSON_AddStringToObject(r, "appId", svc_group_app(rq));
            cJSON_AddStringToObject(r, "serviceId", svc ? svc : "");
            cJSON *d = data ? cJSON_Parse(data) : NULL;
            cJSON_AddItemToObject(r, "data", d ? d : cJSON_CreateString(data ? data : ""));
            shadow_time_text(sqlite3_column_int64(p, 2), t);
            cJSON_AddStringToObject(r, "timestamp", t);
            cJSON_AddItemToArray(list, r);
        }
        sqlite3_reset(p);
    }
    cJSON_AddNumberToObject(o, "totalCount", (double)total);
    cJSON_AddNumberToObject(o, "pageNo", no);
    cJSON_AddNumberToObject(o, "pageSize", size);
    cJSON_AddItemToObject(o, "deviceDataHistoryDOs", list);
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
    free(h->keys);
    free(h->table);
    free(h->ents);
    free(h->arena);
    free(h);
    k->svc_group->hist = NULL;
}
