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

/* GET /iocm/app/dm/v1.4.0/devices/{deviceId}: the device, its status and its latest data. */
static void device_get(void *ctx, const struct north_req *rq, struct north_resp *rs)
{
    struct core *k = ctx;
    cJSON *o = NULL;
    char err[256];
    int rc = store_device_json(k->store, rq->params[0], &o, err, sizeof err);
    if (rc == 1) {
        north_error(rs, 404, NE_NOT_FOUND, "no device %s is registered", rq->params[0]);
        return;
    }
    if (rc < 0) {
        north_error(rs, 500, NE_INTERNAL, "the store: %s", err);
        return;
    }
    rs->status = 200;
    rs->body = o;
}

static const struct north_route routes[] = {
    {"GET", "/iocm/app/dm/v1.4.0/devices/{deviceId}", device_get},
};
#define N_OWN (sizeof routes / sizeof *routes)

const struct north_route *core_api_routes(size_t *n)
{
    /* the core's own calls, then the services' (svc.h) */
    static struct north_route all[N_OWN + 128];
    static size_t n_all;
    if (!n_all) {
        size_t n_svc = 0;
        const struct north_route *svc = svc_routes(&n_svc);
        if (n_svc > 128)
            n_svc = 128; /* test_openapi fails first: every route is documented */
        memcpy(all, routes, sizeof routes);
        for (size_t i = 0; i < n_svc; i++)
            all[N_OWN + i] = svc[i];
        n_all = N_OWN + n_svc;
    }
    *n = n_all;
    return all;
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
                           .n_routes = (int)n_all, .ctx = k, .now_ms = virtual_ms};
    k->api = north_start(k->loop, &o, err, errcap);
    return k->api ? 0 : -1;
}

void core_api_stop(struct core *k)
{
    north_stop(k->api);
    k->api = NULL;
}
