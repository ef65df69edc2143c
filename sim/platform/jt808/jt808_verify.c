/* Third-party verification's JSON (jt808_verify.h): the requests of seed 000's
 * Tables 1-3 and the checks an answer must pass before the gateway acts on it. */
#include "sim/platform/jt808/jt808_verify.h"
#include "sim/platform/jt808/jt808_say.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

static const char *const ACTIONS[JT808_VERIFY__N] = {"register", "auth", "unregister"};

const char *jt808_verify_action_name(enum jt808_verify_action a)
{
    return (unsigned)a < JT808_VERIFY__N ? ACTIONS[a] : "?";
}

int jt808_verify_events_parse(const char *list, unsigned *mask, char *err, size_t errcap)
{
    unsigned m = 0;
    const char *p = list ? list : "";
    if (*p == '\0') {
        jt808_say(err, errcap, "empty, needs one or more of register, auth, unregister");
        return -1;
    }
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        int found = -1;
        for (int i = 0; i < JT808_VERIFY__N; i++)
            if (strlen(ACTIONS[i]) == n && strncmp(p, ACTIONS[i], n) == 0)
                found = i;
        if (found < 0) {
            jt808_say(err, errcap, "'%.*s' is not register, auth or unregister", (int)(n > 32 ? 32 : n), p);
            return -1;
        }
        m |= 1u << found;
        if (!comma)
            break;
        p = comma + 1;
        if (*p == '\0') {
            jt808_say(err, errcap, "trailing comma");
            return -1;
        }
    }
    *mask = m;
    return 0;
}

void jt808_verify_events_format(unsigned mask, char *out, size_t cap)
{
    size_t n = 0;
    if (cap == 0)
        return;
    out[0] = '\0';
    for (int i = 0; i < JT808_VERIFY__N; i++) {
        if (!(mask & (1u << i)))
            continue;
        int w = snprintf(out + n, cap - n, "%s%s", n ? "," : "", ACTIONS[i]);
        if (w < 0 || (size_t)w >= cap - n)
            return;
        n += (size_t)w;
    }
}

/* --- requests ----------------------------------------------------------------------- */

/* Print obj into out and free it; the length or -1. */
static int finish(cJSON *obj, char *out, size_t cap)
{
    int rc = -1;
    if (obj && cap <= (size_t)0x7fffffff && cJSON_PrintPreallocated(obj, out, (int)cap, false))
        rc = (int)strlen(out);
    cJSON_Delete(obj);
    if (rc < 0 && cap)
        out[0] = '\0';
    return rc;
}

static bool add(cJSON *o, const char *k, const char *v)
{
    return cJSON_AddStringToObject(o, k, v ? v : "") != NULL;
}

int jt808_verify_register_json(const struct jt808_reg_req *q, char *out, size_t cap)
{
    char color[8];
    cJSON *o = cJSON_CreateObject();
    snprintf(color, sizeof color, "%u", (unsigned)q->plate_color);
    if (!o || !add(o, "manufacturer", q->manufacturer) || !add(o, "deviceModel", q->model)
        || !add(o, "deviceId", q->terminal_id) || !add(o, "licensePlateColour", color)
        || !add(o, "licensePlateNumber", q->plate) || !add(o, "phone", q->phone) || !add(o, "action", "register")) {
        cJSON_Delete(o);
        return -1;
    }
    return finish(o, out, cap);
}

int jt808_verify_auth_json(const char *phone, const char *auth_code, const char *protocol, char *out, size_t cap)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !add(o, "phone", phone) || !add(o, "authCode", auth_code) || !add(o, "protocol", protocol)
        || !add(o, "action", "auth")) {
        cJSON_Delete(o);
        return -1;
    }
    return finish(o, out, cap);
}

int jt808_verify_unregister_json(const char *phone, const struct jt808_verify_dev *d, char *out, size_t cap)
{
    cJSON *o = cJSON_CreateObject();
    if (!o || !add(o, "phone", phone) || !add(o, "manufacturer", d ? d->manufacturer : "")
        || !add(o, "deviceModel", d ? d->model : "") || !add(o, "deviceId", d ? d->device_id : "")
        || !add(o, "action", "unregister")) {
        cJSON_Delete(o);
        return -1;
    }
    return finish(o, out, cap);
}

/* --- answers ------------------------------------------------------------------------ */

/* A string field: 1 with *s, 0 when absent, -1 (why) when of another type. */
static int str_field(const cJSON *o, const char *k, const char **s, char *why, size_t cap)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!v)
        return 0;
    if (!cJSON_IsString(v) || !v->valuestring) {
        jt808_say(why, cap, "%s: not a string", k);
        return -1;
    }
    *s = v->valuestring;
    return 1;
}

static bool id_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* A triple field of an accepted authentication, as the seed limits it. */
static int dev_field(const cJSON *o, const char *k, size_t min, size_t max, char *dst, char *why, size_t cap)
{
    const char *s = NULL;
    int r = str_field(o, k, &s, why, cap);
    if (r < 0)
        return -1;
    if (r == 0) {
        jt808_say(why, cap, "%s: missing (an accepted auth names the device)", k);
        return -1;
    }
    size_t n = strlen(s);
    if (n < min || n > max) {
        jt808_say(why, cap, "%s: %zu chars, needs %zu-%zu", k, n, min, max);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (!id_char((unsigned char)s[i])) {
            jt808_say(why, cap, "%s: byte 0x%02x at %zu not in [A-Za-z0-9-]", k, (unsigned char)s[i], i);
            return -1;
        }
    memcpy(dst, s, n + 1);
    return 0;
}

static int check_answer(enum jt808_verify_action a, const cJSON *o, struct jt808_verify_answer *ans, char *why,
                        size_t cap)
{
    const char *result = NULL, *message = NULL, *code = NULL;
    int r;
    if (!cJSON_IsObject(o)) {
        jt808_say(why, cap, "answer: not a JSON object");
        return -1;
    }
    r = str_field(o, "result", &result, why, cap);
    if (r <= 0) {
        if (r == 0)
            jt808_say(why, cap, "result: missing");
        return -1;
    }
    if (strcmp(result, "true") == 0) {
        ans->ok = true;
    } else if (strcmp(result, "false") != 0) {
        jt808_say(why, cap, "result: \"%.32s\" is not \"true\" or \"false\"", result);
        return -1;
    }
    if ((r = str_field(o, "message", &message, why, cap)) < 0)
        return -1;
    if (message)
        snprintf(ans->message, sizeof ans->message, "%s", message);
    if (!ans->ok) {
        if (a != JT808_VERIFY_REGISTER)
            return 0;
        /* a refused registration says which of 0x8100's results it is */
        if (!message) {
            jt808_say(why, cap, "message: missing (a refused register needs 1-4)");
            return -1;
        }
        if (strlen(message) != 1 || message[0] < '1' || message[0] > '4') {
            jt808_say(why, cap, "message: \"%.32s\" is not 1-4", message);
            return -1;
        }
        ans->code = (uint8_t)(message[0] - '0');
        return 0;
    }
    switch (a) {
    case JT808_VERIFY_REGISTER:
        if ((r = str_field(o, "authCode", &code, why, cap)) <= 0) {
            if (r == 0)
                jt808_say(why, cap, "authCode: missing (an accepted register returns one)");
            return -1;
        }
        size_t n = strlen(code);
        if (n == 0 || n > JT808_VERIFY_AUTH_CODE_MAX) {
            jt808_say(why, cap, "authCode: %zu bytes, needs 1-%d", n, JT808_VERIFY_AUTH_CODE_MAX);
            return -1;
        }
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)code[i] < 0x20 || code[i] == 0x7f) {
                jt808_say(why, cap, "authCode: control byte 0x%02x at %zu", (unsigned char)code[i], i);
                return -1;
            }
        memcpy(ans->auth_code, code, n + 1);
        return 0;
    case JT808_VERIFY_AUTH:
        if (dev_field(o, "manufacturer", 4, 11, ans->dev.manufacturer, why, cap)
            || dev_field(o, "deviceModel", 4, 30, ans->dev.model, why, cap)
            || dev_field(o, "deviceId", 4, 30, ans->dev.device_id, why, cap))
            return -1;
        return 0;
    default:
        return 0;
    }
}

int jt808_verify_parse(enum jt808_verify_action a, const char *body, size_t len, struct jt808_verify_answer *ans,
                       char *why, size_t whycap)
{
    jt808_say(why, whycap, "%s", "");
    memset(ans, 0, sizeof *ans);
    if ((unsigned)a >= JT808_VERIFY__N) {
        jt808_say(why, whycap, "jt808_verify_parse: action %d unknown", (int)a);
        return -1;
    }
    if (!body || len == 0) {
        jt808_say(why, whycap, "answer: empty body");
        return -1;
    }
    const char *end = NULL;
    cJSON *o = cJSON_ParseWithLengthOpts(body, len, &end, false);
    if (!o) {
        const char *at = cJSON_GetErrorPtr();
        size_t off = at && at >= body && at <= body + len ? (size_t)(at - body) : 0;
        jt808_say(why, whycap, "answer: not JSON (at byte %zu)", off);
        return -1;
    }
    /* nothing but white space after the value */
    for (const char *p = end; p && p < body + len; p++)
        if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') {
            jt808_say(why, whycap, "answer: bytes after the JSON value at byte %zu", (size_t)(p - body));
            cJSON_Delete(o);
            return -1;
        }
    int rc = check_answer(a, o, ans, why, whycap);
    cJSON_Delete(o);
    if (rc != 0)
        memset(ans, 0, sizeof *ans);   /* a malformed answer leaves nothing to act on */
    return rc;
}
