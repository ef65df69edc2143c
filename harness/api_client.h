/* A northbound API client for the harness (docs/api.md): an application that logs
 * in with its appId and secret, keeps the accessToken, and calls the platform with
 * a method, a path and a JSON body.  A call answered 401 gets the token renewed
 * once (refreshToken, else a new login) and is made again; its answer is then the
 * caller's, whatever it is.  Calls run on a libev loop (sim/net/httpc.h: libcurl
 * multi), never blocking it, one after another or side by side; each ends in its
 * callback once, within its timeout (login included).  api_client_wait runs a
 * client on a loop of its own until its calls have ended, for callers without a
 * loop (the conformance runner). */
#ifndef FLEETSIM_API_CLIENT_H
#define FLEETSIM_API_CLIENT_H

#include <cjson/cJSON.h>
#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define API_CALL_TIMEOUT_MS 10000   /* a call, its login included, unless the options say less */
#define API_LOGIN_PATH "/iocm/app/sec/v1.1.0/login"
#define API_REFRESH_PATH "/iocm/app/sec/v1.1.0/refreshToken"

struct api_client_opts {
    const char *base;               /* "http://HOST:PORT" or "https://HOST:PORT[/prefix]", no trailing '/' */
    const char *app_id, *secret;    /* the application */
    const char *ca_file;            /* https: the CA of the server's certificate (NULL: the system's) */
    uint64_t timeout_ms;            /* each call (0: API_CALL_TIMEOUT_MS) */
};

enum api_outcome {
    API_OK = 0,                     /* an answer came (any status: see status) */
    API_TIMEOUT,                    /* no answer within the call's timeout */
    API_ERROR,                      /* transport: refused, reset, TLS, an answer over 64 KiB */
    API_LOGIN,                      /* the login was refused: status and body are the login's */
    API_CANCELLED,                  /* api_client_free with the call still running */
};

struct api_answer {
    enum api_outcome outcome;
    long status;                    /* HTTP status (API_OK, API_LOGIN) */
    const char *body;               /* NUL-terminated, "" none; valid during the callback */
    size_t len;
    const cJSON *json;              /* the body parsed, NULL when it is not JSON */
    uint64_t elapsed_us;            /* wall clock, from the call to its end */
    int logins;                     /* logins and refreshes the call waited for */
    char err[200];                  /* what went wrong, "" when API_OK */
};

typedef void (*api_done_fn)(void *arg, const struct api_answer *a);

struct api_client;

/* A client on loop (NULL: a loop of its own, for api_client_wait); the options are
 * copied.  NULL with err. */
struct api_client *api_client_new(struct ev_loop *loop, const struct api_client_opts *o, char *err, size_t errcap);
/* Running calls end API_CANCELLED; then freed. */
void api_client_free(struct api_client *c);
/* METHOD ("GET", "POST", "PUT", "DELETE") path (from '/', a query allowed) with
 * body (JSON text, NULL: none); done(arg, answer) later from the loop, never from
 * inside this call.  0, or -1 with err (a bad method or path, out of memory). */
int api_client_call(struct api_client *c, const char *method, const char *path, const char *body,
                    api_done_fn done, void *arg, char *err, size_t errcap);
/* The same with headers of the caller's ("Name: value", NULL-terminated; copied)
 * instead of the application's app_key and token: no login before it, no renewal
 * after a 401 (its answer is what came).  headers NULL: api_client_call. */
int api_client_call_headers(struct api_client *c, const char *method, const char *path, const char *body,
                            const char *const *headers, api_done_fn done, void *arg, char *err, size_t errcap);
/* Calls not ended yet. */
unsigned api_client_running(const struct api_client *c);
/* Run the client's own loop until no call is running (a client made with loop NULL). */
void api_client_wait(struct api_client *c);

/* The value at path in v ("commandId", "services[0].data.lat"): NULL when absent
 * or the path is not one. */
const cJSON *api_json_at(const cJSON *v, const char *path);
/* Is path one api_json_at takes: names and [N] indexes, dot-separated? */
bool api_json_path_ok(const char *path);
/* A value as text for a ${name}: a string as is, anything else as compact JSON.
 * false when it does not fit cap. */
bool api_json_text(const cJSON *v, char *out, size_t cap);

#endif
