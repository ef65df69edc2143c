/* The runner of `fleetsim conform`, in parts: the suites read and listed
 * (conform_suites.c), the embedded platform (conform_embedded.c), the chosen cases
 * run, in this process or in --jobs processes (conform_jobs.c), and the command
 * itself (conform.c: the options, the target, the choice, the report).  What the
 * parts share; not for use outside the runner. */
#ifndef FLEETSIM_CONFORM_RUNNER_H
#define FLEETSIM_CONFORM_RUNNER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "harness/conform.h"

#define MAX_SUITES 64
#define MAX_JOBS 64

/* conform_suites.c: every suite the options name (a suite folder, or a folder of
 * suites), each error said on stderr; 0, or -1 when one is wrong.  Suite names and
 * case ids are unique over the run. */
int conform_load_all(const struct conform_opts *o, struct conform_suite *suites, int *n_suites);
/* GLOB or GLOB,GLOB,...: any matches id. */
bool conform_glob_any(const char *globs, const char *id);
/* `fleetsim conform --list`: the exit status. */
int conform_list_suites(const struct conform_opts *o);

/* conform_embedded.c: the embedded platform, `fleetsim serve` in a child. */
struct embedded {
    pid_t pid;
    char dir[256];
    uint16_t port;
    bool api;                       /* set before the start: serve the northbound API too (conform_api.c) */
    uint16_t api_port;              /* ... on this port, */
    char api_secret[40];            /* ... for the application "conform" with this secret */
    const char *mutant;             /* set before the start: the rule it breaks (serve --mutant), NULL none */
    int apps;                       /* set before the start: applications "conform", "conform-1", ... (one per
                                       job: a login replaces its application's tokens, so jobs must not share one) */
};

/* conform_api.c: the northbound API of the run's targets. */
/* The job this process runs (conform_jobs.c: 0 in the runner and the first job). */
extern int conform_job_index;
/* The application t's api steps log in as: the embedded platform's of this job. */
const char *conform_api_app(const struct conform_target *t, char *buf, size_t cap);
/* --target-api, --api-app, --api-ca checked against the target, into t (with the
 * capability northbound-api); 0, or -1 (said). */
int conform_api_target(const struct conform_opts *o, struct conform_target *t);
/* Does any chosen case need northbound-api?  (Then every embedded platform of the
 * run serves its API.) */
struct pick;
bool conform_api_wanted(const struct pick *picks, int n);
/* The embedded platform e serves its API: t gets it (and the capability). */
void conform_api_embedded(const struct embedded *e, struct conform_target *t);


/* --tls: the files of the run's TLS (made for it, or the platform's given). */
struct tls_files {
    char dir[600];                  /* where the run's certificates are */
    bool tmp;                       /* a folder of the run's own, removed at the end */
    char ca[1100], cert[1100], key[1100];    /* the platform's certificate and its CA */
    char device_ca[700], device_cert[700], device_key[700], foreign_cert[700], foreign_key[700];
};

/* `fleetsim serve` on a free loopback port with a database of its own, as suite s's
 * "platform" says (NULL: the defaults), with TLS when tf is given; 0 or -1 (said). */
int conform_embedded_start(const char *self, const struct conform_suite *s, const struct tls_files *tf,
                           struct embedded *e);
/* Stopped (SIGTERM, then SIGKILL), its folder removed; a second call does nothing. */
void conform_embedded_stop(struct embedded *e);

/* conform_jobs.c: running the chosen cases. */
/* What every case run needs besides its case. */
struct runctx {
    const struct conform_target *t;
    const char *self;               /* the fleetsim binary */
    const char *target_url;         /* NULL: embedded */
    const char *target_api, *api_app, *api_ca; /* the target's API for scenario cases' api steps (NULL: none) */
};


/* One chosen case: an exchange case, or the chosen expectations of a scenario case. */
struct pick {
    const struct conform_suite *s;
    const struct conform_target *t;  /* where it runs (its suite's embedded platform), NULL: the runner's */
    const struct conform_case *c;
    int slot;                       /* its first result */
    int n_slots;                    /* 1, or the scenario expectations chosen */
    int subs[CONFORM_MAX_SUBS];     /* those expectations */
};

/* The results of p into out[0 .. p->n_slots). */
void conform_run_pick(const struct runctx *rc, const struct pick *p, struct case_result *out);
/* The picks run in jobs processes (pick i by job i % jobs), each result into
 * results[slot] with have[slot] set; 0, or -1 when a job did not end well. */
int conform_run_jobs(const struct runctx *rc, const struct pick *picks, int n, int jobs,
                     struct case_result *results, bool *have, int n_slots);
/* dir and everything in it removed. */
void conform_rm_tree(const char *dir);

#endif
