/* The live statistics socket; see stats_srv.h. */
#include "harness/stats_srv.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "harness/live_req.h"

struct stats_client {
    int fd;                       /* -1: free */
    ev_io io;
    char *out;                    /* the lines being sent (owned) */
    size_t len, off;
    struct stats_srv *srv;
    uint32_t gen;                 /* bumped on every accept: a late reply finds its asker gone */
    char in[LIVE_REQ_MAX + 1];    /* the request line being read */
    size_t in_len;
    bool skipping;                /* the line was too long: the rest of it is dropped */
};

struct stats_srv {
    int fd;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    struct ev_loop *loop;         /* NULL until started */
    ev_io accept_io;
    const struct stats_srv_ops *ops;
    void *ctx;
    struct stats_client clients[STATS_SRV_MAX_CLIENTS];
};

static void client_close(struct stats_client *c)
{
    if (c->fd < 0)
        return;
    ev_io_stop(c->srv->loop, &c->io);
    close(c->fd);
    c->fd = -1;
    free(c->out);
    c->out = NULL;
    c->len = c->off = 0;
}

static void client_want(struct stats_client *c)
{
    struct ev_loop *loop = c->srv->loop;
    int ev = (c->len - c->off < STATS_SRV_MAX_PENDING ? EV_READ : 0) | (c->off < c->len ? EV_WRITE : 0);
    if (ev_is_active(&c->io) && (c->io.events & (EV_READ | EV_WRITE)) == ev)
        return;
    ev_io_stop(loop, &c->io);
    ev_io_set(&c->io, c->fd, ev);
    ev_io_start(loop, &c->io);
}

static void client_flush(struct stats_client *c)
{
    while (c->off < c->len) {
        ssize_t n = send(c->fd, c->out + c->off, c->len - c->off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0) {
            client_close(c);
            return;
        }
        c->off += (size_t)n;
    }
    if (c->off >= c->len) {
        free(c->out);
        c->out = NULL;
        c->len = c->off = 0;
    }
    client_want(c);
}

/* Hand a copy of the document to a client that has finished the last one. */
static void client_give(struct stats_client *c, const char *doc, size_t len)
{
    if (c->fd < 0 || c->out)
        return;
    c->out = malloc(len);
    if (!c->out)
        return;
    memcpy(c->out, doc, len);
    c->len = len;
    c->off = 0;
    client_flush(c);
}

static void client_line(struct stats_client *c)
{
    size_t n = c->in_len;
    if (n && c->in[n - 1] == '\r')
        n--;
    size_t sp = 0;
    while (sp < n && (c->in[sp] == ' ' || c->in[sp] == '\t'))
        sp++;
    if (sp < n) /* a blank line asks nothing */
        c->srv->ops->request(c->srv->ctx, c->in, n, (int)(c - c->srv->clients), c->gen);
}

static void client_read(struct stats_client *c)
{
    char buf[4096];
    for (int round = 0; round < 16 && c->fd >= 0 && c->len - c->off < STATS_SRV_MAX_PENDING; round++) {
        ssize_t n = recv(c->fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            client_close(c); /* end of file is its goodbye */
            return;
        }
        const char *p = buf, *end = buf + n;
        while (p < end && c->fd >= 0) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t seg = (size_t)((nl ? nl : end) - p);
            if (!c->skipping && c->in_len + seg > LIVE_REQ_MAX) {
                char err[160];
                snprintf(err, sizeof err, "request: longer than %d bytes; the rest of the line is skipped",
                         LIVE_REQ_MAX);
                c->skipping = true;
                c->in_len = 0;
                stats_srv_reply(c->srv, (int)(c - c->srv->clients), c->gen, live_reply_error(NULL, err));
            }
            if (!c->skipping) {
                memcpy(c->in + c->in_len, p, seg);
                c->in_len += seg;
            }
            if (!nl)
                break;
            if (!c->skipping)
                client_line(c);
            c->skipping = false;
            c->in_len = 0;
            p = nl + 1;
        }
    }
    if (c->fd >= 0)
        client_want(c);
}

static void client_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct stats_client *c = io->data;
    if (revents & EV_READ)
        client_read(c);
    if (c->fd >= 0 && (revents & EV_WRITE))
        client_flush(c);
    (void)loop;
}

void stats_srv_reply(struct stats_srv *s, int client, uint32_t gen, cJSON *reply)
{
    if (!s || client < 0 || client >= STATS_SRV_MAX_CLIENTS || s->clients[client].fd < 0 ||
        s->clients[client].gen != gen) {
        cJSON_Delete(reply);
        return;
    }
    struct stats_client *c = &s->clients[client];
    size_t n;
    char *line = live_json_line(reply, &n);
    if (!line)
        return;
    /* after what is queued: a document being sent is not split */
    char *out = realloc(c->out, c->len + n);
    if (!out) {
        free(line);
        return;
    }
    memcpy(out + c->len, line, n);
    free(line);
    c->out = out;
    c->len += n;
    client_flush(c);
}

static void accept_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct stats_srv *s = io->data;
    for (;;) {
        int fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        struct stats_client *c = NULL;
        for (int i = 0; i < STATS_SRV_MAX_CLIENTS && !c; i++)
            if (s->clients[i].fd < 0)
                c = &s->clients[i];
        if (!c) {
            close(fd); /* full: come back later */
            continue;
        }
        c->fd = fd;
        c->gen++;
        c->in_len = 0;
        c->skipping = false;
        ev_io_init(&c->io, client_cb, fd, EV_READ);
        c->io.data = c;
        ev_io_start(loop, &c->io);
        size_t len;
        char *doc = s->ops->document(s->ctx, 1, &len);
        if (doc) {
            c->out = doc;
            c->len = len;
            c->off = 0;
            client_flush(c);
        } else {
            client_close(c);
        }
    }
    (void)revents;
}

struct stats_srv *stats_srv_open(const char *path, char *err, size_t errcap)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (!path[0] || strlen(path) >= sizeof sa.sun_path) {
        snprintf(err, errcap, "--stats %s: a unix socket path of 1 to %zu bytes", path, sizeof sa.sun_path - 1);
        return NULL;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    struct stat st;
    if (lstat(path, &st) == 0) {
        /* a socket nobody listens on is what a run that ended left behind */
        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int alive = probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0;
        int refused = !alive && errno == ECONNREFUSED;
        if (probe >= 0)
            close(probe);
        if (!S_ISSOCK(st.st_mode) || alive || !refused) {
            snprintf(err, errcap, "--stats %s: %s", path,
                     !S_ISSOCK(st.st_mode) ? "exists and is not a socket" : "another process is serving it");
            return NULL;
        }
        unlink(path);
    }
    struct stats_srv *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errcap, "--stats: out of memory");
        return NULL;
    }
    s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(s->fd, 16) < 0) {
        snprintf(err, errcap, "--stats %s: %s", path, strerror(errno));
        if (s->fd >= 0)
            close(s->fd);
        free(s);
        return NULL;
    }
    memcpy(s->path, path, strlen(path) + 1);
    for (int i = 0; i < STATS_SRV_MAX_CLIENTS; i++) {
        s->clients[i].fd = -1;
        s->clients[i].srv = s;
    }
    return s;
}

void stats_srv_start(struct stats_srv *s, struct ev_loop *loop, const struct stats_srv_ops *ops, void *ctx)
{
    if (!s)
        return;
    s->loop = loop;
    s->ops = ops;
    s->ctx = ctx;
    ev_io_init(&s->accept_io, accept_cb, s->fd, EV_READ);
    s->accept_io.data = s;
    ev_io_start(loop, &s->accept_io);
}

void stats_srv_publish(struct stats_srv *s)
{
    if (!s || !s->loop)
        return;
    int want = 0;
    for (int i = 0; i < STATS_SRV_MAX_CLIENTS; i++)
        want |= s->clients[i].fd >= 0 && !s->clients[i].out;
    if (!want)
        return; /* nobody to give it to: no document built */
    size_t len;
    char *doc = s->ops->document(s->ctx, 0, &len);
    if (!doc)
        return;
    for (int i = 0; i < STATS_SRV_MAX_CLIENTS; i++)
        client_give(&s->clients[i], doc, len);
    free(doc);
}

void stats_srv_close(struct stats_srv *s)
{
    if (!s)
        return;
    for (int i = 0; i < STATS_SRV_MAX_CLIENTS; i++)
        if (s->clients[i].fd >= 0)
            client_close(&s->clients[i]);
    if (s->loop && ev_is_active(&s->accept_io))
        ev_io_stop(s->loop, &s->accept_io);
    close(s->fd);
    unlink(s->path);
    free(s);
}
