/* The "fleets" section: who the virtual terminals are.  This file parses what
 * every fleet has (id, protocol, count, ramp, transport, target, reconnect and
 * answer timings); the dialect named by "protocol" parses the rest
 * (harness/scenario_<protocol>.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/scenario_dialect.h"
#include "harness/scenario_internal.h"
#include "sim/core/units.h"

static const char *const fleet_fields[] = {
    "id", "protocol", "count", "max", "ramp", "transport", "tls", "target", "reconnect", "ack_timeout",
};
static const char *const reconnect_fields[] = {"min", "max"};
static const char *const transports[] = {"tcp", "udp", "tls"};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))
#define FIELDS_MAX 64

static void fleet_defaults(struct fleet_spec *f)
{
    memset(f, 0, sizeof *f);
    snprintf(f->transport, sizeof f->transport, "tcp");
    f->reconnect_min_ms = 1000;
    f->reconnect_max_ms = 60000;
    f->ack_timeout_ms = 10000;
}

int scenario_fleets_ref(const struct scenario_json *j, const struct scenario *sc, const char *p,
                        const char *id)
{
    const char *ids[SC_MAX_FLEETS];
    const char *near;
    char list[256];
    if (scenario_fleet(sc, id) != NULL)
        return SJ_OK;
    /* it may be the fleet whose id was wrong: that error is reported already */
    if (sc->parse_failed & SC_PARSE_FLEET_IDS)
        return SJ_ERR;
    for (int i = 0; i < sc->n_fleets; i++)
        ids[i] = sc->fleets[i].id;
    near = scenario_json_closest(id, ids, (size_t)sc->n_fleets);
    if (near != NULL)
        return scenario_json_fail(j, p, "unknown fleet \"%s\" (did you mean \"%s\"?)", id, near);
    scenario_json_join(ids, (size_t)sc->n_fleets, list, sizeof list);
    return scenario_json_fail(j, p, "unknown fleet \"%s\" (fleets: %s)", id, list);
}

static bool fleet_id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '.' || c == '-';
}

static int fleet_id(const struct scenario_json *j, const cJSON *obj, const char *path,
                    const struct scenario *sc, int index, struct fleet_spec *f)
{
    char p[SCENARIO_JSON_PATH_MAX];
    int rc = scenario_json_string(j, obj, path, "id", SJ_REQUIRED, true, f->id, sizeof f->id);
    if (rc != SJ_OK)
        return SJ_ERR;
    scenario_json_path(p, sizeof p, path, "id");
    for (const char *c = f->id; *c; c++)
        if (!fleet_id_char(*c))
            return scenario_json_fail(j, p, "use letters, digits, '_', '.' and '-', got \"%s\"",
                                      f->id);
    for (int i = 0; i < index; i++)
        if (strcmp(sc->fleets[i].id, f->id) == 0)
            return scenario_json_fail(j, p, "duplicate fleet id \"%s\" (also fleets[%d])", f->id, i);
    return SJ_OK;
}

static int fleet_count(const struct scenario_json *j, const cJSON *obj, const char *path,
                       struct fleet_spec *f)
{
    char p[SCENARIO_JSON_PATH_MAX], got[64];
    uint64_t n;
    if (scenario_json_count(j, obj, path, "count", SJ_REQUIRED, true, &n) != SJ_OK)
        return SJ_ERR;
    if (n > UINT32_MAX) {
        scenario_json_path(p, sizeof p, path, "count");
        scenario_json_got(scenario_json_get(obj, "count"), got, sizeof got);
        return scenario_json_fail(j, p, "too large: at most 4294967295, got %s", got);
    }
    f->count = (uint32_t)n;
    f->max = f->count;
    if (!scenario_json_get(obj, "max"))
        return SJ_OK;
    if (scenario_json_count(j, obj, path, "max", SJ_OPTIONAL, true, &n) != SJ_OK)
        return SJ_ERR;
    scenario_json_path(p, sizeof p, path, "max");
    scenario_json_got(scenario_json_get(obj, "max"), got, sizeof got);
    if (n > UINT32_MAX)
        return scenario_json_fail(j, p, "too large: at most 4294967295, got %s", got);
    if (n < f->count)
        return scenario_json_fail(j, p, "at least the fleet's count (%u), got %s", f->count, got);
    f->max = (uint32_t)n;
    return SJ_OK;
}

static int fleet_ramp(const struct scenario_json *j, const cJSON *obj, const char *path,
                      struct fleet_spec *f)
{
    char p[SCENARIO_JSON_PATH_MAX], got[64];
    double r;
    int rc = scenario_json_rate(j, obj, path, "ramp", SJ_OPTIONAL, &r);
    if (rc != SJ_OK)
        return rc;
    if (r <= 0) {
        scenario_json_path(p, sizeof p, path, "ramp");
        scenario_json_got(scenario_json_get(obj, "ramp"), got, sizeof got);
        return scenario_json_fail(j, p,
                                  "must be above 0 (leave ramp out to connect all at once), got %s",
                                  got);
    }
    f->ramp_per_s = r;
    return SJ_OK;
}

int scenario_fleets_period(const struct scenario_json *j, const cJSON *obj, const char *path,
                           const char *key, uint64_t *out)
{
    return scenario_json_duration_min_ms(j, obj, path, key, SJ_OPTIONAL, 1, out);
}

static int fleet_reconnect(const struct scenario_json *j, const cJSON *obj, const char *path,
                           struct fleet_spec *f)
{
    char p[SCENARIO_JSON_PATH_MAX], pmax[SCENARIO_JSON_PATH_MAX], a[24], b[24];
    const cJSON *r = scenario_json_get(obj, "reconnect");
    int rc = SJ_OK;
    if (r == NULL)
        return SJ_OK;
    scenario_json_path(p, sizeof p, path, "reconnect");
    if (scenario_json_want_object(j, r, p) != SJ_OK)
        return SJ_ERR;
    SJ_TRY(rc, scenario_json_fields(j, r, p, reconnect_fields, N_OF(reconnect_fields)));
    SJ_TRY(rc, scenario_fleets_period(j, r, p, "min", &f->reconnect_min_ms));
    SJ_TRY(rc, scenario_fleets_period(j, r, p, "max", &f->reconnect_max_ms));
    if (rc == SJ_OK && f->reconnect_max_ms < f->reconnect_min_ms) {
        scenario_json_path(pmax, sizeof pmax, p, "max");
        units_format_us(f->reconnect_max_ms * 1000, a, sizeof a);
        units_format_us(f->reconnect_min_ms * 1000, b, sizeof b);
        return scenario_json_fail(j, pmax, "%s is below min %s", a, b);
    }
    return rc;
}

/* "tcp://host:port" or "udp://host:port": a fleet's own target. */
static int fleet_target(const struct scenario_json *j, const cJSON *obj, const char *path,
                        struct fleet_spec *f)
{
    char p[SCENARIO_JSON_PATH_MAX];
    int rc = scenario_json_string(j, obj, path, "target", SJ_OPTIONAL, true, f->target,
                                  sizeof f->target);
    if (rc != SJ_OK)
        return rc;
    scenario_json_path(p, sizeof p, path, "target");
    if (!scenario_target_ok(f->target))
        return scenario_json_fail(j, p, "expected \"tcp://host:port\", \"udp://host:port\" or \"tls://host:port\", got \"%s\"",
                                  f->target);
    if (strncmp(f->target, f->transport, strlen(f->transport)) != 0)
        return scenario_json_fail(j, p, "a %s fleet needs a %s:// target, got \"%s\"", f->transport,
                                  f->transport, f->target);
    return SJ_OK;
}

static int fleet_protocol(const struct scenario_json *j, const cJSON *obj, const char *path,
                          struct fleet_spec *f)
{
    const char *names[16];
    size_t n = 0;
    for (; sc_dialects[n] && n < N_OF(names); n++)
        names[n] = sc_dialects[n]->name;
    if (scenario_json_enum(j, obj, path, "protocol", SJ_REQUIRED, names, n, f->protocol,
                           sizeof f->protocol) != SJ_OK)
        return SJ_ERR;
    const struct sc_dialect *d = sc_dialect_find(f->protocol);
    f->sc_dialect = d;
    f->dialect = d->dev;
    return SJ_OK;
}

static int fleet_parse(const struct scenario_json *j, const cJSON *obj, const char *path,
                       struct scenario *sc, int index)
{
    struct fleet_spec *f = &sc->fleets[index];
    const char *known[FIELDS_MAX];
    size_t nk = 0;
    int rc = SJ_OK;
    fleet_defaults(f);
    for (int i = 0; i < index; i++)
        f->first += fleet_capacity(&sc->fleets[i]);
    if (scenario_json_want_object(j, obj, path) != SJ_OK) {
        sc->parse_failed |= SC_PARSE_FLEET_IDS;
        return SJ_ERR;
    }
    /* the protocol decides which other fields belong; without it only the
     * neutral ones are read */
    bool proto_ok = fleet_protocol(j, obj, path, f) == SJ_OK;
    const struct sc_dialect *d = proto_ok ? sc_dialect_of(f) : NULL;
    if (!proto_ok)
        rc = SJ_ERR;
    if (d != NULL) {
        for (size_t i = 0; i < N_OF(fleet_fields); i++)
            known[nk++] = fleet_fields[i];
        for (size_t i = 0; i < d->n_fields && nk < FIELDS_MAX; i++)
            known[nk++] = d->fields[i];
        SJ_TRY(rc, scenario_json_fields(j, obj, path, known, nk));
    }
    SJ_TRY(rc, fleet_id(j, obj, path, sc, index, f));
    if (f->id[0] == '\0')
        sc->parse_failed |= SC_PARSE_FLEET_IDS;
    if (fleet_count(j, obj, path, f) == SJ_ERR) {
        rc = SJ_ERR;
        f->count = 1; /* the checks that depend on it go on with one terminal */
    }
    SJ_TRY(rc, fleet_ramp(j, obj, path, f));
    int r = scenario_json_enum(j, obj, path, "transport", SJ_OPTIONAL, transports,
                               N_OF(transports), f->transport, sizeof f->transport);
    SJ_TRY(rc, r);
    if (r != SJ_ERR)
        SJ_TRY(rc, fleet_target(j, obj, path, f));
    const cJSON *tls = scenario_json_get(obj, "tls");
    char tp[SCENARIO_JSON_PATH_MAX];
    scenario_json_path(tp, sizeof tp, path, "tls");
    if (tls && r != SJ_ERR && strcmp(f->transport, "tls") != 0)
        rc = scenario_json_fail(j, tp, "only for \"transport\": \"tls\" (this fleet is %s)", f->transport);
    else if (tls)
        SJ_TRY(rc, scenario_tls_parse(j, tls, tp, 0, sc->path, &f->tls));
    SJ_TRY(rc, fleet_reconnect(j, obj, path, f));
    SJ_TRY(rc, scenario_fleets_period(j, obj, path, "ack_timeout", &f->ack_timeout_ms));
    if (d != NULL)
        SJ_TRY(rc, d->parse(j, obj, path, sc, index, f));
    return rc;
}

int scenario_fleets_parse(const struct scenario_json *j, const cJSON *root, struct scenario *sc)
{
    char p[SCENARIO_JSON_PATH_MAX];
    const cJSON *v = scenario_json_get(root, "fleets");
    int n, rc = SJ_OK;
    if (v == NULL) {
        sc->parse_failed |= SC_PARSE_FLEET_IDS;
        if (scenario_json_hinted(j, root, "fleets"))
            return SJ_ERR;
        return scenario_json_fail(j, "fleets", "required field missing");
    }
    if (scenario_json_want_array(j, v, "fleets") != SJ_OK) {
        sc->parse_failed |= SC_PARSE_FLEET_IDS;
        return SJ_ERR;
    }
    n = cJSON_GetArraySize(v);
    if (n < 1 || n > SC_MAX_FLEETS) {
        sc->parse_failed |= SC_PARSE_FLEET_IDS;
        return scenario_json_fail(j, "fleets", "expected 1 to %d fleets, got %d", SC_MAX_FLEETS, n);
    }
    for (const cJSON *e = v->child; e != NULL; e = e->next) {
        scenario_json_index(p, sizeof p, "fleets", sc->n_fleets);
        SJ_TRY(rc, fleet_parse(j, e, p, sc, sc->n_fleets));
        sc->n_fleets++; /* a fleet that failed half way is freed with the others */
    }
    return rc;
}
