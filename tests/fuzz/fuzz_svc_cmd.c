/* libFuzzer target: any bytes as what the commands' calls parse from outside
 * (sim/platform/core/svc_cmd_api.c, sim/platform/jt808/jt808_gw_map.c): a time
 * parameter (yyyyMMddTHHmmssZ) and a JT/T 808 command, the first line its method and
 * the rest its paras: never a crash; a time accepted prints back as itself; a
 * command refused says which field, one accepted has a request kind. */
#include <stdlib.h>
#include <string.h>

#include "sim/platform/core/shadow.h"
#include "sim/platform/core/svc_cmd.h"
#include "sim/platform/jt808/jt808_gw.h"
#include "sim/proto/jt808_kinds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        abort();
    memcpy(text, data, size);
    text[size] = 0;
    int64_t ms;
    if (scmd_parse_time(text, &ms)) {
        char back[17];
        shadow_time_text(ms, back);
        if (strcmp(back, text) != 0)
            abort();
    }
    char *nl = strchr(text, '\n');
    const char *method = text;
    cJSON *paras = NULL;
    if (nl) {
        *nl = 0;
        paras = cJSON_Parse(nl + 1);
    }
    uint32_t kind = 0;
    char *body = NULL, err[300] = "";
    if (jt808_gw_map_command("svc", method, paras, &kind, &body, err, sizeof err) == 0) {
        if (!jt808_kind_msg((int)kind))
            abort();
    } else if (strncmp(err, "command.method", 14) != 0 && strncmp(err, "command.paras", 13) != 0) {
        abort();
    }
    free(body);
    cJSON_Delete(paras);
    free(text);
    return 0;
}
