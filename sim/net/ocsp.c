/* OCSP client on libev with a cache (ocsp.h). */
#include "sim/net/ocsp.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sim/net/transport.h"

#define OCSP_TIMEOUT_S 5.0
#define OCSP_MAX_RESPONSE 65536
#define OCSP_BUCKETS 4096

struct waiter {
    ocsp_done_fn fn;
    void *arg;
    uint32_t tag;
};

/* One certificate's answer (or the query for it). */
struct entry {
    struct entry *next;
    uint8_t *key;               /* the DER of its OCSP CERTID */
    int key_len;
    enum ocsp_status st;        /* OCSP_ST_PENDING while asked */
    time_t expires;
    struct waiter *w;
    int nw, capw;
};

struct query {
    struct ocsp_client *o;
    struct entry *e;            /* NULL: a fetch, answered through fetch */
    ocsp_fetch_fn fetch;
    void *fetch_arg;
    OCSP_CERTID *id;
    int fd;
    ev_io io;
    ev_timer timer;
    uint8_t *out;
    size_t out_len, out_off;
    uint8_t *in;
    size_t in_len;
};

struct ocsp_client {
    struct ev_loop *loop;
    struct sockaddr_storage addr;
    char host[128], path[128];
    X509_STORE *store;
    struct entry *buckets[OCSP_BUCKETS];
    uint64_t queries, hits;
};

uint32_t ocsp_ttl_clamp(int64_t ttl_s)
{
    if (ttl_s < 0 || ttl_s > OCSP_TTL_MAX_S)
        return OCSP_TTL_MAX_S;
    if (ttl_s < OCSP_TTL_MIN_S)
        return OCSP_TTL_MIN_S;
    return (uint32_t)ttl_s;
}

int ocsp_http_body(const uint8_t *buf, size_t n, int eof, const uint8_t **body, size_t *blen, char *err,
                   size_t errcap)
{
    const uint8_t *end = NULL;
    for (size_t i = 0; i + 3 < n; i++)
        if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n') {
            end = buf + i + 4;
            break;
        }
    if (!end) {
        if (!eof)
            return 0;
        snprintf(err, errcap, "OCSP responder: the answer ended inside its headers (%zu bytes)", n);
        return -1;
    }
    if (n < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ') {
        snprintf(err, errcap, "OCSP responder: not an HTTP response");
        return -1;
    }
    if (memcmp(buf + 9, "200", 3) != 0) {
        snprintf(err, errcap, "OCSP responder: HTTP status %.3s", (const char *)buf + 9);
        return -1;
    }
    long long clen = -1;
    for (const uint8_t *p = buf; p < end;) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            break;
        static const char cl[] = "content-length:";
        size_t ll = (size_t)(nl - p);
        if (ll > sizeof cl - 1 && strncasecmp((const char *)p, cl, sizeof cl - 1) == 0) {
            clen = 0;
            const uint8_t *d = p + sizeof cl - 1;
            while (d < nl && *d == ' ')
                d++;
            int digits = 0;
            for (; d < nl && *d >= '0' && *d <= '9' && digits < 10; d++, digits++)
                clen = clen * 10 + (*d - '0');
            while (d < nl && (*d == ' ' || *d == '\r'))
                d++;
            if (!digits || d != nl || clen > OCSP_MAX_RESPONSE) {
                snprintf(err, errcap, "OCSP responder: bad Content-Length");
                return -1;
            }
        }
        p = nl + 1;
    }
    size_t have = n - (size_t)(end - buf);
    if (clen >= 0) {
        if (have < (size_t)clen) {
            if (!eof)
                return 0;
            snprintf(err, errcap, "OCSP responder: %zu of %lld body bytes", have, clen);
            return -1;
        }
        have = (size_t)clen;
    } else if (!eof) {
        return 0;
    }
    *body = end;
    *blen = have;
    return 1;
}

static unsigned hash(const uint8_t *k, int n)
{
    uint32_t h = 2166136261u;
    for (int i = 0; i < n; i++)
        h = (h ^ k[i]) * 16777619u;
    return h % OCSP_BUCKETS;
}

struct ocsp_client *ocsp_client_new(struct ev_loop *loop, const char *url, const char *ca_file, char *err,
                                    size_t errcap)
{
    if (strncmp(url, "http://", 7) != 0) {
        snprintf(err, errcap, "OCSP responder '%s': expected http://host:port/path", url);
        return NULL;
    }
    struct ocsp_client *o = calloc(1, sizeof *o);
    if (!o) {
        snprintf(err, errcap, "OCSP: out of memory");
        return NULL;
    }
    o->loop = loop;
    const char *hp = url + 7, *slash = strchr(hp, '/');
    size_t hl = slash ? (size_t)(slash - hp) : strlen(hp);
    snprintf(o->path, sizeof o->path, "%s", slash ? slash : "/");
    if (hl >= sizeof o->host) {
        snprintf(err, errcap, "OCSP responder '%s': host too long", url);
        goto bad;
    }
    memcpy(o->host, hp, hl);
    o->host[hl] = 0;
    if (transport_resolve(o->host, &o->addr, err, errcap) < 0)
        goto bad;
    o->store = X509_STORE_new();
    if (!o->store || X509_STORE_load_file(o->store, ca_file) != 1) {
        snprintf(err, errcap, "OCSP: cannot load the device root CA %s", ca_file);
        ERR_clear_error();
        goto bad;
    }
    return o;
bad:
    X509_STORE_free(o->store);
    free(o);
    return NULL;
}

void ocsp_client_free(struct ocsp_client *o)
{
    if (!o)
        return;
    /* queries in flight hold their entries: their sockets close with the process */
    for (int b = 0; b < OCSP_BUCKETS; b++)
        for (struct entry *e = o->buckets[b], *n; e; e = n) {
            n = e->next;
            if (e->st != OCSP_ST_PENDING) {
                free(e->key);
                free(e->w);
                free(e);
            }
        }
    X509_STORE_free(o->store);
    free(o);
}

uint64_t ocsp_queries(const struct ocsp_client *o) { return o ? o->queries : 0; }
uint64_t ocsp_cache_hits(const struct ocsp_client *o) { return o ? o->hits : 0; }

/* The answer for e to every waiter; a failure is not kept. */
static void settle(struct query *q, enum ocsp_status st, time_t expires, const uint8_t *der, size_t dlen)
{
    struct entry *e = q->e;
    ev_io_stop(q->o->loop, &q->io);
    ev_timer_stop(q->o->loop, &q->timer);
    if (q->fd >= 0)
        close(q->fd);
    OCSP_CERTID_free(q->id);
    free(q->out);
    if (!e) {
        time_t now = time(NULL);
        q->fetch(q->fetch_arg, st, st == OCSP_ST_ERROR ? NULL : der, st == OCSP_ST_ERROR ? 0 : dlen,
                 expires > now ? (uint32_t)(expires - now) : 0);
        free(q->in);
        free(q);
        return;
    }
    free(q->in);
    struct waiter *w = e->w;
    int nw = e->nw;
    e->w = NULL;
    e->nw = e->capw = 0;
    e->st = st == OCSP_ST_ERROR ? OCSP_ST_ERROR : st;
    e->expires = st == OCSP_ST_ERROR ? 0 : expires;
    free(q);
    for (int i = 0; i < nw; i++)
        w[i].fn(w[i].arg, w[i].tag, st);
    free(w);
}

/* The response body: verified against the device root CA, the status of q->id. */
static void answer(struct query *q, const uint8_t *body, size_t blen)
{
    const unsigned char *p = body;
    OCSP_RESPONSE *r = d2i_OCSP_RESPONSE(NULL, &p, (long)blen);
    OCSP_BASICRESP *b = r && OCSP_response_status(r) == OCSP_RESPONSE_STATUS_SUCCESSFUL ? OCSP_response_get1_basic(r)
                                                                                       : NULL;
    enum ocsp_status st = OCSP_ST_ERROR;
    time_t expires = 0;
    int reason = 0, status = -1;
    ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;
    if (b && OCSP_basic_verify(b, NULL, q->o->store, 0) == 1 &&
        OCSP_resp_find_status(b, q->id, &status, &reason, &rev, &thisupd, &nextupd) == 1 &&
        OCSP_check_validity(thisupd, nextupd, 300, -1) == 1) {
        st = status == V_OCSP_CERTSTATUS_GOOD      ? OCSP_ST_GOOD
             : status == V_OCSP_CERTSTATUS_REVOKED ? OCSP_ST_REVOKED
                                                   : OCSP_ST_UNKNOWN;
        int64_t ttl = -1;
        if (nextupd) {
            int days = 0, secs = 0;
            if (ASN1_TIME_diff(&days, &secs, NULL, nextupd) == 1)
                ttl = (int64_t)days * 86400 + secs;
        }
        expires = time(NULL) + ocsp_ttl_clamp(ttl);
    }
    ERR_clear_error();
    OCSP_BASICRESP_free(b);
    OCSP_RESPONSE_free(r);
    settle(q, st, expires, body, blen);
}

enum ocsp_status ocsp_staple_status(const uint8_t *der, size_t len, STACK_OF(X509) *chain, X509_STORE *store)
{
    if (!der || !len || len > OCSP_MAX_RESPONSE || !chain || sk_X509_num(chain) < 2 || !store)
        return OCSP_ST_ERROR;
    const unsigned char *p = der;
    OCSP_RESPONSE *r = d2i_OCSP_RESPONSE(NULL, &p, (long)len);
    OCSP_BASICRESP *b = r && p == der + len && OCSP_response_status(r) == OCSP_RESPONSE_STATUS_SUCCESSFUL
                            ? OCSP_response_get1_basic(r)
                            : NULL;
    OCSP_CERTID *id = b ? OCSP_cert_to_id(NULL, sk_X509_value(chain, 0), sk_X509_value(chain, 1)) : NULL;
    enum ocsp_status st = OCSP_ST_ERROR;
    int reason = 0, status = -1;
    ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;
    if (id && OCSP_basic_verify(b, chain, store, 0) == 1 &&
        OCSP_resp_find_status(b, id, &status, &reason, &rev, &thisupd, &nextupd) == 1 &&
        OCSP_check_validity(thisupd, nextupd, 300, -1) == 1)
        st = status == V_OCSP_CERTSTATUS_GOOD      ? OCSP_ST_GOOD
             : status == V_OCSP_CERTSTATUS_REVOKED ? OCSP_ST_REVOKED
                                                   : OCSP_ST_UNKNOWN;
    ERR_clear_error();
    OCSP_CERTID_free(id);
    OCSP_BASICRESP_free(b);
    OCSP_RESPONSE_free(r);
    return st;
}

static void query_io(struct ev_loop *loop, ev_io *io, int revents)
{
    struct query *q = io->data;
    if (q->out_off < q->out_len) {
        int e = 0;
        socklen_t l = sizeof e;
        getsockopt(q->fd, SOL_SOCKET, SO_ERROR, &e, &l);
        if (e) {
            settle(q, OCSP_ST_ERROR, 0, NULL, 0);
            return;
        }
        ssize_t w = send(q->fd, q->out + q->out_off, q->out_len - q->out_off, MSG_NOSIGNAL);
        if (w < 0 && errno != EAGAIN && errno != EINTR) {
            settle(q, OCSP_ST_ERROR, 0, NULL, 0);
            return;
        }
        if (w > 0)
            q->out_off += (size_t)w;
        if (q->out_off == q->out_len) {
            ev_io_stop(loop, io);
            ev_io_set(io, q->fd, EV_READ);
            ev_io_start(loop, io);
        }
        return;
    }
    ssize_t r = recv(q->fd, q->in + q->in_len, OCSP_MAX_RESPONSE - q->in_len, 0);
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (r > 0)
        q->in_len += (size_t)r;
    const uint8_t *body;
    size_t blen;
    char err[160];
    int eof = r <= 0 || q->in_len == OCSP_MAX_RESPONSE;
    int rc = ocsp_http_body(q->in, q->in_len, eof, &body, &blen, err, sizeof err);
    if (rc == 0)
        return;
    if (rc < 0)
        settle(q, OCSP_ST_ERROR, 0, NULL, 0);
    else
        answer(q, body, blen);
    (void)revents;
}

static void query_timeout(struct ev_loop *loop, ev_timer *t, int revents)
{
    settle(t->data, OCSP_ST_ERROR, 0, NULL, 0);
    (void)loop;
    (void)revents;
}

/* Ask the responder about e (id owned by the query from here). */
static int query_start(struct ocsp_client *o, struct entry *e, OCSP_CERTID *id, ocsp_fetch_fn fetch, void *arg)
{
    struct query *q = calloc(1, sizeof *q);
    OCSP_REQUEST *req = OCSP_REQUEST_new();
    unsigned char *der = NULL;
    int dlen = -1;
    OCSP_CERTID *mine = OCSP_CERTID_dup(id);
    if (req && mine && OCSP_request_add0_id(req, mine))
        dlen = i2d_OCSP_REQUEST(req, &der);
    else
        OCSP_CERTID_free(mine);
    OCSP_REQUEST_free(req);
    if (!q || dlen <= 0)
        goto bad;
    q->o = o;
    q->e = e;
    q->fetch = fetch;
    q->fetch_arg = arg;
    q->id = id;
    q->fd = -1;
    q->in = malloc(OCSP_MAX_RESPONSE);
    char head[400];
    int hl = snprintf(head, sizeof head,
                      "POST %s HTTP/1.0\r\nHost: %s\r\nContent-Type: application/ocsp-request\r\n"
                      "Content-Length: %d\r\n\r\n",
                      o->path, o->host, dlen);
    q->out = malloc((size_t)hl + (size_t)dlen);
    if (!q->in || !q->out)
        goto bad;
    memcpy(q->out, head, (size_t)hl);
    memcpy(q->out + hl, der, (size_t)dlen);
    q->out_len = (size_t)hl + (size_t)dlen;
    OPENSSL_free(der);
    der = NULL;
    q->fd = socket(o->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (q->fd < 0 ||
        (connect(q->fd, (struct sockaddr *)&o->addr, transport_addr_len(&o->addr)) < 0 && errno != EINPROGRESS))
        goto bad;
    ev_io_init(&q->io, query_io, q->fd, EV_WRITE);
    q->io.data = q;
    ev_io_start(o->loop, &q->io);
    ev_timer_init(&q->timer, query_timeout, OCSP_TIMEOUT_S, 0);
    q->timer.data = q;
    ev_timer_start(o->loop, &q->timer);
    o->queries++;
    return 0;
bad:
    OPENSSL_free(der);
    if (q) {
        if (q->fd >= 0)
            close(q->fd);
        free(q->in);
        free(q->out);
        free(q);
    }
    OCSP_CERTID_free(id);
    return -1;
}

int ocsp_fetch(struct ocsp_client *o, X509 *cert, X509 *issuer, ocsp_fetch_fn fn, void *arg)
{
    OCSP_CERTID *id = cert && issuer ? OCSP_cert_to_id(NULL, cert, issuer) : NULL;
    if (!id)
        return -1;
    return query_start(o, NULL, id, fn, arg);
}

enum ocsp_status ocsp_check(struct ocsp_client *o, X509 *cert, X509 *issuer, ocsp_done_fn fn, void *arg,
                            uint32_t tag)
{
    OCSP_CERTID *id = cert && issuer ? OCSP_cert_to_id(NULL, cert, issuer) : NULL;
    unsigned char *key = NULL;
    int klen = id ? i2d_OCSP_CERTID(id, &key) : -1;
    if (klen <= 0) {
        OCSP_CERTID_free(id);
        return OCSP_ST_ERROR;
    }
    unsigned b = hash(key, klen);
    struct entry *e = o->buckets[b];
    while (e && (e->key_len != klen || memcmp(e->key, key, (size_t)klen) != 0))
        e = e->next;
    if (e) {
        OPENSSL_free(key);
        if (e->st != OCSP_ST_PENDING && e->st != OCSP_ST_ERROR && time(NULL) < e->expires) {
            o->hits++;
            OCSP_CERTID_free(id);
            return e->st;
        }
    } else {
        e = calloc(1, sizeof *e);
        if (!e) {
            OPENSSL_free(key);
            OCSP_CERTID_free(id);
            return OCSP_ST_ERROR;
        }
        e->key = malloc((size_t)klen);
        if (!e->key) {
            free(e);
            OPENSSL_free(key);
            OCSP_CERTID_free(id);
            return OCSP_ST_ERROR;
        }
        memcpy(e->key, key, (size_t)klen);
        OPENSSL_free(key);
        e->key_len = klen;
        e->next = o->buckets[b];
        o->buckets[b] = e;
        e->st = OCSP_ST_ERROR;
    }
    if (e->nw == e->capw) {
        int cap = e->capw ? e->capw * 2 : 4;
        struct waiter *nw = realloc(e->w, (size_t)cap * sizeof *nw);
        if (!nw) {
            OCSP_CERTID_free(id);
            return OCSP_ST_ERROR;
        }
        e->w = nw;
        e->capw = cap;
    }
    e->w[e->nw++] = (struct waiter){fn, arg, tag};
    if (e->st == OCSP_ST_PENDING) { /* asked already: this one waits with the others */
        OCSP_CERTID_free(id);
        return OCSP_ST_PENDING;
    }
    e->st = OCSP_ST_PENDING;
    if (query_start(o, e, id, NULL, NULL) < 0) {
        e->st = OCSP_ST_ERROR;
        e->nw--;
        return OCSP_ST_ERROR;
    }
    return OCSP_ST_PENDING;
}
