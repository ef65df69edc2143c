/* Subpackaged messages as sent (sim/proto/jt808_pkgs.c) and their reassembly with the
 * packages' encryption (jt808_reasm_decode): in the clear the packages are the very
 * frames jt808_split makes; encrypted, each package's body is the RSA blocks of its
 * own piece of the body and decrypts alone; packages that disagree on encryption are
 * read each as it says and the reassembled message carries a mixed-encryption
 * deviation where the first one that differs from package 1 starts. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sim/proto/jt808.h"
#include "sim/proto/jt808_pkgs.h"
#include "sim/proto/jt808_rsa.h"

#define RSA_TEST_KEY "tests/data/jt808-rsa-test-key.pem"

static EVP_PKEY *key;
static uint8_t body[3000];
static uint8_t scratch[2 * JT808_MAX_FRAME];
static struct jt808_msg m, full;

static int setup(void **state)
{
    (void)state;
    char err[256];
    key = jt808_rsa_load(RSA_TEST_KEY, err, sizeof err);
    if (!key)
        return -1;
    /* a 0x0900 passthrough: type, then bytes */
    body[0] = 0x41;
    for (size_t i = 1; i < sizeof body; i++)
        body[i] = (uint8_t)(i * 31 + 7);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    EVP_PKEY_free(key);
    jt808_msg_free(&m);
    jt808_msg_free(&full);
    return 0;
}

static struct jt808_header header(enum jt808_version v)
{
    struct jt808_header h = {.msg_id = 0x0900, .version = v, .proto_version = v == JT808_V2019 ? 1 : 0};
    strcpy(h.phone, v == JT808_V2019 ? "00000000013912345678" : "013912345678");
    return h;
}

struct frames {
    uint8_t f[8][JT808_MAX_FRAME];
    size_t len[8];
    size_t n;
};

static void collect(const uint8_t *frame, size_t len, void *arg)
{
    struct frames *fr = arg;
    assert_true(fr->n < 8);
    memcpy(fr->f[fr->n], frame, len);
    fr->len[fr->n++] = len;
}

/* Without a key the packages are jt808_split's frames, byte for byte. */
static void test_plain_as_split(void **state)
{
    (void)state;
    static struct frames fr;
    struct jt808_header h = header(JT808_V2013);
    fr.n = 0;
    assert_int_equal(jt808_split(&h, 0xFFFE, body, sizeof body, 1000, collect, &fr), JT808_OK);
    struct jt808_err e;
    struct jt808_pkgs *p = jt808_pkgs_make(NULL, JT808_PKGS_ALL, &h, 0xFFFE, body, sizeof body, 1000, &e);
    assert_non_null(p);
    assert_int_equal(p->total, 3);
    assert_int_equal(fr.n, 3);
    for (unsigned i = 1; i <= p->total; i++) {
        uint8_t f[JT808_MAX_FRAME];
        size_t len = 0;
        assert_int_equal(jt808_pkgs_frame(p, i, f, sizeof f, &len, &e), JT808_OK);
        assert_int_equal(len, fr.len[i - 1]);
        assert_memory_equal(f, fr.f[i - 1], len);
        assert_int_equal(p->enc[i - 1], 0);
    }
    uint8_t f[JT808_MAX_FRAME];
    size_t len = 0;
    assert_int_equal(jt808_pkgs_frame(p, 0, f, sizeof f, &len, &e), JT808_E_SUBPKG);
    assert_int_equal(jt808_pkgs_frame(p, 4, f, sizeof f, &len, &e), JT808_E_SUBPKG);
    assert_true(jt808_pkgs_held(p) >= p->bytes && jt808_pkgs_held(p) < p->bytes + 256);
    assert_int_equal(jt808_pkgs_held(NULL), 0);
    jt808_pkgs_free(p);
    /* an empty body: one empty package, as jt808_split makes */
    p = jt808_pkgs_make(NULL, JT808_PKGS_ALL, &h, 5, NULL, 0, 100, &e);
    assert_non_null(p);
    assert_int_equal(p->total, 1);
    assert_int_equal(p->bytes, 0);
    jt808_pkgs_free(p);
}

/* The chunk a key allows (819 bytes: 7 blocks of 117 make 896 bytes, under 1023), the
 * count a header holds. */
static void test_limits(void **state)
{
    (void)state;
    struct jt808_header h = header(JT808_V2013);
    struct jt808_err e = {0};
    assert_int_equal(JT808_PKGS_RSA_CHUNK, 819);
    assert_true(jt808_rsa_cipher_len(JT808_PKGS_RSA_CHUNK) <= JT808_MAX_BODY);
    assert_true(jt808_rsa_cipher_len(JT808_PKGS_RSA_CHUNK + 1) > JT808_MAX_BODY);
    assert_null(jt808_pkgs_make(key, JT808_PKGS_ALL, &h, 1, body, sizeof body, 820, &e));
    assert_int_equal(e.rc, JT808_E_VALUE);
    assert_string_equal(e.field, "pkgs.chunk");
    assert_null(jt808_pkgs_make(NULL, JT808_PKGS_ALL, &h, 1, body, sizeof body, 0, &e));
    assert_null(jt808_pkgs_make(NULL, JT808_PKGS_ALL, &h, 1, body, sizeof body, 1024, &e));
    struct jt808_pkgs *p = jt808_pkgs_make(NULL, JT808_PKGS_ALL, &h, 1, body, sizeof body, 820, &e);
    assert_non_null(p);
    jt808_pkgs_free(p);
    static uint8_t big[70000];
    assert_null(jt808_pkgs_make(NULL, JT808_PKGS_ALL, &h, 1, big, sizeof big, 1, &e));
    assert_int_equal(e.rc, JT808_E_SUBPKG);
    assert_int_equal(jt808_pkgs_count(0, 10), 1);
    assert_int_equal(jt808_pkgs_count(20, 10), 2);
    assert_int_equal(jt808_pkgs_count(21, 10), 3);
}

/* Encrypted: each package says RSA, its body is 128 bytes a started block of 117 of its
 * own piece, decrypts alone (jt808_rsa_decode), and the pieces reassemble into the
 * body; its frames are the same bytes on every call. */
static void roundtrip(enum jt808_version v)
{
    struct jt808_header h = header(v);
    struct jt808_err e;
    struct jt808_pkgs *p = jt808_pkgs_make(key, JT808_PKGS_ALL, &h, 100, body, sizeof body, JT808_PKGS_RSA_CHUNK, &e);
    assert_non_null(p);
    assert_int_equal(p->total, (sizeof body + 818) / 819);
    struct jt808_reasm r;
    jt808_reasm_init(&r, 256 * 1024, 0);
    bool done = false;
    uint8_t *whole = NULL;
    size_t whole_len = 0;
    struct jt808_header last = {0};
    for (unsigned i = 1; i <= p->total; i++) {
        uint8_t f[JT808_MAX_FRAME], f2[JT808_MAX_FRAME];
        size_t len = 0, len2 = 0;
        assert_int_equal(jt808_pkgs_frame(p, i, f, sizeof f, &len, &e), JT808_OK);
        assert_int_equal(jt808_pkgs_frame(p, i, f2, sizeof f2, &len2, &e), JT808_OK);
        assert_int_equal(len, len2);
        assert_memory_equal(f, f2, len);
        /* without the key: the ciphertext, opaque */
        assert_int_equal(jt808_decode(f, len, scratch, sizeof scratch, &m, &e), JT808_OK);
        size_t piece = i < p->total ? 819 : sizeof body - 819 * (p->total - 1);
        assert_int_equal(m.h.encryption, JT808_ENC_RSA);
        assert_true(m.h.subpackage);
        assert_int_equal(m.h.pkg_index, i);
        assert_int_equal(m.h.pkg_total, p->total);
        assert_int_equal(m.h.serial, 99 + i);
        assert_int_equal(m.body_bytes, jt808_rsa_cipher_len(piece));
        assert_false(m.rsa_plain);
        assert_int_equal(jt808_rsa_decode(f, len, scratch, sizeof scratch, key, &m, &e), JT808_OK);
        assert_true(m.rsa_plain);
        assert_int_equal(m.body_bytes, piece);
        assert_memory_equal(m.body, body + 819 * (i - 1), piece);
        last = m.h;
        assert_int_equal(jt808_reasm_feed(&r, &m.h, m.body, m.body_bytes, 0, &done, &whole, &whole_len, &e),
                         JT808_OK);
    }
    assert_true(done);
    assert_int_equal(jt808_reasm_decode(&r, &last, whole, whole_len, &full, &e), JT808_OK);
    assert_int_equal(full.h.msg_id, 0x0900);
    assert_false(full.h.subpackage);
    assert_int_equal(full.h.encryption, JT808_ENC_RSA);
    assert_true(full.rsa_plain);
    assert_int_equal(full.devs.total, 0);
    assert_int_equal(whole_len, sizeof body);
    assert_memory_equal(whole, body, sizeof body);
    free(whole);
    jt808_reasm_free(&r);
    jt808_pkgs_free(p);
}

static void test_encrypted_roundtrip(void **state)
{
    (void)state;
    roundtrip(JT808_V2013);
    roundtrip(JT808_V2019);
}

/* A package encrypted for another key: the block that does not decrypt, at its wire
 * offset, named body.rsa_block. */
static void test_other_key(void **state)
{
    (void)state;
    char err[256];
    EVP_PKEY *other = jt808_rsa_generate(err, sizeof err);
    assert_non_null(other);
    struct jt808_header h = header(JT808_V2013);
    struct jt808_err e;
    struct jt808_pkgs *p = jt808_pkgs_make(other, JT808_PKGS_ALL, &h, 1, body, 1000, 819, &e);
    assert_non_null(p);
    uint8_t f[JT808_MAX_FRAME];
    size_t len = 0;
    assert_int_equal(jt808_pkgs_frame(p, 2, f, sizeof f, &len, &e), JT808_OK);
    assert_int_equal(jt808_rsa_decode(f, len, scratch, sizeof scratch, key, &m, &e), JT808_E_DECRYPT);
    assert_string_equal(e.field, "body.rsa_block");
    assert_int_equal(e.offset, 1 + 16); /* the 2013 header with its package fields, then the block */
    assert_int_equal(jt808_decode(f, len, scratch, sizeof scratch, &m, &e), JT808_OK);
    assert_int_equal(jt808_pkgs_open(key, &m, scratch + JT808_MAX_FRAME, JT808_MAX_FRAME, &e), JT808_E_DECRYPT);
    assert_int_equal(e.offset, 0);
    jt808_pkgs_free(p);
    EVP_PKEY_free(other);
}

/* Feed package i of 3 (each 10 bytes, encryption enc[i]) in the order given. */
static void feed3(struct jt808_reasm *r, const uint8_t enc[3], const unsigned order[3], uint8_t **whole,
                  size_t *whole_len, struct jt808_header *last)
{
    bool done = false;
    for (int k = 0; k < 3; k++) {
        struct jt808_header h = header(JT808_V2013);
        h.subpackage = true;
        h.pkg_total = 3;
        h.pkg_index = (uint16_t)order[k];
        h.serial = (uint16_t)(40 + order[k] - 1);
        h.encryption = enc[order[k] - 1];
        struct jt808_err e;
        assert_int_equal(jt808_reasm_feed(r, &h, body + 10 * (order[k] - 1), 10, 0, &done, whole, whole_len, &e),
                         JT808_OK);
        assert_int_equal(done, k == 2);
        *last = h;
    }
}

/* Every package must agree: a mix is read each as its header says (here the bodies
 * given are plaintext already) and reported once, at the first package that differs
 * from package 1, whatever order they came in; packages that agree give none. */
static void test_mixed(void **state)
{
    (void)state;
    static const struct {
        uint8_t enc[3];
        unsigned order[3];
        uint8_t want_enc;
        size_t offset; /* 0: no deviation */
    } cases[] = {
        {{1, 0, 1}, {1, 2, 3}, 1, 10},
        {{0, 1, 1}, {3, 1, 2}, 0, 10},
        {{1, 1, 0}, {3, 2, 1}, 1, 20},
        {{0, 0, 0}, {2, 3, 1}, 0, 0},
        {{1, 1, 1}, {1, 3, 2}, 1, 0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        struct jt808_reasm r;
        jt808_reasm_init(&r, 4096, 0);
        uint8_t *whole = NULL;
        size_t whole_len = 0;
        struct jt808_header last;
        feed3(&r, cases[c].enc, cases[c].order, &whole, &whole_len, &last);
        struct jt808_err e;
        assert_int_equal(jt808_reasm_decode(&r, &last, whole, whole_len, &full, &e), JT808_OK);
        assert_int_equal(full.h.encryption, cases[c].want_enc);
        assert_int_equal(full.h.pkg_total, 0);
        assert_int_equal(full.h.body_len, 30);
        if (cases[c].offset) {
            assert_int_equal(full.devs.total, 1);
            assert_int_equal(full.devs.d[0].kind, JT808_DEV_MIXED_ENCRYPTION);
            assert_int_equal(full.devs.d[0].offset, cases[c].offset);
            assert_string_equal(full.devs.d[0].field, "header.encryption");
        } else {
            assert_int_equal(full.devs.total, 0);
        }
        assert_memory_equal(whole, body, 30);
        free(whole);
        jt808_reasm_free(&r);
    }
    assert_string_equal(jt808_dev_name(JT808_DEV_MIXED_ENCRYPTION), "mixed-encryption");
}

/* JT808_PKGS_MIXED: packages 1, 3, ... encrypted, the others in the clear; they
 * reassemble into the body with the deviation at package 2. */
static void test_make_mixed(void **state)
{
    (void)state;
    struct jt808_header h = header(JT808_V2019);
    struct jt808_err e;
    struct jt808_pkgs *p = jt808_pkgs_make(key, JT808_PKGS_MIXED, &h, 7, body, 2000, 500, &e);
    assert_non_null(p);
    assert_int_equal(p->total, 4);
    struct jt808_reasm r;
    jt808_reasm_init(&r, 256 * 1024, 0);
    bool done = false;
    uint8_t *whole = NULL;
    size_t whole_len = 0;
    for (unsigned i = 1; i <= p->total; i++) {
        assert_int_equal(p->enc[i - 1], i % 2 ? JT808_ENC_RSA : 0);
        uint8_t f[JT808_MAX_FRAME];
        size_t len = 0;
        assert_int_equal(jt808_pkgs_frame(p, i, f, sizeof f, &len, &e), JT808_OK);
        assert_int_equal(jt808_rsa_decode(f, len, scratch, sizeof scratch, key, &m, &e), JT808_OK);
        assert_int_equal(m.h.encryption, p->enc[i - 1]);
        assert_int_equal(m.body_bytes, 500);
        assert_int_equal(jt808_reasm_feed(&r, &m.h, m.body, m.body_bytes, 0, &done, &whole, &whole_len, &e),
                         JT808_OK);
    }
    assert_true(done);
    assert_int_equal(jt808_reasm_decode(&r, &m.h, whole, whole_len, &full, &e), JT808_OK);
    assert_int_equal(full.devs.total, 1);
    assert_int_equal(full.devs.d[0].offset, 500);
    assert_memory_equal(whole, body, 2000);
    free(whole);
    jt808_reasm_free(&r);
    jt808_pkgs_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_as_split),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_encrypted_roundtrip),
        cmocka_unit_test(test_other_key),
        cmocka_unit_test(test_mixed),
        cmocka_unit_test(test_make_mixed),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
