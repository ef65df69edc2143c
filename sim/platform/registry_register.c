/* Terminal registration (0x0100 -> 0x8100 result) by the rules in registry.h.
 * Checks run in the order of the facts they depend on: is the terminal known (4),
 * does its imported triple name this vehicle (2), is the terminal taken by another
 * phone (3), is the vehicle taken by another terminal (1).  A phone that registers
 * a different terminal replaces its old registration (the SIM moved) and gets a
 * new auth code.  Database failures come back as REG_INVALID with "database: ..."
 * in why: registry.h has no result for them. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "sim/platform/registry_internal.h"
#include "sim/proto/hex.h"

#define CODE_MAX 32   /* registry.h: auth codes are at most 32 chars */

/* A registration's fields, trimmed and checked. */
struct reg_fields {
    char manufacturer[sizeof ((struct jt808_register *)0)->manufacturer];
    char model[sizeof ((struct jt808_register *)0)->model];
    char terminal_id[sizeof ((struct jt808_register *)0)->terminal_id];
    uint8_t plate_color;
    char plate[sizeof ((struct jt808_register *)0)->plate];
    char device_name[sizeof ((struct jt808_register *)0)->manufacturer
                     + sizeof ((struct jt808_register *)0)->model
                     + sizeof ((struct jt808_register *)0)->terminal_id];
};

static bool id_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* " ('x')" for printable bytes so the message shows what the terminal sent */
static void show_byte(unsigned char c, char *buf, size_t cap)
{
    if (c >= 0x21 && c < 0x7F)
        snprintf(buf, cap, " ('%c')", c);
    else
        buf[0] = '\0';
}

int registry__check_id(const char *name, const char *s, size_t min, size_t max, char *why, size_t cap)
{
    size_t n = strlen(s);
    if (n < min || n > max) {
        registry__err(why, cap, "%s: %zu chars, needs %zu-%zu", name, n, min, max);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!id_char(c)) {
            char shown[8];
            show_byte(c, shown, sizeof shown);
            registry__err(why, cap, "%s: byte 0x%02x%s at %zu not in [A-Za-z0-9-]", name, c, shown, i);
            return -1;
        }
    }
    return 0;
}

static int check_phone(const char *phone, char *why, size_t cap)
{
    if (!phone) {
        registry__err(why, cap, "phone: missing");
        return -1;
    }
    size_t n = strnlen(phone, REGISTRY_PHONE_MAX + 1);
    if (n == 0) {
        registry__err(why, cap, "phone: empty, needs 1-%d digits", REGISTRY_PHONE_MAX);
        return -1;
    }
    if (n > REGISTRY_PHONE_MAX) {
        registry__err(why, cap, "phone: over %d digits", REGISTRY_PHONE_MAX);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)phone[i];
        if (c < '0' || c > '9') {
            char shown[8];
            show_byte(c, shown, sizeof shown);
            registry__err(why, cap, "phone: byte 0x%02x%s at %zu not a decimal digit", c, shown, i);
            return -1;
        }
    }
    return 0;
}

/* Copy a fixed struct field (cap bytes, padding already NULs) without trailing spaces.
 * A field with no NUL inside its array did not come from the codec: refuse it. */
static int take_field(const char *name, const char *src, size_t cap, char *dst, char *why, size_t whycap)
{
    size_t n = strnlen(src, cap);
    if (n == cap) {
        registry__err(why, whycap, "%s: not NUL-terminated within %zu bytes", name, cap);
        return -1;
    }
    while (n > 0 && src[n - 1] == ' ')
        n--;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return 0;
}

static int check_register(const struct jt808_register *reg, struct reg_fields *f, char *why, size_t cap)
{
    if (take_field("manufacturer", reg->manufacturer, sizeof reg->manufacturer, f->manufacturer, why, cap)
        || registry__check_id("manufacturer", f->manufacturer, 4, 11, why, cap))
        return -1;
    if (take_field("model", reg->model, sizeof reg->model, f->model, why, cap)
        || registry__check_id("model", f->model, 4, 30, why, cap))
        return -1;
    if (take_field("terminal_id", reg->terminal_id, sizeof reg->terminal_id, f->terminal_id, why, cap)
        || registry__check_id("terminal_id", f->terminal_id, 4, 30, why, cap))
        return -1;
    if (take_field("plate", reg->plate, sizeof reg->plate, f->plate, why, cap))
        return -1;
    f->plate_color = reg->plate_color;
    snprintf(f->device_name, sizeof f->device_name, "%s_%s_%s", f->manufacturer, f->model, f->terminal_id);
    return 0;
}

/* Random bytes in lower case: the form every code issued so far has, in stored
 * databases and in the terminals that keep them. */
static int new_auth_code(char *out)
{
    uint8_t b[REGISTRY_AUTH_HEX / 2];
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t n = getrandom(b + got, sizeof b - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        got += (size_t)n;
    }
    hex_encode_lower(b, sizeof b, out, REGISTRY_AUTH_HEX + 1);
    return 0;
}

static void bind_triple(sqlite3_stmt *st, const struct reg_fields *f)
{
    sqlite3_bind_text(st, 1, f->manufacturer, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, f->model, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, f->terminal_id, -1, SQLITE_STATIC);
}

/* Every statement is reset right after use: a statement left mid-row would keep a
 * read snapshot open. */
static void done(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

static bool text_eq(sqlite3_stmt *st, int col, const char *s)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t && strcmp((const char *)t, s) == 0;
}

/* The decision, inside the write transaction.  Returns a result, or -1 on a
 * database error (why set).  code receives the auth code for REG_OK. */
static int decide(struct registry *r, const char *phone, const struct reg_fields *f, char *code,
                  char *why, size_t whycap)
{
    sqlite3_stmt *st;
    int rc;

    if (r->mode == REGISTRY_ONE_PARTY) {
        st = r->st[RS_TRIPLE_GET];
        bind_triple(st, f);
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW) {
            if (rc != SQLITE_DONE)
                goto db_error;
            done(st);
            return REG_TERMINAL_UNKNOWN;
        }
        bool names_plate = sqlite3_column_type(st, 1) != SQLITE_NULL && sqlite3_column_bytes(st, 1) > 0;
        bool same = !names_plate
                    || (sqlite3_column_int(st, 0) == f->plate_color && text_eq(st, 1, f->plate));
        done(st);
        if (!same)
            return REG_VEHICLE_UNKNOWN;
    }

    bool registered = false, same_vehicle = false;
    st = r->st[RS_TERM_BY_TRIPLE];
    bind_triple(st, f);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        if (!text_eq(st, 0, phone)) {
            done(st);
            return REG_TERMINAL_REGISTERED;
        }
        int n = sqlite3_column_bytes(st, 1);
        const unsigned char *stored = sqlite3_column_text(st, 1);
        if (!stored || n <= 0 || n > CODE_MAX) {
            done(st);
            registry__err(why, whycap, "database: stored auth code of %s has %d chars, needs 1-%d",
                          phone, n, CODE_MAX);
            return -1;
        }
        memcpy(code, stored, (size_t)n + 1);
        registered = true;
        same_vehicle = sqlite3_column_int(st, 2) == f->plate_color && text_eq(st, 3, f->plate);
    } else if (rc != SQLITE_DONE) {
        goto db_error;
    }
    done(st);

    /* No plate: nothing identifies the vehicle, so it cannot collide. */
    if (f->plate[0] != '\0') {
        st = r->st[RS_VEHICLE_OWNER];
        sqlite3_bind_int(st, 1, f->plate_color);
        sqlite3_bind_text(st, 2, f->plate, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, phone, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc != SQLITE_DONE && rc != SQLITE_ROW)
            goto db_error;
        done(st);
        if (rc == SQLITE_ROW)
            return REG_VEHICLE_REGISTERED;
    }

    if (registered) {
        /* same terminal, same phone: the same code again, even if the plate changed */
        if (!same_vehicle) {
            st = r->st[RS_TERM_SET_PLATE];
            sqlite3_bind_text(st, 1, phone, -1, SQLITE_STATIC);
            sqlite3_bind_int(st, 2, f->plate_color);
            sqlite3_bind_text(st, 3, f->plate, -1, SQLITE_STATIC);
            if ((rc = sqlite3_step(st)) != SQLITE_DONE)
                goto db_error;
            done(st);
        }
        return REG_OK;
    }

    if (new_auth_code(code) != 0) {
        registry__err(why, whycap, "auth_code: getrandom: %s", strerror(errno));
        return -1;
    }
    st = r->st[RS_TERM_PUT];
    sqlite3_bind_text(st, 1, phone, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, f->manufacturer, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, f->model, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, f->terminal_id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, f->plate_color);
    sqlite3_bind_text(st, 6, f->plate, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, code, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, f->device_name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 9, registry__now_ms());
    if ((rc = sqlite3_step(st)) != SQLITE_DONE)
        goto db_error;
    done(st);
    return REG_OK;

db_error:
    registry__err(why, whycap, "database: %s", sqlite3_errmsg(r->db));
    done(st);
    return -1;
}

enum registry_result registry_register(struct registry *r, const char *phone,
                                       const struct jt808_register *reg,
                                       char *auth_code, size_t auth_cap, char *why, size_t whycap)
{
    struct reg_fields f;
    char code[CODE_MAX + 1];

    registry__err(why, whycap, "%s", "");
    if (!r || !reg) {
        registry__err(why, whycap, "registry_register: %s is NULL", r ? "reg" : "registry");
        return REG_INVALID;
    }
    if (!auth_code || auth_cap < REGISTRY_AUTH_HEX + 1) {
        registry__err(why, whycap, "auth_code: buffer of %zu bytes, needs %d", auth_code ? auth_cap : 0,
                      REGISTRY_AUTH_HEX + 1);
        return REG_INVALID;
    }
    auth_code[0] = '\0';
    if (check_phone(phone, why, whycap) != 0 || check_register(reg, &f, why, whycap) != 0)
        return REG_INVALID;

    if (registry__exec(r, RS_BEGIN) != SQLITE_OK) {
        registry__err(why, whycap, "database: %s", sqlite3_errmsg(r->db));
        return REG_INVALID;
    }
    int res = decide(r, phone, &f, code, why, whycap);
    size_t n = res == REG_OK ? strlen(code) : 0;
    if (res == REG_OK && n >= auth_cap) {
        registry__err(why, whycap, "auth_code: stored code of %zu chars does not fit %zu bytes", n, auth_cap);
        res = -1;
    }
    if (res != REG_OK) {
        registry__exec(r, RS_ROLLBACK);
        return res < 0 ? REG_INVALID : (enum registry_result)res;
    }
    if (registry__exec(r, RS_COMMIT) != SQLITE_OK) {
        registry__err(why, whycap, "database: %s", sqlite3_errmsg(r->db));
        registry__exec(r, RS_ROLLBACK);
        return REG_INVALID;
    }
    memcpy(auth_code, code, n + 1);
    return REG_OK;
}
