/* Tags (004 §11 标签管理): an application defines tags and puts them on its
 * devices, to find devices by tag.  Unlike a group, a device carries any number of
 * tags, and a tag has no bound.  004 gives the console's steps, not an API: the
 * calls are fleetsim's, in the groups' shape (docs/api.md, Groups). */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/platform/core/svc_sql.h"
#include "sim/platform/core/core_internal.h"
#include "sim/platform/core/svc_group.h"

enum xstmt {
    X_INSERT,        /* id, app, name, description, created_ms */
    X_GET,           /* id, app -> name, description */
    X_BY_NAME,       /* app, name -> id */
    X_DELETE,        /* id */
    X_COUNT,         /* app, name or NULL */
    X_LIST,          /* app, name or NULL, limit, offset -> id, name, description */
    X_UNTAG_ALL,     /* tag_id */
    X_TAG,           /* tag_id, device_id, at_ms */
    X_UNTAG,         /* tag_id, device_id */
    X_HAS,           /* tag_id, device_id -> 1 */
    X_DEV_COUNT,     /* tag_id */
    X_DEV_PAGE,      /* tag_id, limit, offset -> device_id */
    X_OF_DEVICE,     /* app, device_id -> id, name */
    X_DEVICE_GONE,   /* device_id */
    X__COUNT
};

static const char *const XSQL[X__COUNT] = {
    [X_INSERT] = "INSERT INTO dev_tags(id, app_id, name, description, created_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
    [X_GET] = "SELECT name, description FROM dev_tags WHERE id = ?1 AND app_id = ?2",
    [X_BY_NAME] = "SELECT id FROM dev_tags WHERE app_id = ?1 AND name = ?2",
    [X_DELETE] = "DELETE FROM dev_tags WHERE id = ?1",
    [X_COUNT] = "SELECT count(*) FROM dev_tags WHERE app_id = ?1 AND (?2 IS NULL OR name = ?2)",
    [X_LIST] = ("SELECT id, name, description FROM dev_tags WHERE app_id = ?1 AND (?2 IS NULL OR name = ?2)"
                " ORDER BY created_ms, rowid LIMIT ?3 OFFSET ?4"),
    [X_UNTAG_ALL] = "DELETE FROM dev_tagged WHERE tag_id = ?1",
    [X_TAG] = "INSERT OR IGNORE INTO dev_tagged(tag_id, device_id, at_ms) VALUES (?1, ?2, ?3)",
    [X_UNTAG] = "DELETE FROM dev_tagged WHERE tag_id = ?1 AND device_id = ?2",
    [X_HAS] = "SELECT 1 FROM dev_tagged WHERE tag_id = ?1 AND device_id = ?2",
    [X_DEV_COUNT] = "SELECT count(*) FROM dev_tagged WHERE tag_id = ?1",
    [X_DEV_PAGE] = "SELECT device_id FROM dev_tagged WHERE tag_id = ?1 ORDER BY device_id LIMIT ?2 OFFSET ?3",
    [X_OF_DEVICE] = ("SELECT t.id, t.name FROM dev_tagged d JOIN dev_tags t ON t.id = d.tag_id"
                     " WHERE t.app_id = ?1 AND d.device_id = ?2 ORDER BY t.name"),
    [X_DEVICE_GONE] = "DELETE FROM dev_tagged WHERE device_id = ?1",
};

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS dev_tags(id TEXT PRIMARY KEY, app_id TEXT NOT NULL, name TEXT NOT NULL,"
    " description TEXT NOT NULL DEFAULT '', created_ms INTEGER NOT NULL, UNIQUE(app_id, name));"
    "CREATE TABLE IF NOT EXISTS dev_tagged(tag_id TEXT NOT NULL, device_id TEXT NOT NULL, at_ms INTEGER NOT NULL,"
    " PRIMARY KEY(tag_id, device_id)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS dev_tagged_device ON dev_tagged(device_id);";

struct svc_group_tags {
    sqlite3 *db;
    sqlite3_stmt *st[X__COUNT];
};

static sqlite3_stmt *S(struct core *k, enum xstmt i) { return k->svc_group->tags->st[i]; }

static int64_t one_int(sqlite3_stmt *st)
{
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    svc_sql_done(st);
    return v;
}

static int64_t dev_count(struct core *k, const char *tag_id)
{
    sqlite3_stmt *st = S(k, X_DEV_COUNT);
    svc_sql_text(st, 1, tag_id);
    int64_t n = one_int(st);
    return n < 0 ? 0 : n;
}

static cJSON *tag_json(struct core *k, const char *app, const char *id, const char *name, const char *desc)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddStringToObject(o, "description", desc);
    cJSON_AddStringToObject(o, "appId", app);
    cJSON_AddNumberToObject(o, "devNum", (double)dev_count(k, id));
    return o;
}

static void db_failed(struct core *k, struct north_resp *rs)
{
    north_error(rs, 500, NE_INTERNAL, "the store: %s", sqlite3_errmsg(k->svc_group->tags->db));
}

/* The application's tag of the path: false with the 404 answered. */
static bool tag_found(struct core *k, const struct north_req *rq, char *name, size_t ncap, char *desc, size_t dcap,
                      struct north_resp *rs)
{
    sqlite3_stmt *st = S(k, X_GET);
    svc_sql_text(st, 1, rq->params[0]);
    svc_sql_text(st, 2, svc_group_app(rq));
    bool found = sqlite3_step(st) == SQLITE_ROW;
    if (found) {
        snprintf(name, ncap, "%s", svc_sql_col(st, 0));
        snprintf(desc, dcap, "%s", svc_sql_col(st, 1));
    }
    svc_sql_done(st);
    if (!found)
        north_error(rs, 404, NE_NOT_FOUND, "tagId: the application has no tag %.64s", rq->params[0]);
    return found;
}

bool svc_group_tag_exists(struct core *k, const char *app, const char *tag_id)
{
    if (!k->svc_group || !k->svc_group->tags)
        return false;
    sqlite3_stmt *st = S(k, X_GET);
    svc_sql_text(st, 1, tag_id);
    svc_sql_text(st, 2, app);
    bool found = sqlite3_step(st) == SQLITE_ROW;
    svc_sql_done(st);
    return found;
}

/* POST tags {name, description?} */
void svc_group_tag_create(void *ctx, const struct north_req *rq, struct north_resp *rs)
{
    struct core *k = ctx;
    const char *app = svc_group_app(rq), *name, *desc;
    if (!svc_group_body_object(rq, rs) || !svc_group_str_field(rq->body, "name", 1, SVC_GROUP_NAME_MAX, &name, rs) ||
        !svc_group_str_field(rq->body, "description", 0, SVC_GROUP_DESC_MAX, &desc, rs))
        return;
    if (!name) {
        north_error(rs, 400, NE_BAD_REQUEST, "name: missing");
        return;
    }
    sqlite3_stmt *q = S(k, X_BY_NAME);
    svc_sql_text(q, 1, app);
    svc_sql_text(q, 2, name);
    bool taken = sqlite3_step(q) == SQLITE_ROW;
    svc_sql_done(q);
    if (taken) {
        north_error(rs, 409, NE_CONFLICT, "name: the application has a tag named %.64s already", name);
        return;
    }
    char id[25];
    svc_group_random_hex(id, 12);
    core_batch_begin(k);
    sqlite3_stmt *st = S(k, X_INSERT);
    svc_sql_text(st, 1, id);
    svc_sql_text(st, 2, app);
    svc_sql_text(st, 3, name);
    svc_sql_text(st, 4, desc ? desc : "");
    sqlite3_bind_int64(st, 5, svc_unix_ms(svc_now_ms()));
    if (svc_sql_run(st) < 0) {
        db_failed(k, rs);
        return;
    }
    svc_commit(k);
    rs->status = 200;
    rs->body = tag_json(k, app, id, name, desc ? desc : "");
}

/* GET tags?pageNo=&pageSize=&name= */
void svc_group_tag_list(void *ctx, const struct north_req *rq, struct north_resp *rs)
{
    struct core *k = ctx;
    const char *app = svc_group_app(rq), *name = north_query(rq, "name");
    int no, size;
    if (!svc_group_page(rq, 1000, 10, &no, &size, rs))
        return;
    sqlite3_stmt *c = S(k, X_COUNT);
    svc_sql_text(c, 1, app);
    svc_sql_text(c, 2, name);
    int64_t total = one_int(c);
    struct row {
        char id[25], name[SVC_GROUP_NAME_MAX + 1], desc[SVC_GROUP_DESC_MAX + 1];
    } *rows = calloc((size_t)size, sizeof *rows);
    int n = 0;
    sqlite3_stmt *st = S(k, X_LIST);
    svc_sql_text(st, 1, app);
    svc_sql_text(st, 2, name);
    sqlite3_bind_int64(st, 3, size);
    sqlite3_bind_int64(st, 4, (int64_t)no * size);
    while (rows && n < size && sqlite3_step(st) == SQLITE_ROW) {
        snprintf(rows[n].id, sizeof rows[n].id, "%s", svc_sql_col(st, 0));
        snprintf(rows[n].name, sizeof rows[n].name, "%s", svc_sql_col(st, 1));
        snprintf(rows[n].desc, sizeof rows[n].desc, "%s", svc_sql_col(st, 2));
        n++;
    }
    svc_sql_done(st);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "totalCount", (double)(total < 0 ? 0 : total));
    cJSON_AddNumberToObject(o, "pageNo", no);
    cJSON_AddNumberToObject(o, "pageSize", size);
    cJSON *list = cJSON_AddArrayToObject(o, "list");
    for (int i = 0; i < n; i++)
        cJSON_AddItemToArray(list, tag_json(k, app, rows[i].id, rows[i].name, rows[i].desc));
    free(rows);
    rs->status = 200;
    rs->body = o;
}

/* DELETE tags/{tagId}: 204; its devices no longer carry it. */
void svc_group_tag_delete(void *ctx, const struct north_req *rq, struct north_resp *rs)
{
    struct core *k = ctx;
    char name[SVC_GROUP_NAME_MAX + 1], desc[SVC_GROUP_DESC_MAX + 1];
    if (!tag_found(k, rq, name, sizeof name, desc, sizeof desc, rs))
        return;
    core_batch_begin(k);
    sqlite3_stmt *a = S(k, X_UNTAG_ALL), *b = S(k, X_DELETE);
    svc_sql_text(a, 1, rq->params[0]);
    svc_sql_text(b, 1, rq->params[0]);
    if (svc_sql_run(a) < 0 || svc_sql_run(b) < 0) {
        db_failed(k, rs);
        return;
    }
    svc_commit(k);
    rs->status = 204;
}

/* POST tags/{tagId}/addDevices and deleteDevices {deviceIds} */
static void tag_change(void *ctx, const struct north_req *rq, struct north_resp *rs, bool add)
{
    struct core *k = ctx;
    const char *id = rq->params[0];
    char name[SVC_GROUP_NAME_MAX + 1], desc[SVC_GROUP_DESC_MAX + 1];
    bool absent;
    const cJSON *ids;
    if (!svc_group_body_object(rq, rs) || !tag_found(k, rq, name, sizeof name, desc, sizeof desc, rs) ||
        !(ids = svc_group_device_ids(k, rq->body, true, &absent, rs)))
        return;
    if (!add) {
        int i = 0;
        for (const cJSON *e = ids->child; e; e = e->next, i++) {
            sqlite3_stmt *h = S(k, X_HAS);
            svc_sql_text(h, 1, id);
            svc_sql_text(h, 2, e->valuestring);
            if (one_int(h) < 0) {
                north_error(rs, 400, NE_BAD_REQUEST, "deviceIds[%d]: %.64s does not carry the tag", i, e->valuestring);
                return;
            }
        }
    }
    core_batch_begin(k);
    int64_t now = svc_unix_ms(svc_now_ms());
    for (const cJSON *e = ids->child; e; e = e->next) {
        sqlite3_stmt *st = S(k, add ? X_TAG : X_UNTAG);
        svc_sql_text(st, 1, id);
        svc_sql_text(st, 2, e->valuestring);
        if (add)
            sqlite3_bind_int64(st, 3, now);
        if (svc_sql_run(st) < 0) {
            db_failed(k, rs);
            return;
        }
    }
    svc_commit(k);
    rs->status = 200;
    rs->body = cJSON_CreateObject();
    cJSON_AddStringToObject(rs->body, "tagId", id);
    cJSON_AddItemToObject(rs->body, "deviceIds", cJSON_Duplicate(ids, 1));
    cJSON_AddNumberToObject(rs->body, "devNum", (double)dev_count(k, id));
}

void svc_group_tag_add(void *ctx, const struct north_req *rq, struct north_resp *rs)
{
    tag_change(ctx, rq, rs, true);
}

void svc_group_tag_remove(void *ctx, const struct north_req *rq, struct north_resp *rs)
{
    tag_change(ctx, rq, rs, false);
}

/* GET tags/{tagId}/devices?pageNo=&pageSize=: the devices that carry it. */
void svc_group_tag_devices(void *ctx, const struct north_req *rq, struct north_resp *rs)
{
    struct core *k = ctx;
    const char *id = rq->params[0];
    char name[SVC_GROUP_NAME_MAX + 1], desc[SVC_GROUP_DESC_MAX + 1];
    int no, size;
    if (!svc_group_page(rq, 1000, 10, &no, &size, rs) || !tag_found(k, rq, name, sizeof name, desc, sizeof desc, rs))
        return;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "totalCount", (double)dev_count(k, id));
    cJSON_AddNumberToObject(o, "pageNo", no);
    cJSON_AddNumberToObject(o, "pageSize", size);
    cJSON *list = cJSON_AddArrayToObject(o, "deviceIds");
    sqlite3_stmt *st = S(k, X_DEV_PAGE);
    svc_sql_text(st, 1, id);
    sqlite3_bind_int64(st, 2, size);
    sqlite3_bind_int64(st, 3, (int64_t)no * size);
    while (sqlite3_step(st) == SQLITE_ROW)
        cJSON_AddItemToArray(list, cJSON_CreateString(svc_sql_col(st, 0)));
    svc_sql_done(st);
    rs->status = 200;
    rs->body = o;
}

/* GET deviceTags/{deviceId}: the application's tags the device carries. */
void svc_group_device_tags(void *ctx, const struct north_req *rq, struct north_resp *rs)
{
    struct core *k = ctx;
    char proto[STORE_PROTOCOL_MAX + 1];
    if (!svc_device_protocol(k, rq->params[0], proto, sizeof proto)) {
        north_error(rs, 404, NE_NOT_FOUND, "deviceId: no device %.64s is registered", rq->params[0]);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "deviceId", rq->params[0]);
    cJSON *list = cJSON_AddArrayToObject(o, "tags");
    sqlite3_stmt *st = S(k, X_OF_DEVICE);
    svc_sql_text(st, 1, svc_group_app(rq));
    svc_sql_text(st, 2, rq->params[0]);
    while (sqlite3_step(st) == SQLITE_ROW) {
        cJSON *t = cJSON_CreateObject();
        cJSON_AddStringToObject(t, "id", svc_sql_col(st, 0));
        cJSON_AddStringToObject(t, "name", svc_sql_col(st, 1));
        cJSON_AddItemToArray(list, t);
    }
    svc_sql_done(st);
    rs->status = 200;
    rs->body = o;
}

void svc_group_tag_deleted(struct core *k, const char *device_id)
{
    if (!k->svc_group || !k->svc_group->tags)
        return;
    sqlite3_stmt *st = S(k, X_DEVICE_GONE);
    svc_sql_text(st, 1, device_id);
    if (svc_sql_run(st) < 0)
        core_error(k, "tags: a deleted device's tags: %s", sqlite3_errmsg(k->svc_group->tags->db));
}

int svc_group_tag_start(struct core *k, char *err, size_t errcap)
{
    struct svc_group_tags *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    t->db = store_sqlite(k->store);
    char *why = NULL;
    if (sqlite3_exec(t->db, SCHEMA, NULL, NULL, &why) != SQLITE_OK) {
        snprintf(err, errcap, "tags' tables: %s", why ? why : sqlite3_errmsg(t->db));
        sqlite3_free(why);
        free(t);
        return -1;
    }
    for (int i = 0; i < X__COUNT; i++)
        if (sqlite3_prepare_v2(t->db, XSQL[i], -1, &t->st[i], NULL) != SQLITE_OK) {
            snprintf(err, errcap, "tags: %s", sqlite3_errmsg(t->db));
            for (int j = 0; j < i; j++)
                sqlite3_finalize(t->st[j]);
            free(t);
            return -1;
        }
    k->svc_group->tags = t;
    return 0;
}

void svc_group_tag_stop(struct core *k)
{
    struct svc_group_tags *t = k->svc_group ? k->svc_group->tags : NULL;
    if (!t)
        return;
    for (int i = 0; i < X__COUNT; i++)
        sqlite3_finalize(t->st[i]);
    free(t);
    k->svc_group->tags = NULL;
}
