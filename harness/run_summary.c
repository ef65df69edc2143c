/* The end of a run: verdicts from the merged statistics, the figures, and the
 * plan a dry run prints. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "harness/expect.h"
#include "harness/run_internal.h"
#include "harness/scenario_dialect.h"
#include "sim/core/clock.h"
#include "sim/core/units.h"

static struct ledger gw_ledger(const struct run *r)
{
    struct ledger l = {0};
    for (int g = 0; g < r->n_gw; g++)
        ledger_add(&l, &r->shm->gateways[g].ledger);
    /* commands meant for terminals that were not connected never left: count them as
     * sent and failed (offline), so every addressed terminal is accounted for */
    for (int f = 0; f < r->sc.n_fleets; f++)
        for (int c = 0; c < STATS_CMD_KINDS; c++) {
            uint64_t sent = 0;
            for (int g = 0; g < r->n_gw; g++)
                sent += r->shm->gateways[g].cmd[f][c].sent;
            if (r->addressed[f][c] > sent) {
                uint64_t off = r->addressed[f][c] - sent;
                l.sent += off;
                l.failed += off;
                l.why[LEDGER_OFFLINE] += off;
            }
        }
    return l;
}

void run_build_report(struct run *r, struct run_report *rep)
{
    struct expect_ctx ec = {
        .sc = &r->sc,
        .shm = r->shm,
        .n_workers = r->n_workers,
        .n_gw = r->n_gw,
        .embedded = r->embedded,
        .fe = r->fe,
        .virtual_s = (double)(r->end_us > r->start_us ? r->end_us - r->start_us : 0) / 1e6,
        .addressed = r->addressed,
    };
    ec.gw_ledger = gw_ledger(r);
    expect_evaluate(&ec, rep);
    if (r->harness_error) {
        struct case_result c = {0};
        snprintf(c.id, sizeof c.id, "HARNESS");
        snprintf(c.area, sizeof c.area, "harness");
        snprintf(c.desc, sizeof c.desc, "the run itself");
        c.verdict = VERDICT_ERROR;
        snprintf(c.expected, sizeof c.expected, "the run completes");
        memcpy(c.observed, r->harness_msg, sizeof c.observed - 1); /* cut to the cell */
        report_add_case(rep, &c);
    }
    for (int w = 0; w < r->n_workers; w++)
        if (r->shm->workers[w].error[0])
            fprintf(stderr, "fleetsim: %s\n", r->shm->workers[w].error);
    for (int g = 0; g < r->n_gw; g++)
        if (r->shm->gateways[g].error[0])
            fprintf(stderr, "fleetsim: %s\n", r->shm->gateways[g].error);
    rep->duration_s = (double)(clock_mono_us() - r->wall_start_us) / 1e6;
    rep->virtual_s = ec.virtual_s;
    expect_metrics_json(&ec, rep->metrics);
    if (r->skipped_steps)
        cJSON_AddNumberToObject(rep->metrics, "skipped_command_steps", (double)r->skipped_steps);
    if (r->timeline) {
        cJSON_AddItemToObject(rep->metrics, "timeline", r->timeline);
        r->timeline = NULL;
    }
}

void run_print_figures(struct run *r, struct run_report *rep)
{
    static struct fleet_stats tot;
    stats_merge_fleets(r->shm, r->n_workers, r->sc.n_fleets, -1, &tot);
    char a[32], p50[32], p99[32], mx[32];
    uint64_t base = 0, peak = 0;
    for (int w = 0; w < r->n_workers; w++) {
        base += r->shm->workers[w].rss_base_kb;
        peak += r->shm->workers[w].rss_peak_kb;
    }
    uint64_t gw_rss = 0;
    for (int g = 0; g < r->n_gw; g++)
        gw_rss += r->shm->gateways[g].rss_kb;
    double vs = rep->virtual_s > 0 ? rep->virtual_s : 1;
    units_format_us(hist_percentile(&tot.report_latency, 50), p50, sizeof p50);
    units_format_us(hist_percentile(&tot.report_latency, 99), p99, sizeof p99);
    units_format_us(tot.report_latency.max, mx, sizeof mx);
    if (r->all_online_us)
        units_format_us(r->all_online_us, a, sizeof a);
    else
        snprintf(a, sizeof a, "never");
    printf("figures:\n");
    printf("  all %" PRIu64 " terminals online (authenticated) after %s (virtual)\n", r->total_terminals, a);
    printf("  reports acked: %" PRIu64 " (%.0f/s virtual, %.0f/s wall)\n", tot.reports_acked,
           (double)tot.reports_acked / vs, (double)tot.reports_acked / (rep->duration_s > 0 ? rep->duration_s : 1));
    printf("  report -> acknowledgement latency: p50 %s  p99 %s  max %s  (%" PRIu64 " samples)\n", p50, p99, mx,
           tot.report_latency.n);
    if (r->total_terminals && peak > base)
        printf("  resident memory per terminal: %.0f B (workers: %" PRIu64 " kB over a %" PRIu64
               " kB base, peak %" PRIu64 " kB)\n",
               (double)(peak - base) * 1024.0 / (double)r->total_terminals, peak - base, base, peak);
    if (r->n_gw)
        printf("  gateway resident memory: %" PRIu64 " kB in %d process(es)\n", gw_rss, r->n_gw);
    cJSON *cmdw = r->n_cmd_windows ? cJSON_CreateArray() : NULL;
    for (int i = 0; i < r->n_cmd_windows; i++) {
        const struct cmd_window *cw = &r->cmd_windows[i];
        const struct sc_step *st = &r->sc.steps[cw->step];
        char at[32], w99[32], wmx[32];
        units_format_us(cw->at_us, at, sizeof at);
        units_format_us(hist_percentile(&cw->during, 99), w99, sizeof w99);
        units_format_us(cw->during.n ? cw->during.max : 0, wmx, sizeof wmx);
        if (!cw->closed) {
            printf("  command %s to %s at %s: the run ended within the second after it\n", st->msg, st->fleet, at);
            continue;
        }
        printf("  command %s to %s at %s: reports in the next second p99 %s max %s (%" PRIu64 " samples)\n",
               st->msg, st->fleet, at, w99, wmx, cw->during.n);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "msg", st->msg);
        cJSON_AddStringToObject(o, "fleet", st->fleet);
        cJSON_AddNumberToObject(o, "at_s", (double)cw->at_us / 1e6);
        cJSON_AddNumberToObject(o, "report_p99_us", (double)hist_percentile(&cw->during, 99));
        cJSON_AddNumberToObject(o, "report_max_us", (double)(cw->during.n ? cw->during.max : 0));
        cJSON_AddNumberToObject(o, "samples", (double)cw->during.n);
        cJSON_AddItemToArray(cmdw, o);
    }
    cJSON *fig = cJSON_AddObjectToObject(rep->metrics, "figures");
    cJSON_AddNumberToObject(fig, "all_online_s", (double)r->all_online_us / 1e6);
    if (cmdw)
        cJSON_AddItemToObject(fig, "after_commands", cmdw);
    cJSON_AddNumberToObject(fig, "reports_acked", (double)tot.reports_acked);
    cJSON_AddNumberToObject(fig, "reports_per_s_wall", (double)tot.reports_acked / (rep->duration_s > 0 ? rep->duration_s : 1));
    cJSON_AddNumberToObject(fig, "report_p99_us", (double)hist_percentile(&tot.report_latency, 99));
    cJSON_AddNumberToObject(fig, "rss_per_terminal_b",
                            r->total_terminals && peak > base ? (double)(peak - base) * 1024.0 / (double)r->total_terminals : 0);
}

void run_print_plan(const struct run *r, uint64_t total, double scale)
{
    const struct scenario *sc = &r->sc;
    char d[32];
    units_format_us(sc->duration_ms * 1000u, d, sizeof d);
    printf("scenario %s: %s, %" PRIu64 " terminals, target %s, time scale %g, %d worker(s)\n", sc->name, d, total,
           r->fe ? "embedded gateway" : r->target_text, scale, r->n_workers);
    for (int f = 0; f < sc->n_fleets; f++) {
        const struct fleet_spec *fl = &sc->fleets[f];
        char more[256] = "";
        const struct sc_dialect *sd = sc_dialect_of(fl);
        if (sd->describe)
            sd->describe(fl, more, sizeof more);
        printf("  fleet %-12s %-10s %6u terminals  ids %s  ramp %g/s  %s%s\n", fl->id, fl->protocol, fl->count,
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
        else
            printf("  at %-8s terminals of %s unregister (%g)\n", at, st->fleet, st->fraction);
    }
    printf("%d case(s):\n", sc->n_expect);
    for (int i = 0; i < sc->n_expect; i++)
        printf("  %-24s %-20s %s\n", sc->expect[i].id, sc->expect[i].area, sc->expect[i].desc);
}

