/* The registry's database: open, schema, prepared statements, and the small
 * look-ups (auth, unregister, device name, count).  Registration, CSV import and
 * positions live in registry_register.c, registry_import.c, registry_position.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/platform/registry_internal.h"

/* Several gateway processes may open a new file at the same moment, so the whole
 * schema is created inside one write transaction.  Timestamps are unix ms; lat/lon
 * are the wire's 1e-6 degrees with south/west in the status bits. */
static const char SCHEMA_SQL[] =
    "CREATE TABLE IF NOT EXISTS triples("
    " manufacturer TEXT NOT NULL, model TEXT NOT NULL, terminal_id TEXT NOT NULL,"
    " plate_color INTEGER, plate TEXT,"
    " PRIMARY KEY(manufacturer, model, terminal_id));"
    "CREATE TABLE IF NOT EXISTS terminals("
    " phone TEXT PRIMARY KEY, manufacturer TEXT NOT NULL, model TEXT NOT NULL,"
    " terminal_id TEXT NOT NULL, plate_color INTEGER NOT NULL, plate TEXT NOT NULL,"
    " auth_code TEXT NOT NULL, device_name TEXT NOT NULL, registered_at INTEGER NOT NULL);"
    /* backstops for results 3 and 1 should two processes ever race past the checks */
    "CREATE UNIQUE INDEX IF NOT EXISTS terminals_triple"
    " ON terminals(manufacturer, model, terminal_id);"
    "CREATE UNIQUE INDEX IF NOT EXISTS terminals_vehicle"
    " ON terminals(plate_color, plate) WHERE plate <> '';"
    "CREATE TABLE IF NOT EXISTS positions("
    " phone TEXT PRIMARY KEY, lat INTEGER NOT NULL, lon INTEGER NOT NULL,"
    " speed INTEGER NOT NULL, direction INTEGER NOT NULL, altitude INTEGER NOT NULL,"
    " alarm INTEGER NOT NULL, status INTEGER NOT NULL, time TEXT NOT NULL,"
    " updated_at INTEGER NOT NULL);";

static const char *const STMT_SQL[RS__COUNT] = {
    [RS_BEGIN] = "BEGIN IMMEDIATE",
    [RS_COMMIT] = "COMMIT",
    [RS_ROLLBACK] = "ROLLBACK",
    [RS_TRIPLE_GET] = "SELECT plate_color, plate FROM triples"
                      " WHERE manufacturer = ?1 AND model = ?2 AND terminal_id = ?3",
    [RS_TRIPLE_PUT] = "INSERT INTO triples(manufacturer, model, terminal_id, plate_color, plate)"
                      " VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(manufacturer, model, terminal_id)"
                      " DO UPDATE SET plate_color = excluded.plate_color, plate = excluded.plate",
    [RS_TERM_BY_TRIPLE] = "SELECT phone, auth_code, plate_color, plate FROM terminals"
                          " WHERE manufacturer = ?1 AND model = ?2 AND terminal_id = ?3",
    [RS_TERM_BY_PHONE] = "SELECT auth_code, device_name FROM terminals WHERE phone = ?1",
    /* "plate <> ''" lets the planner use the partial index terminals_vehicle */
    [RS_VEHICLE_OWNER] = "SELECT phone FROM terminals"
                         " WHERE plate_color = ?1 AND plate = ?2 AND plate <> '' AND phone <> ?3 LIMIT 1",
    /* a phone that moves to another terminal replaces its old registration */
    [RS_TERM_PUT] = "INSERT INTO terminals(phone, manufacturer, model, terminal_id, plate_color,"
                    " plate, auth_code, device_name, registered_at)"
                    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT(phone) DO UPDATE SET"
                    " manufacturer = excluded.manufacturer, model = excluded.model,"
                    " terminal_id = excluded.terminal_id, plate_color = excluded.plate_color,"
                    " plate = excluded.plate, auth_code = excluded.auth_code,"
                    " device_name = excluded.device_name, registered_at = excluded.registered_at",
    [RS_TERM_SET_PLATE] = "UPDATE terminals SET plate_color = ?2, plate = ?3 WHERE phone = ?1",
    [RS_TERM_DEL] = "DELETE FROM terminals WHERE phone = ?1",
    [RS_TERM_COUNT] = "SELECT COUNT(*) FROM terminals",
    /* across processes the newest arrival wins, whichever process flushes last */
    [RS_POS_PUT] = "INSERT INTO positions(phone, lat, lon, speed, direction, altitude, alarm,"
                   " status, time, updated_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
                   " ON CONFLICT(phone) DO UPDATE SET lat = excluded.lat, lon = excluded.lon,"
                   " speed = excluded.speed, direction = excluded.direction,"
                   " altitude = excluded.altitude, alarm = excluded.alarm,"
                   " status = excluded.status, time = excluded.time,"
                   " updated_at = excluded.updated_at"
                   " WHERE excluded.updated_at >= positions.updated_at",
    [RS_POS_GET] = "SELECT lat, lon, speed, direction, altitude, alarm, status, time"
                   " FROM positions WHERE phone = ?1",
};

void registry__err(char *err, size_t cap, const char *fmt, ...)
{
    if (!err || cap == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
}

int64_t registry__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int registry__exec(struct registry *r, enum registry_stmt s)
{
    sqlite3_stmt *st = r->st[s];
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
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
    for (int waited = 0; waited < REGISTRY_BUSY_MS; waited += 2) {
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
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE;"
                              "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value NOT NULL);",
                          NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        goto fail;
    rc = read_version(db, &version);
    if (rc != SQLITE_OK)
        goto fail;
    if (version > REGISTRY_SCHEMA_VERSION) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        registry__err(err, errcap, "%s: schema version %ld is newer than this build's %d",
                      path, version, REGISTRY_SCHEMA_VERSION);
        return -1;
    }
    if (version < 0) {
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        registry__err(err, errcap, "%s: schema version %ld is not valid", path, version);
        return -1;
    }
    /* Version 0 is a new file.  Migrations from older versions go here, each step
     * raising the version row inside this same transaction. */
    rc = sqlite3_exec(db, SCHEMA_SQL, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        goto fail;
    if (version == 0) {
        char sql[96];
        snprintf(sql, sizeof sql, "INSERT INTO meta(key, value) VALUES('schema_version', %d)",
                 REGISTRY_SCHEMA_VERSION);
        rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
        if (rc != SQLITE_OK)
            goto fail;
    }
    rc = sqlite3_exec(db, "COMMIT", NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        goto fail;
    return 0;
fail:
    registry__err(err, errcap, "%s: creating schema: %s", path, msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

int registry_open(struct registry **out, const char *path, enum registry_mode mode, char *err, size_t errcap)
{
    char jm[16];
    int rc;

    if (!out) {
        registry__err(err, errcap, "registry_open: out is NULL");
        return -1;
    }
    *out = NULL;
    if (!path) {
        registry__err(err, errcap, "registry_open: path is NULL");
        return -1;
    }
    if (mode != REGISTRY_OPEN && mode != REGISTRY_ONE_PARTY) {
        registry__err(err, errcap, "%s: mode %d unknown (0 open, 1 one-party)", path, (int)mode);
        return -1;
    }
    struct registry *r = calloc(1, sizeof *r);
    if (!r) {
        registry__err(err, errcap, "%s: out of memory", path);
        return -1;
    }
    r->mode = mode;
    rc = sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        registry__err(err, errcap, "%s: %s", path, r->db ? sqlite3_errmsg(r->db) : sqlite3_errstr(rc));
        goto fail;
    }
    sqlite3_busy_timeout(r->db, REGISTRY_BUSY_MS);
    rc = enable_wal(r->db, jm, sizeof jm);
    if (rc != SQLITE_OK) {
        registry__err(err, errcap, "%s: enabling WAL: %s", path, sqlite3_errmsg(r->db));
        goto fail;
    }
    /* Readers in other processes must not block writers: without WAL the file is not shared safely. */
    if (strcmp(jm, "wal") != 0 && !is_memory_path(path)) {
        registry__err(err, errcap, "%s: journal mode is '%s', WAL could not be enabled", path, jm);
        goto fail;
    }
    /* NORMAL in WAL mode: a commit survives a process crash, only a power loss may lose the last ones. */
    rc = sqlite3_exec(r->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        registry__err(err, errcap, "%s: setting synchronous: %s", path, sqlite3_errmsg(r->db));
        goto fail;
    }
    if (setup_schema(r->db, path, err, errcap) != 0)
        goto fail;
    for (int i = 0; i < RS__COUNT; i++) {
        rc = sqlite3_prepare_v3(r->db, STMT_SQL[i], -1, SQLITE_PREPARE_PERSISTENT, &r->st[i], NULL);
        if (rc != SQLITE_OK) {
            registry__err(err, errcap, "%s: preparing '%s': %s", path, STMT_SQL[i], sqlite3_errmsg(r->db));
            goto fail;
        }
    }
    *out = r;
    return 0;
fail:
    registry_close(r);
    return -1;
}

void registry_close(struct registry *r)
{
    if (!r)
        return;
    /* positions not yet flushed would otherwise be lost silently (a handle that
     * failed to open never holds any) */
    if (r->pos.dirty)
        registry_flush(r, NULL, 0);
    for (int i = 0; i < RS__COUNT; i++)
        sqlite3_finalize(r->st[i]);
    sqlite3_close(r->db);
    registry__pos_free(&r->pos);
    free(r);
}

static bool phone_ok(const char *phone)
{
    if (!phone)
        return false;
    size_t n = strnlen(phone, REGISTRY_PHONE_MAX + 1);
    return n > 0 && n <= REGISTRY_PHONE_MAX;
}

/* Constant time over the stored code so a wrong guess learns nothing from timing. */
static bool code_equal(const unsigned char *stored, int stored_len, const char *given)
{
    size_t n = strnlen(given, 64);
    if (stored_len < 0 || (size_t)stored_len != n)
        return false;
    unsigned char diff = 0;
    for (size_t i = 0; i < n; i++)
        diff |= stored[i] ^ (unsigned char)given[i];
    return diff == 0;
}

bool registry_auth(struct registry *r, const char *phone, const char *auth_code)
{
    if (!r || !phone_ok(phone) || !auth_code || auth_code[0] == '\0')
        return false;
    sqlite3_stmt *st = r->st[RS_TERM_BY_PHONE];
    bool ok = false;
    sqlite3_bind_text(st, 1, phone, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        ok = code_equal(sqlite3_column_text(st, 0), sqlite3_column_bytes(st, 0), auth_code);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return ok;
}

bool registry_unregister(struct registry *r, const char *phone)
{
    if (!r || !phone_ok(phone))
        return false;
    sqlite3_stmt *st = r->st[RS_TERM_DEL];
    sqlite3_bind_text(st, 1, phone, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE && sqlite3_changes(r->db) > 0;
}

/* false and "" both when the phone has no terminal and when out is too small. */
bool registry_device_name(struct registry *r, const char *phone, char *out, size_t cap)
{
    if (!out || cap == 0)
        return false;
    out[0] = '\0';
    if (!r || !phone_ok(phone))
        return false;
    sqlite3_stmt *st = r->st[RS_TERM_BY_PHONE];
    bool ok = false;
    sqlite3_bind_text(st, 1, phone, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char *name = sqlite3_column_text(st, 1);
        size_t n = (size_t)sqlite3_column_bytes(st, 1);
        if (name && n < cap) {
            memcpy(out, name, n + 1);
            ok = true;
        }
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return ok;
}

size_t registry_count(struct registry *r)
{
    if (!r)
        return 0;
    sqlite3_stmt *st = r->st[RS_TERM_COUNT];
    size_t n = 0;
    if (sqlite3_step(st) == SQLITE_ROW)
        n = (size_t)sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return n;
}
