/* Product models and their codecs (sim/proto/pcodec*.c): the golden vectors of
 * vectors/pcodec.json (both ways), every kind of bad product file with its path,
 * every refusal of values to encode, and a round trip of random values. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "harness/textfile.h"
#include "sim/proto/hex.h"
#include "sim/proto/pcodec.h"

static struct pc_product *load(const char *path)
{
    char *text = NULL, err[600];
    size_t len = 0;
    assert_int_equal(textfile_read(path, 1 << 20, &text, &len), 0);
    struct pc_product *p = NULL;
    if (pc_product_parse_text(text, len, path, &p, err, sizeof err) != 0)
        fail_msg("%s", err);
    free(text);
    return p;
}

static int message_named(const struct pc_product *p, const char *name)
{
    for (int i = 0; i < p->n_messages; i++)
        if (strcmp(p->messages[i].name, name) == 0)
            return i;
    return -1;
}

static void test_vectors(void **state)
{
    (void)state;
    struct pc_product *p = load("profiles/watermeter.json");
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(textfile_read("vectors/pcodec.json", 1 << 22, &text, &len), 0);
    cJSON *doc = cJSON_ParseWithLength(text, len);
    assert_non_null(doc);
    const cJSON *v;
    int n = 0, encoded = 0, errors = 0, deviating = 0;
    cJSON_ArrayForEach(v, cJSON_GetObjectItem(doc, "vectors"))
    {
        const char *name = cJSON_GetObjectItem(v, "name")->valuestring;
        const char *hx = cJSON_GetObjectItem(v, "hex")->valuestring;
        bool up = strcmp(cJSON_GetObjectItem(v, "direction")->valuestring, "up") == 0;
        uint8_t b[1024];
        size_t bl = 0, ep = 0;
        assert_int_equal(hex_decode(hx, strlen(hx), HEX_STRICT, b, sizeof b, &bl, &ep), HEX_OK);
        cJSON *out = NULL;
        char err[600] = "";
        int rc = pc_decode(p, up, b, bl, &out, err, sizeof err);
        const cJSON *want = cJSON_GetObjectItem(v, "fields"), *werr = cJSON_GetObjectItem(v, "error");
        if (werr) {
            const char *t = cJSON_GetObjectItem(werr, "text")->valuestring;
            if (rc == 0 || strncmp(err, t, strlen(t)) != 0) {
                char *got = out ? cJSON_PrintUnformatted(out) : NULL;
                fail_msg("%s: want the error \"%s\", got rc %d \"%s\" %s", name, t, rc, err, got ? got : "");
            }
            errors++;
        } else {
            if (rc != 0)
                fail_msg("%s: %s", name, err);
            if (!cJSON_Compare(out, want, 1)) {
                char *a = cJSON_PrintUnformatted(out), *w = cJSON_PrintUnformatted(want);
                fail_msg("%s:\n got  %s\n want %s", name, a, w);
            }
            deviating += cJSON_GetObjectItem(want, "deviations") != NULL;
        }
        if (cJSON_IsTrue(cJSON_GetObjectItem(v, "encode"))) {
            int mi = message_named(p, cJSON_GetObjectItem(want, "message")->valuestring);
            assert_true(mi >= 0);
            const cJSON *mid = cJSON_GetObjectItem(want, "mid"), *ec = cJSON_GetObjectItem(want, "errcode");
            uint8_t enc[1024];
            size_t el = 0;
            if (pc_encode(p, mi, cJSON_GetObjectItem(want, "data"), mid ? (uint64_t)mid->valuedouble : 0,
                          ec ? (uint64_t)ec->valuedouble : 0, enc, sizeof enc, &el, err, sizeof err) != 0)
                fail_msg("%s: encode: %s", name, err);
            char eh[2100];
            hex_encode(enc, el, eh, sizeof eh);
            if (strcmp(eh, hx) != 0)
                fail_msg("%s: encoded %s, want %s", name, eh, hx);
            encoded++;
        }
        cJSON_Delete(out);
        n++;
    }
    assert_true(n >= 17);
    assert_true(encoded >= 10);
    assert_true(errors >= 5);
    assert_true(deviating >= 2);
    cJSON_Delete(doc);
    free(text);
    pc_product_free(p);
}

/* A small valid product, and edits of it that must be refused with the message given. */
static const char *base =
    "{\"product\":{\"productId\":\"P\",\"manufacturerId\":\"M\",\"deviceType\":\"T\",\"model\":\"X\","
    "\"protocolType\":\"CoAP\"},"
    "\"services\":[{\"serviceId\":\"S\",\"properties\":[{\"name\":\"a\",\"dataType\":\"int\",\"min\":0,\"max\":9},"
    "{\"name\":\"s\",\"dataType\":\"string\",\"maxLength\":4}],"
    "\"commands\":[{\"name\":\"C\",\"paras\":[{\"name\":\"v\",\"dataType\":\"decimal\",\"min\":0,\"max\":10}],"
    "\"responses\":[{\"name\":\"r\",\"dataType\":\"int\"}]}]}],"
    "\"codec\":{\"messageId\":{\"type\":\"uint8\"},\"messages\":["
    "{\"name\":\"rep\",\"kind\":\"report\",\"serviceId\":\"S\",\"messageId\":1,\"fields\":[{\"name\":\"a\",\"type\":\"uint8\"},"
    "{\"name\":\"sl\",\"type\":\"uint8\",\"lengthOf\":\"s\"},{\"name\":\"s\",\"type\":\"varstring\"}]},"
    "{\"name\":\"cmd\",\"kind\":\"command\",\"serviceId\":\"S\",\"command\":\"C\",\"messageId\":2,\"fields\":["
    "{\"name\":\"mid\",\"type\":\"uint16\",\"role\":\"mid\"},{\"name\":\"v\",\"type\":\"uint16\",\"scale\":0.5}]},"
    "{\"name\":\"ack\",\"kind\":\"response\",\"serviceId\":\"S\",\"command\":\"C\",\"messageId\":3,\"fields\":["
    "{\"name\":\"mid\",\"type\":\"uint16\",\"role\":\"mid\"},{\"name\":\"e\",\"type\":\"uint8\",\"role\":\"errcode\"},"
    "{\"name\":\"r\",\"type\":\"int8\"}]}]}}";

struct edit {
    const char *from, *to;   /* the first occurrence of from in base becomes to */
    const char *want;        /* the error says this */
};

static const struct edit edits[] = {
    {"\"protocolType\":\"CoAP\"", "\"protocolType\":\"HTTP\"", "t.json: product.protocolType: \"HTTP\": expected CoAP"},
    {"\"productId\":\"P\",", "", "t.json: product.productId: missing"},
    {"\"productId\":\"P\"", "\"productId\":\"P Q\"", "product.productId: \"P Q\": character 2 is not one of"},
    {"\"dataType\":\"int\",\"min\":0", "\"dataType\":\"integer\",\"min\":0",
     "services[0].properties[0].dataType: expected one of int, decimal, string, bool, DateTime"},
    {"\"min\":0,\"max\":9", "\"min\":10,\"max\":9", "services[0].properties[0].min: 10 is above max 9"},
    {"\"maxLength\":4", "\"maxLength\":0", "services[0].properties[1].maxLength: expected an integer 1..65535"},
    {"{\"name\":\"s\",\"dataType\":\"string\"", "{\"name\":\"a\",\"dataType\":\"string\"",
     "services[0].properties[1]: \"a\" twice"},
    {"\"min\":0,\"max\":9}", "\"min\":0,\"max\":9,\"colour\":1}",
     "services[0].properties[0].colour: unknown member (known: name, dataType"},
    {"\"type\":\"uint8\"},\"messages\"", "\"type\":\"int8\"},\"messages\"", "codec.messageId.type: expected uint8"},
    {"{\"name\":\"a\",\"type\":\"uint8\"}", "{\"name\":\"a\",\"type\":\"uint12\"}",
     "codec.messages[0].fields[0].type: \"uint12\" is not one of uint8, uint16"},
    {"{\"name\":\"a\",\"type\":\"uint8\"}", "{\"name\":\"b\",\"type\":\"uint8\"}",
     "codec.messages[0].fields[0].name: \"b\" is not a property of service S"},
    {"{\"name\":\"a\",\"type\":\"uint8\"}", "{\"name\":\"a\",\"type\":\"string\",\"length\":2}",
     "codec.messages[0].fields[0].type: a string field cannot carry a, a int"},
    {"{\"name\":\"a\",\"type\":\"uint8\"}", "{\"name\":\"a\",\"type\":\"uint8\",\"scale\":0.5}",
     "codec.messages[0].fields[0].scale: a is an int: its scale and add are integers"},
    {"{\"name\":\"sl\",\"type\":\"uint8\",\"lengthOf\":\"s\"},", "",
     "codec.messages[0].fields[1]: s has no length field"},
    {"\"lengthOf\":\"s\"", "\"lengthOf\":\"a\"", "codec.messages[0].fields[1].lengthOf: \"a\" is not a varstring"},
    {"\"messageId\":2", "\"messageId\":256", "codec.messages[1].messageId: expected an integer that fits"},
    {"\"messageId\":3", "\"messageId\":1", "codec.messages[2]: messageId 1 is message rep's too"},
    {"{\"name\":\"v\",\"type\":\"uint16\",\"scale\":0.5}", "{\"name\":\"w\",\"type\":\"uint16\"}",
     "codec.messages[1].fields[1].name: \"w\" is not a para of command C"},
    {"\"command\":\"C\",\"messageId\":2", "\"command\":\"D\",\"messageId\":2",
     "codec.messages[1].command: \"D\" is not a command of service S"},
    {"{\"name\":\"e\",\"type\":\"uint8\",\"role\":\"errcode\"},", "{\"name\":\"e\",\"type\":\"uint8\",\"role\":\"mid\"},",
     "codec.messages[2].fields[1].role: a second mid (fields[0] is one)"},
    {"\"kind\":\"report\"", "\"kind\":\"event\"", "codec.messages[0].kind: expected \"report\""},
    {"{\"name\":\"mid\",\"type\":\"uint16\",\"role\":\"mid\"},{\"name\":\"v\"",
     "{\"name\":\"mid\",\"type\":\"uint16\",\"role\":\"mid\"},{\"name\":\"k\",\"type\":\"uint8\",\"value\":300},{\"name\":\"v\"",
     "codec.messages[1].fields[1].value: a constant is an integer that fits"},
    {"\"codec\":{\"messageId\":{\"type\":\"uint8\"},", "\"codec\":{",
     "codec.messages[0].messageId: the codec has no messageId field"},
};

static char *edited(const struct edit *e)
{
    const char *at = strstr(base, e->from);
    assert_non_null(at);
    size_t n = strlen(base) - strlen(e->from) + strlen(e->to) + 1;
    char *s = malloc(n);
    snprintf(s, n, "%.*s%s%s", (int)(at - base), base, e->to, at + strlen(e->from));
    return s;
}

static void test_bad_files(void **state)
{
    (void)state;
    char err[600];
    struct pc_product *p = NULL;
    if (pc_product_parse_text(base, strlen(base), "t.json", &p, err, sizeof err) != 0)
        fail_msg("the base product: %s", err);
    pc_product_free(p);
    for (size_t i = 0; i < sizeof edits / sizeof *edits; i++) {
        char *s = edited(&edits[i]);
        p = NULL;
        int rc = pc_product_parse_text(s, strlen(s), "t.json", &p, err, sizeof err);
        if (rc == 0 || !strstr(err, edits[i].want))
            fail_msg("edit %zu (%s -> %s): want \"%s\", got rc %d \"%s\"", i, edits[i].from, edits[i].to,
                     edits[i].want, rc, rc ? err : "");
        assert_null(p);
        free(s);
    }
    assert_int_equal(pc_product_parse_text("{\"product\": ", 12, "t.json", &p, err, sizeof err), -1);
    assert_non_null(strstr(err, "t.json:1:12: not JSON"));
}

static void test_refusals(void **state)
{
    (void)state;
    char err[600];
    struct pc_product *p = NULL;
    assert_int_equal(pc_product_parse_text(base, strlen(base), "t.json", &p, err, sizeof err), 0);
    static const struct {
        const char *msg, *values, *want;
        uint64_t mid;
    } cases[] = {
        {"cmd", "{}", "data.v: missing", 1},
        {"cmd", "{\"v\":11}", "data.v: 11 is outside its range 0..10", 1},
        {"cmd", "{\"v\":\"3\"}", "data.v: expected a number (a decimal)", 1},
        {"cmd", "{\"v\":2.25}", "data.v: 2.25 is not a step of the scale 0.5", 1},
        {"cmd", "{\"v\":2,\"x\":1}", "data.x: not a field of message cmd", 1},
        {"cmd", "{\"v\":2}", "data.mid: 65536 does not fit uint16", 65536},
        {"rep", "{\"a\":1.5,\"s\":\"x\"}", "data.a: 1.5 is not an integer", 0},
        {"rep", "{\"a\":1,\"s\":\"toolong\"}", "data.s: 7 bytes, its maxLength is 4", 0},
        {"rep", "{\"a\":1,\"s\":2}", "data.s: expected a string", 0},
        {"rep", "[1]", "data: expected an object of rep's fields", 0},
        {"ack", "{\"r\":200}", "data.r: 200 (raw 200) does not fit int8", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cJSON *v = cJSON_Parse(cases[i].values);
        uint8_t out[64];
        size_t len = 99;
        int rc = pc_encode(p, message_named(p, cases[i].msg), v, cases[i].mid, 0, out, sizeof out, &len, err,
                           sizeof err);
        if (rc == 0 || strcmp(err, cases[i].want) != 0)
            fail_msg("case %zu: want \"%s\", got rc %d \"%s\"", i, cases[i].want, rc, rc ? err : "");
        assert_int_equal(len, 0);
        cJSON_Delete(v);
    }
    /* no room */
    cJSON *v = cJSON_Parse("{\"v\":2}");
    uint8_t out[3];
    size_t len;
    assert_int_equal(pc_encode(p, message_named(p, "cmd"), v, 1, 0, out, sizeof out, &len, err, sizeof err), -1);
    assert_non_null(strstr(err, "bytes of room"));
    cJSON_Delete(v);
    pc_product_free(p);
}

/* Values drawn in range encode and decode back to themselves. */
static void test_round_trip(void **state)
{
    (void)state;
    struct pc_product *p = load("profiles/watermeter.json");
    int mi = message_named(p, "basicReport");
    uint32_t seed = 12345;
    for (int k = 0; k < 2000; k++) {
        seed = seed * 1103515245u + 12345u;
        double flow = (double)(seed % 9999999999u) / 100.0;
        seed = seed * 1103515245u + 12345u;
        double temp = (double)((int)(seed % 1251) - 400) / 10.0;
        seed = seed * 1103515245u + 12345u;
        double pres = (double)(seed % 2501) / 1000.0;
        char id[17];
        snprintf(id, sizeof id, "M%u", seed % 100000);
        cJSON *v = cJSON_CreateObject();
        cJSON_AddNumberToObject(v, "registerFlow", flow);
        cJSON_AddNumberToObject(v, "currentReading", flow / 2 > 99999999.99 ? 0 : floor(flow * 50) / 100);
        cJSON_AddNumberToObject(v, "temperature", temp);
        cJSON_AddNumberToObject(v, "pressure", pres);
        cJSON_AddStringToObject(v, "meterId", id);
        uint8_t b[64];
        size_t n;
        char err[300];
        if (pc_encode(p, mi, v, 0, 0, b, sizeof b, &n, err, sizeof err) != 0)
            fail_msg("%d: %s", k, err);
        cJSON *out;
        if (pc_decode(p, true, b, n, &out, err, sizeof err) != 0)
            fail_msg("%d: %s", k, err);
        if (!cJSON_Compare(cJSON_GetObjectItem(out, "data"), v, 1) || cJSON_GetObjectItem(out, "deviations")) {
            char *a = cJSON_PrintUnformatted(out), *w = cJSON_PrintUnformatted(v);
            fail_msg("%d: got %s, want %s", k, a, w);
        }
        cJSON_Delete(out);
        cJSON_Delete(v);
    }
    pc_product_free(p);
}

static void test_lookups(void **state)
{
    (void)state;
    struct pc_product *p = load("profiles/watermeter.json");
    int si = pc_service_index(p, "DeliverySchedule");
    assert_true(si >= 0);
    int ci = pc_command_index(&p->services[si], "SET_REPORT_PERIOD");
    assert_true(ci >= 0);
    assert_string_equal(p->messages[pc_message_for(p, PK_COMMAND, si, ci)].name, "setReportPeriod");
    assert_string_equal(p->messages[pc_message_for(p, PK_RESPONSE, si, ci)].name, "setReportPeriodAck");
    assert_int_equal(pc_message_for(p, PK_REPORT, si, -1), -1); /* no report of DeliverySchedule */
    assert_int_equal(pc_service_index(p, "Nope"), -1);
    assert_string_equal(p->manufacturer_name, "HZYB");
    assert_string_equal(p->services[0].props[0].unit, "m3");
    assert_int_equal(p->services[3].props[0].access, PA_R | PA_W);
    pc_product_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),    cmocka_unit_test(test_bad_files), cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_round_trip), cmocka_unit_test(test_lookups),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
