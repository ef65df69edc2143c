/* libFuzzer target: any text through the hex decoder, which reads scenario bodies,
 * vector files and the command line.  Both modes agree with each other and with
 * counting; an error names a character inside the input; what decodes encodes back
 * to digits that decode the same. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim/proto/hex.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    size_t cap = size / 2 + 1;
    uint8_t *a = malloc(cap), *b = malloc(cap);
    char *text = malloc(2 * cap + 1);
    char msg[160];
    if (!a || !b || !text)
        abort();

    for (unsigned flags = HEX_STRICT; flags <= HEX_SPACES; flags++) {
        size_t n = 0, pos = 0, counted = 0, cpos = 0;
        enum hex_rc rc = hex_decode(s, size, flags, a, cap, &n, &pos);
        /* counting only fails where decoding does (n / 2 bytes are always enough) */
        enum hex_rc crc = hex_decode(s, size, flags, NULL, 0, &counted, &cpos);
        if (rc == HEX_E_NOSPACE || rc != crc)
            abort();
        if (rc != HEX_OK) {
            if (pos >= size || cpos != pos || n != 0)
                abort();
            hex_format_error(rc, s, size, pos, msg, sizeof msg);
            continue;
        }
        if (n > size / 2 || counted != n)
            abort();
        /* one byte less room: full at the last byte's first digit */
        if (n > 0 && hex_decode(s, size, flags, b, n - 1, NULL, &pos) != HEX_E_NOSPACE)
            abort();
        if (hex_encode(a, n, text, 2 * cap + 1) != 2 * n)
            abort();
        size_t m = 0;
        if (hex_decode(text, 2 * n, HEX_STRICT, b, cap, &m, NULL) != HEX_OK || m != n || memcmp(a, b, n) != 0)
            abort();
        hex_encode_lower(a, n, text, 2 * cap + 1);
        if (hex_decode(text, 2 * n, HEX_STRICT, b, cap, &m, NULL) != HEX_OK || m != n || memcmp(a, b, n) != 0)
            abort();
    }
    /* what strict mode reads, the tolerant mode reads the same */
    size_t n1 = 0, n2 = 0;
    if (hex_decode(s, size, HEX_STRICT, a, cap, &n1, NULL) == HEX_OK &&
        (hex_decode(s, size, HEX_SPACES, b, cap, &n2, NULL) != HEX_OK || n1 != n2 || memcmp(a, b, n1) != 0))
        abort();
    free(a);
    free(b);
    free(text);
    return 0;
}
