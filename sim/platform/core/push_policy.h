/* Pushing notifications to application servers by 004 §5's rules:
 *   - a 200 answer: delivered;
 *   - no answer within 15 s, or 501, 502, 503, 504: failed; the message is kept 10
 *     minutes from its first failure and retried, the failed ones of all servers in
 *     turn (round-robin); one not delivered by then is dropped (EXPIRED);
 *   - once retries to a URL have failed 10 times within that window, the URL is
 *     marked invalid: its messages stop being retried one by one and the URL is
 *     probed instead (one kept message, the oldest, each probe interval); a probe
 *     that is delivered makes it valid again, and its messages go again.
 * What the seed leaves open is decided here and documented in docs/api.md: any other
 * answer (4xx, 500, 505..) is REJECTED at once, not retried; retries of a message
 * are PUSH_RETRY_MS apart; probes PUSH_PROBE_MS apart.
 *
 * Pure: the owner keeps the URLs and the messages, sends what push_due names, and
 * reports each answer (push_answered); times are virtual ms. */
#ifndef FLEETSIM_PUSH_POLICY_H
#define FLEETSIM_PUSH_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PUSH_TIMEOUT_MS 15000               /* no answer by then: failed */
#define PUSH_KEEP_MS (10ll * 60 * 1000)     /* a failed message is kept this long */
#define PUSH_INVALID_AFTER 10               /* failed retries within the window */
#define PUSH_RETRY_MS 30000                 /* between two tries of one message */
#define PUSH_PROBE_MS 60000                 /* between two probes of an invalid URL */

enum push_state {
    PS_NEW = 0,        /* not sent yet */
    PS_SENT,           /* waiting for the answer */
    PS_KEPT,           /* failed, kept for a retry */
    PS_DELIVERED,      /* final */
    PS_EXPIRED,        /* final: not delivered within PUSH_KEEP_MS of its first failure */
    PS_REJECTED,       /* final: an answer that is neither 200 nor a retryable failure */
    PS__COUNT
};

struct push_url {
    bool invalid;
    uint32_t failures;          /* retries failed since window_ms */
    int64_t window_ms;          /* the first of them (0: none) */
    int64_t next_probe_ms;      /* invalid: when to probe */
    uint64_t delivered, failed; /* counts, for the status of the URL */
};

struct push_msg {
    int url;                    /* index in the owner's URLs */
    enum push_state state;
    bool probe;                 /* this sending is the URL's probe */
    uint32_t tries;
    int64_t first_fail_ms;      /* kept until first_fail_ms + PUSH_KEEP_MS */
    int64_t next_try_ms;
    int64_t sent_ms;
    int last_status;            /* the last answer's HTTP status, 0 none (timed out) */
};

const char *push_state_name(enum push_state s);
bool push_state_final(enum push_state s);
/* Is status (0: no answer within PUSH_TIMEOUT_MS) one that keeps the message for a retry? */
bool push_retryable(int status);

/* The message went (or goes now) to its URL. */
void push_sent(struct push_msg *m, int64_t now_ms);
/* Its answer: status 200 delivered, 0 no answer in time, else the HTTP status. */
void push_answered(struct push_url *urls, struct push_msg *m, int status, int64_t now_ms);
/* Time passes: kept messages past their window expire; sent ones unanswered for
 * PUSH_TIMEOUT_MS fail (as push_answered(0)). */
void push_tick(struct push_url *urls, struct push_msg *msgs, int n, int64_t now_ms);

/* The next message to send now, round-robin over the URLs from *cursor (the owner
 * keeps it between calls): a new message of a valid URL, a kept one whose retry is
 * due, or the probe of an invalid URL whose probe is due (its oldest kept message).
 * -1: nothing due.  The owner then calls push_sent. */
int push_due(struct push_url *urls, int n_urls, struct push_msg *msgs, int n, int *cursor, int64_t now_ms);
/* The earliest instant something becomes due or times out (INT64_MAX: none). */
int64_t push_next_ms(const struct push_url *urls, int n_urls, const struct push_msg *msgs, int n);

#endif
