/* libcurl's multi interface on libev (httpc.h): curl tells which sockets to
 * watch and when to wake; the loop tells curl what happened. */
#include "sim/net/httpc.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct httpc_req {
    struct httpc *h;
    CURL *easy;
    struct curl_slist *headers;
    char *send;               /* the body, owned (curl reads it while it runs) */
    char *buf;                /* the answer */
    size_t len, cap;
    bool too_big;
    uint64_t t0_us;
    httpc_done_fn done;
    void *arg;
    char curl_err[CURL_ERROR_SIZE];
    struct httpc_req *prev, *next;
};

struct httpc_sock {
    ev_io io;
    struct httpc *h;
    curl_socket_t fd;
};

struct httpc {
    struct ev_loop *loop;
    CURLM *multi;
    ev_timer timer;
    struct httpc_req *reqs;
    unsigned running;
};

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void finish(struct httpc_req *q, enum httpc_outcome out, long status, const char *err)
{
    struct httpc *h = q->h;
    struct httpc_result r = {.outcome = out, .status = status, .body = q->buf ? q->buf : "", .len = q->len,
                             .elapsed_us = now_us() - q->t0_us};
    snprintf(r.err, sizeof r.err, "%s", err ? err : "");
    curl_multi_remove_handle(h->multi, q->easy);
    curl_easy_cleanup(q->easy);
    curl_slist_free_all(q->headers);
    if (q->prev)
        q->prev->next = q->next;
    else
        h->reqs = q->next;
    if (q->next)
        q->next->prev = q->prev;
    h->running--;
    q->done(q->arg, &r);
    free(q->send);
    free(q->buf);
    free(q);
}

/* Requests curl has finished. */
static void reap(struct httpc *h)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(h->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        struct httpc_req *q = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&q);
        CURLcode rc = m->data.result;
        long status = 0;
        char why[200];
        curl_easy_getinfo(q->easy, CURLINFO_RESPONSE_CODE, &status);
        if (rc == CURLE_OK) {
            finish(q, HTTPC_OK, status, NULL);
        } else if (rc == CURLE_OPERATION_TIMEDOUT) {
            snprintf(why, sizeof why, "timed out: %s", q->curl_err[0] ? q->curl_err : curl_easy_strerror(rc));
            finish(q, HTTPC_TIMEOUT, 0, why);
        } else {
            snprintf(why, sizeof why, "%s", q->too_big ? "answer over 64 KiB"
                                              : q->curl_err[0] ? q->curl_err : curl_easy_strerror(rc));
            finish(q, HTTPC_ERROR, 0, why);
        }
    }
}

static void act(struct httpc *h, curl_socket_t fd, int mask)
{
    int still;
    curl_multi_socket_action(h->multi, fd, mask, &still);
    reap(h);
}

static void io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
    (void)loop;
    struct httpc_sock *s = (struct httpc_sock *)w;
    act(s->h, s->fd, (revents & EV_READ ? CURL_CSELECT_IN : 0) | (revents & EV_WRITE ? CURL_CSELECT_OUT : 0));
}

static void timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop, (void)revents;
    struct httpc *h = (struct httpc *)((char *)t - offsetof(struct httpc, timer));
    act(h, CURL_SOCKET_TIMEOUT, 0);
}

static int sock_fn(CURL *e, curl_socket_t fd, int what, void *userp, void *sockp)
{
    (void)e;
    struct httpc *h = userp;
    struct httpc_sock *s = sockp;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            ev_io_stop(h->loop, &s->io);
            curl_multi_assign(h->multi, fd, NULL);
            free(s);
        }
        return 0;
    }
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s)
            return -1;
        s->h = h;
        s->fd = fd;
        ev_init(&s->io, io_cb);
        curl_multi_assign(h->multi, fd, s);
    }
    int ev = (what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0);
    ev_io_stop(h->loop, &s->io);
    ev_io_set(&s->io, fd, ev);
    ev_io_start(h->loop, &s->io);
    return 0;
}

static int timer_fn(CURLM *m, long timeout_ms, void *userp)
{
    (void)m;
    struct httpc *h = userp;
    ev_timer_stop(h->loop, &h->timer);
    if (timeout_ms >= 0) {
        /* 0: as soon as the loop turns, not from inside curl's call */
        ev_timer_set(&h->timer, (double)timeout_ms / 1000.0, 0.);
        ev_timer_start(h->loop, &h->timer);
    }
    return 0;
}

static size_t write_fn(char *p, size_t size, size_t n, void *arg)
{
    struct httpc_req *q = arg;
    size_t k = size * n;
    if (q->len + k > HTTPC_BODY_MAX) {
        q->too_big = true;
        return 0;   /* curl ends the transfer with an error */
    }
    if (q->len + k + 1 > q->cap) {
        size_t ncap = q->cap ? q->cap * 2 : 1024;
        while (ncap < q->len + k + 1)
            ncap *= 2;
        char *nb = realloc(q->buf, ncap);
        if (!nb)
            return 0;
        q->buf = nb;
        q->cap = ncap;
    }
    memcpy(q->buf + q->len, p, k);
    q->len += k;
    q->buf[q->len] = '\0';
    return k;
}

struct httpc *httpc_new(struct ev_loop *loop, char *err, size_t errcap)
{
    static bool global;
    if (!global) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            snprintf(err, errcap, "libcurl: global init failed");
            return NULL;
        }
        global = true;
    }
    struct httpc *h = calloc(1, sizeof *h);
    if (!h || !(h->multi = curl_multi_init())) {
        free(h);
        snprintf(err, errcap, "libcurl: cannot create a multi handle");
        return NULL;
    }
    h->loop = loop;
    ev_init(&h->timer, timer_cb);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, sock_fn);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, timer_fn);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    return h;
}

void httpc_free(struct httpc *h)
{
    if (!h)
        return;
    while (h->reqs)
        finish(h->reqs, HTTPC_CANCELLED, 0, "cancelled");
    ev_timer_stop(h->loop, &h->timer);
    curl_multi_cleanup(h->multi);
    free(h);
}

unsigned httpc_running(const struct httpc *h) { return h ? h->running : 0; }

int httpc_post_json(struct httpc *h, const char *url, const char *body, uint64_t timeout_ms, httpc_done_fn done,
                    void *arg, char *err, size_t errcap)
{
    struct httpc_opts o = {.method = "POST", .url = url, .body = body ? body : "", .timeout_ms = timeout_ms};
    return httpc_request(h, &o, done, arg, err, errcap);
}

int httpc_request(struct httpc *h, const struct httpc_opts *o, httpc_done_fn done, void *arg, char *err,
                  size_t errcap)
{
    const char *method = o->method ? o->method : "POST";
    struct httpc_req *q = calloc(1, sizeof *q);
    if (!q || (o->body && !(q->send = strdup(o->body))) || !(q->easy = curl_easy_init())) {
        if (q)
            free(q->send);
        free(q);
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    q->h = h;
    q->done = done;
    q->arg = arg;
    q->t0_us = now_us();
    if (q->send) {
        char ct[200];
        snprintf(ct, sizeof ct, "Content-Type: %s", o->content_type ? o->content_type : "application/json");
        q->headers = curl_slist_append(NULL, ct);
    }
    for (const char *const *hl = o->headers; hl && *hl; hl++)
        q->headers = curl_slist_append(q->headers, *hl);
    CURL *e = q->easy;
    curl_easy_setopt(e, CURLOPT_URL, o->url);
    if (q->send) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, q->send);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(q->send));
    } else if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    }
    if (strcmp(method, "POST") != 0 && strcmp(method, "GET") != 0)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    else if (strcmp(method, "POST") == 0 && !q->send) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, 0L);
    }
    if (o->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, o->ca_file);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, q->headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_fn);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, q);
    curl_easy_setopt(e, CURLOPT_PRIVATE, q);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, q->curl_err);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(o->timeout_ms ? o->timeout_ms : 1));
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    if (curl_multi_add_handle(h->multi, e) != CURLM_OK) {
        curl_easy_cleanup(e);
        curl_slist_free_all(q->headers);
        free(q->send);
        free(q);
        snprintf(err, errcap, "libcurl: cannot add the request");
        return -1;
    }
    q->next = h->reqs;
    if (h->reqs)
        h->reqs->prev = q;
    h->reqs = q;
    h->running++;
    return 0;
}
