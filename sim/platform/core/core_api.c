/* The northbound API in the platform core (docs/api.md): the front door
 * (sim/platform/north) on the core's loop, with the calls the core's services
 * answer.  The store is the core's: a call reads what was flushed (at most a flush
 * interval old, 200 ms). */
#include <stdio.h>
#include <string.h>

#include "sim/core/clock.h"
#include "sim/platform/core/core_internal.h"
#include "sim/platform/core/svc.h"
#include "sim/platform/north/north.h"

static int64_t virtual_ms(void) { return (int64_t)(clock_now_us() / 1000u); }

const struct north_route *core_api_routes(size_t *n)
{
    /* the services' calls (svc.h); a device is the device service's (svc_dev_api.c) */
    return svc_routes(n);
}

int core_api_start(struct core *k, char *err, size_t errcap)
{
    if (!k->cfg->api[0])
        return 0;
    char host[64];
    uint16_t port;
    if (north_addr(k->cfg->api, host, sizeof host, &port, err, errcap) < 0)
        return -1;
    size_t n_all;
    const struct north_route *all = core_api_routes(&n_all);
    struct north_opts o = {.bind = host, .port = port, .auth = k->cfg->api_apps, .routes = all,
                           .n_routes = (int)n_all, .ctx = k, .now_ms = virtual_ms,
                           .tls_cert = k->cfg->api_cert_pem, .tls_key = k->cfg->api_key_pem,
                           .mutant = k->cfg->mutant};
    k->api = north_start(k->loop, &o, err, errcap);
    return k->api ? 0 : -1;
}

void core_api_stop(struct core *k)
{
    north_stop(k->api);
    k->api = NULL;
}
