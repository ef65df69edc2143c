/* What a fleet is, as the engine sees it: an id, a dialect, how many terminals,
 * how fast they start, how they number themselves, where they connect and the
 * timings every dialect shares.  Everything a dialect alone understands (JT/T 808
 * registration fields, replay templates, ...) is in cfg, which the dialect's own
 * scenario file parses and its terminal behaviour reads. */
#ifndef FLEETSIM_FLEET_SPEC_H
#define FLEETSIM_FLEET_SPEC_H

#include <stdint.h>

#include "sim/net/tls.h"

#define FLEET_ID_LEN 48
#define FLEET_IDENT_LEN 40

struct dialect;

struct fleet_spec {
    char id[FLEET_ID_LEN];          /* unique within the scenario */
    char protocol[16];              /* the dialect's name ("jt808", "replay") */
    const struct dialect *dialect;  /* its terminal behaviour */
    const void *sc_dialect;         /* its scenario half (harness), opaque here */
    void *cfg;                      /* the dialect's own settings (owned; freed by the scenario) */
    uint32_t count;                 /* terminals in the fleet (>= 1), active at the start */
    uint32_t max;                   /* terminals made, for growing the active ones by a live
                                       request "resize" (>= count; 0: count) */
    uint32_t first;                 /* terminals of the fleets before it: numbers a
                                       terminal across the scenario (source addresses, ids) */
    double ramp_per_s;              /* connect rate; 0 = all at once */
    /* Device ids: ident is the first one; a trailing '+' numbers the fleet upwards
     * from it keeping its width ("13800000000+", "dev-0001+").  The dialect
     * checks what its protocol allows. */
    char ident[FLEET_IDENT_LEN];
    char transport[8];              /* "tcp" (default), "udp" or "tls" */
    struct tls_opts tls;            /* "tls": the CA to trust, the device certificate and key */
    char target[256];               /* this fleet's own target, "" = the scenario's */
    uint64_t reconnect_min_ms;      /* backoff floor (default 1s) */
    uint64_t reconnect_max_ms;      /* backoff ceiling (default 60s) */
    uint64_t ack_timeout_ms;        /* an unanswered request is timed out after this (default 10s) */
};

/* Terminals of a fleet of `count` that shard k (0-based) of n runs: the
 * indices i with i % n == k, so every shard's slice spans the whole ramp and
 * the whole id range, and the slices of 1..n are disjoint and cover the fleet. */
static inline uint32_t fleet_shard_size(uint32_t count, uint32_t k, uint32_t n)
{
    if (n <= 1)
        return count;
    return count / n + (k < count % n);
}

/* The terminals made for a fleet: its max, or its count. */
static inline uint32_t fleet_capacity(const struct fleet_spec *f)
{
    return f->max > f->count ? f->max : f->count;
}

#endif
