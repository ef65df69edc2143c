/* The reader of conformance case files, in two parts: the suites, their files
 * and the cases' heads (conform_case.c), and the steps of an exchange case with
 * the fixtures they use (conform_steps.c).  What the parts share; not for use
 * outside them. */
#ifndef FLEETSIM_CONFORM_STEPS_H
#define FLEETSIM_CONFORM_STEPS_H

#include <stdlib.h>
#include <string.h>

#include "harness/conform.h"
#include "harness/scenario_json.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* What the reader knows while it reads one case. */
struct reader {
    const struct scenario_json *j;
    const cJSON *fixtures;          /* suite.json's, may be NULL */
    int n_names;
    char names[CONFORM_MAX_BINDS][CONFORM_NAME_MAX];
    int depth;                      /* fixture nesting */
    bool receiver;                  /* a step uses the case's callback receiver */
};

/* The steps of the array at path into c (fixtures spliced in by "use"), every
 * error written; SJ_OK or SJ_ERR. */
int conform_parse_steps(struct reader *r, const cJSON *arr, const char *path, struct conform_case *c);

/* A "match" object at path: each key a path (body.result), each value a value or an
 * array of them (one of), ${name}s bound; its copy into *out.  SJ_OK or SJ_ERR. */
int conform_parse_match_fields(struct reader *r, const cJSON *f, const char *path, cJSON **out);

/* conform_push.c: the steps of the case's callback receiver (expect_push,
 * expect_no_push, receiver_plan) into s; SJ_OK or SJ_ERR. */
int conform_parse_push_step(struct reader *r, const cJSON *o, const char *path, const char *action,
                            struct conform_step *s);

/* A copy of s (malloc), NULL when out of memory. */
static inline char *conform_dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

#endif
