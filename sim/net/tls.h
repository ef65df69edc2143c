/* TLS over TCP (OpenSSL), behind the transport table: a terminal or a gateway
 * that holds a `const struct transport *` made here speaks TLS without knowing
 * it.  The table is made at run time because it carries an SSL_CTX (the
 * certificates); tls_transport_free releases it.  Non-blocking throughout: the
 * handshake runs inside finish (client) or the first reads (server), and every
 * SSL_ERROR_WANT_READ / WANT_WRITE comes back as TP_WANT_READ / TP_WANT_WRITE. */
#ifndef FLEETSIM_TLS_H
#define FLEETSIM_TLS_H

#include <stddef.h>

#include "sim/net/transport.h"

#define TLS_PATH_MAX 256

/* PEM files.  Client (a terminal): ca = the CA that signed the gateway's
 * certificate (empty: the server is not verified); cert/key = the device's
 * certificate and key, where "{n}" stands for the terminal's number in its
 * fleet (0-based), so each terminal presents its own (no "{n}": one shared
 * certificate).  Server (the gateway): cert/key = the server certificate;
 * ca = the device root CA: set, every terminal must present a certificate
 * signed by it (X.509 device verification). */
struct tls_opts {
    char ca[TLS_PATH_MAX];
    char cert[TLS_PATH_MAX];
    char key[TLS_PATH_MAX];
    /* Server with ca: OCSP for client certificates against this responder
     * ("http://host:port/path"; empty: off).  The gateway asks it (ocsp.h). */
    char ocsp_url[TLS_PATH_MAX];
    /* Server: OCSP for the server certificate, stapled to the handshakes of
     * clients that ask: its responder and the server root CA ("trusted
     * certificate") that issued it (empty: no stapling). */
    char staple_url[TLS_PATH_MAX];
    char staple_ca[TLS_PATH_MAX];
    /* Client with ca: the name the gateway's certificate must be for (a DNS
     * name, matched against its subjectAltName as RFC 6125 says, or an IP
     * address, against its IP entries), also sent as SNI when a DNS name.
     * Empty: the harness fills in the target's host; still empty, no check. */
    char server_name[TLS_PATH_MAX];
    /* Client: ask for the gateway's stapled OCSP status (enum tls_staple);
     * needs ca, which verifies the response's signer. */
    int ocsp_stapling;
    /* Client: at most this many terminals of the fleet in a handshake at once
     * in each worker process (0: TLS_HANDSHAKES_DEFAULT); the others wait
     * their turn.  A handshake holds ~35 kB while it runs, a held session ~20. */
    unsigned max_handshakes;
};

#define TLS_HANDSHAKES_DEFAULT 1024

/* A terminal's OCSP stapling.  REQUEST: status_request sent; a staple that
 * came is checked (signature, thisUpdate/nextUpdate, the certificate's
 * status) and a revoked or invalid one refuses the gateway, none is let
 * pass.  REQUIRE: none refuses too. */
enum tls_staple { TLS_STAPLE_OFF = 0, TLS_STAPLE_REQUEST, TLS_STAPLE_REQUIRE };

/* What a server-side handshake came to, told to the owner's callback (the
 * gateway counts them). */
enum tls_event {
    TLS_EV_HANDSHAKE = 0,   /* completed: the terminal is in */
    TLS_EV_NO_CERT,         /* refused: device verification on, no certificate */
    TLS_EV_UNKNOWN_CA,      /* refused: a certificate the device root CA did not sign */
    TLS_EV_EXPIRED,         /* refused: an expired (or not yet valid) certificate */
    TLS_EV_BAD_CERT,        /* refused: any other verification failure */
    TLS_EV_FAILED,          /* the handshake failed otherwise (not TLS, protocol error) */
    TLS_EV_REVOKED,         /* refused: OCSP says the device certificate is revoked */
    TLS_EV_OCSP_FAILED,     /* refused: OCSP unknown, or no valid answer (fails closed) */
    TLS_EV__COUNT
};
typedef void (*tls_event_fn)(void *arg, enum tls_event ev);

/* What a client-side (terminal) handshake came to, told to the owner's
 * callback (the fleet counts them: terminal.tls_*). */
enum tls_client_event {
    TLS_CEV_HANDSHAKE = 0,      /* completed: the gateway is trusted */
    TLS_CEV_NAME_MISMATCH,      /* refused: the gateway's certificate is not for server_name */
    TLS_CEV_UNTRUSTED,          /* refused: its certificate failed verification otherwise */
    TLS_CEV_STAPLE_MISSING,     /* refused: ocsp_stapling require, and no status stapled */
    TLS_CEV_STAPLE_REVOKED,     /* refused: the stapled status says revoked */
    TLS_CEV_STAPLE_BAD,         /* refused: a staple that does not verify, out of date, not
                                   for this certificate, or status unknown */
    TLS_CEV_FAILED,             /* the handshake failed otherwise (the gateway refused us, not TLS) */
    TLS_CEV__COUNT
};
typedef void (*tls_client_event_fn)(void *arg, enum tls_client_event ev);

/* Check o as a client (server 0) or a server (1) would use it: the files are
 * readable PEM, the key matches the certificate, a server has both.  0, or -1
 * with "what: file: why" in err.  For a client with "{n}" in cert, the file of
 * terminal 0 is the one checked. */
int tls_opts_check(const struct tls_opts *o, int server, char *err, size_t errcap);
/* A transport for o (client or server), or NULL with err. */
const struct transport *tls_transport_new(const struct tls_opts *o, int server, char *err, size_t errcap);
/* Server side: fn hears how each handshake ended. */
void tls_transport_on_event(const struct transport *tp, tls_event_fn fn, void *arg);
/* Client side: likewise. */
void tls_transport_on_client_event(const struct transport *tp, tls_client_event_fn fn, void *arg);
/* The name of a client event ("handshakes", "name_mismatch", ...). */
const char *tls_client_event_name(enum tls_client_event ev);
/* Server side: after a handshake that verified the peer, fn decides: 0 let
 * in, 1 hold (reads wait: tls_conn_release lets it in), -1 refuse.  cert and
 * issuer are the peer's X509 and its issuer's (OpenSSL's, borrowed).  With fn
 * set, TLS_EV_HANDSHAKE is the owner's to tell. */
typedef int (*tls_admit_fn)(void *arg, struct tp_conn *c, void *cert, void *issuer);
/* Server side: the OCSP response to staple for a client that asks (status
 * request), copied; NULL: none (a client asking gets no status). */
void tls_transport_staple(const struct transport *tp, const uint8_t *der, size_t len);
void tls_transport_on_admit(const struct transport *tp, tls_admit_fn fn, void *arg);
void tls_conn_release(struct tp_conn *c);
/* Give the kernel back the heap pages that the handshakes ended since the
 * last call freed (glibc keeps freed memory below the heap's top: a burst of
 * handshakes, each holding ~35 kB while it runs, would leave the process that
 * much larger per connection).  Called once a second by the owner's timer; a
 * no-op when no handshake ended.  1 when memory was released. */
int tls_heap_trim(void);
/* Is tp one of these?  Frees it; a no-op for any other transport. */
void tls_transport_free(const struct transport *tp);
/* The name of an event ("handshakes", "no_cert", ...). */
const char *tls_event_name(enum tls_event ev);
/* Expand "{n}" in pattern with n into out.  0, or -1 when it does not fit. */
int tls_path_for(const char *pattern, unsigned n, char *out, size_t cap);

#endif
