/* Declarative JT/T 808 bodies: the messages the typed structs of jt808.h do not cover
 * are described as field tables (jt808_layouts.c) and read/written by one engine.
 *
 * A layout is a list of fields.  Each field has a kind (BYTE, WORD, DWORD, BCD[n],
 * BYTES, STRING in GBK, a counted list of item groups, a location body, a compressed
 * block), a size (fixed n, the value of an earlier length/count field, or the rest of
 * the body), and may be present only in one edition (2013 or 2019) or only when an
 * earlier field of its group has a bit set / equals a value.
 *
 * Decoding builds a value tree in the message's arena (msg->lay); encoding writes it
 * back, filling in the length and count fields that other fields refer to.  Code that
 * answers these messages reads and builds them through the accessors below.
 *
 * Paths name a field from the body root: "interval", "areas[1].radius",
 * "areas[0].vertices[2].lat".  "areas" alone names the list itself.
 */
#ifndef FLEETSIM_JT808_LAYOUT_H
#define FLEETSIM_JT808_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/proto/jt808.h"

enum jt808_fk {
    JT808_FK_BYTE = 0,
    JT808_FK_WORD,
    JT808_FK_DWORD,
    JT808_FK_BCD,    /* digits, 2 per byte */
    JT808_FK_BYTES,  /* raw bytes (hex in JSON) */
    JT808_FK_STRING, /* GBK on the wire, UTF-8 here; a fixed size is 0x00-padded */
    JT808_FK_LIST,   /* count x item group (sub) */
    JT808_FK_LOC,    /* a location body read by jt808_loc.c (fixed 28: basic part only) */
    JT808_FK_ZIP,    /* gzip or zlib block: bytes kept as sent, inflated on decode */
};

enum jt808_fsz {
    JT808_SZ_FIXED = 0, /* n bytes (lists: never) */
    JT808_SZ_REF,       /* bytes (or items) = value of field ref of the same group */
    JT808_SZ_REST,      /* to the end of the body (lists: items until the end) */
};

enum jt808_fcond {
    JT808_IF_ALWAYS = 0,
    JT808_IF_BIT,       /* present when bit arg of field cref is set */
    JT808_IF_EQ,        /* present when field cref == arg */
};

struct jt808_fd {
    const char *name;
    uint8_t kind;       /* enum jt808_fk */
    uint8_t size;       /* enum jt808_fsz */
    uint16_t n;         /* fixed size in bytes */
    int8_t ref;         /* SZ_REF: index of the length/count field in this group */
    uint8_t ed;         /* 0 both editions, 1 2013 only, 2 2019 only */
    uint8_t cond;       /* enum jt808_fcond */
    int8_t cref;        /* field the condition reads */
    uint32_t arg;
    const struct jt808_fd *sub; /* LIST: item fields */
    uint8_t nsub;
    const char *path;   /* full path for error messages, e.g. "body.areas.radius" */
};

struct jt808_layout {
    uint16_t id;
    const char *name;
    const struct jt808_fd *f;
    uint8_t n;
};

/* One value; a group is an array of values, one per field of its layout. */
struct jt808_lv {
    uint32_t u;         /* BYTE/WORD/DWORD; ZIP: bytes of the inflated content */
    uint32_t n;         /* bytes of bytes/str (GBK length as read), items of a list */
    union {
        uint8_t *bytes; /* BYTES, ZIP (compressed, as sent), LOC (the raw location body) */
        char *str;      /* STRING (UTF-8), BCD (digits) */
        struct jt808_lv *items; /* LIST: n groups of nsub values, one after the other */
    };
    uint8_t *inflated;  /* ZIP: the inflated content */
    bool present;       /* false: not in this edition or its condition is false */
};

/* The decoded body of a layout id (msg->lay). */
struct jt808_lay_body {
    const struct jt808_layout *lay;
    enum jt808_version version;
    struct jt808_lv *root;          /* lay->n values */
    const uint8_t *trailing;        /* bytes after the last field, kept raw */
    size_t n_trailing;
};

/* The layout of msg_id, NULL when the id is not one of these. */
const struct jt808_layout *jt808_lay_find(uint16_t msg_id);
/* Every layout (for tests): *n gets the count. */
const struct jt808_layout *jt808_lay_all(size_t *n);

/* --- reading and writing a body ---------------------------------------------- */

/* Decode body[0..n) of msg->h.msg_id / msg->h.version into msg->lay (arena).
 * A truncated body is E_SHORT naming the field ("body.areas.radius") and offset;
 * bytes after the last field are kept (trailing) with a trailing-bytes deviation. */
enum jt808_rc jt808_lay_decode(const uint8_t *body, size_t n, struct jt808_msg *msg,
                               struct jt808_err *err);
/* Encode a tree (jt808_lay_new + setters, or a decode) into out. */
enum jt808_rc jt808_lay_encode(const struct jt808_lay_body *b, uint8_t *out, size_t cap,
                               size_t *out_len, struct jt808_err *err);

/* --- building and accessing ---------------------------------------------------- */

/* A fresh tree for msg->h.msg_id / msg->h.version in msg's arena, every field zero,
 * present per edition (and per condition when encoded); sets msg->lay.  NULL when
 * the id has no layout or out of memory.  jt808_encode then writes it. */
struct jt808_lay_body *jt808_lay_new(struct jt808_msg *msg);

/* Each returns false when the path names no field, a field of another kind, or (get)
 * a field absent from this body.  Setting a field marks it present. */
bool jt808_lay_get_u32(const struct jt808_lay_body *b, const char *path, uint32_t *v);
bool jt808_lay_set_u32(struct jt808_lay_body *b, struct jt808_msg *msg, const char *path, uint32_t v);
/* STRING and BCD fields (UTF-8 / digits). */
bool jt808_lay_get_str(const struct jt808_lay_body *b, const char *path, const char **s);
bool jt808_lay_set_str(struct jt808_lay_body *b, struct jt808_msg *msg, const char *path,
                       const char *s);
/* BYTES, ZIP (compressed bytes) and LOC (raw location body) fields; set copies. */
bool jt808_lay_get_bytes(const struct jt808_lay_body *b, const char *path, const uint8_t **p,
                         size_t *n);
bool jt808_lay_set_bytes(struct jt808_lay_body *b, struct jt808_msg *msg, const char *path,
                         const uint8_t *p, size_t n);
/* A list's length; set resizes it (new items zero, kept items kept). */
bool jt808_lay_list_len(const struct jt808_lay_body *b, const char *path, size_t *n);
bool jt808_lay_list_resize(struct jt808_lay_body *b, struct jt808_msg *msg, const char *path,
                           size_t n);
/* One numeric field of every item of a list at once (list "ids", field "id"), for
 * long lists: 0x0005 and 0x8003 name up to 65535 packages.  A path per item walks
 * the tree per item, and a list grown one item at a time is copied each time (its
 * cost and its arena bytes quadratic in the items); these take one pass.
 * set: the list gets exactly n items, item k's field v[k] (false, and nothing
 * changed, when a value does not fit the field's width or out of memory).
 * get: *n = the list's length; the fields of its first min(*n, cap) items go to out
 * (absent ones as 0). */
bool jt808_lay_list_set_u32(struct jt808_lay_body *b, struct jt808_msg *msg, const char *list,
                            const char *field, const uint32_t *v, size_t n);
bool jt808_lay_list_get_u32(const struct jt808_lay_body *b, const char *list, const char *field,
                            uint32_t *out, size_t cap, size_t *n);

/* The location of a LOC field, typed by jt808_loc.c into *out (lists it has go to
 * msg's arena); false when absent. */
bool jt808_lay_get_loc(const struct jt808_lay_body *b, struct jt808_msg *msg, const char *path,
                       struct jt808_location *out);

/* One field value for jt808_lay_build: path and either a number, a string (STRING,
 * BCD) or bytes (BYTES, ZIP, LOC).  Lists grow to hold the highest index named. */
struct jt808_lay_kv {
    const char *path;
    uint32_t u;
    const char *s;
    const uint8_t *p;
    size_t n;
};
/* Build msg (header h, a tree from kvs) ready for jt808_encode.  msg must be zeroed or
 * previously used (its arena is reset).  E_UNKNOWN_ID without a layout; E_VALUE with
 * err->field = the path that does not fit. */
enum jt808_rc jt808_lay_build(struct jt808_msg *msg, const struct jt808_header *h,
                              const struct jt808_lay_kv *kvs, size_t n, struct jt808_err *err);

#endif
