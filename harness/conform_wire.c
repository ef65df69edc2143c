/* The exchange interpreter's connections (conform_exchange.c runs the steps):
 * a connection to the target opened (TLS too, with the certificate a connect step
 * asks for), or with --terminal the next device accepted; frames sent and logged,
 * and read whole from the socket by their 0x7E flags with a deadline. */
#include "harness/conform_exchange.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "sim/proto/hex.h"
#include "sim/proto/jt808_json.h"

void exch_conn_close(struct conn *k)
{
    if (k->ssl) {
        SSL_shutdown(k->ssl); /* the close_notify, best effort: the socket does not block */
        SSL_free(k->ssl);
        k->ssl = NULL;
    }
    if (k->fd >= 0)
        close(k->fd);
    k->fd = -1;
    k->n = 0;
    if (k->reasm) {
        jt808_reasm_free(k->reasm);
        free(k->reasm);
        k->reasm = NULL;
    }
}

void *conform_tls_new(const char *ca, const char *cert, const char *key, char *err, size_t errcap)
{
    char why[256];
    if (!cert != !key) {
        snprintf(err, errcap, "--tls-cert and --tls-key go together");
        return NULL;
    }
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL) {
        snprintf(err, errcap, "cannot make a TLS context: %s", conform_ssl_why(why, sizeof why));
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (ca == NULL && SSL_CTX_set_default_verify_paths(ctx) != 1) {
        snprintf(err, errcap, "cannot read the system's trust store (%s)", conform_ssl_why(why, sizeof why));
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (ca && SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
        snprintf(err, errcap, "--tls-ca %s: not a readable PEM CA certificate (%s)", ca, conform_ssl_why(why, sizeof why));
        SSL_CTX_free(ctx);
        return NULL;
    }
    if (cert && (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
                 SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1)) {
        snprintf(err, errcap, "--tls-cert %s / --tls-key %s: not a PEM certificate and its key (%s)", cert, key,
                 conform_ssl_why(why, sizeof why));
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

void conform_tls_free(void *ctx)
{
    SSL_CTX_free(ctx);
}

/* The TLS handshake on k's connected socket, then the socket non-blocking. */
static bool tls_open(struct exch *x, const struct conform_step *st, struct conn *k, const char *where)
{
    char why[256];
    static const char *const certs[] = {"the device's", "none", "one of another CA"};
    int cert = st->kind == CSTEP_CONNECT ? st->cert : 0;
    SSL_CTX *ctx = cert ? x->t->tls_alt[cert - 1] : x->t->tls;
    if (ctx == NULL)
        return exch_worsen(x, VERDICT_INCONCLUSIVE, st, "a device certificate of another CA to present",
                      "not run: only the runs of the embedded platform (--tls) make one");
    k->ssl = SSL_new(ctx);
    if (k->ssl == NULL || SSL_set_fd(k->ssl, k->fd) != 1)
        return exch_worsen(x, VERDICT_ERROR, st, where, "TLS: %s", conform_ssl_why(why, sizeof why));
    /* the server's certificate must name the address connected to */
    X509_VERIFY_PARAM *vp = SSL_get0_param(k->ssl);
    if (X509_VERIFY_PARAM_set1_ip_asc(vp, x->t->host) != 1)
        X509_VERIFY_PARAM_set1_host(vp, x->t->host, 0);
    struct timeval tv = {.tv_sec = CONNECT_MS / 1000};
    setsockopt(k->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    errno = 0;
    if (SSL_connect(k->ssl) != 1) {
        long vr = SSL_get_verify_result(k->ssl);
        if (cert && vr == X509_V_OK) {
            /* a handshake with no or a foreign device certificate, ended by the target: what the case asks */
            exch_log(x, "+%.3f c%d TLS handshake (device certificate: %s) refused by the target: %s", exch_since(x),
                     (int)(k - x->conns), certs[cert], conform_ssl_why(why, sizeof why));
            k->refused = true;
            return false;
        }
        if (vr != X509_V_OK) {
            /* the user named the CA of the target: a certificate it did not issue, or one that does not
             * name the address, is the target's; else the harness was not told whom to trust */
            snprintf(why, sizeof why, "the server's certificate: %s", X509_verify_cert_error_string(vr));
            if (x->t->tls_judged)
                return exch_worsen(x, VERDICT_FAIL, st, "a server certificate issued by the --tls-ca CA naming the "
                              "address", "TLS handshake: %s", why);
            return exch_worsen(x, VERDICT_ERROR, st, where, "TLS handshake: %s%s", why,
                          x->t->embedded ? "" : " (checked against the system's trust store: --tls-ca names the "
                          "CA that issued it)");
        }
        conform_ssl_why(why, sizeof why);
        /* the handshake is the transport the cases run on, not a rule of theirs */
        return exch_worsen(x, VERDICT_ERROR, st, where, "TLS handshake: %s", why);
    }
    tv.tv_sec = 0;
    setsockopt(k->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    fcntl(k->fd, F_SETFL, fcntl(k->fd, F_GETFL) | O_NONBLOCK);
    exch_log(x, "+%.3f c%d TLS %s, %s, device certificate: %s", exch_since(x), (int)(k - x->conns),
             SSL_get_version(k->ssl), SSL_get_cipher_name(k->ssl),
             cert || SSL_get_certificate(k->ssl) ? certs[cert] : "none");
    return true;
}

/* --terminal --tls: the server's half of the handshake on k's accepted socket.  A
 * device that fails it (no certificate where --client-ca asks for one, one that
 * CA did not issue, not TLS at all) fails the case: the device is the target. */
static bool tls_accept(struct exch *x, const struct conform_step *st, struct conn *k, const char *peer)
{
    char why[256], want[160];
    snprintf(want, sizeof want, "a TLS handshake from the device%s",
             x->t->client_ca ? " with a certificate the --client-ca CA issued" : "");
    k->ssl = SSL_new((SSL_CTX *)x->t->tls);
    if (k->ssl == NULL || SSL_set_fd(k->ssl, k->fd) != 1)
        return exch_worsen(x, VERDICT_ERROR, st, want, "TLS: %s", conform_ssl_why(why, sizeof why));
    struct timeval tv = {.tv_sec = CONNECT_MS / 1000};
    setsockopt(k->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    errno = 0;
    if (SSL_accept(k->ssl) != 1) {
        long vr = SSL_get_verify_result(k->ssl);
        if (x->t->client_ca && SSL_get0_peer_certificate(k->ssl) == NULL && vr == X509_V_OK)
            snprintf(why, sizeof why, "the device sent no certificate");
        else if (vr != X509_V_OK)
            snprintf(why, sizeof why, "the device's certificate: %s", X509_verify_cert_error_string(vr));
        else
            conform_ssl_why(why, sizeof why);
        exch_log(x, "+%.3f c%d TLS handshake with %s refused: %s", exch_since(x), (int)(k - x->conns), peer, why);
        return exch_worsen(x, VERDICT_FAIL, st, want, "TLS handshake refused: %s", why);
    }
    tv.tv_sec = 0;
    setsockopt(k->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    fcntl(k->fd, F_SETFL, fcntl(k->fd, F_GETFL) | O_NONBLOCK);
    X509 *pc = SSL_get0_peer_certificate(k->ssl);
    char subject[160] = "none";
    if (pc)
        X509_NAME_oneline(X509_get_subject_name(pc), subject, sizeof subject);
    exch_log(x, "+%.3f c%d TLS %s, %s, device certificate %s", exch_since(x), (int)(k - x->conns),
             SSL_get_version(k->ssl), SSL_get_cipher_name(k->ssl), subject);
    return true;
}

/* --terminal: the connection is the next device that connects to the runner. */
static bool conn_accept(struct exch *x, const struct conform_step *st, int i)
{
    struct conn *k = &x->conns[i];
    char peer[64], where[128];
    snprintf(where, sizeof where, "a device connecting to %s:%u within %ds", x->t->host, x->t->port,
             CONFORM_ACCEPT_MS / 1000);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t deadline = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u + CONFORM_ACCEPT_MS;
    int fd = conform_terminal_accept(x->t, deadline, peer, sizeof peer);
    if (fd < 0) {
        if (errno == EINTR)
            return exch_worsen(x, VERDICT_ERROR, st, "the case run to its end", "interrupted (SIGINT or SIGTERM)");
        if (errno == ETIMEDOUT)
            return exch_worsen(x, VERDICT_FAIL, st, where, "no device connected");
        return exch_worsen(x, VERDICT_ERROR, st, where, "accept: %s", strerror(errno));
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    struct timeval tv = {.tv_sec = CONNECT_MS / 1000};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    k->fd = fd;
    k->n = 0;
    if (!k->used)
        k->serial = 1;
    k->used = true;
    exch_log(x, "+%.3f c%d device connected from %s", exch_since(x), i, peer);
    if (x->t->tls && !tls_accept(x, st, k, peer)) {
        exch_conn_close(k);
        return false;
    }
    return true;
}

bool exch_conn_open(struct exch *x, const struct conform_step *st, int i)
{
    struct conn *k = &x->conns[i];
    if (k->fd >= 0)
        return true;
    if (x->t->terminal)
        return conn_accept(x, st, i);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(x->t->port)};
    char where[96];
    snprintf(where, sizeof where, "a connection to %s:%u", x->t->host, x->t->port);
    if (inet_pton(AF_INET, x->t->host, &a.sin_addr) != 1)
        return exch_worsen(x, VERDICT_ERROR, st, where, "'%s' is not an IPv4 address", x->t->host);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return exch_worsen(x, VERDICT_ERROR, st, where, "socket: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv = {.tv_sec = CONNECT_MS / 1000};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        int e = errno;
        close(fd);
        /* the platform the runner started, or a target that is not there: not a rule broken */
        return exch_worsen(x, VERDICT_ERROR, st, where, "connect: %s", strerror(e));
    }
    k->fd = fd;
    k->n = 0;
    if (!k->used)
        k->serial = 1;
    k->used = true;
    exch_log(x, "+%.3f c%d connected to %s:%u", exch_since(x), i, x->t->host, x->t->port);
    k->refused = false;
    if (x->t->tls && !tls_open(x, st, k, where)) {
        exch_conn_close(k);
        return k->refused; /* a refused handshake is an outcome the next step judges */
    }
    return true;
}

void exch_log_frame(struct exch *x, int conn, const char *dir, const uint8_t *f, size_t n, const cJSON *j,
                    const char *note)
{
    char hex[2 * JT808_MAX_FRAME + 1];
    hex_encode(f, n, hex, sizeof hex);
    char *js = j ? cJSON_PrintUnformatted(j) : NULL;
    exch_log(x, "+%.3f c%d %s %s %s%s", exch_since(x), conn, dir, hex, js ? js : "", note ? note : "");
    free(js);
}

bool exch_send_bytes(struct exch *x, const struct conform_step *st, const uint8_t *f, size_t n)
{
    struct conn *k = &x->conns[st->conn];
    size_t off = 0;
    while (k->ssl && off < n) {
        int w = SSL_write(k->ssl, f + off, (int)(n - off));
        if (w > 0) {
            off += (size_t)w;
            continue;
        }
        int e = SSL_get_error(k->ssl, w);
        struct pollfd p = {.fd = k->fd, .events = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT};
        if ((e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) && poll(&p, 1, CONNECT_MS) > 0)
            continue;
        char why[256];
        return exch_worsen(x, VERDICT_FAIL, st, "the connection open to send on", "TLS write: %s (the target closed it)",
                      conform_ssl_why(why, sizeof why));
    }
    while (!k->ssl && off < n) {
        ssize_t w = send(k->fd, f + off, n - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return exch_worsen(x, VERDICT_FAIL, st, "the connection open to send on", "send: %s (the target closed it)",
                          w < 0 ? strerror(errno) : "nothing written");
        off += (size_t)w;
    }
    return true;
}

/* The next frame of the connection into f, waiting until deadline (monotonic us):
 * 1 a frame, 0 the deadline passed, -1 the peer closed, -2 failed (verdict set). */
int exch_next_frame(struct exch *x, const struct conform_step *st, int ci, uint64_t deadline, uint8_t *f,
                    size_t *flen)
{
    struct conn *k = &x->conns[ci];
    for (;;) {
        size_t start = 0, len = 0, skipped = 0;
        size_t used = jt808_frame_find(k->rx, k->n, &start, &len, &skipped);
        if (used > 0) {
            if (start > 0) {
                char hex[64];
                hex_encode(k->rx, start < 24 ? start : 24, hex, sizeof hex);
                exch_log(x, "+%.3f c%d < garbage %zu bytes before a frame: %s", exch_since(x), ci, start, hex);
                exch_worsen(x, VERDICT_FAIL, st, "frames between 0x7E flags (JT/T 808 4.4)",
                       "%zu bytes outside any frame", start);
                return -2;
            }
            memcpy(f, k->rx + start, len);
            *flen = len;
            memmove(k->rx, k->rx + used, k->n - used);
            k->n -= used;
            return 1;
        }
        if (k->n == sizeof k->rx) {
            exch_worsen(x, VERDICT_FAIL, st, "a frame of at most 2200 bytes (JT/T 808 4.4)",
                   "%zu bytes without a complete frame", k->n);
            return -2;
        }
        uint64_t now = now_us();
        if (now >= deadline)
            return 0;
        if (!(k->ssl && SSL_pending(k->ssl) > 0)) {
            struct pollfd p = {.fd = k->fd, .events = POLLIN};
            int ms = (int)((deadline - now + 999) / 1000);
            int r = poll(&p, 1, ms);
            if (conform_interrupted) {
                exch_worsen(x, VERDICT_ERROR, st, "the case run to its end", "interrupted (SIGINT or SIGTERM)");
                return -2;
            }
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0) {
                exch_worsen(x, VERDICT_ERROR, st, "poll", "%s", strerror(errno));
                return -2;
            }
            if (r == 0)
                continue;
        }
        ssize_t got;
        if (k->ssl) {
            errno = 0;
            int g = SSL_read(k->ssl, k->rx + k->n, (int)(sizeof k->rx - k->n));
            int e = g > 0 ? SSL_ERROR_NONE : SSL_get_error(k->ssl, g);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                continue; /* a record not whole yet, or a post-handshake message */
            if (e == SSL_ERROR_SSL) {
                char why[256];
                exch_log(x, "+%.3f c%d TLS: %s", exch_since(x), ci, conform_ssl_why(why, sizeof why));
            }
            ERR_clear_error();
            /* a close_notify, an alert or the socket closed: the target ended it */
            got = g > 0 ? g : e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SSL ? 0 : -1;
            if (got < 0 && errno == 0)
                got = 0;
        } else {
            got = recv(k->fd, k->rx + k->n, sizeof k->rx - k->n, 0);
        }
        if (got < 0 && errno == EINTR)
            continue;
        if (got == 0 || (got < 0 && (errno == ECONNRESET || errno == EPIPE))) {
            if (k->n > 0) {
                char hex[64];
                hex_encode(k->rx, k->n < 24 ? k->n : 24, hex, sizeof hex);
                exch_log(x, "+%.3f c%d < %zu bytes of an incomplete frame: %s", exch_since(x), ci, k->n, hex);
            }
            exch_log(x, "+%.3f c%d closed by the target%s", exch_since(x), ci, got < 0 ? " (reset)" : "");
            exch_conn_close(k);
            return -1;
        }
        if (got < 0) {
            exch_worsen(x, VERDICT_ERROR, st, "recv", "%s", strerror(errno));
            return -2;
        }
        k->n += (size_t)got;
    }
}
