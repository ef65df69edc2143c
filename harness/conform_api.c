/* The northbound API in `fleetsim conform`: the target's (--target-api with
 * --api-app, or the embedded platform served with --api when a chosen case needs
 * northbound-api), and the api step of an exchange case: a call with its ${name}s
 * filled, its status checked, its captures bound for the steps after it, the
 * request and the answer in the case's wire log. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/api_client.h"
#include "harness/conform_exchange.h"
#include "harness/conform_runner.h"
#include "harness/scenario.h"
#include "sim/platform/north/north_auth.h"

#define LOG_ANSWER 2000            /* bytes of an answer in the wire log */

/* The target's capabilities and northbound-api (a copy: the runner's lists are constant). */
static void add_cap(struct conform_target *t)
{
    static const char *caps[16];
    for (size_t i = 0; i < t->n_caps; i++)
        if (strcmp(t->caps[i], "northbound-api") == 0)
            return;
    size_t n = 0;
    for (; n < t->n_caps && n < 15; n++)
        caps[n] = t->caps[n];
    caps[n++] = "northbound-api";
    t->caps = caps;
    t->n_caps = n;
}

int conform_api_target(const struct conform_opts *o, struct conform_target *t)
{
    if ((o->api_app || o->api_ca) && !o->target_api) {
        fprintf(stderr, "fleetsim conform: --api-app and --api-ca go with --target-api URL\n");
        return -1;
    }
    if (!o->target_api)
        return 0;
    if (t->embedded || o->terminal) {
        fprintf(stderr, "fleetsim conform: --target-api is the API of a --target platform (the embedded one serves "
                "its own)\n");
        return -1;
    }
    if (strncmp(o->target_api, "http://", 7) != 0 && strncmp(o->target_api, "https://", 8) != 0) {
        fprintf(stderr, "fleetsim conform: --target-api '%s': expected an http:// or https:// URL\n", o->target_api);
        return -1;
    }
    if (strlen(o->target_api) >= sizeof t->api_base) {
        fprintf(stderr, "fleetsim conform: --target-api: longer than %zu bytes\n", sizeof t->api_base - 1);
        return -1;
    }
    if (!o->api_app) {
        fprintf(stderr, "fleetsim conform: --target-api needs the application to log in as: --api-app ID:SECRET\n");
        return -1;
    }
    struct north_auth tmp = {0};
    char why[200];
    if (north_auth_add_spec(&tmp, o->api_app, why, sizeof why) < 0) {
        fprintf(stderr, "fleetsim conform: --api-app: %s\n", why);
        return -1;
    }
    if (o->api_ca && (strncmp(o->target_api, "https://", 8) != 0 || access(o->api_ca, R_OK) < 0)) {
        fprintf(stderr, "fleetsim conform: --api-ca %s: %s\n", o->api_ca,
                strncmp(o->target_api, "https://", 8) != 0 ? "is for an https:// --target-api" : "cannot read it");
        return -1;
    }
    snprintf(t->api_base, sizeof t->api_base, "%s", o->target_api);
    snprintf(t->api_app, sizeof t->api_app, "%s", tmp.apps[0].id);
    snprintf(t->api_secret, sizeof t->api_secret, "%s", tmp.apps[0].secret);
    t->api_ca = o->api_ca;
    add_cap(t);
    return 0;
}

bool conform_api_wanted(const struct pick *picks, int n)
{
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < picks[i].c->n_needs; k++)
            if (strcmp(picks[i].c->needs[k], "northbound-api") == 0)
                return true;
    }
    return false;
}

int conform_job_index;

const char *conform_api_app(const struct conform_target *t, char *buf, size_t cap)
{
    if (!t->api_embedded || conform_job_index <= 0)
        return t->api_app;
    snprintf(buf, cap, "%s-%d", t->api_app, conform_job_index);
    return buf;
}

void conform_api_embedded(const struct embedded *e, struct conform_target *t)
{
    if (!e->api || !e->api_port)
        return;
    snprintf(t->api_base, sizeof t->api_base, "http://127.0.0.1:%u", e->api_port);
    snprintf(t->api_app, sizeof t->api_app, "conform");
    t->api_embedded = true;
    snprintf(t->api_secret, sizeof t->api_secret, "%s", e->api_secret);
    t->api_ca = NULL;
    add_cap(t);
}

/* --- the step ----------------------------------------------------------------------- */

struct answer {
    bool done;
    enum api_outcome outcome;
    long status;
    char *body;
    cJSON *json;
    double ms;
    char err[200];
};

static void on_answer(void *arg, const struct api_answer *a)
{
    struct answer *w = arg;
    w->done = true;
    w->outcome = a->outcome;
    w->status = a->status;
    w->body = strdup(a->body);
    w->json = a->json ? cJSON_Duplicate(a->json, 1) : NULL;
    w->ms = (double)a->elapsed_us / 1000.0;
    snprintf(w->err, sizeof w->err, "%s", a->err);
}

/* Every string of v filled in place; false with the verdict set. */
static bool fill_tree(struct exch *x, const struct conform_step *st, cJSON *v)
{
    if (cJSON_IsString(v) && strstr(v->valuestring, "${")) {
        char buf[4096], why[200];
        if (exch_subst(x, v->valuestring, buf, sizeof buf, why, sizeof why) < 0)
            return exch_worsen(x, VERDICT_ERROR, st, "the body's ${...} filled in", "%s", why);
        if (!cJSON_SetValuestring(v, buf))
            return exch_worsen(x, VERDICT_ERROR, st, "memory", "out of memory");
        return true;
    }
    for (cJSON *c = v->child; c; c = c->next)
        if (!fill_tree(x, st, c))
            return false;
    return true;
}

bool conform_api_step(struct exch *x, const struct conform_step *st)
{
    const struct sc_api *a = st->api;
    const struct conform_target *t = x->t;
    char path[2048], why[200];
    if (!t->api_base[0])
        return exch_worsen(x, VERDICT_INCONCLUSIVE, st, "a target with northbound-api", "no API to call");
    if (exch_subst(x, a->path, path, sizeof path, why, sizeof why) < 0)
        return exch_worsen(x, VERDICT_ERROR, st, "the path's ${...} filled in", "%s", why);
    char *body = NULL;
    if (st->api_raw_body) {
        size_t cap = strlen(st->api_raw_body) + 4096;
        char *b = malloc(cap);
        if (!b)
            return exch_worsen(x, VERDICT_ERROR, st, "memory", "out of memory");
        if (exch_subst(x, st->api_raw_body, b, cap, why, sizeof why) < 0) {
            free(b);
            return exch_worsen(x, VERDICT_ERROR, st, "the raw_body's ${...} filled in", "%s", why);
        }
        size_t bl = strlen(b), reps = st->api_raw_repeat > 1 ? (size_t)st->api_raw_repeat : 1;
        body = cJSON_malloc(bl * reps + 1);
        for (size_t i = 0; body && i < reps; i++)
            memcpy(body + i * bl, b, bl);
        if (body)
            body[bl * reps] = '\0';
        free(b);
        if (!body)
            return exch_worsen(x, VERDICT_ERROR, st, "memory", "out of memory");
    } else if (a->body) {
        cJSON *b = cJSON_Duplicate(a->body, 1);
        bool ok = b && fill_tree(x, st, b);
        body = ok ? cJSON_PrintUnformatted(b) : NULL;
        cJSON_Delete(b);
        if (!ok)
            return b ? false : exch_worsen(x, VERDICT_ERROR, st, "memory", "out of memory");
    }
    if (!x->api) {
        char app[80];
        struct api_client_opts o = {.base = t->api_base, .app_id = conform_api_app(t, app, sizeof app),
                                    .secret = t->api_secret,
                                    .ca_file = t->api_ca};
        x->api = api_client_new(NULL, &o, why, sizeof why);
        if (!x->api) {
            cJSON_free(body);
            return exch_worsen(x, VERDICT_ERROR, st, "an API client", "%s", why);
        }
    }
    exch_log(x, "+%.3f api > %s %s%s%s%.*s%s", exch_since(x), a->method, t->api_base, path, body ? " " : "",
             LOG_ANSWER, body ? body : "", body && strlen(body) > LOG_ANSWER ? " ..." : "");
    struct answer w = {0};
    char hbuf[CONFORM_API_MAX_HEADERS][1200];
    const char *hdrs[CONFORM_API_MAX_HEADERS + 1];
    for (int i = 0; i < st->n_api_headers; i++) {
        if (exch_subst(x, st->api_headers[i], hbuf[i], sizeof hbuf[i], why, sizeof why) < 0) {
            cJSON_free(body);
            return exch_worsen(x, VERDICT_ERROR, st, "the headers' ${...} filled in", "%s", why);
        }
        hdrs[i] = hbuf[i];
        exch_log(x, "+%.3f api > %s", exch_since(x), hbuf[i]);
    }
    hdrs[st->n_api_headers] = NULL;
    int rc = api_client_call_headers(x->api, a->method, path, body, st->api_own_headers ? hdrs : NULL, on_answer, &w,
                                     why, sizeof why);
    cJSON_free(body);
    if (rc < 0)
        return exch_worsen(x, VERDICT_ERROR, st, "a call made", "%s", why);
    api_client_wait(x->api);
    const char *ans = w.body ? w.body : "";
    exch_log(x, "+%.3f api < HTTP %ld (%.1f ms)%s%.*s", exch_since(x), w.status, w.ms, ans[0] ? " " : "",
             LOG_ANSWER, ans);
    char want[64];
    if (a->expect_status)
        snprintf(want, sizeof want, "HTTP %d", a->expect_status);
    else
        snprintf(want, sizeof want, "HTTP 2xx");
    bool ok = true;
    switch (w.outcome) {
    case API_OK:
        if (a->expect_status ? w.status != a->expect_status : w.status < 200 || w.status > 299) {
            ok = exch_worsen(x, VERDICT_FAIL, st, want, "HTTP %ld: %s", w.status, ans);
            break;
        }
        for (int k = 0; k < a->n_capture && ok; k++) {
            const cJSON *v = api_json_at(w.json, a->capture_path[k]);
            char text[256];
            if (!v || !api_json_text(v, text, sizeof text)) {
                ok = exch_worsen(x, VERDICT_FAIL, st, a->capture_path[k], "%s in the answer: %s",
                                 v ? "longer than 255 bytes" : "absent", ans);
                break;
            }
            ok = exch_bind(x, st, a->capture_name[k], text);
            if (ok)
                exch_log(x, "+%.3f bind %s = %s (api %s)", exch_since(x), a->capture_name[k], text,
                         a->capture_path[k]);
        }
        break;
    case API_TIMEOUT: ok = exch_worsen(x, VERDICT_FAIL, st, want, "no answer: %s", w.err); break;
    case API_LOGIN: ok = exch_worsen(x, VERDICT_ERROR, st, "a login to the API", "%s: %s", w.err, ans); break;
    default: ok = exch_worsen(x, VERDICT_ERROR, st, "the API reached", "%s", w.err); break;
    }
    free(w.body);
    cJSON_Delete(w.json);
    return ok;
}
