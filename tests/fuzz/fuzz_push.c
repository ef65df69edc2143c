/* libFuzzer target: any bytes as a subscription's body (JSON) and as the query
 * parameters and callback URL of the subscriptions API (svc_push_parse.c): never a
 * crash; a refusal always names its field; an accepted body has a known
 * notifyType and an http(s) URL that push_url_check takes. */
#include <stdlib.h>
#include <string.h>

#include "sim/platform/core/svc_push.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void named(const char *err, const char *field)
{
    if (strncmp(err, field, strlen(field)) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    cJSON *body = cJSON_ParseWithLength((const char *)data, size);
    struct push_sub_req q;
    if (push_sub_parse(body, &q, err, sizeof err) == 0) {
        if (q.type < 0 || q.type >= PUSH_N_TYPES || !q.url || push_url_check("u", q.url, err, sizeof err) < 0)
            abort();
    } else if (strncmp(err, "body", 4) && strncmp(err, "notifyType", 10) && strncmp(err, "callbackUrl", 11) &&
               strncmp(err, "ownerFlag", 9)) {
        abort();
    }
    cJSON_Delete(body);
    char *text = malloc(size + 1);
    if (!text)
        abort();
    memcpy(text, data, size);
    text[size] = 0;
    long v;
    int t;
    if (push_int_param("pageSize", text, 10, 1, 250, &v, err, sizeof err) == 0) {
        if (v < 1 || v > 250)
            abort();
    } else
        named(err, "pageSize");
    if (push_type_param(text, &t, err, sizeof err) == 0) {
        if (t < 0 || strcmp(push_types[t], text) != 0)
            abort();
    } else
        named(err, "notifyType");
    if (push_url_check("callbackUrl", text, err, sizeof err) == 0) {
        if (strncmp(text, "http://", 7) && strncmp(text, "https://", 8))
            abort();
    } else
        named(err, "callbackUrl");
    free(text);
    return 0;
}
