/* Push notifications (004 §5; svc_push.h): the service's life, what it produces
 * itself (deviceDataChanged for a report, deviceAdded for a registration), and
 * what the other services hand it (svc_push_notify, svc_push_to_url).  A body is
 * only built when someone subscribed to its type: reports come at 40,000 a second. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/platform/core/core_internal.h"
#include "sim/platform/core/shadow.h"
#include "sim/platform/core/svc_push.h"

int svc_push_start(struct core *k, char *err, size_t errcap)
{
    struct svc_push *P = calloc(1, sizeof *P);
    if (!P || !(P->subs = calloc(PUSH_SUBS_MAX, sizeof *P->subs))) {
        free(P);
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    P->k = k;
    snprintf(P->ca, sizeof P->ca, "%s", k->cfg->push_ca);
    if (push_store_open(P, err, errcap) < 0) {
        free(P->subs);
        free(P);
        return -1;
    }
    if (push_send_start(P, err, errcap) < 0 || push_store_load(P, err, errcap) < 0) {
        push_send_stop(P);
        push_store_close(P);
        free(P->subs);
        free(P);
        return -1;
    }
    k->svc_push = P;
    return 0;
}

void svc_push_stop(struct core *k)
{
    struct svc_push *P = k->svc_push;
    if (!P)
        return;
    push_send_stop(P);
    push_store_close(P);
    free(P->subs);
    free(P);
    k->svc_push = NULL;
}

bool svc_push_wanted(struct core *k, const char *type)
{
    struct svc_push *P = k->svc_push;
    int t = P ? push_type_index(type) : -1;
    return t >= 0 && P->wanted[t] > 0;
}

/* body's text to every subscription of type t. */
static void fan_out(struct svc_push *P, int t, const char *text)
{
    size_t len = strlen(text);
    for (size_t i = 0; i < P->n_subs; i++) {
        if (P->subs[i].type != t)
            continue;
        char *copy = malloc(len + 1);
        if (!copy) {
            P->k->st->push_dropped++;
            continue;
        }
        memcpy(copy, text, len + 1);
        push_enqueue(P, P->subs[i].url, copy, len);
    }
}

/* The mutants that lose one type of notification (svc_mutant.c). */
static bool mutant_drops(struct core *k, const char *type)
{
    static const char *const drop[][2] = {{"push-no-device-added", SVC_NOTIFY_DEVICE_ADDED},
                                          {"push-no-data-changed", SVC_NOTIFY_DATA},
                                          {"push-no-device-deleted", SVC_NOTIFY_DELETED}};
    for (size_t i = 0; i < sizeof drop / sizeof *drop; i++)
        if (strcmp(type, drop[i][1]) == 0 && svc_mutant(k, drop[i][0]))
            return true;
    return false;
}

void svc_push_notify(struct core *k, const char *type, cJSON *body)
{
    struct svc_push *P = k->svc_push;
    int t = P ? push_type_index(type) : -1;
    if (t < 0 || !P->wanted[t] || !body || mutant_drops(k, type)) {
        cJSON_Delete(body);
        return;
    }
    /* as 004's pushes carry it */
    const cJSON *has = cJSON_GetObjectItemCaseSensitive(body, "notifyType");
    if (!cJSON_IsString(has) || strcmp(has->valuestring, push_types[t]) != 0) {
        cJSON_DeleteItemFromObjectCaseSensitive(body, "notifyType");
        cJSON_AddStringToObject(body, "notifyType", push_types[t]);
    }
    char *text = cJSON_PrintUnformatted(body);
    cJSON_Delete(body);
    if (!text) {
        k->st->push_dropped++;
        return;
    }
    fan_out(P, t, text);
    cJSON_free(text);
}

void svc_push_to_url(struct core *k, const char *url, cJSON *body)
{
    struct svc_push *P = k->svc_push;
    char err[160];
    char *text = P && body && url && push_url_check("callbackUrl", url, err, sizeof err) == 0
                     ? cJSON_PrintUnformatted(body)
                     : NULL;
    cJSON_Delete(body);
    if (!P)
        return;
    int u = text ? push_url_index(P, url) : -1;
    if (u < 0) {
        cJSON_free(text);
        k->st->push_dropped++;
        return;
    }
    size_t len = strlen(text);
    char *copy = malloc(len + 1);
    if (copy)
        memcpy(copy, text, len + 1);
    cJSON_free(text);
    if (!copy) {
        k->st->push_dropped++;
        return;
    }
    push_enqueue(P, u, copy, len);
}

static int type_data = -1, type_added = -1;

static bool wanted_index(struct core *k, int *cache, const char *type)
{
    if (*cache < 0)
        *cache = push_type_index(type);
    return k->svc_push && k->svc_push->wanted[*cache] > 0;
}

/* deviceDataChanged: {notifyType, deviceId, gatewayId, service: {serviceId,
 * serviceType, data, eventTime}}; data as reported (JSON), eventTime the device's. */
void svc_push_report(struct core *k, int proto, const char *id, const char *service, const char *data,
                     int64_t at_ms)
{
    (void)proto;
    if (!wanted_index(k, &type_data, SVC_NOTIFY_DATA))
        return;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "notifyType", SVC_NOTIFY_DATA);
    cJSON_AddStringToObject(o, "deviceId", id);
    cJSON_AddStringToObject(o, "gatewayId", id);
    cJSON *s = cJSON_AddObjectToObject(o, "service");
    cJSON_AddStringToObject(s, "serviceId", service);
    cJSON_AddStringToObject(s, "serviceType", service);
    cJSON *d = cJSON_Parse(data);
    cJSON_AddItemToObject(s, "data", d ? d : cJSON_CreateString(data));
    char t[17];
    shadow_time_text(at_ms, t);
    cJSON_AddStringToObject(s, "eventTime", t);
    svc_push_notify(k, SVC_NOTIFY_DATA, o);
}

/* deviceAdded: {notifyType, deviceId, gatewayId, nodeType, deviceInfo}; deviceInfo
 * the device as GET devices/{deviceId} shows it, without its id and data. */
void svc_push_registered(struct core *k, int proto, const char *id)
{
    (void)proto;
    if (!wanted_index(k, &type_added, SVC_NOTIFY_DEVICE_ADDED))
        return;
    cJSON *info = NULL;
    char err[200];
    if (store_device_json(k->store, id, &info, err, sizeof err) != 0 || !info) {
        cJSON_Delete(info);
        info = cJSON_CreateObject();
    }
    cJSON_DeleteItemFromObjectCaseSensitive(info, "deviceId");
    cJSON_DeleteItemFromObjectCaseSensitive(info, "services");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "notifyType", SVC_NOTIFY_DEVICE_ADDED);
    cJSON_AddStringToObject(o, "deviceId", id);
    cJSON_AddStringToObject(o, "gatewayId", id);
    cJSON_AddStringToObject(o, "nodeType", "ENDPOINT");
    cJSON_AddItemToObject(o, "deviceInfo", info);
    svc_push_notify(k, SVC_NOTIFY_DEVICE_ADDED, o);
}
