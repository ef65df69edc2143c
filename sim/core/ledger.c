#include "sim/core/ledger.h"

static const char *why_names[LEDGER_WHY_COUNT] = {
    [LEDGER_REFUSED] = "refused",
    [LEDGER_CONN_LOST] = "connection lost",
    [LEDGER_OFFLINE] = "offline",
    [LEDGER_SEND_ERROR] = "send error",
    [LEDGER_UNSUPPORTED] = "unsupported",
};

const char *ledger_why_name(enum ledger_why w)
{
    return (unsigned)w < LEDGER_WHY_COUNT ? why_names[w] : "?";
}

void ledger_add(struct ledger *dst, const struct ledger *src)
{
    dst->sent += src->sent;
    dst->acked += src->acked;
    dst->failed += src->failed;
    dst->timed_out += src->timed_out;
    for (int i = 0; i < LEDGER_WHY_COUNT; i++)
        dst->why[i] += src->why[i];
}

int ledger_balanced(const struct ledger *l)
{
    return l->sent == l->acked + l->failed + l->timed_out;
}

void ledger_format(const struct ledger *l, char *buf, size_t cap)
{
    char why[160] = "";
    size_t w = 0;
    for (int i = 0; i < LEDGER_WHY_COUNT && w < sizeof why; i++) {
        if (!l->why[i])
            continue;
        int n = snprintf(why + w, sizeof why - w, "%s%s %llu", w ? ", " : " (", why_names[i],
                         (unsigned long long)l->why[i]);
        if (n < 0)
            break;
        w += (size_t)n;
    }
    if (w && w < sizeof why - 1)
        snprintf(why + w, sizeof why - w, ")");
    uint64_t settled = l->acked + l->failed + l->timed_out;
    long long diff = (long long)l->sent - (long long)settled;
    snprintf(buf, cap, "sent %llu = acked %llu + failed %llu%s + timed out %llu%s",
             (unsigned long long)l->sent, (unsigned long long)l->acked,
             (unsigned long long)l->failed, why, (unsigned long long)l->timed_out,
             diff == 0 ? "" : diff > 0 ? " + UNSETTLED" : " - OVERSETTLED");
    if (diff != 0) {
        size_t len = 0;
        while (len < cap && buf[len])
            len++;
        snprintf(buf + len, cap - len, " %lld", diff > 0 ? diff : -diff);
    }
}
