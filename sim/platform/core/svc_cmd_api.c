/* The commands' calls of the northbound API (docs/api.md, Commands): create a
 * command, query commands, cancel one, cancel every PENDING one of a device (a
 * cancel task) and query the cancel tasks.  Every field of a body or a query is
 * checked here and named when it is wrong (400 NE_BAD_REQUEST); what is written is
 * committed before the answer (svc_commit). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "sim/platform/core/core_internal.h"
#include "sim/platform/core/svc.h"
#include "sim/platform/core/svc_cmd.h"

#define CMD_PATH "/iocm/app/cmd/v1.4.0/deviceCommands"
#define CTASK_PATH "/iocm/app/cmd/v1.4.0/deviceCommandCancelTasks"

void scmd_new_id(char out[SCMD_ID_LEN + 1])
{
    static uint64_t seq;
    uint8_t b[SCMD_ID_LEN / 2];
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
        /* no entropy: unique still, by time, process and a counter */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t v[2] = {(uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec, ((uint64_t)getpid() << 32) ^ ++seq};
        memcpy(b, v, sizeof b);
    }
    for (size_t i = 0; i < sizeof b; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

bool scmd_parse_time(const char *t, int64_t *unix_ms)
{
    /* yyyyMMddTHHmmssZ */
    if (!t || strlen(t) != 16 || t[8] != 'T' || t[15] != 'Z')
        return false;
    int v[6];
    const int at[6] = {0, 4, 6, 9, 11, 13}, len[6] = {4, 2, 2, 2, 2, 2};
    for (int i = 0; i < 6; i++) {
        v[i] = 0;
        for (int j = 0; j < len[i]; j++) {
            char ch = t[at[i] + j];
            if (ch < '0' || ch > '9')
                return false;
            v[i] = v[i] * 10 + (ch - '0');
        }
    }
    if (v[0] < 1970 || v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 60)
        return false;
    struct tm tm = {.tm_year = v[0] - 1900, .tm_mon = v[1] - 1, .tm_mday = v[2], .tm_hour = v[3], .tm_min = v[4],
                    .tm_sec = v[5]};
    time_t s = timegm(&tm);
    struct tm back;
    /* a day past its month's end, a 60th second: not a time of its own */
    if (s == (time_t)-1 || !gmtime_r(&s, &back) || back.tm_mday != v[2] || back.tm_mon != v[1] - 1 ||
        back.tm_sec != v[5])
        return false;
    *unix_ms = (int64_t)s * 1000;
    return true;
}

/* --- reading what the caller sent --------------------------------------------------------- */

/* An optional string member: true with *out (NULL when absent or null), false when
 * it is another type or longer than max (the error is in rs). */
static bool opt_string(const cJSON *o, const char *key, const char *name, size_t max, const char **out,
                       struct north_resp *rs)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    *out = NULL;
    if (!v || cJSON_IsNull(v))
        return true;
    if (!cJSON_IsString(v)) {
        north_error(rs, 400, NE_BAD_REQUEST, "%s: a string", name);
        return false;
    }
    if (strlen(v->valuestring) > max) {
        north_error(rs, 400, NE_BAD_REQUEST, "%s: at most %zu characters", name, max);
        return false;
    }
    *out = v->valuestring;
    return true;
}

static bool req_string(const cJSON *o, const char *key, const char *name, size_t max, const char **out,
                       struct north_resp *rs)
{
    if (!opt_string(o, key, name, max, out, rs))
        return false;
    if (!*out || !(*out)[0]) {
        north_error(rs, 400, NE_BAD_REQUEST, "%s: required (a string of 1 to %zu characters)", name, max);
        return false;
    }
    return true;
}

/* An optional whole number in [lo, hi]: true with *out (dflt when absent or null). */
static bool opt_int(const cJSON *o, const char *key, int64_t lo, int64_t hi, int64_t dflt, int64_t *out,
                    struct north_resp *rs)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    *out = dflt;
    if (!v || cJSON_IsNull(v))
        return true;
    double d = cJSON_IsNumber(v) ? v->valuedouble : -1e300;
    if (!cJSON_IsNumber(v) || d != (double)(int64_t)d || d < (double)lo || d > (double)hi) {
        north_error(rs, 400, NE_BAD_REQUEST, "%s: a whole number from %lld to %lld", key, (long long)lo,
                    (long long)hi);
        return false;
    }
    *out = (int64_t)d;
    return true;
}

/* A query parameter that is a whole number in [lo, hi] (decimal digits only). */
static bool query_int(const struct north_req *rq, const char *key, int64_t lo, int64_t hi, int64_t dflt,
                      int64_t *out, struct north_resp *rs)
{
    const char *v = north_query(rq, key);
    *out = dflt;
    if (!v)
        return true;
    int64_t n = 0;
    size_t len = strlen(v);
    bool ok = len > 0 && len <= 12;
    for (size_t i = 0; ok && i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            ok = false;
        else
            n = n * 10 + (v[i] - '0');
    }
    if (!ok || n < lo || n > hi) {
        north_error(rs, 400, NE_BAD_REQUEST, "%s: '%.40s' is not a whole number from %lld to %lld", key, v,
                    (long long)lo, (long long)hi);
        return false;
    }
    *out = n;
    return true;
}

static bool query_text(const struct north_req *rq, const char *key, size_t max, const char **out,
                       struct north_resp *rs)
{
    *out = north_query(rq, key);
    if (*out && (!(*out)[0] || strlen(*out) > max)) {
        north_error(rs, 400, NE_BAD_REQUEST, "%s: 1 to %zu characters", key, max);
        return false;
    }
    return true;
}

static bool body_object(const struct north_req *rq, struct north_resp *rs)
{
    if (!cJSON_IsObject(rq->body)) {
        north_error(rs, 400, NE_BAD_REQUEST, "body: a JSON object");
        return false;
    }
    return true;
}

static cJSON *page_answer(int64_t page_no, int64_t page_size, int64_t total, cJSON *data)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) {
        cJSON_Delete(data);
        return NULL;
    }
    cJSON *p = cJSON_AddObjectToObject(o, "pagination");
    cJSON_AddNumberToObject(p, "pageNo", (double)page_no);
    cJSON_AddNumberToObject(p, "pageSize", (double)page_size);
    cJSON_AddNumberToObject(p, "totalSize", (double)total);
    cJSON_AddItemToObject(o, "data", data);
    return o;
}

static bool page_params(const struct north_req *rq, int64_t *no, int64_t *size, struct north_resp *rs)
{
    return query_int(rq, "pageNo", 0, 1000000000, 0, no, rs) &&
           query_int(rq, "pageSize", 1, SCMD_PAGE_MAX, SCMD_PAGE_DEFAULT, size, rs);
}

/* --- the calls -------------------------------------------------------------------------------- */

/* POST deviceCommands: 201 with the command. */
static void cmd_create(void *ctx, const struct north_req *rq, struct north_resp *rs)
{
    struct core *k = ctx;
    struct svc_cmd *s = k->svc_cmd;
    if (!body_object(rq, rs))
        return;
    struct svc_cmd_req r = {.origin = "api"};
    const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(rq->body, "command");
    if (!req_string(rq->body, "deviceId", "deviceId", STORE_ID_MAX, &r.device_id, rs))
        return;
    if (!cJSON_IsObject(cmd)) {
        north_error(rs, 400, NE_BAD_REQUEST, "command: required (an object with serviceId, method, paras)");
        return;
    }
    if (!req_string(cmd, "serviceId", "command.serviceId", SCMD_SERVICE_MAX, &r.service_id, rs) ||
        !req_string(cmd, "method", "command.method", SCMD_METHOD_MAX, &r.method, rs))
        return;
    r.paras = cJSON_GetObjectItemCaseSensitive(cmd, "paras");
    if (r.paras && !cJSON_IsObject(r.paras) && !cJSON_IsNull(r.paras)) {
        north_error(rs, 400, NE_BAD_REQUEST, "command.paras: an object");
        return;
    }
    int64_t expire, maxrt;
    if (!opt_string(rq->body, "callbackUrl", "callbackUrl", SCMD_URL_MAX, &r.callback_url, rs) ||
        !opt_int(rq->body, "expireTime", 0, SCMD_EXPIRE_MAX_S, -1, &expire, rs) ||
        !opt_int(rq->body, "maxRetransmit", 0, CMD_MAX_RETRANSMIT, 0, &maxrt, rs))
        return;
    if (r.callback_url && !r.callback_url[0])
        r.callback_url = NULL;
    r.expire_s = expire;
    r.max_retransmit = (int)maxrt;
    char id[SCMD_ID_LEN + 1], err[300];
    int64_t row;
    int state, http = 500;
    if (scmd_create(s, &r, rq->app ? rq->app->id : NULL, &row, &state, id, sizeof id, &http, err, sizeof err) < 0) {
        svc_commit(k);
        north_error(rs, http, http == 404 ? NE_NOT_FOUND : http == 409 ? NE_CONFLICT
                                                       : http >= 500  ? NE_INTERNAL
                                                                      : NE_BAD_REQUEST,
                    "%s", err);
        return;
    }
    cJSON *o = scmd_store_json(s, row);
    svc_commit(k);
    if (!o) {
        north_error(rs, 500, NE_INTERNAL, "command %s: not read back", id);
        return;
    }
    rs->status = 201;
    rs->body = o;
}

/* GET deviceCommands: a page of the commands that match. */
static void cmd_query(void *ctx, const struct north_req *rq, struct north_resp *rs)
{
    struct core *k = ctx;
    struct scmd_filter q = {.state = -1, .start_ms = -1, .end_ms = -1};
    const char *status, *t0, *t1;
    if (!page_params(rq, &q.page_no, &q.page_size, rs) || !query_text(rq, "deviceId", STORE_ID_MAX, &q.device, rs) ||
        !query_text(rq, "status", 16, &status, rs) || !query_text(rq, "startTime", 16, &t0, rs) ||
        !query_text(rq, "endTime", 16, &t1, rs))
        return;
    if (status) {
        for (int i = 0; i < STORE_CMD__COUNT; i++)
            if (strcmp(status, store_cmd_state_name((enum store_cmd_state)i)) == 0)
                q.state = i;
        if (q.state < 0) {
            north_error(rs, 400, NE_BAD_REQUEST,
                        "status: '%s' is not PENDING, EXPIRED, CANCELED, SENT, TIMEOUT, DELIVERED, SUCCESSFUL or FAIL",
                        status);
            return;
        }
    }
    if ((t0 && !scmd_parse_time(t0, &q.start_ms)) || (t1 && !scmd_parse_time(t1, &q.end_ms))) {
        north_error(rs, 400, NE_BAD_REQUEST, "%s: '%s' is not a time yyyyMMddTHHmmssZ (UTC)",
                    t0 && !scmd_parse_time(t0, &q.start_ms) ? "startTime" : "endTime",
                    t0 && !scmd_parse_time(t0, &q.start_ms) ? t0 : t1);
        return;
    }
    if (q.end_ms >= 0)
        q.end_ms += 999; /* the whole second */
    if (svc_mutant(k, "cmd-query-status-ignored"))
        q.state = -1; /* mutant: the status filter is not applied */
    if (svc_mutant(k, "cmd-query-page-ignored"))
        q.page_no = 0; /* mutant: always the first page */
    cJSON *data = cJSON_CreateArray();
    int64_t total = 0;
    char err[300];
    if (!data || scmd_store_list(k->svc_cmd, &q, data, &total, err, sizeof err) < 0) {
        cJSON_Delete(data);
        north_error(rs, 500, NE_INTERNAL, "%s", data ? err : "out of memory");
        return;
    }
    rs->status = 200;
    rs->body = page_answer(q.page_no, q.page_size, total, data);
}

/* PUT deviceCommands/{id} {"status": "CANCELED"}: only a PENDING one. */
static void cmd_modify(void *ctx, const struct north_req *rq, struct north_resp *rs)
{
    struct core *k = ctx;
    struct svc_cmd *s = k->svc_cmd;
    const char *status;
    if (!body_object(rq, rs) || !req_string(rq->body, "status", "status", 16, &status, rs))
        return;
    if (strcmp(status, "CANCELED") != 0) {
        north_error(rs, 400, NE_BAD_REQUEST, "status: '%s': a command can only be set CANCELED", status);
        return;
    }
    const char *id = rq->params[0];
    int64_t row;
    int state;
    if (!scmd_store_find(s, id, &row, &state)) {
        north_error(rs, 404, NE_NOT_FOUND, "deviceCommandId: no command %s", id);
        return;
    }
    struct scmd *c = scmd_find(s, id);
    char why[160];
    /* mutant: a command no longer PENDING is answered 200 as if cancelled (it goes on) */
    bool fake = c && c->f.state != STORE_CMD_PENDING && svc_mutant(k, "cmd-cancel-sent");
    if (!fake && (!c || scmd_cancel(s, c, why, sizeof why) < 0)) {
        svc_commit(k);
        north_error(rs, 409, NE_CONFLICT, "command %s is %s: only a PENDING command can be cancelled", id,
                    c ? store_cmd_state_name(c->f.state)
                      : store_cmd_state_name((enum store_cmd_state)(state < 0 ? STORE_CMD__COUNT : state)));
        return;
    }
    cJSON *o = scmd_store_json(s, row);
    svc_commit(k);
    rs->status = 200;
    rs->body = o;
}

/* POST deviceCommandCancelTasks {deviceId}: every PENDING command of the device cancelled. */
static void ctask_create(void *ctx, const struct north_req *rq, struct north_resp *rs)
{
    struct core *k = ctx;
    struct svc_cmd *s = k->svc_cmd;
    const char *device;
    if (!body_object(rq, rs) || !req_string(rq->body, "deviceId", "deviceId", STORE_ID_MAX, &device, rs))
        return;
    char protocol[STORE_PROTOCOL_MAX + 1];
    if (!svc_device_protocol(k, device, protocol, sizeof protocol)) {
        north_error(rs, 404, NE_NOT_FOUND, "deviceId: no device %s is registered", device);
        return;
    }
    size_t cap = 0;
    for (struct scmd *c = scmd_device_first(s, device); c; c = c->dev_next)
        cap++;
    int64_t *rows = malloc((cap ? cap : 1) * sizeof *rows);
    if (!rows) {
        north_error(rs, 500, NE_INTERNAL, "out of memory");
        return;
    }
    core_batch_begin(k);
    size_t n = scmd_cancel_device(s, device, rows, cap);
    char task[SCMD_ID_LEN + 1];
    scmd_new_id(task);
    int rc = scmd_store_ctask_put(s, task, rq->app ? rq->app->id : NULL, device, rows, n < cap ? n : cap);
    free(rows);
    cJSON *o = rc == 0 ? scmd_store_ctask_json(s, task) : NULL;
    svc_commit(k);
    if (!o) {
        north_error(rs, 500, NE_INTERNAL, "the cancel task: %s", sqlite3_errmsg(s->db));
        return;
    }
    rs->status = 201;
    rs->body = o;
}

/* GET deviceCommandCancelTasks: a page of the cancel tasks that match. */
static void ctask_query(void *ctx, const struct north_req *rq, struct north_resp *rs)
{
    struct core *k = ctx;
    const char *task, *device;
    int64_t no, size;
    if (!page_params(rq, &no, &size, rs) || !query_text(rq, "taskId", SCMD_ID_LEN, &task, rs) ||
        !query_text(rq, "deviceId", STORE_ID_MAX, &device, rs))
        return;
    cJSON *data = cJSON_CreateArray();
    int64_t total = 0;
    char err[300];
    if (!data || scmd_store_ctask_list(k->svc_cmd, task, device, no, size, data, &total, err, sizeof err) < 0) {
        cJSON_Delete(data);
        north_error(rs, 500, NE_INTERNAL, "%s", data ? err : "out of memory");
        return;
    }
    rs->status = 200;
    rs->body = page_answer(no, size, total, data);
}

const struct north_route svc_cmd_routes[] = {
    {"POST", CMD_PATH, cmd_create},
    {"GET", CMD_PATH, cmd_query},
    {"PUT", CMD_PATH "/{deviceCommandId}", cmd_modify},
    {"POST", CTASK_PATH, ctask_create},
    {"GET", CTASK_PATH, ctask_query},
};
const size_t svc_cmd_n_routes = sizeof svc_cmd_routes / sizeof *svc_cmd_routes;
