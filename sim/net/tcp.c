/* Plain TCP transport. */
#include "sim/net/transport.h"

#include "sim/net/listen.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <string.h>
#include <unistd.h>

static enum tp_rc tcp_connect(struct tp_conn *c, const struct sockaddr_storage *dst,
                              const struct sockaddr_storage *src)
{
    c->err = 0;
    c->fd = socket(dst->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        c->err = errno;
        return TP_ERR;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (src && src->ss_family == dst->ss_family) {
#ifdef IP_BIND_ADDRESS_NO_PORT
        /* Let connect() pick the port per 4-tuple, not per source address. */
        setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
#endif
        if (bind(c->fd, (const struct sockaddr *)src, transport_addr_len(src)) < 0) {
            c->err = errno;
            close(c->fd);
            c->fd = -1;
            return TP_ERR;
        }
    }
    if (connect(c->fd, (const struct sockaddr *)dst, transport_addr_len(dst)) == 0)
        return TP_OK;
    if (errno == EINPROGRESS)
        return TP_WANT_WRITE;
    c->err = errno;
    close(c->fd);
    c->fd = -1;
    return TP_ERR;
}

static enum tp_rc tcp_finish(struct tp_conn *c)
{
    int e = 0;
    socklen_t l = sizeof e;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &l) < 0)
        e = errno;
    if (e == EINPROGRESS || e == EALREADY)
        return TP_WANT_WRITE;
    c->err = e;
    return e ? TP_ERR : TP_OK;
}

static enum tp_rc tcp_read(struct tp_conn *c, uint8_t *buf, size_t n, size_t *got)
{
    *got = 0;
    ssize_t r = recv(c->fd, buf, n, 0);
    if (r > 0) {
        *got = (size_t)r;
        return TP_OK;
    }
    if (r == 0) {
        c->err = 0;
        return TP_ERR;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return TP_WANT_READ;
    c->err = errno;
    return TP_ERR;
}

static enum tp_rc tcp_write(struct tp_conn *c, const uint8_t *buf, size_t n, size_t *put)
{
    *put = 0;
    ssize_t r = send(c->fd, buf, n, MSG_NOSIGNAL);
    if (r >= 0) {
        *put = (size_t)r;
        return TP_OK;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return TP_WANT_WRITE;
    c->err = errno;
    return TP_ERR;
}

static void tcp_close(struct tp_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

/* Break the connection without a goodbye: linger 0 makes close() send a reset. */
static void tcp_abort(struct tp_conn *c)
{
    if (c->fd >= 0) {
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    tcp_close(c);
}

static enum tp_rc tcp_listen(struct tp_conn *l, struct sockaddr_storage *addr, int backlog)
{
    l->err = 0;
    l->tp = &transport_tcp;
    l->fd = listen_open(SOCK_STREAM, addr, backlog, &l->err);
    return l->fd >= 0 ? TP_OK : TP_ERR;
}

static enum tp_rc tcp_accept(struct tp_conn *l, struct tp_conn *c, struct sockaddr_storage *peer)
{
    socklen_t pl = sizeof *peer;
    int fd = accept4(l->fd, (struct sockaddr *)peer, peer ? &pl : NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return TP_WANT_READ;
        l->err = errno;
        return TP_ERR;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->fd = fd;
    c->err = 0;
    c->tp = &transport_tcp;
    c->state = NULL;
    return TP_OK;
}

const struct transport transport_tcp = {
    .name = "tcp",
    .connect = tcp_connect,
    .finish = tcp_finish,
    .read = tcp_read,
    .write = tcp_write,
    .close = tcp_close,
    .abort = tcp_abort,
    .listen = tcp_listen,
    .accept = tcp_accept,
    .datagram = 0,
};

