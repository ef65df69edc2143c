/* Conformance case files: what a valid suite reads as, and the refusals of bad
 * ones, each with the file and the JSON path, every error of a file at once. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness/conform.h"

static const char *suite_json =
    "{\"name\": \"t\", \"protocol\": \"jt808\", \"defaults\": {\"edition\": 2019, \"phone\": \"0139####\"},"
    " \"fixtures\": {\"hello\": [{\"send\": {\"msg_id\": \"0x0002\"}},"
    "                          {\"expect\": {\"msg_id\": \"0x8001\"}},"
    "                          {\"bind\": {\"code\": \"body.result\"}}]}}";

static void test_valid(void **state)
{
    (void)state;
    const char *cases =
        "{\"cases\": ["
        " {\"id\": \"T-1\", \"ref\": \"JT/T 808-2019 8.3\", \"objective\": \"o1\", \"level\": \"MUST\","
        "  \"preconditions\": \"p\", \"needs\": [\"commands\"],"
        "  \"steps\": [{\"use\": \"hello\"}, {\"verify\": \"${code} == 0\"},"
        "             {\"conn\": 1, \"send\": {\"hex\": \"7E00020000${phone}00017E\"}},"
        "             {\"conn\": 1, \"expect\": {\"any_of\": [{\"msg_id\": \"0x8001\", \"match\": {\"body.result\": [0, 2]}},"
        "                                                {\"msg_id\": \"0x8100\", \"wire_contains\": \"7D02\"}]},"
        "              \"within\": \"500ms\"},"
        "             {\"wait\": \"10ms\"}, {\"expect_silence\": \"20ms\"}, {\"close\": true},"
        "             {\"expect_close\": \"1s\", \"conn\": 1},"
        "             {\"send\": {\"msg_id\": \"0x0002\"}, \"mutate\": \"bad-check\"}]},"
        " {\"id\": \"T-2\", \"ref\": \"r\", \"objective\": \"o2\", \"level\": \"SHOULD\", \"steps\": [{\"connect\": true}]}"
        "]}";
    struct conform_suite s;
    char err[2048];
    int rc = conform_suite_parse(suite_json, "c.json", cases, &s, err, sizeof err);
    if (rc != 0)
        fail_msg("%s", err);
    assert_string_equal(s.name, "t");
    assert_int_equal(s.edition, 2019);
    assert_int_equal(s.n_cases, 2);
    const struct conform_case *c = &s.cases[0];
    assert_string_equal(c->id, "T-1");
    assert_string_equal(c->level, "MUST");
    assert_int_equal(c->n_needs, 1);
    assert_string_equal(c->needs[0], "commands");
    /* the fixture's 3 steps, then 8 */
    assert_int_equal(c->n_steps, 11);
    assert_int_equal(c->steps[0].kind, CSTEP_SEND);
    assert_int_equal(c->steps[2].kind, CSTEP_BIND);
    assert_string_equal(c->steps[2].bind_name[0], "code");
    assert_int_equal(c->steps[3].kind, CSTEP_VERIFY);
    assert_false(c->steps[3].not_equal);
    assert_string_equal(c->steps[3].left, "${code}");
    assert_string_equal(c->steps[3].right, "0");
    assert_int_equal(c->steps[4].conn, 1);
    assert_non_null(c->steps[4].hex);
    assert_int_equal(c->steps[5].kind, CSTEP_EXPECT);
    assert_int_equal(c->steps[5].n_any, 2);
    assert_int_equal(c->steps[5].any[1].msg_id, 0x8100);
    assert_int_equal(c->steps[5].ms, 500);
    assert_int_equal(c->steps[7].kind, CSTEP_EXPECT_SILENCE);
    assert_int_equal(c->steps[7].ms, 20);
    assert_int_equal(c->steps[9].kind, CSTEP_EXPECT_CLOSE);
    assert_true(c->steps[10].bad_check);
    assert_int_equal(s.cases[1].index, 1);
    char phone[24];
    conform_case_phone(&s, &s.cases[1], phone, sizeof phone);
    assert_string_equal(phone, "01390001");
    conform_suite_free(&s);
}

/* err holds want (a line of it). */
static void has(const char *err, const char *want)
{
    if (strstr(err, want) == NULL)
        fail_msg("missing \"%s\" in:\n%s", want, err);
}

static void test_errors_all_at_once(void **state)
{
    (void)state;
    const char *cases =
        "{\"cases\": ["
        " {\"id\": \"T-1\", \"ref\": \"r\", \"objective\": \"o\", \"level\": \"MUSTY\", \"stepz\": [],"
        "  \"steps\": [{\"send\": {\"msg_id\": \"0x0002\", \"serial\": \"${nope}\"}},"
        "             {\"expect\": {\"msg_id\": 12}},"
        "             {\"wait\": 5},"
        "             {\"send\": {\"msg_id\": \"0x0002\"}, \"expect\": {\"msg_id\": \"0x8001\"}},"
        "             {\"bind\": {\"1x\": \"body\"}},"
        "             {\"verify\": \"${a} <> 1\"},"
        "             {\"use\": \"nosuch\"},"
        "             {\"expect_close\": \"1s\", \"within\": \"2s\"}]},"
        " {\"ref\": \"r\", \"objective\": \"o\", \"level\": \"MUST\", \"needs\": [\"teleport\"], \"steps\": []},"
        " {\"id\": \"T-1\", \"ref\": \"r\", \"objective\": \"o\", \"level\": \"MAY\", \"steps\": [{\"close\": true}]}"
        "]}";
    struct conform_suite s;
    char err[8192];
    assert_int_equal(conform_suite_parse(suite_json, "bad.json", cases, &s, err, sizeof err), -1);
    has(err, "bad.json: cases[0].level:");
    has(err, "bad.json: cases[0].stepz: unknown field (did you mean \"steps\"?)");
    has(err, "bad.json: cases[0].steps[0].send.serial: ${nope}: not a built-in");
    has(err, "bad.json: cases[0].steps[1].expect.msg_id:");
    has(err, "bad.json: cases[0].steps[2].wait:");
    has(err, "bad.json: cases[0].steps[3]: more than one action");
    has(err, "bad.json: cases[0].steps[4].bind.1x: a name is");
    has(err, "bad.json: cases[0].steps[5].verify: expected \"LEFT == RIGHT\"");
    has(err, "bad.json: cases[0].steps[6].use: \"nosuch\": no such fixture");
    has(err, "bad.json: cases[0].steps[7]: \"within\" belongs to an expect or expect_none step");
    has(err, "bad.json: cases[1].id: required");
    has(err, "bad.json: cases[1].needs[0]: not a capability");
    has(err, "bad.json: cases[1].steps: no steps");
    has(err, "bad.json: cases[2]: id T-1 is also the id of a case in bad.json");
    /* one line per error */
    int lines = 1;
    for (const char *p = err; *p; p++)
        lines += *p == '\n';
    assert_true(lines >= 14);
    assert_int_equal(s.n_cases, 0);
    assert_null(s.cases);
}

/* An api step: read as a scenario's is; its captures bound for later steps; the case needs northbound-api. */
static void test_api_step(void **state)
{
    (void)state;
    const char *cases =
        "{\"cases\": ["
        " {\"id\": \"A-1\", \"ref\": \"r\", \"objective\": \"o\", \"level\": \"MUST\", \"needs\": [\"northbound-api\"],"
        "  \"steps\": [{\"api\": {\"method\": \"POST\", \"path\": \"/c?d=${phone}\", \"body\": {\"deviceId\": \"${phone}\"},"
        "                        \"expect_status\": 201, \"capture\": {\"cmd\": \"commandId\"}}},"
        "             {\"api\": {\"method\": \"GET\", \"path\": \"/c/${cmd}\"}}, {\"verify\": \"${cmd} != x\"}]}"
        "]}";
    struct conform_suite s;
    char err[4096];
    if (conform_suite_parse(suite_json, "c.json", cases, &s, err, sizeof err) != 0)
        fail_msg("%s", err);
    const struct conform_case *c = &s.cases[0];
    assert_int_equal(c->n_steps, 3);
    assert_int_equal(c->steps[0].kind, CSTEP_API);
    assert_non_null(c->steps[0].api);
    assert_int_equal(c->steps[1].kind, CSTEP_API);
    conform_suite_free(&s);
    const char *bad =
        "{\"cases\": ["
        " {\"id\": \"A-1\", \"ref\": \"r\", \"objective\": \"o\", \"level\": \"MUST\","
        "  \"steps\": [{\"api\": {\"method\": \"GET\", \"path\": \"/c/${cmd}\", \"id\": \"X\"}},"
        "             {\"api\": {\"method\": \"FETCH\", \"path\": \"c\"}},"
        "             {\"api\": {\"method\": \"GET\", \"path\": \"/d/${device:f:0}\", \"capture\": {\"phone\": \"x\"}}}]}"
        "]}";
    assert_int_equal(conform_suite_parse(suite_json, "bad.json", bad, &s, err, sizeof err), -1);
    has(err, "bad.json: cases[0].steps[0].api.path: ${cmd}: not a built-in");
    has(err, "bad.json: cases[0].steps[0].api.id: a case is one verdict: its steps have no ids of their own");
    has(err, "bad.json: cases[0].steps[1].api.method: expected one of GET, POST, PUT, DELETE, got \"FETCH\"");
    has(err, "bad.json: cases[0].steps[1].api.path: expected a path starting with \"/\", got \"c\"");
    has(err, "bad.json: cases[0].steps[2].api.path: ${device:FLEET:N} is a scenario's; a case's device is ${phone}");
    has(err, "bad.json: cases[0].steps[2].api.capture: phone: a built-in name cannot be bound");
    has(err, "bad.json: cases[0].needs: the case calls the API (cases[0].steps[0]): list \"northbound-api\"");
}

/* A case's own api fields: raw_body (and raw_body_repeat), headers, ${api_app} and ${api_secret}. */
static void test_api_own_fields(void **state)
{
    (void)state;
    const char *cases =
        "{\"cases\": ["
        " {\"id\": \"A-1\", \"ref\": \"r\", \"objective\": \"o\", \"level\": \"MUST\", \"needs\": [\"northbound-api\"],"
        "  \"steps\": [{\"api\": {\"method\": \"POST\", \"path\": \"/l\", \"headers\": {},"
        "                        \"body\": {\"appId\": \"${api_app}\", \"secret\": \"${api_secret}\"}, \"capture\": {\"tok\": \"t\"}}},"
        "             {\"api\": {\"method\": \"GET\", \"path\": \"/c\", \"headers\": {\"app_key\": \"${api_app}\","
        "                        \"Authorization\": \"Bearer ${tok}\"}}},"
        "             {\"api\": {\"method\": \"POST\", \"path\": \"/c\", \"raw_body\": \"{\\\"a\\\": \", \"expect_status\": 400}},"
        "             {\"api\": {\"method\": \"POST\", \"path\": \"/c\", \"raw_body\": \"xy\", \"raw_body_repeat\": 3}}]}"
        "]}";
    struct conform_suite s;
    char err[4096];
    if (conform_suite_parse(suite_json, "c.json", cases, &s, err, sizeof err) != 0)
        fail_msg("%s", err);
    const struct conform_case *c = &s.cases[0];
    assert_int_equal(c->n_steps, 4);
    assert_true(c->steps[0].api_own_headers);
    assert_int_equal(c->steps[0].n_api_headers, 0);
    assert_null(c->steps[0].api_raw_body);
    assert_true(c->steps[1].api_own_headers);
    assert_int_equal(c->steps[1].n_api_headers, 2);
    assert_string_equal(c->steps[1].api_headers[0], "app_key: ${api_app}");
    assert_string_equal(c->steps[1].api_headers[1], "Authorization: Bearer ${tok}");
    assert_false(c->steps[2].api_own_headers);
    assert_string_equal(c->steps[2].api_raw_body, "{\"a\": ");
    assert_int_equal(c->steps[2].api_raw_repeat, 1);
    assert_int_equal(c->steps[3].api_raw_repeat, 3);
    conform_suite_free(&s);
    const char *bad =
        "{\"cases\": ["
        " {\"id\": \"A-1\", \"ref\": \"r\", \"objective\": \"o\", \"level\": \"MUST\", \"needs\": [\"northbound-api\"],"
        "  \"steps\": [{\"api\": {\"method\": \"POST\", \"path\": \"/c\", \"body\": {}, \"raw_body\": \"x\"}},"
        "             {\"api\": {\"method\": \"POST\", \"path\": \"/c\", \"raw_body\": 5}},"
        "             {\"api\": {\"method\": \"GET\", \"path\": \"/c\", \"headers\": {\"a b\": \"x\", \"ok\": 3}}},"
        "             {\"api\": {\"method\": \"GET\", \"path\": \"/c\", \"headers\": []}},"
        "             {\"api\": {\"method\": \"POST\", \"path\": \"/c\", \"raw_body_repeat\": 2}},"
        "             {\"api\": {\"method\": \"POST\", \"path\": \"/c\", \"raw_body\": \"x\", \"raw_body_repeat\": 0}},"
        "             {\"api\": {\"method\": \"GET\", \"path\": \"/c\", \"headers\": {\"k\": \"${nobody}\"}}}]}"
        "]}";
    assert_int_equal(conform_suite_parse(suite_json, "bad.json", bad, &s, err, sizeof err), -1);
    has(err, "bad.json: cases[0].steps[0].api.raw_body: a call has a body or a raw_body, not both");
    has(err, "bad.json: cases[0].steps[1].api.raw_body: expected a text");
    has(err, "bad.json: cases[0].steps[2].api.headers.a b: a header is a name");
    has(err, "bad.json: cases[0].steps[2].api.headers.ok: a header is a name");
    has(err, "bad.json: cases[0].steps[3].api.headers: expected an object of header names");
    has(err, "bad.json: cases[0].steps[4].api.raw_body_repeat: repeats a raw_body: give one");
    has(err, "bad.json: cases[0].steps[5].api.raw_body_repeat: expected a whole number from 1 to 4194304");
    has(err, "bad.json: cases[0].steps[6].api.headers.k: ${nobody}: not a built-in");
}

static void test_side_and_if(void **state)
{
    (void)state;
    struct conform_suite s;
    char err[4096];
    const char *ok =
        "{\"cases\": ["
        " {\"id\": \"T-1\", \"side\": \"terminal\", \"ref\": \"r\", \"objective\": \"o\", \"level\": \"MUST\","
        "  \"steps\": [{\"expect\": {\"msg_id\": \"0x0100\"}}, {\"bind\": {\"f\": \"msg_id\"}},"
        "             {\"if\": \"${f} != 0x0100\", \"send\": {\"msg_id\": \"0x8001\", \"body\": {\"ack_serial\": \"${rx_serial}\","
        "              \"ack_id\": \"0x0102\", \"result\": 1}}}]},"
        " {\"id\": \"T-2\", \"ref\": \"r\", \"objective\": \"o\", \"level\": \"MUST\", \"steps\": [{\"close\": true}]}"
        "]}";
    if (conform_suite_parse(suite_json, "ok.json", ok, &s, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(s.n_cases, 2);
    assert_true(s.cases[0].terminal);
    assert_false(s.cases[1].terminal);
    assert_null(s.cases[0].steps[0].if_left);
    assert_string_equal(s.cases[0].steps[2].if_left, "${f}");
    assert_string_equal(s.cases[0].steps[2].if_right, "0x0100");
    assert_true(s.cases[0].steps[2].if_not_equal);
    conform_suite_free(&s);
    const char *bad =
        "{\"cases\": ["
        " {\"id\": \"T-1\", \"side\": \"device\", \"ref\": \"r\", \"objective\": \"o\", \"level\": \"MUST\","
        "  \"steps\": [{\"if\": \"${f} ~ 1\", \"close\": true}, {\"if\": \"${nope} == 1\", \"close\": true},"
        "             {\"if\": 3, \"close\": true}]}"
        "]}";
    assert_int_equal(conform_suite_parse(suite_json, "bad.json", bad, &s, err, sizeof err), -1);
    has(err, "bad.json: cases[0].side:");
    has(err, "bad.json: cases[0].steps[0].if: expected \"LEFT == RIGHT\"");
    has(err, "bad.json: cases[0].steps[1].if: ${nope}: not a built-in");
    has(err, "bad.json: cases[0].steps[2].if: expected");
}

static void test_suite_errors(void **state)
{
    (void)state;
    struct conform_suite s;
    char err[2048];
    assert_int_equal(conform_suite_parse("{\"name\": \"t\", \"protocol\": \"pcp\", \"defaults\": {\"phone\": \"12\"}, "
                                         "\"extra\": 1}",
                                         "c.json", "{}", &s, err, sizeof err), -1);
    has(err, "suite.json: protocol:");
    has(err, "suite.json: defaults.phone: expected digits then at least 3 '#'");
    has(err, "suite.json: extra: unknown field");
    assert_int_equal(conform_suite_parse(suite_json, "c.json", "{\"id\": \"X\",", &s, err, sizeof err), -1);
    has(err, "c.json:1:12: JSON syntax error at end of input");
    assert_int_equal(conform_suite_parse(suite_json, "c.json", "[1]", &s, err, sizeof err), -1);
    has(err, "c.json: expected a JSON object at the top level, got an array");
    /* the deadlines of a case are bounded, one and all together */
    assert_int_equal(conform_suite_parse(suite_json, "c.json",
                                         "{\"id\": \"X\", \"ref\": \"r\", \"objective\": \"o\", \"level\": \"MUST\","
                                         " \"steps\": [{\"wait\": \"61s\"}, {\"wait\": \"60s\"}, {\"wait\": \"60s\"},"
                                         " {\"wait\": \"60s\"}, {\"wait\": \"60s\"}, {\"expect_silence\": \"60s\"}]}",
                                         &s, err, sizeof err), -1);
    has(err, "c.json: steps[0].wait: more than 60s");
    has(err, "c.json: steps: the deadlines and waits add up to 361s, more than 300s");
    /* a fixture's step that is wrong is named where the case uses it and where it is written */
    assert_int_equal(conform_suite_parse("{\"name\": \"t\", \"protocol\": \"jt808\","
                                         " \"fixtures\": {\"f\": [{\"wait\": \"1\"}]}}", "c.json",
                                         "{\"id\": \"X\", \"ref\": \"r\", \"objective\": \"o\", \"level\": \"MUST\","
                                         " \"steps\": [{\"close\": true}, {\"use\": \"f\"}]}",
                                         &s, err, sizeof err), -1);
    has(err, "c.json: steps[1] > suite.json fixtures.f[0].wait:");
    /* a binding is known only after the step that binds it */
    assert_int_equal(conform_suite_parse(suite_json, "c.json",
                                         "{\"id\": \"X\", \"ref\": \"r\", \"objective\": \"o\", \"level\": \"MUST\","
                                         " \"steps\": [{\"verify\": \"${late} == 1\"}, {\"bind\": {\"late\": \"body\"}}]}",
                                         &s, err, sizeof err), -1);
    has(err, "c.json: steps[0].verify: ${late}: not a built-in");
    /* a scenario case: the scenario read as `fleetsim run` reads it, its expectations the cases */
    assert_int_equal(conform_suite_parse(suite_json, "c.json",
                                         "{\"id\": \"X\", \"ref\": \"r\", \"objective\": \"o\", \"level\": \"MUST\","
                                         " \"kind\": \"scenario\", \"steps\": [],"
                                         " \"scenario\": {\"name\": \"s\", \"duration\": \"5s\", \"fleets\": [{\"id\": \"a\","
                                         " \"protocol\": \"jt808\", \"cout\": 1}], \"expect\": []}}",
                                         &s, err, sizeof err), -1);
    has(err, "c.json: steps: belongs to an exchange case");
    has(err, "c.json: scenario: the scenario does not read: fleets[0].cout: unknown field");
    assert_int_equal(conform_suite_parse(suite_json, "c.json",
                                         "{\"cases\": [{\"id\": \"Y-1\", \"ref\": \"r\", \"objective\": \"o\", \"level\": \"MUST\","
                                         " \"steps\": [{\"close\": true}]},"
                                         " {\"id\": \"X\", \"ref\": \"r\", \"objective\": \"o\", \"level\": \"MUST\","
                                         " \"kind\": \"scenario\", \"scenario\": {\"name\": \"s\", \"duration\": \"5s\","
                                         " \"fleets\": [{\"id\": \"a\", \"protocol\": \"jt808\", \"count\": 1}],"
                                         " \"expect\": [{\"id\": \"Y-1\", \"ledger\": \"balanced\"}]}}]}",
                                         &s, err, sizeof err), -1);
    has(err, "c.json: cases[1]: id Y-1 is also the id of a case in c.json");
    if (conform_suite_parse(suite_json, "c.json",
                            "{\"id\": \"X\", \"ref\": \"r\", \"objective\": \"o\", \"level\": \"MUST\","
                            " \"kind\": \"scenario\", \"scenario\": {\"name\": \"s\", \"duration\": \"5s\", \"time_scale\": 5,"
                            " \"fleets\": [{\"id\": \"a\", \"protocol\": \"jt808\", \"count\": 1}],"
                            " \"expect\": [{\"id\": \"X-1\", \"ledger\": \"balanced\"},"
                            "            {\"id\": \"X-2\", \"state\": \"authenticated\"}]}}",
                            &s, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(s.cases[0].kind, CONFORM_SCENARIO);
    assert_int_equal(s.cases[0].n_sub, 2);
    assert_string_equal(s.cases[0].sub[1].id, "X-2");
    assert_non_null(s.cases[0].scenario_text);
    assert_int_equal(s.cases[0].scenario_wall_ms, 1000);
    conform_suite_free(&s);
}

/* Each case its own phone: a pattern with 3 '#'s numbers 1000 cases, not 1001. */
static void test_phone_room(void **state)
{
    (void)state;
    size_t cap = 1100 * 128, n = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    n += (size_t)snprintf(text + n, cap - n, "{\"cases\": [");
    for (int i = 0; i < 1001; i++)
        n += (size_t)snprintf(text + n, cap - n, "%s{\"id\": \"P-%d\", \"ref\": \"r\", \"objective\": \"o\","
                              " \"level\": \"MUST\", \"steps\": [{\"close\": true}]}", i ? "," : "", i);
    snprintf(text + n, cap - n, "]}");
    struct conform_suite s;
    char err[1024];
    const char *suite3 = "{\"name\": \"t\", \"protocol\": \"jt808\", \"defaults\": {\"phone\": \"013900000###\"}}";
    assert_int_equal(conform_suite_parse(suite3, "c.json", text, &s, err, sizeof err), -1);
    has(err, "suite.json: defaults.phone: 3 '#' number 1000 cases, the suite has 1001");
    const char *suite4 = "{\"name\": \"t\", \"protocol\": \"jt808\", \"defaults\": {\"phone\": \"01390000####\"}}";
    if (conform_suite_parse(suite4, "c.json", text, &s, err, sizeof err) != 0)
        fail_msg("%s", err);
    char phone[24];
    conform_case_phone(&s, &s.cases[1000], phone, sizeof phone);
    assert_string_equal(phone, "013900001000");
    conform_suite_free(&s);
    free(text);
}

static void test_load_dir(void **state)
{
    (void)state;
    struct conform_suite s;
    char err[4096];
    if (conform_suite_load("scenarios/conformance/jt808", &s, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_string_equal(s.name, "jt808");
    assert_true(s.n_cases >= 10);
    for (int i = 0; i < s.n_cases; i++) {
        assert_int_equal(s.cases[i].index, i);
        assert_true(s.cases[i].kind == CONFORM_SCENARIO ? s.cases[i].n_sub > 0 : s.cases[i].n_steps > 0);
    }
    conform_suite_free(&s);
    assert_int_equal(conform_suite_load("scenarios/no-such-suite", &s, err, sizeof err), -1);
    has(err, "scenarios/no-such-suite/suite.json: cannot read it");
}

/* "platform": the embedded platform's settings, checked; "mutate": bad-length. */
static void test_platform(void **state)
{
    (void)state;
    struct conform_suite s;
    char err[4096];
    const char *one = "{\"id\": \"X-1\", \"ref\": \"r\", \"objective\": \"o\", \"level\": \"MUST\","
                      " \"steps\": [{\"send\": {\"msg_id\": \"0x0002\"}, \"mutate\": \"bad-length\"}]}";
    if (conform_suite_parse("{\"name\": \"t\", \"protocol\": \"jt808\", \"platform\": {\"auth\": \"one-party\","
                            " \"triples\": \"t.csv\", \"idle_timeout\": \"2s\"}}", "c.json", one, &s, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_true(s.platform_set);
    assert_string_equal(s.auth, "one-party");
    assert_string_equal(s.triples, "t.csv");
    assert_int_equal(s.idle_timeout_ms, 2000);
    assert_int_equal(s.reasm_timeout_ms, 0);
    assert_string_equal(s.rsa, "");
    assert_true(s.cases[0].steps[0].bad_length);
    assert_false(s.cases[0].steps[0].bad_check);
    conform_suite_free(&s);
    /* without one: the defaults, no platform of its own */
    if (conform_suite_parse(suite_json, "c.json", one, &s, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_false(s.platform_set);
    assert_string_equal(s.auth, "open");
    assert_int_equal(s.idle_timeout_ms, 0);
    conform_suite_free(&s);
    assert_int_equal(conform_suite_parse("{\"name\": \"t\", \"protocol\": \"jt808\", \"platform\": {\"auth\": \"two-party\","
                                         " \"idle_timeout\": \"0.5s\", \"port\": 1}}", "c.json", one, &s, err, sizeof err), -1);
    has(err, "suite.json: platform.auth: unknown value \"two-party\"");
    has(err, "suite.json: platform.port: unknown field");
    has(err, "suite.json: platform.idle_timeout");
    conform_suite_free(&s);
    assert_int_equal(conform_suite_parse("{\"name\": \"t\", \"protocol\": \"jt808\", \"platform\": {\"triples\": \"t.csv\"}}",
                                         "c.json", one, &s, err, sizeof err), -1);
    has(err, "suite.json: platform: a triples file goes with auth \"one-party\", and only with it");
    conform_suite_free(&s);
    assert_int_equal(conform_suite_parse("{\"name\": \"t\", \"protocol\": \"jt808\", \"platform\": {\"auth\": \"one-party\"}}",
                                         "c.json", one, &s, err, sizeof err), -1);
    has(err, "a triples file goes with auth \"one-party\"");
    conform_suite_free(&s);
    assert_int_equal(conform_suite_parse(suite_json, "c.json",
                                         "{\"id\": \"X-1\", \"ref\": \"r\", \"objective\": \"o\", \"level\": \"MUST\","
                                         " \"steps\": [{\"send\": {\"msg_id\": \"0x0002\"}, \"mutate\": \"bad-len\"}]}",
                                         &s, err, sizeof err), -1);
    has(err, "c.json: steps[0].mutate: expected \"bad-check\" or \"bad-length\"");
    conform_suite_free(&s);
    /* the reassembly timeout: serve --reasm-timeout, at least 100 ms */
    if (conform_suite_parse("{\"name\": \"t\", \"protocol\": \"jt808\", \"platform\": {\"reasm_timeout\": \"1s\","
                            " \"rsa\": \"encrypt\"}}", "c.json", one, &s, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_true(s.platform_set);
    assert_int_equal(s.reasm_timeout_ms, 1000);
    assert_string_equal(s.rsa, "encrypt");
    assert_int_equal(s.idle_timeout_ms, 0);
    conform_suite_free(&s);
    assert_int_equal(conform_suite_parse("{\"name\": \"t\", \"protocol\": \"jt808\", \"platform\": {\"reasm_timeout\": \"50ms\"}}",
                                         "c.json", one, &s, err, sizeof err), -1);
    has(err, "suite.json: platform.reasm_timeout");
    conform_suite_free(&s);
    assert_int_equal(conform_suite_parse("{\"name\": \"t\", \"protocol\": \"jt808\", \"platform\": {\"rsa\": \"sometimes\"}}",
                                         "c.json", one, &s, err, sizeof err), -1);
    has(err, "suite.json: platform.rsa: expected one of on, encrypt, off, got \"sometimes\"");
    conform_suite_free(&s);
    /* expect_none, drain, skip_unmatched, has bit / lacks bit */
    if (conform_suite_parse(suite_json, "c.json",
                            "{\"id\": \"X-1\", \"ref\": \"r\", \"objective\": \"o\", \"level\": \"MUST\", \"steps\": ["
                            "{\"expect_none\": {\"msg_id\": \"0x0200\", \"match\": {\"body.alarm\": 1}}, \"within\": \"2s\"},"
                            "{\"expect_none\": {\"msg_id\": \"0x0002\"}},"
                            "{\"drain\": \"1500ms\"},"
                            "{\"expect\": {\"msg_id\": \"0x0200\"}, \"skip_unmatched\": true},"
                            "{\"bind\": {\"st\": \"body.status\"}},"
                            "{\"verify\": \"${st} has bit 12\"}, {\"verify\": \"${st} lacks bit 63\"},"
                            "{\"verify\": \"${now} != \"}]}", &s, err, sizeof err) != 0)
        fail_msg("%s", err);
    const struct conform_step *sp = s.cases[0].steps;
    assert_int_equal(sp[0].kind, CSTEP_EXPECT_NONE);
    assert_int_equal(sp[0].ms, 2000);
    assert_int_equal(sp[0].any[0].msg_id, 0x0200);
    assert_non_null(sp[0].any[0].fields);
    assert_int_equal(sp[1].ms, 3000); /* the default, as expect's */
    assert_int_equal(sp[2].kind, CSTEP_DRAIN);
    assert_int_equal(sp[2].ms, 1500);
    assert_true(sp[3].skip_unmatched);
    assert_int_equal(sp[0].bit, -1);
    assert_int_equal(sp[5].bit, 12);
    assert_false(sp[5].bit_clear);
    assert_string_equal(sp[5].left, "${st}");
    assert_int_equal(sp[6].bit, 63);
    assert_true(sp[6].bit_clear);
    assert_int_equal(sp[7].bit, -1);
    conform_suite_free(&s);
    assert_int_equal(conform_suite_parse(suite_json, "c.json",
                                         "{\"id\": \"X-1\", \"ref\": \"r\", \"objective\": \"o\", \"level\": \"MUST\","
                                         " \"steps\": [{\"send\": {\"msg_id\": \"0x0002\"}, \"skip_unmatched\": true},"
                                         " {\"drain\": \"1s\", \"within\": \"1s\"}, {\"expect_none\": {\"match\": {}}},"
                                         " {\"expect\": {\"msg_id\": \"0x0200\"}, \"skip_unmatched\": 1},"
                                         " {\"verify\": \"1 has bit 64\"}, {\"verify\": \"1 lacks bit x\"}]}", &s, err, sizeof err), -1);
    has(err, "c.json: steps[0]: \"skip_unmatched\" belongs to an expect step");
    has(err, "c.json: steps[1]: \"within\" belongs to an expect or expect_none step");
    has(err, "c.json: steps[2].expect_none.msg_id");
    has(err, "c.json: steps[3]: skip_unmatched: expected true or false");
    has(err, "c.json: steps[4].verify: expected \"LEFT has bit N\" or \"LEFT lacks bit N\" with N 0-63");
    has(err, "c.json: steps[5].verify: expected \"LEFT has bit N\"");
    conform_suite_free(&s);
    /* verify: a time near the runner's clock */
    if (conform_suite_parse(suite_json, "c.json",
                            "{\"id\": \"X-1\", \"ref\": \"r\", \"objective\": \"o\", \"level\": \"MUST\", \"steps\": ["
                            "{\"use\": \"hello\"}, {\"verify\": \"${code} is now within 5s\"}]}", &s, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(s.cases[0].steps[3].near_now_s, 5);
    assert_string_equal(s.cases[0].steps[3].left, "${code}");
    conform_suite_free(&s);
    assert_int_equal(conform_suite_parse(suite_json, "c.json",
                                         "{\"id\": \"X-1\", \"ref\": \"r\", \"objective\": \"o\", \"level\": \"MUST\","
                                         " \"steps\": [{\"use\": \"hello\"}, {\"verify\": \"${code} is now within 0s\"},"
                                         " {\"verify\": \"${code} is now within 5m\"}]}", &s, err, sizeof err), -1);
    has(err, "c.json: steps[1].verify: expected \"LEFT is now within Ns\" with N seconds, 1-3600");
    has(err, "c.json: steps[2].verify: expected \"LEFT is now within Ns\"");
    conform_suite_free(&s);
    /* a scenario case of a suite with platform settings runs on them: one whose
     * scenario sets them itself is refused, naming each */
    const char *sc = "{\"id\": \"X-SC\", \"ref\": \"r\", \"objective\": \"o\", \"level\": \"MUST\", \"kind\": \"scenario\","
                     " \"scenario\": {\"name\": \"x\", \"duration\": \"2s\", %s"
                     " \"fleets\": [{\"id\": \"a\", \"protocol\": \"jt808\", \"count\": 1}],"
                     " \"expect\": [{\"id\": \"X-SC-001\", \"state\": \"authenticated\"}]}}";
    char text[1024];
    snprintf(text, sizeof text, sc, "\"platform\": {\"idle_timeout\": \"5s\", \"auth\": \"open\", \"procs\": 1},");
    assert_int_equal(conform_suite_parse("{\"name\": \"t\", \"protocol\": \"jt808\", \"platform\": {\"idle_timeout\": \"2s\"}}",
                                         "c.json", text, &s, err, sizeof err), -1);
    has(err, "c.json: scenario.platform.auth: the suite's platform settings (suite.json \"platform\") are this case's;"
             " leave it out of the scenario");
    has(err, "c.json: scenario.platform.idle_timeout: the suite's platform settings");
    assert_null(strstr(err, "platform.procs"));
    conform_suite_free(&s);
    /* ... the same scenario is fine in a suite without them, and without them in this one */
    if (conform_suite_parse(suite_json, "c.json", text, &s, err, sizeof err) != 0)
        fail_msg("%s", err);
    conform_suite_free(&s);
    snprintf(text, sizeof text, sc, "\"platform\": {\"procs\": 1},");
    if (conform_suite_parse("{\"name\": \"t\", \"protocol\": \"jt808\", \"platform\": {\"idle_timeout\": \"2s\"}}",
                            "c.json", text, &s, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(s.cases[0].n_sub, 1);
    conform_suite_free(&s);
    /* the one-party suite of the repository */
    if (conform_suite_load("scenarios/conformance/jt808-one-party", &s, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_true(s.platform_set);
    assert_string_equal(s.triples, "triples.csv");
    conform_suite_free(&s);
}

/* TLS: a connect step's "certificate", a suite's platform.device_verification */
static void test_tls_fields(void **state)
{
    (void)state;
    struct conform_suite s;
    char err[4096];
    const char *ok = "{\"id\": \"X-1\", \"ref\": \"r\", \"objective\": \"o\", \"level\": \"MUST\","
                     " \"needs\": [\"tls\"], \"steps\": [{\"connect\": true}, {\"connect\": true, \"conn\": 1,"
                     " \"certificate\": \"none\"}, {\"connect\": true, \"conn\": 2, \"certificate\": \"foreign\"},"
                     " {\"connect\": true, \"conn\": 3, \"certificate\": \"device\"}]}";
    if (conform_suite_parse("{\"name\": \"t\", \"protocol\": \"jt808\", \"platform\": {\"device_verification\": true}}",
                            "c.json", ok, &s, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_true(s.platform_set);
    assert_true(s.device_verification);
    assert_int_equal(s.cases[0].steps[0].cert, 0);
    assert_int_equal(s.cases[0].steps[1].cert, 1);
    assert_int_equal(s.cases[0].steps[2].cert, 2);
    assert_int_equal(s.cases[0].steps[3].cert, 0);
    assert_string_equal(s.cases[0].needs[0], "tls");
    conform_suite_free(&s);
    if (conform_suite_parse(suite_json, "c.json", ok, &s, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_false(s.device_verification);
    conform_suite_free(&s);
    const char *bad = "{\"id\": \"X-1\", \"ref\": \"r\", \"objective\": \"o\", \"level\": \"MUST\","
                      " \"steps\": [{\"connect\": true, \"certificate\": \"expired\"},"
                      " {\"send\": {\"msg_id\": \"0x0002\"}, \"certificate\": \"none\"}]}";
    assert_int_equal(conform_suite_parse("{\"name\": \"t\", \"protocol\": \"jt808\", \"platform\": "
                                         "{\"device_verification\": \"yes\"}}", "c.json", bad, &s, err, sizeof err), -1);
    has(err, "suite.json: platform.device_verification: expected true or false");
    assert_int_equal(conform_suite_parse(suite_json, "c.json", bad, &s, err, sizeof err), -1);
    has(err, "c.json: steps[0].certificate: expected one of device, none, foreign, got \"expired\"");
    has(err, "c.json: steps[1]: \"certificate\" belongs to a connect step");
}

/* "editions": a case per edition, ids suffixed, each its own place; ${edition} known;
 * a wrong list refused naming the entry. */
static void test_editions(void **state)
{
    (void)state;
    struct conform_suite s;
    char err[4096];
    const char *cases =
        "{\"cases\": ["
        " {\"id\": \"E-1\", \"ref\": \"r\", \"objective\": \"o\", \"level\": \"MUST\", \"editions\": [2013, 2019],"
        "  \"steps\": [{\"if\": \"${edition} == 2013\", \"send\": {\"msg_id\": \"0x0002\"}}]},"
        " {\"id\": \"E-2\", \"ref\": \"r\", \"objective\": \"o\", \"level\": \"MUST\", \"editions\": [2019],"
        "  \"steps\": [{\"send\": {\"msg_id\": \"0x0002\", \"version\": \"${edition}\"}}]},"
        " {\"id\": \"E-3\", \"ref\": \"r\", \"objective\": \"o\", \"level\": \"MUST\","
        "  \"steps\": [{\"send\": {\"msg_id\": \"0x0002\"}}]}]}";
    if (conform_suite_parse(suite_json, "c.json", cases, &s, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(s.n_cases, 4);
    const char *ids[] = {"E-1-2013", "E-1-2019", "E-2-2019", "E-3"};
    const int eds[] = {2013, 2019, 2019, 0};
    for (int i = 0; i < 4; i++) {
        assert_string_equal(s.cases[i].id, ids[i]);
        assert_int_equal(s.cases[i].edition, eds[i]);
        assert_int_equal(s.cases[i].index, i);
        assert_int_equal(s.cases[i].n_steps, 1);
    }
    assert_string_equal(s.cases[1].steps[0].if_left, "${edition}");
    conform_suite_free(&s);
    /* wrong lists; a variant's id that clashes with another case's */
    const char *bad =
        "{\"cases\": ["
        " {\"id\": \"E-1\", \"ref\": \"r\", \"objective\": \"o\", \"level\": \"MUST\", \"editions\": [2013, 2015, 2013],"
        "  \"steps\": [{\"connect\": true}]},"
        " {\"id\": \"E-2\", \"ref\": \"r\", \"objective\": \"o\", \"level\": \"MUST\", \"editions\": [],"
        "  \"steps\": [{\"connect\": true}]},"
        " {\"id\": \"E-3\", \"ref\": \"r\", \"objective\": \"o\", \"level\": \"MUST\", \"editions\": 2019,"
        "  \"steps\": [{\"connect\": true}]},"
        " {\"id\": \"E-4-2019\", \"ref\": \"r\", \"objective\": \"o\", \"level\": \"MUST\","
        "  \"steps\": [{\"connect\": true}]},"
        " {\"id\": \"E-4\", \"ref\": \"r\", \"objective\": \"o\", \"level\": \"MUST\", \"editions\": [2019],"
        "  \"steps\": [{\"connect\": true}]},"
        " {\"id\": \"E-5\", \"ref\": \"r\", \"objective\": \"o\", \"level\": \"MUST\", \"kind\": \"scenario\","
        "  \"editions\": [2013], \"scenario\": {\"name\": \"x\", \"duration\": \"2s\","
        "  \"fleets\": [{\"id\": \"a\", \"protocol\": \"jt808\", \"count\": 1}],"
        "  \"expect\": [{\"id\": \"E-5-001\", \"state\": \"authenticated\"}]}}]}";
    assert_int_equal(conform_suite_parse(suite_json, "c.json", bad, &s, err, sizeof err), -1);
    has(err, "c.json: cases[0].editions[1]: expected 2013 or 2019, got 2015");
    has(err, "c.json: cases[0].editions[2]: 2013 is named twice");
    has(err, "c.json: cases[1].editions: no edition");
    has(err, "c.json: cases[2].editions: expected an array");
    has(err, "c.json: cases[4]: id E-4-2019 is also the id of a case in c.json");
    has(err, "c.json: cases[5].editions: belongs to an exchange case");
    conform_suite_free(&s);
    /* ${edition} is a built-in: not bound */
    assert_int_equal(conform_suite_parse(suite_json, "c.json",
                                         "{\"id\": \"X-1\", \"ref\": \"r\", \"objective\": \"o\", \"level\": \"MUST\","
                                         " \"steps\": [{\"use\": \"hello\"}, {\"bind\": {\"edition\": \"version\"}}]}",
                                         &s, err, sizeof err), -1);
    has(err, "c.json: steps[1].bind.edition: a built-in name cannot be bound");
    conform_suite_free(&s);
}

/* The callback receiver's steps: expect_push and expect_no_push (notifyType, match,
 * within), receiver_plan; a case with one, or with ${receiver_url}, gets a receiver. */
static void test_push_steps(void **state)
{
    (void)state;
    struct conform_suite s;
    char err[4096];
    const char *ok =
        "{\"cases\": [{\"id\": \"P-1\", \"ref\": \"004 5\", \"objective\": \"o\", \"level\": \"MUST\", \"steps\": ["
        " {\"receiver_plan\": \"503x3,200\"},"
        " {\"expect_push\": {\"notifyType\": \"deviceDataChanged\", \"match\": {\"deviceId\": \"${phone}\","
        "   \"service.data.v\": [1, 2]}}, \"within\": \"20s\"},"
        " {\"bind\": {\"dev\": \"deviceId\"}},"
        " {\"expect_no_push\": {\"notifyType\": [\"deviceDeleted\", \"deviceAdded\"]}, \"within\": \"2s\"},"
        " {\"expect_push\": {}}]},"
        " {\"id\": \"P-2\", \"ref\": \"r\", \"objective\": \"o\", \"level\": \"MUST\","
        "  \"steps\": [{\"verify\": \"${receiver_url} != \"}]},"
        " {\"id\": \"P-3\", \"ref\": \"r\", \"objective\": \"o\", \"level\": \"MUST\", \"steps\": [{\"wait\": \"1s\"}]}]}";
    if (conform_suite_parse(suite_json, "p.json", ok, &s, err, sizeof err) != 0)
        fail_msg("%s", err);
    const struct conform_step *sp = s.cases[0].steps;
    assert_true(s.cases[0].receiver);
    assert_true(s.cases[1].receiver);
    assert_false(s.cases[2].receiver);
    assert_int_equal(sp[0].kind, CSTEP_RECEIVER_PLAN);
    assert_string_equal(sp[0].plan, "503x3,200");
    assert_int_equal(sp[1].kind, CSTEP_EXPECT_PUSH);
    assert_int_equal(sp[1].ms, 20000);
    char *f = cJSON_PrintUnformatted(sp[1].any[0].fields);
    assert_string_equal(f, "{\"notifyType\":\"deviceDataChanged\",\"deviceId\":\"${phone}\",\"service.data.v\":[1,2]}");
    free(f);
    assert_int_equal(sp[3].kind, CSTEP_EXPECT_NO_PUSH);
    assert_int_equal(sp[3].ms, 2000);
    assert_int_equal(sp[4].ms, CONFORM_WITHIN_DEFAULT_MS);
    assert_null(sp[4].any[0].fields->child);
    conform_suite_free(&s);

    const char *bad =
        "{\"id\": \"P-1\", \"ref\": \"r\", \"objective\": \"o\", \"level\": \"MUST\", \"steps\": ["
        " {\"expect_push\": {\"notifyTyp\": \"deviceAdded\"}},"
        " {\"expect_push\": {\"notifyType\": \"deviceAdded\"}, \"within\": \"20\"},"
        " {\"expect_no_push\": {}, \"within\": \"61s\"},"
        " {\"receiver_plan\": \"503x3,5O3\"},"
        " {\"receiver_plan\": 503},"
        " {\"expect_push\": {\"notifyType\": \"device added\"}},"
        " {\"expect_push\": {\"match\": {\"a..b\": 1, \"c\": {\"d\": 1}, \"e\": \"${nope}\"}}},"
        " {\"expect_push\": {\"notifyType\": \"deviceAdded\", \"match\": {\"notifyType\": \"x\"}}},"
        " {\"expect_push\": \"deviceAdded\"},"
        " {\"receiver_plan\": \"200\", \"within\": \"1s\"},"
        " {\"expect_no_push\": {\"notifyType\": []}}]}";
    assert_int_equal(conform_suite_parse(suite_json, "p.json", bad, &s, err, sizeof err), -1);
    has(err, "p.json: steps[0].expect_push.notifyTyp: unknown field (did you mean \"notifyType\"?)");
    has(err, "p.json: steps[1].within: '20': units required");
    has(err, "p.json: steps[2]: within: more than 60s");
    has(err, "p.json: steps[3].receiver_plan: plan entry 2 '5O3': not a status (100-599, or drop)");
    has(err, "p.json: steps[4].receiver_plan: expected a plan, like \"503x3,200\"");
    has(err, "p.json: steps[5].expect_push.notifyType: expected a notifyType (like deviceDataChanged)");
    has(err, "p.json: steps[6].expect_push.match.a..b: not a path");
    has(err, "p.json: steps[6].expect_push.match.c: expected a value or an array of values (one of), got an object");
    has(err, "p.json: steps[6].expect_push.match.e: ${nope}: not a built-in");
    has(err, "p.json: steps[7].expect_push.match.notifyType: given twice");
    has(err, "p.json: steps[8].expect_push: expected");
    has(err, "p.json: steps[9]: \"within\" belongs to an expect or expect_none step, or expect_push or expect_no_push");
    has(err, "p.json: steps[10].expect_no_push.notifyType: expected a notifyType");
    conform_suite_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_errors_all_at_once),
        cmocka_unit_test(test_suite_errors),
        cmocka_unit_test(test_side_and_if),
        cmocka_unit_test(test_api_step),
        cmocka_unit_test(test_api_own_fields),
        cmocka_unit_test(test_phone_room),
        cmocka_unit_test(test_load_dir),
        cmocka_unit_test(test_platform),
        cmocka_unit_test(test_tls_fields),
        cmocka_unit_test(test_editions),
        cmocka_unit_test(test_push_steps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
