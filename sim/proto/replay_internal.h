/* Shared inside the replay codec: the compiled form of templates and patterns
 * (replay_parse.c), and the layout, length and checksum rules both render and match
 * follow (replay_layout.c). */
#ifndef FLEETSIM_REPLAY_INTERNAL_H
#define FLEETSIM_REPLAY_INTERNAL_H

#include <stdarg.h>
#include <stdio.h>

#include "sim/proto/replay_tmpl.h"

enum replay_el_kind {
    REPLAY_EL_BYTES, /* literal bytes: prog->bytes[data .. data + width) */
    REPLAY_EL_ANY,   /* "??" x width (patterns) */
    REPLAY_EL_STAR,  /* "*" (patterns): whatever the frame has left over */
    REPLAY_EL_INDEX,
    REPLAY_EL_GINDEX,
    REPLAY_EL_SERIAL,
    REPLAY_EL_COUNTER,
    REPLAY_EL_ID_BCD,
    REPLAY_EL_ID_ASCII,
    REPLAY_EL_ID_STR, /* width is strlen(id) */
    REPLAY_EL_TIME_BCD,
    REPLAY_EL_TIME_UNIX,
    REPLAY_EL_RAND,
    REPLAY_EL_LEN,
    REPLAY_EL_XOR8,
    REPLAY_EL_SUM8,
    REPLAY_EL_CRC16, /* CRC-16/CCITT-FALSE */
    REPLAY_EL_CRC16_MODBUS,
};

/* Placeholder names, as replay_tmpl_has takes them; bit i of prog->has is names[i]. */
enum replay_ph {
    REPLAY_PH_INDEX,
    REPLAY_PH_GINDEX,
    REPLAY_PH_ID,
    REPLAY_PH_SERIAL,
    REPLAY_PH_COUNTER,
    REPLAY_PH_TIME,
    REPLAY_PH_RAND,
    REPLAY_PH_LEN,
    REPLAY_PH_XOR8,
    REPLAY_PH_SUM8,
    REPLAY_PH_CRC16,
    REPLAY_PH_COUNT
};

struct replay_el {
    enum replay_el_kind kind;
    bool le;         /* integer fields, len, unix time, crc16: little-endian */
    bool in_span;    /* between [ and ] */
    size_t width;    /* bytes; 0 for ID_STR and STAR, whose width varies */
    size_t data;     /* BYTES: offset into prog->bytes */
    size_t text_off; /* where the element starts in the text (a BYTES run is one
                        unbroken run of digits, so byte i is at text_off + 2 i) */
};

struct replay_prog {
    struct replay_el *els;  /* in frame order */
    size_t nel;
    uint8_t *bytes;         /* literal bytes of every BYTES element */
    size_t nbytes;
    size_t min_size;        /* sum of the fixed widths */
    size_t n_idstr;         /* number of {id:str} */
    bool has_span;
    size_t span_a, span_b;  /* the span is elements [span_a, span_b) */
    bool has_star;
    unsigned has;           /* 1u << enum replay_ph for every placeholder used */
};

enum replay_mode { REPLAY_MODE_TMPL, REPLAY_MODE_PAT };

/* Compile text into *prog.  @return 0, or -1 with err set (prog then empty). */
int replay_parse(const char *text, enum replay_mode mode, struct replay_prog *prog,
                 struct replay_err *err);
void replay_parse_free(struct replay_prog *prog);
bool replay_parse_has(const struct replay_prog *prog, const char *placeholder);
/* "{id:bcd6}", "{serial:2:le}", "??", "literal bytes": the element, for messages. */
const char *replay_parse_el_name(const struct replay_el *e, char *buf, size_t cap);
/* The known word word abbreviates ("idx": "index"), else the nearest within an
 * edit distance of 2, or NULL. */
const char *replay_parse_nearest(const char *word, size_t len, const char *const *known, size_t n);

/* Where things fall in one frame once the variable widths are known. */
struct replay_layout {
    size_t idlen;     /* strlen of the id, for {id:str} */
    size_t star;      /* bytes the "*" takes */
    size_t total;     /* frame size */
    size_t span_from; /* the span is frame bytes [span_from, span_to) */
    size_t span_to;
};

void replay_layout_init(const struct replay_prog *p, size_t idlen, size_t star,
                        struct replay_layout *l);
size_t replay_layout_width(const struct replay_el *e, const struct replay_layout *l);
bool replay_layout_is_sum(enum replay_el_kind kind);
/* The value the len or checksum element k, at frame offset pos, must hold for the
 * frame bytes in buf (a buffer of l->total bytes).  With a span, the checksums
 * cover it, and one inside it counts the bytes of the checksum fields there as
 * zero; without a span they cover everything before them.  len counts the span, or
 * everything after it. */
uint64_t replay_layout_value(const struct replay_prog *p, size_t k, size_t pos, const uint8_t *buf,
                             const struct replay_layout *l);

/* The id as element e (an id field) writes it, into out (e->width bytes, strlen(id)
 * for {id:str}).  @return 0, or -1 with why saying what does not fit. */
int replay_layout_id(const struct replay_el *e, const char *id, uint8_t *out, char *why,
                     size_t cap);

static inline void replay_put_uint(uint8_t *p, size_t w, bool le, uint64_t v)
{
    for (size_t i = 0; i < w; i++) {
        uint8_t b = (uint8_t)(i < 8 ? v >> (8 * i) : 0);
        p[le ? i : w - 1 - i] = b;
    }
}

static inline uint64_t replay_get_uint(const uint8_t *p, size_t w, bool le)
{
    uint64_t v = 0;
    for (size_t i = 0; i < w; i++)
        v = v << 8 | p[le ? w - 1 - i : i];
    return v;
}

/* The low w bytes of v. */
static inline uint64_t replay_mask(uint64_t v, size_t w)
{
    return w >= 8 ? v : v & ((UINT64_C(1) << (8 * w)) - 1);
}

/* Fill err (if any) with rc, offset and a formatted message; returns -1. */
static inline int replay_fail(struct replay_err *err, enum replay_rc rc, size_t offset,
                              const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static inline int replay_fail(struct replay_err *err, enum replay_rc rc, size_t offset,
                              const char *fmt, ...)
{
    if (err) {
        va_list ap;
        err->rc = rc;
        err->offset = offset;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}

#endif
