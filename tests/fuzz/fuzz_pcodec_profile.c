/* libFuzzer target: any text as a product file (sim/proto/pcodec_parse.c): parsed or
 * refused with a message that names the file, never a crash or a leak; a product
 * that parses can encode each of its messages' errors cleanly (empty values). */
#include <stdlib.h>
#include <string.h>

#include "sim/proto/pcodec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pc_product *p = NULL;
    char err[600];
    if (pc_product_parse_text((const char *)data, size, "f.json", &p, err, sizeof err) != 0) {
        if (p || strncmp(err, "f.json", 6) != 0)
            abort();
        return 0;
    }
    cJSON *empty = cJSON_CreateObject();
    for (int i = 0; i < p->n_messages; i++) {
        uint8_t out[256];
        size_t n;
        /* every data field is missing, unless the message has none */
        int rc = pc_encode(p, i, empty, 0, 0, out, sizeof out, &n, err, sizeof err);
        if (rc != 0 && strncmp(err, "data.", 5) != 0 && !strstr(err, "bytes of room"))
            abort();
    }
    cJSON_Delete(empty);
    pc_product_free(p);
    return 0;
}
