/* Reading conformance suites: suite.json and the case files beside it.  Strict
 * like the scenario parser: an unknown field, a wrong type, a name used before
 * it is bound are refused with the file and the JSON path, every error of a file
 * in one pass.  The steps of an exchange case are read by conform_steps.c. */
#include "harness/conform_steps.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/scenario.h"
#include "harness/scenario_json.h"
#include "harness/textfile.h"
#include "sim/proto/hex.h"

#define MAX_FILES 512             /* case files of one suite */
#define MAX_CASES 2048            /* cases of one suite */

const char *const conform_capabilities[] = {"embedded", "commands", "northbound-api", "tls"};
const size_t conform_n_capabilities = N_OF(conform_capabilities);

static const char *const sides[] = {"platform", "terminal"};
static const char *const levels[] = {"MUST", "SHOULD", "MAY"};
static const char *const kinds[] = {"exchange", "scenario"};

/* Errors of several files, one buffer. */
struct errsink {
    char *err;
    size_t cap, used;
    int n;
};

static void sink_add(struct errsink *e, const char *text)
{
    if (e->err == NULL || e->cap == 0 || text[0] == '\0')
        return;
    e->n++;
    size_t len = strlen(text);
    if (e->used + len + 2 > e->cap)
        return;
    if (e->used)
        e->err[e->used++] = '\n';
    memcpy(e->err + e->used, text, len + 1);
    e->used += len;
}

static int syntax_error(const struct scenario_json *j, const char *text, const char *at)
{
    size_t line = 1, col = 1;
    if (at == NULL || at < text)
        at = text;
    for (const char *p = text; p < at && *p; p++) {
        if (*p == '\n') {
            line++;
            col = 1;
        } else if (((unsigned char)*p & 0xC0) != 0x80) {
            col++;
        }
    }
    snprintf(j->err, j->errcap, "%s:%zu:%zu: JSON syntax error%s", j->file, line, col,
             *at ? "" : " at end of input");
    return SJ_ERR;
}

/* The errors of the case file being read: the scenario parser collects its own
 * (one collection at a time per thread), so this one is put back after it. */
static _Thread_local struct scenario_json_errors *file_errs;

static int sc_parse_aside(const struct scenario_json *j, const char *text, const char *label, struct scenario *sc,
                          char *err, size_t cap)
{
    struct scenario_json_errors saved;
    if (file_errs)
        saved = *file_errs;
    int rc = scenario_parse(text, label, sc, err, cap);
    if (file_errs) {
        scenario_json_collect(j, file_errs);
        *file_errs = saved;
    }
    return rc;
}

/* In a suite with platform settings, a scenario case runs on them (`fleetsim run
 * --set platform.*`, conform.c): a scenario that sets one of them itself is refused,
 * rather than run on settings other than its file says. */
static int scenario_platform_clash(const struct scenario_json *j, const struct conform_suite *s, const char *text,
                                   const char *p, const struct conform_case *c)
{
    static const char *const owned[] = {"auth", "triples", "idle_timeout", "reasm_timeout", "rsa"};
    if (!s->platform_set)
        return SJ_OK;
    cJSON *root = cJSON_Parse(text);
    const cJSON *pl = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "platform") : NULL;
    int rc = SJ_OK;
    for (size_t i = 0; cJSON_IsObject(pl) && i < N_OF(owned); i++) {
        if (!cJSON_GetObjectItemCaseSensitive(pl, owned[i]))
            continue;
        static const char why[] = "the suite's platform settings (suite.json \"platform\") are this case's; "
                                  "leave it out of the scenario";
        char q[SCENARIO_JSON_PATH_MAX];
        snprintf(q, sizeof q, "%s.platform.%s", p, owned[i]);
        if (c->scenario_path[0]) /* in the file the case names */
            SJ_TRY(rc, scenario_json_fail(j, p, "%s: platform.%s: %s", c->scenario_path, owned[i], why));
        else
            SJ_TRY(rc, scenario_json_fail(j, q, "%s", why));
    }
    cJSON_Delete(root);
    return rc;
}

/* A scenario case: the scenario read as `fleetsim run` reads it, its expectations the cases. */
static int parse_scenario(const struct scenario_json *j, const struct conform_suite *s, const cJSON *o,
                          const char *path, struct conform_case *c)
{
    char p[SCENARIO_JSON_PATH_MAX], label[700];
    const cJSON *sv = scenario_json_get(o, "scenario");
    scenario_json_path(p, sizeof p, path, "scenario");
    if (sv == NULL)
        return scenario_json_fail(j, p, "required (a scenario file, relative to this one, or the scenario itself)");
    char *text = NULL;
    size_t len = 0;
    if (cJSON_IsString(sv) && sv->valuestring[0]) {
        const char *slash = strrchr(j->file, '/');
        if (sv->valuestring[0] == '/' || slash == NULL)
            snprintf(c->scenario_path, sizeof c->scenario_path, "%s", sv->valuestring);
        else
            snprintf(c->scenario_path, sizeof c->scenario_path, "%.*s/%s", (int)(slash - j->file), j->file,
                     sv->valuestring);
        int e = textfile_read(c->scenario_path, CONFORM_FILE_MAX, &text, &len);
        if (e)
            return scenario_json_fail(j, p, "%s: cannot read it: %s", c->scenario_path, strerror(e));
        snprintf(label, sizeof label, "%s", c->scenario_path);
    } else if (cJSON_IsObject(sv)) {
        text = cJSON_PrintUnformatted(sv);
        if (text == NULL)
            return scenario_json_fail(j, p, "out of memory");
        snprintf(label, sizeof label, "%s: %s", j->file, p);
    } else {
        return scenario_json_fail(j, p, "expected a scenario file's path or a scenario object");
    }
    struct scenario *sc = calloc(1, sizeof *sc);
    char *err = malloc(8192);
    int rc = SJ_OK;
    if (sc == NULL || err == NULL) {
        rc = scenario_json_fail(j, p, "out of memory");
    } else if (sc_parse_aside(j, text, label, sc, err, 8192) != 0) {
        /* its lines, each without the label the scenario parser puts first (for an inline one, this path) */
        char joined[2048];
        size_t used = 0, ll = strlen(label);
        joined[0] = '\0';
        for (char *line = err; line && *line && used + 4 < sizeof joined;) {
            char *nl = strchr(line, '\n');
            if (nl)
                *nl = '\0';
            const char *t = line;
            if (!c->scenario_path[0] && strncmp(t, label, ll) == 0 && t[ll] == ':')
                t += ll + (t[ll + 1] == ' ' ? 2 : 1);
            int w = snprintf(joined + used, sizeof joined - used, "%s%s", used ? "; " : "", t);
            if (w < 0)
                break;
            used += (size_t)w;
            line = nl ? nl + 1 : NULL;
        }
        rc = scenario_json_fail(j, p, "the scenario does not read: %s", joined);
    } else {
        if (sc->n_expect == 0)
            rc = scenario_json_fail(j, p, "the scenario has no expectations: nothing to judge");
        c->sub = calloc((size_t)(sc->n_expect ? sc->n_expect : 1), sizeof *c->sub);
        for (int i = 0; c->sub && i < sc->n_expect; i++) {
            snprintf(c->sub[i].id, sizeof c->sub[i].id, "%s", sc->expect[i].id);
            snprintf(c->sub[i].desc, sizeof c->sub[i].desc, "%s", sc->expect[i].desc);
        }
        c->n_sub = c->sub ? sc->n_expect : 0;
        SJ_TRY(rc, scenario_platform_clash(j, s, text, p, c));
        double scale = sc->time_scale > 0 ? sc->time_scale : 1;
        c->scenario_wall_ms = (uint64_t)((double)sc->duration_ms / scale);
        if (!c->scenario_path[0])
            c->scenario_text = text, text = NULL;
        scenario_free(sc);
    }
    free(sc);
    free(err);
    free(text);
    return rc;
}

/* Whether c is, or holds (a scenario case's expectations), a case of this id. */
const char *conform_case_id_clash(const struct conform_case *a, const struct conform_case *b)
{
    for (int i = -1; i < a->n_sub; i++) {
        const char *x = i < 0 ? a->id : a->sub[i].id;
        for (int k = -1; x[0] && k < b->n_sub; k++)
            if (strcmp(x, k < 0 ? b->id : b->sub[k].id) == 0)
                return x;
    }
    return NULL;
}

static const char *const case_fields[] = {"id", "ref", "objective", "preconditions", "level", "needs",
                                          "kind", "steps", "scenario", "side", "editions"};

/* The editions a case's "editions" names, in its order (at most 2; 2013 and 2019),
 * without judging it: parse_case does. */
static int case_editions(const cJSON *o, int out[2])
{
    const cJSON *e = cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, "editions") : NULL;
    int n = 0;
    for (const cJSON *v = cJSON_IsArray(e) ? e->child : NULL; v && n < 2; v = v->next)
        if (cJSON_IsNumber(v) && (v->valuedouble == 2013 || v->valuedouble == 2019) &&
            (n == 0 || out[0] != (int)v->valuedouble))
            out[n++] = (int)v->valuedouble;
    return n;
}

/* "editions": [2013, 2019], or one of them: checked; the id of variant c->edition suffixed. */
static int parse_editions(const struct scenario_json *j, const cJSON *o, const char *path, struct conform_case *c)
{
    const cJSON *e = scenario_json_get(o, "editions");
    char p[SCENARIO_JSON_PATH_MAX];
    scenario_json_path(p, sizeof p, path, "editions");
    if (e == NULL)
        return SJ_OK;
    if (scenario_json_want_array(j, e, p) != SJ_OK)
        return SJ_ERR;
    int rc = SJ_OK, i = 0, seen[2] = {0, 0};
    for (const cJSON *v = e->child; v; v = v->next, i++) {
        char ip[SCENARIO_JSON_PATH_MAX];
        scenario_json_index(ip, sizeof ip, p, i);
        if (!cJSON_IsNumber(v) || (v->valuedouble != 2013 && v->valuedouble != 2019)) {
            char got[64];
            scenario_json_got(v, got, sizeof got);
            SJ_TRY(rc, scenario_json_fail(j, ip, "expected 2013 or 2019, got %s", got));
        } else if (seen[v->valuedouble == 2019]++) {
            SJ_TRY(rc, scenario_json_fail(j, ip, "%d is named twice", (int)v->valuedouble));
        }
    }
    if (i == 0)
        SJ_TRY(rc, scenario_json_fail(j, p, "no edition (leave it out for a case of no edition in particular)"));
    if (c->kind == CONFORM_SCENARIO)
        SJ_TRY(rc, scenario_json_fail(j, p, "belongs to an exchange case (a scenario's fleets name their editions)"));
    if (rc == SJ_OK && c->edition) {
        size_t l = strlen(c->id);
        if (l + 5 >= sizeof c->id) {
            scenario_json_path(p, sizeof p, path, "id");
            SJ_TRY(rc, scenario_json_fail(j, p, "too long for its edition's suffix (-%d): %zu characters at most",
                                          c->edition, sizeof c->id - 6));
        } else {
            snprintf(c->id + l, sizeof c->id - l, "-%d", c->edition);
        }
    }
    return rc;
}

static int parse_case(const struct scenario_json *j, const struct conform_suite *s, const cJSON *fixtures,
                      const cJSON *o, const char *path, struct conform_case *c)
{
    char p[SCENARIO_JSON_PATH_MAX], kind[16] = "exchange";
    int rc = SJ_OK;
    struct reader r = {.j = j, .fixtures = fixtures};
    if (scenario_json_want_object(j, o, path) != SJ_OK)
        return SJ_ERR;
    SJ_TRY(rc, scenario_json_fields(j, o, path, case_fields, N_OF(case_fields)));
    SJ_TRY(rc, scenario_json_string(j, o, path, "id", SJ_REQUIRED, true, c->id, sizeof c->id));
    for (const char *q = c->id; *q; q++)
        if (!(isalnum((unsigned char)*q) || *q == '-' || *q == '_' || *q == '.')) {
            scenario_json_path(p, sizeof p, path, "id");
            SJ_TRY(rc, scenario_json_fail(j, p, "an id is letters, digits, '-', '_' and '.' (like JT808-REG-001)"));
            break;
        }
    SJ_TRY(rc, scenario_json_string(j, o, path, "ref", SJ_REQUIRED, true, c->ref, sizeof c->ref));
    SJ_TRY(rc, scenario_json_string(j, o, path, "objective", SJ_REQUIRED, true, c->objective, sizeof c->objective));
    SJ_TRY(rc, scenario_json_string(j, o, path, "preconditions", SJ_OPTIONAL, false, c->preconditions,
                                    sizeof c->preconditions));
    SJ_TRY(rc, scenario_json_enum(j, o, path, "level", SJ_REQUIRED, levels, N_OF(levels), c->level, sizeof c->level));
    SJ_TRY(rc, scenario_json_enum(j, o, path, "kind", SJ_OPTIONAL, kinds, N_OF(kinds), kind, sizeof kind));
    c->kind = strcmp(kind, "scenario") == 0 ? CONFORM_SCENARIO : CONFORM_EXCHANGE;
    char side[16] = "platform";
    SJ_TRY(rc, scenario_json_enum(j, o, path, "side", SJ_OPTIONAL, sides, N_OF(sides), side, sizeof side));
    c->terminal = strcmp(side, "terminal") == 0;
    if (c->terminal && c->kind == CONFORM_SCENARIO) {
        scenario_json_path(p, sizeof p, path, "side");
        SJ_TRY(rc, scenario_json_fail(j, p, "a terminal case is an exchange (the platform's half of it)"));
    }
    SJ_TRY(rc, parse_editions(j, o, path, c));
    const cJSON *needs = scenario_json_get(o, "needs");
    scenario_json_path(p, sizeof p, path, "needs");
    if (needs != NULL && scenario_json_want_array(j, needs, p) == SJ_OK) {
        int i = 0;
        for (const cJSON *n = needs->child; n; n = n->next, i++) {
            char np[SCENARIO_JSON_PATH_MAX];
            scenario_json_index(np, sizeof np, p, i);
            bool known = false;
            for (size_t k = 0; cJSON_IsString(n) && k < conform_n_capabilities; k++)
                known |= strcmp(n->valuestring, conform_capabilities[k]) == 0;
            if (!known) {
                char all[128];
                scenario_json_join(conform_capabilities, conform_n_capabilities, all, sizeof all);
                SJ_TRY(rc, scenario_json_fail(j, np, "not a capability (one of %s)", all));
            } else if (c->n_needs < CONFORM_MAX_NEEDS) {
                snprintf(c->needs[c->n_needs++], sizeof c->needs[0], "%s", n->valuestring);
            }
        }
    } else if (needs != NULL) {
        rc = SJ_ERR;
    }
    const cJSON *steps = scenario_json_get(o, "steps");
    scenario_json_path(p, sizeof p, path, "steps");
    if (c->kind == CONFORM_SCENARIO) {
        if (steps != NULL)
            SJ_TRY(rc, scenario_json_fail(j, p, "belongs to an exchange case (a scenario case is its scenario)"));
        SJ_TRY(rc, parse_scenario(j, s, o, path, c));
    } else if (scenario_json_get(o, "scenario") != NULL) {
        scenario_json_path(p, sizeof p, path, "scenario");
        SJ_TRY(rc, scenario_json_fail(j, p, "belongs to a case of kind \"scenario\""));
    } else if (steps == NULL) {
        SJ_TRY(rc, scenario_json_fail(j, p, "required (an exchange case is its steps)"));
    } else {
        c->steps = calloc(CONFORM_MAX_STEPS, sizeof *c->steps);
        if (c->steps == NULL)
            return scenario_json_fail(j, path, "out of memory");
        SJ_TRY(rc, conform_parse_steps(&r, steps, p, c));
        c->receiver = r.receiver;
        if (cJSON_IsArray(steps) && cJSON_GetArraySize(steps) == 0)
            SJ_TRY(rc, scenario_json_fail(j, p, "no steps"));
        /* an api step calls the target's API: a target without one makes the case inconclusive, not an error */
        bool api_needed = false;
        for (int i = 0; i < c->n_needs; i++)
            api_needed |= strcmp(c->needs[i], "northbound-api") == 0;
        for (int i = 0; i < c->n_steps && !api_needed; i++)
            if (c->steps[i].kind == CSTEP_API) {
                scenario_json_path(p, sizeof p, path, "needs");
                SJ_TRY(rc, scenario_json_fail(j, p, "the case calls the API (%s): list \"northbound-api\"",
                                              c->steps[i].path));
                break;
            }
        /* a case is a few frames: its deadlines and waits together stay within a bound */
        uint64_t ms = 0;
        for (int i = 0; i < c->n_steps; i++)
            ms += c->steps[i].ms;
        if (ms > CONFORM_CASE_MAX_MS)
            SJ_TRY(rc, scenario_json_fail(j, p, "the deadlines and waits add up to %llus, more than %us",
                                          (unsigned long long)(ms / 1000), CONFORM_CASE_MAX_MS / 1000));
    }
    return rc;
}

static void step_free(struct conform_step *s)
{
    cJSON_Delete(s->msg);
    free(s->hex);
    free(s->left);
    free(s->right);
    free(s->if_left);
    free(s->if_right);
    free(s->plan);
    for (int i = 0; i < s->n_any; i++) {
        cJSON_Delete(s->any[i].fields);
        free(s->any[i].wire_contains);
    }
    scenario_api_free(s->api);
    free(s->api_raw_body);
    for (int i = 0; i < s->n_api_headers; i++)
        free(s->api_headers[i]);
}

static void case_free(struct conform_case *c)
{
    for (int i = 0; c->steps && i < c->n_steps; i++)
        step_free(&c->steps[i]);
    free(c->steps);
    c->steps = NULL;
    free(c->scenario_text);
    c->scenario_text = NULL;
    free(c->sub);
    c->sub = NULL;
}

void conform_suite_free(struct conform_suite *s)
{
    for (int i = 0; i < s->n_cases; i++)
        case_free(&s->cases[i]);
    free(s->cases);
    memset(s, 0, sizeof *s);
}

/* Parse text as a JSON object into *root; SJ_ERR with the message otherwise. */
static int parse_root(const struct scenario_json *j, const char *text, cJSON **root)
{
    const char *end = NULL;
    *root = cJSON_ParseWithOpts(text, &end, 1);
    if (*root == NULL)
        return syntax_error(j, text, end);
    if (!cJSON_IsObject(*root)) {
        char got[64];
        scenario_json_got(*root, got, sizeof got);
        cJSON_Delete(*root);
        *root = NULL;
        return scenario_json_fail(j, "", "expected a JSON object at the top level, got %s", got);
    }
    return SJ_OK;
}

static int suite_head(const struct scenario_json *j, const cJSON *root, struct conform_suite *s)
{
    static const char *const fields[] = {"name", "protocol", "description", "defaults", "fixtures", "platform"};
    static const char *const pfields[] = {"auth", "triples", "idle_timeout", "reasm_timeout", "rsa",
                                          "device_verification", "time_scale", "short_connection"};
    static const char *const shorts[] = {"jt808"};
    static const char *const rsas[] = {"on", "encrypt", "off"};
    static const char *const auths[] = {"open", "one-party"};
    static const char *const dfields[] = {"edition", "phone"};
    static const char *const protocols[] = {"jt808"};
    int rc = SJ_OK;
    SJ_TRY(rc, scenario_json_fields(j, root, "", fields, N_OF(fields)));
    SJ_TRY(rc, scenario_json_string(j, root, "", "name", SJ_REQUIRED, true, s->name, sizeof s->name));
    SJ_TRY(rc, scenario_json_enum(j, root, "", "protocol", SJ_REQUIRED, protocols, N_OF(protocols), s->protocol,
                                  sizeof s->protocol));
    SJ_TRY(rc, scenario_json_string(j, root, "", "description", SJ_OPTIONAL, false, s->description,
                                    sizeof s->description));
    s->edition = 2013;
    snprintf(s->phone, sizeof s->phone, "0139000#####");
    const cJSON *d = scenario_json_get(root, "defaults");
    if (d != NULL) {
        if (scenario_json_want_object(j, d, "defaults") != SJ_OK)
            return SJ_ERR;
        long long ed = 2013;
        SJ_TRY(rc, scenario_json_fields(j, d, "defaults", dfields, N_OF(dfields)));
        SJ_TRY(rc, scenario_json_int(j, d, "defaults", "edition", SJ_OPTIONAL, 2011, 2019, &ed));
        if (ed != 2013 && ed != 2019)
            SJ_TRY(rc, scenario_json_fail(j, "defaults.edition", "expected 2013 or 2019"));
        s->edition = (int)ed;
        if (scenario_json_string(j, d, "defaults", "phone", SJ_OPTIONAL, true, s->phone, sizeof s->phone) == SJ_ERR) {
            rc = SJ_ERR;
        } else {
            size_t n = strlen(s->phone), hashes = 0;
            bool digits = true;
            for (size_t i = 0; i < n; i++) {
                if (s->phone[i] == '#')
                    hashes++;
                else if (!isdigit((unsigned char)s->phone[i]) || hashes)
                    digits = false;
            }
            if (!digits || n > 20 || hashes < 3)
                SJ_TRY(rc, scenario_json_fail(j, "defaults.phone", "expected digits then at least 3 '#' for the "
                                              "case index, 20 in all at most (like 0139000#####)"));
        }
    }
    snprintf(s->auth, sizeof s->auth, "open");
    const cJSON *pl = scenario_json_get(root, "platform");
    if (pl != NULL) {
        if (scenario_json_want_object(j, pl, "platform") != SJ_OK)
            return SJ_ERR;
        s->platform_set = true;
        SJ_TRY(rc, scenario_json_fields(j, pl, "platform", pfields, N_OF(pfields)));
        SJ_TRY(rc, scenario_json_enum(j, pl, "platform", "auth", SJ_OPTIONAL, auths, N_OF(auths), s->auth,
                                      sizeof s->auth));
        SJ_TRY(rc, scenario_json_string(j, pl, "platform", "triples", SJ_OPTIONAL, true, s->triples,
                                        sizeof s->triples));
        SJ_TRY(rc, scenario_json_duration_min_ms(j, pl, "platform", "idle_timeout", SJ_OPTIONAL, 1000000,
                                                 &s->idle_timeout_ms));
        SJ_TRY(rc, scenario_json_duration_min_ms(j, pl, "platform", "reasm_timeout", SJ_OPTIONAL, 100000,
                                                 &s->reasm_timeout_ms));
        SJ_TRY(rc, scenario_json_enum(j, pl, "platform", "rsa", SJ_OPTIONAL, rsas, N_OF(rsas), s->rsa, sizeof s->rsa));
        const cJSON *dv = scenario_json_get(pl, "device_verification");
        if (dv != NULL && !cJSON_IsBool(dv))
            SJ_TRY(rc, scenario_json_fail(j, "platform.device_verification", "expected true or false"));
        s->device_verification = cJSON_IsTrue(dv);
        if (scenario_json_get(pl, "time_scale")) {
            double ts = 0;
            SJ_TRY(rc, scenario_json_number(j, pl, "platform", "time_scale", SJ_REQUIRED, &ts));
            if (rc == SJ_OK && !(ts > 0 && ts <= 100000))
                SJ_TRY(rc, scenario_json_fail(j, "platform.time_scale", "expected a number in (0, 100000]"));
            s->time_scale = ts;
        }
        SJ_TRY(rc, scenario_json_enum(j, pl, "platform", "short_connection", SJ_OPTIONAL, shorts, N_OF(shorts),
                                      s->short_conn, sizeof s->short_conn));
        if (rc == SJ_OK && (strcmp(s->auth, "one-party") == 0) != (s->triples[0] != '\0'))
            SJ_TRY(rc, scenario_json_fail(j, "platform", "a triples file goes with auth \"one-party\", and only "
                                          "with it"));
    }
    const cJSON *fx = scenario_json_get(root, "fixtures");
    if (fx != NULL && scenario_json_want_object(j, fx, "fixtures") == SJ_OK) {
        for (const cJSON *f = fx->child; f; f = f->next) {
            char p[SCENARIO_JSON_PATH_MAX];
            scenario_json_path(p, sizeof p, "fixtures", f->string ? f->string : "");
            if (!cJSON_IsArray(f))
                SJ_TRY(rc, scenario_json_fail(j, p, "expected an array of steps"));
        }
    } else if (fx != NULL) {
        rc = SJ_ERR;
    }
    return rc;
}

/* The cases of one file into s; errors into sink. */
static void load_cases(struct conform_suite *s, const cJSON *fixtures, const char *name, const char *text,
                       struct errsink *sink)
{
    char err[8192] = "";
    struct scenario_json j = {name, err, sizeof err};
    struct scenario_json_errors errs;
    cJSON *root = NULL;
    if (parse_root(&j, text, &root) != SJ_OK) {
        sink_add(sink, err);
        return;
    }
    scenario_json_collect(&j, &errs);
    file_errs = &errs;
    const cJSON *list = scenario_json_get(root, "cases");
    int n = 1;
    if (list != NULL) {
        static const char *const fields[] = {"cases"};
        scenario_json_fields(&j, root, "", fields, N_OF(fields));
        if (scenario_json_want_array(&j, list, "cases") != SJ_OK)
            n = 0;
        else
            n = cJSON_GetArraySize(list);
        if (n == 0 && scenario_json_errors(&j) == 0)
            scenario_json_fail(&j, "cases", "no cases");
    }
    if (n > 0 && s->n_cases + n <= MAX_CASES) {
        struct conform_case *nc = realloc(s->cases, (size_t)(s->n_cases + n) * sizeof *nc);
        if (nc == NULL) {
            scenario_json_fail(&j, "", "out of memory");
            n = 0;
        } else {
            s->cases = nc;
        }
    } else if (n > 0) {
        scenario_json_fail(&j, "", "more than %d cases in the suite", MAX_CASES);
        n = 0;
    }
    const cJSON *o = list ? list->child : root;
    for (int i = 0; i < n && o; i++, o = o->next) {
        char p[SCENARIO_JSON_PATH_MAX] = "";
        if (list)
            scenario_json_index(p, sizeof p, "cases", i);
        /* a case with "editions" is a case per edition, each its own place (and phone) */
        int eds[2] = {0, 0}, n_var = case_editions(o, eds);
        if (n_var > 1) {
            struct conform_case *nc = s->n_cases + n - i + n_var - 1 <= MAX_CASES
                                          ? realloc(s->cases, (size_t)(s->n_cases + n - i + n_var - 1) * sizeof *nc)
                                          : NULL;
            if (nc == NULL) {
                scenario_json_fail(&j, p, "more than %d cases in the suite, or out of memory", MAX_CASES);
                break;
            }
            s->cases = nc;
        }
        for (int v = 0; v < (n_var ? n_var : 1); v++) {
            int errs_before = scenario_json_errors(&j);
            struct conform_case *c = &s->cases[s->n_cases++];
            memset(c, 0, sizeof *c);
            snprintf(c->file, sizeof c->file, "%s", name);
            c->index = s->n_cases - 1;
            c->edition = eds[v];
            parse_case(&j, s, fixtures, o, p, c);
            for (int k = 0; k < s->n_cases - 1 && c->id[0]; k++) {
                const char *same = conform_case_id_clash(c, &s->cases[k]);
                if (same)
                    scenario_json_fail(&j, p[0] ? p : "id", "id %s is also the id of a case in %s", same,
                                       s->cases[k].file);
            }
            if (scenario_json_errors(&j) != errs_before)
                break; /* the other edition's variant would say the same again */
        }
    }
    file_errs = NULL;
    scenario_json_finish(&j);
    scenario_json_collect(NULL, NULL);
    if (errs.n)
        sink_add(sink, err);
    cJSON_Delete(root);
}

static int finish(struct conform_suite *s, struct errsink *sink)
{
    /* each case its own phone: the pattern's '#'s must number them all */
    size_t hashes = 0, n = strlen(s->phone);
    while (hashes < n && s->phone[n - 1 - hashes] == '#')
        hashes++;
    unsigned long long room = 1;
    for (size_t i = 0; i < hashes && room < 100000000ull; i++)
        room *= 10;
    if (sink->n == 0 && hashes && (unsigned long long)s->n_cases > room) {
        char line[256];
        snprintf(line, sizeof line, "suite.json: defaults.phone: %zu '#' number %llu cases, the suite has %d",
                 hashes, room, s->n_cases);
        sink_add(sink, line);
    }
    if (sink->n == 0)
        return 0;
    if (sink->n > 1 && sink->err && sink->used + 40 < sink->cap)
        snprintf(sink->err + sink->used, sink->cap - sink->used, "\n%d files with errors", sink->n);
    conform_suite_free(s);
    return -1;
}

static int read_head(const char *file, const char *text, struct conform_suite *s, cJSON **root, struct errsink *sink)
{
    char err[2048] = "";
    struct scenario_json j = {file, err, sizeof err};
    struct scenario_json_errors errs;
    if (parse_root(&j, text, root) != SJ_OK) {
        sink_add(sink, err);
        return -1;
    }
    scenario_json_collect(&j, &errs);
    suite_head(&j, *root, s);
    scenario_json_finish(&j);
    scenario_json_collect(NULL, NULL);
    if (errs.n)
        sink_add(sink, err);
    return errs.n ? -1 : 0;
}

int conform_suite_parse(const char *suite_json, const char *name, const char *case_json, struct conform_suite *s,
                        char *err, size_t errcap)
{
    struct errsink sink = {err, errcap, 0, 0};
    cJSON *root = NULL;
    memset(s, 0, sizeof *s);
    if (err && errcap)
        err[0] = '\0';
    if (read_head("suite.json", suite_json, s, &root, &sink) == 0)
        load_cases(s, scenario_json_get(root, "fixtures"), name, case_json, &sink);
    cJSON_Delete(root);
    return finish(s, &sink);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int conform_suite_load(const char *dir, struct conform_suite *s, char *err, size_t errcap)
{
    struct errsink sink = {err, errcap, 0, 0};
    char path[1024], line[1200];
    char *text = NULL;
    size_t len;
    cJSON *root = NULL;
    memset(s, 0, sizeof *s);
    if (err && errcap)
        err[0] = '\0';
    snprintf(s->dir, sizeof s->dir, "%s", dir);
    snprintf(path, sizeof path, "%s/suite.json", dir);
    int e = textfile_read(path, CONFORM_FILE_MAX, &text, &len);
    if (e) {
        snprintf(line, sizeof line, "%s: cannot read it: %s%s", path, strerror(e),
                 e == ENOENT ? " (a suite is a folder with a suite.json)" : "");
        sink_add(&sink, line);
        return finish(s, &sink);
    }
    int bad = read_head(path, text, s, &root, &sink);
    free(text);
    if (bad) {
        cJSON_Delete(root);
        return finish(s, &sink);
    }
    DIR *d = opendir(dir);
    char *names[MAX_FILES];
    int n = 0;
    for (struct dirent *de; d && (de = readdir(d)) != NULL;) {
        size_t l = strlen(de->d_name);
        if (l < 6 || strcmp(de->d_name + l - 5, ".json") != 0 || strcmp(de->d_name, "suite.json") == 0)
            continue;
        if (n == MAX_FILES) {
            snprintf(line, sizeof line, "%s: more than %d case files", dir, MAX_FILES);
            sink_add(&sink, line);
            break;
        }
        names[n] = conform_dup_str(de->d_name);
        if (names[n])
            n++;
    }
    if (d)
        closedir(d);
    qsort(names, (size_t)n, sizeof names[0], by_name);
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        e = textfile_read(path, CONFORM_FILE_MAX, &text, &len);
        if (e) {
            snprintf(line, sizeof line, "%s: cannot read it: %s", path, strerror(e));
            sink_add(&sink, line);
        } else {
            load_cases(s, scenario_json_get(root, "fixtures"), path, text, &sink);
            free(text);
        }
        free(names[i]);
    }
    cJSON_Delete(root);
    if (sink.n == 0 && s->n_cases == 0) {
        snprintf(line, sizeof line, "%s: no case files beside suite.json", dir);
        sink_add(&sink, line);
    }
    return finish(s, &sink);
}

void conform_case_phone(const struct conform_suite *s, const struct conform_case *c, char *out, size_t cap)
{
    char digits[24];
    size_t n = strlen(s->phone), hashes = 0;
    while (hashes < n && s->phone[n - 1 - hashes] == '#')
        hashes++;
    snprintf(digits, sizeof digits, "%0*d", (int)hashes, c->index);
    /* an index wider than the '#'s keeps its low digits */
    size_t dl = strlen(digits);
    snprintf(out, cap, "%.*s%s", (int)(n - hashes), s->phone, digits + (dl - hashes));
}
