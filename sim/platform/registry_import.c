/* Import of one-party triples from CSV:
 *   manufacturer,model,terminal_id[,plate_color,plate]
 * No quoting (no field may contain a comma); spaces around fields are dropped;
 * blank lines, '#' lines and a header line starting with "manufacturer" are
 * skipped.  The file goes in as one transaction: a bad line imports nothing. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim/platform/registry_internal.h"

#define MAX_FIELDS 5

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

/* Split on commas in place; returns the field count (MAX_FIELDS + 1 = too many). */
static int split(char *line, char *fields[MAX_FIELDS])
{
    int n = 0;
    char *p = line;
    for (;;) {
        char *comma = strchr(p, ',');
        if (n == MAX_FIELDS)
            return MAX_FIELDS + 1;
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

/* Check and store one data line; -1 with "what" in why. */
static int import_line(struct registry *r, char *line, char *why, size_t cap)
{
    char *f[MAX_FIELDS];
    int n = split(line, f);
    int color = 0;

    if (n != 3 && n != 5) {
        registry__err(why, cap, "%s%d fields, needs 3 (manufacturer,model,terminal_id) or 5 (...,plate_color,plate)",
                      n > MAX_FIELDS ? "over " : "", n > MAX_FIELDS ? MAX_FIELDS : n);
        return -1;
    }
    if (registry__check_id("manufacturer", f[0], 4, 11, why, cap)
        || registry__check_id("model", f[1], 4, 30, why, cap)
        || registry__check_id("terminal_id", f[2], 4, 30, why, cap))
        return -1;
    if (n == 5) {
        if (parse_color(f[3], &color) != 0) {
            registry__err(why, cap, "plate_color: '%.16s' is not a number 0-255", f[3]);
            return -1;
        }
        if (strlen(f[4]) > REGISTRY_PLATE_MAX) {
            registry__err(why, cap, "plate: %zu bytes, at most %d", strlen(f[4]), REGISTRY_PLATE_MAX);
            return -1;
        }
    }

    sqlite3_stmt *st = r->st[RS_TRIPLE_PUT];
    sqlite3_bind_text(st, 1, f[0], -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, f[1], -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, f[2], -1, SQLITE_STATIC);
    /* an empty plate names no vehicle: any plate may register with this triple */
    if (n == 5 && f[4][0] != '\0') {
        sqlite3_bind_int(st, 4, color);
        sqlite3_bind_text(st, 5, f[4], -1, SQLITE_STATIC);
    } else {
        sqlite3_bind_null(st, 4);
        sqlite3_bind_null(st, 5);
    }
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        registry__err(why, cap, "database: %s", sqlite3_errmsg(r->db));
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int registry_import_csv(struct registry *r, const char *path, char *err, size_t errcap)
{
    if (!r || !path) {
        registry__err(err, errcap, "registry_import_csv: %s is NULL", r ? "path" : "registry");
        return -1;
    }
    FILE *fp = fopen(path, "r");
    if (!fp) {
        registry__err(err, errcap, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (registry__exec(r, RS_BEGIN) != SQLITE_OK) {
        registry__err(err, errcap, "%s: database: %s", path, sqlite3_errmsg(r->db));
        fclose(fp);
        return -1;
    }

    char *buf = NULL;
    size_t bufcap = 0;
    ssize_t len;
    long lineno = 0;
    int rows = 0;
    char why[160];

    while ((len = getline(&buf, &bufcap, fp)) >= 0) {
        lineno++;
        char *line = buf;
        if (memchr(buf, '\0', (size_t)len)) {
            registry__err(err, errcap, "%s:%ld: NUL byte in line", path, lineno);
            goto fail;
        }
        if (lineno == 1 && strncmp(line, "\xEF\xBB\xBF", 3) == 0)
            line += 3;   /* spreadsheets write a UTF-8 byte order mark */
        line = trim(line);
        if (line[0] == '\0' || line[0] == '#' || strncasecmp(line, "manufacturer", 12) == 0)
            continue;
        if (rows == INT_MAX) {
            registry__err(err, errcap, "%s:%ld: too many rows", path, lineno);
            goto fail;
        }
        if (import_line(r, line, why, sizeof why) != 0) {
            registry__err(err, errcap, "%s:%ld: %s", path, lineno, why);
            goto fail;
        }
        rows++;
    }
    if (ferror(fp)) {
        registry__err(err, errcap, "%s:%ld: read error: %s", path, lineno + 1, strerror(errno));
        goto fail;
    }
    if (registry__exec(r, RS_COMMIT) != SQLITE_OK) {
        registry__err(err, errcap, "%s: database: %s", path, sqlite3_errmsg(r->db));
        goto fail;
    }
    free(buf);
    fclose(fp);
    return rows;
fail:
    registry__exec(r, RS_ROLLBACK);
    free(buf);
    fclose(fp);
    return -1;
}
