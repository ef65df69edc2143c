/* The exchange interpreter against a scripted peer on loopback (a forked
 * process): a right answer passes; a wrong answer, none, a dropped connection
 * or a frame that does not decode FAIL with expected, observed and the frames;
 * a harness fault is ERROR; a need the target lacks is INCONCLUSIVE. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness/conform.h"
#include "sim/proto/jt808.h"
#include "sim/proto/jt808_json.h"

enum peer_mode {
    PEER_RIGHT,          /* answers as the standard says */
    PEER_WRONG_RESULT,   /* registration result 2, heartbeats result 1 */
    PEER_SILENT_HB,      /* no answer to a heartbeat */
    PEER_CLOSE,          /* closes after the first frame */
    PEER_GARBLED,        /* answers with a frame whose check byte is wrong */
};

#define AUTH "abc123"

static void peer_send(int fd, uint16_t id, const struct jt808_msg *req, uint8_t result)
{
    struct jt808_msg m;
    memset(&m, 0, sizeof m);
    m.h = req->h;
    m.h.msg_id = id;
    m.h.serial = 77;
    m.h.subpackage = false;
    if (id == 0x8100) {
        m.b.reg_resp.ack_serial = req->h.serial;
        m.b.reg_resp.result = result;
        if (result == 0)
            snprintf(m.b.reg_resp.auth_code, sizeof m.b.reg_resp.auth_code, AUTH);
    } else {
        m.b.gen_resp.ack_serial = req->h.serial;
        m.b.gen_resp.ack_id = req->h.msg_id;
        m.b.gen_resp.result = result;
    }
    uint8_t f[JT808_MAX_FRAME];
    size_t n = 0;
    struct jt808_err e;
    if (jt808_encode(&m, f, sizeof f, &n, &e) != JT808_OK)
        _exit(9);
    if (n > 3 && result == 99) {
        f[n - 2] ^= 0x01; /* the check byte (never 0x7D/0x7E here: the frame is not escaped there) */
        f[n - 2] = f[n - 2] == 0x7E || f[n - 2] == 0x7D ? 0x11 : f[n - 2];
    }
    if (write(fd, f, n) != (ssize_t)n)
        _exit(8);
}

static void peer_emit(const uint8_t *frame, size_t len, void *arg)
{
    if (write(*(int *)arg, frame, len) != (ssize_t)len)
        _exit(8);
}

/* A multimedia upload 0x0801 of its own, in 2 packages: media id 4242 and 1500
 * bytes of data when good, else a body of 10 bytes that no 0x0801 is. */
static void peer_packages(int fd, const struct jt808_msg *req, bool good)
{
    static uint8_t body[1600];
    size_t n = good ? 36 + 1500 : 10;
    memset(body, 0, sizeof body);
    body[2] = 0x10, body[3] = 0x92, body[7] = 1; /* media id 4242, image, JPEG, event 0, channel 1 */
    memset(body + 36, 0x5A, 1500);
    struct jt808_header h = req->h;
    h.msg_id = 0x0801;
    if (jt808_split(&h, 300, body, n, good ? 1000 : 6, peer_emit, &fd) != JT808_OK)
        _exit(9);
}

static void peer_main(int lfd, enum peer_mode mode)
{
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0)
        _exit(7);
    uint8_t buf[8192], scratch[JT808_MAX_FRAME];
    size_t n = 0;
    int frames = 0;
    for (;;) {
        ssize_t got = read(fd, buf + n, sizeof buf - n);
        if (got <= 0)
            _exit(0);
        n += (size_t)got;
        size_t start, len, skipped, used;
        while ((used = jt808_frame_find(buf, n, &start, &len, &skipped)) > 0) {
            struct jt808_msg m;
            struct jt808_err e;
            memset(&m, 0, sizeof m);
            enum jt808_rc rc = jt808_decode(buf + start, len, scratch, sizeof scratch, &m, &e);
            frames++;
            if (mode == PEER_CLOSE)
                _exit(0);
            if (rc != JT808_OK) {
                peer_send(fd, 0x8001, &m, 2);
            } else if (m.h.msg_id == 0x0100) {
                peer_send(fd, 0x8100, &m, mode == PEER_WRONG_RESULT ? 2 : 0);
            } else if (m.h.msg_id == 0x0102) {
                peer_send(fd, 0x8001, &m, strcmp(m.b.auth.auth_code, AUTH) == 0 ? 0 : 1);
            } else if (m.h.msg_id == 0x0002) {
                if (mode == PEER_SILENT_HB)
                    ;
                else if (mode == PEER_GARBLED)
                    peer_send(fd, 0x8001, &m, 99);
                else
                    peer_send(fd, 0x8001, &m, mode == PEER_WRONG_RESULT ? 1 : 0);
            } else if (m.h.msg_id == 0x0801 || m.h.msg_id == 0x0900) {
                peer_packages(fd, &m, m.h.msg_id == 0x0801);
            } else {
                peer_send(fd, 0x8001, &m, 0);
            }
            jt808_msg_free(&m);
            memmove(buf, buf + used, n - used);
            n -= used;
        }
    }
}

struct peer {
    pid_t pid;
    uint16_t port;
};

static struct peer peer_start(enum peer_mode mode)
{
    struct peer p = {0};
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    assert_true(lfd >= 0);
    assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(lfd, 4), 0);
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&a, &l), 0);
    p.port = ntohs(a.sin_port);
    p.pid = fork();
    assert_true(p.pid >= 0);
    if (p.pid == 0) {
        alarm(20); /* a peer nobody talks to does not outlive the test */
        peer_main(lfd, mode);
        _exit(0);
    }
    close(lfd);
    return p;
}

static void peer_stop(struct peer *p)
{
    kill(p->pid, SIGTERM);
    waitpid(p->pid, NULL, 0);
}

static const char *suite_json = "{\"name\": \"t\", \"protocol\": \"jt808\", \"defaults\": {\"phone\": \"0139555#####\"}}";

/* The script every peer mode is judged by: register, bind, authenticate, heartbeat. */
static const char *case_json =
    "{\"id\": \"T-1\", \"ref\": \"JT/T 808-2013 8.3\", \"objective\": \"heartbeat acknowledged\", \"level\": \"MUST\","
    " \"steps\": ["
    "  {\"send\": {\"msg_id\": \"0x0100\", \"body\": {\"layout\": \"2013\", \"province\": 1, \"city\": 2,"
    "            \"manufacturer\": \"FLTSM\", \"model\": \"M1\", \"terminal_id\": \"${device_id}\", \"plate_color\": 0,"
    "            \"plate\": \"\"}}},"
    "  {\"expect\": {\"msg_id\": \"0x8100\", \"match\": {\"body.ack_serial\": \"${serial}\", \"body.result\": 0}}},"
    "  {\"bind\": {\"code\": \"body.auth_code\"}},"
    "  {\"verify\": \"${code} == " AUTH "\"},"
    "  {\"send\": {\"msg_id\": \"0x0102\", \"body\": {\"auth_code\": \"${code}\"}}},"
    "  {\"expect\": {\"msg_id\": \"0x8001\", \"match\": {\"body.ack_id\": \"0x0102\", \"body.result\": 0}}},"
    "  {\"send\": {\"msg_id\": \"0x0002\"}},"
    "  {\"expect\": {\"msg_id\": \"0x8001\", \"match\": {\"body.ack_serial\": \"${serial}\", \"body.ack_id\": \"0x0002\","
    "              \"body.result\": 0}}, \"within\": \"400ms\"}"
    "]}";

static void run_case(const char *cj, enum peer_mode mode, struct case_result *r, bool no_peer)
{
    struct conform_suite s;
    char err[2048];
    if (conform_suite_parse(suite_json, "c.json", cj, &s, err, sizeof err) != 0)
        fail_msg("%s", err);
    struct peer p = {0};
    struct conform_target t = {.host = "127.0.0.1"};
    if (!no_peer) {
        p = peer_start(mode);
        t.port = p.port;
    } else {
        t.port = 1; /* nothing listens there */
    }
    conform_case_result_init(&s, &s.cases[0], r);
    conform_exchange_run(&s, &s.cases[0], &t, r);
    if (!no_peer)
        peer_stop(&p);
    conform_suite_free(&s);
}

static void has(const char *text, const char *want)
{
    if (text == NULL || strstr(text, want) == NULL)
        fail_msg("missing \"%s\" in:\n%s", want, text ? text : "(null)");
}

static void test_right_answers_pass(void **state)
{
    (void)state;
    struct case_result r;
    run_case(case_json, PEER_RIGHT, &r, false);
    if (r.verdict != VERDICT_PASS)
        fail_msg("%s: expected %s; observed %s\n%s", verdict_name(r.verdict), r.expected, r.observed, r.wire_log);
    assert_string_equal(r.area, "t.8.3");
    /* every frame in the log: direction, hex and decoding */
    has(r.wire_log, "c0 > 7E0100");
    has(r.wire_log, "c0 < 7E8100");
    has(r.wire_log, "\"auth_code\":\"" AUTH "\"");
    has(r.wire_log, "bind code = " AUTH);
    has(r.wire_log, "c0 > 7E00020000013955500000");
    assert_true(r.duration_s > 0);
    free(r.wire_log);
}

static void test_wrong_result_fails(void **state)
{
    (void)state;
    struct case_result r;
    run_case(case_json, PEER_WRONG_RESULT, &r, false);
    assert_int_equal(r.verdict, VERDICT_FAIL);
    has(r.expected, "steps[1]: 0x8100");
    has(r.observed, "0x8100 with body.result 0, got 2");
    has(r.wire_log, "c0 < 7E8100");
    has(r.wire_log, "\"result\":2");
    free(r.wire_log);
}

static void test_no_answer_fails(void **state)
{
    (void)state;
    struct case_result r;
    run_case(case_json, PEER_SILENT_HB, &r, false);
    assert_int_equal(r.verdict, VERDICT_FAIL);
    has(r.expected, "steps[7]: 0x8001");
    has(r.expected, "within 400ms");
    assert_string_equal(r.observed, "no frame");
    free(r.wire_log);
}

static void test_dropped_connection_fails(void **state)
{
    (void)state;
    struct case_result r;
    run_case(case_json, PEER_CLOSE, &r, false);
    assert_int_equal(r.verdict, VERDICT_FAIL);
    has(r.observed, "the target closed the connection");
    has(r.wire_log, "closed by the target");
    free(r.wire_log);
}

static void test_undecodable_frame_fails(void **state)
{
    (void)state;
    struct case_result r;
    run_case(case_json, PEER_GARBLED, &r, false);
    assert_int_equal(r.verdict, VERDICT_FAIL);
    has(r.observed, "check");
    has(r.wire_log, "does not decode");
    free(r.wire_log);
}

static void test_harness_faults_are_errors(void **state)
{
    (void)state;
    struct case_result r;
    /* nothing to connect to: not the target's fault */
    run_case(case_json, PEER_RIGHT, &r, true);
    assert_int_equal(r.verdict, VERDICT_ERROR);
    has(r.observed, "connect:");
    free(r.wire_log);
    /* a message the template cannot make (a body field of no 0x0002) */
    run_case("{\"id\": \"T-2\", \"ref\": \"r\", \"objective\": \"o\", \"level\": \"MUST\","
             " \"steps\": [{\"send\": {\"msg_id\": \"0x0200\", \"body\": {\"speeed\": 1}}}]}",
             PEER_RIGHT, &r, false);
    assert_int_equal(r.verdict, VERDICT_ERROR);
    has(r.expected, "a message to send");
    free(r.wire_log);
}

static void test_verify_and_silence(void **state)
{
    (void)state;
    struct case_result r;
    /* the peer answers the heartbeat: silence is broken, and the verdict stays FAIL after */
    run_case("{\"id\": \"T-3\", \"ref\": \"r\", \"objective\": \"o\", \"level\": \"MUST\","
             " \"steps\": [{\"send\": {\"msg_id\": \"0x0002\"}}, {\"expect_silence\": \"300ms\"}]}",
             PEER_RIGHT, &r, false);
    assert_int_equal(r.verdict, VERDICT_FAIL);
    has(r.observed, "0x8001");
    free(r.wire_log);
    run_case("{\"id\": \"T-4\", \"ref\": \"r\", \"objective\": \"o\", \"level\": \"MUST\","
             " \"steps\": [{\"send\": {\"msg_id\": \"0x0002\"}}, {\"expect_silence\": \"200ms\"}]}",
             PEER_SILENT_HB, &r, false);
    assert_int_equal(r.verdict, VERDICT_PASS);
    free(r.wire_log);
    /* verify compares what was bound */
    run_case("{\"id\": \"T-5\", \"ref\": \"r\", \"objective\": \"o\", \"level\": \"MUST\","
             " \"steps\": [{\"send\": {\"msg_id\": \"0x0002\", \"serial\": 9}},"
             "            {\"expect\": {\"msg_id\": \"0x8001\"}}, {\"bind\": {\"s\": \"body.ack_serial\"}},"
             "            {\"verify\": \"${s} != 9\"}]}",
             PEER_RIGHT, &r, false);
    assert_int_equal(r.verdict, VERDICT_FAIL);
    has(r.expected, "${s} != 9");
    has(r.observed, "\"9\" and \"9\"");
    free(r.wire_log);
    /* expect_close: the peer closes after the first frame */
    run_case("{\"id\": \"T-6\", \"ref\": \"r\", \"objective\": \"o\", \"level\": \"MUST\","
             " \"steps\": [{\"send\": {\"msg_id\": \"0x0002\"}}, {\"expect_close\": \"2s\"}]}",
             PEER_CLOSE, &r, false);
    assert_int_equal(r.verdict, VERDICT_PASS);
    free(r.wire_log);
    /* a wire check: the 0x8001 to serial 0x7E7D holds the escaped serial */
    run_case("{\"id\": \"T-7\", \"ref\": \"r\", \"objective\": \"o\", \"level\": \"MUST\","
             " \"steps\": [{\"send\": {\"msg_id\": \"0x0002\", \"serial\": 32381}},"
             "            {\"expect\": {\"msg_id\": \"0x8001\", \"wire_contains\": \"7D027D01\"}}]}",
             PEER_RIGHT, &r, false);
    assert_int_equal(r.verdict, VERDICT_PASS);
    has(r.wire_log, "c0 > 7E000200000139555000007D027D01");
    free(r.wire_log);
    run_case("{\"id\": \"T-8\", \"ref\": \"r\", \"objective\": \"o\", \"level\": \"MUST\","
             " \"steps\": [{\"send\": {\"msg_id\": \"0x0002\", \"serial\": 5}},"
             "            {\"expect\": {\"msg_id\": \"0x8001\", \"wire_contains\": \"7D02\"}}]}",
             PEER_RIGHT, &r, false);
    assert_int_equal(r.verdict, VERDICT_FAIL);
    has(r.observed, "the wire frame holding 7D02");
    free(r.wire_log);
}

#define CASE_HEAD "{\"id\": \"T-N\", \"ref\": \"r\", \"objective\": \"o\", \"level\": \"MUST\", \"steps\": ["

static void run_expect(const char *steps, enum peer_mode mode, enum verdict want, const char *observed)
{
    char cj[2048];
    struct case_result r;
    snprintf(cj, sizeof cj, "%s%s]}", CASE_HEAD, steps);
    run_case(cj, mode, &r, false);
    if (r.verdict != want)
        fail_msg("%s: got %s; expected %s; observed %s\n%s", steps, verdict_name(r.verdict), r.expected, r.observed,
                 r.wire_log);
    if (observed)
        has(r.observed, observed);
    free(r.wire_log);
}

/* expect_none, drain, skip_unmatched, has bit / lacks bit, ${now}. */
static void test_none_drain_skip_bits(void **state)
{
    (void)state;
    /* the heartbeat's answer is an 0x8001: expect_none of 0x8001 fails, naming it */
    run_expect("{\"send\": {\"msg_id\": \"0x0002\"}}, {\"expect_none\": {\"msg_id\": \"0x8001\"}, \"within\": \"300ms\"}",
               PEER_RIGHT, VERDICT_FAIL, "0x8001 serial 77");
    /* ... of other fields, or none at all, it holds */
    run_expect("{\"send\": {\"msg_id\": \"0x0002\"}},"
               " {\"expect_none\": {\"msg_id\": \"0x8001\", \"match\": {\"body.ack_id\": \"0x0200\"}}, \"within\": \"300ms\"}",
               PEER_RIGHT, VERDICT_PASS, NULL);
    run_expect("{\"send\": {\"msg_id\": \"0x0002\"}}, {\"expect_none\": {\"msg_id\": \"0x8001\"}, \"within\": \"300ms\"}",
               PEER_SILENT_HB, VERDICT_PASS, NULL);
    /* drain reads what comes without judging it: the silence after holds */
    run_expect("{\"send\": {\"msg_id\": \"0x0002\"}}, {\"drain\": \"300ms\"}, {\"expect_silence\": \"200ms\"}",
               PEER_RIGHT, VERDICT_PASS, NULL);
    /* two answers: the second awaited past the first only with skip_unmatched */
    const char *two = "{\"send\": {\"msg_id\": \"0x0002\", \"serial\": 5}}, {\"send\": {\"msg_id\": \"0x0002\", \"serial\": 6}},"
                      " {\"expect\": {\"msg_id\": \"0x8001\", \"match\": {\"body.ack_serial\": 6}}, \"within\": \"500ms\"%s}";
    char steps[512];
    snprintf(steps, sizeof steps, two, "");
    run_expect(steps, PEER_RIGHT, VERDICT_FAIL, "0x8001 with body.ack_serial 6, got 5");
    snprintf(steps, sizeof steps, two, ", \"skip_unmatched\": true");
    run_expect(steps, PEER_RIGHT, VERDICT_PASS, NULL);
    /* bits of a bound number: 9 is 0b1001 */
    const char *bits = "{\"send\": {\"msg_id\": \"0x0002\", \"serial\": 9}}, {\"expect\": {\"msg_id\": \"0x8001\"}},"
                       " {\"bind\": {\"s\": \"body.ack_serial\"}}, {\"verify\": \"${s} has bit 0\"},"
                       " {\"verify\": \"${s} has bit 3\"}, {\"verify\": \"${s} lacks bit 1\"}%s";
    snprintf(steps, sizeof steps, bits, "");
    run_expect(steps, PEER_RIGHT, VERDICT_PASS, NULL);
    snprintf(steps, sizeof steps, bits, ", {\"verify\": \"${s} has bit 2\"}");
    run_expect(steps, PEER_RIGHT, VERDICT_FAIL, "9 (0x9), bit 2 clear");
    snprintf(steps, sizeof steps, bits, ", {\"verify\": \"${s} lacks bit 3\"}");
    run_expect(steps, PEER_RIGHT, VERDICT_FAIL, "bit 3 set");
    run_expect("{\"send\": {\"msg_id\": \"0x0002\"}}, {\"expect\": {\"msg_id\": \"0x8001\"}},"
               " {\"bind\": {\"id\": \"body.ack_id\"}}, {\"verify\": \"${id} has bit 1\"}",
               PEER_RIGHT, VERDICT_FAIL, "\"0x0002\" is not a whole number");
    /* ${now}: the runner's UTC time as BCD[6] digits, sent as text (more than a DWORD holds) */
    run_expect("{\"verify\": \"${now} is now within 2s\"}, {\"send\": {\"msg_id\": \"0x8004\", \"body\": {\"time\": \"${now}\"}}},"
               " {\"expect\": {\"msg_id\": \"0x8001\", \"match\": {\"body.ack_id\": \"0x8004\"}}}",
               PEER_RIGHT, VERDICT_PASS, NULL);
}

/* The target's subpackaged message put together: the package that completes it
 * carries it as "whole"; a whole that does not decode fails. */
static void test_reassembled(void **state)
{
    (void)state;
    run_expect("{\"send\": {\"msg_id\": \"0x0801\", \"body_hex\": \"00000001000000010000000000000000"
               "00000000000000000000000000000000000000000000FFD8\"}},"
               " {\"expect\": {\"msg_id\": \"0x0801\", \"match\": {\"subpackage.index\": 1}}}, {\"bind\": {\"t\": \"subpackage.total\"}},"
               " {\"expect\": {\"msg_id\": \"0x0801\", \"match\": {\"subpackage.index\": \"${t}\"}}},"
               " {\"bind\": {\"m\": \"whole.body.media_id\", \"c\": \"whole.body.channel\"}},"
               " {\"verify\": \"${m} == 4242\"}, {\"verify\": \"${c} == 1\"}, {\"verify\": \"${t} == 2\"}",
               PEER_RIGHT, VERDICT_PASS, NULL);
    /* package 1 alone has no whole */
    run_expect("{\"send\": {\"msg_id\": \"0x0801\", \"body_hex\": \"00000001000000010000000000000000"
               "00000000000000000000000000000000000000000000FFD8\"}},"
               " {\"expect\": {\"msg_id\": \"0x0801\", \"match\": {\"subpackage.index\": 1}}},"
               " {\"bind\": {\"m\": \"whole.body.media_id\"}}",
               PEER_RIGHT, VERDICT_FAIL, "absent from the message");
    run_expect("{\"send\": {\"msg_id\": \"0x0900\", \"body\": {\"type\": 65, \"data\": \"AA\"}}},"
               " {\"expect\": {\"msg_id\": \"0x0801\", \"match\": {\"subpackage.index\": 2}}, \"skip_unmatched\": true}",
               PEER_RIGHT, VERDICT_FAIL, "at body byte");
}

static void test_unmet_need_is_inconclusive(void **state)
{
    (void)state;
    struct conform_suite s;
    char err[1024];
    assert_int_equal(conform_suite_parse(suite_json, "c.json",
                                         "{\"id\": \"T-9\", \"ref\": \"r\", \"objective\": \"o\", \"level\": \"MUST\","
                                         " \"needs\": [\"northbound-api\"], \"steps\": [{\"connect\": true}]}",
                                         &s, err, sizeof err), 0);
    static const char *const caps[] = {"embedded", "commands"};
    struct conform_target t = {.host = "127.0.0.1", .port = 1, .caps = caps, .n_caps = 2};
    struct case_result r;
    conform_case_result_init(&s, &s.cases[0], &r);
    assert_true(conform_case_unmet(&s.cases[0], &t, &r));
    assert_int_equal(r.verdict, VERDICT_INCONCLUSIVE);
    has(r.observed, "the target lacks northbound-api");
    static const char *const more[] = {"northbound-api"};
    t.caps = more;
    t.n_caps = 1;
    conform_case_result_init(&s, &s.cases[0], &r);
    assert_false(conform_case_unmet(&s.cases[0], &t, &r));
    assert_int_equal(r.verdict, VERDICT_PASS);
    conform_suite_free(&s);
}

/* --- --terminal: the interpreter is the platform, a forked device connects ------------- */

/* Send the message JSON j (a template with %u for the serial) from the device. */
static void dev_send(int fd, const char *j)
{
    cJSON *o = cJSON_Parse(j);
    static uint8_t store[4096];
    struct jt808_msg m;
    struct jt808_err e;
    char err[128];
    uint8_t f[JT808_MAX_FRAME];
    size_t n = 0;
    memset(&m, 0, sizeof m);
    if (o == NULL || jt808_from_json(o, &m, store, sizeof store, err, sizeof err) != JT808_OK ||
        jt808_encode(&m, f, sizeof f, &n, &e) != JT808_OK)
        _exit(10);
    jt808_msg_free(&m);
    cJSON_Delete(o);
    if (write(fd, f, n) != (ssize_t)n)
        _exit(11);
}

/* The next frame from the platform, decoded; exits the child when there is none. */
static void dev_recv(int fd, struct jt808_msg *m, uint8_t *buf, size_t *n)
{
    static uint8_t scratch[JT808_MAX_FRAME];
    for (;;) {
        size_t start, len, skipped, used = jt808_frame_find(buf, *n, &start, &len, &skipped);
        if (used > 0) {
            struct jt808_err e;
            memset(m, 0, sizeof *m);
            if (jt808_decode(buf + start, len, scratch, sizeof scratch, m, &e) != JT808_OK)
                _exit(12);
            memmove(buf, buf + used, *n - used);
            *n -= used;
            return;
        }
        ssize_t got = read(fd, buf + *n, 8192 - *n);
        if (got <= 0)
            _exit(0);
        *n += (size_t)got;
    }
}

/* A 2019 device: registers (serial 40), authenticates with the code it was given,
 * or with "WRONG" when wrong; exits 20 when the runner's answer is not addressed to
 * it (its phone, its edition, its serial). */
static void device_main(uint16_t port, bool wrong)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0)
        _exit(13);
    uint8_t buf[8192];
    size_t n = 0;
    struct jt808_msg m;
    dev_send(fd, "{\"msg_id\": \"0x0100\", \"version\": \"2019\", \"phone\": \"00000000013900000063\", \"serial\": 40,"
                 " \"body\": {\"layout\": \"2019\", \"province\": 1, \"city\": 2, \"manufacturer\": \"FLTSMDEV001\","
                 " \"model\": \"M\", \"terminal_id\": \"T63\", \"plate_color\": 0, \"plate\": \"\"}}");
    dev_recv(fd, &m, buf, &n);
    if (m.h.msg_id != 0x8100 || m.h.version != JT808_V2019 || strcmp(m.h.phone, "00000000013900000063") != 0 ||
        m.b.reg_resp.ack_serial != 40)
        _exit(20);
    char j[512];
    snprintf(j, sizeof j, "{\"msg_id\": \"0x0102\", \"version\": \"2019\", \"phone\": \"00000000013900000063\","
             " \"serial\": 41, \"body\": {\"auth_code\": \"%s\", \"imei\": \"861234567890063\", \"sw_version\": \"1\"}}",
             wrong ? "WRONG" : m.b.reg_resp.auth_code);
    jt808_msg_free(&m);
    dev_send(fd, j);
    dev_recv(fd, &m, buf, &n);
    if (m.h.msg_id != 0x8001 || m.b.gen_resp.ack_serial != 41)
        _exit(20);
    jt808_msg_free(&m);
    _exit(0);
}

static const char *terminal_case =
    "{\"id\": \"TT-1\", \"side\": \"terminal\", \"ref\": \"JT/T 808-2013 8.5\", \"objective\": \"o\","
    " \"level\": \"MUST\", \"steps\": ["
    "  {\"expect\": {\"any_of\": [{\"msg_id\": \"0x0100\"}, {\"msg_id\": \"0x0102\"}]}},"
    "  {\"bind\": {\"first\": \"msg_id\"}},"
    "  {\"if\": \"${first} == 0x0102\", \"send\": {\"msg_id\": \"0x8001\", \"body\": {\"ack_serial\": \"${rx_serial}\","
    "   \"ack_id\": \"0x0102\", \"result\": 1}}},"
    "  {\"send\": {\"msg_id\": \"0x8100\", \"body\": {\"ack_serial\": \"${rx_serial}\", \"result\": 0, \"auth_code\": \"K${case_index}\"}}},"
    "  {\"expect\": {\"msg_id\": \"0x0102\", \"match\": {\"body.auth_code\": \"K0\"}}},"
    "  {\"send\": {\"msg_id\": \"0x8001\", \"body\": {\"ack_serial\": \"${rx_serial}\", \"ack_id\": \"0x0102\", \"result\": 0}}}"
    "]}";

static void run_terminal(bool wrong, struct case_result *r, int *dev_status)
{
    struct conform_suite s;
    char err[2048];
    if (conform_suite_parse(suite_json, "t.json", terminal_case, &s, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_true(s.cases[0].terminal);
    struct conform_target t;
    memset(&t, 0, sizeof t);
    assert_int_equal(conform_terminal_listen(NULL, &t, err, sizeof err), 0);
    assert_true(t.terminal && t.port > 0);
    assert_string_equal(t.host, "127.0.0.1");
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(20);
        close(t.listen_fd);
        device_main(t.port, wrong);
    }
    conform_case_result_init(&s, &s.cases[0], r);
    conform_exchange_run(&s, &s.cases[0], &t, r);
    close(t.listen_fd);
    waitpid(pid, dev_status, 0);
    conform_suite_free(&s);
}

static void test_terminal_device_passes(void **state)
{
    (void)state;
    struct case_result r;
    int st = -1;
    run_terminal(false, &r, &st);
    if (r.verdict != VERDICT_PASS)
        fail_msg("%s / %s\n%s", r.expected, r.observed, r.wire_log ? r.wire_log : "");
    /* the runner's answers went to the device's phone and edition, acknowledging its serials */
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    has(r.wire_log, "device connected from 127.0.0.1:");
    has(r.wire_log, "the device: phone 00000000013900000063, edition 2019");
    has(r.wire_log, "skipped: \"0x0100\" == \"0x0102\" does not hold");
    free(r.wire_log);
}

static void test_terminal_wrong_device_fails(void **state)
{
    (void)state;
    struct case_result r;
    int st = -1;
    run_terminal(true, &r, &st);
    assert_int_equal(r.verdict, VERDICT_FAIL);
    has(r.expected, "steps[4]");
    has(r.observed, "body.auth_code K0, got WRONG");
    free(r.wire_log);
}

static void test_terminal_listen_errors(void **state)
{
    (void)state;
    struct conform_target t;
    char err[256];
    memset(&t, 0, sizeof t);
    assert_int_equal(conform_terminal_listen("10.1.2.3:7808", &t, err, sizeof err), -1);
    has(err, "loopback (127.0.0.0/8)");
    assert_int_equal(conform_terminal_listen("127.0.0.1:80", &t, err, sizeof err), -1);
    has(err, "PORT must be 0");
    assert_int_equal(conform_terminal_listen("127.0.0.1", &t, err, sizeof err), -1);
    has(err, "expected HOST:PORT");
    assert_int_equal(conform_terminal_listen("127.0.0.1:7x", &t, err, sizeof err), -1);
    assert_false(t.terminal);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_right_answers_pass),
        cmocka_unit_test(test_wrong_result_fails),
        cmocka_unit_test(test_no_answer_fails),
        cmocka_unit_test(test_dropped_connection_fails),
        cmocka_unit_test(test_undecodable_frame_fails),
        cmocka_unit_test(test_harness_faults_are_errors),
        cmocka_unit_test(test_verify_and_silence),
        cmocka_unit_test(test_none_drain_skip_bits),
        cmocka_unit_test(test_reassembled),
        cmocka_unit_test(test_unmet_need_is_inconclusive),
        cmocka_unit_test(test_terminal_device_passes),
        cmocka_unit_test(test_terminal_wrong_device_fails),
        cmocka_unit_test(test_terminal_listen_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
