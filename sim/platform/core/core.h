/* The platform core: one process, the only writer of the platform's SQLite file,
 * owner of the protocol-independent services (devices and their registration,
 * status, reported data, commands).  The protocol front-ends (the JT/T 808
 * gateway; later the LwM2M server and the MQTT bridge) answer their devices
 * themselves and talk to the core over the bus (bus.h): registrations and
 * authentications it answers, events it stores in batches (one transaction
 * for all the writes of the messages read in one go; reports and status in
 * memory, flushed every 200 ms), and commands it fans out to the front-ends
 * holding the devices, a batch per front-end per millisecond, so a request to
 * 10,000 terminals never holds a loop.
 *
 * The parent talks to it over the control channel (ctl.h): CTL_COMMAND (a
 * scenario step; the northbound API later), CTL_DRAIN (fan out what is left,
 * store what the front-ends sent, flush), CTL_STOP. */
#ifndef FLEETSIM_CORE_H
#define FLEETSIM_CORE_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/core/stats.h"
#include "sim/platform/core/store.h"
#include "sim/platform/north/north_auth.h"

struct pc_product;

#define CORE_MAX_PEERS 64           /* front-end processes */
#define CORE_MAX_MAPS 8             /* protocols whose commands the API maps */

/* A northbound command (serviceId, method, paras) as a front-end's command kind and
 * body (frontend.h: map_command): 0 with *kind and *body (malloc'ed JSON, NULL for
 * the kind's default body), or -1 with "command.field: what is wrong" in err. */
typedef int (*core_map_command_fn)(const char *service_id, const char *method, const cJSON *paras, uint32_t *kind,
                                   char **body, char *err, size_t errcap);
struct core_map {
    const char *protocol;           /* the front-end's name ("jt808"): a static string */
    core_map_command_fn map;
};

struct core_config {
    char db[512];                   /* the SQLite file */
    int verbose;
    int cmd_batch;                  /* devices per front-end per tick (0: CORE_BATCH, 64) */
    /* provisioning stored before the core is ready (frontend.h: provision) */
    int (*provision)(const void *arg, int (*emit)(void *ctx, const struct store_provision *p), void *ctx,
                     char *err, size_t errcap);
    const void *provision_arg;
    char api[64];                   /* the northbound API's HOST:PORT ("" none): docs/api.md */
    struct north_auth *api_apps;    /* ... its applications */
    const char *api_cert_pem;       /* the API over HTTPS: its certificate (PEM text; NULL: HTTP) */
    const char *api_key_pem;        /* ... and its private key */
    char mutant[32];                /* a rule broken on purpose (svc_mutant.c; serve --mutant): "" none */
    char short_conn[64];            /* protocols whose devices are short-connection ones besides
                                       lwm2m and coap, comma-separated (svc_short_conn) */
    struct core_map maps[CORE_MAX_MAPS]; /* the commands of the API, by protocol (svc_cmd.c) */
    const struct pc_product *const *products; /* product models the platform knows (serve --profile) */
    int n_products;
    char push_ca[512];              /* the CA file HTTPS callbacks are verified with ("" the system's) */
};

/* Every call of the northbound API the core serves (its own and its services'), for
 * docs/openapi.json's test; the front door's login and refreshToken are not in it. */
struct north_route;
const struct north_route *core_api_routes(size_t *n);

/* A listening bus socket at a fresh abstract unix address (written to addr,
 * "@fleetsim-core-<pid>-<n>"), made before the core and the front-ends are
 * forked so that they can connect at once.  The fd, or -1 with err. */
int core_listen(char *addr, size_t cap, char *err, size_t errcap);
/* Connect to a core's bus address (non-blocking once connected).  The fd, or -1
 * with err. */
int core_connect(const char *addr, char *err, size_t errcap);

/* Run the core on listening socket lfd until CTL_STOP (ctl_fd >= 0) or
 * SIGINT/SIGTERM (ctl_fd < 0).  Returns the exit status. */
int core_main(const struct core_config *cfg, int lfd, int ctl_fd, struct core_slot *slot);

#endif
