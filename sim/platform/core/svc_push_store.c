/* The push service's tables in the core's store (svc_push.h): subscriptions, and
 * the messages not yet final.  Every write joins the core's batch
 * (core_batch_begin); the caller's batch end commits it.  Times are unix ms of
 * virtual instants, so a core started again (a new epoch) reads them right. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/core/clock.h"
#include "sim/platform/core/core_internal.h"
#include "sim/platform/core/svc_push.h"

enum { ST_SUB_PUT, ST_SUB_DEL, ST_MSG_PUT, ST_MSG_FAIL, ST_MSG_DEL, ST__N };

static const char *const schema =
    "CREATE TABLE IF NOT EXISTS push_subs(id TEXT PRIMARY KEY, app TEXT NOT NULL, type TEXT NOT NULL,"
    " url TEXT NOT NULL, owner INTEGER NOT NULL, created_ms INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS push_msgs(id INTEGER PRIMARY KEY, url TEXT NOT NULL, body TEXT NOT NULL,"
    " queued_ms INTEGER NOT NULL, first_fail_ms INTEGER NOT NULL DEFAULT 0, tries INTEGER NOT NULL DEFAULT 0);";

static const char *const sql[ST__N] = {
    [ST_SUB_PUT] = "INSERT OR REPLACE INTO push_subs(id, app, type, url, owner, created_ms) VALUES(?1,?2,?3,?4,?5,?6)",
    [ST_SUB_DEL] = "DELETE FROM push_subs WHERE id = ?1",
    [ST_MSG_PUT] = "INSERT INTO push_msgs(url, body, queued_ms) VALUES(?1,?2,?3)",
    [ST_MSG_FAIL] = "UPDATE push_msgs SET first_fail_ms = ?2, tries = ?3 WHERE id = ?1",
    [ST_MSG_DEL] = "DELETE FROM push_msgs WHERE id = ?1",
};

int64_t push_unix_of(int64_t virtual_ms) { return clock_unix_ms_at(0) + virtual_ms; }

int64_t push_virtual_of(int64_t unix_ms)
{
    int64_t v = unix_ms - clock_unix_ms_at(0);
    return v ? v : -1; /* 0 means "never failed" to the policy */
}

int push_store_open(struct svc_push *P, char *err, size_t errcap)
{
    sqlite3 *db = store_sqlite(P->k->store);
    char *e = NULL;
    if (!db) {
        snprintf(err, errcap, "no store");
        return -1;
    }
    if (sqlite3_exec(db, schema, NULL, NULL, &e) != SQLITE_OK) {
        snprintf(err, errcap, "push tables: %s", e ? e : sqlite3_errmsg(db));
        sqlite3_free(e);
        return -1;
    }
    for (int i = 0; i < ST__N; i++)
        if (sqlite3_prepare_v2(db, sql[i], -1, (sqlite3_stmt **)&P->st[i], NULL) != SQLITE_OK) {
            snprintf(err, errcap, "push tables: %s", sqlite3_errmsg(db));
            push_store_close(P);
            return -1;
        }
    return 0;
}

void push_store_close(struct svc_push *P)
{
    for (int i = 0; i < ST__N; i++) {
        sqlite3_finalize((sqlite3_stmt *)P->st[i]);
        P->st[i] = NULL;
    }
}

/* Step a write, in the core's batch; 0 or -1 (said once through core_error). */
static int step(struct svc_push *P, int i)
{
    sqlite3_stmt *st = (sqlite3_stmt *)P->st[i];
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE) {
        core_error(P->k, "push store: %s", sqlite3_errmsg(store_sqlite(P->k->store)));
        return -1;
    }
    return 0;
}

int push_store_sub_put(struct svc_push *P, const struct psub *s)
{
    core_batch_begin(P->k);
    sqlite3_stmt *st = (sqlite3_stmt *)P->st[ST_SUB_PUT];
    sqlite3_bind_text(st, 1, s->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, s->app, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, push_types[s->type], -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, P->urls[s->url].url, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, s->owner);
    sqlite3_bind_int64(st, 6, s->created_ms);
    return step(P, ST_SUB_PUT);
}

int push_store_sub_del(struct svc_push *P, const char *id)
{
    core_batch_begin(P->k);
    sqlite3_bind_text((sqlite3_stmt *)P->st[ST_SUB_DEL], 1, id, -1, SQLITE_STATIC);
    return step(P, ST_SUB_DEL);
}

int64_t push_store_msg_put(struct svc_push *P, const char *url, const char *body, size_t len)
{
    core_batch_begin(P->k);
    sqlite3_stmt *st = (sqlite3_stmt *)P->st[ST_MSG_PUT];
    sqlite3_bind_text(st, 1, url, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, body, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, push_unix_of(svc_now_ms()));
    if (step(P, ST_MSG_PUT) < 0)
        return -1;
    return sqlite3_last_insert_rowid(store_sqlite(P->k->store));
}

void push_store_msg_failed(struct svc_push *P, const struct pmsg *m)
{
    if (m->row <= 0)
        return;
    core_batch_begin(P->k);
    sqlite3_stmt *st = (sqlite3_stmt *)P->st[ST_MSG_FAIL];
    sqlite3_bind_int64(st, 1, m->row);
    sqlite3_bind_int64(st, 2, m->pm.first_fail_ms ? push_unix_of(m->pm.first_fail_ms) : 0);
    sqlite3_bind_int64(st, 3, m->pm.tries);
    step(P, ST_MSG_FAIL);
}

void push_store_msg_del(struct svc_push *P, int64_t row)
{
    if (row <= 0)
        return;
    core_batch_begin(P->k);
    sqlite3_bind_int64((sqlite3_stmt *)P->st[ST_MSG_DEL], 1, row);
    step(P, ST_MSG_DEL);
}

int push_store_load(struct svc_push *P, char *err, size_t errcap)
{
    sqlite3 *db = store_sqlite(P->k->store);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT id, app, type, url, owner, created_ms FROM push_subs ORDER BY created_ms, id",
                           -1, &st, NULL) != SQLITE_OK)
        goto fail;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0), *app = (const char *)sqlite3_column_text(st, 1);
        const char *type = (const char *)sqlite3_column_text(st, 2), *url = (const char *)sqlite3_column_text(st, 3);
        int t = push_type_index(type ? type : "");
        if (!id || !app || !url || t < 0 || strlen(id) > PUSH_SUB_ID_LEN || strlen(app) >= NORTH_APP_ID_MAX ||
            P->n_subs >= PUSH_SUBS_MAX)
            continue; /* not one this version writes */
        int u = push_url_index(P, url);
        if (u < 0)
            continue;
        struct psub *s = &P->subs[P->n_subs++];
        memset(s, 0, sizeof *s);
        snprintf(s->id, sizeof s->id, "%s", id);
        snprintf(s->app, sizeof s->app, "%s", app);
        s->type = t;
        s->url = u;
        s->owner = sqlite3_column_int(st, 4) != 0;
        s->created_ms = sqlite3_column_int64(st, 5);
        P->wanted[t]++;
    }
    if (rc != SQLITE_DONE)
        goto fail;
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(db, "SELECT id, url, body, first_fail_ms, tries FROM push_msgs ORDER BY first_fail_ms = 0,"
                               " first_fail_ms, id", -1, &st, NULL) != SQLITE_OK)
        goto fail;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *url = (const char *)sqlite3_column_text(st, 1);
        const char *body = (const char *)sqlite3_column_text(st, 2);
        int u = url ? push_url_index(P, url) : -1;
        char *b = body ? strdup(body) : NULL;
        if (u < 0 || !b) {
            free(b);
            continue;
        }
        int64_t ff = sqlite3_column_int64(st, 3);
        push_restore(P, u, sqlite3_column_int64(st, 0), b, ff ? push_virtual_of(ff) : 0,
                     (uint32_t)sqlite3_column_int(st, 4));
    }
    if (rc != SQLITE_DONE)
        goto fail;
    sqlite3_finalize(st);
    return 0;
fail:
    snprintf(err, errcap, "push tables: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return -1;
}
