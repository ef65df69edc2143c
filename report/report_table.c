#include "report/report.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* Wider lines wrap in a default terminal and in CI logs, breaking the columns:
 * on a terminal the table takes its width (at least TABLE_MIN_COLS), elsewhere
 * (a log, a pipe) TABLE_MAX_COLS.  A cell that does not fit its column goes on
 * in that column on the next lines: nothing of it is cut. */
#define TABLE_MAX_COLS 160
#define TABLE_MIN_COLS 60
#define COL_GAP "  "
#define ELLIPSIS "\xE2\x80\xA6"   /* U+2026, one column */

/* One unit of a cell as printed: its bytes and the terminal columns it takes. */
struct glyph {
    unsigned char bytes[4];
    size_t len;
    int cols;
};

/* East Asian wide and fullwidth ranges: CJK text takes two columns. */
static int wide(uint32_t cp)
{
    static const uint32_t ranges[][2] = {
        {0x1100, 0x115F},   {0x2E80, 0x303E},   {0x3041, 0x33FF},   {0x3400, 0x4DBF},
        {0x4E00, 0x9FFF},   {0xA000, 0xA4CF},   {0xAC00, 0xD7A3},   {0xF900, 0xFAFF},
        {0xFE30, 0xFE4F},   {0xFF00, 0xFF60},   {0xFFE0, 0xFFE6},   {0x1F300, 0x1F64F},
        {0x1F900, 0x1F9FF}, {0x20000, 0x2FFFD}, {0x30000, 0x3FFFD},
    };
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++)
        if (cp >= ranges[i][0] && cp <= ranges[i][1])
            return 1;
    return 0;
}

/* Reads one glyph from s (n > 0 bytes); returns the bytes consumed.  Control
 * characters print as a space and stray bytes as '?', so one cell stays one line. */
static size_t glyph_next(const unsigned char *s, size_t n, struct glyph *g)
{
    g->len = 1;
    g->cols = 1;
    if (s[0] < 0x20 || s[0] == 0x7F) {
        g->bytes[0] = ' ';
        return 1;
    }
    if (s[0] < 0x80) {
        g->bytes[0] = s[0];
        return 1;
    }
    size_t len = (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3 : (s[0] & 0xF8) == 0xF0 ? 4 : 0;
    uint32_t cp = len == 2 ? s[0] & 0x1Fu : len == 3 ? s[0] & 0x0Fu : s[0] & 0x07u;
    for (size_t i = 1; i < len; i++) {
        if (i >= n || (s[i] & 0xC0) != 0x80) {
            len = 0;
            break;
        }
        cp = cp << 6 | (s[i] & 0x3Fu);
    }
    if (len == 0) {
        g->bytes[0] = '?';
        return 1;
    }
    memcpy(g->bytes, s, len);
    g->len = len;
    g->cols = wide(cp) ? 2 : 1;
    return len;
}

static int text_cols(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    int cols = 0;
    struct glyph g;
    for (size_t i = 0; i < n;) {
        i += glyph_next((const unsigned char *)s + i, n - i, &g);
        cols += g.cols;
    }
    return cols;
}

/* Prints s in exactly width columns (or fewer when !pad), cut with an ellipsis
 * when it does not fit. */
static void put_cell(FILE *out, const char *s, size_t cap, int width, int pad)
{
    size_t n = strnlen(s, cap);
    int fits = text_cols(s, cap) <= width;
    int budget = fits ? width : width - 1;
    int used = 0;
    struct glyph g;
    for (size_t i = 0; i < n;) {
        size_t step = glyph_next((const unsigned char *)s + i, n - i, &g);
        if (used + g.cols > budget)
            break;
        fwrite(g.bytes, 1, g.len, out);
        used += g.cols;
        i += step;
    }
    if (!fits && width > 0) {
        fputs(ELLIPSIS, out);
        used++;
    }
    while (pad && used < width) {
        fputc(' ', out);
        used++;
    }
}

static int max_int(int a, int b) { return a > b ? a : b; }

static int table_cols(FILE *out)
{
    struct winsize ws;
    if (isatty(fileno(out)) && ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col - 1 < TABLE_MIN_COLS ? TABLE_MIN_COLS : ws.ws_col - 1;
    return TABLE_MAX_COLS;
}

/* The next line of s within width columns: up to the last space that fits (the
 * space is dropped), or the glyphs that fit when a word is longer.  Bytes taken. */
static size_t line_take(const char *s, size_t n, int width, size_t *printed)
{
    int cols = 0;
    size_t last_space = 0, i = 0;
    struct glyph g;
    while (i < n) {
        size_t step = glyph_next((const unsigned char *)s + i, n - i, &g);
        if (cols + g.cols > width)
            break;
        if (s[i] == ' ')
            last_space = i;
        cols += g.cols;
        i += step;
    }
    if (i >= n) {
        *printed = n;
        return n;
    }
    if (last_space > 0) {
        *printed = last_space;
        return last_space + 1;
    }
    if (i == 0) { /* a glyph wider than the column: it goes alone */
        i = glyph_next((const unsigned char *)s, n, &g);
    }
    *printed = i;
    return i;
}

struct widths {
    int id, verdict, expected, observed;
};

/* A line of text within max_cols, going on in lines indented by two. */
static void put_wrapped(FILE *out, const char *s, int max_cols)
{
    size_t n = strlen(s), off = 0;
    int first = 1;
    while (first || off < n) {
        size_t printed = 0;
        int width = first ? max_cols : max_cols - 2;
        size_t took = off < n ? line_take(s + off, n - off, width, &printed) : 0;
        if (!first)
            fputs("  ", out);
        put_cell(out, s + off, printed, width, 0);
        fputc('\n', out);
        off += took;
        first = 0;
    }
}

static struct widths column_widths(const struct run_report *r, int max_cols)
{
    struct widths w = {
        .id = (int)strlen("ID"),
        .verdict = (int)strlen("VERDICT"),
        .expected = (int)strlen("EXPECTED"),
        .observed = (int)strlen("OBSERVED"),
    };
    for (int i = 0; i < r->n_cases; i++) {
        const struct case_result *c = &r->cases[i];
        w.id = max_int(w.id, text_cols(c->id, sizeof c->id));
        w.verdict = max_int(w.verdict, (int)strlen(verdict_name(c->verdict)));
        w.expected = max_int(w.expected, text_cols(c->expected, sizeof c->expected));
        w.observed = max_int(w.observed, text_cols(c->observed, sizeof c->observed));
    }
    /* Over the line budget, the two free-text columns share what is left; the
     * narrower keeps its width when it needs less than half. */
    int avail = max_cols - w.id - w.verdict - 3 * (int)strlen(COL_GAP);
    if (avail < 20)
        avail = 20;
    if (w.expected + w.observed > avail) {
        int half = avail / 2;
        if (w.expected <= half)
            w.observed = avail - w.expected;
        else if (w.observed <= half)
            w.expected = avail - w.observed;
        else
            w.expected = half, w.observed = avail - half;
    }
    return w;
}

static void put_row(FILE *out, const struct widths *w, const char *id, size_t id_cap,
                    const char *verdict, const char *expected, size_t exp_cap,
                    const char *observed, size_t obs_cap)
{
    size_t en = strnlen(expected, exp_cap), on = strnlen(observed, obs_cap);
    size_t eo = 0, oo = 0;
    int first = 1;
    /* the free-text cells line by line within their columns, the rest on the first */
    while (first || eo < en || oo < on) {
        put_cell(out, first ? id : "", first ? id_cap : 1, w->id, 1);
        fputs(COL_GAP, out);
        put_cell(out, first ? verdict : "", SIZE_MAX, w->verdict, 1);
        fputs(COL_GAP, out);
        size_t ep = 0, op = 0;
        size_t et = eo < en ? line_take(expected + eo, en - eo, w->expected, &ep) : 0;
        put_cell(out, expected + eo, ep, w->expected, 1);
        fputs(COL_GAP, out);
        size_t ot = oo < on ? line_take(observed + oo, on - oo, w->observed, &op) : 0;
        put_cell(out, observed + oo, op, w->observed, 0); /* no trailing blanks */
        fputc('\n', out);
        eo += et;
        oo += ot;
        first = 0;
    }
}

void report_print_table(const struct run_report *r, FILE *out)
{
    int max_cols = table_cols(out);
    struct widths w = column_widths(r, max_cols);
    put_row(out, &w, "ID", SIZE_MAX, "VERDICT", "EXPECTED", SIZE_MAX, "OBSERVED", SIZE_MAX);
    int n[VERDICT_ERROR + 1] = {0};
    for (int i = 0; i < r->n_cases; i++) {
        const struct case_result *c = &r->cases[i];
        n[verdict_worse(VERDICT_PASS, c->verdict)]++;
        put_row(out, &w, c->id, sizeof c->id, verdict_name(c->verdict), c->expected,
                sizeof c->expected, c->observed, sizeof c->observed);
    }

    char line[600];
    snprintf(line, sizeof line, "%s%s%s%s", r->ledger_balanced ? "ledger: balanced" : "ledger: NOT balanced",
             r->ledger_text[0] ? " (" : "", r->ledger_text, r->ledger_text[0] ? ")" : "");
    put_wrapped(out, line, max_cols);
    if (r->errors_text[0]) {
        snprintf(line, sizeof line, "errors: %s", r->errors_text);
        put_wrapped(out, line, max_cols);
    }
    fprintf(out, "%d cases: %d pass, %d fail, %d error, %d inconclusive\n", r->n_cases,
            n[VERDICT_PASS], n[VERDICT_FAIL], n[VERDICT_ERROR], n[VERDICT_INCONCLUSIVE]);
}
