/* Loop-lag probe (see lag.h). */
#include "sim/core/lag.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* One interval's figures: wall and CPU seconds, involuntary and voluntary context
 * switches (descheduled while runnable; blocked in a system call). */
struct lag_span {
    double wall, cpu;
    long ivcsw, vcsw;
    double at;                 /* wall clock when it ended */
};

static struct {
    struct ev_loop *loop;
    ev_prepare prep;
    ev_check chk;
    ev_timer report;
    FILE *out;
    struct lag_mark woke;      /* when the loop last came back from its poll (t 0: not yet) */
    struct lag_mark second;    /* the start of this report's second */
    double busy;
    struct lag_span worst, sect;
    const char *sect_what;
    unsigned long iters, over1, over5;
    unsigned long long stolen, total; /* the machine's CPU ticks so far: stolen by the hypervisor, all */
} P;

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The thread's CPU time from its scheduler clock (getrusage's times can come in
 * whole ticks), its context switches from getrusage. */
static struct lag_mark mark(void)
{
    struct lag_mark m = {.t = mono()};
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0)
        m.cpu = (double)ts.tv_sec + ts.tv_nsec / 1e9;
    struct rusage ru;
    if (getrusage(RUSAGE_THREAD, &ru) == 0) {
        m.ivcsw = ru.ru_nivcsw;
        m.vcsw = ru.ru_nvcsw;
    }
    return m;
}

/* The machine's CPU ticks (all CPUs) from /proc/stat: stolen by the hypervisor
 * (a virtual CPU not running while its tasks count as running) and all; false
 * when unreadable. */
static bool cpu_ticks(unsigned long long *stolen, unsigned long long *total)
{
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return false;
    unsigned long long v[8] = {0};
    int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
                   &v[6], &v[7]);
    fclose(f);
    if (n < 8)
        return false;
    *stolen = v[7];
    *total = 0;
    for (int i = 0; i < 8; i++)
        *total += v[i];
    return true;
}

static struct lag_span span(struct lag_mark a, struct lag_mark b)
{
    return (struct lag_span){.wall = b.t - a.t, .cpu = b.cpu - a.cpu, .ivcsw = b.ivcsw - a.ivcsw, .vcsw = b.vcsw - a.vcsw,
                             .at = wall()};
}

/* before the poll: the iteration that began at the last check ends here */
static void prep_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
    (void)loop, (void)w, (void)revents;
    if (P.woke.t <= 0)
        return;
    struct lag_mark now = mark();
    double d = now.t - P.woke.t;
    P.iters++;
    P.busy += d;
    if (d > 0.001)
        P.over1++;
    if (d > 0.005)
        P.over5++;
    if (d > P.worst.wall)
        P.worst = span(P.woke, now);
    P.woke.t = 0;
}

static void chk_cb(struct ev_loop *loop, ev_check *w, int revents)
{
    (void)loop, (void)w, (void)revents;
    P.woke = mark();
}

static void report_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop, (void)w, (void)revents;
    struct lag_mark now = mark();
    struct lag_span sec = span(P.second, now);
    unsigned long long stolen = 0, total = 0;
    double steal = -1;
    if (cpu_ticks(&stolen, &total) && total > P.total)
        steal = (double)(stolen - P.stolen) * 100 / (double)(total - P.total);
    P.stolen = stolen;
    P.total = total;
    fprintf(P.out,
            "%.3f iters %lu busy %.1f%% cpu %.1f%% ivcsw %ld"
            " worst %.2f ms cpu %.2f ms ivcsw %ld vcsw %ld at %.3f over1ms %lu over5ms %lu"
            " section %s %.2f ms cpu %.2f ms ivcsw %ld vcsw %ld at %.3f steal %.1f%%\n",
            wall(), P.iters, P.busy * 100 / (sec.wall > 0 ? sec.wall : 1), sec.cpu * 100 / (sec.wall > 0 ? sec.wall : 1),
            sec.ivcsw, P.worst.wall * 1e3, P.worst.cpu * 1e3, P.worst.ivcsw, P.worst.vcsw, P.worst.at, P.over1,
            P.over5, P.sect_what ? P.sect_what : "-", P.sect.wall * 1e3, P.sect.cpu * 1e3, P.sect.ivcsw,
            P.sect.vcsw, P.sect.at, steal);
    fflush(P.out);
    P.iters = P.over1 = P.over5 = 0;
    P.busy = 0;
    P.worst = P.sect = (struct lag_span){0};
    P.sect_what = NULL;
    P.second = now;
}

void lag_start(struct ev_loop *loop, const char *who, int id)
{
    const char *dir = getenv("FLEETSIM_LOOP_LAG");
    if (!dir || !*dir || P.loop)
        return;
    char path[4096];
    snprintf(path, sizeof path, "%s/lag-%s-%d-%ld.txt", dir, who, id, (long)getpid());
    P.out = fopen(path, "w");
    if (!P.out) {
        fprintf(stderr, "loop-lag probe: cannot write %s\n", path);
        return;
    }
    P.loop = loop;
    P.second = mark();
    cpu_ticks(&P.stolen, &P.total);
    ev_prepare_init(&P.prep, prep_cb);
    ev_set_priority(&P.prep, EV_MINPRI); /* after the other prepare watchers */
    ev_prepare_start(loop, &P.prep);
    ev_check_init(&P.chk, chk_cb);
    ev_set_priority(&P.chk, EV_MAXPRI); /* before every other watcher */
    ev_check_start(loop, &P.chk);
    ev_unref(loop);
    ev_unref(loop);
    ev_timer_init(&P.report, report_cb, 1.0, 1.0);
    ev_timer_start(loop, &P.report);
    ev_unref(loop);
}

void lag_stop(void)
{
    if (!P.loop)
        return;
    ev_ref(P.loop);
    ev_ref(P.loop);
    ev_ref(P.loop);
    ev_prepare_stop(P.loop, &P.prep);
    ev_check_stop(P.loop, &P.chk);
    ev_timer_stop(P.loop, &P.report);
    fclose(P.out);
    P.out = NULL;
    P.loop = NULL;
}

struct lag_mark lag_begin(void)
{
    return P.loop ? mark() : (struct lag_mark){0};
}

void lag_end(const char *what, struct lag_mark start)
{
    if (!P.loop || start.t <= 0)
        return;
    struct lag_mark now = mark();
    if (now.t - start.t > P.sect.wall) {
        P.sect = span(start, now);
        P.sect_what = what;
    }
}
