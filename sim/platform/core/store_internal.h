/* Internals shared by the store's files (store.c, store_register.c, store_data.c,
 * store_cmd.c).  Not for other modules. */
#ifndef FLEETSIM_STORE_INTERNAL_H
#define FLEETSIM_STORE_INTERNAL_H

#include <sqlite3.h>

#include "sim/platform/core/store.h"

#define STORE_SCHEMA_VERSION 2
#define STORE_BUSY_MS 5000          /* another process may hold the write lock briefly */
#define STORE_SECRET_HEX 16         /* secrets issued: 8 random bytes in hex */

/* Prepared once at open; every use ends with sqlite3_reset so no statement keeps a
 * read transaction open (that would stall WAL checkpoints of every process). */
enum store_stmt {
    SS_BEGIN,            /* BEGIN IMMEDIATE: take the write lock up front, no upgrade deadlock */
    SS_COMMIT,
    SS_ROLLBACK,
    SS_SAVEPOINT,        /* one registration (or one flush) inside a batch */
    SS_RELEASE,
    SS_ROLLBACK_TO,
    SS_PROV_GET,
    SS_PROV_PUT,
    SS_DEV_BY_NAME,
    SS_DEV_BY_ID,
    SS_BINDING_OWNER,
    SS_DEV_PUT,
    SS_DEV_UPDATE,
    SS_DEV_DEL,
    SS_DEV_COUNT,
    SS_DEV_COUNT_PROTO,
    SS_REPORT_PUT,
    SS_REPORT_GET,
    SS_STATUS_PUT,
    SS_STATUS_GET,
    SS_TASK_PUT,
    SS_CMD_PUT,
    SS_CMD_SET,
    SS_CMD_GET,
    SS_CMD_COUNT,
    SS_CMD_COUNT_STATE,
    SS__COUNT
};

/* One latest value in memory: a reported service, or (service "") a device's
 * status.  Allocated once per key, so the table and the dirty list can both point
 * at it and the table can grow without touching the list. */
struct store_val {
    uint32_t hash;
    bool dirty;                 /* on the dirty list */
    bool online;                /* status entries */
    uint32_t gen;               /* bumped by every change */
    uint32_t flushed_gen;       /* gen written by a flush inside a batch not yet committed */
    int64_t at_ms;              /* reports: the device's time; status: since when */
    int64_t arrived_ms;         /* reports: wall clock at arrival, newest arrival wins */
    char *data;                 /* reports: JSON, NUL-terminated */
    size_t data_len;
    size_t data_cap;
    uint8_t proto_len, id_len, svc_len;
    char key[];                 /* protocol NUL device_id NUL service NUL */
};

struct store_slot {
    uint32_t hash;
    struct store_val *v;        /* NULL: empty slot */
};

struct store_vals {
    struct store_slot *slots;
    size_t cap;                 /* power of two, 0 until the first value */
    size_t used;
    struct store_val **dirty;   /* what changed since the last flush: all a flush visits */
    size_t head;                /* dirty[0..head) are written by slices already, dirty[head..n_dirty) wait */
    size_t n_dirty;
    size_t dirty_cap;
    bool batch_flushed;         /* a flush ran inside the open batch */
};

struct store_ckpt;              /* the checkpointing thread (store_ckpt.c) */

struct store {
    sqlite3 *db;
    sqlite3_stmt *st[SS__COUNT];
    bool batch;                 /* between store_begin and store_commit */
    struct store_vals vals;
    struct store_ckpt *ckpt;    /* NULL: SQLite checkpoints on commit, as by default */
};

/* printf into err (if any) */
void store__err(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Wall clock in ms (stored timestamps, not timers). */
int64_t store__now_ms(void);
/* Run a prepared no-result statement (BEGIN/COMMIT/SAVEPOINT...); SQLite rc. */
int store__exec(struct store *s, enum store_stmt st);
/* Reset a statement and drop its bindings. */
void store__done(sqlite3_stmt *st);
/* A string argument of min..max bytes; 0, or -1 with why naming it
 * ("device_id: 70 chars, at most 64").  min 0: NULL is allowed too. */
int store__check_len(const char *name, const char *v, size_t min, size_t max, char *why, size_t cap);
/* Quietly the same: true when v passes. */
bool store__len_ok(const char *v, size_t min, size_t max);

/* Open a unit of work: a transaction of its own outside a batch, a savepoint
 * inside one.  store__work_end keeps it (ok) or undoes it.  0, or -1 with
 * "database: ..." in err (work_end(ok = false) is -1 and leaves err alone). */
int store__work_begin(struct store *s, char *err, size_t cap);
/* SQLite rolled the open batch back (a full disk, an I/O error): a write of one
 * statement must not then autocommit on its own as if it were in the batch. */
bool store__batch_lost(const struct store *s);
int store__work_end(struct store *s, bool ok, char *err, size_t cap);

/* The batch committed: values a flush wrote inside it are clean now. */
void store__vals_committed(struct store_vals *t);
void store__vals_free(struct store_vals *t);

/* The checkpointer runs a checkpoint now: the writer's flush slices wait for it (for
 * at most STORE_CKPT_WAIT_S), so it catches up with the WAL and the next write starts
 * the WAL over.  false without a checkpointer. */
bool store__ckpt_busy(struct store *s);
/* Stop the thread and close its connection (nothing when none). */
void store__ckpt_stop(struct store *s);

/* SQL turning a version 1 file into version 2 (store_v1.c). */
extern const char store__migrate_1_sql[];

#endif
