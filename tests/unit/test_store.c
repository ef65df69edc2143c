/* store: the registration rules and their order, secrets, provisioning, batches,
 * unregister, counts per protocol, reported data and status with their flush,
 * tasks and commands, open errors, the schema (version, WAL, the migration from
 * the JT/T 808 registry's version 1), persistence, and sharing one file between
 * handles and processes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "tests/unit/scratch.h"
#include <cmocka.h>
#include <sqlite3.h>

#include "sim/platform/core/store.h"
#include "sim/platform/core/store_internal.h"   /* the dirty list, to see what a flush visits */

static char progdir[256];  /* argv[0]: the scratch directory goes beside it */
static char tmpdir[320];

/* ---- helpers ------------------------------------------------------------- */

static struct store_device dev(const char *protocol, const char *id, const char *name, const char *binding)
{
    struct store_device d = {.protocol = protocol, .device_id = id, .name = name, .binding = binding};
    return d;
}

static enum store_reg_result reg_full(struct store *s, const char *protocol, const char *id, const char *name,
                                      const char *binding, bool provisioned_only, char secret[STORE_SECRET_MAX + 1])
{
    struct store_device d = dev(protocol, id, name, binding);
    char why[160] = "";
    char scratch[STORE_SECRET_MAX + 1];
    enum store_reg_result r = store_register(s, &d, provisioned_only, secret ? secret : scratch,
                                             STORE_SECRET_MAX + 1, why, sizeof why);
    if (r == STORE_REG_ERROR)
        print_message("why: %s\n", why);
    else if (why[0] != '\0')
        fail_msg("result %d with why '%s'", r, why);
    return r;
}

/* protocol "p1", open registration */
static enum store_reg_result reg(struct store *s, const char *id, const char *name, const char *binding,
                                 char secret[STORE_SECRET_MAX + 1])
{
    return reg_full(s, "p1", id, name, binding, false, secret);
}

/* protocol "p1", provisioning required */
static enum store_reg_result reg_prov(struct store *s, const char *id, const char *name, const char *binding)
{
    return reg_full(s, "p1", id, name, binding, true, NULL);
}

static void provision(struct store *s, const char *protocol, const char *name, const char *binding)
{
    struct store_provision p = {.protocol = protocol, .name = name, .binding = binding};
    char err[160] = "";
    if (store_provision(s, &p, err, sizeof err) != 0)
        fail_msg("provision %s: %s", name, err);
}

static struct store *open_ok(const char *path)
{
    struct store *s = NULL;
    char err[256] = "";
    if (store_open(&s, path, err, sizeof err) != 0)
        fail_msg("open %s: %s", path, err);
    assert_non_null(s);
    return s;
}

static void tmp_path(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", tmpdir, name);
}

static void write_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
}

static void remove_db(const char *path)
{
    char p[512];
    unlink(path);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
}

static bool is_hex16(const char *s)
{
    if (strlen(s) != 16)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A string of n copies of c; each call has its own storage (from a pool that
 * wraps only after far more than one test uses). */
static const char *rep(char c, size_t n)
{
    static char pool[1 << 20];
    static size_t used;
    if (used + n + 1 > sizeof pool)
        used = 0;
    char *b = pool + used;
    used += n + 1;
    memset(b, c, n);
    b[n] = '\0';
    return b;
}

static sqlite3 *raw_open(const char *path)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 2000);
    return db;
}

static void raw_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        char copy[256];
        snprintf(copy, sizeof copy, "%s", msg ? msg : "?");
        sqlite3_free(msg);
        fail_msg("%s: %s", sql, copy);
    }
}

/* The text of a one-row, one-column query ("" when no row). */
static void raw_text(sqlite3 *db, const char *sql, char *out, size_t cap)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    out[0] = '\0';
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
}

static long raw_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long v = (long)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* ---- open ---------------------------------------------------------------- */

static void test_open_errors(void **state)
{
    struct store *s = (struct store *)1;
    char err[256];

    assert_int_equal(store_open(&s, NULL, err, sizeof err), -1);
    assert_null(s);
    assert_string_equal(err, "store_open: path is NULL");
    assert_int_equal(store_open(NULL, ":memory:", err, sizeof err), -1);
    assert_string_equal(err, "store_open: out is NULL");

    char path[512];
    tmp_path(path, sizeof path, "not-a-db");
    {
        const char junk[] = "this is plainly not an SQLite database file, just some text.\n";
        write_file(path, junk, sizeof junk - 1);
    }
    s = (struct store *)1;
    assert_int_equal(store_open(&s, path, err, sizeof err), -1);
    assert_null(s);
    char want[640];
    snprintf(want, sizeof want, "%s: enabling WAL: file is not a database", path);
    assert_string_equal(err, want);
    unlink(path);

    tmp_path(path, sizeof path, "no-such-dir/x.db");
    assert_int_equal(store_open(&s, path, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: unable to open database file", path);
    assert_string_equal(err, want);

    /* NULL handles are harmless */
    store_close(NULL);
    assert_int_equal(store_begin(NULL, err, sizeof err), -1);
    assert_string_equal(err, "store_begin: store is NULL");
    assert_int_equal(store_commit(NULL, err, sizeof err), -1);
    assert_string_equal(err, "store_commit: store is NULL");
    assert_int_equal(store_flush(NULL, err, sizeof err), -1);
    assert_string_equal(err, "store_flush: store is NULL");
    assert_int_equal(store_count(NULL, NULL), 0);
}

static void test_schema_version_and_wal(void **state)
{
    char path[512], err[256], text[64];
    tmp_path(path, sizeof path, "schema.db");
    struct store *s = open_ok(path);
    store_close(s);

    sqlite3 *db = raw_open(path);
    assert_int_equal(raw_int(db, "SELECT value FROM meta WHERE key = 'schema_version'"), 2);
    raw_text(db, "PRAGMA journal_mode", text, sizeof text);
    assert_string_equal(text, "wal");
    /* the tables of version 2, and nothing of version 1 */
    static const char *const tables[] = {"devices", "provisioned", "reports", "status", "tasks", "commands"};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '%s'", tables[i]);
        if (raw_int(db, sql) != 1)
            fail_msg("table %s missing", tables[i]);
    }
    assert_int_equal(raw_int(db, "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('triples', 'terminals', 'positions')"), 0);
    /* a file written by a later version must not be touched */
    raw_exec(db, "UPDATE meta SET value = 3 WHERE key = 'schema_version'");
    sqlite3_close(db);

    s = (struct store *)1;
    assert_int_equal(store_open(&s, path, err, sizeof err), -1);
    assert_null(s);
    char want[640];
    snprintf(want, sizeof want, "%s: schema version 3 is newer than this build's 2", path);
    assert_string_equal(err, want);
    db = raw_open(path);
    assert_int_equal(raw_int(db, "SELECT value FROM meta WHERE key = 'schema_version'"), 3);
    raw_exec(db, "UPDATE meta SET value = -1 WHERE key = 'schema_version'");
    sqlite3_close(db);
    assert_int_equal(store_open(&s, path, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: schema version -1 is not valid", path);
    assert_string_equal(err, want);
    remove_db(path);
}

/* ---- registration -------------------------------------------------------- */

static void test_register_happy_path(void **state)
{
    struct store *s = open_ok(":memory:");
    char secret[STORE_SECRET_MAX + 1], name[160], why[160] = "x";
    struct store_device d = {.protocol = "p1", .device_id = "dev-1", .name = "alpha", .binding = "car:1",
                             .product = "tracker", .attrs = "{\"k\":1}"};

    assert_int_equal(store_count(s, NULL), 0);
    assert_int_equal(store_register(s, &d, false, secret, sizeof secret, why, sizeof why), STORE_REG_OK);
    assert_string_equal(why, "");
    assert_true(is_hex16(secret));
    assert_true(store_auth(s, "p1", "dev-1", secret));
    assert_true(store_device_name(s, "p1", "dev-1", name, sizeof name));
    assert_string_equal(name, "alpha");
    assert_int_equal(store_count(s, NULL), 1);
    assert_int_equal(store_count(s, "p1"), 1);

    /* no binding at all (NULL or ""): nothing to collide with */
    assert_int_equal(reg(s, "dev-2", "beta", NULL, NULL), STORE_REG_OK);
    assert_int_equal(reg(s, "dev-3", "gamma", "", NULL), STORE_REG_OK);
    assert_int_equal(reg(s, "dev-4", "delta", "", NULL), STORE_REG_OK);
    assert_int_equal(store_count(s, NULL), 4);

    /* two secrets from getrandom differ */
    char secret2[STORE_SECRET_MAX + 1];
    assert_int_equal(reg(s, "dev-5", "epsilon", "", secret2), STORE_REG_OK);
    assert_true(is_hex16(secret2));
    assert_string_not_equal(secret, secret2);
    store_close(s);
}

static void test_binding_taken(void **state)
{
    struct store *s = open_ok(":memory:");
    assert_int_equal(reg(s, "d1", "n1", "1:B12345", NULL), STORE_REG_OK);
    assert_int_equal(reg(s, "d2", "n2", "1:B12345", NULL), STORE_REG_BINDING_TAKEN);
    assert_int_equal(store_count(s, NULL), 1);
    /* another binding is another thing bound */
    assert_int_equal(reg(s, "d2", "n2", "2:B12345", NULL), STORE_REG_OK);
    assert_int_equal(store_count(s, NULL), 2);
    assert_false(store_auth(s, "p1", "d3", "0000000000000000"));
    store_close(s);
}

static void test_binding_mismatch(void **state)
{
    struct store *s = open_ok(":memory:");
    provision(s, "p1", "n1", "1:B12345");
    provision(s, "p1", "n2", "");
    provision(s, "p1", "n3", NULL);
    assert_int_equal(reg_prov(s, "d1", "n1", "1:B99999"), STORE_REG_BINDING_MISMATCH);
    assert_int_equal(reg_prov(s, "d1", "n1", "2:B12345"), STORE_REG_BINDING_MISMATCH);
    assert_int_equal(reg_prov(s, "d1", "n1", ""), STORE_REG_BINDING_MISMATCH);
    assert_int_equal(reg_prov(s, "d1", "n1", NULL), STORE_REG_BINDING_MISMATCH);
    assert_int_equal(store_count(s, NULL), 0);
    assert_int_equal(reg_prov(s, "d1", "n1", "1:B12345"), STORE_REG_OK);
    /* a name provisioned with no binding takes any, or none */
    assert_int_equal(reg_prov(s, "d2", "n2", "5:E55555"), STORE_REG_OK);
    assert_int_equal(reg_prov(s, "d3", "n3", ""), STORE_REG_OK);
    assert_int_equal(store_count(s, NULL), 3);
    /* open registration does not look at what was provisioned */
    assert_int_equal(reg(s, "d4", "n4", "9:Z", NULL), STORE_REG_OK);
    store_close(s);
}

static void test_name_taken(void **state)
{
    struct store *s = open_ok(":memory:");
    char secret[STORE_SECRET_MAX + 1];
    assert_int_equal(reg(s, "d1", "n1", "A1", secret), STORE_REG_OK);
    assert_int_equal(reg(s, "d2", "n1", "A1", NULL), STORE_REG_NAME_TAKEN);
    assert_int_equal(reg(s, "d2", "n1", "", NULL), STORE_REG_NAME_TAKEN);
    /* names are compared exactly */
    assert_int_equal(reg(s, "d2", "N1", "", NULL), STORE_REG_OK);
    assert_true(store_auth(s, "p1", "d1", secret));
    assert_int_equal(store_count(s, NULL), 2);
    store_close(s);
}

static void test_not_provisioned(void **state)
{
    struct store *s = open_ok(":memory:");
    /* nothing provisioned yet */
    assert_int_equal(reg_prov(s, "d1", "n1", "1:B12345"), STORE_REG_NOT_PROVISIONED);
    provision(s, "p1", "n1", "1:B12345");
    provision(s, "p2", "n9", "");
    assert_int_equal(reg_prov(s, "d1", "n9", "1:B12345"), STORE_REG_NOT_PROVISIONED); /* another protocol's */
    /* case matters */
    assert_int_equal(reg_prov(s, "d1", "N1", "1:B12345"), STORE_REG_NOT_PROVISIONED);
    assert_int_equal(store_count(s, NULL), 0);
    assert_int_equal(reg_prov(s, "d1", "n1", "1:B12345"), STORE_REG_OK);
    /* the same device with open registration registers */
    assert_int_equal(reg(s, "d2", "n9", "1:B0", NULL), STORE_REG_OK);
    store_close(s);
}

/* Checks run provisioning, name, binding: the first failing fact decides. */
static void test_result_precedence(void **state)
{
    struct store *s = open_ok(":memory:");
    provision(s, "p1", "n1", "1:B12345");
    provision(s, "p1", "n3", "");
    assert_int_equal(reg_prov(s, "d1", "n1", "1:B12345"), STORE_REG_OK);
    assert_int_equal(reg(s, "d5", "n5", "", NULL), STORE_REG_OK);
    /* name taken by another device and binding taken: name */
    assert_int_equal(reg_prov(s, "d2", "n1", "1:B12345"), STORE_REG_NAME_TAKEN);
    /* name taken and binding not the provisioned one: mismatch */
    assert_int_equal(reg_prov(s, "d2", "n1", "1:B00000"), STORE_REG_BINDING_MISMATCH);
    /* name not provisioned, binding taken: not provisioned */
    assert_int_equal(reg_prov(s, "d2", "n2", "1:B12345"), STORE_REG_NOT_PROVISIONED);
    /* name not provisioned and taken (it registered openly): not provisioned */
    assert_int_equal(reg_prov(s, "d2", "n5", ""), STORE_REG_NOT_PROVISIONED);
    /* free name, binding taken: binding */
    assert_int_equal(reg_prov(s, "d2", "n3", "1:B12345"), STORE_REG_BINDING_TAKEN);
    assert_int_equal(store_count(s, NULL), 2);
    store_close(s);
}

struct bad_case {
    struct store_device d;
    const char *why;
};

static void test_bad_arguments(void **state)
{
    const struct bad_case cases[] = {
        {{NULL, "d1", "n1", "", "", NULL}, "protocol: missing"},
        {{"", "d1", "n1", "", "", NULL}, "protocol: empty, needs 1-15 chars"},
        {{rep('p', 16), "d1", "n1", "", "", NULL}, "protocol: 16 chars, at most 15"},
        {{"p1", NULL, "n1", "", "", NULL}, "device_id: missing"},
        {{"p1", "", "n1", "", "", NULL}, "device_id: empty, needs 1-64 chars"},
        {{"p1", rep('1', 70), "n1", "", "", NULL}, "device_id: 70 chars, at most 64"},
        {{"p1", "d1", NULL, "", "", NULL}, "name: missing"},
        {{"p1", "d1", "", "", "", NULL}, "name: empty, needs 1-128 chars"},
        {{"p1", "d1", rep('n', 129), "", "", NULL}, "name: 129 chars, at most 128"},
        {{"p1", "d1", "n1", rep('b', 81), "", NULL}, "binding: 81 chars, at most 80"},
        {{"p1", "d1", "n1", "", rep('x', 129), NULL}, "product: 129 chars, at most 128"},
        {{"p1", "d1", "n1", "", "", "[1]"}, "attrs: not a JSON object"},
        {{"p1", "d1", "n1", "", "", "{\"a\":"}, "attrs: not a JSON object"},
        {{"p1", "d1", "n1", "", "", "{} x"}, "attrs: not a JSON object"},
        {{"p1", "d1", "n1", "", "", ""}, "attrs: not a JSON object"},
    };
    struct store *s = open_ok(":memory:");
    char secret[STORE_SECRET_MAX + 1], why[160];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        strcpy(secret, "untouched");
        why[0] = '\0';
        enum store_reg_result r = store_register(s, &cases[i].d, false, secret, sizeof secret, why, sizeof why);
        if (r != STORE_REG_ERROR || strcmp(why, cases[i].why) != 0)
            fail_msg("case %zu: result %d why '%s', expected %d '%s'", i, r, why, STORE_REG_ERROR, cases[i].why);
        assert_string_equal(secret, "");
    }
    /* attrs of 4097 bytes */
    char *big = malloc(STORE_DATA_MAX + 2);
    assert_non_null(big);
    memset(big, ' ', STORE_DATA_MAX + 1);
    big[0] = '{';
    big[STORE_DATA_MAX] = '}';
    big[STORE_DATA_MAX + 1] = '\0';
    struct store_device d = {"p1", "d1", "n1", "", "", big};
    assert_int_equal(store_register(s, &d, false, secret, sizeof secret, why, sizeof why), STORE_REG_ERROR);
    assert_string_equal(why, "attrs: 4097 chars, at most 4096");
    assert_int_equal(store_count(s, NULL), 0);

    /* the longest of everything fits; 4096 bytes of attrs too */
    big[STORE_DATA_MAX - 1] = '}';
    big[STORE_DATA_MAX] = '\0';
    d = (struct store_device){rep('p', 15), rep('1', 64), rep('n', 128), rep('b', 80), rep('x', 128), big};
    assert_int_equal(store_register(s, &d, false, secret, sizeof secret, why, sizeof why), STORE_REG_OK);
    assert_string_equal(why, "");
    assert_true(store_auth(s, rep('p', 15), rep('1', 64), secret));
    char name[160];
    assert_true(store_device_name(s, rep('p', 15), rep('1', 64), name, sizeof name));
    assert_string_equal(name, rep('n', 128));
    assert_int_equal(store_count(s, rep('p', 15)), 1);
    free(big);

    /* arguments */
    d = dev("p1", "d2", "n2", "");
    assert_int_equal(store_register(s, &d, false, secret, STORE_SECRET_MAX, why, sizeof why), STORE_REG_ERROR);
    assert_string_equal(why, "secret: buffer of 32 bytes, needs 33");
    assert_int_equal(store_register(s, &d, false, NULL, sizeof secret, why, sizeof why), STORE_REG_ERROR);
    assert_string_equal(why, "secret: buffer of 0 bytes, needs 33");
    assert_int_equal(store_register(s, NULL, false, secret, sizeof secret, why, sizeof why), STORE_REG_ERROR);
    assert_string_equal(why, "store_register: device is NULL");
    assert_int_equal(store_register(NULL, &d, false, secret, sizeof secret, why, sizeof why), STORE_REG_ERROR);
    assert_string_equal(why, "store_register: store is NULL");
    assert_int_equal(store_register(NULL, &d, false, secret, sizeof secret, NULL, 0), STORE_REG_ERROR);
    assert_int_equal(store_count(s, NULL), 1);
    store_close(s);
}

static void test_device_name(void **state)
{
    struct store *s = open_ok(":memory:");
    char name[160];
    assert_int_equal(reg(s, "d1", "MF01_MODEL-A1_T000001", "", NULL), STORE_REG_OK);
    /* a name that does not fit */
    char small[10] = "junk";
    assert_false(store_device_name(s, "p1", "d1", small, sizeof small));
    assert_string_equal(small, "");
    char exact[22];
    assert_true(store_device_name(s, "p1", "d1", exact, sizeof exact));
    assert_string_equal(exact, "MF01_MODEL-A1_T000001");
    strcpy(name, "junk");
    assert_false(store_device_name(s, "p1", "d9", name, sizeof name));
    assert_string_equal(name, "");
    strcpy(name, "junk");
    assert_false(store_device_name(s, "p2", "d1", name, sizeof name));
    assert_string_equal(name, "");
    assert_false(store_device_name(s, NULL, "d1", name, sizeof name));
    assert_false(store_device_name(s, "p1", NULL, name, sizeof name));
    assert_false(store_device_name(NULL, "p1", "d1", name, sizeof name));
    assert_false(store_device_name(s, "p1", "d1", NULL, 10));
    store_close(s);
}

static void test_reregister_idempotent(void **state)
{
    struct store *s = open_ok(":memory:");
    char c1[STORE_SECRET_MAX + 1], c2[STORE_SECRET_MAX + 1], c3[STORE_SECRET_MAX + 1];
    assert_int_equal(reg(s, "d1", "n1", "A1", c1), STORE_REG_OK);
    /* registered again: one device still, with a new secret; the old one is stale */
    assert_int_equal(reg(s, "d1", "n1", "A1", c2), STORE_REG_OK);
    assert_string_not_equal(c1, c2);
    assert_int_equal(store_count(s, NULL), 1);
    assert_false(store_auth(s, "p1", "d1", c1));
    assert_true(store_auth(s, "p1", "d1", c2));

    /* the binding changed: a new secret again, and the new binding is now this device's */
    assert_int_equal(reg(s, "d1", "n1", "B2", c3), STORE_REG_OK);
    assert_string_not_equal(c2, c3);
    assert_false(store_auth(s, "p1", "d1", c2));
    memcpy(c1, c3, sizeof c1);
    assert_int_equal(reg(s, "d2", "n2", "B2", NULL), STORE_REG_BINDING_TAKEN);
    assert_int_equal(reg(s, "d2", "n2", "A1", NULL), STORE_REG_OK);
    /* and back to a binding someone else holds: taken */
    assert_int_equal(reg(s, "d1", "n1", "A1", NULL), STORE_REG_BINDING_TAKEN);
    assert_true(store_auth(s, "p1", "d1", c1));
    /* and to none: frees B2 */
    assert_int_equal(reg(s, "d1", "n1", "", c3), STORE_REG_OK);
    assert_string_not_equal(c1, c3);
    assert_true(store_auth(s, "p1", "d1", c3));
    assert_int_equal(reg(s, "d3", "n3", "B2", NULL), STORE_REG_OK);
    store_close(s);
}

/* A device id registering another name replaces its old registration. */
static void test_device_id_takes_new_name(void **state)
{
    struct store *s = open_ok(":memory:");
    char c1[STORE_SECRET_MAX + 1], c2[STORE_SECRET_MAX + 1], name[160];
    assert_int_equal(reg(s, "d1", "n1", "A1", c1), STORE_REG_OK);
    assert_int_equal(reg(s, "d1", "n2", "A1", c2), STORE_REG_OK);
    assert_string_not_equal(c1, c2);
    assert_false(store_auth(s, "p1", "d1", c1));
    assert_true(store_auth(s, "p1", "d1", c2));
    assert_true(store_device_name(s, "p1", "d1", name, sizeof name));
    assert_string_equal(name, "n2");
    assert_int_equal(store_count(s, NULL), 1);
    /* the old name is free again */
    assert_int_equal(reg(s, "d2", "n1", "C3", NULL), STORE_REG_OK);
    store_close(s);
}

static void test_unregister_then_register(void **state)
{
    struct store *s = open_ok(":memory:");
    char c1[STORE_SECRET_MAX + 1], c2[STORE_SECRET_MAX + 1], name[160];
    assert_int_equal(reg(s, "d1", "n1", "A1", c1), STORE_REG_OK);
    assert_false(store_unregister(s, "p1", "d2"));
    assert_false(store_unregister(s, "p2", "d1"));
    assert_true(store_unregister(s, "p1", "d1"));
    assert_false(store_unregister(s, "p1", "d1"));
    assert_false(store_unregister(s, "p1", NULL));
    assert_false(store_unregister(s, "p1", ""));
    assert_false(store_unregister(s, NULL, "d1"));
    assert_false(store_unregister(NULL, "p1", "d1"));
    assert_false(store_auth(s, "p1", "d1", c1));
    assert_false(store_device_name(s, "p1", "d1", name, sizeof name));
    assert_int_equal(store_count(s, NULL), 0);
    /* name and binding are both free: another device may take them */
    assert_int_equal(reg(s, "d2", "n1", "A1", NULL), STORE_REG_OK);
    assert_true(store_unregister(s, "p1", "d2"));
    /* and the first device again, with a new secret */
    assert_int_equal(reg(s, "d1", "n1", "A1", c2), STORE_REG_OK);
    assert_true(is_hex16(c2));
    assert_string_not_equal(c1, c2);
    assert_true(store_auth(s, "p1", "d1", c2));
    assert_false(store_auth(s, "p1", "d1", c1));
    store_close(s);
}

static void test_auth(void **state)
{
    struct store *s = open_ok(":memory:");
    char secret[STORE_SECRET_MAX + 1], bad[40];
    assert_int_equal(reg(s, "13800000001", "n1", "A1", secret), STORE_REG_OK);
    assert_true(store_auth(s, "p1", "13800000001", secret));

    snprintf(bad, sizeof bad, "%s", secret);
    bad[15] = bad[15] == '0' ? '1' : '0';
    assert_false(store_auth(s, "p1", "13800000001", bad));        /* one char off */
    snprintf(bad, sizeof bad, "%.15s", secret);
    assert_false(store_auth(s, "p1", "13800000001", bad));        /* prefix */
    snprintf(bad, sizeof bad, "%s0", secret);
    assert_false(store_auth(s, "p1", "13800000001", bad));        /* longer */
    for (char *p = bad; *p; p++)
        *p = (char)(*p >= 'a' ? *p - 32 : *p);
    bad[16] = '\0';
    if (strcmp(bad, secret) != 0)
        assert_false(store_auth(s, "p1", "13800000001", bad));    /* upper case */
    assert_false(store_auth(s, "p1", "13800000001", ""));
    assert_false(store_auth(s, "p1", "13800000001", NULL));
    assert_false(store_auth(s, "p1", "13800000002", secret));     /* unknown device */
    assert_false(store_auth(s, "p1", "013800000001", secret));    /* ids are compared as given */
    assert_false(store_auth(s, "p2", "13800000001", secret));     /* another protocol */
    assert_false(store_auth(s, "p1", NULL, secret));
    assert_false(store_auth(s, NULL, "13800000001", secret));
    assert_false(store_auth(s, "p1", rep('1', 65), secret));
    assert_false(store_auth(NULL, "p1", "13800000001", secret));
    store_close(s);
}

static void test_provision(void **state)
{
    struct store *s = open_ok(":memory:");
    char err[160];
    /* provisioning again replaces the binding */
    provision(s, "p1", "n1", "1:A");
    provision(s, "p1", "n1", "2:B");
    assert_int_equal(reg_prov(s, "d1", "n1", "1:A"), STORE_REG_BINDING_MISMATCH);
    assert_int_equal(reg_prov(s, "d1", "n1", "2:B"), STORE_REG_OK);
    /* and the binding of a registered name may change under it: the device's next
     * registration answers to the new one */
    provision(s, "p1", "n1", "3:C");
    assert_int_equal(reg_prov(s, "d1", "n1", "2:B"), STORE_REG_BINDING_MISMATCH);
    assert_int_equal(store_count(s, NULL), 1);

    struct store_provision p = {"p1", "n2", NULL};
    assert_int_equal(store_provision(s, &p, err, sizeof err), 0);
    p = (struct store_provision){"", "n2", ""};
    assert_int_equal(store_provision(s, &p, err, sizeof err), -1);
    assert_string_equal(err, "protocol: empty, needs 1-15 chars");
    p = (struct store_provision){"p1", NULL, ""};
    assert_int_equal(store_provision(s, &p, err, sizeof err), -1);
    assert_string_equal(err, "name: missing");
    p = (struct store_provision){"p1", rep('n', 129), ""};
    assert_int_equal(store_provision(s, &p, err, sizeof err), -1);
    assert_string_equal(err, "name: 129 chars, at most 128");
    p = (struct store_provision){"p1", "n2", rep('b', 81)};
    assert_int_equal(store_provision(s, &p, err, sizeof err), -1);
    assert_string_equal(err, "binding: 81 chars, at most 80");
    assert_int_equal(store_provision(s, NULL, err, sizeof err), -1);
    assert_string_equal(err, "store_provision: provision is NULL");
    p = (struct store_provision){"p1", "n2", ""};
    assert_int_equal(store_provision(NULL, &p, err, sizeof err), -1);
    assert_string_equal(err, "store_provision: store is NULL");
    /* the refused ones changed nothing: n2 takes any binding still */
    assert_int_equal(reg_prov(s, "d2", "n2", "7:Q"), STORE_REG_OK);
    store_close(s);
}

/* ---- protocols ----------------------------------------------------------- */

/* One device id under two protocols is two devices. */
static void test_two_protocols_same_id(void **state)
{
    struct store *s = open_ok(":memory:");
    char c1[STORE_SECRET_MAX + 1], c2[STORE_SECRET_MAX + 1], name[160], data[64];
    assert_int_equal(reg_full(s, "jt808", "13800000001", "alpha", "1:A", false, c1), STORE_REG_OK);
    /* the same name and binding are free in another protocol */
    assert_int_equal(reg_full(s, "lwm2m", "13800000001", "alpha", "1:A", false, c2), STORE_REG_OK);
    assert_string_not_equal(c1, c2);
    assert_true(store_auth(s, "jt808", "13800000001", c1));
    assert_false(store_auth(s, "jt808", "13800000001", c2));
    assert_true(store_auth(s, "lwm2m", "13800000001", c2));
    assert_false(store_auth(s, "lwm2m", "13800000001", c1));
    /* within one protocol they are taken */
    assert_int_equal(reg_full(s, "lwm2m", "other", "alpha", "", false, NULL), STORE_REG_NAME_TAKEN);
    assert_int_equal(reg_full(s, "lwm2m", "other", "beta", "1:A", false, NULL), STORE_REG_BINDING_TAKEN);
    assert_int_equal(reg_full(s, "mqtt", "c1", "beta", "", false, NULL), STORE_REG_OK);
    assert_int_equal(reg_full(s, "mqtt", "c2", "gamma", "", false, NULL), STORE_REG_OK);

    /* counts per protocol */
    assert_int_equal(store_count(s, NULL), 4);
    assert_int_equal(store_count(s, "jt808"), 1);
    assert_int_equal(store_count(s, "lwm2m"), 1);
    assert_int_equal(store_count(s, "mqtt"), 2);
    assert_int_equal(store_count(s, "coap"), 0);
    assert_int_equal(store_count(s, ""), 0);

    /* provisioning is per protocol too */
    provision(s, "jt808", "delta", "");
    assert_int_equal(reg_full(s, "lwm2m", "d9", "delta", "", true, NULL), STORE_REG_NOT_PROVISIONED);
    assert_int_equal(reg_full(s, "jt808", "d9", "delta", "", true, NULL), STORE_REG_OK);

    /* reports and status are kept apart */
    assert_int_equal(store_report(s, "jt808", "13800000001", "location", "{\"p\":\"jt808\"}", 1), 0);
    assert_int_equal(store_report(s, "lwm2m", "13800000001", "location", "{\"p\":\"lwm2m\"}", 2), 0);
    store_status(s, "jt808", "13800000001", true, 10);
    store_status(s, "lwm2m", "13800000001", false, 20);
    char err[160];
    assert_int_equal(store_flush(s, err, sizeof err), 0);
    int64_t at = 0;
    bool online = false;
    assert_true(store_last_report(s, "jt808", "13800000001", "location", data, sizeof data, &at));
    assert_string_equal(data, "{\"p\":\"jt808\"}");
    assert_int_equal(at, 1);
    assert_true(store_last_report(s, "lwm2m", "13800000001", "location", data, sizeof data, &at));
    assert_string_equal(data, "{\"p\":\"lwm2m\"}");
    assert_int_equal(at, 2);
    assert_true(store_last_status(s, "jt808", "13800000001", &online, &at));
    assert_true(online);
    assert_int_equal(at, 10);
    assert_true(store_last_status(s, "lwm2m", "13800000001", &online, &at));
    assert_false(online);
    assert_int_equal(at, 20);

    /* unregistering one leaves the other */
    assert_true(store_unregister(s, "jt808", "13800000001"));
    assert_false(store_auth(s, "jt808", "13800000001", c1));
    assert_true(store_auth(s, "lwm2m", "13800000001", c2));
    assert_true(store_device_name(s, "lwm2m", "13800000001", name, sizeof name));
    assert_string_equal(name, "alpha");
    assert_int_equal(store_count(s, "jt808"), 1);
    assert_int_equal(store_count(s, "lwm2m"), 1);
    store_close(s);
}

/* ---- batches ------------------------------------------------------------- */

/* Registrations that fail in the database inside a batch leave nothing, and the
 * batch's others stand.  Two triggers make them fail: "boom" is refused before
 * its row is written; "late" is refused after its row and a row of provisioned
 * were written, with RAISE(FAIL), which keeps what the statement did so far: only
 * the registration's own savepoint (or transaction) takes those back. */
static void test_batch_with_refusals(void **state)
{
    char path[512], err[256], why[160], cb[STORE_SECRET_MAX + 1], secret[STORE_SECRET_MAX + 1];
    tmp_path(path, sizeof path, "batch.db");
    struct store *s = open_ok(path);
    struct store *other = open_ok(path);
    sqlite3 *db = raw_open(path);
    raw_exec(db, "CREATE TRIGGER boom BEFORE INSERT ON devices WHEN NEW.name = 'boom'"
                 " BEGIN SELECT RAISE(ABORT, 'no boom here'); END");
    raw_exec(db, "CREATE TRIGGER late AFTER INSERT ON devices WHEN NEW.name = 'late'"
                 " BEGIN INSERT INTO provisioned(protocol, name, binding) VALUES('p1', 'leak', '');"
                 " SELECT RAISE(FAIL, 'refused late'); END");
    sqlite3_close(db);
    assert_int_equal(reg(s, "d0", "n0", "B0", NULL), STORE_REG_OK);

    assert_int_equal(store_begin(s, err, sizeof err), 0);
    assert_int_equal(store_begin(s, err, sizeof err), -1);
    assert_string_equal(err, "store_begin: a batch is already open");
    assert_int_equal(reg(s, "d1", "n1", "B1", NULL), STORE_REG_OK);
    assert_int_equal(reg(s, "d2", "n1", "B2", NULL), STORE_REG_NAME_TAKEN);   /* refused by d1, in this batch */
    assert_int_equal(reg(s, "d2", "n2", "B0", NULL), STORE_REG_BINDING_TAKEN);
    struct store_device d = dev("p1", "d3", "boom", "B3");
    assert_int_equal(store_register(s, &d, false, secret, sizeof secret, why, sizeof why), STORE_REG_ERROR);
    assert_string_equal(why, "database: no boom here");
    assert_string_equal(secret, "");
    d = dev("p1", "d8", "late", "B8");
    assert_int_equal(store_register(s, &d, false, secret, sizeof secret, why, sizeof why), STORE_REG_ERROR);
    assert_string_equal(why, "database: refused late");
    d = dev("p1", rep('9', 65), "n4", "");
    assert_int_equal(store_register(s, &d, false, secret, sizeof secret, why, sizeof why), STORE_REG_ERROR);
    assert_string_equal(why, "device_id: 65 chars, at most 64");
    assert_int_equal(reg(s, "d2", "n2", "B2", cb), STORE_REG_OK);
    /* an id with a new name inside the batch: the old registration goes */
    assert_int_equal(reg(s, "d0", "n5", "B0", NULL), STORE_REG_OK);
    provision(s, "p1", "n6", "");
    assert_int_equal(reg_prov(s, "d6", "n6", ""), STORE_REG_OK);
    assert_int_equal(store_count(s, NULL), 4);
    /* another handle sees nothing of the batch until it commits */
    assert_int_equal(store_count(other, NULL), 1);
    assert_int_equal(store_commit(s, err, sizeof err), 0);
    assert_int_equal(store_commit(s, err, sizeof err), -1);
    assert_string_equal(err, "store_commit: no batch is open");

    assert_int_equal(store_count(other, NULL), 4);
    assert_true(store_auth(other, "p1", "d2", cb));
    char name[160];
    assert_true(store_device_name(other, "p1", "d0", name, sizeof name));
    assert_string_equal(name, "n5");
    assert_false(store_device_name(other, "p1", "d3", name, sizeof name));
    assert_false(store_device_name(other, "p1", "d8", name, sizeof name));
    assert_int_equal(reg_prov(other, "d9", "leak", ""), STORE_REG_NOT_PROVISIONED);
    assert_int_equal(reg(other, "d9", "n9", "B8", NULL), STORE_REG_OK);   /* B8 was not left taken */
    assert_true(store_unregister(other, "p1", "d9"));
    /* outside a batch the triggers' refusals change nothing either */
    d = dev("p1", "d3", "boom", "B3");
    assert_int_equal(store_register(other, &d, false, secret, sizeof secret, why, sizeof why), STORE_REG_ERROR);
    assert_string_equal(why, "database: no boom here");
    d = dev("p1", "d8", "late", "B8");
    assert_int_equal(store_register(other, &d, false, secret, sizeof secret, why, sizeof why), STORE_REG_ERROR);
    assert_string_equal(why, "database: refused late");
    assert_false(store_device_name(other, "p1", "d8", name, sizeof name));
    assert_int_equal(reg_prov(other, "d9", "leak", ""), STORE_REG_NOT_PROVISIONED);
    assert_int_equal(reg(other, "d3", "n3", "B3", NULL), STORE_REG_OK);
    assert_int_equal(store_count(s, NULL), 5);

    /* a batch left open at close is rolled back */
    assert_int_equal(store_begin(s, err, sizeof err), 0);
    assert_int_equal(reg(s, "d7", "n7", "", NULL), STORE_REG_OK);
    assert_true(store_unregister(s, "p1", "d3"));
    store_close(s);
    assert_int_equal(store_count(other, NULL), 5);
    assert_false(store_device_name(other, "p1", "d7", name, sizeof name));
    assert_true(store_device_name(other, "p1", "d3", name, sizeof name));
    store_close(other);
    remove_db(path);
}

/* ---- reported data ------------------------------------------------------- */

static void test_reports(void **state)
{
    struct store *s = open_ok(":memory:");
    char err[256], data[256];
    int64_t at = -1;
    const char *a = "{\"lat\":22543210,\"lon\":114057890,\"speed\":655}";

    assert_int_equal(store_flush(s, err, sizeof err), 0);   /* nothing to write */
    assert_int_equal(store_report(s, "p1", "d1", "location", a, 1700000000123), 0);
    assert_false(store_last_report(s, "p1", "d1", "location", data, sizeof data, &at));  /* not flushed yet */
    assert_int_equal(at, -1);
    assert_int_equal(store_flush(s, err, sizeof err), 0);
    assert_true(store_last_report(s, "p1", "d1", "location", data, sizeof data, &at));
    assert_string_equal(data, a);
    assert_int_equal(at, 1700000000123);
    assert_true(store_last_report(s, "p1", "d1", "location", data, sizeof data, NULL));
    /* services of one device are apart */
    assert_false(store_last_report(s, "p1", "d1", "battery", data, sizeof data, &at));
    assert_string_equal(data, "");

    /* latest by arrival, not by the device's time stamp */
    assert_int_equal(store_report(s, "p1", "d1", "location", "{\"n\":2}", 1700000000999), 0);
    assert_int_equal(store_report(s, "p1", "d1", "location", "{\"n\":3}", 5), 0);
    assert_int_equal(store_report(s, "p1", "d1", "battery", "{\"level\":97}", 6), 0);
    assert_int_equal(store_flush(s, err, sizeof err), 0);
    assert_true(store_last_report(s, "p1", "d1", "location", data, sizeof data, &at));
    assert_string_equal(data, "{\"n\":3}");
    assert_int_equal(at, 5);
    assert_true(store_last_report(s, "p1", "d1", "battery", data, sizeof data, &at));
    assert_string_equal(data, "{\"level\":97}");
    /* a value that grows past its buffer, and one that shrinks */
    const char *longer = rep('7', 1000);
    assert_int_equal(store_report(s, "p1", "d1", "battery", longer, 7), 0);
    assert_int_equal(store_flush(s, err, sizeof err), 0);
    char big[STORE_DATA_MAX + 1];
    assert_true(store_last_report(s, "p1", "d1", "battery", big, sizeof big, &at));
    assert_string_equal(big, longer);
    assert_int_equal(store_report(s, "p1", "d1", "battery", "1", 8), 0);
    assert_int_equal(store_flush(s, err, sizeof err), 0);
    assert_true(store_last_report(s, "p1", "d1", "battery", data, sizeof data, &at));
    assert_string_equal(data, "1");
    assert_int_equal(at, 8);
    /* a value that does not fit the caller's buffer */
    char small[8] = "junk";
    assert_false(store_last_report(s, "p1", "d1", "location", small, 7, &at));
    assert_string_equal(small, "");
    assert_true(store_last_report(s, "p1", "d1", "location", small, 8, &at));

    /* keys that cannot be keys and values that are too long are refused, not stored */
    const char *max = rep('x', STORE_DATA_MAX);
    char over[STORE_DATA_MAX + 2];
    memset(over, 'y', STORE_DATA_MAX + 1);
    over[STORE_DATA_MAX + 1] = '\0';
    assert_int_equal(store_report(s, "p1", "d2", "location", over, 1), -1);
    assert_int_equal(store_report(s, "p1", "d2", "location", NULL, 1), -1);
    assert_int_equal(store_report(s, "p1", "d2", "", "1", 1), -1);
    assert_int_equal(store_report(s, "p1", "d2", NULL, "1", 1), -1);
    assert_int_equal(store_report(s, "p1", "d2", rep('s', 33), "1", 1), -1);
    assert_int_equal(store_report(s, "p1", "", "location", "1", 1), -1);
    assert_int_equal(store_report(s, "p1", rep('2', 65), "location", "1", 1), -1);
    assert_int_equal(store_report(s, "p1", NULL, "location", "1", 1), -1);
    assert_int_equal(store_report(s, "", "d2", "location", "1", 1), -1);
    assert_int_equal(store_report(s, rep('p', 16), "d2", "location", "1", 1), -1);
    assert_int_equal(store_report(NULL, "p1", "d2", "location", "1", 1), -1);
    assert_int_equal(s->vals.n_dirty, 0);
    assert_int_equal(store_flush(s, err, sizeof err), 0);
    assert_false(store_last_report(s, "p1", "d2", "location", data, sizeof data, &at));
    assert_false(store_last_report(s, "p1", "d2", NULL, data, sizeof data, &at));
    assert_false(store_last_report(s, "p1", NULL, "location", data, sizeof data, &at));
    assert_false(store_last_report(NULL, "p1", "d1", "location", data, sizeof data, &at));
    assert_false(store_last_report(s, "p1", "d1", "location", NULL, 0, &at));
    /* the longest key and value are one */
    assert_int_equal(store_report(s, rep('p', 15), rep('2', 64), rep('s', 32), max, 9), 0);
    assert_int_equal(store_flush(s, err, sizeof err), 0);
    assert_true(store_last_report(s, rep('p', 15), rep('2', 64), rep('s', 32), big, sizeof big, &at));
    assert_string_equal(big, max);
    assert_int_equal(at, 9);
    store_close(s);
}

/* Flush writes only what changed since the last flush, and visits only that. */
static void test_flush_writes_dirty_only(void **state)
{
    char path[512], err[256], data[64];
    tmp_path(path, sizeof path, "dirty.db");
    struct store *s = open_ok(path);
    int64_t at;
    for (int i = 0; i < 5000; i++) {
        char id[16];
        snprintf(id, sizeof id, "%d", 1000 + i);
        assert_int_equal(store_report(s, "p1", id, "location", "{\"lat\":100}", 1), 0);
    }
    store_status(s, "p1", "1000", true, 50);
    assert_int_equal(s->vals.n_dirty, 5001);
    assert_int_equal(store_flush(s, err, sizeof err), 0);
    assert_int_equal(s->vals.n_dirty, 0);
    assert_int_equal(store_flush(s, err, sizeof err), 0);

    sqlite3 *db = raw_open(path);
    raw_exec(db, "UPDATE reports SET data = '{\"lat\":7}'");
    raw_exec(db, "UPDATE status SET at_ms = 40");
    assert_int_equal(store_report(s, "p1", "1002", "location", "{\"lat\":300}", 2), 0);
    assert_int_equal(store_report(s, "p1", "1002", "location", "{\"lat\":301}", 3), 0);
    assert_int_equal(s->vals.n_dirty, 1);   /* one entry, however often it changed */
    assert_int_equal(store_flush(s, err, sizeof err), 0);
    assert_true(store_last_report(s, "p1", "1001", "location", data, sizeof data, &at));
    assert_string_equal(data, "{\"lat\":7}");          /* untouched since: not rewritten */
    assert_true(store_last_report(s, "p1", "5999", "location", data, sizeof data, &at));
    assert_string_equal(data, "{\"lat\":7}");
    assert_true(store_last_report(s, "p1", "1002", "location", data, sizeof data, &at));
    assert_string_equal(data, "{\"lat\":301}");
    assert_int_equal(at, 3);
    bool online;
    assert_true(store_last_status(s, "p1", "1000", &online, &at));
    assert_int_equal(at, 40);                           /* status untouched too */
    sqlite3_close(db);
    store_close(s);
    remove_db(path);
}

/* A flush inside a batch is part of the batch: what it wrote is clean only once
 * the batch commits, and a value changed after it stays dirty. */
static void test_flush_in_batch(void **state)
{
    char path[512], err[256], data[64];
    int64_t at;
    tmp_path(path, sizeof path, "flushbatch.db");
    struct store *s = open_ok(path);
    struct store *other = open_ok(path);

    assert_int_equal(store_report(s, "p1", "d1", "svc", "{\"v\":1}", 1), 0);
    assert_int_equal(store_report(s, "p1", "d2", "svc", "{\"v\":1}", 1), 0);
    assert_int_equal(store_begin(s, err, sizeof err), 0);
    assert_int_equal(store_flush(s, err, sizeof err), 0);
    assert_int_equal(s->vals.n_dirty, 2);                 /* not committed yet */
    assert_false(store_last_report(other, "p1", "d1", "svc", data, sizeof data, &at));
    assert_int_equal(store_report(s, "p1", "d2", "svc", "{\"v\":2}", 2), 0);
    assert_int_equal(store_report(s, "p1", "d3", "svc", "{\"v\":2}", 2), 0);
    assert_int_equal(store_commit(s, err, sizeof err), 0);
    assert_int_equal(s->vals.n_dirty, 2);                 /* d2 changed after the flush, d3 is new */
    assert_true(store_last_report(other, "p1", "d1", "svc", data, sizeof data, &at));
    assert_string_equal(data, "{\"v\":1}");
    assert_true(store_last_report(other, "p1", "d2", "svc", data, sizeof data, &at));
    assert_string_equal(data, "{\"v\":1}");
    assert_false(store_last_report(other, "p1", "d3", "svc", data, sizeof data, &at));
    assert_int_equal(store_flush(s, err, sizeof err), 0);
    assert_int_equal(s->vals.n_dirty, 0);
    assert_true(store_last_report(other, "p1", "d2", "svc", data, sizeof data, &at));
    assert_string_equal(data, "{\"v\":2}");

    /* a batch that never commits loses none of what its flush wrote: close rolls it
     * back, then flushes the values again */
    assert_int_equal(store_report(s, "p1", "d4", "svc", "{\"v\":4}", 4), 0);
    assert_int_equal(store_begin(s, err, sizeof err), 0);
    assert_int_equal(store_flush(s, err, sizeof err), 0);
    assert_int_equal(s->vals.n_dirty, 1);
    store_close(s);
    assert_true(store_last_report(other, "p1", "d4", "svc", data, sizeof data, &at));
    assert_string_equal(data, "{\"v\":4}");
    store_close(other);
    remove_db(path);
}

/* Growth of the table keeps every key. */
static void test_many_reports(void **state)
{
    struct store *s = open_ok(":memory:");
    char err[256], id[24], data[64], want[64];
    int64_t at;
    enum { N = 20000 };
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < N; i++) {
            snprintf(id, sizeof id, "1380%07d", i);
            snprintf(data, sizeof data, "{\"lat\":%d,\"round\":%d}", i * 3 + round, round);
            assert_int_equal(store_report(s, "p1", id, "location", data, i + round), 0);
        }
    }
    assert_int_equal(s->vals.used, N);
    assert_int_equal(s->vals.n_dirty, N);
    assert_int_equal(store_flush(s, err, sizeof err), 0);
    for (int i = 0; i < N; i += 997) {
        snprintf(id, sizeof id, "1380%07d", i);
        assert_true(store_last_report(s, "p1", id, "location", data, sizeof data, &at));
        snprintf(want, sizeof want, "{\"lat\":%d,\"round\":1}", i * 3 + 1);
        assert_string_equal(data, want);
        assert_int_equal(at, i + 1);
    }
    snprintf(id, sizeof id, "1380%07d", N - 1);
    assert_true(store_last_report(s, "p1", id, "location", data, sizeof data, &at));
    snprintf(id, sizeof id, "1380%07d", N);
    assert_false(store_last_report(s, "p1", id, "location", data, sizeof data, &at));
    store_close(s);
}

static void test_status(void **state)
{
    struct store *s = open_ok(":memory:");
    char err[256];
    bool online = false;
    int64_t at = 0;
    assert_false(store_last_status(s, "p1", "d1", &online, &at));
    store_status(s, "p1", "d1", true, 1000);
    assert_false(store_last_status(s, "p1", "d1", &online, &at));   /* not flushed yet */
    assert_int_equal(store_flush(s, err, sizeof err), 0);
    assert_true(store_last_status(s, "p1", "d1", &online, &at));
    assert_true(online);
    assert_int_equal(at, 1000);
    assert_true(store_last_status(s, "p1", "d1", NULL, NULL));
    store_status(s, "p1", "d1", false, 2000);
    store_status(s, "p1", "d2", false, 3000);
    assert_int_equal(store_flush(s, err, sizeof err), 0);
    assert_true(store_last_status(s, "p1", "d1", &online, &at));
    assert_false(online);
    assert_int_equal(at, 2000);
    assert_true(store_last_status(s, "p1", "d2", &online, &at));
    assert_false(online);
    assert_int_equal(at, 3000);
    /* status is not a report */
    char data[32];
    assert_false(store_last_report(s, "p1", "d1", "", data, sizeof data, &at));
    /* keys that cannot be keys are ignored */
    store_status(s, "p1", "", true, 1);
    store_status(s, "p1", NULL, true, 1);
    store_status(s, NULL, "d3", true, 1);
    store_status(s, "p1", rep('3', 65), true, 1);
    store_status(NULL, "p1", "d3", true, 1);
    assert_int_equal(s->vals.n_dirty, 0);
    assert_false(store_last_status(s, "p1", "", &online, &at));
    assert_false(store_last_status(s, NULL, "d1", &online, &at));
    assert_false(store_last_status(NULL, "p1", "d1", &online, &at));
    store_close(s);
}

/* ---- tasks and commands -------------------------------------------------- */

static void test_commands(void **state)
{
    struct store *s = open_ok(":memory:");
    char err[256];
    static const char *const names[STORE_CMD__COUNT] = {"PENDING", "EXPIRED", "CANCELED", "SENT",
                                                         "TIMEOUT", "DELIVERED", "SUCCESSFUL", "FAIL"};
    for (int i = 0; i < STORE_CMD__COUNT; i++)
        assert_string_equal(store_cmd_state_name((enum store_cmd_state)i), names[i]);
    assert_string_equal(store_cmd_state_name(STORE_CMD__COUNT), "?");
    assert_string_equal(store_cmd_state_name((enum store_cmd_state)-1), "?");

    int64_t t1 = store_task_new(s, "command", "{\"method\":\"reboot\"}", 1000, err, sizeof err);
    int64_t t2 = store_task_new(s, "config", NULL, 1001, err, sizeof err);
    assert_true(t1 > 0);
    assert_true(t2 > t1);
    assert_int_equal(store_task_new(s, "", "{}", 1, err, sizeof err), -1);
    assert_string_equal(err, "kind: empty, needs 1-128 chars");
    assert_int_equal(store_task_new(s, NULL, "{}", 1, err, sizeof err), -1);
    assert_string_equal(err, "kind: missing");
    assert_int_equal(store_task_new(s, "command", rep('b', STORE_BODY_MAX + 1), 1, err, sizeof err), -1);
    assert_string_equal(err, "body: 262145 chars, at most 262144");
    /* an upgrade package in hex is a body of 120 kB */
    assert_true(store_task_new(s, "command", rep('b', 120000), 1, err, sizeof err) > t2);
    assert_int_equal(store_task_new(NULL, "command", "{}", 1, err, sizeof err), -1);
    assert_string_equal(err, "store_task_new: store is NULL");

    assert_int_equal(store_command_put(s, t1, "p1", "d1", STORE_CMD_PENDING, 1000), 0);
    assert_int_equal(store_command_put(s, t1, "p1", "d2", STORE_CMD_PENDING, 1000), 0);
    assert_int_equal(store_command_put(s, t1, "p2", "d1", STORE_CMD_PENDING, 1000), 0);
    assert_int_equal(store_command_put(s, t2, "p1", "d1", STORE_CMD_SENT, 1000), 0);
    /* no such task, bad keys, bad states */
    assert_int_equal(store_command_put(s, t2 + 100, "p1", "d1", STORE_CMD_PENDING, 1000), -1);
    assert_int_equal(store_command_put(s, 0, "p1", "d1", STORE_CMD_PENDING, 1000), -1);
    assert_int_equal(store_command_put(s, t1, "", "d1", STORE_CMD_PENDING, 1000), -1);
    assert_int_equal(store_command_put(s, t1, "p1", NULL, STORE_CMD_PENDING, 1000), -1);
    assert_int_equal(store_command_put(s, t1, "p1", "d9", STORE_CMD__COUNT, 1000), -1);
    assert_int_equal(store_command_put(s, t1, "p1", "d9", (enum store_cmd_state)-1, 1000), -1);
    assert_int_equal(store_command_put(NULL, t1, "p1", "d9", STORE_CMD_PENDING, 1000), -1);

    assert_int_equal(store_command_count(s, t1, -1), 3);
    assert_int_equal(store_command_count(s, t1, STORE_CMD_PENDING), 3);
    assert_int_equal(store_command_count(s, t1, STORE_CMD_SENT), 0);
    assert_int_equal(store_command_count(s, t2, -1), 1);
    assert_int_equal(store_command_count(s, t2, STORE_CMD_SENT), 1);
    assert_int_equal(store_command_count(s, t2 + 100, -1), 0);
    assert_int_equal(store_command_count(s, t1, STORE_CMD__COUNT), 0);
    assert_int_equal(store_command_count(NULL, t1, -1), 0);

    /* a life: sent, delivered, successful; another canceled; a third timed out */
    assert_int_equal(store_command_state(s, t1, "p1", "d1", STORE_CMD_SENT, 1100), 0);
    assert_int_equal(store_command_get(s, t1, "p1", "d1"), STORE_CMD_SENT);
    assert_int_equal(store_command_state(s, t1, "p1", "d1", STORE_CMD_DELIVERED, 1200), 0);
    assert_int_equal(store_command_state(s, t1, "p1", "d1", STORE_CMD_SUCCESSFUL, 1300), 0);
    assert_int_equal(store_command_state(s, t1, "p1", "d2", STORE_CMD_CANCELED, 1100), 0);
    assert_int_equal(store_command_state(s, t1, "p2", "d1", STORE_CMD_TIMEOUT, 1100), 0);
    assert_int_equal(store_command_get(s, t1, "p1", "d1"), STORE_CMD_SUCCESSFUL);
    assert_int_equal(store_command_get(s, t1, "p1", "d2"), STORE_CMD_CANCELED);
    assert_int_equal(store_command_get(s, t1, "p2", "d1"), STORE_CMD_TIMEOUT);
    assert_int_equal(store_command_get(s, t2, "p1", "d1"), STORE_CMD_SENT);   /* the other task's own */
    assert_int_equal(store_command_count(s, t1, STORE_CMD_PENDING), 0);
    assert_int_equal(store_command_count(s, t1, STORE_CMD_SUCCESSFUL), 1);
    assert_int_equal(store_command_count(s, t1, STORE_CMD_CANCELED), 1);
    assert_int_equal(store_command_count(s, t1, STORE_CMD_TIMEOUT), 1);
    assert_int_equal(store_command_count(s, t1, -1), 3);
    /* put again sets the state of the one there */
    assert_int_equal(store_command_put(s, t1, "p1", "d2", STORE_CMD_FAIL, 1400), 0);
    assert_int_equal(store_command_get(s, t1, "p1", "d2"), STORE_CMD_FAIL);
    assert_int_equal(store_command_count(s, t1, -1), 3);

    /* no such command */
    assert_int_equal(store_command_state(s, t1, "p1", "d9", STORE_CMD_SENT, 1), -1);
    assert_int_equal(store_command_state(s, t2 + 100, "p1", "d1", STORE_CMD_SENT, 1), -1);
    assert_int_equal(store_command_state(s, t1, "p1", "d1", STORE_CMD__COUNT, 1), -1);
    assert_int_equal(store_command_get(s, t1, "p1", "d1"), STORE_CMD_SUCCESSFUL);
    assert_int_equal(store_command_get(s, t1, "p1", "d9"), -1);
    assert_int_equal(store_command_get(s, t2 + 100, "p1", "d1"), -1);
    assert_int_equal(store_command_get(s, t1, NULL, "d1"), -1);
    assert_int_equal(store_command_get(NULL, t1, "p1", "d1"), -1);
    store_close(s);
}

/* ---- migration from version 1 -------------------------------------------- */

/* The JT/T 808 registry's schema, version 1, as it created files. */
static const char V1_SCHEMA_SQL[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value NOT NULL);"
    "CREATE TABLE IF NOT EXISTS triples("
    " manufacturer TEXT NOT NULL, model TEXT NOT NULL, terminal_id TEXT NOT NULL,"
    " plate_color INTEGER, plate TEXT,"
    " PRIMARY KEY(manufacturer, model, terminal_id));"
    "CREATE TABLE IF NOT EXISTS terminals("
    " phone TEXT PRIMARY KEY, manufacturer TEXT NOT NULL, model TEXT NOT NULL,"
    " terminal_id TEXT NOT NULL, plate_color INTEGER NOT NULL, plate TEXT NOT NULL,"
    " auth_code TEXT NOT NULL, device_name TEXT NOT NULL, registered_at INTEGER NOT NULL);"
    "CREATE UNIQUE INDEX IF NOT EXISTS terminals_triple"
    " ON terminals(manufacturer, model, terminal_id);"
    "CREATE UNIQUE INDEX IF NOT EXISTS terminals_vehicle"
    " ON terminals(plate_color, plate) WHERE plate <> '';"
    "CREATE TABLE IF NOT EXISTS positions("
    " phone TEXT PRIMARY KEY, lat INTEGER NOT NULL, lon INTEGER NOT NULL,"
    " speed INTEGER NOT NULL, direction INTEGER NOT NULL, altitude INTEGER NOT NULL,"
    " alarm INTEGER NOT NULL, status INTEGER NOT NULL, time TEXT NOT NULL,"
    " updated_at INTEGER NOT NULL);"
    "INSERT INTO meta(key, value) VALUES('schema_version', 1);";

static const char V1_ROWS_SQL[] =
    "INSERT INTO terminals VALUES('13800000001', 'MF001', 'MODEL-A1', 'T000001', 1, '粤B12345',"
    " '0123456789abcdef', 'MF001_MODEL-A1_T000001', 1700000000000);"
    "INSERT INTO terminals VALUES('13800000002', 'MF002', 'MODEL-B2', 'T000003', 0, '',"
    " 'fedcba9876543210', 'MF002_MODEL-B2_T000003', 1700000000001);"
    "INSERT INTO triples VALUES('MF001', 'MODEL-A1', 'T000001', 1, '粤B12345');"
    "INSERT INTO triples VALUES('MF002', 'MODEL-B2', 'T000003', NULL, NULL);"
    "INSERT INTO triples VALUES('MF003', 'MODEL-C3', 'T000004', 1, '沪C00004');"
    "INSERT INTO triples VALUES('MF004', 'MODEL-D4', 'T000005', 2, '');"
    "INSERT INTO positions VALUES('13800000001', 22543210, 114057890, 655, 359, 42, 1, 12,"
    " '240102030405', 1700000005000);";

static void make_v1(const char *path, const char *extra_sql)
{
    remove_db(path);
    sqlite3 *db = raw_open(path);
    raw_exec(db, "PRAGMA journal_mode=WAL");
    raw_exec(db, V1_SCHEMA_SQL);
    raw_exec(db, V1_ROWS_SQL);
    if (extra_sql)
        raw_exec(db, extra_sql);
    sqlite3_close(db);
}

static void test_migration_from_v1(void **state)
{
    char path[512], name[160], data[256], text[512];
    int64_t at = 0;
    tmp_path(path, sizeof path, "v1.db");
    make_v1(path, NULL);

    struct store *s = open_ok(path);
    /* the terminal's own fields are its attrs */
    sqlite3 *db = raw_open(path);
    raw_text(db, "SELECT attrs FROM devices WHERE device_id = '13800000001'", text, sizeof text);
    assert_string_equal(text, "{\"manufacturer\":\"MF001\",\"model\":\"MODEL-A1\",\"terminal_id\":\"T000001\","
                              "\"plate_color\":1,\"plate\":\"粤B12345\"}");
    raw_text(db, "SELECT attrs FROM devices WHERE device_id = '13800000002'", text, sizeof text);
    assert_string_equal(text, "{\"manufacturer\":\"MF002\",\"model\":\"MODEL-B2\",\"terminal_id\":\"T000003\","
                              "\"plate_color\":0,\"plate\":\"\"}");
    sqlite3_close(db);
    /* terminals are jt808 devices, their auth codes the secrets */
    assert_int_equal(store_count(s, NULL), 2);
    assert_int_equal(store_count(s, "jt808"), 2);
    assert_true(store_auth(s, "jt808", "13800000001", "0123456789abcdef"));
    assert_true(store_auth(s, "jt808", "13800000002", "fedcba9876543210"));
    assert_true(store_device_name(s, "jt808", "13800000001", name, sizeof name));
    assert_string_equal(name, "MF001_MODEL-A1_T000001");
    /* the last position is the location service, at its arrival */
    assert_true(store_last_report(s, "jt808", "13800000001", "location", data, sizeof data, &at));
    assert_string_equal(data, "{\"lat\":22543210,\"lon\":114057890,\"altitude\":42,\"speed\":655,"
                              "\"direction\":359,\"alarm\":1,\"status\":12,\"time\":\"240102030405\"}");
    assert_int_equal(at, 1700000005000);
    assert_false(store_last_report(s, "jt808", "13800000002", "location", data, sizeof data, &at));
    /* the vehicle is the binding: taken by another; re-registering issues a new secret */
    char secret[STORE_SECRET_MAX + 1];
    assert_int_equal(reg_full(s, "jt808", "13800000009", "MF009_MODEL-Z9_Z000001", "1:粤B12345", false, NULL),
                     STORE_REG_BINDING_TAKEN);
    assert_int_equal(reg_full(s, "jt808", "13800000001", "MF001_MODEL-A1_T000001", "1:粤B12345", true, secret),
                     STORE_REG_OK);
    assert_string_not_equal(secret, "0123456789abcdef");
    assert_false(store_auth(s, "jt808", "13800000001", "0123456789abcdef"));
    assert_true(store_auth(s, "jt808", "13800000001", secret));
    assert_int_equal(reg_full(s, "jt808", "13800000009", "MF002_MODEL-B2_T000003", "", false, NULL),
                     STORE_REG_NAME_TAKEN);
    /* the triples are provisioned names with their vehicles, or none */
    assert_int_equal(reg_full(s, "jt808", "13800000003", "MF003_MODEL-C3_T000004", "1:沪C00005", true, NULL),
                     STORE_REG_BINDING_MISMATCH);
    assert_int_equal(reg_full(s, "jt808", "13800000003", "MF003_MODEL-C3_T000004", "1:沪C00004", true, NULL),
                     STORE_REG_OK);
    assert_int_equal(reg_full(s, "jt808", "13800000004", "MF004_MODEL-D4_T000005", "9:X", true, NULL),
                     STORE_REG_OK);
    assert_int_equal(reg_full(s, "jt808", "13800000005", "MF005_MODEL-E5_T000006", "", true, NULL),
                     STORE_REG_NOT_PROVISIONED);
    store_close(s);

    db = raw_open(path);
    assert_int_equal(raw_int(db, "SELECT value FROM meta WHERE key = 'schema_version'"), 2);
    assert_int_equal(raw_int(db, "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('triples', 'terminals', 'positions')"), 0);
    raw_text(db, "SELECT binding || '|' || product || '|' || registered_at FROM devices WHERE device_id = '13800000002'",
             text, sizeof text);
    assert_string_equal(text, "||1700000000001");
    assert_int_equal(raw_int(db, "SELECT COUNT(*) FROM provisioned WHERE protocol = 'jt808'"), 4);
    raw_text(db, "SELECT group_concat(name || '=' || binding, ' ') FROM"
                 " (SELECT name, binding FROM provisioned ORDER BY name)", text, sizeof text);
    assert_string_equal(text, "MF001_MODEL-A1_T000001=1:粤B12345 MF002_MODEL-B2_T000003= "
                              "MF003_MODEL-C3_T000004=1:沪C00004 MF004_MODEL-D4_T000005=");
    raw_text(db, "SELECT protocol || '|' || service || '|' || updated_at FROM reports", text, sizeof text);
    assert_string_equal(text, "jt808|location|1700000005000");
    sqlite3_close(db);

    /* opening the migrated file again changes nothing */
    s = open_ok(path);
    assert_int_equal(store_count(s, "jt808"), 4);
    assert_true(store_auth(s, "jt808", "13800000002", "fedcba9876543210"));
    store_close(s);
    remove_db(path);
}

/* A version 1 file that cannot be migrated (two terminals under one device name,
 * which version 1 never wrote) is refused and left exactly as it was. */
static void test_migration_is_one_transaction(void **state)
{
    char path[512], err[512], want[640];
    tmp_path(path, sizeof path, "v1bad.db");
    make_v1(path, "INSERT INTO terminals VALUES('13800000003', 'MF009', 'MODEL-Z9', 'Z000001', 0, '',"
                  " '1111111111111111', 'MF001_MODEL-A1_T000001', 1700000000002);");
    struct store *s = (struct store *)1;
    assert_int_equal(store_open(&s, path, err, sizeof err), -1);
    assert_null(s);
    snprintf(want, sizeof want, "%s: migrating schema 1 to 2: UNIQUE constraint failed: devices.protocol, devices.name",
             path);
    assert_string_equal(err, want);

    sqlite3 *db = raw_open(path);
    assert_int_equal(raw_int(db, "SELECT value FROM meta WHERE key = 'schema_version'"), 1);
    assert_int_equal(raw_int(db, "SELECT COUNT(*) FROM terminals"), 3);
    assert_int_equal(raw_int(db, "SELECT COUNT(*) FROM triples"), 4);
    assert_int_equal(raw_int(db, "SELECT COUNT(*) FROM positions"), 1);
    assert_int_equal(raw_int(db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'devices'"), 0);
    /* repaired, it migrates */
    raw_exec(db, "DELETE FROM terminals WHERE phone = '13800000003'");
    sqlite3_close(db);
    s = open_ok(path);
    assert_int_equal(store_count(s, "jt808"), 2);
    store_close(s);
    remove_db(path);
}

/* ---- persistence and sharing --------------------------------------------- */

static void test_persistence(void **state)
{
    char path[512], err[256], c1[STORE_SECRET_MAX + 1], c2[STORE_SECRET_MAX + 1], c3[STORE_SECRET_MAX + 1];
    char name[160], data[128];
    int64_t at;
    bool online;
    tmp_path(path, sizeof path, "persist.db");
    struct store *s = open_ok(path);
    provision(s, "p1", "n1", "1:A");
    provision(s, "p1", "n2", "2:B");
    provision(s, "p1", "n3", "");
    provision(s, "p1", "n4", "1:D");
    assert_int_equal(reg_prov(s, "d1", "n1", "1:A"), STORE_REG_OK);
    assert_int_equal(reg_full(s, "p1", "d1", "n1", "1:A", true, c1), STORE_REG_OK);
    assert_int_equal(reg_full(s, "p1", "d2", "n2", "2:B", true, c2), STORE_REG_OK);
    assert_int_equal(reg_prov(s, "d3", "n3", ""), STORE_REG_OK);
    assert_true(store_unregister(s, "p1", "d3"));
    assert_int_equal(store_report(s, "p1", "d1", "location", "{\"lat\":31230000}", 11), 0);
    store_status(s, "p1", "d1", true, 100);
    assert_int_equal(store_flush(s, err, sizeof err), 0);
    /* not flushed: close writes them */
    assert_int_equal(store_report(s, "p1", "d2", "location", "{\"lat\":39900000}", 12), 0);
    store_status(s, "p1", "d2", false, 200);
    int64_t task = store_task_new(s, "command", "{}", 5, err, sizeof err);
    assert_true(task > 0);
    assert_int_equal(store_command_put(s, task, "p1", "d1", STORE_CMD_DELIVERED, 6), 0);
    store_close(s);

    s = open_ok(path);
    assert_int_equal(store_count(s, NULL), 2);
    assert_true(store_auth(s, "p1", "d1", c1));
    assert_true(store_auth(s, "p1", "d2", c2));
    assert_false(store_auth(s, "p1", "d1", c2));
    assert_true(store_device_name(s, "p1", "d2", name, sizeof name));
    assert_string_equal(name, "n2");
    assert_false(store_device_name(s, "p1", "d3", name, sizeof name));
    /* provisioning survived too */
    assert_int_equal(reg_prov(s, "d4", "n4", "1:D"), STORE_REG_OK);
    assert_int_equal(reg_prov(s, "d5", "n5", "1:E"), STORE_REG_NOT_PROVISIONED);
    /* a re-register after the reopen issues a new secret, and the stored one is stale */
    assert_int_equal(reg_full(s, "p1", "d1", "n1", "1:A", true, c3), STORE_REG_OK);
    assert_string_not_equal(c1, c3);
    assert_false(store_auth(s, "p1", "d1", c1));
    assert_true(store_auth(s, "p1", "d1", c3));
    assert_true(store_last_report(s, "p1", "d1", "location", data, sizeof data, &at));
    assert_string_equal(data, "{\"lat\":31230000}");
    assert_int_equal(at, 11);
    assert_true(store_last_report(s, "p1", "d2", "location", data, sizeof data, &at));
    assert_string_equal(data, "{\"lat\":39900000}");
    assert_int_equal(at, 12);
    assert_true(store_last_status(s, "p1", "d1", &online, &at));
    assert_true(online);
    assert_int_equal(at, 100);
    assert_true(store_last_status(s, "p1", "d2", &online, &at));
    assert_false(online);
    assert_int_equal(at, 200);
    assert_int_equal(store_command_get(s, task, "p1", "d1"), STORE_CMD_DELIVERED);
    assert_int_equal(store_command_count(s, task, -1), 1);
    int64_t task2 = store_task_new(s, "command", NULL, 7, err, sizeof err);
    assert_true(task2 > task);
    store_close(s);
    remove_db(path);
}

static void test_two_handles(void **state)
{
    char path[512], err[256], secret[STORE_SECRET_MAX + 1], name[160], data[64];
    int64_t at;
    bool online;
    tmp_path(path, sizeof path, "shared.db");
    struct store *a = open_ok(path);
    struct store *b = open_ok(path);

    assert_int_equal(reg(a, "d1", "n1", "A1", secret), STORE_REG_OK);
    assert_true(store_auth(b, "p1", "d1", secret));
    assert_true(store_device_name(b, "p1", "d1", name, sizeof name));
    assert_string_equal(name, "n1");
    assert_int_equal(store_count(b, NULL), 1);
    /* the rules hold across handles */
    assert_int_equal(reg(b, "d2", "n1", "B1", NULL), STORE_REG_NAME_TAKEN);
    assert_int_equal(reg(b, "d2", "n2", "A1", NULL), STORE_REG_BINDING_TAKEN);
    provision(a, "p1", "n3", "C1");
    assert_int_equal(reg_prov(b, "d3", "n3", "C2"), STORE_REG_BINDING_MISMATCH);
    char again[STORE_SECRET_MAX + 1];
    assert_int_equal(reg(b, "d1", "n1", "A1", again), STORE_REG_OK);
    assert_string_not_equal(secret, again);
    assert_false(store_auth(a, "p1", "d1", secret));
    assert_true(store_auth(a, "p1", "d1", again));
    assert_true(store_unregister(b, "p1", "d1"));
    assert_false(store_auth(a, "p1", "d1", again));

    /* reports: the newest arrival wins whichever handle flushes last */
    assert_int_equal(store_report(a, "p1", "d9", "location", "{\"older\":1}", 2), 0);
    sleep_ms(3);
    assert_int_equal(store_report(b, "p1", "d9", "location", "{\"newer\":1}", 1), 0);
    assert_int_equal(store_flush(b, err, sizeof err), 0);
    assert_int_equal(store_flush(a, err, sizeof err), 0);
    assert_true(store_last_report(a, "p1", "d9", "location", data, sizeof data, &at));
    assert_string_equal(data, "{\"newer\":1}");
    assert_int_equal(at, 1);
    /* status: the latest change wins likewise */
    store_status(a, "p1", "d9", true, 500);
    store_status(b, "p1", "d9", false, 400);
    assert_int_equal(store_flush(a, err, sizeof err), 0);
    assert_int_equal(store_flush(b, err, sizeof err), 0);
    assert_true(store_last_status(b, "p1", "d9", &online, &at));
    assert_true(online);
    assert_int_equal(at, 500);
    /* commands written by one are read by the other */
    int64_t task = store_task_new(a, "command", "{}", 1, err, sizeof err);
    assert_int_equal(store_command_put(a, task, "p1", "d9", STORE_CMD_SENT, 2), 0);
    assert_int_equal(store_command_get(b, task, "p1", "d9"), STORE_CMD_SENT);
    assert_int_equal(store_command_state(b, task, "p1", "d9", STORE_CMD_DELIVERED, 3), 0);
    assert_int_equal(store_command_get(a, task, "p1", "d9"), STORE_CMD_DELIVERED);
    store_close(a);
    store_close(b);
    remove_db(path);
}

/* Two processes register at once into one file: no busy errors, nothing lost,
 * and one name claimed from two device ids goes to exactly one of them. */
static int register_range(const char *path, int first, int count, const char *race_id)
{
    struct store *s = NULL;
    char err[256], id[24], name[24], binding[24], secret[STORE_SECRET_MAX + 1];
    if (store_open(&s, path, err, sizeof err) != 0)
        return 100;
    int bad = 0;
    for (int i = first; i < first + count; i++) {
        snprintf(id, sizeof id, "1390%07d", i);
        snprintf(name, sizeof name, "N%07d", i);
        snprintf(binding, sizeof binding, "P%07d", i);
        if (reg(s, id, name, binding, secret) != STORE_REG_OK || !store_auth(s, "p1", id, secret))
            bad++;
    }
    int race = reg(s, race_id, "RACE-1", "", NULL);
    store_close(s);
    return bad ? 101 : race;
}

static void test_two_processes(void **state)
{
    char path[512];
    tmp_path(path, sizeof path, "procs.db");
    struct store *s = open_ok(path);   /* schema in place before the race */
    store_close(s);

    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(register_range(path, 0, 500, "13700000001"));
    int mine = register_range(path, 500, 500, "13700000002");
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    int theirs = WEXITSTATUS(status);
    assert_true(mine == STORE_REG_OK || mine == STORE_REG_NAME_TAKEN);
    assert_true(theirs == STORE_REG_OK || theirs == STORE_REG_NAME_TAKEN);
    assert_int_not_equal(mine, theirs);

    s = open_ok(path);
    assert_int_equal(store_count(s, NULL), 1001);
    store_close(s);
    remove_db(path);
}

/* Processes starting together all open a file that does not exist yet. */
static void test_concurrent_first_open(void **state)
{
    enum { ROUNDS = 30, PROCS = 4 };
    char path[512];
    tmp_path(path, sizeof path, "first.db");
    for (int round = 0; round < ROUNDS; round++) {
        pid_t kids[PROCS];
        fflush(NULL);
        for (int k = 0; k < PROCS; k++) {
            kids[k] = fork();
            assert_true(kids[k] >= 0);
            if (kids[k] == 0) {
                struct store *s = NULL;
                char err[256];
                if (store_open(&s, path, err, sizeof err) != 0) {
                    fprintf(stderr, "round %d: %s\n", round, err);
                    _exit(1);
                }
                store_close(s);
                _exit(0);
            }
        }
        for (int k = 0; k < PROCS; k++) {
            int status = 0;
            assert_int_equal(waitpid(kids[k], &status, 0), kids[k]);
            assert_true(WIFEXITED(status));
            assert_int_equal(WEXITSTATUS(status), 0);
        }
        remove_db(path);
    }
}

/* ---- main ---------------------------------------------------------------- */

/* Scratch files go beside the test binary (the build directory), not in /tmp. */
static int setup_tmpdir(void **state)
{
    (void)state;
    return scratch_make(progdir, "test_store", tmpdir, sizeof tmpdir);
}

/* Files a failed test left behind go too, so the failure is the only report. */
static int remove_tmpdir(void **state)
{
    (void)state;
    return scratch_remove(tmpdir);
}

int main(int argc, char **argv)
{
    snprintf(progdir, sizeof progdir, "%s", argc > 0 ? argv[0] : "");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_schema_version_and_wal),
        cmocka_unit_test(test_register_happy_path),
        cmocka_unit_test(test_binding_taken),
        cmocka_unit_test(test_binding_mismatch),
        cmocka_unit_test(test_name_taken),
        cmocka_unit_test(test_not_provisioned),
        cmocka_unit_test(test_result_precedence),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_device_name),
        cmocka_unit_test(test_reregister_idempotent),
        cmocka_unit_test(test_device_id_takes_new_name),
        cmocka_unit_test(test_unregister_then_register),
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_provision),
        cmocka_unit_test(test_two_protocols_same_id),
        cmocka_unit_test(test_batch_with_refusals),
        cmocka_unit_test(test_reports),
        cmocka_unit_test(test_flush_writes_dirty_only),
        cmocka_unit_test(test_flush_in_batch),
        cmocka_unit_test(test_many_reports),
        cmocka_unit_test(test_status),
        cmocka_unit_test(test_commands),
        cmocka_unit_test(test_migration_from_v1),
        cmocka_unit_test(test_migration_is_one_transaction),
        cmocka_unit_test(test_persistence),
        cmocka_unit_test(test_two_handles),
        cmocka_unit_test(test_two_processes),
        cmocka_unit_test(test_concurrent_first_open),
    };
    return cmocka_run_group_tests(tests, setup_tmpdir, remove_tmpdir);
}
