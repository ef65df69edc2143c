/* report.html: escaping, the verdict matrix, the plots drawn from a snapshot
 * (and their absence without one), the bound on the points of a timeline. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/snapshot.h"
#include "report/report.h"
#include "sim/core/metrics.h"

struct fixture {
    char dir[64];
    char path[128];
    char *html;           /* the page written, read back */
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    strcpy(fx->dir, "/tmp/test_report_html.XXXXXX");
    if (!mkdtemp(fx->dir)) {
        free(fx);
        return -1;
    }
    snprintf(fx->path, sizeof fx->path, "%s/report.html", fx->dir);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    unlink(fx->path);
    rmdir(fx->dir);
    free(fx->html);
    free(fx);
    return 0;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf)
        buf[n] = '\0';
    return buf;
}

/* Writes r, reads the page back into fx->html. */
static const char *render(struct fixture *fx, const struct run_report *r)
{
    char err[256] = "";
    int rc = report_write_html(r, fx->path, err, sizeof err);
    if (rc != 0)
        fail_msg("report_write_html: %s", err);
    free(fx->html);
    fx->html = slurp(fx->path);
    assert_non_null(fx->html);
    return fx->html;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + strlen(needle), needle))
        n++;
    return n;
}

static void add(struct run_report *r, const char *id, const char *suite, enum verdict v, const char *desc)
{
    struct case_result c;
    memset(&c, 0, sizeof c);
    snprintf(c.id, sizeof c.id, "%s", id);
    snprintf(c.suite, sizeof c.suite, "%s", suite);
    snprintf(c.desc, sizeof c.desc, "%s", desc);
    snprintf(c.expected, sizeof c.expected, "expected of %s", id);
    snprintf(c.observed, sizeof c.observed, "observed of %s", id);
    c.verdict = v;
    c.duration_s = 0.25;
    assert_non_null(report_add_case(r, &c));
}

static void test_escaping(void **state)
{
    struct fixture *fx = *state;
    struct run_report r;
    report_init(&r, "<b>scen</b>", "dir/\"q\".json");
    struct case_result c;
    memset(&c, 0, sizeof c);
    snprintf(c.id, sizeof c.id, "<script>alert(1)</script>");
    snprintf(c.desc, sizeof c.desc, "a & b 'c' \xE4\xB8\xAD\xE6\x96\x87");
    snprintf(c.expected, sizeof c.expected, "\"><img src=x onerror=alert(2)>");
    snprintf(c.observed, sizeof c.observed, "ctl \x01\x7f here");
    snprintf(c.suite, sizeof c.suite, "s\"uite<");
    c.verdict = VERDICT_FAIL;
    /* the wire log is copied as is (report_add_case only repairs UTF-8): a
     * closing tag and a C1 control character must not survive */
    c.wire_log = "7e 01 02 7e </pre><script>alert(3)</script> \xC2\x85 &amp;\n";
    assert_non_null(report_add_case(&r, &c));
    snprintf(r.ledger_text, sizeof r.ledger_text, "<i>ledger</i>");
    snprintf(r.errors_text, sizeof r.errors_text, "decode errors 2 <x>");
    const char *h = render(fx, &r);

    assert_int_equal(count(h, "<script>"), 1);          /* the page's own, at the end */
    assert_null(strstr(h, "<script>alert"));
    assert_non_null(strstr(h, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_null(strstr(h, "<img"));
    assert_non_null(strstr(h, "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"));
    assert_null(strstr(h, "</pre><script>"));
    assert_non_null(strstr(h, "&lt;/pre&gt;&lt;script&gt;alert(3)"));
    assert_non_null(strstr(h, "&amp;amp;"));             /* an entity in the text is text */
    assert_non_null(strstr(h, "a &amp; b &#39;c&#39; \xE4\xB8\xAD\xE6\x96\x87"));
    assert_non_null(strstr(h, "&lt;b&gt;scen&lt;/b&gt;"));
    assert_non_null(strstr(h, "dir/&quot;q&quot;.json"));
    assert_non_null(strstr(h, "data-suite=\"s&quot;uite&lt;\""));
    assert_non_null(strstr(h, "&lt;i&gt;ledger&lt;/i&gt;"));
    assert_non_null(strstr(h, "decode errors 2 &lt;x&gt;"));
    /* controls the HTML parser reports as errors become U+FFFD */
    assert_null(strchr(h, '\x01'));
    assert_null(strchr(h, '\x7f'));
    assert_null(strstr(h, "\xC2\x85"));
    assert_non_null(strstr(h, "ctl \xEF\xBF\xBD\xEF\xBF\xBD here"));
    report_free(&r);
}

static void test_matrix_cell_per_case(void **state)
{
    struct fixture *fx = *state;
    struct run_report r;
    report_init(&r, "scen", "scen.json");
    add(&r, "JT808-REG-001", "jt808", VERDICT_PASS, "registration");
    add(&r, "JT808-REG-002", "jt808", VERDICT_FAIL, "registration refused");
    add(&r, "PCP-CRC-001", "pcp", VERDICT_INCONCLUSIVE, "crc");
    add(&r, "JT808-AUTH-001", "jt808", VERDICT_ERROR, "auth");
    add(&r, "PERF-001", "", VERDICT_PASS, "a scenario's case");
    const char *h = render(fx, &r);

    assert_int_equal(count(h, "<a class=\"cell "), 5);
    assert_int_equal(count(h, "<tr class=\"mrow\">"), 3);  /* jt808, pcp, and the scenario's */
    assert_int_equal(count(h, "<article class=\"case "), 5);
    char want[160];
    for (int i = 0; i < 5; i++) {
        snprintf(want, sizeof want, "href=\"#case-%d\"", i);
        assert_int_equal(count(h, want), 1);
        snprintf(want, sizeof want, "id=\"case-%d\"", i);
        assert_int_equal(count(h, want), 1);
    }
    /* colour and a text label both */
    assert_non_null(strstr(h, "<a class=\"cell fail\" href=\"#case-1\" data-verdict=\"FAIL\" data-suite=\"jt808\""));
    assert_non_null(strstr(h, "JT808-REG-002<span>FAIL</span></a>"));
    assert_non_null(strstr(h, "<a class=\"cell inconclusive\" href=\"#case-2\" data-verdict=\"INCONCLUSIVE\" "
                              "data-suite=\"pcp\""));
    assert_non_null(strstr(h, "<a class=\"cell error\" href=\"#case-3\""));
    assert_non_null(strstr(h, "<a class=\"cell pass\" href=\"#case-4\" data-verdict=\"PASS\" data-suite=\"scen\""));
    /* the suites of the filter, and the filter hidden until the script shows it */
    assert_non_null(strstr(h, "<option value=\"pcp\">pcp</option>"));
    assert_non_null(strstr(h, "<div id=\"filter\" hidden>"));
    /* the overall verdict is the worst */
    assert_non_null(strstr(h, "<span class=\"badge error\" id=\"overall\">ERROR</span>"));
    /* the JT808-REG-001 cells come in the jt808 row, before the pcp row */
    assert_true(strstr(h, "JT808-AUTH-001<span>") < strstr(h, "<th scope=\"row\">pcp</th>"));
    report_free(&r);
}

static void test_no_timeline(void **state)
{
    struct fixture *fx = *state;
    struct run_report r;
    report_init(&r, "scen", "scen.json");
    add(&r, "A-001", "", VERDICT_PASS, "a");
    const char *h = render(fx, &r);
    assert_null(strstr(h, "<svg"));
    assert_non_null(strstr(h, "id=\"no-timeline\""));
    assert_non_null(strstr(h, "no run snapshot"));

    /* a snapshot without samples: still no timeline plots, and it says so */
    struct run_snapshot *s = snapshot_new();
    assert_non_null(s);
    s->n_fleets = 1;
    snprintf(s->fleets[0].id, sizeof s->fleets[0].id, "a");
    hist_reset(&s->fleets[0].st.report_latency);
    r.snapshot = snapshot_to_json(s);
    assert_non_null(r.snapshot);
    h = render(fx, &r);
    assert_null(strstr(h, "<svg"));
    assert_non_null(strstr(h, "id=\"no-timeline\""));
    assert_non_null(strstr(h, "id=\"no-histogram\""));
    snapshot_free(s);
    report_free(&r);
}

/* A snapshot of n ticks, reports_per_s = 10 except spike_at (1000), each tick
 * with a report latency of 1 to 3 ms and fleet a's histogram of all of them. */
static cJSON *timeline(size_t n, size_t spike_at)
{
    struct run_snapshot *s = snapshot_new();
    assert_non_null(s);
    s->interval_ms = 1000;
    s->n_fleets = 1;
    snprintf(s->fleets[0].id, sizeof s->fleets[0].id, "a");
    s->fleets[0].planned = 50;
    struct hist *all = &s->fleets[0].st.report_latency, w;
    hist_reset(all);
    for (size_t i = 0; i < n; i++) {
        hist_reset(&w);
        if (i % 7 != 3) {   /* ticks without reports leave a gap in the latency plot */
            hist_record(&w, 1000);
            hist_record(&w, 2000);
            hist_record(&w, 3000);
            hist_record(all, 1000);
            hist_record(all, 2000);
            hist_record(all, 3000);
        }
        struct snapshot_sample x = {.tick = (uint32_t)i + 1, .t_s = (double)(i + 1), .online = 50,
                                    .reports_per_s = i == spike_at ? 1000 : 10, .disconnects = i / 100};
        assert_int_equal(snapshot_add_sample(s, &x, &w), 0);
    }
    cJSON *j = snapshot_to_json(s);
    assert_non_null(j);
    snapshot_free(s);
    return j;
}

/* The points of the first path of the plot of that id, their y coordinates into ys. */
static int path_points(const char *h, const char *plot, double *ys, int cap)
{
    char key[64];
    snprintf(key, sizeof key, "<figure class=\"plot\" id=\"%s\">", plot);
    const char *p = strstr(h, key);
    assert_non_null(p);
    p = strstr(p, " d=\"");
    assert_non_null(p);
    p += 4;
    int n = 0;
    while (*p && *p != '"') {
        while (*p == ' ' || *p == 'M' || *p == 'L')
            p++;
        char *end;
        strtod(p, &end);   /* x */
        assert_true(end != p);
        double y = strtod(end, &end);
        if (n < cap)
            ys[n] = y;
        n++;
        p = end;
    }
    return n;
}

static void test_timeline_plots(void **state)
{
    struct fixture *fx = *state;
    struct run_report r;
    report_init(&r, "scen", "scen.json");
    add(&r, "A-001", "", VERDICT_PASS, "a");
    r.snapshot = timeline(20, 5);
    const char *h = render(fx, &r);
    assert_int_equal(count(h, "<svg"), 5);
    const char *ids[] = {"plot-throughput", "plot-online", "plot-latency", "plot-errors", "plot-histogram"};
    for (size_t i = 0; i < 5; i++) {
        char key[64];
        snprintf(key, sizeof key, "id=\"%s\"", ids[i]);
        assert_non_null(strstr(h, key));
    }
    assert_null(strstr(h, "no-timeline"));
    double ys[32];
    assert_int_equal(path_points(h, "plot-throughput", ys, 32), 20);
    /* ticks 4, 11 and 18 had no report: no latency point, the pen lifts */
    assert_int_equal(path_points(h, "plot-latency", ys, 32), 17);
    const char *lat = strstr(h, "id=\"plot-latency\"");
    assert_non_null(lat);
    const char *d = strstr(lat, "data-series=\"p50\" d=\"");
    assert_non_null(d);
    const char *end = strchr(d + 21, '"');
    int moves = 0;
    for (const char *q = d + 21; q < end; q++)
        moves += *q == 'M';
    assert_int_equal(moves, 4);
    /* axes with units: virtual seconds, reports/s, milliseconds, the log axis in time units */
    assert_non_null(strstr(h, "virtual time since the start (s)"));
    assert_non_null(strstr(h, ">reports/s</text>"));
    assert_non_null(strstr(h, ">latency (ms)</text>"));
    assert_non_null(strstr(h, ">1ms</text>"));
    assert_non_null(strstr(h, ">10ms</text>"));
    /* the histogram: a bar per non-empty bucket (1, 2 and 3 ms) */
    const char *hist = strstr(h, "id=\"plot-histogram\"");
    assert_non_null(hist);
    assert_int_equal(count(hist, "<rect class=\"bar\""), 3);
    /* the fleet's row: planned, and p50 of 1, 2 and 3 ms: the upper bound of 2 ms's bucket */
    assert_non_null(strstr(h, "<tr><td>a</td><td class=\"num\">50</td>"));
    char p50[64];
    snprintf(p50, sizeof p50, "<td class=\"num\">%.3gms</td>", (double)hist_bucket_upper(hist_bucket(2000)) / 1e3);
    assert_non_null(strstr(h, p50));
    report_free(&r);
}

static void test_downsampling_bound(void **state)
{
    struct fixture *fx = *state;
    struct run_report r;
    report_init(&r, "scen", "scen.json");
    add(&r, "A-001", "", VERDICT_PASS, "a");
    size_t n = 5000;
    r.snapshot = timeline(n, 2345);
    const char *h = render(fx, &r);
    static double ys[REPORT_HTML_MAX_POINTS + 1];
    int np = path_points(h, "plot-throughput", ys, REPORT_HTML_MAX_POINTS + 1);
    size_t per = (n + REPORT_HTML_MAX_POINTS - 1) / REPORT_HTML_MAX_POINTS;
    assert_true(np <= REPORT_HTML_MAX_POINTS);
    assert_int_equal(np, (int)((n + per - 1) / per));
    char note[64];
    snprintf(note, sizeof note, "(each point: the highest of %zu ticks)", per);
    assert_non_null(strstr(h, note));
    /* the one spike survives: one point far above the others (y grows downward) */
    int top = 0;
    for (int i = 1; i < np; i++)
        if (ys[i] < ys[top])
            top = i;
    assert_int_equal(top, (int)(2345 / per));
    for (int i = 0; i < np; i++)
        if (i != top)
            assert_true(ys[i] > ys[top] + 100);
    for (size_t k = 0; k < 4; k++) {
        const char *plots[] = {"plot-online", "plot-latency", "plot-errors", "plot-throughput"};
        assert_true(path_points(h, plots[k], ys, REPORT_HTML_MAX_POINTS + 1) <= REPORT_HTML_MAX_POINTS);
    }
    report_free(&r);
}

/* Values no run writes (a hand-edited report; 1.7e308 rounds up past the largest
 * double on the axis): the page is still drawn, with
 * short coordinates and a bounded number of axis ticks. */
static void test_odd_values(void **state)
{
    struct fixture *fx = *state;
    struct run_report r;
    report_init(&r, "scen", "scen.json");
    r.snapshot = cJSON_Parse("{\"fleets\": [{\"id\": 7, \"planned\": -3, \"report_latency\": {\"n\": 5, "
                             "\"buckets\": [[-1, 2], [99999, 1], [\"x\", 1], [70, 4294967295], [70, 9]]}}],"
                             " \"timeline\": [{\"t_s\": -5, \"reports_per_s\": 1.7e308, \"online\": \"12\"},"
                             " {\"t_s\": 1e307, \"reports_per_s\": -1e308, \"pending\": 1.5},"
                             " {\"report_latency\": {\"n\": 1, \"max\": 1e300, \"buckets\": [[1183, 1]]}}, 3]}");
    assert_non_null(r.snapshot);
    const char *h = render(fx, &r);
    assert_int_equal(count(h, "<svg"), 5);
    assert_true(strlen(h) < 200000);
    assert_true(count(h, "class=\"yl\"") <= 5 * 25);
    assert_non_null(strstr(h, "<tr><td>?</td>"));   /* a fleet id that is not a string */
    report_free(&r);
}

static void test_unwritable(void **state)
{
    struct fixture *fx = *state;
    struct run_report r;
    report_init(&r, "scen", "scen.json");
    char path[192], err[256] = "";
    snprintf(path, sizeof path, "%s/no/such/dir/report.html", fx->dir);
    assert_int_equal(report_write_html(&r, path, err, sizeof err), -1);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "No such file"));
    report_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_escaping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_matrix_cell_per_case, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_timeline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeline_plots, setup, teardown),
        cmocka_unit_test_setup_teardown(test_downsampling_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_odd_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unwritable, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
