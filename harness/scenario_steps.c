/* The "steps" section: what the timeline does to the fleets and when. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/scenario_dialect.h"
#include "harness/scenario_internal.h"
#include "sim/dev/dialect.h"
#include "sim/core/units.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Far beyond any hand-written or generated timeline; bounds the work a bad file costs. */
#define STEPS_MAX 100000

static const char *const step_fields[] = {"at", "command", "fault", "terminal", "api"};
static const char *const terminal_fields[] = {"fleet", "action", "fraction"};
static const char *const terminal_actions[] = {"unregister"};
static const char *const command_fields[] = {"fleet", "msg", "body", "fraction"};
static const char *const fault_fields[] = {"kind", "fleet", "fraction", "down"};
/* bad-check: the JT/T 808 name of corrupt */
static const char *const fault_kinds[] = {"disconnect", "cut", "corrupt", "bad-check"};

static int step_fleet(const struct scenario_json *j, const cJSON *obj, const char *path,
                      const struct scenario *sc, struct sc_step *st)
{
    char p[SCENARIO_JSON_PATH_MAX];
    if (scenario_json_string(j, obj, path, "fleet", SJ_REQUIRED, true, st->fleet,
                             sizeof st->fleet) != SJ_OK)
        return SJ_ERR;
    scenario_json_path(p, sizeof p, path, "fleet");
    return scenario_fleets_ref(j, sc, p, st->fleet);
}

/* The dialect of the fleet a step names, or NULL when the fleet is unknown or its
 * protocol failed (reported already). */
static const struct dialect *step_dialect(const struct scenario *sc, const struct sc_step *st)
{
    const struct fleet_spec *f = scenario_fleet(sc, st->fleet);
    return f != NULL ? f->dialect : NULL;
}

/* A request of the fleet's dialect, by its name ("0x8104" for JT/T 808). */
static int step_request_name(const struct scenario_json *j, const cJSON *obj, const char *path,
                             const struct dialect *d, struct sc_step *st)
{
    char p[SCENARIO_JSON_PATH_MAX], got[64];
    const cJSON *v = scenario_json_get(obj, "msg");
    if (v && !cJSON_IsString(v)) {
        scenario_json_path(p, sizeof p, path, "msg");
        scenario_json_got(v, got, sizeof got);
        return scenario_json_fail(j, p, "expected a request name like \"%s\", got %s",
                                  d && d->n_cmds ? d->cmds[0].request : "0x8104", got);
    }
    return scenario_json_string(j, obj, path, "msg", SJ_REQUIRED, true, st->msg, sizeof st->msg);
}

/* The request must be one the fleet's dialect has; st->cmd_kind is its index. */
static int step_request_known(const struct scenario_json *j, const char *path,
                              const struct dialect *d, struct sc_step *st)
{
    char p[SCENARIO_JSON_PATH_MAX], list[400];
    st->cmd_kind = dialect_cmd_index(d, st->msg);
    if (st->cmd_kind >= 0) {
        snprintf(st->msg, sizeof st->msg, "%s", d->cmds[st->cmd_kind].request);
        return SJ_OK;
    }
    const char *names[STATS_CMD_KINDS];
    int n = 0;
    for (; n < d->n_cmds && n < STATS_CMD_KINDS; n++)
        names[n] = d->cmds[n].request;
    scenario_json_path(p, sizeof p, path, "msg");
    if (n == 0)
        return scenario_json_fail(j, p, "the platform sends no requests to %s terminals", d->name);
    scenario_json_join(names, (size_t)n, list, sizeof list);
    return scenario_json_fail(j, p, "\"%s\" is not a request the platform sends to %s terminals "
                              "(use %s)", st->msg, d->name, list);
}

static int step_command(const struct scenario_json *j, cJSON *obj, const char *path,
                        const struct scenario *sc, struct sc_step *st)
{
    char p[SCENARIO_JSON_PATH_MAX];
    cJSON *body;
    int rc = SJ_OK;
    st->kind = SC_STEP_COMMAND;
    st->cmd_kind = -1;
    if (scenario_json_want_object(j, obj, path) != SJ_OK)
        return SJ_ERR;
    SJ_TRY(rc, scenario_json_fields(j, obj, path, command_fields, N_OF(command_fields)));
    bool fleet_ok = step_fleet(j, obj, path, sc, st) == SJ_OK;
    if (!fleet_ok)
        rc = SJ_ERR;
    const struct dialect *d = fleet_ok ? step_dialect(sc, st) : NULL;
    int r = step_request_name(j, obj, path, d, st);
    SJ_TRY(rc, r);
    if (r == SJ_OK && d != NULL)
        SJ_TRY(rc, step_request_known(j, path, d, st));
    SJ_TRY(rc, scenario_json_fraction(j, obj, path, "fraction", SJ_OPTIONAL, &st->fraction));
    body = cJSON_GetObjectItemCaseSensitive(obj, "body");
    if (body == NULL || cJSON_IsNull(body))
        return rc;
    scenario_json_path(p, sizeof p, path, "body");
    if (scenario_json_want_object(j, body, p) != SJ_OK)
        return SJ_ERR;
    /* the step owns the body from here; the parse tree is freed without it */
    st->body = cJSON_DetachItemViaPointer(obj, body);
    return rc;
}

static int step_fault(const struct scenario_json *j, const cJSON *obj, const char *path,
                      const struct scenario *sc, struct sc_step *st)
{
    char kind[16], p[SCENARIO_JSON_PATH_MAX];
    int rc = SJ_OK;
    st->kind = SC_STEP_FAULT;
    if (scenario_json_want_object(j, obj, path) != SJ_OK)
        return SJ_ERR;
    SJ_TRY(rc, scenario_json_fields(j, obj, path, fault_fields, N_OF(fault_fields)));
    int r = scenario_json_enum(j, obj, path, "kind", SJ_REQUIRED, fault_kinds, N_OF(fault_kinds),
                               kind, sizeof kind);
    SJ_TRY(rc, r);
    bool fleet_ok = step_fleet(j, obj, path, sc, st) == SJ_OK;
    if (!fleet_ok)
        rc = SJ_ERR;
    SJ_TRY(rc, scenario_json_fraction(j, obj, path, "fraction", SJ_OPTIONAL, &st->fraction));
    SJ_TRY(rc, scenario_json_duration_ms(j, obj, path, "down", SJ_OPTIONAL, &st->down_ms));
    if (r != SJ_OK)
        return rc;
    st->fault = strcmp(kind, "bad-check") == 0 || strcmp(kind, "corrupt") == 0 ? SC_FAULT_CORRUPT
                : strcmp(kind, "cut") == 0                                     ? SC_FAULT_CUT
                                                                               : SC_FAULT_DISCONNECT;
    if (st->fault == SC_FAULT_CORRUPT && cJSON_GetObjectItemCaseSensitive(obj, "down")) {
        scenario_json_path(p, sizeof p, path, "down");
        rc = scenario_json_fail(j, p, "only a disconnect or a cut has a \"down\" time");
    }
    const struct dialect *d = fleet_ok ? step_dialect(sc, st) : NULL;
    if (st->fault == SC_FAULT_CORRUPT && d != NULL && !d->corrupt) {
        scenario_json_path(p, sizeof p, path, "kind");
        rc = scenario_json_fail(j, p, "%s terminals cannot send a corrupt request", d->name);
    }
    return rc;
}

static int step_terminal(const struct scenario_json *j, const cJSON *obj, const char *path,
                         const struct scenario *sc, struct sc_step *st)
{
    char action[16];
    int rc = SJ_OK;
    st->kind = SC_STEP_TERMINAL;
    if (scenario_json_want_object(j, obj, path) != SJ_OK)
        return SJ_ERR;
    SJ_TRY(rc, scenario_json_fields(j, obj, path, terminal_fields, N_OF(terminal_fields)));
    int r = scenario_json_enum(j, obj, path, "action", SJ_REQUIRED, terminal_actions,
                               N_OF(terminal_actions), action, sizeof action);
    SJ_TRY(rc, r);
    bool fleet_ok = step_fleet(j, obj, path, sc, st) == SJ_OK;
    if (!fleet_ok)
        rc = SJ_ERR;
    SJ_TRY(rc, scenario_json_fraction(j, obj, path, "fraction", SJ_OPTIONAL, &st->fraction));
    st->action = SC_ACT_UNREGISTER;
    const struct dialect *d = fleet_ok ? step_dialect(sc, st) : NULL;
    if (r == SJ_OK && d != NULL && !d->unregister) {
        char p[SCENARIO_JSON_PATH_MAX];
        scenario_json_path(p, sizeof p, path, "action");
        rc = scenario_json_fail(j, p, "%s terminals have no way to unregister", d->name);
    }
    return rc;
}

static int step_parse(const struct scenario_json *j, cJSON *obj, const char *path,
                      const struct scenario *sc, struct sc_step *st, int index)
{
    char p[SCENARIO_JSON_PATH_MAX], at[24], end[24];
    cJSON *cmd, *fault;
    int rc = SJ_OK;
    st->fraction = 1.0;
    if (scenario_json_want_object(j, obj, path) != SJ_OK)
        return SJ_ERR;
    SJ_TRY(rc, scenario_json_fields(j, obj, path, step_fields, N_OF(step_fields)));
    int r = scenario_json_duration_ms(j, obj, path, "at", SJ_REQUIRED, &st->at_ms);
    SJ_TRY(rc, r);
    /* a duration of 0 failed, and was reported */
    if (r == SJ_OK && sc->duration_ms > 0 && st->at_ms > sc->duration_ms) {
        scenario_json_path(p, sizeof p, path, "at");
        units_format_us(st->at_ms * 1000, at, sizeof at);
        units_format_us(sc->duration_ms * 1000, end, sizeof end);
        rc = scenario_json_fail(j, p, "%s is after the end of the run (duration %s)", at, end);
    }
    cmd = cJSON_GetObjectItemCaseSensitive(obj, "command");
    fault = cJSON_GetObjectItemCaseSensitive(obj, "fault");
    cJSON *term = cJSON_GetObjectItemCaseSensitive(obj, "terminal");
    cJSON *api = cJSON_GetObjectItemCaseSensitive(obj, "api");
    if ((cmd != NULL) + (fault != NULL) + (term != NULL) + (api != NULL) > 1)
        return scenario_json_fail(j, path, "has more than one of \"command\", \"fault\", \"terminal\" and \"api\"; "
                                           "a step does one thing");
    if (api != NULL) {
        scenario_json_path(p, sizeof p, path, "api");
        SJ_TRY(rc, scenario_api_parse(j, api, p, st, index));
    } else if (term != NULL) {
        scenario_json_path(p, sizeof p, path, "terminal");
        SJ_TRY(rc, step_terminal(j, term, p, sc, st));
    } else if (cmd != NULL) {
        scenario_json_path(p, sizeof p, path, "command");
        SJ_TRY(rc, step_command(j, cmd, p, sc, st));
    } else if (fault != NULL) {
        scenario_json_path(p, sizeof p, path, "fault");
        SJ_TRY(rc, step_fault(j, fault, p, sc, st));
    } else if (scenario_json_hinted(j, obj, "command") || scenario_json_hinted(j, obj, "fault") ||
               scenario_json_hinted(j, obj, "terminal") || scenario_json_hinted(j, obj, "api")) {
        rc = SJ_ERR; /* misspelt, and reported so */
    } else {
        rc = scenario_json_fail(j, path, "needs \"command\", \"fault\", \"terminal\" or \"api\"");
    }
    return rc;
}

struct step_order {
    uint64_t at_ms;
    int index;
};

static int step_order_cmp(const void *a, const void *b)
{
    const struct step_order *x = a, *y = b;
    if (x->at_ms != y->at_ms)
        return x->at_ms < y->at_ms ? -1 : 1;
    return x->index - y->index;
}

/* By time; steps at the same time keep their order in the file. */
static int steps_sort(struct scenario *sc)
{
    struct step_order *order;
    struct sc_step *sorted;
    size_t n = (size_t)sc->n_steps;
    if (n < 2)
        return SJ_OK;
    order = calloc(n, sizeof *order);
    sorted = calloc(n, sizeof *sorted);
    if (order == NULL || sorted == NULL) {
        free(order);
        free(sorted);
        return SJ_ERR;
    }
    for (size_t i = 0; i < n; i++) {
        order[i].at_ms = sc->steps[i].at_ms;
        order[i].index = (int)i;
    }
    qsort(order, n, sizeof *order, step_order_cmp);
    for (size_t i = 0; i < n; i++)
        sorted[i] = sc->steps[order[i].index];
    free(sc->steps);
    free(order);
    sc->steps = sorted;
    return SJ_OK;
}

int scenario_steps_parse(const struct scenario_json *j, cJSON *v, struct scenario *sc)
{
    char p[SCENARIO_JSON_PATH_MAX];
    int n, rc = SJ_OK;
    if (v == NULL)
        return SJ_OK;
    sc->parse_failed |= SC_PARSE_STEPS; /* until every step is read */
    if (scenario_json_want_array(j, v, "steps") != SJ_OK)
        return SJ_ERR;
    n = cJSON_GetArraySize(v);
    if (n > STEPS_MAX)
        return scenario_json_fail(j, "steps", "at most %d steps, got %d", STEPS_MAX, n);
    if (n > 0) {
        sc->steps = calloc((size_t)n, sizeof *sc->steps);
        if (sc->steps == NULL)
            return scenario_json_fail(j, "steps", "out of memory");
    }
    for (cJSON *e = v->child; e != NULL; e = e->next) {
        scenario_json_index(p, sizeof p, "steps", sc->n_steps);
        /* counted first so a body detached before a later error is still freed */
        sc->n_steps++;
        SJ_TRY(rc, step_parse(j, e, p, sc, &sc->steps[sc->n_steps - 1], sc->n_steps - 1));
    }
    if (rc != SJ_OK)
        return rc;
    sc->parse_failed &= ~(unsigned)SC_PARSE_STEPS;
    if (steps_sort(sc) != SJ_OK)
        return scenario_json_fail(j, "steps", "out of memory");
    return SJ_OK;
}
