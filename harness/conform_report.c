/* Conformance reports read back and merged (harness/conform_report.h). */
#include "harness/conform_report.h"

#include <math.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/conform.h"
#include "harness/report_read.h"
#include "harness/scenario_json.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))
#define ID_CAP 48 /* = sizeof case_result.id */

static const char *const metric_keys[] = {"target", "not_run", "jobs", "shards", "attempts", "tls"};
static const char *const group_keys[] = {"count", "of", "cases"};
static const char *const verdict_names[] = {"PASS", "INCONCLUSIVE", "FAIL", "ERROR"};

static int verdict_index(const cJSON *v)
{
    for (int i = 0; cJSON_IsString(v) && v->valuestring && i < (int)N_OF(verdict_names); i++)
        if (strcmp(v->valuestring, verdict_names[i]) == 0)
            return i;
    return -1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool has_str(const char *const *sorted, int n, const char *s)
{
    return n > 0 && bsearch(&s, sorted, (size_t)n, sizeof *sorted, cmp_str) != NULL;
}

/* A case id in an array: a string of 1..47 bytes of UTF-8. */
static int want_id(const struct scenario_json *j, const cJSON *v, const char *path)
{
    char got[64];
    if (!cJSON_IsString(v) || !v->valuestring) {
        scenario_json_got(v, got, sizeof got);
        return scenario_json_fail(j, path, "expected a case id (a string), got %s", got);
    }
    size_t n = strlen(v->valuestring);
    if (n == 0 || n >= ID_CAP)
        return scenario_json_fail(j, path, "a case id has 1-%d bytes, this one %zu", ID_CAP - 1, n);
    if (!report_json_utf8(v->valuestring, n))
        return scenario_json_fail(j, path, "not valid UTF-8");
    return SJ_OK;
}

/* The ids of an array of case ids (checked), sorted, into *out (malloc'd); their count, -1 on error. */
static int id_array(const struct scenario_json *j, const cJSON *arr, const char *path, const char ***out)
{
    *out = NULL;
    if (scenario_json_want_array(j, arr, path) != SJ_OK)
        return -1;
    int n = cJSON_GetArraySize(arr), k = 0, rc = SJ_OK;
    if (n > REPORT_READ_MAX_CASES) {
        scenario_json_fail(j, path, "%d case ids, at most %d", n, REPORT_READ_MAX_CASES);
        return -1;
    }
    const char **v = malloc(((size_t)n + 1) * sizeof *v);
    if (!v) {
        scenario_json_fail(j, path, "out of memory");
        return -1;
    }
    for (const cJSON *e = arr->child; e; e = e->next, k++) {
        char p[SCENARIO_JSON_PATH_MAX];
        scenario_json_index(p, sizeof p, path, k);
        if (want_id(j, e, p) != SJ_OK)
            rc = SJ_ERR;
        else
            v[k] = e->valuestring;
    }
    if (rc != SJ_OK) {
        free(v);
        return -1;
    }
    qsort(v, (size_t)n, sizeof *v, cmp_str);
    *out = v;
    return n;
}

/* A JSON number that is a whole number in lo..hi. */
static bool whole(const cJSON *v, double lo, double hi)
{
    return cJSON_IsNumber(v) && isfinite(v->valuedouble) && v->valuedouble == floor(v->valuedouble) &&
           v->valuedouble >= lo && v->valuedouble <= hi;
}

/* Do groups a and b stand for one sharded run: the same N, the same cases chosen? */
static bool same_run(const cJSON *a, const cJSON *b)
{
    const cJSON *ca = cJSON_GetObjectItemCaseSensitive(a, "count"), *cb = cJSON_GetObjectItemCaseSensitive(b, "count");
    if (!cJSON_IsNumber(ca) || !cJSON_IsNumber(cb) || ca->valuedouble != cb->valuedouble)
        return false;
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(a, "cases")->child;
    const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, "cases")->child;
    for (; x && y; x = x->next, y = y->next)
        if (strcmp(x->valuestring, y->valuestring) != 0)
            return false;
    return !x && !y;
}

static int check_group(const struct scenario_json *j, const cJSON *g, const char *path)
{
    int rc = SJ_OK;
    long long count = 0;
    char p[SCENARIO_JSON_PATH_MAX];
    if (scenario_json_want_object(j, g, path) != SJ_OK)
        return SJ_ERR;
    SJ_TRY(rc, scenario_json_fields(j, g, path, group_keys, N_OF(group_keys)));
    int cr = scenario_json_int(j, g, path, "count", SJ_REQUIRED, 1, CONFORM_MAX_SHARDS, &count);
    SJ_TRY(rc, cr);
    const cJSON *of = scenario_json_get(g, "of");
    scenario_json_path(p, sizeof p, path, "of");
    if (!of) {
        rc = scenario_json_fail(j, p, "required field missing");
    } else if (scenario_json_want_array(j, of, p) != SJ_OK) {
        rc = SJ_ERR;
    } else if (!of->child) {
        rc = scenario_json_fail(j, p, "empty: the shards (1..count) the report holds");
    } else {
        double last = 0;
        int k = 0;
        for (const cJSON *e = of->child; e; e = e->next, k++) {
            char q[SCENARIO_JSON_PATH_MAX];
            scenario_json_index(q, sizeof q, p, k);
            if (!whole(e, 1, cr == SJ_OK ? (double)count : CONFORM_MAX_SHARDS)) {
                char got[64];
                scenario_json_got(e, got, sizeof got);
                rc = scenario_json_fail(j, q, "expected a shard 1..%lld, got %s", count, got);
                break;
            }
            if (e->valuedouble <= last) {
                rc = scenario_json_fail(j, q, "shard %.0f after %.0f: the shards increase", e->valuedouble, last);
                break;
            }
            last = e->valuedouble;
        }
    }
    const cJSON *cases = scenario_json_get(g, "cases");
    scenario_json_path(p, sizeof p, path, "cases");
    if (!cases)
        return scenario_json_fail(j, p, "required field missing");
    const char **ids;
    int n = id_array(j, cases, p, &ids);
    if (n < 0)
        return SJ_ERR;
    for (int i = 1; i < n; i++)
        if (strcmp(ids[i], ids[i - 1]) == 0) {
            rc = scenario_json_fail(j, p, "case %s is in the list twice", ids[i]);
            break;
        }
    free(ids);
    return rc;
}

static int check(const struct scenario_json *j, const struct run_report *r)
{
    int rc = SJ_OK;
    char buf[256], p[SCENARIO_JSON_PATH_MAX];
    if (strcmp(r->scenario, "conform") != 0)
        return scenario_json_fail(j, "scenario", "\"%s\": not a conformance report (fleetsim conform --report "
                                  "writes \"conform\")", r->scenario);
    if (r->snapshot)
        return scenario_json_fail(j, "snapshot", "a conformance report has none (a load run's report has)");
    const cJSON *m = r->metrics;
    if (!m)
        return scenario_json_fail(j, "metrics", "required field missing");
    SJ_TRY(rc, scenario_json_fields(j, m, "metrics", metric_keys, N_OF(metric_keys)));
    SJ_TRY(rc, scenario_json_string(j, m, "metrics", "target", SJ_REQUIRED, true, buf, sizeof buf));
    long long jobs;
    SJ_TRY(rc, scenario_json_int(j, m, "metrics", "jobs", SJ_REQUIRED, 1, 64, &jobs));
    const cJSON *nr = scenario_json_get(m, "not_run");
    if (!nr) {
        rc = scenario_json_fail(j, "metrics.not_run", "required field missing");
    } else {
        const char **ids;
        int n = id_array(j, nr, "metrics.not_run", &ids);
        if (n < 0)
            rc = SJ_ERR;
        free(ids);
    }

    /* the ids of the report's cases, sorted */
    const char **mine = malloc(((size_t)r->n_cases + 1) * sizeof *mine);
    if (!mine)
        return scenario_json_fail(j, "cases", "out of memory");
    for (int i = 0; i < r->n_cases; i++)
        mine[i] = r->cases[i].id;
    qsort(mine, (size_t)r->n_cases, sizeof *mine, cmp_str);

    const cJSON *sh = scenario_json_get(m, "shards");
    if (sh && scenario_json_want_array(j, sh, "metrics.shards") != SJ_OK) {
        rc = SJ_ERR;
    } else if (sh && cJSON_GetArraySize(sh) > CONFORM_REPORT_MAX_RUNS) {
        rc = scenario_json_fail(j, "metrics.shards", "%d runs, at most %d", cJSON_GetArraySize(sh),
                                CONFORM_REPORT_MAX_RUNS);
    } else if (sh) {
        int k = 0, bad = 0, total = 0;
        for (const cJSON *g = sh->child; g; g = g->next, k++) {
            scenario_json_index(p, sizeof p, "metrics.shards", k);
            if (check_group(j, g, p) != SJ_OK)
                bad = 1;
            else
                total += cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(g, "cases"));
        }
        /* every entry a run of its own (compared once all are known to be well-formed) */
        k = 0;
        for (const cJSON *g = sh->child; g && !bad; g = g->next, k++) {
            int q = 0;
            for (const cJSON *h = sh->child; h != g; h = h->next, q++)
                if (same_run(g, h)) {
                    scenario_json_index(p, sizeof p, "metrics.shards", k);
                    rc = scenario_json_fail(j, p, "the same run as metrics.shards[%d] (count and cases): one "
                                            "entry with the shards of both", q);
                    bad = 1;
                    break;
                }
        }
        if (!bad && total > 0) {
            /* every case of the report is one its runs chose */
            const char **all = malloc((size_t)total * sizeof *all);
            int n = 0;
            if (!all) {
                free(mine);
                return scenario_json_fail(j, "metrics.shards", "out of memory");
            }
            for (const cJSON *g = sh->child; g; g = g->next)
                for (const cJSON *e = cJSON_GetObjectItemCaseSensitive(g, "cases")->child; e; e = e->next)
                    all[n++] = e->valuestring;
            qsort(all, (size_t)n, sizeof *all, cmp_str);
            for (int i = 0; i < r->n_cases; i++)
                if (!has_str(all, n, r->cases[i].id)) {
                    scenario_json_index(p, sizeof p, "cases", i);
                    rc = scenario_json_fail(j, p, "case %s is none of the cases its run chose (metrics.shards[]"
                                            ".cases)", r->cases[i].id);
                    break;
                }
            free(all);
        } else if (bad) {
            rc = SJ_ERR;
        }
    }

    const cJSON *at = scenario_json_get(m, "attempts");
    if (at && scenario_json_want_object(j, at, "metrics.attempts") != SJ_OK) {
        rc = SJ_ERR;
    } else if (at) {
        int na = cJSON_GetArraySize(at), u = 0;
        const char **keys = malloc(((size_t)na + 1) * sizeof *keys);
        if (!keys) {
            free(mine);
            return scenario_json_fail(j, "metrics.attempts", "out of memory");
        }
        for (const cJSON *e = at->child; e; e = e->next)
            keys[u++] = e->string ? e->string : "";
        qsort(keys, (size_t)na, sizeof *keys, cmp_str);
        for (u = 1; u < na; u++)
            if (strcmp(keys[u], keys[u - 1]) == 0) {
                scenario_json_path(p, sizeof p, "metrics.attempts", keys[u]);
                rc = scenario_json_fail(j, p, "twice in metrics.attempts");
                break;
            }
        free(keys);
        for (const cJSON *e = at->child; e; e = e->next) {
            scenario_json_path(p, sizeof p, "metrics.attempts", e->string);
            const struct case_result *c = NULL;
            const char *key = e->string;
            const char **hit = r->n_cases ? bsearch(&key, mine, (size_t)r->n_cases, sizeof *mine, cmp_str) : NULL;
            if (hit)
                c = (const struct case_result *)(*hit - offsetof(struct case_result, id));
            if (!c) {
                rc = scenario_json_fail(j, p, "not a case of the report");
                continue;
            }
            if (scenario_json_want_array(j, e, p) != SJ_OK) {
                rc = SJ_ERR;
                continue;
            }
            int worst = -1, k = 0, bad = 0;
            for (const cJSON *v = e->child; v; v = v->next, k++) {
                int vi = verdict_index(v);
                if (vi < 0) {
                    char q[SCENARIO_JSON_PATH_MAX], got[64];
                    scenario_json_index(q, sizeof q, p, k);
                    scenario_json_got(v, got, sizeof got);
                    rc = scenario_json_fail(j, q, "expected PASS, INCONCLUSIVE, FAIL or ERROR, got %s", got);
                    bad = 1;
                    break;
                }
                worst = vi > worst ? vi : worst;
            }
            if (bad)
                continue;
            if (k < 2)
                rc = scenario_json_fail(j, p, "%d attempt%s: a case in one report has no entry", k, k == 1 ? "" : "s");
            else if (worst != (int)c->verdict)
                rc = scenario_json_fail(j, p, "the worst attempt is %s, but the case's verdict is %s",
                                        verdict_names[worst], verdict_name(c->verdict));
        }
    }
    free(mine);
    return rc;
}

int conform_report_check(const struct run_report *r, const char *file, char *err, size_t errcap)
{
    struct scenario_json j = {file ? file : "<report>", err, errcap};
    struct scenario_json_errors errs;
    scenario_json_collect(&j, &errs);
    int rc = check(&j, r);
    int n = scenario_json_errors(&j);
    scenario_json_finish(&j);
    scenario_json_collect(NULL, NULL);
    return rc == SJ_OK && n == 0 ? 0 : -1;
}

int conform_report_parse(const char *text, size_t len, const char *file, struct run_report *r, char *err,
                         size_t errcap)
{
    if (report_read_json(text, len, file, r, err, errcap) < 0)
        return -1;
    if (conform_report_check(r, file, err, errcap) < 0) {
        report_free(r);
        return -1;
    }
    return 0;
}

int conform_report_load(const char *path, struct run_report *r, char *err, size_t errcap)
{
    if (report_load_json(path, r, err, errcap) < 0)
        return -1;
    if (conform_report_check(r, path, err, errcap) < 0) {
        report_free(r);
        return -1;
    }
    return 0;
}

/* --- merging ---------------------------------------------------------------------------- */

/* A case of an input. */
struct entry {
    const struct case_result *c;
    int input;
    int seq;                        /* place over all inputs, in input order */
    long rank;                      /* place in the merged report */
};

static int by_id_seq(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    int d = strcmp(x->c->id, y->c->id);
    return d ? d : (x->seq > y->seq) - (x->seq < y->seq);
}

static int by_rank(const void *a, const void *b)
{
    const struct entry *x = *(const struct entry *const *)a, *y = *(const struct entry *const *)b;
    return (x->rank > y->rank) - (x->rank < y->rank);
}

/* A sharded run: the groups of the inputs that stand for it. */
struct run_group {
    const cJSON *g;                 /* the first input's entry (count, cases) */
    uint32_t count;
    uint8_t *have;                  /* [count + 1]: shard k given */
};

/* Appends a line to note. */
static void say(char *note, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *note, size_t cap, const char *fmt, ...)
{
    size_t used = strlen(note);
    if (used + 2 >= cap)
        return;
    if (used)
        note[used++] = '\n', note[used] = '\0';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(note + used, cap - used, fmt, ap);
    va_end(ap);
}

/* "1-3, 5" of the k with have[k] (or !have[k]), 1..n. */
static void ranges(const uint8_t *have, uint32_t n, bool want, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (uint32_t k = 1; k <= n && used + 1 < cap; k++) {
        if ((have[k] != 0) != want)
            continue;
        uint32_t e = k;
        while (e + 1 <= n && (have[e + 1] != 0) == want)
            e++;
        int w = e > k ? snprintf(out + used, cap - used, "%s%u-%u", used ? ", " : "", k, e)
                      : snprintf(out + used, cap - used, "%s%u", used ? ", " : "", k);
        used += w > 0 ? (size_t)w : 0;
        k = e;
    }
}

/* Strings first-seen, each once: v[0..n) into v[0..result), the order kept; -1 out of memory. */
struct seen {
    const char *s;
    int i;
};

static int by_str_place(const void *a, const void *b)
{
    const struct seen *x = a, *y = b;
    int d = strcmp(x->s, y->s);
    return d ? d : (x->i > y->i) - (x->i < y->i);
}

static int uniq_keep_order(const char **v, int n)
{
    struct seen *t = malloc(((size_t)n + 1) * sizeof *t);
    bool *keep = calloc((size_t)n + 1, sizeof *keep);
    if (!t || !keep) {
        free(t);
        free(keep);
        return -1;
    }
    for (int i = 0; i < n; i++)
        t[i] = (struct seen){v[i], i};
    qsort(t, (size_t)n, sizeof *t, by_str_place);
    for (int i = 0; i < n; i++)
        keep[t[i].i] = i == 0 || strcmp(t[i].s, t[i - 1].s) != 0;
    int m = 0;
    for (int i = 0; i < n; i++)
        if (keep[i])
            v[m++] = v[i];
    free(t);
    free(keep);
    return m;
}

int conform_report_merge(const struct run_report *in, const char *const *files, int n, bool partial,
                         struct run_report *out, char *note, size_t notecap, char *err, size_t errcap)
{
    int rc = -1, total = 0, n_groups = 0, n_nr = 0;
    struct entry *ent = NULL;
    struct entry **order = NULL;
    struct run_group *groups = NULL;
    const char **ids = NULL, **nr = NULL, **words = NULL;
    cJSON *attempts = NULL;
    memset(out, 0, sizeof *out);
    if (notecap)
        note[0] = '\0';
    if (n < 1) {
        snprintf(err, errcap, "no report to merge");
        return -1;
    }
    for (int i = 0; i < n; i++) {
        total += in[i].n_cases;
        const cJSON *sh = cJSON_GetObjectItemCaseSensitive(in[i].metrics, "shards");
        n_groups += cJSON_GetArraySize(sh);
        n_nr += cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(in[i].metrics, "not_run"));
    }
    ent = calloc((size_t)total + 1, sizeof *ent);
    order = calloc((size_t)total + 1, sizeof *order);
    groups = calloc((size_t)n_groups + 1, sizeof *groups);
    ids = calloc((size_t)total + 1, sizeof *ids);
    nr = calloc((size_t)n_nr + 1, sizeof *nr);
    attempts = cJSON_CreateObject();
    if (!ent || !order || !groups || !ids || !nr || !attempts) {
        snprintf(err, errcap, "out of memory");
        goto done;
    }

    /* the sharded runs the inputs are of, and which of their shards are given */
    int ng = 0;
    for (int i = 0; i < n; i++) {
        const cJSON *sh = cJSON_GetObjectItemCaseSensitive(in[i].metrics, "shards");
        for (const cJSON *g = sh ? sh->child : NULL; g; g = g->next) {
            int q = 0;
            while (q < ng && !same_run(groups[q].g, g))
                q++;
            if (q == ng) {
                if (ng == CONFORM_REPORT_MAX_RUNS) {
                    snprintf(err, errcap, "%s: the reports are of more than %d runs (metrics.shards), more than "
                             "one report holds", files[i], CONFORM_REPORT_MAX_RUNS);
                    goto done;
                }
                groups[ng].g = g;
                groups[ng].count = (uint32_t)cJSON_GetObjectItemCaseSensitive(g, "count")->valuedouble;
                groups[ng].have = calloc((size_t)groups[ng].count + 1, 1);
                if (!groups[ng].have) {
                    snprintf(err, errcap, "out of memory");
                    goto done;
                }
                ng++;
            }
            for (const cJSON *k = cJSON_GetObjectItemCaseSensitive(g, "of")->child; k; k = k->next) {
                uint32_t s = (uint32_t)k->valuedouble;
                if (groups[q].have[s] && groups[q].count > 1)
                    say(note, notecap, "%s: shard %u/%u again (given before): its cases are repeated runs",
                        files[i], s, groups[q].count);
                groups[q].have[s] = 1;
            }
        }
    }

    /* every case, by id: one merged case per id */
    int seq = 0;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < in[i].n_cases; k++, seq++)
            ent[seq] = (struct entry){.c = &in[i].cases[k], .input = i, .seq = seq, .rank = -1};
    qsort(ent, (size_t)total, sizeof *ent, by_id_seq);
    int n_ids = 0, n_same = 0;
    for (int a = 0; a < total;) {
        int b = a + 1;
        while (b < total && strcmp(ent[a].c->id, ent[b].c->id) == 0)
            b++;
        int keep = a;
        for (int k = a + 1; k < b; k++)
            if (ent[k].c->verdict > ent[keep].c->verdict)
                keep = k;
        /* the attempts: each report's own (a merged one's), else its verdict */
        cJSON *list = cJSON_CreateArray();
        char seen[256] = "";
        if (!list) {
            snprintf(err, errcap, "out of memory");
            goto done;
        }
        for (int k = a; k < b; k++) {
            const cJSON *prev = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(in[ent[k].input].metrics, "attempts"), ent[k].c->id);
            if (prev) {
                for (const cJSON *v = prev->child; v; v = v->next)
                    cJSON_AddItemToArray(list, cJSON_CreateString(v->valuestring));
            } else {
                cJSON_AddItemToArray(list, cJSON_CreateString(verdict_name(ent[k].c->verdict)));
            }
            snprintf(seen + strlen(seen), sizeof seen - strlen(seen), "%s%s %s", k > a ? ", " : "",
                     files[ent[k].input], verdict_name(ent[k].c->verdict));
        }
        if (cJSON_GetArraySize(list) < 2) {
            cJSON_Delete(list);
        } else if (!cJSON_AddItemToObject(attempts, ent[a].c->id, list)) {
            cJSON_Delete(list);
            snprintf(err, errcap, "out of memory");
            goto done;
        }
        if (b - a > 1) {
            bool differ = false;
            for (int k = a + 1; k < b; k++)
                differ |= ent[k].c->verdict != ent[a].c->verdict;
            if (differ)
                say(note, notecap, "%s: in %d reports (%s): the worst verdict, %s, is kept", ent[a].c->id, b - a,
                    seen, verdict_name(ent[keep].c->verdict));
            else
                n_same++;
        }
        ids[n_ids] = ent[keep].c->id;
        order[n_ids++] = &ent[keep];
        a = b;
    }
    if (n_same)
        say(note, notecap, "%d case%s in several reports with the same verdict in each (repeated runs)", n_same,
            n_same == 1 ? " is" : "s are");
    /* ids[] is sorted: the runs' order of the cases first */
    long rank = 0;
    for (int q = 0; q < ng; q++)
        for (const cJSON *e = cJSON_GetObjectItemCaseSensitive(groups[q].g, "cases")->child; e; e = e->next) {
            const char *s = e->valuestring;
            const char **hit = n_ids ? bsearch(&s, ids, (size_t)n_ids, sizeof *ids, cmp_str) : NULL;
            if (hit && order[hit - ids]->rank < 0)
                order[hit - ids]->rank = rank++;
        }
    for (int k = 0; k < n_ids; k++)
        if (order[k]->rank < 0)
            order[k]->rank = rank + order[k]->seq; /* then input order */

    /* a sharded run merged whole: every shard given, every case it chose here */
    for (int q = 0; q < ng; q++) {
        struct run_group *g = &groups[q];
        const cJSON *cases = cJSON_GetObjectItemCaseSensitive(g->g, "cases");
        int missing = 0, chosen = 0;
        const char *first = NULL;
        for (const cJSON *e = cases->child; e; e = e->next, chosen++) {
            const char *s = e->valuestring;
            if (!n_ids || !bsearch(&s, ids, (size_t)n_ids, sizeof *ids, cmp_str)) {
                if (!first)
                    first = s;
                missing++;
            }
        }
        char lack[256], given[256];
        ranges(g->have, g->count, false, lack, sizeof lack);
        ranges(g->have, g->count, true, given, sizeof given);
        if (lack[0]) {
            if (!partial) {
                snprintf(err, errcap, "shard%s %s of %u of a run of %d cases not given (only %s): its cases (%s%s) "
                         "would be missing; give every shard's report, or --partial to merge without", strchr(lack, ',') ||
                         strchr(lack, '-') ? "s" : "", lack, g->count, chosen, given, first ? first : "none",
                         missing > 1 ? " and more" : "");
                goto done;
            }
            say(note, notecap, "--partial: shard%s %s of %u not given: %d of the run's %d cases are missing",
                strchr(lack, ',') || strchr(lack, '-') ? "s" : "", lack, g->count, missing, chosen);
        } else if (missing) {
            snprintf(err, errcap, "the %u shards of a run of %d cases are given, but %d of its cases are in none of "
                     "their reports (%s%s): were the shards run with other suites or options?", g->count, chosen,
                     missing, first, missing > 1 ? ", ..." : "");
            goto done;
        }
    }

    /* the merged report */
    char suites[512] = "";
    for (int i = 0; i < n; i++) {
        char buf[sizeof in[i].scenario_path], *save = NULL;
        snprintf(buf, sizeof buf, "%s", in[i].scenario_path);
        for (char *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
            size_t l = strlen(w);
            bool have = false;
            for (const char *p = suites; (p = strstr(p, w)) != NULL; p += l)
                if ((p == suites || p[-1] == ',') && (p[l] == ',' || p[l] == '\0'))
                    have = true;
            if (!have && strlen(suites) + l + 2 < sizeof suites)
                snprintf(suites + strlen(suites), sizeof suites - strlen(suites), "%s%s", suites[0] ? "," : "", w);
        }
    }
    report_init(out, "conform", suites);
    out->started[0] = '\0';
    double jobs = 1;
    words = calloc((size_t)n + 1, sizeof *words);
    if (!words) {
        snprintf(err, errcap, "out of memory");
        goto done;
    }
    for (int i = 0; i < n; i++) {
        if (in[i].started[0] && (!out->started[0] || strcmp(in[i].started, out->started) < 0))
            memcpy(out->started, in[i].started, sizeof out->started);
        out->duration_s = in[i].duration_s > out->duration_s ? in[i].duration_s : out->duration_s;
        out->ledger_balanced &= in[i].ledger_balanced != 0;
        const cJSON *jb = cJSON_GetObjectItemCaseSensitive(in[i].metrics, "jobs");
        if (cJSON_IsNumber(jb) && jb->valuedouble > jobs)
            jobs = jb->valuedouble;
        words[i] = cJSON_GetObjectItemCaseSensitive(in[i].metrics, "target")->valuestring;
    }
    qsort(order, (size_t)n_ids, sizeof *order, by_rank);
    for (int k = 0; k < n_ids; k++)
        if (!report_add_case(out, order[k]->c)) {
            snprintf(err, errcap, "out of memory");
            goto done;
        }
    /* the cases not run by any: the union of the not_run lists, less those run */
    int m = 0;
    for (int i = 0; i < n; i++) {
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(in[i].metrics, "not_run");
        for (const cJSON *e = l ? l->child : NULL; e; e = e->next) {
            const char *s = e->valuestring;
            if (!n_ids || !bsearch(&s, ids, (size_t)n_ids, sizeof *ids, cmp_str))
                nr[m++] = s;
        }
    }
    m = uniq_keep_order(nr, m);
    int nt = uniq_keep_order(words, n);
    if (m < 0 || nt < 0) {
        snprintf(err, errcap, "out of memory");
        goto done;
    }
    char target[256] = "";
    for (int k = 0; k < nt; k++)
        snprintf(target + strlen(target), sizeof target - strlen(target), "%s%s", k ? ", " : "", words[k]);
    cJSON *mt = out->metrics;
    cJSON *nra = mt ? cJSON_AddArrayToObject(mt, "not_run") : NULL;
    cJSON *sha = mt ? cJSON_AddArrayToObject(mt, "shards") : NULL;
    if (!mt || !cJSON_AddStringToObject(mt, "target", target) || !nra || !cJSON_AddNumberToObject(mt, "jobs", jobs) ||
        !sha) {
        snprintf(err, errcap, "out of memory");
        goto done;
    }
    for (int k = 0; k < m; k++)
        cJSON_AddItemToArray(nra, cJSON_CreateString(nr[k]));
    char runs[200] = "";
    for (int q = 0; q < ng; q++) {
        cJSON *g = cJSON_CreateObject(), *of = NULL;
        if (!g || !cJSON_AddItemToArray(sha, g)) {
            cJSON_Delete(g);
            snprintf(err, errcap, "out of memory");
            goto done;
        }
        cJSON_AddNumberToObject(g, "count", groups[q].count);
        of = cJSON_AddArrayToObject(g, "of");
        for (uint32_t k = 1; of && k <= groups[q].count; k++)
            if (groups[q].have[k])
                cJSON_AddItemToArray(of, cJSON_CreateNumber(k));
        cJSON_AddItemToObject(g, "cases", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(groups[q].g, "cases"), 1));
        char given[128];
        ranges(groups[q].have, groups[q].count, true, given, sizeof given);
        snprintf(runs + strlen(runs), sizeof runs - strlen(runs), "%s%s %s of %u", q ? "; " : "",
                 groups[q].count > 1 ? "shards" : "run", given, groups[q].count);
    }
    if (attempts->child) {
        cJSON_AddItemToObject(mt, "attempts", attempts);
        attempts = NULL;
    }
    snprintf(out->ledger_text, sizeof out->ledger_text, "%d cases from %d report%s (%s), %d not run", out->n_cases,
             n, n == 1 ? "" : "s", runs[0] ? runs : "no shard recorded", m);
    rc = 0;
done:
    if (rc < 0)
        report_free(out);
    for (int q = 0; groups && q < n_groups; q++)
        free(groups[q].have);
    free(groups);
    free(ent);
    free(order);
    free(ids);
    free(nr);
    free(words);
    cJSON_Delete(attempts);
    return rc;
}
