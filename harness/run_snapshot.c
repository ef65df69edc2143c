/* The snapshot of the run in progress: what the shared region holds, plus what
 * only the parent knows (commands addressed, command windows, times, the
 * harness's own failure). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "harness/run_internal.h"
#include "sim/core/clock.h"

void run_snapshot_begin(struct run *r, const char *hash, double scale, uint32_t interval_ms)
{
    struct run_snapshot *s = r->snap;
    snapshot_begin(s, &r->sc, hash, r->shard, r->shards);
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm))
        strftime(s->started, sizeof s->started, "%Y-%m-%dT%H:%M:%SZ", &tm);
    s->time_scale = scale;
    s->interval_ms = interval_ms;
    s->embedded = r->embedded;
    snprintf(s->frontend, sizeof s->frontend, "%s", r->fe ? r->fe->name : "");
    const char *t = r->o->target ? r->o->target : r->sc.target;
    for (int f = 0; f < r->sc.n_fleets && f < s->n_fleets; f++) {
        const struct fleet_spec *fl = &r->sc.fleets[f];
        snprintf(s->fleets[f].target, sizeof s->fleets[f].target, "%s",
                 fl->target[0] ? fl->target : r->embedded ? "embedded" : t);
    }
}

void run_snapshot_take(struct run *r)
{
    struct run_snapshot *s = r->snap;
    if (!s || !r->shm)
        return;
    snapshot_take(s, r->shm, r->n_workers, r->n_gw);
    for (int f = 0; f < s->n_fleets; f++)
        memcpy(s->fleets[f].addressed, r->addressed[f], sizeof s->fleets[f].addressed);
    s->n_windows = 0;
    for (int i = 0; i < r->n_cmd_windows && i < SNAPSHOT_MAX_WINDOWS; i++) {
        const struct cmd_window *cw = &r->cmd_windows[i];
        const struct sc_step *st = &r->sc.steps[cw->step];
        struct snapshot_window *w = &s->windows[s->n_windows++];
        w->step = cw->step;
        snprintf(w->fleet, sizeof w->fleet, "%s", st->fleet);
        snprintf(w->msg, sizeof w->msg, "%s", st->msg);
        w->at_us = cw->at_us;
        w->closed = cw->closed;
        if (cw->closed)
            w->during = cw->during;
        else
            hist_reset(&w->during);
    }
    /* while it runs: up to now; once it drains: the whole timeline, as planned */
    uint64_t now = clock_now_us();
    uint64_t end = r->phase == 1 ? (now < r->end_us ? now : r->end_us)
                   : r->stopped_us && r->stopped_us < r->end_us ? r->stopped_us : r->end_us;
    s->virtual_s = r->phase >= 1 && end > r->start_us ? (double)(end - r->start_us) / 1e6 : 0;
    s->wall_s = (double)(clock_mono_us() - r->wall_start_us) / 1e6;
    /* the moment the last terminal was first online, from the workers' own record
     * of it (a parent polling for it misses it at high time scales) */
    uint64_t last = 0;
    int all = r->n_workers > 0 && r->phase >= 1;
    for (int w = 0; w < r->n_workers && all; w++) {
        const struct worker_slot *ws = &r->shm->workers[w];
        if (!ws->terminals)
            continue;
        if (!ws->online_all_at_us)
            all = 0;
        else if (ws->online_all_at_us > last)
            last = ws->online_all_at_us;
    }
    s->all_online_us = all && last ? (last > r->start_us ? last - r->start_us : 1) : 0;
    s->skipped_steps = r->skipped_steps;
    snprintf(s->harness_error, sizeof s->harness_error, "%s", r->harness_error ? r->harness_msg : "");
}
