/* A dialect is a protocol's terminal behaviour, plugged into the fleet engine.
 * The engine owns connections, states, the ledger, timers and faults; a dialect
 * says what a terminal sends and how it answers.  Adding a protocol adds one of
 * these (and its scenario half, harness/scenario_<name>.c) and a line in the
 * registration table: no file of the engine changes.
 *
 * A dialect keeps its per-terminal state in a block of state_size bytes that
 * the engine allocates beside the terminal (term_dstate()), so terminals of a
 * small dialect do not pay for a large one. */
#ifndef FLEETSIM_DIALECT_H
#define FLEETSIM_DIALECT_H

#include <stddef.h>
#include <stdint.h>

#include "sim/core/stats.h"
#include "sim/proto/kind.h"

struct term;

/* How a dialect's terminals reach the network. */
enum dialect_io {
    DIALECT_IO_SOCKET = 0,  /* a socket per terminal through the transport table: on a
                               stream (TCP) on_data gets what arrived and keeps partial
                               frames; on a datagram transport (UDP: its own source port)
                               it gets one datagram at a time */
    DIALECT_IO_LIBRARY,     /* a library owns the sockets (libcoap): the engine gives the
                               dialect the loop and the virtual clock and makes no socket */
};

struct dialect {
    const char *name;                 /* as in a fleet's "protocol" */
    enum dialect_io io;
    size_t state_size;                /* bytes of per-terminal state (zeroed at set-up) */
    /* Optional: release what the state points to (the block itself is the engine's). */
    void (*state_free)(struct term *t);

    /* Transport is up: start the dialect's handshake. */
    void (*on_connected)(struct term *t);
    /* Bytes arrived; return how many were consumed (whole frames), or -1 to drop
     * the connection.  Datagram dialects get one datagram and consume it whole. */
    long (*on_data)(struct term *t, const uint8_t *buf, size_t n);
    /* Periodic duties due at now; returns the next time it wants to run (0: none). */
    uint64_t (*on_tick)(struct term *t, uint64_t now_us);
    /* A request in flight got no answer in time (already counted as timed out). */
    void (*on_timeout)(struct term *t, uint16_t kind);
    /* The connection is gone; the requests still in flight are failed (connection
     * lost) right after this returns. */
    void (*on_disconnected)(struct term *t);
    /* Optional: say goodbye on purpose (JT/T 808: 0x0003).  NULL: the terminal step
     * "unregister" is refused for this dialect's fleets. */
    void (*unregister)(struct term *t);
    /* Optional: stop starting new traffic. */
    void (*drain)(struct term *t);
    /* Optional: the fault "corrupt": damage a request about to be sent so that the
     * platform must reject it (JT/T 808: a wrong check byte).  frame has room for
     * cap bytes; returns the new length.  NULL: the fault is refused. */
    size_t (*corrupt)(struct term *t, uint8_t *frame, size_t len, size_t cap);
    /* Optional: what the bytes say, for --trace: each whole frame in buf decoded
     * (JSON), written to out (cap bytes, NUL-terminated); returns the length. */
    size_t (*describe)(const uint8_t *buf, size_t n, char *out, size_t cap);

    /* Counters of its own, in fleet_stats.dc[] (names like "terminal.heartbeats"). */
    const struct stats_counter *counters;
    int n_counters;
    /* Requests the platform may send its terminals (command steps, reply expectations). */
    const struct proto_kind *cmds;
    int n_cmds;
};

/* Index of a request name in d->cmds, -1 when the dialect has no such request. */
int dialect_cmd_index(const struct dialect *d, const char *request);
/* The dialect counter of that name, or NULL. */
const struct stats_counter *dialect_counter(const struct dialect *d, const char *name);

#endif
