/* Hex to a malloc'd buffer of exactly the frame's size, so ASan sees overreads:
 * for table tests of codecs.  Header-only, for tests/unit (after cmocka.h). */
#ifndef FLEETSIM_TEST_UNHEX_H
#define FLEETSIM_TEST_UNHEX_H

#include <stdlib.h>
#include <string.h>

#include "sim/proto/hex.h"

static inline uint8_t *unhex(const char *hex, size_t *n)
{
    size_t len = strlen(hex);
    uint8_t *b = malloc(len / 2 + 1);
    assert_non_null(b);
    assert_int_equal(hex_decode(hex, len, HEX_SPACES, b, len / 2 + 1, n, NULL), HEX_OK);
    uint8_t *exact = malloc(*n ? *n : 1);
    assert_non_null(exact);
    memcpy(exact, b, *n);
    free(b);
    return exact;
}

#endif
