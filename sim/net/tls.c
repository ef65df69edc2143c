/* TLS transport on OpenSSL over the plain TCP one (tcp.c). */
#include "sim/net/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/x509_vfy.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/net/ocsp.h"

/* A terminal's device certificate, key and chain, read from its files once
 * (per worker) and handed to each of its sessions by reference: a reconnect
 * does no file I/O, and while connected the session holds these very objects,
 * no copy.  Terminals that never connect have no entry. */
struct cert_entry {
    uint32_t id;                /* the terminal's number; the slot is free when cert is NULL */
    X509 *cert;
    EVP_PKEY *key;
    STACK_OF(X509) *chain;      /* the certificates after the first in the file; NULL: none */
};

struct tls_conn;

/* The table first, so a `const struct transport *` of ours is one of these. */
struct tls_tp {
    struct transport tp;
    SSL_CTX *ctx;
    int server;
    int per_terminal;           /* the client certificate has "{n}" */
    struct tls_opts o;
    tls_event_fn on_event;
    void *arg;
    tls_admit_fn admit;
    void *admit_arg;
    unsigned char *staple;      /* the OCSP response for our certificate; NULL: none */
    size_t staple_len;
    tls_client_event_fn on_client;
    void *client_arg;
    int sni;                    /* client: server_name is a DNS name, sent as SNI */
    struct tls_conn *cur;       /* client: the session in SSL_do_handshake (the status callback's) */
    struct cert_entry *certs;   /* client, per terminal: the cache, open addressing on id */
    size_t certs_cap, certs_n;
};

/* Per connection: the session, and whether the TCP connect is still going. */
struct tls_conn {
    SSL *ssl;
    unsigned char connecting;
    unsigned char done;         /* handshake completed */
    unsigned char held;         /* the owner has not let it in yet (tls_admit_fn) */
    unsigned char why;          /* client: enum tls_client_event the status check refused with (0: none) */
};

static struct tls_tp *tt_of(const struct tp_conn *c) { return (struct tls_tp *)(uintptr_t)c->tp; }
static struct tls_conn *tc_of(const struct tp_conn *c) { return c->state; }

const char *tls_event_name(enum tls_event ev)
{
    static const char *const names[TLS_EV__COUNT] = {"handshakes", "no_cert", "unknown_ca", "expired",
                                                     "bad_cert", "handshake_failed", "revoked",
                                                     "ocsp_failed"};
    return (unsigned)ev < TLS_EV__COUNT ? names[ev] : "?";
}

/* Handshakes that ended (either way) in this process since the last trim. */
static uint64_t handshakes_ended;

int tls_heap_trim(void)
{
    static time_t last;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (!handshakes_ended || now.tv_sec == last)
        return 0;
    last = now.tv_sec;
    handshakes_ended = 0;
    return malloc_trim(0);
}

const char *tls_client_event_name(enum tls_client_event ev)
{
    static const char *const names[TLS_CEV__COUNT] = {"handshakes", "name_mismatch", "untrusted",
                                                      "ocsp_missing", "ocsp_revoked", "ocsp_bad",
                                                      "handshake_failed"};
    return (unsigned)ev < TLS_CEV__COUNT ? names[ev] : "?";
}

int tls_path_for(const char *pattern, unsigned n, char *out, size_t cap)
{
    const char *at = strstr(pattern, "{n}");
    int w = at ? snprintf(out, cap, "%.*s%u%s", (int)(at - pattern), pattern, n, at + 3)
               : snprintf(out, cap, "%s", pattern);
    return w < 0 || (size_t)w >= cap ? -1 : 0;
}

/* OpenSSL's first queued reason, for an error message; clears the queue. */
static const char *ssl_why(char *buf, size_t cap)
{
    unsigned long e = ERR_peek_last_error();
    if (!e)
        snprintf(buf, cap, "not PEM, or not what was expected");
    else
        ERR_error_string_n(e, buf, cap);
    ERR_clear_error();
    return buf;
}

static int fail(char *err, size_t errcap, const char *fmt, const char *a, const char *b)
{
    snprintf(err, errcap, fmt, a, b);
    ERR_clear_error();
    return -1;
}

/* A readable file: "what: path: why" otherwise. */
static int readable(const char *what, const char *path, char *err, size_t errcap)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errcap, "%s: %s: %s", what, path, strerror(errno));
        return -1;
    }
    fclose(f);
    return 0;
}

/* Load the certificate chain and key into ctx; the key must match. */
static int load_pair(SSL_CTX *ctx, const char *what, const char *cert, const char *key, char *err,
                     size_t errcap)
{
    char why[200], w[64];
    snprintf(w, sizeof w, "%s certificate", what);
    if (readable(w, cert, err, errcap) < 0)
        return -1;
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
        return fail(err, errcap, "%s: not a PEM certificate (%s)", cert, ssl_why(why, sizeof why));
    snprintf(w, sizeof w, "%s key", what);
    if (readable(w, key, err, errcap) < 0)
        return -1;
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        unsigned long e = ERR_peek_last_error();
        if (ERR_GET_LIB(e) == ERR_LIB_X509 && ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH)
            return fail(err, errcap, "%s: the key does not match the certificate %s", key, cert);
        return fail(err, errcap, "%s: not a PEM private key (%s)", key, ssl_why(why, sizeof why));
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        snprintf(err, errcap, "%s: the key does not match the certificate %s", key, cert);
        ERR_clear_error();
        return -1;
    }
    return 0;
}

static int load_ca(SSL_CTX *ctx, const char *what, const char *ca, char *err, size_t errcap)
{
    char why[200];
    if (readable(what, ca, err, errcap) < 0)
        return -1;
    if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1)
        return fail(err, errcap, "%s: not a PEM CA certificate (%s)", ca, ssl_why(why, sizeof why));
    return 0;
}

/* "[::1]" or "::1" or "127.0.0.1": an IP address (into ip, brackets gone), else 0. */
static int ip_literal(const char *name, char *ip, size_t cap)
{
    size_t n = strlen(name);
    if (n >= 2 && name[0] == '[' && name[n - 1] == ']')
        snprintf(ip, cap, "%.*s", (int)(n - 2), name + 1);
    else
        snprintf(ip, cap, "%s", name);
    unsigned char b[16];
    return inet_pton(AF_INET, ip, b) == 1 || inet_pton(AF_INET6, ip, b) == 1;
}

/* The gateway's certificate must be for name: set once on the context, each
 * session inherits it. */
static int set_peer_name(SSL_CTX *ctx, const char *name, char *err, size_t errcap)
{
    char ip[TLS_PATH_MAX];
    X509_VERIFY_PARAM *vp = SSL_CTX_get0_param(ctx);
    int ok = 0;
    if (ip_literal(name, ip, sizeof ip)) {
        ok = X509_VERIFY_PARAM_set1_ip_asc(vp, ip);
    } else if (strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") == strlen(name) &&
               name[0] != '.' && name[0] != '-') {
        X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        ok = X509_VERIFY_PARAM_set1_host(vp, name, 0);
    }
    ERR_clear_error();
    if (ok != 1) {
        snprintf(err, errcap, "tls: server_name '%s' is neither a host name nor an IP address", name);
        return -1;
    }
    return 0;
}

static SSL_CTX *ctx_new(const struct tls_opts *o, int server, char *err, size_t errcap)
{
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (!ctx) {
        snprintf(err, errcap, "tls: cannot create a context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    /* a worker holds 10,000 sessions: no buffers while idle */
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                              SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (server) {
        if (!o->cert[0] || !o->key[0]) {
            snprintf(err, errcap, "tls: the gateway needs a server certificate and its key (cert, key)");
            goto bad;
        }
        if (load_pair(ctx, "server", o->cert, o->key, err, errcap) < 0)
            goto bad;
        if (o->ca[0]) {
            if (load_ca(ctx, "device root CA", o->ca, err, errcap) < 0)
                goto bad;
            SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
        }
        /* tickets would let a terminal back in without its certificate checked again */
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
        SSL_CTX_set_num_tickets(ctx, 0);
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    } else {
        if (o->ca[0]) {
            if (load_ca(ctx, "CA", o->ca, err, errcap) < 0)
                goto bad;
            SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
            if (o->server_name[0] && set_peer_name(ctx, o->server_name, err, errcap) < 0)
                goto bad;
        }
        if (o->ocsp_stapling != TLS_STAPLE_OFF) {
            if (!o->ca[0]) {
                snprintf(err, errcap, "tls: OCSP stapling needs the CA (ca) that the staple's signer is checked against");
                goto bad;
            }
            SSL_CTX_set_tlsext_status_type(ctx, TLSEXT_STATUSTYPE_ocsp);
        }
        /* a terminal resumes no session: none is kept */
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
        if (!o->cert[0] != !o->key[0]) {
            snprintf(err, errcap, "tls: a device certificate needs its key, and a key its certificate");
            goto bad;
        }
        if (o->cert[0]) {
            char cert[TLS_PATH_MAX + 16], key[TLS_PATH_MAX + 16];
            if (tls_path_for(o->cert, 0, cert, sizeof cert) < 0 || tls_path_for(o->key, 0, key, sizeof key) < 0) {
                snprintf(err, errcap, "tls: device certificate path too long");
                goto bad;
            }
            /* a per-terminal pattern: terminal 0's pair is checked here, each
             * terminal's loaded into its own session as it connects */
            if (load_pair(ctx, "device", cert, key, err, errcap) < 0)
                goto bad;
        }
    }
    return ctx;
bad:
    SSL_CTX_free(ctx);
    return NULL;
}

int tls_opts_check(const struct tls_opts *o, int server, char *err, size_t errcap)
{
    SSL_CTX *ctx = ctx_new(o, server, err, errcap);
    if (!ctx)
        return -1;
    SSL_CTX_free(ctx);
    return 0;
}

/* SSL_get_error -> tp_rc; a failure sets c->err (EPROTO for TLS itself). */
static enum tp_rc ssl_rc(struct tp_conn *c, int r)
{
    struct tls_conn *tc = tc_of(c);
    int e = SSL_get_error(tc->ssl, r);
    switch (e) {
    case SSL_ERROR_WANT_READ:
        return TP_WANT_READ;
    case SSL_ERROR_WANT_WRITE:
        return TP_WANT_WRITE;
    case SSL_ERROR_ZERO_RETURN:
        c->err = 0;
        return TP_ERR;
    case SSL_ERROR_SYSCALL:
        c->err = errno ? errno : ECONNRESET;
        if (r == 0 && ERR_peek_error() == 0)
            c->err = tc->done ? 0 : ECONNRESET; /* EOF */
        ERR_clear_error();
        return TP_ERR;
    default:
        c->err = EPROTO;
        return TP_ERR;
    }
}

/* Why a server's handshake failed, from the verification result and the
 * error queue (which it clears). */
static enum tls_event refusal(SSL *ssl)
{
    unsigned long e = ERR_peek_error();
    ERR_clear_error();
    if (ERR_GET_LIB(e) == ERR_LIB_SSL && ERR_GET_REASON(e) == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE)
        return TLS_EV_NO_CERT;
    long v = SSL_get_verify_result(ssl);
    switch (v) {
    case X509_V_OK:
        return TLS_EV_FAILED;
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return TLS_EV_EXPIRED;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_CERT_SIGNATURE_FAILURE:
        return TLS_EV_UNKNOWN_CA;
    default:
        return TLS_EV_BAD_CERT;
    }
}

/* Why a client's handshake failed: the stapling check's reason, else the
 * verification of the gateway's certificate (clears the error queue). */
static enum tls_client_event client_refusal(const struct tls_conn *tc)
{
    ERR_clear_error();
    if (tc->why)
        return (enum tls_client_event)tc->why;
    long v = SSL_get_verify_result(tc->ssl);
    if (v == X509_V_ERR_HOSTNAME_MISMATCH || v == X509_V_ERR_IP_ADDRESS_MISMATCH)
        return TLS_CEV_NAME_MISMATCH;
    return v == X509_V_OK ? TLS_CEV_FAILED : TLS_CEV_UNTRUSTED;
}

/* Client: the gateway's stapled status (or its absence), during the
 * handshake, once its certificate verified.  1 goes on; 0 ends the handshake
 * (OpenSSL sends bad_certificate_status_response). */
static int client_status_cb(SSL *ssl, void *arg)
{
    struct tls_tp *t = arg;
    struct tls_conn *tc = t->cur;
    const unsigned char *der = NULL;
    long n = SSL_get_tlsext_status_ocsp_resp(ssl, &der);
    enum tls_client_event why = 0;
    if (n <= 0 || !der) {
        if (t->o.ocsp_stapling == TLS_STAPLE_REQUIRE)
            why = TLS_CEV_STAPLE_MISSING;
    } else {
        enum ocsp_status st = ocsp_staple_status(der, (size_t)n, SSL_get0_verified_chain(ssl),
                                                 SSL_CTX_get_cert_store(SSL_get_SSL_CTX(ssl)));
        why = st == OCSP_ST_GOOD ? 0 : st == OCSP_ST_REVOKED ? TLS_CEV_STAPLE_REVOKED : TLS_CEV_STAPLE_BAD;
    }
    if (tc)
        tc->why = (unsigned char)why;
    return why ? 0 : 1;
}

static enum tp_rc handshake(struct tp_conn *c)
{
    struct tls_conn *tc = tc_of(c);
    struct tls_tp *t = tt_of(c);
    t->cur = tc;
    int r = SSL_do_handshake(tc->ssl);
    t->cur = NULL;
    if (r == 1 || (SSL_get_error(tc->ssl, r) != SSL_ERROR_WANT_READ && SSL_get_error(tc->ssl, r) != SSL_ERROR_WANT_WRITE))
        handshakes_ended++;
    if (r == 1) {
        tc->done = 1;
        if (!t->server && t->on_client)
            t->on_client(t->client_arg, TLS_CEV_HANDSHAKE);
        if (t->server && t->admit && SSL_get0_peer_certificate(tc->ssl)) {
            STACK_OF(X509) *chain = SSL_get0_verified_chain(tc->ssl);
            X509 *issuer = chain && sk_X509_num(chain) > 1 ? sk_X509_value(chain, 1) : NULL;
            int a = t->admit(t->admit_arg, c, SSL_get0_peer_certificate(tc->ssl), issuer);
            if (a < 0) {
                c->err = EACCES;
                return TP_ERR;
            }
            tc->held = a > 0;
            return TP_OK;
        }
        if (t->server && t->on_event)
            t->on_event(t->arg, TLS_EV_HANDSHAKE);
        return TP_OK;
    }
    enum tp_rc rc = ssl_rc(c, r);
    if (rc == TP_ERR && t->server && t->on_event)
        t->on_event(t->arg, refusal(tc->ssl));
    if (rc == TP_ERR && !t->server) {
        enum tls_client_event ev = client_refusal(tc);
        if (ev != TLS_CEV_FAILED)
            c->err = EACCES; /* we refused the gateway */
        if (t->on_client)
            t->on_client(t->client_arg, ev);
    }
    ERR_clear_error();
    return rc;
}

static void conn_free(struct tp_conn *c)
{
    struct tls_conn *tc = tc_of(c);
    if (tc) {
        SSL_free(tc->ssl);
        free(tc);
    }
    c->state = NULL;
}

static void cert_entry_free(struct cert_entry *e)
{
    X509_free(e->cert);
    EVP_PKEY_free(e->key);
    sk_X509_pop_free(e->chain, X509_free);
    memset(e, 0, sizeof *e);
}

static size_t cert_slot(const struct tls_tp *t, uint32_t id)
{
    size_t i = (id * 2654435761u) & (t->certs_cap - 1);
    while (t->certs[i].cert && t->certs[i].id != id)
        i = (i + 1) & (t->certs_cap - 1);
    return i;
}

/* Room for one more entry: the table doubles at half full. */
static int cert_room(struct tls_tp *t)
{
    if (t->certs_cap && (t->certs_n + 1) * 2 <= t->certs_cap)
        return 0;
    size_t cap = t->certs_cap ? t->certs_cap * 2 : 64;
    struct cert_entry *old = t->certs, *n = calloc(cap, sizeof *n);
    if (!n)
        return -1;
    size_t ocap = t->certs_cap;
    t->certs = n;
    t->certs_cap = cap;
    for (size_t i = 0; i < ocap; i++)
        if (old[i].cert)
            t->certs[cert_slot(t, old[i].id)] = old[i];
    free(old);
    return 0;
}

/* The PEM files of terminal id into e: the first certificate, the rest as its
 * chain, the key.  0, or -1 (missing, not PEM). */
static int cert_load(const struct tls_tp *t, uint32_t id, struct cert_entry *e)
{
    char cert[TLS_PATH_MAX + 16], key[TLS_PATH_MAX + 16];
    memset(e, 0, sizeof *e);
    e->id = id;
    if (tls_path_for(t->o.cert, id, cert, sizeof cert) < 0 || tls_path_for(t->o.key, id, key, sizeof key) < 0)
        return -1;
    BIO *b = BIO_new_file(cert, "r");
    e->cert = b ? PEM_read_bio_X509_AUX(b, NULL, NULL, NULL) : NULL;
    for (X509 *x; e->cert && (x = PEM_read_bio_X509(b, NULL, NULL, NULL));)
        if ((!e->chain && !(e->chain = sk_X509_new_null())) || !sk_X509_push(e->chain, x)) {
            X509_free(x);
            break;
        }
    BIO_free(b);
    b = e->cert ? BIO_new_file(key, "r") : NULL;
    e->key = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    ERR_clear_error(); /* the end of the chain reads as "no start line" */
    if (!e->cert || !e->key) {
        cert_entry_free(e);
        return -1;
    }
    return 0;
}

/* Terminal id's device certificate into ssl, from the cache (read on its first
 * connect).  0, or -1: its files are missing or bad, or do not match. */
static int use_terminal_cert(struct tls_tp *t, SSL *ssl, uint32_t id)
{
    size_t i = t->certs_cap ? cert_slot(t, id) : 0;
    if (!t->certs_cap || !t->certs[i].cert) {
        struct cert_entry e;
        if (cert_room(t) < 0 || cert_load(t, id, &e) < 0)
            return -1;
        i = cert_slot(t, id);
        t->certs[i] = e;
        t->certs_n++;
    }
    const struct cert_entry *e = &t->certs[i];
    int ok = SSL_use_certificate(ssl, e->cert) == 1 && SSL_use_PrivateKey(ssl, e->key) == 1 &&
             (!e->chain || SSL_set1_chain(ssl, e->chain) == 1);
    ERR_clear_error();
    return ok ? 0 : -1;
}

/* A session on c->fd; the client takes terminal c->id's certificate. */
static int conn_new(struct tp_conn *c, struct tls_tp *t)
{
    struct tls_conn *tc = calloc(1, sizeof *tc);
    if (!tc || !(tc->ssl = SSL_new(t->ctx))) {
        free(tc);
        c->err = ENOMEM;
        return -1;
    }
    c->state = tc;
    SSL_set_fd(tc->ssl, c->fd);
    if (t->server) {
        SSL_set_accept_state(tc->ssl);
        return 0;
    }
    SSL_set_connect_state(tc->ssl);
    if (t->sni && SSL_set_tlsext_host_name(tc->ssl, t->o.server_name) != 1) {
        ERR_clear_error();
        conn_free(c);
        c->err = ENOMEM;
        return -1;
    }
    if (t->per_terminal) {
        if (use_terminal_cert(t, tc->ssl, c->id) < 0) {
            conn_free(c);
            c->err = ENOENT; /* the terminal's certificate is missing or bad */
            return -1;
        }
    }
    return 0;
}

static enum tp_rc tls_connect(struct tp_conn *c, const struct sockaddr_storage *dst,
                              const struct sockaddr_storage *src)
{
    struct tls_tp *t = tt_of(c);
    c->state = NULL;
    enum tp_rc rc = transport_tcp.connect(c, dst, src);
    if (rc == TP_ERR)
        return rc;
    if (conn_new(c, t) < 0) {
        int e = c->err;
        transport_tcp.close(c);
        c->err = e;
        return TP_ERR;
    }
    if (rc == TP_WANT_WRITE) {
        tc_of(c)->connecting = 1;
        return TP_WANT_WRITE;
    }
    return handshake(c);
}

static enum tp_rc tls_finish(struct tp_conn *c)
{
    struct tls_conn *tc = tc_of(c);
    if (tc->connecting) {
        enum tp_rc rc = transport_tcp.finish(c);
        if (rc != TP_OK)
            return rc;
        tc->connecting = 0;
    }
    return handshake(c);
}

static enum tp_rc tls_read(struct tp_conn *c, uint8_t *buf, size_t n, size_t *got)
{
    struct tls_conn *tc = tc_of(c);
    *got = 0;
    if (!tc->done) {
        enum tp_rc rc = handshake(c);
        if (rc != TP_OK)
            return rc;
    }
    if (tc->held)
        return TP_WANT_READ; /* its input stays inside OpenSSL until it is let in */
    /* everything OpenSSL holds comes out now: decrypted bytes left inside it
     * would wait for a readiness of the socket that never comes */
    while (*got < n) {
        size_t r = 0;
        int ok = SSL_read_ex(tc->ssl, buf + *got, n - *got, &r);
        if (ok == 1) {
            *got += r;
            continue;
        }
        enum tp_rc rc = ssl_rc(c, 0);
        ERR_clear_error();
        if (*got)
            return TP_OK; /* the close or the wait shows on the next read */
        return rc;
    }
    return TP_OK;
}

static enum tp_rc tls_write(struct tp_conn *c, const uint8_t *buf, size_t n, size_t *put)
{
    struct tls_conn *tc = tc_of(c);
    *put = 0;
    if (!tc->done) {
        enum tp_rc rc = handshake(c);
        if (rc != TP_OK)
            return rc == TP_WANT_READ ? TP_WANT_WRITE : rc;
    }
    size_t w = 0;
    if (SSL_write_ex(tc->ssl, buf, n, &w) == 1) {
        *put = w;
        return TP_OK;
    }
    enum tp_rc rc = ssl_rc(c, 0);
    ERR_clear_error();
    /* a write that waits on a read (a key update) is retried on writability too */
    return rc == TP_WANT_READ ? TP_WANT_WRITE : rc;
}

static void tls_close(struct tp_conn *c)
{
    struct tls_conn *tc = tc_of(c);
    if (tc && tc->done)
        SSL_shutdown(tc->ssl); /* one try: the close_notify, not waiting for the peer's */
    ERR_clear_error();
    conn_free(c);
    transport_tcp.close(c);
}

static void tls_abort(struct tp_conn *c)
{
    conn_free(c);
    transport_tcp.abort(c);
}

static enum tp_rc tls_listen(struct tp_conn *l, struct sockaddr_storage *addr, int backlog)
{
    const struct transport *self = l->tp;
    enum tp_rc rc = transport_tcp.listen(l, addr, backlog);
    l->tp = self;
    return rc;
}

static enum tp_rc tls_accept(struct tp_conn *l, struct tp_conn *c, struct sockaddr_storage *peer)
{
    enum tp_rc rc = transport_tcp.accept(l, c, peer);
    if (rc != TP_OK)
        return rc;
    c->tp = l->tp;
    if (conn_new(c, tt_of(l)) < 0) {
        transport_tcp.close(c);
        return TP_WANT_READ; /* out of memory for this one: it is dropped */
    }
    return TP_OK;
}

/* A client asked for our certificate's status: the staple, when there is one. */
static int status_cb(SSL *ssl, void *arg)
{
    struct tls_tp *t = arg;
    if (!t->staple)
        return SSL_TLSEXT_ERR_NOACK;
    unsigned char *copy = OPENSSL_memdup(t->staple, t->staple_len);
    if (!copy)
        return SSL_TLSEXT_ERR_NOACK;
    SSL_set_tlsext_status_ocsp_resp(ssl, copy, (long)t->staple_len);
    return SSL_TLSEXT_ERR_OK;
}

void tls_transport_staple(const struct transport *tp, const uint8_t *der, size_t len)
{
    if (!tp || tp->connect != tls_connect)
        return;
    struct tls_tp *t = (struct tls_tp *)(uintptr_t)tp;
    unsigned char *copy = der && len ? malloc(len) : NULL;
    if (copy)
        memcpy(copy, der, len);
    free(t->staple);
    t->staple = copy;
    t->staple_len = copy ? len : 0;
}

const struct transport *tls_transport_new(const struct tls_opts *o, int server, char *err, size_t errcap)
{
    struct tls_tp *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errcap, "tls: out of memory");
        return NULL;
    }
    t->ctx = ctx_new(o, server, err, errcap);
    if (!t->ctx) {
        free(t);
        return NULL;
    }
    t->o = *o;
    t->server = server;
    SSL_CTX_set_tlsext_status_cb(t->ctx, (server ? status_cb : client_status_cb));
    SSL_CTX_set_tlsext_status_arg(t->ctx, t);
    char ip[TLS_PATH_MAX];
    t->sni = !server && o->server_name[0] && !ip_literal(o->server_name, ip, sizeof ip);
    t->per_terminal = !server && strstr(o->cert, "{n}") != NULL;
    t->tp = (struct transport){
        .name = "tls",
        .connect = tls_connect,
        .finish = tls_finish,
        .read = tls_read,
        .write = tls_write,
        .close = tls_close,
        .abort = tls_abort,
        .listen = tls_listen,
        .accept = tls_accept,
    };
    return &t->tp;
}

void tls_transport_on_event(const struct transport *tp, tls_event_fn fn, void *arg)
{
    if (!tp || tp->connect != tls_connect)
        return;
    struct tls_tp *t = (struct tls_tp *)(uintptr_t)tp;
    t->on_event = fn;
    t->arg = arg;
}

void tls_transport_on_client_event(const struct transport *tp, tls_client_event_fn fn, void *arg)
{
    if (!tp || tp->connect != tls_connect)
        return;
    struct tls_tp *t = (struct tls_tp *)(uintptr_t)tp;
    t->on_client = fn;
    t->client_arg = arg;
}

void tls_transport_on_admit(const struct transport *tp, tls_admit_fn fn, void *arg)
{
    if (!tp || tp->connect != tls_connect)
        return;
    struct tls_tp *t = (struct tls_tp *)(uintptr_t)tp;
    t->admit = fn;
    t->admit_arg = arg;
}

void tls_conn_release(struct tp_conn *c)
{
    if (c->state && c->tp && c->tp->connect == tls_connect)
        tc_of(c)->held = 0;
}

void tls_transport_free(const struct transport *tp)
{
    if (!tp || tp->connect != tls_connect)
        return;
    struct tls_tp *t = (struct tls_tp *)(uintptr_t)tp;
    SSL_CTX_free(t->ctx);
    for (size_t i = 0; i < t->certs_cap; i++)
        if (t->certs[i].cert)
            cert_entry_free(&t->certs[i]);
    free(t->certs);
    free(t->staple);
    free(t);
}
