/* libFuzzer target: any bytes through a product's codec (sim/proto/pcodec.c), both
 * directions, with the water meter of profiles/watermeter.json (FLEETSIM_FUZZ_PROFILE
 * names another).  An error names an offset inside the input; what decodes without
 * a deviation encodes back to exactly the same bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/textfile.h"
#include "sim/proto/pcodec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pc_product *product(void)
{
    static struct pc_product *p;
    if (p)
        return p;
    const char *path = getenv("FLEETSIM_FUZZ_PROFILE");
    char *text = NULL, err[600];
    size_t len = 0;
    if (textfile_read(path ? path : "../profiles/watermeter.json", 1 << 20, &text, &len) != 0 &&
        textfile_read("profiles/watermeter.json", 1 << 20, &text, &len) != 0) {
        fprintf(stderr, "fuzz_pcodec: no profile (set FLEETSIM_FUZZ_PROFILE)\n");
        abort();
    }
    if (pc_product_parse_text(text, len, "profile", &p, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_pcodec: %s\n", err);
        abort();
    }
    free(text);
    return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pc_product *p = product();
    for (int up = 0; up < 2; up++) {
        cJSON *out = NULL;
        char err[600];
        if (pc_decode(p, up, data, size, &out, err, sizeof err) != 0) {
            const char *at = strstr(err, "offset ");
            if (out || !at || strtoull(at + 7, NULL, 10) > size)
                abort();
            continue;
        }
        if (!cJSON_GetObjectItem(out, "deviations")) {
            int mi = -1;
            const char *name = cJSON_GetObjectItem(out, "message")->valuestring;
            for (int i = 0; i < p->n_messages; i++)
                if (strcmp(p->messages[i].name, name) == 0)
                    mi = i;
            const cJSON *mid = cJSON_GetObjectItem(out, "mid"), *ec = cJSON_GetObjectItem(out, "errcode");
            uint8_t *back = malloc(size + 1);
            size_t n = 0;
            if (!back || mi < 0 ||
                pc_encode(p, mi, cJSON_GetObjectItem(out, "data"), mid ? (uint64_t)mid->valuedouble : 0,
                          ec ? (uint64_t)ec->valuedouble : 0, back, size + 1, &n, err, sizeof err) != 0 ||
                n != size || memcmp(back, data, size) != 0) {
                fprintf(stderr, "fuzz_pcodec: re-encoding %s: %s\n", name, err);
                abort();
            }
            free(back);
        }
        cJSON_Delete(out);
    }
    return 0;
}
