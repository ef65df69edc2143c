/* Stream framing: where one frame ends in a TCP byte stream.
 *
 * DELIM resynchronises by itself: bytes before an opening delimiter are garbage,
 * and of a run of delimiters only the last opens a frame (the others close a frame
 * lost earlier, or are noise), so "7E 7E 01 7E" yields the frame "7E 01 7E".
 * LENGTH and FIXED cannot tell garbage from a frame: a length field that cannot be
 * right is an error, and the caller drops the connection.
 *
 * Byte stuffing (DELIM only) sits between a rendered frame and the wire: the
 * template is the frame as the protocol defines it, stuff escapes it for sending,
 * and unstuff undoes that for a frame cut from the stream.  Since no delimiter is
 * left inside a stuffed frame, cutting needs to know nothing about escapes. */
#include <ctype.h>
#include <limits.h>
#include <string.h>

#include "sim/proto/hex.h"
#include "sim/proto/replay_internal.h"

#define REPLAY_FRAMING_MAX (16u * 1024 * 1024)

struct replay_item {
    size_t off;
    size_t len;
    const char *s;
};

static bool replay_item_is(const struct replay_item *it, const char *word)
{
    return it->len == strlen(word) && memcmp(it->s, word, it->len) == 0;
}

static int replay_hex1(int c) { return hex_digit((char)c); }

/* One hex byte, "7E" or "0x7E"; 0 or -1. */
static int replay_hexbyte(const struct replay_item *it, uint8_t *out)
{
    size_t o = (it->len == 4 && it->s[0] == '0' && (it->s[1] == 'x' || it->s[1] == 'X')) ? 2 : 0;
    if (it->len != o + 2)
        return -1;
    int hi = replay_hex1((unsigned char)it->s[o]), lo = replay_hex1((unsigned char)it->s[o + 1]);
    if (hi < 0 || lo < 0)
        return -1;
    *out = (uint8_t)(hi << 4 | lo);
    return 0;
}

/* A decimal or 0x-hex number in s[0..n), optionally signed; 0 or -1. */
static int replay_num(const char *s, size_t n, bool sign_ok, int64_t *out)
{
    bool neg = false;
    size_t i = 0;
    if (n && (s[0] == '-' || s[0] == '+') && sign_ok) {
        neg = s[0] == '-';
        i = 1;
    }
    unsigned base = 10;
    if (n - i > 2 && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
        base = 16;
        i += 2;
    }
    if (i >= n)
        return -1;
    uint64_t v = 0;
    for (; i < n; i++) {
        int d = base == 16 ? replay_hex1((unsigned char)s[i])
                           : (s[i] >= '0' && s[i] <= '9' ? s[i] - '0' : -1);
        if (d < 0 || v > (UINT64_C(1) << 62) / base)
            return -1;
        v = v * base + (unsigned)d;
    }
    *out = neg ? -(int64_t)v : (int64_t)v;
    return 0;
}

static int replay_bad_value(struct replay_err *err, const struct replay_item *it, const char *key,
                            const char *want)
{
    return replay_fail(err, REPLAY_E_SYNTAX, it->off, "offset %zu: %s \"%.*s\" is not %s", it->off,
                       key, (int)(it->len > 24 ? 24 : it->len), it->s, want);
}

/* What replay_framing_parse has read so far, beyond what goes into the framing. */
struct replay_spec {
    unsigned seen; /* a bit per key, for duplicates */
    bool max_given;
    bool escape_given; /* escape=, or a preset */
    bool xor_given;
    uint8_t xor_mask;
    size_t xor_off; /* where xor's value is, for what only the end shows */
};

static int replay_mix(struct replay_err *err, size_t off)
{
    return replay_fail(err, REPLAY_E_SYNTAX, off,
                       "offset %zu: xor= and mappings like 7E=02 do not mix (use one)", off);
}

/* A mapping of delim: "7E=02" says 0x7E inside a frame is sent as escape, 02. */
static int replay_mapping(const struct replay_item *it, const struct replay_item *key,
                          const struct replay_item *val, bool has_value, uint8_t from,
                          struct replay_framing *f, struct replay_spec *st, struct replay_err *err)
{
    int kl = (int)(key->len > 24 ? 24 : key->len);
    if (st->xor_given)
        return replay_mix(err, it->off);
    if (!has_value)
        return replay_fail(err, REPLAY_E_SYNTAX, it->off,
                           "offset %zu: \"%.*s\" needs a value, e.g. %.*s=02", it->off, kl, key->s,
                           kl, key->s);
    uint8_t to;
    if (replay_hexbyte(val, &to) != 0)
        return replay_fail(err, REPLAY_E_SYNTAX, val->off,
                           "offset %zu: 0x%02X maps to \"%.*s\", which is not one hex byte (like "
                           "02)",
                           val->off, from, (int)(val->len > 24 ? 24 : val->len), val->s);
    for (size_t i = 0; i < f->nstuff; i++)
        if (f->stuff[i].from == from)
            return replay_fail(err, REPLAY_E_SYNTAX, it->off, "offset %zu: 0x%02X is mapped twice",
                               it->off, from);
    if (f->nstuff == REPLAY_STUFF_MAX)
        return replay_fail(err, REPLAY_E_SYNTAX, it->off, "offset %zu: more than %d mappings",
                           it->off, REPLAY_STUFF_MAX);
    if (to == f->delim)
        return replay_fail(err, REPLAY_E_SYNTAX, val->off,
                           "offset %zu: 0x%02X maps to 0x%02X, the delimiter (which cannot be "
                           "inside a frame)",
                           val->off, from, to);
    for (size_t i = 0; i < f->nstuff; i++)
        if (f->stuff[i].to == to)
            return replay_fail(err, REPLAY_E_SYNTAX, val->off,
                               "offset %zu: 0x%02X maps to 0x%02X, as 0x%02X does already",
                               val->off, from, to, f->stuff[i].from);
    f->stuff[f->nstuff].from = from;
    f->stuff[f->nstuff].to = to;
    f->nstuff++;
    return 0;
}

/* One option of a framing spec (after the kind and, for delim and fixed, the
 * first item). */
static int replay_option(const struct replay_item *it, struct replay_framing *f,
                         struct replay_spec *st, struct replay_err *err)
{
    static const char *const length_keys[] = {"offset", "size", "adjust", "max", "le", "be"};
    static const char *const delim_keys[] = {"max", "escape", "xor"};
    const char *eq = memchr(it->s, '=', it->len);
    size_t klen = eq ? (size_t)(eq - it->s) : it->len;
    while (klen && isspace((unsigned char)it->s[klen - 1]))
        klen--;
    struct replay_item key = {it->off, klen, it->s};
    struct replay_item val = {0, 0, NULL};
    if (eq) {
        size_t a = (size_t)(eq - it->s) + 1;
        while (a < it->len && isspace((unsigned char)it->s[a]))
            a++;
        val.off = it->off + a;
        val.len = it->len - a;
        val.s = it->s + a;
    }
    uint8_t from;
    if (f->kind == REPLAY_FRAME_DELIM && replay_hexbyte(&key, &from) == 0)
        return replay_mapping(it, &key, &val, eq != NULL, from, f, st, err);
    int which = -1;
    size_t nkeys = f->kind == REPLAY_FRAME_LENGTH ? 6 : f->kind == REPLAY_FRAME_DELIM ? 3 : 1;
    const char *const *keys = f->kind == REPLAY_FRAME_LENGTH ? length_keys : delim_keys;
    for (size_t k = 0; k < nkeys; k++)
        if (replay_item_is(&key, keys[k]))
            which = (int)k;
    if (which < 0) {
        const char *near = replay_parse_nearest(key.s, key.len, keys, nkeys);
        if (near)
            return replay_fail(err, REPLAY_E_SYNTAX, it->off,
                               "offset %zu: unknown framing option \"%.*s\" (did you mean \"%s\"?)",
                               it->off, (int)(key.len > 24 ? 24 : key.len), key.s, near);
        return replay_fail(err, REPLAY_E_SYNTAX, it->off,
                           "offset %zu: unknown framing option \"%.*s\"", it->off,
                           (int)(key.len > 24 ? 24 : key.len), key.s);
    }
    const char *kname = keys[which];
    bool flag = strcmp(kname, "le") == 0 || strcmp(kname, "be") == 0;
    unsigned bit = flag ? 1u << 4 : 1u << which;
    if (st->seen & bit)
        return replay_fail(err, REPLAY_E_SYNTAX, it->off, "offset %zu: \"%s\" given twice", it->off,
                           flag ? "le/be" : kname);
    st->seen |= bit;
    if (flag) {
        if (eq)
            return replay_fail(err, REPLAY_E_SYNTAX, it->off, "offset %zu: \"%s\" takes no value",
                               it->off, kname);
        f->len_le = kname[0] == 'l';
        return 0;
    }
    if (!eq)
        return replay_fail(err, REPLAY_E_SYNTAX, it->off,
                           "offset %zu: \"%s\" needs a value, e.g. %s=%s", it->off, kname, kname,
                           strcmp(kname, "size") == 0     ? "2"
                           : strcmp(kname, "escape") == 0 ? "7D"
                           : strcmp(kname, "xor") == 0    ? "20"
                                                          : "4");
    int64_t v;
    uint8_t b;
    if (strcmp(kname, "escape") == 0) {
        if (replay_hexbyte(&val, &b) != 0)
            return replay_bad_value(err, &val, kname, "one hex byte (like 7D)");
        if (b == f->delim)
            return replay_fail(err, REPLAY_E_SYNTAX, val.off,
                               "offset %zu: escape 0x%02X is the delimiter; the escape byte must "
                               "be another",
                               val.off, b);
        f->escape = b;
        st->escape_given = true;
    } else if (strcmp(kname, "xor") == 0) {
        if (f->nstuff)
            return replay_mix(err, it->off);
        if (replay_hexbyte(&val, &b) != 0)
            return replay_bad_value(err, &val, kname, "one hex byte (like 20)");
        if (b == 0)
            return replay_fail(err, REPLAY_E_SYNTAX, val.off,
                               "offset %zu: xor=00 would send every byte as it is", val.off);
        st->xor_given = true;
        st->xor_mask = b;
        st->xor_off = val.off;
    } else if (strcmp(kname, "adjust") == 0) {
        if (replay_num(val.s, val.len, true, &v) != 0)
            return replay_bad_value(err, &val, kname, "a number");
        f->len_adjust = v;
    } else if (strcmp(kname, "size") == 0) {
        if (replay_num(val.s, val.len, false, &v) != 0 || v < 1 || v > 8)
            return replay_bad_value(err, &val, kname, "1..8");
        f->len_size = (size_t)v;
    } else if (strcmp(kname, "offset") == 0) {
        if (replay_num(val.s, val.len, false, &v) != 0 || v >= (int64_t)REPLAY_FRAMING_MAX)
            return replay_bad_value(err, &val, kname, "a byte offset");
        f->len_offset = (size_t)v;
    } else {
        if (replay_num(val.s, val.len, false, &v) != 0 || v < 1 || v > (int64_t)REPLAY_FRAMING_MAX)
            return replay_bad_value(err, &val, kname, "1..16777216");
        f->max_frame = (size_t)v;
        st->max_given = true;
    }
    return 0;
}

/* The first value from 01 up that no mapping sends and that is not the delimiter,
 * for the example in a message. */
static uint8_t replay_free_code(const struct replay_framing *f, int also_taken)
{
    for (unsigned c = 1; c < 256; c++) {
        bool taken = c == f->delim || (int)c == also_taken;
        for (size_t i = 0; i < f->nstuff; i++)
            taken = taken || f->stuff[i].to == c;
        if (!taken)
            return (uint8_t)c;
    }
    return 0;
}

/* What only the whole delim spec shows: escape= and its mappings go together, and
 * both the delimiter and the escape byte are mapped. */
static int replay_stuff_finish(struct replay_framing *f, const struct replay_spec *st, size_t end,
                               struct replay_err *err)
{
    if (!st->escape_given) {
        if (f->nstuff || st->xor_given)
            return replay_fail(err, REPLAY_E_SYNTAX, end,
                               "offset %zu: stuffing needs escape=, e.g. escape=7D", end);
        return 0;
    }
    if (st->xor_given) {
        uint8_t x = st->xor_mask;
        if ((f->escape ^ x) == f->delim)
            return replay_fail(err, REPLAY_E_SYNTAX, st->xor_off,
                               "offset %zu: xor=%02X would send 0x%02X as %02X %02X, the delimiter",
                               st->xor_off, x, f->escape, f->escape, f->delim);
        f->stuff[0].from = f->delim;
        f->stuff[0].to = f->delim ^ x;
        f->stuff[1].from = f->escape;
        f->stuff[1].to = f->escape ^ x;
        f->nstuff = 2;
        return 0;
    }
    if (!f->nstuff) {
        uint8_t a = replay_free_code(f, -1); /* for the escape byte, as JT/T 808 has it */
        return replay_fail(
            err, REPLAY_E_SYNTAX, end,
            "offset %zu: escape=%02X needs xor= or mappings, e.g. %02X=%02X,%02X=%02X", end,
            f->escape, f->delim, replay_free_code(f, a), f->escape, a);
    }
    const uint8_t must[2] = {f->delim, f->escape};
    for (int k = 0; k < 2; k++) {
        bool mapped = false;
        for (size_t i = 0; i < f->nstuff; i++)
            mapped = mapped || f->stuff[i].from == must[k];
        if (!mapped)
            return replay_fail(err, REPLAY_E_SYNTAX, end,
                               "offset %zu: the %s 0x%02X has no mapping (add one, e.g. %02X=%02X)",
                               end, k ? "escape byte" : "delimiter", must[k], must[k],
                               replay_free_code(f, -1));
    }
    return 0;
}

/* delim's first item: the byte, or a preset of a byte with its stuffing. */
static int replay_delim_first(const struct replay_item *it, struct replay_framing *f,
                              struct replay_spec *st, struct replay_err *err)
{
    static const char *const presets[] = {"jt808", "hdlc"};
    if (replay_hexbyte(it, &f->delim) == 0)
        return 0;
    if (replay_item_is(it, "jt808") || replay_item_is(it, "hdlc")) {
        f->delim = 0x7E;
        f->escape = 0x7D;
        st->escape_given = true;
        st->seen |= 1u << 1; /* escape= */
        if (it->s[0] == 'h') {
            st->xor_given = true;
            st->xor_mask = 0x20;
            st->xor_off = it->off;
            st->seen |= 1u << 2; /* xor= */
        } else {
            f->stuff[0].from = 0x7E;
            f->stuff[0].to = 0x02;
            f->stuff[1].from = 0x7D;
            f->stuff[1].to = 0x01;
            f->nstuff = 2;
        }
        return 0;
    }
    const char *near = replay_parse_nearest(it->s, it->len, presets, 2);
    if (near)
        return replay_fail(err, REPLAY_E_SYNTAX, it->off,
                           "offset %zu: unknown delimiter preset \"%.*s\" (did you mean \"%s\"?)",
                           it->off, (int)(it->len > 24 ? 24 : it->len), it->s, near);
    return replay_bad_value(err, it, "delimiter", "one hex byte (like 7E) or jt808 or hdlc");
}

int replay_framing_parse(const char *spec, struct replay_framing *f, struct replay_err *err)
{
    static const char *const kinds[] = {"delim", "length", "fixed", "none"};
    memset(f, 0, sizeof *f);
    f->max_frame = REPLAY_MAX_FRAME;
    if (!spec)
        return replay_fail(err, REPLAY_E_SYNTAX, 0, "offset 0: no framing");
    size_t i = 0;
    while (isspace((unsigned char)spec[i]))
        i++;
    size_t k0 = i;
    while (spec[i] && spec[i] != ':' && !isspace((unsigned char)spec[i]))
        i++;
    struct replay_item kind = {k0, i - k0, spec + k0};
    int which = -1;
    for (int k = 0; k < 4; k++)
        if (replay_item_is(&kind, kinds[k]))
            which = k;
    if (which < 0) {
        const char *near = replay_parse_nearest(kind.s, kind.len, kinds, 4);
        int ql = (int)(kind.len > 24 ? 24 : kind.len);
        if (near)
            return replay_fail(err, REPLAY_E_SYNTAX, k0,
                               "offset %zu: unknown framing \"%.*s\" (did you mean \"%s\"?)", k0,
                               ql, kind.s, near);
        return replay_fail(err, REPLAY_E_SYNTAX, k0,
                           "offset %zu: unknown framing \"%.*s\" (delim, length, fixed or none)",
                           k0, ql, kind.s);
    }
    f->kind = (enum replay_framing_kind)which;
    while (isspace((unsigned char)spec[i]))
        i++;
    if (spec[i] && spec[i] != ':')
        return replay_fail(err, REPLAY_E_SYNTAX, i, "offset %zu: expected \":\" after \"%s\"", i,
                           kinds[which]);
    bool has_opts = spec[i] == ':';
    if (has_opts)
        i++;
    if (!has_opts && f->kind != REPLAY_FRAME_NONE)
        return replay_fail(err, REPLAY_E_SYNTAX, i, "offset %zu: \"%s\" needs %s", i, kinds[which],
                           f->kind == REPLAY_FRAME_DELIM ? "a byte, e.g. delim:7E"
                           : f->kind == REPLAY_FRAME_FIXED
                               ? "a size, e.g. fixed:16"
                               : "size=, e.g. length:offset=1,size=2,adjust=4");

    struct replay_spec st = {0};
    bool first = true;
    while (has_opts) {
        size_t a = i;
        while (spec[i] && spec[i] != ',')
            i++;
        size_t b = i;
        while (a < b && isspace((unsigned char)spec[a]))
            a++;
        while (b > a && isspace((unsigned char)spec[b - 1]))
            b--;
        struct replay_item it = {a, b - a, spec + a};
        if (it.len == 0)
            return replay_fail(err, REPLAY_E_SYNTAX, a, "offset %zu: an empty framing option", a);
        if (first && f->kind == REPLAY_FRAME_DELIM) {
            if (replay_delim_first(&it, f, &st, err) != 0)
                return -1;
        } else if (first && f->kind == REPLAY_FRAME_FIXED) {
            int64_t v;
            if (replay_num(it.s, it.len, false, &v) != 0 || v < 1 ||
                v > (int64_t)REPLAY_FRAMING_MAX)
                return replay_bad_value(err, &it, "size", "1..16777216");
            f->fixed = (size_t)v;
        } else if (replay_option(&it, f, &st, err) != 0) {
            return -1;
        }
        first = false;
        if (!spec[i])
            break;
        i++;
    }

    size_t end = i;
    if (f->kind == REPLAY_FRAME_DELIM && replay_stuff_finish(f, &st, end, err) != 0)
        return -1;
    if (f->kind == REPLAY_FRAME_LENGTH) {
        if (!(st.seen & 2u))
            return replay_fail(err, REPLAY_E_SYNTAX, end,
                               "offset %zu: length framing needs size=, e.g. size=2", end);
        if (f->len_offset + f->len_size > f->max_frame)
            return replay_fail(err, REPLAY_E_SYNTAX, end,
                               "offset %zu: the length field ends at byte %zu, past max=%zu", end,
                               f->len_offset + f->len_size, f->max_frame);
    }
    if (f->kind == REPLAY_FRAME_FIXED) {
        if (!st.max_given)
            f->max_frame = f->fixed;
        else if (f->fixed > f->max_frame)
            return replay_fail(err, REPLAY_E_SYNTAX, end, "offset %zu: fixed:%zu is over max=%zu",
                               end, f->fixed, f->max_frame);
    }
    if (err) {
        err->rc = REPLAY_OK;
        err->offset = 0;
        err->msg[0] = 0;
    }
    return 0;
}

static long replay_frame(size_t start, size_t len, size_t *pstart, size_t *plen, size_t *skipped)
{
    *pstart = start;
    *plen = len;
    *skipped = start;
    return (long)(start + len);
}

static long replay_delim(const struct replay_framing *f, size_t max, const uint8_t *buf, size_t n,
                         size_t *start, size_t *len, size_t *skipped, struct replay_err *err)
{
    size_t i = 0;
    while (i < n && buf[i] != f->delim)
        i++;
    while (i + 1 < n && buf[i + 1] == f->delim)
        i++;
    if (i == n) /* all garbage: drop it */
        return replay_frame(n, 0, start, len, skipped);
    const uint8_t *close = i + 1 < n ? memchr(buf + i + 1, f->delim, n - i - 1) : NULL;
    if (!close) {
        /* a frame ending in the next read would be at least n - i + 1 bytes */
        if (n - i + 1 > max) {
            replay_fail(err, REPLAY_E_LIMIT, i,
                        "frame offset %zu: no closing 0x%02X within max_frame %zu bytes", i,
                        f->delim, max);
            return -1;
        }
        return i ? replay_frame(i, 0, start, len, skipped) : 0;
    }
    size_t flen = (size_t)(close - buf) - i + 1;
    if (flen > max) {
        replay_fail(err, REPLAY_E_LIMIT, i,
                    "frame offset %zu: a frame of %zu bytes, over max_frame %zu", i, flen, max);
        return -1;
    }
    return replay_frame(i, flen, start, len, skipped);
}

static long replay_length(const struct replay_framing *f, size_t max, const uint8_t *buf, size_t n,
                          size_t *start, size_t *len, size_t *skipped, struct replay_err *err)
{
    size_t hdr = f->len_offset + f->len_size;
    if (n < hdr)
        return 0;
    uint64_t v = replay_get_uint(buf + f->len_offset, f->len_size, f->len_le);
    /* total = v + adjust, done without overflow in either direction */
    uint64_t total;
    bool bad;
    if (f->len_adjust >= 0) {
        total = v + (uint64_t)f->len_adjust;
        bad = total < v;
    } else {
        uint64_t sub = (uint64_t)(-(f->len_adjust + 1)) + 1;
        bad = v < sub;
        total = v - sub;
    }
    if (bad || total < hdr) {
        replay_fail(err, REPLAY_E_FRAME, f->len_offset,
                    "frame offset %zu: the length field says %llu (frame size %llu%+lld), less "
                    "than the %zu bytes up to its end",
                    f->len_offset, (unsigned long long)v, (unsigned long long)v,
                    (long long)f->len_adjust, hdr);
        return -1;
    }
    if (total > max) {
        replay_fail(err, REPLAY_E_LIMIT, f->len_offset,
                    "frame offset %zu: the length field says %llu, a frame of %llu bytes, over "
                    "max_frame %zu",
                    f->len_offset, (unsigned long long)v, (unsigned long long)total, max);
        return -1;
    }
    if (n < total)
        return 0;
    return replay_frame(0, (size_t)total, start, len, skipped);
}

long replay_framing_next(const struct replay_framing *f, const uint8_t *buf, size_t n,
                         size_t *start, size_t *len, size_t *skipped, struct replay_err *err)
{
    size_t max = f->max_frame ? f->max_frame : REPLAY_MAX_FRAME;
    *start = *len = *skipped = 0;
    if (n > LONG_MAX)
        n = LONG_MAX;
    if (n == 0)
        return 0;
    switch (f->kind) {
    case REPLAY_FRAME_DELIM: return replay_delim(f, max, buf, n, start, len, skipped, err);
    case REPLAY_FRAME_LENGTH:
        if (f->len_size < 1 || f->len_size > 8) {
            replay_fail(err, REPLAY_E_FRAME, 0, "bad framing: a length field of %zu bytes",
                        f->len_size);
            return -1;
        }
        return replay_length(f, max, buf, n, start, len, skipped, err);
    case REPLAY_FRAME_FIXED:
        if (f->fixed == 0 || f->fixed > max) {
            replay_fail(err, REPLAY_E_FRAME, 0,
                        "bad framing: fixed frames of %zu bytes (max_frame %zu)", f->fixed, max);
            return -1;
        }
        return n < f->fixed ? 0 : replay_frame(0, f->fixed, start, len, skipped);
    case REPLAY_FRAME_NONE:
        if (n > max) {
            replay_fail(err, REPLAY_E_LIMIT, 0,
                        "frame offset 0: a datagram of %zu bytes, over max_frame %zu", n, max);
            return -1;
        }
        return replay_frame(0, n, start, len, skipped);
    }
    replay_fail(err, REPLAY_E_FRAME, 0, "bad framing kind %d", (int)f->kind);
    return -1;
}

/* ---- byte stuffing ---------------------------------------------------------- */

bool replay_framing_stuffs(const struct replay_framing *f)
{
    return f->kind == REPLAY_FRAME_DELIM && f->nstuff > 0;
}

/* A framing filled by hand: stuffing that unstuff could not undo is refused. */
static int replay_stuff_valid(const struct replay_framing *f, struct replay_err *err)
{
    if (f->nstuff > REPLAY_STUFF_MAX)
        return replay_fail(err, REPLAY_E_FRAME, 0, "bad framing: %zu stuffed bytes (at most %d)",
                           f->nstuff, REPLAY_STUFF_MAX);
    if (f->escape == f->delim)
        return replay_fail(err, REPLAY_E_FRAME, 0,
                           "bad framing: the escape byte is the delimiter 0x%02X", f->delim);
    bool delim_mapped = false, escape_mapped = false;
    for (size_t i = 0; i < f->nstuff; i++) {
        if (f->stuff[i].to == f->delim)
            return replay_fail(err, REPLAY_E_FRAME, 0,
                               "bad framing: 0x%02X maps to the delimiter 0x%02X", f->stuff[i].from,
                               f->delim);
        for (size_t k = 0; k < i; k++)
            if (f->stuff[k].from == f->stuff[i].from || f->stuff[k].to == f->stuff[i].to)
                return replay_fail(
                    err, REPLAY_E_FRAME, 0, "bad framing: 0x%02X=%02X and 0x%02X=%02X overlap",
                    f->stuff[k].from, f->stuff[k].to, f->stuff[i].from, f->stuff[i].to);
        delim_mapped = delim_mapped || f->stuff[i].from == f->delim;
        escape_mapped = escape_mapped || f->stuff[i].from == f->escape;
    }
    if (!delim_mapped || !escape_mapped)
        return replay_fail(err, REPLAY_E_FRAME, 0,
                           "bad framing: the delimiter 0x%02X and the escape byte 0x%02X must "
                           "both be mapped",
                           f->delim, f->escape);
    return 0;
}

/* What stuff and unstuff check first.  @return 1 to escape or unescape, 0 to copy,
 * -1 with err set. */
static int replay_stuff_begin(const struct replay_framing *f, const uint8_t *in, size_t n,
                              struct replay_err *err)
{
    if (n == 0)
        return replay_fail(err, REPLAY_E_VALUE, 0, "frame offset 0: an empty frame");
    if (!replay_framing_stuffs(f))
        return 0;
    if (replay_stuff_valid(f, err) != 0)
        return -1;
    if (n < 2)
        return replay_fail(err, REPLAY_E_VALUE, 0,
                           "frame offset 0: a frame of one byte, which cannot open and close "
                           "with 0x%02X",
                           f->delim);
    if (in[0] != f->delim)
        return replay_fail(err, REPLAY_E_VALUE, 0,
                           "frame offset 0: the frame starts with 0x%02X, not the delimiter "
                           "0x%02X",
                           in[0], f->delim);
    if (in[n - 1] != f->delim)
        return replay_fail(err, REPLAY_E_VALUE, n - 1,
                           "frame offset %zu: the frame ends with 0x%02X, not the delimiter "
                           "0x%02X",
                           n - 1, in[n - 1], f->delim);
    return 1;
}

static size_t replay_copy(const uint8_t *in, size_t n, uint8_t *out, size_t cap,
                          struct replay_err *err)
{
    if (!out)
        cap = 0;
    if (n > cap) {
        replay_fail(err, REPLAY_E_NOSPACE, n, "the frame is %zu bytes, the buffer holds %zu", n,
                    cap);
        return 0;
    }
    memcpy(out, in, n);
    return n;
}

/* Write b at out[*j] if it fits, and count it either way. */
static void replay_put(uint8_t *out, size_t cap, size_t *j, uint8_t b)
{
    if (*j < cap)
        out[*j] = b;
    (*j)++;
}

static size_t replay_stuff_done(size_t j, size_t cap, const char *how, struct replay_err *err)
{
    if (j > cap) {
        replay_fail(err, REPLAY_E_NOSPACE, j, "the frame is %zu bytes %s, the buffer holds %zu", j,
                    how, cap);
        return 0;
    }
    return j;
}

size_t replay_framing_stuff(const struct replay_framing *f, const uint8_t *in, size_t n,
                            uint8_t *out, size_t cap, struct replay_err *err)
{
    int how = replay_stuff_begin(f, in, n, err);
    if (how <= 0)
        return how < 0 ? 0 : replay_copy(in, n, out, cap, err);
    if (!out)
        cap = 0;
    size_t j = 0;
    replay_put(out, cap, &j, in[0]);
    for (size_t i = 1; i + 1 < n; i++) {
        size_t k = 0;
        while (k < f->nstuff && f->stuff[k].from != in[i])
            k++;
        if (k == f->nstuff) {
            replay_put(out, cap, &j, in[i]);
        } else {
            replay_put(out, cap, &j, f->escape);
            replay_put(out, cap, &j, f->stuff[k].to);
        }
    }
    replay_put(out, cap, &j, in[n - 1]);
    return replay_stuff_done(j, cap, "stuffed", err);
}

size_t replay_framing_unstuff(const struct replay_framing *f, const uint8_t *in, size_t n,
                              uint8_t *out, size_t cap, struct replay_err *err)
{
    int how = replay_stuff_begin(f, in, n, err);
    if (how <= 0)
        return how < 0 ? 0 : replay_copy(in, n, out, cap, err);
    if (!out)
        cap = 0;
    size_t j = 0;
    replay_put(out, cap, &j, in[0]);
    for (size_t i = 1; i + 1 < n; i++) {
        uint8_t b = in[i];
        if (b == f->delim) {
            replay_fail(err, REPLAY_E_FRAME, i,
                        "frame offset %zu: the delimiter 0x%02X inside the frame", i, b);
            return 0;
        }
        if (b != f->escape) {
            replay_put(out, cap, &j, b);
            continue;
        }
        if (i + 2 == n) {
            replay_fail(err, REPLAY_E_FRAME, i,
                        "frame offset %zu: 0x%02X right before the closing 0x%02X (an escape "
                        "needs a second byte)",
                        i, b, f->delim);
            return 0;
        }
        uint8_t c = in[i + 1];
        size_t k = 0;
        while (k < f->nstuff && f->stuff[k].to != c)
            k++;
        if (k == f->nstuff) {
            char use[REPLAY_STUFF_MAX * 7 + 1]; /* "7E=02, 7D=01" */
            size_t u = 0;
            for (size_t m = 0; m < f->nstuff; m++)
                u += (size_t)snprintf(use + u, sizeof use - u, "%s%02X=%02X", m ? ", " : "",
                                      f->stuff[m].from, f->stuff[m].to);
            replay_fail(err, REPLAY_E_FRAME, i,
                        "frame offset %zu: 0x%02X followed by 0x%02X, which is no escape (use %s)",
                        i, b, c, use);
            return 0;
        }
        replay_put(out, cap, &j, f->stuff[k].from);
        i++;
    }
    replay_put(out, cap, &j, in[n - 1]);
    return replay_stuff_done(j, cap, "unescaped", err);
}
