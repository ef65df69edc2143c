/* Internals shared by the gateway's files: jt808_gw.c (connections, the bus, the
 * process), jt808_gw_msg.c (terminal messages), jt808_gw_cmd.c (platform
 * requests), jt808_gw_verify.c (third-party verification) and jt808_gw_fe.c (the
 * front-end table). */
#ifndef FLEETSIM_JT808_GW_INTERNAL_H
#define FLEETSIM_JT808_GW_INTERNAL_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

struct evp_pkey_st; /* OpenSSL's EVP_PKEY */

#include "sim/core/ctl.h"
#include "sim/core/wheel.h"
#include "sim/net/conn.h"
#include "sim/net/ocsp.h"
#include "sim/platform/core/bus.h"
#include "sim/platform/jt808/jt808_gw.h"
#include "sim/platform/jt808/jt808_gw_rsa.h"
#include "sim/platform/jt808/jt808_reg.h"
#include "sim/platform/jt808/jt808_verify.h"
#include "sim/proto/jt808.h"
#include "sim/proto/jt808_kinds.h"

#define GW_MAX_PEND 4
#define GW_MAX_RBUF (64 * 1024)
#define GW_MAX_WBUF (256 * 1024)
#define GW_TICK_S 0.01
#define GW_BUS_LINGER_S 0.005   /* events wait this long for others to share a bus message */
#define GW_CMD_BURST 256          /* command sends per read of the bus before other work */

/* What an answer must echo of its request (kept once per command, shared by its
 * terminals' pending entries): the ids asked (0x8106 parameters; 0x8003, 0x8800
 * package indexes), 0x8003's original serial, 0x8800's multimedia id, 0x8700's
 * command word or 0x8608's type. */
struct gw_want {
    uint32_t refs;
    uint16_t orig_serial;
    uint32_t media_id;
    uint32_t sel;
    uint16_t n;
    uint32_t ids[];
};

struct gw_pend {
    struct gw_want *want;     /* NULL: nothing to echo */
    uint64_t sent_us;
    uint64_t due_us;          /* unanswered by then: timed out */
    uint32_t task;            /* the core's command (bus CMD_BEGIN) */
    uint16_t serial, msg_id;
    uint8_t fleet, cmd;
    uint8_t two_phase;        /* an API command acknowledged before answered (0x8108: FRONTEND_STEP_API) */
    uint8_t delivered;        /* ... its 0x0001 came (DELIVERED): waiting for 0x0108 */
};

/* A terminal request waiting for the platform core's answer (registration,
 * authentication); the core answers in order. */
struct gw_wait {
    struct gw_conn *c;        /* NULL once the connection closed */
    uint32_t token;
    uint16_t serial, msg_id;
    uint8_t version;          /* enum jt808_version */
    char phone[21];
};

struct gw;

struct gw_conn {
    struct wheel_node timer;  /* idle and command timeouts; first member */
    ev_io io;
    struct conn conn;         /* the socket, partial input, queued output */
    struct gw *gw;
    struct gw_conn *prev, *next;
    uint8_t authed;
    uint8_t closing;
    uint8_t waiting;          /* requests at the core: input is held until they are answered */
    uint32_t handle;          /* how the core names this connection (gw_conn_by_handle) */
    enum jt808_version version;
    char phone[21];
    uint64_t phone_num;
    uint16_t serial;
    uint8_t npend;
    struct gw_pend pend[GW_MAX_PEND];
    uint64_t last_rx_us;
    struct jt808_reasm *reasm;
    struct jt808_pkgs *kept;  /* the last subpackaged request sent to it, as sent (for its 0x0005);
                                 NULL until one went, or when it was over GW_KEEP_MAX */
    struct gw_vreq *vreq;     /* a third-party verification out for this connection */
    struct jt808_verify_dev vdev;  /* the device the verifier named at authentication */
    uint8_t vdev_set;
    struct evp_pkey_st *rsa_peer;  /* the terminal's RSA public key from its 0x0A00 (jt808_gw_rsa.c) */
};

struct gw {
    const struct gw_config *cfg;
    int id;
    struct ev_loop *loop;
    struct tp_conn listener;      /* the listening socket, shared with the other processes */
    const struct transport *tp;   /* TCP, or TLS made from cfg->tls */
    struct ocsp_client *ocsp;     /* OCSP for device certificates (cfg->tls.ocsp_url) */
    struct ocsp_client *staple;   /* OCSP for our own certificate, stapled (cfg->tls.staple_url) */
    X509 *srv_cert, *srv_issuer;  /* ... the certificate it asks about, and its issuer */
    ev_timer staple_timer;        /* the staple expires (or the next try after a failure) */
    ev_io accept_io;
    ev_io ctl_io;
    ev_timer tick, flush;
    uint32_t reasm_n;             /* connections holding a reassembly (the flush walks them) */
    ev_signal sigint, sigterm;
    int ctl_fd;
    struct gw_slot *st;
    struct bus_out bus;           /* to the platform core */
    int core_fd;
    ev_io core_io;
    ev_prepare bus_prep;          /* what the loop iteration queued goes out as one message */
    ev_timer bus_timer;           /* ... or, for events alone, a little later with others */
    int bus_urgent;               /* a request a terminal waits on is queued */
    struct gw_wait *wait;         /* ring of requests at the core, oldest at wait_head */
    uint32_t wait_head, wait_n, wait_cap, next_token;
    struct gw_conn **slots;       /* connections by handle index */
    uint32_t n_slots, slots_cap, free_slot;
    uint16_t gen;
    char *body;                   /* a command body arriving in parts (bus CMD_BODY) */
    size_t body_len, body_cap;
    uint32_t body_task;
    uint64_t cmd_sends;           /* terminals a command was handed to (bus CMD_TO), all told */
    struct wheel wheel;
    struct httpc *httpc;          /* third-party verification requests (made at the first) */
    struct gw_conn *conns;
    uint64_t inflight;
    int draining;
    int accept_paused;            /* out of descriptors: not accepting until one frees */
    struct gw_cmd_job *jobs;      /* commands the core has begun and not ended */
    struct evp_pkey_st *rsa;      /* the gateway's RSA key pair (NULL: platform.rsa off) */
    uint64_t drain_deadline_us;
    uint8_t rscratch[65536];
};

/* Queue bytes for a terminal (sent now when the socket takes them). */
void gw_conn_send(struct gw_conn *c, const uint8_t *buf, size_t n);
/* Re-arm the connection's timer: idle timeout or the earliest command deadline. */
void gw_conn_reschedule(struct gw_conn *c);
/* The connection the core names by handle, or NULL when it has gone. */
struct gw_conn *gw_conn_by_handle(struct gw *g, uint32_t handle);
/* Tell the core how a command to c ended. */
void gw_cmd_result(struct gw *g, const struct gw_conn *c, const struct gw_pend *p, int state);
struct gw_cmd_job;
/* The core's command records: the body in parts, the request, the connections
 * it goes to (a batch at a time, paced by the core), its end. */
void gw_cmd_body(struct gw *g, const struct bus_rec *r);
void gw_cmd_begin(struct gw *g, const struct bus_rec *r);
void gw_cmd_to(struct gw *g, const struct bus_rec *r);
void gw_cmd_end(struct gw *g, const struct bus_rec *r);
void gw_cmd_free_all(struct gw *g);

/* jt808_gw_reply.c: answers to platform requests.  gw_reply takes m when it is
 * one (true; answers are not answered), gw_reply_fragment sees each subpackage
 * (the packages 0x8003 and 0x8800 ask for).  A pending request ends through
 * gw_pend_settle (verdict 0 answered, 1 refused, 2 unsupported, 3 invalid with a
 * GWC_REPLY_* reason) or gw_pend_remove. */
bool gw_reply(struct gw_conn *c, struct jt808_msg *m);
void gw_reply_fragment(struct gw_conn *c, const struct jt808_header *h);
void gw_pend_settle(struct gw_conn *c, int i, int verdict, int reason, const char *why);
/* A 0x0108 upgrade result: the answer of an API 0x8108 that its 0x0001 delivered
 * (result 0 SUCCESSFUL, else FAIL); nothing for any other. */
void gw_reply_upgrade_result(struct gw_conn *c, uint8_t result);
void gw_pend_remove(struct gw_conn *c, int i);
struct gw_want *gw_want_make(uint16_t msg_id, enum jt808_version ver, const uint8_t *body, size_t len);
/* A frame whose body did not decode: the request it answers (by its serial or
 * kind) is refused as invalid (why: the decode error). */
void gw_reply_rejected(struct gw_conn *c, uint16_t id, const uint8_t *body, size_t n, const char *why);
void gw_want_put(struct gw_want *w);
/* jt808_gw_msg.c: a position to the core. */
void gw_report_location(struct gw_conn *c, const struct jt808_location *loc);
/* The JSON of a position as the core stores it (service "location", wire units;
 * a time that is not BCD digits is left empty), NUL-terminated; its length. */
#define GW_LOCATION_JSON_MAX 160
size_t gw_location_json(const struct jt808_location *loc, char out[GW_LOCATION_JSON_MAX]);

/* jt808_gw_up.c: terminal messages of their own accord: -2 not one of its ids,
 * -1 answered already (0x8004, 0x8800, resent packages), else the 0x8001 result. */
int gw_up_message(struct gw_conn *c, const struct jt808_msg *m);
/* Ask for (or drop) c's incomplete subpackaged messages idle past the timeout. */
void gw_reasm_expire(struct gw_conn *c, uint64_t now_ms);
/* Keep the packages of a subpackaged message sent to c, as they went (its own now). */
struct jt808_pkgs;
void gw_keep(struct gw_conn *c, struct jt808_pkgs *p);

/* jt808_gw.c: the bus to the core broke (the gateway stops, saying why). */
void gw_bus_failed(struct gw *g);

/* jt808_gw_msg.c: the frames in a connection's input (how many bytes were used);
 * the core's answers to registrations and authentications. */
long gw_on_bytes(struct gw_conn *c, const uint8_t *buf, size_t n);
void gw_on_reg_reply(struct gw *g, const struct bus_rec *r);
void gw_on_auth_reply(struct gw *g, const struct bus_rec *r);

/* For jt808_gw_verify.c: answers to a terminal (jt808_gw_msg.c), the input held
 * behind a request going on (jt808_gw.c), the core's registration and unregistration. */
void gw_general_resp(struct gw_conn *c, const struct jt808_header *req, uint8_t result);
void gw_reg_resp(struct gw_conn *c, const struct jt808_header *req, uint8_t result, const char *auth_code);
void gw_resume(struct gw_conn *c);
/* Register the device named by the verifier in the core (device id = phone),
 * then authenticate it; the terminal is answered (0x8001) when the core has.
 * 0, or -1 when it cannot be asked (the caller answers). */
int gw_core_register_auth(struct gw_conn *c, const struct jt808_header *h, const struct jt808_verify_dev *d);
void gw_unregister(struct gw_conn *c);

/* jt808_gw_verify.c: is action a verified by the third party? */
bool gw_verify_wants(const struct gw *g, enum jt808_verify_action a);
/* Ask the verifier about m (q: the checked registration, for register); the
 * connection's input is held until the answer.  0, or -1 when it could not be
 * asked (counted; the caller refuses). */
int gw_verify_start(struct gw_conn *c, const struct jt808_msg *m, enum jt808_verify_action a,
                    const struct jt808_reg_req *q);
/* The connection closes: its request's answer will find nobody. */
void gw_verify_drop(struct gw_conn *c);
void gw_verify_free(struct gw *g);

#endif
