/* The Prometheus exposition: a run snapshot rendered and read back by a strict
 * parser of the text format (every sample under a declared family of the right
 * type, names and labels well formed, histogram buckets cumulative up to +Inf =
 * _count), the values equal to the snapshot's, and the HTTP endpoint answering
 * GET /metrics, 404 elsewhere and 405 to other methods. */
#include <arpa/inet.h>
#include <ctype.h>
#include <math.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness/prom.h"
#include "harness/prom_http.h"
#include "harness/scenario.h"
#include "harness/snapshot.h"
#include "sim/platform/jt808/jt808_gw.h"
#include <cmocka.h>

static const char SCENARIO[] =
    "{\"name\": \"prom \\\"quoted\\\"\", \"duration\": \"10s\","
    " \"fleets\": [{\"id\": \"a\", \"protocol\": \"jt808\", \"count\": 10},"
    "              {\"id\": \"b\", \"protocol\": \"jt808\", \"count\": 5}],"
    " \"expect\": [{\"id\": \"X-001\", \"state\": \"authenticated\"}]}";

/* --- a strict reader of the text format --------------------------------------------- */

struct fam {
    char name[128];
    char type[16];
};

struct parsed {
    struct fam fams[512];
    int n_fams;
    int samples;
};

static bool name_ok(const char *s, size_t n)
{
    if (!n || !(isalpha((unsigned char)s[0]) || s[0] == '_' || s[0] == ':'))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == ':'))
            return false;
    return true;
}

static const struct fam *family_of(const struct parsed *p, const char *metric)
{
    for (int i = p->n_fams - 1; i >= 0; i--) {
        const struct fam *f = &p->fams[i];
        size_t l = strlen(f->name);
        if (strncmp(metric, f->name, l) != 0)
            continue;
        const char *rest = metric + l;
        if (!*rest)
            return f;
        if (strcmp(f->type, "histogram") == 0 &&
            (strcmp(rest, "_bucket") == 0 || strcmp(rest, "_sum") == 0 || strcmp(rest, "_count") == 0))
            return f;
    }
    return NULL;
}

/* Parse one sample line: name{labels} value.  Fails the test with the line on error. */
static void sample(struct parsed *p, const char *line, char *name, size_t ncap, char *labels, size_t lcap,
                   double *value)
{
    const char *s = line;
    size_t n = strcspn(s, "{ ");
    if (!name_ok(s, n) || n >= ncap)
        fail_msg("bad metric name in: %s", line);
    memcpy(name, s, n);
    name[n] = '\0';
    s += n;
    labels[0] = '\0';
    if (*s == '{') {
        const char *start = ++s;
        /* label="value" pairs, values with \\ \" \n escapes only */
        while (*s != '}') {
            size_t k = strcspn(s, "=");
            if (!name_ok(s, k) || s[k] != '=' || s[k + 1] != '"')
                fail_msg("bad label in: %s", line);
            s += k + 2;
            while (*s && *s != '"') {
                if (*s == '\\') {
                    if (s[1] != '\\' && s[1] != '"' && s[1] != 'n')
                        fail_msg("bad escape in: %s", line);
                    s++;
                }
                s++;
            }
            if (*s != '"')
                fail_msg("unterminated label value in: %s", line);
            s++;
            if (*s == ',')
                s++;
            else if (*s != '}')
                fail_msg("bad label list in: %s", line);
        }
        size_t l = (size_t)(s - start);
        if (l >= lcap)
            fail_msg("labels too long: %s", line);
        memcpy(labels, start, l);
        labels[l] = '\0';
        s++;
    }
    if (*s != ' ')
        fail_msg("no value in: %s", line);
    char *end;
    *value = strtod(s + 1, &end);
    if (end == s + 1 || *end)
        fail_msg("bad value in: %s", line);
    if (!family_of(p, name))
        fail_msg("sample of an undeclared family: %s", line);
    p->samples++;
}

/* Check the whole text; returns the value of the sample named exactly so (NAN if absent). */
static double check_text(const char *text, const char *want_name, const char *want_labels)
{
    static struct parsed p;
    memset(&p, 0, sizeof p);
    double want = NAN;
    char prev_bucket_key[512] = "";
    double prev_cum = -1, last_le = -1;
    const char *line = text;
    while (*line) {
        const char *nl = strchr(line, '\n');
        assert_non_null(nl); /* every line ends with a newline, the last too */
        char buf[2048];
        size_t l = (size_t)(nl - line);
        assert_true(l < sizeof buf);
        memcpy(buf, line, l);
        buf[l] = '\0';
        line = nl + 1;
        if (strncmp(buf, "# HELP ", 7) == 0)
            continue;
        if (strncmp(buf, "# TYPE ", 7) == 0) {
            struct fam *f = &p.fams[p.n_fams++];
            assert_true(p.n_fams < 512);
            assert_int_equal(sscanf(buf + 7, "%127s %15s", f->name, f->type), 2);
            for (int i = 0; i < p.n_fams - 1; i++)
                if (strcmp(p.fams[i].name, f->name) == 0)
                    fail_msg("family %s declared twice", f->name);
            if (strcmp(f->type, "counter") && strcmp(f->type, "gauge") && strcmp(f->type, "histogram"))
                fail_msg("bad type: %s", buf);
            if (strcmp(f->type, "counter") == 0 && !strstr(f->name, "_total"))
                fail_msg("a counter not named _total: %s", f->name);
            continue;
        }
        assert_true(buf[0] != '#');
        char name[256], labels[1024];
        double v;
        sample(&p, buf, name, sizeof name, labels, sizeof labels, &v);
        assert_true(v >= 0);
        size_t nl2 = strlen(name);
        if (nl2 > 7 && strcmp(name + nl2 - 7, "_bucket") == 0) {
            /* the labels before le identify the series: cumulative, le increasing */
            char *le = strstr(labels, "le=\"");
            assert_non_null(le);
            double lev = strncmp(le + 4, "+Inf", 4) == 0 ? INFINITY : strtod(le + 4, NULL);
            char key[512];
            snprintf(key, sizeof key, "%s|%.*s", name, (int)(le - labels), labels);
            if (strcmp(key, prev_bucket_key) == 0) {
                assert_true(lev > last_le);
                assert_true(v >= prev_cum);
            }
            snprintf(prev_bucket_key, sizeof prev_bucket_key, "%s", key);
            prev_cum = v;
            last_le = lev;
        } else if (nl2 > 6 && strcmp(name + nl2 - 6, "_count") == 0 && prev_bucket_key[0]) {
            assert_true(v == prev_cum); /* +Inf bucket = count */
        }
        if (want_name && strcmp(name, want_name) == 0 && strcmp(labels, want_labels ? want_labels : "") == 0)
            want = v;
    }
    assert_true(p.samples > 50);
    return want;
}

/* --- a snapshot to render ---------------------------------------------------------------- */

static struct scenario sc;
static struct stats_shm *shm;

static struct run_snapshot *make_snapshot(void)
{
    char err[512];
    if (scenario_parse(SCENARIO, "prom.json", &sc, err, sizeof err) < 0)
        fail_msg("%s", err);
    shm = calloc(1, sizeof *shm);
    assert_non_null(shm);
    for (int w = 0; w < 2; w++)
        for (int f = 0; f < 2; f++) {
            struct fleet_stats *fs = &shm->workers[w].fleets[f];
            hist_reset(&fs->report_latency);
            hist_reset(&fs->ack_latency);
            hist_reset(&fs->online_latency);
            fs->connects = 10 + (uint64_t)f;
            fs->connect_failures = 7;
            fs->connect_refused = 4;
            fs->connect_timeouts = 2;
            fs->reports_acked = 100;
            fs->dc[0] = 3;
            for (uint64_t k = 0; k < 200; k++)
                hist_record(&fs->report_latency, 40 + k * 997 % 300000);
        }
    shm->gateways[0].c[0] = 9;
    shm->gateways[0].accepted = 15;
    hist_reset(&shm->gateways[0].cmd_latency);
    hist_record(&shm->gateways[0].cmd_latency, 1500);
    shm->core.transactions = 12;
    struct run_snapshot *s = snapshot_new();
    assert_non_null(s);
    snapshot_begin(s, &sc, "fnv1a64:0000000000000001", 1, 1);
    snapshot_take(s, shm, 2, 1);
    s->embedded = 1;
    s->virtual_s = 4.5;
    s->time_scale = 1;
    return s;
}

static void test_render(void **state)
{
    struct run_snapshot *s = make_snapshot();
    struct prom_buf b = {0};
    assert_int_equal(prom_render(&b, s, &sc, &jt808_frontend, 2.5), 0);
    assert_non_null(b.p);
    b.p[b.len] = '\0';
    /* values as the snapshot has them (two workers add) */
    assert_true(check_text(b.p, "fleetsim_connects_total", "fleet=\"b\",protocol=\"jt808\"") == 22);
    assert_true(check_text(b.p, "fleetsim_connect_failures_total", "fleet=\"a\",protocol=\"jt808\",reason=\"refused\"") == 8);
    assert_true(check_text(b.p, "fleetsim_connect_failures_total", "fleet=\"a\",protocol=\"jt808\",reason=\"other\"") == 2);
    assert_true(check_text(b.p, "fleetsim_reports_acked_total", "fleet=\"a\",protocol=\"jt808\"") == 200);
    assert_true(check_text(b.p, "fleetsim_report_latency_seconds_count", "fleet=\"a\",protocol=\"jt808\"") == 400);
    assert_true(check_text(b.p, "fleetsim_terminal_heartbeats_total", "fleet=\"a\",protocol=\"jt808\"") == 6);
    assert_true(check_text(b.p, "fleetsim_gateway_bad_check_total", NULL) == 9);
    assert_true(check_text(b.p, "fleetsim_platform_accepted_total", NULL) == 15);
    assert_true(check_text(b.p, "fleetsim_core_transactions_total", NULL) == 12);
    assert_true(check_text(b.p, "fleetsim_run_virtual_seconds", NULL) == 4.5);
    /* the scenario's name, quotes escaped */
    assert_non_null(strstr(b.p, "fleetsim_run_info{scenario=\"prom \\\"quoted\\\"\",shard=\"1\",shards=\"1\"} 1\n"));
    /* a bucket holds what is at or under its bound: 40 us is under 50 us */
    double under50 = check_text(b.p, "fleetsim_report_latency_seconds_bucket", "fleet=\"a\",protocol=\"jt808\",le=\"5e-05\"");
    assert_true(under50 >= 2 && under50 < 400);
    prom_buf_free(&b);
    snapshot_free(s);
    free(shm);
    scenario_free(&sc);
    (void)state;
}

/* --- the endpoint ------------------------------------------------------------------------ */

static void http_get(uint16_t port, const char *request, char *out, size_t cap)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(send(fd, request, strlen(request), 0), (ssize_t)strlen(request));
    size_t got = 0;
    ssize_t n;
    while (got + 1 < cap && (n = recv(fd, out + got, cap - 1 - got, 0)) > 0)
        got += (size_t)n;
    out[got] = '\0';
    close(fd);
}

static void test_http(void **state)
{
    char err[256];
    assert_null(prom_http_start("127.0.0.1:99999", err, sizeof err));
    assert_non_null(strstr(err, "the port must be 0-65535"));
    assert_null(prom_http_start("localhost:80", err, sizeof err));
    assert_non_null(strstr(err, "is not an IPv4 address"));
    struct prom_http *h = prom_http_start("127.0.0.1:0", err, sizeof err);
    if (!h)
        fail_msg("%s", err);
    uint16_t port = prom_http_port(h);
    assert_true(port > 0);
    /* the same port again: a clear error */
    char again[32];
    snprintf(again, sizeof again, ":%u", port);
    assert_null(prom_http_start(again, err, sizeof err));
    assert_non_null(strstr(err, "cannot listen on 127.0.0.1:"));
    static const char text[] = "# HELP x_total X.\n# TYPE x_total counter\nx_total 1\n";
    assert_int_equal(prom_http_publish(h, text, sizeof text - 1), 0);
    static char resp[8192];
    http_get(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", resp, sizeof resp);
    assert_non_null(strstr(resp, "HTTP/1.1 200"));
    assert_non_null(strstr(resp, "text/plain; version=0.0.4"));
    assert_non_null(strstr(resp, "\r\n\r\n# HELP x_total X.\n# TYPE x_total counter\nx_total 1\n"));
    http_get(port, "GET /other HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", resp, sizeof resp);
    assert_non_null(strstr(resp, "HTTP/1.1 404"));
    http_get(port, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", resp,
             sizeof resp);
    assert_non_null(strstr(resp, "HTTP/1.1 405"));
    prom_http_stop(h);
    (void)state;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render),
        cmocka_unit_test(test_http),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
