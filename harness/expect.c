#include "harness/expect.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "sim/core/units.h"
#include "sim/dev/dialect.h"
#include "harness/scenario_dialect.h"
#include "harness/scenario_json.h"

/* Cells of the verdict table are fixed-size; long text is cut on purpose. */
__attribute__((format(printf, 3, 4))) static void cell(char *dst, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, cap, fmt, ap);
    va_end(ap);
}

/* The counters every fleet and every front-end has; dialects and front-ends add
 * their own through their counter tables (struct stats_counter). */
struct counter_def {
    const char *name;
    int gw;          /* 1: front-end slot, 0: terminal fleet stats */
    size_t off;
};

#define FS(f) {"terminal." #f, 0, offsetof(struct fleet_stats, f)}
#define GS(f) {"gateway." #f, 1, offsetof(struct snapshot_platform, f)}
static const struct counter_def counters[] = {
    FS(started), FS(stops), FS(connects), FS(connect_failures), FS(connect_refused), FS(connect_timeouts),
    FS(connect_unreachable), FS(disconnects), FS(faults), FS(frames_out),
    FS(frames_in), FS(bytes_out), FS(bytes_in), FS(decode_errors), FS(reports), FS(reports_acked),
    FS(commands), FS(replies), FS(tls_handshakes), FS(tls_name_mismatch), FS(tls_untrusted), FS(tls_ocsp_missing),
    FS(tls_ocsp_revoked), FS(tls_ocsp_bad), FS(tls_handshake_failed),
    GS(accepted), GS(closed_idle), GS(closed_peer), GS(frames_in), GS(frames_out), GS(rejected),
};
#undef FS
#undef GS
#define N_COUNTERS (sizeof counters / sizeof counters[0])

static int fleet_index(const struct scenario *sc, const char *id)
{
    if (!id || !id[0])
        return -1;
    for (int i = 0; i < sc->n_fleets; i++)
        if (strcmp(sc->fleets[i].id, id) == 0)
            return i;
    return -2;
}

/* The snapshot's fleet for the scenario's fleet f, or NULL. */
static const struct snapshot_fleet *sfleet(const struct expect_ctx *c, int f)
{
    return snapshot_fleet(c->snap, c->sc->fleets[f].id);
}

/* Fleet f's statistics, or every fleet's when f < 0. */
static void merged(const struct expect_ctx *c, int f, struct fleet_stats *out)
{
    if (f < 0) {
        snapshot_total(c->snap, out);
        return;
    }
    const struct snapshot_fleet *sf = sfleet(c, f);
    if (sf) {
        *out = sf->st;
        return;
    }
    memset(out, 0, sizeof *out);
    hist_reset(&out->report_latency);
    hist_reset(&out->ack_latency);
    hist_reset(&out->online_latency);
}

static uint64_t gw_counter(const struct expect_ctx *c, size_t off)
{
    return *(const uint64_t *)((const char *)&c->snap->platform + off);
}

static int hist_stat(const struct hist *h, const char *stat, double *out)
{
    if (strcmp(stat, "p50") == 0) *out = (double)hist_percentile(h, 50);
    else if (strcmp(stat, "p90") == 0) *out = (double)hist_percentile(h, 90);
    else if (strcmp(stat, "p99") == 0) *out = (double)hist_percentile(h, 99);
    else if (strcmp(stat, "p999") == 0) *out = (double)hist_percentile(h, 99.9);
    else if (strcmp(stat, "max") == 0) *out = (double)h->max * (h->n > 0);
    else if (strcmp(stat, "mean") == 0) *out = hist_mean(h);
    else if (strcmp(stat, "count") == 0) *out = (double)h->n;
    else return -1;
    return 0;
}

/* A dialect counter summed over fleet f (or every fleet whose dialect has it);
 * 0 when some fleet's dialect has it. */
static int dialect_value(const struct expect_ctx *c, const char *name, int f, double *out)
{
    static struct fleet_stats fs;
    int found = -1;
    *out = 0;
    for (int k = 0; k < c->sc->n_fleets; k++) {
        if (f >= 0 && k != f)
            continue;
        const struct stats_counter *sc = dialect_counter(c->sc->fleets[k].dialect, name);
        if (!sc)
            continue;
        merged(c, k, &fs);
        *out += (double)fs.dc[sc->slot];
        found = 0;
    }
    return found;
}

static const struct stats_counter *fe_lookup(const struct frontend *fe, const char *name)
{
    for (int i = 0; fe && i < fe->n_counters; i++)
        if (strcmp(fe->counters[i].name, name) == 0)
            return &fe->counters[i];
    return NULL;
}

/* A counter of the running front-end, or of the front-end of any fleet's dialect
 * (known, though not running against a third-party target: it reads 0 there). */
static const struct stats_counter *fe_counter(const struct expect_ctx *c, const char *name)
{
    const struct stats_counter *sc = fe_lookup(c->fe, name);
    for (int f = 0; !sc && f < c->sc->n_fleets; f++)
        sc = fe_lookup(sc_dialect_of(&c->sc->fleets[f])->frontend, name);
    return sc;
}

static uint64_t fe_sum(const struct expect_ctx *c, int slot)
{
    return slot >= 0 && slot < STATS_FE_COUNTERS ? c->snap->platform.c[slot] : 0;
}

int expect_value(const struct expect_ctx *c, const char *name, int f, double *out, int *is_duration)
{
    static struct fleet_stats fs;
    *is_duration = 0;
    for (size_t i = 0; i < N_COUNTERS; i++) {
        if (strcmp(counters[i].name, name) != 0)
            continue;
        if (counters[i].gw) {
            *out = (double)gw_counter(c, counters[i].off);
        } else {
            merged(c, f, &fs);
            *out = (double)*(const uint64_t *)((const char *)&fs + counters[i].off);
        }
        return 0;
    }
    if (dialect_value(c, name, f, out) == 0)
        return 0;
    const struct stats_counter *fc = fe_counter(c, name);
    if (fc) {
        *out = c->fe ? (double)fe_sum(c, fc->slot) : 0;
        return 0;
    }
    const char *dot = strrchr(name, '.');
    if (!dot)
        return -1;
    char base[64];
    snprintf(base, sizeof base, "%.*s", (int)(dot - name), name);
    const char *stat = dot + 1;
    merged(c, f, &fs);
    const struct hist *h = NULL;
    if (strcmp(base, "report.latency") == 0) h = &fs.report_latency;
    else if (strcmp(base, "ack.latency") == 0) h = &fs.ack_latency;
    else if (strcmp(base, "online.latency") == 0) h = &fs.online_latency;
    else if (strcmp(base, "command.latency") == 0) h = &c->snap->platform.cmd_latency;
    if (h) {
        *is_duration = strcmp(stat, "count") != 0;
        return hist_stat(h, stat, out);
    }
    if (strcmp(stat, "rate") == 0 || strcmp(stat, "count") == 0) {
        double v;
        char cn[80];
        snprintf(cn, sizeof cn, "terminal.%s", base);
        if (strcmp(base, "reports") == 0) v = (double)fs.reports_acked;
        else if (strcmp(base, "commands") == 0) v = (double)fs.replies;
        else if (strcmp(base, "reconnects") == 0) v = (double)fs.disconnects;
        else if (dialect_value(c, cn, f, &v) < 0) return -1;
        double vs = c->snap->virtual_s;
        *out = strcmp(stat, "rate") == 0 ? (vs > 0 ? v / vs : 0) : v;
        return 0;
    }
    return -1;
}

static void fmt_value(double v, int is_duration, char *buf, size_t cap)
{
    if (is_duration)
        units_format_us((uint64_t)(v < 0 ? 0 : v), buf, cap);
    else if (v == floor(v) && fabs(v) < 1e15)
        snprintf(buf, cap, "%.0f", v);
    else
        snprintf(buf, cap, "%.2f", v);
}

static const char *fleet_label(const struct sc_expect *e)
{
    return e->fleet[0] ? e->fleet : "all fleets";
}

/* A fleet that could not connect says so where its terminals are counted. */
static void why_not_online(const struct expect_ctx *c, const struct sc_expect *e, struct case_result *r)
{
    static struct fleet_stats fs;
    merged(c, fleet_index(c->sc, e->fleet), &fs);
    if (!fs.connect_failures)
        return;
    size_t l = strlen(r->observed);
    snprintf(r->observed + l, sizeof r->observed - l,
             "; connect failures %" PRIu64 " (refused %" PRIu64 ", timed out %" PRIu64 ", unreachable %" PRIu64 ")",
             fs.connect_failures, fs.connect_refused, fs.connect_timeouts, fs.connect_unreachable);
}

static void eval_partials(const struct expect_ctx *c, int i, struct case_result *r)
{
    const struct sc_expect *e = &c->sc->expect[i];
    const struct expect_partial *p = snapshot_partial(c->snap, e->id);
    uint64_t ok = p ? p->ok : 0, total = p ? p->total : 0, worst = p ? p->worst_us : 0;
    uint64_t undecided = p ? p->undecided : 0;
    /* the terminals it applies to come from the scenario (the share of each fleet
     * the snapshot covers), not from the workers' answers: a worker that died
     * takes its terminals' passes with it */
    uint64_t planned = 0;
    for (int f = 0; f < c->sc->n_fleets; f++) {
        if (e->fleet[0] && strcmp(e->fleet, c->sc->fleets[f].id) != 0)
            continue;
        const struct snapshot_fleet *sf = sfleet(c, f);
        planned += sf ? sf->planned : 0;
    }
    if (planned > total)
        total = planned;
    double frac = e->fraction > 0 ? e->fraction : 1.0;
    uint64_t need = (uint64_t)ceil(frac * (double)total - 1e-9);
    char within[32] = "", slow[32];
    if (worst < 1000)
        snprintf(slow, sizeof slow, "under 1ms"); /* first arrivals are kept in whole ms */
    else
        units_format_us(worst, slow, sizeof slow);
    if (e->kind == SC_EXP_STATE) {
        if (e->within_ms) {
            units_format_us(e->within_ms * 1000u, within, sizeof within);
            snprintf(r->expected, sizeof r->expected, "%s%" PRIu64 " terminals of %s reach %s within %s",
                     frac < 1 ? "at least " : "all ", need, fleet_label(e), e->state, within);
            if (ok)
                snprintf(r->observed, sizeof r->observed, "%" PRIu64 " of %" PRIu64 " did; slowest %s", ok, total,
                         slow);
            else
                snprintf(r->observed, sizeof r->observed, "none of %" PRIu64 " did", total);
            /* the case took as long as its slowest terminal, or its whole deadline */
            r->duration_s = (double)(ok >= need ? worst : e->within_ms * 1000u) / 1e6;
            if (r->duration_s > c->snap->virtual_s)
                r->duration_s = c->snap->virtual_s;
        } else {
            snprintf(r->expected, sizeof r->expected, "%s%" PRIu64 " terminals of %s are %s at the end",
                     frac < 1 ? "at least " : "all ", need, fleet_label(e), e->state);
            snprintf(r->observed, sizeof r->observed, "%" PRIu64 " of %" PRIu64 " are", ok, total);
        }
    } else {
        char seq[200] = "";
        for (int k = 0; k < e->n_transitions; k++) {
            size_t l = strlen(seq);
            snprintf(seq + l, sizeof seq - l, "%s%s", k ? " -> " : "", e->transitions[k]);
        }
        snprintf(r->expected, sizeof r->expected, "%s%" PRIu64 " terminals of %s pass %s in order",
                 frac < 1 ? "at least " : "all ", need, fleet_label(e), seq);
        snprintf(r->observed, sizeof r->observed, "%" PRIu64 " of %" PRIu64 " did", ok, total);
    }
    if (total == 0) {
        r->verdict = VERDICT_INCONCLUSIVE;
        snprintf(r->observed, sizeof r->observed, "no terminals to check");
        return;
    }
    if (ok < need)
        why_not_online(c, e, r);
    if (ok < need && ok + undecided >= need) {
        /* the run stopped before their deadline: it can be neither */
        size_t l = strlen(r->observed);
        snprintf(r->observed + l, sizeof r->observed - l, "; the deadline of %" PRIu64 " had not come when the run stopped",
                 undecided);
        r->verdict = VERDICT_INCONCLUSIVE;
        return;
    }
    r->verdict = ok >= need ? VERDICT_PASS : VERDICT_FAIL;
}

static void eval_reply(const struct expect_ctx *c, const struct sc_expect *e, struct case_result *r)
{
    snprintf(r->expected, sizeof r->expected, "every %s sent to %s answered with %s", e->to,
             fleet_label(e), e->reply);
    if (!c->snap->embedded) {
        r->verdict = VERDICT_INCONCLUSIVE;
        snprintf(r->observed, sizeof r->observed, "commands need the embedded platform (third-party target)");
        return;
    }
    int fi = fleet_index(c->sc, e->fleet);
    uint64_t addressed = 0, sent = 0, answered = 0, refused = 0, timed_out = 0, busy = 0;
    for (int f = 0; f < c->sc->n_fleets; f++) {
        if (fi >= 0 && f != fi)
            continue;
        /* the request's kind in this fleet's dialect (the parser checked the reply) */
        int ci = dialect_cmd_index(c->sc->fleets[f].dialect, e->to);
        if (ci < 0)
            continue;
        const struct snapshot_fleet *sf = sfleet(c, f);
        if (!sf || ci >= STATS_CMD_KINDS)
            continue;
        const struct cmd_stats *cs = &sf->cmd[ci];
        addressed += sf->addressed[ci];
        sent += cs->sent;
        answered += cs->answered;
        refused += cs->refused;
        timed_out += cs->timed_out;
        busy += cs->offline;
    }
    uint64_t offline = addressed > sent ? addressed - sent : 0;
    double frac = e->fraction > 0 ? e->fraction : 1.0;
    uint64_t need = (uint64_t)ceil(frac * (double)addressed - 1e-9);
    snprintf(r->observed, sizeof r->observed,
             "addressed %" PRIu64 ": answered %" PRIu64 ", refused %" PRIu64 ", timed out %" PRIu64
             ", not sent (offline %" PRIu64 ", busy %" PRIu64 ")",
             addressed, answered, refused, timed_out, offline - (busy < offline ? busy : offline),
             busy);
    if (addressed == 0) {
        r->verdict = VERDICT_INCONCLUSIVE;
        r->duration_s = 0;
        /* a step the run never reached is not a step that is missing */
        const struct sc_step *late = NULL;
        for (int k = 0; k < c->sc->n_steps; k++) {
            const struct sc_step *s = &c->sc->steps[k];
            if (s->kind == SC_STEP_COMMAND && strcmp(s->msg, e->to) == 0 && (fi < 0 || strcmp(s->fleet, e->fleet) == 0))
                if (!late || s->at_ms < late->at_ms)
                    late = s;
        }
        if (late && (double)late->at_ms > c->snap->virtual_s * 1000.0) {
            char at[32], stop[32];
            units_format_us(late->at_ms * 1000u, at, sizeof at);
            units_format_us((uint64_t)(c->snap->virtual_s * 1e6), stop, sizeof stop);
            snprintf(r->observed, sizeof r->observed, "the run stopped at %s, before the %s step at %s", stop, e->to,
                     at);
        } else {
            snprintf(r->observed, sizeof r->observed, "no %s was sent (%s)", e->to,
                     late ? "no terminal was online to send it to" : "no command step for it");
        }
        return;
    }
    /* the case took the slowest answer, or the whole deadline when one never came */
    r->duration_s = timed_out ? (double)e->within_ms / 1e3
                              : (double)(c->snap->platform.cmd_latency.n ? c->snap->platform.cmd_latency.max : 0) / 1e6;
    r->verdict = answered >= need ? VERDICT_PASS : VERDICT_FAIL;
}

static void eval_metric(const struct expect_ctx *c, const struct sc_expect *e, struct case_result *r, int counter)
{
    const char *name = counter ? e->counter : e->metric;
    int fi = fleet_index(c->sc, e->fleet);
    double v = 0;
    int is_dur = 0;
    if (expect_value(c, name, fi < 0 ? -1 : fi, &v, &is_dur) < 0) {
        r->verdict = VERDICT_ERROR;
        snprintf(r->expected, sizeof r->expected, "%s", name);
        snprintf(r->observed, sizeof r->observed, "no such metric or counter: %s", name);
        return;
    }
    if (!c->snap->embedded && strncmp(name, "gateway.", 8) == 0) {
        r->verdict = VERDICT_INCONCLUSIVE;
        snprintf(r->expected, sizeof r->expected, "%s", name);
        snprintf(r->observed, sizeof r->observed, "gateway counters need the embedded platform");
        return;
    }
    char vb[32], b1[32] = "", b2[32] = "";
    fmt_value(v, is_dur, vb, sizeof vb);
    int ok = 1;
    if (counter) {
        if (e->has_min) fmt_value((double)e->min, 0, b1, sizeof b1);
        if (e->has_max) fmt_value((double)e->max, 0, b2, sizeof b2);
        snprintf(r->expected, sizeof r->expected, "%s%s%s%s%s%s", name, e->has_min ? " >= " : "", b1,
                 e->has_min && e->has_max ? " and <= " : e->has_max ? " <= " : "", b2, "");
        if (e->has_min && v < (double)e->min) ok = 0;
        if (e->has_max && v > (double)e->max) ok = 0;
    } else {
        if (e->has_below) fmt_value(e->below, e->bound_is_duration, b1, sizeof b1);
        if (e->has_above) fmt_value(e->above, e->bound_is_duration, b2, sizeof b2);
        snprintf(r->expected, sizeof r->expected, "%s%s%s%s%s%s%s", name, e->fleet[0] ? " of " : "",
                 e->fleet, e->has_below ? " below " : "", b1, e->has_above ? " above " : "", b2);
        if (e->has_below && !(v < e->below)) ok = 0;
        if (e->has_above && !(v > e->above)) ok = 0;
        if (is_dur) {
            /* a latency of nothing measured proves nothing */
            double n = 0;
            int d;
            char cn[80];
            snprintf(cn, sizeof cn, "%.*s.count", (int)(strrchr(name, '.') - name), name);
            if (expect_value(c, cn, fi < 0 ? -1 : fi, &n, &d) == 0 && n == 0) {
                r->verdict = VERDICT_INCONCLUSIVE;
                snprintf(r->observed, sizeof r->observed, "no samples");
                return;
            }
        }
    }
    snprintf(r->observed, sizeof r->observed, "%s", vb);
    r->verdict = ok ? VERDICT_PASS : VERDICT_FAIL;
}

static void eval_ledger(const struct expect_ctx *c, const struct sc_expect *e, struct case_result *r)
{
    static struct fleet_stats fs;
    struct ledger gl;
    merged(c, -1, &fs);
    snapshot_platform_ledger(c->snap, &gl);
    char a[256], b[256];
    ledger_format(&fs.ledger, a, sizeof a);
    ledger_format(&gl, b, sizeof b);
    cell(r->observed, sizeof r->observed, "terminals: %s; platform: %s", a, b);
    bool ok = ledger_balanced(&fs.ledger) && ledger_balanced(&gl);
    if (e->ledger_acked) {
        snprintf(r->expected, sizeof r->expected, "every message acknowledged (none failed or timed out)");
        ok = ok && fs.ledger.acked == fs.ledger.sent && gl.acked == gl.sent;
    } else {
        snprintf(r->expected, sizeof r->expected, "every message acknowledged, failed or timed out");
    }
    if (fs.ledger.sent == 0 && gl.sent == 0) {
        /* a balance of nothing proves nothing: an unreachable target looks like this */
        snprintf(r->observed, sizeof r->observed, "no message that expects an answer was sent");
        r->verdict = VERDICT_INCONCLUSIVE;
        return;
    }
    r->verdict = ok ? VERDICT_PASS : VERDICT_FAIL;
    uint64_t pending = ledger_pending(&fs.ledger) + ledger_pending(&gl);
    if (!ok && c->live && pending) {
        /* while the run goes, a message in flight is not yet unanswered */
        r->verdict = VERDICT_INCONCLUSIVE;
        char o[sizeof r->observed];
        snprintf(o, sizeof o, "%s", r->observed);
        cell(r->observed, sizeof r->observed, "%" PRIu64 " in flight; %s", pending, o);
    }
}

/* What went wrong, by reason, over all fleets and the platform: the table's
 * "errors:" line and report.json's "errors". */
static void errors_by_reason(const struct expect_ctx *c, const struct fleet_stats *fs, struct run_report *rep)
{
    const struct snapshot_platform *p = &c->snap->platform;
    struct {
        const char *key, *text;
        uint64_t n;
    } e[] = {
        {"connect_failures", "connect failures", fs->connect_failures},
        {"connect_refused", "refused", fs->connect_refused},
        {"connect_timeouts", "timed out", fs->connect_timeouts},
        {"connect_unreachable", "unreachable", fs->connect_unreachable},
        /* the ones a fault step made are the plan, not an error */
        {"disconnects", "disconnects not caused by a fault step",
         fs->disconnects > fs->faults ? fs->disconnects - fs->faults : 0},
        {"terminal_decode_errors", "frames the terminals could not decode", fs->decode_errors},
        {"platform_rejected", "frames the platform rejected", p->rejected},
        {"requests_failed", "requests failed", fs->ledger.failed + p->ledger.failed},
        {"requests_timed_out", "requests timed out", fs->ledger.timed_out + p->ledger.timed_out},
    };
    cJSON_Delete(rep->errors);
    rep->errors = cJSON_CreateObject();
    for (size_t i = 0; rep->errors && i < sizeof e / sizeof e[0]; i++)
        cJSON_AddNumberToObject(rep->errors, e[i].key, (double)e[i].n);
    char *t = rep->errors_text;
    size_t cap = sizeof rep->errors_text, l = 0;
    t[0] = '\0';
    for (size_t i = 0; i < sizeof e / sizeof e[0]; i++) {
        if (!e[i].n || (i >= 1 && i <= 3))
            continue;
        l += (size_t)snprintf(t + l, l < cap ? cap - l : 0, "%s%s %" PRIu64, l ? ", " : "", e[i].text, e[i].n);
        if (i == 0) /* the connect failures by why */
            l += (size_t)snprintf(t + l, l < cap ? cap - l : 0, " (refused %" PRIu64 ", timed out %" PRIu64
                                  ", unreachable %" PRIu64 ")", e[1].n, e[2].n, e[3].n);
        if (l >= cap)
            break;
    }
}

/* A scenario with nothing to judge passes whatever happens: said again beside the
 * verdicts, as it was when the file was read. */
static void expect_warn_unchecked(const struct expect_ctx *c)
{
    if (c->sc->warning[0] && !c->live)
        fprintf(stderr, "%s\n", c->sc->warning);
}

void expect_evaluate(const struct expect_ctx *c, struct run_report *rep)
{
    expect_warn_unchecked(c);
    for (int i = 0; i < c->sc->n_expect; i++) {
        const struct sc_expect *e = &c->sc->expect[i];
        struct case_result r;
        memset(&r, 0, sizeof r);
        snprintf(r.id, sizeof r.id, "%s", e->id);
        snprintf(r.area, sizeof r.area, "%s", e->area);
        snprintf(r.desc, sizeof r.desc, "%s", e->desc);
        r.duration_s = c->snap->virtual_s;
        switch (e->kind) {
        case SC_EXP_STATE:
        case SC_EXP_TRANSITIONS:
            eval_partials(c, i, &r);
            break;
        case SC_EXP_REPLY:
            eval_reply(c, e, &r);
            break;
        case SC_EXP_METRIC:
            eval_metric(c, e, &r, 0);
            break;
        case SC_EXP_COUNTER:
            eval_metric(c, e, &r, 1);
            break;
        case SC_EXP_LEDGER:
            eval_ledger(c, e, &r);
            break;
        }
        report_add_case(rep, &r);
    }
    static struct fleet_stats fs;
    struct ledger gl;
    merged(c, -1, &fs);
    snapshot_platform_ledger(c->snap, &gl);
    struct ledger all = fs.ledger;
    ledger_add(&all, &gl);
    rep->ledger_balanced = ledger_balanced(&all);
    char a[200], b[200];
    ledger_format(&fs.ledger, a, sizeof a);
    ledger_format(&gl, b, sizeof b);
    cell(rep->ledger_text, sizeof rep->ledger_text, "terminals %s; platform %s", a, b);
    errors_by_reason(c, &fs, rep);
}

/* f: the fleet (its dialect's counters), -1 for the total (every dialect's, by name) */
static cJSON *fleet_json(const struct expect_ctx *c, int f, const struct fleet_stats *s)
{
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; i < N_COUNTERS; i++)
        if (!counters[i].gw)
            cJSON_AddNumberToObject(o, counters[i].name + 9,
                                    (double)*(const uint64_t *)((const char *)s + counters[i].off));
    for (int k = 0; k < c->sc->n_fleets; k++) {
        const struct dialect *d = c->sc->fleets[k].dialect;
        if ((f >= 0 && k != f) || !d)
            continue;
        for (int i = 0; i < d->n_counters; i++) {
            const char *key = d->counters[i].name + 9;
            if (cJSON_GetObjectItemCaseSensitive(o, key))
                continue; /* the total: already summed over every fleet with this counter */
            double v = 0;
            dialect_value(c, d->counters[i].name, f, &v);
            cJSON_AddNumberToObject(o, key, v);
        }
    }
    cJSON *st = cJSON_AddObjectToObject(o, "states_now");
    cJSON *re = cJSON_AddObjectToObject(o, "states_reached");
    for (int k = 0; k < TS__COUNT; k++) {
        cJSON_AddNumberToObject(st, term_state_name((enum term_state)k), (double)s->in_state[k]);
        cJSON_AddNumberToObject(re, term_state_name((enum term_state)k), (double)s->reached[k]);
    }
    cJSON *l = cJSON_AddObjectToObject(o, "ledger");
    cJSON_AddNumberToObject(l, "sent", (double)s->ledger.sent);
    cJSON_AddNumberToObject(l, "acked", (double)s->ledger.acked);
    cJSON_AddNumberToObject(l, "failed", (double)s->ledger.failed);
    cJSON_AddNumberToObject(l, "timed_out", (double)s->ledger.timed_out);
    cJSON_AddItemToObject(o, "report_latency", hist_to_json(&s->report_latency));
    cJSON_AddItemToObject(o, "ack_latency", hist_to_json(&s->ack_latency));
    cJSON_AddItemToObject(o, "online_latency", hist_to_json(&s->online_latency));
    return o;
}

void expect_metrics_json(const struct expect_ctx *c, cJSON *metrics)
{
    static struct fleet_stats fs;
    cJSON *fl = cJSON_AddObjectToObject(metrics, "fleets");
    for (int f = 0; f < c->sc->n_fleets; f++) {
        merged(c, f, &fs);
        cJSON_AddItemToObject(fl, c->sc->fleets[f].id, fleet_json(c, f, &fs));
    }
    merged(c, -1, &fs);
    cJSON_AddItemToObject(metrics, "total", fleet_json(c, -1, &fs));
    if (c->snap->virtual_s > 0)
        cJSON_AddNumberToObject(metrics, "reports_per_s", (double)fs.reports_acked / c->snap->virtual_s);
    if (c->snap->platform.gateways) {
        cJSON *g = cJSON_AddObjectToObject(metrics, "gateway");
        for (size_t i = 0; i < N_COUNTERS; i++)
            if (counters[i].gw)
                cJSON_AddNumberToObject(g, counters[i].name + 8, (double)gw_counter(c, counters[i].off));
        for (int i = 0; c->fe && i < c->fe->n_counters; i++)
            cJSON_AddNumberToObject(g, c->fe->counters[i].name + 8, (double)fe_sum(c, c->fe->counters[i].slot));
        cJSON_AddItemToObject(g, "command_latency", hist_to_json(&c->snap->platform.cmd_latency));
        cJSON_AddNumberToObject(g, "rss_kb", (double)c->snap->platform.rss_kb);
    }
    uint64_t rss = 0, terms = 0;
    int n_workers = 0;
    for (size_t k = 0; k < c->snap->n_components; k++) {
        const struct snapshot_component *w = &c->snap->components[k];
        if (w->kind != SNAPSHOT_WORKER)
            continue;
        n_workers++;
        rss += w->rss_kb;
        terms += w->terminals;
    }
    cJSON *w = cJSON_AddObjectToObject(metrics, "workers");
    cJSON_AddNumberToObject(w, "count", n_workers);
    cJSON_AddNumberToObject(w, "rss_kb", (double)rss);
    cJSON_AddNumberToObject(w, "terminals", (double)terms);
}

int expect_compile(const struct scenario *sc, struct term_pred *out, int cap)
{
    int n = 0;
    for (int i = 0; i < sc->n_expect && n < cap; i++) {
        const struct sc_expect *e = &sc->expect[i];
        if (e->kind != SC_EXP_STATE && e->kind != SC_EXP_TRANSITIONS)
            continue;
        struct term_pred *p = &out[n];
        memset(p, 0, sizeof *p);
        p->slot = i;
        p->id = e->id;
        for (int f = 0; f < sc->n_fleets; f++)
            if (!e->fleet[0] || strcmp(e->fleet, sc->fleets[f].id) == 0)
                p->fleets |= 1u << f;
        if (e->kind == SC_EXP_STATE) {
            int st = term_state_from_name(e->state);
            if (st < 0)
                continue; /* the parser knows the states; nothing to check */
            p->kind = e->within_ms ? TERM_PRED_REACHED : TERM_PRED_AT_END;
            p->state = (uint8_t)st;
            p->within_us = e->within_ms * 1000u;
        } else {
            p->kind = TERM_PRED_SEQUENCE;
            for (int k = 0; k < e->n_transitions && k < TERM_MAX_SEQ; k++) {
                int st = term_state_from_name(e->transitions[k]);
                p->seq[p->n_seq++] = (uint8_t)(st < 0 ? TS__COUNT : st);
            }
        }
        n++;
    }
    return n;
}

/* ---- the names expect_value knows, for the scenario parser ----
 * The same tables as expect_value (counters[], the dialects' and the front-ends'
 * counter tables) and the same metric forms, so that a name the parser accepts
 * is one the evaluation resolves. */

static const char *const metric_hists[] = {"report.latency", "ack.latency", "online.latency",
                                           "command.latency"};
static const char *const metric_hist_stats[] = {"p50", "p90", "p99", "p999", "max", "mean", "count"};
/* <base>.rate and <base>.count besides those of the dialects' counters */
static const char *const metric_rated[] = {"reports", "commands", "reconnects"};

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

typedef void (*expect_name_fn)(void *ctx, const char *name, int is_duration);

/* The dialects whose counters count for fleet f (-1: every fleet's). */
static const struct dialect *names_dialect(const struct scenario *sc, int f, int k)
{
    return (f < 0 || k == f) ? sc->fleets[k].dialect : NULL;
}

static void names_counters(const struct scenario *sc, int f, expect_name_fn fn, void *ctx)
{
    for (size_t i = 0; i < N_COUNTERS; i++)
        fn(ctx, counters[i].name, 0);
    for (int k = 0; k < sc->n_fleets; k++) {
        const struct dialect *d = names_dialect(sc, f, k);
        for (int i = 0; d && i < d->n_counters; i++)
            fn(ctx, d->counters[i].name, 0);
    }
    /* a front-end's counters are the platform's, whichever fleet is asked about */
    for (int k = 0; k < sc->n_fleets; k++) {
        const struct sc_dialect *sd = sc_dialect_of(&sc->fleets[k]);
        const struct frontend *fe = sd ? sd->frontend : NULL;
        for (int i = 0; fe && i < fe->n_counters; i++)
            fn(ctx, fe->counters[i].name, 0);
    }
}

static void names_metrics(const struct scenario *sc, int f, expect_name_fn fn, void *ctx)
{
    char name[96];
    for (size_t h = 0; h < N_ELEMS(metric_hists); h++) {
        for (size_t i = 0; i < N_ELEMS(metric_hist_stats); i++) {
            snprintf(name, sizeof name, "%s.%s", metric_hists[h], metric_hist_stats[i]);
            fn(ctx, name, strcmp(metric_hist_stats[i], "count") != 0);
        }
    }
    for (size_t i = 0; i < N_ELEMS(metric_rated); i++) {
        snprintf(name, sizeof name, "%s.rate", metric_rated[i]);
        fn(ctx, name, 0);
        snprintf(name, sizeof name, "%s.count", metric_rated[i]);
        fn(ctx, name, 0);
    }
    for (int k = 0; k < sc->n_fleets; k++) {
        const struct dialect *d = names_dialect(sc, f, k);
        for (int i = 0; d && i < d->n_counters; i++) {
            const char *c = d->counters[i].name;
            if (strncmp(c, "terminal.", 9) != 0)
                continue;
            snprintf(name, sizeof name, "%s.rate", c + 9);
            fn(ctx, name, 0);
            snprintf(name, sizeof name, "%s.count", c + 9);
            fn(ctx, name, 0);
        }
    }
}

#define NAMES_MAX 256

struct names_list {
    int n;
    char name[NAMES_MAX][64];
    int is_duration[NAMES_MAX];
};

static void names_add(void *ctx, const char *name, int is_duration)
{
    struct names_list *l = ctx;
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->name[i], name) == 0)
            return;
    if (l->n >= NAMES_MAX || strlen(name) >= sizeof l->name[0])
        return;
    snprintf(l->name[l->n], sizeof l->name[0], "%s", name);
    l->is_duration[l->n++] = is_duration;
}

/* The names, without repeats (a counter several dialects have is one name). */
static void names_build(const struct scenario *sc, int f, int metric, struct names_list *l)
{
    l->n = 0;
    if (metric)
        names_metrics(sc, f, names_add, l);
    else
        names_counters(sc, f, names_add, l);
}

/* Large, so not on the stack; the scenario parser, the one caller, is not
 * reentrant either. */
static struct names_list names_buf;

void expect_names(const struct scenario *sc, int f, int metric, expect_name_fn fn, void *ctx)
{
    names_build(sc, f, metric, &names_buf);
    for (int i = 0; i < names_buf.n; i++)
        fn(ctx, names_buf.name[i], names_buf.is_duration[i]);
}

int expect_name_known(const struct scenario *sc, int f, int metric, const char *name,
                      int *is_duration, char *closest, size_t cap)
{
    struct names_list *l = &names_buf;
    const char *ptrs[NAMES_MAX];
    if (closest != NULL && cap > 0)
        closest[0] = '\0';
    names_build(sc, f, metric, l);
    for (int i = 0; i < l->n; i++) {
        if (strcmp(l->name[i], name) == 0) {
            if (is_duration != NULL)
                *is_duration = l->is_duration[i];
            return 1;
        }
        ptrs[i] = l->name[i];
    }
    const char *near = scenario_json_closest(name, ptrs, (size_t)l->n);
    if (near != NULL && closest != NULL && cap > 0)
        snprintf(closest, cap, "%s", near);
    return 0;
}
