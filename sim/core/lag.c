/* Loop-lag probe (see lag.h). */
#include "sim/core/lag.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static struct {
    struct ev_loop *loop;
    ev_prepare prep;
    ev_check chk;
    ev_timer report;
    FILE *out;
    double woke;               /* when the loop last came back from its poll */
    double busy, worst, worst_at, sect, sect_at;
    const char *sect_what;
    unsigned long iters, over1, over5;
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

/* before the poll: the iteration that began at the last check ends here */
static void prep_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
    (void)loop, (void)w, (void)revents;
    if (P.woke <= 0)
        return;
    double d = mono() - P.woke;
    P.woke = 0;
    P.iters++;
    P.busy += d;
    if (d > 0.001)
        P.over1++;
    if (d > 0.005)
        P.over5++;
    if (d > P.worst) {
        P.worst = d;
        P.worst_at = wall();
    }
}

static void chk_cb(struct ev_loop *loop, ev_check *w, int revents)
{
    (void)loop, (void)w, (void)revents;
    P.woke = mono();
}

static void report_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop, (void)w, (void)revents;
    fprintf(P.out, "%.3f iters %lu busy %.1f%% worst %.2f ms at %.3f over1ms %lu over5ms %lu section %s %.2f ms at %.3f\n",
            wall(), P.iters, P.busy * 100, P.worst * 1e3, P.worst_at, P.over1, P.over5,
            P.sect_what ? P.sect_what : "-", P.sect * 1e3, P.sect_at);
    fflush(P.out);
    P.iters = P.over1 = P.over5 = 0;
    P.busy = P.worst = P.sect = 0;
    P.sect_what = NULL;
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

double lag_begin(void)
{
    return P.loop ? mono() : 0;
}

void lag_end(const char *what, double t0)
{
    if (!P.loop || t0 <= 0)
        return;
    double d = mono() - t0;
    if (d > P.sect) {
        P.sect = d;
        P.sect_what = what;
        P.sect_at = wall();
    }
}
