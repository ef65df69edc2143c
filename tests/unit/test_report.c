#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "report/report.h"

/* <, &, both quotes, a raw 0x01 byte, Chinese text, a tab and a newline */
#define NASTY "a<b & \"c\" 'd' \x01 \xE4\xB8\xAD\xE6\x96\x87 >\tz\nq"

struct fixture {
    char dir[64];
    char path[128];
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    strcpy(fx->dir, "/tmp/test_report.XXXXXX");
    if (!mkdtemp(fx->dir)) {
        free(fx);
        return -1;
    }
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    if (fx->path[0])
        unlink(fx->path);
    rmdir(fx->dir);
    free(fx);
    return 0;
}

static char *slurp(const char *path, size_t *len)
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
    if (buf) {
        buf[n] = '\0';
        if (len)
            *len = (size_t)n;
    }
    return buf;
}

static struct case_result mk_case(const char *id, const char *area, const char *desc, enum verdict v,
                                  const char *exp, const char *obs, double dur, char *wire)
{
    struct case_result c;
    memset(&c, 0, sizeof c);
    snprintf(c.id, sizeof c.id, "%s", id);
    snprintf(c.area, sizeof c.area, "%s", area);
    snprintf(c.desc, sizeof c.desc, "%s", desc);
    c.verdict = v;
    snprintf(c.expected, sizeof c.expected, "%s", exp);
    snprintf(c.observed, sizeof c.observed, "%s", obs);
    c.duration_s = dur;
    c.wire_log = wire;
    return c;
}

/* Four cases, one of each verdict, with fixed times so output is exact. */
static void sample_report(struct run_report *r)
{
    report_init(r, "smoke", "scenarios/smoke.json");
    snprintf(r->started, sizeof r->started, "2024-05-01T10:00:00Z");
    r->duration_s = 12.5;
    r->virtual_s = 3600;
    r->ledger_balanced = 1;
    snprintf(r->ledger_text, sizeof r->ledger_text, "sent 10 = acked 9 + failed 1 + timed out 0");
    char wire[] = "7e 01 00 7e\n7e 81 00 7e";
    struct case_result cs[] = {
        mk_case("AUTH-001", "jt808.auth", "terminals register", VERDICT_PASS, "10 registered", "10 registered", 1.25, NULL),
        mk_case("AUTH-002", "jt808.auth", "bad token refused", VERDICT_FAIL, "refused", "accepted", 0.5, wire),
        mk_case("LOC-001", "jt808.loc", "", VERDICT_INCONCLUSIVE, "a fix", "no GPS", 0, NULL),
        mk_case("HARN-1", "", "harness", VERDICT_ERROR, "socket", "EMFILE", 0.001, NULL),
    };
    for (size_t i = 0; i < 4; i++)
        assert_non_null(report_add_case(r, &cs[i]));
}

static void test_verdict_order(void **state)
{
    (void)state;
    assert_string_equal(verdict_name(VERDICT_PASS), "PASS");
    assert_string_equal(verdict_name(VERDICT_INCONCLUSIVE), "INCONCLUSIVE");
    assert_string_equal(verdict_name(VERDICT_FAIL), "FAIL");
    assert_string_equal(verdict_name(VERDICT_ERROR), "ERROR");
    assert_string_equal(verdict_name((enum verdict)7), "UNKNOWN");

    const enum verdict order[] = {VERDICT_PASS, VERDICT_INCONCLUSIVE, VERDICT_FAIL, VERDICT_ERROR};
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 4; b++) {
            enum verdict w = a > b ? order[a] : order[b];
            assert_int_equal(verdict_worse(order[a], order[b]), w);
        }
    assert_int_equal(verdict_worse(VERDICT_PASS, (enum verdict)7), VERDICT_ERROR);
    assert_int_equal(verdict_worse((enum verdict)-1, VERDICT_PASS), VERDICT_ERROR);

    struct run_report r;
    report_init(&r, "s", "p");
    assert_int_equal(report_overall(&r), VERDICT_PASS);
    const enum verdict seq[] = {VERDICT_PASS, VERDICT_INCONCLUSIVE, VERDICT_PASS, VERDICT_FAIL,
                                VERDICT_INCONCLUSIVE, VERDICT_PASS, VERDICT_ERROR, VERDICT_FAIL};
    const enum verdict want[] = {VERDICT_PASS, VERDICT_INCONCLUSIVE, VERDICT_INCONCLUSIVE, VERDICT_FAIL,
                                 VERDICT_FAIL, VERDICT_FAIL, VERDICT_ERROR, VERDICT_ERROR};
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) {
        struct case_result c = mk_case("X", "a", "d", seq[i], "e", "o", 0, NULL);
        assert_non_null(report_add_case(&r, &c));
        assert_int_equal(report_overall(&r), want[i]);
    }
    report_free(&r);
}

static void test_add_copies(void **state)
{
    (void)state;
    struct run_report r;
    report_init(&r, "scenario", "path.json");
    assert_string_equal(r.scenario, "scenario");
    assert_string_equal(r.scenario_path, "path.json");
    assert_int_equal(strlen(r.started), 20);   /* 2024-05-01T10:00:00Z */
    assert_int_equal(r.started[10], 'T');
    assert_int_equal(r.started[19], 'Z');
    assert_non_null(r.metrics);

    char wire[] = "7e 02 7e";
    for (int i = 0; i < 100; i++) {   /* crosses several growth steps */
        char id[16];
        snprintf(id, sizeof id, "C-%03d", i);
        struct case_result c = mk_case(id, "a", "d", VERDICT_PASS, "e", "o", i, i % 2 ? wire : NULL);
        struct case_result *got = report_add_case(&r, &c);
        assert_non_null(got);
        assert_ptr_equal(got, &r.cases[i]);
        if (i % 2) {
            assert_ptr_not_equal(got->wire_log, wire);
            assert_string_equal(got->wire_log, wire);
        } else {
            assert_null(got->wire_log);
        }
    }
    wire[0] = 'X';
    assert_int_equal(r.n_cases, 100);
    assert_string_equal(r.cases[0].id, "C-000");
    assert_string_equal(r.cases[99].id, "C-099");
    assert_string_equal(r.cases[99].wire_log, "7e 02 7e");

    /* malformed UTF-8 and a sequence cut by a full field become '?' */
    struct case_result c = mk_case("ID", "a", "d", VERDICT_PASS, "gbk \xC3\xFB plate", "ok \xE4\xB8\xAD", 0, NULL);
    memset(c.id, 'x', sizeof c.id);                  /* no NUL: must be cut, not overrun */
    memset(c.observed, 'y', sizeof c.observed);
    memcpy(c.observed + sizeof c.observed - 3, "\xE4\xB8", 2);   /* cut 3-byte char */
    struct case_result *got = report_add_case(&r, &c);
    assert_non_null(got);
    assert_int_equal(strlen(got->id), sizeof got->id - 1);
    assert_string_equal(got->expected, "gbk ?? plate");
    assert_int_equal(strlen(got->observed), sizeof got->observed - 1);
    assert_memory_equal(got->observed + sizeof got->observed - 3, "??", 3);

    /* re-adding a case of the report itself across a growth step */
    while (r.n_cases < 128)
        assert_non_null(report_add_case(&r, &r.cases[1]));
    got = report_add_case(&r, &r.cases[1]);
    assert_non_null(got);
    assert_string_equal(got->id, "C-001");
    assert_string_equal(got->wire_log, "7e 02 7e");
    assert_ptr_not_equal(got->wire_log, r.cases[1].wire_log);

    report_free(&r);
    assert_int_equal(r.n_cases, 0);
    assert_null(r.cases);
    assert_null(r.metrics);

    report_init(&r, NULL, NULL);   /* missing names are empty, not a crash */
    assert_string_equal(r.scenario, "");
    assert_string_equal(r.scenario_path, "");
    report_free(&r);
}

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double jnum(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    assert_true(cJSON_IsNumber(v));
    return v->valuedouble;
}

static void test_json_round_trip(void **state)
{
    struct fixture *fx = *state;
    snprintf(fx->path, sizeof fx->path, "%s/report.json", fx->dir);
    struct run_report r;
    sample_report(&r);
    cJSON_AddNumberToObject(r.metrics, "sent", 10);
    snprintf(r.cases[2].desc, sizeof r.cases[2].desc, "%s", NASTY);
    snprintf(r.cases[3].ref, sizeof r.cases[3].ref, "seed 000 Table 1");
    snprintf(r.cases[3].level, sizeof r.cases[3].level, "SHOULD");
    snprintf(r.cases[3].suite, sizeof r.cases[3].suite, "jt808");
    r.ledger_balanced = 0;

    char err[256] = "";
    assert_int_equal(report_write_json(&r, fx->path, err, sizeof err), 0);
    char *text = slurp(fx->path, NULL);
    assert_non_null(text);
    cJSON *j = cJSON_Parse(text);
    free(text);
    assert_non_null(j);

    assert_string_equal(jstr(j, "scenario"), "smoke");
    assert_string_equal(jstr(j, "path"), "scenarios/smoke.json");
    assert_string_equal(jstr(j, "started"), "2024-05-01T10:00:00Z");
    assert_true(jnum(j, "duration_s") == 12.5);
    assert_true(jnum(j, "virtual_s") == 3600);
    assert_string_equal(jstr(j, "verdict"), "ERROR");
    const cJSON *ledger = cJSON_GetObjectItemCaseSensitive(j, "ledger");
    assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(ledger, "balanced")));
    assert_string_equal(jstr(ledger, "text"), "sent 10 = acked 9 + failed 1 + timed out 0");
    assert_true(jnum(cJSON_GetObjectItemCaseSensitive(j, "metrics"), "sent") == 10);

    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(j, "cases");
    assert_int_equal(cJSON_GetArraySize(cases), 4);
    const char *verdicts[] = {"PASS", "FAIL", "INCONCLUSIVE", "ERROR"};
    for (int i = 0; i < 4; i++) {
        const cJSON *c = cJSON_GetArrayItem(cases, i);
        assert_string_equal(jstr(c, "id"), r.cases[i].id);
        assert_string_equal(jstr(c, "area"), r.cases[i].area);
        assert_string_equal(jstr(c, "description"), r.cases[i].desc);
        assert_string_equal(jstr(c, "verdict"), verdicts[i]);
        assert_string_equal(jstr(c, "expected"), r.cases[i].expected);
        assert_string_equal(jstr(c, "observed"), r.cases[i].observed);
        assert_true(jnum(c, "duration_s") == r.cases[i].duration_s);
        assert_int_equal(cJSON_GetArraySize(c), (r.cases[i].wire_log ? 8 : 7) + (i == 3 ? 3 : 0));
    }
    /* a conformance case's reference, level and suite; a scenario's has none */
    assert_string_equal(jstr(cJSON_GetArrayItem(cases, 3), "ref"), "seed 000 Table 1");
    assert_string_equal(jstr(cJSON_GetArrayItem(cases, 3), "level"), "SHOULD");
    assert_string_equal(jstr(cJSON_GetArrayItem(cases, 3), "suite"), "jt808");
    assert_null(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(cases, 0), "ref"));
    assert_string_equal(jstr(cJSON_GetArrayItem(cases, 1), "wire_log"), "7e 01 00 7e\n7e 81 00 7e");
    assert_null(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(cases, 0), "wire_log"));
    assert_string_equal(jstr(cJSON_GetArrayItem(cases, 2), "description"), NASTY);
    cJSON_Delete(j);

    /* no metrics object: still an object in the file */
    cJSON_Delete(r.metrics);
    r.metrics = NULL;
    assert_int_equal(report_write_json(&r, fx->path, err, sizeof err), 0);
    text = slurp(fx->path, NULL);
    j = cJSON_Parse(text);
    free(text);
    assert_true(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(j, "metrics")));
    cJSON_Delete(j);
    report_free(&r);
}

static void test_write_errors(void **state)
{
    struct fixture *fx = *state;
    struct run_report r;
    sample_report(&r);
    char bad[192], err[256] = "";
    snprintf(bad, sizeof bad, "%s/missing/dir/report.json", fx->dir);
    assert_int_equal(report_write_json(&r, bad, err, sizeof err), -1);
    assert_non_null(strstr(err, bad));
    assert_non_null(strstr(err, "No such file or directory"));
    err[0] = '\0';
    assert_int_equal(report_write_junit(&r, bad, err, sizeof err), -1);
    assert_non_null(strstr(err, bad));
    assert_non_null(strstr(err, "No such file or directory"));
    if (access("/dev/full", W_OK) == 0) {   /* a disk that fills up mid-write */
        assert_int_equal(report_write_junit(&r, "/dev/full", err, sizeof err), -1);
        assert_non_null(strstr(err, "No space left on device"));
        assert_int_equal(report_write_json(&r, "/dev/full", err, sizeof err), -1);
        assert_non_null(strstr(err, "No space left on device"));
    }
    report_free(&r);
}

static const char junit_golden[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<testsuites name=\"smoke\" tests=\"4\" failures=\"1\" errors=\"1\" time=\"12.500\">\n"
    "  <testsuite name=\"smoke\" tests=\"4\" failures=\"1\" errors=\"1\" skipped=\"1\" time=\"12.500\" timestamp=\"2024-05-01T10:00:00Z\">\n"
    "    <properties>\n"
    "      <property name=\"scenario_path\" value=\"scenarios/smoke.json\"/>\n"
    "      <property name=\"virtual_s\" value=\"3600.000\"/>\n"
    "      <property name=\"verdict\" value=\"ERROR\"/>\n"
    "    </properties>\n"
    "    <testcase classname=\"jt808.auth\" name=\"AUTH-001 terminals register\" time=\"1.250\">\n"
    "      <system-out>expected: 10 registered\n"
    "observed: 10 registered\n"
    "</system-out>\n"
    "    </testcase>\n"
    "    <testcase classname=\"jt808.auth\" name=\"AUTH-002 bad token refused\" time=\"0.500\">\n"
    "      <failure message=\"expected refused / observed accepted\" type=\"FAIL\">expected: refused\n"
    "observed: accepted\n"
    "wire log:\n"
    "7e 01 00 7e\n"
    "7e 81 00 7e\n"
    "</failure>\n"
    "      <system-out>ref: JT/T 808-2019 8.2\n"
    "level: MUST\n"
    "suite: jt808\n"
    "</system-out>\n"
    "    </testcase>\n"
    "    <testcase classname=\"jt808.loc\" name=\"LOC-001\" time=\"0.000\">\n"
    "      <skipped message=\"expected a fix / observed no GPS\">expected: a fix\n"
    "observed: no GPS\n"
    "</skipped>\n"
    "    </testcase>\n"
    "    <testcase classname=\"smoke\" name=\"HARN-1 harness\" time=\"0.001\">\n"
    "      <error message=\"expected socket / observed EMFILE\" type=\"ERROR\">expected: socket\n"
    "observed: EMFILE\n"
    "</error>\n"
    "    </testcase>\n"
    "    <system-out>ledger: balanced (sent 10 = acked 9 + failed 1 + timed out 0)</system-out>\n"
    "  </testsuite>\n"
    "</testsuites>\n";

/* The JUnit schema Jenkins and GitLab read, in the tree (the tests run from its top). */
#define JUNIT_XSD "tests/data/junit.xsd"

/* 0 when xmllint finds path well-formed and valid against the JUnit schema. */
static int xmllint_schema(const char *path)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "xmllint --noout --schema '%s' '%s' >/dev/null 2>&1", JUNIT_XSD, path);
    return system(cmd);
}

static void xmllint_ok(const char *path)
{
    assert_int_equal(access(JUNIT_XSD, R_OK), 0);
    assert_int_equal(system("command -v xmllint >/dev/null 2>&1"), 0); /* libxml2-utils, in DEB_PKGS */
    assert_int_equal(xmllint_schema(path), 0);
}

/* The schema is no rubber stamp: what it does not allow is refused. */
static void test_junit_schema_refuses(void **state)
{
    struct fixture *fx = *state;
    snprintf(fx->path, sizeof fx->path, "%s/bad.xml", fx->dir);
    static const char *const bad[] = {
        /* "skipped" is a <testsuite> attribute, not a <testsuites> one */
        "<testsuites skipped=\"1\"><testsuite name=\"s\" tests=\"0\" failures=\"0\" errors=\"0\"/></testsuites>",
        /* a testsuite needs its counts */
        "<testsuites><testsuite name=\"s\" tests=\"1\"/></testsuites>",
        /* a testcase has no attributes beyond name, classname, time, group */
        "<testsuites><testsuite name=\"s\" tests=\"1\" failures=\"0\" errors=\"0\">"
        "<testcase name=\"a\" ref=\"8.2\"/></testsuite></testsuites>",
        /* nor properties of its own */
        "<testsuites><testsuite name=\"s\" tests=\"1\" failures=\"0\" errors=\"0\">"
        "<testcase name=\"a\"><properties/></testcase></testsuite></testsuites>",
        /* a time is a number */
        "<testsuites><testsuite name=\"s\" tests=\"0\" failures=\"0\" errors=\"0\" time=\"-1\"/></testsuites>",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        FILE *f = fopen(fx->path, "w");
        assert_non_null(f);
        fputs(bad[i], f);
        fclose(f);
        assert_int_not_equal(xmllint_schema(fx->path), 0);
    }
    FILE *f = fopen(fx->path, "w");
    assert_non_null(f);
    fputs("<testsuites><testsuite name=\"s\" tests=\"1\" failures=\"0\" errors=\"0\" time=\"1,234.5\">"
          "<testcase name=\"a\"><system-out>x</system-out></testcase></testsuite></testsuites>", f);
    fclose(f);
    assert_int_equal(xmllint_schema(fx->path), 0);
}

static void test_junit_golden(void **state)
{
    struct fixture *fx = *state;
    snprintf(fx->path, sizeof fx->path, "%s/junit.xml", fx->dir);
    struct run_report r;
    sample_report(&r);
    snprintf(r.cases[1].ref, sizeof r.cases[1].ref, "JT/T 808-2019 8.2");
    snprintf(r.cases[1].level, sizeof r.cases[1].level, "MUST");
    snprintf(r.cases[1].suite, sizeof r.cases[1].suite, "jt808");
    char err[256] = "";
    assert_int_equal(report_write_junit(&r, fx->path, err, sizeof err), 0);
    char *text = slurp(fx->path, NULL);
    assert_non_null(text);
    assert_string_equal(text, junit_golden);
    free(text);
    xmllint_ok(fx->path);
    report_free(&r);
}

static void test_junit_escaping(void **state)
{
    struct fixture *fx = *state;
    snprintf(fx->path, sizeof fx->path, "%s/junit.xml", fx->dir);
    struct run_report r;
    report_init(&r, "s&<\"'>", "p");
    char wire[] = "]]> <x/> \x02\r\n" NASTY;
    struct case_result c = mk_case("N-1", "x<y", NASTY, VERDICT_FAIL, NASTY, "\xE4\xB8\xAD\xFF", 1, wire);
    snprintf(c.ref, sizeof c.ref, "x\xFFy");
    snprintf(c.suite, sizeof c.suite, "\xC3");
    assert_non_null(report_add_case(&r, &c));
    /* as the other text, repaired when added: report.json carries them too */
    assert_string_equal(r.cases[0].ref, "x?y");
    assert_string_equal(r.cases[0].suite, "?");
    r.cases[0].suite[0] = '\0';
    /* set past report_add_case, so the writer alone must keep the XML well-formed */
    snprintf(r.ledger_text, sizeof r.ledger_text, "bad \x1b[0m \xC0\xAF \xEF\xBF\xBF end");
    r.ledger_balanced = 0;
    snprintf(r.cases[0].ref, sizeof r.cases[0].ref, "8.2 <&> \x01\xFF\xC0\xAF end");
    snprintf(r.cases[0].level, sizeof r.cases[0].level, "M\x1bST");
    char err[256];
    assert_int_equal(report_write_junit(&r, fx->path, err, sizeof err), 0);
    size_t len;
    char *text = slurp(fx->path, &len);
    assert_non_null(text);
    assert_int_equal(strlen(text), len);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)text[i];
        assert_true(ch >= 0x20 || ch == '\n' || ch == '\t');
    }
#define ESC_ATTR "a&lt;b &amp; &quot;c&quot; &apos;d&apos; \xEF\xBF\xBD \xE4\xB8\xAD\xE6\x96\x87 &gt;&#9;z&#10;q"
#define ESC_TEXT "a&lt;b &amp; &quot;c&quot; &apos;d&apos; \xEF\xBF\xBD \xE4\xB8\xAD\xE6\x96\x87 &gt;\tz\nq"
    assert_non_null(strstr(text, "<testsuites name=\"s&amp;&lt;&quot;&apos;&gt;\" tests=\"1\" failures=\"1\" errors=\"0\" time=\""));
    assert_non_null(strstr(text, "<testcase classname=\"x&lt;y\" name=\"N-1 " ESC_ATTR "\" time=\"1.000\">"));
    /* 0xFF was repaired to '?' when the case was added */
    assert_non_null(strstr(text, "<failure message=\"expected " ESC_ATTR " / observed \xE4\xB8\xAD?\""));
    assert_non_null(strstr(text, ">expected: " ESC_TEXT "\nobserved: \xE4\xB8\xAD?\n"));
    assert_non_null(strstr(text, "wire log:\n]]&gt; &lt;x/&gt; \xEF\xBF\xBD&#13;\n" ESC_TEXT "\n</failure>"));
    assert_non_null(strstr(text, "</failure>\n      <system-out>ref: 8.2 &lt;&amp;&gt; \xEF\xBF\xBD\xEF\xBF\xBD"
                                 "\xEF\xBF\xBD\xEF\xBF\xBD end\nlevel: M\xEF\xBF\xBDST\n</system-out>"));
    assert_non_null(strstr(text, "<system-out>ledger: NOT balanced (bad \xEF\xBF\xBD[0m \xEF\xBF\xBD\xEF\xBF\xBD \xEF\xBF\xBD end)</system-out>"));
    free(text);
    xmllint_ok(fx->path);
    report_free(&r);
}

/* Display columns of a UTF-8 line (CJK counts two, as a terminal shows it). */
static int cols_of(const char *s, size_t n)
{
    int cols = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if ((ch & 0xC0) == 0x80)
            continue;
        cols += ch >= 0xE3 && ch <= 0xE9 ? 2 : 1;   /* the CJK used below */
    }
    return cols;
}

/* noinline: gcc 12 mistakes the memstream buffer for a dangling local when inlined */
__attribute__((noinline)) static char *table_of(const struct run_report *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    report_print_table(r, f);
    fclose(f);
    return buf;
}

/* noinline: as table_of */
__attribute__((noinline)) static char *summary_of(const struct run_report *r, struct summary_style st)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    report_print_summary(r, f, st);
    fclose(f);
    return buf;
}

static void test_summary(void **state)
{
    (void)state;
    struct run_report r;
    sample_report(&r);
    char *text = summary_of(&r, (struct summary_style){.utf8 = 1});
    assert_string_equal(text,
                        "  \xE2\x9C\x93 AUTH-001  10 registered (10 registered)\n"
                        "  \xE2\x9C\x97 AUTH-002  refused (observed: accepted) FAIL\n"
                        "  ? LOC-001   a fix (observed: no GPS) INCONCLUSIVE\n"
                        "  ! HARN-1    socket (observed: EMFILE) ERROR\n"
                        "checks: 1 of 4 passed (25.0%)  \xE2\x9C\x97 1 failed  ! 1 error  ? 1 inconclusive\n");
    free(text);
    /* colours: the mark of each case, and the totals that are not zero */
    text = summary_of(&r, (struct summary_style){.utf8 = 1, .color = 1});
    assert_non_null(strstr(text, "  \033[32m\xE2\x9C\x93\033[0m AUTH-001  10 registered"));
    assert_non_null(strstr(text, "  \033[31m\xE2\x9C\x97\033[0m AUTH-002  refused"));
    assert_non_null(strstr(text, "  \033[33m?\033[0m LOC-001 "));
    assert_non_null(strstr(text, "  \033[1;31m!\033[0m HARN-1 "));
    assert_non_null(strstr(text, "(25.0%)  \033[31m\xE2\x9C\x97 1 failed\033[0m  \033[1;31m! 1 error\033[0m"));
    free(text);

    /* plain ASCII: no byte past 0x7F, control characters as spaces */
    struct case_result c = mk_case("\xE4\xB8\xAD-1", "a", "d", VERDICT_PASS, "a\tb \xE4\xB8\xAD\xE6\x96\x87 c",
                                   "\x1b[0m ok", 0, NULL);
    assert_non_null(report_add_case(&r, &c));
    text = summary_of(&r, (struct summary_style){0});
    assert_string_equal(text,
                        "  + AUTH-001  10 registered (10 registered)\n"
                        "  x AUTH-002  refused (observed: accepted) FAIL\n"
                        "  ? LOC-001   a fix (observed: no GPS) INCONCLUSIVE\n"
                        "  ! HARN-1    socket (observed: EMFILE) ERROR\n"
                        "  + ?-1       a b ?? c ( [0m ok)\n"
                        "checks: 2 of 5 passed (40.0%)  x 1 failed  ! 1 error  ? 1 inconclusive\n");
    free(text);
    report_free(&r);

    /* nothing to judge */
    report_init(&r, "empty", "p");
    text = summary_of(&r, (struct summary_style){0});
    assert_string_equal(text, "checks: 0 of 0 passed (100.0%)  x 0 failed  ! 0 error  ? 0 inconclusive\n");
    free(text);
    report_free(&r);
}

static void set_env(const char *name, const char *value)
{
    if (value)
        assert_int_equal(setenv(name, value, 1), 0);
    else
        assert_int_equal(unsetenv(name), 0);
}

/* UTF-8 from the locale variables, in the C library's order; colours only on a
 * terminal (a pseudo-terminal here) and not with NO_COLOR, TERM=dumb or --no-color. */
static void test_summary_style(void **state)
{
    (void)state;
    static const char *const saved_names[] = {"LC_ALL", "LC_CTYPE", "LANG", "NO_COLOR", "TERM"};
    char *saved[5];
    for (int i = 0; i < 5; i++) {
        const char *v = getenv(saved_names[i]);
        saved[i] = v ? strdup(v) : NULL;
    }
    static const struct {
        const char *lc_all, *lc_ctype, *lang;
        int utf8;
    } loc[] = {
        {NULL, NULL, NULL, 0},
        {NULL, NULL, "C.UTF-8", 1},
        {NULL, NULL, "en_US.utf8", 1},
        {NULL, NULL, "de_DE.UTF-8@euro", 1},
        {NULL, NULL, "en_US.ISO-8859-1", 0},
        {NULL, NULL, "C", 0},
        {NULL, NULL, "POSIX", 0},
        {"C", NULL, "C.UTF-8", 0},          /* LC_ALL wins */
        {"", NULL, "C.UTF-8", 1},           /* an empty one does not count */
        {NULL, "zh_CN.GB18030", "C.UTF-8", 0},
        {NULL, "zh_CN.UTF-8", "C", 1},
    };
    for (size_t i = 0; i < sizeof loc / sizeof loc[0]; i++) {
        set_env("LC_ALL", loc[i].lc_all);
        set_env("LC_CTYPE", loc[i].lc_ctype);
        set_env("LANG", loc[i].lang);
        struct summary_style st = report_summary_style(stdout, 0);
        assert_int_equal(st.utf8, loc[i].utf8);
    }
    /* a file is no terminal: no colours even when nothing forbids them */
    char path[] = "/tmp/test_report_style.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *file = fdopen(fd, "w");
    assert_non_null(file);
    set_env("NO_COLOR", NULL);
    set_env("TERM", "xterm");
    assert_int_equal(report_summary_style(file, 0).color, 0);
    fclose(file);
    unlink(path);

    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0) {
        int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
        assert_true(slave >= 0);
        FILE *tty = fdopen(slave, "w");
        assert_non_null(tty);
        assert_int_equal(report_summary_style(tty, 0).color, 1);
        assert_int_equal(report_summary_style(tty, 1).color, 0);     /* --no-color */
        set_env("NO_COLOR", "1");
        assert_int_equal(report_summary_style(tty, 0).color, 0);
        set_env("NO_COLOR", "");                                     /* empty: as unset */
        assert_int_equal(report_summary_style(tty, 0).color, 1);
        set_env("TERM", "dumb");
        assert_int_equal(report_summary_style(tty, 0).color, 0);
        fclose(tty);
    }
    if (master >= 0)
        close(master);
    for (int i = 0; i < 5; i++) {
        set_env(saved_names[i], saved[i]);
        free(saved[i]);
    }
}

static void test_table_golden(void **state)
{
    (void)state;
    struct run_report r;
    sample_report(&r);
    snprintf(r.cases[0].observed, sizeof r.cases[0].observed, "\xE5\x85\xA8\xE9\x83\xA8 10");  /* 全部 10 */
    char *t = table_of(&r);
    assert_string_equal(t,
        "ID        VERDICT       EXPECTED       OBSERVED\n"
        "AUTH-001  PASS          10 registered  \xE5\x85\xA8\xE9\x83\xA8 10\n"
        "AUTH-002  FAIL          refused        accepted\n"
        "LOC-001   INCONCLUSIVE  a fix          no GPS\n"
        "HARN-1    ERROR         socket         EMFILE\n"
        "ledger: balanced (sent 10 = acked 9 + failed 1 + timed out 0)\n"
        "4 cases: 1 pass, 1 fail, 1 error, 1 inconclusive\n");
    free(t);

    report_free(&r);
    report_init(&r, "empty", "");
    r.ledger_balanced = 0;
    snprintf(r.ledger_text, sizeof r.ledger_text, "sent 3 = acked 1 + failed 0 + timed out 0");
    t = table_of(&r);
    assert_string_equal(t,
        "ID  VERDICT  EXPECTED  OBSERVED\n"
        "ledger: NOT balanced (sent 3 = acked 1 + failed 0 + timed out 0)\n"
        "0 cases: 0 pass, 0 fail, 0 error, 0 inconclusive\n");
    free(t);
    report_free(&r);
}

static void test_table_long_cells(void **state)
{
    (void)state;
    struct run_report r;
    report_init(&r, "long", "");
    char exp[256], obs[256];
    memset(exp, 'e', 200);
    exp[200] = '\0';
    /* 120 columns of CJK then ASCII, with a newline that must not break the row */
    obs[0] = '\0';
    for (int i = 0; i < 60; i++)
        strcat(obs, "\xE4\xB8\xAD");
    strcat(obs, "\nmore text after");
    struct case_result a = mk_case("LONG-1", "a", "d", VERDICT_FAIL, exp, obs, 0, NULL);
    struct case_result b = mk_case("S-2", "a", "d", VERDICT_PASS, "short", "\xE4\xB8\xAD ok", 0, NULL);
    assert_non_null(report_add_case(&r, &a));
    assert_non_null(report_add_case(&r, &b));
    memset(r.ledger_text, 'L', sizeof r.ledger_text - 1);
    char *t = table_of(&r);

    /* every line within 160 columns (nothing wraps in the terminal or the log) */
    int lines = 0;
    for (char *p = t; *p; lines++) {
        char *nl = strchr(p, '\n');
        assert_non_null(nl);
        assert_true(cols_of(p, (size_t)(nl - p)) <= 160);
        assert_null(memchr(p, '\r', (size_t)(nl - p)));
        p = nl + 1;
    }
    assert_true(lines > 5); /* the long cells and the ledger go on over more lines */
    /* and nothing is cut: every 'e', every CJK glyph, the text after the newline, every 'L' */
    size_t es = 0, ls = 0, run_e = 0, run_l = 0, cjk = 0;
    for (const char *q = t;; q++) {
        if (*q == 'e') {
            run_e++;
        } else {
            if (run_e >= 10)
                es += run_e;
            run_e = 0;
        }
        if (*q == 'L') {
            run_l++;
        } else {
            if (run_l >= 10)
                ls += run_l;
            run_l = 0;
        }
        if (!*q)
            break;
        if (strncmp(q, "\xE4\xB8\xAD", 3) == 0) /* strncmp: it stops at the end of t */
            cjk++;
    }
    assert_int_equal(es, 200);
    assert_int_equal(ls, sizeof r.ledger_text - 1);
    assert_int_equal(cjk, 61);
    assert_non_null(strstr(t, "more text after"));
    assert_null(strstr(t, "\xE2\x80\xA6")); /* no ellipsis: nothing was left out */
    /* the rows that follow a long one still start in the ID column */
    char *s2 = strstr(t, "\nS-2 ");
    assert_non_null(s2);
    free(t);
    report_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verdict_order),
        cmocka_unit_test(test_add_copies),
        cmocka_unit_test_setup_teardown(test_json_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_junit_golden, setup, teardown),
        cmocka_unit_test_setup_teardown(test_junit_escaping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_junit_schema_refuses, setup, teardown),
        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_summary_style),
        cmocka_unit_test(test_table_golden),
        cmocka_unit_test(test_table_long_cells),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
