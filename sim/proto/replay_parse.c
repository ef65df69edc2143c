/* Template and pattern text -> a list of elements (struct replay_prog).
 *
 * One pass over the text, left to right; the first problem stops it with the
 * character offset of what is wrong: the '{' of a placeholder whose name is
 * unknown, the argument itself when only the argument is wrong. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "sim/proto/hex.h"
#include "sim/proto/replay_internal.h"

static const char *const replay_ph_names[REPLAY_PH_COUNT] = {
    [REPLAY_PH_INDEX] = "index",   [REPLAY_PH_GINDEX] = "gindex",   [REPLAY_PH_ID] = "id",
    [REPLAY_PH_SERIAL] = "serial", [REPLAY_PH_COUNTER] = "counter", [REPLAY_PH_TIME] = "time",
    [REPLAY_PH_RAND] = "rand",     [REPLAY_PH_LEN] = "len",         [REPLAY_PH_XOR8] = "xor8",
    [REPLAY_PH_SUM8] = "sum8",     [REPLAY_PH_CRC16] = "crc16",
};

#define REPLAY_MAX_PARTS 4  /* name and up to three arguments; more is an error */
#define REPLAY_BCD_MAX 16   /* {id:bcdN}: up to 32 digits */
#define REPLAY_ASCII_MAX 64 /* {id:asciiN} */
#define REPLAY_RAND_MAX 1024

struct replay_part {
    size_t off; /* in the text */
    size_t len;
    const char *s;
};

struct replay_parser {
    const char *text;
    enum replay_mode mode;
    struct replay_prog *p;
    struct replay_err *err;
    size_t cap_el, cap_bytes;
    bool span_open, span_done;
    size_t span_off; /* the '[' */
};

static const char *replay_what(const struct replay_parser *ps)
{
    return ps->mode == REPLAY_MODE_TMPL ? "template" : "pattern";
}

/* Up to 24 bytes of s for a message, control and non-ASCII bytes as '?'. */
static const char *replay_quote(char *buf, size_t cap, const char *s, size_t n)
{
    size_t limit = cap > 28 ? 24 : cap - 4, o = 0;
    for (size_t i = 0; i < n && o < limit; i++) {
        unsigned char c = (unsigned char)s[i];
        buf[o++] = (c >= 0x20 && c < 0x7F) ? (char)c : '?';
    }
    if (n > limit) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = 0;
    return buf;
}

/* Is word (case-insensitive) an abbreviation of known: same first letter, the
 * rest of its letters in order ("idx" of "index", "cnt" of "counter")? */
static bool replay_abbrev(const char *word, size_t len, const char *known)
{
    size_t j = 0;
    if (len < 2 || tolower((unsigned char)word[0]) != known[0])
        return false;
    for (size_t i = 0; i < len; i++) {
        while (known[j] && known[j] != tolower((unsigned char)word[i]))
            j++;
        if (!known[j])
            return false;
        j++;
    }
    return true;
}

const char *replay_parse_nearest(const char *word, size_t len, const char *const *known, size_t n)
{
    const char *best = NULL;
    size_t best_d = 3;
    if (len > 32)
        return NULL;
    /* an abbreviation beats a typo: "idx" is "index", not "id" */
    for (size_t k = 0; k < n; k++)
        if (strlen(known[k]) > len && replay_abbrev(word, len, known[k]) &&
            (!best || strlen(known[k]) < strlen(best)))
            best = known[k];
    if (best)
        return best;
    for (size_t k = 0; k < n; k++) {
        size_t m = strlen(known[k]);
        if (m > 32)
            continue;
        /* edit distance, one row at a time, case-insensitive */
        size_t row[33];
        for (size_t j = 0; j <= m; j++)
            row[j] = j;
        for (size_t i = 1; i <= len; i++) {
            size_t diag = row[0];
            row[0] = i;
            for (size_t j = 1; j <= m; j++) {
                size_t up = row[j];
                size_t cost =
                    tolower((unsigned char)word[i - 1]) == tolower((unsigned char)known[k][j - 1])
                        ? 0
                        : 1;
                size_t v = diag + cost;
                if (up + 1 < v)
                    v = up + 1;
                if (row[j - 1] + 1 < v)
                    v = row[j - 1] + 1;
                row[j] = v;
                diag = up;
            }
        }
        /* a distance as long as the word itself is a guess, not a typo */
        if (row[m] < best_d && row[m] < len) {
            best_d = row[m];
            best = known[k];
        }
    }
    return best;
}

/* arr with room for need items of size bytes (*cap of them now), or NULL (arr is
 * then unchanged). */
static void *replay_grow(void *arr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return arr;
    size_t c = *cap ? *cap * 2 : 16;
    while (c < need)
        c *= 2;
    void *q = realloc(arr, c * size);
    if (q)
        *cap = c;
    return q;
}

static int replay_nomem(struct replay_parser *ps, size_t off)
{
    return replay_fail(ps->err, REPLAY_E_LIMIT, off, "offset %zu: out of memory", off);
}

/* Account for width more bytes of frame starting at text offset off. */
static int replay_add_size(struct replay_parser *ps, size_t width, size_t off)
{
    ps->p->min_size += width;
    if (ps->p->min_size > REPLAY_MAX_FRAME)
        return replay_fail(ps->err, REPLAY_E_LIMIT, off,
                           "offset %zu: the frame would be over %u bytes", off, REPLAY_MAX_FRAME);
    return 0;
}

static struct replay_el *replay_add_el(struct replay_parser *ps, enum replay_el_kind kind,
                                       size_t width, size_t off)
{
    struct replay_prog *p = ps->p;
    struct replay_el *els = replay_grow(p->els, &ps->cap_el, p->nel + 1, sizeof *p->els);
    if (!els) {
        replay_nomem(ps, off);
        return NULL;
    }
    p->els = els;
    struct replay_el *e = &p->els[p->nel++];
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->width = width;
    e->text_off = off;
    e->in_span = ps->span_open;
    if (replay_add_size(ps, width, off) != 0)
        return NULL;
    return e;
}

/* One literal byte (BYTES) or "??" (ANY) at text offset off; a run with no gap in
 * the text stays one element. */
static int replay_add_unit(struct replay_parser *ps, enum replay_el_kind kind, uint8_t byte,
                           size_t off)
{
    struct replay_prog *p = ps->p;
    struct replay_el *last = p->nel ? &p->els[p->nel - 1] : NULL;
    if (kind == REPLAY_EL_BYTES) {
        uint8_t *bytes = replay_grow(p->bytes, &ps->cap_bytes, p->nbytes + 1, 1);
        if (!bytes)
            return replay_nomem(ps, off);
        p->bytes = bytes;
    }
    if (last && last->kind == kind && last->text_off + 2 * last->width == off) {
        last->width++;
        if (replay_add_size(ps, 1, off) != 0)
            return -1;
    } else {
        struct replay_el *e = replay_add_el(ps, kind, 1, off);
        if (!e)
            return -1;
        e->data = p->nbytes;
    }
    if (kind == REPLAY_EL_BYTES)
        p->bytes[p->nbytes++] = byte;
    return 0;
}

static int replay_hexval(int c) { return hex_digit((char)c); }

static bool replay_part_is(const struct replay_part *a, const char *word)
{
    return a->len == strlen(word) && memcmp(a->s, word, a->len) == 0;
}

/* Decimal digits only, lo..hi; -1 if not. */
static long replay_part_num(const char *s, size_t n, long lo, long hi)
{
    long v = 0;
    if (n == 0 || n > 6)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v < lo || v > hi ? -1 : v;
}

/* a must be "le" or "be". */
static int replay_order(struct replay_parser *ps, const struct replay_part *a, const char *name,
                        bool *le)
{
    char q[32];
    if (replay_part_is(a, "le"))
        *le = true;
    else if (replay_part_is(a, "be"))
        *le = false;
    else
        return replay_fail(ps->err, REPLAY_E_SYNTAX, a->off,
                           "offset %zu: \"%s\" is not a byte order of {%s} (le or be)", a->off,
                           replay_quote(q, sizeof q, a->s, a->len), name);
    return 0;
}

static int replay_extra(struct replay_parser *ps, const struct replay_part *a, const char *name,
                        const char *takes)
{
    char q[32];
    return replay_fail(ps->err, REPLAY_E_SYNTAX, a->off, "offset %zu: {%s} takes %s, not \"%s\"",
                       a->off, name, takes, replay_quote(q, sizeof q, a->s, a->len));
}

/* {index:N[:le]} and the like: width lo..hi, then an optional byte order. */
static int replay_width_order(struct replay_parser *ps, const struct replay_part *parts, size_t np,
                              size_t brace, const char *name, long lo, long hi, size_t *width,
                              bool *le)
{
    char q[32];
    if (np < 2)
        return replay_fail(ps->err, REPLAY_E_SYNTAX, brace,
                           "offset %zu: {%s} needs a width in bytes, e.g. {%s:%ld}", brace, name,
                           name, lo > 2 ? lo : 2);
    long w = replay_part_num(parts[1].s, parts[1].len, lo, hi);
    if (w < 0)
        return replay_fail(ps->err, REPLAY_E_SYNTAX, parts[1].off,
                           "offset %zu: width \"%s\" of {%s} is not %ld..%ld", parts[1].off,
                           replay_quote(q, sizeof q, parts[1].s, parts[1].len), name, lo, hi);
    *width = (size_t)w;
    *le = false;
    if (np >= 3 && replay_order(ps, &parts[2], name, le) != 0)
        return -1;
    if (np >= 4)
        return replay_extra(ps, &parts[3], name, "a width and a byte order");
    return 0;
}

/* "bcd12" with prefix "bcd" -> 12; -1 when the prefix differs, -2 when the digits
 * are missing, -3 when they are not lo..hi. */
static long replay_form(const struct replay_part *a, const char *prefix, long lo, long hi)
{
    size_t k = strlen(prefix);
    if (a->len < k || memcmp(a->s, prefix, k) != 0)
        return -1;
    if (a->len == k)
        return -2;
    long v = replay_part_num(a->s + k, a->len - k, lo, hi);
    return v < 0 ? -3 : v;
}

static int replay_id(struct replay_parser *ps, const struct replay_part *parts, size_t np,
                     size_t brace, enum replay_el_kind *kind, size_t *width)
{
    char q[32];
    if (np < 2)
        return replay_fail(ps->err, REPLAY_E_SYNTAX, brace,
                           "offset %zu: {id} needs a form: bcdN, asciiN or str, e.g. {id:bcd6}",
                           brace);
    const struct replay_part *a = &parts[1];
    long v;
    if (replay_part_is(a, "str")) {
        *kind = REPLAY_EL_ID_STR;
        *width = 0;
    } else if ((v = replay_form(a, "bcd", 1, REPLAY_BCD_MAX)) != -1) {
        if (v < 0)
            return replay_fail(ps->err, REPLAY_E_SYNTAX, a->off,
                               "offset %zu: {id:bcdN} needs a width of 1..%d bytes, e.g. {id:bcd6}",
                               a->off, REPLAY_BCD_MAX);
        *kind = REPLAY_EL_ID_BCD;
        *width = (size_t)v;
    } else if ((v = replay_form(a, "ascii", 1, REPLAY_ASCII_MAX)) != -1) {
        if (v < 0)
            return replay_fail(
                ps->err, REPLAY_E_SYNTAX, a->off,
                "offset %zu: {id:asciiN} needs a width of 1..%d bytes, e.g. {id:ascii15}", a->off,
                REPLAY_ASCII_MAX);
        *kind = REPLAY_EL_ID_ASCII;
        *width = (size_t)v;
    } else {
        return replay_fail(ps->err, REPLAY_E_SYNTAX, a->off,
                           "offset %zu: unknown id form \"%s\" (bcdN, asciiN or str)", a->off,
                           replay_quote(q, sizeof q, a->s, a->len));
    }
    if (np >= 3)
        return replay_extra(ps, &parts[2], "id", "a form only");
    return 0;
}

static int replay_time(struct replay_parser *ps, const struct replay_part *parts, size_t np,
                       size_t brace, enum replay_el_kind *kind, size_t *width, bool *le)
{
    char q[32];
    if (np < 2)
        return replay_fail(ps->err, REPLAY_E_SYNTAX, brace,
                           "offset %zu: {time} needs a form: bcd6, unix4 or unix8", brace);
    const struct replay_part *a = &parts[1];
    *le = false;
    if (replay_part_is(a, "bcd6")) {
        *kind = REPLAY_EL_TIME_BCD;
        *width = 6;
        if (np >= 3)
            return replay_extra(ps, &parts[2], "time:bcd6", "no byte order");
        return 0;
    }
    if (replay_part_is(a, "unix4") || replay_part_is(a, "unix8")) {
        *kind = REPLAY_EL_TIME_UNIX;
        *width = a->s[4] == '4' ? 4 : 8;
        if (np >= 3 && replay_order(ps, &parts[2], "time", le) != 0)
            return -1;
        if (np >= 4)
            return replay_extra(ps, &parts[3], "time", "a form and a byte order");
        return 0;
    }
    if (replay_form(a, "bcd", 0, 999) != -1)
        return replay_fail(ps->err, REPLAY_E_SYNTAX, a->off,
                           "offset %zu: {time:bcd} is 6 bytes (YYMMDDhhmmss): write {time:bcd6}",
                           a->off);
    if (replay_form(a, "unix", 0, 999) != -1)
        return replay_fail(
            ps->err, REPLAY_E_SYNTAX, a->off,
            "offset %zu: {time:unix} is 4 or 8 bytes: write {time:unix4} or {time:unix8}", a->off);
    return replay_fail(ps->err, REPLAY_E_SYNTAX, a->off,
                       "offset %zu: unknown time form \"%s\" (bcd6, unix4 or unix8)", a->off,
                       replay_quote(q, sizeof q, a->s, a->len));
}

static int replay_crc(struct replay_parser *ps, const struct replay_part *parts, size_t np,
                      enum replay_el_kind *kind, bool *le)
{
    char q[32];
    bool seen_algo = false, seen_order = false;
    *kind = REPLAY_EL_CRC16;
    *le = false;
    for (size_t k = 1; k < np; k++) {
        const struct replay_part *a = &parts[k];
        bool algo = replay_part_is(a, "modbus");
        bool order = replay_part_is(a, "le") || replay_part_is(a, "be");
        if ((algo && seen_algo) || (order && seen_order))
            return replay_fail(ps->err, REPLAY_E_SYNTAX, a->off,
                               "offset %zu: {crc16} has \"%s\" twice", a->off,
                               algo ? "modbus" : "a byte order");
        if (algo) {
            *kind = REPLAY_EL_CRC16_MODBUS;
            seen_algo = true;
        } else if (order) {
            *le = a->s[0] == 'l';
            seen_order = true;
        } else {
            const char *const opts[] = {"modbus", "le", "be"};
            const char *near = replay_parse_nearest(a->s, a->len, opts, 3);
            return replay_fail(ps->err, REPLAY_E_SYNTAX, a->off,
                               "offset %zu: unknown {crc16} option \"%s\" (%s%s%s)", a->off,
                               replay_quote(q, sizeof q, a->s, a->len),
                               near ? "did you mean \"" : "modbus, le or be", near ? near : "",
                               near ? "\"?" : "");
        }
    }
    return 0;
}

/* The placeholder whose '{' is at text offset brace; *next gets the offset after '}'. */
static int replay_placeholder(struct replay_parser *ps, size_t brace, size_t *next)
{
    const char *t = ps->text;
    char q[32];
    size_t j = brace + 1;
    while (t[j] && t[j] != '}') {
        if (t[j] == '{')
            return replay_fail(
                ps->err, REPLAY_E_SYNTAX, j,
                "offset %zu: \"{\" inside a placeholder (is the \"}\" of offset %zu missing?)", j,
                brace);
        j++;
    }
    if (!t[j])
        return replay_fail(ps->err, REPLAY_E_SYNTAX, brace, "offset %zu: \"{\" is never closed",
                           brace);
    *next = j + 1;

    /* split at ':' and trim spaces around each part */
    struct replay_part parts[REPLAY_MAX_PARTS];
    size_t np = 0, s = brace + 1;
    for (;;) {
        size_t e = s;
        while (e < j && t[e] != ':')
            e++;
        size_t a = s, b = e;
        while (a < b && isspace((unsigned char)t[a]))
            a++;
        while (b > a && isspace((unsigned char)t[b - 1]))
            b--;
        if (np == REPLAY_MAX_PARTS)
            return replay_fail(ps->err, REPLAY_E_SYNTAX, a,
                               "offset %zu: too many \":\" parts in a placeholder", a);
        parts[np].off = a;
        parts[np].len = b - a;
        parts[np].s = t + a;
        np++;
        if (e == j)
            break;
        s = e + 1;
    }
    if (parts[0].len == 0)
        return replay_fail(ps->err, REPLAY_E_SYNTAX, brace,
                           "offset %zu: a placeholder without a name", brace);
    for (size_t k = 1; k < np; k++)
        if (parts[k].len == 0)
            return replay_fail(ps->err, REPLAY_E_SYNTAX, parts[k].off,
                               "offset %zu: an empty argument after \":\"", parts[k].off);

    int ph = -1;
    for (int k = 0; k < REPLAY_PH_COUNT; k++)
        if (replay_part_is(&parts[0], replay_ph_names[k]))
            ph = k;
    if (ph < 0) {
        const char *near =
            replay_parse_nearest(parts[0].s, parts[0].len, replay_ph_names, REPLAY_PH_COUNT);
        replay_quote(q, sizeof q, parts[0].s, parts[0].len);
        if (near)
            return replay_fail(ps->err, REPLAY_E_SYNTAX, brace,
                               "offset %zu: unknown placeholder \"%s\" (did you mean \"%s\"?)",
                               brace, q, near);
        return replay_fail(ps->err, REPLAY_E_SYNTAX, brace,
                           "offset %zu: unknown placeholder \"%s\"", brace, q);
    }
    const char *name = replay_ph_names[ph];
    if (ps->mode == REPLAY_MODE_PAT && (ph == REPLAY_PH_TIME || ph == REPLAY_PH_RAND))
        return replay_fail(
            ps->err, REPLAY_E_SYNTAX, brace,
            "offset %zu: {%s} cannot be matched in a pattern: write ?? for each of its bytes",
            brace, name);

    enum replay_el_kind kind = REPLAY_EL_BYTES;
    size_t width = 0;
    bool le = false;
    int rc = 0;
    switch ((enum replay_ph)ph) {
    case REPLAY_PH_INDEX:
    case REPLAY_PH_GINDEX:
    case REPLAY_PH_SERIAL:
    case REPLAY_PH_COUNTER:
    case REPLAY_PH_LEN:
        kind = ph == REPLAY_PH_INDEX    ? REPLAY_EL_INDEX
               : ph == REPLAY_PH_GINDEX ? REPLAY_EL_GINDEX
               : ph == REPLAY_PH_SERIAL ? REPLAY_EL_SERIAL
               : ph == REPLAY_PH_LEN    ? REPLAY_EL_LEN
                                        : REPLAY_EL_COUNTER;
        rc = replay_width_order(ps, parts, np, brace, name, 1, 8, &width, &le);
        break;
    case REPLAY_PH_ID: rc = replay_id(ps, parts, np, brace, &kind, &width); break;
    case REPLAY_PH_TIME: rc = replay_time(ps, parts, np, brace, &kind, &width, &le); break;
    case REPLAY_PH_RAND:
        kind = REPLAY_EL_RAND;
        if (np < 2)
            return replay_fail(ps->err, REPLAY_E_SYNTAX, brace,
                               "offset %zu: {rand} needs a width in bytes, e.g. {rand:4}", brace);
        if (replay_part_num(parts[1].s, parts[1].len, 1, REPLAY_RAND_MAX) < 0)
            return replay_fail(ps->err, REPLAY_E_SYNTAX, parts[1].off,
                               "offset %zu: width \"%s\" of {rand} is not 1..%d", parts[1].off,
                               replay_quote(q, sizeof q, parts[1].s, parts[1].len),
                               REPLAY_RAND_MAX);
        width = (size_t)replay_part_num(parts[1].s, parts[1].len, 1, REPLAY_RAND_MAX);
        if (np >= 3)
            return replay_extra(ps, &parts[2], "rand", "a width only");
        break;
    case REPLAY_PH_XOR8:
    case REPLAY_PH_SUM8:
        kind = ph == REPLAY_PH_XOR8 ? REPLAY_EL_XOR8 : REPLAY_EL_SUM8;
        width = 1;
        if (np >= 2)
            return replay_extra(ps, &parts[1], name, "no argument");
        break;
    case REPLAY_PH_CRC16:
        width = 2;
        rc = replay_crc(ps, parts, np, &kind, &le);
        break;
    default: return -1;
    }
    if (rc != 0)
        return rc;

    struct replay_el *e = replay_add_el(ps, kind, width, brace);
    if (!e)
        return -1;
    e->le = le;
    if (kind == REPLAY_EL_ID_STR)
        ps->p->n_idstr++;
    ps->p->has |= 1u << ph;
    return 0;
}

/* With the smallest variable widths, does every {len:N} hold what it counts? */
static int replay_check_lens(struct replay_parser *ps)
{
    const struct replay_prog *p = ps->p;
    struct replay_layout l;
    replay_layout_init(p, 0, 0, &l);
    size_t pos = 0;
    for (size_t k = 0; k < p->nel; k++) {
        const struct replay_el *e = &p->els[k];
        if (e->kind == REPLAY_EL_LEN) {
            uint64_t v = replay_layout_value(p, k, pos, NULL, &l);
            if (replay_mask(v, e->width) != v)
                return replay_fail(ps->err, REPLAY_E_LIMIT, e->text_off,
                                   "offset %zu: {len:%zu} cannot hold the %llu bytes it counts",
                                   e->text_off, e->width, (unsigned long long)v);
        }
        pos += replay_layout_width(e, &l);
    }
    return 0;
}

static int replay_parse_text(struct replay_parser *ps)
{
    const char *t = ps->text;
    struct replay_prog *p = ps->p;
    char q[32];
    size_t i = 0;
    while (t[i]) {
        unsigned char c = (unsigned char)t[i];
        if (isspace(c) || c == '_') {
            i++;
        } else if (replay_hexval(c) >= 0) {
            if (replay_hexval((unsigned char)t[i + 1]) < 0)
                return replay_fail(ps->err, REPLAY_E_SYNTAX, i,
                                   "offset %zu: odd number of hex digits (\"%c\" has no partner)",
                                   i, c);
            uint8_t b = (uint8_t)(replay_hexval(c) << 4 | replay_hexval((unsigned char)t[i + 1]));
            if (replay_add_unit(ps, REPLAY_EL_BYTES, b, i) != 0)
                return -1;
            i += 2;
        } else if (c == '?' || c == '*') {
            if (ps->mode == REPLAY_MODE_TMPL)
                return replay_fail(
                    ps->err, REPLAY_E_SYNTAX, i,
                    "offset %zu: \"%s\" is for reply patterns; a template sends exact bytes", i,
                    c == '?' ? "??" : "*");
            if (c == '?') {
                if (t[i + 1] != '?')
                    return replay_fail(ps->err, REPLAY_E_SYNTAX, i,
                                       "offset %zu: a lone \"?\" (any byte is \"??\")", i);
                if (replay_add_unit(ps, REPLAY_EL_ANY, 0, i) != 0)
                    return -1;
                i += 2;
            } else {
                if (p->has_star)
                    return replay_fail(ps->err, REPLAY_E_SYNTAX, i,
                                       "offset %zu: a second \"*\" (a pattern has at most one)", i);
                if (!replay_add_el(ps, REPLAY_EL_STAR, 0, i))
                    return -1;
                p->has_star = true;
                i++;
            }
        } else if (c == '[') {
            if (ps->span_open)
                return replay_fail(ps->err, REPLAY_E_SYNTAX, i,
                                   "offset %zu: \"[\" inside the span opened at offset %zu", i,
                                   ps->span_off);
            if (ps->span_done)
                return replay_fail(ps->err, REPLAY_E_SYNTAX, i,
                                   "offset %zu: a second span (a %s has at most one [...])", i,
                                   replay_what(ps));
            ps->span_open = true;
            ps->span_off = i;
            p->span_a = p->nel;
            i++;
        } else if (c == ']') {
            if (!ps->span_open)
                return replay_fail(ps->err, REPLAY_E_SYNTAX, i, "offset %zu: \"]\" without \"[\"",
                                   i);
            ps->span_open = false;
            ps->span_done = true;
            p->has_span = true;
            p->span_b = p->nel;
            i++;
        } else if (c == '{') {
            size_t next = i + 1;
            if (replay_placeholder(ps, i, &next) != 0)
                return -1;
            i = next;
        } else if (c == '}') {
            return replay_fail(ps->err, REPLAY_E_SYNTAX, i, "offset %zu: \"}\" without \"{\"", i);
        } else if (c >= 0x20 && c < 0x7F) {
            return replay_fail(ps->err, REPLAY_E_SYNTAX, i,
                               "offset %zu: unexpected character \"%s\"", i,
                               replay_quote(q, sizeof q, t + i, 1));
        } else {
            return replay_fail(ps->err, REPLAY_E_SYNTAX, i, "offset %zu: unexpected byte 0x%02X", i,
                               c);
        }
    }
    if (ps->span_open)
        return replay_fail(ps->err, REPLAY_E_SYNTAX, ps->span_off,
                           "offset %zu: \"[\" is never closed", ps->span_off);
    if (p->nel == 0)
        return replay_fail(ps->err, REPLAY_E_SYNTAX, i,
                           ps->mode == REPLAY_MODE_TMPL
                               ? "offset %zu: empty template"
                               : "offset %zu: empty pattern (\"*\" matches any frame)",
                           i);
    return replay_check_lens(ps);
}

int replay_parse(const char *text, enum replay_mode mode, struct replay_prog *prog,
                 struct replay_err *err)
{
    struct replay_parser ps = {.text = text, .mode = mode, .p = prog, .err = err};
    memset(prog, 0, sizeof *prog);
    if (!text)
        return replay_fail(err, REPLAY_E_SYNTAX, 0, "offset 0: no %s text", replay_what(&ps));
    if (replay_parse_text(&ps) != 0) {
        replay_parse_free(prog);
        return -1;
    }
    if (err) {
        err->rc = REPLAY_OK;
        err->offset = 0;
        err->msg[0] = 0;
    }
    return 0;
}

void replay_parse_free(struct replay_prog *prog)
{
    free(prog->els);
    free(prog->bytes);
    memset(prog, 0, sizeof *prog);
}

const char *replay_parse_el_name(const struct replay_el *e, char *buf, size_t cap)
{
    const char *le = e->le ? ":le" : "";
    switch (e->kind) {
    case REPLAY_EL_BYTES: snprintf(buf, cap, "literal bytes"); break;
    case REPLAY_EL_ANY: snprintf(buf, cap, "??"); break;
    case REPLAY_EL_STAR: snprintf(buf, cap, "*"); break;
    case REPLAY_EL_INDEX: snprintf(buf, cap, "{index:%zu%s}", e->width, le); break;
    case REPLAY_EL_GINDEX: snprintf(buf, cap, "{gindex:%zu%s}", e->width, le); break;
    case REPLAY_EL_SERIAL: snprintf(buf, cap, "{serial:%zu%s}", e->width, le); break;
    case REPLAY_EL_COUNTER: snprintf(buf, cap, "{counter:%zu%s}", e->width, le); break;
    case REPLAY_EL_ID_BCD: snprintf(buf, cap, "{id:bcd%zu}", e->width); break;
    case REPLAY_EL_ID_ASCII: snprintf(buf, cap, "{id:ascii%zu}", e->width); break;
    case REPLAY_EL_ID_STR: snprintf(buf, cap, "{id:str}"); break;
    case REPLAY_EL_TIME_BCD: snprintf(buf, cap, "{time:bcd6}"); break;
    case REPLAY_EL_TIME_UNIX: snprintf(buf, cap, "{time:unix%zu%s}", e->width, le); break;
    case REPLAY_EL_RAND: snprintf(buf, cap, "{rand:%zu}", e->width); break;
    case REPLAY_EL_LEN: snprintf(buf, cap, "{len:%zu%s}", e->width, le); break;
    case REPLAY_EL_XOR8: snprintf(buf, cap, "{xor8}"); break;
    case REPLAY_EL_SUM8: snprintf(buf, cap, "{sum8}"); break;
    case REPLAY_EL_CRC16: snprintf(buf, cap, "{crc16%s}", le); break;
    case REPLAY_EL_CRC16_MODBUS: snprintf(buf, cap, "{crc16:modbus%s}", le); break;
    }
    return buf;
}

bool replay_parse_has(const struct replay_prog *prog, const char *placeholder)
{
    if (!placeholder)
        return false;
    for (int k = 0; k < REPLAY_PH_COUNT; k++)
        if (strcmp(placeholder, replay_ph_names[k]) == 0)
            return (prog->has >> k) & 1u;
    return false;
}
