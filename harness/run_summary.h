/* What a run comes to, computed from its snapshot alone, so that the snapshot of
 * one run and the merge of several shards' are judged the same way: the
 * verdicts, the metrics and figures of report.json, the headline figures. */
#ifndef FLEETSIM_RUN_SUMMARY_H
#define FLEETSIM_RUN_SUMMARY_H

#include <stdio.h>

#include "harness/scenario.h"
#include "harness/snapshot.h"
#include "report/report.h"
#include "sim/platform/frontend.h"

/* Every expectation of sc as a case, the harness failure if any, the metrics
 * and the snapshot itself for report.json. */
void run_build_report(const struct scenario *sc, const struct run_snapshot *s, struct run_report *rep);
/* The headline numbers, for people and for `make bench`, to out (NULL: not
 * printed); and into rep's metrics.figures. */
void run_print_figures(const struct scenario *sc, const struct run_snapshot *s, struct run_report *rep, FILE *out);
/* The front-end of sc's dialects that the snapshot says ran, or NULL. */
const struct frontend *run_frontend_of(const struct scenario *sc, const struct run_snapshot *s);

#endif
