/* `fleetsim decode product --profile FILE HEX` and `fleetsim encode product
 * --profile FILE JSON`: one message of a product's codec (sim/proto/pcodec.h),
 * for cmd_codec.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/textfile.h"
#include "sim/cli/cmd.h"
#include "sim/cli/cmd_product.h"
#include "sim/proto/hex.h"
#include "sim/proto/pcodec.h"

static struct pc_product *load(const char *name, const char *path)
{
    char *text = NULL, err[700];
    size_t len = 0;
    if (textfile_read(path, 4u << 20, &text, &len) != 0) {
        fprintf(stderr, "fleetsim %s: --profile %s: cannot read it\n", name, path);
        return NULL;
    }
    struct pc_product *p = NULL;
    if (pc_product_parse_text(text, len, path, &p, err, sizeof err) != 0)
        fprintf(stderr, "fleetsim %s: --profile %s\n", name, err);
    free(text);
    return p;
}

int cmd_decode_product(const char *profile, int from, bool compact, const uint8_t *frame, size_t n)
{
    struct pc_product *p = load("decode", profile);
    if (!p)
        return RUN_EXIT_USAGE;
    cJSON *out = NULL;
    char err[700];
    int rc = RUN_EXIT_FAIL;
    if (pc_decode(p, from != 0, frame, n, &out, err, sizeof err, NULL) != 0) {
        fprintf(stderr, "error: %s\n", err);
        goto done;
    }
    char *text = compact ? cJSON_PrintUnformatted(out) : cJSON_Print(out);
    if (!text) {
        fprintf(stderr, "fleetsim decode: out of memory\n");
        rc = RUN_EXIT_USAGE;
        goto done;
    }
    printf("%s\n", text);
    cJSON_free(text);
    const cJSON *d;
    cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(out, "deviations"))
    {
        const char *field = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "field"));
        fprintf(stderr, "deviation: %s at byte %.0f%s%s%s: %s\n",
                cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "kind")),
                cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(d, "offset")), field ? " (" : "",
                field ? field : "", field ? ")" : "", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "text")));
    }
    rc = RUN_EXIT_PASS;
done:
    cJSON_Delete(out);
    pc_product_free(p);
    return rc;
}

int cmd_encode_product(const char *profile, const cJSON *json)
{
    struct pc_product *p = load("encode", profile);
    if (!p)
        return RUN_EXIT_USAGE;
    int rc = RUN_EXIT_USAGE;
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(json, "message");
    const cJSON *mid = cJSON_GetObjectItemCaseSensitive(json, "mid");
    const cJSON *ec = cJSON_GetObjectItemCaseSensitive(json, "errcode");
    int mi = -1;
    for (int i = 0; cJSON_IsString(name) && i < p->n_messages; i++)
        if (strcmp(p->messages[i].name, name->valuestring) == 0)
            mi = i;
    if (!cJSON_IsObject(json)) {
        fprintf(stderr, "error: expected an object: {\"message\": NAME, \"data\": {...}[, \"mid\": N, \"errcode\": N]}\n");
    } else if (mi < 0) {
        char names[600] = "";
        for (int i = 0; i < p->n_messages; i++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "", p->messages[i].name);
        fprintf(stderr, "error: message: %s%s%s (the codec's: %s)\n", name ? "\"" : "missing",
                cJSON_IsString(name) ? name->valuestring : "", cJSON_IsString(name) ? "\" is not one" : "", names);
    } else if ((mid && (!cJSON_IsNumber(mid) || mid->valuedouble < 0)) || (ec && (!cJSON_IsNumber(ec) || ec->valuedouble < 0))) {
        fprintf(stderr, "error: %s: expected an integer from 0\n", mid && !cJSON_IsNumber(mid) ? "mid" : "errcode");
    } else {
        uint8_t out[PC_MAX_MSG];
        size_t n = 0;
        char err[700];
        const cJSON *data = cJSON_GetObjectItemCaseSensitive(json, "data");
        static const cJSON empty = {.type = cJSON_Object};
        if (pc_encode(p, mi, data ? data : &empty, mid ? (uint64_t)mid->valuedouble : 0,
                      ec ? (uint64_t)ec->valuedouble : 0, out, sizeof out, &n, err, sizeof err) != 0) {
            fprintf(stderr, "error: %s\n", err);
        } else {
            char *hex = malloc(2 * n + 1);
            if (hex) {
                hex_encode(out, n, hex, 2 * n + 1);
                printf("%s\n", hex);
                free(hex);
                rc = RUN_EXIT_PASS;
            }
        }
    }
    pc_product_free(p);
    return rc;
}
