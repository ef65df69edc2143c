/* Fleets of virtual terminals inside one worker process.  This file is protocol
 * neutral: connecting, reading and writing through a transport, reconnecting with
 * backoff, state transitions and their first-reach times, the in-flight ledger and
 * its timeouts, faults, and one timer-wheel node per terminal.  What a terminal
 * says is the business of its dialect (struct dialect, e.g. the JT/T 808 terminal). */
#ifndef FLEETSIM_FLEET_H
#define FLEETSIM_FLEET_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#include "sim/core/clock.h"
#include "sim/core/stats.h"
#include "sim/core/wheel.h"
#include "sim/dev/dialect.h"
#include "sim/dev/trace.h"
#include "sim/dev/fleet_spec.h"
#include "sim/dev/term_state.h"
#include "sim/net/conn.h"
#include "sim/net/transport.h"

#define TERM_MAX_PEND 8        /* requests in flight per terminal */
#define TERM_MAX_RBUF 8192     /* a partial frame larger than this is a broken peer */
#define TERM_MAX_WBUF (256 * 1024) /* so is one this far behind in reading */
#define TERM_MAX_SEQ 8         /* states in a transitions predicate */

struct worker;
struct ctl_msg;

/* A per-terminal check the worker evaluates for the harness (compiled from the
 * scenario's expectations; the engine knows no scenario). */
enum term_pred_kind {
    TERM_PRED_REACHED = 0,     /* reached state within within_us of its start */
    TERM_PRED_AT_END,          /* is in state when the run ends */
    TERM_PRED_SEQUENCE,        /* entered the states of seq[] in this order (any entry counts) */
};

struct term_pred {
    enum term_pred_kind kind;
    int slot;                  /* index in worker_slot.expect[] */
    const char *id;            /* the expectation's id, for its events (NULL: none) */
    uint32_t fleets;           /* bit f set: applies to fleet f */
    uint8_t state;             /* REACHED, AT_END */
    uint64_t within_us;        /* REACHED: 0 = by the end */
    uint8_t n_seq;
    uint8_t seq[TERM_MAX_SEQ];
};

/* What a worker is given: the fleets, where each goes, and what to check. */
struct worker_plan {
    const struct fleet_spec *fleets;
    int n_fleets;
    const struct sockaddr_storage *targets; /* one per fleet */
    const struct term_pred *preds;
    int n_preds;
    uint32_t seed;             /* random seed of the run */
    const struct transport *transport; /* NULL: by each fleet's name; tests give a memory one */
    uint32_t shard, shards;    /* --shard K/N: this run has shard K-1 of N of every fleet
                                  (fleet_shard_size); shards 0 or 1: the whole fleet */
    struct trace_opts trace;   /* --trace / --pcap (all NULL: none) */
    bool live;                 /* the run is watched live: expectations evaluated every second */
};

struct term_pend {
    uint64_t sent_us;
    uint32_t serial;
    uint16_t kind;             /* the dialect's request kind (JT/T 808: the message id) */
};

struct term {
    struct wheel_node timer;          /* one wake-up per terminal */
    struct conn conn;                 /* transport, partial input, queued output */
    ev_io io;
    struct fleet_rt *fleet;
    uint32_t index;                   /* index within the fleet (all workers) */
    uint8_t state;                    /* enum term_state */
    uint8_t attempt;                  /* reconnect attempts since the last success */
    uint8_t npend;
    uint8_t stay_away : 1, started : 1;
    uint8_t corrupt_next : 1;         /* fault: the next request goes through the dialect's corrupt() */
    uint8_t request_armed : 1;        /* the next term_send carries the request just expected */
    uint8_t traced : 1;               /* --trace names it */
    uint8_t watched : 1;              /* inspected: its frames go to a watch ring (fleet_watch.c) */
    uint8_t stopping : 1;             /* resized out: closes once its requests are settled */
    uint8_t resized_out : 1;          /* resized out and closed: idle until resized in again */
    uint8_t expect_told : 1;          /* a live evaluation recorded its failed expectation (an event) */
    uint16_t serial;                  /* next frame serial */
    uint32_t first_reach_ms[TS__COUNT]; /* virtual ms after start (+1; 0 = never) */
    uint64_t start_us;                /* when it started (ramp) */
    uint64_t conn_start_us;           /* when the current connect began */
    uint64_t wake_proto_us;           /* next time on_tick wants to run */
    uint64_t reconnect_at_us;         /* when disconnected: when to try again */
    struct term_pend pend[TERM_MAX_PEND];
};

struct fleet_rt {
    struct worker *w;
    const struct fleet_spec *spec;
    const struct dialect *d;
    const struct transport *tp;
    const struct transport *own_tp;   /* made for this fleet (TLS: its certificates); freed with it */
    int index;                        /* in the scenario */
    struct fleet_stats *st;           /* this worker's slot for the fleet */
    uint32_t n;                       /* terminals of this fleet in this worker */
    struct term *terms;
    struct trace_conn *tc;            /* per terminal, while --trace or --pcap is on (else NULL) */
    uint8_t *dstate;                  /* n blocks of d->state_size */
    const struct sockaddr_storage *target;
    bool spread;                      /* bind sources over 127.0.0.0/8 */
    /* device ids: prefix + (base + index) in at least `digits` digits */
    char ident_prefix[FLEET_IDENT_LEN];
    uint64_t ident_base;
    int ident_digits;
    bool ident_numbered;
    /* SEQUENCE predicates that apply to this fleet, and each terminal's progress */
    int n_seq;
    const struct term_pred *seq[STATS_MAX_EXPECT];
    uint8_t *seq_progress;            /* n * n_seq: states of each sequence matched so far */
    /* TLS: terminals waiting for one of the fleet's hs_max handshake slots in
     * this worker (a FIFO of indices into terms; NULL for other transports) */
    uint32_t *hs_wait;
    uint32_t hs_head, hs_len, hs_max;
    int tls_last;                     /* enum tls_client_event: how its last handshake ended */
    bool paused;                      /* CTL_PAUSE: no new traffic (reports, periodic messages) */
    uint32_t active;                  /* terminals of index < active run (CTL_RESIZE); the rest idle */
};

/* Frames of an inspected terminal: the last WATCH_FRAMES both ways, each cut
 * at WATCH_BYTES.  A worker watches at most WATCH_MAX terminals; the one watched
 * longest makes room for a new one. */
#define WATCH_MAX 8
#define WATCH_FRAMES 20
#define WATCH_BYTES 512
struct watch_frame {
    uint64_t at_us;                   /* virtual time it went or came */
    uint32_t len;                     /* its full length (more than WATCH_BYTES: cut) */
    bool out;                         /* terminal -> platform */
    uint8_t b[WATCH_BYTES];
};
struct watch {
    struct term *t;                   /* NULL: free */
    uint64_t since_us;
    uint32_t head, n;                 /* ring: n frames, the oldest at head */
    struct watch_frame f[WATCH_FRAMES];
};

struct worker {
    struct ev_loop *loop;
    struct wheel wheel;
    ev_timer tick;
    ev_io ctl_io;
    int ctl_fd;
    int id, n_workers;
    struct worker_plan plan;
    struct worker_slot *slot;
    bool draining;
    uint64_t drain_deadline_us;
    uint64_t stopped_us;              /* virtual instant the drain began: deadlines after it never came */
    uint64_t inflight;                /* requests in flight over all terminals */
    uint32_t rng;
    int n_fleets;
    struct fleet_rt fleets[STATS_MAX_FLEETS];
    struct trace trace;
    uint64_t start_us;                /* virtual time of CTL_START */
    struct watch *watch[WATCH_MAX];   /* allocated on the first inspect */
    struct live_eval {                /* plan.live: the predicates' pass in progress */
        bool running;
        int f;                        /* where it is: fleet, terminal */
        uint32_t k;
        uint64_t stop_us;             /* the instant its deadlines are judged at */
        uint64_t next_mono_us;        /* the next pass (real time) */
        struct expect_partial acc[STATS_MAX_EXPECT];
    } live_eval;
    uint8_t rscratch[65536];
    uint8_t wscratch[65536];          /* a request being corrupted */
};

/* Build the worker's share of every fleet; 0 or -1 with a message. */
int worker_setup(struct worker *w, const struct worker_plan *plan, int id, int n_workers,
                 struct worker_slot *slot, int ctl_fd, char *err, size_t errcap);
/* Run the loop until CTL_STOP. */
int worker_run(struct worker *w);
/* What the loop does, for stepping a worker without one (tests of dialect logic
 * on a frozen clock): start the ramp (CTL_START), fire what is due at the clock's
 * now and finish a drain that is done (one tick), handle a control message. */
void worker_start(struct worker *w);
void worker_poll(struct worker *w);
void worker_control(struct worker *w, const struct ctl_msg *m);
void worker_free(struct worker *w);
/* CTL_INSPECT: what the worker knows of the terminal (m->fleet, index m->kind),
 * and its frames since it is watched (it is watched from now on), as a JSON
 * object sent back in a CTL_INSPECTED (fleet_watch.c). */
void worker_inspect(struct worker *w, const struct ctl_msg *m);
/* A frame of a watched terminal, into its ring. */
void watch_record(struct term *t, bool out, const uint8_t *buf, size_t n);
void watch_forget(struct worker *w);
/* Parse a device-id pattern ("13800000000+", "dev-0001+", "X"): 0, or -1 when the
 * numbered part does not fit 64 bits. */
int fleet_ident_parse(const char *pattern, char *prefix, size_t cap, uint64_t *base, int *digits,
                      bool *numbered);
/* A terminal's identity from a parsed pattern: the prefix, then (numbered) n
 * zero-padded to digits; truncated to cap - 1 bytes like snprintf. */
void fleet_ident_format(const char *prefix, bool numbered, int digits, uint64_t n, char *out, size_t cap);

/* --- for dialects -------------------------------------------------------------- */

/* The dialect's per-terminal state block. */
static inline void *term_dstate(const struct term *t)
{
    const struct fleet_rt *fr = t->fleet;
    return fr->dstate + (size_t)(t - fr->terms) * fr->d->state_size;
}
/* The dialect's own settings for this terminal's fleet. */
static inline const void *term_cfg(const struct term *t) { return t->fleet->spec->cfg; }
/* Bump the dialect counter in slot i of this terminal's fleet. */
static inline void term_count(struct term *t, int i, uint64_t by) { t->fleet->st->dc[i] += by; }

void term_set_state(struct term *t, enum term_state s);
/* Bytes from the peer, as if read from the terminal's transport. */
void term_input(struct term *t, const uint8_t *buf, size_t n);
/* Queue bytes for the peer; false when the connection had to be dropped. */
bool term_send(struct term *t, const uint8_t *buf, size_t n);
/* Is there room for another request in flight? */
static inline bool term_can_request(const struct term *t) { return t->npend < TERM_MAX_PEND; }
/* Count a request as in flight (ledger: sent); the next term_send carries it. */
void term_expect(struct term *t, uint32_t serial, uint16_t kind);
/* The same, for a request that was due at intended_us: its latency is measured
 * from then, so a worker that falls behind its schedule shows up in the figures
 * instead of hiding (coordinated omission). */
void term_expect_at(struct term *t, uint32_t serial, uint16_t kind, uint64_t intended_us);
/* Settle the request with this serial: acked when ok, else failed with why.  Returns
 * true when one was in flight, with its kind and send time. */
bool term_settle(struct term *t, uint32_t serial, bool ok, enum ledger_why why, uint16_t *kind,
                 uint64_t *sent_us);
/* Drop the connection and come back after the reconnect backoff (or after
 * down_us when > 0).  stay_away: do not come back at all. */
void term_drop(struct term *t, uint64_t down_us, bool stay_away);
/* An event of t for the live statistics (sim/core/live_events.h): the frame
 * involved (may be NULL) and what happened; at most LIVE_EV_PER_SEC a second per
 * worker, the rest only counted. */
void term_event(struct term *t, enum live_ev_kind kind, const uint8_t *frame, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Ask for on_tick at (or before) at_us. */
void term_wake_at(struct term *t, uint64_t at_us);
uint16_t term_next_serial(struct term *t);
/* The terminal's device id (the fleet's ident pattern numbered for it). */
void term_ident(const struct term *t, char *out, size_t cap);
/* The terminal's number across the scenario (fleets before it, then its index). */
static inline uint32_t term_gindex(const struct term *t) { return t->fleet->spec->first + t->index; }
uint32_t term_rand(struct term *t);
static inline uint64_t term_now(void) { return clock_now_us(); }
/* Is the worker draining (no new traffic)? */
static inline bool term_draining(const struct term *t) { return t->fleet->w->draining; }
/* Is the terminal's fleet paused (CTL_PAUSE)?  Its terminals send no new traffic
 * of their own (reports, periodic messages) but keep their connections up with
 * heartbeats and answer the platform. */
static inline bool term_paused(const struct term *t) { return t->fleet->paused || t->stopping; }
/* The timer wheel's resolution: lateness within it is not a stall. */
static inline uint64_t term_tick_us(const struct term *t) { return t->fleet->w->wheel.width_us; }
/* The next instant of a schedule every period_us that was due at due_us, once it has
 * been served at now_us: one period on, or, after a stall longer than a period, the
 * first instant of the same schedule after now (the missed ones are skipped, not sent
 * in a burst).  Restarting the period from now instead would put every terminal a
 * stall held up on one instant, and their traffic would come in clumps from then on. */
static inline uint64_t term_next_due(uint64_t due_us, uint64_t period_us, uint64_t now_us)
{
    uint64_t next = due_us + period_us;
    if (next <= now_us && period_us)
        next = due_us + period_us * ((now_us - due_us) / period_us + 1);
    return next;
}

#endif
