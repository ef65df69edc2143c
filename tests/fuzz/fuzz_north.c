/* libFuzzer target: any bytes as a northbound API form body and as a request path
 * against the API's route patterns (sim/platform/north/north.c): never a crash; a
 * form gives an object of strings; a path that matches captures only whole
 * segments without '/'. */
#include <stdlib.h>
#include <string.h>

#include "sim/platform/north/north.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *f = north_form_json((const char *)data, size);
    if (!f || !cJSON_IsObject(f))
        abort();
    const cJSON *v;
    cJSON_ArrayForEach(v, f) if (!cJSON_IsString(v)) abort();
    cJSON_Delete(f);
    char *path = malloc(size + 1);
    if (!path)
        abort();
    memcpy(path, data, size);
    path[size] = 0;
    static const char *const patterns[] = {"/iocm/app/dm/v1.4.0/devices/{deviceId}",
                                           "/iocm/app/cmd/v1.4.0/deviceCommands/{commandId}/{x}", "/{a}/{b}/{c}/{d}",
                                           "/iocm/app/sec/v1.1.0/login"};
    for (size_t i = 0; i < sizeof patterns / sizeof *patterns; i++) {
        struct north_req rq;
        memset(&rq, 0, sizeof rq);
        if (north_match(patterns[i], path, &rq))
            for (int k = 0; k < rq.n_params; k++)
                if (!rq.params[k][0] || strchr(rq.params[k], '/') || strlen(rq.params[k]) > 255)
                    abort();
    }
    free(path);
    return 0;
}
