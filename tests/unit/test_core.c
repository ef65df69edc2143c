/* The engine's small parts: timer wheel, ledger, step picking, control channel,
 * addresses, virtual clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>
#include <unistd.h>

#include "sim/core/clock.h"
#include "sim/core/ctl.h"
#include "sim/core/ledger.h"
#include "sim/net/transport.h"
#include "sim/core/wheel.h"

struct fired {
    struct wheel_node n;   /* first member */
    int id;
    int count;
    uint64_t at_fire;
};

static int order[64], n_order;
static struct wheel *cur_wheel;
static struct fired *resched_me;

static void on_fire(struct wheel_node *n, void *arg)
{
    struct fired *f = (struct fired *)n;
    f->count++;
    f->at_fire = *(uint64_t *)arg;
    if (n_order < 64)
        order[n_order++] = f->id;
    if (f == resched_me && f->count < 3)
        wheel_schedule(cur_wheel, n, n->at_us + 1000); /* from inside the callback */
}

static void test_wheel_order_and_cancel(void **state)
{
    (void)state;
    static struct wheel w;
    uint64_t now = 0;
    wheel_init(&w, 1000, 0, on_fire, &now);
    cur_wheel = &w;
    resched_me = NULL;
    n_order = 0;
    struct fired a = {.id = 1}, b = {.id = 2}, c = {.id = 3}, d = {.id = 4};
    wheel_schedule(&w, &a.n, 5000);
    wheel_schedule(&w, &b.n, 2500);
    wheel_schedule(&w, &c.n, 9000);
    wheel_schedule(&w, &d.n, 7000);
    assert_int_equal(w.scheduled, 4);
    wheel_cancel(&w, &d.n);
    assert_false(wheel_pending(&d.n));
    assert_int_equal(w.scheduled, 3);
    now = 2400;
    assert_int_equal(wheel_advance(&w, now), 0); /* same slot as b, but b is not due */
    now = 2600;
    assert_int_equal(wheel_advance(&w, now), 1);
    now = 10000;
    assert_int_equal(wheel_advance(&w, now), 2);
    assert_int_equal(n_order, 3);
    assert_int_equal(order[0], 2);
    assert_int_equal(order[1], 1);
    assert_int_equal(order[2], 3);
    assert_int_equal(d.count, 0);
    assert_int_equal(w.scheduled, 0);
    /* rescheduling moves a node rather than adding it twice */
    wheel_schedule(&w, &a.n, 20000);
    wheel_schedule(&w, &a.n, 15000);
    assert_int_equal(w.scheduled, 1);
    now = 16000;
    assert_int_equal(wheel_advance(&w, now), 1);
    assert_int_equal(a.at_fire, 16000);
}

static void test_wheel_far_future_and_stall(void **state)
{
    (void)state;
    static struct wheel w;
    uint64_t now = 0;
    wheel_init(&w, 1000, 0, on_fire, &now);
    cur_wheel = &w;
    resched_me = NULL;
    n_order = 0;
    /* more than one turn of the ring away: must not fire early */
    struct fired far = {.id = 1}, late = {.id = 2};
    uint64_t far_at = (uint64_t)WHEEL_SLOTS * 1000 * 2 + 500;
    wheel_schedule(&w, &far.n, far_at);
    for (now = 0; now < far_at - 1000; now += 700)
        wheel_advance(&w, now);
    assert_int_equal(far.count, 0);
    /* a long stall: everything overdue fires once on the next advance */
    wheel_schedule(&w, &late.n, now + 100);
    now += (uint64_t)WHEEL_SLOTS * 1000 * 5;
    wheel_advance(&w, now);
    assert_int_equal(far.count, 1);
    assert_int_equal(late.count, 1);
    /* a deadline in the past fires on the next advance */
    wheel_schedule(&w, &late.n, 3);
    wheel_advance(&w, now);
    assert_int_equal(late.count, 2);
}

static void test_wheel_reschedule_in_callback(void **state)
{
    (void)state;
    static struct wheel w;
    uint64_t now = 0;
    wheel_init(&w, 1000, 0, on_fire, &now);
    cur_wheel = &w;
    struct fired r = {.id = 9};
    resched_me = &r;
    wheel_schedule(&w, &r.n, 1000);
    for (now = 0; now <= 10000; now += 250)
        wheel_advance(&w, now);
    assert_int_equal(r.count, 3);       /* 1000, 2000, 3000 */
    assert_false(wheel_pending(&r.n));
    resched_me = NULL;
}

/* An overdue node rescheduled from its own callback during an advance that covers
 * several slots fires again promptly, not a whole turn of the ring later
 * (regression). */
static struct fired *again_me;
static void on_fire_again(struct wheel_node *n, void *arg)
{
    struct fired *f = (struct fired *)n;
    f->count++;
    if (f == again_me && f->count == 1)
        wheel_schedule(cur_wheel, n, 0); /* overdue at once */
    (void)arg;
}

static void test_wheel_overdue_in_callback(void **state)
{
    (void)state;
    static struct wheel w;
    uint64_t now = 0;
    wheel_init(&w, 1000, 0, on_fire_again, &now);
    cur_wheel = &w;
    struct fired f = {.id = 1};
    again_me = &f;
    wheel_schedule(&w, &f.n, 2000);
    now = 9000; /* one late advance over slots 0..9 */
    wheel_advance(&w, now);
    now = 10000;
    wheel_advance(&w, now);
    assert_int_equal(f.count, 2);
    assert_false(wheel_pending(&f.n));
}

static void test_ledger(void **state)
{
    (void)state;
    struct ledger l = {0}, m = {0};
    char buf[256];
    for (int i = 0; i < 10; i++)
        ledger_sent(&l);
    for (int i = 0; i < 6; i++)
        ledger_acked(&l);
    ledger_failed(&l, LEDGER_CONN_LOST);
    ledger_failed(&l, LEDGER_REFUSED);
    ledger_timeout(&l);
    assert_int_equal(ledger_pending(&l), 1);
    assert_false(ledger_balanced(&l));
    ledger_format(&l, buf, sizeof buf);
    assert_string_equal(buf, "sent 10 = acked 6 + failed 2 (refused 1, connection lost 1) + timed out 1 + UNSETTLED 1");
    ledger_timeout(&l);
    assert_true(ledger_balanced(&l));
    ledger_format(&l, buf, sizeof buf);
    assert_string_equal(buf, "sent 10 = acked 6 + failed 2 (refused 1, connection lost 1) + timed out 2");
    ledger_add(&m, &l);
    ledger_add(&m, &l);
    assert_int_equal(m.sent, 20);
    assert_int_equal(m.why[LEDGER_CONN_LOST], 2);
    ledger_acked(&m); /* settled twice: over-settled is not balanced either */
    assert_false(ledger_balanced(&m));
    ledger_format(&m, buf, sizeof buf);
    assert_non_null(strstr(buf, "OVERSETTLED 1"));
    assert_string_equal(ledger_why_name(LEDGER_OFFLINE), "offline");
}

static void test_pick(void **state)
{
    (void)state;
    static const struct { uint64_t n; double f; uint64_t want; } cases[] = {
        {500, 0.1, 50}, {7, 0.5, 4}, {10, 1.0, 10}, {10, 1.5, 10}, {3, 0.01, 0}, {1000, 0.333, 333}, {1, 0.5, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t got = 0, longest_gap = 0, last = 0;
        for (uint64_t k = 0; k < cases[i].n; k++)
            if (ctl_picked(k, cases[i].n, cases[i].f)) {
                got++;
                if (k - last > longest_gap)
                    longest_gap = k - last;
                last = k;
            }
        assert_int_equal(ctl_pick_count(cases[i].n, cases[i].f), cases[i].want);
        assert_int_equal(got, cases[i].want);
        /* spread evenly: no gap much longer than n / want */
        if (cases[i].want > 1)
            assert_true(longest_gap <= cases[i].n / cases[i].want + 1);
    }
    assert_false(ctl_picked(10, 10, 1.0)); /* out of range */
}

static void test_ctl_channel(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(ctl_pair(fds), 0);
    struct ctl_msg m = {.type = CTL_COMMAND, .fleet = 3, .kind = 1, .fraction = 0.25, .count = 77};
    snprintf(m.ident, sizeof m.ident, "13800000000");
    assert_int_equal(ctl_send(fds[0], &m, "{\"a\":1}"), 0);
    assert_int_equal(ctl_send(fds[0], &m, NULL), 0);
    struct ctl_msg r;
    char payload[64];
    assert_int_equal(ctl_recv(fds[1], &r, payload, sizeof payload), 1);
    assert_int_equal(r.type, CTL_COMMAND);
    assert_int_equal(r.fleet, 3);
    assert_int_equal(r.kind, 1);
    assert_int_equal(r.count, 77);
    assert_string_equal(r.ident, "13800000000");
    assert_string_equal(payload, "{\"a\":1}");
    /* one message per packet: the second has no payload */
    assert_int_equal(ctl_recv(fds[1], &r, payload, sizeof payload), 1);
    assert_string_equal(payload, "");
    close(fds[0]);
    assert_int_equal(ctl_recv(fds[1], &r, payload, sizeof payload), 0); /* peer closed */
    close(fds[1]);
}

static void test_addresses(void **state)
{
    (void)state;
    struct sockaddr_storage a;
    char err[128], buf[64];
    assert_int_equal(transport_resolve("127.0.0.1:7999", &a, err, sizeof err), 0);
    transport_format(&a, buf, sizeof buf);
    assert_string_equal(buf, "127.0.0.1:7999");
    assert_true(transport_is_loopback(&a));
    assert_int_equal(transport_resolve("tcp://[::1]:8000", &a, err, sizeof err), 0);
    transport_format(&a, buf, sizeof buf);
    assert_string_equal(buf, "[::1]:8000");
    assert_true(transport_is_loopback(&a));
    assert_int_equal(transport_resolve("127.0.0.1", &a, err, sizeof err), -1);
    assert_non_null(strstr(err, "host:port"));
    assert_int_equal(transport_resolve("127.0.0.1:0", &a, err, sizeof err), -1);
    assert_non_null(strstr(err, "not 1-65535"));
    assert_int_equal(transport_resolve("127.0.0.1:99999", &a, err, sizeof err), -1);
    /* the host of a target: what a TLS terminal checks the certificate for by default */
    assert_int_equal(transport_host("tls://gw.example:7999", buf, sizeof buf), 0);
    assert_string_equal(buf, "gw.example");
    assert_int_equal(transport_host("127.0.0.1:1", buf, sizeof buf), 0);
    assert_string_equal(buf, "127.0.0.1");
    assert_int_equal(transport_host("tls://[::1]:8000", buf, sizeof buf), 0);
    assert_string_equal(buf, "[::1]");
    assert_int_equal(transport_host("tls://:8000", buf, sizeof buf), -1);
    assert_int_equal(transport_host("gw", buf, sizeof buf), -1);
    assert_int_equal(transport_host("tls://a-rather-long-host-name.example:1", buf, 8), -1);
    /* the source spread stays in 127.0.0.0/8, never .0 or .255, and differs per key */
    struct sockaddr_storage s1, s2;
    for (uint32_t k = 0; k < 300000; k += 997) {
        transport_spread_source(k, &s1);
        uint32_t ip = ntohl(((struct sockaddr_in *)&s1)->sin_addr.s_addr);
        assert_int_equal(ip >> 24, 127);
        assert_true((ip & 0xFF) != 0 && (ip & 0xFF) != 255);
        assert_true(transport_is_loopback(&s1));
    }
    transport_spread_source(1, &s1);
    transport_spread_source(2, &s2);
    assert_memory_not_equal(&((struct sockaddr_in *)&s1)->sin_addr, &((struct sockaddr_in *)&s2)->sin_addr, 4);
}

static void test_clock_scale(void **state)
{
    (void)state;
    clock_init(50.0);
    uint64_t t0 = clock_now_us();
    usleep(20000);
    uint64_t dt = clock_now_us() - t0;
    /* 20 ms real at 50x is about 1 s virtual */
    assert_true(dt >= 950000 && dt < 3000000);
    assert_true(clock_real_seconds(1000000) > 0.0199 && clock_real_seconds(1000000) < 0.0201);
    assert_true(clock_real_delay(0) == 0.0);
    /* unix time follows virtual time: 1 virtual hour later is 3600 s later */
    assert_int_equal(clock_unix_at(3600000000u) - clock_unix_at(0), 3600);
    assert_true(clock_unix_at(0) > 1500000000);
    clock_init(1.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wheel_order_and_cancel),
        cmocka_unit_test(test_wheel_far_future_and_stall),
        cmocka_unit_test(test_wheel_reschedule_in_callback),
        cmocka_unit_test(test_wheel_overdue_in_callback),
        cmocka_unit_test(test_ledger),
        cmocka_unit_test(test_pick),
        cmocka_unit_test(test_ctl_channel),
        cmocka_unit_test(test_addresses),
        cmocka_unit_test(test_clock_scale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
