/* JT/T 808 terminal: the RSA key exchange and encrypted bodies.
 *
 *   0x8A00 (the platform's public key) -> 0x0A00 with the terminal's own public key
 *   a body from the platform with the RSA bit -> decrypted with the terminal's key
 *   fleet "rsa": "after-exchange" -> what the terminal sends once it has the platform's
 *                                    key (on that connection) goes encrypted for it; a
 *                                    subpackaged message package by package (jt808_pkgs.h)
 *   a package from the platform with the RSA bit -> decrypted as it comes, reassembled
 *
 * Keys: an RSA key takes milliseconds to make, so the terminals of a worker share a
 * pool of JT808_RSA_POOL keys, made on first use; a terminal's is pool[number % size].
 * The platform's key, which every terminal of a gateway gets alike, is kept once and
 * shared (reference counted).  A terminal that never gets 0x8A00 pays nothing. */
#include <stdio.h>
#include <string.h>

#include "sim/dev/jt808_term_int.h"
#include "sim/dev/jt808_deviate.h"
#include "sim/proto/jt808_layout.h"
#include "sim/proto/jt808_pkgs.h"
#include "sim/proto/jt808_rsa.h"

#define JT808_RSA_POOL 4

static EVP_PKEY *pool[JT808_RSA_POOL];
/* the last platform key seen, shared by the terminals that get the same */
static EVP_PKEY *last_platform;
static uint32_t last_e;
static uint8_t last_n[JT808_RSA_N_BYTES];

/* The terminal's own key pair (NULL when it cannot be made: said once). */
static EVP_PKEY *own_key(const struct term *t)
{
    unsigned k = term_gindex(t) % JT808_RSA_POOL;
    if (!pool[k]) {
        char err[256];
        pool[k] = jt808_rsa_generate(err, sizeof err);
        if (!pool[k])
            fprintf(stderr, "jt808 terminal: %s\n", err);
    }
    return pool[k];
}

void jt808_term_rsa_pool_free(void)
{
    for (int i = 0; i < JT808_RSA_POOL; i++) {
        EVP_PKEY_free(pool[i]);
        pool[i] = NULL;
    }
    EVP_PKEY_free(last_platform);
    last_platform = NULL;
}

/* The platform's key of 0x8A00 (a reference of the caller's), NULL when refused. */
static EVP_PKEY *platform_key(const struct jt808_msg *m)
{
    uint32_t e = 0;
    const uint8_t *n = NULL;
    size_t nlen = 0;
    if (!m->lay || !jt808_lay_get_u32(m->lay, "e", &e) || !jt808_lay_get_bytes(m->lay, "n", &n, &nlen) ||
        nlen != JT808_RSA_N_BYTES)
        return NULL;
    if (last_platform && e == last_e && memcmp(n, last_n, sizeof last_n) == 0) {
        EVP_PKEY_up_ref(last_platform);
        return last_platform;
    }
    char err[256];
    EVP_PKEY *k = jt808_rsa_from_public(e, n, err, sizeof err);
    if (!k)
        return NULL;
    EVP_PKEY_free(last_platform);
    last_platform = k;
    last_e = e;
    memcpy(last_n, n, sizeof last_n);
    EVP_PKEY_up_ref(k);
    return k;
}

bool jt808_term_rsa(struct term *t, const struct jt808_msg *m)
{
    if (m->h.msg_id != 0x8A00)
        return false;
    struct jt808_more *x = jt_more(t, true);
    EVP_PKEY *pk = platform_key(m);
    EVP_PKEY *own = pk ? own_key(t) : NULL;
    uint32_t e = 0;
    uint8_t n[JT808_RSA_N_BYTES];
    if (!x || !pk || !own || jt808_rsa_public(own, &e, n) < 0) {
        /* not a key (e even, n not 1024 bits), or none of our own: the request fails */
        term_count(t, JT808_C_RSA_ERRORS, 1);
        EVP_PKEY_free(pk);
        jt_general_reply(t, &m->h, pk ? 1 : 2);
        return true;
    }
    EVP_PKEY_free(x->rsa_platform);
    x->rsa_platform = NULL; /* the answer carries our key in the clear */
    struct jt808_lay_body *b = jt_lay_start(t, 0x0A00);
    bool ok = b && jt808_lay_set_u32(b, &jt_out, "e", e) && jt808_lay_set_bytes(b, &jt_out, "n", n, sizeof n);
    if (ok && jt_send(t, false))
        jt_count_reply(t);
    x->rsa_platform = pk;
    return true;
}

bool jt808_term_rsa_encode(struct term *t, uint8_t *out, size_t cap, size_t *len, struct jt808_pkgs **pkgs)
{
    static uint8_t plain[JT808_MAX_BODY];
    *pkgs = NULL;
    if (cfg(t)->rsa != JT808_RSA_AFTER_EXCHANGE)
        return false;
    struct jt808_more *x = jt_more(t, false);
    uint16_t id = jt_out.h.msg_id;
    if (!x || !x->rsa_platform || id == 0x0002 || id == 0x0003 || id == 0x0004)
        return false; /* heartbeats, unregistration, time query: no body to encrypt */
    struct jt808_err err;
    enum jt808_rc rc = jt808_rsa_encode(x->rsa_platform, &jt_out, out, cap, len, &err);
    if (rc == JT808_OK) {
        term_count(t, JT808_C_RSA_ENCRYPTED, 1);
        return true;
    }
    if (rc == JT808_E_LENGTH) {
        /* a body over JT808_RSA_MAX_PLAIN bytes: its blocks would not fit one frame,
         * so it goes in packages of that many bytes, each encrypted on its own */
        const uint8_t *body = jt_out.body;
        size_t n = jt_out.body_bytes;
        if (!body && jt808_body_encode(&jt_out, plain, sizeof plain, &n, &err) == JT808_OK)
            body = plain;
        *pkgs = body ? jt808_term_pkgs(t, body, n, JT808_PKGS_RSA_CHUNK) : NULL;
        if (*pkgs)
            return true; /* counted there, a package each */
    }
    term_count(t, JT808_C_RSA_ERRORS, 1);
    return false;
}

bool jt808_term_rsa_open(struct term *t, struct jt808_msg *m, const uint8_t *body, size_t n, uint8_t *out,
                         size_t cap)
{
    /* the state holds the pool alive (it goes with the last terminal's state) */
    EVP_PKEY *own = jt_more(t, true) ? own_key(t) : NULL;
    struct jt808_err err = {0};
    enum jt808_rc rc = own ? jt808_rsa_open(own, m, body, n, out, cap, &err) : JT808_E_VALUE;
    if (rc != JT808_OK && (!own || jt808_rsa_failed(&err))) {
        term_count(t, JT808_C_RSA_ERRORS, 1);
        return false;
    }
    term_count(t, JT808_C_RSA_DECRYPTED, 1);
    return rc == JT808_OK; /* decrypted, but perhaps not a body of its id */
}

bool jt808_term_rsa_open_package(struct term *t, struct jt808_msg *m, uint8_t *out, size_t cap)
{
    EVP_PKEY *own = jt_more(t, true) ? own_key(t) : NULL;
    struct jt808_err err = {0};
    if (!own || jt808_pkgs_open(own, m, out, cap, &err) != JT808_OK) {
        term_count(t, JT808_C_RSA_ERRORS, 1);
        return false;
    }
    term_count(t, JT808_C_RSA_DECRYPTED, 1);
    return true;
}

bool jt808_term_rsa_active(struct term *t)
{
    struct jt808_more *x = cfg(t)->rsa == JT808_RSA_AFTER_EXCHANGE ? jt_more(t, false) : NULL;
    return x && x->rsa_platform;
}

struct jt808_pkgs *jt808_term_pkgs(struct term *t, const uint8_t *body, size_t n, size_t chunk)
{
    const struct jt808_fleet_cfg *f = cfg(t);
    struct jt808_more *x = f->rsa == JT808_RSA_AFTER_EXCHANGE ? jt_more(t, false) : NULL;
    EVP_PKEY *key = x ? x->rsa_platform : NULL;
    /* fleet option deviate mixed-encryption: every other package in the clear */
    bool mixed = key && f->deviate_mask & (1u << JT808_DEV_MIXED_ENCRYPTION) &&
                 jt808_deviate_chosen(t->index, f->deviate_share);
    if (key && chunk > JT808_PKGS_RSA_CHUNK)
        chunk = JT808_PKGS_RSA_CHUNK;
    size_t total = jt808_pkgs_count(n, chunk);
    if (total > 0xFFFF)
        return NULL;
    /* consecutive serials, from the one jt_out took */
    uint16_t first = jt_out.h.serial;
    for (size_t i = 1; i < total; i++)
        term_next_serial(t);
    struct jt808_err err;
    struct jt808_pkgs *p = jt808_pkgs_make(key, mixed ? JT808_PKGS_MIXED : JT808_PKGS_ALL, &jt_out.h, first, body,
                                           n, chunk, &err);
    if (!p) {
        if (key)
            term_count(t, JT808_C_RSA_ERRORS, 1);
        return NULL;
    }
    if (key) {
        uint64_t enc = 0;
        for (unsigned i = 0; i < p->total; i++)
            enc += p->enc[i] != 0;
        term_count(t, JT808_C_RSA_ENCRYPTED, enc);
        if (mixed && enc < p->total)
            term_count(t, JT808_C_DEV_FIRST + JT808_DEV_MIXED_ENCRYPTION, 1);
    }
    return p;
}

void jt808_term_rsa_forget(struct term *t)
{
    struct jt808_more *x = jt_more(t, false);
    if (x) {
        EVP_PKEY_free(x->rsa_platform);
        x->rsa_platform = NULL;
    }
}

void jt808_term_rsa_free(struct jt808_more *x)
{
    EVP_PKEY_free(x->rsa_platform);
    x->rsa_platform = NULL;
}
