/* The core <-> front-end bus: every record round trip, batching into messages,
 * malformed messages with the record and byte named, a queue that holds what a
 * full socket does not take (never dropped, in order), and the hold the core
 * keeps on replies until its transaction commits. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sim/platform/core/bus.h"
#include <cmocka.h>

static uint8_t msg[BUS_MAX_MSG];

static void pair(int fds[2])
{
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds), 0);
}

static bool str_is(struct bus_str s, const char *want)
{
    return s.n == strlen(want) && memcmp(s.p, want, s.n) == 0;
}

static void test_round_trip(void **state)
{
    int fds[2];
    pair(fds);
    struct bus_out o;
    bus_out_init(&o, fds[0]);
    uint32_t hs[3] = {7, 0x00100003, 0xFFFFFFFF};
    const char *ids[3] = {"13800000001", "", "dev-0003"};
    assert_int_equal(bus_hello(&o, "jt808", 3), 0);
    assert_int_equal(bus_register(&o, 11, BUS_REG_PROVISIONED, "13800000001", "ACME_M1_T1", "1:A123", "", "{}"), 0);
    assert_int_equal(bus_auth(&o, 12, 0x00200001, "13800000001", "0123abcd"), 0);
    assert_int_equal(bus_report(&o, 1700000000123ull, "13800000001", "location", "{\"lat\":1}"), 0);
    assert_int_equal(bus_cmd_result(&o, 99, 6, "13800000001"), 0);
    assert_int_equal(bus_offline(&o, 0x00200001, "13800000001"), 0);
    assert_int_equal(bus_unregister(&o, "13800000001"), 0);
    assert_int_equal(bus_sync(&o, 5), 0);
    assert_int_equal(bus_reg_reply(&o, 11, 3, "", "name taken"), 0);
    assert_int_equal(bus_auth_reply(&o, 12, true), 0);
    assert_int_equal(bus_cmd_begin(&o, 99, 2, 1, 4, 5000000, "{\"a\":1}"), 0);
    assert_int_equal(bus_cmd_to(&o, 99, hs, ids, 3), 0);
    assert_int_equal(bus_cmd_end(&o, 99), 0);
    assert_int_equal(bus_out_flush(&o), 0);
    assert_int_equal((int)o.msgs, 1); /* one message for all of them */

    long n = bus_recv(fds[1], msg, sizeof msg);
    assert_true(n > 0);
    struct bus_reader rd;
    struct bus_rec r;
    char err[200];
    bus_reader_init(&rd, msg, (size_t)n);
    assert_int_equal(bus_next(&rd, &r, err, sizeof err), 1);
    assert_int_equal(r.type, BUS_HELLO);
    assert_true(str_is(r.s[0], "jt808"));
    assert_int_equal(r.token, 3);
    assert_int_equal(bus_next(&rd, &r, err, sizeof err), 1);
    assert_int_equal(r.type, BUS_REGISTER);
    assert_int_equal(r.token, 11);
    assert_int_equal(r.u8, BUS_REG_PROVISIONED);
    assert_true(str_is(r.s[0], "13800000001") && str_is(r.s[1], "ACME_M1_T1") && str_is(r.s[2], "1:A123"));
    assert_true(str_is(r.s[3], "") && str_is(r.s[4], "{}"));
    assert_int_equal(bus_next(&rd, &r, err, sizeof err), 1);
    assert_int_equal(r.type, BUS_AUTH);
    assert_int_equal(r.handle, 0x00200001);
    assert_true(str_is(r.s[1], "0123abcd"));
    assert_int_equal(bus_next(&rd, &r, err, sizeof err), 1);
    assert_int_equal(r.type, BUS_REPORT);
    assert_true(r.u64 == 1700000000123ull);
    assert_true(str_is(r.s[1], "location") && str_is(r.s[2], "{\"lat\":1}"));
    assert_int_equal(bus_next(&rd, &r, err, sizeof err), 1);
    assert_int_equal(r.type, BUS_CMD_RESULT);
    assert_int_equal(r.token, 99);
    assert_int_equal(r.u8, 6);
    assert_int_equal(bus_next(&rd, &r, err, sizeof err), 1);
    assert_int_equal(r.type, BUS_OFFLINE);
    assert_int_equal(r.handle, 0x00200001);
    assert_int_equal(bus_next(&rd, &r, err, sizeof err), 1);
    assert_int_equal(r.type, BUS_UNREGISTER);
    assert_int_equal(bus_next(&rd, &r, err, sizeof err), 1);
    assert_int_equal(r.type, BUS_SYNC);
    assert_int_equal(r.token, 5);
    assert_int_equal(bus_next(&rd, &r, err, sizeof err), 1);
    assert_int_equal(r.type, BUS_REG_REPLY);
    assert_int_equal(r.u8, 3);
    assert_true(str_is(r.s[1], "name taken"));
    assert_int_equal(bus_next(&rd, &r, err, sizeof err), 1);
    assert_int_equal(r.type, BUS_AUTH_REPLY);
    assert_int_equal(r.u8, 1);
    assert_int_equal(bus_next(&rd, &r, err, sizeof err), 1);
    assert_int_equal(r.type, BUS_CMD_BODY);
    assert_true(str_is(r.s[0], "{\"a\":1}"));
    assert_int_equal(bus_next(&rd, &r, err, sizeof err), 1);
    assert_int_equal(r.type, BUS_CMD_BEGIN);
    assert_int_equal(r.token, 99);
    assert_int_equal(r.kind, 2);
    assert_int_equal(r.fleet, 1);
    assert_int_equal(r.step, 4);
    assert_true(r.u64 == 5000000);
    assert_int_equal(bus_next(&rd, &r, err, sizeof err), 1);
    assert_int_equal(r.type, BUS_CMD_TO);
    assert_int_equal(r.n, 3);
    struct bus_targets it;
    uint32_t h;
    struct bus_str id;
    bus_targets_init(&it, &r);
    for (int i = 0; i < 3; i++) {
        assert_true(bus_targets_next(&it, &h, &id));
        assert_true(h == hs[i]);
        assert_true(str_is(id, ids[i]));
    }
    assert_false(bus_targets_next(&it, &h, &id));
    assert_int_equal(bus_next(&rd, &r, err, sizeof err), 1);
    assert_int_equal(r.type, BUS_CMD_END);
    assert_int_equal(bus_next(&rd, &r, err, sizeof err), 0);
    assert_true(o.records == 14);
    bus_out_free(&o);
    close(fds[0]);
    close(fds[1]);
    (void)state;
}

/* A body over one record's part comes in parts that join to it again. */
static void test_body_parts(void **state)
{
    int fds[2];
    pair(fds);
    struct bus_out o;
    bus_out_init(&o, fds[0]);
    static char body[70001];
    for (size_t i = 0; i < sizeof body - 1; i++)
        body[i] = (char)('a' + i % 26);
    assert_int_equal(bus_cmd_begin(&o, 1, 0, 0, 0, 0, body), 0);
    assert_int_equal(bus_out_flush(&o), 0);
    static char joined[sizeof body];
    size_t jl = 0;
    int parts = 0, begun = 0;
    long n;
    while (!begun && (n = bus_recv(fds[1], msg, sizeof msg)) > 0) {
        struct bus_reader rd;
        struct bus_rec r;
        char err[200];
        bus_reader_init(&rd, msg, (size_t)n);
        while (bus_next(&rd, &r, err, sizeof err) == 1) {
            if (r.type == BUS_CMD_BODY) {
                assert_true(jl + r.s[0].n < sizeof joined);
                memcpy(joined + jl, r.s[0].p, r.s[0].n);
                jl += r.s[0].n;
                parts++;
            } else if (r.type == BUS_CMD_BEGIN) {
                begun = 1;
            }
        }
    }
    assert_int_equal(begun, 1);
    assert_int_equal(parts, 3); /* 30000 + 30000 + 10000 */
    assert_int_equal(jl, sizeof body - 1);
    assert_memory_equal(joined, body, jl);
    bus_out_free(&o);
    close(fds[0]);
    close(fds[1]);
    (void)state;
}

static void expect_error(const uint8_t *m, size_t len, const char *want)
{
    struct bus_reader rd;
    struct bus_rec r;
    char err[200] = "";
    bus_reader_init(&rd, m, len);
    int rc;
    while ((rc = bus_next(&rd, &r, err, sizeof err)) == 1)
        ;
    assert_int_equal(rc, -1);
    if (!strstr(err, want))
        fail_msg("error '%s' does not say '%s'", err, want);
}

static void test_malformed(void **state)
{
    /* a header cut short */
    const uint8_t a[] = {BUS_SYNC, 0};
    expect_error(a, sizeof a, "record 1 at byte 0: 2 bytes left");
    /* a length past the message */
    const uint8_t b[] = {BUS_SYNC, 0, 4, 0, 0, 0, 1, BUS_SYNC, 0, 9, 1};
    expect_error(b, sizeof b, "record 2 (sync) at byte 7: length 9 runs past");
    /* a string past its record: the register's device_id claims 200 bytes */
    const uint8_t c[] = {BUS_REGISTER, 0, 9, 0, 0, 0, 1, 0, 0, 200, 'x', 'y'};
    expect_error(c, sizeof c, "record 1 (register) at byte 8: device_id runs past the record's end");
    /* too many targets */
    const uint8_t d[] = {BUS_CMD_TO, 0, 8, 0, 0, 0, 1, 0, 0, 0x10, 0x00};
    expect_error(d, sizeof d, "n (over 256 targets)");
    /* two targets announced, the second's id past the record */
    const uint8_t d2[] = {BUS_CMD_TO, 0, 20, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 9, 0, 1, 'a', 0, 0, 0, 8, 0, 5};
    expect_error(d2, sizeof d2, "record 1 (cmd-to) at byte 22: a target's device id runs past");
    /* an unknown type is skipped by its length and counted, not an error */
    const uint8_t e[] = {200, 0, 2, 9, 9, BUS_SYNC, 0, 4, 0, 0, 0, 7};
    struct bus_reader rd;
    struct bus_rec r;
    char err[200];
    bus_reader_init(&rd, e, sizeof e);
    assert_int_equal(bus_next(&rd, &r, err, sizeof err), 1);
    assert_int_equal(r.type, BUS_SYNC);
    assert_int_equal(r.token, 7);
    assert_int_equal((int)rd.unknown, 1);
    assert_int_equal(bus_next(&rd, &r, err, sizeof err), 0);
    /* a field with a NUL byte does not copy */
    char out[8];
    struct bus_str s = {"a\0b", 3};
    assert_false(bus_str_copy(s, out, sizeof out));
    struct bus_str t = {"abcdefgh", 8};
    assert_false(bus_str_copy(t, out, sizeof out)); /* no room for the NUL */
    struct bus_str u = {"abcdefg", 7};
    assert_true(bus_str_copy(u, out, sizeof out));
    assert_string_equal(out, "abcdefg");
    (void)state;
}

/* The peer stops reading: messages queue whole, in order, and all arrive once it reads. */
static void test_queue_when_full(void **state)
{
    int fds[2];
    pair(fds);
    int small = 65536; /* a 32 KiB message still fits; 2 MB do not */
    setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    struct bus_out o;
    bus_out_init(&o, fds[0]);
    char data[1000];
    memset(data, 'd', sizeof data - 1);
    data[sizeof data - 1] = '\0';
    const uint32_t total = 2000;
    for (uint32_t i = 0; i < total; i++) {
        char id[16];
        snprintf(id, sizeof id, "%u", i);
        assert_int_equal(bus_report(&o, i, id, "s", data), 0);
        if (i % 50 == 49)
            assert_int_equal(bus_out_flush(&o), 0);
    }
    assert_int_equal(bus_out_flush(&o), 0);
    assert_true(bus_out_pending(&o)); /* the socket could not take 2 MB */
    uint32_t next = 0;
    for (int rounds = 0; rounds < 100000 && next < total; rounds++) {
        long n = bus_recv(fds[1], msg, sizeof msg);
        if (n < 0) {
            assert_int_equal(errno, EAGAIN);
            assert_int_equal(bus_out_flush(&o), 0);
            continue;
        }
        struct bus_reader rd;
        struct bus_rec r;
        char err[200];
        bus_reader_init(&rd, msg, (size_t)n);
        while (bus_next(&rd, &r, err, sizeof err) == 1) {
            assert_int_equal(r.type, BUS_REPORT);
            assert_true(r.u64 == next); /* in order, none lost */
            next++;
        }
    }
    assert_int_equal(next, total);
    assert_false(bus_out_pending(&o));
    bus_out_free(&o);
    close(fds[0]);
    close(fds[1]);
    (void)state;
}

/* Held: nothing leaves until the hold is lifted, then all of it in order. */
static void test_hold(void **state)
{
    int fds[2];
    pair(fds);
    struct bus_out o;
    bus_out_init(&o, fds[0]);
    o.hold = true;
    for (uint32_t i = 0; i < 3000; i++) /* several messages' worth */
        assert_int_equal(bus_reg_reply(&o, i, 0, "0123456789abcdef", ""), 0);
    assert_int_equal(bus_out_flush(&o), 0);
    assert_true(bus_recv(fds[1], msg, sizeof msg) < 0 && errno == EAGAIN);
    o.hold = false;
    assert_int_equal(bus_out_flush(&o), 0);
    uint32_t next = 0;
    long n;
    while ((n = bus_recv(fds[1], msg, sizeof msg)) > 0) {
        struct bus_reader rd;
        struct bus_rec r;
        char err[200];
        bus_reader_init(&rd, msg, (size_t)n);
        while (bus_next(&rd, &r, err, sizeof err) == 1)
            assert_int_equal(r.token, next++);
    }
    assert_int_equal(next, 3000);
    bus_out_free(&o);
    close(fds[0]);
    close(fds[1]);
    (void)state;
}

/* A peer that went away: the error sticks and says why. */
static void test_peer_gone(void **state)
{
    int fds[2];
    pair(fds);
    close(fds[1]);
    struct bus_out o;
    bus_out_init(&o, fds[0]);
    assert_int_equal(bus_sync(&o, 1), 0);
    assert_int_equal(bus_out_flush(&o), -1);
    assert_non_null(strstr(o.err, "bus: send:"));
    assert_int_equal(bus_sync(&o, 2), -1);
    /* a string no record can hold */
    struct bus_out p;
    bus_out_init(&p, -1);
    static char big[70000];
    memset(big, 'x', sizeof big - 1);
    assert_int_equal(bus_report(&p, 0, "1", "s", big), -1);
    assert_non_null(strstr(p.err, "report record over"));
    bus_out_free(&o);
    close(fds[0]);
    (void)state;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),      cmocka_unit_test(test_body_parts),
        cmocka_unit_test(test_malformed),       cmocka_unit_test(test_queue_when_full),
        cmocka_unit_test(test_hold),            cmocka_unit_test(test_peer_gone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
