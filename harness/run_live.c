/* What the requests of the live statistics socket do in a run (docs/live.md):
 * pause and resume a fleet's traffic, disconnect a share of it, resize its
 * active terminals, inspect one terminal.  The parsing is live_req.c's; the
 * socket is run_stats.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/core/clock.h"

#include "harness/live_req.h"
#include "harness/run_internal.h"

#define LIVE_WAITS 32               /* inspects in flight */
#define LIVE_WAIT_US 5000000u       /* a worker that has not answered in this long will not */

struct live_wait {
    bool used;
    int client;
    uint32_t gen;
    char id[LIVE_ID_MAX];
    int worker;
    uint64_t asked_us;              /* monotonic */
};

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

/* Which fleet and index a device id is: 0, or -1 when no fleet numbers one so. */
static int find_terminal(const struct run *r, const char *ident, int *fleet, uint64_t *index)
{
    for (int k = 0; k < r->sc.n_fleets; k++) {
        const struct fleet_spec *fl = &r->sc.fleets[k];
        char prefix[FLEET_IDENT_LEN], again[LIVE_TERM_ID_MAX + 8];
        uint64_t base;
        int digits;
        bool numbered;
        if (fleet_ident_parse(fl->ident, prefix, sizeof prefix, &base, &digits, &numbered) < 0)
            continue;
        size_t pl = strlen(prefix);
        if (strncmp(ident, prefix, pl) != 0)
            continue;
        uint64_t n = 0;
        if (numbered) {
            const char *p = ident + pl;
            if (!*p || strlen(p) > 19 || strspn(p, "0123456789") != strlen(p))
                continue;
            n = strtoull(p, NULL, 10);
            if (n < base)
                continue;
            n -= base;
        } else if (ident[pl]) {
            continue;
        }
        if (n >= fl->count)
            continue;
        fleet_ident_format(prefix, numbered, digits, base + n, again, sizeof again);
        if (strcmp(again, ident) != 0)
            continue;
        *fleet = k;
        *index = n;
        return 0;
    }
    return -1;
}

static void inspect(struct run *r, const struct live_req *q, int client, uint32_t gen)
{
    char err[600];
    int f = -1;
    uint64_t index = q->index;
    if (q->has_terminal) {
        /* a phone number as the protocol carries it (BCD, zero-padded) names it too */
        const char *id = q->terminal;
        int found = find_terminal(r, id, &f, &index);
        while (found < 0 && id[0] == '0' && id[1])
            found = find_terminal(r, ++id, &f, &index);
        if (found < 0) {
            snprintf(err, sizeof err, "op \"inspect\": member \"terminal\": no fleet has a terminal \"%s\"",
                     q->terminal);
            run_stats_reply(r, client, gen, live_reply_error(q->id, err));
            return;
        }
    } else if ((f = fleet_of(r, q, client, gen)) < 0) {
        return;
    }
    const struct fleet_spec *fl = &r->sc.fleets[f];
    if (index >= fl->count) {
        snprintf(err, sizeof err, "op \"inspect\": member \"index\": %llu is past fleet %s's %u terminals (0 to %u)",
                 (unsigned long long)index, fl->id, fl->count, fl->count - 1);
        run_stats_reply(r, client, gen, live_reply_error(q->id, err));
        return;
    }
    uint32_t shards = r->shards > 1 ? r->shards : 1;
    if (index % shards != (r->shard - 1) % shards) {
        snprintf(err, sizeof err, "op \"inspect\": terminal %llu of fleet %s belongs to shard %llu/%u, not this run's %u/%u",
                 (unsigned long long)index, fl->id, (unsigned long long)(index % shards + 1), shards, r->shard, shards);
        run_stats_reply(r, client, gen, live_reply_error(q->id, err));
        return;
    }
    /* the worker that owns it: run_setup's split, every n_workers-th of the shard's slice */
    int worker = (int)((index / shards) % (uint64_t)r->n_workers);
    if (!r->live_waits && !(r->live_waits = calloc(LIVE_WAITS, sizeof *r->live_waits))) {
        run_stats_reply(r, client, gen, live_reply_error(q->id, "op \"inspect\": out of memory"));
        return;
    }
    int slot = -1;
    for (int i = 0; i < LIVE_WAITS && slot < 0; i++)
        if (!r->live_waits[i].used)
            slot = i;
    if (slot < 0) {
        snprintf(err, sizeof err, "op \"inspect\": %d inspects already wait for their workers; ask again", LIVE_WAITS);
        run_stats_reply(r, client, gen, live_reply_error(q->id, err));
        return;
    }
    struct ctl_msg m = {.type = CTL_INSPECT, .fleet = (uint32_t)f, .kind = (uint32_t)index, .step = (uint32_t)slot};
    if (super_send(r->sup, r->workers[worker].id, &m, NULL) < 0) {
        snprintf(err, sizeof err, "op \"inspect\": cannot reach worker %d", worker);
        run_stats_reply(r, client, gen, live_reply_error(q->id, err));
        return;
    }
    struct live_wait *x = &r->live_waits[slot];
    *x = (struct live_wait){.used = true, .client = client, .gen = gen, .worker = worker, .asked_us = clock_mono_us()};
    memcpy(x->id, q->id, sizeof x->id);
}

void run_live_answer(struct run *r, const struct ctl_msg *m, const char *payload)
{
    if (!r->live_waits || m->step >= LIVE_WAITS || !r->live_waits[m->step].used)
        return; /* expired */
    struct live_wait *x = &r->live_waits[m->step];
    x->used = false;
    cJSON *body = payload && payload[0] ? cJSON_Parse(payload) : NULL;
    if (!body) {
        char err[200];
        snprintf(err, sizeof err, "op \"inspect\": worker %d has no terminal %u of fleet %s", x->worker, m->kind,
                 m->fleet < (uint32_t)r->sc.n_fleets ? r->sc.fleets[m->fleet].id : "?");
        run_stats_reply(r, x->client, x->gen, live_reply_error(x->id, err));
        return;
    }
    cJSON *o = live_reply_new(x->id, true);
    cJSON *c = body->child;
    while (o && c) {
        cJSON *next = c->next;
        cJSON_AddItemToObject(o, c->string, cJSON_DetachItemViaPointer(body, c));
        c = next;
    }
    cJSON_Delete(body);
    run_stats_reply(r, x->client, x->gen, o);
}

void run_live_tick(struct run *r)
{
    uint64_t now = clock_mono_us();
    for (int i = 0; r->live_waits && i < LIVE_WAITS; i++) {
        struct live_wait *x = &r->live_waits[i];
        if (!x->used || now - x->asked_us < LIVE_WAIT_US)
            continue;
        x->used = false;
        char err[200];
        snprintf(err, sizeof err, "op \"inspect\": worker %d did not answer within %u s", x->worker,
                 LIVE_WAIT_US / 1000000u);
        run_stats_reply(r, x->client, x->gen, live_reply_error(x->id, err));
    }
}

void run_live_free(struct run *r)
{
    free(r->live_waits);
    r->live_waits = NULL;
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
    case LIVE_OP_INSPECT:
        inspect(r, &q, client, gen);
        break;
    default:
        snprintf(err, sizeof err, "op \"%s\": not supported by this run", live_op_name(q.op));
        run_stats_reply(r, client, gen, live_reply_error(q.id, err));
        break;
    }
}
