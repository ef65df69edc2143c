/* libFuzzer target: any bytes as the body of a device registration and of a
 * device change (JSON), and as the device calls' query parameters (pageNo,
 * pageSize, a time, a status) against sim/platform/core/svc_dev_req.c: never a
 * crash; a refusal names its field ("field: ..."); an accepted registration has a
 * deviceId of 1..64 characters and a protocol the platform knows. */
#include <stdlib.h>
#include <string.h>

#include "sim/platform/core/svc_dev.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void named(const char *err)
{
    const char *colon = strchr(err, ':');
    if (!colon || colon == err || colon[1] != ' ')
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        abort();
    memcpy(text, data, size);
    text[size] = 0;
    char err[256];
    cJSON *j = cJSON_ParseWithLength(text, size);
    if (j) {
        struct svc_dev_reg r;
        err[0] = 0;
        if (svc_dev_reg_parse(j, &r, err, sizeof err) == 0) {
            size_t n = strlen(r.device_id);
            if (n < 1 || n > STORE_ID_MAX || !r.node_id[0] || !r.verify_code[0] || r.timeout_s < 0)
                abort();
            if (strcmp(r.protocol, "jt808") && strcmp(r.protocol, "lwm2m") && strcmp(r.protocol, "coap") &&
                strcmp(r.protocol, "mqtt"))
                abort();
        } else {
            named(err);
        }
        struct svc_dev_mod m;
        err[0] = 0;
        if (svc_dev_mod_parse(j, &m, err, sizeof err) == 0) {
            if (!m.has_name && !m.has_end_user)
                abort();
        } else {
            named(err);
        }
        cJSON_Delete(j);
    }
    int no, sz;
    err[0] = 0;
    if (svc_dev_page_parse(text, text, 25, 250, &no, &sz, err, sizeof err) == 0) {
        if (no < 0 || sz < 1 || sz > 250)
            abort();
    } else {
        named(err);
    }
    int64_t ms;
    err[0] = 0;
    if (svc_dev_time_parse("startTime", text, &ms, err, sizeof err) == 0) {
        if (ms < 0)
            abort();
    } else {
        named(err);
    }
    int s = svc_dev_status_parse(text);
    if (s < -1 || s >= DS__COUNT)
        abort();
    free(text);
    return 0;
}
