/* The dashboard without a terminal (report/dash.h): the model fed snapshot
 * documents with their "live" member (rates from successive documents, sources
 * summed, a source gone, bad lines, events, verdicts, paused and active/max,
 * inspect replies); every view drawn into canvases of two sizes and read back as
 * text; the keys as sequences, checked against the requests they make (each a
 * line the run's parser takes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness/live_req.h"
#include "harness/snapshot.h"
#include "report/dash.h"

#include <cmocka.h>

#define SNAPSHOT_FILE "tests/data/snapshots/three-terminals.json"

static cJSON *base;                 /* the snapshot file: fleet "a" of 3 terminals, scenario "tiny" */
static struct run_snapshot *work;   /* scratch for building documents */

static int setup(void **state)
{
    FILE *f = fopen(SNAPSHOT_FILE, "r");
    if (!f)
        return -1;
    static char text[1 << 16];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = 0;
    base = cJSON_Parse(text);
    work = snapshot_new();
    return base && work ? 0 : -1;
}

static int teardown(void **state)
{
    cJSON_Delete(base);
    snapshot_free(work);
    return 0;
}

/* What a document differs in from the file. */
struct doc {
    double wall;                    /* wall_s */
    uint64_t in, out, acked;        /* fleet a's frames_in, frames_out, reports_acked (0: the file's) */
    uint32_t k, n;                  /* shard k of n (0: 1 of 1) */
    int fleet_b;                    /* a second fleet "b", a copy of a */
    int slow;                       /* report latencies of 5 ms recorded on top */
    uint64_t planned;               /* fleet a's planned terminals (0: the file's) */
    int pid;                        /* the first component's pid (0: nobody's) */
    double virt;                    /* virtual_s (0: the file's) */
    const char *harness_error;      /* NULL: the file's ("") */
    const char *comp_error;         /* the first component's error, NULL: none */
    uint64_t rss_kb;                /* the first component's (0: the file's) */
    const char *live;               /* the "live" member's JSON text, or NULL */
};

/* The document as the stats socket sends it: one line, no newline (malloc'd). */
static char *doc_line(const struct doc *d)
{
    char err[512];
    if (snapshot_from_json(work, base, SNAPSHOT_FILE, "", err, sizeof err) != 0)
        fail_msg("%s", err);
    work->wall_s = d->wall;
    struct snapshot_fleet *a = &work->fleets[0];
    snprintf(a->protocol, sizeof a->protocol, "jt808"); /* the file is older than the member */
    if (d->in)
        a->st.frames_in = d->in;
    if (d->out)
        a->st.frames_out = d->out;
    if (d->acked)
        a->st.reports_acked = d->acked;
    if (d->planned)
        a->planned = d->planned;
    if (d->virt)
        work->virtual_s = d->virt;
    if (d->harness_error)
        snprintf(work->harness_error, sizeof work->harness_error, "%s", d->harness_error);
    if (d->comp_error)
        snprintf(work->components[0].error, sizeof work->components[0].error, "%s", d->comp_error);
    if (d->rss_kb)
        work->components[0].rss_kb = d->rss_kb;
    for (int i = 0; i < d->slow; i++)
        hist_record(&a->st.report_latency, 5000);
    if (d->n) {
        work->shard_count = d->n;
        work->shards[0] = d->k;
        for (size_t i = 0; i < work->n_components; i++)
            work->components[i].shard = d->k;
    }
    /* no /proc of another process read: the pids are nobody's */
    for (size_t i = 0; i < work->n_components; i++)
        work->components[i].pid = i ? 0 : d->pid;
    if (d->fleet_b) {
        work->fleets[1] = work->fleets[0];
        snprintf(work->fleets[1].id, sizeof work->fleets[1].id, "b");
        work->fleets[1].st.in_state[TS_AUTHENTICATED] = 1;
        work->fleets[1].st.in_state[TS_DISCONNECTED] = 2;
        work->fleets[1].st.disconnects = 2;
        work->n_fleets = 2;
    }
    cJSON *j = snapshot_to_json(work);
    assert_non_null(j);
    if (d->live) {
        cJSON *l = cJSON_Parse(d->live);
        if (!l)
            fail_msg("bad live text in the test: %s", d->live);
        cJSON_AddItemToObject(j, "live", l);
    }
    char *t = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return t;
}

static enum dash_line feed(struct dash_model *m, int src, const struct doc *d)
{
    char *line = doc_line(d), err[512] = "";
    cJSON *reply = NULL;
    enum dash_line k = dash_model_line(m, src, line, strlen(line), &reply, err, sizeof err);
    if (k == DL_BAD)
        fail_msg("a good document refused: %s", err);
    cJSON_Delete(reply);
    free(line);
    return k;
}

static const struct dash_fleet *dfleet(const struct dash_model *m, const char *id)
{
    for (int i = 0; i < m->n_fleets; i++)
        if (!strcmp(m->fleets[i].id, id))
            return &m->fleets[i];
    fail_msg("no fleet %s in the model", id);
    return NULL;
}

/* --- the model ------------------------------------------------------------------------------ */

static void test_rates(void **state)
{
    struct dash_model m;
    assert_int_equal(dash_model_init(&m), 0);
    assert_int_equal(dash_model_add_source(&m, "/run/a.sock"), 0);
    assert_true(dash_model_running(&m));
    assert_int_equal(dash_model_merge(&m, 100, 0), 0); /* nothing yet */
    assert_int_equal(dash_model_merge(&m, 100, 1), 0);
    assert_false(m.have_cur);

    assert_int_equal(feed(&m, 0, &(struct doc){.wall = 1, .in = 21, .out = 21, .acked = 12}), DL_DOC);
    assert_int_equal(m.src[0].state, DS_UP);
    assert_int_equal(m.src[0].docs, 1);
    assert_int_equal(dash_model_merge(&m, 100, 0), 1);
    assert_true(m.have_cur);
    assert_string_equal(m.cur->scenario, "tiny");
    assert_int_equal(m.n_fleets, 1);
    const struct dash_fleet *a = dfleet(&m, "a");
    assert_true(a->in_per_s == -1 && a->out_per_s == -1 && a->reports_per_s == -1); /* one document: no rate */
    assert_int_equal(a->last.n, 12);                                                 /* its whole latency */
    assert_int_equal(a->active, -1);      /* no "live": unknown */
    assert_int_equal(a->max, -1);
    assert_int_equal(dash_model_merge(&m, 100.5, 0), 0); /* no new document */

    uint64_t gen = m.generation;
    feed(&m, 0, &(struct doc){.wall = 3, .in = 61, .out = 41, .acked = 32, .slow = 5});
    assert_int_equal(dash_model_merge(&m, 102, 0), 1);
    assert_true(m.generation > gen);
    a = dfleet(&m, "a");
    assert_true(a->in_per_s == 20);       /* (61 - 21) / (3 - 1) */
    assert_true(a->out_per_s == 10);
    assert_true(a->reports_per_s == 10);
    assert_int_equal(a->n_spark, 1);
    assert_true(a->spark_in[0] == 20 && a->spark_out[0] == 10);
    assert_int_equal(a->last.n, 5);       /* the interval's reports only */
    assert_true(hist_percentile(&a->last, 50) >= 4900 && hist_percentile(&a->last, 50) <= 5100);

    /* the same wall time twice (a run's clock that did not move): the local clock's interval */
    feed(&m, 0, &(struct doc){.wall = 3, .in = 81, .out = 41, .acked = 32, .slow = 5});
    assert_int_equal(dash_model_merge(&m, 106, 0), 1);
    a = dfleet(&m, "a");
    assert_true(a->in_per_s == 5);        /* 20 frames over 106 - 102 s */
    assert_true(a->out_per_s == 0);
    assert_int_equal(a->last.n, 0);

    /* a counter that went back (a source's process counting from 0 again): no rate of 10^19 a second */
    feed(&m, 0, &(struct doc){.wall = 3.5, .in = 30, .out = 45, .acked = 2});
    assert_int_equal(dash_model_merge(&m, 107, 0), 1);
    a = dfleet(&m, "a");
    assert_true(a->in_per_s == 0);
    assert_true(a->out_per_s == 8); /* (45 - 41) / 0.5: the others as they are */
    assert_true(a->reports_per_s == 0);

    /* documents 1e-300 s apart: not an interval to divide by (the rate was infinite, the
     * sparkline's scale NaN); the local clock's interval, or no rate when that is none */
    feed(&m, 0, &(struct doc){.wall = 1e-300, .in = 100});
    assert_int_equal(dash_model_merge(&m, 107, 0), 1);
    feed(&m, 0, &(struct doc){.wall = 2e-300, .in = 1100});
    assert_int_equal(dash_model_merge(&m, 109, 0), 1);
    a = dfleet(&m, "a");
    assert_true(a->in_per_s == 500);
    int sparks = a->n_spark;
    feed(&m, 0, &(struct doc){.wall = 3e-300, .in = 2100});
    assert_int_equal(dash_model_merge(&m, 109, 0), 1);
    a = dfleet(&m, "a");
    assert_true(a->in_per_s == -1);
    assert_int_equal(a->n_spark, sparks);

    /* 60 s of history, oldest first */
    for (int i = 0; i < DASH_SPARK + 5; i++) {
        feed(&m, 0, &(struct doc){.wall = 4 + i, .in = 100 + 2 * (uint64_t)i * (i + 1) / 2, .out = 41});
        assert_int_equal(dash_model_merge(&m, 110 + i, 0), 1);
    }
    a = dfleet(&m, "a");
    assert_int_equal(a->n_spark, DASH_SPARK);
    assert_true(a->spark_in[DASH_SPARK - 1] == 2 * (DASH_SPARK + 4)); /* the latest interval's rate */
    for (int i = 1; i < DASH_SPARK; i++)
        assert_true(a->spark_in[i] == a->spark_in[i - 1] + 2);
    dash_model_free(&m);
}

static int find_row(const struct dash_canvas *c, const char *s);
#define HAS(c, s)                                                                                                  \
    do {                                                                                                           \
        if (find_row(c, s) < 0) {                                                                                  \
            char *t_ = dash_canvas_text(c);                                                                        \
            fail_msg("no \"%s\" in %dx%d:\n%s", s, (c)->cols, (c)->rows, t_);                                      \
        }                                                                                                          \
    } while (0)
#define HASNT(c, s)                                                                                                \
    do {                                                                                                           \
        if (find_row(c, s) >= 0) {                                                                                 \
            char *t_ = dash_canvas_text(c);                                                                        \
            fail_msg("\"%s\" in %dx%d:\n%s", s, (c)->cols, (c)->rows, t_);                                         \
        }                                                                                                          \
    } while (0)

/* This process's utime + stime, in clock ticks. */
static uint64_t self_ticks(void)
{
    char buf[1024];
    FILE *f = fopen("/proc/self/stat", "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    unsigned long long ut = 0, st = 0;
    const char *p = strrchr(buf, ')');
    assert_non_null(p);
    assert_int_equal(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st), 2);
    return ut + st;
}

/* Spin until this process has used at least want ticks (at most 10 s of wall time). */
static void burn_until(uint64_t want)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    volatile uint64_t x = 0;
    while (self_ticks() < want) {
        for (int i = 0; i < 1000000; i++)
            x += (uint64_t)i * i;
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (t.tv_sec - t0.tv_sec > 10)
            fail_msg("no %llu ticks of CPU in 10 s", (unsigned long long)want);
    }
}

static void test_cpu(void **state)
{
    /* the run's processes' CPU from /proc: here one component is this test itself */
    struct dash_model m;
    assert_int_equal(dash_model_init(&m), 0);
    dash_model_add_source(&m, "/run/a.sock");
    burn_until(1);
    feed(&m, 0, &(struct doc){.wall = 1, .pid = (int)getpid()});
    assert_int_equal(dash_model_merge(&m, 10, 0), 1);
    assert_true(m.cpu_pct == -1); /* one reading: no share yet */
    uint64_t t0 = self_ticks();
    burn_until(t0 + 20);
    feed(&m, 0, &(struct doc){.wall = 3, .pid = (int)getpid()});
    assert_int_equal(dash_model_merge(&m, 12, 0), 1); /* 2 s of the dashboard's clock */
    long hz = sysconf(_SC_CLK_TCK);
    double used = (double)(self_ticks() - t0) / (double)hz;
    /* about used / 2 s, the ticks read before and after it */
    if (!(m.cpu_pct > 0 && m.cpu_pct >= (used - 0.05) * 50 - 5 && m.cpu_pct <= used * 50 + 5))
        fail_msg("cpu %.1f%%, %.2f s of CPU over 2 s", m.cpu_pct, used);
    struct dash_canvas c = {0};
    struct dash_ui u = {0};
    assert_int_equal(dash_canvas_init(&c, 24, 80), 0);
    dash_draw(&c, &m, &u, 12);
    char want[64];
    snprintf(want, sizeof want, "  cpu %.0f%%", m.cpu_pct);
    HAS(&c, want);
    /* within 50 ms of the last: no share (the ticks are too coarse) */
    feed(&m, 0, &(struct doc){.wall = 4, .pid = (int)getpid()});
    assert_int_equal(dash_model_merge(&m, 12.01, 0), 1);
    assert_true(m.cpu_pct == -1);
    dash_draw(&c, &m, &u, 12);
    HASNT(&c, "cpu");
    dash_canvas_free(&c);
    dash_model_free(&m);
}

static void test_sources_summed(void **state)
{
    struct dash_model m;
    assert_int_equal(dash_model_init(&m), 0);
    assert_int_equal(dash_model_add_source(&m, "/run/s1.sock"), 0);
    assert_int_equal(dash_model_add_source(&m, "/run/s2.sock"), 1);
    feed(&m, 0, &(struct doc){.wall = 1, .in = 21, .out = 20, .k = 1, .n = 2});
    feed(&m, 1, &(struct doc){.wall = 1.2, .in = 30, .out = 10, .k = 2, .n = 2});
    assert_int_equal(dash_model_merge(&m, 50, 0), 1);
    assert_string_equal(m.merge_err, "");
    assert_int_equal(m.cur->n_fleets, 1);
    const struct snapshot_fleet *a = &m.cur->fleets[0];
    assert_int_equal(a->st.frames_in, 51);
    assert_int_equal(a->st.frames_out, 30);
    assert_int_equal(a->planned, 6);
    assert_int_equal(a->st.in_state[TS_AUTHENTICATED], 6);
    assert_int_equal(a->st.report_latency.n, 24);
    assert_int_equal(m.cur->n_components, 6);
    char sh[64];
    snapshot_shards_text(m.cur, sh, sizeof sh);
    assert_string_equal(sh, "1,2/2");

    /* one source's document alone waits for the other's, unless forced */
    feed(&m, 0, &(struct doc){.wall = 3, .in = 41, .out = 20, .k = 1, .n = 2});
    assert_int_equal(dash_model_merge(&m, 52, 0), 0);
    feed(&m, 1, &(struct doc){.wall = 3.2, .in = 70, .out = 30, .k = 2, .n = 2});
    assert_int_equal(dash_model_merge(&m, 52, 0), 1);
    const struct dash_fleet *d = dfleet(&m, "a");
    assert_true(d->in_per_s == 30);       /* (41 + 70 - 51) / (3.2 - 1.2): wall_s is the later shard's */
    assert_true(d->out_per_s == 10);

    feed(&m, 0, &(struct doc){.wall = 5, .in = 61, .out = 20, .k = 1, .n = 2});
    assert_int_equal(dash_model_merge(&m, 54, 0), 0);
    assert_int_equal(dash_model_merge(&m, 54, 1), 1); /* forced: s2's last document counts again */
    assert_int_equal(m.cur->fleets[0].st.frames_in, 131);

    /* a source gone: shown as gone, its last document still in the sum */
    dash_model_gone(&m, 1, "it closed (the run ended?)");
    assert_int_equal(m.src[1].state, DS_GONE);
    assert_string_equal(m.src[1].why, "it closed (the run ended?)");
    assert_true(dash_model_running(&m));
    feed(&m, 0, &(struct doc){.wall = 7, .in = 81, .out = 20, .k = 1, .n = 2});
    assert_int_equal(dash_model_merge(&m, 56, 0), 1); /* a gone source is not waited for */
    assert_int_equal(m.cur->fleets[0].st.frames_in, 151);
    char *t = dash_overview_text(&m, 100, 56);
    assert_non_null(t);
    assert_non_null(strstr(t, " source /run/s2.sock: gone (it closed (the run ended?))"));
    assert_non_null(strstr(t, "sources 1 up, some gone"));
    assert_null(strstr(t, "/run/s1.sock"));
    free(t);
    uint64_t gen = m.generation;
    dash_model_gone(&m, 1, "again");
    assert_int_equal(m.generation, gen);  /* gone once */
    assert_string_equal(m.src[1].why, "it closed (the run ended?)");
    dash_model_gone(&m, 0, "connection reset");
    assert_false(dash_model_running(&m));
    t = dash_overview_text(&m, 100, 56);
    assert_non_null(strstr(t, "sources 0 up, all gone"));
    assert_non_null(strstr(t, " source /run/s1.sock: gone (connection reset)"));
    free(t);

    /* two runs of different scenarios are not summed: said, not hidden */
    dash_model_free(&m);
    assert_int_equal(dash_model_init(&m), 0);
    dash_model_add_source(&m, "/run/x.sock");
    dash_model_add_source(&m, "/run/y.sock");
    feed(&m, 0, &(struct doc){.wall = 1, .k = 1, .n = 2});
    feed(&m, 1, &(struct doc){.wall = 1, .k = 1, .n = 2}); /* the same shard twice */
    assert_int_equal(dash_model_merge(&m, 1, 0), 1);
    assert_non_null(strstr(m.merge_err, "/run/y.sock not summed"));
    assert_non_null(strstr(m.merge_err, "shard 1/2 twice"));
    assert_int_equal(m.cur->fleets[0].st.frames_in, 21);
    dash_model_free(&m);

    /* at most DASH_MAX_SOURCES */
    assert_int_equal(dash_model_init(&m), 0);
    for (int i = 0; i < DASH_MAX_SOURCES; i++)
        assert_int_equal(dash_model_add_source(&m, "/s"), i);
    assert_int_equal(dash_model_add_source(&m, "/s"), -1);
    dash_model_free(&m);
}

static void test_bad_lines(void **state)
{
    struct dash_model m;
    assert_int_equal(dash_model_init(&m), 0);
    dash_model_add_source(&m, "/run/a.sock");
    char err[512];
    cJSON *reply = (cJSON *)1;
    const char *lines[] = {"", "not json", "[1,2]", "\"doc\"", "{\"format\": \"fleetsim-snapshot\",", "42"};
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++) {
        err[0] = 0;
        assert_int_equal(dash_model_line(&m, 0, lines[i], strlen(lines[i]), &reply, err, sizeof err), DL_BAD);
        assert_null(reply);
        assert_non_null(strstr(err, "/run/a.sock: a line that is not a JSON object"));
    }
    /* an object, but not a snapshot: the snapshot reader's error, naming the source */
    static const char *notsnap[] = {"{}", "{\"format\": \"fleetsim-snapshot\", \"version\": 99}",
                                    "{\"format\": \"other\", \"live\": {}}"};
    for (size_t i = 0; i < sizeof notsnap / sizeof *notsnap; i++) {
        err[0] = 0;
        assert_int_equal(dash_model_line(&m, 0, notsnap[i], strlen(notsnap[i]), &reply, err, sizeof err), DL_BAD);
        assert_int_equal(strncmp(err, "/run/a.sock", 11), 0);
        assert_true(strlen(err) > 12);
    }
    assert_int_equal(m.src[0].state, DS_CONNECTING);
    assert_int_equal(m.src[0].docs, 0);
    assert_false(m.live_seen);

    /* a bad line after a good one: the good one stays */
    feed(&m, 0, &(struct doc){.wall = 1, .in = 21});
    assert_int_equal(dash_model_line(&m, 0, "{oops", 5, &reply, err, sizeof err), DL_BAD);
    assert_int_equal(m.src[0].docs, 1);
    assert_int_equal(dash_model_merge(&m, 1, 0), 1);
    assert_int_equal(m.cur->fleets[0].st.frames_in, 21);

    /* a reply is handed back whole */
    const char *r = "{\"reply\": 3, \"ok\": true, \"paused\": [\"a\"]}";
    assert_int_equal(dash_model_line(&m, 0, r, strlen(r), &reply, err, sizeof err), DL_REPLY);
    assert_non_null(reply);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok")));
    cJSON_Delete(reply);
    /* the line is len bytes, whatever follows */
    const char *two = "{\"reply\": 4, \"ok\": false}{\"reply\": 5}";
    assert_int_equal(dash_model_line(&m, 0, two, 25, &reply, err, sizeof err), DL_REPLY);
    assert_int_equal(cJSON_GetObjectItemCaseSensitive(reply, "reply")->valueint, 4);
    cJSON_Delete(reply);
    assert_int_equal(dash_model_line(&m, 0, two, 24, &reply, err, sizeof err), DL_BAD);
    dash_model_free(&m);
}

/* A "live" member of n events at t0, t0 + step, ... (in the order given), and more. */
static char *live_text(int n, double t0, double step, const char *tag, const char *more)
{
    size_t cap = 512 + (size_t)n * 400 + strlen(more);
    char *b = malloc(cap);
    size_t k = (size_t)snprintf(b, cap, "{\"events\": [");
    static const char *const kinds[] = {"decode_error", "connect_failed", "disconnect", "tls",
                                        "timeout",      "expectation",    "rejected",   "deviation"};
    for (int i = 0; i < n; i++)
        k += (size_t)snprintf(b + k, cap - k,
                              "%s{\"t\": %.3f, \"fleet\": \"a\", \"terminal\": \"0138000000%02d\", \"kind\": \"%s\","
                              " \"text\": \"%s event %d\", \"hex\": \"7e8103%04x7e\", \"decoded\": \"{\\\"n\\\": %d}\"}",
                              i ? ", " : "", t0 + step * i, i % 100, kinds[i % 8], tag, i, i, i);
    snprintf(b + k, cap - k, "]%s%s}", more[0] ? ", " : "", more);
    return b;
}

static void test_live(void **state)
{
    struct dash_model m;
    assert_int_equal(dash_model_init(&m), 0);
    dash_model_add_source(&m, "/s1");
    dash_model_add_source(&m, "/s2");
    /* s1's events newest first on purpose; s2's between them in time */
    char *l1 = live_text(40, 80.5, -2, "s1",
                         "\"verdicts\": [{\"id\": \"ONLINE\", \"verdict\": \"PASS\", \"expected\": \"all online within 5s\","
                         " \"observed\": \"3 of 3 in 34ms\"}, {\"id\": \"LEDGER\", \"verdict\": \"FAIL\","
                         " \"expected\": \"balanced\", \"observed\": \"2 timed out\"}],"
                         " \"paused\": [\"a\"], \"active\": {\"a\": 20}, \"max\": {\"a\": 30}");
    char *l2 = live_text(40, 1.0, 2, "s2",
                         "\"verdicts\": [{\"id\": \"OTHER\", \"verdict\": \"ERROR\"}], \"paused\": [],"
                         " \"active\": {\"a\": 21, \"c\": 5}, \"max\": {\"a\": 30, \"c\": 9}");
    feed(&m, 0, &(struct doc){.wall = 1, .k = 1, .n = 2, .live = l1});
    feed(&m, 1, &(struct doc){.wall = 1, .k = 2, .n = 2, .live = l2});
    assert_true(m.live_seen);
    assert_int_equal(dash_model_merge(&m, 10, 0), 1);
    /* 80 events: the newest 64, oldest first */
    assert_int_equal(m.n_events, DASH_MAX_EVENTS);
    for (int i = 1; i < m.n_events; i++)
        assert_true(m.events[i - 1].t <= m.events[i].t);
    assert_true(m.events[DASH_MAX_EVENTS - 1].t == 80.5);
    assert_true(m.events[0].t == 17.0); /* 0.5, 1, 2.5, 3, ... 16.5 dropped: 16 of them */
    const struct dash_event *e = &m.events[DASH_MAX_EVENTS - 1];
    assert_string_equal(e->fleet, "a");
    assert_string_equal(e->terminal, "013800000000");
    assert_string_equal(e->kind, "decode_error");
    assert_string_equal(e->text, "s1 event 0");
    assert_string_equal(e->hex, "7e810300007e");
    assert_string_equal(e->decoded, "{\"n\": 0}");
    /* verdicts: the first source's */
    assert_int_equal(m.n_verdicts, 2);
    assert_string_equal(m.verdicts[0].id, "ONLINE");
    assert_string_equal(m.verdicts[0].verdict, "PASS");
    assert_string_equal(m.verdicts[0].expected, "all online within 5s");
    assert_string_equal(m.verdicts[0].observed, "3 of 3 in 34ms");
    assert_string_equal(m.verdicts[1].id, "LEDGER");
    assert_string_equal(m.verdicts[1].verdict, "FAIL");
    /* paused by any source; active and max summed; a fleet only "live" names has a row of its own */
    const struct dash_fleet *a = dfleet(&m, "a"), *c = dfleet(&m, "c");
    assert_int_equal(a->paused, 1);
    assert_int_equal(a->active, 41);
    assert_int_equal(a->max, 60);
    assert_int_equal(c->paused, 0);
    assert_int_equal(c->active, 5);
    assert_int_equal(c->max, 9);
    free(l1);
    free(l2);

    /* the next documents: resumed, resized, fewer events */
    l1 = live_text(3, 90, 1, "s1", "\"paused\": [], \"active\": {\"a\": 25}, \"max\": {\"a\": 30}");
    l2 = live_text(0, 0, 0, "s2", "\"active\": {\"a\": 25}, \"max\": {\"a\": 30}");
    feed(&m, 0, &(struct doc){.wall = 2, .k = 1, .n = 2, .live = l1});
    feed(&m, 1, &(struct doc){.wall = 2, .k = 2, .n = 2, .live = l2});
    assert_int_equal(dash_model_merge(&m, 11, 0), 1);
    a = dfleet(&m, "a");
    assert_int_equal(a->paused, 0);
    assert_int_equal(a->active, 50);
    assert_int_equal(a->max, 60);
    assert_int_equal(dfleet(&m, "c")->active, -1); /* no longer said: unknown */
    assert_int_equal(m.n_events, 3);
    assert_true(m.events[0].t == 90 && m.events[2].t == 92);
    assert_int_equal(m.n_verdicts, 0);
    free(l1);
    free(l2);

    /* documents without "live": what was known stays */
    feed(&m, 0, &(struct doc){.wall = 3, .k = 1, .n = 2});
    feed(&m, 1, &(struct doc){.wall = 3, .k = 2, .n = 2});
    assert_int_equal(dash_model_merge(&m, 12, 0), 1);
    assert_int_equal(m.n_events, 3);
    assert_int_equal(dfleet(&m, "a")->active, 50);

    /* members of the wrong shapes are skipped, not trusted */
    const char *odd = "{\"events\": [1, \"x\", {\"t\": \"late\", \"kind\": 7}], \"verdicts\": {\"id\": \"X\"},"
                      " \"paused\": [3, \"a\"], \"active\": {\"a\": \"many\", \"b\": 4}, \"max\": [60]}";
    feed(&m, 0, &(struct doc){.wall = 4, .k = 1, .n = 2, .live = odd});
    feed(&m, 1, &(struct doc){.wall = 4, .k = 2, .n = 2, .live = "{}"});
    assert_int_equal(dash_model_merge(&m, 13, 0), 1);
    assert_int_equal(m.n_events, 0); /* the list stops at the first that is not an object */
    assert_int_equal(dfleet(&m, "a")->paused, 1);
    assert_int_equal(dfleet(&m, "a")->active, -1);
    assert_int_equal(dfleet(&m, "b")->active, 4);
    assert_int_equal(dfleet(&m, "b")->max, -1);
    /* counts that are not a fleet's: out of 0..2^32-1, ignored (they would not even convert) */
    feed(&m, 0, &(struct doc){.wall = 5, .k = 1, .n = 2,
                              .live = "{\"active\": {\"a\": 1e300, \"b\": -3, \"c\": 4294967296, \"d\": 4294967295},"
                                      " \"max\": {\"a\": -1e300, \"b\": 0.5}}"});
    feed(&m, 1, &(struct doc){.wall = 5, .k = 2, .n = 2, .live = "{\"active\": {\"d\": 4294967295}}"});
    assert_int_equal(dash_model_merge(&m, 14, 0), 1);
    assert_int_equal(dfleet(&m, "a")->active, -1);
    assert_int_equal(dfleet(&m, "a")->max, -1);
    assert_int_equal(dfleet(&m, "b")->active, -1);
    assert_int_equal(dfleet(&m, "b")->max, 0);
    assert_int_equal(dfleet(&m, "d")->active, 2 * (int64_t)UINT32_MAX);
    assert_int_equal(dfleet(&m, "c")->active, -1);
    dash_model_free(&m);

    /* pause and resume replies mark the fleets before any document says */
    assert_int_equal(dash_model_init(&m), 0);
    dash_model_add_source(&m, "/s1");
    feed(&m, 0, &(struct doc){.wall = 1, .fleet_b = 1});
    assert_int_equal(dash_model_merge(&m, 1, 0), 1);
    cJSON *r = cJSON_Parse("{\"reply\": 1, \"ok\": true, \"paused\": [\"a\", \"b\"]}");
    dash_model_reply(&m, r);
    cJSON_Delete(r);
    assert_int_equal(dfleet(&m, "a")->paused, 1);
    assert_int_equal(dfleet(&m, "b")->paused, 1);
    r = cJSON_Parse("{\"reply\": 2, \"ok\": false, \"error\": \"no\", \"paused\": []}");
    dash_model_reply(&m, r);
    cJSON_Delete(r);
    assert_int_equal(dfleet(&m, "a")->paused, 1);
    r = cJSON_Parse("{\"reply\": 3, \"ok\": true, \"paused\": [\"b\"]}");
    dash_model_reply(&m, r);
    cJSON_Delete(r);
    assert_int_equal(dfleet(&m, "a")->paused, 0);
    assert_int_equal(dfleet(&m, "b")->paused, 1);
    dash_model_free(&m);
}

static const char *inspect_reply =
    "{\"reply\": 7, \"ok\": true, \"fleet\": \"a\", \"index\": 1, \"terminal\": \"013800000001\","
    " \"state\": \"authenticated\", \"worker\": 0,"
    " \"counters\": {\"pending\": 0, \"reconnect_attempts\": 2, \"next_serial\": 12, \"connected\": true},"
    " \"since\": {\"started\": 0.01, \"first_reached\": {\"authenticated\": 0.1}},"
    " \"watching_since\": 1.5, \"watch_started\": true, \"frames\": ["
    "{\"dir\": \">\", \"t\": 1.6, \"hex\": \"7e0200001a01380000000100057e\", \"decoded\": {\"msg_id\": \"0x0200\"}},"
    "{\"dir\": \"<\", \"t\": 1.61, \"hex\": \"7e8001000501380000000100587e\", \"decoded\": {\"msg_id\": \"0x8001\"}}]}";

static void test_inspect(void **state)
{
    struct dash_model m;
    assert_int_equal(dash_model_init(&m), 0);
    char err[256];
    cJSON *r = cJSON_Parse(inspect_reply);
    assert_int_equal(dash_model_inspect(&m, r, err, sizeof err), 0);
    cJSON_Delete(r);
    const struct dash_inspect *in = &m.inspect;
    assert_true(in->have);
    assert_string_equal(in->terminal, "013800000001");
    assert_string_equal(in->fleet, "a");
    assert_int_equal(in->index, 1);
    assert_string_equal(in->state, "authenticated");
    assert_string_equal(in->counters, "pending 0, reconnect_attempts 2, next_serial 12, connected true");
    assert_string_equal(in->since, "1.50s (run time); started 0.01s, authenticated 0.10s");
    assert_int_equal(in->n_frames, 2);
    assert_int_equal(in->frames[0].dir, '>');
    assert_true(in->frames[0].t == 1.6);
    assert_string_equal(in->frames[0].hex, "7e0200001a01380000000100057e");
    assert_string_equal(in->frames[0].decoded, "{\"msg_id\":\"0x0200\"}");
    assert_int_equal(in->frames[1].dir, '<');
    assert_string_equal(in->frames[1].decoded, "{\"msg_id\":\"0x8001\"}");

    /* a refusal: an error, and what was shown stays */
    r = cJSON_Parse("{\"reply\": 8, \"ok\": false, \"error\": \"op \\\"inspect\\\": member \\\"terminal\\\": no fleet has "
                    "a terminal \\\"x\\\"\"}");
    uint64_t gen = m.generation;
    assert_int_equal(dash_model_inspect(&m, r, err, sizeof err), -1);
    cJSON_Delete(r);
    assert_string_equal(err, "inspect: op \"inspect\": member \"terminal\": no fleet has a terminal \"x\"");
    assert_int_equal(m.generation, gen);
    assert_string_equal(in->terminal, "013800000001");
    assert_int_equal(in->n_frames, 2);
    r = cJSON_Parse("{\"reply\": 8}");
    assert_int_equal(dash_model_inspect(&m, r, err, sizeof err), -1);
    cJSON_Delete(r);
    assert_string_equal(err, "inspect: refused");
    r = cJSON_Parse("{\"reply\": 8, \"ok\": \"yes\"}");
    assert_int_equal(dash_model_inspect(&m, r, err, sizeof err), -1);
    cJSON_Delete(r);

    /* more frames than kept: the newest DASH_MAX_FRAMES */
    cJSON *o = cJSON_Parse("{\"reply\": 9, \"ok\": true, \"terminal\": \"t9\", \"state\": \"connecting\"}");
    cJSON *fr = cJSON_AddArrayToObject(o, "frames");
    for (int i = 0; i < DASH_MAX_FRAMES + 5; i++) {
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "dir", i % 2 ? "<" : ">");
        cJSON_AddNumberToObject(f, "t", i);
        cJSON_AddStringToObject(f, "hex", "7e7e");
        cJSON_AddItemToArray(fr, f);
    }
    assert_int_equal(dash_model_inspect(&m, o, err, sizeof err), 0);
    cJSON_Delete(o);
    assert_int_equal(in->n_frames, DASH_MAX_FRAMES);
    assert_true(in->frames[0].t == 5);
    assert_true(in->frames[DASH_MAX_FRAMES - 1].t == DASH_MAX_FRAMES + 4);
    assert_int_equal(in->frames[0].dir, '<');
    assert_string_equal(in->frames[0].decoded, "");
    assert_string_equal(in->counters, "");
    assert_string_equal(in->since, "0.00s (run time)");
    assert_int_equal(in->index, -1);
    /* an index that is not one: -1, not whatever the conversion makes of it */
    const char *odd[] = {"1e300", "-5", "4294967296", "-1e300"};
    for (size_t i = 0; i < sizeof odd / sizeof *odd; i++) {
        char t[128];
        snprintf(t, sizeof t, "{\"reply\": 9, \"ok\": true, \"terminal\": \"t9\", \"index\": %s}", odd[i]);
        o = cJSON_Parse(t);
        assert_int_equal(dash_model_inspect(&m, o, err, sizeof err), 0);
        cJSON_Delete(o);
        assert_int_equal(in->index, -1);
    }
    o = cJSON_Parse("{\"reply\": 9, \"ok\": true, \"index\": 2147483647}");
    assert_int_equal(dash_model_inspect(&m, o, err, sizeof err), 0);
    cJSON_Delete(o);
    assert_int_equal(in->index, 2147483647);
    assert_string_equal(in->terminal, "t9"); /* a reply without one keeps the last */
    dash_model_free(&m);
}

/* --- the views ------------------------------------------------------------------------------ */

/* The model the views are drawn from: two documents a second... two seconds apart,
 * fleet a and b, live events, verdicts, active/max, an inspected terminal. */
static void view_model(struct dash_model *m, struct dash_ui *u)
{
    assert_int_equal(dash_model_init(m), 0);
    dash_model_add_source(m, "/run/v.sock");
    char *l1 = live_text(30, 1, 0.25, "seen",
                         "\"verdicts\": [{\"id\": \"ONLINE\", \"verdict\": \"PASS\", \"expected\": \"online within 5s\","
                         " \"observed\": \"3 of 3\"}, {\"id\": \"LEDGER\", \"verdict\": \"FAIL\", \"expected\": \"balanced\","
                         " \"observed\": \"2 timed out\"}, {\"id\": \"SLOW\", \"verdict\": \"INCONCLUSIVE\"}],"
                         " \"paused\": [], \"active\": {\"a\": 40, \"b\": 3}, \"max\": {\"a\": 60, \"b\": 3}");
    feed(m, 0, &(struct doc){.wall = 1, .in = 21, .out = 21, .acked = 12, .fleet_b = 1, .live = l1});
    assert_int_equal(dash_model_merge(m, 100, 0), 1);
    feed(m, 0, &(struct doc){.wall = 3, .in = 61, .out = 41, .acked = 32, .slow = 5, .fleet_b = 1, .live = l1});
    assert_int_equal(dash_model_merge(m, 102, 0), 1);
    free(l1);
    /* a long event last, its hex longer than 80 columns */
    struct dash_event *e = &m->events[m->n_events - 1];
    memset(e->hex, 'a', sizeof e->hex - 1);
    e->hex[sizeof e->hex - 1] = 0;
    memcpy(e->hex, "7e8103", 6);
    cJSON *r = cJSON_Parse(inspect_reply);
    char err[256];
    assert_int_equal(dash_model_inspect(m, r, err, sizeof err), 0);
    cJSON_Delete(r);
    memset(u, 0, sizeof *u);
    snprintf(u->watching, sizeof u->watching, "013800000001");
    snprintf(m->inspect.asked, sizeof m->inspect.asked, "013800000001"); /* what the tty layer sets on asking */
}

/* The canvas as text; every row at most cols wide, exactly rows of them. */
static char *text_of(const struct dash_canvas *c)
{
    char *t = dash_canvas_text(c);
    assert_non_null(t);
    int rows = 0;
    for (const char *p = t; *p; rows++) {
        const char *nl = strchr(p, '\n');
        assert_non_null(nl);
        if (nl - p > c->cols)
            fail_msg("row %d is %d wide, the canvas %d:\n%s", rows, (int)(nl - p), c->cols, t);
        p = nl + 1;
    }
    assert_int_equal(rows, c->rows);
    return t;
}

static void row_of(const struct dash_canvas *c, int r, char *buf, size_t cap) { dash_canvas_row(c, r, buf, cap); }

/* The first row holding s, or -1. */
static int find_row(const struct dash_canvas *c, const char *s)
{
    char buf[512];
    for (int r = 0; r < c->rows; r++) {
        row_of(c, r, buf, sizeof buf);
        if (strstr(buf, s))
            return r;
    }
    return -1;
}

static const char *const key_help = " q quit  p pause  +/- resize  f disconnect  tab view  / search  ? help";

/* The words of row r, split at blanks, into w (at most n); how many. */
static int words(const struct dash_canvas *c, int r, char w[][40], int n)
{
    char buf[512];
    row_of(c, r, buf, sizeof buf);
    int k = 0;
    for (char *save = NULL, *t = strtok_r(buf, " ", &save); t && k < n; t = strtok_r(NULL, " ", &save))
        snprintf(w[k++], 40, "%s", t);
    return k;
}

static void check_frame(const struct dash_canvas *c, enum dash_view_id v)
{
    char buf[512], want[64];
    free(text_of(c));
    row_of(c, 0, buf, sizeof buf);
    if (strncmp(buf, " fleetsim tiny  elapsed 3.0s  virtual 2.0s", 42) != 0)
        fail_msg("header: %s", buf);
    snprintf(want, sizeof want, "[%d %s] 1 2 3 4 5 6", v + 1, dash_view_name(v));
    assert_non_null(strstr(buf, want));
    assert_int_equal((int)strlen(buf), c->cols - 1); /* right-aligned, one blank after */
    for (int col = 0; col < c->cols; col++)
        assert_true(c->cells[col].attr & DA_REVERSE); /* a bar */
    row_of(c, 1, buf, sizeof buf);
    assert_string_equal(buf, " target embedded jt808  shards 1/1");
    row_of(c, 2, buf, sizeof buf);
    assert_string_equal(buf, " workers 2 done, gateways 1 done  mem 11.3MB");
    row_of(c, c->rows - 1, buf, sizeof buf);
    assert_string_equal(buf, key_help);
    row_of(c, c->rows - 2, buf, sizeof buf);
    assert_string_equal(buf, ""); /* no prompt */
}

static void test_views(void **state)
{
    struct dash_model m;
    struct dash_ui u;
    view_model(&m, &u);
    struct dash_canvas small = {0}, big = {0};
    assert_int_equal(dash_canvas_init(&small, 24, 80), 0);
    assert_int_equal(dash_canvas_init(&big, 48, 160), 0);
    struct dash_canvas *cs[2] = {&small, &big};
    char w[24][40], buf[512];

    for (int v = 0; v < DV__COUNT; v++)
        for (int s = 0; s < 2; s++) {
            u.view = (enum dash_view_id)v;
            dash_draw(cs[s], &m, &u, 102);
            check_frame(cs[s], u.view);
        }

    /* overview: the fleet table; 80 columns keep the columns of priority 0 and 1 */
    u.view = DV_OVERVIEW;
    dash_draw(&small, &m, &u, 102);
    int hr = find_row(&small, "FLEET");
    assert_true(hr > 0);
    int n = words(&small, hr, w, 24);
    const char *want80[] = {"FLEET", "CONN", "REG", "ONLINE", "FAIL", "IN/S", "OUT/S", "P99/1s", "ERRORS"};
    assert_int_equal(n, 9);
    for (int i = 0; i < 9; i++)
        assert_string_equal(w[i], want80[i]);
    /* fleet a: 3 online, 20 in/s, 10 out/s, the interval's 5 reports of 5 ms */
    n = words(&small, hr + 1, w, 24);
    const char *rowa[] = {"a", "0", "0", "3", "0", "20", "10", "5.02ms", "none"};
    assert_int_equal(n, 9);
    for (int i = 0; i < 9; i++)
        if (strcmp(w[i], rowa[i]) != 0 && !(i == 7 && strncmp(w[i], "5.", 2) == 0 && strstr(w[i], "ms")))
            fail_msg("fleet a's column %d: %s, want %s", i, w[i], rowa[i]);
    assert_true(small.cells[(hr + 1) * small.cols + 1].attr & DA_REVERSE); /* selected */
    assert_false(small.cells[(hr + 2) * small.cols + 1].attr & DA_REVERSE);
    /* fleet b: 1 online, 2 failed, the errors named */
    n = words(&small, hr + 2, w, 24);
    assert_string_equal(w[0], "b");
    assert_string_equal(w[3], "1");
    assert_string_equal(w[4], "2");
    assert_string_equal(w[8], "dc");
    assert_string_equal(w[9], "2");
    /* the total row */
    n = words(&small, hr + 3, w, 24);
    assert_string_equal(w[0], "all");
    assert_string_equal(w[3], "4");
    assert_string_equal(w[5], "40"); /* 20 each */
    HAS(&small, " worker 0  shard 1  done     pid 0  rss 3396kB  terminals 2");
    HAS(&small, " platform: 0 connections, frames in 21 out 21, rejected 0");
    /* 160 columns add PROTO, SLEEP, ACT/MAX, P50/1s, MAX/1s, the 60 s sparkline, P99; TARGET, P50 and
     * MAX still do not fit */
    dash_draw(&big, &m, &u, 102);
    hr = find_row(&big, "FLEET");
    n = words(&big, hr, w, 24);
    const char *want160[] = {"FLEET", "PROTO", "CONN",   "REG",    "ONLINE", "SLEEP", "FAIL", "ACT/MAX", "IN/S",
                             "OUT/S", "IN/S",  "60s",    "P50/1s", "P99/1s", "MAX/1s", "P99", "ERRORS"};
    assert_int_equal(n, 17);
    for (int i = 0; i < 17; i++)
        assert_string_equal(w[i], want160[i]);
    row_of(&big, hr, buf, sizeof buf);
    assert_null(strstr(buf, " P50 "));
    assert_null(strstr(buf, " MAX "));
    HASNT(&small, "ACT/MAX");
    HASNT(&small, "SLEEP");
    HASNT(&small, "PROTO");
    HASNT(&small, "IN/S 60s");
    HASNT(&big, "TARGET");
    n = words(&big, hr + 1, w, 24);
    assert_string_equal(w[0], "a");
    assert_string_equal(w[1], "jt808");
    assert_string_equal(w[7], "40/60");
    assert_string_equal(w[8], "20");
    assert_string_equal(w[10], "@"); /* one interval in the sparkline: at its maximum */
    n = words(&big, hr + 2, w, 24);
    assert_string_equal(w[7], "3/3");

    /* transitions: what each fleet reached, every state its own label, all within 80 columns */
    u.view = DV_TRANSITIONS;
    dash_draw(&small, &m, &u, 102);
    HAS(&small, "terminals that reached each state");
    HAS(&small, " FLEET       connect conn-ok reg     reg-ok  auth    online  lost    unreg");
    hr = find_row(&small, "FLEET");
    n = words(&small, hr + 1, w, 24);
    assert_string_equal(w[0], "a");
    for (int i = 1; i <= 6; i++)
        assert_string_equal(w[i], "3");
    HASNT(&small, "authentic");
    HAS(&small, "commands by kind       SENT  ANSWERED  REFUSED  TIMED-OUT  OFFLINE");
    HAS(&small, " a           0x8104        3         3        0          0        0"); /* kind 1 of jt808 */
    dash_draw(&big, &m, &u, 102);
    HAS(&big, "online  lost    unreg");

    /* events: as many of the newest as fit, three rows each, kind and hex shown */
    u.view = DV_EVENTS;
    dash_draw(&small, &m, &u, 102);
    int first = find_row(&small, "seen event");
    assert_true(first > 0);
    /* rows 4..21 hold 6 events: 24..29 */
    for (int i = 0; i < 6; i++) {
        char ev[32];
        snprintf(ev, sizeof ev, "seen event %d", 24 + i);
        assert_int_equal(find_row(&small, ev), first + 3 * i);
    }
    HASNT(&small, "seen event 23");
    row_of(&small, first, buf, sizeof buf);
    /* the columns as wide as the longest shown (a connect_failed among the kinds) */
    assert_string_equal(buf, "     7.00s a 013800000024 decode_error   seen event 24");
    row_of(&small, first + 1, buf, sizeof buf);
    assert_string_equal(buf, "   hex 7e810300187e");
    row_of(&small, first + 2, buf, sizeof buf);
    assert_string_equal(buf, "   decoded {\"n\": 24}");
    row_of(&small, first + 3 * 5 + 1, buf, sizeof buf);
    assert_int_equal(strlen(buf), 80); /* the long hex cut at the edge */
    assert_int_equal(strncmp(buf, "   hex 7e8103aaaa", 17), 0);
    dash_draw(&big, &m, &u, 102);
    HAS(&big, "seen event 16");
    HASNT(&big, "seen event 15"); /* 14 events fit in rows 4..45 */
    row_of(&big, find_row(&big, "seen event 29") + 1, buf, sizeof buf);
    assert_int_equal(strlen(buf), 160);

    /* terminal: the inspected one, its frames */
    u.view = DV_TERMINAL;
    for (int s = 0; s < 2; s++) {
        dash_draw(cs[s], &m, &u, 102);
        HAS(cs[s], " terminal 013800000001  fleet a  index 1  state authenticated");
        HAS(cs[s], " watching since 1.50s (run time); started 0.01s, authenticated 0.10s");
        HAS(cs[s], " counters: pending 0, reconnect_attempts 2, next_serial 12, connected true");
        HAS(cs[s], " last 2 frames (> sent, < received)");
        HAS(cs[s], " >     1.60s 7e0200001a01380000000100057e");
        HAS(cs[s], " <     1.61s 7e8001000501380000000100587e");
        HAS(cs[s], "             {\"msg_id\":\"0x8001\"}");
    }
    /* asked about another: waiting; none asked: how to */
    snprintf(u.watching, sizeof u.watching, "999");
    dash_draw(&small, &m, &u, 102);
    HAS(&small, " terminal 999: asking the run...");
    HASNT(&small, "frames");
    u.watching[0] = 0;
    dash_draw(&small, &m, &u, 102);
    HAS(&small, " press / and type a terminal's id");
    snprintf(u.watching, sizeof u.watching, "013800000001");

    /* verdicts: each id, its verdict, expected / observed */
    u.view = DV_VERDICTS;
    for (int s = 0; s < 2; s++) {
        dash_draw(cs[s], &m, &u, 102);
        HAS(cs[s], " EXPECTATION         VERDICT       EXPECTED / OBSERVED");
        HAS(cs[s], " ONLINE              PASS          online within 5s / 3 of 3");
        HAS(cs[s], " LEDGER              FAIL          balanced / 2 timed out");
        HAS(cs[s], " SLOW                INCONCLUSIVE   /");
    }
    int r = find_row(&small, "LEDGER");
    assert_true(small.cells[r * small.cols + 21].attr & DA_BAD);
    r = find_row(&small, "ONLINE");
    assert_true(small.cells[r * small.cols + 21].attr & DA_GOOD);

    /* latency: the interval's and the whole run's */
    u.view = DV_LATENCY;
    for (int s = 0; s < 2; s++) {
        dash_draw(cs[s], &m, &u, 102);
        HAS(cs[s], " report latency  last interval: n 10 p50 5.00ms p99 5.00ms max 5.00ms");
        HAS(cs[s], "                 overall:       n 34 p50 ");
        HAS(cs[s], " UP TO ");
        HAS(cs[s], " 8.19ms ");
    }
    dash_canvas_free(&small);
    dash_canvas_free(&big);
    dash_model_free(&m);
}

static void test_views_empty(void **state)
{
    /* before any document: the sources, and every view drawn without one */
    struct dash_model m;
    struct dash_ui u = {0};
    assert_int_equal(dash_model_init(&m), 0);
    dash_model_add_source(&m, "/run/a.sock");
    dash_model_add_source(&m, "/run/b.sock");
    dash_model_gone(&m, 1, "refused");
    struct dash_canvas c = {0};
    assert_int_equal(dash_canvas_init(&c, 24, 80), 0);
    char buf[256];
    for (int v = 0; v < DV__COUNT; v++) {
        u.view = (enum dash_view_id)v;
        dash_draw(&c, &m, &u, 0);
        free(text_of(&c));
        row_of(&c, 0, buf, sizeof buf);
        assert_int_equal(strncmp(buf, " fleetsim (waiting)  elapsed -  virtual -", 41), 0);
        HAS(&c, " source /run/a.sock: connecting");
        HAS(&c, " source /run/b.sock: gone: refused");
        row_of(&c, 23, buf, sizeof buf);
        assert_string_equal(buf, key_help);
    }
    u.view = DV_EVENTS;
    dash_draw(&c, &m, &u, 0);
    HAS(&c, "no events: the source sends no \"live\" member");
    dash_canvas_free(&c);
    dash_model_free(&m);
}

static void test_views_plain(void **state)
{
    /* a run without "live": the snapshot's own partials, its errors, large figures */
    struct dash_model m;
    struct dash_ui u = {0};
    assert_int_equal(dash_model_init(&m), 0);
    dash_model_add_source(&m, "/run/p.sock");
    feed(&m, 0, &(struct doc){.wall = 150, .virt = 7300, .in = 1000});
    assert_int_equal(dash_model_merge(&m, 1, 0), 1);
    feed(&m, 0, &(struct doc){.wall = 151, .virt = 7302, .in = 1000 + 2500000, .rss_kb = 20u << 20,
                              .harness_error = "worker 1 died (signal 9)", .comp_error = "killed by signal 9"});
    assert_int_equal(dash_model_merge(&m, 2, 0), 1);
    struct dash_canvas c = {0};
    assert_int_equal(dash_canvas_init(&c, 24, 100), 0);
    char buf[256], w[24][40];
    u.view = DV_OVERVIEW;
    dash_draw(&c, &m, &u, 2);
    row_of(&c, 0, buf, sizeof buf);
    assert_int_equal(strncmp(buf, " fleetsim tiny  elapsed 2m31s  virtual 2h01m", 44), 0);
    HAS(&c, " workers 2 done, gateways 1 done  mem 20.01GB");
    HAS(&c, " harness: worker 1 died (signal 9)");
    HAS(&c, " worker 0  shard 1  done     pid 0  rss 20.00GB  terminals 2  killed by signal 9");
    int hr = find_row(&c, "FLEET");
    HASNT(&c, "ACT/MAX"); /* no "live": no such column, whatever the width */
    words(&c, hr + 1, w, 24);
    assert_string_equal(w[0], "a");
    assert_string_equal(w[1], "jt808");   /* 100 columns: PROTO and SLEEP beside the 80's */
    assert_string_equal(w[7], "2500.0k"); /* in/s */
    /* verdicts: the per-terminal partials, judged at the end */
    u.view = DV_VERDICTS;
    dash_draw(&c, &m, &u, 2);
    HAS(&c, " EXPECTATION         TERMINALS OK / OF   (per-terminal partials)");
    HAS(&c, " T-1                 3 / 3");
    HAS(&c, " T-2                 -"); /* none counted: not shown as a pass */
    HASNT(&c, "0 / 0");
    HAS(&c, " verdicts are judged at the end (the source sends no live verdicts)");
    u.view = DV_EVENTS;
    dash_draw(&c, &m, &u, 2);
    HAS(&c, " no events: the source sends no \"live\" member");
    /* a "live" member without events: said so */
    feed(&m, 0, &(struct doc){.wall = 152, .live = "{\"events\": []}"});
    assert_int_equal(dash_model_merge(&m, 3, 0), 1);
    dash_draw(&c, &m, &u, 2);
    HAS(&c, " no errors, deviations or failed expectations so far");
    /* sources that cannot be summed: said in the header of every view */
    dash_model_add_source(&m, "/run/q.sock");
    feed(&m, 0, &(struct doc){.wall = 153, .k = 1, .n = 2});
    feed(&m, 1, &(struct doc){.wall = 153, .k = 1, .n = 2});
    assert_int_equal(dash_model_merge(&m, 4, 0), 1);
    for (int v = 0; v < DV__COUNT; v++) {
        u.view = (enum dash_view_id)v;
        dash_draw(&c, &m, &u, 4);
        assert_int_equal(find_row(&c, " /run/q.sock not summed: shard 1/2 twice"), 3);
    }
    dash_canvas_free(&c);
    dash_model_free(&m);
}

static void test_prompts(void **state)
{
    struct dash_model m;
    struct dash_ui u;
    view_model(&m, &u);
    struct dash_canvas c = {0};
    char buf[256];
    for (int size = 0; size < 2; size++) {
        assert_int_equal(dash_canvas_init(&c, size ? 48 : 24, size ? 160 : 80), 0);
        u.prompt = DP_SEARCH;
        snprintf(u.input, sizeof u.input, "0138");
        dash_draw(&c, &m, &u, 102);
        row_of(&c, c.rows - 2, buf, sizeof buf);
        assert_string_equal(buf, " search terminal: 0138_   (Enter to inspect, Esc to cancel)");
        row_of(&c, c.rows - 1, buf, sizeof buf);
        assert_string_equal(buf, key_help);
        u.prompt = DP_QUIT;
        dash_draw(&c, &m, &u, 102);
        row_of(&c, c.rows - 2, buf, sizeof buf);
        assert_string_equal(buf, " the run is going: quit and stop it? (y/n)");
        /* the help over the view, from row 2 */
        u.prompt = DP_HELP;
        dash_draw(&c, &m, &u, 102);
        free(text_of(&c));
        row_of(&c, 2, buf, sizeof buf);
        assert_string_equal(buf + 4, " keys");
        assert_int_equal(find_row(&c, "  tab, 1-6   next view, or view N"), 3);
        assert_int_equal(find_row(&c, "  Ctrl-L     redraw the screen"), 11);
        assert_int_equal(find_row(&c, "  ?          this help"), 12);
        assert_true(c.cells[2 * c.cols + 4].attr & DA_REVERSE);
        assert_true(c.cells[2 * c.cols + 61].attr & DA_REVERSE);
        assert_false(c.cells[2 * c.cols + 62].attr & DA_REVERSE);
        /* a message takes the bottom line */
        u.prompt = DP_NONE;
        snprintf(u.message, sizeof u.message, "refused: op \"resize\": no fleet");
        u.msg_bad = 1;
        dash_draw(&c, &m, &u, 102);
        row_of(&c, c.rows - 1, buf, sizeof buf);
        assert_string_equal(buf, " refused: op \"resize\": no fleet");
        assert_true(c.cells[(c.rows - 1) * c.cols + 1].attr & DA_BAD);
        u.message[0] = 0;
        u.msg_bad = 0;
    }
    /* a short canvas: the help cut to what fits, above the prompt line */
    assert_int_equal(dash_canvas_init(&c, 10, 40), 0);
    u.prompt = DP_HELP;
    dash_draw(&c, &m, &u, 102);
    free(text_of(&c));
    assert_int_equal(find_row(&c, "  p          pause"), 5);
    assert_int_equal(find_row(&c, "  + / -"), 6);
    assert_int_equal(find_row(&c, "  f          disconnect"), 7);
    assert_int_equal(find_row(&c, "  /          search"), -1);
    /* tiny canvases: drawn, nothing outside */
    static const int sizes[][2] = {{1, 1}, {2, 5}, {3, 20}, {5, 1}, {24, 10}};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
        for (int v = 0; v < DV__COUNT; v++)
            for (int p = DP_NONE; p <= DP_HELP; p++) {
                assert_int_equal(dash_canvas_init(&c, sizes[i][0], sizes[i][1]), 0);
                u.view = (enum dash_view_id)v;
                u.prompt = (enum dash_prompt)p;
                dash_draw(&c, &m, &u, 102);
                free(text_of(&c));
            }
    dash_canvas_free(&c);
    dash_model_free(&m);
}

static void test_canvas(void **state)
{
    struct dash_canvas c = {0};
    char buf[64];
    assert_int_equal(dash_canvas_init(&c, 3, 10), 0);
    assert_int_equal(dash_canvas_put(&c, 0, 2, DA_BOLD, "hello"), 5);
    row_of(&c, 0, buf, sizeof buf);
    assert_string_equal(buf, "  hello");
    assert_int_equal(c.cells[2].attr, DA_BOLD);
    assert_int_equal(c.cells[1].attr, DA_NORMAL);
    /* cut at the right edge, never wrapped */
    assert_int_equal(dash_canvas_put(&c, 1, 6, 0, "abcdefgh"), 4);
    row_of(&c, 1, buf, sizeof buf);
    assert_string_equal(buf, "      abcd");
    row_of(&c, 2, buf, sizeof buf);
    assert_string_equal(buf, "");
    /* off the canvas: nothing */
    assert_int_equal(dash_canvas_put(&c, 3, 0, 0, "x"), 0);
    assert_int_equal(dash_canvas_put(&c, -1, 0, 0, "x"), 0);
    assert_int_equal(dash_canvas_put(&c, 0, 10, 0, "x"), 0);
    /* a negative column: the part left of the edge dropped */
    dash_canvas_put(&c, 2, -3, 0, "123456");
    row_of(&c, 2, buf, sizeof buf);
    assert_string_equal(buf, "456");
    /* controls and bytes past ASCII never reach the tty */
    dash_canvas_put(&c, 2, 0, 0, "a\tb\x1b\xc3\xa9");
    row_of(&c, 2, buf, sizeof buf);
    assert_string_equal(buf, "a?b???");
    assert_int_equal(dash_canvas_printf(&c, 1, 0, 0, "%d-%s", 42, "x"), 4);
    row_of(&c, 1, buf, sizeof buf);
    assert_string_equal(buf, "42-x  abcd");
    dash_canvas_bar(&c, 1, DA_REVERSE);
    for (int i = 0; i < 10; i++)
        assert_true(c.cells[10 + i].attr & DA_REVERSE);
    assert_false(c.cells[0].attr & DA_REVERSE);
    dash_canvas_bar(&c, 7, DA_REVERSE); /* off: nothing */
    /* a row into a short buffer is cut, NUL-terminated */
    row_of(&c, 0, buf, 4);
    assert_string_equal(buf, "  h");
    buf[0] = 'z';
    dash_canvas_row(&c, 0, buf, 1);
    assert_string_equal(buf, "");
    dash_canvas_row(&c, 9, buf, sizeof buf);
    assert_string_equal(buf, "");
    char *t = dash_canvas_text(&c);
    assert_string_equal(t, "  hello\n42-x  abcd\na?b???\n");
    free(t);
    dash_canvas_clear(&c);
    t = dash_canvas_text(&c);
    assert_string_equal(t, "\n\n\n");
    free(t);
    /* sizes below 1 are 1 */
    assert_int_equal(dash_canvas_init(&c, 0, -5), 0);
    assert_int_equal(c.rows, 1);
    assert_int_equal(c.cols, 1);
    dash_canvas_free(&c);
    assert_null(c.cells);
}

/* --- the keys ------------------------------------------------------------------------------- */

/* A key; the request it made checked as the run would read it. */
static struct dash_request key(struct dash_ui *u, const struct dash_model *m, int k)
{
    struct dash_request req;
    memset(&req, 0x5a, sizeof req);
    dash_key(u, m, k, &req);
    if (req.n) {
        struct live_req q;
        char err[256];
        if (live_req_parse(req.line, strlen(req.line), &q, err, sizeof err) != 0)
            fail_msg("the run refuses %s: %s", req.line, err);
        assert_string_equal(live_op_name(q.op), req.op);
    }
    return req;
}

static void keys(struct dash_ui *u, const struct dash_model *m, const char *s)
{
    for (; *s; s++) {
        struct dash_request r = key(u, m, (unsigned char)*s);
        assert_int_equal(r.n, 0);
    }
}

static void test_keys(void **state)
{
    struct dash_model m;
    struct dash_ui u;
    view_model(&m, &u);
    memset(&u, 0, sizeof u);
    struct dash_request r;

    /* pause, and once a reply says the fleets are paused, resume */
    r = key(&u, &m, 'p');
    assert_int_equal(r.n, 1);
    assert_string_equal(r.op, "pause");
    assert_string_equal(r.line, "{\"id\":1,\"op\":\"pause\"}");
    cJSON *rep = cJSON_Parse("{\"reply\": 1, \"ok\": true, \"paused\": [\"a\", \"b\"]}");
    dash_model_reply(&m, rep);
    cJSON_Delete(rep);
    r = key(&u, &m, 'p');
    assert_string_equal(r.line, "{\"id\":2,\"op\":\"resume\"}");
    rep = cJSON_Parse("{\"reply\": 2, \"ok\": true, \"paused\": []}");
    dash_model_reply(&m, rep);
    cJSON_Delete(rep);
    assert_string_equal(key(&u, &m, 'p').op, "pause");

    /* + and -: 10% of the selected fleet's active terminals (40 of a), rounded up */
    r = key(&u, &m, '+');
    assert_string_equal(r.line, "{\"id\":4,\"op\":\"resize\",\"fleet\":\"a\",\"delta\":4}");
    assert_string_equal(r.fleet, "a");
    assert_int_equal(r.delta, 4);
    r = key(&u, &m, '-');
    assert_string_equal(r.line, "{\"id\":5,\"op\":\"resize\",\"fleet\":\"a\",\"delta\":-4}");
    assert_int_equal(r.delta, -4);
    /* f: a disconnect of a tenth */
    r = key(&u, &m, 'f');
    assert_string_equal(r.line, "{\"id\":6,\"op\":\"disconnect\",\"fleet\":\"a\",\"fraction\":0.1}");
    assert_string_equal(r.fleet, "a");
    /* down to b (3 active): at least 1 */
    assert_int_equal(key(&u, &m, DK_DOWN).n, 0);
    assert_int_equal(u.sel, 1);
    key(&u, &m, DK_DOWN);
    assert_int_equal(u.sel, 1); /* the last fleet */
    r = key(&u, &m, '+');
    assert_string_equal(r.line, "{\"id\":7,\"op\":\"resize\",\"fleet\":\"b\",\"delta\":1}");
    r = key(&u, &m, 'f');
    assert_string_equal(r.fleet, "b");
    key(&u, &m, DK_UP);
    key(&u, &m, DK_UP);
    assert_int_equal(u.sel, 0);
    m.fleets[0].active = 1000;
    assert_string_equal(key(&u, &m, '-').line, "{\"id\":9,\"op\":\"resize\",\"fleet\":\"a\",\"delta\":-100}");
    /* a fleet so large that a tenth is more than a resize may move: the most it may */
    m.fleets[0].active = 4000000000;
    assert_string_equal(key(&u, &m, '+').line, "{\"id\":10,\"op\":\"resize\",\"fleet\":\"a\",\"delta\":100000000}");
    assert_int_equal(key(&u, &m, '-').delta, -LIVE_DELTA_MAX);
    m.fleets[0].active = 40;

    /* / + an id + Enter: an inspect of it, and the Terminal view */
    assert_int_equal(key(&u, &m, '/').n, 0);
    assert_int_equal(u.prompt, DP_SEARCH);
    keys(&u, &m, "0138qp?+/f"); /* typed, not obeyed */
    assert_string_equal(u.input, "0138qp?+/f");
    for (int i = 0; i < 6; i++)
        key(&u, &m, DK_BACKSPACE);
    keys(&u, &m, "00000001");
    assert_int_equal(u.view, DV_OVERVIEW);
    r = key(&u, &m, DK_ENTER);
    assert_string_equal(r.line, "{\"id\":12,\"op\":\"inspect\",\"terminal\":\"013800000001\"}");
    assert_string_equal(r.op, "inspect");
    assert_int_equal(u.prompt, DP_NONE);
    assert_int_equal(u.view, DV_TERMINAL);
    assert_string_equal(u.watching, "013800000001");
    /* an id with quotes and a backslash is sent as JSON */
    key(&u, &m, '/');
    keys(&u, &m, "a\"b\\c");
    r = key(&u, &m, DK_ENTER);
    assert_string_equal(r.line, "{\"id\":13,\"op\":\"inspect\",\"terminal\":\"a\\\"b\\\\c\"}");
    assert_string_equal(u.watching, "a\"b\\c");
    /* Enter on nothing typed: nothing asked */
    key(&u, &m, '/');
    assert_string_equal(u.input, "");
    assert_int_equal(key(&u, &m, DK_ENTER).n, 0);
    assert_int_equal(u.prompt, DP_NONE);
    /* Esc cancels the prompt: nothing asked, the view stays */
    u.view = DV_EVENTS;
    key(&u, &m, '/');
    keys(&u, &m, "77");
    assert_int_equal(key(&u, &m, DK_ESC).n, 0);
    assert_int_equal(u.prompt, DP_NONE);
    assert_int_equal(u.view, DV_EVENTS);
    assert_string_equal(u.watching, "a\"b\\c");
    /* the input holds what it can, controls and keys beyond ASCII ignored */
    key(&u, &m, '/');
    for (int i = 0; i < 100; i++)
        key(&u, &m, '0' + i % 10);
    key(&u, &m, DK_UP);
    key(&u, &m, '\t');
    assert_int_equal(strlen(u.input), sizeof u.input - 1);
    key(&u, &m, DK_ESC);

    /* tab cycles the views; 1-6 pick one */
    u.view = DV_OVERVIEW;
    for (int i = 1; i <= DV__COUNT; i++) {
        assert_int_equal(key(&u, &m, '\t').n, 0);
        assert_int_equal(u.view, i % DV__COUNT);
    }
    for (int i = DV__COUNT; i >= 1; i--) {
        key(&u, &m, '0' + i);
        assert_int_equal(u.view, i - 1);
    }
    key(&u, &m, '7');
    assert_int_equal(u.view, DV_OVERVIEW);

    /* ? opens the help; any key closes it, and does nothing else */
    key(&u, &m, '?');
    assert_int_equal(u.prompt, DP_HELP);
    assert_int_equal(key(&u, &m, 'p').n, 0);
    assert_int_equal(u.prompt, DP_NONE);
    key(&u, &m, '?');
    key(&u, &m, 'q');
    assert_int_equal(u.prompt, DP_NONE);
    assert_false(u.quit);

    /* Esc clears the message */
    snprintf(u.message, sizeof u.message, "asked");
    key(&u, &m, DK_ESC);
    assert_string_equal(u.message, "");

    /* q while the run goes: asked; n or Esc keep going, y quits */
    assert_true(dash_model_running(&m));
    key(&u, &m, 'q');
    assert_int_equal(u.prompt, DP_QUIT);
    assert_false(u.quit);
    assert_int_equal(key(&u, &m, 'p').n, 0); /* not a pause */
    assert_int_equal(u.prompt, DP_QUIT);
    key(&u, &m, 'n');
    assert_int_equal(u.prompt, DP_NONE);
    key(&u, &m, 'Q');
    key(&u, &m, DK_ESC);
    assert_int_equal(u.prompt, DP_NONE);
    assert_false(u.quit);
    key(&u, &m, 'q');
    key(&u, &m, 'y');
    assert_true(u.quit);
    /* no run going: q quits at once */
    memset(&u, 0, sizeof u);
    dash_model_gone(&m, 0, "it closed");
    key(&u, &m, 'q');
    assert_true(u.quit);
    assert_int_equal(u.prompt, DP_NONE);
    dash_model_free(&m);

    /* a run whose documents have no "live": 10% of the planned terminals (50 -> 5) */
    assert_int_equal(dash_model_init(&m), 0);
    dash_model_add_source(&m, "/s");
    feed(&m, 0, &(struct doc){.wall = 1, .planned = 50});
    assert_int_equal(dash_model_merge(&m, 1, 0), 1);
    memset(&u, 0, sizeof u);
    r = key(&u, &m, '+');
    assert_string_equal(r.line, "{\"id\":1,\"op\":\"resize\",\"fleet\":\"a\",\"delta\":5}");
    r = key(&u, &m, '-');
    assert_int_equal(r.delta, -5);
    dash_model_free(&m);

    /* no document yet: nothing to resize, said */
    assert_int_equal(dash_model_init(&m), 0);
    dash_model_add_source(&m, "/s");
    memset(&u, 0, sizeof u);
    assert_int_equal(key(&u, &m, '+').n, 0);
    assert_int_equal(key(&u, &m, 'f').n, 0);
    assert_true(u.msg_bad);
    assert_non_null(strstr(u.message, "no fleet selected"));
    r = key(&u, &m, 'p'); /* pause needs none */
    assert_string_equal(r.line, "{\"id\":1,\"op\":\"pause\"}");
    dash_model_free(&m);
}

static void test_reply_text(void **state)
{
    char buf[200];
    int bad = -1;
    cJSON *r = cJSON_Parse("{\"reply\": 4, \"ok\": true, \"fleet\": \"a\", \"was\": 40, \"active\": 44, \"max\": 60,"
                           " \"clamped\": \"at the fleet's max 60\"}");
    dash_reply_text(r, buf, sizeof buf, &bad);
    cJSON_Delete(r);
    assert_false(bad);
    assert_string_equal(buf, "ok, fleet a, was 40, active 44, max 60, clamped at the fleet's max 60");
    r = cJSON_Parse("{\"reply\": 5, \"ok\": false, \"error\": \"op \\\"resize\\\": member \\\"delta\\\": missing\"}");
    dash_reply_text(r, buf, sizeof buf, &bad);
    cJSON_Delete(r);
    assert_true(bad);
    assert_string_equal(buf, "refused: op \"resize\": member \"delta\": missing");
    r = cJSON_Parse("{\"reply\": 5}");
    dash_reply_text(r, buf, sizeof buf, &bad);
    cJSON_Delete(r);
    assert_string_equal(buf, "refused: (no reason given)");
    /* inspect's frames and counters are not for the message line; a short buffer is cut */
    r = cJSON_Parse(inspect_reply);
    dash_reply_text(r, buf, sizeof buf, &bad);
    assert_null(strstr(buf, "frames"));
    assert_null(strstr(buf, "pending"));
    assert_non_null(strstr(buf, "ok, fleet a, index 1, terminal 013800000001"));
    char small[16];
    dash_reply_text(r, small, sizeof small, &bad);
    assert_int_equal(strlen(small), sizeof small - 1);
    cJSON_Delete(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rates),
        cmocka_unit_test(test_cpu),
        cmocka_unit_test(test_sources_summed),
        cmocka_unit_test(test_bad_lines),
        cmocka_unit_test(test_live),
        cmocka_unit_test(test_inspect),
        cmocka_unit_test(test_views),
        cmocka_unit_test(test_views_empty),
        cmocka_unit_test(test_views_plain),
        cmocka_unit_test(test_prompts),
        cmocka_unit_test(test_canvas),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_reply_text),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
