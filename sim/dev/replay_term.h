/* The replay dialect: terminals of any binary protocol over TCP or UDP.  Each
 * sends frames built from templates (sim/proto/replay_tmpl.h) on a schedule or
 * once on connecting, matches replies by byte pattern within the ack timeout, and
 * answers what the platform sends with templates of its own.  A platform whose
 * protocol fleetsim does not speak can be loaded this way, and captured frames
 * (a vectors file) replayed at scale.  harness/scenario_replay.c parses the
 * fleet's settings; docs/replay-templates.md is the syntax. */
#ifndef FLEETSIM_REPLAY_TERM_H
#define FLEETSIM_REPLAY_TERM_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/proto/replay_tmpl.h"

#define REPLAY_MAX_MSGS 8      /* messages a fleet sends */
#define REPLAY_MAX_ANSWERS 8   /* patterns a fleet answers */

struct replay_msg_cfg {
    char name[32];
    struct replay_tmpl **frames; /* one template, or a vectors file's frames sent in turn */
    int n_frames;
    uint64_t every_ms;           /* period; 0 = once, when the connection is up */
    struct replay_pat *reply;    /* NULL: nothing comes back for it */
    bool handshake;              /* sent first on every connection; its reply puts the
                                    terminal online */
};

struct replay_answer_cfg {
    struct replay_pat *match;    /* a frame from the platform like this ... */
    struct replay_tmpl *send;    /* ... is answered with this ({serial} = the frame's) */
};

struct replay_fleet_cfg {
    int n_msgs;
    struct replay_msg_cfg msgs[REPLAY_MAX_MSGS];
    int n_answers;
    struct replay_answer_cfg answers[REPLAY_MAX_ANSWERS];
    struct replay_framing framing; /* where a frame ends in a byte stream */
    int32_t utc_offset_s;          /* for {time:bcd6} */
    bool has_handshake;
};

/* Release what a configuration holds (not the struct itself). */
void replay_fleet_cfg_clear(struct replay_fleet_cfg *c);

enum replay_term_counter {
    REPLAY_C_MATCHED = 0,   /* replies matched to a request in flight */
    REPLAY_C_ANSWERS,       /* answers sent to frames from the platform */
    REPLAY_C_UNMATCHED,     /* frames from the platform that matched no reply or answer */
    REPLAY_C_SKIPPED,       /* scheduled sends skipped: offline, or too many in flight */
    REPLAY_C_RENDER_ERRORS, /* frames a template could not render (an id too long, ...) */
    REPLAY_C__COUNT
};

struct dialect;
extern const struct dialect replay_dialect;

#endif
