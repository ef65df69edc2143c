/* `fleetsim top [options] ADDR...`: the live dashboard attached to the stats
 * sockets of running runs (run --stats, serve --stats); several sockets are the
 * shards of one run and are summed. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "report/dash.h"
#include "report/dash_tty.h"
#include "sim/cli/cmd.h"

#define ONCE_WAIT_MS 10000       /* --once: the longest it waits for a source's first document */

static int usage(FILE *to)
{
    fprintf(to,
            "usage: fleetsim top [options] ADDR...\n"
            "The live dashboard of a running run: attaches to the stats socket ADDR of\n"
            "`fleetsim run --stats ADDR` (or `fleetsim serve --stats ADDR`).  Several ADDRs are\n"
            "the shards of one run (--shard K/N), shown summed.\n"
            "\n"
            "      --once              print the overview once as text and exit (no terminal needed)\n"
            "  -w, --width N           --once: the width of the text (default 80; 40 to 400)\n"
            "  -h, --help              this text\n"
            "\n"
            "Keys: tab or 1-6 views (overview, transitions, events, terminal, verdicts,\n"
            "latency); up/down select a fleet; p pause/resume; + / - grow/shrink the selected\n"
            "fleet by 10%%; f disconnect 10%% of it; / search a terminal; ? help; Ctrl-L redraw;\n"
            "q leave (the run goes on).\n"
            "NO_COLOR set in the environment: no colours.  docs/dash.md has the views.\n"
            "Exit: 0; 2 usage error or an ADDR that cannot be reached; 3 a source that sent\n"
            "no document or a broken one (--once).\n"
            "example: fleetsim top /tmp/run1.sock /tmp/run2.sock\n");
    return to == stdout ? 0 : RUN_EXIT_USAGE;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The first document of fd into source i of m; 0, or -1 with err. */
static int read_first(struct dash_model *m, int i, int fd, char *err, size_t errcap)
{
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    double until = mono_s() + ONCE_WAIT_MS / 1000.0;
    int rc = -1;
    snprintf(err, errcap, "%s: no document within %d s", m->src[i].addr, ONCE_WAIT_MS / 1000);
    while (buf) {
        int left = (int)((until - mono_s()) * 1000);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&p, 1, left) <= 0)
            break;
        if (cap - len < 4096) {
            char *b = cap < DASH_LINE_MAX ? realloc(buf, cap * 2) : NULL;
            if (!b) {
                snprintf(err, errcap, "%s: a line longer than %u bytes", m->src[i].addr, DASH_LINE_MAX);
                break;
            }
            buf = b;
            cap *= 2;
        }
        ssize_t n = recv(fd, buf + len, cap - len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            snprintf(err, errcap, "%s: closed before a whole document", m->src[i].addr);
            break;
        }
        char *nl = memchr(buf + len, '\n', (size_t)n);
        len += (size_t)n;
        if (!nl)
            continue;
        cJSON *reply = NULL;
        enum dash_line k = dash_model_line(m, i, buf, (size_t)(nl - buf), &reply, err, errcap);
        cJSON_Delete(reply);
        if (k == DL_DOC)
            rc = 0;
        else if (k == DL_REPLY)
            snprintf(err, errcap, "%s: a reply before any document", m->src[i].addr);
        break;
    }
    free(buf);
    return rc;
}

static int top_once(const char *const *addrs, int n, int width)
{
    static struct dash_model m;
    if (dash_model_init(&m) < 0) {
        fprintf(stderr, "fleetsim top: out of memory\n");
        return RUN_EXIT_HARNESS;
    }
    int rc = RUN_EXIT_PASS;
    char err[768];
    for (int i = 0; i < n && rc == RUN_EXIT_PASS; i++) {
        int fd = dash_connect(addrs[i], err, sizeof err);
        if (fd < 0) {
            rc = cmd_usage_error("top", "%s", err);
            break;
        }
        dash_model_add_source(&m, addrs[i]);
        if (read_first(&m, i, fd, err, sizeof err) < 0) {
            fprintf(stderr, "fleetsim top: %s\n", err);
            rc = RUN_EXIT_HARNESS;
        }
        close(fd);
    }
    if (rc == RUN_EXIT_PASS) {
        dash_model_merge(&m, mono_s(), 1);
        char *t = dash_overview_text(&m, width, mono_s());
        if (t)
            fputs(t, stdout);
        free(t);
        if (m.merge_err[0]) {
            fprintf(stderr, "fleetsim top: %s\n", m.merge_err);
            rc = RUN_EXIT_HARNESS;
        }
    }
    dash_model_free(&m);
    return rc;
}

static void quit_cb(void *ctx) { ev_break((struct ev_loop *)ctx, EVBREAK_ALL); }

static void sig_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
    ev_break(loop, EVBREAK_ALL);
    (void)w;
    (void)revents;
}

int cmd_top(int argc, char **argv)
{
    static const struct option opts[] = {
        {"once", no_argument, NULL, 'O'},
        {"width", required_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int once = 0, width = 80, c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":w:h", opts, NULL)) != -1) {
        switch (c) {
        case 'O': once = 1; break;
        case 'w': {
            char *end;
            long w = strtol(optarg, &end, 10);
            if (end == optarg || *end || w < 40 || w > 400)
                return cmd_usage_error("top", "--width: '%s' is not a width of 40 to 400", optarg);
            width = (int)w;
            break;
        }
        case 'h': return usage(stdout);
        default: return cmd_bad_option("top", opts, c, argv);
        }
    }
    int n = argc - optind;
    if (n < 1)
        return cmd_usage_error("top", "an ADDR is needed: the stats socket of a run (run --stats ADDR)");
    if (n > DASH_MAX_SOURCES)
        return cmd_usage_error("top", "at most %d ADDRs, not %d", DASH_MAX_SOURCES, n);
    const char *const *addrs = (const char *const *)argv + optind;
    if (once)
        return top_once(addrs, n, width);

    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    if (!loop) {
        fprintf(stderr, "fleetsim top: cannot create an event loop\n");
        return RUN_EXIT_HARNESS;
    }
    char err[512];
    struct dash_tty_opts o = {.addrs = addrs, .n_addrs = n, .on_quit = quit_cb, .ctx = loop, .watch_only = 1};
    struct dash_tty *t = dash_tty_start(loop, &o, err, sizeof err);
    if (!t) {
        ev_loop_destroy(loop);
        return cmd_usage_error("top", "%s", err);
    }
    /* SIGHUP too (the terminal closed, or kill -HUP): leave as on Ctrl-C, the terminal
     * given back rather than left in the dashboard's modes */
    ev_signal sint, sterm, shup;
    ev_signal_init(&sint, sig_cb, SIGINT);
    ev_signal_init(&sterm, sig_cb, SIGTERM);
    ev_signal_init(&shup, sig_cb, SIGHUP);
    ev_signal_start(loop, &sint);
    ev_signal_start(loop, &sterm);
    ev_signal_start(loop, &shup);
    ev_run(loop, 0);
    ev_signal_stop(loop, &sint);
    ev_signal_stop(loop, &sterm);
    ev_signal_stop(loop, &shup);
    dash_tty_free(t);
    ev_loop_destroy(loop);
    return RUN_EXIT_PASS;
}
