/* JT/T 808 registration in the store's terms (jt808_reg.h): the field checks a
 * 0x0100 must pass, its mapping to a store device, the store's answer as a 0x8100
 * result, and the CSV of known terminals as provisions. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim/platform/jt808/jt808_reg.h"
#include "sim/platform/jt808/jt808_say.h"

#define PHONE_MAX 20        /* BCD[10] in 2019 headers */
#define PLATE_MAX 63        /* "<colour>:<plate>" stays within STORE_BINDING_MAX */
#define CSV_FIELDS 5

_Static_assert(sizeof ((struct jt808_reg_req *)0)->phone == PHONE_MAX + 1, "phone fits");
_Static_assert(3 + 1 + PLATE_MAX <= STORE_BINDING_MAX, "a binding of any colour fits");

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

/* A triple field: [A-Za-z0-9-], min..max chars.  0, or -1 with why
 * ("manufacturer: 3 chars, needs 4-11"). */
static int check_id(const char *name, const char *s, size_t min, size_t max, char *why, size_t cap)
{
    size_t n = strlen(s);
    if (n < min || n > max) {
        jt808_say(why, cap, "%s: %zu chars, needs %zu-%zu", name, n, min, max);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!id_char(c)) {
            char shown[8];
            show_byte(c, shown, sizeof shown);
            jt808_say(why, cap, "%s: byte 0x%02x%s at %zu not in [A-Za-z0-9-]", name, c, shown, i);
            return -1;
        }
    }
    return 0;
}

static int check_phone(const char *phone, char *why, size_t cap)
{
    if (!phone) {
        jt808_say(why, cap, "phone: missing");
        return -1;
    }
    size_t n = strnlen(phone, PHONE_MAX + 1);
    if (n == 0) {
        jt808_say(why, cap, "phone: empty, needs 1-%d digits", PHONE_MAX);
        return -1;
    }
    if (n > PHONE_MAX) {
        jt808_say(why, cap, "phone: over %d digits", PHONE_MAX);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)phone[i];
        if (c < '0' || c > '9') {
            char shown[8];
            show_byte(c, shown, sizeof shown);
            jt808_say(why, cap, "phone: byte 0x%02x%s at %zu not a decimal digit", c, shown, i);
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
        jt808_say(why, whycap, "%s: not NUL-terminated within %zu bytes", name, cap);
        return -1;
    }
    while (n > 0 && src[n - 1] == ' ')
        n--;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return 0;
}

/* Append s as a JSON string, escaped as SQLite's json_object escapes it (so attrs
 * of a registration and of a migrated terminal read the same).  -1 when it does
 * not fit. */
static int json_str(char *out, size_t cap, size_t *len, const char *s)
{
    static const char SHORT[0x20] = {['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', ['\f'] = 'f', ['\r'] = 'r'};
    static const char HEXD[] = "0123456789abcdef";
    size_t n = *len;
    if (n + 1 >= cap)
        return -1;
    out[n++] = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[7];
        size_t k;
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            k = 2;
        } else if (*p < 0x20 && SHORT[*p]) {
            esc[0] = '\\';
            esc[1] = SHORT[*p];
            k = 2;
        } else if (*p < 0x20) {
            memcpy(esc, "\\u00", 4);
            esc[4] = HEXD[*p >> 4];
            esc[5] = HEXD[*p & 15];
            k = 6;
        } else {
            esc[0] = (char)*p;
            k = 1;
        }
        if (n + k + 1 >= cap)
            return -1;
        memcpy(out + n, esc, k);
        n += k;
    }
    if (n + 2 > cap)
        return -1;
    out[n++] = '"';
    out[n] = '\0';
    *len = n;
    return 0;
}

static int json_raw(char *out, size_t cap, size_t *len, const char *s)
{
    size_t k = strlen(s);
    if (*len + k + 1 > cap)
        return -1;
    memcpy(out + *len, s, k + 1);
    *len += k;
    return 0;
}

static int make_attrs(struct jt808_reg_req *q)
{
    char color[8];
    size_t n = 0, cap = sizeof q->attrs;
    char *a = q->attrs;
    snprintf(color, sizeof color, "%u", (unsigned)q->plate_color);
    if (json_raw(a, cap, &n, "{\"manufacturer\":") || json_str(a, cap, &n, q->manufacturer)
        || json_raw(a, cap, &n, ",\"model\":") || json_str(a, cap, &n, q->model)
        || json_raw(a, cap, &n, ",\"terminal_id\":") || json_str(a, cap, &n, q->terminal_id)
        || json_raw(a, cap, &n, ",\"plate_color\":") || json_raw(a, cap, &n, color)
        || json_raw(a, cap, &n, ",\"plate\":") || json_str(a, cap, &n, q->plate) || json_raw(a, cap, &n, "}"))
        return -1;
    return 0;
}

static void make_binding(char *out, size_t cap, unsigned color, const char *plate)
{
    /* no plate: nothing identifies the vehicle */
    if (plate[0] == '\0')
        out[0] = '\0';
    else
        snprintf(out, cap, "%u:%s", color, plate);
}

int jt808_reg_check(const char *phone, const struct jt808_register *reg, struct jt808_reg_req *q, char *why,
                    size_t whycap)
{
    jt808_say(why, whycap, "%s", "");
    if (!reg || !q) {
        jt808_say(why, whycap, "jt808_reg_check: %s is NULL", reg ? "q" : "reg");
        return -1;
    }
    memset(q, 0, sizeof *q);
    if (check_phone(phone, why, whycap) != 0)
        return -1;
    memcpy(q->phone, phone, strlen(phone) + 1);
    if (take_field("manufacturer", reg->manufacturer, sizeof reg->manufacturer, q->manufacturer, why, whycap)
        || check_id("manufacturer", q->manufacturer, 4, 11, why, whycap))
        return -1;
    if (take_field("model", reg->model, sizeof reg->model, q->model, why, whycap)
        || check_id("model", q->model, 4, 30, why, whycap))
        return -1;
    if (take_field("terminal_id", reg->terminal_id, sizeof reg->terminal_id, q->terminal_id, why, whycap)
        || check_id("terminal_id", q->terminal_id, 4, 30, why, whycap))
        return -1;
    if (take_field("plate", reg->plate, sizeof reg->plate, q->plate, why, whycap))
        return -1;
    size_t pn = strlen(q->plate);
    if (pn > PLATE_MAX) {
        jt808_say(why, whycap, "plate: %zu bytes, at most %d", pn, PLATE_MAX);
        return -1;
    }
    q->plate_color = reg->plate_color;
    snprintf(q->name, sizeof q->name, "%s_%s_%s", q->manufacturer, q->model, q->terminal_id);
    make_binding(q->binding, sizeof q->binding, q->plate_color, q->plate);
    /* only a plate of dozens of control bytes, each escaped to six, gets here */
    if (make_attrs(q) != 0) {
        jt808_say(why, whycap, "plate: too long once escaped as JSON (attrs has %zu bytes)", sizeof q->attrs);
        return -1;
    }
    return 0;
}

void jt808_reg_device(const struct jt808_reg_req *q, struct store_device *d)
{
    d->protocol = JT808_REG_PROTOCOL;
    d->device_id = q->phone;
    d->name = q->name;
    d->binding = q->binding;
    d->product = "";        /* JT/T 808 has no product of its own */
    d->attrs = q->attrs;
}

int jt808_reg_result(enum store_reg_result r)
{
    switch (r) {
    case STORE_REG_OK:
        return 0;
    case STORE_REG_BINDING_TAKEN:
        return 1;
    case STORE_REG_BINDING_MISMATCH:
        return 2;
    case STORE_REG_NAME_TAKEN:
        return 3;
    case STORE_REG_NOT_PROVISIONED:
        return 4;
    case STORE_REG_ERROR:
        break;
    }
    return -1;
}

/* ---- the CSV of known terminals -------------------------------------------
 *   manufacturer,model,terminal_id[,plate_color,plate]
 * No quoting (no field may contain a comma); spaces around fields are dropped;
 * blank lines, '#' lines and a header line starting with "manufacturer" are
 * skipped.  The whole file is checked before the first row is emitted, so a bad
 * line provisions nothing. */

struct csv_row {
    long line;
    char name[STORE_NAME_MAX + 1];
    char binding[STORE_BINDING_MAX + 1];
};

struct csv_rows {
    struct csv_row *v;
    size_t n, cap;
};

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        n--;
    s[n] = '\0';
    return s;
}

/* Split on commas in place; returns the field count (CSV_FIELDS + 1 = too many). */
static int split(char *line, char *fields[CSV_FIELDS])
{
    int n = 0;
    char *p = line;
    for (;;) {
        char *comma = strchr(p, ',');
        if (n == CSV_FIELDS)
            return CSV_FIELDS + 1;
        if (comma)
            *comma = '\0';
        fields[n++] = trim(p);
        if (!comma)
            return n;
        p = comma + 1;
    }
}

static int parse_color(const char *s, int *out)
{
    if (*s == '\0')
        return -1;
    long v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (*p - '0');
        if (v > 255)
            return -1;
    }
    *out = (int)v;
    return 0;
}

/* Check one data line into row; -1 with "what" in why. */
static int parse_line(char *line, struct csv_row *row, char *why, size_t cap)
{
    char *f[CSV_FIELDS];
    int n = split(line, f);
    int color = 0;

    if (n != 3 && n != 5) {
        jt808_say(why, cap, "%s%d fields, needs 3 (manufacturer,model,terminal_id) or 5 (...,plate_color,plate)",
            n > CSV_FIELDS ? "over " : "", n > CSV_FIELDS ? CSV_FIELDS : n);
        return -1;
    }
    if (check_id("manufacturer", f[0], 4, 11, why, cap) || check_id("model", f[1], 4, 30, why, cap)
        || check_id("terminal_id", f[2], 4, 30, why, cap))
        return -1;
    if (n == 5) {
        if (parse_color(f[3], &color) != 0) {
            jt808_say(why, cap, "plate_color: '%.16s' is not a number 0-255", f[3]);
            return -1;
        }
        if (strlen(f[4]) > PLATE_MAX) {
            jt808_say(why, cap, "plate: %zu bytes, at most %d", strlen(f[4]), PLATE_MAX);
            return -1;
        }
    }
    snprintf(row->name, sizeof row->name, "%s_%s_%s", f[0], f[1], f[2]);
    /* an empty plate names no vehicle: any plate may register with this triple */
    make_binding(row->binding, sizeof row->binding, (unsigned)color, n == 5 ? f[4] : "");
    return 0;
}

static struct csv_row *add_row(struct csv_rows *r)
{
    if (r->n == r->cap) {
        size_t ncap = r->cap ? r->cap * 2 : 64;
        struct csv_row *nv = realloc(r->v, ncap * sizeof *nv);
        if (!nv)
            return NULL;
        r->v = nv;
        r->cap = ncap;
    }
    return &r->v[r->n++];
}

/* Every row of the file, checked; -1 with "file:line: what" in err. */
static int read_rows(FILE *fp, const char *path, struct csv_rows *rows, char *err, size_t errcap)
{
    char *buf = NULL;
    size_t bufcap = 0;
    ssize_t len;
    long lineno = 0;
    char why[160];
    int rc = -1;

    while ((len = getline(&buf, &bufcap, fp)) >= 0) {
        lineno++;
        char *line = buf;
        if (memchr(buf, '\0', (size_t)len)) {
            jt808_say(err, errcap, "%s:%ld: NUL byte in line", path, lineno);
            goto out;
        }
        if (lineno == 1 && strncmp(line, "\xEF\xBB\xBF", 3) == 0)
            line += 3;   /* spreadsheets write a UTF-8 byte order mark */
        line = trim(line);
        if (line[0] == '\0' || line[0] == '#' || strncasecmp(line, "manufacturer", 12) == 0)
            continue;
        if (rows->n == INT_MAX) {
            jt808_say(err, errcap, "%s:%ld: too many rows", path, lineno);
            goto out;
        }
        struct csv_row *row = add_row(rows);
        if (!row) {
            jt808_say(err, errcap, "%s:%ld: out of memory", path, lineno);
            goto out;
        }
        row->line = lineno;
        if (parse_line(line, row, why, sizeof why) != 0) {
            jt808_say(err, errcap, "%s:%ld: %s", path, lineno, why);
            goto out;
        }
    }
    if (ferror(fp)) {
        jt808_say(err, errcap, "%s:%ld: read error: %s", path, lineno + 1, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    free(buf);
    return rc;
}

int jt808_triples_load(const char *path, int (*emit)(void *ctx, const struct store_provision *p), void *ctx,
                       char *err, size_t errcap)
{
    if (!path || !emit) {
        jt808_say(err, errcap, "jt808_triples_load: %s is NULL", path ? "emit" : "path");
        return -1;
    }
    FILE *fp = fopen(path, "r");
    if (!fp) {
        jt808_say(err, errcap, "%s: %s", path, strerror(errno));
        return -1;
    }
    struct csv_rows rows = {0};
    int rc = read_rows(fp, path, &rows, err, errcap);
    fclose(fp);
    for (size_t i = 0; rc == 0 && i < rows.n; i++) {
        struct store_provision p = {
            .protocol = JT808_REG_PROTOCOL,
            .name = rows.v[i].name,
            .binding = rows.v[i].binding,
        };
        if (emit(ctx, &p) != 0) {
            jt808_say(err, errcap, "%s:%ld: the row was not stored", path, rows.v[i].line);
            rc = -1;
        }
    }
    free(rows.v);
    return rc == 0 ? (int)rows.n : -1;
}
