/* Internals shared by the two halves of the snapshot's JSON: the writer
 * (snapshot_json.c) and the reader (snapshot_json_read.c) name the same fields. */
#ifndef FLEETSIM_SNAPSHOT_JSON_INTERNAL_H
#define FLEETSIM_SNAPSHOT_JSON_INTERNAL_H

#include <stddef.h>

#include "harness/snapshot.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))
#define JSON_EXACT_MAX 9007199254740992ull /* 2^53 */

struct snapshot_named {
    const char *name;
    size_t off;
};

/* The scalar counters of struct fleet_stats (the arrays and the rest apart). */
extern const struct snapshot_named snapshot_fleet_counters[26];
/* The scalar counters of struct snapshot_platform. */
extern const struct snapshot_named snapshot_platform_counters[7];
/* The counters of struct snapshot_core ("platform": {"core": {...}}). */
extern const struct snapshot_named snapshot_core_counters[19];
extern const char *const snapshot_why_keys[LEDGER_WHY_COUNT];
extern const char *const snapshot_phase_names[5];
extern const char *const snapshot_cmd_keys[7];

#endif
