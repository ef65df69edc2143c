/* The api steps of `fleetsim run` (harness/run_api.c): where the calls go (the
 * embedded core's API for platform.api, served on a free loopback port for an
 * application made for the run, or --target-api), each call made at its step's
 * virtual time on the run's loop (one at a time, in the order the steps run: a
 * call whose time comes while the one before is still out goes when it ends),
 * its answer judged against expect_status and its captures, and each call in the
 * report: a case for a step with an id, metrics.api_calls for every one. */
#ifndef FLEETSIM_RUN_API_H
#define FLEETSIM_RUN_API_H

#include <stdbool.h>
#include <stddef.h>

#include "report/report.h"

struct run;

/* The input: api steps need an API (platform.api on the embedded platform, or
 * --target-api with --api-app); --api-app and --api-ca go with --target-api.
 * Before anything starts (a dry run too); 0, or -1 with err. */
int run_api_check(struct run *r, char *err, size_t errcap);
/* platform.api: the core's API address and application into r->core_cfg, before
 * the core is forked.  0, or -1 with err. */
int run_api_prepare(struct run *r, char *err, size_t errcap);
/* The client on r->loop (nothing when the scenario has no api step); 0 or -1 with err. */
int run_api_start(struct run *r, char *err, size_t errcap);
/* Step i (an api step) is due. */
void run_api_step(struct run *r, int i);
/* Calls out or waiting: the core is not drained before they end. */
bool run_api_busy(const struct run *r);
/* The end of the run, the platform still up: the command_path expectations' queries
 * (GET deviceCommands?deviceId=...) made once; true while they are out. */
bool run_api_final(struct run *r);
/* The client stopped (a call still out ends as the harness's ERROR), the calls
 * into rep: a case each for the steps with an id and for each command_path
 * expectation, metrics.api_calls for all. */
void run_api_report(struct run *r, struct run_report *rep);
/* Everything freed (after run_api_report, or instead of it). */
void run_api_free(struct run *r);

/* run.c: move the run on (an api call ended during the drain). */
void run_api_settled(struct run *r);

#endif
