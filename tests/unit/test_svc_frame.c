/* The services' frame in the platform core (svc.h), through the fixture every
 * service's test uses (core_fixture.h): a core with its API, a fake front-end whose
 * device comes online, the API's device call seeing it; the device's protocol by
 * its id; the short-connection protocols. */
#include "tests/unit/core_fixture.h"

#include "sim/platform/core/svc.h"

static const char *argv0 = "";
static struct cf f;

static int setup(void **state)
{
    cf_init(&f, argv0, "test_svc_frame");
    (void)state;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return cf_fini(&f);
}

static void test_device_online_through_api(void **state)
{
    (void)state;
    cf_start(&f);
    struct cf_fe e;
    cf_fe_open(&f, &e, "jt808", 0);
    cf_fe_online(&e, "13800000001", 7);
    cf_fe_sync(&e);
    cf_drain(&f); /* the status flushed */
    cf_login(&f);
    cJSON *o = NULL;
    assert_int_equal(cf_call(&f, "GET", "/iocm/app/dm/v1.4.0/devices/13800000001", NULL, &o), 200);
    assert_string_equal(cf_str(o, "status"), "ONLINE");
    assert_string_equal(cf_str(o, "protocolType"), "jt808");
    cJSON_Delete(o);
    assert_int_equal(cf_call(&f, "GET", "/iocm/app/dm/v1.4.0/devices/13800000002", NULL, &o), 404);
    cJSON_Delete(o);
    cf_fe_close(&e);
    assert_int_equal(cf_stop(&f), 0);
    /* the device's protocol by its id alone */
    struct store *s;
    char err[256], proto[STORE_PROTOCOL_MAX + 1];
    assert_int_equal(store_open(&s, f.db, err, sizeof err), 0);
    assert_true(store_device_protocol(s, "13800000001", proto, sizeof proto));
    assert_string_equal(proto, "jt808");
    assert_false(store_device_protocol(s, "13800000002", proto, sizeof proto));
    store_close(s);
}

static void test_killed_core_restarts_on_its_file(void **state)
{
    (void)state;
    cf_start(&f);
    struct cf_fe e;
    cf_fe_open(&f, &e, "jt808", 0);
    cf_fe_online(&e, "13800000009", 3);
    cf_fe_sync(&e);
    cf_fe_close(&e);
    cf_kill(&f);
    cf_start(&f);
    cf_login(&f);
    cJSON *o = NULL;
    /* the registration was committed before it was answered */
    assert_int_equal(cf_call(&f, "GET", "/iocm/app/dm/v1.4.0/devices/13800000009", NULL, &o), 200);
    cJSON_Delete(o);
    assert_int_equal(cf_stop(&f), 0);
}

int main(int argc, char **argv)
{
    (void)argc;
    argv0 = argv[0];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_device_online_through_api, setup, teardown),
        cmocka_unit_test_setup_teardown(test_killed_core_restarts_on_its_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
