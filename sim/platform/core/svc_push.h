/* Push notifications (004 §5) inside the platform core: the push service's own
 * header, shared by its files:
 *   svc_push.c        life, the producers (deviceDataChanged, deviceAdded), notify;
 *   svc_push_api.c    the subscriptions API and pushStatus;
 *   svc_push_send.c   the queue and the sender (libcurl multi on the core's loop),
 *                     by push_policy.h's rules;
 *   svc_push_store.c  the tables: subscriptions and undelivered messages.
 *
 * A message is one body to one URL.  It is in the store from the moment it is
 * queued (inside the core's batch) until it is final (DELIVERED, EXPIRED,
 * REJECTED), and is only sent once that batch is committed; so a SIGKILL loses no
 * message, and a restarted core sends again what it finds (once more at most:
 * delivery is at least once). */
#ifndef FLEETSIM_SVC_PUSH_H
#define FLEETSIM_SVC_PUSH_H

#include <curl/curl.h>
#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/platform/core/push_policy.h"
#include "sim/platform/core/svc.h"
#include "sim/platform/north/north_auth.h"

#define PUSH_QUEUE_MAX 100000       /* messages not final, in memory and in the store; past it: dropped */
#define PUSH_INFLIGHT_MAX 64        /* requests at once, all URLs */
#define PUSH_URL_INFLIGHT_MAX 8     /* requests at once to one URL (its connections, reused) */
#define PUSH_URLS_MAX 4096          /* distinct URLs (subscriptions' and commands' callbacks) */
#define PUSH_SUBS_MAX 4096          /* subscriptions, all applications */
#define PUSH_URL_LEN_MAX 1024       /* a callbackUrl's bytes */
#define PUSH_SUB_ID_LEN 32          /* hex digits of a subscriptionId */
#define PUSH_N_TYPES 8              /* svc.h's SVC_NOTIFY_* */

struct sqlite3_stmt;

/* One body to one URL. */
struct pmsg {
    struct push_msg pm;             /* the policy's state; pm.url indexes push's URLs */
    int64_t row;                    /* its row in push_msgs */
    char *body;
    size_t len;
    struct pmsg *prev, *next;       /* in its URL's fresh or kept list, or in the sent list */
    struct pmsg *eprev, *enext;     /* in the expiry list (once it failed) */
    bool in_exp;
    int list;                       /* PL_* */
    CURL *easy;                     /* while SENT */
    struct curl_slist *hdr;
};

enum { PL_NONE = 0, PL_FRESH, PL_KEPT, PL_SENT };

struct plist {
    struct pmsg *head, *tail;
    size_t n;
};

/* One callback URL. */
struct purl {
    char *url;
    struct plist fresh;             /* NEW, in the order queued */
    struct plist kept;              /* KEPT, by next_try_ms */
    unsigned inflight;
    bool probing;                   /* its probe is in flight */
};

struct psub {
    char id[PUSH_SUB_ID_LEN + 1];
    char app[NORTH_APP_ID_MAX];
    int type;                       /* index in push_types */
    int url;                        /* index in push's URLs */
    bool owner;                     /* ownerFlag */
    int64_t created_ms;             /* unix ms */
};

struct svc_push {
    struct core *k;
    /* subscriptions */
    struct psub *subs;
    size_t n_subs;
    uint32_t wanted[PUSH_N_TYPES];  /* subscriptions per type */
    /* URLs: two arrays of one index (push_answered takes the policy's part alone) */
    struct purl *urls;
    struct push_url *pu;
    int n_urls, cap_urls;
    int cursor;                     /* round-robin */
    /* messages */
    size_t n_msgs;                  /* not final */
    struct plist sent;              /* SENT, in the order sent */
    struct pmsg *exp_head, *exp_tail; /* failed ones, by first_fail_ms */
    bool dropped_logged;
    /* the loop */
    ev_timer due;                   /* virtual: the next retry, probe, timeout or expiry */
    ev_timer kick;                  /* 0 s: send what was queued, after its batch commits */
    ev_timer curl_timer;            /* curl's own (real time) */
    CURLM *multi;
    char ca[512];                   /* --push-ca: the CA file for HTTPS callbacks ("" the system's) */
    bool stopping;
    /* the store */
    struct sqlite3_stmt *st[8];
};

extern const char *const push_types[PUSH_N_TYPES];
/* The index of a notifyType, -1 when it is not one. */
int push_type_index(const char *type);

/* svc_push_parse.c: the API's input (pure; tests/fuzz/fuzz_push.c).  0, or -1 with
 * "field: what is wrong" in err. */
struct push_sub_req {
    int type;                       /* index in push_types */
    const char *url;                /* in the body */
    bool owner;
};
int push_sub_parse(const cJSON *body, struct push_sub_req *out, char *err, size_t errcap);
/* An http:// or https:// URL with a host, at most PUSH_URL_LEN_MAX bytes of printable ASCII. */
int push_url_check(const char *field, const char *url, char *err, size_t errcap);
/* A query parameter: absent gives dflt, else a decimal number in [lo, hi]. */
int push_int_param(const char *field, const char *text, long dflt, long lo, long hi, long *out, char *err,
                   size_t errcap);
/* An optional notifyType parameter: -1 when absent, else its index. */
int push_type_param(const char *text, int *out, char *err, size_t errcap);

/* svc_push_send.c */
int push_send_start(struct svc_push *P, char *err, size_t errcap);
void push_send_stop(struct svc_push *P);
/* The index of url (added when new), -1 when the table is full or out of memory. */
int push_url_index(struct svc_push *P, const char *url);
/* Queue body (text, taken: freed by the queue) to URL u: stored in the open batch,
 * sent once it is committed.  False when dropped (counted). */
bool push_enqueue(struct svc_push *P, int u, char *body, size_t len);
/* A message read back from the store at start: queued as it was. */
void push_restore(struct svc_push *P, int u, int64_t row, char *body, int64_t first_fail_ms, uint32_t tries);
/* Wake the sender (after the current callback). */
void push_kick(struct svc_push *P);

/* svc_push_store.c: 0, or -1 with err. */
int push_store_open(struct svc_push *P, char *err, size_t errcap);
void push_store_close(struct svc_push *P);
/* Read back subscriptions and messages (after push_send_start). */
int push_store_load(struct svc_push *P, char *err, size_t errcap);
int push_store_sub_put(struct svc_push *P, const struct psub *s);
int push_store_sub_del(struct svc_push *P, const char *id);
/* The new message's row, -1 on a failure. */
int64_t push_store_msg_put(struct svc_push *P, const char *url, const char *body, size_t len);
void push_store_msg_failed(struct svc_push *P, const struct pmsg *m);
void push_store_msg_del(struct svc_push *P, int64_t row);

/* Virtual ms <-> unix ms of the store (a restarted core's clock has another epoch). */
int64_t push_unix_of(int64_t virtual_ms);
int64_t push_virtual_of(int64_t unix_ms);

#endif
