/* Connection buffering over a transport: partial input, queued output. */
#include "sim/net/conn.h"

#include <ev.h>
#include <stdlib.h>
#include <string.h>

#define OUT_MIN_CAP 1024

void conn_init(struct conn *c, const struct transport *tp, uint32_t in_max, uint32_t out_max)
{
    memset(c, 0, sizeof *c);
    c->tp.fd = -1;
    c->tp.tp = tp;
    c->in_max = in_max;
    c->out_max = out_max;
}

static void free_in(struct conn *c)
{
    free(c->in);
    c->in = NULL;
    c->in_len = 0;
}

static void free_out(struct conn *c)
{
    free(c->out);
    c->out = NULL;
    c->out_len = c->out_cap = 0;
}

void conn_close(struct conn *c, bool abort)
{
    if (c->tp.fd >= 0) {
        if (abort)
            c->tp.tp->abort(&c->tp);
        else
            c->tp.tp->close(&c->tp);
    }
    c->tp.fd = -1;
    c->want_write = 0;
    free_in(c);
    free_out(c);
}

/* Append to the output queue; a datagram goes in with its length in front. */
static enum conn_rc queue(struct conn *c, const uint8_t *buf, size_t n)
{
    bool dgram = c->tp.tp->datagram;
    uint32_t len = (uint32_t)n;
    size_t need = (size_t)c->out_len + n + (dgram ? sizeof len : 0);
    if (need > c->out_max)
        return CONN_FULL;
    if (need > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : OUT_MIN_CAP;
        while (cap < need)
            cap *= 2;
        uint8_t *nb = realloc(c->out, cap);
        if (!nb)
            return CONN_NOMEM;
        c->out = nb;
        c->out_cap = (uint32_t)cap;
    }
    if (dgram) {
        memcpy(c->out + c->out_len, &len, sizeof len);
        c->out_len += sizeof len;
    }
    memcpy(c->out + c->out_len, buf, n);
    c->out_len += len;
    return CONN_OK;
}

enum conn_rc conn_send(struct conn *c, const uint8_t *buf, size_t n)
{
    if (c->tp.fd < 0)
        return CONN_CLOSED;
    if (!c->out_len) {
        size_t put = 0;
        enum tp_rc rc = c->tp.tp->write(&c->tp, buf, n, &put);
        if (rc == TP_ERR)
            return CONN_CLOSED;
        if (rc == TP_OK && (c->tp.tp->datagram || put >= n))
            return CONN_OK;
        if (rc == TP_OK) {
            buf += put;
            n -= put;
        }
    }
    return queue(c, buf, n);
}

enum conn_rc conn_flush(struct conn *c)
{
    bool dgram = c->tp.tp->datagram;
    uint32_t off = 0;
    while (off < c->out_len) {
        const uint8_t *p = c->out + off;
        size_t n = c->out_len - off, hdr = 0, put = 0;
        if (dgram) {
            uint32_t len;
            memcpy(&len, p, sizeof len);
            hdr = sizeof len;
            p += hdr;
            n = len;
        }
        enum tp_rc rc = c->tp.tp->write(&c->tp, p, n, &put);
        if (rc == TP_ERR)
            return CONN_CLOSED;
        if (rc != TP_OK || (!dgram && put == 0))
            break;
        off += (uint32_t)(hdr + (dgram ? n : put));
    }
    if (off == c->out_len) {
        free_out(c);
    } else if (off) {
        memmove(c->out, c->out + off, c->out_len - off);
        c->out_len -= off;
    }
    return CONN_OK;
}

enum conn_rc conn_recv(struct conn *c, uint8_t *buf, size_t cap, size_t *got)
{
    *got = 0;
    c->want_write = 0;
    if (c->tp.fd < 0)
        return CONN_CLOSED;
    switch (c->tp.tp->read(&c->tp, buf, cap, got)) {
    case TP_OK:
        return CONN_OK;
    case TP_WANT_WRITE:
        c->want_write = 1;
        return CONN_AGAIN;
    case TP_WANT_READ:
        return CONN_AGAIN;
    default:
        return CONN_CLOSED;
    }
}

enum conn_rc conn_input(struct conn *c, const uint8_t *buf, size_t n, conn_deliver_fn fn, void *arg)
{
    if (c->tp.tp && c->tp.tp->datagram)
        return fn(arg, buf, n) < 0 ? CONN_REJECTED : CONN_OK; /* whole: nothing kept */
    if (!c->in_len) {
        long used = fn(arg, buf, n);
        if (used < 0)
            return CONN_REJECTED;
        if (c->tp.fd < 0 || (size_t)used >= n)
            return CONN_OK;
        size_t rest = n - (size_t)used;
        if (rest > c->in_max)
            return CONN_FULL;
        c->in = malloc(rest);
        if (!c->in)
            return CONN_NOMEM;
        memcpy(c->in, buf + used, rest);
        c->in_len = (uint32_t)rest;
        return CONN_OK;
    }
    if ((size_t)c->in_len + n > c->in_max)
        return CONN_FULL;
    uint8_t *nb = realloc(c->in, c->in_len + n);
    if (!nb)
        return CONN_NOMEM;
    memcpy(nb + c->in_len, buf, n);
    c->in = nb;
    c->in_len += (uint32_t)n;
    return conn_redeliver(c, fn, arg);
}

/* The kept input to fn; what it consumed goes. */
enum conn_rc conn_redeliver(struct conn *c, conn_deliver_fn fn, void *arg)
{
    if (!c->in_len || c->tp.fd < 0)
        return CONN_OK;
    uint8_t *nb = c->in;
    uint32_t len = c->in_len;
    long used = fn(arg, nb, len);
    if (used < 0)
        return CONN_REJECTED;
    /* closed or reset from inside fn: what it was given is gone */
    if (c->tp.fd < 0 || c->in != nb || c->in_len != len)
        return CONN_OK;
    if ((size_t)used >= len) {
        free_in(c);
    } else if (used > 0) {
        memmove(c->in, c->in + used, len - (size_t)used);
        c->in_len = len - (uint32_t)used;
    }
    return CONN_OK;
}

enum conn_rc conn_read(struct conn *c, uint8_t *scratch, size_t cap, conn_deliver_fn fn, void *arg,
                       size_t *got)
{
    enum conn_rc rc = conn_recv(c, scratch, cap, got);
    if (rc != CONN_OK)
        return rc;
    return conn_input(c, scratch, *got, fn, arg);
}

int conn_events(const struct conn *c)
{
    return EV_READ | (c->out_len || c->want_write ? EV_WRITE : 0);
}
