/* The platform core's store: the platform's SQLite file (WAL), of which the core
 * process is the only writer.  Protocol-independent: devices are keyed by
 * (protocol, device id), the id a device speaks with on the wire (a JT/T 808
 * phone number, an LwM2M endpoint name, an MQTT client id).  No frame, no
 * socket: the core calls these with what the front-ends sent it.
 *
 * Registration rules (a front-end maps the results to its protocol's codes):
 *  - a device has a name, unique per protocol (JT/T 808: manufacturer_model_id),
 *    and may have a binding, unique per protocol when not "" (JT/T 808: the
 *    vehicle, plate colour and plate);
 *  - with provisioning required, the name must have been provisioned
 *    (STORE_REG_NOT_PROVISIONED), and a provisioned binding must be this one
 *    (STORE_REG_BINDING_MISMATCH; a provisioned "" binding accepts any);
 *  - the name registered under another device id: STORE_REG_NAME_TAKEN;
 *  - the binding held by another device: STORE_REG_BINDING_TAKEN;
 *  - the same device id and name again: OK with a new secret, and the old one
 *    no longer authenticates (JT/T 808 8.7: a registration issues the auth code;
 *    the binding follows the new one); a device id with a new name replaces its
 *    old registration and gets a new secret too.
 * The checks run in that order (provisioning, name, binding).
 *
 * Reported data: the latest value per (protocol, device id, service), kept in
 * memory and written by store_flush in one transaction, only what changed. */
#ifndef FLEETSIM_STORE_H
#define FLEETSIM_STORE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_PROTOCOL_MAX 15   /* "jt808", "lwm2m", "mqtt" */
#define STORE_ID_MAX 64         /* device ids: JT/T 808 phones are 20 digits at most */
#define STORE_NAME_MAX 128
#define STORE_BINDING_MAX 80
#define STORE_SECRET_MAX 32     /* secrets issued: 16 lower-case hex digits */
#define STORE_SERVICE_MAX 32
#define STORE_DATA_MAX 4096     /* one reported value, JSON */
#define STORE_BODY_MAX (256 * 1024) /* a task's request body, JSON (an upgrade package in hex) */

enum store_reg_result {
    STORE_REG_OK = 0,
    STORE_REG_BINDING_TAKEN,    /* the binding belongs to another device */
    STORE_REG_BINDING_MISMATCH, /* the name was provisioned with another binding */
    STORE_REG_NAME_TAKEN,       /* the name is registered under another device id */
    STORE_REG_NOT_PROVISIONED,  /* provisioning required and the name is not provisioned */
    STORE_REG_ERROR,            /* a bad argument or a database failure: why says */
};

/* The life of one command to one device (spec.md §3). */
enum store_cmd_state {
    STORE_CMD_PENDING = 0,
    STORE_CMD_EXPIRED,
    STORE_CMD_CANCELED,
    STORE_CMD_SENT,
    STORE_CMD_TIMEOUT,
    STORE_CMD_DELIVERED,
    STORE_CMD_SUCCESSFUL,
    STORE_CMD_FAIL,
    STORE_CMD__COUNT
};
const char *store_cmd_state_name(enum store_cmd_state st); /* "SENT"; "?" out of range */

struct store_device {
    const char *protocol;
    const char *device_id;
    const char *name;
    const char *binding;        /* "" or NULL: none */
    const char *product;        /* "" or NULL: none */
    const char *attrs;          /* a JSON object of the protocol's own fields, or NULL */
};

struct store_provision {
    const char *protocol;
    const char *name;
    const char *binding;        /* "" or NULL: any binding */
};

struct store;

/* Open (create, or migrate an older schema) the file at path (":memory:" allowed).
 * 0, or -1 with err. */
int store_open(struct store **out, const char *path, char *err, size_t errcap);
/* Flushes what is pending (errors go to stderr), then closes. */
void store_close(struct store *s);

/* A batch: everything between begin and commit is one transaction.  Calls made
 * outside a batch are transactions of their own.  0, or -1 with err. */
int store_begin(struct store *s, char *err, size_t errcap);
int store_commit(struct store *s, char *err, size_t errcap);

/* Register d.  STORE_REG_OK fills secret (NUL-terminated; cap >= STORE_SECRET_MAX + 1).
 * A refused or failed registration changes nothing, inside a batch too. */
enum store_reg_result store_register(struct store *s, const struct store_device *d, bool provisioned_only,
                                     char *secret, size_t secret_cap, char *why, size_t whycap);
/* Provision a name (insert, or replace its binding).  0, or -1 with err. */
int store_provision(struct store *s, const struct store_provision *p, char *err, size_t errcap);
/* True when the device is registered with this secret. */
bool store_auth(struct store *s, const char *protocol, const char *device_id, const char *secret);
/* The northbound API's changes to a registration: a new name (1 when another
 * device of the protocol has it), a secret chosen by the application (a PSK).
 * 0, or -1 with why. */
int store_rename(struct store *s, const char *protocol, const char *device_id, const char *name, char *why,
                 size_t whycap);
int store_set_secret(struct store *s, const char *protocol, const char *device_id, const char *secret, char *why,
                     size_t whycap);
/* Forget a device's registration; false when it had none. */
bool store_unregister(struct store *s, const char *protocol, const char *device_id);
/* The registered device's name ("" and false when none). */
bool store_device_name(struct store *s, const char *protocol, const char *device_id, char *out, size_t cap);
/* Registered devices of protocol (NULL: of all). */
size_t store_count(struct store *s, const char *protocol);

/* Online or offline since at_ms (wall clock); kept in memory, flushed. */
void store_status(struct store *s, const char *protocol, const char *device_id, bool online, int64_t at_ms);
/* The latest value of a service (data: JSON, at most STORE_DATA_MAX bytes; longer is
 * refused with -1), at at_ms (the device's own time, unix ms).  Memory only. */
int store_report(struct store *s, const char *protocol, const char *device_id, const char *service,
                 const char *data, int64_t at_ms);
/* Write what changed since the last flush, in one transaction.  0, or -1 with err. */
int store_flush(struct store *s, char *err, size_t errcap);
/* The same a slice at a time, so that an event loop serves its other events between
 * slices: one transaction holding as many values as fit in budget_s seconds of work
 * (at least one), resuming where the last slice stopped.  Values are written in the
 * order they first changed since they were last written; a value changed again after
 * its slice is written again later, so every change is written.  store_flush (and
 * store_close) write whatever the slices left.  Inside a batch, the same as store_flush.
 * STORE_FLUSH_DONE (nothing left), STORE_FLUSH_MORE (call again), STORE_FLUSH_WAIT
 * (nothing written: a checkpoint is catching up with the WAL, see
 * store_checkpointer_start; call again in a while), or -1 with err (what the slice
 * held stays to be written). */
enum { STORE_FLUSH_DONE = 0, STORE_FLUSH_MORE = 1, STORE_FLUSH_WAIT = 2 };
int store_flush_slice(struct store *s, double budget_s, char *err, size_t errcap);
/* Values changed and not yet written. */
size_t store_pending(const struct store *s);

/* Checkpoint the WAL on a thread of its own, with its own connection, instead of on
 * the commit that crosses SQLite's auto-checkpoint threshold (which copies the WAL
 * into the database and syncs both on the writer's thread: tens of ms on the loop).
 * After a commit leaves frames or more pages in the WAL, the thread runs a passive
 * checkpoint (it never blocks the writer); while it runs, store_flush_slice waits
 * (STORE_FLUSH_WAIT, at most STORE_CKPT_WAIT_S), so that the checkpoint copies the
 * whole WAL and the next write starts the WAL file over from its beginning: its size
 * stays bounded.  nice is added to the thread's scheduling priority.  No-op for a
 * memory database.  0, or -1 with err (the store then checkpoints as before). */
#define STORE_CKPT_WAIT_S 0.5
int store_checkpointer_start(struct store *s, unsigned frames, int nice, char *err, size_t errcap);

/* The WAL as the writer saw it, and the checkpointer's work. */
struct store_wal_stats {
    uint64_t frames_max;        /* the most pages the WAL held after a commit */
    uint64_t frames_written;    /* pages committed into the WAL in all */
    uint64_t restarts;          /* times a commit found the WAL started over */
    uint64_t checkpoints;       /* checkpoints the thread ran */
    uint64_t incomplete;        /* of which left frames behind (a write came in meanwhile, or a reader) */
    double ckpt_longest_s;      /* the longest checkpoint, wall clock */
    uint64_t flush_waits;       /* flush slices that waited for a checkpoint */
    uint32_t page_size;         /* bytes a frame holds */
};
void store_wal_stats(struct store *s, struct store_wal_stats *out);
/* Read back a flushed value: false when none. */
bool store_last_report(struct store *s, const char *protocol, const char *device_id, const char *service,
                       char *data, size_t cap, int64_t *at_ms);
/* A flushed status: false when none. */
bool store_last_status(struct store *s, const char *protocol, const char *device_id, bool *online,
                       int64_t *at_ms);

/* A registered device as the northbound API shows it: deviceId, protocolType, name,
 * binding, productId, attributes, createTime, status (ONLINE, OFFLINE, INACTIVE:
 * never connected) and statusTime, services [{serviceId, data, eventTime}] of what
 * was flushed.  0 with *out (the caller deletes it), 1 when no device has that id,
 * -1 with err. */
int store_device_json(struct store *s, const char *device_id, cJSON **out, char *err, size_t errcap);

/* The protocol of the registered device with this id (the API names devices by id
 * alone; the first protocol in name order when several have it): false when none. */
bool store_device_protocol(struct store *s, const char *device_id, char *protocol, size_t cap);

/* The store's SQLite connection, for the core's services and their own tables
 * (svc.h): they write inside the core's batch, and prepare their own statements. */
struct sqlite3;
struct sqlite3 *store_sqlite(struct store *s);

/* Commands.  A task is one request to many devices (a scenario's command step, a
 * batch task of the API); a command is the task for one device. */
int64_t store_task_new(struct store *s, const char *kind, const char *body, int64_t at_ms, char *err,
                       size_t errcap);                   /* the task's id, or -1 with err */
int store_command_put(struct store *s, int64_t task, const char *protocol, const char *device_id,
                      enum store_cmd_state st, int64_t at_ms);          /* 0 or -1 */
int store_command_state(struct store *s, int64_t task, const char *protocol, const char *device_id,
                        enum store_cmd_state st, int64_t at_ms);        /* 0 or -1 (no such command) */
/* Commands of a task in state st (st < 0: all). */
size_t store_command_count(struct store *s, int64_t task, int st);
/* The state of one command: -1 when none. */
int store_command_get(struct store *s, int64_t task, const char *protocol, const char *device_id);

#endif
