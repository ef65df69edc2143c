/* The callback receiver: an application server's push endpoint, for scenarios and
 * conformance cases that check how a platform pushes (004 §5).  An HTTP (or HTTPS)
 * server on libmicrohttpd, on a thread of its own, that records every request it
 * gets (method, path, the body as JSON when it is, the time it came) and answers
 * each by a plan: a status and a delay per request, in turn ("503x3,200": three 503s,
 * then 200 from then on; "200@20s": 200 after 20 s, past the platform's 15 s
 * timeout), so that the delivery rules can be checked.  `fleetsim receiver` is its
 * command line; the conformance runner starts one in-process for each case that uses
 * one (harness/conform_push.c).
 *
 * Thread-safe: the owner reads what arrived (cb_recv_count, cb_recv_get, cb_recv_wait)
 * while the server's thread records it. */
#ifndef FLEETSIM_CB_RECV_H
#define FLEETSIM_CB_RECV_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CB_RECV_BODY_MAX (1024 * 1024)  /* a longer body is answered 413 and recorded as such */
#define CB_RECV_PLAN_MAX 32             /* entries of a plan */
#define CB_RECV_DELAY_MAX_MS 600000     /* the longest delay of an entry: 10 min */
#define CB_RECV_COUNT_MAX 1000000       /* the largest xCOUNT */
#define CB_RECV_KEEP_MAX 65536          /* requests kept for cb_recv_get; later ones are counted,
                                         * logged and answered, not kept */

struct cb_recv_opts {
    const char *bind;            /* IPv4 or IPv6 literal; default 127.0.0.1 */
    uint16_t port;               /* 0: any free one (cb_recv_port says) */
    const char *tls_cert_pem;    /* PEM text: HTTPS (NULL: HTTP) */
    const char *tls_key_pem;
    const char *plan;            /* "STATUS[@DELAY][xCOUNT],..." (NULL or "": 200 at once) */
    const char *log_path;        /* every request as a JSON line, appended (NULL: none) */
    /* called with each request's JSON line as it arrives, on the server's thread, in order */
    void (*on_line)(void *arg, const char *line);
    void *arg;
};

/* One request as it arrived. */
struct cb_recv_item {
    uint64_t seq;                /* 1, 2, ... in arrival order */
    int64_t at_ms;               /* wall clock, unix ms */
    char method[8];
    char path[256];              /* with the query, "?k=v&..." (decoded) */
    char content_type[64];       /* its Content-Type header ("" without) */
    cJSON *body;                 /* parsed JSON (NULL when the body is not JSON) */
    char *raw;                   /* the body as sent, NUL-terminated ("" when over CB_RECV_BODY_MAX) */
    size_t raw_len;              /* its bytes (the length sent when over CB_RECV_BODY_MAX) */
    int planned;                 /* the answer the plan gave it: a status, 0 "drop" */
    uint32_t delay_ms;           /* ... after this long */
    int answered;                /* the status it was answered with (0: none yet, dropped, or the
                                  * client left or the receiver stopped before a delayed answer) */
};

struct cb_recv;

/* Parse a plan: 0, or -1 with err naming the entry ("plan entry 2 '5O3': not a status").
 * An entry is STATUS (100-599) or "drop" (close without an answer), then @DELAY (a
 * duration with its unit, at most 10 min) and xCOUNT (1-1000000), both optional;
 * entries are taken in turn, the last one from then on. */
int cb_recv_plan_check(const char *plan, char *err, size_t errcap);
/* Listen and serve: NULL with err (the address, the plan, the key). */
struct cb_recv *cb_recv_start(const struct cb_recv_opts *o, char *err, size_t errcap);
uint16_t cb_recv_port(const struct cb_recv *r);
/* "http://127.0.0.1:PORT" (or https), for a subscription's callbackUrl. */
const char *cb_recv_url(const struct cb_recv *r);
/* Replace the plan from the next request on: 0 or -1 with err. */
int cb_recv_set_plan(struct cb_recv *r, const char *plan, char *err, size_t errcap);
/* Requests recorded so far. */
size_t cb_recv_count(struct cb_recv *r);
/* A copy of request i (0-based; the caller frees it with cb_recv_item_free): false past the end. */
bool cb_recv_get(struct cb_recv *r, size_t i, struct cb_recv_item *out);
void cb_recv_item_free(struct cb_recv_item *it);
/* Wait (at most timeout_ms, wall clock) until more than `have` requests are recorded:
 * the count then. */
size_t cb_recv_wait(struct cb_recv *r, size_t have, int timeout_ms);
/* "12 requests: 200 x9, 503 x3" (then ", dropped xN", ", unanswered xN" when some). */
void cb_recv_summary(struct cb_recv *r, char *out, size_t cap);
/* Pending delayed answers are cut (the connections closed), the server stopped, all freed. */
void cb_recv_stop(struct cb_recv *r);

#endif
