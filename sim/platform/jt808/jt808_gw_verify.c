/* Third-party verification at the gateway (seed 000): with auth "third-party"
 * the gateway asks an HTTP endpoint (cfg->verify_url) about each registration,
 * authentication and unregistration listed in cfg->verify_events, holding the
 * connection's input while the request is out.
 *  - register: true → 0x8100 result 0 with the endpoint's authCode; false →
 *    0x8100 with the message code (1-4) as its result
 *  - auth: true → the device is registered in the platform core as
 *    ${manufacturer}_${deviceModel}_${deviceId} (the registration path to the
 *    core) and authenticated there, then 0x8001 result 0; false → 0x8001 result 1
 *  - unregister: true → unregistered in the core, 0x8001 result 0; false → 1
 * It fails closed: a timeout, an HTTP status other than 200, a transport error
 * or an answer that is not seed 000's JSON refuses the request, with its reason
 * counted.  A registration that fails closed is answered 0x8001 result 1
 * (failure): no 0x8100 result means "the verifier could not be asked".
 * A connection that closes drops its link to the request; the answer, when it
 * comes, finds nobody. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/net/httpc.h"
#include "sim/platform/jt808/jt808_gw_internal.h"
#include "sim/platform/jt808/jt808_verify.h"

struct gw_vreq {
    struct gw_conn *c;              /* NULL once the connection closed */
    struct gw *g;
    enum jt808_verify_action action;
    struct jt808_header h;          /* the terminal's request, for the answer */
};

bool gw_verify_wants(const struct gw *g, enum jt808_verify_action a)
{
    return g->cfg->third_party && (g->cfg->verify_events & (1u << a));
}

static void count_fail(struct gw *g, const struct gw_vreq *v, int reason, const char *why)
{
    g->st->c[reason]++;
    if (g->cfg->verbose)
        fprintf(stderr, "gateway %d: %s: %s verification failed closed: %s\n", g->id, v->h.phone,
                jt808_verify_action_name(v->action), why);
}

static void answer(struct gw *g, struct gw_vreq *v, const struct jt808_verify_answer *ans)
{
    struct gw_conn *c = v->c;
    switch (v->action) {
    case JT808_VERIFY_REGISTER:
        if (!ans) {
            g->st->c[GWC_REG_REFUSED]++;
            gw_general_resp(c, &v->h, 1);
        } else if (ans->ok) {
            g->st->c[GWC_REGISTRATIONS]++;
            gw_reg_resp(c, &v->h, 0, ans->auth_code);
        } else {
            g->st->c[GWC_REG_REFUSED]++;
            g->st->c[GWC_REG_RESULT_1 + (ans->code >= 1 && ans->code <= 4 ? ans->code - 1 : 4)]++;
            gw_reg_resp(c, &v->h, ans->code, "");
        }
        break;
    case JT808_VERIFY_AUTH:
        if (ans && ans->ok) {
            c->vdev = ans->dev;
            c->vdev_set = 1;
            if (gw_core_register_auth(c, &v->h, &ans->dev) == 0)
                return; /* answered when the core has registered and authenticated it */
            gw_general_resp(c, &v->h, 1);
        } else {
            g->st->c[GWC_AUTH_REFUSED]++;
            gw_general_resp(c, &v->h, 1);
        }
        break;
    case JT808_VERIFY_UNREGISTER:
        if (ans && ans->ok) {
            gw_unregister(c);
            gw_general_resp(c, &v->h, 0);
        } else {
            gw_general_resp(c, &v->h, 1);
        }
        break;
    default:
        break;
    }
}

static void done(void *arg, const struct httpc_result *r)
{
    struct gw_vreq *v = arg;
    struct gw *g = v->g;
    struct gw_conn *c = v->c;
    if (!c || r->outcome == HTTPC_CANCELLED) {
        if (c)
            c->vreq = NULL;
        free(v);
        return;
    }
    c->vreq = NULL;
    c->waiting--;
    struct jt808_verify_answer ans;
    char why[200] = "";
    const struct jt808_verify_answer *got = NULL;
    if (r->outcome == HTTPC_TIMEOUT) {
        count_fail(g, v, GWC_VERIFY_TIMEOUT, r->err[0] ? r->err : "timed out");
    } else if (r->outcome != HTTPC_OK) {
        count_fail(g, v, GWC_VERIFY_UNREACHABLE, r->err);
    } else if (r->status != 200) {
        snprintf(why, sizeof why, "HTTP status %ld", r->status);
        count_fail(g, v, GWC_VERIFY_HTTP_ERROR, why);
    } else if (jt808_verify_parse(v->action, r->body, r->len, &ans, why, sizeof why) < 0) {
        count_fail(g, v, GWC_VERIFY_MALFORMED, why);
    } else {
        g->st->c[ans.ok ? GWC_VERIFY_OK : GWC_VERIFY_REFUSED]++;
        got = &ans;
    }
    answer(g, v, got);
    free(v);
    gw_resume(c);
}

int gw_verify_start(struct gw_conn *c, const struct jt808_msg *m, enum jt808_verify_action a,
                    const struct jt808_reg_req *q)
{
    struct gw *g = c->gw;
    char body[JT808_VERIFY_BODY_MAX], err[200] = "";
    int n = -1;
    if (a == JT808_VERIFY_REGISTER)
        n = jt808_verify_register_json(q, body, sizeof body);
    else if (a == JT808_VERIFY_AUTH)
        n = jt808_verify_auth_json(m->h.phone, m->b.auth.auth_code, "TCP", body, sizeof body);
    else if (c->vdev_set)
        n = jt808_verify_unregister_json(m->h.phone, &c->vdev, body, sizeof body);
    if (n < 0) {
        snprintf(err, sizeof err, "the request body cannot be built");
        goto fail;
    }
    if (!g->httpc && !(g->httpc = httpc_new(g->loop, err, sizeof err)))
        goto fail;
    struct gw_vreq *v = calloc(1, sizeof *v);
    if (!v) {
        snprintf(err, sizeof err, "out of memory");
        goto fail;
    }
    v->c = c;
    v->g = g;
    v->action = a;
    v->h = m->h;
    if (httpc_post_json(g->httpc, g->cfg->verify_url, body, g->cfg->verify_timeout_ms, done, v, err,
                        sizeof err) < 0) {
        free(v);
        goto fail;
    }
    c->vreq = v;
    c->waiting++;
    return 0;
fail:
    g->st->c[GWC_VERIFY_UNREACHABLE]++;
    fprintf(stderr, "gateway %d: %s: %s verification not asked: %s\n", g->id, m->h.phone,
            jt808_verify_action_name(a), err);
    return -1;
}

void gw_verify_drop(struct gw_conn *c)
{
    if (c->vreq) {
        c->vreq->c = NULL;
        c->vreq = NULL;
        c->waiting--;
    }
}

void gw_verify_free(struct gw *g)
{
    if (g->httpc)
        httpc_free(g->httpc);
    g->httpc = NULL;
}
