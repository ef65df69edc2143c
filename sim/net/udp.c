/* UDP transport: one connected datagram socket per terminal.  connect() on UDP
 * only fixes the peer, so it completes at once; the kernel picks the source port
 * (bound to a spread source address when asked), and an ICMP port-unreachable
 * comes back as ECONNREFUSED on the next read or write. */
#include "sim/net/transport.h"

#include "sim/net/listen.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

static enum tp_rc udp_connect(struct tp_conn *c, const struct sockaddr_storage *dst,
                              const struct sockaddr_storage *src)
{
    c->err = 0;
    c->fd = socket(dst->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        c->err = errno;
        return TP_ERR;
    }
    if ((src && src->ss_family == dst->ss_family &&
         bind(c->fd, (const struct sockaddr *)src, transport_addr_len(src)) < 0) ||
        connect(c->fd, (const struct sockaddr *)dst, transport_addr_len(dst)) < 0) {
        c->err = errno;
        close(c->fd);
        c->fd = -1;
        return TP_ERR;
    }
    return TP_OK;
}

static enum tp_rc udp_finish(struct tp_conn *c)
{
    (void)c;
    return TP_OK;
}

static enum tp_rc udp_read(struct tp_conn *c, uint8_t *buf, size_t n, size_t *got)
{
    *got = 0;
    ssize_t r = recv(c->fd, buf, n, 0);
    if (r >= 0) {
        /* an empty datagram is a message too, but carries nothing to hand on */
        *got = (size_t)r;
        return r > 0 ? TP_OK : TP_WANT_READ;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return TP_WANT_READ;
    c->err = errno;
    return TP_ERR;
}

static enum tp_rc udp_write(struct tp_conn *c, const uint8_t *buf, size_t n, size_t *put)
{
    *put = 0;
    ssize_t r = send(c->fd, buf, n, MSG_NOSIGNAL);
    if (r >= 0) {
        *put = (size_t)r;
        return TP_OK;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ENOBUFS)
        return TP_WANT_WRITE;
    c->err = errno;
    return TP_ERR;
}

static void udp_close(struct tp_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

/* A server's one datagram socket; it is read and answered per peer (recvfrom /
 * sendto), which no server here does yet: there is no accept. */
static enum tp_rc udp_listen(struct tp_conn *l, struct sockaddr_storage *addr, int backlog)
{
    (void)backlog;
    l->err = 0;
    l->tp = &transport_udp;
    l->fd = listen_open(SOCK_DGRAM, addr, 0, &l->err);
    return l->fd >= 0 ? TP_OK : TP_ERR;
}

const struct transport transport_udp = {
    .name = "udp",
    .datagram = 1,
    .connect = udp_connect,
    .finish = udp_finish,
    .read = udp_read,
    .write = udp_write,
    .close = udp_close,
    .abort = udp_close,
    .listen = udp_listen,
};
