/* The bus between the platform core and its protocol front-ends: a unix
 * SOCK_SEQPACKET connection per front-end process, each message a batch of
 * records (many position reports in one message, not one each).  Records are
 * normalised: device ids, names, services, JSON data; never a frame.
 *
 * A message is up to BUS_MAX_MSG bytes: records of
 *     type u8 | length u16 (big endian, of the body) | body
 * and a body is a fixed sequence of fields per type: u8, u32, u64 (big endian)
 * and strings (u16 length + bytes, no NUL).  A record type the reader does not
 * know is skipped by its length and counted; a body shorter than its fields, a
 * string past the body's end, or a record past the message's end is an error
 * naming the record and the byte.
 *
 * Front-end -> core: HELLO first (its protocol and index), then REGISTER and AUTH
 * (answered in order by REG_REPLY and AUTH_REPLY with the same token), OFFLINE,
 * UNREGISTER, REPORT, CMD_RESULT, SYNC (answered by SYNC_REPLY once everything
 * before it is stored).  Core -> front-end: the replies, and commands:
 * CMD_BODY parts and CMD_BEGIN (the request once; a body of any size comes in
 * parts of up to BUS_BODY_PART bytes), CMD_TO (the devices it goes to, a batch at a
 * time, each by the handle the front-end gave in AUTH and its device id, so that a
 * result can be told for a device whose connection went meanwhile), CMD_END. */
#ifndef FLEETSIM_BUS_H
#define FLEETSIM_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BUS_MAX_MSG (32 * 1024)
#define BUS_BODY_PART 30000          /* bytes of a body per CMD_BODY record */
#define BUS_MAX_TARGETS 256           /* per CMD_TO record (ids of 64 bytes at most: it fits) */
#define BUS_QUEUE_MAX (64u << 20)     /* bytes waiting on a peer that does not read: it is broken */

enum bus_type {
    BUS_HELLO = 1,      /* s0 protocol; u32 index */
    BUS_REGISTER,       /* u32 token; u8 flags (BUS_REG_PROVISIONED); s0 device id, s1 name,
                           s2 binding, s3 product, s4 attrs (JSON) */
    BUS_AUTH,           /* u32 token; u32 handle; s0 device id, s1 secret */
    BUS_OFFLINE,        /* u32 handle; s0 device id */
    BUS_UNREGISTER,     /* s0 device id */
    BUS_REPORT,         /* u64 at_ms; s0 device id, s1 service, s2 data (JSON) */
    BUS_CMD_RESULT,     /* u32 cmd; u8 state (enum store_cmd_state); s0 device id */
    BUS_SYNC,           /* u32 token */
    BUS_REG_REPLY,      /* u32 token; u8 result (enum store_reg_result); s0 secret, s1 why */
    BUS_AUTH_REPLY,     /* u32 token; u8 ok */
    BUS_SYNC_REPLY,     /* u32 token */
    BUS_CMD_BEGIN,      /* u32 cmd, kind, fleet, step; u64 settle_us; s0 body (JSON) */
    BUS_CMD_TO,         /* u32 cmd; u32 n; n x (u32 handle, s device id) */
    BUS_CMD_END,        /* u32 cmd */
    BUS_CMD_BODY,       /* u32 cmd; s0 the next part of the request's body (before CMD_BEGIN) */
    BUS__TYPES
};

#define BUS_REG_PROVISIONED 0x01      /* the name must have been provisioned */

struct bus_str {
    const char *p;      /* into the message; not NUL-terminated */
    uint16_t n;
};

/* One decoded record; which fields are set depends on type. */
struct bus_rec {
    uint8_t type;
    uint8_t u8;                       /* flags, result, ok, state */
    uint32_t token;                   /* token, cmd, handle of OFFLINE */
    uint32_t handle;                  /* AUTH */
    uint32_t kind, fleet, step, n;
    uint64_t u64;                     /* at_ms, settle_us */
    struct bus_str s[5];
    const uint8_t *targets;           /* CMD_TO: n x (u32 handle, u16 length, id), checked */
    size_t targets_len;
};

const char *bus_type_name(int type);   /* "register"; "?" */
/* Copy a string field into a NUL-terminated buffer; false when it does not fit
 * (or holds a NUL byte). */
bool bus_str_copy(struct bus_str s, char *out, size_t cap);
/* CMD_TO's targets in turn: true with the next handle and device id, false at the
 * end (the reader checked them all). */
struct bus_targets {
    const uint8_t *p, *end;
};
void bus_targets_init(struct bus_targets *it, const struct bus_rec *r);
bool bus_targets_next(struct bus_targets *it, uint32_t *handle, struct bus_str *id);

/* Reading one message: bus_next gives its records in turn.  1 with *r, 0 at the
 * end, -1 with err ("record 3 (register) at byte 57: string of 300 bytes runs past
 * the record's end").  Unknown types are skipped (counted in *unknown). */
struct bus_reader {
    const uint8_t *msg;
    size_t len, off;
    int index;
    uint64_t unknown;
};
void bus_reader_init(struct bus_reader *rd, const uint8_t *msg, size_t len);
int bus_next(struct bus_reader *rd, struct bus_rec *r, char *err, size_t errcap);

/* Writing: records go into the message being built; a full message is sent, or
 * queued when the socket would block (the owner then watches for writability
 * while bus_out_pending and calls bus_out_flush).  Errors are sticky: once the
 * peer failed, every call returns -1 and err says why. */
struct bus_qmsg;
struct bus_out {
    int fd;
    uint8_t msg[BUS_MAX_MSG];
    size_t len;
    struct bus_qmsg *head, *tail;     /* whole messages the socket did not take yet */
    size_t queued;                    /* their bytes */
    uint64_t msgs, records;           /* sent (or queued) so far */
    bool hold;                        /* queue whole messages instead of sending (the core
                                         holds replies until their transaction commits) */
    char err[160];
};
void bus_out_init(struct bus_out *o, int fd);
void bus_out_free(struct bus_out *o);       /* drops what is queued; does not close fd */
/* Send the message being built and what is queued, as far as the socket takes. */
int bus_out_flush(struct bus_out *o);
static inline bool bus_out_pending(const struct bus_out *o) { return o->head != NULL; }
static inline bool bus_out_dirty(const struct bus_out *o) { return o->len > 0 || o->head != NULL; }

/* Append one record.  Strings are (pointer, NUL-terminated); NULL is "".  A string
 * longer than 65535 bytes, or a record over a message, is refused (-1, err). */
int bus_hello(struct bus_out *o, const char *protocol, uint32_t index);
int bus_register(struct bus_out *o, uint32_t token, uint8_t flags, const char *device_id, const char *name,
                 const char *binding, const char *product, const char *attrs);
int bus_auth(struct bus_out *o, uint32_t token, uint32_t handle, const char *device_id, const char *secret);
int bus_offline(struct bus_out *o, uint32_t handle, const char *device_id);
int bus_unregister(struct bus_out *o, const char *device_id);
int bus_report(struct bus_out *o, uint64_t at_ms, const char *device_id, const char *service, const char *data);
int bus_cmd_result(struct bus_out *o, uint32_t cmd, uint8_t state, const char *device_id);
int bus_sync(struct bus_out *o, uint32_t token);
int bus_reg_reply(struct bus_out *o, uint32_t token, uint8_t result, const char *secret, const char *why);
int bus_auth_reply(struct bus_out *o, uint32_t token, bool ok);
int bus_sync_reply(struct bus_out *o, uint32_t token);
/* CMD_BODY parts of body (any length), then CMD_BEGIN. */
int bus_cmd_begin(struct bus_out *o, uint32_t cmd, uint32_t kind, uint32_t fleet, uint32_t step, uint64_t settle_us,
                  const char *body);
/* The devices a command goes to: handles[i] is how the front-end named the
 * connection of ids[i]. */
int bus_cmd_to(struct bus_out *o, uint32_t cmd, const uint32_t *handles, const char *const *ids, uint32_t n);
int bus_cmd_end(struct bus_out *o, uint32_t cmd);

/* Receive one message (non-blocking fd): its length, 0 when the peer closed, -1
 * with errno (EAGAIN: nothing there).  A message longer than cap is an error
 * (EMSGSIZE): it would have been cut. */
long bus_recv(int fd, uint8_t *buf, size_t cap);

#endif
