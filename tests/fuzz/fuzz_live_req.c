/* libFuzzer target: any bytes as a request line of the live statistics socket
 * (harness/live_req.c; a client of `fleetsim run --stats` is anyone who can
 * open the socket).  Either a request whose members hold what its op needs, or
 * an error; the reply echoing the id read is one line of UTF-8 JSON whose
 * "reply" is that id; the same bytes read the same twice. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "harness/live_req.h"
#include "harness/report_read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_str(const char *s, size_t cap, int has)
{
    size_t n = strnlen(s, cap);
    if (n >= cap || (has && n == 0) || (!has && n != 0))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* the line's bytes alone, no NUL after them: a read past len is ASan's to see */
    char *line = malloc(size ? size : 1);
    if (!line)
        return 0;
    memcpy(line, data, size);
    struct live_req q, again;
    char err[512], err2[512];
    err[0] = 0;
    int rc = live_req_parse(line, size, &q, err, sizeof err);
    int rc2 = live_req_parse(line, size, &again, err2, sizeof err2);
    if (rc != rc2 || (rc != 0 && rc != -1) || strcmp(q.id, again.id) != 0 || (rc && strcmp(err, err2) != 0))
        abort();
    if (strnlen(q.id, sizeof q.id) >= sizeof q.id)
        abort();
    cJSON *id = cJSON_Parse(q.id); /* the id is JSON text */
    if (!id)
        abort();
    if (rc == 0) {
        if ((unsigned)q.op >= LIVE_OP__COUNT)
            abort();
        check_str(q.fleet, sizeof q.fleet, q.has_fleet);
        check_str(q.terminal, sizeof q.terminal, q.has_terminal);
        switch (q.op) {
        case LIVE_OP_DISCONNECT:
            if (!q.has_fleet || !(q.fraction > 0 && q.fraction <= 1))
                abort();
            break;
        case LIVE_OP_RESIZE:
            if (!q.has_fleet || q.delta == 0 || q.delta > LIVE_DELTA_MAX || q.delta < -LIVE_DELTA_MAX)
                abort();
            break;
        case LIVE_OP_INSPECT:
            if (q.has_terminal ? (q.has_fleet || q.has_index) : !(q.has_fleet && q.has_index))
                abort();
            if (q.has_index && q.index > UINT32_MAX)
                abort();
            break;
        default:
            if (q.has_terminal || q.has_index)
                abort();
            break;
        }
        if (size > LIVE_REQ_MAX)
            abort();
    } else if (!err[0]) {
        abort(); /* every error says what */
    }
    /* the reply: one line of JSON, UTF-8, its "reply" the id */
    cJSON *o = rc == 0 ? live_reply_new(q.id, true) : live_reply_error(q.id, err);
    size_t len = 0;
    char *out = live_json_line(o, &len);
    if (!out || len < 2 || out[len - 1] != '\n' || memchr(out, '\n', len - 1) || strlen(out) != len)
        abort();
    if (!report_json_utf8(out, len))
        abort();
    cJSON *back = cJSON_ParseWithLength(out, len - 1);
    if (!back || !cJSON_Compare(cJSON_GetObjectItemCaseSensitive(back, "reply"), id, 1))
        abort();
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(back, "error");
    if (rc != 0 && (!cJSON_IsString(e) || strcmp(e->valuestring, err) != 0))
        abort();
    cJSON_Delete(back);
    cJSON_Delete(id);
    free(out);
    free(line);
    return 0;
}
