/* `fleetsim run --stats PATH`: the run's snapshot, live, on a unix stream socket
 * (harness/stats_srv.c serves it; docs/live.md): each status interval a document,
 * the snapshot with a "live" member (events, verdicts as of now, what live
 * requests changed), and the requests of its clients (run_live.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/live_doc.h"
#include "harness/live_req.h"
#include "harness/run_internal.h"
#include "harness/stats_srv.h"

/* What the run adds to its snapshot for a watcher (docs/live.md): events,
 * verdicts as of now, and what live requests changed.  A sharded run's counts
 * are its shard's, so that the documents of all shards add up. */
static cJSON *live_member(struct run *r)
{
    cJSON *live = cJSON_CreateObject();
    if (!live)
        return NULL;
    struct live_doc_src src = {.shm = r->shm, .n_workers = r->n_workers, .n_gw = r->n_gw, .start_us = r->start_us,
                               .sc = &r->sc, .fe = r->fe};
    cJSON_AddItemToObject(live, "events", live_doc_events(&src));
    cJSON_AddItemToObject(live, "verdicts", live_doc_verdicts(&r->sc, r->snap));
    cJSON *paused = cJSON_AddArrayToObject(live, "paused");
    cJSON *active = cJSON_AddObjectToObject(live, "active");
    cJSON *max = cJSON_AddObjectToObject(live, "max");
    for (int f = 0; f < r->sc.n_fleets; f++) {
        const struct fleet_spec *fl = &r->sc.fleets[f];
        uint32_t cap = fleet_capacity(fl);
        struct live_resize now, all;
        live_resize_plan(r->active[f], 0, cap, r->shard - 1, r->shards, &now);
        live_resize_plan(cap, 0, cap, r->shard - 1, r->shards, &all);
        if (r->paused[f])
            cJSON_AddItemToArray(paused, cJSON_CreateString(fl->id));
        cJSON_AddNumberToObject(active, fl->id, now.here);
        cJSON_AddNumberToObject(max, fl->id, all.here);
    }
    return live;
}

/* The snapshot and its "live" member as one line; NULL when out of memory. */
static char *document(void *ctx, int fresh, size_t *len)
{
    struct run *r = ctx;
    if (fresh)
        run_snapshot_take(r); /* a new client sees now, not the last tick */
    cJSON *j = snapshot_to_json(r->snap);
    if (j)
        cJSON_AddItemToObject(j, "live", live_member(r));
    return live_json_line(j, len);
}

static void request(void *ctx, const char *line, size_t len, int client, uint32_t gen)
{
    run_live_request(ctx, line, len, client, gen);
}

static const struct stats_srv_ops run_ops = {.document = document, .request = request};

void run_stats_reply(struct run *r, int client, uint32_t gen, cJSON *reply)
{
    if (!r->stats) {
        cJSON_Delete(reply);
        return;
    }
    stats_srv_reply(r->stats, client, gen, reply);
}

int run_stats_open(struct run *r, const char *path, char *err, size_t errcap)
{
    r->stats = stats_srv_open(path, err, errcap);
    return r->stats ? 0 : -1;
}

void run_stats_start(struct run *r) { stats_srv_start(r->stats, r->loop, &run_ops, r); }

void run_stats_publish(struct run *r) { stats_srv_publish(r->stats); }

void run_stats_close(struct run *r)
{
    stats_srv_close(r->stats);
    r->stats = NULL;
}
