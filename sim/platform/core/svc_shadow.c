/* Device shadows (004 §9, spec.md §4): one per device, in memory (a GET runs no
 * SQL), made from the device's product model (svc_shadow_product) the first time
 * it is asked for or reports; desired sections written to the shadows table in
 * the core's batch, reported ones rebuilt at start from the store's latest
 * reports.  A desired change goes to the device at once when it is online, else
 * when it comes online or reports; changes made before one reached it are merged
 * (shadow.h: later keys win), one command for them all (JT/T 808: one 0x8103).
 * The API's calls are svc_shadow_api.c's, configuration update tasks (004 §8)
 * svc_shadow_task.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/platform/core/cmd_fsm.h"
#include "sim/platform/core/core_internal.h"
#include "sim/platform/core/svc_shadow_internal.h"

svc_shadow_submit_fn svc_shadow_submit = svc_cmd_submit;

static const char *const SQL[SQ__COUNT] = {
    [SQ_PUT] = "INSERT OR REPLACE INTO shadows(device_id, protocol, product, created_ms, modified_ms, body)"
               " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    [SQ_DEL] = "DELETE FROM shadows WHERE device_id = ?1",
    [SQ_DEV] = "SELECT protocol, product FROM devices WHERE device_id = ?1 ORDER BY protocol LIMIT 1",
    [SQ_DEVP] = "SELECT product FROM devices WHERE protocol = ?1 AND device_id = ?2",
    [SQ_REP] = "SELECT service, data, at_ms FROM reports WHERE protocol = ?1 AND device_id = ?2",
    [SQ_TPUT] = "INSERT OR REPLACE INTO shadow_config_tasks(task_id, device_id, service, config, type, state,"
                " retries, interval_s, attempts, exec_ms, next_ms, created_ms, modified_ms, command_id)"
                " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    [SQ_TDEL] = "DELETE FROM shadow_config_tasks WHERE device_id = ?1",
};

static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS shadows("
    " device_id TEXT PRIMARY KEY, protocol TEXT NOT NULL, product TEXT NOT NULL,"
    " created_ms INTEGER NOT NULL, modified_ms INTEGER NOT NULL, body TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS shadow_config_tasks("
    " task_id TEXT PRIMARY KEY, device_id TEXT NOT NULL, service TEXT NOT NULL, config TEXT NOT NULL,"
    " type TEXT NOT NULL, state TEXT NOT NULL, retries INTEGER NOT NULL, interval_s INTEGER NOT NULL,"
    " attempts INTEGER NOT NULL, exec_ms INTEGER NOT NULL, next_ms INTEGER NOT NULL,"
    " created_ms INTEGER NOT NULL, modified_ms INTEGER NOT NULL, command_id TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS shadow_config_tasks_device ON shadow_config_tasks(device_id);";

int64_t sd_unix_now(void) { return svc_unix_ms(svc_now_ms()); }

/* --- product models ------------------------------------------------------------------- */

const struct pc_product *svc_shadow_product(struct core *k, const char *protocol, const char *product)
{
    for (int i = 0; product && product[0] && i < k->cfg->n_products; i++)
        if (strcmp(k->cfg->products[i]->id, product) == 0)
            return k->cfg->products[i];
    if (strcmp(protocol, "jt808") == 0 && k->svc_shadow)
        return k->svc_shadow->jt808;
    return NULL;
}

/* --- the table of shadows ------------------------------------------------------------- */

static uint32_t hash_id(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static struct sd *sd_lookup(struct svc_shadow *S, const char *id)
{
    if (!S->cap)
        return NULL;
    for (struct sd *d = S->tab[hash_id(id) & (S->cap - 1)]; d; d = d->next)
        if (strcmp(d->id, id) == 0)
            return d;
    return NULL;
}

static int sd_insert(struct svc_shadow *S, struct sd *d)
{
    if (S->n + 1 > S->cap / 2) {
        size_t nc = S->cap ? S->cap * 2 : 1024;
        struct sd **nt = calloc(nc, sizeof *nt);
        if (!nt)
            return -1;
        for (size_t i = 0; i < S->cap; i++)
            for (struct sd *e = S->tab[i], *nx; e; e = nx) {
                nx = e->next;
                size_t b = hash_id(e->id) & (nc - 1);
                e->next = nt[b];
                nt[b] = e;
            }
        free(S->tab);
        S->tab = nt;
        S->cap = nc;
    }
    size_t b = hash_id(d->id) & (S->cap - 1);
    d->next = S->tab[b];
    S->tab[b] = d;
    S->n++;
    return 0;
}

static void sd_free(struct sd *d)
{
    if (!d)
        return;
    if (d->sh.product)
        shadow_free(&d->sh);
    free(d->fl);
    free(d);
}

static void sd_remove(struct svc_shadow *S, const char *id)
{
    if (!S->cap)
        return;
    for (struct sd **pp = &S->tab[hash_id(id) & (S->cap - 1)]; *pp; pp = &(*pp)->next)
        if (strcmp((*pp)->id, id) == 0) {
            struct sd *d = *pp;
            *pp = d->next;
            S->n--;
            sd_free(d);
            return;
        }
}

/* The property of service s whose device-side key (or name) is key. */
static const struct pc_prop *prop_by_key(const struct pc_service *s, const char *key)
{
    for (int i = 0; i < s->n_props; i++)
        if (strcmp(s->props[i].device_key[0] ? s->props[i].device_key : s->props[i].name, key) == 0)
            return &s->props[i];
    return NULL;
}

/* A report of service si (data: the device's keys) into d's reported section, by
 * the model's names; keys the model does not name are kept as they came. */
static void sd_reported(struct sd *d, int si, const char *data, int64_t at_ms)
{
    cJSON *j = cJSON_Parse(data);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return;
    }
    const struct pc_service *s = &d->sh.product->services[si];
    for (cJSON *kv = j->child; kv; kv = kv->next) {
        const struct pc_prop *p = prop_by_key(s, kv->string);
        if (p && strcmp(p->name, kv->string) != 0) {
            char *name = strdup(p->name);
            if (name) {
                if (!(kv->type & cJSON_StringIsConst))
                    cJSON_free(kv->string);
                kv->string = name;
                kv->type &= ~cJSON_StringIsConst;
            }
        }
    }
    shadow_report(&d->sh, si, j, at_ms);
    cJSON_Delete(j);
}

/* A count or a time of a stored row, read without trusting it: 0..2^53. */
static uint64_t row_u64(const cJSON *v)
{
    double x = v->valuedouble;
    return x >= 0 && x <= 9007199254740992.0 ? (uint64_t)x : 0;
}

/* Its row: per service the desired section, its version, the version synced and
 * the sync on its way. */
static void sd_load_body(struct sd *d, const char *body)
{
    cJSON *j = cJSON_Parse(body);
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, "services"), *e;
    cJSON_ArrayForEach(e, a)
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "serviceId");
        int si = cJSON_IsString(id) ? pc_service_index(d->sh.product, id->valuestring) : -1;
        if (si < 0)
            continue;
        struct shadow_service *ss = &d->sh.svc[si];
        const cJSON *des = cJSON_GetObjectItemCaseSensitive(e, "desired");
        if (cJSON_IsObject(des)) {
            cJSON_Delete(ss->desired);
            ss->desired = cJSON_Duplicate(des, 1);
            if (!ss->desired)
                ss->desired = cJSON_CreateObject();
        }
        const cJSON *v;
        if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(e, "version")))
            ss->version = row_u64(v);
        if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(e, "synced")))
            ss->synced = row_u64(v);
        if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(e, "desiredTime")))
            ss->desired_ms = (int64_t)row_u64(v);
        const cJSON *fl = cJSON_GetObjectItemCaseSensitive(e, "flight");
        const cJSON *fc = cJSON_GetObjectItemCaseSensitive(fl, "commandId");
        const cJSON *fv = cJSON_GetObjectItemCaseSensitive(fl, "version");
        if (cJSON_IsString(fc) && cJSON_IsNumber(fv)) {
            d->fl[si].on = true;
            d->fl[si].v = row_u64(fv);
            snprintf(d->fl[si].cmd, sizeof d->fl[si].cmd, "%s", fc->valuestring);
        }
    }
    cJSON_Delete(j);
}

/* A new shadow of a device of proto and product, with what the store holds of
 * its reports (and of its row: body, NULL none).  NULL when out of memory. */
static struct sd *sd_make(struct core *k, const char *id, const char *proto, const char *product, const char *body,
                          int64_t created_ms, int64_t modified_ms)
{
    struct svc_shadow *S = k->svc_shadow;
    struct sd *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    snprintf(d->id, sizeof d->id, "%s", id);
    snprintf(d->proto, sizeof d->proto, "%s", proto);
    snprintf(d->product, sizeof d->product, "%s", product);
    const struct pc_product *p = svc_shadow_product(k, proto, product);
    if (!p) {
        d->no_model = true;
    } else if (shadow_init(&d->sh, p, created_ms ? created_ms : sd_unix_now()) < 0 ||
               !(d->fl = calloc((size_t)(p->n_services ? p->n_services : 1), sizeof *d->fl))) {
        sd_free(d);
        return NULL;
    } else {
        sqlite3_stmt *q = S->q[SQ_REP];
        sqlite3_reset(q);
        sqlite3_bind_text(q, 1, proto, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 2, id, -1, SQLITE_STATIC);
        while (sqlite3_step(q) == SQLITE_ROW) {
            int si = pc_service_index(p, (const char *)sqlite3_column_text(q, 0));
            if (si >= 0)
                sd_reported(d, si, (const char *)sqlite3_column_text(q, 1), sqlite3_column_int64(q, 2));
        }
        sqlite3_reset(q);
        if (body)
            sd_load_body(d, body);
        if (modified_ms)
            d->sh.modified_ms = modified_ms;
    }
    if (sd_insert(S, d) < 0) {
        sd_free(d);
        return NULL;
    }
    return d;
}

struct sd *sd_get(struct core *k, const char *device_id)
{
    struct svc_shadow *S = k->svc_shadow;
    struct sd *d = sd_lookup(S, device_id);
    if (d)
        return d;
    sqlite3_stmt *q = S->q[SQ_DEV];
    sqlite3_reset(q);
    sqlite3_bind_text(q, 1, device_id, -1, SQLITE_STATIC);
    if (sqlite3_step(q) == SQLITE_ROW) {
        char proto[STORE_PROTOCOL_MAX + 1], product[PC_NAME_MAX];
        snprintf(proto, sizeof proto, "%s", (const char *)sqlite3_column_text(q, 0));
        snprintf(product, sizeof product, "%s", (const char *)sqlite3_column_text(q, 1));
        sqlite3_reset(q);
        return sd_make(k, device_id, proto, product, NULL, 0, 0);
    }
    sqlite3_reset(q);
    return NULL;
}

/* The shadow of (proto, id) as a front-end names it. */
static struct sd *sd_get_proto(struct core *k, int proto, const char *id)
{
    struct sd *d = sd_lookup(k->svc_shadow, id);
    if (d)
        return strcmp(d->proto, svc_proto_name(k, proto)) == 0 ? d : NULL;
    struct svc_shadow *S = k->svc_shadow;
    sqlite3_stmt *q = S->q[SQ_DEVP];
    sqlite3_reset(q);
    sqlite3_bind_text(q, 1, svc_proto_name(k, proto), -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, id, -1, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_ROW) {
        sqlite3_reset(q);
        return NULL;
    }
    char product[PC_NAME_MAX];
    snprintf(product, sizeof product, "%s", (const char *)sqlite3_column_text(q, 0));
    sqlite3_reset(q);
    return sd_make(k, id, svc_proto_name(k, proto), product, NULL, 0, 0);
}

void sd_save(struct core *k, struct sd *d)
{
    if (d->no_model)
        return;
    cJSON *j = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(j, "services");
    for (int i = 0; i < d->sh.n; i++) {
        const struct shadow_service *ss = &d->sh.svc[i];
        if (!ss->version && !d->fl[i].on)
            continue;
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "serviceId", d->sh.product->services[i].id);
        cJSON_AddItemToObject(e, "desired", cJSON_Duplicate(ss->desired, 1));
        cJSON_AddNumberToObject(e, "version", (double)ss->version);
        cJSON_AddNumberToObject(e, "synced", (double)ss->synced);
        cJSON_AddNumberToObject(e, "desiredTime", (double)ss->desired_ms);
        if (d->fl[i].on) {
            cJSON *f = cJSON_AddObjectToObject(e, "flight");
            cJSON_AddStringToObject(f, "commandId", d->fl[i].cmd);
            cJSON_AddNumberToObject(f, "version", (double)d->fl[i].v);
        }
        cJSON_AddItemToArray(a, e);
    }
    char *text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (!text) {
        core_error(k, "shadow of %s: out of memory", d->id);
        return;
    }
    core_batch_begin(k);
    sqlite3_stmt *q = k->svc_shadow->q[SQ_PUT];
    sqlite3_reset(q);
    sqlite3_bind_text(q, 1, d->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, d->proto, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, d->product, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 4, d->sh.created_ms);
    sqlite3_bind_int64(q, 5, d->sh.modified_ms);
    sqlite3_bind_text(q, 6, text, -1, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_DONE)
        core_error(k, "shadow of %s: %s", d->id, sqlite3_errmsg(store_sqlite(k->store)));
    sqlite3_reset(q);
    free(text);
}

/* --- push ----------------------------------------------------------------------------- */

void sd_notify(struct core *k, struct sd *d, int si, const char *status, const char *command_id)
{
    if (!svc_push_wanted(k, SVC_NOTIFY_SHADOW))
        return;
    cJSON *b = cJSON_CreateObject();
    if (!b)
        return;
    cJSON_AddStringToObject(b, "notifyType", SVC_NOTIFY_SHADOW);
    cJSON_AddStringToObject(b, "deviceId", d->id);
    cJSON_AddStringToObject(b, "serviceId", d->sh.product->services[si].id);
    cJSON_AddItemToObject(b, "properties", cJSON_Duplicate(d->sh.svc[si].desired, 1));
    cJSON_AddNumberToObject(b, "version", (double)d->sh.svc[si].version);
    cJSON_AddStringToObject(b, "status", status);
    if (command_id && command_id[0])
        cJSON_AddStringToObject(b, "commandId", command_id);
    svc_push_notify(k, SVC_NOTIFY_SHADOW, b);
}

/* --- the sync --------------------------------------------------------------------------- */

static bool sd_online(struct core *k, const struct sd *d)
{
    int p = svc_proto_index(k, d->proto);
    return p >= 0 && svc_online(k, p, d->id);
}

/* The command's method and paras for service si's delta: JT/T 808 one 0x8103 of the
 * parameters (their ids: the properties' deviceKey); other protocols the
 * properties by their device-side keys, method "setProperties". */
static cJSON *sync_paras(const struct sd *d, int si, const cJSON *delta, const char **method)
{
    const struct pc_service *s = &d->sh.product->services[si];
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    bool jt808 = strcmp(d->proto, "jt808") == 0;
    cJSON *list = jt808 ? cJSON_AddArrayToObject(o, "params") : NULL;
    *method = jt808 ? "0x8103" : "setProperties";
    for (const cJSON *kv = delta->child; kv; kv = kv->next) {
        const struct pc_prop *p = NULL;
        for (int i = 0; i < s->n_props && !p; i++)
            if (strcmp(s->props[i].name, kv->string) == 0)
                p = &s->props[i];
        const char *key = p && p->device_key[0] ? p->device_key : kv->string;
        if (jt808) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "id", key);
            cJSON_AddItemToObject(e, "value", cJSON_Duplicate(kv, 1));
            cJSON_AddItemToArray(list, e);
        } else {
            cJSON_AddItemToObject(o, key, cJSON_Duplicate(kv, 1));
        }
    }
    return o;
}

static void sd_done(struct core *k, struct sd *d, int si, int state);

/* Service si of d: its delta to the device as one command, unless one is on its way. */
static void sync_service(struct core *k, struct sd *d, int si)
{
    if (d->fl[si].on)
        return;
    if (!shadow_pending(&d->sh, si)) {
        sd_tasks_nothing_to_send(k, d, si);
        return;
    }
    cJSON *delta = shadow_delta(&d->sh, si);
    const char *method = "";
    cJSON *paras = delta ? sync_paras(d, si, delta, &method) : NULL;
    cJSON_Delete(delta);
    if (!paras)
        return;
    const char *origin = sd_tasks_pending(k, d, si) ? "config" : "shadow";
    struct svc_cmd_req rq = {.device_id = d->id, .service_id = d->sh.product->services[si].id, .method = method,
                             .paras = paras, .expire_s = 0, .max_retransmit = 0, .origin = origin};
    char cmd[SD_CMD_ID_MAX] = "", err[256] = "";
    int state = -1, http = 0;
    core_batch_begin(k);
    int rc = svc_shadow_submit(k, &rq, cmd, sizeof cmd, &state, &http, err, sizeof err);
    cJSON_Delete(paras);
    if (rc < 0) {
        /* still pending: tried again when it comes online or reports */
        if (k->cfg->verbose)
            fprintf(stderr, "platform core: shadow of %s: %s not sent: %s (%d)\n", d->id,
                    d->sh.product->services[si].id, err, http);
        sd_tasks_unsent(k, d, si);
        return;
    }
    d->fl[si].on = true;
    d->fl[si].v = d->sh.svc[si].version;
    snprintf(d->fl[si].cmd, sizeof d->fl[si].cmd, "%s", cmd);
    sd_tasks_sent(k, d, si, cmd);
    sd_save(k, d);
    if (state >= 0 && cmd_state_final((enum store_cmd_state)state))
        sd_done(k, d, si, state);
}

void sd_sync(struct core *k, struct sd *d)
{
    if (d->no_model || !sd_online(k, d))
        return;
    for (int i = 0; i < d->sh.n; i++)
        sync_service(k, d, i);
}

/* The command of service si's sync ended in state. */
static void sd_done(struct core *k, struct sd *d, int si, int state)
{
    bool ok = state == STORE_CMD_SUCCESSFUL;
    char cmd[SD_CMD_ID_MAX];
    snprintf(cmd, sizeof cmd, "%s", d->fl[si].cmd);
    if (ok)
        shadow_synced(&d->sh, si, d->fl[si].v);
    d->fl[si].on = false;
    d->fl[si].cmd[0] = '\0';
    sd_save(k, d);
    sd_notify(k, d, si, ok ? "SUCCESSFUL" : "FAILED", cmd);
    sd_tasks_done(k, d, cmd, ok);
    /* what changed while it was on its way goes now; a failure waits for the next
     * time it comes online or reports */
    if (ok && sd_online(k, d))
        sync_service(k, d, si);
}

/* --- the hooks (svc.h) ------------------------------------------------------------------ */

void svc_shadow_online(struct core *k, int proto, const char *id)
{
    if (!k->svc_shadow)
        return;
    struct sd *d = sd_get_proto(k, proto, id);
    if (!d || d->no_model || svc_mutant(k, "shadow-no-sync-on-online"))
        return;
    sd_sync(k, d);
}

void svc_shadow_report(struct core *k, int proto, const char *id, const char *service, const char *data,
                       int64_t at_ms)
{
    if (!k->svc_shadow)
        return;
    struct sd *d = sd_get_proto(k, proto, id);
    if (!d || d->no_model)
        return;
    int si = pc_service_index(d->sh.product, service);
    if (si >= 0 && !svc_mutant(k, "shadow-no-reported"))
        sd_reported(d, si, data, at_ms);
    if (!svc_mutant(k, "shadow-no-sync-on-online"))
        sd_sync(k, d);
}

void svc_shadow_deleted(struct core *k, int proto, const char *id)
{
    struct svc_shadow *S = k->svc_shadow;
    if (!S)
        return;
    struct sd *d = sd_lookup(S, id);
    if (d && strcmp(d->proto, svc_proto_name(k, proto)) != 0)
        return;
    sd_remove(S, id);
    core_batch_begin(k);
    sqlite3_stmt *q = S->q[SQ_DEL];
    sqlite3_reset(q);
    sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
    sqlite3_step(q);
    sqlite3_reset(q);
    sd_tasks_deleted(k, id);
}

void svc_shadow_cmd_done(struct core *k, const char *origin, const char *device_id, const char *command_id, int state)
{
    (void)origin;
    if (!k->svc_shadow || !command_id || !command_id[0])
        return;
    struct sd *d = sd_lookup(k->svc_shadow, device_id);
    if (!d || d->no_model)
        return;
    for (int i = 0; i < d->sh.n; i++)
        if (d->fl[i].on && strcmp(d->fl[i].cmd, command_id) == 0) {
            core_batch_begin(k);
            sd_done(k, d, i, state);
            return;
        }
}

/* --- life ------------------------------------------------------------------------------------ */

static int load_shadows(struct core *k, char *err, size_t errcap)
{
    sqlite3 *db = store_sqlite(k->store);
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(db, "SELECT device_id, protocol, product, created_ms, modified_ms, body FROM shadows", -1, &q,
                           NULL) != SQLITE_OK) {
        snprintf(err, errcap, "shadows: %s", sqlite3_errmsg(db));
        return -1;
    }
    while (sqlite3_step(q) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(q, 0);
        if (!id || sd_lookup(k->svc_shadow, id))
            continue;
        if (!sd_make(k, id, (const char *)sqlite3_column_text(q, 1), (const char *)sqlite3_column_text(q, 2),
                     (const char *)sqlite3_column_text(q, 5), sqlite3_column_int64(q, 3), sqlite3_column_int64(q, 4))) {
            sqlite3_finalize(q);
            snprintf(err, errcap, "shadows: out of memory");
            return -1;
        }
    }
    sqlite3_finalize(q);
    return 0;
}

int svc_shadow_start(struct core *k, char *err, size_t errcap)
{
    struct svc_shadow *S = calloc(1, sizeof *S);
    if (!S) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    S->k = k;
    S->tasks_tail = &S->tasks;
    k->svc_shadow = S;
    char why[400];
    sqlite3 *db = store_sqlite(k->store);
    char *msg = NULL;
    if (pc_product_parse_text(svc_shadow_jt808_model, (size_t)(svc_shadow_jt808_model_end - svc_shadow_jt808_model),
                              "profiles/jt808-terminal.json (built in)", &S->jt808, why, sizeof why) < 0) {
        snprintf(err, errcap, "%s", why);
        goto fail;
    }
    if (sqlite3_exec(db, SCHEMA, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errcap, "its tables: %s", msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        goto fail;
    }
    for (int i = 0; i < SQ__COUNT; i++)
        if (sqlite3_prepare_v3(db, SQL[i], -1, SQLITE_PREPARE_PERSISTENT, &S->q[i], NULL) != SQLITE_OK) {
            snprintf(err, errcap, "%s: %s", SQL[i], sqlite3_errmsg(db));
            goto fail;
        }
    if (load_shadows(k, err, errcap) < 0 || sd_tasks_start(k, err, errcap) < 0)
        goto fail;
    return 0;
fail:
    svc_shadow_stop(k);
    return -1;
}

void svc_shadow_stop(struct core *k)
{
    struct svc_shadow *S = k->svc_shadow;
    if (!S)
        return;
    sd_tasks_stop(k);
    for (size_t i = 0; i < S->cap; i++)
        for (struct sd *d = S->tab[i], *nx; d; d = nx) {
            nx = d->next;
            sd_free(d);
        }
    free(S->tab);
    for (int i = 0; i < SQ__COUNT; i++)
        sqlite3_finalize(S->q[i]);
    pc_product_free(S->jt808);
    free(S);
    k->svc_shadow = NULL;
}
