/* Device management in the platform core (svc_dev.c, docs/api.md, Devices) through
 * its API and fake front-ends (core_fixture.h): registration with each refusal,
 * the deviceId rule, the registration timeout (and a connection cancelling it),
 * status on the virtual clock for long-connection (1 min after the drop) and
 * short-connection devices (25 h, 169 h), the status history, change, deletion,
 * the list's paging and filters, and a SIGKILLed core judging again by the same
 * rules.  The clock runs fast (clock_init before cf_start: the forked core shares
 * its epoch); every wait is bounded. */
#include "tests/unit/core_fixture.h"

#include "sim/core/clock.h"
#include "sim/platform/core/svc.h"
#include "sim/platform/core/svc_dev.h"

static const char *argv0 = "";
static struct cf f;

#define REG "/iocm/app/reg/v1.1.0/deviceCredentials"
#define DEV "/iocm/app/dm/v1.4.0/devices"

static int setup(void **state)
{
    cf_init(&f, argv0, "test_svc_dev");
    (void)state;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    clock_init(1);
    return cf_fini(&f);
}

/* cf_call, logged in again when the token expired (it expires on the virtual clock) */
static long call(const char *method, const char *path, const char *body, cJSON **out)
{
    long st = cf_call(&f, method, path, body, out);
    /* at --time-scale 120000 a token lasts 30 ms: a slow moment outlives it */
    for (int i = 0; st == 401 && i < 20; i++) {
        if (out)
            cJSON_Delete(*out);
        cf_login(&f);
        st = cf_call(&f, method, path, body, out);
    }
    return st;
}

static void start(double scale)
{
    clock_init(scale);
    cf_start(&f);
    cf_login(&f);
}

/* POST a registration: the status; *out the body (the caller deletes it). */
static long reg(cJSON **out, const char *body)
{
    cJSON *o = NULL;
    long st = call("POST", REG, body, &o);
    if (out)
        *out = o;
    else
        cJSON_Delete(o);
    return st;
}

/* The refusal of body: status want, error code, and error_desc starting with field. */
static void refused(const char *body, long want, const char *code, const char *field)
{
    cJSON *o = NULL;
    long st = reg(&o, body);
    if (st != want || !cf_str(o, "error_code") || strcmp(cf_str(o, "error_code"), code) != 0 ||
        !cf_str(o, "error_desc") || strncmp(cf_str(o, "error_desc"), field, strlen(field)) != 0) {
        char *t = o ? cJSON_PrintUnformatted(o) : NULL;
        fail_msg("%s: HTTP %ld %s, wanted %ld %s naming %s", body, st, t ? t : "", want, code, field);
    }
    cJSON_Delete(o);
}

/* A device's status through GET ("" when 404). */
static const char *status_of(const char *id)
{
    static char s[32];
    char path[256];
    cJSON *o = NULL;
    snprintf(path, sizeof path, DEV "/%s", id);
    long st = call("GET", path, NULL, &o);
    s[0] = '\0';
    if (st == 200)
        snprintf(s, sizeof s, "%s", cf_str(o, "status") ? cf_str(o, "status") : "?");
    else if (st != 404)
        fail_msg("GET %s: HTTP %ld", path, st);
    cJSON_Delete(o);
    return s;
}

/* Poll until status_of(id) is want, ms of real time at most. */
static bool wait_status(const char *id, const char *want, int ms)
{
    for (int i = 0; i <= ms / 10; i++) {
        if (strcmp(status_of(id), want) == 0)
            return true;
        usleep(10000);
    }
    return false;
}

/* The statuses of a device's history, joined by ' ' into out. */
static long history(const char *id, const char *query, char *out, size_t cap, long *total)
{
    char path[256];
    cJSON *o = NULL;
    snprintf(path, sizeof path, DEV "/%s/statusHistory%s", id, query);
    long st = call("GET", path, NULL, &o);
    out[0] = '\0';
    const cJSON *h;
    cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(o, "statusHistory")) {
        size_t n = strlen(out);
        snprintf(out + n, cap - n, "%s%s", n ? " " : "", cf_str(h, "status"));
        assert_non_null(cf_str(h, "time"));
        assert_int_equal(strlen(cf_str(h, "time")), 16);
    }
    if (total)
        *total = (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, "totalCount"));
    cJSON_Delete(o);
    return st;
}

static void test_register(void **state)
{
    (void)state;
    start(1);
    cJSON *o = NULL;
    /* productId + "_" + nodeId, a hex psk kept, the default timeout */
    assert_int_equal(reg(&o, "{\"nodeId\":\"868000000000001\",\"productId\":\"HZYB-WaterMeter\","
                             "\"protocolType\":\"LwM2M\",\"psk\":\"00112233445566778899aabbccddeeff\"}"),
                     200);
    assert_string_equal(cf_str(o, "deviceId"), "HZYB-WaterMeter_868000000000001");
    assert_string_equal(cf_str(o, "verifyCode"), "868000000000001");
    assert_string_equal(cf_str(o, "psk"), "00112233445566778899aabbccddeeff");
    assert_int_equal((int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, "timeout")), 180);
    cJSON_Delete(o);
    /* no product: nodeId alone; a generated psk is hex */
    assert_int_equal(reg(&o, "{\"nodeId\":\"AA-BB-CC\",\"protocolType\":\"mqtt\",\"verifyCode\":\"v1\",\"timeout\":0}"), 200);
    assert_string_equal(cf_str(o, "deviceId"), "AA-BB-CC");
    assert_string_equal(cf_str(o, "verifyCode"), "v1");
    const char *psk = cf_str(o, "psk");
    assert_non_null(psk);
    assert_int_equal(strlen(psk), 16);
    assert_int_equal(strspn(psk, "0123456789abcdef"), 16);
    assert_int_equal((int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, "timeout")), 0);
    cJSON_Delete(o);
    /* JT/T 808 (the default protocol): the terminal's phone is its id, whatever the product */
    assert_int_equal(reg(&o, "{\"nodeId\":\"013500000007\",\"productId\":\"truck\"}"), 200);
    assert_string_equal(cf_str(o, "deviceId"), "013500000007");
    cJSON_Delete(o);
    assert_int_equal(reg(&o, "{\"nodeId\":\"n1\",\"productId\":\"P\",\"protocolType\":\"mqtt\",\"psk\":\"Secret_1234\"}"),
                     200);
    assert_string_equal(cf_str(o, "deviceId"), "P_n1");
    cJSON_Delete(o);
    /* GET shows what was registered */
    assert_int_equal(call("GET", DEV "/HZYB-WaterMeter_868000000000001", NULL, &o), 200);
    assert_string_equal(cf_str(o, "nodeId"), "868000000000001");
    assert_string_equal(cf_str(o, "productId"), "HZYB-WaterMeter");
    assert_string_equal(cf_str(o, "protocolType"), "lwm2m");
    assert_string_equal(cf_str(o, "status"), "INACTIVE");
    assert_string_equal(cf_str(o, "statusDetail"), "NOT_ACTIVE");
    cJSON_Delete(o);
    assert_int_equal(call("GET", DEV "/013500000007", NULL, &o), 200);
    assert_string_equal(cf_str(o, "productId"), "truck");
    assert_string_equal(cf_str(o, "protocolType"), "jt808");
    cJSON_Delete(o);
    /* 409: the nodeId again (same deviceId), the same nodeId of a protocol under another product */
    refused("{\"nodeId\":\"868000000000001\",\"productId\":\"HZYB-WaterMeter\",\"protocolType\":\"lwm2m\"}", 409,
            "100007", "nodeId");
    refused("{\"nodeId\":\"868000000000001\",\"productId\":\"Other\",\"protocolType\":\"lwm2m\"}", 409, "100007",
            "nodeId");
    refused("{\"nodeId\":\"013500000007\"}", 409, "100007", "nodeId");
    refused("{\"nodeId\":\"n2\",\"protocolType\":\"mqtt\",\"name\":\"P_n1\"}", 409, "100007", "name");
    /* 400, each naming its field */
    refused("{}", 400, "100002", "nodeId");
    refused("[1]", 400, "100002", "body");
    refused("{\"nodeId\":\"\"}", 400, "100002", "nodeId");
    refused("{\"nodeId\":7}", 400, "100002", "nodeId");
    refused("{\"nodeId\":\"a/b\"}", 400, "100002", "nodeId");
    refused("{\"nodeId\":\"a\",\"productId\":\"p q\"}", 400, "100002", "productId");
    refused("{\"nodeId\":\"a\",\"protocolType\":\"zigbee\"}", 400, "100002", "protocolType");
    refused("{\"nodeId\":\"a\",\"protocolType\":\"lwm2m\",\"psk\":\"0011223344g\"}", 400, "100002", "psk");
    refused("{\"nodeId\":\"a\",\"protocolType\":\"coap\",\"psk\":\"0011\"}", 400, "100002", "psk");
    refused("{\"nodeId\":\"a\",\"psk\":\"00112233445566778899aabbccddeeff0\"}", 400, "100002", "psk");
    refused("{\"nodeId\":\"a\",\"psk\":123456789}", 400, "100002", "psk");
    refused("{\"nodeId\":\"a\",\"timeout\":-1}", 400, "100002", "timeout");
    refused("{\"nodeId\":\"a\",\"timeout\":1.5}", 400, "100002", "timeout");
    refused("{\"nodeId\":\"a\",\"timeout\":\"60\"}", 400, "100002", "timeout");
    refused("{\"nodeId\":\"a\",\"colour\":\"red\"}", 400, "100002", "colour");
    refused("{\"nodeId\":\"0123456789012345678901234567890123456789\",\"protocolType\":\"mqtt\","
            "\"productId\":\"0123456789012345678901234567890\"}",
            400, "100002", "nodeId");
    refused("{\"nodeId\":\"a\",\"verifyCode\":\"\"}", 400, "100002", "verifyCode");
    assert_int_equal(cf_stop(&f), 0);
    /* the psk given is the secret the device authenticates with */
    struct store *s;
    char err[256];
    assert_int_equal(store_open(&s, f.db, err, sizeof err), 0);
    assert_true(store_auth(s, "lwm2m", "HZYB-WaterMeter_868000000000001", "00112233445566778899aabbccddeeff"));
    assert_true(store_auth(s, "mqtt", "P_n1", "Secret_1234"));
    assert_false(store_auth(s, "mqtt", "P_n1", "Secret_12345"));
    store_close(s);
}

static void test_timeout_deletes_and_connect_cancels(void **state)
{
    (void)state;
    start(1000); /* 1 s virtual = 1 ms real */
    struct cf_fe e;
    cf_fe_open(&f, &e, "jt808", 0);
    /* 2 s virtual: gone within a few ms */
    assert_int_equal(reg(NULL, "{\"nodeId\":\"gone1\",\"protocolType\":\"mqtt\",\"timeout\":2}"), 200);
    /* 1500 s virtual = 1.5 s real: the terminal connects well before */
    assert_int_equal(reg(NULL, "{\"nodeId\":\"013500000001\",\"timeout\":1500}"), 200);
    /* never */
    assert_int_equal(reg(NULL, "{\"nodeId\":\"kept\",\"protocolType\":\"mqtt\",\"timeout\":0}"), 200);
    /* 1500 s too, never connecting */
    assert_int_equal(reg(NULL, "{\"nodeId\":\"gone2\",\"protocolType\":\"mqtt\",\"timeout\":1500}"), 200);
    uint64_t t0 = clock_now_us();
    cf_fe_online(&e, "013500000001", 1);
    cf_fe_sync(&e);
    assert_true(wait_status("gone1", "", 1000));
    assert_string_equal(status_of("013500000001"), "ONLINE");
    assert_true(wait_status("gone2", "", 4000));
    /* not before its timeout */
    assert_true(clock_now_us() - t0 >= 1400u * 1000000u);
    assert_string_equal(status_of("013500000001"), "ONLINE");
    assert_string_equal(status_of("kept"), "INACTIVE");
    /* its history went with it */
    char h[256];
    assert_int_equal(history("gone2", "", h, sizeof h, NULL), 404);
    /* the nodeId is free again */
    assert_int_equal(reg(NULL, "{\"nodeId\":\"gone2\",\"protocolType\":\"mqtt\",\"timeout\":0}"), 200);
    cf_fe_close(&e);
    assert_int_equal(cf_stop(&f), 0);
}

static void test_long_connection_status(void **state)
{
    (void)state;
    start(100); /* 1 min virtual = 600 ms real */
    struct cf_fe e;
    cf_fe_open(&f, &e, "jt808", 0);
    cf_fe_online(&e, "013500000002", 4);
    cf_fe_sync(&e);
    assert_string_equal(status_of("013500000002"), "ONLINE");
    assert_int_equal(bus_offline(&e.out, 4, "013500000002"), 0);
    cf_fe_send(&e);
    cf_fe_sync(&e);
    uint64_t t0 = clock_now_us();
    /* 1 min of grace after the drop */
    assert_string_equal(status_of("013500000002"), "ONLINE");
    assert_true(wait_status("013500000002", "OFFLINE", 3000));
    assert_true(clock_now_us() - t0 >= 59u * 1000000u);
    /* back: ONLINE at once */
    cf_fe_online(&e, "013500000002", 5);
    cf_fe_sync(&e);
    assert_string_equal(status_of("013500000002"), "ONLINE");
    char h[256];
    long total = 0;
    assert_int_equal(history("013500000002", "", h, sizeof h, &total), 200);
    assert_string_equal(h, "ONLINE OFFLINE ONLINE");
    assert_int_equal(total, 3);
    /* paged */
    assert_int_equal(history("013500000002", "?pageNo=1&pageSize=2", h, sizeof h, &total), 200);
    assert_string_equal(h, "ONLINE");
    assert_int_equal(total, 3);
    assert_int_equal(history("013500000002", "?pageSize=0", h, sizeof h, NULL), 400);
    assert_int_equal(history("013500000099", "", h, sizeof h, NULL), 404);
    /* a device that never connected stays INACTIVE */
    assert_int_equal(reg(NULL, "{\"nodeId\":\"013500000003\",\"timeout\":0}"), 200);
    usleep(100000);
    assert_string_equal(status_of("013500000003"), "INACTIVE");
    /* the front-end goes away: its devices' connections with it, by the same rule */
    cf_fe_close(&e);
    t0 = clock_now_us();
    assert_string_equal(status_of("013500000002"), "ONLINE");
    assert_true(wait_status("013500000002", "OFFLINE", 3000));
    assert_true(clock_now_us() - t0 >= 59u * 1000000u);
    assert_int_equal(history("013500000002", "", h, sizeof h, NULL), 200);
    assert_string_equal(h, "ONLINE OFFLINE ONLINE OFFLINE");
    assert_int_equal(cf_stop(&f), 0);
}

static void test_short_connection_status(void **state)
{
    (void)state;
    snprintf(f.cfg.short_conn, sizeof f.cfg.short_conn, "jt808");
    start(120000); /* 25 h = 0.75 s real, 169 h = 5.07 s */
    struct cf_fe e;
    cf_fe_open(&f, &e, "jt808", 0);
    cf_fe_online(&e, "013500000004", 2);
    cf_fe_sync(&e);
    uint64_t t0 = clock_now_us();
    assert_string_equal(status_of("013500000004"), "ONLINE");
    assert_true(wait_status("013500000004", "OFFLINE", 3000));
    assert_true(clock_now_us() - t0 >= (uint64_t)(24.9 * 3600) * 1000000u);
    /* a report: ONLINE again, at once */
    assert_int_equal(bus_report(&e.out, (uint64_t)svc_unix_ms(svc_now_ms()), "013500000004", "location", "{\"lat\":1}"), 0);
    cf_fe_send(&e);
    cf_fe_sync(&e);
    t0 = clock_now_us();
    assert_string_equal(status_of("013500000004"), "ONLINE");
    assert_true(wait_status("013500000004", "OFFLINE", 3000));
    assert_true(wait_status("013500000004", "ABNORMAL", 9000));
    assert_true(clock_now_us() - t0 >= 168u * 3600u * 1000000u);
    char h[256];
    assert_int_equal(history("013500000004", "", h, sizeof h, NULL), 200);
    assert_string_equal(h, "ONLINE OFFLINE ONLINE OFFLINE ABNORMAL");
    /* the list's status filter judges by the same rules */
    cJSON *o = NULL;
    assert_int_equal(call("GET", DEV "?status=ABNORMAL", NULL, &o), 200);
    assert_int_equal((int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, "totalCount")), 1);
    cJSON_Delete(o);
    cf_fe_close(&e);
    assert_int_equal(cf_stop(&f), 0);
}

static long list(const char *query, char *ids, size_t cap)
{
    char path[512];
    cJSON *o = NULL;
    snprintf(path, sizeof path, DEV "%s", query);
    long st = call("GET", path, NULL, &o);
    ids[0] = '\0';
    const cJSON *d;
    cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(o, "devices")) {
        size_t n = strlen(ids);
        snprintf(ids + n, cap - n, "%s%s", n ? " " : "", cf_str(d, "deviceId"));
    }
    long total = st == 200 ? (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, "totalCount")) : -st;
    cJSON_Delete(o);
    return total;
}

static void test_list_paging_filters(void **state)
{
    (void)state;
    start(1);
    assert_int_equal(reg(NULL, "{\"nodeId\":\"d1\",\"productId\":\"A\",\"protocolType\":\"mqtt\"}"), 200);
    usleep(2000); /* createTime orders the list */
    assert_int_equal(reg(NULL, "{\"nodeId\":\"d2\",\"productId\":\"A\",\"protocolType\":\"mqtt\"}"), 200);
    usleep(2000);
    assert_int_equal(reg(NULL, "{\"nodeId\":\"d3\",\"productId\":\"B\",\"protocolType\":\"lwm2m\"}"), 200);
    usleep(2000);
    assert_int_equal(reg(NULL, "{\"nodeId\":\"013500000005\",\"productId\":\"A\"}"), 200);
    usleep(2000);
    assert_int_equal(reg(NULL, "{\"nodeId\":\"d5\",\"protocolType\":\"mqtt\"}"), 200);
    usleep(2000);
    struct cf_fe e;
    cf_fe_open(&f, &e, "jt808", 0);
    cf_fe_online(&e, "013500000005", 1);
    cf_fe_sync(&e);
    char ids[1024];
    /* by createTime: the terminal's registration over the air is its newest */
    assert_int_equal(list("", ids, sizeof ids), 5);
    assert_string_equal(ids, "A_d1 A_d2 B_d3 d5 013500000005");
    assert_int_equal(list("?pageNo=1&pageSize=2", ids, sizeof ids), 5);
    assert_string_equal(ids, "B_d3 d5");
    assert_int_equal(list("?pageNo=2&pageSize=2", ids, sizeof ids), 5);
    assert_string_equal(ids, "013500000005");
    assert_int_equal(list("?pageNo=9", ids, sizeof ids), 5);
    assert_string_equal(ids, "");
    /* the JT/T 808 terminal's registration over the air kept the API's product */
    assert_int_equal(list("?productId=A", ids, sizeof ids), 3);
    assert_string_equal(ids, "A_d1 A_d2 013500000005");
    assert_int_equal(list("?protocolType=mqtt", ids, sizeof ids), 3);
    assert_int_equal(list("?protocolType=mqtt&productId=A&pageSize=1", ids, sizeof ids), 2);
    assert_string_equal(ids, "A_d1");
    assert_int_equal(list("?status=ONLINE", ids, sizeof ids), 1);
    assert_string_equal(ids, "013500000005");
    assert_int_equal(list("?status=INACTIVE&protocolType=lwm2m", ids, sizeof ids), 1);
    assert_string_equal(ids, "B_d3");
    assert_int_equal(list("?startTime=20990101T000000Z", ids, sizeof ids), 0);
    assert_int_equal(list("?startTime=20000101T000000Z&endTime=20990101T000000Z", ids, sizeof ids), 5);
    assert_int_equal(list("?endTime=20000101T000000Z", ids, sizeof ids), 0);
    /* every bad parameter named */
    const char *bad[] = {"?pageSize=0", "?pageSize=251", "?pageNo=-1", "?pageNo=x", "?status=SLEEPING",
                         "?startTime=2020-01-01", "?endTime=20200230T000000Z",
                         "?startTime=20200102T000000Z&endTime=20200101T000000Z", "?productId="};
    const char *field[] = {"pageSize", "pageSize", "pageNo", "pageNo", "status", "startTime", "endTime", "endTime",
                           "productId"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char path[256];
        cJSON *o = NULL;
        snprintf(path, sizeof path, DEV "%s", bad[i]);
        assert_int_equal(call("GET", path, NULL, &o), 400);
        assert_string_equal(cf_str(o, "error_code"), "100002");
        if (strncmp(cf_str(o, "error_desc"), field[i], strlen(field[i])) != 0)
            fail_msg("%s: %s", bad[i], cf_str(o, "error_desc"));
        cJSON_Delete(o);
    }
    cf_fe_close(&e);
    assert_int_equal(cf_stop(&f), 0);
}

static void test_modify_and_delete(void **state)
{
    (void)state;
    start(1);
    assert_int_equal(reg(NULL, "{\"nodeId\":\"m1\",\"protocolType\":\"mqtt\"}"), 200);
    assert_int_equal(reg(NULL, "{\"nodeId\":\"m2\",\"protocolType\":\"mqtt\",\"name\":\"two\"}"), 200);
    cJSON *o = NULL;
    assert_int_equal(call("PUT", DEV "/m1", "{\"name\":\"meter one\",\"endUser\":\"alice\"}", &o), 204);
    cJSON_Delete(o);
    assert_int_equal(call("GET", DEV "/m1", NULL, &o), 200);
    assert_string_equal(cf_str(o, "name"), "meter one");
    assert_string_equal(cf_str(o, "endUser"), "alice");
    cJSON_Delete(o);
    assert_int_equal(call("PUT", DEV "/m1", "{\"name\":\"two\"}", &o), 409);
    assert_string_equal(cf_str(o, "error_code"), "100007");
    cJSON_Delete(o);
    const char *bad[] = {"{}", "{\"name\":\"\"}", "{\"name\":5}", "{\"status\":\"ONLINE\"}", "[]"};
    const char *field[] = {"body", "name", "name", "status", "body"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(call("PUT", DEV "/m1", bad[i], &o), 400);
        if (strncmp(cf_str(o, "error_desc"), field[i], strlen(field[i])) != 0)
            fail_msg("%s: %s", bad[i], cf_str(o, "error_desc"));
        cJSON_Delete(o);
    }
    assert_int_equal(call("PUT", DEV "/nobody", "{\"name\":\"x\"}", &o), 404);
    cJSON_Delete(o);
    /* the name was not changed by the refusals */
    assert_int_equal(call("GET", DEV "/m1", NULL, &o), 200);
    assert_string_equal(cf_str(o, "name"), "meter one");
    cJSON_Delete(o);
    assert_int_equal(call("DELETE", DEV "/m1", NULL, &o), 204);
    cJSON_Delete(o);
    assert_string_equal(status_of("m1"), "");
    assert_int_equal(call("DELETE", DEV "/m1", NULL, &o), 404);
    assert_string_equal(cf_str(o, "error_code"), "100006");
    cJSON_Delete(o);
    char ids[256];
    assert_int_equal(list("", ids, sizeof ids), 1);
    assert_string_equal(ids, "m2");
    /* a terminal's own unregistration (0x0003) forgets it here too: its history, its nodeId */
    struct cf_fe e;
    cf_fe_open(&f, &e, "jt808", 0);
    cf_fe_online(&e, "013500000008", 1);
    cf_fe_sync(&e);
    char h[128];
    assert_int_equal(history("013500000008", "", h, sizeof h, NULL), 200);
    assert_string_equal(h, "ONLINE");
    assert_int_equal(bus_unregister(&e.out, "013500000008"), 0);
    cf_fe_send(&e);
    cf_fe_sync(&e);
    assert_string_equal(status_of("013500000008"), "");
    assert_int_equal(history("013500000008", "", h, sizeof h, NULL), 404);
    assert_int_equal(reg(NULL, "{\"nodeId\":\"013500000008\",\"timeout\":0}"), 200);
    assert_int_equal(history("013500000008", "", h, sizeof h, NULL), 200);
    assert_string_equal(h, "INACTIVE");
    cf_fe_close(&e);
    assert_int_equal(cf_stop(&f), 0);
    struct store *s;
    char err[256], name[64];
    assert_int_equal(store_open(&s, f.db, err, sizeof err), 0);
    assert_false(store_device_name(s, "mqtt", "m1", name, sizeof name));
    assert_true(store_device_name(s, "mqtt", "m2", name, sizeof name));
    store_close(s);
}

static void test_restart_judges_by_the_same_rules(void **state)
{
    (void)state;
    start(100);
    struct cf_fe e;
    cf_fe_open(&f, &e, "jt808", 0);
    cf_fe_online(&e, "013500000006", 1);
    /* 300 s virtual = 3 s real: outlives the restart, not the test */
    assert_int_equal(reg(NULL, "{\"nodeId\":\"later\",\"protocolType\":\"mqtt\",\"timeout\":300}"), 200);
    assert_int_equal(reg(NULL, "{\"nodeId\":\"never\",\"protocolType\":\"mqtt\",\"timeout\":0}"), 200);
    cf_fe_sync(&e);
    usleep(300000); /* a flush of the rows */
    uint64_t t0 = clock_now_us();
    cf_kill(&f);
    cf_fe_close(&e);
    cf_start(&f);
    cf_login(&f);
    /* connected when the core went: dropped then, so ONLINE for 1 min, then OFFLINE */
    assert_string_equal(status_of("013500000006"), "ONLINE");
    assert_true(wait_status("013500000006", "OFFLINE", 3000));
    assert_string_equal(status_of("never"), "INACTIVE");
    /* the stored deadline still holds */
    assert_string_equal(status_of("later"), "INACTIVE");
    assert_true(wait_status("later", "", 5000));
    assert_true(clock_now_us() - t0 >= 250u * 1000000u);
    char h[256];
    assert_int_equal(history("013500000006", "", h, sizeof h, NULL), 200);
    assert_string_equal(h, "ONLINE OFFLINE");
    /* and a clean stop keeps them too */
    assert_int_equal(cf_stop(&f), 0);
    cf_start(&f);
    cf_login(&f);
    assert_string_equal(status_of("013500000006"), "OFFLINE");
    assert_string_equal(status_of("never"), "INACTIVE");
    assert_int_equal(history("013500000006", "", h, sizeof h, NULL), 200);
    assert_string_equal(h, "ONLINE OFFLINE");
    assert_int_equal(cf_stop(&f), 0);
}

/* A device registered through the API connects, and the core is killed before its
 * next flush: the connection ended the timeout all the same. */
static void test_connected_then_killed_is_kept(void **state)
{
    (void)state;
    start(100);
    assert_int_equal(reg(NULL, "{\"nodeId\":\"013500000012\",\"timeout\":100}"), 200); /* 1 s real */
    uint64_t t0 = clock_now_us();
    struct cf_fe e;
    cf_fe_open(&f, &e, "jt808", 0);
    cf_fe_online(&e, "013500000012", 1);
    cf_fe_sync(&e);
    cf_kill(&f);
    cf_fe_close(&e);
    cf_start(&f);
    cf_login(&f);
    while (clock_now_us() - t0 < 150u * 1000000u)
        usleep(20000);
    assert_string_equal(status_of("013500000012"), "OFFLINE");
    assert_int_equal(cf_stop(&f), 0);
}

/* Many devices, one timer: 20,000 registered before the core starts, 1,000 of them
 * online then dropped one after another (keys all over the heap); each OFFLINE
 * after its own minute, none before. */
static void test_many_devices_one_heap(void **state)
{
    (void)state;
    struct store *s;
    char err[256], secret[STORE_SECRET_MAX + 1], id[32], name[48];
    assert_int_equal(store_open(&s, f.db, err, sizeof err), 0);
    assert_int_equal(store_begin(s, err, sizeof err), 0);
    for (int i = 0; i < 20000; i++) {
        snprintf(id, sizeof id, "0137%08d", i);
        snprintf(name, sizeof name, "N_%s", id);
        struct store_device d = {.protocol = "jt808", .device_id = id, .name = name};
        assert_int_equal(store_register(s, &d, false, secret, sizeof secret, err, sizeof err), STORE_REG_OK);
    }
    assert_int_equal(store_commit(s, err, sizeof err), 0);
    store_close(s);
    start(100); /* 1 min = 600 ms real */
    char ids[64];
    assert_int_equal(list("?status=INACTIVE&pageSize=1", ids, sizeof ids), 20000);
    struct cf_fe e;
    cf_fe_open(&f, &e, "jt808", 0);
    for (int i = 0; i < 1000; i++) {
        snprintf(id, sizeof id, "0137%08d", i * 7);
        cf_fe_online(&e, id, (uint32_t)i + 1);
    }
    cf_fe_sync(&e);
    assert_int_equal(list("?status=ONLINE&pageSize=1", ids, sizeof ids), 1000);
    /* dropped in reverse order, in 4 waves 100 ms (10 s virtual) apart */
    for (int w = 0; w < 4; w++) {
        for (int i = 999 - w; i >= 0; i -= 4) {
            snprintf(id, sizeof id, "0137%08d", i * 7);
            assert_int_equal(bus_offline(&e.out, (uint32_t)i + 1, id), 0);
        }
        cf_fe_send(&e);
        cf_fe_sync(&e);
        usleep(100000);
    }
    /* the last wave's minute is not over yet */
    long off = list("?status=OFFLINE&pageSize=1", ids, sizeof ids);
    assert_true(off <= 750);
    bool done = false;
    for (int i = 0; i < 300 && !done; i++) {
        done = list("?status=OFFLINE&pageSize=1", ids, sizeof ids) == 1000;
        if (!done)
            usleep(10000);
    }
    assert_true(done);
    assert_int_equal(list("?status=ONLINE&pageSize=1", ids, sizeof ids), 0);
    assert_int_equal(list("?status=INACTIVE&pageSize=1", ids, sizeof ids), 19000);
    char h[128];
    assert_int_equal(history("013700000007", "", h, sizeof h, NULL), 200);
    assert_string_equal(h, "ONLINE OFFLINE");
    cf_fe_close(&e);
    assert_int_equal(cf_stop(&f), 0);
}

/* The parsers alone (svc_dev_req.c). */
static void test_parsers(void **state)
{
    (void)state;
    char err[200], id[STORE_ID_MAX + 1];
    assert_int_equal(svc_dev_device_id("mqtt", "P", "n", id, sizeof id, err, sizeof err), 0);
    assert_string_equal(id, "P_n");
    assert_int_equal(svc_dev_device_id("lwm2m", "", "n", id, sizeof id, err, sizeof err), 0);
    assert_string_equal(id, "n");
    assert_int_equal(svc_dev_device_id("jt808", "P", "013500000001", id, sizeof id, err, sizeof err), 0);
    assert_string_equal(id, "013500000001");
    int64_t ms = 0;
    assert_int_equal(svc_dev_time_parse("t", "20200101T000001Z", &ms, err, sizeof err), 0);
    assert_int_equal(ms, 1577836801000);
    assert_int_equal(svc_dev_time_parse("t", "20201301T000000Z", &ms, err, sizeof err), -1);
    assert_string_equal(err, "t: \"20201301T000000Z\" is not a time yyyyMMddTHHmmssZ (UTC)");
    int no, size;
    assert_int_equal(svc_dev_page_parse(NULL, NULL, 25, 250, &no, &size, err, sizeof err), 0);
    assert_int_equal(no, 0);
    assert_int_equal(size, 25);
    assert_int_equal(svc_dev_page_parse("3", "250", 25, 250, &no, &size, err, sizeof err), 0);
    assert_int_equal(no * 1000 + size, 3250);
    assert_int_equal(svc_dev_page_parse("1", "99999999999999999999", 25, 250, &no, &size, err, sizeof err), -1);
    assert_int_equal(svc_dev_status_parse("ABNORMAL"), DS_ABNORMAL);
    assert_int_equal(svc_dev_status_parse("online"), -1);
}

int main(int argc, char **argv)
{
    (void)argc;
    argv0 = argv[0];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parsers),
        cmocka_unit_test_setup_teardown(test_register, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout_deletes_and_connect_cancels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_connection_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_short_connection_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_paging_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_modify_and_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_judges_by_the_same_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connected_then_killed_is_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_devices_one_heap, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
