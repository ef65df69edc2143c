/* The store's database: open, schema (and the migration from version 1, in
 * store_v1.c), prepared statements, batches, and the small look-ups
 * (auth, unregister, name, count).  Registration and provisioning live in
 * store_register.c, status and reported data in store_data.c, tasks and commands
 * in store_cmd.c, the checkpointing thread in store_ckpt.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/platform/core/store_internal.h"

/* Several processes may open a new file at the same moment, so the whole schema
 * is created inside one write transaction.  Timestamps are unix ms. */
static const char SCHEMA_SQL[] =
    "CREATE TABLE IF NOT EXISTS devices("
    " protocol TEXT NOT NULL, device_id TEXT NOT NULL, name TEXT NOT NULL,"
    " binding TEXT NOT NULL DEFAULT '', product TEXT NOT NULL DEFAULT '', attrs TEXT,"
    " secret TEXT NOT NULL, registered_at INTEGER NOT NULL,"
    " PRIMARY KEY(protocol, device_id), UNIQUE(protocol, name));"
    /* backstop for STORE_REG_BINDING_TAKEN should a check ever be raced past */
    "CREATE UNIQUE INDEX IF NOT EXISTS devices_binding"
    " ON devices(protocol, binding) WHERE binding <> '';"
    /* the northbound API names a device by its id alone (store_device_protocol) */
    "CREATE INDEX IF NOT EXISTS devices_by_id ON devices(device_id);"
    "CREATE TABLE IF NOT EXISTS provisioned("
    " protocol TEXT NOT NULL, name TEXT NOT NULL, binding TEXT NOT NULL DEFAULT '',"
    " PRIMARY KEY(protocol, name));"
    "CREATE TABLE IF NOT EXISTS reports("
    " protocol TEXT NOT NULL, device_id TEXT NOT NULL, service TEXT NOT NULL,"
    " data TEXT NOT NULL, at_ms INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
    " PRIMARY KEY(protocol, device_id, service));"
    "CREATE TABLE IF NOT EXISTS status("
    " protocol TEXT NOT NULL, device_id TEXT NOT NULL, online INTEGER NOT NULL,"
    " at_ms INTEGER NOT NULL, PRIMARY KEY(protocol, device_id));"
    "CREATE TABLE IF NOT EXISTS tasks("
    " id INTEGER PRIMARY KEY, kind TEXT NOT NULL, body TEXT, created_at INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS commands("
    " task INTEGER NOT NULL, protocol TEXT NOT NULL, device_id TEXT NOT NULL,"
    " state TEXT NOT NULL, updated_at INTEGER NOT NULL,"
    " PRIMARY KEY(task, protocol, device_id));";

static const char *const STMT_SQL[SS__COUNT] = {
    [SS_BEGIN] = "BEGIN IMMEDIATE",
    [SS_COMMIT] = "COMMIT",
    [SS_ROLLBACK] = "ROLLBACK",
    [SS_SAVEPOINT] = "SAVEPOINT store_work",
    [SS_RELEASE] = "RELEASE store_work",
    [SS_ROLLBACK_TO] = "ROLLBACK TO store_work",
    [SS_PROV_GET] = "SELECT binding FROM provisioned WHERE protocol = ?1 AND name = ?2",
    [SS_PROV_PUT] = "INSERT INTO provisioned(protocol, name, binding) VALUES(?1, ?2, ?3)"
                    " ON CONFLICT(protocol, name) DO UPDATE SET binding = excluded.binding",
    [SS_DEV_BY_NAME] = "SELECT device_id FROM devices WHERE protocol = ?1 AND name = ?2",
    [SS_DEV_BY_ID] = "SELECT secret, name FROM devices WHERE protocol = ?1 AND device_id = ?2",
    /* "binding <> ''" lets the planner use the partial index devices_binding */
    [SS_BINDING_OWNER] = "SELECT device_id FROM devices WHERE protocol = ?1 AND binding = ?2"
                         " AND binding <> '' AND device_id <> ?3 LIMIT 1",
    /* a device id with a new name replaces its old registration */
    [SS_DEV_PUT] = "INSERT INTO devices(protocol, device_id, name, binding, product, attrs, secret,"
                   " registered_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                   " ON CONFLICT(protocol, device_id) DO UPDATE SET name = excluded.name,"
                   " binding = excluded.binding, product = excluded.product, attrs = excluded.attrs,"
                   " secret = excluded.secret, registered_at = excluded.registered_at",
    /* the same device id and name again: a new secret, so the old one is stale */
    [SS_DEV_UPDATE] = "UPDATE devices SET binding = ?3, product = ?4, attrs = ?5, secret = ?6,"
                      " registered_at = ?7 WHERE protocol = ?1 AND device_id = ?2",
    [SS_DEV_DEL] = "DELETE FROM devices WHERE protocol = ?1 AND device_id = ?2",
    [SS_DEV_COUNT] = "SELECT COUNT(*) FROM devices",
    [SS_DEV_COUNT_PROTO] = "SELECT COUNT(*) FROM devices WHERE protocol = ?1",
    /* across handles the newest arrival wins, whichever flushes last */
    [SS_REPORT_PUT] = "INSERT INTO reports(protocol, device_id, service, data, at_ms, updated_at)"
                      " VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(protocol, device_id, service)"
                      " DO UPDATE SET data = excluded.data, at_ms = excluded.at_ms,"
                      " updated_at = excluded.updated_at WHERE excluded.updated_at >= reports.updated_at",
    [SS_REPORT_GET] = "SELECT data, at_ms FROM reports WHERE protocol = ?1 AND device_id = ?2 AND service = ?3",
    /* the newest change of status wins, whichever handle flushes last */
    [SS_STATUS_PUT] = "INSERT INTO status(protocol, device_id, online, at_ms) VALUES(?1, ?2, ?3, ?4)"
                      " ON CONFLICT(protocol, device_id) DO UPDATE SET online = excluded.online,"
                      " at_ms = excluded.at_ms WHERE excluded.at_ms >= status.at_ms",
    [SS_STATUS_GET] = "SELECT online, at_ms FROM status WHERE protocol = ?1 AND device_id = ?2",
    [SS_TASK_PUT] = "INSERT INTO tasks(kind, body, created_at) VALUES(?1, ?2, ?3)",
    /* a command of a task that does not exist is not stored */
    [SS_CMD_PUT] = "INSERT INTO commands(task, protocol, device_id, state, updated_at)"
                   " SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS(SELECT 1 FROM tasks WHERE id = ?1)"
                   " ON CONFLICT(task, protocol, device_id) DO UPDATE SET state = excluded.state,"
                   " updated_at = excluded.updated_at",
    [SS_CMD_SET] = "UPDATE commands SET state = ?4, updated_at = ?5"
                   " WHERE task = ?1 AND protocol = ?2 AND device_id = ?3",
    [SS_CMD_GET] = "SELECT state FROM commands WHERE task = ?1 AND protocol = ?2 AND device_id = ?3",
    [SS_CMD_COUNT] = "SELECT COUNT(*) FROM commands WHERE task = ?1",
    [SS_CMD_COUNT_STATE] = "SELECT COUNT(*) FROM commands WHERE task = ?1 AND state = ?2",
};

void store__err(char *err, size_t cap, const char *fmt, ...)
{
    if (!err || cap == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
}

int64_t store__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int store__exec(struct store *s, enum store_stmt st)
{
    sqlite3_stmt *p = s->st[st];
    int rc = sqlite3_step(p);
    sqlite3_reset(p);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

void store__done(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

int store__check_len(const char *name, const char *v, size_t min, size_t max, char *why, size_t cap)
{
    if (!v) {
        if (min == 0)
            return 0;
        store__err(why, cap, "%s: missing", name);
        return -1;
    }
    size_t n = strlen(v);
    if (n < min) {
        store__err(why, cap, "%s: empty, needs 1-%zu chars", name, max);
        return -1;
    }
    if (n > max) {
        store__err(why, cap, "%s: %zu chars, at most %zu", name, n, max);
        return -1;
    }
    return 0;
}

bool store__len_ok(const char *v, size_t min, size_t max)
{
    if (!v)
        return min == 0;
    size_t n = strnlen(v, max + 1);
    return n >= min && n <= max;
}

/* SQLite rolls a whole transaction back on some errors (a full disk, I/O): the
 * batch is then gone, and a savepoint must not quietly start a new one. */
bool store__batch_lost(const struct store *s)
{
    return s->batch && sqlite3_get_autocommit(s->db);
}

int store__work_begin(struct store *s, char *err, size_t cap)
{
    if (store__batch_lost(s)) {
        store__err(err, cap, "database: the batch was rolled back by an earlier failure");
        return -1;
    }
    if (store__exec(s, s->batch ? SS_SAVEPOINT : SS_BEGIN) != SQLITE_OK) {
        store__err(err, cap, "database: %s", sqlite3_errmsg(s->db));
        return -1;
    }
    return 0;
}

int store__work_end(struct store *s, bool ok, char *err, size_t cap)
{
    if (s->batch) {
        if (store__batch_lost(s)) {
            if (ok)
                store__err(err, cap, "database: the batch was rolled back by an earlier failure");
            return -1;
        }
        if (!ok)
            store__exec(s, SS_ROLLBACK_TO);
        if (store__exec(s, SS_RELEASE) != SQLITE_OK) {
            if (ok)
                store__err(err, cap, "database: %s", sqlite3_errmsg(s->db));
            return -1;
        }
        return ok ? 0 : -1;
    }
    if (!ok) {
        if (!sqlite3_get_autocommit(s->db))
            store__exec(s, SS_ROLLBACK);
        return -1;
    }
    if (store__exec(s, SS_COMMIT) != SQLITE_OK) {
        store__err(err, cap, "database: %s", sqlite3_errmsg(s->db));
        if (!sqlite3_get_autocommit(s->db))
            store__exec(s, SS_ROLLBACK);
        return -1;
    }
    return 0;
}

static bool is_memory_path(const char *path)
{
    return path[0] == '\0' || strcmp(path, ":memory:") == 0 || strncmp(path, "file::memory:", 13) == 0;
}

/* One-value pragma, e.g. journal_mode, whose answer must be checked. */
static int pragma_text(sqlite3 *db, const char *sql, char *out, size_t cap)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        snprintf(out, cap, "%s", t ? (const char *)t : "");
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

/* Switching a new file to WAL needs an exclusive lock, and SQLite does not run the
 * busy handler for it: when several processes open a new file at once the losers
 * get SQLITE_BUSY at once.  Retry them for as long as the busy timeout. */
static int enable_wal(sqlite3 *db, char *jm, size_t cap)
{
    const struct timespec pause = {0, 2 * 1000000L};
    int rc = SQLITE_BUSY;
    for (int waited = 0; waited < STORE_BUSY_MS; waited += 2) {
        rc = pragma_text(db, "PRAGMA journal_mode=WAL", jm, cap);
        if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
            return rc;
        nanosleep(&pause, NULL);
    }
    return rc;
}

/* Schema version stored in meta, 0 when the table has no row yet. */
static int read_version(sqlite3 *db, long *version)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'schema_version'", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    *version = 0;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *version = sqlite3_column_int64(st, 0);
        rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

static int setup_schema(sqlite3 *db, const char *path, char *err, size_t errcap)
{
    char *msg = NULL;
    long version = 0;
    const char *doing = "creating schema";
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE;"
                              "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value NOT NULL);",
                          NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        goto fail;
    rc = read_version(db, &version);
    if (rc != SQLITE_OK)
        goto fail;
    if (version > STORE_SCHEMA_VERSION) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        store__err(err, errcap, "%s: schema version %ld is newer than this build's %d", path, version,
                   STORE_SCHEMA_VERSION);
        return -1;
    }
    if (version < 0) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        store__err(err, errcap, "%s: schema version %ld is not valid", path, version);
        return -1;
    }
    rc = sqlite3_exec(db, SCHEMA_SQL, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        goto fail;
    /* Each migration raises the version row inside this same transaction, so a
     * file is migrated whole or not at all. */
    if (version == 1) {
        doing = "migrating schema 1 to 2";
        rc = sqlite3_exec(db, store__migrate_1_sql, NULL, NULL, &msg);
        if (rc != SQLITE_OK)
            goto fail;
    } else if (version == 0) {
        char sql[96];
        snprintf(sql, sizeof sql, "INSERT INTO meta(key, value) VALUES('schema_version', %d)",
                 STORE_SCHEMA_VERSION);
        rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
        if (rc != SQLITE_OK)
            goto fail;
    }
    rc = sqlite3_exec(db, "COMMIT", NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        goto fail;
    return 0;
fail:
    store__err(err, errcap, "%s: %s: %s", path, doing, msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

int store_open(struct store **out, const char *path, char *err, size_t errcap)
{
    char jm[16];
    int rc;

    if (!out) {
        store__err(err, errcap, "store_open: out is NULL");
        return -1;
    }
    *out = NULL;
    if (!path) {
        store__err(err, errcap, "store_open: path is NULL");
        return -1;
    }
    struct store *s = calloc(1, sizeof *s);
    if (!s) {
        store__err(err, errcap, "%s: out of memory", path);
        return -1;
    }
    rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        store__err(err, errcap, "%s: %s", path, s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
        goto fail;
    }
    sqlite3_busy_timeout(s->db, STORE_BUSY_MS);
    rc = enable_wal(s->db, jm, sizeof jm);
    if (rc != SQLITE_OK) {
        store__err(err, errcap, "%s: enabling WAL: %s", path, sqlite3_errmsg(s->db));
        goto fail;
    }
    /* Readers in other processes must not block the writer: without WAL the file is not shared safely. */
    if (strcmp(jm, "wal") != 0 && !is_memory_path(path)) {
        store__err(err, errcap, "%s: journal mode is '%s', WAL could not be enabled", path, jm);
        goto fail;
    }
    /* NORMAL in WAL mode: a commit survives a process crash, only a power loss may lose the last ones. */
    rc = sqlite3_exec(s->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        store__err(err, errcap, "%s: setting synchronous: %s", path, sqlite3_errmsg(s->db));
        goto fail;
    }
    /* 16 MB of page cache: the latest value of 100,000 devices stays in memory, so a
     * flush does not read back pages it evicted */
    rc = sqlite3_exec(s->db, "PRAGMA cache_size=-16384", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        store__err(err, errcap, "%s: setting cache_size: %s", path, sqlite3_errmsg(s->db));
        goto fail;
    }
    if (setup_schema(s->db, path, err, errcap) != 0)
        goto fail;
    for (int i = 0; i < SS__COUNT; i++) {
        rc = sqlite3_prepare_v3(s->db, STMT_SQL[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL);
        if (rc != SQLITE_OK) {
            store__err(err, errcap, "%s: preparing '%s': %s", path, STMT_SQL[i], sqlite3_errmsg(s->db));
            goto fail;
        }
    }
    *out = s;
    return 0;
fail:
    store_close(s);
    return -1;
}

void store_close(struct store *s)
{
    if (!s)
        return;
    if (s->batch) {
        /* half a batch is not committed behind the caller's back */
        fprintf(stderr, "store: closed inside a batch: the batch is rolled back\n");
        if (!sqlite3_get_autocommit(s->db))
            store__exec(s, SS_ROLLBACK);
        s->batch = false;
    }
    store__ckpt_stop(s);
    /* values not yet flushed would otherwise be lost silently (a handle that failed
     * to open never holds any); what flush slices left is written here too */
    if (store_pending(s)) {
        char err[256];
        if (store_flush(s, err, sizeof err) != 0)
            fprintf(stderr, "store: flush at close: %s\n", err);
    }
    for (int i = 0; i < SS__COUNT; i++)
        sqlite3_finalize(s->st[i]);
    sqlite3_close(s->db);
    store__vals_free(&s->vals);
    free(s);
}

int store_begin(struct store *s, char *err, size_t errcap)
{
    if (!s) {
        store__err(err, errcap, "store_begin: store is NULL");
        return -1;
    }
    if (s->batch) {
        store__err(err, errcap, "store_begin: a batch is already open");
        return -1;
    }
    if (store__exec(s, SS_BEGIN) != SQLITE_OK) {
        store__err(err, errcap, "begin: database: %s", sqlite3_errmsg(s->db));
        return -1;
    }
    s->batch = true;
    s->vals.batch_flushed = false;
    return 0;
}

/* A failed commit rolls the batch back: everything since store_begin is undone
 * (values a flush wrote in it stay dirty for the next flush). */
int store_commit(struct store *s, char *err, size_t errcap)
{
    if (!s) {
        store__err(err, errcap, "store_commit: store is NULL");
        return -1;
    }
    if (!s->batch) {
        store__err(err, errcap, "store_commit: no batch is open");
        return -1;
    }
    s->batch = false;
    if (sqlite3_get_autocommit(s->db)) {
        store__err(err, errcap, "commit: database: the batch was rolled back by an earlier failure");
        return -1;
    }
    if (store__exec(s, SS_COMMIT) != SQLITE_OK) {
        store__err(err, errcap, "commit: database: %s (the batch is rolled back)", sqlite3_errmsg(s->db));
        if (!sqlite3_get_autocommit(s->db))
            store__exec(s, SS_ROLLBACK);
        return -1;
    }
    store__vals_committed(&s->vals);
    return 0;
}

static bool key_ok(const char *protocol, const char *device_id)
{
    return store__len_ok(protocol, 1, STORE_PROTOCOL_MAX) && store__len_ok(device_id, 1, STORE_ID_MAX);
}

static void bind_key(sqlite3_stmt *st, const char *protocol, const char *device_id)
{
    sqlite3_bind_text(st, 1, protocol, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, device_id, -1, SQLITE_STATIC);
}

/* Constant time over the stored secret so a wrong guess learns nothing from timing. */
static bool secret_equal(const unsigned char *stored, int stored_len, const char *given)
{
    size_t n = strnlen(given, STORE_SECRET_MAX + 1);
    if (!stored || stored_len < 0 || (size_t)stored_len != n)
        return false;
    unsigned char diff = 0;
    for (size_t i = 0; i < n; i++)
        diff |= stored[i] ^ (unsigned char)given[i];
    return diff == 0;
}

bool store_auth(struct store *s, const char *protocol, const char *device_id, const char *secret)
{
    if (!s || !key_ok(protocol, device_id) || !secret || secret[0] == '\0')
        return false;
    sqlite3_stmt *st = s->st[SS_DEV_BY_ID];
    bool ok = false;
    bind_key(st, protocol, device_id);
    if (sqlite3_step(st) == SQLITE_ROW)
        ok = secret_equal(sqlite3_column_text(st, 0), sqlite3_column_bytes(st, 0), secret);
    store__done(st);
    return ok;
}

bool store_unregister(struct store *s, const char *protocol, const char *device_id)
{
    if (!s || !key_ok(protocol, device_id) || store__batch_lost(s))
        return false;
    sqlite3_stmt *st = s->st[SS_DEV_DEL];
    bind_key(st, protocol, device_id);
    int rc = sqlite3_step(st);
    store__done(st);
    return rc == SQLITE_DONE && sqlite3_changes(s->db) > 0;
}

/* false and "" both when the device is not registered and when out is too small. */
bool store_device_name(struct store *s, const char *protocol, const char *device_id, char *out, size_t cap)
{
    if (!out || cap == 0)
        return false;
    out[0] = '\0';
    if (!s || !key_ok(protocol, device_id))
        return false;
    sqlite3_stmt *st = s->st[SS_DEV_BY_ID];
    bool ok = false;
    bind_key(st, protocol, device_id);
    if (sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char *name = sqlite3_column_text(st, 1);
        size_t n = (size_t)sqlite3_column_bytes(st, 1);
        if (name && n < cap) {
            memcpy(out, name, n + 1);
            ok = true;
        }
    }
    store__done(st);
    return ok;
}

size_t store_count(struct store *s, const char *protocol)
{
    if (!s)
        return 0;
    sqlite3_stmt *st;
    if (protocol) {
        if (!store__len_ok(protocol, 1, STORE_PROTOCOL_MAX))
            return 0;
        st = s->st[SS_DEV_COUNT_PROTO];
        sqlite3_bind_text(st, 1, protocol, -1, SQLITE_STATIC);
    } else {
        st = s->st[SS_DEV_COUNT];
    }
    size_t n = 0;
    if (sqlite3_step(st) == SQLITE_ROW)
        n = (size_t)sqlite3_column_int64(st, 0);
    store__done(st);
    return n;
}
