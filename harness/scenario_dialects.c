/* The dialects a scenario may name: adding a protocol adds one line here. */
#include <string.h>

#include "harness/scenario_dialect.h"

extern const struct sc_dialect scenario_jt808;
extern const struct sc_dialect scenario_replay;

const struct sc_dialect *const sc_dialects[] = {
    &scenario_jt808,
    &scenario_replay,
    NULL,
};

const struct sc_dialect *sc_dialect_find(const char *name)
{
    for (int i = 0; sc_dialects[i]; i++)
        if (strcmp(sc_dialects[i]->name, name) == 0)
            return sc_dialects[i];
    return NULL;
}
