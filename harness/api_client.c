/* The harness's northbound API client (api_client.h): calls wait for a token while
 * a login (or a refresh) is on its way, so one login serves them all and no call
 * makes another's token stale; a 401 renews the token once per call. */
#include "harness/api_client.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/net/httpc.h"

#define TOKEN_MAX 128

struct api_call {
    struct api_client *c;
    char method[8];
    char *path, *body;
    api_done_fn done;
    void *arg;
    uint64_t t0_us, deadline_us;    /* monotonic */
    unsigned gen;                   /* the token generation it was sent with */
    bool retried;                   /* renewed once after a 401 already */
    char **hdrs;                    /* the caller's headers instead of app_key and token (NULL-terminated) */
    int logins;
    struct api_call *prev, *next;   /* running calls */
    struct api_call *wnext;         /* waiting for a token */
    ev_timer start;                 /* the call begins from the loop */
};

struct api_client {
    struct ev_loop *loop;
    bool own_loop;
    struct httpc *http;
    char *base, *app, *secret, *ca;
    uint64_t timeout_ms;
    char token[TOKEN_MAX], refresh[TOKEN_MAX];
    unsigned gen;                   /* +1 at each new token */
    bool logging_in;
    bool refreshing;                /* the login on its way is a refresh */
    struct api_call *calls;         /* every call not ended */
    struct api_call *waiting, **wtail;
    unsigned running;
};

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* --- JSON paths --------------------------------------------------------------------- */

bool api_json_path_ok(const char *s)
{
    if (!s || !s[0] || strlen(s) > 200)
        return false;
    const char *p = s;
    while (*p) {
        if (*p == '[') {
            p++;
            if (!isdigit((unsigned char)*p))
                return false;
            while (isdigit((unsigned char)*p))
                p++;
            if (*p++ != ']')
                return false;
        } else {
            if (!(isalnum((unsigned char)*p) || *p == '_' || *p == '-'))
                return false;
            while (isalnum((unsigned char)*p) || *p == '_' || *p == '-')
                p++;
        }
        if (*p == '.') {
            p++;
            if (!(isalnum((unsigned char)*p) || *p == '_' || *p == '-'))
                return false;
        } else if (*p && *p != '[') {
            return false;
        }
    }
    return true;
}

const cJSON *api_json_at(const cJSON *v, const char *path)
{
    if (!api_json_path_ok(path))
        return NULL;
    const char *p = path;
    while (v && *p) {
        if (*p == '[') {
            long i = strtol(p + 1, (char **)&p, 10);
            p++; /* ']' */
            v = cJSON_IsArray(v) && i <= 1000000 ? cJSON_GetArrayItem(v, (int)i) : NULL;
        } else {
            size_t n = strcspn(p, ".[");
            char key[201];
            memcpy(key, p, n);
            key[n] = '\0';
            p += n;
            v = cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, key) : NULL;
        }
        if (*p == '.')
            p++;
    }
    return v;
}

bool api_json_text(const cJSON *v, char *out, size_t cap)
{
    if (cap == 0)
        return false;
    if (cJSON_IsString(v)) {
        size_t n = strlen(v->valuestring);
        if (n >= cap)
            return false;
        memcpy(out, v->valuestring, n + 1);
        return true;
    }
    char *t = cJSON_PrintUnformatted(v);
    if (!t)
        return false;
    size_t n = strlen(t);
    bool ok = n < cap;
    if (ok)
        memcpy(out, t, n + 1);
    cJSON_free(t);
    return ok;
}

/* --- calls -------------------------------------------------------------------------- */

static void call_end(struct api_call *q, enum api_outcome out, long status, const char *body, size_t len,
                     const char *err)
{
    struct api_client *c = q->c;
    ev_timer_stop(c->loop, &q->start);
    cJSON *json = body && len ? cJSON_ParseWithLength(body, len) : NULL;
    struct api_answer a = {.outcome = out, .status = status, .body = body ? body : "", .len = body ? len : 0,
                           .json = json, .elapsed_us = mono_us() - q->t0_us, .logins = q->logins};
    snprintf(a.err, sizeof a.err, "%s", err ? err : "");
    if (q->prev)
        q->prev->next = q->next;
    else
        c->calls = q->next;
    if (q->next)
        q->next->prev = q->prev;
    c->running--;
    q->done(q->arg, &a);
    cJSON_Delete(json);
    free(q->path);
    free(q->body);
    for (char **h = q->hdrs; h && *h; h++)
        free(*h);
    free(q->hdrs);
    free(q);
}

static uint64_t remaining_ms(const struct api_call *q)
{
    uint64_t now = mono_us();
    return q->deadline_us > now ? (q->deadline_us - now + 999) / 1000 : 0;
}

static void send_call(struct api_call *q);
static void login(struct api_client *c);

static void wait_token(struct api_call *q)
{
    struct api_client *c = q->c;
    q->wnext = NULL;
    *c->wtail = q;
    c->wtail = &q->wnext;
    q->logins++;
    if (!c->logging_in)
        login(c);
}

static void on_answer(void *arg, const struct httpc_result *r)
{
    struct api_call *q = arg;
    struct api_client *c = q->c;
    if (r->outcome == HTTPC_OK && r->status == 401 && !q->retried && !q->hdrs) {
        q->retried = true;
        if (q->gen == c->gen)
            c->token[0] = '\0'; /* the token it had is no good: renew it */
        if (c->token[0])
            send_call(q); /* another call renewed it meanwhile */
        else
            wait_token(q);
        return;
    }
    switch (r->outcome) {
    case HTTPC_OK: call_end(q, API_OK, r->status, r->body, r->len, NULL); break;
    case HTTPC_TIMEOUT: call_end(q, API_TIMEOUT, 0, NULL, 0, r->err); break;
    case HTTPC_CANCELLED: call_end(q, API_CANCELLED, 0, NULL, 0, "cancelled"); break;
    default: call_end(q, API_ERROR, 0, NULL, 0, r->err); break;
    }
}

static void send_call(struct api_call *q)
{
    struct api_client *c = q->c;
    uint64_t left = remaining_ms(q);
    if (left == 0) {
        call_end(q, API_TIMEOUT, 0, NULL, 0, "timed out waiting for a token");
        return;
    }
    char url[2300], app[300], auth[TOKEN_MAX + 32], err[200];
    snprintf(url, sizeof url, "%s%s", c->base, q->path);
    snprintf(app, sizeof app, "app_key: %s", c->app);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", c->token);
    const char *headers[] = {app, auth, "Accept: application/json", NULL};
    struct httpc_opts o = {.method = q->method, .url = url,
                           .headers = q->hdrs ? (const char *const *)q->hdrs : headers, .body = q->body,
                           .ca_file = c->ca, .timeout_ms = left};
    q->gen = c->gen;
    if (httpc_request(c->http, &o, on_answer, q, err, sizeof err) < 0)
        call_end(q, API_ERROR, 0, NULL, 0, err);
}

/* The login (or refresh) has ended: the waiting calls go on, or end with its failure. */
static void login_done(struct api_client *c, enum api_outcome out, long status, const char *body, size_t len,
                       const char *err)
{
    c->logging_in = false;
    struct api_call *w = c->waiting;
    c->waiting = NULL;
    c->wtail = &c->waiting;
    while (w) {
        struct api_call *next = w->wnext;
        if (out == API_OK)
            send_call(w);
        else
            call_end(w, out, status, body, len, err);
        w = next;
    }
}

static void on_login(void *arg, const struct httpc_result *r)
{
    struct api_client *c = arg;
    char why[200];
    if (r->outcome == HTTPC_CANCELLED) {
        login_done(c, API_CANCELLED, 0, NULL, 0, "cancelled");
        return;
    }
    if (r->outcome != HTTPC_OK) {
        snprintf(why, sizeof why, "login: %s", r->err);
        login_done(c, r->outcome == HTTPC_TIMEOUT ? API_TIMEOUT : API_ERROR, 0, NULL, 0, why);
        return;
    }
    cJSON *j = r->status == 200 ? cJSON_ParseWithLength(r->body, r->len) : NULL;
    const cJSON *at = cJSON_GetObjectItemCaseSensitive(j, "accessToken");
    const cJSON *rt = cJSON_GetObjectItemCaseSensitive(j, "refreshToken");
    bool good = cJSON_IsString(at) && at->valuestring[0] && strlen(at->valuestring) < TOKEN_MAX;
    if (good) {
        snprintf(c->token, sizeof c->token, "%s", at->valuestring);
        snprintf(c->refresh, sizeof c->refresh, "%s",
                 cJSON_IsString(rt) && strlen(rt->valuestring) < TOKEN_MAX ? rt->valuestring : "");
        c->gen++;
    }
    cJSON_Delete(j);
    if (good) {
        login_done(c, API_OK, 0, NULL, 0, NULL);
        return;
    }
    if (c->refreshing) {
        /* a refreshToken that no longer works: log in afresh */
        c->refresh[0] = '\0';
        login(c);
        return;
    }
    if (r->status == 200)
        snprintf(why, sizeof why, "login: answered 200 without an accessToken");
    else
        snprintf(why, sizeof why, "login refused: HTTP %ld", r->status);
    login_done(c, API_LOGIN, r->status, r->body, r->len, why);
}

static void login(struct api_client *c)
{
    /* as long as the waiting call with the least time left still has */
    uint64_t left = 0;
    for (struct api_call *w = c->waiting; w; w = w->wnext) {
        uint64_t l = remaining_ms(w);
        if (w == c->waiting || l < left)
            left = l;
    }
    if (left == 0) {
        login_done(c, API_TIMEOUT, 0, NULL, 0, "timed out before the login");
        return;
    }
    c->logging_in = true;
    c->refreshing = c->refresh[0] != '\0';
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "appId", c->app);
    cJSON_AddStringToObject(b, "secret", c->secret);
    if (c->refreshing)
        cJSON_AddStringToObject(b, "refreshToken", c->refresh);
    char *text = cJSON_PrintUnformatted(b);
    cJSON_Delete(b);
    char url[2300], err[200];
    snprintf(url, sizeof url, "%s%s", c->base, c->refreshing ? API_REFRESH_PATH : API_LOGIN_PATH);
    struct httpc_opts o = {.method = "POST", .url = url, .body = text ? text : "{}", .ca_file = c->ca,
                           .timeout_ms = left};
    int rc = httpc_request(c->http, &o, on_login, c, err, sizeof err);
    cJSON_free(text);
    if (rc < 0)
        login_done(c, API_ERROR, 0, NULL, 0, err);
}

/* --- the client --------------------------------------------------------------------- */

struct api_client *api_client_new(struct ev_loop *loop, const struct api_client_opts *o, char *err, size_t errcap)
{
    if (!o->base || (strncmp(o->base, "http://", 7) != 0 && strncmp(o->base, "https://", 8) != 0)) {
        snprintf(err, errcap, "'%s' is not an http:// or https:// URL", o->base ? o->base : "");
        return NULL;
    }
    if (!o->app_id || !o->app_id[0] || !o->secret) {
        snprintf(err, errcap, "an application (ID:SECRET) is needed to log in");
        return NULL;
    }
    struct api_client *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    c->own_loop = loop == NULL;
    c->loop = loop ? loop : ev_loop_new(EVFLAG_AUTO);
    c->base = strdup(o->base);
    c->app = strdup(o->app_id);
    c->secret = strdup(o->secret);
    c->ca = dup_or_null(o->ca_file);
    c->timeout_ms = o->timeout_ms ? o->timeout_ms : API_CALL_TIMEOUT_MS;
    c->wtail = &c->waiting;
    if (!c->loop || !c->base || !c->app || !c->secret || (o->ca_file && !c->ca)) {
        snprintf(err, errcap, "out of memory");
        api_client_free(c);
        return NULL;
    }
    size_t bl = strlen(c->base);
    while (bl > 0 && c->base[bl - 1] == '/')
        c->base[--bl] = '\0';
    c->http = httpc_new(c->loop, err, errcap);
    if (!c->http) {
        api_client_free(c);
        return NULL;
    }
    return c;
}

void api_client_free(struct api_client *c)
{
    if (!c)
        return;
    /* httpc_free ends the running requests: each call, or the login and its waiting calls */
    httpc_free(c->http);
    c->http = NULL;
    while (c->calls)
        call_end(c->calls, API_CANCELLED, 0, NULL, 0, "cancelled");
    if (c->own_loop && c->loop)
        ev_loop_destroy(c->loop);
    free(c->base);
    free(c->app);
    free(c->secret);
    free(c->ca);
    free(c);
}

unsigned api_client_running(const struct api_client *c) { return c ? c->running : 0; }

void api_client_wait(struct api_client *c)
{
    while (c->running > 0)
        ev_run(c->loop, EVRUN_ONCE);
}

static void call_later(struct ev_loop *loop, ev_timer *t, int revents);

int api_client_call(struct api_client *c, const char *method, const char *path, const char *body,
                    api_done_fn done, void *arg, char *err, size_t errcap)
{
    return api_client_call_headers(c, method, path, body, NULL, done, arg, err, errcap);
}

int api_client_call_headers(struct api_client *c, const char *method, const char *path, const char *body,
                            const char *const *headers, api_done_fn done, void *arg, char *err, size_t errcap)
{
    static const char *const methods[] = {"GET", "POST", "PUT", "DELETE"};
    bool known = false;
    for (size_t i = 0; method && i < sizeof methods / sizeof *methods; i++)
        known |= strcmp(method, methods[i]) == 0;
    if (!known) {
        snprintf(err, errcap, "method: expected GET, POST, PUT or DELETE, got \"%s\"", method ? method : "");
        return -1;
    }
    if (!path || path[0] != '/' || strlen(path) > 2000) {
        snprintf(err, errcap, "path: expected a path from \"/\" (at most 2000 bytes)");
        return -1;
    }
    for (const char *p = path; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f) {
            snprintf(err, errcap, "path: a space or control character at byte %zu (write it %%XX)",
                     (size_t)(p - path));
            return -1;
        }
    struct api_call *q = calloc(1, sizeof *q);
    if (!q || !(q->path = strdup(path)) || (body && !(q->body = strdup(body)))) {
        if (q)
            free(q->path);
        free(q);
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    if (headers) {
        size_t n = 0;
        while (headers[n])
            n++;
        q->hdrs = calloc(n + 2, sizeof *q->hdrs);
        bool ok = q->hdrs != NULL;
        for (size_t i = 0; ok && i < n; i++)
            ok = (q->hdrs[i] = strdup(headers[i])) != NULL;
        if (ok)
            ok = (q->hdrs[n] = strdup("Accept: application/json")) != NULL;
        if (!ok) {
            for (char **h = q->hdrs; h && *h; h++)
                free(*h);
            free(q->hdrs);
            free(q->path);
            free(q->body);
            free(q);
            snprintf(err, errcap, "out of memory");
            return -1;
        }
    }
    snprintf(q->method, sizeof q->method, "%s", method);
    q->c = c;
    q->done = done;
    q->arg = arg;
    q->t0_us = mono_us();
    q->deadline_us = q->t0_us + c->timeout_ms * 1000u;
    q->next = c->calls;
    if (c->calls)
        c->calls->prev = q;
    c->calls = q;
    c->running++;
    /* started from the loop, so that done is never called from inside this call */
    ev_timer_init(&q->start, call_later, 0., 0.);
    ev_timer_start(c->loop, &q->start);
    return 0;
}

static void call_later(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop, (void)revents;
    struct api_call *q = (struct api_call *)((char *)t - offsetof(struct api_call, start));
    if (!q->c->token[0] && !q->hdrs)
        wait_token(q);
    else
        send_call(q);
}
