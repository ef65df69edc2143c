/* A supervisor (super.h) on a libev loop: its descriptor watched, super_poll
 * called when it is readable and at the deadline it returns. */
#ifndef FLEETSIM_SUPER_EV_H
#define FLEETSIM_SUPER_EV_H

#include <ev.h>

#include "sim/core/super.h"

struct super_ev {
    struct super *sup;
    struct ev_loop *loop;
    ev_io io;                     /* on super_fd */
    ev_timer timer;               /* the supervisor's next deadline */
};

/* Watch s on loop (polled once at the loop's next turn). */
void super_ev_start(struct super_ev *w, struct ev_loop *loop, struct super *s);
void super_ev_stop(struct super_ev *w);

#endif
