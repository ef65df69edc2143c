/* The commands service (svc_cmd*.c) through the API and the bus: a forked core
 * (core_fixture.h), fake front-ends that take CMD_BEGIN / CMD_TO and answer with
 * CMD_RESULT.  "jt808" devices are long-connection ones mapped by the real JT/T 808
 * mapping; "lwm2m" devices are short-connection ones, mapped by this test's own
 * (kind 7, the paras as the body).  Every transition of cmd_fsm.h's diagram, the
 * queries and their paging and filters, cancelling, cancel tasks, retransmission
 * and the ack deadline on the virtual clock, expiry, a restart on the same file. */
#include "tests/unit/core_fixture.h"

#include "sim/core/clock.h"
#include "sim/platform/core/cmd_fsm.h"
#include "sim/platform/core/svc_cmd.h"
#include "sim/platform/jt808/jt808_gw.h"
#include "sim/proto/jt808_kinds.h"

#define CMDS "/iocm/app/cmd/v1.4.0/deviceCommands"
#define CTASKS "/iocm/app/cmd/v1.4.0/deviceCommandCancelTasks"
#define JT "13800000001"
#define NB "nb-0001"

static const char *argv0 = "";
static struct cf f;

static int lwm2m_map(const char *service_id, const char *method, const cJSON *paras, uint32_t *kind, char **body,
                     char *err, size_t errcap)
{
    (void)service_id;
    if (strcmp(method, "BAD") == 0) {
        snprintf(err, errcap, "command.method: BAD is refused by the test's mapping");
        return -1;
    }
    *kind = 7;
    *body = paras ? cJSON_PrintUnformatted(paras) : NULL;
    return 0;
}

static int stash_n;      /* commands read ahead (below) */
static size_t cur_len;

static int setup(void **state)
{
    (void)state;
    clock_init(1.0);
    stash_n = 0;
    cur_len = 0;
    cf_init(&f, argv0, "test_svc_cmd");
    f.cfg.maps[0] = (struct core_map){"jt808", jt808_gw_map_command};
    f.cfg.maps[1] = (struct core_map){"lwm2m", lwm2m_map};
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    clock_init(1.0);
    return cf_fini(&f);
}

/* --- helpers ------------------------------------------------------------------------------ */

/* A command sent to the front-end: its task, kind, settle time and body. */
struct sent {
    uint32_t task, kind, handle;
    uint64_t settle_us;
    char body[512], id[STORE_ID_MAX + 1];
};

/* Commands read while waiting for something else (a sync reply), in order. */
static struct sent stash[16];
static int stash_n;
static struct sent cur;
static size_t cur_len;

/* One record of a command's records (CMD_BODY parts, CMD_BEGIN, CMD_TO, CMD_END):
 * true when r ended one (into cur). */
static bool take(const struct bus_rec *r)
{
    switch (r->type) {
    case BUS_CMD_BODY:
        if (cur_len == 0)
            memset(&cur, 0, sizeof cur);
        if (cur_len + r->s[0].n < sizeof cur.body) {
            memcpy(cur.body + cur_len, r->s[0].p, r->s[0].n);
            cur_len += r->s[0].n;
        }
        return false;
    case BUS_CMD_BEGIN:
        if (cur_len == 0)
            memset(&cur, 0, sizeof cur);
        cur.task = r->token;
        cur.kind = r->kind;
        cur.settle_us = r->u64;
        return false;
    case BUS_CMD_TO: {
        assert_int_equal(r->token, cur.task);
        assert_int_equal(r->n, 1);
        struct bus_targets it;
        struct bus_str id;
        bus_targets_init(&it, r);
        assert_true(bus_targets_next(&it, &cur.handle, &id));
        assert_true(bus_str_copy(id, cur.id, sizeof cur.id));
        return false;
    }
    case BUS_CMD_END:
        assert_int_equal(r->token, cur.task);
        cur_len = 0;
        return true;
    default:
        return false;
    }
}

/* The next command the core sends e. */
static void expect_sent(struct cf_fe *e, struct sent *s)
{
    if (stash_n) {
        *s = stash[0];
        memmove(stash, stash + 1, (size_t)--stash_n * sizeof *stash);
        return;
    }
    struct bus_rec r;
    for (int i = 0; i < 10000; i++) {
        cf_fe_next(e, &r);
        if (take(&r)) {
            *s = cur;
            return;
        }
    }
    fail_msg("no command");
}

/* Nothing of a command comes within ms. */
static void expect_nothing_sent(struct cf_fe *e, int ms)
{
    struct bus_rec r;
    if (stash_n)
        fail_msg("a command was sent (task %u)", stash[0].task);
    while (cf_fe_poll(e, &r, ms))
        if (r.type == BUS_CMD_BEGIN || r.type == BUS_CMD_TO)
            fail_msg("a command was sent (task %u)", r.token);
}

/* Everything sent before is handled (a sync answered); commands meanwhile stashed. */
static void sync_keep(struct cf_fe *e)
{
    struct bus_rec r;
    uint32_t t = e->token++;
    assert_int_equal(bus_sync(&e->out, t), 0);
    cf_fe_send(e);
    for (int i = 0; i < 100000; i++) {
        cf_fe_next(e, &r);
        if (r.type == BUS_SYNC_REPLY && r.token == t)
            return;
        if (take(&r)) {
            assert_true(stash_n < 16);
            stash[stash_n++] = cur;
        }
    }
    fail_msg("no sync reply");
}

static void answer(struct cf_fe *e, uint32_t task, const char *id, enum store_cmd_state st)
{
    assert_int_equal(bus_cmd_result(&e->out, task, (uint8_t)st, id), 0);
    cf_fe_send(e);
    sync_keep(e);
}

static void go_offline(struct cf_fe *e, uint32_t handle, const char *id)
{
    assert_int_equal(bus_offline(&e->out, handle, id), 0);
    cf_fe_send(e);
    sync_keep(e);
}

/* POST a command: the status, the answer in *out; its commandId into id. */
static long create(const char *body, cJSON **out, char *id, size_t cap)
{
    long st = cf_call(&f, "POST", CMDS, body, out);
    const char *c = cf_str(*out, "commandId");
    if (st >= 300)
        print_message("POST %s: %ld %s\n", body, st, cf_str(*out, "error_desc"));
    if (id)
        snprintf(id, cap, "%s", c ? c : "");
    return st;
}

/* The command of this id as GET deviceCommands shows it (the caller deletes it). */
static cJSON *get_cmd(const char *device, const char *id)
{
    cJSON *o = NULL;
    char path[300];
    snprintf(path, sizeof path, CMDS "?deviceId=%s&pageSize=1000", device);
    assert_int_equal(cf_call(&f, "GET", path, NULL, &o), 200);
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(o, "data"))
    {
        const char *cid = cf_str(c, "commandId");
        if (cid && strcmp(cid, id) == 0) {
            cJSON *d = cJSON_Duplicate(c, 1);
            cJSON_Delete(o);
            return d;
        }
    }
    cJSON_Delete(o);
    fail_msg("command %s of %s not in the query", id, device);
    return NULL;
}

/* "SENT -> SUCCESSFUL" of a command's transitions. */
static void path_of(const cJSON *c, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(c, "transitions"))
    {
        o += (size_t)snprintf(out + o, cap - o, "%s%s", o ? " -> " : "", cf_str(t, "status"));
        assert_non_null(cf_str(t, "time"));
    }
}

static void expect_cmd(const char *device, const char *id, const char *status, const char *path)
{
    cJSON *c = get_cmd(device, id);
    char p[200];
    path_of(c, p, sizeof p);
    if (strcmp(cf_str(c, "status"), status) != 0 || strcmp(p, path) != 0)
        fail_msg("command %s: %s (%s), expected %s (%s)", id, cf_str(c, "status"), p, status, path);
    assert_string_equal(cf_str(c, "result.resultCode"), status);
    cJSON_Delete(c);
}

/* Wait (at most ms) for a command to reach status. */
static void wait_status(const char *device, const char *id, const char *status, int ms)
{
    for (int waited = 0;; waited += 20) {
        cJSON *c = get_cmd(device, id);
        bool there = strcmp(cf_str(c, "status"), status) == 0;
        char now[32];
        snprintf(now, sizeof now, "%s", cf_str(c, "status"));
        cJSON_Delete(c);
        if (there)
            return;
        if (waited >= ms)
            fail_msg("command %s is %s after %d ms, not %s", id, now, ms, status);
        usleep(20000);
    }
}

static void expect_error(const char *method, const char *path, const char *body, long want, const char *field)
{
    cJSON *o = NULL;
    long st = cf_call(&f, method, path, body, &o);
    const char *d = cf_str(o, "error_desc");
    if (st != want || !d || strncmp(d, field, strlen(field)) != 0)
        fail_msg("expected %ld naming %s, got %ld: %s", want, field, st, d ? d : "(none)");
    cJSON_Delete(o);
}

/* --- the tests ----------------------------------------------------------------------------- */

static void test_immediate_sent_successful(void **state)
{
    (void)state;
    cf_start(&f);
    struct cf_fe e;
    cf_fe_open(&f, &e, "jt808", 0);
    cf_fe_online(&e, JT, 7);
    cf_fe_sync(&e);
    cf_login(&f);
    cJSON *o;
    char id[64];
    assert_int_equal(create("{\"deviceId\":\"" JT "\",\"command\":{\"serviceId\":\"Params\",\"method\":\"0x8104\"},"
                            "\"expireTime\":0}", &o, id, sizeof id), 201);
    assert_string_equal(cf_str(o, "status"), "SENT");
    assert_string_equal(cf_str(o, "appId"), "app");
    assert_string_equal(cf_str(o, "command.serviceId"), "Params");
    assert_int_equal(strlen(id), 32);
    assert_non_null(cf_str(o, "platformIssuedTime"));
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(o, "issuedTimes")->valueint, 1);
    cJSON_Delete(o);
    struct sent s;
    expect_sent(&e, &s);
    assert_int_equal(s.kind, (uint32_t)jt808_kind_index(0x8104));
    assert_int_equal(s.handle, 7);
    assert_string_equal(s.id, JT);
    assert_true(s.settle_us == (uint64_t)CMD_ACK_TIMEOUT_MS * 1000u);
    expect_cmd(JT, id, "SENT", "SENT");
    /* another device's result for the task is nothing of it */
    answer(&e, s.task, "13800000002", STORE_CMD_SUCCESSFUL);
    expect_cmd(JT, id, "SENT", "SENT");
    answer(&e, s.task, JT, STORE_CMD_SUCCESSFUL);
    expect_cmd(JT, id, "SUCCESSFUL", "SENT -> SUCCESSFUL");
    cJSON *c = get_cmd(JT, id);
    assert_non_null(cf_str(c, "executeTime"));
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(c, "deliveredTime")));
    cJSON_Delete(c);
    /* by name, with a body: 0x8103 set parameters */
    assert_int_equal(create("{\"deviceId\":\"" JT "\",\"command\":{\"serviceId\":\"Params\",\"method\":\"SET_PARAMS\","
                            "\"paras\":{\"params\":[{\"id\":\"0x0029\",\"len\":4,\"value\":60}]}},\"expireTime\":0}",
                            &o, id, sizeof id), 201);
    cJSON_Delete(o);
    expect_sent(&e, &s);
    assert_int_equal(s.kind, (uint32_t)jt808_kind_index(0x8103));
    assert_non_null(strstr(s.body, "\"0x0029\""));
    answer(&e, s.task, JT, STORE_CMD_FAIL);
    expect_cmd(JT, id, "FAIL", "SENT -> FAIL");
    c = get_cmd(JT, id);
    assert_non_null(cf_str(c, "result.resultDetail"));
    cJSON_Delete(c);
    cf_fe_close(&e);
}

static void test_delivered_then_answered(void **state)
{
    (void)state;
    cf_start(&f);
    struct cf_fe e;
    cf_fe_open(&f, &e, "jt808", 0);
    cf_fe_online(&e, JT, 7);
    cf_login(&f);
    cJSON *o;
    char id[64], id2[64];
    struct sent s;
    assert_int_equal(create("{\"deviceId\":\"" JT "\",\"command\":{\"serviceId\":\"Up\",\"method\":\"UPGRADE\","
                            "\"paras\":{\"type\":0,\"manufacturer\":\"ABCDE\",\"version\":\"1.0\",\"package_len\":8}},"
                            "\"expireTime\":0}", &o, id, sizeof id), 201);
    cJSON_Delete(o);
    expect_sent(&e, &s);
    answer(&e, s.task, JT, STORE_CMD_DELIVERED);
    expect_cmd(JT, id, "DELIVERED", "SENT -> DELIVERED");
    answer(&e, s.task, JT, STORE_CMD_SUCCESSFUL);
    expect_cmd(JT, id, "SUCCESSFUL", "SENT -> DELIVERED -> SUCCESSFUL");
    cJSON *c = get_cmd(JT, id);
    assert_non_null(cf_str(c, "deliveredTime"));
    cJSON_Delete(c);
    assert_int_equal(create("{\"deviceId\":\"" JT "\",\"command\":{\"serviceId\":\"P\",\"method\":\"0x8104\"},"
                            "\"expireTime\":0}", &o, id2, sizeof id2), 201);
    cJSON_Delete(o);
    expect_sent(&e, &s);
    answer(&e, s.task, JT, STORE_CMD_DELIVERED);
    answer(&e, s.task, JT, STORE_CMD_FAIL);
    expect_cmd(JT, id2, "FAIL", "SENT -> DELIVERED -> FAIL");
    cf_fe_close(&e);
}

static void test_offline_fails(void **state)
{
    (void)state;
    cf_start(&f);
    struct cf_fe e;
    cf_fe_open(&f, &e, "jt808", 0);
    cf_fe_online(&e, JT, 7);
    go_offline(&e, 7, JT);
    cf_login(&f);
    cJSON *o;
    char id[64];
    /* offline: FAIL at once, nothing sent */
    assert_int_equal(create("{\"deviceId\":\"" JT "\",\"command\":{\"serviceId\":\"P\",\"method\":\"0x8104\"},"
                            "\"expireTime\":0}", &o, id, sizeof id), 201);
    assert_string_equal(cf_str(o, "status"), "FAIL");
    assert_non_null(strstr(cf_str(o, "result.resultDetail"), "offline"));
    cJSON_Delete(o);
    expect_nothing_sent(&e, 100);
    expect_cmd(JT, id, "FAIL", "FAIL");
    /* online again; in flight when it goes: FAIL */
    cf_fe_online(&e, JT, 8);
    assert_int_equal(create("{\"deviceId\":\"" JT "\",\"command\":{\"serviceId\":\"P\",\"method\":\"0x8201\"}}", &o, id,
                            sizeof id), 201);
    assert_string_equal(cf_str(o, "status"), "SENT");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(o, "expireTime")->valueint, 0); /* long connection: 0 */
    cJSON_Delete(o);
    struct sent s;
    expect_sent(&e, &s);
    assert_int_equal(s.handle, 8);
    go_offline(&e, 8, JT);
    expect_cmd(JT, id, "FAIL", "SENT -> FAIL");
    cJSON *c = get_cmd(JT, id);
    assert_non_null(strstr(cf_str(c, "result.resultDetail"), "went offline"));
    cJSON_Delete(c);
    /* the front-end's own FAIL of it after finds nothing */
    answer(&e, s.task, JT, STORE_CMD_FAIL);
    expect_cmd(JT, id, "FAIL", "SENT -> FAIL");
    cf_fe_close(&e);
}

static void test_bad_requests(void **state)
{
    (void)state;
    cf_start(&f);
    struct cf_fe e;
    cf_fe_open(&f, &e, "jt808", 0);
    cf_fe_online(&e, JT, 7);
    cf_login(&f);
    cJSON *o;
#define BAD(body, st, field) expect_error("POST", CMDS, body, st, field)
    BAD("[1]", 400, "body");
    BAD("{\"command\":{\"serviceId\":\"P\",\"method\":\"0x8104\"}}", 400, "deviceId");
    BAD("{\"deviceId\":7,\"command\":{\"serviceId\":\"P\",\"method\":\"0x8104\"}}", 400, "deviceId");
    BAD("{\"deviceId\":\"" JT "\"}", 400, "command");
    BAD("{\"deviceId\":\"" JT "\",\"command\":{\"method\":\"0x8104\"}}", 400, "command.serviceId");
    BAD("{\"deviceId\":\"" JT "\",\"command\":{\"serviceId\":\"P\"}}", 400, "command.method");
    BAD("{\"deviceId\":\"" JT "\",\"command\":{\"serviceId\":\"P\",\"method\":\"0x9999\"}}", 400, "command.method");
    BAD("{\"deviceId\":\"" JT "\",\"command\":{\"serviceId\":\"P\",\"method\":\"NOPE\"}}", 400, "command.method");
    BAD("{\"deviceId\":\"" JT "\",\"command\":{\"serviceId\":\"P\",\"method\":\"0x8104\",\"paras\":[1]}}", 400,
        "command.paras");
    BAD("{\"deviceId\":\"" JT "\",\"command\":{\"serviceId\":\"P\",\"method\":\"0x8103\",\"paras\":{\"params\":\"x\"}}}",
        400, "command.paras");
    BAD("{\"deviceId\":\"" JT "\",\"command\":{\"serviceId\":\"P\",\"method\":\"0x8104\"},\"expireTime\":-1}", 400,
        "expireTime");
    BAD("{\"deviceId\":\"" JT "\",\"command\":{\"serviceId\":\"P\",\"method\":\"0x8104\"},\"expireTime\":1.5}", 400,
        "expireTime");
    BAD("{\"deviceId\":\"" JT "\",\"command\":{\"serviceId\":\"P\",\"method\":\"0x8104\"},\"maxRetransmit\":4}", 400,
        "maxRetransmit");
    BAD("{\"deviceId\":\"" JT "\",\"command\":{\"serviceId\":\"P\",\"method\":\"0x8104\"},\"callbackUrl\":\"ftp://x\"}",
        400, "callbackUrl");
    /* a cached command to a long-connection device */
    BAD("{\"deviceId\":\"" JT "\",\"command\":{\"serviceId\":\"P\",\"method\":\"0x8104\"},\"expireTime\":60}", 400,
        "expireTime");
    BAD("{\"deviceId\":\"139\",\"command\":{\"serviceId\":\"P\",\"method\":\"0x8104\"}}", 404, "deviceId");
#undef BAD
    /* nothing of them was sent or kept */
    expect_nothing_sent(&e, 100);
    assert_int_equal(cf_call(&f, "GET", CMDS, NULL, &o), 200);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "pagination"), "totalSize")
                         ->valueint, 0);
    cJSON_Delete(o);
    cf_fe_close(&e);
}

static void test_retransmit_and_timeout(void **state)
{
    (void)state;
    clock_init(500.0); /* 180 s in 0.36 s */
    cf_start(&f);
    struct cf_fe e;
    cf_fe_open(&f, &e, "jt808", 0);
    cf_fe_online(&e, JT, 7);
    cf_login(&f);
    cJSON *o;
    char id[64], id2[64];
    struct sent s1, s2, s3;
    assert_int_equal(create("{\"deviceId\":\"" JT "\",\"command\":{\"serviceId\":\"P\",\"method\":\"0x8104\"},"
                            "\"expireTime\":0,\"maxRetransmit\":1}", &o, id, sizeof id), 201);
    cJSON_Delete(o);
    expect_sent(&e, &s1);
    /* the front-end's TIMEOUT: sent again, a new task */
    answer(&e, s1.task, JT, STORE_CMD_TIMEOUT);
    expect_sent(&e, &s2);
    assert_true(s2.task != s1.task);
    cJSON *c = get_cmd(JT, id);
    assert_string_equal(cf_str(c, "status"), "SENT");
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(c, "issuedTimes")->valueint, 2);
    cJSON_Delete(c);
    /* a late answer of the first sending is nothing now */
    answer(&e, s1.task, JT, STORE_CMD_SUCCESSFUL);
    expect_cmd(JT, id, "SENT", "SENT");
    answer(&e, s2.task, JT, STORE_CMD_TIMEOUT);
    expect_cmd(JT, id, "TIMEOUT", "SENT -> TIMEOUT");
    expect_nothing_sent(&e, 50);
    /* unanswered, no front-end TIMEOUT: the core's own ack deadline */
    assert_int_equal(create("{\"deviceId\":\"" JT "\",\"command\":{\"serviceId\":\"P\",\"method\":\"0x8104\"},"
                            "\"expireTime\":0,\"maxRetransmit\":1}", &o, id2, sizeof id2), 201);
    cJSON_Delete(o);
    expect_sent(&e, &s3);
    expect_sent(&e, &s2); /* again after 180 s (0.36 s) */
    assert_true(s2.task != s3.task);
    wait_status(JT, id2, "TIMEOUT", 3000);
    c = get_cmd(JT, id2);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(c, "issuedTimes")->valueint, 2);
    assert_non_null(strstr(cf_str(c, "result.resultDetail"), "no acknowledgement"));
    cJSON_Delete(c);
    cf_fe_close(&e);
}

/* An lwm2m device (short-connection) registered and then offline. */
static void nb_registered_offline(struct cf_fe *e, uint32_t handle)
{
    cf_fe_online(e, NB, handle);
    go_offline(e, handle, NB);
}

static long create_nb(const char *paras, int expire, cJSON **o, char *id, size_t cap)
{
    char body[600];
    snprintf(body, sizeof body,
             "{\"deviceId\":\"" NB "\",\"command\":{\"serviceId\":\"Meter\",\"method\":\"SET\",\"paras\":%s},"
             "\"expireTime\":%d,\"callbackUrl\":\"http://127.0.0.1:1/cb\"}", paras, expire);
    return create(body, o, id, cap);
}

static void test_cached_in_order(void **state)
{
    (void)state;
    cf_start(&f);
    struct cf_fe e;
    cf_fe_open(&f, &e, "lwm2m", 0);
    nb_registered_offline(&e, 3);
    cf_login(&f);
    cJSON *o;
    char a[64], b[64], c2[64];
    assert_int_equal(create_nb("{\"n\":1}", 3600, &o, a, sizeof a), 201);
    assert_string_equal(cf_str(o, "status"), "PENDING");
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "platformIssuedTime")));
    cJSON_Delete(o);
    assert_int_equal(create_nb("{\"n\":2}", 3600, &o, b, sizeof b), 201);
    cJSON_Delete(o);
    /* expireTime absent: 48 h */
    assert_int_equal(cf_call(&f, "POST", CMDS, "{\"deviceId\":\"" NB "\",\"command\":{\"serviceId\":\"Meter\","
                                               "\"method\":\"SET\",\"paras\":{\"n\":3}}}", &o), 201);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(o, "expireTime")->valueint, 48 * 3600);
    snprintf(c2, sizeof c2, "%s", cf_str(o, "commandId"));
    cJSON_Delete(o);
    expect_nothing_sent(&e, 100);
    /* the mapping's refusal names its field */
    expect_error("POST", CMDS, "{\"deviceId\":\"" NB "\",\"command\":{\"serviceId\":\"M\",\"method\":\"BAD\"}}",
                 400, "command.method");
    /* online: the first, alone */
    cf_fe_online(&e, NB, 4);
    struct sent s;
    expect_sent(&e, &s);
    assert_int_equal(s.kind, 7);
    assert_int_equal(s.handle, 4);
    assert_string_equal(s.body, "{\"n\":1}");
    expect_nothing_sent(&e, 100);
    expect_cmd(NB, b, "PENDING", "PENDING");
    answer(&e, s.task, NB, STORE_CMD_DELIVERED);
    /* DELIVERED no longer holds the next */
    expect_sent(&e, &s);
    assert_string_equal(s.body, "{\"n\":2}");
    answer(&e, s.task, NB, STORE_CMD_SUCCESSFUL);
    expect_cmd(NB, a, "DELIVERED", "PENDING -> SENT -> DELIVERED");
    expect_cmd(NB, b, "SUCCESSFUL", "PENDING -> SENT -> SUCCESSFUL");
    expect_sent(&e, &s);
    assert_string_equal(s.body, "{\"n\":3}");
    answer(&e, s.task, NB, STORE_CMD_SUCCESSFUL);
    expect_cmd(NB, c2, "SUCCESSFUL", "PENDING -> SENT -> SUCCESSFUL");
    /* online now: a new cached one goes at once */
    assert_int_equal(create_nb("{\"n\":4}", 60, &o, a, sizeof a), 201);
    assert_string_equal(cf_str(o, "status"), "SENT");
    cJSON_Delete(o);
    expect_sent(&e, &s);
    assert_string_equal(s.body, "{\"n\":4}");
    /* a cached one in flight is not failed by the device going: the front-end says */
    go_offline(&e, 4, NB);
    expect_cmd(NB, a, "SENT", "PENDING -> SENT");
    answer(&e, s.task, NB, STORE_CMD_FAIL);
    expect_cmd(NB, a, "FAIL", "PENDING -> SENT -> FAIL");
    cf_fe_close(&e);
}

static void test_cancel(void **state)
{
    (void)state;
    cf_start(&f);
    struct cf_fe e;
    cf_fe_open(&f, &e, "lwm2m", 0);
    nb_registered_offline(&e, 3);
    cf_login(&f);
    cJSON *o;
    char a[64], b[64], path[200];
    assert_int_equal(create_nb("{\"n\":1}", 3600, &o, a, sizeof a), 201);
    cJSON_Delete(o);
    assert_int_equal(create_nb("{\"n\":2}", 3600, &o, b, sizeof b), 201);
    cJSON_Delete(o);
    snprintf(path, sizeof path, CMDS "/%s", a);
    expect_error("PUT", path, "{\"status\":\"SENT\"}", 400, "status");
    expect_error("PUT", path, "{}", 400, "status");
    assert_int_equal(cf_call(&f, "PUT", path, "{\"status\":\"CANCELED\"}", &o), 200);
    assert_string_equal(cf_str(o, "status"), "CANCELED");
    cJSON_Delete(o);
    expect_cmd(NB, a, "CANCELED", "PENDING -> CANCELED");
    /* again: 409 saying its state */
    assert_int_equal(cf_call(&f, "PUT", path, "{\"status\":\"CANCELED\"}", &o), 409);
    assert_string_equal(cf_str(o, "error_code"), "100007");
    assert_non_null(strstr(cf_str(o, "error_desc"), "CANCELED"));
    cJSON_Delete(o);
    expect_error("PUT", CMDS "/0123456789abcdef0123456789abcdef", "{\"status\":\"CANCELED\"}", 404,
                 "deviceCommandId");
    /* the cancelled one is not sent; the other is */
    cf_fe_online(&e, NB, 4);
    struct sent s;
    expect_sent(&e, &s);
    assert_string_equal(s.body, "{\"n\":2}");
    /* a SENT one cannot be cancelled */
    snprintf(path, sizeof path, CMDS "/%s", b);
    assert_int_equal(cf_call(&f, "PUT", path, "{\"status\":\"CANCELED\"}", &o), 409);
    assert_non_null(strstr(cf_str(o, "error_desc"), "SENT"));
    cJSON_Delete(o);
    cf_fe_close(&e);
}

static void test_cancel_tasks(void **state)
{
    (void)state;
    cf_start(&f);
    struct cf_fe e;
    cf_fe_open(&f, &e, "lwm2m", 0);
    nb_registered_offline(&e, 3);
    cf_login(&f);
    cJSON *o;
    char id[64];
    for (int i = 0; i < 3; i++) {
        assert_int_equal(create_nb("{\"n\":1}", 3600, &o, id, sizeof id), 201);
        cJSON_Delete(o);
    }
    expect_error("POST", CTASKS, "{}", 400, "deviceId");
    expect_error("POST", CTASKS, "{\"deviceId\":\"nope\"}", 404, "deviceId");
    assert_int_equal(cf_call(&f, "POST", CTASKS, "{\"deviceId\":\"" NB "\"}", &o), 201);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(o, "totalCount")->valueint, 3);
    assert_string_equal(cf_str(o, "deviceId"), NB);
    char task[64];
    snprintf(task, sizeof task, "%s", cf_str(o, "taskId"));
    const cJSON *c;
    int n = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(o, "deviceCommands"))
    {
        assert_string_equal(cf_str(c, "status"), "CANCELED");
        n++;
    }
    assert_int_equal(n, 3);
    cJSON_Delete(o);
    /* nothing left to cancel: a task of 0 */
    assert_int_equal(cf_call(&f, "POST", CTASKS, "{\"deviceId\":\"" NB "\"}", &o), 201);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(o, "totalCount")->valueint, 0);
    cJSON_Delete(o);
    char path[200];
    snprintf(path, sizeof path, CTASKS "?taskId=%s", task);
    assert_int_equal(cf_call(&f, "GET", path, NULL, &o), 200);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "pagination"), "totalSize")
                         ->valueint, 1);
    c = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "data"), 0);
    assert_string_equal(cf_str(c, "taskId"), task);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(c, "deviceCommands")), 3);
    cJSON_Delete(o);
    assert_int_equal(cf_call(&f, "GET", CTASKS "?deviceId=" NB, NULL, &o), 200);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "pagination"), "totalSize")
                         ->valueint, 2);
    cJSON_Delete(o);
    assert_int_equal(cf_call(&f, "GET", CTASKS "?deviceId=other", NULL, &o), 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "data")), 0);
    cJSON_Delete(o);
    expect_error("GET", CTASKS "?pageSize=0", NULL, 400, "pageSize");
    /* online: nothing is sent */
    cf_fe_online(&e, NB, 4);
    expect_nothing_sent(&e, 150);
    cf_fe_close(&e);
}

static void test_expired(void **state)
{
    (void)state;
    clock_init(500.0);
    cf_start(&f);
    struct cf_fe e;
    cf_fe_open(&f, &e, "lwm2m", 0);
    nb_registered_offline(&e, 3);
    cf_login(&f);
    cJSON *o;
    char a[64], b[64];
    assert_int_equal(create_nb("{\"n\":1}", 60, &o, a, sizeof a), 201); /* 60 s: 0.12 s */
    cJSON_Delete(o);
    assert_int_equal(create_nb("{\"n\":2}", 3600, &o, b, sizeof b), 201);
    cJSON_Delete(o);
    wait_status(NB, a, "EXPIRED", 3000);
    expect_cmd(NB, a, "EXPIRED", "PENDING -> EXPIRED");
    expect_cmd(NB, b, "PENDING", "PENDING");
    cf_fe_online(&e, NB, 4);
    struct sent s;
    expect_sent(&e, &s);
    assert_string_equal(s.body, "{\"n\":2}");
    cf_fe_close(&e);
}

static long total_of(const char *query)
{
    cJSON *o;
    char path[300];
    snprintf(path, sizeof path, CMDS "%s", query);
    assert_int_equal(cf_call(&f, "GET", path, NULL, &o), 200);
    long n = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "pagination"), "totalSize")->valueint;
    cJSON_Delete(o);
    return n;
}

static int page_len(const char *query)
{
    cJSON *o;
    char path[300];
    snprintf(path, sizeof path, CMDS "%s", query);
    assert_int_equal(cf_call(&f, "GET", path, NULL, &o), 200);
    int n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "data"));
    cJSON_Delete(o);
    return n;
}

static void test_query_paging_filters(void **state)
{
    (void)state;
    cf_start(&f);
    struct cf_fe e, e2;
    cf_fe_open(&f, &e, "jt808", 0);
    cf_fe_open(&f, &e2, "lwm2m", 1);
    cf_fe_online(&e, JT, 7);
    go_offline(&e, 7, JT);
    nb_registered_offline(&e2, 3);
    cf_login(&f);
    cJSON *o;
    char id[64], first[64] = "";
    for (int i = 0; i < 5; i++) {
        assert_int_equal(create("{\"deviceId\":\"" JT "\",\"command\":{\"serviceId\":\"P\",\"method\":\"0x8104\"}}", &o,
                                id, sizeof id), 201);
        if (!first[0])
            snprintf(first, sizeof first, "%s", id);
        cJSON_Delete(o);
    }
    for (int i = 0; i < 2; i++) {
        assert_int_equal(create_nb("{\"n\":1}", 3600, &o, id, sizeof id), 201);
        cJSON_Delete(o);
    }
    assert_int_equal(total_of(""), 7);
    assert_int_equal(page_len(""), 7);
    assert_int_equal(page_len("?pageSize=2"), 2);
    assert_int_equal(page_len("?pageNo=3&pageSize=2"), 1);
    assert_int_equal(page_len("?pageNo=4&pageSize=2"), 0);
    assert_int_equal(total_of("?pageNo=4&pageSize=2"), 7);
    assert_int_equal(total_of("?deviceId=" NB), 2);
    assert_int_equal(total_of("?deviceId=" JT "&status=FAIL"), 5);
    assert_int_equal(total_of("?status=PENDING"), 2);
    assert_int_equal(total_of("?status=SUCCESSFUL"), 0);
    assert_int_equal(total_of("?startTime=20990101T000000Z"), 0);
    assert_int_equal(total_of("?endTime=19700102T000000Z"), 0);
    assert_int_equal(total_of("?startTime=19700102T000000Z&endTime=20990101T000000Z"), 7);
    /* in creation order */
    assert_int_equal(cf_call(&f, "GET", CMDS "?pageSize=1", NULL, &o), 200);
    assert_string_equal(cf_str(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "data"), 0), "commandId"), first);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "pagination"), "pageSize")
                         ->valueint, 1);
    cJSON_Delete(o);
    expect_error("GET", CMDS "?pageSize=0", NULL, 400, "pageSize");
    expect_error("GET", CMDS "?pageSize=1001", NULL, 400, "pageSize");
    expect_error("GET", CMDS "?pageNo=-1", NULL, 400, "pageNo");
    expect_error("GET", CMDS "?pageNo=x", NULL, 400, "pageNo");
    expect_error("GET", CMDS "?status=DONE", NULL, 400, "status");
    expect_error("GET", CMDS "?startTime=2020-01-01", NULL, 400, "startTime");
    expect_error("GET", CMDS "?endTime=20201301T000000Z", NULL, 400, "endTime");
    cf_fe_close(&e);
    cf_fe_close(&e2);
}

static void test_restart_keeps_pending(void **state)
{
    (void)state;
    cf_start(&f);
    struct cf_fe e;
    cf_fe_open(&f, &e, "lwm2m", 0);
    nb_registered_offline(&e, 3);
    cf_login(&f);
    cJSON *o;
    char a[64], b[64];
    assert_int_equal(create_nb("{\"n\":1}", 3600, &o, a, sizeof a), 201);
    cJSON_Delete(o);
    assert_int_equal(create_nb("{\"n\":2}", 3600, &o, b, sizeof b), 201);
    cJSON_Delete(o);
    cf_fe_close(&e);
    cf_kill(&f);
    cf_start(&f);
    cf_login(&f);
    expect_cmd(NB, a, "PENDING", "PENDING");
    cJSON *c = get_cmd(NB, a);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(c, "expireTime")->valueint, 3600);
    cJSON_Delete(c);
    cf_fe_open(&f, &e, "lwm2m", 0);
    cf_fe_online(&e, NB, 5);
    struct sent s;
    expect_sent(&e, &s);
    assert_string_equal(s.body, "{\"n\":1}");
    answer(&e, s.task, NB, STORE_CMD_SUCCESSFUL);
    expect_cmd(NB, a, "SUCCESSFUL", "PENDING -> SENT -> SUCCESSFUL");
    expect_sent(&e, &s);
    assert_string_equal(s.body, "{\"n\":2}");
    /* a cancel after the restart */
    cf_fe_close(&e);
}

static void test_restart_sent_times_out(void **state)
{
    (void)state;
    clock_init(500.0);
    cf_start(&f);
    struct cf_fe e;
    cf_fe_open(&f, &e, "jt808", 0);
    cf_fe_online(&e, JT, 7);
    cf_login(&f);
    cJSON *o;
    char id[64];
    assert_int_equal(create("{\"deviceId\":\"" JT "\",\"command\":{\"serviceId\":\"P\",\"method\":\"0x8104\"},"
                            "\"expireTime\":0}", &o, id, sizeof id), 201);
    cJSON_Delete(o);
    struct sent s;
    expect_sent(&e, &s);
    cf_fe_close(&e);
    cf_kill(&f);
    cf_start(&f);
    cf_login(&f);
    /* its answer went to the old core: the ack deadline, kept, ends it */
    wait_status(JT, id, "TIMEOUT", 3000);
    expect_cmd(JT, id, "TIMEOUT", "SENT -> TIMEOUT");
}

static void test_deleted_device(void **state)
{
    (void)state;
    cf_start(&f);
    struct cf_fe e;
    cf_fe_open(&f, &e, "lwm2m", 0);
    cf_fe_online(&e, NB, 3);
    cf_login(&f);
    cJSON *o;
    char a[64], b[64];
    assert_int_equal(create_nb("{\"n\":1}", 3600, &o, a, sizeof a), 201);
    cJSON_Delete(o);
    assert_int_equal(create_nb("{\"n\":2}", 3600, &o, b, sizeof b), 201);
    cJSON_Delete(o);
    struct sent s;
    expect_sent(&e, &s);
    expect_cmd(NB, a, "SENT", "PENDING -> SENT");
    assert_int_equal(bus_unregister(&e.out, NB), 0);
    cf_fe_send(&e);
    sync_keep(&e);
    expect_cmd(NB, a, "FAIL", "PENDING -> SENT -> FAIL");
    expect_cmd(NB, b, "CANCELED", "PENDING -> CANCELED");
    cJSON *c = get_cmd(NB, b);
    assert_string_equal(cf_str(c, "result.resultDetail"), "the device was deleted");
    cJSON_Delete(c);
    expect_nothing_sent(&e, 100);
    cf_fe_close(&e);
}

static void test_parse_time(void **state)
{
    (void)state;
    int64_t ms = 0;
    assert_true(scmd_parse_time("20200430T235959Z", &ms));
    assert_true(ms == 1588291199000ll);
    assert_true(scmd_parse_time("19700101T000000Z", &ms));
    assert_true(ms == 0);
    const char *bad[] = {"20200431T000000Z", "20201301T000000Z", "20200101T000060Z", "20200101T240000Z",
                         "20200101 000000Z", "20200101T000000", "2020-01-01", "", "20200101T00000aZ",
                         "19691231T235959Z", "20200101T000000Z0"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (scmd_parse_time(bad[i], &ms))
            fail_msg("'%s' taken as a time", bad[i]);
}

static void test_jt808_mapping(void **state)
{
    (void)state;
    uint32_t kind = 0;
    char *body = NULL, err[300];
    assert_int_equal(jt808_gw_map_command("x", "0x8104", NULL, &kind, &body, err, sizeof err), 0);
    assert_int_equal(kind, (uint32_t)jt808_kind_index(0x8104));
    assert_null(body);
    assert_int_equal(jt808_gw_map_command("x", "query_location", NULL, &kind, &body, err, sizeof err), 0);
    assert_int_equal(kind, (uint32_t)jt808_kind_index(0x8201));
    cJSON *p = cJSON_Parse("{\"flag\":1,\"text\":\"hello\"}");
    assert_int_equal(jt808_gw_map_command("x", "TEXT_MESSAGE", p, &kind, &body, err, sizeof err), 0);
    assert_int_equal(kind, (uint32_t)jt808_kind_index(0x8300));
    assert_string_equal(body, "{\"flag\":1,\"text\":\"hello\"}");
    free(body);
    body = NULL;
    cJSON_Delete(p);
    assert_int_equal(jt808_gw_map_command("x", "0x8003", NULL, &kind, &body, err, sizeof err), -1);
    assert_true(strncmp(err, "command.method", 14) == 0);
    assert_int_equal(jt808_gw_map_command("x", "0x81", NULL, &kind, &body, err, sizeof err), -1);
    p = cJSON_Parse("{\"params\":[{\"id\":\"nope\"}]}");
    assert_int_equal(jt808_gw_map_command("x", "SET_PARAMS", p, &kind, &body, err, sizeof err), -1);
    assert_true(strncmp(err, "command.paras", 13) == 0);
    cJSON_Delete(p);
    /* 2019 only: LINK_CHECK (0x8204) maps */
    assert_int_equal(jt808_gw_map_command("x", "LINK_CHECK", NULL, &kind, &body, err, sizeof err), 0);
}

int main(int argc, char **argv)
{
    (void)argc;
    argv0 = argv[0];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jt808_mapping),
        cmocka_unit_test(test_parse_time),
        cmocka_unit_test_setup_teardown(test_immediate_sent_successful, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delivered_then_answered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_offline_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retransmit_and_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cached_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_tasks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expired, setup, teardown),
        cmocka_unit_test_setup_teardown(test_query_paging_filters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_keeps_pending, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_sent_times_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deleted_device, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
