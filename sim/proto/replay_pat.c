/* Reply patterns: does this frame answer what the terminal sent?
 *
 * Every element but "*" has a width known before the frame is looked at ({id:str}
 * from the caller's id), so "*" takes what the others leave over and each element
 * has one place in the frame: no backtracking.  Elements are checked left to
 * right, and the first that fails is the one reported. */
#include <stdlib.h>
#include <string.h>

#include "sim/proto/replay_internal.h"

struct replay_pat {
    struct replay_prog prog;
};

int replay_pat_compile(const char *text, struct replay_pat **out, struct replay_err *err)
{
    *out = NULL;
    struct replay_pat *p = calloc(1, sizeof *p);
    if (!p)
        return replay_fail(err, REPLAY_E_LIMIT, 0, "offset 0: out of memory");
    if (replay_parse(text, REPLAY_MODE_PAT, &p->prog, err) != 0) {
        free(p);
        return -1;
    }
    *out = p;
    return 0;
}

void replay_pat_free(struct replay_pat *p)
{
    if (!p)
        return;
    replay_parse_free(&p->prog);
    free(p);
}

bool replay_pat_has(const struct replay_pat *p, const char *placeholder)
{
    return replay_parse_has(&p->prog, placeholder);
}

static int replay_mismatch(struct replay_err *err, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int replay_mismatch(struct replay_err *err, size_t off, const char *fmt, ...)
{
    if (err) {
        char what[140];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(what, sizeof what, fmt, ap);
        va_end(ap);
        replay_fail(err, REPLAY_E_MISMATCH, off, "frame offset %zu: %s", off, what);
    }
    return 0;
}

/* Literal bytes of element e at frame offset pos: 1 if equal (the first n - pos
 * bytes only, when the frame ends inside it). */
static int replay_match_bytes(const struct replay_prog *p, const struct replay_el *e, size_t pos,
                              const uint8_t *frame, size_t n, struct replay_err *err)
{
    for (size_t i = 0; i < e->width && pos + i < n; i++) {
        uint8_t want = p->bytes[e->data + i];
        if (frame[pos + i] != want)
            return replay_mismatch(err, pos + i,
                                   "0x%02X where the pattern has 0x%02X (pattern offset %zu)",
                                   frame[pos + i], want, e->text_off + 2 * i);
    }
    return 1;
}

/* The frame is shorter or longer than the pattern allows: report a literal byte
 * that differs before the frame ends, if one does, else the size. */
static int replay_wrong_size(const struct replay_prog *p, const struct replay_layout *l,
                             const uint8_t *frame, size_t n, size_t need, struct replay_err *err)
{
    size_t pos = 0;
    for (size_t k = 0; k < p->nel && pos < n; k++) {
        const struct replay_el *e = &p->els[k];
        if (e->kind == REPLAY_EL_STAR)
            break;
        if (e->kind == REPLAY_EL_BYTES && !replay_match_bytes(p, e, pos, frame, n, err))
            return 0;
        pos += replay_layout_width(e, l);
    }
    if (n < need)
        return replay_mismatch(err, n, "the frame ends after %zu bytes; the pattern needs %s%zu", n,
                               p->has_star ? "at least " : "", need);
    return replay_mismatch(err, need, "%zu bytes more than the pattern's %zu", n - need, need);
}

/* An id field as text for a message: BCD as its digits, ASCII as characters. */
static void replay_show_id(const struct replay_el *e, const uint8_t *b, size_t w, char *out,
                           size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < w && o + 3 < cap; i++) {
        if (e->kind == REPLAY_EL_ID_BCD) {
            o += (size_t)snprintf(out + o, cap - o, "%02X", b[i]);
        } else {
            out[o++] = (b[i] >= 0x20 && b[i] < 0x7F) ? (char)b[i] : '?';
            out[o] = 0;
        }
    }
    out[o] = 0;
}

static int replay_match_id(const struct replay_el *e, size_t pos, const uint8_t *frame, size_t w,
                           const char *id, struct replay_err *err)
{
    char name[32], why[120], got[72], want[72];
    uint8_t exp[64];
    const uint8_t *x = exp;
    if (e->kind == REPLAY_EL_ID_STR)
        x = (const uint8_t *)id;
    else if (replay_layout_id(e, id, exp, why, sizeof why) != 0)
        return replay_mismatch(err, pos, "%s", why);
    for (size_t i = 0; i < w; i++)
        if (frame[pos + i] != x[i]) {
            replay_show_id(e, frame + pos, w, got, sizeof got);
            replay_show_id(e, x, w, want, sizeof want);
            return replay_mismatch(err, pos + i, "%s is %s, expected %s (pattern offset %zu)",
                                   replay_parse_el_name(e, name, sizeof name), got, want,
                                   e->text_off);
        }
    return 1;
}

/* The integer fields: capture, agree with an earlier one (in the bytes both
 * have: widths[] holds the width each was first seen with), equal the caller's. */
static int replay_match_int(const struct replay_el *e, size_t pos, const uint8_t *frame,
                            const struct replay_vars *v, unsigned check, struct replay_capture *cap,
                            size_t widths[4], struct replay_err *err)
{
    char name[32];
    uint64_t got = replay_get_uint(frame + pos, e->width, e->le);
    bool *has;
    uint64_t *slot;
    const uint64_t *want = NULL;
    switch (e->kind) {
    case REPLAY_EL_INDEX:
        has = &cap->has_index, slot = &cap->index;
        if (v)
            want = &v->index;
        break;
    case REPLAY_EL_GINDEX:
        has = &cap->has_gindex, slot = &cap->gindex;
        if (v)
            want = &v->gindex;
        break;
    case REPLAY_EL_SERIAL:
        has = &cap->has_serial, slot = &cap->serial;
        if (v && (check & REPLAY_CHECK_SERIAL))
            want = &v->serial;
        break;
    default:
        has = &cap->has_counter, slot = &cap->counter;
        if (v && (check & REPLAY_CHECK_COUNTER))
            want = &v->counter;
        break;
    }
    int digits = (int)(2 * e->width);
    size_t *first_w = &widths[e->kind - REPLAY_EL_INDEX];
    replay_parse_el_name(e, name, sizeof name);
    if (*has) {
        size_t w = e->width < *first_w ? e->width : *first_w;
        if (replay_mask(*slot, w) != replay_mask(got, w))
            return replay_mismatch(err, pos,
                                   "%s is 0x%0*llX, an earlier one 0x%0*llX (pattern offset %zu)",
                                   name, digits, (unsigned long long)got, (int)(2 * *first_w),
                                   (unsigned long long)*slot, e->text_off);
    }
    if (want && replay_mask(*want, e->width) != got)
        return replay_mismatch(err, pos, "%s is 0x%0*llX, expected 0x%0*llX (pattern offset %zu)",
                               name, digits, (unsigned long long)got, digits,
                               (unsigned long long)replay_mask(*want, e->width), e->text_off);
    if (!*has) {
        *has = true;
        *slot = got;
        *first_w = e->width;
    }
    return 1;
}

int replay_pat_match(const struct replay_pat *pat, const uint8_t *frame, size_t n,
                     const struct replay_vars *v, unsigned check, struct replay_capture *cap,
                     struct replay_err *err)
{
    const struct replay_prog *p = &pat->prog;
    struct replay_capture scratch;
    size_t widths[4] = {0};
    char name[32];
    if (!cap)
        cap = &scratch;
    memset(cap, 0, sizeof *cap);
    if (p->n_idstr && (!v || !v->id))
        return replay_mismatch(err, 0, "the pattern has {id:str} but no id was given");
    bool ids = v && v->id;
    size_t idlen = p->n_idstr ? strlen(v->id) : 0;
    size_t need = p->min_size + p->n_idstr * idlen;
    struct replay_layout l;
    if (p->has_star ? n < need : n != need) {
        replay_layout_init(p, idlen, 0, &l);
        return replay_wrong_size(p, &l, frame, n, need, err);
    }
    replay_layout_init(p, idlen, n - need, &l);

    size_t pos = 0;
    for (size_t k = 0; k < p->nel; k++) {
        const struct replay_el *e = &p->els[k];
        size_t w = replay_layout_width(e, &l);
        switch (e->kind) {
        case REPLAY_EL_BYTES:
            if (!replay_match_bytes(p, e, pos, frame, n, err))
                return 0;
            break;
        case REPLAY_EL_INDEX:
        case REPLAY_EL_GINDEX:
        case REPLAY_EL_SERIAL:
        case REPLAY_EL_COUNTER:
            if (!replay_match_int(e, pos, frame, v, check, cap, widths, err))
                return 0;
            break;
        case REPLAY_EL_ID_BCD:
        case REPLAY_EL_ID_ASCII:
        case REPLAY_EL_ID_STR:
            if (ids && !replay_match_id(e, pos, frame, w, v->id, err))
                return 0;
            break;
        case REPLAY_EL_LEN: {
            uint64_t want = replay_layout_value(p, k, pos, frame, &l);
            uint64_t got = replay_get_uint(frame + pos, w, e->le);
            if (got != want)
                return replay_mismatch(
                    err, pos, "%s is %llu, but %s %llu bytes (pattern offset %zu)",
                    replay_parse_el_name(e, name, sizeof name), (unsigned long long)got,
                    p->has_span ? "the span is" : "after it come", (unsigned long long)want,
                    e->text_off);
            break;
        }
        case REPLAY_EL_XOR8:
        case REPLAY_EL_SUM8:
        case REPLAY_EL_CRC16:
        case REPLAY_EL_CRC16_MODBUS: {
            uint64_t want = replay_layout_value(p, k, pos, frame, &l);
            uint64_t got = replay_get_uint(frame + pos, w, e->le);
            int digits = (int)(2 * w);
            if (got != want)
                return replay_mismatch(
                    err, pos, "%s is 0x%0*llX, computed 0x%0*llX (pattern offset %zu)",
                    replay_parse_el_name(e, name, sizeof name), digits, (unsigned long long)got,
                    digits, (unsigned long long)want, e->text_off);
            break;
        }
        default: /* ??, * */ break;
        }
        pos += w;
    }
    if (err) {
        err->rc = REPLAY_OK;
        err->offset = 0;
        err->msg[0] = 0;
    }
    return 1;
}
