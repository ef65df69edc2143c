/* The dashboard on a terminal: ncurses, the stats sockets as clients, all on
 * the caller's libev loop (fleetsim top has its own; run --dash puts it on the
 * run's loop, beside the run's own stats server). */
#ifndef FLEETSIM_DASH_TTY_H
#define FLEETSIM_DASH_TTY_H

#include <ev.h>
#include <stddef.h>

struct dash_tty;

struct dash_tty_opts {
    const char *const *addrs;        /* the stats sockets */
    int n_addrs;
    void (*on_quit)(void *ctx);      /* the user quit (q, y): the dashboard is already down */
    void *ctx;
    int watch_only;                  /* fleetsim top: q leaves the run going (the quit prompt says so) */
};

/* Connect to every address (each must accept: else -1 with "ADDR: why" in err),
 * take the terminal and start.  NULL with err on failure (the terminal is left
 * as it was). */
struct dash_tty *dash_tty_start(struct ev_loop *loop, const struct dash_tty_opts *o, char *err, size_t errcap);
/* Give the terminal back and stop every watcher (idempotent; called on quit). */
void dash_tty_stop(struct dash_tty *t);
/* Stop and free. */
void dash_tty_free(struct dash_tty *t);

/* Connect a unix stream socket to path; fd or -1 with err. */
int dash_connect(const char *path, char *err, size_t errcap);

#endif
