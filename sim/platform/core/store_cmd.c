/* Tasks and commands.  A command's state is stored by name ("SENT"), so the file
 * reads the same to any other reader and an enum reordered later cannot change
 * what a stored row means. */
#include <stdio.h>
#include <string.h>

#include "sim/platform/core/store_internal.h"

static const char *const STATE_NAME[STORE_CMD__COUNT] = {
    [STORE_CMD_PENDING] = "PENDING",
    [STORE_CMD_EXPIRED] = "EXPIRED",
    [STORE_CMD_CANCELED] = "CANCELED",
    [STORE_CMD_SENT] = "SENT",
    [STORE_CMD_TIMEOUT] = "TIMEOUT",
    [STORE_CMD_DELIVERED] = "DELIVERED",
    [STORE_CMD_SUCCESSFUL] = "SUCCESSFUL",
    [STORE_CMD_FAIL] = "FAIL",
};

const char *store_cmd_state_name(enum store_cmd_state st)
{
    if ((int)st < 0 || st >= STORE_CMD__COUNT)
        return "?";
    return STATE_NAME[st];
}

static int state_of_name(const unsigned char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < STORE_CMD__COUNT; i++)
        if (strcmp((const char *)name, STATE_NAME[i]) == 0)
            return i;
    return -1;
}

static bool state_ok(enum store_cmd_state st)
{
    return (int)st >= 0 && st < STORE_CMD__COUNT;
}

static bool key_ok(int64_t task, const char *protocol, const char *device_id)
{
    return task > 0 && store__len_ok(protocol, 1, STORE_PROTOCOL_MAX) && store__len_ok(device_id, 1, STORE_ID_MAX);
}

static void bind_key(sqlite3_stmt *st, int64_t task, const char *protocol, const char *device_id)
{
    sqlite3_bind_int64(st, 1, task);
    sqlite3_bind_text(st, 2, protocol, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, device_id, -1, SQLITE_STATIC);
}

int64_t store_task_new(struct store *s, const char *kind, const char *body, int64_t at_ms, char *err,
                       size_t errcap)
{
    if (!s) {
        store__err(err, errcap, "store_task_new: store is NULL");
        return -1;
    }
    if (store__check_len("kind", kind, 1, STORE_NAME_MAX, err, errcap)
        || store__check_len("body", body, 0, STORE_BODY_MAX, err, errcap))
        return -1;
    if (store__batch_lost(s)) {
        store__err(err, errcap, "task: database: the batch was rolled back by an earlier failure");
        return -1;
    }
    sqlite3_stmt *st = s->st[SS_TASK_PUT];
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    if (body)
        sqlite3_bind_text(st, 2, body, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 2);
    sqlite3_bind_int64(st, 3, at_ms);
    int rc = sqlite3_step(st);
    int64_t id = rc == SQLITE_DONE ? sqlite3_last_insert_rowid(s->db) : -1;
    if (rc != SQLITE_DONE)
        store__err(err, errcap, "task: database: %s", sqlite3_errmsg(s->db));
    store__done(st);
    return id;
}

/* Insert the command, or set the state of the one already there; -1 when the
 * task does not exist. */
static int command_write(struct store *s, enum store_stmt which, int64_t task, const char *protocol,
                         const char *device_id, enum store_cmd_state st, int64_t at_ms)
{
    if (!s || !key_ok(task, protocol, device_id) || !state_ok(st) || store__batch_lost(s))
        return -1;
    sqlite3_stmt *p = s->st[which];
    bind_key(p, task, protocol, device_id);
    sqlite3_bind_text(p, 4, STATE_NAME[st], -1, SQLITE_STATIC);
    sqlite3_bind_int64(p, 5, at_ms);
    int rc = sqlite3_step(p);
    store__done(p);
    return rc == SQLITE_DONE && sqlite3_changes(s->db) > 0 ? 0 : -1;
}

int store_command_put(struct store *s, int64_t task, const char *protocol, const char *device_id,
                      enum store_cmd_state st, int64_t at_ms)
{
    return command_write(s, SS_CMD_PUT, task, protocol, device_id, st, at_ms);
}

/* Only a command that exists changes. */
int store_command_state(struct store *s, int64_t task, const char *protocol, const char *device_id,
                        enum store_cmd_state st, int64_t at_ms)
{
    return command_write(s, SS_CMD_SET, task, protocol, device_id, st, at_ms);
}

size_t store_command_count(struct store *s, int64_t task, int st)
{
    if (!s || st >= STORE_CMD__COUNT)
        return 0;
    sqlite3_stmt *p = s->st[st < 0 ? SS_CMD_COUNT : SS_CMD_COUNT_STATE];
    sqlite3_bind_int64(p, 1, task);
    if (st >= 0)
        sqlite3_bind_text(p, 2, STATE_NAME[st], -1, SQLITE_STATIC);
    size_t n = 0;
    if (sqlite3_step(p) == SQLITE_ROW)
        n = (size_t)sqlite3_column_int64(p, 0);
    store__done(p);
    return n;
}

int store_command_get(struct store *s, int64_t task, const char *protocol, const char *device_id)
{
    if (!s || !key_ok(task, protocol, device_id))
        return -1;
    sqlite3_stmt *p = s->st[SS_CMD_GET];
    bind_key(p, task, protocol, device_id);
    int st = -1;
    if (sqlite3_step(p) == SQLITE_ROW)
        st = state_of_name(sqlite3_column_text(p, 0));
    store__done(p);
    return st;
}
