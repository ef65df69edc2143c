/* libFuzzer target: the replay codec.  The input is a mode byte, then text, a NUL,
 * then frame bytes.  The text (raw, or built from a table of tokens so the fuzzer
 * reaches deep syntax quickly) is compiled as a template, a pattern and a framing
 * spec; the bytes are matched against the pattern and cut by the framings.
 * Checked: errors point inside the text or the frame; a template's render has the
 * size replay_tmpl_size says; what a template renders, the same text compiled as a
 * pattern matches; framing never hands out bytes it was not given; any bytes between
 * two delimiters, stuffed then unstuffed, come back, and unstuffing any bytes stays
 * within its buffer (and, when it succeeds, stuffing gives the bytes back). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim/proto/replay_tmpl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const tokens[] = {
    "7E",
    "00",
    "FF",
    "a5",
    " ",
    "_",
    "[",
    "]",
    "{",
    "}",
    ":",
    "??",
    "*",
    "?",
    "{index:1}",
    "{gindex:2:le}",
    "{serial:2}",
    "{counter:4}",
    "{id:bcd6}",
    "{id:ascii4}",
    "{id:str}",
    "{time:bcd6}",
    "{time:unix4:le}",
    "{rand:3}",
    "{len:1}",
    "{len:2:le}",
    "{xor8}",
    "{sum8}",
    "{crc16}",
    "{crc16:modbus:le}",
    "index",
    "serial",
    "len",
    "id",
    "crc16",
    "8",
    "le",
    "bcd",
    "ascii",
    "str",
    "delim:7E",
    "length:offset=1,size=2,adjust=4",
    "fixed:4",
    "none",
    ",max=",
    "size=",
    "le",
    ",",
    "9",
    "{rand:1024}",
    "0",
    "x",
    "-",
    "=",
    "\t",
    "{id:bcd10}",
    "delim:jt808",
    "delim:hdlc",
    ",escape=7D",
    ",xor=20",
    ",7E=02",
    ",7D=01",
    "escape",
    "xor",
    "7D",
};
#define N_TOKENS (sizeof tokens / sizeof tokens[0])

static const char *const ids[] = {"013912345678", "", "12345678901234567890123", "ABC"};

static uint8_t out[REPLAY_MAX_FRAME];

static void check_err(const struct replay_err *e, size_t limit, const char *prefix)
{
    if (e->offset > limit || e->msg[0] == 0 || strncmp(e->msg, prefix, strlen(prefix)) != 0)
        abort();
}

static void frame_all(const struct replay_framing *f, const uint8_t *b, size_t n)
{
    size_t off = 0;
    for (;;) {
        size_t start = 99, len = 99, skipped = 99;
        struct replay_err e;
        long r = replay_framing_next(f, b + off, n - off, &start, &len, &skipped, &e);
        if (r < 0) {
            check_err(&e, n - off, "");
            return;
        }
        if (r == 0)
            return;
        if ((size_t)r > n - off || start + len > (size_t)r || skipped != start)
            abort();
        if (len && f->kind == REPLAY_FRAME_DELIM &&
            (len < 3 || b[off + start] != f->delim || b[off + start + len - 1] != f->delim))
            abort();
        off += (size_t)r;
    }
}

/* Buffers of exactly the size given, so ASan sees a write past the end. */
static uint8_t *exact(size_t n)
{
    uint8_t *b = malloc(n ? n : 1);
    if (!b)
        abort();
    return b;
}

/* b as a frame's inside: stuffed, the wire has no delimiter inside and at most
 * 2 n - 2 bytes, the exact size stuff said it needs is enough and one less is not,
 * and unstuffed it is the frame again. */
static void stuff_round_trip(const struct replay_framing *f, const uint8_t *b, size_t n)
{
    size_t fn = n + 2;
    uint8_t *frame = exact(fn);
    frame[0] = frame[fn - 1] = f->delim;
    memcpy(frame + 1, b, n);
    struct replay_err e;
    if (replay_framing_stuff(f, frame, fn, NULL, 0, &e) != 0 || e.rc != REPLAY_E_NOSPACE)
        abort();
    size_t need = e.offset;
    if (need < fn || need > 2 * fn - 2)
        abort();
    uint8_t *wire = exact(need);
    if (replay_framing_stuff(f, frame, fn, wire, need - 1, &e) != 0 || e.offset != need)
        abort();
    if (replay_framing_stuff(f, frame, fn, wire, need, &e) != need)
        abort();
    if (wire[0] != f->delim || wire[need - 1] != f->delim ||
        memchr(wire + 1, f->delim, need - 2) != NULL)
        abort();
    uint8_t *back = exact(fn);
    if (replay_framing_unstuff(f, wire, need, back, fn, &e) != fn || memcmp(back, frame, fn) != 0)
        abort();
    free(frame);
    free(wire);
    free(back);
}

/* Any bytes unstuffed into a buffer of cap bytes: no write past it; an error points
 * inside b; what comes out, stuffed again, is b when only the delimiter and the
 * escape byte are mapped (other mapped bytes may arrive unescaped). */
static void unstuff_any(const struct replay_framing *f, const uint8_t *b, size_t n, size_t cap)
{
    uint8_t *u = exact(cap);
    struct replay_err e;
    size_t r = replay_framing_unstuff(f, b, n, u, cap, &e);
    if (r == 0) {
        if (e.rc == REPLAY_E_NOSPACE ? e.offset <= cap || e.offset > n : e.offset >= (n ? n : 1))
            abort();
        check_err(&e, n, e.rc == REPLAY_E_NOSPACE ? "the frame " : "frame offset ");
    } else {
        if (r > cap || r > n)
            abort();
        if (f->nstuff <= 2) {
            uint8_t *again = exact(n);
            if (replay_framing_stuff(f, u, r, again, n, &e) != n || memcmp(again, b, n) != 0)
                abort();
            free(again);
        }
    }
    free(u);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    const uint8_t *rest = data + 1;
    size_t rn = size - 1;
    const uint8_t *nul = memchr(rest, 0, rn);
    size_t tn = nul ? (size_t)(nul - rest) : rn;
    const uint8_t *frame = nul ? nul + 1 : rest + rn;
    size_t fn = nul ? rn - tn - 1 : 0;

    char *text;
    if (mode & 1) {
        if (tn > 256)
            tn = 256;
        text = malloc(tn * 40 + 1);
        if (!text)
            return 0;
        size_t o = 0;
        for (size_t i = 0; i < tn; i++) {
            const char *t = tokens[rest[i] % N_TOKENS];
            size_t l = strlen(t);
            memcpy(text + o, t, l);
            o += l;
        }
        text[o] = 0;
    } else {
        text = malloc(tn + 1);
        if (!text)
            return 0;
        memcpy(text, rest, tn);
        text[tn] = 0;
    }
    size_t text_len = strlen(text);

    uint32_t rng = (uint32_t)size * 2654435761u;
    struct replay_vars v = {
        .index = fn ? frame[0] : 3,
        .gindex = 70000,
        .serial = fn > 1 ? frame[1] : 0x13,
        .counter = 9,
        .id = ids[(mode >> 2) & 3],
        .unix_s = 1700000000,
        .utc_offset_s = 28800,
        .rng = &rng,
    };

    struct replay_err e;
    struct replay_tmpl *t = NULL;
    struct replay_pat *p = NULL;
    if (replay_tmpl_compile(text, &t, &e) != 0)
        check_err(&e, text_len, "offset ");
    if (replay_pat_compile(text, &p, &e) != 0)
        check_err(&e, text_len, "offset ");

    if (t) {
        if (replay_tmpl_min_size(t) > REPLAY_MAX_FRAME)
            abort();
        size_t want = replay_tmpl_size(t, &v);
        size_t cap = (mode & 2) ? sizeof out : want / 2;
        size_t n = replay_tmpl_render(t, &v, out, cap, &e);
        if (n) {
            if (n != want || n > REPLAY_MAX_FRAME)
                abort();
            struct replay_capture cap_out;
            if (p && replay_pat_match(p, out, n, &v, REPLAY_CHECK_SERIAL | REPLAY_CHECK_COUNTER,
                                      &cap_out, &e) != 1)
                abort(); /* the pattern of a template matches what the template sends */
        } else if (e.rc == REPLAY_OK) {
            abort();
        }
    }
    if (p) {
        struct replay_capture cap_out;
        if (replay_pat_match(p, frame, fn, (mode & 2) ? NULL : &v, mode >> 4, &cap_out, &e) == 0)
            check_err(&e, fn, "frame offset ");
        replay_pat_match(p, frame, fn, &v, 3, NULL, NULL);
    }

    struct replay_framing f;
    size_t ucap = (mode & 2) ? fn : fn / 2;
    if (replay_framing_parse(text, &f, &e) == 0) {
        frame_all(&f, frame, fn);
        if (replay_framing_stuffs(&f))
            stuff_round_trip(&f, frame, fn);
        unstuff_any(&f, frame, fn, ucap);
    } else {
        check_err(&e, text_len, "offset ");
    }
    static const char *const stuffing[] = {
        "delim:jt808", "delim:hdlc", "delim:C0,escape=DB,C0=DC,DB=DD",
        "delim:7E,escape=7D,7E=02,7D=01,00=03,01=04,02=05,03=06,04=07,05=08"};
    struct replay_framing h;
    if (replay_framing_parse(stuffing[(mode >> 2) % 4], &h, NULL) != 0)
        abort();
    stuff_round_trip(&h, frame, fn);
    unstuff_any(&h, frame, fn, ucap);
    static const char *const specs[] = {
        "delim:7E",   "length:offset=1,size=1,adjust=2", "length:size=2,le,adjust=-1", "fixed:3",
        "none:max=8", "length:offset=0,size=8"};
    struct replay_framing g;
    if (replay_framing_parse(specs[(mode >> 4) % 6], &g, NULL) != 0)
        abort();
    frame_all(&g, frame, fn);

    replay_tmpl_free(t);
    replay_pat_free(p);
    free(text);
    return 0;
}
