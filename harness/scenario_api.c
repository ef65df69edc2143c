/* The "api" step of a scenario: a call of the northbound API at its virtual time
 * ({"method", "path", "body", "expect_status", "capture", "id"}), its ${name}s
 * checked once the steps are in time order (a name is captured by an earlier
 * call, or is ${device:FLEET:N}), and the templates filled when it runs. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/subst.h"
#include "harness/api_client.h"
#include "harness/scenario_dialect.h"
#include "harness/scenario_internal.h"
#include "report/report.h"
#include "sim/dev/fleet.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))
#define API_PATH_MAX 2000          /* bytes of a path, ${name}s filled in or not */

static const char *const api_fields[] = {"method", "path", "body", "expect_status", "capture", "id"};
static const char *const methods[] = {"GET", "POST", "PUT", "DELETE"};

void scenario_api_free(struct sc_api *a)
{
    if (!a)
        return;
    free(a->path);
    cJSON_Delete(a->body);
    free(a);
}

static bool name_ok(const char *s)
{
    if (!(isalpha((unsigned char)s[0]) || s[0] == '_') || strlen(s) >= SC_API_NAME_MAX)
        return false;
    for (const char *p = s; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '_'))
            return false;
    return true;
}

static int api_capture(const struct scenario_json *j, const cJSON *cap, const char *path, struct sc_api *a)
{
    char p[SCENARIO_JSON_PATH_MAX];
    int rc = SJ_OK;
    if (scenario_json_want_object(j, cap, path) != SJ_OK)
        return SJ_ERR;
    for (const cJSON *c = cap->child; c; c = c->next) {
        const char *name = c->string ? c->string : "";
        scenario_json_path(p, sizeof p, path, name);
        if (!name_ok(name)) {
            rc = scenario_json_fail(j, p, "a name is a letter or _ then letters, digits, _ (at most %d)",
                                    SC_API_NAME_MAX - 1);
            continue;
        }
        if (!cJSON_IsString(c) || !api_json_path_ok(c->valuestring) ||
            strlen(c->valuestring) >= SC_API_PATH_MAX) {
            rc = scenario_json_fail(j, p, "expected a path into the answer's JSON (like \"commandId\" or "
                                    "\"services[0].data.lat\", at most %d bytes)", SC_API_PATH_MAX - 1);
            continue;
        }
        if (a->n_capture >= SC_API_MAX_CAPTURE) {
            rc = scenario_json_fail(j, p, "more than %d values captured by one call", SC_API_MAX_CAPTURE);
            break;
        }
        snprintf(a->capture_name[a->n_capture], SC_API_NAME_MAX, "%s", name);
        snprintf(a->capture_path[a->n_capture++], SC_API_PATH_MAX, "%s", c->valuestring);
    }
    if (a->n_capture == 0 && rc == SJ_OK)
        rc = scenario_json_fail(j, path, "captures nothing (leave it out, or name a value: {\"cmd1\": \"commandId\"})");
    return rc;
}

int scenario_api_parse(const struct scenario_json *j, cJSON *obj, const char *path, struct sc_step *st, int index)
{
    char p[SCENARIO_JSON_PATH_MAX], got[64];
    int rc = SJ_OK, r;
    st->kind = SC_STEP_API;
    if (scenario_json_want_object(j, obj, path) != SJ_OK)
        return SJ_ERR;
    struct sc_api *a = calloc(1, sizeof *a);
    if (!a)
        return scenario_json_fail(j, path, "out of memory");
    st->api = a;
    a->index = index;
    SJ_TRY(rc, scenario_json_fields(j, obj, path, api_fields, N_OF(api_fields)));
    SJ_TRY(rc, scenario_json_enum(j, obj, path, "method", SJ_REQUIRED, methods, N_OF(methods), a->method,
                                  sizeof a->method));
    const cJSON *pv = scenario_json_get(obj, "path");
    scenario_json_path(p, sizeof p, path, "path");
    if (!pv) {
        if (!scenario_json_hinted(j, obj, "path"))
            rc = scenario_json_fail(j, p, "required (like \"/iocm/app/dm/v1.4.0/devices/${device:FLEET:0}\")");
        else
            rc = SJ_ERR;
    } else if (!cJSON_IsString(pv) || pv->valuestring[0] != '/') {
        scenario_json_got(pv, got, sizeof got);
        rc = scenario_json_fail(j, p, "expected a path starting with \"/\", got %s", got);
    } else if (strlen(pv->valuestring) > API_PATH_MAX) {
        rc = scenario_json_fail(j, p, "longer than %d bytes", API_PATH_MAX);
    } else {
        const char *bad = NULL;
        for (const char *c = pv->valuestring; *c && !bad; c++)
            if ((unsigned char)*c <= ' ' || *c == 0x7f || *c == '#')
                bad = c;
        if (bad)
            rc = scenario_json_fail(j, p, "a space, control character or '#' at byte %zu (write it %%XX)",
                                    (size_t)(bad - pv->valuestring));
        else if (!(a->path = strdup(pv->valuestring)))
            rc = scenario_json_fail(j, p, "out of memory");
    }
    cJSON *body = cJSON_GetObjectItemCaseSensitive(obj, "body");
    if (body && !cJSON_IsNull(body)) {
        scenario_json_path(p, sizeof p, path, "body");
        if (!cJSON_IsObject(body) && !cJSON_IsArray(body)) {
            scenario_json_got(body, got, sizeof got);
            rc = scenario_json_fail(j, p, "expected a JSON object or array, got %s", got);
        } else if (strcmp(a->method, "GET") == 0 || strcmp(a->method, "DELETE") == 0) {
            rc = scenario_json_fail(j, p, "a %s call has no body", a->method);
        } else {
            a->body = cJSON_DetachItemViaPointer(obj, body);
        }
    }
    long long status = 0;
    r = scenario_json_int(j, obj, path, "expect_status", SJ_OPTIONAL, 100, 599, &status);
    SJ_TRY(rc, r);
    a->expect_status = r == SJ_OK ? (int)status : 0;
    const cJSON *cap = scenario_json_get(obj, "capture");
    if (cap) {
        scenario_json_path(p, sizeof p, path, "capture");
        SJ_TRY(rc, api_capture(j, cap, p, a));
    }
    r = scenario_json_string(j, obj, path, "id", SJ_OPTIONAL, true, a->id, sizeof a->id);
    SJ_TRY(rc, r);
    if (r == SJ_OK)
        for (const char *c = a->id; *c; c++)
            if (!(isalnum((unsigned char)*c) || *c == '-' || *c == '_' || *c == '.')) {
                scenario_json_path(p, sizeof p, path, "id");
                rc = scenario_json_fail(j, p, "an id is letters, digits, '-', '_' and '.', got \"%s\"", a->id);
                break;
            }
    return rc;
}

int scenario_api_first(const struct scenario *sc)
{
    int first = -1;
    for (int i = 0; i < sc->n_steps; i++)
        if (sc->steps[i].kind == SC_STEP_API && sc->steps[i].api &&
            (first < 0 || sc->steps[i].api->index < first))
            first = sc->steps[i].api->index;
    return first;
}

int scenario_device_id(const struct scenario *sc, const char *fleet, uint64_t n, char *out, size_t cap)
{
    const struct fleet_spec *f = scenario_fleet(sc, fleet);
    if (!f || n >= fleet_capacity(f))
        return -1;
    char prefix[FLEET_IDENT_LEN], ident[FLEET_IDENT_LEN + 24];
    uint64_t base;
    int digits;
    bool numbered;
    if (fleet_ident_parse(f->ident, prefix, sizeof prefix, &base, &digits, &numbered) < 0)
        return -1;
    fleet_ident_format(prefix, numbered, digits, base + (numbered ? n : 0), ident, sizeof ident);
    const struct sc_dialect *d = sc_dialect_of(f);
    if (d && d->device_id)
        d->device_id(f, ident, out, cap);
    else
        snprintf(out, cap, "%s", ident);
    return 0;
}

/* "device:FLEET:N" (n bytes at s): the fleet and N; false when it is not that shape. */
static bool device_ref(const char *s, size_t n, char *fleet, size_t fcap, uint64_t *idx)
{
    if (n < 10 || strncmp(s, "device:", 7) != 0)
        return false;
    const char *f = s + 7, *end = s + n, *colon = NULL;
    for (const char *c = end - 1; c > f; c--)
        if (*c == ':') {
            colon = c;
            break;
        }
    if (!colon || colon == f || (size_t)(colon - f) >= fcap || colon + 1 == end || end - colon - 1 > 19)
        return false;
    uint64_t v = 0;
    for (const char *c = colon + 1; c < end; c++) {
        if (*c < '0' || *c > '9')
            return false;
        v = v * 10 + (uint64_t)(*c - '0');
    }
    memcpy(fleet, f, (size_t)(colon - f));
    fleet[colon - f] = '\0';
    *idx = v;
    return true;
}

struct api_names {
    const struct scenario *sc;
    const char (*names)[SC_API_NAME_MAX];
    const char *const *vals;
    int n;
    char dev[FLEET_IDENT_LEN + 32];
};

/* ${device:FLEET:N}, or a captured name. */
static const char *api_look(void *ctx, const char *name, size_t len, char *tmp, size_t cap)
{
    struct api_names *a = ctx;
    char fleet[SC_ID_LEN];
    uint64_t idx;
    (void)tmp, (void)cap;
    if (device_ref(name, len, fleet, sizeof fleet, &idx))
        return scenario_device_id(a->sc, fleet, idx, a->dev, sizeof a->dev) == 0 ? a->dev : NULL;
    for (int i = 0; i < a->n; i++)
        if (strlen(a->names[i]) == len && strncmp(a->names[i], name, len) == 0)
            return a->vals[i];
    return NULL;
}

int scenario_api_subst(const struct scenario *sc, const char *tpl, const char (*names)[SC_API_NAME_MAX],
                       const char *const *vals, int n, char *out, size_t cap, char *why, size_t whycap)
{
    struct api_names a = {.sc = sc, .names = names, .vals = vals, .n = n};
    return subst_text(tpl, api_look, &a, out, cap, why, whycap);
}

/* --- checks across the steps -------------------------------------------------------- */

struct known {
    int n;
    char names[SC_MAX_EXPECT * 4][SC_API_NAME_MAX];
};

/* Who captures name: the file index of the first api step that does, -1 none. */
static int captured_by(const struct scenario *sc, const char *name, size_t len)
{
    for (int i = 0; i < sc->n_steps; i++) {
        const struct sc_api *a = sc->steps[i].api;
        for (int k = 0; a && k < a->n_capture; k++)
            if (strlen(a->capture_name[k]) == len && strncmp(a->capture_name[k], name, len) == 0)
                return a->index;
    }
    return -1;
}

static int refs_text(const struct scenario_json *j, const struct scenario *sc, const struct known *kn,
                     const char *s, const char *path)
{
    int rc = SJ_OK;
    for (const char *p = strstr(s, "${"); p; p = strstr(p + 2, "${")) {
        const char *e = strchr(p + 2, '}');
        if (!e)
            return scenario_json_fail(j, path, "\"${\" without its \"}\"");
        size_t len = (size_t)(e - p - 2);
        char fleet[SC_ID_LEN];
        uint64_t idx;
        if (len >= 7 && strncmp(p + 2, "device:", 7) == 0) {
            if (!device_ref(p + 2, len, fleet, sizeof fleet, &idx)) {
                rc = scenario_json_fail(j, path, "${%.*s}: expected ${device:FLEET:N} (a fleet's id and a terminal's "
                                        "number from 0)", (int)(len > 40 ? 40 : len), p + 2);
                continue;
            }
            const struct fleet_spec *f = scenario_fleet(sc, fleet);
            if (!f) {
                if (!(sc->parse_failed & SC_PARSE_FLEET_IDS))
                    rc = scenario_json_fail(j, path, "${%.*s}: no fleet \"%s\"", (int)(len > 40 ? 40 : len), p + 2,
                                            fleet);
            } else if (idx >= fleet_capacity(f)) {
                rc = scenario_json_fail(j, path, "${%.*s}: fleet %s has terminals 0 to %llu",
                                        (int)(len > 40 ? 40 : len), p + 2, fleet,
                                        (unsigned long long)fleet_capacity(f) - 1);
            }
            continue;
        }
        bool ok = false;
        for (int i = 0; i < kn->n && !ok; i++)
            ok = strlen(kn->names[i]) == len && strncmp(kn->names[i], p + 2, len) == 0;
        if (ok)
            continue;
        int by = captured_by(sc, p + 2, len);
        if (by >= 0)
            rc = scenario_json_fail(j, path, "${%.*s}: captured by steps[%d], which does not run before this one",
                                    (int)(len > 40 ? 40 : len), p + 2, by);
        else
            rc = scenario_json_fail(j, path, "${%.*s}: not captured by an earlier api step (nor ${device:FLEET:N})",
                                    (int)(len > 40 ? 40 : len), p + 2);
    }
    return rc;
}

static int refs_tree(const struct scenario_json *j, const struct scenario *sc, const struct known *kn,
                     const cJSON *v, const char *path)
{
    char p[SCENARIO_JSON_PATH_MAX];
    int rc = SJ_OK, i = 0;
    if (cJSON_IsString(v))
        return refs_text(j, sc, kn, v->valuestring, path);
    for (const cJSON *c = v ? v->child : NULL; c; c = c->next, i++) {
        if (cJSON_IsObject(v))
            scenario_json_path(p, sizeof p, path, c->string ? c->string : "");
        else
            scenario_json_index(p, sizeof p, path, i);
        SJ_TRY(rc, refs_tree(j, sc, kn, c, p));
    }
    return rc;
}

/* command_path expectations: their ids unique, their captures made by an api step. */
static int cmd_paths_check(const struct scenario_json *j, const struct scenario *sc)
{
    char p[SCENARIO_JSON_PATH_MAX], base[32];
    int rc = SJ_OK;
    for (int i = 0; i < sc->n_cmd_paths; i++) {
        const struct sc_cmd_path *e = &sc->cmd_paths[i];
        snprintf(base, sizeof base, "expect[%d]", e->index);
        scenario_json_path(p, sizeof p, base, "id");
        for (int k = 0; k < sc->n_expect; k++)
            if (e->id[0] && strcmp(sc->expect[k].id, e->id) == 0)
                rc = scenario_json_fail(j, p, "duplicate expectation id \"%s\"", e->id);
        for (int k = 0; k < i; k++)
            if (e->id[0] && strcmp(sc->cmd_paths[k].id, e->id) == 0)
                rc = scenario_json_fail(j, p, "duplicate expectation id \"%s\" (also expect[%d])", e->id,
                                        sc->cmd_paths[k].index);
        for (int s = 0; s < sc->n_steps; s++)
            if (sc->steps[s].api && strcmp(sc->steps[s].api->id, e->id) == 0)
                rc = scenario_json_fail(j, p, "\"%s\" is an api step's id too (steps[%d].api)", e->id,
                                        sc->steps[s].api->index);
        if (e->capture[0] && !(sc->parse_failed & SC_PARSE_STEPS) && captured_by(sc, e->capture, strlen(e->capture)) < 0) {
            snprintf(base, sizeof base, "expect[%d].command_path", e->index);
            scenario_json_path(p, sizeof p, base, "capture");
            rc = scenario_json_fail(j, p, "no api step captures \"%s\" (the commandId of the call that creates it)",
                                    e->capture);
        }
    }
    return rc;
}

int scenario_api_check(const struct scenario_json *j, struct scenario *sc)
{
    static struct known kn;
    char p[SCENARIO_JSON_PATH_MAX];
    int rc = SJ_OK;
    kn.n = 0;
    SJ_TRY(rc, cmd_paths_check(j, sc));
    if (sc->parse_failed & SC_PARSE_STEPS)
        return rc; /* the order is not known: the steps' own errors say enough */
    /* in the order they run (time, then the file's): a name is known from the call that captures it on */
    for (int i = 0; i < sc->n_steps; i++) {
        const struct sc_api *a = sc->steps[i].api;
        if (!a)
            continue;
        char base[48];
        snprintf(base, sizeof base, "steps[%d].api", a->index);
        if (a->path) {
            scenario_json_path(p, sizeof p, base, "path");
            SJ_TRY(rc, refs_text(j, sc, &kn, a->path, p));
        }
        if (a->body) {
            scenario_json_path(p, sizeof p, base, "body");
            SJ_TRY(rc, refs_tree(j, sc, &kn, a->body, p));
        }
        for (int k = 0; k < a->n_capture && kn.n < (int)N_OF(kn.names); k++)
            snprintf(kn.names[kn.n++], SC_API_NAME_MAX, "%s", a->capture_name[k]);
        if (!a->id[0])
            continue;
        scenario_json_path(p, sizeof p, base, "id");
        for (int e = 0; e < sc->n_expect; e++)
            if (strcmp(sc->expect[e].id, a->id) == 0)
                rc = scenario_json_fail(j, p, "\"%s\" is an expectation's id too (expect[%d])", a->id, e);
        for (int k = 0; k < sc->n_steps; k++) {
            const struct sc_api *b = sc->steps[k].api;
            if (b && b != a && b->index < a->index && strcmp(b->id, a->id) == 0)
                rc = scenario_json_fail(j, p, "duplicate id \"%s\" (also steps[%d].api)", a->id, b->index);
        }
    }
    return rc;
}

/* --- command_path expectations ------------------------------------------------------ */

static const char *const cmd_states[] = {"PENDING", "EXPIRED", "CANCELED", "SENT",
                                         "TIMEOUT", "DELIVERED", "SUCCESSFUL", "FAIL"};
static const char *const cmd_path_fields[] = {"id", "area", "description", "command_path"};
static const char *const cmd_path_inner[] = {"capture", "states"};

int scenario_api_expect_parse(const struct scenario_json *j, const cJSON *obj, const char *path, struct scenario *sc,
                              int index)
{
    char p[SCENARIO_JSON_PATH_MAX], got[64];
    int rc = SJ_OK;
    if (!sc->cmd_paths) {
        sc->cmd_paths = calloc(SC_MAX_EXPECT, sizeof *sc->cmd_paths);
        if (!sc->cmd_paths)
            return scenario_json_fail(j, path, "out of memory");
    }
    if (sc->n_cmd_paths >= SC_MAX_EXPECT)
        return scenario_json_fail(j, path, "at most %d command_path expectations", SC_MAX_EXPECT);
    struct sc_cmd_path *e = &sc->cmd_paths[sc->n_cmd_paths++];
    memset(e, 0, sizeof *e);
    e->index = index;
    SJ_TRY(rc, scenario_json_fields(j, obj, path, cmd_path_fields, N_OF(cmd_path_fields)));
    int r = scenario_json_string(j, obj, path, "id", SJ_REQUIRED, true, e->id, sizeof e->id);
    SJ_TRY(rc, r);
    for (const char *c = r == SJ_OK ? e->id : ""; *c; c++)
        if (!((*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '.' || *c == '-')) {
            scenario_json_path(p, sizeof p, path, "id");
            rc = scenario_json_fail(j, p, "an id is upper-case letters, digits, '.' and '-', got \"%s\"", e->id);
            break;
        }
    SJ_TRY(rc, scenario_json_string(j, obj, path, "area", SJ_OPTIONAL, true, e->area, sizeof e->area));
    if (!e->area[0])
        snprintf(e->area, sizeof e->area, "api.commands");
    const cJSON *cp = scenario_json_get(obj, "command_path");
    scenario_json_path(p, sizeof p, path, "command_path");
    if (scenario_json_want_object(j, cp, p) != SJ_OK)
        return SJ_ERR;
    SJ_TRY(rc, scenario_json_fields(j, cp, p, cmd_path_inner, N_OF(cmd_path_inner)));
    r = scenario_json_string(j, cp, p, "capture", SJ_REQUIRED, true, e->capture, sizeof e->capture);
    SJ_TRY(rc, r);
    if (r == SJ_OK && !name_ok(e->capture)) {
        char q[SCENARIO_JSON_PATH_MAX];
        scenario_json_path(q, sizeof q, p, "capture");
        rc = scenario_json_fail(j, q, "expected the name an api step captures the commandId as");
    }
    const cJSON *st = scenario_json_get(cp, "states");
    char sp[SCENARIO_JSON_PATH_MAX];
    scenario_json_path(sp, sizeof sp, p, "states");
    if (!st) {
        rc = scenario_json_fail(j, sp, "required: the states in order (like [\"SENT\", \"SUCCESSFUL\"])");
    } else if (scenario_json_want_array(j, st, sp) != SJ_OK) {
        rc = SJ_ERR;
    } else {
        int n = cJSON_GetArraySize(st), i = 0;
        if (n < 1 || n > (int)N_OF(e->states))
            rc = scenario_json_fail(j, sp, "expected 1 to %zu states, got %d", N_OF(e->states), n);
        for (const cJSON *s = st->child; s && i < (int)N_OF(e->states); s = s->next, i++) {
            char ip[SCENARIO_JSON_PATH_MAX];
            bool known = false;
            for (size_t k = 0; cJSON_IsString(s) && k < N_OF(cmd_states); k++)
                known |= strcmp(s->valuestring, cmd_states[k]) == 0;
            if (!known) {
                char all[160];
                scenario_json_index(ip, sizeof ip, sp, i);
                scenario_json_got(s, got, sizeof got);
                scenario_json_join(cmd_states, N_OF(cmd_states), all, sizeof all);
                rc = scenario_json_fail(j, ip, "expected a command state (%s), got %s", all, got);
                continue;
            }
            snprintf(e->states[e->n_states++], sizeof e->states[0], "%s", s->valuestring);
        }
    }
    if (rc == SJ_OK) {
        char list[160] = "";
        for (int i = 0; i < e->n_states; i++) {
            size_t l = strlen(list);
            snprintf(list + l, sizeof list - l, "%s%s", i ? " -> " : "", e->states[i]);
        }
        snprintf(e->desc, sizeof e->desc, "command ${%s} goes %s", e->capture, list);
    }
    SJ_TRY(rc, scenario_json_string(j, obj, path, "description", SJ_OPTIONAL, true, e->desc, sizeof e->desc));
    return rc;
}

/* The commands of an answer: its "data" array (the API's page), or the answer itself. */
static const cJSON *commands_of(const cJSON *answer)
{
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(answer, "data");
    if (cJSON_IsArray(d))
        return d;
    return cJSON_IsArray(answer) ? answer : NULL;
}

int scenario_cmd_path_judge(const struct sc_cmd_path *e, const char *command_id, const cJSON *answer,
                            char *observed, size_t cap)
{
    const cJSON *list = commands_of(answer), *cmd = NULL, *c;
    cJSON_ArrayForEach(c, list)
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(c, "commandId");
        if (cJSON_IsString(id) && strcmp(id->valuestring, command_id) == 0) {
            cmd = c;
            break;
        }
    }
    if (!list) {
        snprintf(observed, cap, "the answer lists no commands (no \"data\" array)");
        return VERDICT_FAIL;
    }
    if (!cmd) {
        snprintf(observed, cap, "command %s is not among the device's %d", command_id, cJSON_GetArraySize(list));
        return VERDICT_FAIL;
    }
    const cJSON *tr = cJSON_GetObjectItemCaseSensitive(cmd, "transitions");
    const cJSON *status = cJSON_GetObjectItemCaseSensitive(cmd, "status");
    if (!cJSON_IsArray(tr)) {
        snprintf(observed, cap, "command %s shows no transitions (status %s)", command_id,
                 cJSON_IsString(status) ? status->valuestring : "?");
        return VERDICT_INCONCLUSIVE;
    }
    /* the path as the platform shows it, and the states wanted as a subsequence of it */
    size_t o = 0;
    int want = 0;
    observed[0] = '\0';
    cJSON_ArrayForEach(c, tr)
    {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(c, "status");
        const char *name = cJSON_IsString(s) ? s->valuestring : "?";
        if (want < e->n_states && strcmp(name, e->states[want]) == 0)
            want++;
        if (o < cap) {
            int w = snprintf(observed + o, cap - o, "%s%s", o ? " -> " : "", name);
            o += w > 0 ? (size_t)w : 0;
        }
    }
    if (!observed[0])
        snprintf(observed, cap, "no transitions");
    if (want == e->n_states)
        return VERDICT_PASS;
    size_t l = strlen(observed);
    if (l + 1 < cap)
        snprintf(observed + l, cap - l, " (no %s after that)", e->states[want]);
    return VERDICT_FAIL;
}
