/* The parent of a run: the status line, the processes (core, gateways, workers)
 * under the supervisor, the timeline of steps, the drain, and run_scenario, which
 * sets them up (run_setup.c), runs the loop and writes the reports (run_summary.c
 * builds the verdicts). */
#include "harness/run.h"
#include "harness/prom_http.h"
#include "harness/run_internal.h"

#include <errno.h>
#include <ev.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "harness/expect.h"
#include "harness/run_api.h"
#include "harness/scenario.h"
#include "sim/core/super_ev.h"
#include "report/report.h"
#include "sim/core/clock.h"
#include "sim/core/ctl.h"
#include "sim/core/stats.h"
#include "sim/core/units.h"
#include "harness/scenario_dialect.h"
#include "sim/dev/fleet.h"
#include "sim/platform/frontend.h"

#define READY_TIMEOUT_MS 20000
#define STOP_GRACE_MS 1000        /* CTL_STOP, then SIGTERM, then SIGKILL */
#define DRAIN_MARGIN_MS 10000     /* beyond the settle time, before a drain counts as hung */

_Static_assert(SC_MAX_FLEETS == STATS_MAX_FLEETS, "fleet limits must agree");
_Static_assert(SC_MAX_FLEETS <= 32, "a predicate's fleet mask is 32 bits");
_Static_assert(SC_MAX_EXPECT == STATS_MAX_EXPECT, "expectation limits must agree");
_Static_assert((int)SC_FAULT_CUT == (int)CTL_FAULT_CUT && (int)SC_FAULT_CORRUPT == (int)CTL_FAULT_CORRUPT &&
               (int)SC_FAULT_DISCONNECT == (int)CTL_FAULT_DISCONNECT, "fault kinds must agree");
_Static_assert(STATS_MAX_FLEETS <= 256, "fleet index must fit the gateway's byte");

int run_procs_needed(uint64_t terminals, uint64_t per_proc, int wanted, int max)
{
    if (per_proc == 0)
        return -1;
    uint64_t need = (terminals + per_proc - 1) / per_proc;
    if (need < (uint64_t)wanted)
        need = (uint64_t)wanted;
    if (need < 1)
        need = 1;
    return need > (uint64_t)max ? -1 : (int)need;
}

void run_harness_fail(struct run *r, const char *fmt, const char *detail)
{
    if (!r->harness_error) {
        r->harness_error = 1;
        snprintf(r->harness_msg, sizeof r->harness_msg, fmt, detail);
    }
}

/* --- merged statistics --------------------------------------------------------------- */

static void merge_fleet(const struct run *r, int f, struct fleet_stats *out)
{
    stats_merge_fleets(r->shm, r->n_workers, r->sc.n_fleets, f, out);
}

/* --- status line ------------------------------------------------------------------- */

/* The terminal's width less one (a full line would wrap on some terminals). */
static int tty_width(void)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
        return ws.ws_col - 1;
    return 79;
}

/* The errno name of the last connect failure any worker saw ("ECONNREFUSED"). */
static const char *connect_reason(const struct run *r)
{
    for (int w = 0; w < r->n_workers; w++)
        if (r->shm->workers[w].connect_errno) {
            const char *n = strerrorname_np(r->shm->workers[w].connect_errno);
            return n ? n : "?";
        }
    return "?";
}

/* Once a second: refresh the run's snapshot, derive this second's rates and
 * latency window, print the status line, keep the sample in the snapshot's
 * timeline and hand the snapshot to --stats clients. */
static void status_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct run *r = t->data;
    if (r->phase < 1)
        return;
    static struct fleet_stats tot;
    static struct hist win;
    uint64_t mono = clock_mono_us();
    double dt = (double)(mono - r->prev_mono_us) / 1e6;
    if (dt <= 0.001)
        return;
    r->prev_mono_us = mono;
    run_snapshot_take(r);
    snapshot_total(r->snap, &tot);
    double rate = (double)(tot.reports_acked - r->prev.reports_acked) / dt;
    hist_window(&win, &tot.report_latency, &r->prev.report_latency);
    uint64_t vt = clock_now_us() - r->start_us;
    /* frames either side could not take: the gateway's rejects, the terminals' decode errors */
    uint64_t bad = r->snap->platform.rejected + tot.decode_errors;
    struct snapshot_sample smp = {
        .tick = ++r->tick,
        .t_s = (double)vt / 1e6,
        .online = tot.in_state[TS_AUTHENTICATED],
        .reports_per_s = rate,
        .pending = ledger_pending(&tot.ledger),
        .disconnects = tot.disconnects,
    };
    if (snapshot_add_sample(r->snap, &smp, &win) < 0)
        fprintf(stderr, "fleetsim: out of memory for the timeline\n");
    if (r->csv)
        run_csv_row(r, &smp, &win, &tot, bad);
    if (r->prom)
        run_prom_publish(r);
    if (!r->o->quiet && !r->dash) {
        char p50[32], p99[32], mx[32];
        units_format_us(hist_percentile(&win, 50), p50, sizeof p50);
        units_format_us(hist_percentile(&win, 99), p99, sizeof p99);
        units_format_us(win.n ? win.max : 0, mx, sizeof mx);
        /* the parts by how much they matter: on a terminal, what fits its width */
        char part[10][96];
        int np = 0;
        double total_s = (double)r->sc.duration_ms / 1000.0, now_s = (double)vt / 1e6;
        if (r->tty)
            snprintf(part[np++], sizeof part[0], "[%6.1fs]", now_s);
        else
            /* a log line: where the run is and how long it still takes (wall clock) */
            snprintf(part[np++], sizeof part[0], "[%6.1fs/%.0fs ETA %.0fs]", now_s, total_s,
                     now_s < total_s ? (total_s - now_s) / clock_scale() : 0.0);
        uint64_t active = 0; /* of this shard, as live resizes left the fleets */
        for (int f = 0; f < r->sc.n_fleets; f++)
            active += fleet_shard_size(r->active[f], r->shard - 1, r->shards);
        snprintf(part[np++], sizeof part[0], "online %" PRIu64 "/%" PRIu64, tot.in_state[TS_AUTHENTICATED], active);
        snprintf(part[np++], sizeof part[0], "reports %.0f/s", rate);
        snprintf(part[np++], sizeof part[0], "p99 %s", p99);
        if (tot.connect_failures)
            snprintf(part[np++], sizeof part[0], "connect failures %" PRIu64 " (last %s)", tot.connect_failures,
                     connect_reason(r));
        snprintf(part[np++], sizeof part[0], "bad frames %" PRIu64, bad);
        snprintf(part[np++], sizeof part[0], "pending %" PRIu64, ledger_pending(&tot.ledger));
        snprintf(part[np++], sizeof part[0], "disconnects %" PRIu64, tot.disconnects);
        snprintf(part[np++], sizeof part[0], "cmds %" PRIu64, tot.commands);
        snprintf(part[np++], sizeof part[0], "p50 %s max %s", p50, mx);
        int width = r->tty ? tty_width() : 1 << 20;
        char line[1024];
        size_t len = 0;
        for (int k = 0; k < np; k++) {
            size_t add = strlen(part[k]) + (k ? 2 : 0);
            if (len + add > (size_t)width)
                continue; /* a smaller part further on may still fit */
            len += (size_t)snprintf(line + len, sizeof line - len, "%s%s", k ? "  " : "", part[k]);
        }
        /* \r, the line, and blanks over what a longer line before it left */
        printf("%s%s%*s%s", r->tty ? "\r" : "", line, r->tty ? (int)(width > (int)len ? width - (int)len : 0) : 0, "",
               r->tty ? "" : "\n");
        fflush(stdout);
    }
    r->prev = tot;
    run_live_tick(r);
    run_stats_publish(r);
    (void)loop;
    (void)revents;
}

/* --- children ---------------------------------------------------------------------- */

static void broadcast(struct child *cs, int n, const struct ctl_msg *m, const char *payload)
{
    for (int i = 0; i < n; i++)
        if (super_send(cs[i].run->sup, cs[i].id, m, payload) < 0)
            fprintf(stderr, "fleetsim: cannot reach %s: %s\n", super_comp(cs[i].run->sup, cs[i].id)->name,
                    strerror(errno));
}

void run_to_workers(struct run *r, const struct ctl_msg *m)
{
    broadcast(r->workers, r->n_workers, m, NULL);
}

static void schedule_step(struct run *r);
static void start_drain(struct run *r);

static void begin(struct run *r)
{
    r->phase = 1;
    r->start_us = clock_now_us();
    for (int f = 0; f < r->sc.n_fleets; f++)
        r->active[f] = r->sc.fleets[f].count;
    r->prev_mono_us = clock_mono_us();
    r->end_us = r->start_us + r->sc.duration_ms * 1000u;
    struct ctl_msg m = {.type = CTL_START};
    broadcast(r->workers, r->n_workers, &m, NULL);
    ev_timer_set(&r->end_timer, clock_real_delay(r->end_us), 0);
    ev_timer_start(r->loop, &r->end_timer);
    schedule_step(r);
}

/* Everything but the core, which goes last (after the loop): it stores what the
 * front-ends send it on their way out. */
static void stop_all(struct run *r)
{
    super_stop(r->sup, SUPER_ALL & ~SUPER_CORE);
    r->phase = 4;
    ev_break(r->loop, EVBREAK_ALL);
}

/* A drain that has not ended this long after its settle time has hung (0: a
 * settle time of weeks, no deadline). */
static int drain_timeout_ms(uint64_t settle_virtual_us)
{
    double ms = clock_real_seconds(settle_virtual_us) * 1000.0 + DRAIN_MARGIN_MS;
    return ms < 1e9 ? (int)ms : 0;
}

static void advance(struct run *r);

static void drain_gateways(struct run *r)
{
    r->phase = 3;
    uint64_t settle = RUN_CMD_TIMEOUT_MS * 1000ull;
    for (int k = 0; k < r->sc.n_expect; k++)
        if (r->sc.expect[k].kind == SC_EXP_REPLY && r->sc.expect[k].within_ms * 1000u > settle)
            settle = r->sc.expect[k].within_ms * 1000u;
    struct ctl_msg m = {.type = CTL_DRAIN, .settle_us = settle + 1000000u};
    super_drain(r->sup, SUPER_GATEWAY, &m, drain_timeout_ms(m.settle_us));
    advance(r); /* no gateway, or none left alive: nothing to wait for */
}

/* Move the run on once the children it waits for have all answered or are gone.
 * Called on every event of the supervisor, in any phase, so a death at any
 * moment cannot leave the parent waiting. */
static void advance(struct run *r)
{
    switch (r->phase) {
    case 0:
        if (super_pending(r->sup, SUPER_ALL))
            return;
        if (super_failed(r->sup, SUPER_ALL)) {
            run_harness_fail(r, "%s", "a process stopped while the run was starting");
            stop_all(r);
            return;
        }
        begin(r);
        break;
    case 1:
        if (super_failed(r->sup, SUPER_ALL))
            start_drain(r);
        break;
    case 2:
        if (!super_pending(r->sup, SUPER_WORKER))
            drain_gateways(r);
        break;
    case 3:
        if (super_pending(r->sup, SUPER_GATEWAY) || run_api_busy(r) || run_api_final(r))
            return; /* an api call out still needs the platform */
        /* the core last: it stores what the front-ends sent while they drained */
        if (!r->core_draining) {
            r->core_draining = 1;
            struct ctl_msg m = {.type = CTL_DRAIN};
            super_drain(r->sup, SUPER_CORE, &m, DRAIN_MARGIN_MS);
        }
        if (!super_pending(r->sup, SUPER_CORE))
            stop_all(r);
        break;
    default:
        break;
    }
}

/* The supervisor's word on a child.  A child that has delivered its final
 * statistics may go; any other end (or a missed deadline) is a harness failure. */
static void on_component(void *ctx, struct super *s, int id, enum super_event ev, const struct ctl_msg *m,
                         const char *payload)
{
    struct run *r = ctx;
    if (ev == SUPER_EV_FAILED && r->phase < 4) {
        /* the core's end takes its front-ends down with it: it is the cause to name,
         * whichever of them the supervisor heard of first */
        if (super_comp(s, id)->kind == SUPER_CORE)
            r->harness_error = 0;
        run_harness_fail(r, "%s", super_comp(s, id)->reason);
    }
    if (ev == SUPER_EV_MESSAGE && m && m->type == CTL_INSPECTED) {
        run_live_answer(r, m, payload);
        return;
    }
    advance(r);
    (void)m;
    (void)payload;
}

static int core_child(void *arg, int ctl_fd)
{
    struct child *c = arg;
    struct run *r = c->run;
    if (r->dash_log[0])
        dup2(r->dash_log_fd, STDERR_FILENO); /* the dashboard's screen is not theirs */
    for (int i = 0; i < r->n_gw; i++)
        close(r->gws[i].lfd);
    return core_main(&r->core_cfg, c->lfd, ctl_fd, &r->shm->core);
}

static int gateway_child(void *arg, int ctl_fd)
{
    struct child *c = arg;
    struct run *r = c->run;
    if (r->dash_log[0])
        dup2(r->dash_log_fd, STDERR_FILENO); /* the dashboard's screen is not theirs */
    close(r->core_lfd);
    for (int i = 0; i < r->n_gw; i++)
        if (i != c->idx)
            close(r->gws[i].lfd);
    return r->fe->main(r->fe_cfg, c->idx, c->lfd, ctl_fd, &r->shm->gateways[c->idx]);
}

static int worker_child(void *arg, int ctl_fd)
{
    struct child *c = arg;
    struct run *r = c->run;
    if (r->dash_log[0])
        dup2(r->dash_log_fd, STDERR_FILENO); /* the dashboard's screen is not theirs */
    struct worker *w = calloc(1, sizeof *w);
    char err[256];
    struct worker_slot *slot = &r->shm->workers[c->idx];
    slot->pid = (int32_t)getpid();
    struct worker_plan plan = {
        .fleets = r->sc.fleets,
        .n_fleets = r->sc.n_fleets,
        .targets = r->targets,
        .preds = r->preds,
        .n_preds = r->n_preds,
        .seed = r->sc.seed,
        .shard = r->shard - 1,
        .shards = r->shards,
        .trace = r->trace,
        .live = r->stats != NULL,
    };
    if (!w || worker_setup(w, &plan, c->idx, r->n_workers, slot, ctl_fd, err, sizeof err) < 0) {
        snprintf(slot->error, sizeof slot->error, "%s", w ? err : "out of memory");
        slot->phase = WP_FAILED;
        return 1;
    }
    int status = worker_run(w);
    worker_free(w);
    free(w);
    return status;
}

static int add_child(struct run *r, struct child *c, unsigned kind, int idx, int lfd, char *err, size_t errcap)
{
    int gw = kind == SUPER_GATEWAY, core = kind == SUPER_CORE;
    char name[32];
    if (core)
        snprintf(name, sizeof name, "platform core");
    else
        snprintf(name, sizeof name, "%s %d", gw ? "gateway" : "worker", idx);
    c->run = r;
    c->idx = idx;
    c->lfd = lfd;
    struct super_spec sp = {
        .name = name, .comm = core ? "core" : NULL, .kind = kind, .main = core ? core_child : gw ? gateway_child : worker_child, .arg = c,
        .ready_timeout_ms = READY_TIMEOUT_MS,
        .error = core ? r->shm->core.error : gw ? r->shm->gateways[idx].error : r->shm->workers[idx].error,
        .error_cap = core ? sizeof r->shm->core.error
                     : gw ? sizeof r->shm->gateways[idx].error : sizeof r->shm->workers[idx].error,
    };
    c->id = super_add(r->sup, &sp, err, errcap);
    return c->id < 0 ? -1 : 0;
}

/* --- timeline ------------------------------------------------------------------------ */

static void cmd_window_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct cmd_window *cw = t->data;
    static struct fleet_stats tot;
    merge_fleet(cw->run, -1, &tot);
    hist_window(&cw->during, &tot.report_latency, &cw->before);
    cw->closed = 1;
    (void)loop;
    (void)revents;
}

/* Keep the report latency of the (virtual) second after command step i. */
static void open_cmd_window(struct run *r, int i)
{
    if (r->n_cmd_windows >= RUN_MAX_CMD_WINDOWS)
        return;
    struct cmd_window *cw = &r->cmd_windows[r->n_cmd_windows++];
    static struct fleet_stats tot;
    merge_fleet(r, -1, &tot);
    cw->step = i;
    cw->at_us = clock_now_us() - r->start_us;
    cw->before = tot.report_latency;
    cw->run = r;
    ev_timer_init(&cw->done, cmd_window_cb, clock_real_seconds(1000000), 0);
    cw->done.data = cw;
    ev_timer_start(r->loop, &cw->done);
}

void run_api_settled(struct run *r) { advance(r); }

static void run_step(struct run *r, int i)
{
    const struct sc_step *s = &r->sc.steps[i];
    if (s->kind == SC_STEP_API) {
        run_api_step(r, i);
        return;
    }
    int f = -1;
    for (int k = 0; k < r->sc.n_fleets; k++)
        if (strcmp(r->sc.fleets[k].id, s->fleet) == 0)
            f = k;
    if (f < 0)
        return;
    const struct fleet_spec *fl = &r->sc.fleets[f];
    struct ctl_msg m = {.fleet = (uint32_t)f, .step = (uint32_t)i, .fraction = s->fraction > 0 ? s->fraction : 1.0};
    if (s->kind == SC_STEP_TERMINAL) {
        m.type = CTL_UNREGISTER;
        broadcast(r->workers, r->n_workers, &m, NULL);
        return;
    }
    if (s->kind == SC_STEP_FAULT) {
        m.type = CTL_FAULT;
        m.down_us = s->down_ms * 1000u;
        m.kind = (uint32_t)s->fault;
        broadcast(r->workers, r->n_workers, &m, NULL);
        return;
    }
    if (!r->embedded || !r->fe || !sc_dialect_of(fl)->frontend) {
        /* a third-party platform is not ours to command */
        r->skipped_steps++;
        return;
    }
    m.type = CTL_COMMAND;
    m.kind = (uint32_t)s->cmd_kind;
    m.count = r->active[f]; /* the fleet as a live resize left it */
    snprintf(m.protocol, sizeof m.protocol, "%s", fl->protocol);
    snprintf(m.what, sizeof m.what, "%s", s->msg);
    size_t pl = strcspn(fl->ident, "+");
    snprintf(m.ident, sizeof m.ident, "%.*s", (int)pl, fl->ident);
    /* a reply expectation's "within" is the deadline of the commands it judges */
    for (int k = 0; k < r->sc.n_expect; k++) {
        const struct sc_expect *e = &r->sc.expect[k];
        if (e->kind == SC_EXP_REPLY && strcmp(e->to, s->msg) == 0 && e->within_ms &&
            (!e->fleet[0] || strcmp(e->fleet, fl->id) == 0) &&
            (!m.settle_us || e->within_ms * 1000u < m.settle_us))
            m.settle_us = e->within_ms * 1000u;
    }
    char *body = s->body ? cJSON_PrintUnformatted(s->body) : NULL;
    /* through the platform core, which paces it out to the front-ends holding the devices */
    broadcast(&r->core, 1, &m, body);
    free(body);
    if (s->cmd_kind >= 0 && s->cmd_kind < STATS_CMD_KINDS)
        r->addressed[f][s->cmd_kind] += ctl_pick_count_shard(r->active[f], m.fraction, r->shard - 1, r->shards);
    open_cmd_window(r, i);
}

static void step_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct run *r = t->data;
    uint64_t now = clock_now_us();
    while (r->next_step < r->sc.n_steps && r->start_us + r->sc.steps[r->next_step].at_ms * 1000u <= now + 500)
        run_step(r, r->next_step++);
    schedule_step(r);
    (void)loop;
    (void)revents;
}

static void schedule_step(struct run *r)
{
    if (r->phase != 1 || r->next_step >= r->sc.n_steps)
        return;
    uint64_t at = r->start_us + r->sc.steps[r->next_step].at_ms * 1000u;
    ev_timer_set(&r->step_timer, clock_real_delay(at), 0);
    ev_timer_start(r->loop, &r->step_timer);
}

static uint64_t settle_us(const struct run *r)
{
    uint64_t m = 0;
    for (int f = 0; f < r->sc.n_fleets; f++)
        if (r->sc.fleets[f].ack_timeout_ms > m)
            m = r->sc.fleets[f].ack_timeout_ms;
    return (m + 1000) * 1000u;
}

static void start_drain(struct run *r)
{
    if (r->phase >= 2)
        return;
    ev_timer_stop(r->loop, &r->step_timer);
    ev_timer_stop(r->loop, &r->end_timer);
    if (r->phase == 1)
        r->stopped_us = clock_now_us(); /* interrupted or cut short: the run covered this much */
    r->phase = 2;
    struct ctl_msg m = {.type = CTL_DRAIN, .settle_us = settle_us(r)};
    super_drain(r->sup, SUPER_WORKER, &m, drain_timeout_ms(m.settle_us));
    advance(r);
}

static void end_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct run *r = t->data;
    start_drain(r);
    (void)revents;
}

static void sig_cb(struct ev_loop *loop, ev_signal *s, int revents);

/* Ctrl-C's work, for whoever else interrupts the run (the dashboard's q). */
void run_interrupt(struct run *r) { sig_cb(r->loop, &r->sigint, 0); }

static void sig_cb(struct ev_loop *loop, ev_signal *s, int revents)
{
    struct run *r = s->data;
    if (r->interrupted++) {
        stop_all(r);
        return;
    }
    fprintf(stderr, "\nfleetsim: interrupted; draining (again to stop now)\n");
    run_harness_fail(r, "%s", "interrupted");
    start_drain(r);
    (void)loop;
    (void)revents;
}

int run_exit_status(enum verdict v)
{
    switch (v) {
    case VERDICT_PASS: return RUN_EXIT_PASS;
    case VERDICT_INCONCLUSIVE: return RUN_EXIT_INCONCLUSIVE;
    case VERDICT_FAIL: return RUN_EXIT_FAIL;
    default: return RUN_EXIT_HARNESS;
    }
}

int run_scenario(const struct run_opts *o)
{
    static struct run run;
    struct run *r = &run;
    char err[SCENARIO_ERR_BYTES];
    memset(r, 0, sizeof *r);
    r->o = o;
    r->core_lfd = -1;
    r->dash_log_fd = r->dash_saved_stderr = -1;
    r->wall_start_us = clock_mono_us();
    /* a file, standard input or the command line, with the overrides laid over it */
    r->scen_name = !o->scenario ? "<command line>" : strcmp(o->scenario, "-") == 0 ? "<stdin>" : o->scenario;
    struct scenario_source src = {.path = o->scenario, .protocol = o->protocol, .sets = o->sets, .n_sets = o->n_sets};
    char *text = scenario_source_text(&src, err, sizeof err);
    if (!text) {
        run_error("%s", err);
        return RUN_EXIT_USAGE;
    }
    int prc = scenario_parse(text, r->scen_name, &r->sc, err, sizeof err);
    char hash[SNAPSHOT_HASH_LEN] = "";
    /* what ran is what is hashed: the file, or what the overrides made of it */
    snapshot_hash_bytes(text, strlen(text), hash, sizeof hash);
    free(text);
    if (prc < 0) {
        run_error("%s", err);
        return RUN_EXIT_USAGE;
    }
    if (r->sc.warning[0])
        fprintf(stderr, "%s\n", r->sc.warning);
    int rc = RUN_EXIT_USAGE; /* input errors until the checks have passed */
    r->shard = o->shards > 1 ? o->shard : 1;
    r->shards = o->shards > 1 ? o->shards : 1;
    double scale = o->time_scale > 0 ? o->time_scale : r->sc.time_scale > 0 ? r->sc.time_scale : 1.0;
    if (run_setup_target(r, err, sizeof err) < 0) {
        run_error("target %s", err);
        goto out;
    }
    if (!r->embedded && scale != 1.0) {
        run_error("--time-scale must be 1 against a third-party target (its clock is real)");
        goto out;
    }
    if (run_api_check(r, err, sizeof err) < 0) {
        run_error("%s", err);
        goto out;
    }
    uint64_t per_proc = run_setup_fd_budget();
    uint64_t total = 0;
    for (int f = 0; f < r->sc.n_fleets; f++)
        total += fleet_shard_size(fleet_capacity(&r->sc.fleets[f]), r->shard - 1, r->shards);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int want = o->procs > 0 ? o->procs : (int)(cores > 0 ? cores : 1);
    if ((uint64_t)want > total)
        want = (int)total;
    r->n_workers = run_procs_needed(total, per_proc, want, STATS_MAX_WORKERS);
    if (r->n_workers < 0) {
        run_error("%" PRIu64 " terminals need more than %d worker processes of %" PRIu64
                  " descriptors each (open-file limit); shard the fleet with several runs",
                  total, STATS_MAX_WORKERS, per_proc);
        goto out;
    }
    r->n_preds = expect_compile(&r->sc, r->preds, SC_MAX_EXPECT);
    for (int i = 0; i < r->sc.n_steps; i++) {
        const struct sc_step *s = &r->sc.steps[i];
        const struct fleet_spec *fl = scenario_fleet(&r->sc, s->fleet);
        if (s->kind != SC_STEP_COMMAND || !fl || !sc_dialect_of(fl)->check_command)
            continue;
        char *body = s->body ? cJSON_PrintUnformatted(s->body) : NULL;
        int bad = sc_dialect_of(fl)->check_command(fl, s->cmd_kind, body, err, sizeof err);
        free(body);
        if (bad < 0) {
            run_error("%s: steps[%d].command: %s", r->scen_name, i, err);
            goto out;
        }
    }
    if (run_setup_preflight(r, per_proc) < 0)
        goto out;
    if (run_evidence_check(r, err, sizeof err) < 0) {
        run_error("%s", err);
        goto out;
    }
    if (o->dry_run) {
        run_print_plan(r, total, scale);
        rc = RUN_EXIT_PASS;
        goto out;
    }
    if (o->report_dir && run_setup_mkdir_p(o->report_dir) < 0) {
        run_error("--report %s: cannot create the directory: %s", o->report_dir, strerror(errno));
        goto out;
    }
    if (run_dash_prepare(r, err, sizeof err) < 0) {
        run_error("%s", err);
        goto out;
    }
    if ((o->stats_addr || r->dash_dir[0]) && run_stats_open(r, r->dash_sock[0] ? r->dash_sock : o->stats_addr, err,
                                                           sizeof err) < 0) {
        run_error("%s", err);
        goto out;
    }
    if (run_evidence_open(r, err, sizeof err) < 0) {
        run_error("%s", err);
        goto out;
    }
    /* from here on, what fails is the harness (or the machine), not the input */
    rc = RUN_EXIT_HARNESS;
    if (r->fe && run_setup_frontend(r, err, sizeof err) < 0) {
        run_error("%s", err);
        goto out;
    }
    r->snap = snapshot_new();
    if (!r->snap) {
        run_error("out of memory");
        goto out;
    }
    r->shm = stats_map();
    if (!r->shm) {
        run_error("cannot map statistics: %s", strerror(errno));
        goto out;
    }
    r->shm->n_workers = (uint32_t)r->n_workers;
    r->shm->n_gateways = (uint32_t)r->n_gw;
    clock_init(scale);
    struct super_opts so = {.on_event = on_component, .ctx = r, .stop_grace_ms = STOP_GRACE_MS};
    r->sup = super_new(&so);
    if (!r->sup) {
        run_error("cannot supervise the processes: %s", strerror(errno));
        goto out;
    }
    int lfds[STATS_MAX_GATEWAYS];
    if (r->fe) {
        if (r->fe->listen(r->fe_cfg, lfds, r->n_gw, &r->fe_port, err, sizeof err) < 0) {
            run_error("%s", err);
            goto out;
        }
        /* after the gateways' ports are taken: the API's free port cannot be one of them */
        if (run_api_prepare(r, err, sizeof err) < 0) {
            run_error("%s", err);
            for (int g = 0; g < r->n_gw; g++)
                close(lfds[g]);
            goto out;
        }
        char fe_addr[64];
        snprintf(fe_addr, sizeof fe_addr, "127.0.0.1:%u", r->fe_port);
        for (int f = 0; f < r->sc.n_fleets; f++)
            if (!r->targets[f].ss_family)
                transport_resolve(fe_addr, &r->targets[f], err, sizeof err);
        snprintf(r->target_text, sizeof r->target_text, "%s", fe_addr);
        for (int g = 0; g < r->n_gw; g++)
            r->gws[g].lfd = lfds[g];
        /* the core first (the gateways connect to it as they start), then the
         * gateways, so the workers inherit none of the listening sockets */
        int bad = add_child(r, &r->core, SUPER_CORE, 0, r->core_lfd, err, sizeof err) < 0;
        for (int g = 0; g < r->n_gw && !bad; g++)
            bad = add_child(r, &r->gws[g], SUPER_GATEWAY, g, lfds[g], err, sizeof err) < 0;
        if (!bad)
            bad = super_spawn(r->sup, err, sizeof err) < 0;
        for (int g = 0; g < r->n_gw; g++)
            close(lfds[g]);
        close(r->core_lfd);
        r->core_lfd = -1;
        if (bad) {
            run_error("%s", err);
            goto out;
        }
    }
    for (int w = 0; w < r->n_workers; w++)
        if (add_child(r, &r->workers[w], SUPER_WORKER, w, -1, err, sizeof err) < 0) {
            run_error("%s", err);
            goto out;
        }
    if (super_spawn(r->sup, err, sizeof err) < 0) {
        run_error("%s", err);
        goto out;
    }
    r->tty = isatty(STDOUT_FILENO);
    double iv = (o->status_interval_ms > 0 ? o->status_interval_ms : 1000) / 1000.0;
    run_snapshot_begin(r, hash, scale, (uint32_t)(iv * 1000 + 0.5));
    char shard[48] = "";
    if (r->shards > 1)
        snprintf(shard, sizeof shard, " (shard %u/%u)", r->shard, r->shards);
    uint64_t active = 0; /* the count: the rest of max is room for a live resize */
    for (int f = 0; f < r->sc.n_fleets; f++)
        active += fleet_shard_size(r->sc.fleets[f].count, r->shard - 1, r->shards);
    char room[64] = "";
    if (active < total)
        snprintf(room, sizeof room, " (room for %" PRIu64 ")", total);
    if (!o->quiet)
        printf("fleetsim: %s: %" PRIu64 " terminals%s in %d fleet(s)%s, %d worker(s), target %s%s, time scale %g\n",
               r->sc.name, active, room, r->sc.n_fleets, shard, r->n_workers, r->fe ? "embedded gateway " : "",
               r->target_text, scale);
    /* not the default loop: libev would reap every child there with waitpid(-1) */
    r->loop = ev_loop_new(EVFLAG_AUTO);
    if (!r->loop) {
        run_error("cannot create an event loop");
        goto out;
    }
    super_ev_start(&r->sup_ev, r->loop, r->sup);
    ev_timer_init(&r->status, status_cb, iv, iv);
    r->status.data = r;
    ev_timer_start(r->loop, &r->status);
    ev_timer_init(&r->step_timer, step_cb, 0, 0);
    r->step_timer.data = r;
    ev_timer_init(&r->end_timer, end_cb, 0, 0);
    r->end_timer.data = r;
    r->total_terminals = total;
    ev_signal_init(&r->sigint, sig_cb, SIGINT);
    r->sigint.data = r;
    ev_signal_start(r->loop, &r->sigint);
    ev_signal_init(&r->sigterm, sig_cb, SIGTERM);
    r->sigterm.data = r;
    ev_signal_start(r->loop, &r->sigterm);
    if (run_api_start(r, err, sizeof err) < 0) {
        run_error("%s", err);
        goto out;
    }
    run_stats_start(r);
    run_dash_start(r);
    /* after the last fork: the endpoint's thread must not be in any child */
    if (o->prometheus && !(r->prom = prom_http_start(o->prometheus, err, sizeof err))) {
        run_error("--prometheus %s", err);
        goto out;
    }
    ev_run(r->loop, 0);
    run_dash_stop(r); /* the terminal back before the verdicts are printed */
    if (r->tty && !o->quiet)
        printf("\n");
    /* reap everybody (stop_all sent CTL_STOP; SIGTERM, then SIGKILL, for any that
     * linger), the platform core last */
    super_stop(r->sup, SUPER_ALL & ~SUPER_CORE);
    super_wait(r->sup, SUPER_ALL & ~SUPER_CORE, -1);
    super_stop(r->sup, SUPER_ALL);
    super_wait(r->sup, SUPER_ALL, -1);
    if (r->phase < 1 && !r->harness_error)
        run_harness_fail(r, "%s", "processes did not start");
    for (int w = 0; w < r->n_workers; w++)
        if (r->shm->workers[w].phase == WP_FAILED)
            run_harness_fail(r, "worker failed: %s", r->shm->workers[w].error);
    for (int g = 0; g < r->n_gw; g++)
        if (r->shm->gateways[g].phase == WP_FAILED)
            run_harness_fail(r, "gateway failed: %s", r->shm->gateways[g].error);
    if (r->fe && r->shm->core.phase == WP_FAILED)
        run_harness_fail(r, "%s", r->shm->core.error);
    run_snapshot_take(r);
    struct run_report rep;
    report_init(&rep, r->sc.name, r->scen_name);
    run_build_report(&r->sc, r->snap, &rep);
    run_api_report(r, &rep);
    printf("\n");
    report_print_table(&rep, stdout);
    run_print_figures(&r->sc, r->snap, &rep, stdout);
    if (o->report_dir) {
        char path[1024];
        snprintf(path, sizeof path, "%s/report.json", o->report_dir);
        if (report_write_json(&rep, path, err, sizeof err) < 0)
            fprintf(stderr, "fleetsim: %s\n", err);
        snprintf(path, sizeof path, "%s/junit.xml", o->report_dir);
        if (report_write_junit(&rep, path, err, sizeof err) < 0)
            fprintf(stderr, "fleetsim: %s\n", err);
        snprintf(path, sizeof path, "%s/report.html", o->report_dir);
        if (report_write_html(&rep, path, err, sizeof err) < 0)
            fprintf(stderr, "fleetsim: %s\n", err);
        printf("reports: %s/report.json, %s/junit.xml, %s/report.html\n", o->report_dir, o->report_dir,
               o->report_dir);
    }
    /* last, where a reader's eye and a CI log's tail are */
    printf("\n");
    report_print_summary(&rep, stdout, report_summary_style(stdout, o->no_color));
    rc = run_exit_status(report_overall(&rep));
    report_free(&rep);
out:
    prom_http_stop(r->prom);
    r->prom = NULL;
    run_csv_close(r);
    run_dash_stop(r);
    run_stats_close(r); /* its watchers live on the loop */
    if (r->dash_dir[0])
        rmdir(r->dash_dir); /* the socket itself went with run_stats_close */
    run_live_free(r);
    run_api_free(r); /* its client's watchers are on the loop */
    super_free(r->sup); /* after a failed start: stops and reaps what did start */
    if (r->loop) {
        /* libev ties a signal to one loop until its watcher stops: the next run of a
         * suite makes a loop of its own */
        ev_signal_stop(r->loop, &r->sigint);
        ev_signal_stop(r->loop, &r->sigterm);
        ev_loop_destroy(r->loop);
    }
    snapshot_free(r->snap);
    free(r->fe_cfg);
    if (r->core_lfd >= 0)
        close(r->core_lfd);
    run_setup_rm_tmpdir(r);
    if (r->shm)
        stats_unmap(r->shm);
    scenario_free(&r->sc);
    return rc;
}
