/* The run's timeline as CSV while it goes (--csv FILE): a row per status
 * interval, flushed at once, so a plot can follow the run. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "harness/run_internal.h"
#include "sim/core/clock.h"

static const char HEADER[] =
    "time_s,elapsed_s,terminals,online,reports_per_s,latency_p50_us,latency_p99_us,latency_max_us,"
    "pending,disconnects,connect_failures,bad_frames,platform_requests\n";

int run_csv_open(struct run *r, const char *path, char *err, size_t errcap)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, errcap, "--csv: cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    if (fputs(HEADER, f) == EOF || fflush(f) == EOF) {
        snprintf(err, errcap, "--csv: cannot write %s: %s", path, strerror(errno));
        fclose(f);
        return -1;
    }
    r->csv = f;
    return 0;
}

void run_csv_row(struct run *r, const struct snapshot_sample *smp, const struct hist *win,
                 const struct fleet_stats *tot, uint64_t bad_frames)
{
    double elapsed = (double)(clock_mono_us() - r->wall_start_us) / 1e6;
    int rc = fprintf(r->csv,
                     "%.3f,%.3f,%" PRIu64 ",%" PRIu64 ",%.1f,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
                     ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\n",
                     smp->t_s, elapsed, r->total_terminals, smp->online, smp->reports_per_s,
                     hist_percentile(win, 50), hist_percentile(win, 99), win->n ? win->max : 0, smp->pending,
                     smp->disconnects, tot->connect_failures, bad_frames, tot->commands);
    if (rc < 0 || fflush(r->csv) == EOF) {
        fprintf(stderr, "fleetsim: --csv: %s; no more rows\n", strerror(errno));
        fclose(r->csv);
        r->csv = NULL;
    }
}

void run_csv_close(struct run *r)
{
    if (r->csv)
        fclose(r->csv);
    r->csv = NULL;
}
