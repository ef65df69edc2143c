/* A platform core with its northbound API, for the services' tests: core_main forked
 * on a fresh SQLite file and a free loopback port, with the application "app" /
 * "secret"; fake front-ends on its bus (cf_fe_*: hello, register, auth, report,
 * read what the core sends); an API client on libcurl (cf_login, cf_call).
 *
 *     static struct cf f;                      // in setup: cf_init(&f, argv0, "test_x")
 *     cf_start(&f);                            // cf.cfg may be changed before
 *     struct cf_fe e; cf_fe_open(&f, &e, "jt808", 0);
 *     cf_fe_online(&e, "13800000001", 7);      // registered and authenticated, handle 7
 *     cf_login(&f);
 *     cJSON *o; long st = cf_call(&f, "POST", "/iocm/app/cmd/v1.4.0/deviceCommands", "{...}", &o);
 *     ...; cJSON_Delete(o); cf_fe_close(&e);   // in teardown: cf_fini(&f)
 *
 * cf_kill SIGKILLs the core and cf_start starts another on the same file (the
 * persistence tests).  Everything is bounded: a record 2 s, a call 10 s. */
#ifndef FLEETSIM_TEST_CORE_FIXTURE_H
#define FLEETSIM_TEST_CORE_FIXTURE_H

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sim/core/ctl.h"
#include "sim/core/stats.h"
#include <netinet/in.h>
#include <arpa/inet.h>
#include "sim/platform/core/bus.h"
#include "sim/platform/core/core.h"
#include "sim/platform/core/store.h"
#include "sim/platform/north/north_auth.h"
#include "tests/unit/scratch.h"
#include <cmocka.h>

struct cf {
    char dir[256], db[300], addr[108];
    struct core_config cfg;
    struct north_auth apps;
    struct core_slot *slot;         /* shared with the forked core */
    pid_t pid;
    int ctl;
    uint16_t port;
    char token[64];
};

static inline void cf_init(struct cf *f, const char *argv0, const char *name)
{
    memset(f, 0, sizeof *f);
    if (scratch_make(argv0, name, f->dir, sizeof f->dir) < 0)
        fail_msg("scratch dir");
    snprintf(f->db, sizeof f->db, "%s/p.db", f->dir);
    snprintf(f->cfg.db, sizeof f->cfg.db, "%s", f->db);
    char err[200];
    if (north_auth_add(&f->apps, "app", "secret", err, sizeof err) < 0)
        fail_msg("%s", err);
    f->cfg.api_apps = &f->apps;
    f->slot = mmap(NULL, sizeof *f->slot, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(f->slot != MAP_FAILED);
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* A TCP port free on 127.0.0.1 now. */
static inline int cf_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return ntohs(a.sin_port);
}

/* Fork a core on f->db with the API on a free port. */
static inline void cf_start(struct cf *f)
{
    char err[256] = "";
    memset(f->slot, 0, sizeof *f->slot);
    if (!f->port || !f->cfg.api[0]) {
        int p = cf_free_port();
        assert_true(p > 0);
        f->port = (uint16_t)p;
    }
    snprintf(f->cfg.api, sizeof f->cfg.api, "127.0.0.1:%u", f->port);
    int lfd = core_listen(f->addr, sizeof f->addr, err, sizeof err);
    if (lfd < 0)
        fail_msg("core_listen: %s", err);
    int cp[2];
    assert_int_equal(ctl_pair(cp), 0);
    fflush(stdout);
    fflush(stderr);
    f->pid = fork();
    assert_true(f->pid >= 0);
    if (f->pid == 0) {
        close(cp[0]);
        _exit(core_main(&f->cfg, lfd, cp[1], f->slot));
    }
    close(lfd);
    close(cp[1]);
    f->ctl = cp[0];
    struct timeval tv = {.tv_sec = 5};
    setsockopt(f->ctl, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct ctl_msg m;
    if (ctl_recv(f->ctl, &m, NULL, 0) != 1 || m.type != CTL_READY)
        fail_msg("core not ready: %s", f->slot->error);
    f->token[0] = '\0';
}

/* CTL_STOP and wait: the core's exit status (-1: not an exit). */
static inline int cf_stop(struct cf *f)
{
    if (f->pid <= 0)
        return 0;
    struct ctl_msg m = {.type = CTL_STOP};
    ctl_send(f->ctl, &m, NULL);
    int status = 0;
    waitpid(f->pid, &status, 0);
    close(f->ctl);
    f->pid = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* SIGKILL: nothing is flushed or closed. */
static inline void cf_kill(struct cf *f)
{
    if (f->pid <= 0)
        return;
    kill(f->pid, SIGKILL);
    waitpid(f->pid, NULL, 0);
    close(f->ctl);
    f->pid = 0;
}

/* CTL_DRAIN and wait for CTL_DRAINED: what was sent before is stored and flushed. */
static inline void cf_drain(struct cf *f)
{
    struct ctl_msg m = {.type = CTL_DRAIN};
    assert_int_equal(ctl_send(f->ctl, &m, NULL), 0);
    if (ctl_recv(f->ctl, &m, NULL, 0) != 1 || m.type != CTL_DRAINED)
        fail_msg("core did not drain: %s", f->slot->error);
}

static inline int cf_fini(struct cf *f)
{
    int rc = cf_stop(f);
    scratch_remove(f->dir);
    munmap(f->slot, sizeof *f->slot);
    curl_global_cleanup();
    return rc;
}

/* --- fake front-ends ------------------------------------------------------------------ */

struct cf_fe {
    int fd;
    struct bus_out out;
    uint8_t msg[BUS_MAX_MSG];
    struct bus_reader rd;
    long len;
    uint32_t token;
};

static inline void cf_fe_open(struct cf *f, struct cf_fe *e, const char *protocol, uint32_t index)
{
    char err[256];
    memset(e, 0, sizeof *e);
    e->fd = core_connect(f->addr, err, sizeof err);
    if (e->fd < 0)
        fail_msg("%s", err);
    bus_out_init(&e->out, e->fd);
    assert_int_equal(bus_hello(&e->out, protocol, index), 0);
    e->token = 1;
}

static inline void cf_fe_send(struct cf_fe *e)
{
    assert_int_equal(bus_out_flush(&e->out), 0);
    assert_false(bus_out_pending(&e->out));
}

/* The next record from the core within ms; false when none came. */
static inline bool cf_fe_poll(struct cf_fe *e, struct bus_rec *r, int ms)
{
    char err[200];
    for (;;) {
        if (e->len > 0) {
            int rc = bus_next(&e->rd, r, err, sizeof err);
            if (rc < 0)
                fail_msg("from the core: %s", err);
            if (rc == 1)
                return true;
        }
        struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
        setsockopt(e->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        e->len = recv(e->fd, e->msg, sizeof e->msg, 0);
        if (e->len <= 0) {
            e->len = 0;
            return false;
        }
        bus_reader_init(&e->rd, e->msg, (size_t)e->len);
    }
}

/* The next record (2 s at most, else the test fails). */
static inline void cf_fe_next(struct cf_fe *e, struct bus_rec *r)
{
    if (!cf_fe_poll(e, r, 2000))
        fail_msg("no message from the core within 2 s");
}

/* The next record of type (others skipped), 2 s at most. */
static inline void cf_fe_expect(struct cf_fe *e, int type, struct bus_rec *r)
{
    for (int i = 0; i < 100000; i++) {
        cf_fe_next(e, r);
        if (r->type == type)
            return;
    }
    fail_msg("no %s record", bus_type_name(type));
}

/* Register id (name "N_<id>") and authenticate it with its secret on handle: online. */
static inline void cf_fe_online(struct cf_fe *e, const char *id, uint32_t handle)
{
    char name[96], secret[STORE_SECRET_MAX + 1];
    struct bus_rec r;
    snprintf(name, sizeof name, "N_%s", id);
    uint32_t t = e->token++;
    assert_int_equal(bus_register(&e->out, t, 0, id, name, "", "", NULL), 0);
    cf_fe_send(e);
    cf_fe_expect(e, BUS_REG_REPLY, &r);
    assert_int_equal(r.token, t);
    assert_int_equal(r.u8, STORE_REG_OK);
    assert_true(bus_str_copy(r.s[0], secret, sizeof secret));
    t = e->token++;
    assert_int_equal(bus_auth(&e->out, t, handle, id, secret), 0);
    cf_fe_send(e);
    cf_fe_expect(e, BUS_AUTH_REPLY, &r);
    assert_int_equal(r.token, t);
    assert_int_equal(r.u8, 1);
}

/* Everything sent before is handled by the core (SYNC answered). */
static inline void cf_fe_sync(struct cf_fe *e)
{
    struct bus_rec r;
    uint32_t t = e->token++;
    assert_int_equal(bus_sync(&e->out, t), 0);
    cf_fe_send(e);
    for (int i = 0; i < 100000; i++) {
        cf_fe_next(e, &r);
        if (r.type == BUS_SYNC_REPLY && r.token == t)
            return;
    }
    fail_msg("no sync reply");
}

static inline void cf_fe_close(struct cf_fe *e)
{
    bus_out_free(&e->out);
    close(e->fd);
}

/* --- the API client ----------------------------------------------------------------------- */

struct cf_buf {
    char *s;
    size_t n;
};

static inline size_t cf_sink(char *p, size_t sz, size_t nm, void *arg)
{
    struct cf_buf *b = arg;
    size_t k = sz * nm;
    char *ns = realloc(b->s, b->n + k + 1);
    if (!ns)
        return 0;
    memcpy(ns + b->n, p, k);
    b->s = ns;
    b->n += k;
    b->s[b->n] = 0;
    return k;
}

/* One request with the application's headers (once logged in); the HTTP status,
 * the body parsed into *out when out is given (NULL when it is not JSON). */
static inline long cf_call(struct cf *f, const char *method, const char *path, const char *body, cJSON **out)
{
    CURL *c = curl_easy_init();
    char url[1024], h[200];
    struct cf_buf b = {0};
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", f->port, path);
    struct curl_slist *hs = curl_slist_append(NULL, "Content-Type: application/json");
    if (f->token[0]) {
        hs = curl_slist_append(hs, "app_key: app");
        snprintf(h, sizeof h, "Authorization: Bearer %s", f->token);
        hs = curl_slist_append(hs, h);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, cf_sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    long status = 0;
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK)
        fail_msg("%s %s: %s", method, path, curl_easy_strerror(rc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hs);
    curl_easy_cleanup(c);
    if (out)
        *out = b.s ? cJSON_Parse(b.s) : NULL;
    free(b.s);
    return status;
}

/* cf_call with a printf-formatted body. */
static inline long cf_callf(struct cf *f, const char *method, const char *path, cJSON **out, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static inline long cf_callf(struct cf *f, const char *method, const char *path, cJSON **out, const char *fmt, ...)
{
    char body[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    return cf_call(f, method, path, body, out);
}

/* Log in as "app": the token for the calls after. */
static inline void cf_login(struct cf *f)
{
    cJSON *o = NULL;
    f->token[0] = '\0';
    long st = cf_call(f, "POST", "/iocm/app/sec/v1.1.0/login", "{\"appId\":\"app\",\"secret\":\"secret\"}", &o);
    assert_int_equal(st, 200);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "accessToken");
    assert_true(cJSON_IsString(t));
    snprintf(f->token, sizeof f->token, "%s", t->valuestring);
    cJSON_Delete(o);
}

/* A string member at a path of dotted names ("result.resultCode"), NULL when absent. */
static inline const char *cf_str(const cJSON *o, const char *path)
{
    char key[128];
    while (o && *path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        if (n >= sizeof key)
            return NULL;
        memcpy(key, path, n);
        key[n] = 0;
        o = cJSON_GetObjectItemCaseSensitive(o, key);
        path += n + (dot != NULL);
    }
    return cJSON_IsString(o) ? o->valuestring : NULL;
}

#endif
