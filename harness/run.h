/* `fleetsim run`: one scenario from start to verdict.  The parent process forks the
 * embedded gateway (unless the target is elsewhere) and the workers, runs the
 * timeline, merges statistics once a second, drains, evaluates the expectations
 * and writes the reports. */
#ifndef FLEETSIM_RUN_H
#define FLEETSIM_RUN_H

#include <stdint.h>

struct run_opts {
    const char *scenario;      /* path */
    const char *report_dir;    /* NULL: no files */
    const char *target;        /* overrides the scenario's target */
    const char *db;            /* embedded platform database (default: in the report dir or a temp dir) */
    int procs;                 /* workers; 0 = number of cores */
    double time_scale;         /* 0 = the scenario's */
    int quiet;                 /* no status lines */
    int dry_run;               /* check the scenario, print the plan and the cases, run nothing */
    int verbose;               /* gateway logs rejected frames */
    int status_interval_ms;    /* default 1000 */
    uint32_t shard, shards;    /* --shard K/N: run terminals i of each fleet with i % N == K-1; 0/0: all */
    const char *stats_addr;    /* --stats: unix socket path serving the live snapshot, NULL none */
};

/* Exit status: 0 every expectation passed, 1 one failed or the harness broke
 * (reported as an ERROR case), 2 usage/input error. */
int run_scenario(const struct run_opts *o);

/* How many worker processes a fleet of `terminals` needs when each may hold
 * `per_proc` descriptors; -1 when more than `max` would be needed. */
int run_procs_needed(uint64_t terminals, uint64_t per_proc, int wanted, int max);

#endif
