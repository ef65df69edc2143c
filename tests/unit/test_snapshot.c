/* The run snapshot: JSON both ways exactly, merges that equal the snapshot of the
 * union, verdicts that do not care whether they judge a merge or the whole,
 * errors that name the JSON path, merges refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* before cmocka.h, whose expect_value() macro would rename harness/expect.h's function */
#include "harness/expect.h"
#include "harness/run_summary.h"
#include "harness/scenario.h"
#include "harness/snapshot.h"
#include "sim/core/clock.h"
#include "sim/core/ctl.h"
#include "sim/dev/fleet.h"
#include "sim/dev/fleet_spec.h"

#include <cmocka.h>

static const char *scenario_text =
    "{\"name\": \"snap\", \"duration\": \"10s\","
    " \"fleets\": [{\"id\": \"a\", \"protocol\": \"jt808\", \"version\": 2013, \"count\": 25},"
    "              {\"id\": \"b\", \"protocol\": \"jt808\", \"count\": 15}],"
    " \"steps\": [{\"at\": \"3s\", \"command\": {\"fleet\": \"b\", \"msg\": \"0x8104\"}}],"
    " \"expect\": [{\"id\": \"S-AUTH-001\", \"state\": \"authenticated\", \"within\": \"5s\"},"
    "              {\"id\": \"S-TRANS-001\", \"fleet\": \"a\", \"transitions\": [\"connecting\", \"authenticated\"]},"
    "              {\"id\": \"S-QUERY-001\", \"fleet\": \"b\", \"reply\": \"0x0104\", \"to\": \"0x8104\"},"
    "              {\"id\": \"S-REPORTS-001\", \"counter\": \"terminal.reports\", \"min\": 1000},"
    "              {\"id\": \"S-BAD-001\", \"counter\": \"gateway.bad_check\", \"max\": 5},"
    "              {\"id\": \"S-PERF-001\", \"metric\": \"report.latency.p99\", \"below\": \"20ms\"},"
    "              {\"id\": \"S-LEDGER-001\", \"ledger\": \"balanced\"}]}";

static struct scenario sc;
static struct stats_shm *shm;
static uint64_t rng = 88172645463325252ull;

static uint64_t rnd(uint64_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return n ? rng % n : 0;
}

static void fill_fleet(struct fleet_stats *f)
{
    uint64_t *c = (uint64_t *)f;
    for (size_t i = 0; i < offsetof(struct fleet_stats, ledger) / sizeof(uint64_t); i++)
        c[i] = rnd(1000);
    f->ledger = (struct ledger){.sent = 500 + rnd(10), .acked = 400, .failed = 30, .timed_out = 5,
                                .why = {10, 20, 0, 0, 0}};
    hist_reset(&f->report_latency);
    hist_reset(&f->ack_latency);
    hist_reset(&f->online_latency);
    for (int k = 0; k < 300; k++) {
        hist_record(&f->report_latency, 50 + rnd(30000));
        hist_record(&f->ack_latency, rnd(5000));
    }
    hist_record_corrected(&f->report_latency, 4000000, 100000);
    for (int k = 0; k < 20; k++)
        hist_record(&f->online_latency, 1000 + rnd(900000));
}

/* 4 workers and 2 gateways of random, consistent statistics. */
static void fill_shm(void)
{
    memset(shm, 0, sizeof *shm);
    shm->n_workers = 4;
    shm->n_gateways = 2;
    for (int w = 0; w < 4; w++) {
        struct worker_slot *ws = &shm->workers[w];
        ws->phase = WP_DONE;
        ws->pid = 1000 + w;
        ws->terminals = 10;
        ws->rss_kb = 6000 + rnd(100);
        ws->rss_base_kb = 5000;
        ws->rss_peak_kb = 6500;
        for (int f = 0; f < sc.n_fleets; f++)
            fill_fleet(&ws->fleets[f]);
        for (int e = 0; e < sc.n_expect; e++) {
            ws->expect[e].total = 10;
            ws->expect[e].ok = 5 + rnd(6);
            ws->expect[e].worst_us = rnd(4000000);
        }
    }
    snprintf(shm->workers[3].error, sizeof shm->workers[3].error, "worker 3: something went wrong");
    for (int g = 0; g < 2; g++) {
        struct gw_slot *gs = &shm->gateways[g];
        gs->phase = WP_DONE;
        gs->pid = 2000 + g;
        gs->rss_kb = 4000;
        gs->connections = 20;
        gs->accepted = 20 + rnd(5);
        gs->frames_in = rnd(100000);
        gs->frames_out = rnd(100000);
        gs->rejected = rnd(3);
        for (int i = 0; i < STATS_FE_COUNTERS; i++)
            gs->c[i] = rnd(50);
        gs->ledger = (struct ledger){.sent = 8, .acked = 7, .timed_out = 1};
        for (int f = 0; f < sc.n_fleets; f++)
            for (int k = 0; k < 3; k++)
                gs->cmd[f][k] = (struct cmd_stats){.sent = 4, .answered = 3, .timed_out = 1, .offline = rnd(2)};
        hist_reset(&gs->cmd_latency);
        for (int k = 0; k < 50; k++)
            hist_record(&gs->cmd_latency, 100 + rnd(100000));
    }
}

/* A region with only some of the processes of shm: workers w0..w0+nw-1, gateway g0. */
static struct stats_shm *part(int w0, int nw, int g0)
{
    struct stats_shm *p = calloc(1, sizeof *p);
    assert_non_null(p);
    for (int w = 0; w < nw; w++)
        p->workers[w] = shm->workers[w0 + w];
    p->gateways[0] = shm->gateways[g0];
    p->n_workers = (uint32_t)nw;
    p->n_gateways = 1;
    return p;
}

static void settings(struct run_snapshot *s)
{
    snprintf(s->started, sizeof s->started, "2026-01-01T00:00:00Z");
    s->time_scale = 2;
    s->interval_ms = 1000;
    s->embedded = 1;
    snprintf(s->frontend, sizeof s->frontend, "jt808");
    s->virtual_s = 10;
    s->wall_s = 5.25;
    s->all_online_us = 1234567;
}

static void add_sample(struct run_snapshot *s, uint32_t tick, uint64_t online, int seed)
{
    static struct hist h;
    hist_reset(&h);
    for (int k = 0; k < 40; k++)
        hist_record(&h, 100 + (uint64_t)(k * seed * 37 % 20000));
    struct snapshot_sample x = {.tick = tick, .t_s = tick * 2.0 + 0.125, .online = online,
                                .reports_per_s = 10.5 * seed, .pending = 3, .disconnects = (uint64_t)seed};
    assert_int_equal(snapshot_add_sample(s, &x, &h), 0);
}

static void add_window(struct run_snapshot *s, int step, uint64_t at_us, int closed)
{
    struct snapshot_window *w = &s->windows[s->n_windows++];
    memset(w, 0, sizeof *w);
    w->step = step;
    snprintf(w->fleet, sizeof w->fleet, "b");
    snprintf(w->msg, sizeof w->msg, "0x8104");
    w->at_us = at_us;
    w->closed = closed;
    hist_reset(&w->during);
    for (int k = 0; k < 30; k++)
        hist_record(&w->during, 200 + (uint64_t)k * (uint64_t)(step + 3) * 91);
}

static char *print(const struct run_snapshot *s)
{
    cJSON *j = snapshot_to_json(s);
    assert_non_null(j);
    char *t = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    assert_non_null(t);
    return t;
}

/* Through text and back. */
static struct run_snapshot *reread(const struct run_snapshot *s)
{
    char *t = print(s), err[512];
    cJSON *j = cJSON_Parse(t);
    assert_non_null(j);
    struct run_snapshot *r = snapshot_new();
    assert_non_null(r);
    int rc = snapshot_from_json(r, j, "x.json", "", err, sizeof err);
    if (rc != 0)
        fail_msg("%s", err);
    cJSON_Delete(j);
    cJSON_free(t);
    return r;
}

static int setup(void **state)
{
    char err[512];
    if (scenario_parse(scenario_text, "snap.json", &sc, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    shm = calloc(1, sizeof *shm);
    return shm ? 0 : -1;
}

static int teardown(void **state)
{
    scenario_free(&sc);
    free(shm);
    return 0;
}

static void test_round_trip(void **state)
{
    fill_shm();
    struct run_snapshot *s = snapshot_new();
    snapshot_begin(s, &sc, "fnv1a64:0123456789abcdef", 1, 1);
    snapshot_take(s, shm, 4, 2);
    settings(s);
    s->fleets[1].addressed[1] = 15;
    snprintf(s->fleets[0].target, sizeof s->fleets[0].target, "tcp://127.0.0.1:7999");
    s->fleets[0].st.bytes_out = (1ull << 60) + 1; /* beyond a JSON number's exact range */
    s->platform.c[3] = UINT64_MAX;
    snprintf(s->harness_error, sizeof s->harness_error, "worker 1 (pid 9) died of signal 9 \"quoted\"");
    add_sample(s, 1, 10, 1);
    add_sample(s, 2, 40, 2);
    add_sample(s, 3, 40, 0);
    add_window(s, 0, 3000000, 1);
    add_window(s, 4, 9900000, 0);

    struct run_snapshot *r = reread(s);
    char *a = print(s), *b = print(r);
    assert_string_equal(a, b);
    assert_memory_equal(r->fleets, s->fleets, sizeof s->fleets);
    assert_memory_equal(&r->platform, &s->platform, sizeof s->platform);
    assert_memory_equal(r->expect, s->expect, sizeof s->expect);
    assert_memory_equal(r->windows, s->windows, sizeof s->windows);
    assert_int_equal(r->n_samples, 3);
    assert_int_equal(r->samples[1].window.n_buckets, s->samples[1].window.n_buckets);
    assert_memory_equal(r->samples[1].window.b, s->samples[1].window.b,
                        s->samples[1].window.n_buckets * sizeof *s->samples[1].window.b);
    assert_true(r->samples[2].t_s == s->samples[2].t_s);
    assert_int_equal(r->n_components, 6);
    assert_string_equal(r->components[3].error, "worker 3: something went wrong");
    assert_string_equal(r->harness_error, s->harness_error);
    assert_int_equal(r->fleets[0].st.bytes_out, (1ull << 60) + 1);
    assert_string_equal(r->fleets[0].protocol, "jt808"); /* from the scenario */
    assert_string_equal(r->fleets[0].target, "tcp://127.0.0.1:7999");
    assert_string_equal(r->fleets[1].target, "");        /* unknown: not written, not made up */
    assert_null(strstr(a, "\"target\":\"\""));
    /* only non-zero buckets are written */
    assert_null(strstr(a, ",0]"));
    cJSON_free(a);
    cJSON_free(b);
    snapshot_free(r);
    snapshot_free(s);
}

/* Judge a snapshot: the cases and the metrics, as text. */
static char *judge(const struct run_snapshot *s)
{
    struct run_report rep;
    report_init(&rep, sc.name, sc.path);
    run_build_report(&sc, s, &rep);
    run_print_figures(&sc, s, &rep, NULL);
    cJSON *o = cJSON_CreateObject();
    cJSON *cases = cJSON_AddArrayToObject(o, "cases");
    for (int i = 0; i < rep.n_cases; i++) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "id", rep.cases[i].id);
        cJSON_AddStringToObject(c, "verdict", verdict_name(rep.cases[i].verdict));
        cJSON_AddStringToObject(c, "expected", rep.cases[i].expected);
        cJSON_AddStringToObject(c, "observed", rep.cases[i].observed);
        cJSON_AddItemToArray(cases, c);
    }
    cJSON *m = cJSON_Duplicate(rep.metrics, 1);
    cJSON_DeleteItemFromObject(m, "timeline"); /* the merge's timeline has ticks of both */
    cJSON_AddItemToObject(o, "metrics", m);
    cJSON_AddStringToObject(o, "ledger", rep.ledger_text);
    char *t = cJSON_Print(o);
    cJSON_Delete(o);
    report_free(&rep);
    return t;
}

static void test_merge_equals_union(void **state)
{
    fill_shm();
    struct stats_shm *pa = part(0, 2, 0), *pb = part(2, 2, 1);
    struct run_snapshot *a = snapshot_new(), *b = snapshot_new(), *u = snapshot_new();
    snapshot_begin(a, &sc, "fnv1a64:00000000000000aa", 1, 2);
    snapshot_begin(b, &sc, "fnv1a64:00000000000000aa", 2, 2);
    snapshot_begin(u, &sc, "fnv1a64:00000000000000aa", 1, 1);
    snapshot_take(a, pa, 2, 1);
    snapshot_take(b, pb, 2, 1);
    snapshot_take(u, shm, 4, 2);
    settings(a);
    settings(b);
    settings(u);
    a->fleets[1].addressed[1] = 1; /* of the 0x8104 to b: one terminal in shard 1, seven in 2 */
    b->fleets[1].addressed[1] = 7;
    u->fleets[1].addressed[1] = 8;
    b->all_online_us = 2000000;
    b->wall_s = 6;
    add_sample(a, 1, 10, 1);
    add_sample(a, 2, 20, 2);
    add_sample(b, 2, 19, 3);
    add_sample(b, 3, 19, 4);
    add_window(a, 0, 3000100, 1);
    add_window(b, 0, 3000000, 1);

    /* through JSON on the way, as `report merge` reads them */
    struct run_snapshot *ra = reread(a), *rb = reread(b);
    char err[256];
    assert_int_equal(snapshot_merge(ra, rb, err, sizeof err), 0);

    cJSON *mj = snapshot_to_json(ra), *uj = snapshot_to_json(u);
    const char *same[] = {"fleets", "platform", "expect"};
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++)
        if (!cJSON_Compare(cJSON_GetObjectItem(mj, same[i]), cJSON_GetObjectItem(uj, same[i]), 1))
            fail_msg("merged %s differ from the union's", same[i]);
    cJSON_Delete(mj);
    cJSON_Delete(uj);
    assert_memory_equal(ra->fleets, u->fleets, sizeof u->fleets);
    assert_int_equal(snapshot_planned(ra), 40);
    assert_int_equal(ra->fleets[0].planned, 25);
    assert_int_equal(ra->n_shards, 2);
    assert_true(snapshot_complete(ra));
    assert_int_equal(ra->all_online_us, 2000000);
    assert_true(ra->wall_s == 6);
    assert_int_equal(ra->n_components, 6);

    /* the timeline: tick 2 is the sum of both, its window holds the samples of both */
    assert_int_equal(ra->n_samples, 3);
    assert_int_equal(ra->samples[1].tick, 2);
    assert_int_equal(ra->samples[1].online, 39);
    assert_true(ra->samples[1].reports_per_s == 10.5 * 5);
    assert_int_equal(ra->samples[1].window.n, 80);
    assert_int_equal(ra->samples[0].online, 10);
    assert_int_equal(ra->samples[2].online, 19);
    /* the command window: the earliest start, both seconds' reports */
    assert_int_equal(ra->n_windows, 1);
    assert_int_equal(ra->windows[0].at_us, 3000000);
    assert_int_equal(ra->windows[0].during.n, 60);

    /* the same verdicts, metrics and figures from the merge as from the whole */
    u->all_online_us = ra->all_online_us;
    u->wall_s = ra->wall_s;
    ra->n_windows = 0; /* the union here was given none */
    char *jm = judge(ra), *ju = judge(u);
    assert_string_equal(jm, ju);
    assert_non_null(strstr(jm, "S-QUERY-001"));
    cJSON_free(jm);
    cJSON_free(ju);

    snapshot_free(a);
    snapshot_free(b);
    snapshot_free(u);
    snapshot_free(ra);
    snapshot_free(rb);
    free(pa);
    free(pb);
}

/* A valid snapshot's JSON for the malformed cases to damage. */
static cJSON *valid_json(void)
{
    fill_shm();
    struct run_snapshot *s = snapshot_new();
    snapshot_begin(s, &sc, "fnv1a64:00000000000000aa", 1, 1);
    snapshot_take(s, shm, 4, 2);
    settings(s);
    add_sample(s, 1, 10, 1);
    add_window(s, 0, 1, 1);
    cJSON *j = snapshot_to_json(s);
    snapshot_free(s);
    return j;
}

static cJSON *at(cJSON *j, const char *key, int index)
{
    cJSON *x = cJSON_GetObjectItem(j, key);
    return index >= 0 ? cJSON_GetArrayItem(x, index) : x;
}

static void expect_error(cJSON *j, const char *want)
{
    struct run_snapshot *s = snapshot_new();
    char err[512] = "";
    int rc = snapshot_from_json(s, j, "snapshot.json", "", err, sizeof err);
    if (rc != -1 || strcmp(err, want) != 0)
        fail_msg("got %d \"%s\"\nwanted \"%s\"", rc, err, want);
    assert_int_equal(s->n_fleets, 0); /* nothing half read */
    snapshot_free(s);
    cJSON_Delete(j);
}

static void test_malformed(void **state)
{
    cJSON *j = valid_json(), *h;

    h = at(at(j, "fleets", 1), "report_latency", -1);
    cJSON_ReplaceItemInArray(at(h, "buckets", -1), 3, cJSON_CreateString("x"));
    expect_error(j, "snapshot.json: fleets[1].report_latency.buckets[3]: expected an [index, count] pair, got \"x\"");

    j = valid_json();
    h = at(at(j, "fleets", 1), "report_latency", -1);
    cJSON_ReplaceItemInArray(cJSON_GetArrayItem(at(h, "buckets", -1), 0), 0, cJSON_CreateNumber(HIST_BUCKETS));
    expect_error(j, "snapshot.json: fleets[1].report_latency.buckets[0][0]: 1184 is more than 1183");

    j = valid_json();
    h = at(at(j, "fleets", 0), "ack_latency", -1);
    cJSON_ReplaceItemInArray(cJSON_GetArrayItem(at(h, "buckets", -1), 2), 0, cJSON_CreateNumber(0));
    char want[160];
    snprintf(want, sizeof want, "snapshot.json: fleets[0].ack_latency.buckets[2][0]: bucket 0 after bucket "
             "%d (indices must increase)",
             (int)cJSON_GetArrayItem(cJSON_GetArrayItem(at(h, "buckets", -1), 1), 0)->valuedouble);
    expect_error(j, want);

    j = valid_json();
    h = at(at(j, "fleets", 0), "ack_latency", -1);
    cJSON_ReplaceItemInObject(h, "n", cJSON_CreateNumber(3));
    expect_error(j, "snapshot.json: fleets[0].ack_latency.buckets: bucket counts add up to 1200, n is 3");

    j = valid_json();
    h = at(at(j, "fleets", 0), "counters", -1);
    cJSON_ReplaceItemInObject(h, "started", cJSON_CreateNumber(-1));
    expect_error(j, "snapshot.json: fleets[0].counters.started: expected a whole number >= 0, got -1");

    j = valid_json();
    h = at(j, "fleets", 0);
    cJSON_AddItemToObject(h, "countrs", cJSON_CreateObject());
    expect_error(j, "snapshot.json: fleets[0].countrs: unknown field (did you mean \"counters\"?)");

    j = valid_json();
    cJSON_ReplaceItemInObject(j, "version", cJSON_CreateNumber(2));
    expect_error(j, "snapshot.json: version: version 2 (this fleetsim reads version 1)");

    j = valid_json();
    cJSON_ReplaceItemInObject(at(j, "shard", -1), "covered", cJSON_Parse("[2, 1]"));
    cJSON_ReplaceItemInObject(at(j, "shard", -1), "count", cJSON_CreateNumber(2));
    expect_error(j, "snapshot.json: shard.covered[1]: shards are 1..2 in increasing order, got 1");

    j = valid_json();
    cJSON_DeleteItemFromObject(at(j, "scenario", -1), "hash");
    expect_error(j, "snapshot.json: scenario.hash: missing");

    j = valid_json();
    cJSON_ReplaceItemInObject(at(j, "timeline", 0), "tick", cJSON_CreateString("one"));
    expect_error(j, "snapshot.json: timeline[0].tick: expected a whole number >= 0, got \"one\"");

    j = valid_json();
    cJSON_ReplaceItemInObject(at(j, "components", 4), "phase", cJSON_CreateString("gone"));
    expect_error(j, "snapshot.json: components[4].phase: must be one of starting, running, draining, done, "
                    "failed, got \"gone\"");

    j = valid_json();
    cJSON_ReplaceItemInObject(at(j, "expect", 0), "ok", cJSON_CreateNumber(1e6));
    expect_error(j, "snapshot.json: expect[0]: ok 1000000 is more than total 40");
}

/* snapshot_load: inside a report.json the path starts at "snapshot"; syntax errors give line:col. */
static void test_load(void **state)
{
    char dir[] = "/tmp/test_snapshot.XXXXXX", path[128], err[512];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/report.json", dir);
    cJSON *snap = valid_json();
    cJSON_ReplaceItemInObject(at(snap, "platform", -1), "gateways", cJSON_CreateBool(1));
    cJSON *rep = cJSON_CreateObject();
    cJSON_AddStringToObject(rep, "scenario", "snap");
    cJSON_AddItemToObject(rep, "snapshot", snap);
    char *text = cJSON_Print(rep);
    cJSON_Delete(rep);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    cJSON_free(text);
    struct run_snapshot *s = snapshot_new();
    assert_int_equal(snapshot_load(s, path, err, sizeof err), -1);
    char want[256];
    snprintf(want, sizeof want, "%s: snapshot.platform.gateways: expected a whole number >= 0, got true", path);
    assert_string_equal(err, want);

    f = fopen(path, "w");
    fputs("{\"snapshot\": {\n  \"format\": ]}", f);
    fclose(f);
    assert_int_equal(snapshot_load(s, path, err, sizeof err), -1);
    snprintf(want, sizeof want, "%s:2:13: JSON syntax error", path);
    assert_string_equal(err, want);

    f = fopen(path, "w");
    fputs("{\"cases\": []}", f);
    fclose(f);
    assert_int_equal(snapshot_load(s, path, err, sizeof err), -1);
    assert_non_null(strstr(err, "neither a report.json with a \"snapshot\" nor a snapshot"));

    /* a good one, as the run writes it */
    cJSON *good = valid_json();
    text = cJSON_Print(good);
    cJSON_Delete(good);
    f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    cJSON_free(text);
    assert_int_equal(snapshot_load(s, path, err, sizeof err), 0);
    assert_int_equal(s->n_fleets, 2);
    assert_string_equal(s->hash, "fnv1a64:00000000000000aa");

    /* the hash is of the file's bytes */
    char h1[SNAPSHOT_HASH_LEN], h2[SNAPSHOT_HASH_LEN];
    assert_int_equal(snapshot_hash_file(path, h1, sizeof h1), 0);
    FILE *g = fopen(path, "rb");
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, g);
    fclose(g);
    snapshot_hash_bytes(buf, n, h2, sizeof h2);
    assert_string_equal(h1, h2);
    snapshot_hash_bytes("", 0, h2, sizeof h2);
    assert_string_equal(h2, "fnv1a64:cbf29ce484222325");

    snapshot_free(s);
    unlink(path);
    rmdir(dir);
}

static void test_refused(void **state)
{
    fill_shm();
    char err[512];
    struct run_snapshot *a = snapshot_new(), *b = snapshot_new();
    snapshot_begin(a, &sc, "fnv1a64:00000000000000aa", 1, 2);
    snapshot_take(a, shm, 4, 2);
    settings(a);
    add_sample(a, 1, 1, 1);
    char *before = print(a);

    snapshot_begin(b, &sc, "fnv1a64:00000000000000bb", 2, 2);
    settings(b);
    assert_int_equal(snapshot_merge(a, b, err, sizeof err), -1);
    assert_string_equal(err, "different scenarios: snap (snap.json, fnv1a64:00000000000000aa) and snap (snap.json, "
                             "fnv1a64:00000000000000bb)");

    snapshot_begin(b, &sc, "fnv1a64:00000000000000aa", 1, 2);
    settings(b);
    assert_int_equal(snapshot_merge(a, b, err, sizeof err), -1);
    assert_string_equal(err, "shard 1/2 twice");

    snapshot_begin(b, &sc, "fnv1a64:00000000000000aa", 1, 1);
    settings(b);
    assert_int_equal(snapshot_merge(a, b, err, sizeof err), -1);
    assert_string_equal(err, "shards of different splits: of 2 and of 1");

    snapshot_begin(b, &sc, "fnv1a64:00000000000000aa", 2, 2);
    settings(b);
    b->embedded = 0;
    b->frontend[0] = 0;
    assert_int_equal(snapshot_merge(a, b, err, sizeof err), -1);
    assert_string_equal(err, "one ran against the embedded platform jt808, the other against a third-party target");

    settings(b);
    b->interval_ms = 2000;
    add_sample(b, 1, 1, 1);
    assert_int_equal(snapshot_merge(a, b, err, sizeof err), -1);
    assert_string_equal(err, "timelines of different status intervals (1000 ms and 2000 ms) do not line up");

    /* refused merges leave the destination as it was */
    char *after = print(a);
    assert_string_equal(before, after);
    cJSON_free(before);
    cJSON_free(after);

    b->interval_ms = 1000;
    assert_int_equal(snapshot_merge(a, b, err, sizeof err), 0);
    assert_true(snapshot_complete(a));
    snapshot_free(a);
    snapshot_free(b);
}

static void test_shards_text(void **state)
{
    struct run_snapshot *s = snapshot_new();
    uint32_t sh[] = {1, 2, 3, 5, 7, 8};
    s->shards = malloc(sizeof sh);
    memcpy(s->shards, sh, sizeof sh);
    s->n_shards = 6;
    s->shard_count = 9;
    char buf[64];
    snapshot_shards_text(s, buf, sizeof buf);
    assert_string_equal(buf, "1-3,5,7,8/9");
    s->n_shards = 2;
    snapshot_shards_text(s, buf, sizeof buf);
    assert_string_equal(buf, "1,2/9");
    assert_false(snapshot_complete(s));
    snapshot_free(s);
}

/* Shards are disjoint and cover the fleet; a step's share adds up to the step. */
static void test_shard_slices(void **state)
{
    const uint32_t counts[] = {1, 2, 15, 25, 1000, 1001};
    const double fractions[] = {1, 0.5, 0.1, 0.33, 0.999};
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++)
        for (uint32_t n = 1; n <= 7; n++) {
            uint64_t sum = 0;
            for (uint32_t k = 0; k < n; k++)
                sum += fleet_shard_size(counts[c], k, n);
            assert_int_equal(sum, counts[c]);
            for (size_t f = 0; f < sizeof fractions / sizeof fractions[0]; f++) {
                uint64_t picked = 0;
                for (uint32_t k = 0; k < n; k++)
                    picked += ctl_pick_count_shard(counts[c], fractions[f], k, n);
                assert_int_equal(picked, ctl_pick_count(counts[c], fractions[f]));
            }
        }
    assert_int_equal(fleet_shard_size(15, 0, 2), 8);
    assert_int_equal(fleet_shard_size(15, 1, 2), 7);
    assert_int_equal(ctl_pick_count_shard(15, 0.5, 0, 2), 1); /* picks 1 3 5 7 9 11 13 14 */
    assert_int_equal(ctl_pick_count_shard(15, 0.5, 1, 2), 7);
}

/* Workers of each shard own every shards-th terminal, with the fleet's own indices. */
static void test_worker_shard(void **state)
{
    struct sockaddr_storage targets[SC_MAX_FLEETS] = {{0}};
    int ctl[2];
    char err[256];
    static uint8_t seen[SC_MAX_FLEETS][64];
    memset(seen, 0, sizeof seen);
    clock_init(1.0);
    assert_int_equal(ctl_pair(ctl), 0);
    for (uint32_t k = 0; k < 3; k++)
        for (int id = 0; id < 2; id++) {
            struct worker *w = calloc(1, sizeof *w);
            struct worker_slot *slot = calloc(1, sizeof *slot);
            assert_non_null(w);
            assert_non_null(slot);
            struct worker_plan plan = {.fleets = sc.fleets, .n_fleets = sc.n_fleets, .targets = targets,
                                       .seed = 1, .shard = k, .shards = 3};
            if (worker_setup(w, &plan, id, 2, slot, ctl[1], err, sizeof err) != 0)
                fail_msg("%s", err);
            for (int f = 0; f < sc.n_fleets; f++)
                for (uint32_t i = 0; i < w->fleets[f].n; i++) {
                    uint32_t x = w->fleets[f].terms[i].index;
                    assert_true(x < sc.fleets[f].count);
                    assert_int_equal(x % 3, k);
                    seen[f][x]++;
                }
            worker_free(w);
            free(w);
            free(slot);
        }
    for (int f = 0; f < sc.n_fleets; f++)
        for (uint32_t x = 0; x < sc.fleets[f].count; x++)
            assert_int_equal(seen[f][x], 1);
    close(ctl[0]);
    close(ctl[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_merge_equals_union),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_load),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_shards_text),
        cmocka_unit_test(test_shard_slices),
        cmocka_unit_test(test_worker_shard),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
