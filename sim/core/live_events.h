/* The latest events of a process, for the live statistics socket (docs/live.md):
 * errors, deviations and failed expectations, each with the frame involved.
 * Each worker and gateway process has a ring in the shared statistics region
 * (struct stats_shm); it alone writes it, the parent reads every ring once a
 * status interval and shows the newest.  A writer never waits: an entry being
 * overwritten while the parent reads it is skipped by the parent (its sequence
 * number changed under it).  A process records at most LIVE_EV_PER_SEC events a
 * second; the others are counted in `dropped`, so an error storm costs a
 * counter increment per error, not a copy. */
#ifndef FLEETSIM_LIVE_EVENTS_H
#define FLEETSIM_LIVE_EVENTS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define LIVE_EV_RING 32          /* events a process keeps */
#define LIVE_EV_PER_SEC 50       /* events a process records per (virtual) second */
#define LIVE_EV_FRAME 256        /* bytes of the frame kept */
#define LIVE_EV_TEXT 128
#define LIVE_EV_TERM 24

enum live_ev_kind {
    LEV_DECODE_ERROR = 0,        /* a frame from the platform the terminal's codec rejected */
    LEV_CONNECT_FAILED,          /* refused, timed out, unreachable */
    LEV_DISCONNECT,              /* the connection lost, not on purpose */
    LEV_TLS,                     /* a handshake refused */
    LEV_TIMEOUT,                 /* a request the platform did not answer in time */
    LEV_EXPECTATION,             /* a terminal failed a per-terminal expectation */
    LEV_REJECTED,                /* the platform rejected a frame as malformed */
    LEV_DEVIATION,               /* a frame that deviates from the standard, read anyway */
    LEV__COUNT,
};

struct live_event {
    volatile uint64_t seq;       /* 1, 2, ... as recorded; 0: empty or being written */
    uint64_t at_us;              /* virtual time (clock_now_us) */
    int16_t fleet;               /* the fleet's index in the run, -1 none */
    uint8_t kind;                /* enum live_ev_kind */
    uint8_t pad;
    uint16_t len;                /* bytes kept in frame[] */
    uint32_t frame_len;          /* the frame's whole length */
    char terminal[LIVE_EV_TERM]; /* device id, "" none */
    char text[LIVE_EV_TEXT];
    uint8_t frame[LIVE_EV_FRAME];
};

struct live_ring {
    volatile uint64_t head;      /* events recorded so far */
    uint64_t dropped;            /* events over the rate, not kept */
    uint64_t window_us;          /* the writer's rate window: its start */
    uint32_t in_window;
    uint32_t pad;
    struct live_event ev[LIVE_EV_RING];
};

const char *live_ev_kind_name(enum live_ev_kind k); /* "decode_error", ... */

/* Whether one more event may be recorded at now_us (the rate); when not, it is
 * counted as dropped.  Call before formatting anything. */
int live_ev_admit(struct live_ring *r, uint64_t now_us);
/* Record an admitted event; frame may be NULL. */
void live_ev_put(struct live_ring *r, uint64_t now_us, int fleet, enum live_ev_kind kind, const char *terminal,
                 const uint8_t *frame, size_t frame_len, const char *fmt, ...) __attribute__((format(printf, 8, 9)));
void live_ev_vput(struct live_ring *r, uint64_t now_us, int fleet, enum live_ev_kind kind, const char *terminal,
                  const uint8_t *frame, size_t frame_len, const char *fmt, va_list ap);

/* Copy the ring's events, oldest first, into out (cap of them, LIVE_EV_RING is
 * enough); entries overwritten while being read are left out.  Returns how many. */
int live_ev_read(const struct live_ring *r, struct live_event *out, int cap);

#endif
