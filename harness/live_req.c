/* Parsing requests of the live statistics socket and building their replies
 * (live_req.h; the protocol is in docs/live.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/live_req.h"
#include "harness/report_read.h"

static const char *const op_names[LIVE_OP__COUNT] = {"pause", "resume", "disconnect", "resize", "inspect"};

const char *live_op_name(enum live_op op)
{
    return (unsigned)op < LIVE_OP__COUNT ? op_names[op] : "?";
}

const char *live_op_list(void)
{
    return "pause, resume, disconnect, resize, inspect";
}

/* Members each op takes besides "id" and "op". */
static const char *const op_members[LIVE_OP__COUNT][4] = {
    [LIVE_OP_PAUSE] = {"fleet"},
    [LIVE_OP_RESUME] = {"fleet"},
    [LIVE_OP_DISCONNECT] = {"fleet", "fraction"},
    [LIVE_OP_RESIZE] = {"fleet", "delta"},
    [LIVE_OP_INSPECT] = {"terminal", "fleet", "index"},
};

static int fail(char *err, size_t errcap, const char *fmt, const char *a, const char *b)
{
    snprintf(err, errcap, fmt, a, b);
    return -1;
}

/* A name from the request for a message: its first 40 bytes or so, cut before a
 * character rather than inside one (the reply is JSON, UTF-8 throughout), "..."
 * when cut. */
static void shown_name(const char *s, char *out, size_t cap)
{
    size_t n = strlen(s), k = n > 40 ? 40 : n;
    while (k < n && k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
        k--;
    snprintf(out, cap, "%.*s%s", (int)k, s, k < n ? "..." : "");
}

/* A string member of at most cap - 1 bytes: 1 present, 0 absent, -1 error. */
static int str_member(const cJSON *root, const char *op, const char *key, const char *what, char *out,
                      size_t cap, char *err, size_t errcap)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!v)
        return 0;
    if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) >= cap) {
        snprintf(err, errcap, "op \"%s\": member \"%s\": %s%s of 1 to %zu bytes", op, key,
                 cJSON_IsString(v) ? "" : "a string: ", what, cap - 1);
        return -1;
    }
    memcpy(out, v->valuestring, strlen(v->valuestring) + 1);
    return 1;
}

int live_req_parse(const char *line, size_t len, struct live_req *req, char *err, size_t errcap)
{
    memset(req, 0, sizeof *req);
    snprintf(req->id, sizeof req->id, "null");
    if (len > LIVE_REQ_MAX) {
        snprintf(err, errcap, "request: %zu bytes, more than %d", len, LIVE_REQ_MAX);
        return -1;
    }
    char text[LIVE_REQ_MAX + 1];
    memcpy(text, line, len);
    text[len] = 0;
    if (memchr(text, 0, len))
        return fail(err, errcap, "request: a NUL byte in the line%s%s", "", "");
    if (!report_json_utf8(text, len))
        return fail(err, errcap, "request: not UTF-8%s%s", "", "");
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
    if (!root) {
        report_json_syntax_error("request", text, end ? end : cJSON_GetErrorPtr(), err, errcap);
        return -1;
    }
    int rc = -1;
    if (!cJSON_IsObject(root)) {
        fail(err, errcap, "request: not a JSON object (one per line: {\"id\": 1, \"op\": \"pause\"})%s%s", "", "");
        goto out;
    }
    /* the id first, so that every later error can be answered to it */
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "id");
    if (!id) {
        fail(err, errcap, "request: member \"id\": missing (a number or a string the reply echoes)%s%s", "", "");
        goto out;
    }
    if (cJSON_IsNumber(id) || cJSON_IsString(id)) {
        char *t = cJSON_PrintUnformatted(id);
        size_t n = t ? strlen(t) : 0;
        if (t && n < sizeof req->id && (!cJSON_IsNumber(id) || isfinite(id->valuedouble)))
            memcpy(req->id, t, n + 1);
        cJSON_free(t);
        if (n >= sizeof req->id) {
            snprintf(err, errcap, "request: member \"id\": at most %d bytes of JSON", LIVE_ID_MAX - 1);
            goto out;
        }
    } else {
        fail(err, errcap, "request: member \"id\": a number or a string%s%s", "", "");
        goto out;
    }
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(root, "op");
    if (!op) {
        fail(err, errcap, "request: member \"op\": missing; ops: %s%s", live_op_list(), "");
        goto out;
    }
    if (!cJSON_IsString(op)) {
        fail(err, errcap, "request: member \"op\": a string; ops: %s%s", live_op_list(), "");
        goto out;
    }
    int k = 0;
    while (k < LIVE_OP__COUNT && strcmp(op_names[k], op->valuestring) != 0)
        k++;
    if (k == LIVE_OP__COUNT) {
        char shown[64];
        shown_name(op->valuestring, shown, sizeof shown);
        fail(err, errcap, "op \"%s\": unknown; ops: %s", shown, live_op_list());
        goto out;
    }
    req->op = (enum live_op)k;
    const char *name = op_names[k];
    for (const cJSON *m = root->child; m; m = m->next) {
        if (strcmp(m->string, "id") == 0 || strcmp(m->string, "op") == 0)
            continue;
        int known = 0;
        for (int i = 0; i < 4 && op_members[k][i]; i++)
            known |= strcmp(op_members[k][i], m->string) == 0;
        if (!known) {
            char shown[64];
            shown_name(m->string, shown, sizeof shown);
            snprintf(err, errcap, "op \"%s\": member \"%s\": unknown (it takes: %s%s%s%s%s)", name, shown,
                     op_members[k][0], op_members[k][1] ? ", " : "", op_members[k][1] ? op_members[k][1] : "",
                     op_members[k][2] ? ", " : "", op_members[k][2] ? op_members[k][2] : "");
            goto out;
        }
    }
    int f = str_member(root, name, "fleet", "a fleet id", req->fleet, sizeof req->fleet, err, errcap);
    if (f < 0)
        goto out;
    req->has_fleet = f > 0;
    switch (req->op) {
    case LIVE_OP_PAUSE:
    case LIVE_OP_RESUME:
        break;
    case LIVE_OP_DISCONNECT: {
        const cJSON *fr = cJSON_GetObjectItemCaseSensitive(root, "fraction");
        if (!req->has_fleet || !fr) {
            fail(err, errcap, "op \"disconnect\": member \"%s\": missing%s", !req->has_fleet ? "fleet" : "fraction", "");
            goto out;
        }
        if (!cJSON_IsNumber(fr) || !(fr->valuedouble > 0 && fr->valuedouble <= 1)) {
            fail(err, errcap, "op \"disconnect\": member \"fraction\": a number in (0,1]%s%s", "", "");
            goto out;
        }
        req->fraction = fr->valuedouble;
        break;
    }
    case LIVE_OP_RESIZE: {
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "delta");
        if (!req->has_fleet || !d) {
            fail(err, errcap, "op \"resize\": member \"%s\": missing%s", !req->has_fleet ? "fleet" : "delta", "");
            goto out;
        }
        /* 0 would move nothing: a request that does nothing is a mistake of its sender */
        if (!cJSON_IsNumber(d) || d->valuedouble != floor(d->valuedouble) || d->valuedouble == 0 ||
            fabs(d->valuedouble) > LIVE_DELTA_MAX) {
            snprintf(err, errcap, "op \"resize\": member \"delta\": a signed integer, not 0, of at most %d either way",
                     LIVE_DELTA_MAX);
            goto out;
        }
        req->delta = (int64_t)d->valuedouble;
        break;
    }
    case LIVE_OP_INSPECT: {
        int t = str_member(root, name, "terminal", "a device id", req->terminal, sizeof req->terminal, err, errcap);
        if (t < 0)
            goto out;
        req->has_terminal = t > 0;
        const cJSON *ix = cJSON_GetObjectItemCaseSensitive(root, "index");
        if (ix) {
            if (!cJSON_IsNumber(ix) || ix->valuedouble < 0 || ix->valuedouble != floor(ix->valuedouble) ||
                ix->valuedouble >= 4294967296.0) {
                fail(err, errcap, "op \"inspect\": member \"index\": an integer from 0 (the terminal's index in its fleet)%s%s",
                     "", "");
                goto out;
            }
            req->has_index = true;
            req->index = (uint64_t)ix->valuedouble;
        }
        if (req->has_terminal ? (req->has_fleet || req->has_index) : !(req->has_fleet && req->has_index)) {
            fail(err, errcap, "op \"inspect\": either \"terminal\" (a device id) or \"fleet\" and \"index\"%s%s", "", "");
            goto out;
        }
        break;
    }
    default:
        break;
    }
    rc = 0;
out:
    cJSON_Delete(root);
    return rc;
}

void live_resize_plan(uint32_t cur, int64_t delta, uint32_t max, uint32_t shard, uint32_t shards,
                      struct live_resize *out)
{
    int64_t want = (int64_t)cur + delta;
    out->clamped[0] = 0;
    if (want > (int64_t)max) {
        want = max;
        snprintf(out->clamped, sizeof out->clamped, "at the fleet's max %u", max);
    } else if (want < 0) {
        want = 0;
        snprintf(out->clamped, sizeof out->clamped, "at 0");
    }
    out->active = (uint32_t)want;
    out->here = fleet_shard_size(out->active, shards > 1 ? shard : 0, shards > 1 ? shards : 1);
}

cJSON *live_reply_new(const char *id, bool ok)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddItemToObject(o, "reply", cJSON_CreateRaw(id && id[0] ? id : "null"));
    cJSON_AddBoolToObject(o, "ok", ok);
    return o;
}

cJSON *live_reply_error(const char *id, const char *err)
{
    cJSON *o = live_reply_new(id, false);
    if (o)
        cJSON_AddStringToObject(o, "error", err);
    return o;
}

char *live_json_line(cJSON *reply, size_t *len)
{
    char *text = reply ? cJSON_PrintUnformatted(reply) : NULL;
    cJSON_Delete(reply);
    if (!text)
        return NULL;
    size_t n = strlen(text);
    char *line = malloc(n + 2);
    if (line) {
        memcpy(line, text, n);
        line[n] = '\n';
        line[n + 1] = 0;
        *len = n + 1;
    }
    cJSON_free(text);
    return line;
}
