/* A small HTTP(S) client on a libev loop: libcurl's multi interface driven by
 * the loop (CURLMOPT_SOCKETFUNCTION / TIMERFUNCTION and
 * curl_multi_socket_action), so a request never blocks the loop.  One
 * httpc per loop; requests run concurrently; each ends in its callback exactly
 * once (answered, an HTTP or transport error, its timeout, or httpc_free). */
#ifndef FLEETSIM_HTTPC_H
#define FLEETSIM_HTTPC_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>

#define HTTPC_BODY_MAX (64 * 1024)   /* an answer longer than this is an error */

enum httpc_outcome {
    HTTPC_OK = 0,         /* an answer arrived (any status: see status) */
    HTTPC_TIMEOUT,        /* no whole answer within the request's timeout */
    HTTPC_ERROR,          /* transport error (refused, reset, TLS, too large) */
    HTTPC_CANCELLED,      /* httpc_free with the request still running */
};

struct httpc_result {
    enum httpc_outcome outcome;
    long status;          /* HTTP status when HTTPC_OK */
    const char *body;     /* NUL-terminated, valid during the callback */
    size_t len;
    uint64_t elapsed_us;
    char err[160];        /* what went wrong, "" when HTTPC_OK */
};

typedef void (*httpc_done_fn)(void *arg, const struct httpc_result *r);

struct httpc;
/* NULL with err when libcurl cannot start. */
struct httpc *httpc_new(struct ev_loop *loop, char *err, size_t errcap);
/* Ends every running request with HTTPC_CANCELLED, then frees. */
void httpc_free(struct httpc *h);
/* POST body (Content-Type: application/json) to url; done(arg, result) later,
 * from the loop, never from inside this call.  0, or -1 with err. */
int httpc_post_json(struct httpc *h, const char *url, const char *body, uint64_t timeout_ms, httpc_done_fn done,
                    void *arg, char *err, size_t errcap);
/* Any request: method and URL, header lines, a body, a CA for https.  Same
 * contract as httpc_post_json. */
struct httpc_opts {
    const char *method;           /* "GET", "POST", "PUT", "DELETE" (NULL: POST) */
    const char *url;
    const char *const *headers;   /* "Name: value" lines, NULL-terminated (NULL: none) */
    const char *body;             /* sent as is (NULL: no body) */
    const char *content_type;     /* of the body (NULL: application/json) */
    const char *ca_file;          /* https: the CA the server's certificate must chain to (NULL: the system's) */
    uint64_t timeout_ms;          /* the whole request */
};
int httpc_request(struct httpc *h, const struct httpc_opts *o, httpc_done_fn done, void *arg, char *err,
                  size_t errcap);
/* Requests running. */
unsigned httpc_running(const struct httpc *h);

#endif
