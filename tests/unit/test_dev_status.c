/* A device's status (sim/platform/core/dev_status.c): 25 h and 169 h for
 * short-connection devices, 1 min after the drop for long-connection ones,
 * INACTIVE before the first connection; each boundary exactly, and the next
 * change where a timer must be armed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sim/platform/core/dev_status.h"

#define H (3600ll * 1000)

static void test_short(void **state)
{
    (void)state;
    struct dev_times t = {.short_conn = true, .ever = true, .last_seen_ms = 10 * H};
    assert_int_equal(dev_status_at(&t, 10 * H), DS_ONLINE);
    assert_int_equal(dev_status_at(&t, 35 * H - 1), DS_ONLINE);
    assert_int_equal(dev_status_at(&t, 35 * H), DS_OFFLINE);
    assert_int_equal(dev_status_at(&t, 179 * H - 1), DS_OFFLINE);
    assert_int_equal(dev_status_at(&t, 179 * H), DS_ABNORMAL);
    assert_int_equal(dev_status_next_ms(&t, 10 * H), 35 * H);
    assert_int_equal(dev_status_next_ms(&t, 35 * H), 179 * H);
    assert_int_equal(dev_status_next_ms(&t, 179 * H), INT64_MAX);
    /* a report brings it back */
    t.last_seen_ms = 200 * H;
    assert_int_equal(dev_status_at(&t, 200 * H), DS_ONLINE);
    /* a long connection's flag means nothing to a short-connection device */
    t.connected = true;
    assert_int_equal(dev_status_at(&t, 230 * H), DS_OFFLINE);
}

static void test_long(void **state)
{
    (void)state;
    struct dev_times t = {.ever = true, .connected = true, .last_seen_ms = 0};
    assert_int_equal(dev_status_at(&t, 500 * H), DS_ONLINE); /* connected: reports do not matter */
    assert_int_equal(dev_status_next_ms(&t, 0), INT64_MAX);
    t.connected = false;
    t.dropped_ms = 1000;
    assert_int_equal(dev_status_at(&t, 1000), DS_ONLINE);
    assert_int_equal(dev_status_at(&t, 60999), DS_ONLINE);
    assert_int_equal(dev_status_at(&t, 61000), DS_OFFLINE);
    assert_int_equal(dev_status_next_ms(&t, 1000), 61000);
    assert_int_equal(dev_status_next_ms(&t, 61000), INT64_MAX);
    assert_int_equal(dev_status_at(&t, 1000 * H), DS_OFFLINE); /* never ABNORMAL */
}

static void test_inactive(void **state)
{
    (void)state;
    struct dev_times s = {.short_conn = true}, l = {0};
    assert_int_equal(dev_status_at(&s, 1000 * H), DS_INACTIVE);
    assert_int_equal(dev_status_at(&l, 0), DS_INACTIVE);
    assert_int_equal(dev_status_next_ms(&s, 0), INT64_MAX);
    assert_string_equal(dev_status_name(DS_INACTIVE), "INACTIVE");
    assert_string_equal(dev_status_name(DS_ABNORMAL), "ABNORMAL");
    assert_string_equal(dev_status_name(DS__COUNT), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_short),
        cmocka_unit_test(test_long),
        cmocka_unit_test(test_inactive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
