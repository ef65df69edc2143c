/* Push notifications (svc_push.h) through a forked platform core (core_fixture.h)
 * and a receiving server in the test (libmicrohttpd, a thread per connection) that
 * answers as the test says: 200, 503, or nothing for a while.  The subscriptions
 * API and its 400s; deviceDataChanged and deviceAdded produced and delivered; 004
 * §5's rules on the virtual clock (100 times faster: 15 s are 150 ms): 503 kept and
 * retried, 10 failed retries make the URL invalid, probes until it recovers, expiry
 * 10 minutes after the first failure, no answer in 15 s; a SIGKILLed core's kept
 * messages delivered by the next one (and one past its window expired); a URL that
 * does not answer holding 8 requests at most while the others' messages go; the
 * queue's bound; and in this process, a command's callback (svc_push_to_url). */
#include "tests/unit/core_fixture.h"

#include <microhttpd.h>
#include <pthread.h>

#include "sim/core/clock.h"
#include "sim/platform/core/core_internal.h"
#include "sim/platform/core/svc.h"

static const char *argv0 = "";
static struct cf f;

/* --- the receiver ------------------------------------------------------------------- */

/* A process of its own (forked before any thread exists, so that the cores forked
 * later never inherit a lock held by one of its threads); what it saw is in shared
 * memory under a process-shared mutex. */
#define RCV_MAX 512
#define RCV_BODY 1024

struct rcv {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint16_t port;
    int mode;                       /* the status to answer; 0: none (hold the request) */
    bool release, stop;
    int n;                          /* requests received */
    char bodies[RCV_MAX][RCV_BODY];
    char paths[RCV_MAX][64];
    uint64_t at_us[RCV_MAX];        /* when (monotonic) */
};
static struct rcv *rv;
static pid_t rcv_pid;

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void deadline(struct timespec *until, int ms)
{
    clock_gettime(CLOCK_REALTIME, until);
    until->tv_sec += ms / 1000;
    until->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until->tv_nsec >= 1000000000L) {
        until->tv_sec++;
        until->tv_nsec -= 1000000000L;
    }
}

static enum MHD_Result rcv_handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                   const char *version, const char *upload, size_t *size, void **ptr)
{
    (void)method, (void)version;
    struct rcv *r = cls;
    struct cf_buf *b = *ptr;
    if (!b) {
        *ptr = calloc(1, sizeof *b);
        return *ptr ? MHD_YES : MHD_NO;
    }
    if (*size) {
        cf_sink((char *)upload, 1, *size, b);
        *size = 0;
        return MHD_YES;
    }
    pthread_mutex_lock(&r->mu);
    if (r->n < RCV_MAX) {
        snprintf(r->bodies[r->n], RCV_BODY, "%s", b->s ? b->s : "");
        snprintf(r->paths[r->n], sizeof r->paths[0], "%s", url);
        r->at_us[r->n] = mono_us();
    }
    r->n++;
    pthread_cond_broadcast(&r->cv);
    /* no answer: held until the test answers again (or 20 s, a bound) */
    struct timespec until;
    deadline(&until, 20000);
    bool slow = strncmp(url, "/slow", 5) == 0; /* held whatever the mode */
    while ((r->mode == 0 || slow) && !r->release)
        if (pthread_cond_timedwait(&r->cv, &r->mu, &until) != 0)
            break;
    int status = r->mode ? r->mode : 200;
    pthread_mutex_unlock(&r->mu);
    struct MHD_Response *rs = MHD_create_response_from_buffer(2, (void *)"ok", MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)status, rs);
    MHD_destroy_response(rs);
    return ok;
}

static void rcv_done(void *cls, struct MHD_Connection *c, void **ptr, enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)c, (void)toe;
    struct cf_buf *b = *ptr;
    if (b) {
        free(b->s);
        free(b);
        *ptr = NULL;
    }
}

static void rcv_serve(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL,
                                            NULL, rcv_handler, rv, MHD_OPTION_SOCK_ADDR, &a,
                                            MHD_OPTION_NOTIFY_COMPLETED, rcv_done, rv, MHD_OPTION_END);
    const union MHD_DaemonInfo *i = d ? MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    pthread_mutex_lock(&rv->mu);
    rv->port = i ? i->port : 1; /* 1: it failed */
    pthread_cond_broadcast(&rv->cv);
    struct timespec until;
    deadline(&until, 300000); /* 5 minutes at most */
    while (!rv->stop)
        if (pthread_cond_timedwait(&rv->cv, &rv->mu, &until) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&rv->mu);
    if (d)
        MHD_stop_daemon(d);
    _exit(0);
}

static void rcv_start(int mode)
{
    if (!rv) {
        rv = mmap(NULL, sizeof *rv, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        assert_true(rv != MAP_FAILED);
    }
    memset(rv, 0, sizeof *rv);
    pthread_mutexattr_t ma;
    pthread_condattr_t ca;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
    pthread_condattr_init(&ca);
    pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(&rv->mu, &ma);
    pthread_cond_init(&rv->cv, &ca);
    rv->mode = mode;
    fflush(stdout);
    fflush(stderr);
    rcv_pid = fork();
    assert_true(rcv_pid >= 0);
    if (rcv_pid == 0)
        rcv_serve();
    struct timespec until;
    deadline(&until, 5000);
    pthread_mutex_lock(&rv->mu);
    while (!rv->port)
        if (pthread_cond_timedwait(&rv->cv, &rv->mu, &until) != 0)
            break;
    uint16_t port = rv->port;
    pthread_mutex_unlock(&rv->mu);
    assert_true(port > 1);
}

static void rcv_mode(int mode)
{
    pthread_mutex_lock(&rv->mu);
    rv->mode = mode;
    pthread_cond_broadcast(&rv->cv);
    pthread_mutex_unlock(&rv->mu);
}

static int rcv_count(void)
{
    pthread_mutex_lock(&rv->mu);
    int n = rv->n;
    pthread_mutex_unlock(&rv->mu);
    return n;
}

/* Wait (ms at most) until n requests came; false when they did not. */
static bool rcv_wait(int n, int ms)
{
    struct timespec until;
    deadline(&until, ms);
    pthread_mutex_lock(&rv->mu);
    while (rv->n < n)
        if (pthread_cond_timedwait(&rv->cv, &rv->mu, &until) != 0)
            break;
    bool ok = rv->n >= n;
    pthread_mutex_unlock(&rv->mu);
    return ok;
}

static cJSON *rcv_json(int i)
{
    pthread_mutex_lock(&rv->mu);
    cJSON *o = i < rv->n && i < RCV_MAX ? cJSON_Parse(rv->bodies[i]) : NULL;
    pthread_mutex_unlock(&rv->mu);
    return o;
}

static void rcv_stop(void)
{
    if (rcv_pid <= 0)
        return;
    pthread_mutex_lock(&rv->mu);
    rv->release = rv->stop = true;
    pthread_cond_broadcast(&rv->cv);
    pthread_mutex_unlock(&rv->mu);
    int st;
    waitpid(rcv_pid, &st, 0);
    rcv_pid = 0;
}

/* --- helpers ---------------------------------------------------------------------------- */

static int setup_at(double scale)
{
    clock_init(scale);
    cf_init(&f, argv0, "test_svc_push");
    return 0;
}
static int setup(void **state) { (void)state; return setup_at(1); }
static int setup_fast(void **state) { (void)state; return setup_at(100); }

static int teardown(void **state)
{
    (void)state;
    int rc = cf_fini(&f);
    rcv_stop();
    return rc;
}

static void start_logged_in(void)
{
    cf_start(&f);
    cf_login(&f);
}

/* Subscribe type to the receiver's path: the subscriptionId (static). */
static const char *subscribe(const char *type, const char *path)
{
    static char id[64];
    cJSON *o = NULL;
    long st = cf_callf(&f, "POST", "/iocm/app/sub/v1.2.0/subscriptions", &o,
                       "{\"notifyType\":\"%s\",\"callbackUrl\":\"http://127.0.0.1:%u%s\"}", type, rv->port, path);
    assert_int_equal(st, 201);
    assert_non_null(cf_str(o, "subscriptionId"));
    snprintf(id, sizeof id, "%s", cf_str(o, "subscriptionId"));
    cJSON_Delete(o);
    return id;
}

/* A counter of pushStatus. */
static double counter(const char *name)
{
    cJSON *o = NULL;
    assert_int_equal(cf_call(&f, "GET", "/iocm/app/sub/v1.2.0/pushStatus", NULL, &o), 200);
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "counters"), name);
    assert_true(cJSON_IsNumber(c));
    double v = c->valuedouble;
    cJSON_Delete(o);
    return v;
}

/* Wait (ms at most) until counter name is at least v. */
static bool counter_reaches(const char *name, double v, int ms)
{
    for (int waited = 0;; waited += 20) {
        if (counter(name) >= v)
            return true;
        if (waited >= ms)
            return false;
        usleep(20000);
    }
}

/* The first URL's "status" of pushStatus ("VALID", "INVALID"). */
static void url_status(char *out, size_t cap)
{
    cJSON *o = NULL;
    assert_int_equal(cf_call(&f, "GET", "/iocm/app/sub/v1.2.0/pushStatus", NULL, &o), 200);
    const cJSON *u = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "urls"), 0);
    snprintf(out, cap, "%s", cf_str(u, "status") ? cf_str(u, "status") : "");
    cJSON_Delete(o);
}

static bool url_becomes(const char *want, int ms)
{
    char s[16];
    for (int waited = 0;; waited += 10) {
        url_status(s, sizeof s);
        if (strcmp(s, want) == 0)
            return true;
        if (waited >= ms)
            return false;
        usleep(10000);
    }
}

static void report(struct cf_fe *e, const char *id, int temp)
{
    char data[64];
    snprintf(data, sizeof data, "{\"temperature\":%d}", temp);
    assert_int_equal(bus_report(&e->out, 1700000000000ull, id, "Sensor", data), 0);
    cf_fe_send(e);
}

/* A 400 naming field. */
static void refused(const char *body, const char *field)
{
    cJSON *o = NULL;
    long st = cf_call(&f, "POST", "/iocm/app/sub/v1.2.0/subscriptions", body, &o);
    if (st != 400 || !cf_str(o, "error_desc") || !strstr(cf_str(o, "error_desc"), field))
        fail_msg("%s: HTTP %ld %s (wanted 400 naming %s)", body ? body : "(none)", st,
                 cf_str(o, "error_desc") ? cf_str(o, "error_desc") : "", field);
    assert_string_equal(cf_str(o, "error_code"), NE_BAD_REQUEST);
    cJSON_Delete(o);
}

static long total_of(const char *query)
{
    char path[256];
    cJSON *o = NULL;
    snprintf(path, sizeof path, "/iocm/app/sub/v1.2.0/subscriptions%s", query);
    assert_int_equal(cf_call(&f, "GET", path, NULL, &o), 200);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "totalCount");
    assert_true(cJSON_IsNumber(t));
    long n = (long)t->valuedouble;
    cJSON_Delete(o);
    return n;
}

/* --- the cases ----------------------------------------------------------------------- */

static void test_subscriptions(void **state)
{
    (void)state;
    rcv_start(200);
    start_logged_in();
    const char *id0 = subscribe(SVC_NOTIFY_DATA, "/a");
    char first[64];
    snprintf(first, sizeof first, "%s", id0);
    assert_int_equal(strlen(first), 32);
    /* the same again: the same subscription */
    assert_string_equal(subscribe(SVC_NOTIFY_DATA, "/a"), first);
    subscribe(SVC_NOTIFY_DEVICE_ADDED, "/b");
    subscribe(SVC_NOTIFY_COMMAND, "/c");
    refused("{\"notifyType\":\"deviceMoved\",\"callbackUrl\":\"http://x/\"}", "notifyType");
    refused("{\"notifyType\":7,\"callbackUrl\":\"http://x/\"}", "notifyType");
    refused("{\"callbackUrl\":\"http://x/\"}", "notifyType");
    refused("{\"notifyType\":\"deviceAdded\"}", "callbackUrl");
    refused("{\"notifyType\":\"deviceAdded\",\"callbackUrl\":\"ftp://x/\"}", "callbackUrl");
    refused("{\"notifyType\":\"deviceAdded\",\"callbackUrl\":\"http:///x\"}", "callbackUrl");
    refused("{\"notifyType\":\"deviceAdded\",\"callbackUrl\":\"http://a b/\"}", "callbackUrl");
    refused("{\"notifyType\":\"deviceAdded\",\"callbackUrl\":\"http://x/\",\"ownerFlag\":3}", "ownerFlag");
    refused("[1]", "body");
    refused(NULL, "body");
    assert_int_equal(total_of(""), 3);
    assert_int_equal(total_of("?notifyType=deviceDataChanged"), 1);
    /* paging */
    cJSON *o = NULL;
    assert_int_equal(cf_call(&f, "GET", "/iocm/app/sub/v1.2.0/subscriptions?pageNo=1&pageSize=2", NULL, &o), 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "subscriptions")), 1);
    cJSON_Delete(o);
    assert_int_equal(cf_call(&f, "GET", "/iocm/app/sub/v1.2.0/subscriptions?pageSize=0", NULL, &o), 400);
    assert_non_null(strstr(cf_str(o, "error_desc"), "pageSize"));
    cJSON_Delete(o);
    assert_int_equal(cf_call(&f, "GET", "/iocm/app/sub/v1.2.0/subscriptions?pageNo=x", NULL, &o), 400);
    assert_non_null(strstr(cf_str(o, "error_desc"), "pageNo"));
    cJSON_Delete(o);
    assert_int_equal(cf_call(&f, "GET", "/iocm/app/sub/v1.2.0/subscriptions?notifyType=nope", NULL, &o), 400);
    cJSON_Delete(o);
    /* one */
    char path[200];
    snprintf(path, sizeof path, "/iocm/app/sub/v1.2.0/subscriptions/%s", first);
    assert_int_equal(cf_call(&f, "GET", path, NULL, &o), 200);
    assert_string_equal(cf_str(o, "notifyType"), SVC_NOTIFY_DATA);
    cJSON_Delete(o);
    /* kept through a SIGKILL: committed before the 201 */
    cf_kill(&f);
    start_logged_in();
    assert_int_equal(total_of(""), 3);
    assert_int_equal(cf_call(&f, "DELETE", path, NULL, NULL), 204);
    assert_int_equal(cf_call(&f, "GET", path, NULL, &o), 404);
    assert_string_equal(cf_str(o, "error_code"), NE_NOT_FOUND);
    cJSON_Delete(o);
    assert_int_equal(cf_call(&f, "DELETE", path, NULL, NULL), 404);
    assert_int_equal(cf_call(&f, "DELETE", "/iocm/app/sub/v1.2.0/subscriptions?notifyType=bad", NULL, NULL), 400);
    assert_int_equal(cf_call(&f, "DELETE", "/iocm/app/sub/v1.2.0/subscriptions?notifyType=deviceAdded", NULL, NULL),
                     204);
    assert_int_equal(total_of(""), 1);
    assert_int_equal(total_of("?notifyType=commandRsp"), 1);
    assert_int_equal(cf_call(&f, "DELETE", "/iocm/app/sub/v1.2.0/subscriptions", NULL, NULL), 204);
    assert_int_equal(total_of(""), 0);
    assert_int_equal(cf_stop(&f), 0);
}

/* A call as application app_key with token (the fixture's calls are app's). */
static long call_as(const char *app_key, const char *token, const char *method, const char *path, const char *body,
                    cJSON **out)
{
    CURL *c = curl_easy_init();
    char url[512], h1[128], h2[128];
    struct cf_buf b = {0};
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", f.port, path);
    snprintf(h1, sizeof h1, "app_key: %s", app_key);
    snprintf(h2, sizeof h2, "Authorization: Bearer %s", token);
    struct curl_slist *hs = curl_slist_append(NULL, "Content-Type: application/json");
    hs = curl_slist_append(hs, h1);
    hs = curl_slist_append(hs, h2);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, cf_sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    long st = 0;
    if (curl_easy_perform(c) != CURLE_OK)
        fail_msg("%s %s failed", method, path);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
    curl_slist_free_all(hs);
    curl_easy_cleanup(c);
    if (out)
        *out = b.s ? cJSON_Parse(b.s) : NULL;
    free(b.s);
    return st;
}

/* Another application sees, and deletes, none of app's subscriptions. */
static void test_per_application(void **state)
{
    (void)state;
    char err[200], tok[64];
    assert_int_equal(north_auth_add(&f.apps, "other", "pw", err, sizeof err), 0);
    rcv_start(200);
    start_logged_in();
    char id[64], path[200];
    snprintf(id, sizeof id, "%s", subscribe(SVC_NOTIFY_DATA, "/a"));
    snprintf(path, sizeof path, "/iocm/app/sub/v1.2.0/subscriptions/%s", id);
    cJSON *o = NULL;
    assert_int_equal(call_as("x", "x", "POST", "/iocm/app/sec/v1.1.0/login", "{\"appId\":\"other\",\"secret\":\"pw\"}",
                             &o), 200);
    snprintf(tok, sizeof tok, "%s", cf_str(o, "accessToken"));
    cJSON_Delete(o);
    assert_int_equal(call_as("other", tok, "GET", path, NULL, NULL), 404);
    assert_int_equal(call_as("other", tok, "DELETE", path, NULL, NULL), 404);
    assert_int_equal(call_as("other", tok, "DELETE", "/iocm/app/sub/v1.2.0/subscriptions", NULL, NULL), 204);
    assert_int_equal(call_as("other", tok, "GET", "/iocm/app/sub/v1.2.0/subscriptions", NULL, &o), 200);
    assert_int_equal((int)cJSON_GetObjectItemCaseSensitive(o, "totalCount")->valuedouble, 0);
    cJSON_Delete(o);
    /* the same type and URL for other: a subscription of its own */
    assert_int_equal(call_as("other", tok, "POST", "/iocm/app/sub/v1.2.0/subscriptions",
                             "{\"notifyType\":\"deviceDataChanged\",\"callbackUrl\":\"http://127.0.0.1:1/a\"}", &o),
                     201);
    assert_string_not_equal(cf_str(o, "subscriptionId"), id);
    cJSON_Delete(o);
    assert_int_equal(cf_call(&f, "GET", path, NULL, NULL), 200);
    assert_int_equal(total_of(""), 1);
    assert_int_equal(cf_stop(&f), 0);
}

static void test_data_changed_and_added_delivered(void **state)
{
    (void)state;
    rcv_start(200);
    start_logged_in();
    subscribe(SVC_NOTIFY_DATA, "/data");
    subscribe(SVC_NOTIFY_DEVICE_ADDED, "/added");
    struct cf_fe e;
    cf_fe_open(&f, &e, "jt808", 0);
    cf_fe_online(&e, "13800000001", 7);
    assert_true(rcv_wait(1, 5000));
    cJSON *a = rcv_json(0);
    assert_string_equal(rv->paths[0], "/added");
    assert_string_equal(cf_str(a, "notifyType"), SVC_NOTIFY_DEVICE_ADDED);
    assert_string_equal(cf_str(a, "deviceId"), "13800000001");
    assert_string_equal(cf_str(a, "gatewayId"), "13800000001");
    assert_string_equal(cf_str(a, "nodeType"), "ENDPOINT");
    assert_string_equal(cf_str(a, "deviceInfo.protocolType"), "jt808");
    assert_string_equal(cf_str(a, "deviceInfo.name"), "N_13800000001");
    cJSON_Delete(a);
    report(&e, "13800000001", 21);
    assert_true(rcv_wait(2, 5000));
    cJSON *d = rcv_json(1);
    assert_string_equal(rv->paths[1], "/data");
    assert_string_equal(cf_str(d, "notifyType"), SVC_NOTIFY_DATA);
    assert_string_equal(cf_str(d, "deviceId"), "13800000001");
    assert_string_equal(cf_str(d, "service.serviceId"), "Sensor");
    assert_string_equal(cf_str(d, "service.serviceType"), "Sensor");
    assert_string_equal(cf_str(d, "service.eventTime"), "20231114T221320Z");
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(d, "service"), "data"), "temperature");
    assert_true(cJSON_IsNumber(t));
    assert_int_equal(t->valueint, 21);
    cJSON_Delete(d);
    assert_true(counter_reaches("delivered", 2, 2000));
    assert_int_equal((int)counter("queued"), 2);
    assert_int_equal((int)counter("sent"), 2);
    assert_int_equal((int)counter("pending"), 0);
    /* no subscription, no push */
    assert_int_equal(cf_call(&f, "DELETE", "/iocm/app/sub/v1.2.0/subscriptions", NULL, NULL), 204);
    report(&e, "13800000001", 22);
    cf_fe_sync(&e);
    usleep(200000);
    assert_int_equal(rcv_count(), 2);
    assert_int_equal((int)counter("queued"), 2);
    cf_fe_close(&e);
    assert_int_equal(cf_stop(&f), 0);
}

/* 503: kept, retried PUSH_RETRY_MS later, delivered once the server answers 200. */
static void test_503_kept_and_retried(void **state)
{
    (void)state;
    rcv_start(503);
    start_logged_in();
    subscribe(SVC_NOTIFY_DATA, "/data");
    struct cf_fe e;
    cf_fe_open(&f, &e, "jt808", 0);
    cf_fe_online(&e, "13800000002", 7);
    report(&e, "13800000002", 5);
    assert_true(rcv_wait(2, 5000));
    /* a retry, 30 s (virtual) after the failure: 300 ms at 100x */
    uint64_t gap = rv->at_us[1] - rv->at_us[0];
    assert_true(gap >= 250000);
    assert_true(counter("failed") >= 2);
    assert_int_equal((int)counter("delivered"), 0);
    assert_int_equal((int)counter("pending"), 1);
    rcv_mode(200);
    assert_true(counter_reaches("delivered", 1, 3000));
    assert_true(counter("retried") >= 1);
    assert_int_equal((int)counter("pending"), 0);
    cJSON *b = rcv_json(rcv_count() - 1);
    assert_string_equal(cf_str(b, "deviceId"), "13800000002");
    cJSON_Delete(b);
    /* a 404 is not retried: rejected at once */
    rcv_mode(404);
    int before = rcv_count();
    report(&e, "13800000002", 6);
    assert_true(counter_reaches("rejected", 1, 3000));
    usleep(500000);
    assert_int_equal(rcv_count(), before + 1);
    cf_fe_close(&e);
    assert_int_equal(cf_stop(&f), 0);
}

/* 10 failed retries: INVALID, then only probes, PUSH_PROBE_MS apart; a probe answered
 * 200 makes it VALID again. */
static void test_invalid_probed_recovers(void **state)
{
    (void)state;
    rcv_start(503);
    start_logged_in();
    subscribe(SVC_NOTIFY_DATA, "/data");
    struct cf_fe e;
    cf_fe_open(&f, &e, "jt808", 0);
    cf_fe_online(&e, "13800000003", 7);
    report(&e, "13800000003", 1);
    /* the first try and 10 retries */
    assert_true(rcv_wait(11, 8000));
    assert_true(url_becomes("INVALID", 1000));
    /* not before the 10th retry failed */
    int at_invalid = rcv_count();
    assert_int_equal(at_invalid, 11);
    /* a new message to an invalid URL is kept, not sent */
    report(&e, "13800000003", 2);
    cf_fe_sync(&e);
    /* the probe: 60 s (600 ms) after, one message */
    assert_true(rcv_wait(12, 3000));
    assert_true(rv->at_us[11] - rv->at_us[10] >= 500000);
    usleep(100000);
    assert_int_equal(rcv_count(), 12);
    rcv_mode(200);
    assert_true(url_becomes("VALID", 3000));
    /* both delivered: the probe, then the one kept meanwhile */
    assert_true(counter_reaches("delivered", 2, 3000));
    assert_int_equal((int)counter("pending"), 0);
    cf_fe_close(&e);
    assert_int_equal(cf_stop(&f), 0);
}

/* Never delivered: EXPIRED 10 min (6 s) after its first failure. */
static void test_expiry(void **state)
{
    (void)state;
    rcv_start(503);
    start_logged_in();
    subscribe(SVC_NOTIFY_DATA, "/data");
    struct cf_fe e;
    cf_fe_open(&f, &e, "jt808", 0);
    cf_fe_online(&e, "13800000004", 7);
    report(&e, "13800000004", 1);
    assert_true(rcv_wait(1, 3000));
    uint64_t t0 = mono_us();
    assert_true(counter_reaches("expired", 1, 12000));
    uint64_t took = mono_us() - t0;
    assert_true(took >= 5000000); /* not before its 10 minutes */
    assert_int_equal((int)counter("pending"), 0);
    assert_int_equal((int)counter("delivered"), 0);
    int n = rcv_count();
    usleep(800000);
    assert_int_equal(rcv_count(), n); /* and no more tries */
    cf_fe_close(&e);
    assert_int_equal(cf_stop(&f), 0);
}

/* No answer within 15 s (virtual, 150 ms): failed and kept, long before curl's own
 * real-time backstop (over 5 s). */
static void test_timeout(void **state)
{
    (void)state;
    rcv_start(0);
    start_logged_in();
    subscribe(SVC_NOTIFY_DATA, "/data");
    struct cf_fe e;
    cf_fe_open(&f, &e, "jt808", 0);
    cf_fe_online(&e, "13800000005", 7);
    report(&e, "13800000005", 1);
    assert_true(rcv_wait(1, 3000));
    uint64_t t0 = mono_us();
    assert_true(counter_reaches("failed", 1, 2000));
    assert_true(mono_us() - t0 < 2000000);
    assert_int_equal((int)counter("delivered"), 0);
    assert_true(rcv_wait(2, 2000)); /* retried */
    rcv_mode(200);
    assert_true(counter_reaches("delivered", 1, 3000));
    cf_fe_close(&e);
    assert_int_equal(cf_stop(&f), 0);
}

/* Kept messages survive a SIGKILL: the next core sends the one still in its
 * window and expires the one past it. */
static void test_sigkill_kept_delivered_by_next_core(void **state)
{
    (void)state;
    rcv_start(503);
    start_logged_in();
    subscribe(SVC_NOTIFY_DATA, "/data");
    struct cf_fe e;
    cf_fe_open(&f, &e, "jt808", 0);
    cf_fe_online(&e, "13800000006", 7);
    report(&e, "13800000006", 1); /* old: fails now */
    assert_true(rcv_wait(1, 3000));
    usleep(4000000); /* 400 s virtual */
    int n = rcv_count();
    report(&e, "13800000006", 2); /* young: kept (the URL is invalid by now) or failed */
    cf_fe_sync(&e);
    assert_int_equal((int)counter("pending"), 2);
    (void)n;
    cf_fe_close(&e);
    cf_kill(&f);
    usleep(2500000); /* the old one is past its 10 minutes, the young one is not */
    rcv_mode(200);
    n = rcv_count();
    start_logged_in();
    assert_true(counter_reaches("delivered", 1, 3000));
    assert_true(counter_reaches("expired", 1, 3000));
    assert_int_equal((int)counter("queued"), 2);
    assert_int_equal((int)counter("pending"), 0);
    assert_int_equal(rcv_count(), n + 1);
    cJSON *b = rcv_json(n);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(b, "service"), "data"), "temperature");
    assert_true(cJSON_IsNumber(t));
    assert_int_equal(t->valueint, 2);
    cJSON_Delete(b);
    assert_int_equal(cf_stop(&f), 0);
}

/* A message committed before its first try is sent by the next core too, when the
 * first was killed while it waited for the answer. */
static void test_sigkill_in_flight(void **state)
{
    (void)state;
    rcv_start(0);
    start_logged_in();
    subscribe(SVC_NOTIFY_DATA, "/data");
    struct cf_fe e;
    cf_fe_open(&f, &e, "jt808", 0);
    cf_fe_online(&e, "13800000007", 7);
    report(&e, "13800000007", 9);
    assert_true(rcv_wait(1, 3000));
    cf_fe_close(&e);
    cf_kill(&f);
    rcv_mode(200);
    start_logged_in();
    assert_true(counter_reaches("delivered", 1, 3000));
    assert_true(rcv_wait(2, 1000));
    cJSON *b = rcv_json(1);
    assert_string_equal(cf_str(b, "deviceId"), "13800000007");
    cJSON_Delete(b);
    assert_int_equal(cf_stop(&f), 0);
}

/* A URL that does not answer holds at most PUSH_URL_INFLIGHT_MAX requests, and the
 * other URLs' messages go meanwhile. */
static void test_slow_url_does_not_hold_others(void **state)
{
    (void)state;
    rcv_start(200);
    start_logged_in();
    subscribe(SVC_NOTIFY_DATA, "/slow");
    subscribe(SVC_NOTIFY_DATA, "/fast");
    struct cf_fe e;
    cf_fe_open(&f, &e, "jt808", 0);
    cf_fe_online(&e, "13800000010", 7);
    for (int i = 0; i < 20; i++)
        report(&e, "13800000010", i);
    assert_true(counter_reaches("delivered", 20, 5000));
    usleep(200000);
    int slow = 0, fast = 0;
    pthread_mutex_lock(&rv->mu);
    for (int i = 0; i < rv->n && i < RCV_MAX; i++)
        strcmp(rv->paths[i], "/slow") == 0 ? slow++ : fast++;
    pthread_mutex_unlock(&rv->mu);
    assert_int_equal(fast, 20);
    assert_int_equal(slow, 8);
    cJSON *o = NULL;
    assert_int_equal(cf_call(&f, "GET", "/iocm/app/sub/v1.2.0/pushStatus", NULL, &o), 200);
    const cJSON *u;
    bool seen = false;
    cJSON_ArrayForEach(u, cJSON_GetObjectItemCaseSensitive(o, "urls"))
    {
        if (!strstr(cf_str(u, "callbackUrl"), "/slow"))
            continue;
        seen = true;
        assert_int_equal(cJSON_GetObjectItemCaseSensitive(u, "inFlight")->valueint, 8);
        assert_int_equal(cJSON_GetObjectItemCaseSensitive(u, "queued")->valueint, 12);
    }
    assert_true(seen);
    /* ?callbackUrl= shows that URL alone; empty is refused naming it */
    char path[1200], slow_url[1100] = "";
    cJSON_ArrayForEach(u, cJSON_GetObjectItemCaseSensitive(o, "urls"))
        if (strstr(cf_str(u, "callbackUrl"), "/slow"))
            snprintf(slow_url, sizeof slow_url, "%s", cf_str(u, "callbackUrl"));
    cJSON_Delete(o);
    snprintf(path, sizeof path, "/iocm/app/sub/v1.2.0/pushStatus?callbackUrl=%s", slow_url);
    assert_int_equal(cf_call(&f, "GET", path, NULL, &o), 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "urls")), 1);
    assert_string_equal(cf_str(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "urls"), 0), "callbackUrl"), slow_url);
    cJSON_Delete(o);
    assert_int_equal(cf_call(&f, "GET", "/iocm/app/sub/v1.2.0/pushStatus?callbackUrl=http://127.0.0.1:9/none", NULL, &o), 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "urls")), 0);
    cJSON_Delete(o);
    assert_int_equal(cf_call(&f, "GET", "/iocm/app/sub/v1.2.0/pushStatus?callbackUrl=", NULL, &o), 400);
    assert_non_null(strstr(cf_str(o, "error_desc"), "callbackUrl: empty"));
    cJSON_Delete(o);
    assert_int_equal((int)counter("pending"), 20);
    cf_fe_close(&e);
    assert_int_equal(cf_stop(&f), 0);
}

static void tick_cb(struct ev_loop *loop, ev_timer *t, int revents) { (void)loop, (void)t, (void)revents; }

/* In this process, without the API: a command's callback (svc_push_to_url) goes as
 * it is given, without notifyType; a URL that is not http(s) is dropped, counted;
 * svc_push_notify of a type nobody subscribed sends nothing. */
static void test_to_url_in_process(void **state)
{
    (void)state;
    rcv_start(200);
    struct core_config cfg;
    struct core_slot slot;
    struct core k;
    memset(&cfg, 0, sizeof cfg);
    memset(&slot, 0, sizeof slot);
    memset(&k, 0, sizeof k);
    k.cfg = &cfg;
    k.st = &slot;
    for (int i = 0; i < CORE_MAX_PEERS; i++)
        k.peers[i].fd = -1;
    char err[256];
    if (store_open(&k.store, f.db, err, sizeof err) < 0)
        fail_msg("%s", err);
    k.loop = ev_loop_new(EVFLAG_AUTO);
    assert_non_null(k.loop);
    if (svc_push_start(&k, err, sizeof err) < 0)
        fail_msg("%s", err);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/cmd", rv->port);
    svc_push_to_url(&k, url,
                    cJSON_Parse("{\"deviceId\":\"d1\",\"commandId\":\"c1\",\"result\":{\"resultCode\":\"DELIVERED\"}}"));
    svc_push_to_url(&k, "ftp://127.0.0.1/x", cJSON_Parse("{}"));
    assert_false(svc_push_wanted(&k, SVC_NOTIFY_COMMAND));
    svc_push_notify(&k, SVC_NOTIFY_COMMAND, cJSON_Parse("{\"deviceId\":\"d1\"}"));
    assert_int_equal(slot.push_dropped, 1);
    assert_int_equal(slot.push_queued, 1);
    ev_timer tick;
    ev_timer_init(&tick, tick_cb, 0.02, 0.02);
    ev_timer_start(k.loop, &tick);
    uint64_t until = mono_us() + 5000000;
    while (slot.push_delivered < 1 && mono_us() < until)
        ev_run(k.loop, EVRUN_ONCE);
    assert_int_equal(slot.push_delivered, 1);
    assert_int_equal(slot.push_pending, 0);
    assert_int_equal(rcv_count(), 1);
    cJSON *b = rcv_json(0);
    assert_string_equal(rv->paths[0], "/cmd");
    assert_string_equal(cf_str(b, "commandId"), "c1");
    assert_string_equal(cf_str(b, "result.resultCode"), "DELIVERED");
    assert_null(cJSON_GetObjectItemCaseSensitive(b, "notifyType"));
    cJSON_Delete(b);
    ev_timer_stop(k.loop, &tick);
    svc_push_stop(&k);
    assert_null(k.svc_push);
    store_close(k.store);
    ev_loop_destroy(k.loop);
}

/* The queue holds 100,000 messages: more are dropped and counted. */
static void test_queue_bound(void **state)
{
    (void)state;
    enum { N = 100000, MORE = 25 };
    rcv_start(0); /* nothing answered: all stay queued */
    start_logged_in();
    subscribe(SVC_NOTIFY_DATA, "/data");
    struct cf_fe e;
    cf_fe_open(&f, &e, "jt808", 0);
    cf_fe_online(&e, "13800000008", 7);
    for (int i = 0; i < N + MORE; i++) {
        char data[48];
        snprintf(data, sizeof data, "{\"n\":%d}", i);
        assert_int_equal(bus_report(&e.out, 1700000000000ull, "13800000008", "Sensor", data), 0);
        if (i % 200 == 199 || i == N + MORE - 1) {
            assert_int_equal(bus_out_flush(&e.out), 0);
            for (int w = 0; bus_out_pending(&e.out) && w < 10000; w++) {
                usleep(1000);
                assert_int_equal(bus_out_flush(&e.out), 0);
            }
            assert_false(bus_out_pending(&e.out));
        }
    }
    assert_true(counter_reaches("dropped", MORE, 20000));
    assert_int_equal((int)counter("queued"), N);
    assert_int_equal((int)counter("pending"), N);
    assert_int_equal((int)counter("dropped"), MORE);
    assert_true(rcv_count() <= 64); /* the bound of requests in flight */
    cf_fe_close(&e);
    assert_int_equal(cf_stop(&f), 0);
}

int main(int argc, char **argv)
{
    (void)argc;
    argv0 = argv[0];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_subscriptions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_per_application, setup, teardown),
        cmocka_unit_test_setup_teardown(test_data_changed_and_added_delivered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_503_kept_and_retried, setup_fast, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_probed_recovers, setup_fast, teardown),
        cmocka_unit_test_setup_teardown(test_expiry, setup_fast, teardown),
        cmocka_unit_test_setup_teardown(test_timeout, setup_fast, teardown),
        cmocka_unit_test_setup_teardown(test_sigkill_kept_delivered_by_next_core, setup_fast, teardown),
        cmocka_unit_test_setup_teardown(test_sigkill_in_flight, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slow_url_does_not_hold_others, setup, teardown),
        cmocka_unit_test_setup_teardown(test_to_url_in_process, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_bound, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
