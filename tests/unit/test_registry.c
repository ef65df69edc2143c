/* registry: registration results 0-5, auth, unregister, CSV import, positions,
 * persistence, and sharing one file between handles and processes. */
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
#include <sys/wait.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "sim/platform/registry.h"

#define TRIPLES_CSV "tests/data/triples.csv"

static char tmpdir[64];

/* ---- helpers ------------------------------------------------------------- */

/* A registration as the codec hands it over: fields 0x00-padded. */
static struct jt808_register make_reg(const char *manu, const char *model, const char *tid,
                                      uint8_t color, const char *plate)
{
    struct jt808_register reg;
    memset(&reg, 0, sizeof reg);
    reg.layout = JT808_REG_2019;
    reg.province = 44;
    reg.city = 300;
    strncpy(reg.manufacturer, manu, sizeof reg.manufacturer - 1);
    strncpy(reg.model, model, sizeof reg.model - 1);
    strncpy(reg.terminal_id, tid, sizeof reg.terminal_id - 1);
    reg.plate_color = color;
    strncpy(reg.plate, plate, sizeof reg.plate - 1);
    return reg;
}

static enum registry_result reg_code(struct registry *r, const char *phone, const char *manu,
                                     const char *model, const char *tid, uint8_t color,
                                     const char *plate, char code[33])
{
    struct jt808_register reg = make_reg(manu, model, tid, color, plate);
    char why[160] = "";
    char scratch[33];
    enum registry_result res = registry_register(r, phone, &reg, code ? code : scratch, 33, why, sizeof why);
    if (res == REG_INVALID)
        print_message("why: %s\n", why);
    return res;
}

static enum registry_result reg_simple(struct registry *r, const char *phone, const char *tid, const char *plate)
{
    return reg_code(r, phone, "MF001", "MODEL-A1", tid, 1, plate, NULL);
}

static struct registry *open_ok(const char *path, enum registry_mode mode)
{
    struct registry *r = NULL;
    char err[256] = "";
    if (registry_open(&r, path, mode, err, sizeof err) != 0)
        fail_msg("open %s: %s", path, err);
    assert_non_null(r);
    return r;
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
    char p[160];
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

static struct jt808_location make_loc(uint32_t lat, uint32_t lon, uint16_t speed, const char *time)
{
    struct jt808_location loc;
    memset(&loc, 0, sizeof loc);
    loc.alarm = 0x00000001;
    loc.status = 0x0000000C;   /* south, west */
    loc.lat = lat;
    loc.lon = lon;
    loc.altitude = 42;
    loc.speed = speed;
    loc.direction = 359;
    snprintf(loc.time, sizeof loc.time, "%s", time);
    return loc;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- open ---------------------------------------------------------------- */

static void test_open_errors(void **state)
{
    struct registry *r = (struct registry *)1;
    char err[256];

    assert_int_equal(registry_open(&r, NULL, REGISTRY_OPEN, err, sizeof err), -1);
    assert_null(r);
    assert_string_equal(err, "registry_open: path is NULL");

    assert_int_equal(registry_open(&r, ":memory:", (enum registry_mode)7, err, sizeof err), -1);
    assert_string_equal(err, ":memory:: mode 7 unknown (0 open, 1 one-party)");

    char path[128];
    tmp_path(path, sizeof path, "not-a-db");
    {
        const char junk[] = "this is plainly not an SQLite database file, just some text.\n";
        write_file(path, junk, sizeof junk - 1);
    }
    assert_int_equal(registry_open(&r, path, REGISTRY_OPEN, err, sizeof err), -1);
    assert_null(r);
    char want[192];
    snprintf(want, sizeof want, "%s: enabling WAL: file is not a database", path);
    assert_string_equal(err, want);
    unlink(path);

    tmp_path(path, sizeof path, "no-such-dir/x.db");
    assert_int_equal(registry_open(&r, path, REGISTRY_OPEN, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: unable to open database file", path);
    assert_string_equal(err, want);
}

static void test_schema_version_and_wal(void **state)
{
    char path[128], err[256];
    tmp_path(path, sizeof path, "schema.db");
    struct registry *r = open_ok(path, REGISTRY_OPEN);
    registry_close(r);

    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'schema_version'", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 1);
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    /* a file written by a later version must not be touched */
    assert_int_equal(sqlite3_exec(db, "UPDATE meta SET value = 99 WHERE key = 'schema_version'", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    r = (struct registry *)1;
    assert_int_equal(registry_open(&r, path, REGISTRY_OPEN, err, sizeof err), -1);
    assert_null(r);
    char want[192];
    snprintf(want, sizeof want, "%s: schema version 99 is newer than this build's 1", path);
    assert_string_equal(err, want);
    remove_db(path);
}

/* ---- registration -------------------------------------------------------- */

static void test_open_mode_happy_path(void **state)
{
    struct registry *r = open_ok(":memory:", REGISTRY_OPEN);
    char code[33], name[80], why[160] = "x";
    struct jt808_register reg = make_reg("MF001", "MODEL-A1", "T000001", 1, "粤B12345");

    assert_int_equal(registry_count(r), 0);
    assert_int_equal(registry_register(r, "013800000001", &reg, code, sizeof code, why, sizeof why), REG_OK);
    assert_string_equal(why, "");
    assert_true(is_hex16(code));
    assert_true(registry_auth(r, "013800000001", code));
    assert_true(registry_device_name(r, "013800000001", name, sizeof name));
    assert_string_equal(name, "MF001_MODEL-A1_T000001");
    assert_int_equal(registry_count(r), 1);

    /* no plate at all (unlicensed vehicle): nothing to collide with */
    assert_int_equal(reg_code(r, "013800000002", "MF002", "MODEL-B2", "T000002", 0, "", NULL), REG_OK);
    assert_int_equal(reg_code(r, "013800000003", "MF002", "MODEL-B2", "T000003", 0, "", NULL), REG_OK);
    /* 2011 layout sizes: 5/8/7 byte fields */
    assert_int_equal(reg_code(r, "013800000004", "ABCDE", "M1234567", "A1B2C3D", 2, "京A1", NULL), REG_OK);
    assert_int_equal(registry_count(r), 4);

    /* two codes from getrandom differ */
    char code2[33];
    assert_int_equal(reg_code(r, "013800000005", "MF001", "MODEL-A1", "T000009", 1, "", code2), REG_OK);
    assert_true(is_hex16(code2));
    assert_string_not_equal(code, code2);
    registry_close(r);
}

static void test_result_1_vehicle_registered(void **state)
{
    struct registry *r = open_ok(":memory:", REGISTRY_OPEN);
    assert_int_equal(reg_simple(r, "13800000001", "T000001", "粤B12345"), REG_OK);
    assert_int_equal(reg_simple(r, "13800000002", "T000002", "粤B12345"), REG_VEHICLE_REGISTERED);
    /* same plate text, other colour: another vehicle */
    assert_int_equal(reg_code(r, "13800000002", "MF001", "MODEL-A1", "T000002", 2, "粤B12345", NULL), REG_OK);
    assert_int_equal(registry_count(r), 2);
    assert_false(registry_auth(r, "13800000003", "0000000000000000"));
    registry_close(r);
}

static void test_result_2_vehicle_unknown(void **state)
{
    struct registry *r = open_ok(":memory:", REGISTRY_ONE_PARTY);
    char err[256] = "";
    assert_int_equal(registry_import_csv(r, TRIPLES_CSV, err, sizeof err), 4);
    /* triple names 1/粤B12345 */
    assert_int_equal(reg_code(r, "13800000001", "MF001", "MODEL-A1", "T000001", 1, "粤B99999", NULL), REG_VEHICLE_UNKNOWN);
    assert_int_equal(reg_code(r, "13800000001", "MF001", "MODEL-A1", "T000001", 2, "粤B12345", NULL), REG_VEHICLE_UNKNOWN);
    assert_int_equal(reg_code(r, "13800000001", "MF001", "MODEL-A1", "T000001", 1, "", NULL), REG_VEHICLE_UNKNOWN);
    assert_int_equal(registry_count(r), 0);
    assert_int_equal(reg_code(r, "13800000001", "MF001", "MODEL-A1", "T000001", 1, "粤B12345", NULL), REG_OK);
    /* a triple that names no plate takes any */
    assert_int_equal(reg_code(r, "13800000002", "MF002", "MODEL-B2", "T000003", 5, "苏E55555", NULL), REG_OK);
    /* spaces around CSV fields were dropped */
    assert_int_equal(reg_code(r, "13800000003", "MF003", "MODEL-C3", "T000004", 1, "沪C00004", NULL), REG_OK);
    assert_int_equal(registry_count(r), 3);
    registry_close(r);
}

static void test_result_3_terminal_registered(void **state)
{
    struct registry *r = open_ok(":memory:", REGISTRY_OPEN);
    char code[33];
    assert_int_equal(reg_code(r, "13800000001", "MF001", "MODEL-A1", "T000001", 1, "A1", code), REG_OK);
    assert_int_equal(reg_code(r, "13800000002", "MF001", "MODEL-A1", "T000001", 1, "A1", NULL), REG_TERMINAL_REGISTERED);
    assert_int_equal(reg_code(r, "13800000002", "MF001", "MODEL-A1", "T000001", 0, "", NULL), REG_TERMINAL_REGISTERED);
    /* other model, same terminal id: another terminal */
    assert_int_equal(reg_code(r, "13800000002", "MF001", "MODEL-A2", "T000001", 0, "", NULL), REG_OK);
    assert_true(registry_auth(r, "13800000001", code));
    assert_int_equal(registry_count(r), 2);
    registry_close(r);
}

static void test_result_4_terminal_unknown(void **state)
{
    struct registry *r = open_ok(":memory:", REGISTRY_ONE_PARTY);
    /* nothing imported yet */
    assert_int_equal(reg_code(r, "13800000001", "MF001", "MODEL-A1", "T000001", 1, "粤B12345", NULL), REG_TERMINAL_UNKNOWN);
    char err[256];
    assert_int_equal(registry_import_csv(r, TRIPLES_CSV, err, sizeof err), 4);
    assert_int_equal(reg_code(r, "13800000001", "MF001", "MODEL-A1", "T000009", 1, "粤B12345", NULL), REG_TERMINAL_UNKNOWN);
    /* case matters */
    assert_int_equal(reg_code(r, "13800000001", "mf001", "MODEL-A1", "T000001", 1, "粤B12345", NULL), REG_TERMINAL_UNKNOWN);
    assert_int_equal(reg_code(r, "13800000001", "MF001", "MODEL-A1", "T000001", 1, "粤B12345", NULL), REG_OK);
    registry_close(r);

    /* the same terminal in open mode registers */
    r = open_ok(":memory:", REGISTRY_OPEN);
    assert_int_equal(reg_code(r, "13800000001", "MF001", "MODEL-A1", "T000009", 1, "粤B12345", NULL), REG_OK);
    registry_close(r);
}

/* Checks run 4, 2, 3, 1: the first failing fact decides. */
static void test_result_precedence(void **state)
{
    struct registry *r = open_ok(":memory:", REGISTRY_ONE_PARTY);
    char err[256];
    assert_int_equal(registry_import_csv(r, TRIPLES_CSV, err, sizeof err), 4);
    assert_int_equal(reg_code(r, "13800000001", "MF001", "MODEL-A1", "T000001", 1, "粤B12345", NULL), REG_OK);
    /* terminal taken by another phone and vehicle taken: 3 */
    assert_int_equal(reg_code(r, "13800000002", "MF001", "MODEL-A1", "T000001", 1, "粤B12345", NULL), REG_TERMINAL_REGISTERED);
    /* terminal taken and plate not the imported one: 2 */
    assert_int_equal(reg_code(r, "13800000002", "MF001", "MODEL-A1", "T000001", 1, "粤B00000", NULL), REG_VEHICLE_UNKNOWN);
    /* free terminal, plate taken: 1 */
    assert_int_equal(reg_code(r, "13800000002", "MF002", "MODEL-B2", "T000003", 1, "粤B12345", NULL), REG_VEHICLE_REGISTERED);
    registry_close(r);
}

struct invalid_case {
    const char *phone;
    const char *manu, *model, *tid;
    const char *plate;
    const char *why;
};

static void test_invalid_fields(void **state)
{
    static const struct invalid_case cases[] = {
        {"13800000001", "MF0", "MODEL-A1", "T000001", "", "manufacturer: 3 chars, needs 4-11"},
        {"13800000001", "", "MODEL-A1", "T000001", "", "manufacturer: 0 chars, needs 4-11"},
        {"13800000001", "MF_01", "MODEL-A1", "T000001", "", "manufacturer: byte 0x5f ('_') at 2 not in [A-Za-z0-9-]"},
        {"13800000001", "MF 01", "MODEL-A1", "T000001", "", "manufacturer: byte 0x20 at 2 not in [A-Za-z0-9-]"},
        {"13800000001", "MF\x01" "01", "MODEL-A1", "T000001", "", "manufacturer: byte 0x01 at 2 not in [A-Za-z0-9-]"},
        {"13800000001", "MF\xe4\xb8\xad" "1", "MODEL-A1", "T000001", "", "manufacturer: byte 0xe4 at 2 not in [A-Za-z0-9-]"},
        /* trailing spaces go before the length rule applies */
        {"13800000001", "MF0        ", "MODEL-A1", "T000001", "", "manufacturer: 3 chars, needs 4-11"},
        {"13800000001", "MF01", "MOD", "T000001", "", "model: 3 chars, needs 4-30"},
        {"13800000001", "MF01", "MODEL.A1", "T000001", "", "model: byte 0x2e ('.') at 5 not in [A-Za-z0-9-]"},
        {"13800000001", "MF01", "MODEL-A1", "T01", "", "terminal_id: 3 chars, needs 4-30"},
        {"13800000001", "MF01", "MODEL-A1", "T01 ", "", "terminal_id: 3 chars, needs 4-30"},
        {"13800000001", "MF01", "MODEL-A1", "T0/1", "", "terminal_id: byte 0x2f ('/') at 2 not in [A-Za-z0-9-]"},
        {"", "MF01", "MODEL-A1", "T000001", "", "phone: empty, needs 1-20 digits"},
        {"138000000011380000000", "MF01", "MODEL-A1", "T000001", "", "phone: over 20 digits"},
        {"1380000000A", "MF01", "MODEL-A1", "T000001", "", "phone: byte 0x41 ('A') at 10 not a decimal digit"},
        {NULL, "MF01", "MODEL-A1", "T000001", "", "phone: missing"},
    };
    struct registry *r = open_ok(":memory:", REGISTRY_OPEN);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct invalid_case *c = &cases[i];
        struct jt808_register reg = make_reg(c->manu, c->model, c->tid, 1, c->plate);
        char code[33] = "untouched", why[160] = "";
        enum registry_result res = registry_register(r, c->phone, &reg, code, sizeof code, why, sizeof why);
        if (res != REG_INVALID || strcmp(why, c->why) != 0)
            fail_msg("case %zu: result %d why '%s', expected 5 '%s'", i, res, why, c->why);
        assert_string_equal(code, "");
    }
    assert_int_equal(registry_count(r), 0);
    registry_close(r);
}

/* Fields that did not come from the codec: no NUL inside the array. */
static void test_invalid_unterminated(void **state)
{
    struct registry *r = open_ok(":memory:", REGISTRY_OPEN);
    char code[33], why[160];
    struct jt808_register reg = make_reg("MF01", "MODEL-A1", "T000001", 1, "");
    memset(reg.manufacturer, 'A', sizeof reg.manufacturer);
    assert_int_equal(registry_register(r, "1", &reg, code, sizeof code, why, sizeof why), REG_INVALID);
    assert_string_equal(why, "manufacturer: not NUL-terminated within 12 bytes");

    reg = make_reg("MF01", "MODEL-A1", "T000001", 1, "");
    memset(reg.model, 'B', sizeof reg.model);
    assert_int_equal(registry_register(r, "1", &reg, code, sizeof code, why, sizeof why), REG_INVALID);
    assert_string_equal(why, "model: not NUL-terminated within 31 bytes");

    reg = make_reg("MF01", "MODEL-A1", "T000001", 1, "");
    memset(reg.terminal_id, 'C', sizeof reg.terminal_id);
    assert_int_equal(registry_register(r, "1", &reg, code, sizeof code, why, sizeof why), REG_INVALID);
    assert_string_equal(why, "terminal_id: not NUL-terminated within 31 bytes");

    reg = make_reg("MF01", "MODEL-A1", "T000001", 1, "");
    memset(reg.plate, 'D', sizeof reg.plate);
    assert_int_equal(registry_register(r, "1", &reg, code, sizeof code, why, sizeof why), REG_INVALID);
    assert_string_equal(why, "plate: not NUL-terminated within 96 bytes");

    /* the longest fields that fit are fine */
    reg = make_reg("ABCDEFGHIJK", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123", "abcdefghijklmnopqrstuvwxyz-987", 1, "");
    assert_int_equal(registry_register(r, "1", &reg, code, sizeof code, why, sizeof why), REG_OK);

    /* arguments */
    assert_int_equal(registry_register(r, "2", &reg, code, 16, why, sizeof why), REG_INVALID);
    assert_string_equal(why, "auth_code: buffer of 16 bytes, needs 17");
    assert_int_equal(registry_register(r, "2", NULL, code, sizeof code, why, sizeof why), REG_INVALID);
    assert_string_equal(why, "registry_register: reg is NULL");
    assert_int_equal(registry_register(NULL, "2", &reg, code, sizeof code, NULL, 0), REG_INVALID);
    registry_close(r);
}

static void test_trailing_spaces_trimmed(void **state)
{
    struct registry *r = open_ok(":memory:", REGISTRY_OPEN);
    char code[33], code2[33], name[80];
    assert_int_equal(reg_code(r, "13800000001", "MF01   ", "MODEL-A1 ", "T000001     ", 1, "A12345  ", code), REG_OK);
    assert_true(registry_device_name(r, "13800000001", name, sizeof name));
    assert_string_equal(name, "MF01_MODEL-A1_T000001");
    /* the same terminal and vehicle without the spaces */
    assert_int_equal(reg_code(r, "13800000001", "MF01", "MODEL-A1", "T000001", 1, "A12345", code2), REG_OK);
    assert_string_equal(code, code2);
    assert_int_equal(reg_code(r, "13800000002", "MF01", "MODEL-A1", "T000002", 1, "A12345", NULL), REG_VEHICLE_REGISTERED);
    assert_int_equal(registry_count(r), 1);

    /* device name that does not fit */
    char small[10] = "junk";
    assert_false(registry_device_name(r, "13800000001", small, sizeof small));
    assert_string_equal(small, "");
    assert_false(registry_device_name(r, "13800000009", name, sizeof name));
    assert_string_equal(name, "");
    registry_close(r);
}

static void test_reregister_idempotent(void **state)
{
    struct registry *r = open_ok(":memory:", REGISTRY_OPEN);
    char c1[33], c2[33], c3[33];
    assert_int_equal(reg_code(r, "13800000001", "MF01", "MODEL-A1", "T000001", 1, "A1", c1), REG_OK);
    assert_int_equal(reg_code(r, "13800000001", "MF01", "MODEL-A1", "T000001", 1, "A1", c2), REG_OK);
    assert_string_equal(c1, c2);
    assert_int_equal(registry_count(r), 1);
    assert_true(registry_auth(r, "13800000001", c1));

    /* the vehicle changed: same code, and the new plate is now this terminal's */
    assert_int_equal(reg_code(r, "13800000001", "MF01", "MODEL-A1", "T000001", 1, "B2", c3), REG_OK);
    assert_string_equal(c1, c3);
    assert_int_equal(reg_code(r, "13800000002", "MF01", "MODEL-A1", "T000002", 1, "B2", NULL), REG_VEHICLE_REGISTERED);
    assert_int_equal(reg_code(r, "13800000002", "MF01", "MODEL-A1", "T000002", 1, "A1", NULL), REG_OK);
    /* and back to a plate someone else holds: 1 */
    assert_int_equal(reg_code(r, "13800000001", "MF01", "MODEL-A1", "T000001", 1, "A1", NULL), REG_VEHICLE_REGISTERED);
    assert_true(registry_auth(r, "13800000001", c1));
    registry_close(r);
}

/* A phone (SIM) moved into another terminal replaces its old registration. */
static void test_phone_moves_to_other_terminal(void **state)
{
    struct registry *r = open_ok(":memory:", REGISTRY_OPEN);
    char c1[33], c2[33], name[80];
    assert_int_equal(reg_code(r, "13800000001", "MF01", "MODEL-A1", "T000001", 1, "A1", c1), REG_OK);
    assert_int_equal(reg_code(r, "13800000001", "MF01", "MODEL-A1", "T000002", 1, "A1", c2), REG_OK);
    assert_string_not_equal(c1, c2);
    assert_false(registry_auth(r, "13800000001", c1));
    assert_true(registry_auth(r, "13800000001", c2));
    assert_true(registry_device_name(r, "13800000001", name, sizeof name));
    assert_string_equal(name, "MF01_MODEL-A1_T000002");
    assert_int_equal(registry_count(r), 1);
    /* the old terminal is free again */
    assert_int_equal(reg_code(r, "13800000002", "MF01", "MODEL-A1", "T000001", 2, "C3", NULL), REG_OK);
    registry_close(r);
}

static void test_unregister_then_register(void **state)
{
    struct registry *r = open_ok(":memory:", REGISTRY_OPEN);
    char c1[33], c2[33], name[80];
    assert_int_equal(reg_code(r, "13800000001", "MF01", "MODEL-A1", "T000001", 1, "A1", c1), REG_OK);
    assert_false(registry_unregister(r, "13800000002"));
    assert_true(registry_unregister(r, "13800000001"));
    assert_false(registry_unregister(r, "13800000001"));
    assert_false(registry_unregister(r, NULL));
    assert_false(registry_unregister(r, ""));
    assert_false(registry_auth(r, "13800000001", c1));
    assert_false(registry_device_name(r, "13800000001", name, sizeof name));
    assert_int_equal(registry_count(r), 0);
    /* terminal and vehicle are both free: another phone may take them */
    assert_int_equal(reg_code(r, "13800000002", "MF01", "MODEL-A1", "T000001", 1, "A1", NULL), REG_OK);
    assert_true(registry_unregister(r, "13800000002"));
    /* and the first phone again, with a new code */
    assert_int_equal(reg_code(r, "13800000001", "MF01", "MODEL-A1", "T000001", 1, "A1", c2), REG_OK);
    assert_true(is_hex16(c2));
    assert_string_not_equal(c1, c2);
    assert_true(registry_auth(r, "13800000001", c2));
    assert_false(registry_auth(r, "13800000001", c1));
    registry_close(r);
}

static void test_auth(void **state)
{
    struct registry *r = open_ok(":memory:", REGISTRY_OPEN);
    char code[33], bad[40];
    assert_int_equal(reg_code(r, "13800000001", "MF01", "MODEL-A1", "T000001", 1, "A1", code), REG_OK);
    assert_true(registry_auth(r, "13800000001", code));

    snprintf(bad, sizeof bad, "%s", code);
    bad[15] = bad[15] == '0' ? '1' : '0';
    assert_false(registry_auth(r, "13800000001", bad));        /* one char off */
    snprintf(bad, sizeof bad, "%.15s", code);
    assert_false(registry_auth(r, "13800000001", bad));        /* prefix */
    snprintf(bad, sizeof bad, "%s0", code);
    assert_false(registry_auth(r, "13800000001", bad));        /* longer */
    for (char *p = bad; *p; p++)
        *p = (char)(*p >= 'a' ? *p - 32 : *p);
    bad[16] = '\0';
    if (strcmp(bad, code) != 0)
        assert_false(registry_auth(r, "13800000001", bad));    /* upper case */
    assert_false(registry_auth(r, "13800000001", ""));
    assert_false(registry_auth(r, "13800000001", NULL));
    assert_false(registry_auth(r, "13800000002", code));       /* unknown phone */
    assert_false(registry_auth(r, "013800000001", code));      /* phones are compared as given */
    assert_false(registry_auth(r, NULL, code));
    assert_false(registry_auth(r, "123456789012345678901", code));
    assert_false(registry_auth(NULL, "13800000001", code));
    registry_close(r);
}

/* ---- CSV import ---------------------------------------------------------- */

static void test_import_good_file(void **state)
{
    struct registry *r = open_ok(":memory:", REGISTRY_ONE_PARTY);
    char err[256] = "";
    /* the header line would fail the manufacturer rule (12 chars) if it were read */
    assert_int_equal(registry_import_csv(r, TRIPLES_CSV, err, sizeof err), 4);
    /* importing again updates, adds nothing */
    assert_int_equal(registry_import_csv(r, TRIPLES_CSV, err, sizeof err), 4);
    assert_int_equal(reg_code(r, "13800000002", "MF001", "MODEL-A1", "T000002", 2, "京A00002", NULL), REG_OK);

    /* CRLF, a byte order mark, a header in capitals, tabs, an empty plate */
    char path[128];
    tmp_path(path, sizeof path, "crlf.csv");
    const char text[] = "\xEF\xBB\xBFMANUFACTURER,MODEL,TERMINAL_ID\r\n"
                        "# comment\r\n"
                        "\r\n"
                        "MF009,\tMODEL-Z9\t,Z000001\r\n"
                        "MF009,MODEL-Z9,Z000002,1,\r\n"
                        "MF009,MODEL-Z9,Z000003,2,浙A12345";
    write_file(path, text, sizeof text - 1);
    assert_int_equal(registry_import_csv(r, path, err, sizeof err), 3);
    assert_int_equal(reg_code(r, "13800000009", "MF009", "MODEL-Z9", "Z000001", 9, "X9", NULL), REG_OK);
    assert_int_equal(reg_code(r, "13800000010", "MF009", "MODEL-Z9", "Z000002", 3, "Y1", NULL), REG_OK);
    assert_int_equal(reg_code(r, "13800000011", "MF009", "MODEL-Z9", "Z000003", 2, "浙A12346", NULL), REG_VEHICLE_UNKNOWN);
    assert_int_equal(reg_code(r, "13800000011", "MF009", "MODEL-Z9", "Z000003", 2, "浙A12345", NULL), REG_OK);

    /* an empty file imports nothing */
    write_file(path, "", 0);
    assert_int_equal(registry_import_csv(r, path, err, sizeof err), 0);
    unlink(path);
    registry_close(r);
}

struct csv_case {
    const char *text;
    const char *err;   /* after "path:" */
};

static void test_import_malformed(void **state)
{
    static const struct csv_case cases[] = {
        {"manufacturer,model,terminal_id\nMF001,MODEL-A1,T000001\nMF0,MODEL-A1,T000002\n",
         "3: manufacturer: 3 chars, needs 4-11"},
        {"MF001,MODEL-A1,T000001\nMF001,MODEL-A1,T000002,1\n",
         "2: 4 fields, needs 3 (manufacturer,model,terminal_id) or 5 (...,plate_color,plate)"},
        {"MF001,MODEL-A1\n", "1: 2 fields, needs 3 (manufacturer,model,terminal_id) or 5 (...,plate_color,plate)"},
        {"# c\nMF001,MODEL-A1,T1,1,A,x\n",
         "2: over 5 fields, needs 3 (manufacturer,model,terminal_id) or 5 (...,plate_color,plate)"},
        {"MF001,MODEL-A1,T000001,256,A1\n", "1: plate_color: '256' is not a number 0-255"},
        {"MF001,MODEL-A1,T000001,blue,A1\n", "1: plate_color: 'blue' is not a number 0-255"},
        {"MF001,MODEL-A1,T000001,,A1\n", "1: plate_color: '' is not a number 0-255"},
        {"MF001,MODEL-A1,T000001,-1,A1\n", "1: plate_color: '-1' is not a number 0-255"},
        {"MF001,MODEL-A1,T00:001\n", "1: terminal_id: byte 0x3a (':') at 3 not in [A-Za-z0-9-]"},
        {"MF001,M,T000001\n", "1: model: 1 chars, needs 4-30"},
        {"MF001,MODEL-A1,T000001,1,0123456789012345678901234567890123456789012345678901234567890123\n",
         "1: plate: 64 bytes, at most 63"},
        {"\n\nMF001,MODEL-A1,\"T000001\"\n", "3: terminal_id: byte 0x22 ('\"') at 0 not in [A-Za-z0-9-]"},
    };
    char path[128], err[256], want[256];
    tmp_path(path, sizeof path, "bad.csv");
    struct registry *r = open_ok(":memory:", REGISTRY_ONE_PARTY);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_file(path, cases[i].text, strlen(cases[i].text));
        err[0] = '\0';
        int n = registry_import_csv(r, path, err, sizeof err);
        snprintf(want, sizeof want, "%s:%s", path, cases[i].err);
        if (n != -1 || strcmp(err, want) != 0)
            fail_msg("case %zu: returned %d err '%s', expected -1 '%s'", i, n, err, want);
    }
    /* a NUL byte inside a line */
    write_file(path, "MF001,MODEL-A1,T000001\nMF001,MOD\0EL,T2\n", 39);
    assert_int_equal(registry_import_csv(r, path, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s:2: NUL byte in line", path);
    assert_string_equal(err, want);
    /* all or nothing: the good first lines of the bad files were not kept */
    assert_int_equal(reg_code(r, "13800000001", "MF001", "MODEL-A1", "T000001", 1, "", NULL), REG_TERMINAL_UNKNOWN);

    tmp_path(path, sizeof path, "missing.csv");
    assert_int_equal(registry_import_csv(r, path, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: No such file or directory", path);
    assert_string_equal(err, want);
    registry_close(r);
    tmp_path(path, sizeof path, "bad.csv");
    unlink(path);
}

/* ---- positions ----------------------------------------------------------- */

static void test_positions(void **state)
{
    struct registry *r = open_ok(":memory:", REGISTRY_OPEN);
    char err[256];
    struct jt808_location out, a = make_loc(22543210, 114057890, 655, "240102030405");

    assert_int_equal(registry_flush(r, err, sizeof err), 0);   /* nothing to write */
    registry_position(r, "13800000001", &a);
    assert_false(registry_last_position(r, "13800000001", &out));   /* not flushed yet */
    assert_int_equal(registry_flush(r, err, sizeof err), 0);
    memset(&out, 0xAB, sizeof out);
    assert_true(registry_last_position(r, "13800000001", &out));
    assert_int_equal(out.lat, 22543210);
    assert_int_equal(out.lon, 114057890);
    assert_int_equal(out.speed, 655);
    assert_int_equal(out.direction, 359);
    assert_int_equal(out.altitude, 42);
    assert_int_equal(out.alarm, 1);
    assert_int_equal(out.status, 0x0C);
    assert_string_equal(out.time, "240102030405");
    assert_int_equal(out.n_items, 0);

    /* latest by arrival, not by the device's time stamp */
    struct jt808_location b = make_loc(1, 2, 3, "240102030410");
    struct jt808_location c = make_loc(0xFFFFFFFF, 0x80000000, 0xFFFF, "240102030400");
    registry_position(r, "13800000001", &b);
    registry_position(r, "13800000001", &c);
    assert_int_equal(registry_flush(r, err, sizeof err), 0);
    assert_true(registry_last_position(r, "13800000001", &out));
    assert_int_equal(out.lat, 0xFFFFFFFF);
    assert_int_equal(out.lon, 0x80000000);
    assert_int_equal(out.speed, 0xFFFF);
    assert_string_equal(out.time, "240102030400");

    /* phones that cannot be keys are ignored, not stored */
    registry_position(r, "", &a);
    registry_position(r, "123456789012345678901", &a);
    registry_position(r, NULL, &a);
    registry_position(r, "13800000002", NULL);
    registry_position(NULL, "13800000002", &a);
    assert_int_equal(registry_flush(r, err, sizeof err), 0);
    assert_false(registry_last_position(r, "", &out));
    assert_false(registry_last_position(r, "12345678901234567890", &out));
    assert_false(registry_last_position(r, "13800000002", &out));
    assert_false(registry_last_position(r, NULL, &out));
    /* a 20-digit phone is a key */
    registry_position(r, "12345678901234567890", &b);
    assert_int_equal(registry_flush(r, err, sizeof err), 0);
    assert_true(registry_last_position(r, "12345678901234567890", &out));
    assert_int_equal(out.lat, 1);
    registry_close(r);
}

/* Flush writes only what changed since the last flush. */
static void test_flush_writes_dirty_only(void **state)
{
    char path[128], err[256];
    tmp_path(path, sizeof path, "dirty.db");
    struct registry *r = open_ok(path, REGISTRY_OPEN);
    struct jt808_location a = make_loc(100, 200, 10, "240102030405"), out;
    registry_position(r, "1001", &a);
    registry_position(r, "1002", &a);
    assert_int_equal(registry_flush(r, err, sizeof err), 0);

    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 2000);
    assert_int_equal(sqlite3_exec(db, "UPDATE positions SET lat = 7", NULL, NULL, NULL), SQLITE_OK);
    a.lat = 300;
    registry_position(r, "1002", &a);
    assert_int_equal(registry_flush(r, err, sizeof err), 0);
    assert_true(registry_last_position(r, "1001", &out));
    assert_int_equal(out.lat, 7);        /* untouched since: not rewritten */
    assert_true(registry_last_position(r, "1002", &out));
    assert_int_equal(out.lat, 300);
    sqlite3_close(db);
    registry_close(r);
    remove_db(path);
}

/* Growth of the table keeps every phone. */
static void test_many_positions(void **state)
{
    struct registry *r = open_ok(":memory:", REGISTRY_OPEN);
    char err[256], phone[24];
    enum { N = 20000 };
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < N; i++) {
            struct jt808_location l = make_loc((uint32_t)(i * 3 + round), (uint32_t)i, (uint16_t)round, "240102030405");
            snprintf(phone, sizeof phone, "1380%07d", i);
            registry_position(r, phone, &l);
        }
    }
    assert_int_equal(registry_flush(r, err, sizeof err), 0);
    for (int i = 0; i < N; i += 997) {
        struct jt808_location out;
        snprintf(phone, sizeof phone, "1380%07d", i);
        assert_true(registry_last_position(r, phone, &out));
        assert_int_equal(out.lat, (uint32_t)(i * 3 + 1));
        assert_int_equal(out.lon, (uint32_t)i);
        assert_int_equal(out.speed, 1);
    }
    snprintf(phone, sizeof phone, "1380%07d", N - 1);
    struct jt808_location out;
    assert_true(registry_last_position(r, phone, &out));
    snprintf(phone, sizeof phone, "1380%07d", N);
    assert_false(registry_last_position(r, phone, &out));
    registry_close(r);
}

/* ---- persistence and sharing --------------------------------------------- */

static void test_persistence(void **state)
{
    char path[128], err[256], c1[33], c2[33], c3[33], name[80];
    tmp_path(path, sizeof path, "persist.db");
    struct registry *r = open_ok(path, REGISTRY_ONE_PARTY);
    assert_int_equal(registry_import_csv(r, TRIPLES_CSV, err, sizeof err), 4);
    assert_int_equal(reg_code(r, "13800000001", "MF001", "MODEL-A1", "T000001", 1, "粤B12345", c1), REG_OK);
    assert_int_equal(reg_code(r, "13800000002", "MF001", "MODEL-A1", "T000002", 2, "京A00002", c2), REG_OK);
    assert_int_equal(reg_code(r, "13800000003", "MF002", "MODEL-B2", "T000003", 0, "", NULL), REG_OK);
    assert_true(registry_unregister(r, "13800000003"));
    struct jt808_location a = make_loc(31230000, 121470000, 500, "240601120000");
    struct jt808_location b = make_loc(39900000, 116400000, 0, "240601120001");
    registry_position(r, "13800000001", &a);
    assert_int_equal(registry_flush(r, err, sizeof err), 0);
    registry_position(r, "13800000002", &b);   /* not flushed: close writes it */
    registry_close(r);

    r = open_ok(path, REGISTRY_ONE_PARTY);
    assert_int_equal(registry_count(r), 2);
    assert_true(registry_auth(r, "13800000001", c1));
    assert_true(registry_auth(r, "13800000002", c2));
    assert_false(registry_auth(r, "13800000001", c2));
    assert_true(registry_device_name(r, "13800000002", name, sizeof name));
    assert_string_equal(name, "MF001_MODEL-A1_T000002");
    assert_false(registry_device_name(r, "13800000003", name, sizeof name));
    /* triples survived too */
    assert_int_equal(reg_code(r, "13800000004", "MF003", "MODEL-C3", "T000004", 1, "沪C00004", NULL), REG_OK);
    assert_int_equal(reg_code(r, "13800000005", "MF003", "MODEL-C3", "T000005", 1, "沪C00005", NULL), REG_TERMINAL_UNKNOWN);
    /* and the same code comes back for a re-register */
    assert_int_equal(reg_code(r, "13800000001", "MF001", "MODEL-A1", "T000001", 1, "粤B12345", c3), REG_OK);
    assert_string_equal(c1, c3);
    struct jt808_location out;
    assert_true(registry_last_position(r, "13800000001", &out));
    assert_int_equal(out.lat, 31230000);
    assert_int_equal(out.lon, 121470000);
    assert_int_equal(out.speed, 500);
    assert_string_equal(out.time, "240601120000");
    assert_true(registry_last_position(r, "13800000002", &out));
    assert_int_equal(out.lat, 39900000);
    assert_string_equal(out.time, "240601120001");
    registry_close(r);
    remove_db(path);
}

static void test_two_handles(void **state)
{
    char path[128], err[256], code[33], name[80];
    tmp_path(path, sizeof path, "shared.db");
    struct registry *a = open_ok(path, REGISTRY_OPEN);
    struct registry *b = open_ok(path, REGISTRY_OPEN);

    assert_int_equal(reg_code(a, "13800000001", "MF01", "MODEL-A1", "T000001", 1, "A1", code), REG_OK);
    assert_true(registry_auth(b, "13800000001", code));
    assert_true(registry_device_name(b, "13800000001", name, sizeof name));
    assert_string_equal(name, "MF01_MODEL-A1_T000001");
    assert_int_equal(registry_count(b), 1);
    /* the rules hold across handles */
    assert_int_equal(reg_code(b, "13800000002", "MF01", "MODEL-A1", "T000001", 1, "B1", NULL), REG_TERMINAL_REGISTERED);
    assert_int_equal(reg_code(b, "13800000002", "MF01", "MODEL-A1", "T000002", 1, "A1", NULL), REG_VEHICLE_REGISTERED);
    char again[33];
    assert_int_equal(reg_code(b, "13800000001", "MF01", "MODEL-A1", "T000001", 1, "A1", again), REG_OK);
    assert_string_equal(code, again);
    assert_true(registry_unregister(b, "13800000001"));
    assert_false(registry_auth(a, "13800000001", code));

    /* positions: the newest arrival wins whichever handle flushes last */
    struct jt808_location older = make_loc(1, 1, 1, "240101000000"), newer = make_loc(2, 2, 2, "240101000000"), out;
    registry_position(a, "13800000009", &older);
    sleep_ms(3);
    registry_position(b, "13800000009", &newer);
    assert_int_equal(registry_flush(b, err, sizeof err), 0);
    assert_int_equal(registry_flush(a, err, sizeof err), 0);
    assert_true(registry_last_position(a, "13800000009", &out));
    assert_int_equal(out.lat, 2);
    registry_close(a);
    registry_close(b);
    remove_db(path);
}

/* Two processes register at once into one file: no busy errors, nothing lost,
 * and one terminal claimed from two phones goes to exactly one of them. */
static int register_range(const char *path, int first, int count, const char *race_phone)
{
    struct registry *r = NULL;
    char err[256], phone[24], tid[24], plate[24], code[33];
    if (registry_open(&r, path, REGISTRY_OPEN, err, sizeof err) != 0)
        return 100;
    int bad = 0;
    for (int i = first; i < first + count; i++) {
        snprintf(phone, sizeof phone, "1390%07d", i);
        snprintf(tid, sizeof tid, "T%07d", i);
        snprintf(plate, sizeof plate, "P%07d", i);
        if (reg_code(r, phone, "MF01", "MODEL-A1", tid, 1, plate, code) != REG_OK || !registry_auth(r, phone, code))
            bad++;
    }
    int race = reg_code(r, race_phone, "MF01", "MODEL-A1", "RACE-1", 1, "", NULL);
    registry_close(r);
    return bad ? 101 : race;
}

static void test_two_processes(void **state)
{
    char path[128];
    tmp_path(path, sizeof path, "procs.db");
    struct registry *r = open_ok(path, REGISTRY_OPEN);   /* schema in place before the race */
    registry_close(r);

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
    assert_true(mine == REG_OK || mine == REG_TERMINAL_REGISTERED);
    assert_true(theirs == REG_OK || theirs == REG_TERMINAL_REGISTERED);
    assert_int_not_equal(mine, theirs);

    r = open_ok(path, REGISTRY_OPEN);
    assert_int_equal(registry_count(r), 1001);
    registry_close(r);
    remove_db(path);
}

/* Gateway processes starting together all open a file that does not exist yet. */
static void test_concurrent_first_open(void **state)
{
    enum { ROUNDS = 30, PROCS = 4 };
    char path[128];
    tmp_path(path, sizeof path, "first.db");
    for (int round = 0; round < ROUNDS; round++) {
        pid_t kids[PROCS];
        fflush(NULL);
        for (int k = 0; k < PROCS; k++) {
            kids[k] = fork();
            assert_true(kids[k] >= 0);
            if (kids[k] == 0) {
                struct registry *r = NULL;
                char err[256];
                if (registry_open(&r, path, REGISTRY_OPEN, err, sizeof err) != 0) {
                    fprintf(stderr, "round %d: %s\n", round, err);
                    _exit(1);
                }
                registry_close(r);
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

static int setup_tmpdir(void **state)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_registry.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

/* Files a failed test left behind go too, so the failure is the only report. */
static int remove_tmpdir(void **state)
{
    DIR *d = opendir(tmpdir);
    if (d) {
        struct dirent *e;
        char p[384];
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    return rmdir(tmpdir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_schema_version_and_wal),
        cmocka_unit_test(test_open_mode_happy_path),
        cmocka_unit_test(test_result_1_vehicle_registered),
        cmocka_unit_test(test_result_2_vehicle_unknown),
        cmocka_unit_test(test_result_3_terminal_registered),
        cmocka_unit_test(test_result_4_terminal_unknown),
        cmocka_unit_test(test_result_precedence),
        cmocka_unit_test(test_invalid_fields),
        cmocka_unit_test(test_invalid_unterminated),
        cmocka_unit_test(test_trailing_spaces_trimmed),
        cmocka_unit_test(test_reregister_idempotent),
        cmocka_unit_test(test_phone_moves_to_other_terminal),
        cmocka_unit_test(test_unregister_then_register),
        cmocka_unit_test(test_auth),
        cmocka_unit_test(test_import_good_file),
        cmocka_unit_test(test_import_malformed),
        cmocka_unit_test(test_positions),
        cmocka_unit_test(test_flush_writes_dirty_only),
        cmocka_unit_test(test_many_positions),
        cmocka_unit_test(test_persistence),
        cmocka_unit_test(test_two_handles),
        cmocka_unit_test(test_two_processes),
        cmocka_unit_test(test_concurrent_first_open),
    };
    return cmocka_run_group_tests(tests, setup_tmpdir, remove_tmpdir);
}
