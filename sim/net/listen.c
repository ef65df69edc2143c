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
