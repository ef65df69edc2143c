/* The platform requests of JT/T 808 that fleetsim's platform sends and its
 * terminals answer, with the reply each expects: the JT/T 808 row of the
 * request/reply tables that command steps and reply expectations use. */
#ifndef FLEETSIM_JT808_KINDS_H
#define FLEETSIM_JT808_KINDS_H

#include <stdint.h>

#include "sim/proto/kind.h"

#define JT808_N_KINDS 6

/* "0x8103" -> "0x0001", "0x8104" -> "0x0104", ... in a fixed order. */
extern const struct proto_kind jt808_kinds[JT808_N_KINDS];
/* Index of a request message id in jt808_kinds, -1 when not one. */
int jt808_kind_index(uint16_t msg_id);
/* The message id of kind i, 0 when out of range. */
uint16_t jt808_kind_msg(int i);
/* The reply message id kind i expects (0x0104 for 0x8104, 0x0201 for 0x8201, else 0x0001). */
uint16_t jt808_kind_reply(int i);

#endif
