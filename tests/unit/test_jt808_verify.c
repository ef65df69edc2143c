/* jt808_verify: the request bodies of seed 000's Tables 1-3 (the seed's own
 * examples, with its masked values filled in), and the answers: true, false
 * with each message code 1-4, and malformed ones with the field they name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sim/platform/jt808/jt808_verify.h"

static void test_register_json(void **state)
{
    (void)state;
    struct jt808_reg_req q;
    memset(&q, 0, sizeof q);
    strcpy(q.phone, "13800000001");
    strcpy(q.manufacturer, "mf0001");
    strcpy(q.model, "dm0001");
    strcpy(q.terminal_id, "di0001");
    q.plate_color = 1;
    strcpy(q.plate, "ZhejiangA12345");
    char out[JT808_VERIFY_BODY_MAX];
    int n = jt808_verify_register_json(&q, out, sizeof out);
    /* Table 1's example, in its field order */
    const char *want = "{\"manufacturer\":\"mf0001\",\"deviceModel\":\"dm0001\",\"deviceId\":\"di0001\","
                       "\"licensePlateColour\":\"1\",\"licensePlateNumber\":\"ZhejiangA12345\","
                       "\"phone\":\"13800000001\",\"action\":\"register\"}";
    assert_string_equal(out, want);
    assert_int_equal(n, (int)strlen(want));
    assert_int_equal(jt808_verify_register_json(&q, out, 40), -1);
}

static void test_auth_unregister_json(void **state)
{
    (void)state;
    char out[JT808_VERIFY_BODY_MAX];
    jt808_verify_auth_json("13800000001", "a\"b", "TCP", out, sizeof out);
    assert_string_equal(out, "{\"phone\":\"13800000001\",\"authCode\":\"a\\\"b\",\"protocol\":\"TCP\",\"action\":\"auth\"}");
    struct jt808_verify_dev d = {"mf0001", "dm0001", "di0001"};
    jt808_verify_unregister_json("13800000001", &d, out, sizeof out);
    assert_string_equal(out, "{\"phone\":\"13800000001\",\"manufacturer\":\"mf0001\",\"deviceModel\":\"dm0001\","
                             "\"deviceId\":\"di0001\",\"action\":\"unregister\"}");
}

static int parse(enum jt808_verify_action a, const char *body, struct jt808_verify_answer *ans, char *why)
{
    return jt808_verify_parse(a, body, strlen(body), ans, why, 160);
}

static void test_answers_true(void **state)
{
    (void)state;
    struct jt808_verify_answer a;
    char why[160];
    assert_int_equal(parse(JT808_VERIFY_REGISTER, "{\"result\":\"true\",\"message\":\"\",\"authCode\":\"AC01\"}", &a, why), 0);
    assert_true(a.ok);
    assert_string_equal(a.auth_code, "AC01");
    assert_int_equal(parse(JT808_VERIFY_AUTH, " {\"result\":\"true\",\"message\":\"\",\"manufacturer\":\"mf0001\","
                                              "\"deviceModel\":\"dm0001\",\"deviceId\":\"di0001\"}\n", &a, why), 0);
    assert_true(a.ok);
    assert_string_equal(a.dev.manufacturer, "mf0001");
    assert_string_equal(a.dev.model, "dm0001");
    assert_string_equal(a.dev.device_id, "di0001");
    assert_int_equal(parse(JT808_VERIFY_UNREGISTER, "{\"result\":\"true\",\"message\":\"\"}", &a, why), 0);
    assert_true(a.ok);
}

static void test_answers_false(void **state)
{
    (void)state;
    struct jt808_verify_answer a;
    char why[160], body[64];
    for (int code = 1; code <= 4; code++) {
        snprintf(body, sizeof body, "{\"result\":\"false\",\"message\":\"%d\"}", code);
        assert_int_equal(parse(JT808_VERIFY_REGISTER, body, &a, why), 0);
        assert_false(a.ok);
        assert_int_equal(a.code, code);
    }
    assert_int_equal(parse(JT808_VERIFY_AUTH, "{\"result\":\"false\",\"message\":\"bad code\"}", &a, why), 0);
    assert_false(a.ok);
    assert_string_equal(a.message, "bad code");
    assert_int_equal(parse(JT808_VERIFY_UNREGISTER, "{\"result\":\"false\"}", &a, why), 0);
    assert_false(a.ok);
}

static void test_answers_malformed(void **state)
{
    (void)state;
    static const struct {
        enum jt808_verify_action a;
        const char *body, *why;
    } cases[] = {
        {JT808_VERIFY_REGISTER, "", "answer: empty body"},
        {JT808_VERIFY_REGISTER, "<html>", "answer: not JSON (at byte 0)"},
        {JT808_VERIFY_REGISTER, "[1]", "answer: not a JSON object"},
        {JT808_VERIFY_REGISTER, "{\"result\":true}", "result: not a string"},
        {JT808_VERIFY_REGISTER, "{}", "result: missing"},
        {JT808_VERIFY_REGISTER, "{\"result\":\"yes\"}", "result: \"yes\" is not \"true\" or \"false\""},
        {JT808_VERIFY_REGISTER, "{\"result\":\"false\",\"message\":\"5\"}", "message: \"5\" is not 1-4"},
        {JT808_VERIFY_REGISTER, "{\"result\":\"false\",\"message\":\"\"}", "message: \"\" is not 1-4"},
        {JT808_VERIFY_REGISTER, "{\"result\":\"false\"}", "message: missing (a refused register needs 1-4)"},
        {JT808_VERIFY_REGISTER, "{\"result\":\"false\",\"message\":4}", "message: not a string"},
        {JT808_VERIFY_REGISTER, "{\"result\":\"true\"}", "authCode: missing (an accepted register returns one)"},
        {JT808_VERIFY_REGISTER, "{\"result\":\"true\",\"authCode\":\"\"}", "authCode: 0 bytes, needs 1-255"},
        {JT808_VERIFY_REGISTER, "{\"result\":\"true\",\"authCode\":\"a\\nb\"}", "authCode: control byte 0x0a at 1"},
        {JT808_VERIFY_REGISTER, "{\"result\":\"true\",\"authCode\":\"x\"} x", "answer: bytes after the JSON value at byte 33"},
        /* the seed's own sample auth answer lacks its commas */
        {JT808_VERIFY_AUTH, "{\"result\":\"true\",\"message\":\"\" \"manufacturer\":\"mf0001\"}", "answer: not JSON (at byte 30)"},
        {JT808_VERIFY_AUTH, "{\"result\":\"true\"}", "manufacturer: missing (an accepted auth names the device)"},
        {JT808_VERIFY_AUTH, "{\"result\":\"true\",\"manufacturer\":\"mf1\",\"deviceModel\":\"dm0001\",\"deviceId\":\"di0001\"}",
         "manufacturer: 3 chars, needs 4-11"},
        {JT808_VERIFY_AUTH, "{\"result\":\"true\",\"manufacturer\":\"mf01\",\"deviceModel\":\"dm_001\",\"deviceId\":\"di0001\"}",
         "deviceModel: byte 0x5f at 2 not in [A-Za-z0-9-]"},
        {JT808_VERIFY_AUTH, "{\"result\":\"true\",\"manufacturer\":\"mf01\",\"deviceModel\":\"dm01\"}",
         "deviceId: missing (an accepted auth names the device)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct jt808_verify_answer a;
        char why[160];
        memset(&a, 0x55, sizeof a);
        int rc = jt808_verify_parse(cases[i].a, cases[i].body, strlen(cases[i].body), &a, why, sizeof why);
        if (rc != -1 || strcmp(why, cases[i].why) != 0)
            fail_msg("case %zu (%s): rc %d, why \"%s\", want \"%s\"", i, cases[i].body, rc, why, cases[i].why);
        assert_false(a.ok);   /* nothing to act on */
    }
}

static void test_events(void **state)
{
    (void)state;
    unsigned m = 0;
    char err[128], out[64];
    assert_int_equal(jt808_verify_events_parse("register,auth,unregister", &m, err, sizeof err), 0);
    assert_int_equal(m, JT808_VERIFY_ALL);
    assert_int_equal(jt808_verify_events_parse("auth", &m, err, sizeof err), 0);
    assert_int_equal(m, 1u << JT808_VERIFY_AUTH);
    jt808_verify_events_format(JT808_VERIFY_ALL & ~(1u << JT808_VERIFY_AUTH), out, sizeof out);
    assert_string_equal(out, "register,unregister");
    assert_int_equal(jt808_verify_events_parse("regster", &m, err, sizeof err), -1);
    assert_string_equal(err, "'regster' is not register, auth or unregister");
    assert_int_equal(jt808_verify_events_parse("auth,", &m, err, sizeof err), -1);
    assert_string_equal(err, "trailing comma");
    assert_int_equal(jt808_verify_events_parse("", &m, err, sizeof err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_register_json),     cmocka_unit_test(test_auth_unregister_json),
        cmocka_unit_test(test_answers_true),      cmocka_unit_test(test_answers_false),
        cmocka_unit_test(test_answers_malformed), cmocka_unit_test(test_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
