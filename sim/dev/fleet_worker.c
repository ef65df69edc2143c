/* The worker: its fleets' terminals made and started, the loop's timers, the
 * parent's control messages, the per-terminal predicates, the drain.  The
 * terminals' own life (connections, states, the ledger) is fleet.c's. */
#include "sim/dev/fleet.h"
#include "sim/dev/fleet_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/core/ctl.h"
#include "sim/core/lag.h"
#include "sim/net/tls.h"

#define TICK_REAL_S 0.002         /* how often the wheel turns, real seconds */

/* --- predicates evaluated per terminal ------------------------------------------ */

/* Terminal t of fleet f against every predicate that applies to its fleet, into
 * acc (indexed by the predicates' slots); stop: the instant deadlines are judged at. */
static void judge(struct worker *w, int f, struct term *t, uint64_t stop, struct expect_partial *acc)
{
    struct fleet_rt *fr = &w->fleets[f];
    /* a terminal resized out (or never resized in) is not judged on where it is at
     * the end, nor at all if it never started */
    bool out = t->resized_out || t->stopping || t->index >= fr->active;
    for (int i = 0; i < w->plan.n_preds; i++) {
        const struct term_pred *p = &w->plan.preds[i];
        if (!(p->fleets & (1u << f)) || (out && (p->kind == TERM_PRED_AT_END || !t->started)))
            continue;
        struct expect_partial *ep = &acc[p->slot];
        bool ok = false;
        uint64_t when = 0;
        ep->total++;
        if (p->kind == TERM_PRED_SEQUENCE) {
            int sq = -1;
            for (int k = 0; k < fr->n_seq && sq < 0; k++)
                if (fr->seq[k] == p)
                    sq = k;
            size_t k = (size_t)(t - fr->terms);
            ok = sq >= 0 && fr->seq_progress[k * (size_t)fr->n_seq + (size_t)sq] >= p->n_seq;
        } else {
            uint32_t fr_ms = t->first_reach_ms[p->state];
            when = fr_ms ? (uint64_t)(fr_ms - 1) * 1000u : 0;
            if (p->kind == TERM_PRED_REACHED)
                ok = fr_ms && (!p->within_us || when <= p->within_us);
            else
                ok = t->state == p->state;
        }
        if (ok) {
            ep->ok++;
            if (when > ep->worst_us)
                ep->worst_us = when;
        } else if (p->kind == TERM_PRED_REACHED && p->within_us && !t->first_reach_ms[p->state] &&
                   (!t->start_us || stop < t->start_us + p->within_us)) {
            ep->undecided++; /* its deadline was still to come */
        } else if (p->kind == TERM_PRED_REACHED && !t->expect_told) {
            t->expect_told = 1; /* once a terminal: the verdict counts the rest */
            char within[40];
            snprintf(within, sizeof within, "within %.3g s of its start", (double)p->within_us / 1e6);
            if (!t->first_reach_ms[p->state])
                term_event(t, LEV_EXPECTATION, NULL, 0, "%s: did not reach %s %s (it is %s)",
                           p->id ? p->id : "expectation", term_state_name((enum term_state)p->state), within,
                           term_state_name((enum term_state)t->state));
            else
                term_event(t, LEV_EXPECTATION, NULL, 0, "%s: reached %s after %.3f s, not %s",
                           p->id ? p->id : "expectation", term_state_name((enum term_state)p->state),
                           (double)when / 1e6, within);
        }
    }
}

/* The partials into the shared slot; odd while rewritten: the parent reading it
 * meanwhile reads again. */
static void publish(struct worker *w, const struct expect_partial *acc)
{
    __atomic_store_n(&w->slot->expect_gen, w->slot->expect_gen + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    for (int i = 0; i < w->plan.n_preds; i++) {
        int k = w->plan.preds[i].slot;
        w->slot->expect[k] = acc[k];
    }
    __atomic_thread_fence(__ATOMIC_RELEASE);
    __atomic_store_n(&w->slot->expect_gen, w->slot->expect_gen + 1, __ATOMIC_RELEASE);
}

/* Every terminal at once: the drain's final word. */
static void evaluate(struct worker *w)
{
    uint64_t stop = w->stopped_us ? w->stopped_us : term_now();
    static struct expect_partial acc[STATS_MAX_EXPECT];
    memset(acc, 0, sizeof acc);
    for (int f = 0; f < w->n_fleets; f++)
        for (uint32_t k = 0; k < w->fleets[f].n; k++)
            judge(w, f, &w->fleets[f].terms[k], stop, acc);
    publish(w, acc);
    w->live_eval.running = false;
}

/* Watched live, the verdicts as the run goes: a pass over the terminals every
 * second, LIVE_EVAL_CHUNK of them per turn of the wheel, so that no turn waits on
 * all of them (100,000 terminals at once would hold the loop a few ms). */
#define LIVE_EVAL_CHUNK 1024
static void live_evaluate(struct worker *w)
{
    struct live_eval *e = &w->live_eval;
    uint64_t mono = clock_mono_us();
    if (!e->running) {
        if (mono < e->next_mono_us)
            return;
        e->running = true;
        e->f = 0;
        e->k = 0;
        e->stop_us = term_now();
        memset(e->acc, 0, sizeof e->acc);
    }
    for (int n = 0; n < LIVE_EVAL_CHUNK && e->f < w->n_fleets;) {
        struct fleet_rt *fr = &w->fleets[e->f];
        if (e->k >= fr->n) {
            e->f++;
            e->k = 0;
            continue;
        }
        judge(w, e->f, &fr->terms[e->k++], e->stop_us, e->acc);
        n++;
    }
    if (e->f < w->n_fleets)
        return;
    publish(w, e->acc);
    e->running = false;
    e->next_mono_us = mono + 1000000u;
}

/* --- worker ------------------------------------------------------------------- */

static void finish_drain(struct worker *w)
{
    /* answers that never came by the deadline are timed out: the ledger closes */
    for (int f = 0; f < w->n_fleets; f++) {
        struct fleet_rt *fr = &w->fleets[f];
        for (uint32_t k = 0; k < fr->n; k++) {
            struct term *t = &fr->terms[k];
            while (t->npend) {
                ledger_timeout(&fr->st->ledger);
                pend_remove(t, 0);
            }
        }
    }
    evaluate(w);
    /* the statistics are final now: close quietly, so the platform's own shutdown
     * is not counted as disconnects */
    for (int f = 0; f < w->n_fleets; f++)
        for (uint32_t k = 0; k < w->fleets[f].n; k++) {
            struct term *t = &w->fleets[f].terms[k];
            term_close(t, false);
            wheel_cancel(&w->wheel, &t->timer);
            t->stay_away = 1;
        }
    w->draining = false;
    w->slot->phase = WP_DONE;
    struct ctl_msg m = {.type = CTL_DRAINED};
    ctl_send(w->ctl_fd, &m, NULL);
}

void worker_poll(struct worker *w)
{
    uint64_t now = term_now();
    wheel_advance(&w->wheel, now);
    if (w->plan.live && !w->draining && w->slot->phase == WP_RUNNING)
        live_evaluate(w);
    if (w->draining && (w->inflight == 0 || now >= w->drain_deadline_us))
        finish_drain(w);
}

static void tick_cb(struct ev_loop *loop, ev_timer *tm, int revents)
{
    struct lag_mark t0 = lag_begin();
    worker_poll(tm->data);
    lag_end("wheel", t0);
    (void)loop;
    (void)revents;
}

static void rss_cb(struct ev_loop *loop, ev_timer *tm, int revents)
{
    struct worker *w = tm->data;
    tls_heap_trim(); /* a burst of handshakes done: their memory back to the kernel */
    w->slot->rss_kb = stats_rss_kb();
    if (w->slot->rss_kb > w->slot->rss_peak_kb)
        w->slot->rss_peak_kb = w->slot->rss_kb;
    (void)loop;
    (void)revents;
}

void worker_start(struct worker *w)
{
    uint64_t now = term_now();
    w->start_us = now;

    for (int f = 0; f < w->n_fleets; f++) {
        struct fleet_rt *fr = &w->fleets[f];
        for (uint32_t k = 0; k < fr->n; k++) {
            struct term *t = &fr->terms[k];
            uint64_t at = now;
            if (t->index >= fr->active)
                continue;
            if (fr->spec->ramp_per_s > 0)
                at += (uint64_t)((double)t->index * 1e6 / fr->spec->ramp_per_s);
            wheel_schedule(&w->wheel, &t->timer, at);
        }
    }
}

void worker_control(struct worker *w, const struct ctl_msg *m)
{
    switch (m->type) {
    case CTL_START:
        worker_start(w);
        break;
    case CTL_FAULT:
    case CTL_UNREGISTER: {
        if (m->fleet >= (uint32_t)w->n_fleets)
            break;
        struct fleet_rt *fr = &w->fleets[m->fleet];
        bool library = fr->d->io == DIALECT_IO_LIBRARY;
        for (uint32_t k = 0; k < fr->n; k++) {
            struct term *t = &fr->terms[k];
            if (t->index >= fr->active || !ctl_picked(t->index, fr->active, m->fraction) ||
                (t->conn.tp.fd < 0 && !library))
                continue;
            if (m->type == CTL_FAULT) {
                fr->st->faults++;
                if (m->kind == CTL_FAULT_CORRUPT) {
                    t->corrupt_next = 1;
                    continue;
                }
                t->attempt = 0;
                term_drop_ex(t, m->down_us, false, m->kind == CTL_FAULT_CUT);
            } else if (fr->d->unregister) {
                fr->d->unregister(t);
            }
        }
        break;
    }
    case CTL_DRAIN:
        w->draining = true;
        w->slot->phase = WP_DRAINING;
        w->stopped_us = term_now();
        w->drain_deadline_us = w->stopped_us + m->settle_us;
        for (int f = 0; f < w->n_fleets; f++) {
            struct fleet_rt *fr = &w->fleets[f];
            for (uint32_t k = 0; k < fr->n; k++)
                if (fr->terms[k].started && fr->d->drain)
                    fr->d->drain(&fr->terms[k]);
        }
        break;
    case CTL_PAUSE:
    case CTL_RESUME:
        if (m->fleet < (uint32_t)w->n_fleets)
            w->fleets[m->fleet].paused = m->type == CTL_PAUSE;
        break;
    case CTL_INSPECT:
        worker_inspect(w, m);
        break;
    case CTL_RESIZE:
        if (m->fleet < (uint32_t)w->n_fleets && !w->draining)
            fleet_resize(&w->fleets[m->fleet], m->count);
        break;
    case CTL_STOP:
        ev_break(w->loop, EVBREAK_ALL);
        break;
    default:
        break;
    }
}

static void ctl_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct worker *w = io->data;
    struct ctl_msg m;
    int r = ctl_recv(w->ctl_fd, &m, NULL, 0);
    if (r <= 0) {
        /* the parent is gone: nothing left to report to */
        ev_break(loop, EVBREAK_ALL);
        return;
    }
    worker_control(w, &m);
    (void)revents;
}

int worker_setup(struct worker *w, const struct worker_plan *plan, int id, int n_workers,
                 struct worker_slot *slot, int ctl_fd, char *err, size_t errcap)
{
    w->plan = *plan;
    w->id = id;
    w->n_workers = n_workers;
    w->slot = slot;
    w->ctl_fd = ctl_fd;
    w->rng = (plan->seed ? plan->seed : 1) * 2654435761u + (uint32_t)id * 40503u + 1;
    w->loop = ev_loop_new(EVFLAG_AUTO);
    if (!w->loop) {
        snprintf(err, errcap, "worker %d: cannot create an event loop", id);
        return -1;
    }
    w->n_fleets = plan->n_fleets;
    if (trace_open(&w->trace, &plan->trace, n_workers, err, errcap) < 0)
        return -1;
    slot->rss_base_kb = stats_rss_kb();
    for (int f = 0; f < plan->n_fleets; f++) {
        const struct fleet_spec *spec = &plan->fleets[f];
        struct fleet_rt *fr = &w->fleets[f];
        fr->w = w;
        fr->spec = spec;
        fr->index = f;
        fr->d = spec->dialect;
        fr->st = &slot->fleets[f];
        fr->target = &plan->targets[f];
        if (!fr->d) {
            snprintf(err, errcap, "fleet %s: no terminal behaviour for protocol %s", spec->id, spec->protocol);
            return -1;
        }
        fr->tp = plan->transport ? plan->transport : transport_by_name(spec->transport[0] ? spec->transport : "tcp");
        if (!plan->transport && strcmp(spec->transport, "tls") == 0) {
            char e[300];
            fr->tp = fr->own_tp = tls_transport_new(&spec->tls, 0, e, sizeof e);
            if (!fr->tp) {
                snprintf(err, errcap, "fleet %s: %s", spec->id, e);
                return -1;
            }
            tls_transport_on_client_event(fr->tp, tls_client_cb, fr);
            fr->hs_max = spec->tls.max_handshakes ? spec->tls.max_handshakes : TLS_HANDSHAKES_DEFAULT;
        }
        if (!fr->tp && fr->d->io != DIALECT_IO_LIBRARY) {
            snprintf(err, errcap, "fleet %s: unknown transport '%s'", spec->id, spec->transport);
            return -1;
        }
        fr->spread = transport_is_loopback(fr->target) && fr->target->ss_family == AF_INET;
        if (fleet_ident_parse(spec->ident, fr->ident_prefix, sizeof fr->ident_prefix, &fr->ident_base,
                              &fr->ident_digits, &fr->ident_numbered) < 0) {
            snprintf(err, errcap, "fleet %s: device id '%s' cannot be numbered", spec->id, spec->ident);
            return -1;
        }
        for (int i = 0; i < plan->n_preds; i++)
            if (plan->preds[i].kind == TERM_PRED_SEQUENCE && (plan->preds[i].fleets & (1u << f)) &&
                fr->n_seq < STATS_MAX_EXPECT)
                fr->seq[fr->n_seq++] = &plan->preds[i];
        hist_reset(&fr->st->report_latency);
        hist_reset(&fr->st->ack_latency);
        hist_reset(&fr->st->online_latency);
        /* this run's slice of the fleet (every shards-th terminal), then this worker's
         * share of the slice (every n_workers-th of it); indices stay the fleet's */
        uint32_t shards = plan->shards > 1 ? plan->shards : 1;
        uint32_t slice = fleet_shard_size(fleet_capacity(spec), plan->shard, shards);
        uint32_t n = slice / (uint32_t)n_workers + ((uint32_t)id < slice % (uint32_t)n_workers);
        fr->n = n;
        fr->terms = n ? calloc(n, sizeof *fr->terms) : NULL;
        fr->dstate = n && fr->d->state_size ? calloc(n, fr->d->state_size) : NULL;
        fr->seq_progress = n && fr->n_seq ? calloc(n, (size_t)fr->n_seq) : NULL;
        fr->hs_wait = n && fr->own_tp ? calloc(n, sizeof *fr->hs_wait) : NULL;
        if (n && fr->own_tp && !fr->hs_wait) {
            snprintf(err, errcap, "worker %d: out of memory for %u terminals", id, n);
            return -1;
        }
        bool tracing = w->trace.n_ids || w->trace.pcap_fd >= 0;
        fr->tc = n && tracing ? calloc(n, sizeof *fr->tc) : NULL;
        if (n && tracing && !fr->tc) {
            snprintf(err, errcap, "worker %d: out of memory for tracing %u terminals", id, n);
            return -1;
        }
        if (n && (!fr->terms || (fr->d->state_size && !fr->dstate) || (fr->n_seq && !fr->seq_progress))) {
            snprintf(err, errcap, "worker %d: out of memory for %u terminals", id, n);
            return -1;
        }
        for (uint32_t k = 0; k < n; k++) {
            struct term *t = &fr->terms[k];
            t->fleet = fr;
            t->index = (uint32_t)(((uint64_t)k * (uint32_t)n_workers + (uint32_t)id) * shards + plan->shard % shards);
            conn_init(&t->conn, fr->tp, TERM_MAX_RBUF, TERM_MAX_WBUF);
            t->serial = (uint16_t)(term_rand(t) & 0x7FFF);
            if (w->trace.n_ids) {
                char ident[80];
                term_ident(t, ident, sizeof ident);
                t->traced = trace_wants(&w->trace, ident);
            }
        }
        /* those past the fleet's count are idle until a resize makes them active */
        fr->active = spec->count;
        uint32_t act = 0;
        for (uint32_t k = 0; k < n; k++)
            act += fr->terms[k].index < fr->active;
        fr->st->terminals = act;
        fr->st->in_state[TS_IDLE] = n;
        slot->terminals += act;
    }
    wheel_init(&w->wheel, (uint64_t)(TICK_REAL_S * 1e6 * clock_scale()) + 1, term_now(), term_fire, w);
    ev_timer_init(&w->tick, tick_cb, TICK_REAL_S, TICK_REAL_S);
    w->tick.data = w;
    ev_timer_start(w->loop, &w->tick);
    ev_io_init(&w->ctl_io, ctl_cb, ctl_fd, EV_READ);
    w->ctl_io.data = w;
    ev_io_start(w->loop, &w->ctl_io);
    return 0;
}

int worker_run(struct worker *w)
{
    ev_timer rss;
    ev_timer_init(&rss, rss_cb, 0.2, 1.0);
    rss.data = w;
    ev_timer_start(w->loop, &rss);
    w->slot->rss_kb = stats_rss_kb();
    w->slot->phase = WP_RUNNING;
    lag_start(w->loop, "worker", w->id);
    struct ctl_msg m = {.type = CTL_READY};
    ctl_send(w->ctl_fd, &m, NULL);
    ev_run(w->loop, 0);
    ev_timer_stop(w->loop, &rss);
    return 0;
}

void worker_free(struct worker *w)
{
    for (int f = 0; f < w->n_fleets; f++) {
        struct fleet_rt *fr = &w->fleets[f];
        for (uint32_t k = 0; k < fr->n; k++) {
            struct term *t = &fr->terms[k];
            term_close(t, false);
            if (fr->d->state_free && fr->dstate)
                fr->d->state_free(t);
        }
        free(fr->terms);
        free(fr->dstate);
        free(fr->seq_progress);
        free(fr->hs_wait);
        fr->hs_wait = NULL;
        free(fr->tc);
        tls_transport_free(fr->own_tp);
        fr->own_tp = NULL;
        fr->tc = NULL;
        fr->terms = NULL;
        fr->dstate = NULL;
        fr->seq_progress = NULL;
    }
    trace_close_all(&w->trace);
    watch_forget(w);
    if (w->loop)
        ev_loop_destroy(w->loop);
    w->loop = NULL;
}
