/* libFuzzer target: any lines from a stats socket into the dashboard
 * (report/dash_model.c; whatever listens on the socket path a user gives
 * `fleetsim top` writes them).  Lines go to two sources by their first byte's
 * low bit; replies go where dash_tty sends them (inspect, pause/resume, the
 * message line); the model is merged after each line; every view, the prompts
 * and the overview text are drawn at a small and a large size, and nothing is
 * drawn outside the canvas or outside printable ASCII; the keys make only
 * requests the run's parser takes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "harness/live_req.h"
#include "harness/report_read.h"
#include "report/dash.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Printable ASCII only; with text, also its rows: as many as the canvas has, none wider. */
static void check_canvas(const struct dash_canvas *c, int text)
{
    for (int i = 0; i < c->rows * c->cols; i++)
        if (c->cells[i].ch < 0x20 || c->cells[i].ch > 0x7e)
            abort();
    if (!text)
        return;
    char *t = dash_canvas_text(c);
    if (!t)
        abort();
    int rows = 0;
    for (const char *p = t; *p; rows++) {
        const char *nl = strchr(p, '\n');
        if (!nl || nl - p > c->cols)
            abort();
        p = nl + 1;
    }
    if (rows != c->rows)
        abort();
    free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct dash_model m;
    static struct dash_canvas small, large;
    if (!small.cells && (dash_canvas_init(&small, 24, 80) < 0 || dash_canvas_init(&large, 50, 200) < 0))
        abort();
    if (dash_model_init(&m) < 0)
        return 0;
    dash_model_add_source(&m, "/fuzz/0.sock");
    dash_model_add_source(&m, "/fuzz/1.sock");
    struct dash_ui u;
    memset(&u, 0, sizeof u);
    double now = 1000;
    size_t start = 0;
    for (size_t k = 0; k <= size; k++) {
        if (k < size && data[k] != '\n')
            continue;
        const char *line = (const char *)data + start;
        size_t len = k - start;
        start = k + 1;
        int src = len && (data[k - len] & 1);
        cJSON *reply = NULL;
        char err[512];
        err[0] = 0;
        enum dash_line kind = dash_model_line(&m, src, line, len, &reply, err, sizeof err);
        if (kind == DL_BAD && !err[0])
            abort(); /* says what */
        if ((kind == DL_REPLY) != (reply != NULL))
            abort();
        if (reply) {
            char text[200];
            int bad;
            if (dash_model_inspect(&m, reply, err, sizeof err) == 0)
                snprintf(m.inspect.asked, sizeof m.inspect.asked, "%s", m.inspect.terminal);
            dash_model_reply(&m, reply);
            dash_reply_text(reply, text, sizeof text, &bad);
            if (strlen(text) >= sizeof text)
                abort();
            cJSON_Delete(reply);
        }
        now += 0.7;
        dash_model_merge(&m, now, len & 1);
        if (m.n_events > DASH_MAX_EVENTS || m.n_verdicts > DASH_MAX_VERDICTS || m.inspect.n_frames > DASH_MAX_FRAMES)
            abort();
        for (int i = 1; i < m.n_events; i++)
            if (m.events[i - 1].t > m.events[i].t)
                abort(); /* newest last */
        if (len > 8 && data[k - len + 1] == '!')
            dash_model_gone(&m, src, "fuzz");
    }
    snprintf(u.watching, sizeof u.watching, "%s", m.inspect.terminal);
    snprintf(u.message, sizeof u.message, "%s", m.merge_err);
    for (int v = 0; v < DV__COUNT; v++) {
        u.view = (enum dash_view_id)v;
        u.prompt = (enum dash_prompt)(v % 4);
        u.sel = v % 3;
        dash_draw(&small, &m, &u, now);
        check_canvas(&small, v == DV__COUNT - 1);
        dash_draw(&large, &m, &u, now);
        check_canvas(&large, v == 0);
    }
    char *t = dash_overview_text(&m, 120, now);
    free(t);
    /* keys: a few that make requests, then the input's last bytes as keys (1-5 the
     * arrows, Esc, Backspace, Enter); every request a line the run's parser takes */
    static const int keys[] = {'p', '+', '-', 'f', 4, '+', 'f', '/', '1', 5, '?', 'x'};
    u.prompt = DP_NONE;
    u.sel = 0;
    size_t tail = size > 48 ? size - 48 : 0;
    for (size_t i = 0; i < sizeof keys / sizeof *keys + (size - tail); i++) {
        int key = i < sizeof keys / sizeof *keys ? keys[i] : data[tail + i - sizeof keys / sizeof *keys];
        if (key >= 1 && key <= 5)
            key = DK_UP + key - 1;
        struct dash_request req;
        dash_key(&u, &m, key, &req);
        if (!req.n)
            continue;
        struct live_req q;
        char err[256];
        size_t n = strlen(req.line);
        if (report_json_utf8(req.line, n) && live_req_parse(req.line, n, &q, err, sizeof err) != 0)
            abort(); /* the dashboard asks what the run cannot read */
    }
    dash_model_free(&m);
    return 0;
}
