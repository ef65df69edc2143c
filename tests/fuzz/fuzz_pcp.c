/* libFuzzer target: any bytes through the PCP decoder (both directions) and the
 * identification rules; a frame that decodes must encode and decode again. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "sim/proto/pcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int dev = 0; dev < 2; dev++) {
        struct pcp_msg m, m2;
        struct pcp_err err;
        if (pcp_decode(data, size, dev, &m, &err) == PCP_OK) {
            uint8_t out[PCP_HDR_LEN + PCP_MAX_DATA + 64];
            size_t n = 0;
            if (pcp_encode(&m, out, sizeof out, &n) == PCP_OK &&
                pcp_decode(out, n, dev, &m2, &err) != PCP_OK)
                abort();
            if (!pcp_identify(data, size, true, true, NULL))
                abort(); /* a frame that decodes is PCP, not business data */
        } else if (err.offset > size) {
            abort();
        }
    }
    const char *why = NULL;
    pcp_identify(data, size, true, true, &why);
    return 0;
}
