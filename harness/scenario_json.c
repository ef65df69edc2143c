/* Typed, path-aware field access for the scenario parser.  Every refusal says
 * where (file and JSON path), what was expected and what was found, because
 * scenario files are written by hand and the message is all the user sees. */
#include "harness/scenario_json.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sim/core/units.h"
#include "sim/proto/hex.h"

#define SJ_NAME_MAX 64

/* The reader collecting every error, if any. */
static _Thread_local struct {
    const struct scenario_json *j;
    struct scenario_json_errors *e;
} sj_collecting;

void scenario_json_collect(const struct scenario_json *j, struct scenario_json_errors *e)
{
    if (e != NULL)
        memset(e, 0, sizeof *e);
    sj_collecting.j = e != NULL ? j : NULL;
    sj_collecting.e = e;
}

static struct scenario_json_errors *sj_all(const struct scenario_json *j)
{
    return j != NULL && j == sj_collecting.j ? sj_collecting.e : NULL;
}

int scenario_json_fail(const struct scenario_json *j, const char *path, const char *fmt, ...)
{
    char msg[512], line[768];
    struct scenario_json_errors *all = sj_all(j);
    va_list ap;
    if (all != NULL)
        all->n++;
    if (j->err == NULL || j->errcap == 0)
        return SJ_ERR;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (path == NULL || path[0] == '\0')
        snprintf(line, sizeof line, "%s: %s", j->file, msg);
    else
        snprintf(line, sizeof line, "%s: %s: %s", j->file, path, msg);
    if (all == NULL || all->n == 1) {
        /* the first error is always shown, cut to the buffer if need be */
        snprintf(j->err, j->errcap, "%s", line);
        if (all != NULL) {
            all->shown = 1;
            all->used = strnlen(j->err, j->errcap - 1);
        }
        return SJ_ERR;
    }
    /* a later one only whole, leaving room for the "and N more" line */
    size_t len = strlen(line), reserve = strlen(j->file) + 40;
    if (all->full || all->shown >= SCENARIO_JSON_ERRORS_MAX ||
        all->used + 1 + len + reserve >= j->errcap) {
        all->full = true;
        return SJ_ERR;
    }
    j->err[all->used++] = '\n';
    memcpy(j->err + all->used, line, len + 1);
    all->used += len;
    all->shown++;
    return SJ_ERR;
}

int scenario_json_errors(const struct scenario_json *j)
{
    const struct scenario_json_errors *all = sj_all(j);
    return all != NULL ? all->n : 0;
}

void scenario_json_finish(const struct scenario_json *j)
{
    const struct scenario_json_errors *all = sj_all(j);
    if (all == NULL || all->n <= all->shown || j->err == NULL || all->used >= j->errcap)
        return;
    int more = all->n - all->shown;
    snprintf(j->err + all->used, j->errcap - all->used, "\n%s: and %d more error%s", j->file, more,
             more == 1 ? "" : "s");
}

bool scenario_json_hinted(const struct scenario_json *j, const cJSON *obj, const char *key)
{
    const struct scenario_json_errors *all = sj_all(j);
    for (int i = 0; all != NULL && i < all->n_hints; i++)
        if (all->hint_obj[i] == obj && strcmp(all->hint_key[i], key) == 0)
            return true;
    return false;
}

static void sj_hint(const struct scenario_json *j, const cJSON *obj, const char *key)
{
    struct scenario_json_errors *all = sj_all(j);
    if (all == NULL || all->n_hints >= SCENARIO_JSON_HINTS_MAX || scenario_json_get(obj, key))
        return;
    all->hint_obj[all->n_hints] = obj;
    all->hint_key[all->n_hints++] = key;
}

void scenario_json_path(char *out, size_t cap, const char *parent, const char *key)
{
    char k[SJ_NAME_MAX + 4];
    units_quote(key, k, sizeof k, SJ_NAME_MAX);
    if (parent == NULL || parent[0] == '\0')
        snprintf(out, cap, "%s", k);
    else
        snprintf(out, cap, "%s.%s", parent, k);
}

void scenario_json_index(char *out, size_t cap, const char *parent, int i)
{
    snprintf(out, cap, "%s[%d]", parent ? parent : "", i);
}

static void sj_format_number(double v, char *out, size_t cap)
{
    snprintf(out, cap, "%.15g", v);
}

void scenario_json_got(const cJSON *v, char *out, size_t cap)
{
    char s[48];
    if (v == NULL || cJSON_IsInvalid(v)) {
        snprintf(out, cap, "nothing");
    } else if (cJSON_IsString(v)) {
        size_t n = 0;
        const char *p = v->valuestring ? v->valuestring : "";
        units_quote(p, s, sizeof s, 32);
        /* quotes inside the text would make the quoting ambiguous */
        for (n = 0; s[n] != '\0'; n++)
            if (s[n] == '"')
                s[n] = '\'';
        snprintf(out, cap, "\"%s\"", s);
    } else if (cJSON_IsNumber(v)) {
        sj_format_number(v->valuedouble, out, cap);
    } else if (cJSON_IsTrue(v)) {
        snprintf(out, cap, "true");
    } else if (cJSON_IsFalse(v)) {
        snprintf(out, cap, "false");
    } else if (cJSON_IsNull(v)) {
        snprintf(out, cap, "null");
    } else if (cJSON_IsArray(v)) {
        snprintf(out, cap, "an array");
    } else {
        snprintf(out, cap, "an object");
    }
}

/* Optimal string alignment distance, case-insensitive. */
static size_t sj_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t d[SJ_NAME_MAX + 1][SJ_NAME_MAX + 1];
    if (la > SJ_NAME_MAX || lb > SJ_NAME_MAX)
        return (size_t)-1;
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t k = 0; k <= lb; k++)
        d[0][k] = k;
    for (size_t i = 1; i <= la; i++) {
        for (size_t k = 1; k <= lb; k++) {
            int ca = tolower((unsigned char)a[i - 1]), cb = tolower((unsigned char)b[k - 1]);
            size_t cost = ca != cb;
            size_t best = d[i - 1][k] + 1;
            if (d[i][k - 1] + 1 < best)
                best = d[i][k - 1] + 1;
            if (d[i - 1][k - 1] + cost < best)
                best = d[i - 1][k - 1] + cost;
            if (i > 1 && k > 1 && ca == tolower((unsigned char)b[k - 2]) &&
                tolower((unsigned char)a[i - 2]) == cb && d[i - 2][k - 2] + 1 < best)
                best = d[i - 2][k - 2] + 1;
            d[i][k] = best;
        }
    }
    return d[la][lb];
}

const char *scenario_json_closest(const char *word, const char *const *names, size_t n)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(names[i]);
        /* short names tolerate one slip, longer ones more */
        size_t limit = len <= 4 ? 1 : len <= 8 ? 2 : 3;
        size_t d = sj_distance(word, names[i]);
        if (d <= limit && d < best_d) {
            best = names[i];
            best_d = d;
        }
    }
    return best;
}

void scenario_json_join(const char *const *names, size_t n, char *out, size_t cap)
{
    size_t used = 0;
    if (cap == 0)
        return;
    out[0] = '\0';
    for (size_t i = 0; i < n && used < cap; i++) {
        int w = snprintf(out + used, cap - used, "%s%s", i ? ", " : "", names[i]);
        if (w < 0)
            return;
        used += (size_t)w;
    }
}

int scenario_json_fields(const struct scenario_json *j, const cJSON *obj, const char *path,
                         const char *const *known, size_t n)
{
    char p[SCENARIO_JSON_PATH_MAX];
    int rc = SJ_OK;
    for (const cJSON *c = obj->child; c != NULL; c = c->next) {
        const char *key = c->string ? c->string : "";
        bool found = false;
        for (size_t i = 0; i < n; i++)
            if (strcmp(key, known[i]) == 0)
                found = true;
        scenario_json_path(p, sizeof p, path, key);
        if (!found) {
            const char *near = scenario_json_closest(key, known, n);
            if (near != NULL) {
                sj_hint(j, obj, near);
                rc = scenario_json_fail(j, p, "unknown field (did you mean \"%s\"?)", near);
            } else {
                rc = scenario_json_fail(j, p, "unknown field");
            }
        } else {
            for (const cJSON *e = obj->child; e != c; e = e->next) {
                if (e->string != NULL && strcmp(e->string, key) == 0) {
                    rc = scenario_json_fail(j, p, "field given twice");
                    break;
                }
            }
        }
        if (rc != SJ_OK && sj_all(j) == NULL)
            return rc;
    }
    return rc;
}

int scenario_json_want_object(const struct scenario_json *j, const cJSON *v, const char *path)
{
    char got[64];
    if (cJSON_IsObject(v))
        return SJ_OK;
    scenario_json_got(v, got, sizeof got);
    return scenario_json_fail(j, path, "expected an object, got %s", got);
}

int scenario_json_want_array(const struct scenario_json *j, const cJSON *v, const char *path)
{
    char got[64];
    if (cJSON_IsArray(v))
        return SJ_OK;
    scenario_json_got(v, got, sizeof got);
    return scenario_json_fail(j, path, "expected an array, got %s", got);
}

const cJSON *scenario_json_get(const cJSON *obj, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

static bool sj_utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p != 0) {
        unsigned char c = *p;
        size_t n;
        uint32_t cp;
        if (c < 0x80) {
            p++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        for (size_t i = 1; i <= n; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        /* overlong forms, surrogates, beyond U+10FFFF */
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        p += n + 1;
    }
    return true;
}

/* The field's value and path, or SJ_ABSENT / a "required" error. */
static int sj_lookup(const struct scenario_json *j, const cJSON *obj, const char *path,
                     const char *key, int need, const cJSON **v, char *p, size_t pcap)
{
    scenario_json_path(p, pcap, path, key);
    *v = scenario_json_get(obj, key);
    if (*v != NULL)
        return SJ_OK;
    if (need == SJ_REQUIRED && scenario_json_hinted(j, obj, key))
        return SJ_ERR;
    if (need == SJ_REQUIRED)
        return scenario_json_fail(j, p, "required field missing");
    return SJ_ABSENT;
}

static int sj_type_error(const struct scenario_json *j, const char *p, const char *expected,
                         const cJSON *v)
{
    char got[64];
    scenario_json_got(v, got, sizeof got);
    return scenario_json_fail(j, p, "expected %s, got %s", expected, got);
}

int scenario_json_string(const struct scenario_json *j, const cJSON *obj, const char *path,
                         const char *key, int need, bool nonempty, char *out, size_t cap)
{
    char p[SCENARIO_JSON_PATH_MAX];
    const cJSON *v;
    size_t len;
    int rc = sj_lookup(j, obj, path, key, need, &v, p, sizeof p);
    if (rc != SJ_OK)
        return rc;
    if (!cJSON_IsString(v) || v->valuestring == NULL)
        return sj_type_error(j, p, "a string", v);
    len = strlen(v->valuestring);
    if (nonempty && len == 0)
        return scenario_json_fail(j, p, "must not be empty");
    if (len >= cap)
        return scenario_json_fail(j, p, "too long: at most %zu bytes, got %zu", cap - 1, len);
    if (!sj_utf8_valid(v->valuestring))
        return scenario_json_fail(j, p, "not valid UTF-8");
    memcpy(out, v->valuestring, len + 1);
    return SJ_OK;
}

int scenario_json_enum(const struct scenario_json *j, const cJSON *obj, const char *path,
                       const char *key, int need, const char *const *allowed, size_t n,
                       char *out, size_t cap)
{
    char p[SCENARIO_JSON_PATH_MAX], got[64], list[256];
    const cJSON *v;
    const char *near;
    int rc = sj_lookup(j, obj, path, key, need, &v, p, sizeof p);
    if (rc != SJ_OK)
        return rc;
    scenario_json_join(allowed, n, list, sizeof list);
    if (!cJSON_IsString(v) || v->valuestring == NULL) {
        scenario_json_got(v, got, sizeof got);
        return scenario_json_fail(j, p, "expected one of %s, got %s", list, got);
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(v->valuestring, allowed[i]) == 0) {
            snprintf(out, cap, "%s", allowed[i]);
            return SJ_OK;
        }
    }
    scenario_json_got(v, got, sizeof got);
    near = scenario_json_closest(v->valuestring, allowed, n);
    if (near != NULL)
        return scenario_json_fail(j, p, "unknown value %s (did you mean \"%s\"?)", got, near);
    return scenario_json_fail(j, p, "expected one of %s, got %s", list, got);
}

static int sj_duration(const struct scenario_json *j, const cJSON *obj, const char *path,
                       const char *key, int need, uint64_t min_us, uint64_t *out, bool in_ms)
{
    char p[SCENARIO_JSON_PATH_MAX], uerr[160], num[40];
    const cJSON *v;
    const char *text;
    int rc = sj_lookup(j, obj, path, key, need, &v, p, sizeof p);
    if (rc != SJ_OK)
        return rc;
    if (cJSON_IsNumber(v)) {
        /* the unit parser's words for a number without a unit, and how to write one */
        uint64_t ignored;
        sj_format_number(v->valuedouble, num, sizeof num);
        units_duration_us(num, &ignored, uerr, sizeof uerr); /* no unit: always refused */
        if (!isfinite(v->valuedouble) || v->valuedouble < 0 || strlen(num) > 16)
            snprintf(num, sizeof num, "30");
        return scenario_json_fail(j, p, "%s, e.g. \"%ss\" or \"%sms\" (a string)", uerr, num, num);
    }
    if (!cJSON_IsString(v) || v->valuestring == NULL)
        return sj_type_error(j, p, "a duration like \"30s\" or \"250ms\" (units required)", v);
    text = v->valuestring;
    rc = in_ms ? units_duration_range_ms(text, min_us, 0, out, uerr, sizeof uerr)
               : units_duration_range_us(text, min_us, 0, out, uerr, sizeof uerr);
    if (rc != 0)
        return scenario_json_fail(j, p, "%s", uerr);
    return SJ_OK;
}

int scenario_json_duration_ms(const struct scenario_json *j, const cJSON *obj, const char *path,
                              const char *key, int need, uint64_t *out)
{
    return sj_duration(j, obj, path, key, need, 0, out, true);
}

int scenario_json_duration_us(const struct scenario_json *j, const cJSON *obj, const char *path,
                              const char *key, int need, uint64_t *out)
{
    return sj_duration(j, obj, path, key, need, 0, out, false);
}

int scenario_json_duration_min_ms(const struct scenario_json *j, const cJSON *obj, const char *path,
                                  const char *key, int need, uint64_t min_us, uint64_t *out)
{
    return sj_duration(j, obj, path, key, need, min_us, out, true);
}

int scenario_json_count(const struct scenario_json *j, const cJSON *obj, const char *path,
                        const char *key, int need, bool positive, uint64_t *out)
{
    char p[SCENARIO_JSON_PATH_MAX], got[64], uerr[160];
    const cJSON *v;
    uint64_t n;
    int rc = sj_lookup(j, obj, path, key, need, &v, p, sizeof p);
    if (rc != SJ_OK)
        return rc;
    scenario_json_got(v, got, sizeof got);
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (!isfinite(d))
            return scenario_json_fail(j, p, "too large, got %s", got);
        if (d < 0 || (positive && d == 0))
            return scenario_json_fail(j, p, "expected a %s count, got %s",
                                      positive ? "positive" : "non-negative", got);
        if (d != floor(d))
            return scenario_json_fail(j, p, "expected a whole count, got %s", got);
        if (d >= 18446744073709551616.0)
            return scenario_json_fail(j, p, "too large, got %s", got);
        n = (uint64_t)d;
    } else if (cJSON_IsString(v) && v->valuestring != NULL) {
        if (v->valuestring[0] == '-')
            return scenario_json_fail(j, p, "expected a %s count, got %s",
                                      positive ? "positive" : "non-negative", got);
        if (units_count(v->valuestring, &n, uerr, sizeof uerr) != 0)
            return scenario_json_fail(j, p, "%s", uerr);
        if (positive && n == 0)
            return scenario_json_fail(j, p, "expected a positive count, got %s", got);
    } else {
        return scenario_json_fail(j, p, "expected a count like 1000 or \"10k\", got %s", got);
    }
    *out = n;
    return SJ_OK;
}

int scenario_json_rate(const struct scenario_json *j, const cJSON *obj, const char *path,
                       const char *key, int need, double *out)
{
    char p[SCENARIO_JSON_PATH_MAX], uerr[160];
    const cJSON *v;
    int rc = sj_lookup(j, obj, path, key, need, &v, p, sizeof p);
    if (rc != SJ_OK)
        return rc;
    if (!cJSON_IsString(v) || v->valuestring == NULL)
        return sj_type_error(j, p, "a rate like \"200/s\" or \"50/min\"", v);
    if (units_rate_per_s(v->valuestring, out, uerr, sizeof uerr) != 0)
        return scenario_json_fail(j, p, "%s", uerr);
    return SJ_OK;
}

int scenario_json_number(const struct scenario_json *j, const cJSON *obj, const char *path,
                         const char *key, int need, double *out)
{
    char p[SCENARIO_JSON_PATH_MAX];
    const cJSON *v;
    int rc = sj_lookup(j, obj, path, key, need, &v, p, sizeof p);
    if (rc != SJ_OK)
        return rc;
    if (!cJSON_IsNumber(v))
        return sj_type_error(j, p, "a number", v);
    if (!isfinite(v->valuedouble))
        return scenario_json_fail(j, p, "number out of range");
    *out = v->valuedouble;
    return SJ_OK;
}

int scenario_json_int(const struct scenario_json *j, const cJSON *obj, const char *path,
                      const char *key, int need, long long lo, long long hi, long long *out)
{
    char p[SCENARIO_JSON_PATH_MAX], got[64];
    const cJSON *v;
    double d;
    int rc = sj_lookup(j, obj, path, key, need, &v, p, sizeof p);
    if (rc != SJ_OK)
        return rc;
    if (!cJSON_IsNumber(v))
        return sj_type_error(j, p, "a whole number", v);
    d = v->valuedouble;
    scenario_json_got(v, got, sizeof got);
    if (!isfinite(d) || d != floor(d))
        return scenario_json_fail(j, p, "expected a whole number, got %s", got);
    if (d < (double)lo || d > (double)hi)
        return scenario_json_fail(j, p, "must be between %lld and %lld, got %s", lo, hi, got);
    *out = (long long)d;
    return SJ_OK;
}

int scenario_json_fraction(const struct scenario_json *j, const cJSON *obj, const char *path,
                           const char *key, int need, double *out)
{
    char p[SCENARIO_JSON_PATH_MAX], got[64];
    double d;
    int rc = scenario_json_number(j, obj, path, key, need, &d);
    if (rc != SJ_OK)
        return rc;
    if (d > 0 && d <= 1) {
        *out = d;
        return SJ_OK;
    }
    scenario_json_path(p, sizeof p, path, key);
    scenario_json_got(scenario_json_get(obj, key), got, sizeof got);
    return scenario_json_fail(j, p, "must be in (0, 1], got %s", got);
}

int scenario_json_msg_id(const struct scenario_json *j, const cJSON *obj, const char *path,
                         const char *key, int need, uint16_t *out)
{
    char p[SCENARIO_JSON_PATH_MAX];
    const cJSON *v;
    const char *s;
    unsigned id = 0;
    int rc = sj_lookup(j, obj, path, key, need, &v, p, sizeof p);
    if (rc != SJ_OK)
        return rc;
    if (!cJSON_IsString(v) || v->valuestring == NULL)
        return sj_type_error(j, p, "a message id like \"0x8104\"", v);
    s = v->valuestring;
    if (strlen(s) != 6 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
        return sj_type_error(j, p, "a message id like \"0x8104\"", v);
    for (int i = 2; i < 6; i++) {
        int d = hex_digit(s[i]);
        if (d < 0)
            return sj_type_error(j, p, "a message id like \"0x8104\"", v);
        id = id * 16 + (unsigned)d;
    }
    *out = (uint16_t)id;
    return SJ_OK;
}
