/* A platform front-end: the processes that answer one protocol's terminals for
 * the embedded platform (the JT/T 808 gateway; later the LwM2M server and the
 * MQTT bridge).  `fleetsim run` starts the front-ends its fleets' dialects name,
 * through this table, without knowing their protocol. */
#ifndef FLEETSIM_FRONTEND_H
#define FLEETSIM_FRONTEND_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/core/stats.h"
#include "sim/net/tls.h"
#include "sim/platform/core/store.h"

/* The embedded platform's settings, as a scenario's "platform" section and the
 * command line give them. */
struct frontend_opts {
    char bind[64];              /* listen address */
    uint16_t port;              /* 0 = any free port */
    char db[512];               /* the platform's SQLite file */
    char auth[16];              /* "open" | "one-party" | "third-party" */
    char triples[512];          /* one-party: the CSV of known terminals */
    char verify_url[512];       /* third-party: the verification endpoint (http:// or https://) */
    uint64_t verify_timeout_ms; /* real time; 0 = the front-end's default (2 s) */
    unsigned verify_events;     /* actions verified (1 << enum jt808_verify_action); 0 = all */
    uint64_t idle_timeout_ms;   /* virtual; 0 = the front-end's default */
    uint64_t cmd_timeout_ms;    /* virtual; an unanswered platform request times out */
    uint64_t reasm_timeout_ms;  /* virtual; a subpackaged message missing packages this long: they
                                   are asked for (JT/T 808 0x8003); 0 = the front-end's default */
    int verbose;
    char core[108];             /* the platform core's bus address (core_listen) */
    struct tls_opts tls;        /* TLS: server certificate and key, device root CA (none: TCP) */
    char rsa[16];               /* JT/T 808 RSA: "on" (default, "" too) | "encrypt" | "off" */
    char rsa_key[512];          /* ... the platform's private key, PEM ("": made at start) */
};

/* CMD_BEGIN's step of a command of the northbound API (not a scenario's step): the
 * front-end reports DELIVERED where its protocol acknowledges a request before it
 * answers it (JT/T 808: 0x8108 acknowledged by 0x0001, answered by 0x0108). */
#define FRONTEND_STEP_API 0xFFFFFFFFu

struct frontend {
    const char *name;           /* "jt808" */
    size_t cfg_size;            /* bytes of its own configuration */
    /* Fill cfg (cfg_size bytes, zeroed) from o; 0 or -1 with err. */
    int (*configure)(void *cfg, const struct frontend_opts *o, char *err, size_t errcap);
    /* Check the files o names that only the front-end can read (a key), before
     * anything starts: 0, or -1 with "field: what" in err.  NULL: nothing to check. */
    int (*check)(const struct frontend_opts *o, char *err, size_t errcap);
    /* Create n listening sockets on one port; *port is the one bound (o->port or a
     * free one).  0 or -1 with err. */
    int (*listen)(void *cfg, int *fds, int n, uint16_t *port, char *err, size_t errcap);
    /* One process on listening socket lfd until CTL_STOP; its exit status. */
    int (*main)(const void *cfg, int id, int lfd, int ctl_fd, struct gw_slot *slot);
    /* Devices to provision before any registers (JT/T 808 one-party mode: the CSV
     * of known terminals), run in the core process at its start: each goes to
     * emit.  Rows, or -1 with err.  NULL: nothing to provision. */
    int (*provision)(const void *cfg, int (*emit)(void *ctx, const struct store_provision *p), void *ctx,
                     char *err, size_t errcap);
    /* A northbound command (004 §7: serviceId, method, paras) as one of its command
     * kinds and that kind's JSON body, run in the core process: 0 with *kind and
     * *body (malloc'ed, or NULL for the kind's default body), or -1 with
     * "command.field: what is wrong" in err.  NULL: the API sends it no commands. */
    int (*map_command)(const char *service_id, const char *method, const cJSON *paras, uint32_t *kind,
                       char **body, char *err, size_t errcap);
    /* Its own counters, in gw_slot.c[] (names like "gateway.bad_check"). */
    const struct stats_counter *counters;
    int n_counters;
};

#endif
