/* OCSP for device certificates on the gateway's loop: a non-blocking HTTP POST to
 * the responder (libev), the answer verified against the device root CA, and a
 * cache of answers whose time to live is the response's own (nextUpdate) held
 * between 5 min and 1 h, as the seed's gateway does.  No call here blocks. */
#ifndef FLEETSIM_OCSP_H
#define FLEETSIM_OCSP_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>
#include <openssl/x509.h>

#define OCSP_TTL_MIN_S 300
#define OCSP_TTL_MAX_S 3600

enum ocsp_status { OCSP_ST_GOOD = 0, OCSP_ST_REVOKED, OCSP_ST_UNKNOWN, OCSP_ST_ERROR, OCSP_ST_PENDING };

/* The TTL an answer is kept: ttl_s (nextUpdate - now; < 0 when the response has
 * no nextUpdate) held within OCSP_TTL_MIN_S..OCSP_TTL_MAX_S; none: the maximum. */
uint32_t ocsp_ttl_clamp(int64_t ttl_s);

/* An HTTP/1.x response in buf[0..n): 1 with the body of a 200 (Content-Length
 * bytes when given, else the rest) in *body / *blen; 0 when more bytes are
 * needed; -1 with err (not HTTP, another status, a bad Content-Length). */
int ocsp_http_body(const uint8_t *buf, size_t n, int eof, const uint8_t **body, size_t *blen, char *err,
                   size_t errcap);

struct ocsp_client;
/* The answer for the certificate asked about; arg is the caller's. */
typedef void (*ocsp_done_fn)(void *arg, uint32_t tag, enum ocsp_status st);

/* A client for the responder at url ("http://host:port/path"), trusting ca_file
 * (the device root CA) for its answers.  NULL with err. */
struct ocsp_client *ocsp_client_new(struct ev_loop *loop, const char *url, const char *ca_file, char *err,
                                    size_t errcap);
void ocsp_client_free(struct ocsp_client *o);
/* The status of cert (issued by issuer): from the cache when fresh (returned at
 * once, fn not called), else OCSP_ST_PENDING and fn(arg, status) once the
 * responder answered or failed (a failure: OCSP_ST_ERROR, not cached), tag
 * handed back (a connection's handle: it may be gone by then). */
enum ocsp_status ocsp_check(struct ocsp_client *o, X509 *cert, X509 *issuer, ocsp_done_fn fn, void *arg,
                            uint32_t tag);
/* Ask the responder about cert (no cache): fn(arg, status, the DER of the
 * response, its TTL clamped) once answered; OCSP_ST_ERROR with no DER on a
 * failure.  0, or -1 when it could not be asked (fn not called). */
typedef void (*ocsp_fetch_fn)(void *arg, enum ocsp_status st, const uint8_t *der, size_t len, uint32_t ttl_s);
int ocsp_fetch(struct ocsp_client *o, X509 *cert, X509 *issuer, ocsp_fetch_fn fn, void *arg);
/* A stapled OCSP response (the DER a TLS server sent with its certificate):
 * the status it gives the leaf of chain (chain[0], issued by chain[1], as the
 * handshake verified it), once its signer checks out against store (the
 * trusted CAs; the signer the issuer itself or a certificate of it for OCSP
 * signing) and thisUpdate..nextUpdate holds now (5 min of clock skew).
 * OCSP_ST_ERROR for anything that does not: not DER, not successful, a bad
 * signature, out of date, no answer for this certificate.  No I/O. */
enum ocsp_status ocsp_staple_status(const uint8_t *der, size_t len, STACK_OF(X509) *chain, X509_STORE *store);
/* Queries sent and answers from the cache, all told. */
uint64_t ocsp_queries(const struct ocsp_client *o);
uint64_t ocsp_cache_hits(const struct ocsp_client *o);

#endif
