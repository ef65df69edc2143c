/* Groups of devices (004 §11) and the service's life: its tables, its routes (the
 * groups' here, the batch tasks' in svc_group_task.c, the history's in
 * svc_group_hist.c), a deleted device leaving its group, and the helpers the parts
 * share (paging, 004's time text, ids).  svc_group.h says the rules. */
#include "sim/platform/core/svc_sql.h"
#include "sim/platform/core/svc_group.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "sim/platform/core/core_internal.h"
#include "sim/platform/core/shadow.h"

svc_group_submit_fn svc_group_submit = svc_cmd_submit;

enum gstmt {
    G_INSERT,          /* id, app, name, description, max_dev, created_ms */
    G_GET,             /* id, app -> name, description, max_dev, created_ms */
    G_BY_NAME,         /* app, name -> id */
    G_UPDATE,          /* id, name, description, max_dev */
    G_DELETE,          /* id */
    G_COUNT,           /* app, name or NULL -> count */
    G_LIST,            /* app, name or NULL, limit, offset -> id, name, description, max_dev */
    G_MEMBERS_DEL,     /* group_id */
    G_MEMBER_PUT,      /* app, device_id, group_id, added_ms */
    G_MEMBER_OF,       /* app, device_id -> group_id */
    G_MEMBER_DEL,      /* app, device_id */
    G_MEMBER_COUNT,    /* group_id -> count */
    G_MEMBER_PAGE,     /* group_id, limit, offset -> device_id */
    G_DEVICE_LEAVES,   /* device_id: from its groups of every application */
    G_EXISTS,          /* id -> 1 */
    G__COUNT
};

static const char *const GSQL[G__COUNT] = {
    [G_INSERT] = "INSERT INTO dev_groups(id, app_id, name, description, max_dev, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [G_GET] = "SELECT name, description, max_dev, created_ms FROM dev_groups WHERE id = ?1 AND app_id = ?2",
    [G_BY_NAME] = "SELECT id FROM dev_groups WHERE app_id = ?1 AND name = ?2",
    [G_UPDATE] = "UPDATE dev_groups SET name = ?2, description = ?3, max_dev = ?4 WHERE id = ?1",
    [G_DELETE] = "DELETE FROM dev_groups WHERE id = ?1",
    [G_COUNT] = "SELECT count(*) FROM dev_groups WHERE app_id = ?1 AND (?2 IS NULL OR name = ?2)",
    [G_LIST] = ("SELECT id, name, description, max_dev FROM dev_groups WHERE app_id = ?1 AND (?2 IS NULL OR name = ?2)"
               " ORDER BY created_ms, rowid LIMIT ?3 OFFSET ?4"),
    [G_MEMBERS_DEL] = "DELETE FROM dev_group_members WHERE group_id = ?1",
    [G_MEMBER_PUT] = "INSERT OR REPLACE INTO dev_group_members(app_id, device_id, group_id, added_ms) VALUES (?1, ?2, ?3, ?4)",
    [G_MEMBER_OF] = "SELECT group_id FROM dev_group_members WHERE app_id = ?1 AND device_id = ?2",
    [G_MEMBER_DEL] = "DELETE FROM dev_group_members WHERE app_id = ?1 AND device_id = ?2",
    [G_MEMBER_COUNT] = "SELECT count(*) FROM dev_group_members WHERE group_id = ?1",
    [G_MEMBER_PAGE] = "SELECT device_id FROM dev_group_members WHERE group_id = ?1 ORDER BY device_id LIMIT ?2 OFFSET ?3",
    [G_DEVICE_LEAVES] = "DELETE FROM dev_group_members WHERE device_id = ?1",
    [G_EXISTS] = "SELECT 1 FROM dev_groups WHERE id = ?1",
};

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS dev_groups(id TEXT PRIMARY KEY, app_id TEXT NOT NULL, name TEXT NOT NULL,"
    " description TEXT NOT NULL DEFAULT '', max_dev INTEGER NOT NULL DEFAULT 0, created_ms INTEGER NOT NULL,"
    " UNIQUE(app_id, name));"
    "CREATE TABLE IF NOT EXISTS dev_group_members(app_id TEXT NOT NULL, device_id TEXT NOT NULL,"
    " group_id TEXT NOT NULL, added_ms INTEGER NOT NULL, PRIMARY KEY(app_id, device_id)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS dev_group_members_group ON dev_group_members(group_id, device_id);"
    "CREATE INDEX IF NOT EXISTS dev_group_members_device ON dev_group_members(device_id);";

struct svc_group_groups {
    sqlite3 *db;
    sqlite3_stmt *st[G__COUNT];
};

/* --- helpers --------------------------------------------------------------------------------- */

static sqlite3_stmt *stmt(struct core *k, enum gstmt i) { return k->svc_group->groups->st[i]; }

/* The first column of the first row as an integer (-1: no row). */
static int64_t one_int(sqlite3_stmt *st)
{
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return v;
}

const char *svc_group_app(const struct north_req *rq) { return rq->app ? rq->app->id : ""; }

void svc_group_random_hex(char *out, size_t nbytes)
{
    unsigned char b[64];
    if (nbytes > sizeof b)
        nbytes = sizeof b;
    size_t got = 0;
    while (got < nbytes) {
        ssize_t n = getrandom(b + got, nbytes - got, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    for (; got < nbytes; got++) /* no entropy: still unique enough within one process */
        b[got] = (unsigned char)(rand() ^ (int)clock());
    for (size_t i = 0; i < nbytes; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
    out[2 * nbytes] = '\0';
}

static bool parse_uint(const char *s, long max, long *out)
{
    if (!s || !*s || strlen(s) > 9)
        return false;
    long v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (*p - '0');
    }
    if (v > max)
        return false;
    *out = v;
    return true;
}

bool svc_group_page(const struct north_req *rq, int max, int def, int *page_no, int *page_size,
                    struct north_resp *rs)
{
    const char *no = north_query(rq, "pageNo"), *size = north_query(rq, "pageSize");
    long v;
    *page_no = 0;
    *page_size = def;
    if (no) {
        if (!parse_uint(no, 1000000, &v)) {
            north_error(rs, 400, NE_BAD_REQUEST, "pageNo: '%.40s' is not a whole number 0..1000000", no);
            return false;
        }
        *page_no = (int)v;
    }
    if (size) {
        if (!parse_uint(size, max, &v) || v < 1) {
            north_error(rs, 400, NE_BAD_REQUEST, "pageSize: '%.40s' is not a whole number 1..%d", size, max);
            return false;
        }
        *page_size = (int)v;
    }
    return true;
}

static bool days_ok(int y, int m, int d)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int n = dim[m - 1] + (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
    return d >= 1 && d <= n;
}

int svc_group_parse_time(const char *t, int64_t *unix_ms)
{
    /* yyyyMMddTHHmmssZ */
    if (!t || strlen(t) != 16 || t[8] != 'T' || t[15] != 'Z')
        return -1;
    int v[6];
    static const int at[6] = {0, 4, 6, 9, 11, 13}, len[6] = {4, 2, 2, 2, 2, 2};
    for (int i = 0; i < 6; i++) {
        v[i] = 0;
        for (int j = 0; j < len[i]; j++) {
            char c = t[at[i] + j];
            if (c < '0' || c > '9')
                return -1;
            v[i] = v[i] * 10 + (c - '0');
        }
    }
    if (v[0] < 1970 || v[1] < 1 || v[1] > 12 || !days_ok(v[0], v[1], v[2]) || v[3] > 23 || v[4] > 59 || v[5] > 59)
        return -1;
    struct tm tm = {.tm_year = v[0] - 1900, .tm_mon = v[1] - 1, .tm_mday = v[2], .tm_hour = v[3],
                    .tm_min = v[4], .tm_sec = v[5]};
    time_t s = timegm(&tm);
    if (s == (time_t)-1)
        return -1;
    *unix_ms = (int64_t)s * 1000;
    return 0;
}

/* A string member of a body: NULL when absent; false with the 400 answered when it
 * is not a string of min..max bytes without control characters. */
bool svc_group_str_field(const cJSON *body, const char *name, size_t min, size_t max, const char **out,
                      struct north_resp *rs)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, name);
    *out = NULL;
    if (!v || cJSON_IsNull(v))
        return true;
    if (!cJSON_IsString(v)) {
        north_error(rs, 400, NE_BAD_REQUEST, "%s: not a string", name);
        return false;
    }
    size_t n = strlen(v->valuestring);
    if (n < min || n > max) {
        north_error(rs, 400, NE_BAD_REQUEST, "%s: %zu bytes, not %zu..%zu", name, n, min, max);
        return false;
    }
    for (const unsigned char *p = (const unsigned char *)v->valuestring; *p; p++)
        if (*p < 0x20 || *p == 0x7f) {
            north_error(rs, 400, NE_BAD_REQUEST, "%s: a control character at byte %zu", name,
                        (size_t)(p - (const unsigned char *)v->valuestring));
            return false;
        }
    *out = v->valuestring;
    return true;
}

/* An integer member min..max: *present false when absent. */
static bool int_field(const cJSON *body, const char *name, long min, long max, long *out, bool *present,
                      struct north_resp *rs)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, name);
    *present = false;
    if (!v || cJSON_IsNull(v))
        return true;
    if (!cJSON_IsNumber(v) || v->valuedouble != (double)(long)v->valuedouble || v->valuedouble < (double)min ||
        v->valuedouble > (double)max) {
        north_error(rs, 400, NE_BAD_REQUEST, "%s: not a whole number %ld..%ld", name, min, max);
        return false;
    }
    *out = (long)v->valuedouble;
    *present = true;
    return true;
}

bool svc_group_body_object(const struct north_req *rq, struct north_resp *rs)
{
    if (!cJSON_IsObject(rq->body)) {
        north_error(rs, 400, NE_BAD_REQUEST, "the body: not a JSON object");
        return false;
    }
    return true;
}

/* deviceIds of a body: an array of 1..SVC_GROUP_IDS_MAX registered devices, none
 * twice.  NULL with the 400 answered. */
const cJSON *svc_group_device_ids(struct core *k, const cJSON *body, bool required, bool *absent, struct north_resp *rs)
{
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(body, "deviceIds");
    *absent = !a || cJSON_IsNull(a);
    if (*absent) {
        if (required)
            north_error(rs, 400, NE_BAD_REQUEST, "deviceIds: missing");
        return NULL;
    }
    int n = cJSON_GetArraySize(a);
    if (!cJSON_IsArray(a) || n < 1 || n > SVC_GROUP_IDS_MAX) {
        north_error(rs, 400, NE_BAD_REQUEST, "deviceIds: not an array of 1..%d device ids", SVC_GROUP_IDS_MAX);
        return NULL;
    }
    int i = 0;
    for (const cJSON *e = a->child; e; e = e->next, i++) {
        char proto[STORE_PROTOCOL_MAX + 1];
        if (!cJSON_IsString(e) || !e->valuestring[0] || strlen(e->valuestring) > STORE_ID_MAX) {
            north_error(rs, 400, NE_BAD_REQUEST, "deviceIds[%d]: not a device id (a string of 1..%d bytes)", i,
                        STORE_ID_MAX);
            return NULL;
        }
        if (!svc_device_protocol(k, e->valuestring, proto, sizeof proto)) {
            north_error(rs, 400, NE_BAD_REQUEST, "deviceIds[%d]: no device %.64s is registered", i, e->valuestring);
            return NULL;
        }
        int j = 0;
        for (const cJSON *p = a->child; p != e; p = p->next, j++)
            if (strcmp(p->valuestring, e->valuestring) == 0) {
                north_error(rs, 400, NE_BAD_REQUEST, "deviceIds[%d]: %.64s is listed already at [%d]", i,
                            e->valuestring, j);
                return NULL;
            }
    }
    return a;
}

/* The group a device is in within the application: false when none. */
static bool member_of(struct core *k, const char *app, const char *device_id, char *group, size_t cap)
{
    sqlite3_stmt *st = stmt(k, G_MEMBER_OF);
    svc_sql_text(st, 1, app);
    svc_sql_text(st, 2, device_id);
    bool found = sqlite3_step(st) == SQLITE_ROW;
    if (found)
        snprintf(group, cap, "%s", svc_sql_col(st, 0));
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return found;
}

static int64_t member_count(struct core *k, const char *group_id)
{
    sqlite3_stmt *st = stmt(k, G_MEMBER_COUNT);
    svc_sql_text(st, 1, group_id);
    int64_t n = one_int(st);
    return n < 0 ? 0 : n;
}

/* Every listed device may join group_id: in no other group of the application, and
 * the group's bound holds them (the ones in it already count once).  False with the
 * 409 answered. */
static bool may_join(struct core *k, const char *app, const char *group_id, long max_dev, const cJSON *ids,
                     struct north_resp *rs)
{
    int64_t cur = member_count(k, group_id), more = 0;
    int i = 0;
    for (const cJSON *e = ids->child; e; e = e->next, i++) {
        char g[80];
        if (member_of(k, app, e->valuestring, g, sizeof g)) {
            if (strcmp(g, group_id) != 0) {
                north_error(rs, 409, NE_CONFLICT,
                            "deviceIds[%d]: %.64s is in group %s already (a device is in one group)", i,
                            e->valuestring, g);
                return false;
            }
        } else {
            more++;
        }
    }
    if (max_dev > 0 && cur + more > max_dev) {
        north_error(rs, 409, NE_CONFLICT, "deviceIds: the group holds %lld of maxDevNum %ld; %lld more do not fit",
                    (long long)cur, max_dev, (long long)more);
        return false;
    }
    return true;
}

static int join(struct core *k, const char *app, const char *group_id, const cJSON *ids)
{
    int64_t now = svc_unix_ms(svc_now_ms());
    for (const cJSON *e = ids->child; e; e = e->next) {
        sqlite3_stmt *st = stmt(k, G_MEMBER_PUT);
        svc_sql_text(st, 1, app);
        svc_sql_text(st, 2, e->valuestring);
        svc_sql_text(st, 3, group_id);
        sqlite3_bind_int64(st, 4, now);
        if (svc_sql_run(st) < 0)
            return -1;
    }
    return 0;
}

struct group_row {
    char name[SVC_GROUP_NAME_MAX + 1];
    char description[SVC_GROUP_DESC_MAX + 1];
    long max_dev;
};

/* The application's group id: false when it has none of that id. */
static bool group_get(struct core *k, const char *app, const char *id, struct group_row *g)
{
    sqlite3_stmt *st = stmt(k, G_GET);
    svc_sql_text(st, 1, id);
    svc_sql_text(st, 2, app);
    bool found = sqlite3_step(st) == SQLITE_ROW;
    if (found) {
        snprintf(g->name, sizeof g->name, "%s", svc_sql_col(st, 0));
        snprintf(g->description, sizeof g->description, "%s", svc_sql_col(st, 1));
        g->max_dev = (long)sqlite3_column_int64(st, 2);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return found;
}

bool svc_group_exists(struct core *k, const char *app, const char *group_id)
{
    struct group_row g;
    return k->svc_group && group_get(k, app, group_id, &g);
}

static cJSON *group_json(struct core *k, const char *app, const char *id, const struct group_row *g)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddStringToObject(o, "name", g->name);
    cJSON_AddStringToObject(o, "description", g->description);
    cJSON_AddStringToObject(o, "appId", app);
    cJSON_AddNumberToObject(o, "maxDevNum", (double)g->max_dev);
    cJSON_AddNumberToObject(o, "curDevNum", (double)member_count(k, id));
    return o;
}

/* The name is free in the application (or is self's): false with the 409 answered. */
static bool name_free(struct core *k, const char *app, const char *name, const char *self, struct north_resp *rs)
{
    sqlite3_stmt *st = stmt(k, G_BY_NAME);
    svc_sql_text(st, 1, app);
    svc_sql_text(st, 2, name);
    bool taken = false;
    char other[80] = "";
    if (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(other, sizeof other, "%s", svc_sql_col(st, 0));
        taken = !self || strcmp(other, self) != 0;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (taken)
        north_error(rs, 409, NE_CONFLICT, "name: the application has a group named %.64s already (%s)", name, other);
    return !taken;
}

static void db_failed(struct core *k, struct north_resp *rs)
{
    north_error(rs, 500, NE_INTERNAL, "the store: %s", sqlite3_errmsg(k->svc_group->groups->db));
}

/* --- the calls ------------------------------------------------------------------------------- */

/* POST devGroups {name, description?, maxDevNum?, deviceIds?} */
static void group_create(void *ctx, const struct north_req *rq, struct north_resp *rs)
{
    struct core *k = ctx;
    const char *app = svc_group_app(rq), *name, *desc;
    long max_dev = 0;
    bool has_max, no_ids;
    if (!svc_group_body_object(rq, rs) || !svc_group_str_field(rq->body, "name", 1, SVC_GROUP_NAME_MAX, &name, rs) ||
        !svc_group_str_field(rq->body, "description", 0, SVC_GROUP_DESC_MAX, &desc, rs) ||
        !int_field(rq->body, "maxDevNum", 0, SVC_GROUP_MAX_DEV, &max_dev, &has_max, rs))
        return;
    if (!name) {
        north_error(rs, 400, NE_BAD_REQUEST, "name: missing");
        return;
    }
    const cJSON *ids = svc_group_device_ids(k, rq->body, false, &no_ids, rs);
    if (!ids && !no_ids)
        return;
    char id[37], hex[33];
    svc_group_random_hex(hex, 16);
    snprintf(id, sizeof id, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
    if (!name_free(k, app, name, NULL, rs) || (ids && !may_join(k, app, id, max_dev, ids, rs)))
        return;
    core_batch_begin(k);
    sqlite3_stmt *st = stmt(k, G_INSERT);
    svc_sql_text(st, 1, id);
    svc_sql_text(st, 2, app);
    svc_sql_text(st, 3, name);
    svc_sql_text(st, 4, desc ? desc : "");
    sqlite3_bind_int64(st, 5, max_dev);
    sqlite3_bind_int64(st, 6, svc_unix_ms(svc_now_ms()));
    if (svc_sql_run(st) < 0 || (ids && join(k, app, id, ids) < 0)) {
        db_failed(k, rs);
        return;
    }
    svc_commit(k);
    struct group_row g = {.max_dev = max_dev};
    snprintf(g.name, sizeof g.name, "%s", name);
    snprintf(g.description, sizeof g.description, "%s", desc ? desc : "");
    rs->status = 200;
    rs->body = group_json(k, app, id, &g);
    cJSON *list = cJSON_AddArrayToObject(rs->body, "deviceIds");
    for (const cJSON *e = ids ? ids->child : NULL; e; e = e->next)
        cJSON_AddItemToArray(list, cJSON_CreateString(e->valuestring));
}

/* GET devGroups?pageNo=&pageSize=&name= */
static void group_list(void *ctx, const struct north_req *rq, struct north_resp *rs)
{
    struct core *k = ctx;
    const char *app = svc_group_app(rq), *name = north_query(rq, "name");
    int no, size;
    if (!svc_group_page(rq, 1000, 10, &no, &size, rs))
        return;
    if (name && strlen(name) > SVC_GROUP_NAME_MAX) {
        north_error(rs, 400, NE_BAD_REQUEST, "name: over %d bytes", SVC_GROUP_NAME_MAX);
        return;
    }
    sqlite3_stmt *c = stmt(k, G_COUNT);
    svc_sql_text(c, 1, app);
    svc_sql_text(c, 2, name);
    int64_t total = one_int(c);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "totalCount", (double)(total < 0 ? 0 : total));
    cJSON_AddNumberToObject(o, "pageNo", no);
    cJSON_AddNumberToObject(o, "pageSize", size);
    cJSON *list = cJSON_AddArrayToObject(o, "list");
    sqlite3_stmt *st = stmt(k, G_LIST);
    svc_sql_text(st, 1, app);
    svc_sql_text(st, 2, name);
    sqlite3_bind_int64(st, 3, size);
    sqlite3_bind_int64(st, 4, (int64_t)no * size);
    struct {
        char id[80];
        struct group_row g;
    } *rows = calloc((size_t)size, sizeof *rows);
    int n = 0;
    while (rows && n < size && sqlite3_step(st) == SQLITE_ROW) {
        snprintf(rows[n].id, sizeof rows[n].id, "%s", svc_sql_col(st, 0));
        snprintf(rows[n].g.name, sizeof rows[n].g.name, "%s", svc_sql_col(st, 1));
        snprintf(rows[n].g.description, sizeof rows[n].g.description, "%s", svc_sql_col(st, 2));
        rows[n].g.max_dev = (long)sqlite3_column_int64(st, 3);
        n++;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    for (int i = 0; i < n; i++) /* the counts after the listing's statement is reset */
        cJSON_AddItemToArray(list, group_json(k, app, rows[i].id, &rows[i].g));
    free(rows);
    rs->status = 200;
    rs->body = o;
}

static bool group_found(struct core *k, const struct north_req *rq, struct group_row *g, struct north_resp *rs)
{
    if (!group_get(k, svc_group_app(rq), rq->params[0], g)) {
        north_error(rs, 404, NE_NOT_FOUND, "devGroupId: the application has no group %.64s", rq->params[0]);
        return false;
    }
    return true;
}

/* GET devGroups/{devGroupId} */
static void group_show(void *ctx, const struct north_req *rq, struct north_resp *rs)
{
    struct core *k = ctx;
    struct group_row g;
    if (!group_found(k, rq, &g, rs))
        return;
    rs->status = 200;
    rs->body = group_json(k, svc_group_app(rq), rq->params[0], &g);
}

/* PUT devGroups/{devGroupId} {name?, description?, maxDevNum?} */
static void group_modify(void *ctx, const struct north_req *rq, struct north_resp *rs)
{
    struct core *k = ctx;
    const char *app = svc_group_app(rq), *id = rq->params[0], *name, *desc;
    struct group_row g;
    long max_dev;
    bool has_max;
    if (!svc_group_body_object(rq, rs) || !svc_group_str_field(rq->body, "name", 1, SVC_GROUP_NAME_MAX, &name, rs) ||
        !svc_group_str_field(rq->body, "description", 0, SVC_GROUP_DESC_MAX, &desc, rs) ||
        !int_field(rq->body, "maxDevNum", 0, SVC_GROUP_MAX_DEV, &max_dev, &has_max, rs) ||
        !group_found(k, rq, &g, rs))
        return;
    if (name && !name_free(k, app, name, id, rs))
        return;
    if (has_max) {
        int64_t cur = member_count(k, id);
        if (max_dev > 0 && cur > max_dev) {
            north_error(rs, 409, NE_CONFLICT, "maxDevNum: %ld is below the %lld devices the group holds", max_dev,
                        (long long)cur);
            return;
        }
        g.max_dev = max_dev;
    }
    if (name)
        snprintf(g.name, sizeof g.name, "%s", name);
    if (desc)
        snprintf(g.description, sizeof g.description, "%s", desc);
    core_batch_begin(k);
    sqlite3_stmt *st = stmt(k, G_UPDATE);
    svc_sql_text(st, 1, id);
    svc_sql_text(st, 2, g.name);
    svc_sql_text(st, 3, g.description);
    sqlite3_bind_int64(st, 4, g.max_dev);
    if (svc_sql_run(st) < 0) {
        db_failed(k, rs);
        return;
    }
    svc_commit(k);
    rs->status = 200;
    rs->body = group_json(k, app, id, &g);
}

/* DELETE devGroups/{devGroupId}: 204; its devices are in no group after. */
static void group_delete(void *ctx, const struct north_req *rq, struct north_resp *rs)
{
    struct core *k = ctx;
    struct group_row g;
    if (!group_found(k, rq, &g, rs))
        return;
    core_batch_begin(k);
    sqlite3_stmt *a = stmt(k, G_MEMBERS_DEL), *b = stmt(k, G_DELETE);
    svc_sql_text(a, 1, rq->params[0]);
    svc_sql_text(b, 1, rq->params[0]);
    if (svc_sql_run(a) < 0 || svc_sql_run(b) < 0) {
        db_failed(k, rs);
        return;
    }
    svc_commit(k);
    rs->status = 204;
}

static void members_answer(struct core *k, const char *id, const cJSON *ids, struct north_resp *rs)
{
    rs->status = 200;
    rs->body = cJSON_CreateObject();
    cJSON_AddStringToObject(rs->body, "devGroupId", id);
    cJSON *list = cJSON_AddArrayToObject(rs->body, "deviceIds");
    for (const cJSON *e = ids->child; e; e = e->next)
        cJSON_AddItemToArray(list, cJSON_CreateString(e->valuestring));
    cJSON_AddNumberToObject(rs->body, "curDevNum", (double)member_count(k, id));
}

/* POST devGroups/{devGroupId}/addDevices {deviceIds} */
static void group_add(void *ctx, const struct north_req *rq, struct north_resp *rs)
{
    struct core *k = ctx;
    const char *app = svc_group_app(rq), *id = rq->params[0];
    struct group_row g;
    bool absent;
    const cJSON *ids;
    if (!svc_group_body_object(rq, rs) || !group_found(k, rq, &g, rs) ||
        !(ids = svc_group_device_ids(k, rq->body, true, &absent, rs)) || !may_join(k, app, id, g.max_dev, ids, rs))
        return;
    core_batch_begin(k);
    if (join(k, app, id, ids) < 0) {
        db_failed(k, rs);
        return;
    }
    svc_commit(k);
    members_answer(k, id, ids, rs);
}

/* POST devGroups/{devGroupId}/deleteDevices {deviceIds}: each must be a member. */
static void group_remove(void *ctx, const struct north_req *rq, struct north_resp *rs)
{
    struct core *k = ctx;
    const char *app = svc_group_app(rq), *id = rq->params[0];
    struct group_row g;
    bool absent;
    const cJSON *ids;
    if (!svc_group_body_object(rq, rs) || !group_found(k, rq, &g, rs) ||
        !(ids = svc_group_device_ids(k, rq->body, true, &absent, rs)))
        return;
    int i = 0;
    for (const cJSON *e = ids->child; e; e = e->next, i++) {
        char in[80];
        if (!member_of(k, app, e->valuestring, in, sizeof in) || strcmp(in, id) != 0) {
            north_error(rs, 400, NE_BAD_REQUEST, "deviceIds[%d]: %.64s is not a member of the group", i,
                        e->valuestring);
            return;
        }
    }
    core_batch_begin(k);
    for (const cJSON *e = ids->child; e; e = e->next) {
        sqlite3_stmt *st = stmt(k, G_MEMBER_DEL);
        svc_sql_text(st, 1, app);
        svc_sql_text(st, 2, e->valuestring);
        if (svc_sql_run(st) < 0) {
            db_failed(k, rs);
            return;
        }
    }
    svc_commit(k);
    members_answer(k, id, ids, rs);
}

/* GET devGroups/{devGroupId}/members?pageNo=&pageSize= */
static void group_members(void *ctx, const struct north_req *rq, struct north_resp *rs)
{
    struct core *k = ctx;
    const char *id = rq->params[0];
    struct group_row g;
    int no, size;
    if (!svc_group_page(rq, 1000, 10, &no, &size, rs) || !group_found(k, rq, &g, rs))
        return;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "totalCount", (double)member_count(k, id));
    cJSON_AddNumberToObject(o, "pageNo", no);
    cJSON_AddNumberToObject(o, "pageSize", size);
    cJSON *list = cJSON_AddArrayToObject(o, "deviceIds");
    sqlite3_stmt *st = stmt(k, G_MEMBER_PAGE);
    svc_sql_text(st, 1, id);
    sqlite3_bind_int64(st, 2, size);
    sqlite3_bind_int64(st, 3, (int64_t)no * size);
    while (sqlite3_step(st) == SQLITE_ROW)
        cJSON_AddItemToArray(list, cJSON_CreateString(svc_sql_col(st, 0)));
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    rs->status = 200;
    rs->body = o;
}

#define GROUPS "/iocm/app/devgroup/v1.3.0/devGroups"
#define TAGS "/iocm/app/devgroup/v1.3.0/tags"
#define TASKS "/iocm/app/batchtask/v1.1.0"
const struct north_route svc_group_routes[] = {
    {"POST", GROUPS, group_create},
    {"GET", GROUPS, group_list},
    {"GET", GROUPS "/{devGroupId}", group_show},
    {"PUT", GROUPS "/{devGroupId}", group_modify},
    {"DELETE", GROUPS "/{devGroupId}", group_delete},
    {"POST", GROUPS "/{devGroupId}/addDevices", group_add},
    {"POST", GROUPS "/{devGroupId}/deleteDevices", group_remove},
    {"GET", GROUPS "/{devGroupId}/members", group_members},
    {"POST", TAGS, svc_group_tag_create},
    {"GET", TAGS, svc_group_tag_list},
    {"DELETE", TAGS "/{tagId}", svc_group_tag_delete},
    {"POST", TAGS "/{tagId}/addDevices", svc_group_tag_add},
    {"POST", TAGS "/{tagId}/deleteDevices", svc_group_tag_remove},
    {"GET", TAGS "/{tagId}/devices", svc_group_tag_devices},
    {"GET", "/iocm/app/devgroup/v1.3.0/deviceTags/{deviceId}", svc_group_device_tags},
    {"POST", TASKS "/tasks", svc_group_task_create},
    {"GET", TASKS "/tasks/{taskId}", svc_group_task_get},
    {"GET", TASKS "/taskDetails", svc_group_task_details},
    {"GET", "/iocm/app/data/v1.1.0/deviceDataHistory", svc_group_hist_route},
};
const size_t svc_group_n_routes = sizeof svc_group_routes / sizeof *svc_group_routes;

/* --- the service's life and events ----------------------------------------------------------- */

int svc_group_start(struct core *k, char *err, size_t errcap)
{
    struct svc_group *sg = calloc(1, sizeof *sg);
    struct svc_group_groups *g = calloc(1, sizeof *g);
    if (!sg || !g) {
        snprintf(err, errcap, "out of memory");
        free(sg);
        free(g);
        return -1;
    }
    g->db = store_sqlite(k->store);
    char *why = NULL;
    if (sqlite3_exec(g->db, SCHEMA, NULL, NULL, &why) != SQLITE_OK) {
        snprintf(err, errcap, "groups' tables: %s", why ? why : sqlite3_errmsg(g->db));
        sqlite3_free(why);
        free(g);
        free(sg);
        return -1;
    }
    for (int i = 0; i < G__COUNT; i++)
        if (sqlite3_prepare_v2(g->db, GSQL[i], -1, &g->st[i], NULL) != SQLITE_OK) {
            snprintf(err, errcap, "groups: %s", sqlite3_errmsg(g->db));
            for (int j = 0; j < i; j++)
                sqlite3_finalize(g->st[j]);
            free(g);
            free(sg);
            return -1;
        }
    sg->groups = g;
    k->svc_group = sg;
    if (svc_group_tag_start(k, err, errcap) < 0 || svc_group_hist_start(k, err, errcap) < 0 ||
        svc_group_task_start(k, err, errcap) < 0) {
        svc_group_stop(k); /* each part's stop leaves what did not start */
        return -1;
    }
    return 0;
}

void svc_group_stop(struct core *k)
{
    struct svc_group *sg = k->svc_group;
    if (!sg)
        return;
    svc_group_task_stop(k);
    svc_group_hist_stop(k);
    svc_group_tag_stop(k);
    for (int i = 0; i < G__COUNT; i++)
        sqlite3_finalize(sg->groups->st[i]);
    free(sg->groups);
    free(sg);
    k->svc_group = NULL;
}

void svc_group_deleted(struct core *k, int proto, const char *id)
{
    (void)proto;
    if (!k->svc_group)
        return;
    core_batch_begin(k);
    sqlite3_stmt *st = stmt(k, G_DEVICE_LEAVES);
    svc_sql_text(st, 1, id);
    if (svc_sql_run(st) < 0)
        core_error(k, "groups: a deleted device leaving its group: %s", sqlite3_errmsg(k->svc_group->groups->db));
    svc_group_tag_deleted(k, id);
    svc_group_hist_forget(k, id);
}

char **svc_group_members(struct core *k, const char *group_id, size_t *n)
{
    *n = 0;
    if (!k->svc_group || !group_id)
        return NULL;
    sqlite3_stmt *e = stmt(k, G_EXISTS);
    svc_sql_text(e, 1, group_id);
    if (one_int(e) < 0)
        return NULL;
    int64_t total = member_count(k, group_id);
    sqlite3_stmt *st = stmt(k, G_MEMBER_PAGE);
    svc_sql_text(st, 1, group_id);
    sqlite3_bind_int64(st, 2, total);
    sqlite3_bind_int64(st, 3, 0);
    char **ids = calloc((size_t)(total > 0 ? total : 1), sizeof *ids);
    while (ids && *n < (size_t)total && sqlite3_step(st) == SQLITE_ROW) {
        ids[*n] = strdup(svc_sql_col(st, 0));
        if (!ids[*n])
            break;
        (*n)++;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return ids;
}
