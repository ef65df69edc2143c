/* The live dashboard (`fleetsim top`, `fleetsim run --dash`).
 *
 * Three layers, each testable without a terminal:
 *   - the model (dash_model.c): filled from the run's snapshot documents, one
 *     source per stats socket (the shards of a run are summed with
 *     snapshot_merge); rates per second and last-second latency percentiles are
 *     the differences of successive documents (counters, histograms);
 *   - the views (dash_view.c): draw the model into a plain canvas of cells
 *     (character + attribute) of any size; the unit tests read its text;
 *   - the keys (dash_keys.c): a state machine from key codes to requests on the
 *     stats socket (docs/live.md) and view changes.
 * dash_tty.c is the only part that knows ncurses and sockets: it copies the
 * canvas to the screen and moves bytes. */
#ifndef FLEETSIM_DASH_H
#define FLEETSIM_DASH_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "harness/snapshot.h"
#include "sim/core/metrics.h"

#define DASH_MAX_SOURCES 16
#define DASH_SPARK 60            /* seconds a sparkline covers */
#define DASH_MAX_EVENTS 64
#define DASH_MAX_VERDICTS 64
#define DASH_MAX_FRAMES 20
#define DASH_LINE_MAX (64u << 20) /* a document line longer than this: the source is dropped */

/* --- the canvas ----------------------------------------------------------------------------- */

enum dash_attr {
    DA_NORMAL = 0,
    DA_BOLD = 1,
    DA_REVERSE = 2,    /* the selection, the header bar */
    DA_GOOD = 4,       /* green: online, pass */
    DA_WARN = 8,       /* yellow: connecting, inconclusive */
    DA_BAD = 16,       /* red: failed, errors */
    DA_DIM = 32,       /* gone sources, idle */
};

struct dash_cell {
    char ch;           /* printable ASCII; ' ' for empty */
    uint8_t attr;      /* enum dash_attr bits */
};

struct dash_canvas {
    int rows, cols;
    struct dash_cell *cells; /* rows * cols (owned) */
};

int dash_canvas_init(struct dash_canvas *c, int rows, int cols);
void dash_canvas_free(struct dash_canvas *c);
void dash_canvas_clear(struct dash_canvas *c);
/* Text at (row, col), cut at the right edge (never wrapped); the columns written. */
int dash_canvas_put(struct dash_canvas *c, int row, int col, uint8_t attr, const char *text);
int dash_canvas_printf(struct dash_canvas *c, int row, int col, uint8_t attr, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Give a whole row an attribute (a bar). */
void dash_canvas_bar(struct dash_canvas *c, int row, uint8_t attr);
/* Row r as text, trailing blanks cut, into buf. */
void dash_canvas_row(const struct dash_canvas *c, int row, char *buf, size_t cap);
/* The whole canvas as text, one line per row (trailing blanks cut); malloc'd. */
char *dash_canvas_text(const struct dash_canvas *c);

/* --- the model ------------------------------------------------------------------------------ */

enum dash_src_state { DS_CONNECTING = 0, DS_UP, DS_GONE };

struct dash_source {
    char addr[108];            /* the socket path */
    enum dash_src_state state;
    char why[128];             /* gone: why */
    cJSON *doc;                /* the last document without "live" (owned) */
    cJSON *live;               /* its "live" member, NULL when it had none (owned) */
    int fresh;                 /* a document came since the last merge */
    uint64_t docs;             /* documents received */
};

/* What the dashboard keeps of a fleet beyond the snapshot. */
struct dash_fleet {
    char id[FLEET_ID_LEN];
    double in_per_s, out_per_s;      /* frames per wall second over the last interval (-1: one document yet) */
    double reports_per_s;            /* reports acknowledged per second */
    float spark_in[DASH_SPARK];      /* in_per_s, oldest first */
    float spark_out[DASH_SPARK];
    int n_spark;
    struct hist last;                /* report latency over the last interval */
    int64_t active, max;             /* live.active / live.max (-1 unknown) */
    int paused;                      /* in live.paused */
};

struct dash_event {
    double t;
    char fleet[FLEET_ID_LEN];
    char terminal[32];
    char kind[24];
    char text[160];
    char hex[200];
    char decoded[200];
};

struct dash_verdict {
    char id[FLEET_ID_LEN];
    char verdict[16];
    char expected[80];
    char observed[80];
};

struct dash_frame {
    char dir;                        /* '>' sent by the terminal, '<' received */
    double t;
    char hex[200];
    char decoded[200];
};

/* The last inspect reply. */
struct dash_inspect {
    int have;
    char asked[40];                  /* the id it was asked by (as typed) */
    char terminal[32];
    char fleet[FLEET_ID_LEN];
    int index;
    char state[24];
    char counters[400];              /* "name value, ..." */
    char since[240];                 /* watching since; started, connect, first reached */
    int n_frames;
    struct dash_frame frames[DASH_MAX_FRAMES];
};

struct dash_model {
    int n_src;
    struct dash_source src[DASH_MAX_SOURCES];
    struct run_snapshot *cur, *prev;  /* merged: the latest and the one before */
    int have_cur, have_prev;
    struct run_snapshot *tmp;         /* scratch for the merge */
    char merge_err[256];              /* why the sources could not be summed ("" fine) */
    double merged_at;                 /* local seconds of the latest merge */
    int n_fleets;
    struct dash_fleet fleets[STATS_MAX_FLEETS];
    int n_events;
    struct dash_event events[DASH_MAX_EVENTS];
    int n_verdicts;
    struct dash_verdict verdicts[DASH_MAX_VERDICTS];
    int live_seen;                    /* some document had "live" */
    double cpu_pct;                   /* the run's processes (workers, gateways), -1 unknown */
    uint64_t cpu_ticks;               /* their utime+stime at the last merge */
    struct dash_inspect inspect;
    uint64_t generation;              /* bumped on every change the views show */
};

int dash_model_init(struct dash_model *m);
void dash_model_free(struct dash_model *m);
/* A source; its index, or -1 when full. */
int dash_model_add_source(struct dash_model *m, const char *addr);

enum dash_line { DL_DOC = 0, DL_REPLY, DL_BAD };
/* One line from source i (without the newline).  A document replaces the
 * source's last one; a reply is parsed into *reply (caller deletes it).  DL_BAD:
 * err says what. */
enum dash_line dash_model_line(struct dash_model *m, int i, const char *line, size_t len, cJSON **reply, char *err,
                               size_t errcap);
/* Sum the sources (when every live one has a new document, or force) and
 * compute rates; 1 when the model changed. */
int dash_model_merge(struct dash_model *m, double now, int force);
void dash_model_gone(struct dash_model *m, int i, const char *why);
/* An inspect reply into m->inspect; 0 or -1 with err. */
int dash_model_inspect(struct dash_model *m, const cJSON *reply, char *err, size_t errcap);
/* What a reply to pause or resume says (its "paused" fleets). */
void dash_model_reply(struct dash_model *m, const cJSON *reply);
/* Any source still running (not gone, the run not over)? */
int dash_model_running(const struct dash_model *m);

/* --- views and keys ------------------------------------------------------------------------- */

enum dash_view_id { DV_OVERVIEW = 0, DV_TRANSITIONS, DV_EVENTS, DV_TERMINAL, DV_VERDICTS, DV_LATENCY, DV__COUNT };

enum dash_prompt { DP_NONE = 0, DP_SEARCH, DP_QUIT, DP_HELP };

struct dash_ui {
    enum dash_view_id view;
    int sel;                         /* selected fleet */
    enum dash_prompt prompt;
    char input[40];                  /* the search being typed */
    char watching[40];               /* the terminal the Terminal view shows */
    char watch_error[200];           /* why the run could not show it (its last answer), "" */
    char message[200];               /* the message line */
    int msg_bad;
    int quit;                        /* set: leave */
    int color;
    uint64_t next_id;                /* request ids */
    int watch_only;                  /* fleetsim top: quitting leaves the run going */
};

const char *dash_view_name(enum dash_view_id v);
/* Draw the view (and header, message line, prompt) into c. */
void dash_draw(struct dash_canvas *c, const struct dash_model *m, const struct dash_ui *u, double now);
/* The overview as plain text of width cols (top --once). */
char *dash_overview_text(const struct dash_model *m, int cols, double now);

/* Keys beyond ASCII (the tty layer maps ncurses' codes to these). */
enum { DK_UP = 0x101, DK_DOWN, DK_ESC, DK_BACKSPACE, DK_ENTER };

/* Requests a key asks for: lines for every source (a resize delta split over
 * the shards is the tty layer's). */
struct dash_request {
    int n;                           /* 0: none */
    char op[16];
    char line[512];                  /* the JSON line, no newline; "%DELTA%" not used */
    char fleet[FLEET_ID_LEN];
    long delta;                      /* resize */
};

/* Feed a key; fills req when the key asks the run for something. */
void dash_key(struct dash_ui *u, const struct dash_model *m, int key, struct dash_request *req);
/* A reply line's text for the message line. */
void dash_reply_text(const cJSON *reply, char *buf, size_t cap, int *bad);
/* Build a request line: {"id":N,"op":"...",...extra members} */
void dash_request_line(struct dash_ui *u, struct dash_request *req, const char *op, const char *extra);

#endif
