/* The subscriptions API's input (svc_push.h): a subscription's body and the query
 * parameters, each refusal naming its field.  Pure: no store, no loop. */
#include <stdio.h>
#include <string.h>

#include "sim/platform/core/svc_push.h"

const char *const push_types[PUSH_N_TYPES] = {
    SVC_NOTIFY_DEVICE_ADDED, SVC_NOTIFY_DEVICE_INFO, SVC_NOTIFY_DATA,       SVC_NOTIFY_DELETED,
    SVC_NOTIFY_COMMAND,      SVC_NOTIFY_SHADOW,      SVC_NOTIFY_SW_UPGRADE, SVC_NOTIFY_FW_UPGRADE,
};

int push_type_index(const char *type)
{
    for (int i = 0; type && i < PUSH_N_TYPES; i++)
        if (strcmp(type, push_types[i]) == 0)
            return i;
    return -1;
}

static void type_error(const char *text, char *err, size_t errcap)
{
    snprintf(err, errcap, "notifyType: '%.64s' is not one of %s, %s, %s, %s, %s, %s, %s, %s", text, push_types[0],
             push_types[1], push_types[2], push_types[3], push_types[4], push_types[5], push_types[6],
             push_types[7]);
}

int push_url_check(const char *field, const char *url, char *err, size_t errcap)
{
    size_t n = strlen(url), skip;
    if (strncmp(url, "http://", 7) == 0)
        skip = 7;
    else if (strncmp(url, "https://", 8) == 0)
        skip = 8;
    else {
        snprintf(err, errcap, "%s: not an http:// or https:// URL", field);
        return -1;
    }
    if (n > PUSH_URL_LEN_MAX) {
        snprintf(err, errcap, "%s: %zu bytes, more than %d", field, n, PUSH_URL_LEN_MAX);
        return -1;
    }
    if (!url[skip] || strchr("/:?#@", url[skip])) {
        snprintf(err, errcap, "%s: no host after the scheme", field);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c <= 0x20 || c >= 0x7f) {
            snprintf(err, errcap, "%s: a space, control or non-ASCII byte at %zu (percent-encode it)", field, i);
            return -1;
        }
    }
    return 0;
}

int push_sub_parse(const cJSON *body, struct push_sub_req *out, char *err, size_t errcap)
{
    memset(out, 0, sizeof *out);
    if (!cJSON_IsObject(body)) {
        snprintf(err, errcap, "body: a JSON object {notifyType, callbackUrl, ownerFlag} is needed");
        return -1;
    }
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(body, "notifyType");
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(body, "callbackUrl");
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(body, "ownerFlag");
    if (!t) {
        snprintf(err, errcap, "notifyType: missing");
        return -1;
    }
    if (!cJSON_IsString(t)) {
        snprintf(err, errcap, "notifyType: not a string");
        return -1;
    }
    if ((out->type = push_type_index(t->valuestring)) < 0) {
        type_error(t->valuestring, err, errcap);
        return -1;
    }
    if (!u) {
        snprintf(err, errcap, "callbackUrl: missing");
        return -1;
    }
    if (!cJSON_IsString(u)) {
        snprintf(err, errcap, "callbackUrl: not a string");
        return -1;
    }
    if (push_url_check("callbackUrl", u->valuestring, err, errcap) < 0)
        return -1;
    out->url = u->valuestring;
    if (o && !cJSON_IsNull(o)) {
        if (cJSON_IsBool(o))
            out->owner = cJSON_IsTrue(o);
        else if (cJSON_IsString(o) && (strcmp(o->valuestring, "true") == 0 || strcmp(o->valuestring, "false") == 0))
            out->owner = strcmp(o->valuestring, "true") == 0;
        else {
            snprintf(err, errcap, "ownerFlag: not true or false");
            return -1;
        }
    }
    return 0;
}

int push_int_param(const char *field, const char *text, long dflt, long lo, long hi, long *out, char *err,
                   size_t errcap)
{
    if (!text) {
        *out = dflt;
        return 0;
    }
    long v = 0;
    size_t n = strlen(text);
    bool ok = n > 0 && n <= 9;
    for (size_t i = 0; ok && i < n; i++) {
        if (text[i] < '0' || text[i] > '9')
            ok = false;
        else
            v = v * 10 + (text[i] - '0');
    }
    if (!ok || v < lo || v > hi) {
        snprintf(err, errcap, "%s: '%.32s' is not a whole number from %ld to %ld", field, text, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

int push_type_param(const char *text, int *out, char *err, size_t errcap)
{
    *out = -1;
    if (!text)
        return 0;
    if ((*out = push_type_index(text)) < 0) {
        type_error(text, err, errcap);
        return -1;
    }
    return 0;
}
