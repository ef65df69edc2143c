/* The northbound HTTP API's front door on libmicrohttpd; see north.h. */
#include "sim/platform/north/north.h"
#include "sim/net/transport.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct north {
    struct MHD_Daemon *d;
    struct ev_loop *loop;
    ev_io io;                 /* MHD's epoll descriptor */
    ev_timer timer;           /* its next timeout */
    struct north_opts o;
    uint16_t port;
    struct north_counts counts;
};

/* A request being read. */
struct pending {
    char *body;
    size_t len, cap;
    bool too_large;
};

void north_error(struct north_resp *rs, int status, const char *code, const char *fmt, ...)
{
    char text[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    cJSON_Delete(rs->body);
    rs->status = status;
    rs->body = cJSON_CreateObject();
    cJSON_AddStringToObject(rs->body, "error_code", code);
    cJSON_AddStringToObject(rs->body, "error_desc", text);
}

const char *north_query(const struct north_req *rq, const char *key)
{
    return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, key);
}

bool north_match(const char *pattern, const char *path, struct north_req *rq)
{
    rq->n_params = 0;
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (*p == '{') {
            const char *pe = strchr(p, '}');
            const char *se = strchr(s, '/');
            if (!pe)
                return false;
            size_t n = se ? (size_t)(se - s) : strlen(s);
            if (!n || rq->n_params >= NORTH_MAX_PARAMS || n >= sizeof rq->params[0])
                return false;
            memcpy(rq->params[rq->n_params], s, n);
            rq->params[rq->n_params++][n] = 0;
            p = pe + 1;
            s += n;
            continue;
        }
        if (*p != *s)
            return false;
        p++;
        s++;
    }
    return !*p && !*s;
}

/* %XX and '+' of a form value, in place. */
static void url_decode(char *s)
{
    char *o = s;
    for (; *s; s++) {
        if (*s == '+') {
            *o++ = ' ';
        } else if (*s == '%' && s[1] && s[2]) {
            char h[3] = {s[1], s[2], 0};
            char *end;
            long v = strtol(h, &end, 16);
            if (*end || v == 0) {
                *o++ = *s;
                continue;
            }
            *o++ = (char)v;
            s += 2;
        } else {
            *o++ = *s;
        }
    }
    *o = 0;
}

cJSON *north_form_json(const char *body, size_t len)
{
    cJSON *o = cJSON_CreateObject();
    char *copy = malloc(len + 1);
    if (!o || !copy) {
        free(copy);
        cJSON_Delete(o);
        return NULL;
    }
    memcpy(copy, body, len);
    copy[len] = 0;
    char *save = NULL;
    for (char *kv = strtok_r(copy, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq)
            continue;
        *eq = 0;
        url_decode(kv);
        url_decode(eq + 1);
        if (!cJSON_GetObjectItemCaseSensitive(o, kv))
            cJSON_AddStringToObject(o, kv, eq + 1);
    }
    free(copy);
    return o;
}

static const char *str_member(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void tokens_json(struct north_resp *rs, const struct north_app *app, int64_t now_ms)
{
    rs->status = 200;
    rs->body = cJSON_CreateObject();
    cJSON_AddStringToObject(rs->body, "scope", "default");
    cJSON_AddStringToObject(rs->body, "tokenType", "bearer");
    cJSON_AddNumberToObject(rs->body, "expiresIn", (double)((app->access_until_ms - now_ms) / 1000));
    cJSON_AddStringToObject(rs->body, "accessToken", app->access);
    cJSON_AddStringToObject(rs->body, "refreshToken", app->refresh);
}

static const char *const deny_code[] = {
    [ND_BAD_CREDENTIALS] = NE_CREDENTIALS, [ND_BAD_REFRESH] = NE_REFRESH, [ND_NO_APP_KEY] = NE_APP_KEY,
    [ND_NO_TOKEN] = NE_NO_TOKEN,           [ND_BAD_TOKEN] = NE_BAD_TOKEN, [ND_EXPIRED] = NE_EXPIRED,
    [ND_UNKNOWN_APP] = NE_APP_KEY,
};

/* The built-in calls: login and refreshToken (004 §2's application access). */
static bool builtin(struct north *n, const char *method, const char *path, const cJSON *body, struct north_resp *rs)
{
    bool login = strcmp(path, "/iocm/app/sec/v1.1.0/login") == 0;
    bool refresh = strcmp(path, "/iocm/app/sec/v1.1.0/refreshToken") == 0;
    if (!login && !refresh)
        return false;
    if (strcmp(method, "POST") != 0) {
        north_error(rs, 405, NE_METHOD, "%s takes POST", path);
        return true;
    }
    const char *id = str_member(body, "appId"), *secret = str_member(body, "secret");
    const char *rt = str_member(body, "refreshToken");
    if (!id || !secret || (refresh && !rt)) {
        north_error(rs, 400, NE_BAD_REQUEST, "%s: needs appId and secret%s (JSON or form fields, strings)",
                    login ? "login" : "refreshToken", refresh ? " and refreshToken" : "");
        return true;
    }
    int64_t now = n->o.now_ms();
    const struct north_app *app = NULL;
    enum north_deny d = login ? north_login(n->o.auth, id, secret, now, &app)
                              : north_refresh(n->o.auth, id, secret, rt, now, &app);
    if (d != ND_OK) {
        north_error(rs, 401, deny_code[d], "%s", north_deny_text(d));
        return true;
    }
    tokens_json(rs, app, now);
    return true;
}

static enum MHD_Result respond(struct north *n, struct MHD_Connection *c, struct north_resp *rs)
{
    char *text = rs->body ? cJSON_PrintUnformatted(rs->body) : NULL;
    cJSON_Delete(rs->body);
    rs->body = NULL;
    size_t len = text ? strlen(text) : 0;
    struct MHD_Response *r = MHD_create_response_from_buffer(len, text ? text : (void *)"", text ? MHD_RESPMEM_MUST_FREE
                                                                                                 : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        cJSON_free(text);
        return MHD_NO;
    }
    if (text)
        MHD_add_response_header(r, "Content-Type", "application/json");
    n->counts.requests++;
    if (rs->status < 400)
        n->counts.ok++;
    else if (rs->status < 500)
        n->counts.client_errors++;
    else
        n->counts.server_errors++;
    if (rs->status == 401)
        n->counts.unauthorized++;
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)rs->status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    struct north *n = cls;
    (void)version;
    struct pending *p = *con_cls;
    if (!p) {
        if (!(p = calloc(1, sizeof *p)))
            return MHD_NO;
        *con_cls = p;
        return MHD_YES;
    }
    if (*upload_size) {
        if (!p->too_large) {
            /* mutant: the limit is 4 MiB, not 1 MiB */
            size_t limit = north_mutant(n->o.mutant, "api-body-limit-4m") ? 4u * NORTH_BODY_MAX : NORTH_BODY_MAX;
            if (p->len + *upload_size > limit) {
                p->too_large = true;
            } else {
                if (p->len + *upload_size + 1 > p->cap) {
                    size_t cap = (p->len + *upload_size + 1) * 2;
                    char *b = realloc(p->body, cap);
                    if (!b)
                        return MHD_NO;
                    p->body = b;
                    p->cap = cap;
                }
                memcpy(p->body + p->len, upload, *upload_size);
                p->len += *upload_size;
                p->body[p->len] = 0;
            }
        }
        *upload_size = 0;
        return MHD_YES;
    }
    struct north_resp rs = {.status = 500};
    struct north_req *rq = calloc(1, sizeof *rq);
    cJSON *body = NULL;
    if (!rq) {
        north_error(&rs, 500, NE_INTERNAL, "out of memory");
        return respond(n, c, &rs);
    }
    rq->method = method;
    rq->path = url;
    rq->conn = c;
    if (p->too_large) {
        north_error(&rs, 413, NE_TOO_LARGE, "the body is over %d bytes", NORTH_BODY_MAX);
        goto out;
    }
    if (p->len) {
        const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
        if (ct && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0) {
            body = north_form_json(p->body, p->len);
        } else {
            const char *end = NULL;
            body = cJSON_ParseWithLengthOpts(p->body, p->len, &end, 0);
            while (body && end < p->body + p->len && (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
                end++;
            if (body && end != p->body + p->len) {
                cJSON_Delete(body); /* a value and then more */
                body = NULL;
            }
            if (!body && north_mutant(n->o.mutant, "api-bad-json-empty"))
                body = cJSON_CreateObject(); /* mutant: a body that is not JSON taken as {} */
            if (!body) {
                size_t at = end && end >= p->body ? (size_t)(end - p->body) : 0;
                north_error(&rs, 400, NE_BAD_REQUEST, "the body is not JSON (at byte %zu)", at);
                goto out;
            }
        }
    }
    rq->body = body;
    if (builtin(n, method, url, body, &rs))
        goto out;
    const struct north_route *hit = NULL;
    bool path_known = false;
    for (int i = 0; i < n->o.n_routes && !hit; i++) {
        if (!north_match(n->o.routes[i].pattern, url, rq))
            continue;
        path_known = true;
        if (strcmp(n->o.routes[i].method, method) == 0)
            hit = &n->o.routes[i];
    }
    if (!hit) {
        if (path_known && !north_mutant(n->o.mutant, "api-405-as-404")) /* mutant: 404 for a wrong method */
            north_error(&rs, 405, NE_METHOD, "%s does not take %s", url, method);
        else
            north_error(&rs, 404, NE_NO_PATH, "no call %s %s", method, url);
        goto out;
    }
    north_match(hit->pattern, url, rq); /* the captures of the route taken */
    enum north_deny d = north_check(n->o.auth, MHD_lookup_connection_value(c, MHD_HEADER_KIND, "app_key"),
                                    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
                                    n->o.now_ms(), &rq->app);
    if (d != ND_OK) {
        north_error(&rs, 401, deny_code[d], "%s", north_deny_text(d));
        goto out;
    }
    rs.status = 200;
    hit->fn(n->o.ctx, rq, &rs);
    if (!rs.status)
        north_error(&rs, 500, NE_INTERNAL, "the call gave no answer");
out:
    cJSON_Delete(body);
    free(rq);
    return respond(n, c, &rs);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    struct pending *p = *con_cls;
    if (p) {
        free(p->body);
        free(p);
        *con_cls = NULL;
    }
    (void)cls;
    (void)c;
    (void)toe;
}

static void arm(struct north *n)
{
    MHD_UNSIGNED_LONG_LONG ms = 0;
    ev_timer_stop(n->loop, &n->timer);
    if (MHD_get_timeout(n->d, &ms) == MHD_YES) {
        ev_timer_set(&n->timer, (double)ms / 1000.0, 0);
        ev_timer_start(n->loop, &n->timer);
    }
}

static void io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    struct north *n = w->data;
    MHD_run(n->d);
    arm(n);
    (void)loop;
    (void)revents;
}

static void timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct north *n = t->data;
    MHD_run(n->d);
    arm(n);
    (void)loop;
    (void)revents;
}

int north_addr(const char *text, char *host, size_t hostcap, uint16_t *port, char *err, size_t errcap)
{
    return transport_listen_addr(text, false, host, hostcap, port, err, errcap);
}

struct north *north_start(struct ev_loop *loop, const struct north_opts *o, char *err, size_t errcap)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(o->port)};
    const char *bind = o->bind && o->bind[0] ? o->bind : "127.0.0.1";
    if (inet_pton(AF_INET, bind, &sa.sin_addr) != 1) {
        snprintf(err, errcap, "'%s' is not an IPv4 address", bind);
        return NULL;
    }
    if (!o->auth || !o->now_ms) {
        snprintf(err, errcap, "no applications or no clock");
        return NULL;
    }
    struct north *n = calloc(1, sizeof *n);
    if (!n) {
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    n->o = *o;
    n->loop = loop;
    o->auth->mutant = o->mutant;
    unsigned flags = MHD_USE_EPOLL | (o->tls_cert ? MHD_USE_TLS : 0);
    if (o->tls_cert)
        n->d = MHD_start_daemon(flags, o->port, NULL, NULL, handle, n, MHD_OPTION_SOCK_ADDR, &sa,
                                MHD_OPTION_CONNECTION_LIMIT, 1024u, MHD_OPTION_CONNECTION_TIMEOUT, 30u,
                                MHD_OPTION_NOTIFY_COMPLETED, completed, n, MHD_OPTION_HTTPS_MEM_CERT, o->tls_cert,
                                MHD_OPTION_HTTPS_MEM_KEY, o->tls_key, MHD_OPTION_END);
    else
        n->d = MHD_start_daemon(flags, o->port, NULL, NULL, handle, n, MHD_OPTION_SOCK_ADDR, &sa,
                                MHD_OPTION_CONNECTION_LIMIT, 1024u, MHD_OPTION_CONNECTION_TIMEOUT, 30u,
                                MHD_OPTION_NOTIFY_COMPLETED, completed, n, MHD_OPTION_END);
    if (!n->d) {
        snprintf(err, errcap, "cannot listen on %s:%u%s", bind, o->port,
                 o->tls_cert ? " (or the TLS certificate and key are not a pair of PEM texts)" : "");
        free(n);
        return NULL;
    }
    const union MHD_DaemonInfo *pi = MHD_get_daemon_info(n->d, MHD_DAEMON_INFO_BIND_PORT);
    const union MHD_DaemonInfo *ei = MHD_get_daemon_info(n->d, MHD_DAEMON_INFO_EPOLL_FD);
    n->port = pi ? pi->port : o->port;
    if (!ei) {
        snprintf(err, errcap, "libmicrohttpd has no epoll descriptor to watch");
        MHD_stop_daemon(n->d);
        free(n);
        return NULL;
    }
    ev_io_init(&n->io, io_cb, ei->epoll_fd, EV_READ);
    n->io.data = n;
    ev_io_start(loop, &n->io);
    ev_timer_init(&n->timer, timer_cb, 0, 0);
    n->timer.data = n;
    arm(n);
    return n;
}

uint16_t north_port(const struct north *n) { return n->port; }

void north_counts(const struct north *n, struct north_counts *out) { *out = n->counts; }

void north_stop(struct north *n)
{
    if (!n)
        return;
    ev_io_stop(n->loop, &n->io);
    ev_timer_stop(n->loop, &n->timer);
    MHD_stop_daemon(n->d);
    free(n);
}
