/* A device's status by the rules of 004 §9 (spec.md §4), on the virtual clock:
 *   never connected                         INACTIVE
 *   short connection (NB-IoT over CoAP/LwM2M, PSM): ONLINE while its last report
 *       (or registration) is under 25 h old, OFFLINE from 25 h, ABNORMAL from 169 h;
 *   long connection (MQTT, JT/T 808): ONLINE while connected, and for 1 min after
 *       the connection dropped; OFFLINE after that.
 * Pure: the owner keeps the times, asks what the status is now and when it changes
 * next (to arm a timer), and turns each change into an event (004 §5: device
 * status changed). */
#ifndef FLEETSIM_DEV_STATUS_H
#define FLEETSIM_DEV_STATUS_H

#include <stdbool.h>
#include <stdint.h>

#define DEV_SHORT_OFFLINE_MS (25ll * 3600 * 1000)
#define DEV_SHORT_ABNORMAL_MS (169ll * 3600 * 1000)
#define DEV_LONG_GRACE_MS (60ll * 1000)

enum dev_status { DS_INACTIVE = 0, DS_ONLINE, DS_OFFLINE, DS_ABNORMAL, DS__COUNT };

struct dev_times {
    bool short_conn;           /* an NB-IoT (PSM) device: judged by its reports */
    bool ever;                 /* it has connected (registered over the air) at least once */
    bool connected;            /* long connection: up now */
    int64_t last_seen_ms;      /* short: its last report or registration */
    int64_t dropped_ms;        /* long: when the connection last dropped */
};

const char *dev_status_name(enum dev_status s);    /* "ONLINE"; "?" out of range */
enum dev_status dev_status_at(const struct dev_times *t, int64_t now_ms);
/* The first instant after now_ms at which dev_status_at gives another status
 * (INT64_MAX: none without a new event). */
int64_t dev_status_next_ms(const struct dev_times *t, int64_t now_ms);

#endif
