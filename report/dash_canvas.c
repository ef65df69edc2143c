/* The dashboard's canvas: rows of cells in memory.  Views draw here; the tty
 * layer copies it to the screen and the tests read it as text. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/dash.h"

int dash_canvas_init(struct dash_canvas *c, int rows, int cols)
{
    if (rows < 1)
        rows = 1;
    if (cols < 1)
        cols = 1;
    struct dash_cell *cells = calloc((size_t)rows * (size_t)cols, sizeof *cells);
    if (!cells)
        return -1;
    free(c->cells);
    c->cells = cells;
    c->rows = rows;
    c->cols = cols;
    dash_canvas_clear(c);
    return 0;
}

void dash_canvas_free(struct dash_canvas *c)
{
    free(c->cells);
    c->cells = NULL;
    c->rows = c->cols = 0;
}

void dash_canvas_clear(struct dash_canvas *c)
{
    for (int i = 0; i < c->rows * c->cols; i++)
        c->cells[i] = (struct dash_cell){' ', DA_NORMAL};
}

int dash_canvas_put(struct dash_canvas *c, int row, int col, uint8_t attr, const char *text)
{
    if (row < 0 || row >= c->rows || col >= c->cols)
        return 0;
    int n = 0;
    for (const char *p = text; *p && col + n < c->cols; p++, n++) {
        if (col + n < 0)
            continue;
        unsigned char ch = (unsigned char)*p;
        struct dash_cell *cell = &c->cells[row * c->cols + col + n];
        cell->ch = ch >= 0x20 && ch < 0x7f ? (char)ch : '?'; /* the canvas is ASCII: a control never reaches the tty */
        cell->attr = attr;
    }
    return n;
}

int dash_canvas_printf(struct dash_canvas *c, int row, int col, uint8_t attr, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return dash_canvas_put(c, row, col, attr, buf);
}

void dash_canvas_bar(struct dash_canvas *c, int row, uint8_t attr)
{
    if (row < 0 || row >= c->rows)
        return;
    for (int i = 0; i < c->cols; i++)
        c->cells[row * c->cols + i].attr |= attr;
}

void dash_canvas_row(const struct dash_canvas *c, int row, char *buf, size_t cap)
{
    size_t n = 0;
    if (row >= 0 && row < c->rows)
        for (int i = 0; i < c->cols && n + 1 < cap; i++)
            buf[n++] = c->cells[row * c->cols + i].ch;
    while (n > 0 && buf[n - 1] == ' ')
        n--;
    if (cap)
        buf[n] = 0;
}

char *dash_canvas_text(const struct dash_canvas *c)
{
    size_t cap = (size_t)c->rows * ((size_t)c->cols + 1) + 1;
    char *out = malloc(cap), *p = out;
    if (!out)
        return NULL;
    for (int r = 0; r < c->rows; r++) {
        dash_canvas_row(c, r, p, (size_t)c->cols + 1);
        p += strlen(p);
        *p++ = '\n';
    }
    *p = 0;
    return out;
}
