/* Listening sockets for the transports' server side (tcp.c, udp.c). */
#ifndef FLEETSIM_LISTEN_H
#define FLEETSIM_LISTEN_H

#include <sys/socket.h>

/* A non-blocking, close-on-exec socket of type (SOCK_STREAM, SOCK_DGRAM) bound to
 * addr with SO_REUSEADDR and SO_REUSEPORT; a stream also listens with backlog.  A
 * port 0 in addr is replaced by the one the kernel picked.  The fd, or -1 with
 * the errno in *err. */
int listen_open(int type, struct sockaddr_storage *addr, int backlog, int *err);

#endif
