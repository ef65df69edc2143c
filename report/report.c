#include "report/report.h"
#include "report/report_internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The case array starts at this many slots and doubles when n_cases reaches a
 * power of two, so its capacity follows from n_cases alone. */
#define CASES_MIN 8

static const char *const verdict_names[] = {"PASS", "INCONCLUSIVE", "FAIL", "ERROR"};

/* An out-of-range verdict is a harness bug, so it counts as ERROR. */
static enum verdict verdict_clamp(enum verdict v)
{
    return (unsigned)v > VERDICT_ERROR ? VERDICT_ERROR : v;
}

const char *verdict_name(enum verdict v)
{
    if ((unsigned)v > VERDICT_ERROR)
        return "UNKNOWN";
    return verdict_names[v];
}

enum verdict verdict_worse(enum verdict a, enum verdict b)
{
    a = verdict_clamp(a);
    b = verdict_clamp(b);
    return a > b ? a : b;
}

size_t report_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    size_t len;
    uint32_t min;
    if ((s[0] & 0xE0) == 0xC0) {
        len = 2, min = 0x80, *cp = s[0] & 0x1F;
    } else if ((s[0] & 0xF0) == 0xE0) {
        len = 3, min = 0x800, *cp = s[0] & 0x0F;
    } else if ((s[0] & 0xF8) == 0xF0) {
        len = 4, min = 0x10000, *cp = s[0] & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        *cp = (*cp << 6) | (s[i] & 0x3F);
    }
    if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF))
        return 0;
    return len;
}

/* Length of the well-formed UTF-8 sequence at s (at most n bytes), 0 if none. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    uint32_t cp;
    return report_utf8_decode(s, n, &cp);
}

/* Reports are read by JSON and XML parsers that reject malformed UTF-8 (device
 * text in GBK, a sequence cut by a fixed-size field): such bytes become '?'. */
static void text_repair(char *s, size_t cap)
{
    s[cap - 1] = '\0';
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        size_t len = utf8_len((unsigned char *)s + i, n - i);
        if (len == 0) {
            s[i++] = '?';
            continue;
        }
        i += len;
    }
}

#define TEXT_REPAIR(field) text_repair((field), sizeof(field))

static void copy_text(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strnlen(src, cap - 1) : 0;
    memcpy(dst, src ? src : "", n);
    dst[n] = '\0';
    text_repair(dst, cap);
}

void report_init(struct run_report *r, const char *scenario, const char *path)
{
    memset(r, 0, sizeof *r);
    copy_text(r->scenario, sizeof r->scenario, scenario);
    copy_text(r->scenario_path, sizeof r->scenario_path, path);
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm))
        strftime(r->started, sizeof r->started, "%Y-%m-%dT%H:%M:%SZ", &tm);
    r->metrics = cJSON_CreateObject();   /* NULL on OOM: writers treat it as empty */
    r->ledger_balanced = 1;
}

static int is_pow2(int n) { return n > 0 && (n & (n - 1)) == 0; }

struct case_result *report_add_case(struct run_report *r, const struct case_result *src)
{
    struct case_result copy = *src;   /* src may live in r->cases, which realloc moves */
    const struct case_result *c = &copy;
    if (r->n_cases == 0 || (r->n_cases >= CASES_MIN && is_pow2(r->n_cases))) {
        size_t cap = r->n_cases == 0 ? CASES_MIN : (size_t)r->n_cases * 2;
        struct case_result *grown = realloc(r->cases, cap * sizeof *grown);
        if (!grown)
            return NULL;
        r->cases = grown;
    }
    struct case_result *dst = &r->cases[r->n_cases];
    *dst = *c;
    dst->wire_log = NULL;
    if (c->wire_log) {
        dst->wire_log = strdup(c->wire_log);
        if (!dst->wire_log)
            return NULL;
        text_repair(dst->wire_log, strlen(dst->wire_log) + 1);
    }
    TEXT_REPAIR(dst->id);
    TEXT_REPAIR(dst->area);
    TEXT_REPAIR(dst->desc);
    TEXT_REPAIR(dst->expected);
    TEXT_REPAIR(dst->observed);
    TEXT_REPAIR(dst->ref);
    TEXT_REPAIR(dst->level);
    TEXT_REPAIR(dst->suite);
    r->n_cases++;
    return dst;
}

void report_free(struct run_report *r)
{
    for (int i = 0; i < r->n_cases; i++)
        free(r->cases[i].wire_log);
    free(r->cases);
    cJSON_Delete(r->metrics);
    cJSON_Delete(r->errors);
    cJSON_Delete(r->snapshot);
    memset(r, 0, sizeof *r);
}

enum verdict report_overall(const struct run_report *r)
{
    enum verdict v = VERDICT_PASS;
    for (int i = 0; i < r->n_cases; i++)
        v = verdict_worse(v, r->cases[i].verdict);
    return v;
}
