/* JT/T 808 subpackaged messages as they go on the wire, RSA-encrypted or not, kept so
 * that a resend request (0x8003 from the platform, 0x0005 from a 2019 terminal) gets
 * the packages it lists byte for byte.
 *
 * An encrypted subpackaged message: each package's body is encrypted on its own.
 * The plaintext body is cut into pieces of at most JT808_PKGS_RSA_CHUNK bytes (819,
 * 7 blocks of 117); each piece is encrypted alone (117-byte blocks, PKCS#1 v1.5,
 * 128 bytes each, as a body of one frame: jt808_rsa.h) into at most 896 bytes, the
 * body of its package, whose body properties carry bit 10 and that length.  Why each
 * package and not the whole body encrypted then cut: the encryption bits are part of
 * each package's own body properties, next to its own body length (JT/T 808-2013 and
 * -2019 §4.4.3 / table 2 describe them per message header, and every package has
 * one), so each package says what its body is; a package that decrypts stands alone
 * (a receiver checks it as it comes, and a resent package is self-contained); and
 * the blocks never straddle two packages.  The receivers (gateway and terminals)
 * decrypt every package as it arrives and reassemble the plaintext; packages that
 * disagree are read each as its header says, and the reassembled message carries a
 * mixed-encryption deviation (jt808_reasm_decode).
 *
 * Pure apart from OpenSSL (EVP): no I/O, no clock. */
#ifndef FLEETSIM_JT808_PKGS_H
#define FLEETSIM_JT808_PKGS_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/proto/jt808.h"
#include "sim/proto/jt808_rsa.h"

/* Plaintext bytes per encrypted package: the most whose ciphertext fits a body. */
#define JT808_PKGS_RSA_CHUNK JT808_RSA_MAX_PLAIN

/* How jt808_pkgs_make encrypts, with a key. */
enum jt808_pkgs_enc {
    JT808_PKGS_ALL = 0,   /* every package */
    JT808_PKGS_MIXED = 1, /* packages 1, 3, 5, ... only (a mixed-encryption deviation, on purpose) */
};

struct jt808_pkgs {
    struct jt808_header h;  /* msg_id, version, proto_version, phone of every package */
    uint16_t first_serial;  /* package i has serial first_serial + i - 1 */
    uint16_t total;
    size_t bytes;           /* the packages' bodies, one after the other */
    uint32_t *off;          /* total + 1 offsets into body */
    uint8_t *enc;           /* per package: its encryption bits (0 or JT808_ENC_RSA) */
    uint8_t *body;
};

/* Packages of at most chunk body bytes a body of n bytes takes (1 for an empty one). */
size_t jt808_pkgs_count(size_t n, size_t chunk);

/* Body[0..n) of message h cut into packages of chunk bytes of plaintext, serials from
 * first_serial; with k, each package's body encrypted on its own for the holder of k
 * (how: JT808_PKGS_ALL or JT808_PKGS_MIXED), chunk then at most JT808_PKGS_RSA_CHUNK.
 * NULL with err: JT808_E_VALUE (chunk 0, over JT808_MAX_BODY, or over
 * JT808_PKGS_RSA_CHUNK with a key; a key that cannot encrypt), JT808_E_SUBPKG (more
 * than 65535 packages), JT808_E_NOSPACE (out of memory). */
struct jt808_pkgs *jt808_pkgs_make(EVP_PKEY *k, enum jt808_pkgs_enc how, const struct jt808_header *h,
                                   uint16_t first_serial, const uint8_t *body, size_t n, size_t chunk,
                                   struct jt808_err *err);
/* Package index (from 1) as its wire frame into out (cap >= JT808_MAX_FRAME suffices):
 * the same bytes on every call.  JT808_E_SUBPKG for an index not in 1..total. */
enum jt808_rc jt808_pkgs_frame(const struct jt808_pkgs *p, unsigned index, uint8_t *out, size_t cap,
                               size_t *len, struct jt808_err *err);
/* The heap bytes p holds (0 for NULL). */
size_t jt808_pkgs_held(const struct jt808_pkgs *p);
void jt808_pkgs_free(struct jt808_pkgs *p);

/* A received package (msg from jt808_decode: h.subpackage and h.encryption RSA set)
 * decrypted with private key k: its plaintext into out (cap >= msg->body_bytes),
 * msg->body and body_bytes then point at it and msg->rsa_plain is set.  Errors as
 * jt808_rsa_decrypt's (offsets in the package's body). */
enum jt808_rc jt808_pkgs_open(EVP_PKEY *k, struct jt808_msg *msg, uint8_t *out, size_t cap, struct jt808_err *err);

#endif
