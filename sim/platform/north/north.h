/* The northbound HTTP API (004's application-side interface) on libmicrohttpd,
 * driven by a libev loop (the platform core's): MHD's epoll descriptor is watched,
 * its timeout is a timer, no thread of its own.  This layer owns what every call
 * shares: the routes (method and path, "{id}" segments captured), the body (at most
 * NORTH_BODY_MAX bytes: 413 past it; JSON: 400 with where it breaks), the
 * application's login and token (north_auth.h: 401 with the reason), and errors as
 * JSON {"error_code": "...", "error_desc": "..."} (docs/api.md lists the codes).
 * The services' routes are given by the owner. */
#ifndef FLEETSIM_NORTH_H
#define FLEETSIM_NORTH_H

#include <cjson/cJSON.h>
#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/platform/north/north_auth.h"

#define NORTH_BODY_MAX (1024 * 1024)  /* bytes of a request body */
#define NORTH_MAX_PARAMS 4

/* The error codes (docs/api.md). */
#define NE_INTERNAL "100001"        /* 500 */
#define NE_BAD_REQUEST "100002"     /* 400: a body or a parameter that is not what the call takes */
#define NE_TOO_LARGE "100003"       /* 413 */
#define NE_NO_PATH "100004"         /* 404: no such call */
#define NE_METHOD "100005"          /* 405 */
#define NE_NOT_FOUND "100006"       /* 404: the thing named (a device, a command) does not exist */
#define NE_CONFLICT "100007"        /* 409: the state does not allow it (cancel a SENT command) */
#define NE_CREDENTIALS "100208"     /* 401: appId or secret not right */
#define NE_REFRESH "100209"         /* 401: refreshToken not right or expired */
#define NE_APP_KEY "100210"         /* 401: app_key missing or unknown */
#define NE_NO_TOKEN "100211"        /* 401: no Bearer token */
#define NE_BAD_TOKEN "100212"       /* 401: not the current token */
#define NE_EXPIRED "100213"         /* 401: the token expired */

struct north_req {
    const char *method;
    const char *path;                 /* without the query */
    int n_params;
    char params[NORTH_MAX_PARAMS][256]; /* the "{...}" segments, in order */
    const cJSON *body;                /* the JSON body, NULL when there is none */
    const struct north_app *app;      /* the caller (NULL on open routes) */
    void *conn;                       /* for north_query */
};

struct north_resp {
    int status;
    cJSON *body;                      /* owned by the server once the handler returns */
};

typedef void (*north_handler)(void *ctx, const struct north_req *rq, struct north_resp *rs);

struct north_route {
    const char *method;               /* "GET", "POST", "PUT", "DELETE" */
    const char *pattern;              /* "/iocm/app/shadow/v1.5.0/devices/{deviceId}" */
    north_handler fn;
};

struct north_opts {
    const char *bind;                 /* IPv4 address (default 127.0.0.1) */
    uint16_t port;                    /* 0: any free one (north_port says) */
    const char *tls_cert, *tls_key;   /* PEM text: HTTPS (NULL: HTTP) */
    struct north_auth *auth;          /* the applications */
    const struct north_route *routes;
    int n_routes;
    void *ctx;                        /* the handlers' */
    int64_t (*now_ms)(void);          /* the virtual clock (tokens expire on it) */
    const char *mutant;               /* a rule broken on purpose ("api-*", svc_mutant.c), NULL none */
};

struct north;

/* "PORT", ":PORT" or "HOST:PORT" (an IPv4 address; default 127.0.0.1), port
 * 1..65535; 0, or -1 with err. */
int north_addr(const char *text, char *host, size_t hostcap, uint16_t *port, char *err, size_t errcap);

/* Listen and serve on loop; NULL with err. */
struct north *north_start(struct ev_loop *loop, const struct north_opts *o, char *err, size_t errcap);
uint16_t north_port(const struct north *n);
void north_stop(struct north *n);
/* Requests served, by answer class, for the statistics. */
struct north_counts {
    uint64_t requests, ok, client_errors, server_errors, unauthorized;
};
void north_counts(const struct north *n, struct north_counts *out);

/* An application/x-www-form-urlencoded body as a JSON object of strings (the first
 * of a repeated key wins; %XX and '+' decoded; a pair without '=' skipped); NULL
 * when out of memory. */
cJSON *north_form_json(const char *body, size_t len);
/* Does path match pattern (each "{x}" a whole segment of 1 to 255 bytes without
 * '/')?  The segments into rq->params. */
bool north_match(const char *pattern, const char *path, struct north_req *rq);

/* A query parameter of the request, NULL when absent. */
const char *north_query(const struct north_req *rq, const char *key);
/* An error answer: status and {"error_code": code, "error_desc": text}. */
void north_error(struct north_resp *rs, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
