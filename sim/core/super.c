/* The supervisor (super.h): a table of components and the one lifecycle they share. */
#include "sim/core/super.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim/core/clock.h"
#include "sim/core/units.h"

#define POLL_MS 50        /* how often to look where no descriptor tells: ports, pids without a pidfd */
#define LINE_MAX_OUT 512  /* longest stdout line kept whole */

enum fd_role { FD_WAKE = 0, FD_CTL, FD_PID, FD_OUT };

struct comp {
    struct super_comp pub;
    int (*main)(void *, int);
    void *arg;
    char **argv;                /* exec'd: owned copy */
    enum super_ready_rule ready;
    uint16_t ready_port;
    char ready_line[128];
    int ready_timeout_ms;
    const char *error;
    size_t error_cap;
    char comm[16];              /* the process name ps and top show (function components) */
    int alive;                  /* forked and not reaped (nor given up on): may be signalled */
    int ctl;                    /* parent's end of the control pair, -1 none */
    int pidfd;                  /* -1: none, waitpid is polled */
    int out;                    /* exec'd child's stdout (SUPER_READY_LINE), -1 none */
    char line[LINE_MAX_OUT];
    size_t line_len;
    uint64_t deadline_us;       /* SPAWNED: ready deadline; DRAINING: drain deadline; 0 none */
    int deadline_ms;            /* the same, for the message */
    uint64_t next_us;           /* STOPPING: when the next step is due */
    int stop_step;              /* STOPPING: 0 CTL_STOP sent, 1 SIGTERM sent, 2 SIGKILL sent */
    uint64_t port_try_us;       /* SUPER_READY_PORT: last connect attempt */
    unsigned owed;              /* events to deliver from super_poll (bits of enum super_event) */
};

struct super {
    struct super_opts o;
    int ep;                     /* epoll set of every descriptor below */
    int wake;                   /* eventfd: readable while events are owed */
    int n;
    int in_poll, in_cb;
    char *payload;              /* CTL_MAX_PAYLOAD + 1 */
    struct comp c[SUPER_MAX];
};

/* --- small parts ------------------------------------------------------------------- */

static uint64_t now_us(void) { return clock_mono_us(); }

static int comp_id(const struct super *s, const struct comp *c) { return (int)(c - s->c); }

static void watch(struct super *s, struct comp *c, int fd, enum fd_role role)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = ((uint64_t)comp_id(s, c) << 8) | role};
    epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev);
}

/* Out of the epoll set first: a forked child may still hold the same open file,
 * and epoll would go on reporting the closed number. */
static void close_fd(struct super *s, int *fd)
{
    if (*fd < 0)
        return;
    epoll_ctl(s->ep, EPOLL_CTL_DEL, *fd, NULL);
    close(*fd);
    *fd = -1;
}

static int readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR));
}

/* The only kill() in this file. */
static void signal_comp(struct comp *c, int sig)
{
    if (!c->alive || c->pub.pid <= 0)
        return;
    kill(c->pub.pid, sig);
}

/* Make super_fd readable: events are owed, or a deadline changed. */
static void poke(struct super *s)
{
    uint64_t one = 1;
    if (write(s->wake, &one, sizeof one) < 0) {
        /* the counter is full, so the descriptor is readable anyway */
    }
}

static void fire(struct super *s, struct comp *c, enum super_event ev, const struct ctl_msg *m, const char *payload)
{
    if (!s->o.on_event)
        return;
    if (!s->in_poll || s->in_cb) {
        /* from outside super_poll, or from inside a callback: later, in order */
        assert(ev != SUPER_EV_MESSAGE);
        c->owed |= 1u << ev;
        poke(s);
        return;
    }
    s->in_cb = 1;
    s->o.on_event(s->o.ctx, s, comp_id(s, c), ev, m, payload);
    s->in_cb = 0;
}

static void deliver_owed(struct super *s)
{
    for (int round = 0; round < 8; round++) {
        int any = 0;
        for (int i = 0; i < s->n; i++) {
            struct comp *c = &s->c[i];
            for (int ev = SUPER_EV_READY; ev <= SUPER_EV_EXITED; ev++) {
                if (!(c->owed & (1u << ev)))
                    continue;
                c->owed &= ~(1u << ev);
                any = 1;
                if (s->o.on_event) {
                    s->in_cb = 1;
                    s->o.on_event(s->o.ctx, s, i, (enum super_event)ev, NULL, NULL);
                    s->in_cb = 0;
                }
            }
        }
        if (!any)
            return;
    }
}

static void describe_status(char *buf, size_t cap, int st)
{
    if (st == -1)
        snprintf(buf, cap, "ended (its exit status was taken by another reaper)");
    else if (WIFSIGNALED(st))
        snprintf(buf, cap, "died of signal %d (SIG%s)", WTERMSIG(st),
                 sigabbrev_np(WTERMSIG(st)) ? sigabbrev_np(WTERMSIG(st)) : "?");
    else if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        snprintf(buf, cap, "exited with 0 before it was told to stop");
    else if (WIFEXITED(st))
        snprintf(buf, cap, "exited with %d", WEXITSTATUS(st));
    else
        snprintf(buf, cap, "ended with status 0x%x", (unsigned)st);
}

/* The failure rule: record why, once, and tell the caller.  Stopping what is
 * left of it is the caller's next line. */
static void fail(struct super *s, struct comp *c, const char *fmt, ...)
{
    if (c->pub.failed)
        return;
    c->pub.failed = 1;
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    char own[256] = "";
    if (c->error && c->error_cap) {
        size_t n = strnlen(c->error, c->error_cap);
        if (n >= sizeof own)
            n = sizeof own - 1;
        memcpy(own, c->error, n);
        own[n] = 0;
    }
    if (c->pub.pid > 0)
        snprintf(c->pub.reason, sizeof c->pub.reason, "%s (pid %d) %s%s%s", c->pub.name, (int)c->pub.pid, what,
                 own[0] ? ": " : "", own);
    else
        snprintf(c->pub.reason, sizeof c->pub.reason, "%s %s%s%s", c->pub.name, what, own[0] ? ": " : "", own);
    fire(s, c, SUPER_EV_FAILED, NULL, NULL);
}

static void become(struct super *s, struct comp *c, enum super_state st, enum super_event ev)
{
    c->pub.state = st;
    c->deadline_us = 0;
    fire(s, c, ev, NULL, NULL);
}

static void stop_one(struct super *s, struct comp *c)
{
    switch (c->pub.state) {
    case SUPER_NEW:
        c->pub.state = SUPER_STOPPED;
        return;
    case SUPER_STOPPING:
    case SUPER_STOPPED:
    case SUPER_DEAD:
        return;
    default:
        break;
    }
    if (!c->alive)
        return;
    c->pub.state = SUPER_STOPPING;
    c->deadline_us = 0;
    struct ctl_msg m = {.type = CTL_STOP};
    if (c->ctl >= 0 && ctl_send(c->ctl, &m, NULL) == 0) {
        c->stop_step = 0;
    } else {
        signal_comp(c, SIGTERM);
        c->stop_step = 1;
    }
    c->next_us = now_us() + (uint64_t)s->o.stop_grace_ms * 1000u;
}

/* --- what the children say ------------------------------------------------------------ */

static void on_ctl(struct super *s, struct comp *c)
{
    struct ctl_msg m;
    int r = ctl_recv(c->ctl, &m, s->payload, CTL_MAX_PAYLOAD + 1);
    if (r < 0 && (errno == EAGAIN || errno == EINTR || errno == EPROTO))
        return; /* nothing yet, or a runt packet (dropped) */
    if (r <= 0) {
        close_fd(s, &c->ctl); /* it is going; the pidfd says when it is gone */
        return;
    }
    switch (m.type) {
    case CTL_READY:
        if (c->pub.state == SUPER_SPAWNED)
            become(s, c, SUPER_READY, SUPER_EV_READY);
        break;
    case CTL_DRAINED:
        if (c->pub.state == SUPER_DRAINING)
            become(s, c, SUPER_DRAINED, SUPER_EV_DRAINED);
        break;
    case CTL_FAILED:
        fail(s, c, "failed");
        stop_one(s, c);
        break;
    default:
        fire(s, c, SUPER_EV_MESSAGE, &m, s->payload);
        break;
    }
}

static void line_done(struct super *s, struct comp *c)
{
    c->line[c->line_len] = 0;
    c->line_len = 0;
    fprintf(stderr, "%s: %s\n", c->pub.name, c->line);
    if (c->pub.state == SUPER_SPAWNED && c->ready == SUPER_READY_LINE && strstr(c->line, c->ready_line))
        become(s, c, SUPER_READY, SUPER_EV_READY);
}

static void on_out(struct super *s, struct comp *c)
{
    char buf[4096];
    ssize_t n = read(c->out, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        if (c->line_len)
            line_done(s, c);
        close_fd(s, &c->out);
        return;
    }
    for (ssize_t i = 0; i < n; i++) {
        if (buf[i] != '\n')
            c->line[c->line_len++] = buf[i];
        if (buf[i] == '\n' || c->line_len == sizeof c->line - 1)
            line_done(s, c);
    }
}

static void exited(struct super *s, struct comp *c, int st)
{
    /* what it said before it went counts: CTL_DRAINED, then exit, is a clean end */
    while (c->ctl >= 0 && readable(c->ctl))
        on_ctl(s, c);
    while (c->out >= 0 && readable(c->out))
        on_out(s, c);
    c->alive = 0;
    c->pub.reaped = 1;
    c->pub.status = st;
    close_fd(s, &c->pidfd);
    close_fd(s, &c->ctl);
    close_fd(s, &c->out);
    enum super_state was = c->pub.state;
    int clean = st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
    int unexpected = was != SUPER_STOPPING && !(was == SUPER_DRAINED && clean);
    /* the state first: the callbacks below see it gone */
    c->pub.state = c->pub.failed || unexpected ? SUPER_DEAD : SUPER_STOPPED;
    if (unexpected) {
        char what[128];
        describe_status(what, sizeof what, st);
        fail(s, c, "%s", what);
    }
    fire(s, c, SUPER_EV_EXITED, NULL, NULL);
}

static void try_reap(struct super *s, struct comp *c)
{
    if (!c->alive)
        return;
    assert(c->pub.pid > 0);
    int st = 0;
    pid_t r = waitpid(c->pub.pid, &st, WNOHANG);
    if (r == 0 || (r < 0 && errno == EINTR))
        return;
    exited(s, c, r < 0 ? -1 : st); /* ECHILD: SIGCHLD ignored, or a reaper of all children elsewhere */
}

static int port_accepts(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (!ok && errno == EINPROGRESS) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int e = 0;
        socklen_t len = sizeof e;
        ok = poll(&p, 1, 10) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) == 0 && e == 0;
    }
    close(fd);
    return ok;
}

/* Deadlines, stop escalation, and what no descriptor reports. */
static void timers(struct super *s)
{
    uint64_t now = now_us();
    for (int i = 0; i < s->n; i++) {
        struct comp *c = &s->c[i];
        if (!c->alive)
            continue;
        if (c->pidfd < 0)
            try_reap(s, c);
        if (!c->alive)
            continue;
        char d[32];
        switch (c->pub.state) {
        case SUPER_SPAWNED:
            if (c->ready == SUPER_READY_PORT && now >= c->port_try_us + POLL_MS * 1000u) {
                c->port_try_us = now;
                if (port_accepts(c->ready_port)) {
                    become(s, c, SUPER_READY, SUPER_EV_READY);
                    break;
                }
            }
            if (c->deadline_us && now >= c->deadline_us) {
                units_format_us((uint64_t)c->deadline_ms * 1000u, d, sizeof d);
                fail(s, c, "was not ready within %s", d);
                stop_one(s, c);
            }
            break;
        case SUPER_DRAINING:
            if (c->deadline_us && now >= c->deadline_us) {
                units_format_us((uint64_t)c->deadline_ms * 1000u, d, sizeof d);
                fail(s, c, "did not drain within %s", d);
                stop_one(s, c);
            }
            break;
        case SUPER_STOPPING:
            if (now < c->next_us)
                break;
            c->next_us = now + (uint64_t)s->o.stop_grace_ms * 1000u;
            if (c->stop_step == 0) {
                signal_comp(c, SIGTERM);
                c->stop_step = 1;
            } else if (c->stop_step == 1) {
                signal_comp(c, SIGKILL);
                c->stop_step = 2;
            } else {
                try_reap(s, c);
                if (!c->alive)
                    break;
                /* stuck in the kernel: leave it rather than wait for ever */
                fail(s, c, "did not end after SIGKILL; left unreaped");
                c->alive = 0;
                close_fd(s, &c->pidfd);
                close_fd(s, &c->ctl);
                close_fd(s, &c->out);
                c->pub.state = SUPER_DEAD;
                fire(s, c, SUPER_EV_EXITED, NULL, NULL);
            }
            break;
        default:
            break;
        }
    }
}

static int next_ms(const struct super *s)
{
    uint64_t now = now_us(), due = UINT64_MAX;
    for (int i = 0; i < s->n; i++) {
        const struct comp *c = &s->c[i];
        if (!c->alive)
            continue;
        enum super_state st = c->pub.state;
        if (c->deadline_us && (st == SUPER_SPAWNED || st == SUPER_DRAINING) && c->deadline_us < due)
            due = c->deadline_us;
        if (st == SUPER_STOPPING && c->next_us < due)
            due = c->next_us;
        if (st == SUPER_SPAWNED && c->ready == SUPER_READY_PORT && c->port_try_us + POLL_MS * 1000u < due)
            due = c->port_try_us + POLL_MS * 1000u;
        if (c->pidfd < 0 && now + POLL_MS * 1000u < due)
            due = now + POLL_MS * 1000u;
    }
    if (due == UINT64_MAX)
        return -1;
    return due <= now ? 0 : (int)((due - now + 999) / 1000);
}

/* --- spawning --------------------------------------------------------------------------- */

static pid_t do_fork(struct super *s)
{
    fflush(NULL); /* or the child's exit writes the parent's buffered output again */
    return s->o.fork_fn ? s->o.fork_fn() : fork();
}

/* In a new child: nothing of the supervisor's, and the parent decides when to stop. */
static void child_prepare(struct super *s)
{
    for (int i = 0; i < s->n; i++) {
        struct comp *c = &s->c[i];
        if (c->ctl >= 0)
            close(c->ctl);
        if (c->pidfd >= 0)
            close(c->pidfd);
        if (c->out >= 0)
            close(c->out);
    }
    close(s->ep);
    close(s->wake);
    /* a process group of its own: a signal to the parent's whole group (timeout(1)
     * sends its SIGTERM to the group, a shell's kill -- -PGID) reaches the parent
     * alone, which then drains and stops its components in order; the parent's end
     * still takes them down (PR_SET_PDEATHSIG below) */
    setpgid(0, 0);
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_DFL);
    signal(SIGCHLD, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

static int start_failed(struct comp *c, char *err, size_t errcap, const char *what, int e)
{
    c->pub.state = SUPER_DEAD;
    c->pub.failed = 1;
    snprintf(c->pub.reason, sizeof c->pub.reason, "cannot start %s: %s: %s", c->pub.name, what, strerror(e));
    snprintf(err, errcap, "%s", c->pub.reason);
    return -1;
}

static int started(struct super *s, struct comp *c, pid_t pid)
{
    assert(pid > 0);
    c->pub.pid = pid;
    c->alive = 1;
    c->pub.state = SUPER_SPAWNED;
    c->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (c->pidfd >= 0) {
        fcntl(c->pidfd, F_SETFD, FD_CLOEXEC);
        watch(s, c, c->pidfd, FD_PID);
    }
    if (c->ready_timeout_ms > 0) {
        c->deadline_ms = c->ready_timeout_ms;
        c->deadline_us = now_us() + (uint64_t)c->ready_timeout_ms * 1000u;
    }
    if (c->ready == SUPER_READY_NOW)
        become(s, c, SUPER_READY, SUPER_EV_READY);
    return 0;
}

static int spawn_fn(struct super *s, struct comp *c, char *err, size_t errcap)
{
    int fds[2];
    if (ctl_pair(fds) < 0)
        return start_failed(c, err, errcap, "control channel", errno);
    pid_t pid = do_fork(s);
    if (pid < 0) {
        int e = errno;
        close(fds[0]);
        close(fds[1]);
        return start_failed(c, err, errcap, "fork", e);
    }
    if (pid == 0) {
        close(fds[0]);
        child_prepare(s);
        prctl(PR_SET_NAME, c->comm);
        _exit(c->main(c->arg, fds[1]));
    }
    close(fds[1]);
    c->ctl = fds[0];
    watch(s, c, c->ctl, FD_CTL);
    return started(s, c, pid);
}

static void mark_all_cloexec(void)
{
    if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
        return;
    long max = sysconf(_SC_OPEN_MAX);
    for (long fd = 3; fd < (max > 0 && max < 65536 ? max : 65536); fd++)
        fcntl((int)fd, F_SETFD, FD_CLOEXEC);
}

static int spawn_exec(struct super *s, struct comp *c, char *err, size_t errcap)
{
    int out[2] = {-1, -1}, ep[2];
    if (c->ready == SUPER_READY_LINE && pipe2(out, O_CLOEXEC) < 0)
        return start_failed(c, err, errcap, "pipe", errno);
    if (pipe2(ep, O_CLOEXEC) < 0) {
        int e = errno;
        if (out[0] >= 0) {
            close(out[0]);
            close(out[1]);
        }
        return start_failed(c, err, errcap, "pipe", e);
    }
    pid_t parent = getpid();
    pid_t pid = do_fork(s);
    if (pid < 0) {
        int e = errno;
        close(ep[0]);
        close(ep[1]);
        if (out[0] >= 0) {
            close(out[0]);
            close(out[1]);
        }
        return start_failed(c, err, errcap, "fork", e);
    }
    if (pid == 0) {
        close(ep[0]);
        if (out[0] >= 0)
            close(out[0]);
        child_prepare(s);
        /* a program has no control channel to see the parent go: take it down with it */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(127);
        if (out[1] == STDOUT_FILENO) {
            fcntl(STDOUT_FILENO, F_SETFD, 0);
        } else if (out[1] >= 0) {
            dup2(out[1], STDOUT_FILENO);
            close(out[1]);
        }
        mark_all_cloexec();
        execvp(c->argv[0], c->argv);
        int e = errno;
        if (write(ep[1], &e, sizeof e) < 0)
            _exit(126);
        _exit(127);
    }
    close(ep[1]);
    if (out[1] >= 0)
        close(out[1]);
    int e = 0;
    ssize_t r;
    do
        r = read(ep[0], &e, sizeof e);
    while (r < 0 && errno == EINTR);
    close(ep[0]);
    if (r == (ssize_t)sizeof e) {
        /* exec failed and the child is ending by itself: reap it now */
        int st = 0;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
            ;
        if (out[0] >= 0)
            close(out[0]);
        c->pub.pid = pid;
        c->pub.reaped = 1;
        c->pub.status = st;
        return start_failed(c, err, errcap, c->argv[0], e);
    }
    if (out[0] >= 0) {
        fcntl(out[0], F_SETFL, O_NONBLOCK);
        c->out = out[0];
        watch(s, c, c->out, FD_OUT);
    }
    return started(s, c, pid);
}

/* --- the API ------------------------------------------------------------------------------ */

struct super *super_new(const struct super_opts *o)
{
    struct super *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    if (o)
        s->o = *o;
    if (s->o.stop_grace_ms <= 0)
        s->o.stop_grace_ms = SUPER_STOP_GRACE_MS;
    s->ep = epoll_create1(EPOLL_CLOEXEC);
    s->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    s->payload = malloc(CTL_MAX_PAYLOAD + 1);
    if (s->ep < 0 || s->wake < 0 || !s->payload) {
        int e = s->payload ? errno : ENOMEM;
        if (s->ep >= 0)
            close(s->ep);
        if (s->wake >= 0)
            close(s->wake);
        free(s->payload);
        free(s);
        errno = e;
        return NULL;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = FD_WAKE};
    epoll_ctl(s->ep, EPOLL_CTL_ADD, s->wake, &ev);
    return s;
}

void super_free(struct super *s)
{
    if (!s)
        return;
    s->o.on_event = NULL;
    super_stop(s, SUPER_ALL);
    super_wait(s, SUPER_ALL, -1);
    for (int i = 0; i < s->n; i++) {
        struct comp *c = &s->c[i];
        close_fd(s, &c->ctl);
        close_fd(s, &c->pidfd);
        close_fd(s, &c->out);
        if (c->argv) {
            for (char **a = c->argv; *a; a++)
                free(*a);
            free(c->argv);
        }
    }
    close(s->ep);
    close(s->wake);
    free(s->payload);
    free(s);
}

int super_add(struct super *s, const struct super_spec *sp, char *err, size_t errcap)
{
    const char *name = sp->name ? sp->name : "";
    if (!name[0]) {
        snprintf(err, errcap, "a component needs a name");
        return -1;
    }
    if (s->n >= SUPER_MAX) {
        snprintf(err, errcap, "%s: more than %d components", name, SUPER_MAX);
        return -1;
    }
    if (!sp->main && (!sp->argv || !sp->argv[0])) {
        snprintf(err, errcap, "%s: neither a function nor a program to run", name);
        return -1;
    }
    if (sp->main && sp->ready == SUPER_READY_LINE) {
        snprintf(err, errcap, "%s: a function has no stdout to watch for a ready line", name);
        return -1;
    }
    if (!sp->main && sp->ready == SUPER_READY_CTL) {
        snprintf(err, errcap, "%s: a program has no control channel to say it is ready", name);
        return -1;
    }
    if (sp->ready == SUPER_READY_PORT && !sp->ready_port) {
        snprintf(err, errcap, "%s: ready when which port accepts?", name);
        return -1;
    }
    if (sp->ready == SUPER_READY_LINE && (!sp->ready_line || !sp->ready_line[0])) {
        snprintf(err, errcap, "%s: ready on which line?", name);
        return -1;
    }
    struct comp *c = &s->c[s->n];
    memset(c, 0, sizeof *c);
    c->ctl = c->pidfd = c->out = -1;
    snprintf(c->pub.name, sizeof c->pub.name, "%s", name);
    c->pub.kind = sp->kind;
    c->main = sp->main;
    c->arg = sp->arg;
    c->ready = sp->ready;
    c->ready_port = sp->ready_port;
    if (sp->ready_line)
        snprintf(c->ready_line, sizeof c->ready_line, "%s", sp->ready_line);
    c->ready_timeout_ms = sp->ready_timeout_ms ? sp->ready_timeout_ms : SUPER_READY_TIMEOUT_MS;
    c->error = sp->error;
    c->error_cap = sp->error_cap;
    /* "fs-worker-3", "fs-gateway-0": which process is which in ps and top */
    snprintf(c->comm, sizeof c->comm, "fs-%s", sp->comm ? sp->comm : name);
    for (char *q = c->comm; *q; q++)
        if (*q == ' ')
            *q = '-';
    if (!sp->main) {
        size_t n = 0;
        while (sp->argv[n])
            n++;
        c->argv = calloc(n + 1, sizeof *c->argv);
        for (size_t i = 0; c->argv && i < n; i++)
            if (!(c->argv[i] = strdup(sp->argv[i]))) {
                for (size_t k = 0; k < i; k++)
                    free(c->argv[k]);
                free(c->argv);
                c->argv = NULL;
            }
        if (!c->argv) {
            snprintf(err, errcap, "%s: out of memory", name);
            return -1;
        }
    }
    return s->n++;
}

int super_spawn(struct super *s, char *err, size_t errcap)
{
    for (int i = 0; i < s->n; i++) {
        struct comp *c = &s->c[i];
        if (c->pub.state != SUPER_NEW)
            continue;
        if ((c->main ? spawn_fn(s, c, err, errcap) : spawn_exec(s, c, err, errcap)) < 0) {
            poke(s);
            return -1;
        }
    }
    poke(s); /* ready deadlines to keep */
    return 0;
}

int super_drain(struct super *s, unsigned mask, const struct ctl_msg *m, int timeout_ms)
{
    struct ctl_msg d = {0};
    if (m)
        d = *m;
    d.type = CTL_DRAIN;
    uint64_t now = now_us();
    int told = 0;
    for (int i = 0; i < s->n; i++) {
        struct comp *c = &s->c[i];
        if (!(c->pub.kind & mask) || !c->alive || (c->pub.state != SUPER_SPAWNED && c->pub.state != SUPER_READY))
            continue;
        if (!c->main) {
            become(s, c, SUPER_DRAINED, SUPER_EV_DRAINED); /* a program has nothing to settle */
            continue;
        }
        c->pub.state = SUPER_DRAINING;
        c->deadline_ms = timeout_ms;
        c->deadline_us = timeout_ms > 0 ? now + (uint64_t)timeout_ms * 1000u : 0;
        if (c->ctl >= 0 && ctl_send(c->ctl, &d, NULL) == 0) {
            told++;
            continue;
        }
        /* its channel is gone, so it is going: its end (and status) will be along
         * shortly; the deadline covers one that lingers */
        if (!c->deadline_us || c->deadline_us > now + (uint64_t)s->o.stop_grace_ms * 1000u) {
            c->deadline_ms = s->o.stop_grace_ms;
            c->deadline_us = now + (uint64_t)s->o.stop_grace_ms * 1000u;
        }
    }
    poke(s);
    return told;
}

void super_stop(struct super *s, unsigned mask)
{
    for (int i = 0; i < s->n; i++)
        if (s->c[i].pub.kind & mask)
            stop_one(s, &s->c[i]);
    poke(s);
}

int super_send(struct super *s, int id, const struct ctl_msg *m, const char *payload)
{
    if (id < 0 || id >= s->n) {
        errno = EINVAL;
        return -1;
    }
    struct comp *c = &s->c[id];
    if (!c->alive || c->ctl < 0 || c->pub.state == SUPER_STOPPING)
        return 1;
    return ctl_send(c->ctl, m, payload) < 0 ? -1 : 0;
}

int super_fd(const struct super *s) { return s->ep; }

int super_poll(struct super *s, int timeout_ms)
{
    if (s->in_poll)
        return 0; /* from a callback: the running poll goes on */
    s->in_poll = 1;
    deliver_owed(s);
    int wait = next_ms(s);
    if (wait < 0 || (timeout_ms >= 0 && wait > timeout_ms))
        wait = timeout_ms;
    struct epoll_event ev[64];
    int n = epoll_wait(s->ep, ev, 64, wait);
    for (int i = 0; i < n; i++) {
        int id = (int)(ev[i].data.u64 >> 8);
        enum fd_role role = (enum fd_role)(ev[i].data.u64 & 0xFF);
        if (role == FD_WAKE) {
            uint64_t v;
            if (read(s->wake, &v, sizeof v) < 0) {
                /* already reset */
            }
            continue;
        }
        if (id >= s->n)
            continue;
        struct comp *c = &s->c[id];
        if (role == FD_CTL && c->ctl >= 0)
            on_ctl(s, c);
        else if (role == FD_OUT && c->out >= 0)
            on_out(s, c);
        else if (role == FD_PID && c->pidfd >= 0)
            try_reap(s, c);
    }
    timers(s);
    deliver_owed(s);
    s->in_poll = 0;
    return next_ms(s);
}

int super_pending(const struct super *s, unsigned mask)
{
    int n = 0;
    for (int i = 0; i < s->n; i++) {
        enum super_state st = s->c[i].pub.state;
        if ((s->c[i].pub.kind & mask) && (st == SUPER_SPAWNED || st == SUPER_DRAINING || st == SUPER_STOPPING))
            n++;
    }
    return n;
}

int super_wait(struct super *s, unsigned mask, int timeout_ms)
{
    uint64_t end = timeout_ms >= 0 ? now_us() + (uint64_t)timeout_ms * 1000u : 0;
    while (super_pending(s, mask)) {
        int slice = 1000;
        if (timeout_ms >= 0) {
            uint64_t now = now_us();
            if (now >= end)
                return -1;
            if (end - now < 1000000u)
                slice = (int)((end - now + 999) / 1000);
        }
        super_poll(s, slice);
    }
    if (s->o.on_event)
        super_poll(s, 0); /* what the last step owed */
    return 0;
}

int super_count(const struct super *s) { return s->n; }

const struct super_comp *super_comp(const struct super *s, int id)
{
    return id >= 0 && id < s->n ? &s->c[id].pub : NULL;
}

const struct super_comp *super_failed(const struct super *s, unsigned mask)
{
    for (int i = 0; i < s->n; i++)
        if ((s->c[i].pub.kind & mask) && s->c[i].pub.failed)
            return &s->c[i].pub;
    return NULL;
}

int super_in_state(const struct super *s, unsigned mask, enum super_state st)
{
    int n = 0;
    for (int i = 0; i < s->n; i++)
        if ((s->c[i].pub.kind & mask) && s->c[i].pub.state == st)
            n++;
    return n;
}

const char *super_state_name(enum super_state st)
{
    static const char *const names[] = {"new", "spawned", "ready", "draining", "drained", "stopping", "stopped", "dead"};
    return (unsigned)st < sizeof names / sizeof names[0] ? names[st] : "?";
}
