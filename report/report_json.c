#include "report/report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* cJSON's Add* helpers return NULL on allocation failure; counting failures
 * keeps the tree building flat instead of one check per field. */
struct builder {
    int failed;
};

static void add_str(struct builder *b, cJSON *o, const char *k, const char *v)
{
    if (!cJSON_AddStringToObject(o, k, v))
        b->failed = 1;
}

/* For fixed-size fields a caller may have filled to the brim without a NUL. */
static void add_field(struct builder *b, cJSON *o, const char *k, const char *v, size_t cap)
{
    if (memchr(v, '\0', cap)) {
        add_str(b, o, k, v);
        return;
    }
    char *t = strndup(v, cap);
    if (!t) {
        b->failed = 1;
        return;
    }
    add_str(b, o, k, t);
    free(t);
}

#define ADD_FIELD(b, o, k, field) add_field((b), (o), (k), (field), sizeof(field))

static void add_num(struct builder *b, cJSON *o, const char *k, double v)
{
    if (!cJSON_AddNumberToObject(o, k, v))
        b->failed = 1;
}

static cJSON *add_obj(struct builder *b, cJSON *parent, const char *k, cJSON *child)
{
    if (!child || !cJSON_AddItemToObject(parent, k, child)) {
        cJSON_Delete(child);
        b->failed = 1;
        return NULL;
    }
    return child;
}

static void add_case(struct builder *b, cJSON *arr, const struct case_result *c)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !cJSON_AddItemToArray(arr, o)) {
        cJSON_Delete(o);
        b->failed = 1;
        return;
    }
    ADD_FIELD(b, o, "id", c->id);
    ADD_FIELD(b, o, "area", c->area);
    ADD_FIELD(b, o, "description", c->desc);
    if (c->ref[0])
        ADD_FIELD(b, o, "ref", c->ref);
    if (c->level[0])
        ADD_FIELD(b, o, "level", c->level);
    if (c->suite[0])
        ADD_FIELD(b, o, "suite", c->suite);
    add_str(b, o, "verdict", verdict_name(c->verdict));
    ADD_FIELD(b, o, "expected", c->expected);
    ADD_FIELD(b, o, "observed", c->observed);
    add_num(b, o, "duration_s", c->duration_s);
    if (c->wire_log)
        add_str(b, o, "wire_log", c->wire_log);
}

static cJSON *build(const struct run_report *r)
{
    struct builder b = {0};
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    ADD_FIELD(&b, root, "scenario", r->scenario);
    ADD_FIELD(&b, root, "path", r->scenario_path);
    ADD_FIELD(&b, root, "started", r->started);
    add_num(&b, root, "duration_s", r->duration_s);
    add_num(&b, root, "virtual_s", r->virtual_s);
    add_str(&b, root, "verdict", verdict_name(report_overall(r)));
    cJSON *ledger = add_obj(&b, root, "ledger", cJSON_CreateObject());
    if (ledger) {
        if (!cJSON_AddBoolToObject(ledger, "balanced", r->ledger_balanced != 0))
            b.failed = 1;
        ADD_FIELD(&b, ledger, "text", r->ledger_text);
    }
    add_obj(&b, root, "errors", r->errors ? cJSON_Duplicate(r->errors, 1) : cJSON_CreateObject());
    cJSON *cases = add_obj(&b, root, "cases", cJSON_CreateArray());
    for (int i = 0; cases && i < r->n_cases; i++)
        add_case(&b, cases, &r->cases[i]);
    add_obj(&b, root, "metrics",
            r->metrics ? cJSON_Duplicate(r->metrics, 1) : cJSON_CreateObject());
    if (r->snapshot)
        add_obj(&b, root, "snapshot", cJSON_Duplicate(r->snapshot, 1));
    if (b.failed) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

/* Returns 0 or an errno value. */
static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return errno;
    size_t n = strlen(text);
    int bad = fwrite(text, 1, n, f) != n || fputc('\n', f) == EOF;
    int e = bad ? (errno ? errno : EIO) : 0;
    if (fclose(f) != 0 && !e)
        e = errno ? errno : EIO;
    return e;
}

char *report_json_text(const struct run_report *r)
{
    cJSON *root = build(r);
    char *text = root ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    return text;
}

int report_write_json(const struct run_report *r, const char *path, char *err, size_t errcap)
{
    char *text = report_json_text(r);
    if (!text) {
        snprintf(err, errcap, "json report '%s': out of memory", path);
        return -1;
    }
    errno = 0;
    int e = write_text(path, text);
    cJSON_free(text);
    if (e) {
        snprintf(err, errcap, "json report '%s': %s", path, strerror(e));
        return -1;
    }
    return 0;
}
