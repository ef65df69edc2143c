/* The platform core as a black box: a forked core_main on a fresh SQLite file,
 * driven over its control channel and by fake front-ends on the bus.  Checks:
 * registrations answered in order and batched into few transactions, secrets
 * that authenticate, provisioning, reports stored, commands fanned out a batch
 * per front-end per tick to the right devices only, results stored, devices of
 * a front-end that went away offline, and a malformed message reported. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sim/core/ctl.h"
#include "sim/core/stats.h"
#include "sim/platform/core/bus.h"
#include "sim/platform/core/core.h"
#include "sim/platform/core/store.h"
#include "tests/unit/scratch.h"
#include <cmocka.h>

static struct stats_shm *shm;
static const char *argv0 = "";

struct fx {
    char dir[256], db[300], addr[108];
    struct core_config cfg;
    pid_t pid;
    int ctl;
};

static int provision_two(const void *arg, int (*emit)(void *, const struct store_provision *), void *ctx,
                         char *err, size_t errcap)
{
    struct store_provision a = {"jt808", "KNOWN_1", ""}, b = {"jt808", "KNOWN_2", "1:P2"};
    (void)arg;
    (void)err;
    (void)errcap;
    return emit(ctx, &a) < 0 || emit(ctx, &b) < 0 ? -1 : 2;
}

static void start(struct fx *f)
{
    char err[256] = "";
    memset(&shm->core, 0, sizeof shm->core);
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
        _exit(core_main(&f->cfg, lfd, cp[1], &shm->core));
    }
    close(lfd);
    close(cp[1]);
    f->ctl = cp[0];
    struct timeval tv = {.tv_sec = 5};
    setsockopt(f->ctl, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct ctl_msg m;
    if (ctl_recv(f->ctl, &m, NULL, 0) != 1 || m.type != CTL_READY)
        fail_msg("core not ready: %s", shm->core.error);
}

static int stop(struct fx *f)
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

/* CTL_DRAIN and wait for CTL_DRAINED: what was sent before is stored and flushed. */
static void drain(struct fx *f)
{
    struct ctl_msg m = {.type = CTL_DRAIN};
    assert_int_equal(ctl_send(f->ctl, &m, NULL), 0);
    if (ctl_recv(f->ctl, &m, NULL, 0) != 1 || m.type != CTL_DRAINED)
        fail_msg("core did not drain: %s", shm->core.error);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    if (scratch_make(argv0, "test_platform_core", f->dir, sizeof f->dir) < 0)
        return -1;
    snprintf(f->db, sizeof f->db, "%s/p.db", f->dir);
    snprintf(f->cfg.db, sizeof f->cfg.db, "%s", f->db);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    int rc = stop(f);
    scratch_remove(f->dir);
    free(f);
    return rc;
}

/* A fake front-end: a bus connection that has said hello. */
struct fe {
    int fd;
    struct bus_out out;
    uint8_t msg[BUS_MAX_MSG];
    struct bus_reader rd;
    long len;
};

static void fe_open(struct fx *f, struct fe *e, uint32_t index)
{
    char err[256];
    e->fd = core_connect(f->addr, err, sizeof err);
    if (e->fd < 0)
        fail_msg("%s", err);
    bus_out_init(&e->out, e->fd);
    e->len = 0;
    assert_int_equal(bus_hello(&e->out, "jt808", index), 0);
}

static void fe_send(struct fe *e)
{
    assert_int_equal(bus_out_flush(&e->out), 0);
    assert_false(bus_out_pending(&e->out));
}

/* The next record from the core (2 s at most). */
static void fe_next(struct fe *e, struct bus_rec *r)
{
    char err[200];
    for (;;) {
        if (e->len > 0) {
            int rc = bus_next(&e->rd, r, err, sizeof err);
            if (rc < 0)
                fail_msg("from the core: %s", err);
            if (rc == 1)
                return;
        }
        struct timeval tv = {.tv_sec = 2};
        setsockopt(e->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        e->len = recv(e->fd, e->msg, sizeof e->msg, 0);
        if (e->len <= 0)
            fail_msg("no message from the core: %s", e->len ? strerror(errno) : "closed");
        bus_reader_init(&e->rd, e->msg, (size_t)e->len);
    }
}

static void fe_close(struct fe *e)
{
    bus_out_free(&e->out);
    close(e->fd);
}

static void test_register_auth_report(void **state)
{
    struct fx *f = *state;
    start(f);
    struct fe e;
    fe_open(f, &e, 0);
    /* 200 registrations in one go: answered in order, in few transactions */
    char id[32], name[32];
    for (int i = 0; i < 200; i++) {
        snprintf(id, sizeof id, "1380000%04d", i);
        snprintf(name, sizeof name, "M_X_T%04d", i);
        assert_int_equal(bus_register(&e.out, (uint32_t)(100 + i), 0, id, name, "", "", "{\"a\":1}"), 0);
    }
    /* name taken by another device id, and a provisioning-only one unknown */
    assert_int_equal(bus_register(&e.out, 300, 0, "13900000000", "M_X_T0000", "", "", NULL), 0);
    assert_int_equal(bus_register(&e.out, 301, BUS_REG_PROVISIONED, "13900000001", "NOPE", "", "", NULL), 0);
    fe_send(&e);
    char secret0[STORE_SECRET_MAX + 1] = "";
    struct bus_rec r;
    for (int i = 0; i < 200; i++) {
        fe_next(&e, &r);
        assert_int_equal(r.type, BUS_REG_REPLY);
        assert_int_equal(r.token, 100 + i);
        assert_int_equal(r.u8, STORE_REG_OK);
        assert_int_equal(r.s[0].n, 16);
        if (i == 0)
            assert_true(bus_str_copy(r.s[0], secret0, sizeof secret0));
    }
    fe_next(&e, &r);
    assert_int_equal(r.token, 300);
    assert_int_equal(r.u8, STORE_REG_NAME_TAKEN);
    fe_next(&e, &r);
    assert_int_equal(r.token, 301);
    assert_int_equal(r.u8, STORE_REG_NOT_PROVISIONED);
    assert_true(shm->core.registrations == 200);
    assert_true(shm->core.reg_refused == 2);
    assert_true(shm->core.transactions <= 4); /* batched, not one per registration */
    /* auth with the secret, and with a wrong one */
    assert_int_equal(bus_auth(&e.out, 400, 77, "13800000000", secret0), 0);
    assert_int_equal(bus_auth(&e.out, 401, 78, "13800000001", secret0), 0);
    assert_int_equal(bus_report(&e.out, 1234, "13800000000", "location", "{\"lat\":5}"), 0);
    fe_send(&e);
    fe_next(&e, &r);
    assert_int_equal(r.type, BUS_AUTH_REPLY);
    assert_int_equal(r.token, 400);
    assert_int_equal(r.u8, 1);
    fe_next(&e, &r);
    assert_int_equal(r.token, 401);
    assert_int_equal(r.u8, 0);
    drain(f);
    assert_true(shm->core.online == 1);
    struct store *s;
    char err[256], data[64];
    assert_int_equal(store_open(&s, f->db, err, sizeof err), 0);
    assert_int_equal(store_count(s, "jt808"), 200);
    int64_t at = 0;
    assert_true(store_last_report(s, "jt808", "13800000000", "location", data, sizeof data, &at));
    assert_string_equal(data, "{\"lat\":5}");
    assert_true(at == 1234);
    bool online = false;
    assert_true(store_last_status(s, "jt808", "13800000000", &online, &at));
    assert_true(online);
    store_close(s);
    fe_close(&e);
    (void)state;
}

static void test_provisioning(void **state)
{
    struct fx *f = *state;
    f->cfg.provision = provision_two;
    start(f);
    struct fe e;
    fe_open(f, &e, 0);
    assert_int_equal(bus_register(&e.out, 1, BUS_REG_PROVISIONED, "1", "KNOWN_1", "9:ANY", "", NULL), 0);
    assert_int_equal(bus_register(&e.out, 2, BUS_REG_PROVISIONED, "2", "KNOWN_2", "1:OTHER", "", NULL), 0);
    assert_int_equal(bus_register(&e.out, 3, BUS_REG_PROVISIONED, "3", "KNOWN_2", "1:P2", "", NULL), 0);
    fe_send(&e);
    struct bus_rec r;
    fe_next(&e, &r);
    assert_int_equal(r.u8, STORE_REG_OK);
    fe_next(&e, &r);
    assert_int_equal(r.u8, STORE_REG_BINDING_MISMATCH);
    fe_next(&e, &r);
    assert_int_equal(r.u8, STORE_REG_OK);
    fe_close(&e);
}

/* Registered and online through two front-ends; returns each device's secret. */
static void online(struct fe *e, uint32_t base, int n, uint32_t handle0)
{
    char id[32], name[32];
    struct bus_rec r;
    for (int i = 0; i < n; i++) {
        snprintf(id, sizeof id, "%u", base + (uint32_t)i);
        snprintf(name, sizeof name, "N%u", base + (uint32_t)i);
        assert_int_equal(bus_register(&e->out, (uint32_t)i, 0, id, name, "", "", NULL), 0);
    }
    fe_send(e);
    char secret[STORE_SECRET_MAX + 1];
    for (int i = 0; i < n; i++) {
        fe_next(e, &r);
        assert_int_equal(r.u8, STORE_REG_OK);
        assert_true(bus_str_copy(r.s[0], secret, sizeof secret));
        snprintf(id, sizeof id, "%u", base + (uint32_t)i);
        assert_int_equal(bus_auth(&e->out, 1000u + (uint32_t)i, handle0 + (uint32_t)i, id, secret), 0);
    }
    fe_send(e);
    for (int i = 0; i < n; i++) {
        fe_next(e, &r);
        assert_int_equal(r.type, BUS_AUTH_REPLY);
        assert_int_equal(r.u8, 1);
    }
}

static void send_command(struct fx *f, const char *ident, uint32_t count, double fraction, const char *body)
{
    struct ctl_msg m;
    memset(&m, 0, sizeof m);
    m.type = CTL_COMMAND;
    m.kind = 2;
    m.fleet = 1;
    m.step = 7;
    m.count = count;
    m.fraction = fraction;
    m.settle_us = 3000000;
    snprintf(m.ident, sizeof m.ident, "%s", ident);
    snprintf(m.protocol, sizeof m.protocol, "jt808");
    snprintf(m.what, sizeof m.what, "0x8104");
    assert_int_equal(ctl_send(f->ctl, &m, body), 0);
}

/* Handles a front-end gets for one command, batch by batch, until CMD_END. */
static int collect(struct fe *e, uint32_t *task, uint32_t *handles, int cap, int *batches, char *body, size_t bcap)
{
    struct bus_rec r;
    int n = 0;
    size_t bl = 0;
    *batches = 0;
    for (;;) {
        fe_next(e, &r);
        if (r.type == BUS_CMD_BODY) {
            assert_true(bl + r.s[0].n < bcap);
            memcpy(body + bl, r.s[0].p, r.s[0].n);
            bl += r.s[0].n;
            body[bl] = '\0';
        } else if (r.type == BUS_CMD_BEGIN) {
            *task = r.token;
            assert_int_equal(r.kind, 2);
            assert_int_equal(r.fleet, 1);
            assert_int_equal(r.step, 7);
            assert_true(r.u64 == 3000000);
        } else if (r.type == BUS_CMD_TO) {
            assert_int_equal(r.token, *task);
            (*batches)++;
            struct bus_targets it;
            uint32_t h;
            struct bus_str id;
            char dev[32], want[32];
            bus_targets_init(&it, &r);
            while (bus_targets_next(&it, &h, &id) && n < cap) {
                /* online() gave device base + i the handle handle0 + i: they travel together */
                assert_true(bus_str_copy(id, dev, sizeof dev));
                snprintf(want, sizeof want, "%u", h >= 300 ? 9000 + (h - 300) : h >= 200 ? 5005 + (h - 200) : 5000 + (h - 100));
                assert_string_equal(dev, want);
                handles[n++] = h;
            }
        } else if (r.type == BUS_CMD_END) {
            assert_int_equal(r.token, *task);
            return n;
        } else {
            fail_msg("unexpected %s", bus_type_name(r.type));
        }
    }
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void test_commands(void **state)
{
    struct fx *f = *state;
    f->cfg.cmd_batch = 2;
    start(f);
    struct fe a, b;
    fe_open(f, &a, 0);
    fe_open(f, &b, 1);
    online(&a, 5000, 5, 100);  /* 5000..5004 through a, handles 100.. */
    online(&b, 5005, 3, 200);  /* 5005..5007 through b */
    online(&b, 9000, 1, 300);  /* not in the fleet */
    /* one goes offline through b; an offline for a stale handle changes nothing */
    assert_int_equal(bus_offline(&b.out, 202, "5007"), 0);
    assert_int_equal(bus_offline(&a.out, 999, "5000"), 0);
    fe_send(&a);
    fe_send(&b);
    usleep(50000);
    send_command(f, "5000", 8, 1.0, "{\"x\":1}");
    uint32_t ha[16], hb[16], ta = 0, tb = 0;
    int batches_a, batches_b;
    char body[64];
    int na = collect(&a, &ta, ha, 16, &batches_a, body, sizeof body);
    assert_string_equal(body, "{\"x\":1}");
    int nb = collect(&b, &tb, hb, 16, &batches_b, body, sizeof body);
    assert_int_equal(na, 5);
    assert_int_equal(nb, 2);
    assert_int_equal(batches_a, 3); /* 2 + 2 + 1: a batch of two a tick */
    assert_int_equal(batches_b, 1);
    assert_int_equal(ta, tb);
    qsort(ha, (size_t)na, sizeof ha[0], cmp_u32);
    for (int i = 0; i < na; i++)
        assert_int_equal(ha[i], 100 + (uint32_t)i);
    qsort(hb, (size_t)nb, sizeof hb[0], cmp_u32);
    assert_int_equal(hb[0], 200);
    assert_int_equal(hb[1], 201);
    /* results come back; they are stored with the task */
    assert_int_equal(bus_cmd_result(&a.out, ta, STORE_CMD_SUCCESSFUL, "5000"), 0);
    assert_int_equal(bus_cmd_result(&a.out, ta, STORE_CMD_SUCCESSFUL, "5001"), 0);
    assert_int_equal(bus_cmd_result(&a.out, ta, STORE_CMD_TIMEOUT, "5002"), 0);
    assert_int_equal(bus_cmd_result(&b.out, ta, STORE_CMD_FAIL, "5005"), 0);
    fe_send(&a);
    fe_send(&b);
    /* half the fleet: exactly ctl_pick_count of 8 */
    send_command(f, "5000", 8, 0.5, NULL);
    uint32_t t2 = 0;
    int want_a = 0, want_b = 0;
    for (uint64_t k = 0; k < 8; k++)
        if (ctl_picked(k, 8, 0.5) && k < 7) {
            if (k < 5)
                want_a++;
            else
                want_b++;
        }
    assert_true(want_a > 0);
    int n2 = collect(&a, &t2, ha, 16, &batches_a, body, sizeof body);
    assert_int_equal(n2, want_a);
    if (want_b) /* b hears of it only when it holds one of them */
        assert_int_equal(collect(&b, &t2, hb, 16, &batches_b, body, sizeof body), want_b);
    assert_int_not_equal(t2, ta);
    /* front-end b goes away: its devices are offline, a command reaches a's only */
    fe_close(&b);
    usleep(50000);
    assert_true(shm->core.online == 5);
    send_command(f, "5000", 8, 1.0, NULL);
    int n4 = collect(&a, &t2, ha, 16, &batches_a, body, sizeof body);
    assert_int_equal(n4, 5);
    drain(f); /* stores and flushes everything before it; no command after it */
    struct store *s;
    char err[256];
    assert_int_equal(store_open(&s, f->db, err, sizeof err), 0);
    assert_int_equal(store_command_count(s, ta, -1), 7);
    assert_int_equal(store_command_count(s, ta, STORE_CMD_SUCCESSFUL), 2);
    assert_int_equal(store_command_count(s, ta, STORE_CMD_SENT), 3);
    assert_int_equal(store_command_get(s, ta, "jt808", "5002"), STORE_CMD_TIMEOUT);
    assert_int_equal(store_command_get(s, ta, "jt808", "5005"), STORE_CMD_FAIL);
    assert_int_equal(store_command_get(s, ta, "jt808", "9000"), -1);
    bool on = true;
    int64_t at = 0;
    assert_true(store_last_status(s, "jt808", "5005", &on, &at));
    assert_false(on);
    store_close(s);
    fe_close(&a);
}

static void test_malformed_message(void **state)
{
    struct fx *f = *state;
    start(f);
    struct fe e;
    fe_open(f, &e, 0);
    fe_send(&e);
    const uint8_t bad[] = {BUS_REGISTER, 0, 9, 0, 0, 0, 1, 0, 0, 200, 'x', 'y'};
    assert_int_equal(send(e.fd, bad, sizeof bad, 0), (ssize_t)sizeof bad);
    /* still answering */
    assert_int_equal(bus_sync(&e.out, 42), 0);
    fe_send(&e);
    struct bus_rec r;
    fe_next(&e, &r);
    assert_int_equal(r.type, BUS_SYNC_REPLY);
    assert_int_equal(r.token, 42);
    assert_true(shm->core.bus_errors == 1);
    assert_non_null(strstr(shm->core.error, "record 1 (register) at byte 8: device_id runs past"));
    shm->core.error[0] = '\0';
    fe_close(&e);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(int argc, char **argv)
{
    argv0 = argc > 0 ? argv[0] : "";
    signal(SIGPIPE, SIG_IGN);
    shm = stats_map();
    if (!shm)
        return 1;
    const struct CMUnitTest tests[] = {
        T(test_register_auth_report),
        T(test_provisioning),
        T(test_commands),
        T(test_malformed_message),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    stats_unmap(shm);
    return rc;
}
