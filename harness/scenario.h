/* Scenario files: parse and validate.  The reference is scenarios/SCHEMA.md.
 * Every error names the file and the JSON path, e.g.
 *   scenarios/x.json: fleets[0].cout: unknown field
 *   scenarios/x.json: fleets[1].count: expected a positive count, got "-3"
 *   scenarios/x.json:12:5: JSON syntax error near '}'                       */
#ifndef FLEETSIM_SCENARIO_H
#define FLEETSIM_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "sim/dev/fleet_spec.h"

#define SC_ID_LEN FLEET_ID_LEN
#define SC_MAX_FLEETS 32
#define SC_MAX_EXPECT 128          /* expectations in one scenario (one limit: parser and run) */
#define SCENARIO_ERRORS_MAX 20     /* errors of one file shown; the rest are counted */
#define SCENARIO_ERR_BYTES 8192    /* an error buffer that holds SCENARIO_ERRORS_MAX lines */

enum sc_step_kind { SC_STEP_COMMAND = 0, SC_STEP_FAULT, SC_STEP_TERMINAL, SC_STEP_API };
/* terminal: {"fleet", "action": "unregister", "fraction"}: terminals act on their own */
enum sc_terminal_action { SC_ACT_UNREGISTER = 0 };
/* disconnect: close the connection; cut: break it without a goodbye (TCP reset);
 * corrupt (JT/T 808 also calls it bad-check): the next request is damaged the way
 * the dialect damages one, and the platform must refuse it.  Same values as
 * enum ctl_fault. */
enum sc_fault_kind { SC_FAULT_DISCONNECT = 0, SC_FAULT_CUT, SC_FAULT_CORRUPT };

/* api: a call of the northbound API (harness/scenario_api.c, docs/api.md) */
#define SC_API_MAX_CAPTURE 16      /* values one call captures */
#define SC_API_NAME_MAX 32         /* a captured name: [A-Za-z_][A-Za-z0-9_]*, with its NUL */
#define SC_API_PATH_MAX 96         /* a path into the answer: commandId, services[0].data.lat */
struct sc_api {
    char method[8];                /* GET POST PUT DELETE */
    char *path;                    /* owned: from "/", ${name}s in it */
    cJSON *body;                   /* owned, NULL none: JSON, ${name}s in its strings */
    int expect_status;             /* 100..599; 0: any 2xx */
    char id[SC_ID_LEN];            /* the verdict's id, "" none (the call is still recorded) */
    int index;                     /* its place in the file's steps[], for messages */
    int n_capture;
    char capture_name[SC_API_MAX_CAPTURE][SC_API_NAME_MAX];
    char capture_path[SC_API_MAX_CAPTURE][SC_API_PATH_MAX];
};

/* {"id", "command_path": {"capture": NAME, "states": [...]}}: the command whose
 * commandId an api step captured as NAME went through these states in order, as
 * the platform's GET deviceCommands?deviceId=... shows its "transitions" at the
 * end of the run (harness/scenario_api.c parses it, harness/run_api.c judges it). */
struct sc_cmd_path {
    char id[SC_ID_LEN];
    char area[SC_ID_LEN];
    char desc[160];
    char capture[SC_API_NAME_MAX];
    int n_states;
    char states[8][16];            /* PENDING EXPIRED CANCELED SENT TIMEOUT DELIVERED SUCCESSFUL FAIL */
    int index;                     /* expect[index] in the file */
};

struct sc_step {
    uint64_t at_ms;                /* from scenario start, virtual time */
    enum sc_step_kind kind;
    char fleet[SC_ID_LEN];
    /* command: the platform sends request `msg` (a name of the fleet's dialect, "0x8104")
     * to every (or a fraction of the) online terminal of the fleet */
    char msg[16];
    int cmd_kind;                  /* its index in the dialect's cmds[] */
    cJSON *body;                   /* optional, same shape as `fleetsim decode` prints "body" (owned) */
    double fraction;               /* share of the fleet, (0,1], default 1 */
    enum sc_fault_kind fault;
    enum sc_terminal_action action;
    uint64_t down_ms;              /* fault: how long terminals stay away before reconnecting (default 0: backoff only) */
    struct sc_api *api;            /* api: the call (owned); NULL for the other kinds */
};

enum sc_expect_kind {
    SC_EXP_STATE = 0,   /* {"fleet","state","within"[, "fraction"]} */
    SC_EXP_REPLY,       /* {"fleet","reply":"0x0104","to":"0x8104"[, "within"]}: every command step's target answered in time */
    SC_EXP_METRIC,      /* {"metric":"report.latency.p99","below"|"above": "50ms"} (a number for counts and rates) */
    SC_EXP_LEDGER,      /* {"ledger":"balanced"|"acked"} */
    SC_EXP_TRANSITIONS, /* {"fleet","transitions":["connecting","registered","authenticated"]} every terminal passed through these in order */
    SC_EXP_COUNTER,     /* {"counter":"gateway.bad_check","min":N[, "max":N]} */
};

#define SC_MAX_TRANSITIONS 8
/* A reply expectation's deadline when it gives no "within": the embedded platform's
 * command timeout (an unanswered command times out after it). */
#define SC_REPLY_WITHIN_MS 10000

struct sc_expect {
    char id[SC_ID_LEN];            /* e.g. "JT808-AUTH-001" */
    char area[SC_ID_LEN];          /* spec area for JUnit classname; default from id: "jt808.auth" */
    char desc[160];                /* objective, free text (default generated) */
    enum sc_expect_kind kind;
    char fleet[SC_ID_LEN];         /* empty = all fleets */
    char state[24];
    uint64_t within_ms;            /* state: 0 = at the end of the run; reply: the commands'
                                      deadline, SC_REPLY_WITHIN_MS unless given */
    double fraction;               /* default 1.0 */
    char reply[16], to[16];        /* reply: request and reply names of the fleets' dialects */
    char metric[64];
    bool has_below, has_above;
    double below, above;           /* in the metric's unit: µs for durations, else plain */
    bool bound_is_duration;
    char counter[64];
    bool has_min, has_max;
    uint64_t min, max;
    bool ledger_acked;             /* "acked": nothing failed or timed out, not just accounted for */
    int n_transitions;
    char transitions[SC_MAX_TRANSITIONS][24];
};

struct sc_platform {
    char auth[16];                 /* "open" | "one-party" | "third-party" */
    char verify_url[512];          /* third-party: "verify.url" */
    uint64_t verify_timeout_ms;    /* "verify.timeout", real time; default 2 s */
    unsigned verify_events;        /* "verify.events" as a mask; default all three */
    char triples[256];             /* CSV for one-party: manufacturer,model,terminal_id[,plate] (relative to the scenario file) */
    uint16_t port;                 /* 1024..65535; 0 = pick a free one */
    uint64_t idle_timeout_ms;      /* default 180 s */
    uint64_t reasm_timeout_ms;     /* "reasm_timeout": missing subpackages asked for (0x8003) after; default 30 s */
    int procs;                     /* gateway processes (SO_REUSEPORT); default 1 */
    struct tls_opts tls;           /* "tls": server certificate and key, device root CA (no cert: TCP) */
    char rsa[16];                  /* "rsa": "on" (default) | "encrypt" | "off" */
    char rsa_key[512];             /* "rsa_key": the gateway's RSA private key, PEM (relative to the scenario file) */
    bool api;                      /* "api": true: the core serves the northbound API for the run's api steps */
};

struct scenario {
    char path[512];
    char name[64];
    char description[256];
    char target[256];              /* "embedded" or "tcp://host:port" */
    uint64_t duration_ms;
    double time_scale;             /* default 1 */
    uint32_t seed;                 /* random seed, default 1 */
    struct sc_platform platform;
    int n_fleets;
    struct fleet_spec fleets[SC_MAX_FLEETS];
    int n_steps;
    struct sc_step *steps;         /* sorted by at_ms */
    int n_expect;
    struct sc_expect *expect;
    int n_cmd_paths;
    struct sc_cmd_path *cmd_paths; /* the command_path expectations, apart from expect[] */
    /* A valid file that probably does not do what was meant, as lines of
     * "path: warning: ..." ("" when none): no expectations. */
    char warning[640];
    unsigned parse_failed;         /* parse bookkeeping (harness/scenario_internal.h) */
};

/* 0 ok; -1 with every error of the file in err, one "path: json.path: message" line
 * each (the first SCENARIO_ERRORS_MAX, then "path: and N more errors"; fewer when
 * errcap holds fewer whole lines: SCENARIO_ERR_BYTES holds them all).  scenario_load also prints the warnings to stderr; scenario_parse
 * only keeps them in sc->warning. */
int scenario_load(const char *path, struct scenario *sc, char *err, size_t errcap);
int scenario_parse(const char *text, const char *path, struct scenario *sc, char *err, size_t errcap);
void scenario_free(struct scenario *sc);
const struct fleet_spec *scenario_fleet(const struct scenario *sc, const char *id);
int scenario_fleet_index(const struct scenario *sc, const char *id); /* -1 when none */
/* Terminal states a STATE or TRANSITIONS expectation may name. */
bool scenario_state_known(const char *state);

/* The api steps (harness/scenario_api.c).  The index in the file's steps[] of the
 * first one, -1 when none: a run without an API to call (platform.api or
 * --target-api) refuses the file, naming it. */
int scenario_api_first(const struct scenario *sc);
void scenario_api_free(struct sc_api *a);
/* A command_path expectation judged on the platform's answer to GET
 * deviceCommands?deviceId=... (its "data" array, or the answer itself when it is
 * one): the command command_id's "transitions" [{status, time}] hold e's states in
 * order.  PASS, FAIL (not listed, another path), or INCONCLUSIVE (no transitions
 * shown); what was seen into observed. */
int scenario_cmd_path_judge(const struct sc_cmd_path *e, const char *command_id, const cJSON *answer,
                            char *observed, size_t cap);
/* The device id the platform gives terminal n of the fleet (what ${device:FLEET:N}
 * stands for); -1 when no such fleet or terminal. */
int scenario_device_id(const struct scenario *sc, const char *fleet, uint64_t n, char *out, size_t cap);
/* A call's template with every ${name} filled: a value captured (names[i] ->
 * vals[i]) or ${device:FLEET:N}.  0, or -1 with why (a name without a value). */
int scenario_api_subst(const struct scenario *sc, const char *tpl, const char (*names)[SC_API_NAME_MAX],
                       const char *const *vals, int n, char *out, size_t cap, char *why, size_t whycap);

/* A scenario file's text (malloc'd): the parser's limits and messages; NULL with err. */
char *scenario_read_text(const char *path, char *err, size_t errcap);

/* Where a run's scenario comes from (harness/scenario_source.c): a file, "-" for
 * standard input, or (path NULL) a one-fleet scenario of protocol made from the
 * command line; then each "PATH=VALUE" of sets laid over it (a path like
 * fleets[0].report.every or fleets[*].count; a value that reads as JSON is that,
 * else a string).  The text to parse (malloc'd), or NULL with err. */
struct scenario_source {
    const char *path;
    const char *protocol;
    const char *const *sets;
    int n_sets;
};
char *scenario_source_text(const struct scenario_source *src, char *err, size_t errcap);
/* One "PATH=VALUE" on a parsed scenario; 0, or -1 with err naming the path. */
struct cJSON;
int scenario_set(struct cJSON *root, const char *assignment, char *err, size_t errcap);

#endif
