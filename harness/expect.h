/* Expectations -> verdicts.  Reads the snapshot of a run (one run's, or the merge of
 * several shards') and turns every expectation of the scenario into a case: id,
 * area, objective, expected vs observed, verdict.  Metric and counter names are
 * resolved here, in one table. */
#ifndef FLEETSIM_EXPECT_H
#define FLEETSIM_EXPECT_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "harness/scenario.h"
#include "harness/snapshot.h"
#include "report/report.h"
#include "sim/core/stats.h"
#include "sim/dev/fleet.h"
#include "sim/platform/frontend.h"

struct expect_ctx {
    const struct scenario *sc;
    const struct run_snapshot *snap; /* fleets are matched to the scenario's by id */
    const struct frontend *fe;    /* the embedded front-end that ran (its counters), NULL when none */
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
