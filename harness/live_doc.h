/* The "live" member of a live statistics document (docs/live.md): what a
 * watcher needs beyond the snapshot.  Built by the parent each status interval
 * for its stats socket's clients, from the shared region (the processes' event
 * rings) and its own state; the dashboard reads it (report/dash_model.c). */
#ifndef FLEETSIM_LIVE_DOC_H
#define FLEETSIM_LIVE_DOC_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "harness/scenario.h"
#include "harness/snapshot.h"
#include "sim/core/stats.h"
#include "sim/platform/frontend.h"

#define LIVE_DOC_EVENTS 64      /* events in a document: the newest of every process's */

struct live_doc_src {
    const struct stats_shm *shm;
    int n_workers, n_gw;
    uint64_t start_us;          /* virtual time of the start: events are timed from it */
    const struct scenario *sc;  /* fleet ids and dialects (NULL: no fleets, `serve`) */
    const struct frontend *fe;  /* the platform's front-end (its frames decoded with the dialect
                                   it serves), NULL when none runs here */
};

/* "events": every process's latest events, oldest first, the newest
 * LIVE_DOC_EVENTS of them, each with its frame in hex and decoded. */
cJSON *live_doc_events(const struct live_doc_src *s);
/* "verdicts": every expectation of sc judged on s as the end of the run judges it. */
cJSON *live_doc_verdicts(const struct scenario *sc, const struct run_snapshot *s);

#endif
