/* Listening sockets shared by the transports' server side. */
#include "sim/net/listen.h"

#include <errno.h>
#include <unistd.h>

#include "sim/net/transport.h"

int listen_open(int type, struct sockaddr_storage *addr, int backlog, int *err)
{
    int one = 1;
    int fd = socket(addr->ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto fail;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0 ||
        bind(fd, (const struct sockaddr *)addr, transport_addr_len(addr)) < 0)
        goto fail;
    socklen_t l = sizeof *addr;
    if (getsockname(fd, (struct sockaddr *)addr, &l) < 0)
        goto fail;
    if (type == SOCK_STREAM && listen(fd, backlog) < 0)
        goto fail;
    return fd;
fail:
    *err = errno;
    if (fd >= 0)
        close(fd);
    return -1;
}

/* 0 when a socket of type with SO_REUSEPORT set or not binds addr, EADDRINUSE
 * when that port is held, another errno for anything else. */
static int probe_bind(int type, const struct sockaddr_storage *addr, int reuseport)
{
    int one = 1, e = 0;
    int fd = socket(addr->ss_family, type | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return errno;
    /* TCP: a connection of an earlier server lingering in TIME_WAIT does not hold
     * the port.  (UDP's SO_REUSEADDR would let any number bind it, so not there.) */
    if (type == SOCK_STREAM)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if ((reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0) ||
        bind(fd, (const struct sockaddr *)addr, transport_addr_len(addr)) < 0)
        e = errno;
    close(fd);
    return e;
}

int listen_port_use(int type, const struct sockaddr_storage *addr, int *err)
{
    /* SO_REUSEPORT makes a second server's bind succeed silently, so the probe
     * goes without it first: only a port nobody holds binds then */
    int e = probe_bind(type, addr, 0);
    if (e == 0)
        return LISTEN_PORT_FREE;
    if (e != EADDRINUSE) {
        *err = e;
        return -1;
    }
    e = probe_bind(type, addr, 1);
    if (e == 0)
        return LISTEN_PORT_SHARED;
    if (e != EADDRINUSE) {
        *err = e;
        return -1;
    }
    return LISTEN_PORT_TAKEN;
}
