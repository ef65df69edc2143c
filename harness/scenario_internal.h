/* The sections of a scenario file, each parsed by its own file.  Called in this
 * order by scenario_parse, since later sections refer to earlier ones (steps and
 * expectations name fleets; reply expectations name command steps). */
#ifndef FLEETSIM_SCENARIO_INTERNAL_H
#define FLEETSIM_SCENARIO_INTERNAL_H

#include "harness/scenario.h"
#include "harness/scenario_json.h"

/* What failed, in sc->parse_failed, so that later sections do not report the
 * consequences of an error already reported.  Besides these: a fleet whose
 * protocol failed has no dialect, and a duration that failed is 0. */
enum {
    SC_PARSE_FLEET_IDS = 1 << 0, /* a fleet has no usable id: an unknown fleet may be it */
    SC_PARSE_STEPS = 1 << 1,     /* a step failed: a reply may be to the command it sends */
};

/* Each section reports every error it finds and returns SJ_ERR if there was one. */
/* A "tls" object at path: the platform's (server 1: cert, key, device_ca) or a
 * fleet's (ca, cert, key), its files checked (scenario_tls.c). */
struct tls_opts;
int scenario_tls_parse(const struct scenario_json *j, const cJSON *obj, const char *path, int server,
                       const char *scenario_path, struct tls_opts *o);
/* root: the document (its "fleets" value is required). */
int scenario_fleets_parse(const struct scenario_json *j, const cJSON *root, struct scenario *sc);
/* v: the "steps" value (NULL when absent); bodies are detached from the tree. */
int scenario_steps_parse(const struct scenario_json *j, cJSON *v, struct scenario *sc);
/* An "api" step at path (scenario_api.c): st->api made (freed by scenario_free,
 * even after an error); index is its place in the file's steps[]. */
int scenario_api_parse(const struct scenario_json *j, cJSON *obj, const char *path, struct sc_step *st, int index);
/* expect[i] with "command_path" (scenario_api.c). */
int scenario_api_expect_parse(const struct scenario_json *j, const cJSON *obj, const char *path, struct scenario *sc,
                              int index);
/* After every section: the api steps' ${name}s (in the order the steps run) and ids. */
int scenario_api_check(const struct scenario_json *j, struct scenario *sc);
/* v: the "expect" value (NULL when absent). */
int scenario_expect_parse(const struct scenario_json *j, const cJSON *v, struct scenario *sc);

/* "tcp://host:port" or "udp://host:port". */
bool scenario_target_ok(const char *t);

/* A fleet reference: must name one of sc's fleets.  p is the field's path. */
int scenario_fleets_ref(const struct scenario_json *j, const struct scenario *sc, const char *p,
                        const char *id);

#endif
