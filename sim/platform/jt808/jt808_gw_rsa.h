/* The gateway's RSA (JT/T 808 0x8A00/0x0A00, encrypted bodies): its own key, made
 * once before the gateway processes start (so all of them share it) or read from a
 * PEM file; the terminals' keys, one per connection from its 0x0A00; bodies
 * decrypted as they come and, with platform.rsa encrypt, encrypted as they go. */
#ifndef FLEETSIM_JT808_GW_RSA_H
#define FLEETSIM_JT808_GW_RSA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/proto/jt808.h"

struct gw_config;
struct gw;
struct gw_conn;

/* cfg->rsa and cfg->rsa_pem from mode ("on", "" = on, "encrypt", "off") and key_path
 * (a 1024-bit RSA private key in PEM; "" = a new key).  0, or -1 with err. */
int gw_rsa_configure(struct gw_config *cfg, const char *mode, const char *key_path, char *err, size_t errcap);
/* The process's key from cfg (made here when cfg has none).  0, or -1 with err. */
int gw_rsa_start(struct gw *g, char *err, size_t errcap);
void gw_rsa_stop(struct gw *g);
/* The body of a 0x8A00 step given none: the gateway's public key as JSON
 * ({"e":N,"n":"hex"}) in buf; NULL when it has no key (platform.rsa off). */
const char *gw_rsa_8a00_body(const struct gw *g, char *buf, size_t cap);
/* m came RSA-encrypted (body[0..n) its ciphertext): decrypted with the gateway's key
 * and decoded (the plaintext in a buffer of this file's, valid until the next call).
 * false when it cannot be (no key, another key, damaged): counted, why in why. */
bool gw_rsa_open(struct gw_conn *c, struct jt808_msg *m, const uint8_t *body, size_t n, char *why, size_t cap);
/* A package of a subpackaged message that came RSA-encrypted (each package on its
 * own: jt808_pkgs.h): its body decrypted with the gateway's key in place of the
 * ciphertext (a buffer of this file's, valid until the next call), not decoded.
 * false when it cannot be (no key, another key, damaged): counted, why in why. */
bool gw_rsa_open_package(struct gw_conn *c, struct jt808_msg *m, char *why, size_t cap);
/* The key to encrypt message msg_id for c with (platform.rsa encrypt, its 0x0A00 key
 * known, not 0x8A00 itself), NULL to send it in the clear. */
struct evp_pkey_st *gw_rsa_peer_for(struct gw_conn *c, uint16_t msg_id);
/* A 0x0A00 from the terminal: its key kept for the connection; false for a key it
 * cannot use (counted rsa_errors; the last good one, if any, stays). */
bool gw_rsa_peer_key(struct gw_conn *c, const struct jt808_msg *m);
void gw_rsa_conn_free(struct gw_conn *c);
/* jt808_encode for c: the body encrypted for the terminal when platform.rsa is
 * encrypt and its 0x0A00 key known (not 0x8A00 itself, not empty); the caller cuts
 * a body over 819 bytes into packages itself (a command step's: gw_rsa_peer_for),
 * here such a body is an RSA error and goes in the clear. */
enum jt808_rc gw_rsa_encode(struct gw_conn *c, const struct jt808_msg *m, uint8_t *out, size_t cap,
                            size_t *out_len, struct jt808_err *err);
/* m (its serial taken from c) encoded and sent to c: encrypted as gw_rsa_encode
 * does, and a body over 819 bytes, too long for one encrypted frame, in packages of
 * 819 bytes of plaintext each encrypted on its own (jt808_pkgs.h), serials from m's
 * on (c->serial moved past them), kept for the terminal's 0x0005.  In the clear
 * when it does not go encrypted (or cannot be: counted an RSA error).  JT808_OK, or
 * jt808_encode's error with err (nothing sent). */
enum jt808_rc gw_rsa_send(struct gw_conn *c, const struct jt808_msg *m, struct jt808_err *err);

#endif
