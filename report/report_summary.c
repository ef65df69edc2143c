/* The compact summary at the end of a run or a merge, as k6 prints its checks:
 * a line per case with a mark and its figure, then the totals.  For terminals
 * and CI logs; the verdict table above it stays the full account. */
#include "report/report.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ANSI_RESET "\033[0m"

/* The marks, indexed by verdict (pass, inconclusive, fail, error). */
static const char *const marks_utf8[] = {"\xE2\x9C\x93", "?", "\xE2\x9C\x97", "!"};   /* ✓ ? ✗ ! */
static const char *const marks_ascii[] = {"+", "?", "x", "!"};
static const char *const colors[] = {"\033[32m", "\033[33m", "\033[31m", "\033[1;31m"};

/* The locale's character set as the C library picks the locale: LC_ALL, then
 * LC_CTYPE, then LANG; the first that is set and not empty.  None: "C", ASCII. */
static int locale_utf8(void)
{
    static const char *const vars[] = {"LC_ALL", "LC_CTYPE", "LANG"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (!v || !v[0])
            continue;
        const char *dot = strchr(v, '.');
        if (!dot)
            return 0;
        char cs[16];
        size_t n = 0;
        for (const char *p = dot + 1; *p && *p != '@' && n + 1 < sizeof cs; p++)
            if (*p != '-')
                cs[n++] = (char)tolower((unsigned char)*p);
        cs[n] = '\0';
        return strcmp(cs, "utf8") == 0;
    }
    return 0;
}

struct summary_style report_summary_style(FILE *out, int no_color)
{
    struct summary_style st = {.utf8 = locale_utf8()};
    const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");
    st.color = !no_color && !(nc && nc[0]) && !(term && strcmp(term, "dumb") == 0) && isatty(fileno(out));
    return st;
}

/* Text of a fixed-size field as one line: control characters become spaces, and
 * in ASCII anything past 0x7F a '?' (a UTF-8 sequence one '?'). */
static void put_text(FILE *out, const char *s, size_t cap, int utf8)
{
    size_t n = strnlen(s, cap);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch == 0x7F)
            fputc(' ', out);
        else if (ch < 0x80 || utf8)
            fputc(ch, out);
        else if ((ch & 0xC0) != 0x80)   /* a lead byte: continuation bytes print nothing */
            fputc('?', out);
    }
}

static int cols_of(const char *s, size_t cap)
{
    int n = 0;
    for (size_t i = 0; i < cap && s[i]; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

void report_print_summary(const struct run_report *r, FILE *out, struct summary_style st)
{
    const char *const *marks = st.utf8 ? marks_utf8 : marks_ascii;
    int n[VERDICT_ERROR + 1] = {0}, idw = 0;
    for (int i = 0; i < r->n_cases; i++) {
        int w = cols_of(r->cases[i].id, sizeof r->cases[i].id);
        idw = w > idw ? w : idw;
    }
    for (int i = 0; i < r->n_cases; i++) {
        const struct case_result *c = &r->cases[i];
        enum verdict v = verdict_worse(VERDICT_PASS, c->verdict);
        n[v]++;
        fputs("  ", out);
        if (st.color)
            fputs(colors[v], out);
        fputs(marks[v], out);
        if (st.color)
            fputs(ANSI_RESET, out);
        fputc(' ', out);
        put_text(out, c->id, sizeof c->id, st.utf8);
        for (int pad = cols_of(c->id, sizeof c->id); pad < idw; pad++)
            fputc(' ', out);
        fputs("  ", out);
        put_text(out, c->expected[0] ? c->expected : c->desc, c->expected[0] ? sizeof c->expected : sizeof c->desc,
                 st.utf8);
        if (c->observed[0]) {
            fputs(v == VERDICT_PASS ? " (" : " (observed: ", out);
            put_text(out, c->observed, sizeof c->observed, st.utf8);
            fputc(')', out);
        }
        if (v != VERDICT_PASS)
            fprintf(out, " %s", verdict_name(v));
        fputc('\n', out);
    }
    double pct = r->n_cases ? 100.0 * n[VERDICT_PASS] / r->n_cases : 100.0;
    fprintf(out, "checks: %d of %d passed (%.1f%%)", n[VERDICT_PASS], r->n_cases, pct);
    static const enum verdict order[] = {VERDICT_FAIL, VERDICT_ERROR, VERDICT_INCONCLUSIVE};
    static const char *const words[] = {"failed", "error", "inconclusive"};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        fputs("  ", out);
        if (st.color && n[order[i]])
            fputs(colors[order[i]], out);
        fprintf(out, "%s %d %s", marks[order[i]], n[order[i]], words[i]);
        if (st.color && n[order[i]])
            fputs(ANSI_RESET, out);
    }
    fputc('\n', out);
}
