/* Deviations from JT/T 808 that the decoders accept and report. */
#include <stddef.h>

#include "sim/proto/jt808.h"

static const struct {
    const char *name, *text;
} kinds[JT808_DEV__COUNT] = {
    [JT808_DEV_ITEM_LENGTH] = {"item-length", "additional item length disagrees with its id; kept raw"},
    [JT808_DEV_PARAM_LENGTH] = {"param-length", "parameter length disagrees with its type; kept raw"},
    [JT808_DEV_COUNT_OVERRUN] = {"count-overrun", "count larger than the body holds; stopped at the end of the body"},
    [JT808_DEV_TRAILING_BYTES] = {"trailing-bytes", "bytes after the last field; kept raw"},
    [JT808_DEV_UNESCAPED_CHECK] = {"unescaped-check", "lone 0x7D before the closing 0x7E read as the check byte"},
    [JT808_DEV_ITEM_TRUNCATED] = {"item-truncated", "item length runs past the body; the bytes present kept raw"},
    [JT808_DEV_MIXED_ENCRYPTION] = {"mixed-encryption",
                                    "packages of one subpackaged message disagree on encryption; each read as it says"},
};

const char *jt808_dev_name(enum jt808_dev_kind k)
{
    return (unsigned)k < JT808_DEV__COUNT && kinds[k].name ? kinds[k].name : "unknown";
}

const char *jt808_dev_text(enum jt808_dev_kind k)
{
    return (unsigned)k < JT808_DEV__COUNT && kinds[k].text ? kinds[k].text : "unknown deviation";
}

void jt808_devs_add(struct jt808_devs *d, enum jt808_dev_kind k, size_t offset, const char *field)
{
    if (!d)
        return;
    if (d->n < JT808_MAX_DEVIATIONS)
        d->d[d->n++] = (struct jt808_deviation){k, offset, field};
    d->total++;
}
