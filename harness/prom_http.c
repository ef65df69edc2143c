/* The Prometheus endpoint on libmicrohttpd. */
#include "harness/prom_http.h"
#include "sim/net/transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct prom_http {
    struct MHD_Daemon *d;
    pthread_mutex_t mu;
    char *text;                 /* the published text (owned) */
    size_t len;
    uint16_t port;
};

int prom_http_addr(const char *text, char *host, size_t hostcap, uint16_t *port, char *err, size_t errcap)
{
    return transport_listen_addr(text, true, host, hostcap, port, err, errcap);
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *upload, size_t *upload_len, void **state)
{
    struct prom_http *h = cls;
    (void)version;
    (void)upload;
    (void)upload_len;
    (void)state;
    struct MHD_Response *r;
    unsigned status;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        static const char msg[] = "only GET and HEAD\n";
        r = MHD_create_response_from_buffer(sizeof msg - 1, (void *)msg, MHD_RESPMEM_PERSISTENT);
        if (r)
            MHD_add_response_header(r, "Allow", "GET, HEAD");
        status = MHD_HTTP_METHOD_NOT_ALLOWED;
    } else if (strcmp(url, "/metrics") != 0) {
        static const char msg[] = "fleetsim serves its metrics at /metrics\n";
        r = MHD_create_response_from_buffer(sizeof msg - 1, (void *)msg, MHD_RESPMEM_PERSISTENT);
        status = MHD_HTTP_NOT_FOUND;
    } else {
        pthread_mutex_lock(&h->mu);
        r = MHD_create_response_from_buffer(h->len, h->text ? h->text : (char *)"", MHD_RESPMEM_MUST_COPY);
        pthread_mutex_unlock(&h->mu);
        if (r)
            MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
        status = MHD_HTTP_OK;
    }
    if (!r)
        return MHD_NO;
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

struct prom_http *prom_http_start(const char *text, char *err, size_t errcap)
{
    char host[64];
    uint16_t port;
    if (prom_http_addr(text, host, sizeof host, &port, err, errcap) < 0)
        return NULL;
    struct prom_http *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&h->mu, NULL);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    inet_pton(AF_INET, host, &sa.sin_addr);
    errno = 0;
    h->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, port, NULL, NULL, answer, h,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_LIMIT, 64u,
                            MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
    if (!h->d) {
        snprintf(err, errcap, "cannot listen on %s:%u: %s", host, port, errno ? strerror(errno) : "failed");
        pthread_mutex_destroy(&h->mu);
        free(h);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info ? info->port : port;
    return h;
}

uint16_t prom_http_port(const struct prom_http *h) { return h->port; }

int prom_http_publish(struct prom_http *h, const char *text, size_t len)
{
    char *copy = malloc(len ? len : 1);
    if (!copy)
        return -1;
    memcpy(copy, text, len);
    pthread_mutex_lock(&h->mu);
    char *old = h->text;
    h->text = copy;
    h->len = len;
    pthread_mutex_unlock(&h->mu);
    free(old);
    return 0;
}

void prom_http_stop(struct prom_http *h)
{
    if (!h)
        return;
    MHD_stop_daemon(h->d);
    pthread_mutex_destroy(&h->mu);
    free(h->text);
    free(h);
}
