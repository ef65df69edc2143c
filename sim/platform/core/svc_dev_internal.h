/* The device service's state, shared by its files: svc_dev.c (the devices in
 * memory, their status on the virtual clock, the writes) and svc_dev_api.c (the
 * northbound calls).  Not for other modules. */
#ifndef FLEETSIM_SVC_DEV_INTERNAL_H
#define FLEETSIM_SVC_DEV_INTERNAL_H

#include <ev.h>
#include <sqlite3.h>

#include "sim/platform/core/svc_dev.h"

/* A registered device as the status rules see it.  Times are virtual ms
 * (svc_now_ms); the table keeps them as unix ms of the virtual instant. */
struct dev {
    struct dev *next;               /* in its hash bucket */
    uint32_t hash;
    int32_t heap;                   /* index in the heap, -1: not in it */
    int32_t dirty;                  /* index in the dirty list, -1: written */
    int64_t key;                    /* heap key: when to look at it again (never later than its next change) */
    struct dev_times t;
    int64_t deadline;               /* the registration timeout; 0: none */
    int64_t saved_seen;             /* t.last_seen_ms as last written */
    int64_t status_at;              /* since when status holds */
    uint8_t status;                 /* enum dev_status, as last told */
    char proto[STORE_PROTOCOL_MAX + 1];
    char id[STORE_ID_MAX + 1];
};

/* A status change waiting to be written to the history. */
struct dev_hist {
    char proto[STORE_PROTOCOL_MAX + 1];
    char id[STORE_ID_MAX + 1];
    uint8_t status;
    int64_t at;                     /* virtual ms */
};

struct svc_dev {
    struct dev **buckets;
    size_t n_buckets, n;
    struct dev **heap;              /* a min-heap on key: the timer waits for its top */
    size_t n_heap, heap_cap;
    struct dev **dirty;             /* rows to write */
    size_t n_dirty, dirty_cap;
    struct dev_hist *hist;
    size_t n_hist, hist_cap;
    ev_timer timer, flush;
    int64_t base;                   /* unix ms of virtual instant 0 */
    int64_t seen_slack;             /* a last contact moved this much is written (virtual ms) */
    sqlite3_stmt *put, *del, *hist_put, *hist_del, *reg_put, *node_get, *end_user_set;
};

struct core;

/* The device of (protocol, id), NULL when unknown. */
struct dev *svc_dev__find(struct core *k, const char *proto, const char *id);
/* Its status now by the rules. */
enum dev_status svc_dev__status(const struct dev *e);
/* What 004 calls its statusDetail. */
const char *svc_dev__detail(enum dev_status s);
/* The protocol's index in the core (added when no front-end of it said hello yet),
 * -1 when the core holds no more. */
int svc_dev__proto(struct core *k, const char *name);
/* A registration through the API is stored (store_register done): its row, its
 * timeout, its first status.  Inside the caller's batch.  0, or -1 with err. */
int svc_dev__add_registered(struct core *k, const struct svc_dev_reg *r, char *err, size_t errcap);
/* Write what changed (rows, history) inside the open batch. */
void svc_dev__write(struct core *k);
/* endUser of a device. 0, or -1 with err. */
int svc_dev__set_end_user(struct core *k, const char *proto, const char *id, const char *end_user, char *err,
                          size_t errcap);
/* unix ms of a virtual instant, and back */
int64_t svc_dev__unix(const struct core *k, int64_t v);

#endif
