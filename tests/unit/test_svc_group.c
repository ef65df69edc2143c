/* Groups, batch tasks and data history (svc_group.h) through a forked core and its
 * API (core_fixture.h): groups' calls and each refusal, members, a deleted device
 * leaving its group, the history of reports sent on the bus (paging, filters, the
 * bound per device and service), the batch tasks with the submit replaced by a
 * recorder (the slices, the ends of the commands, the deadline), tags, and what a
 * SIGKILLed core finds again. */
#include <sqlite3.h>

#include "tests/unit/core_fixture.h"

#include "sim/core/clock.h"
#include "sim/platform/core/core_internal.h"
#include "sim/platform/core/shadow.h"
#include "sim/platform/core/svc_group.h"

static const char *argv0 = "";
static struct cf f;

#define G "/iocm/app/devgroup/v1.3.0/devGroups"
#define TASKS "/iocm/app/batchtask/v1.1.0/tasks"
#define DETAILS "/iocm/app/batchtask/v1.1.0/taskDetails"
#define HIST "/iocm/app/data/v1.1.0/deviceDataHistory"

/* --- the recorder of submits (runs in the forked core; what it saw is shared) -------------- */

#define REC_MAX 4096
struct rec {
    int mode;                   /* 0: the commands never end; 1: they end 20 ms later; 2: at once,
                                   inside the submit (the same transaction) */
    int kill_at;                /* > 0: the core SIGKILLs itself at this call */
    int calls;
    int max_per_turn;           /* the most submits one loop turn made */
    unsigned turns;             /* loop turns that submitted */
    unsigned last_iter;
    int this_turn;
    char origin[64];
    char devices[REC_MAX][24];
    char probe[64];             /* a group id: svc_group_members of it at the next submit */
    int probe_n;                /* its members (-1: NULL, no such group) */
    char probe_first[24];
};
static struct rec *rec;

/* in the core: the commands made and not ended yet */
static struct {
    char dev[24], cmd[24], origin[64];
} pend[REC_MAX];
static int n_pend;
static ev_timer end_timer;

static void end_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct core *k = t->data;
    core_batch_begin(k);
    for (int i = 0; i < n_pend; i++) {
        size_t n = strlen(pend[i].dev);
        int st = pend[i].dev[n - 1] == '3' ? STORE_CMD_FAIL : STORE_CMD_SUCCESSFUL;
        svc_on_cmd_done(k, pend[i].origin, pend[i].dev, pend[i].cmd, st);
    }
    n_pend = 0;
    core_batch_end(k);
    (void)loop, (void)revents;
}

static int recorder(struct core *k, const struct svc_cmd_req *rq, char *command_id, size_t cap, int *state,
                    int *http, char *err, size_t errcap)
{
    unsigned it = ev_iteration(k->loop);
    if (rec->calls == 0 || it != rec->last_iter) {
        rec->turns++;
        rec->this_turn = 0;
        rec->last_iter = it;
    }
    if (++rec->this_turn > rec->max_per_turn)
        rec->max_per_turn = rec->this_turn;
    if (rec->probe[0]) {
        size_t m = 0;
        char **ids = svc_group_members(k, rec->probe, &m);
        rec->probe_n = ids ? (int)m : -1;
        snprintf(rec->probe_first, sizeof rec->probe_first, "%s", ids && m ? ids[0] : "");
        for (size_t i = 0; i < m; i++)
            free(ids[i]);
        free(ids);
        rec->probe[0] = '\0';
    }
    int n = rec->calls++;
    snprintf(rec->origin, sizeof rec->origin, "%s", rq->origin);
    if (n < REC_MAX)
        snprintf(rec->devices[n], sizeof rec->devices[n], "%s", rq->device_id);
    if (rec->kill_at > 0 && rec->calls == rec->kill_at)
        raise(SIGKILL);
    size_t len = strlen(rq->device_id);
    if (rq->device_id[len - 1] == '9') {
        *http = 409;
        snprintf(err, errcap, "the device cannot take it");
        return -1;
    }
    snprintf(command_id, cap, "cmd%d", n);
    *state = STORE_CMD_SENT;
    if (rec->mode == 2)
        svc_on_cmd_done(k, rq->origin, rq->device_id, command_id,
                        rq->device_id[len - 1] == '3' ? STORE_CMD_FAIL : STORE_CMD_SUCCESSFUL);
    if (rec->mode == 1 && n_pend < REC_MAX) {
        snprintf(pend[n_pend].dev, sizeof pend[n_pend].dev, "%s", rq->device_id);
        snprintf(pend[n_pend].cmd, sizeof pend[n_pend].cmd, "%s", command_id);
        snprintf(pend[n_pend].origin, sizeof pend[n_pend].origin, "%s", rq->origin);
        n_pend++;
        if (!ev_is_active(&end_timer)) {
            ev_timer_init(&end_timer, end_cb, 0.02, 0);
            end_timer.data = k;
            ev_timer_start(k->loop, &end_timer);
        }
    }
    return 0;
}

/* --- helpers ------------------------------------------------------------------------------ */

static int setup(void **state)
{
    (void)state;
    cf_init(&f, argv0, "test_svc_group");
    rec = mmap(NULL, sizeof *rec, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(rec != MAP_FAILED);
    memset(rec, 0, sizeof *rec);
    svc_group_submit = recorder;
    svc_group_hist_keep = SVC_GROUP_HIST_KEEP;
    svc_group_hist_block_s = SVC_GROUP_HIST_BLOCK_S;
    clock_init(1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    munmap(rec, sizeof *rec);
    return cf_fini(&f);
}

/* Register n devices "<prefix><i>" (12 digits), pipelined, not online. */
static void register_many(struct cf_fe *e, long first, int n)
{
    struct bus_rec r;
    for (int done = 0; done < n;) {
        int chunk = n - done < 50 ? n - done : 50;
        for (int i = 0; i < chunk; i++) {
            char id[24], name[40];
            snprintf(id, sizeof id, "%012ld", first + done + i);
            snprintf(name, sizeof name, "N_%s", id);
            assert_int_equal(bus_register(&e->out, e->token++, 0, id, name, "", "", NULL), 0);
        }
        cf_fe_send(e);
        for (int i = 0; i < chunk; i++) {
            cf_fe_expect(e, BUS_REG_REPLY, &r);
            assert_int_equal(r.u8, STORE_REG_OK);
        }
        done += chunk;
    }
}

static double num(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsNumber(v))
        fail_msg("%s: not a number", name);
    return v->valuedouble;
}

static const cJSON *arr(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsArray(v))
        fail_msg("%s: not an array", name);
    return v;
}

/* A call that must be refused with status and code, its description holding what. */
static void refused(const char *method, const char *path, const char *body, long status, const char *code,
                    const char *what)
{
    cJSON *o = NULL;
    long st = cf_call(&f, method, path, body, &o);
    if (st != status || !cf_str(o, "error_code") || strcmp(cf_str(o, "error_code"), code) != 0 ||
        !strstr(cf_str(o, "error_desc"), what)) {
        char *t = o ? cJSON_PrintUnformatted(o) : NULL;
        fail_msg("%s %s %s: got %ld %s, wanted %ld %s '%s'", method, path, body ? body : "", st, t ? t : "(none)",
                 status, code, what);
    }
    cJSON_Delete(o);
}

static void group_new(const char *body, char *id, size_t cap)
{
    cJSON *o = NULL;
    assert_int_equal(cf_call(&f, "POST", G, body, &o), 200);
    assert_non_null(cf_str(o, "id"));
    snprintf(id, cap, "%s", cf_str(o, "id"));
    cJSON_Delete(o);
}

/* --- groups ------------------------------------------------------------------------------- */

static void test_groups(void **state)
{
    (void)state;
    cf_start(&f);
    struct cf_fe e;
    cf_fe_open(&f, &e, "jt808", 0);
    register_many(&e, 13800000001, 6);
    cf_login(&f);
    cJSON *o = NULL;
    /* create, with members */
    assert_int_equal(cf_call(&f, "POST", G,
                             "{\"name\":\"meters\",\"description\":\"north side\",\"maxDevNum\":3,"
                             "\"deviceIds\":[\"013800000001\",\"013800000002\"]}", &o), 200);
    char a[64], b[64], c[64], path[256];
    snprintf(a, sizeof a, "%s", cf_str(o, "id"));
    assert_int_equal(strlen(a), 36);
    assert_string_equal(cf_str(o, "name"), "meters");
    assert_string_equal(cf_str(o, "description"), "north side");
    assert_string_equal(cf_str(o, "appId"), "app");
    assert_int_equal(num(o, "maxDevNum"), 3);
    assert_int_equal(num(o, "curDevNum"), 2);
    assert_int_equal(cJSON_GetArraySize(arr(o, "deviceIds")), 2);
    cJSON_Delete(o);
    group_new("{\"name\":\"trucks\"}", b, sizeof b);
    group_new("{\"name\":\"spare\",\"maxDevNum\":0}", c, sizeof c);
    /* refusals of create */
    refused("POST", G, "{\"name\":\"meters\"}", 409, NE_CONFLICT, "name: the application has a group named meters");
    refused("POST", G, "{\"description\":\"x\"}", 400, NE_BAD_REQUEST, "name: missing");
    refused("POST", G, "{\"name\":7}", 400, NE_BAD_REQUEST, "name: not a string");
    refused("POST", G, "{\"name\":\"\"}", 400, NE_BAD_REQUEST, "name: 0 bytes");
    refused("POST", G, "{\"name\":\"x\",\"maxDevNum\":-1}", 400, NE_BAD_REQUEST, "maxDevNum: not a whole number");
    refused("POST", G, "{\"name\":\"x\",\"maxDevNum\":1.5}", 400, NE_BAD_REQUEST, "maxDevNum");
    refused("POST", G, "{\"name\":\"x\",\"deviceIds\":[\"013800000001\",\"019999999999\"]}", 400, NE_BAD_REQUEST,
            "deviceIds[1]: no device 019999999999 is registered");
    refused("POST", G, "{\"name\":\"x\",\"deviceIds\":[\"013800000003\",\"013800000003\"]}", 400, NE_BAD_REQUEST,
            "deviceIds[1]: 013800000003 is listed already at [0]");
    refused("POST", G, "{\"name\":\"x\",\"deviceIds\":\"013800000003\"}", 400, NE_BAD_REQUEST, "deviceIds: not an array");
    refused("POST", G, "{\"name\":\"x\",\"deviceIds\":[\"013800000001\"]}", 409, NE_CONFLICT,
            "deviceIds[0]: 013800000001 is in group");
    refused("POST", G, "{\"name\":\"x\",\"maxDevNum\":1,\"deviceIds\":[\"013800000005\",\"013800000006\"]}", 409,
            NE_CONFLICT, "maxDevNum 1");
    refused("POST", G, "[1]", 400, NE_BAD_REQUEST, "the body: not a JSON object");
    /* nothing of the refused ones was made */
    assert_int_equal(cf_call(&f, "GET", G "?pageSize=2", NULL, &o), 200);
    assert_int_equal(num(o, "totalCount"), 3);
    assert_int_equal(cJSON_GetArraySize(arr(o, "list")), 2);
    assert_string_equal(cf_str(arr(o, "list")->child, "name"), "meters");
    assert_int_equal(num(arr(o, "list")->child, "curDevNum"), 2);
    cJSON_Delete(o);
    assert_int_equal(cf_call(&f, "GET", G "?pageSize=2&pageNo=1", NULL, &o), 200);
    assert_int_equal(cJSON_GetArraySize(arr(o, "list")), 1);
    assert_string_equal(cf_str(arr(o, "list")->child, "name"), "spare");
    cJSON_Delete(o);
    assert_int_equal(cf_call(&f, "GET", G "?name=trucks", NULL, &o), 200);
    assert_int_equal(num(o, "totalCount"), 1);
    assert_string_equal(cf_str(arr(o, "list")->child, "id"), b);
    cJSON_Delete(o);
    refused("GET", G "?pageSize=0", NULL, 400, NE_BAD_REQUEST, "pageSize: '0' is not a whole number 1..1000");
    refused("GET", G "?pageNo=x", NULL, 400, NE_BAD_REQUEST, "pageNo: 'x'");
    /* one */
    snprintf(path, sizeof path, G "/%s", a);
    assert_int_equal(cf_call(&f, "GET", path, NULL, &o), 200);
    assert_string_equal(cf_str(o, "name"), "meters");
    assert_int_equal(num(o, "curDevNum"), 2);
    cJSON_Delete(o);
    refused("GET", G "/nosuchgroup", NULL, 404, NE_NOT_FOUND, "devGroupId: the application has no group nosuchgroup");
    /* modify */
    assert_int_equal(cf_call(&f, "PUT", path, "{\"name\":\"meters-n\",\"maxDevNum\":4}", &o), 200);
    assert_string_equal(cf_str(o, "name"), "meters-n");
    assert_string_equal(cf_str(o, "description"), "north side");
    assert_int_equal(num(o, "maxDevNum"), 4);
    cJSON_Delete(o);
    refused("PUT", path, "{\"name\":\"trucks\"}", 409, NE_CONFLICT, "name: the application has a group named trucks");
    refused("PUT", path, "{\"maxDevNum\":1}", 409, NE_CONFLICT, "maxDevNum: 1 is below the 2 devices");
    refused("PUT", G "/nosuchgroup", "{\"name\":\"q\"}", 404, NE_NOT_FOUND, "nosuchgroup");
    /* members */
    snprintf(path, sizeof path, G "/%s/addDevices", a);
    assert_int_equal(cf_call(&f, "POST", path, "{\"deviceIds\":[\"013800000003\",\"013800000004\"]}", &o), 200);
    assert_int_equal(num(o, "curDevNum"), 4);
    cJSON_Delete(o);
    refused("POST", path, "{\"deviceIds\":[\"013800000005\"]}", 409, NE_CONFLICT, "the group holds 4 of maxDevNum 4");
    refused("POST", path, "{}", 400, NE_BAD_REQUEST, "deviceIds: missing");
    refused("POST", path, "{\"deviceIds\":[]}", 400, NE_BAD_REQUEST, "deviceIds: not an array of 1..1000");
    refused("POST", path, "{\"deviceIds\":[\"\"]}", 400, NE_BAD_REQUEST, "deviceIds[0]: not a device id");
    snprintf(path, sizeof path, G "/%s/addDevices", b);
    refused("POST", path, "{\"deviceIds\":[\"013800000005\",\"013800000004\"]}", 409, NE_CONFLICT,
            "deviceIds[1]: 013800000004 is in group");
    assert_int_equal(cf_call(&f, "POST", path, "{\"deviceIds\":[\"013800000005\"]}", &o), 200);
    cJSON_Delete(o);
    snprintf(path, sizeof path, G "/%s/members?pageSize=3", a);
    assert_int_equal(cf_call(&f, "GET", path, NULL, &o), 200);
    assert_int_equal(num(o, "totalCount"), 4);
    assert_int_equal(cJSON_GetArraySize(arr(o, "deviceIds")), 3);
    assert_string_equal(arr(o, "deviceIds")->child->valuestring, "013800000001");
    cJSON_Delete(o);
    snprintf(path, sizeof path, G "/%s/members?pageSize=3&pageNo=1", a);
    assert_int_equal(cf_call(&f, "GET", path, NULL, &o), 200);
    assert_int_equal(cJSON_GetArraySize(arr(o, "deviceIds")), 1);
    assert_string_equal(arr(o, "deviceIds")->child->valuestring, "013800000004");
    cJSON_Delete(o);
    snprintf(path, sizeof path, G "/%s/deleteDevices", a);
    refused("POST", path, "{\"deviceIds\":[\"013800000005\"]}", 400, NE_BAD_REQUEST,
            "deviceIds[0]: 013800000005 is not a member of the group");
    assert_int_equal(cf_call(&f, "POST", path, "{\"deviceIds\":[\"013800000001\"]}", &o), 200);
    assert_int_equal(num(o, "curDevNum"), 3);
    cJSON_Delete(o);
    /* delete: the members are free for another group */
    snprintf(path, sizeof path, G "/%s", a);
    assert_int_equal(cf_call(&f, "DELETE", path, NULL, &o), 204);
    cJSON_Delete(o);
    refused("GET", path, NULL, 404, NE_NOT_FOUND, "no group");
    refused("DELETE", path, NULL, 404, NE_NOT_FOUND, "no group");
    snprintf(path, sizeof path, G "/%s/addDevices", c);
    assert_int_equal(cf_call(&f, "POST", path, "{\"deviceIds\":[\"013800000003\",\"013800000004\"]}", &o), 200);
    assert_int_equal(num(o, "curDevNum"), 2);
    cJSON_Delete(o);
    /* a deleted device leaves its group */
    assert_int_equal(bus_unregister(&e.out, "013800000003"), 0);
    cf_fe_sync(&e);
    snprintf(path, sizeof path, G "/%s/members", c);
    assert_int_equal(cf_call(&f, "GET", path, NULL, &o), 200);
    assert_int_equal(num(o, "totalCount"), 1);
    assert_string_equal(arr(o, "deviceIds")->child->valuestring, "013800000004");
    cJSON_Delete(o);
    /* everything committed before it was answered: a SIGKILL loses none of it */
    cf_fe_close(&e);
    cf_kill(&f);
    cf_start(&f);
    cf_login(&f);
    assert_int_equal(cf_call(&f, "GET", G, NULL, &o), 200);
    assert_int_equal(num(o, "totalCount"), 2);
    cJSON_Delete(o);
    assert_int_equal(cf_call(&f, "GET", path, NULL, &o), 200);
    assert_int_equal(num(o, "totalCount"), 1);
    cJSON_Delete(o);
    assert_int_equal(cf_stop(&f), 0);
}

/* --- history ------------------------------------------------------------------------------ */

#define T0 1764806400000LL /* 20251204T000000Z */

static void report(struct cf_fe *e, const char *id, const char *service, int64_t at_ms, const char *data)
{
    assert_int_equal(bus_report(&e->out, (uint64_t)at_ms, id, service, data), 0);
}

static void test_history(void **state)
{
    (void)state;
    svc_group_hist_keep = 8;
    svc_group_hist_block_s = 0.3; /* a block not full is written 0.3 s after its first value */
    cf_start(&f);
    struct cf_fe e;
    cf_fe_open(&f, &e, "jt808", 0);
    cf_fe_online(&e, "013800000011", 1);
    register_many(&e, 13800000012, 1);
    for (int i = 0; i < 5; i++) {
        char d[64];
        snprintf(d, sizeof d, "{\"lat\":%d,\"lon\":%d}", 100 + i, 200 + i);
        report(&e, "013800000011", "location", T0 + i * 60000, d);
    }
    report(&e, "013800000011", "status", T0 + 30000, "{\"acc\":1}");
    cf_fe_sync(&e);
    cf_login(&f);
    cJSON *o = NULL;
    /* newest first, paged; the query sees what the core took even before the timer wrote it */
    assert_int_equal(cf_call(&f, "GET", HIST "?deviceId=013800000011&pageSize=4", NULL, &o), 200);
    assert_int_equal(num(o, "totalCount"), 6);
    assert_int_equal(num(o, "pageSize"), 4);
    const cJSON *l = arr(o, "deviceDataHistoryDOs");
    assert_int_equal(cJSON_GetArraySize(l), 4);
    assert_string_equal(cf_str(l->child, "deviceId"), "013800000011");
    assert_string_equal(cf_str(l->child, "gatewayId"), "013800000011");
    assert_string_equal(cf_str(l->child, "appId"), "app");
    assert_string_equal(cf_str(l->child, "serviceId"), "location");
    assert_string_equal(cf_str(l->child, "timestamp"), "20251204T000400Z");
    assert_int_equal(num(cJSON_GetObjectItem(l->child, "data"), "lat"), 104);
    assert_string_equal(cf_str(cJSON_GetArrayItem(l, 3), "timestamp"), "20251204T000100Z");
    cJSON_Delete(o);
    assert_int_equal(cf_call(&f, "GET", HIST "?deviceId=013800000011&pageSize=4&pageNo=1", NULL, &o), 200);
    l = arr(o, "deviceDataHistoryDOs");
    assert_int_equal(cJSON_GetArraySize(l), 2);
    assert_string_equal(cf_str(l->child, "serviceId"), "status");
    assert_string_equal(cf_str(cJSON_GetArrayItem(l, 1), "timestamp"), "20251204T000000Z");
    cJSON_Delete(o);
    /* filters: service, property, the times (both ends in) */
    assert_int_equal(cf_call(&f, "GET", HIST "?deviceId=013800000011&serviceId=status", NULL, &o), 200);
    assert_int_equal(num(o, "totalCount"), 1);
    cJSON_Delete(o);
    assert_int_equal(cf_call(&f, "GET", HIST "?deviceId=013800000011&property=acc", NULL, &o), 200);
    assert_int_equal(num(o, "totalCount"), 1);
    cJSON_Delete(o);
    assert_int_equal(cf_call(&f, "GET",
                             HIST "?deviceId=013800000011&serviceId=location&startTime=20251204T000100Z"
                                  "&endTime=20251204T000300Z", NULL, &o), 200);
    assert_int_equal(num(o, "totalCount"), 3);
    l = arr(o, "deviceDataHistoryDOs");
    assert_string_equal(cf_str(l->child, "timestamp"), "20251204T000300Z");
    assert_string_equal(cf_str(cJSON_GetArrayItem(l, 2), "timestamp"), "20251204T000100Z");
    cJSON_Delete(o);
    assert_int_equal(cf_call(&f, "GET", HIST "?deviceId=013800000011&gatewayId=013800000099", NULL, &o), 200);
    assert_int_equal(num(o, "totalCount"), 0);
    cJSON_Delete(o);
    assert_int_equal(cf_call(&f, "GET", HIST "?deviceId=013800000012", NULL, &o), 200);
    assert_int_equal(num(o, "totalCount"), 0);
    cJSON_Delete(o);
    /* refusals */
    refused("GET", HIST, NULL, 400, NE_BAD_REQUEST, "deviceId: missing");
    refused("GET", HIST "?deviceId=013800000011&startTime=20251204T250000Z", NULL, 400, NE_BAD_REQUEST,
            "startTime: '20251204T250000Z' is not a time yyyyMMddTHHmmssZ");
    refused("GET", HIST "?deviceId=013800000011&endTime=2025-12-04", NULL, 400, NE_BAD_REQUEST, "endTime: '2025-12-04'");
    refused("GET", HIST "?deviceId=013800000011&startTime=20250230T000000Z", NULL, 400, NE_BAD_REQUEST, "startTime");
    refused("GET", HIST "?deviceId=013800000011&startTime=20251204T000200Z&endTime=20251204T000100Z", NULL, 400,
            NE_BAD_REQUEST, "endTime: before startTime");
    refused("GET", HIST "?deviceId=013800000011&pageSize=2001", NULL, 400, NE_BAD_REQUEST, "pageSize");
    refused("GET", HIST "?deviceId=013800000011&property=a%22b", NULL, 400, NE_BAD_REQUEST, "property:");
    refused("GET", HIST "?deviceId=019999999999", NULL, 404, NE_NOT_FOUND, "deviceId: no device 019999999999");
    /* the bound: the last 8 of a device and service; older ones go */
    for (int i = 5; i < 12; i++)
        report(&e, "013800000011", "location", T0 + i * 60000, "{\"lat\":1}");
    cf_fe_sync(&e);
    assert_int_equal(cf_call(&f, "GET", HIST "?deviceId=013800000011&serviceId=location&pageSize=100", NULL, &o), 200);
    assert_int_equal(num(o, "totalCount"), 8);
    l = arr(o, "deviceDataHistoryDOs");
    assert_string_equal(cf_str(l->child, "timestamp"), "20251204T001100Z");
    assert_string_equal(cf_str(cJSON_GetArrayItem(l, 7), "timestamp"), "20251204T000400Z");
    cJSON_Delete(o);
    /* the timer writes a block without a query once it is old enough; a SIGKILL after keeps it */
    report(&e, "013800000012", "location", T0, "{\"lat\":7}");
    cf_fe_sync(&e);
    struct store *s;
    char err[256];
    assert_int_equal(store_open(&s, f.db, err, sizeof err), 0);
    int64_t rows = 0;
    for (int i = 0; i < 100 && rows == 0; i++) { /* 0.3 s of block and 0.2 s of timer, 5 s at most */
        sqlite3_stmt *q = NULL;
        sqlite3_prepare_v2(store_sqlite(s), "SELECT count(*) FROM data_history WHERE device_id = '013800000012'", -1,
                           &q, NULL);
        if (q && sqlite3_step(q) == SQLITE_ROW)
            rows = sqlite3_column_int64(q, 0);
        sqlite3_finalize(q);
        if (!rows)
            usleep(50000);
    }
    store_close(s);
    assert_int_equal(rows, 1);
    cf_fe_close(&e);
    cf_kill(&f);
    cf_start(&f);
    cf_login(&f);
    assert_int_equal(cf_call(&f, "GET", HIST "?deviceId=013800000011", NULL, &o), 200);
    assert_int_equal(num(o, "totalCount"), 9);
    cJSON_Delete(o);
    /* the ring goes on where it was: the next value replaces the oldest */
    cf_fe_open(&f, &e, "jt808", 0);
    report(&e, "013800000011", "location", T0 + 12 * 60000, "{\"lat\":2}");
    cf_fe_sync(&e);
    assert_int_equal(cf_call(&f, "GET", HIST "?deviceId=013800000011&serviceId=location", NULL, &o), 200);
    assert_int_equal(num(o, "totalCount"), 8);
    l = arr(o, "deviceDataHistoryDOs");
    assert_string_equal(cf_str(l->child, "timestamp"), "20251204T001200Z");
    assert_string_equal(cf_str(cJSON_GetArrayItem(l, 7), "timestamp"), "20251204T000500Z");
    cJSON_Delete(o);
    /* a deleted device's history goes with it */
    assert_int_equal(bus_unregister(&e.out, "013800000012"), 0);
    cf_fe_sync(&e);
    refused("GET", HIST "?deviceId=013800000012", NULL, 404, NE_NOT_FOUND, "no device");
    /* 100 more: rows wholly older than the last 8 values leave the file */
    for (int i = 13; i < 113; i++)
        report(&e, "013800000011", "location", T0 + i * 60000, "{\"lat\":3}");
    cf_fe_sync(&e);
    assert_int_equal(cf_call(&f, "GET", HIST "?deviceId=013800000011&serviceId=location", NULL, &o), 200);
    assert_int_equal(num(o, "totalCount"), 8);
    assert_string_equal(cf_str(arr(o, "deviceDataHistoryDOs")->child, "timestamp"), "20251204T015200Z");
    cJSON_Delete(o);
    cf_fe_close(&e);
    assert_int_equal(cf_stop(&f), 0);
    assert_int_equal(store_open(&s, f.db, err, sizeof err), 0);
    sqlite3_stmt *q = NULL;
    sqlite3_prepare_v2(store_sqlite(s), "SELECT sum(n) FROM data_history WHERE device_id = '013800000011'"
                       " AND service = 'location'", -1, &q, NULL);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    int64_t kept = sqlite3_column_int64(q, 0);
    if (kept < 8 || kept >= 8 + 2 * SVC_GROUP_HIST_BLOCK)
        fail_msg("the file holds %lld values of the device's location, not 8..%d", (long long)kept,
                 8 + 2 * SVC_GROUP_HIST_BLOCK - 1);
    sqlite3_finalize(q);
    q = NULL;
    sqlite3_prepare_v2(store_sqlite(s), "SELECT count(*) FROM data_history WHERE device_id = '013800000012'", -1, &q,
                       NULL);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(q, 0), 0);
    sqlite3_finalize(q);
    store_close(s);
}

static void test_history_off(void **state)
{
    (void)state;
    svc_group_hist_keep = 0;
    cf_start(&f);
    struct cf_fe e;
    cf_fe_open(&f, &e, "jt808", 0);
    cf_fe_online(&e, "013800000011", 1);
    report(&e, "013800000011", "location", T0, "{\"lat\":1}");
    cf_fe_sync(&e);
    cf_login(&f);
    cJSON *o = NULL;
    assert_int_equal(cf_call(&f, "GET", HIST "?deviceId=013800000011", NULL, &o), 200);
    assert_int_equal(num(o, "totalCount"), 0);
    cJSON_Delete(o);
    cf_fe_close(&e);
    assert_int_equal(cf_stop(&f), 0);
}

/* --- batch tasks -------------------------------------------------------------------------- */

static void task_new(const char *body, char *id, size_t cap)
{
    cJSON *o = NULL;
    long st = cf_call(&f, "POST", TASKS, body, &o);
    if (st != 200 || !cf_str(o, "taskID")) {
        char *t = o ? cJSON_PrintUnformatted(o) : NULL;
        fail_msg("POST tasks %s: %ld %s", body, st, t ? t : "");
    }
    snprintf(id, cap, "%s", cf_str(o, "taskID"));
    cJSON_Delete(o);
}

/* GET the task until its status is want (5 s at most). */
static cJSON *task_until(const char *id, const char *want)
{
    char path[128];
    snprintf(path, sizeof path, TASKS "/%s", id);
    cJSON *o = NULL;
    for (int i = 0; i < 250; i++) {
        cJSON_Delete(o);
        assert_int_equal(cf_call(&f, "GET", path, NULL, &o), 200);
        if (cf_str(o, "status") && strcmp(cf_str(o, "status"), want) == 0)
            return o;
        usleep(20000);
    }
    fail_msg("task %s: status %s, not %s", id, cf_str(o, "status"), want);
    return NULL;
}

#define CMD "\"command\":{\"serviceId\":\"terminal\",\"method\":\"query\",\"paras\":{\"a\":1}}"

static void test_task_list_and_groups(void **state)
{
    (void)state;
    rec->mode = 1;
    cf_start(&f);
    struct cf_fe e;
    cf_fe_open(&f, &e, "jt808", 0);
    register_many(&e, 13900000001, 9); /* ...09 is refused by the recorder, ...03 ends FAIL */
    cf_login(&f);
    char id[64], gid[64], path[160];
    task_new("{\"taskName\":\"t1\",\"taskType\":\"DeviceCmd\",\"timeout\":600,\"param\":{\"type\":\"DeviceList\","
             "\"deviceList\":[\"013900000001\",\"013900000003\",\"013900000009\"]," CMD ",\"expireTime\":0}}",
             id, sizeof id);
    cJSON *o = task_until(id, "COMPLETE");
    assert_string_equal(cf_str(o, "taskName"), "t1");
    assert_string_equal(cf_str(o, "taskType"), "DeviceCmd");
    assert_int_equal(num(o, "totalCnt"), 3);
    assert_int_equal(num(o, "successCnt"), 1);
    assert_int_equal(num(o, "failCnt"), 2);
    assert_int_equal(num(o, "timeoutCnt"), 0);
    assert_int_equal(num(o, "completeCnt"), 3);
    assert_non_null(cf_str(o, "endTime"));
    assert_int_equal(strlen(cf_str(o, "startTime")), 16);
    cJSON_Delete(o);
    char origin[64];
    snprintf(origin, sizeof origin, "batch:%s", id);
    assert_string_equal(rec->origin, origin);
    assert_int_equal(rec->calls, 3);
    /* the details: each device's command and state; the refused one says why */
    snprintf(path, sizeof path, DETAILS "?taskId=%s&status=FAIL", id);
    assert_int_equal(cf_call(&f, "GET", path, NULL, &o), 200);
    assert_int_equal(num(o, "totalCount"), 2);
    const cJSON *d = arr(o, "taskDetails");
    assert_string_equal(cf_str(d->child, "param.deviceId"), "013900000003");
    assert_non_null(cf_str(d->child, "param.commandId"));
    assert_string_equal(cf_str(d->child->next, "param.deviceId"), "013900000009");
    assert_null(cf_str(d->child->next, "param.commandId"));
    assert_non_null(strstr(cf_str(d->child->next, "error"), "409: the device cannot take it"));
    cJSON_Delete(o);
    snprintf(path, sizeof path, DETAILS "?taskId=%s&pageSize=1&pageNo=0", id);
    assert_int_equal(cf_call(&f, "GET", path, NULL, &o), 200);
    assert_int_equal(num(o, "totalCount"), 3);
    assert_string_equal(cf_str(arr(o, "taskDetails")->child, "status"), "SUCCESSFUL");
    assert_string_equal(cf_str(arr(o, "taskDetails")->child, "param.commandId"), "cmd0");
    cJSON_Delete(o);
    /* a group's members */
    group_new("{\"name\":\"g\",\"deviceIds\":[\"013900000004\",\"013900000005\"]}", gid, sizeof gid);
    char body[512];
    snprintf(body, sizeof body,
             "{\"taskName\":\"t2\",\"taskType\":\"DeviceCmd\",\"timeout\":600,\"param\":{\"type\":\"GroupList\","
             "\"groupList\":[\"%s\"]," CMD "}}", gid);
    snprintf(rec->probe, sizeof rec->probe, "%s", gid); /* svc_group_members, in the core */
    task_new(body, id, sizeof id);
    o = task_until(id, "COMPLETE");
    assert_int_equal(num(o, "totalCnt"), 2);
    assert_int_equal(num(o, "successCnt"), 2);
    cJSON_Delete(o);
    assert_int_equal(rec->probe_n, 2);
    assert_string_equal(rec->probe_first, "013900000004");
    snprintf(rec->probe, sizeof rec->probe, "nosuchgroup");
    /* every registered device (and svc_group_members of no group is NULL) */
    task_new("{\"taskName\":\"t3\",\"taskType\":\"DeviceCmd\",\"timeout\":600,\"param\":{\"type\":\"All\"," CMD "}}",
             id, sizeof id);
    o = task_until(id, "COMPLETE");
    assert_int_equal(num(o, "totalCnt"), 9);
    assert_int_equal(num(o, "successCnt"), 7);
    cJSON_Delete(o);
    assert_int_equal(rec->probe_n, -1);
    /* refusals */
    refused("POST", TASKS, "{\"taskType\":\"DeviceCmd\",\"timeout\":600,\"param\":{}}", 400, NE_BAD_REQUEST,
            "taskName: missing");
    refused("POST", TASKS, "{\"taskName\":\"x\",\"taskType\":\"Upgrade\",\"timeout\":600,\"param\":{}}", 400,
            NE_BAD_REQUEST, "taskType:");
    refused("POST", TASKS, "{\"taskName\":\"x\",\"taskType\":\"DeviceCmd\",\"timeout\":5,\"param\":{}}", 400,
            NE_BAD_REQUEST, "timeout: missing, or not a whole number 10..172800");
    refused("POST", TASKS, "{\"taskName\":\"x\",\"taskType\":\"DeviceCmd\",\"timeout\":600}", 400, NE_BAD_REQUEST,
            "param: missing");
    refused("POST", TASKS, "{\"taskName\":\"x\",\"taskType\":\"DeviceCmd\",\"timeout\":600,\"param\":{\"type\":\"Some\"}}",
            400, NE_BAD_REQUEST, "param.type: not DeviceList, GroupList, TagList or All");
    refused("POST", TASKS, "{\"taskName\":\"x\",\"taskType\":\"DeviceCmd\",\"timeout\":600,\"param\":{" CMD "}}", 400,
            NE_BAD_REQUEST, "param.type: missing");
    refused("POST", TASKS,
            "{\"taskName\":\"x\",\"taskType\":\"DeviceCmd\",\"timeout\":600,\"param\":{\"deviceList\":[\"013900000001\","
            "\"019999999999\"]," CMD "}}", 400, NE_BAD_REQUEST, "param.deviceList[1]: no device 019999999999");
    refused("POST", TASKS,
            "{\"taskName\":\"x\",\"taskType\":\"DeviceCmd\",\"timeout\":600,\"param\":{\"deviceList\":[\"013900000001\","
            "\"013900000001\"]," CMD "}}", 400, NE_BAD_REQUEST, "param.deviceList: 013900000001 is listed twice");
    refused("POST", TASKS,
            "{\"taskName\":\"x\",\"taskType\":\"DeviceCmd\",\"timeout\":600,\"param\":{\"groupList\":[\"nogroup\"]," CMD
            "}}", 400, NE_BAD_REQUEST, "param.groupList[0]: the application has no group nogroup");
    refused("POST", TASKS,
            "{\"taskName\":\"x\",\"taskType\":\"DeviceCmd\",\"timeout\":600,\"param\":{\"deviceList\":[\"013900000001\"]}}",
            400, NE_BAD_REQUEST, "param.command: missing");
    refused("POST", TASKS,
            "{\"taskName\":\"x\",\"taskType\":\"DeviceCmd\",\"timeout\":600,\"param\":{\"deviceList\":[\"013900000001\"],"
            "\"command\":{\"method\":\"q\"}}}", 400, NE_BAD_REQUEST, "param.command.serviceId");
    refused("POST", TASKS,
            "{\"taskName\":\"x\",\"taskType\":\"DeviceCmd\",\"timeout\":600,\"param\":{\"deviceList\":[\"013900000001\"],"
            CMD ",\"maxRetransmit\":4}}", 400, NE_BAD_REQUEST, "param.maxRetransmit: not a whole number 0..3");
    refused("POST", TASKS,
            "{\"taskName\":\"x\",\"taskType\":\"DeviceCmd\",\"timeout\":600,\"param\":{\"deviceList\":[\"013900000001\"],"
            CMD ",\"expireTime\":-1}}", 400, NE_BAD_REQUEST, "param.expireTime");
    group_new("{\"name\":\"empty\"}", gid, sizeof gid);
    snprintf(body, sizeof body,
             "{\"taskName\":\"x\",\"taskType\":\"DeviceCmd\",\"timeout\":600,\"param\":{\"groupList\":[\"%s\"]," CMD "}}",
             gid);
    refused("POST", TASKS, body, 400, NE_BAD_REQUEST, "param.groupList: the task names no device");
    refused("GET", TASKS "/nosuchtask", NULL, 404, NE_NOT_FOUND, "taskId: the application has no batch task nosuchtask");
    refused("GET", DETAILS, NULL, 400, NE_BAD_REQUEST, "taskId: missing");
    refused("GET", DETAILS "?taskId=nosuchtask", NULL, 404, NE_NOT_FOUND, "nosuchtask");
    snprintf(path, sizeof path, DETAILS "?taskId=%s&status=DONE", id);
    refused("GET", path, NULL, 400, NE_BAD_REQUEST, "status: 'DONE' is not WAITING");
    assert_int_equal(rec->calls, 14); /* no refused task submitted anything */
    cf_fe_close(&e);
    assert_int_equal(cf_stop(&f), 0);
}

/* 2,000 devices: a slice per loop turn, the API answering meanwhile; a SIGKILL
 * mid-task, and the restarted core goes on with what was not committed. */
static void test_task_slices_and_kill(void **state)
{
    (void)state;
    rec->mode = 2;
    rec->kill_at = 700;
    cf_start(&f);
    struct cf_fe e;
    cf_fe_open(&f, &e, "jt808", 0);
    register_many(&e, 14000000000, 2000);
    cf_fe_close(&e);
    cf_login(&f);
    char id[64];
    task_new("{\"taskName\":\"big\",\"taskType\":\"DeviceCmd\",\"timeout\":600,\"param\":{\"type\":\"All\"," CMD "}}",
             id, sizeof id);
    for (int i = 0; i < 500 && rec->calls < 700; i++) /* the core kills itself at the 700th submit */
        usleep(10000);
    cf_kill(&f);
    assert_int_equal(rec->calls, 700);
    assert_true(rec->max_per_turn <= SVC_GROUP_TASK_SLICE);
    assert_true(rec->turns >= 700 / SVC_GROUP_TASK_SLICE);
    rec->kill_at = 0;
    cf_start(&f);
    cf_login(&f);
    cJSON *o = task_until(id, "COMPLETE");
    assert_int_equal(num(o, "totalCnt"), 2000);
    /* ...09, ...19, ... are refused (200 of them); ...03, ...13, ... end FAIL (200) */
    assert_int_equal(num(o, "successCnt"), 1600);
    assert_int_equal(num(o, "failCnt"), 400);
    assert_int_equal(num(o, "waitingCnt"), 0);
    cJSON_Delete(o);
    /* the slice the kill cut short was submitted again, nothing committed was: the
     * devices made twice are the last calls before the kill, at most a slice of them */
    int again = rec->calls - 2000;
    assert_true(again >= 1 && again <= SVC_GROUP_TASK_SLICE);
    for (int i = 0; i < 700; i++) {
        int seen = 0;
        for (int j = 700; j < rec->calls; j++)
            seen += strcmp(rec->devices[i], rec->devices[j]) == 0;
        if (seen != (i >= 700 - again))
            fail_msg("call %d (%s): made %d times after the restart", i, rec->devices[i], seen);
    }
    assert_true(rec->max_per_turn <= SVC_GROUP_TASK_SLICE);
    assert_true(rec->turns >= 2000 / SVC_GROUP_TASK_SLICE);
    assert_int_equal(cf_stop(&f), 0);
}

/* Commands that never end: RUNNING with their counts across a SIGKILL, then the
 * deadline (timeout at a time scale of 100). */
static void test_task_timeout(void **state)
{
    (void)state;
    rec->mode = 0;
    clock_init(100);
    cf_start(&f);
    struct cf_fe e;
    cf_fe_open(&f, &e, "jt808", 0);
    register_many(&e, 14100000001, 9);
    cf_fe_close(&e);
    cf_login(&f);
    char id[64];
    task_new("{\"taskName\":\"slow\",\"taskType\":\"DeviceCmd\",\"timeout\":100,\"param\":{\"deviceList\":"
             "[\"014100000001\",\"014100000002\",\"014100000009\"]," CMD "}}", id, sizeof id);
    cJSON *o = task_until(id, "RUNNING");
    for (int i = 0; i < 100 && num(o, "failCnt") < 1; i++) {
        cJSON_Delete(o);
        usleep(10000);
        o = task_until(id, "RUNNING");
    }
    assert_int_equal(num(o, "failCnt"), 1);
    assert_int_equal(num(o, "completeCnt"), 1);
    cJSON_Delete(o);
    cf_kill(&f);
    cf_start(&f);
    cf_login(&f);
    char path[160];
    snprintf(path, sizeof path, DETAILS "?taskId=%s&status=SENT", id);
    assert_int_equal(cf_call(&f, "GET", path, NULL, &o), 200);
    assert_int_equal(num(o, "totalCount"), 2);
    cJSON_Delete(o);
    o = task_until(id, "TIMEOUT"); /* 100 s at 100x: 1 s */
    assert_int_equal(num(o, "totalCnt"), 3);
    assert_int_equal(num(o, "failCnt"), 1);
    cJSON_Delete(o);
    assert_int_equal(rec->calls, 3);
    /* a command that ends after the deadline is still counted; the task stays TIMEOUT */
    assert_int_equal(cf_stop(&f), 0);
    clock_init(1);
}

/* --- tags --------------------------------------------------------------------------------- */

#define TAGS "/iocm/app/devgroup/v1.3.0/tags"

static void test_tags(void **state)
{
    (void)state;
    rec->mode = 1;
    cf_start(&f);
    struct cf_fe e;
    cf_fe_open(&f, &e, "jt808", 0);
    register_many(&e, 13700000001, 4);
    cf_login(&f);
    cJSON *o = NULL;
    char water[64], north[64], path[200];
    assert_int_equal(cf_call(&f, "POST", TAGS, "{\"name\":\"water\",\"description\":\"meters\"}", &o), 200);
    snprintf(water, sizeof water, "%s", cf_str(o, "id"));
    assert_string_equal(cf_str(o, "name"), "water");
    assert_int_equal(num(o, "devNum"), 0);
    cJSON_Delete(o);
    assert_int_equal(cf_call(&f, "POST", TAGS, "{\"name\":\"north\"}", &o), 200);
    snprintf(north, sizeof north, "%s", cf_str(o, "id"));
    cJSON_Delete(o);
    refused("POST", TAGS, "{\"name\":\"water\"}", 409, NE_CONFLICT, "name: the application has a tag named water");
    refused("POST", TAGS, "{}", 400, NE_BAD_REQUEST, "name: missing");
    /* a device carries any number of tags, unlike groups */
    snprintf(path, sizeof path, TAGS "/%s/addDevices", water);
    assert_int_equal(cf_call(&f, "POST", path, "{\"deviceIds\":[\"013700000001\",\"013700000002\",\"013700000003\"]}", &o),
                     200);
    assert_int_equal(num(o, "devNum"), 3);
    cJSON_Delete(o);
    refused("POST", path, "{\"deviceIds\":[\"013799999999\"]}", 400, NE_BAD_REQUEST, "deviceIds[0]: no device 013799999999");
    snprintf(path, sizeof path, TAGS "/%s/addDevices", north);
    assert_int_equal(cf_call(&f, "POST", path, "{\"deviceIds\":[\"013700000002\",\"013700000004\"]}", &o), 200);
    cJSON_Delete(o);
    assert_int_equal(cf_call(&f, "GET", "/iocm/app/devgroup/v1.3.0/deviceTags/013700000002", NULL, &o), 200);
    assert_int_equal(cJSON_GetArraySize(arr(o, "tags")), 2);
    assert_string_equal(cf_str(arr(o, "tags")->child, "name"), "north");
    cJSON_Delete(o);
    refused("GET", "/iocm/app/devgroup/v1.3.0/deviceTags/013799999999", NULL, 404, NE_NOT_FOUND, "no device");
    /* the devices of a tag, paged */
    snprintf(path, sizeof path, TAGS "/%s/devices?pageSize=2&pageNo=1", water);
    assert_int_equal(cf_call(&f, "GET", path, NULL, &o), 200);
    assert_int_equal(num(o, "totalCount"), 3);
    assert_int_equal(cJSON_GetArraySize(arr(o, "deviceIds")), 1);
    assert_string_equal(arr(o, "deviceIds")->child->valuestring, "013700000003");
    cJSON_Delete(o);
    assert_int_equal(cf_call(&f, "GET", TAGS "?name=water", NULL, &o), 200);
    assert_int_equal(num(o, "totalCount"), 1);
    assert_int_equal(num(arr(o, "list")->child, "devNum"), 3);
    cJSON_Delete(o);
    /* a batch task over tags: each device once, though it carries both */
    char body[512], id[64];
    snprintf(body, sizeof body,
             "{\"taskName\":\"t\",\"taskType\":\"DeviceCmd\",\"timeout\":600,\"param\":{\"tagList\":[\"%s\",\"%s\"]," CMD
             "}}", water, north);
    task_new(body, id, sizeof id);
    o = task_until(id, "COMPLETE");
    assert_int_equal(num(o, "totalCnt"), 4);
    assert_int_equal(num(o, "successCnt"), 3); /* ...03 ends FAIL */
    cJSON_Delete(o);
    refused("POST", TASKS,
            "{\"taskName\":\"t\",\"taskType\":\"DeviceCmd\",\"timeout\":600,\"param\":{\"tagList\":[\"notag\"]," CMD "}}",
            400, NE_BAD_REQUEST, "param.tagList[0]: the application has no tag notag");
    /* untag, a deleted device carries none, a deleted tag is on no device */
    snprintf(path, sizeof path, TAGS "/%s/deleteDevices", water);
    refused("POST", path, "{\"deviceIds\":[\"013700000004\"]}", 400, NE_BAD_REQUEST,
            "deviceIds[0]: 013700000004 does not carry the tag");
    assert_int_equal(cf_call(&f, "POST", path, "{\"deviceIds\":[\"013700000001\"]}", &o), 200);
    assert_int_equal(num(o, "devNum"), 2);
    cJSON_Delete(o);
    assert_int_equal(bus_unregister(&e.out, "013700000002"), 0);
    cf_fe_sync(&e);
    snprintf(path, sizeof path, TAGS "/%s/devices", north);
    assert_int_equal(cf_call(&f, "GET", path, NULL, &o), 200);
    assert_int_equal(num(o, "totalCount"), 1);
    cJSON_Delete(o);
    snprintf(path, sizeof path, TAGS "/%s", water);
    assert_int_equal(cf_call(&f, "DELETE", path, NULL, &o), 204);
    cJSON_Delete(o);
    refused("DELETE", path, NULL, 404, NE_NOT_FOUND, "tagId: the application has no tag");
    assert_int_equal(cf_call(&f, "GET", "/iocm/app/devgroup/v1.3.0/deviceTags/013700000003", NULL, &o), 200);
    assert_int_equal(cJSON_GetArraySize(arr(o, "tags")), 0);
    cJSON_Delete(o);
    cf_fe_close(&e);
    cf_kill(&f); /* committed before answered */
    cf_start(&f);
    cf_login(&f);
    assert_int_equal(cf_call(&f, "GET", TAGS, NULL, &o), 200);
    assert_int_equal(num(o, "totalCount"), 1);
    assert_int_equal(num(arr(o, "list")->child, "devNum"), 1);
    cJSON_Delete(o);
    assert_int_equal(cf_stop(&f), 0);
}

/* The history's CPU cost: FLEETSIM_HIST_BENCH=SECONDS sends 10,000 devices' reports
 * each second (FLEETSIM_HIST_BENCH_RATE times a second) for that long, with the history kept and without, and prints the
 * core's CPU time of each (docs/api.md, Groups quotes it).  Skipped otherwise. */
static long core_cpu_ms(pid_t pid)
{
    char p[64], buf[1024];
    snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
    FILE *fp = fopen(p, "r");
    if (!fp)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = 0;
    char *q = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    if (!q || sscanf(q + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (long)((ut + st) * 1000 / (unsigned long)sysconf(_SC_CLK_TCK));
}

static void test_history_cost(void **state)
{
    (void)state;
    const char *env = getenv("FLEETSIM_HIST_BENCH");
    if (!env) {
        skip();
        return;
    }
    int secs = atoi(env) > 0 ? atoi(env) : 10;
    const char *r = getenv("FLEETSIM_HIST_BENCH_RATE"); /* reports per device per second */
    int rate = r && atoi(r) > 0 ? atoi(r) : 1;
    long cost[2];
    for (int run = 0; run < 2; run++) {
        /* FLEETSIM_HIST_BENCH_KEEP below the seconds: the rings are full, values replace */
        const char *keep = getenv("FLEETSIM_HIST_BENCH_KEEP");
        svc_group_hist_keep = run == 0 ? 0 : keep && atoi(keep) > 0 ? atoi(keep) : SVC_GROUP_HIST_KEEP;
        cf_start(&f);
        struct cf_fe e;
        cf_fe_open(&f, &e, "jt808", 0);
        register_many(&e, 15000000000, 10000);
        cf_fe_sync(&e);
        usleep(500000);
        long before = core_cpu_ms(f.pid);
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (int s = 0; s < secs * rate; s++) {
            for (int i = 0; i < 10000; i++) {
                char id[24];
                snprintf(id, sizeof id, "%012ld", 15000000000L + i);
                assert_int_equal(bus_report(&e.out, (uint64_t)(T0 + s * 1000 / rate), id, "location",
                                            "{\"lat\":39895696,\"lon\":116394538,\"speed\":12,\"alarm\":0}"), 0);
                if (i % 200 == 199)
                    cf_fe_send(&e);
            }
            cf_fe_sync(&e);
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            long ahead = (long)(s + 1) * 1000000 / rate -
                         ((now.tv_sec - t0.tv_sec) * 1000000 + (now.tv_nsec - t0.tv_nsec) / 1000);
            if (ahead > 0)
                usleep((useconds_t)ahead);
        }
        /* the blocks still open are written once SVC_GROUP_HIST_BLOCK_S old: wait for them */
        usleep((useconds_t)((SVC_GROUP_HIST_BLOCK_S + 1) * 1e6));
        cost[run] = core_cpu_ms(f.pid) - before;
        cf_fe_close(&e);
        assert_int_equal(cf_stop(&f), 0);
        scratch_remove(f.dir);
        assert_int_equal(scratch_make(argv0, "test_svc_group", f.dir, sizeof f.dir), 0);
        snprintf(f.db, sizeof f.db, "%s/p.db", f.dir);
        snprintf(f.cfg.db, sizeof f.cfg.db, "%s", f.db);
    }
    printf("history cost: 10,000 devices x %d report/s for %d s, keep %d: core CPU %ld ms without history, %ld ms "
           "with (%.1f ms per second, %.2f us per report)\n",
           rate, secs, svc_group_hist_keep, cost[0], cost[1], (double)(cost[1] - cost[0]) / secs,
           (double)(cost[1] - cost[0]) * 1000.0 / ((double)secs * rate * 10000.0));
}

/* FLEETSIM_TASK_BENCH=1: a task over 10,000 devices: how long its creation holds the
 * API (its rows written in the call) and how long its commands take to be made, a
 * slice per loop turn (the recorder's submits).  Skipped otherwise. */
static void test_task_cost(void **state)
{
    (void)state;
    if (!getenv("FLEETSIM_TASK_BENCH")) {
        skip();
        return;
    }
    rec->mode = 2;
    cf_start(&f);
    struct cf_fe e;
    cf_fe_open(&f, &e, "jt808", 0);
    register_many(&e, 16000000000, 10000);
    cf_fe_close(&e);
    cf_login(&f);
    char id[64];
    struct timespec t0, t1, t2;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    task_new("{\"taskName\":\"all\",\"taskType\":\"DeviceCmd\",\"timeout\":600,\"param\":{\"type\":\"All\"," CMD "}}",
             id, sizeof id);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    /* an API call while the commands are being made */
    cJSON *o = NULL;
    struct timespec a0, a1;
    clock_gettime(CLOCK_MONOTONIC, &a0);
    assert_int_equal(cf_call(&f, "GET", G, NULL, &o), 200);
    clock_gettime(CLOCK_MONOTONIC, &a1);
    cJSON_Delete(o);
    int seen_during = rec->calls;
    o = task_until(id, "COMPLETE");
    clock_gettime(CLOCK_MONOTONIC, &t2);
    assert_int_equal(num(o, "totalCnt"), 10000);
    cJSON_Delete(o);
    double ms = 1e3;
    printf("task cost: 10,000 devices: created in %.1f ms, a call meanwhile answered in %.1f ms (after %d submits), "
           "all made and ended in %.1f ms, at most %d submits a loop turn over %u turns\n",
           (double)(t1.tv_sec - t0.tv_sec) * ms + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6,
           (double)(a1.tv_sec - a0.tv_sec) * ms + (double)(a1.tv_nsec - a0.tv_nsec) / 1e6, seen_during,
           (double)(t2.tv_sec - t1.tv_sec) * ms + (double)(t2.tv_nsec - t1.tv_nsec) / 1e6, rec->max_per_turn,
           rec->turns);
    assert_int_equal(cf_stop(&f), 0);
}

int main(int argc, char **argv)
{
    (void)argc;
    argv0 = argv[0];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_groups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history, setup, teardown),
        cmocka_unit_test_setup_teardown(test_history_off, setup, teardown),
        cmocka_unit_test_setup_teardown(test_task_list_and_groups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_task_slices_and_kill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_task_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tags, setup, teardown),
    };
    /* the measurements run only when asked for (a skipped test would count as not ok) */
    const struct CMUnitTest benches[] = {
        cmocka_unit_test_setup_teardown(test_history_cost, setup, teardown),
        cmocka_unit_test_setup_teardown(test_task_cost, setup, teardown),
    };
    if (getenv("FLEETSIM_HIST_BENCH") || getenv("FLEETSIM_TASK_BENCH"))
        return cmocka_run_group_tests(benches, NULL, NULL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
