/* Push delivery rules; see push_policy.h. */
#include "sim/platform/core/push_policy.h"

static const char *const names[PS__COUNT] = {"NEW", "SENT", "KEPT", "DELIVERED", "EXPIRED", "REJECTED"};

const char *push_state_name(enum push_state s) { return (unsigned)s < PS__COUNT ? names[s] : "?"; }

bool push_state_final(enum push_state s) { return s == PS_DELIVERED || s == PS_EXPIRED || s == PS_REJECTED; }

bool push_retryable(int status) { return status == 0 || (status >= 501 && status <= 504); }

void push_sent(struct push_msg *m, int64_t now_ms)
{
    m->state = PS_SENT;
    m->sent_ms = now_ms;
    m->tries++;
}

void push_answered(struct push_url *urls, struct push_msg *m, int status, int64_t now_ms)
{
    if (m->state != PS_SENT)
        return;
    struct push_url *u = &urls[m->url];
    bool probe = m->probe;
    m->probe = false;
    m->last_status = status;
    if (status == 200) {
        m->state = PS_DELIVERED;
        u->delivered++;
        if (u->invalid && probe) {
            /* it recovered: valid again, its kept messages go again at once */
            u->invalid = false;
            u->failures = 0;
            u->window_ms = 0;
        }
        return;
    }
    u->failed++;
    if (!push_retryable(status)) {
        m->state = PS_REJECTED;
        return;
    }
    bool retry = m->first_fail_ms != 0; /* the first failure is not a retry */
    if (!m->first_fail_ms)
        m->first_fail_ms = now_ms;
    if (now_ms >= m->first_fail_ms + PUSH_KEEP_MS) {
        m->state = PS_EXPIRED;
        return;
    }
    m->state = PS_KEPT;
    m->next_try_ms = now_ms + PUSH_RETRY_MS;
    if (retry && !u->invalid) {
        if (!u->window_ms || now_ms >= u->window_ms + PUSH_KEEP_MS) {
            u->window_ms = now_ms;
            u->failures = 0;
        }
        if (++u->failures >= PUSH_INVALID_AFTER) {
            u->invalid = true;
            u->next_probe_ms = now_ms + PUSH_PROBE_MS;
        }
    } else if (u->invalid && probe) {
        u->next_probe_ms = now_ms + PUSH_PROBE_MS;
    }
}

void push_tick(struct push_url *urls, struct push_msg *msgs, int n, int64_t now_ms)
{
    for (int i = 0; i < n; i++) {
        struct push_msg *m = &msgs[i];
        if (m->state == PS_NEW && urls[m->url].invalid) {
            /* not sent to an invalid URL: kept, as a failed one, until it recovers */
            m->state = PS_KEPT;
            m->first_fail_ms = now_ms;
            m->next_try_ms = now_ms;
        }
        if (m->state == PS_SENT && now_ms >= m->sent_ms + PUSH_TIMEOUT_MS)
            push_answered(urls, m, 0, now_ms);
        if (m->state == PS_KEPT && now_ms >= m->first_fail_ms + PUSH_KEEP_MS)
            m->state = PS_EXPIRED;
    }
}

/* URL u's message to send now, or -1. */
static int due_of(struct push_url *urls, int u, struct push_msg *msgs, int n, int64_t now_ms)
{
    if (urls[u].invalid) {
        if (now_ms < urls[u].next_probe_ms)
            return -1;
        for (int i = 0; i < n; i++)
            if (msgs[i].url == u && msgs[i].state == PS_SENT && msgs[i].probe)
                return -1; /* one probe at a time */
        int oldest = -1;
        for (int i = 0; i < n; i++)
            if (msgs[i].url == u && msgs[i].state == PS_KEPT &&
                (oldest < 0 || msgs[i].first_fail_ms < msgs[oldest].first_fail_ms))
                oldest = i;
        if (oldest >= 0)
            msgs[oldest].probe = true;
        return oldest;
    }
    for (int i = 0; i < n; i++)
        if (msgs[i].url == u &&
            (msgs[i].state == PS_NEW || (msgs[i].state == PS_KEPT && now_ms >= msgs[i].next_try_ms)))
            return i;
    return -1;
}

int push_due(struct push_url *urls, int n_urls, struct push_msg *msgs, int n, int *cursor, int64_t now_ms)
{
    for (int k = 0; k < n_urls; k++) {
        int u = (*cursor + k) % n_urls;
        int i = due_of(urls, u, msgs, n, now_ms);
        if (i >= 0) {
            *cursor = (u + 1) % n_urls; /* the next call starts at the next URL */
            return i;
        }
    }
    return -1;
}

int64_t push_next_ms(const struct push_url *urls, int n_urls, const struct push_msg *msgs, int n)
{
    int64_t at = INT64_MAX;
    for (int i = 0; i < n; i++) {
        const struct push_msg *m = &msgs[i];
        int64_t t = INT64_MAX;
        if (m->state == PS_NEW)
            t = 0; /* sent, or (an invalid URL's) kept, at the next tick */
        else if (m->state == PS_SENT)
            t = m->sent_ms + PUSH_TIMEOUT_MS;
        else if (m->state == PS_KEPT) {
            int64_t expire = m->first_fail_ms + PUSH_KEEP_MS;
            int64_t next = urls[m->url].invalid ? urls[m->url].next_probe_ms : m->next_try_ms;
            t = next < expire ? next : expire;
        }
        if (t < at)
            at = t;
    }
    (void)n_urls;
    return at;
}
