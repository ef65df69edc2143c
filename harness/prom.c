/* The run as Prometheus metrics (text exposition format 0.0.4). */
#include "harness/prom.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/core/metrics.h"
#include "sim/dev/dialect.h"
#include "sim/dev/term_state.h"

void prom_buf_free(struct prom_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

static void put(struct prom_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct prom_buf *b, const char *fmt, ...)
{
    if (b->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = b->cap - b->len;
        int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? room : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = 1;
            return;
        }
        if (b->p && (size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        size_t ncap = b->cap ? b->cap * 2 : 16384;
        while (ncap - b->len <= (size_t)n)
            ncap *= 2;
        char *np = realloc(b->p, ncap);
        if (!np) {
            b->failed = 1;
            return;
        }
        b->p = np;
        b->cap = ncap;
    }
}

/* A label value with \, " and newline escaped as the format wants. */
static void label_value(const char *v, char *out, size_t cap)
{
    size_t o = 0;
    for (; *v && o + 3 < cap; v++) {
        if (*v == '\\' || *v == '"') {
            out[o++] = '\\';
            out[o++] = *v;
        } else if (*v == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else {
            out[o++] = *v;
        }
    }
    out[o] = '\0';
}

/* A metric name from a counter's name: "terminal.bad-thing" -> "terminal_bad_thing". */
static void metric_name(const char *in, char *out, size_t cap)
{
    size_t o = 0;
    for (; *in && o + 1 < cap; in++) {
        char c = *in;
        out[o++] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ? c : '_';
    }
    out[o] = '\0';
}

static void family(struct prom_buf *b, const char *name, const char *type, const char *help)
{
    put(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Latency bucket bounds in seconds: 50 µs to 10 s, about three a decade. */
static const double LE[] = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                            0.05,    0.1,    0.25,    0.5,    1,     2.5,    5,     10};

static void histogram(struct prom_buf *b, const char *name, const char *labels, const struct hist *h)
{
    size_t bk = 0;
    uint64_t cum = 0;
    const char *sep = labels[0] ? "," : "";
    for (size_t i = 0; i < sizeof LE / sizeof LE[0]; i++) {
        uint64_t bound = (uint64_t)(LE[i] * 1e6 + 0.5);
        /* every bucket whose values are all at or under the bound */
        while (bk < HIST_BUCKETS && hist_bucket_upper(bk) <= bound)
            cum += h->counts[bk++];
        put(b, "%s_bucket{%s%sle=\"%g\"} %" PRIu64 "\n", name, labels, sep, LE[i], cum);
    }
    put(b, "%s_bucket{%s%sle=\"+Inf\"} %" PRIu64 "\n", name, labels, sep, h->n);
    put(b, "%s_sum{%s} %.6f\n", name, labels, (double)h->sum / 1e6);
    put(b, "%s_count{%s} %" PRIu64 "\n", name, labels, h->n);
}

struct fl {
    char labels[160];
    const struct snapshot_fleet *f;
    const struct dialect *d;
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* One counter of struct fleet_stats per fleet. */
struct fleet_counter {
    const char *name, *help;
    size_t off;
};
#define FC(n, f, h) {n, h, offsetof(struct fleet_stats, f)}
static const struct fleet_counter FLEET_COUNTERS[] = {
    FC("fleetsim_terminals_started_total", started, "Terminals the ramp has started."),
    FC("fleetsim_connects_total", connects, "Transport connections that succeeded."),
    FC("fleetsim_disconnects_total", disconnects, "Connections lost or dropped on purpose."),
    FC("fleetsim_faults_total", faults, "Disconnects injected by a fault step."),
    FC("fleetsim_frames_sent_total", frames_out, "Frames the terminals sent."),
    FC("fleetsim_frames_received_total", frames_in, "Frames the terminals received."),
    FC("fleetsim_sent_bytes_total", bytes_out, "Bytes the terminals sent."),
    FC("fleetsim_received_bytes_total", bytes_in, "Bytes the terminals received."),
    FC("fleetsim_decode_errors_total", decode_errors, "Frames from the platform the terminals could not decode."),
    FC("fleetsim_reports_total", reports, "Periodic reports the terminals sent."),
    FC("fleetsim_reports_acked_total", reports_acked, "Periodic reports the platform acknowledged."),
    FC("fleetsim_platform_requests_total", commands, "Platform requests the terminals received."),
    FC("fleetsim_platform_replies_total", replies, "Answers the terminals sent to them."),
};
#undef FC

static void fleets(struct prom_buf *b, const struct fl *fs, int n)
{
    family(b, "fleetsim_terminals", "gauge", "Terminals of the fleet in this run (its shard's slice).");
    for (int i = 0; i < n; i++)
        put(b, "fleetsim_terminals{%s} %" PRIu64 "\n", fs[i].labels, fs[i].f->planned);
    family(b, "fleetsim_terminals_in_state", "gauge", "Terminals in each state now.");
    for (int i = 0; i < n; i++)
        for (int s = 0; s < TS__COUNT; s++)
            put(b, "fleetsim_terminals_in_state{%s,state=\"%s\"} %" PRIu64 "\n", fs[i].labels,
                term_state_name((enum term_state)s), fs[i].f->st.in_state[s]);
    family(b, "fleetsim_terminals_reached_total", "counter", "Terminals that reached each state at least once.");
    for (int i = 0; i < n; i++)
        for (int s = 0; s < TS__COUNT; s++)
            put(b, "fleetsim_terminals_reached_total{%s,state=\"%s\"} %" PRIu64 "\n", fs[i].labels,
                term_state_name((enum term_state)s), fs[i].f->st.reached[s]);
    for (size_t k = 0; k < N_OF(FLEET_COUNTERS); k++) {
        family(b, FLEET_COUNTERS[k].name, "counter", FLEET_COUNTERS[k].help);
        for (int i = 0; i < n; i++)
            put(b, "%s{%s} %" PRIu64 "\n", FLEET_COUNTERS[k].name, fs[i].labels,
                *(const uint64_t *)((const char *)&fs[i].f->st + FLEET_COUNTERS[k].off));
    }
    family(b, "fleetsim_connect_failures_total", "counter", "Connects that failed, by reason.");
    for (int i = 0; i < n; i++) {
        const struct fleet_stats *st = &fs[i].f->st;
        uint64_t known = st->connect_refused + st->connect_timeouts + st->connect_unreachable;
        put(b, "fleetsim_connect_failures_total{%s,reason=\"refused\"} %" PRIu64 "\n", fs[i].labels,
            st->connect_refused);
        put(b, "fleetsim_connect_failures_total{%s,reason=\"timeout\"} %" PRIu64 "\n", fs[i].labels,
            st->connect_timeouts);
        put(b, "fleetsim_connect_failures_total{%s,reason=\"unreachable\"} %" PRIu64 "\n", fs[i].labels,
            st->connect_unreachable);
        put(b, "fleetsim_connect_failures_total{%s,reason=\"other\"} %" PRIu64 "\n", fs[i].labels,
            st->connect_failures > known ? st->connect_failures - known : 0);
    }
    family(b, "fleetsim_requests_sent_total", "counter", "Terminal requests that expect an answer.");
    for (int i = 0; i < n; i++)
        put(b, "fleetsim_requests_sent_total{%s} %" PRIu64 "\n", fs[i].labels, fs[i].f->st.ledger.sent);
    family(b, "fleetsim_requests_settled_total", "counter", "Terminal requests settled, by outcome.");
    for (int i = 0; i < n; i++) {
        const struct ledger *l = &fs[i].f->st.ledger;
        put(b, "fleetsim_requests_settled_total{%s,outcome=\"acked\"} %" PRIu64 "\n", fs[i].labels, l->acked);
        put(b, "fleetsim_requests_settled_total{%s,outcome=\"failed\"} %" PRIu64 "\n", fs[i].labels, l->failed);
        put(b, "fleetsim_requests_settled_total{%s,outcome=\"timed_out\"} %" PRIu64 "\n", fs[i].labels,
            l->timed_out);
    }
    family(b, "fleetsim_report_latency_seconds", "histogram",
           "Report due to its acknowledgement, wall-clock seconds.");
    for (int i = 0; i < n; i++)
        histogram(b, "fleetsim_report_latency_seconds", fs[i].labels, &fs[i].f->st.report_latency);
    family(b, "fleetsim_request_latency_seconds", "histogram", "Any request to its answer, wall-clock seconds.");
    for (int i = 0; i < n; i++)
        histogram(b, "fleetsim_request_latency_seconds", fs[i].labels, &fs[i].f->st.ack_latency);
    /* each dialect's own counters, under their names ("terminal.heartbeats") */
    for (int i = 0; i < n; i++) {
        const struct dialect *d = fs[i].d;
        for (int k = 0; d && k < d->n_counters; k++) {
            char mn[96];
            metric_name(d->counters[k].name, mn, sizeof mn);
            /* a family once, for the first fleet of the dialect that has it */
            int first = 1;
            for (int j = 0; j < i; j++)
                if (fs[j].d == d)
                    first = 0;
            if (first) {
                char full[128];
                snprintf(full, sizeof full, "fleetsim_%s_total", mn);
                family(b, full, "counter", d->counters[k].desc);
                for (int j = i; j < n; j++)
                    if (fs[j].d == d)
                        put(b, "%s{%s} %" PRIu64 "\n", full, fs[j].labels,
                            d->counters[k].slot < STATS_DIALECT_COUNTERS ? fs[j].f->st.dc[d->counters[k].slot] : 0);
            }
        }
    }
}

static void platform(struct prom_buf *b, const struct snapshot_platform *p, const struct frontend *fe)
{
    family(b, "fleetsim_platform_processes", "gauge", "Front-end processes of the embedded platform.");
    put(b, "fleetsim_platform_processes %u\n", p->gateways);
    family(b, "fleetsim_platform_connections", "gauge", "Connections the platform holds now.");
    put(b, "fleetsim_platform_connections %" PRIu64 "\n", p->connections);
    family(b, "fleetsim_platform_accepted_total", "counter", "Connections the platform accepted.");
    put(b, "fleetsim_platform_accepted_total %" PRIu64 "\n", p->accepted);
    family(b, "fleetsim_platform_closed_total", "counter", "Connections the platform saw close, by who.");
    put(b, "fleetsim_platform_closed_total{by=\"idle_timeout\"} %" PRIu64 "\n", p->closed_idle);
    put(b, "fleetsim_platform_closed_total{by=\"peer\"} %" PRIu64 "\n", p->closed_peer);
    family(b, "fleetsim_platform_frames_received_total", "counter", "Frames the platform received.");
    put(b, "fleetsim_platform_frames_received_total %" PRIu64 "\n", p->frames_in);
    family(b, "fleetsim_platform_frames_sent_total", "counter", "Frames the platform sent.");
    put(b, "fleetsim_platform_frames_sent_total %" PRIu64 "\n", p->frames_out);
    family(b, "fleetsim_platform_rejected_frames_total", "counter", "Frames the platform rejected as malformed.");
    put(b, "fleetsim_platform_rejected_frames_total %" PRIu64 "\n", p->rejected);
    family(b, "fleetsim_platform_commands_sent_total", "counter", "Platform requests sent to terminals.");
    put(b, "fleetsim_platform_commands_sent_total %" PRIu64 "\n", p->ledger.sent);
    family(b, "fleetsim_platform_commands_settled_total", "counter", "Platform requests settled, by outcome.");
    put(b, "fleetsim_platform_commands_settled_total{outcome=\"acked\"} %" PRIu64 "\n", p->ledger.acked);
    put(b, "fleetsim_platform_commands_settled_total{outcome=\"failed\"} %" PRIu64 "\n", p->ledger.failed);
    put(b, "fleetsim_platform_commands_settled_total{outcome=\"timed_out\"} %" PRIu64 "\n", p->ledger.timed_out);
    family(b, "fleetsim_platform_command_latency_seconds", "histogram",
           "Platform request to the terminal's answer, wall-clock seconds.");
    histogram(b, "fleetsim_platform_command_latency_seconds", "", &p->cmd_latency);
    for (int k = 0; fe && k < fe->n_counters; k++) {
        char mn[96], full[128];
        metric_name(fe->counters[k].name, mn, sizeof mn);
        snprintf(full, sizeof full, "fleetsim_%s_total", mn);
        family(b, full, "counter", fe->counters[k].desc);
        put(b, "%s %" PRIu64 "\n", full, fe->counters[k].slot < STATS_FE_COUNTERS ? p->c[fe->counters[k].slot] : 0);
    }
    family(b, "fleetsim_platform_resident_bytes", "gauge", "Resident memory of the front-end processes.");
    put(b, "fleetsim_platform_resident_bytes %" PRIu64 "\n", p->rss_kb * 1024);
    const struct snapshot_core *k = &p->core;
    static const struct {
        const char *name, *help;
        size_t off;
    } CORE[] = {
        {"fleetsim_core_transactions_total", "Write transactions of the platform core (each a batch).",
         offsetof(struct snapshot_core, transactions)},
        {"fleetsim_core_registrations_total", "Registrations the core accepted.",
         offsetof(struct snapshot_core, registrations)},
        {"fleetsim_core_registrations_refused_total", "Registrations the core refused.",
         offsetof(struct snapshot_core, reg_refused)},
        {"fleetsim_core_authentications_total", "Authentications the core accepted.",
         offsetof(struct snapshot_core, auths)},
        {"fleetsim_core_authentications_refused_total", "Authentications the core refused.",
         offsetof(struct snapshot_core, auth_refused)},
        {"fleetsim_core_reports_total", "Reported values the core stored.", offsetof(struct snapshot_core, reports)},
        {"fleetsim_core_tasks_total", "Command tasks.", offsetof(struct snapshot_core, tasks)},
        {"fleetsim_core_commands_total", "Commands to devices.", offsetof(struct snapshot_core, commands)},
        {"fleetsim_core_command_results_total", "Command results back from the front-ends.",
         offsetof(struct snapshot_core, results)},
        {"fleetsim_core_bus_messages_total", "Bus messages from the front-ends.", offsetof(struct snapshot_core, msgs_in)},
        {"fleetsim_core_bus_errors_total", "Malformed bus messages.", offsetof(struct snapshot_core, bus_errors)},
    };
    for (size_t i = 0; i < N_OF(CORE); i++) {
        family(b, CORE[i].name, "counter", CORE[i].help);
        put(b, "%s %" PRIu64 "\n", CORE[i].name, *(const uint64_t *)((const char *)k + CORE[i].off));
    }
    family(b, "fleetsim_core_resident_bytes", "gauge", "Resident memory of the platform core.");
    put(b, "fleetsim_core_resident_bytes %" PRIu64 "\n", k->rss_kb * 1024);
}

int prom_render(struct prom_buf *b, const struct run_snapshot *s, const struct scenario *sc,
                const struct frontend *fe, double elapsed_s)
{
    b->len = 0;
    b->failed = 0;
    char v[200];
    label_value(s->scenario, v, sizeof v);
    family(b, "fleetsim_run_info", "gauge", "The run: its scenario (always 1).");
    put(b, "fleetsim_run_info{scenario=\"%s\",shard=\"%u\",shards=\"%u\"} 1\n", v,
        s->n_shards ? s->shards[0] : 1, s->shard_count ? s->shard_count : 1);
    family(b, "fleetsim_run_elapsed_seconds", "gauge", "Wall-clock seconds since the run started.");
    put(b, "fleetsim_run_elapsed_seconds %.3f\n", elapsed_s);
    family(b, "fleetsim_run_virtual_seconds", "gauge", "Virtual (scenario) seconds the run has covered.");
    put(b, "fleetsim_run_virtual_seconds %.3f\n", s->virtual_s);
    family(b, "fleetsim_run_time_scale", "gauge", "Virtual seconds per wall-clock second.");
    put(b, "fleetsim_run_time_scale %g\n", s->time_scale > 0 ? s->time_scale : 1.0);
    struct fl fs[STATS_MAX_FLEETS];
    int n = 0;
    for (int i = 0; i < s->n_fleets && n < STATS_MAX_FLEETS; i++) {
        const struct fleet_spec *spec = sc ? scenario_fleet(sc, s->fleets[i].id) : NULL;
        char id[100], proto[40];
        label_value(s->fleets[i].id, id, sizeof id);
        label_value(spec ? spec->protocol : "", proto, sizeof proto);
        snprintf(fs[n].labels, sizeof fs[n].labels, "fleet=\"%s\",protocol=\"%s\"", id, proto);
        fs[n].f = &s->fleets[i];
        fs[n].d = spec ? spec->dialect : NULL;
        n++;
    }
    if (n)
        fleets(b, fs, n);
    if (s->embedded || s->platform.gateways)
        platform(b, &s->platform, fe);
    return b->failed ? -1 : 0;
}
