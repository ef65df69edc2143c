/* The services' common part (svc.h): their start and stop in order, the events of
 * the front-ends handed to each, their routes in one table, and the helpers they
 * share (the virtual clock, timers on it, the devices online). */
#include "sim/platform/core/svc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/core/clock.h"
#include "sim/platform/core/core_internal.h"
#include "sim/platform/core/svc_dev.h"

struct svc_life {
    const char *name;
    int (*start)(struct core *k, char *err, size_t errcap);
    void (*stop)(struct core *k);
};

/* push first (the others notify through it), groups last */
static const struct svc_life life[] = {
    {"push", svc_push_start, svc_push_stop},       {"devices", svc_dev_start, svc_dev_stop},
    {"commands", svc_cmd_start, svc_cmd_stop},     {"shadow", svc_shadow_start, svc_shadow_stop},
    {"groups", svc_group_start, svc_group_stop},
};
#define N_LIFE (sizeof life / sizeof *life)

int svc_start_all(struct core *k, char *err, size_t errcap)
{
    for (size_t i = 0; i < N_LIFE; i++) {
        char why[256] = "";
        if (life[i].start(k, why, sizeof why) < 0) {
            snprintf(err, errcap, "the %s service: %s", life[i].name, why[0] ? why : "cannot start");
            while (i-- > 0)
                life[i].stop(k);
            return -1;
        }
    }
    return 0;
}

void svc_stop_all(struct core *k)
{
    for (size_t i = N_LIFE; i-- > 0;)
        life[i].stop(k);
}

const struct north_route *svc_routes(size_t *n)
{
    static struct north_route *all;
    static size_t n_all;
    if (!all) {
        const struct {
            const struct north_route *r;
            size_t n;
        } parts[] = {{svc_dev_routes, svc_dev_n_routes},       {svc_cmd_routes, svc_cmd_n_routes},
                     {svc_shadow_routes, svc_shadow_n_routes}, {svc_push_routes, svc_push_n_routes},
                     {svc_group_routes, svc_group_n_routes}};
        size_t total = 0;
        for (size_t i = 0; i < sizeof parts / sizeof *parts; i++)
            total += parts[i].n;
        all = calloc(total ? total : 1, sizeof *all);
        if (!all) {
            *n = 0;
            return NULL;
        }
        for (size_t i = 0; i < sizeof parts / sizeof *parts; i++)
            for (size_t j = 0; j < parts[i].n; j++)
                all[n_all++] = parts[i].r[j];
    }
    *n = n_all;
    return all;
}

void svc_on_online(struct core *k, int proto, const char *id)
{
    svc_dev_online(k, proto, id);
    svc_cmd_online(k, proto, id);
    svc_shadow_online(k, proto, id);
}

void svc_on_offline(struct core *k, int proto, const char *id)
{
    svc_dev_offline(k, proto, id);
    svc_cmd_offline(k, proto, id);
}

void svc_on_report(struct core *k, int proto, const char *id, const char *service, const char *data,
                   int64_t at_ms)
{
    svc_dev_report(k, proto, id, at_ms);
    svc_group_report(k, proto, id, service, data, at_ms);
    svc_shadow_report(k, proto, id, service, data, at_ms);
    svc_cmd_report(k, proto, id);
    svc_push_report(k, proto, id, service, data, at_ms);
}

void svc_on_registered(struct core *k, int proto, const char *id)
{
    svc_dev_registered(k, proto, id);
    svc_push_registered(k, proto, id);
}

void svc_on_deleted(struct core *k, int proto, const char *id)
{
    svc_cmd_deleted(k, proto, id);
    svc_shadow_deleted(k, proto, id);
    svc_group_deleted(k, proto, id);
    svc_dev_deleted(k, proto, id);
}

void svc_on_cmd_done(struct core *k, const char *origin, const char *device_id, const char *command_id, int state)
{
    if (!origin)
        return;
    if (strcmp(origin, "shadow") == 0 || strcmp(origin, "config") == 0)
        svc_shadow_cmd_done(k, origin, device_id, command_id, state);
    else if (strncmp(origin, "batch:", 6) == 0)
        svc_group_cmd_done(k, origin, device_id, command_id, state);
}

int64_t svc_now_ms(void) { return (int64_t)(clock_now_us() / 1000u); }

int64_t svc_unix_ms(int64_t virtual_ms)
{
    return clock_unix_ms_at(virtual_ms > 0 ? (uint64_t)virtual_ms * 1000u : 0);
}

void svc_timer_at(struct core *k, ev_timer *t, int64_t at_ms)
{
    ev_timer_stop(k->loop, t);
    double d = at_ms > 0 ? clock_real_delay((uint64_t)at_ms * 1000u) : 0;
    ev_timer_set(t, d > 0 ? d : 0, 0);
    ev_timer_start(k->loop, t);
}

bool svc_online(struct core *k, int proto, const char *id)
{
    return core_online_get(k, proto, id) != NULL;
}

int svc_proto_index(struct core *k, const char *name)
{
    for (int i = 0; i < k->n_protos; i++)
        if (strcmp(k->protos[i], name) == 0)
            return i;
    return -1;
}

const char *svc_proto_name(struct core *k, int proto)
{
    return proto >= 0 && proto < k->n_protos ? k->protos[proto] : "";
}

bool svc_device_protocol(struct core *k, const char *device_id, char *protocol, size_t cap)
{
    return store_device_protocol(k->store, device_id, protocol, cap);
}

bool svc_short_conn(struct core *k, const char *protocol)
{
    if (strcmp(protocol, "lwm2m") == 0 || strcmp(protocol, "coap") == 0)
        return true;
    size_t n = strlen(protocol);
    for (const char *p = k->cfg->short_conn; n && *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && strncmp(p, protocol, n) == 0)
            return true;
        p += len + (e != NULL);
    }
    return false;
}

void svc_commit(struct core *k)
{
    core_batch_end(k);
}
