/* What the requests of the live statistics socket do in a run (docs/live.md):
 * pause and resume a fleet's traffic, disconnect a share of it, resize its
 * active terminals, inspect one terminal.  The parsing is live_req.c's; the
 * socket is run_stats.c's. */
#include <stdio.h>
#include <string.h>

#include "harness/live_req.h"
#include "harness/run_internal.h"

/* The fleet named by the request: its index, or -1 after an error reply. */
static int fleet_of(struct run *r, const struct live_req *q, int client, uint32_t gen)
{
    for (int k = 0; k < r->sc.n_fleets; k++)
        if (strcmp(r->sc.fleets[k].id, q->fleet) == 0)
            return k;
    char err[600];
    int n = snprintf(err, sizeof err, "op \"%s\": member \"fleet\": no fleet \"%s\"; fleets:", live_op_name(q->op),
                     q->fleet);
    for (int k = 0; k < r->sc.n_fleets && n > 0 && (size_t)n < sizeof err; k++)
        n += snprintf(err + n, sizeof err - (size_t)n, "%s %s", k ? "," : "", r->sc.fleets[k].id);
    run_stats_reply(r, client, gen, live_reply_error(q->id, err));
    return -1;
}

static cJSON *fleet_list(struct run *r, const bool *which)
{
    cJSON *a = cJSON_CreateArray();
    for (int k = 0; a && k < r->sc.n_fleets; k++)
        if (which[k])
            cJSON_AddItemToArray(a, cJSON_CreateString(r->sc.fleets[k].id));
    return a;
}

static void pause_resume(struct run *r, const struct live_req *q, int client, uint32_t gen)
{
    bool pause = q->op == LIVE_OP_PAUSE;
    bool which[SC_MAX_FLEETS] = {0};
    int only = -1;
    if (q->has_fleet && (only = fleet_of(r, q, client, gen)) < 0)
        return;
    for (int k = 0; k < r->sc.n_fleets; k++) {
        if (only >= 0 && k != only)
            continue;
        which[k] = true;
        r->paused[k] = pause;
        struct ctl_msg m = {.type = pause ? CTL_PAUSE : CTL_RESUME, .fleet = (uint32_t)k};
        run_to_workers(r, &m);
    }
    cJSON *o = live_reply_new(q->id, true);
    cJSON_AddItemToObject(o, "fleets", fleet_list(r, which));
    cJSON_AddItemToObject(o, "paused", fleet_list(r, r->paused));
    run_stats_reply(r, client, gen, o);
}

static void disconnect(struct run *r, const struct live_req *q, int client, uint32_t gen)
{
    int f = fleet_of(r, q, client, gen);
    if (f < 0)
        return;
    const struct fleet_spec *fl = &r->sc.fleets[f];
    struct ctl_msg m = {.type = CTL_FAULT, .fleet = (uint32_t)f, .kind = CTL_FAULT_DISCONNECT,
                        .fraction = q->fraction, .step = UINT32_MAX};
    run_to_workers(r, &m);
    cJSON *o = live_reply_new(q->id, true);
    cJSON_AddStringToObject(o, "fleet", fl->id);
    cJSON_AddNumberToObject(o, "fraction", q->fraction);
    /* the terminals picked (this shard's share); those not connected are left alone */
    cJSON_AddNumberToObject(o, "terminals",
                            (double)ctl_pick_count_shard(fl->count, q->fraction, r->shard - 1, r->shards));
    run_stats_reply(r, client, gen, o);
}

void run_live_request(struct run *r, const char *line, size_t len, int client, uint32_t gen)
{
    struct live_req q;
    char err[600];
    if (live_req_parse(line, len, &q, err, sizeof err) < 0) {
        run_stats_reply(r, client, gen, live_reply_error(q.id, err));
        return;
    }
    if (r->phase != 1) {
        snprintf(err, sizeof err, "op \"%s\": the run is %s", live_op_name(q.op),
                 r->phase < 1 ? "starting (its terminals are not started yet)" : "ending (its traffic has stopped)");
        run_stats_reply(r, client, gen, live_reply_error(q.id, err));
        return;
    }
    switch (q.op) {
    case LIVE_OP_PAUSE:
    case LIVE_OP_RESUME:
        pause_resume(r, &q, client, gen);
        break;
    case LIVE_OP_DISCONNECT:
        disconnect(r, &q, client, gen);
        break;
    default:
        snprintf(err, sizeof err, "op \"%s\": not supported by this run", live_op_name(q.op));
        run_stats_reply(r, client, gen, live_reply_error(q.id, err));
        break;
    }
}
