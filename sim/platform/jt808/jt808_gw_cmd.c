/* The gateway's platform requests (every kind of jt808_kinds.c): built once per
 * step from the scenario's JSON body (or the kind's default body), sent to the
 * addressed terminals, split into subpackages when longer than one frame (the
 * frames kept for a terminal's 0x0005), entered in the ledger. */
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/core/clock.h"
#include "sim/platform/jt808/jt808_gw_internal.h"
#include "sim/proto/hex.h"
#include "sim/proto/jt808_json.h"
#include "sim/proto/jt808_kinds.h"
#include "sim/proto/jt808_pkgs.h"
#include "sim/platform/core/store.h"

_Static_assert(JT808_N_KINDS <= STATS_CMD_KINDS, "every JT/T 808 request has its command counters");

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
    if (!(body_json && body_json[0]))
        body_json = jt808_kind_default_body(jt808_kind_index(msg_id), v == JT808_V2019 ? 2019 : 2013);
    if (body_json && body_json[0]) {
        cJSON *b = cJSON_Parse(body_json);
        if (!b) {
            snprintf(err, errcap, "command body is not JSON");
            cJSON_Delete(j);
            return -1;
        }
        fill_package(msg_id, b);
        cJSON_AddItemToObject(j, "body", b);
    } else if (msg_id == 0x8A00) {
        /* the gateway fills in its own key (gw_cmd_begin): a bodiless one means it has none */
        snprintf(err, errcap, "0x8A00 needs a body with the platform's RSA public key, {\"e\": 65537, \"n\": "
                              "\"<128 bytes in hex>\"}: the gateway has no key of its own (platform.rsa off)");
        cJSON_Delete(j);
        return -1;
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

/* A scratch request for checking a scenario's command bodies before a run. */
static struct jt808_msg check_tmpl;
static uint8_t check_store[64 * 1024];

/* A command the core has begun: the request built once per header edition (the
 * layout of some bodies, 0x8300 and 0x8108, differs in 2019, and each terminal is
 * spoken to in its own), sent to the connections the core names, a batch at a
 * time as the core paces them, until it says the command has ended. */
struct gw_cmd_job {
    struct gw_cmd_job *next;
    uint32_t task;
    uint32_t fleet, step;
    uint64_t settle_us;
    uint16_t msg_id;
    int ci;
    struct gw_want *want;     /* what answers must echo (NULL: nothing) */
    bool built[2];
    struct jt808_msg tmpl[2];
    uint8_t store[2][64 * 1024];
    uint8_t big_body[2][64 * 1024];  /* the body, encoded (sent in packages when long) */
    size_t big_len[2];
};

/* Does kind msg_id exist in edition v?  0, or -1 with why in err. */
static int edition_check(uint16_t msg_id, enum jt808_version v, char *err, size_t errcap)
{
    const struct jt808_kind_info *k = jt808_kind_info(jt808_kind_index(msg_id));
    unsigned want = v == JT808_V2019 ? JT808_KE_2019 : JT808_KE_2013;
    if (k && (k->editions & want))
        return 0;
    snprintf(err, errcap, "0x%04X exists in JT/T 808-%s only: not a request for %s terminals", msg_id,
             want == JT808_KE_2019 ? "2013" : "2019", want == JT808_KE_2019 ? "2019" : "2013 (or 2011)");
    return -1;
}

int gw_check_command(uint16_t msg_id, int version, const char *body_json, char *err, size_t errcap)
{
    if (jt808_kind_index(msg_id) < 0) {
        snprintf(err, errcap, "0x%04X is not a request the gateway sends", msg_id);
        return -1;
    }
    if (edition_check(msg_id, version == 2019 ? JT808_V2019 : JT808_V2013, err, errcap) < 0)
        return -1;
    /* a bodiless 0x8A00 gets the gateway's key, which a scenario check does not have:
     * its shape is checked with a stand-in (e 65537, n 0x80..01) */
    char stand_in[300];
    if (msg_id == 0x8A00 && !(body_json && body_json[0])) {
        int k = snprintf(stand_in, sizeof stand_in, "{\"e\":65537,\"n\":\"80");
        for (int i = 0; i < 126; i++)
            k += snprintf(stand_in + k, sizeof stand_in - (size_t)k, "00");
        snprintf(stand_in + k, sizeof stand_in - (size_t)k, "01\"}");
        body_json = stand_in;
    }
    return build_request(msg_id, version == 2019 ? JT808_V2019 : JT808_V2013, body_json, &check_tmpl,
                         check_store, sizeof check_store, err, errcap);
}

void gw_cmd_result(struct gw *g, const struct gw_conn *c, const struct gw_pend *p, int state)
{
    if (bus_cmd_result(&g->bus, p->task, (uint8_t)state, c->phone) < 0 && !g->st->error[0])
        snprintf(g->st->error, sizeof g->st->error, "gateway %d: %s", g->id, g->bus.err);
}

/* Send job j to connection c; false when the job has to stop (its error is in
 * the slot). */
static bool send_one(struct gw *g, struct gw_cmd_job *j, struct gw_conn *c)
{
    struct cmd_stats *cs = &g->st->cmd[j->fleet][j->ci];
    struct gw_pend busy = {.task = j->task};
    if (c->npend >= GW_MAX_PEND) {
        /* never left: the terminal still owes answers to earlier requests */
        cs->offline++;
        gw_cmd_result(g, c, &busy, STORE_CMD_FAIL);
        return true;
    }
    int v = c->version == JT808_V2019;
    if (!j->built[v]) {
        cs->refused++; /* the body does not fit this terminal's edition */
        gw_cmd_result(g, c, &busy, STORE_CMD_FAIL);
        return true;
    }
    /* the template itself takes this terminal's header: no copy of the message per terminal */
    struct jt808_msg *req = &j->tmpl[v];
    req->h.serial = c->serial++;
    snprintf(req->h.phone, sizeof req->h.phone, "%s", c->phone);
    size_t len = 0;
    struct jt808_err e;
    /* longer than one frame's body, or than one encrypted frame's (819 bytes) when it
     * goes encrypted: subpackages, each package's body encrypted on its own */
    EVP_PKEY *key = gw_rsa_peer_for(c, j->msg_id);
    bool split = j->big_len[v] > JT808_MAX_BODY || (key && j->big_len[v] > JT808_RSA_MAX_PLAIN);
    if (split) {
        /* the terminal's answer to the last package (which completes the message) is
         * the answer; the packages are kept for its 0x0005 */
        size_t chunk = key ? JT808_PKGS_RSA_CHUNK : GW_CHUNK;
        struct jt808_pkgs *pk = jt808_pkgs_make(key, JT808_PKGS_ALL, &req->h, req->h.serial, j->big_body[v],
                                                j->big_len[v], chunk, &e);
        if (!pk) {
            if (key)
                g->st->c[GWC_RSA_ERRORS]++;
            snprintf(g->st->error, sizeof g->st->error, "step %u: cannot split 0x%04X: %s (%s)", j->step,
                     j->msg_id, jt808_rc_text(e.rc), e.field ? e.field : "");
            return false;
        }
        /* packages take serials first .. first + total - 1 */
        c->serial = (uint16_t)(req->h.serial + pk->total);
        for (unsigned i = 1; i <= pk->total; i++) {
            if (jt808_pkgs_frame(pk, i, cmd_frame, sizeof cmd_frame, &len, &e) != JT808_OK)
                break; /* cannot be: every package fits a frame */
            gw_conn_send(c, cmd_frame, len);
        }
        if (key)
            g->st->c[GWC_RSA_ENCRYPTED] += pk->total;
        req->h.serial = (uint16_t)(req->h.serial + pk->total - 1);
        gw_keep(c, pk);
    } else if (gw_rsa_encode(c, req, cmd_frame, sizeof cmd_frame, &len, &e) != JT808_OK) {
        snprintf(g->st->error, sizeof g->st->error, "step %u: cannot encode 0x%04X: %s (%s)", j->step,
                 j->msg_id, jt808_rc_text(e.rc), e.field ? e.field : "");
        return false;
    }
    struct gw_pend *p = &c->pend[c->npend++];
    p->sent_us = clock_now_us();
    p->due_us = p->sent_us + (j->settle_us ? j->settle_us : g->cfg->cmd_timeout_ms * 1000u);
    p->serial = req->h.serial;
    p->msg_id = j->msg_id;
    p->fleet = (uint8_t)j->fleet;
    p->cmd = (uint8_t)j->ci;
    p->task = j->task;
    p->two_phase = j->msg_id == 0x8108 && j->step == FRONTEND_STEP_API;
    p->delivered = 0;
    p->want = j->want;
    if (p->want)
        p->want->refs++;
    g->inflight++;
    cs->sent++;
    ledger_sent(&g->st->ledger);
    if (!split)
        gw_conn_send(c, cmd_frame, len);
    if (jt808_kind_reply(j->ci) == 0 && (!p->want || !p->want->n))
        gw_pend_settle(c, c->npend - 1, 0, 0, NULL); /* asks for no package: nothing is owed */
    else
        gw_conn_reschedule(c);
    return true;
}

static struct gw_cmd_job *find_job(struct gw *g, uint32_t task)
{
    for (struct gw_cmd_job *j = g->jobs; j; j = j->next)
        if (j->task == task)
            return j;
    return NULL;
}

void gw_cmd_body(struct gw *g, const struct bus_rec *r)
{
    if (g->body_len && g->body_task != r->token)
        g->body_len = 0; /* parts of a command that never began */
    g->body_task = r->token;
    size_t need = g->body_len + r->s[0].n + 1;
    if (need > CTL_MAX_PAYLOAD + 1) {
        snprintf(g->st->error, sizeof g->st->error, "gateway %d: command %u: body over %d bytes", g->id, r->token,
                 CTL_MAX_PAYLOAD);
        return;
    }
    if (need > g->body_cap) {
        char *nb = realloc(g->body, need);
        if (!nb) {
            snprintf(g->st->error, sizeof g->st->error, "gateway %d: command %u: out of memory", g->id, r->token);
            return;
        }
        g->body = nb;
        g->body_cap = need;
    }
    memcpy(g->body + g->body_len, r->s[0].p, r->s[0].n);
    g->body_len += r->s[0].n;
    g->body[g->body_len] = '\0';
}

void gw_cmd_begin(struct gw *g, const struct bus_rec *r)
{
    int ci = (int)r->kind;
    uint16_t msg_id = jt808_kind_msg(ci);
    const char *body = g->body_len && g->body_task == r->token ? g->body : NULL;
    char key_body[320];
    if (msg_id == 0x8A00 && !(body && body[0]))
        body = gw_rsa_8a00_body(g, key_body, sizeof key_body); /* the gateway's own public key */
    if (!msg_id || r->fleet >= STATS_MAX_FLEETS) {
        snprintf(g->st->error, sizeof g->st->error, "step %u: command kind %u of fleet %u: not a JT/T 808 request",
                 r->step, r->kind, r->fleet);
        g->body_len = 0;
        return;
    }
    struct gw_cmd_job *j = calloc(1, sizeof *j);
    if (!j) {
        snprintf(g->st->error, sizeof g->st->error, "step %u: command 0x%04X: out of memory", r->step, msg_id);
        g->body_len = 0;
        return;
    }
    j->task = r->token;
    j->fleet = r->fleet;
    j->step = r->step;
    j->settle_us = r->u64;
    j->msg_id = msg_id;
    j->ci = ci;
    char err[256], first_err[256] = "";
    for (int v = 0; v < 2; v++) {
        enum jt808_version ver = v ? JT808_V2019 : JT808_V2013;
        struct jt808_err be;
        /* a body may fit one edition only (0x8300 has text_type in 2019): terminals of
         * the other are refused */
        if (edition_check(msg_id, ver, err, sizeof err) < 0 ||
            build_request(msg_id, ver, body, &j->tmpl[v], j->store[v], sizeof j->store[v], err, sizeof err) < 0) {
            if (!first_err[0])
                snprintf(first_err, sizeof first_err, "%s", err);
            continue;
        }
        /* a body longer than one frame takes is sent in subpackages */
        if (jt808_body_encode(&j->tmpl[v], j->big_body[v], sizeof j->big_body[v], &j->big_len[v], &be) != JT808_OK) {
            snprintf(g->st->error, sizeof g->st->error, "step %u: cannot encode 0x%04X: %s (%s)", r->step, msg_id,
                     jt808_rc_text(be.rc), be.field ? be.field : "");
            j->built[v] = false;
            continue;
        }
        if (!j->want)
            j->want = gw_want_make(msg_id, ver, j->big_body[v], j->big_len[v]);
        j->built[v] = true;
    }
    g->body_len = 0;
    if (!j->built[0] && !j->built[1])
        snprintf(g->st->error, sizeof g->st->error, "step %u: command 0x%04X: %s", r->step, msg_id, first_err);
    /* kept even so: every terminal it is addressed to is counted refused */
    j->next = g->jobs;
    g->jobs = j;
}

void gw_cmd_to(struct gw *g, const struct bus_rec *r)
{
    struct gw_cmd_job *j = find_job(g, r->token);
    if (!j) {
        snprintf(g->st->error, sizeof g->st->error, "gateway %d: the core sent terminals for command %u, never begun",
                 g->id, r->token);
        return;
    }
    g->cmd_sends += r->n;
    struct bus_targets it;
    uint32_t handle;
    struct bus_str id;
    bus_targets_init(&it, r);
    while (bus_targets_next(&it, &handle, &id)) {
        struct gw_conn *c = gw_conn_by_handle(g, handle);
        if (!c || !c->authed || c->closing) {
            /* gone since the core looked: the core marked it sent, so it is told */
            g->st->cmd[j->fleet][j->ci].offline++;
            char dev[STORE_ID_MAX + 1];
            if (bus_str_copy(id, dev, sizeof dev) && bus_cmd_result(&g->bus, j->task, STORE_CMD_FAIL, dev) < 0 &&
                !g->st->error[0])
                snprintf(g->st->error, sizeof g->st->error, "gateway %d: %s", g->id, g->bus.err);
            continue;
        }
        if (!send_one(g, j, c))
            return;
    }
}

static void job_free(struct gw_cmd_job *j)
{
    gw_want_put(j->want);
    jt808_msg_free(&j->tmpl[0]);
    jt808_msg_free(&j->tmpl[1]);
    free(j);
}

void gw_cmd_end(struct gw *g, const struct bus_rec *r)
{
    for (struct gw_cmd_job **pp = &g->jobs; *pp; pp = &(*pp)->next)
        if ((*pp)->task == r->token) {
            struct gw_cmd_job *j = *pp;
            *pp = j->next;
            job_free(j);
            return;
        }
}

void gw_cmd_free_all(struct gw *g)
{
    while (g->jobs) {
        struct gw_cmd_job *j = g->jobs;
        g->jobs = j->next;
        job_free(j);
    }
}
