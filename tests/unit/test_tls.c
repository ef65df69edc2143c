/* TLS settings and the TLS transport: the checks of the files (missing, not PEM,
 * a key that does not match), the "{n}" pattern, the scenario's "tls" objects,
 * and a non-blocking handshake and round trip over loopback between our client
 * and our server tables, with device verification refusing a foreign CA.  The
 * certificates are made at test time by tests/tls-certs.sh (openssl). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "harness/scenario.h"
#include "sim/net/ocsp.h"
#include "sim/net/tls.h"
#include "sim/net/transport.h"
#include "scratch.h"

#include <cmocka.h>

static char dir[512];

static void opts(struct tls_opts *o, const char *ca, const char *cert, const char *key)
{
    memset(o, 0, sizeof *o);
    if (ca)
        snprintf(o->ca, sizeof o->ca, "%s/%s", dir, ca);
    if (cert)
        snprintf(o->cert, sizeof o->cert, "%s/%s", dir, cert);
    if (key)
        snprintf(o->key, sizeof o->key, "%s/%s", dir, key);
}

static void test_path_for(void **state)
{
    char out[32];
    assert_int_equal(tls_path_for("d/dev-{n}.crt", 42, out, sizeof out), 0);
    assert_string_equal(out, "d/dev-42.crt");
    assert_int_equal(tls_path_for("shared.crt", 7, out, sizeof out), 0);
    assert_string_equal(out, "shared.crt");
    assert_int_equal(tls_path_for("a-very-long-directory-name/{n}.crt", 1, out, sizeof out), -1);
    (void)state;
}

static void test_check_server(void **state)
{
    struct tls_opts o;
    char err[512];
    opts(&o, "device-ca.crt", "server.crt", "server.key");
    assert_int_equal(tls_opts_check(&o, 1, err, sizeof err), 0);
    opts(&o, NULL, "server.crt", NULL);
    assert_int_equal(tls_opts_check(&o, 1, err, sizeof err), -1);
    assert_non_null(strstr(err, "needs a server certificate and its key"));
    opts(&o, NULL, "nope.crt", "server.key");
    assert_int_equal(tls_opts_check(&o, 1, err, sizeof err), -1);
    assert_non_null(strstr(err, "server certificate: "));
    assert_non_null(strstr(err, "nope.crt: No such file or directory"));
    opts(&o, NULL, "junk.pem", "server.key");
    assert_int_equal(tls_opts_check(&o, 1, err, sizeof err), -1);
    assert_non_null(strstr(err, "junk.pem: not a PEM certificate"));
    opts(&o, NULL, "server.crt", "junk.pem");
    assert_int_equal(tls_opts_check(&o, 1, err, sizeof err), -1);
    assert_non_null(strstr(err, "junk.pem: not a PEM private key"));
    opts(&o, NULL, "server.crt", "dev-0.key");
    assert_int_equal(tls_opts_check(&o, 1, err, sizeof err), -1);
    assert_non_null(strstr(err, "dev-0.key: the key does not match the certificate"));
    opts(&o, "junk.pem", "server.crt", "server.key");
    assert_int_equal(tls_opts_check(&o, 1, err, sizeof err), -1);
    assert_non_null(strstr(err, "junk.pem: not a PEM CA certificate"));
    (void)state;
}

static void test_check_client(void **state)
{
    struct tls_opts o;
    char err[512];
    opts(&o, "server-ca.crt", NULL, NULL);
    assert_int_equal(tls_opts_check(&o, 0, err, sizeof err), 0);
    opts(&o, "server-ca.crt", "dev-{n}.crt", "dev-{n}.key"); /* terminal 0's pair is checked */
    assert_int_equal(tls_opts_check(&o, 0, err, sizeof err), 0);
    opts(&o, "server-ca.crt", "dev-{n}.crt", NULL);
    assert_int_equal(tls_opts_check(&o, 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "a device certificate needs its key"));
    opts(&o, NULL, "dev-{n}.crt", "foreign.key");
    assert_int_equal(tls_opts_check(&o, 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "does not match"));
    (void)state;
}

static int parse(const char *fmt, struct scenario *sc, char *err, size_t cap)
{
    char doc[2048], path[600];
    snprintf(doc, sizeof doc, fmt, "x");
    for (char *p = doc; *p; p++)
        if (*p == '\'')
            *p = '"';
    snprintf(path, sizeof path, "%s/x.json", dir); /* relative paths are the scenario folder's */
    memset(sc, 0, sizeof *sc);
    return scenario_parse(doc, path, sc, err, cap);
}

static void test_scenario_tls(void **state)
{
    struct scenario sc;
    char err[2048] = "", want[700];
    int rc = parse("{'name': '%s', 'duration': '1s',"
                   " 'platform': {'tls': {'cert': 'server.crt', 'key': 'server.key', 'device_ca': 'device-ca.crt'}},"
                   " 'fleets': [{'id': 'a', 'protocol': 'jt808', 'count': 2, 'transport': 'tls',"
                   "  'tls': {'ca': 'server-ca.crt', 'cert': 'dev-{n}.crt', 'key': 'dev-{n}.key'}},"
                   "  {'id': 'b', 'protocol': 'jt808', 'count': 1, 'transport': 'tls', 'tls': {'cert': 'devs'}}]}",
                   &sc, err, sizeof err);
    if (rc != 0)
        fail_msg("%s", err);
    snprintf(want, sizeof want, "%s/server.crt", dir);
    assert_string_equal(sc.platform.tls.cert, want);
    snprintf(want, sizeof want, "%s/device-ca.crt", dir);
    assert_string_equal(sc.platform.tls.ca, want);
    assert_string_equal(sc.fleets[0].transport, "tls");
    snprintf(want, sizeof want, "%s/dev-{n}.key", dir);
    assert_string_equal(sc.fleets[0].tls.key, want);
    /* a folder: {n}.crt and {n}.key in it */
    snprintf(want, sizeof want, "%s/devs/{n}.crt", dir);
    assert_string_equal(sc.fleets[1].tls.cert, want);
    snprintf(want, sizeof want, "%s/devs/{n}.key", dir);
    assert_string_equal(sc.fleets[1].tls.key, want);
    scenario_free(&sc);

    rc = parse("{'name': '%s', 'duration': '1s', 'platform': {'tls': {'cert': 'server.crt', 'kee': 'server.key'}},"
               " 'fleets': [{'id': 'a', 'protocol': 'jt808', 'count': 1, 'tls': {'ca': 'server-ca.crt'}}]}",
               &sc, err, sizeof err);
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(err, "platform.tls.kee: unknown field"));
    assert_non_null(strstr(err, "fleets[0].tls: only for \"transport\": \"tls\" (this fleet is tcp)"));
    scenario_free(&sc);

    rc = parse("{'name': '%s', 'duration': '1s', 'platform': {'tls': {'cert': 'server.crt', 'key': 'dev-0.key'}},"
               " 'fleets': [{'id': 'a', 'protocol': 'jt808', 'count': 1, 'transport': 'tls', 'target': 'tls://127.0.0.1:1',"
               "  'tls': {'ca': 'missing.crt'}}]}",
               &sc, err, sizeof err);
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(err, "platform.tls: "));
    assert_non_null(strstr(err, "dev-0.key: the key does not match the certificate"));
    assert_non_null(strstr(err, "fleets[0].tls: CA: "));
    assert_non_null(strstr(err, "missing.crt: No such file or directory"));
    scenario_free(&sc);
    (void)state;
}

/* The terminal's side of a fleet's "tls": server_name and ocsp_stapling. */
static void test_scenario_client_opts(void **state)
{
    struct scenario sc;
    char err[2048] = "";
    int rc = parse("{'name': '%s', 'duration': '1s', 'target': 'tls://gw.example:7999',"
                   " 'fleets': [{'id': 'a', 'protocol': 'jt808', 'count': 1, 'transport': 'tls',"
                   "  'tls': {'ca': 'server-ca.crt', 'server_name': 'other.example', 'ocsp_stapling': 'require'}},"
                   "  {'id': 'b', 'protocol': 'jt808', 'count': 1, 'transport': 'tls',"
                   "  'tls': {'ca': 'server-ca.crt', 'ocsp_stapling': 'request', 'max_handshakes': 16}},"
                   "  {'id': 'c', 'protocol': 'jt808', 'count': 1, 'transport': 'tls', 'tls': {'ca': 'server-ca.crt'}}]}",
                   &sc, err, sizeof err);
    if (rc != 0)
        fail_msg("%s", err);
    assert_string_equal(sc.fleets[0].tls.server_name, "other.example");
    assert_int_equal(sc.fleets[0].tls.ocsp_stapling, TLS_STAPLE_REQUIRE);
    assert_int_equal(sc.fleets[1].tls.ocsp_stapling, TLS_STAPLE_REQUEST);
    assert_string_equal(sc.fleets[1].tls.server_name, ""); /* the run fills in the target's host */
    assert_int_equal(sc.fleets[2].tls.ocsp_stapling, TLS_STAPLE_OFF);
    assert_int_equal(sc.fleets[1].tls.max_handshakes, 16);
    assert_int_equal(sc.fleets[2].tls.max_handshakes, 0); /* the default, TLS_HANDSHAKES_DEFAULT */
    scenario_free(&sc);

    rc = parse("{'name': '%s', 'duration': '1s', 'target': 'tls://gw.example:7999',"
               " 'fleets': [{'id': 'a', 'protocol': 'jt808', 'count': 1, 'transport': 'tls',"
               "  'tls': {'ca': 'server-ca.crt', 'ocsp_stapling': 'always'}},"
               "  {'id': 'b', 'protocol': 'jt808', 'count': 1, 'transport': 'tls', 'tls': {'ocsp_stapling': 'request'}},"
               "  {'id': 'c', 'protocol': 'jt808', 'count': 1, 'transport': 'tls',"
               "   'tls': {'ca': 'server-ca.crt', 'server_name': 'gw example'}},"
               "  {'id': 'd', 'protocol': 'jt808', 'count': 1, 'transport': 'tls',"
               "   'tls': {'ca': 'server-ca.crt', 'server_name': 7, 'max_handshakes': 0}}]}",
               &sc, err, sizeof err);
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(err, "fleets[0].tls.ocsp_stapling: expected one of off, request, require, got \"always\""));
    assert_non_null(strstr(err, "fleets[1].tls.ocsp_stapling: needs \"ca\""));
    assert_non_null(strstr(err, "fleets[2].tls.server_name: 'gw example' is not a host name or an IP address"));
    assert_non_null(strstr(err, "fleets[3].tls.server_name: "));
    assert_non_null(strstr(err, "fleets[3].tls.max_handshakes: "));
    scenario_free(&sc);
    (void)state;
}

static int events[TLS_EV__COUNT];
static void on_event(void *arg, enum tls_event ev)
{
    events[ev]++;
    (void)arg;
}

/* Drive a client and the accepted server connection until both are done (or
 * one fails); each step is a non-blocking call, as a loop would make it. */
static int handshake_pair(const struct transport *srv, const struct transport *cli, int *cli_rc, int *srv_rc,
                          uint8_t *got, size_t *ngot)
{
    struct tp_conn l = {.fd = -1, .tp = srv}, s = {.fd = -1}, c = {.fd = -1, .tp = cli, .id = 0};
    struct sockaddr_storage a;
    memset(&a, 0, sizeof a);
    struct sockaddr_in *in = (struct sockaddr_in *)&a;
    in->sin_family = AF_INET;
    in->sin_addr.s_addr = htonl(0x7F000001);
    assert_int_equal(srv->listen(&l, &a, 16), TP_OK);
    enum tp_rc rc = cli->connect(&c, &a, NULL);
    assert_int_not_equal(rc, TP_ERR);
    int cdone = rc == TP_OK, accepted = 0;
    *cli_rc = *srv_rc = TP_WANT_READ;
    *ngot = 0;
    for (int i = 0; i < 2000 && (*srv_rc != TP_OK || !cdone); i++) {
        if (!accepted && srv->accept(&l, &s, NULL) == TP_OK)
            accepted = 1;
        if (!cdone) {
            rc = cli->finish(&c);
            if (rc == TP_OK) {
                cdone = 1;
                size_t put;
                assert_int_equal(cli->write(&c, (const uint8_t *)"\x7e\x00\x02\x7e", 4, &put), TP_OK);
            } else if (rc == TP_ERR) {
                *cli_rc = TP_ERR;
                break;
            }
        }
        if (accepted) {
            size_t n = 0;
            rc = s.tp->read(&s, got + *ngot, 64, &n);
            *ngot += n;
            if (rc == TP_ERR) {
                *srv_rc = TP_ERR;
                break;
            }
            if (*ngot >= 4)
                *srv_rc = TP_OK;
        }
        usleep(500);
    }
    if (cdone)
        *cli_rc = TP_OK;
    if (accepted)
        s.tp->close(&s);
    if (c.fd >= 0)
        cli->close(&c);
    transport_tcp.close(&l);
    return 0;
}

static void test_round_trip(void **state)
{
    struct tls_opts so, co;
    char err[512];
    uint8_t got[256];
    size_t n;
    int crc, src;
    opts(&so, "device-ca.crt", "server.crt", "server.key");
    const struct transport *srv = tls_transport_new(&so, 1, err, sizeof err);
    if (!srv)
        fail_msg("%s", err);
    tls_transport_on_event(srv, on_event, NULL);
    opts(&co, "server-ca.crt", "dev-{n}.crt", "dev-{n}.key");
    const struct transport *cli = tls_transport_new(&co, 0, err, sizeof err);
    if (!cli)
        fail_msg("%s", err);
    memset(events, 0, sizeof events);
    handshake_pair(srv, cli, &crc, &src, got, &n);
    assert_int_equal(crc, TP_OK);
    assert_int_equal(src, TP_OK);
    assert_int_equal(n, 4);
    assert_memory_equal(got, "\x7e\x00\x02\x7e", 4);
    assert_int_equal(events[TLS_EV_HANDSHAKE], 1);
    tls_transport_free(cli);

    /* a device of another CA: the server refuses it and says why */
    opts(&co, "server-ca.crt", "foreign.crt", "foreign.key");
    cli = tls_transport_new(&co, 0, err, sizeof err);
    assert_non_null(cli);
    memset(events, 0, sizeof events);
    handshake_pair(srv, cli, &crc, &src, got, &n);
    assert_int_equal(src, TP_ERR);
    assert_int_equal(n, 0);
    assert_int_equal(events[TLS_EV_UNKNOWN_CA], 1);
    assert_int_equal(events[TLS_EV_HANDSHAKE], 0);
    tls_transport_free(cli);

    /* no certificate at all */
    opts(&co, "server-ca.crt", NULL, NULL);
    cli = tls_transport_new(&co, 0, err, sizeof err);
    assert_non_null(cli);
    memset(events, 0, sizeof events);
    handshake_pair(srv, cli, &crc, &src, got, &n);
    assert_int_equal(src, TP_ERR);
    assert_int_equal(events[TLS_EV_NO_CERT], 1);
    tls_transport_free(cli);
    tls_transport_free(srv);
    (void)state;
}

static int cevents[TLS_CEV__COUNT];
static void on_client_event(void *arg, enum tls_client_event ev)
{
    cevents[ev]++;
    (void)arg;
}

/* One handshake of a terminal (trusting the server CA, server_name and
 * stapling as given) with a gateway of certificate name (and this staple):
 * how the terminal's side ended. */
static enum tls_client_event client_against(const char *name, const char *staple, const char *server_name,
                                            int stapling)
{
    struct tls_opts so, co;
    char err[512], cert[64], key[64];
    uint8_t got[64], der[4096];
    size_t n = 0;
    int crc, src;
    snprintf(cert, sizeof cert, "%s.crt", name);
    snprintf(key, sizeof key, "%s.key", name);
    opts(&so, NULL, cert, key);
    const struct transport *srv = tls_transport_new(&so, 1, err, sizeof err);
    if (!srv)
        fail_msg("%s", err);
    if (staple) {
        char path[600];
        snprintf(path, sizeof path, "%s/%s", dir, staple);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        n = fread(der, 1, sizeof der, f);
        fclose(f);
        tls_transport_staple(srv, der, n);
    }
    opts(&co, "server-ca.crt", NULL, NULL);
    snprintf(co.server_name, sizeof co.server_name, "%s", server_name);
    co.ocsp_stapling = stapling;
    const struct transport *cli = tls_transport_new(&co, 0, err, sizeof err);
    if (!cli)
        fail_msg("%s", err);
    tls_transport_on_client_event(cli, on_client_event, NULL);
    memset(cevents, 0, sizeof cevents);
    handshake_pair(srv, cli, &crc, &src, got, &n);
    tls_transport_free(cli);
    tls_transport_free(srv);
    int which = -1, total = 0;
    for (int i = 0; i < TLS_CEV__COUNT; i++)
        if (cevents[i]) {
            which = i;
            total += cevents[i];
        }
    assert_int_equal(total, 1); /* every handshake is told once */
    assert_int_equal(crc, which == TLS_CEV_HANDSHAKE ? TP_OK : TP_ERR);
    return (enum tls_client_event)which;
}

static void test_client_name_check(void **state)
{
    /* the gateway's certificate is for localhost and 127.0.0.1 */
    assert_int_equal(client_against("server", NULL, "127.0.0.1", TLS_STAPLE_OFF), TLS_CEV_HANDSHAKE);
    assert_int_equal(client_against("server", NULL, "localhost", TLS_STAPLE_OFF), TLS_CEV_HANDSHAKE);
    assert_int_equal(client_against("server", NULL, "127.0.0.2", TLS_STAPLE_OFF), TLS_CEV_NAME_MISMATCH);
    assert_int_equal(client_against("server", NULL, "gw.example", TLS_STAPLE_OFF), TLS_CEV_NAME_MISMATCH);
    /* one for other.example only */
    assert_int_equal(client_against("server-other", NULL, "127.0.0.1", TLS_STAPLE_OFF), TLS_CEV_NAME_MISMATCH);
    assert_int_equal(client_against("server-other", NULL, "other.example", TLS_STAPLE_OFF), TLS_CEV_HANDSHAKE);
    assert_int_equal(client_against("server-other", NULL, "x.other.example", TLS_STAPLE_OFF), TLS_CEV_NAME_MISMATCH);
    /* no name: no check */
    assert_int_equal(client_against("server-other", NULL, "", TLS_STAPLE_OFF), TLS_CEV_HANDSHAKE);
    /* a certificate of a CA the terminal does not trust */
    assert_int_equal(client_against("foreign", NULL, "", TLS_STAPLE_OFF), TLS_CEV_UNTRUSTED);
    struct tls_opts co;
    char err[300];
    opts(&co, "server-ca.crt", NULL, NULL);
    snprintf(co.server_name, sizeof co.server_name, "bad name!");
    assert_int_equal(tls_opts_check(&co, 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "server_name 'bad name!'"));
    (void)state;
}

/* The stapled responses were made by openssl's responder (offline, from the
 * server CA's index): server.ocsp says good for server.crt, server-revoked.ocsp
 * revoked for server-revoked.crt. */
static void test_client_stapling(void **state)
{
    assert_int_equal(client_against("server", "server.ocsp", "localhost", TLS_STAPLE_REQUIRE), TLS_CEV_HANDSHAKE);
    assert_int_equal(client_against("server", "server.ocsp", "localhost", TLS_STAPLE_REQUEST), TLS_CEV_HANDSHAKE);
    assert_int_equal(client_against("server", NULL, "localhost", TLS_STAPLE_REQUIRE), TLS_CEV_STAPLE_MISSING);
    assert_int_equal(client_against("server", NULL, "localhost", TLS_STAPLE_REQUEST), TLS_CEV_HANDSHAKE);
    assert_int_equal(client_against("server-revoked", "server-revoked.ocsp", "localhost", TLS_STAPLE_REQUEST),
                     TLS_CEV_STAPLE_REVOKED);
    assert_int_equal(client_against("server-revoked", "server-revoked.ocsp", "localhost", TLS_STAPLE_REQUIRE),
                     TLS_CEV_STAPLE_REVOKED);
    /* a staple for another certificate, and bytes that are no response */
    assert_int_equal(client_against("server-revoked", "server.ocsp", "localhost", TLS_STAPLE_REQUIRE),
                     TLS_CEV_STAPLE_BAD);
    assert_int_equal(client_against("server", "junk.pem", "localhost", TLS_STAPLE_REQUEST), TLS_CEV_STAPLE_BAD);
    /* stapling off: not asked, not checked */
    assert_int_equal(client_against("server-revoked", "server-revoked.ocsp", "localhost", TLS_STAPLE_OFF),
                     TLS_CEV_HANDSHAKE);
    struct tls_opts co;
    char err[300];
    opts(&co, NULL, NULL, NULL);
    co.ocsp_stapling = TLS_STAPLE_REQUEST;
    assert_int_equal(tls_opts_check(&co, 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "OCSP stapling needs the CA"));
    (void)state;
}

static void test_staple_status_bad_input(void **state)
{
    uint8_t junk[] = {0x30, 0x03, 0x0a, 0x01, 0x00};
    assert_int_equal(ocsp_staple_status(NULL, 0, NULL, NULL), OCSP_ST_ERROR);
    assert_int_equal(ocsp_staple_status(junk, sizeof junk, NULL, NULL), OCSP_ST_ERROR);
    (void)state;
}

int main(int argc, char **argv)
{
    char cmd[1200];
    if (scratch_make(argv[0], "tls", dir, sizeof dir) < 0) {
        fprintf(stderr, "test_tls: cannot make a scratch directory: %s\n", strerror(errno));
        return 1;
    }
    snprintf(cmd, sizeof cmd, "tests/tls-certs.sh '%s' 1 && mkdir -p '%s/devs' && printf 'junk\\n' >'%s/junk.pem'"
             " && cp '%s/dev-0.crt' '%s/devs/0.crt' && cp '%s/dev-0.key' '%s/devs/0.key'",
             dir, dir, dir, dir, dir, dir, dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "test_tls: tests/tls-certs.sh failed (openssl installed?)\n");
        return 1;
    }
    /* OCSP responses for stapling, from openssl's responder run offline on the server CA's index */
    snprintf(cmd, sizeof cmd, "cd '%s' && for n in server server-revoked; do"
             " openssl ocsp -issuer server-ca.crt -cert $n.crt -reqout $n.req -no_nonce >/dev/null 2>&1 &&"
             " openssl ocsp -index ca-server-ca/index.txt -rsigner server-ocsp.crt -rkey server-ocsp.key"
             " -CA server-ca.crt -reqin $n.req -respout $n.ocsp -ndays 1 >/dev/null 2>&1 || exit 1; done", dir);
    if (system(cmd) != 0) {
        fprintf(stderr, "test_tls: tests/tls-certs.sh failed (openssl installed?)\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_for),
        cmocka_unit_test(test_check_server),
        cmocka_unit_test(test_check_client),
        cmocka_unit_test(test_scenario_tls),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_scenario_client_opts),
        cmocka_unit_test(test_client_name_check),
        cmocka_unit_test(test_client_stapling),
        cmocka_unit_test(test_staple_status_bad_input),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "test_tls: cannot remove %s\n", dir);
    return rc;
}
