/* libFuzzer target: the frames in any bytes fed to one terminal's reassembly as
 * subpackages, the clock moved on by a byte of the input between them, the
 * incomplete ones listed (jt808_reasm_expire_ask): the missing indexes must be
 * ascending, within the total and fewer than it, and memory must stay in bounds. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "sim/proto/jt808.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct jt808_msg m;
static uint8_t scratch[JT808_MAX_FRAME * 2];

static void check_gap(const struct jt808_reasm_gap *g, void *arg)
{
    (void)arg;
    if (g->n_missing == 0 || g->n_missing >= g->total || g->ask == 0 || g->ask > 3)
        abort();
    for (size_t i = 0; i < g->n_missing; i++)
        if (g->missing[i] == 0 || g->missing[i] > g->total || (i && g->missing[i] <= g->missing[i - 1]))
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct jt808_reasm r;
    jt808_reasm_init(&r, 16 * 1024, 100);
    uint64_t now = 0;
    size_t off = 0;
    while (off < size) {
        size_t start = 0, len = 0, skipped = 0;
        size_t used = jt808_frame_find(data + off, size - off, &start, &len, &skipped);
        if (!used)
            break;
        struct jt808_err err;
        if (len <= sizeof scratch && jt808_decode(data + off + start, len, scratch, sizeof scratch, &m, &err) == JT808_OK &&
            m.h.subpackage) {
            bool done = false;
            uint8_t *whole = NULL;
            size_t n = 0;
            jt808_reasm_feed(&r, &m.h, m.body, m.body_bytes, now, &done, &whole, &n, &err);
            free(whole);
        }
        off += used;
        now += off < size ? data[off - 1] : 50;
        jt808_reasm_expire_ask(&r, now, 3, check_gap, NULL);
        if (r.mem_used > r.mem_limit)
            abort();
    }
    jt808_reasm_free(&r);
    return 0;
}
