/* JT/T 808 message <-> JSON (cJSON).  Field names follow the standard's table
 * headings in snake_case: msg_id, phone, serial, body.{ack_serial, result, ...}.
 * Used by `fleetsim decode/encode`, the vectors checker and reports. */
#ifndef FLEETSIM_JT808_JSON_H
#define FLEETSIM_JT808_JSON_H

#include <cjson/cJSON.h>
#include "sim/proto/jt808.h"

/* Build a JSON object for a decoded message.  Shape:
 * {"msg_id":"0x0200","name":"location report","version":"2019","proto_version":1,
 *  "phone":"...","serial":N,"encryption":0,
 *  "subpackage":{"total":N,"index":N} (only when set),
 *  "body":{...typed fields...} | "body_hex":"..." (untyped ids / fragments)} */
cJSON *jt808_to_json(const struct jt808_msg *m);

/* The reverse.  store/cap is scratch for variable data (0x8108 package bytes,
 * body_hex).  On error writes "path: what" (e.g. "body.items[2].id: expected a
 * number") into errbuf and returns JT808_E_VALUE. */
enum jt808_rc jt808_from_json(const cJSON *j, struct jt808_msg *m, uint8_t *store, size_t cap,
                              char *errbuf, size_t errcap);

/* The 0x8105 body (jt808_ctl_json.c, for jt808_json.c): fields added to o, and the
 * reverse into b (strings and bytes in arena a); false with "body.x: what" in err. */
void jt808_ctl_to_json(cJSON *o, const struct jt808_control *b);
bool jt808_ctl_from_json(const cJSON *o, struct jt808_control *b, struct jt808_arena *a, char *err,
                         size_t cap);

#endif
