/* The exchange interpreter's parts (conform_exchange.c: the steps; conform_wire.c:
 * the connections, their TLS, frames sent and read): a case's state and the
 * helpers both use.  Not for use outside the interpreter. */
#ifndef FLEETSIM_CONFORM_EXCHANGE_H
#define FLEETSIM_CONFORM_EXCHANGE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <openssl/ssl.h>

#include "harness/cb_recv.h"
#include "harness/conform.h"
#include "sim/proto/jt808.h"

#define RX_CAP (2 * JT808_MAX_FRAME)   /* bytes buffered per connection: a frame and the next's start */
#define LOG_MAX (256 * 1024)           /* wire log bytes of one case */
#define VALUE_MAX 256                  /* a bound value's text */
#define CONNECT_MS 3000

struct conn {
    int fd;                            /* -1 closed */
    SSL *ssl;                          /* tls:// targets, else NULL */
    bool used;                         /* opened once */
    bool refused;                      /* its TLS handshake refused by the target (connect "certificate"):
                                        * an expect_close that follows holds */
    uint8_t rx[RX_CAP];
    size_t n;
    uint16_t serial;                   /* the next serial a message without one takes */
    uint16_t last_serial;              /* the serial of the last message sent: ${serial} */
    uint16_t rx_serial;                /* the serial of the last expected message: ${rx_serial} */
    cJSON *last;                       /* the last expected message, decoded: bind reads it */
    struct jt808_reasm *reasm;         /* the target's subpackaged messages being put together (NULL: none
                                        * yet); the frame that completes one carries it decoded as "whole" */
};

struct exch {
    const struct conform_suite *s;
    const struct conform_case *c;
    const struct conform_target *t;
    struct case_result *out;
    struct conn conns[CONFORM_MAX_CONNS];
    uint64_t t0_us;
    char phone[24];
    char version[8];                   /* --terminal: the device's header edition, from its first frame */
    bool learned;                      /* --terminal: phone and version are the device's */
    int cur;                           /* the connection of the step being run */
    int n_vals;
    char names[CONFORM_MAX_BINDS][CONFORM_NAME_MAX];
    char vals[CONFORM_MAX_BINDS][VALUE_MAX];
    struct api_client *api;            /* the case's API client (its token), made by its first api step */
    char *log;                         /* the wire log, grows to LOG_MAX */
    size_t log_n, log_cap;
    bool log_full;
    struct cb_recv *recv;              /* the case's callback receiver (NULL: it has none) */
    size_t pushes_seen;                /* the pushes it received that a step has looked at */
};

static inline uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}


/* A line of the case's wire log (cut at LOG_MAX). */
void exch_log(struct exch *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Seconds since the case began. */
double exch_since(const struct exch *x);
/* The verdict gets worse (never better); the first expected/observed of the worst stays.  false. */
bool exch_worsen(struct exch *x, enum verdict v, const struct conform_step *st, const char *expected,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* tpl with every ${name} filled; -1 with why when a name has no value (yet) or out overflows. */
int exch_subst(struct exch *x, const char *tpl, char *out, size_t cap, char *why, size_t whycap);
/* Name bound to val (a new name, or a new value for it); false with the verdict set. */
bool exch_bind(struct exch *x, const struct conform_step *st, const char *name, const char *val);

/* conform_api.c: an api step (CSTEP_API); false with the verdict set. */
bool conform_api_step(struct exch *x, const struct conform_step *st);
/* Whether the JSON j holds every field of fields ({PATH: VALUE}, an array value "one
 * of"; values substituted and compared as text); when not, the first that differs in
 * diff, and *harness when a value could not be made (a ${name} without a value). */
bool exch_fields_match(struct exch *x, const cJSON *fields, const cJSON *j, char *diff, size_t cap, bool *harness);

/* conform_push.c: the case's callback receiver. */
/* Started when the case has none yet (once per case; st names the step in an error):
 * false with the verdict ERROR when it cannot listen. */
bool exch_push_start(struct exch *x, const struct conform_step *st);
/* expect_push, expect_no_push, receiver_plan. */
bool exch_push_step(struct exch *x, const struct conform_step *st);
/* The pushes no step looked at logged, the receiver stopped (nothing without one). */
void exch_push_end(struct exch *x);

/* conform_wire.c */
/* Closed (its TLS too), ready to be opened again. */
void exch_conn_close(struct conn *k);
/* Connection i open: connected to the target (and its TLS handshake), or with
 * --terminal the next device accepted; false with the verdict set. */
bool exch_conn_open(struct exch *x, const struct conform_step *st, int i);
/* A frame in the wire log: its hex, its JSON (j, NULL: none) or a note. */
void exch_log_frame(struct exch *x, int conn, const char *dir, const uint8_t *f, size_t n, const cJSON *j,
                    const char *note);
/* The frame written on the step's connection; false with the verdict set. */
bool exch_send_bytes(struct exch *x, const struct conform_step *st, const uint8_t *f, size_t n);
/* The next frame of the connection into f, waiting until deadline (monotonic us):
 * 1 a frame, 0 the deadline passed, -1 the peer closed, -2 failed (verdict set). */
int exch_next_frame(struct exch *x, const struct conform_step *st, int ci, uint64_t deadline, uint8_t *f,
                    size_t *flen);

#endif
