/* Templates: compile once, render a frame per message.
 *
 * Render fills the frame in three passes: every field that needs only the caller's
 * variables (len too: it needs only the layout), then the checksums inside the
 * span (they read each other as zero, so their order does not matter), then the
 * others left to right (a checksum without a span covers everything before it,
 * earlier checksums included). */
#include <stdlib.h>
#include <string.h>

#include "sim/proto/replay_internal.h"

struct replay_tmpl {
    struct replay_prog prog;
};

#define REPLAY_RNG_ZERO_SEED 2463534242u

int replay_tmpl_compile(const char *text, struct replay_tmpl **out, struct replay_err *err)
{
    *out = NULL;
    struct replay_tmpl *t = calloc(1, sizeof *t);
    if (!t)
        return replay_fail(err, REPLAY_E_LIMIT, 0, "offset 0: out of memory");
    if (replay_parse(text, REPLAY_MODE_TMPL, &t->prog, err) != 0) {
        free(t);
        return -1;
    }
    *out = t;
    return 0;
}

void replay_tmpl_free(struct replay_tmpl *t)
{
    if (!t)
        return;
    replay_parse_free(&t->prog);
    free(t);
}

size_t replay_tmpl_min_size(const struct replay_tmpl *t)
{
    return t->prog.min_size;
}

static size_t replay_idlen(const struct replay_prog *p, const struct replay_vars *v)
{
    return p->n_idstr && v && v->id ? strlen(v->id) : 0;
}

size_t replay_tmpl_size(const struct replay_tmpl *t, const struct replay_vars *v)
{
    return t->prog.min_size + t->prog.n_idstr * replay_idlen(&t->prog, v);
}

bool replay_tmpl_has(const struct replay_tmpl *t, const char *placeholder)
{
    return replay_parse_has(&t->prog, placeholder);
}

static int64_t replay_floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static uint8_t replay_bcd(unsigned v)
{
    return (uint8_t)((v / 10 % 10) << 4 | v % 10);
}

/* YYMMDDhhmmss of unix seconds t (proleptic Gregorian, any year; YY is year mod 100). */
static void replay_time_bcd(int64_t t, uint8_t *out)
{
    int64_t days = replay_floor_div(t, 86400);
    int64_t secs = t - days * 86400;
    /* days since 1970-01-01 -> civil date (H. Hinnant's days_from_civil, inverted) */
    int64_t z = days + 719468;
    int64_t era = replay_floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = yoe + era * 400 + (m <= 2);
    int64_t yy = y % 100;
    if (yy < 0)
        yy += 100;
    out[0] = replay_bcd((unsigned)yy);
    out[1] = replay_bcd((unsigned)m);
    out[2] = replay_bcd((unsigned)d);
    out[3] = replay_bcd((unsigned)(secs / 3600));
    out[4] = replay_bcd((unsigned)(secs / 60 % 60));
    out[5] = replay_bcd((unsigned)(secs % 60));
}

static int64_t replay_local_time(int64_t unix_s, int32_t off)
{
    if (off > 0 && unix_s > INT64_MAX - off)
        return INT64_MAX;
    if (off < 0 && unix_s < INT64_MIN - off)
        return INT64_MIN;
    return unix_s + off;
}

/* xorshift32 (Marsaglia): one step per 4 bytes, each step's value most
 * significant byte first; what is left of the last step is dropped. */
static void replay_rand(uint32_t *state, uint8_t *out, size_t n)
{
    uint32_t x = *state ? *state : REPLAY_RNG_ZERO_SEED;
    for (size_t i = 0; i < n; i += 4) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        for (size_t b = 0; b < 4 && i + b < n; b++)
            out[i + b] = (uint8_t)(x >> (24 - 8 * b));
    }
    *state = x;
}

/* Pass 1: one field from the variables (checksums left as zero). */
static int replay_render_el(const struct replay_prog *p, size_t k, size_t pos,
                            const struct replay_vars *v, const struct replay_layout *l,
                            uint32_t *rng, uint8_t *out, struct replay_err *err)
{
    const struct replay_el *e = &p->els[k];
    uint8_t *o = out + pos;
    char name[32], why[120];
    switch (e->kind) {
    case REPLAY_EL_BYTES: memcpy(o, p->bytes + e->data, e->width); return 0;
    case REPLAY_EL_INDEX: replay_put_uint(o, e->width, e->le, v->index); return 0;
    case REPLAY_EL_GINDEX: replay_put_uint(o, e->width, e->le, v->gindex); return 0;
    case REPLAY_EL_SERIAL: replay_put_uint(o, e->width, e->le, v->serial); return 0;
    case REPLAY_EL_COUNTER: replay_put_uint(o, e->width, e->le, v->counter); return 0;
    case REPLAY_EL_ID_BCD:
    case REPLAY_EL_ID_ASCII:
    case REPLAY_EL_ID_STR:
        if (!v->id)
            return replay_fail(err, REPLAY_E_VALUE, e->text_off, "offset %zu: %s but no id given",
                               e->text_off, replay_parse_el_name(e, name, sizeof name));
        if (replay_layout_id(e, v->id, o, why, sizeof why) != 0)
            return replay_fail(err, REPLAY_E_VALUE, e->text_off, "offset %zu: %s", e->text_off,
                               why);
        return 0;
    case REPLAY_EL_TIME_BCD:
        replay_time_bcd(replay_local_time(v->unix_s, v->utc_offset_s), o);
        return 0;
    case REPLAY_EL_TIME_UNIX: replay_put_uint(o, e->width, e->le, (uint64_t)v->unix_s); return 0;
    case REPLAY_EL_RAND:
        if (!v->rng)
            return replay_fail(err, REPLAY_E_VALUE, e->text_off,
                               "offset %zu: %s but no rng state given", e->text_off,
                               replay_parse_el_name(e, name, sizeof name));
        replay_rand(rng, o, e->width);
        return 0;
    case REPLAY_EL_LEN: {
        uint64_t n = replay_layout_value(p, k, pos, out, l);
        if (replay_mask(n, e->width) != n)
            return replay_fail(err, REPLAY_E_VALUE, e->text_off,
                               "offset %zu: %s cannot hold the %llu bytes it counts", e->text_off,
                               replay_parse_el_name(e, name, sizeof name), (unsigned long long)n);
        replay_put_uint(o, e->width, e->le, n);
        return 0;
    }
    default: memset(o, 0, e->width); return 0;
    }
}

/* Passes 2 and 3: the checksums inside the span (in_span true) or outside it. */
static void replay_render_sums(const struct replay_prog *p, const struct replay_layout *l,
                               bool in_span, uint8_t *out)
{
    size_t pos = 0;
    for (size_t k = 0; k < p->nel; k++) {
        const struct replay_el *e = &p->els[k];
        if (replay_layout_is_sum(e->kind) && e->in_span == in_span) {
            uint64_t c = replay_layout_value(p, k, pos, out, l);
            replay_put_uint(out + pos, e->width, e->le, c);
        }
        pos += replay_layout_width(e, l);
    }
}

size_t replay_tmpl_render(const struct replay_tmpl *t, const struct replay_vars *v, uint8_t *out,
                          size_t cap, struct replay_err *err)
{
    static const struct replay_vars none;
    const struct replay_prog *p = &t->prog;
    if (!v)
        v = &none;
    if (p->n_idstr && !v->id) {
        /* before the sizes, which depend on it */
        size_t k = 0;
        while (p->els[k].kind != REPLAY_EL_ID_STR)
            k++;
        replay_fail(err, REPLAY_E_VALUE, p->els[k].text_off, "offset %zu: {id:str} but no id given",
                    p->els[k].text_off);
        return 0;
    }
    struct replay_layout l;
    replay_layout_init(p, replay_idlen(p, v), 0, &l);
    if (l.total > REPLAY_MAX_FRAME) {
        replay_fail(err, REPLAY_E_LIMIT, l.total,
                    "the frame would be %zu bytes with this id, over %u", l.total,
                    REPLAY_MAX_FRAME);
        return 0;
    }
    if (l.total == 0) {
        /* only {id:str} can make it so; 0 is the error return */
        replay_fail(err, REPLAY_E_VALUE, 0, "offset 0: the frame would be empty (empty id)");
        return 0;
    }
    if (l.total > cap || !out) {
        replay_fail(err, REPLAY_E_NOSPACE, l.total, "the frame is %zu bytes, the buffer holds %zu",
                    l.total, out ? cap : 0);
        return 0;
    }
    /* rand draws from a copy, committed only when the whole frame is done */
    uint32_t rng = v->rng ? *v->rng : 0;
    size_t pos = 0;
    for (size_t k = 0; k < p->nel; k++) {
        if (replay_render_el(p, k, pos, v, &l, &rng, out, err) != 0)
            return 0;
        pos += replay_layout_width(&p->els[k], &l);
    }
    replay_render_sums(p, &l, true, out);
    replay_render_sums(p, &l, false, out);
    if (v->rng && (p->has >> REPLAY_PH_RAND & 1u))
        *v->rng = rng;
    if (err) {
        err->rc = REPLAY_OK;
        err->offset = 0;
        err->msg[0] = 0;
    }
    return l.total;
}
