/* libFuzzer target: any bytes as a bus message, as the platform core reads what a
 * front-end sends and a front-end what the core sends.  Every record either
 * decodes within the message or the reader says where it stopped; decoded strings
 * and handles lie inside the input; what decodes re-encodes to a message that
 * decodes to the same records. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sim/platform/core/bus.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(const uint8_t *data, size_t size, const void *p, size_t n)
{
    const uint8_t *b = p;
    if (n && (b < data || b + n > data + size))
        abort();
}

static int reencode(struct bus_out *o, const struct bus_rec *r)
{
    static char s[5][65536 + 1];
    for (int i = 0; i < 5; i++) {
        memcpy(s[i], r->s[i].p ? r->s[i].p : "", r->s[i].n);
        s[i][r->s[i].n] = '\0';
        if (memchr(s[i], 0, r->s[i].n))
            return 1; /* the writer takes C strings: a NUL inside cannot round-trip */
    }
    switch (r->type) {
    case BUS_HELLO: return bus_hello(o, s[0], r->token);
    case BUS_REGISTER: return bus_register(o, r->token, r->u8, s[0], s[1], s[2], s[3], s[4]);
    case BUS_AUTH: return bus_auth(o, r->token, r->handle, s[0], s[1]);
    case BUS_OFFLINE: return bus_offline(o, r->handle, s[0]);
    case BUS_UNREGISTER: return bus_unregister(o, s[0]);
    case BUS_REPORT: return bus_report(o, r->u64, s[0], s[1], s[2]);
    case BUS_CMD_RESULT: return bus_cmd_result(o, r->token, r->u8, s[0]);
    case BUS_SYNC: return bus_sync(o, r->token);
    case BUS_SYNC_REPLY: return bus_sync_reply(o, r->token);
    case BUS_REG_REPLY: return bus_reg_reply(o, r->token, r->u8, s[0], s[1]);
    case BUS_AUTH_REPLY: return r->u8 > 1 ? 1 : bus_auth_reply(o, r->token, r->u8);
    case BUS_CMD_END: return bus_cmd_end(o, r->token);
    default: return 1; /* the others are written in parts or from arrays */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > BUS_MAX_MSG)
        return 0;
    static struct bus_out o;
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds) < 0)
        abort();
    bus_out_init(&o, fds[0]);
    struct bus_reader rd;
    struct bus_rec r;
    char err[256];
    int rc, n = 0, mismatch_free = 1;
    static struct bus_rec first[64];
    bus_reader_init(&rd, data, size);
    while ((rc = bus_next(&rd, &r, err, sizeof err)) > 0) {
        for (int i = 0; i < 5; i++)
            inside(data, size, r.s[i].p, r.s[i].n);
        if (r.type == BUS_CMD_TO) {
            if (r.n > BUS_MAX_TARGETS)
                abort();
            inside(data, size, r.targets, r.targets_len);
            struct bus_targets it;
            uint32_t h, k = 0;
            struct bus_str id;
            bus_targets_init(&it, &r);
            while (bus_targets_next(&it, &h, &id)) {
                inside(data, size, id.p, id.n);
                k++;
            }
            if (k != r.n)
                abort(); /* the reader checked every target it announced */
        }
        int e = reencode(&o, &r);
        if (e < 0)
            abort(); /* anything the reader took fits a record again */
        if (e == 0 && n < 64)
            first[n++] = r;
        else
            mismatch_free = 0;
    }
    if (rc < 0 && !strstr(err, "record "))
        abort(); /* an error names the record */
    if (bus_out_flush(&o) < 0)
        abort();
    if (mismatch_free && n) {
        static uint8_t back[BUS_MAX_MSG];
        long len = bus_recv(fds[1], back, sizeof back);
        if (len <= 0)
            abort();
        struct bus_reader rd2;
        struct bus_rec r2;
        bus_reader_init(&rd2, back, (size_t)len);
        for (int i = 0; i < n; i++) {
            if (bus_next(&rd2, &r2, err, sizeof err) != 1 || r2.type != first[i].type ||
                r2.token != first[i].token || r2.u8 != first[i].u8 || r2.u64 != first[i].u64)
                abort();
            for (int k = 0; k < 5; k++)
                if (r2.s[k].n != first[i].s[k].n || (r2.s[k].n && memcmp(r2.s[k].p, first[i].s[k].p, r2.s[k].n) != 0))
                    abort();
        }
    }
    bus_out_free(&o);
    close(fds[0]);
    close(fds[1]);
    return 0;
}
