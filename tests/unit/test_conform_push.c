/* The conformance runner's push steps run (harness/conform_push.c): a case's
 * callback receiver fed by libcurl, as a platform's push service would feed it:
 * expect_push passes on the push that matches and logs the others it skips,
 * fails when none matches in time; expect_no_push fails on the one that matches
 * (at once, not at the end of its time); receiver_plan changes the answers;
 * ${receiver_url} is the receiver's; a receiver that cannot listen is the
 * harness's ERROR. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "harness/conform.h"

static const char *suite_json = "{\"name\": \"p\", \"protocol\": \"jt808\"}";

#define MAX_BODIES 8

struct feeder {
    uint16_t port;
    const char *probe;          /* posted until answered probe_status (the plan in effect) */
    long probe_status;
    const char *bodies[MAX_BODIES];
    long status[MAX_BODIES];    /* what each was answered (0: no answer) */
    int n_probes;
};

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t sink(char *p, size_t sz, size_t n, void *arg)
{
    (void)p, (void)arg;
    return sz * n;
}

/* POST body to the receiver, again while nothing listens yet (at most 5 s): its status. */
static long post(uint16_t port, const char *body)
{
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/push", port);
    double until = mono_s() + 5.0;
    for (;;) {
        CURL *c = curl_easy_init();
        long status = 0;
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
        CURLcode cc = curl_easy_perform(c);
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_cleanup(c);
        if (cc != CURLE_COULDNT_CONNECT || mono_s() > until)
            return cc == CURLE_OK ? status : 0;
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static void *feed_main(void *arg)
{
    struct feeder *f = arg;
    if (f->probe) {
        double until = mono_s() + 5.0;
        while (post(f->port, f->probe) != f->probe_status && mono_s() < until)
            f->n_probes++;
    }
    for (int i = 0; i < MAX_BODIES && f->bodies[i]; i++)
        f->status[i] = post(f->port, f->bodies[i]);
    return NULL;
}

static uint16_t free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t l = sizeof sa;
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &l), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

/* The case's steps (a JSON array) run while f feeds its receiver: the result. */
static struct case_result run(const char *steps, struct feeder *f)
{
    char text[4096], err[2048];
    snprintf(text, sizeof text,
             "{\"id\": \"P-1\", \"ref\": \"004 5\", \"objective\": \"o\", \"level\": \"MUST\", \"steps\": %s}", steps);
    struct conform_suite s;
    if (conform_suite_parse(suite_json, "p.json", text, &s, err, sizeof err) != 0)
        fail_msg("%s", err);
    struct conform_target t;
    memset(&t, 0, sizeof t);
    snprintf(t.host, sizeof t.host, "127.0.0.1");
    t.port = 1;
    t.listen_fd = -1;
    t.receiver_port = f->port;
    struct case_result out;
    conform_case_result_init(&s, &s.cases[0], &out);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, feed_main, f), 0);
    conform_exchange_run(&s, &s.cases[0], &t, &out);
    pthread_join(th, NULL);
    conform_suite_free(&s);
    return out;
}

static void has(const char *text, const char *want)
{
    if (!text || strstr(text, want) == NULL)
        fail_msg("missing \"%s\" in:\n%s", want, text ? text : "(null)");
}

static void test_expect_push_passes(void **state)
{
    (void)state;
    struct feeder f = {.port = free_port(), .probe = "{\"notifyType\":\"probe\"}", .probe_status = 503,
                       .bodies = {"{\"notifyType\":\"deviceAdded\",\"deviceId\":\"d1\"}", "not json",
                                  "{\"notifyType\":\"deviceDataChanged\",\"deviceId\":\"d2\",\"service\":{\"data\":{\"v\":2}}}",
                                  "{\"notifyType\":\"deviceDataChanged\",\"deviceId\":\"d1\",\"service\":{\"data\":{\"v\":2}}}",
                                  "{\"notifyType\":\"deviceInfoChanged\"}"}};
    char steps[1024];
    snprintf(steps, sizeof steps,
             "[{\"receiver_plan\": \"503x1,202\"},"
             " {\"expect_push\": {\"notifyType\": \"deviceDataChanged\", \"match\": {\"deviceId\": \"d1\","
             "   \"service.data.v\": [\"1\", \"2\"]}}, \"within\": \"10s\"},"
             " {\"bind\": {\"dev\": \"deviceId\"}}, {\"verify\": \"${dev} == d1\"},"
             " {\"verify\": \"${receiver_url} == http://127.0.0.1:%u\"},"
             " {\"expect_no_push\": {\"notifyType\": \"deviceDeleted\"}, \"within\": \"1s\"}]",
             f.port);
    struct case_result out = run(steps, &f);
    if (out.verdict != VERDICT_PASS)
        fail_msg("%s / %s\n%s", out.expected, out.observed, out.wire_log);
    /* the plan took effect once (the probe answered 503), then 202 from then on */
    for (int i = 0; i < 5; i++)
        assert_int_equal(f.status[i], 202);
    has(out.wire_log, "receiver plan 503x1,202");
    has(out.wire_log, "answered 503");
    has(out.wire_log, "deviceAdded");
    has(out.wire_log, "skipped: notifyType deviceDataChanged, got deviceAdded");
    has(out.wire_log, "(not JSON): not json");
    has(out.wire_log, "skipped: deviceId d1, got d2");
    has(out.wire_log, "receiver: ");
    free(out.wire_log);
}

static void test_expect_push_fails(void **state)
{
    (void)state;
    struct feeder f = {.port = free_port(), .bodies = {"{\"notifyType\":\"deviceAdded\",\"deviceId\":\"d1\"}"}};
    struct case_result out = run("[{\"expect_push\": {\"notifyType\": \"deviceDeleted\"}, \"within\": \"2s\"}]", &f);
    assert_int_equal(out.verdict, VERDICT_FAIL);
    has(out.expected, "steps[0]: a push with {\"notifyType\":\"deviceDeleted\"} within 2000ms");
    has(out.observed, "only pushes that do not match, the first: notifyType deviceDeleted, got deviceAdded");
    assert_int_equal(f.status[0], 200);
    free(out.wire_log);
    /* nothing at all */
    struct feeder none = {.port = free_port()};
    out = run("[{\"expect_push\": {}, \"within\": \"1s\"}]", &none);
    assert_int_equal(out.verdict, VERDICT_FAIL);
    assert_string_equal(out.observed, "no push");
    free(out.wire_log);
}

static void test_expect_no_push(void **state)
{
    (void)state;
    struct feeder f = {.port = free_port(),
                       .bodies = {"{\"notifyType\":\"deviceDeleted\",\"deviceId\":\"d1\"}",
                                  "{\"notifyType\":\"deviceDeleted\",\"deviceId\":\"d9\"}"}};
    double t0 = mono_s();
    struct case_result out = run("[{\"expect_no_push\": {\"notifyType\": \"deviceDeleted\", \"match\": "
                                 "{\"deviceId\": \"d9\"}}, \"within\": \"5s\"}, {\"wait\": \"5s\"}]",
                                 &f);
    assert_int_equal(out.verdict, VERDICT_FAIL);
    assert_true(mono_s() - t0 < 4.0);   /* at the push, not at the end of its time */
    has(out.observed, "push 2 matches");
    has(out.wire_log, "skipped: deviceId d9, got d1");
    free(out.wire_log);
    /* a receiver nobody pushes to: holds; and a push after the last step is still logged */
    struct feeder quiet = {.port = free_port()};
    out = run("[{\"expect_no_push\": {}, \"within\": \"1s\"}]", &quiet);
    if (out.verdict != VERDICT_PASS)
        fail_msg("%s / %s", out.expected, out.observed);
    free(out.wire_log);
}

static void test_after_the_last_step(void **state)
{
    (void)state;
    /* a drop plan: the platform gets no answer; the push is evidence all the same */
    struct feeder f = {.port = free_port(), .probe = "{\"notifyType\":\"probe\"}", .probe_status = 0,
                       .bodies = {NULL}};
    struct case_result out = run("[{\"receiver_plan\": \"drop\"}, {\"wait\": \"1s\"}]", &f);
    if (out.verdict != VERDICT_PASS)
        fail_msg("%s / %s", out.expected, out.observed);
    has(out.wire_log, "answered 0");
    has(out.wire_log, "(after the last step that looked)");
    has(out.wire_log, "dropped x1");
    free(out.wire_log);
}

static void test_cannot_listen(void **state)
{
    (void)state;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t l = sizeof sa;
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(fd, 1), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &l), 0);
    struct feeder f = {.port = ntohs(sa.sin_port)};
    struct case_result out = run("[{\"expect_push\": {}}]", &f);
    close(fd);
    assert_int_equal(out.verdict, VERDICT_ERROR);
    has(out.expected, "the case's callback receiver listening");
    has(out.observed, "cannot listen on 127.0.0.1:");
    free(out.wire_log);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expect_push_passes), cmocka_unit_test(test_expect_push_fails),
        cmocka_unit_test(test_expect_no_push),     cmocka_unit_test(test_after_the_last_step),
        cmocka_unit_test(test_cannot_listen),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
