/* The core <-> front-end bus: record encoding, batching, and a send queue that
 * never drops a message. */
#include "sim/platform/core/bus.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct bus_qmsg {
    struct bus_qmsg *next;
    size_t len;
    uint8_t data[];
};

static const char *const TYPE_NAMES[BUS__TYPES] = {
    [BUS_HELLO] = "hello",         [BUS_REGISTER] = "register",     [BUS_AUTH] = "auth",
    [BUS_OFFLINE] = "offline",     [BUS_UNREGISTER] = "unregister", [BUS_REPORT] = "report",
    [BUS_CMD_RESULT] = "cmd-result", [BUS_SYNC] = "sync",           [BUS_REG_REPLY] = "reg-reply",
    [BUS_AUTH_REPLY] = "auth-reply", [BUS_SYNC_REPLY] = "sync-reply", [BUS_CMD_BEGIN] = "cmd-begin",
    [BUS_CMD_TO] = "cmd-to",       [BUS_CMD_END] = "cmd-end",       [BUS_CMD_BODY] = "cmd-body",
};

const char *bus_type_name(int type)
{
    return type > 0 && type < BUS__TYPES && TYPE_NAMES[type] ? TYPE_NAMES[type] : "?";
}

bool bus_str_copy(struct bus_str s, char *out, size_t cap)
{
    if (!cap || (size_t)s.n >= cap || (s.n && memchr(s.p, 0, s.n))) {
        if (cap)
            out[0] = '\0';
        return false;
    }
    if (s.n)
        memcpy(out, s.p, s.n);
    out[s.n] = '\0';
    return true;
}

static uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

void bus_targets_init(struct bus_targets *it, const struct bus_rec *r)
{
    it->p = r->targets;
    it->end = r->targets ? r->targets + r->targets_len : NULL;
}

bool bus_targets_next(struct bus_targets *it, uint32_t *handle, struct bus_str *id)
{
    if (!it->p || it->end - it->p < 6)
        return false;
    *handle = get32(it->p);
    id->n = (uint16_t)(it->p[4] << 8 | it->p[5]);
    id->p = (const char *)it->p + 6;
    it->p += 6u + id->n;
    return true;
}

/* --- reading ------------------------------------------------------------------------ */

void bus_reader_init(struct bus_reader *rd, const uint8_t *msg, size_t len)
{
    memset(rd, 0, sizeof *rd);
    rd->msg = msg;
    rd->len = len;
}

struct cur {
    const uint8_t *p;
    size_t off, end;   /* offsets into the message */
    const char *what;  /* the field that did not fit */
};

static bool need(struct cur *c, size_t n, const char *what)
{
    if (c->end - c->off < n) {
        c->what = what;
        return false;
    }
    return true;
}

static bool u8f(struct cur *c, uint8_t *v, const char *what)
{
    if (!need(c, 1, what))
        return false;
    *v = c->p[c->off++];
    return true;
}

static bool u32f(struct cur *c, uint32_t *v, const char *what)
{
    if (!need(c, 4, what))
        return false;
    *v = get32(c->p + c->off);
    c->off += 4;
    return true;
}

static bool u64f(struct cur *c, uint64_t *v, const char *what)
{
    uint32_t hi, lo;
    if (!u32f(c, &hi, what) || !u32f(c, &lo, what))
        return false;
    *v = (uint64_t)hi << 32 | lo;
    return true;
}

static bool strf(struct cur *c, struct bus_str *s, const char *what)
{
    if (!need(c, 2, what))
        return false;
    uint16_t n = (uint16_t)(c->p[c->off] << 8 | c->p[c->off + 1]);
    if (c->end - c->off - 2 < n) {
        c->what = what;
        return false;
    }
    s->p = (const char *)c->p + c->off + 2;
    s->n = n;
    c->off += 2u + n;
    return true;
}

static void fail(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(char *err, size_t cap, const char *fmt, ...)
{
    if (!err || !cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
}

static bool body(struct cur *c, struct bus_rec *r)
{
    switch (r->type) {
    case BUS_HELLO:
        return strf(c, &r->s[0], "protocol") && u32f(c, &r->token, "index");
    case BUS_REGISTER:
        return u32f(c, &r->token, "token") && u8f(c, &r->u8, "flags") && strf(c, &r->s[0], "device_id") &&
               strf(c, &r->s[1], "name") && strf(c, &r->s[2], "binding") && strf(c, &r->s[3], "product") &&
               strf(c, &r->s[4], "attrs");
    case BUS_AUTH:
        return u32f(c, &r->token, "token") && u32f(c, &r->handle, "handle") && strf(c, &r->s[0], "device_id") &&
               strf(c, &r->s[1], "secret");
    case BUS_OFFLINE:
        return u32f(c, &r->handle, "handle") && strf(c, &r->s[0], "device_id");
    case BUS_UNREGISTER:
        return strf(c, &r->s[0], "device_id");
    case BUS_REPORT:
        return u64f(c, &r->u64, "at_ms") && strf(c, &r->s[0], "device_id") && strf(c, &r->s[1], "service") &&
               strf(c, &r->s[2], "data");
    case BUS_CMD_RESULT:
        return u32f(c, &r->token, "cmd") && u8f(c, &r->u8, "state") && strf(c, &r->s[0], "device_id");
    case BUS_SYNC:
    case BUS_SYNC_REPLY:
        return u32f(c, &r->token, "token");
    case BUS_REG_REPLY:
        return u32f(c, &r->token, "token") && u8f(c, &r->u8, "result") && strf(c, &r->s[0], "secret") &&
               strf(c, &r->s[1], "why");
    case BUS_AUTH_REPLY:
        return u32f(c, &r->token, "token") && u8f(c, &r->u8, "ok");
    case BUS_CMD_BEGIN:
        return u32f(c, &r->token, "cmd") && u32f(c, &r->kind, "kind") && u32f(c, &r->fleet, "fleet") &&
               u32f(c, &r->step, "step") && u64f(c, &r->u64, "settle_us") && strf(c, &r->s[0], "body");
    case BUS_CMD_TO:
        if (!u32f(c, &r->token, "cmd") || !u32f(c, &r->n, "n"))
            return false;
        if (r->n > BUS_MAX_TARGETS) {
            c->what = "n (over 256 targets)";
            return false;
        }
        r->targets = c->p + c->off;
        for (uint32_t i = 0; i < r->n; i++) {
            uint32_t h;
            struct bus_str id;
            if (!u32f(c, &h, "a target's handle") || !strf(c, &id, "a target's device id"))
                return false;
        }
        r->targets_len = (size_t)(c->p + c->off - r->targets);
        return true;
    case BUS_CMD_END:
        return u32f(c, &r->token, "cmd");
    case BUS_CMD_BODY:
        return u32f(c, &r->token, "cmd") && strf(c, &r->s[0], "part");
    default:
        return true;
    }
}

int bus_next(struct bus_reader *rd, struct bus_rec *r, char *err, size_t errcap)
{
    for (;;) {
        if (rd->off >= rd->len)
            return 0;
        size_t at = rd->off;
        int idx = ++rd->index;
        if (rd->len - at < 3) {
            fail(err, errcap, "record %d at byte %zu: %zu bytes left, a record header needs 3", idx, at,
                 rd->len - at);
            return -1;
        }
        memset(r, 0, sizeof *r);
        r->type = rd->msg[at];
        size_t n = (size_t)(rd->msg[at + 1] << 8 | rd->msg[at + 2]);
        if (rd->len - at - 3 < n) {
            fail(err, errcap, "record %d (%s) at byte %zu: length %zu runs past the message's end (%zu bytes)", idx,
                 bus_type_name(r->type), at, n, rd->len);
            return -1;
        }
        rd->off = at + 3 + n;
        if (r->type == 0 || r->type >= BUS__TYPES) {
            rd->unknown++;
            continue;
        }
        struct cur c = {.p = rd->msg, .off = at + 3, .end = at + 3 + n};
        if (!body(&c, r)) {
            fail(err, errcap, "record %d (%s) at byte %zu: %s runs past the record's end (%zu bytes)", idx,
                 bus_type_name(r->type), c.off, c.what, n);
            return -1;
        }
        /* bytes after the known fields: a newer writer's additions, ignored */
        return 1;
    }
}

/* --- writing ------------------------------------------------------------------------ */

void bus_out_init(struct bus_out *o, int fd)
{
    memset(o, 0, sizeof *o);
    o->fd = fd;
}

void bus_out_free(struct bus_out *o)
{
    while (o->head) {
        struct bus_qmsg *q = o->head;
        o->head = q->next;
        free(q);
    }
    o->tail = NULL;
    o->queued = 0;
    o->len = 0;
}

static int sticky(struct bus_out *o)
{
    return o->err[0] ? -1 : 0;
}

/* Queue a copy of msg behind what waits. */
static int enqueue(struct bus_out *o, const uint8_t *msg, size_t len)
{
    if (o->queued + len > BUS_QUEUE_MAX) {
        snprintf(o->err, sizeof o->err, "bus: the peer has not read %zu bytes: not going on", o->queued);
        return -1;
    }
    struct bus_qmsg *q = malloc(sizeof *q + len);
    if (!q) {
        snprintf(o->err, sizeof o->err, "bus: out of memory queueing %zu bytes", len);
        return -1;
    }
    q->next = NULL;
    q->len = len;
    memcpy(q->data, msg, len);
    if (o->tail)
        o->tail->next = q;
    else
        o->head = q;
    o->tail = q;
    o->queued += len;
    return 0;
}

/* 1 sent, 0 would block, -1 failed (err set). */
static int send_one(struct bus_out *o, const uint8_t *msg, size_t len)
{
    for (;;) {
        ssize_t n = send(o->fd, msg, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n >= 0)
            return 1;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
            return 0;
        snprintf(o->err, sizeof o->err, "bus: send: %s", strerror(errno));
        return -1;
    }
}

static int seal(struct bus_out *o)
{
    if (!o->len)
        return 0;
    int r = o->head || o->hold ? 0 : send_one(o, o->msg, o->len);
    if (r < 0)
        return -1;
    if (r == 0 && enqueue(o, o->msg, o->len) < 0)
        return -1;
    o->msgs++;
    o->len = 0;
    return 0;
}

int bus_out_flush(struct bus_out *o)
{
    if (sticky(o))
        return -1;
    if (o->hold)
        return 0;
    while (o->head) {
        struct bus_qmsg *q = o->head;
        int r = send_one(o, q->data, q->len);
        if (r < 0)
            return -1;
        if (r == 0)
            return 0;
        o->head = q->next;
        if (!o->head)
            o->tail = NULL;
        o->queued -= q->len;
        free(q);
    }
    return seal(o);
}

/* A record being built in a local buffer, then appended whole. */
struct rec {
    uint8_t b[BUS_MAX_MSG];
    size_t n;
    bool bad;
};

static void p8(struct rec *r, uint8_t v)
{
    if (r->n + 1 > sizeof r->b) {
        r->bad = true;
        return;
    }
    r->b[r->n++] = v;
}

static void p32(struct rec *r, uint32_t v)
{
    p8(r, (uint8_t)(v >> 24));
    p8(r, (uint8_t)(v >> 16));
    p8(r, (uint8_t)(v >> 8));
    p8(r, (uint8_t)v);
}

static void p64(struct rec *r, uint64_t v)
{
    p32(r, (uint32_t)(v >> 32));
    p32(r, (uint32_t)v);
}

static void pstr(struct rec *r, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n > 0xFFFF || r->n + 2 + n > sizeof r->b) {
        r->bad = true;
        return;
    }
    p8(r, (uint8_t)(n >> 8));
    p8(r, (uint8_t)n);
    if (n)
        memcpy(r->b + r->n, s, n);
    r->n += n;
}

static struct rec scratch;

static struct rec *begin(uint8_t type)
{
    scratch.n = 0;
    scratch.bad = false;
    p8(&scratch, type);
    p8(&scratch, 0);
    p8(&scratch, 0);
    return &scratch;
}

static int append(struct bus_out *o, struct rec *r)
{
    if (sticky(o))
        return -1;
    if (r->bad || r->n > BUS_MAX_MSG) {
        snprintf(o->err, sizeof o->err, "bus: a %s record over %d bytes", bus_type_name(r->b[0]), BUS_MAX_MSG);
        return -1;
    }
    size_t body = r->n - 3;
    r->b[1] = (uint8_t)(body >> 8);
    r->b[2] = (uint8_t)body;
    if (o->len + r->n > BUS_MAX_MSG && seal(o) < 0)
        return -1;
    memcpy(o->msg + o->len, r->b, r->n);
    o->len += r->n;
    o->records++;
    return 0;
}

int bus_hello(struct bus_out *o, const char *protocol, uint32_t index)
{
    struct rec *r = begin(BUS_HELLO);
    pstr(r, protocol);
    p32(r, index);
    return append(o, r);
}

int bus_register(struct bus_out *o, uint32_t token, uint8_t flags, const char *device_id, const char *name,
                 const char *binding, const char *product, const char *attrs)
{
    struct rec *r = begin(BUS_REGISTER);
    p32(r, token);
    p8(r, flags);
    pstr(r, device_id);
    pstr(r, name);
    pstr(r, binding);
    pstr(r, product);
    pstr(r, attrs);
    return append(o, r);
}

int bus_auth(struct bus_out *o, uint32_t token, uint32_t handle, const char *device_id, const char *secret)
{
    struct rec *r = begin(BUS_AUTH);
    p32(r, token);
    p32(r, handle);
    pstr(r, device_id);
    pstr(r, secret);
    return append(o, r);
}

int bus_offline(struct bus_out *o, uint32_t handle, const char *device_id)
{
    struct rec *r = begin(BUS_OFFLINE);
    p32(r, handle);
    pstr(r, device_id);
    return append(o, r);
}

int bus_unregister(struct bus_out *o, const char *device_id)
{
    struct rec *r = begin(BUS_UNREGISTER);
    pstr(r, device_id);
    return append(o, r);
}

int bus_report(struct bus_out *o, uint64_t at_ms, const char *device_id, const char *service, const char *data)
{
    struct rec *r = begin(BUS_REPORT);
    p64(r, at_ms);
    pstr(r, device_id);
    pstr(r, service);
    pstr(r, data);
    return append(o, r);
}

int bus_cmd_result(struct bus_out *o, uint32_t cmd, uint8_t state, const char *device_id)
{
    struct rec *r = begin(BUS_CMD_RESULT);
    p32(r, cmd);
    p8(r, state);
    pstr(r, device_id);
    return append(o, r);
}

int bus_sync(struct bus_out *o, uint32_t token)
{
    struct rec *r = begin(BUS_SYNC);
    p32(r, token);
    return append(o, r);
}

int bus_reg_reply(struct bus_out *o, uint32_t token, uint8_t result, const char *secret, const char *why)
{
    struct rec *r = begin(BUS_REG_REPLY);
    p32(r, token);
    p8(r, result);
    pstr(r, secret);
    pstr(r, why);
    return append(o, r);
}

int bus_auth_reply(struct bus_out *o, uint32_t token, bool ok)
{
    struct rec *r = begin(BUS_AUTH_REPLY);
    p32(r, token);
    p8(r, ok ? 1 : 0);
    return append(o, r);
}

int bus_sync_reply(struct bus_out *o, uint32_t token)
{
    struct rec *r = begin(BUS_SYNC_REPLY);
    p32(r, token);
    return append(o, r);
}

int bus_cmd_begin(struct bus_out *o, uint32_t cmd, uint32_t kind, uint32_t fleet, uint32_t step, uint64_t settle_us,
                  const char *body)
{
    size_t n = body ? strlen(body) : 0;
    static char part[BUS_BODY_PART + 1];
    for (size_t off = 0; off < n; off += BUS_BODY_PART) {
        size_t k = n - off < BUS_BODY_PART ? n - off : BUS_BODY_PART;
        memcpy(part, body + off, k);
        part[k] = '\0';
        struct rec *r = begin(BUS_CMD_BODY);
        p32(r, cmd);
        pstr(r, part);
        if (append(o, r) < 0)
            return -1;
    }
    struct rec *r = begin(BUS_CMD_BEGIN);
    p32(r, cmd);
    p32(r, kind);
    p32(r, fleet);
    p32(r, step);
    p64(r, settle_us);
    pstr(r, "");
    return append(o, r);
}

int bus_cmd_to(struct bus_out *o, uint32_t cmd, const uint32_t *handles, const char *const *ids, uint32_t n)
{
    if (n > BUS_MAX_TARGETS) {
        snprintf(o->err, sizeof o->err, "bus: cmd-to with %u targets, at most %d", n, BUS_MAX_TARGETS);
        return -1;
    }
    struct rec *r = begin(BUS_CMD_TO);
    p32(r, cmd);
    p32(r, n);
    for (uint32_t i = 0; i < n; i++) {
        p32(r, handles[i]);
        pstr(r, ids[i]);
    }
    return append(o, r);
}

int bus_cmd_end(struct bus_out *o, uint32_t cmd)
{
    struct rec *r = begin(BUS_CMD_END);
    p32(r, cmd);
    return append(o, r);
}

long bus_recv(int fd, uint8_t *buf, size_t cap)
{
    for (;;) {
        ssize_t n = recv(fd, buf, cap, MSG_DONTWAIT | MSG_TRUNC);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if ((size_t)n > cap) {
            errno = EMSGSIZE;
            return -1;
        }
        return (long)n;
    }
}
