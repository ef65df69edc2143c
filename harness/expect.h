/* Expectations -> verdicts.  Reads the merged statistics of a finished run and turns
 * every expectation of the scenario into a case: id, area, objective, expected vs
 * observed, verdict.  Metric and counter names are resolved here, in one table. */
#ifndef FLEETSIM_EXPECT_H
#define FLEETSIM_EXPECT_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "harness/scenario.h"
#include "report/report.h"
#include "sim/core/stats.h"
#include "sim/dev/fleet.h"
#include "sim/platform/frontend.h"

struct expect_ctx {
    const struct scenario *sc;
    const struct stats_shm *shm;
    int n_workers, n_gw;
    int embedded;                 /* the platform is ours (commands, gateway counters) */
    double virtual_s;             /* virtual seconds the run covered */
    const struct frontend *fe;    /* the embedded front-end (its counters), NULL when none */
    const uint64_t (*addressed)[STATS_CMD_KINDS]; /* per fleet, per command kind */
    struct ledger gw_ledger;      /* the gateway's, offline commands included */
};

void expect_evaluate(const struct expect_ctx *c, struct run_report *rep);
/* Summary for report.json: per fleet and total counters, histograms, gateway counters. */
void expect_metrics_json(const struct expect_ctx *c, cJSON *metrics);
/* Value of a metric or counter name for fleet index f (-1: all); 0 when found. */
int expect_value(const struct expect_ctx *c, const char *name, int f, double *out, int *is_duration);
/* The per-terminal checks the workers evaluate: one predicate per state and
 * transitions expectation, pred.slot = the expectation's index.  Returns how many. */
int expect_compile(const struct scenario *sc, struct term_pred *out, int cap);

#endif
