/* The supervisor: components that become ready, drain and stop; ones that fail
 * before they are ready, die while running, ignore CTL_STOP or a drain; programs
 * exec'd with a ready line or port; a fork that fails.  Every wait is a deadline,
 * never a sleep, and every child is checked reaped with waitpid. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim/core/clock.h"
#include "sim/core/ctl.h"
#include "sim/core/super.h"

/* Written by the children, read by the test. */
struct shared {
    volatile int got_term;     /* a stubborn component saw SIGTERM */
    char error[4][128];        /* components' own error texts, like a stats slot */
};
static struct shared *sh;

struct rec {
    int n[SUPER_EV_EXITED + 1];  /* events by kind */
    int failed[8], n_failed;     /* ids, in the order the failure rule fired */
    uint32_t echoed_step;        /* last SUPER_EV_MESSAGE */
};

static void on_event(void *ctx, struct super *s, int id, enum super_event ev, const struct ctl_msg *m,
                     const char *payload)
{
    struct rec *r = ctx;
    r->n[ev]++;
    if (ev == SUPER_EV_FAILED && r->n_failed < 8)
        r->failed[r->n_failed++] = id;
    if (ev == SUPER_EV_MESSAGE)
        r->echoed_step = m->step;
    (void)s;
    (void)payload;
}

static int group_setup(void **state)
{
    (void)state;
    sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    clock_init(1.0);
    return sh == MAP_FAILED ? -1 : 0;
}

static int test_setup(void **state)
{
    (void)state;
    memset(sh, 0, sizeof *sh);
    return 0;
}

/* --- components ------------------------------------------------------------------------ */

/* Ready at once; drains when told, stops when told; CTL_START is echoed back as a
 * CTL_COMMAND with the same step; CTL_FAULT makes it exit with status `step`. */
static int obedient(void *arg, int ctl)
{
    struct ctl_msg m = {.type = CTL_READY};
    ctl_send(ctl, &m, NULL);
    for (;;) {
        if (ctl_recv(ctl, &m, NULL, 0) <= 0)
            return 2;
        struct ctl_msg a = {.type = CTL_DRAINED};
        switch (m.type) {
        case CTL_DRAIN:
            ctl_send(ctl, &a, NULL);
            break;
        case CTL_STOP:
            return 0;
        case CTL_START:
            a.type = CTL_COMMAND;
            a.step = m.step;
            ctl_send(ctl, &a, NULL);
            break;
        case CTL_FAULT:
            return (int)m.step;
        default:
            break;
        }
    }
    (void)arg;
}

static int fails_early(void *arg, int ctl)
{
    snprintf(sh->error[(intptr_t)arg], sizeof sh->error[0], "cannot open the database");
    (void)ctl;
    return 3;
}

static void on_term(int sig)
{
    sh->got_term = 1;
    (void)sig;
}

/* Ready, then deaf: no CTL_STOP, no CTL_DRAIN, SIGTERM only noted. */
static int stubborn(void *arg, int ctl)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* a failed test must not leave it behind */
    signal(SIGTERM, on_term);
    struct ctl_msg m = {.type = CTL_READY};
    ctl_send(ctl, &m, NULL);
    (void)arg;
    for (;;)
        if (pause() < 0 && errno != EINTR)
            return 1;
}

/* Ready, then gives up on its own with CTL_FAILED; still obeys CTL_STOP. */
static int gives_up(void *arg, int ctl)
{
    struct ctl_msg m = {.type = CTL_READY};
    ctl_send(ctl, &m, NULL);
    snprintf(sh->error[(intptr_t)arg], sizeof sh->error[0], "the target refused every connection");
    m.type = CTL_FAILED;
    ctl_send(ctl, &m, NULL);
    while (ctl_recv(ctl, &m, NULL, 0) > 0)
        if (m.type == CTL_STOP)
            return 1;
    return 2;
}

/* --- helpers ---------------------------------------------------------------------------- */

static int add_fn(struct super *s, const char *name, unsigned kind, int (*fn)(void *, int), intptr_t arg)
{
    char err[256];
    struct super_spec sp = {.name = name, .kind = kind, .main = fn, .arg = (void *)arg,
                            .error = sh->error[arg], .error_cap = sizeof sh->error[0]};
    int id = super_add(s, &sp, err, sizeof err);
    assert_true(id >= 0);
    return id;
}

/* Reaped by the supervisor, so no zombie is left and the pid is not ours any more. */
static void assert_reaped(pid_t pid)
{
    assert_true(pid > 0);
    errno = 0;
    assert_int_equal(waitpid(pid, NULL, WNOHANG), -1);
    assert_int_equal(errno, ECHILD);
}

/* Poll until *counter reaches want, or 5 s pass. */
static void poll_until(struct super *s, const int *counter, int want)
{
    uint64_t end = clock_mono_us() + 5000000u;
    while (*counter < want && clock_mono_us() < end)
        super_poll(s, 100);
    assert_int_equal(*counter, want);
}

/* --- tests ------------------------------------------------------------------------------- */

static void test_ready_drain_stop(void **state)
{
    (void)state;
    struct rec r = {0};
    struct super_opts o = {.on_event = on_event, .ctx = &r};
    struct super *s = super_new(&o);
    assert_non_null(s);
    char err[256];
    char names[3][16];
    for (int i = 0; i < 3; i++) {
        snprintf(names[i], sizeof names[i], "worker %d", i);
        add_fn(s, names[i], SUPER_WORKER, obedient, i);
    }
    int gw = add_fn(s, "gateway 0", SUPER_GATEWAY, obedient, 3);
    assert_int_equal(super_spawn(s, err, sizeof err), 0);
    assert_int_equal(super_in_state(s, SUPER_ALL, SUPER_SPAWNED), 4);
    /* what a libev loop would watch becomes readable */
    struct pollfd p = {.fd = super_fd(s), .events = POLLIN};
    assert_int_equal(poll(&p, 1, 5000), 1);
    assert_int_equal(super_wait(s, SUPER_ALL, 5000), 0);
    assert_int_equal(super_in_state(s, SUPER_ALL, SUPER_READY), 4);
    assert_int_equal(r.n[SUPER_EV_READY], 4);
    for (int i = 0; i < 4; i++)
        assert_true(super_comp(s, i)->pid > 0);
    /* each is named in ps and top for what it is */
    for (int i = 0; i < 4; i++) {
        char path[64], comm[32] = "", want[32];
        snprintf(path, sizeof path, "/proc/%d/comm", (int)super_comp(s, i)->pid);
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        assert_non_null(fgets(comm, sizeof comm, f));
        fclose(f);
        comm[strcspn(comm, "\n")] = '\0';
        if (i < 3)
            snprintf(want, sizeof want, "fs-worker-%d", i);
        else
            snprintf(want, sizeof want, "fs-gateway-0");
        assert_string_equal(comm, want);
    }

    /* messages other than the lifecycle's come through as they are */
    struct ctl_msg m = {.type = CTL_START, .step = 42};
    assert_int_equal(super_send(s, 1, &m, NULL), 0);
    poll_until(s, &r.n[SUPER_EV_MESSAGE], 1);
    assert_int_equal(r.echoed_step, 42);

    /* drain by kind: the workers only */
    assert_int_equal(super_drain(s, SUPER_WORKER, NULL, 5000), 3);
    assert_int_equal(super_pending(s, SUPER_WORKER), 3);
    assert_int_equal(super_wait(s, SUPER_WORKER, 5000), 0);
    assert_int_equal(super_in_state(s, SUPER_WORKER, SUPER_DRAINED), 3);
    assert_int_equal(super_comp(s, gw)->state, SUPER_READY);
    assert_int_equal(r.n[SUPER_EV_DRAINED], 3);

    pid_t pids[4];
    for (int i = 0; i < 4; i++)
        pids[i] = super_comp(s, i)->pid;
    super_stop(s, SUPER_ALL);
    assert_int_equal(super_wait(s, SUPER_ALL, 5000), 0);
    assert_int_equal(super_in_state(s, SUPER_ALL, SUPER_STOPPED), 4);
    assert_null(super_failed(s, SUPER_ALL));
    assert_int_equal(r.n[SUPER_EV_FAILED], 0);
    assert_int_equal(r.n[SUPER_EV_EXITED], 4);
    for (int i = 0; i < 4; i++) {
        const struct super_comp *c = super_comp(s, i);
        assert_true(c->reaped && WIFEXITED(c->status) && WEXITSTATUS(c->status) == 0);
        assert_reaped(pids[i]);
    }
    super_free(s);
}

static void test_dies_before_ready(void **state)
{
    (void)state;
    struct rec r = {0};
    struct super_opts o = {.on_event = on_event, .ctx = &r};
    struct super *s = super_new(&o);
    char err[256];
    add_fn(s, "worker 0", SUPER_WORKER, obedient, 0);
    int bad = add_fn(s, "worker 1", SUPER_WORKER, fails_early, 1);
    assert_int_equal(super_spawn(s, err, sizeof err), 0);
    assert_int_equal(super_wait(s, SUPER_ALL, 5000), 0);
    const struct super_comp *f = super_failed(s, SUPER_ALL);
    assert_non_null(f);
    assert_string_equal(f->name, "worker 1");
    assert_int_equal(f->state, SUPER_DEAD);
    assert_non_null(strstr(f->reason, "worker 1 (pid "));
    assert_non_null(strstr(f->reason, "exited with 3"));
    assert_non_null(strstr(f->reason, "cannot open the database")); /* its own error text */
    assert_int_equal(r.n_failed, 1);
    assert_int_equal(r.failed[0], bad);
    assert_int_equal(super_comp(s, 0)->state, SUPER_READY);
    pid_t p0 = super_comp(s, 0)->pid, p1 = f->pid;
    assert_reaped(p1);
    super_stop(s, SUPER_ALL);
    assert_int_equal(super_wait(s, SUPER_ALL, 5000), 0);
    assert_int_equal(super_comp(s, 0)->state, SUPER_STOPPED);
    assert_int_equal(r.n_failed, 1);
    assert_reaped(p0);
    super_free(s);
}

static void test_ignores_stop(void **state)
{
    (void)state;
    struct rec r = {0};
    struct super_opts o = {.on_event = on_event, .ctx = &r, .stop_grace_ms = 100};
    struct super *s = super_new(&o);
    char err[256];
    int id = add_fn(s, "worker 0", SUPER_WORKER, stubborn, 0);
    assert_int_equal(super_spawn(s, err, sizeof err), 0);
    assert_int_equal(super_wait(s, SUPER_ALL, 5000), 0);
    assert_int_equal(super_comp(s, id)->state, SUPER_READY);
    pid_t pid = super_comp(s, id)->pid;
    super_stop(s, SUPER_ALL);
    assert_int_equal(super_comp(s, id)->state, SUPER_STOPPING);
    /* CTL_STOP, SIGTERM after 100 ms, SIGKILL after 200 ms */
    assert_int_equal(super_wait(s, SUPER_ALL, 5000), 0);
    const struct super_comp *c = super_comp(s, id);
    assert_int_equal(c->state, SUPER_STOPPED); /* it was told to stop: not a failure */
    assert_int_equal(c->failed, 0);
    assert_int_equal(sh->got_term, 1);
    assert_true(c->reaped && WIFSIGNALED(c->status) && WTERMSIG(c->status) == SIGKILL);
    assert_reaped(pid);
    super_free(s);
}

static void test_dies_while_running(void **state)
{
    (void)state;
    struct rec r = {0};
    struct super_opts o = {.on_event = on_event, .ctx = &r};
    struct super *s = super_new(&o);
    char err[256];
    int a = add_fn(s, "worker 0", SUPER_WORKER, obedient, 0);
    int b = add_fn(s, "gateway 0", SUPER_GATEWAY, obedient, 1);
    assert_int_equal(super_spawn(s, err, sizeof err), 0);
    assert_int_equal(super_wait(s, SUPER_ALL, 5000), 0);
    pid_t pa = super_comp(s, a)->pid, pb = super_comp(s, b)->pid;

    struct ctl_msg m = {.type = CTL_FAULT, .step = 5}; /* exit 5, please */
    assert_int_equal(super_send(s, a, &m, NULL), 0);
    poll_until(s, &r.n[SUPER_EV_EXITED], 1);
    assert_int_equal(super_wait(s, SUPER_ALL, 5000), 0);
    assert_int_equal(r.n_failed, 1);
    assert_int_equal(r.failed[0], a);
    const struct super_comp *c = super_comp(s, a);
    assert_int_equal(c->state, SUPER_DEAD);
    assert_true(WIFEXITED(c->status) && WEXITSTATUS(c->status) == 5);
    char want[64];
    snprintf(want, sizeof want, "worker 0 (pid %d) exited with 5", (int)pa);
    assert_string_equal(c->reason, want);
    assert_reaped(pa);
    assert_int_equal(super_send(s, a, &m, NULL), 1); /* not running: nothing sent, nobody signalled */

    kill(pb, SIGKILL);
    poll_until(s, &r.n[SUPER_EV_EXITED], 2);
    assert_int_equal(r.n_failed, 2);
    assert_int_equal(r.failed[1], b);
    assert_non_null(strstr(super_comp(s, b)->reason, "gateway 0 (pid "));
    assert_non_null(strstr(super_comp(s, b)->reason, "died of signal 9 (SIGKILL)"));
    assert_reaped(pb);

    /* once each, however often one asks */
    for (int i = 0; i < 3; i++)
        super_poll(s, 10);
    super_stop(s, SUPER_ALL);
    assert_int_equal(super_wait(s, SUPER_ALL, 5000), 0);
    assert_int_equal(r.n[SUPER_EV_FAILED], 2);
    assert_int_equal(r.n[SUPER_EV_EXITED], 2);
    super_free(s);
}

static void test_failed_and_drain_deadline(void **state)
{
    (void)state;
    struct rec r = {0};
    struct super_opts o = {.on_event = on_event, .ctx = &r, .stop_grace_ms = 100};
    struct super *s = super_new(&o);
    char err[256];
    int a = add_fn(s, "worker 0", SUPER_WORKER, gives_up, 0);
    int b = add_fn(s, "worker 1", SUPER_WORKER, stubborn, 1);
    assert_int_equal(super_spawn(s, err, sizeof err), 0);
    /* CTL_FAILED (after CTL_READY): reported with its own text, then stopped */
    poll_until(s, &r.n[SUPER_EV_EXITED], 1);
    assert_int_equal(super_wait(s, SUPER_ALL, 5000), 0);
    assert_int_equal(r.n_failed, 1);
    assert_int_equal(r.failed[0], a);
    const struct super_comp *c = super_comp(s, a);
    assert_int_equal(c->state, SUPER_DEAD);
    assert_non_null(strstr(c->reason, "failed: the target refused every connection"));
    assert_true(WIFEXITED(c->status) && WEXITSTATUS(c->status) == 1);
    /* a drain nobody answers ends at its deadline */
    assert_int_equal(super_comp(s, b)->state, SUPER_READY);
    assert_int_equal(super_drain(s, SUPER_ALL, NULL, 100), 1);
    assert_int_equal(super_wait(s, SUPER_ALL, 5000), 0);
    c = super_comp(s, b);
    assert_int_equal(c->state, SUPER_DEAD);
    assert_non_null(strstr(c->reason, "did not drain within 100.0ms"));
    assert_true(WIFSIGNALED(c->status) && WTERMSIG(c->status) == SIGKILL);
    assert_int_equal(r.n_failed, 2);
    assert_reaped(super_comp(s, a)->pid);
    assert_reaped(c->pid);
    super_free(s);
}

/* A TCP socket on 127.0.0.1, listening or only bound (a port that refuses). */
static int local_socket(int do_listen, uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    if (do_listen)
        assert_int_equal(listen(fd, 4), 0);
    getsockname(fd, (struct sockaddr *)&a, &len);
    *port = ntohs(a.sin_port);
    return fd;
}

static void test_exec(void **state)
{
    (void)state;
    struct rec r = {0};
    struct super_opts o = {.on_event = on_event, .ctx = &r, .stop_grace_ms = 200};
    struct super *s = super_new(&o);
    char err[256];
    char *const sh_argv[] = {"/bin/sh", "-c", "echo starting; echo fleetsim-ready; exec sleep 30", NULL};
    struct super_spec line = {.name = "printer", .kind = SUPER_EXTERNAL, .argv = sh_argv,
                              .ready = SUPER_READY_LINE, .ready_line = "fleetsim-ready"};
    int a = super_add(s, &line, err, sizeof err);
    uint16_t open_port, shut_port;
    int lfd = local_socket(1, &open_port), bfd = local_socket(0, &shut_port);
    char *const sleep_argv[] = {"sleep", "30", NULL};
    struct super_spec port = {.name = "listener", .kind = SUPER_EXTERNAL, .argv = sleep_argv,
                              .ready = SUPER_READY_PORT, .ready_port = open_port};
    int b = super_add(s, &port, err, sizeof err);
    struct super_spec late = {.name = "late", .kind = SUPER_EXTERNAL, .argv = sleep_argv,
                              .ready = SUPER_READY_PORT, .ready_port = shut_port, .ready_timeout_ms = 150};
    int c = super_add(s, &late, err, sizeof err);
    assert_true(a >= 0 && b >= 0 && c >= 0);
    assert_int_equal(super_spawn(s, err, sizeof err), 0);
    assert_int_equal(super_wait(s, SUPER_ALL, 5000), 0);
    assert_int_equal(super_comp(s, a)->state, SUPER_READY);
    assert_int_equal(super_comp(s, b)->state, SUPER_READY);
    const struct super_comp *lc = super_comp(s, c);
    assert_int_equal(lc->state, SUPER_DEAD);
    assert_non_null(strstr(lc->reason, "late (pid "));
    assert_non_null(strstr(lc->reason, "was not ready within 150.0ms"));
    assert_int_equal(r.n_failed, 1);
    /* a program has nothing to drain */
    super_drain(s, SUPER_ALL, NULL, 1000);
    assert_int_equal(super_in_state(s, SUPER_ALL, SUPER_DRAINED), 2);
    pid_t pa = super_comp(s, a)->pid, pb = super_comp(s, b)->pid;
    super_stop(s, SUPER_ALL);
    assert_int_equal(super_wait(s, SUPER_ALL, 5000), 0);
    for (int i = 0; i < 2; i++) {
        const struct super_comp *k = super_comp(s, i == 0 ? a : b);
        assert_int_equal(k->state, SUPER_STOPPED);
        assert_true(WIFSIGNALED(k->status) && WTERMSIG(k->status) == SIGTERM);
    }
    assert_reaped(pa);
    assert_reaped(pb);
    assert_reaped(lc->pid);
    super_free(s);
    close(lfd);
    close(bfd);

    /* a program that is not there: an error at spawn that names it */
    s = super_new(&o);
    char *const ghost_argv[] = {"/nonexistent/fleetsim-ghost", NULL};
    struct super_spec ghost = {.name = "ghost", .kind = SUPER_EXTERNAL, .argv = ghost_argv, .ready = SUPER_READY_NOW};
    assert_int_equal(super_add(s, &ghost, err, sizeof err), 0);
    assert_int_equal(super_spawn(s, err, sizeof err), -1);
    assert_string_equal(err, "cannot start ghost: /nonexistent/fleetsim-ghost: No such file or directory");
    assert_int_equal(super_comp(s, 0)->state, SUPER_DEAD);
    assert_reaped(super_comp(s, 0)->pid);
    super_free(s);
}

static int forks;
static pid_t fork_second_fails(void)
{
    if (++forks == 2) {
        errno = EAGAIN;
        return -1;
    }
    return fork();
}

static volatile sig_atomic_t test_got_term;
static void test_on_term(int sig)
{
    test_got_term = 1;
    (void)sig;
}

static void test_fork_failure(void **state)
{
    (void)state;
    /* a child of the test's own, already ended: a supervisor that reaped any child
     * (waitpid(-1)) would take it */
    pid_t mine = fork();
    if (mine == 0)
        _exit(0);
    assert_true(mine > 0);
    siginfo_t si;
    assert_int_equal(waitid(P_PID, (id_t)mine, &si, WEXITED | WNOWAIT), 0); /* ended, not reaped */
    /* a supervisor that signalled pid -1 or 0 would reach this process too */
    struct sigaction sa = {.sa_handler = test_on_term}, old;
    sigaction(SIGTERM, &sa, &old);
    test_got_term = 0;
    forks = 0;

    struct rec r = {0};
    struct super_opts o = {.on_event = on_event, .ctx = &r, .fork_fn = fork_second_fails, .stop_grace_ms = 100};
    struct super *s = super_new(&o);
    char err[256];
    add_fn(s, "worker 0", SUPER_WORKER, obedient, 0);
    add_fn(s, "worker 1", SUPER_WORKER, obedient, 1);
    add_fn(s, "worker 2", SUPER_WORKER, obedient, 2);
    assert_int_equal(super_spawn(s, err, sizeof err), -1);
    assert_string_equal(err, "cannot start worker 1: fork: Resource temporarily unavailable");
    const struct super_comp *c0 = super_comp(s, 0), *c1 = super_comp(s, 1), *c2 = super_comp(s, 2);
    assert_true(c0->pid > 0);
    assert_int_equal(c1->pid, 0);
    assert_int_equal(c1->state, SUPER_DEAD);
    assert_true(c1->failed);
    assert_int_equal(c2->pid, 0);
    assert_int_equal(c2->state, SUPER_NEW);
    struct ctl_msg m = {.type = CTL_START};
    assert_int_equal(super_send(s, 1, &m, NULL), 1);
    super_stop(s, SUPER_ALL);
    assert_int_equal(super_wait(s, SUPER_ALL, 5000), 0);
    assert_int_equal(c0->state, SUPER_STOPPED);
    assert_int_equal(c1->state, SUPER_DEAD);
    assert_int_equal(c2->state, SUPER_STOPPED);
    assert_int_equal(r.n[SUPER_EV_FAILED], 0); /* the spawn's return said it */
    assert_reaped(c0->pid);
    super_free(s);

    assert_int_equal(waitpid(mine, NULL, WNOHANG), mine);
    assert_int_equal(test_got_term, 0);
    sigaction(SIGTERM, &old, NULL);
}

static void test_add_checks(void **state)
{
    (void)state;
    struct super *s = super_new(NULL);
    char err[256];
    char *const argv[] = {"sleep", "1", NULL};
    struct super_spec bad[] = {
        {.name = "", .main = obedient},
        {.name = "x"},
        {.name = "prog", .argv = argv}, /* a program cannot send CTL_READY */
        {.name = "fn", .main = obedient, .ready = SUPER_READY_LINE, .ready_line = "ok"},
        {.name = "port", .argv = argv, .ready = SUPER_READY_PORT},
    };
    const char *want[] = {"a component needs a name", "x: neither", "prog: a program has no control channel",
                          "fn: a function has no stdout", "port: ready when which port"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(super_add(s, &bad[i], err, sizeof err), -1);
        assert_non_null(strstr(err, want[i]));
    }
    assert_int_equal(super_count(s), 0);
    super_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_ready_drain_stop, test_setup),
        cmocka_unit_test_setup(test_dies_before_ready, test_setup),
        cmocka_unit_test_setup(test_ignores_stop, test_setup),
        cmocka_unit_test_setup(test_dies_while_running, test_setup),
        cmocka_unit_test_setup(test_failed_and_drain_deadline, test_setup),
        cmocka_unit_test_setup(test_exec, test_setup),
        cmocka_unit_test_setup(test_fork_failure, test_setup),
        cmocka_unit_test_setup(test_add_checks, test_setup),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
