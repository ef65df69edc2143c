/* The harness's northbound API client (harness/api_client.c) against the API's
 * front door (north_start on a loop of its own thread): login and a call, the
 * token kept for the next call, an expired token renewed once (refreshToken) and
 * the call made again, a call still 401 after one renewal given back as it is, one
 * login for calls made together, a refused login, a body sent and echoed, a slow
 * server cut off at the timeout, a refused connection, bad methods and paths, HTTPS
 * with the CA given (and refused without it), and the JSON paths of captures. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "harness/api_client.h"
#include "harness/conform.h"
#include "harness/textfile.h"
#include "sim/platform/north/north.h"

static _Atomic int64_t fake_now = 1000;
static _Atomic int served;
static int64_t now_ms(void) { return fake_now; }

static void device(void *ctx, const struct north_req *rq, struct north_resp *rs)
{
    (void)ctx;
    served++;
    rs->status = 200;
    rs->body = cJSON_CreateObject();
    cJSON_AddStringToObject(rs->body, "deviceId", rq->params[0]);
    cJSON_AddStringToObject(rs->body, "method", rq->method);
    cJSON *svc = cJSON_AddArrayToObject(rs->body, "services");
    cJSON *s0 = cJSON_CreateObject();
    cJSON_AddStringToObject(s0, "serviceId", "location");
    cJSON *d = cJSON_AddObjectToObject(s0, "data");
    cJSON_AddNumberToObject(d, "lat", 39895696);
    cJSON_AddItemToArray(svc, s0);
    if (rq->body)
        cJSON_AddItemToObject(rs->body, "got", cJSON_Duplicate(rq->body, 1));
}

static void created(void *ctx, const struct north_req *rq, struct north_resp *rs)
{
    (void)ctx;
    rs->status = 201;
    rs->body = cJSON_CreateObject();
    cJSON_AddStringToObject(rs->body, "commandId", "c0ffee");
    if (rq->body)
        cJSON_AddItemToObject(rs->body, "got", cJSON_Duplicate(rq->body, 1));
}

static void always_401(void *ctx, const struct north_req *rq, struct north_resp *rs)
{
    (void)ctx, (void)rq;
    north_error(rs, 401, NE_BAD_TOKEN, "not today");
}

static void slow(void *ctx, const struct north_req *rq, struct north_resp *rs)
{
    (void)ctx, (void)rq;
    usleep(1500 * 1000); /* the server's thread: the client gives up first */
    rs->status = 200;
    rs->body = cJSON_CreateObject();
}

static const struct north_route routes[] = {
    {"GET", "/iocm/app/dm/v1.4.0/devices/{deviceId}", device},
    {"DELETE", "/iocm/app/dm/v1.4.0/devices/{deviceId}", device},
    {"POST", "/iocm/app/cmd/v1.4.0/deviceCommands", created},
    {"GET", "/nope", always_401},
    {"GET", "/slow", slow},
};

static struct {
    struct ev_loop *loop;
    struct north *n;
    ev_async stop;
    pthread_t th;
    struct north_auth auth;
    char base[64];
} srv;

static void stop_cb(struct ev_loop *loop, ev_async *a, int revents)
{
    (void)a, (void)revents;
    ev_break(loop, EVBREAK_ALL);
}

static void *serve(void *arg)
{
    (void)arg;
    ev_run(srv.loop, 0);
    return NULL;
}

static int setup(void **state)
{
    (void)state;
    char err[200];
    srv.loop = ev_loop_new(EVFLAG_AUTO);
    if (north_auth_add(&srv.auth, "app1", "s3cret", err, sizeof err) < 0)
        return -1;
    struct north_opts o = {.auth = &srv.auth, .routes = routes, .n_routes = sizeof routes / sizeof *routes,
                           .now_ms = now_ms};
    srv.n = north_start(srv.loop, &o, err, sizeof err);
    if (!srv.n) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    snprintf(srv.base, sizeof srv.base, "http://127.0.0.1:%u", north_port(srv.n));
    ev_async_init(&srv.stop, stop_cb);
    ev_async_start(srv.loop, &srv.stop);
    return pthread_create(&srv.th, NULL, serve, NULL);
}

static int teardown(void **state)
{
    (void)state;
    ev_async_send(srv.loop, &srv.stop);
    pthread_join(srv.th, NULL);
    north_stop(srv.n);
    ev_loop_destroy(srv.loop);
    return 0;
}

/* What a callback saw. */
struct seen {
    int calls;
    enum api_outcome outcome;
    long status;
    int logins;
    char body[4096];
    char err[200];
    uint64_t elapsed_us;
};

static void done(void *arg, const struct api_answer *a)
{
    struct seen *s = arg;
    s->calls++;
    s->outcome = a->outcome;
    s->status = a->status;
    s->logins = a->logins;
    s->elapsed_us = a->elapsed_us;
    snprintf(s->body, sizeof s->body, "%s", a->body);
    snprintf(s->err, sizeof s->err, "%s", a->err);
    if (a->outcome == API_OK && a->len)
        assert_non_null(a->json); /* the body parsed for the caller */
}

static struct api_client *client(const char *secret, uint64_t timeout_ms)
{
    char err[200];
    struct api_client_opts o = {.base = srv.base, .app_id = "app1", .secret = secret, .timeout_ms = timeout_ms};
    struct api_client *c = api_client_new(NULL, &o, err, sizeof err);
    if (!c)
        fail_msg("%s", err);
    return c;
}

static void call(struct api_client *c, const char *method, const char *path, const char *body, struct seen *s)
{
    char err[200];
    memset(s, 0, sizeof *s);
    assert_int_equal(api_client_call(c, method, path, body, done, s, err, sizeof err), 0);
    assert_int_equal(s->calls, 0); /* never from inside the call */
    api_client_wait(c);
    assert_int_equal(s->calls, 1);
}

static void test_login_then_token_kept(void **state)
{
    (void)state;
    struct api_client *c = client("s3cret", 0);
    struct seen s;
    call(c, "GET", "/iocm/app/dm/v1.4.0/devices/dev-1", NULL, &s);
    assert_int_equal(s.outcome, API_OK);
    assert_int_equal(s.status, 200);
    assert_int_equal(s.logins, 1);
    assert_non_null(strstr(s.body, "\"deviceId\":\"dev-1\""));
    call(c, "GET", "/iocm/app/dm/v1.4.0/devices/dev-2", NULL, &s);
    assert_int_equal(s.status, 200);
    assert_int_equal(s.logins, 0); /* the token of the first login */
    call(c, "DELETE", "/iocm/app/dm/v1.4.0/devices/dev-3", NULL, &s);
    assert_int_equal(s.status, 200);
    assert_non_null(strstr(s.body, "\"method\":\"DELETE\""));
    api_client_free(c);
}

static void test_body_sent(void **state)
{
    (void)state;
    struct api_client *c = client("s3cret", 0);
    struct seen s;
    call(c, "POST", "/iocm/app/cmd/v1.4.0/deviceCommands", "{\"deviceId\":\"d1\",\"command\":{\"method\":\"X\"}}", &s);
    assert_int_equal(s.status, 201);
    assert_non_null(strstr(s.body, "\"got\":{\"deviceId\":\"d1\",\"command\":{\"method\":\"X\"}}"));
    assert_non_null(strstr(s.body, "\"commandId\":\"c0ffee\""));
    api_client_free(c);
}

static void test_expired_token_renewed_once(void **state)
{
    (void)state;
    struct api_client *c = client("s3cret", 0);
    struct seen s;
    call(c, "GET", "/iocm/app/dm/v1.4.0/devices/a", NULL, &s);
    assert_int_equal(s.logins, 1);
    fake_now += NORTH_TOKEN_TTL_MS + 1000; /* the accessToken expires; the refreshToken does not */
    int before = served;
    call(c, "GET", "/iocm/app/dm/v1.4.0/devices/b", NULL, &s);
    assert_int_equal(s.outcome, API_OK);
    assert_int_equal(s.status, 200);
    assert_int_equal(s.logins, 1);   /* one renewal */
    assert_int_equal(served, before + 1); /* the 401 was not served, the second try was */
    /* the refreshToken is good once: expire both, and the client logs in afresh */
    fake_now += NORTH_REFRESH_TTL_MS + 1000;
    call(c, "GET", "/iocm/app/dm/v1.4.0/devices/c", NULL, &s);
    assert_int_equal(s.status, 200);
    assert_int_equal(s.logins, 1);
    api_client_free(c);
}

/* A call with the caller's headers: no login before it, no renewal after its 401
 * (the front door's answer as it came); with the application's token it is served. */
static void test_own_headers(void **state)
{
    (void)state;
    struct api_client *c = client("s3cret", 0);
    struct seen s;
    char err[200];
    const char *none[] = {NULL};
    memset(&s, 0, sizeof s);
    assert_int_equal(api_client_call_headers(c, "GET", "/iocm/app/dm/v1.4.0/devices/a", NULL, none, done, &s, err,
                                             sizeof err), 0);
    api_client_wait(c);
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.status, 401);
    assert_int_equal(s.logins, 0);
    assert_non_null(strstr(s.body, NE_APP_KEY));
    const char *key_only[] = {"app_key: app1", NULL};
    memset(&s, 0, sizeof s);
    assert_int_equal(api_client_call_headers(c, "GET", "/iocm/app/dm/v1.4.0/devices/a", NULL, key_only, done, &s, err,
                                             sizeof err), 0);
    api_client_wait(c);
    assert_int_equal(s.status, 401);
    assert_int_equal(s.logins, 0);
    assert_non_null(strstr(s.body, NE_NO_TOKEN));
    /* a login of the caller's own: its token then works in a header */
    memset(&s, 0, sizeof s);
    assert_int_equal(api_client_call_headers(c, "POST", API_LOGIN_PATH, "{\"appId\":\"app1\",\"secret\":\"s3cret\"}",
                                             none, done, &s, err, sizeof err), 0);
    api_client_wait(c);
    assert_int_equal(s.status, 200);
    const char *tok = strstr(s.body, "\"accessToken\":\"");
    assert_non_null(tok);
    char auth[200];
    snprintf(auth, sizeof auth, "Authorization: Bearer %.32s", tok + 15);
    const char *both[] = {"app_key: app1", auth, NULL};
    memset(&s, 0, sizeof s);
    assert_int_equal(api_client_call_headers(c, "GET", "/iocm/app/dm/v1.4.0/devices/a", NULL, both, done, &s, err,
                                             sizeof err), 0);
    api_client_wait(c);
    assert_int_equal(s.status, 200);
    assert_int_equal(s.logins, 0);
    api_client_free(c);
}

static void test_still_401_given_back(void **state)
{
    (void)state;
    struct api_client *c = client("s3cret", 0);
    struct seen s;
    call(c, "GET", "/nope", NULL, &s);
    assert_int_equal(s.outcome, API_OK);
    assert_int_equal(s.status, 401);
    assert_int_equal(s.logins, 2); /* the first login, one renewal, no more */
    assert_non_null(strstr(s.body, NE_BAD_TOKEN));
    api_client_free(c);
}

static void test_one_login_for_calls_together(void **state)
{
    (void)state;
    struct api_client *c = client("s3cret", 0);
    struct seen s[4];
    char err[200], path[64];
    memset(s, 0, sizeof s);
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "/iocm/app/dm/v1.4.0/devices/d%d", i);
        assert_int_equal(api_client_call(c, "GET", path, NULL, done, &s[i], err, sizeof err), 0);
    }
    assert_int_equal(api_client_running(c), 4);
    api_client_wait(c);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(s[i].calls, 1);
        assert_int_equal(s[i].status, 200);
        /* a login each would have made the others' tokens stale: a 401 and a renewal */
        assert_int_equal(s[i].logins, 1);
    }
    api_client_free(c);
}

static void test_login_refused(void **state)
{
    (void)state;
    struct api_client *c = client("wrong", 0);
    struct seen s;
    call(c, "GET", "/iocm/app/dm/v1.4.0/devices/a", NULL, &s);
    assert_int_equal(s.outcome, API_LOGIN);
    assert_int_equal(s.status, 401);
    assert_non_null(strstr(s.body, NE_CREDENTIALS));
    assert_non_null(strstr(s.err, "login refused"));
    api_client_free(c);
}

static void test_timeout(void **state)
{
    (void)state;
    struct api_client *c = client("s3cret", 400);
    struct seen s;
    call(c, "GET", "/slow", NULL, &s);
    assert_int_equal(s.outcome, API_TIMEOUT);
    assert_true(s.elapsed_us < 1400 * 1000); /* cut off, not waited out */
    api_client_free(c);
    usleep(1200 * 1000); /* the server's thread done with the slow call */
}

static void test_refused_connection(void **state)
{
    (void)state;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &l), 0);
    char base[64], err[200];
    snprintf(base, sizeof base, "http://127.0.0.1:%u", ntohs(a.sin_port));
    struct api_client_opts o = {.base = base, .app_id = "app1", .secret = "s3cret"};
    struct api_client *c = api_client_new(NULL, &o, err, sizeof err);
    assert_non_null(c);
    struct seen s;
    call(c, "GET", "/x", NULL, &s);
    assert_int_equal(s.outcome, API_ERROR);
    assert_non_null(strstr(s.err, "login"));
    api_client_free(c);
    close(fd);
}

static void test_bad_input(void **state)
{
    (void)state;
    char err[200];
    struct api_client_opts o = {.base = "ftp://x", .app_id = "a", .secret = "b"};
    assert_null(api_client_new(NULL, &o, err, sizeof err));
    assert_non_null(strstr(err, "not an http:// or https:// URL"));
    o.base = srv.base;
    o.app_id = "";
    assert_null(api_client_new(NULL, &o, err, sizeof err));
    struct api_client *c = client("s3cret", 0);
    struct seen s = {0};
    assert_int_equal(api_client_call(c, "PATCH", "/x", NULL, done, &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "method: expected GET, POST, PUT or DELETE"));
    assert_int_equal(api_client_call(c, "GET", "x", NULL, done, &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "path:"));
    assert_int_equal(api_client_call(c, "GET", "/a b", NULL, done, &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "at byte 2"));
    assert_int_equal(api_client_running(c), 0);
    /* a call freed before it ran ends once, cancelled */
    assert_int_equal(api_client_call(c, "GET", "/x", NULL, done, &s, err, sizeof err), 0);
    api_client_free(c);
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.outcome, API_CANCELLED);
}

/* HTTPS: the server's certificate checked against the CA given (conform_tls_make's
 * server, for 127.0.0.1); without that CA the call cannot reach the API. */
static struct {
    struct ev_loop *loop;
    struct north *n;
    ev_async stop;
    pthread_t th;
} tls_srv;

static void *serve_tls(void *arg)
{
    (void)arg;
    ev_run(tls_srv.loop, 0);
    return NULL;
}

static void test_https_with_ca(void **state)
{
    (void)state;
    char dir[] = "/tmp/fleetsim-api-client-XXXXXX", err[700], path[300], ca[300];
    assert_non_null(mkdtemp(dir));
    if (conform_tls_make(dir, err, sizeof err) < 0)
        fail_msg("%s", err);
    char *cert = NULL, *key = NULL;
    size_t n;
    snprintf(path, sizeof path, "%s/server.crt", dir);
    assert_int_equal(textfile_read(path, 1 << 20, &cert, &n), 0);
    snprintf(path, sizeof path, "%s/server.key", dir);
    assert_int_equal(textfile_read(path, 1 << 20, &key, &n), 0);
    snprintf(ca, sizeof ca, "%s/server-ca.crt", dir);
    tls_srv.loop = ev_loop_new(EVFLAG_AUTO);
    struct north_opts o = {.auth = &srv.auth, .routes = routes, .n_routes = sizeof routes / sizeof *routes,
                           .now_ms = now_ms, .tls_cert = cert, .tls_key = key};
    tls_srv.n = north_start(tls_srv.loop, &o, err, sizeof err);
    if (!tls_srv.n)
        fail_msg("%s", err);
    ev_async_init(&tls_srv.stop, stop_cb);
    ev_async_start(tls_srv.loop, &tls_srv.stop);
    assert_int_equal(pthread_create(&tls_srv.th, NULL, serve_tls, NULL), 0);
    char base[64];
    snprintf(base, sizeof base, "https://127.0.0.1:%u", north_port(tls_srv.n));
    struct api_client_opts co = {.base = base, .app_id = "app1", .secret = "s3cret", .ca_file = ca};
    struct api_client *c = api_client_new(NULL, &co, err, sizeof err);
    assert_non_null(c);
    struct seen s;
    call(c, "GET", "/iocm/app/dm/v1.4.0/devices/tls-1", NULL, &s);
    assert_int_equal(s.outcome, API_OK);
    assert_int_equal(s.status, 200);
    assert_non_null(strstr(s.body, "tls-1"));
    api_client_free(c);
    co.ca_file = NULL; /* the system's trust store does not know the run's CA */
    c = api_client_new(NULL, &co, err, sizeof err);
    call(c, "GET", "/iocm/app/dm/v1.4.0/devices/tls-1", NULL, &s);
    assert_int_equal(s.outcome, API_ERROR);
    api_client_free(c);
    ev_async_send(tls_srv.loop, &tls_srv.stop);
    pthread_join(tls_srv.th, NULL);
    north_stop(tls_srv.n);
    ev_loop_destroy(tls_srv.loop);
    free(cert);
    free(key);
    static const char *const files[] = {"server-ca", "server", "device-ca", "device", "foreign-ca", "foreign"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(path, sizeof path, "%s/%s.crt", dir, files[i]);
        unlink(path);
        snprintf(path, sizeof path, "%s/%s.key", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

static void test_json_paths(void **state)
{
    (void)state;
    cJSON *v = cJSON_Parse("{\"commandId\":\"c1\",\"n\":3,\"services\":[{\"data\":{\"lat\":39.5}},"
                           "{\"data\":{\"on\":true}}],\"o\":{\"a\":[1,2]}}");
    char t[64];
    assert_true(api_json_text(api_json_at(v, "commandId"), t, sizeof t));
    assert_string_equal(t, "c1");
    assert_true(api_json_text(api_json_at(v, "n"), t, sizeof t));
    assert_string_equal(t, "3");
    assert_true(api_json_text(api_json_at(v, "services[0].data.lat"), t, sizeof t));
    assert_string_equal(t, "39.5");
    assert_true(api_json_text(api_json_at(v, "services[1].data.on"), t, sizeof t));
    assert_string_equal(t, "true");
    assert_true(api_json_text(api_json_at(v, "o"), t, sizeof t));
    assert_string_equal(t, "{\"a\":[1,2]}");
    assert_false(api_json_text(api_json_at(v, "o"), t, 4)); /* does not fit */
    assert_null(api_json_at(v, "services[2]"));
    assert_null(api_json_at(v, "missing"));
    assert_null(api_json_at(v, "n.x"));
    assert_false(api_json_path_ok(""));
    assert_false(api_json_path_ok("a..b"));
    assert_false(api_json_path_ok("a[x]"));
    assert_false(api_json_path_ok("a b"));
    assert_true(api_json_path_ok("services[0].data.lat"));
    cJSON_Delete(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_login_then_token_kept),
        cmocka_unit_test(test_body_sent),
        cmocka_unit_test(test_expired_token_renewed_once),
        cmocka_unit_test(test_still_401_given_back),
        cmocka_unit_test(test_own_headers),
        cmocka_unit_test(test_one_login_for_calls_together),
        cmocka_unit_test(test_login_refused),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_refused_connection),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_https_with_ca),
        cmocka_unit_test(test_json_paths),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
