/* Internals shared by the files of `fleetsim run`: run.c (processes, timeline,
 * drain), run_setup.c (targets, the embedded platform's configuration, the checks
 * before anything starts), run_snapshot.c (the run's snapshot), run_stats.c
 * (--stats), run_evidence.c (--csv, --trace, --pcap, --prometheus) and
 * run_summary.c (verdicts, figures, the plan of a dry run). */
#ifndef FLEETSIM_RUN_INTERNAL_H
#define FLEETSIM_RUN_INTERNAL_H

#include <cjson/cJSON.h>
#include <ev.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "harness/prom.h"
#include "harness/run.h"
#include "harness/run_summary.h"
#include "harness/scenario.h"
#include "harness/snapshot.h"
#include "report/report.h"
#include "sim/core/stats.h"
#include "sim/core/super.h"
#include "sim/core/super_ev.h"
#include "sim/dev/fleet.h"
#include "sim/dev/trace.h"
#include "sim/net/transport.h"
#include "sim/platform/core/core.h"
#include "sim/platform/frontend.h"

/* A worker or gateway process: a component of the run's supervisor. */
struct child {
    struct run *run;
    int id;                       /* component id in run->sup */
    int idx;                      /* worker or gateway index (its stats slot) */
    int lfd;                      /* gateway: its listening socket; -1 for a worker */
};

/* What the terminals' reports looked like in the second after a command step:
 * commands fanned out to a whole fleet must not stall the data path. */
#define RUN_MAX_CMD_WINDOWS SNAPSHOT_MAX_WINDOWS
struct cmd_window {
    int step;                     /* index in sc.steps */
    uint64_t at_us;               /* virtual time the step ran */
    struct hist before;           /* report latency, cumulative, when it ran */
    struct hist during;           /* the reports of the second after it */
    ev_timer done;
    struct run *run;
    int closed;
};

struct run {
    const struct run_opts *o;
    struct scenario sc;
    struct ev_loop *loop;
    struct stats_shm *shm;
    const struct frontend *fe;    /* the embedded platform's front-end, NULL when none runs */
    void *fe_cfg;                 /* its configuration (fe->cfg_size bytes) */
    uint16_t fe_port;
    int embedded;
    int n_workers, n_gw;
    struct child workers[STATS_MAX_WORKERS];
    struct child gws[STATS_MAX_GATEWAYS];
    struct child core;            /* the platform core, when the platform is embedded */
    struct core_config core_cfg;
    int core_lfd;                 /* its bus socket (the parent's copy: -1 once spawned) */
    int core_draining;
    struct sockaddr_storage targets[SC_MAX_FLEETS]; /* where each fleet connects */
    struct term_pred preds[SC_MAX_EXPECT];          /* the per-terminal checks */
    int n_preds;
    char target_text[300];
    ev_timer status, step_timer, end_timer;
    uint64_t total_terminals;
    const char *scen_name;        /* the scenario as messages name it: its path, <stdin>, <command line> */
    FILE *csv;                    /* --csv: the timeline, a row per status interval */
    struct prom_http *prom;       /* --prometheus: the endpoint (NULL: none) */
    struct prom_buf prom_text;
    struct trace_opts trace;      /* --trace / --pcap, for the workers */
    char trace_path[1100];
    uint64_t stopped_us;          /* virtual instant the traffic stopped (the drain began) */
    ev_signal sigint, sigterm;
    struct super *sup;            /* the workers and gateways */
    struct super_ev sup_ev;       /* the supervisor on r->loop */
    int next_step;
    int phase;                    /* 0 waiting ready, 1 running, 2 draining workers, 3 draining gateways, 4 done */
    int interrupted;
    int harness_error;
    char harness_msg[512];
    uint64_t start_us;            /* virtual time of CTL_START */
    uint64_t end_us;
    uint64_t wall_start_us;
    uint64_t addressed[STATS_MAX_FLEETS][STATS_CMD_KINDS]; /* terminals each command kind was meant for */
    uint64_t skipped_steps;
    struct cmd_window cmd_windows[RUN_MAX_CMD_WINDOWS];
    int n_cmd_windows;
    struct fleet_stats prev;      /* last status line's totals, for rates */
    uint64_t prev_mono_us;        /* when they were taken */
    uint32_t shard, shards;       /* --shard K/N: K (1-based) of N; 1 of 1 is the whole fleet */
    struct run_snapshot *snap;    /* the run's state: refreshed every status tick and at the end */
    uint32_t tick;                /* status ticks since the start (the timeline's key) */
    struct stats_srv *stats;      /* --stats endpoint (harness/stats_srv.h), NULL when none */
    uint64_t prev_gw_positions;
    int tty;
    char tmpdir[256];
    struct dash_tty *dash;        /* --dash: up while the run goes, NULL when none */
    char dash_dir[64];            /* its private stats socket's directory ("" none) */
    char dash_sock[108];          /* the stats socket it reads */
    char dash_log[64];            /* --dash: what the processes write to stderr meanwhile ("" none) */
    int dash_log_fd;              /* ... open on it (valid when dash_log is set) */
    int dash_saved_stderr;        /* the parent's stderr while the dashboard is up (-1 none) */
    bool paused[SC_MAX_FLEETS];   /* live request "pause" (run_live.c) */
    uint32_t active[SC_MAX_FLEETS]; /* each fleet's active terminals (live "resize"; at first its count) */
    struct live_wait *live_waits; /* inspects a worker has not answered yet (run_live.c) */
    struct run_api *api;          /* the api steps' calls (run_api.c), NULL when none */
};

/* A platform request unanswered this long times out (virtual ms); the gateways drain at least as long. */
#define RUN_CMD_TIMEOUT_MS 10000

/* An error of the set-up on stderr, each of its lines prefixed "fleetsim run: ". */
void run_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The descriptors a process may open (the soft limit raised to the hard one, which
 * the children inherit), less a reserve of its own. */
uint64_t run_setup_fd_budget(void);
/* Where each fleet goes: its own target, the one the command line or scenario
 * names, or the embedded platform's front-end for its dialect (r->fe).  0, or -1
 * with err. */
int run_setup_target(struct run *r, char *err, size_t errcap);
/* Every path and port the options and the scenario name, checked before any
 * process starts (and in a dry run), and the gateway processes planned; 0, or -1
 * after run_error. */
int run_setup_preflight(struct run *r, uint64_t per_proc);
/* The embedded platform's configuration, its database and the core's bus socket
 * (a failure is the harness's: the input was checked).  0, or -1 with err. */
int run_setup_frontend(struct run *r, char *err, size_t errcap);
/* Remove the temporary directory of the database run_setup_frontend made, if any. */
void run_setup_rm_tmpdir(struct run *r);
/* mkdir -p: 0, or -1 with errno. */
int run_setup_mkdir_p(const char *path);

/* Record the first harness failure (later ones are dropped: the first is the cause). */
void run_harness_fail(struct run *r, const char *fmt, const char *detail);
/* --dry-run: what would happen, and which cases would be judged. */
void run_print_plan(const struct run *r, uint64_t total, double scale);

/* Start r->snap (identity, shard, fleets, expectations, settings of the run). */
void run_snapshot_begin(struct run *r, const char *hash, double scale, uint32_t interval_ms);
/* Refresh r->snap from the shared region and the parent's own state. */
void run_snapshot_take(struct run *r);

/* Interrupt the run as Ctrl-C does (a second time: stop now). */
void run_interrupt(struct run *r);

/* --dash (run_dash.c): check the terminal and make the dashboard's socket and log
 * before anything starts (0, or -1 with err; without a terminal in the foreground
 * it says so and the run keeps its status lines); put it up on the loop; take it
 * down, the terminal given back with what the processes wrote meanwhile. */
int run_dash_prepare(struct run *r, char *err, size_t errcap);
void run_dash_start(struct run *r);
void run_dash_stop(struct run *r);

/* --stats PATH: bind and listen (before any process starts); 0 or -1 with err. */
int run_stats_open(struct run *r, const char *path, char *err, size_t errcap);
/* Accept clients on r->loop. */
void run_stats_start(struct run *r);
/* Send r->snap to every client ready for another document (each status tick). */
void run_stats_publish(struct run *r);
/* Close the clients and the socket and remove its path. */
void run_stats_close(struct run *r);

/* Send m to every worker. */
void run_to_workers(struct run *r, const struct ctl_msg *m);

/* A request line from client `client` (generation gen) of the --stats socket:
 * parse it, do it, answer with run_stats_reply (at once, or later for one a
 * worker answers). */
void run_live_request(struct run *r, const char *line, size_t len, int client, uint32_t gen);
/* A worker's answer to an inspect (CTL_INSPECTED), and the expiry of those
 * no worker answered (each status tick). */
void run_live_answer(struct run *r, const struct ctl_msg *m, const char *payload);
void run_live_tick(struct run *r);
void run_live_free(struct run *r);
/* Queue the reply line for the client, if it is still the one that asked
 * (takes the object). */
void run_stats_reply(struct run *r, int client, uint32_t gen, cJSON *reply);

/* --csv FILE: create it and write the header (0, or -1 with err); a row per tick. */
int run_csv_open(struct run *r, const char *path, char *err, size_t errcap);
/* The evidence a run writes besides its reports (--csv, --trace, --pcap,
 * --prometheus): check the paths, ids and address before anything starts (a dry
 * run too), then create the files.  0, or -1 with err naming the flag. */
int run_evidence_check(struct run *r, char *err, size_t errcap);
int run_evidence_open(struct run *r, char *err, size_t errcap);
/* The snapshot as Prometheus text, for the endpoint (each status interval). */
void run_prom_publish(struct run *r);
void run_csv_row(struct run *r, const struct snapshot_sample *smp, const struct hist *win,
                 const struct fleet_stats *tot, uint64_t bad_frames);
void run_csv_close(struct run *r);

#endif
