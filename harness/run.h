/* `fleetsim run`: one scenario from start to verdict.  The parent process forks the
 * embedded gateway (unless the target is elsewhere) and the workers, runs the
 * timeline, merges statistics once a second, drains, evaluates the expectations
 * and writes the reports. */
#ifndef FLEETSIM_RUN_H
#define FLEETSIM_RUN_H

#include <stdint.h>

#include "report/report.h"

/* The exit status of every subcommand (README.md, "Exit status").  A run's is its
 * overall verdict, the worst of its cases (pass < inconclusive < fail < error),
 * so a harness error outranks a failed check, which outranks an inconclusive
 * case.  Inconclusive has its own code: "nothing failed, but not everything could
 * be judged" (a counter a third-party platform does not show, a latency over no
 * samples) is neither a pass to trust nor a fault of the platform to chase;
 * a CI job that accepts it says so (`rc=$?; [ $rc = 0 ] || [ $rc = 4 ]`). */
enum run_exit {
    RUN_EXIT_PASS = 0,          /* every case passed (decode: decoded, ...) */
    RUN_EXIT_FAIL = 1,          /* a case failed: the platform (or a frame, a vector) is wrong */
    RUN_EXIT_USAGE = 2,         /* usage or input error, found before anything started */
    RUN_EXIT_HARNESS = 3,       /* harness error: a process died, the run could not start or
                                 * complete, it was interrupted */
    RUN_EXIT_INCONCLUSIVE = 4,  /* no case failed, one or more could not be judged */
};

/* The exit status of a run (or a merge) whose overall verdict is v. */
int run_exit_status(enum verdict v);

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
    const char *protocol;      /* no scenario file: a one-fleet scenario of this protocol */
    const char *const *sets;   /* "PATH=VALUE" overrides (--set and the quick flags), in order */
    int n_sets;
    const char *prometheus;    /* --prometheus [HOST:]PORT: the live metrics over HTTP, NULL none */
    const char *csv;           /* --csv FILE: the timeline, a row per status interval */
    const char *trace_ids;     /* --trace ID,...: the frames of these terminals */
    const char *pcap;          /* --pcap FILE: their traffic (all terminals without --trace) */
    uint64_t pcap_limit;       /* --pcap-limit: bytes (0: the default) */
    int no_color;              /* --no-color: the closing summary without ANSI colours */
    int dash;                  /* --dash: the live dashboard on this terminal (report/dash_tty.c) */
    const char *target_api;    /* --target-api URL: the api steps call this platform's API (harness/run_api.h) */
    const char *api_app;       /* --api-app ID:SECRET: ... logged in as this application */
    const char *api_ca;        /* --api-ca FILE: ... an https:// one's CA */
};

/* The exit status (enum run_exit): a usage or input error (the scenario, a path of
 * the options, a fixed port already served) is found before any process starts,
 * and in a dry run too. */
int run_scenario(const struct run_opts *o);
/* Every *.json of the folder o->scenario in name order, reports in
 * o->report_dir/<name>/; the worst exit status (harness > input > fail >
 * inconclusive > pass). */
int run_suite(const struct run_opts *o);

/* A database path the platform core can open: its directory exists and takes new
 * files (SQLite makes FILE-wal and FILE-shm beside it), and FILE, when there, is a
 * writable SQLite database (or empty).  Nothing is changed.  0, or -1 with what is
 * wrong in err (for `run --db` and `serve --db`). */
int run_check_db(const char *path, char *err, size_t errcap);

/* How many worker processes a fleet of `terminals` needs when each may hold
 * `per_proc` descriptors; -1 when more than `max` would be needed. */
int run_procs_needed(uint64_t terminals, uint64_t per_proc, int wanted, int max);

#endif
