/* The run snapshot as JSON: the field tables both halves share, and the writer
 * (the reader is snapshot_json_read.c).  Every histogram keeps every bucket (the
 * non-zero ones, as [index, count] pairs), so a snapshot read back is the one
 * written and a merge of snapshots read back is exact.  Whole numbers above 2^53
 * (beyond a JSON number's exact range) are written as strings of digits.  The
 * reader is strict, as the scenario parser is: an unknown field, a value out of
 * range or an inconsistent histogram stops it with the file and the JSON path. */
#include "harness/snapshot.h"
#include "harness/snapshot_json_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/scenario_json.h"
#include "sim/dev/term_state.h"


/* The scalar counters of struct fleet_stats (the arrays and the rest apart). */
#define FC(f) {#f, offsetof(struct fleet_stats, f)}
const struct snapshot_named snapshot_fleet_counters[26] = {
    FC(terminals), FC(stops), FC(started), FC(connects), FC(connect_failures), FC(connect_refused), FC(connect_timeouts),
    FC(connect_unreachable), FC(disconnects), FC(faults),
    FC(frames_out), FC(frames_in), FC(bytes_out), FC(bytes_in), FC(decode_errors), FC(reports),
    FC(reports_acked), FC(commands), FC(replies), FC(tls_handshakes), FC(tls_name_mismatch), FC(tls_untrusted),
    FC(tls_ocsp_missing), FC(tls_ocsp_revoked), FC(tls_ocsp_bad), FC(tls_handshake_failed),
};
#undef FC
_Static_assert(N_OF(snapshot_fleet_counters) + 2 * TS__COUNT + STATS_DIALECT_COUNTERS ==
                   offsetof(struct fleet_stats, ledger) / sizeof(uint64_t),
               "every counter of struct fleet_stats has its place in the snapshot");

#define KC(f) {#f, offsetof(struct snapshot_core, f)}
const struct snapshot_named snapshot_core_counters[19] = {
    KC(transactions), KC(registrations), KC(reg_refused), KC(auths), KC(auth_refused), KC(reports), KC(tasks),
    KC(commands), KC(results), KC(msgs_in), KC(records_in), KC(bus_errors), KC(rss_kb), KC(flushes),
    KC(wal_max_kb), KC(wal_restarts), KC(checkpoints), KC(checkpoints_incomplete), KC(checkpoint_max_us),
};
#undef KC
_Static_assert(N_OF(snapshot_core_counters) * sizeof(uint64_t) == sizeof(struct snapshot_core),
               "every counter of struct snapshot_core has its name");

#define PC(f) {#f, offsetof(struct snapshot_platform, f)}
const struct snapshot_named snapshot_platform_counters[7] = {
    PC(connections), PC(accepted), PC(closed_idle), PC(closed_peer), PC(frames_in), PC(frames_out), PC(rejected),
};
#undef PC
_Static_assert(offsetof(struct gw_slot, c) - offsetof(struct gw_slot, connections) ==
                   N_OF(snapshot_platform_counters) * sizeof(uint64_t) &&
               offsetof(struct gw_slot, ledger) == offsetof(struct gw_slot, c) + sizeof(((struct gw_slot *)0)->c) &&
               offsetof(struct gw_slot, cmd) == offsetof(struct gw_slot, ledger) + sizeof(struct ledger) &&
               offsetof(struct gw_slot, cmd_latency) ==
                   offsetof(struct gw_slot, cmd) + sizeof(((struct gw_slot *)0)->cmd) &&
               offsetof(struct gw_slot, events) == offsetof(struct gw_slot, cmd_latency) + sizeof(struct hist) &&
               sizeof(struct gw_slot) == offsetof(struct gw_slot, events) + sizeof(struct live_ring),
               "every counter of struct gw_slot has its place in the snapshot");

const char *const snapshot_why_keys[LEDGER_WHY_COUNT] = {
    [LEDGER_REFUSED] = "refused",       [LEDGER_CONN_LOST] = "conn_lost", [LEDGER_OFFLINE] = "offline",
    [LEDGER_SEND_ERROR] = "send_error", [LEDGER_UNSUPPORTED] = "unsupported",
};

const char *const snapshot_phase_names[5] = {
    [WP_STARTING] = "starting", [WP_RUNNING] = "running", [WP_DRAINING] = "draining",
    [WP_DONE] = "done",         [WP_FAILED] = "failed",
};

const char *const snapshot_cmd_keys[7] = {"kind", "addressed", "sent", "answered", "refused", "timed_out", "offline"};

/* --- writing ------------------------------------------------------------------------------ */

/* cJSON's Add* helpers return NULL when out of memory: one flag instead of a check per field. */
struct wr {
    int failed;
};

static cJSON *w_item(struct wr *w, cJSON *parent, const char *key, cJSON *item)
{
    int ok = item && (key ? cJSON_AddItemToObject(parent, key, item) : cJSON_AddItemToArray(parent, item));
    if (!ok) {
        cJSON_Delete(item);
        w->failed = 1;
        return NULL;
    }
    return item;
}

static cJSON *u64_item(uint64_t v)
{
    if (v <= JSON_EXACT_MAX)
        return cJSON_CreateNumber((double)v);
    char b[24];
    snprintf(b, sizeof b, "%" PRIu64, v);
    return cJSON_CreateString(b);
}

static void w_u64(struct wr *w, cJSON *o, const char *k, uint64_t v) { w_item(w, o, k, u64_item(v)); }
static void w_num(struct wr *w, cJSON *o, const char *k, double v) { w_item(w, o, k, cJSON_CreateNumber(v)); }
static void w_str(struct wr *w, cJSON *o, const char *k, const char *v) { w_item(w, o, k, cJSON_CreateString(v)); }
static void w_bool(struct wr *w, cJSON *o, const char *k, int v) { w_item(w, o, k, cJSON_CreateBool(v)); }
static cJSON *w_obj(struct wr *w, cJSON *o, const char *k) { return w_item(w, o, k, cJSON_CreateObject()); }
static cJSON *w_arr(struct wr *w, cJSON *o, const char *k) { return w_item(w, o, k, cJSON_CreateArray()); }

/* Counters as an array by slot, without the zeros at its end. */
static void w_slots(struct wr *w, cJSON *o, const char *k, const uint64_t *v, int n)
{
    while (n > 0 && !v[n - 1])
        n--;
    cJSON *a = w_arr(w, o, k);
    for (int i = 0; a && i < n; i++)
        w_item(w, a, NULL, u64_item(v[i]));
}

static void w_hist_fields(struct wr *w, cJSON *o, uint64_t n, uint64_t sum, uint64_t min, uint64_t max)
{
    w_u64(w, o, "n", n);
    w_u64(w, o, "sum", sum);
    if (n) {
        w_u64(w, o, "min", min);
        w_u64(w, o, "max", max);
    }
}

static void w_pair(struct wr *w, cJSON *a, uint32_t index, uint32_t count)
{
    cJSON *p = w_item(w, a, NULL, cJSON_CreateArray());
    if (p) {
        w_item(w, p, NULL, cJSON_CreateNumber(index));
        w_item(w, p, NULL, cJSON_CreateNumber(count));
    }
}

static void w_hist(struct wr *w, cJSON *o, const char *k, const struct hist *h)
{
    cJSON *x = w_obj(w, o, k);
    if (!x)
        return;
    w_hist_fields(w, x, h->n, h->sum, h->min, h->max);
    cJSON *b = w_arr(w, x, "buckets");
    for (size_t i = 0; b && i < HIST_BUCKETS; i++)
        if (h->counts[i])
            w_pair(w, b, (uint32_t)i, h->counts[i]);
}

static void w_sparse(struct wr *w, cJSON *o, const char *k, const struct snapshot_sparse *sp)
{
    cJSON *x = w_obj(w, o, k);
    if (!x)
        return;
    w_hist_fields(w, x, sp->n, sp->sum, sp->min, sp->max);
    cJSON *b = w_arr(w, x, "buckets");
    for (uint32_t i = 0; b && i < sp->n_buckets; i++)
        w_pair(w, b, sp->b[i].index, sp->b[i].count);
}

static void w_ledger(struct wr *w, cJSON *o, const struct ledger *l)
{
    cJSON *x = w_obj(w, o, "ledger");
    if (!x)
        return;
    w_u64(w, x, "sent", l->sent);
    w_u64(w, x, "acked", l->acked);
    w_u64(w, x, "failed", l->failed);
    w_u64(w, x, "timed_out", l->timed_out);
    cJSON *y = w_obj(w, x, "why");
    for (int i = 0; y && i < LEDGER_WHY_COUNT; i++)
        w_u64(w, y, snapshot_why_keys[i], l->why[i]);
}

static void w_fleet(struct wr *w, cJSON *a, const struct snapshot_fleet *f)
{
    cJSON *o = w_item(w, a, NULL, cJSON_CreateObject());
    if (!o)
        return;
    w_str(w, o, "id", f->id);
    if (f->protocol[0])
        w_str(w, o, "protocol", f->protocol);
    if (f->target[0])
        w_str(w, o, "target", f->target);
    w_u64(w, o, "planned", f->planned);
    cJSON *c = w_obj(w, o, "counters");
    for (size_t i = 0; c && i < N_OF(snapshot_fleet_counters); i++)
        w_u64(w, c, snapshot_fleet_counters[i].name, *(const uint64_t *)((const char *)&f->st + snapshot_fleet_counters[i].off));
    cJSON *now = w_obj(w, o, "in_state"), *re = w_obj(w, o, "reached");
    for (int k = 0; now && re && k < TS__COUNT; k++) {
        w_u64(w, now, term_state_name((enum term_state)k), f->st.in_state[k]);
        w_u64(w, re, term_state_name((enum term_state)k), f->st.reached[k]);
    }
    w_slots(w, o, "dc", f->st.dc, STATS_DIALECT_COUNTERS);
    w_ledger(w, o, &f->st.ledger);
    w_hist(w, o, "report_latency", &f->st.report_latency);
    w_hist(w, o, "ack_latency", &f->st.ack_latency);
    w_hist(w, o, "online_latency", &f->st.online_latency);
    cJSON *cmds = w_arr(w, o, "commands");
    for (int k = 0; cmds && k < STATS_CMD_KINDS; k++) {
        const struct cmd_stats *cs = &f->cmd[k];
        uint64_t v[] = {(uint64_t)k, f->addressed[k], cs->sent, cs->answered, cs->refused, cs->timed_out, cs->offline};
        uint64_t any = 0;
        for (size_t i = 1; i < N_OF(v); i++)
            any |= v[i];
        if (!any)
            continue;
        cJSON *x = w_item(w, cmds, NULL, cJSON_CreateObject());
        for (size_t i = 0; x && i < N_OF(v); i++)
            w_u64(w, x, snapshot_cmd_keys[i], v[i]);
    }
}

static void w_platform(struct wr *w, cJSON *root, const struct snapshot_platform *p)
{
    cJSON *o = w_obj(w, root, "platform");
    if (!o)
        return;
    w_u64(w, o, "gateways", p->gateways);
    cJSON *c = w_obj(w, o, "counters");
    for (size_t i = 0; c && i < N_OF(snapshot_platform_counters); i++)
        w_u64(w, c, snapshot_platform_counters[i].name, *(const uint64_t *)((const char *)p + snapshot_platform_counters[i].off));
    w_slots(w, o, "c", p->c, STATS_FE_COUNTERS);
    w_ledger(w, o, &p->ledger);
    w_hist(w, o, "command_latency", &p->cmd_latency);
    w_u64(w, o, "rss_kb", p->rss_kb);
    cJSON *k = w_obj(w, o, "core");
    for (size_t i = 0; k && i < N_OF(snapshot_core_counters); i++)
        w_u64(w, k, snapshot_core_counters[i].name,
              *(const uint64_t *)((const char *)&p->core + snapshot_core_counters[i].off));
}

cJSON *snapshot_to_json(const struct run_snapshot *s)
{
    struct wr w = {0};
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    w_str(&w, root, "format", SNAPSHOT_FORMAT);
    w_num(&w, root, "version", SNAPSHOT_VERSION);
    cJSON *sc = w_obj(&w, root, "scenario");
    if (sc) {
        w_str(&w, sc, "name", s->scenario);
        w_str(&w, sc, "path", s->path);
        w_str(&w, sc, "hash", s->hash);
    }
    cJSON *sh = w_obj(&w, root, "shard");
    if (sh) {
        w_u64(&w, sh, "count", s->shard_count);
        cJSON *cov = w_arr(&w, sh, "covered");
        for (uint32_t i = 0; cov && i < s->n_shards; i++)
            w_item(&w, cov, NULL, cJSON_CreateNumber(s->shards[i]));
    }
    w_str(&w, root, "started", s->started);
    w_num(&w, root, "time_scale", s->time_scale);
    w_u64(&w, root, "status_interval_ms", s->interval_ms);
    w_bool(&w, root, "embedded", s->embedded);
    w_str(&w, root, "frontend", s->frontend);
    w_num(&w, root, "virtual_s", s->virtual_s);
    w_num(&w, root, "wall_s", s->wall_s);
    w_u64(&w, root, "all_online_us", s->all_online_us);
    w_u64(&w, root, "skipped_steps", s->skipped_steps);
    w_str(&w, root, "harness_error", s->harness_error);
    cJSON *fl = w_arr(&w, root, "fleets");
    for (int f = 0; fl && f < s->n_fleets; f++)
        w_fleet(&w, fl, &s->fleets[f]);
    w_platform(&w, root, &s->platform);
    cJSON *ex = w_arr(&w, root, "expect");
    for (int i = 0; ex && i < s->n_expect; i++) {
        cJSON *o = w_item(&w, ex, NULL, cJSON_CreateObject());
        if (!o)
            continue;
        w_str(&w, o, "id", s->expect[i].id);
        w_u64(&w, o, "ok", s->expect[i].p.ok);
        w_u64(&w, o, "total", s->expect[i].p.total);
        w_u64(&w, o, "worst_us", s->expect[i].p.worst_us);
        w_u64(&w, o, "undecided", s->expect[i].p.undecided);
    }
    cJSON *tl = w_arr(&w, root, "timeline");
    for (size_t i = 0; tl && i < s->n_samples; i++) {
        const struct snapshot_sample *x = &s->samples[i];
        cJSON *o = w_item(&w, tl, NULL, cJSON_CreateObject());
        if (!o)
            continue;
        w_u64(&w, o, "tick", x->tick);
        w_num(&w, o, "t_s", x->t_s);
        w_u64(&w, o, "online", x->online);
        w_num(&w, o, "reports_per_s", x->reports_per_s);
        w_u64(&w, o, "pending", x->pending);
        w_u64(&w, o, "disconnects", x->disconnects);
        w_sparse(&w, o, "report_latency", &x->window);
    }
    cJSON *cw = w_arr(&w, root, "command_windows");
    for (int i = 0; cw && i < s->n_windows; i++) {
        const struct snapshot_window *x = &s->windows[i];
        cJSON *o = w_item(&w, cw, NULL, cJSON_CreateObject());
        if (!o)
            continue;
        w_u64(&w, o, "step", (uint64_t)x->step);
        w_str(&w, o, "fleet", x->fleet);
        w_str(&w, o, "msg", x->msg);
        w_u64(&w, o, "at_us", x->at_us);
        w_bool(&w, o, "closed", x->closed);
        w_hist(&w, o, "report_latency", &x->during);
    }
    cJSON *co = w_arr(&w, root, "components");
    for (size_t i = 0; co && i < s->n_components; i++) {
        const struct snapshot_component *x = &s->components[i];
        cJSON *o = w_item(&w, co, NULL, cJSON_CreateObject());
        if (!o)
            continue;
        w_str(&w, o, "kind", x->kind == SNAPSHOT_GATEWAY ? "gateway" : "worker");
        w_u64(&w, o, "index", (uint64_t)x->index);
        w_u64(&w, o, "shard", x->shard);
        w_str(&w, o, "phase", (unsigned)x->phase < N_OF(snapshot_phase_names) ? snapshot_phase_names[x->phase] : "failed");
        w_num(&w, o, "pid", x->pid);
        w_str(&w, o, "error", x->error);
        w_u64(&w, o, "terminals", x->terminals);
        w_u64(&w, o, "rss_kb", x->rss_kb);
        w_u64(&w, o, "rss_base_kb", x->rss_base_kb);
        w_u64(&w, o, "rss_peak_kb", x->rss_peak_kb);
    }
    if (w.failed) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

