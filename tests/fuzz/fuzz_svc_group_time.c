/* libFuzzer target for the data history's parsers (sim/platform/core/svc_group*.c):
 * any bytes as 004's time text of a query's startTime or endTime
 * (svc_group_parse_time): never a crash, a text it takes is a real instant and
 * writing that instant back gives the text; and as a row's packed values
 * (svc_group_hist_next): every value it gives lies inside the bytes, in order. */
#include <stdlib.h>
#include <string.h>

#include "sim/platform/core/shadow.h"
#include "sim/platform/core/svc_group.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *t = malloc(size + 1);
    if (!t)
        abort();
    memcpy(t, data, size);
    t[size] = 0;
    int64_t ms = -1;
    if (svc_group_parse_time(t, &ms) == 0) {
        char back[17];
        if (ms < 0 || ms % 1000 != 0)
            abort();
        shadow_time_text(ms, back);
        if (strcmp(back, t) != 0)
            abort();
    }
    free(t);
    size_t off = 0, last = 0;
    int64_t at;
    const char *d;
    uint32_t n;
    while (svc_group_hist_next(data, size, &off, &at, &d, &n)) {
        if (off <= last || off > size || (const uint8_t *)d < data || (const uint8_t *)d + n != data + off)
            abort();
        last = off;
    }
    return 0;
}
