/* The replay dialect's pure codec: frame templates (what a terminal sends), reply
 * patterns (what it expects back) and stream framing (where a frame ends in a TCP
 * byte stream).  No I/O, no clock, no state: the caller passes every variable in.
 * docs/replay-templates.md is the user's reference for the syntax.
 *
 * Template text: hex bytes (two digits each; whitespace and '_' between bytes are
 * ignored) and placeholders in braces; one span in brackets names what {len:N} and
 * the checksums cover.  A JT/T 808-like heartbeat:
 *     7E [0002 0000 {id:bcd6} {serial:2}] {xor8} 7E
 * Reply patterns add "??" (any one byte) and one "*" (any run of bytes).
 *
 * Errors: every failing call fills a struct replay_err (when err is not NULL) with
 * a result code, an offset and a message that starts with that offset, e.g.
 *     offset 14: unknown placeholder "idx" (did you mean "index"?)
 * The offset is a character offset (0-based) in the template, pattern or framing
 * text for compile errors, and a byte offset in the frame for match and framing
 * errors ("frame offset 13: ..."); render errors say which below. */
#ifndef FLEETSIM_REPLAY_TMPL_H
#define FLEETSIM_REPLAY_TMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The largest frame a template renders (and the default framing limit). */
#define REPLAY_MAX_FRAME 65535u

/* The most bytes a framing stuffs ("7E=02,7D=01" is two). */
#define REPLAY_STUFF_MAX 8

enum replay_rc {
    REPLAY_OK = 0,
    REPLAY_E_SYNTAX,   /* the template, pattern or framing text is malformed */
    REPLAY_E_LIMIT,    /* a frame over REPLAY_MAX_FRAME (render) or max_frame (framing) */
    REPLAY_E_NOSPACE,  /* render: the output buffer is too small */
    REPLAY_E_VALUE,    /* render: a variable does not fit its field (id too long, no id, no rng) */
    REPLAY_E_MISMATCH, /* match: the frame is not what the pattern says */
    REPLAY_E_FRAME,    /* framing: a length field that cannot be right, or a bad framing */
};

struct replay_err {
    enum replay_rc rc;
    size_t offset; /* see the top of this file */
    char msg[160]; /* "offset N: ..." or "frame offset N: ..."; render's NOSPACE and
                      LIMIT start "the frame ..." */
};

/* What a terminal knows when it renders or matches a frame.  Integer fields are
 * written as their low N bytes (a serial wraps in {serial:2}). */
struct replay_vars {
    uint64_t index;       /* {index:N}: 0-based within the fleet, across all workers */
    uint64_t gindex;      /* {gindex:N}: 0-based within the scenario */
    uint64_t serial;      /* {serial:N}: the message serial */
    uint64_t counter;     /* {counter:N}: a per-terminal counter */
    const char *id;       /* {id:...}: device id, decimal digits for bcd; NUL-terminated */
    int64_t unix_s;       /* {time:unixN} as is; {time:bcd6} after adding utc_offset_s */
    int32_t utc_offset_s; /* e.g. 28800 for UTC+8 */
    uint32_t *rng;        /* {rand:N}: xorshift32 state, advanced by render; 0 acts as 2463534242 */
};

/* ---- templates ------------------------------------------------------------- */

struct replay_tmpl; /* compiled, immutable: one may be shared by every terminal */

/* Compile template text.
 * @return 0 with *out set (free with replay_tmpl_free), or -1 with err set
 *         (REPLAY_E_SYNTAX, or REPLAY_E_LIMIT when the fixed part alone is over
 *         REPLAY_MAX_FRAME); offsets are character offsets in text. */
int replay_tmpl_compile(const char *text, struct replay_tmpl **out, struct replay_err *err);

void replay_tmpl_free(struct replay_tmpl *t);

/* @return the size of a frame with an empty id ({id:str} is the only field whose
 *         width varies). */
size_t replay_tmpl_min_size(const struct replay_tmpl *t);

/* @return the exact size render will produce for v (v may be NULL). */
size_t replay_tmpl_size(const struct replay_tmpl *t, const struct replay_vars *v);

/* Render into out[0..cap).  v may be NULL (all zero, no id, no rng).  *v->rng is
 * advanced only when the render succeeds.
 * @return the frame's length, or 0 with err set: REPLAY_E_NOSPACE (err->offset is
 *         the size needed), REPLAY_E_LIMIT (over REPLAY_MAX_FRAME with this id),
 *         REPLAY_E_VALUE (err->offset is the placeholder's offset in the template
 *         text: id missing, not decimal for bcd, too long for its field; rng NULL;
 *         a span length that does not fit its {len:N}; an empty frame, which only
 *         a template of {id:str} alone and an empty id can make). */
size_t replay_tmpl_render(const struct replay_tmpl *t, const struct replay_vars *v, uint8_t *out,
                          size_t cap, struct replay_err *err);

/* Placeholder names: "index", "gindex", "id", "serial", "counter", "time", "rand",
 * "len", "xor8", "sum8", "crc16".
 * @return true if the template uses that placeholder (any width or form). */
bool replay_tmpl_has(const struct replay_tmpl *t, const char *placeholder);

/* ---- reply patterns -------------------------------------------------------- */

struct replay_pat; /* compiled, immutable, shareable */

/* Compile pattern text: template syntax plus "??" and one "*"; the placeholders
 * allowed are index, gindex, serial, counter, id (bcdN, asciiN, str), len and the
 * checksums.  {time} and {rand} are errors (write ?? per byte).
 * @return 0 with *out set (free with replay_pat_free), or -1 with err set. */
int replay_pat_compile(const char *text, struct replay_pat **out, struct replay_err *err);

void replay_pat_free(struct replay_pat *p);

/* @return true if the pattern uses that placeholder (names as for templates). */
bool replay_pat_has(const struct replay_pat *p, const char *placeholder);

/* Which of the per-message fields match compares with v (otherwise only captures). */
#define REPLAY_CHECK_SERIAL 0x1u
#define REPLAY_CHECK_COUNTER 0x2u

struct replay_capture {
    bool has_serial; /* the pattern has {serial:N}; serial is the frame's value */
    uint64_t serial;
    bool has_counter;
    uint64_t counter;
    bool has_index;
    uint64_t index;
    bool has_gindex;
    uint64_t gindex;
};

/* Match one frame.  Literal bytes must be equal, len and checksum fields right.
 * With v given, {id:...}, {index:N} and {gindex:N} must equal v's (low N bytes; the
 * id only when v->id is set), and {serial:N}/{counter:N} too when check has
 * REPLAY_CHECK_SERIAL / REPLAY_CHECK_COUNTER.  With v NULL nothing is compared with
 * the caller's values ({id:str} then cannot match: its length is unknown).  A field
 * that appears twice must hold the same value both times.  cap may be NULL; it is
 * cleared, then filled with every integer field the frame holds (checked or not),
 * also when a mismatch is found after them.
 * @return 1 on a match, 0 if not, with err->rc REPLAY_E_MISMATCH, err->offset the
 *         frame offset where it diverged and err->msg saying how, e.g.
 *         "frame offset 18: {xor8} is 0xA3, computed 0xA2 (pattern offset 49)". */
int replay_pat_match(const struct replay_pat *p, const uint8_t *frame, size_t n,
                     const struct replay_vars *v, unsigned check, struct replay_capture *cap,
                     struct replay_err *err);

/* ---- stream framing -------------------------------------------------------- */

enum replay_framing_kind {
    REPLAY_FRAME_DELIM,  /* frames start and end with the byte delim (like 0x7E) */
    REPLAY_FRAME_LENGTH, /* a length field at a fixed offset gives the frame's size */
    REPLAY_FRAME_FIXED,  /* every frame is `fixed` bytes */
    REPLAY_FRAME_NONE,   /* every read (datagram) is one frame */
};

struct replay_framing {
    enum replay_framing_kind kind;
    uint8_t delim;      /* DELIM: the start and end byte */
    size_t len_offset;  /* LENGTH: where the field starts in the frame */
    size_t len_size;    /* LENGTH: its width, 1..8 bytes */
    bool len_le;        /* LENGTH: little-endian (default big-endian) */
    int64_t len_adjust; /* LENGTH: frame size = field value + len_adjust */
    size_t fixed;       /* FIXED: the frame size */
    size_t max_frame;   /* every kind: the largest frame accepted; 0 means REPLAY_MAX_FRAME */
    uint8_t escape;     /* DELIM with nstuff > 0: the escape byte (0x7D) */
    size_t nstuff;      /* DELIM: bytes stuffed, 0 for none (xor=X gives two mappings) */
    struct {
        uint8_t from; /* this byte inside a frame ... */
        uint8_t to;   /* ... goes on the wire as escape, to */
    } stuff[REPLAY_STUFF_MAX];
};

/* Parse a framing spec: "delim:7E", "length:offset=1,size=2,adjust=4[,le]",
 * "fixed:16" or "none"; each may add ",max=N" ("none:max=N"), N at most 16 MiB.
 * delim may add byte stuffing: "escape=7D" with mappings ("7E=02,7D=01": 0x7E
 * inside a frame is sent as 7D 02) or "xor=20" (0x7E and 0x7D are sent as 7D and
 * the byte ^ 0x20); the delimiter and the escape byte must both be mapped.
 * "delim:jt808" is "delim:7E,escape=7D,7E=02,7D=01", "delim:hdlc" is
 * "delim:7E,escape=7D,xor=20".
 * @return 0 with *f filled, or -1 with err set (REPLAY_E_SYNTAX, character offsets). */
int replay_framing_parse(const char *spec, struct replay_framing *f, struct replay_err *err);

/* Find the next whole frame at the front of buf[0..n).  With NONE, buf must be one
 * read or datagram, whole.
 * @return the number of bytes to drop from the front of buf; *start and *len are
 *         the frame found, within those bytes, and *skipped the garbage bytes before
 *         it (DELIM only: bytes before the opening delimiter, and all but the last
 *         of a run of delimiters).  A return > 0 with *len == 0 drops garbage only:
 *         call again.  0: no whole frame yet; keep the bytes and read more.  -1 with
 *         err set (REPLAY_E_LIMIT: the frame at err->offset exceeds max_frame;
 *         REPLAY_E_FRAME: a length field gives a size that cannot hold the field
 *         itself, or f is invalid); the stream cannot be trusted after that.
 * A stuffed frame is cut as it is on the wire (escaping leaves no delimiter inside
 * it); replay_framing_unstuff then gives the frame's own bytes. */
long replay_framing_next(const struct replay_framing *f, const uint8_t *buf, size_t n,
                         size_t *start, size_t *len, size_t *skipped, struct replay_err *err);

/* @return true if f stuffs bytes (a DELIM framing with nstuff > 0). */
bool replay_framing_stuffs(const struct replay_framing *f);

/* Escape a frame for the wire: in[0..n) is a frame as a template renders it,
 * starting and ending with the delimiter; every mapped byte between those two is
 * written as the escape byte and its mapping.  Without stuffing in f, in is copied
 * as it is (any framing; no check of the delimiters).  out must not overlap in; a
 * wire frame is at most 2 n - 2 bytes.
 * @return the wire frame's length, or 0 with err set: REPLAY_E_VALUE (an empty
 *         frame, or, when stuffing, one that does not start and end with the
 *         delimiter; err->offset is that byte's offset in the frame),
 *         REPLAY_E_NOSPACE (err->offset is the size needed; msg "the frame ..."),
 *         REPLAY_E_FRAME (f filled by hand with stuffing that cannot be undone:
 *         over REPLAY_STUFF_MAX, a byte or a mapping twice, the delimiter or the
 *         escape byte unmapped, a mapping to the delimiter). */
size_t replay_framing_stuff(const struct replay_framing *f, const uint8_t *in, size_t n,
                            uint8_t *out, size_t cap, struct replay_err *err);

/* The reverse of replay_framing_stuff, for a frame as replay_framing_next cut it
 * (delimiters included, and kept in out).  A byte that is mapped but arrives
 * unescaped (other than the delimiter and the escape byte) is taken as it is.
 * Without stuffing in f, in is copied.  out must not overlap in; n bytes are
 * always enough.
 * @return the frame's unescaped length, or 0 with err set: REPLAY_E_FRAME with
 *         err->offset the offset in in of an escape byte followed by no mapping
 *         ("frame offset 7: 0x7D followed by 0x03, which is no escape (use 7E=02,
 *         7D=01)"), of an escape byte right before the closing delimiter, or of a
 *         delimiter inside the frame; REPLAY_E_VALUE, REPLAY_E_NOSPACE and
 *         REPLAY_E_FRAME for f as for replay_framing_stuff. */
size_t replay_framing_unstuff(const struct replay_framing *f, const uint8_t *in, size_t n,
                              uint8_t *out, size_t cap, struct replay_err *err);

#endif
