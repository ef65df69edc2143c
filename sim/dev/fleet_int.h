/* What the two halves of the fleet engine share: fleet.c (a terminal's life:
 * connections, states, the ledger, timers) and fleet_worker.c (the worker:
 * set-up, control messages, predicates, the drain).  Not for dialects. */
#ifndef FLEETSIM_FLEET_INT_H
#define FLEETSIM_FLEET_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/core/wheel.h"
#include "sim/dev/fleet.h"
#include "sim/net/tls.h"

/* The wheel's callback: whatever a terminal has due (start, connect, timeouts, ticks). */
void term_fire(struct wheel_node *n, void *arg);
/* Close a terminal's connection (abort: a reset), its trace told. */
void term_close(struct term *t, bool abort);
/* The connection is gone: requests in flight failed, a reconnect planned after
 * down_us (0: the backoff), or none when stay_away or draining. */
void term_drop_ex(struct term *t, uint64_t down_us, bool stay_away, bool abort);
/* Forget request i of t's in flight. */
void pend_remove(struct term *t, int i);
/* CTL_RESIZE: the fleet's active terminals become those of index < n. */
void fleet_resize(struct fleet_rt *fr, uint32_t n);
/* This terminal's trace state, when its traffic is traced or captured. */
struct trace_conn *term_traced(struct term *t);
/* How a terminal's TLS handshake ended (arg: its fleet_rt). */
void tls_client_cb(void *arg, enum tls_client_event ev);

#endif
