/* The JT/T 808 terminal's state machine stepped on a frozen clock and a memory
 * transport (tests/unit/jt808_term_fixture.h): bytes in, bytes out, virtual time
 * moved by hand, so every timing is asserted exactly and nothing sleeps.  The
 * socket-level behaviour stays covered by test_jt808_term.c. */
#include <stdio.h>

#include "tests/unit/jt808_term_fixture.h"

/* One terminal of `version`; fleet: more fields of the fleet; top: more
 * top-level members (both may be ""). */
static const char *one_fleet(int version, const char *fleet, const char *top)
{
    static char json[2048];
    snprintf(json, sizeof json,
             "{\"name\": \"d\", \"duration\": \"1h\", \"fleets\": [{\"id\": \"f\", \"protocol\": \"jt808\", "
             "\"count\": 1, \"version\": %d, \"phone\": \"13800000000+\", \"ack_timeout\": \"2s\", "
             "\"reconnect\": {\"min\": \"100ms\", \"max\": \"1s\"}%s%s}]%s%s}",
             version, fleet[0] ? ", " : "", fleet, top[0] ? ", " : "", top);
    return json;
}

/* The one frame t sent since the last look must be msg_id; returns its serial. */
static uint16_t expect_one(struct term *t, uint16_t msg_id)
{
    struct sent s = {0};
    enum jt808_rc rc = JT808_OK;
    sent_take(&s, t);
    if (!sent_decode(&s, &rc, NULL))
        fail_msg("nothing sent at %llu us (wanted 0x%04X)", (unsigned long long)clock_now_us(), msg_id);
    assert_int_equal(rc, JT808_OK);
    if (rx.h.msg_id != msg_id)
        fail_msg("sent 0x%04X, wanted 0x%04X", rx.h.msg_id, msg_id);
    uint16_t serial = rx.h.serial;
    enum jt808_rc rc2;
    assert_false(sent_decode(&s, &rc2, NULL));
    free(s.buf);
    return serial;
}

/* Start, register and authenticate at virtual time 0. */
static struct dh *online(const char *fleet, const char *top)
{
    char err[512];
    struct dh *h = dh_start(one_fleet(2013, fleet, top), err, sizeof err);
    if (!h)
        fail_msg("%s", err);
    worker_poll(h->w);
    struct term *t = dh_term(h, 0, 0);
    assert_int_equal(t->state, TS_REGISTERING);
    register_ok(t, expect_one(t, 0x0100), "AUTH-1");
    assert_int_equal(t->state, TS_AUTHENTICATING);
    ack(t, expect_one(t, 0x0102), 0x0102);
    assert_int_equal(t->state, TS_AUTHENTICATED);
    return h;
}

/* Reports come every period on the dot; latency is measured from when each was
 * due, here exactly the 3 ms the platform takes to answer. */
static void test_reports_on_schedule(void **state)
{
    (void)state;
    struct dh *h = online("\"heartbeat\": \"1h\", \"report\": {\"every\": \"5s\"}", "");
    struct term *t = dh_term(h, 0, 0);
    uint64_t first = 0;
    int reports = 0;
    for (uint64_t now = 0; now < 30 * S; now += MS) {
        dh_run_to(h, now);
        size_t n;
        uint8_t *b = dh_take(t, &n);
        if (!b)
            continue;
        struct sent s = {.buf = b, .n = n};
        enum jt808_rc rc;
        assert_true(sent_decode(&s, &rc, NULL));
        assert_int_equal(rx.h.msg_id, 0x0200);
        if (!first)
            first = now;
        else /* on the period, to the wheel's resolution */
            assert_true(now - (first + (uint64_t)reports * 5 * S) <= 3 * MS);
        reports++;
        uint16_t serial = rx.h.serial;
        free(b);
        dh_run_to(h, now + 3 * MS);
        ack(t, serial, 0x0200);
        now += 3 * MS;
    }
    assert_true(first <= 5 * S + 3 * MS);
    assert_int_equal(reports, (int)((30 * S - first - 1) / (5 * S)) + 1);
    struct fleet_stats *st = dh_stats(h, 0);
    assert_int_equal(st->reports, (uint64_t)reports);
    assert_int_equal(st->reports_acked, (uint64_t)reports);
    assert_int_equal(st->report_latency.n, (uint64_t)reports);
    assert_true(st->report_latency.min >= 3 * MS && st->report_latency.max <= 3 * MS + 2100);
    assert_int_equal(st->ledger.timed_out, 0);
    dh_free(h);
}

/* An unanswered request times out at exactly sent + ack_timeout, not before. */
static void test_ack_timeout_exact(void **state)
{
    (void)state;
    struct dh *h = online("\"heartbeat\": \"1s\", \"report\": null", "");
    struct term *t = dh_term(h, 0, 0);
    dh_run_to(h, 1 * S);
    expect_one(t, 0x0002);
    struct fleet_stats *st = dh_stats(h, 0);
    uint64_t before = st->ledger.timed_out;
    dh_run_to(h, 1 * S + 2 * S - 10 * MS);
    assert_int_equal(st->ledger.timed_out, before);
    dh_run_to(h, 1 * S + 2 * S + 10 * MS);
    assert_int_equal(st->ledger.timed_out, before + 1);
    assert_int_equal(t->state, TS_AUTHENTICATED); /* a lost heartbeat keeps the connection */
    dh_free(h);
}

/* The verdict partials of every expectation, as the worker leaves them at the end. */
static void drain(struct dh *h)
{
    struct ctl_msg m = {.type = CTL_DRAIN, .settle_us = 1 * S};
    worker_control(h->w, &m);
    dh_run_to(h, clock_now_us() + 2 * MS);
    assert_int_equal(h->slot->phase, WP_DONE);
}

/* A cut breaks the connection without a goodbye (abort), the terminal comes back
 * after `down` with its auth code, and a transitions expectation sees the second
 * entry into authenticated (the path through the reconnect). */
static void test_cut_and_return(void **state)
{
    (void)state;
    struct dh *h = online("\"heartbeat\": \"1h\", \"report\": null",
                          "\"expect\": [{\"id\": \"T-1\", \"transitions\": [\"authenticated\", \"disconnected\","
                          " \"connecting\", \"authenticated\"]}, {\"id\": \"T-2\", \"transitions\": "
                          "[\"authenticated\", \"registering\"]}]");
    struct term *t = dh_term(h, 0, 0);
    struct fleet_stats *st = dh_stats(h, 0);
    dh_run_to(h, 1 * S);
    struct ctl_msg cut = {.type = CTL_FAULT, .fleet = 0, .fraction = 1.0, .kind = CTL_FAULT_CUT, .down_us = 500 * MS};
    worker_control(h->w, &cut);
    assert_int_equal(mem_aborted, 1);
    assert_int_equal(t->state, TS_DISCONNECTED);
    assert_int_equal(st->faults, 1);
    assert_int_equal(st->disconnects, 1);
    dh_run_to(h, 1 * S + 490 * MS);
    assert_int_equal(t->state, TS_DISCONNECTED); /* stays away for `down` */
    dh_run_to(h, 1 * S + 510 * MS);
    assert_int_equal(t->state, TS_AUTHENTICATING); /* back with its auth code: no registration */
    ack(t, expect_one(t, 0x0102), 0x0102);
    assert_int_equal(t->state, TS_AUTHENTICATED);
    assert_int_equal(st->connects, 2);
    drain(h);
    assert_int_equal(h->slot->expect[0].total, 1);
    assert_int_equal(h->slot->expect[0].ok, 1);  /* through the reconnect */
    assert_int_equal(h->slot->expect[1].total, 1);
    assert_int_equal(h->slot->expect[1].ok, 0);  /* registering never came after authenticated */
    dh_free(h);
}

/* The fault "corrupt": the next request goes out with a wrong check byte and
 * otherwise whole; the one after it is good again. */
static void test_corrupt_next_request(void **state)
{
    (void)state;
    struct dh *h = online("\"heartbeat\": \"1s\", \"report\": null", "");
    struct term *t = dh_term(h, 0, 0);
    struct ctl_msg c = {.type = CTL_FAULT, .fleet = 0, .fraction = 1.0, .kind = CTL_FAULT_CORRUPT};
    worker_control(h->w, &c);
    dh_run_to(h, 1 * S + 5 * MS);
    struct sent s = {0};
    enum jt808_rc rc = JT808_OK;
    sent_take(&s, t);
    assert_true(sent_decode(&s, &rc, NULL));
    assert_int_equal(rc, JT808_E_CHECK);
    free(s.buf);
    dh_run_to(h, 2 * S + 5 * MS);
    expect_one(t, 0x0002);
    assert_int_equal(t->state, TS_AUTHENTICATED);
    dh_free(h);
}

/* Refused connects back off exponentially from reconnect.min with 0-50% jitter,
 * and are connect failures, not disconnects. */
static void test_refused_backoff(void **state)
{
    (void)state;
    char err[512];
    mem_refuse = 3;
    struct dh *h = dh_start(one_fleet(2019, "\"heartbeat\": \"1h\", \"report\": null", ""), err, sizeof err);
    if (!h)
        fail_msg("%s", err);
    mem_refuse = 3; /* dh_start clears it */
    struct term *t = dh_term(h, 0, 0);
    struct fleet_stats *st = dh_stats(h, 0);
    uint64_t up = 0;
    for (uint64_t now = 0; now < 5 * S && !up; now += MS) {
        dh_run_to(h, now);
        if (t->state == TS_REGISTERING)
            up = now;
    }
    assert_int_equal(st->connect_failures, 3);
    assert_int_equal(st->disconnects, 0);
    assert_int_equal(st->connects, 1);
    /* 100 + 200 + 400 ms at least, 150% of that at most (plus the polling step) */
    assert_true(up >= 700 * MS);
    assert_true(up <= 1050 * MS + 5 * MS);
    assert_int_equal(expect_one(t, 0x0100) >= 0, 1);
    assert_int_equal(rx.h.version, JT808_V2019);
    assert_string_equal(rx.h.phone, "00000000013800000000");
    dh_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reports_on_schedule),
        cmocka_unit_test(test_ack_timeout_exact),
        cmocka_unit_test(test_cut_and_return),
        cmocka_unit_test(test_corrupt_next_request),
        cmocka_unit_test(test_refused_backoff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
