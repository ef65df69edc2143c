/* The commands service's tables in the core's SQLite (svc_cmd.h): every command
 * with its request, its state and its times (unix ms of the virtual instants), its
 * transitions one row each, and the cancel tasks.  States are stored by name, as
 * store_cmd.c does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/platform/core/shadow.h"
#include "sim/platform/core/svc_cmd.h"

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS svc_commands ("
    " id INTEGER PRIMARY KEY, command_id TEXT NOT NULL UNIQUE, app_id TEXT, device_id TEXT NOT NULL,"
    " protocol TEXT NOT NULL, service_id TEXT NOT NULL, method TEXT NOT NULL, paras TEXT, callback_url TEXT,"
    " origin TEXT NOT NULL, kind INTEGER NOT NULL, body TEXT, expire_s INTEGER NOT NULL,"
    " max_retransmit INTEGER NOT NULL, cached INTEGER NOT NULL, state TEXT NOT NULL, sendings INTEGER NOT NULL,"
    " detail TEXT, created_ms INTEGER NOT NULL, expire_at_ms INTEGER, ack_deadline_ms INTEGER,"
    " issued_ms INTEGER, delivered_ms INTEGER, executed_ms INTEGER, task INTEGER);"
    "CREATE INDEX IF NOT EXISTS svc_commands_device ON svc_commands(device_id, id);"
    "CREATE INDEX IF NOT EXISTS svc_commands_live ON svc_commands(state)"
    " WHERE state IN ('PENDING', 'SENT', 'DELIVERED');"
    "CREATE TABLE IF NOT EXISTS svc_command_steps (command INTEGER NOT NULL, seq INTEGER NOT NULL,"
    " state TEXT NOT NULL, at_ms INTEGER NOT NULL, PRIMARY KEY (command, seq)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS svc_cancel_tasks (task_id TEXT PRIMARY KEY, app_id TEXT,"
    " device_id TEXT NOT NULL, status TEXT NOT NULL, total INTEGER NOT NULL, created_ms INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS svc_cancel_task_cmds (task_id TEXT NOT NULL, seq INTEGER NOT NULL,"
    " command INTEGER NOT NULL, PRIMARY KEY (task_id, seq)) WITHOUT ROWID;";

#define COLS                                                                                                      \
    "id, command_id, app_id, device_id, protocol, service_id, method, paras, callback_url, origin, kind, body,"  \
    " expire_s, max_retransmit, cached, state, sendings, detail, created_ms, expire_at_ms, ack_deadline_ms,"      \
    " issued_ms, delivered_ms, executed_ms, task"
enum {
    C_ID, C_COMMAND_ID, C_APP, C_DEVICE, C_PROTOCOL, C_SERVICE, C_METHOD, C_PARAS, C_URL, C_ORIGIN, C_KIND,
    C_BODY, C_EXPIRE, C_MAXRT, C_CACHED, C_STATE, C_SENDINGS, C_DETAIL, C_CREATED, C_EXPIRE_AT, C_DEADLINE,
    C_ISSUED, C_DELIVERED, C_EXECUTED, C_TASK
};

static const char *const SQL[SQ__COUNT] = {
    [SQ_INSERT] = ("INSERT INTO svc_commands (command_id, app_id, device_id, protocol, service_id, method, paras,"
                   " callback_url, origin, kind, body, expire_s, max_retransmit, cached, state, sendings,"
                   " created_ms, expire_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
                   " ?14, ?15, 0, ?16, ?17)"),
    [SQ_UPDATE] = ("UPDATE svc_commands SET state = ?2, sendings = ?3, detail = ?4, ack_deadline_ms = ?5,"
                   " issued_ms = COALESCE(issued_ms, ?6), delivered_ms = COALESCE(delivered_ms, ?7),"
                   " executed_ms = COALESCE(executed_ms, ?8), task = ?9 WHERE id = ?1"),
    [SQ_STEP] = ("INSERT OR REPLACE INTO svc_command_steps (command, seq, state, at_ms) VALUES (?1, ?2, ?3, ?4)"),
    [SQ_BY_ID] = ("SELECT id, state FROM svc_commands WHERE command_id = ?1"),
    [SQ_ROW] = ("SELECT " COLS " FROM svc_commands WHERE id = ?1"),
    [SQ_STEPS] = ("SELECT state, at_ms FROM svc_command_steps WHERE command = ?1 ORDER BY seq"),
    [SQ_LIVE] = ("SELECT " COLS " FROM svc_commands WHERE state IN ('PENDING', 'SENT', 'DELIVERED') ORDER BY id"),
    [SQ_LIVE_STEPS] = ("SELECT state, at_ms FROM svc_command_steps WHERE command = ?1 ORDER BY seq"),
    [SQ_CTASK_PUT] = ("INSERT INTO svc_cancel_tasks (task_id, app_id, device_id, status, total, created_ms)"
                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
    [SQ_CTASK_CMD] = ("INSERT INTO svc_cancel_task_cmds (task_id, seq, command) VALUES (?1, ?2, ?3)"),
    [SQ_CTASK_GET] = ("SELECT task_id, device_id, status, total FROM svc_cancel_tasks WHERE task_id = ?1"),
    [SQ_CTASK_CMDS] = ("SELECT command FROM svc_cancel_task_cmds WHERE task_id = ?1 ORDER BY seq"),
};

int scmd_store_open(struct svc_cmd *s, char *err, size_t errcap)
{
    char *msg = NULL;
    if (sqlite3_exec(s->db, SCHEMA, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errcap, "the commands' tables: %s", msg ? msg : sqlite3_errmsg(s->db));
        sqlite3_free(msg);
        return -1;
    }
    for (int i = 0; i < SQ__COUNT; i++)
        if (sqlite3_prepare_v3(s->db, SQL[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL) != SQLITE_OK) {
            snprintf(err, errcap, "the commands' statement %d: %s", i, sqlite3_errmsg(s->db));
            scmd_store_close(s);
            return -1;
        }
    return 0;
}

void scmd_store_close(struct svc_cmd *s)
{
    for (int i = 0; i < SQ__COUNT; i++) {
        sqlite3_finalize(s->st[i]);
        s->st[i] = NULL;
    }
}

static int state_of(const unsigned char *name)
{
    for (int i = 0; name && i < STORE_CMD__COUNT; i++)
        if (strcmp((const char *)name, store_cmd_state_name((enum store_cmd_state)i)) == 0)
            return i;
    return -1;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *t)
{
    if (t)
        sqlite3_bind_text(st, i, t, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

static void bind_ms_or_null(sqlite3_stmt *st, int i, int64_t ms)
{
    if (ms)
        sqlite3_bind_int64(st, i, ms);
    else
        sqlite3_bind_null(st, i);
}

static int run(struct svc_cmd *s, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    (void)s;
    return rc == SQLITE_DONE ? 0 : -1;
}

int scmd_store_insert(struct svc_cmd *s, struct scmd *c, const char *app_id, const char *service_id,
                      const char *method, const char *paras, int64_t expire_s, char *err, size_t errcap)
{
    sqlite3_stmt *st = s->st[SQ_INSERT];
    sqlite3_bind_text(st, 1, c->id, -1, SQLITE_STATIC);
    bind_text_or_null(st, 2, app_id);
    sqlite3_bind_text(st, 3, c->device, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, c->protocol, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, service_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, method, -1, SQLITE_STATIC);
    bind_text_or_null(st, 7, paras);
    bind_text_or_null(st, 8, c->callback_url);
    sqlite3_bind_text(st, 9, c->origin, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 10, c->kind);
    bind_text_or_null(st, 11, c->body);
    sqlite3_bind_int64(st, 12, expire_s);
    sqlite3_bind_int(st, 13, c->f.max_retransmit);
    sqlite3_bind_int(st, 14, c->f.cached);
    /* the state it is created in: written again by the first note */
    sqlite3_bind_text(st, 15, c->f.n_path ? store_cmd_state_name(c->f.state) : "PENDING", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 16, c->f.created_ms + s->unix_off);
    bind_ms_or_null(st, 17, c->f.cached ? c->f.expire_at_ms + s->unix_off : 0);
    if (run(s, st) < 0) {
        snprintf(err, errcap, "the commands' table: %s", sqlite3_errmsg(s->db));
        return -1;
    }
    c->row = sqlite3_last_insert_rowid(s->db);
    return 0;
}

int scmd_store_note(struct svc_cmd *s, struct scmd *c)
{
    int64_t issued = 0, delivered = 0, executed = 0;
    int rc = 0;
    for (int i = c->n_noted; i < c->f.n_path; i++) {
        const struct cmd_step *p = &c->f.path[i];
        int64_t at = p->at_ms + s->unix_off;
        sqlite3_stmt *st = s->st[SQ_STEP];
        sqlite3_bind_int64(st, 1, c->row);
        sqlite3_bind_int(st, 2, i);
        sqlite3_bind_text(st, 3, store_cmd_state_name(p->state), -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 4, at);
        rc |= run(s, st);
        if (p->state == STORE_CMD_SENT)
            issued = at;
        else if (p->state == STORE_CMD_DELIVERED)
            delivered = at;
        else if (cmd_state_final(p->state))
            executed = at;
    }
    c->n_noted = c->f.n_path;
    sqlite3_stmt *st = s->st[SQ_UPDATE];
    sqlite3_bind_int64(st, 1, c->row);
    sqlite3_bind_text(st, 2, store_cmd_state_name(c->f.state), -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, c->f.sendings);
    bind_text_or_null(st, 4, c->f.why[0] ? c->f.why : NULL);
    bind_ms_or_null(st, 5, c->f.state == STORE_CMD_SENT ? c->f.ack_deadline_ms + s->unix_off : 0);
    bind_ms_or_null(st, 6, issued);
    bind_ms_or_null(st, 7, delivered);
    bind_ms_or_null(st, 8, executed);
    bind_ms_or_null(st, 9, c->task);
    rc |= run(s, st);
    return rc ? -1 : 0;
}

bool scmd_store_find(struct svc_cmd *s, const char *command_id, int64_t *row, int *state)
{
    sqlite3_stmt *st = s->st[SQ_BY_ID];
    sqlite3_bind_text(st, 1, command_id, -1, SQLITE_STATIC);
    bool found = sqlite3_step(st) == SQLITE_ROW;
    if (found) {
        *row = sqlite3_column_int64(st, 0);
        *state = state_of(sqlite3_column_text(st, 1));
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return found;
}

static const char *col(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

static void add_time(cJSON *o, const char *key, sqlite3_stmt *st, int i)
{
    if (sqlite3_column_type(st, i) == SQLITE_NULL) {
        cJSON_AddNullToObject(o, key);
        return;
    }
    char t[17];
    shadow_time_text(sqlite3_column_int64(st, i), t);
    cJSON_AddStringToObject(o, key, t);
}

static void add_text(cJSON *o, const char *key, sqlite3_stmt *st, int i)
{
    if (col(st, i))
        cJSON_AddStringToObject(o, key, col(st, i));
    else
        cJSON_AddNullToObject(o, key);
}

/* The row st stands on, as the API shows a command. */
static cJSON *row_json(struct svc_cmd *s, sqlite3_stmt *st)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    int64_t row = sqlite3_column_int64(st, C_ID);
    add_text(o, "commandId", st, C_COMMAND_ID);
    add_text(o, "appId", st, C_APP);
    add_text(o, "deviceId", st, C_DEVICE);
    cJSON *cmd = cJSON_AddObjectToObject(o, "command");
    add_text(cmd, "serviceId", st, C_SERVICE);
    add_text(cmd, "method", st, C_METHOD);
    cJSON *paras = col(st, C_PARAS) ? cJSON_Parse(col(st, C_PARAS)) : NULL;
    if (paras)
        cJSON_AddItemToObject(cmd, "paras", paras);
    else
        cJSON_AddNullToObject(cmd, "paras");
    add_text(o, "callbackUrl", st, C_URL);
    cJSON_AddNumberToObject(o, "expireTime", (double)sqlite3_column_int64(st, C_EXPIRE));
    cJSON_AddNumberToObject(o, "maxRetransmit", sqlite3_column_int(st, C_MAXRT));
    add_text(o, "status", st, C_STATE);
    add_time(o, "creationTime", st, C_CREATED);
    add_time(o, "executeTime", st, C_EXECUTED);
    add_time(o, "platformIssuedTime", st, C_ISSUED);
    add_time(o, "deliveredTime", st, C_DELIVERED);
    cJSON_AddNumberToObject(o, "issuedTimes", sqlite3_column_int(st, C_SENDINGS));
    cJSON *res = cJSON_AddObjectToObject(o, "result");
    add_text(res, "resultCode", st, C_STATE);
    add_text(res, "resultDetail", st, C_DETAIL);
    cJSON *tr = cJSON_AddArrayToObject(o, "transitions");
    sqlite3_stmt *q = s->st[SQ_STEPS];
    sqlite3_bind_int64(q, 1, row);
    while (sqlite3_step(q) == SQLITE_ROW) {
        cJSON *t = cJSON_CreateObject();
        char text[17];
        cJSON_AddStringToObject(t, "status", col(q, 0) ? col(q, 0) : "?");
        shadow_time_text(sqlite3_column_int64(q, 1), text);
        cJSON_AddStringToObject(t, "time", text);
        cJSON_AddNumberToObject(t, "timeMs", (double)sqlite3_column_int64(q, 1));
        cJSON_AddItemToArray(tr, t);
    }
    sqlite3_reset(q);
    return o;
}

cJSON *scmd_store_json(struct svc_cmd *s, int64_t row)
{
    sqlite3_stmt *st = s->st[SQ_ROW];
    sqlite3_bind_int64(st, 1, row);
    cJSON *o = sqlite3_step(st) == SQLITE_ROW ? row_json(s, st) : NULL;
    sqlite3_reset(st);
    return o;
}

static char *dup_col(sqlite3_stmt *st, int i)
{
    return col(st, i) ? strdup(col(st, i)) : NULL;
}

int scmd_store_load(struct svc_cmd *s, void (*add)(struct svc_cmd *s, struct scmd *c), char *err, size_t errcap)
{
    sqlite3_stmt *st = s->st[SQ_LIVE];
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct scmd *c = calloc(1, sizeof *c);
        if (!c) {
            snprintf(err, errcap, "out of memory for the commands");
            sqlite3_reset(st);
            return -1;
        }
        c->row = sqlite3_column_int64(st, C_ID);
        snprintf(c->id, sizeof c->id, "%s", col(st, C_COMMAND_ID) ? col(st, C_COMMAND_ID) : "");
        snprintf(c->device, sizeof c->device, "%s", col(st, C_DEVICE) ? col(st, C_DEVICE) : "");
        snprintf(c->protocol, sizeof c->protocol, "%s", col(st, C_PROTOCOL) ? col(st, C_PROTOCOL) : "");
        c->origin = dup_col(st, C_ORIGIN);
        c->callback_url = dup_col(st, C_URL);
        c->body = dup_col(st, C_BODY);
        c->kind = (uint32_t)sqlite3_column_int64(st, C_KIND);
        c->task = (uint32_t)sqlite3_column_int64(st, C_TASK);
        struct cmd_fsm *f = &c->f;
        f->state = (enum store_cmd_state)state_of(sqlite3_column_text(st, C_STATE));
        f->cached = sqlite3_column_int(st, C_CACHED) != 0;
        f->created_ms = sqlite3_column_int64(st, C_CREATED) - s->unix_off;
        f->expire_at_ms = sqlite3_column_int64(st, C_EXPIRE_AT) - s->unix_off;
        f->ack_deadline_ms = sqlite3_column_int64(st, C_DEADLINE) - s->unix_off;
        f->ack_timeout_ms = CMD_ACK_TIMEOUT_MS;
        f->max_retransmit = (uint8_t)sqlite3_column_int(st, C_MAXRT);
        f->sendings = (uint8_t)sqlite3_column_int(st, C_SENDINGS);
        snprintf(f->why, sizeof f->why, "%s", col(st, C_DETAIL) ? col(st, C_DETAIL) : "");
        sqlite3_stmt *q = s->st[SQ_LIVE_STEPS];
        sqlite3_bind_int64(q, 1, c->row);
        while (sqlite3_step(q) == SQLITE_ROW && f->n_path < CMD_MAX_PATH) {
            int stt = state_of(sqlite3_column_text(q, 0));
            f->path[f->n_path++] = (struct cmd_step){(enum store_cmd_state)(stt < 0 ? 0 : stt),
                                                     sqlite3_column_int64(q, 1) - s->unix_off};
        }
        sqlite3_reset(q);
        c->n_noted = f->n_path;
        if ((int)f->state < 0 || !c->origin) {
            free(c->origin);
            free(c->callback_url);
            free(c->body);
            free(c);
            continue;
        }
        add(s, c);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        snprintf(err, errcap, "reading the commands back: %s", sqlite3_errmsg(s->db));
        return -1;
    }
    return 0;
}

/* --- queries ------------------------------------------------------------------------------ */

int scmd_store_list(struct svc_cmd *s, const struct scmd_filter *q, cJSON *out, int64_t *total, char *err,
                    size_t errcap)
{
    char where[256] = "WHERE 1";
    size_t w = strlen(where);
    if (q->device)
        w += (size_t)snprintf(where + w, sizeof where - w, " AND device_id = ?1");
    if (q->state >= 0)
        w += (size_t)snprintf(where + w, sizeof where - w, " AND state = ?2");
    if (q->start_ms >= 0)
        w += (size_t)snprintf(where + w, sizeof where - w, " AND created_ms >= ?3");
    if (q->end_ms >= 0)
        snprintf(where + w, sizeof where - w, " AND created_ms <= ?4");
    char sql[640];
    sqlite3_stmt *cnt = NULL, *st = NULL;
    int rc = -1;
    snprintf(sql, sizeof sql, "SELECT count(*) FROM svc_commands %s", where);
    if (sqlite3_prepare_v2(s->db, sql, -1, &cnt, NULL) != SQLITE_OK)
        goto out;
    snprintf(sql, sizeof sql, "SELECT " COLS " FROM svc_commands %s ORDER BY id LIMIT ?5 OFFSET ?6", where);
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        goto out;
    sqlite3_stmt *both[2] = {cnt, st};
    for (int i = 0; i < 2; i++) {
        if (q->device)
            sqlite3_bind_text(both[i], 1, q->device, -1, SQLITE_STATIC);
        if (q->state >= 0)
            sqlite3_bind_text(both[i], 2, store_cmd_state_name((enum store_cmd_state)q->state), -1, SQLITE_STATIC);
        if (q->start_ms >= 0)
            sqlite3_bind_int64(both[i], 3, q->start_ms);
        if (q->end_ms >= 0)
            sqlite3_bind_int64(both[i], 4, q->end_ms);
    }
    sqlite3_bind_int64(st, 5, q->page_size);
    sqlite3_bind_int64(st, 6, q->page_no * q->page_size);
    if (sqlite3_step(cnt) != SQLITE_ROW)
        goto out;
    *total = sqlite3_column_int64(cnt, 0);
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        cJSON *o = row_json(s, st);
        if (o)
            cJSON_AddItemToArray(out, o);
    }
    if (r == SQLITE_DONE)
        rc = 0;
out:
    if (rc < 0)
        snprintf(err, errcap, "the commands' table: %s", sqlite3_errmsg(s->db));
    sqlite3_finalize(cnt);
    sqlite3_finalize(st);
    return rc;
}

int scmd_store_ctask_put(struct svc_cmd *s, const char *task_id, const char *app_id, const char *device,
                         const int64_t *rows, size_t n)
{
    sqlite3_stmt *st = s->st[SQ_CTASK_PUT];
    sqlite3_bind_text(st, 1, task_id, -1, SQLITE_STATIC);
    bind_text_or_null(st, 2, app_id);
    sqlite3_bind_text(st, 3, device, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, "SUCCESS", -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, (int64_t)n);
    sqlite3_bind_int64(st, 6, s->unix_off + svc_cmd_now_ms());
    int rc = run(s, st);
    for (size_t i = 0; i < n && rc == 0; i++) {
        sqlite3_stmt *c = s->st[SQ_CTASK_CMD];
        sqlite3_bind_text(c, 1, task_id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(c, 2, (int64_t)i);
        sqlite3_bind_int64(c, 3, rows[i]);
        rc = run(s, c);
    }
    return rc;
}

/* The task st stands on (task_id, device_id, status, total), with its commands. */
static cJSON *ctask_json(struct svc_cmd *s, sqlite3_stmt *st)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    add_text(o, "taskId", st, 0);
    add_text(o, "deviceId", st, 1);
    add_text(o, "status", st, 2);
    cJSON_AddNumberToObject(o, "totalCount", (double)sqlite3_column_int64(st, 3));
    cJSON *cmds = cJSON_AddArrayToObject(o, "deviceCommands");
    /* the statement of the commands is its own: st may be SQ_CTASK_GET or a list's */
    sqlite3_stmt *q = s->st[SQ_CTASK_CMDS];
    sqlite3_bind_text(q, 1, col(st, 0) ? col(st, 0) : "", -1, SQLITE_TRANSIENT);
    int64_t rows[64];
    int n;
    do {
        n = 0;
        while (n < 64 && sqlite3_step(q) == SQLITE_ROW)
            rows[n++] = sqlite3_column_int64(q, 0);
        for (int i = 0; i < n; i++) {
            cJSON *c = scmd_store_json(s, rows[i]);
            if (c)
                cJSON_AddItemToArray(cmds, c);
        }
    } while (n == 64);
    sqlite3_reset(q);
    return o;
}

cJSON *scmd_store_ctask_json(struct svc_cmd *s, const char *task_id)
{
    sqlite3_stmt *st = s->st[SQ_CTASK_GET];
    sqlite3_bind_text(st, 1, task_id, -1, SQLITE_STATIC);
    cJSON *o = sqlite3_step(st) == SQLITE_ROW ? ctask_json(s, st) : NULL;
    sqlite3_reset(st);
    return o;
}

int scmd_store_ctask_list(struct svc_cmd *s, const char *task_id, const char *device, int64_t page_no,
                          int64_t page_size, cJSON *out, int64_t *total, char *err, size_t errcap)
{
    char where[128] = "WHERE 1";
    size_t w = strlen(where);
    if (task_id)
        w += (size_t)snprintf(where + w, sizeof where - w, " AND task_id = ?1");
    if (device)
        snprintf(where + w, sizeof where - w, " AND device_id = ?2");
    char sql[400];
    sqlite3_stmt *cnt = NULL, *st = NULL;
    int rc = -1;
    snprintf(sql, sizeof sql, "SELECT count(*) FROM svc_cancel_tasks %s", where);
    if (sqlite3_prepare_v2(s->db, sql, -1, &cnt, NULL) != SQLITE_OK)
        goto out;
    snprintf(sql, sizeof sql,
             "SELECT task_id, device_id, status, total FROM svc_cancel_tasks %s ORDER BY created_ms, task_id"
             " LIMIT ?3 OFFSET ?4", where);
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        goto out;
    sqlite3_stmt *both[2] = {cnt, st};
    for (int i = 0; i < 2; i++) {
        if (task_id)
            sqlite3_bind_text(both[i], 1, task_id, -1, SQLITE_STATIC);
        if (device)
            sqlite3_bind_text(both[i], 2, device, -1, SQLITE_STATIC);
    }
    sqlite3_bind_int64(st, 3, page_size);
    sqlite3_bind_int64(st, 4, page_no * page_size);
    if (sqlite3_step(cnt) != SQLITE_ROW)
        goto out;
    *total = sqlite3_column_int64(cnt, 0);
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        cJSON *o = ctask_json(s, st);
        if (o)
            cJSON_AddItemToArray(out, o);
    }
    if (r == SQLITE_DONE)
        rc = 0;
out:
    if (rc < 0)
        snprintf(err, errcap, "the cancel tasks' table: %s", sqlite3_errmsg(s->db));
    sqlite3_finalize(cnt);
    sqlite3_finalize(st);
    return rc;
}
