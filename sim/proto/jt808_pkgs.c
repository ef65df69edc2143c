/* Subpackaged messages as sent (see jt808_pkgs.h): cut, each package encrypted on
 * its own when a key is given, kept as one block for resends. */
#include "sim/proto/jt808_pkgs.h"

#include <stdlib.h>
#include <string.h>

#include "sim/proto/jt808_internal.h"

size_t jt808_pkgs_count(size_t n, size_t chunk)
{
    return chunk == 0 ? 0 : n ? (n + chunk - 1) / chunk : 1;
}

void jt808_pkgs_free(struct jt808_pkgs *p)
{
    free(p); /* one block: the struct, its offsets, flags and bodies */
}

size_t jt808_pkgs_held(const struct jt808_pkgs *p)
{
    if (!p)
        return 0;
    return sizeof *p + ((size_t)p->total + 1) * sizeof *p->off + p->total + p->bytes;
}

struct jt808_pkgs *jt808_pkgs_make(EVP_PKEY *k, enum jt808_pkgs_enc how, const struct jt808_header *h,
                                   uint16_t first_serial, const uint8_t *body, size_t n, size_t chunk,
                                   struct jt808_err *err)
{
    if (chunk == 0 || chunk > JT808_MAX_BODY || (k && chunk > JT808_PKGS_RSA_CHUNK)) {
        jt808_fail(err, JT808_E_VALUE, 0, "pkgs.chunk");
        return NULL;
    }
    size_t total = jt808_pkgs_count(n, chunk);
    if (total > 0xFFFF) {
        jt808_fail(err, JT808_E_SUBPKG, 0, "header.pkg_total");
        return NULL;
    }
    /* the bodies' room: the plaintext, or per package its blocks of 128 */
    size_t room = n;
    if (k)
        room = (n / chunk) * jt808_rsa_cipher_len(chunk) + jt808_rsa_cipher_len(n % chunk);
    size_t offs = (total + 1) * sizeof(uint32_t);
    struct jt808_pkgs *p = malloc(sizeof *p + offs + total + room);
    if (!p) {
        jt808_fail(err, JT808_E_NOSPACE, 0, "pkgs");
        return NULL;
    }
    p->h = *h;
    p->h.subpackage = true;
    p->h.encryption = 0;
    p->h.pkg_total = (uint16_t)total;
    p->first_serial = first_serial;
    p->total = (uint16_t)total;
    p->off = (uint32_t *)(void *)(p + 1);
    p->enc = (uint8_t *)(p->off + total + 1);
    p->body = p->enc + total;
    size_t o = 0;
    p->off[0] = 0;
    for (size_t i = 0; i < total; i++) {
        size_t at = i * chunk, len = n - at < chunk ? n - at : chunk;
        bool enc = k && (how == JT808_PKGS_ALL || i % 2 == 0);
        if (enc) {
            size_t cl = 0;
            enum jt808_rc rc = jt808_rsa_encrypt(k, body + at, len, p->body + o, room - o, &cl, err);
            if (rc != JT808_OK) {
                if (err)
                    err->offset += at; /* the plaintext offset in the whole body */
                free(p);
                return NULL;
            }
            o += cl;
        } else {
            if (len)
                memcpy(p->body + o, body + at, len);
            o += len;
        }
        p->enc[i] = enc ? JT808_ENC_RSA : 0;
        p->off[i + 1] = (uint32_t)o;
    }
    p->bytes = o;
    return p;
}

enum jt808_rc jt808_pkgs_frame(const struct jt808_pkgs *p, unsigned index, uint8_t *out, size_t cap,
                               size_t *len, struct jt808_err *err)
{
    if (index < 1 || index > p->total)
        return jt808_fail(err, JT808_E_SUBPKG, 0, "header.pkg_index");
    struct jt808_header fh = p->h;
    fh.serial = (uint16_t)(p->first_serial + index - 1);
    fh.pkg_index = (uint16_t)index;
    fh.encryption = p->enc[index - 1];
    uint32_t a = p->off[index - 1], b = p->off[index];
    return jt808_frame_build(&fh, p->body + a, b - a, out, cap, len, err);
}

enum jt808_rc jt808_pkgs_open(EVP_PKEY *k, struct jt808_msg *msg, uint8_t *out, size_t cap, struct jt808_err *err)
{
    size_t pl = 0;
    JT808_TRY(jt808_rsa_decrypt(k, msg->body, msg->body_bytes, out, cap, &pl, err));
    msg->body = out;
    msg->body_bytes = pl;
    msg->rsa_plain = true;
    return JT808_OK;
}
