/* The shadow service (svc_shadow.c, svc_shadow_task.c) in a forked core with its
 * API (core_fixture.h): PUT and GET of a shadow and their errors, what a device
 * reports becoming reported (by the model's names), the delta, the product model
 * of a registration, the sync (at once when online, else when it comes online or
 * reports; changes made meanwhile merged into one command; a failure retried at
 * the next report), configuration update tasks, a SIGKILLed core that still
 * sends a desired change when the device comes online, and a deleted device's
 * shadow gone with it.
 *
 * The commands service is replaced by a recorder (svc_shadow_submit): it keeps
 * every command the shadow submits in memory shared with the test, and ends one
 * (svc_shadow_cmd_done) when the test asks, from the core's loop. */
#include "tests/unit/core_fixture.h"

#include <ev.h>

#include "sim/core/clock.h"
#include "sim/platform/core/core_internal.h"
#include "sim/platform/core/shadow.h"
#include "sim/platform/core/svc_shadow.h"
#include "sim/proto/pcodec.h"

static const char *argv0 = "";
static struct cf f;

#define SHADOW "/iocm/app/shadow/v1.5.0/devices/"

/* --- the recorder ------------------------------------------------------------------------ */

struct rec_cmd {
    char dev[STORE_ID_MAX + 1], service[64], method[32], origin[32], cmd[48];
    char paras[2048];
};
struct rec {
    volatile int fail;                 /* submits answer 503 */
    volatile int n, n_failed;          /* submits taken, refused */
    struct rec_cmd c[64];
    volatile int ask, done;            /* the test asks (ask++), the core's loop answers (done = ask) */
    int end_idx, end_state;
};
static struct rec *R;
static struct core *K;
static ev_timer poll_t;

static void poll_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop, (void)w, (void)revents;
    if (R->done == R->ask)
        return;
    const struct rec_cmd *c = &R->c[R->end_idx];
    svc_shadow_cmd_done(K, c->origin, c->dev, c->cmd, R->end_state);
    core_batch_end(K);
    __sync_synchronize();
    R->done = R->ask;
}

static int recorder(struct core *k, const struct svc_cmd_req *rq, char *command_id, size_t cap, int *state, int *http,
                    char *err, size_t errcap)
{
    if (!K) {
        K = k;
        ev_timer_init(&poll_t, poll_cb, 0.002, 0.002);
        ev_timer_start(k->loop, &poll_t);
    }
    if (R->fail) {
        R->n_failed++;
        *http = 503;
        snprintf(err, errcap, "the recorder refuses");
        return -1;
    }
    int i = R->n;
    if (i >= 64) {
        *http = 500;
        snprintf(err, errcap, "the recorder is full");
        return -1;
    }
    struct rec_cmd *c = &R->c[i];
    snprintf(c->dev, sizeof c->dev, "%s", rq->device_id);
    snprintf(c->service, sizeof c->service, "%s", rq->service_id);
    snprintf(c->method, sizeof c->method, "%s", rq->method);
    snprintf(c->origin, sizeof c->origin, "%s", rq->origin);
    char *p = rq->paras ? cJSON_PrintUnformatted(rq->paras) : NULL;
    snprintf(c->paras, sizeof c->paras, "%s", p ? p : "");
    free(p);
    snprintf(c->cmd, sizeof c->cmd, "cmd-%d", i);
    snprintf(command_id, cap, "%s", c->cmd);
    *state = STORE_CMD_SENT;
    __sync_synchronize();
    R->n = i + 1;
    return 0;
}

/* Wait (2 s at most) until the recorder took n commands. */
static void wait_n(int n)
{
    for (int i = 0; i < 1000 && R->n < n; i++)
        usleep(2000);
    assert_int_equal(R->n, n);
}

/* Command i ends in state, and the core has handled it. */
static void end_cmd(int i, int state)
{
    R->end_idx = i;
    R->end_state = state;
    __sync_synchronize();
    R->ask++;
    for (int t = 0; t < 1000 && R->done != R->ask; t++)
        usleep(2000);
    assert_int_equal(R->done, R->ask);
}

/* --- helpers ------------------------------------------------------------------------------- */

static struct pc_product *water;

static int setup(void **state)
{
    (void)state;
    cf_init(&f, argv0, "test_svc_shadow");
    memset(R, 0, sizeof *R);
    svc_shadow_submit = recorder;
    static const struct pc_product *models[1];
    models[0] = water;
    f.cfg.products = models;
    f.cfg.n_products = 1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return cf_fini(&f);
}

/* Register id with product on e and authenticate it on handle. */
static void online_with(struct cf_fe *e, const char *id, const char *product, uint32_t handle)
{
    char name[96], secret[STORE_SECRET_MAX + 1];
    struct bus_rec r;
    snprintf(name, sizeof name, "N_%s", id);
    uint32_t t = e->token++;
    assert_int_equal(bus_register(&e->out, t, 0, id, name, "", product, NULL), 0);
    cf_fe_send(e);
    cf_fe_expect(e, BUS_REG_REPLY, &r);
    assert_int_equal(r.u8, STORE_REG_OK);
    assert_true(bus_str_copy(r.s[0], secret, sizeof secret));
    t = e->token++;
    assert_int_equal(bus_auth(&e->out, t, handle, id, secret), 0);
    cf_fe_send(e);
    cf_fe_expect(e, BUS_AUTH_REPLY, &r);
    assert_int_equal(r.u8, 1);
}

static void offline(struct cf_fe *e, const char *id, uint32_t handle)
{
    assert_int_equal(bus_offline(&e->out, handle, id), 0);
    cf_fe_sync(e);
}

static void report(struct cf_fe *e, const char *id, const char *service, const char *data)
{
    assert_int_equal(bus_report(&e->out, 1700000000000ull, id, service, data), 0);
    cf_fe_sync(e);
}

static long put(const char *id, const char *body, cJSON **out)
{
    char path[200];
    snprintf(path, sizeof path, SHADOW "%s", id);
    return cf_call(&f, "PUT", path, body, out);
}

/* GET the shadow: 200 expected. */
static cJSON *get(const char *id)
{
    char path[200];
    snprintf(path, sizeof path, SHADOW "%s", id);
    cJSON *o = NULL;
    assert_int_equal(cf_call(&f, "GET", path, NULL, &o), 200);
    assert_non_null(o);
    return o;
}

/* A service of a GET answer. */
static const cJSON *service(const cJSON *sh, const char *id)
{
    const cJSON *s;
    cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(sh, "services"))
    if (strcmp(cf_str(s, "serviceId"), id) == 0)
        return s;
    fail_msg("no service %s", id);
    return NULL;
}

static double num(const cJSON *o, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, a), b);
    if (!cJSON_IsNumber(v))
        fail_msg("%s.%s is not a number", a, b);
    return v->valuedouble;
}

static bool has(const cJSON *o, const char *a, const char *b)
{
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, a), b) != NULL;
}

/* A refusal: its status, code, and an error_desc that starts with want_desc. */
static void refused(long want_status, const char *want_code, const char *want_desc, long status, cJSON **po)
{
    cJSON *o = *po; /* read here: after the call that filled it (an argument's order is unspecified) */
    *po = NULL;
    assert_int_equal(status, want_status);
    assert_string_equal(cf_str(o, "error_code"), want_code);
    const char *d = cf_str(o, "error_desc");
    assert_non_null(d);
    if (strncmp(d, want_desc, strlen(want_desc)) != 0)
        fail_msg("error_desc \"%s\", expected it to start with \"%s\"", d, want_desc);
    cJSON_Delete(o);
}

/* --- the tests ------------------------------------------------------------------------------- */

static void test_put_get_and_errors(void **state)
{
    (void)state;
    cf_start(&f);
    struct cf_fe e;
    cf_fe_open(&f, &e, "jt808", 0);
    cf_fe_online(&e, "13800000001", 7);
    cf_login(&f);
    cJSON *o = get("13800000001");
    assert_string_equal(cf_str(o, "deviceId"), "13800000001");
    assert_string_equal(cf_str(o, "gatewayId"), "13800000001");
    assert_string_equal(cf_str(o, "nodeType"), "ENDPOINT");
    assert_int_equal(strlen(cf_str(o, "createTime")), 16);
    assert_string_equal(cf_str(o, "deviceInfo.protocolType"), "JT808");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "services")), 2);
    const cJSON *p = service(o, "Parameters");
    assert_string_equal(cf_str(p, "serviceType"), "Parameters");
    assert_int_equal((int)cJSON_GetObjectItemCaseSensitive(p, "version")->valuedouble, 0);
    assert_null(cJSON_GetObjectItemCaseSensitive(p, "desiredProps")->child);
    cJSON_Delete(o);

    cJSON *a = NULL;
    assert_int_equal(put("13800000001", "{\"serviceDesireds\":[{\"serviceId\":\"Parameters\",\"desired\":"
                                        "{\"heartbeatInterval\":30,\"mainServerAddress\":\"10.0.0.1:7000\"}}]}", &a),
                     200);
    assert_null(a); /* 004 §9: no body */
    o = get("13800000001");
    p = service(o, "Parameters");
    assert_int_equal((int)num(p, "desiredProps", "heartbeatInterval"), 30);
    assert_string_equal(cf_str(p, "desiredProps.mainServerAddress"), "10.0.0.1:7000");
    assert_int_equal((int)num(p, "delta", "heartbeatInterval"), 30);
    assert_int_equal((int)cJSON_GetObjectItemCaseSensitive(p, "version")->valuedouble, 1);
    cJSON_Delete(o);

    /* every refusal names the member, and changes nothing */
    refused(400, NE_BAD_REQUEST, "serviceDesireds[0].serviceId: \"Nope\" is not a service",
            put("13800000001", "{\"serviceDesireds\":[{\"serviceId\":\"Nope\",\"desired\":{\"a\":1}}]}", &o), &o);
    refused(400, NE_BAD_REQUEST, "serviceDesireds[0].desired.lat: not writable",
            put("13800000001", "{\"serviceDesireds\":[{\"serviceId\":\"location\",\"desired\":{\"lat\":1}}]}", &o), &o);
    refused(400, NE_BAD_REQUEST, "serviceDesireds[1].desired.heartbeatInterval: 0 is outside its range",
            put("13800000001",
                "{\"serviceDesireds\":[{\"serviceId\":\"Parameters\",\"desired\":{\"maxSpeed\":90}},"
                "{\"serviceId\":\"Parameters\",\"desired\":{\"heartbeatInterval\":0}}]}",
                &o), &o);
    refused(400, NE_BAD_REQUEST, "serviceDesireds: missing", put("13800000001", "{}", &o), &o);
    refused(400, NE_BAD_REQUEST, "serviceDesireds[0].desired.reportStrategy",
            put("13800000001",
                "{\"serviceDesireds\":[{\"serviceId\":\"Parameters\",\"desired\":{\"reportStrategy\":7}}]}", &o), &o);
    refused(400, NE_BAD_REQUEST, "", put("13800000001", "{\"serviceDesireds\":", &o), &o);
    refused(404, NE_NOT_FOUND, "no device 13899999999 is registered",
            put("13899999999", "{\"serviceDesireds\":[{\"serviceId\":\"Parameters\",\"desired\":{\"maxSpeed\":9}}]}",
                &o), &o);
    assert_int_equal(cf_call(&f, "GET", SHADOW "13899999999", NULL, &o), 404);
    refused(404, NE_NOT_FOUND, "no device", 404, &o);
    o = get("13800000001");
    p = service(o, "Parameters");
    assert_false(has(p, "desiredProps", "maxSpeed")); /* all or nothing */
    assert_int_equal((int)cJSON_GetObjectItemCaseSensitive(p, "version")->valuedouble, 1);
    cJSON_Delete(o);
    cf_fe_close(&e);
}

static void test_reported_and_delta(void **state)
{
    (void)state;
    cf_start(&f);
    struct cf_fe e;
    cf_fe_open(&f, &e, "jt808", 0);
    cf_fe_online(&e, "13800000002", 7);
    cf_login(&f);
    report(&e, "13800000002", "location", "{\"lat\":39911507,\"lon\":116394421,\"speed\":453,\"time\":\"261205051926\"}");
    /* a 0x0104 answer as the gateway reports it: parameter ids as keys */
    report(&e, "13800000002", "Parameters", "{\"0x0001\":30,\"0x0055\":100,\"0xF001\":\"0a0b\"}");
    cJSON *o = get("13800000002");
    const cJSON *l = service(o, "location"), *p = service(o, "Parameters");
    assert_int_equal((int)num(l, "reportedProps", "lat"), 39911507);
    assert_string_equal(cf_str(l, "reportedProps.time"), "261205051926");
    assert_string_equal(cf_str(l, "eventTime"), "20231114T221320Z"); /* the report's own time */
    assert_int_equal((int)num(p, "reportedProps", "heartbeatInterval"), 30);
    assert_int_equal((int)num(p, "reportedProps", "maxSpeed"), 100);
    assert_false(has(p, "reportedProps", "0x0001"));
    assert_string_equal(cf_str(p, "reportedProps.0xF001"), "0a0b"); /* not in the model: as it came */
    cJSON_Delete(o);
    /* the delta: desired keys whose value is not the reported one */
    assert_int_equal(put("13800000002", "{\"serviceDesireds\":[{\"serviceId\":\"Parameters\",\"desired\":"
                                        "{\"heartbeatInterval\":30,\"maxSpeed\":120}}]}", NULL),
                     200);
    o = get("13800000002");
    p = service(o, "Parameters");
    assert_false(has(p, "delta", "heartbeatInterval"));
    assert_int_equal((int)num(p, "delta", "maxSpeed"), 120);
    cJSON_Delete(o);
    /* the device now reports what was desired: no delta left */
    report(&e, "13800000002", "Parameters", "{\"0x0055\":120}");
    o = get("13800000002");
    p = service(o, "Parameters");
    assert_null(cJSON_GetObjectItemCaseSensitive(p, "delta")->child);
    cJSON_Delete(o);
    cf_fe_close(&e);
}

static void test_product_of_registration(void **state)
{
    (void)state;
    cf_start(&f);
    struct cf_fe e;
    cf_fe_open(&f, &e, "lwm2m", 0);
    online_with(&e, "wm-1", "HZYB-WaterMeter-NBIoTDevice", 3);
    online_with(&e, "wm-2", "Unknown-Product", 4);
    cf_login(&f);
    cJSON *o = get("wm-1");
    assert_string_equal(cf_str(o, "deviceInfo.manufacturerName"), "HZYB");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "services")), 5);
    cJSON_Delete(o);
    assert_int_equal(put("wm-1", "{\"serviceDesireds\":[{\"serviceId\":\"DeliverySchedule\",\"desired\":"
                                 "{\"reportPeriod\":3600}}]}", NULL),
                     200);
    /* not JT/T 808: the properties by name, method setProperties */
    wait_n(1);
    assert_string_equal(R->c[0].method, "setProperties");
    assert_string_equal(R->c[0].service, "DeliverySchedule");
    assert_string_equal(R->c[0].paras, "{\"reportPeriod\":3600}");
    /* a product the platform does not know: no shadow */
    assert_int_equal(cf_call(&f, "GET", SHADOW "wm-2", NULL, &o), 404);
    refused(404, NE_NOT_FOUND, "device wm-2 has no shadow", 404, &o);
    cf_fe_close(&e);
}

static void test_sync_at_once_when_online(void **state)
{
    (void)state;
    cf_start(&f);
    struct cf_fe e;
    cf_fe_open(&f, &e, "jt808", 0);
    cf_fe_online(&e, "13800000003", 7);
    cf_login(&f);
    assert_int_equal(put("13800000003", "{\"serviceDesireds\":[{\"serviceId\":\"Parameters\",\"desired\":"
                                        "{\"heartbeatInterval\":30,\"licencePlate\":\"A12345\"}}]}", NULL),
                     200);
    wait_n(1); /* submitted before the PUT answered */
    assert_string_equal(R->c[0].dev, "13800000003");
    assert_string_equal(R->c[0].service, "Parameters");
    assert_string_equal(R->c[0].method, "0x8103");
    assert_string_equal(R->c[0].origin, "shadow");
    assert_string_equal(R->c[0].paras,
                        "{\"params\":[{\"id\":\"0x0001\",\"value\":30},{\"id\":\"0x0083\",\"value\":\"A12345\"}]}");
    /* the same again: nothing changed, nothing sent */
    assert_int_equal(put("13800000003", "{\"serviceDesireds\":[{\"serviceId\":\"Parameters\",\"desired\":"
                                        "{\"heartbeatInterval\":30}}]}", NULL),
                     200);
    /* a change while the first is on its way waits for it: merged, one command after */
    assert_int_equal(put("13800000003", "{\"serviceDesireds\":[{\"serviceId\":\"Parameters\",\"desired\":"
                                        "{\"maxSpeed\":80}}]}", NULL),
                     200);
    assert_int_equal(put("13800000003", "{\"serviceDesireds\":[{\"serviceId\":\"Parameters\",\"desired\":"
                                        "{\"maxSpeed\":90}}]}", NULL),
                     200);
    assert_int_equal(R->n, 1);
    end_cmd(0, STORE_CMD_SUCCESSFUL);
    wait_n(2);
    assert_string_equal(R->c[1].paras, "{\"params\":[{\"id\":\"0x0001\",\"value\":30},{\"id\":\"0x0083\",\"value\":"
                                       "\"A12345\"},{\"id\":\"0x0055\",\"value\":90}]}");
    end_cmd(1, STORE_CMD_SUCCESSFUL);
    /* synced: a report does not send it again */
    report(&e, "13800000003", "location", "{\"lat\":1}");
    assert_int_equal(R->n, 2);
    cJSON *o = get("13800000003");
    assert_int_equal((int)cJSON_GetObjectItemCaseSensitive(service(o, "Parameters"), "version")->valuedouble, 3);
    cJSON_Delete(o);
    cf_fe_close(&e);
}

static void test_sync_when_online_merged(void **state)
{
    (void)state;
    cf_start(&f);
    struct cf_fe e;
    cf_fe_open(&f, &e, "jt808", 0);
    cf_fe_online(&e, "13800000004", 7);
    offline(&e, "13800000004", 7);
    cf_login(&f);
    assert_int_equal(put("13800000004", "{\"serviceDesireds\":[{\"serviceId\":\"Parameters\",\"desired\":"
                                        "{\"heartbeatInterval\":30}}]}", NULL),
                     200);
    assert_int_equal(put("13800000004", "{\"serviceDesireds\":[{\"serviceId\":\"Parameters\",\"desired\":"
                                        "{\"maxSpeed\":80,\"heartbeatInterval\":45}}]}", NULL),
                     200);
    assert_int_equal(R->n, 0); /* offline: nothing sent */
    cf_fe_online(&e, "13800000004", 8);
    wait_n(1);
    /* one command with both changes, the later value of heartbeatInterval */
    assert_string_equal(R->c[0].paras,
                        "{\"params\":[{\"id\":\"0x0001\",\"value\":45},{\"id\":\"0x0055\",\"value\":80}]}");
    /* a failure is still pending: not sent again at once, but at the next report */
    end_cmd(0, STORE_CMD_TIMEOUT);
    assert_int_equal(R->n, 1);
    report(&e, "13800000004", "location", "{\"lat\":1}");
    wait_n(2);
    assert_string_equal(R->c[1].paras, R->c[0].paras);
    end_cmd(1, STORE_CMD_FAIL);
    /* ... or when it comes online again */
    offline(&e, "13800000004", 8);
    cf_fe_online(&e, "13800000004", 9);
    wait_n(3);
    end_cmd(2, STORE_CMD_SUCCESSFUL);
    report(&e, "13800000004", "location", "{\"lat\":2}");
    assert_int_equal(R->n, 3);
    cf_fe_close(&e);
}

static void test_submit_refused_stays_pending(void **state)
{
    (void)state;
    R->fail = 1;
    cf_start(&f);
    struct cf_fe e;
    cf_fe_open(&f, &e, "jt808", 0);
    cf_fe_online(&e, "13800000005", 7);
    cf_login(&f);
    assert_int_equal(put("13800000005", "{\"serviceDesireds\":[{\"serviceId\":\"Parameters\",\"desired\":"
                                        "{\"cornerAngle\":15}}]}", NULL),
                     200);
    assert_int_equal(R->n_failed, 1);
    R->fail = 0;
    report(&e, "13800000005", "location", "{\"lat\":1}");
    wait_n(1);
    assert_string_equal(R->c[0].paras, "{\"params\":[{\"id\":\"0x0030\",\"value\":15}]}");
    cf_fe_close(&e);
}

static void test_restart_after_kill(void **state)
{
    (void)state;
    cf_start(&f);
    struct cf_fe e;
    cf_fe_open(&f, &e, "jt808", 0);
    cf_fe_online(&e, "13800000006", 7);
    report(&e, "13800000006", "Parameters", "{\"0x0001\":20}");
    offline(&e, "13800000006", 7);
    cf_drain(&f); /* the report flushed, as the core does every 200 ms */
    cf_login(&f);
    assert_int_equal(put("13800000006", "{\"serviceDesireds\":[{\"serviceId\":\"Parameters\",\"desired\":"
                                        "{\"heartbeatInterval\":60}}]}", NULL),
                     200);
    cf_fe_close(&e);
    cf_kill(&f);
    assert_int_equal(R->n, 0);
    cf_start(&f);
    cf_login(&f);
    cJSON *o = get("13800000006");
    const cJSON *p = service(o, "Parameters");
    assert_int_equal((int)num(p, "desiredProps", "heartbeatInterval"), 60);
    assert_int_equal((int)num(p, "reportedProps", "heartbeatInterval"), 20);
    assert_int_equal((int)num(p, "delta", "heartbeatInterval"), 60);
    assert_int_equal((int)cJSON_GetObjectItemCaseSensitive(p, "version")->valuedouble, 1);
    cJSON_Delete(o);
    cf_fe_open(&f, &e, "jt808", 0);
    cf_fe_online(&e, "13800000006", 8);
    wait_n(1);
    assert_string_equal(R->c[0].paras, "{\"params\":[{\"id\":\"0x0001\",\"value\":60}]}");
    /* the command on its way survives a kill too: its end is still taken */
    cf_fe_close(&e);
    cf_kill(&f);
    cf_start(&f);
    cf_fe_open(&f, &e, "jt808", 0);
    cf_fe_online(&e, "13800000006", 9);
    assert_int_equal(R->n, 1); /* on its way: not sent twice */
    cf_fe_close(&e);
}

/* --- configuration update tasks ------------------------------------------------------------ */

#define TASKS(id) SHADOW id "/configTasks"

static const char *task_status(const char *dev, const char *task)
{
    static char st[32];
    char path[300];
    snprintf(path, sizeof path, SHADOW "%s/configTasks/%s", dev, task);
    cJSON *o = NULL;
    assert_int_equal(cf_call(&f, "GET", path, NULL, &o), 200);
    snprintf(st, sizeof st, "%s", cf_str(o, "status"));
    cJSON_Delete(o);
    return st;
}

static void test_config_tasks(void **state)
{
    (void)state;
    cf_start(&f);
    struct cf_fe e;
    cf_fe_open(&f, &e, "jt808", 0);
    cf_fe_online(&e, "13800000007", 7);
    cf_login(&f);
    cJSON *o = NULL;
    /* refusals name the member */
    refused(400, NE_BAD_REQUEST, "config.heartbeatInterval: 0 is outside its range",
            cf_call(&f, "POST", TASKS("13800000007"), "{\"serviceId\":\"Parameters\",\"config\":{\"heartbeatInterval\":0}}",
                    &o), &o);
    refused(400, NE_BAD_REQUEST, "serviceId: \"X\" is not a service",
            cf_call(&f, "POST", TASKS("13800000007"), "{\"serviceId\":\"X\",\"config\":{\"a\":1}}", &o), &o);
    refused(400, NE_BAD_REQUEST, "config: missing",
            cf_call(&f, "POST", TASKS("13800000007"), "{\"serviceId\":\"Parameters\"}", &o), &o);
    refused(400, NE_BAD_REQUEST, "executeType: expected",
            cf_call(&f, "POST", TASKS("13800000007"),
                    "{\"serviceId\":\"Parameters\",\"config\":{\"maxSpeed\":9},\"executeType\":\"LATER\"}", &o), &o);
    refused(400, NE_BAD_REQUEST, "executeTime: missing",
            cf_call(&f, "POST", TASKS("13800000007"),
                    "{\"serviceId\":\"Parameters\",\"config\":{\"maxSpeed\":9},\"executeType\":\"CUSTOM\"}", &o), &o);
    refused(400, NE_BAD_REQUEST, "executeTime: expected a UTC time",
            cf_call(&f, "POST", TASKS("13800000007"),
                    "{\"serviceId\":\"Parameters\",\"config\":{\"maxSpeed\":9},\"executeType\":\"CUSTOM\","
                    "\"executeTime\":\"20260431T000000Z\"}",
                    &o), &o);
    refused(400, NE_BAD_REQUEST, "retryTimes: expected an integer 0..10",
            cf_call(&f, "POST", TASKS("13800000007"),
                    "{\"serviceId\":\"Parameters\",\"config\":{\"maxSpeed\":9},\"retryTimes\":11}", &o), &o);
    refused(400, NE_BAD_REQUEST, "when: unknown member",
            cf_call(&f, "POST", TASKS("13800000007"), "{\"serviceId\":\"Parameters\",\"config\":{\"maxSpeed\":9},\"when\":1}",
                    &o), &o);
    assert_int_equal(R->n, 0);

    /* NOW, online: sent at once, origin config */
    assert_int_equal(cf_call(&f, "POST", TASKS("13800000007"),
                             "{\"serviceId\":\"Parameters\",\"config\":{\"heartbeatInterval\":25}}", &o),
                     201);
    char t1[40];
    snprintf(t1, sizeof t1, "%s", cf_str(o, "taskId"));
    assert_string_equal(cf_str(o, "status"), "SENT");
    assert_string_equal(cf_str(o, "commandId"), "cmd-0");
    assert_string_equal(cf_str(o, "executeType"), "NOW");
    cJSON_Delete(o);
    wait_n(1);
    assert_string_equal(R->c[0].origin, "config");
    end_cmd(0, STORE_CMD_SUCCESSFUL);
    assert_string_equal(task_status("13800000007", t1), "SUCCESSFUL");

    /* DEVICE_ONLINE, offline: two tasks merged into one command when it comes online */
    offline(&e, "13800000007", 7);
    char t2[40], t3[40];
    assert_int_equal(cf_call(&f, "POST", TASKS("13800000007"),
                             "{\"serviceId\":\"Parameters\",\"config\":{\"maxSpeed\":70,\"cornerAngle\":30},"
                             "\"executeType\":\"DEVICE_ONLINE\"}",
                             &o),
                     201);
    snprintf(t2, sizeof t2, "%s", cf_str(o, "taskId"));
    assert_string_equal(cf_str(o, "status"), "PENDING");
    cJSON_Delete(o);
    assert_int_equal(cf_call(&f, "POST", TASKS("13800000007"),
                             "{\"serviceId\":\"Parameters\",\"config\":{\"maxSpeed\":75},\"executeType\":\"DEVICE_ONLINE\"}",
                             &o),
                     201);
    snprintf(t3, sizeof t3, "%s", cf_str(o, "taskId"));
    cJSON_Delete(o);
    /* NOW while offline, no retry: failed, and nothing of it in the shadow */
    assert_int_equal(cf_call(&f, "POST", TASKS("13800000007"),
                             "{\"serviceId\":\"Parameters\",\"config\":{\"fenceRadius\":500}}", &o),
                     201);
    assert_string_equal(cf_str(o, "status"), "FAILED");
    assert_int_equal((int)cJSON_GetObjectItemCaseSensitive(o, "attempts")->valuedouble, 1);
    cJSON_Delete(o);
    assert_int_equal(R->n, 1);
    cf_fe_online(&e, "13800000007", 8);
    wait_n(2);
    assert_string_equal(R->c[1].origin, "config");
    assert_string_equal(R->c[1].paras, "{\"params\":[{\"id\":\"0x0001\",\"value\":25},{\"id\":\"0x0055\",\"value\":75},"
                                       "{\"id\":\"0x0030\",\"value\":30}]}");
    assert_string_equal(task_status("13800000007", t2), "SENT");
    end_cmd(1, STORE_CMD_SUCCESSFUL);
    assert_string_equal(task_status("13800000007", t2), "SUCCESSFUL");
    assert_string_equal(task_status("13800000007", t3), "SUCCESSFUL");
    assert_int_equal(cf_call(&f, "GET", TASKS("13800000007"), NULL, &o), 200);
    assert_int_equal((int)cJSON_GetObjectItemCaseSensitive(o, "totalCount")->valuedouble, 4);
    cJSON_Delete(o);
    assert_int_equal(cf_call(&f, "GET", TASKS("13800000007") "/nope", NULL, &o), 404);
    cJSON_Delete(o);
    cf_fe_close(&e);
}

static void test_config_task_retries_and_time(void **state)
{
    (void)state;
    cf_start(&f);
    struct cf_fe e;
    cf_fe_open(&f, &e, "jt808", 0);
    cf_fe_online(&e, "13800000008", 7);
    cf_login(&f);
    cJSON *o = NULL;
    /* one retry a second after a failed attempt, then FAILED */
    assert_int_equal(cf_call(&f, "POST", TASKS("13800000008"),
                             "{\"serviceId\":\"Parameters\",\"config\":{\"maxSpeed\":60},\"retryTimes\":1,"
                             "\"retryInterval\":1}",
                             &o),
                     201);
    char t1[40];
    snprintf(t1, sizeof t1, "%s", cf_str(o, "taskId"));
    cJSON_Delete(o);
    wait_n(1);
    end_cmd(0, STORE_CMD_FAIL);
    assert_string_equal(task_status("13800000008", t1), "PENDING");
    wait_n(2); /* within 2 s: the retry */
    assert_string_equal(R->c[1].origin, "config");
    end_cmd(1, STORE_CMD_TIMEOUT);
    assert_string_equal(task_status("13800000008", t1), "FAILED");

    /* CUSTOM: waits for its time (1 to 2 s ahead) */
    char when[17], t2[40];
    shadow_time_text(clock_unix_ms_at(clock_now_us()) + 2000, when);
    char body[300];
    snprintf(body, sizeof body,
             "{\"serviceId\":\"Parameters\",\"config\":{\"maxSpeed\":61},\"executeType\":\"CUSTOM\",\"executeTime\":\"%s\"}",
             when);
    assert_int_equal(cf_call(&f, "POST", TASKS("13800000008"), body, &o), 201);
    snprintf(t2, sizeof t2, "%s", cf_str(o, "taskId"));
    assert_string_equal(cf_str(o, "status"), "WAITING");
    assert_string_equal(cf_str(o, "executeTime"), when);
    cJSON_Delete(o);
    assert_int_equal(R->n, 2);
    wait_n(3);
    assert_string_equal(R->c[2].paras, "{\"params\":[{\"id\":\"0x0055\",\"value\":61}]}");
    assert_string_equal(task_status("13800000008", t2), "SENT");
    cf_fe_close(&e);
}

static void test_config_task_survives_kill(void **state)
{
    (void)state;
    cf_start(&f);
    struct cf_fe e;
    cf_fe_open(&f, &e, "jt808", 0);
    cf_fe_online(&e, "13800000010", 7);
    offline(&e, "13800000010", 7);
    cf_login(&f);
    cJSON *o = NULL;
    assert_int_equal(cf_call(&f, "POST", TASKS("13800000010"),
                             "{\"serviceId\":\"Parameters\",\"config\":{\"maxSpeed\":50},\"executeType\":\"DEVICE_ONLINE\"}",
                             &o),
                     201);
    char t1[40];
    snprintf(t1, sizeof t1, "%s", cf_str(o, "taskId"));
    cJSON_Delete(o);
    cf_fe_close(&e);
    cf_kill(&f);
    cf_start(&f);
    cf_login(&f);
    assert_string_equal(task_status("13800000010", t1), "PENDING");
    cf_fe_open(&f, &e, "jt808", 0);
    cf_fe_online(&e, "13800000010", 8);
    wait_n(1);
    assert_string_equal(R->c[0].origin, "config");
    end_cmd(0, STORE_CMD_SUCCESSFUL);
    assert_string_equal(task_status("13800000010", t1), "SUCCESSFUL");
    cf_fe_close(&e);
}

static void test_deleted_device_loses_its_shadow(void **state)
{
    (void)state;
    cf_start(&f);
    struct cf_fe e;
    cf_fe_open(&f, &e, "jt808", 0);
    cf_fe_online(&e, "13800000011", 7);
    offline(&e, "13800000011", 7);
    cf_login(&f);
    assert_int_equal(put("13800000011", "{\"serviceDesireds\":[{\"serviceId\":\"Parameters\",\"desired\":"
                                        "{\"maxSpeed\":70}}]}", NULL),
                     200);
    cJSON *o = NULL;
    assert_int_equal(cf_call(&f, "POST", TASKS("13800000011"),
                             "{\"serviceId\":\"Parameters\",\"config\":{\"cornerAngle\":5},\"executeType\":\"DEVICE_ONLINE\"}",
                             &o),
                     201);
    cJSON_Delete(o);
    assert_int_equal(bus_unregister(&e.out, "13800000011"), 0);
    cf_fe_sync(&e);
    assert_int_equal(cf_call(&f, "GET", SHADOW "13800000011", NULL, &o), 404);
    cJSON_Delete(o);
    /* registered again: a new shadow, nothing of the old one, in memory or in the file */
    cf_fe_online(&e, "13800000011", 8);
    assert_int_equal(R->n, 0);
    o = get("13800000011");
    const cJSON *p = service(o, "Parameters");
    assert_null(cJSON_GetObjectItemCaseSensitive(p, "desiredProps")->child);
    assert_int_equal((int)cJSON_GetObjectItemCaseSensitive(p, "version")->valuedouble, 0);
    cJSON_Delete(o);
    assert_int_equal(cf_call(&f, "GET", TASKS("13800000011"), NULL, &o), 200);
    assert_int_equal((int)cJSON_GetObjectItemCaseSensitive(o, "totalCount")->valuedouble, 0);
    cJSON_Delete(o);
    cf_fe_close(&e);
    cf_kill(&f);
    cf_start(&f);
    cf_login(&f);
    o = get("13800000011");
    assert_int_equal((int)cJSON_GetObjectItemCaseSensitive(service(o, "Parameters"), "version")->valuedouble, 0);
    cJSON_Delete(o);
}

/* The built-in model: the JT/T 808 terminal, parsed as any profile is. */
static void test_builtin_model(void **state)
{
    (void)state;
    struct pc_product *p = NULL;
    char err[300];
    assert_int_equal(pc_product_parse_text(svc_shadow_jt808_model,
                                           (size_t)(svc_shadow_jt808_model_end - svc_shadow_jt808_model), "built-in",
                                           &p, err, sizeof err),
                     0);
    assert_string_equal(p->protocol, "JT808");
    int si = pc_service_index(p, "Parameters");
    assert_true(si >= 0);
    assert_true(p->services[si].n_props >= 12);
    for (int i = 0; i < p->services[si].n_props; i++) {
        assert_true(p->services[si].props[i].access & PA_W);
        assert_int_equal(strncmp(p->services[si].props[i].device_key, "0x", 2), 0);
    }
    assert_true(pc_service_index(p, "location") >= 0);
    pc_product_free(p);
}

int main(int argc, char **argv)
{
    (void)argc;
    argv0 = argv[0];
    clock_init(1.0);
    R = mmap(NULL, sizeof *R, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (R == MAP_FAILED)
        return 1;
    char err[400];
    const char *prof = "profiles/watermeter.json";
    FILE *fp = fopen(prof, "r");
    static char text[1 << 16];
    size_t n = fp ? fread(text, 1, sizeof text - 1, fp) : 0;
    if (fp)
        fclose(fp);
    if (pc_product_parse_text(text, n, prof, &water, err, sizeof err) < 0) {
        fprintf(stderr, "%s (run from the tree's top)\n", err);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin_model),
        cmocka_unit_test_setup_teardown(test_put_get_and_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reported_and_delta, setup, teardown),
        cmocka_unit_test_setup_teardown(test_product_of_registration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_at_once_when_online, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_when_online_merged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_submit_refused_stays_pending, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_after_kill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_tasks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_task_retries_and_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_task_survives_kill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deleted_device_loses_its_shadow, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    pc_product_free(water);
    return rc;
}
