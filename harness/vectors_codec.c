/* The protocols `fleetsim vectors` and `fleetsim decode/encode` know, seen through
 * JSON: one adapter per codec, so the checker itself knows no protocol. */
#include <stdlib.h>
#include <string.h>

#include "harness/vectors.h"
#include "sim/proto/jt808.h"
#include "sim/proto/jt808_json.h"
#include "sim/proto/jt808_rsa.h"
#include "sim/proto/pcp.h"
#include "sim/proto/pcp_json.h"
#include "sim/proto/pcodec.h"
#include "harness/textfile.h"

static int vectors_pcp_decode(const uint8_t *buf, size_t n, bool from_device, cJSON **out,
                              struct vectors_error *e)
{
    struct pcp_msg m;
    struct pcp_err pe = {0};
    enum pcp_rc rc = pcp_decode(buf, n, from_device, &m, &pe);

    *out = NULL;
    if (rc != PCP_OK) {
        *e = (struct vectors_error){pcp_rc_name(rc), pe.offset, pe.field, pcp_rc_text(rc)};
        return -1;
    }
    *out = pcp_to_json(&m);
    if (!*out) {
        *e = (struct vectors_error){"nomem", 0, "", "out of memory"};
        return -1;
    }
    return 0;
}

static int vectors_pcp_encode(const cJSON *fields, uint8_t *out, size_t cap, size_t *out_len,
                              char *err, size_t errcap)
{
    uint8_t store[PCP_MAX_DATA];
    struct pcp_msg m;
    enum pcp_rc rc = pcp_from_json(fields, &m, store, sizeof(store), err, errcap);

    if (rc != PCP_OK)
        return -1;
    rc = pcp_encode(&m, out, cap, out_len);
    if (rc != PCP_OK) {
        snprintf(err, errcap, "(encode): %s: %s", pcp_rc_name(rc), pcp_rc_text(rc));
        return -1;
    }
    return 0;
}

static bool vectors_pcp_rc_known(const char *name)
{
    for (int rc = PCP_OK; rc <= PCP_E_NOSPACE; rc++)
        if (strcmp(name, pcp_rc_name((enum pcp_rc)rc)) == 0)
            return true;
    return false;
}

/* A frame as JSON, its body decrypted with k when it is RSA-encrypted and k is given
 * (k NULL: jt808_decode alone). */
static int jt808_decode_json(const uint8_t *buf, size_t n, EVP_PKEY *k, cJSON **out, struct vectors_error *e)
{
    struct jt808_msg *m = calloc(1, sizeof(*m));
    uint8_t *scratch = malloc(2 * n + 1);
    struct jt808_err je = {0};
    int ret = -1;

    *out = NULL;
    if (!m || !scratch) {
        *e = (struct vectors_error){"nomem", 0, "", "out of memory"};
        goto done;
    }
    enum jt808_rc rc = jt808_rsa_decode(buf, n, scratch, 2 * n + 1, k, m, &je);
    if (rc != JT808_OK) {
        *e = (struct vectors_error){jt808_rc_name(rc), je.offset, je.field ? je.field : "", jt808_rc_text(rc)};
        goto done;
    }
    *out = jt808_to_json(m);
    if (!*out) {
        *e = (struct vectors_error){"nomem", 0, "", "out of memory"};
        goto done;
    }
    ret = 0;
done:
    free(scratch);
    if (m)
        jt808_msg_free(m);
    free(m);
    return ret;
}

static int vectors_jt808_decode(const uint8_t *buf, size_t n, bool from_device, cJSON **out,
                                struct vectors_error *e)
{
    (void)from_device;
    return jt808_decode_json(buf, n, NULL, out, e);
}

/* A frame from its JSON; a plaintext body (rsa_plain) is encrypted with k, which it
 * needs (k NULL: refused); any other frame is written as it is. */
static int jt808_encode_json(const cJSON *fields, EVP_PKEY *k, uint8_t *out, size_t cap, size_t *out_len,
                             char *err, size_t errcap)
{
    struct jt808_msg *m = calloc(1, sizeof(*m));
    uint8_t *store = malloc(VECTORS_MAX_FRAME);
    struct jt808_err je = {0};
    int ret = -1;

    if (!m || !store) {
        snprintf(err, errcap, "(encode): out of memory");
        goto done;
    }
    if (jt808_from_json(fields, m, store, VECTORS_MAX_FRAME, err, errcap) != JT808_OK)
        goto done;
    if (m->rsa_plain && !k) {
        snprintf(err, errcap, "decrypted: the body is plaintext of an RSA body: a key is needed to encrypt it");
        goto done;
    }
    enum jt808_rc rc = m->rsa_plain ? jt808_rsa_encode(k, m, out, cap, out_len, &je)
                                    : jt808_encode(m, out, cap, out_len, &je);
    if (rc != JT808_OK) {
        snprintf(err, errcap, "%s: %s (%s at byte %zu)", je.field ? je.field : "(encode)", jt808_rc_text(rc),
                 jt808_rc_name(rc), je.offset);
        goto done;
    }
    ret = 0;
done:
    free(store);
    if (m)
        jt808_msg_free(m);
    free(m);
    return ret;
}

static int vectors_jt808_encode(const cJSON *fields, uint8_t *out, size_t cap, size_t *out_len,
                                char *err, size_t errcap)
{
    return jt808_encode_json(fields, NULL, out, cap, out_len, err, errcap);
}

static bool vectors_jt808_rc_known(const char *name)
{
    for (int rc = JT808_OK; rc <= JT808_E_DECRYPT; rc++)
        if (strcmp(name, jt808_rc_name((enum jt808_rc)rc)) == 0)
            return true;
    return false;
}

static EVP_PKEY *vectors_jt808_key(const char *pem, char *err, size_t cap);

static int vectors_jt808_reassemble(const uint8_t *const *frags, const size_t *lens, size_t n,
                                    const uint8_t *whole, size_t whole_len, const char *pem, char *detail,
                                    size_t cap)
{
    struct jt808_msg *m = calloc(1, sizeof(*m)), *w = calloc(1, sizeof(*w));
    /* twice a frame: an encrypted package's plaintext goes after its bytes */
    uint8_t *scratch = malloc(2 * VECTORS_MAX_FRAME), *wscratch = malloc(VECTORS_MAX_FRAME);
    struct jt808_reasm ra;
    struct jt808_err je = {0};
    uint8_t *body = NULL;
    size_t body_len = 0;
    bool done = false;
    int ret = -1;
    char kerr[256];
    EVP_PKEY *k = NULL;

    jt808_reasm_init(&ra, 256 * 1024, 0);
    if (!m || !w || !scratch || !wscratch) {
        snprintf(detail, cap, "out of memory");
        goto out;
    }
    if (pem && !(k = vectors_jt808_key(pem, kerr, sizeof kerr))) {
        snprintf(detail, cap, "key: %s", kerr);
        goto out;
    }
    if (jt808_decode(whole, whole_len, wscratch, VECTORS_MAX_FRAME, w, &je) != JT808_OK) {
        snprintf(detail, cap, "the whole message does not decode");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (jt808_rsa_decode(frags[i], lens[i], scratch, 2 * VECTORS_MAX_FRAME, k, m, &je) != JT808_OK ||
            !m->h.subpackage) {
            snprintf(detail, cap, "fragment %zu is not a decodable subpackage", i + 1);
            goto out;
        }
        if (m->h.msg_id != w->h.msg_id) {
            snprintf(detail, cap, "fragment %zu: msg_id 0x%04X / whole 0x%04X", i + 1, m->h.msg_id,
                     w->h.msg_id);
            goto out;
        }
        if (jt808_reasm_feed(&ra, &m->h, m->body, m->body_bytes, 0, &done, &body, &body_len, &je) !=
            JT808_OK) {
            snprintf(detail, cap, "fragment %zu: %s", i + 1, jt808_rc_text(je.rc));
            goto out;
        }
        if (done && i + 1 < n) {
            snprintf(detail, cap, "complete after %zu of %zu fragments", i + 1, n);
            goto out;
        }
    }
    if (!done) {
        snprintf(detail, cap, "%zu fragments do not complete the message", n);
        goto out;
    }
    if (body_len != w->body_bytes || memcmp(body, w->body, body_len) != 0) {
        snprintf(detail, cap, "reassembled body: expected %zu bytes / observed %zu bytes%s", w->body_bytes,
                 body_len, body_len == w->body_bytes ? " (contents differ)" : "");
        goto out;
    }
    ret = 0;
out:
    EVP_PKEY_free(k);
    free(body);
    jt808_reasm_free(&ra);
    free(scratch);
    free(wscratch);
    if (m)
        jt808_msg_free(m);
    if (w)
        jt808_msg_free(w);
    free(m);
    free(w);
    return ret;
}

/* The key of a vector or of `fleetsim decode --key`, from its PEM text. */
static EVP_PKEY *vectors_jt808_key(const char *pem, char *err, size_t cap)
{
    return jt808_rsa_from_pem(pem, strlen(pem), err, cap);
}

static int vectors_jt808_decode_key(const uint8_t *buf, size_t n, const char *pem, cJSON **out,
                                    struct vectors_error *e)
{
    static char key_err[256];
    EVP_PKEY *k = vectors_jt808_key(pem, key_err, sizeof key_err);
    *out = NULL;
    if (!k) {
        *e = (struct vectors_error){"key", 0, "key", key_err};
        return -1;
    }
    int ret = jt808_decode_json(buf, n, k, out, e);
    EVP_PKEY_free(k);
    return ret;
}

static int vectors_jt808_encode_key(const cJSON *fields, const char *pem, uint8_t *out, size_t cap,
                                    size_t *out_len, char *err, size_t errcap)
{
    char kerr[256];
    EVP_PKEY *k = vectors_jt808_key(pem, kerr, sizeof kerr);
    if (!k) {
        snprintf(err, errcap, "key: %s", kerr);
        return -1;
    }
    int ret = jt808_encode_json(fields, k, out, cap, out_len, err, errcap);
    EVP_PKEY_free(k);
    return ret;
}

/* --- a product's codec (sim/proto/pcodec.h): the file's "profile" says which ------ */

static struct pc_product *pcodec_product; /* the last file's (kept: the checker runs one file at a time) */

static int vectors_pcodec_load(const char *profile, const char *dir, char *err, size_t errcap)
{
    char *text = NULL, perr[600], alt[1200];
    size_t len = 0;
    int rc = textfile_read(profile, 4u << 20, &text, &len);
    const char *used = profile;
    if (rc != 0 && dir && profile[0] != '/') {
        snprintf(alt, sizeof alt, "%s/../%s", dir, profile);
        used = alt;
        rc = textfile_read(alt, 4u << 20, &text, &len);
    }
    if (rc != 0) {
        snprintf(err, errcap, "profile: %s: cannot read it (from here or the vector file's parent folder)", profile);
        return -1;
    }
    struct pc_product *p = NULL;
    rc = pc_product_parse_text(text, len, used, &p, perr, sizeof perr);
    free(text);
    if (rc != 0) {
        snprintf(err, errcap, "profile: %s", perr);
        return -1;
    }
    pc_product_free(pcodec_product);
    pcodec_product = p;
    return 0;
}

static int vectors_pcodec_decode(const uint8_t *buf, size_t n, bool from_device, cJSON **out,
                                 struct vectors_error *e)
{
    static char text[700];
    struct pc_err pe;
    *out = NULL;
    if (!pcodec_product) {
        *e = (struct vectors_error){"no-message", 0, "", "no product loaded"};
        return -1;
    }
    if (pc_decode(pcodec_product, from_device, buf, n, out, text, sizeof text, &pe) != 0) {
        *e = (struct vectors_error){pe.code, pe.offset, pe.field, text};
        return -1;
    }
    return 0;
}

static int vectors_pcodec_encode(const cJSON *fields, uint8_t *out, size_t cap, size_t *out_len, char *err,
                                 size_t errcap)
{
    const struct pc_product *p = pcodec_product;
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(fields, "message");
    const cJSON *mid = cJSON_GetObjectItemCaseSensitive(fields, "mid");
    const cJSON *ec = cJSON_GetObjectItemCaseSensitive(fields, "errcode");
    int mi = -1;
    for (int i = 0; p && cJSON_IsString(name) && i < p->n_messages; i++)
        if (strcmp(p->messages[i].name, name->valuestring) == 0)
            mi = i;
    if (mi < 0) {
        snprintf(err, errcap, "message: not a message of the product's codec");
        return -1;
    }
    return pc_encode(p, mi, cJSON_GetObjectItemCaseSensitive(fields, "data"), mid ? (uint64_t)mid->valuedouble : 0,
                     ec ? (uint64_t)ec->valuedouble : 0, out, cap, out_len, err, errcap);
}

static bool vectors_pcodec_rc_known(const char *name)
{
    static const char *const codes[] = {"short", "length", "unknown-message", "no-message", "nomem"};
    for (size_t i = 0; i < sizeof codes / sizeof *codes; i++)
        if (strcmp(name, codes[i]) == 0)
            return true;
    return false;
}

static const struct vectors_codec vectors_codecs[] = {
    {"jt808", false, vectors_jt808_decode, vectors_jt808_encode, vectors_jt808_rc_known,
     vectors_jt808_reassemble, vectors_jt808_decode_key, vectors_jt808_encode_key, NULL},
    {"pcp", true, vectors_pcp_decode, vectors_pcp_encode, vectors_pcp_rc_known, NULL, NULL, NULL, NULL},
    {"pcodec", true, vectors_pcodec_decode, vectors_pcodec_encode, vectors_pcodec_rc_known, NULL, NULL, NULL,
     vectors_pcodec_load},
};

const struct vectors_codec *vectors_codec_find(const char *protocol)
{
    for (size_t i = 0; i < sizeof(vectors_codecs) / sizeof(vectors_codecs[0]); i++)
        if (protocol && strcmp(protocol, vectors_codecs[i].protocol) == 0)
            return &vectors_codecs[i];
    return NULL;
}

