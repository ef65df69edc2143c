/* TLS of `fleetsim conform`: the certificates made for a run verify as they
 * should (each by its CA, the server's naming 127.0.0.1 and no other address,
 * the foreign device by no CA of the run), the contexts refuse bad files with
 * what is wrong, and a handshake over a socket pair between the runner's
 * server context with a client CA and a device is taken or refused. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "harness/conform.h"

static char dir[256];

static int setup(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/test_conform_tls.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL)
        return -1;
    char err[512];
    if (conform_tls_make(dir, err, sizeof err) != 0) {
        fprintf(stderr, "conform_tls_make: %s\n", err);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    static const char *const names[] = {"server-ca", "server", "device-ca", "device", "foreign-ca", "foreign"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char p[512];
        snprintf(p, sizeof p, "%s/%s.crt", dir, names[i]);
        unlink(p);
        snprintf(p, sizeof p, "%s/%s.key", dir, names[i]);
        unlink(p);
    }
    return rmdir(dir);
}

static const char *path(const char *name)
{
    static char p[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    return p[k];
}

static X509 *load(const char *name)
{
    FILE *f = fopen(path(name), "r");
    assert_non_null(f);
    X509 *c = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(c);
    return c;
}

/* Does cert verify against ca alone?  0 yes, else the X509_V_ERR. */
static int verify(const char *ca, const char *cert)
{
    X509 *a = load(ca), *c = load(cert);
    X509_STORE *st = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    X509_STORE_add_cert(st, a);
    X509_STORE_CTX_init(ctx, st, c, NULL);
    int ok = X509_verify_cert(ctx);
    int e = ok == 1 ? 0 : X509_STORE_CTX_get_error(ctx);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(st);
    X509_free(a);
    X509_free(c);
    return e;
}

static void test_made_certificates(void **state)
{
    (void)state;
    assert_int_equal(verify("server-ca.crt", "server.crt"), 0);
    assert_int_equal(verify("device-ca.crt", "device.crt"), 0);
    assert_int_equal(verify("foreign-ca.crt", "foreign.crt"), 0);
    /* each CA issued its own and no other */
    assert_int_equal(verify("device-ca.crt", "foreign.crt"), X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
    assert_int_equal(verify("server-ca.crt", "device.crt"), X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
    assert_int_equal(verify("device-ca.crt", "server.crt"), X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
    /* the server's names 127.0.0.1 and localhost, nothing else */
    X509 *s = load("server.crt");
    assert_int_equal(X509_check_ip_asc(s, "127.0.0.1", 0), 1);
    assert_int_equal(X509_check_ip_asc(s, "127.0.0.2", 0), 0);
    assert_int_equal(X509_check_host(s, "localhost", 0, 0, NULL), 1);
    assert_int_equal(X509_check_host(s, "example.com", 0, 0, NULL), 0);
    assert_int_equal(X509_check_ca(s), 0);
    X509 *ca = load("server-ca.crt");
    assert_true(X509_check_ca(ca) >= 1);
    /* the key beside it is its key, readable by the owner alone */
    FILE *f = fopen(path("server.key"), "r");
    assert_non_null(f);
    EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(k);
    assert_int_equal(X509_check_private_key(s, k), 1);
    struct stat st;
    assert_int_equal(stat(path("server.key"), &st), 0);
    assert_int_equal(st.st_mode & 077, 0);
    EVP_PKEY_free(k);
    X509_free(s);
    X509_free(ca);
}

static void test_context_errors(void **state)
{
    (void)state;
    char err[700];
    void *c = conform_tls_new(NULL, NULL, NULL, err, sizeof err); /* the system's trust store */
    assert_non_null(c);
    conform_tls_free(c);
    assert_null(conform_tls_new(path("server-ca.crt"), path("device.crt"), NULL, err, sizeof err));
    assert_non_null(strstr(err, "--tls-cert and --tls-key go together"));
    assert_null(conform_tls_new(path("nope.crt"), NULL, NULL, err, sizeof err));
    assert_non_null(strstr(err, "--tls-ca "));
    assert_non_null(strstr(err, "nope.crt: not a readable PEM CA certificate"));
    assert_null(conform_tls_new(path("server-ca.crt"), path("device.crt"), path("foreign.key"), err, sizeof err));
    assert_non_null(strstr(err, "not a PEM certificate and its key"));
    assert_null(conform_tls_server_new(path("server.crt"), path("device.key"), NULL, err, sizeof err));
    assert_non_null(strstr(err, "--tls-key"));
    assert_null(conform_tls_server_new(path("server.crt"), path("server.key"), path("nope.crt"), err, sizeof err));
    assert_non_null(strstr(err, "--client-ca "));
    assert_null(conform_tls_server_new(path("server.crt"), NULL, NULL, err, sizeof err));
    assert_non_null(strstr(err, "go together"));
    /* a folder that cannot be made */
    assert_int_equal(conform_tls_make("/proc/no/such/dir", err, sizeof err), -1);
    assert_non_null(strstr(err, "/proc/no/such/dir"));
}

/* The handshake of a client and a server context over a socket pair, both
 * non-blocking, stepped in turn: 1 both ends done, 0 either refused. */
static int handshake(void *server_ctx, void *client_ctx, const char *host)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    SSL *s = SSL_new(server_ctx), *c = SSL_new(client_ctx);
    SSL_set_fd(s, sv[0]);
    SSL_set_fd(c, sv[1]);
    if (host)
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c), host);
    int sd = 0, cd = 0, bad = 0;
    for (int i = 0; i < 200 && !bad && !(sd && cd); i++) {
        if (!cd) {
            int r = SSL_connect(c);
            int e = SSL_get_error(c, r);
            cd = r == 1;
            bad |= r != 1 && e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE;
        }
        if (!sd && !bad) {
            int r = SSL_accept(s);
            int e = SSL_get_error(s, r);
            sd = r == 1;
            bad |= r != 1 && e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE;
        }
        struct pollfd p[2] = {{.fd = sv[0], .events = POLLIN}, {.fd = sv[1], .events = POLLIN}};
        poll(p, 2, 10);
    }
    /* TLS 1.3: the client is done before the server judged its certificate; the
     * server's verdict (or its alert on the client's next read) decides */
    if (!bad && sd && cd) {
        char b;
        int r = SSL_read(c, &b, 1);
        bad = r <= 0 && SSL_get_error(c, r) == SSL_ERROR_SSL;
    }
    SSL_free(s);
    SSL_free(c);
    close(sv[0]);
    close(sv[1]);
    return !bad && sd && cd;
}

static void test_handshakes(void **state)
{
    (void)state;
    char err[700];
    void *srv = conform_tls_server_new(path("server.crt"), path("server.key"), NULL, err, sizeof err);
    void *srv_ca = conform_tls_server_new(path("server.crt"), path("server.key"), path("device-ca.crt"), err,
                                          sizeof err);
    void *plain = conform_tls_new(path("server-ca.crt"), NULL, NULL, err, sizeof err);
    void *dev = conform_tls_new(path("server-ca.crt"), path("device.crt"), path("device.key"), err, sizeof err);
    void *foreign = conform_tls_new(path("server-ca.crt"), path("foreign.crt"), path("foreign.key"), err, sizeof err);
    void *wrong_ca = conform_tls_new(path("device-ca.crt"), NULL, NULL, err, sizeof err);
    assert_non_null(srv);
    assert_non_null(srv_ca);
    assert_non_null(plain);
    assert_non_null(dev);
    assert_non_null(foreign);
    assert_non_null(wrong_ca);
    assert_int_equal(handshake(srv, plain, "127.0.0.1"), 1);
    assert_int_equal(handshake(srv, plain, "127.0.0.2"), 0);  /* the certificate does not name it */
    assert_int_equal(handshake(srv, wrong_ca, "127.0.0.1"), 0);
    assert_int_equal(handshake(srv_ca, dev, "127.0.0.1"), 1);
    assert_int_equal(handshake(srv_ca, plain, "127.0.0.1"), 0); /* no device certificate */
    assert_int_equal(handshake(srv_ca, foreign, "127.0.0.1"), 0);
    assert_int_equal(handshake(srv, foreign, "127.0.0.1"), 1);  /* nobody asked for one */
    void *all[] = {srv, srv_ca, plain, dev, foreign, wrong_ca};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        conform_tls_free(all[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_made_certificates),
        cmocka_unit_test(test_context_errors),
        cmocka_unit_test(test_handshakes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
