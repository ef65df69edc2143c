/* Configuration update tasks (004 §8): a configuration (properties of one service,
 * checked against the device's model like a shadow's desired) for one device, to
 * execute now, when the device is online, or at a set time, with a retry count
 * and interval.  Executing one merges its configuration into the shadow's desired
 * section, and the shadow's sync carries it (svc_shadow.c): a second task executed
 * before the first reached the device is merged into it, later keys winning, and
 * both ride one command (origin "config").
 *
 * States: WAITING (not executed: a CUSTOM task before its time, or a NOW / CUSTOM
 * one that found the device offline and waits for its retry), PENDING (merged into
 * desired, waiting for the device; after a failed attempt, also for its retry
 * interval), SENT (the command carrying it is on its way), SUCCESSFUL, FAILED (its
 * attempts used up: 1 + retryTimes).  An attempt fails when the command carrying it
 * ends in anything but SUCCESSFUL, when it cannot be sent, or when a NOW or CUSTOM
 * task finds the device offline (a DEVICE_ONLINE task waits for it instead). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/platform/core/core_internal.h"
#include "sim/platform/core/svc_shadow_internal.h"

#define TASK_RETRIES_MAX 10
#define TASK_INTERVAL_MAX 86400
#define TASK_INTERVAL_DEFAULT 60

static const char *const TYPE_NAME[] = {"NOW", "DEVICE_ONLINE", "CUSTOM"};
static const char *const STATE_NAME[] = {"WAITING", "PENDING", "SENT", "SUCCESSFUL", "FAILED"};

static int name_index(const char *const *names, int n, const char *s)
{
    for (int i = 0; s && i < n; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

/* "yyyyMMddTHHmmssZ" (004's times) as unix ms; -1 when it is not one. */
static int64_t parse_time(const char *s)
{
    if (strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
        return -1;
    for (int i = 0; i < 15; i++)
        if (i != 8 && (s[i] < '0' || s[i] > '9'))
            return -1;
#define D2(i) ((s[i] - '0') * 10 + (s[(i) + 1] - '0'))
    struct tm tm = {.tm_year = D2(0) * 100 + D2(2) - 1900, .tm_mon = D2(4) - 1, .tm_mday = D2(6),
                    .tm_hour = D2(9), .tm_min = D2(11), .tm_sec = D2(13)};
    int mon = tm.tm_mon, mday = tm.tm_mday;
#undef D2
    if (mon < 0 || mon > 11 || mday < 1 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 59)
        return -1;
    time_t t = timegm(&tm);
    if (t == (time_t)-1 || tm.tm_mon != mon || tm.tm_mday != mday) /* 31 April is no date */
        return -1;
    return (int64_t)t * 1000;
}

/* --- the table -------------------------------------------------------------------------- */

static void task_save(struct core *k, struct sd_task *t, const struct sd *d)
{
    char *config = cJSON_PrintUnformatted(t->config);
    if (!config) {
        core_error(k, "config task %s: out of memory", t->id);
        return;
    }
    core_batch_begin(k);
    sqlite3_stmt *q = k->svc_shadow->q[SQ_TPUT];
    sqlite3_reset(q);
    sqlite3_bind_text(q, 1, t->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, t->dev, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 3, d->sh.product->services[t->si].id, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, config, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 5, TYPE_NAME[t->type], -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 6, STATE_NAME[t->state], -1, SQLITE_STATIC);
    sqlite3_bind_int(q, 7, t->retries);
    sqlite3_bind_int(q, 8, t->interval_s);
    sqlite3_bind_int(q, 9, t->attempts);
    sqlite3_bind_int64(q, 10, t->exec_ms);
    sqlite3_bind_int64(q, 11, t->next_ms);
    sqlite3_bind_int64(q, 12, t->created_ms);
    sqlite3_bind_int64(q, 13, t->modified_ms);
    sqlite3_bind_text(q, 14, t->cmd, -1, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_DONE)
        core_error(k, "config task %s: %s", t->id, sqlite3_errmsg(store_sqlite(k->store)));
    sqlite3_reset(q);
    free(config);
}

/* Arm the timer for the earliest next try. */
static void tasks_arm(struct core *k)
{
    struct svc_shadow *S = k->svc_shadow;
    int64_t next = 0;
    for (struct sd_task *t = S->tasks; t; t = t->next)
        if (t->next_ms && (!next || t->next_ms < next))
            next = t->next_ms;
    if (!next) {
        ev_timer_stop(k->loop, &S->timer);
        return;
    }
    int64_t at = svc_now_ms() + (next - sd_unix_now());
    svc_timer_at(k, &S->timer, at > 0 ? at : 0);
}

static bool final(enum sd_task_state st) { return st == TS_SUCCESSFUL || st == TS_FAILED; }

/* t (a task of d) to state st; d counts the tasks it has that are not done. */
static void set_state(struct sd_task *t, struct sd *d, enum sd_task_state st)
{
    if (!final(t->state) && final(st) && d->tasks_live > 0)
        d->tasks_live--;
    t->state = st;
    t->modified_ms = sd_unix_now();
}

/* An attempt of t failed: a retry after its interval (in state, WAITING when it was
 * not executed, PENDING when it was), or FAILED when none is left. */
static void attempt_failed(struct core *k, struct sd_task *t, struct sd *d, enum sd_task_state retry_state)
{
    t->attempts++;
    if (t->attempts <= t->retries && !svc_mutant(k, "task-no-retry")) {
        set_state(t, d, retry_state);
        t->next_ms = sd_unix_now() + (int64_t)t->interval_s * 1000;
    } else {
        set_state(t, d, TS_FAILED);
        t->next_ms = 0;
    }
    (void)k;
}

static bool device_online(struct core *k, const struct sd *d)
{
    int p = svc_proto_index(k, d->proto);
    return p >= 0 && svc_online(k, p, d->id);
}

/* Execute t: its configuration into the shadow's desired section, and the sync. */
static void task_execute(struct core *k, struct sd_task *t, struct sd *d)
{
    if (t->type != ST_ONLINE && !device_online(k, d)) {
        attempt_failed(k, t, d, TS_WAITING);
        task_save(k, t, d);
        return;
    }
    cJSON *body = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(body, "serviceDesireds");
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "serviceId", d->sh.product->services[t->si].id);
    cJSON_AddItemToObject(e, "desired", cJSON_Duplicate(t->config, 1));
    cJSON_AddItemToArray(list, e);
    uint64_t before = d->sh.svc[t->si].version;
    char err[512];
    int rc = shadow_put_desired(&d->sh, body, sd_unix_now(), err, sizeof err);
    cJSON_Delete(body);
    t->next_ms = 0;
    if (rc < 0) { /* checked when it was created: only a model changed since refuses it */
        set_state(t, d, TS_FAILED);
        task_save(k, t, d);
        return;
    }
    set_state(t, d, TS_PENDING);
    task_save(k, t, d);
    if (d->sh.svc[t->si].version != before) {
        sd_save(k, d);
        sd_notify(k, d, t->si, "PENDING", NULL);
    }
    if (device_online(k, d))
        sd_sync(k, d);
    else if (!shadow_pending(&d->sh, t->si) && !d->fl[t->si].on)
        sd_tasks_nothing_to_send(k, d, t->si);
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop, (void)revents;
    struct svc_shadow *S = w->data;
    struct core *k = S->k;
    int64_t now = sd_unix_now();
    core_batch_begin(k);
    for (struct sd_task *t = S->tasks; t; t = t->next) {
        if (!t->next_ms || t->next_ms > now)
            continue;
        struct sd *d = sd_get(k, t->dev);
        if (!d || d->no_model) {
            t->next_ms = 0;
            continue;
        }
        if (t->state == TS_WAITING) {
            task_execute(k, t, d);
        } else if (t->state == TS_PENDING) {
            t->next_ms = 0;
            if (device_online(k, d)) {
                task_save(k, t, d);
                sd_sync(k, d);
            } else if (t->type != ST_ONLINE) {
                attempt_failed(k, t, d, TS_PENDING);
                task_save(k, t, d);
            } else {
                task_save(k, t, d); /* a DEVICE_ONLINE task waits for the device */
            }
        } else {
            t->next_ms = 0;
        }
    }
    tasks_arm(k);
    svc_commit(k);
}

/* --- what the sync tells (svc_shadow_internal.h) ---------------------------------------- */

static bool due_pending(const struct sd_task *t, const struct sd *d, int si)
{
    return t->state == TS_PENDING && !t->next_ms && t->si == si && strcmp(t->dev, d->id) == 0;
}

bool sd_tasks_pending(struct core *k, const struct sd *d, int si)
{
    if (!d->tasks_live)
        return false; /* on every report: no scan of the tasks for none */
    for (struct sd_task *t = k->svc_shadow->tasks; t; t = t->next)
        if (due_pending(t, d, si))
            return true;
    return false;
}

void sd_tasks_sent(struct core *k, struct sd *d, int si, const char *cmd)
{
    if (!d->tasks_live)
        return; /* on every report: no scan of the tasks for none */
    for (struct sd_task *t = k->svc_shadow->tasks; t; t = t->next)
        if (due_pending(t, d, si)) {
            set_state(t, d, TS_SENT);
            snprintf(t->cmd, sizeof t->cmd, "%s", cmd);
            task_save(k, t, d);
        }
}

void sd_tasks_unsent(struct core *k, struct sd *d, int si)
{
    if (!d->tasks_live)
        return; /* on every report: no scan of the tasks for none */
    bool any = false;
    for (struct sd_task *t = k->svc_shadow->tasks; t; t = t->next)
        if (due_pending(t, d, si)) {
            attempt_failed(k, t, d, TS_PENDING);
            task_save(k, t, d);
            any = true;
        }
    if (any)
        tasks_arm(k);
}

void sd_tasks_nothing_to_send(struct core *k, struct sd *d, int si)
{
    if (!d->tasks_live)
        return; /* on every report: no scan of the tasks for none */
    for (struct sd_task *t = k->svc_shadow->tasks; t; t = t->next)
        if (due_pending(t, d, si)) {
            set_state(t, d, TS_SUCCESSFUL);
            task_save(k, t, d);
        }
}

void sd_tasks_done(struct core *k, struct sd *d, const char *cmd, bool ok)
{
    if (!d->tasks_live)
        return; /* on every report: no scan of the tasks for none */
    bool any = false;
    for (struct sd_task *t = k->svc_shadow->tasks; t; t = t->next)
        if (t->state == TS_SENT && strcmp(t->dev, d->id) == 0 && strcmp(t->cmd, cmd) == 0) {
            if (ok)
                set_state(t, d, TS_SUCCESSFUL);
            else
                attempt_failed(k, t, d, TS_PENDING);
            task_save(k, t, d);
            any = true;
        }
    if (any && !ok)
        tasks_arm(k);
}

void sd_tasks_deleted(struct core *k, const char *device_id)
{
    struct svc_shadow *S = k->svc_shadow;
    for (struct sd_task **pp = &S->tasks; *pp;) {
        struct sd_task *t = *pp;
        if (strcmp(t->dev, device_id) == 0) {
            *pp = t->next;
            cJSON_Delete(t->config);
            free(t);
        } else {
            pp = &t->next;
        }
    }
    S->tasks_tail = &S->tasks;
    while (*S->tasks_tail)
        S->tasks_tail = &(*S->tasks_tail)->next;
    core_batch_begin(k);
    sqlite3_stmt *q = S->q[SQ_TDEL];
    sqlite3_reset(q);
    sqlite3_bind_text(q, 1, device_id, -1, SQLITE_STATIC);
    sqlite3_step(q);
    sqlite3_reset(q);
    tasks_arm(k);
}

/* --- the API ------------------------------------------------------------------------------ */

static cJSON *task_json(const struct sd_task *t, const struct sd *d)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    char tt[17];
    cJSON_AddStringToObject(o, "taskId", t->id);
    cJSON_AddStringToObject(o, "deviceId", t->dev);
    cJSON_AddStringToObject(o, "serviceId", d->sh.product->services[t->si].id);
    cJSON_AddItemToObject(o, "config", cJSON_Duplicate(t->config, 1));
    cJSON_AddStringToObject(o, "executeType", TYPE_NAME[t->type]);
    if (t->type == ST_CUSTOM) {
        shadow_time_text(t->exec_ms, tt);
        cJSON_AddStringToObject(o, "executeTime", tt);
    }
    cJSON_AddNumberToObject(o, "retryTimes", t->retries);
    cJSON_AddNumberToObject(o, "retryInterval", t->interval_s);
    cJSON_AddNumberToObject(o, "attempts", t->attempts);
    cJSON_AddStringToObject(o, "status", STATE_NAME[t->state]);
    if (t->cmd[0])
        cJSON_AddStringToObject(o, "commandId", t->cmd);
    if (t->next_ms) {
        shadow_time_text(t->next_ms, tt);
        cJSON_AddStringToObject(o, "nextTryTime", tt);
    }
    shadow_time_text(t->created_ms, tt);
    cJSON_AddStringToObject(o, "createTime", tt);
    shadow_time_text(t->modified_ms, tt);
    cJSON_AddStringToObject(o, "lastModifiedTime", tt);
    return o;
}

/* An integer member lo..hi (dflt when absent): 0, or -1 with err. */
static int int_member(const cJSON *body, const char *key, int lo, int hi, int dflt, int *out, char *err, size_t cap)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, key);
    *out = dflt;
    if (!v)
        return 0;
    /* the range first: a double far out of it has no integer to convert to */
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= lo && v->valuedouble <= hi) ||
        v->valuedouble != (double)(int)v->valuedouble) {
        snprintf(err, cap, "%s: expected an integer %d..%d", key, lo, hi);
        return -1;
    }
    *out = (int)v->valuedouble;
    return 0;
}

int sd_task_parse(const cJSON *body, const struct pc_product *product, struct sd_task *t, char *err, size_t cap)
{
    static const char *const known[] = {"serviceId", "config", "executeType", "executeTime", "retryTimes",
                                        "retryInterval"};
    if (!cJSON_IsObject(body)) {
        snprintf(err, cap, "body: expected an object with serviceId and config");
        return -1;
    }
    for (const cJSON *m = body->child; m; m = m->next)
        if (name_index(known, 6, m->string) < 0) {
            snprintf(err, cap, "%s: unknown member (known: serviceId, config, executeType, executeTime, retryTimes, "
                               "retryInterval)", m->string);
            return -1;
        }
    const cJSON *sid = cJSON_GetObjectItemCaseSensitive(body, "serviceId");
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(body, "config");
    if (!cJSON_IsString(sid)) {
        snprintf(err, cap, "serviceId: %s", sid ? "expected a string" : "missing");
        return -1;
    }
    if (!cfg) {
        snprintf(err, cap, "config: missing");
        return -1;
    }
    /* the configuration is checked as a desired section is, on a shadow of its own */
    struct shadow scratch;
    if (shadow_init(&scratch, product, 0) < 0) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    cJSON *b = cJSON_CreateObject(), *list = cJSON_AddArrayToObject(b, "serviceDesireds"), *e = cJSON_CreateObject();
    cJSON_AddItemToObject(e, "serviceId", cJSON_Duplicate(sid, 1));
    cJSON_AddItemToObject(e, "desired", cJSON_Duplicate(cfg, 1));
    cJSON_AddItemToArray(list, e);
    char why[512] = "";
    int rc = shadow_put_desired(&scratch, b, 0, why, sizeof why);
    shadow_free(&scratch);
    cJSON_Delete(b);
    if (rc < 0) {
        const char *p = why;
        const char *pre[] = {"serviceDesireds[0].desired", "serviceDesireds[0].serviceId"};
        const char *repl[] = {"config", "serviceId"};
        for (int i = 0; i < 2; i++)
            if (strncmp(why, pre[i], strlen(pre[i])) == 0) {
                snprintf(err, cap, "%s%s", repl[i], why + strlen(pre[i]));
                return -1;
            }
        snprintf(err, cap, "%s", p);
        return -1;
    }
    t->si = pc_service_index(product, sid->valuestring);
    if (!(t->config = cJSON_Duplicate(cfg, 1))) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    const cJSON *ty = cJSON_GetObjectItemCaseSensitive(body, "executeType");
    int type = ty ? name_index(TYPE_NAME, 3, cJSON_IsString(ty) ? ty->valuestring : NULL) : ST_NOW;
    if (type < 0) {
        snprintf(err, cap, "executeType: expected \"NOW\", \"DEVICE_ONLINE\" or \"CUSTOM\"");
        return -1;
    }
    t->type = (enum sd_task_type)type;
    const cJSON *et = cJSON_GetObjectItemCaseSensitive(body, "executeTime");
    if (t->type == ST_CUSTOM && !et) {
        snprintf(err, cap, "executeTime: missing (executeType CUSTOM needs it)");
        return -1;
    }
    if (t->type != ST_CUSTOM && et) {
        snprintf(err, cap, "executeTime: only for executeType CUSTOM");
        return -1;
    }
    if (et && (!cJSON_IsString(et) || (t->exec_ms = parse_time(et->valuestring)) < 0)) {
        snprintf(err, cap, "executeTime: expected a UTC time yyyyMMddTHHmmssZ (20260401T080000Z)");
        return -1;
    }
    if (int_member(body, "retryTimes", 0, TASK_RETRIES_MAX, 0, &t->retries, err, cap) < 0 ||
        int_member(body, "retryInterval", 1, TASK_INTERVAL_MAX, TASK_INTERVAL_DEFAULT, &t->interval_s, err, cap) < 0)
        return -1;
    return 0;
}

/* POST /iocm/app/shadow/v1.5.0/devices/{deviceId}/configTasks */
void sd_task_post(void *ctx, const struct north_req *rq, struct north_resp *rs)
{
    struct core *k = ctx;
    struct svc_shadow *S = k->svc_shadow;
    struct sd *d = sd_api_device(k, rq->params[0], rs);
    if (!d)
        return;
    struct sd_task *t = calloc(1, sizeof *t);
    char err[512];
    if (!t) {
        north_error(rs, 500, NE_INTERNAL, "out of memory");
        return;
    }
    if (sd_task_parse(rq->body, d->sh.product, t, err, sizeof err) < 0) {
        cJSON_Delete(t->config);
        free(t);
        north_error(rs, 400, NE_BAD_REQUEST, "%s", err);
        return;
    }
    int64_t now = sd_unix_now();
    snprintf(t->id, sizeof t->id, "%012llx%08llx", (unsigned long long)now, (unsigned long long)++S->task_seq);
    snprintf(t->dev, sizeof t->dev, "%s", d->id);
    t->created_ms = t->modified_ms = now;
    *S->tasks_tail = t;
    S->tasks_tail = &t->next;
    d->tasks_live++;
    core_batch_begin(k);
    if (t->type == ST_CUSTOM && t->exec_ms > now) {
        t->state = TS_WAITING;
        t->next_ms = t->exec_ms;
        task_save(k, t, d);
    } else {
        task_execute(k, t, d);
    }
    tasks_arm(k);
    svc_commit(k);
    rs->body = task_json(t, d);
    rs->status = 201;
}

/* GET .../configTasks: the device's tasks, oldest first. */
void sd_task_list(void *ctx, const struct north_req *rq, struct north_resp *rs)
{
    struct core *k = ctx;
    struct sd *d = sd_api_device(k, rq->params[0], rs);
    if (!d)
        return;
    cJSON *o = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(o, "tasks");
    int n = 0;
    for (struct sd_task *t = k->svc_shadow->tasks; t; t = t->next)
        if (strcmp(t->dev, d->id) == 0) {
            cJSON_AddItemToArray(a, task_json(t, d));
            n++;
        }
    cJSON_AddNumberToObject(o, "totalCount", n);
    rs->body = o;
    rs->status = 200;
}

/* GET .../configTasks/{taskId} */
void sd_task_get(void *ctx, const struct north_req *rq, struct north_resp *rs)
{
    struct core *k = ctx;
    struct sd *d = sd_api_device(k, rq->params[0], rs);
    if (!d)
        return;
    for (struct sd_task *t = k->svc_shadow->tasks; t; t = t->next)
        if (strcmp(t->dev, d->id) == 0 && strcmp(t->id, rq->params[1]) == 0) {
            rs->body = task_json(t, d);
            rs->status = 200;
            return;
        }
    north_error(rs, 404, NE_NOT_FOUND, "device %s has no config task %s", d->id, rq->params[1]);
}

/* --- life ------------------------------------------------------------------------------------ */

int sd_tasks_start(struct core *k, char *err, size_t errcap)
{
    struct svc_shadow *S = k->svc_shadow;
    ev_timer_init(&S->timer, timer_cb, 0, 0);
    S->timer.data = S;
    sqlite3 *db = store_sqlite(k->store);
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT task_id, device_id, service, config, type, state, retries, interval_s, attempts,"
                           " exec_ms, next_ms, created_ms, modified_ms, command_id FROM shadow_config_tasks"
                           " ORDER BY created_ms, task_id",
                           -1, &q, NULL) != SQLITE_OK) {
        snprintf(err, errcap, "shadow_config_tasks: %s", sqlite3_errmsg(db));
        return -1;
    }
    while (sqlite3_step(q) == SQLITE_ROW) {
        S->task_seq++;
        const char *dev = (const char *)sqlite3_column_text(q, 1);
        struct sd *d = dev ? sd_get(k, dev) : NULL;
        int si = d && !d->no_model ? pc_service_index(d->sh.product, (const char *)sqlite3_column_text(q, 2)) : -1;
        int type = name_index(TYPE_NAME, 3, (const char *)sqlite3_column_text(q, 4));
        int state = name_index(STATE_NAME, 5, (const char *)sqlite3_column_text(q, 5));
        cJSON *config = cJSON_Parse((const char *)sqlite3_column_text(q, 3));
        struct sd_task *t = si >= 0 && type >= 0 && state >= 0 && config ? calloc(1, sizeof *t) : NULL;
        if (!t) {
            cJSON_Delete(config);
            continue; /* its device or its service is gone */
        }
        snprintf(t->id, sizeof t->id, "%s", (const char *)sqlite3_column_text(q, 0));
        snprintf(t->dev, sizeof t->dev, "%s", dev);
        t->si = si;
        t->config = config;
        t->type = (enum sd_task_type)type;
        t->state = (enum sd_task_state)state;
        t->retries = sqlite3_column_int(q, 6);
        t->interval_s = sqlite3_column_int(q, 7);
        t->attempts = sqlite3_column_int(q, 8);
        t->exec_ms = sqlite3_column_int64(q, 9);
        t->next_ms = sqlite3_column_int64(q, 10);
        t->created_ms = sqlite3_column_int64(q, 11);
        t->modified_ms = sqlite3_column_int64(q, 12);
        snprintf(t->cmd, sizeof t->cmd, "%s", (const char *)sqlite3_column_text(q, 13));
        if (!final(t->state))
            d->tasks_live++;
        *S->tasks_tail = t;
        S->tasks_tail = &t->next;
    }
    sqlite3_finalize(q);
    tasks_arm(k);
    return 0;
}

void sd_tasks_stop(struct core *k)
{
    struct svc_shadow *S = k->svc_shadow;
    if (S->tasks_tail)
        ev_timer_stop(k->loop, &S->timer);
    for (struct sd_task *t = S->tasks, *nx; t; t = nx) {
        nx = t->next;
        cJSON_Delete(t->config);
        free(t);
    }
    S->tasks = NULL;
    S->tasks_tail = &S->tasks;
}
