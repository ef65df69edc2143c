/* The steps of a conformance exchange case read: each step's one action and its
 * fields (send, expect and its alternatives, bind, verify, wait, close, ...),
 * fixtures spliced in by "use", and every ${name} checked to be bound before it
 * is used.  conform_case.c reads the rest of the case. */
#include "harness/conform_steps.h"

#include <ctype.h>
#include <stdio.h>

#include "harness/scenario.h"
#include "harness/scenario_internal.h"
#include "sim/proto/hex.h"

static const char *const builtins[] = {"phone",     "serial",  "rx_serial", "case_index",
                                       "device_id", "edition", "now",       "receiver_url",
                                       "api_app",   "api_secret"};
static const char *const step_actions[] = {"connect", "send", "expect", "bind", "verify",
                                           "wait", "close", "expect_close", "expect_silence", "expect_none", "drain", "use",
                                           "api", "expect_push", "expect_no_push", "receiver_plan"};
static const char *const step_fields[] = {"connect", "send", "expect", "bind", "verify", "wait", "close",
                                          "expect_close", "expect_silence", "expect_none", "drain", "use", "api", "conn",
                                          "within", "mutate", "note", "if", "certificate", "skip_unmatched",
                                          "expect_push", "expect_no_push", "receiver_plan"};
static const char *const certificates[] = {"device", "none", "foreign"};

static bool name_ok(const char *s)
{
    if (!(isalpha((unsigned char)s[0]) || s[0] == '_') || strlen(s) >= CONFORM_NAME_MAX)
        return false;
    for (const char *p = s; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '_'))
            return false;
    return true;
}

/* body.items[0].id: names and [N] indexes. */
static bool path_ok(const char *s)
{
    if (s[0] == '\0' || strlen(s) >= CONFORM_PATH_MAX)
        return false;
    const char *p = s;
    while (*p) {
        if (*p == '[') {
            p++;
            if (!isdigit((unsigned char)*p))
                return false;
            while (isdigit((unsigned char)*p))
                p++;
            if (*p++ != ']')
                return false;
        } else {
            if (!(isalnum((unsigned char)*p) || *p == '_'))
                return false;
            while (isalnum((unsigned char)*p) || *p == '_')
                p++;
        }
        if (*p == '.') {
            p++;
            if (!(isalnum((unsigned char)*p) || *p == '_'))
                return false;
        } else if (*p && *p != '[') {
            return false;
        }
    }
    return true;
}

static bool name_known(const struct reader *r, const char *name, size_t n)
{
    for (size_t i = 0; i < N_OF(builtins); i++)
        if (strlen(builtins[i]) == n && strncmp(builtins[i], name, n) == 0)
            return true;
    for (int i = 0; i < r->n_names; i++)
        if (strlen(r->names[i]) == n && strncmp(r->names[i], name, n) == 0)
            return true;
    return false;
}

/* Every ${name} of s is a built-in or bound by an earlier step. */
static int check_refs(struct reader *r, const char *s, const char *path)
{
    int rc = SJ_OK;
    for (const char *p = strstr(s, "${"); p; p = strstr(p + 2, "${")) {
        const char *e = strchr(p + 2, '}');
        if (e == NULL)
            return scenario_json_fail(r->j, path, "\"${\" without its \"}\"");
        size_t n = (size_t)(e - p - 2);
        if (n == 12 && strncmp(p + 2, "receiver_url", 12) == 0)
            r->receiver = true;
        if (!name_known(r, p + 2, n))
            rc = scenario_json_fail(r->j, path, "${%.*s}: not a built-in (phone, serial, rx_serial, case_index, device_id, edition, now, receiver_url, api_app, api_secret) "
                                    "nor bound by an earlier step", (int)(n > 40 ? 40 : n), p + 2);
    }
    return rc;
}

static int check_refs_tree(struct reader *r, const cJSON *v, const char *path)
{
    char p[SCENARIO_JSON_PATH_MAX];
    int rc = SJ_OK;
    if (cJSON_IsString(v))
        return check_refs(r, v->valuestring, path);
    if (cJSON_IsObject(v)) {
        for (const cJSON *c = v->child; c; c = c->next) {
            scenario_json_path(p, sizeof p, path, c->string ? c->string : "");
            SJ_TRY(rc, check_refs_tree(r, c, p));
        }
    } else if (cJSON_IsArray(v)) {
        int i = 0;
        for (const cJSON *c = v->child; c; c = c->next, i++) {
            scenario_json_index(p, sizeof p, path, i);
            SJ_TRY(rc, check_refs_tree(r, c, p));
        }
    }
    return rc;
}

int conform_parse_match_fields(struct reader *r, const cJSON *f, const char *p, cJSON **out)
{
    int rc = SJ_OK;
    if (scenario_json_want_object(r->j, f, p) != SJ_OK)
        return SJ_ERR;
    for (const cJSON *c = f->child; c; c = c->next) {
        char q[SCENARIO_JSON_PATH_MAX];
        scenario_json_path(q, sizeof q, p, c->string ? c->string : "");
        if (!path_ok(c->string ? c->string : ""))
            rc = scenario_json_fail(r->j, q, "not a path into the message (like body.result or "
                                    "body.items[0].id)");
        if (cJSON_IsObject(c))
            rc = scenario_json_fail(r->j, q, "expected a value or an array of values (one of), got an object");
        SJ_TRY(rc, check_refs_tree(r, c, q));
    }
    *out = cJSON_Duplicate(f, 1);
    return rc;
}

static int parse_match(struct reader *r, const cJSON *o, const char *path, struct conform_match *m)
{
    static const char *const fields[] = {"msg_id", "match", "wire_contains"};
    char p[SCENARIO_JSON_PATH_MAX];
    int rc = SJ_OK;
    if (scenario_json_want_object(r->j, o, path) != SJ_OK)
        return SJ_ERR;
    SJ_TRY(rc, scenario_json_fields(r->j, o, path, fields, N_OF(fields)));
    SJ_TRY(rc, scenario_json_msg_id(r->j, o, path, "msg_id", SJ_REQUIRED, &m->msg_id));
    const cJSON *f = scenario_json_get(o, "match");
    scenario_json_path(p, sizeof p, path, "match");
    if (f != NULL)
        SJ_TRY(rc, conform_parse_match_fields(r, f, p, &m->fields));
    const cJSON *w = scenario_json_get(o, "wire_contains");
    scenario_json_path(p, sizeof p, path, "wire_contains");
    if (w != NULL) {
        if (!cJSON_IsString(w) || w->valuestring[0] == '\0') {
            rc = scenario_json_fail(r->j, p, "expected hex digits");
        } else {
            size_t pos = 0;
            /* ${name} inside is substituted before the check; only literal text is checked here */
            if (strstr(w->valuestring, "${") == NULL &&
                hex_decode(w->valuestring, strlen(w->valuestring), HEX_SPACES, NULL, 0, NULL, &pos) != HEX_OK)
                rc = scenario_json_fail(r->j, p, "not hex (at position %zu)", pos + 1);
            SJ_TRY(rc, check_refs(r, w->valuestring, p));
            m->wire_contains = conform_dup_str(w->valuestring);
        }
    }
    return rc;
}

/* {"api": {method, path, body, expect_status, capture, id}}: read as a scenario's api
 * step is; its ${name}s known here, its captures bound for the steps after it. */
static int parse_api(struct reader *r, const cJSON *v, const char *path, struct conform_step *s)
{
    char p[SCENARIO_JSON_PATH_MAX];
    int rc = SJ_OK;
    s->kind = CSTEP_API;
    cJSON *dup = cJSON_Duplicate(v, 1);
    struct sc_step st;
    memset(&st, 0, sizeof st);
    if (!dup)
        return scenario_json_fail(r->j, path, "out of memory");
    /* a case's own: "raw_body" (text sent as written) and "headers" (instead of the
     * application's app_key and token), taken out before the scenario's parser */
    cJSON *raw = cJSON_DetachItemFromObjectCaseSensitive(dup, "raw_body");
    cJSON *hdrs = cJSON_DetachItemFromObjectCaseSensitive(dup, "headers");
    cJSON *rep = cJSON_DetachItemFromObjectCaseSensitive(dup, "raw_body_repeat");
    rc = scenario_api_parse(r->j, dup, path, &st, 0);
    cJSON_Delete(dup);
    s->api = st.api;
    if (raw) {
        scenario_json_path(p, sizeof p, path, "raw_body");
        if (!cJSON_IsString(raw) || strlen(raw->valuestring) > 65536)
            rc = scenario_json_fail(r->j, p, "expected a text (at most 65536 bytes): the body as it is sent");
        else if (s->api && s->api->body)
            rc = scenario_json_fail(r->j, p, "a call has a body or a raw_body, not both");
        else if (!(s->api_raw_body = strdup(raw->valuestring)))
            rc = scenario_json_fail(r->j, p, "out of memory");
        else
            SJ_TRY(rc, check_refs(r, s->api_raw_body, p));
    }
    s->api_raw_repeat = 1;
    if (rep) {
        scenario_json_path(p, sizeof p, path, "raw_body_repeat");
        if (!cJSON_IsNumber(rep) || rep->valuedouble != (double)(long)rep->valuedouble || rep->valuedouble < 1 ||
            rep->valuedouble > 4194304)
            rc = scenario_json_fail(r->j, p, "expected a whole number from 1 to 4194304");
        else if (!raw)
            rc = scenario_json_fail(r->j, p, "repeats a raw_body: give one");
        else if (strlen(s->api_raw_body ? s->api_raw_body : "") * (size_t)rep->valuedouble > 4194304)
            rc = scenario_json_fail(r->j, p, "the body would be over 4 MiB");
        else
            s->api_raw_repeat = (long)rep->valuedouble;
    }
    if (hdrs) {
        scenario_json_path(p, sizeof p, path, "headers");
        if (!cJSON_IsObject(hdrs))
            rc = scenario_json_fail(r->j, p, "expected an object of header names and texts ({} for none)");
        s->api_own_headers = true;
        for (const cJSON *h = cJSON_IsObject(hdrs) ? hdrs->child : NULL; h; h = h->next) {
            char hp[SCENARIO_JSON_PATH_MAX];
            scenario_json_path(hp, sizeof hp, p, h->string);
            bool name_ok = h->string[0] != '\0' && strlen(h->string) <= 64;
            for (const char *c = h->string; *c && name_ok; c++)
                name_ok = (*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
                          *c == '-' || *c == '_';
            if (!name_ok || !cJSON_IsString(h) || strlen(h->valuestring) > 1024 || strpbrk(h->valuestring, "\r\n")) {
                rc = scenario_json_fail(r->j, hp, "a header is a name (letters, digits, - and _) and a text of one line "
                                        "(at most 1024 bytes)");
                continue;
            }
            if (s->n_api_headers >= CONFORM_API_MAX_HEADERS) {
                rc = scenario_json_fail(r->j, hp, "more than %d headers", CONFORM_API_MAX_HEADERS);
                break;
            }
            size_t n = strlen(h->string) + strlen(h->valuestring) + 3;
            char *t = malloc(n);
            if (!t) {
                rc = scenario_json_fail(r->j, hp, "out of memory");
                break;
            }
            snprintf(t, n, "%s: %s", h->string, h->valuestring);
            s->api_headers[s->n_api_headers++] = t;
            SJ_TRY(rc, check_refs(r, h->valuestring, hp));
        }
    }
    cJSON_Delete(raw);
    cJSON_Delete(hdrs);
    cJSON_Delete(rep);
    if (rc != SJ_OK || !s->api)
        return SJ_ERR;
    if (s->api->id[0]) {
        scenario_json_path(p, sizeof p, path, "id");
        SJ_TRY(rc, scenario_json_fail(r->j, p, "a case is one verdict: its steps have no ids of their own"));
    }
    if (s->api->path && strstr(s->api->path, "${device:")) {
        scenario_json_path(p, sizeof p, path, "path");
        SJ_TRY(rc, scenario_json_fail(r->j, p, "${device:FLEET:N} is a scenario's; a case's device is ${phone}"));
    }
    scenario_json_path(p, sizeof p, path, "path");
    if (s->api->path)
        SJ_TRY(rc, check_refs(r, s->api->path, p));
    scenario_json_path(p, sizeof p, path, "body");
    if (s->api->body)
        SJ_TRY(rc, check_refs_tree(r, s->api->body, p));
    for (int k = 0; k < s->api->n_capture; k++) {
        const char *name = s->api->capture_name[k];
        scenario_json_path(p, sizeof p, path, "capture");
        for (size_t i = 0; i < N_OF(builtins); i++)
            if (strcmp(builtins[i], name) == 0)
                SJ_TRY(rc, scenario_json_fail(r->j, p, "%s: a built-in name cannot be bound", name));
        if (strlen(name) >= CONFORM_NAME_MAX || r->n_names >= CONFORM_MAX_BINDS) {
            SJ_TRY(rc, scenario_json_fail(r->j, p, "more than %d names in one case", CONFORM_MAX_BINDS));
            break;
        }
        if (!name_known(r, name, strlen(name)))
            snprintf(r->names[r->n_names++], CONFORM_NAME_MAX, "%s", name);
    }
    return rc;
}

static int parse_step(struct reader *r, const cJSON *o, const char *path, struct conform_case *c)
{
    char p[SCENARIO_JSON_PATH_MAX];
    int rc = SJ_OK;
    const struct scenario_json *j = r->j;
    if (scenario_json_want_object(j, o, path) != SJ_OK)
        return SJ_ERR;
    SJ_TRY(rc, scenario_json_fields(j, o, path, step_fields, N_OF(step_fields)));
    const char *action = NULL;
    int n_actions = 0;
    for (size_t i = 0; i < N_OF(step_actions); i++)
        if (scenario_json_get(o, step_actions[i]) != NULL) {
            action = action ? action : step_actions[i];
            n_actions++;
        }
    if (n_actions != 1) {
        char all[200];
        scenario_json_join(step_actions, N_OF(step_actions), all, sizeof all);
        return scenario_json_fail(j, path, "%s (one of %s)", n_actions ? "more than one action" : "no action", all);
    }
    const cJSON *v = scenario_json_get(o, action);
    scenario_json_path(p, sizeof p, path, action);
    if (strcmp(action, "use") == 0) {
        const cJSON *fx = r->fixtures ? scenario_json_get(r->fixtures, cJSON_IsString(v) ? v->valuestring : "") : NULL;
        if (!cJSON_IsString(v))
            return scenario_json_fail(j, p, "expected the name of a fixture of suite.json");
        if (fx == NULL)
            return scenario_json_fail(j, p, "\"%s\": no such fixture in suite.json", v->valuestring);
        if (r->depth >= 4)
            return scenario_json_fail(j, p, "fixtures nested more than 4 deep");
        if (scenario_json_get(o, "conn") || scenario_json_get(o, "within"))
            return scenario_json_fail(j, path, "\"use\" takes no conn or within (the fixture's steps say theirs)");
        char fp[SCENARIO_JSON_PATH_MAX];
        /* where the case uses it, and where the step is written */
        snprintf(fp, sizeof fp, "%s > suite.json fixtures.%s", path, v->valuestring);
        r->depth++;
        rc = conform_parse_steps(r, fx, fp, c);
        r->depth--;
        return rc;
    }
    if (c->n_steps >= CONFORM_MAX_STEPS)
        return scenario_json_fail(j, path, "more than %d steps in one case", CONFORM_MAX_STEPS);
    struct conform_step *s = &c->steps[c->n_steps++];
    memset(s, 0, sizeof *s);
    s->bit = -1;
    snprintf(s->path, sizeof s->path, "%s", path);
    long long conn = 0;
    SJ_TRY(rc, scenario_json_int(j, o, path, "conn", SJ_OPTIONAL, 0, CONFORM_MAX_CONNS - 1, &conn));
    s->conn = (int)conn;
    bool timed = strcmp(action, "expect") == 0 || strcmp(action, "expect_none") == 0 ||
                 strcmp(action, "expect_push") == 0 || strcmp(action, "expect_no_push") == 0;
    if (!timed && scenario_json_get(o, "within"))
        SJ_TRY(rc, scenario_json_fail(j, path, "\"within\" belongs to an expect or expect_none step, or expect_push "
                                      "or expect_no_push (expect_close, expect_silence and drain take their time "
                                      "as their value)"));
    const cJSON *skip = scenario_json_get(o, "skip_unmatched");
    if (skip != NULL && strcmp(action, "expect") != 0)
        SJ_TRY(rc, scenario_json_fail(j, path, "\"skip_unmatched\" belongs to an expect step"));
    else if (skip != NULL && !cJSON_IsBool(skip))
        SJ_TRY(rc, scenario_json_fail(j, path, "skip_unmatched: expected true or false"));
    if (strcmp(action, "connect") != 0 && scenario_json_get(o, "certificate"))
        SJ_TRY(rc, scenario_json_fail(j, path, "\"certificate\" belongs to a connect step"));
    if (strcmp(action, "send") != 0 && scenario_json_get(o, "mutate"))
        SJ_TRY(rc, scenario_json_fail(j, path, "\"mutate\" belongs to a send step"));
    if (scenario_json_get(o, "note") && !cJSON_IsString(scenario_json_get(o, "note")))
        SJ_TRY(rc, scenario_json_fail(j, path, "note: expected text"));
    const cJSON *cond = scenario_json_get(o, "if");
    if (cond != NULL) {
        char ip[SCENARIO_JSON_PATH_MAX];
        scenario_json_path(ip, sizeof ip, path, "if");
        const char *e = cJSON_IsString(cond) ? cond->valuestring : NULL;
        const char *op = e ? strstr(e, " == ") : NULL;
        if (op == NULL && e)
            op = strstr(e, " != ");
        if (op == NULL) {
            SJ_TRY(rc, scenario_json_fail(j, ip, "expected \"LEFT == RIGHT\" or \"LEFT != RIGHT\" (with ${name}s)"));
        } else {
            s->if_not_equal = op[1] == '!';
            s->if_left = malloc((size_t)(op - e) + 1);
            if (s->if_left) {
                memcpy(s->if_left, e, (size_t)(op - e));
                s->if_left[op - e] = '\0';
            }
            s->if_right = conform_dup_str(op + 4);
            SJ_TRY(rc, check_refs(r, e, ip));
        }
    }

    if (strcmp(action, "expect_push") == 0 || strcmp(action, "expect_no_push") == 0 ||
        strcmp(action, "receiver_plan") == 0) {
        SJ_TRY(rc, conform_parse_push_step(r, o, path, action, s));
    } else if (strcmp(action, "connect") == 0 || strcmp(action, "close") == 0) {
        s->kind = action[0] == 'c' && action[1] == 'o' ? CSTEP_CONNECT : CSTEP_CLOSE;
        if (!cJSON_IsTrue(v))
            SJ_TRY(rc, scenario_json_fail(j, p, "expected true"));
        char cert[16] = "device";
        SJ_TRY(rc, scenario_json_enum(j, o, path, "certificate", SJ_OPTIONAL, certificates, N_OF(certificates), cert,
                                      sizeof cert));
        for (size_t i = 0; i < N_OF(certificates); i++)
            if (strcmp(cert, certificates[i]) == 0)
                s->cert = (int)i;
    } else if (strcmp(action, "send") == 0) {
        s->kind = CSTEP_SEND;
        if (scenario_json_want_object(j, v, p) != SJ_OK)
            return SJ_ERR;
        const cJSON *hx = scenario_json_get(v, "hex");
        if (hx != NULL) {
            char hp[SCENARIO_JSON_PATH_MAX];
            scenario_json_path(hp, sizeof hp, p, "hex");
            if (v->child->next != NULL)
                SJ_TRY(rc, scenario_json_fail(j, p, "a hex frame is alone: {\"hex\": \"7E...7E\"}"));
            if (!cJSON_IsString(hx) || hx->valuestring[0] == '\0')
                return scenario_json_fail(j, hp, "expected the frame in hex, 7E to 7E");
            size_t pos = 0;
            if (strstr(hx->valuestring, "${") == NULL &&
                hex_decode(hx->valuestring, strlen(hx->valuestring), HEX_SPACES, NULL, 0, NULL, &pos) != HEX_OK)
                SJ_TRY(rc, scenario_json_fail(j, hp, "not hex (at position %zu)", pos + 1));
            SJ_TRY(rc, check_refs(r, hx->valuestring, hp));
            s->hex = conform_dup_str(hx->valuestring);
        } else {
            if (scenario_json_get(v, "msg_id") == NULL)
                SJ_TRY(rc, scenario_json_fail(j, p, "msg_id: required (a message as `fleetsim encode jt808` "
                                              "takes it, or {\"hex\": ...})"));
            SJ_TRY(rc, check_refs_tree(r, v, p));
            s->msg = cJSON_Duplicate(v, 1);
        }
        const cJSON *mu = scenario_json_get(o, "mutate");
        if (mu != NULL) {
            char mp[SCENARIO_JSON_PATH_MAX];
            scenario_json_path(mp, sizeof mp, path, "mutate");
            bool check = cJSON_IsString(mu) && strcmp(mu->valuestring, "bad-check") == 0;
            bool length = cJSON_IsString(mu) && strcmp(mu->valuestring, "bad-length") == 0;
            if (!check && !length)
                SJ_TRY(rc, scenario_json_fail(j, mp, "expected \"bad-check\" or \"bad-length\""));
            else if (hx != NULL)
                SJ_TRY(rc, scenario_json_fail(j, mp, "a hex frame is sent as written: write it wrong"));
            s->bad_check = check;
            s->bad_length = length;
        }
    } else if (strcmp(action, "expect_none") == 0) {
        s->kind = CSTEP_EXPECT_NONE;
        s->ms = CONFORM_WITHIN_DEFAULT_MS;
        SJ_TRY(rc, scenario_json_duration_min_ms(j, o, path, "within", SJ_OPTIONAL, 1000, &s->ms));
        if (s->ms > CONFORM_WAIT_MAX_MS)
            SJ_TRY(rc, scenario_json_fail(j, path, "within: more than %ds", CONFORM_WAIT_MAX_MS / 1000));
        SJ_TRY(rc, parse_match(r, v, p, &s->any[s->n_any++]));
    } else if (strcmp(action, "expect") == 0) {
        s->kind = CSTEP_EXPECT;
        s->skip_unmatched = cJSON_IsTrue(skip);
        s->ms = CONFORM_WITHIN_DEFAULT_MS;
        SJ_TRY(rc, scenario_json_duration_min_ms(j, o, path, "within", SJ_OPTIONAL, 1000, &s->ms));
        if (s->ms > CONFORM_WAIT_MAX_MS)
            SJ_TRY(rc, scenario_json_fail(j, path, "within: more than %ds", CONFORM_WAIT_MAX_MS / 1000));
        if (scenario_json_want_object(j, v, p) != SJ_OK)
            return SJ_ERR;
        const cJSON *any = scenario_json_get(v, "any_of");
        if (any != NULL) {
            char ap[SCENARIO_JSON_PATH_MAX];
            scenario_json_path(ap, sizeof ap, p, "any_of");
            if (v->child->next != NULL)
                SJ_TRY(rc, scenario_json_fail(j, p, "any_of is alone: {\"any_of\": [{\"msg_id\": ...}, ...]}"));
            if (scenario_json_want_array(j, any, ap) != SJ_OK)
                return SJ_ERR;
            int n = cJSON_GetArraySize(any);
            if (n < 1 || n > CONFORM_MAX_ANY)
                return scenario_json_fail(j, ap, "expected 1 to %d alternatives, got %d", CONFORM_MAX_ANY, n);
            int i = 0;
            for (const cJSON *a = any->child; a; a = a->next, i++) {
                char ip[SCENARIO_JSON_PATH_MAX];
                scenario_json_index(ip, sizeof ip, ap, i);
                SJ_TRY(rc, parse_match(r, a, ip, &s->any[s->n_any++]));
            }
        } else {
            SJ_TRY(rc, parse_match(r, v, p, &s->any[s->n_any++]));
        }
    } else if (strcmp(action, "bind") == 0) {
        s->kind = CSTEP_BIND;
        if (scenario_json_want_object(j, v, p) != SJ_OK)
            return SJ_ERR;
        for (const cJSON *b = v->child; b; b = b->next) {
            char bp[SCENARIO_JSON_PATH_MAX];
            const char *name = b->string ? b->string : "";
            scenario_json_path(bp, sizeof bp, p, name);
            if (!name_ok(name)) {
                SJ_TRY(rc, scenario_json_fail(j, bp, "a name is a letter or _ then letters, digits, _ (at most %d)",
                                              CONFORM_NAME_MAX - 1));
                continue;
            }
            if (name_known(r, name, strlen(name)) && (r->n_names == 0 || true)) {
                bool builtin = false;
                for (size_t i = 0; i < N_OF(builtins); i++)
                    builtin |= strcmp(builtins[i], name) == 0;
                if (builtin)
                    SJ_TRY(rc, scenario_json_fail(j, bp, "a built-in name cannot be bound"));
            }
            if (!cJSON_IsString(b) || !path_ok(b->valuestring)) {
                SJ_TRY(rc, scenario_json_fail(j, bp, "expected a path into the last expected message (like "
                                              "body.auth_code)"));
                continue;
            }
            if (s->n_binds >= CONFORM_MAX_BINDS || r->n_names >= CONFORM_MAX_BINDS) {
                SJ_TRY(rc, scenario_json_fail(j, bp, "more than %d names in one case", CONFORM_MAX_BINDS));
                break;
            }
            snprintf(s->bind_name[s->n_binds], CONFORM_NAME_MAX, "%s", name);
            snprintf(s->bind_path[s->n_binds++], CONFORM_PATH_MAX, "%s", b->valuestring);
            if (!name_known(r, name, strlen(name)))
                snprintf(r->names[r->n_names++], CONFORM_NAME_MAX, "%s", name);
        }
        if (s->n_binds == 0 && rc == SJ_OK)
            SJ_TRY(rc, scenario_json_fail(j, p, "binds no name"));
    } else if (strcmp(action, "api") == 0) {
        SJ_TRY(rc, parse_api(r, v, p, s));
    } else if (strcmp(action, "verify") == 0) {
        s->kind = CSTEP_VERIFY;
        const char *e = cJSON_IsString(v) ? v->valuestring : NULL;
        const char *op = e ? strstr(e, " == ") : NULL;
        const char *near = e ? strstr(e, " is now within ") : NULL;
        const char *has = e ? strstr(e, " has bit ") : NULL, *lacks = e ? strstr(e, " lacks bit ") : NULL;
        if (has || lacks) {
            const char *at = has ? has : lacks, *num = at + (has ? 9 : 11);
            char *end = NULL;
            long b = strtol(num, &end, 10);
            if (end == num || *end != '\0' || b < 0 || b > 63)
                return scenario_json_fail(j, p, "expected \"LEFT has bit N\" or \"LEFT lacks bit N\" with N 0-63");
            s->bit = (int)b;
            s->bit_clear = lacks != NULL && !has;
            s->left = malloc((size_t)(at - e) + 1);
            if (s->left) {
                memcpy(s->left, e, (size_t)(at - e));
                s->left[at - e] = '\0';
            }
            SJ_TRY(rc, check_refs(r, e, p));
            return rc;
        }
        if (near) {
            char *end = NULL;
            long secs = strtol(near + 15, &end, 10);
            if (end == near + 15 || strcmp(end, "s") != 0 || secs < 1 || secs > 3600)
                return scenario_json_fail(j, p, "expected \"LEFT is now within Ns\" with N seconds, 1-3600");
            s->near_now_s = (int)secs;
            s->left = malloc((size_t)(near - e) + 1);
            if (s->left) {
                memcpy(s->left, e, (size_t)(near - e));
                s->left[near - e] = '\0';
            }
            SJ_TRY(rc, check_refs(r, e, p));
            return rc;
        }
        if (op == NULL && e)
            op = strstr(e, " != ");
        if (op == NULL)
            return scenario_json_fail(j, p, "expected \"LEFT == RIGHT\", \"LEFT != RIGHT\", \"LEFT is now "
                                      "within Ns\" or \"LEFT has bit N\" / \"lacks bit N\" (with ${name}s)");
        s->not_equal = op[1] == '!';
        s->left = malloc((size_t)(op - e) + 1);
        if (s->left) {
            memcpy(s->left, e, (size_t)(op - e));
            s->left[op - e] = '\0';
        }
        s->right = conform_dup_str(op + 4);
        SJ_TRY(rc, check_refs(r, e, p));
    } else {
        /* wait, expect_close, expect_silence, drain: a duration */
        s->kind = strcmp(action, "wait") == 0           ? CSTEP_WAIT
                  : strcmp(action, "expect_close") == 0 ? CSTEP_EXPECT_CLOSE
                  : strcmp(action, "drain") == 0        ? CSTEP_DRAIN
                                                        : CSTEP_EXPECT_SILENCE;
        SJ_TRY(rc, scenario_json_duration_min_ms(j, o, path, action, SJ_REQUIRED, 1000, &s->ms));
        if (s->ms > CONFORM_WAIT_MAX_MS)
            SJ_TRY(rc, scenario_json_fail(j, p, "more than %ds", CONFORM_WAIT_MAX_MS / 1000));
    }
    return rc;
}

int conform_parse_steps(struct reader *r, const cJSON *arr, const char *path, struct conform_case *c)
{
    int rc = SJ_OK, i = 0;
    if (scenario_json_want_array(r->j, arr, path) != SJ_OK)
        return SJ_ERR;
    for (const cJSON *st = arr->child; st; st = st->next, i++) {
        char p[SCENARIO_JSON_PATH_MAX];
        scenario_json_index(p, sizeof p, path, i);
        SJ_TRY(rc, parse_step(r, st, p, c));
    }
    return rc;
}
