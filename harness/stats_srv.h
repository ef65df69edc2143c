/* The live statistics socket (docs/live.md), for whatever serves one (`fleetsim
 * run --stats`, `fleetsim serve --stats`): a unix stream socket; a client that
 * connects gets the current document at once, as one line of JSON (the document,
 * then "\n"), and another one each time the owner publishes, until it closes the
 * connection or the owner closes the server.  A client that wants one reads one
 * line and closes.  A client that reads slower than the documents come skips
 * documents rather than making the server queue them.
 *
 * A client may also write requests, a JSON object per line; the owner answers
 * each (stats_srv_reply), the reply queued after whatever line is being sent,
 * so a document is never split.  A client that does not read its replies is
 * not read from either once STATS_SRV_MAX_PENDING bytes wait for it. */
#ifndef FLEETSIM_STATS_SRV_H
#define FLEETSIM_STATS_SRV_H

#include <cjson/cJSON.h>
#include <ev.h>
#include <stddef.h>
#include <stdint.h>

#define STATS_SRV_MAX_CLIENTS 16
#define STATS_SRV_MAX_PENDING (1024 * 1024) /* bytes of replies waiting for a client */

struct stats_srv;

struct stats_srv_ops {
    /* The current document, as one line ("...\n", malloc'd, *len bytes); NULL when
     * out of memory.  fresh: a client just connected (the owner may refresh what
     * it shows first). */
    char *(*document)(void *ctx, int fresh, size_t *len);
    /* A request line (len bytes, no "\n", not blank) from client, whose connection
     * is numbered gen: answer it with stats_srv_reply(client, gen, ...), now or later. */
    void (*request)(void *ctx, const char *line, size_t len, int client, uint32_t gen);
};

/* Bind and listen at path (a stale socket nobody serves is replaced; anything
 * else there is refused); NULL with err ("--stats PATH: why"). */
struct stats_srv *stats_srv_open(const char *path, char *err, size_t errcap);
/* Accept clients on loop. */
void stats_srv_start(struct stats_srv *s, struct ev_loop *loop, const struct stats_srv_ops *ops, void *ctx);
/* Give every client that has finished its last line the current document (built
 * only when one is waiting). */
void stats_srv_publish(struct stats_srv *s);
/* Queue a reply for client (dropped when that connection is gone: gen differs). */
void stats_srv_reply(struct stats_srv *s, int client, uint32_t gen, cJSON *reply);
/* Close every client and the socket, remove its path. */
void stats_srv_close(struct stats_srv *s);

#endif
