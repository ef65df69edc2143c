/* libFuzzer target: any bytes through the JT/T 808 frame finder and decoder; a
 * frame that decodes must go through JSON and back to bytes that decode the same. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim/proto/jt808.h"
#include "sim/proto/jt808_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct jt808_msg m, m2;
static uint8_t scratch[JT808_MAX_FRAME * 2], scratch2[JT808_MAX_FRAME * 2], out[JT808_MAX_FRAME * 2];
static uint8_t store[70000];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t off = 0;
    while (off < size) {
        size_t start = 0, len = 0, skipped = 0;
        size_t used = jt808_frame_find(data + off, size - off, &start, &len, &skipped);
        if (!used)
            break;
        if (start + len > size - off || used > size - off)
            abort(); /* the finder must stay inside the buffer */
        struct jt808_err err;
        if (len <= sizeof scratch &&
            jt808_decode(data + off + start, len, scratch, sizeof scratch, &m, &err) == JT808_OK) {
            cJSON *j = jt808_to_json(&m);
            if (!j)
                abort();
            char msg[256];
            jt808_msg_free(&m2); /* from_json zeroes it, arena and all */
            if (jt808_from_json(j, &m2, store, sizeof store, msg, sizeof msg) == JT808_OK) {
                size_t n = 0;
                if (jt808_encode(&m2, out, sizeof out, &n, &err) == JT808_OK) {
                    /* what we write, we read back as the same message */
                    if (jt808_decode(out, n, scratch2, sizeof scratch2, &m2, &err) != JT808_OK)
                        abort();
                    if (m2.h.msg_id != m.h.msg_id || m2.h.serial != m.h.serial ||
                        strcmp(m2.h.phone, m.h.phone) != 0)
                        abort();
                }
            }
            cJSON_Delete(j);
        } else if (err.offset > len) {
            abort(); /* an error offset must point into the frame */
        }
        off += used;
    }
    return 0;
}
