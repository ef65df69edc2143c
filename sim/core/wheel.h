/* A hashed timer wheel in virtual time.  Thousands of terminals each have one node
 * (their next wake-up); one libev timer drives the wheel instead of one libev timer
 * per terminal.  Scheduling and cancelling are O(1); a tick visits only the slots
 * that came due.  Resolution is one slot (width_us of virtual time). */
#ifndef FLEETSIM_WHEEL_H
#define FLEETSIM_WHEEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WHEEL_SLOTS 4096

struct wheel_node {
    struct wheel_node *next, *prev;   /* NULL prev when not scheduled */
    uint64_t at_us;                   /* virtual deadline */
};

typedef void (*wheel_fn)(struct wheel_node *n, void *arg);

struct wheel {
    struct wheel_node slots[WHEEL_SLOTS]; /* list heads */
    uint64_t width_us;                /* virtual µs per slot */
    uint64_t cursor;                  /* absolute slot index processed up to (exclusive) */
    size_t scheduled;                 /* nodes in the wheel */
    int advancing;                    /* inside wheel_advance */
    uint64_t adv_end;                 /* the last slot this advance processes */
    wheel_fn fire;
    void *arg;
};

void wheel_init(struct wheel *w, uint64_t width_us, uint64_t now_us, wheel_fn fire, void *arg);
/* (Re)schedule n at at_us; a deadline in the past fires on the next advance. */
void wheel_schedule(struct wheel *w, struct wheel_node *n, uint64_t at_us);
void wheel_cancel(struct wheel *w, struct wheel_node *n);
static inline bool wheel_pending(const struct wheel_node *n) { return n->prev != NULL; }
/* Fire every node due at or before now_us; returns how many fired.  A callback
 * may schedule or cancel any node, including the one firing. */
size_t wheel_advance(struct wheel *w, uint64_t now_us);

#endif
