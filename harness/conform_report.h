/* Conformance reports read back and merged: `fleetsim report DIR... -o OUT` of the
 * report folders of `fleetsim conform --report DIR` (the shards of one run, or
 * repeated runs).  The rule (docs/conformance.md, "Merging reports"):
 *   - the merged report has the union of the cases, in the order of the run
 *     that chose them (metrics.shards[].cases), then any others in input order;
 *   - the same case id in two reports (a run repeated, a shard run again) is
 *     one case whose verdict is the worst of them (pass < inconclusive < fail <
 *     error: a flaky case is not a pass), with the evidence of that worst
 *     attempt (the first of equal ones); every attempt's verdict is kept in
 *     metrics.attempts;
 *   - the shards of one sharded run (same N, same cases chosen) must all be
 *     given, and together hold every case the run chose: a missing shard is an
 *     error (a crashed shard is not a pass) unless partial is asked for. */
#ifndef FLEETSIM_CONFORM_REPORT_H
#define FLEETSIM_CONFORM_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "report/report.h"

#define CONFORM_REPORT_MAX_RUNS 256 /* entries of metrics.shards: the runs one report holds */

/* Whether r (as report_from_json reads it) is a conformance report: scenario
 * "conform", no snapshot, and metrics as the runner and this merge write them
 * (target, not_run, jobs, shards, attempts).  0, or -1 with the errors
 * ("file: metrics.shards[0].of[1]: ...") in err. */
int conform_report_check(const struct run_report *r, const char *file, char *err, size_t errcap);
/* report_read_json / report_load_json, then conform_report_check. */
int conform_report_parse(const char *text, size_t len, const char *file, struct run_report *r, char *err,
                         size_t errcap);
int conform_report_load(const char *path, struct run_report *r, char *err, size_t errcap);

/* Merge the checked reports in[0..n) (files[] name them) into out (initialised
 * here; report_free it).  partial: shards of a run may be missing (said in
 * note).  note gets what the merge found worth saying (a case in several
 * reports, shards missing), one line each, "" for nothing.  0, or -1 with
 * what is wrong in err (out is then empty). */
int conform_report_merge(const struct run_report *in, const char *const *files, int n, bool partial,
                         struct run_report *out, char *note, size_t notecap, char *err, size_t errcap);

#endif
