/* The scenario half of a dialect: the fleet fields only it understands, parsed
 * by its own file (harness/scenario_<name>.c) into the fleet's cfg, and the
 * checks of steps addressed to its fleets.  The neutral parser
 * (scenario_fleets.c) knows none of these fields. */
#ifndef FLEETSIM_SCENARIO_DIALECT_H
#define FLEETSIM_SCENARIO_DIALECT_H

#include <stddef.h>

#include "harness/scenario.h"
#include "harness/scenario_json.h"
#include "sim/platform/frontend.h"

struct sc_dialect {
    const char *name;                 /* a fleet's "protocol" */
    const struct dialect *dev;        /* its terminal behaviour (sim/dev) */
    const char *const *fields;        /* the fleet fields it adds to the neutral ones */
    size_t n_fields;
    /* Parse obj's dialect fields into a new f->cfg and set f->ident (the device-id
     * pattern; a default when the file gives none).  The neutral fields of f are
     * set already.  SJ_OK or SJ_ERR with the message in j. */
    int (*parse)(const struct scenario_json *j, const cJSON *obj, const char *path,
                 const struct scenario *sc, int index, struct fleet_spec *f);
    void (*free)(void *cfg);
    /* Optional: can the platform build request kind for fleet f from body_json
     * (NULL: none)?  0, or -1 with "body.field: what" in err. */
    int (*check_command)(const struct fleet_spec *f, int kind, const char *body_json, char *err,
                         size_t errcap);
    /* Optional: a few words on fleet f for the plan of a dry run ("  2013  heartbeat 30s"). */
    void (*describe)(const struct fleet_spec *f, char *out, size_t cap);
    /* Optional: the device id the platform knows terminal ident of fleet f by (NULL:
     * ident itself); JT/T 808: its phone as the header's BCD digits. */
    void (*device_id)(const struct fleet_spec *f, const char *ident, char *out, size_t cap);
    /* The embedded platform's front-end that serves its terminals, or NULL: its
     * fleets need a target of their own. */
    const struct frontend *frontend;
};

/* The registration table: every dialect a scenario may name. */
extern const struct sc_dialect *const sc_dialects[];
const struct sc_dialect *sc_dialect_find(const char *name);
/* The scenario half of a fleet's dialect. */
static inline const struct sc_dialect *sc_dialect_of(const struct fleet_spec *f)
{
    return (const struct sc_dialect *)f->sc_dialect;
}

/* For dialect parsers: a duration field that must not be zero. */
int scenario_fleets_period(const struct scenario_json *j, const cJSON *obj, const char *path,
                           const char *key, uint64_t *out);

#endif
