/* Run statistics shared between processes.  The parent maps one region
 * (MAP_SHARED) before it forks; each worker and gateway process writes only its own
 * slot, the parent reads all slots once a second and merges them.  Counters are
 * aligned 64-bit words written by one process, so a reader sees each one whole;
 * the final read happens after the writer has said it is done. */
#ifndef FLEETSIM_STATS_H
#define FLEETSIM_STATS_H

#include <stddef.h>
#include <stdint.h>
#include "sim/core/ledger.h"
#include "sim/core/live_events.h"
#include "sim/core/metrics.h"
#include "sim/dev/term_state.h"

#define STATS_MAX_FLEETS 32
#define STATS_MAX_WORKERS 64
#define STATS_MAX_GATEWAYS 16
#define STATS_MAX_EXPECT 128
#define STATS_CMD_KINDS 40     /* platform request kinds per fleet (a dialect's cmds[]) */
#define STATS_DIALECT_COUNTERS 40 /* a dialect's own terminal counters */
#define STATS_FE_COUNTERS 96   /* a platform front-end's own counters */


/* A named counter of a dialect or a front-end: slot indexes its dc[] or c[]. */
struct stats_counter {
    const char *name;            /* "terminal.heartbeats", "gateway.bad_check" */
    uint16_t slot;
    const char *desc;            /* one line, for SCHEMA.md and --help */
};

/* One fleet's share in one worker. */
struct fleet_stats {
    uint64_t terminals;          /* active terminals of this fleet in this worker */
    uint64_t stops;              /* terminals stopped by a live "resize" (not a fault) */
    uint64_t started;            /* started so far (ramp) */
    uint64_t in_state[TS__COUNT];/* gauge: terminals in each state now */
    uint64_t reached[TS__COUNT]; /* terminals that reached each state at least once */
    uint64_t connects;           /* transport connects that succeeded */
    uint64_t connect_failures;   /* connects refused or timed out */
    uint64_t connect_refused;    /* ... of them: refused (ECONNREFUSED, a reset) */
    uint64_t connect_timeouts;   /* ... no answer within the fleet's ack timeout */
    uint64_t connect_unreachable;/* ... no route (ENETUNREACH, EHOSTUNREACH, EADDRNOTAVAIL) */
    uint64_t disconnects;        /* connections lost or dropped on purpose */
    uint64_t faults;             /* disconnects injected by a fault step */
    uint64_t frames_out, frames_in;
    uint64_t bytes_out, bytes_in;
    uint64_t decode_errors;      /* frames from the platform the codec rejected */
    uint64_t reports;            /* periodic reports sent (the dialect's telemetry) */
    uint64_t reports_acked;      /* ... and acknowledged */
    uint64_t commands;           /* platform requests received */
    uint64_t replies;            /* answers sent to them */
    uint64_t tls_handshakes;     /* TLS: handshakes completed, the gateway trusted */
    uint64_t tls_name_mismatch;  /* ... refused: its certificate is not for the fleet's server_name */
    uint64_t tls_untrusted;      /* ... refused: its certificate failed verification otherwise */
    uint64_t tls_ocsp_missing;   /* ... refused: ocsp_stapling require, no status stapled */
    uint64_t tls_ocsp_revoked;   /* ... refused: the stapled status is revoked */
    uint64_t tls_ocsp_bad;       /* ... refused: a staple that does not verify or is out of date */
    uint64_t tls_handshake_failed; /* ... failed otherwise (the gateway refused us, not TLS) */
    uint64_t dc[STATS_DIALECT_COUNTERS]; /* the dialect's own counters (its counters[] names them) */
    struct ledger ledger;        /* frames this fleet sent that expect an answer */
    struct hist report_latency;  /* report due -> its acknowledgement, µs */
    struct hist ack_latency;     /* any request -> its answer, µs */
    struct hist online_latency;  /* start of connect -> authenticated, µs */
};

/* An expectation evaluated per terminal by the worker that owns it. */
struct expect_partial {
    uint64_t ok;       /* terminals that satisfy it */
    uint64_t total;    /* terminals it applies to */
    uint64_t worst_us; /* slowest time among those that satisfy it */
    uint64_t undecided;/* not satisfied, but their deadline had not come when the traffic
                          stopped (or they never started): neither pass nor fail */
};

enum worker_phase { WP_STARTING = 0, WP_RUNNING, WP_DRAINING, WP_DONE, WP_FAILED };

struct worker_slot {
    volatile int32_t phase;          /* enum worker_phase */
    int32_t pid;
    uint64_t terminals;              /* total terminals owned */
    uint64_t fd_limit;               /* descriptors it may use */
    uint64_t rss_kb;                 /* resident set, updated every second */
    uint64_t rss_base_kb;            /* resident set before the terminals existed */
    uint64_t rss_peak_kb;            /* largest rss_kb seen */
    uint64_t online_all_at_us;       /* virtual instant its last terminal was first authenticated
                                        (0: not all yet): exact whatever the time scale */
    uint64_t online_count;           /* terminals of it authenticated at least once */
    int32_t connect_errno;           /* the last connect failure's errno (0: none yet) */
    char error[256];                 /* why it failed, when it did */
    struct fleet_stats fleets[STATS_MAX_FLEETS];
    volatile uint32_t expect_gen;    /* odd while expect[] is being rewritten (a live evaluation) */
    struct expect_partial expect[STATS_MAX_EXPECT];
    struct live_ring events;         /* its latest events (live_events.h) */
};

/* Commands a front-end sent to one fleet, by command kind. */
struct cmd_stats {
    uint64_t sent;       /* frames sent to connected terminals */
    uint64_t answered;   /* with the expected reply and result 0 */
    uint64_t refused;    /* answered with a failure result */
    uint64_t timed_out;
    uint64_t offline;    /* addressed terminals that were not connected */
};

/* One process of a platform front-end (a gateway).  The neutral counters are
 * here by name; the front-end's own are in c[], named by its counter table. */
struct gw_slot {
    volatile int32_t phase;          /* enum worker_phase */
    int32_t pid;
    uint64_t rss_kb;
    char error[256];
    uint64_t connections;            /* gauge */
    uint64_t accepted;
    uint64_t closed_idle;            /* closed by the idle timeout */
    uint64_t closed_peer;            /* closed by the terminal */
    uint64_t frames_in, frames_out;
    uint64_t rejected;               /* frames rejected as malformed */
    uint64_t c[STATS_FE_COUNTERS];   /* the front-end's own counters */
    struct ledger ledger;            /* commands the front-end sent */
    struct cmd_stats cmd[STATS_MAX_FLEETS][STATS_CMD_KINDS];
    struct hist cmd_latency;         /* command sent -> reply, µs */
    struct live_ring events;         /* its latest events (live_events.h) */
};

/* The platform core (sim/platform/core): the store's writer. */
struct core_slot {
    volatile int32_t phase;          /* enum worker_phase */
    int32_t pid;
    uint64_t rss_kb;
    char error[256];
    uint64_t peers;                  /* front-end processes connected (gauge) */
    uint64_t msgs_in, records_in;    /* bus messages and the records in them */
    uint64_t msgs_out, records_out;
    uint64_t transactions;           /* write transactions (each holds a batch) */
    uint64_t registrations, reg_refused, auths, auth_refused;
    uint64_t reports, flushes;       /* flushes: transactions of reported values (slices) */
    uint64_t wal_max_kb;             /* the most the WAL held after a commit */
    uint64_t wal_restarts;           /* times the WAL started over from its beginning */
    uint64_t checkpoints, checkpoints_incomplete; /* by the checkpointing thread; frames left behind */
    uint64_t checkpoint_max_us;      /* the longest checkpoint (off the loop), wall clock */
    uint64_t online;                 /* devices online (gauge) */
    uint64_t tasks, commands, results;
    uint64_t bus_errors;             /* malformed bus messages (the error says the first) */
    /* push notifications (svc_push.h): every message queued ends delivered, expired or
       rejected, or is still pending; a dropped one was never queued */
    uint64_t push_queued;            /* messages queued (read back from the store at start too) */
    uint64_t push_sent;              /* requests made (first tries, retries, probes) */
    uint64_t push_retried;           /* of which retries and probes of a kept message */
    uint64_t push_failed;            /* tries not answered 200: none in 15 s, no connection, 501-504, rejected */
    uint64_t push_delivered, push_expired, push_rejected;
    uint64_t push_dropped;           /* not queued: the queue was full (PUSH_QUEUE_MAX) or the store failed */
    uint64_t push_pending;           /* queued and not final now (gauge) */
};

struct stats_shm {
    uint32_t n_workers, n_gateways;
    uint32_t live;                   /* set before the fork when the run has a live statistics socket:
                                        the workers evaluate their expectations every second */
    struct core_slot core;
    struct worker_slot workers[STATS_MAX_WORKERS];
    struct gw_slot gateways[STATS_MAX_GATEWAYS];
};

/* Map the region (zeroed) for n workers and g gateways; NULL with errno on failure. */
struct stats_shm *stats_map(void);
void stats_unmap(struct stats_shm *s);
/* Add every counter and histogram of src into dst. */
void stats_fleet_add(struct fleet_stats *dst, const struct fleet_stats *src);
/* Merge fleet f (or every fleet when f < 0) over the first n_workers workers. */
void stats_merge_fleets(const struct stats_shm *s, int n_workers, int n_fleets, int f, struct fleet_stats *out);
/* Sum one uint64_t counter of struct gw_slot (by offsetof) over the gateways. */
uint64_t stats_gw_sum(const struct stats_shm *s, int n_gw, size_t offset);
/* Resident set size of this process in kB (from /proc/self/statm). */
uint64_t stats_rss_kb(void);

#endif
