/* The callback receiver (harness/cb_recv.h) answered by libcurl: the plan taken in
 * turn, a delay that holds up no other request, drop, 413, JSON and other bodies,
 * the log file, IPv6, HTTPS with a certificate made here, and the plan's errors. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "harness/cb_recv.h"
#include "tests/unit/scratch.h"

static const char *argv0;

struct answer {
    long status;
    CURLcode cc;
    double secs;
};

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t sink(char *p, size_t sz, size_t n, void *arg)
{
    (void)p, (void)arg;
    return sz * n;
}

/* POST body (len bytes) to url; ca_pem: trust this certificate (HTTPS). */
static struct answer post_ca(const char *url, const char *body, size_t len, const char *ca_pem)
{
    struct answer a = {0, CURLE_OK, 0};
    CURL *c = curl_easy_init();
    assert_non_null(c);
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    if (ca_pem) {
        struct curl_blob blob = {(void *)ca_pem, strlen(ca_pem), CURL_BLOB_COPY};
        curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &blob);
    }
    double t0 = mono_s();
    a.cc = curl_easy_perform(c);
    a.secs = mono_s() - t0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a.status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return a;
}

static struct answer post(const char *url, const char *body)
{
    return post_ca(url, body, strlen(body), NULL);
}

static struct cb_recv *start(const char *plan, const char *log_path)
{
    struct cb_recv_opts o = {.plan = plan, .log_path = log_path};
    char err[256];
    struct cb_recv *r = cb_recv_start(&o, err, sizeof err);
    if (!r)
        fail_msg("cb_recv_start: %s", err);
    return r;
}

static void url_of(struct cb_recv *r, const char *path, char *out, size_t cap)
{
    snprintf(out, cap, "%s%s", cb_recv_url(r), path);
}

static void test_plan_in_turn(void **state)
{
    (void)state;
    struct cb_recv *r = start("503x3,500,200", NULL);
    char url[128];
    url_of(r, "/cb", url, sizeof url);
    assert_int_equal(strncmp(cb_recv_url(r), "http://127.0.0.1:", 17), 0);
    long want[] = {503, 503, 503, 500, 200, 200, 200};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        struct answer a = post(url, "{\"n\":1}");
        assert_int_equal(a.cc, CURLE_OK);
        assert_int_equal(a.status, want[i]);
    }
    assert_int_equal(cb_recv_count(r), 7);
    struct cb_recv_item it;
    assert_true(cb_recv_get(r, 3, &it));
    assert_int_equal(it.seq, 4);
    assert_int_equal(it.answered, 500);
    assert_int_equal(it.planned, 500);
    cb_recv_item_free(&it);
    char sum[200];
    cb_recv_summary(r, sum, sizeof sum);
    assert_string_equal(sum, "7 requests: 200 x3, 500 x1, 503 x3");
    /* a new plan from the next request on, from its first entry */
    char err[160];
    assert_int_equal(cb_recv_set_plan(r, "201x1,202", err, sizeof err), 0);
    assert_int_equal(post(url, "{}").status, 201);
    assert_int_equal(post(url, "{}").status, 202);
    assert_int_equal(post(url, "{}").status, 202);
    assert_int_equal(cb_recv_set_plan(r, "20x", err, sizeof err), -1);
    assert_int_equal(post(url, "{}").status, 202);   /* a refused plan changes nothing */
    assert_false(cb_recv_get(r, 11, &it));
    cb_recv_stop(r);
}

struct slow {
    char url[128];
    struct answer a;
};

static void *slow_main(void *arg)
{
    struct slow *s = arg;
    s->a = post(s->url, "{\"slow\":true}");
    return NULL;
}

static void test_delay_blocks_nothing_else(void **state)
{
    (void)state;
    struct cb_recv *r = start("200@1500ms,204", NULL);
    struct slow s;
    url_of(r, "/slow", s.url, sizeof s.url);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, slow_main, &s), 0);
    /* the slow one recorded at once, not when answered */
    assert_int_equal(cb_recv_wait(r, 0, 3000), 1);
    struct cb_recv_item it;
    assert_true(cb_recv_get(r, 0, &it));
    assert_int_equal(it.answered, 0);
    assert_int_equal(it.delay_ms, 1500);
    cb_recv_item_free(&it);
    char url[128];
    url_of(r, "/fast", url, sizeof url);
    struct answer fast = post(url, "{}");
    assert_int_equal(fast.status, 204);
    assert_true(fast.secs < 1.0);
    pthread_join(th, NULL);
    assert_int_equal(s.a.cc, CURLE_OK);
    assert_int_equal(s.a.status, 200);
    assert_true(s.a.secs >= 1.4);
    assert_true(s.a.secs < 5.0);
    assert_true(cb_recv_get(r, 0, &it));
    assert_int_equal(it.answered, 200);
    cb_recv_item_free(&it);
    cb_recv_stop(r);
}

static void test_stop_with_a_pending_answer(void **state)
{
    (void)state;
    struct cb_recv *r = start("200@30s", NULL);
    struct slow s;
    url_of(r, "/", s.url, sizeof s.url);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, slow_main, &s), 0);
    assert_int_equal(cb_recv_wait(r, 0, 3000), 1);
    double t0 = mono_s();
    cb_recv_stop(r);
    pthread_join(th, NULL);
    /* cut, not answered after 30 s */
    assert_true(mono_s() - t0 < 5.0);
    assert_int_not_equal(s.a.cc, CURLE_OK);
}

static void test_drop(void **state)
{
    (void)state;
    struct cb_recv *r = start("dropx1,200", NULL);
    char url[128];
    url_of(r, "/d", url, sizeof url);
    struct answer a = post(url, "{}");
    assert_int_equal(a.cc, CURLE_GOT_NOTHING);
    assert_int_equal(post(url, "{}").status, 200);
    struct cb_recv_item it;
    assert_true(cb_recv_get(r, 0, &it));
    assert_int_equal(it.planned, 0);
    assert_int_equal(it.answered, 0);
    cb_recv_item_free(&it);
    char sum[200];
    cb_recv_summary(r, sum, sizeof sum);
    assert_string_equal(sum, "2 requests: 200 x1, dropped x1");
    cb_recv_stop(r);
}

static void test_too_big(void **state)
{
    (void)state;
    struct cb_recv *r = start("200", NULL);
    char url[128];
    url_of(r, "/big", url, sizeof url);
    size_t n = CB_RECV_BODY_MAX + 1;
    char *big = malloc(n);
    assert_non_null(big);
    memset(big, 'a', n);
    struct answer a = post_ca(url, big, n, NULL);
    assert_int_equal(a.cc, CURLE_OK);
    assert_int_equal(a.status, 413);
    /* exactly at the limit: taken */
    a = post_ca(url, big, n - 1, NULL);
    assert_int_equal(a.status, 200);
    free(big);
    struct cb_recv_item it;
    assert_true(cb_recv_get(r, 0, &it));
    assert_int_equal(it.answered, 413);
    assert_int_equal(it.raw_len, n);
    assert_string_equal(it.raw, "");
    cb_recv_item_free(&it);
    assert_true(cb_recv_get(r, 1, &it));
    assert_int_equal(it.raw_len, n - 1);
    assert_int_equal(strlen(it.raw), n - 1);
    cb_recv_item_free(&it);
    cb_recv_stop(r);
}

static void test_bodies(void **state)
{
    (void)state;
    struct cb_recv *r = start(NULL, NULL);
    char url[128];
    url_of(r, "/push/data?app=a1&x=2", url, sizeof url);
    assert_int_equal(post(url, "{\"notifyType\":\"deviceDataChanged\",\"deviceId\":\"d1\"}").status, 200);
    assert_int_equal(post(url, "not json {").status, 200);
    assert_int_equal(post(url, "").status, 200);
    struct cb_recv_item it;
    assert_true(cb_recv_get(r, 0, &it));
    assert_string_equal(it.method, "POST");
    assert_string_equal(it.path, "/push/data?app=a1&x=2");
    assert_string_equal(it.content_type, "application/json");
    assert_non_null(it.body);
    assert_string_equal(cJSON_GetObjectItem(it.body, "notifyType")->valuestring, "deviceDataChanged");
    assert_true(it.at_ms > 1700000000000LL);
    cb_recv_item_free(&it);
    assert_true(cb_recv_get(r, 1, &it));
    assert_null(it.body);
    assert_string_equal(it.raw, "not json {");
    cb_recv_item_free(&it);
    assert_true(cb_recv_get(r, 2, &it));
    assert_null(it.body);
    assert_string_equal(it.raw, "");
    cb_recv_item_free(&it);
    /* the wait is bounded */
    double t0 = mono_s();
    assert_int_equal(cb_recv_wait(r, 3, 200), 3);
    double el = mono_s() - t0;
    assert_true(el >= 0.15 && el < 2.0);
    cb_recv_stop(r);
}

static void test_log_file(void **state)
{
    (void)state;
    char dir[512], path[600];
    assert_int_equal(scratch_make(argv0, "cb_recv", dir, sizeof dir), 0);
    snprintf(path, sizeof path, "%s/log.jsonl", dir);
    struct cb_recv *r = start("503x1,200@10ms", path);
    char url[128];
    url_of(r, "/l", url, sizeof url);
    assert_int_equal(post(url, "{\"a\":1}").status, 503);
    /* the line is there while the receiver runs (flushed per line) */
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[1024];
    assert_non_null(fgets(line, sizeof line, f));
    cJSON *j = cJSON_Parse(line);
    assert_non_null(j);
    assert_int_equal(cJSON_GetObjectItem(j, "seq")->valueint, 1);
    assert_int_equal(cJSON_GetObjectItem(j, "status")->valueint, 503);
    assert_string_equal(cJSON_GetObjectItem(j, "path")->valuestring, "/l");
    assert_string_equal(cJSON_GetObjectItem(j, "content_type")->valuestring, "application/json");
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "body"), "a")->valueint, 1);
    cJSON_Delete(j);
    assert_int_equal(post(url, "plain").status, 200);
    assert_non_null(fgets(line, sizeof line, f));
    j = cJSON_Parse(line);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItem(j, "body_text")->valuestring, "plain");
    assert_int_equal(cJSON_GetObjectItem(j, "delay_ms")->valueint, 10);
    cJSON_Delete(j);
    assert_null(fgets(line, sizeof line, f));
    fclose(f);
    cb_recv_stop(r);
    assert_int_equal(scratch_remove(dir), 0);
}

static void test_ipv6(void **state)
{
    (void)state;
    struct cb_recv_opts o = {.bind = "::1", .plan = "202"};
    char err[256], url[128];
    struct cb_recv *r = cb_recv_start(&o, err, sizeof err);
    if (!r)
        fail_msg("cb_recv_start: %s", err);
    assert_int_equal(strncmp(cb_recv_url(r), "http://[::1]:", 13), 0);
    url_of(r, "/6", url, sizeof url);
    assert_int_equal(post(url, "{}").status, 202);
    assert_int_equal(cb_recv_count(r), 1);
    cb_recv_stop(r);
}

/* A self-signed certificate for 127.0.0.1 (P-256), PEM, into cert and key. */
static void make_cert(char **cert, char **key)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    assert_non_null(k);
    X509 *x = X509_new();
    assert_non_null(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, k);
    X509_NAME *nm = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)"127.0.0.1", -1, -1, 0);
    X509_set_issuer_name(x, nm);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    X509_EXTENSION *san = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, "IP:127.0.0.1");
    X509_EXTENSION *bc = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, "critical,CA:TRUE");
    assert_non_null(san);
    assert_non_null(bc);
    X509_add_ext(x, san, -1);
    X509_add_ext(x, bc, -1);
    X509_EXTENSION_free(san);
    X509_EXTENSION_free(bc);
    assert_true(X509_sign(x, k, EVP_sha256()) > 0);
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, x);
    char *p;
    long n = BIO_get_mem_data(b, &p);
    *cert = strndup(p, (size_t)n);
    BIO_free(b);
    b = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
    n = BIO_get_mem_data(b, &p);
    *key = strndup(p, (size_t)n);
    BIO_free(b);
    X509_free(x);
    EVP_PKEY_free(k);
}

static void test_https(void **state)
{
    (void)state;
    char *cert, *key;
    make_cert(&cert, &key);
    struct cb_recv_opts o = {.tls_cert_pem = cert, .tls_key_pem = key, .plan = "201"};
    char err[256], url[128];
    struct cb_recv *r = cb_recv_start(&o, err, sizeof err);
    if (!r)
        fail_msg("cb_recv_start: %s", err);
    assert_int_equal(strncmp(cb_recv_url(r), "https://127.0.0.1:", 18), 0);
    url_of(r, "/s", url, sizeof url);
    struct answer a = post_ca(url, "{\"tls\":1}", 9, cert);
    assert_int_equal(a.cc, CURLE_OK);
    assert_int_equal(a.status, 201);
    /* a client that does not trust it gets no answer, and nothing is recorded */
    a = post_ca(url, "{}", 2, NULL);
    assert_int_not_equal(a.cc, CURLE_OK);
    assert_int_equal(cb_recv_count(r), 1);
    cb_recv_stop(r);
    /* a key that is not one */
    o.tls_key_pem = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
    assert_null(cb_recv_start(&o, err, sizeof err));
    assert_non_null(strstr(err, "TLS key"));
    o.tls_key_pem = NULL;
    assert_null(cb_recv_start(&o, err, sizeof err));
    assert_non_null(strstr(err, "both or neither"));
    free(cert);
    free(key);
}

static void test_plan_errors(void **state)
{
    (void)state;
    static const struct {
        const char *plan;
        const char *err;    /* NULL: valid */
    } cases[] = {
        {"200", NULL},
        {"503x3,200", NULL},
        {"200@20s", NULL},
        {"drop@1sx2, 200", NULL},
        {"200@10mx2", NULL},
        {"599,100", NULL},
        {"200,5O3", "plan entry 2 '5O3': not a status (100-599, or drop)"},
        {"600", "plan entry 1 '600': not a status"},
        {"20", "plan entry 1 '20': not a status"},
        {"200,,503", "plan entry 2 '': empty"},
        {"200,", "plan entry 2 '': empty"},
        {"503x0", "plan entry 1 '503x0': the count after x: expected 1-1000000"},
        {"503x", "plan entry 1 '503x': the count after x"},
        {"503x2000000", "plan entry 1 '503x2000000': the count after x"},
        {"200@", "plan entry 1 '200@': @ without a delay"},
        {"200@20", "plan entry 1 '200@20': the delay: '20': units required"},
        {"200@11m", "plan entry 1 '200@11m': the delay: '11m': must be at most"},
        {"200@-1s", "plan entry 1 '200@-1s': the delay"},
        {"ok", "plan entry 1 'ok': not a status"},
        {"200x2@1s", "plan entry 1 '200x2@1s': not a status"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[256] = "";
        int rc = cb_recv_plan_check(cases[i].plan, err, sizeof err);
        if (!cases[i].err) {
            if (rc != 0)
                fail_msg("'%s' refused: %s", cases[i].plan, err);
            continue;
        }
        if (rc == 0)
            fail_msg("'%s' taken", cases[i].plan);
        if (strncmp(err, cases[i].err, strlen(cases[i].err)) != 0)
            fail_msg("'%s': got \"%s\", want \"%s...\"", cases[i].plan, err, cases[i].err);
    }
    char err[256];
    char many[200] = "";
    for (int i = 0; i < CB_RECV_PLAN_MAX + 1; i++)
        strcat(many, i ? ",200" : "200");
    assert_int_equal(cb_recv_plan_check(many, err, sizeof err), -1);
    assert_non_null(strstr(err, "more than 32 entries"));
    /* the start refuses a bad plan and a bad address */
    struct cb_recv_opts o = {.plan = "2OO"};
    assert_null(cb_recv_start(&o, err, sizeof err));
    assert_non_null(strstr(err, "plan entry 1 '2OO'"));
    o.plan = NULL;
    o.bind = "localhost";
    assert_null(cb_recv_start(&o, err, sizeof err));
    assert_non_null(strstr(err, "not an IPv4 or IPv6 address"));
}

static void test_port_in_use(void **state)
{
    (void)state;
    struct cb_recv *a = start(NULL, NULL);
    struct cb_recv_opts o = {.port = cb_recv_port(a)};
    char err[256];
    assert_null(cb_recv_start(&o, err, sizeof err));
    assert_non_null(strstr(err, "cannot listen on 127.0.0.1:"));
    cb_recv_stop(a);
}

int main(int argc, char **argv)
{
    (void)argc;
    argv0 = argv[0];
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_in_turn),   cmocka_unit_test(test_delay_blocks_nothing_else),
        cmocka_unit_test(test_stop_with_a_pending_answer), cmocka_unit_test(test_drop),
        cmocka_unit_test(test_too_big),        cmocka_unit_test(test_bodies),
        cmocka_unit_test(test_log_file),       cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_https),          cmocka_unit_test(test_plan_errors),
        cmocka_unit_test(test_port_in_use),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
