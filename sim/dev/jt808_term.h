/* A JT/T 808 terminal (2011/2013/2019): register -> authenticate -> heartbeat and
 * location reports; blind-area buffering and 0x0704 backfill; answers to platform
 * requests; unregister.  The per-terminal state below is all it keeps. */
#ifndef FLEETSIM_JT808_TERM_H
#define FLEETSIM_JT808_TERM_H

#include <stdint.h>

#define JT808_BLIND_MAX 256   /* reports buffered while offline; older ones are dropped */

struct jt808_blind_rec {
    int32_t lat, lon;        /* 1e-6 degree, signed */
    uint16_t speed, dir;
    uint32_t t_s;            /* virtual seconds since the run epoch */
};

struct jt808_blind {
    uint16_t head, count;
    struct jt808_blind_rec rec[JT808_BLIND_MAX];
};

/* A report in flight, kept so that it is backfilled as it was taken if the
 * connection goes before its answer comes. */
struct jt808_sent_rec {
    uint16_t serial;
    struct jt808_blind_rec rec;
};
#define JT808_SENT_KEEP 2     /* reports in flight remembered exactly (more: current position) */

struct jt808_tstate {
    char *auth;                  /* auth code from 0x8100 (NULL = not registered); any length */
    int32_t lat, lon;            /* current position, 1e-6 degree, signed */
    uint16_t speed, dir;         /* 1/10 km/h, degrees */
    uint32_t mileage;            /* 1/10 km */
    uint32_t heartbeat_ms;       /* current parameters (0x8103 may change them) */
    uint32_t report_ms;
    uint64_t next_report_us;
    uint64_t last_tx_us;
    uint8_t sent_next;           /* ring index into sent[] */
    struct jt808_sent_rec sent[JT808_SENT_KEEP];
    struct jt808_blind *blind;   /* allocated on the first buffered report */
    struct jt808_reasm *reasm;   /* allocated on the first subpackage from the platform */
};

struct term_proto;
extern const struct term_proto jt808_term_proto;

#endif
