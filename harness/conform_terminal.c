/* `fleetsim conform --terminal`: the runner is the platform side.  It listens on
 * loopback, and each exchange case's connection is the next device that connects
 * to it (accepted with a deadline); the case's steps are the platform's half of
 * the exchange (expect the device's 0x0100, send 0x8100, ...).  The interpreter
 * is conform_exchange.c's; this file is the listening socket and the accept. */
#include "harness/conform.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int conform_terminal_listen(const char *spec, struct conform_target *t, char *err, size_t errcap)
{
    char host[64] = "127.0.0.1";
    unsigned long port = 0;
    if (spec != NULL) {
        const char *colon = strrchr(spec, ':');
        char *end = NULL;
        if (colon == NULL || colon == spec || (size_t)(colon - spec) >= sizeof host || colon[1] == '\0') {
            snprintf(err, errcap, "--listen '%s': expected HOST:PORT (like 127.0.0.1:7808)", spec);
            return -1;
        }
        memcpy(host, spec, (size_t)(colon - spec));
        host[colon - spec] = '\0';
        errno = 0;
        port = strtoul(colon + 1, &end, 10);
        if (errno || *end != '\0' || port > 65535 || (port != 0 && port < 1024)) {
            snprintf(err, errcap, "--listen '%s': PORT must be 0 (any free port) or 1024..65535", spec);
            return -1;
        }
    }
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1 || (ntohl(a.sin_addr.s_addr) >> 24) != 127) {
        snprintf(err, errcap, "--listen '%s': HOST is an IPv4 address on loopback (127.0.0.0/8)", spec);
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        snprintf(err, errcap, "socket: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 64) < 0) {
        snprintf(err, errcap, "--listen %s:%lu: %s", host, port, strerror(errno));
        close(fd);
        return -1;
    }
    socklen_t al = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &al);
    snprintf(t->host, sizeof t->host, "%s", host);
    t->port = ntohs(a.sin_port);
    t->terminal = true;
    t->listen_fd = fd;
    return 0;
}

int conform_terminal_accept(const struct conform_target *t, uint64_t deadline_ms, char *peer, size_t cap)
{
    for (;;) {
        struct sockaddr_in a;
        socklen_t al = sizeof a;
        int fd = accept4(t->listen_fd, (struct sockaddr *)&a, &al, SOCK_CLOEXEC);
        if (fd >= 0) {
            char ip[INET_ADDRSTRLEN] = "?";
            inet_ntop(AF_INET, &a.sin_addr, ip, sizeof ip);
            snprintf(peer, cap, "%s:%u", ip, ntohs(a.sin_port));
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            return fd;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
            return -1;
        if (conform_interrupted) {
            errno = EINTR;
            return -1;
        }
        uint64_t now = conform_mono_ms();
        if (now >= deadline_ms) {
            errno = ETIMEDOUT;
            return -1;
        }
        struct pollfd p = {.fd = t->listen_fd, .events = POLLIN};
        uint64_t left = deadline_ms - now;
        poll(&p, 1, left > 1000 ? 1000 : (int)left); /* a second at most: an interrupt is seen */
    }
}
