/* A device's status; see dev_status.h. */
#include "sim/platform/core/dev_status.h"

static const char *const names[DS__COUNT] = {"INACTIVE", "ONLINE", "OFFLINE", "ABNORMAL"};

const char *dev_status_name(enum dev_status s) { return (unsigned)s < DS__COUNT ? names[s] : "?"; }

enum dev_status dev_status_at(const struct dev_times *t, int64_t now_ms)
{
    if (!t->ever)
        return DS_INACTIVE;
    if (t->short_conn) {
        int64_t age = now_ms - t->last_seen_ms;
        return age >= DEV_SHORT_ABNORMAL_MS ? DS_ABNORMAL : age >= DEV_SHORT_OFFLINE_MS ? DS_OFFLINE : DS_ONLINE;
    }
    if (t->connected)
        return DS_ONLINE;
    return now_ms - t->dropped_ms >= DEV_LONG_GRACE_MS ? DS_OFFLINE : DS_ONLINE;
}

int64_t dev_status_next_ms(const struct dev_times *t, int64_t now_ms)
{
    if (!t->ever)
        return INT64_MAX;
    int64_t at;
    if (t->short_conn) {
        at = t->last_seen_ms + DEV_SHORT_OFFLINE_MS;
        if (at <= now_ms)
            at = t->last_seen_ms + DEV_SHORT_ABNORMAL_MS;
    } else {
        if (t->connected)
            return INT64_MAX;
        at = t->dropped_ms + DEV_LONG_GRACE_MS;
    }
    return at > now_ms ? at : INT64_MAX;
}
