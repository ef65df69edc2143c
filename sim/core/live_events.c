#include "sim/core/live_events.h"

#include <stdio.h>
#include <string.h>

static const char *const kind_names[LEV__COUNT] = {
    [LEV_DECODE_ERROR] = "decode_error", [LEV_CONNECT_FAILED] = "connect_failed",
    [LEV_DISCONNECT] = "disconnect",     [LEV_TLS] = "tls",
    [LEV_TIMEOUT] = "timeout",           [LEV_EXPECTATION] = "expectation",
    [LEV_REJECTED] = "rejected",         [LEV_DEVIATION] = "deviation",
};

const char *live_ev_kind_name(enum live_ev_kind k) { return (unsigned)k < LEV__COUNT ? kind_names[k] : "?"; }

int live_ev_admit(struct live_ring *r, uint64_t now_us)
{
    if (now_us < r->window_us || now_us - r->window_us >= 1000000u) {
        r->window_us = now_us;
        r->in_window = 0;
    }
    if (r->in_window >= LIVE_EV_PER_SEC) {
        r->dropped++;
        return 0;
    }
    r->in_window++;
    return 1;
}

void live_ev_vput(struct live_ring *r, uint64_t now_us, int fleet, enum live_ev_kind kind, const char *terminal,
                  const uint8_t *frame, size_t frame_len, const char *fmt, va_list ap)
{
    uint64_t seq = r->head + 1;
    struct live_event *e = &r->ev[(seq - 1) % LIVE_EV_RING];
    /* 0 while it is written: a reader that sees 0, or another number after its
     * copy than before, leaves the entry out */
    __atomic_store_n(&e->seq, 0, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    e->at_us = now_us;
    e->fleet = (int16_t)(fleet < -1 || fleet > INT16_MAX ? -1 : fleet);
    e->kind = (uint8_t)kind;
    e->frame_len = frame_len > UINT32_MAX ? UINT32_MAX : (uint32_t)frame_len;
    e->len = frame ? (uint16_t)(frame_len < LIVE_EV_FRAME ? frame_len : LIVE_EV_FRAME) : 0;
    if (e->len)
        memcpy(e->frame, frame, e->len);
    snprintf(e->terminal, sizeof e->terminal, "%s", terminal ? terminal : "");
    vsnprintf(e->text, sizeof e->text, fmt, ap);
    __atomic_store_n(&e->seq, seq, __ATOMIC_RELEASE);
    __atomic_store_n(&r->head, seq, __ATOMIC_RELEASE);
}

void live_ev_put(struct live_ring *r, uint64_t now_us, int fleet, enum live_ev_kind kind, const char *terminal,
                 const uint8_t *frame, size_t frame_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    live_ev_vput(r, now_us, fleet, kind, terminal, frame, frame_len, fmt, ap);
    va_end(ap);
}

int live_ev_read(const struct live_ring *r, struct live_event *out, int cap)
{
    uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
    uint64_t from = head > LIVE_EV_RING ? head - LIVE_EV_RING + 1 : 1;
    int n = 0;
    for (uint64_t s = from; s <= head && n < cap; s++) {
        const struct live_event *e = &r->ev[(s - 1) % LIVE_EV_RING];
        if (__atomic_load_n(&e->seq, __ATOMIC_ACQUIRE) != s)
            continue;
        memcpy(&out[n], (const void *)e, sizeof *e);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&e->seq, __ATOMIC_RELAXED) != s)
            continue; /* written over while copied */
        out[n].seq = s;
        out[n].text[LIVE_EV_TEXT - 1] = 0;
        out[n].terminal[LIVE_EV_TERM - 1] = 0;
        if (out[n].len > LIVE_EV_FRAME)
            out[n].len = LIVE_EV_FRAME;
        n++;
    }
    return n;
}
