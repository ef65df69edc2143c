/* Terminals that deviate from JT/T 808 the way field devices do (a fleet's
 * "deviate" option): which terminals of a fleet deviate, and how one of their
 * frames is rewritten to carry one deviation kind, each exactly as the decoder
 * detects it (enum jt808_dev_kind). */
#ifndef FLEETSIM_JT808_DEVIATE_H
#define FLEETSIM_JT808_DEVIATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/proto/jt808.h"

/* Terminal `index` (0-based within its fleet) is one of the share (0..1) that
 * deviates: index i deviates when floor((i+1)*share) > floor(i*share), so a fleet
 * of n has floor(n*share) deviating terminals spread evenly over it. */
bool jt808_deviate_chosen(uint32_t index, double share);

/* Whether kind k can be carried by a message msg_id (0x0200: item-length,
 * item-truncated, unescaped-check; 0x0104: param-length, count-overrun,
 * trailing-bytes). */
bool jt808_deviate_applies(uint16_t msg_id, enum jt808_dev_kind k);

/* The kind a frame of msg_id with that serial carries, among those of mask (bit k
 * = kind k) that apply to it, rotating with the serial; -1 when none applies. */
int jt808_deviate_pick(uint16_t msg_id, unsigned mask, uint16_t serial);

/* Encode m (a 0x0200 with at least one additional item of id 0x30, or a 0x0104
 * with at least one parameter) into a frame carrying deviation k.  m->body is
 * used for the rewritten body and left NULL.  Returns JT808_OK and *out_len. */
enum jt808_rc jt808_deviate_encode(struct jt808_msg *m, enum jt808_dev_kind k, uint8_t *out,
                                   size_t cap, size_t *out_len, struct jt808_err *err);

#endif
