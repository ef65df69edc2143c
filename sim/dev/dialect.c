#include "sim/dev/dialect.h"

#include <string.h>
#include <strings.h>

int dialect_cmd_index(const struct dialect *d, const char *request)
{
    for (int i = 0; d && i < d->n_cmds; i++)
        if (strcasecmp(d->cmds[i].request, request) == 0)
            return i;
    return -1;
}

const struct stats_counter *dialect_counter(const struct dialect *d, const char *name)
{
    for (int i = 0; d && i < d->n_counters; i++)
        if (strcmp(d->counters[i].name, name) == 0)
            return &d->counters[i];
    return NULL;
}
