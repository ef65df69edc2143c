/* Push delivery (sim/platform/core/push_policy.c) by 004 §5's rules: 200
 * delivered; no answer in 15 s or 501-504 kept 10 min and retried round-robin;
 * other answers rejected; 10 failed retries in the window make the URL invalid,
 * probed until a probe is delivered; expiry after 10 min. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sim/platform/core/push_policy.h"

#define S 1000ll

static void test_answers(void **state)
{
    (void)state;
    struct push_url u[1] = {{0}};
    struct push_msg m[5] = {{0}};
    int statuses[5] = {200, 503, 0, 404, 500};
    for (int i = 0; i < 5; i++) {
        push_sent(&m[i], 0);
        push_answered(u, &m[i], statuses[i], 100);
    }
    assert_int_equal(m[0].state, PS_DELIVERED);
    assert_int_equal(m[1].state, PS_KEPT);
    assert_int_equal(m[2].state, PS_KEPT);
    assert_int_equal(m[3].state, PS_REJECTED);
    assert_int_equal(m[4].state, PS_REJECTED); /* 500 is not one the seed retries */
    assert_int_equal(m[1].next_try_ms, 100 + PUSH_RETRY_MS);
    assert_int_equal(u[0].delivered, 1);
    assert_int_equal(u[0].failed, 4);
    assert_false(u[0].invalid);               /* first failures are not retries */
    for (int s = 501; s <= 504; s++)
        assert_true(push_retryable(s));
    assert_false(push_retryable(505));
    assert_false(push_retryable(200));
    assert_string_equal(push_state_name(PS_KEPT), "KEPT");
    assert_true(push_state_final(PS_EXPIRED));
    assert_false(push_state_final(PS_KEPT));
}

static void test_timeout_and_expiry(void **state)
{
    (void)state;
    struct push_url u[1] = {{0}};
    struct push_msg m[1] = {{0}};
    int cur = 0;
    assert_int_equal(push_due(u, 1, m, 1, &cur, 0), 0);
    push_sent(&m[0], 0);
    assert_int_equal(push_next_ms(u, 1, m, 1), PUSH_TIMEOUT_MS);
    push_tick(u, m, 1, PUSH_TIMEOUT_MS - 1);
    assert_int_equal(m[0].state, PS_SENT);
    push_tick(u, m, 1, PUSH_TIMEOUT_MS); /* no answer in 15 s: failed, kept */
    assert_int_equal(m[0].state, PS_KEPT);
    assert_int_equal(m[0].first_fail_ms, PUSH_TIMEOUT_MS);
    assert_int_equal(m[0].last_status, 0);
    /* retried every 30 s, failing with 502, until 10 min after the first failure */
    int64_t t = PUSH_TIMEOUT_MS;
    int tries = 0;
    while (m[0].state == PS_KEPT && tries < 100) {
        t = push_next_ms(u, 1, m, 1);
        push_tick(u, m, 1, t);
        int i = push_due(u, 1, m, 1, &cur, t);
        if (i < 0)
            continue;
        push_sent(&m[i], t);
        push_answered(u, &m[i], 502, t + 10);
        tries++;
    }
    assert_int_equal(m[0].state, PS_EXPIRED);
    assert_true(t <= PUSH_TIMEOUT_MS + PUSH_KEEP_MS + 10);
    assert_true(tries >= 9 && tries <= 20);
}

static void test_invalid_and_probe(void **state)
{
    (void)state;
    struct push_url u[2] = {{0}, {0}};
    struct push_msg m[4] = {{.url = 0}, {.url = 0}, {.url = 1}, {.url = 0}};
    m[3].state = PS_DELIVERED; /* not there yet: made NEW later */
    int cur = 0;
    /* round-robin: URL 0, then URL 1, then URL 0 again */
    assert_int_equal(push_due(u, 2, m, 4, &cur, 0), 0);
    push_sent(&m[0], 0);
    assert_int_equal(push_due(u, 2, m, 4, &cur, 0), 2);
    push_sent(&m[2], 0);
    assert_int_equal(push_due(u, 2, m, 4, &cur, 0), 1);
    push_sent(&m[1], 0);
    push_answered(u, &m[2], 200, 5);
    push_answered(u, &m[0], 503, 5);
    push_answered(u, &m[1], 503, 5);
    /* URL 0 keeps failing: its 10th failed retry within the window makes it invalid */
    int64_t t = 5;
    int retries = 0;
    while (!u[0].invalid && retries < 50) {
        t += PUSH_RETRY_MS;
        int i;
        while ((i = push_due(u, 2, m, 4, &cur, t)) >= 0) {
            push_sent(&m[i], t);
            push_answered(u, &m[i], 504, t + 1);
            retries++;
        }
    }
    assert_true(u[0].invalid);
    assert_int_equal(retries, PUSH_INVALID_AFTER);
    assert_int_equal(u[0].next_probe_ms, t + 1 + PUSH_PROBE_MS);
    /* invalid: no retries, a new message is kept, not sent */
    m[3].state = PS_NEW;
    push_tick(u, m, 4, t + 2);
    assert_int_equal(m[3].state, PS_KEPT);
    assert_int_equal(push_due(u, 2, m, 4, &cur, t + 2 + PUSH_RETRY_MS), -1);
    /* the probe: the oldest kept message, once, at its time */
    int64_t p = u[0].next_probe_ms;
    assert_int_equal(push_due(u, 2, m, 4, &cur, p - 1), -1);
    int i = push_due(u, 2, m, 4, &cur, p);
    assert_int_equal(i, 0);
    assert_true(m[0].probe);
    push_sent(&m[0], p);
    assert_int_equal(push_due(u, 2, m, 4, &cur, p), -1); /* one probe at a time */
    push_answered(u, &m[0], 503, p + 1);                 /* still down: the next probe later */
    assert_true(u[0].invalid);
    assert_int_equal(u[0].next_probe_ms, p + 1 + PUSH_PROBE_MS);
    p = u[0].next_probe_ms;
    i = push_due(u, 2, m, 4, &cur, p);
    push_sent(&m[i], p);
    push_answered(u, &m[i], 200, p + 1); /* it recovered */
    assert_false(u[0].invalid);
    assert_int_equal(m[i].state, PS_DELIVERED);
    /* the rest goes again at once */
    int left = 0;
    while ((i = push_due(u, 2, m, 4, &cur, p + 2)) >= 0) {
        push_sent(&m[i], p + 2);
        push_answered(u, &m[i], 200, p + 3);
        left++;
    }
    assert_true(left >= 1);
    for (int k = 0; k < 4; k++)
        assert_true(m[k].state == PS_DELIVERED || m[k].state == PS_EXPIRED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_answers),
        cmocka_unit_test(test_timeout_and_expiry),
        cmocka_unit_test(test_invalid_and_probe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
