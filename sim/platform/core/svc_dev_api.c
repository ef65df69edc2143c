/* The device calls of the northbound API (docs/api.md, Devices): registration
 * (004 §4), a device, the device list, a device's change and deletion, and its
 * status history (fleetsim's own).  Status is judged by the rules now
 * (svc_dev.c), not read from the last flush. */
#include "sim/platform/core/svc_sql.h"
#include "sim/platform/core/svc.h"
#include "sim/platform/core/svc_dev.h"
#include "sim/platform/core/svc_dev_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/platform/core/core_internal.h"
#include "sim/platform/core/shadow.h"

#define DEV_PATH "/iocm/app/dm/v1.4.0/devices"

static void set_str(cJSON *o, const char *key, const char *v)
{
    cJSON_DeleteItemFromObjectCaseSensitive(o, key);
    cJSON_AddStringToObject(o, key, v);
}

static void internal(struct north_resp *rs, const char *what)
{
    north_error(rs, 500, NE_INTERNAL, "%s", what);
}

/* A device as GET shows it: the store's (store_device_json) with the service's:
 * nodeId, productId, endUser, status by the rules and since when. 0, 1 (no such
 * device), -1 with err. */
static int dev_json(struct core *k, const char *device_id, cJSON **out, char *err, size_t errcap)
{
    int rc = store_device_json(k->store, device_id, out, err, errcap);
    if (rc)
        return rc;
    cJSON *o = *out;
    char proto[STORE_PROTOCOL_MAX + 1];
    snprintf(proto, sizeof proto, "%s", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "protocolType")));
    sqlite3 *db = store_sqlite(k->store);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT node_id, verify_code, product, end_user FROM dev_mgmt"
                               " WHERE protocol = ?1 AND device_id = ?2", -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, errcap, "database: %s", sqlite3_errmsg(db));
        cJSON_Delete(o);
        *out = NULL;
        return -1;
    }
    sqlite3_bind_text(st, 1, proto, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, device_id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        set_str(o, "nodeId", svc_sql_col(st, 0));
        if (*svc_sql_col(st, 1))
            set_str(o, "verifyCode", svc_sql_col(st, 1));
        /* a JT/T 808 terminal's registration over the air carries no product: the API's stays */
        if (*svc_sql_col(st, 2) && !cJSON_GetObjectItemCaseSensitive(o, "productId"))
            set_str(o, "productId", svc_sql_col(st, 2));
        if (*svc_sql_col(st, 3))
            set_str(o, "endUser", svc_sql_col(st, 3));
    } else {
        set_str(o, "nodeId", device_id);
    }
    sqlite3_finalize(st);
    struct dev *e = svc_dev__find(k, proto, device_id);
    enum dev_status s = e ? svc_dev__status(e) : DS_INACTIVE;
    set_str(o, "status", dev_status_name(s));
    set_str(o, "statusDetail", svc_dev__detail(s));
    if (e && e->t.ever) {
        char t[17];
        shadow_time_text(svc_dev__unix(k, s == e->status ? e->status_at : svc_now_ms()), t);
        set_str(o, "statusTime", t);
    }
    return 0;
}

/* POST /iocm/app/reg/v1.1.0/deviceCredentials */
static void reg(void *ctx, const struct north_req *rq, struct north_resp *rs)
{
    struct core *k = ctx;
    struct svc_dev_reg r;
    char err[256], other[STORE_ID_MAX + 1];
    if (svc_dev_reg_parse(rq->body, &r, err, sizeof err) < 0) {
        north_error(rs, 400, NE_BAD_REQUEST, "%s", err);
        return;
    }
    if (svc_mutant(k, "dev-id-rule")) /* mutant: the deviceId is the nodeId, whatever the product */
        snprintf(r.device_id, sizeof r.device_id, "%s", r.node_id);
    if (store_device_protocol(k->store, r.device_id, other, sizeof other)) {
        north_error(rs, 409, NE_CONFLICT, "nodeId: deviceId %s is registered already (%s)", r.device_id, other);
        return;
    }
    /* mutant: a nodeId registered already is taken again (under another product) */
    if (svc_dev_node_device(k, r.protocol, r.node_id, other, sizeof other) && !svc_mutant(k, "dev-repeat-nodeid")) {
        north_error(rs, 409, NE_CONFLICT, "nodeId: %s is registered already (deviceId %s)", r.node_id, other);
        return;
    }
    int pi = svc_dev__proto(k, r.protocol);
    if (pi < 0) {
        internal(rs, "the core holds no more protocols");
        return;
    }
    char secret[STORE_SECRET_MAX + 1];
    struct store_device sd = {.protocol = r.protocol, .device_id = r.device_id,
                              .name = r.name[0] ? r.name : r.device_id, .product = r.product};
    core_batch_begin(k);
    enum store_reg_result res = store_register(k->store, &sd, false, secret, sizeof secret, err, sizeof err);
    if (res == STORE_REG_NAME_TAKEN)
        north_error(rs, 409, NE_CONFLICT, "name: %s is another device's", sd.name);
    else if (res != STORE_REG_OK)
        north_error(rs, 500, NE_INTERNAL, "the store: %s", err[0] ? err : "registration refused");
    else if (r.psk[0] && store_set_secret(k->store, r.protocol, r.device_id, r.psk, err, sizeof err) < 0)
        north_error(rs, 500, NE_INTERNAL, "the store: %s", err);
    else if (svc_dev__add_registered(k, &r, err, sizeof err) < 0)
        north_error(rs, 500, NE_INTERNAL, "the store: %s", err);
    else {
        if (r.psk[0])
            snprintf(secret, sizeof secret, "%s", r.psk);
        svc_push_registered(k, pi, r.device_id);
        rs->status = 200;
    }
    svc_commit(k);
    if (rs->status != 200)
        return;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "deviceId", r.device_id);
    cJSON_AddStringToObject(o, "verifyCode", r.verify_code);
    cJSON_AddNumberToObject(o, "timeout", (double)r.timeout_s);
    cJSON_AddStringToObject(o, "psk", secret);
    rs->body = o;
}

/* GET devices/{deviceId} */
static void one(void *ctx, const struct north_req *rq, struct north_resp *rs)
{
    struct core *k = ctx;
    cJSON *o = NULL;
    char err[256];
    int rc = dev_json(k, rq->params[0], &o, err, sizeof err);
    if (rc == 1) {
        north_error(rs, 404, NE_NOT_FOUND, "no device %s is registered", rq->params[0]);
        return;
    }
    if (rc < 0) {
        north_error(rs, 500, NE_INTERNAL, "the store: %s", err);
        return;
    }
    rs->status = 200;
    rs->body = o;
}

static bool device_of(struct core *k, const struct north_req *rq, struct north_resp *rs, char *proto, size_t cap)
{
    if (svc_device_protocol(k, rq->params[0], proto, cap))
        return true;
    north_error(rs, 404, NE_NOT_FOUND, "no device %s is registered", rq->params[0]);
    return false;
}

/* PUT devices/{deviceId} */
static void modify(void *ctx, const struct north_req *rq, struct north_resp *rs)
{
    struct core *k = ctx;
    struct svc_dev_mod m;
    char err[256], proto[STORE_PROTOCOL_MAX + 1];
    if (!device_of(k, rq, rs, proto, sizeof proto))
        return;
    if (svc_dev_mod_parse(rq->body, &m, err, sizeof err) < 0) {
        north_error(rs, 400, NE_BAD_REQUEST, "%s", err);
        return;
    }
    core_batch_begin(k);
    int rc = 0;
    if (m.has_name && (rc = store_rename(k->store, proto, rq->params[0], m.name, err, sizeof err)) != 0)
        north_error(rs, rc == 1 ? 409 : 500, rc == 1 ? NE_CONFLICT : NE_INTERNAL, "%s", err);
    if (rc == 0 && m.has_end_user) {
        svc_dev__write(k); /* the device's row exists before it is changed */
        if ((rc = svc_dev__set_end_user(k, proto, rq->params[0], m.end_user, err, sizeof err)) < 0)
            north_error(rs, 500, NE_INTERNAL, "the store: %s", err);
    }
    svc_commit(k);
    if (rc == 0)
        rs->status = 204;
}

/* DELETE devices/{deviceId} */
static void del(void *ctx, const struct north_req *rq, struct north_resp *rs)
{
    struct core *k = ctx;
    char proto[STORE_PROTOCOL_MAX + 1];
    if (!device_of(k, rq, rs, proto, sizeof proto))
        return;
    int pi = svc_dev__proto(k, proto);
    if (svc_mutant(k, "dev-delete-noop")) { /* mutant: 204, and the device stays */
        rs->status = 204;
        return;
    }
    core_batch_begin(k);
    store_unregister(k->store, proto, rq->params[0]);
    if (pi >= 0)
        svc_on_deleted(k, pi, rq->params[0]);
    svc_commit(k);
    rs->status = 204;
}

static bool page_of(const struct north_req *rq, struct north_resp *rs, int *no, int *size)
{
    char err[200];
    if (svc_dev_page_parse(north_query(rq, "pageNo"), north_query(rq, "pageSize"), SVC_DEV_PAGE, SVC_DEV_PAGE_MAX, no,
                           size, err, sizeof err) == 0)
        return true;
    north_error(rs, 400, NE_BAD_REQUEST, "%s", err);
    return false;
}

static void paged(cJSON *o, long total, int no, int size)
{
    cJSON_AddNumberToObject(o, "totalCount", (double)total);
    cJSON_AddNumberToObject(o, "pageNo", no);
    cJSON_AddNumberToObject(o, "pageSize", size);
}

/* GET devices?pageNo=&pageSize=&status=&productId=&protocolType=&startTime=&endTime= */
static void list(void *ctx, const struct north_req *rq, struct north_resp *rs)
{
    struct core *k = ctx;
    int no, size;
    char err[200];
    if (!page_of(rq, rs, &no, &size))
        return;
    const char *status = north_query(rq, "status"), *product = north_query(rq, "productId");
    const char *proto = north_query(rq, "protocolType"), *from = north_query(rq, "startTime");
    const char *to = north_query(rq, "endTime");
    int want = -1;
    int64_t t0 = 0, t1 = 0;
    if (status && (want = svc_dev_status_parse(status)) < 0) {
        north_error(rs, 400, NE_BAD_REQUEST, "status: \"%.40s\" is not one of ONLINE, OFFLINE, ABNORMAL, INACTIVE",
                    status);
        return;
    }
    if (product && (!product[0] || strlen(product) > SVC_DEV_NODE_MAX)) {
        north_error(rs, 400, NE_BAD_REQUEST, "productId: 1 to %d characters", SVC_DEV_NODE_MAX);
        return;
    }
    if (proto && (!proto[0] || strlen(proto) > STORE_PROTOCOL_MAX)) {
        north_error(rs, 400, NE_BAD_REQUEST, "protocolType: 1 to %d characters", STORE_PROTOCOL_MAX);
        return;
    }
    if ((from && svc_dev_time_parse("startTime", from, &t0, err, sizeof err) < 0) ||
        (to && svc_dev_time_parse("endTime", to, &t1, err, sizeof err) < 0)) {
        north_error(rs, 400, NE_BAD_REQUEST, "%s", err);
        return;
    }
    if (from && to && t1 < t0) {
        north_error(rs, 400, NE_BAD_REQUEST, "endTime: before startTime");
        return;
    }
    sqlite3 *db = store_sqlite(k->store);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db,
                           "SELECT d.protocol, d.device_id FROM devices d LEFT JOIN dev_mgmt m"
                           " ON m.protocol = d.protocol AND m.device_id = d.device_id"
                           " WHERE (?1 IS NULL OR d.protocol = lower(?1))"
                           " AND (?2 IS NULL OR d.product = ?2 OR m.product = ?2)"
                           " AND (?3 IS NULL OR d.registered_at >= ?3) AND (?4 IS NULL OR d.registered_at <= ?4)"
                           " ORDER BY d.registered_at, d.device_id",
                           -1, &st, NULL) != SQLITE_OK) {
        north_error(rs, 500, NE_INTERNAL, "database: %s", sqlite3_errmsg(db));
        return;
    }
    if (proto)
        sqlite3_bind_text(st, 1, proto, -1, SQLITE_STATIC);
    if (product)
        sqlite3_bind_text(st, 2, product, -1, SQLITE_STATIC);
    if (from)
        sqlite3_bind_int64(st, 3, t0);
    if (to)
        sqlite3_bind_int64(st, 4, t1);
    char(*ids)[STORE_ID_MAX + 1] = calloc((size_t)size, sizeof *ids);
    if (!ids) {
        sqlite3_finalize(st);
        internal(rs, "out of memory");
        return;
    }
    long total = 0, first = (long)no * size;
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (want >= 0) {
            struct dev *e = svc_dev__find(k, svc_sql_col(st, 0), svc_sql_col(st, 1));
            if ((int)(e ? svc_dev__status(e) : DS_INACTIVE) != want)
                continue;
        }
        if (total >= first && n < size)
            snprintf(ids[n++], sizeof ids[0], "%s", svc_sql_col(st, 1));
        total++;
    }
    sqlite3_finalize(st);
    cJSON *o = cJSON_CreateObject();
    paged(o, total, no, size);
    cJSON *arr = cJSON_AddArrayToObject(o, "devices");
    for (int i = 0; i < n; i++) {
        cJSON *d = NULL;
        if (dev_json(k, ids[i], &d, err, sizeof err) == 0)
            cJSON_AddItemToArray(arr, d);
    }
    free(ids);
    rs->status = 200;
    rs->body = o;
}

/* GET devices/{deviceId}/statusHistory?pageNo=&pageSize= (fleetsim's own) */
static void hist(void *ctx, const struct north_req *rq, struct north_resp *rs)
{
    struct core *k = ctx;
    char proto[STORE_PROTOCOL_MAX + 1];
    int no, size;
    if (!device_of(k, rq, rs, proto, sizeof proto) || !page_of(rq, rs, &no, &size))
        return;
    if (k->svc_dev->n_hist) { /* what changed up to now is in the answer */
        core_batch_begin(k);
        svc_dev__write(k);
        svc_commit(k);
    }
    sqlite3 *db = store_sqlite(k->store);
    sqlite3_stmt *c, *st;
    if (sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM dev_status_history WHERE protocol = ?1 AND device_id = ?2", -1, &c,
                           NULL) != SQLITE_OK) {
        north_error(rs, 500, NE_INTERNAL, "database: %s", sqlite3_errmsg(db));
        return;
    }
    if (sqlite3_prepare_v2(db, "SELECT status, at_ms FROM dev_status_history WHERE protocol = ?1 AND device_id = ?2"
                               " ORDER BY seq LIMIT ?3 OFFSET ?4", -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(c);
        north_error(rs, 500, NE_INTERNAL, "database: %s", sqlite3_errmsg(db));
        return;
    }
    sqlite3_stmt *both[] = {c, st};
    for (int i = 0; i < 2; i++) {
        sqlite3_bind_text(both[i], 1, proto, -1, SQLITE_STATIC);
        sqlite3_bind_text(both[i], 2, rq->params[0], -1, SQLITE_STATIC);
    }
    sqlite3_bind_int(st, 3, size);
    sqlite3_bind_int64(st, 4, (int64_t)no * size);
    long total = sqlite3_step(c) == SQLITE_ROW ? (long)sqlite3_column_int64(c, 0) : 0;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "deviceId", rq->params[0]);
    paged(o, total, no, size);
    cJSON *arr = cJSON_AddArrayToObject(o, "statusHistory");
    while (sqlite3_step(st) == SQLITE_ROW) {
        cJSON *h = cJSON_CreateObject();
        char t[17];
        int s = svc_dev_status_parse(svc_sql_col(st, 0));
        cJSON_AddStringToObject(h, "status", svc_sql_col(st, 0));
        cJSON_AddStringToObject(h, "statusDetail", svc_dev__detail(s < 0 ? DS_OFFLINE : (enum dev_status)s));
        shadow_time_text(sqlite3_column_int64(st, 1), t);
        cJSON_AddStringToObject(h, "time", t);
        cJSON_AddItemToArray(arr, h);
    }
    sqlite3_finalize(c);
    sqlite3_finalize(st);
    rs->status = 200;
    rs->body = o;
}

const struct north_route svc_dev_routes[] = {
    {"POST", "/iocm/app/reg/v1.1.0/deviceCredentials", reg},
    {"GET", DEV_PATH, list},
    {"GET", DEV_PATH "/{deviceId}", one},
    {"PUT", DEV_PATH "/{deviceId}", modify},
    {"DELETE", DEV_PATH "/{deviceId}", del},
    {"GET", DEV_PATH "/{deviceId}/statusHistory", hist},
};
const size_t svc_dev_n_routes = sizeof svc_dev_routes / sizeof *svc_dev_routes;
