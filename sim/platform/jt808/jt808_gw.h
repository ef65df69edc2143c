/* The reference JT/T 808 gateway, a front-end of the platform core: TCP on
 * libev, one process per listening socket (several share a port with
 * SO_REUSEPORT); registrations, authentications, positions and command results
 * go to the core over the bus (sim/platform/core), which stores them.  It answers every
 * terminal request (0x8100 for registration, 0x8001 otherwise), rejects frames with
 * a bad check or escape with 0x8001 result 2 and keeps the connection, skips garbage
 * to the next 0x7E, closes idle connections, sends every platform request of
 * jt808_kinds.c when told to, matching and checking the replies, answers 0x0004
 * with 0x8004 and 0x0005 with the packages it lists, and asks for the missing
 * packages of an incomplete subpackaged message (0x8800 for 0x0801, else 0x8003). */
#ifndef FLEETSIM_JT808_GW_H
#define FLEETSIM_JT808_GW_H

#include <stdint.h>
#include "sim/core/stats.h"
#include "sim/net/tls.h"
#include "sim/platform/frontend.h"
#include "sim/proto/jt808.h"

/* The gateway's own counters (gw_slot.c[]). */
enum jt808_gw_counter {
    GWC_BAD_CHECK = 0,        /* frames with a bad check code, answered 0x8001 result 2 */
    GWC_BAD_ESCAPE,           /* frames with a bad escape */
    GWC_BAD_FRAME,            /* other malformed frames */
    GWC_GARBAGE_BYTES,        /* bytes skipped between frames */
    GWC_UNAUTHENTICATED,      /* messages refused before authentication */
    GWC_UNSUPPORTED,          /* ids answered with result 3 */
    GWC_REGISTRATIONS,
    GWC_REG_REFUSED,          /* registrations refused, results 1-4 and invalid */
    GWC_AUTHENTICATIONS,
    GWC_AUTH_REFUSED,
    GWC_POSITIONS,            /* locations stored (0x0200, 0x0201, 0x0704 items) */
    GWC_UNREGISTRATIONS,
    GWC_SUBPACKAGES,          /* fragments received */
    GWC_REASSEMBLED,          /* messages completed from fragments */
    GWC_REG_RESULT_1,         /* registrations refused with result 1..4, and 5 = invalid */
    GWC_REG_RESULT_5 = GWC_REG_RESULT_1 + 4,
    GWC_UPGRADE_OK,           /* 0x0108 upgrade results 0 */
    GWC_UPGRADE_FAILED,       /* ... 1, or a code JT/T 808 does not define */
    GWC_UPGRADE_CANCELLED,    /* ... 2 */
    GWC_TLS_HANDSHAKES,       /* TLS handshakes completed, then the refusals by reason, */
    GWC_TLS_LAST = GWC_TLS_HANDSHAKES + TLS_EV__COUNT - 1, /* in enum tls_event's order */
    GWC_TLS_STAPLES,          /* OCSP responses for the server certificate, stapled from then on */
    GWC_VERIFY_OK,            /* third-party verification: answered true */
    GWC_VERIFY_REFUSED,       /* ... answered false */
    GWC_VERIFY_TIMEOUT,       /* ... no answer within the timeout (fail closed) */
    GWC_VERIFY_MALFORMED,     /* ... an answer that is not seed 000's JSON (fail closed) */
    GWC_VERIFY_HTTP_ERROR,    /* ... an HTTP status other than 200 (fail closed) */
    GWC_VERIFY_UNREACHABLE,   /* ... a transport error: refused, reset (fail closed) */
    GWC_DEV_FIRST,            /* frames accepted with a deviation, one counter per kind */
    GWC_DEV_LAST = GWC_DEV_FIRST + JT808_DEV__COUNT - 1,
    GWC_REPLY_WRONG_ID,       /* answers to platform requests refused as invalid: another message than the reply */
    GWC_REPLY_BAD_BODY,       /* ... a body off its edition's layout (0x0107 widths, trailing bytes) */
    GWC_REPLY_BAD_IDS,        /* ... ids not asked (0x0104 to 0x8106), counts that disagree (0x0805, 0x0802) */
    GWC_REPLY_BAD_LOCATION,   /* ... a location missing (0x0500) */
    GWC_REPLY_MISMATCH,       /* ... a field that does not echo the request (0x0700 command, 0x0608 type) */
    GWC_SERVER_TIME,          /* 0x0004 answered with 0x8004 */
    GWC_RESEND_ASKED,         /* 0x0005 terminal resend requests received */
    GWC_PACKAGES_RESENT,      /* ... packages of the gateway's last subpackaged message resent */
    GWC_RESEND_UNKNOWN,       /* ... for a message the gateway no longer keeps (0x8001 result 1) */
    GWC_EVENTS,               /* 0x0301 event reports */
    GWC_QUESTION_ANSWERS,     /* 0x0302 answers to a 0x8302 question */
    GWC_INFO_ORDERS,          /* 0x0303 information order / cancel */
    GWC_WAYBILLS,             /* 0x0701 electronic waybills */
    GWC_DRIVER_IDS,           /* 0x0702 driver identity reports (not answering 0x8702) */
    GWC_CAN_DATA,             /* 0x0705 CAN bus data */
    GWC_MEDIA_EVENTS,         /* 0x0800 multimedia events */
    GWC_PASSTHROUGH,          /* 0x0900 uplink passthrough */
    GWC_COMPRESSED,           /* 0x0901 compressed reports, inflated */
    GWC_INFLATED_BYTES,       /* ... bytes they inflated to */
    GWC_RSA_KEYS,             /* 0x0A00 terminal RSA keys (not answering 0x8A00) */
    GWC_MEDIA_RECEIVED,       /* 0x0801 multimedia data received whole (answered 0x8800 without ids) */
    GWC_MEDIA_RETRY,          /* 0x8800 listing the missing packages of an incomplete 0x0801 */
    GWC_RESEND_REQUESTS,      /* 0x8003 listing the missing packages of another incomplete message */
    GWC_REASM_EXPIRED,        /* incomplete messages dropped after the last request for their packages */
    GWC_RSA_ENCRYPTED,        /* bodies sent RSA-encrypted for a terminal's 0x0A00 key (platform.rsa encrypt) */
    GWC_RSA_DECRYPTED,        /* RSA-encrypted terminal bodies decrypted with the gateway's key */
    GWC_RSA_ERRORS,           /* bodies that do not decrypt (answered 0x8001 result 2), 0x0A00 keys refused,
                                 bodies that could not be encrypted for a terminal's key */
    GWC__COUNT
};

extern const struct frontend jt808_frontend;

struct gw_config {
    char bind[64];              /* listen address, default 127.0.0.1 */
    uint16_t port;              /* 1024..65535, or 0 = any free port */
    char core[108];             /* the platform core's bus address (core_listen) */
    int one_party;              /* registrations need a provisioned triple */
    int third_party;            /* registrations, authentications, unregistrations asked of verify_url */
    char verify_url[512];
    uint64_t verify_timeout_ms; /* real time, default 2000 */
    unsigned verify_events;     /* the actions verified (JT808_VERIFY_ALL by default) */
    char triples[512];          /* CSV of terminal triples for one-party mode (the core loads it) */
    uint64_t idle_timeout_ms;   /* virtual; default 180 s */
    uint64_t cmd_timeout_ms;    /* virtual; a platform request unanswered this long times out */
    uint64_t reasm_timeout_ms;  /* virtual; an incomplete subpackaged message idle this long: its
                                   missing packages asked for (0: 30 s) */
    int procs;                  /* gateway processes */
    int verbose;                /* log rejected frames to stderr */
    struct tls_opts tls;        /* cert set: terminals connect over TLS (ca: device root CA) */
    int rsa;                    /* enum gw_rsa_mode */
    char rsa_pem[4096];         /* the gateway's RSA private key, PEM ("": made at start) */
};

/* platform.rsa: off (no key: an encrypted body is refused, a bodiless 0x8A00 step
 * fails), on (its key in 0x8A00, terminals' bodies decrypted, 0x0A00 keys kept),
 * encrypt (also what it sends a terminal whose 0x0A00 key it has goes encrypted). */
enum gw_rsa_mode { GW_RSA_OFF = 0, GW_RSA_ON, GW_RSA_ENCRYPT };

_Static_assert(GWC__COUNT <= STATS_FE_COUNTERS, "the gateway's counters fit gw_slot.c[]");

/* Create n listening sockets on one port (SO_REUSEPORT).  With cfg->port 0 the
 * first picks a free port and cfg->port is set.  0 or -1 with err. */
int gw_listen(struct gw_config *cfg, int *fds, int n, char *err, size_t errcap);
/* Can the gateway build msg_id for terminals of this version (2011/2013/2019)
 * from body_json (NULL: no body)?  0, or -1 with "body.field: what" in err.  A
 * scenario's command steps are checked with this before a run starts. */
int gw_check_command(uint16_t msg_id, int version, const char *body_json, char *err, size_t errcap);
/* A northbound command (serviceId, method, paras) as a request kind and body
 * (frontend.h: map_command; jt808_gw_map.c). */
int jt808_gw_map_command(const char *service_id, const char *method, const cJSON *paras, uint32_t *kind,
                         char **body, char *err, size_t errcap);
/* Run one gateway process on listening socket lfd until CTL_STOP (ctl_fd >= 0) or
 * SIGINT/SIGTERM (ctl_fd < 0).  Returns the process exit status. */
int gw_main(const struct gw_config *cfg, int id, int lfd, int ctl_fd, struct gw_slot *slot);

#endif
