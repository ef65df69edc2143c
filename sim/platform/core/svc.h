/* The platform core's application services (004 §4-§12): the commands of the
 * northbound API (svc_cmd.c), push notifications (svc_push.c), device shadows
 * and configuration updates (svc_shadow.c), device management: registration,
 * status, deletion (svc_dev.c), and groups, batch tasks and data history
 * (svc_group.c).  Each keeps its state in memory behind a pointer of struct core
 * and its tables in the core's store (store_sqlite), and mounts its calls on the
 * northbound API (core_api.c collects their routes).
 *
 * core.c tells the services what the front-ends report through the svc_on_*
 * hooks (svc.c hands each event to every service, in a fixed order); the services
 * call each other only through the functions declared here.
 *
 * Rules every service keeps:
 *  - times: the virtual clock (clock_now_us) for rules and deadlines (a 180 s
 *    acknowledgement timeout, 25 h offline, a 10 min push window), so that
 *    --time-scale runs them in seconds; unix ms of the virtual instant
 *    (clock_unix_at) for what is stored and shown;
 *  - writes: inside the core's transaction (core_batch_begin); an API call that
 *    writes commits before it answers (core_batch_end), so what a 200 or 201
 *    promised survives a SIGKILL of the core;
 *  - start: after the store is open and the loop exists, what the store holds is
 *    read back (a PENDING command, an undelivered push), so a restarted core goes
 *    on where the killed one stopped. */
#ifndef FLEETSIM_SVC_H
#define FLEETSIM_SVC_H

#include <cjson/cJSON.h>
#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/platform/north/north.h"

struct core;

/* --- life ------------------------------------------------------------------------------- */

/* Start every service (after the store and the loop, before the API): 0, or -1 with err. */
int svc_start_all(struct core *k, char *err, size_t errcap);
/* Stop them (timers off, what is pending stays in the store), in the reverse order. */
void svc_stop_all(struct core *k);
/* The routes of every service (core_api.c): a table of *n routes, owned by the services. */
const struct north_route *svc_routes(size_t *n);

/* Each service's own (svc.c calls them; a service that has nothing for an event
 * leaves its function empty). */
int svc_cmd_start(struct core *k, char *err, size_t errcap);
void svc_cmd_stop(struct core *k);
int svc_push_start(struct core *k, char *err, size_t errcap);
void svc_push_stop(struct core *k);
int svc_shadow_start(struct core *k, char *err, size_t errcap);
void svc_shadow_stop(struct core *k);
int svc_dev_start(struct core *k, char *err, size_t errcap);
void svc_dev_stop(struct core *k);
int svc_group_start(struct core *k, char *err, size_t errcap);
void svc_group_stop(struct core *k);

extern const struct north_route svc_cmd_routes[];
extern const size_t svc_cmd_n_routes;
extern const struct north_route svc_push_routes[];
extern const size_t svc_push_n_routes;
extern const struct north_route svc_shadow_routes[];
extern const size_t svc_shadow_n_routes;
extern const struct north_route svc_dev_routes[];
extern const size_t svc_dev_n_routes;
extern const struct north_route svc_group_routes[];
extern const size_t svc_group_n_routes;

/* --- what the front-ends report (core.c calls these; svc.c hands them on) --------------- */

/* The device authenticated and is online through a front-end now. */
void svc_on_online(struct core *k, int proto, const char *id);
void svc_cmd_online(struct core *k, int proto, const char *id);
void svc_shadow_online(struct core *k, int proto, const char *id);
void svc_dev_online(struct core *k, int proto, const char *id);
/* Its connection is gone. */
void svc_on_offline(struct core *k, int proto, const char *id);
void svc_cmd_offline(struct core *k, int proto, const char *id);
void svc_dev_offline(struct core *k, int proto, const char *id);
/* It reported data of a service (JSON text), at at_ms (the device's time, unix ms). */
void svc_on_report(struct core *k, int proto, const char *id, const char *service, const char *data,
                   int64_t at_ms);
void svc_cmd_report(struct core *k, int proto, const char *id);
void svc_shadow_report(struct core *k, int proto, const char *id, const char *service, const char *data,
                       int64_t at_ms);
void svc_dev_report(struct core *k, int proto, const char *id, int64_t at_ms);
void svc_group_report(struct core *k, int proto, const char *id, const char *service, const char *data,
                      int64_t at_ms);
void svc_push_report(struct core *k, int proto, const char *id, const char *service, const char *data,
                     int64_t at_ms);     /* deviceDataChanged */
/* It registered over the air (a new device, or a known one again). */
void svc_on_registered(struct core *k, int proto, const char *id);
void svc_dev_registered(struct core *k, int proto, const char *id);
void svc_push_registered(struct core *k, int proto, const char *id);   /* deviceAdded */
/* Its registration is gone (the front-end's unregister, or the API's delete). */
void svc_on_deleted(struct core *k, int proto, const char *id);
void svc_cmd_deleted(struct core *k, int proto, const char *id);
void svc_shadow_deleted(struct core *k, int proto, const char *id);
void svc_group_deleted(struct core *k, int proto, const char *id);
/* A front-end's result for command task: true when the task is one of the commands
 * service's (then it took the result), false for a scenario step's task. */
bool svc_cmd_result(struct core *k, uint32_t task, int proto, const char *id, int state);

/* --- between the services ----------------------------------------------------------------- */

/* A command to one device, as POST deviceCommands gives it (004 §7). */
struct svc_cmd_req {
    const char *device_id;
    const char *service_id;          /* command.serviceId */
    const char *method;              /* command.method */
    const cJSON *paras;              /* command.paras (an object, or NULL) */
    int64_t expire_s;                /* expireTime: 0 immediate, > 0 cached, < 0 absent (48 h) */
    int max_retransmit;              /* 0..3 */
    const char *callback_url;        /* NULL: none */
    const char *origin;              /* "api", "shadow", "config", "batch:<taskId>" */
};
/* Create it: 0 with its commandId (cap >= 40) and its state after creation
 * (store_cmd_state), or -1 with err and the HTTP status (400 a bad field, 404 no
 * such device, 409 the device cannot take it).  Committed by the caller's batch. */
int svc_cmd_submit(struct core *k, const struct svc_cmd_req *rq, char *command_id, size_t cap, int *state,
                   int *http, char *err, size_t errcap);
/* Cancel every PENDING command of a device: the count. */
size_t svc_cmd_cancel_device(struct core *k, const char *device_id);

/* A command with an origin other than "api" reached a final state (SUCCESSFUL,
 * FAIL, TIMEOUT, EXPIRED, CANCELED): the commands service calls this, svc.c hands
 * it to its origin's service ("shadow", "config": the shadow's; "batch:<taskId>":
 * the groups'). */
void svc_on_cmd_done(struct core *k, const char *origin, const char *device_id, const char *command_id, int state);
void svc_shadow_cmd_done(struct core *k, const char *origin, const char *device_id, const char *command_id,
                         int state);
void svc_group_cmd_done(struct core *k, const char *origin, const char *device_id, const char *command_id,
                        int state);

/* Push notification types (the subscription's notifyType). */
#define SVC_NOTIFY_DEVICE_ADDED "deviceAdded"
#define SVC_NOTIFY_DEVICE_INFO "deviceInfoChanged"       /* status changes too */
#define SVC_NOTIFY_DATA "deviceDataChanged"
#define SVC_NOTIFY_DELETED "deviceDeleted"
#define SVC_NOTIFY_COMMAND "commandRsp"                  /* a command's state changed */
#define SVC_NOTIFY_SHADOW "deviceDesiredPropertiesModifyStatusChanged"
#define SVC_NOTIFY_SW_UPGRADE "swUpgradeResultNotify"
#define SVC_NOTIFY_FW_UPGRADE "fwUpgradeResultNotify"
/* Push body (owned by the push service from here on) to every subscription of
 * type; nothing when none subscribed. */
void svc_push_notify(struct core *k, const char *type, cJSON *body);
/* Has anyone subscribed to type?  Cheap: called on every report before a body is built. */
bool svc_push_wanted(struct core *k, const char *type);
/* Push body to one URL (a command's callbackUrl), by the same rules. */
void svc_push_to_url(struct core *k, const char *url, cJSON *body);

/* The members of a group: a malloc'ed array of *n device ids (each malloc'ed; the
 * caller frees them), or NULL with *n 0 when there is no such group. */
char **svc_group_members(struct core *k, const char *group_id, size_t *n);

/* --- helpers (svc.c) ----------------------------------------------------------------------- */

/* Virtual ms now (clock_now_us / 1000) and the unix ms of a virtual instant. */
int64_t svc_now_ms(void);
int64_t svc_unix_ms(int64_t virtual_ms);
/* Arm t (stopped first) to fire at virtual instant at_ms (at once when past). */
void svc_timer_at(struct core *k, ev_timer *t, int64_t at_ms);
/* Is (proto, id) online through a front-end now? */
bool svc_online(struct core *k, int proto, const char *id);
/* The protocol index of a name (-1 when no front-end of it said hello), and the name. */
int svc_proto_index(struct core *k, const char *name);
const char *svc_proto_name(struct core *k, int proto);
/* Find a registered device by its id alone, as the API names it: its protocol name
 * (cap >= STORE_PROTOCOL_MAX + 1); false when none. */
bool svc_device_protocol(struct core *k, const char *device_id, char *protocol, size_t cap);
/* Is a device of this protocol a short-connection one (004 §7, §9: NB-IoT over
 * CoAP/LwM2M, in power saving: cached commands, the 25 h / 169 h status rules)?
 * "lwm2m" and "coap" are; any other that core_config.short_conn lists too
 * (JT/T 808 terminals that sleep between reports). */
bool svc_short_conn(struct core *k, const char *protocol);
/* Mutants (svc_mutant.c): a rule the platform breaks on purpose, so that a suite
 * shows it catches it.  Is rule `name` the one broken (core_config.mutant)? */
bool svc_mutant(struct core *k, const char *name);
struct svc_mutant_info {
    const char *name;                /* "cmd-offline-sent" */
    const char *rule;                /* what breaks, and the seed's section */
};
extern const struct svc_mutant_info svc_mutants[];   /* every name a site asks for; {NULL} ends it */
const struct svc_mutant_info *svc_mutant_find(const char *name);
/* Commit what an API call wrote (core_batch_end), then answer. */
void svc_commit(struct core *k);

#endif
