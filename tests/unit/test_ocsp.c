/* OCSP: the cache TTL clamp (the seed's 5 min..1 h) and the responder's HTTP
 * answer, whole, in parts and wrong.  (The queries themselves run against
 * openssl's responder in tests/e2e/55-tls.sh.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sim/net/ocsp.h"

#include <cmocka.h>

static void test_ttl_clamp(void **state)
{
    assert_int_equal(ocsp_ttl_clamp(0), 300);
    assert_int_equal(ocsp_ttl_clamp(60), 300);
    assert_int_equal(ocsp_ttl_clamp(299), 300);
    assert_int_equal(ocsp_ttl_clamp(300), 300);
    assert_int_equal(ocsp_ttl_clamp(600), 600);
    assert_int_equal(ocsp_ttl_clamp(3600), 3600);
    assert_int_equal(ocsp_ttl_clamp(3601), 3600);
    assert_int_equal(ocsp_ttl_clamp(7 * 86400), 3600);
    assert_int_equal(ocsp_ttl_clamp(-1), 3600); /* no nextUpdate: the longest */
    (void)state;
}

static int body_of(const char *s, int eof, const char **body, size_t *blen, char *err)
{
    const uint8_t *b = NULL;
    int rc = ocsp_http_body((const uint8_t *)s, strlen(s), eof, &b, blen, err, 160);
    *body = (const char *)b;
    return rc;
}

static void test_http(void **state)
{
    const char *ok = "HTTP/1.0 200 OK\r\nContent-type: application/ocsp-response\r\nContent-Length: 5\r\n\r\nABCDEtrailing";
    const char *body;
    size_t blen;
    char err[160];
    assert_int_equal(body_of(ok, 0, &body, &blen, err), 1);
    assert_int_equal(blen, 5);
    assert_memory_equal(body, "ABCDE", 5);
    /* cut in the headers or the body: more wanted, or at the end an error */
    assert_int_equal(body_of("HTTP/1.0 200 OK\r\nContent-Le", 0, &body, &blen, err), 0);
    assert_int_equal(body_of("HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nAB", 0, &body, &blen, err), 0);
    assert_int_equal(body_of("HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nAB", 1, &body, &blen, err), -1);
    assert_string_equal(err, "OCSP responder: 2 of 5 body bytes");
    /* no length: the body runs to the close */
    assert_int_equal(body_of("HTTP/1.1 200 OK\r\n\r\nXYZ", 0, &body, &blen, err), 0);
    assert_int_equal(body_of("HTTP/1.1 200 OK\r\n\r\nXYZ", 1, &body, &blen, err), 1);
    assert_int_equal(blen, 3);
    assert_int_equal(body_of("HTTP/1.0 404 Not Found\r\n\r\n", 1, &body, &blen, err), -1);
    assert_string_equal(err, "OCSP responder: HTTP status 404");
    assert_int_equal(body_of("SSH-2.0-x\r\n\r\n", 1, &body, &blen, err), -1);
    assert_string_equal(err, "OCSP responder: not an HTTP response");
    assert_int_equal(body_of("HTTP/1.0 200 OK\r\nContent-Length: 5x\r\n\r\nABCDE", 1, &body, &blen, err), -1);
    assert_string_equal(err, "OCSP responder: bad Content-Length");
    assert_int_equal(body_of("HTTP/1.0 200 OK\r\nContent-Length: 99999999\r\n\r\n", 1, &body, &blen, err), -1);
    (void)state;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ttl_clamp),
        cmocka_unit_test(test_http),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
