/* libFuzzer target: any bytes as a 0x8105 terminal control body (byte 0 bit 0 picks
 * the edition, the rest is the body: command, then its parameters).  Whatever decodes
 * must encode back to the same bytes, directly and through JSON, deviations included
 * (raw fields and trailing bytes are kept), text aside that the GBK conversion reads
 * but cannot write back.  Commands 1 and 2 must give exactly the bytes decoded; the
 * other commands' single STRING drops a C terminator as every STRING of the codec
 * does, so there the bytes written must decode to the same text. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim/proto/jt808.h"
#include "sim/proto/jt808_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct jt808_msg m, m2;
static uint8_t out[4096], store[4096], ref[4096];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size - 1 > JT808_MAX_BODY)
        return 0;
    m.h.msg_id = 0x8105;
    m.h.version = data[0] & 1 ? JT808_V2019 : JT808_V2013;
    strcpy(m.h.phone, "1");
    m.body = NULL;
    const uint8_t *body = data + 1;
    size_t n = size - 1, k = 0;
    struct jt808_err err = {0};
    if (jt808_body_decode(body, n, &m, &err) != JT808_OK) {
        if (err.offset > n || !err.field)
            abort(); /* an error points into the body and names a field */
        return 0;
    }
    size_t nf;
    bool typed = jt808_ctl_fields(m.b.control.command, &nf) != NULL;
    enum jt808_rc rc = jt808_body_encode(&m, out, sizeof out, &k, &err);
    if (rc == JT808_E_ENCODING)
        return 0;
    if (rc != JT808_OK || (typed && (k != n || memcmp(out, body, n) != 0)))
        abort();
    if (!typed) {
        m2.h = m.h;
        if (jt808_body_decode(out, k, &m2, &err) != JT808_OK ||
            strcmp(m2.b.control.params, m.b.control.params) != 0)
            abort();
        memcpy(ref, out, k); /* what the JSON path below must give */
        body = ref;
        n = k;
    }
    cJSON *j = jt808_to_json(&m);
    if (!j)
        abort();
    char msg[256];
    jt808_msg_free(&m2);
    if (jt808_from_json(j, &m2, store, sizeof store, msg, sizeof msg) != JT808_OK)
        abort();
    if (jt808_body_encode(&m2, out, sizeof out, &k, &err) != JT808_OK || k != n || memcmp(out, body, n) != 0)
        abort();
    cJSON_Delete(j);
    return 0;
}
