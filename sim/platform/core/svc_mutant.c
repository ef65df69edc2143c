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
    /* the commands suites (scenarios/conformance/commands*) */
    {"cmd-refusal-success", "a command the device refuses (JT/T 808 0x0001 result 1) is SUCCESSFUL, not FAIL (004 §7)"},
    {"cmd-cached-long-conn", "a long-connection device takes a cached command (expireTime > 0), not 400 (004 §7)"},
    {"cmd-no-timeout", "a SENT command never answered stays SENT, never TIMEOUT after 180 s (spec.md §3)"},
    {"cmd-no-retransmit", "maxRetransmit is ignored: a command is never sent again after 180 s (004 §7)"},
    {"cmd-no-delivered", "a device's acknowledgement (UPGRADE's 0x0001) is ignored: no DELIVERED (004 §7)"},
    {"cmd-no-callback", "a command's state changes are not posted to its callbackUrl (004 §7)"},
    {"cmd-no-commandrsp", "a command's state changes are not pushed to the subscribers of commandRsp (004 §5)"},
    {"cmd-query-status-ignored", "GET deviceCommands ignores its status filter (004 §7)"},
    {"cmd-query-page-ignored", "GET deviceCommands ignores pageNo: always the first page (004 §7)"},
    {"cmd-cached-not-on-online", "a device coming online is not sent its PENDING commands (004 §7)"},
    {"cmd-cached-not-in-order", "a device's PENDING commands go newest first, not in creation order (004 §7)"},
    {"cmd-cached-all-at-once", "a device's PENDING commands go out together, not one at a time (004 §7)"},
    {"cmd-no-expire", "a PENDING command never EXPIRES at its expireTime (004 §7)"},
    {"cmd-cancel-sent", "cancelling a command no longer PENDING is answered 200, not 409 (004 §7)"},
    {"cmd-cancel-task-first", "a cancel task cancels only the first PENDING command of the device (004 §7)"},
    {"cmd-default-expire-30d", "a cached command without expireTime lasts 30 days, not 48 h (004 §7)"},
    /* the api suite (scenarios/conformance/api): the front door (sim/platform/north) and devices */
    {"api-any-secret", "a login with a wrong secret is given tokens, not 401 100208 (004 §4, docs/api.md Logging in)"},
    {"api-refresh-reuse", "a refreshToken used once (or any) refreshes again, not 401 100209 (docs/api.md Logging in)"},
    {"api-no-app-key", "a call without app_key is the first application's, not 401 100210 (docs/api.md Errors)"},
    {"api-no-token", "a call with app_key and no Authorization header is taken, not 401 100211 (docs/api.md Errors)"},
    {"api-any-token", "a call with a wrong accessToken is taken, not 401 100212 (docs/api.md Errors)"},
    {"api-expired-token", "an accessToken past its 3600 s is taken, not 401 100213 (docs/api.md Logging in)"},
    {"api-bad-json-empty", "a body that is not JSON is taken as {}, not 400 naming the byte (docs/api.md Errors)"},
    {"api-405-as-404", "a known path with a wrong method is 404, not 405 (docs/api.md Errors)"},
    {"api-body-limit-4m", "a body over 1 MiB (up to 4 MiB) is read, not 413 (docs/api.md Errors)"},
    {"dev-id-rule", "a registration's deviceId is the nodeId, not productId_nodeId (004 §4)"},
    {"dev-repeat-nodeid", "a nodeId registered already registers again, not 409 (004 §4)"},
    {"dev-no-reg-timeout", "a device that never connects stays past its registration timeout (004 §4)"},
    {"dev-delete-noop", "DELETE devices/{deviceId} answers 204 and the device stays (004 §4)"},
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
