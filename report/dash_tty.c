/* The dashboard on a terminal.  The only file that knows ncurses: every frame
 * the canvas is copied cell by cell into curses' virtual screen, and one
 * doupdate() sends what differs from the last frame (curses' own optimisation:
 * no clear, no flicker).  At most 4 frames a second, and none when nothing
 * changed.  The sources are unix stream sockets read on the caller's libev
 * loop; requests go out on the same sockets (docs/live.md). */
#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "report/dash.h"
#include "report/dash_tty.h"

#define DASH_FRAME_S 0.25        /* at most 4 redraws a second */
#define DASH_OUT_MAX 65536       /* requests queued on a socket that does not read */

struct dash_conn {
    int fd;
    ev_io io;
    char *in;
    size_t len, cap;
    char out[DASH_OUT_MAX];
    size_t olen;
    int idx;
    struct dash_tty *t;
};

struct dash_tty {
    struct ev_loop *loop;
    struct dash_tty_opts o;
    struct dash_model m;
    struct dash_ui u;
    struct dash_canvas cv;
    struct dash_conn conns[DASH_MAX_SOURCES];
    ev_io key_io;
    ev_timer tick;
    SCREEN *scr;
    int up;                      /* the terminal is ours */
    uint64_t drawn_gen;
    int ui_dirty;
    double last_draw, last_inspect;
    uint64_t inspect_id;         /* the id of the last inspect asked */
    int pending_inspect;         /* sources that have not answered it */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int dash_connect(const char *path, char *err, size_t errcap)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (!path[0] || strlen(path) >= sizeof sa.sun_path) {
        snprintf(err, errcap, "%s: not a unix socket path (1 to %zu bytes)", path, sizeof sa.sun_path - 1);
        return -1;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        snprintf(err, errcap, "%s: cannot connect: %s%s", path, strerror(errno),
                 errno == ENOENT || errno == ECONNREFUSED ? " (is a run with --stats there?)" : "");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* --- the terminal ----------------------------------------------------------------------------- */

/* The one dashboard that holds the terminal, for the crash handler. */
static struct dash_tty *holder;
/* The signals that end a process without its cleanup: the terminal is given back
 * first.  SIGQUIT among them: Ctrl-\ sends it from the keyboard (cbreak keeps the
 * terminal's signal keys). */
static const int crash_sigs[] = {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL, SIGSYS, SIGQUIT};

static void crash(int sig)
{
    /* give the terminal back, then die of the signal as we would have */
    if (holder && holder->up)
        endwin();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void set_color(struct dash_tty *t)
{
    const char *nc = getenv("NO_COLOR");
    t->u.color = !(nc && nc[0]) && has_colors();
    if (!t->u.color)
        return;
    start_color();
    use_default_colors();
    init_pair(1, COLOR_GREEN, -1);
    init_pair(2, COLOR_YELLOW, -1);
    init_pair(3, COLOR_RED, -1);
}

static attr_t attr_of(const struct dash_tty *t, uint8_t a)
{
    attr_t r = A_NORMAL;
    if (a & DA_BOLD)
        r |= A_BOLD;
    if (a & DA_REVERSE)
        r |= A_REVERSE;
    if (t->u.color) {
        if (a & DA_BAD)
            r |= COLOR_PAIR(3) | A_BOLD;
        else if (a & DA_WARN)
            r |= COLOR_PAIR(2);
        else if (a & DA_GOOD)
            r |= COLOR_PAIR(1);
        if (a & DA_DIM)
            r |= A_DIM;
    } else if (a & DA_BAD) {
        r |= A_BOLD; /* without colour an error still stands out */
    }
    return r;
}

static void draw(struct dash_tty *t, int force)
{
    double now = now_s();
    if (!t->up || (!force && (now - t->last_draw < DASH_FRAME_S || (t->drawn_gen == t->m.generation && !t->ui_dirty))))
        return;
    int rows, cols;
    getmaxyx(stdscr, rows, cols);
    if (rows != t->cv.rows || cols != t->cv.cols)
        dash_canvas_init(&t->cv, rows, cols);
    dash_draw(&t->cv, &t->m, &t->u, now);
    for (int r = 0; r < t->cv.rows; r++) {
        move(r, 0);
        for (int c = 0; c < t->cv.cols; c++) {
            const struct dash_cell *cell = &t->cv.cells[r * t->cv.cols + c];
            /* the last cell of the last line would scroll on some terminals */
            if (r == t->cv.rows - 1 && c == t->cv.cols - 1)
                break;
            addch((chtype)(unsigned char)cell->ch | attr_of(t, cell->attr));
        }
    }
    wnoutrefresh(stdscr);
    doupdate();
    t->drawn_gen = t->m.generation;
    t->ui_dirty = 0;
    t->last_draw = now;
}

/* --- the sources ------------------------------------------------------------------------------ */

static void conn_want(struct dash_conn *c)
{
    int ev = EV_READ | (c->olen ? EV_WRITE : 0);
    if (ev_is_active(&c->io) && (c->io.events & (EV_READ | EV_WRITE)) == ev)
        return;
    ev_io_stop(c->t->loop, &c->io);
    ev_io_set(&c->io, c->fd, ev);
    ev_io_start(c->t->loop, &c->io);
}

static void conn_close(struct dash_conn *c, const char *why)
{
    if (c->fd < 0)
        return;
    ev_io_stop(c->t->loop, &c->io);
    close(c->fd);
    c->fd = -1;
    c->olen = 0;
    dash_model_gone(&c->t->m, c->idx, why);
    /* its last document stays in the sum: what it covered until it went */
    dash_model_merge(&c->t->m, now_s(), 1);
}

static void conn_flush(struct dash_conn *c)
{
    while (c->olen) {
        ssize_t n = send(c->fd, c->out, c->olen, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0) {
            conn_close(c, "the connection broke");
            return;
        }
        memmove(c->out, c->out + n, c->olen - (size_t)n);
        c->olen -= (size_t)n;
    }
    conn_want(c);
}

static void say(struct dash_tty *t, int bad, const char *fmt, const char *a, const char *b)
{
    snprintf(t->u.message, sizeof t->u.message, fmt, a, b);
    t->u.msg_bad = bad;
    t->ui_dirty = 1;
}

static int send_line(struct dash_tty *t, int i, const char *line)
{
    struct dash_conn *c = &t->conns[i];
    size_t n = strlen(line);
    if (c->fd < 0)
        return -1;
    if (c->olen + n + 1 > sizeof c->out) {
        say(t, 1, "%s: does not read its requests; %s not sent", t->m.src[i].addr, line);
        return -1;
    }
    memcpy(c->out + c->olen, line, n);
    c->out[c->olen + n] = '\n';
    c->olen += n + 1;
    conn_flush(c);
    return 0;
}

static uint64_t reply_id(const cJSON *reply)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(reply, "reply");
    return cJSON_IsNumber(id) && id->valuedouble >= 0 ? (uint64_t)id->valuedouble : 0;
}

static void on_reply(struct dash_tty *t, int i, cJSON *reply)
{
    char text[200], err[256];
    int bad;
    if (t->inspect_id && reply_id(reply) == t->inspect_id) {
        /* asked of every source (shards): the one that owns the terminal answers ok */
        t->pending_inspect--;
        if (dash_model_inspect(&t->m, reply, err, sizeof err) == 0) {
            t->inspect_id = 0;
            t->u.watch_error[0] = 0;
            t->ui_dirty = 1;
        } else if (t->pending_inspect <= 0) {
            /* the Terminal view says it too: it would wait for an answer that came */
            say(t, 1, "%s%s", err, "");
            snprintf(t->u.watch_error, sizeof t->u.watch_error, "%s", err);
            t->inspect_id = 0;
        }
        return;
    }
    dash_model_reply(&t->m, reply);
    dash_reply_text(reply, text, sizeof text, &bad);
    if (t->m.n_src > 1)
        say(t, bad, "%s: %s", t->m.src[i].addr, text);
    else
        say(t, bad, "%s%s", text, "");
}

static void conn_lines(struct dash_conn *c)
{
    struct dash_tty *t = c->t;
    size_t start = 0;
    for (size_t k = 0; k < c->len; k++) {
        if (c->in[k] != '\n')
            continue;
        cJSON *reply = NULL;
        char err[512];
        enum dash_line kind = dash_model_line(&t->m, c->idx, c->in + start, k - start, &reply, err, sizeof err);
        if (kind == DL_REPLY)
            on_reply(t, c->idx, reply);
        else if (kind == DL_BAD)
            say(t, 1, "%s%s", err, "");
        cJSON_Delete(reply);
        start = k + 1;
    }
    memmove(c->in, c->in + start, c->len - start);
    c->len -= start;
    dash_model_merge(&t->m, now_s(), 0);
}

static void conn_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct dash_conn *c = io->data;
    if (revents & EV_WRITE)
        conn_flush(c);
    if (c->fd < 0 || !(revents & EV_READ))
        return;
    for (int rounds = 0; rounds < 64; rounds++) {
        if (c->cap - c->len < 65536) {
            size_t cap = c->cap ? c->cap * 2 : 1 << 17;
            char *in = cap <= DASH_LINE_MAX ? realloc(c->in, cap) : NULL;
            if (!in) {
                conn_close(c, "a line longer than the dashboard takes");
                break;
            }
            c->in = in;
            c->cap = cap;
        }
        ssize_t n = recv(c->fd, c->in + c->len, c->cap - c->len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0) {
            conn_close(c, n == 0 ? "it closed (the run ended?)" : strerror(errno));
            break;
        }
        c->len += (size_t)n;
        conn_lines(c);
    }
    draw(c->t, 0);
    (void)loop;
}

/* --- requests from keys ----------------------------------------------------------------------- */

static void send_request(struct dash_tty *t, struct dash_request *req)
{
    int up = 0;
    for (int i = 0; i < t->m.n_src; i++)
        up += t->conns[i].fd >= 0;
    if (!up) {
        say(t, 1, "no source to ask: %s%s", "every one is gone", "");
        return;
    }
    if (!strcmp(req->op, "inspect")) {
        if (strcmp(t->m.inspect.asked, t->u.watching) != 0) {
            t->m.inspect.have = 0; /* another terminal: the last one's frames go */
            t->u.watch_error[0] = 0;
            snprintf(t->m.inspect.asked, sizeof t->m.inspect.asked, "%s", t->u.watching);
        }
        t->inspect_id = t->u.next_id;
        t->pending_inspect = up;
        t->last_inspect = now_s();
    }
    /* every source the same request: on shards a resize's delta is the whole
     * fleet's, each shard taking its share of it (docs/live.md, shards) */
    for (int i = 0; i < t->m.n_src; i++)
        send_line(t, i, req->line);
    if (strcmp(req->op, "inspect") != 0)
        say(t, 0, "asked: %s%s", req->line, "");
}

static int map_key(int ch)
{
    switch (ch) {
    case KEY_UP: return DK_UP;
    case KEY_DOWN: return DK_DOWN;
    case 27: return DK_ESC;
    case KEY_BACKSPACE:
    case 127:
    case 8: return DK_BACKSPACE;
    case KEY_ENTER:
    case '\n':
    case '\r': return DK_ENTER;
    case KEY_BTAB:
    case '\t': return '\t';
    default: return ch >= 0 && ch < 0x100 ? ch : -1;
    }
}

/* 1 when the dashboard quit */
static int keys(struct dash_tty *t)
{
    for (int rounds = 0; rounds < 256 && t->up; rounds++) {
        int ch = getch();
        if (ch == ERR)
            break;
        if (ch == KEY_RESIZE) {
            t->ui_dirty = 1;
            continue;
        }
        if (ch == 12) {
            /* Ctrl-L: what others wrote on the terminal (a process's log lines on its
             * stderr) stays until the cells under it change; repaint it all, as top does */
            clearok(curscr, TRUE);
            t->ui_dirty = 1;
            continue;
        }
        int k = map_key(ch);
        if (k < 0)
            continue;
        struct dash_request req;
        dash_key(&t->u, &t->m, k, &req);
        t->ui_dirty = 1;
        if (req.n)
            send_request(t, &req);
        if (t->u.quit) {
            dash_tty_stop(t);
            if (t->o.on_quit)
                t->o.on_quit(t->o.ctx);
            return 1;
        }
    }
    return 0;
}

static void key_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct dash_tty *t = io->data;
    if (!keys(t))
        draw(t, 1);
    (void)loop;
    (void)revents;
}

static void tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct dash_tty *t = w->data;
    /* a resize (SIGWINCH) shows as KEY_RESIZE on the next getch, keys or not */
    if (keys(t))
        return;
    double now = now_s();
    /* a shard that is late does not hold the others' figures for long */
    if (now - t->m.merged_at > 1.5)
        dash_model_merge(&t->m, now, 1);
    /* the terminal view is refreshed while shown */
    if (t->u.view == DV_TERMINAL && t->u.watching[0] && now - t->last_inspect >= 1.0 && !t->u.prompt) {
        char term[96], extra[128];
        snprintf(term, sizeof term, "%s", t->u.watching);
        snprintf(extra, sizeof extra, "\"terminal\":\"%s\"", term);
        struct dash_request req;
        dash_request_line(&t->u, &req, "inspect", extra);
        send_request(t, &req);
    }
    draw(t, 0);
    (void)loop;
    (void)revents;
}

struct dash_tty *dash_tty_start(struct ev_loop *loop, const struct dash_tty_opts *o, char *err, size_t errcap)
{
    if (o->n_addrs < 1 || o->n_addrs > DASH_MAX_SOURCES) {
        snprintf(err, errcap, "1 to %d stats sockets, not %d", DASH_MAX_SOURCES, o->n_addrs);
        return NULL;
    }
    struct dash_tty *t = calloc(1, sizeof *t);
    if (!t || dash_model_init(&t->m) < 0) {
        free(t);
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    t->loop = loop;
    t->o = *o;
    t->u.watch_only = o->watch_only;
    for (int i = 0; i < DASH_MAX_SOURCES; i++)
        t->conns[i].fd = -1;
    for (int i = 0; i < o->n_addrs; i++) {
        int fd = dash_connect(o->addrs[i], err, errcap);
        if (fd < 0) {
            dash_tty_free(t);
            return NULL;
        }
        int idx = dash_model_add_source(&t->m, o->addrs[i]);
        struct dash_conn *c = &t->conns[idx];
        c->fd = fd;
        c->idx = idx;
        c->t = t;
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
            snprintf(err, errcap, "%s: %s", o->addrs[i], strerror(errno));
            dash_tty_free(t);
            return NULL;
        }
        ev_io_init(&c->io, conn_cb, fd, EV_READ);
        c->io.data = c;
        ev_io_start(loop, &c->io);
    }
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        snprintf(err, errcap, "the dashboard needs a terminal (stdin and stdout); --once prints the overview");
        dash_tty_free(t);
        return NULL;
    }
    if (!getenv("ESCDELAY"))
        set_escdelay(25); /* Esc closes a prompt at once, not after a second */
    t->scr = newterm(NULL, stdout, stdin);
    if (!t->scr) {
        snprintf(err, errcap, "cannot use the terminal (TERM=%s)", getenv("TERM") ? getenv("TERM") : "");
        dash_tty_free(t);
        return NULL;
    }
    t->up = 1;
    holder = t;
    for (size_t i = 0; i < sizeof crash_sigs / sizeof *crash_sigs; i++)
        signal(crash_sigs[i], crash);
    cbreak(); /* Ctrl-C stays a signal: the run (or top) handles it and gives the terminal back */
    noecho();
    nodelay(stdscr, TRUE);
    keypad(stdscr, TRUE);
    curs_set(0);
    set_color(t);
    ev_io_init(&t->key_io, key_cb, STDIN_FILENO, EV_READ);
    t->key_io.data = t;
    ev_io_start(loop, &t->key_io);
    ev_timer_init(&t->tick, tick_cb, DASH_FRAME_S, DASH_FRAME_S);
    t->tick.data = t;
    ev_timer_start(loop, &t->tick);
    t->ui_dirty = 1;
    draw(t, 1);
    return t;
}

void dash_tty_stop(struct dash_tty *t)
{
    if (!t)
        return;
    if (t->up) {
        ev_io_stop(t->loop, &t->key_io);
        ev_timer_stop(t->loop, &t->tick);
        endwin();
        t->up = 0;
    }
    if (t->scr) {
        delscreen(t->scr);
        t->scr = NULL;
    }
    if (holder == t) {
        holder = NULL;
        for (size_t i = 0; i < sizeof crash_sigs / sizeof *crash_sigs; i++)
            signal(crash_sigs[i], SIG_DFL);
    }
    for (int i = 0; i < DASH_MAX_SOURCES; i++) {
        struct dash_conn *c = &t->conns[i];
        if (c->fd >= 0) {
            ev_io_stop(t->loop, &c->io);
            close(c->fd);
            c->fd = -1;
        }
    }
}

void dash_tty_free(struct dash_tty *t)
{
    if (!t)
        return;
    dash_tty_stop(t);
    for (int i = 0; i < DASH_MAX_SOURCES; i++)
        free(t->conns[i].in);
    dash_canvas_free(&t->cv);
    dash_model_free(&t->m);
    free(t);
}
