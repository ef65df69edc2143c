/* `fleetsim run --dash`: the dashboard (report/dash_tty.c) in the run's own
 * terminal, as a client of the run's stats socket (run.c starts and stops it). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/run_internal.h"
#include "report/dash_tty.h"
#include "sim/core/fdio.h"

/* --dash: the dashboard is a client of the run's own stats server, in the
 * parent's loop.  It reads the same documents any `fleetsim top` reads and asks
 * through the same requests, so there is one way in; the documents are built
 * from the snapshot the parent takes anyway, so the workers do nothing more.
 * Without --stats the server listens on a private socket in a directory of its
 * own (mode 0700). */
int run_dash_prepare(struct run *r, char *err, size_t errcap)
{
    if (!r->o->dash)
        return 0;
    if (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO)) {
        fprintf(stderr, "fleetsim run: --dash needs a terminal (stdin and stdout); status lines instead\n");
        return 0;
    }
    /* in the background (`&`, `timeout` without --foreground) the terminal is
     * another group's: drawing on it would stop the run (SIGTTOU) for good */
    if (tcgetpgrp(STDIN_FILENO) != getpgrp()) {
        fprintf(stderr, "fleetsim run: --dash needs the terminal's foreground (this run is in the background: "
                        "under timeout, give it --foreground); status lines instead\n");
        return 0;
    }
    /* what the processes write to stderr while the dashboard is up would wreck its
     * screen: it goes to a file, written out on the terminal once it is given back */
    snprintf(r->dash_log, sizeof r->dash_log, "/tmp/fleetsim-dash-log-XXXXXX");
    r->dash_log_fd = mkstemp(r->dash_log);
    if (r->dash_log_fd < 0) {
        snprintf(err, errcap, "--dash: cannot make a file for the processes' messages: %s", strerror(errno));
        r->dash_log[0] = 0;
        return -1;
    }
    unlink(r->dash_log); /* open, nameless: nothing is left behind, whatever ends the run */
    if (r->o->stats_addr) {
        snprintf(r->dash_sock, sizeof r->dash_sock, "%s", r->o->stats_addr);
        return 0;
    }
    snprintf(r->dash_dir, sizeof r->dash_dir, "/tmp/fleetsim-dash-XXXXXX");
    if (!mkdtemp(r->dash_dir)) {
        snprintf(err, errcap, "--dash: cannot make a directory for its socket: %s", strerror(errno));
        r->dash_dir[0] = 0;
        return -1;
    }
    snprintf(r->dash_sock, sizeof r->dash_sock, "%s/stats.sock", r->dash_dir);
    return 0;
}

static void dash_quit(void *ctx)
{
    struct run *r = ctx;
    /* the dashboard is down already; the run stops as on Ctrl-C */
    run_interrupt(r);
}

void run_dash_start(struct run *r)
{
    if (!r->dash_sock[0])
        return;
    const char *addrs[1] = {r->dash_sock};
    struct dash_tty_opts o = {.addrs = addrs, .n_addrs = 1, .on_quit = dash_quit, .ctx = r};
    char err[512];
    r->dash = dash_tty_start(r->loop, &o, err, sizeof err);
    if (!r->dash) {
        fprintf(stderr, "fleetsim run: --dash: %s; status lines instead\n", err);
        return;
    }
    if (r->dash_log[0]) {
        fflush(stderr);
        r->dash_saved_stderr = dup(STDERR_FILENO);
        if (r->dash_saved_stderr >= 0)
            dup2(r->dash_log_fd, STDERR_FILENO);
    }
}

/* The dashboard down: the terminal back, and what the processes said meanwhile
 * written on it, so that nothing they reported is lost. */
void run_dash_stop(struct run *r)
{
    dash_tty_free(r->dash);
    r->dash = NULL;
    if (r->dash_saved_stderr >= 0) {
        fflush(stderr);
        dup2(r->dash_saved_stderr, STDERR_FILENO);
        close(r->dash_saved_stderr);
        r->dash_saved_stderr = -1;
    }
    if (!r->dash_log[0])
        return;
    char buf[4096];
    ssize_t n;
    if (lseek(r->dash_log_fd, 0, SEEK_SET) == 0)
        while ((n = read(r->dash_log_fd, buf, sizeof buf)) > 0)
            fd_write_all(STDERR_FILENO, buf, (size_t)n);
    close(r->dash_log_fd);
    r->dash_log[0] = 0;
}

