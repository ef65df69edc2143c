/* The replay terminal stepped on a frozen clock and a memory transport: what it
 * sends (templates rendered per terminal, on schedule), how replies settle
 * requests (by serial, in any order, within the ack timeout), handshakes,
 * answers, stream framing across reads, datagrams, and what it counts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* before cmocka.h, whose expect_value() macro would rename harness/expect.h's function */
#include "tests/unit/dialect_harness.h"
#include "sim/dev/replay_term.h"
#include "sim/proto/hex.h"

#include <cmocka.h>

#define S 1000000ull
#define MS 1000ull

/* A fleet of n replay terminals; fleet: more fields; top: more top-level members. */
static const char *doc(int n, const char *fleet, const char *top)
{
    static char json[4096];
    snprintf(json, sizeof json,
             "{\"name\": \"r\", \"duration\": \"1h\", \"fleets\": [{\"id\": \"r\", \"protocol\": \"replay\", "
             "\"count\": %d, %s\"ack_timeout\": \"1s\", "
             "\"reconnect\": {\"min\": \"100ms\", \"max\": \"1s\"}, %s}]%s%s}",
             n, strstr(fleet, "\"target\"") ? "" : "\"target\": \"tcp://127.0.0.1:9\", ", fleet,
             top[0] ? ", " : "", top);
    return json;
}

static struct dh *start(int n, const char *fleet, const char *top, const struct transport *tp)
{
    char err[512];
    struct dh *h = dh_start_on(doc(n, fleet, top), tp, err, sizeof err);
    if (!h)
        fail_msg("%s", err);
    return h;
}

static struct replay_tstate_view {
    uint8_t *buf;
    size_t n;
} out;

static void take(struct term *t)
{
    free(out.buf);
    out.buf = dh_take(t, &out.n);
}

static void feed_hex(struct term *t, const char *hex)
{
    uint8_t b[256];
    size_t n = 0;
    assert_int_equal(hex_decode(hex, strlen(hex), HEX_SPACES, b, sizeof b, &n, NULL), HEX_OK);
    term_input(t, b, n);
}

/* Every terminal renders its own frame: index, id and serial; a reply with the
 * serial settles its request, and the latency is the time the reply took. */
static void test_schedule_and_serial_replies(void **state)
{
    (void)state;
    struct dh *h = start(2, "\"transport\": \"tcp\", \"device_id\": \"0000000100+\", \"framing\": \"fixed:8\", "
                            "\"messages\": [{\"template\": \"A5 {index:1} {id:bcd5} {serial:1}\", \"every\": \"1s\","
                            " \"reply\": \"5A {index:1} ?? ?? ?? ?? ?? {serial:1}\"}]", "", &transport_mem);
    struct term *t0 = dh_term(h, 0, 0), *t1 = dh_term(h, 0, 1);
    (void)t1;
    worker_poll(h->w);
    assert_int_equal(t0->state, TS_AUTHENTICATED); /* no handshake: online on connect */
    assert_int_equal(t1->state, TS_AUTHENTICATED);
    /* the first of each is spread over one period */
    uint64_t first0 = 0;
    for (uint64_t now = 0; now <= 1 * S + 5 * MS && !first0; now += MS) {
        dh_run_to(h, now);
        take(t0);
        if (out.n)
            first0 = now;
    }
    assert_true(first0 > 0);
    assert_int_equal(out.n, 8);
    assert_int_equal(out.buf[0], 0xA5);
    assert_int_equal(out.buf[1], 0);                            /* index 0 */
    const uint8_t id[5] = {0x00, 0x00, 0x00, 0x01, 0x00};       /* 0000000100 */
    assert_memory_equal(out.buf + 2, id, 5);
    uint8_t serial = out.buf[7];
    struct fleet_stats *st = dh_stats(h, 0);
    assert_true(st->reports >= 1); /* counted when sent (t1's may have gone too) */
    uint64_t sent_reports = st->reports;
    /* a reply for another terminal's index does not settle it */
    char hex[64];
    feed_hex(t0, "5A 01 00 00 00 00 00 00");
    assert_int_equal(st->reports_acked, 0);
    dh_run_to(h, first0 + 7 * MS);
    snprintf(hex, sizeof hex, "5A00000000000000");
    hex[14] = "0123456789ABCDEF"[serial >> 4];
    hex[15] = "0123456789ABCDEF"[serial & 15];
    feed_hex(t0, hex);
    assert_int_equal(st->reports_acked, 1);
    assert_int_equal(st->report_latency.n, 1);
    assert_int_equal(st->report_latency.max, 7 * MS);
    assert_int_equal(st->dc[REPLAY_C_MATCHED], 1);
    assert_int_equal(st->dc[REPLAY_C_UNMATCHED], 1);            /* the other index's */
    /* one second later the next, with the next serial */
    dh_run_to(h, first0 + 1 * S + 3 * MS);
    take(t0);
    assert_int_equal(out.n, 8);
    assert_int_equal(out.buf[7], (uint8_t)(serial + 1));
    assert_true(st->reports >= sent_reports + 1);
    /* unanswered: timed out after ack_timeout */
    uint64_t to = st->ledger.timed_out;
    dh_run_to(h, first0 + 2 * S + 10 * MS);
    assert_true(st->ledger.timed_out > to);
    dh_free(h);
}

/* A stall longer than the period (the loop held up 3.4 s, a message every 1 s): one
 * message, not a burst of the missed ones, and the next on the terminal's own
 * schedule (4 s after the one the stall held up was due), not a period after the
 * stall ended. */
static void test_schedule_after_stall(void **state)
{
    (void)state;
    struct dh *h = start(1, "\"transport\": \"tcp\", \"framing\": \"fixed:2\", "
                            "\"messages\": [{\"template\": \"A5 {serial:1}\", \"every\": \"1s\"}]", "", &transport_mem);
    struct term *t = dh_term(h, 0, 0);
    worker_poll(h->w);
    uint64_t first = 0;
    for (uint64_t now = 0; now <= 1 * S + 5 * MS && !first; now += MS) {
        dh_run_to(h, now);
        take(t);
        if (out.n)
            first = now;
    }
    assert_true(first > 0);
    uint64_t tick = h->w->wheel.width_us;
    /* first + 1 s is due; the loop comes back 3.4 s after it */
    clock_advance(first + 1 * S + 3400 * MS - clock_now_us());
    worker_poll(h->w);
    take(t);
    assert_int_equal(out.n, 2); /* one message */
    dh_run_to(h, first + 5 * S - tick - 1);
    take(t);
    assert_int_equal(out.n, 0);
    dh_run_to(h, first + 5 * S + tick);
    take(t);
    assert_int_equal(out.n, 2); /* on its own schedule: first + 5 s */
    dh_free(h);
}

/* A handshake is sent on every connection; its reply puts the terminal online,
 * and an unanswered one starts over on a new connection. */
static void test_handshake(void **state)
{
    (void)state;
    struct dh *h = start(1, "\"transport\": \"tcp\", \"framing\": \"fixed:3\", "
                            "\"messages\": [{\"name\": \"hello\", \"template\": \"C0 {serial:2}\", \"handshake\": true,"
                            " \"reply\": \"C1 {serial:2}\"}, {\"template\": \"D0 {serial:2}\", \"every\": \"1s\"}]",
                         "", &transport_mem);
    struct term *t = dh_term(h, 0, 0);
    worker_poll(h->w);
    assert_int_equal(t->state, TS_AUTHENTICATING);
    take(t);
    assert_int_equal(out.n, 3);
    assert_int_equal(out.buf[0], 0xC0);
    /* no answer within the ack timeout: a new connection and a new hello */
    dh_run_to(h, 1 * S + 10 * MS);
    assert_int_equal(t->state, TS_DISCONNECTED);
    uint64_t now = clock_now_us();
    while (t->state != TS_AUTHENTICATING && now < 3 * S)
        dh_run_to(h, now += MS);
    assert_int_equal(t->state, TS_AUTHENTICATING);
    assert_true(now >= 1 * S + 100 * MS); /* after the backoff floor */
    take(t);
    assert_int_equal(out.n, 3);
    assert_int_equal(out.buf[0], 0xC0);
    uint8_t reply[3] = {0xC1, out.buf[1], out.buf[2]};
    /* byte by byte: the framing keeps the partial frame between reads */
    for (int i = 0; i < 3; i++)
        term_input(t, reply + i, 1);
    assert_int_equal(t->state, TS_AUTHENTICATED);
    struct fleet_stats *st = dh_stats(h, 0);
    assert_int_equal(st->connects, 2);
    assert_int_equal(st->ledger.timed_out, 1);
    assert_int_equal(st->ledger.acked, 1);
    /* the periodic message expects nothing back: not in the ledger */
    dh_run_to(h, 4 * S);
    take(t);
    assert_true(out.n >= 3 && out.buf[0] == 0xD0);
    assert_int_equal(st->ledger.sent, 2);
    dh_free(h);
}

/* Frames from the platform that match an answer pattern are answered with the
 * frame's own serial; on a datagram transport every input is one frame. */
static void test_answers_over_datagrams(void **state)
{
    (void)state;
    struct dh *h = start(1, "\"transport\": \"udp\", \"target\": \"udp://127.0.0.1:9\", "
                            "\"messages\": [{\"template\": \"01 {serial:2}\", \"every\": \"10s\"}], "
                            "\"answers\": [{\"match\": \"80 {serial:2} *\", \"send\": \"81 {serial:2} {gindex:1}\"}]",
                         "", &transport_mem_dgram);
    struct term *t = dh_term(h, 0, 0);
    worker_poll(h->w);
    take(t);
    feed_hex(t, "80 12 34 FF FF");
    take(t);
    assert_int_equal(out.n, 4);
    const uint8_t want[4] = {0x81, 0x12, 0x34, 0x00};
    assert_memory_equal(out.buf, want, 4);
    feed_hex(t, "99 00");
    struct fleet_stats *st = dh_stats(h, 0);
    assert_int_equal(st->commands, 1);
    assert_int_equal(st->replies, 1);
    assert_int_equal(st->dc[REPLAY_C_ANSWERS], 1);
    assert_int_equal(st->dc[REPLAY_C_UNMATCHED], 1);
    assert_int_equal(st->frames_in, 2);
    dh_free(h);
}

/* A malformed stream (a length field giving a frame too short to hold the field)
 * drops the connection; decode_errors says why, and the terminal comes back. */
static void test_bad_length_drops(void **state)
{
    (void)state;
    struct dh *h = start(1, "\"transport\": \"tcp\", \"framing\": \"length:offset=1,size=1\", "
                            "\"messages\": [{\"template\": \"01 03 {serial:1}\", \"every\": \"10s\", "
                            "\"reply\": \"02 03 {serial:1}\"}]", "", &transport_mem);
    struct term *t = dh_term(h, 0, 0);
    struct fleet_stats *st = dh_stats(h, 0);
    worker_poll(h->w);
    assert_int_equal(t->state, TS_AUTHENTICATED);
    feed_hex(t, "02 03");          /* half a frame: kept */
    assert_int_equal(t->state, TS_AUTHENTICATED);
    feed_hex(t, "77 02 01");       /* ... completed (unmatched: no such serial), then a length of 1 */
    assert_int_equal(st->dc[REPLAY_C_UNMATCHED], 1);
    assert_int_equal(st->decode_errors, 1);
    assert_int_equal(t->state, TS_DISCONNECTED);
    assert_int_equal(st->disconnects, 1);
    dh_run_to(h, 2 * S);
    assert_int_equal(t->state, TS_AUTHENTICATED);
    dh_free(h);
}

/* With a stuffing framing the template is the frame's own bytes: 0x7E inside it
 * goes on the wire as 7D 02, and a stuffed reply is unescaped before matching. */
static void test_stuffing(void **state)
{
    (void)state;
    struct dh *h = start(127, "\"transport\": \"tcp\", \"framing\": \"delim:jt808\", "
                              "\"messages\": [{\"template\": \"7E 01 {index:1} {serial:1} 7E\", \"every\": \"1s\", "
                              "\"reply\": \"7E 02 {index:1} {serial:1} 7E\"}]", "", &transport_mem);
    struct term *t = dh_term(h, 0, 126); /* index 0x7E */
    worker_poll(h->w);
    for (uint64_t now = 0; now <= 1 * S + 5 * MS; now += MS) {
        dh_run_to(h, now);
        take(t);
        if (out.n)
            break;
    }
    assert_int_equal(out.n, 6);
    const uint8_t head[4] = {0x7E, 0x01, 0x7D, 0x02};
    assert_memory_equal(out.buf, head, 4);
    assert_int_equal(out.buf[5], 0x7E);
    uint8_t serial = out.buf[4];
    uint8_t reply[6] = {0x7E, 0x02, 0x7D, 0x02, serial, 0x7E};
    term_input(t, reply, sizeof reply);
    struct fleet_stats *st = dh_stats(h, 0);
    assert_int_equal(st->dc[REPLAY_C_MATCHED], 1);
    /* a bad escape is a malformed frame, not a match and not a dropped stream */
    const uint8_t bad[6] = {0x7E, 0x02, 0x7D, 0x05, 0x00, 0x7E};
    term_input(t, bad, sizeof bad);
    assert_int_equal(st->decode_errors, 1);
    assert_int_equal(t->state, TS_AUTHENTICATED);
    dh_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schedule_and_serial_replies),
        cmocka_unit_test(test_schedule_after_stall),
        cmocka_unit_test(test_handshake),
        cmocka_unit_test(test_answers_over_datagrams),
        cmocka_unit_test(test_bad_length_drops),
        cmocka_unit_test(test_stuffing),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    free(out.buf);
    return rc;
}
