/* The HTTP endpoint Prometheus scrapes (`--prometheus ADDR`): GET /metrics
 * answers the text the owner last published (prom.h renders it once a status
 * interval).  libmicrohttpd serves it from its own thread, so start it after
 * the last fork: a child forked while that thread holds a lock would inherit
 * the lock held. */
#ifndef FLEETSIM_PROM_HTTP_H
#define FLEETSIM_PROM_HTTP_H

#include <stddef.h>
#include <stdint.h>

struct prom_http;

/* Parse "PORT", ":PORT" or "HOST:PORT" (HOST an IPv4 address, default 127.0.0.1;
 * PORT 1..65535, or 0 for any free one).  0, or -1 with err. */
int prom_http_addr(const char *text, char *host, size_t hostcap, uint16_t *port, char *err, size_t errcap);
/* Listen on text (as prom_http_addr takes it); NULL with err ("--prometheus
 * 127.0.0.1:9100: Address already in use"). */
struct prom_http *prom_http_start(const char *text, char *err, size_t errcap);
/* The port it listens on (the one picked for port 0). */
uint16_t prom_http_port(const struct prom_http *h);
/* Serve this text from now on (copied).  0, or -1 when out of memory (the old
 * text stays). */
int prom_http_publish(struct prom_http *h, const char *text, size_t len);
/* Stop serving (waits for the requests in flight) and free. */
void prom_http_stop(struct prom_http *h);

#endif
