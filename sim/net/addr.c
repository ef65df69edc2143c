/* Addresses of transports: parsing targets, the loopback source spread, printing. */
#include "sim/net/transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

socklen_t transport_addr_len(const struct sockaddr_storage *a)
{
    return a->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

const struct transport *transport_by_name(const char *name)
{
    if (strcmp(name, "tcp") == 0)
        return &transport_tcp;
    if (strcmp(name, "udp") == 0)
        return &transport_udp;
    return NULL;
}

int transport_host(const char *url, char *out, size_t cap)
{
    const char *s = url;
    if (strncmp(s, "tcp://", 6) == 0 || strncmp(s, "udp://", 6) == 0 || strncmp(s, "tls://", 6) == 0)
        s += 6;
    const char *end = s[0] == '[' ? strchr(s, ']') : strrchr(s, ':');
    if (!end || end == s)
        return -1;
    size_t n = (size_t)(end - s) + (s[0] == '[');
    if (n >= cap)
        return -1;
    memcpy(out, s, n);
    out[n] = 0;
    return 0;
}

int transport_resolve(const char *hostport, struct sockaddr_storage *out, char *err, size_t errcap)
{
    char buf[300];
    const char *s = hostport;
    if (strncmp(s, "tcp://", 6) == 0 || strncmp(s, "udp://", 6) == 0 || strncmp(s, "tls://", 6) == 0)
        s += 6;
    if (strlen(s) >= sizeof buf) {
        snprintf(err, errcap, "'%s': address too long", hostport);
        return -1;
    }
    strcpy(buf, s);
    char *host = buf, *port;
    if (buf[0] == '[') {
        char *close_b = strchr(buf, ']');
        if (!close_b || close_b[1] != ':') {
            snprintf(err, errcap, "'%s': expected [v6-address]:port", hostport);
            return -1;
        }
        *close_b = 0;
        host = buf + 1;
        port = close_b + 2;
    } else {
        port = strrchr(buf, ':');
        if (!port) {
            snprintf(err, errcap, "'%s': expected host:port", hostport);
            return -1;
        }
        *port++ = 0;
    }
    char *end;
    long p = strtol(port, &end, 10);
    if (*port == 0 || *end || p < 1 || p > 65535) {
        snprintf(err, errcap, "'%s': port '%s' is not 1-65535", hostport, port);
        return -1;
    }
    struct addrinfo hints = {.ai_socktype = strncmp(hostport, "udp://", 6) == 0 ? SOCK_DGRAM : SOCK_STREAM}, *ai = NULL;
    int rc = getaddrinfo(host, port, &hints, &ai);
    if (rc != 0 || !ai) {
        snprintf(err, errcap, "'%s': cannot resolve host '%s': %s", hostport, host, gai_strerror(rc));
        return -1;
    }
    memset(out, 0, sizeof *out);
    memcpy(out, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(ai);
    return 0;
}

void transport_spread_source(uint32_t k, struct sockaddr_storage *out)
{
    struct sockaddr_in *a = (struct sockaddr_in *)out;
    memset(out, 0, sizeof *out);
    a->sin_family = AF_INET;
    uint32_t b2 = 1 + (k / 65536u) % 254u, b3 = (k / 256u) % 256u, b4 = k % 256u;
    if (b4 == 0 || b4 == 255) /* keep clear of .0 and .255 */
        b4 = 1 + (k % 253u);
    a->sin_addr.s_addr = htonl((127u << 24) | (b2 << 16) | (b3 << 8) | b4);
}

int transport_is_loopback(const struct sockaddr_storage *a)
{
    if (a->ss_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)a)->sin_addr.s_addr) >> 24) == 127;
    if (a->ss_family == AF_INET6)
        return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)a)->sin6_addr);
    return 0;
}

void transport_format(const struct sockaddr_storage *a, char *buf, size_t cap)
{
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)a;
        inet_ntop(AF_INET, &s->sin_addr, host, sizeof host);
        port = ntohs(s->sin_port);
        snprintf(buf, cap, "%s:%u", host, port);
    } else if (a->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)a;
        inet_ntop(AF_INET6, &s->sin6_addr, host, sizeof host);
        port = ntohs(s->sin6_port);
        snprintf(buf, cap, "[%s]:%u", host, port);
    } else {
        snprintf(buf, cap, "?");
    }
}

const char *transport_scheme(const char *url)
{
    if (strncmp(url, "udp://", 6) == 0)
        return "udp";
    if (strncmp(url, "tls://", 6) == 0)
        return "tls";
    return "tcp";
}

int transport_listen_addr(const char *text, bool any_port, char *host, size_t hostcap, uint16_t *port, char *err,
                          size_t errcap)
{
    const char *colon = strrchr(text, ':');
    const char *p = colon ? colon + 1 : text;
    size_t hl = colon ? (size_t)(colon - text) : 0;
    if (hl >= hostcap) {
        snprintf(err, errcap, "'%s': the host is too long", text);
        return -1;
    }
    memcpy(host, text, hl);
    host[hl] = '\0';
    if (!host[0])
        snprintf(host, hostcap, "127.0.0.1");
    struct in_addr a;
    if (inet_pton(AF_INET, host, &a) != 1) {
        snprintf(err, errcap, "'%s': '%s' is not an IPv4 address", text, host);
        return -1;
    }
    char *end;
    errno = 0;
    unsigned long v = strtoul(p, &end, 10);
    if (!*p || *end || errno || v > 65535 || (!any_port && v == 0)) {
        snprintf(err, errcap, any_port ? "'%s': the port must be 0-65535 (0: any free one)"
                                       : "'%s': the port is not 1..65535", text);
        return -1;
    }
    *port = (uint16_t)v;
    return 0;
}

uint16_t transport_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    uint16_t port = 0;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &l) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port >= 1024 ? port : 0;
}
