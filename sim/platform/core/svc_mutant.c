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
    /* shadow (004 §9, §8) */
    {"shadow-no-sync-now", "a desired change to an online device is not sent at once, only at its next contact (004 §9)"},
    {"shadow-no-sync-on-online", "a desired change made while the device was offline is not sent when it comes online or reports (004 §9)"},
    {"shadow-no-merge", "a second desired change before the first reached the device replaces it instead of merging (004 §9)"},
    {"shadow-no-reported", "the device's reports do not reach the shadow's reported section (004 §9)"},
    {"shadow-no-push", "a desired change is not pushed as deviceDesiredPropertiesModifyStatusChanged PENDING (004 §9)"},
    {"shadow-no-delta", "GET shows an empty delta, whatever the desired keys the device has not taken (004 §9)"},
    {"shadow-no-check", "a desired value that is not writable or out of its range is answered 200, not 400 (004 §9)"},
    {"task-no-retry", "a configuration task's failed attempt is not retried: FAILED at once (004 §8)"},
    /* push (004 §5) */
    {"push-no-retry", "a push failed by 501-504 or no answer is rejected, not kept and retried (004 §5)"},
    {"push-no-timeout", "a push unanswered for 15 s is taken as delivered, not failed (004 §5)"},
    {"push-retry-4xx", "a push answered 4xx is kept and retried as if 503 (004 §5)"},
    {"push-no-expiry", "a failed push's 10 min start again at each failure: it is never EXPIRED (004 §5)"},
    {"push-no-device-added", "a registration is not pushed as deviceAdded (004 §5)"},
    {"push-no-data-changed", "a device's report is not pushed as deviceDataChanged (004 §5)"},
    {"push-no-device-deleted", "a deleted device is not pushed as deviceDeleted (004 §5)"},
    {"push-never-invalid", "a URL whose retries failed 10 times in 10 min is never marked invalid (004 §5)"},
    /* status (004 §9) */
    {"status-no-inactive", "a device that never connected is OFFLINE, not INACTIVE (004 §12)"},
    {"status-long-by-report", "a connected long-connection device is OFFLINE 1 min after its last message (004 §12)"},
    {"status-no-grace", "a long-connection device is OFFLINE at once when its connection drops, not 1 min after (004 §12)"},
    {"status-no-offline", "a short-connection device stays ONLINE from 25 h without a report (004 §12)"},
    {"status-no-abnormal", "a short-connection device is OFFLINE, never ABNORMAL, from 169 h without a report (004 §12)"},
    {"status-no-push", "a status change is not pushed as deviceInfoChanged (004 §5, §12)"},
    {"status-no-history", "a status change is not kept in the device's status history (spec.md §4)"},
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
