/* The dashboard's keys: a state machine over the prompt and the view, and the
 * request lines the keys ask the run for (docs/live.md). */
#include <stdio.h>
#include <string.h>

#include "harness/live_req.h"
#include "report/dash.h"

void dash_request_line(struct dash_ui *u, struct dash_request *req, const char *op, const char *extra)
{
    snprintf(req->op, sizeof req->op, "%s", op);
    snprintf(req->line, sizeof req->line, "{\"id\":%llu,\"op\":\"%s\"%s%s}", (unsigned long long)++u->next_id, op,
             extra && extra[0] ? "," : "", extra ? extra : "");
    req->n = 1;
}

/* A JSON string's text (for an id typed by the user): quotes and backslashes
 * escaped, controls dropped. */
static void json_str(const char *s, char *out, size_t cap)
{
    size_t n = 0;
    for (; *s && n + 3 < cap; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch < 0x20)
            continue;
        if (ch == '"' || ch == '\\')
            out[n++] = '\\';
        out[n++] = (char)ch;
    }
    out[n] = 0;
}

static const struct dash_fleet *selected(const struct dash_model *m, const struct dash_ui *u, const char **id,
                                         uint64_t *planned)
{
    if (!m->have_cur || u->sel < 0 || u->sel >= m->cur->n_fleets)
        return NULL;
    const struct snapshot_fleet *f = &m->cur->fleets[u->sel];
    *id = f->id;
    *planned = f->planned;
    for (int k = 0; k < m->n_fleets; k++)
        if (strcmp(m->fleets[k].id, f->id) == 0)
            return &m->fleets[k];
    return NULL;
}

static void say(struct dash_ui *u, int bad, const char *text)
{
    snprintf(u->message, sizeof u->message, "%s", text);
    u->msg_bad = bad;
}

static void fleet_request(struct dash_ui *u, const struct dash_model *m, int key, struct dash_request *req)
{
    const char *id = NULL;
    uint64_t planned = 0;
    const struct dash_fleet *d = selected(m, u, &id, &planned);
    if (!id) {
        say(u, 1, "no fleet selected (no document yet)");
        return;
    }
    char fid[2 * FLEET_ID_LEN], extra[128];
    json_str(id, fid, sizeof fid);
    if (key == 'f') {
        snprintf(extra, sizeof extra, "\"fleet\":\"%s\",\"fraction\":0.1", fid);
        dash_request_line(u, req, "disconnect", extra);
        snprintf(req->fleet, sizeof req->fleet, "%s", id);
        return;
    }
    /* 10% of the active terminals (of the planned ones before the run says) */
    int64_t base = d && d->active >= 0 ? d->active : (int64_t)planned;
    int64_t delta = (base + 9) / 10;
    if (delta < 1)
        delta = 1;
    if (delta > LIVE_DELTA_MAX)
        delta = LIVE_DELTA_MAX; /* the most one resize may move: the run refuses more */
    if (key == '-')
        delta = -delta;
    snprintf(extra, sizeof extra, "\"fleet\":\"%s\",\"delta\":%lld", fid, (long long)delta);
    dash_request_line(u, req, "resize", extra);
    snprintf(req->fleet, sizeof req->fleet, "%s", id);
    req->delta = (long)delta;
}

void dash_key(struct dash_ui *u, const struct dash_model *m, int key, struct dash_request *req)
{
    req->n = 0;
    switch (u->prompt) {
    case DP_HELP:
        u->prompt = DP_NONE; /* any key closes it */
        return;
    case DP_QUIT:
        if (key == 'y' || key == 'Y')
            u->quit = 1;
        else if (key == 'n' || key == 'N' || key == DK_ESC || key == 'q')
            u->prompt = DP_NONE;
        return;
    case DP_SEARCH: {
        size_t n = strlen(u->input);
        if (key == DK_ESC) {
            u->prompt = DP_NONE;
        } else if (key == DK_BACKSPACE) {
            if (n)
                u->input[n - 1] = 0;
        } else if (key == DK_ENTER) {
            u->prompt = DP_NONE;
            if (!n)
                return;
            snprintf(u->watching, sizeof u->watching, "%s", u->input);
            u->view = DV_TERMINAL;
            char t[96], extra[128];
            json_str(u->input, t, sizeof t);
            snprintf(extra, sizeof extra, "\"terminal\":\"%s\"", t);
            dash_request_line(u, req, "inspect", extra);
        } else if (key >= 0x20 && key < 0x7f && n + 1 < sizeof u->input) {
            u->input[n] = (char)key;
            u->input[n + 1] = 0;
        }
        return;
    }
    case DP_NONE: break;
    }
    int nf = m->have_cur ? m->cur->n_fleets : 0;
    switch (key) {
    case 'q':
    case 'Q':
        if (dash_model_running(m))
            u->prompt = DP_QUIT;
        else
            u->quit = 1;
        break;
    case '\t': u->view = (enum dash_view_id)((u->view + 1) % DV__COUNT); break;
    case '1': case '2': case '3': case '4': case '5': case '6': u->view = (enum dash_view_id)(key - '1'); break;
    case DK_UP:
        if (u->sel > 0)
            u->sel--;
        break;
    case DK_DOWN:
        if (u->sel + 1 < nf)
            u->sel++;
        break;
    case '/':
        u->prompt = DP_SEARCH;
        u->input[0] = 0;
        break;
    case '?': u->prompt = DP_HELP; break;
    case DK_ESC: u->message[0] = 0; break;
    case 'p': {
        int paused = 0;
        for (int k = 0; k < m->n_fleets; k++)
            paused |= m->fleets[k].paused;
        dash_request_line(u, req, paused ? "resume" : "pause", NULL);
        break;
    }
    case '+':
    case '-':
    case 'f': fleet_request(u, m, key, req); break;
    default: break;
    }
}

void dash_reply_text(const cJSON *reply, char *buf, size_t cap, int *bad)
{
    const cJSON *ok = cJSON_GetObjectItemCaseSensitive(reply, "ok");
    *bad = !cJSON_IsTrue(ok);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(reply, "error");
    if (*bad) {
        snprintf(buf, cap, "refused: %s", cJSON_IsString(e) ? e->valuestring : "(no reason given)");
        return;
    }
    /* ok: the members beyond reply and ok, as "key value" */
    size_t n = (size_t)snprintf(buf, cap, "ok");
    const cJSON *c;
    cJSON_ArrayForEach(c, reply)
    {
        if (!c->string || !strcmp(c->string, "reply") || !strcmp(c->string, "ok") || !strcmp(c->string, "frames") ||
            !strcmp(c->string, "counters") || n + 1 >= cap)
            continue;
        char *t = cJSON_IsString(c) ? NULL : cJSON_PrintUnformatted(c);
        n += (size_t)snprintf(buf + n, cap - n, ", %s %s", c->string, t ? t : c->valuestring);
        if (t)
            cJSON_free(t);
        if (n >= cap)
            break;
    }
}
