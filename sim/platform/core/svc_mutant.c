/* Mutants: rules of 004 the platform can be told to break on purpose (`fleetsim
 * serve --mutant RULE`, `fleetsim conform --platform-mutant RULE`), so that a
 * conformance suite shows it catches each: against the mutant, the case of that
 * rule fails (docs/conformance.md, Mutants).  Each rule's site in the services asks
 * svc_mutant(k, name); the table below is every name a site asks for. */
#include <stdio.h>
#include <string.h>

#include "sim/platform/core/core_internal.h"
#include "sim/platform/core/svc.h"

const struct svc_mutant_info svc_mutants[] = {
    {"cmd-offline-sent", "an immediate command to an offline device is SENT, not FAIL (004 §7)"},
    {NULL, NULL},
};

const struct svc_mutant_info *svc_mutant_find(const char *name)
{
    for (const struct svc_mutant_info *m = svc_mutants; m->name; m++)
        if (strcmp(m->name, name) == 0)
            return m;
    return NULL;
}

bool svc_mutant(struct core *k, const char *name)
{
    return k->cfg->mutant[0] && strcmp(k->cfg->mutant, name) == 0;
}
