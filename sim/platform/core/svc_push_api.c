/* The subscriptions API (004 §5; docs/api.md, Subscriptions and push notifications) and fleetsim's own pushStatus.
 * Subscriptions are per application (the caller's appId): one sees, and deletes,
 * only its own.  Writes commit before the answer (svc_commit). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "sim/platform/core/core_internal.h"
#include "sim/platform/core/shadow.h"
#include "sim/platform/core/svc_push.h"

#define SUBS "/iocm/app/sub/v1.2.0/subscriptions"
#define PAGE_SIZE_MAX 250

static struct svc_push *push_of(void *ctx, struct north_resp *rs)
{
    struct core *k = ctx;
    if (!k->svc_push)
        north_error(rs, 500, NE_INTERNAL, "the push service is not running");
    return k->svc_push;
}

static const char *app_of(const struct north_req *rq) { return rq->app ? rq->app->id : ""; }

static cJSON *sub_json(const struct svc_push *P, const struct psub *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "subscriptionId", s->id);
    cJSON_AddStringToObject(o, "notifyType", push_types[s->type]);
    cJSON_AddStringToObject(o, "callbackUrl", P->urls[s->url].url);
    return o;
}

static int new_id(char out[PUSH_SUB_ID_LEN + 1])
{
    unsigned char b[PUSH_SUB_ID_LEN / 2];
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t r = getrandom(b + got, sizeof b - got, 0);
        if (r < 0 && errno != EINTR)
            return -1;
        if (r > 0)
            got += (size_t)r;
    }
    for (size_t i = 0; i < sizeof b; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
    return 0;
}

static struct psub *find(struct svc_push *P, const char *app, const char *id)
{
    for (size_t i = 0; i < P->n_subs; i++)
        if (strcmp(P->subs[i].id, id) == 0 && strcmp(P->subs[i].app, app) == 0)
            return &P->subs[i];
    return NULL;
}

/* POST: 201 {subscriptionId, notifyType, callbackUrl}; the same (type, URL) again
 * gives the subscription the application has. */
static void sub_create(void *ctx, const struct north_req *rq, struct north_resp *rs)
{
    struct svc_push *P = push_of(ctx, rs);
    struct push_sub_req q;
    char err[256];
    if (!P)
        return;
    if (!rq->body) {
        north_error(rs, 400, NE_BAD_REQUEST, "body: a JSON object {notifyType, callbackUrl} is needed");
        return;
    }
    if (push_sub_parse(rq->body, &q, err, sizeof err) < 0) {
        north_error(rs, 400, NE_BAD_REQUEST, "%s", err);
        return;
    }
    const char *app = app_of(rq);
    for (size_t i = 0; i < P->n_subs; i++) {
        struct psub *s = &P->subs[i];
        if (s->type == q.type && strcmp(s->app, app) == 0 && strcmp(P->urls[s->url].url, q.url) == 0) {
            rs->status = 201;
            rs->body = sub_json(P, s);
            return;
        }
    }
    if (P->n_subs >= PUSH_SUBS_MAX) {
        north_error(rs, 409, NE_CONFLICT, "there are %d subscriptions, as many as the platform keeps", PUSH_SUBS_MAX);
        return;
    }
    int u = push_url_index(P, q.url);
    if (u < 0) {
        north_error(rs, 409, NE_CONFLICT, "callbackUrl: the platform pushes to %d URLs at most", PUSH_URLS_MAX);
        return;
    }
    struct psub *s = &P->subs[P->n_subs];
    memset(s, 0, sizeof *s);
    if (new_id(s->id) < 0) {
        north_error(rs, 500, NE_INTERNAL, "getrandom: %s", strerror(errno));
        return;
    }
    snprintf(s->app, sizeof s->app, "%s", app);
    s->type = q.type;
    s->url = u;
    s->owner = q.owner;
    s->created_ms = svc_unix_ms(svc_now_ms());
    if (push_store_sub_put(P, s) < 0) {
        svc_commit(P->k); /* what else the batch holds */
        north_error(rs, 500, NE_INTERNAL, "the store refused the subscription");
        return;
    }
    svc_commit(P->k);
    P->n_subs++;
    P->wanted[s->type]++;
    rs->status = 201;
    rs->body = sub_json(P, s);
}

/* GET ?notifyType=&pageNo=&pageSize=: the application's, oldest first. */
static void sub_list(void *ctx, const struct north_req *rq, struct north_resp *rs)
{
    struct svc_push *P = push_of(ctx, rs);
    char err[256];
    long page, size;
    int t;
    if (!P)
        return;
    if (push_type_param(north_query(rq, "notifyType"), &t, err, sizeof err) < 0 ||
        push_int_param("pageNo", north_query(rq, "pageNo"), 0, 0, 1000000, &page, err, sizeof err) < 0 ||
        push_int_param("pageSize", north_query(rq, "pageSize"), 10, 1, PAGE_SIZE_MAX, &size, err, sizeof err) < 0) {
        north_error(rs, 400, NE_BAD_REQUEST, "%s", err);
        return;
    }
    const char *app = app_of(rq);
    cJSON *o = cJSON_CreateObject(), *arr = cJSON_CreateArray();
    long total = 0;
    for (size_t i = 0; i < P->n_subs; i++) {
        const struct psub *s = &P->subs[i];
        if (strcmp(s->app, app) != 0 || (t >= 0 && s->type != t))
            continue;
        if (total >= page * size && total < (page + 1) * size)
            cJSON_AddItemToArray(arr, sub_json(P, s));
        total++;
    }
    cJSON_AddNumberToObject(o, "totalCount", (double)total);
    cJSON_AddNumberToObject(o, "pageNo", (double)page);
    cJSON_AddNumberToObject(o, "pageSize", (double)size);
    cJSON_AddItemToObject(o, "subscriptions", arr);
    rs->status = 200;
    rs->body = o;
}

static void sub_get(void *ctx, const struct north_req *rq, struct north_resp *rs)
{
    struct svc_push *P = push_of(ctx, rs);
    if (!P)
        return;
    struct psub *s = find(P, app_of(rq), rq->params[0]);
    if (!s) {
        north_error(rs, 404, NE_NOT_FOUND, "no subscription %s", rq->params[0]);
        return;
    }
    rs->status = 200;
    rs->body = sub_json(P, s);
}

/* Remove subscription i (its messages queued still go). */
static int remove_at(struct svc_push *P, size_t i)
{
    if (push_store_sub_del(P, P->subs[i].id) < 0)
        return -1;
    P->wanted[P->subs[i].type]--;
    memmove(&P->subs[i], &P->subs[i + 1], (P->n_subs - i - 1) * sizeof *P->subs);
    P->n_subs--;
    return 0;
}

static void sub_delete(void *ctx, const struct north_req *rq, struct north_resp *rs)
{
    struct svc_push *P = push_of(ctx, rs);
    if (!P)
        return;
    struct psub *s = find(P, app_of(rq), rq->params[0]);
    if (!s) {
        north_error(rs, 404, NE_NOT_FOUND, "no subscription %s", rq->params[0]);
        return;
    }
    if (remove_at(P, (size_t)(s - P->subs)) < 0) {
        svc_commit(P->k);
        north_error(rs, 500, NE_INTERNAL, "the store refused the deletion");
        return;
    }
    svc_commit(P->k);
    rs->status = 204;
}

/* DELETE ?notifyType=: the application's of that type, or all of them. */
static void sub_delete_all(void *ctx, const struct north_req *rq, struct north_resp *rs)
{
    struct svc_push *P = push_of(ctx, rs);
    char err[256];
    int t;
    if (!P)
        return;
    if (push_type_param(north_query(rq, "notifyType"), &t, err, sizeof err) < 0) {
        north_error(rs, 400, NE_BAD_REQUEST, "%s", err);
        return;
    }
    const char *app = app_of(rq);
    for (size_t i = P->n_subs; i-- > 0;)
        if (strcmp(P->subs[i].app, app) == 0 && (t < 0 || P->subs[i].type == t) && remove_at(P, i) < 0) {
            svc_commit(P->k);
            north_error(rs, 500, NE_INTERNAL, "the store refused the deletion");
            return;
        }
    svc_commit(P->k);
    rs->status = 204;
}

/* GET pushStatus (fleetsim's own): the counters and the state of every URL, or of the
 * one ?callbackUrl= names. */
static void push_status(void *ctx, const struct north_req *rq, struct north_resp *rs)
{
    struct svc_push *P = push_of(ctx, rs);
    if (!P)
        return;
    const char *only = north_query(rq, "callbackUrl");
    if (only && (!only[0] || strlen(only) > PUSH_URL_LEN_MAX)) {
        north_error(rs, 400, NE_BAD_REQUEST, "callbackUrl: %s", only[0] ? "longer than 1024 bytes" : "empty");
        return;
    }
    const struct core_slot *st = P->k->st;
    cJSON *o = cJSON_CreateObject(), *c = cJSON_AddObjectToObject(o, "counters");
    cJSON_AddNumberToObject(c, "queued", (double)st->push_queued);
    cJSON_AddNumberToObject(c, "sent", (double)st->push_sent);
    cJSON_AddNumberToObject(c, "retried", (double)st->push_retried);
    cJSON_AddNumberToObject(c, "failed", (double)st->push_failed);
    cJSON_AddNumberToObject(c, "delivered", (double)st->push_delivered);
    cJSON_AddNumberToObject(c, "expired", (double)st->push_expired);
    cJSON_AddNumberToObject(c, "rejected", (double)st->push_rejected);
    cJSON_AddNumberToObject(c, "dropped", (double)st->push_dropped);
    cJSON_AddNumberToObject(c, "pending", (double)st->push_pending);
    cJSON *arr = cJSON_AddArrayToObject(o, "urls");
    for (int u = 0; u < P->n_urls; u++) {
        const struct purl *U = &P->urls[u];
        const struct push_url *pu = &P->pu[u];
        if (only && strcmp(only, U->url) != 0)
            continue;
        cJSON *x = cJSON_CreateObject();
        char t[17];
        cJSON_AddStringToObject(x, "callbackUrl", U->url);
        cJSON_AddStringToObject(x, "status", pu->invalid ? "INVALID" : "VALID");
        cJSON_AddNumberToObject(x, "failuresInWindow", pu->failures);
        if (pu->window_ms) {
            shadow_time_text(push_unix_of(pu->window_ms), t);
            cJSON_AddStringToObject(x, "windowStart", t);
        }
        if (pu->invalid) {
            shadow_time_text(push_unix_of(pu->next_probe_ms), t);
            cJSON_AddStringToObject(x, "nextProbe", t);
        }
        cJSON_AddNumberToObject(x, "delivered", (double)pu->delivered);
        cJSON_AddNumberToObject(x, "failed", (double)pu->failed);
        cJSON_AddNumberToObject(x, "queued", (double)U->fresh.n);
        cJSON_AddNumberToObject(x, "kept", (double)U->kept.n);
        cJSON_AddNumberToObject(x, "inFlight", U->inflight);
        cJSON_AddItemToArray(arr, x);
    }
    rs->status = 200;
    rs->body = o;
}

const struct north_route svc_push_routes[] = {
    {"POST", SUBS, sub_create},
    {"GET", SUBS, sub_list},
    {"DELETE", SUBS, sub_delete_all},
    {"GET", SUBS "/{subscriptionId}", sub_get},
    {"DELETE", SUBS "/{subscriptionId}", sub_delete},
    {"GET", "/iocm/app/sub/v1.2.0/pushStatus", push_status},
};
const size_t svc_push_n_routes = sizeof svc_push_routes / sizeof *svc_push_routes;
