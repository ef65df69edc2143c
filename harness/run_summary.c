/* The end of a run: verdicts and figures from its snapshot (or a merge of
 * shards' snapshots), and the plan a dry run prints. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "harness/expect.h"
#include "harness/run_internal.h"
#include "harness/scenario_dialect.h"
#include "sim/core/units.h"

const struct frontend *run_frontend_of(const struct scenario *sc, const struct run_snapshot *s)
{
    if (!s->frontend[0])
        return NULL;
    for (int f = 0; f < sc->n_fleets; f++) {
        const struct frontend *fe = sc_dialect_of(&sc->fleets[f])->frontend;
        if (fe && strcmp(fe->name, s->frontend) == 0)
            return fe;
    }
    return NULL;
}

/* metrics.timeline: one sample per status tick, percentiles of its window. */
static cJSON *timeline_json(const struct run_snapshot *s)
{
    static struct hist win;
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < s->n_samples; i++) {
        const struct snapshot_sample *x = &s->samples[i];
        hist_reset(&win);
        win.n = x->window.n;
        win.sum = x->window.sum;
        win.min = x->window.min;
        win.max = x->window.max;
        for (uint32_t b = 0; b < x->window.n_buckets; b++)
            win.counts[x->window.b[b].index] = x->window.b[b].count;
        cJSON *smp = cJSON_CreateObject();
        cJSON_AddNumberToObject(smp, "t_s", x->t_s);
        cJSON_AddNumberToObject(smp, "online", (double)x->online);
        cJSON_AddNumberToObject(smp, "reports_per_s", x->reports_per_s);
        cJSON_AddNumberToObject(smp, "p50_us", (double)hist_percentile(&win, 50));
        cJSON_AddNumberToObject(smp, "p99_us", (double)hist_percentile(&win, 99));
        cJSON_AddNumberToObject(smp, "max_us", (double)(win.n ? win.max : 0));
        cJSON_AddNumberToObject(smp, "pending", (double)x->pending);
        cJSON_AddNumberToObject(smp, "disconnects", (double)x->disconnects);
        cJSON_AddItemToArray(a, smp);
    }
    return a;
}

void run_build_report(const struct scenario *sc, const struct run_snapshot *s, struct run_report *rep)
{
    struct expect_ctx ec = {.sc = sc, .snap = s, .fe = run_frontend_of(sc, s)};
    if (s->started[0])
        snprintf(rep->started, sizeof rep->started, "%s", s->started);
    expect_evaluate(&ec, rep);
    if (s->harness_error[0]) {
        struct case_result c = {0};
        snprintf(c.id, sizeof c.id, "HARNESS");
        snprintf(c.area, sizeof c.area, "harness");
        snprintf(c.desc, sizeof c.desc, "the run itself");
        c.verdict = VERDICT_ERROR;
        snprintf(c.expected, sizeof c.expected, "the run completes");
        memcpy(c.observed, s->harness_error, sizeof c.observed - 1); /* cut to the cell */
        report_add_case(rep, &c);
    }
    for (size_t i = 0; i < s->n_components; i++)
        if (s->components[i].error[0])
            fprintf(stderr, "fleetsim: %s\n", s->components[i].error);
    rep->duration_s = s->wall_s;
    rep->virtual_s = s->virtual_s;
    expect_metrics_json(&ec, rep->metrics);
    if (s->skipped_steps)
        cJSON_AddNumberToObject(rep->metrics, "skipped_command_steps", (double)s->skipped_steps);
    cJSON_AddItemToObject(rep->metrics, "timeline", timeline_json(s));
    cJSON_Delete(rep->snapshot);
    rep->snapshot = snapshot_to_json(s);
}

/* fprintf, or nothing when out is NULL. */
/* A rate as people read it: "4849", "12.5", "0.47". */
static void rate_text(double v, char *buf, size_t cap)
{
    snprintf(buf, cap, v >= 100 ? "%.0f" : v >= 1 ? "%.1f" : "%.2f", v);
}

__attribute__((format(printf, 2, 3))) static void say(FILE *out, const char *fmt, ...)
{
    if (!out)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(out, fmt, ap);
    va_end(ap);
}

void run_print_figures(const struct scenario *sc, const struct run_snapshot *s, struct run_report *rep, FILE *out)
{
    static struct fleet_stats tot;
    snapshot_total(s, &tot);
    uint64_t terminals = snapshot_planned(s);
    char a[32], p50[32], p99[32], mx[32];
    uint64_t base = 0, peak = 0;
    for (size_t i = 0; i < s->n_components; i++)
        if (s->components[i].kind == SNAPSHOT_WORKER) {
            base += s->components[i].rss_base_kb;
            peak += s->components[i].rss_peak_kb;
        }
    double vs = rep->virtual_s > 0 ? rep->virtual_s : 1;
    units_format_us(hist_percentile(&tot.report_latency, 50), p50, sizeof p50);
    units_format_us(hist_percentile(&tot.report_latency, 99), p99, sizeof p99);
    units_format_us(tot.report_latency.n ? tot.report_latency.max : 0, mx, sizeof mx);
    if (s->all_online_us)
        units_format_us(s->all_online_us, a, sizeof a);
    else
        snprintf(a, sizeof a, "never");
    say(out, "figures:\n");
    say(out, "  all %" PRIu64 " terminals online (authenticated) after %s (virtual)\n", terminals, a);
    char rv[32], rw[32];
    rate_text((double)tot.reports_acked / vs, rv, sizeof rv);
    rate_text((double)tot.reports_acked / (rep->duration_s > 0 ? rep->duration_s : 1), rw, sizeof rw);
    say(out, "  reports acked: %" PRIu64 " (%s/s virtual, %s/s wall)\n", tot.reports_acked, rv, rw);
    say(out, "  report -> acknowledgement latency (wall clock): p50 %s  p99 %s  max %s  (%" PRIu64 " samples)\n",
        p50, p99, mx, tot.report_latency.n);
    if (terminals && peak > base)
        say(out, "  resident memory per terminal: %.0f B (workers: %" PRIu64 " kB over a %" PRIu64
               " kB base, peak %" PRIu64 " kB)\n",
               (double)(peak - base) * 1024.0 / (double)terminals, peak - base, base, peak);
    if (s->platform.gateways && s->platform.rss_kb) /* 0: the run ended before it was sampled */
        say(out, "  gateway resident memory: %" PRIu64 " kB in %u process(es)\n", s->platform.rss_kb,
               s->platform.gateways);
    const struct snapshot_core *k = &s->platform.core;
    if (s->platform.gateways && (k->registrations || k->reports || k->commands)) {
        char rss[48] = "";
        if (k->rss_kb)
            snprintf(rss, sizeof rss, ", %" PRIu64 " kB resident", k->rss_kb);
        say(out, "  platform core: %" PRIu64 " registrations in %" PRIu64 " transactions, %" PRIu64
                 " values stored from %" PRIu64 " bus messages, %" PRIu64 " commands in %" PRIu64 " tasks%s\n",
            k->registrations + k->reg_refused, k->transactions, k->reports, k->msgs_in, k->commands, k->tasks, rss);
    if (s->platform.gateways && k->checkpoints) {
        char cmax[32];
        units_format_us(k->checkpoint_max_us, cmax, sizeof cmax);
        say(out, "  platform store: %" PRIu64 " flush transactions; WAL at most %" PRIu64 " kB, started over %" PRIu64
                 " times, %" PRIu64 " checkpoints off the loop (%" PRIu64 " incomplete, longest %s)\n",
            k->flushes, k->wal_max_kb, k->wal_restarts, k->checkpoints, k->checkpoints_incomplete, cmax);
    }
    }
    cJSON *cmdw = s->n_windows ? cJSON_CreateArray() : NULL;
    for (int i = 0; i < s->n_windows; i++) {
        const struct snapshot_window *cw = &s->windows[i];
        char at[32], w99[32], wmx[32];
        units_format_us(cw->at_us, at, sizeof at);
        units_format_us(hist_percentile(&cw->during, 99), w99, sizeof w99);
        units_format_us(cw->during.n ? cw->during.max : 0, wmx, sizeof wmx);
        if (!cw->closed) {
            say(out, "  command %s to %s at %s: the run ended within the second after it\n", cw->msg, cw->fleet, at);
            continue;
        }
        say(out, "  command %s to %s at %s: report latency in the next second p99 %s max %s (%" PRIu64 " samples)\n",
               cw->msg, cw->fleet, at, w99, wmx, cw->during.n);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "msg", cw->msg);
        cJSON_AddStringToObject(o, "fleet", cw->fleet);
        cJSON_AddNumberToObject(o, "at_s", (double)cw->at_us / 1e6);
        cJSON_AddNumberToObject(o, "report_p99_us", (double)hist_percentile(&cw->during, 99));
        cJSON_AddNumberToObject(o, "report_max_us", (double)(cw->during.n ? cw->during.max : 0));
        cJSON_AddNumberToObject(o, "samples", (double)cw->during.n);
        cJSON_AddItemToArray(cmdw, o);
    }
    cJSON *fig = cJSON_AddObjectToObject(rep->metrics, "figures");
    cJSON_AddNumberToObject(fig, "all_online_s", (double)s->all_online_us / 1e6);
    if (cmdw)
        cJSON_AddItemToObject(fig, "after_commands", cmdw);
    cJSON_AddNumberToObject(fig, "reports_acked", (double)tot.reports_acked);
    cJSON_AddNumberToObject(fig, "reports_per_s_wall", (double)tot.reports_acked / (rep->duration_s > 0 ? rep->duration_s : 1));
    cJSON_AddNumberToObject(fig, "report_p99_us", (double)hist_percentile(&tot.report_latency, 99));
    cJSON_AddNumberToObject(fig, "rss_per_terminal_b",
                            terminals && peak > base ? (double)(peak - base) * 1024.0 / (double)terminals : 0);
}

void run_print_plan(const struct run *r, uint64_t total, double scale)
{
    const struct scenario *sc = &r->sc;
    char d[32];
    units_format_us(sc->duration_ms * 1000u, d, sizeof d);
    printf("scenario %s: %s, %" PRIu64 " terminals, target %s, time scale %g, %d worker(s)\n", sc->name, d, total,
           r->fe ? "embedded gateway" : r->target_text, scale, r->n_workers);
    if (r->shards > 1)
        printf("  shard %u/%u: terminals i of each fleet with i %% %u == %u\n", r->shard, r->shards, r->shards,
               r->shard - 1);
    for (int f = 0; f < sc->n_fleets; f++) {
        const struct fleet_spec *fl = &sc->fleets[f];
        char more[256] = "";
        const struct sc_dialect *sd = sc_dialect_of(fl);
        if (sd->describe)
            sd->describe(fl, more, sizeof more);
        printf("  fleet %-12s %-10s %6u terminals  ids %s  ramp %g/s  %s%s\n", fl->id, fl->protocol,
               fleet_shard_size(fl->count, r->shard - 1, r->shards),
               fl->ident, fl->ramp_per_s, fl->transport, more);
    }
    for (int i = 0; i < sc->n_steps; i++) {
        const struct sc_step *st = &sc->steps[i];
        char at[32];
        units_format_us(st->at_ms * 1000u, at, sizeof at);
        if (st->kind == SC_STEP_COMMAND)
            printf("  at %-8s command %s to %g of %s\n", at, st->msg, st->fraction, st->fleet);
        else if (st->kind == SC_STEP_FAULT)
            printf("  at %-8s fault %s on %g of %s\n", at,
                   st->fault == SC_FAULT_CORRUPT ? "corrupt" : st->fault == SC_FAULT_CUT ? "cut" : "disconnect",
                   st->fraction, st->fleet);
        else if (st->kind == SC_STEP_API)
            printf("  at %-8s api %s %s%s%s\n", at, st->api->method, st->api->path, st->api->id[0] ? " as " : "",
                   st->api->id);
        else
            printf("  at %-8s terminals of %s unregister (%g)\n", at, st->fleet, st->fraction);
    }
    int n_api = 0;
    for (int i = 0; i < sc->n_steps; i++)
        n_api += sc->steps[i].api && sc->steps[i].api->id[0];
    printf("%d case(s):\n", sc->n_expect + n_api + sc->n_cmd_paths);
    for (int i = 0; i < sc->n_expect; i++)
        printf("  %-24s %-20s %s\n", sc->expect[i].id, sc->expect[i].area, sc->expect[i].desc);
    for (int i = 0; i < sc->n_steps; i++)
        if (sc->steps[i].api && sc->steps[i].api->id[0]) {
            const struct sc_api *a = sc->steps[i].api;
            char st[16] = "2xx";
            if (a->expect_status)
                snprintf(st, sizeof st, "%d", a->expect_status);
            printf("  %-24s %-20s %s %s answers HTTP %s\n", a->id, "api", a->method, a->path, st);
        }
    for (int i = 0; i < sc->n_cmd_paths; i++)
        printf("  %-24s %-20s %s\n", sc->cmd_paths[i].id, sc->cmd_paths[i].area, sc->cmd_paths[i].desc);
}

