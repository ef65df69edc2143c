/* Reading the store for the northbound API: a device with its registration, its
 * last status and the latest value of each service it reported (store.h). */
#include <stdio.h>
#include <string.h>

#include "sim/platform/core/shadow.h"
#include "sim/platform/core/store_internal.h"

static int prepared(struct store *s, const char *sql, sqlite3_stmt **st, char *err, size_t cap)
{
    if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK) {
        store__err(err, cap, "%s", sqlite3_errmsg(s->db));
        return -1;
    }
    return 0;
}

static const char *col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

int store_device_json(struct store *s, const char *device_id, cJSON **out, char *err, size_t cap)
{
    *out = NULL;
    if (!s || !store__len_ok(device_id, 1, STORE_ID_MAX))
        return 1;
    sqlite3_stmt *d = NULL, *st = NULL, *r = NULL;
    int rc = -1;
    if (prepared(s, "SELECT protocol, name, binding, product, attrs, registered_at FROM devices WHERE device_id = ?1"
                    " ORDER BY protocol LIMIT 1", &d, err, cap) < 0)
        return -1;
    sqlite3_bind_text(d, 1, device_id, -1, SQLITE_STATIC);
    if (sqlite3_step(d) != SQLITE_ROW) {
        rc = 1; /* no such device */
        goto out;
    }
    const char *proto = col_text(d, 0);
    cJSON *o = cJSON_CreateObject();
    if (!o) {
        store__err(err, cap, "out of memory");
        goto out;
    }
    char t[17];
    cJSON_AddStringToObject(o, "deviceId", device_id);
    cJSON_AddStringToObject(o, "protocolType", proto);
    cJSON_AddStringToObject(o, "name", col_text(d, 1));
    if (*col_text(d, 2))
        cJSON_AddStringToObject(o, "binding", col_text(d, 2));
    if (*col_text(d, 3))
        cJSON_AddStringToObject(o, "productId", col_text(d, 3));
    cJSON *attrs = *col_text(d, 4) ? cJSON_Parse(col_text(d, 4)) : NULL;
    if (attrs)
        cJSON_AddItemToObject(o, "attributes", attrs);
    shadow_time_text(sqlite3_column_int64(d, 5), t);
    cJSON_AddStringToObject(o, "createTime", t);
    if (prepared(s, "SELECT online, at_ms FROM status WHERE protocol = ?1 AND device_id = ?2", &st, err, cap) < 0 ||
        prepared(s, "SELECT service, data, at_ms FROM reports WHERE protocol = ?1 AND device_id = ?2 ORDER BY service",
                 &r, err, cap) < 0) {
        cJSON_Delete(o);
        goto out;
    }
    sqlite3_bind_text(st, 1, proto, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, device_id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        cJSON_AddStringToObject(o, "status", sqlite3_column_int(st, 0) ? "ONLINE" : "OFFLINE");
        shadow_time_text(sqlite3_column_int64(st, 1), t);
        cJSON_AddStringToObject(o, "statusTime", t);
    } else {
        cJSON_AddStringToObject(o, "status", "INACTIVE"); /* never connected */
    }
    cJSON *svcs = cJSON_AddArrayToObject(o, "services");
    sqlite3_bind_text(r, 1, proto, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(r, 2, device_id, -1, SQLITE_STATIC);
    while (sqlite3_step(r) == SQLITE_ROW) {
        cJSON *sv = cJSON_CreateObject();
        cJSON_AddStringToObject(sv, "serviceId", col_text(r, 0));
        cJSON *data = cJSON_Parse(col_text(r, 1));
        cJSON_AddItemToObject(sv, "data", data ? data : cJSON_CreateString(col_text(r, 1)));
        shadow_time_text(sqlite3_column_int64(r, 2), t);
        cJSON_AddStringToObject(sv, "eventTime", t);
        cJSON_AddItemToArray(svcs, sv);
    }
    *out = o;
    rc = 0;
out:
    sqlite3_finalize(d);
    sqlite3_finalize(st);
    sqlite3_finalize(r);
    return rc;
}

bool store_device_protocol(struct store *s, const char *device_id, char *protocol, size_t cap)
{
    if (!s || !store__len_ok(device_id, 1, STORE_ID_MAX) || !cap)
        return false;
    sqlite3_stmt *d = NULL;
    char err[128];
    if (prepared(s, "SELECT protocol FROM devices WHERE device_id = ?1 ORDER BY protocol LIMIT 1", &d, err,
                 sizeof err) < 0)
        return false;
    sqlite3_bind_text(d, 1, device_id, -1, SQLITE_STATIC);
    bool found = sqlite3_step(d) == SQLITE_ROW;
    if (found)
        snprintf(protocol, cap, "%s", col_text(d, 0));
    sqlite3_finalize(d);
    return found;
}

struct sqlite3 *store_sqlite(struct store *s)
{
    return s ? s->db : NULL;
}
