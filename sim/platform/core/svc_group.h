/* Groups, tags, batch tasks and data history (004 §7, §11, §12): the service's own
 * interface between its files (svc_group.c: the life, the groups; svc_group_tag.c:
 * the tags; svc_group_task.c: the batch command tasks; svc_group_hist.c: the data
 * history) and the seam its unit test replaces.
 *
 * Groups: a named set of an application's registered devices (the name unique in
 * the application, at most maxDevNum members when it is not 0); a device is in one
 * group of an application at most (004 §11: "一个设备只能绑定一个群组"); a deleted
 * device leaves its group.  Tags (svc_group_tag.c): named by the application, put
 * on any number of devices, a device carrying any number of them.
 *
 * Batch tasks: one command to many devices (a list, the members of groups, the
 * devices carrying tags, or every registered device), each device's command made
 * with svc_cmd_submit (origin "batch:<taskId>") a slice per loop turn; the task
 * counts its commands' ends.
 *
 * History: every report kept with its time per device and service, the last
 * SVC_GROUP_HIST_KEEP of each, gathered in memory into blocks (a row each) that a
 * timer writes in slices. */
#ifndef FLEETSIM_SVC_GROUP_H
#define FLEETSIM_SVC_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/platform/core/svc.h"

#define SVC_GROUP_NAME_MAX 64           /* bytes of a group's name */
#define SVC_GROUP_DESC_MAX 1024         /* bytes of its description */
#define SVC_GROUP_MAX_DEV 1000000       /* the largest maxDevNum (0: no bound) */
#define SVC_GROUP_IDS_MAX 1000          /* deviceIds in one call */
#define SVC_GROUP_TASK_NAME_MAX 64
#define SVC_GROUP_TASK_DEV_MAX 100000   /* devices of one task */
#define SVC_GROUP_TASK_SLICE 200        /* commands submitted per loop turn, at most */
#define SVC_GROUP_TASK_SLICE_S 0.002    /* ... and for at most this long (at least 8) */
#define SVC_GROUP_HIST_KEEP 1000        /* values a query shows per device and service (the file holds
                                           up to 2 blocks more); the oldest goes */
#define SVC_GROUP_HIST_BLOCK 16         /* values of a device and service in one row (3 rows of 53-byte
                                           locations fill a page of the file) */
#define SVC_GROUP_HIST_BLOCK_S 10.0     /* a block is written once full or this old (s) */
#define SVC_GROUP_HIST_FLUSH_S 0.2      /* the timer that closes and writes blocks */
#define SVC_GROUP_HIST_SLICE_S 0.001    /* a write transaction's budget (at least one value): the
                                           loop serves its other events between slices */
#define SVC_GROUP_HIST_BUF_MAX 2000000  /* values waiting in memory; past it new ones are dropped */

/* The service's state (core.svc_group): each part's own. */
struct svc_group_groups;
struct svc_group_hist;
struct svc_group_tasks;
struct svc_group_tags;
struct svc_group {
    struct svc_group_groups *groups;    /* svc_group.c */
    struct svc_group_tags *tags;        /* svc_group_tag.c */
    struct svc_group_hist *hist;        /* svc_group_hist.c */
    struct svc_group_tasks *tasks;      /* svc_group_task.c */
};

/* Values kept per device and service (SVC_GROUP_HIST_KEEP; 0: no history is kept),
 * and how long a block gathers values (SVC_GROUP_HIST_BLOCK_S). */
extern int svc_group_hist_keep;
extern double svc_group_hist_block_s;

/* The next value of a row's packed values from *off (moved past it): false at the
 * end, or when what is left is not a whole value. */
bool svc_group_hist_next(const uint8_t *b, size_t len, size_t *off, int64_t *at_ms, const char **data,
                         uint32_t *dlen);

/* The submit of a device's command: svc_cmd_submit, or a test's recorder. */
typedef int (*svc_group_submit_fn)(struct core *k, const struct svc_cmd_req *rq, char *command_id, size_t cap,
                                   int *state, int *http, char *err, size_t errcap);
extern svc_group_submit_fn svc_group_submit;

/* The routes of each part (svc_group.c puts them in one table). */
void svc_group_hist_route(void *ctx, const struct north_req *rq, struct north_resp *rs);
void svc_group_task_create(void *ctx, const struct north_req *rq, struct north_resp *rs);
void svc_group_task_get(void *ctx, const struct north_req *rq, struct north_resp *rs);
void svc_group_task_details(void *ctx, const struct north_req *rq, struct north_resp *rs);
void svc_group_tag_create(void *ctx, const struct north_req *rq, struct north_resp *rs);
void svc_group_tag_list(void *ctx, const struct north_req *rq, struct north_resp *rs);
void svc_group_tag_delete(void *ctx, const struct north_req *rq, struct north_resp *rs);
void svc_group_tag_add(void *ctx, const struct north_req *rq, struct north_resp *rs);
void svc_group_tag_remove(void *ctx, const struct north_req *rq, struct north_resp *rs);
void svc_group_tag_devices(void *ctx, const struct north_req *rq, struct north_resp *rs);
void svc_group_device_tags(void *ctx, const struct north_req *rq, struct north_resp *rs);

/* Each part's life: tables, statements, what the store holds read back; 0 or -1 with err. */
int svc_group_task_start(struct core *k, char *err, size_t errcap);
void svc_group_task_stop(struct core *k);
int svc_group_tag_start(struct core *k, char *err, size_t errcap);
void svc_group_tag_stop(struct core *k);
int svc_group_hist_start(struct core *k, char *err, size_t errcap);
void svc_group_hist_stop(struct core *k);
/* Write every value buffered (before a query, a device's deletion, the end). */
void svc_group_hist_flush_all(struct core *k);
/* A deleted device carries no tag any more. */
void svc_group_tag_deleted(struct core *k, const char *device_id);
/* Has the application a tag of this id? */
bool svc_group_tag_exists(struct core *k, const char *app, const char *tag_id);
/* Forget a device's history (it was deleted). */
void svc_group_hist_forget(struct core *k, const char *device_id);

/* Values buffered, written and dropped (the buffer was full), for the statistics. */
struct svc_group_hist_counts {
    uint64_t buffered, written, dropped, slices;
};
void svc_group_hist_counts(struct core *k, struct svc_group_hist_counts *out);

/* --- shared helpers (svc_group.c) ----------------------------------------------------------- */

/* pageNo (>= 0, default 0) and pageSize (1..max, default def) of the query: true,
 * or false with the 400 answered. */
bool svc_group_page(const struct north_req *rq, int max, int def, int *page_no, int *page_size,
                    struct north_resp *rs);
/* 004's time text "yyyyMMddTHHmmssZ" (UTC) as unix ms: 0, or -1 when it is not one
 * (a field out of its range, a date that does not exist). */
int svc_group_parse_time(const char *text, int64_t *unix_ms);
/* A fresh random id: 2 * nbytes lower-case hex digits (out has 2 * nbytes + 1). */
void svc_group_random_hex(char *out, size_t nbytes);
/* Has the application a group of this id? */
bool svc_group_exists(struct core *k, const char *app, const char *group_id);
/* A string member of a body: *out NULL when absent; false with the 400 answered
 * when it is not a string of min..max bytes without control characters. */
bool svc_group_str_field(const cJSON *body, const char *name, size_t min, size_t max, const char **out,
                         struct north_resp *rs);
/* Is the body an object?  False with the 400 answered. */
bool svc_group_body_object(const struct north_req *rq, struct north_resp *rs);
/* deviceIds of a body: an array of 1..SVC_GROUP_IDS_MAX registered devices, none
 * twice; NULL with the 400 answered (or, when not required and absent, NULL with
 * *absent true and nothing answered). */
const cJSON *svc_group_device_ids(struct core *k, const cJSON *body, bool required, bool *absent,
                                  struct north_resp *rs);
/* The application calling (its id; "" on an open route). */
const char *svc_group_app(const struct north_req *rq);

#endif
