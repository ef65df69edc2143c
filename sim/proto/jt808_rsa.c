/* JT/T 808 RSA bodies over OpenSSL's EVP: 117-byte blocks, PKCS#1 v1.5, 128 bytes each. */
#include "sim/proto/jt808_rsa.h"

#include <errno.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sim/proto/jt808_internal.h"

static void *say(char *err, size_t cap, const char *fmt, ...)
{
    if (err && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, cap, fmt, ap);
        va_end(ap);
    }
    ERR_clear_error(); /* what OpenSSL queued is told here, not left for the next caller */
    return NULL;
}

/* OpenSSL's reason for the last failure, for messages. */
static const char *ossl_why(void)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    return r ? r : "unknown reason";
}

size_t jt808_rsa_cipher_len(size_t n)
{
    return (n + JT808_RSA_PLAIN_BLOCK - 1) / JT808_RSA_PLAIN_BLOCK * JT808_RSA_N_BYTES;
}

EVP_PKEY *jt808_rsa_from_public(uint32_t e, const uint8_t n[JT808_RSA_N_BYTES], char *err, size_t errcap)
{
    if (e < 3 || !(e & 1))
        return say(err, errcap, "e %u: an RSA public exponent is odd and at least 3", e);
    if (!(n[0] & 0x80))
        return say(err, errcap, "n: not a 1024-bit modulus (its first byte 0x%02X lacks the top bit)", n[0]);
    if (!(n[JT808_RSA_N_BYTES - 1] & 1))
        return say(err, errcap, "n: an RSA modulus is odd");
    EVP_PKEY *k = NULL;
    BIGNUM *bn = BN_bin2bn(n, JT808_RSA_N_BYTES, NULL), *be = BN_new();
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (!bn || !be || !bld || !ctx || !BN_set_word(be, e) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) || !(params = OSSL_PARAM_BLD_to_param(bld)) ||
        EVP_PKEY_fromdata_init(ctx) <= 0 || EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
        say(err, errcap, "cannot make the RSA public key: %s", ossl_why());
        k = NULL;
    }
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(ctx);
    BN_free(bn);
    BN_free(be);
    return k;
}

/* A private RSA key of JT808_RSA_BITS, or NULL after saying why. */
static EVP_PKEY *check_private(EVP_PKEY *k, const char *what, char *err, size_t errcap)
{
    if (!EVP_PKEY_is_a(k, "RSA")) {
        EVP_PKEY_free(k);
        return say(err, errcap, "%s: not an RSA key", what);
    }
    if (EVP_PKEY_get_bits(k) != JT808_RSA_BITS) {
        int bits = EVP_PKEY_get_bits(k);
        EVP_PKEY_free(k);
        return say(err, errcap, "%s: a %d-bit key; JT/T 808 uses 1024-bit RSA keys", what, bits);
    }
    if (!jt808_rsa_has_private(k)) {
        EVP_PKEY_free(k);
        return say(err, errcap, "%s: no private key in it", what);
    }
    return k;
}

EVP_PKEY *jt808_rsa_from_pem(const char *pem, size_t len, char *err, size_t errcap)
{
    if (len > INT32_MAX)
        return say(err, errcap, "PEM text too long");
    BIO *b = BIO_new_mem_buf(pem, (int)len);
    if (!b)
        return say(err, errcap, "out of memory");
    EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    BIO_free(b);
    if (!k)
        return say(err, errcap, "not a PEM private key: %s", ossl_why());
    return check_private(k, "key", err, errcap);
}

EVP_PKEY *jt808_rsa_load(const char *path, char *err, size_t errcap)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return say(err, errcap, "%s: %s", path, strerror(errno));
    EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (!k)
        return say(err, errcap, "%s: not a PEM private key: %s", path, ossl_why());
    return check_private(k, path, err, errcap);
}

EVP_PKEY *jt808_rsa_generate(char *err, size_t errcap)
{
    EVP_PKEY *k = EVP_RSA_gen(JT808_RSA_BITS);
    if (!k)
        return say(err, errcap, "cannot generate an RSA key: %s", ossl_why());
    return k;
}

int jt808_rsa_public(const EVP_PKEY *k, uint32_t *e, uint8_t n[JT808_RSA_N_BYTES])
{
    BIGNUM *bn = NULL, *be = NULL;
    int rc = -1;
    if (k && EVP_PKEY_is_a(k, "RSA") && EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &bn) &&
        EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &be) && BN_num_bytes(bn) == JT808_RSA_N_BYTES &&
        BN_num_bits(be) <= 32 && BN_bn2binpad(bn, n, JT808_RSA_N_BYTES) == JT808_RSA_N_BYTES) {
        *e = (uint32_t)BN_get_word(be);
        rc = 0;
    }
    BN_free(bn);
    BN_free(be);
    ERR_clear_error();
    return rc;
}

size_t jt808_rsa_pem(EVP_PKEY *k, char *out, size_t cap)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *p = NULL;
    long n = 0;
    size_t rc = 0;
    if (b && PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) == 1 && (n = BIO_get_mem_data(b, &p)) > 0 &&
        (size_t)n < cap) {
        memcpy(out, p, (size_t)n);
        out[n] = '\0';
        rc = (size_t)n;
    }
    BIO_free(b);
    ERR_clear_error();
    return rc;
}

bool jt808_rsa_has_private(const EVP_PKEY *k)
{
    BIGNUM *d = NULL;
    bool has = k && EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_D, &d) && d;
    BN_clear_free(d);
    ERR_clear_error();
    return has;
}

/* A context for k with PKCS#1 v1.5 padding, for encryption or decryption. */
static EVP_PKEY_CTX *pkcs1_ctx(EVP_PKEY *k, bool decrypt)
{
    EVP_PKEY_CTX *ctx = k ? EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL) : NULL;
    if (!ctx)
        return NULL;
    if ((decrypt ? EVP_PKEY_decrypt_init(ctx) : EVP_PKEY_encrypt_init(ctx)) <= 0 ||
        EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0) {
        EVP_PKEY_CTX_free(ctx);
        return NULL;
    }
    /* OpenSSL 3.2 and later answer a block with bad padding with random bytes instead of
     * an error (implicit rejection, against Bleichenbacher oracles); a simulator wants
     * the error.  Older versions do not know the setting: nothing to turn off. */
    if (decrypt)
        EVP_PKEY_CTX_ctrl_str(ctx, "rsa_pkcs1_implicit_rejection", "0");
    ERR_clear_error();
    return ctx;
}

/* in[0..n) through k block by block into out: encrypting, blocks of 117 bytes to 128;
 * decrypting, blocks of 128 to at most 117. */
static enum jt808_rc crypt_blocks(EVP_PKEY *k, bool decrypt, const uint8_t *in, size_t n, uint8_t *out, size_t cap,
                                  size_t *out_len, struct jt808_err *err)
{
    *out_len = 0;
    if (n == 0)
        return JT808_OK;
    if (decrypt && !jt808_rsa_has_private(k))
        return jt808_fail(err, JT808_E_VALUE, 0, "rsa_key");
    EVP_PKEY_CTX *ctx = pkcs1_ctx(k, decrypt);
    if (!ctx) {
        ERR_clear_error();
        return jt808_fail(err, JT808_E_VALUE, 0, "rsa_key");
    }
    const size_t step = decrypt ? JT808_RSA_N_BYTES : JT808_RSA_PLAIN_BLOCK;
    enum jt808_rc rc = JT808_OK;
    size_t o = 0;
    for (size_t i = 0; i < n; i += step) {
        size_t len = n - i < step ? n - i : step;
        uint8_t block[JT808_RSA_N_BYTES];
        size_t bl = sizeof block;
        if (decrypt) {
            /* a body ending inside a block (cut short) cannot be decrypted */
            if (len < JT808_RSA_N_BYTES || EVP_PKEY_decrypt(ctx, block, &bl, in + i, len) <= 0 ||
                bl > JT808_RSA_PLAIN_BLOCK) {
                rc = jt808_fail(err, JT808_E_DECRYPT, i, "body.rsa_block");
                break;
            }
        } else if (EVP_PKEY_encrypt(ctx, block, &bl, in + i, len) <= 0 || bl != JT808_RSA_N_BYTES) {
            rc = jt808_fail(err, JT808_E_VALUE, i, "rsa_key");
            break;
        }
        if (cap - o < bl) {
            rc = jt808_fail(err, JT808_E_NOSPACE, i, "body.rsa_block");
            break;
        }
        memcpy(out + o, block, bl);
        o += bl;
    }
    EVP_PKEY_CTX_free(ctx);
    ERR_clear_error();
    if (rc == JT808_OK)
        *out_len = o;
    return rc;
}

enum jt808_rc jt808_rsa_encrypt(EVP_PKEY *k, const uint8_t *in, size_t n, uint8_t *out, size_t cap,
                                size_t *out_len, struct jt808_err *err)
{
    return crypt_blocks(k, false, in, n, out, cap, out_len, err);
}

enum jt808_rc jt808_rsa_decrypt(EVP_PKEY *k, const uint8_t *in, size_t n, uint8_t *out, size_t cap,
                                size_t *out_len, struct jt808_err *err)
{
    return crypt_blocks(k, true, in, n, out, cap, out_len, err);
}

/* --- frames ------------------------------------------------------------------- */

enum jt808_rc jt808_rsa_open(EVP_PKEY *k, struct jt808_msg *msg, const uint8_t *body, size_t n, uint8_t *out,
                             size_t cap, struct jt808_err *err)
{
    size_t pl = 0;
    JT808_TRY(jt808_rsa_decrypt(k, body, n, out, cap, &pl, err));
    msg->body = out;
    msg->body_bytes = pl;
    msg->rsa_plain = true;
    return jt808_body_read(out, pl, msg, err);
}

bool jt808_rsa_failed(const struct jt808_err *err)
{
    return err->rc != JT808_OK && err->field &&
           (strcmp(err->field, "body.rsa_block") == 0 || strcmp(err->field, "rsa_key") == 0);
}

enum jt808_rc jt808_rsa_decode(const uint8_t *wire, size_t len, uint8_t *scratch, size_t scratch_cap,
                               EVP_PKEY *k, struct jt808_msg *msg, struct jt808_err *err)
{
    struct jt808_err local;
    if (!err)
        err = &local;
    JT808_TRY(jt808_decode(wire, len, scratch, scratch_cap, msg, err));
    if (!k || msg->h.encryption != JT808_ENC_RSA)
        return JT808_OK;
    /* the unescaped frame ends with its check byte; the plaintext goes after it */
    size_t hlen = jt808_header_len(&msg->h), used = hlen + msg->body_bytes + 1;
    if (scratch_cap < used)
        return jt808_fail(err, JT808_E_NOSPACE, 0, "scratch");
    enum jt808_rc rc;
    if (msg->h.subpackage) {
        /* a package's body is encrypted on its own (jt808_pkgs.h): its plaintext, a
         * piece of the message's body, is not decoded until reassembled */
        size_t pl = 0;
        rc = jt808_rsa_decrypt(k, scratch + hlen, msg->body_bytes, scratch + used, scratch_cap - used, &pl, err);
        if (rc == JT808_OK) {
            msg->body = scratch + used;
            msg->body_bytes = pl;
            msg->rsa_plain = true;
        }
    } else {
        rc = jt808_rsa_open(k, msg, scratch + hlen, msg->body_bytes, scratch + used, scratch_cap - used, err);
    }
    if (rc == JT808_E_DECRYPT)
        err->offset = jt808_wire_offset(wire, len, hlen + err->offset);
    return rc;
}

enum jt808_rc jt808_rsa_encode(EVP_PKEY *k, const struct jt808_msg *msg, uint8_t *out, size_t cap,
                               size_t *out_len, struct jt808_err *err)
{
    struct jt808_err local;
    if (!err)
        err = &local;
    err->rc = JT808_OK;
    err->offset = 0;
    err->field = NULL;
    uint8_t plain[JT808_MAX_LONG_BODY > 4096 ? 4096 : JT808_MAX_LONG_BODY];
    const uint8_t *body = msg->body;
    size_t n = msg->body_bytes;
    if (!body) {
        enum jt808_rc rc = jt808_body_encode(msg, plain, sizeof plain, &n, err);
        if (rc == JT808_E_NOSPACE)
            return jt808_fail(err, JT808_E_LENGTH, err->offset, err->field);
        JT808_TRY(rc);
        body = plain;
    }
    if (n > JT808_RSA_MAX_PLAIN)
        return jt808_fail(err, JT808_E_LENGTH, JT808_RSA_MAX_PLAIN, "body");
    uint8_t cipher[JT808_MAX_BODY];
    size_t cl = 0;
    JT808_TRY(jt808_rsa_encrypt(k, body, n, cipher, sizeof cipher, &cl, err));
    struct jt808_header h = msg->h;
    h.encryption = JT808_ENC_RSA;
    return jt808_frame_build(&h, cipher, cl, out, cap, out_len, err);
}
