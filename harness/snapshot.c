/* The run snapshot: built from the shared statistics, queried by the verdicts,
 * merged exactly.  Its JSON form is in snapshot_json.c. */
#include "harness/snapshot.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/scenario.h"
#include "sim/core/ctl.h"

struct run_snapshot *snapshot_new(void)
{
    struct run_snapshot *s = calloc(1, sizeof *s);
    if (s)
        snapshot_reset(s);
    return s;
}

static void free_samples(struct snapshot_sample *smp, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(smp[i].window.b);
    free(smp);
}

void snapshot_reset(struct run_snapshot *s)
{
    free(s->shards);
    free_samples(s->samples, s->n_samples);
    free(s->components);
    memset(s, 0, sizeof *s);
    s->version = SNAPSHOT_VERSION;
    s->shard_count = 1;
    hist_reset(&s->platform.cmd_latency);
}

void snapshot_free(struct run_snapshot *s)
{
    if (!s)
        return;
    snapshot_reset(s);
    free(s);
}

/* --- identity ------------------------------------------------------------------------- */

void snapshot_hash_bytes(const void *buf, size_t n, char *out, size_t cap)
{
    /* FNV-1a: not a defence against forgery, a guard against merging the shards
     * of two different scenario files */
    uint64_t h = 0xcbf29ce484222325ull;
    const unsigned char *p = buf;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    snprintf(out, cap, "fnv1a64:%016" PRIx64, h);
}

int snapshot_hash_file(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    uint64_t h = 0xcbf29ce484222325ull;
    unsigned char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        for (size_t i = 0; i < n; i++) {
            h ^= buf[i];
            h *= 0x100000001b3ull;
        }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        errno = EIO;
        return -1;
    }
    snprintf(out, cap, "fnv1a64:%016" PRIx64, h);
    return 0;
}

void snapshot_begin(struct run_snapshot *s, const struct scenario *sc, const char *hash, uint32_t k, uint32_t n)
{
    snapshot_reset(s);
    if (n < 1)
        n = 1;
    if (k < 1 || k > n)
        k = 1;
    snprintf(s->scenario, sizeof s->scenario, "%s", sc->name);
    snprintf(s->path, sizeof s->path, "%s", sc->path);
    snprintf(s->hash, sizeof s->hash, "%s", hash ? hash : "");
    s->shard_count = n;
    s->shards = malloc(sizeof *s->shards);
    if (s->shards) {
        s->shards[0] = k;
        s->n_shards = 1;
    }
    s->n_fleets = sc->n_fleets;
    for (int f = 0; f < sc->n_fleets; f++) {
        struct snapshot_fleet *fl = &s->fleets[f];
        snprintf(fl->id, sizeof fl->id, "%s", sc->fleets[f].id);
        snprintf(fl->protocol, sizeof fl->protocol, "%s", sc->fleets[f].protocol);
        fl->planned = fleet_shard_size(sc->fleets[f].count, k - 1, n);
        hist_reset(&fl->st.report_latency);
        hist_reset(&fl->st.ack_latency);
        hist_reset(&fl->st.online_latency);
    }
    s->n_expect = sc->n_expect < STATS_MAX_EXPECT ? sc->n_expect : STATS_MAX_EXPECT;
    for (int i = 0; i < s->n_expect; i++)
        snprintf(s->expect[i].id, sizeof s->expect[i].id, "%s", sc->expect[i].id);
}

/* --- from the shared region ------------------------------------------------------------- */

static int component_room(struct run_snapshot *s, size_t n)
{
    if (n <= s->cap_components)
        return 0;
    struct snapshot_component *c = realloc(s->components, n * sizeof *c);
    if (!c)
        return -1;
    s->components = c;
    s->cap_components = n;
    return 0;
}

void snapshot_take(struct run_snapshot *s, const struct stats_shm *shm, int n_workers, int n_gw)
{
    uint32_t shard = s->n_shards ? s->shards[0] : 1;
    for (int f = 0; f < s->n_fleets; f++) {
        struct snapshot_fleet *fl = &s->fleets[f];
        stats_merge_fleets(shm, n_workers, s->n_fleets, f, &fl->st);
        memset(fl->cmd, 0, sizeof fl->cmd);
        for (int g = 0; g < n_gw; g++)
            for (int k = 0; k < STATS_CMD_KINDS; k++) {
                const struct cmd_stats *c = &shm->gateways[g].cmd[f][k];
                fl->cmd[k].sent += c->sent;
                fl->cmd[k].answered += c->answered;
                fl->cmd[k].refused += c->refused;
                fl->cmd[k].timed_out += c->timed_out;
                fl->cmd[k].offline += c->offline;
            }
    }
    struct snapshot_platform *p = &s->platform;
    memset(p, 0, sizeof *p);
    hist_reset(&p->cmd_latency);
    p->gateways = (uint32_t)n_gw;
    for (int g = 0; g < n_gw; g++) {
        const struct gw_slot *gs = &shm->gateways[g];
        p->connections += gs->connections;
        p->accepted += gs->accepted;
        p->closed_idle += gs->closed_idle;
        p->closed_peer += gs->closed_peer;
        p->frames_in += gs->frames_in;
        p->frames_out += gs->frames_out;
        p->rejected += gs->rejected;
        for (int i = 0; i < STATS_FE_COUNTERS; i++)
            p->c[i] += gs->c[i];
        ledger_add(&p->ledger, &gs->ledger);
        hist_merge(&p->cmd_latency, &gs->cmd_latency);
        p->rss_kb += gs->rss_kb;
    }
    if (n_gw) {
        const struct core_slot *k = &shm->core;
        p->core = (struct snapshot_core){
            .transactions = k->transactions, .registrations = k->registrations, .reg_refused = k->reg_refused,
            .auths = k->auths, .auth_refused = k->auth_refused, .reports = k->reports, .tasks = k->tasks,
            .commands = k->commands, .results = k->results, .msgs_in = k->msgs_in, .records_in = k->records_in,
            .bus_errors = k->bus_errors, .rss_kb = k->rss_kb, .flushes = k->flushes, .wal_max_kb = k->wal_max_kb,
            .wal_restarts = k->wal_restarts, .checkpoints = k->checkpoints,
            .checkpoints_incomplete = k->checkpoints_incomplete, .checkpoint_max_us = k->checkpoint_max_us,
        };
    }
    for (int i = 0; i < s->n_expect; i++)
        memset(&s->expect[i].p, 0, sizeof s->expect[i].p);
    for (int w = 0; w < n_workers; w++) {
        /* a worker rewrites its partials every second while the run is watched live:
         * a copy taken while it wrote is taken again (it takes microseconds) */
        const struct worker_slot *ws = &shm->workers[w];
        struct expect_partial q[STATS_MAX_EXPECT];
        for (int tries = 0; tries < 1000; tries++) {
            uint32_t g = __atomic_load_n(&ws->expect_gen, __ATOMIC_ACQUIRE);
            memcpy(q, ws->expect, (size_t)s->n_expect * sizeof *q);
            __atomic_thread_fence(__ATOMIC_ACQUIRE);
            if (!(g & 1) && __atomic_load_n(&ws->expect_gen, __ATOMIC_RELAXED) == g)
                break;
        }
        for (int i = 0; i < s->n_expect; i++) {
            struct expect_partial *e = &s->expect[i].p;
            e->ok += q[i].ok;
            e->total += q[i].total;
            e->undecided += q[i].undecided;
            if (q[i].worst_us > e->worst_us)
                e->worst_us = q[i].worst_us;
        }
    }
    s->n_components = 0;
    if (component_room(s, (size_t)(n_workers + n_gw)) < 0)
        return; /* the processes' list is for people; the verdicts do without it */
    for (int w = 0; w < n_workers; w++) {
        const struct worker_slot *ws = &shm->workers[w];
        struct snapshot_component *c = &s->components[s->n_components++];
        memset(c, 0, sizeof *c);
        c->kind = SNAPSHOT_WORKER;
        c->index = w;
        c->shard = shard;
        c->phase = ws->phase;
        c->pid = ws->pid;
        memcpy(c->error, ws->error, sizeof c->error - 1);
        c->terminals = ws->terminals;
        c->rss_kb = ws->rss_kb;
        c->rss_base_kb = ws->rss_base_kb;
        c->rss_peak_kb = ws->rss_peak_kb;
    }
    for (int g = 0; g < n_gw; g++) {
        const struct gw_slot *gs = &shm->gateways[g];
        struct snapshot_component *c = &s->components[s->n_components++];
        memset(c, 0, sizeof *c);
        c->kind = SNAPSHOT_GATEWAY;
        c->index = g;
        c->shard = shard;
        c->phase = gs->phase;
        c->pid = gs->pid;
        memcpy(c->error, gs->error, sizeof c->error - 1);
        c->rss_kb = gs->rss_kb;
    }
}

/* --- timeline ------------------------------------------------------------------------------ */

static int sparse_from_hist(struct snapshot_sparse *sp, const struct hist *h)
{
    uint32_t n = 0;
    for (size_t b = 0; b < HIST_BUCKETS; b++)
        n += h->counts[b] != 0;
    sp->n = h->n;
    sp->sum = h->sum;
    sp->min = h->min;
    sp->max = h->max;
    sp->n_buckets = 0;
    sp->b = NULL;
    if (!n)
        return 0;
    sp->b = malloc(n * sizeof *sp->b);
    if (!sp->b)
        return -1;
    for (size_t b = 0; b < HIST_BUCKETS; b++)
        if (h->counts[b])
            sp->b[sp->n_buckets++] = (struct snapshot_bucket){(uint32_t)b, h->counts[b]};
    return 0;
}

static void sparse_to_hist(struct hist *h, const struct snapshot_sparse *sp)
{
    hist_reset(h);
    h->n = sp->n;
    h->sum = sp->sum;
    h->min = sp->n ? sp->min : UINT64_MAX;
    h->max = sp->n ? sp->max : 0;
    for (uint32_t i = 0; i < sp->n_buckets; i++)
        if (sp->b[i].index < HIST_BUCKETS)
            h->counts[sp->b[i].index] = sp->b[i].count;
}

static int sample_room(struct run_snapshot *s, size_t n)
{
    if (n <= s->cap_samples)
        return 0;
    size_t cap = s->cap_samples ? s->cap_samples * 2 : 64;
    while (cap < n)
        cap *= 2;
    struct snapshot_sample *p = realloc(s->samples, cap * sizeof *p);
    if (!p)
        return -1;
    s->samples = p;
    s->cap_samples = cap;
    return 0;
}

int snapshot_add_sample(struct run_snapshot *s, const struct snapshot_sample *smp, const struct hist *window)
{
    if (sample_room(s, s->n_samples + 1) < 0)
        return -1;
    struct snapshot_sample *d = &s->samples[s->n_samples];
    *d = *smp;
    if (sparse_from_hist(&d->window, window) < 0)
        return -1;
    s->n_samples++;
    return 0;
}

/* --- queries --------------------------------------------------------------------------------- */

static void fleet_stats_zero(struct fleet_stats *f)
{
    memset(f, 0, sizeof *f);
    hist_reset(&f->report_latency);
    hist_reset(&f->ack_latency);
    hist_reset(&f->online_latency);
}

void snapshot_total(const struct run_snapshot *s, struct fleet_stats *out)
{
    fleet_stats_zero(out);
    for (int f = 0; f < s->n_fleets; f++)
        stats_fleet_add(out, &s->fleets[f].st);
}

static int fleet_index(const struct run_snapshot *s, const char *id)
{
    for (int f = 0; f < s->n_fleets; f++)
        if (strcmp(s->fleets[f].id, id) == 0)
            return f;
    return -1;
}

const struct snapshot_fleet *snapshot_fleet(const struct run_snapshot *s, const char *id)
{
    int f = fleet_index(s, id);
    return f < 0 ? NULL : &s->fleets[f];
}

static int expect_index(const struct run_snapshot *s, const char *id)
{
    for (int i = 0; i < s->n_expect; i++)
        if (strcmp(s->expect[i].id, id) == 0)
            return i;
    return -1;
}

const struct expect_partial *snapshot_partial(const struct run_snapshot *s, const char *id)
{
    int i = expect_index(s, id);
    return i < 0 ? NULL : &s->expect[i].p;
}

uint64_t snapshot_planned(const struct run_snapshot *s)
{
    uint64_t n = 0;
    for (int f = 0; f < s->n_fleets; f++)
        n += s->fleets[f].planned;
    return n;
}

void snapshot_platform_ledger(const struct run_snapshot *s, struct ledger *out)
{
    *out = s->platform.ledger;
    /* commands meant for terminals that were not connected never left: count them as
     * sent and failed (offline), so every addressed terminal is accounted for */
    for (int f = 0; f < s->n_fleets; f++)
        for (int k = 0; k < STATS_CMD_KINDS; k++) {
            const struct snapshot_fleet *fl = &s->fleets[f];
            if (fl->addressed[k] > fl->cmd[k].sent) {
                uint64_t off = fl->addressed[k] - fl->cmd[k].sent;
                out->sent += off;
                out->failed += off;
                out->why[LEDGER_OFFLINE] += off;
            }
        }
}

int snapshot_complete(const struct run_snapshot *s)
{
    return s->n_shards == s->shard_count;
}

void snapshot_shards_text(const struct run_snapshot *s, char *buf, size_t cap)
{
    size_t w = 0;
    buf[0] = 0;
    for (uint32_t i = 0; i < s->n_shards && w < cap; i++) {
        uint32_t j = i;
        while (j + 1 < s->n_shards && s->shards[j + 1] == s->shards[j] + 1)
            j++;
        int n = j > i + 1 ? snprintf(buf + w, cap - w, "%s%u-%u", i ? "," : "", s->shards[i], s->shards[j])
                          : snprintf(buf + w, cap - w, "%s%u", i ? "," : "", s->shards[i]);
        if (n < 0)
            return;
        w += (size_t)n;
        if (j == i + 1 && w < cap) {
            n = snprintf(buf + w, cap - w, ",%u", s->shards[j]);
            w += n > 0 ? (size_t)n : 0;
        }
        i = j;
    }
    if (w < cap)
        snprintf(buf + w, cap - w, "/%u", s->shard_count);
}

/* --- merge ------------------------------------------------------------------------------------ */

static void cmd_add(struct cmd_stats *d, const struct cmd_stats *s)
{
    d->sent += s->sent;
    d->answered += s->answered;
    d->refused += s->refused;
    d->timed_out += s->timed_out;
    d->offline += s->offline;
}

static void platform_add(struct snapshot_platform *d, const struct snapshot_platform *s)
{
    d->gateways += s->gateways;
    d->connections += s->connections;
    d->accepted += s->accepted;
    d->closed_idle += s->closed_idle;
    d->closed_peer += s->closed_peer;
    d->frames_in += s->frames_in;
    d->frames_out += s->frames_out;
    d->rejected += s->rejected;
    for (int i = 0; i < STATS_FE_COUNTERS; i++)
        d->c[i] += s->c[i];
    ledger_add(&d->ledger, &s->ledger);
    hist_merge(&d->cmd_latency, &s->cmd_latency);
    d->rss_kb += s->rss_kb;
    uint64_t *dk = (uint64_t *)&d->core;
    const uint64_t *sk = (const uint64_t *)&s->core;
    for (size_t i = 0; i < sizeof d->core / sizeof(uint64_t); i++)
        dk[i] += sk[i];
}

/* Samples of both, one per tick, same ticks added; NULL (and *n 0) when both are empty. */
static int merge_timelines(const struct run_snapshot *a, const struct run_snapshot *b, struct snapshot_sample **out,
                           size_t *n_out)
{
    static struct hist ha, hb;
    size_t cap = a->n_samples + b->n_samples, n = 0, i = 0, j = 0;
    *out = NULL;
    *n_out = 0;
    if (!cap)
        return 0;
    struct snapshot_sample *m = calloc(cap, sizeof *m);
    if (!m)
        return -1;
    while (i < a->n_samples || j < b->n_samples) {
        const struct snapshot_sample *x = i < a->n_samples ? &a->samples[i] : NULL;
        const struct snapshot_sample *y = j < b->n_samples ? &b->samples[j] : NULL;
        struct snapshot_sample *d = &m[n];
        if (x && (!y || x->tick < y->tick)) {
            *d = *x;
            i++;
            sparse_to_hist(&ha, &x->window);
        } else if (!x || y->tick < x->tick) {
            *d = *y;
            j++;
            sparse_to_hist(&ha, &y->window);
        } else {
            *d = *x;
            d->t_s = y->t_s > x->t_s ? y->t_s : x->t_s;
            d->online += y->online;
            d->reports_per_s += y->reports_per_s;
            d->pending += y->pending;
            d->disconnects += y->disconnects;
            sparse_to_hist(&ha, &x->window);
            sparse_to_hist(&hb, &y->window);
            hist_merge(&ha, &hb);
            i++;
            j++;
        }
        if (sparse_from_hist(&d->window, &ha) < 0) {
            free_samples(m, n);
            return -1;
        }
        n++;
    }
    *out = m;
    *n_out = n;
    return 0;
}

static void target_text(const struct run_snapshot *s, char *buf, size_t cap)
{
    if (s->embedded)
        snprintf(buf, cap, "the embedded platform%s%s", s->frontend[0] ? " " : "", s->frontend);
    else
        snprintf(buf, cap, "a third-party target");
}

/* Check everything that could refuse the merge before dst changes. */
static int merge_check(const struct run_snapshot *d, const struct run_snapshot *s, char *err, size_t errcap)
{
    if (strcmp(d->hash, s->hash) != 0) {
        snprintf(err, errcap, "different scenarios: %s (%s, %s) and %s (%s, %s)", d->scenario, d->path, d->hash,
                 s->scenario, s->path, s->hash);
        return -1;
    }
    if (d->shard_count != s->shard_count) {
        snprintf(err, errcap, "shards of different splits: of %u and of %u", d->shard_count, s->shard_count);
        return -1;
    }
    for (uint32_t i = 0; i < s->n_shards; i++)
        for (uint32_t j = 0; j < d->n_shards; j++)
            if (s->shards[i] == d->shards[j]) {
                snprintf(err, errcap, "shard %u/%u twice", s->shards[i], s->shard_count);
                return -1;
            }
    if (d->embedded != s->embedded || strcmp(d->frontend, s->frontend) != 0) {
        char a[64], b[64];
        target_text(d, a, sizeof a);
        target_text(s, b, sizeof b);
        snprintf(err, errcap, "one ran against %s, the other against %s", a, b);
        return -1;
    }
    if (d->interval_ms != s->interval_ms && d->n_samples && s->n_samples) {
        snprintf(err, errcap, "timelines of different status intervals (%u ms and %u ms) do not line up",
                 d->interval_ms, s->interval_ms);
        return -1;
    }
    int nf = d->n_fleets, ne = d->n_expect;
    for (int f = 0; f < s->n_fleets; f++)
        nf += fleet_index(d, s->fleets[f].id) < 0;
    for (int i = 0; i < s->n_expect; i++)
        ne += expect_index(d, s->expect[i].id) < 0;
    if (nf > STATS_MAX_FLEETS || ne > STATS_MAX_EXPECT) {
        snprintf(err, errcap, "more than %d fleets or %d expectations together", STATS_MAX_FLEETS, STATS_MAX_EXPECT);
        return -1;
    }
    return 0;
}

int snapshot_merge(struct run_snapshot *d, const struct run_snapshot *s, char *err, size_t errcap)
{
    if (merge_check(d, s, err, errcap) < 0)
        return -1;
    /* the allocations first, so a failure leaves dst as it was */
    struct snapshot_sample *tl;
    size_t n_tl;
    uint32_t *sh = malloc((d->n_shards + s->n_shards + 1) * sizeof *sh);
    if (!sh || component_room(d, d->n_components + s->n_components) < 0 || merge_timelines(d, s, &tl, &n_tl) < 0) {
        free(sh);
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    uint32_t n_sh = 0, i = 0, j = 0;
    while (i < d->n_shards || j < s->n_shards)
        sh[n_sh++] = j >= s->n_shards || (i < d->n_shards && d->shards[i] < s->shards[j]) ? d->shards[i++]
                                                                                         : s->shards[j++];
    free(d->shards);
    d->shards = sh;
    d->n_shards = n_sh;
    free_samples(d->samples, d->n_samples);
    d->samples = tl;
    d->n_samples = d->cap_samples = n_tl;
    if (!d->interval_ms)
        d->interval_ms = s->interval_ms;
    if (s->n_components) {
        memcpy(d->components + d->n_components, s->components, s->n_components * sizeof *s->components);
        d->n_components += s->n_components;
    }

    for (int f = 0; f < s->n_fleets; f++) {
        const struct snapshot_fleet *sf = &s->fleets[f];
        int k = fleet_index(d, sf->id);
        if (k < 0) {
            d->fleets[d->n_fleets++] = *sf; /* in one snapshot only: kept as is */
            continue;
        }
        struct snapshot_fleet *df = &d->fleets[k];
        if (!df->protocol[0])
            memcpy(df->protocol, sf->protocol, sizeof df->protocol);
        if (!df->target[0])
            memcpy(df->target, sf->target, sizeof df->target);
        df->planned += sf->planned;
        stats_fleet_add(&df->st, &sf->st);
        for (int c = 0; c < STATS_CMD_KINDS; c++) {
            cmd_add(&df->cmd[c], &sf->cmd[c]);
            df->addressed[c] += sf->addressed[c];
        }
    }
    platform_add(&d->platform, &s->platform);
    for (int e = 0; e < s->n_expect; e++) {
        const struct snapshot_expect *se = &s->expect[e];
        int k = expect_index(d, se->id);
        if (k < 0) {
            d->expect[d->n_expect++] = *se;
            continue;
        }
        struct expect_partial *p = &d->expect[k].p;
        p->ok += se->p.ok;
        p->total += se->p.total;
        p->undecided += se->p.undecided;
        if (se->p.worst_us > p->worst_us)
            p->worst_us = se->p.worst_us;
    }
    for (int w = 0; w < s->n_windows; w++) {
        const struct snapshot_window *sw = &s->windows[w];
        int k = -1;
        for (int x = 0; x < d->n_windows; x++)
            if (d->windows[x].step == sw->step)
                k = x;
        if (k < 0) {
            if (d->n_windows < SNAPSHOT_MAX_WINDOWS)
                d->windows[d->n_windows++] = *sw;
            continue;
        }
        struct snapshot_window *dw = &d->windows[k];
        if (sw->at_us < dw->at_us)
            dw->at_us = sw->at_us;
        dw->closed = dw->closed && sw->closed;
        hist_merge(&dw->during, &sw->during);
    }

    if (s->started[0] && (!d->started[0] || strcmp(s->started, d->started) < 0))
        memcpy(d->started, s->started, sizeof d->started);
    if (s->virtual_s > d->virtual_s)
        d->virtual_s = s->virtual_s;
    if (s->wall_s > d->wall_s)
        d->wall_s = s->wall_s;
    if (!d->time_scale)
        d->time_scale = s->time_scale;
    /* every terminal was online once the last shard's were; a shard that never got
     * there (0) means the whole never did */
    d->all_online_us = d->all_online_us && s->all_online_us
                           ? (s->all_online_us > d->all_online_us ? s->all_online_us : d->all_online_us)
                           : 0;
    if (s->skipped_steps > d->skipped_steps)
        d->skipped_steps = s->skipped_steps;
    if (!d->harness_error[0] && s->harness_error[0])
        memcpy(d->harness_error, s->harness_error, sizeof d->harness_error);
    return 0;
}
