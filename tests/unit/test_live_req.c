/* Requests on the live statistics socket (harness/live_req.c): every op read
 * with its members; every bad request an error that says what and where, with
 * the id echoed as far as it was read; replies byte for byte; the resize plan,
 * clamped at 0 and at the fleet's max, and split over shards exactly as the
 * fleet is (index i runs on shard i % shards). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/live_req.h"
#include "harness/report_read.h"

#include <cmocka.h>

static struct live_req req;
static char err[512];

static int parse(const char *line)
{
    err[0] = 0;
    return live_req_parse(line, strlen(line), &req, err, sizeof err);
}

/* A line that parses; the error buffer untouched. */
#define PARSES(line)                                                                                               \
    do {                                                                                                           \
        int rc_ = parse(line);                                                                                     \
        if (rc_ != 0)                                                                                              \
            fail_msg("%s: %s", line, err);                                                                         \
    } while (0)

/* A line refused, its message holding every one of the words, the id echoed as given. */
static void refused(const char *line, size_t len, const char *id, const char *w1, const char *w2, const char *w3)
{
    err[0] = 0;
    int rc = live_req_parse(line, len, &req, err, sizeof err);
    if (rc != -1)
        fail_msg("accepted: %.*s", (int)len, line);
    const char *w[3] = {w1, w2, w3};
    for (int i = 0; i < 3; i++)
        if (w[i] && !strstr(err, w[i]))
            fail_msg("%.*s\n  error \"%s\"\n  lacks \"%s\"", (int)len, line, err, w[i]);
    if (strcmp(req.id, id) != 0)
        fail_msg("%.*s: id echoed \"%s\", want \"%s\" (error %s)", (int)len, line, req.id, id, err);
}

static void bad(const char *line, const char *id, const char *w1, const char *w2, const char *w3)
{
    refused(line, strlen(line), id, w1, w2, w3);
}

static void test_ops(void **state)
{
    PARSES("{\"id\": 1, \"op\": \"pause\"}");
    assert_int_equal(req.op, LIVE_OP_PAUSE);
    assert_string_equal(req.id, "1");
    assert_false(req.has_fleet);

    PARSES("{\"op\": \"pause\", \"id\": \"p-1\", \"fleet\": \"f\"}");
    assert_int_equal(req.op, LIVE_OP_PAUSE);
    assert_string_equal(req.id, "\"p-1\"");
    assert_true(req.has_fleet);
    assert_string_equal(req.fleet, "f");

    PARSES("{\"id\": 2, \"op\": \"resume\"}");
    assert_int_equal(req.op, LIVE_OP_RESUME);
    assert_false(req.has_fleet);
    PARSES("{\"id\": 2.5, \"op\": \"resume\", \"fleet\": \"trucks\"}");
    assert_int_equal(req.op, LIVE_OP_RESUME);
    assert_string_equal(req.id, "2.5");
    assert_string_equal(req.fleet, "trucks");

    PARSES("{\"id\": 3, \"op\": \"disconnect\", \"fleet\": \"f\", \"fraction\": 0.1}");
    assert_int_equal(req.op, LIVE_OP_DISCONNECT);
    assert_string_equal(req.fleet, "f");
    assert_true(req.fraction == 0.1);
    PARSES("{\"id\": 3, \"op\": \"disconnect\", \"fleet\": \"f\", \"fraction\": 1}");
    assert_true(req.fraction == 1.0);
    PARSES("{\"id\": 3, \"op\": \"disconnect\", \"fleet\": \"f\", \"fraction\": 1e-9}");
    assert_true(req.fraction == 1e-9);

    PARSES("{\"id\": 4, \"op\": \"resize\", \"fleet\": \"f\", \"delta\": 10}");
    assert_int_equal(req.op, LIVE_OP_RESIZE);
    assert_string_equal(req.fleet, "f");
    assert_int_equal(req.delta, 10);
    PARSES("{\"id\": 4, \"op\": \"resize\", \"fleet\": \"f\", \"delta\": -7}");
    assert_int_equal(req.delta, -7);
    PARSES("{\"id\": 4, \"op\": \"resize\", \"fleet\": \"f\", \"delta\": 100000000}");
    assert_int_equal(req.delta, LIVE_DELTA_MAX);
    PARSES("{\"id\": 4, \"op\": \"resize\", \"fleet\": \"f\", \"delta\": -100000000}");
    assert_int_equal(req.delta, -LIVE_DELTA_MAX);
    PARSES("{\"id\": 4, \"op\": \"resize\", \"fleet\": \"f\", \"delta\": 2e1}");
    assert_int_equal(req.delta, 20);

    PARSES("{\"id\": 5, \"op\": \"inspect\", \"terminal\": \"013800000001\"}");
    assert_int_equal(req.op, LIVE_OP_INSPECT);
    assert_true(req.has_terminal);
    assert_string_equal(req.terminal, "013800000001");
    assert_false(req.has_fleet);
    assert_false(req.has_index);
    PARSES("{\"id\": 6, \"op\": \"inspect\", \"fleet\": \"f\", \"index\": 0}");
    assert_false(req.has_terminal);
    assert_true(req.has_fleet);
    assert_true(req.has_index);
    assert_int_equal(req.index, 0);
    PARSES("{\"id\": 6, \"op\": \"inspect\", \"fleet\": \"f\", \"index\": 4294967295}");
    assert_int_equal(req.index, 4294967295u);

    /* whitespace around and inside, and a \r before the newline, are JSON's */
    PARSES("  {\"id\":7,\"op\":\"pause\"} \r");
    assert_string_equal(req.id, "7");

    /* an id as the reply must echo it: JSON text, strings escaped */
    PARSES("{\"id\": \"a\\\"b\\\\c\", \"op\": \"pause\"}");
    assert_string_equal(req.id, "\"a\\\"b\\\\c\"");
    PARSES("{\"id\": -0, \"op\": \"pause\"}");
    assert_string_equal(req.id, "-0");

    /* members a fleet id or a terminal id as long as they may be */
    char line[512], id47[48];
    memset(id47, 'x', 47);
    id47[47] = 0;
    snprintf(line, sizeof line, "{\"id\":1,\"op\":\"pause\",\"fleet\":\"%s\"}", id47);
    PARSES(line);
    assert_string_equal(req.fleet, id47);
    snprintf(line, sizeof line, "{\"id\":1,\"op\":\"inspect\",\"terminal\":\"%s\"}", id47);
    PARSES(line);
    assert_string_equal(req.terminal, id47);

    assert_string_equal(live_op_name(LIVE_OP_PAUSE), "pause");
    assert_string_equal(live_op_name(LIVE_OP_INSPECT), "inspect");
    assert_string_equal(live_op_name(LIVE_OP__COUNT), "?");
    assert_string_equal(live_op_list(), "pause, resume, disconnect, resize, inspect");
}

static void test_bad_requests(void **state)
{
    /* not JSON: where it broke, line and column */
    bad("", "null", "request:1:1", "JSON syntax error", "end of input");
    bad("{\"id\": 1, \"op\": \"pause\"", "null", "request:1:", "JSON syntax error", NULL);
    bad("{\"id\": 1, \"op\": pause}", "null", "request:1:17", "JSON syntax error", NULL);
    bad("{\"id\": 1, \"op\": \"pause\"} {}", "null", "request:1:", "JSON syntax error", NULL);
    bad("pause", "null", "request:1:1", "JSON syntax error", NULL);

    /* not an object */
    bad("[1, 2]", "null", "not a JSON object", NULL, NULL);
    bad("\"pause\"", "null", "not a JSON object", NULL, NULL);
    bad("7", "null", "not a JSON object", NULL, NULL);
    bad("null", "null", "not a JSON object", NULL, NULL);

    /* the id */
    bad("{\"op\": \"pause\"}", "null", "member \"id\": missing", NULL, NULL);
    bad("{\"id\": null, \"op\": \"pause\"}", "null", "member \"id\"", "a number or a string", NULL);
    bad("{\"id\": [1], \"op\": \"pause\"}", "null", "member \"id\"", "a number or a string", NULL);
    bad("{\"id\": true, \"op\": \"pause\"}", "null", "member \"id\"", "a number or a string", NULL);
    bad("{\"id\": {}, \"op\": \"pause\"}", "null", "member \"id\"", "a number or a string", NULL);
    char line[8192], s[8192];
    /* LIVE_ID_MAX - 1 bytes of JSON fit, LIVE_ID_MAX do not */
    memset(s, 'i', LIVE_ID_MAX - 3);
    s[LIVE_ID_MAX - 3] = 0;
    snprintf(line, sizeof line, "{\"id\": \"%s\", \"op\": \"pause\"}", s);
    PARSES(line);
    assert_int_equal(strlen(req.id), LIVE_ID_MAX - 1);
    memset(s, 'i', LIVE_ID_MAX - 2);
    s[LIVE_ID_MAX - 2] = 0;
    snprintf(line, sizeof line, "{\"id\": \"%s\", \"op\": \"pause\"}", s);
    bad(line, "null", "member \"id\"", "at most 79 bytes", NULL);
    /* a long number prints short: it fits */
    PARSES("{\"id\": 1234567890123456789012345678901234567890123456789012345678901234567890123456789012345, "
           "\"op\": \"pause\"}");
    assert_string_equal(req.id, "1.2345678901234567e+84");

    /* the op, the id read before it echoed */
    bad("{\"id\": 9}", "9", "member \"op\": missing", "ops: pause, resume, disconnect, resize, inspect", NULL);
    bad("{\"id\": 9, \"op\": 1}", "9", "member \"op\": a string", "ops: pause", NULL);
    bad("{\"id\": \"x\", \"op\": null}", "\"x\"", "member \"op\": a string", NULL, NULL);
    bad("{\"id\": 9, \"op\": \"frobnicate\"}", "9", "op \"frobnicate\": unknown", "ops: pause, resume", NULL);
    bad("{\"id\": 9, \"op\": \"Pause\"}", "9", "op \"Pause\": unknown", NULL, NULL);
    bad("{\"id\": 9, \"op\": \"\"}", "9", "op \"\": unknown", NULL, NULL);
    /* a long unknown op is shown cut */
    memset(s, 'o', 300);
    s[300] = 0;
    snprintf(line, sizeof line, "{\"id\": 9, \"op\": \"%s\"}", s);
    bad(line, "9", "unknown", "ooo...\"", NULL);
    assert_true(strlen(err) < 200);

    /* a long name is cut at a character, never inside one: the reply stays UTF-8 */
    char u8[256] = "a";
    for (int i = 0; i < 30; i++)
        strcat(u8, "\xc3\xa9");
    snprintf(line, sizeof line, "{\"id\": 9, \"op\": \"%s\"}", u8);
    bad(line, "9", "unknown", "...\"", NULL);
    assert_true(report_json_utf8(err, strlen(err)));
    assert_non_null(strstr(err, "op \"a\xc3\xa9\xc3\xa9"));
    snprintf(line, sizeof line, "{\"id\": 9, \"op\": \"pause\", \"%s\": 1}", u8);
    bad(line, "9", "unknown", "...\"", NULL);
    assert_true(report_json_utf8(err, strlen(err)));
    strcpy(u8, "ab");
    for (int i = 0; i < 30; i++)
        strcat(u8, "\xe2\x82\xac"); /* 3 bytes each */
    snprintf(line, sizeof line, "{\"id\": 9, \"op\": \"%s\"}", u8);
    bad(line, "9", "unknown", NULL, NULL);
    assert_true(report_json_utf8(err, strlen(err)));
    assert_non_null(strstr(err, "\xe2\x82\xac...\": unknown"));

    /* unknown members, named with what the op takes */
    bad("{\"id\": 9, \"op\": \"pause\", \"fraction\": 0.5}", "9", "op \"pause\": member \"fraction\": unknown",
        "it takes: fleet)", NULL);
    bad("{\"id\": 9, \"op\": \"resize\", \"fleet\": \"f\", \"delta\": 1, \"x\": 1}", "9",
        "op \"resize\": member \"x\": unknown", "it takes: fleet, delta)", NULL);
    bad("{\"id\": 9, \"op\": \"inspect\", \"terminal\": \"t\", \"Terminal\": \"t\"}", "9",
        "member \"Terminal\": unknown", "it takes: terminal, fleet, index)", NULL);
    bad("{\"id\": 9, \"op\": \"disconnect\", \"fleet\": \"f\", \"fraction\": 0.5, \"delta\": 3}", "9",
        "member \"delta\": unknown", "it takes: fleet, fraction)", NULL);

    /* wrong member types */
    bad("{\"id\": 9, \"op\": \"pause\", \"fleet\": 1}", "9", "op \"pause\": member \"fleet\"", "a fleet id of 1 to 47 bytes",
        NULL);
    bad("{\"id\": 9, \"op\": \"resume\", \"fleet\": \"\"}", "9", "member \"fleet\"", "1 to 47 bytes", NULL);
    bad("{\"id\": 9, \"op\": \"disconnect\", \"fleet\": \"f\", \"fraction\": \"0.1\"}", "9",
        "op \"disconnect\": member \"fraction\"", "a number in (0,1]", NULL);
    bad("{\"id\": 9, \"op\": \"resize\", \"fleet\": \"f\", \"delta\": \"10\"}", "9", "op \"resize\": member \"delta\"",
        "signed integer", NULL);
    bad("{\"id\": 9, \"op\": \"resize\", \"fleet\": [\"f\"], \"delta\": 1}", "9", "member \"fleet\"", "fleet id", NULL);
    bad("{\"id\": 9, \"op\": \"inspect\", \"terminal\": 13800000001}", "9", "op \"inspect\": member \"terminal\"",
        "a string: a device id of 1 to 47 bytes", NULL);
    bad("{\"id\": 9, \"op\": \"inspect\", \"fleet\": \"f\", \"index\": \"3\"}", "9", "op \"inspect\": member \"index\"",
        "an integer from 0", NULL);
    bad("{\"id\": 9, \"op\": \"inspect\", \"fleet\": \"f\", \"index\": -1}", "9", "member \"index\"", "from 0", NULL);
    bad("{\"id\": 9, \"op\": \"inspect\", \"fleet\": \"f\", \"index\": 1.5}", "9", "member \"index\"", "integer", NULL);
    bad("{\"id\": 9, \"op\": \"inspect\", \"fleet\": \"f\", \"index\": 4294967296}", "9", "member \"index\"", NULL, NULL);

    /* members missing, or not the pair inspect wants */
    bad("{\"id\": 9, \"op\": \"disconnect\", \"fraction\": 0.1}", "9", "op \"disconnect\": member \"fleet\": missing", NULL,
        NULL);
    bad("{\"id\": 9, \"op\": \"disconnect\", \"fleet\": \"f\"}", "9", "op \"disconnect\": member \"fraction\": missing",
        NULL, NULL);
    bad("{\"id\": 9, \"op\": \"resize\", \"delta\": 1}", "9", "op \"resize\": member \"fleet\": missing", NULL, NULL);
    bad("{\"id\": 9, \"op\": \"resize\", \"fleet\": \"f\"}", "9", "op \"resize\": member \"delta\": missing", NULL, NULL);
    bad("{\"id\": 9, \"op\": \"inspect\"}", "9", "op \"inspect\": either \"terminal\"", "or \"fleet\" and \"index\"", NULL);
    bad("{\"id\": 9, \"op\": \"inspect\", \"fleet\": \"f\"}", "9", "op \"inspect\": either", NULL, NULL);
    bad("{\"id\": 9, \"op\": \"inspect\", \"index\": 3}", "9", "op \"inspect\": either", NULL, NULL);
    bad("{\"id\": 9, \"op\": \"inspect\", \"terminal\": \"t\", \"fleet\": \"f\"}", "9", "op \"inspect\": either", NULL,
        NULL);
    bad("{\"id\": 9, \"op\": \"inspect\", \"terminal\": \"t\", \"index\": 0}", "9", "op \"inspect\": either", NULL, NULL);

    /* fraction out of (0,1] */
    const char *fractions[] = {"0", "-0.1", "1.0000001", "2", "-1", "1e300"};
    for (size_t i = 0; i < sizeof fractions / sizeof *fractions; i++) {
        snprintf(line, sizeof line, "{\"id\": \"d\", \"op\": \"disconnect\", \"fleet\": \"f\", \"fraction\": %s}",
                 fractions[i]);
        bad(line, "\"d\"", "member \"fraction\"", "a number in (0,1]", NULL);
    }

    /* delta 0, not an integer, past LIVE_DELTA_MAX either way */
    const char *deltas[] = {"0", "-0", "0.5", "1.5", "-2.25", "100000001", "-100000001", "1e300", "-1e300", "true"};
    for (size_t i = 0; i < sizeof deltas / sizeof *deltas; i++) {
        snprintf(line, sizeof line, "{\"id\": 4, \"op\": \"resize\", \"fleet\": \"f\", \"delta\": %s}", deltas[i]);
        bad(line, "4", "op \"resize\": member \"delta\"", "100000000", NULL);
    }
    bad("{\"id\": 4, \"op\": \"resize\", \"fleet\": \"f\", \"delta\": 0}", "4", "member \"delta\"", "not 0", NULL);

    /* a fleet id and a terminal id one byte too long */
    char id48[49];
    memset(id48, 'y', 48);
    id48[48] = 0;
    snprintf(line, sizeof line, "{\"id\": 1, \"op\": \"pause\", \"fleet\": \"%s\"}", id48);
    bad(line, "1", "op \"pause\": member \"fleet\"", "1 to 47 bytes", NULL);
    snprintf(line, sizeof line, "{\"id\": 1, \"op\": \"resize\", \"fleet\": \"%s\", \"delta\": 1}", id48);
    bad(line, "1", "op \"resize\": member \"fleet\"", "1 to 47 bytes", NULL);
    snprintf(line, sizeof line, "{\"id\": 1, \"op\": \"inspect\", \"terminal\": \"%s\"}", id48);
    bad(line, "1", "op \"inspect\": member \"terminal\"", "1 to 47 bytes", NULL);
    snprintf(line, sizeof line, "{\"id\": 1, \"op\": \"inspect\", \"fleet\": \"%s\", \"index\": 0}", id48);
    bad(line, "1", "op \"inspect\": member \"fleet\"", "1 to 47 bytes", NULL);

    /* bytes that are not a request's: a NUL, not UTF-8, too long */
    static const char nul[] = "{\"id\": 1, \"op\": \"pau\0se\"}";
    refused(nul, sizeof nul - 1, "null", "request:", "NUL", NULL);
    static const char nul_end[] = "{\"id\": 1, \"op\": \"pause\"}\0";
    refused(nul_end, sizeof nul_end - 1, "null", "NUL", NULL, NULL);
    bad("{\"id\": 1, \"op\": \"pause\", \"fleet\": \"\xff\xfe\"}", "null", "request:", "not UTF-8", NULL);
    bad("{\"id\": \"\xc3\x28\", \"op\": \"pause\"}", "null", "not UTF-8", NULL, NULL);
    memset(line, ' ', LIVE_REQ_MAX + 1);
    memcpy(line, "{\"id\":1,\"op\":\"pause\"}", 22);
    line[LIVE_REQ_MAX] = 0;
    PARSES(line); /* LIVE_REQ_MAX bytes: fine */
    refused(line, LIVE_REQ_MAX + 1, "null", "request: 4097 bytes", "more than 4096", NULL);

    /* the line is len bytes: what follows is not read, however it goes on */
    static const char tail[] = "{\"id\": 5, \"op\": \"resume\"}{\"id\":6,\"op\":\"pause\",\"fleet\":7}\n";
    size_t first = strchr(tail, '}') - tail + 1;
    err[0] = 0;
    assert_int_equal(live_req_parse(tail, first, &req, err, sizeof err), 0);
    assert_int_equal(req.op, LIVE_OP_RESUME);
    assert_string_equal(req.id, "5");
    /* and a line cut short is short, whatever the bytes after it */
    refused(tail, first - 1, "null", "request:1:", "JSON syntax error", NULL);
    char *heap = malloc(first);
    memcpy(heap, tail, first); /* no NUL anywhere: ASan sees a read past len */
    assert_int_equal(live_req_parse(heap, first, &req, err, sizeof err), 0);
    assert_int_equal(req.op, LIVE_OP_RESUME);
    refused(heap, first - 2, "null", "JSON syntax error", NULL, NULL);
    free(heap);

    /* a small error buffer is cut, never overrun */
    char small[8];
    assert_int_equal(live_req_parse("{\"id\":1}", 8, &req, small, sizeof small), -1);
    assert_int_equal(strlen(small), sizeof small - 1);

    /* the struct is reset: nothing stays of the last request */
    PARSES("{\"id\": 1, \"op\": \"inspect\", \"terminal\": \"t\"}");
    bad("{\"id\": 2, \"op\": \"pause\", \"x\": 1}", "2", "unknown", NULL, NULL);
    assert_false(req.has_terminal);
    assert_string_equal(req.terminal, "");
}

static void line_equal(cJSON *o, const char *want)
{
    size_t len = 0;
    char *l = live_json_line(o, &len);
    assert_non_null(l);
    assert_string_equal(l, want);
    assert_int_equal(len, strlen(want));
    free(l);
}

static void test_replies(void **state)
{
    line_equal(live_reply_new("7", true), "{\"reply\":7,\"ok\":true}\n");
    line_equal(live_reply_new("\"a\\\"b\"", true), "{\"reply\":\"a\\\"b\",\"ok\":true}\n");
    line_equal(live_reply_new(NULL, false), "{\"reply\":null,\"ok\":false}\n");
    line_equal(live_reply_new("", true), "{\"reply\":null,\"ok\":true}\n");
    line_equal(live_reply_error("3", "op \"resize\": member \"delta\": missing"),
               "{\"reply\":3,\"ok\":false,\"error\":\"op \\\"resize\\\": member \\\"delta\\\": missing\"}\n");
    cJSON *o = live_reply_new("\"r\"", true);
    cJSON_AddStringToObject(o, "fleet", "f");
    cJSON_AddNumberToObject(o, "active", 44);
    line_equal(o, "{\"reply\":\"r\",\"ok\":true,\"fleet\":\"f\",\"active\":44}\n");
    size_t len = 99;
    assert_null(live_json_line(NULL, &len));
    assert_int_equal(len, 99);

    /* what the parser read is what the reply echoes: the reply's id parses back to it */
    const char *ids[] = {"1", "-3", "2.5", "\"x\"", "\"\\u0001\\n\"", "1e+20"};
    for (size_t i = 0; i < sizeof ids / sizeof *ids; i++) {
        char line[256];
        snprintf(line, sizeof line, "{\"id\": %s, \"op\": \"pause\", \"bogus\": 1}", ids[i]);
        assert_int_equal(parse(line), -1);
        char *l = live_json_line(live_reply_error(req.id, err), &len);
        cJSON *back = cJSON_Parse(l);
        cJSON *want = cJSON_Parse(ids[i]);
        assert_non_null(back);
        assert_true(cJSON_Compare(cJSON_GetObjectItemCaseSensitive(back, "reply"), want, true));
        assert_string_equal(cJSON_GetObjectItemCaseSensitive(back, "error")->valuestring, err);
        cJSON_Delete(back);
        cJSON_Delete(want);
        free(l);
    }
}

static void test_resize_plan(void **state)
{
    struct live_resize z;
    live_resize_plan(40, 10, 60, 0, 1, &z);
    assert_int_equal(z.active, 50);
    assert_int_equal(z.here, 50);
    assert_string_equal(z.clamped, "");
    live_resize_plan(40, -15, 60, 0, 1, &z);
    assert_int_equal(z.active, 25);
    assert_string_equal(z.clamped, "");
    live_resize_plan(40, 1000, 60, 0, 1, &z);
    assert_int_equal(z.active, 60);
    assert_string_equal(z.clamped, "at the fleet's max 60");
    live_resize_plan(40, 20, 60, 0, 1, &z);
    assert_int_equal(z.active, 60);
    assert_string_equal(z.clamped, ""); /* reaching the max is not cut */
    live_resize_plan(40, -41, 60, 0, 1, &z);
    assert_int_equal(z.active, 0);
    assert_int_equal(z.here, 0);
    assert_string_equal(z.clamped, "at 0");
    live_resize_plan(40, -40, 60, 0, 1, &z);
    assert_int_equal(z.active, 0);
    assert_string_equal(z.clamped, "");
    live_resize_plan(0, -LIVE_DELTA_MAX, 0, 0, 1, &z);
    assert_int_equal(z.active, 0);
    assert_string_equal(z.clamped, "at 0");
    live_resize_plan(UINT32_MAX, LIVE_DELTA_MAX, UINT32_MAX, 0, 1, &z);
    assert_int_equal(z.active, UINT32_MAX);
    assert_string_equal(z.clamped, "at the fleet's max 4294967295");
    live_resize_plan(5, LIVE_DELTA_MAX, 4000000000u, 2, 3, &z);
    assert_int_equal(z.active, 100000005);
    assert_int_equal(z.here, 33333335);
    /* shards 0 and 1 are the whole fleet */
    live_resize_plan(10, 1, 60, 0, 0, &z);
    assert_int_equal(z.here, 11);
    live_resize_plan(10, 1, 60, 7, 1, &z);
    assert_int_equal(z.here, 11);
    /* a previous clamp does not stay */
    live_resize_plan(10, 100, 20, 0, 1, &z);
    assert_string_not_equal(z.clamped, "");
    live_resize_plan(10, 1, 20, 0, 1, &z);
    assert_string_equal(z.clamped, "");

    /* every shard's share, counted the slow way; the shares add up to active */
    static const int64_t deltas[] = {-1000, -61, -60, -59, -33, -7, -1, 1, 2, 5, 9, 17, 40, 59, 60, 61, 1000};
    for (uint32_t shards = 1; shards <= 5; shards++)
        for (uint32_t max = 0; max <= 61; max += (max < 13 ? 1 : 8))
            for (uint32_t cur = 0; cur <= max; cur += (cur < 7 ? 1 : 5))
                for (size_t d = 0; d < sizeof deltas / sizeof *deltas; d++) {
                    int64_t want = (int64_t)cur + deltas[d];
                    const char *why = want > max ? "at the fleet's max" : want < 0 ? "at 0" : "";
                    want = want > max ? max : want < 0 ? 0 : want;
                    uint64_t sum = 0;
                    for (uint32_t k = 0; k < shards; k++) {
                        live_resize_plan(cur, deltas[d], max, k, shards, &z);
                        if (z.active != want || strncmp(z.clamped, why, strlen(why)) != 0 || (!why[0] && z.clamped[0]))
                            fail_msg("cur %u delta %lld max %u shard %u/%u: active %u \"%s\", want %lld \"%s\"", cur,
                                     (long long)deltas[d], max, k, shards, z.active, z.clamped, (long long)want, why);
                        uint32_t n = 0;
                        for (uint32_t i = 0; i < z.active; i++)
                            n += i % shards == k;
                        if (z.here != n)
                            fail_msg("cur %u delta %lld max %u shard %u/%u: here %u, want %u", cur, (long long)deltas[d],
                                     max, k, shards, z.here, n);
                        sum += z.here;
                    }
                    assert_int_equal(sum, want);
                }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ops),
        cmocka_unit_test(test_bad_requests),
        cmocka_unit_test(test_replies),
        cmocka_unit_test(test_resize_plan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
