/* The platform requests of JT/T 808 that fleetsim's platform sends and its
 * terminals answer, with the reply each expects, the editions it exists in and a
 * default body: the JT/T 808 row of the request/reply tables that command steps
 * and reply expectations use. */
#ifndef FLEETSIM_JT808_KINDS_H
#define FLEETSIM_JT808_KINDS_H

#include <stdint.h>

#include "sim/proto/kind.h"

#define JT808_N_KINDS 39

#define JT808_KE_2013 1u  /* exists in 2013 (and 2011) */
#define JT808_KE_2019 2u
#define JT808_KE_BOTH 3u

struct jt808_kind_info {
    uint16_t msg;         /* the request */
    uint16_t reply;       /* the reply that answers it; 0: the packages it asks for, resent */
    uint8_t editions;     /* JT808_KE_* */
    const char *body;     /* default body JSON when a step gives none (NULL: it must) */
    const char *body19;   /* ... for 2019 terminals, when it differs */
};

/* "0x8103" -> "0x0001", "0x8104" -> "0x0104", ..., "0x8003" -> "packages", in a
 * fixed order (the first six keep the indexes older reports have). */
extern const struct proto_kind jt808_kinds[JT808_N_KINDS];
/* Index of a request message id in jt808_kinds, -1 when not one. */
int jt808_kind_index(uint16_t msg_id);
/* Kind i, NULL when out of range. */
const struct jt808_kind_info *jt808_kind_info(int i);
/* The message id of kind i, 0 when out of range. */
uint16_t jt808_kind_msg(int i);
/* The reply message id kind i expects (0x0104 for 0x8104, ...; 0 for 0x8003 and
 * 0x8800, answered by the packages they list). */
uint16_t jt808_kind_reply(int i);
/* The body kind i is sent with when a step gives none, for terminals of version
 * (2011, 2013, 2019); NULL when it has none. */
const char *jt808_kind_default_body(int i, int version);

#endif
