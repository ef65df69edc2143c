/* Deviations from JT/T 808 that the decoders accept and report. */
#include <stddef.h>

#include "sim/proto/jt808.h"

static const struct {
    const char *name, *text;
} kinds[JT808_DEV__COUNT] = {
#define ROW(id, counter, name, text, sent, accepted) [JT808_DEV_##id] = {name, text},
    JT808_DEV_KINDS(ROW)
#undef ROW
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
