/* The northbound API's front door (sim/platform/north/north.c) on a libev loop of
 * its own thread, asked with libcurl over loopback: login (JSON and form),
 * refresh, a route's captures and query, every refusal (401 by reason, 404, 405,
 * 400 with where the JSON breaks, 413), tokens expiring on the clock given. */
#include <curl/curl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sim/platform/north/north.h"

static _Atomic int64_t fake_now = 1000;
static int64_t now_ms(void) { return fake_now; }

static void echo(void *ctx, const struct north_req *rq, struct north_resp *rs)
{
    (void)ctx;
    rs->status = 200;
    rs->body = cJSON_CreateObject();
    cJSON_AddStringToObject(rs->body, "deviceId", rq->params[0]);
    cJSON_AddStringToObject(rs->body, "app", rq->app->id);
    const char *q = north_query(rq, "pageNo");
    cJSON_AddStringToObject(rs->body, "pageNo", q ? q : "");
    if (rq->body)
        cJSON_AddItemToObject(rs->body, "got", cJSON_Duplicate(rq->body, 1));
}

static void missing(void *ctx, const struct north_req *rq, struct north_resp *rs)
{
    (void)ctx;
    north_error(rs, 404, NE_NOT_FOUND, "device %s does not exist", rq->params[0]);
}

static const struct north_route routes[] = {
    {"GET", "/iocm/app/dm/v1.4.0/devices/{deviceId}", echo},
    {"PUT", "/iocm/app/shadow/v1.5.0/devices/{deviceId}", echo},
    {"DELETE", "/iocm/app/dm/v1.4.0/devices/{deviceId}", missing},
};

struct server {
    struct ev_loop *loop;
    struct north *n;
    ev_async stop;
    pthread_t th;
    struct north_auth auth;
};
static struct server srv;

static void stop_cb(struct ev_loop *loop, ev_async *a, int revents)
{
    (void)a;
    (void)revents;
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
    struct north_opts o = {.auth = &srv.auth, .routes = routes, .n_routes = 3, .now_ms = now_ms};
    srv.n = north_start(srv.loop, &o, err, sizeof err);
    if (!srv.n) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    ev_async_init(&srv.stop, stop_cb);
    ev_async_start(srv.loop, &srv.stop);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return pthread_create(&srv.th, NULL, serve, NULL);
}

static int teardown(void **state)
{
    (void)state;
    ev_async_send(srv.loop, &srv.stop);
    pthread_join(srv.th, NULL);
    north_stop(srv.n);
    ev_loop_destroy(srv.loop);
    curl_global_cleanup();
    return 0;
}

struct buf {
    char s[8192];
    size_t n;
};

static size_t sink(char *p, size_t sz, size_t nm, void *arg)
{
    struct buf *b = arg;
    size_t k = sz * nm;
    if (b->n + k < sizeof b->s) {
        memcpy(b->s + b->n, p, k);
        b->n += k;
        b->s[b->n] = 0;
    }
    return k;
}

/* One request; the status, the body parsed into *out (caller deletes). */
static long call(const char *method, const char *path, const char *ctype, const char *body, size_t body_len,
                 const char *app_key, const char *token, cJSON **out)
{
    CURL *c = curl_easy_init();
    char url[512], h1[200], h2[200];
    struct buf b = {.n = 0};
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", north_port(srv.n), path);
    struct curl_slist *hs = NULL;
    if (ctype) {
        snprintf(h1, sizeof h1, "Content-Type: %s", ctype);
        hs = curl_slist_append(hs, h1);
    }
    if (app_key) {
        snprintf(h2, sizeof h2, "app_key: %s", app_key);
        hs = curl_slist_append(hs, h2);
    }
    if (token) {
        char h3[200];
        snprintf(h3, sizeof h3, "Authorization: Bearer %s", token);
        hs = curl_slist_append(hs, h3);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)body_len);
    }
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hs);
    curl_easy_cleanup(c);
    assert_int_equal(rc, CURLE_OK);
    *out = cJSON_Parse(b.s);
    return status;
}

static const char *member(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItem(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static void refused(long status, const cJSON *j, long want, const char *code)
{
    assert_int_equal(status, want);
    assert_string_equal(member(j, "error_code"), code);
    assert_true(strlen(member(j, "error_desc")) > 5);
}

static void test_login_and_call(void **state)
{
    (void)state;
    cJSON *j;
    const char *login = "{\"appId\":\"app1\",\"secret\":\"s3cret\"}";
    long s = call("POST", "/iocm/app/sec/v1.1.0/login", "application/json", login, strlen(login), NULL, NULL, &j);
    assert_int_equal(s, 200);
    assert_string_equal(member(j, "tokenType"), "bearer");
    assert_int_equal(cJSON_GetObjectItem(j, "expiresIn")->valueint, 3600);
    char token[64];
    snprintf(token, sizeof token, "%s", member(j, "accessToken"));
    assert_int_equal(strlen(token), NORTH_TOKEN_LEN);
    cJSON_Delete(j);
    s = call("GET", "/iocm/app/dm/v1.4.0/devices/P_866?pageNo=3", NULL, NULL, 0, "app1", token, &j);
    assert_int_equal(s, 200);
    assert_string_equal(member(j, "deviceId"), "P_866");
    assert_string_equal(member(j, "app"), "app1");
    assert_string_equal(member(j, "pageNo"), "3");
    cJSON_Delete(j);
    const char *put = "{\"serviceDesireds\":[]}";
    s = call("PUT", "/iocm/app/shadow/v1.5.0/devices/D1", "application/json", put, strlen(put), "app1", token, &j);
    assert_int_equal(s, 200);
    assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "got"), "serviceDesireds"));
    cJSON_Delete(j);
    /* the route's own error */
    s = call("DELETE", "/iocm/app/dm/v1.4.0/devices/D9", NULL, NULL, 0, "app1", token, &j);
    refused(s, j, 404, NE_NOT_FOUND);
    assert_string_equal(member(j, "error_desc"), "device D9 does not exist");
    cJSON_Delete(j);
    /* form login works too; it replaces the token */
    const char *form = "appId=app1&secret=s3cr%65t";
    s = call("POST", "/iocm/app/sec/v1.1.0/login", "application/x-www-form-urlencoded", form, strlen(form), NULL,
             NULL, &j);
    assert_int_equal(s, 200);
    cJSON_Delete(j);
    s = call("GET", "/iocm/app/dm/v1.4.0/devices/P_866", NULL, NULL, 0, "app1", token, &j);
    refused(s, j, 401, NE_BAD_TOKEN);
    cJSON_Delete(j);
}

static void test_refusals(void **state)
{
    (void)state;
    cJSON *j;
    long s;
    const char *bad = "{\"appId\":\"app1\",\"secret\":\"nope\"}";
    s = call("POST", "/iocm/app/sec/v1.1.0/login", "application/json", bad, strlen(bad), NULL, NULL, &j);
    refused(s, j, 401,
            NE_CREDENTIALS);
    cJSON_Delete(j);
    const char *half = "{\"appId\":\"app1\"}";
    s = call("POST", "/iocm/app/sec/v1.1.0/login", "application/json", half, strlen(half), NULL, NULL, &j);
    refused(s, j, 400,
            NE_BAD_REQUEST);
    cJSON_Delete(j);
    s = call("GET", "/iocm/app/sec/v1.1.0/login", NULL, NULL, 0, NULL, NULL, &j);
    refused(s, j, 405, NE_METHOD);
    cJSON_Delete(j);
    const char *login = "{\"appId\":\"app1\",\"secret\":\"s3cret\"}";
    call("POST", "/iocm/app/sec/v1.1.0/login", "application/json", login, strlen(login), NULL, NULL, &j);
    char token[64], refresh[64];
    snprintf(token, sizeof token, "%s", member(j, "accessToken"));
    snprintf(refresh, sizeof refresh, "%s", member(j, "refreshToken"));
    cJSON_Delete(j);
    const char *path = "/iocm/app/dm/v1.4.0/devices/X";
    s = call("GET", path, NULL, NULL, 0, NULL, token, &j);
    refused(s, j, 401, NE_APP_KEY);
    cJSON_Delete(j);
    s = call("GET", path, NULL, NULL, 0, "app7", token, &j);
    refused(s, j, 401, NE_APP_KEY);
    cJSON_Delete(j);
    s = call("GET", path, NULL, NULL, 0, "app1", NULL, &j);
    refused(s, j, 401, NE_NO_TOKEN);
    cJSON_Delete(j);
    s = call("GET", path, NULL, NULL, 0, "app1", "0123", &j);
    refused(s, j, 401, NE_BAD_TOKEN);
    cJSON_Delete(j);
    s = call("GET", "/iocm/app/nothing", NULL, NULL, 0, "app1", token, &j);
    refused(s, j, 404, NE_NO_PATH);
    cJSON_Delete(j);
    s = call("POST", path, NULL, NULL, 0, "app1", token, &j);
    refused(s, j, 405, NE_METHOD);
    cJSON_Delete(j);
    const char *broken = "{\"serviceDesireds\": [1,}";
    s = call("PUT", "/iocm/app/shadow/v1.5.0/devices/D1", "application/json", broken, strlen(broken), "app1",
                 token, &j);
    refused(s, j, 400, NE_BAD_REQUEST);
    assert_non_null(strstr(member(j, "error_desc"), "not JSON (at byte 23)"));
    cJSON_Delete(j);
    size_t big = NORTH_BODY_MAX + 10;
    char *huge = malloc(big);
    memset(huge, ' ', big);
    s = call("PUT", "/iocm/app/shadow/v1.5.0/devices/D1", "application/json", huge, big, "app1", token, &j);
    refused(s, j, 413, NE_TOO_LARGE);
    free(huge);
    cJSON_Delete(j);
    /* the token expires on the clock; refresh gives a new one */
    fake_now += NORTH_TOKEN_TTL_MS;
    s = call("GET", path, NULL, NULL, 0, "app1", token, &j);
    refused(s, j, 401, NE_EXPIRED);
    cJSON_Delete(j);
    char rbody[300];
    snprintf(rbody, sizeof rbody, "{\"appId\":\"app1\",\"secret\":\"s3cret\",\"refreshToken\":\"%s\"}", refresh);
    assert_int_equal(call("POST", "/iocm/app/sec/v1.1.0/refreshToken", "application/json", rbody, strlen(rbody), NULL,
                          NULL, &j),
                     200);
    snprintf(token, sizeof token, "%s", member(j, "accessToken"));
    cJSON_Delete(j);
    assert_int_equal(call("GET", path, NULL, NULL, 0, "app1", token, &j), 200);
    cJSON_Delete(j);
    s = call("POST", "/iocm/app/sec/v1.1.0/refreshToken", "application/json", rbody, strlen(rbody), NULL, NULL, &j);
    refused(s, j, 401, NE_REFRESH); /* a refreshToken is good once */
    cJSON_Delete(j);
    struct north_counts k;
    north_counts(srv.n, &k);
    assert_true(k.requests >= 18);
    assert_true(k.unauthorized >= 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_login_and_call),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
