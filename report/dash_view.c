/* The dashboard's views, drawn into a canvas of any size.  Tables drop whole
 * columns by priority when the width is short (never wrap); lists keep their
 * newest lines when the height is. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/dash.h"
#include "harness/scenario_dialect.h"
#include "sim/dev/dialect.h"
#include "sim/dev/term_state.h"

static const char *const view_names[DV__COUNT] = {"Overview", "Transitions", "Events", "Terminal", "Verdicts",
                                                  "Latency"};

const char *dash_view_name(enum dash_view_id v) { return v < DV__COUNT ? view_names[v] : "?"; }

/* --- figures -------------------------------------------------------------------------------- */

static void fmt_us(uint64_t us, char *b, size_t cap)
{
    if (us < 1000)
        snprintf(b, cap, "%" PRIu64 "us", us);
    else if (us < 10000)
        snprintf(b, cap, "%.2fms", (double)us / 1e3);
    else if (us < 1000000)
        snprintf(b, cap, "%.0fms", (double)us / 1e3);
    else
        snprintf(b, cap, "%.2fs", (double)us / 1e6);
}

static void fmt_n(double v, char *b, size_t cap)
{
    if (v < 0)
        snprintf(b, cap, "-");
    else if (v < 10 && v != (double)(uint64_t)v)
        snprintf(b, cap, "%.1f", v);
    else if (v < 100000)
        snprintf(b, cap, "%.0f", v);
    else if (v < 1e8)
        snprintf(b, cap, "%.1fk", v / 1e3);
    else
        snprintf(b, cap, "%.1fM", v / 1e6);
}

static void fmt_kb(uint64_t kb, char *b, size_t cap)
{
    if (kb < 10240)
        snprintf(b, cap, "%" PRIu64 "kB", kb);
    else if (kb < 10240 * 1024)
        snprintf(b, cap, "%.1fMB", (double)kb / 1024);
    else
        snprintf(b, cap, "%.2fGB", (double)kb / (1024 * 1024));
}

static void fmt_secs(double s, char *b, size_t cap)
{
    if (s < 120)
        snprintf(b, cap, "%.1fs", s);
    else if (s < 7200)
        snprintf(b, cap, "%dm%02ds", (int)s / 60, (int)s % 60);
    else
        snprintf(b, cap, "%dh%02dm", (int)s / 3600, (int)s / 60 % 60);
}

static void fmt_pct(const struct hist *h, double p, char *b, size_t cap)
{
    if (!h->n)
        snprintf(b, cap, "-");
    else
        fmt_us(p >= 100 ? h->max : hist_percentile(h, p), b, cap);
}

/* An ASCII sparkline of the last w values, scaled to their maximum. */
static void spark(const float *v, int n, int w, char *b, size_t cap)
{
    static const char lv[] = "_.-=+*#@";
    if ((size_t)w >= cap)
        w = (int)cap - 1;
    float max = 0;
    int from = n > w ? n - w : 0;
    for (int i = from; i < n; i++)
        if (v[i] > max)
            max = v[i];
    int k = 0;
    for (int i = 0; i < w - (n - from); i++)
        b[k++] = ' ';
    for (int i = from; i < n; i++) {
        int l = max > 0 ? (int)(v[i] / max * 7 + 0.5f) : 0;
        b[k++] = v[i] > 0 && l == 0 ? '.' : lv[l];
    }
    b[k] = 0;
}

static const char *phase_name(int32_t p)
{
    static const char *const n[] = {"starting", "running", "draining", "done", "failed"};
    return p >= 0 && p <= WP_FAILED ? n[p] : "?";
}

/* Terminals by the dashboard's states (docs/dash.md): connecting, registered
 * (registration under way or held, not yet online), online, sleeping (not
 * started yet, or unregistered and staying away), failed (lost, waiting to
 * reconnect). */
struct by_state {
    uint64_t conn, reg, online, sleep, fail;
};

static struct by_state states(const struct fleet_stats *s)
{
    struct by_state b;
    b.conn = s->in_state[TS_CONNECTING] + s->in_state[TS_CONNECTED];
    b.reg = s->in_state[TS_REGISTERING] + s->in_state[TS_REGISTERED] + s->in_state[TS_AUTHENTICATING];
    b.online = s->in_state[TS_AUTHENTICATED];
    b.sleep = s->in_state[TS_IDLE] + s->in_state[TS_UNREGISTERED];
    b.fail = s->in_state[TS_DISCONNECTED];
    return b;
}

static void errors_text(const struct fleet_stats *s, char *b, size_t cap)
{
    size_t n = 0;
    b[0] = 0;
    struct {
        const char *k;
        uint64_t v;
    } e[] = {{"decode", s->decode_errors},     {"connect", s->connect_failures}, {"timeout", s->ledger.timed_out},
             {"failed", s->ledger.failed},     {"dc", s->disconnects},           {"tls", s->tls_handshake_failed}};
    for (size_t i = 0; i < sizeof e / sizeof *e; i++) {
        if (!e[i].v)
            continue;
        int w = snprintf(b + n, cap - n, "%s%s %" PRIu64, n ? " " : "", e[i].k, e[i].v);
        if (w < 0 || (size_t)w >= cap - n)
            break;
        n += (size_t)w;
    }
    if (!n)
        snprintf(b, cap, "none");
}

/* --- the header and the frame ------------------------------------------------------------- */

static int draw_header(struct dash_canvas *c, const struct dash_model *m, const struct dash_ui *u, int row)
{
    const struct run_snapshot *s = m->cur;
    char el[24] = "-", vt[24] = "-";
    if (m->have_cur) {
        fmt_secs(s->wall_s, el, sizeof el);
        fmt_secs(s->virtual_s, vt, sizeof vt);
    }
    int col = dash_canvas_printf(c, row, 0, DA_BOLD, " fleetsim %s ", m->have_cur ? s->scenario : "(waiting)");
    col += dash_canvas_printf(c, row, col, 0, " elapsed %s  virtual %s", el, vt);
    if (u) {
        char tabs[96];
        size_t n = 0;
        for (int v = 0; v < DV__COUNT; v++)
            n += (size_t)snprintf(tabs + n, sizeof tabs - n, "%s%d", v ? " " : "", v + 1);
        (void)n;
        char right[128];
        snprintf(right, sizeof right, "[%d %s] %s ", u->view + 1, dash_view_name(u->view), tabs);
        int len = (int)strlen(right);
        if (c->cols - len > col + 1)
            dash_canvas_put(c, row, c->cols - len, DA_BOLD, right);
    }
    dash_canvas_bar(c, row, DA_REVERSE);
    row++;
    if (!m->have_cur) {
        for (int i = 0; i < m->n_src; i++)
            dash_canvas_printf(c, row++, 0, 0, " source %s: %s%s%s", m->src[i].addr,
                               m->src[i].state == DS_GONE ? "gone: " : "connecting",
                               m->src[i].state == DS_GONE ? m->src[i].why : "", "");
        return row;
    }
    /* processes by kind and phase, their memory */
    int nk[2][WP_FAILED + 1];
    memset(nk, 0, sizeof nk);
    uint64_t rss = s->platform.rss_kb;
    for (size_t i = 0; i < s->n_components; i++) {
        const struct snapshot_component *p = &s->components[i];
        if (p->phase >= 0 && p->phase <= WP_FAILED)
            nk[p->kind == SNAPSHOT_GATEWAY][p->phase]++;
        if (p->kind == SNAPSHOT_WORKER)
            rss += p->rss_kb;
    }
    char procs[160];
    size_t n = 0;
    for (int k = 0; k < 2; k++) {
        int any = 0;
        for (int ph = 0; ph <= WP_FAILED; ph++) {
            if (!nk[k][ph])
                continue;
            n += (size_t)snprintf(procs + n, sizeof procs - n, "%s%s%d %s", n ? (any ? " " : ", ") : "",
                                  any ? "" : (k ? "gateways " : "workers "), nk[k][ph], phase_name(ph));
            any = 1;
        }
    }
    if (!n)
        snprintf(procs, sizeof procs, "no processes");
    char shards[64], mem[24];
    snapshot_shards_text(s, shards, sizeof shards);
    fmt_kb(rss, mem, sizeof mem);
    int up = 0, gone = 0;
    for (int i = 0; i < m->n_src; i++) {
        up += m->src[i].state == DS_UP;
        gone += m->src[i].state == DS_GONE;
    }
    col = dash_canvas_printf(c, row, 0, 0, " target %s%s%s  shards %s", s->embedded ? "embedded" : "third-party",
                             s->frontend[0] ? " " : "", s->frontend, shards);
    if (m->n_src > 1 || gone)
        col += dash_canvas_printf(c, row, col, gone ? DA_WARN : 0, "  sources %d up%s", up,
                                  gone ? (up ? ", some gone" : ", all gone") : "");
    row++;
    col = dash_canvas_printf(c, row, 0, 0, " %s  mem %s", procs, mem);
    if (m->cpu_pct >= 0)
        dash_canvas_printf(c, row, col, 0, "  cpu %.0f%%", m->cpu_pct);
    row++;
    if (m->merge_err[0])
        dash_canvas_printf(c, row++, 0, DA_BAD, " %s", m->merge_err);
    if (s->harness_error[0])
        dash_canvas_printf(c, row++, 0, DA_BAD, " harness: %s", s->harness_error);
    return row;
}

/* --- overview ------------------------------------------------------------------------------- */

enum col_id { C_FLEET, C_PROTO, C_TARGET, C_CONN, C_REG, C_ONLINE, C_SLEEP, C_FAIL, C_ACTIVE, C_IN, C_OUT, C_SPARK, C_P50L, C_P99L,
              C_MAXL, C_P50, C_P99, C_MAX, C_ERR, C__COUNT };

static const struct {
    const char *title;
    int width;
    int prio;                        /* 0 always shown; higher dropped first */
} cols_def[C__COUNT] = {
    [C_FLEET] = {"FLEET", 11, 0},    [C_PROTO] = {"PROTO", 6, 2},    [C_TARGET] = {"TARGET", 22, 4},
    [C_CONN] = {"CONN", 6, 1},       [C_REG] = {"REG", 6, 1},
    [C_ONLINE] = {"ONLINE", 6, 0},   [C_SLEEP] = {"SLEEP", 6, 2},    [C_FAIL] = {"FAIL", 6, 0},
    [C_ACTIVE] = {"ACT/MAX", 11, 2}, [C_IN] = {"IN/S", 7, 0},        [C_OUT] = {"OUT/S", 7, 1},
    [C_SPARK] = {"IN/S 60s", 29, 3}, [C_P50L] = {"P50/1s", 7, 2},    [C_P99L] = {"P99/1s", 7, 0},
    [C_MAXL] = {"MAX/1s", 7, 2},     [C_P50] = {"P50", 7, 4},        [C_P99] = {"P99", 7, 3},
    [C_MAX] = {"MAX", 7, 4},         [C_ERR] = {"ERRORS", 14, 0},
};

/* Which columns fit in cols: by priority, whole columns only. */
static void pick_cols(int cols, int live, int shown[C__COUNT])
{
    int used = 0;
    memset(shown, 0, C__COUNT * sizeof *shown);
    for (int p = 0; p <= 4; p++)
        for (int i = 0; i < C__COUNT; i++) {
            if (cols_def[i].prio != p || (i == C_ACTIVE && !live))
                continue;
            if (used + cols_def[i].width + 1 <= cols) {
                shown[i] = 1;
                used += cols_def[i].width + 1;
            }
        }
}

struct row_vals {
    const char *id;
    const char *proto, *target;      /* "" unknown (an older snapshot, the total row) */
    const struct fleet_stats *st;
    const struct dash_fleet *d;      /* NULL: the total row */
    double in, out;
    const struct hist *last;
};

static void draw_fleet_row(struct dash_canvas *c, int row, const int shown[C__COUNT], const struct row_vals *v,
                           uint8_t attr, int spark_w)
{
    int col = 1;
    struct by_state b = states(v->st);
    for (int i = 0; i < C__COUNT; i++) {
        if (!shown[i])
            continue;
        char t[160] = "";
        uint8_t a = attr;
        int w = cols_def[i].width;
        switch ((enum col_id)i) {
        case C_FLEET: snprintf(t, sizeof t, "%s%s", v->id, v->d && v->d->paused ? " (p)" : ""); break;
        case C_PROTO: snprintf(t, sizeof t, "%s", v->proto[0] ? v->proto : "-"); break;
        case C_TARGET: snprintf(t, sizeof t, "%s", v->target[0] ? v->target : "-"); break;
        case C_CONN: fmt_n((double)b.conn, t, sizeof t); a |= b.conn ? DA_WARN : 0; break;
        case C_REG: fmt_n((double)b.reg, t, sizeof t); break;
        case C_ONLINE: fmt_n((double)b.online, t, sizeof t); a |= DA_GOOD; break;
        case C_SLEEP: fmt_n((double)b.sleep, t, sizeof t); break;
        case C_FAIL: fmt_n((double)b.fail, t, sizeof t); a |= b.fail ? DA_BAD : 0; break;
        case C_ACTIVE:
            if (v->d && v->d->active >= 0)
                snprintf(t, sizeof t, "%" PRId64 "/%" PRId64, v->d->active, v->d->max);
            else
                snprintf(t, sizeof t, "-");
            break;
        case C_IN: fmt_n(v->in, t, sizeof t); break;
        case C_OUT: fmt_n(v->out, t, sizeof t); break;
        case C_SPARK:
            if (v->d)
                spark(v->d->spark_in, v->d->n_spark, spark_w, t, sizeof t);
            break;
        case C_P50L: fmt_pct(v->last, 50, t, sizeof t); break;
        case C_P99L: fmt_pct(v->last, 99, t, sizeof t); break;
        case C_MAXL: fmt_pct(v->last, 100, t, sizeof t); break;
        case C_P50: fmt_pct(&v->st->report_latency, 50, t, sizeof t); break;
        case C_P99: fmt_pct(&v->st->report_latency, 99, t, sizeof t); break;
        case C_MAX: fmt_pct(&v->st->report_latency, 100, t, sizeof t); break;
        case C_ERR:
            errors_text(v->st, t, sizeof t);
            a |= strcmp(t, "none") ? DA_BAD : 0;
            w = c->cols - col;
            break;
        case C__COUNT: break;
        }
        t[w < (int)sizeof t ? (w < 0 ? 0 : w) : (int)sizeof t - 1] = 0;
        dash_canvas_put(c, row, col, a, t);
        col += cols_def[i].width + 1;
    }
}

static int draw_fleets(struct dash_canvas *c, const struct dash_model *m, const struct dash_ui *u, int row,
                       int last_row)
{
    const struct run_snapshot *s = m->cur;
    int shown[C__COUNT];
    pick_cols(c->cols - 1, m->live_seen, shown);
    int col = 1;
    for (int i = 0; i < C__COUNT; i++)
        if (shown[i]) {
            dash_canvas_put(c, row, col, DA_BOLD, cols_def[i].title);
            col += cols_def[i].width + 1;
        }
    row++;
    static struct fleet_stats tot;
    memset(&tot, 0, sizeof tot);
    struct hist last_all;
    hist_reset(&last_all);
    double in_all = 0, out_all = 0;
    for (int f = 0; f < s->n_fleets && row <= last_row; f++) {
        const struct snapshot_fleet *sf = &s->fleets[f];
        const struct dash_fleet *d = NULL;
        for (int k = 0; k < m->n_fleets; k++)
            if (strcmp(m->fleets[k].id, sf->id) == 0)
                d = &m->fleets[k];
        struct row_vals v = {sf->id, sf->protocol, sf->target, &sf->st, d, d ? d->in_per_s : -1,
                             d ? d->out_per_s : -1, d ? &d->last : &sf->st.report_latency};
        draw_fleet_row(c, row, shown, &v, u && u->sel == f ? DA_REVERSE : 0, cols_def[C_SPARK].width);
        stats_fleet_add(&tot, &sf->st);
        hist_merge(&last_all, v.last);
        in_all = in_all < 0 || v.in < 0 ? -1 : in_all + v.in;
        out_all = out_all < 0 || v.out < 0 ? -1 : out_all + v.out;
        row++;
    }
    if (s->n_fleets > 1 && row <= last_row) {
        struct row_vals v = {"all", "", "", &tot, NULL, in_all, out_all, &last_all};
        draw_fleet_row(c, row++, shown, &v, DA_BOLD, 0);
    }
    return row;
}

static void draw_overview(struct dash_canvas *c, const struct dash_model *m, const struct dash_ui *u, int row,
                          int last_row)
{
    if (!m->have_cur)
        return;
    row = draw_fleets(c, m, u, row + 1, last_row) + 1;
    const struct run_snapshot *s = m->cur;
    if (row <= last_row && s->platform.gateways) {
        const struct snapshot_platform *p = &s->platform;
        dash_canvas_printf(c, row++, 0, 0,
                           " platform: %" PRIu64 " connections, frames in %" PRIu64 " out %" PRIu64
                           ", rejected %" PRIu64 ", commands %" PRIu64 "/%" PRIu64 " acked",
                           p->connections, p->frames_in, p->frames_out, p->rejected, p->ledger.acked, p->ledger.sent);
    }
    for (size_t i = 0; i < s->n_components && row <= last_row; i++) {
        const struct snapshot_component *p = &s->components[i];
        char mem[24];
        fmt_kb(p->rss_kb, mem, sizeof mem);
        int col = dash_canvas_printf(c, row, 0, p->phase == WP_FAILED ? DA_BAD : DA_DIM,
                                     " %s %d  shard %u  %-8s pid %d  rss %s", p->kind ? "gateway" : "worker",
                                     p->index, p->shard, phase_name(p->phase), p->pid, mem);
        if (p->kind == SNAPSHOT_WORKER)
            col += dash_canvas_printf(c, row, col, DA_DIM, "  terminals %" PRIu64, p->terminals);
        if (p->error[0])
            dash_canvas_printf(c, row, col, DA_BAD, "  %s", p->error);
        row++;
    }
    for (int i = 0; i < m->n_src && row <= last_row; i++)
        if (m->src[i].state == DS_GONE)
            dash_canvas_printf(c, row++, 0, DA_WARN, " source %s: gone (%s)", m->src[i].addr, m->src[i].why);
}

/* --- transitions ---------------------------------------------------------------------------- */

/* The states' names cut to one width read alike ("authentic" twice): short
 * labels of their own, narrow enough for the eight to fit 80 columns. */
#define TR_COL 8
static const char *const tr_label[TS__COUNT] = {
    [TS_IDLE] = "idle",      [TS_CONNECTING] = "connect", [TS_CONNECTED] = "conn-ok", [TS_REGISTERING] = "reg",
    [TS_REGISTERED] = "reg-ok", [TS_AUTHENTICATING] = "auth", [TS_AUTHENTICATED] = "online",
    [TS_DISCONNECTED] = "lost",  [TS_UNREGISTERED] = "unreg",
};

static void draw_transitions(struct dash_canvas *c, const struct dash_model *m, int row, int last_row)
{
    if (!m->have_cur)
        return;
    const struct run_snapshot *s = m->cur;
    row++;
    dash_canvas_put(c, row++, 1, DA_BOLD, "terminals that reached each state");
    int col = 13;
    for (int t = TS_CONNECTING; t < TS__COUNT; t++, col += TR_COL)
        dash_canvas_put(c, row, col, DA_BOLD, tr_label[t]);
    dash_canvas_put(c, row++, 1, DA_BOLD, "FLEET");
    for (int f = 0; f < s->n_fleets && row <= last_row; f++, row++) {
        dash_canvas_printf(c, row, 1, 0, "%.11s", s->fleets[f].id);
        col = 13;
        for (int t = TS_CONNECTING; t < TS__COUNT; t++, col += TR_COL) {
            char n[16];
            fmt_n((double)s->fleets[f].st.reached[t], n, sizeof n);
            dash_canvas_put(c, row, col, 0, n);
        }
    }
    row++;
    if (row <= last_row)
        dash_canvas_put(c, row++, 1, DA_BOLD, "commands by kind       SENT  ANSWERED  REFUSED  TIMED-OUT  OFFLINE");
    int any = 0;
    for (int f = 0; f < s->n_fleets; f++)
        for (int k = 0; k < STATS_CMD_KINDS && row <= last_row; k++) {
            const struct cmd_stats *cs = &s->fleets[f].cmd[k];
            if (!cs->sent && !cs->offline && !s->fleets[f].addressed[k])
                continue;
            any = 1;
            /* the request by its dialect's name ("0x8103"), when the snapshot says the protocol */
            const struct sc_dialect *d = s->fleets[f].protocol[0] ? sc_dialect_find(s->fleets[f].protocol) : NULL;
            char kind[16];
            if (d && d->dev && k < d->dev->n_cmds && d->dev->cmds[k].request)
                snprintf(kind, sizeof kind, "%s", d->dev->cmds[k].request);
            else
                snprintf(kind, sizeof kind, "kind %d", k);
            dash_canvas_printf(c, row++, 1, cs->timed_out || cs->refused ? DA_WARN : 0,
                               "%-11.11s %-8.8s %6" PRIu64 " %9" PRIu64 " %8" PRIu64 " %10" PRIu64 " %8" PRIu64,
                               s->fleets[f].id, kind, cs->sent, cs->answered, cs->refused, cs->timed_out, cs->offline);
        }
    if (!any && row <= last_row)
        dash_canvas_put(c, row++, 1, DA_DIM, "no commands yet");
    const struct snapshot_core *core = &s->platform.core;
    if (row + 1 <= last_row && s->platform.gateways) {
        row++;
        dash_canvas_printf(c, row++, 1, 0,
                           "platform core: tasks %" PRIu64 ", commands %" PRIu64 ", results %" PRIu64
                           ", registrations %" PRIu64 " (refused %" PRIu64 "), auths %" PRIu64 " (refused %" PRIu64 ")",
                           core->tasks, core->commands, core->results, core->registrations, core->reg_refused,
                           core->auths, core->auth_refused);
    }
    if (row <= last_row)
        dash_canvas_put(c, row++, 1, DA_DIM, "upgrade tasks, shadow syncs: not in this run's snapshot");
}

/* --- events --------------------------------------------------------------------------------- */

static void draw_events(struct dash_canvas *c, const struct dash_model *m, int row, int last_row)
{
    row++;
    if (!m->live_seen) {
        dash_canvas_put(c, row, 1, DA_DIM, "no events: the source sends no \"live\" member");
        return;
    }
    if (!m->n_events) {
        dash_canvas_put(c, row, 1, DA_GOOD, "no errors, deviations or failed expectations so far");
        return;
    }
    /* newest last: as many of the newest as fit, three lines each */
    int fit = (last_row - row + 1) / 3, from = m->n_events > fit ? m->n_events - fit : 0;
    /* the columns as wide as the longest shown: a JT/T 808 2019 terminal id has 20
     * digits, a 2013 one 12, a platform's event no fleet; no column for what none has */
    int wf = 0, wt = 0, wk = 0;
    for (int i = from; i < m->n_events; i++) {
        const struct dash_event *e = &m->events[i];
        int lf = (int)strlen(e->fleet), lt = (int)strlen(e->terminal), lk = (int)strlen(e->kind);
        wf = lf > wf ? lf : wf;
        wt = lt > wt ? lt : wt;
        wk = lk > wk ? lk : wk;
    }
    for (int i = from; i < m->n_events && row <= last_row; i++) {
        const struct dash_event *e = &m->events[i];
        int col = dash_canvas_printf(c, row, 1, DA_BAD, "%8.2fs ", e->t) + 1;
        if (wf)
            col += dash_canvas_printf(c, row, col, DA_BAD, "%-*s ", wf, e->fleet);
        if (wt)
            col += dash_canvas_printf(c, row, col, DA_BAD, "%-*s ", wt, e->terminal);
        dash_canvas_printf(c, row++, col, DA_BAD, "%-*s %s", wk, e->kind, e->text);
        dash_canvas_printf(c, row++, 3, DA_DIM, "hex %s", e->hex[0] ? e->hex : "-");
        dash_canvas_printf(c, row++, 3, DA_DIM, "decoded %s", e->decoded[0] ? e->decoded : "-");
    }
}

/* --- terminal ------------------------------------------------------------------------------- */

static void draw_terminal(struct dash_canvas *c, const struct dash_model *m, const struct dash_ui *u, int row,
                          int last_row)
{
    row++;
    const struct dash_inspect *in = &m->inspect;
    if (!u || !u->watching[0]) {
        dash_canvas_put(c, row, 1, DA_DIM, "press / and type a terminal's id (e.g. its phone number), then Enter");
        return;
    }
    if (!in->have || strcmp(in->asked, u->watching) != 0) {
        if (u->watch_error[0])
            dash_canvas_printf(c, row, 1, DA_BAD, "terminal %s: %s", u->watching, u->watch_error);
        else
            dash_canvas_printf(c, row, 1, DA_DIM, "terminal %s: asking the run...", u->watching);
        return;
    }
    dash_canvas_printf(c, row++, 1, DA_BOLD, "terminal %s  fleet %s  index %d  state %s", in->terminal, in->fleet,
                       in->index, in->state);
    if (u->watch_error[0]) /* shown before, not now (resized out, the run draining): what it last was */
        dash_canvas_printf(c, row++, 1, DA_BAD, "now: %s", u->watch_error);
    if (in->since[0])
        dash_canvas_printf(c, row++, 1, 0, "watching since %s", in->since);
    dash_canvas_printf(c, row++, 1, 0, "counters: %s", in->counters[0] ? in->counters : "-");
    row++;
    if (row <= last_row)
        dash_canvas_printf(c, row++, 1, DA_BOLD, "last %d frames (> sent, < received)", in->n_frames);
    int fit = (last_row - row + 1) / 2, from = in->n_frames > fit ? in->n_frames - fit : 0;
    for (int i = from; i < in->n_frames && row <= last_row; i++) {
        const struct dash_frame *f = &in->frames[i];
        dash_canvas_printf(c, row++, 1, f->dir == '>' ? 0 : DA_GOOD, "%c %8.2fs %s", f->dir, f->t, f->hex);
        dash_canvas_printf(c, row++, 13, DA_DIM, "%s", f->decoded);
    }
}

/* --- verdicts ------------------------------------------------------------------------------- */

static void draw_verdicts(struct dash_canvas *c, const struct dash_model *m, int row, int last_row)
{
    row++;
    if (m->n_verdicts) {
        dash_canvas_put(c, row++, 1, DA_BOLD, "EXPECTATION         VERDICT       EXPECTED / OBSERVED");
        for (int i = 0; i < m->n_verdicts && row <= last_row; i++) {
            const struct dash_verdict *v = &m->verdicts[i];
            uint8_t a = !strcmp(v->verdict, "PASS") ? DA_GOOD : !strcmp(v->verdict, "INCONCLUSIVE") ? DA_WARN : DA_BAD;
            int col = dash_canvas_printf(c, row, 1, 0, "%-19.19s ", v->id);
            col += dash_canvas_printf(c, row, 1 + col, a, "%-13.13s ", v->verdict);
            dash_canvas_printf(c, row++, 1 + col, 0, "%s / %s", v->expected, v->observed);
        }
        return;
    }
    if (!m->have_cur)
        return;
    /* no live verdicts: the per-terminal partials the snapshot carries */
    dash_canvas_put(c, row++, 1, DA_BOLD, "EXPECTATION         TERMINALS OK / OF   (per-terminal partials)");
    for (int i = 0; i < m->cur->n_expect && row <= last_row; i++) {
        const struct snapshot_expect *e = &m->cur->expect[i];
        /* none counted yet (or an expectation not judged per terminal): not a pass */
        if (!e->p.total)
            dash_canvas_printf(c, row++, 1, DA_DIM, "%-19.19s -", e->id);
        else
            dash_canvas_printf(c, row++, 1, e->p.ok == e->p.total ? DA_GOOD : DA_WARN,
                               "%-19.19s %" PRIu64 " / %" PRIu64, e->id, e->p.ok, e->p.total);
    }
    if (row <= last_row)
        dash_canvas_put(c, row, 1, DA_DIM, "verdicts are judged at the end (the source sends no live verdicts)");
}

/* --- latency histogram ---------------------------------------------------------------------- */

static void draw_latency(struct dash_canvas *c, const struct dash_model *m, int row, int last_row)
{
    if (!m->have_cur)
        return;
    struct hist all, last;
    hist_reset(&all);
    hist_reset(&last);
    for (int f = 0; f < m->cur->n_fleets; f++)
        hist_merge(&all, &m->cur->fleets[f].st.report_latency);
    for (int f = 0; f < m->n_fleets; f++)
        hist_merge(&last, &m->fleets[f].last);
    row++;
    char p50[16], p99[16], mx[16], l50[16], l99[16], lmx[16];
    fmt_pct(&all, 50, p50, sizeof p50);
    fmt_pct(&all, 99, p99, sizeof p99);
    fmt_pct(&all, 100, mx, sizeof mx);
    fmt_pct(&last, 50, l50, sizeof l50);
    fmt_pct(&last, 99, l99, sizeof l99);
    fmt_pct(&last, 100, lmx, sizeof lmx);
    dash_canvas_printf(c, row++, 1, DA_BOLD, "report latency  last interval: n %" PRIu64 " p50 %s p99 %s max %s", last.n,
                       l50, l99, lmx);
    dash_canvas_printf(c, row++, 1, DA_BOLD, "                overall:       n %" PRIu64 " p50 %s p99 %s max %s", all.n,
                       p50, p99, mx);
    row++;
    /* rows by power of two (the buckets of each octave summed) from the first
     * non-empty to the last */
    enum { OCT = 41 };
    uint64_t a[OCT] = {0}, l[OCT] = {0}, amax = 0, lmax = 0;
    int lo = OCT, hi = -1;
    for (size_t b = 0; b < HIST_BUCKETS; b++) {
        uint64_t up = hist_bucket_upper(b);
        int o = 0;
        while (o < OCT - 1 && (1ull << o) < up)
            o++;
        a[o] += all.counts[b];
        l[o] += last.counts[b];
        if (all.counts[b] || last.counts[b]) {
            lo = o < lo ? o : lo;
            hi = o > hi ? o : hi;
        }
    }
    if (hi < 0) {
        dash_canvas_put(c, row, 1, DA_DIM, "no reports acknowledged yet");
        return;
    }
    for (int o = lo; o <= hi; o++) {
        amax = a[o] > amax ? a[o] : amax;
        lmax = l[o] > lmax ? l[o] : lmax;
    }
    char bar[256];
    int half = (c->cols - 14) / 2 - 9;
    if (half < 4)
        half = 4;
    if (half > (int)sizeof bar - 1)
        half = (int)sizeof bar - 1; /* a terminal of 544 columns and more: the bars stop there */
    dash_canvas_printf(c, row, 1, DA_BOLD, "%-10s %-*s %s", "UP TO", half + 9, "LAST INTERVAL", "OVERALL");
    row++;
    for (int o = lo; o <= hi && row <= last_row; o++, row++) {
        char lab[16];
        fmt_us(1ull << o, lab, sizeof lab);
        dash_canvas_printf(c, row, 1, 0, "%-10s", lab);
        int w = lmax ? (int)((double)l[o] / (double)lmax * half + 0.5) : 0;
        memset(bar, '#', (size_t)w);
        bar[w] = 0;
        dash_canvas_printf(c, row, 12, DA_WARN, "%8" PRIu64 " %s", l[o], bar);
        w = amax ? (int)((double)a[o] / (double)amax * half + 0.5) : 0;
        memset(bar, '#', (size_t)w);
        bar[w] = 0;
        dash_canvas_printf(c, row, 12 + half + 10, DA_GOOD, "%8" PRIu64 " %s", a[o], bar);
    }
}

/* --- the frame around the views ------------------------------------------------------------- */

static const char *const help_lines[] = {
    "keys",
    "  tab, 1-6   next view, or view N",
    "  up/down    select a fleet",
    "  p          pause / resume the traffic of every fleet",
    "  + / -      grow / shrink the selected fleet by 10%",
    "  f          disconnect 10% of the selected fleet",
    "  /          search a terminal by id (Terminal view)",
    "  q          quit (asks while the run goes)",
    "  Esc        close a prompt",
    "  Ctrl-L     redraw the screen",
    "  ?          this help",
};

void dash_draw(struct dash_canvas *c, const struct dash_model *m, const struct dash_ui *u, double now)
{
    dash_canvas_clear(c);
    int row = draw_header(c, m, u, 0);
    int last_row = c->rows - 3; /* a prompt line and the message line stay free */
    switch (u->view) {
    case DV_OVERVIEW: draw_overview(c, m, u, row, last_row); break;
    case DV_TRANSITIONS: draw_transitions(c, m, row, last_row); break;
    case DV_EVENTS: draw_events(c, m, row, last_row); break;
    case DV_TERMINAL: draw_terminal(c, m, u, row, last_row); break;
    case DV_VERDICTS: draw_verdicts(c, m, row, last_row); break;
    case DV_LATENCY: draw_latency(c, m, row, last_row); break;
    case DV__COUNT: break;
    }
    if (u->prompt == DP_HELP) {
        int n = (int)(sizeof help_lines / sizeof *help_lines), top = 2;
        for (int i = 0; i < n && top + i < c->rows - 2; i++) {
            for (int k = 4; k < 4 + 58 && k < c->cols; k++)
                c->cells[(top + i) * c->cols + k] = (struct dash_cell){' ', DA_REVERSE};
            dash_canvas_printf(c, top + i, 5, DA_REVERSE | (i ? 0 : DA_BOLD), "%s", help_lines[i]);
        }
    }
    int pr = c->rows - 2, msg = c->rows - 1;
    if (u->prompt == DP_SEARCH)
        dash_canvas_printf(c, pr, 0, DA_BOLD, " search terminal: %s_   (Enter to inspect, Esc to cancel)", u->input);
    else if (u->prompt == DP_QUIT)
        dash_canvas_put(c, pr, 0, DA_BOLD | DA_WARN,
                        u->watch_only ? " the run is going: leave it? it goes on without the dashboard (y/n)"
                                      : " the run is going: quit and stop it? (y/n)");
    if (u->message[0])
        dash_canvas_printf(c, msg, 0, u->msg_bad ? DA_BAD : 0, " %s", u->message);
    else
        dash_canvas_put(c, msg, 0, DA_DIM, " q quit  p pause  +/- resize  f disconnect  tab view  / search  ? help");
    (void)now;
}

char *dash_overview_text(const struct dash_model *m, int cols, double now)
{
    struct dash_canvas c = {0};
    int rows = 8 + (m->have_cur ? m->cur->n_fleets + (int)m->cur->n_components : 0) + m->n_src;
    if (dash_canvas_init(&c, rows, cols) < 0)
        return NULL;
    int row = draw_header(&c, m, NULL, 0);
    draw_overview(&c, m, NULL, row, rows - 1);
    char *t = dash_canvas_text(&c);
    dash_canvas_free(&c);
    /* no blank lines at the end */
    if (t) {
        size_t n = strlen(t);
        while (n > 1 && t[n - 1] == '\n' && t[n - 2] == '\n')
            t[--n] = 0;
    }
    (void)now;
    return t;
}
