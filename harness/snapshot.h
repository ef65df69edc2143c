/* The state of a run that its verdicts and figures are computed from: per fleet the
 * statistics merged over the workers, the platform's totals merged over the
 * gateways, the expectations' per-terminal partials, the timeline, the command
 * windows, the processes, and which scenario and which shard it comes from.
 *
 * A run takes one from the shared statistics region (once a second and at the
 * end); report.json carries it under "snapshot"; `fleetsim report merge` reads
 * several, adds them (exactly: counters add, histograms add bucket by bucket) and
 * judges the sum as if it were one run.  The JSON format is in scenarios/SCHEMA.md
 * ("Run snapshot"). */
#ifndef FLEETSIM_SNAPSHOT_H
#define FLEETSIM_SNAPSHOT_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/core/ledger.h"
#include "sim/core/metrics.h"
#include "sim/core/stats.h"
#include "sim/dev/fleet_spec.h"

#define SNAPSHOT_FORMAT "fleetsim-snapshot"
#define SNAPSHOT_VERSION 1
#define SNAPSHOT_MAX_WINDOWS 16        /* command windows kept (the first command steps) */
#define SNAPSHOT_MAX_SHARDS 65536      /* N of --shard K/N */
#define SNAPSHOT_HASH_LEN 32           /* "fnv1a64:" + 16 hex digits + NUL */

struct scenario;

/* One fleet, matched across snapshots by id. */
struct snapshot_fleet {
    char id[FLEET_ID_LEN];
    char protocol[16];                      /* its dialect ("jt808"); "" unknown (an older snapshot) */
    char target[96];                        /* where it connects: "embedded" or the URL; "" unknown */
    uint64_t planned;                       /* terminals of the fleet this snapshot covers (its shard's slice) */
    struct fleet_stats st;                  /* the workers' statistics, merged */
    struct cmd_stats cmd[STATS_CMD_KINDS];  /* the platform's commands to it, by the dialect's kind */
    uint64_t addressed[STATS_CMD_KINDS];    /* terminals command steps of each kind were meant for */
};

/* What the platform core did (counters add in a merge). */
struct snapshot_core {
    uint64_t transactions;                  /* write transactions, each a batch */
    uint64_t registrations, reg_refused;
    uint64_t auths, auth_refused;
    uint64_t reports;                       /* reported values stored */
    uint64_t tasks, commands, results;      /* command steps, commands to devices, results back */
    uint64_t msgs_in, records_in;           /* bus messages from the front-ends, records in them */
    uint64_t bus_errors;
    uint64_t rss_kb;
    uint64_t flushes;                       /* transactions of reported values (flush slices) */
    uint64_t wal_max_kb;                    /* the most the store's WAL held after a commit */
    uint64_t wal_restarts;                  /* times the WAL started over from its beginning */
    uint64_t checkpoints, checkpoints_incomplete; /* WAL checkpoints off the loop; of which left frames */
    uint64_t checkpoint_max_us;             /* the longest of them */
};

/* The platform front-end's totals over its gateway processes. */
struct snapshot_platform {
    uint32_t gateways;                      /* processes that ran (0: no front-end) */
    uint64_t connections;                   /* gauge */
    uint64_t accepted;
    uint64_t closed_idle;
    uint64_t closed_peer;
    uint64_t frames_in, frames_out;
    uint64_t rejected;                      /* frames rejected as malformed */
    uint64_t c[STATS_FE_COUNTERS];          /* the front-end's own counters, by slot */
    struct ledger ledger;                   /* commands it sent (offline ones not included) */
    struct hist cmd_latency;                /* command sent -> reply, µs */
    uint64_t rss_kb;                        /* resident set of its processes */
    struct snapshot_core core;              /* the platform core's work */
};

/* An expectation's per-terminal partial, matched by the expectation's id. */
struct snapshot_expect {
    char id[FLEET_ID_LEN];
    struct expect_partial p;                /* ok and total add, worst_us is the max */
};

/* A latency histogram kept as its non-zero buckets only (timeline samples: a
 * run has one per second, most buckets of a second are empty). */
struct snapshot_bucket {
    uint32_t index;                         /* bucket, 0..HIST_BUCKETS-1 */
    uint32_t count;
};
struct snapshot_sparse {
    uint64_t n, sum, min, max;              /* as struct hist */
    uint32_t n_buckets;
    struct snapshot_bucket *b;              /* increasing index (owned) */
};

/* One status tick.  Samples are keyed by tick, the number of the status interval
 * since the start (1 = the first): shards run with the same --status-interval
 * line up tick by tick, and merging adds samples of the same tick. */
struct snapshot_sample {
    uint32_t tick;
    double t_s;                             /* virtual seconds since the start, at the tick (merge: the latest) */
    uint64_t online;                        /* terminals authenticated at the tick */
    double reports_per_s;                   /* reports acknowledged per wall second over the interval */
    uint64_t pending;                       /* requests in flight at the tick */
    uint64_t disconnects;                   /* since the start */
    struct snapshot_sparse window;          /* report latency of the interval's reports */
};

/* The report latency of the second after a command step. */
struct snapshot_window {
    int step;                               /* index in the scenario's steps (the merge key) */
    char fleet[FLEET_ID_LEN];
    char msg[16];
    uint64_t at_us;                         /* virtual time after the start the step ran (merge: the earliest) */
    int closed;                             /* the second was over before the run ended (merge: in every shard) */
    struct hist during;
};

enum snapshot_kind { SNAPSHOT_WORKER = 0, SNAPSHOT_GATEWAY };

/* A process of the run, as its statistics slot last showed it. */
struct snapshot_component {
    enum snapshot_kind kind;
    int index;                              /* worker or gateway number in its run */
    uint32_t shard;                         /* the run's shard (1-based) */
    int32_t phase;                          /* enum worker_phase */
    int32_t pid;
    char error[256];
    uint64_t terminals;                     /* workers: terminals owned */
    uint64_t rss_kb, rss_base_kb, rss_peak_kb; /* base and peak: workers only */
};

struct run_snapshot {
    int version;                            /* SNAPSHOT_VERSION */
    char scenario[64];                      /* its name */
    char path[512];                         /* the file as the run named it */
    char hash[SNAPSHOT_HASH_LEN];           /* of the file's bytes: merge refuses to mix scenarios */
    uint32_t shard_count;                   /* N of --shard K/N (1: the whole fleet) */
    uint32_t n_shards;                      /* shards covered, 1-based, increasing */
    uint32_t *shards;                       /* (owned) */
    char started[32];                       /* ISO 8601 UTC (merge: the earliest) */
    double time_scale;
    uint32_t interval_ms;                   /* status interval: the timeline's tick */
    int embedded;                           /* the platform was fleetsim's own */
    char frontend[16];                      /* the front-end that ran ("jt808"), "" when none */
    double virtual_s;                       /* virtual seconds the run covered (merge: max) */
    double wall_s;                          /* wall seconds it took (merge: max: shards run side by side) */
    uint64_t all_online_us;                 /* every terminal first online this long after the start; 0 never (merge: max, 0 wins) */
    uint64_t skipped_steps;                 /* command steps not sent (third-party target; merge: max) */
    char harness_error[512];                /* why the harness broke, "" when it did not (merge: the first) */
    int n_fleets;
    struct snapshot_fleet fleets[STATS_MAX_FLEETS];
    struct snapshot_platform platform;
    int n_expect;
    struct snapshot_expect expect[STATS_MAX_EXPECT];
    int n_windows;
    struct snapshot_window windows[SNAPSHOT_MAX_WINDOWS];
    size_t n_samples, cap_samples;
    struct snapshot_sample *samples;        /* increasing tick (owned) */
    size_t n_components, cap_components;
    struct snapshot_component *components;  /* (owned) */
};

/* A new, empty snapshot (calloc'd, about 600 kB); NULL when out of memory. */
struct run_snapshot *snapshot_new(void);
void snapshot_free(struct run_snapshot *s);
/* Back to empty, keeping the allocation. */
void snapshot_reset(struct run_snapshot *s);

/* Start the snapshot of a run of sc: identity (name, path, hash of the file),
 * shard k of n (1-based; 1 of 1 for the whole fleet), each fleet with the size of
 * its slice, each expectation. */
void snapshot_begin(struct run_snapshot *s, const struct scenario *sc, const char *hash, uint32_t k, uint32_t n);
/* Refresh what the shared statistics region holds: the fleets' statistics (fleet
 * f of the scenario from every worker's slot f), the platform totals, the
 * partials, the processes.  The rest (addressed, windows, timeline, times) is the
 * run's to fill. */
void snapshot_take(struct run_snapshot *s, const struct stats_shm *shm, int n_workers, int n_gw);
/* Append a timeline sample (its window is copied); 0, or -1 when out of memory. */
int snapshot_add_sample(struct run_snapshot *s, const struct snapshot_sample *smp, const struct hist *window);

/* Sum of every fleet's statistics. */
void snapshot_total(const struct run_snapshot *s, struct fleet_stats *out);
/* The fleet of that id, or NULL. */
const struct snapshot_fleet *snapshot_fleet(const struct run_snapshot *s, const char *id);
/* The partial of the expectation of that id, or NULL. */
const struct expect_partial *snapshot_partial(const struct run_snapshot *s, const char *id);
/* Planned terminals over every fleet. */
uint64_t snapshot_planned(const struct run_snapshot *s);
/* The platform's ledger with the commands that never left (addressed terminals
 * that were not connected) counted as sent and failed, offline. */
void snapshot_platform_ledger(const struct run_snapshot *s, struct ledger *out);
/* Does it cover every shard 1..shard_count? */
int snapshot_complete(const struct run_snapshot *s);
/* "1/2", "1,2/2", "1-3,5/8" into buf. */
void snapshot_shards_text(const struct run_snapshot *s, char *buf, size_t cap);

/* The JSON document; NULL when out of memory. */
cJSON *snapshot_to_json(const struct run_snapshot *s);
/* Read one back (s reset first); 0, or -1 with "file: json.path: what" in err.
 * prefix is the JSON path of j in its file ("" for the top, "snapshot" inside a
 * report.json). */
int snapshot_from_json(struct run_snapshot *s, const cJSON *j, const char *file, const char *prefix, char *err,
                       size_t errcap);
/* A report.json (its "snapshot") or a bare snapshot file; 0 or -1 with err. */
int snapshot_load(struct run_snapshot *s, const char *path, char *err, size_t errcap);

/* Add src to dst (both of the same scenario, disjoint shards); 0, or -1 with
 * why in err and dst unchanged. */
int snapshot_merge(struct run_snapshot *dst, const struct run_snapshot *src, char *err, size_t errcap);

/* "fnv1a64:<16 hex digits>" of a file's bytes into out; 0 or -1 with errno. */
int snapshot_hash_file(const char *path, char *out, size_t cap);
/* The same of a buffer. */
void snapshot_hash_bytes(const void *buf, size_t n, char *out, size_t cap);

#endif
