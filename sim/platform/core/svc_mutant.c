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
