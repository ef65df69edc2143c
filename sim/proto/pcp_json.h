/* PCP message <-> JSON (cJSON), for `fleetsim decode/encode`, the vectors checker
 * and reports.  Shape (field names follow 004 §15.2's tables in snake_case):
 *   {"code":"0x14","name":"new version notice","direction":"request","from":"platform",
 *    "version":1,"check":"0x02F7","length":22,
 *    "data":{"version":"V1.0","chunk_size":500,"chunk_count":1,"check_code":"0x1234"}}
 * data per message (request / response):
 *   0x13  {}                                   / {"result","version"}
 *   0x14  {"version","chunk_size","chunk_count","check_code"} / {"result"}
 *   0x15  {"version","chunk_index"}            / {"result","chunk_index"[,"chunk"]}
 *   0x16  {"status"}                           / {"result"}
 *   0x17  {}                                   / {"result"}
 *   0x18  {"result","version"}                 / {"result"}
 * result/status/chunk_size/chunk_count/chunk_index are numbers; check and check_code
 * are "0xHHHH" strings; chunk is uppercase hex, present only when result is 0. */
#ifndef FLEETSIM_PCP_JSON_H
#define FLEETSIM_PCP_JSON_H

#include <cjson/cJSON.h>
#include "sim/proto/pcp.h"

/* JSON object for a decoded (or to-be-encoded) message; NULL when out of memory.
 * "from" follows from code and direction (see pcp_is_response). */
cJSON *pcp_to_json(const struct pcp_msg *m);

/* The reverse.  "code" and one of "direction"/"from" are required (both may be
 * given if they agree); "version" defaults to 1; "name", "check" and "length" are
 * optional and, when given, must be well-typed ("name" must match the code; check
 * and length are stored in m but pcp_encode computes its own).  Unknown fields,
 * wrong types and values pcp_check rejects fail with "path: what" in errbuf
 * (e.g. "data.chunk_size: expected an integer 0..65535") and PCP_E_VALUE, or
 * PCP_E_NOSPACE when the chunk does not fit store/cap (m->chunk points into store). */
enum pcp_rc pcp_from_json(const cJSON *j, struct pcp_msg *m, uint8_t *store, size_t cap,
                          char *errbuf, size_t errcap);

#endif
