/* A device's shadow (004 §9, spec.md §4): per service a desired section (what the
 * application wants: writable properties only, checked against the product
 * model) and a reported section (the latest report), with versions and times.
 * Changing desired syncs at once if the device is online, else when it comes
 * online or reports (the owner asks shadow_pending); a second change before the
 * first reached the device is merged into it (later keys win), as configuration
 * updates are (004 §8).  Pure: JSON in and out, times given (unix ms). */
#ifndef FLEETSIM_SHADOW_H
#define FLEETSIM_SHADOW_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/proto/pcodec.h"

struct shadow_service {
    int service;                 /* index in the product's services */
    cJSON *desired, *reported;   /* objects (owned) */
    uint64_t version;            /* desired's: bumped by every change */
    uint64_t synced;             /* the version the device last took */
    int64_t desired_ms, reported_ms; /* last change of each (0: never) */
};

struct shadow {
    const struct pc_product *product;
    int n;
    struct shadow_service *svc;  /* one per service of the product, in its order */
    int64_t created_ms, modified_ms;
};

/* A shadow for a device of product p (every section empty); 0 or -1 (memory). */
int shadow_init(struct shadow *sh, const struct pc_product *p, int64_t now_ms);
void shadow_free(struct shadow *sh);

/* PUT's body {"serviceDesireds": [{"serviceId": ..., "desired": {...}}, ...]}:
 * every service known, every key a property of it that is writable (access W),
 * every value what the model takes; all or nothing.  Merged into desired (later
 * keys win); a service whose desired changed gets a new version.  0, or -1 with
 * err naming the member ("serviceDesireds[0].desired.targetTemperature: ..."). */
int shadow_put_desired(struct shadow *sh, const cJSON *body, int64_t now_ms, char *err, size_t cap);
/* A report of service si's data: merged into reported. */
void shadow_report(struct shadow *sh, int si, const cJSON *data, int64_t now_ms);
/* Where desired and reported differ: the desired keys whose value is not the
 * reported one (an object, NULL when none; the caller deletes it). */
cJSON *shadow_delta(const struct shadow *sh, int si);
/* Must service si's desired still go to the device (changed since it last took
 * one, and not already what it reports)? */
bool shadow_pending(const struct shadow *sh, int si);
/* The device took version v of service si's desired. */
void shadow_synced(struct shadow *sh, int si, uint64_t v);

/* GET's body: deviceId, gatewayId, nodeType, createTime, lastModifiedTime,
 * deviceInfo, services [{serviceId, serviceType, reportedProps, desiredProps,
 * eventTime, version, delta}]; times as 004 writes them (20190425T021157Z). */
cJSON *shadow_to_json(const struct shadow *sh, const char *device_id, const char *gateway_id, const char *node_type);

/* Unix ms as 004's time text, "yyyyMMddTHHmmssZ" (UTC); out has 17 bytes. */
void shadow_time_text(int64_t unix_ms, char out[17]);

#endif
