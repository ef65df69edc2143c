/* libFuzzer target: JT/T 808 RSA bodies (sim/proto/jt808_rsa.c).  Any bytes as a
 * ciphertext decrypt or fail with JT808_E_DECRYPT at a block boundary inside the body,
 * never writing more than 117 bytes a block; any bytes as a plaintext (up to what fits a
 * frame) encrypt to 128 bytes a started block and decrypt back the same; any bytes as a
 * frame decode with the key, and a decrypted message encrypts again to a frame that
 * decodes to the same body; any bytes as a long body cut into packages encrypted each
 * on its own (all, or every other one: the first byte says, and the piece size) decrypt
 * package by package and reassemble into the same bytes, with a mixed-encryption
 * deviation exactly when the packages disagree; the first 132 bytes as 0x0A00's e and n
 * make a key or are refused. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim/proto/jt808.h"
#include "sim/proto/jt808_json.h"
#include "sim/proto/jt808_pkgs.h"
#include "sim/proto/jt808_rsa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static EVP_PKEY *key, *pub;
static struct jt808_msg m, m2;
static uint8_t out[8192], back[8192], scratch[2 * JT808_MAX_FRAME], scratch2[2 * JT808_MAX_FRAME];
static uint8_t frame[JT808_MAX_FRAME];

static void setup(void)
{
    char err[256];
    key = jt808_rsa_generate(err, sizeof err);
    uint32_t e = 0;
    uint8_t n[JT808_RSA_N_BYTES];
    if (!key || jt808_rsa_public(key, &e, n) < 0 || !(pub = jt808_rsa_from_public(e, n, err, sizeof err)))
        abort();
}

static void as_cipher(const uint8_t *data, size_t size)
{
    size_t n = size > 6 * JT808_RSA_N_BYTES ? 6 * JT808_RSA_N_BYTES : size, len = 99;
    struct jt808_err err = {0};
    enum jt808_rc rc = jt808_rsa_decrypt(key, data, n, back, sizeof back, &len, &err);
    if (rc == JT808_OK) {
        if (len > (n / JT808_RSA_N_BYTES) * JT808_RSA_PLAIN_BLOCK || n % JT808_RSA_N_BYTES)
            abort();
    } else if (rc != JT808_E_DECRYPT || err.offset % JT808_RSA_N_BYTES || err.offset >= n || len != 0) {
        abort();
    }
}

static void as_plain(const uint8_t *data, size_t size)
{
    size_t n = size > JT808_RSA_MAX_PLAIN ? JT808_RSA_MAX_PLAIN : size, cl = 0, pl = 0;
    struct jt808_err err = {0};
    if (jt808_rsa_encrypt(pub, data, n, out, sizeof out, &cl, &err) != JT808_OK || cl != jt808_rsa_cipher_len(n))
        abort();
    if (jt808_rsa_decrypt(key, out, cl, back, sizeof back, &pl, &err) != JT808_OK || pl != n ||
        (n && memcmp(back, data, n) != 0))
        abort();
}

static void as_frame(const uint8_t *data, size_t size)
{
    struct jt808_err err = {0};
    if (size > JT808_MAX_FRAME || jt808_rsa_decode(data, size, scratch, sizeof scratch, key, &m, &err) != JT808_OK)
        return;
    cJSON *j = jt808_to_json(&m);
    if (!j)
        abort();
    cJSON_Delete(j);
    if (!m.rsa_plain || m.body_bytes > JT808_RSA_MAX_PLAIN)
        return;
    /* the plaintext, encrypted again for the key, reads back the same */
    size_t len = 0;
    if (jt808_rsa_encode(pub, &m, frame, sizeof frame, &len, &err) != JT808_OK)
        abort();
    if (jt808_rsa_decode(frame, len, scratch2, sizeof scratch2, key, &m2, &err) != JT808_OK || !m2.rsa_plain ||
        m2.body_bytes != m.body_bytes || (m.body_bytes && memcmp(m2.body, m.body, m.body_bytes) != 0) ||
        m2.h.msg_id != m.h.msg_id || m2.h.serial != m.h.serial)
        abort();
}

static void as_packages(const uint8_t *data, size_t size)
{
    if (size < 1)
        return;
    size_t n = size - 1 > 2048 ? 2048 : size - 1;
    enum jt808_pkgs_enc how = data[0] & 1 ? JT808_PKGS_MIXED : JT808_PKGS_ALL;
    size_t chunk = 64 + (size_t)(data[0] >> 1) * 6; /* 64 .. 826: over 819 is refused */
    struct jt808_header h = {.msg_id = 0x0900, .version = JT808_V2019, .proto_version = 1};
    memcpy(h.phone, "00000000013912345678", 21);
    struct jt808_err err = {0};
    struct jt808_pkgs *p = jt808_pkgs_make(pub, how, &h, 0xFFF0, data + 1, n, chunk, &err);
    if (!p) {
        if (chunk <= JT808_PKGS_RSA_CHUNK || err.rc != JT808_E_VALUE)
            abort();
        return;
    }
    struct jt808_reasm r;
    jt808_reasm_init(&r, 256 * 1024, 0);
    bool done = false, mixed = false;
    uint8_t *whole = NULL;
    size_t whole_len = 0, len = 0;
    for (unsigned i = 1; i <= p->total; i++) {
        if (jt808_pkgs_frame(p, i, frame, sizeof frame, &len, &err) != JT808_OK ||
            jt808_rsa_decode(frame, len, scratch, sizeof scratch, key, &m, &err) != JT808_OK ||
            m.h.encryption != p->enc[i - 1] || m.h.pkg_index != i ||
            jt808_reasm_feed(&r, &m.h, m.body, m.body_bytes, 0, &done, &whole, &whole_len, &err) != JT808_OK ||
            done != (i == p->total))
            abort();
        mixed |= p->enc[i - 1] != p->enc[0];
    }
    if (whole_len != n || (n && memcmp(whole, data + 1, n) != 0))
        abort();
    jt808_reasm_decode(&r, &m.h, whole, whole_len, &m2, &err);
    bool dev = false;
    for (unsigned i = 0; i < m2.devs.n; i++)
        dev |= m2.devs.d[i].kind == JT808_DEV_MIXED_ENCRYPTION;
    if (dev != mixed || mixed != (how == JT808_PKGS_MIXED && p->total > 1))
        abort();
    m2.body = NULL;
    free(whole);
    jt808_reasm_free(&r);
    jt808_pkgs_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!key)
        setup();
    as_cipher(data, size);
    as_plain(data, size);
    as_frame(data, size);
    as_packages(data, size);
    if (size >= 4 + JT808_RSA_N_BYTES) {
        char err[256];
        uint32_t e = (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 | (uint32_t)data[2] << 8 | data[3];
        EVP_PKEY *k = jt808_rsa_from_public(e, data + 4, err, sizeof err);
        if (k) {
            size_t cl = 0;
            if (jt808_rsa_encrypt(k, data, 10, out, sizeof out, &cl, NULL) != JT808_OK || cl != JT808_RSA_N_BYTES)
                abort();
            EVP_PKEY_free(k);
        }
    }
    return 0;
}
