/* report.json read back (harness/report_read.c) and conformance reports merged
 * (harness/conform_report.c): what report_write_json writes reads back equal;
 * damaged reports are refused with the file and the JSON path; the merge of a
 * run's shards is the whole run's, a case in two reports keeps its worst
 * verdict, and a missing shard is refused. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness/conform.h"
#include "harness/conform_report.h"
#include "harness/report_read.h"
#include "harness/textfile.h"
#include "report/report.h"
#include "scratch.h"

static const char *argv0;
static char dir[512];
static char err[8192];

static void has(const char *text, const char *part)
{
    if (strstr(text, part) == NULL)
        fail_msg("expected \"%s\" in:\n%s", part, text);
}

static void add(struct run_report *r, const char *id, enum verdict v, const char *wire)
{
    struct case_result c;
    memset(&c, 0, sizeof c);
    snprintf(c.id, sizeof c.id, "%s", id);
    snprintf(c.area, sizeof c.area, "jt808.8.%zu", strlen(id) % 7);
    snprintf(c.desc, sizeof c.desc, "objective of %s, \"quoted\" and \xE4\xB8\xAD", id);
    snprintf(c.ref, sizeof c.ref, "JT/T 808-2013 8.%d", (int)(strlen(id) % 9));
    snprintf(c.level, sizeof c.level, "MUST");
    snprintf(c.suite, sizeof c.suite, "jt808");
    c.verdict = v;
    snprintf(c.expected, sizeof c.expected, "0x8001 result 0");
    snprintf(c.observed, sizeof c.observed, "%s", v == VERDICT_PASS ? "as expected" : "0x8001 result 2");
    c.duration_s = 0.125 * (double)strlen(id);
    c.wire_log = (char *)wire;
    assert_non_null(report_add_case(r, &c));
}

/* A conformance report as fleetsim conform writes it: shard k of n of the run
 * that chose ids[0..n_ids), holding the cases at positions i % n == k - 1. */
static void conform_report(struct run_report *r, const char *const *ids, int n_ids, int k, int n,
                           const enum verdict *v)
{
    report_init(r, "conform", "jt808");
    snprintf(r->ledger_text, sizeof r->ledger_text, "shard %d/%d", k, n);
    r->duration_s = 1.5 * k;
    for (int i = 0; i < n_ids; i++)
        if (conform_in_shard(i, (uint32_t)k, (uint32_t)n))
            add(r, ids[i], v ? v[i] : VERDICT_PASS, i % 2 ? "-> 7E000200000139800000010001027E\n" : NULL);
    cJSON_AddStringToObject(r->metrics, "target", "embedded");
    cJSON *nr = cJSON_AddArrayToObject(r->metrics, "not_run");
    cJSON_AddItemToArray(nr, cJSON_CreateString("JT808-AUTH-005"));
    cJSON_AddNumberToObject(r->metrics, "jobs", 2);
    cJSON *sh = cJSON_AddArrayToObject(r->metrics, "shards"), *g = cJSON_CreateObject();
    cJSON_AddItemToArray(sh, g);
    cJSON_AddNumberToObject(g, "count", n);
    cJSON *of = cJSON_AddArrayToObject(g, "of");
    cJSON_AddItemToArray(of, cJSON_CreateNumber(k));
    cJSON *cs = cJSON_AddArrayToObject(g, "cases");
    for (int i = 0; i < n_ids; i++)
        cJSON_AddItemToArray(cs, cJSON_CreateString(ids[i]));
}

static char *slurp(const char *path)
{
    char *t;
    size_t n;
    assert_int_equal(textfile_read(path, 1u << 26, &t, &n), 0);
    return t;
}

static void path_of(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

static void test_round_trip(void **state)
{
    (void)state;
    struct run_report r, back;
    char p1[600], p2[600];
    report_init(&r, "conform", "jt808,jt808-one-party");
    r.duration_s = 12.25;
    r.virtual_s = 3;
    r.ledger_balanced = 0;
    snprintf(r.ledger_text, sizeof r.ledger_text, "44 cases run against the embedded platform");
    add(&r, "JT808-REG-001", VERDICT_PASS, "-> 7E0100...7E  0x0100 registration\n<- 7E8100...7E\n");
    add(&r, "JT808-AUTH-002", VERDICT_FAIL, NULL);
    add(&r, "JT808-HB-001", VERDICT_INCONCLUSIVE, "");
    struct case_result bare;
    memset(&bare, 0, sizeof bare);
    snprintf(bare.id, sizeof bare.id, "RUN-001");   /* no ref, level or suite: not written */
    bare.verdict = VERDICT_ERROR;
    assert_non_null(report_add_case(&r, &bare));
    r.errors = cJSON_Parse("{\"connect\": {\"refused\": 3}}");
    cJSON_AddStringToObject(r.metrics, "target", "embedded");
    cJSON_AddNumberToObject(r.metrics, "jobs", 1);
    path_of(p1, sizeof p1, "rt1.json");
    path_of(p2, sizeof p2, "rt2.json");
    assert_int_equal(report_write_json(&r, p1, err, sizeof err), 0);
    if (report_load_json(p1, &back, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_string_equal(back.scenario, r.scenario);
    assert_string_equal(back.scenario_path, r.scenario_path);
    assert_string_equal(back.started, r.started);
    assert_true(back.duration_s == r.duration_s);
    assert_true(back.virtual_s == r.virtual_s);
    assert_int_equal(back.ledger_balanced, 0);
    assert_string_equal(back.ledger_text, r.ledger_text);
    assert_int_equal(back.n_cases, r.n_cases);
    for (int i = 0; i < r.n_cases; i++) {
        const struct case_result *a = &r.cases[i], *b = &back.cases[i];
        assert_string_equal(a->id, b->id);
        assert_string_equal(a->area, b->area);
        assert_string_equal(a->desc, b->desc);
        assert_string_equal(a->ref, b->ref);
        assert_string_equal(a->level, b->level);
        assert_string_equal(a->suite, b->suite);
        assert_int_equal(a->verdict, b->verdict);
        assert_string_equal(a->expected, b->expected);
        assert_string_equal(a->observed, b->observed);
        assert_true(a->duration_s == b->duration_s);
        if (a->wire_log)
            assert_string_equal(a->wire_log, b->wire_log);
        else
            assert_null(b->wire_log);
    }
    assert_true(cJSON_Compare(r.errors, back.errors, 1));
    assert_true(cJSON_Compare(r.metrics, back.metrics, 1));
    assert_null(back.snapshot);
    /* and written again: the same bytes */
    assert_int_equal(report_write_json(&back, p2, err, sizeof err), 0);
    char *t1 = slurp(p1), *t2 = slurp(p2);
    assert_string_equal(t1, t2);
    free(t1);
    free(t2);
    report_free(&back);
    /* an empty report too */
    report_free(&r);
    report_init(&r, "conform", "");
    r.started[0] = '\0';
    assert_int_equal(report_write_json(&r, p1, err, sizeof err), 0);
    if (report_load_json(p1, &back, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(back.n_cases, 0);
    assert_string_equal(back.started, "");
    report_free(&back);
    report_free(&r);
}

/* text with each of edits applied in turn (find -> replace) must be refused with want. */
static void refused(const char *text, const char *find, const char *replace, const char *want)
{
    const char *at = strstr(text, find);
    if (!at)
        fail_msg("\"%s\" is not in the report", find);
    size_t n = strlen(text) - strlen(find) + strlen(replace);
    char *t = malloc(n + 1);
    assert_non_null(t);
    snprintf(t, n + 1, "%.*s%s%s", (int)(at - text), text, replace, at + strlen(find));
    struct run_report r;
    err[0] = '\0';
    if (conform_report_parse(t, n, "r.json", &r, err, sizeof err) == 0)
        fail_msg("accepted with \"%s\" for \"%s\"", replace, find);
    has(err, want);
    assert_int_equal(r.n_cases, 0);
    report_free(&r);
    free(t);
}

static const char *const ids6[] = {"JT808-REG-001", "JT808-AUTH-001", "JT808-AUTH-002", "JT808-HB-001",
                                   "JT808-FLEET-001", "JT808-FLEET-002"};

static void test_refusals(void **state)
{
    (void)state;
    struct run_report r;
    char p[600];
    conform_report(&r, ids6, 6, 1, 1, NULL);
    path_of(p, sizeof p, "good.json");
    assert_int_equal(report_write_json(&r, p, err, sizeof err), 0);
    report_free(&r);
    char *t = slurp(p);
    /* it reads */
    if (conform_report_parse(t, strlen(t), "r.json", &r, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(r.n_cases, 6);
    report_free(&r);

    /* the report's own fields */
    refused(t, "\"virtual_s\"", "\"virtual\"", "r.json: virtual");
    refused(t, "\"verdict\":\t\"PASS\",\n\t\"ledger\"", "\"verdict\":\t\"FAIL\",\n\t\"ledger\"",
            "r.json: verdict: FAIL, but the worst verdict of the cases is PASS");
    refused(t, "\"duration_s\":\t1.5", "\"duration_s\":\t-1.5", "r.json: duration_s: expected a number of seconds >= 0");
    refused(t, "\"started\":\t\"", "\"started\":\t\"yesterday", "r.json: started: expected a UTC time");
    refused(t, "\"balanced\":\ttrue", "\"balanced\":\t1", "r.json: ledger.balanced: expected true or false");
    refused(t, "\"errors\":\t{", "\"errors\":\t[], \"x\": {", "r.json: errors: expected an object");
    refused(t, "{", "[", "r.json:");
    refused(t, "\"ledger\"", "\"path\": \"again\", \"ledger\"", "r.json: path");
    /* a case's */
    refused(t, "\"verdict\":\t\"PASS\",\n\t\t\t\"expected\"", "\"verdict\":\t\"MAYBE\",\n\t\t\t\"expected\"",
            "r.json: cases[0].verdict: ");
    refused(t, "\"level\":\t\"MUST\"", "\"level\":\t\"MUSTN'T\"", "r.json: cases[0].level: ");
    refused(t, "\"id\":\t\"JT808-AUTH-001\"", "\"id\":\t\"JT808-AUTH-001-and-a-name-longer-than-the-48-bytes-of-an-id\"",
            "r.json: cases[1].id: too long: at most 47 bytes");
    refused(t, "\"id\":\t\"JT808-AUTH-001\"", "\"id\":\t\"JT808-REG-001\"", "r.json: cases[1]: id JT808-REG-001 is also cases[0]'s");
    refused(t, "\"observed\":\t\"as expected\"", "\"observed\":\t\"as \\u00e9xpected\", \"obsreved\": \"\"",
            "r.json: cases[0].obsreved");
    refused(t, "\"observed\":\t\"as expected\"", "\"observed\":\t7", "r.json: cases[0].observed: expected a string");
    refused(t, "\"wire_log\":\t\"", "\"wire_log\":\t7, \"log\":\t\"", "r.json: cases[1].wire_log: expected a string");
    refused(t, "\"duration_s\":\t1.625", "\"duration_s\":\t\"1.625\"", "r.json: cases[0].duration_s:");
    refused(t, "\"id\":\t\"JT808-REG-001\",", "", "r.json: cases[0].id: required field missing");
    /* cJSON keeps invalid UTF-8 as it is: the reader does not */
    refused(t, "\"observed\":\t\"as expected\"", "\"observed\":\t\"as \xC3\x28xpected\"",
            "r.json: cases[0].observed: not valid UTF-8");
    /* a conformance report's metrics */
    refused(t, "\"scenario\":\t\"conform\"", "\"scenario\":\t\"quickstart\"",
            "r.json: scenario: \"quickstart\": not a conformance report");
    refused(t, "\"metrics\":\t{", "\"snapshot\": {}, \"metrics\":\t{", "r.json: snapshot: a conformance report has none");
    refused(t, "\"jobs\":\t2", "\"jobs\":\t0", "r.json: metrics.jobs:");
    refused(t, "\"jobs\":\t2", "\"jobs\":\t2, \"shard\": 1", "r.json: metrics.shard");
    refused(t, "\"of\":\t[1]", "\"of\":\t[1, 1]", "r.json: metrics.shards[0].of[1]: shard 1 after 1");
    refused(t, "\"of\":\t[1]", "\"of\":\t[2]", "r.json: metrics.shards[0].of[0]: expected a shard 1..1, got 2");
    refused(t, "\"of\":\t[1]", "\"of\":\t[]", "r.json: metrics.shards[0].of: empty");
    refused(t, "\"count\":\t1", "\"count\":\t0", "r.json: metrics.shards[0].count");
    refused(t, "\"cases\":\t[\"JT808-REG-001\"", "\"cases\":\t[\"JT808-REG-009\"",
            "r.json: cases[0]: case JT808-REG-001 is none of the cases its run chose");
    refused(t, "\"cases\":\t[\"JT808-REG-001\"", "\"cases\":\t[\"JT808-AUTH-001\"",
            "r.json: metrics.shards[0].cases: case JT808-AUTH-001 is in the list twice");
    refused(t, "\"not_run\":\t[\"JT808-AUTH-005\"]", "\"not_run\":\t[5]", "r.json: metrics.not_run[0]: expected a case id");
    refused(t, "\"jobs\":\t2", "\"jobs\":\t2, \"attempts\": {\"JT808-REG-001\": [\"FAIL\", \"PASS\"]}",
            "r.json: metrics.attempts.JT808-REG-001: the worst attempt is FAIL, but the case's verdict is PASS");
    refused(t, "\"jobs\":\t2", "\"jobs\":\t2, \"attempts\": {\"JT808-XXX-001\": [\"PASS\", \"PASS\"]}",
            "r.json: metrics.attempts.JT808-XXX-001: not a case of the report");
    refused(t, "\"jobs\":\t2", "\"jobs\":\t2, \"attempts\": {\"JT808-REG-001\": [\"PASS\"]}",
            "r.json: metrics.attempts.JT808-REG-001: 1 attempt");
    /* one run in two entries of metrics.shards, and a malformed entry beside one */
    struct run_report y;
    char py[600];
    path_of(py, sizeof py, "two.json");
    conform_report(&y, ids6, 6, 1, 1, NULL);
    cJSON *sh = cJSON_GetObjectItemCaseSensitive(y.metrics, "shards");
    cJSON_AddItemToArray(sh, cJSON_Duplicate(cJSON_GetArrayItem(sh, 0), 1));
    assert_int_equal(report_write_json(&y, py, err, sizeof err), 0);
    report_free(&y);
    assert_int_equal(conform_report_load(py, &y, err, sizeof err), -1);
    has(err, ": metrics.shards[1]: the same run as metrics.shards[0]");
    report_free(&y);
    conform_report(&y, ids6, 6, 1, 1, NULL);
    sh = cJSON_GetObjectItemCaseSensitive(y.metrics, "shards");
    cJSON_InsertItemInArray(sh, 0, cJSON_CreateObject());
    assert_int_equal(report_write_json(&y, py, err, sizeof err), 0);
    report_free(&y);
    assert_int_equal(conform_report_load(py, &y, err, sizeof err), -1);
    has(err, ": metrics.shards[0].count: required field missing");
    report_free(&y);
    /* not JSON */
    struct run_report x;
    assert_int_equal(conform_report_parse("{\"scenario\": \n  x}", 17, "bad.json", &x, err, sizeof err), -1);
    has(err, "bad.json:2:3: JSON syntax error");
    report_free(&x);
    assert_int_equal(conform_report_parse("{}\0{}", 5, "nul.json", &x, err, sizeof err), -1);
    has(err, "nul.json: a NUL byte at offset 2");
    report_free(&x);
    /* every error at once */
    char both[] = "{\"scenario\": 1, \"path\": \"\", \"started\": \"\", \"duration_s\": 0, \"virtual_s\": 0,"
                  " \"verdict\": \"PASS\", \"ledger\": {\"balanced\": true, \"text\": \"\"}, \"errors\": {},"
                  " \"cases\": [{\"id\": \"A\"}], \"metrics\": {}}";
    assert_int_equal(conform_report_parse(both, strlen(both), "b.json", &x, err, sizeof err), -1);
    has(err, "b.json: scenario: expected a string");
    has(err, "b.json: cases[0].area: required field missing");
    has(err, "b.json: cases[0].verdict: required field missing");
    report_free(&x);
    free(t);
}

/* in[0..n) as report_write_json writes them and conform_report_load reads them back. */
static void reload(struct run_report *in, int n)
{
    for (int i = 0; i < n; i++) {
        char p[600];
        snprintf(p, sizeof p, "%s/in%d.json", dir, i);
        assert_int_equal(report_write_json(&in[i], p, err, sizeof err), 0);
        report_free(&in[i]);
        if (conform_report_load(p, &in[i], err, sizeof err) != 0)
            fail_msg("%s", err);
    }
}

static const char *const files3[] = {"s1", "s2", "s3", "s4"};

static void test_merge_shards(void **state)
{
    (void)state;
    static const char *const ids[] = {"C-01", "C-02", "C-03", "C-04", "C-05", "C-06", "C-07", "C-08",
                                      "C-09", "C-10", "C-11", "C-12", "C-13"};
    const enum verdict v[13] = {VERDICT_PASS, VERDICT_FAIL, VERDICT_PASS, VERDICT_INCONCLUSIVE, VERDICT_PASS,
                                VERDICT_PASS, VERDICT_ERROR, VERDICT_PASS, VERDICT_PASS, VERDICT_PASS,
                                VERDICT_FAIL, VERDICT_PASS, VERDICT_PASS};
    char note[4096];
    for (int n = 1; n <= 4; n++) {
        struct run_report in[4], whole, m;
        conform_report(&whole, ids, 13, 1, 1, v);
        for (int k = 1; k <= n; k++)
            conform_report(&in[n - k], ids, 13, k, n, v); /* given in reverse: the run's order comes back */
        reload(in, n);
        if (conform_report_merge(in, files3, n, false, &m, note, sizeof note, err, sizeof err) != 0)
            fail_msg("%d shards: %s", n, err);
        assert_string_equal(note, "");
        assert_int_equal(m.n_cases, 13);
        for (int i = 0; i < 13; i++) {
            assert_string_equal(m.cases[i].id, whole.cases[i].id);
            assert_int_equal(m.cases[i].verdict, whole.cases[i].verdict);
            assert_string_equal(m.cases[i].observed, whole.cases[i].observed);
        }
        assert_int_equal(report_overall(&m), VERDICT_ERROR);
        assert_true(m.duration_s == 1.5 * n); /* the longest: shards run side by side */
        const cJSON *g = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(m.metrics, "shards"), 0);
        assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(g, "of")), n);
        assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(m.metrics, "not_run")), 1);
        assert_null(cJSON_GetObjectItemCaseSensitive(m.metrics, "attempts"));
        /* the merge is a conformance report too: it reads back and merges again */
        if (conform_report_check(&m, "m.json", err, sizeof err) != 0)
            fail_msg("%s", err);
        for (int i = 0; i < n; i++)
            report_free(&in[i]);
        report_free(&whole);
        report_free(&m);
    }
}

static void test_merge_missing_and_repeated(void **state)
{
    (void)state;
    static const char *const ids[] = {"C-01", "C-02", "C-03", "C-04", "C-05", "C-06", "C-07"};
    struct run_report in[4], m, m2;
    char note[4096];
    conform_report(&in[0], ids, 7, 1, 3, NULL);
    conform_report(&in[1], ids, 7, 3, 3, NULL);
    reload(in, 2);
    /* shard 2 of 3 missing: refused, its cases named */
    assert_int_equal(conform_report_merge(in, files3, 2, false, &m, note, sizeof note, err, sizeof err), -1);
    has(err, "shard 2 of 3 of a run of 7 cases not given (only 1, 3): its cases (C-02 and more)");
    assert_int_equal(m.n_cases, 0);
    /* --partial: merged, and said */
    assert_int_equal(conform_report_merge(in, files3, 2, true, &m, note, sizeof note, err, sizeof err), 0);
    has(note, "shard 2 of 3 not given: 2 of the run's 7 cases are missing");
    assert_int_equal(m.n_cases, 5);
    assert_string_equal(m.cases[0].id, "C-01");
    assert_string_equal(m.cases[1].id, "C-03");
    assert_string_equal(m.cases[2].id, "C-04");
    report_free(&m);

    /* shard 2 run twice: once passing, once failing C-05; the worst is kept, both attempts too */
    const enum verdict bad[7] = {VERDICT_PASS, VERDICT_PASS, VERDICT_PASS, VERDICT_PASS, VERDICT_FAIL,
                                 VERDICT_PASS, VERDICT_PASS};
    conform_report(&in[2], ids, 7, 2, 3, NULL);
    conform_report(&in[3], ids, 7, 2, 3, bad);
    reload(in + 2, 2);
    assert_int_equal(conform_report_merge(in, files3, 4, false, &m, note, sizeof note, err, sizeof err), 0);
    has(note, "s4: shard 2/3 again (given before)");
    has(note, "C-05: in 2 reports (s3 PASS, s4 FAIL): the worst verdict, FAIL, is kept");
    has(note, "1 case is in several reports with the same verdict in each");
    assert_int_equal(m.n_cases, 7);
    assert_string_equal(m.cases[4].id, "C-05");
    assert_int_equal(m.cases[4].verdict, VERDICT_FAIL);
    assert_string_equal(m.cases[4].observed, "0x8001 result 2");
    const cJSON *at = cJSON_GetObjectItemCaseSensitive(m.metrics, "attempts");
    char *a = cJSON_PrintUnformatted(at);
    assert_string_equal(a, "{\"C-02\":[\"PASS\",\"PASS\"],\"C-05\":[\"PASS\",\"FAIL\"]}");
    free(a);
    /* merged again with a third run of shard 2 (all pass): the attempts add up */
    char p[600];
    path_of(p, sizeof p, "merged.json");
    assert_int_equal(report_write_json(&m, p, err, sizeof err), 0);
    report_free(&m);
    struct run_report again[2];
    if (conform_report_load(p, &again[0], err, sizeof err) != 0)
        fail_msg("%s", err);
    conform_report(&again[1], ids, 7, 2, 3, NULL);
    reload(again + 1, 1);
    assert_int_equal(conform_report_merge(again, files3, 2, false, &m2, note, sizeof note, err, sizeof err), 0);
    a = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(m2.metrics, "attempts"));
    assert_string_equal(a, "{\"C-02\":[\"PASS\",\"PASS\",\"PASS\"],\"C-05\":[\"PASS\",\"FAIL\",\"PASS\"]}");
    free(a);
    assert_int_equal(m2.cases[4].verdict, VERDICT_FAIL);
    report_free(&m2);
    report_free(&again[0]);
    report_free(&again[1]);
    for (int i = 0; i < 4; i++)
        report_free(&in[i]);

    /* every shard given, but a case of the run in none of them: other options */
    static const char *const other[] = {"C-01", "C-02", "C-03", "C-04", "C-05", "C-06", "C-07"};
    conform_report(&in[0], other, 7, 1, 2, NULL);
    conform_report(&in[1], other, 7, 2, 2, NULL);
    /* shard 2 lost C-04 (a report written by hand, or another selection) */
    for (int i = 0; i < in[1].n_cases; i++)
        if (strcmp(in[1].cases[i].id, "C-04") == 0) {
            free(in[1].cases[i].wire_log);
            memmove(&in[1].cases[i], &in[1].cases[i + 1], (size_t)(in[1].n_cases - i - 1) * sizeof in[1].cases[0]);
            in[1].n_cases--;
            break;
        }
    reload(in, 2);
    assert_int_equal(conform_report_merge(in, files3, 2, false, &m, note, sizeof note, err, sizeof err), -1);
    has(err, "the 2 shards of a run of 7 cases are given, but 1 of its cases are in none of their reports (C-04)");
    report_free(&in[0]);
    report_free(&in[1]);
}

static int setup(void **state)
{
    (void)state;
    return scratch_make(argv0, "test_report_read", dir, sizeof dir);
}

static int teardown(void **state)
{
    (void)state;
    return scratch_remove(dir);
}

int main(int argc, char **argv)
{
    (void)argc;
    argv0 = argv[0];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_merge_shards),
        cmocka_unit_test(test_merge_missing_and_repeated),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
