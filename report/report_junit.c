#include "report/report.h"
#include "report/report_internal.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Attribute values lose raw tabs and newlines to whitespace normalisation in
 * every XML parser, so there they are written as character references. */
enum xml_ctx { XML_TEXT, XML_ATTR };

/* The Char production of XML 1.0: anything else makes the file unreadable. */
static int xml_char_ok(uint32_t cp)
{
    if (cp < 0x20)
        return cp == '\t' || cp == '\n' || cp == '\r';
    return cp != 0xFFFE && cp != 0xFFFF;
}

/* cap bounds fields of fixed size that a caller may have filled to the brim. */
static void xml_put(FILE *f, const char *str, size_t cap, enum xml_ctx ctx)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t n = strnlen(str, cap);
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t len = report_utf8_decode(s + i, n - i, &cp);
        if (len == 0 || !xml_char_ok(cp)) {
            fputs(REPORT_REPLACEMENT, f);
            i += len ? len : 1;
            continue;
        }
        switch (cp) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        case '\r': fputs("&#13;", f); break;   /* a raw CR is read back as LF */
        case '\t':
        case '\n':
            if (ctx == XML_ATTR)
                fprintf(f, "&#%u;", (unsigned)cp);
            else
                fputc((int)cp, f);
            break;
        default:
            fwrite(s + i, 1, len, f);
        }
        i += len;
    }
}

static double seconds(double s)
{
    return isfinite(s) && s > 0 ? s : 0.0;
}

struct counts {
    int tests, failures, errors, skipped;
};

static struct counts count_cases(const struct run_report *r)
{
    struct counts k = {.tests = r->n_cases};
    for (int i = 0; i < r->n_cases; i++) {
        switch (verdict_worse(VERDICT_PASS, r->cases[i].verdict)) {
        case VERDICT_FAIL: k.failures++; break;
        case VERDICT_ERROR: k.errors++; break;
        case VERDICT_INCONCLUSIVE: k.skipped++; break;
        case VERDICT_PASS: break;
        }
    }
    return k;
}

/* The JUnit schema Jenkins and GitLab read (tests/data/junit.xsd) has "skipped"
 * on <testsuite> but not on <testsuites>. */
static void put_counts(FILE *f, const struct run_report *r, const struct counts *k, int with_skipped)
{
    fputs(" name=\"", f);
    xml_put(f, r->scenario, sizeof r->scenario, XML_ATTR);
    fprintf(f, "\" tests=\"%d\" failures=\"%d\" errors=\"%d\"", k->tests, k->failures, k->errors);
    if (with_skipped)
        fprintf(f, " skipped=\"%d\"", k->skipped);
    fprintf(f, " time=\"%.3f\"", seconds(r->duration_s));
}

static void put_property(FILE *f, const char *name, const char *value, size_t cap)
{
    fprintf(f, "      <property name=\"%s\" value=\"", name);
    xml_put(f, value, cap, XML_ATTR);
    fputs("\"/>\n", f);
}

/* expected, observed and the wire log, a line each (the log as it is). */
static void put_evidence(FILE *f, const struct case_result *c)
{
    fputs("expected: ", f);
    xml_put(f, c->expected, sizeof c->expected, XML_TEXT);
    fputs("\nobserved: ", f);
    xml_put(f, c->observed, sizeof c->observed, XML_TEXT);
    fputc('\n', f);
    if (c->wire_log) {
        fputs("wire log:\n", f);
        xml_put(f, c->wire_log, SIZE_MAX, XML_TEXT);
        if (c->wire_log[0] && c->wire_log[strlen(c->wire_log) - 1] != '\n')
            fputc('\n', f);
    }
}

/* <failure>, <error> or <skipped>, with the detail in the body where CI shows it. */
static void put_outcome(FILE *f, const struct case_result *c, const char *tag)
{
    fprintf(f, "      <%s message=\"expected ", tag);
    xml_put(f, c->expected, sizeof c->expected, XML_ATTR);
    fputs(" / observed ", f);
    xml_put(f, c->observed, sizeof c->observed, XML_ATTR);
    fputc('"', f);
    if (strcmp(tag, "skipped") != 0)
        fprintf(f, " type=\"%s\"", verdict_name(c->verdict));
    fputc('>', f);
    put_evidence(f, c);
    fprintf(f, "</%s>\n", tag);
}

/* What the case says of itself beyond what the testcase's attributes can hold
 * (the schema allows name, classname and time only): its spec reference,
 * requirement level and suite; and for a case that passed, which has no
 * outcome element, the evidence too.  Nothing when there is nothing to say. */
static void put_case_out(FILE *f, const struct case_result *c, int passed)
{
    const struct {
        const char *label, *value;
        size_t cap;
    } lines[] = {
        {"ref", c->ref, sizeof c->ref},
        {"level", c->level, sizeof c->level},
        {"suite", c->suite, sizeof c->suite},
    };
    int any = passed;
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        any |= lines[i].value[0] != '\0';
    if (!any)
        return;
    fputs("      <system-out>", f);
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        if (!lines[i].value[0])
            continue;
        fprintf(f, "%s: ", lines[i].label);
        xml_put(f, lines[i].value, lines[i].cap, XML_TEXT);
        fputc('\n', f);
    }
    if (passed)
        put_evidence(f, c);
    fputs("</system-out>\n", f);
}

static void put_case(FILE *f, const struct run_report *r, const struct case_result *c)
{
    fputs("    <testcase classname=\"", f);
    if (c->area[0])
        xml_put(f, c->area, sizeof c->area, XML_ATTR);
    else
        xml_put(f, r->scenario, sizeof r->scenario, XML_ATTR);
    fputs("\" name=\"", f);
    xml_put(f, c->id, sizeof c->id, XML_ATTR);
    if (c->desc[0]) {
        fputc(' ', f);
        xml_put(f, c->desc, sizeof c->desc, XML_ATTR);
    }
    fprintf(f, "\" time=\"%.3f\"", seconds(c->duration_s));
    const char *tag = NULL;
    switch (verdict_worse(VERDICT_PASS, c->verdict)) {
    case VERDICT_FAIL: tag = "failure"; break;
    case VERDICT_ERROR: tag = "error"; break;
    case VERDICT_INCONCLUSIVE: tag = "skipped"; break;
    case VERDICT_PASS: break;
    }
    if (!tag && !c->ref[0] && !c->level[0] && !c->suite[0] && !c->expected[0] && !c->observed[0] &&
        !c->wire_log) {
        fputs("/>\n", f);
        return;
    }
    fputs(">\n", f);
    if (tag)
        put_outcome(f, c, tag);
    put_case_out(f, c, !tag);
    fputs("    </testcase>\n", f);
}

static void put_report(FILE *f, const struct run_report *r)
{
    struct counts k = count_cases(r);
    char num[64];

    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites", f);
    put_counts(f, r, &k, 0);
    fputs(">\n  <testsuite", f);
    put_counts(f, r, &k, 1);
    if (r->started[0]) {
        fputs(" timestamp=\"", f);
        xml_put(f, r->started, sizeof r->started, XML_ATTR);
        fputc('"', f);
    }
    fputs(">\n    <properties>\n", f);
    put_property(f, "scenario_path", r->scenario_path, sizeof r->scenario_path);
    snprintf(num, sizeof num, "%.3f", seconds(r->virtual_s));
    put_property(f, "virtual_s", num, sizeof num);
    put_property(f, "verdict", verdict_name(report_overall(r)), SIZE_MAX);
    fputs("    </properties>\n", f);
    for (int i = 0; i < r->n_cases; i++)
        put_case(f, r, &r->cases[i]);
    fprintf(f, "    <system-out>ledger: %s", r->ledger_balanced ? "balanced" : "NOT balanced");
    if (r->ledger_text[0]) {
        fputs(" (", f);
        xml_put(f, r->ledger_text, sizeof r->ledger_text, XML_TEXT);
        fputc(')', f);
    }
    if (r->errors_text[0]) {
        fputs("\nerrors: ", f);
        xml_put(f, r->errors_text, sizeof r->errors_text, XML_TEXT);
    }
    fputs("</system-out>\n  </testsuite>\n</testsuites>\n", f);
}

int report_write_junit(const struct run_report *r, const char *path, char *err, size_t errcap)
{
    errno = 0;
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, errcap, "junit report '%s': %s", path, strerror(errno));
        return -1;
    }
    put_report(f, r);
    int e = ferror(f) ? (errno ? errno : EIO) : 0;
    if (fclose(f) != 0 && !e)
        e = errno ? errno : EIO;
    if (e) {
        snprintf(err, errcap, "junit report '%s': %s", path, strerror(e));
        return -1;
    }
    return 0;
}
