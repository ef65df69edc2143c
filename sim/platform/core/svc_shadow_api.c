/* The shadow's calls of the northbound API (docs/api.md, Device shadows): PUT and GET of a
 * shadow (004 §9), and the routes of the configuration tasks (svc_shadow_task.c). */
#include <stdio.h>

#include "sim/platform/core/core_internal.h"
#include "sim/platform/core/svc_shadow_internal.h"

struct sd *sd_api_device(struct core *k, const char *id, struct north_resp *rs)
{
    struct sd *d = sd_get(k, id);
    if (!d) {
        north_error(rs, 404, NE_NOT_FOUND, "no device %s is registered", id);
        return NULL;
    }
    if (d->no_model) {
        north_error(rs, 404, NE_NOT_FOUND,
                    "device %s has no shadow: its product %s%s%s is not a model the platform knows (serve --profile)",
                    id, d->product[0] ? "\"" : "", d->product[0] ? d->product : "(none)", d->product[0] ? "\"" : "");
        return NULL;
    }
    return d;
}

/* PUT /iocm/app/shadow/v1.5.0/devices/{deviceId} {"serviceDesireds": [...]} */
static void shadow_put(void *ctx, const struct north_req *rq, struct north_resp *rs)
{
    struct core *k = ctx;
    struct sd *d = sd_api_device(k, rq->params[0], rs);
    if (!d)
        return;
    uint64_t before[256];
    int n = d->sh.n < 256 ? d->sh.n : 256;
    for (int i = 0; i < n; i++)
        before[i] = d->sh.svc[i].version;
    char err[512];
    if (svc_mutant(k, "shadow-no-merge"))
        for (int i = 0; i < n; i++)
            if (d->sh.svc[i].desired && d->sh.svc[i].version != d->sh.svc[i].synced) {
                cJSON_Delete(d->sh.svc[i].desired); /* an unsynced change is replaced, not merged */
                d->sh.svc[i].desired = cJSON_CreateObject();
            }
    if (shadow_put_desired(&d->sh, rq->body, sd_unix_now(), err, sizeof err) < 0) {
        if (svc_mutant(k, "shadow-no-check")) {
            rs->status = 200; /* a refused value answered as taken */
            return;
        }
        north_error(rs, 400, NE_BAD_REQUEST, "%s", err);
        return;
    }
    bool changed = false;
    for (int i = 0; i < n; i++)
        changed |= d->sh.svc[i].version != before[i];
    if (changed) {
        core_batch_begin(k);
        sd_save(k, d);
        for (int i = 0; i < n; i++)
            if (d->sh.svc[i].version != before[i] && !svc_mutant(k, "shadow-no-push"))
                sd_notify(k, d, i, "PENDING", NULL);
        if (!svc_mutant(k, "shadow-no-sync-now"))
            sd_sync(k, d);
        svc_commit(k);
    }
    rs->status = 200; /* 004 §9: the answer has no body */
}

/* GET /iocm/app/shadow/v1.5.0/devices/{deviceId} */
static void shadow_get(void *ctx, const struct north_req *rq, struct north_resp *rs)
{
    struct core *k = ctx;
    struct sd *d = sd_api_device(k, rq->params[0], rs);
    if (!d)
        return;
    rs->body = shadow_to_json(&d->sh, d->id, NULL, NULL);
    if (!rs->body) {
        north_error(rs, 500, NE_INTERNAL, "out of memory");
        return;
    }
    if (svc_mutant(k, "shadow-no-delta")) {
        const cJSON *sv;
        cJSON_ArrayForEach(sv, cJSON_GetObjectItemCaseSensitive(rs->body, "services"))
            cJSON_ReplaceItemInObjectCaseSensitive((cJSON *)sv, "delta", cJSON_CreateObject());
    }
    rs->status = 200;
}

const struct north_route svc_shadow_routes[] = {
    {"PUT", "/iocm/app/shadow/v1.5.0/devices/{deviceId}", shadow_put},
    {"GET", "/iocm/app/shadow/v1.5.0/devices/{deviceId}", shadow_get},
    {"POST", "/iocm/app/shadow/v1.5.0/devices/{deviceId}/configTasks", sd_task_post},
    {"GET", "/iocm/app/shadow/v1.5.0/devices/{deviceId}/configTasks", sd_task_list},
    {"GET", "/iocm/app/shadow/v1.5.0/devices/{deviceId}/configTasks/{taskId}", sd_task_get},
};
const size_t svc_shadow_n_routes = sizeof svc_shadow_routes / sizeof *svc_shadow_routes;
