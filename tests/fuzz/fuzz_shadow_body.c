/* libFuzzer target: any bytes as the body of a shadow PUT and of a configuration
 * task POST (svc_shadow.c, svc_shadow_task.c), against the built-in JT/T 808 model:
 * never a crash; a refusal always says what; an accepted PUT leaves a shadow whose
 * GET body can be built. */
#include <stdlib.h>
#include <string.h>

#include "sim/platform/core/shadow.h"
#include "sim/platform/core/svc_shadow_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct pc_product *p;
    char err[512];
    if (!p && pc_product_parse_text(svc_shadow_jt808_model,
                                    (size_t)(svc_shadow_jt808_model_end - svc_shadow_jt808_model), "built-in", &p,
                                    err, sizeof err) < 0)
        abort();
    cJSON *j = cJSON_ParseWithLength((const char *)data, size);
    if (!j)
        return 0;
    struct shadow sh;
    if (shadow_init(&sh, p, 1) < 0)
        abort();
    err[0] = 0;
    if (shadow_put_desired(&sh, j, 2, err, sizeof err) < 0) {
        if (!err[0])
            abort();
    } else {
        cJSON *o = shadow_to_json(&sh, "d", NULL, NULL);
        if (!o)
            abort();
        cJSON_Delete(o);
    }
    shadow_free(&sh);
    struct sd_task t;
    memset(&t, 0, sizeof t);
    err[0] = 0;
    if (sd_task_parse(j, p, &t, err, sizeof err) < 0 && !err[0])
        abort();
    if (t.config && (t.si < 0 || t.si >= p->n_services))
        abort();
    cJSON_Delete(t.config);
    cJSON_Delete(j);
    return 0;
}
