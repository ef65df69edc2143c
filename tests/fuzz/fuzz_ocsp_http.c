/* libFuzzer target: any bytes as an OCSP responder's HTTP answer, whole (eof)
 * and cut anywhere (more to come).  A body found lies inside the input; never a
 * crash or a read past the end. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "sim/net/ocsp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[160];
    for (int eof = 0; eof < 2; eof++) {
        const uint8_t *body = NULL;
        size_t blen = 0;
        int rc = ocsp_http_body(data, size, eof, &body, &blen, err, sizeof err);
        if (rc == 1 && (body < data || body + blen > data + size))
            abort();
        if (rc == 0 && eof)
            abort(); /* at the end there is an answer or an error */
    }
    return 0;
}
