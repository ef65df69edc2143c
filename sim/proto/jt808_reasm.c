/* Subpackage reassembly (one struct jt808_reasm per terminal) and splitting.
 *
 * A message in progress is keyed by msg_id and the serial of its package 1
 * (serial - (index - 1), modulo 2^16).  Memory is charged for the bookkeeping too
 * (the slot and one entry per announced package), so a single fragment claiming
 * 65535 packages cannot allocate past the limit.  A message is dropped when no new
 * fragment has arrived for longer than timeout_ms (0 disables the timeout). */
#include <stdlib.h>
#include <string.h>

#include "sim/proto/jt808.h"
#include "sim/proto/jt808_internal.h"

struct frag {
    uint8_t *data; /* NULL until received (a received empty fragment has len 0, have set) */
    uint16_t len;
    bool have;
    uint8_t enc;   /* its header's encryption bits (the body is plaintext already) */
};

struct jt808_reasm_slot {
    struct jt808_reasm_slot *next;
    uint16_t msg_id;
    uint16_t first_serial;
    uint16_t total;
    uint16_t received;
    uint64_t last_ms;
    uint64_t asked_ms;   /* last jt808_reasm_missing that listed it (0: never) */
    uint8_t asks;        /* times its missing packages were listed or asked for */
    size_t mem;       /* bytes charged to this slot */
    size_t body_len;  /* sum of received fragment lengths */
    struct frag frags[];
};

static size_t slot_overhead(uint16_t total)
{
    return sizeof(struct jt808_reasm_slot) + (size_t)total * sizeof(struct frag);
}

void jt808_reasm_init(struct jt808_reasm *r, size_t mem_limit, uint64_t timeout_ms)
{
    r->slots = NULL;
    r->mem_used = 0;
    r->mem_limit = mem_limit;
    r->timeout_ms = timeout_ms;
    r->dropped = 0;
    r->done_encryption = 0;
    r->done_mixed = 0;
    r->done_mixed_offset = 0;
}

static void slot_free(struct jt808_reasm *r, struct jt808_reasm_slot **link)
{
    struct jt808_reasm_slot *s = *link;
    *link = s->next;
    for (unsigned i = 0; i < s->total; i++)
        free(s->frags[i].data);
    r->mem_used -= s->mem;
    free(s);
}

void jt808_reasm_free(struct jt808_reasm *r)
{
    while (r->slots)
        slot_free(r, &r->slots);
}

size_t jt808_reasm_expire(struct jt808_reasm *r, uint64_t now_ms)
{
    if (r->timeout_ms == 0)
        return 0;
    size_t n = 0;
    struct jt808_reasm_slot **link = &r->slots;
    while (*link) {
        struct jt808_reasm_slot *s = *link;
        /* A clock that went back counts as no time passed. */
        uint64_t idle = now_ms > s->last_ms ? now_ms - s->last_ms : 0;
        if (idle > r->timeout_ms) {
            slot_free(r, link);
            r->dropped++;
            n++;
        } else {
            link = &s->next;
        }
    }
    return n;
}

static size_t slot_missing(const struct jt808_reasm_slot *s, uint16_t *out, size_t cap)
{
    size_t n = 0;
    for (unsigned i = 0; i < s->total; i++)
        if (!s->frags[i].have) {
            if (n < cap)
                out[n] = (uint16_t)(i + 1);
            n++;
        }
    return n;
}

size_t jt808_reasm_expire_ask(struct jt808_reasm *r, uint64_t now_ms, unsigned max_asks,
                              void (*ask)(const struct jt808_reasm_gap *g, void *arg), void *arg)
{
    if (r->timeout_ms == 0)
        return 0;
    size_t n = 0;
    struct jt808_reasm_slot **link = &r->slots;
    while (*link) {
        struct jt808_reasm_slot *s = *link;
        uint64_t idle = now_ms > s->last_ms ? now_ms - s->last_ms : 0;
        if (idle <= r->timeout_ms) {
            link = &s->next;
            continue;
        }
        uint16_t *miss = s->asks < max_asks && ask ? malloc((size_t)s->total * sizeof *miss) : NULL;
        if (!miss) {
            slot_free(r, link);
            r->dropped++;
            n++;
            continue;
        }
        struct jt808_reasm_gap g = {.msg_id = s->msg_id, .first_serial = s->first_serial, .total = s->total,
                                    .ask = ++s->asks, .missing = miss};
        g.n_missing = slot_missing(s, miss, s->total);
        if (s->frags[0].have) {
            g.first_body = s->frags[0].data;
            g.first_len = s->frags[0].len;
        }
        s->last_ms = now_ms; /* the next ask (or the drop) one timeout later */
        link = &s->next;
        ask(&g, arg);
        free(miss);
    }
    return n;
}

uint64_t jt808_reasm_missing(struct jt808_reasm *r, uint64_t now_ms, uint64_t idle_ms, unsigned max_asks,
                             void (*fn)(uint16_t msg_id, uint16_t first_serial, const uint16_t *ids,
                                        size_t n, void *arg),
                             void *arg)
{
    uint64_t next = 0;
    for (struct jt808_reasm_slot *s = r->slots; s; s = s->next) {
        if (s->asks >= max_asks)
            continue;
        uint64_t since = s->asked_ms > s->last_ms ? s->asked_ms : s->last_ms;
        if (now_ms < since + idle_ms) {
            if (!next || since + idle_ms < next)
                next = since + idle_ms;
            continue;
        }
        uint16_t *ids = malloc((size_t)s->total * sizeof *ids);
        if (!ids)
            return next ? next : now_ms + idle_ms; /* try again later */
        size_t n = 0;
        for (unsigned i = 0; i < s->total; i++)
            if (!s->frags[i].have)
                ids[n++] = (uint16_t)(i + 1);
        s->asked_ms = now_ms;
        s->asks++;
        fn(s->msg_id, s->first_serial, ids, n, arg);
        free(ids);
        if (s->asks < max_asks && (!next || now_ms + idle_ms < next))
            next = now_ms + idle_ms;
    }
    return next;
}

static enum jt808_rc finish(struct jt808_reasm *r, struct jt808_reasm_slot **link, uint8_t **out,
                            size_t *out_len, struct jt808_err *err)
{
    struct jt808_reasm_slot *s = *link;
    uint8_t *buf = malloc(s->body_len ? s->body_len : 1);
    if (!buf)
        return jt808_fail(err, JT808_E_NOSPACE, 0, "reasm.body");
    size_t o = 0;
    r->done_encryption = s->frags[0].enc;
    r->done_mixed = 0;
    r->done_mixed_offset = 0;
    for (unsigned i = 0; i < s->total; i++) {
        if (!r->done_mixed && s->frags[i].enc != s->frags[0].enc) {
            r->done_mixed = (uint16_t)(i + 1);
            r->done_mixed_offset = o;
        }
        if (s->frags[i].len)
            memcpy(buf + o, s->frags[i].data, s->frags[i].len);
        o += s->frags[i].len;
    }
    slot_free(r, link);
    *out = buf;
    *out_len = o;
    return JT808_OK;
}

enum jt808_rc jt808_reasm_feed(struct jt808_reasm *r, const struct jt808_header *h,
                               const uint8_t *body, size_t n, uint64_t now_ms,
                               bool *done, uint8_t **out, size_t *out_len, struct jt808_err *err)
{
    *done = false;
    *out = NULL;
    *out_len = 0;
    if (!h->subpackage)
        return jt808_fail(err, JT808_E_SUBPKG, 0, "header.subpackage");
    if (h->pkg_total == 0)
        return jt808_fail(err, JT808_E_SUBPKG, 0, "header.pkg_total");
    if (h->pkg_index == 0 || h->pkg_index > h->pkg_total)
        return jt808_fail(err, JT808_E_SUBPKG, 0, "header.pkg_index");
    if (n > JT808_MAX_BODY)
        return jt808_fail(err, JT808_E_LENGTH, 0, "body");
    jt808_reasm_expire(r, now_ms);

    uint16_t first = (uint16_t)(h->serial - (h->pkg_index - 1));
    struct jt808_reasm_slot **link = &r->slots;
    while (*link && ((*link)->msg_id != h->msg_id || (*link)->first_serial != first))
        link = &(*link)->next;
    struct jt808_reasm_slot *s = *link;

    if (s && s->total != h->pkg_total)
        return jt808_fail(err, JT808_E_SUBPKG, 0, "header.pkg_total");
    if (s && s->frags[h->pkg_index - 1].have)
        return JT808_OK; /* duplicate: the first copy stands */

    size_t need = n + (s ? 0 : slot_overhead(h->pkg_total));
    if (need > r->mem_limit || r->mem_used > r->mem_limit - need) {
        /* Whatever was buffered for this message can no longer complete. */
        if (s)
            slot_free(r, link);
        r->dropped++;
        return jt808_fail(err, JT808_E_SUBPKG, 0, "reasm.mem_limit");
    }

    if (!s) {
        s = calloc(1, slot_overhead(h->pkg_total));
        if (!s)
            return jt808_fail(err, JT808_E_NOSPACE, 0, "reasm.slot");
        s->msg_id = h->msg_id;
        s->first_serial = first;
        s->total = h->pkg_total;
        s->mem = slot_overhead(h->pkg_total);
        r->mem_used += s->mem;
        s->next = r->slots;
        r->slots = s;
        link = &r->slots;
    }
    struct frag *f = &s->frags[h->pkg_index - 1];
    if (n) {
        f->data = malloc(n);
        if (!f->data)
            return jt808_fail(err, JT808_E_NOSPACE, 0, "reasm.body");
        memcpy(f->data, body, n);
    }
    f->len = (uint16_t)n;
    f->have = true;
    f->enc = h->encryption;
    s->received++;
    s->body_len += n;
    s->mem += n;
    r->mem_used += n;
    s->last_ms = now_ms;
    if (s->received < s->total)
        return JT808_OK;
    JT808_TRY(finish(r, link, out, out_len, err));
    *done = true;
    return JT808_OK;
}

enum jt808_rc jt808_reasm_decode(const struct jt808_reasm *r, const struct jt808_header *last, const uint8_t *body,
                                 size_t n, struct jt808_msg *msg, struct jt808_err *err)
{
    msg->h = *last;
    msg->h.subpackage = false;
    msg->h.pkg_total = msg->h.pkg_index = 0;
    msg->h.body_len = (uint16_t)(n > 0xFFFF ? 0xFFFF : n);
    msg->h.encryption = r->done_encryption;
    msg->rsa_plain = r->done_encryption != 0;
    msg->body = body;
    msg->body_bytes = n;
    msg->devs.n = 0;
    msg->devs.total = 0;
    if (r->done_mixed)
        jt808_devs_add(&msg->devs, JT808_DEV_MIXED_ENCRYPTION, r->done_mixed_offset, "header.encryption");
    return jt808_body_read(body, n, msg, err);
}

enum jt808_rc jt808_split(const struct jt808_header *h, uint16_t first_serial,
                          const uint8_t *body, size_t n, size_t max_chunk,
                          void (*emit)(const uint8_t *frame, size_t len, void *arg), void *arg)
{
    if (max_chunk == 0 || max_chunk > JT808_MAX_BODY)
        return JT808_E_VALUE;
    size_t total = n ? (n + max_chunk - 1) / max_chunk : 1;
    if (total > 0xFFFF)
        return JT808_E_SUBPKG;
    struct jt808_header fh = *h;
    fh.subpackage = true;
    fh.pkg_total = (uint16_t)total;
    uint8_t frame[JT808_MAX_FRAME];
    for (size_t i = 0; i < total; i++) {
        size_t off = i * max_chunk;
        size_t len = n - off < max_chunk ? n - off : max_chunk;
        fh.serial = (uint16_t)(first_serial + i);
        fh.pkg_index = (uint16_t)(i + 1);
        size_t flen = 0;
        JT808_TRY(jt808_frame_build(&fh, body ? body + off : NULL, len, frame, sizeof frame,
                                    &flen, NULL));
        emit(frame, flen, arg);
    }
    return JT808_OK;
}
