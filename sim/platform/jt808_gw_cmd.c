/* The gateway's platform requests (0x8103 0x8104 0x8105 0x8201 0x8300 0x8108): built
 * once per step from the scenario's JSON body, sent to the addressed terminals,
 * split into subpackages when longer than one frame, entered in the ledger. */
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/core/clock.h"
#include "sim/platform/jt808_gw_internal.h"
#include "sim/proto/hex.h"
#include "sim/proto/jt808_json.h"
#include "sim/proto/jt808_kinds.h"

static uint8_t cmd_frame[JT808_MAX_FRAME];

/* An upgrade package (0x8108) given only by its size gets a generated one of that
 * size, so a scenario need not carry kilobytes of hex. */
static void fill_package(uint16_t msg_id, cJSON *b)
{
    const cJSON *len = cJSON_GetObjectItemCaseSensitive(b, "package_len");
    if (msg_id != 0x8108 || !cJSON_IsNumber(len) || cJSON_GetObjectItemCaseSensitive(b, "package_hex") ||
        len->valuedouble < 0 || len->valuedouble > 60000)
        return;
    size_t n = (size_t)len->valuedouble;
    uint8_t *pkg = malloc(n ? n : 1);
    if (!pkg)
        return;
    for (size_t i = 0; i < n; i++)
        pkg[i] = (uint8_t)(i * 31u + 7u);
    char *hex = hex_encode_alloc(pkg, n);
    free(pkg);
    if (!hex)
        return;
    cJSON_AddStringToObject(b, "package_hex", hex);
    free(hex);
}

/* Build the request once per header version from the step's JSON body. */
static int build_request(uint16_t msg_id, enum jt808_version v, const char *body_json, struct jt808_msg *m,
                         uint8_t *store, size_t cap, char *err, size_t errcap)
{
    cJSON *j = cJSON_CreateObject();
    char idhex[8];
    snprintf(idhex, sizeof idhex, "0x%04X", msg_id);
    cJSON_AddStringToObject(j, "msg_id", idhex);
    cJSON_AddStringToObject(j, "version", v == JT808_V2019 ? "2019" : "2013");
    if (v == JT808_V2019)
        cJSON_AddNumberToObject(j, "proto_version", 1);
    cJSON_AddStringToObject(j, "phone", "0");
    cJSON_AddNumberToObject(j, "serial", 0);
    cJSON_AddNumberToObject(j, "encryption", 0);
    if (body_json && body_json[0]) {
        cJSON *b = cJSON_Parse(body_json);
        if (!b) {
            snprintf(err, errcap, "command body is not JSON");
            cJSON_Delete(j);
            return -1;
        }
        fill_package(msg_id, b);
        cJSON_AddItemToObject(j, "body", b);
    } else if (msg_id == 0x8104 || msg_id == 0x8201) {
        cJSON_AddStringToObject(j, "body_hex", ""); /* these have no body */
    } else {
        cJSON_AddItemToObject(j, "body", cJSON_CreateObject());
    }
    enum jt808_rc rc = jt808_from_json(j, m, store, cap, err, errcap);
    cJSON_Delete(j);
    return rc == JT808_OK ? 0 : -1;
}

#define GW_CHUNK 1000 /* body bytes per subpackage */

struct split_ctx {
    struct gw_conn *c;
};

static void emit_fragment(const uint8_t *frame, size_t len, void *arg)
{
    struct split_ctx *sx = arg;
    gw_conn_send(sx->c, frame, len);
}

/* One request per header edition: the layout of some bodies (0x8300, 0x8108)
 * differs in 2019, and each connection is answered in its own edition. */
static struct jt808_msg req_tmpl[2];
static uint8_t req_store[2][64 * 1024];
static uint8_t big_body[2][64 * 1024];
static size_t big_len[2];

int gw_check_command(uint16_t msg_id, int version, const char *body_json, char *err, size_t errcap)
{
    if (jt808_kind_index(msg_id) < 0) {
        snprintf(err, errcap, "0x%04X is not a request the gateway sends", msg_id);
        return -1;
    }
    return build_request(msg_id, version == 2019 ? JT808_V2019 : JT808_V2013, body_json, &req_tmpl[0],
                         req_store[0], sizeof req_store[0], err, errcap);
}

void gw_cmd_send(struct gw *g, const struct ctl_msg *cm, const char *body)
{
    int ci = (int)cm->kind;
    uint16_t msg_id = jt808_kind_msg(ci);
    if (!msg_id || cm->fleet >= STATS_MAX_FLEETS)
        return;
    char err[256], first_err[256] = "";
    bool built[2] = {false, false};
    for (int v = 0; v < 2; v++) {
        enum jt808_version ver = v ? JT808_V2019 : JT808_V2013;
        struct jt808_err be;
        /* a body may fit one edition only (0x8300 has text_type in 2019): terminals of
         * the other are refused below */
        if (build_request(msg_id, ver, body, &req_tmpl[v], req_store[v], sizeof req_store[v], err, sizeof err) < 0) {
            if (!first_err[0])
                snprintf(first_err, sizeof first_err, "%s", err);
            continue;
        }
        /* a body longer than one frame takes is sent in subpackages */
        big_len[v] = 0;
        if (jt808_body_encode(&req_tmpl[v], big_body[v], sizeof big_body[v], &big_len[v], &be) != JT808_OK) {
            snprintf(g->st->error, sizeof g->st->error, "step %u: cannot encode 0x%04X: %s (%s)", cm->step, msg_id,
                     jt808_rc_text(be.rc), be.field ? be.field : "");
            return;
        }
        if (big_len[v] <= JT808_MAX_BODY)
            big_len[v] = 0;
        built[v] = true;
    }
    if (!built[0] && !built[1]) {
        snprintf(g->st->error, sizeof g->st->error, "step %u: command 0x%04X: %s", cm->step, msg_id, first_err);
        return;
    }
    uint64_t first = strtoull(cm->ident, NULL, 10);
    struct cmd_stats *cs = &g->st->cmd[cm->fleet][ci];
    for (struct gw_conn *c = g->conns; c; c = c->next) {
        if (!c->authed || c->closing || c->phone_num < first || c->phone_num >= first + cm->count)
            continue;
        if (!ctl_picked(c->phone_num - first, cm->count, cm->fraction))
            continue;
        if (c->npend >= GW_MAX_PEND) {
            /* never left: the terminal still owes answers to earlier requests */
            cs->offline++;
            continue;
        }
        int v = c->version == JT808_V2019;
        if (!built[v]) {
            cs->refused++; /* the body does not fit this terminal's edition */
            continue;
        }
        /* the template itself takes this terminal's header: no copy of the message per terminal */
        struct jt808_msg *req = &req_tmpl[v];
        req->h.serial = c->serial++;
        snprintf(req->h.phone, sizeof req->h.phone, "%s", c->phone);
        size_t len = 0;
        struct jt808_err e;
        if (big_len[v]) {
            /* longer than one frame's body: subpackages; the terminal's answer to
             * the last one (which completes the message) is the answer */
            size_t n = (big_len[v] + GW_CHUNK - 1) / GW_CHUNK;
            /* fragments take serials first .. first + n - 1 */
            c->serial = (uint16_t)(req->h.serial + n);
            struct split_ctx sx = {c};
            if (jt808_split(&req->h, req->h.serial, big_body[v], big_len[v], GW_CHUNK, emit_fragment, &sx) !=
                JT808_OK) {
                snprintf(g->st->error, sizeof g->st->error, "step %u: cannot split 0x%04X", cm->step, msg_id);
                return;
            }
            req->h.serial = (uint16_t)(req->h.serial + n - 1);
        } else if (jt808_encode(req, cmd_frame, sizeof cmd_frame, &len, &e) != JT808_OK) {
            snprintf(g->st->error, sizeof g->st->error, "step %u: cannot encode 0x%04X: %s (%s)", cm->step,
                     msg_id, jt808_rc_text(e.rc), e.field ? e.field : "");
            return;
        }
        struct gw_pend *p = &c->pend[c->npend++];
        p->sent_us = clock_now_us();
        p->due_us = p->sent_us + (cm->settle_us ? cm->settle_us : g->cfg->cmd_timeout_ms * 1000u);
        p->serial = req->h.serial;
        p->msg_id = msg_id;
        p->fleet = (uint8_t)cm->fleet;
        p->cmd = (uint8_t)ci;
        g->inflight++;
        cs->sent++;
        ledger_sent(&g->st->ledger);
        if (!big_len[v])
            gw_conn_send(c, cmd_frame, len);
        gw_conn_reschedule(c);
    }
}

