/* Reading typed fields out of a scenario's cJSON tree with errors that name the
 * file and the JSON path ("x.json: fleets[0].count: ...").  Internal to the
 * harness's readers: the scenario parser (harness/scenario*.c) and the run
 * snapshot's (harness/snapshot_json.c). */
#ifndef FLEETSIM_SCENARIO_JSON_H
#define FLEETSIM_SCENARIO_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#define SCENARIO_JSON_PATH_MAX 192

/* At most this many errors are written out; the rest are counted ("and 3 more errors"). */
#define SCENARIO_JSON_ERRORS_MAX 20 /* = SCENARIO_ERRORS_MAX */
#define SCENARIO_JSON_HINTS_MAX 32

/* Every error of a document, one line each, so that one pass shows them all.  A
 * reader reports one error and stops at it (each message replaces the last),
 * unless it collects: then each error adds a line to err and the reader goes on. */
struct scenario_json_errors {
    int n;                      /* errors found */
    int shown;                  /* of which written into err */
    bool full;                  /* err has no room for another line */
    size_t used;                /* bytes of err used */
    /* fields an unknown field was taken for a misspelling of ("cout" for "count"):
     * their absence is that error, not another one */
    int n_hints;
    const cJSON *hint_obj[SCENARIO_JSON_HINTS_MAX];
    const char *hint_key[SCENARIO_JSON_HINTS_MAX];
};

struct scenario_json {
    const char *file;           /* as the user named it, for messages */
    char *err;
    size_t errcap;
};

/* Getters return SJ_OK (value stored), SJ_ABSENT (field not there, out untouched,
 * only when optional) or SJ_ERR (message written). */
enum scenario_json_rc { SJ_ERR = -1, SJ_OK = 0, SJ_ABSENT = 1 };
enum scenario_json_need { SJ_OPTIONAL = 0, SJ_REQUIRED = 1 };

/* For readers that go on after an error: evaluates call, and rc becomes SJ_ERR
 * when it failed (its message is written already). */
#define SJ_TRY(rc, call)                                                                           \
    do {                                                                                           \
        if ((call) == SJ_ERR)                                                                      \
            (rc) = SJ_ERR;                                                                         \
    } while (0)

/* "file: path: message" (or "file: message" for an empty path); returns SJ_ERR. */
int scenario_json_fail(const struct scenario_json *j, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* From here on j collects every error into e (zeroed here); NULL stops it.  One
 * reader collects at a time (per thread). */
void scenario_json_collect(const struct scenario_json *j, struct scenario_json_errors *e);
/* Collecting every error: how many so far (0 when j collects none). */
int scenario_json_errors(const struct scenario_json *j);
/* Ends a collection: "file: and N more errors" after the lines shown. */
void scenario_json_finish(const struct scenario_json *j);
/* Whether key of obj is missing because an unknown field was taken for its
 * misspelling (already reported); a "required" error would repeat it. */
bool scenario_json_hinted(const struct scenario_json *j, const cJSON *obj, const char *key);

/* parent.key / parent[i]; a bare key or "[i]" when parent is empty. */
void scenario_json_path(char *out, size_t cap, const char *parent, const char *key);
void scenario_json_index(char *out, size_t cap, const char *parent, int i);

/* A value as a message shows it: "abc" (quoted, shortened), 12, true, null,
 * "an object", "an array". */
void scenario_json_got(const cJSON *v, char *out, size_t cap);

/* The name closest to word (case-insensitive edit distance, transpositions count
 * one), or NULL when none is close enough to be a likely typo. */
const char *scenario_json_closest(const char *word, const char *const *names, size_t n);

/* Every member of obj must be one of known[] and appear once (every stray member
 * is reported when j collects every error). */
int scenario_json_fields(const struct scenario_json *j, const cJSON *obj, const char *path,
                         const char *const *known, size_t n);

/* Checks that v is an object (or array); path names v itself. */
int scenario_json_want_object(const struct scenario_json *j, const cJSON *v, const char *path);
int scenario_json_want_array(const struct scenario_json *j, const cJSON *v, const char *path);

const cJSON *scenario_json_get(const cJSON *obj, const char *key);

/* UTF-8 text of at most cap-1 bytes; empty allowed unless nonempty. */
int scenario_json_string(const struct scenario_json *j, const cJSON *obj, const char *path,
                         const char *key, int need, bool nonempty, char *out, size_t cap);
/* A string that must be one of allowed[]. */
int scenario_json_enum(const struct scenario_json *j, const cJSON *obj, const char *path,
                       const char *key, int need, const char *const *allowed, size_t n,
                       char *out, size_t cap);
/* Durations are strings with units ("30s"); a bare number, in a string or not, is
 * refused with the units accepted.  The messages are the unit parser's
 * (units_duration_range_us), after the path. */
int scenario_json_duration_ms(const struct scenario_json *j, const cJSON *obj, const char *path,
                              const char *key, int need, uint64_t *out);
int scenario_json_duration_us(const struct scenario_json *j, const cJSON *obj, const char *path,
                              const char *key, int need, uint64_t *out);
/* A duration of at least min_us ("must be above 0s" for 1), in ms (rounded up). */
int scenario_json_duration_min_ms(const struct scenario_json *j, const cJSON *obj, const char *path,
                                  const char *key, int need, uint64_t min_us, uint64_t *out);
/* A whole number (1000) or a count string ("10k"); positive refuses 0. */
int scenario_json_count(const struct scenario_json *j, const cJSON *obj, const char *path,
                        const char *key, int need, bool positive, uint64_t *out);
/* "200/s", "50/min", "1k/h" as per second. */
int scenario_json_rate(const struct scenario_json *j, const cJSON *obj, const char *path,
                       const char *key, int need, double *out);
/* A finite JSON number. */
int scenario_json_number(const struct scenario_json *j, const cJSON *obj, const char *path,
                         const char *key, int need, double *out);
/* A whole JSON number in lo..hi. */
int scenario_json_int(const struct scenario_json *j, const cJSON *obj, const char *path,
                      const char *key, int need, long long lo, long long hi, long long *out);
/* A share in (0, 1]. */
int scenario_json_fraction(const struct scenario_json *j, const cJSON *obj, const char *path,
                           const char *key, int need, double *out);
/* A message id written "0x8104" (four hex digits). */
int scenario_json_msg_id(const struct scenario_json *j, const cJSON *obj, const char *path,
                         const char *key, int need, uint16_t *out);

/* Writes "a, b, c" into out. */
void scenario_json_join(const char *const *names, size_t n, char *out, size_t cap);

#endif
