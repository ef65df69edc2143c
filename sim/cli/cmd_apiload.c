/* `fleetsim apiload`: load a platform's northbound API (004's shape: login, then
 * app_key and a Bearer token on every call) with one request template, from
 * many connections at once, and measure it: requests per second, answers by
 * status, latency percentiles on the wall clock.  libcurl multi, connections
 * kept alive; bounded in count and in time. */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pthread.h>

#include "harness/cb_recv.h"
#include "harness/run.h"
#include "sim/cli/cmd.h"
#include "sim/core/metrics.h"
#include "sim/core/units.h"

#define MAX_CONC 1024
#define MAX_REQUESTS 10000000ull
#define MAX_DURATION_S 3600.0
#define MAX_TEMPLATE 65536
#define N_STATUS 600

struct ids {
    char first[64];               /* digits of the first id, its width kept */
    unsigned long long start, count;
    int width, prefix_len;        /* leading non-digits */
};

struct slot {
    CURL *h;
    struct curl_slist *hs;
    char *body;
    uint64_t t0_us;
    bool busy;
    char answer[4096];            /* --until: the start of the answer (its commandId) */
    size_t answer_len;
};

/* --until: each command created, by its commandId, with the time its request
 * started and the time the first push of a wanted end came; either may be known
 * first (a push can overtake the 201 that names its command). */
struct cmd_ent {
    char id[48];                  /* "" empty */
    uint64_t t0_us, end_us;
    int8_t outcome;               /* 0 none yet, 1 a wanted state, 2 another final state */
};

struct until {
    char states[8][16];
    int n_states;
    double settle_s;
    struct cb_recv *recv;
    pthread_mutex_t mu;
    struct cmd_ent *t;
    size_t cap, used, created, reached, other, pushes;
    struct hist lat;
};

struct load {
    const char *api, *method, *path, *body;
    char app[128], secret[128], token[128];
    struct ids ids;
    bool have_ids;
    int conc;
    unsigned long long requests, sent, done;
    double duration_s;
    int expect;                   /* 0: any 2xx */
    unsigned long long by_status[N_STATUS], errors, unexpected, relogins;
    struct hist lat;
    char first_error[256];
    struct until *u;              /* --until, NULL without */
};

static volatile sig_atomic_t stop;
static void on_signal(int sig) { stop = sig; }

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* --- --until: commands followed to their end by their pushes --------------------------------- */

static const char *const FINAL[] = {"SUCCESSFUL", "FAIL", "TIMEOUT", "EXPIRED", "CANCELED"};

static struct cmd_ent *ent_find(struct until *u, const char *id)
{
    uint32_t h = 2166136261u;
    for (const char *p = id; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    for (size_t i = h & (u->cap - 1);; i = (i + 1) & (u->cap - 1))
        if (!u->t[i].id[0] || strcmp(u->t[i].id, id) == 0)
            return &u->t[i];
}

/* The entry of id, made when new (NULL: the table is full or the id too long). */
static struct cmd_ent *ent_get(struct until *u, const char *id)
{
    if (strlen(id) >= sizeof u->t[0].id)
        return NULL;
    struct cmd_ent *e = ent_find(u, id);
    if (!e->id[0]) {
        if ((u->used + 1) * 4 > u->cap * 3)
            return NULL;
        snprintf(e->id, sizeof e->id, "%s", id);
        u->used++;
    }
    return e;
}

static void ent_done(struct until *u, struct cmd_ent *e)
{
    if (e->t0_us && e->end_us && e->outcome == 1) {
        hist_record(&u->lat, e->end_us > e->t0_us ? e->end_us - e->t0_us : 0);
        u->reached++;
    } else if (e->t0_us && e->outcome == 2) {
        u->other++;
    }
}

/* A push (on the receiver's thread): its command's end, when it is one. */
static void on_push(void *arg, const char *line)
{
    struct until *u = arg;
    uint64_t now = mono_us();
    cJSON *o = cJSON_Parse(line);
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(o, "body");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(b, "commandId");
    const cJSON *rc = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(b, "result"), "resultCode");
    pthread_mutex_lock(&u->mu);
    u->pushes++;
    if (cJSON_IsString(id) && cJSON_IsString(rc)) {
        int outcome = 0;
        for (int i = 0; i < u->n_states; i++)
            if (strcmp(u->states[i], rc->valuestring) == 0)
                outcome = 1;
        for (size_t i = 0; !outcome && i < sizeof FINAL / sizeof *FINAL; i++)
            if (strcmp(FINAL[i], rc->valuestring) == 0)
                outcome = 2;
        struct cmd_ent *e = outcome ? ent_get(u, id->valuestring) : NULL;
        if (e && !e->outcome) {
            e->outcome = (int8_t)outcome;
            e->end_us = now;
            ent_done(u, e);
        }
    }
    pthread_mutex_unlock(&u->mu);
    cJSON_Delete(o);
}

/* A 2xx answer of a create: its commandId, started at t0. */
static void on_created(struct until *u, const char *answer, uint64_t t0)
{
    cJSON *o = cJSON_Parse(answer);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "commandId");
    if (cJSON_IsString(id)) {
        pthread_mutex_lock(&u->mu);
        struct cmd_ent *e = ent_get(u, id->valuestring);
        if (e && !e->t0_us) {
            e->t0_us = t0;
            u->created++;
            ent_done(u, e);
        }
        pthread_mutex_unlock(&u->mu);
    }
    cJSON_Delete(o);
}

static int until_parse(const char *s, struct until *u)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", s);
    u->n_states = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        bool known = strcmp(tok, "DELIVERED") == 0;
        for (size_t i = 0; i < sizeof FINAL / sizeof *FINAL; i++)
            known |= strcmp(tok, FINAL[i]) == 0;
        if (!known || u->n_states >= 8)
            return -1;
        snprintf(u->states[u->n_states++], sizeof u->states[0], "%s", tok);
    }
    return u->n_states ? 0 : -1;
}

static int usage(FILE *to)
{
    fprintf(to,
            "usage: fleetsim apiload --api URL --app ID:SECRET --path PATH [options]\n"
            "Load a platform's northbound API with one request template from many connections\n"
            "and measure it: requests per second, answers by status, latency percentiles.\n"
            "\n"
            "  -a, --api URL           the API's base, http:// or https:// (e.g. http://127.0.0.1:8743)\n"
            "  -A, --app ID:SECRET     the application that logs in (POST /iocm/app/sec/v1.1.0/login)\n"
            "  -X, --method M          GET (default), POST, PUT or DELETE\n"
            "  -p, --path PATH         the request's path; {id} is a device id of --ids, {i} the request's\n"
            "                          number from 0\n"
            "  -d, --body JSON         the request's body, with the same {id} and {i}\n"
            "  -i, --ids FIRST:COUNT   device ids: FIRST (a prefix, then digits: their width is kept) and\n"
            "                          the COUNT after it, used in turn (013800000000:10000)\n"
            "  -c, --concurrency N     requests in flight at once, 1-%d (default 16)\n"
            "  -n, --requests N        requests in all, 1-%llu (default 10000)\n"
            "  -t, --duration D        stop after D at most (default 60s, at most 1h)\n"
            "  -e, --expect STATUS     the answer counted as expected (default: any 2xx)\n"
            "  -u, --until STATES      commands: follow each command created (its answer's commandId) to\n"
            "                          one of STATES (SUCCESSFUL,DELIVERED,...) by the pushes to a\n"
            "                          receiver of this process, whose URL {callback} gives (the body's\n"
            "                          callbackUrl); the latency from the create's start to that push\n"
            "      --settle D          with --until: wait at most D for the last ends (default 30s)\n"
            "  -h, --help              this text\n"
            "\n"
            "Prints one JSON object: requests, expected, by_status, errors (no answer), elapsed_s,\n"
            "rate_per_s (answered requests per second), latency_ms {p50, p90, p99, max}; with --until,\n"
            "until {states, created, reached, other_end, missing, pushes, latency_ms}.\n"
            "Exit: 0 every answer expected, 1 some were not, 2 usage error or the login failed.\n"
            "example: fleetsim apiload --api http://127.0.0.1:8743 --app bench:s3cret \\\n"
            "             --path /iocm/app/shadow/v1.5.0/devices/{id} --ids 013800000000:10000 -c 32\n",
            MAX_CONC, MAX_REQUESTS);
    return to == stdout ? 0 : RUN_EXIT_USAGE;
}

static int parse_ids(const char *s, struct ids *d)
{
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s || (size_t)(colon - s) >= sizeof d->first)
        return -1;
    memcpy(d->first, s, (size_t)(colon - s));
    d->first[colon - s] = '\0';
    size_t n = strlen(d->first), p = n;
    while (p > 0 && d->first[p - 1] >= '0' && d->first[p - 1] <= '9')
        p--;
    if (p == n || n - p > 19)
        return -1;
    d->prefix_len = (int)p;
    d->width = (int)(n - p);
    d->start = strtoull(d->first + p, NULL, 10);
    char *end;
    errno = 0;
    d->count = strtoull(colon + 1, &end, 10);
    if (errno || *end || !d->count || d->count > 100000000ull)
        return -1;
    return 0;
}

/* Expand {id} and {i} of t for request i into a malloc'ed text. */
static char *expand(const struct load *L, const char *t, unsigned long long i)
{
    char id[96] = "";
    if (L->have_ids)
        snprintf(id, sizeof id, "%.*s%0*llu", L->ids.prefix_len, L->ids.first, L->ids.width,
                 L->ids.start + i % L->ids.count);
    char num[24];
    snprintf(num, sizeof num, "%llu", i);
    size_t cap = strlen(t) * 4 + 128, n = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    for (const char *p = t; *p;) {
        const char *rep = NULL;
        size_t skip = 1;
        if (strncmp(p, "{id}", 4) == 0)
            rep = id, skip = 4;
        else if (strncmp(p, "{callback}", 10) == 0 && L->u)
            rep = cb_recv_url(L->u->recv), skip = 10;
        else if (strncmp(p, "{i}", 3) == 0)
            rep = num, skip = 3;
        size_t add = rep ? strlen(rep) : 1;
        if (n + add + 1 > cap) {
            cap = (n + add + 1) * 2;
            char *no = realloc(out, cap);
            if (!no) {
                free(out);
                return NULL;
            }
            out = no;
        }
        if (rep)
            memcpy(out + n, rep, add);
        else
            out[n] = *p;
        n += add;
        p += skip;
    }
    out[n] = '\0';
    return out;
}

static size_t discard(char *p, size_t sz, size_t nm, void *arg)
{
    (void)p, (void)arg;
    return sz * nm;
}

static size_t keep_answer(char *p, size_t sz, size_t nm, void *arg)
{
    struct slot *s = arg;
    size_t k = sz * nm, room = sizeof s->answer - 1 - s->answer_len, c = k < room ? k : room;
    memcpy(s->answer + s->answer_len, p, c);
    s->answer_len += c;
    s->answer[s->answer_len] = '\0';
    return k;
}

struct buf {
    char s[4096];
    size_t n;
};

static size_t keep(char *p, size_t sz, size_t nm, void *arg)
{
    struct buf *b = arg;
    size_t k = sz * nm;
    size_t room = sizeof b->s - 1 - b->n;
    size_t c = k < room ? k : room;
    memcpy(b->s + b->n, p, c);
    b->n += c;
    b->s[b->n] = '\0';
    return k;
}

static int login(struct load *L, char *err, size_t cap)
{
    CURL *h = curl_easy_init();
    char url[1024], body[512];
    struct buf b = {.n = 0};
    snprintf(url, sizeof url, "%s/iocm/app/sec/v1.1.0/login", L->api);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "appId", L->app);
    cJSON_AddStringToObject(o, "secret", L->secret);
    if (!cJSON_PrintPreallocated(o, body, sizeof body, 0)) {
        cJSON_Delete(o);
        curl_easy_cleanup(h);
        snprintf(err, cap, "the application's id and secret are too long");
        return -1;
    }
    cJSON_Delete(o);
    struct curl_slist *hs = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, keep);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hs);
    curl_easy_cleanup(h);
    if (rc != CURLE_OK) {
        snprintf(err, cap, "login at %s: %s", url, curl_easy_strerror(rc));
        return -1;
    }
    cJSON *a = cJSON_Parse(b.s);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(a, "accessToken");
    if (status != 200 || !cJSON_IsString(t) || strlen(t->valuestring) >= sizeof L->token) {
        snprintf(err, cap, "login at %s: HTTP %ld: %.200s", url, status, b.s);
        cJSON_Delete(a);
        return -1;
    }
    snprintf(L->token, sizeof L->token, "%s", t->valuestring);
    cJSON_Delete(a);
    return 0;
}

static void slot_headers(struct load *L, struct slot *s)
{
    char h[256];
    curl_slist_free_all(s->hs);
    s->hs = curl_slist_append(NULL, "Content-Type: application/json");
    snprintf(h, sizeof h, "app_key: %s", L->app);
    s->hs = curl_slist_append(s->hs, h);
    snprintf(h, sizeof h, "Authorization: Bearer %s", L->token);
    s->hs = curl_slist_append(s->hs, h);
}

static int start_one(struct load *L, CURLM *m, struct slot *s)
{
    unsigned long long i = L->sent;
    char *path = expand(L, L->path, i);
    char url[2048];
    if (!path)
        return -1;
    snprintf(url, sizeof url, "%s%s", L->api, path);
    free(path);
    free(s->body);
    s->body = L->body ? expand(L, L->body, i) : NULL;
    curl_easy_reset(s->h);
    curl_easy_setopt(s->h, CURLOPT_URL, url);
    curl_easy_setopt(s->h, CURLOPT_CUSTOMREQUEST, L->method);
    curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, s->hs);
    s->answer_len = 0;
    s->answer[0] = '\0';
    curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, L->u ? keep_answer : discard);
    if (L->u)
        curl_easy_setopt(s->h, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(s->h, CURLOPT_TIMEOUT_MS, 15000L);
    curl_easy_setopt(s->h, CURLOPT_PRIVATE, s);
    if (s->body) {
        curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, s->body);
        curl_easy_setopt(s->h, CURLOPT_POSTFIELDSIZE, (long)strlen(s->body));
    } else if (strcmp(L->method, "GET") == 0) {
        curl_easy_setopt(s->h, CURLOPT_HTTPGET, 1L);
    }
    s->t0_us = mono_us();
    s->busy = true;
    L->sent++;
    return curl_multi_add_handle(m, s->h) == CURLM_OK ? 0 : -1;
}

static void print_result(const struct load *L, double elapsed)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "requests", (double)L->done);
    cJSON_AddNumberToObject(o, "expected", (double)(L->done - L->errors - L->unexpected));
    cJSON *bs = cJSON_AddObjectToObject(o, "by_status");
    for (int i = 0; i < N_STATUS; i++)
        if (L->by_status[i]) {
            char k[8];
            snprintf(k, sizeof k, "%d", i);
            cJSON_AddNumberToObject(bs, k, (double)L->by_status[i]);
        }
    cJSON_AddNumberToObject(o, "errors", (double)L->errors);
    cJSON_AddNumberToObject(o, "relogins", (double)L->relogins);
    cJSON_AddNumberToObject(o, "concurrency", L->conc);
    cJSON_AddNumberToObject(o, "elapsed_s", elapsed);
    cJSON_AddNumberToObject(o, "rate_per_s", elapsed > 0 ? (double)(L->done - L->errors) / elapsed : 0);
    cJSON *lat = cJSON_AddObjectToObject(o, "latency_ms");
    cJSON_AddNumberToObject(lat, "p50", (double)hist_percentile(&L->lat, 50) / 1000.0);
    cJSON_AddNumberToObject(lat, "p90", (double)hist_percentile(&L->lat, 90) / 1000.0);
    cJSON_AddNumberToObject(lat, "p99", (double)hist_percentile(&L->lat, 99) / 1000.0);
    cJSON_AddNumberToObject(lat, "max", (double)hist_percentile(&L->lat, 100) / 1000.0);
    if (L->first_error[0])
        cJSON_AddStringToObject(o, "first_error", L->first_error);
    if (L->u) {
        struct until *u = L->u;
        pthread_mutex_lock(&u->mu);
        cJSON *x = cJSON_AddObjectToObject(o, "until");
        cJSON *st = cJSON_AddArrayToObject(x, "states");
        for (int i = 0; i < u->n_states; i++)
            cJSON_AddItemToArray(st, cJSON_CreateString(u->states[i]));
        cJSON_AddNumberToObject(x, "created", (double)u->created);
        cJSON_AddNumberToObject(x, "reached", (double)u->reached);
        cJSON_AddNumberToObject(x, "other_end", (double)u->other);
        cJSON_AddNumberToObject(x, "missing", (double)(u->created - u->reached - u->other));
        cJSON_AddNumberToObject(x, "pushes", (double)u->pushes);
        cJSON *ul = cJSON_AddObjectToObject(x, "latency_ms");
        cJSON_AddNumberToObject(ul, "p50", (double)hist_percentile(&u->lat, 50) / 1000.0);
        cJSON_AddNumberToObject(ul, "p90", (double)hist_percentile(&u->lat, 90) / 1000.0);
        cJSON_AddNumberToObject(ul, "p99", (double)hist_percentile(&u->lat, 99) / 1000.0);
        cJSON_AddNumberToObject(ul, "max", (double)hist_percentile(&u->lat, 100) / 1000.0);
        pthread_mutex_unlock(&u->mu);
    }
    char *s = cJSON_PrintUnformatted(o);
    if (s)
        printf("%s\n", s);
    free(s);
    cJSON_Delete(o);
}

/* Run the load: 0 all expected, 1 some not, 3 a failure of our own. */
static int run_load(struct load *L)
{
    CURLM *m = curl_multi_init();
    struct slot *slots = calloc((size_t)L->conc, sizeof *slots);
    if (!m || !slots) {
        fprintf(stderr, "fleetsim apiload: out of memory\n");
        free(slots);
        return RUN_EXIT_HARNESS;
    }
    curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)L->conc);
    for (int i = 0; i < L->conc; i++) {
        slots[i].h = curl_easy_init();
        slot_headers(L, &slots[i]);
    }
    uint64_t t0 = mono_us(), deadline = t0 + (uint64_t)(L->duration_s * 1e6);
    bool relogin = false;
    int rc = 0;
    for (;;) {
        bool more = !stop && L->sent < L->requests && mono_us() < deadline;
        for (int i = 0; i < L->conc && more; i++)
            if (!slots[i].busy) {
                if (start_one(L, m, &slots[i]) < 0) {
                    fprintf(stderr, "fleetsim apiload: cannot start a request\n");
                    rc = RUN_EXIT_HARNESS;
                    more = false;
                    break;
                }
                more = L->sent < L->requests;
            }
        int running = 0;
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            struct slot *s = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
            long status = 0;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
            L->done++;
            if (msg->data.result != CURLE_OK) {
                L->errors++;
                if (!L->first_error[0])
                    snprintf(L->first_error, sizeof L->first_error, "%s", curl_easy_strerror(msg->data.result));
            } else {
                hist_record(&L->lat, mono_us() - s->t0_us);
                if (status >= 0 && status < N_STATUS)
                    L->by_status[status]++;
                bool want = L->expect ? status == L->expect : status >= 200 && status < 300;
                if (!want) {
                    L->unexpected++;
                    if (!L->first_error[0])
                        snprintf(L->first_error, sizeof L->first_error, "HTTP %ld", status);
                }
                if (status == 401)
                    relogin = true;
                if (L->u && status >= 200 && status < 300)
                    on_created(L->u, s->answer, s->t0_us);
            }
            curl_multi_remove_handle(m, msg->easy_handle);
            s->busy = false;
        }
        if (relogin) {
            /* the token expired (the platform's virtual clock): once more, then go on */
            char err[300];
            relogin = false;
            if (L->relogins++ < 3 && login(L, err, sizeof err) == 0)
                for (int i = 0; i < L->conc; i++)
                    if (!slots[i].busy)
                        slot_headers(L, &slots[i]);
        }
        bool more_to_send = !stop && L->sent < L->requests && mono_us() < deadline;
        if (!running && !more_to_send)
            break;
        bool free_slot = false;
        for (int i = 0; i < L->conc && !free_slot; i++)
            free_slot = !slots[i].busy;
        /* a slot free and requests left: start them now, no wait */
        if (!(free_slot && more_to_send))
            curl_multi_poll(m, NULL, 0, 50, NULL);
    }
    double elapsed = (double)(mono_us() - t0) / 1e6;
    if (L->u) {
        /* the last commands' ends, for --settle at most */
        uint64_t until = mono_us() + (uint64_t)(L->u->settle_s * 1e6);
        for (;;) {
            pthread_mutex_lock(&L->u->mu);
            bool all = L->u->reached + L->u->other >= L->u->created;
            pthread_mutex_unlock(&L->u->mu);
            if (all || stop || mono_us() >= until)
                break;
            struct timespec ts = {0, 20 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    print_result(L, elapsed);
    for (int i = 0; i < L->conc; i++) {
        curl_slist_free_all(slots[i].hs);
        free(slots[i].body);
        curl_easy_cleanup(slots[i].h);
    }
    free(slots);
    curl_multi_cleanup(m);
    if (rc)
        return rc;
    if (L->u && L->u->reached < L->u->created)
        return RUN_EXIT_FAIL;
    return L->errors || L->unexpected ? RUN_EXIT_FAIL : RUN_EXIT_PASS;
}

int cmd_apiload(int argc, char **argv)
{
    static const struct option opts[] = {
        {"api", required_argument, 0, 'a'},      {"app", required_argument, 0, 'A'},
        {"method", required_argument, 0, 'X'},   {"path", required_argument, 0, 'p'},
        {"body", required_argument, 0, 'd'},     {"ids", required_argument, 0, 'i'},
        {"concurrency", required_argument, 0, 'c'}, {"requests", required_argument, 0, 'n'},
        {"duration", required_argument, 0, 't'}, {"expect", required_argument, 0, 'e'},
        {"until", required_argument, 0, 'u'},    {"settle", required_argument, 0, 0x101},
        {"help", no_argument, 0, 'h'},           {0, 0, 0, 0},
    };
    static struct load L;
    static struct until U;
    memset(&L, 0, sizeof L);
    memset(&U, 0, sizeof U);
    U.settle_s = 30;
    bool until = false;
    L.method = "GET";
    L.conc = 16;
    L.requests = 10000;
    L.duration_s = 60;
    opterr = 0;
    optind = 1;
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, ":a:A:X:p:d:i:c:n:t:e:u:h", opts, NULL)) != -1) {
        switch (c) {
        case 'a':
            if (strncmp(optarg, "http://", 7) != 0 && strncmp(optarg, "https://", 8) != 0)
                return cmd_usage_error("apiload", "--api: '%s' is not an http:// or https:// URL", optarg);
            L.api = optarg;
            break;
        case 'A': {
            const char *colon = strchr(optarg, ':');
            if (!colon || colon == optarg || !colon[1] || (size_t)(colon - optarg) >= sizeof L.app ||
                strlen(colon + 1) >= sizeof L.secret)
                return cmd_usage_error("apiload", "--app: '%s' is not ID:SECRET", optarg);
            snprintf(L.app, sizeof L.app, "%.*s", (int)(colon - optarg), optarg);
            snprintf(L.secret, sizeof L.secret, "%s", colon + 1);
            break;
        }
        case 'X':
            if (strcmp(optarg, "GET") && strcmp(optarg, "POST") && strcmp(optarg, "PUT") && strcmp(optarg, "DELETE"))
                return cmd_usage_error("apiload", "--method: '%s' is not GET, POST, PUT or DELETE", optarg);
            L.method = optarg;
            break;
        case 'p':
            if (optarg[0] != '/' || strlen(optarg) > 1024)
                return cmd_usage_error("apiload", "--path: '%s' must start with '/' (at most 1024 bytes)", optarg);
            L.path = optarg;
            break;
        case 'd':
            if (strlen(optarg) > MAX_TEMPLATE)
                return cmd_usage_error("apiload", "--body: over %d bytes", MAX_TEMPLATE);
            L.body = optarg;
            break;
        case 'i':
            if (parse_ids(optarg, &L.ids) < 0)
                return cmd_usage_error("apiload", "--ids: '%s' is not FIRST:COUNT (FIRST ending in digits, "
                                       "COUNT 1-100000000)", optarg);
            L.have_ids = true;
            break;
        case 'c':
            L.conc = (int)strtol(optarg, &end, 10);
            if (*end || L.conc < 1 || L.conc > MAX_CONC)
                return cmd_usage_error("apiload", "--concurrency: '%s' is not 1-%d", optarg, MAX_CONC);
            break;
        case 'n':
            errno = 0;
            L.requests = strtoull(optarg, &end, 10);
            if (errno || *end || !L.requests || L.requests > MAX_REQUESTS)
                return cmd_usage_error("apiload", "--requests: '%s' is not 1-%llu", optarg, MAX_REQUESTS);
            break;
        case 't': {
            uint64_t us;
            char why[160];
            if (units_duration_us(optarg, &us, why, sizeof why) < 0 || !us || (double)us / 1e6 > MAX_DURATION_S)
                return cmd_usage_error("apiload", "--duration: '%s' is not a duration from 1us to 1h", optarg);
            L.duration_s = (double)us / 1e6;
            break;
        }
        case 'e':
            L.expect = (int)strtol(optarg, &end, 10);
            if (*end || L.expect < 100 || L.expect > 599)
                return cmd_usage_error("apiload", "--expect: '%s' is not an HTTP status", optarg);
            break;
        case 'u':
            if (until_parse(optarg, &U) < 0)
                return cmd_usage_error("apiload", "--until: '%s' is not a list of command states (SUCCESSFUL, "
                                       "DELIVERED, FAIL, TIMEOUT, EXPIRED, CANCELED)", optarg);
            until = true;
            break;
        case 0x101: {
            uint64_t us;
            char why[160];
            if (units_duration_us(optarg, &us, why, sizeof why) < 0 || (double)us / 1e6 > 600)
                return cmd_usage_error("apiload", "--settle: '%s' is not a duration up to 10min", optarg);
            U.settle_s = (double)us / 1e6;
            break;
        }
        case 'h':
            return usage(stdout);
        default:
            return cmd_bad_option("apiload", opts, c, argv);
        }
    }
    if (optind < argc)
        return cmd_usage_error("apiload", "unexpected argument '%s'", argv[optind]);
    if (!L.api || !L.app[0] || !L.path)
        return cmd_usage_error("apiload", "--api, --app and --path are needed");
    if ((strstr(L.path, "{id}") || (L.body && strstr(L.body, "{id}"))) && !L.have_ids)
        return cmd_usage_error("apiload", "{id} is used but no --ids gives device ids");
    /* strip one trailing '/' of the base */
    static char api[1024];
    snprintf(api, sizeof api, "%s", L.api);
    size_t n = strlen(api);
    if (n && api[n - 1] == '/')
        api[n - 1] = '\0';
    L.api = api;
    if (until && L.requests > 1000000)
        return cmd_usage_error("apiload", "--until follows at most 1000000 commands (--requests)");
    if (until && !(L.body && strstr(L.body, "{callback}")))
        return cmd_usage_error("apiload", "--until needs {callback} in the body (its callbackUrl)");
    char err[400];
    if (until) {
        U.cap = 1;
        while (U.cap < L.requests * 2 + 16)
            U.cap <<= 1;
        U.t = calloc(U.cap, sizeof *U.t);
        pthread_mutex_init(&U.mu, NULL);
        struct cb_recv_opts ro = {.bind = "127.0.0.1", .on_line = on_push, .arg = &U};
        if (!U.t || !(U.recv = cb_recv_start(&ro, err, sizeof err))) {
            fprintf(stderr, "fleetsim apiload: the receiver of --until: %s\n", U.t ? err : "out of memory");
            free(U.t);
            return RUN_EXIT_HARNESS;
        }
        L.u = &U;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (login(&L, err, sizeof err) < 0) {
        fprintf(stderr, "fleetsim apiload: %s\n", err);
        curl_global_cleanup();
        if (L.u) {
            cb_recv_stop(U.recv);
            free(U.t);
        }
        return RUN_EXIT_USAGE;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    int rc = run_load(&L);
    curl_global_cleanup();
    if (L.u) {
        cb_recv_stop(U.recv);
        free(U.t);
        pthread_mutex_destroy(&U.mu);
    }
    return rc;
}
