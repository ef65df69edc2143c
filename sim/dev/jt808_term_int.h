/* Inside the JT/T 808 terminal: what jt808_term.c shares with the files that answer
 * the rest of the platform's requests (jt808_term_*.c).  Not for other modules. */
#ifndef FLEETSIM_JT808_TERM_INT_H
#define FLEETSIM_JT808_TERM_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/dev/fleet.h"
#include "sim/dev/jt808_term.h"
#include "sim/proto/jt808.h"

static inline struct jt808_tstate *ts(const struct term *t) { return term_dstate(t); }
static inline const struct jt808_fleet_cfg *cfg(const struct term *t) { return term_cfg(t); }

#define TERM_ITEMS 5 /* additional items of each report */

/* The message being built; terminals of one worker share it (one at a time). */
extern struct jt808_msg jt_out;

enum jt808_version jt_version(const struct term *t);
/* Start jt_out as message msg_id of terminal t (its edition, phone, next serial). */
void jt_header(struct term *t, uint16_t msg_id);
/* Encode jt_out and send it; a request is entered in the ledger, timed from
 * intended_us (0: now).  False when it could not be encoded or sent. */
bool jt_send_at(struct term *t, bool request, uint64_t intended_us);
bool jt_send(struct term *t, bool request);
/* 0x0001 answering req with result (0 ok, 1 failed, 2 bad message, 3 unsupported). */
void jt_general_reply(struct term *t, const struct jt808_header *req, uint8_t result);
/* A location body of the terminal at (lat, lon) taken at taken_us, with items_out
 * (TERM_ITEMS of the caller's) as its additional items; the alarm and status words
 * carry the terminal's alarm_bits and status_bits. */
void jt_fill_location(struct term *t, struct jt808_location *loc, struct jt808_loc_item *items_out, int32_t lat,
                      int32_t lon, uint16_t speed, uint16_t dir, uint64_t taken_us);

/* The platform requests jt808_term.c does not answer itself: true when m was
 * answered (or deliberately left unanswered), false for an unsupported one. */
bool jt808_term_more(struct term *t, const struct jt808_msg *m);

#endif
