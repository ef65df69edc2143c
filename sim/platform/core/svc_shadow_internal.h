/* The shadow service's state, shared by its files: svc_shadow.c (the shadows in
 * memory, their rows, the sync to the devices), svc_shadow_api.c (PUT and GET, the
 * routes) and svc_shadow_task.c (configuration update tasks, 004 §8). */
#ifndef FLEETSIM_SVC_SHADOW_INTERNAL_H
#define FLEETSIM_SVC_SHADOW_INTERNAL_H

#include <sqlite3.h>

#include "sim/platform/core/shadow.h"
#include "sim/platform/core/store.h"
#include "sim/platform/core/svc_shadow.h"

#define SD_CMD_ID_MAX 48

/* A sync on its way: the command that carries service si's desired of version v. */
struct sd_flight {
    bool on;
    uint64_t v;
    char cmd[SD_CMD_ID_MAX];
};

/* A device's shadow in memory. */
struct sd {
    struct sd *next;                         /* hash chain */
    char id[STORE_ID_MAX + 1];
    char proto[STORE_PROTOCOL_MAX + 1];
    char product[PC_NAME_MAX];               /* the registration's productId ("" none) */
    bool no_model;                           /* registered, but no model the platform knows */
    struct shadow sh;                        /* sh.product NULL when no_model */
    struct sd_flight *fl;                    /* one per service */
    int tasks_live;                          /* its config tasks not SUCCESSFUL or FAILED */
};

enum sd_task_type { ST_NOW = 0, ST_ONLINE, ST_CUSTOM };
enum sd_task_state { TS_WAITING = 0, TS_PENDING, TS_SENT, TS_SUCCESSFUL, TS_FAILED };

/* A configuration update task of one device and service. */
struct sd_task {
    struct sd_task *next;                    /* in creation order */
    char id[40];
    char dev[STORE_ID_MAX + 1];
    int si;                                  /* the service's index in the device's product */
    cJSON *config;                           /* the properties (owned) */
    enum sd_task_type type;
    enum sd_task_state state;
    int retries, interval_s, attempts;
    int64_t exec_ms;                         /* CUSTOM: when (unix ms) */
    int64_t next_ms;                         /* unix ms of its next try (0: none) */
    int64_t created_ms, modified_ms;
    char cmd[SD_CMD_ID_MAX];                 /* the command that carries it (SENT and after) */
};

enum {
    SQ_PUT = 0, SQ_DEL, SQ_DEV, SQ_DEVP, SQ_REP, SQ_TPUT, SQ_TDEL, SQ__COUNT
};

struct svc_shadow {
    struct sd **tab;
    size_t cap, n;
    struct pc_product *jt808;                /* the built-in model (svc_shadow_model.c) */
    sqlite3_stmt *q[SQ__COUNT];
    struct sd_task *tasks, **tasks_tail;
    uint64_t task_seq;
    ev_timer timer;                          /* the tasks' next try */
    struct core *k;
};

/* svc_shadow.c */
int64_t sd_unix_now(void);
/* The shadow of a registered device, made (from its product and what it reported)
 * when there is none in memory: NULL when it is not registered. */
struct sd *sd_get(struct core *k, const char *device_id);
/* Write its row (inside the core's batch). */
void sd_save(struct core *k, struct sd *d);
/* Send what its desired sections hold that it has not taken, when it is online. */
void sd_sync(struct core *k, struct sd *d);
/* A push of a shadow change (SVC_NOTIFY_SHADOW) of service si with status. */
void sd_notify(struct core *k, struct sd *d, int si, const char *status, const char *command_id);

/* svc_shadow_api.c: the shadow of an API call's device, or NULL with the answer
 * (404: not registered, or no model the platform knows). */
struct sd *sd_api_device(struct core *k, const char *id, struct north_resp *rs);

/* svc_shadow_task.c */
int sd_tasks_start(struct core *k, char *err, size_t errcap);
void sd_tasks_stop(struct core *k);
/* A sync of (d, si) went out as command cmd: its PENDING tasks ride it. */
void sd_tasks_sent(struct core *k, struct sd *d, int si, const char *cmd);
/* Does (d, si) have a task that is PENDING and due (origin "config")? */
bool sd_tasks_pending(struct core *k, const struct sd *d, int si);
/* Nothing to send for (d, si) (the device already has it): its PENDING tasks are done. */
void sd_tasks_nothing_to_send(struct core *k, struct sd *d, int si);
/* Command cmd ended: its tasks succeed, or fail an attempt. */
void sd_tasks_done(struct core *k, struct sd *d, const char *cmd, bool ok);
/* A sync of (d, si) could not be sent: its PENDING tasks failed an attempt. */
void sd_tasks_unsent(struct core *k, struct sd *d, int si);
void sd_tasks_deleted(struct core *k, const char *device_id);
/* The body of a POST .../configTasks for a device of product: t filled (but its ids,
 * state and times; t->config owned by t even on failure), 0; or -1 with err naming
 * the member ("config.maxSpeed: ..."). */
int sd_task_parse(const cJSON *body, const struct pc_product *product, struct sd_task *t, char *err, size_t cap);
/* POST .../configTasks, GET .../configTasks, GET .../configTasks/{taskId} */
void sd_task_post(void *ctx, const struct north_req *rq, struct north_resp *rs);
void sd_task_list(void *ctx, const struct north_req *rq, struct north_resp *rs);
void sd_task_get(void *ctx, const struct north_req *rq, struct north_resp *rs);

#endif
