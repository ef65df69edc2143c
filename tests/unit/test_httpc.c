/* httpc: libcurl's multi interface on a libev loop, against an HTTP server in
 * this process (libmicrohttpd, its own thread): an answer with its status and
 * body, an HTTP error status, a slow server cut off at the timeout while a quick
 * request on the same loop completes, a refused connection, and cancellation. */
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
#include <microhttpd.h>
#include <cmocka.h>

#include "sim/net/httpc.h"

static struct MHD_Daemon *srv;
static unsigned port;

struct upload {
    char body[256];
    size_t len;
};

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *data, size_t *size, void **con_cls)
{
    (void)cls, (void)method, (void)version;
    struct upload *u = *con_cls;
    if (!u) {
        *con_cls = calloc(1, sizeof *u);
        return *con_cls ? MHD_YES : MHD_NO;
    }
    if (*size) {
        size_t k = *size < sizeof u->body - 1 - u->len ? *size : sizeof u->body - 1 - u->len;
        memcpy(u->body + u->len, data, k);
        u->len += k;
        *size = 0;
        return MHD_YES;
    }
    char text[320];
    unsigned status = 200;
    if (strcmp(url, "/slow") == 0)
        usleep(1500 * 1000);
    if (strcmp(url, "/err") == 0)
        status = 503;
    snprintf(text, sizeof text, "echo:%s", u->body);   /* shows the body arrived whole */
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode t)
{
    (void)cls, (void)c, (void)t;
    free(*con_cls);
    *con_cls = NULL;
}

static int setup(void **state)
{
    (void)state;
    struct sockaddr_in sa = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    srv = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, answer,
                           NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED, completed,
                           NULL, MHD_OPTION_END);
    if (!srv)
        return -1;
    port = MHD_get_daemon_info(srv, MHD_DAEMON_INFO_BIND_PORT)->port;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    MHD_stop_daemon(srv);
    return 0;
}

struct got {
    int calls;
    struct httpc_result r;
    char body[320];
    int order;
};

static int finished;

static void done(void *arg, const struct httpc_result *r)
{
    struct got *g = arg;
    g->calls++;
    g->r = *r;
    snprintf(g->body, sizeof g->body, "%s", r->body);
    g->r.body = g->body;
    g->order = ++finished;
}

static void url(char *out, size_t cap, const char *path)
{
    snprintf(out, cap, "http://127.0.0.1:%u%s", port, path);
}

static void run_until(struct ev_loop *loop, struct httpc *h)
{
    for (int i = 0; i < 1000 && httpc_running(h); i++)
        ev_run(loop, EVRUN_ONCE);
}

static void test_answer_and_status(void **state)
{
    (void)state;
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    char err[160], u1[64], u2[64];
    struct httpc *h = httpc_new(loop, err, sizeof err);
    assert_non_null(h);
    struct got a = {0}, b = {0};
    url(u1, sizeof u1, "/ok");
    url(u2, sizeof u2, "/err");
    assert_int_equal(httpc_post_json(h, u1, "{\"action\":\"auth\"}", 2000, done, &a, err, sizeof err), 0);
    assert_int_equal(httpc_post_json(h, u2, "{}", 2000, done, &b, err, sizeof err), 0);
    assert_int_equal(a.calls, 0);   /* never from inside the call */
    run_until(loop, h);
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.r.outcome, HTTPC_OK);
    assert_int_equal(a.r.status, 200);
    assert_string_equal(a.body, "echo:{\"action\":\"auth\"}");
    assert_int_equal(b.r.outcome, HTTPC_OK);
    assert_int_equal(b.r.status, 503);
    httpc_free(h);
    ev_loop_destroy(loop);
}

static void test_timeout_does_not_block(void **state)
{
    (void)state;
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    char err[160], u1[64], u2[64];
    struct httpc *h = httpc_new(loop, err, sizeof err);
    struct got slow = {0}, quick = {0};
    finished = 0;
    url(u1, sizeof u1, "/slow");
    url(u2, sizeof u2, "/ok");
    assert_int_equal(httpc_post_json(h, u1, "{}", 300, done, &slow, err, sizeof err), 0);
    assert_int_equal(httpc_post_json(h, u2, "{}", 2000, done, &quick, err, sizeof err), 0);
    run_until(loop, h);
    assert_int_equal(slow.calls, 1);
    assert_int_equal(slow.r.outcome, HTTPC_TIMEOUT);
    assert_true(slow.r.elapsed_us >= 250000 && slow.r.elapsed_us < 1200000);
    assert_non_null(strstr(slow.r.err, "timed out"));
    assert_int_equal(quick.r.outcome, HTTPC_OK);
    assert_int_equal(quick.order, 1);   /* the slow one held nothing up */
    httpc_free(h);
    ev_loop_destroy(loop);
}

static void test_refused_and_cancelled(void **state)
{
    (void)state;
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    char err[160], u1[64];
    struct httpc *h = httpc_new(loop, err, sizeof err);
    struct got a = {0}, b = {0};
    /* port 1 on loopback: nothing listens there */
    assert_int_equal(httpc_post_json(h, "http://127.0.0.1:1/", "{}", 2000, done, &a, err, sizeof err), 0);
    run_until(loop, h);
    assert_int_equal(a.r.outcome, HTTPC_ERROR);
    assert_true(a.r.err[0] != '\0');
    url(u1, sizeof u1, "/slow");
    assert_int_equal(httpc_post_json(h, u1, "{}", 5000, done, &b, err, sizeof err), 0);
    ev_run(loop, EVRUN_NOWAIT);
    httpc_free(h);
    assert_int_equal(b.calls, 1);
    assert_int_equal(b.r.outcome, HTTPC_CANCELLED);
    ev_loop_destroy(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_answer_and_status),
        cmocka_unit_test(test_timeout_does_not_block),
        cmocka_unit_test(test_refused_and_cancelled),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
