/* Conformance suites: the case files (conform_case.c), the exchange interpreter
 * (conform_exchange.c) and the runner of `fleetsim conform` (conform.c).  The
 * design is docs/conformance.md; the file format scenarios/SCHEMA.md,
 * "Conformance cases". */
#ifndef FLEETSIM_CONFORM_H
#define FLEETSIM_CONFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <cjson/cJSON.h>

#include "report/report.h"

#define CONFORM_MAX_CONNS 8       /* connections of one exchange case */
#define CONFORM_MAX_STEPS 128     /* steps of one case, fixtures spliced in */
#define CONFORM_MAX_ANY 8         /* alternatives of one expect */
#define CONFORM_MAX_BINDS 32      /* names bound in one case */
#define CONFORM_MAX_NEEDS 8
#define CONFORM_MAX_SUBS 128      /* expectations of a scenario case (a scenario's most) */
#define CONFORM_NAME_MAX 32       /* a bound name: [A-Za-z_][A-Za-z0-9_]* */
#define CONFORM_PATH_MAX 96       /* a JSON path into a decoded message: body.items[0].id */
#define CONFORM_FILE_MAX (1u << 20) /* bytes of one suite or case file */
#define CONFORM_WITHIN_DEFAULT_MS 3000
#define CONFORM_WAIT_MAX_MS 60000 /* every deadline of a case is at most this */
#define CONFORM_CASE_MAX_MS 300000 /* ... and all of them together */
#define CONFORM_ACCEPT_MS 30000   /* --terminal: a case waits this long for its device to connect */

enum conform_step_kind {
    CSTEP_CONNECT = 0,      /* open the connection (each opens by itself on first use) */
    CSTEP_SEND,             /* a message (JSON as `fleetsim encode jt808` takes it) or raw hex */
    CSTEP_EXPECT,           /* a frame whose msg_id and fields match, within a deadline */
    CSTEP_BIND,             /* names for values of the last expected message */
    CSTEP_VERIFY,           /* "${a} == ${b}" / "!=" */
    CSTEP_WAIT,             /* sleep */
    CSTEP_CLOSE,            /* close the connection */
    CSTEP_EXPECT_CLOSE,     /* the target closes the connection within a deadline */
    CSTEP_EXPECT_SILENCE,   /* no frame arrives within a time */
    CSTEP_EXPECT_NONE,      /* no frame of an id (and fields) arrives within a time; others are skipped */
    CSTEP_DRAIN,            /* frames within a time are read and logged, none judged */
    CSTEP_API,              /* a call of the target's northbound API (harness/conform_api.c) */
    /* the case's callback receiver (conform_push.c) */
    CSTEP_EXPECT_PUSH,      /* a push whose JSON body matches arrives within a deadline; others are skipped */
    CSTEP_EXPECT_NO_PUSH,   /* no push that matches arrives within a time; others are skipped */
    CSTEP_RECEIVER_PLAN,    /* the receiver's answers from now on (cb_recv.h's plan) */
};

struct sc_api;

/* One alternative of an expect: msg_id and the fields that must match. */
struct conform_match {
    uint16_t msg_id;
    cJSON *fields;          /* owned: {"body.result": 0, ...}; an array value is "one of" */
    char *wire_contains;    /* owned, may be NULL: hex the raw wire frame must hold */
};

#define CONFORM_API_MAX_HEADERS 8

struct conform_step {
    enum conform_step_kind kind;
    int conn;                       /* 0..CONFORM_MAX_CONNS-1 */
    uint64_t ms;                    /* expect/expect_close/expect_silence deadline, wait time */
    char path[CONFORM_PATH_MAX];    /* JSON path in the case file, for messages */
    /* send */
    cJSON *msg;                     /* owned, a template (${name} in strings) */
    char *hex;                      /* owned, a template; the frame as it goes on the wire */
    int cert;                       /* connect "certificate": 0 the target's TLS context, 1 "none" (no device
                                     * certificate), 2 "foreign" (one a CA the platform does not trust issued) */
    bool bad_check;                 /* "mutate": "bad-check": the check byte is wrong */
    bool bad_length;                /* "mutate": "bad-length": the header's body length is one more than
                                     * the body (one less at 1023), the check byte right for that header */
    /* expect */
    int n_any;
    struct conform_match any[CONFORM_MAX_ANY];
    bool skip_unmatched;            /* "skip_unmatched": frames of the id whose fields differ are logged and
                                     * skipped, not failed (the last of several packages) */
    /* bind */
    int n_binds;
    char bind_name[CONFORM_MAX_BINDS][CONFORM_NAME_MAX];
    char bind_path[CONFORM_MAX_BINDS][CONFORM_PATH_MAX];
    /* verify */
    char *left, *right;             /* owned templates */
    bool not_equal;
    /* "if": "LEFT == RIGHT" beside the action: the step runs only when it holds */
    char *if_left, *if_right;       /* owned templates, NULL: always */
    bool if_not_equal;
    int bit;                        /* "LEFT has bit N" / "LEFT lacks bit N" (0-63): N, else -1 */
    bool bit_clear;                 /* ... "lacks" */
    int near_now_s;                 /* "LEFT is now within Ns": LEFT a BCD[6] YYMMDDhhmmss UTC time at most
                                     * this many seconds from the runner's clock (right is NULL) */
    /* api */
    struct sc_api *api;             /* owned: the call, as a scenario's api step has it (harness/scenario.h) */
    char *api_raw_body;             /* owned, NULL none: "raw_body", sent as written (a template) */
    long api_raw_repeat;            /* "raw_body_repeat": the raw_body this many times (1: once) */
    bool api_own_headers;           /* "headers": sent instead of the application's app_key and token */
    int n_api_headers;
    char *api_headers[CONFORM_API_MAX_HEADERS];   /* owned templates "Name: value" */
    /* expect_push, expect_no_push: any[0].fields the paths of the push's body to match ("notifyType"
     * among them when the step names one); receiver_plan: */
    char *plan;                     /* owned: the plan */
};

enum conform_kind { CONFORM_EXCHANGE = 0, CONFORM_SCENARIO };

/* An expectation of a scenario case: a case of its own in the report. */
struct conform_sub {
    char id[48];
    char desc[160];
};

struct conform_case {
    char id[48];
    char ref[128];
    char objective[160];
    char preconditions[256];
    char level[8];                  /* MUST / SHOULD / MAY */
    int n_needs;
    char needs[CONFORM_MAX_NEEDS][24];
    enum conform_kind kind;
    bool terminal;                  /* "side": "terminal": the runner is the platform, the target a device */
    int edition;                    /* one variant of a case with "editions": 2013 or 2019 (its id ends
                                     * -2013 or -2019); 0: a case without */
    char file[512];                 /* the file it is in */
    int index;                      /* its place in the suite (for its phone) */
    bool receiver;                  /* it uses a callback receiver (a push step, ${receiver_url}): the
                                     * runner starts one for it */
    int n_steps;
    struct conform_step *steps;     /* owned */
    /* kind scenario: `fleetsim run` runs it, its expectations are the cases */
    char scenario_path[512];        /* the scenario file (resolved), or "" for an inline one */
    char *scenario_text;            /* owned: an inline scenario as JSON text */
    uint64_t scenario_wall_ms;      /* its duration over its time scale: what the run should take */
    int n_sub;
    struct conform_sub *sub;        /* owned */
};

struct conform_suite {
    char name[48];
    char protocol[16];              /* "jt808" */
    char description[256];
    char dir[512];
    int edition;                    /* defaults.edition: 2013 or 2019 */
    char phone[24];                 /* defaults.phone: digits, the trailing '#'s take the case index */
    int n_cases;
    struct conform_case *cases;     /* owned, in file name order, then file order */
    /* "platform": how the embedded platform of this suite is served (a suite with
     * one gets a platform of its own; the others share the default one) */
    bool platform_set;
    char auth[16];                  /* "open" (default) or "one-party" */
    char rsa[8];                    /* platform.rsa: "on", "encrypt", "off" (serve --rsa); "": serve's default */
    char triples[512];              /* one-party: the triples CSV, relative to the suite's folder */
    uint64_t idle_timeout_ms;       /* 0: serve's default */
    uint64_t reasm_timeout_ms;      /* platform.reasm_timeout: a subpackaged message missing packages this long
                                     * is asked for them (serve --reasm-timeout); 0: serve's default */
    bool device_verification;       /* with --tls: devices must present a certificate (serve --device-ca) */
    double time_scale;              /* platform.time_scale: its virtual clock's speed (serve --time-scale); 0: 1 */
    char short_conn[16];            /* platform.short_connection: "jt808" (serve --short-connection); "": none */
};

/* Capabilities a case may need (`needs`), and which a target has. */
extern const char *const conform_capabilities[];
extern const size_t conform_n_capabilities;

/* Read the suite in dir (suite.json and every other *.json in name order).  Every
 * error found is written, one line each ("file: path: what"); 0 or -1. */
int conform_suite_load(const char *dir, struct conform_suite *s, char *err, size_t errcap);
/* The same from memory (the fuzz target, the unit tests): suite_json the suite.json,
 * case_json one case file named name. */
int conform_suite_parse(const char *suite_json, const char *name, const char *case_json,
                        struct conform_suite *s, char *err, size_t errcap);
void conform_suite_free(struct conform_suite *s);
/* The id a and b both have (a scenario case has its expectations' ids), or NULL. */
const char *conform_case_id_clash(const struct conform_case *a, const struct conform_case *b);
/* The phone of case c of s: the pattern's '#'s replaced by its index. */
void conform_case_phone(const struct conform_suite *s, const struct conform_case *c, char *out, size_t cap);

/* Where and what an exchange case runs against. */
struct conform_target {
    char host[64];
    uint16_t port;
    const char *const *caps;        /* capabilities it has */
    size_t n_caps;
    bool embedded;                  /* the platform the runner started */
    bool api_embedded;              /* its API is the embedded platform's: one application per job */
    void *tls;                      /* the client's SSL_CTX (CA, device certificate), with terminal the
                                     * runner's server SSL_CTX; NULL plain TCP */
    void *tls_alt[2];               /* client SSL_CTXs a connect step may ask for ("certificate"): without a
                                     * device certificate, with one of another CA (NULL: none at hand) */
    bool tls_judged;                /* a server certificate that does not verify fails the case (the user
                                     * named the CA of a tls:// target), else it is the harness's ERROR */
    bool client_ca;                 /* terminal: devices must present a certificate (--client-ca) */
    bool terminal;                  /* --terminal: the runner is the platform; each connection is accepted */
    int listen_fd;                  /* ... on this socket (with terminal) */
    /* its northbound API (the capability northbound-api): "" none */
    char api_base[600];             /* http://HOST:PORT or https://... */
    char api_app[64], api_secret[128]; /* the application the api steps log in as */
    const char *api_ca;             /* https: the CA of its certificate (NULL: the system's) */
    const char *receiver_bind;      /* where a case's callback receiver listens (NULL: 127.0.0.1) */
    uint16_t receiver_port;         /* ... on this port (0: a free one per case) */
};

/* --terminal (conform_terminal.c): listen on spec ("HOST:PORT", loopback, NULL for
 * 127.0.0.1:0) into t; the address is written back into t->host and t->port.  0 or
 * -1 with what is wrong in err. */
int conform_terminal_listen(const char *spec, struct conform_target *t, char *err, size_t errcap);
/* The next device's connection, waiting until deadline_ms (CLOCK_MONOTONIC ms): the
 * socket, or -1 (errno ETIMEDOUT when none came, EINTR when interrupted); its peer's
 * address into peer. */
int conform_terminal_accept(const struct conform_target *t, uint64_t deadline_ms, char *peer, size_t cap);

/* A TLS client context: the server verified against ca (NULL: the system's
 * trust store; its certificate must name the host, checked per connection),
 * cert/key the device's (both or neither); NULL with what is wrong in err.
 * conform_tls_free releases it (a server context too). */
/* OpenSSL's first queued error (or errno, or "no reason given") in buf, the queue cleared. */
const char *conform_ssl_why(char *buf, size_t cap);
void *conform_tls_new(const char *ca, const char *cert, const char *key, char *err, size_t errcap);
void conform_tls_free(void *ctx);
/* conform_tls.c: the certificates of a run into dir (made 0700 if absent): server-ca,
 * server (CN and SAN 127.0.0.1, SAN localhost; signed by server-ca), device-ca,
 * device (signed by device-ca), foreign-ca and foreign (a device of another CA);
 * each NAME.crt and NAME.key, PEM.  0 or -1 with what failed in err. */
int conform_tls_make(const char *dir, char *err, size_t errcap);
/* The runner's server context (--terminal --tls): cert/key its certificate;
 * client_ca (NULL: none asked) the CA device certificates must be signed by. */
void *conform_tls_server_new(const char *cert, const char *key, const char *client_ca, char *err, size_t errcap);

/* CLOCK_MONOTONIC in ms: the runner's deadlines. */
static inline uint64_t conform_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Set by SIGINT or SIGTERM while `fleetsim conform` runs (conform.c): a case
 * being run ends as ERROR ("interrupted"), and no other starts. */
extern volatile int conform_interrupted;

/* Run one exchange case: the verdict, expected/observed and the wire log into out
 * (which the caller zeroes; id, area, desc, ref, level and suite are filled). */
void conform_exchange_run(const struct conform_suite *s, const struct conform_case *c,
                          const struct conform_target *t, struct case_result *out);

/* The case's result without running it: the first need the target lacks makes
 * it INCONCLUSIVE (true, with the reason); false when it can run. */
bool conform_case_unmet(const struct conform_case *c, const struct conform_target *t, struct case_result *out);
/* The fields of a result that come from the case. */
void conform_case_result_init(const struct conform_suite *s, const struct conform_case *c, struct case_result *out);

/* `fleetsim conform` (conform.c). */
struct conform_opts {
    const char *const *suites;      /* folders */
    int n_suites;
    const char *target;             /* "embedded" (NULL), tcp://host:port or tls://host:port */
    const char *tls_ca, *tls_cert, *tls_key;  /* tls://: the server's CA; the device's certificate and key;
                                               * --terminal --tls: tls_cert/key the runner's server certificate */
    int tls;                        /* --tls: the embedded platform, or --terminal's listener, speaks TLS */
    const char *platform_cert, *platform_key; /* --tls embedded: its certificate (tls_ca the CA that issued it) */
    const char *client_ca;          /* --terminal --tls: devices must present a certificate this CA issued */
    const char *cases_glob;         /* --cases */
    const char *exclude_glob;       /* --exclude */
    const char *report_dir;         /* NULL: no files */
    int dryrun, strict, list, quiet;
    int jobs;                       /* 1..; cases spread over this many processes */
    int terminal;                   /* --terminal: the runner is the platform; devices connect to it */
    const char *listen;             /* --listen HOST:PORT (loopback; NULL 127.0.0.1:0) */
    const char *receiver;           /* --receiver ADDR[:PORT]: where the cases' callback receivers listen (an IPv4
                                     * or IPv6 address the target can reach; NULL 127.0.0.1) ... */
    uint16_t receiver_port;         /* ... on this port, the cases one at a time (0: a free one each) */
    const char *self;               /* the fleetsim binary: `serve` for the embedded target, `run` for scenario cases */
    uint32_t shard, shards;         /* --shard K/N: run the K-th of N slices of the chosen cases; 0/0 all */
    const char *target_api;         /* --target-api URL: the target's northbound API (api steps) */
    const char *platform_mutant;    /* --platform-mutant RULE: every embedded platform breaks it (serve --mutant) */
    const char *api_app;            /* --api-app ID:SECRET: ... logged in as */
    const char *api_ca;             /* --api-ca FILE: ... an https:// one's CA */
};
#define CONFORM_MAX_SHARDS 65536

/* --shard K/N: whether the chosen case at position pos (0-based, in the order the
 * suites give them: suite folders by name, their files by name, the cases of a file
 * in order; after --cases, --exclude, --strict and the side) is shard k's (1-based)
 * of n: pos % n == k - 1.  Every case falls to exactly one shard, whatever --jobs
 * is, and the slices differ by one case at most.  A scenario case counts as one
 * position with all its chosen expectations: one `fleetsim run` and its devices. */
bool conform_in_shard(int pos, uint32_t k, uint32_t n);

/* The exit status (enum run_exit). */
int conform_main(const struct conform_opts *o);

#endif
