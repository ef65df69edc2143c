#include "report/report.h"

#include <stdint.h>
#include <string.h>

/* Wider lines wrap in a default terminal and in CI logs, breaking the columns. */
#define TABLE_MAX_COLS 160
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

struct widths {
    int id, verdict, expected, observed;
};

static struct widths column_widths(const struct run_report *r)
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
    int avail = TABLE_MAX_COLS - w.id - w.verdict - 3 * (int)strlen(COL_GAP);
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
    put_cell(out, id, id_cap, w->id, 1);
    fputs(COL_GAP, out);
    put_cell(out, verdict, SIZE_MAX, w->verdict, 1);
    fputs(COL_GAP, out);
    put_cell(out, expected, exp_cap, w->expected, 1);
    fputs(COL_GAP, out);
    put_cell(out, observed, obs_cap, w->observed, 0);   /* no trailing blanks */
    fputc('\n', out);
}

void report_print_table(const struct run_report *r, FILE *out)
{
    struct widths w = column_widths(r);
    put_row(out, &w, "ID", SIZE_MAX, "VERDICT", "EXPECTED", SIZE_MAX, "OBSERVED", SIZE_MAX);
    int n[VERDICT_ERROR + 1] = {0};
    for (int i = 0; i < r->n_cases; i++) {
        const struct case_result *c = &r->cases[i];
        n[verdict_worse(VERDICT_PASS, c->verdict)]++;
        put_row(out, &w, c->id, sizeof c->id, verdict_name(c->verdict), c->expected,
                sizeof c->expected, c->observed, sizeof c->observed);
    }

    const char *state = r->ledger_balanced ? "ledger: balanced" : "ledger: NOT balanced";
    fputs(state, out);
    if (r->ledger_text[0]) {
        fputs(" (", out);
        put_cell(out, r->ledger_text, sizeof r->ledger_text, TABLE_MAX_COLS - (int)strlen(state) - 3, 0);
        fputc(')', out);
    }
    fputc('\n', out);
    if (r->errors_text[0]) {
        fputs("errors: ", out);
        put_cell(out, r->errors_text, sizeof r->errors_text, TABLE_MAX_COLS - 8, 0);
        fputc('\n', out);
    }
    fprintf(out, "%d cases: %d pass, %d fail, %d error, %d inconclusive\n", r->n_cases,
            n[VERDICT_PASS], n[VERDICT_FAIL], n[VERDICT_ERROR], n[VERDICT_INCONCLUSIVE]);
}
