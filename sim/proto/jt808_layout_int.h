/* Shared by jt808_layout*.c and the hooks in jt808_body.c / jt808_json.c only. */
#ifndef FLEETSIM_JT808_LAYOUT_INT_H
#define FLEETSIM_JT808_LAYOUT_INT_H

#include <cjson/cJSON.h>
#include "sim/proto/jt808_internal.h"
#include "sim/proto/jt808_layout.h"

/* Decode the rest of r as msg's layout body (sets msg->lay); no layout: nothing. */
enum jt808_rc jt808_lay_read(struct jt808_rd *r, struct jt808_msg *msg);
/* Write a tree at w's cursor. */
enum jt808_rc jt808_lay_write(struct jt808_wr *w, const struct jt808_lay_body *b);
/* Is field f of group g on the wire (edition and condition)? */
bool jt808_lay_field_on(const struct jt808_fd *f, const struct jt808_lv *g, enum jt808_version v);
/* A fresh tree in arena a (no msg). */
struct jt808_lay_body *jt808_lay_new_in(struct jt808_arena *a, const struct jt808_layout *lay,
                                        enum jt808_version v);
/* Group values for a list item, present per edition; NULL when out of memory. */
bool jt808_lay_resize_in(struct jt808_arena *a, const struct jt808_fd *f, struct jt808_lv *v,
                         size_t n, enum jt808_version ver);
/* gzip in -> out. */
enum jt808_rc jt808_lay_gzip(const uint8_t *in, size_t n, uint8_t *out, size_t cap, size_t *out_len);

/* JSON (jt808_layout_json.c): the body object of a decoded layout message, and the
 * reverse: body JSON -> body bytes in out (E_VALUE with "body.x: what" in errbuf). */
cJSON *jt808_lay_to_json(const struct jt808_lay_body *b);
enum jt808_rc jt808_lay_from_json(const cJSON *o, const struct jt808_header *h, uint8_t *out,
                                  size_t cap, size_t *out_len, char *errbuf, size_t errcap);

#endif
