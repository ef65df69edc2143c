/* Device management (004 §4, §9): every registered device in memory with the
 * times its status is judged by (dev_status.h), on the virtual clock; one timer
 * for the earliest change of all devices (a min-heap keyed by when to look at a
 * device again), so 100,000 devices cost one libev timer; each change an event:
 * a row of the status history and a deviceInfoChanged push.  The registration
 * timeout of a device registered through the API is a key of the same heap.
 *
 * An event costs O(1): a report of a short-connection device moves its last
 * contact in memory and nothing else (its heap key stays earlier than its next
 * change: the heap looks again then and sets the later key); an online or offline
 * event moves a key earlier at most (O(log n), rare beside reports).  The rows
 * are written every SVC_DEV_FLUSH_S in one transaction, each changed device once;
 * a short-connection device's last contact only when it moved the slack (1 min, or
 * 5 s of real time on a fast clock) since it was written, so reports at 40,000/s
 * write little.  After a restart the times read back give the rules' answer again;
 * a device still connected when the core went away is taken as dropped when the
 * new core starts. */
#include "sim/platform/core/svc.h"
#include "sim/platform/core/svc_dev.h"
#include "sim/platform/core/svc_dev_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/core/clock.h"
#include "sim/platform/core/core_internal.h"

#define SVC_DEV_FLUSH_S 0.2
#define SVC_DEV_SEEN_SLACK_MS (60ll * 1000) /* a restart may judge a short-connection device 1 min early at most */
#define SVC_DEV_SEEN_SLACK_REAL_S 5.0       /* ... on a fast clock, 5 s of real time: each device written at most so often */

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS dev_mgmt("
    " protocol TEXT NOT NULL, device_id TEXT NOT NULL, node_id TEXT NOT NULL,"
    " verify_code TEXT NOT NULL DEFAULT '', product TEXT NOT NULL DEFAULT '', end_user TEXT NOT NULL DEFAULT '',"
    " timeout_s INTEGER NOT NULL DEFAULT 0, deadline_ms INTEGER NOT NULL DEFAULT 0,"
    " ever INTEGER NOT NULL DEFAULT 0, connected INTEGER NOT NULL DEFAULT 0,"
    " last_seen_ms INTEGER NOT NULL DEFAULT 0, dropped_ms INTEGER NOT NULL DEFAULT 0,"
    " status TEXT NOT NULL DEFAULT 'INACTIVE', status_ms INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY(protocol, device_id));"
    "CREATE INDEX IF NOT EXISTS dev_mgmt_node ON dev_mgmt(protocol, node_id);"
    "CREATE TABLE IF NOT EXISTS dev_status_history("
    " seq INTEGER PRIMARY KEY, protocol TEXT NOT NULL, device_id TEXT NOT NULL,"
    " status TEXT NOT NULL, at_ms INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS dev_status_history_dev ON dev_status_history(device_id, seq);"
    /* rows of devices forgotten while no device service ran */
    "DELETE FROM dev_mgmt WHERE NOT EXISTS(SELECT 1 FROM devices d"
    " WHERE d.protocol = dev_mgmt.protocol AND d.device_id = dev_mgmt.device_id);";

static const char PUT_SQL[] =
    "INSERT INTO dev_mgmt(protocol, device_id, node_id, ever, connected, last_seen_ms, dropped_ms, deadline_ms,"
    " status, status_ms) VALUES(?1, ?2, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
    " ON CONFLICT(protocol, device_id) DO UPDATE SET ever = excluded.ever, connected = excluded.connected,"
    " last_seen_ms = excluded.last_seen_ms, dropped_ms = excluded.dropped_ms, deadline_ms = excluded.deadline_ms,"
    " status = excluded.status, status_ms = excluded.status_ms";
static const char REG_SQL[] =
    "INSERT INTO dev_mgmt(protocol, device_id, node_id, verify_code, product, end_user, timeout_s, deadline_ms,"
    " status, status_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'INACTIVE', ?9)"
    " ON CONFLICT(protocol, device_id) DO UPDATE SET node_id = excluded.node_id,"
    " verify_code = excluded.verify_code, product = excluded.product, end_user = excluded.end_user,"
    " timeout_s = excluded.timeout_s, deadline_ms = excluded.deadline_ms";

static struct svc_dev *S(struct core *k) { return k->svc_dev; }

int64_t svc_dev__unix(const struct core *k, int64_t v) { return k->svc_dev->base + v; }

static uint32_t hash_of(const char *proto, const char *id)
{
    uint32_t h = 2166136261u;
    for (const char *p = proto; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    h = (h ^ 0xffu) * 16777619u;
    for (const char *p = id; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    return h;
}

static bool grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t nc = *cap ? *cap * 2 : 64;
    while (nc < need)
        nc *= 2;
    void *n = realloc(*arr, nc * elem);
    if (!n)
        return false;
    *arr = n;
    *cap = nc;
    return true;
}

/* --- the table of devices ---------------------------------------------------------------- */

struct dev *svc_dev__find(struct core *k, const char *proto, const char *id)
{
    struct svc_dev *d = S(k);
    if (!d || !d->n_buckets)
        return NULL;
    uint32_t h = hash_of(proto, id);
    for (struct dev *e = d->buckets[h & (d->n_buckets - 1)]; e; e = e->next)
        if (e->hash == h && strcmp(e->id, id) == 0 && strcmp(e->proto, proto) == 0)
            return e;
    return NULL;
}

static bool rehash(struct svc_dev *d)
{
    size_t nb = d->n_buckets ? d->n_buckets * 2 : 1024;
    struct dev **b = calloc(nb, sizeof *b);
    if (!b)
        return false;
    for (size_t i = 0; i < d->n_buckets; i++)
        for (struct dev *e = d->buckets[i], *nx; e; e = nx) {
            nx = e->next;
            e->next = b[e->hash & (nb - 1)];
            b[e->hash & (nb - 1)] = e;
        }
    free(d->buckets);
    d->buckets = b;
    d->n_buckets = nb;
    return true;
}

static struct dev *dev_add(struct core *k, const char *proto, const char *id)
{
    struct svc_dev *d = S(k);
    if (strlen(proto) > STORE_PROTOCOL_MAX || strlen(id) > STORE_ID_MAX)
        return NULL;
    if (d->n >= d->n_buckets && !rehash(d))
        return NULL;
    struct dev *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->hash = hash_of(proto, id);
    e->heap = e->dirty = -1;
    e->key = INT64_MAX;
    e->t.short_conn = svc_short_conn(k, proto);
    e->status = DS_INACTIVE;
    snprintf(e->proto, sizeof e->proto, "%s", proto);
    snprintf(e->id, sizeof e->id, "%s", id);
    e->next = d->buckets[e->hash & (d->n_buckets - 1)];
    d->buckets[e->hash & (d->n_buckets - 1)] = e;
    d->n++;
    return e;
}

/* --- the heap -------------------------------------------------------------------------- */

static void heap_place(struct svc_dev *d, size_t i, struct dev *e)
{
    d->heap[i] = e;
    e->heap = (int32_t)i;
}

static void sift_up(struct svc_dev *d, size_t i)
{
    struct dev *e = d->heap[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (d->heap[p]->key <= e->key)
            break;
        heap_place(d, i, d->heap[p]);
        i = p;
    }
    heap_place(d, i, e);
}

static void sift_down(struct svc_dev *d, size_t i)
{
    struct dev *e = d->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= d->n_heap)
            break;
        if (c + 1 < d->n_heap && d->heap[c + 1]->key < d->heap[c]->key)
            c++;
        if (d->heap[c]->key >= e->key)
            break;
        heap_place(d, i, d->heap[c]);
        i = c;
    }
    heap_place(d, i, e);
}

static void heap_remove(struct svc_dev *d, struct dev *e)
{
    if (e->heap < 0)
        return;
    size_t i = (size_t)e->heap;
    struct dev *last = d->heap[--d->n_heap];
    e->heap = -1;
    e->key = INT64_MAX;
    if (last == e)
        return;
    heap_place(d, i, last);
    sift_up(d, i);
    sift_down(d, (size_t)last->heap);
}

static void arm(struct core *k)
{
    struct svc_dev *d = S(k);
    if (d->n_heap)
        svc_timer_at(k, &d->timer, d->heap[0]->key);
    else
        ev_timer_stop(k->loop, &d->timer);
}

/* Look at e again at key (only ever earlier than it would be). */
static void heap_at(struct core *k, struct dev *e, int64_t key)
{
    struct svc_dev *d = S(k);
    if (e->heap >= 0) {
        if (key >= e->key)
            return;
        e->key = key;
        sift_up(d, (size_t)e->heap);
    } else {
        if (!grow((void **)&d->heap, &d->heap_cap, d->n_heap + 1, sizeof *d->heap)) {
            core_error(k, "devices: out of memory for the status heap");
            return;
        }
        e->key = key;
        heap_place(d, d->n_heap++, e);
        sift_up(d, (size_t)e->heap);
    }
    if (e->heap == 0)
        arm(k);
}

/* --- changes ------------------------------------------------------------------------- */

static void mark(struct core *k, struct dev *e)
{
    struct svc_dev *d = S(k);
    if (e->dirty >= 0)
        return;
    if (!grow((void **)&d->dirty, &d->dirty_cap, d->n_dirty + 1, sizeof *d->dirty)) {
        core_error(k, "devices: out of memory for the rows to write");
        return;
    }
    e->dirty = (int32_t)d->n_dirty;
    d->dirty[d->n_dirty++] = e;
}

static void unmark(struct svc_dev *d, struct dev *e)
{
    if (e->dirty < 0)
        return;
    struct dev *last = d->dirty[--d->n_dirty];
    d->dirty[e->dirty] = last;
    last->dirty = e->dirty;
    e->dirty = -1;
}

/* Mutants of 004 §9's status rules (svc_mutant.c), read once at start: the core is
 * one per process and the flag never changes while it runs. */
static bool mut_no_offline, mut_no_abnormal, mut_no_inactive, mut_long_by_report;

/* dev_status_at, as a mutant breaks it (never without the flag). */
static enum dev_status judged(const struct dev_times *t, int64_t now)
{
    enum dev_status s = dev_status_at(t, now);
    if (!t->short_conn && t->connected && mut_long_by_report) {
        struct dev_times x = *t; /* judged as if it had dropped at its last contact */
        x.connected = false;
        x.dropped_ms = t->last_seen_ms;
        s = dev_status_at(&x, now);
    }
    if (s == DS_INACTIVE && mut_no_inactive)
        return DS_OFFLINE;
    if (t->short_conn && s == DS_OFFLINE && mut_no_offline)
        return DS_ONLINE;
    if (t->short_conn && s == DS_ABNORMAL && mut_no_abnormal)
        return mut_no_offline ? DS_ONLINE : DS_OFFLINE;
    return s;
}

enum dev_status svc_dev__status(const struct dev *e) { return judged(&e->t, svc_now_ms()); }

const char *svc_dev__detail(enum dev_status s) { return s == DS_INACTIVE ? "NOT_ACTIVE" : "NONE"; }

/* The instant status s began, by the rules (a change the heap found late). */
static int64_t began(const struct dev *e, enum dev_status s, int64_t now)
{
    if (e->t.short_conn && s == DS_OFFLINE)
        return e->t.last_seen_ms + DEV_SHORT_OFFLINE_MS;
    if (e->t.short_conn && s == DS_ABNORMAL)
        return e->t.last_seen_ms + DEV_SHORT_ABNORMAL_MS;
    if (!e->t.short_conn && s == DS_OFFLINE && !e->t.connected)
        return e->t.dropped_ms + DEV_LONG_GRACE_MS;
    return now;
}

static void history(struct core *k, const struct dev *e, enum dev_status s, int64_t at)
{
    struct svc_dev *d = S(k);
    if (svc_mutant(k, "status-no-history"))
        return;
    if (!grow((void **)&d->hist, &d->hist_cap, d->n_hist + 1, sizeof *d->hist)) {
        core_error(k, "devices: out of memory for the status history");
        return;
    }
    struct dev_hist *h = &d->hist[d->n_hist++];
    memcpy(h->proto, e->proto, sizeof h->proto);
    memcpy(h->id, e->id, sizeof h->id);
    h->status = (uint8_t)s;
    h->at = at;
}

static void tell(struct core *k, struct dev *e, enum dev_status s, int64_t at)
{
    e->status = (uint8_t)s;
    e->status_at = at;
    history(k, e, s, at);
    mark(k, e);
    if (!svc_push_wanted(k, SVC_NOTIFY_DEVICE_INFO) || svc_mutant(k, "status-no-push"))
        return;
    cJSON *b = cJSON_CreateObject(), *info;
    if (!b)
        return;
    cJSON_AddStringToObject(b, "notifyType", SVC_NOTIFY_DEVICE_INFO);
    cJSON_AddStringToObject(b, "deviceId", e->id);
    cJSON_AddStringToObject(b, "gatewayId", e->id);
    if ((info = cJSON_AddObjectToObject(b, "deviceInfo"))) {
        cJSON_AddStringToObject(info, "status", dev_status_name(s));
        cJSON_AddStringToObject(info, "statusDetail", svc_dev__detail(s));
    }
    svc_push_notify(k, SVC_NOTIFY_DEVICE_INFO, b);
}

/* Judge e now: a change is told (at the instant it began when found by the heap),
 * and the heap looks again at its next change or its timeout. */
static void look(struct core *k, struct dev *e, int64_t now, bool late)
{
    enum dev_status s = judged(&e->t, now);
    if (s != e->status)
        tell(k, e, s, late ? began(e, s, now) : now);
    int64_t next = dev_status_next_ms(&e->t, now);
    if (e->deadline > 0 && !e->t.ever && e->deadline < next)
        next = e->deadline;
    if (next != INT64_MAX)
        heap_at(k, e, next);
}

static void put_row(struct core *k, struct dev *e);

/* The first contact of a device registered through the API: its timeout is over,
 * written at once (in the batch the event is in), so a core killed before the next
 * flush does not delete it after its restart. */
static void contact(struct core *k, struct dev *e, int64_t now)
{
    bool timed = e->deadline != 0;
    e->deadline = 0;
    mark(k, e);
    look(k, e, now, false);
    if (timed) {
        core_batch_begin(k);
        put_row(k, e);
    }
}

/* The device of an event; add: a device authenticated or registered is one the
 * store knows (a report or a drop of a device deleted meanwhile is not). */
static struct dev *get(struct core *k, int proto, const char *id, bool add)
{
    const char *p = svc_proto_name(k, proto);
    if (!S(k) || !p[0])
        return NULL;
    struct dev *e = svc_dev__find(k, p, id);
    return e || !add ? e : dev_add(k, p, id);
}

void svc_dev_online(struct core *k, int proto, const char *id)
{
    struct dev *e = get(k, proto, id, true);
    if (!e)
        return;
    int64_t now = svc_now_ms();
    e->t.ever = true;
    e->t.connected = true;
    e->t.last_seen_ms = now;
    contact(k, e, now);
}

void svc_dev_offline(struct core *k, int proto, const char *id)
{
    struct dev *e = get(k, proto, id, false);
    if (!e)
        return;
    int64_t now = svc_now_ms();
    e->t.ever = true;
    e->t.connected = false;
    /* the mutant drops the 1 min: OFFLINE at once */
    e->t.dropped_ms = now - (svc_mutant(k, "status-no-grace") ? DEV_LONG_GRACE_MS : 0);
    e->t.last_seen_ms = now;
    mark(k, e);
    look(k, e, now, false);
}

void svc_dev_report(struct core *k, int proto, const char *id, int64_t at_ms)
{
    (void)at_ms; /* the platform judges by when it heard the device, not by the device's clock */
    struct dev *e = get(k, proto, id, false);
    if (!e)
        return;
    int64_t now = svc_now_ms();
    e->t.last_seen_ms = now;
    if (e->t.short_conn && now - e->saved_seen >= S(k)->seen_slack)
        mark(k, e);
    if (!e->t.ever || e->status != DS_ONLINE) {
        /* rare: a device back from OFFLINE or ABNORMAL, or one never seen */
        if (!e->t.ever) {
            e->t.ever = true;
            e->t.dropped_ms = now;
        }
        contact(k, e, now);
    }
}

void svc_dev_registered(struct core *k, int proto, const char *id)
{
    struct dev *e = get(k, proto, id, true);
    if (!e)
        return;
    int64_t now = svc_now_ms();
    /* a registration over the air is a contact: the terminal is connected while it registers */
    e->t.ever = true;
    e->t.last_seen_ms = now;
    if (!e->t.connected)
        e->t.dropped_ms = now;
    contact(k, e, now);
}

static void free_dev(struct svc_dev *d, struct dev *e)
{
    struct dev **pp = &d->buckets[e->hash & (d->n_buckets - 1)];
    while (*pp && *pp != e)
        pp = &(*pp)->next;
    if (*pp)
        *pp = e->next;
    heap_remove(d, e);
    unmark(d, e);
    d->n--;
    free(e);
}

void svc_dev_deleted(struct core *k, int proto, const char *id)
{
    struct svc_dev *d = S(k);
    const char *p = svc_proto_name(k, proto);
    if (!d || !p[0])
        return;
    struct dev *e = svc_dev__find(k, p, id);
    bool top = e && e->heap == 0;
    if (e)
        free_dev(d, e);
    if (top)
        arm(k);
    /* its history waiting to be written goes too */
    size_t w = 0;
    for (size_t i = 0; i < d->n_hist; i++)
        if (strcmp(d->hist[i].id, id) != 0 || strcmp(d->hist[i].proto, p) != 0)
            d->hist[w++] = d->hist[i];
    d->n_hist = w;
    core_batch_begin(k);
    sqlite3_stmt *sts[] = {d->del, d->hist_del};
    for (size_t i = 0; i < 2; i++) {
        sqlite3_bind_text(sts[i], 1, p, -1, SQLITE_STATIC);
        sqlite3_bind_text(sts[i], 2, id, -1, SQLITE_STATIC);
        if (sqlite3_step(sts[i]) != SQLITE_DONE)
            core_error(k, "devices: forget %s/%s: %s", p, id, sqlite3_errmsg(store_sqlite(k->store)));
        sqlite3_reset(sts[i]);
        sqlite3_clear_bindings(sts[i]);
    }
    if (!svc_push_wanted(k, SVC_NOTIFY_DELETED))
        return;
    cJSON *b = cJSON_CreateObject();
    if (!b)
        return;
    cJSON_AddStringToObject(b, "notifyType", SVC_NOTIFY_DELETED);
    cJSON_AddStringToObject(b, "deviceId", id);
    cJSON_AddStringToObject(b, "gatewayId", id);
    svc_push_notify(k, SVC_NOTIFY_DELETED, b);
}

bool svc_dev_status(struct core *k, const char *protocol, const char *device_id, enum dev_status *out)
{
    struct dev *e = svc_dev__find(k, protocol, device_id);
    if (e)
        *out = svc_dev__status(e);
    return e != NULL;
}

bool svc_dev_node_device(struct core *k, const char *protocol, const char *node_id, char *device_id, size_t cap)
{
    struct svc_dev *d = S(k);
    if (!d || !cap)
        return false;
    sqlite3_bind_text(d->node_get, 1, protocol, -1, SQLITE_STATIC);
    sqlite3_bind_text(d->node_get, 2, node_id, -1, SQLITE_STATIC);
    bool found = sqlite3_step(d->node_get) == SQLITE_ROW;
    if (found)
        snprintf(device_id, cap, "%s", (const char *)sqlite3_column_text(d->node_get, 0));
    sqlite3_reset(d->node_get);
    sqlite3_clear_bindings(d->node_get);
    return found;
}

int svc_dev__proto(struct core *k, const char *name)
{
    int i = svc_proto_index(k, name);
    if (i >= 0 || k->n_protos >= CORE_MAX_PROTOS)
        return i;
    snprintf(k->protos[k->n_protos], sizeof k->protos[0], "%s", name);
    return k->n_protos++;
}

int svc_dev__add_registered(struct core *k, const struct svc_dev_reg *r, char *err, size_t errcap)
{
    struct svc_dev *d = S(k);
    int64_t now = svc_now_ms();
    int64_t deadline = r->timeout_s > 0 ? now + r->timeout_s * 1000 : 0;
    sqlite3_stmt *st = d->reg_put;
    sqlite3_bind_text(st, 1, r->protocol, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, r->device_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, r->node_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, r->verify_code, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, r->product, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, r->end_user, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, r->timeout_s);
    sqlite3_bind_int64(st, 8, deadline ? svc_dev__unix(k, deadline) : 0);
    sqlite3_bind_int64(st, 9, svc_dev__unix(k, now));
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE) {
        snprintf(err, errcap, "database: %s", sqlite3_errmsg(store_sqlite(k->store)));
        return -1;
    }
    struct dev *e = svc_dev__find(k, r->protocol, r->device_id);
    if (!e && !(e = dev_add(k, r->protocol, r->device_id))) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    e->deadline = deadline;
    history(k, e, DS_INACTIVE, now); /* the first status, told to no one */
    e->status = DS_INACTIVE;
    e->status_at = now;
    mark(k, e);
    look(k, e, now, false);
    return 0;
}

int svc_dev__set_end_user(struct core *k, const char *proto, const char *id, const char *end_user, char *err,
                          size_t errcap)
{
    struct svc_dev *d = S(k);
    sqlite3_stmt *st = d->end_user_set;
    sqlite3_bind_text(st, 1, proto, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, end_user, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE) {
        snprintf(err, errcap, "database: %s", sqlite3_errmsg(store_sqlite(k->store)));
        return -1;
    }
    return 0;
}

/* --- timers and writes ----------------------------------------------------------------- */

static void put_row(struct core *k, struct dev *e)
{
    sqlite3_stmt *st = S(k)->put;
    sqlite3_bind_text(st, 1, e->proto, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, e->id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, e->t.ever);
    sqlite3_bind_int(st, 4, e->t.connected);
    sqlite3_bind_int64(st, 5, svc_dev__unix(k, e->t.last_seen_ms));
    sqlite3_bind_int64(st, 6, svc_dev__unix(k, e->t.dropped_ms));
    sqlite3_bind_int64(st, 7, e->deadline ? svc_dev__unix(k, e->deadline) : 0);
    sqlite3_bind_text(st, 8, dev_status_name((enum dev_status)e->status), -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 9, svc_dev__unix(k, e->status_at));
    if (sqlite3_step(st) != SQLITE_DONE)
        core_error(k, "devices: write %s/%s: %s", e->proto, e->id, sqlite3_errmsg(store_sqlite(k->store)));
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    e->saved_seen = e->t.last_seen_ms;
}

void svc_dev__write(struct core *k)
{
    struct svc_dev *d = S(k);
    if (!d || (!d->n_dirty && !d->n_hist))
        return;
    sqlite3 *db = store_sqlite(k->store);
    for (size_t i = 0; i < d->n_dirty; i++) {
        put_row(k, d->dirty[i]);
        d->dirty[i]->dirty = -1;
    }
    d->n_dirty = 0;
    for (size_t i = 0; i < d->n_hist; i++) {
        const struct dev_hist *h = &d->hist[i];
        sqlite3_stmt *st = d->hist_put;
        sqlite3_bind_text(st, 1, h->proto, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, h->id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, dev_status_name((enum dev_status)h->status), -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, svc_dev__unix(k, h->at));
        if (sqlite3_step(st) != SQLITE_DONE)
            core_error(k, "devices: status history of %s/%s: %s", h->proto, h->id, sqlite3_errmsg(db));
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    d->n_hist = 0;
}

static void flush_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct core *k = t->data;
    struct svc_dev *d = S(k);
    if (d->n_dirty || d->n_hist) {
        core_batch_begin(k);
        svc_dev__write(k);
        svc_commit(k);
    }
    (void)loop, (void)revents;
}

/* A registration the device did not follow within its timeout is forgotten (004 §4). */
static void expire(struct core *k, struct dev *e)
{
    char proto[STORE_PROTOCOL_MAX + 1], id[STORE_ID_MAX + 1];
    memcpy(proto, e->proto, sizeof proto);
    memcpy(id, e->id, sizeof id);
    core_batch_begin(k);
    store_unregister(k->store, proto, id);
    int pi = svc_dev__proto(k, proto);
    if (pi >= 0)
        svc_on_deleted(k, pi, id);
    else
        free_dev(S(k), e);
}

static void timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct core *k = t->data;
    struct svc_dev *d = S(k);
    int64_t now = svc_now_ms();
    bool wrote = false;
    while (d->n_heap && d->heap[0]->key <= now) {
        struct dev *e = d->heap[0];
        heap_remove(d, e);
        /* mutant: a device that never connected is kept past its registration timeout */
        if (e->deadline > 0 && !e->t.ever && e->deadline <= now && !svc_mutant(k, "dev-no-reg-timeout")) {
            expire(k, e);
            wrote = true;
            continue;
        }
        look(k, e, now, true);
    }
    arm(k);
    if (wrote)
        svc_commit(k);
    (void)loop, (void)revents;
}

/* --- life ---------------------------------------------------------------------------- */

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st, char *err, size_t errcap)
{
    if (sqlite3_prepare_v2(db, sql, -1, st, NULL) != SQLITE_OK) {
        snprintf(err, errcap, "database: %s", sqlite3_errmsg(db));
        return -1;
    }
    return 0;
}

static int64_t col64(sqlite3_stmt *st, int i) { return sqlite3_column_int64(st, i); }

/* A time read back that lies ahead of now: the last process ran its clock faster
 * (--time-scale) than this one's has run since; what happened cannot be later than now. */
static int64_t past(int64_t t, int64_t now) { return t > now ? now : t; }

/* Every registered device, with its times read back (virtual ms of this process). */
static int load(struct core *k, char *err, size_t errcap)
{
    struct svc_dev *d = S(k);
    sqlite3 *db = store_sqlite(k->store);
    sqlite3_stmt *st;
    if (prepare(db,
                "SELECT d.protocol, d.device_id, m.device_id IS NOT NULL, m.ever, m.connected, m.last_seen_ms,"
                " m.dropped_ms, m.deadline_ms, m.status, m.status_ms, s.online IS NOT NULL, s.at_ms"
                " FROM devices d LEFT JOIN dev_mgmt m ON m.protocol = d.protocol AND m.device_id = d.device_id"
                " LEFT JOIN status s ON s.protocol = d.protocol AND s.device_id = d.device_id",
                &st, err, errcap) < 0)
        return -1;
    int64_t now = svc_now_ms();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *proto = (const char *)sqlite3_column_text(st, 0), *id = (const char *)sqlite3_column_text(st, 1);
        struct dev *e = proto && id ? dev_add(k, proto, id) : NULL;
        if (!e)
            continue;
        if (sqlite3_column_int(st, 2)) {
            e->t.ever = sqlite3_column_int(st, 3) != 0;
            e->t.last_seen_ms = past(col64(st, 5) - d->base, now);
            e->t.dropped_ms = past(col64(st, 6) - d->base, now);
            e->deadline = col64(st, 7) ? col64(st, 7) - d->base : 0;
            int s = svc_dev_status_parse((const char *)sqlite3_column_text(st, 8));
            e->status = (uint8_t)(s < 0 ? DS_INACTIVE : s);
            e->status_at = past(col64(st, 9) - d->base, now);
            e->saved_seen = e->t.last_seen_ms;
            if (sqlite3_column_int(st, 4)) {
                /* connected when the last core went: it lost sight of it then, or now at the latest */
                e->t.dropped_ms = now;
                mark(k, e);
            }
        } else {
            /* registered before this service kept its rows: the store's last status says if it ever came */
            if (sqlite3_column_int(st, 10)) {
                e->t.ever = true;
                e->t.last_seen_ms = e->t.dropped_ms = col64(st, 11) - d->base;
            }
            e->status = (uint8_t)judged(&e->t, now);
            e->status_at = now;
            mark(k, e);
        }
        look(k, e, now, true);
    }
    if (rc != SQLITE_DONE)
        snprintf(err, errcap, "database: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int svc_dev_start(struct core *k, char *err, size_t errcap)
{
    struct svc_dev *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    mut_no_offline = svc_mutant(k, "status-no-offline");
    mut_no_abnormal = svc_mutant(k, "status-no-abnormal");
    mut_no_inactive = svc_mutant(k, "status-no-inactive");
    mut_long_by_report = svc_mutant(k, "status-long-by-report");
    k->svc_dev = d;
    d->base = svc_unix_ms(0);
    double real = SVC_DEV_SEEN_SLACK_REAL_S * 1000 * clock_scale();
    d->seen_slack = real > SVC_DEV_SEEN_SLACK_MS ? (int64_t)real : SVC_DEV_SEEN_SLACK_MS;
    ev_timer_init(&d->timer, timer_cb, 0, 0);
    d->timer.data = k;
    ev_timer_init(&d->flush, flush_cb, SVC_DEV_FLUSH_S, SVC_DEV_FLUSH_S);
    d->flush.data = k;
    sqlite3 *db = store_sqlite(k->store);
    char *msg = NULL;
    if (sqlite3_exec(db, SCHEMA, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errcap, "database: %s", msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        svc_dev_stop(k);
        return -1;
    }
    if (prepare(db, PUT_SQL, &d->put, err, errcap) < 0 ||
        prepare(db, "DELETE FROM dev_mgmt WHERE protocol = ?1 AND device_id = ?2", &d->del, err, errcap) < 0 ||
        prepare(db, "INSERT INTO dev_status_history(protocol, device_id, status, at_ms) VALUES(?1, ?2, ?3, ?4)",
                &d->hist_put, err, errcap) < 0 ||
        prepare(db, "DELETE FROM dev_status_history WHERE protocol = ?1 AND device_id = ?2", &d->hist_del, err,
                errcap) < 0 ||
        prepare(db, REG_SQL, &d->reg_put, err, errcap) < 0 ||
        prepare(db, "SELECT device_id FROM dev_mgmt WHERE protocol = ?1 AND node_id = ?2 LIMIT 1", &d->node_get, err,
                errcap) < 0 ||
        prepare(db, "UPDATE dev_mgmt SET end_user = ?3 WHERE protocol = ?1 AND device_id = ?2", &d->end_user_set,
                err, errcap) < 0 ||
        load(k, err, errcap) < 0) {
        svc_dev_stop(k);
        return -1;
    }
    ev_timer_start(k->loop, &d->flush);
    arm(k);
    return 0;
}

void svc_dev_stop(struct core *k)
{
    struct svc_dev *d = S(k);
    if (!d)
        return;
    ev_timer_stop(k->loop, &d->timer);
    ev_timer_stop(k->loop, &d->flush);
    /* the connections end with the process: dropped now */
    int64_t now = svc_now_ms();
    for (size_t i = 0; i < d->n_buckets; i++)
        for (struct dev *e = d->buckets[i]; e; e = e->next)
            if (e->t.connected) {
                e->t.connected = false;
                e->t.dropped_ms = now;
                mark(k, e);
            }
    if (d->put && (d->n_dirty || d->n_hist)) {
        core_batch_begin(k);
        svc_dev__write(k);
        core_batch_end(k);
    }
    sqlite3_stmt *sts[] = {d->put, d->del, d->hist_put, d->hist_del, d->reg_put, d->node_get, d->end_user_set};
    for (size_t i = 0; i < sizeof sts / sizeof *sts; i++)
        sqlite3_finalize(sts[i]);
    for (size_t i = 0; i < d->n_buckets; i++)
        for (struct dev *e = d->buckets[i], *nx; e; e = nx) {
            nx = e->next;
            free(e);
        }
    free(d->buckets);
    free(d->heap);
    free(d->dirty);
    free(d->hist);
    free(d);
    k->svc_dev = NULL;
}
