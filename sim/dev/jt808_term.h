/* A JT/T 808 terminal (2011/2013/2019): register -> authenticate -> heartbeat and
 * location reports; blind-area buffering and 0x0704 backfill; answers to platform
 * requests; unregister.  The per-terminal state below is all it keeps. */
#ifndef FLEETSIM_JT808_TERM_H
#define FLEETSIM_JT808_TERM_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/proto/jt808.h"

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
    uint32_t alarm_bits;         /* set in every report's alarm word (areas crossed, ...) */
    uint32_t status_bits;        /* added to every report's status word (door locked, ...) */
    uint8_t sent_next;           /* ring index into sent[] */
    struct jt808_sent_rec sent[JT808_SENT_KEEP];
    uint32_t more;               /* 1 + slot of the state of the further requests (tracking,
                                    multimedia; jt808_term_more.c), 0 = none: this fills the
                                    padding before blind, so a terminal that never gets them
                                    carries no more bytes */
    struct jt808_blind *blind;   /* allocated on the first buffered report */
    struct jt808_reasm *reasm;   /* allocated on the first subpackage from the platform */
};

/* A JT/T 808 fleet's own settings (harness/scenario_jt808.c parses them). */
struct jt808_fleet_cfg {
    int version;                   /* 2011 | 2013 | 2019 */
    char manufacturer[12];         /* registration fields; terminal_id gets a per-terminal suffix */
    char model[31];
    char terminal_prefix[24];      /* terminal id = prefix + number, e.g. "T" -> T0000001 */
    char plate_prefix[24];         /* plate = prefix + number (UTF-8) */
    uint8_t plate_color;
    uint16_t province, city;
    uint64_t heartbeat_ms;         /* 0x0002 period */
    uint64_t report_every_ms;      /* 0x0200 period; 0 = no periodic reports */
    char location_model[16];       /* "random-walk" | "fixed" */
    double lat, lon;               /* start position, degrees */
    unsigned deviate_mask;         /* "deviate": bit k = enum jt808_dev_kind k (0: none) */
    double deviate_share;          /* share of the fleet's terminals that deviate, 0..1 */
    bool time_query;               /* 2019: ask the server time (0x0004) after each authentication */
    uint8_t rsa;                   /* "rsa": enum jt808_rsa_mode */
};

/* A fleet's "rsa": each terminal answers 0x8A00 with 0x0A00 (its own public key) and
 * decrypts platform bodies encrypted for it in any case; after-exchange also encrypts
 * what it sends once it has the platform's key (on that connection). */
enum jt808_rsa_mode { JT808_RSA_OFF = 0, JT808_RSA_AFTER_EXCHANGE };

/* The dialect's own counters (fleet_stats.dc[]). */
enum jt808_term_counter {
    JT808_C_HEARTBEATS = 0,
    JT808_C_BACKFILL_BATCHES,
    JT808_C_BACKFILL_LOCATIONS,
    JT808_C_BLIND_DROPPED,
    JT808_C_REG_REFUSED,
    JT808_C_AUTH_REFUSED,
    JT808_C_UNREGISTERED,
    JT808_C_GARBAGE_BYTES,
    JT808_C_TRACKING_REPORTS,   /* 0x0200 of a temporary tracking (0x8202) */
    JT808_C_MEDIA_SHOTS,        /* pictures taken (0x8801) */
    JT808_C_MEDIA_PACKAGES,     /* 0x0801 packages sent the first time */
    JT808_C_MEDIA_RESENT,       /* packages sent again (0x8800 list, 0x8003) */
    JT808_C_RESEND_ASKED,       /* 0x0005 sent: a platform message missing packages */
    JT808_C_TIME_QUERIES,       /* 0x0004 sent (fleet option time_query) */
    JT808_C_TIME_ANSWERS,       /* 0x8004 answering one */
    JT808_C_TIME_OFF,           /* ... whose time is no date, or not between the query and its answer */
    JT808_C_REQ_REFUSED,        /* platform requests refused: its queue of shots and uploads, or its requests in flight, full */
    JT808_C_AREA_SETS,          /* 0x8600/0x8602/0x8604/0x8606 applied */
    JT808_C_AREA_DELETES,       /* 0x8601/0x8603/0x8605/0x8607 applied */
    JT808_C_AREA_REFUSED,       /* sets refused: over the store's caps, or a bad item */
    JT808_C_AREA_ALARMS,        /* area/route crossings reported (alarm bit 20/21, item 0x12) */
    JT808_C_DEV_FIRST, /* frames sent with each deviation kind, JT808_DEV__COUNT of them */
    JT808_C_RSA_ENCRYPTED = JT808_C_DEV_FIRST + JT808_DEV__COUNT, /* bodies sent RSA-encrypted */
    JT808_C_RSA_DECRYPTED,      /* platform bodies decrypted with the terminal's key */
    JT808_C_RSA_ERRORS,         /* bodies that did not decrypt, 0x8A00 keys refused, encryptions failed */
    JT808_C_RSA_CLEAR,          /* frames sent in the clear after the exchange: they deviate on purpose */
    JT808_C_SEND_HELD,          /* requests not sent: TERM_MAX_PEND of the terminal's in flight already */
    JT808_C_UPGRADES,           /* 0x8108 packages received whole: 0x0108 result 0 */
    JT808_C_UPGRADES_FAILED,    /* 0x8108 whose package is shorter than it says: 0x0108 result 1 */
    JT808_C_PKGS_RESENT,        /* packages of a kept subpackaged message (0x0608, a long encrypted body) sent again on a 0x8003 */
    JT808_C__COUNT
};

struct dialect;
extern const struct dialect jt808_dialect;

#endif
