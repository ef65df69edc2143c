/* The api steps of a run (run_api.h): the calls in step order on the run's loop,
 * each judged when its answer comes, the values it captures kept for the calls
 * after it. */
#include "harness/run_api.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness/api_client.h"
#include "harness/run_internal.h"
#include "sim/core/clock.h"
#include "sim/platform/north/north_auth.h"
#include "sim/net/transport.h"

#define ANSWER_KEEP 4096           /* bytes of an answer kept for the evidence */
#define PATH_MAX_FILLED 2048
#define BODY_MAX_FILLED (64 * 1024)
#define MAX_VALUES 256             /* values captured in one run */

enum call_state { CALL_IDLE = 0, CALL_DUE, CALL_OUT, CALL_DONE };

struct call {
    enum call_state state;
    enum verdict verdict;
    char expected[256], observed[256];
    char *path, *body, *answer;    /* as sent, as answered (cut): owned */
    long status;
    double at_s;                   /* virtual time it went, from the start */
    double ms;                     /* wall clock to its answer */
    int step;
    struct run_api *ra;
};

struct run_api {
    struct run *r;
    struct api_client *client;
    char base[600];
    char app[NORTH_APP_ID_MAX], secret[NORTH_SECRET_MAX];
    const char *ca;
    bool embedded;                 /* the core's API */
    struct call *calls;            /* one per step (only api steps used) */
    int n_values;
    char names[MAX_VALUES][SC_API_NAME_MAX];
    char *vals[MAX_VALUES];
    int val_step[MAX_VALUES];      /* the step that captured it */
    bool final_started;
    struct path_check *paths;      /* one per command_path expectation */
};

/* A command_path expectation's query and verdict. */
struct path_check {
    struct run_api *ra;
    bool out;
    enum verdict verdict;
    char observed[256];
    char query[600];
    char *answer;
};

static struct north_auth run_apps; /* platform.api: the run's application, in memory the core inherits */

int run_api_check(struct run *r, char *err, size_t errcap)
{
    const struct run_opts *o = r->o;
    int first = scenario_api_first(&r->sc);
    if ((o->api_app || o->api_ca) && !o->target_api) {
        snprintf(err, errcap, "--api-app and --api-ca go with --target-api URL");
        return -1;
    }
    if (o->target_api) {
        if (strncmp(o->target_api, "http://", 7) != 0 && strncmp(o->target_api, "https://", 8) != 0) {
            snprintf(err, errcap, "--target-api '%s': expected an http:// or https:// URL", o->target_api);
            return -1;
        }
        if (!o->api_app) {
            snprintf(err, errcap, "--target-api needs the application to log in as: --api-app ID:SECRET");
            return -1;
        }
        struct north_auth tmp = {0};
        char why[200];
        if (north_auth_add_spec(&tmp, o->api_app, why, sizeof why) < 0) {
            snprintf(err, errcap, "--api-app: %s", why);
            return -1;
        }
        if (o->api_ca && strncmp(o->target_api, "https://", 8) != 0) {
            snprintf(err, errcap, "--api-ca is for an https:// --target-api");
            return -1;
        }
        if (o->api_ca && access(o->api_ca, R_OK) < 0) {
            snprintf(err, errcap, "--api-ca %s: cannot read it", o->api_ca);
            return -1;
        }
        return 0;
    }
    if (r->sc.platform.api && r->embedded && !r->fe) {
        snprintf(err, errcap, "%s: platform.api: no fleet runs on the embedded platform (each has a target of its "
                 "own): give --target-api URL --api-app ID:SECRET for their platform's API", r->scen_name);
        return -1;
    }
    if (r->sc.platform.api && !r->embedded) {
        snprintf(err, errcap, "%s: platform.api: the embedded platform's API, and the target is %s: give "
                 "--target-api URL --api-app ID:SECRET for its API", r->scen_name, r->target_text[0] ? r->target_text
                 : "elsewhere");
        return -1;
    }
    if (first >= 0 && !r->sc.platform.api) {
        snprintf(err, errcap, "%s: steps[%d].api: no API: set platform.api or --target-api", r->scen_name, first);
        return -1;
    }
    return 0;
}

static struct run_api *api_of(struct run *r)
{
    if (!r->api) {
        r->api = calloc(1, sizeof *r->api);
        if (r->api)
            r->api->r = r;
    }
    return r->api;
}

int run_api_prepare(struct run *r, char *err, size_t errcap)
{
    if (!r->sc.platform.api || r->o->target_api || !r->fe)
        return 0;
    struct run_api *ra = api_of(r);
    uint16_t port = transport_free_port();
    if (!ra || !port) {
        snprintf(err, errcap, "platform.api: %s", ra ? "no free loopback port for the API" : "out of memory");
        return -1;
    }
    /* an application of the run's own: a secret nobody else knows */
    uint8_t b[12] = {0};
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || read(fd, b, sizeof b) != (ssize_t)sizeof b) {
        for (size_t i = 0; i < sizeof b; i++)
            b[i] = (uint8_t)(rand() ^ getpid());
    }
    if (fd >= 0)
        close(fd);
    snprintf(ra->app, sizeof ra->app, "fleetsim-run");
    for (size_t i = 0; i < sizeof b; i++)
        snprintf(ra->secret + 2 * i, sizeof ra->secret - 2 * i, "%02x", b[i]);
    memset(&run_apps, 0, sizeof run_apps);
    if (north_auth_add(&run_apps, ra->app, ra->secret, err, errcap) < 0)
        return -1;
    snprintf(r->core_cfg.api, sizeof r->core_cfg.api, "127.0.0.1:%u", port);
    r->core_cfg.api_apps = &run_apps;
    snprintf(ra->base, sizeof ra->base, "http://127.0.0.1:%u", port);
    ra->embedded = true;
    return 0;
}

int run_api_start(struct run *r, char *err, size_t errcap)
{
    if (scenario_api_first(&r->sc) < 0)
        return 0;
    struct run_api *ra = api_of(r);
    if (!ra) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    if (r->o->target_api) {
        const char *colon = strchr(r->o->api_app, ':');
        snprintf(ra->base, sizeof ra->base, "%s", r->o->target_api);
        snprintf(ra->app, sizeof ra->app, "%.*s", (int)(colon - r->o->api_app), r->o->api_app);
        snprintf(ra->secret, sizeof ra->secret, "%s", colon + 1);
        ra->ca = r->o->api_ca;
    }
    ra->calls = calloc((size_t)r->sc.n_steps, sizeof *ra->calls);
    if (!ra->calls) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    struct api_client_opts co = {.base = ra->base, .app_id = ra->app, .secret = ra->secret, .ca_file = ra->ca};
    char why[200];
    ra->client = api_client_new(r->loop, &co, why, sizeof why);
    if (!ra->client) {
        snprintf(err, errcap, "the API client: %s", why);
        return -1;
    }
    return 0;
}

/* --- a call ------------------------------------------------------------------------- */

static int fill(struct run_api *ra, const char *tpl, char *out, size_t cap, char *why, size_t whycap)
{
    return scenario_api_subst(&ra->r->sc, tpl, (const char (*)[SC_API_NAME_MAX])ra->names,
                              (const char *const *)ra->vals, ra->n_values, out, cap, why, whycap);
}

/* Every string of v filled in place; 0, or -1 with why. */
static int fill_tree(struct run_api *ra, cJSON *v, char *why, size_t whycap)
{
    if (cJSON_IsString(v) && strstr(v->valuestring, "${")) {
        static char buf[BODY_MAX_FILLED];
        if (fill(ra, v->valuestring, buf, sizeof buf, why, whycap) < 0)
            return -1;
        if (!cJSON_SetValuestring(v, buf)) {
            snprintf(why, whycap, "out of memory");
            return -1;
        }
        return 0;
    }
    for (cJSON *c = v->child; c; c = c->next)
        if (fill_tree(ra, c, why, whycap) < 0)
            return -1;
    return 0;
}

static void keep_value(struct run_api *ra, const char *name, const char *val, int step)
{
    for (int i = 0; i < ra->n_values; i++)
        if (strcmp(ra->names[i], name) == 0) {
            char *d = strdup(val);
            if (d) {
                free(ra->vals[i]);
                ra->vals[i] = d; /* a later capture of the same name wins */
                ra->val_step[i] = step;
            }
            return;
        }
    if (ra->n_values >= MAX_VALUES)
        return;
    char *d = strdup(val);
    if (!d)
        return;
    snprintf(ra->names[ra->n_values], SC_API_NAME_MAX, "%s", name);
    ra->val_step[ra->n_values] = step;
    ra->vals[ra->n_values++] = d;
}

static void pump(struct run_api *ra);

static void call_done(void *arg, const struct api_answer *a)
{
    struct call *c = arg;
    struct run_api *ra = c->ra;
    const struct sc_api *s = ra->r->sc.steps[c->step].api;
    c->status = a->status;
    c->ms = (double)a->elapsed_us / 1000.0;
    c->state = CALL_DONE;
    size_t n = a->len < ANSWER_KEEP ? a->len : ANSWER_KEEP;
    c->answer = malloc(n + 1);
    if (c->answer) {
        memcpy(c->answer, a->body, n);
        c->answer[n] = '\0';
    }
    const char *body = c->answer ? c->answer : "";
    switch (a->outcome) {
    case API_OK: {
        bool ok = s->expect_status ? a->status == s->expect_status : a->status >= 200 && a->status <= 299;
        if (!ok) {
            c->verdict = VERDICT_FAIL;
            snprintf(c->observed, sizeof c->observed, "HTTP %ld: %s", a->status, body);
            break;
        }
        c->verdict = VERDICT_PASS;
        snprintf(c->observed, sizeof c->observed, "HTTP %ld", a->status);
        for (int k = 0; k < s->n_capture; k++) {
            const cJSON *v = api_json_at(a->json, s->capture_path[k]);
            char text[1024];
            if (!v || !api_json_text(v, text, sizeof text)) {
                c->verdict = VERDICT_FAIL;
                snprintf(c->observed, sizeof c->observed, "HTTP %ld without %s%s: %s", a->status, s->capture_path[k],
                         v ? " (over 1 KiB)" : "", body);
                break;
            }
            keep_value(ra, s->capture_name[k], text, c->step);
            size_t l = strlen(c->observed);
            snprintf(c->observed + l, sizeof c->observed - l, ", %s=%s", s->capture_name[k], text);
        }
        break;
    }
    case API_TIMEOUT:
        c->verdict = VERDICT_FAIL;
        snprintf(c->observed, sizeof c->observed, "no answer: %s", a->err);
        break;
    case API_LOGIN:
        c->verdict = VERDICT_ERROR;
        snprintf(c->observed, sizeof c->observed, "%s: %s", a->err, body);
        break;
    case API_CANCELLED:
        c->verdict = VERDICT_ERROR;
        snprintf(c->observed, sizeof c->observed, "the run ended before the answer");
        break;
    default:
        c->verdict = VERDICT_ERROR;
        snprintf(c->observed, sizeof c->observed, "the API could not be reached: %s", a->err);
        break;
    }
    if (c->verdict != VERDICT_PASS && !s->id[0])
        fprintf(stderr, "fleetsim run: steps[%d].api: %s %s: %s (a step without an id: no verdict)\n", s->index,
                s->method, c->path ? c->path : s->path, c->observed);
    if (a->outcome == API_CANCELLED)
        return; /* the client is going away */
    pump(ra);
    if (!run_api_busy(ra->r))
        run_api_settled(ra->r);
}

static void start(struct run_api *ra, struct call *c)
{
    const struct sc_api *s = ra->r->sc.steps[c->step].api;
    static char path[PATH_MAX_FILLED];
    char why[200];
    c->at_s = (double)(clock_now_us() - ra->r->start_us) / 1e6;
    if (fill(ra, s->path, path, sizeof path, why, sizeof why) < 0) {
        c->state = CALL_DONE;
        c->verdict = VERDICT_INCONCLUSIVE;
        snprintf(c->observed, sizeof c->observed, "not made: path: %s (a call before did not capture it)", why);
        return;
    }
    c->path = strdup(path);
    if (s->body) {
        cJSON *b = cJSON_Duplicate(s->body, 1);
        if (!b || fill_tree(ra, b, why, sizeof why) < 0) {
            cJSON_Delete(b);
            c->state = CALL_DONE;
            c->verdict = VERDICT_INCONCLUSIVE;
            snprintf(c->observed, sizeof c->observed, "not made: body: %s (a call before did not capture it)",
                     b ? why : "out of memory");
            return;
        }
        c->body = cJSON_PrintUnformatted(b);
        cJSON_Delete(b);
    }
    c->state = CALL_OUT;
    if (api_client_call(ra->client, s->method, path, c->body, call_done, c, why, sizeof why) < 0) {
        c->state = CALL_DONE;
        c->verdict = VERDICT_ERROR;
        snprintf(c->observed, sizeof c->observed, "not made: %s", why);
    }
}

/* The next call due, when none is out: calls go one at a time, in step order. */
static void pump(struct run_api *ra)
{
    for (;;) {
        struct call *next = NULL;
        for (int i = 0; i < ra->r->sc.n_steps; i++) {
            if (ra->calls[i].state == CALL_OUT)
                return;
            if (ra->calls[i].state == CALL_DUE && !next)
                next = &ra->calls[i];
        }
        if (!next)
            return;
        start(ra, next);
        if (next->state == CALL_OUT)
            return;
    }
}

void run_api_step(struct run *r, int i)
{
    struct run_api *ra = r->api;
    if (!ra || !ra->calls || !r->sc.steps[i].api)
        return;
    struct call *c = &ra->calls[i];
    c->ra = ra;
    c->step = i;
    if (r->shards > 1 && r->shard != 1) {
        /* a call is the application's, not a terminal's: one shard makes it, not each */
        c->state = CALL_DONE;
        c->verdict = VERDICT_INCONCLUSIVE;
        snprintf(c->observed, sizeof c->observed, "not made: shard 1 of %u makes the api calls", r->shards);
        return;
    }
    c->state = CALL_DUE;
    pump(ra);
}

/* --- command_path: the commands' transitions at the end ------------------------------- */

static void path_done(void *arg, const struct api_answer *a)
{
    struct path_check *pc = arg;
    struct run_api *ra = pc->ra;
    int i = (int)(pc - ra->paths);
    const struct sc_cmd_path *e = &ra->r->sc.cmd_paths[i];
    pc->out = false;
    pc->answer = strndup(a->body, ANSWER_KEEP);
    const char *cid = NULL;
    for (int k = 0; k < ra->n_values; k++)
        if (strcmp(ra->names[k], e->capture) == 0)
            cid = ra->vals[k];
    if (a->outcome == API_OK && a->status == 200) {
        pc->verdict = (enum verdict)scenario_cmd_path_judge(e, cid ? cid : "", a->json, pc->observed,
                                                            sizeof pc->observed);
    } else if (a->outcome == API_OK) {
        pc->verdict = VERDICT_FAIL;
        snprintf(pc->observed, sizeof pc->observed, "GET deviceCommands answered HTTP %ld: %s", a->status, a->body);
    } else {
        pc->verdict = a->outcome == API_TIMEOUT ? VERDICT_FAIL : VERDICT_ERROR;
        snprintf(pc->observed, sizeof pc->observed, "GET deviceCommands: %s", a->err);
    }
    if (a->outcome != API_CANCELLED && !run_api_final(ra->r))
        run_api_settled(ra->r);
}

/* The device a captured command is for: deviceId in the answer that captured it, else in its body. */
static bool command_device(struct run_api *ra, int step, char *out, size_t cap)
{
    const struct call *c = &ra->calls[step];
    const char *texts[] = {c->answer, c->body};
    for (size_t t = 0; t < 2; t++) {
        cJSON *j = texts[t] ? cJSON_Parse(texts[t]) : NULL;
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "deviceId");
        bool ok = cJSON_IsString(d) && d->valuestring[0] && strlen(d->valuestring) < cap;
        if (ok)
            snprintf(out, cap, "%s", d->valuestring);
        cJSON_Delete(j);
        if (ok)
            return true;
    }
    return false;
}

bool run_api_final(struct run *r)
{
    struct run_api *ra = r->api;
    if (!ra || !ra->client || r->sc.n_cmd_paths == 0)
        return false;
    if (!ra->final_started) {
        ra->final_started = true;
        ra->paths = calloc((size_t)r->sc.n_cmd_paths, sizeof *ra->paths);
        for (int i = 0; ra->paths && i < r->sc.n_cmd_paths; i++) {
            struct path_check *pc = &ra->paths[i];
            const struct sc_cmd_path *e = &r->sc.cmd_paths[i];
            pc->ra = ra;
            pc->verdict = VERDICT_INCONCLUSIVE;
            int k = 0;
            while (k < ra->n_values && strcmp(ra->names[k], e->capture) != 0)
                k++;
            char dev[256], why[200];
            if (k == ra->n_values) {
                snprintf(pc->observed, sizeof pc->observed, "not judged: ${%s} was not captured (its call failed)",
                         e->capture);
                continue;
            }
            if (!command_device(ra, ra->val_step[k], dev, sizeof dev)) {
                snprintf(pc->observed, sizeof pc->observed, "not judged: no deviceId in the call that captured ${%s}",
                         e->capture);
                continue;
            }
            /* the id as a query value: what is not unreserved, %XX */
            size_t o = (size_t)snprintf(pc->query, sizeof pc->query, "/iocm/app/cmd/v1.4.0/deviceCommands?deviceId=");
            for (const unsigned char *p = (const unsigned char *)dev; *p && o + 4 < sizeof pc->query; p++)
                o += (size_t)(isalnum(*p) || strchr("-._~", *p) ? snprintf(pc->query + o, sizeof pc->query - o, "%c", *p)
                                                                : snprintf(pc->query + o, sizeof pc->query - o, "%%%02X", *p));
            pc->out = true;
            if (api_client_call(ra->client, "GET", pc->query, NULL, path_done, pc, why, sizeof why) < 0) {
                pc->out = false;
                pc->verdict = VERDICT_ERROR;
                snprintf(pc->observed, sizeof pc->observed, "not judged: %s", why);
            }
        }
    }
    for (int i = 0; ra->paths && i < r->sc.n_cmd_paths; i++)
        if (ra->paths[i].out)
            return true;
    return false;
}

bool run_api_busy(const struct run *r)
{
    const struct run_api *ra = r->api;
    for (int i = 0; ra && ra->calls && i < r->sc.n_steps; i++)
        if (ra->calls[i].state == CALL_DUE || ra->calls[i].state == CALL_OUT)
            return true;
    return false;
}

/* --- the report --------------------------------------------------------------------- */

void run_api_report(struct run *r, struct run_report *rep)
{
    struct run_api *ra = r->api;
    if (!ra || !ra->calls)
        return;
    api_client_free(ra->client); /* a call still out ends: the run is over */
    ra->client = NULL;
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < r->sc.n_steps; i++) {
        const struct sc_api *s = r->sc.steps[i].api;
        struct call *c = &ra->calls[i];
        if (!s)
            continue;
        if (c->state == CALL_DUE || c->state == CALL_IDLE) {
            c->verdict = c->state == CALL_DUE ? VERDICT_ERROR : VERDICT_INCONCLUSIVE;
            snprintf(c->observed, sizeof c->observed, "%s", c->state == CALL_DUE ? "not made: the run ended first"
                                                                               : "not made: the run stopped before its time");
        }
        if (s->expect_status)
            snprintf(c->expected, sizeof c->expected, "HTTP %d", s->expect_status);
        else
            snprintf(c->expected, sizeof c->expected, "HTTP 2xx");
        for (int k = 0; k < s->n_capture; k++) {
            size_t l = strlen(c->expected);
            snprintf(c->expected + l, sizeof c->expected - l, "%s%s", k ? ", " : " with ", s->capture_path[k]);
        }
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "step", s->index);
        if (s->id[0])
            cJSON_AddStringToObject(o, "id", s->id);
        cJSON_AddNumberToObject(o, "at_s", c->at_s);
        cJSON_AddStringToObject(o, "method", s->method);
        cJSON_AddStringToObject(o, "path", c->path ? c->path : s->path);
        if (c->body)
            cJSON_AddStringToObject(o, "body", c->body);
        cJSON_AddNumberToObject(o, "status", (double)c->status);
        cJSON_AddStringToObject(o, "expected", c->expected);
        cJSON_AddStringToObject(o, "verdict", verdict_name(c->verdict));
        cJSON_AddStringToObject(o, "observed", c->observed);
        cJSON_AddNumberToObject(o, "ms", c->ms);
        if (c->answer)
            cJSON_AddStringToObject(o, "answer", c->answer);
        cJSON_AddItemToArray(arr, o);
        if (!s->id[0])
            continue;
        struct case_result cr = {0};
        snprintf(cr.id, sizeof cr.id, "%s", s->id);
        snprintf(cr.area, sizeof cr.area, "api");
        snprintf(cr.desc, sizeof cr.desc, "%s %s answers %s", s->method, s->path, c->expected);
        cr.verdict = c->verdict;
        snprintf(cr.expected, sizeof cr.expected, "%s", c->expected);
        snprintf(cr.observed, sizeof cr.observed, "%s", c->observed);
        cr.duration_s = c->ms / 1000.0;
        /* the evidence: the request and the whole (kept) answer */
        size_t cap = 256 + (c->path ? strlen(c->path) : 0) + (c->body ? strlen(c->body) : 0) +
                     (c->answer ? strlen(c->answer) : 0) + strlen(ra->base);
        cr.wire_log = malloc(cap);
        if (cr.wire_log)
            snprintf(cr.wire_log, cap, "> %s %s%s\n%s%s%s< HTTP %ld (%.1f ms)\n%s%s", s->method, ra->base,
                     c->path ? c->path : s->path, c->body ? "> " : "", c->body ? c->body : "", c->body ? "\n" : "",
                     c->status, c->ms, c->answer ? c->answer : "", c->answer && c->answer[0] ? "\n" : "");
        report_add_case(rep, &cr);
        free(cr.wire_log);
    }
    for (int i = 0; i < r->sc.n_cmd_paths; i++) {
        const struct sc_cmd_path *e = &r->sc.cmd_paths[i];
        const struct path_check *pc = ra->paths ? &ra->paths[i] : NULL;
        struct case_result cr = {0};
        snprintf(cr.id, sizeof cr.id, "%s", e->id);
        snprintf(cr.area, sizeof cr.area, "%s", e->area);
        snprintf(cr.desc, sizeof cr.desc, "%s", e->desc);
        size_t l = 0;
        for (int k = 0; k < e->n_states; k++)
            l += (size_t)snprintf(cr.expected + l, l < sizeof cr.expected ? sizeof cr.expected - l : 0, "%s%s",
                                  k ? " -> " : "", e->states[k]);
        cr.verdict = pc ? pc->verdict : VERDICT_INCONCLUSIVE;
        snprintf(cr.observed, sizeof cr.observed, "%s", pc && pc->observed[0] ? pc->observed
                                                        : "not judged: the run stopped before its end");
        if (pc && pc->query[0]) {
            size_t cap = strlen(pc->query) + strlen(ra->base) + (pc->answer ? strlen(pc->answer) : 0) + 64;
            cr.wire_log = malloc(cap);
            if (cr.wire_log)
                snprintf(cr.wire_log, cap, "> GET %s%s\n< %s\n", ra->base, pc->query, pc->answer ? pc->answer : "");
        }
        report_add_case(rep, &cr);
        free(cr.wire_log);
    }
    cJSON_AddItemToObject(rep->metrics, "api_calls", arr);
}

void run_api_free(struct run *r)
{
    struct run_api *ra = r->api;
    if (!ra)
        return;
    api_client_free(ra->client);
    for (int i = 0; ra->calls && i < r->sc.n_steps; i++) {
        free(ra->calls[i].path);
        cJSON_free(ra->calls[i].body);
        free(ra->calls[i].answer);
    }
    free(ra->calls);
    for (int i = 0; ra->paths && i < r->sc.n_cmd_paths; i++)
        free(ra->paths[i].answer);
    free(ra->paths);
    for (int i = 0; i < ra->n_values; i++)
        free(ra->vals[i]);
    free(ra);
    r->api = NULL;
}
