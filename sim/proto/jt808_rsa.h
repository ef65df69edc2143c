/* JT/T 808 RSA: the keys of 0x8A00 / 0x0A00 and encrypted bodies (header bit 10 of
 * the body properties, jt808_header.encryption == JT808_ENC_RSA).
 *
 * A body is encrypted with the RSA public key of the other side (1024 bits, e and n
 * as 0x8A00/0x0A00 carry them): it is cut into blocks of 117 bytes (the last one
 * shorter), each encrypted with PKCS#1 v1.5 padding to 128 bytes, the blocks one
 * after the other.  An empty body has no block.  Pure apart from OpenSSL (EVP): no
 * I/O but reading a PEM file, no clock.  Keys are OpenSSL's EVP_PKEY, reference
 * counted (EVP_PKEY_up_ref / EVP_PKEY_free), so a key can be shared. */
#ifndef FLEETSIM_JT808_RSA_H
#define FLEETSIM_JT808_RSA_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/proto/jt808.h"

#define JT808_ENC_RSA 1           /* jt808_header.encryption: bit 10 */
#define JT808_RSA_BITS 1024
#define JT808_RSA_N_BYTES 128     /* n BYTE[128] of 0x8A00/0x0A00; one encrypted block */
#define JT808_RSA_PLAIN_BLOCK 117 /* plaintext bytes per block: 128 - 11 of PKCS#1 v1.5 padding */
/* The longest body whose encryption still fits a frame (7 blocks of 128 in 1023). */
#define JT808_RSA_MAX_PLAIN ((JT808_MAX_BODY / JT808_RSA_N_BYTES) * JT808_RSA_PLAIN_BLOCK)

/* The bytes n plaintext bytes encrypt to: 128 per started block of 117. */
size_t jt808_rsa_cipher_len(size_t n);

/* A public key from 0x8A00/0x0A00's fields (e DWORD, n BYTE[128], big-endian).  NULL
 * with "what" in err when e is even or below 3, or n is not a 1024-bit odd number. */
EVP_PKEY *jt808_rsa_from_public(uint32_t e, const uint8_t n[JT808_RSA_N_BYTES], char *err, size_t errcap);
/* A 1024-bit RSA private key from PEM text (PKCS#8 or PKCS#1), or from a PEM file;
 * NULL with "what" in err (not PEM, not RSA, not 1024 bits, cannot be read). */
EVP_PKEY *jt808_rsa_from_pem(const char *pem, size_t len, char *err, size_t errcap);
EVP_PKEY *jt808_rsa_load(const char *path, char *err, size_t errcap);
/* A new 1024-bit key, e = 65537 (a few ms); NULL with "what" in err. */
EVP_PKEY *jt808_rsa_generate(char *err, size_t errcap);
/* The public half as 0x8A00/0x0A00 carry it: 0, or -1 when k is not a 1024-bit key
 * whose e fits a DWORD. */
int jt808_rsa_public(const EVP_PKEY *k, uint32_t *e, uint8_t n[JT808_RSA_N_BYTES]);
/* The private key k as PEM text (PKCS#8, unencrypted) into out: its length, or 0 when
 * it does not fit cap (with its NUL). */
size_t jt808_rsa_pem(EVP_PKEY *k, char *out, size_t cap);
/* Does k hold the private half (it can decrypt)? */
bool jt808_rsa_has_private(const EVP_PKEY *k);

/* Encrypt body in[0..n) for the holder of key k into out (cap >= jt808_rsa_cipher_len(n)).
 * JT808_E_NOSPACE (err->offset: the block's plaintext offset) when out is short,
 * JT808_E_VALUE when k is unusable. */
enum jt808_rc jt808_rsa_encrypt(EVP_PKEY *k, const uint8_t *in, size_t n, uint8_t *out, size_t cap,
                                size_t *out_len, struct jt808_err *err);
/* Decrypt an encrypted body in[0..n) with private key k into out (cap >= n / 128 * 117
 * suffices).  JT808_E_DECRYPT with err->offset = the byte offset of the block in the
 * body and field "body.rsa_block" when a block does not decrypt (another key, damaged)
 * or the body ends inside a block; JT808_E_VALUE when k has no private half. */
enum jt808_rc jt808_rsa_decrypt(EVP_PKEY *k, const uint8_t *in, size_t n, uint8_t *out, size_t cap,
                                size_t *out_len, struct jt808_err *err);

/* --- frames ------------------------------------------------------------------- */

/* jt808_decode, then, when the frame's body is RSA-encrypted and k is given, its
 * plaintext decrypted into scratch after the frame's bytes and decoded: msg->body
 * points at it, msg->rsa_plain is set, and offsets inside the body (errors,
 * deviations) count from the plaintext's start.  A package of a subpackaged message
 * is decrypted alike (each package's body is encrypted on its own: jt808_pkgs.h) but
 * not decoded: its plaintext is a piece of the message's body.
 * scratch needs 2 * len bytes.  k NULL, or a plain frame: jt808_decode alone.  A block
 * that does not decrypt is JT808_E_DECRYPT with err->offset the wire offset where
 * the block starts. */
enum jt808_rc jt808_rsa_decode(const uint8_t *wire, size_t len, uint8_t *scratch, size_t scratch_cap,
                               EVP_PKEY *k, struct jt808_msg *msg, struct jt808_err *err);
/* The body of an encrypted message (h.encryption RSA, not a fragment) decrypted with k
 * and decoded in place of its ciphertext (a reassembled body, say); plain goes to out
 * (cap >= n).  Offsets as jt808_rsa_decrypt's, then the plaintext's. */
enum jt808_rc jt808_rsa_open(EVP_PKEY *k, struct jt808_msg *msg, const uint8_t *body, size_t n, uint8_t *out,
                             size_t cap, struct jt808_err *err);

/* After jt808_rsa_open or jt808_rsa_decode failed with err: was it the decryption
 * (a block, the key: true) or the plaintext's decoding (false)? */
bool jt808_rsa_failed(const struct jt808_err *err);

/* jt808_encode of msg with its body encrypted for the holder of k (a public key is
 * enough): the typed body (or msg->body) encrypted, encryption set to RSA in the
 * header.  JT808_E_LENGTH when the encrypted body would pass JT808_MAX_BODY (a
 * plaintext over JT808_RSA_MAX_PLAIN bytes). */
enum jt808_rc jt808_rsa_encode(EVP_PKEY *k, const struct jt808_msg *msg, uint8_t *out, size_t cap,
                               size_t *out_len, struct jt808_err *err);

#endif
