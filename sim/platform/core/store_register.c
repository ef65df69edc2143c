/* Registration by the rules in store.h, and provisioning.  The checks run in the
 * order of the facts they depend on: is the name provisioned (and with this
 * binding), is the name taken by another device id, is the binding taken by
 * another device.  Every registration that is accepted issues a new secret: a
 * device id that registers again (with its name or a new one) gets a new secret,
 * and the one issued before no longer authenticates.  One registration is one unit of work (a
 * transaction, or a savepoint inside a batch), so a refused or failed one leaves
 * nothing behind. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include <cjson/cJSON.h>

#include "sim/platform/core/store_internal.h"
#include "sim/proto/hex.h"

/* Random bytes in lower case: the form every secret issued so far has, in stored
 * databases and in the devices that keep them. */
static int new_secret(char *out)
{
    uint8_t b[STORE_SECRET_HEX / 2];
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t n = getrandom(b + got, sizeof b - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        got += (size_t)n;
    }
    hex_encode_lower(b, sizeof b, out, STORE_SECRET_HEX + 1);
    return 0;
}

static bool text_eq(sqlite3_stmt *st, int col, const char *s)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t && strcmp((const char *)t, s) == 0;
}

static int check_device(const struct store_device *d, char *why, size_t cap)
{
    if (store__check_len("protocol", d->protocol, 1, STORE_PROTOCOL_MAX, why, cap)
        || store__check_len("device_id", d->device_id, 1, STORE_ID_MAX, why, cap)
        || store__check_len("name", d->name, 1, STORE_NAME_MAX, why, cap)
        || store__check_len("binding", d->binding, 0, STORE_BINDING_MAX, why, cap)
        || store__check_len("product", d->product, 0, STORE_NAME_MAX, why, cap)
        || store__check_len("attrs", d->attrs, 0, STORE_DATA_MAX, why, cap))
        return -1;
    if (d->attrs) {
        cJSON *j = cJSON_ParseWithOpts(d->attrs, NULL, 1);
        bool object = cJSON_IsObject(j);
        cJSON_Delete(j);
        if (!object) {
            store__err(why, cap, "attrs: not a JSON object");
            return -1;
        }
    }
    return 0;
}

/* The decision, inside the unit of work.  Returns a result, or -1 on a database
 * error (why set).  secret receives the secret for STORE_REG_OK. */
static int decide(struct store *s, const struct store_device *d, const char *binding, const char *product,
                  bool provisioned_only, char *secret, char *why, size_t whycap)
{
    sqlite3_stmt *st;
    int rc;

    if (provisioned_only) {
        st = s->st[SS_PROV_GET];
        sqlite3_bind_text(st, 1, d->protocol, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, d->name, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW) {
            if (rc != SQLITE_DONE)
                goto db_error;
            store__done(st);
            return STORE_REG_NOT_PROVISIONED;
        }
        /* a provisioned "" binding accepts any */
        bool any = sqlite3_column_bytes(st, 0) == 0;
        bool same = any || text_eq(st, 0, binding);
        store__done(st);
        if (!same)
            return STORE_REG_BINDING_MISMATCH;
    }

    bool registered = false;
    st = s->st[SS_DEV_BY_NAME];
    sqlite3_bind_text(st, 1, d->protocol, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, d->name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        if (!text_eq(st, 0, d->device_id)) {
            store__done(st);
            return STORE_REG_NAME_TAKEN;
        }
        registered = true; /* its secret is replaced below */
    } else if (rc != SQLITE_DONE) {
        goto db_error;
    }
    store__done(st);

    /* No binding: nothing identifies what the device is bound to, so it cannot collide. */
    if (binding[0] != '\0') {
        st = s->st[SS_BINDING_OWNER];
        sqlite3_bind_text(st, 1, d->protocol, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, binding, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, d->device_id, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc != SQLITE_DONE && rc != SQLITE_ROW)
            goto db_error;
        store__done(st);
        if (rc == SQLITE_ROW)
            return STORE_REG_BINDING_TAKEN;
    }

    if (new_secret(secret) != 0) {
        store__err(why, whycap, "secret: getrandom: %s", strerror(errno));
        return -1;
    }
    if (registered) {
        /* same device id, same name: a new secret (the old one no longer
         * authenticates, JT/T 808 8.7); the binding follows */
        st = s->st[SS_DEV_UPDATE];
        sqlite3_bind_text(st, 1, d->protocol, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, d->device_id, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 3, binding, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, product, -1, SQLITE_STATIC);
        if (d->attrs)
            sqlite3_bind_text(st, 5, d->attrs, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, 5);
        sqlite3_bind_text(st, 6, secret, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 7, store__now_ms());
        if ((rc = sqlite3_step(st)) != SQLITE_DONE)
            goto db_error;
        store__done(st);
        return STORE_REG_OK;
    }

    st = s->st[SS_DEV_PUT];
    sqlite3_bind_text(st, 1, d->protocol, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, d->device_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, d->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, binding, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, product, -1, SQLITE_STATIC);
    if (d->attrs)
        sqlite3_bind_text(st, 6, d->attrs, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 6);
    sqlite3_bind_text(st, 7, secret, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, store__now_ms());
    if ((rc = sqlite3_step(st)) != SQLITE_DONE)
        goto db_error;
    store__done(st);
    return STORE_REG_OK;

db_error:
    store__err(why, whycap, "database: %s", sqlite3_errmsg(s->db));
    store__done(st);
    return -1;
}

enum store_reg_result store_register(struct store *s, const struct store_device *d, bool provisioned_only,
                                     char *secret, size_t secret_cap, char *why, size_t whycap)
{
    char code[STORE_SECRET_MAX + 1];

    store__err(why, whycap, "%s", "");
    if (!s || !d) {
        store__err(why, whycap, "store_register: %s is NULL", s ? "device" : "store");
        return STORE_REG_ERROR;
    }
    if (!secret || secret_cap < STORE_SECRET_MAX + 1) {
        store__err(why, whycap, "secret: buffer of %zu bytes, needs %d", secret ? secret_cap : 0,
                   STORE_SECRET_MAX + 1);
        return STORE_REG_ERROR;
    }
    secret[0] = '\0';
    if (check_device(d, why, whycap) != 0)
        return STORE_REG_ERROR;
    const char *binding = d->binding ? d->binding : "";
    const char *product = d->product ? d->product : "";

    if (store__work_begin(s, why, whycap) != 0)
        return STORE_REG_ERROR;
    int res = decide(s, d, binding, product, provisioned_only, code, why, whycap);
    if (res != STORE_REG_OK) {
        store__work_end(s, false, NULL, 0);
        return res < 0 ? STORE_REG_ERROR : (enum store_reg_result)res;
    }
    if (store__work_end(s, true, why, whycap) != 0)
        return STORE_REG_ERROR;
    memcpy(secret, code, strlen(code) + 1);
    return STORE_REG_OK;
}

int store_provision(struct store *s, const struct store_provision *p, char *err, size_t errcap)
{
    if (!s || !p) {
        store__err(err, errcap, "store_provision: %s is NULL", s ? "provision" : "store");
        return -1;
    }
    if (store__check_len("protocol", p->protocol, 1, STORE_PROTOCOL_MAX, err, errcap)
        || store__check_len("name", p->name, 1, STORE_NAME_MAX, err, errcap)
        || store__check_len("binding", p->binding, 0, STORE_BINDING_MAX, err, errcap))
        return -1;
    if (store__batch_lost(s)) {
        store__err(err, errcap, "provision %s/%s: database: the batch was rolled back by an earlier failure",
                   p->protocol, p->name);
        return -1;
    }
    sqlite3_stmt *st = s->st[SS_PROV_PUT];
    sqlite3_bind_text(st, 1, p->protocol, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, p->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, p->binding ? p->binding : "", -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        store__err(err, errcap, "provision %s/%s: database: %s", p->protocol, p->name, sqlite3_errmsg(s->db));
    store__done(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* The API's changes to a registration (docs/api.md, Devices).  Inside a batch, the
 * caller's transaction; outside, one of their own. */
static int set_column(struct store *s, const char *sql, const char *protocol, const char *device_id,
                      const char *value, char *why, size_t whycap)
{
    if (!s || !store__len_ok(protocol, 1, STORE_PROTOCOL_MAX) || !store__len_ok(device_id, 1, STORE_ID_MAX)) {
        store__err(why, whycap, "no such device");
        return -1;
    }
    if (store__batch_lost(s)) {
        store__err(why, whycap, "database: the batch was rolled back by an earlier failure");
        return -1;
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        store__err(why, whycap, "database: %s", sqlite3_errmsg(s->db));
        return -1;
    }
    sqlite3_bind_text(st, 1, protocol, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, device_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, value, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st), res = 0;
    if (rc == SQLITE_CONSTRAINT) {
        res = 1;
    } else if (rc != SQLITE_DONE) {
        store__err(why, whycap, "database: %s", sqlite3_errmsg(s->db));
        res = -1;
    } else if (sqlite3_changes(s->db) == 0) {
        store__err(why, whycap, "no such device");
        res = -1;
    }
    sqlite3_finalize(st);
    return res;
}

int store_rename(struct store *s, const char *protocol, const char *device_id, const char *name, char *why,
                 size_t whycap)
{
    if (store__check_len("name", name, 1, STORE_NAME_MAX, why, whycap))
        return -1;
    int rc = set_column(s, "UPDATE devices SET name = ?3 WHERE protocol = ?1 AND device_id = ?2", protocol,
                        device_id, name, why, whycap);
    if (rc == 1)
        store__err(why, whycap, "name: %s is another device's", name);
    return rc;
}

int store_set_secret(struct store *s, const char *protocol, const char *device_id, const char *secret, char *why,
                     size_t whycap)
{
    if (store__check_len("secret", secret, 1, STORE_SECRET_MAX, why, whycap))
        return -1;
    return set_column(s, "UPDATE devices SET secret = ?3 WHERE protocol = ?1 AND device_id = ?2", protocol,
                      device_id, secret, why, whycap) == 0 ? 0 : -1;
}
