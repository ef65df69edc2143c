/* Scenario files: reading, the top-level fields and the platform section.  The
 * fleets, steps and expectations have a file each (scenario_fleets.c, ...). */
#include "harness/scenario.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness/scenario_dialect.h"
#include "harness/scenario_internal.h"
#include "harness/scenario_json.h"
#include "harness/textfile.h"
#include "sim/platform/jt808/jt808_verify.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

_Static_assert(SCENARIO_ERRORS_MAX == SCENARIO_JSON_ERRORS_MAX, "one limit on the errors shown");

/* Hand-written scenarios are a few kilobytes; anything near this is a mistake. */
#define SCENARIO_MAX_BYTES (16u << 20)

static const char *const top_fields[] = {
    "name", "description", "target", "duration", "time_scale", "seed", "platform",
    "fleets", "steps", "expect",
};
static const char *const platform_fields[] = {"auth", "triples", "port", "idle_timeout", "procs", "tls", "verify",
                                              "rsa", "rsa_key", "reasm_timeout", "api"};
static const char *const rsa_modes[] = {"on", "encrypt", "off"};
static const char *const auth_modes[] = {"open", "one-party", "third-party"};
static const char *const verify_fields[] = {"url", "timeout", "events"};

void scenario_free(struct scenario *sc)
{
    if (sc == NULL)
        return;
    for (int i = 0; i < sc->n_steps && sc->steps != NULL; i++) {
        cJSON_Delete(sc->steps[i].body);
        scenario_api_free(sc->steps[i].api);
    }
    free(sc->steps);
    free(sc->expect);
    free(sc->cmd_paths);
    sc->cmd_paths = NULL;
    sc->n_cmd_paths = 0;
    for (int i = 0; i < sc->n_fleets; i++) {
        const struct sc_dialect *d = sc_dialect_of(&sc->fleets[i]);
        if (d && d->free && sc->fleets[i].cfg)
            d->free(sc->fleets[i].cfg);
        sc->fleets[i].cfg = NULL;
    }
    sc->n_fleets = 0;
    sc->steps = NULL;
    sc->expect = NULL;
    sc->n_steps = 0;
    sc->n_expect = 0;
}

int scenario_fleet_index(const struct scenario *sc, const char *id)
{
    if (sc == NULL || id == NULL)
        return -1;
    for (int i = 0; i < sc->n_fleets; i++)
        if (strcmp(sc->fleets[i].id, id) == 0)
            return i;
    return -1;
}

const struct fleet_spec *scenario_fleet(const struct scenario *sc, const char *id)
{
    int i = scenario_fleet_index(sc, id);
    return i < 0 ? NULL : &sc->fleets[i];
}

/* "tcp://host:port", "udp://host:port" or "tls://host:port", host a name, an IPv4 address or a
 * bracketed IPv6 address. */
bool scenario_target_ok(const char *t)
{
    const char *host, *colon, *port;
    size_t hlen;
    long n = 0;
    if (strncmp(t, "tcp://", 6) != 0 && strncmp(t, "udp://", 6) != 0 && strncmp(t, "tls://", 6) != 0)
        return false;
    host = t + 6;
    if (host[0] == '[') {
        const char *close = strchr(host, ']');
        if (close == NULL || close == host + 1 || close[1] != ':')
            return false;
        colon = close + 1;
    } else {
        colon = strrchr(host, ':');
        if (colon == NULL || colon == host)
            return false;
        hlen = (size_t)(colon - host);
        for (size_t i = 0; i < hlen; i++) {
            char c = host[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '-' || c == '_'))
                return false;
        }
    }
    port = colon + 1;
    if (port[0] == '\0' || strlen(port) > 5)
        return false;
    for (const char *c = port; *c; c++) {
        if (*c < '0' || *c > '9')
            return false;
        n = n * 10 + (*c - '0');
    }
    return n >= 1 && n <= 65535;
}

/* A relative path (triples, rsa_key) is relative to the scenario file, not to the cwd. */
static int scenario_resolve(const struct scenario_json *j, const char *scenario_path, const char *field,
                            const char *rel, char *out, size_t cap)
{
    const char *slash = scenario_path ? strrchr(scenario_path, '/') : NULL;
    int w;
    if (rel[0] == '/' || slash == NULL)
        w = snprintf(out, cap, "%s", rel);
    else
        w = snprintf(out, cap, "%.*s/%s", (int)(slash - scenario_path), scenario_path, rel);
    if (w < 0 || (size_t)w >= cap)
        return scenario_json_fail(j, field, "path too long (at most %zu bytes)", cap - 1);
    return SJ_OK;
}

/* "platform.verify": the third-party verification endpoint (seed 000). */
static int scenario_verify(const struct scenario_json *j, const cJSON *v, struct sc_platform *pf)
{
    int rc = SJ_OK, r;
    char got[64];
    if (scenario_json_want_object(j, v, "platform.verify") != SJ_OK)
        return SJ_ERR;
    SJ_TRY(rc, scenario_json_fields(j, v, "platform.verify", verify_fields, N_OF(verify_fields)));
    r = scenario_json_string(j, v, "platform.verify", "url", SJ_REQUIRED, true, pf->verify_url,
                             sizeof pf->verify_url);
    SJ_TRY(rc, r);
    if (r == SJ_OK && strncmp(pf->verify_url, "http://", 7) != 0 && strncmp(pf->verify_url, "https://", 8) != 0)
        rc = scenario_json_fail(j, "platform.verify.url", "'%s' is not an http:// or https:// URL",
                                pf->verify_url);
    r = scenario_json_duration_min_ms(j, v, "platform.verify", "timeout", SJ_OPTIONAL, 1000,
                                      &pf->verify_timeout_ms);
    SJ_TRY(rc, r);
    if (r == SJ_OK && pf->verify_timeout_ms > 600000) {
        scenario_json_got(scenario_json_get(v, "timeout"), got, sizeof got);
        rc = scenario_json_fail(j, "platform.verify.timeout", "must be at most 10m, got %s", got);
    }
    const cJSON *ev = scenario_json_get(v, "events");
    if (ev) {
        if (scenario_json_want_array(j, ev, "platform.verify.events") != SJ_OK)
            return SJ_ERR;
        unsigned mask = 0;
        int i = 0;
        for (const cJSON *e = ev->child; e; e = e->next, i++) {
            char path[64], err[128];
            unsigned bit = 0;
            scenario_json_index(path, sizeof path, "platform.verify.events", i);
            if (!cJSON_IsString(e) || strchr(e->valuestring, ',') ||
                jt808_verify_events_parse(e->valuestring, &bit, err, sizeof err) < 0 || !bit) {
                scenario_json_got(e, got, sizeof got);
                rc = scenario_json_fail(j, path, "must be \"register\", \"auth\" or \"unregister\", got %s", got);
                continue;
            }
            mask |= bit;
        }
        if (!mask && rc == SJ_OK)
            rc = scenario_json_fail(j, "platform.verify.events", "lists no action");
        pf->verify_events = mask;
    }
    return rc;
}

static int scenario_platform(const struct scenario_json *j, const cJSON *root, struct scenario *sc)
{
    struct sc_platform *pf = &sc->platform;
    const cJSON *v = scenario_json_get(root, "platform");
    char triples[256], got[64];
    long long n;
    int rc = SJ_OK, r;
    if (v == NULL)
        return SJ_OK;
    if (scenario_json_want_object(j, v, "platform") != SJ_OK)
        return SJ_ERR;
    SJ_TRY(rc, scenario_json_fields(j, v, "platform", platform_fields, N_OF(platform_fields)));
    r = scenario_json_enum(j, v, "platform", "auth", SJ_OPTIONAL, auth_modes, N_OF(auth_modes),
                           pf->auth, sizeof pf->auth);
    SJ_TRY(rc, r);
    bool auth_ok = r != SJ_ERR;
    r = scenario_json_string(j, v, "platform", "triples", SJ_OPTIONAL, true, triples,
                             sizeof triples);
    SJ_TRY(rc, r);
    if (r == SJ_OK)
        SJ_TRY(rc, scenario_resolve(j, sc->path, "platform.triples", triples, pf->triples, sizeof pf->triples));
    if (r == SJ_ABSENT && auth_ok && strcmp(pf->auth, "one-party") == 0 &&
        !scenario_json_hinted(j, v, "triples"))
        rc = scenario_json_fail(j, "platform.triples", "required when auth is \"one-party\"");
    r = scenario_json_int(j, v, "platform", "port", SJ_OPTIONAL, 0, 65535, &n);
    SJ_TRY(rc, r);
    if (r == SJ_OK) {
        if (n != 0 && n < 1024) {
            scenario_json_got(scenario_json_get(v, "port"), got, sizeof got);
            rc = scenario_json_fail(j, "platform.port",
                                    "must be 0 (any free port) or 1024..65535, got %s", got);
        }
        pf->port = (uint16_t)n;
    }
    SJ_TRY(rc, scenario_json_duration_min_ms(j, v, "platform", "idle_timeout", SJ_OPTIONAL, 1,
                                             &pf->idle_timeout_ms));
    SJ_TRY(rc, scenario_json_duration_min_ms(j, v, "platform", "reasm_timeout", SJ_OPTIONAL, 1,
                                             &pf->reasm_timeout_ms));
    r = scenario_json_int(j, v, "platform", "procs", SJ_OPTIONAL, 1, 16, &n);
    SJ_TRY(rc, r);
    if (r == SJ_OK)
        pf->procs = (int)n;
    SJ_TRY(rc, scenario_json_enum(j, v, "platform", "rsa", SJ_OPTIONAL, rsa_modes, N_OF(rsa_modes), pf->rsa,
                                  sizeof pf->rsa));
    char rsa_key[256];
    r = scenario_json_string(j, v, "platform", "rsa_key", SJ_OPTIONAL, true, rsa_key, sizeof rsa_key);
    SJ_TRY(rc, r);
    if (r == SJ_OK) {
        SJ_TRY(rc, scenario_resolve(j, sc->path, "platform.rsa_key", rsa_key, pf->rsa_key, sizeof pf->rsa_key));
        if (strcmp(pf->rsa, "off") == 0)
            rc = scenario_json_fail(j, "platform.rsa_key", "a key with rsa \"off\": leave one of them out");
    }
    const cJSON *api = scenario_json_get(v, "api");
    if (api && !cJSON_IsBool(api)) {
        scenario_json_got(api, got, sizeof got);
        rc = scenario_json_fail(j, "platform.api", "expected true or false, got %s", got);
    }
    pf->api = cJSON_IsTrue(api);
    const cJSON *tls = scenario_json_get(v, "tls");
    if (tls)
        SJ_TRY(rc, scenario_tls_parse(j, tls, "platform.tls", 1, sc->path, &pf->tls));
    const cJSON *verify = scenario_json_get(v, "verify");
    if (verify)
        SJ_TRY(rc, scenario_verify(j, verify, pf));
    if (auth_ok && strcmp(pf->auth, "third-party") == 0 && !verify && !scenario_json_hinted(j, v, "verify"))
        rc = scenario_json_fail(j, "platform.verify", "required when auth is \"third-party\"");
    if (auth_ok && verify && strcmp(pf->auth, "third-party") != 0)
        rc = scenario_json_fail(j, "platform.verify", "only with auth \"third-party\", auth is \"%s\"",
                                pf->auth[0] ? pf->auth : "open");
    return rc;
}

static int scenario_top(const struct scenario_json *j, const cJSON *root, struct scenario *sc)
{
    char got[64];
    long long seed;
    int rc = SJ_OK, r;
    bool target_ok = true;
    SJ_TRY(rc, scenario_json_string(j, root, "", "name", SJ_REQUIRED, true, sc->name,
                                    sizeof sc->name));
    SJ_TRY(rc, scenario_json_string(j, root, "", "description", SJ_OPTIONAL, false,
                                    sc->description, sizeof sc->description));
    r = scenario_json_string(j, root, "", "target", SJ_OPTIONAL, true, sc->target,
                             sizeof sc->target);
    SJ_TRY(rc, r);
    if (r == SJ_ERR) {
        target_ok = false;
    } else if (strcmp(sc->target, "embedded") != 0 && !scenario_target_ok(sc->target)) {
        scenario_json_got(scenario_json_get(root, "target"), got, sizeof got);
        rc = scenario_json_fail(j, "target", "expected \"embedded\", \"tcp://host:port\" or \"tls://host:port\", got %s",
                                got);
        target_ok = false;
    }
    /* 0 (the value when it fails) tells the steps not to compare against it */
    SJ_TRY(rc, scenario_json_duration_min_ms(j, root, "", "duration", SJ_REQUIRED, 1,
                                             &sc->duration_ms));
    r = scenario_json_number(j, root, "", "time_scale", SJ_OPTIONAL, &sc->time_scale);
    SJ_TRY(rc, r);
    if (r == SJ_OK && sc->time_scale <= 0) {
        scenario_json_got(scenario_json_get(root, "time_scale"), got, sizeof got);
        rc = scenario_json_fail(j, "time_scale", "must be above 0, got %s", got);
    } else if (r == SJ_OK && target_ok && sc->time_scale != 1 &&
               strcmp(sc->target, "embedded") != 0) {
        /* a third-party platform runs on its own clock */
        rc = scenario_json_fail(j, "time_scale", "must be 1 against a third-party target (%s)",
                                sc->target);
    }
    r = scenario_json_int(j, root, "", "seed", SJ_OPTIONAL, 0, UINT32_MAX, &seed);
    SJ_TRY(rc, r);
    if (r == SJ_OK)
        sc->seed = (uint32_t)seed;
    return rc;
}

static void scenario_defaults(struct scenario *sc)
{
    snprintf(sc->target, sizeof sc->target, "embedded");
    sc->time_scale = 1.0;
    sc->seed = 1;
    snprintf(sc->platform.auth, sizeof sc->platform.auth, "open");
    sc->platform.port = 0;
    sc->platform.idle_timeout_ms = 180000;
    sc->platform.reasm_timeout_ms = 30000;
    sc->platform.procs = 1;
}

/* What is allowed but is probably not what was meant: one line each in sc->warning. */
static void scenario_warnings(struct scenario *sc)
{
    const char *file = sc->path[0] ? sc->path : "<scenario>";
    sc->warning[0] = '\0';
    if (sc->n_expect == 0 && sc->n_cmd_paths == 0)
        snprintf(sc->warning, sizeof sc->warning,
                 "%s: warning: no expectations: the run checks nothing and passes whatever happens",
                 file);
}

/* "file:line:col: JSON syntax error near '...'" for the position cJSON stopped at. */
static int scenario_syntax_error(const struct scenario_json *j, const char *text, const char *at)
{
    size_t line = 1, col = 1, n = 0;
    char near[40];
    const char *p = text;
    if (at == NULL || at < text || at > text + strlen(text))
        at = text;
    /* a byte-order mark is not a column */
    if ((unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB && (unsigned char)p[2] == 0xBF &&
        at >= text + 3)
        p += 3;
    for (; p < at; p++) {
        if (*p == '\n') {
            line++;
            col = 1;
        } else if (((unsigned char)*p & 0xC0) != 0x80) {
            col++;
        }
    }
    if (*at == '\0') {
        snprintf(j->err, j->errcap, "%s:%zu:%zu: JSON syntax error at end of input", j->file,
                 line, col);
        return SJ_ERR;
    }
    for (p = at; *p != '\0' && *p != '\n' && *p != '\r' && n < 12; p++)
        near[n++] = ((unsigned char)*p < 0x20) ? ' ' : *p;
    if (((unsigned char)*p & 0xC0) == 0x80) {
        /* do not cut a UTF-8 character in half */
        while (n > 0 && ((unsigned char)near[n - 1] & 0xC0) == 0x80)
            n--;
        if (n > 0)
            n--;
    }
    near[n] = '\0';
    snprintf(j->err, j->errcap, "%s:%zu:%zu: JSON syntax error near '%s'", j->file, line, col,
             near);
    return SJ_ERR;
}

int scenario_parse(const char *text, const char *path, struct scenario *sc, char *err,
                   size_t errcap)
{
    struct scenario_json j = {path ? path : "<scenario>", err, errcap};
    struct scenario_json_errors errs;
    const char *end = NULL, *p;
    cJSON *root;
    char got[64];
    int rc = SJ_ERR;
    if (errcap > 0 && err != NULL)
        err[0] = '\0';
    if (sc == NULL)
        return scenario_json_fail(&j, "", "no scenario to fill");
    memset(sc, 0, sizeof *sc);
    if (path != NULL)
        snprintf(sc->path, sizeof sc->path, "%s", path);
    scenario_defaults(sc);
    if (text == NULL)
        return scenario_json_fail(&j, "", "no text");
    for (p = text; *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'; p++)
        ;
    if (*p == '\0')
        return scenario_json_fail(&j, "", "empty file (expected a JSON object)");
    root = cJSON_ParseWithOpts(text, &end, 1);
    if (root == NULL)
        return scenario_syntax_error(&j, text, end);
    if (!cJSON_IsObject(root)) {
        scenario_json_got(root, got, sizeof got);
        scenario_json_fail(&j, "", "expected a JSON object at the top level, got %s", got);
        goto done;
    }
    /* every section is read even after an error, so one pass shows every mistake;
     * later sections skip the checks an earlier error makes meaningless */
    scenario_json_collect(&j, &errs);
    rc = SJ_OK;
    SJ_TRY(rc, scenario_json_fields(&j, root, "", top_fields, N_OF(top_fields)));
    SJ_TRY(rc, scenario_top(&j, root, sc));
    SJ_TRY(rc, scenario_platform(&j, root, sc));
    SJ_TRY(rc, scenario_fleets_parse(&j, root, sc));
    SJ_TRY(rc, scenario_steps_parse(&j, cJSON_GetObjectItemCaseSensitive(root, "steps"), sc));
    SJ_TRY(rc, scenario_expect_parse(&j, scenario_json_get(root, "expect"), sc));
    SJ_TRY(rc, scenario_api_check(&j, sc));
    if (rc != SJ_OK && scenario_json_errors(&j) == 0)
        scenario_json_fail(&j, "", "not a valid scenario");
    if (scenario_json_errors(&j) > 0)
        rc = SJ_ERR;
    scenario_json_finish(&j);
    scenario_json_collect(&j, NULL);
    if (rc == SJ_OK)
        scenario_warnings(sc);
done:
    cJSON_Delete(root);
    if (rc != SJ_OK)
        scenario_free(sc);
    return rc == SJ_OK ? 0 : -1;
}

/* The whole file as a NUL-terminated string, or NULL with the reason in err. */
static char *scenario_read(const struct scenario_json *j, const char *path)
{
    char *buf;
    size_t len;
    int rc = textfile_read(path, SCENARIO_MAX_BYTES, &buf, &len);
    if (rc == EFBIG) {
        scenario_json_fail(j, "", "too large (a scenario file is at most %u bytes)", SCENARIO_MAX_BYTES);
        return NULL;
    }
    if (rc) {
        scenario_json_fail(j, "", "%s", rc == ENOMEM ? "out of memory" : strerror(rc));
        return NULL;
    }
    if (strlen(buf) != len) {
        scenario_json_fail(j, "", "contains a NUL byte at offset %zu (not a text file?)",
                           strlen(buf));
        free(buf);
        return NULL;
    }
    return buf;
}

char *scenario_read_text(const char *path, char *err, size_t errcap)
{
    struct scenario_json j = {path, err, errcap};
    return scenario_read(&j, path);
}

int scenario_load(const char *path, struct scenario *sc, char *err, size_t errcap)
{
    struct scenario_json j = {path ? path : "<scenario>", err, errcap};
    char *text;
    int rc;
    if (sc != NULL)
        memset(sc, 0, sizeof *sc);
    if (path == NULL)
        return scenario_json_fail(&j, "", "no path given");
    text = scenario_read(&j, path);
    if (text == NULL)
        return -1;
    rc = scenario_parse(text, path, sc, err, errcap);
    free(text);
    if (rc == 0 && sc->warning[0])
        fprintf(stderr, "%s\n", sc->warning);
    return rc;
}
