/* Fleets of virtual terminals inside one worker process.  This file is protocol
 * neutral: connecting, reading and writing through a transport, reconnecting with
 * backoff, state transitions and their first-reach times, the in-flight ledger and
 * its timeouts, and one timer-wheel node per terminal.  What a terminal says is
 * the business of its dialect's behaviour (struct term_proto), e.g. jt808_term.c. */
#ifndef FLEETSIM_FLEET_H
#define FLEETSIM_FLEET_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#include "harness/scenario.h"
#include "sim/core/stats.h"
#include "sim/core/transport.h"
#include "sim/core/wheel.h"
#include "sim/dev/term_state.h"
#include "sim/dev/jt808_term.h"

#define TERM_MAX_PEND 8        /* requests in flight per terminal */
#define TERM_MAX_RBUF 8192     /* a partial frame larger than this is a broken peer */

struct term;
struct worker;

/* A dialect's behaviour.  Every hook runs on the worker's loop. */
struct term_proto {
    const char *name;
    /* Transport is up: start the dialect's handshake. */
    void (*on_connected)(struct term *t);
    /* Bytes arrived; return how many were consumed (whole frames), or -1 to drop
     * the connection. */
    long (*on_data)(struct term *t, const uint8_t *buf, size_t n);
    /* Periodic duties due at now; returns the next time it wants to run (0: none). */
    uint64_t (*on_tick)(struct term *t, uint64_t now_us);
    /* A request in flight got no answer in time (already counted as timed out). */
    void (*on_timeout)(struct term *t, uint16_t msg_id);
    /* The connection is gone; the requests still in t->pend[] are failed (connection
     * lost) right after this returns. */
    void (*on_disconnected)(struct term *t);
    /* Say goodbye on purpose (JT/T 808: 0x0003). */
    void (*unregister)(struct term *t);
    /* Stop starting new traffic. */
    void (*drain)(struct term *t);
};

struct term_pend {
    uint64_t sent_us;
    uint16_t serial;
    uint16_t msg_id;
};

struct term {
    struct wheel_node timer;          /* one wake-up per terminal */
    struct tp_conn conn;
    ev_io io;
    struct fleet_rt *fleet;
    uint32_t index;                   /* index within the fleet (all workers) */
    uint8_t state;                    /* enum term_state */
    uint8_t attempt;                  /* reconnect attempts since the last success */
    uint8_t npend;
    uint8_t order_seq;                /* states reached so far, for order[] */
    uint8_t order[TS__COUNT];         /* sequence number of each state's first reach (0 never) */
    uint8_t stay_away : 1, started : 1;
    uint8_t corrupt_next : 1;         /* fault: send the next request with a wrong check */
    uint16_t serial;                  /* next frame serial */
    uint32_t first_reach_ms[TS__COUNT]; /* virtual ms after start (+1; 0 = never) */
    uint64_t start_us;                /* when it started (ramp) */
    uint64_t conn_start_us;           /* when the current connect began */
    uint64_t wake_proto_us;           /* next time on_tick wants to run */
    uint64_t reconnect_at_us;         /* when disconnected: when to try again */
    uint8_t *rbuf;                    /* partial frame left from the last read */
    uint32_t rlen;
    uint8_t *wbuf;                    /* bytes the socket would not take yet */
    uint32_t wlen, wcap;
    struct term_pend pend[TERM_MAX_PEND];
    union {
        struct jt808_tstate jt;
    } p;
};

struct fleet_rt {
    struct worker *w;
    const struct sc_fleet *spec;
    int index;                        /* in the scenario */
    const struct term_proto *proto;
    struct fleet_stats *st;           /* this worker's slot for the fleet */
    uint32_t n;                       /* terminals of this fleet in this worker */
    struct term *terms;
    uint64_t phone_base;              /* numeric value of the first phone */
    int phone_digits;
    uint32_t src_offset;              /* number of the fleet's first terminal in the scenario
                                         (source-address spread, terminal ids, plates) */
};

struct worker {
    struct ev_loop *loop;
    struct wheel wheel;
    ev_timer tick;
    ev_io ctl_io;
    int ctl_fd;
    int id, n_workers;
    const struct scenario *sc;
    struct worker_slot *slot;
    struct sockaddr_storage target;
    bool spread;                      /* bind sources over 127.0.0.0/8 */
    bool draining;
    uint64_t drain_deadline_us;
    uint64_t inflight;                /* requests in flight over all terminals */
    uint32_t rng;
    int n_fleets;
    struct fleet_rt fleets[STATS_MAX_FLEETS];
    uint8_t rscratch[65536];
};

/* Build the worker's share of every fleet; 0 or -1 with a message. */
int worker_setup(struct worker *w, const struct scenario *sc, int id, int n_workers,
                 const struct sockaddr_storage *target, struct worker_slot *slot, int ctl_fd,
                 char *err, size_t errcap);
/* Run the loop until CTL_STOP. */
int worker_run(struct worker *w);
void worker_free(struct worker *w);

/* --- for dialect behaviours -------------------------------------------------- */

void term_set_state(struct term *t, enum term_state s);
/* Queue bytes for the peer; false when the connection had to be dropped. */
bool term_send(struct term *t, const uint8_t *buf, size_t n);
/* Is there room for another request in flight? */
static inline bool term_can_request(const struct term *t) { return t->npend < TERM_MAX_PEND; }
/* Count a request as in flight (ledger: sent). */
void term_expect(struct term *t, uint16_t serial, uint16_t msg_id);
/* The same, for a request that was due at intended_us: its latency is measured
 * from then, so a worker that falls behind its schedule shows up in the figures
 * instead of hiding (coordinated omission). */
void term_expect_at(struct term *t, uint16_t serial, uint16_t msg_id, uint64_t intended_us);
/* Settle the request with this serial: acked when ok, else failed with why.  Returns
 * its msg_id (0 when no such request was in flight) and its send time in *sent_us. */
uint16_t term_settle(struct term *t, uint16_t serial, bool ok, enum ledger_why why, uint64_t *sent_us);
/* Drop the connection and come back after the reconnect backoff (or after
 * down_us when > 0).  stay_away: do not come back at all. */
void term_drop(struct term *t, uint64_t down_us, bool stay_away);
/* Ask for on_tick at (or before) at_us. */
void term_wake_at(struct term *t, uint64_t at_us);
uint16_t term_next_serial(struct term *t);
/* The terminal's phone number as digits (12 for 2011/2013, 20 for 2019 when asked). */
void term_phone(const struct term *t, char *out, size_t cap);
uint32_t term_rand(struct term *t);
static inline uint64_t term_now(void);

#include "sim/core/clock.h"
static inline uint64_t term_now(void) { return clock_now_us(); }

#endif
