/* Reading a report.json back (harness/report_read.h): every field checked, the
 * errors of a document all at once, each with the file and the JSON path. */
#include "harness/report_read.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/scenario_json.h"
#include "harness/textfile.h"
#include "report/report_internal.h"

static const char *const verdict_names[] = {"PASS", "INCONCLUSIVE", "FAIL", "ERROR"};
static const char *const level_names[] = {"MUST", "SHOULD", "MAY"};

static const char *const top_keys[] = {"scenario", "path", "started", "duration_s", "virtual_s", "verdict",
                                       "ledger", "errors", "cases", "metrics", "snapshot"};
static const char *const ledger_keys[] = {"balanced", "text"};
static const char *const case_keys[] = {"id", "area", "description", "ref", "level", "suite", "verdict",
                                        "expected", "observed", "duration_s", "wire_log"};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

int report_json_syntax_error(const char *file, const char *text, const char *at, char *err, size_t errcap)
{
    size_t line = 1, col = 1;
    if (!at)
        at = cJSON_GetErrorPtr();
    if (!at || at < text || at > text + strlen(text))
        at = text;
    for (const char *p = text; p < at; p++) {
        if (*p == '\n') {
            line++;
            col = 1;
        } else if (((unsigned char)*p & 0xC0) != 0x80) {
            col++;
        }
    }
    snprintf(err, errcap, "%s:%zu:%zu: JSON syntax error%s", file, line, col, *at ? "" : " at end of input");
    return -1;
}

static enum verdict verdict_named(const char *s)
{
    for (size_t i = 0; i < N_OF(verdict_names); i++)
        if (strcmp(s, verdict_names[i]) == 0)
            return (enum verdict)i;
    return VERDICT_ERROR;
}

/* A number >= 0 (a duration in seconds). */
static int seconds(const struct scenario_json *j, const cJSON *obj, const char *path, const char *key, double *out)
{
    double v = 0;
    int rc = scenario_json_number(j, obj, path, key, SJ_REQUIRED, &v);
    if (rc != SJ_OK)
        return rc;
    if (v < 0) {
        char p[SCENARIO_JSON_PATH_MAX];
        scenario_json_path(p, sizeof p, path, key);
        return scenario_json_fail(j, p, "expected a number of seconds >= 0, got %g", v);
    }
    *out = v;
    return SJ_OK;
}

/* "" or YYYY-MM-DDTHH:MM:SSZ, as report_init writes it. */
static bool iso_time(const char *s)
{
    static const char pat[] = "dddd-dd-ddTdd:dd:ddZ";
    if (!s[0])
        return true;
    if (strlen(s) != sizeof pat - 1)
        return false;
    for (size_t i = 0; pat[i]; i++)
        if (pat[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != pat[i])
            return false;
    return true;
}

bool report_json_utf8(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t l = report_utf8_decode((const unsigned char *)s + i, n - i, &cp);
        if (l == 0)
            return false;
        i += l;
    }
    return true;
}

/* The case at path into c (its wire log pointing into the tree). */
static int read_case(const struct scenario_json *j, const cJSON *o, const char *path, struct case_result *c)
{
    int rc = SJ_OK;
    char v[16] = "", p[SCENARIO_JSON_PATH_MAX];
    if (scenario_json_want_object(j, o, path) != SJ_OK)
        return SJ_ERR;
    SJ_TRY(rc, scenario_json_fields(j, o, path, case_keys, N_OF(case_keys)));
    SJ_TRY(rc, scenario_json_string(j, o, path, "id", SJ_REQUIRED, true, c->id, sizeof c->id));
    SJ_TRY(rc, scenario_json_string(j, o, path, "area", SJ_REQUIRED, false, c->area, sizeof c->area));
    SJ_TRY(rc, scenario_json_string(j, o, path, "description", SJ_REQUIRED, false, c->desc, sizeof c->desc));
    SJ_TRY(rc, scenario_json_string(j, o, path, "ref", SJ_OPTIONAL, false, c->ref, sizeof c->ref));
    SJ_TRY(rc, scenario_json_enum(j, o, path, "level", SJ_OPTIONAL, level_names, N_OF(level_names), c->level,
                                  sizeof c->level));
    SJ_TRY(rc, scenario_json_string(j, o, path, "suite", SJ_OPTIONAL, false, c->suite, sizeof c->suite));
    int vr = scenario_json_enum(j, o, path, "verdict", SJ_REQUIRED, verdict_names, N_OF(verdict_names), v, sizeof v);
    SJ_TRY(rc, vr);
    c->verdict = vr == SJ_OK ? verdict_named(v) : VERDICT_ERROR;
    SJ_TRY(rc, scenario_json_string(j, o, path, "expected", SJ_REQUIRED, false, c->expected, sizeof c->expected));
    SJ_TRY(rc, scenario_json_string(j, o, path, "observed", SJ_REQUIRED, false, c->observed, sizeof c->observed));
    SJ_TRY(rc, seconds(j, o, path, "duration_s", &c->duration_s));
    const cJSON *w = scenario_json_get(o, "wire_log");
    if (w) {
        scenario_json_path(p, sizeof p, path, "wire_log");
        char got[64];
        size_t n = cJSON_IsString(w) && w->valuestring ? strlen(w->valuestring) : 0;
        if (!cJSON_IsString(w) || !w->valuestring) {
            scenario_json_got(w, got, sizeof got);
            rc = scenario_json_fail(j, p, "expected a string, got %s", got);
        } else if (n > REPORT_READ_WIRE_LOG_MAX) {
            rc = scenario_json_fail(j, p, "too long: at most %u bytes, got %zu", REPORT_READ_WIRE_LOG_MAX, n);
        } else if (!report_json_utf8(w->valuestring, n)) {
            rc = scenario_json_fail(j, p, "not valid UTF-8");
        } else {
            c->wire_log = w->valuestring;
        }
    }
    return rc;
}

static int by_id(const void *a, const void *b)
{
    const struct case_result *x = *(const struct case_result *const *)a, *y = *(const struct case_result *const *)b;
    int d = strcmp(x->id, y->id);
    return d ? d : (x < y ? -1 : x > y);
}

/* Two cases of one id: the later named with the earlier. */
static int unique_ids(const struct scenario_json *j, const struct run_report *r)
{
    if (r->n_cases < 2)
        return SJ_OK;
    const struct case_result **v = malloc((size_t)r->n_cases * sizeof *v);
    if (!v)
        return scenario_json_fail(j, "cases", "out of memory");
    for (int i = 0; i < r->n_cases; i++)
        v[i] = &r->cases[i];
    qsort(v, (size_t)r->n_cases, sizeof *v, by_id);
    int rc = SJ_OK;
    for (int i = 1; i < r->n_cases; i++)
        if (strcmp(v[i]->id, v[i - 1]->id) == 0) {
            char p[SCENARIO_JSON_PATH_MAX];
            scenario_json_index(p, sizeof p, "cases", (int)(v[i] - r->cases));
            rc = scenario_json_fail(j, p, "id %s is also cases[%d]'s", v[i]->id, (int)(v[i - 1] - r->cases));
        }
    free(v);
    return rc;
}

static int read_top(const struct scenario_json *j, const cJSON *root, struct run_report *r)
{
    int rc = SJ_OK;
    char scenario[sizeof r->scenario] = "", path[sizeof r->scenario_path] = "", started[sizeof r->started] = "";
    char verdict[16] = "";
    if (scenario_json_want_object(j, root, "") != SJ_OK)
        return SJ_ERR;
    SJ_TRY(rc, scenario_json_fields(j, root, "", top_keys, N_OF(top_keys)));
    SJ_TRY(rc, scenario_json_string(j, root, "", "scenario", SJ_REQUIRED, false, scenario, sizeof scenario));
    SJ_TRY(rc, scenario_json_string(j, root, "", "path", SJ_REQUIRED, false, path, sizeof path));
    int sr = scenario_json_string(j, root, "", "started", SJ_REQUIRED, false, started, sizeof started);
    SJ_TRY(rc, sr);
    if (sr == SJ_OK && !iso_time(started))
        rc = scenario_json_fail(j, "started", "expected a UTC time YYYY-MM-DDTHH:MM:SSZ (or \"\"), got \"%s\"",
                                started);
    report_init(r, scenario, path);
    memcpy(r->started, started, sizeof r->started);
    SJ_TRY(rc, seconds(j, root, "", "duration_s", &r->duration_s));
    SJ_TRY(rc, seconds(j, root, "", "virtual_s", &r->virtual_s));
    int vr = scenario_json_enum(j, root, "", "verdict", SJ_REQUIRED, verdict_names, N_OF(verdict_names), verdict,
                                sizeof verdict);
    SJ_TRY(rc, vr);

    const cJSON *ledger = scenario_json_get(root, "ledger");
    if (!ledger) {
        rc = scenario_json_fail(j, "ledger", "required field missing");
    } else if (scenario_json_want_object(j, ledger, "ledger") != SJ_OK) {
        rc = SJ_ERR;
    } else {
        SJ_TRY(rc, scenario_json_fields(j, ledger, "ledger", ledger_keys, N_OF(ledger_keys)));
        const cJSON *b = scenario_json_get(ledger, "balanced");
        if (!b)
            rc = scenario_json_fail(j, "ledger.balanced", "required field missing");
        else if (!cJSON_IsBool(b))
            rc = scenario_json_fail(j, "ledger.balanced", "expected true or false");
        else
            r->ledger_balanced = cJSON_IsTrue(b);
        SJ_TRY(rc, scenario_json_string(j, ledger, "ledger", "text", SJ_REQUIRED, false, r->ledger_text,
                                        sizeof r->ledger_text));
    }

    /* the free-form parts: objects, read by their own readers */
    static const char *const objs[] = {"errors", "metrics", "snapshot"};
    for (size_t i = 0; i < N_OF(objs); i++) {
        const cJSON *o = scenario_json_get(root, objs[i]);
        if (!o) {
            if (i < 2)
                rc = scenario_json_fail(j, objs[i], "required field missing");
            continue;
        }
        if (scenario_json_want_object(j, o, objs[i]) != SJ_OK) {
            rc = SJ_ERR;
            continue;
        }
        cJSON *dup = cJSON_Duplicate(o, 1);
        if (!dup) {
            rc = scenario_json_fail(j, objs[i], "out of memory");
            continue;
        }
        if (i == 0) {
            if (dup->child)
                r->errors = dup;
            else
                cJSON_Delete(dup);
        } else if (i == 1) {
            cJSON_Delete(r->metrics);
            r->metrics = dup;
        } else {
            r->snapshot = dup;
        }
    }

    const cJSON *cases = scenario_json_get(root, "cases");
    if (!cases)
        return scenario_json_fail(j, "cases", "required field missing");
    if (scenario_json_want_array(j, cases, "cases") != SJ_OK)
        return SJ_ERR;
    int n = cJSON_GetArraySize(cases);
    if (n > REPORT_READ_MAX_CASES)
        return scenario_json_fail(j, "cases", "%d cases, at most %d", n, REPORT_READ_MAX_CASES);
    int i = 0;
    for (const cJSON *o = cases->child; o; o = o->next, i++) {
        char p[SCENARIO_JSON_PATH_MAX];
        struct case_result c;
        memset(&c, 0, sizeof c);
        scenario_json_index(p, sizeof p, "cases", i);
        if (read_case(j, o, p, &c) != SJ_OK) {
            rc = SJ_ERR;
            continue;
        }
        if (!report_add_case(r, &c))
            return scenario_json_fail(j, p, "out of memory");
    }
    if (rc != SJ_OK)
        return rc;
    SJ_TRY(rc, unique_ids(j, r));
    enum verdict worst = report_overall(r);
    if (vr == SJ_OK && verdict_named(verdict) != worst)
        rc = scenario_json_fail(j, "verdict", "%s, but the worst verdict of the cases is %s", verdict,
                                verdict_name(worst));
    return rc;
}

int report_from_json(const cJSON *root, const char *file, struct run_report *r, char *err, size_t errcap)
{
    struct scenario_json j = {file ? file : "<report>", err, errcap};
    struct scenario_json_errors errs;
    memset(r, 0, sizeof *r);
    if (errcap)
        err[0] = '\0';
    scenario_json_collect(&j, &errs);
    int rc = read_top(&j, root, r);
    int n = scenario_json_errors(&j);
    scenario_json_finish(&j);
    scenario_json_collect(NULL, NULL);
    if (rc != SJ_OK || n > 0) {
        report_free(r);
        return -1;
    }
    return 0;
}

int report_read_json(const char *text, size_t len, const char *file, struct run_report *r, char *err,
                     size_t errcap)
{
    memset(r, 0, sizeof *r);
    file = file ? file : "<report>";
    /* cJSON reads to a NUL: a copy that has one, and no NUL inside */
    if (memchr(text, '\0', len)) {
        snprintf(err, errcap, "%s: a NUL byte at offset %zu: not JSON text", file,
                 (size_t)((const char *)memchr(text, '\0', len) - text));
        return -1;
    }
    char *t = malloc(len + 1);
    if (!t) {
        snprintf(err, errcap, "%s: out of memory", file);
        return -1;
    }
    memcpy(t, text, len);
    t[len] = '\0';
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(t, &end, 1);
    if (!root) {
        report_json_syntax_error(file, t, end, err, errcap);
        free(t);
        return -1;
    }
    free(t);
    int rc = report_from_json(root, file, r, err, errcap);
    cJSON_Delete(root);
    return rc;
}

int report_load_json(const char *path, struct run_report *r, char *err, size_t errcap)
{
    char *text;
    size_t n;
    memset(r, 0, sizeof *r);
    int e = textfile_read(path, REPORT_READ_MAX_BYTES, &text, &n);
    if (e) {
        snprintf(err, errcap, "%s: %s", path, e == EFBIG ? "larger than 64 MiB" : strerror(e));
        return -1;
    }
    int rc = report_read_json(text, n, path, r, err, errcap);
    free(text);
    return rc;
}
