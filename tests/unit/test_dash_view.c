/* The dashboard's views drawn from documents as a run sends them (a snapshot
 * and its "live" member) into canvases of every size: the latency bars of a very
 * wide terminal stay in their buffer, the Transitions view names every state
 * apart within 80 columns, the Events view keeps its columns whatever the id's
 * length, the Verdicts view does not show "0 / 0" as a pass, the quit prompt
 * says whether q y stops the run; every view, prompt
 * and overlay at sizes from 1x1 to 1000 columns (run under the sanitizers). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* before cmocka.h, whose expect_value() macro would rename harness/expect.h's function */
#include "harness/expect.h"
#include "harness/scenario.h"
#include "harness/snapshot.h"
#include "report/dash.h"
#include "sim/core/stats.h"
#include "sim/dev/term_state.h"

#include <cmocka.h>

static const char *scenario_text =
    "{\"name\": \"view\", \"duration\": \"60s\","
    " \"fleets\": [{\"id\": \"old\", \"protocol\": \"jt808\", \"version\": 2013, \"count\": 30},"
    "              {\"id\": \"new\", \"protocol\": \"jt808\", \"version\": 2019, \"count\": 20}],"
    " \"expect\": [{\"id\": \"ONLINE\", \"state\": \"authenticated\", \"within\": \"5s\"},"
    "              {\"id\": \"LEDGER\", \"ledger\": \"balanced\"}]}";

static const char *live_text =
    "{\"events\": ["
    "  {\"t\": 1.5, \"fleet\": \"old\", \"terminal\": \"013800000003\", \"kind\": \"timeout\","
    "   \"text\": \"0x0200 not answered\", \"hex\": \"7e0200\", \"decoded\": \"{}\"},"
    "  {\"t\": 2.25, \"fleet\": \"new\", \"terminal\": \"00000000013800000019\", \"kind\": \"decode_error\","
    "   \"text\": \"body: short\", \"hex\": \"7e8103\", \"decoded\": \"\"},"
    "  {\"t\": 3, \"fleet\": \"\", \"terminal\": \"013800000007\", \"kind\": \"deviation\","
    "   \"text\": \"gateway 0: 0x0200 deviates\", \"hex\": \"7e0201\", \"decoded\": \"\"}],"
    " \"verdicts\": [{\"id\": \"ONLINE\", \"verdict\": \"PASS\", \"expected\": \"all\", \"observed\": \"50 of 50\"}],"
    " \"paused\": [], \"active\": {\"old\": 30, \"new\": 20}, \"max\": {\"old\": 30, \"new\": 20}}";

static struct scenario sc;
static struct stats_shm *shm;
static struct dash_model m;

/* Fleet f's figures in both workers: everybody online, reports with latencies
 * from 50 us to 3 s (many octaves), n frames each way. */
static void fill(uint64_t n)
{
    memset(shm, 0, sizeof *shm);
    shm->n_workers = 2;
    shm->n_gateways = 1;
    for (int w = 0; w < 2; w++) {
        struct worker_slot *ws = &shm->workers[w];
        ws->phase = WP_RUNNING;
        ws->pid = 0; /* no /proc to read */
        ws->terminals = 25;
        for (int f = 0; f < sc.n_fleets; f++) {
            struct fleet_stats *st = &ws->fleets[f];
            uint64_t k = (uint64_t)sc.fleets[f].count / 2;
            st->in_state[TS_AUTHENTICATED] = k;
            for (int t = TS_CONNECTING; t <= TS_AUTHENTICATED; t++)
                st->reached[t] = k;
            st->frames_in = st->frames_out = n;
            st->reports_acked = n;
            hist_reset(&st->report_latency);
            hist_reset(&st->ack_latency);
            hist_reset(&st->online_latency);
            for (uint64_t i = 0; i < n; i++)
                hist_record(&st->report_latency, 50 + (i * 7919) % 3000000);
        }
    }
    shm->gateways[0].phase = WP_RUNNING;
    shm->gateways[0].connections = 50;
}

/* One document line: the snapshot of shm after wall seconds, with live when given. */
static char *document(double wall, int with_live)
{
    struct run_snapshot *s = snapshot_new();
    assert_non_null(s);
    snapshot_begin(s, &sc, "fnv1a64:0000000000000000", 1, 1);
    snapshot_take(s, shm, 2, 1);
    snprintf(s->started, sizeof s->started, "2026-01-01T00:00:00Z");
    s->time_scale = 1;
    s->interval_ms = 1000;
    s->embedded = 1;
    snprintf(s->frontend, sizeof s->frontend, "jt808");
    s->wall_s = s->virtual_s = wall;
    cJSON *j = snapshot_to_json(s);
    assert_non_null(j);
    if (with_live) {
        cJSON *live = cJSON_Parse(live_text);
        assert_non_null(live);
        cJSON_AddItemToObject(j, "live", live);
    }
    char *t = cJSON_PrintUnformatted(j);
    assert_non_null(t);
    cJSON_Delete(j);
    snapshot_free(s);
    return t;
}

static void feed(double wall, uint64_t n, int with_live)
{
    fill(n);
    char *t = document(wall, with_live), err[512];
    cJSON *reply = NULL;
    enum dash_line k = dash_model_line(&m, 0, t, strlen(t), &reply, err, sizeof err);
    if (k != DL_DOC)
        fail_msg("not a document: %s", err);
    cJSON_free(t);
    dash_model_merge(&m, wall, 1);
    assert_true(m.have_cur);
}

/* A model of two documents a second apart (rates and last-interval latencies). */
static void model(int with_live)
{
    dash_model_free(&m);
    assert_int_equal(dash_model_init(&m), 0);
    assert_int_equal(dash_model_add_source(&m, "/tmp/view.sock"), 0);
    feed(10, 400, with_live);
    feed(11, 800, with_live);
}

static char *draw(enum dash_view_id v, enum dash_prompt p, int rows, int cols)
{
    struct dash_canvas c = {0};
    assert_int_equal(dash_canvas_init(&c, rows, cols), 0);
    struct dash_ui u = {.view = v, .prompt = p};
    snprintf(u.watching, sizeof u.watching, "13800000001");
    snprintf(u.input, sizeof u.input, "1380");
    dash_draw(&c, &m, &u, 11);
    char *t = dash_canvas_text(&c);
    assert_non_null(t);
    dash_canvas_free(&c);
    return t;
}

/* Line n (from 0) of text, into buf. */
static const char *line_of(const char *text, int n, char *buf, size_t cap)
{
    for (; n > 0 && text; n--) {
        text = strchr(text, '\n');
        text = text ? text + 1 : NULL;
    }
    buf[0] = 0;
    if (text) {
        size_t l = strcspn(text, "\n");
        snprintf(buf, cap, "%.*s", (int)(l < cap ? l : cap - 1), text);
    }
    return buf;
}

static int setup(void **state)
{
    char err[512];
    (void)state;
    if (scenario_parse(scenario_text, "view.json", &sc, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    shm = calloc(1, sizeof *shm);
    return shm && dash_model_init(&m) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    dash_model_free(&m);
    free(shm);
    return 0;
}

/* The bars were built in a 256-byte buffer as long as half the width: from 544
 * columns on they ran past it. */
static void test_latency_wide(void **state)
{
    (void)state;
    model(1);
    static const int widths[] = {80, 160, 543, 544, 600, 1000};
    for (size_t i = 0; i < sizeof widths / sizeof *widths; i++) {
        char *t = draw(DV_LATENCY, DP_NONE, 40, widths[i]);
        assert_non_null(strstr(t, "LAST INTERVAL"));
        assert_non_null(strstr(t, "OVERALL"));
        assert_non_null(strstr(t, "#####"));
        free(t);
    }
}

static void test_transitions_labels(void **state)
{
    (void)state;
    model(1);
    char *t = draw(DV_TRANSITIONS, DP_NONE, 24, 80), l[256];
    int n = 0;
    while (n < 24 && strncmp(line_of(t, n, l, sizeof l), " FLEET ", 7) != 0)
        n++;
    assert_true(n < 24);
    assert_string_equal(l, " FLEET       connect conn-ok reg     reg-ok  auth    online  lost    unreg");
    assert_true(strlen(l) <= 80);
    assert_non_null(strstr(t, "\n old         30      30      30      30      30      30      0       0\n"));
    assert_non_null(strstr(t, "\n new         20      20      20      20      20      20      0       0\n"));
    free(t);
}

/* Each event's kind starts in the same column, the 2019 id's 20 digits or the
 * 2013 id's 12; a gateway's event has no fleet and the column stays. */
static void test_events_columns(void **state)
{
    (void)state;
    model(1);
    char *t = draw(DV_EVENTS, DP_NONE, 24, 120);
    const char *kinds[] = {"timeout", "decode_error", "deviation"};
    int at = -1;
    for (size_t k = 0; k < 3; k++) {
        const char *p = strstr(t, kinds[k]);
        assert_non_null(p);
        const char *bol = p;
        while (bol > t && bol[-1] != '\n')
            bol--;
        if (at < 0)
            at = (int)(p - bol);
        assert_int_equal((int)(p - bol), at);
    }
    assert_non_null(strstr(t, "\n     3.00s     013800000007         deviation    gateway 0: 0x0200 deviates\n"));
    assert_non_null(strstr(t, "\n     2.25s new 00000000013800000019 decode_error body: short\n"));
    assert_non_null(strstr(t, "\n   hex 7e8103\n"));
    free(t);
}

static void test_verdicts(void **state)
{
    (void)state;
    model(0);
    char *t = draw(DV_VERDICTS, DP_NONE, 24, 80);
    /* no live verdicts, no partials counted yet: not a pass */
    assert_non_null(strstr(t, "\n ONLINE              -\n"));
    assert_null(strstr(t, "0 / 0"));
    free(t);
    model(1);
    t = draw(DV_VERDICTS, DP_NONE, 24, 80);
    assert_non_null(strstr(t, "\n ONLINE              PASS          all / 50 of 50\n"));
    free(t);
}

/* The run's answer when it cannot show the terminal searched, in the view that waits for it. */
static void test_terminal_error(void **state)
{
    (void)state;
    model(1);
    struct dash_canvas c = {0};
    assert_int_equal(dash_canvas_init(&c, 24, 80), 0);
    struct dash_ui u = {.view = DV_TERMINAL};
    snprintf(u.watching, sizeof u.watching, "99999");
    char l[128];
    dash_draw(&c, &m, &u, 11);
    dash_canvas_row(&c, 4, l, sizeof l);
    assert_string_equal(l, " terminal 99999: asking the run...");
    snprintf(u.watch_error, sizeof u.watch_error, "inspect: no fleet has a terminal \"99999\"");
    dash_draw(&c, &m, &u, 11);
    dash_canvas_row(&c, 4, l, sizeof l);
    assert_string_equal(l, " terminal 99999: inspect: no fleet has a terminal \"99999\"");
    dash_canvas_free(&c);
}

/* The quit prompt says what q y does: run --dash stops the run, top leaves it going. */
static void test_quit_prompt(void **state)
{
    (void)state;
    model(1);
    struct dash_canvas c = {0};
    assert_int_equal(dash_canvas_init(&c, 24, 80), 0);
    struct dash_ui u = {.view = DV_OVERVIEW, .prompt = DP_QUIT};
    char l[128];
    dash_draw(&c, &m, &u, 11);
    dash_canvas_row(&c, 22, l, sizeof l);
    assert_string_equal(l, " the run is going: quit and stop it? (y/n)");
    u.watch_only = 1;
    dash_draw(&c, &m, &u, 11);
    dash_canvas_row(&c, 22, l, sizeof l);
    assert_string_equal(l, " the run is going: leave it? it goes on without the dashboard (y/n)");
    dash_canvas_free(&c);
}

/* Every view with every prompt at every size: nothing written outside the
 * canvas (the sanitizers watch), nothing drawn past its width. */
static void test_every_size(void **state)
{
    (void)state;
    static const int sizes[][2] = {{1, 1}, {2, 10}, {5, 20}, {24, 80}, {48, 160}, {30, 600}, {60, 1000}};
    static const enum dash_prompt prompts[] = {DP_NONE, DP_SEARCH, DP_QUIT, DP_HELP};
    for (int live = 0; live < 2; live++) {
        model(live);
        for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
            for (int v = 0; v < DV__COUNT; v++)
                for (size_t p = 0; p < sizeof prompts / sizeof *prompts; p++) {
                    char *t = draw((enum dash_view_id)v, prompts[p], sizes[s][0], sizes[s][1]);
                    int lines = 0;
                    for (const char *q = t; *q; lines++) {
                        size_t l = strcspn(q, "\n");
                        assert_true((int)l <= sizes[s][1]);
                        q += l + (q[l] == '\n');
                    }
                    assert_int_equal(lines, sizes[s][0]);
                    free(t);
                }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_latency_wide),
        cmocka_unit_test(test_transitions_labels),
        cmocka_unit_test(test_events_columns),
        cmocka_unit_test(test_verdicts),
        cmocka_unit_test(test_quit_prompt),
        cmocka_unit_test(test_terminal_error),
        cmocka_unit_test(test_every_size),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
