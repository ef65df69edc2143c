/* libFuzzer target: any bytes as the body of any layout id (jt808_layouts.c), either
 * edition.  Input: byte 0 picks the id, byte 1 bit 0 the edition, the rest is the
 * body.  A body that decodes without deviations must encode back to itself, directly
 * and through JSON; with deviations it must still encode (text aside that the GBK
 * conversion reads but cannot write back). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim/proto/jt808.h"
#include "sim/proto/jt808_layout.h"
#include "sim/proto/jt808_layout_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct jt808_msg m;
static uint8_t out[70000], out2[70000];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t n_lay;
    const struct jt808_layout *all = jt808_lay_all(&n_lay);
    m.h.msg_id = all[data[0] % n_lay].id;
    m.h.version = data[1] & 1 ? JT808_V2019 : JT808_V2013;
    const uint8_t *body = data + 2;
    size_t n = size - 2;
    struct jt808_err err = {0};
    if (jt808_body_decode(body, n, &m, &err) != JT808_OK) {
        if (err.offset > n || !err.field)
            abort(); /* an error points into the body and names a field */
        return 0;
    }
    if (!m.lay)
        abort();
    size_t k = 0, k2 = 0;
    enum jt808_rc rc = jt808_lay_encode(m.lay, out, sizeof out, &k, &err);
    if (rc == JT808_E_ENCODING)
        return 0; /* GBK that iconv reads but cannot write back (user-defined areas) */
    if (rc != JT808_OK)
        abort();
    if (m.devs.total == 0 && (k != n || memcmp(out, body, n) != 0))
        abort();
    cJSON *j = jt808_lay_to_json(m.lay);
    if (!j)
        abort();
    char msg[256];
    if (jt808_lay_from_json(j, &m.h, out2, sizeof out2, &k2, msg, sizeof msg) != JT808_OK)
        abort();
    if (m.devs.total == 0 && (k2 != n || memcmp(out2, body, n) != 0))
        abort();
    cJSON_Delete(j);
    return 0;
}
