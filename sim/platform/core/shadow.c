/* A device's shadow; see shadow.h. */
#include "sim/platform/core/shadow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int shadow_init(struct shadow *sh, const struct pc_product *p, int64_t now_ms)
{
    memset(sh, 0, sizeof *sh);
    sh->product = p;
    sh->svc = calloc((size_t)(p->n_services ? p->n_services : 1), sizeof *sh->svc);
    if (!sh->svc)
        return -1;
    sh->n = p->n_services;
    for (int i = 0; i < sh->n; i++) {
        sh->svc[i].service = i;
        sh->svc[i].desired = cJSON_CreateObject();
        sh->svc[i].reported = cJSON_CreateObject();
        if (!sh->svc[i].desired || !sh->svc[i].reported) {
            shadow_free(sh);
            return -1;
        }
    }
    sh->created_ms = sh->modified_ms = now_ms;
    return 0;
}

void shadow_free(struct shadow *sh)
{
    for (int i = 0; sh->svc && i < sh->n; i++) {
        cJSON_Delete(sh->svc[i].desired);
        cJSON_Delete(sh->svc[i].reported);
    }
    free(sh->svc);
    sh->svc = NULL;
    sh->n = 0;
}

/* Set key of obj to a copy of v (replacing); 1 when the value changed. */
static int merge_key(cJSON *obj, const char *key, const cJSON *v)
{
    cJSON *old = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (old && cJSON_Compare(old, v, 1))
        return 0;
    cJSON *copy = cJSON_Duplicate(v, 1);
    if (!copy)
        return 0;
    if (old)
        cJSON_ReplaceItemInObjectCaseSensitive(obj, key, copy);
    else
        cJSON_AddItemToObject(obj, key, copy);
    return 1;
}

int shadow_put_desired(struct shadow *sh, const cJSON *body, int64_t now_ms, char *err, size_t cap)
{
    const struct pc_product *p = sh->product;
    const cJSON *list = cJSON_IsObject(body) ? cJSON_GetObjectItemCaseSensitive(body, "serviceDesireds") : NULL;
    if (!cJSON_IsObject(body)) {
        snprintf(err, cap, "body: expected an object with \"serviceDesireds\"");
        return -1;
    }
    const cJSON *m;
    cJSON_ArrayForEach(m, body)
    {
        if (strcmp(m->string, "serviceDesireds") != 0) {
            snprintf(err, cap, "%s: unknown member (known: serviceDesireds)", m->string);
            return -1;
        }
    }
    if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) < 1) {
        snprintf(err, cap, "serviceDesireds: %s", list ? "expected an array of at least one service" : "missing");
        return -1;
    }
    /* check everything first: all or nothing */
    const cJSON *e;
    int i = 0;
    cJSON_ArrayForEach(e, list)
    {
        char path[80];
        snprintf(path, sizeof path, "serviceDesireds[%d]", i);
        const cJSON *sid = cJSON_IsObject(e) ? cJSON_GetObjectItemCaseSensitive(e, "serviceId") : NULL;
        const cJSON *des = cJSON_IsObject(e) ? cJSON_GetObjectItemCaseSensitive(e, "desired") : NULL;
        if (!cJSON_IsObject(e)) {
            snprintf(err, cap, "%s: expected an object with serviceId and desired", path);
            return -1;
        }
        cJSON_ArrayForEach(m, e)
        {
            if (strcmp(m->string, "serviceId") != 0 && strcmp(m->string, "desired") != 0) {
                snprintf(err, cap, "%s.%s: unknown member (known: serviceId, desired)", path, m->string);
                return -1;
            }
        }
        if (!cJSON_IsString(sid)) {
            snprintf(err, cap, "%s.serviceId: %s", path, sid ? "expected a string" : "missing");
            return -1;
        }
        int si = pc_service_index(p, sid->valuestring);
        if (si < 0) {
            snprintf(err, cap, "%s.serviceId: \"%s\" is not a service of product %s", path, sid->valuestring, p->id);
            return -1;
        }
        if (!cJSON_IsObject(des) || !des->child) {
            snprintf(err, cap, "%s.desired: %s", path, des ? "expected an object of at least one property" : "missing");
            return -1;
        }
        const struct pc_service *s = &p->services[si];
        const cJSON *kv;
        cJSON_ArrayForEach(kv, des)
        {
            char at[200];
            snprintf(at, sizeof at, "%s.desired", path);
            const struct pc_prop *pr = NULL;
            for (int k = 0; k < s->n_props && !pr; k++)
                if (strcmp(s->props[k].name, kv->string) == 0)
                    pr = &s->props[k];
            if (!pr) {
                snprintf(err, cap, "%s.%s: not a property of service %s", at, kv->string, s->id);
                return -1;
            }
            if (!(pr->access & PA_W)) {
                snprintf(err, cap, "%s.%s: not writable (its access is %s%s%s)", at, kv->string,
                         pr->access & PA_R ? "R" : "", pr->access & PA_W ? "W" : "", pr->access & PA_E ? "E" : "");
                return -1;
            }
            double num;
            const char *str;
            if (pc_prop_value(pr, kv, at, &num, &str, err, cap) < 0)
                return -1;
        }
        i++;
    }
    cJSON_ArrayForEach(e, list)
    {
        int si = pc_service_index(p, cJSON_GetObjectItemCaseSensitive(e, "serviceId")->valuestring);
        struct shadow_service *ss = &sh->svc[si];
        int changed = 0;
        const cJSON *kv;
        cJSON_ArrayForEach(kv, cJSON_GetObjectItemCaseSensitive(e, "desired"))
        changed |= merge_key(ss->desired, kv->string, kv);
        if (changed) {
            ss->version++;
            ss->desired_ms = now_ms;
            sh->modified_ms = now_ms;
        }
    }
    return 0;
}

void shadow_report(struct shadow *sh, int si, const cJSON *data, int64_t now_ms)
{
    if (si < 0 || si >= sh->n || !cJSON_IsObject(data))
        return;
    struct shadow_service *ss = &sh->svc[si];
    /* A device sends its keys in the same order each time: the reported section
     * is walked beside the report, and a key is looked up only where the order
     * differs (a lookup per key made a report of n keys cost n^2/2 compares). */
    cJSON *cur = ss->reported->child;
    const cJSON *kv;
    cJSON_ArrayForEach(kv, data)
    {
        cJSON *old = cur && cur->string && strcmp(cur->string, kv->string) == 0
                         ? cur
                         : cJSON_GetObjectItemCaseSensitive(ss->reported, kv->string);
        if (old && cJSON_Compare(old, kv, 1)) {
            cur = old->next;
            continue;
        }
        cJSON *copy = cJSON_Duplicate(kv, 1);
        if (!copy) {
            cur = old ? old->next : NULL;
            continue;
        }
        if (old) {
            /* the copy carries its own copy of the name */
            if (!copy->string || !cJSON_ReplaceItemViaPointer(ss->reported, old, copy)) {
                cJSON_Delete(copy);
                cur = NULL;
                continue;
            }
        } else
            cJSON_AddItemToObject(ss->reported, kv->string, copy);
        cur = copy->next;
    }
    ss->reported_ms = now_ms;
    sh->modified_ms = now_ms;
}

cJSON *shadow_delta(const struct shadow *sh, int si)
{
    if (si < 0 || si >= sh->n)
        return NULL;
    const struct shadow_service *ss = &sh->svc[si];
    cJSON *d = NULL;
    const cJSON *kv;
    cJSON_ArrayForEach(kv, ss->desired)
    {
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(ss->reported, kv->string);
        if (r && cJSON_Compare(r, kv, 1))
            continue;
        if (!d && !(d = cJSON_CreateObject()))
            return NULL;
        cJSON_AddItemToObject(d, kv->string, cJSON_Duplicate(kv, 1));
    }
    return d;
}

bool shadow_pending(const struct shadow *sh, int si)
{
    if (si < 0 || si >= sh->n || sh->svc[si].version <= sh->svc[si].synced)
        return false;
    cJSON *d = shadow_delta(sh, si);
    bool pending = d != NULL;
    cJSON_Delete(d);
    return pending;
}

void shadow_synced(struct shadow *sh, int si, uint64_t v)
{
    if (si >= 0 && si < sh->n && v > sh->svc[si].synced && v <= sh->svc[si].version)
        sh->svc[si].synced = v;
}

void shadow_time_text(int64_t unix_ms, char out[17])
{
    time_t t = (time_t)(unix_ms / 1000);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm))
        snprintf(out, 17, "19700101T000000Z");
}

cJSON *shadow_to_json(const struct shadow *sh, const char *device_id, const char *gateway_id, const char *node_type)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    char t[17];
    cJSON_AddStringToObject(o, "deviceId", device_id);
    cJSON_AddStringToObject(o, "gatewayId", gateway_id ? gateway_id : device_id);
    cJSON_AddStringToObject(o, "nodeType", node_type ? node_type : "ENDPOINT");
    shadow_time_text(sh->created_ms, t);
    cJSON_AddStringToObject(o, "createTime", t);
    shadow_time_text(sh->modified_ms, t);
    cJSON_AddStringToObject(o, "lastModifiedTime", t);
    const struct pc_product *p = sh->product;
    cJSON *info = cJSON_AddObjectToObject(o, "deviceInfo");
    cJSON_AddStringToObject(info, "manufacturerId", p->manufacturer_id);
    cJSON_AddStringToObject(info, "manufacturerName", p->manufacturer_name);
    cJSON_AddStringToObject(info, "deviceType", p->device_type);
    cJSON_AddStringToObject(info, "model", p->model);
    cJSON_AddStringToObject(info, "protocolType", p->protocol);
    cJSON *svcs = cJSON_AddArrayToObject(o, "services");
    for (int i = 0; i < sh->n; i++) {
        const struct shadow_service *ss = &sh->svc[i];
        const struct pc_service *s = &p->services[ss->service];
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "serviceId", s->id);
        cJSON_AddStringToObject(j, "serviceType", s->type);
        cJSON_AddItemToObject(j, "reportedProps", cJSON_Duplicate(ss->reported, 1));
        cJSON_AddItemToObject(j, "desiredProps", cJSON_Duplicate(ss->desired, 1));
        shadow_time_text(ss->reported_ms ? ss->reported_ms : sh->created_ms, t);
        cJSON_AddStringToObject(j, "eventTime", t);
        cJSON_AddNumberToObject(j, "version", (double)ss->version);
        cJSON *d = shadow_delta(sh, i);
        cJSON_AddItemToObject(j, "delta", d ? d : cJSON_CreateObject());
        cJSON_AddItemToArray(svcs, j);
    }
    return o;
}
