/* Reading a run snapshot back from JSON.  Strict, as the scenario parser is: an
 * unknown field, a value out of range or an inconsistent histogram stops it with
 * the file and the JSON path. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/report_read.h"
#include "harness/scenario_json.h"
#include "harness/snapshot.h"
#include "harness/snapshot_json_internal.h"
#include "harness/textfile.h"
#include "sim/dev/term_state.h"

#define SNAPSHOT_MAX_FILE (256u << 20)

/* --- reading -------------------------------------------------------------------------------- */

/* Paths of the members read: parent.key, parent[i]. */
#define PATH_CAP SCENARIO_JSON_PATH_MAX

static int r_fail_got(const struct scenario_json *j, const char *path, const char *want, const cJSON *v)
{
    char got[64];
    scenario_json_got(v, got, sizeof got);
    return scenario_json_fail(j, path, "expected %s, got %s", want, got);
}

/* A whole number in 0..max: a JSON number (exact up to 2^53) or a string of digits. */
static int r_u64_item(const struct scenario_json *j, const cJSON *v, const char *path, uint64_t max, uint64_t *out)
{
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (!isfinite(d) || d < 0 || d != floor(d) || d > (double)JSON_EXACT_MAX)
            return r_fail_got(j, path, "a whole number >= 0", v);
        if (d > (double)max)
            return scenario_json_fail(j, path, "%.0f is more than %" PRIu64, d, max);
        *out = (uint64_t)d;
        return SJ_OK;
    }
    if (cJSON_IsString(v) && v->valuestring[0]) {
        uint64_t n = 0;
        for (const char *p = v->valuestring; *p; p++) {
            if (*p < '0' || *p > '9' || n > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
                return r_fail_got(j, path, "a whole number >= 0", v);
            n = n * 10 + (uint64_t)(*p - '0');
        }
        if (n > max)
            return scenario_json_fail(j, path, "%" PRIu64 " is more than %" PRIu64, n, max);
        *out = n;
        return SJ_OK;
    }
    return r_fail_got(j, path, "a whole number >= 0", v);
}

/* Member key of obj; absent leaves out untouched unless required. */
static int r_u64(const struct scenario_json *j, const cJSON *obj, const char *path, const char *key, int need,
                 uint64_t max, uint64_t *out)
{
    char p[PATH_CAP];
    scenario_json_path(p, sizeof p, path, key);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return need ? scenario_json_fail(j, p, "missing") : SJ_ABSENT;
    return r_u64_item(j, v, p, max, out);
}

static int r_u32(const struct scenario_json *j, const cJSON *obj, const char *path, const char *key, int need,
                 uint32_t *out)
{
    uint64_t v = *out;
    int rc = r_u64(j, obj, path, key, need, UINT32_MAX, &v);
    if (rc == SJ_OK)
        *out = (uint32_t)v;
    return rc;
}

static int r_double(const struct scenario_json *j, const cJSON *obj, const char *path, const char *key, double *out)
{
    char p[PATH_CAP];
    scenario_json_path(p, sizeof p, path, key);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return SJ_ABSENT;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < 0)
        return r_fail_got(j, p, "a number >= 0", v);
    *out = v->valuedouble;
    return SJ_OK;
}

static int r_str(const struct scenario_json *j, const cJSON *obj, const char *path, const char *key, int need,
                 char *out, size_t cap)
{
    char p[PATH_CAP];
    scenario_json_path(p, sizeof p, path, key);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return need ? scenario_json_fail(j, p, "missing") : SJ_ABSENT;
    if (!cJSON_IsString(v))
        return r_fail_got(j, p, "a string", v);
    if (strlen(v->valuestring) >= cap)
        return scenario_json_fail(j, p, "longer than %zu bytes", cap - 1);
    memcpy(out, v->valuestring, strlen(v->valuestring) + 1);
    return SJ_OK;
}

static int r_bool(const struct scenario_json *j, const cJSON *obj, const char *path, const char *key, int *out)
{
    char p[PATH_CAP];
    scenario_json_path(p, sizeof p, path, key);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return SJ_ABSENT;
    if (!cJSON_IsBool(v))
        return r_fail_got(j, p, "true or false", v);
    *out = cJSON_IsTrue(v);
    return SJ_OK;
}

/* obj itself must be an object with only these fields. */
static int r_object(const struct scenario_json *j, const cJSON *obj, const char *path, const char *const *known,
                    size_t n)
{
    if (scenario_json_want_object(j, obj, path) != SJ_OK)
        return SJ_ERR;
    return scenario_json_fields(j, obj, path, known, n);
}

/* Member key, an array (absent: NULL, not an error). */
static int r_array(const struct scenario_json *j, const cJSON *obj, const char *path, const char *key,
                   const cJSON **out, char *p, size_t pcap)
{
    scenario_json_path(p, pcap, path, key);
    *out = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!*out)
        return SJ_ABSENT;
    return scenario_json_want_array(j, *out, p);
}

static int r_slots(const struct scenario_json *j, const cJSON *obj, const char *path, const char *key, uint64_t *v,
                   int n)
{
    char p[PATH_CAP], q[PATH_CAP];
    const cJSON *a;
    int rc = r_array(j, obj, path, key, &a, p, sizeof p);
    if (rc != SJ_OK)
        return rc;
    if (cJSON_GetArraySize(a) > n)
        return scenario_json_fail(j, p, "%d slots, at most %d", cJSON_GetArraySize(a), n);
    int i = 0;
    for (const cJSON *e = a->child; e; e = e->next, i++) {
        scenario_json_index(q, sizeof q, p, i);
        if (r_u64_item(j, e, q, UINT64_MAX, &v[i]) != SJ_OK)
            return SJ_ERR;
    }
    return SJ_OK;
}

static int r_hist(const struct scenario_json *j, const cJSON *obj, const char *path, const char *key, struct hist *h)
{
    static const char *const known[] = {"n", "sum", "min", "max", "buckets"};
    char p[PATH_CAP], bp[PATH_CAP], q[PATH_CAP], e2[PATH_CAP];
    hist_reset(h);
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(obj, key);
    scenario_json_path(p, sizeof p, path, key);
    if (!x)
        return SJ_OK;
    if (r_object(j, x, p, known, N_OF(known)) != SJ_OK || r_u64(j, x, p, "n", 1, UINT64_MAX, &h->n) == SJ_ERR ||
        r_u64(j, x, p, "sum", 0, UINT64_MAX, &h->sum) == SJ_ERR)
        return SJ_ERR;
    if (h->n) {
        if (r_u64(j, x, p, "min", 1, UINT64_MAX, &h->min) == SJ_ERR ||
            r_u64(j, x, p, "max", 1, UINT64_MAX, &h->max) == SJ_ERR)
            return SJ_ERR;
    } else {
        uint64_t ignored;
        if (r_u64(j, x, p, "min", 0, UINT64_MAX, &ignored) == SJ_ERR ||
            r_u64(j, x, p, "max", 0, UINT64_MAX, &ignored) == SJ_ERR)
            return SJ_ERR;
    }
    const cJSON *b;
    int rc = r_array(j, x, p, "buckets", &b, bp, sizeof bp);
    if (rc == SJ_ERR)
        return SJ_ERR;
    uint64_t total = 0;
    int saturated = 0, i = 0;
    long last = -1;
    for (const cJSON *e = b ? b->child : NULL; e; e = e->next, i++) {
        scenario_json_index(q, sizeof q, bp, i);
        if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) != 2)
            return r_fail_got(j, q, "an [index, count] pair", e);
        uint64_t idx, cnt;
        scenario_json_index(e2, sizeof e2, q, 0);
        if (r_u64_item(j, e->child, e2, HIST_BUCKETS - 1, &idx) != SJ_OK)
            return SJ_ERR;
        if ((long)idx <= last)
            return scenario_json_fail(j, e2, "bucket %" PRIu64 " after bucket %ld (indices must increase)", idx,
                                      last);
        scenario_json_index(e2, sizeof e2, q, 1);
        if (r_u64_item(j, e->child->next, e2, UINT32_MAX, &cnt) != SJ_OK)
            return SJ_ERR;
        if (cnt == 0)
            return scenario_json_fail(j, e2, "a bucket listed is not empty (count 0)");
        last = (long)idx;
        h->counts[idx] = (uint32_t)cnt;
        total += cnt;
        saturated |= cnt == UINT32_MAX;
    }
    /* counts saturate at 2^32-1 while n goes on: only then may they fall short of n */
    if (total > h->n || (total < h->n && !saturated))
        return scenario_json_fail(j, bp, "bucket counts add up to %" PRIu64 ", n is %" PRIu64, total, h->n);
    if (total && h->min > h->max)
        return scenario_json_fail(j, p, "min %" PRIu64 " is above max %" PRIu64, h->min, h->max);
    return SJ_OK;
}

static int r_ledger(const struct scenario_json *j, const cJSON *obj, const char *path, struct ledger *l)
{
    static const char *const known[] = {"sent", "acked", "failed", "timed_out", "why"};
    char p[PATH_CAP], w[PATH_CAP];
    memset(l, 0, sizeof *l);
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(obj, "ledger");
    scenario_json_path(p, sizeof p, path, "ledger");
    if (!x)
        return SJ_OK;
    if (r_object(j, x, p, known, N_OF(known)) != SJ_OK || r_u64(j, x, p, "sent", 0, UINT64_MAX, &l->sent) == SJ_ERR ||
        r_u64(j, x, p, "acked", 0, UINT64_MAX, &l->acked) == SJ_ERR ||
        r_u64(j, x, p, "failed", 0, UINT64_MAX, &l->failed) == SJ_ERR ||
        r_u64(j, x, p, "timed_out", 0, UINT64_MAX, &l->timed_out) == SJ_ERR)
        return SJ_ERR;
    const cJSON *y = cJSON_GetObjectItemCaseSensitive(x, "why");
    scenario_json_path(w, sizeof w, p, "why");
    if (!y)
        return SJ_OK;
    if (r_object(j, y, w, snapshot_why_keys, LEDGER_WHY_COUNT) != SJ_OK)
        return SJ_ERR;
    for (int i = 0; i < LEDGER_WHY_COUNT; i++)
        if (r_u64(j, y, w, snapshot_why_keys[i], 0, UINT64_MAX, &l->why[i]) == SJ_ERR)
            return SJ_ERR;
    return SJ_OK;
}

static int r_states(const struct scenario_json *j, const cJSON *obj, const char *path, const char *key, uint64_t *v)
{
    const char *names[TS__COUNT];
    char p[PATH_CAP];
    for (int k = 0; k < TS__COUNT; k++)
        names[k] = term_state_name((enum term_state)k);
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(obj, key);
    scenario_json_path(p, sizeof p, path, key);
    if (!x)
        return SJ_OK;
    if (r_object(j, x, p, names, TS__COUNT) != SJ_OK)
        return SJ_ERR;
    for (int k = 0; k < TS__COUNT; k++)
        if (r_u64(j, x, p, names[k], 0, UINT64_MAX, &v[k]) == SJ_ERR)
            return SJ_ERR;
    return SJ_OK;
}

static int r_commands(const struct scenario_json *j, const cJSON *obj, const char *path, struct snapshot_fleet *f)
{
    char p[PATH_CAP], q[PATH_CAP];
    const cJSON *a;
    int rc = r_array(j, obj, path, "commands", &a, p, sizeof p);
    if (rc != SJ_OK)
        return rc;
    int i = 0;
    uint64_t seen = 0;
    for (const cJSON *e = a->child; e; e = e->next, i++) {
        scenario_json_index(q, sizeof q, p, i);
        uint64_t v[N_OF(snapshot_cmd_keys)] = {0};
        if (r_object(j, e, q, snapshot_cmd_keys, N_OF(snapshot_cmd_keys)) != SJ_OK ||
            r_u64(j, e, q, "kind", 1, STATS_CMD_KINDS - 1, &v[0]) == SJ_ERR)
            return SJ_ERR;
        if (seen & (1ull << v[0]))
            return scenario_json_fail(j, q, "command kind %" PRIu64 " given twice", v[0]);
        seen |= 1ull << v[0];
        for (size_t k = 1; k < N_OF(snapshot_cmd_keys); k++)
            if (r_u64(j, e, q, snapshot_cmd_keys[k], 0, UINT64_MAX, &v[k]) == SJ_ERR)
                return SJ_ERR;
        f->addressed[v[0]] = v[1];
        f->cmd[v[0]] = (struct cmd_stats){.sent = v[2], .answered = v[3], .refused = v[4], .timed_out = v[5],
                                          .offline = v[6]};
    }
    return SJ_OK;
}

static int r_fleet(const struct scenario_json *j, const cJSON *e, const char *q, struct run_snapshot *s)
{
    static const char *const known[] = {"id",    "planned", "counters",       "in_state",    "reached",
                                        "dc",    "ledger",  "report_latency", "ack_latency", "online_latency",
                                        "commands", "protocol", "target"};
    const char *cnames[N_OF(snapshot_fleet_counters)];
    char p[PATH_CAP];
    for (size_t i = 0; i < N_OF(snapshot_fleet_counters); i++)
        cnames[i] = snapshot_fleet_counters[i].name;
    if (s->n_fleets >= STATS_MAX_FLEETS)
        return scenario_json_fail(j, q, "more than %d fleets", STATS_MAX_FLEETS);
    struct snapshot_fleet *f = &s->fleets[s->n_fleets];
    memset(f, 0, sizeof *f);
    if (r_object(j, e, q, known, N_OF(known)) != SJ_OK || r_str(j, e, q, "id", 1, f->id, sizeof f->id) != SJ_OK ||
        r_str(j, e, q, "protocol", 0, f->protocol, sizeof f->protocol) == SJ_ERR ||
        r_str(j, e, q, "target", 0, f->target, sizeof f->target) == SJ_ERR ||
        r_u64(j, e, q, "planned", 0, UINT64_MAX, &f->planned) == SJ_ERR)
        return SJ_ERR;
    if (!f->id[0])
        return scenario_json_fail(j, q, "a fleet id is empty");
    for (int k = 0; k < s->n_fleets; k++)
        if (strcmp(s->fleets[k].id, f->id) == 0)
            return scenario_json_fail(j, q, "fleet \"%s\" given twice", f->id);
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "counters");
    scenario_json_path(p, sizeof p, q, "counters");
    if (c) {
        if (r_object(j, c, p, cnames, N_OF(cnames)) != SJ_OK)
            return SJ_ERR;
        for (size_t i = 0; i < N_OF(snapshot_fleet_counters); i++)
            if (r_u64(j, c, p, cnames[i], 0, UINT64_MAX, (uint64_t *)((char *)&f->st + snapshot_fleet_counters[i].off)) ==
                SJ_ERR)
                return SJ_ERR;
    }
    if (r_states(j, e, q, "in_state", f->st.in_state) == SJ_ERR ||
        r_states(j, e, q, "reached", f->st.reached) == SJ_ERR ||
        r_slots(j, e, q, "dc", f->st.dc, STATS_DIALECT_COUNTERS) == SJ_ERR ||
        r_ledger(j, e, q, &f->st.ledger) == SJ_ERR ||
        r_hist(j, e, q, "report_latency", &f->st.report_latency) == SJ_ERR ||
        r_hist(j, e, q, "ack_latency", &f->st.ack_latency) == SJ_ERR ||
        r_hist(j, e, q, "online_latency", &f->st.online_latency) == SJ_ERR || r_commands(j, e, q, f) == SJ_ERR)
        return SJ_ERR;
    s->n_fleets++;
    return SJ_OK;
}

static int r_platform(const struct scenario_json *j, const cJSON *root, const char *path, struct run_snapshot *s)
{
    static const char *const known[] = {"gateways", "counters", "c", "ledger", "command_latency", "rss_kb", "core"};
    const char *cnames[N_OF(snapshot_platform_counters)];
    char p[PATH_CAP], q[PATH_CAP];
    for (size_t i = 0; i < N_OF(snapshot_platform_counters); i++)
        cnames[i] = snapshot_platform_counters[i].name;
    struct snapshot_platform *pl = &s->platform;
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(root, "platform");
    scenario_json_path(p, sizeof p, path, "platform");
    if (!x)
        return SJ_OK;
    if (r_object(j, x, p, known, N_OF(known)) != SJ_OK || r_u32(j, x, p, "gateways", 0, &pl->gateways) == SJ_ERR ||
        r_u64(j, x, p, "rss_kb", 0, UINT64_MAX, &pl->rss_kb) == SJ_ERR)
        return SJ_ERR;
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(x, "counters");
    scenario_json_path(q, sizeof q, p, "counters");
    if (c) {
        if (r_object(j, c, q, cnames, N_OF(cnames)) != SJ_OK)
            return SJ_ERR;
        for (size_t i = 0; i < N_OF(snapshot_platform_counters); i++)
            if (r_u64(j, c, q, cnames[i], 0, UINT64_MAX, (uint64_t *)((char *)pl + snapshot_platform_counters[i].off)) ==
                SJ_ERR)
                return SJ_ERR;
    }
    if (r_slots(j, x, p, "c", pl->c, STATS_FE_COUNTERS) == SJ_ERR || r_ledger(j, x, p, &pl->ledger) == SJ_ERR ||
        r_hist(j, x, p, "command_latency", &pl->cmd_latency) == SJ_ERR)
        return SJ_ERR;
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(x, "core");
    scenario_json_path(q, sizeof q, p, "core");
    if (k) {
        const char *knames[N_OF(snapshot_core_counters)];
        for (size_t i = 0; i < N_OF(snapshot_core_counters); i++)
            knames[i] = snapshot_core_counters[i].name;
        if (r_object(j, k, q, knames, N_OF(knames)) != SJ_OK)
            return SJ_ERR;
        for (size_t i = 0; i < N_OF(snapshot_core_counters); i++)
            if (r_u64(j, k, q, knames[i], 0, UINT64_MAX,
                      (uint64_t *)((char *)&pl->core + snapshot_core_counters[i].off)) == SJ_ERR)
                return SJ_ERR;
    }
    return SJ_OK;
}

static int r_expect(const struct scenario_json *j, const cJSON *e, const char *q, struct run_snapshot *s)
{
    static const char *const known[] = {"id", "ok", "total", "worst_us", "undecided"};
    if (s->n_expect >= STATS_MAX_EXPECT)
        return scenario_json_fail(j, q, "more than %d expectations", STATS_MAX_EXPECT);
    struct snapshot_expect *x = &s->expect[s->n_expect];
    memset(x, 0, sizeof *x);
    if (r_object(j, e, q, known, N_OF(known)) != SJ_OK || r_str(j, e, q, "id", 1, x->id, sizeof x->id) != SJ_OK ||
        r_u64(j, e, q, "ok", 0, UINT64_MAX, &x->p.ok) == SJ_ERR ||
        r_u64(j, e, q, "total", 0, UINT64_MAX, &x->p.total) == SJ_ERR ||
        r_u64(j, e, q, "worst_us", 0, UINT64_MAX, &x->p.worst_us) == SJ_ERR ||
        r_u64(j, e, q, "undecided", 0, UINT64_MAX, &x->p.undecided) == SJ_ERR)
        return SJ_ERR;
    for (int k = 0; k < s->n_expect; k++)
        if (strcmp(s->expect[k].id, x->id) == 0)
            return scenario_json_fail(j, q, "expectation \"%s\" given twice", x->id);
    if (x->p.ok > x->p.total)
        return scenario_json_fail(j, q, "ok %" PRIu64 " is more than total %" PRIu64, x->p.ok, x->p.total);
    s->n_expect++;
    return SJ_OK;
}

static int r_sample(const struct scenario_json *j, const cJSON *e, const char *q, struct run_snapshot *s)
{
    static const char *const known[] = {"tick",    "t_s",         "online",        "reports_per_s",
                                        "pending", "disconnects", "report_latency"};
    static struct hist h;
    struct snapshot_sample x = {0};
    if (r_object(j, e, q, known, N_OF(known)) != SJ_OK || r_u32(j, e, q, "tick", 1, &x.tick) == SJ_ERR ||
        r_double(j, e, q, "t_s", &x.t_s) == SJ_ERR || r_u64(j, e, q, "online", 0, UINT64_MAX, &x.online) == SJ_ERR ||
        r_double(j, e, q, "reports_per_s", &x.reports_per_s) == SJ_ERR ||
        r_u64(j, e, q, "pending", 0, UINT64_MAX, &x.pending) == SJ_ERR ||
        r_u64(j, e, q, "disconnects", 0, UINT64_MAX, &x.disconnects) == SJ_ERR ||
        r_hist(j, e, q, "report_latency", &h) == SJ_ERR)
        return SJ_ERR;
    char p[PATH_CAP];
    scenario_json_path(p, sizeof p, q, "tick");
    if (s->n_samples && x.tick <= s->samples[s->n_samples - 1].tick)
        return scenario_json_fail(j, p, "tick %u after tick %u (ticks must increase)", x.tick,
                                  s->samples[s->n_samples - 1].tick);
    if (snapshot_add_sample(s, &x, &h) < 0)
        return scenario_json_fail(j, q, "out of memory");
    return SJ_OK;
}

static int r_window(const struct scenario_json *j, const cJSON *e, const char *q, struct run_snapshot *s)
{
    static const char *const known[] = {"step", "fleet", "msg", "at_us", "closed", "report_latency"};
    if (s->n_windows >= SNAPSHOT_MAX_WINDOWS)
        return scenario_json_fail(j, q, "more than %d command windows", SNAPSHOT_MAX_WINDOWS);
    struct snapshot_window *x = &s->windows[s->n_windows];
    memset(x, 0, sizeof *x);
    uint64_t step = 0;
    if (r_object(j, e, q, known, N_OF(known)) != SJ_OK || r_u64(j, e, q, "step", 1, INT32_MAX, &step) == SJ_ERR ||
        r_str(j, e, q, "fleet", 0, x->fleet, sizeof x->fleet) == SJ_ERR ||
        r_str(j, e, q, "msg", 0, x->msg, sizeof x->msg) == SJ_ERR ||
        r_u64(j, e, q, "at_us", 0, UINT64_MAX, &x->at_us) == SJ_ERR ||
        r_bool(j, e, q, "closed", &x->closed) == SJ_ERR || r_hist(j, e, q, "report_latency", &x->during) == SJ_ERR)
        return SJ_ERR;
    x->step = (int)step;
    for (int k = 0; k < s->n_windows; k++)
        if (s->windows[k].step == x->step)
            return scenario_json_fail(j, q, "step %d given twice", x->step);
    s->n_windows++;
    return SJ_OK;
}

static int r_component(const struct scenario_json *j, const cJSON *e, const char *q, struct run_snapshot *s)
{
    static const char *const known[] = {"kind",     "index",  "shard",       "phase",      "pid",
                                        "error",    "terminals", "rss_kb",   "rss_base_kb", "rss_peak_kb"};
    char p[PATH_CAP], kind[16] = "", phase[16] = "";
    struct snapshot_component x = {0};
    uint64_t idx = 0, pid = 0;
    if (r_object(j, e, q, known, N_OF(known)) != SJ_OK || r_str(j, e, q, "kind", 1, kind, sizeof kind) != SJ_OK ||
        r_u64(j, e, q, "index", 0, INT32_MAX, &idx) == SJ_ERR || r_u32(j, e, q, "shard", 1, &x.shard) == SJ_ERR ||
        r_str(j, e, q, "phase", 0, phase, sizeof phase) == SJ_ERR ||
        r_u64(j, e, q, "pid", 0, INT32_MAX, &pid) == SJ_ERR ||
        r_str(j, e, q, "error", 0, x.error, sizeof x.error) == SJ_ERR ||
        r_u64(j, e, q, "terminals", 0, UINT64_MAX, &x.terminals) == SJ_ERR ||
        r_u64(j, e, q, "rss_kb", 0, UINT64_MAX, &x.rss_kb) == SJ_ERR ||
        r_u64(j, e, q, "rss_base_kb", 0, UINT64_MAX, &x.rss_base_kb) == SJ_ERR ||
        r_u64(j, e, q, "rss_peak_kb", 0, UINT64_MAX, &x.rss_peak_kb) == SJ_ERR)
        return SJ_ERR;
    scenario_json_path(p, sizeof p, q, "kind");
    if (strcmp(kind, "worker") == 0)
        x.kind = SNAPSHOT_WORKER;
    else if (strcmp(kind, "gateway") == 0)
        x.kind = SNAPSHOT_GATEWAY;
    else
        return scenario_json_fail(j, p, "must be \"worker\" or \"gateway\", got \"%s\"", kind);
    x.phase = -1;
    for (size_t k = 0; k < N_OF(snapshot_phase_names); k++)
        if (strcmp(phase, snapshot_phase_names[k]) == 0)
            x.phase = (int32_t)k;
    scenario_json_path(p, sizeof p, q, "phase");
    if (x.phase < 0) {
        char all[80];
        scenario_json_join(snapshot_phase_names, N_OF(snapshot_phase_names), all, sizeof all);
        return scenario_json_fail(j, p, "must be one of %s, got \"%s\"", all, phase);
    }
    int known_shard = 0;
    for (uint32_t k = 0; k < s->n_shards; k++)
        known_shard |= s->shards[k] == x.shard;
    scenario_json_path(p, sizeof p, q, "shard");
    if (!known_shard)
        return scenario_json_fail(j, p, "shard %u is not one the snapshot covers", x.shard);
    x.index = (int)idx;
    x.pid = (int32_t)pid;
    struct snapshot_component *c = realloc(s->components, (s->n_components + 1) * sizeof *c);
    if (!c)
        return scenario_json_fail(j, q, "out of memory");
    s->components = c;
    s->components[s->n_components++] = x;
    s->cap_components = s->n_components;
    return SJ_OK;
}

typedef int (*r_elem_fn)(const struct scenario_json *, const cJSON *, const char *, struct run_snapshot *);

static int r_each(const struct scenario_json *j, const cJSON *root, const char *path, const char *key,
                  struct run_snapshot *s, r_elem_fn fn)
{
    char p[PATH_CAP], q[PATH_CAP];
    const cJSON *a;
    int rc = r_array(j, root, path, key, &a, p, sizeof p);
    if (rc != SJ_OK)
        return rc;
    int i = 0;
    for (const cJSON *e = a->child; e; e = e->next, i++) {
        scenario_json_index(q, sizeof q, p, i);
        if (fn(j, e, q, s) != SJ_OK)
            return SJ_ERR;
    }
    return SJ_OK;
}

static int r_shard(const struct scenario_json *j, const cJSON *root, const char *path, struct run_snapshot *s)
{
    static const char *const known[] = {"count", "covered"};
    char p[PATH_CAP], cp[PATH_CAP], q[PATH_CAP];
    scenario_json_path(p, sizeof p, path, "shard");
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(root, "shard");
    if (!x)
        return scenario_json_fail(j, p, "missing");
    uint32_t n = 0;
    if (r_object(j, x, p, known, N_OF(known)) != SJ_OK || r_u32(j, x, p, "count", 1, &n) != SJ_OK)
        return SJ_ERR;
    if (n < 1 || n > SNAPSHOT_MAX_SHARDS)
        return scenario_json_fail(j, p, "count must be 1..%d, got %u", SNAPSHOT_MAX_SHARDS, n);
    const cJSON *a;
    if (r_array(j, x, p, "covered", &a, cp, sizeof cp) != SJ_OK)
        return a ? SJ_ERR : scenario_json_fail(j, cp, "missing");
    int m = cJSON_GetArraySize(a);
    if (m < 1 || (uint32_t)m > n)
        return scenario_json_fail(j, cp, "must list 1 to %u shards, got %d", n, m);
    s->shards = malloc((size_t)m * sizeof *s->shards);
    if (!s->shards)
        return scenario_json_fail(j, cp, "out of memory");
    s->shard_count = n;
    int i = 0;
    for (const cJSON *e = a->child; e; e = e->next, i++) {
        uint64_t k;
        scenario_json_index(q, sizeof q, cp, i);
        if (r_u64_item(j, e, q, n, &k) != SJ_OK)
            return SJ_ERR;
        if (k < 1 || (i && k <= s->shards[i - 1]))
            return scenario_json_fail(j, q, "shards are 1..%u in increasing order, got %" PRIu64, n, k);
        s->shards[s->n_shards++] = (uint32_t)k;
    }
    return SJ_OK;
}

static int r_top(const struct scenario_json *j, const cJSON *root, const char *path, struct run_snapshot *s)
{
    static const char *const known[] = {
        "format",    "version",    "scenario",     "shard",        "started",       "time_scale",
        "status_interval_ms", "embedded", "frontend", "virtual_s", "wall_s",        "all_online_us",
        "skipped_steps", "harness_error", "fleets", "platform",   "expect",        "timeline",
        "command_windows", "components"};
    static const char *const sc_known[] = {"name", "path", "hash"};
    char p[PATH_CAP], fmt[32] = "";
    uint64_t version = 0;
    if (r_object(j, root, path, known, N_OF(known)) != SJ_OK ||
        r_str(j, root, path, "format", 1, fmt, sizeof fmt) != SJ_OK)
        return SJ_ERR;
    scenario_json_path(p, sizeof p, path, "format");
    if (strcmp(fmt, SNAPSHOT_FORMAT) != 0)
        return scenario_json_fail(j, p, "expected \"%s\", got \"%s\"", SNAPSHOT_FORMAT, fmt);
    if (r_u64(j, root, path, "version", 1, UINT32_MAX, &version) != SJ_OK)
        return SJ_ERR;
    scenario_json_path(p, sizeof p, path, "version");
    if (version != SNAPSHOT_VERSION)
        return scenario_json_fail(j, p, "version %" PRIu64 " (this fleetsim reads version %d)", version,
                                  SNAPSHOT_VERSION);
    s->version = (int)version;
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(root, "scenario");
    scenario_json_path(p, sizeof p, path, "scenario");
    if (!sc)
        return scenario_json_fail(j, p, "missing");
    if (r_object(j, sc, p, sc_known, N_OF(sc_known)) != SJ_OK ||
        r_str(j, sc, p, "name", 0, s->scenario, sizeof s->scenario) == SJ_ERR ||
        r_str(j, sc, p, "path", 0, s->path, sizeof s->path) == SJ_ERR ||
        r_str(j, sc, p, "hash", 1, s->hash, sizeof s->hash) != SJ_OK)
        return SJ_ERR;
    if (r_shard(j, root, path, s) != SJ_OK || r_str(j, root, path, "started", 0, s->started, sizeof s->started) == SJ_ERR ||
        r_double(j, root, path, "time_scale", &s->time_scale) == SJ_ERR ||
        r_u32(j, root, path, "status_interval_ms", 0, &s->interval_ms) == SJ_ERR ||
        r_bool(j, root, path, "embedded", &s->embedded) == SJ_ERR ||
        r_str(j, root, path, "frontend", 0, s->frontend, sizeof s->frontend) == SJ_ERR ||
        r_double(j, root, path, "virtual_s", &s->virtual_s) == SJ_ERR ||
        r_double(j, root, path, "wall_s", &s->wall_s) == SJ_ERR ||
        r_u64(j, root, path, "all_online_us", 0, UINT64_MAX, &s->all_online_us) == SJ_ERR ||
        r_u64(j, root, path, "skipped_steps", 0, UINT64_MAX, &s->skipped_steps) == SJ_ERR ||
        r_str(j, root, path, "harness_error", 0, s->harness_error, sizeof s->harness_error) == SJ_ERR)
        return SJ_ERR;
    if (r_each(j, root, path, "fleets", s, r_fleet) == SJ_ERR || r_platform(j, root, path, s) == SJ_ERR ||
        r_each(j, root, path, "expect", s, r_expect) == SJ_ERR ||
        r_each(j, root, path, "timeline", s, r_sample) == SJ_ERR ||
        r_each(j, root, path, "command_windows", s, r_window) == SJ_ERR ||
        r_each(j, root, path, "components", s, r_component) == SJ_ERR)
        return SJ_ERR;
    return SJ_OK;
}

int snapshot_from_json(struct run_snapshot *s, const cJSON *j, const char *file, const char *prefix, char *err,
                       size_t errcap)
{
    struct scenario_json sj = {file ? file : "<snapshot>", err, errcap};
    snapshot_reset(s);
    if (r_top(&sj, j, prefix ? prefix : "", s) != SJ_OK) {
        snapshot_reset(s);
        return -1;
    }
    return 0;
}

int snapshot_load(struct run_snapshot *s, const char *path, char *err, size_t errcap)
{
    char *text;
    size_t n;
    int rc0 = textfile_read(path, SNAPSHOT_MAX_FILE, &text, &n);
    if (rc0) {
        snprintf(err, errcap, "%s: %s", path,
                 rc0 == EFBIG ? "larger than 256 MiB" : rc0 == ENOMEM ? "out of memory" : strerror(rc0));
        return -1;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
    if (!root) {
        report_json_syntax_error(path, text, end ? end : cJSON_GetErrorPtr(), err, errcap);
        free(text);
        return -1;
    }
    free(text);
    int rc;
    const cJSON *inner = cJSON_GetObjectItemCaseSensitive(root, "snapshot");
    if (cJSON_IsObject(root) && inner)
        rc = snapshot_from_json(s, inner, path, "snapshot", err, errcap);
    else if (cJSON_IsObject(root) && cJSON_GetObjectItemCaseSensitive(root, "format"))
        rc = snapshot_from_json(s, root, path, "", err, errcap);
    else {
        snprintf(err, errcap, "%s: neither a report.json with a \"snapshot\" nor a snapshot (written by fleetsim run "
                 "--report)", path);
        rc = -1;
    }
    cJSON_Delete(root);
    return rc;
}
