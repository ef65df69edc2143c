/* A command's life (sim/platform/core/cmd_fsm.c): every path of spec.md §3 with
 * its times, every refused event, retransmission, the 48 h default, and a
 * device's cached commands one at a time in order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sim/platform/core/cmd_fsm.h"

static char why[200];

static void path_is(const struct cmd_fsm *f, const char *want)
{
    char t[200];
    cmd_fsm_path_text(f, t, sizeof t);
    assert_string_equal(t, want);
}

static void test_immediate(void **state)
{
    (void)state;
    struct cmd_fsm f;
    enum cmd_action a;
    /* online: sent at once, acknowledged, answered */
    assert_int_equal(cmd_fsm_create(&f, 1000, 0, 1, CMD_LONG, true, &a, why, sizeof why), 0);
    assert_int_equal(a, CMD_SEND);
    assert_int_equal(f.n_path, 0);
    assert_int_equal(cmd_fsm_sent(&f, 1005, why, sizeof why), 0);
    assert_int_equal(f.state, STORE_CMD_SENT);
    assert_int_equal(cmd_fsm_delivered(&f, 1100, why, sizeof why), 0);
    assert_int_equal(cmd_fsm_result(&f, 1300, true, NULL, why, sizeof why), 0);
    path_is(&f, "SENT -> DELIVERED -> SUCCESSFUL");
    assert_int_equal(f.path[0].at_ms, 1005);
    assert_int_equal(f.path[2].at_ms, 1300);
    assert_true(cmd_state_final(f.state));
    /* an answer without an acknowledgement first; a failure keeps its detail */
    cmd_fsm_create(&f, 0, 0, 0, CMD_LONG, true, &a, why, sizeof why);
    cmd_fsm_sent(&f, 1, why, sizeof why);
    assert_int_equal(cmd_fsm_result(&f, 2, false, "result 2: not supported", why, sizeof why), 0);
    path_is(&f, "SENT -> FAIL");
    assert_string_equal(f.why, "result 2: not supported");
    /* offline: FAIL at once, never sent */
    assert_int_equal(cmd_fsm_create(&f, 50, 0, 0, CMD_SHORT, false, &a, why, sizeof why), 0);
    assert_int_equal(a, CMD_NOTIFY);
    path_is(&f, "FAIL");
    assert_string_equal(f.why, "the device is offline (an immediate command)");
    assert_int_equal(cmd_fsm_sent(&f, 51, why, sizeof why), -1);
    assert_string_equal(why, "a FAIL command is not sent again");
    /* the connection went while it was in flight */
    cmd_fsm_create(&f, 0, 0, 0, CMD_LONG, true, &a, why, sizeof why);
    cmd_fsm_sent(&f, 1, why, sizeof why);
    assert_int_equal(cmd_fsm_lost(&f, 9, "connection lost", why, sizeof why), 0);
    path_is(&f, "SENT -> FAIL");
    assert_int_equal(cmd_fsm_lost(&f, 10, NULL, why, sizeof why), -1);
}

static void test_cached(void **state)
{
    (void)state;
    struct cmd_fsm f;
    enum cmd_action a;
    /* expireTime absent: 48 h */
    assert_int_equal(cmd_fsm_create(&f, 0, -1, 0, CMD_SHORT, false, &a, why, sizeof why), 0);
    assert_int_equal(f.state, STORE_CMD_PENDING);
    assert_int_equal(f.expire_at_ms, 48ll * 3600 * 1000);
    assert_int_equal(cmd_fsm_next_ms(&f), 48ll * 3600 * 1000);
    cmd_fsm_tick(&f, 48ll * 3600 * 1000 - 1, &a);
    assert_int_equal(a, CMD_NONE);
    assert_int_equal(f.state, STORE_CMD_PENDING);
    cmd_fsm_tick(&f, 48ll * 3600 * 1000, &a);
    assert_int_equal(a, CMD_NOTIFY);
    path_is(&f, "PENDING -> EXPIRED");
    assert_string_equal(f.why, "not sent within its expireTime (172800 s)");
    assert_int_equal(cmd_fsm_next_ms(&f), INT64_MAX);
    /* sent once the device reported: the full path of spec.md's example */
    cmd_fsm_create(&f, 0, 60000, 0, CMD_SHORT, false, &a, why, sizeof why);
    assert_int_equal(cmd_fsm_sent(&f, 30000, why, sizeof why), 0);
    assert_int_equal(cmd_fsm_delivered(&f, 30100, why, sizeof why), 0);
    cmd_fsm_tick(&f, 90000, &a); /* past the expiry: it is no longer PENDING */
    assert_int_equal(f.state, STORE_CMD_DELIVERED);
    assert_int_equal(cmd_fsm_result(&f, 31000, true, NULL, why, sizeof why), 0);
    path_is(&f, "PENDING -> SENT -> DELIVERED -> SUCCESSFUL");
    /* a cached command to a long-connection device is refused */
    assert_int_equal(cmd_fsm_create(&f, 0, 5000, 0, CMD_LONG, true, &a, why, sizeof why), -1);
    assert_string_equal(why, "expireTime 5 s: a long-connection device takes immediate commands only (expireTime 0)");
    assert_int_equal(cmd_fsm_create(&f, 0, 5000, 4, CMD_SHORT, true, &a, why, sizeof why), -1);
    assert_string_equal(why, "maxRetransmit 4: 0 to 3");
}

static void test_cancel(void **state)
{
    (void)state;
    struct cmd_fsm f;
    enum cmd_action a;
    cmd_fsm_create(&f, 0, 1000, 0, CMD_SHORT, true, &a, why, sizeof why);
    assert_int_equal(cmd_fsm_cancel(&f, 10, why, sizeof why), 0);
    path_is(&f, "PENDING -> CANCELED");
    cmd_fsm_tick(&f, 5000, &a); /* a cancelled one does not expire */
    path_is(&f, "PENDING -> CANCELED");
    assert_int_equal(cmd_fsm_cancel(&f, 11, why, sizeof why), -1);
    assert_string_equal(why, "only a PENDING command can be cancelled (this one is CANCELED)");
    cmd_fsm_create(&f, 0, 1000, 0, CMD_SHORT, true, &a, why, sizeof why);
    cmd_fsm_sent(&f, 1, why, sizeof why);
    assert_int_equal(cmd_fsm_cancel(&f, 2, why, sizeof why), -1);
    assert_string_equal(why, "only a PENDING command can be cancelled (this one is SENT)");
    assert_int_equal(f.state, STORE_CMD_SENT);
    cmd_fsm_create(&f, 0, 0, 0, CMD_SHORT, true, &a, why, sizeof why);
    assert_int_equal(cmd_fsm_cancel(&f, 2, why, sizeof why), -1);
    assert_string_equal(why, "only a PENDING command can be cancelled (this one is being sent)");
}

static void test_timeout_and_retransmit(void **state)
{
    (void)state;
    struct cmd_fsm f;
    enum cmd_action a;
    /* maxRetransmit 0: 180 s without an ACK -> TIMEOUT */
    cmd_fsm_create(&f, 0, 0, 0, CMD_SHORT, true, &a, why, sizeof why);
    cmd_fsm_sent(&f, 1000, why, sizeof why);
    assert_int_equal(cmd_fsm_next_ms(&f), 181000);
    cmd_fsm_tick(&f, 180999, &a);
    assert_int_equal(a, CMD_NONE);
    cmd_fsm_tick(&f, 181000, &a);
    assert_int_equal(a, CMD_NOTIFY);
    path_is(&f, "SENT -> TIMEOUT");
    assert_string_equal(f.why, "no acknowledgement within 180 s of 1 sending");
    assert_int_equal(cmd_fsm_delivered(&f, 181001, why, sizeof why), -1); /* too late */
    assert_string_equal(why, "an acknowledgement of a TIMEOUT command (only a SENT one is acknowledged)");
    /* maxRetransmit 2: sent three times, then TIMEOUT; the path shows one SENT */
    cmd_fsm_create(&f, 0, 0, 2, CMD_SHORT, true, &a, why, sizeof why);
    cmd_fsm_sent(&f, 0, why, sizeof why);
    for (int k = 1; k <= 2; k++) {
        cmd_fsm_tick(&f, (int64_t)k * 180000, &a);
        assert_int_equal(a, CMD_SEND);
        assert_int_equal(cmd_fsm_sent(&f, (int64_t)k * 180000, why, sizeof why), 0);
    }
    assert_int_equal(cmd_fsm_sent(&f, 360001, why, sizeof why), -1);
    assert_string_equal(why, "sent 3 times already (maxRetransmit 2)");
    cmd_fsm_tick(&f, 540000, &a);
    assert_int_equal(a, CMD_NOTIFY);
    path_is(&f, "SENT -> TIMEOUT");
    assert_string_equal(f.why, "no acknowledgement within 180 s of 3 sendings");
    /* an ACK after a retransmission counts */
    cmd_fsm_create(&f, 0, 0, 1, CMD_SHORT, true, &a, why, sizeof why);
    cmd_fsm_sent(&f, 0, why, sizeof why);
    cmd_fsm_tick(&f, 180000, &a);
    cmd_fsm_sent(&f, 180000, why, sizeof why);
    assert_int_equal(cmd_fsm_delivered(&f, 200000, why, sizeof why), 0);
    cmd_fsm_tick(&f, 10000000, &a); /* DELIVERED waits for the answer */
    assert_int_equal(a, CMD_NONE);
    path_is(&f, "SENT -> DELIVERED");
}

static void test_due_in_order(void **state)
{
    (void)state;
    struct cmd_fsm c[4];
    const struct cmd_fsm *v[4] = {&c[0], &c[1], &c[2], &c[3]};
    enum cmd_action a;
    for (int i = 0; i < 4; i++)
        cmd_fsm_create(&c[i], i, 60000, 0, CMD_SHORT, false, &a, why, sizeof why);
    cmd_fsm_cancel(&c[0], 5, why, sizeof why);
    assert_int_equal(cmd_fsm_due(v, 4), 1);          /* the first PENDING */
    cmd_fsm_sent(&c[1], 10, why, sizeof why);
    assert_int_equal(cmd_fsm_due(v, 4), -1);         /* one in flight: the next waits */
    cmd_fsm_delivered(&c[1], 20, why, sizeof why);
    assert_int_equal(cmd_fsm_due(v, 4), 2);          /* acknowledged: the next may go */
    cmd_fsm_sent(&c[2], 30, why, sizeof why);
    cmd_fsm_result(&c[2], 40, false, "refused", why, sizeof why);
    assert_int_equal(cmd_fsm_due(v, 4), 3);
    cmd_fsm_tick(&c[3], 70000, &a);                  /* expired before it was due */
    assert_int_equal(cmd_fsm_due(v, 4), -1);
    assert_int_equal(cmd_fsm_due(v, 0), -1);
}

static void test_refusals(void **state)
{
    (void)state;
    struct cmd_fsm f;
    enum cmd_action a;
    cmd_fsm_create(&f, 0, 1000, 0, CMD_SHORT, true, &a, why, sizeof why);
    assert_int_equal(cmd_fsm_delivered(&f, 1, why, sizeof why), -1);
    assert_string_equal(why, "an acknowledgement of a PENDING command (only a SENT one is acknowledged)");
    assert_int_equal(cmd_fsm_result(&f, 1, true, NULL, why, sizeof why), -1);
    assert_string_equal(why, "an answer to a PENDING command (only a SENT or DELIVERED one is answered)");
    assert_int_equal(f.state, STORE_CMD_PENDING);
    assert_int_equal(f.n_path, 1);
    cmd_fsm_sent(&f, 2, why, sizeof why);
    cmd_fsm_result(&f, 3, true, NULL, why, sizeof why);
    assert_int_equal(cmd_fsm_result(&f, 4, false, NULL, why, sizeof why), -1); /* answered already */
    path_is(&f, "PENDING -> SENT -> SUCCESSFUL");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_immediate), cmocka_unit_test(test_cached), cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_timeout_and_retransmit), cmocka_unit_test(test_due_in_order),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
