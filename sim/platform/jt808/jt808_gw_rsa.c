/* The gateway's RSA: its key, the terminals' keys, bodies decrypted and encrypted. */
#include "sim/platform/jt808/jt808_gw_rsa.h"

#include <stdio.h>
#include <string.h>

#include "sim/platform/jt808/jt808_gw_internal.h"
#include "sim/proto/hex.h"
#include "sim/proto/jt808_layout.h"
#include "sim/proto/jt808_pkgs.h"
#include "sim/proto/jt808_rsa.h"

int gw_rsa_configure(struct gw_config *cfg, const char *mode, const char *key_path, char *err, size_t errcap)
{
    cfg->rsa_pem[0] = '\0';
    if (!mode[0] || strcmp(mode, "on") == 0) {
        cfg->rsa = GW_RSA_ON;
    } else if (strcmp(mode, "encrypt") == 0) {
        cfg->rsa = GW_RSA_ENCRYPT;
    } else if (strcmp(mode, "off") == 0) {
        cfg->rsa = GW_RSA_OFF;
        if (key_path[0]) {
            snprintf(err, errcap, "an RSA key (%s) with rsa off: leave one of them out", key_path);
            return -1;
        }
        return 0;
    } else {
        snprintf(err, errcap, "rsa '%s': expected on, encrypt or off", mode);
        return -1;
    }
    /* made (or read) here, before the gateway processes fork: they all speak with one key */
    EVP_PKEY *k = key_path[0] ? jt808_rsa_load(key_path, err, errcap) : jt808_rsa_generate(err, errcap);
    if (!k)
        return -1;
    size_t n = jt808_rsa_pem(k, cfg->rsa_pem, sizeof cfg->rsa_pem);
    EVP_PKEY_free(k);
    if (!n) {
        snprintf(err, errcap, "cannot keep the RSA key as PEM");
        return -1;
    }
    return 0;
}

int gw_rsa_start(struct gw *g, char *err, size_t errcap)
{
    const struct gw_config *cfg = g->cfg;
    g->rsa = NULL;
    if (cfg->rsa == GW_RSA_OFF)
        return 0;
    g->rsa = cfg->rsa_pem[0] ? jt808_rsa_from_pem(cfg->rsa_pem, strlen(cfg->rsa_pem), err, errcap)
                             : jt808_rsa_generate(err, errcap);
    return g->rsa ? 0 : -1;
}

void gw_rsa_stop(struct gw *g)
{
    EVP_PKEY_free(g->rsa);
    g->rsa = NULL;
}

const char *gw_rsa_8a00_body(const struct gw *g, char *buf, size_t cap)
{
    uint32_t e = 0;
    uint8_t n[JT808_RSA_N_BYTES];
    char hex[2 * JT808_RSA_N_BYTES + 1];
    if (!g->rsa || jt808_rsa_public(g->rsa, &e, n) < 0)
        return NULL;
    hex_encode(n, sizeof n, hex, sizeof hex);
    snprintf(buf, cap, "{\"e\":%u,\"n\":\"%s\"}", e, hex);
    return buf;
}

bool gw_rsa_open(struct gw_conn *c, struct jt808_msg *m, const uint8_t *body, size_t n, char *why, size_t cap)
{
    static uint8_t plain[JT808_MAX_LONG_BODY];
    struct gw *g = c->gw;
    struct jt808_err err = {0};
    if (!g->rsa) {
        g->st->c[GWC_RSA_ERRORS]++;
        snprintf(why, cap, "an RSA-encrypted body, and the gateway has no key (platform.rsa off)");
        return false;
    }
    enum jt808_rc rc = jt808_rsa_open(g->rsa, m, body, n, plain, sizeof plain, &err);
    if (rc != JT808_OK && jt808_rsa_failed(&err)) {
        g->st->c[GWC_RSA_ERRORS]++;
        snprintf(why, cap, "%s at body byte %zu (%s)", jt808_rc_text(rc), err.offset, err.field ? err.field : "");
        return false;
    }
    g->st->c[GWC_RSA_DECRYPTED]++;
    if (rc != JT808_OK) {
        /* decrypted, but the plaintext is not the message's body */
        snprintf(why, cap, "decrypted body: %s at byte %zu (%s)", jt808_rc_text(rc), err.offset,
                 err.field ? err.field : "");
        return false;
    }
    return true;
}

bool gw_rsa_open_package(struct gw_conn *c, struct jt808_msg *m, char *why, size_t cap)
{
    static uint8_t plain[JT808_MAX_BODY];
    struct gw *g = c->gw;
    struct jt808_err err = {0};
    if (!g->rsa) {
        g->st->c[GWC_RSA_ERRORS]++;
        snprintf(why, cap, "an RSA-encrypted package, and the gateway has no key (platform.rsa off)");
        return false;
    }
    enum jt808_rc rc = jt808_pkgs_open(g->rsa, m, plain, sizeof plain, &err);
    if (rc != JT808_OK) {
        g->st->c[GWC_RSA_ERRORS]++;
        snprintf(why, cap, "package %u of %u: %s at body byte %zu (%s)", m->h.pkg_index, m->h.pkg_total,
                 jt808_rc_text(rc), err.offset, err.field ? err.field : "");
        return false;
    }
    g->st->c[GWC_RSA_DECRYPTED]++;
    return true;
}

bool gw_rsa_peer_key(struct gw_conn *c, const struct jt808_msg *m)
{
    uint32_t e = 0;
    const uint8_t *n = NULL;
    size_t len = 0;
    char err[256] = "body.n: not 128 bytes";
    EVP_PKEY *k = NULL;
    if (m->lay && jt808_lay_get_u32(m->lay, "e", &e) && jt808_lay_get_bytes(m->lay, "n", &n, &len) &&
        len == JT808_RSA_N_BYTES)
        k = jt808_rsa_from_public(e, n, err, sizeof err);
    if (!k) {
        c->gw->st->c[GWC_RSA_ERRORS]++;
        if (c->gw->cfg->verbose)
            fprintf(stderr, "gateway %d: %s: 0x0A00 key refused: %s\n", c->gw->id, c->phone, err);
        return false; /* the last good one, if any, stays */
    }
    EVP_PKEY_free(c->rsa_peer);
    c->rsa_peer = k;
    return true;
}

void gw_rsa_conn_free(struct gw_conn *c)
{
    EVP_PKEY_free(c->rsa_peer);
    c->rsa_peer = NULL;
}

/* Is m to go encrypted for c (platform.rsa encrypt, its 0x0A00 key known, not 0x8A00
 * itself, not a package already cut, a body to encrypt)? */
static bool encrypts(const struct gw_conn *c, const struct jt808_msg *m)
{
    return c->gw->cfg->rsa == GW_RSA_ENCRYPT && c->rsa_peer && m->h.msg_id != 0x8A00 && !m->h.subpackage &&
           !(m->body && m->body_bytes == 0);
}

enum jt808_rc gw_rsa_encode(struct gw_conn *c, const struct jt808_msg *m, uint8_t *out, size_t cap,
                            size_t *out_len, struct jt808_err *err)
{
    struct gw *g = c->gw;
    if (encrypts(c, m)) {
        enum jt808_rc rc = jt808_rsa_encode(c->rsa_peer, m, out, cap, out_len, err);
        if (rc == JT808_OK) {
            g->st->c[GWC_RSA_ENCRYPTED]++;
            return rc;
        }
        /* a body too long for one encrypted frame is the caller's to cut (gw_rsa_send,
         * gw_rsa_peer_for): here it cannot be encrypted, as a key that fails */
        g->st->c[GWC_RSA_ERRORS]++;
    }
    return jt808_encode(m, out, cap, out_len, err);
}

enum jt808_rc gw_rsa_send(struct gw_conn *c, const struct jt808_msg *m, struct jt808_err *err)
{
    static uint8_t frame[JT808_MAX_FRAME], plain[JT808_MAX_LONG_BODY];
    struct gw *g = c->gw;
    size_t len = 0;
    if (encrypts(c, m)) {
        enum jt808_rc rc = jt808_rsa_encode(c->rsa_peer, m, frame, sizeof frame, &len, err);
        if (rc == JT808_OK) {
            g->st->c[GWC_RSA_ENCRYPTED]++;
            gw_conn_send(c, frame, len);
            return rc;
        }
        const uint8_t *body = m->body;
        size_t n = m->body_bytes;
        if (rc == JT808_E_LENGTH && !body && jt808_body_encode(m, plain, sizeof plain, &n, err) == JT808_OK)
            body = plain;
        struct jt808_pkgs *pk = rc == JT808_E_LENGTH && body
                                    ? jt808_pkgs_make(c->rsa_peer, JT808_PKGS_ALL, &m->h, m->h.serial, body, n,
                                                      JT808_PKGS_RSA_CHUNK, err)
                                    : NULL;
        if (pk) {
            /* over 819 bytes: packages of 819 bytes of plaintext, each encrypted on its
             * own, serials from the message's on; kept for the terminal's 0x0005 */
            c->serial = (uint16_t)(m->h.serial + pk->total);
            for (unsigned i = 1; i <= pk->total; i++)
                if (jt808_pkgs_frame(pk, i, frame, sizeof frame, &len, NULL) == JT808_OK)
                    gw_conn_send(c, frame, len);
            g->st->c[GWC_RSA_ENCRYPTED] += pk->total;
            gw_keep(c, pk);
            return JT808_OK;
        }
        g->st->c[GWC_RSA_ERRORS]++; /* a key that fails, out of memory: in the clear */
    }
    enum jt808_rc rc = jt808_encode(m, frame, sizeof frame, &len, err);
    if (rc == JT808_OK)
        gw_conn_send(c, frame, len);
    return rc;
}

EVP_PKEY *gw_rsa_peer_for(struct gw_conn *c, uint16_t msg_id)
{
    return c->gw->cfg->rsa == GW_RSA_ENCRYPT && msg_id != 0x8A00 ? c->rsa_peer : NULL;
}
