/* The life of one command to one device, as 004 §7 and spec.md §3 give it:
 *
 *   immediate (expireTime 0): created -> SENT, or FAIL when the device is offline;
 *   cached (expireTime > 0; absent: 48 h; short-connection devices only):
 *       created -> PENDING -> SENT when the device comes online or reports, one
 *       command of a device at a time, in the order they were created;
 *       PENDING -> EXPIRED when not sent by its expiry; PENDING -> CANCELED;
 *   SENT -> DELIVERED (the device acknowledged it) -> SUCCESSFUL | FAIL (its
 *       answer); SENT -> SUCCESSFUL | FAIL (an answer without an acknowledgement
 *       first); SENT -> TIMEOUT when no acknowledgement came within the ack
 *       timeout (180 s) of the last of 1 + maxRetransmit sendings.
 *
 * Pure: no clock (times are given, virtual ms), no I/O; every transition is kept
 * with its time, so a command's path can be shown and checked (the harness's
 * transitions expectation).  A refused event leaves the command as it is and says
 * why. */
#ifndef FLEETSIM_CMD_FSM_H
#define FLEETSIM_CMD_FSM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/platform/core/store.h"

#define CMD_DEFAULT_EXPIRE_MS (48ll * 3600 * 1000)  /* expireTime absent (004 §7) */
#define CMD_ACK_TIMEOUT_MS (180ll * 1000)           /* SENT without an ACK (spec.md §3) */
#define CMD_MAX_RETRANSMIT 3                        /* maxRetransmit 0..3 (004 §7's API) */
#define CMD_MAX_PATH 12                             /* transitions kept: the longest path has 5 */

struct cmd_step {
    enum store_cmd_state state;
    int64_t at_ms;
};

struct cmd_fsm {
    enum store_cmd_state state;
    bool cached;                 /* created PENDING (expireTime > 0) */
    int64_t created_ms;
    int64_t expire_at_ms;        /* cached: PENDING past this -> EXPIRED */
    int64_t ack_deadline_ms;     /* SENT: no ACK by then -> resend or TIMEOUT */
    int64_t ack_timeout_ms;
    uint8_t max_retransmit;
    uint8_t sendings;            /* times it went to the device */
    char why[96];                /* FAIL / TIMEOUT / EXPIRED / CANCELED: why */
    int n_path;
    struct cmd_step path[CMD_MAX_PATH];
};

/* How a device is reached. */
enum cmd_conn { CMD_LONG = 0, CMD_SHORT };   /* MQTT, JT/T 808 / LwM2M, CoAP (PSM) */

/* What the owner must do after an event. */
enum cmd_action { CMD_NONE = 0, CMD_SEND, CMD_NOTIFY };
/* CMD_SEND: hand the command to the front-end (then cmd_fsm_sent); CMD_NOTIFY: the
 * state changed (push it: 004 §5 command status changed); a send implies a notify
 * once it is sent. */

/* A new command at now.  expire_ms: 0 immediate, > 0 cached that long, < 0 absent
 * (48 h).  A long-connection device takes immediate commands only; an offline
 * device fails an immediate one.  0 (f set, *act says what next), or -1 with why
 * (a cached command to a long-connection device, maxRetransmit past 3). */
int cmd_fsm_create(struct cmd_fsm *f, int64_t now_ms, int64_t expire_ms, int max_retransmit, enum cmd_conn conn,
                   bool online, enum cmd_action *act, char *why, size_t cap);
/* It went to the device (the owner sends a PENDING one only when cmd_fsm_due says so). */
int cmd_fsm_sent(struct cmd_fsm *f, int64_t now_ms, char *why, size_t cap);
/* The device acknowledged it (an LwM2M ACK, a JT/T 808 0x0001 before the answer). */
int cmd_fsm_delivered(struct cmd_fsm *f, int64_t now_ms, char *why, size_t cap);
/* The device's answer: ok -> SUCCESSFUL, else FAIL with detail. */
int cmd_fsm_result(struct cmd_fsm *f, int64_t now_ms, bool ok, const char *detail, char *why, size_t cap);
/* The device is gone (an immediate command in flight on a long connection): FAIL. */
int cmd_fsm_lost(struct cmd_fsm *f, int64_t now_ms, const char *detail, char *why, size_t cap);
/* Cancel: only a PENDING one. */
int cmd_fsm_cancel(struct cmd_fsm *f, int64_t now_ms, char *why, size_t cap);
/* Time passes: a PENDING command past its expiry EXPIRES, a SENT one past its ack
 * deadline is sent again (CMD_SEND: then cmd_fsm_sent) or TIMES OUT.  *act says. */
void cmd_fsm_tick(struct cmd_fsm *f, int64_t now_ms, enum cmd_action *act);
/* The earliest instant cmd_fsm_tick could change f (INT64_MAX: none). */
int64_t cmd_fsm_next_ms(const struct cmd_fsm *f);

/* A final state: nothing more happens to it. */
bool cmd_state_final(enum store_cmd_state s);

/* Of a device's commands (in their creation order), the one to send now that the
 * device is online or reported: the first PENDING one, when none of them is SENT
 * (one at a time; a DELIVERED one no longer holds the next).  -1: none. */
int cmd_fsm_due(const struct cmd_fsm *const *cmds, int n);

/* The path as text: "PENDING -> SENT -> DELIVERED -> SUCCESSFUL". */
void cmd_fsm_path_text(const struct cmd_fsm *f, char *out, size_t cap);

#endif
