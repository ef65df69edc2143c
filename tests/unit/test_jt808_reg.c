/* jt808_reg: the field checks of a 0x0100 with their exact messages, trimming,
 * fields that are not NUL-terminated, the mapping to a store device (name,
 * binding, attrs), the 0x8100 results 0-4 end to end through the store, and the
 * CSV of known terminals, good and malformed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>
#include "tests/unit/scratch.h"
#include <cmocka.h>
#include <sqlite3.h>

#include "sim/platform/core/store.h"
#include "sim/platform/jt808/jt808_reg.h"

#define TRIPLES_CSV "tests/data/triples.csv"
#define BAD_MESSAGE 100   /* reg_code: jt808_reg_check refused it (0x8001 result 2) */

static char progdir[256];  /* argv[0]: the scratch directory goes beside it */
static char tmpdir[320];

/* ---- helpers ------------------------------------------------------------- */

/* A registration as the codec hands it over: fields 0x00-padded. */
static struct jt808_register make_reg(const char *manu, const char *model, const char *tid, uint8_t color,
                                      const char *plate)
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

/* What the gateway does with a 0x0100: check, register, map the answer.  The
 * 0x8100 result, BAD_MESSAGE when the check refused it, -1 on a store error. */
static int reg_code(struct store *s, bool one_party, const char *phone, const char *manu, const char *model,
                    const char *tid, uint8_t color, const char *plate, char secret[STORE_SECRET_MAX + 1])
{
    struct jt808_register reg = make_reg(manu, model, tid, color, plate);
    struct jt808_reg_req q;
    struct store_device d;
    char why[160] = "";
    char scratch[STORE_SECRET_MAX + 1];
    if (jt808_reg_check(phone, &reg, &q, why, sizeof why) != 0) {
        print_message("check: %s\n", why);
        return BAD_MESSAGE;
    }
    jt808_reg_device(&q, &d);
    enum store_reg_result r = store_register(s, &d, one_party, secret ? secret : scratch, STORE_SECRET_MAX + 1,
                                             why, sizeof why);
    if (r == STORE_REG_ERROR)
        print_message("store: %s\n", why);
    return jt808_reg_result(r);
}

static int reg_open(struct store *s, const char *phone, const char *tid, const char *plate)
{
    return reg_code(s, false, phone, "MF001", "MODEL-A1", tid, 1, plate, NULL);
}

static struct store *open_ok(void)
{
    struct store *s = NULL;
    char err[256] = "";
    if (store_open(&s, ":memory:", err, sizeof err) != 0)
        fail_msg("open: %s", err);
    return s;
}

/* What jt808_triples_load emitted, and the store it provisions (may be NULL). */
struct loaded {
    struct store *s;
    int calls;
    int fail_at;                /* the call (from 1) that returns -1; 0: none */
    char rows[16][200];         /* "protocol|name|binding" */
};

static int emit(void *ctx, const struct store_provision *p)
{
    struct loaded *l = ctx;
    l->calls++;
    if (l->calls <= 16)
        snprintf(l->rows[l->calls - 1], sizeof l->rows[0], "%s|%s|%s", p->protocol, p->name,
                 p->binding ? p->binding : "(null)");
    if (l->fail_at == l->calls)
        return -1;
    if (l->s) {
        char err[160];
        if (store_provision(l->s, p, err, sizeof err) != 0)
            fail_msg("provision: %s", err);
    }
    return 0;
}

static int load(struct loaded *l, const char *path, char *err, size_t cap)
{
    l->calls = 0;
    memset(l->rows, 0, sizeof l->rows);
    return jt808_triples_load(path, emit, l, err, cap);
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

/* SQLite's json_object for the same fields: what a migrated terminal's attrs hold. */
static void sqlite_attrs(const struct jt808_reg_req *q, char *out, size_t cap)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT json_object('manufacturer', ?1, 'model', ?2, 'terminal_id', ?3,"
                                            " 'plate_color', ?4, 'plate', ?5)", -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, q->manufacturer, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, q->model, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, q->terminal_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, q->plate_color);
    sqlite3_bind_text(st, 5, q->plate, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* ---- checks and mapping -------------------------------------------------- */

static void test_check_and_map(void **state)
{
    struct jt808_register reg = make_reg("MF001", "MODEL-A1", "T000001", 1, "粤B12345");
    struct jt808_reg_req q;
    struct store_device d;
    char why[160] = "x";
    assert_int_equal(jt808_reg_check("013800000001", &reg, &q, why, sizeof why), 0);
    assert_string_equal(why, "");
    assert_string_equal(q.phone, "013800000001");
    assert_string_equal(q.manufacturer, "MF001");
    assert_string_equal(q.model, "MODEL-A1");
    assert_string_equal(q.terminal_id, "T000001");
    assert_int_equal(q.plate_color, 1);
    assert_string_equal(q.plate, "粤B12345");
    assert_string_equal(q.name, "MF001_MODEL-A1_T000001");
    assert_string_equal(q.binding, "1:粤B12345");
    assert_string_equal(q.attrs, "{\"manufacturer\":\"MF001\",\"model\":\"MODEL-A1\",\"terminal_id\":\"T000001\","
                                 "\"plate_color\":1,\"plate\":\"粤B12345\"}");

    memset(&d, 0, sizeof d);
    jt808_reg_device(&q, &d);
    assert_string_equal(d.protocol, "jt808");
    assert_string_equal(d.protocol, JT808_REG_PROTOCOL);
    assert_ptr_equal(d.device_id, q.phone);
    assert_ptr_equal(d.name, q.name);
    assert_ptr_equal(d.binding, q.binding);
    assert_ptr_equal(d.attrs, q.attrs);
    assert_non_null(d.product);
    assert_string_equal(d.product, "");

    /* no plate at all (an unlicensed vehicle): no binding */
    reg = make_reg("ABCDE", "M1234567", "A1B2C3D", 0, "");
    assert_int_equal(jt808_reg_check("1", &reg, &q, why, sizeof why), 0);
    assert_string_equal(q.binding, "");
    assert_string_equal(q.name, "ABCDE_M1234567_A1B2C3D");
    assert_string_equal(q.attrs, "{\"manufacturer\":\"ABCDE\",\"model\":\"M1234567\",\"terminal_id\":\"A1B2C3D\","
                                 "\"plate_color\":0,\"plate\":\"\"}");
    /* the widest colour and a 20-digit phone */
    reg = make_reg("MF01", "MODEL-A1", "T000001", 255, "A1");
    assert_int_equal(jt808_reg_check("12345678901234567890", &reg, &q, NULL, 0), 0);
    assert_string_equal(q.phone, "12345678901234567890");
    assert_string_equal(q.binding, "255:A1");
    /* the longest plate: its binding still fits the store */
    char plate[64];
    memset(plate, 'P', 63);
    plate[63] = '\0';
    reg = make_reg("MF01", "MODEL-A1", "T000001", 255, plate);
    assert_int_equal(jt808_reg_check("1", &reg, &q, why, sizeof why), 0);
    assert_int_equal(strlen(q.binding), 67);
    assert_true(strlen(q.binding) <= STORE_BINDING_MAX);
}

static void test_result_mapping(void **state)
{
    assert_int_equal(jt808_reg_result(STORE_REG_OK), 0);
    assert_int_equal(jt808_reg_result(STORE_REG_BINDING_TAKEN), 1);
    assert_int_equal(jt808_reg_result(STORE_REG_BINDING_MISMATCH), 2);
    assert_int_equal(jt808_reg_result(STORE_REG_NAME_TAKEN), 3);
    assert_int_equal(jt808_reg_result(STORE_REG_NOT_PROVISIONED), 4);
    assert_int_equal(jt808_reg_result(STORE_REG_ERROR), -1);
    assert_int_equal(jt808_reg_result((enum store_reg_result)42), -1);
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
        {"13800000001", "MF01", "MODEL-A1", "T000001", "0123456789012345678901234567890123456789012345678901234567890123",
         "plate: 64 bytes, at most 63"},
        {"", "MF01", "MODEL-A1", "T000001", "", "phone: empty, needs 1-20 digits"},
        {"138000000011380000000", "MF01", "MODEL-A1", "T000001", "", "phone: over 20 digits"},
        {"1380000000A", "MF01", "MODEL-A1", "T000001", "", "phone: byte 0x41 ('A') at 10 not a decimal digit"},
        {"138 0000000", "MF01", "MODEL-A1", "T000001", "", "phone: byte 0x20 at 3 not a decimal digit"},
        {NULL, "MF01", "MODEL-A1", "T000001", "", "phone: missing"},
        /* the phone is checked first */
        {"", "MF0", "MODEL-A1", "T000001", "", "phone: empty, needs 1-20 digits"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct invalid_case *c = &cases[i];
        struct jt808_register reg = make_reg(c->manu, c->model, c->tid, 1, c->plate);
        struct jt808_reg_req q;
        char why[160] = "";
        int rc = jt808_reg_check(c->phone, &reg, &q, why, sizeof why);
        if (rc != -1 || strcmp(why, c->why) != 0)
            fail_msg("case %zu: returned %d why '%s', expected -1 '%s'", i, rc, why, c->why);
    }
}

/* Fields that did not come from the codec: no NUL inside the array. */
static void test_invalid_unterminated(void **state)
{
    struct jt808_reg_req q;
    char why[160];
    struct jt808_register reg = make_reg("MF01", "MODEL-A1", "T000001", 1, "");
    memset(reg.manufacturer, 'A', sizeof reg.manufacturer);
    assert_int_equal(jt808_reg_check("1", &reg, &q, why, sizeof why), -1);
    assert_string_equal(why, "manufacturer: not NUL-terminated within 12 bytes");

    reg = make_reg("MF01", "MODEL-A1", "T000001", 1, "");
    memset(reg.model, 'B', sizeof reg.model);
    assert_int_equal(jt808_reg_check("1", &reg, &q, why, sizeof why), -1);
    assert_string_equal(why, "model: not NUL-terminated within 31 bytes");

    reg = make_reg("MF01", "MODEL-A1", "T000001", 1, "");
    memset(reg.terminal_id, 'C', sizeof reg.terminal_id);
    assert_int_equal(jt808_reg_check("1", &reg, &q, why, sizeof why), -1);
    assert_string_equal(why, "terminal_id: not NUL-terminated within 31 bytes");

    reg = make_reg("MF01", "MODEL-A1", "T000001", 1, "");
    memset(reg.plate, 'D', sizeof reg.plate);
    assert_int_equal(jt808_reg_check("1", &reg, &q, why, sizeof why), -1);
    assert_string_equal(why, "plate: not NUL-terminated within 96 bytes");

    /* the longest fields that fit are fine, and register */
    reg = make_reg("ABCDEFGHIJK", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123", "abcdefghijklmnopqrstuvwxyz-987", 1, "");
    assert_int_equal(jt808_reg_check("1", &reg, &q, why, sizeof why), 0);
    assert_string_equal(q.name, "ABCDEFGHIJK_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123_abcdefghijklmnopqrstuvwxyz-987");
    struct store *s = open_ok();
    assert_int_equal(reg_code(s, false, "1", "ABCDEFGHIJK", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123",
                              "abcdefghijklmnopqrstuvwxyz-987", 1, "", NULL), 0);
    store_close(s);

    /* arguments */
    assert_int_equal(jt808_reg_check("2", NULL, &q, why, sizeof why), -1);
    assert_string_equal(why, "jt808_reg_check: reg is NULL");
    assert_int_equal(jt808_reg_check("2", &reg, NULL, why, sizeof why), -1);
    assert_string_equal(why, "jt808_reg_check: q is NULL");
    assert_int_equal(jt808_reg_check(NULL, &reg, &q, NULL, 0), -1);
}

static void test_trailing_spaces_trimmed(void **state)
{
    struct jt808_register reg = make_reg("MF01   ", "MODEL-A1 ", "T000001     ", 1, "A12345  ");
    struct jt808_reg_req q;
    char why[160];
    assert_int_equal(jt808_reg_check("13800000001", &reg, &q, why, sizeof why), 0);
    assert_string_equal(q.manufacturer, "MF01");
    assert_string_equal(q.model, "MODEL-A1");
    assert_string_equal(q.terminal_id, "T000001");
    assert_string_equal(q.plate, "A12345");
    assert_string_equal(q.binding, "1:A12345");
    /* leading spaces are not padding */
    reg = make_reg(" MF01", "MODEL-A1", "T000001", 1, "");
    assert_int_equal(jt808_reg_check("13800000001", &reg, &q, why, sizeof why), -1);
    assert_string_equal(why, "manufacturer: byte 0x20 at 0 not in [A-Za-z0-9-]");

    struct store *s = open_ok();
    char c1[STORE_SECRET_MAX + 1], c2[STORE_SECRET_MAX + 1], name[80];
    assert_int_equal(reg_code(s, false, "13800000001", "MF01   ", "MODEL-A1 ", "T000001     ", 1, "A12345  ", c1), 0);
    assert_true(store_device_name(s, JT808_REG_PROTOCOL, "13800000001", name, sizeof name));
    assert_string_equal(name, "MF01_MODEL-A1_T000001");
    /* the same terminal and vehicle without the spaces: registered again (a new
     * code, the old one stale), not a second terminal */
    assert_int_equal(reg_code(s, false, "13800000001", "MF01", "MODEL-A1", "T000001", 1, "A12345", c2), 0);
    assert_string_not_equal(c1, c2);
    assert_false(store_auth(s, JT808_REG_PROTOCOL, "13800000001", c1));
    assert_true(store_auth(s, JT808_REG_PROTOCOL, "13800000001", c2));
    assert_int_equal(reg_code(s, false, "13800000002", "MF01", "MODEL-A1", "T000002", 1, "A12345", NULL), 1);
    assert_int_equal(store_count(s, JT808_REG_PROTOCOL), 1);
    store_close(s);
}

/* attrs is JSON whatever the plate holds, escaped as SQLite escapes (the form of
 * a migrated terminal's attrs). */
static void test_attrs_escaping(void **state)
{
    static const char *const plates[] = {
        "A\"B", "A\\B", "A\nB\tC\rD\bE\fF", "\x01\x1f", "粤B12345", "'';--", "\x7f",
    };
    struct jt808_reg_req q;
    char why[160], want[600];
    for (size_t i = 0; i < sizeof plates / sizeof plates[0]; i++) {
        struct jt808_register reg = make_reg("MF01", "MODEL-A1", "T000001", 7, plates[i]);
        if (jt808_reg_check("1", &reg, &q, why, sizeof why) != 0)
            fail_msg("plate %zu: %s", i, why);
        sqlite_attrs(&q, want, sizeof want);
        assert_string_equal(q.attrs, want);
    }
    struct jt808_register reg = make_reg("MF01", "MODEL-A1", "T000001", 7, "A\"B\\\x01");
    assert_int_equal(jt808_reg_check("1", &reg, &q, why, sizeof why), 0);
    assert_string_equal(q.attrs, "{\"manufacturer\":\"MF01\",\"model\":\"MODEL-A1\",\"terminal_id\":\"T000001\","
                                 "\"plate_color\":7,\"plate\":\"A\\\"B\\\\\\u0001\"}");

    /* 63 bytes that each escape to six, beside the longest other fields: more than attrs holds */
    char plate[64];
    memset(plate, 0x01, 63);
    plate[63] = '\0';
    reg = make_reg("ABCDEFGHIJK", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123", "abcdefghijklmnopqrstuvwxyz-987", 255, plate);
    assert_int_equal(jt808_reg_check("1", &reg, &q, why, sizeof why), -1);
    assert_string_equal(why, "plate: too long once escaped as JSON (attrs has 512 bytes)");
    /* 63 bytes that escape to two fit */
    memset(plate, '"', 63);
    reg = make_reg("ABCDEFGHIJK", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123", "abcdefghijklmnopqrstuvwxyz-987", 255, plate);
    assert_int_equal(jt808_reg_check("1", &reg, &q, why, sizeof why), 0);
    sqlite_attrs(&q, want, sizeof want);
    assert_string_equal(q.attrs, want);
    /* and what fits registers: the store takes it as a JSON object */
    struct store *s = open_ok();
    struct store_device d;
    char secret[STORE_SECRET_MAX + 1];
    jt808_reg_device(&q, &d);
    assert_int_equal(store_register(s, &d, false, secret, sizeof secret, why, sizeof why), STORE_REG_OK);
    store_close(s);
}

/* ---- results end to end -------------------------------------------------- */

static void test_result_0_and_1(void **state)
{
    struct store *s = open_ok();
    char code[STORE_SECRET_MAX + 1], code2[STORE_SECRET_MAX + 1];
    assert_int_equal(reg_code(s, false, "13800000001", "MF001", "MODEL-A1", "T000001", 1, "粤B12345", code), 0);
    assert_int_equal(strlen(code), 16);
    assert_true(store_auth(s, JT808_REG_PROTOCOL, "13800000001", code));
    assert_int_equal(reg_open(s, "13800000002", "T000002", "粤B12345"), 1);
    /* same plate text, other colour: another vehicle */
    assert_int_equal(reg_code(s, false, "13800000002", "MF001", "MODEL-A1", "T000002", 2, "粤B12345", code2), 0);
    assert_string_not_equal(code, code2);
    /* no plate: nothing to collide with */
    assert_int_equal(reg_code(s, false, "13800000003", "MF002", "MODEL-B2", "T000002", 0, "", NULL), 0);
    assert_int_equal(reg_code(s, false, "13800000004", "MF002", "MODEL-B2", "T000003", 0, "", NULL), 0);
    assert_int_equal(store_count(s, JT808_REG_PROTOCOL), 4);
    store_close(s);
}

static void test_result_2_vehicle_unknown(void **state)
{
    struct store *s = open_ok();
    struct loaded l = {.s = s};
    char err[256] = "";
    assert_int_equal(load(&l, TRIPLES_CSV, err, sizeof err), 4);
    /* triple names 1/粤B12345 */
    assert_int_equal(reg_code(s, true, "13800000001", "MF001", "MODEL-A1", "T000001", 1, "粤B99999", NULL), 2);
    assert_int_equal(reg_code(s, true, "13800000001", "MF001", "MODEL-A1", "T000001", 2, "粤B12345", NULL), 2);
    assert_int_equal(reg_code(s, true, "13800000001", "MF001", "MODEL-A1", "T000001", 1, "", NULL), 2);
    assert_int_equal(store_count(s, NULL), 0);
    assert_int_equal(reg_code(s, true, "13800000001", "MF001", "MODEL-A1", "T000001", 1, "粤B12345", NULL), 0);
    /* a triple that names no plate takes any */
    assert_int_equal(reg_code(s, true, "13800000002", "MF002", "MODEL-B2", "T000003", 5, "苏E55555", NULL), 0);
    /* spaces around CSV fields were dropped */
    assert_int_equal(reg_code(s, true, "13800000003", "MF003", "MODEL-C3", "T000004", 1, "沪C00004", NULL), 0);
    assert_int_equal(store_count(s, NULL), 3);
    store_close(s);
}

static void test_result_3_terminal_registered(void **state)
{
    struct store *s = open_ok();
    char code[STORE_SECRET_MAX + 1];
    assert_int_equal(reg_code(s, false, "13800000001", "MF001", "MODEL-A1", "T000001", 1, "A1", code), 0);
    assert_int_equal(reg_code(s, false, "13800000002", "MF001", "MODEL-A1", "T000001", 1, "A1", NULL), 3);
    assert_int_equal(reg_code(s, false, "13800000002", "MF001", "MODEL-A1", "T000001", 0, "", NULL), 3);
    /* other model, same terminal id: another terminal */
    assert_int_equal(reg_code(s, false, "13800000002", "MF001", "MODEL-A2", "T000001", 0, "", NULL), 0);
    assert_true(store_auth(s, JT808_REG_PROTOCOL, "13800000001", code));
    assert_int_equal(store_count(s, NULL), 2);
    store_close(s);
}

static void test_result_4_terminal_unknown(void **state)
{
    struct store *s = open_ok();
    /* nothing loaded yet */
    assert_int_equal(reg_code(s, true, "13800000001", "MF001", "MODEL-A1", "T000001", 1, "粤B12345", NULL), 4);
    struct loaded l = {.s = s};
    char err[256];
    assert_int_equal(load(&l, TRIPLES_CSV, err, sizeof err), 4);
    assert_int_equal(reg_code(s, true, "13800000001", "MF001", "MODEL-A1", "T000009", 1, "粤B12345", NULL), 4);
    /* case matters */
    assert_int_equal(reg_code(s, true, "13800000001", "mf001", "MODEL-A1", "T000001", 1, "粤B12345", NULL), 4);
    assert_int_equal(reg_code(s, true, "13800000001", "MF001", "MODEL-A1", "T000001", 1, "粤B12345", NULL), 0);
    /* the same terminal in open mode registers */
    assert_int_equal(reg_code(s, false, "13800000002", "MF001", "MODEL-A1", "T000009", 2, "粤B12345", NULL), 0);
    store_close(s);
}

/* Checks run 4, 2, 3, 1: the first failing fact decides. */
static void test_result_precedence(void **state)
{
    struct store *s = open_ok();
    struct loaded l = {.s = s};
    char err[256];
    assert_int_equal(load(&l, TRIPLES_CSV, err, sizeof err), 4);
    assert_int_equal(reg_code(s, true, "13800000001", "MF001", "MODEL-A1", "T000001", 1, "粤B12345", NULL), 0);
    /* terminal taken by another phone and vehicle taken: 3 */
    assert_int_equal(reg_code(s, true, "13800000002", "MF001", "MODEL-A1", "T000001", 1, "粤B12345", NULL), 3);
    /* terminal taken and plate not the loaded one: 2 */
    assert_int_equal(reg_code(s, true, "13800000002", "MF001", "MODEL-A1", "T000001", 1, "粤B00000", NULL), 2);
    /* unknown terminal, plate taken: 4 */
    assert_int_equal(reg_code(s, true, "13800000002", "MF009", "MODEL-A1", "T000001", 1, "粤B12345", NULL), 4);
    /* free terminal, plate taken: 1 */
    assert_int_equal(reg_code(s, true, "13800000002", "MF002", "MODEL-B2", "T000003", 1, "粤B12345", NULL), 1);
    /* a field the checks refuse never reaches the store */
    assert_int_equal(reg_code(s, true, "13800000002", "MF0", "MODEL-B2", "T000003", 1, "", NULL), BAD_MESSAGE);
    assert_int_equal(store_count(s, NULL), 1);
    store_close(s);
}

static void test_reregister_and_moves(void **state)
{
    struct store *s = open_ok();
    char c1[STORE_SECRET_MAX + 1], c2[STORE_SECRET_MAX + 1], name[80];
    assert_int_equal(reg_code(s, false, "13800000001", "MF01", "MODEL-A1", "T000001", 1, "A1", c1), 0);
    /* the vehicle changed: a new code, and the new plate is now this terminal's */
    assert_int_equal(reg_code(s, false, "13800000001", "MF01", "MODEL-A1", "T000001", 1, "B2", c2), 0);
    assert_string_not_equal(c1, c2);
    assert_false(store_auth(s, JT808_REG_PROTOCOL, "13800000001", c1));
    memcpy(c1, c2, sizeof c1);
    assert_int_equal(reg_code(s, false, "13800000002", "MF01", "MODEL-A1", "T000002", 1, "B2", NULL), 1);
    assert_int_equal(reg_code(s, false, "13800000002", "MF01", "MODEL-A1", "T000002", 1, "A1", NULL), 0);
    /* the phone (SIM) moved into another terminal: a new code, the old terminal free */
    assert_int_equal(reg_code(s, false, "13800000001", "MF01", "MODEL-A1", "T000003", 1, "B2", c2), 0);
    assert_string_not_equal(c1, c2);
    assert_false(store_auth(s, JT808_REG_PROTOCOL, "13800000001", c1));
    assert_true(store_device_name(s, JT808_REG_PROTOCOL, "13800000001", name, sizeof name));
    assert_string_equal(name, "MF01_MODEL-A1_T000003");
    assert_int_equal(reg_code(s, false, "13800000003", "MF01", "MODEL-A1", "T000001", 2, "C3", NULL), 0);
    /* unregistered (0x0003): terminal and vehicle free for another phone */
    assert_true(store_unregister(s, JT808_REG_PROTOCOL, "13800000001"));
    assert_int_equal(reg_code(s, false, "13800000004", "MF01", "MODEL-A1", "T000003", 1, "B2", NULL), 0);
    assert_int_equal(store_count(s, NULL), 3);
    store_close(s);
}

/* ---- the CSV of known terminals ------------------------------------------ */

static void test_load_good_file(void **state)
{
    struct store *s = open_ok();
    struct loaded l = {.s = s};
    char err[256] = "";
    /* the header line would fail the manufacturer rule (12 chars) if it were read */
    assert_int_equal(load(&l, TRIPLES_CSV, err, sizeof err), 4);
    assert_int_equal(l.calls, 4);
    assert_string_equal(l.rows[0], "jt808|MF001_MODEL-A1_T000001|1:粤B12345");
    assert_string_equal(l.rows[1], "jt808|MF001_MODEL-A1_T000002|2:京A00002");
    assert_string_equal(l.rows[2], "jt808|MF002_MODEL-B2_T000003|");
    assert_string_equal(l.rows[3], "jt808|MF003_MODEL-C3_T000004|1:沪C00004");
    /* loading again updates, adds nothing */
    assert_int_equal(load(&l, TRIPLES_CSV, err, sizeof err), 4);
    assert_int_equal(reg_code(s, true, "13800000002", "MF001", "MODEL-A1", "T000002", 2, "京A00002", NULL), 0);

    /* CRLF, a byte order mark, a header in capitals, tabs, an empty plate */
    char path[512];
    tmp_path(path, sizeof path, "crlf.csv");
    const char text[] = "\xEF\xBB\xBFMANUFACTURER,MODEL,TERMINAL_ID\r\n"
                        "# comment\r\n"
                        "\r\n"
                        "MF009,\tMODEL-Z9\t,Z000001\r\n"
                        "MF009,MODEL-Z9,Z000002,1,\r\n"
                        "MF009,MODEL-Z9,Z000003,2,浙A12345";
    write_file(path, text, sizeof text - 1);
    assert_int_equal(load(&l, path, err, sizeof err), 3);
    assert_string_equal(l.rows[0], "jt808|MF009_MODEL-Z9_Z000001|");
    assert_string_equal(l.rows[1], "jt808|MF009_MODEL-Z9_Z000002|");
    assert_string_equal(l.rows[2], "jt808|MF009_MODEL-Z9_Z000003|2:浙A12345");
    assert_int_equal(reg_code(s, true, "13800000009", "MF009", "MODEL-Z9", "Z000001", 9, "X9", NULL), 0);
    assert_int_equal(reg_code(s, true, "13800000010", "MF009", "MODEL-Z9", "Z000002", 3, "Y1", NULL), 0);
    assert_int_equal(reg_code(s, true, "13800000011", "MF009", "MODEL-Z9", "Z000003", 2, "浙A12346", NULL), 2);
    assert_int_equal(reg_code(s, true, "13800000011", "MF009", "MODEL-Z9", "Z000003", 2, "浙A12345", NULL), 0);

    /* an empty file loads nothing */
    write_file(path, "", 0);
    assert_int_equal(load(&l, path, err, sizeof err), 0);
    assert_int_equal(l.calls, 0);
    /* nor does one of comments */
    write_file(path, "# a\n\n#b\n", 8);
    assert_int_equal(load(&l, path, err, sizeof err), 0);
    assert_int_equal(l.calls, 0);
    unlink(path);
    store_close(s);
}

struct csv_case {
    const char *text;
    const char *err;   /* after "path:" */
};

static void test_load_malformed(void **state)
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
        {"MF001,MODEL-A1,T000001,12345678901234567890,A1\n",
         "1: plate_color: '1234567890123456' is not a number 0-255"},
        {"MF001,MODEL-A1,T00:001\n", "1: terminal_id: byte 0x3a (':') at 3 not in [A-Za-z0-9-]"},
        {"MF001,M,T000001\n", "1: model: 1 chars, needs 4-30"},
        {"MF001,MODEL-A1,T000001,1,0123456789012345678901234567890123456789012345678901234567890123\n",
         "1: plate: 64 bytes, at most 63"},
        {"\n\nMF001,MODEL-A1,\"T000001\"\n", "3: terminal_id: byte 0x22 ('\"') at 0 not in [A-Za-z0-9-]"},
        /* the last line is checked too, with or without its newline */
        {"MF001,MODEL-A1,T000001\nMF001,MODEL-A1,T0", "2: terminal_id: 2 chars, needs 4-30"},
    };
    char path[512], err[256], want[640];
    tmp_path(path, sizeof path, "bad.csv");
    struct loaded l = {0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_file(path, cases[i].text, strlen(cases[i].text));
        err[0] = '\0';
        int n = load(&l, path, err, sizeof err);
        snprintf(want, sizeof want, "%s:%s", path, cases[i].err);
        if (n != -1 || strcmp(err, want) != 0)
            fail_msg("case %zu: returned %d err '%s', expected -1 '%s'", i, n, err, want);
        /* all or nothing: the good lines before the bad one were not emitted */
        if (l.calls != 0)
            fail_msg("case %zu: %d rows emitted", i, l.calls);
    }
    /* a NUL byte inside a line */
    write_file(path, "MF001,MODEL-A1,T000001\nMF001,MOD\0EL,T2\n", 39);
    assert_int_equal(load(&l, path, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s:2: NUL byte in line", path);
    assert_string_equal(err, want);
    assert_int_equal(l.calls, 0);

    /* so a store loaded from a bad file knows none of its terminals */
    struct store *s = open_ok();
    l.s = s;
    write_file(path, cases[0].text, strlen(cases[0].text));
    assert_int_equal(load(&l, path, err, sizeof err), -1);
    assert_int_equal(reg_code(s, true, "13800000001", "MF001", "MODEL-A1", "T000001", 1, "", NULL), 4);
    store_close(s);
    unlink(path);

    tmp_path(path, sizeof path, "missing.csv");
    assert_int_equal(load(&l, path, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s: No such file or directory", path);
    assert_string_equal(err, want);
    /* a directory opens but does not read */
    assert_int_equal(load(&l, tmpdir, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s:1: read error: Is a directory", tmpdir);
    assert_string_equal(err, want);

    assert_int_equal(jt808_triples_load(NULL, emit, &l, err, sizeof err), -1);
    assert_string_equal(err, "jt808_triples_load: path is NULL");
    assert_int_equal(jt808_triples_load(TRIPLES_CSV, NULL, &l, err, sizeof err), -1);
    assert_string_equal(err, "jt808_triples_load: emit is NULL");
}

/* emit stops the load at a row: the row's line is named, nothing after it is emitted. */
static void test_load_emit_stops(void **state)
{
    struct loaded l = {.fail_at = 2};
    char err[256], want[256];
    assert_int_equal(load(&l, TRIPLES_CSV, err, sizeof err), -1);
    assert_int_equal(l.calls, 2);
    snprintf(want, sizeof want, "%s:4: the row was not stored", TRIPLES_CSV);
    assert_string_equal(err, want);
    l.fail_at = 4;
    assert_int_equal(load(&l, TRIPLES_CSV, err, sizeof err), -1);
    assert_int_equal(l.calls, 4);
    snprintf(want, sizeof want, "%s:8: the row was not stored", TRIPLES_CSV);
    assert_string_equal(err, want);
}

/* ---- main ---------------------------------------------------------------- */

/* Scratch files go beside the test binary (the build directory), not in /tmp. */
static int setup_tmpdir(void **state)
{
    (void)state;
    return scratch_make(progdir, "test_jt808_reg", tmpdir, sizeof tmpdir);
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
        cmocka_unit_test(test_check_and_map),
        cmocka_unit_test(test_result_mapping),
        cmocka_unit_test(test_invalid_fields),
        cmocka_unit_test(test_invalid_unterminated),
        cmocka_unit_test(test_trailing_spaces_trimmed),
        cmocka_unit_test(test_attrs_escaping),
        cmocka_unit_test(test_result_0_and_1),
        cmocka_unit_test(test_result_2_vehicle_unknown),
        cmocka_unit_test(test_result_3_terminal_registered),
        cmocka_unit_test(test_result_4_terminal_unknown),
        cmocka_unit_test(test_result_precedence),
        cmocka_unit_test(test_reregister_and_moves),
        cmocka_unit_test(test_load_good_file),
        cmocka_unit_test(test_load_malformed),
        cmocka_unit_test(test_load_emit_stops),
    };
    return cmocka_run_group_tests(tests, setup_tmpdir, remove_tmpdir);
}
