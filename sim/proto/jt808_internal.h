/* Shared by the jt808_*.c files only: bounded readers/writers over body bytes and
 * the frame builder used by jt808_encode and jt808_split.  Not a public API. */
#ifndef FLEETSIM_JT808_INTERNAL_H
#define FLEETSIM_JT808_INTERNAL_H

#include <string.h>
#include "sim/proto/jt808.h"

/* Largest header: id W, props W, version B, phone BCD[10], serial W, total W, index W. */
#define JT808_MAX_HEADER 21

#define JT808_TRY(x) do { enum jt808_rc rc_ = (x); if (rc_ != JT808_OK) return rc_; } while (0)

static inline enum jt808_rc jt808_fail(struct jt808_err *e, enum jt808_rc rc, size_t off,
                                       const char *field)
{
    if (e) {
        e->rc = rc;
        e->offset = off;
        e->field = field;
    }
    return rc;
}

/* Reader over [p, p+end); pos is also the error offset, so offsets stay relative to
 * the start of the body even inside nested ranges (0x0704 items). */
struct jt808_rd {
    const uint8_t *p;
    size_t pos;
    size_t end;
    struct jt808_err *err;
    struct jt808_devs *devs;    /* where deviations go; NULL: not recorded */
    struct jt808_arena *arena;  /* where lists go; NULL: lists cannot be decoded (E_NOSPACE) */
};

/* Record a deviation at body offset off (jt808_decode maps it to a wire offset). */
static inline void jt808_rd_deviate(struct jt808_rd *r, enum jt808_dev_kind k, size_t off,
                                    const char *field)
{
    jt808_devs_add(r->devs, k, off, field);
}

/* n zeroed bytes from the reader's arena, or NULL with E_NOSPACE set on field. */
static inline void *jt808_rd_alloc(struct jt808_rd *r, size_t n, const char *field)
{
    void *p = r->arena ? jt808_arena_alloc(r->arena, n) : NULL;
    if (!p)
        jt808_fail(r->err, JT808_E_NOSPACE, r->pos, field);
    return p;
}

static inline enum jt808_rc jt808_rd_need(struct jt808_rd *r, size_t k, const char *field)
{
    if (r->end - r->pos < k)
        return jt808_fail(r->err, JT808_E_SHORT, r->pos, field);
    return JT808_OK;
}

static inline enum jt808_rc jt808_rd_u8(struct jt808_rd *r, uint8_t *v, const char *field)
{
    JT808_TRY(jt808_rd_need(r, 1, field));
    *v = r->p[r->pos++];
    return JT808_OK;
}

static inline enum jt808_rc jt808_rd_u16(struct jt808_rd *r, uint16_t *v, const char *field)
{
    JT808_TRY(jt808_rd_need(r, 2, field));
    *v = (uint16_t)(r->p[r->pos] << 8 | r->p[r->pos + 1]);
    r->pos += 2;
    return JT808_OK;
}

static inline enum jt808_rc jt808_rd_u32(struct jt808_rd *r, uint32_t *v, const char *field)
{
    JT808_TRY(jt808_rd_need(r, 4, field));
    const uint8_t *q = r->p + r->pos;
    *v = (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
    r->pos += 4;
    return JT808_OK;
}

/* A body that goes on after its layout is complete deviates: the bytes left stay in
 * the raw body (msg->body from the deviation's offset) and decoding goes on. */
static inline enum jt808_rc jt808_rd_end(struct jt808_rd *r)
{
    if (r->pos < r->end) {
        jt808_rd_deviate(r, JT808_DEV_TRAILING_BYTES, r->pos, "body");
        r->pos = r->end;
    }
    return JT808_OK;
}

/* GBK STRING of n bytes -> UTF-8 (NUL-terminated, cap bytes). */
enum jt808_rc jt808_rd_string(struct jt808_rd *r, size_t n, char *out, size_t cap, const char *field);
/* Fixed B[n] field: trailing 0x00 padding dropped, then as a string. */
enum jt808_rc jt808_rd_fixed(struct jt808_rd *r, size_t n, char *out, size_t cap, const char *field);

struct jt808_wr {
    uint8_t *p;
    size_t pos;
    size_t cap;
    struct jt808_err *err;
};

static inline enum jt808_rc jt808_wr_need(struct jt808_wr *w, size_t k, const char *field)
{
    if (w->cap - w->pos < k)
        return jt808_fail(w->err, JT808_E_NOSPACE, w->pos, field);
    return JT808_OK;
}

static inline enum jt808_rc jt808_wr_u8(struct jt808_wr *w, uint8_t v, const char *field)
{
    JT808_TRY(jt808_wr_need(w, 1, field));
    w->p[w->pos++] = v;
    return JT808_OK;
}

static inline enum jt808_rc jt808_wr_u16(struct jt808_wr *w, uint16_t v, const char *field)
{
    JT808_TRY(jt808_wr_need(w, 2, field));
    w->p[w->pos] = (uint8_t)(v >> 8);
    w->p[w->pos + 1] = (uint8_t)v;
    w->pos += 2;
    return JT808_OK;
}

static inline enum jt808_rc jt808_wr_u32(struct jt808_wr *w, uint32_t v, const char *field)
{
    JT808_TRY(jt808_wr_need(w, 4, field));
    uint8_t *q = w->p + w->pos;
    q[0] = (uint8_t)(v >> 24);
    q[1] = (uint8_t)(v >> 16);
    q[2] = (uint8_t)(v >> 8);
    q[3] = (uint8_t)v;
    w->pos += 4;
    return JT808_OK;
}

static inline enum jt808_rc jt808_wr_bytes(struct jt808_wr *w, const uint8_t *b, size_t n,
                                           const char *field)
{
    JT808_TRY(jt808_wr_need(w, n, field));
    if (n)
        memcpy(w->p + w->pos, b, n);
    w->pos += n;
    return JT808_OK;
}

/* UTF-8 -> GBK written at the cursor, at most max bytes (E_VALUE beyond);
 * *n_out gets the byte count. */
enum jt808_rc jt808_wr_string(struct jt808_wr *w, const char *s, size_t max, size_t *n_out,
                              const char *field);
/* UTF-8 -> GBK into a fixed B[n] field, 0x00-padded; E_VALUE when it does not fit. */
enum jt808_rc jt808_wr_fixed(struct jt808_wr *w, const char *s, size_t n, const char *field);

/* Location body (0x0200, and inside 0x0201/0x0704); names say where it sits. */
struct jt808_loc_names;
extern const struct jt808_loc_names jt808_loc_names_0200, jt808_loc_names_0201,
    jt808_loc_names_0704;
enum jt808_rc jt808_loc_read(struct jt808_rd *r, struct jt808_location *loc,
                             const struct jt808_loc_names *nm);
enum jt808_rc jt808_loc_write(struct jt808_wr *w, const struct jt808_location *loc,
                              const struct jt808_loc_names *nm);
/* Expected length of a known item id, 0 when the id is not known. */
uint8_t jt808_loc_item_len(uint8_t id);

/* Parameter lists of 0x8103 / 0x0104: count B, then (id DW, len B, value). */
enum jt808_rc jt808_params_read(struct jt808_rd *r, struct jt808_params *ps);
enum jt808_rc jt808_params_write(struct jt808_wr *w, const struct jt808_params *ps);

/* 0x8105 terminal control (jt808_ctl.c). */
enum jt808_rc jt808_ctl_read(struct jt808_rd *r, struct jt808_control *b);
enum jt808_rc jt808_ctl_write(struct jt808_wr *w, const struct jt808_control *b);

/* Whether m's body is one of the typed ones (to and from JSON as "body", not
 * "body_hex"): a known id, whole, in the clear or an RSA body decrypted with its
 * key (which reads as a plain one). */
static inline bool jt808_body_is_typed(const struct jt808_msg *m)
{
    return jt808_msg_known(m->h.msg_id) && !m->h.subpackage && (m->h.encryption == 0 || m->rsa_plain);
}

/* jt808_body_decode without clearing msg->devs (jt808_decode records frame-layer
 * deviations first). */
enum jt808_rc jt808_body_read(const uint8_t *body, size_t n, struct jt808_msg *msg,
                              struct jt808_err *err);

/* Header + body -> complete wire frame with flags. */
/* Wire offset (in a frame starting with its flag) of unescaped byte raw_off. */
size_t jt808_wire_offset(const uint8_t *wire, size_t len, size_t raw_off);
/* Bytes of the header h describes (12 or 17, 4 more for a subpackage). */
size_t jt808_header_len(const struct jt808_header *h);

enum jt808_rc jt808_frame_build(const struct jt808_header *h, const uint8_t *body, size_t n,
                                uint8_t *out, size_t cap, size_t *out_len, struct jt808_err *err);

#endif
