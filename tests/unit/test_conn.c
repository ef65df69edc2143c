/* Connection buffering (sim/net/conn.c) over a socketpair and over a scripted
 * transport, and the transports' server side (listen, accept) on loopback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sim/net/conn.h"

/* --- a scripted transport --------------------------------------------------------- */

static struct fake {
    size_t take;              /* bytes a write takes; 0: would block */
    enum tp_rc read_rc;       /* what a read answers */
    uint8_t wrote[4096];      /* every byte written, in order */
    size_t wrote_len;
    size_t writes[16];        /* the length of each write that went out */
    int n_writes;
} fk;

static enum tp_rc fake_read(struct tp_conn *c, uint8_t *buf, size_t n, size_t *got)
{
    (void)c;
    *got = 0;
    if (fk.read_rc == TP_OK) {
        memset(buf, 'x', n < 3 ? n : 3);
        *got = n < 3 ? n : 3;
    }
    return fk.read_rc;
}

static enum tp_rc fake_write(struct tp_conn *c, const uint8_t *buf, size_t n, size_t *put)
{
    *put = 0;
    if (!fk.take)
        return TP_WANT_WRITE;
    size_t k = c->tp->datagram || n < fk.take ? n : fk.take;
    memcpy(fk.wrote + fk.wrote_len, buf, k);
    fk.wrote_len += k;
    if (fk.n_writes < 16)
        fk.writes[fk.n_writes++] = k;
    *put = k;
    return TP_OK;
}

static void fake_close(struct tp_conn *c) { c->fd = -1; }

static const struct transport fake_stream = {
    .name = "fake", .read = fake_read, .write = fake_write, .close = fake_close, .abort = fake_close,
};
static const struct transport fake_dgram = {
    .name = "fake-dgram", .datagram = 1, .read = fake_read, .write = fake_write, .close = fake_close,
    .abort = fake_close,
};

static void fake_open(struct conn *c, const struct transport *tp, uint32_t in_max, uint32_t out_max)
{
    memset(&fk, 0, sizeof fk);
    conn_init(c, tp, in_max, out_max);
    c->tp.fd = 100; /* never used as a descriptor */
}

/* --- deliver callbacks --------------------------------------------------------------- */

/* Consumes whole lines; records each call's bytes. */
static struct seen {
    char calls[8][64];
    int n;
    size_t max_take;          /* > 0: consume at most this much per call */
    struct conn *close_me;    /* close this connection from inside the callback */
} sn;

static long lines(void *arg, const uint8_t *buf, size_t n)
{
    (void)arg;
    if (sn.n < 8) {
        memcpy(sn.calls[sn.n], buf, n < 63 ? n : 63);
        sn.calls[sn.n][n < 63 ? n : 63] = 0;
        sn.n++;
    }
    if (sn.close_me) {
        conn_close(sn.close_me, false);
        return 0;
    }
    size_t used = 0;
    for (size_t i = 0; i < n; i++)
        if (buf[i] == '\n')
            used = i + 1;
    if (sn.max_take && used > sn.max_take)
        used = sn.max_take;
    return (long)used;
}

static long refuse(void *arg, const uint8_t *buf, size_t n)
{
    (void)arg;
    (void)buf;
    (void)n;
    return -1;
}

static long take_none(void *arg, const uint8_t *buf, size_t n)
{
    (void)arg;
    if (sn.n < 8) {
        memcpy(sn.calls[sn.n], buf, n < 63 ? n : 63);
        sn.calls[sn.n][n < 63 ? n : 63] = 0;
        sn.n++;
    }
    return 0;
}

/* --- over a socketpair --------------------------------------------------------------- */

static int pair_open(struct conn *c, int type, const struct transport *tp, uint32_t in_max, int *peer)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, type | SOCK_NONBLOCK, 0, sv), 0);
    conn_init(c, tp, in_max, 1 << 16);
    c->tp.fd = sv[0];
    *peer = sv[1];
    memset(&sn, 0, sizeof sn);
    return 0;
}

static enum conn_rc feed(struct conn *c, int peer, const char *s, size_t *got)
{
    uint8_t scratch[256];
    assert_int_equal(send(peer, s, strlen(s), 0), (ssize_t)strlen(s));
    return conn_read(c, scratch, sizeof scratch, lines, NULL, got);
}

static void test_partial_frames_kept_across_reads(void **state)
{
    (void)state;
    struct conn c;
    int peer;
    size_t got;
    pair_open(&c, SOCK_STREAM, &transport_tcp, 64, &peer);
    assert_int_equal(feed(&c, peer, "ab", &got), CONN_OK);
    assert_int_equal(got, 2);
    assert_int_equal(c.in_len, 2);
    assert_int_equal(feed(&c, peer, "c\nde", &got), CONN_OK);
    assert_string_equal(sn.calls[1], "abc\nde"); /* the partial input first */
    assert_int_equal(c.in_len, 2);
    assert_memory_equal(c.in, "de", 2);
    assert_int_equal(feed(&c, peer, "\n", &got), CONN_OK);
    assert_string_equal(sn.calls[2], "de\n");
    assert_int_equal(c.in_len, 0);
    assert_null(c.in);                           /* freed when empty */
    uint8_t scratch[16];
    assert_int_equal(conn_read(&c, scratch, sizeof scratch, lines, NULL, &got), CONN_AGAIN);
    conn_close(&c, false);
    close(peer);
}

static void test_consumed_in_pieces(void **state)
{
    (void)state;
    struct conn c;
    int peer;
    size_t got;
    pair_open(&c, SOCK_STREAM, &transport_tcp, 64, &peer);
    sn.max_take = 2;
    assert_int_equal(feed(&c, peer, "a\nb\nc\n", &got), CONN_OK);
    assert_int_equal(c.in_len, 4);
    assert_memory_equal(c.in, "b\nc\n", 4);
    assert_int_equal(conn_input(&c, (const uint8_t *)"d", 1, lines, NULL), CONN_OK);
    assert_string_equal(sn.calls[1], "b\nc\nd");
    assert_int_equal(c.in_len, 3);
    assert_memory_equal(c.in, "c\nd", 3);
    sn.max_take = 0;
    assert_int_equal(conn_input(&c, (const uint8_t *)"\n", 1, lines, NULL), CONN_OK);
    assert_null(c.in);
    conn_close(&c, false);
    close(peer);
}

static void test_input_limit_drops(void **state)
{
    (void)state;
    struct conn c;
    int peer;
    size_t got;
    pair_open(&c, SOCK_STREAM, &transport_tcp, 8, &peer);
    assert_int_equal(feed(&c, peer, "123456", &got), CONN_OK);
    assert_int_equal(feed(&c, peer, "789", &got), CONN_FULL);
    assert_int_equal(c.in_len, 6);               /* left as it was, for the owner to count */
    conn_close(&c, false);
    assert_null(c.in);
    close(peer);
    /* a first read whose rest is already past the limit */
    pair_open(&c, SOCK_STREAM, &transport_tcp, 4, &peer);
    assert_int_equal(feed(&c, peer, "x\n12345", &got), CONN_FULL);
    assert_int_equal(c.in_len, 0);
    conn_close(&c, false);
    close(peer);
}

static void test_rejected_and_closed(void **state)
{
    (void)state;
    struct conn c;
    int peer;
    size_t got;
    uint8_t scratch[64];
    pair_open(&c, SOCK_STREAM, &transport_tcp, 64, &peer);
    assert_int_equal(send(peer, "zz", 2, 0), 2);
    assert_int_equal(conn_read(&c, scratch, sizeof scratch, refuse, NULL, &got), CONN_REJECTED);
    assert_int_equal(got, 2);
    close(peer);
    assert_int_equal(conn_read(&c, scratch, sizeof scratch, lines, NULL, &got), CONN_CLOSED);
    assert_int_equal(c.tp.err, 0);               /* an orderly close */
    conn_close(&c, false);
}

static void test_closed_from_inside_deliver(void **state)
{
    (void)state;
    struct conn c;
    int peer;
    size_t got;
    pair_open(&c, SOCK_STREAM, &transport_tcp, 64, &peer);
    assert_int_equal(feed(&c, peer, "ab", &got), CONN_OK);
    sn.close_me = &c;
    assert_int_equal(feed(&c, peer, "cd", &got), CONN_OK);
    assert_false(conn_open(&c));
    assert_null(c.in);                           /* nothing kept, nothing touched after the free */
    close(peer);
}

static void test_datagrams_whole(void **state)
{
    (void)state;
    struct conn c;
    int peer;
    size_t got;
    uint8_t scratch[256];
    pair_open(&c, SOCK_DGRAM, &transport_udp, 4, &peer);
    assert_int_equal(send(peer, "first", 5, 0), 5);
    assert_int_equal(send(peer, "second!", 7, 0), 7);
    assert_int_equal(conn_read(&c, scratch, sizeof scratch, take_none, NULL, &got), CONN_OK);
    assert_int_equal(got, 5);
    assert_int_equal(conn_read(&c, scratch, sizeof scratch, take_none, NULL, &got), CONN_OK);
    assert_int_equal(got, 7);
    assert_string_equal(sn.calls[0], "first");
    assert_string_equal(sn.calls[1], "second!"); /* alone: nothing kept from the first, no limit */
    assert_int_equal(c.in_len, 0);
    assert_null(c.in);
    conn_close(&c, false);
    close(peer);
}

/* --- over the scripted transport ------------------------------------------------------- */

static void test_short_writes_queued_in_order(void **state)
{
    (void)state;
    struct conn c;
    fake_open(&c, &fake_stream, 64, 1024);
    assert_int_equal(conn_events(&c), EV_READ);
    fk.take = 2;
    assert_int_equal(conn_send(&c, (const uint8_t *)"hello", 5), CONN_OK);
    assert_int_equal(conn_queued(&c), 3);
    assert_int_equal(conn_events(&c), EV_READ | EV_WRITE);
    /* behind what is queued: not written ahead of it */
    assert_int_equal(conn_send(&c, (const uint8_t *)"world", 5), CONN_OK);
    assert_int_equal(fk.wrote_len, 2);
    assert_int_equal(conn_queued(&c), 8);
    fk.take = 3;
    assert_int_equal(conn_flush(&c), CONN_OK);   /* until the transport would block */
    fk.take = 0;
    assert_int_equal(conn_flush(&c), CONN_OK);
    fk.take = 3;
    assert_int_equal(conn_flush(&c), CONN_OK);
    assert_int_equal(fk.wrote_len, 10);
    assert_memory_equal(fk.wrote, "helloworld", 10);
    assert_int_equal(conn_queued(&c), 0);
    assert_null(c.out);                          /* freed when empty */
    assert_int_equal(conn_events(&c), EV_READ);
    conn_close(&c, false);
    assert_int_equal(conn_send(&c, (const uint8_t *)"x", 1), CONN_CLOSED);
}

static void test_output_limit_drops(void **state)
{
    (void)state;
    struct conn c;
    fake_open(&c, &fake_stream, 64, 16);
    assert_int_equal(conn_send(&c, (const uint8_t *)"0123456789", 10), CONN_OK);
    assert_int_equal(conn_send(&c, (const uint8_t *)"0123456789", 10), CONN_FULL);
    assert_int_equal(conn_queued(&c), 10);       /* the dropped bytes are not half queued */
    assert_int_equal(conn_send(&c, (const uint8_t *)"abcdef", 6), CONN_OK);
    assert_int_equal(conn_queued(&c), 16);
    conn_close(&c, false);
    assert_null(c.out);
}

static void test_want_write_from_read_arms_write(void **state)
{
    (void)state;
    struct conn c;
    uint8_t scratch[16];
    size_t got;
    fake_open(&c, &fake_stream, 64, 1024);
    memset(&sn, 0, sizeof sn);
    fk.read_rc = TP_WANT_WRITE;
    assert_int_equal(conn_read(&c, scratch, sizeof scratch, lines, NULL, &got), CONN_AGAIN);
    assert_int_equal(conn_events(&c), EV_READ | EV_WRITE);
    fk.read_rc = TP_OK;                          /* the retried read goes through */
    assert_int_equal(conn_read(&c, scratch, sizeof scratch, lines, NULL, &got), CONN_OK);
    assert_int_equal(got, 3);
    assert_int_equal(conn_events(&c), EV_READ);
    fk.read_rc = TP_WANT_READ;
    assert_int_equal(conn_read(&c, scratch, sizeof scratch, lines, NULL, &got), CONN_AGAIN);
    assert_int_equal(conn_events(&c), EV_READ);
    conn_close(&c, false);
}

static void test_datagrams_queued_whole(void **state)
{
    (void)state;
    struct conn c;
    fake_open(&c, &fake_dgram, 64, 1024);
    assert_int_equal(conn_send(&c, (const uint8_t *)"abc", 3), CONN_OK);
    assert_int_equal(conn_send(&c, (const uint8_t *)"defgh", 5), CONN_OK);
    fk.take = 1; /* a datagram goes all or nothing */
    assert_int_equal(conn_flush(&c), CONN_OK);
    assert_int_equal(fk.n_writes, 2);
    assert_int_equal(fk.writes[0], 3);
    assert_int_equal(fk.writes[1], 5);
    assert_memory_equal(fk.wrote, "abcdefgh", 8);
    assert_null(c.out);
    conn_close(&c, false);
}

/* --- listen and accept -------------------------------------------------------------------- */

static void loopback(struct sockaddr_storage *a, uint16_t port)
{
    struct sockaddr_in *s = (struct sockaddr_in *)a;
    memset(a, 0, sizeof *a);
    s->sin_family = AF_INET;
    s->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->sin_port = htons(port);
}

static void test_two_listeners_one_port(void **state)
{
    (void)state;
    struct sockaddr_storage a, b;
    struct tp_conn l1, l2, c = {.fd = -1};
    loopback(&a, 0);
    assert_int_equal(transport_tcp.listen(&l1, &a, 16), TP_OK);
    uint16_t port = ntohs(((struct sockaddr_in *)&a)->sin_port);
    assert_true(port != 0);                      /* the picked port, written back */
    loopback(&b, port);
    assert_int_equal(transport_tcp.listen(&l2, &b, 16), TP_OK);
    assert_true(fcntl(l1.fd, F_GETFL) & O_NONBLOCK);
    assert_true(fcntl(l1.fd, F_GETFD) & FD_CLOEXEC);

    assert_int_equal(transport_tcp.accept(&l1, &c, NULL), TP_WANT_READ);
    assert_int_equal(transport_tcp.accept(&l2, &c, NULL), TP_WANT_READ);

    /* a peer lands on one of the two */
    struct tp_conn peer = {.fd = -1};
    enum tp_rc rc = transport_tcp.connect(&peer, &a, NULL);
    assert_true(rc == TP_OK || rc == TP_WANT_WRITE);
    struct sockaddr_storage from;
    for (int i = 0; i < 200 && c.fd < 0; i++) {
        if (transport_tcp.accept(&l1, &c, &from) != TP_OK && transport_tcp.accept(&l2, &c, &from) != TP_OK)
            usleep(1000);
    }
    assert_true(c.fd >= 0);
    assert_ptr_equal(c.tp, &transport_tcp);
    assert_int_equal(from.ss_family, AF_INET);
    assert_true(fcntl(c.fd, F_GETFL) & O_NONBLOCK);
    assert_true(fcntl(c.fd, F_GETFD) & FD_CLOEXEC);
    transport_tcp.close(&c);
    transport_tcp.close(&peer);
    transport_tcp.close(&l1);
    transport_tcp.close(&l2);

    /* UDP: a server socket is a bound socket, several on one port too */
    loopback(&a, 0);
    assert_int_equal(transport_udp.listen(&l1, &a, 0), TP_OK);
    loopback(&b, ntohs(((struct sockaddr_in *)&a)->sin_port));
    assert_int_equal(transport_udp.listen(&l2, &b, 0), TP_OK);
    assert_null(transport_udp.accept);
    transport_udp.close(&l1);
    transport_udp.close(&l2);
}

static void test_listen_error(void **state)
{
    (void)state;
    struct sockaddr_storage a;
    struct tp_conn l;
    struct sockaddr_in *s = (struct sockaddr_in *)&a;
    loopback(&a, 0);
    inet_pton(AF_INET, "192.0.2.1", &s->sin_addr); /* not an address of this host */
    assert_int_equal(transport_tcp.listen(&l, &a, 16), TP_ERR);
    assert_int_equal(l.err, EADDRNOTAVAIL);
    assert_int_equal(l.fd, -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_partial_frames_kept_across_reads),
        cmocka_unit_test(test_consumed_in_pieces),
        cmocka_unit_test(test_input_limit_drops),
        cmocka_unit_test(test_rejected_and_closed),
        cmocka_unit_test(test_closed_from_inside_deliver),
        cmocka_unit_test(test_datagrams_whole),
        cmocka_unit_test(test_short_writes_queued_in_order),
        cmocka_unit_test(test_output_limit_drops),
        cmocka_unit_test(test_want_write_from_read_arms_write),
        cmocka_unit_test(test_datagrams_queued_whole),
        cmocka_unit_test(test_two_listeners_one_port),
        cmocka_unit_test(test_listen_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
