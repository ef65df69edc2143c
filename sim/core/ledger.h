/* The message ledger: every frame that expects an answer is counted when sent and
 * again exactly once when it is settled: acknowledged, failed (with why) or timed
 * out.  A run ends balanced when sent == acked + failed + timed_out. */
#ifndef FLEETSIM_LEDGER_H
#define FLEETSIM_LEDGER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum ledger_why {
    LEDGER_REFUSED = 0,   /* the peer answered with a failure result */
    LEDGER_CONN_LOST,     /* the connection closed before the answer came */
    LEDGER_OFFLINE,       /* the addressee was not connected: never left */
    LEDGER_SEND_ERROR,    /* the transport refused the bytes */
    LEDGER_UNSUPPORTED,   /* the peer said it does not support the message */
    LEDGER_WHY_COUNT
};

struct ledger {
    uint64_t sent;
    uint64_t acked;
    uint64_t failed;
    uint64_t timed_out;
    uint64_t why[LEDGER_WHY_COUNT]; /* failed, by reason */
};

const char *ledger_why_name(enum ledger_why w);
static inline void ledger_sent(struct ledger *l) { l->sent++; }
static inline void ledger_acked(struct ledger *l) { l->acked++; }
static inline void ledger_timeout(struct ledger *l) { l->timed_out++; }
static inline void ledger_failed(struct ledger *l, enum ledger_why w) { l->failed++; l->why[w]++; }
static inline uint64_t ledger_pending(const struct ledger *l)
{
    uint64_t settled = l->acked + l->failed + l->timed_out;
    return l->sent > settled ? l->sent - settled : 0;
}
void ledger_add(struct ledger *dst, const struct ledger *src);
/* "sent 120 = acked 117 + failed 1 (connection lost 1) + timed out 2 + pending 0" */
void ledger_format(const struct ledger *l, char *buf, size_t cap);
int ledger_balanced(const struct ledger *l);

#endif
