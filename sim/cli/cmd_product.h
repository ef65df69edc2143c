/* One message of a product's codec on the command line (cmd_product.c). */
#ifndef FLEETSIM_CMD_PRODUCT_H
#define FLEETSIM_CMD_PRODUCT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decode frame (from: 1 the device, 0 the platform) with the product file's codec
 * and print it; deviations on stderr.  The exit status. */
int cmd_decode_product(const char *profile, int from, bool compact, const uint8_t *frame, size_t n);
/* {"message": NAME, "data": {...}, "mid": N, "errcode": N} to hex on stdout.  The exit status. */
int cmd_encode_product(const char *profile, const cJSON *json);

#endif
