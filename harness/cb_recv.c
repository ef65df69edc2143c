/* The callback receiver (cb_recv.h): libmicrohttpd on a thread of its own, every
 * request recorded and answered by the plan.  A delayed answer suspends its
 * connection and a timer thread of the receiver resumes it when due, so a slow
 * answer holds up no other request. */
#include "harness/cb_recv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "sim/core/units.h"

struct plan_entry {
    int status;                  /* 100-599, 0 "drop" */
    uint32_t delay_ms;
    uint32_t count;              /* requests it answers before the next entry's turn */
};

struct plan {
    int n;
    struct plan_entry e[CB_RECV_PLAN_MAX];
};

/* One request being read and answered (MHD's con_cls). */
struct rq {
    char *body;
    size_t len;                  /* bytes kept in body */
    size_t total;                /* bytes sent */
    bool too_big;
    bool decided;                /* recorded, its answer chosen */
    int status;
    uint32_t delay_ms;
    size_t idx;                  /* its item, or SIZE_MAX when not kept */
    uint64_t due_ms;             /* a delayed answer: when (CLOCK_MONOTONIC) */
    struct MHD_Connection *conn;
    struct rq *next_pending;
};

struct cb_recv {
    struct MHD_Daemon *d;
    uint16_t port;
    char url[96];
    FILE *log;
    void (*on_line)(void *arg, const char *line);
    void *arg;

    pthread_mutex_t mu;          /* everything below */
    pthread_cond_t arrived;      /* a request recorded */
    pthread_cond_t timer_cv;     /* the pending list changed, or quit */
    struct plan plan;
    int pi;                      /* the plan's entry in turn */
    uint32_t pused;              /* requests it has answered */
    struct cb_recv_item *items;
    size_t n_items, cap_items;
    uint64_t seq;                /* requests recorded */
    uint64_t dropped;
    uint64_t by_status[600];
    struct rq *pending;          /* suspended, waiting for their answer */
    bool quit, stopping;
    pthread_t timer;
    bool timer_started;
};

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- the plan ---------------------------------------------------------------------- */

static bool digits(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static int entry_fail(char *err, size_t cap, int k, const char *e, size_t n, const char *what)
{
    char text[64], q[64];
    snprintf(text, sizeof text, "%.*s", (int)(n < 60 ? n : 60), e);
    units_quote(text, q, sizeof q, 40);
    snprintf(err, cap, "plan entry %d '%s': %s", k, q, what);
    return -1;
}

/* One entry, e[0..n): STATUS|drop [@DELAY] [xCOUNT]. */
static int parse_entry(const char *e, size_t n, int k, struct plan_entry *out, char *err, size_t cap)
{
    char buf[64], why[160];
    out->count = 1;
    out->delay_ms = 0;
    if (n == 0)
        return entry_fail(err, cap, k, e, n, "empty (expected STATUS[@DELAY][xCOUNT], like 503x3 or 200@20s)");
    if (n >= sizeof buf)
        return entry_fail(err, cap, k, e, n, "too long");
    const char *at = memchr(e, '@', n);
    const char *x = NULL;
    for (const char *p = e + n; p > (at ? at : e); p--)
        if (p[-1] == 'x') {
            x = p - 1;
            break;
        }
    const char *st_end = at ? at : x ? x : e + n;
    size_t sl = (size_t)(st_end - e);
    if (sl == 4 && memcmp(e, "drop", 4) == 0) {
        out->status = 0;
    } else if (sl == 3 && digits(e, 3) && e[0] >= '1' && e[0] <= '5') {
        out->status = (e[0] - '0') * 100 + (e[1] - '0') * 10 + (e[2] - '0');
    } else {
        return entry_fail(err, cap, k, e, n, "not a status (100-599, or drop)");
    }
    if (at) {
        const char *de = x ? x : e + n;
        uint64_t ms = 0;
        snprintf(buf, sizeof buf, "%.*s", (int)(de - at - 1), at + 1);
        if (buf[0] == '\0')
            return entry_fail(err, cap, k, e, n, "@ without a delay (like @20s)");
        if (units_duration_range_ms(buf, 0, (uint64_t)CB_RECV_DELAY_MAX_MS * 1000u, &ms, why, sizeof why) != 0) {
            char what[200];
            snprintf(what, sizeof what, "the delay: %s", why);
            return entry_fail(err, cap, k, e, n, what);
        }
        out->delay_ms = (uint32_t)ms;
    }
    if (x) {
        size_t cl = (size_t)(e + n - x - 1);
        unsigned long c = 0;
        if (digits(x + 1, cl) && cl <= 7) {
            snprintf(buf, sizeof buf, "%.*s", (int)cl, x + 1);
            c = strtoul(buf, NULL, 10);
        }
        if (c < 1 || c > CB_RECV_COUNT_MAX) {
            char what[80];
            snprintf(what, sizeof what, "the count after x: expected 1-%d", CB_RECV_COUNT_MAX);
            return entry_fail(err, cap, k, e, n, what);
        }
        out->count = (uint32_t)c;
    }
    return 0;
}

static int plan_parse(const char *s, struct plan *p, char *err, size_t cap)
{
    memset(p, 0, sizeof *p);
    if (s == NULL || s[0] == '\0') {
        p->n = 1;
        p->e[0].status = 200;
        p->e[0].count = 1;
        return 0;
    }
    int k = 0;
    const char *q = s;
    for (;;) {
        const char *end = strchr(q, ',');
        size_t n = end ? (size_t)(end - q) : strlen(q);
        const char *b = q;
        while (n && (*b == ' ' || *b == '\t'))
            b++, n--;
        while (n && (b[n - 1] == ' ' || b[n - 1] == '\t'))
            n--;
        if (k >= CB_RECV_PLAN_MAX) {
            snprintf(err, cap, "plan: more than %d entries", CB_RECV_PLAN_MAX);
            return -1;
        }
        if (parse_entry(b, n, k + 1, &p->e[k], err, cap) != 0)
            return -1;
        k++;
        if (!end)
            break;
        q = end + 1;
    }
    p->n = k;
    return 0;
}

int cb_recv_plan_check(const char *plan, char *err, size_t errcap)
{
    struct plan p;
    return plan_parse(plan, &p, err, errcap);
}

/* The answer of the next request; the cursor moves on (the last entry stays). */
static struct plan_entry plan_next(struct cb_recv *r)
{
    struct plan_entry e = r->plan.e[r->pi];
    if (r->pi < r->plan.n - 1 && ++r->pused >= e.count) {
        r->pi++;
        r->pused = 0;
    }
    return e;
}

/* --- recording --------------------------------------------------------------------- */

static char *line_of(const struct cb_recv_item *it, bool too_big)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddNumberToObject(o, "seq", (double)it->seq);
    cJSON_AddNumberToObject(o, "t_ms", (double)it->at_ms);
    cJSON_AddStringToObject(o, "method", it->method);
    cJSON_AddStringToObject(o, "path", it->path);
    if (it->content_type[0])
        cJSON_AddStringToObject(o, "content_type", it->content_type);
    cJSON_AddNumberToObject(o, "bytes", (double)it->raw_len);
    if (it->body)
        cJSON_AddItemToObject(o, "body", cJSON_Duplicate(it->body, 1));
    else
        cJSON_AddStringToObject(o, "body_text", it->raw ? it->raw : "");
    cJSON_AddNumberToObject(o, "status", it->planned);
    if (it->delay_ms)
        cJSON_AddNumberToObject(o, "delay_ms", it->delay_ms);
    if (it->planned == 0)
        cJSON_AddTrueToObject(o, "drop");
    if (too_big)
        cJSON_AddTrueToObject(o, "too_big");
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

struct qbuf {
    char *p;
    size_t n;
};

static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    struct qbuf *q = cls;
    (void)kind;
    size_t room = q->n;
    size_t used = strlen(q->p);
    if (used + 1 < room)
        snprintf(q->p + used, room - used, "%c%s%s%s", strchr(q->p, '?') ? '&' : '?', key, value ? "=" : "",
                 value ? value : "");
    return MHD_YES;
}

/* The request recorded, its answer chosen and logged; under r->mu. */
static void record(struct cb_recv *r, struct MHD_Connection *c, const char *url, const char *method, struct rq *rq)
{
    struct cb_recv_item it;
    memset(&it, 0, sizeof it);
    it.seq = ++r->seq;
    it.at_ms = wall_ms();
    snprintf(it.method, sizeof it.method, "%s", method);
    snprintf(it.path, sizeof it.path, "%s", url);
    struct qbuf q = {it.path, sizeof it.path};
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_arg, &q);
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    snprintf(it.content_type, sizeof it.content_type, "%s", ct ? ct : "");
    it.raw_len = rq->too_big ? rq->total : rq->len;
    it.raw = rq->too_big ? strdup("") : rq->body ? rq->body : strdup("");
    if (!rq->too_big)
        rq->body = NULL;        /* the item owns it now */
    if (!rq->too_big && it.raw && it.raw_len)
        it.body = cJSON_ParseWithLength(it.raw, it.raw_len);
    if (rq->too_big) {
        rq->status = MHD_HTTP_CONTENT_TOO_LARGE;
        rq->delay_ms = 0;
    } else {
        struct plan_entry e = plan_next(r);
        rq->status = e.status;
        rq->delay_ms = e.delay_ms;
    }
    it.planned = rq->status;
    it.delay_ms = rq->delay_ms;
    if (rq->status == 0)
        r->dropped++;
    char *line = line_of(&it, rq->too_big);
    if (line) {
        if (r->log) {
            fprintf(r->log, "%s\n", line);
            fflush(r->log);
        }
        if (r->on_line)
            r->on_line(r->arg, line);
        free(line);
    }
    rq->idx = SIZE_MAX;
    if (r->n_items < CB_RECV_KEEP_MAX) {
        if (r->n_items == r->cap_items) {
            size_t nc = r->cap_items ? r->cap_items * 2 : 16;
            struct cb_recv_item *ni = realloc(r->items, nc * sizeof *ni);
            if (ni) {
                r->items = ni;
                r->cap_items = nc;
            }
        }
        if (r->n_items < r->cap_items) {
            rq->idx = r->n_items;
            r->items[r->n_items++] = it;
            it.body = NULL;
            it.raw = NULL;
        }
    }
    cJSON_Delete(it.body);
    free(it.raw);
    pthread_cond_broadcast(&r->arrived);
}

/* --- the server -------------------------------------------------------------------- */

static enum MHD_Result answer(struct cb_recv *r, struct MHD_Connection *c, struct rq *rq)
{
    static const char too_big[] = "{\"error\":\"the body is over the receiver's limit\"}";
    const char *text = rq->status == MHD_HTTP_CONTENT_TOO_LARGE ? too_big : "";
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    if (text[0])
        MHD_add_response_header(resp, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)rq->status, resp);
    MHD_destroy_response(resp);
    if (ret == MHD_YES) {
        pthread_mutex_lock(&r->mu);
        r->by_status[rq->status]++;
        if (rq->idx != SIZE_MAX)
            r->items[rq->idx].answered = rq->status;
        pthread_mutex_unlock(&r->mu);
    }
    return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *data, size_t *data_size, void **con_cls)
{
    struct cb_recv *r = cls;
    struct rq *rq = *con_cls;
    (void)version;
    if (!rq) {
        rq = calloc(1, sizeof *rq);
        if (!rq)
            return MHD_NO;
        rq->idx = SIZE_MAX;
        *con_cls = rq;
        return MHD_YES;
    }
    if (*data_size) {
        rq->total += *data_size;
        if (rq->too_big || rq->len + *data_size > CB_RECV_BODY_MAX) {
            rq->too_big = true;
            free(rq->body);
            rq->body = NULL;
            rq->len = 0;
        } else {
            char *nb = realloc(rq->body, rq->len + *data_size + 1);
            if (!nb)
                return MHD_NO;
            memcpy(nb + rq->len, data, *data_size);
            rq->body = nb;
            rq->len += *data_size;
            nb[rq->len] = '\0';
        }
        *data_size = 0;
        return MHD_YES;
    }
    if (!rq->decided) {
        rq->decided = true;
        pthread_mutex_lock(&r->mu);
        record(r, c, url, method, rq);
        if (rq->status != 0 && rq->delay_ms > 0 && !r->stopping) {
            rq->due_ms = mono_ms() + rq->delay_ms;
            rq->conn = c;
            MHD_suspend_connection(c);
            rq->next_pending = r->pending;
            r->pending = rq;
            pthread_cond_signal(&r->timer_cv);
            pthread_mutex_unlock(&r->mu);
            return MHD_YES;
        }
        pthread_mutex_unlock(&r->mu);
        if (rq->status == 0)
            return MHD_NO;      /* drop: the connection closed without an answer */
        return answer(r, c, rq);
    }
    /* resumed: its delay is over, or the receiver is stopping */
    pthread_mutex_lock(&r->mu);
    bool stopping = r->stopping;
    pthread_mutex_unlock(&r->mu);
    if (stopping)
        return MHD_NO;
    return answer(r, c, rq);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)c, (void)toe;
    struct rq *rq = *con_cls;
    if (rq) {
        free(rq->body);
        free(rq);
        *con_cls = NULL;
    }
}

/* Resumes each suspended connection when its answer is due. */
static void *timer_main(void *arg)
{
    struct cb_recv *r = arg;
    pthread_mutex_lock(&r->mu);
    while (!r->quit) {
        struct rq **first = NULL;
        for (struct rq **pp = &r->pending; *pp; pp = &(*pp)->next_pending)
            if (!first || (*pp)->due_ms < (*first)->due_ms)
                first = pp;
        if (!first) {
            pthread_cond_wait(&r->timer_cv, &r->mu);
            continue;
        }
        uint64_t now = mono_ms();
        if ((*first)->due_ms <= now) {
            struct rq *rq = *first;
            *first = rq->next_pending;
            struct MHD_Connection *c = rq->conn;
            pthread_mutex_unlock(&r->mu);
            MHD_resume_connection(c);
            pthread_mutex_lock(&r->mu);
            continue;
        }
        uint64_t due = (*first)->due_ms;
        struct timespec ts = {(time_t)(due / 1000), (long)(due % 1000) * 1000000L};
        pthread_cond_timedwait(&r->timer_cv, &r->mu, &ts);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

/* The PEM key and certificate read, so that a bad one is named before MHD refuses it. */
static int tls_check(const char *cert, const char *key, char *err, size_t cap)
{
    if (!cert != !key) {
        snprintf(err, cap, "TLS: a certificate and its key, both or neither");
        return -1;
    }
    if (!cert)
        return 0;
    BIO *b = BIO_new_mem_buf(cert, -1);
    X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    if (!x) {
        snprintf(err, cap, "TLS certificate: not a PEM certificate");
        return -1;
    }
    X509_free(x);
    b = BIO_new_mem_buf(key, -1);
    EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    if (!k) {
        snprintf(err, cap, "TLS key: not a PEM private key (without a passphrase)");
        return -1;
    }
    EVP_PKEY_free(k);
    return 0;
}

struct cb_recv *cb_recv_start(const struct cb_recv_opts *o, char *err, size_t errcap)
{
    struct plan plan;
    if (plan_parse(o->plan, &plan, err, errcap) != 0)
        return NULL;
    if (tls_check(o->tls_cert_pem, o->tls_key_pem, err, errcap) != 0)
        return NULL;
    const char *bind = o->bind && o->bind[0] ? o->bind : "127.0.0.1";
    struct sockaddr_in sa4;
    struct sockaddr_in6 sa6;
    struct sockaddr *sa;
    bool v6 = false;
    memset(&sa4, 0, sizeof sa4);
    memset(&sa6, 0, sizeof sa6);
    if (inet_pton(AF_INET, bind, &sa4.sin_addr) == 1) {
        sa4.sin_family = AF_INET;
        sa4.sin_port = htons(o->port);
        sa = (struct sockaddr *)&sa4;
    } else if (inet_pton(AF_INET6, bind, &sa6.sin6_addr) == 1) {
        sa6.sin6_family = AF_INET6;
        sa6.sin6_port = htons(o->port);
        sa = (struct sockaddr *)&sa6;
        v6 = true;
    } else {
        char q[64];
        units_quote(bind, q, sizeof q, 40);
        snprintf(err, errcap, "'%s': not an IPv4 or IPv6 address", q);
        return NULL;
    }
    struct cb_recv *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    r->plan = plan;
    r->on_line = o->on_line;
    r->arg = o->arg;
    pthread_mutex_init(&r->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->arrived, &ca);
    pthread_cond_init(&r->timer_cv, &ca);
    pthread_condattr_destroy(&ca);
    if (o->log_path && !(r->log = fopen(o->log_path, "a"))) {
        snprintf(err, errcap, "%s: %s", o->log_path, strerror(errno));
        cb_recv_stop(r);
        return NULL;
    }
    if (pthread_create(&r->timer, NULL, timer_main, r) != 0) {
        snprintf(err, errcap, "cannot start the timer thread");
        cb_recv_stop(r);
        return NULL;
    }
    r->timer_started = true;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_ALLOW_SUSPEND_RESUME | (v6 ? MHD_USE_IPv6 : 0) |
                     (o->tls_cert_pem ? MHD_USE_TLS : 0);
    if (o->tls_cert_pem)
        r->d = MHD_start_daemon(flags, o->port, NULL, NULL, handle, r, MHD_OPTION_SOCK_ADDR, sa,
                                MHD_OPTION_NOTIFY_COMPLETED, completed, r, MHD_OPTION_CONNECTION_TIMEOUT, 120u,
                                MHD_OPTION_HTTPS_MEM_CERT, o->tls_cert_pem, MHD_OPTION_HTTPS_MEM_KEY, o->tls_key_pem,
                                MHD_OPTION_END);
    else
        r->d = MHD_start_daemon(flags, o->port, NULL, NULL, handle, r, MHD_OPTION_SOCK_ADDR, sa,
                                MHD_OPTION_NOTIFY_COMPLETED, completed, r, MHD_OPTION_CONNECTION_TIMEOUT, 120u,
                                MHD_OPTION_END);
    if (!r->d) {
        snprintf(err, errcap, "cannot listen on %s%s%s:%u (in use, or not an address of this host%s)", v6 ? "[" : "",
                 bind, v6 ? "]" : "", o->port, o->tls_cert_pem ? ", or the TLS key refused" : "");
        cb_recv_stop(r);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(r->d, MHD_DAEMON_INFO_BIND_PORT);
    r->port = info ? info->port : o->port;
    snprintf(r->url, sizeof r->url, "%s://%s%s%s:%u", o->tls_cert_pem ? "https" : "http", v6 ? "[" : "", bind,
             v6 ? "]" : "", r->port);
    return r;
}

uint16_t cb_recv_port(const struct cb_recv *r) { return r->port; }

const char *cb_recv_url(const struct cb_recv *r) { return r->url; }

int cb_recv_set_plan(struct cb_recv *r, const char *plan, char *err, size_t errcap)
{
    struct plan p;
    if (plan_parse(plan, &p, err, errcap) != 0)
        return -1;
    pthread_mutex_lock(&r->mu);
    r->plan = p;
    r->pi = 0;
    r->pused = 0;
    pthread_mutex_unlock(&r->mu);
    return 0;
}

size_t cb_recv_count(struct cb_recv *r)
{
    pthread_mutex_lock(&r->mu);
    size_t n = (size_t)r->seq;
    pthread_mutex_unlock(&r->mu);
    return n;
}

bool cb_recv_get(struct cb_recv *r, size_t i, struct cb_recv_item *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&r->mu);
    bool ok = i < r->n_items;
    if (ok) {
        const struct cb_recv_item *it = &r->items[i];
        *out = *it;
        out->body = it->body ? cJSON_Duplicate(it->body, 1) : NULL;
        out->raw = malloc(it->raw ? strlen(it->raw) + 1 : 1);
        if (out->raw)
            strcpy(out->raw, it->raw ? it->raw : "");
    }
    pthread_mutex_unlock(&r->mu);
    return ok;
}

void cb_recv_item_free(struct cb_recv_item *it)
{
    cJSON_Delete(it->body);
    free(it->raw);
    it->body = NULL;
    it->raw = NULL;
}

size_t cb_recv_wait(struct cb_recv *r, size_t have, int timeout_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t ns = (uint64_t)ts.tv_nsec + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000u;
    ts.tv_sec += (time_t)(ns / 1000000000u);
    ts.tv_nsec = (long)(ns % 1000000000u);
    pthread_mutex_lock(&r->mu);
    while (r->seq <= have && timeout_ms > 0)
        if (pthread_cond_timedwait(&r->arrived, &r->mu, &ts) == ETIMEDOUT)
            break;
    size_t n = (size_t)r->seq;
    pthread_mutex_unlock(&r->mu);
    return n;
}

void cb_recv_summary(struct cb_recv *r, char *out, size_t cap)
{
    pthread_mutex_lock(&r->mu);
    uint64_t answered = 0;
    size_t o = 0;
    int w = snprintf(out, cap, "%llu request%s", (unsigned long long)r->seq, r->seq == 1 ? "" : "s");
    o = w > 0 ? (size_t)w : 0;
    const char *sep = ": ";
    for (int s = 100; s < 600 && o < cap; s++) {
        if (!r->by_status[s])
            continue;
        answered += r->by_status[s];
        w = snprintf(out + o, cap - o, "%s%d x%llu", sep, s, (unsigned long long)r->by_status[s]);
        o += w > 0 ? (size_t)w : 0;
        sep = ", ";
    }
    if (r->dropped && o < cap) {
        w = snprintf(out + o, cap - o, "%sdropped x%llu", sep, (unsigned long long)r->dropped);
        o += w > 0 ? (size_t)w : 0;
        sep = ", ";
    }
    uint64_t left = r->seq - answered - r->dropped;
    if (left && o < cap)
        snprintf(out + o, cap - o, "%sunanswered x%llu", sep, (unsigned long long)left);
    pthread_mutex_unlock(&r->mu);
}

void cb_recv_stop(struct cb_recv *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->mu);
    r->quit = true;
    r->stopping = true;
    pthread_cond_broadcast(&r->timer_cv);
    pthread_mutex_unlock(&r->mu);
    if (r->timer_started)
        pthread_join(r->timer, NULL);
    /* the delayed answers still waiting: resumed to be closed */
    pthread_mutex_lock(&r->mu);
    struct rq *p = r->pending;
    r->pending = NULL;
    pthread_mutex_unlock(&r->mu);
    while (p) {
        struct rq *next = p->next_pending;
        MHD_resume_connection(p->conn);
        p = next;
    }
    if (r->d)
        MHD_stop_daemon(r->d);
    if (r->log)
        fclose(r->log);
    for (size_t i = 0; i < r->n_items; i++)
        cb_recv_item_free(&r->items[i]);
    free(r->items);
    pthread_cond_destroy(&r->arrived);
    pthread_cond_destroy(&r->timer_cv);
    pthread_mutex_destroy(&r->mu);
    free(r);
}
