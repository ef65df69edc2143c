/* Stream framing: where one frame ends in a TCP byte stream.
 *
 * DELIM resynchronises by itself: bytes before an opening delimiter are garbage,
 * and of a run of delimiters only the last opens a frame (the others close a frame
 * lost earlier, or are noise), so "7E 7E 01 7E" yields the frame "7E 01 7E".
 * LENGTH and FIXED cannot tell garbage from a frame: a length field that cannot be
 * right is an error, and the caller drops the connection. */
#include <ctype.h>
#include <limits.h>
#include <string.h>

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

static int replay_hex1(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
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

/* One option of a framing spec (after the kind and, for delim and fixed, the
 * first item).  *seen has a bit per key, for duplicates. */
static int replay_option(const struct replay_item *it, struct replay_framing *f, unsigned *seen,
                         bool *max_given, struct replay_err *err)
{
    static const char *const length_keys[] = {"offset", "size", "adjust", "max", "le", "be"};
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
    int which = -1;
    size_t nkeys = f->kind == REPLAY_FRAME_LENGTH ? 6 : 1;
    const char *const *keys = f->kind == REPLAY_FRAME_LENGTH ? length_keys : length_keys + 3;
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
    if (*seen & bit)
        return replay_fail(err, REPLAY_E_SYNTAX, it->off, "offset %zu: \"%s\" given twice", it->off,
                           flag ? "le/be" : kname);
    *seen |= bit;
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
                           strcmp(kname, "size") == 0 ? "2" : "4");
    int64_t v;
    if (strcmp(kname, "adjust") == 0) {
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
        *max_given = true;
    }
    return 0;
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

    unsigned seen = 0;
    bool first = true, max_given = false;
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
            size_t o =
                (it.len == 4 && it.s[0] == '0' && (it.s[1] == 'x' || it.s[1] == 'X')) ? 2 : 0;
            if (it.len != o + 2 || replay_hex1((unsigned char)it.s[o]) < 0 ||
                replay_hex1((unsigned char)it.s[o + 1]) < 0)
                return replay_bad_value(err, &it, "delimiter", "one hex byte (like 7E)");
            f->delim = (uint8_t)(replay_hex1((unsigned char)it.s[o]) << 4 |
                                 replay_hex1((unsigned char)it.s[o + 1]));
        } else if (first && f->kind == REPLAY_FRAME_FIXED) {
            int64_t v;
            if (replay_num(it.s, it.len, false, &v) != 0 || v < 1 ||
                v > (int64_t)REPLAY_FRAMING_MAX)
                return replay_bad_value(err, &it, "size", "1..16777216");
            f->fixed = (size_t)v;
        } else if (replay_option(&it, f, &seen, &max_given, err) != 0) {
            return -1;
        }
        first = false;
        if (!spec[i])
            break;
        i++;
    }

    size_t end = i;
    if (f->kind == REPLAY_FRAME_LENGTH) {
        if (!(seen & 2u))
            return replay_fail(err, REPLAY_E_SYNTAX, end,
                               "offset %zu: length framing needs size=, e.g. size=2", end);
        if (f->len_offset + f->len_size > f->max_frame)
            return replay_fail(err, REPLAY_E_SYNTAX, end,
                               "offset %zu: the length field ends at byte %zu, past max=%zu", end,
                               f->len_offset + f->len_size, f->max_frame);
    }
    if (f->kind == REPLAY_FRAME_FIXED) {
        if (!max_given)
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
