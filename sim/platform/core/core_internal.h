/* The state of the platform core process, shared by its files: core.c (the bus,
 * the records of the front-ends, the flush, the process), core_online.c (the
 * table of the devices online) and core_cmd.c (the fan-out of commands). */
#ifndef FLEETSIM_CORE_INTERNAL_H
#define FLEETSIM_CORE_INTERNAL_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/core/ctl.h"
#include "sim/platform/core/bus.h"
#include "sim/platform/core/core.h"
#include "sim/platform/core/store.h"

#define CORE_MAX_PROTOS 8
#define CORE_BATCH 64               /* devices per front-end per tick: 10,000 in about 160 ms; measured
                                       against 256 (40 ms): the report latency of the second after
                                       a 0x8104 to 10,000, max 10-18 ms instead of 14-21 ms */

struct peer {
    int fd;                         /* -1: free */
    ev_io io;
    struct bus_out out;
    struct core *core;
    int proto;                      /* index in core->protos, -1 before HELLO */
    uint32_t index;
};

/* A device online through a front-end connection. */
struct online {
    char id[STORE_ID_MAX + 1];      /* "" = empty slot */
    uint32_t hash;
    uint32_t handle;
    uint16_t peer;
    uint8_t proto;
};

struct target {
    uint32_t handle;
    char id[STORE_ID_MAX + 1];
};

struct job_peer {
    struct target *t;
    size_t n, at, cap;
    bool begun;
};

/* A command on its way to the devices of a step, a batch per front-end per tick. */
struct job {
    struct job *next;
    int64_t task;
    struct ctl_msg m;
    int proto;
    struct job_peer p[CORE_MAX_PEERS];
};

struct core {
    const struct core_config *cfg;
    struct core_slot *st;
    struct store *store;
    struct ev_loop *loop;
    struct north *api;              /* the northbound API (core_api.c), NULL when none */
    int lfd, ctl_fd;
    ev_io accept_io, ctl_io;
    ev_timer tick, flush;
    ev_check flush_more;            /* a flush slice on every loop pass while some are left */
    ev_idle flush_idle;             /* meanwhile the loop polls without waiting */
    ev_signal sigint, sigterm;
    struct peer peers[CORE_MAX_PEERS];
    char protos[CORE_MAX_PROTOS][STORE_PROTOCOL_MAX + 1];
    int n_protos;
    struct online *on;
    size_t on_cap, on_used;
    struct job *jobs;
    /* the application services (svc.h), each its file's own state */
    struct svc_cmd *svc_cmd;
    struct svc_push *svc_push;
    struct svc_shadow *svc_shadow;
    struct svc_dev *svc_dev;
    struct svc_group *svc_group;
    bool in_batch;                  /* a write transaction is open */
    int draining;                   /* 1: told to drain; 2: drained */
    uint8_t rbuf[BUS_MAX_MSG];
};

/* core.c: the first error into core_slot.error (and stderr when verbose). */
void core_error(struct core *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* core_api.c: the northbound API on k's loop, when cfg->api says so; 0, or -1 with err. */
int core_api_start(struct core *k, char *err, size_t errcap);
void core_api_stop(struct core *k);

/* core.c: the wall clock in ms (the store's timestamps). */
int64_t core_wall_ms(void);
/* core.c: open the write transaction, if none is, and hold the replies until it commits. */
void core_batch_begin(struct core *k);
/* core.c: commit it, if one is open, and send the replies held. */
void core_batch_end(struct core *k);

/* core_online.c: (proto, id) online through front-end peer and handle. */
void core_online_put(struct core *k, int proto, const char *id, int peer, uint32_t handle);
/* core_online.c: offline, if this connection (peer, handle) is still the one it is
 * online through (any_handle: whichever it is); whether it was. */
bool core_online_remove(struct core *k, int proto, const char *id, int peer, uint32_t handle, bool any_handle);
/* core_online.c: the entry of (proto, id) when it is online, else NULL. */
const struct online *core_online_get(struct core *k, int proto, const char *id);
/* core_online.c: empty slot i of the table (a later entry may move into it). */
void core_online_remove_slot(struct core *k, size_t i);

/* core_cmd.c: a step's command, its first batch sent by the next core_cmd_fan_out. */
void core_cmd_new(struct core *k, const struct ctl_msg *m, const char *body);
/* core_cmd.c: one tick of fan-out: a batch per front-end, the oldest command first. */
void core_cmd_fan_out(struct core *k);
/* core_cmd.c: drop every command not sent whole (the end of the process). */
void core_cmd_free_all(struct core *k);

#endif
