/* The commands service's own parts (svc_cmd.c: the commands' life in memory and on
 * the bus; svc_cmd_index.c: the indexes of the live ones; svc_cmd_store.c: its
 * tables; svc_cmd_api.c: the northbound calls).  Not
 * for other services: they use svc.h's svc_cmd_submit and svc_cmd_cancel_device.
 *
 * In memory: the live commands only (PENDING, SENT, DELIVERED), each in its
 * device's list in creation order, by commandId, by the task of its current sending,
 * and in a heap by the instant cmd_fsm_tick could change it (an expiry, an ack
 * deadline), so that no event scans every command.  A command that reaches a final
 * state is written and dropped from memory; the tables keep every command with its
 * transitions for the queries. */
#ifndef FLEETSIM_SVC_CMD_H
#define FLEETSIM_SVC_CMD_H

#include <cjson/cJSON.h>
#include <ev.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/platform/core/cmd_fsm.h"
#include "sim/platform/core/store.h"
#include "sim/platform/core/svc.h"
#include "sim/platform/north/north.h"

struct core;

#define SCMD_ID_LEN 32               /* commandId, taskId: 32 lower-case hex digits */
#define SCMD_SERVICE_MAX 64          /* command.serviceId */
#define SCMD_METHOD_MAX 64           /* command.method */
#define SCMD_PARAS_MAX (64 * 1024)   /* command.paras as JSON text */
#define SCMD_URL_MAX 1024            /* callbackUrl */
#define SCMD_EXPIRE_MAX_S (30ll * 24 * 3600)  /* expireTime at most 30 days */
#define SCMD_PAGE_MAX 1000
#define SCMD_PAGE_DEFAULT 25

/* One live command. */
struct scmd {
    int64_t row;                     /* its row in svc_commands */
    char id[SCMD_ID_LEN + 1];
    char device[STORE_ID_MAX + 1];
    char protocol[STORE_PROTOCOL_MAX + 1];
    char *origin;                    /* "api", "shadow", ... */
    char *callback_url;              /* NULL: none */
    char *body;                      /* the front-end's body (NULL: its default) */
    uint32_t kind;                   /* the front-end's command kind */
    uint32_t task;                   /* the task of the current sending (0: none) */
    struct cmd_fsm f;
    int n_noted;                     /* transitions of f.path written already */
    size_t heap_at;                  /* index in the heap, SIZE_MAX: not in it */
    int64_t heap_ms;                 /* the instant it is in the heap for */
    struct scmd *dev_next;           /* its device's next command */
    struct scmd *id_next, *task_next; /* hash chains */
};

/* A device with live commands. */
struct sdev {
    char id[STORE_ID_MAX + 1];
    struct scmd *head, *tail;
    struct sdev *next;
};

enum scmd_stmt {
    SQ_INSERT,
    SQ_UPDATE,
    SQ_STEP,
    SQ_BY_ID,
    SQ_ROW,
    SQ_STEPS,
    SQ_LIVE,
    SQ_LIVE_STEPS,
    SQ_CTASK_PUT,
    SQ_CTASK_CMD,
    SQ_CTASK_GET,
    SQ_CTASK_CMDS,
    SQ__COUNT
};

struct svc_cmd {
    struct core *k;
    sqlite3 *db;
    sqlite3_stmt *st[SQ__COUNT];
    struct sdev **dev_b;             /* by device id */
    size_t dev_nb, dev_n;
    struct scmd **id_b, **task_b;    /* by commandId, by task */
    size_t id_nb, task_nb, n_live;
    struct scmd **heap;
    size_t heap_n, heap_cap;
    ev_timer timer;                  /* at the heap's first instant */
    ev_timer kick_t;                 /* the devices that came online, on the next loop pass */
    char (*kick)[STORE_ID_MAX + 1];
    size_t kick_n, kick_cap;
    int64_t unix_off;                /* unix ms - virtual ms (the clock's constant offset) */
};

/* svc_cmd_store.c: the tables (CREATE TABLE IF NOT EXISTS) and the statements. */
int scmd_store_open(struct svc_cmd *s, char *err, size_t errcap);
void scmd_store_close(struct svc_cmd *s);
/* svc_cmd_store.c: a new command's row (its transitions come with scmd_store_note). */
int scmd_store_insert(struct svc_cmd *s, struct scmd *c, const char *app_id, const char *service_id,
                      const char *method, const char *paras, int64_t expire_s, char *err, size_t errcap);
/* svc_cmd_store.c: its state now, and the transitions not written yet. */
int scmd_store_note(struct svc_cmd *s, struct scmd *c);
/* svc_cmd_store.c: a command as the API shows it, by row (NULL: none). */
cJSON *scmd_store_json(struct svc_cmd *s, int64_t row);
/* svc_cmd_store.c: the row and state of a command by its commandId: false when none. */
bool scmd_store_find(struct svc_cmd *s, const char *command_id, int64_t *row, int *state);
/* svc_cmd_store.c: read back the live commands (start): each to add. */
int scmd_store_load(struct svc_cmd *s, void (*add)(struct svc_cmd *s, struct scmd *c), char *err, size_t errcap);

/* svc_cmd_store.c: the query of GET deviceCommands: a page of commands into out (an
 * array), the count of all that match into *total.  0, or -1 with err. */
struct scmd_filter {
    const char *device;              /* NULL: any */
    int state;                       /* -1: any */
    int64_t start_ms, end_ms;        /* creationTime within (unix ms; -1: open) */
    int64_t page_no, page_size;
};
int scmd_store_list(struct svc_cmd *s, const struct scmd_filter *q, cJSON *out, int64_t *total, char *err,
                    size_t errcap);
/* svc_cmd_store.c: a cancel task (done at once: SUCCESS) with the rows it cancelled. */
int scmd_store_ctask_put(struct svc_cmd *s, const char *task_id, const char *app_id, const char *device,
                         const int64_t *rows, size_t n);
/* svc_cmd_store.c: a cancel task as the API shows it (NULL: none), and a page of them. */
cJSON *scmd_store_ctask_json(struct svc_cmd *s, const char *task_id);
int scmd_store_ctask_list(struct svc_cmd *s, const char *task_id, const char *device, int64_t page_no,
                          int64_t page_size, cJSON *out, int64_t *total, char *err, size_t errcap);

/* svc_cmd_index.c: the indexes.  A device's entry (made when make; NULL when none);
 * a command by the task of its current sending; (un)index a command's task; put a
 * command in the heap at its next instant (or out); the timer at the heap's first;
 * a live command in every index (a new one, or read back at start: 0, or -1 out of
 * memory), and out of them; free one. */
struct sdev *scmd_dev_get(struct svc_cmd *s, const char *id, bool make);
struct scmd *scmd_task_find(struct svc_cmd *s, uint32_t task);
void scmd_task_unindex(struct svc_cmd *s, struct scmd *c);
int scmd_task_index(struct svc_cmd *s, struct scmd *c);
void scmd_heap_remove(struct svc_cmd *s, struct scmd *c);
void scmd_heap_update(struct svc_cmd *s, struct scmd *c);
void scmd_arm(struct svc_cmd *s);
int scmd_add_live(struct svc_cmd *s, struct scmd *c);
void scmd_drop_live(struct svc_cmd *s, struct scmd *c);
void scmd_free(struct scmd *c);

/* svc_cmd.c: virtual ms now (svc_now_ms). */
int64_t svc_cmd_now_ms(void);
/* svc_cmd.c: the live command of this commandId, NULL when none. */
struct scmd *scmd_find(struct svc_cmd *s, const char *command_id);
/* svc_cmd.c: create a command (svc_cmd_submit's, with the calling application):
 * 0 with its row, its state after creation and its commandId, or -1 with the HTTP
 * status and "field: what is wrong".  The caller commits (svc_commit). */
int scmd_create(struct svc_cmd *s, const struct svc_cmd_req *rq, const char *app_id, int64_t *row, int *state,
                char *command_id, size_t cap, int *http, char *err, size_t errcap);
/* svc_cmd.c: cancel every PENDING command of a device: the count, their rows into
 * rows (up to cap). */
size_t scmd_cancel_device(struct svc_cmd *s, const char *device_id, int64_t *rows, size_t cap);
/* svc_cmd.c: cancel one live command (PENDING only): 0, or -1 with why. */
int scmd_cancel(struct svc_cmd *s, struct scmd *c, char *why, size_t cap);
/* svc_cmd.c: the live commands of a device, oldest first (NULL: none). */
struct scmd *scmd_device_first(struct svc_cmd *s, const char *device_id);

/* svc_cmd_api.c: unix ms of a "yyyyMMddTHHmmssZ" time; false when it is not one. */
bool scmd_parse_time(const char *text, int64_t *unix_ms);
/* svc_cmd_api.c: a fresh 32-hex-digit id. */
void scmd_new_id(char out[SCMD_ID_LEN + 1]);

#endif
