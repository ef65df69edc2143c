/* One connection's buffering over a transport, for both ends (the terminals of
 * sim/dev/fleet.c and the gateway's connections): the partial input kept while a
 * frame is incomplete, the output the transport would not take yet, and the
 * libev events that follow from them.  An idle connection holds no buffer: both
 * are allocated on need and freed when they empty, since a worker keeps 10,000+
 * of these.  The owner keeps the ev_io and the policy (what to count, when to
 * close); nothing here calls libev. */
#ifndef FLEETSIM_CONN_H
#define FLEETSIM_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/net/transport.h"

enum conn_rc {
    CONN_OK = 0,     /* delivered, sent or queued */
    CONN_AGAIN,      /* nothing to read now (conn_events says what to wait for) */
    CONN_CLOSED,     /* the transport closed (tp.err 0) or failed (tp.err an errno) */
    CONN_FULL,       /* over the input or output limit: a peer this far behind is broken */
    CONN_NOMEM,
    CONN_REJECTED,   /* the deliver callback gave up on the connection */
};

/* Bytes from the peer for the owner (a stream's partial input first).  Returns how
 * many it consumed, the rest being kept for the next read, or < 0 to give up.  It
 * may close the connection (conn_close): nothing is kept then. */
typedef long (*conn_deliver_fn)(void *arg, const uint8_t *buf, size_t n);

struct conn {
    struct tp_conn tp;
    uint8_t *in;              /* partial input; NULL when none */
    uint8_t *out;             /* queued output; NULL when none (datagrams: u32 length + bytes each) */
    uint32_t in_len;
    uint32_t out_len, out_cap;
    uint32_t in_max, out_max; /* limits of in_len and out_len */
    uint8_t want_write;       /* the last read asked to wait for writability */
};

/* A closed connection (fd -1) on tp with these limits; holds no memory. */
void conn_init(struct conn *c, const struct transport *tp, uint32_t in_max, uint32_t out_max);
/* Send now what the transport takes and queue the rest behind what is queued
 * (a datagram is queued whole).  CONN_OK; CONN_CLOSED (not open, or the write
 * failed); CONN_FULL / CONN_NOMEM: the bytes were dropped, and so should the
 * connection be. */
enum conn_rc conn_send(struct conn *c, const uint8_t *buf, size_t n);
/* Write queued output, in order, until the transport would block.  CONN_OK (the
 * rest stays queued) or CONN_CLOSED. */
enum conn_rc conn_flush(struct conn *c);
/* One read into buf: CONN_OK with *got > 0, CONN_AGAIN, CONN_CLOSED. */
enum conn_rc conn_recv(struct conn *c, uint8_t *buf, size_t cap, size_t *got);
/* Hand buf to fn as if just read: a datagram whole and alone; for a stream the
 * partial input first, keeping what fn does not consume.  CONN_OK, CONN_FULL (the
 * partial input would pass in_max; it is left as it was), CONN_NOMEM, CONN_REJECTED. */
enum conn_rc conn_input(struct conn *c, const uint8_t *buf, size_t n, conn_deliver_fn fn, void *arg);
/* Hand the kept partial input to fn again (an owner that stopped consuming
 * mid-buffer, e.g. while it waits for an answer from elsewhere, goes on).
 * CONN_OK (nothing kept is OK too) or CONN_REJECTED. */
enum conn_rc conn_redeliver(struct conn *c, conn_deliver_fn fn, void *arg);
/* conn_recv into scratch, then conn_input; *got is what was read. */
enum conn_rc conn_read(struct conn *c, uint8_t *scratch, size_t cap, conn_deliver_fn fn, void *arg,
                       size_t *got);
/* The libev events to watch: EV_READ, and EV_WRITE while output is queued or the
 * transport wants to write. */
int conn_events(const struct conn *c);
/* Close (abort: without a goodbye, the fault "cut") and free both buffers. */
void conn_close(struct conn *c, bool abort);

static inline bool conn_open(const struct conn *c) { return c->tp.fd >= 0; }
/* Bytes waiting to go out (datagrams: with their length words). */
static inline size_t conn_queued(const struct conn *c) { return c->out_len; }

#endif
