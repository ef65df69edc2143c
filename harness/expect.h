/* Expectations -> verdicts.  Reads the snapshot of a run (one run's, or the merge of
 * several shards') and turns every expectation of the scenario into a case: id,
 * area, objective, expected vs observed, verdict.  Metric and counter names are
 * resolved here, in one table. */
#ifndef FLEETSIM_EXPECT_H
#define FLEETSIM_EXPECT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
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
    bool live;                    /* judged while the run goes (the live statistics): no warning
                                     again, and what is still in flight is not yet a failure */
};

void expect_evaluate(const struct expect_ctx *c, struct run_report *rep);
/* Summary for report.json: per fleet and total counters, histograms, gateway counters. */
void expect_metrics_json(const struct expect_ctx *c, cJSON *metrics);
/* Value of a metric or counter name for fleet index f (-1: all); 0 when found. */
int expect_value(const struct expect_ctx *c, const char *name, int f, double *out, int *is_duration);
/* Every name expect_value resolves for fleet f of sc (-1: any fleet), once each:
 * metric names (metric != 0: "report.latency.p99", "reports.rate", ...) or counter
 * names ("terminal.reports", "gateway.bad_check", ...), with whether the value is
 * a duration in µs.  Counter expectations take counter names only. */
void expect_names(const struct scenario *sc, int f, int metric,
                  void (*fn)(void *ctx, const char *name, int is_duration), void *ctx);
/* Whether name is one of them (1) or not (0).  When known, *is_duration (if not
 * NULL) says whether its value is a duration; when not, closest gets the known
 * name nearest to it, "" when none is close enough to be a likely typo.  The
 * scenario parser asks this, so a name it accepts is one the evaluation knows. */
int expect_name_known(const struct scenario *sc, int f, int metric, const char *name,
                      int *is_duration, char *closest, size_t cap);
/* The per-terminal checks the workers evaluate: one predicate per state and
 * transitions expectation, pred.slot = the expectation's index.  Returns how many. */
int expect_compile(const struct scenario *sc, struct term_pred *out, int cap);

#endif
