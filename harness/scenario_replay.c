/* The replay half of a fleet: the messages its terminals send (templates, or the
 * frames of a vectors file), the replies they expect, the answers they give, and
 * how frames are delimited on a stream.  Every template and pattern is compiled
 * here, so a typo is an error naming the field and the character, not a run that
 * sends garbage.  The syntax is docs/replay-templates.md. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/scenario_dialect.h"
#include "harness/textfile.h"
#include "sim/dev/replay_term.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))
#define VECTORS_MAX_BYTES (16u << 20)
#define VECTORS_MAX_FRAMES 65535

static const char *const rp_fields[] = {"device_id", "messages", "answers", "framing", "utc_offset"};
static const char *const msg_fields[] = {"name", "template", "vectors", "every", "reply", "handshake"};
static const char *const answer_fields[] = {"match", "send"};

/* "path: offset 14: unknown placeholder ..." for the field at p. */
static int rp_fail(const struct scenario_json *j, const char *p, const struct replay_err *e)
{
    return scenario_json_fail(j, p, "%s", e->msg);
}

static int rp_template(const struct scenario_json *j, const cJSON *obj, const char *path,
                       const char *key, struct replay_tmpl **out)
{
    char p[SCENARIO_JSON_PATH_MAX];
    const cJSON *v = scenario_json_get(obj, key);
    struct replay_err e;
    scenario_json_path(p, sizeof p, path, key);
    if (!cJSON_IsString(v) || !v->valuestring[0])
        return scenario_json_fail(j, p, "expected a template like \"7E [0002 0000 {id:bcd6} {serial:2}] "
                                  "{xor8} 7E\"");
    if (replay_tmpl_compile(v->valuestring, out, &e) < 0)
        return rp_fail(j, p, &e);
    return SJ_OK;
}

static int rp_pattern(const struct scenario_json *j, const cJSON *obj, const char *path,
                      const char *key, struct replay_pat **out)
{
    char p[SCENARIO_JSON_PATH_MAX];
    const cJSON *v = scenario_json_get(obj, key);
    struct replay_err e;
    scenario_json_path(p, sizeof p, path, key);
    if (!cJSON_IsString(v) || !v->valuestring[0])
        return scenario_json_fail(j, p, "expected a reply pattern like \"7E 8001 ?? ?? * 7E\"");
    if (replay_pat_compile(v->valuestring, out, &e) < 0)
        return rp_fail(j, p, &e);
    return SJ_OK;
}

/* The good frames of a vectors file (entries with "hex" and no "error"), each
 * a template of literal bytes.  A relative path is relative to the scenario. */
static int rp_vectors(const struct scenario_json *j, const cJSON *obj, const char *path,
                      struct replay_msg_cfg *m)
{
    char p[SCENARIO_JSON_PATH_MAX], rel[512], file[1024];
    scenario_json_path(p, sizeof p, path, "vectors");
    if (scenario_json_string(j, obj, path, "vectors", SJ_REQUIRED, true, rel, sizeof rel) != SJ_OK)
        return SJ_ERR;
    const char *slash = strrchr(j->file, '/');
    if (rel[0] == '/' || !slash)
        snprintf(file, sizeof file, "%s", rel);
    else
        snprintf(file, sizeof file, "%.*s/%s", (int)(slash - j->file), j->file, rel);
    char *text;
    size_t n;
    int rc = textfile_read(file, VECTORS_MAX_BYTES, &text, &n);
    if (rc == EFBIG)
        return scenario_json_fail(j, p, "%s: larger than %u bytes", file, VECTORS_MAX_BYTES);
    if (rc)
        return scenario_json_fail(j, p, "cannot read %s: %s", file, rc == ENOMEM ? "out of memory" : strerror(rc));
    cJSON *root = cJSON_Parse(text);
    free(text);
    const cJSON *vs = root ? cJSON_GetObjectItemCaseSensitive(root, "vectors") : NULL;
    if (!cJSON_IsArray(vs)) {
        cJSON_Delete(root);
        return scenario_json_fail(j, p, "%s: not a vectors file (an object with a \"vectors\" array)", file);
    }
    int total = cJSON_GetArraySize(vs), k = 0;
    m->frames = calloc((size_t)(total > 0 ? total : 1), sizeof *m->frames);
    if (!m->frames) {
        cJSON_Delete(root);
        return scenario_json_fail(j, p, "out of memory");
    }
    for (const cJSON *e = vs->child; e; e = e->next, k++) {
        const cJSON *hex = cJSON_GetObjectItemCaseSensitive(e, "hex");
        if (cJSON_GetObjectItemCaseSensitive(e, "error") || !cJSON_IsString(hex))
            continue; /* malformed on purpose, or no frame */
        struct replay_err err;
        if (m->n_frames >= VECTORS_MAX_FRAMES ||
            replay_tmpl_compile(hex->valuestring, &m->frames[m->n_frames], &err) < 0) {
            cJSON_Delete(root);
            return scenario_json_fail(j, p, "%s: vectors[%d].hex: %s", file, k,
                                      m->n_frames >= VECTORS_MAX_FRAMES ? "too many frames" : err.msg);
        }
        m->n_frames++;
    }
    cJSON_Delete(root);
    if (!m->n_frames)
        return scenario_json_fail(j, p, "%s: no frame to send (every vector is malformed on purpose)", file);
    return SJ_OK;
}

static int rp_message(const struct scenario_json *j, const cJSON *obj, const char *path,
                      struct replay_fleet_cfg *c, int i)
{
    struct replay_msg_cfg *m = &c->msgs[i];
    const cJSON *hs;
    int rc = SJ_OK;
    snprintf(m->name, sizeof m->name, "m%d", i);
    if (scenario_json_want_object(j, obj, path) != SJ_OK)
        return SJ_ERR;
    SJ_TRY(rc, scenario_json_fields(j, obj, path, msg_fields, N_OF(msg_fields)));
    SJ_TRY(rc, scenario_json_string(j, obj, path, "name", SJ_OPTIONAL, true, m->name,
                                    sizeof m->name));
    bool has_t = scenario_json_get(obj, "template") != NULL, has_v = scenario_json_get(obj, "vectors") != NULL;
    if (has_t == has_v) {
        if (has_t || (!scenario_json_hinted(j, obj, "template") &&
                      !scenario_json_hinted(j, obj, "vectors")))
            scenario_json_fail(j, path, "needs one of \"template\" or \"vectors\"");
        rc = SJ_ERR;
    } else if (has_t) {
        m->frames = calloc(1, sizeof *m->frames);
        if (!m->frames)
            return scenario_json_fail(j, path, "out of memory");
        if (rp_template(j, obj, path, "template", &m->frames[0]) != SJ_OK)
            rc = SJ_ERR;
        else
            m->n_frames = 1;
    } else {
        SJ_TRY(rc, rp_vectors(j, obj, path, m));
    }
    SJ_TRY(rc, scenario_fleets_period(j, obj, path, "every", &m->every_ms));
    if (scenario_json_get(obj, "reply"))
        SJ_TRY(rc, rp_pattern(j, obj, path, "reply", &m->reply));
    hs = scenario_json_get(obj, "handshake");
    if (hs) {
        char p[SCENARIO_JSON_PATH_MAX];
        scenario_json_path(p, sizeof p, path, "handshake");
        if (!cJSON_IsBool(hs))
            return scenario_json_fail(j, p, "expected true or false");
        m->handshake = cJSON_IsTrue(hs);
        if (m->handshake && m->every_ms)
            return scenario_json_fail(j, p, "a handshake is sent once per connection; it has no \"every\"");
        c->has_handshake |= m->handshake;
    }
    return rc;
}

static int rp_answer(const struct scenario_json *j, const cJSON *obj, const char *path,
                     struct replay_answer_cfg *a)
{
    int rc = SJ_OK;
    if (scenario_json_want_object(j, obj, path) != SJ_OK)
        return SJ_ERR;
    SJ_TRY(rc, scenario_json_fields(j, obj, path, answer_fields, N_OF(answer_fields)));
    SJ_TRY(rc, rp_pattern(j, obj, path, "match", &a->match));
    SJ_TRY(rc, rp_template(j, obj, path, "send", &a->send));
    return rc;
}

static int rp_list(const struct scenario_json *j, const cJSON *obj, const char *path, const char *key,
                   int max, const cJSON **out, int *n)
{
    char p[SCENARIO_JSON_PATH_MAX];
    *out = scenario_json_get(obj, key);
    *n = 0;
    if (!*out)
        return SJ_ABSENT;
    scenario_json_path(p, sizeof p, path, key);
    if (scenario_json_want_array(j, *out, p) != SJ_OK)
        return SJ_ERR;
    *n = cJSON_GetArraySize(*out);
    if (*n > max)
        return scenario_json_fail(j, p, "at most %d, got %d", max, *n);
    return SJ_OK;
}

static int rp_parse(const struct scenario_json *j, const cJSON *obj, const char *path,
                    const struct scenario *sc, int index, struct fleet_spec *fs)
{
    char p[SCENARIO_JSON_PATH_MAX], q[SCENARIO_JSON_PATH_MAX], spec[96] = "";
    struct replay_fleet_cfg *c = calloc(1, sizeof *c);
    const cJSON *list;
    int n, r, rc = SJ_OK;
    long long off;
    (void)sc;
    (void)index;
    if (!c)
        return scenario_json_fail(j, path, "out of memory");
    fs->cfg = c;
    /* ids 0000000001, 0000000002, ... across the scenario: ten digits fit {id:bcd5}
     * and {id:ascii10} */
    snprintf(fs->ident, sizeof fs->ident, "%010u+", 1u + fs->first);
    r = scenario_json_string(j, obj, path, "device_id", SJ_OPTIONAL, true, fs->ident,
                             sizeof fs->ident);
    SJ_TRY(rc, r);
    if (r != SJ_ERR && fs->count > 1 && fs->ident[strlen(fs->ident) - 1] != '+') {
        scenario_json_path(p, sizeof p, path, "device_id");
        rc = scenario_json_fail(j, p, "\"%s\" would be shared by all %u terminals; end it with \"+\" to "
                                "number them", fs->ident, fs->count);
    }
    /* whether its terminals read replies decides if a stream needs framing */
    bool msgs_ok = true;
    r = rp_list(j, obj, path, "messages", REPLAY_MAX_MSGS, &list, &n);
    scenario_json_path(p, sizeof p, path, "messages");
    if (r == SJ_ERR) {
        rc = SJ_ERR;
        msgs_ok = false;
    } else if (!list || n == 0) {
        if (!scenario_json_hinted(j, obj, "messages"))
            scenario_json_fail(j, p, "a replay fleet needs at least one message");
        rc = SJ_ERR;
        msgs_ok = false;
    }
    for (const cJSON *e = msgs_ok ? list->child : NULL; e; e = e->next) {
        scenario_json_index(q, sizeof q, p, c->n_msgs);
        if (rp_message(j, e, q, c, c->n_msgs) != SJ_OK) {
            rc = SJ_ERR;
            msgs_ok = false;
        }
        c->n_msgs++; /* what it holds is freed with the rest, also after an error */
    }
    r = rp_list(j, obj, path, "answers", REPLAY_MAX_ANSWERS, &list, &n);
    SJ_TRY(rc, r);
    scenario_json_path(p, sizeof p, path, "answers");
    for (const cJSON *e = r == SJ_OK ? list->child : NULL; e; e = e->next) {
        scenario_json_index(q, sizeof q, p, c->n_answers);
        SJ_TRY(rc, rp_answer(j, e, q, &c->answers[c->n_answers]));
        c->n_answers++;
    }
    bool listens = c->n_answers > 0;
    for (int i = 0; i < c->n_msgs; i++)
        listens |= c->msgs[i].reply != NULL;
    r = scenario_json_string(j, obj, path, "framing", SJ_OPTIONAL, true, spec, sizeof spec);
    SJ_TRY(rc, r);
    scenario_json_path(p, sizeof p, path, "framing");
    if (r == SJ_ABSENT) {
        /* a datagram is a frame; a stream has no frames unless told how to find them
         * (unknown when a message failed: its reply may be what needs them) */
        if (msgs_ok && listens && strcmp(fs->transport, "udp") != 0)
            rc = scenario_json_fail(j, p, "required for a tcp fleet that reads replies "
                                    "(\"delim:7E\", \"length:offset=2,size=2,adjust=4\", \"fixed:16\" or \"none\")");
        snprintf(spec, sizeof spec, "none");
    }
    struct replay_err e;
    if (r != SJ_ERR && replay_framing_parse(spec, &c->framing, &e) < 0)
        rc = rp_fail(j, p, &e);
    r = scenario_json_int(j, obj, path, "utc_offset", SJ_OPTIONAL, -12, 14, &off);
    SJ_TRY(rc, r);
    if (r == SJ_OK)
        c->utc_offset_s = (int32_t)off * 3600;
    return rc;
}

static void rp_free(void *cfg)
{
    replay_fleet_cfg_clear(cfg);
    free(cfg);
}

static void rp_describe(const struct fleet_spec *fs, char *out, size_t cap)
{
    const struct replay_fleet_cfg *c = fs->cfg;
    int w = snprintf(out, cap, "  to %s:", fs->target[0] ? fs->target : "the scenario's target");
    for (int i = 0; i < c->n_msgs && w > 0 && (size_t)w < cap; i++) {
        const struct replay_msg_cfg *m = &c->msgs[i];
        w += snprintf(out + w, cap - (size_t)w, " %s%s (%d frame%s%s)", m->name, m->handshake ? "*" : "",
                      m->n_frames, m->n_frames == 1 ? "" : "s", m->reply ? ", answered" : "");
    }
}

const struct sc_dialect scenario_replay = {
    .name = "replay",
    .dev = &replay_dialect,
    .fields = rp_fields,
    .n_fields = N_OF(rp_fields),
    .parse = rp_parse,
    .free = rp_free,
    .describe = rp_describe,
    .frontend = NULL,
};
