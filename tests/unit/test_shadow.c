/* A device's shadow (sim/platform/core/shadow.c) on the water meter of
 * profiles/watermeter.json: desired checked against the model (writable
 * properties only, all or nothing), merged with later keys winning, versions,
 * the delta, pending until synced or reported, and the GET body. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "harness/textfile.h"
#include "sim/platform/core/shadow.h"

static struct pc_product *p;
static int ds; /* DeliverySchedule */

static int setup(void **state)
{
    (void)state;
    char *text = NULL, err[400];
    size_t len = 0;
    if (textfile_read("profiles/watermeter.json", 1 << 20, &text, &len) != 0 ||
        pc_product_parse_text(text, len, "watermeter", &p, err, sizeof err) != 0)
        return -1;
    free(text);
    ds = pc_service_index(p, "DeliverySchedule");
    return ds < 0;
}

static int teardown(void **state)
{
    (void)state;
    pc_product_free(p);
    return 0;
}

static int put(struct shadow *sh, const char *body, int64_t now, char *err)
{
    cJSON *j = cJSON_Parse(body);
    assert_non_null(j);
    int rc = shadow_put_desired(sh, j, now, err, 300);
    cJSON_Delete(j);
    return rc;
}

static void delta_is(const struct shadow *sh, int si, const char *want)
{
    cJSON *d = shadow_delta(sh, si);
    char *t = d ? cJSON_PrintUnformatted(d) : NULL;
    if (want)
        assert_string_equal(t ? t : "(none)", want);
    else
        assert_null(d);
    cJSON_free(t);
    cJSON_Delete(d);
}

static void test_desired_and_sync(void **state)
{
    (void)state;
    struct shadow sh;
    char err[300];
    assert_int_equal(shadow_init(&sh, p, 1000), 0);
    assert_false(shadow_pending(&sh, ds));
    assert_int_equal(put(&sh, "{\"serviceDesireds\":[{\"serviceId\":\"DeliverySchedule\",\"desired\":{\"reportPeriod\":3600}}]}",
                         2000, err), 0);
    assert_int_equal(sh.svc[ds].version, 1);
    assert_true(shadow_pending(&sh, ds));
    delta_is(&sh, ds, "{\"reportPeriod\":3600}");
    /* a second change before the first reached the device: merged, later keys win */
    assert_int_equal(put(&sh, "{\"serviceDesireds\":[{\"serviceId\":\"DeliverySchedule\",\"desired\":{\"reportPeriod\":900,"
                              "\"startTime\":\"20261204T000000Z\"}}]}", 3000, err), 0);
    assert_int_equal(sh.svc[ds].version, 2);
    delta_is(&sh, ds, "{\"reportPeriod\":900,\"startTime\":\"20261204T000000Z\"}");
    /* the same again changes nothing: no new version */
    assert_int_equal(put(&sh, "{\"serviceDesireds\":[{\"serviceId\":\"DeliverySchedule\",\"desired\":{\"reportPeriod\":900}}]}",
                         3500, err), 0);
    assert_int_equal(sh.svc[ds].version, 2);
    assert_int_equal(sh.svc[ds].desired_ms, 3000);
    /* the device took version 2: nothing pending, though it has not reported it yet */
    shadow_synced(&sh, ds, 2);
    assert_false(shadow_pending(&sh, ds));
    delta_is(&sh, ds, "{\"reportPeriod\":900,\"startTime\":\"20261204T000000Z\"}");
    /* its report: reported follows, the delta closes */
    cJSON *r = cJSON_Parse("{\"reportPeriod\":900,\"startTime\":\"20261204T000000Z\"}");
    shadow_report(&sh, ds, r, 4000);
    cJSON_Delete(r);
    delta_is(&sh, ds, NULL);
    /* a report that differs opens it again; pending only after a new desired */
    r = cJSON_Parse("{\"reportPeriod\":60}");
    shadow_report(&sh, ds, r, 5000);
    cJSON_Delete(r);
    delta_is(&sh, ds, "{\"reportPeriod\":900}");
    assert_false(shadow_pending(&sh, ds));
    shadow_synced(&sh, ds, 7); /* a version never given is ignored */
    assert_int_equal(sh.svc[ds].synced, 2);
    shadow_free(&sh);
}

static void test_refused(void **state)
{
    (void)state;
    struct shadow sh;
    char err[300];
    assert_int_equal(shadow_init(&sh, p, 0), 0);
    static const struct {
        const char *body, *want;
    } cases[] = {
        {"[]", "body: expected an object with \"serviceDesireds\""},
        {"{\"x\":1}", "x: unknown member (known: serviceDesireds)"},
        {"{\"serviceDesireds\":[]}", "serviceDesireds: expected an array of at least one service"},
        {"{\"serviceDesireds\":[{\"serviceId\":\"Nope\",\"desired\":{\"a\":1}}]}",
         "serviceDesireds[0].serviceId: \"Nope\" is not a service of product HZYB-WaterMeter-NBIoTDevice"},
        {"{\"serviceDesireds\":[{\"serviceId\":\"Battery\",\"desired\":{\"batteryLevel\":5}}]}",
         "serviceDesireds[0].desired.batteryLevel: not writable (its access is R)"},
        {"{\"serviceDesireds\":[{\"serviceId\":\"DeliverySchedule\",\"desired\":{\"colour\":5}}]}",
         "serviceDesireds[0].desired.colour: not a property of service DeliverySchedule"},
        {"{\"serviceDesireds\":[{\"serviceId\":\"DeliverySchedule\",\"desired\":{\"reportPeriod\":5}}]}",
         "serviceDesireds[0].desired.reportPeriod: 5 is outside its range 60..86400"},
        {"{\"serviceDesireds\":[{\"serviceId\":\"DeliverySchedule\",\"desired\":{\"reportPeriod\":\"60\"}}]}",
         "serviceDesireds[0].desired.reportPeriod: expected a number (an int)"},
        {"{\"serviceDesireds\":[{\"serviceId\":\"DeliverySchedule\",\"desired\":{}}]}",
         "serviceDesireds[0].desired: expected an object of at least one property"},
        {"{\"serviceDesireds\":[{\"serviceId\":\"DeliverySchedule\",\"desired\":{\"reportPeriod\":60},\"v\":1}]}",
         "serviceDesireds[0].v: unknown member (known: serviceId, desired)"},
        /* all or nothing: the first is fine, the second is not, neither is taken */
        {"{\"serviceDesireds\":[{\"serviceId\":\"DeliverySchedule\",\"desired\":{\"reportPeriod\":60}},"
         "{\"serviceId\":\"Battery\",\"desired\":{\"batteryLevel\":1}}]}",
         "serviceDesireds[1].desired.batteryLevel: not writable (its access is R)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        if (put(&sh, cases[i].body, 1, err) == 0 || strcmp(err, cases[i].want) != 0)
            fail_msg("case %zu: want \"%s\", got \"%s\"", i, cases[i].want, err);
    }
    assert_int_equal(sh.svc[ds].version, 0);
    assert_null(sh.svc[ds].desired->child);
    shadow_free(&sh);
}

static void test_get_body(void **state)
{
    (void)state;
    struct shadow sh;
    char err[300];
    assert_int_equal(shadow_init(&sh, p, 1556158317000), 0); /* 2019-04-25T02:11:57Z */
    put(&sh, "{\"serviceDesireds\":[{\"serviceId\":\"DeliverySchedule\",\"desired\":{\"reportPeriod\":120}}]}",
        1556158377000, err);
    cJSON *j = shadow_to_json(&sh, "HZYB-WaterMeter-NBIoTDevice_866000000000001", NULL, NULL);
    assert_string_equal(cJSON_GetObjectItem(j, "createTime")->valuestring, "20190425T021157Z");
    assert_string_equal(cJSON_GetObjectItem(j, "lastModifiedTime")->valuestring, "20190425T021257Z");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "deviceInfo"), "deviceType")->valuestring,
                        "WaterMeter");
    const cJSON *svcs = cJSON_GetObjectItem(j, "services");
    assert_int_equal(cJSON_GetArraySize(svcs), p->n_services);
    const cJSON *s = cJSON_GetArrayItem(svcs, ds);
    assert_string_equal(cJSON_GetObjectItem(s, "serviceId")->valuestring, "DeliverySchedule");
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(s, "desiredProps"), "reportPeriod")->valueint, 120);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(s, "delta"), "reportPeriod")->valueint, 120);
    assert_null(cJSON_GetObjectItem(s, "reportedProps")->child);
    cJSON_Delete(j);
    shadow_free(&sh);
}

static void report(struct shadow *sh, const char *data, int64_t now)
{
    cJSON *j = cJSON_Parse(data);
    assert_non_null(j);
    shadow_report(sh, ds, j, now);
    cJSON_Delete(j);
}

static void reported_is(const struct shadow *sh, const char *want)
{
    char *t = cJSON_PrintUnformatted(sh->svc[ds].reported);
    assert_string_equal(t, want);
    cJSON_free(t);
}

/* Reports merge key by key, later values winning, each key once, in the order
 * first seen, whatever order later reports send them in. */
static void test_report_merge(void **state)
{
    (void)state;
    struct shadow sh;
    assert_int_equal(shadow_init(&sh, p, 0), 0);
    report(&sh, "{\"a\":1,\"b\":\"x\",\"c\":[1]}", 1);
    reported_is(&sh, "{\"a\":1,\"b\":\"x\",\"c\":[1]}");
    report(&sh, "{\"a\":2,\"b\":\"x\",\"c\":[1,2]}", 2);
    reported_is(&sh, "{\"a\":2,\"b\":\"x\",\"c\":[1,2]}");
    report(&sh, "{\"c\":3,\"d\":{\"e\":1},\"a\":4}", 3);
    reported_is(&sh, "{\"a\":4,\"b\":\"x\",\"c\":3,\"d\":{\"e\":1}}");
    report(&sh, "{\"b\":\"y\",\"b\":\"z\",\"d\":null}", 4);
    reported_is(&sh, "{\"a\":4,\"b\":\"z\",\"c\":3,\"d\":null}");
    assert_int_equal(sh.svc[ds].reported_ms, 4);
    shadow_free(&sh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_desired_and_sync),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_get_body),
        cmocka_unit_test(test_report_merge),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
