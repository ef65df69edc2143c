/* 0x8105 terminal control: commands 1 and 2 as typed fields walked by type (binary
 * values holding 0x3B), the other commands as one STRING, deviations with their body
 * offsets, errors, and JSON both ways. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sim/proto/jt808.h"
#include "sim/proto/jt808_json.h"
#include "unhex.h"

/* url "http://a"; apn CMNET; user ""; password ""; host "h"; tcp 0x1F3B; udp 0x3B3B;
 * manufacturer "FLT;M"; hw "H1"; fw "F2"; time limit 0x003B */
#define CMD1 "01" "687474703A2F2F61" "3B" "434D4E4554" "3B" "3B" "3B" "68" "3B" "1F3B" "3B" "3B3B" "3B" \
             "464C543B4D" "3B" "4831" "3B" "4632" "3B" "003B"
#define CMD1_JSON "{\"command\":1,\"url\":\"http://a\",\"apn\":\"CMNET\",\"user\":\"\",\"password\":\"\"," \
                  "\"host\":\"h\",\"tcp_port\":7995,\"udp_port\":15163,\"manufacturer\":\"FLT;M\"," \
                  "\"hw_version\":\"H1\",\"fw_version\":\"F2\",\"time_limit\":59}"
/* connection 0; auth code 你好 (GBK C4E3 BAC3); apn "a"; user ""; password ""; host 10.0.0.1;
 * tcp 0x3B00; udp 80; time limit 0 */
#define CMD2 "02" "00" "3B" "C4E3BAC3" "3B" "61" "3B" "3B" "3B" "31302E302E302E31" "3B" "3B00" "3B" "0050" "3B" "0000"
#define CMD2_JSON "{\"command\":2,\"connection\":0,\"auth_code\":\"你好\",\"apn\":\"a\",\"user\":\"\"," \
                  "\"password\":\"\",\"host\":\"10.0.0.1\",\"tcp_port\":15104,\"udp_port\":80,\"time_limit\":0}"

static struct jt808_msg *new_msg(void)
{
    struct jt808_msg *m = calloc(1, sizeof *m);
    assert_non_null(m);
    m->h.msg_id = 0x8105;
    return m;
}

static void msg_del(struct jt808_msg *m)
{
    jt808_msg_free(m);
    free(m);
}

static void assert_body(const uint8_t *got, size_t n, const uint8_t *want, size_t wn)
{
    if (n != wn || memcmp(got, want, wn) != 0) {
        fprintf(stderr, "got  ");
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, "%02X", got[i]);
        fprintf(stderr, "\nwant ");
        for (size_t i = 0; i < wn; i++)
            fprintf(stderr, "%02X", want[i]);
        fail_msg("\nbody mismatch");
    }
}

/* Decode hex, compare the body JSON, encode back directly and from the JSON. */
static void round_trip(const char *hex, const char *json, enum jt808_version v, unsigned devs)
{
    size_t n;
    uint8_t *body = unhex(hex, &n), out[1100];
    struct jt808_msg *m = new_msg(), *b = new_msg();
    m->h.version = v;
    struct jt808_err e = {0};
    enum jt808_rc rc = jt808_body_decode(body, n, m, &e);
    if (rc != JT808_OK)
        fail_msg("%s: %s at %zu (%s)", hex, jt808_rc_name(rc), e.offset, e.field);
    assert_int_equal(m->devs.total, devs);
    strcpy(m->h.phone, "1");
    cJSON *j = jt808_to_json(m), *want = cJSON_Parse(json);
    assert_non_null(want);
    if (!cJSON_Compare(cJSON_GetObjectItem(j, "body"), want, true)) {
        char *s = cJSON_PrintUnformatted(cJSON_GetObjectItem(j, "body"));
        fail_msg("%s: body %s\nwant %s", hex, s, json);
    }
    size_t on = 0;
    assert_int_equal(jt808_body_encode(m, out, sizeof out, &on, &e), JT808_OK);
    assert_body(out, on, body, n);
    static uint8_t store[1100];
    char err[200] = "";
    if (jt808_from_json(j, b, store, sizeof store, err, sizeof err) != JT808_OK)
        fail_msg("%s: from_json: %s", hex, err);
    assert_int_equal(jt808_body_encode(b, out, sizeof out, &on, &e), JT808_OK);
    assert_body(out, on, body, n);
    cJSON_Delete(j);
    cJSON_Delete(want);
    msg_del(m);
    msg_del(b);
    free(body);
}

static void test_typed_commands(void **state)
{
    (void)state;
    round_trip(CMD1, CMD1_JSON, JT808_V2013, 0);
    round_trip(CMD1, CMD1_JSON, JT808_V2019, 0);
    round_trip(CMD2, CMD2_JSON, JT808_V2013, 0);
    /* connection 1: back to the default server, nothing more (the standard's form) */
    round_trip("0201", "{\"command\":2,\"connection\":1}", JT808_V2019, 0);
    /* a manufacturer id shorter than 5 bytes is 0x00-padded */
    round_trip("01" "61" "3B3B3B3B" "68" "3B" "0050" "3B" "0051" "3B" "4142000000" "3B" "3B" "3B" "0000",
               "{\"command\":1,\"url\":\"a\",\"apn\":\"\",\"user\":\"\",\"password\":\"\",\"host\":\"h\","
               "\"tcp_port\":80,\"udp_port\":81,\"manufacturer\":\"AB\",\"hw_version\":\"\","
               "\"fw_version\":\"\",\"time_limit\":0}", JT808_V2013, 0);
    /* the other commands keep one STRING */
    round_trip("04", "{\"command\":4,\"params\":\"\"}", JT808_V2013, 0);
    round_trip("03" "783B79", "{\"command\":3,\"params\":\"x;y\"}", JT808_V2013, 0);
}

static void test_typed_values(void **state)
{
    (void)state;
    size_t n;
    uint8_t *body = unhex(CMD1, &n);
    struct jt808_msg *m = new_msg();
    struct jt808_err e = {0};
    assert_int_equal(jt808_body_decode(body, n, m, &e), JT808_OK);
    const struct jt808_control *c = &m->b.control;
    assert_int_equal(c->n_fields, 11);
    assert_int_equal(c->f[JT808_CF_TCP_PORT].num, 0x1F3B);
    assert_int_equal(c->f[JT808_CF_UDP_PORT].num, 0x3B3B);
    assert_int_equal(c->f[JT808_CF_TIME_LIMIT].num, 0x3B);
    assert_string_equal(c->f[JT808_CF_MANUFACTURER].str, "FLT;M");
    assert_string_equal(c->f[JT808_CF_HOST].str, "h");
    assert_string_equal(c->f[JT808_CF_USER].str, "");
    size_t nf;
    const struct jt808_cfd *fd = jt808_ctl_fields(2, &nf);
    assert_int_equal(nf, 9);
    assert_int_equal(fd[0].id, JT808_CF_CONNECTION);
    assert_string_equal(fd[8].path, "body.time_limit");
    assert_null(jt808_ctl_fields(4, &nf));
    assert_int_equal(nf, 0);
    msg_del(m);
    free(body);

    /* The other commands' STRING drops a C terminator like every STRING of the codec
     * (so it is written back without it); a NUL inside a typed STRING is refused. */
    body = unhex("FF" "0000", &n);
    m = new_msg();
    assert_int_equal(jt808_body_decode(body, n, m, &e), JT808_OK);
    assert_string_equal(m->b.control.params, "");
    assert_int_equal(m->devs.total, 0);
    uint8_t out[16];
    size_t on = 0;
    assert_int_equal(jt808_body_encode(m, out, sizeof out, &on, &e), JT808_OK);
    assert_int_equal(on, 1);
    assert_int_equal(out[0], 0xFF);
    msg_del(m);
    free(body);
}

/* Decoding succeeds with ndev deviations, the first kind@off field. */
static void expect_dev(const char *hex, unsigned ndev, enum jt808_dev_kind kind, size_t off, const char *field)
{
    size_t n;
    uint8_t *body = unhex(hex, &n);
    struct jt808_msg *m = new_msg();
    struct jt808_err e = {0};
    enum jt808_rc rc = jt808_body_decode(body, n, m, &e);
    if (rc != JT808_OK || m->devs.total != ndev || m->devs.d[0].kind != kind || m->devs.d[0].offset != off ||
        strcmp(m->devs.d[0].field, field) != 0)
        fail_msg("%s: %s, %u deviations (%s@%zu %s), want %u (%s@%zu %s)", hex, jt808_rc_name(rc), m->devs.total,
                 m->devs.n ? jt808_dev_name(m->devs.d[0].kind) : "-", m->devs.n ? m->devs.d[0].offset : 0,
                 m->devs.n ? m->devs.d[0].field : "-", ndev, jt808_dev_name(kind), off, field);
    /* What was decoded encodes back to the same bytes (raw fields and trailing kept). */
    uint8_t out[1100];
    size_t on = 0;
    assert_int_equal(jt808_body_encode(m, out, sizeof out, &on, &e), JT808_OK);
    assert_body(out, on, body, n);
    msg_del(m);
    free(body);
}

static void test_deviations(void **state)
{
    (void)state;
    /* the TCP port as the text "7999": kept raw up to the next ';' */
    expect_dev("02" "00" "3B" "41" "3B3B3B3B" "68" "3B" "37393939" "3B" "0050" "3B" "0000", 1,
               JT808_DEV_PARAM_LENGTH, 10, "body.tcp_port");
    /* the last field, a WORD, with one byte */
    expect_dev("02" "00" "3B" "41" "3B3B3B3B" "68" "3B" "0001" "3B" "0050" "3B" "07", 1,
               JT808_DEV_PARAM_LENGTH, 16, "body.time_limit");
    /* the body ends inside the TCP port: raw, then the rest is missing */
    expect_dev("02" "00" "3B" "41" "3B3B3B3B" "68" "3B" "1F", 2, JT808_DEV_PARAM_LENGTH, 10, "body.tcp_port");
    /* command only, or connection 0 only: the list is missing */
    expect_dev("01", 1, JT808_DEV_COUNT_OVERRUN, 1, "body.url");
    expect_dev("0200", 1, JT808_DEV_COUNT_OVERRUN, 2, "body.auth_code");
    /* connection 0x3B, the BYTE itself a ';', then nothing */
    expect_dev("023B", 1, JT808_DEV_COUNT_OVERRUN, 2, "body.auth_code");
    /* command 1 stops after the host */
    expect_dev("01" "61" "3B3B3B3B" "68", 1, JT808_DEV_COUNT_OVERRUN, 7, "body.tcp_port");
    /* a ';' and a byte after the last field */
    expect_dev(CMD2 "3BFF", 1, JT808_DEV_TRAILING_BYTES, 29, "body");

    /* where the raw bytes and the missing fields show */
    size_t n;
    uint8_t *body = unhex("02" "00" "3B" "41" "3B3B3B3B" "68" "3B" "1F", &n);
    struct jt808_msg *m = new_msg();
    struct jt808_err e = {0};
    assert_int_equal(jt808_body_decode(body, n, m, &e), JT808_OK);
    assert_int_equal(m->b.control.n_fields, 7);
    assert_true(m->b.control.f[JT808_CF_TCP_PORT].kept_raw);
    assert_int_equal(m->b.control.f[JT808_CF_TCP_PORT].raw_len, 1);
    assert_int_equal(m->devs.d[1].kind, JT808_DEV_COUNT_OVERRUN);
    assert_int_equal(m->devs.d[1].offset, 11);
    assert_string_equal(m->devs.d[1].field, "body.udp_port");
    strcpy(m->h.phone, "1");
    cJSON *j = jt808_to_json(m);
    char *s = cJSON_PrintUnformatted(cJSON_GetObjectItem(j, "body"));
    assert_string_equal(s, "{\"command\":2,\"connection\":0,\"auth_code\":\"A\",\"apn\":\"\",\"user\":\"\","
                           "\"password\":\"\",\"host\":\"h\",\"tcp_port_hex\":\"1F\"}");
    free(s);
    cJSON_Delete(j);
    msg_del(m);
    free(body);
}

static void expect_error(const char *hex, enum jt808_rc rc, size_t off, const char *field)
{
    size_t n;
    uint8_t *body = unhex(hex, &n);
    struct jt808_msg *m = new_msg();
    struct jt808_err e = {0};
    enum jt808_rc got = jt808_body_decode(body, n, m, &e);
    if (got != rc || e.offset != off || !e.field || strcmp(e.field, field) != 0)
        fail_msg("%s: %s@%zu %s, want %s@%zu %s", hex, jt808_rc_name(got), e.offset, e.field ? e.field : "-",
                 jt808_rc_name(rc), off, field);
    msg_del(m);
    free(body);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("", JT808_E_SHORT, 0, "body.command");
    expect_error("01" "6100" "3B", JT808_E_VALUE, 1, "body.url");         /* NUL inside a STRING */
    expect_error("01" "FF" "3B", JT808_E_ENCODING, 1, "body.url");        /* not GB18030 */
    expect_error("02" "00" "3B" "41" "3B3B3B3B" "FF3B", JT808_E_ENCODING, 8, "body.host");
    /* a manufacturer id with a NUL before its padding */
    expect_error("01" "61" "3B3B3B3B" "68" "3B" "0050" "3B" "0051" "3B" "4100420000", JT808_E_VALUE, 14,
                 "body.manufacturer");
}

static void expect_encode_error(struct jt808_msg *m, enum jt808_rc rc, const char *field)
{
    uint8_t out[1100];
    size_t on = 0;
    struct jt808_err e = {0};
    enum jt808_rc got = jt808_body_encode(m, out, sizeof out, &on, &e);
    if (got != rc || !e.field || strcmp(e.field, field) != 0)
        fail_msg("encode: %s %s, want %s %s", jt808_rc_name(got), e.field ? e.field : "-", jt808_rc_name(rc), field);
}

static void test_encode_errors(void **state)
{
    (void)state;
    struct jt808_msg *m = new_msg();
    struct jt808_control *c = &m->b.control;
    c->command = 1;
    c->n_fields = 1;
    c->f[JT808_CF_URL].str = "a;b";
    expect_encode_error(m, JT808_E_VALUE, "body.url");
    c->f[JT808_CF_URL].str = "a";
    c->n_fields = 12;
    expect_encode_error(m, JT808_E_VALUE, "body.n_fields");
    c->n_fields = 6;
    c->f[JT808_CF_TCP_PORT].num = 0x10000;
    expect_encode_error(m, JT808_E_VALUE, "body.tcp_port");
    c->f[JT808_CF_TCP_PORT] = (struct jt808_ctl_val){.raw = (const uint8_t *)"7;9", .raw_len = 3, .kept_raw = true};
    expect_encode_error(m, JT808_E_VALUE, "body.tcp_port");
    c->f[JT808_CF_TCP_PORT] = (struct jt808_ctl_val){.num = 80};
    c->trailing = (const uint8_t *)"\xFF";
    c->n_trailing = 1;
    expect_encode_error(m, JT808_E_VALUE, "body.trailing");
    c->n_trailing = 0;
    c->n_fields = 8;
    c->f[JT808_CF_MANUFACTURER].str = "TOOLONG";
    expect_encode_error(m, JT808_E_VALUE, "body.manufacturer");
    msg_del(m);
}

static void expect_json_error(const char *body, const char *want)
{
    char json[1200], err[300] = "";
    snprintf(json, sizeof json, "{\"msg_id\":\"0x8105\",\"phone\":\"1\",\"body\":%s}", body);
    cJSON *j = cJSON_Parse(json);
    assert_non_null(j);
    struct jt808_msg *m = new_msg();
    static uint8_t store[1100];
    assert_int_equal(jt808_from_json(j, m, store, sizeof store, err, sizeof err), JT808_E_VALUE);
    if (strcmp(err, want) != 0)
        fail_msg("%s: \"%s\", want \"%s\"", body, err, want);
    cJSON_Delete(j);
    msg_del(m);
}

static void test_json_errors(void **state)
{
    (void)state;
    expect_json_error("{\"command\":1,\"url\":\"a\",\"user\":\"u\"}",
                      "body.apn: missing: the fields are a list, only the last ones can be left out (user is given)");
    expect_json_error("{\"command\":1,\"params\":\"a;b\"}",
                      "body.params: commands 1 and 2 take typed fields (url, apn, ...), not params");
    expect_json_error("{\"command\":2,\"connection\":256}", "body.connection: expected an integer 0..255");
    expect_json_error("{\"command\":2,\"connection\":0,\"auth_code\":7}", "body.auth_code: expected a string");
    expect_json_error("{\"command\":2,\"connection\":1,\"connection_hex\":\"01\"}",
                      "body.connection: give it or connection_hex, not both");
    expect_json_error("{\"command\":1,\"url\":\"a;b\"}",
                      "body.url: ';' separates the fields; a STRING cannot hold it");
    expect_json_error("{\"command\":1,\"url\":\"\",\"apn\":\"\",\"user\":\"\",\"password\":\"\",\"host\":\"\","
                      "\"tcp_port\":1,\"udp_port\":70000}", "body.udp_port: expected an integer 0..65535");
    expect_json_error("{\"command\":1,\"url\":\"\",\"apn\":\"\",\"user\":\"\",\"password\":\"\",\"host\":\"\","
                      "\"tcp_port\":1,\"udp_port\":2,\"manufacturer\":\"ABCDEF\"}",
                      "body.manufacturer: longer than the 5 bytes of the field");
    expect_json_error("{\"command\":2,\"connection\":1,\"trailing_hex\":\"FF\"}",
                      "body.trailing_hex: only after the last field (time_limit)");
    expect_json_error("{\"command\":2,\"connection\":1,\"url\":\"x\"}", "body.url: unknown field");
    expect_json_error("{\"command\":2,\"connection\":0,\"auth_code_hex\":\"41\"}", "body.auth_code_hex: unknown field");
    expect_json_error("{\"command\":4}", "body.params: missing");
    expect_json_error("{\"command\":2,\"connection\":0,\"auth_code\":\"\",\"apn\":\"\",\"user\":\"\",\"password\":\"\","
                      "\"host\":\"\",\"tcp_port_hex\":\"3G\"}",
                      "body.tcp_port_hex: bad hex character 'G' at position 2");
}

/* A frame that deviates still goes to JSON and back to the same bytes. */
static void test_deviating_json(void **state)
{
    (void)state;
    round_trip("02" "00" "3B" "41" "3B3B3B3B" "68" "3B" "37393939" "3B" "0050" "3B" "0000",
               "{\"command\":2,\"connection\":0,\"auth_code\":\"A\",\"apn\":\"\",\"user\":\"\",\"password\":\"\","
               "\"host\":\"h\",\"tcp_port_hex\":\"37393939\",\"udp_port\":80,\"time_limit\":0}", JT808_V2013, 1);
    round_trip(CMD2 "3BFF", "{\"command\":2,\"connection\":0,\"auth_code\":\"你好\",\"apn\":\"a\",\"user\":\"\","
                            "\"password\":\"\",\"host\":\"10.0.0.1\",\"tcp_port\":15104,\"udp_port\":80,"
                            "\"time_limit\":0,\"trailing_hex\":\"3BFF\"}", JT808_V2013, 1);
    round_trip("01" "61" "3B3B3B3B" "68", "{\"command\":1,\"url\":\"a\",\"apn\":\"\",\"user\":\"\",\"password\":\"\","
               "\"host\":\"h\"}", JT808_V2019, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_typed_commands),
        cmocka_unit_test(test_typed_values),
        cmocka_unit_test(test_deviations),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_encode_errors),
        cmocka_unit_test(test_json_errors),
        cmocka_unit_test(test_deviating_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
