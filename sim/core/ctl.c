#include "sim/core/ctl.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

int ctl_pair(int fds[2])
{
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
        return -1;
    int sz = 1 << 20;
    setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    return 0;
}

int ctl_send(int fd, const struct ctl_msg *m, const char *payload)
{
    struct ctl_msg h = *m;
    h.payload_len = payload ? (uint32_t)strlen(payload) : 0;
    if (h.payload_len > CTL_MAX_PAYLOAD) {
        errno = EMSGSIZE;
        return -1;
    }
    struct iovec iov[2] = {{&h, sizeof h}, {(void *)payload, h.payload_len}};
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = h.payload_len ? 2 : 1};
    ssize_t r;
    do
        r = sendmsg(fd, &mh, MSG_NOSIGNAL);
    while (r < 0 && errno == EINTR);
    return r == (ssize_t)(sizeof h + h.payload_len) ? 0 : -1;
}

int ctl_recv(int fd, struct ctl_msg *m, char *payload, size_t cap)
{
    static char scratch[CTL_MAX_PAYLOAD + 1];
    struct iovec iov[2] = {{m, sizeof *m}, {scratch, CTL_MAX_PAYLOAD}};
    struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
    ssize_t r;
    do
        r = recvmsg(fd, &mh, 0);
    while (r < 0 && errno == EINTR);
    if (r == 0)
        return 0;
    if (r < 0)
        return -1;
    if ((size_t)r < sizeof *m) {
        errno = EPROTO;
        return -1;
    }
    size_t plen = (size_t)r - sizeof *m;
    if (cap) {
        if (plen >= cap)
            plen = cap - 1;
        memcpy(payload, scratch, plen);
        payload[plen] = 0;
    }
    return 1;
}

uint64_t ctl_pick_count(uint64_t n, double fraction)
{
    if (fraction >= 1.0)
        return n;
    if (!(fraction > 0))
        return 0;
    return (uint64_t)(fraction * (double)n + 0.5);
}

int ctl_picked(uint64_t k, uint64_t n, double fraction)
{
    if (k >= n)
        return 0;
    uint64_t want = ctl_pick_count(n, fraction);
    /* k is picked when floor((k+1)*want/n) > floor(k*want/n) */
    return ((k + 1) * want) / n > (k * want) / n;
}

uint64_t ctl_pick_count_shard(uint64_t n, double fraction, uint32_t shard, uint32_t shards)
{
    if (shards <= 1)
        return ctl_pick_count(n, fraction);
    if (shard >= shards)
        return 0;
    if (fraction >= 1.0)
        return n / shards + (shard < n % shards);
    uint64_t c = 0;
    for (uint64_t k = shard; k < n; k += shards)
        c += (uint64_t)ctl_picked(k, n, fraction);
    return c;
}
