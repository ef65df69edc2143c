/* JT/T 808 RSA bodies (sim/proto/jt808_rsa.c): round trips at the block boundaries,
 * the public key as 0x8A00/0x0A00 carry it, a wrong key and a cut block refused with
 * the block's offset, keys that are not JT/T 808's refused with a reason. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/proto/jt808.h"
#include "sim/proto/jt808_rsa.h"

#include <openssl/bio.h>
#include <openssl/pem.h>

#define TEST_KEY "tests/data/jt808-rsa-test-key.pem"

static EVP_PKEY *test_key(void)
{
    char err[256] = "";
    EVP_PKEY *k = jt808_rsa_load(TEST_KEY, err, sizeof err);
    if (!k)
        fail_msg("%s", err);
    return k;
}

/* The public half only, through the fields of 0x0A00 (what a peer knows of k). */
static EVP_PKEY *public_of(EVP_PKEY *k)
{
    uint32_t e = 0;
    uint8_t n[JT808_RSA_N_BYTES];
    char err[256] = "";
    assert_int_equal(jt808_rsa_public(k, &e, n), 0);
    EVP_PKEY *p = jt808_rsa_from_public(e, n, err, sizeof err);
    if (!p)
        fail_msg("%s", err);
    assert_false(jt808_rsa_has_private(p));
    return p;
}

static void test_cipher_len(void **state)
{
    (void)state;
    assert_int_equal(jt808_rsa_cipher_len(0), 0);
    assert_int_equal(jt808_rsa_cipher_len(1), 128);
    assert_int_equal(jt808_rsa_cipher_len(117), 128);
    assert_int_equal(jt808_rsa_cipher_len(118), 256);
    assert_int_equal(jt808_rsa_cipher_len(234), 256);
    assert_int_equal(jt808_rsa_cipher_len(235), 384);
    assert_int_equal(JT808_RSA_MAX_PLAIN, 819);
    assert_true(jt808_rsa_cipher_len(JT808_RSA_MAX_PLAIN) <= JT808_MAX_BODY);
    assert_true(jt808_rsa_cipher_len(JT808_RSA_MAX_PLAIN + 1) > JT808_MAX_BODY);
}

static void test_round_trip_boundaries(void **state)
{
    (void)state;
    EVP_PKEY *k = test_key(), *pub = public_of(k);
    static const size_t sizes[] = {0, 1, 116, 117, 118, 234, 235, JT808_RSA_MAX_PLAIN};
    uint8_t plain[1024], cipher[1152], back[1152];
    for (size_t i = 0; i < sizeof plain; i++)
        plain[i] = (uint8_t)(i * 7u + 3u);
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t n = sizes[s], cl = 99, pl = 99;
        struct jt808_err e = {0};
        assert_int_equal(jt808_rsa_encrypt(pub, plain, n, cipher, sizeof cipher, &cl, &e), JT808_OK);
        assert_int_equal(cl, jt808_rsa_cipher_len(n));
        if (n >= 8) /* a byte or a few may match by chance (1 in 256 each): eight will not */
            assert_memory_not_equal(cipher, plain, n < cl ? n : cl);
        assert_int_equal(jt808_rsa_decrypt(k, cipher, cl, back, sizeof back, &pl, &e), JT808_OK);
        assert_int_equal(pl, n);
        if (n)
            assert_memory_equal(back, plain, n);
        /* each block on its own decrypts to its 117 bytes (the standard's cut) */
        for (size_t b = 0; b + 128 <= cl; b += 128) {
            size_t bl = 0;
            assert_int_equal(jt808_rsa_decrypt(k, cipher + b, 128, back, sizeof back, &bl, &e), JT808_OK);
            size_t want = n - b / 128 * 117 < 117 ? n - b / 128 * 117 : 117;
            assert_int_equal(bl, want);
            assert_memory_equal(back, plain + b / 128 * 117, want);
        }
    }
    /* PKCS#1 v1.5 padding is random: the same body encrypts differently each time */
    uint8_t c2[128];
    size_t l1 = 0, l2 = 0;
    assert_int_equal(jt808_rsa_encrypt(pub, plain, 10, cipher, sizeof cipher, &l1, NULL), JT808_OK);
    assert_int_equal(jt808_rsa_encrypt(pub, plain, 10, c2, sizeof c2, &l2, NULL), JT808_OK);
    assert_memory_not_equal(cipher, c2, 128);
    EVP_PKEY_free(pub);
    EVP_PKEY_free(k);
}

static void test_wrong_key(void **state)
{
    (void)state;
    char err[256] = "";
    EVP_PKEY *k = test_key(), *other = jt808_rsa_generate(err, sizeof err);
    if (!other)
        fail_msg("%s", err);
    EVP_PKEY *pub = public_of(k);
    uint8_t plain[300], cipher[384], back[384];
    memset(plain, 0x5A, sizeof plain);
    size_t cl = 0, pl = 77;
    assert_int_equal(jt808_rsa_encrypt(pub, plain, sizeof plain, cipher, sizeof cipher, &cl, NULL), JT808_OK);
    assert_int_equal(cl, 384);
    struct jt808_err e = {0};
    assert_int_equal(jt808_rsa_decrypt(other, cipher, cl, back, sizeof back, &pl, &e), JT808_E_DECRYPT);
    assert_int_equal(e.offset, 0);
    assert_string_equal(e.field, "body.rsa_block");
    assert_int_equal(pl, 0);
    /* a damaged second block: the error names its offset */
    cipher[128 + 5] ^= 0xFF;
    assert_int_equal(jt808_rsa_decrypt(k, cipher, cl, back, sizeof back, &pl, &e), JT808_E_DECRYPT);
    assert_int_equal(e.offset, 128);
    /* a public key alone cannot decrypt */
    assert_int_equal(jt808_rsa_decrypt(pub, cipher, cl, back, sizeof back, &pl, &e), JT808_E_VALUE);
    assert_string_equal(jt808_rc_name(JT808_E_DECRYPT), "decrypt");
    EVP_PKEY_free(pub);
    EVP_PKEY_free(other);
    EVP_PKEY_free(k);
}

static void test_truncated_block(void **state)
{
    (void)state;
    EVP_PKEY *k = test_key(), *pub = public_of(k);
    uint8_t plain[200], cipher[256], back[256];
    memset(plain, 0xA5, sizeof plain);
    size_t cl = 0, pl = 0;
    assert_int_equal(jt808_rsa_encrypt(pub, plain, sizeof plain, cipher, sizeof cipher, &cl, NULL), JT808_OK);
    struct jt808_err e = {0};
    /* the last block cut by one byte, then a body shorter than one block */
    assert_int_equal(jt808_rsa_decrypt(k, cipher, cl - 1, back, sizeof back, &pl, &e), JT808_E_DECRYPT);
    assert_int_equal(e.offset, 128);
    assert_int_equal(jt808_rsa_decrypt(k, cipher, 5, back, sizeof back, &pl, &e), JT808_E_DECRYPT);
    assert_int_equal(e.offset, 0);
    /* out of room: encrypt names the plaintext block, decrypt the cipher block */
    assert_int_equal(jt808_rsa_encrypt(pub, plain, sizeof plain, cipher, 200, &cl, &e), JT808_E_NOSPACE);
    assert_int_equal(e.offset, 117);
    assert_int_equal(jt808_rsa_encrypt(pub, plain, sizeof plain, cipher, sizeof cipher, &cl, NULL), JT808_OK);
    assert_int_equal(jt808_rsa_decrypt(k, cipher, cl, back, 150, &pl, &e), JT808_E_NOSPACE);
    assert_int_equal(e.offset, 128);
    EVP_PKEY_free(pub);
    EVP_PKEY_free(k);
}

static void test_public_fields(void **state)
{
    (void)state;
    EVP_PKEY *k = test_key();
    uint32_t e = 0;
    uint8_t n[JT808_RSA_N_BYTES];
    assert_int_equal(jt808_rsa_public(k, &e, n), 0);
    assert_int_equal(e, 65537);
    assert_true(n[0] & 0x80);
    char err[256] = "";
    assert_null(jt808_rsa_from_public(65536, n, err, sizeof err));
    assert_non_null(strstr(err, "odd"));
    assert_null(jt808_rsa_from_public(1, n, err, sizeof err));
    uint8_t bad[JT808_RSA_N_BYTES];
    memcpy(bad, n, sizeof bad);
    bad[0] = 0x01; /* a 1017-bit number */
    assert_null(jt808_rsa_from_public(e, bad, err, sizeof err));
    assert_non_null(strstr(err, "1024-bit"));
    memcpy(bad, n, sizeof bad);
    bad[127] &= 0xFE;
    assert_null(jt808_rsa_from_public(e, bad, err, sizeof err));
    assert_non_null(strstr(err, "odd"));
    EVP_PKEY_free(k);
}

static void test_bad_pem(void **state)
{
    (void)state;
    char err[256] = "";
    assert_null(jt808_rsa_from_pem("hello", 5, err, sizeof err));
    assert_non_null(strstr(err, "not a PEM private key"));
    assert_null(jt808_rsa_load("tests/data/no-such-key.pem", err, sizeof err));
    assert_non_null(strstr(err, "no-such-key.pem"));
    /* a 2048-bit key is RSA but not JT/T 808's */
    EVP_PKEY *big = EVP_RSA_gen(2048);
    assert_non_null(big);
    BIO *b = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_PrivateKey(b, big, NULL, NULL, 0, NULL, NULL), 1);
    char *pem = NULL;
    long len = BIO_get_mem_data(b, &pem);
    assert_null(jt808_rsa_from_pem(pem, (size_t)len, err, sizeof err));
    assert_non_null(strstr(err, "2048-bit"));
    BIO_free(b);
    EVP_PKEY_free(big);
    /* the test key's text itself reads (comment lines before the PEM are skipped) */
    FILE *f = fopen(TEST_KEY, "rb");
    assert_non_null(f);
    char text[4096];
    size_t n = fread(text, 1, sizeof text, f);
    fclose(f);
    EVP_PKEY *k = jt808_rsa_from_pem(text, n, err, sizeof err);
    assert_non_null(k);
    assert_true(jt808_rsa_has_private(k));
    EVP_PKEY_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cipher_len),
        cmocka_unit_test(test_round_trip_boundaries),
        cmocka_unit_test(test_wrong_key),
        cmocka_unit_test(test_truncated_block),
        cmocka_unit_test(test_public_fields),
        cmocka_unit_test(test_bad_pem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
