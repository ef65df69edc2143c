#include "sim/core/super_ev.h"

static void arm(struct super_ev *w, int ms)
{
    ev_timer_stop(w->loop, &w->timer);
    if (ms < 0)
        return;
    ev_timer_set(&w->timer, ms / 1000.0, 0);
    ev_timer_start(w->loop, &w->timer);
}

static void io_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct super_ev *w = io->data;
    arm(w, super_poll(w->sup, 0));
    (void)loop;
    (void)revents;
}

static void timer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct super_ev *w = t->data;
    arm(w, super_poll(w->sup, 0));
    (void)loop;
    (void)revents;
}

void super_ev_start(struct super_ev *w, struct ev_loop *loop, struct super *s)
{
    w->sup = s;
    w->loop = loop;
    ev_io_init(&w->io, io_cb, super_fd(s), EV_READ);
    w->io.data = w;
    ev_io_start(loop, &w->io);
    ev_timer_init(&w->timer, timer_cb, 0, 0);
    w->timer.data = w;
    ev_timer_start(loop, &w->timer);
}

void super_ev_stop(struct super_ev *w)
{
    if (!w->loop)
        return;
    ev_io_stop(w->loop, &w->io);
    ev_timer_stop(w->loop, &w->timer);
    w->loop = NULL;
}
