/* The run (or the platform alone) as Prometheus metrics, in the text exposition
 * format 0.0.4: one HELP and TYPE line per family, base units (seconds, bytes),
 * counters ending in _total, latency as histograms with cumulative `le` buckets.
 * Rendered from the run snapshot, so what a scrape shows and what the verdicts
 * are computed from are the same numbers. */
#ifndef FLEETSIM_PROM_H
#define FLEETSIM_PROM_H

#include <stddef.h>

#include "harness/scenario.h"
#include "harness/snapshot.h"
#include "sim/platform/frontend.h"

struct prom_buf {
    char *p;
    size_t len, cap;
    int failed;                 /* out of memory: the text is cut */
};

void prom_buf_free(struct prom_buf *b);

/* Every fleet of s (named, with its protocol and its dialect's counters from sc;
 * sc may be NULL: then fleets carry only the neutral counters), the platform (its
 * front-end's counters named by fe, which may be NULL), the platform core, and
 * the run's clock.  elapsed_s is wall-clock seconds since the start.  0, or -1
 * when out of memory. */
int prom_render(struct prom_buf *b, const struct run_snapshot *s, const struct scenario *sc,
                const struct frontend *fe, double elapsed_s);

#endif
