/* Traces and synthesised pcaps: the checksums against worked examples, and a
 * traced terminal's connection written out and read back: the pcap's header and
 * records, valid IPv4 and TCP checksums, sequence numbers that follow the bytes,
 * the handshake and the close; the text trace's lines; the size limit; id checks. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/dev/fleet.h"
#include "sim/dev/jt808_term.h"
#include "sim/dev/trace.h"
#include "tests/unit/scratch.h"
#include <cmocka.h>

static const char *argv0 = "";
static char dir[512], pcap_path[600], text_path[600];

static void test_checksums(void **state)
{
    /* the IPv4 header of RFC 1071's usual worked example: checksum 0xb861 */
    uint8_t ip[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                      0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
    assert_int_equal(trace_ip_checksum(ip, sizeof ip), 0xb861);
    ip[10] = 0xb8;
    ip[11] = 0x61;
    assert_int_equal(trace_ip_checksum(ip, sizeof ip), 0); /* a header with its checksum sums to 0 */
    /* a UDP segment whose checksum computes to 0 is sent as 0xFFFF */
    uint8_t seg[8] = {0};
    uint32_t a = 0, b = 0;
    uint16_t c = trace_l4_checksum(a, b, IPPROTO_UDP, seg, sizeof seg);
    assert_true(c != 0);
    (void)state;
}

static void test_ids(void **state)
{
    char err[200];
    assert_int_equal(trace_ids_check("1,2,3", err, sizeof err), 0);
    assert_int_equal(trace_ids_check("1,,3", err, sizeof err), -1);
    assert_string_equal(err, "'1,,3': an empty device id (at character 3)");
    assert_int_equal(trace_ids_check("", err, sizeof err), -1);
    assert_int_equal(trace_ids_check(",", err, sizeof err), -1);
    (void)state;
}

static uint32_t rd32le(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

/* A terminal as the engine has it, with just what the trace reads. */
static struct fleet_spec spec;
static struct worker w;
static struct fleet_rt fr;
static struct term terms[1];
static struct trace_conn tcs[1];
static struct sockaddr_storage target;

static struct term *fake_term(void)
{
    snprintf(spec.id, sizeof spec.id, "trucks");
    fr.w = &w;
    fr.spec = &spec;
    fr.d = &jt808_dialect;
    fr.terms = terms;
    fr.tc = tcs;
    fr.n = 1;
    struct sockaddr_in *sin = (struct sockaddr_in *)&target;
    sin->sin_family = AF_INET;
    sin->sin_port = htons(7999);
    inet_pton(AF_INET, "127.0.0.1", &sin->sin_addr);
    fr.target = &target;
    snprintf(fr.ident_prefix, sizeof fr.ident_prefix, "1380000");
    fr.ident_base = 1;
    fr.ident_digits = 4;
    fr.ident_numbered = true;
    terms[0].fleet = &fr;
    terms[0].index = 0;
    terms[0].conn.tp.fd = -1;
    terms[0].traced = 1;
    return &terms[0];
}

static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static uint8_t buf[1 << 20];
    *n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    return buf;
}

static void test_connection(void **state)
{
    char err[256];
    struct trace_opts o = {.ids = "13800000001", .text_path = text_path, .pcap_path = pcap_path};
    assert_int_equal(trace_create(&o, err, sizeof err), 0);
    assert_int_equal(trace_open(&w.trace, &o, 1, err, sizeof err), 0);
    struct term *t = fake_term();
    char id[32];
    term_ident(t, id, sizeof id);
    assert_string_equal(id, "13800000001");
    assert_true(trace_wants(&w.trace, id));
    assert_false(trace_wants(&w.trace, "13800000002"));
    /* a heartbeat out (a real JT/T 808 frame), 5 bytes in */
    static const uint8_t hb[] = {0x7e, 0x00, 0x02, 0x00, 0x00, 0x01, 0x38, 0x00, 0x00, 0x00,
                                 0x01, 0x00, 0x07, 0x3d, 0x7e};
    static const uint8_t in[] = {1, 2, 3, 4, 5};
    trace_connected(&w.trace, t, &tcs[0]);
    trace_data(&w.trace, t, &tcs[0], true, hb, sizeof hb);
    trace_data(&w.trace, t, &tcs[0], false, in, sizeof in);
    trace_closed(&w.trace, t, &tcs[0]);
    trace_data(&w.trace, t, &tcs[0], true, hb, sizeof hb); /* after the close: nothing */
    trace_close_all(&w.trace);

    size_t n;
    uint8_t *p = slurp(pcap_path, &n);
    assert_true(n > 24);
    assert_int_equal(rd32le(p), 0xa1b2c3d4u);
    assert_int_equal(rd32le(p + 20), 101); /* raw IPv4 */
    size_t off = 24;
    int recs = 0;
    uint8_t flags[16];
    uint32_t seq[16], ack[16];
    size_t paylen[16];
    while (off < n) {
        assert_true(n - off >= 16);
        uint32_t incl = rd32le(p + off + 8);
        assert_int_equal(incl, rd32le(p + off + 12));
        const uint8_t *ip = p + off + 16;
        assert_int_equal(ip[0], 0x45);
        assert_int_equal((size_t)(ip[2] << 8 | ip[3]), incl);
        assert_int_equal(trace_ip_checksum(ip, 20), 0);
        assert_int_equal(ip[9], IPPROTO_TCP);
        uint32_t src, dst;
        memcpy(&src, ip + 12, 4);
        memcpy(&dst, ip + 16, 4);
        assert_int_equal(trace_l4_checksum(src, dst, IPPROTO_TCP, ip + 20, incl - 20), 0);
        assert_true(recs < 16);
        flags[recs] = ip[20 + 13];
        seq[recs] = rd32(ip + 24);
        ack[recs] = rd32(ip + 28);
        paylen[recs] = incl - 40;
        recs++;
        off += 16 + incl;
    }
    assert_int_equal(off, n);
    assert_int_equal(recs, 8);
    /* SYN, SYN-ACK, ACK; data out, data in; FIN-ACK both ways, ACK */
    assert_int_equal(flags[0], 0x02);
    assert_int_equal(flags[1], 0x12);
    assert_int_equal(flags[2], 0x10);
    assert_int_equal(flags[3], 0x18);
    assert_int_equal(paylen[3], sizeof hb);
    assert_int_equal(flags[4], 0x18);
    assert_int_equal(paylen[4], sizeof in);
    assert_int_equal(flags[5], 0x11);
    assert_int_equal(flags[6], 0x11);
    assert_int_equal(flags[7], 0x10);
    assert_int_equal(ack[1], seq[0] + 1);          /* the SYN takes one */
    assert_int_equal(seq[3], seq[0] + 1);          /* the first byte */
    assert_int_equal(ack[4], seq[3] + sizeof hb);  /* the peer has all of it */
    assert_int_equal(seq[5], seq[3] + sizeof hb);
    assert_int_equal(ack[3], seq[1] + 1);
    assert_int_equal(seq[6], seq[4] + sizeof in);
    assert_int_equal(ack[7], seq[6] + 1);

    p = slurp(text_path, &n);
    char *text = malloc(n + 1);
    memcpy(text, p, n);
    text[n] = '\0';
    assert_non_null(strstr(text, " trucks/13800000001 connected 10.0.0.0:10000 -> "));
    assert_non_null(strstr(text, " trucks/13800000001 > 15 bytes 7e0002000001380000000100073d7e  {"));
    assert_non_null(strstr(text, "\"msg_id\":\"0x0002\"")); /* the frame decoded */
    assert_non_null(strstr(text, " trucks/13800000001 < 5 bytes 0102030405"));
    assert_non_null(strstr(text, " trucks/13800000001 closed\n"));
    int lines = 0;
    for (char *c = text; *c; c++)
        lines += *c == '\n';
    assert_int_equal(lines, 4);
    free(text);
    (void)state;
}

static void test_pcap_limit(void **state)
{
    char err[256];
    /* no ids: every terminal, up to the limit */
    struct trace_opts o = {.pcap_path = pcap_path, .pcap_limit = 200};
    assert_int_equal(trace_create(&o, err, sizeof err), 0);
    assert_int_equal(trace_open(&w.trace, &o, 1, err, sizeof err), 0);
    assert_true(w.trace.pcap_all);
    struct term *t = fake_term();
    t->traced = 0;
    static const uint8_t data[100] = {0};
    trace_connected(&w.trace, t, &tcs[0]);  /* 3 x 56 bytes: 168 */
    trace_data(&w.trace, t, &tcs[0], true, data, sizeof data); /* 156 more: over 200 */
    trace_close_all(&w.trace);
    size_t n;
    slurp(pcap_path, &n);
    assert_int_equal(n, 24 + 3 * (16 + 40)); /* whole records only, none past the limit */
    (void)state;
}

static int setup(void **state)
{
    (void)state;
    if (scratch_make(argv0, "test_trace", dir, sizeof dir) < 0)
        return -1;
    snprintf(pcap_path, sizeof pcap_path, "%s/t.pcap", dir);
    snprintf(text_path, sizeof text_path, "%s/t.txt", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return scratch_remove(dir);
}

int main(int argc, char **argv)
{
    argv0 = argc > 0 ? argv[0] : "";
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checksums),
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_connection),
        cmocka_unit_test(test_pcap_limit),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
