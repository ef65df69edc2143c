/* Inside the JT/T 808 terminal: what jt808_term.c shares with the files that answer
 * the rest of the platform's requests (jt808_term_*.c).  Not for other modules. */
#ifndef FLEETSIM_JT808_TERM_INT_H
#define FLEETSIM_JT808_TERM_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/dev/fleet.h"
#include "sim/dev/jt808_term.h"
#include "sim/dev/jt808_term_area.h"
#include "sim/proto/jt808.h"

static inline struct jt808_tstate *ts(const struct term *t) { return term_dstate(t); }
static inline const struct jt808_fleet_cfg *cfg(const struct term *t) { return term_cfg(t); }

#define TERM_ITEMS 5 /* additional items of each report */
/* 2019: a platform message still missing packages after this long without a new
 * one is asked for again (0x0005); the reassembly drops it after 60 s. */
#define JT808_RESEND_ASK_MS 5000u
#define JT808_RESEND_ASKS 3 /* times a message is asked for */

/* Bytes a terminal may buffer of subpackaged platform messages (jt808_reasm). */
#define JT808_TERM_REASM_MEM (256 * 1024)
/* Package body bytes of the last subpackaged message kept for 0x8003, as the gateway
 * keeps its own for 0x0005: a 64 KiB body, its ciphertext when encrypted. */
#define JT808_TERM_KEPT_MAX (72 * 1024)
/* What a terminal holds beyond its fixed block, whatever the platform sends: the
 * reassembly's limit, the area store at its caps and its last 0x0608's packages, plus
 * the multimedia state with one upload's packages (under 80 kB), the blind-area
 * buffer and the rest (a few kB). */
#define JT808_TERM_HELD_MAX (JT808_TERM_REASM_MEM + JT808_AREA_HELD_MAX + JT808_TERM_KEPT_MAX + 1024 + 128 * 1024)
/* The bytes terminal t holds now beyond its block (heap it owns), for the bound above. */
size_t jt808_term_held(struct term *t);
size_t jt808_term_more_held(struct term *t);

/* The message being built; terminals of one worker share it (one at a time). */
extern struct jt808_msg jt_out;

enum jt808_version jt_version(const struct term *t);
/* Start jt_out as message msg_id of terminal t (its edition, phone, next serial). */
void jt_header(struct term *t, uint16_t msg_id);
/* Encode jt_out and send it; a request is entered in the ledger, timed from
 * intended_us (0: now).  False when it could not be encoded or sent, or when it is
 * a request and TERM_MAX_PEND are in flight already (term_can_request). */
bool jt_send_at(struct term *t, bool request, uint64_t intended_us);
bool jt_send(struct term *t, bool request);
/* 0x0001 answering req with result (0 ok, 1 failed, 2 bad message, 3 unsupported). */
void jt_general_reply(struct term *t, const struct jt808_header *req, uint8_t result);
/* A location body of the terminal at (lat, lon) taken at taken_us, with items_out
 * (TERM_ITEMS of the caller's) as its additional items; the alarm and status words
 * carry the terminal's alarm_bits and status_bits. */
void jt_fill_location(struct term *t, struct jt808_location *loc, struct jt808_loc_item *items_out, int32_t lat,
                      int32_t lon, uint16_t speed, uint16_t dir, uint64_t taken_us);

/* The parameters the terminal knows, as 0x0104 carries them (p->params: the
 * caller's until the next call). */
void jt_fill_params(struct term *t, struct jt808_params *p);
/* The terminal id it registered with (0x0100, 0x0107). */
void jt_terminal_id(const struct term *t, char *out, size_t cap);

/* The platform requests jt808_term.c does not answer itself: true when m was
 * answered (or deliberately left unanswered), false for an unsupported one. */
bool jt808_term_more(struct term *t, const struct jt808_msg *m);
/* on_tick's share for them: what is due at now is done; returns the next time
 * wanted (0: none). */
uint64_t jt808_term_more_tick(struct term *t, uint64_t now);
/* A request of theirs got no answer in time (true: it was one of theirs). */
bool jt808_term_more_timeout(struct term *t, uint16_t msg_id);
/* A subpackaged platform message is still missing packages (jt808_term.c's
 * reassembly): check again at at_us. */
void jt808_term_more_reasm_pending(struct term *t, uint64_t at_us);
void jt808_term_more_free(struct term *t);

/* 2019, fleet option time_query: 0x0004 after authenticating (jt808_term_time.c);
 * 0x8004 settles it, counted (and checked against the terminal's clock). */
void jt808_term_time_query(struct term *t);
void jt808_term_time_answer(struct term *t, const struct jt808_msg *m);
/* "YYMMDDhhmmss" (UTC, 20YY) -> Unix seconds; false when not a date. */
bool jt808_term_time_parse(const char *digits, int64_t *unix_s);

/* --- the state of the further requests, allocated on first use ------------------ */

struct jt808_track;   /* temporary tracking (jt808_term_cmd.c), only while tracking */
struct jt808_media;   /* shots, uploads, recording (jt808_term_media.c) */
struct jt808_pkgs;    /* a subpackaged message as sent (sim/proto/jt808_pkgs.h) */
struct jt808_areas;   /* areas and routes set (jt808_term_area.c), from the first set */
struct evp_pkey_st;   /* OpenSSL's EVP_PKEY */
struct jt808_more {
    struct jt808_track *track;
    struct jt808_media *media;
    struct jt808_areas *areas;
    struct evp_pkey_st *rsa_platform; /* the platform's public key from 0x8A00 on this connection
                                         (jt808_term_rsa.c; shared by the terminals given the same) */
    struct jt808_pkgs *kept; /* the last subpackaged message as sent (a 0x0608, or a body too long for
                                one encrypted frame), for 0x8003 (jt808_term_area.c);
                                     NULL: none on this connection, or over JT808_TERM_KEPT_MAX */
    uint64_t reasm_check_us;   /* when to look for missing platform packages (0: none) */
    uint8_t events[32];        /* 0x8301: event ids set (bit per id), for 0x0301 */
    uint8_t menu[32];          /* 0x8303: information types on the menu, for 0x0303 */
    struct jt808_param *params; /* parameters 0x8103 set that the terminal's state does not hold
                                   (all but the heartbeat and report intervals), for 0x0104 */
    int n_params;
};
/* Keep the parameters of a 0x8103 that the state does not hold (a later value of an
 * id replaces the earlier one; at most JT808_TERM_KEPT_PARAMS ids). */
#define JT808_TERM_KEPT_PARAMS 250 /* with the 4 of the state, a 0x0104's count (a BYTE) holds them */
void jt808_term_params_keep(struct term *t, const struct jt808_params *p);
/* The kept value of id, NULL when none. */
const struct jt808_param *jt808_term_param_kept(struct term *t, uint32_t id);
/* The kept parameters, *n of them (NULL: none). */
const struct jt808_param *jt808_term_params_kept(struct term *t, int *n);
/* The terminal's, made when create (NULL: none, or out of memory). */
struct jt808_more *jt_more(struct term *t, bool create);

/* Start jt_out as layout message msg_id (header, an empty tree); NULL: out of memory. */
struct jt808_lay_body *jt_lay_start(struct term *t, uint16_t msg_id);
/* The terminal's current location as a 0x0200 body (with the additional items
 * when items, else the 28-byte basic part) into out; its length, 0 on failure. */
size_t jt_location_bytes(struct term *t, bool items, uint8_t *out, size_t cap);
/* Count a reply to the platform as the foundation's are. */
void jt_count_reply(struct term *t);

/* Each answers the requests of its file: false when m is not one of them. */
bool jt808_term_cmd(struct term *t, const struct jt808_msg *m);
uint64_t jt808_term_cmd_tick(struct term *t, uint64_t now);
void jt808_term_cmd_free(struct jt808_more *x);
size_t jt808_term_cmd_held(const struct jt808_more *x);
bool jt808_term_media(struct term *t, const struct jt808_msg *m);
uint64_t jt808_term_media_tick(struct term *t, uint64_t now);
bool jt808_term_media_timeout(struct term *t, uint16_t msg_id);
void jt808_term_media_free(struct jt808_more *x);
size_t jt808_term_media_held(const struct jt808_more *x);

/* 0x8003 naming the terminal's last subpackaged message kept (a 0x0608, or a body
 * too long for one encrypted frame): the listed packages again (true), or not about
 * it (false: an upload's). */
bool jt808_term_area_resend(struct term *t, const struct jt808_msg *m);
/* p, just sent, kept as the last subpackaged message for 0x8003 (the one before
 * freed); freed instead when over JT808_TERM_KEPT_MAX or out of memory. */
void jt808_term_keep(struct term *t, struct jt808_pkgs *p);
/* The connection closed: the kept packages were its. */
void jt808_term_area_forget(struct term *t);
size_t jt808_term_area_held(const struct jt808_more *x);

/* jt808_term_rsa.c: 0x8A00 -> 0x0A00; bodies in and out. */
/* Does what t sends now go encrypted (fleet rsa after-exchange, the platform's key known)? */
bool jt808_term_rsa_active(struct term *t);
bool jt808_term_rsa(struct term *t, const struct jt808_msg *m);
/* Encode jt_out encrypted for the platform when the fleet's rsa is after-exchange
 * and its key is known (true): into out as one frame, or, a body over 819 bytes
 * (too long for one frame encrypted), as packages each encrypted on its own in
 * *pkgs (the caller's, serials from jt_out's: jt808_term_pkgs), nothing in out.
 * False, nothing written and *pkgs NULL: it goes in the clear (not encrypting, or
 * it cannot be: counted as an RSA error). */
bool jt808_term_rsa_encode(struct term *t, uint8_t *out, size_t cap, size_t *len, struct jt808_pkgs **pkgs);
/* m arrived RSA-encrypted: its body decrypted with the terminal's key and decoded
 * (into out, cap bytes); false when it does not (counted). */
bool jt808_term_rsa_open(struct term *t, struct jt808_msg *m, const uint8_t *body, size_t n, uint8_t *out,
                         size_t cap);
/* A package from the platform that came RSA-encrypted: its body decrypted into out
 * (cap bytes) in place of the ciphertext, not decoded; false when it does not (counted). */
bool jt808_term_rsa_open_package(struct term *t, struct jt808_msg *m, uint8_t *out, size_t cap);
/* jt_out's body[0..n) cut into packages of chunk bytes (serials from jt_out's, the
 * further ones taken here), each package encrypted for the platform on its own when
 * jt808_term_rsa_encode would encrypt a frame (chunk then at most 819), every other
 * one left in the clear when the terminal deviates with mixed-encryption; counted.
 * NULL when they cannot be made. */
struct jt808_pkgs *jt808_term_pkgs(struct term *t, const uint8_t *body, size_t n, size_t chunk);
/* The connection closed: the platform's key was its. */
void jt808_term_rsa_forget(struct term *t);
void jt808_term_rsa_free(struct jt808_more *x);
/* The worker's last further state is gone: its key pool too. */
void jt808_term_rsa_pool_free(void);

/* The synthetic JPEG of a shot (jt808_term_media.c): its length, 0 when cap is short. */
size_t jt808_media_jpeg(uint8_t res, uint32_t media_id, uint8_t *out, size_t cap);

#endif
