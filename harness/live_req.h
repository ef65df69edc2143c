/* Requests on the live statistics socket (`fleetsim run --stats PATH`, docs/live.md):
 * one JSON object per line, at most LIVE_REQ_MAX bytes, with an "id" the reply
 * echoes and an "op".  This file parses a line into a struct live_req (every
 * error says what and where) and builds the reply lines; what an op does is the
 * run's business (run_live.c). */
#ifndef FLEETSIM_LIVE_REQ_H
#define FLEETSIM_LIVE_REQ_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/dev/fleet_spec.h"

#define LIVE_REQ_MAX 4096      /* bytes of a request line, without its "\n" */
#define LIVE_ID_MAX 80         /* bytes of the id as JSON text */
#define LIVE_TERM_ID_MAX 48    /* bytes of a terminal's device id */
#define LIVE_DELTA_MAX 100000000 /* |delta| of a resize */

enum live_op {
    LIVE_OP_PAUSE = 0,
    LIVE_OP_RESUME,
    LIVE_OP_DISCONNECT,
    LIVE_OP_RESIZE,
    LIVE_OP_INSPECT,
    LIVE_OP__COUNT,
};

struct live_req {
    enum live_op op;
    char id[LIVE_ID_MAX];      /* the id as JSON text ("7", "\"a\""); "null" when it could not be read */
    bool has_fleet;
    char fleet[FLEET_ID_LEN];
    double fraction;           /* disconnect */
    int64_t delta;             /* resize */
    bool has_terminal;         /* inspect: by device id ... */
    char terminal[LIVE_TERM_ID_MAX];
    bool has_index;            /* ... or by fleet and index */
    uint64_t index;
};

/* The op's name ("pause"), and the list of them for messages ("pause, resume, ..."). */
const char *live_op_name(enum live_op op);
const char *live_op_list(void);

/* Parse one request line (len bytes, no "\n"; need not be NUL-terminated).
 * 0, or -1 with err saying what and where; req->id is set as far as it could be
 * read either way, so the error reply can echo it. */
int live_req_parse(const char *line, size_t len, struct live_req *req, char *err, size_t errcap);

/* A resize of a fleet: its active terminals (cur, of the whole fleet, at most
 * max) moved by delta, clamped to 0..max; here is how many of them the shard
 * (0-based) of shards runs (those of index i % shards == shard). */
struct live_resize {
    uint32_t active;
    uint32_t here;
    char clamped[80];          /* "" or why the delta was cut: "at the fleet's max 1100" */
};
void live_resize_plan(uint32_t cur, int64_t delta, uint32_t max, uint32_t shard, uint32_t shards,
                      struct live_resize *out);

/* A reply object {"reply": id, "ok": ok}, for the caller to add members to. */
cJSON *live_reply_new(const char *id, bool ok);
/* {"reply": id, "ok": false, "error": err} */
cJSON *live_reply_error(const char *id, const char *err);
/* The object as one line ("...\n", malloc'd, *len bytes), deleting it; NULL when out of memory. */
char *live_json_line(cJSON *reply, size_t *len);

#endif
