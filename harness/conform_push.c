/* The steps of a conformance case's callback receiver (harness/cb_recv.h), read
 * and run: expect_push (a push whose JSON body matches arrives in time),
 * expect_no_push (none that matches does), receiver_plan (how the receiver answers
 * from now on), and the receiver itself, started for a case that uses it and
 * stopped at its end.  The pushes are the case's evidence: each one a step looks
 * at is logged, as frames are, and so is every one no step looked at. */
#include <ctype.h>
#include <stdio.h>

#include "harness/cb_recv.h"
#include "harness/conform_exchange.h"
#include "harness/conform_steps.h"

#define PUSH_LOG_BODY 2048      /* bytes of a push's body in the wire log */

/* --- reading ----------------------------------------------------------------------- */

/* deviceDataChanged: a letter, then letters and digits (a typo in an expect_no_push
 * would make it hold whatever comes, so at least the form is checked). */
static bool type_ok(const char *s)
{
    if (!isalpha((unsigned char)s[0]) || strlen(s) > 63)
        return false;
    for (const char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p))
            return false;
    return true;
}

static int parse_type(struct reader *r, const cJSON *nt, const char *path)
{
    static const char what[] = "expected a notifyType (like deviceDataChanged) or an array of them (one of)";
    if (cJSON_IsString(nt))
        return type_ok(nt->valuestring) || strstr(nt->valuestring, "${") ? SJ_OK
                                                                          : scenario_json_fail(r->j, path, what);
    if (!cJSON_IsArray(nt) || cJSON_GetArraySize(nt) == 0)
        return scenario_json_fail(r->j, path, what);
    int rc = SJ_OK, i = 0;
    for (const cJSON *v = nt->child; v; v = v->next, i++) {
        char p[SCENARIO_JSON_PATH_MAX];
        scenario_json_index(p, sizeof p, path, i);
        if (!cJSON_IsString(v) || !(type_ok(v->valuestring) || strstr(v->valuestring, "${")))
            rc = scenario_json_fail(r->j, p, "expected a notifyType (like deviceDataChanged)");
    }
    return rc;
}

int conform_parse_push_step(struct reader *r, const cJSON *o, const char *path, const char *action,
                            struct conform_step *s)
{
    static const char *const fields[] = {"notifyType", "match"};
    const struct scenario_json *j = r->j;
    char p[SCENARIO_JSON_PATH_MAX];
    int rc = SJ_OK;
    const cJSON *v = scenario_json_get(o, action);
    scenario_json_path(p, sizeof p, path, action);
    r->receiver = true;
    if (strcmp(action, "receiver_plan") == 0) {
        char err[200];
        s->kind = CSTEP_RECEIVER_PLAN;
        if (!cJSON_IsString(v))
            return scenario_json_fail(j, p, "expected a plan, like \"503x3,200\" (STATUS[@DELAY][xCOUNT], ...)");
        if (cb_recv_plan_check(v->valuestring, err, sizeof err) != 0)
            return scenario_json_fail(j, p, "%s", err);
        s->plan = conform_dup_str(v->valuestring);
        return s->plan ? SJ_OK : scenario_json_fail(j, p, "out of memory");
    }
    s->kind = strcmp(action, "expect_push") == 0 ? CSTEP_EXPECT_PUSH : CSTEP_EXPECT_NO_PUSH;
    s->ms = CONFORM_WITHIN_DEFAULT_MS;
    SJ_TRY(rc, scenario_json_duration_min_ms(j, o, path, "within", SJ_OPTIONAL, 1000, &s->ms));
    if (s->ms > CONFORM_WAIT_MAX_MS)
        SJ_TRY(rc, scenario_json_fail(j, path, "within: more than %ds", CONFORM_WAIT_MAX_MS / 1000));
    if (scenario_json_want_object(j, v, p) != SJ_OK)
        return SJ_ERR;
    SJ_TRY(rc, scenario_json_fields(j, v, p, fields, N_OF(fields)));
    cJSON *all = cJSON_CreateObject();
    if (!all)
        return scenario_json_fail(j, p, "out of memory");
    s->any[0].fields = all;
    s->n_any = 1;
    const cJSON *nt = scenario_json_get(v, "notifyType");
    if (nt) {
        char tp[SCENARIO_JSON_PATH_MAX];
        scenario_json_path(tp, sizeof tp, p, "notifyType");
        if (parse_type(r, nt, tp) != SJ_OK) {
            rc = SJ_ERR;
        } else {
            cJSON *one = cJSON_CreateObject(), *got = NULL;
            if (one)
                cJSON_AddItemToObject(one, "notifyType", cJSON_Duplicate(nt, 1));
            /* ${name}s in it checked as a match's are */
            SJ_TRY(rc, one ? conform_parse_match_fields(r, one, p, &got) : SJ_ERR);
            cJSON_Delete(one);
            if (got && got->child)
                cJSON_AddItemToObject(all, "notifyType", cJSON_DetachItemViaPointer(got, got->child));
            cJSON_Delete(got);
        }
    }
    const cJSON *m = scenario_json_get(v, "match");
    if (m) {
        char mp[SCENARIO_JSON_PATH_MAX];
        cJSON *got = NULL;
        scenario_json_path(mp, sizeof mp, p, "match");
        SJ_TRY(rc, conform_parse_match_fields(r, m, mp, &got));
        while (got && got->child) {
            cJSON *c = cJSON_DetachItemViaPointer(got, got->child);
            if (nt && c->string && strcmp(c->string, "notifyType") == 0) {
                char q[SCENARIO_JSON_PATH_MAX];
                scenario_json_path(q, sizeof q, mp, "notifyType");
                SJ_TRY(rc, scenario_json_fail(j, q, "given twice: here and as the step's notifyType"));
                cJSON_Delete(c);
                continue;
            }
            cJSON_AddItemToObject(all, c->string ? c->string : "", c);
        }
        cJSON_Delete(got);
    }
    return rc;
}

/* --- running ----------------------------------------------------------------------- */

bool exch_push_start(struct exch *x, const struct conform_step *st)
{
    if (x->recv)
        return true;
    struct cb_recv_opts o = {.bind = x->t->receiver_bind, .port = x->t->receiver_port};
    char err[256];
    x->recv = cb_recv_start(&o, err, sizeof err);
    if (!x->recv)
        return exch_worsen(x, VERDICT_ERROR, st, "the case's callback receiver listening", "%s", err);
    exch_log(x, "+%.3f receiver at %s", exch_since(x), cb_recv_url(x->recv));
    return true;
}

/* Push i logged (its body, or its text), *out filled (the caller frees it); false
 * when it is not kept (more pushes than the receiver keeps). */
static bool push_get(struct exch *x, size_t i, struct cb_recv_item *out, const char *note)
{
    if (!cb_recv_get(x->recv, i, out)) {
        exch_log(x, "+%.3f push %zu not kept by the receiver (more than %d)", exch_since(x), i + 1, CB_RECV_KEEP_MAX);
        return false;
    }
    char *body = out->body ? cJSON_PrintUnformatted(out->body) : NULL;
    const char *text = body ? body : out->raw;
    exch_log(x, "+%.3f push %llu < %s %s answered %d%s%s: %.*s%s%s", exch_since(x), (unsigned long long)out->seq,
             out->method, out->path, out->planned, out->delay_ms ? " after a delay" : "", body ? "" : " (not JSON)",
             PUSH_LOG_BODY, text ? text : "", text && strlen(text) > PUSH_LOG_BODY ? "..." : "", note ? note : "");
    free(body);
    return true;
}

static void describe(const struct conform_step *st, char *out, size_t cap)
{
    char *f = st->any[0].fields && st->any[0].fields->child ? cJSON_PrintUnformatted(st->any[0].fields) : NULL;
    snprintf(out, cap, "%s%s%s within %llums", st->kind == CSTEP_EXPECT_PUSH ? "a push" : "no push",
             f ? " with " : "", f ? f : "", (unsigned long long)st->ms);
    free(f);
}

/* The next push not yet looked at, waiting until deadline (monotonic us): 1 with
 * it in it (matched against the step: *hit, or the difference in diff), 0 when the
 * deadline came first, -1 when the harness failed (verdict set). */
static int next_push(struct exch *x, const struct conform_step *st, uint64_t deadline, const char *want, bool *hit,
                     char *diff, size_t cap)
{
    for (;;) {
        size_t have = cb_recv_count(x->recv);
        if (x->pushes_seen < have) {
            struct cb_recv_item it;
            size_t i = x->pushes_seen++;
            if (!push_get(x, i, &it, NULL))
                continue;
            bool harness = false;
            *hit = false;
            if (!it.body) {
                snprintf(diff, cap, "push %llu is not JSON", (unsigned long long)it.seq);
            } else if (exch_fields_match(x, st->any[0].fields, it.body, diff, cap, &harness)) {
                *hit = true;
                /* what bind reads after it on the step's connection */
                cJSON_Delete(x->conns[st->conn].last);
                x->conns[st->conn].last = it.body;
                it.body = NULL;
            }
            cb_recv_item_free(&it);
            if (harness) {
                exch_worsen(x, VERDICT_ERROR, st, want, "%s", diff);
                return -1;
            }
            return 1;
        }
        uint64_t now = now_us();
        if (now >= deadline)
            return 0;
        if (conform_interrupted) {
            exch_worsen(x, VERDICT_ERROR, st, "the case run to its end", "interrupted (SIGINT or SIGTERM)");
            return -1;
        }
        /* in slices, so that an interruption is seen */
        uint64_t left_ms = (deadline - now + 999) / 1000;
        cb_recv_wait(x->recv, have, (int)(left_ms < 200 ? left_ms : 200));
    }
}

static bool step_expect_push(struct exch *x, const struct conform_step *st)
{
    char want[300], first[300] = "";
    describe(st, want, sizeof want);
    uint64_t deadline = now_us() + st->ms * 1000u;
    int skipped = 0;
    for (;;) {
        bool hit = false;
        char diff[512] = "";
        int r = next_push(x, st, deadline, want, &hit, diff, sizeof diff);
        if (r < 0)
            return false;
        if (r == 0)
            return exch_worsen(x, VERDICT_FAIL, st, want, "%s%s%s", skipped ? "only pushes that do not match" : "no push",
                               skipped ? ", the first: " : "", first);
        if (hit)
            return true;
        if (!skipped++)
            snprintf(first, sizeof first, "%s", diff);
        exch_log(x, "+%.3f skipped: %s", exch_since(x), diff);
    }
}

static bool step_expect_no_push(struct exch *x, const struct conform_step *st)
{
    char want[300];
    describe(st, want, sizeof want);
    uint64_t deadline = now_us() + st->ms * 1000u;
    for (;;) {
        bool hit = false;
        char diff[512] = "";
        int r = next_push(x, st, deadline, want, &hit, diff, sizeof diff);
        if (r <= 0)
            return r == 0;
        if (hit)
            return exch_worsen(x, VERDICT_FAIL, st, want, "push %zu matches", x->pushes_seen);
        exch_log(x, "+%.3f skipped: %s", exch_since(x), diff);
    }
}

bool exch_push_step(struct exch *x, const struct conform_step *st)
{
    if (!exch_push_start(x, st))
        return false;
    if (st->kind == CSTEP_RECEIVER_PLAN) {
        char err[200];
        if (cb_recv_set_plan(x->recv, st->plan, err, sizeof err) != 0)
            return exch_worsen(x, VERDICT_ERROR, st, "a plan the receiver takes", "%s", err);
        exch_log(x, "+%.3f receiver plan %s", exch_since(x), st->plan);
        return true;
    }
    return st->kind == CSTEP_EXPECT_PUSH ? step_expect_push(x, st) : step_expect_no_push(x, st);
}

void exch_push_end(struct exch *x)
{
    if (!x->recv)
        return;
    size_t n = cb_recv_count(x->recv);
    for (size_t i = x->pushes_seen; i < n; i++) {
        struct cb_recv_item it;
        if (push_get(x, i, &it, " (after the last step that looked)"))
            cb_recv_item_free(&it);
    }
    char sum[256];
    cb_recv_summary(x->recv, sum, sizeof sum);
    exch_log(x, "+%.3f receiver: %s", exch_since(x), sum);
    cb_recv_stop(x->recv);
    x->recv = NULL;
}
