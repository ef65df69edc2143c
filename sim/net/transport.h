/* Transports behind a small table of functions returning OK | ERR | WANT_READ |
 * WANT_WRITE, so TLS, UDP and DTLS swap in without `if (tls)` branches in the
 * terminals.  WANT_READ / WANT_WRITE say which readiness to wait for before calling
 * again (TLS may want to write while reading, and the reverse).  A connection
 * is an fd plus an optional per-transport state pointer; the libev watcher lives in
 * the owner (terminal or gateway connection), which calls these from its callback. */
#ifndef FLEETSIM_TRANSPORT_H
#define FLEETSIM_TRANSPORT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum tp_rc { TP_OK = 0, TP_ERR, TP_WANT_READ, TP_WANT_WRITE };

struct tp_conn {
    int fd;
    int err;                    /* errno of the last TP_ERR, 0 on orderly close */
    const struct transport *tp;
    void *state;                /* TLS session etc.; NULL for plain TCP */
    uint32_t id;                /* the owner's number for it (a terminal's in its fleet):
                                   a transport may pick credentials by it (TLS: "{n}") */
};

struct transport {
    const char *name;           /* "tcp", "tls", "udp", ... */
    int datagram;               /* 1: every read is one whole message, every write one */
    /* Start a non-blocking connect to dst, from src when src->ss_family != 0.
     * TP_WANT_WRITE: in progress, wait for writability then call finish. */
    enum tp_rc (*connect)(struct tp_conn *c, const struct sockaddr_storage *dst,
                          const struct sockaddr_storage *src);
    enum tp_rc (*finish)(struct tp_conn *c);
    /* TP_OK with *got > 0; TP_WANT_*: nothing now; TP_ERR closed (c->err 0) or failed. */
    enum tp_rc (*read)(struct tp_conn *c, uint8_t *buf, size_t n, size_t *got);
    /* TP_OK with *put (may be short for a stream; all or nothing for a datagram);
     * TP_WANT_* would block; TP_ERR failed. */
    enum tp_rc (*write)(struct tp_conn *c, const uint8_t *buf, size_t n, size_t *put);
    void (*close)(struct tp_conn *c);
    /* Break the connection without a goodbye (TCP: reset); the fault "cut". */
    void (*abort)(struct tp_conn *c);
    /* Server side.  A non-blocking socket l bound to addr with SO_REUSEPORT, so
     * several processes share one port and the kernel spreads peers over them;
     * a stream listens with this backlog.  Port 0 picks a free port, written back
     * to addr.  TP_OK, or TP_ERR with l->err. */
    enum tp_rc (*listen)(struct tp_conn *l, struct sockaddr_storage *addr, int backlog);
    /* One pending connection into c (non-blocking, close-on-exec; peer may be NULL):
     * TP_OK; TP_WANT_READ: none pending; TP_ERR with l->err.  EMFILE / ENFILE mean
     * out of descriptors: stop watching l until one is freed, or the loop spins on
     * a socket that stays readable.  NULL for a datagram transport, whose listening
     * socket is the server's only one (not used by a server here yet). */
    enum tp_rc (*accept)(struct tp_conn *l, struct tp_conn *c, struct sockaddr_storage *peer);
};

/* Who holds the port of addr for a server of type (SOCK_STREAM, SOCK_DGRAM), asked
 * before listening: the sockets of listen use SO_REUSEPORT, so a second server on a
 * port would start without an error and take half of its peers.  FREE: nobody (a
 * TCP connection in TIME_WAIT does not count); SHARED: servers that let this one
 * join them (SO_REUSEPORT, the same user: another fleetsim); TAKEN: a server that
 * does not share it.  -1 with the errno in *err when addr cannot be bound at all
 * (EADDRNOTAVAIL, EACCES).  A port 0 is always FREE.  (listen.c) */
enum listen_port { LISTEN_PORT_FREE = 0, LISTEN_PORT_SHARED, LISTEN_PORT_TAKEN };
int listen_port_use(int type, const struct sockaddr_storage *addr, int *err);

extern const struct transport transport_tcp;
extern const struct transport transport_udp;

/* "tcp" or "udp" -> its table; NULL for anything else ("tls" needs its
 * certificates: tls_transport_new in tls.h). */
const struct transport *transport_by_name(const char *name);
/* The scheme of a target: "udp" for "udp://...", "tls" for "tls://...", else "tcp". */
const char *transport_scheme(const char *url);
socklen_t transport_addr_len(const struct sockaddr_storage *a);
/* A listening address as an option gives it: "PORT", ":PORT" or "HOST:PORT" (an
 * IPv4 address, default 127.0.0.1); port 1..65535, or 0 too when any_port (any free
 * one).  0, or -1 with err. */
/* A TCP port free on 127.0.0.1 now (bound and let go: a race with another
 * process taking it meanwhile is the later bind's error to say), 1024 or above;
 * 0 when none could be had. */
uint16_t transport_free_port(void);
int transport_listen_addr(const char *text, bool any_port, char *host, size_t hostcap, uint16_t *port, char *err,
                          size_t errcap);

/* "127.0.0.1:7999", "[::1]:7999", "localhost:7999", "tcp://host:port", "udp://host:port", "tls://host:port" -> address.
 * 0 ok, -1 with a message. */
int transport_resolve(const char *hostport, struct sockaddr_storage *out, char *err, size_t errcap);
/* The host of such a target ("tls://gw.example:7999" -> "gw.example", "[::1]:1"
 * -> "[::1]") into out.  0, or -1 when there is none or it does not fit. */
int transport_host(const char *url, char *out, size_t cap);
/* Source address number k of a loopback spread: 127.(1 + k/65536 % 254).(k/256 % 256).(k % 256 | 1-based).
 * Spreading sources over 127.0.0.0/8 lets one target port take more connections
 * than the ephemeral port range allows from a single source address. */
void transport_spread_source(uint32_t k, struct sockaddr_storage *out);
int transport_is_loopback(const struct sockaddr_storage *a);
void transport_format(const struct sockaddr_storage *a, char *buf, size_t cap);

#endif
