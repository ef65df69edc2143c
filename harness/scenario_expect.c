/* The "expect" section: the checks a run is judged by.  Each expectation is one
 * conformance case: an id, a spec area, an objective and exactly one kind of check. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "harness/expect.h"
#include "harness/scenario_dialect.h"
#include "harness/scenario_internal.h"
#include "sim/dev/dialect.h"
#include "sim/core/units.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* One limit for the parser and the run (each is a slot of the workers' statistics). */
#define EXPECT_MAX SC_MAX_EXPECT

static const char *const expect_fields[] = {
    "id", "area", "description", "state", "reply", "metric", "ledger", "transitions",
    "counter", "fleet", "within", "fraction", "to", "below", "above", "min", "max",
};

/* The field that names the kind, indexed by enum sc_expect_kind. */
static const char *const kind_keys[] = {"state", "reply", "metric", "ledger", "transitions",
                                        "counter"};

/* Fields each kind accepts besides id, area, description and its own key. */
static const char *const kind_extra[][5] = {
    [SC_EXP_STATE] = {"fleet", "within", "fraction", NULL},
    [SC_EXP_REPLY] = {"to", "fleet", "within", "fraction", NULL},
    [SC_EXP_METRIC] = {"below", "above", "fleet", NULL},
    [SC_EXP_LEDGER] = {NULL},
    [SC_EXP_TRANSITIONS] = {"fleet", NULL},
    [SC_EXP_COUNTER] = {"min", "max", "fleet", NULL},
};

static const char *const known_states[] = {
    "idle", "connecting", "connected", "registering", "registered", "authenticating",
    "authenticated", "disconnected", "unregistered",
};

static const char *const metric_stats[] = {"p50", "p90", "p99", "p999", "max", "mean",
                                           "rate", "count"};

bool scenario_state_known(const char *state)
{
    if (state == NULL)
        return false;
    for (size_t i = 0; i < N_OF(known_states); i++)
        if (strcmp(state, known_states[i]) == 0)
            return true;
    return false;
}

/* The generated objective; a long one is cut, as the field is a summary. */
__attribute__((format(printf, 2, 3)))
static void expect_desc(struct sc_expect *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->desc, sizeof e->desc, fmt, ap);
    va_end(ap);
}

static int expect_kind(const struct scenario_json *j, const cJSON *obj, const char *path,
                       enum sc_expect_kind *kind)
{
    int found = -1;
    char p[SCENARIO_JSON_PATH_MAX];
    for (size_t k = 0; k < N_OF(kind_keys); k++) {
        if (scenario_json_get(obj, kind_keys[k]) == NULL)
            continue;
        if (found >= 0)
            return scenario_json_fail(j, path,
                                      "has both \"%s\" and \"%s\"; an expectation checks one thing",
                                      kind_keys[found], kind_keys[k]);
        found = (int)k;
    }
    if (found < 0) {
        for (size_t k = 0; k < N_OF(kind_keys); k++)
            if (scenario_json_hinted(j, obj, kind_keys[k]))
                return SJ_ERR; /* misspelt, and reported so */
        return scenario_json_fail(j, path,
                                  "needs one of state, reply, metric, ledger, transitions, counter");
    }
    *kind = (enum sc_expect_kind)found;
    /* a field that belongs to another kind is a mistake, not something to ignore */
    int rc = SJ_OK;
    for (const cJSON *c = obj->child; c != NULL; c = c->next) {
        const char *key = c->string;
        bool ok = strcmp(key, "id") == 0 || strcmp(key, "area") == 0 ||
                  strcmp(key, "description") == 0 || strcmp(key, kind_keys[found]) == 0;
        for (size_t i = 0; !ok && kind_extra[found][i] != NULL; i++)
            ok = strcmp(key, kind_extra[found][i]) == 0;
        if (ok)
            continue;
        bool known = false;
        for (size_t i = 0; i < N_OF(expect_fields); i++)
            known |= strcmp(key, expect_fields[i]) == 0;
        if (!known)
            continue; /* reported as an unknown field already */
        scenario_json_path(p, sizeof p, path, key);
        rc = scenario_json_fail(j, p, "not used by a %s expectation", kind_keys[found]);
    }
    return rc;
}

static bool expect_id_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

static int expect_id(const struct scenario_json *j, const cJSON *obj, const char *path,
                     const struct scenario *sc, int index, struct sc_expect *e)
{
    char p[SCENARIO_JSON_PATH_MAX];
    if (scenario_json_string(j, obj, path, "id", SJ_REQUIRED, true, e->id, sizeof e->id) != SJ_OK)
        return SJ_ERR;
    scenario_json_path(p, sizeof p, path, "id");
    for (const char *c = e->id; *c; c++)
        if (!expect_id_char(*c))
            return scenario_json_fail(j, p,
                                      "use uppercase letters, digits, '.' and '-' "
                                      "(e.g. JT808-AUTH-001), got \"%s\"", e->id);
    for (int i = 0; i < index; i++)
        if (strcmp(sc->expect[i].id, e->id) == 0)
            return scenario_json_fail(j, p, "duplicate expectation id \"%s\" (also expect[%d])",
                                      e->id, i);
    return SJ_OK;
}

/* JT808-AUTH-001 -> jt808.auth: lowercase, the case number dropped, '-' as '.'. */
static void expect_area_from_id(const char *id, char *out, size_t cap)
{
    size_t len = strlen(id), cut = len;
    size_t i = len;
    while (i > 0 && isdigit((unsigned char)id[i - 1]))
        i--;
    if (i < len && i > 1 && id[i - 1] == '-')
        cut = i - 1;
    if (cut >= cap)
        cut = cap - 1;
    for (size_t k = 0; k < cut; k++) {
        char c = (char)tolower((unsigned char)id[k]);
        out[k] = c == '-' ? '.' : c;
    }
    out[cut] = '\0';
}

static int expect_state_name(const struct scenario_json *j, const char *p, const char *state)
{
    const char *near;
    char list[256];
    if (scenario_state_known(state))
        return SJ_OK;
    near = scenario_json_closest(state, known_states, N_OF(known_states));
    if (near != NULL)
        return scenario_json_fail(j, p, "unknown state \"%s\" (did you mean \"%s\"?)", state, near);
    scenario_json_join(known_states, N_OF(known_states), list, sizeof list);
    return scenario_json_fail(j, p, "unknown state \"%s\" (known: %s)", state, list);
}

static int expect_fleet(const struct scenario_json *j, const cJSON *obj, const char *path,
                        const struct scenario *sc, struct sc_expect *e)
{
    char p[SCENARIO_JSON_PATH_MAX];
    int rc = scenario_json_string(j, obj, path, "fleet", SJ_OPTIONAL, true, e->fleet,
                                  sizeof e->fleet);
    if (rc != SJ_OK)
        return rc;
    scenario_json_path(p, sizeof p, path, "fleet");
    return scenario_fleets_ref(j, sc, p, e->fleet);
}

/* "within 10s" as the user wrote it, or as the default deadline is written. */
static void expect_when(const cJSON *obj, uint64_t within_ms, char *out, size_t cap)
{
    const cJSON *w = scenario_json_get(obj, "within");
    char d[32];
    if (w != NULL && cJSON_IsString(w)) {
        snprintf(out, cap, "within %s", w->valuestring);
        return;
    }
    units_format_exact_us(within_ms * 1000u, d, sizeof d);
    snprintf(out, cap, "within %s", d);
}

static void expect_who(const struct sc_expect *e, double fraction, char *out, size_t cap)
{
    char share[32];
    if (fraction >= 1.0)
        snprintf(share, sizeof share, "all terminals");
    else
        snprintf(share, sizeof share, "%g%% of terminals", fraction * 100.0);
    if (e->fleet[0] != '\0')
        snprintf(out, cap, "%s of %s", share, e->fleet);
    else
        snprintf(out, cap, "%s", share);
}

static int expect_state(const struct scenario_json *j, const cJSON *obj, const char *path,
                        const struct scenario *sc, struct sc_expect *e)
{
    char p[SCENARIO_JSON_PATH_MAX], who[96], when[48];
    int rc = SJ_OK;
    int r = scenario_json_string(j, obj, path, "state", SJ_REQUIRED, true, e->state,
                                 sizeof e->state);
    SJ_TRY(rc, r);
    scenario_json_path(p, sizeof p, path, "state");
    if (r == SJ_OK)
        SJ_TRY(rc, expect_state_name(j, p, e->state));
    SJ_TRY(rc, expect_fleet(j, obj, path, sc, e));
    SJ_TRY(rc, scenario_json_duration_ms(j, obj, path, "within", SJ_OPTIONAL, &e->within_ms));
    SJ_TRY(rc, scenario_json_fraction(j, obj, path, "fraction", SJ_OPTIONAL, &e->fraction));
    if (rc != SJ_OK)
        return rc;
    expect_who(e, e->fraction, who, sizeof who);
    if (e->within_ms) {
        expect_when(obj, e->within_ms, when, sizeof when);
        expect_desc(e, "%s reach %s %s", who, e->state, when);
    } else {
        /* without a deadline the state is judged when the run ends */
        expect_desc(e, "%s are %s at the end of the run", who, e->state);
    }
    return SJ_OK;
}

static int expect_reply(const struct scenario_json *j, const cJSON *obj, const char *path,
                        const struct scenario *sc, struct sc_expect *e)
{
    char p[SCENARIO_JSON_PATH_MAX], when[48];
    bool sent = false;
    int rc = SJ_OK;
    /* the deadline of the commands it judges: the platform's own unless given */
    e->within_ms = SC_REPLY_WITHIN_MS;
    int r_reply = scenario_json_string(j, obj, path, "reply", SJ_REQUIRED, true, e->reply,
                                       sizeof e->reply);
    int r_to = scenario_json_string(j, obj, path, "to", SJ_REQUIRED, true, e->to, sizeof e->to);
    int r_fleet = expect_fleet(j, obj, path, sc, e);
    SJ_TRY(rc, r_reply);
    SJ_TRY(rc, r_to);
    SJ_TRY(rc, r_fleet);
    SJ_TRY(rc, scenario_json_duration_min_ms(j, obj, path, "within", SJ_OPTIONAL, 1,
                                             &e->within_ms));
    SJ_TRY(rc, scenario_json_fraction(j, obj, path, "fraction", SJ_OPTIONAL, &e->fraction));
    /* the checks against the steps and the dialects need both names, the fleet, and
     * every step read */
    if (r_to != SJ_OK || r_fleet == SJ_ERR || (sc->parse_failed & SC_PARSE_STEPS))
        return SJ_ERR;
    /* a reply to a command no step sends could never be observed */
    for (int i = 0; i < sc->n_steps; i++) {
        const struct sc_step *st = &sc->steps[i];
        if (st->kind == SC_STEP_COMMAND && strcasecmp(st->msg, e->to) == 0 &&
            (e->fleet[0] == '\0' || strcmp(st->fleet, e->fleet) == 0))
            sent = true;
    }
    if (!sent) {
        scenario_json_path(p, sizeof p, path, "to");
        if (e->fleet[0] != '\0')
            return scenario_json_fail(j, p, "no step sends %s to fleet \"%s\"", e->to, e->fleet);
        return scenario_json_fail(j, p, "no step sends %s", e->to);
    }
    if (r_reply != SJ_OK)
        return SJ_ERR;
    /* the reply must be the one each addressed dialect answers that request with */
    for (int f = 0; f < sc->n_fleets; f++) {
        const struct dialect *d = sc->fleets[f].dialect;
        if (d == NULL || (e->fleet[0] != '\0' && strcmp(e->fleet, sc->fleets[f].id) != 0))
            continue;
        int k = dialect_cmd_index(d, e->to);
        if (k < 0)
            continue;
        if (strcasecmp(d->cmds[k].reply, e->reply) != 0) {
            scenario_json_path(p, sizeof p, path, "reply");
            return scenario_json_fail(j, p, "%s terminals answer %s with %s, not %s", d->name,
                                      d->cmds[k].request, d->cmds[k].reply, e->reply);
        }
        snprintf(e->to, sizeof e->to, "%s", d->cmds[k].request);
        snprintf(e->reply, sizeof e->reply, "%s", d->cmds[k].reply);
    }
    if (rc != SJ_OK)
        return rc;
    expect_when(obj, e->within_ms, when, sizeof when);
    expect_desc(e, "every terminal%s%s sent %s answers with %s %s",
             e->fleet[0] ? " of " : "", e->fleet, e->to, e->reply, when);
    return SJ_OK;
}

static bool expect_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-';
}

/* <area>.<name>.<statistic>: the shape, then a statistic we compute. */
static int expect_metric_name(const struct scenario_json *j, const char *p, const char *name)
{
    const char *dot = strrchr(name, '.');
    char list[128];
    bool shape = dot != NULL && dot != name && dot[1] != '\0';
    for (const char *c = name; shape && *c; c++) {
        if (*c == '.')
            shape = c != name && c[-1] != '.';
        else
            shape = expect_name_char(*c);
    }
    if (!shape)
        return scenario_json_fail(j, p,
                                  "expected a metric like \"report.latency.p99\" "
                                  "(<area>.<name>.<statistic>), got \"%s\"", name);
    for (size_t i = 0; i < N_OF(metric_stats); i++)
        if (strcmp(dot + 1, metric_stats[i]) == 0)
            return SJ_OK;
    scenario_json_join(metric_stats, N_OF(metric_stats), list, sizeof list);
    return scenario_json_fail(j, p, "unknown statistic \"%s\" in \"%s\" (use %s)", dot + 1, name,
                              list);
}

/* A metric or counter name the evaluation knows for the expectation's fleet (the
 * same tables: expect_name_known), else an error with the closest known name. */
static int expect_known_name(const struct scenario_json *j, const struct scenario *sc,
                             const struct sc_expect *e, const char *p, int metric,
                             const char *name, int *is_duration)
{
    char near[64], where[80] = "";
    int f = scenario_fleet_index(sc, e->fleet);
    if (expect_name_known(sc, f, metric, name, is_duration, near, sizeof near))
        return SJ_OK;
    if (f >= 0)
        snprintf(where, sizeof where, " for fleet \"%s\" (%s)", e->fleet, sc->fleets[f].protocol);
    if (near[0])
        return scenario_json_fail(j, p, "unknown %s \"%s\"%s (did you mean \"%s\"?)",
                                  metric ? "metric" : "counter", name, where, near);
    return scenario_json_fail(j, p, "unknown %s \"%s\"%s (scenarios/SCHEMA.md lists them)",
                              metric ? "metric" : "counter", name, where);
}

/* One bound, in the metric's unit: a duration (stored in µs) when the metric is one,
 * else a plain number.  A bare number on a duration is refused, as everywhere. */
static int expect_bound(const struct scenario_json *j, const cJSON *obj, const char *path,
                        const char *key, const char *metric, int is_duration, bool *has,
                        double *out)
{
    char p[SCENARIO_JSON_PATH_MAX];
    const cJSON *v = scenario_json_get(obj, key);
    uint64_t us;
    if (v == NULL)
        return SJ_OK;
    scenario_json_path(p, sizeof p, path, key);
    if (is_duration) {
        if (scenario_json_duration_us(j, obj, path, key, SJ_REQUIRED, &us) != SJ_OK)
            return SJ_ERR;
        *out = (double)us;
    } else {
        if (cJSON_IsString(v))
            return scenario_json_fail(j, p, "%s is a plain number, not a duration", metric);
        if (scenario_json_number(j, obj, path, key, SJ_REQUIRED, out) != SJ_OK)
            return SJ_ERR;
    }
    *has = true;
    return SJ_OK;
}

static void expect_bound_text(const cJSON *obj, const char *key, char *out, size_t cap)
{
    scenario_json_got(scenario_json_get(obj, key), out, cap);
    /* durations read better unquoted in prose */
    if (out[0] == '"') {
        size_t n = strlen(out);
        memmove(out, out + 1, n - 2);
        out[n - 2] = '\0';
    }
}

static int expect_metric(const struct scenario_json *j, const cJSON *obj, const char *path,
                         const struct scenario *sc, struct sc_expect *e)
{
    char p[SCENARIO_JSON_PATH_MAX], lo[64], hi[64];
    int is_duration = 0, rc = SJ_OK;
    int r = scenario_json_string(j, obj, path, "metric", SJ_REQUIRED, true, e->metric,
                                 sizeof e->metric);
    scenario_json_path(p, sizeof p, path, "metric");
    if (r == SJ_OK)
        r = expect_metric_name(j, p, e->metric);
    if (r == SJ_OK)
        r = expect_known_name(j, sc, e, p, 1, e->metric, &is_duration);
    SJ_TRY(rc, r);
    /* a bound's type is the metric's: unknown while the name is wrong */
    if (r == SJ_OK) {
        SJ_TRY(rc, expect_bound(j, obj, path, "below", e->metric, is_duration, &e->has_below,
                                &e->below));
        SJ_TRY(rc, expect_bound(j, obj, path, "above", e->metric, is_duration, &e->has_above,
                                &e->above));
    }
    bool given_below = scenario_json_get(obj, "below") != NULL;
    bool given_above = scenario_json_get(obj, "above") != NULL;
    if (!given_below && !given_above && !scenario_json_hinted(j, obj, "below") &&
        !scenario_json_hinted(j, obj, "above"))
        return scenario_json_fail(j, path, "a metric expectation needs \"below\" or \"above\"");
    if (rc != SJ_OK)
        return rc;
    if (e->has_below && e->has_above && e->above >= e->below) {
        scenario_json_path(p, sizeof p, path, "above");
        return scenario_json_fail(j, p, "must be less than \"below\"");
    }
    e->bound_is_duration = is_duration != 0;
    expect_bound_text(obj, "above", lo, sizeof lo);
    expect_bound_text(obj, "below", hi, sizeof hi);
    if (e->has_below && e->has_above)
        expect_desc(e, "%s stays above %s and below %s", e->metric, lo, hi);
    else if (e->has_below)
        expect_desc(e, "%s stays below %s", e->metric, hi);
    else
        expect_desc(e, "%s stays above %s", e->metric, lo);
    return SJ_OK;
}

static int expect_ledger(const struct scenario_json *j, const cJSON *obj, const char *path,
                         struct sc_expect *e)
{
    static const char *const values[] = {"balanced", "acked"};
    char v[16];
    if (scenario_json_enum(j, obj, path, "ledger", SJ_REQUIRED, values, N_OF(values), v,
                           sizeof v) != SJ_OK)
        return SJ_ERR;
    e->ledger_acked = strcmp(v, "acked") == 0;
    snprintf(e->desc, sizeof e->desc, "%s",
             e->ledger_acked ? "every message is acknowledged: none failed or timed out"
                             : "every message is acknowledged, failed or timed out (ledger balanced)");
    return SJ_OK;
}

static int expect_transitions(const struct scenario_json *j, const cJSON *obj, const char *path,
                              const struct scenario *sc, struct sc_expect *e)
{
    char p[SCENARIO_JSON_PATH_MAX], pi[SCENARIO_JSON_PATH_MAX], who[96], chain[200];
    const cJSON *arr = scenario_json_get(obj, "transitions");
    size_t used = 0;
    int n, rc = SJ_OK;
    scenario_json_path(p, sizeof p, path, "transitions");
    SJ_TRY(rc, expect_fleet(j, obj, path, sc, e));
    if (scenario_json_want_array(j, arr, p) != SJ_OK)
        return SJ_ERR;
    n = cJSON_GetArraySize(arr);
    if (n < 1 || n > SC_MAX_TRANSITIONS)
        return scenario_json_fail(j, p, "expected 1 to %d states, got %d", SC_MAX_TRANSITIONS, n);
    chain[0] = '\0';
    int i = 0;
    for (const cJSON *s = arr->child; s != NULL; s = s->next, i++) {
        char got[64];
        scenario_json_index(pi, sizeof pi, p, i);
        if (!cJSON_IsString(s) || s->valuestring == NULL) {
            scenario_json_got(s, got, sizeof got);
            rc = scenario_json_fail(j, pi, "expected a state name, got %s", got);
            continue;
        }
        if (expect_state_name(j, pi, s->valuestring) != SJ_OK) {
            rc = SJ_ERR;
            continue;
        }
        snprintf(e->transitions[e->n_transitions], sizeof e->transitions[0], "%s", s->valuestring);
        if (used < sizeof chain)
            used += (size_t)snprintf(chain + used, sizeof chain - used, "%s%s",
                                     e->n_transitions ? " -> " : "", s->valuestring);
        e->n_transitions++;
    }
    if (rc != SJ_OK)
        return rc;
    expect_who(e, 1.0, who, sizeof who);
    expect_desc(e, "%s pass through %s in order", who, chain);
    return SJ_OK;
}

static bool expect_counter_char(char c)
{
    return expect_name_char(c) || c == '.';
}

static int expect_counter(const struct scenario_json *j, const cJSON *obj, const char *path,
                          const struct scenario *sc, struct sc_expect *e)
{
    char p[SCENARIO_JSON_PATH_MAX];
    int rc = SJ_OK, r;
    r = scenario_json_string(j, obj, path, "counter", SJ_REQUIRED, true, e->counter,
                             sizeof e->counter);
    scenario_json_path(p, sizeof p, path, "counter");
    for (const char *c = e->counter; r == SJ_OK && *c; c++) {
        if (!expect_counter_char(*c))
            r = scenario_json_fail(j, p, "expected a counter like \"gateway.bad_check\", got \"%s\"",
                                   e->counter);
    }
    if (r == SJ_OK)
        r = expect_known_name(j, sc, e, p, 0, e->counter, NULL);
    SJ_TRY(rc, r);
    r = scenario_json_count(j, obj, path, "min", SJ_OPTIONAL, false, &e->min);
    SJ_TRY(rc, r);
    e->has_min = r == SJ_OK;
    r = scenario_json_count(j, obj, path, "max", SJ_OPTIONAL, false, &e->max);
    SJ_TRY(rc, r);
    e->has_max = r == SJ_OK;
    if (!scenario_json_get(obj, "min") && !scenario_json_get(obj, "max") &&
        !scenario_json_hinted(j, obj, "min") && !scenario_json_hinted(j, obj, "max"))
        return scenario_json_fail(j, path, "a counter expectation needs \"min\" or \"max\"");
    if (rc != SJ_OK)
        return rc;
    if (e->has_min && e->has_max && e->max < e->min) {
        scenario_json_path(p, sizeof p, path, "max");
        return scenario_json_fail(j, p, "%llu is below min %llu", (unsigned long long)e->max,
                                  (unsigned long long)e->min);
    }
    if (e->has_min && e->has_max)
        expect_desc(e, "counter %s is between %llu and %llu", e->counter,
                 (unsigned long long)e->min, (unsigned long long)e->max);
    else if (e->has_min)
        expect_desc(e, "counter %s is at least %llu", e->counter,
                 (unsigned long long)e->min);
    else
        expect_desc(e, "counter %s is at most %llu", e->counter,
                 (unsigned long long)e->max);
    return SJ_OK;
}

static int expect_parse(const struct scenario_json *j, const cJSON *obj, const char *path,
                        struct scenario *sc, int index)
{
    struct sc_expect *e = &sc->expect[index];
    int rc = SJ_OK;
    e->fraction = 1.0;
    if (scenario_json_want_object(j, obj, path) != SJ_OK)
        return SJ_ERR;
    SJ_TRY(rc, scenario_json_fields(j, obj, path, expect_fields, N_OF(expect_fields)));
    SJ_TRY(rc, expect_id(j, obj, path, sc, index, e));
    /* given values replace the generated ones */
    SJ_TRY(rc, scenario_json_string(j, obj, path, "area", SJ_OPTIONAL, true, e->area,
                                    sizeof e->area));
    if (expect_kind(j, obj, path, &e->kind) != SJ_OK)
        return SJ_ERR;
    switch (e->kind) {
    case SC_EXP_STATE:
        SJ_TRY(rc, expect_state(j, obj, path, sc, e));
        break;
    case SC_EXP_REPLY:
        SJ_TRY(rc, expect_reply(j, obj, path, sc, e));
        break;
    case SC_EXP_METRIC:
        /* terminal metrics and counters may be narrowed to one fleet: the fleet first,
         * as the names known depend on it */
        if (expect_fleet(j, obj, path, sc, e) == SJ_ERR)
            rc = SJ_ERR;
        else
            SJ_TRY(rc, expect_metric(j, obj, path, sc, e));
        break;
    case SC_EXP_LEDGER:
        SJ_TRY(rc, expect_ledger(j, obj, path, e));
        break;
    case SC_EXP_TRANSITIONS:
        SJ_TRY(rc, expect_transitions(j, obj, path, sc, e));
        break;
    case SC_EXP_COUNTER:
        if (expect_fleet(j, obj, path, sc, e) == SJ_ERR)
            rc = SJ_ERR;
        else
            SJ_TRY(rc, expect_counter(j, obj, path, sc, e));
        break;
    }
    SJ_TRY(rc, scenario_json_string(j, obj, path, "description", SJ_OPTIONAL, true, e->desc,
                                    sizeof e->desc));
    if (rc != SJ_OK)
        return rc;
    if (!scenario_json_get(obj, "area"))
        expect_area_from_id(e->id, e->area, sizeof e->area);
    return SJ_OK;
}

int scenario_expect_parse(const struct scenario_json *j, const cJSON *v, struct scenario *sc)
{
    char p[SCENARIO_JSON_PATH_MAX];
    int n, rc = SJ_OK;
    if (v == NULL)
        return SJ_OK;
    if (scenario_json_want_array(j, v, "expect") != SJ_OK)
        return SJ_ERR;
    n = cJSON_GetArraySize(v);
    if (n == 0)
        return SJ_OK;
    if (n > EXPECT_MAX)
        return scenario_json_fail(j, "expect", "at most %d expectations, got %d", EXPECT_MAX, n);
    sc->expect = calloc((size_t)n, sizeof *sc->expect);
    if (sc->expect == NULL)
        return scenario_json_fail(j, "expect", "out of memory");
    int i = 0;
    for (const cJSON *e = v->child; e != NULL; e = e->next, i++) {
        scenario_json_index(p, sizeof p, "expect", i);
        if (cJSON_IsObject(e) && scenario_json_get(e, "command_path")) {
            /* judged on the platform's API at the end of the run (scenario_api.c) */
            SJ_TRY(rc, scenario_api_expect_parse(j, e, p, sc, i));
            continue;
        }
        SJ_TRY(rc, expect_parse(j, e, p, sc, sc->n_expect));
        sc->n_expect++; /* also after an error: the paths of the next ones count it */
    }
    return rc;
}
