/* The device calls' bodies and query parameters, checked (svc_dev.h): every refusal
 * names its field.  Pure: no core, no store, no clock. */
#include "sim/platform/core/svc_dev.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static int fail(char *err, size_t cap, const char *fmt, const char *field, const char *what)
{
    snprintf(err, cap, fmt, field, what);
    return -1;
}

/* An id that goes into a path: letters, digits and _ . : - */
static bool id_chars(const char *s)
{
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("_.:-", *s))
            return false;
    return true;
}

static bool printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

/* A string member copied into out (cap bytes with its NUL), min..cap-1 bytes;
 * 0 absent (out untouched), 1 copied, -1 with err. */
static int str_field(const cJSON *body, const char *field, size_t min, char *out, size_t cap, char *err,
                     size_t errcap)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, field);
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsString(v) || !v->valuestring)
        return fail(err, errcap, "%s: %s", field, "not a string");
    size_t n = strlen(v->valuestring);
    if (n < min || n >= cap) {
        snprintf(err, errcap, "%s: %zu characters, %zu to %zu allowed", field, n, min, cap - 1);
        return -1;
    }
    if (!printable(v->valuestring))
        return fail(err, errcap, "%s: %s", field, "holds a control character");
    memcpy(out, v->valuestring, n + 1);
    return 1;
}

/* An unknown member, named when its name can be (else the body is). */
static int unknown(const char *key, const char *what, char *err, size_t errcap)
{
    size_t n = strlen(key);
    bool plain = n > 0 && n <= 64;
    for (const char *p = key; plain && *p; p++)
        if (!isgraph((unsigned char)*p) || *p == ':' || *p == '"')
            plain = false;
    if (plain)
        return fail(err, errcap, "%s: %s", key, what);
    return fail(err, errcap, "%s: %s", "body", "a member with an empty or unprintable name");
}

static bool all_hex(const char *s)
{
    for (; *s; s++)
        if (!isxdigit((unsigned char)*s))
            return false;
    return true;
}

static const char *const protocols[] = {"jt808", "lwm2m", "coap", "mqtt"};

int svc_dev_device_id(const char *protocol, const char *product, const char *node_id, char *out, size_t cap,
                      char *err, size_t errcap)
{
    int n;
    if (!product[0] || strcmp(protocol, "jt808") == 0)
        n = snprintf(out, cap, "%s", node_id);
    else
        n = snprintf(out, cap, "%s_%s", product, node_id);
    if (n < 0 || (size_t)n >= cap || n > STORE_ID_MAX) {
        snprintf(err, errcap, "nodeId: the deviceId productId_nodeId would be %d characters, at most %d", n,
                 STORE_ID_MAX);
        return -1;
    }
    return 0;
}

int svc_dev_reg_parse(const cJSON *body, struct svc_dev_reg *o, char *err, size_t errcap)
{
    static const char *const known[] = {"nodeId", "verifyCode", "productId", "protocolType", "psk",
                                        "timeout", "name", "endUser", "endUserId"};
    memset(o, 0, sizeof *o);
    if (!cJSON_IsObject(body))
        return fail(err, errcap, "%s: %s", "body", "not a JSON object");
    const cJSON *m;
    cJSON_ArrayForEach(m, body) {
        size_t i = 0;
        while (i < sizeof known / sizeof *known && strcmp(m->string, known[i]) != 0)
            i++;
        if (i == sizeof known / sizeof *known)
            return unknown(m->string, "not a field of a registration", err, errcap);
    }
    int rc = str_field(body, "nodeId", 1, o->node_id, sizeof o->node_id, err, errcap);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return fail(err, errcap, "%s: %s", "nodeId", "missing");
    if (!id_chars(o->node_id))
        return fail(err, errcap, "%s: %s", "nodeId", "only letters, digits and _ . : - are allowed");
    if ((rc = str_field(body, "verifyCode", 1, o->verify_code, sizeof o->verify_code, err, errcap)) < 0)
        return -1;
    if (rc == 0)
        snprintf(o->verify_code, sizeof o->verify_code, "%s", o->node_id);
    if (str_field(body, "productId", 1, o->product, sizeof o->product, err, errcap) < 0)
        return -1;
    if (!id_chars(o->product))
        return fail(err, errcap, "%s: %s", "productId", "only letters, digits and _ . : - are allowed");
    char proto[STORE_PROTOCOL_MAX + 1] = "jt808";
    if (str_field(body, "protocolType", 1, proto, sizeof proto, err, errcap) < 0)
        return -1;
    size_t pi = 0;
    while (pi < sizeof protocols / sizeof *protocols && strcasecmp(proto, protocols[pi]) != 0)
        pi++;
    if (pi == sizeof protocols / sizeof *protocols) {
        snprintf(err, errcap, "protocolType: \"%s\" is not one of jt808, lwm2m, coap, mqtt", proto);
        return -1;
    }
    snprintf(o->protocol, sizeof o->protocol, "%s", protocols[pi]);
    if (str_field(body, "name", 1, o->name, sizeof o->name, err, errcap) < 0)
        return -1;
    if ((rc = str_field(body, "endUser", 0, o->end_user, sizeof o->end_user, err, errcap)) < 0)
        return -1;
    if (rc == 0 && str_field(body, "endUserId", 0, o->end_user, sizeof o->end_user, err, errcap) < 0)
        return -1;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(body, "timeout");
    o->timeout_s = SVC_DEV_TIMEOUT_S;
    if (t && !cJSON_IsNull(t)) {
        if (!cJSON_IsNumber(t))
            return fail(err, errcap, "%s: %s", "timeout", "not a whole number of seconds");
        if (!(t->valuedouble >= 0 && t->valuedouble <= INT32_MAX))
            return fail(err, errcap, "%s: %s", "timeout", "out of 0..2147483647 s");
        if (t->valuedouble != (double)(int64_t)t->valuedouble)
            return fail(err, errcap, "%s: %s", "timeout", "not a whole number of seconds");
        o->timeout_s = (int64_t)t->valuedouble;
    }
    /* a secret given: NB-IoT devices (DTLS PSK) take hex only (004 §4) */
    char psk[STORE_SECRET_MAX + 2] = "";
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(body, "psk");
    if (p && !cJSON_IsNull(p)) {
        if (!cJSON_IsString(p) || !p->valuestring)
            return fail(err, errcap, "%s: %s", "psk", "not a string");
        size_t n = strlen(p->valuestring);
        bool nb = strcmp(o->protocol, "lwm2m") == 0 || strcmp(o->protocol, "coap") == 0;
        if (n < 8 || n > STORE_SECRET_MAX) {
            snprintf(err, errcap, "psk: %zu characters, 8 to %d allowed", n, STORE_SECRET_MAX);
            return -1;
        }
        if (nb && !all_hex(p->valuestring))
            return fail(err, errcap, "%s: %s", "psk", "an NB-IoT (lwm2m, coap) device's psk is hex digits only");
        if (!nb && !id_chars(p->valuestring))
            return fail(err, errcap, "%s: %s", "psk", "only letters, digits and _ . : - are allowed");
        memcpy(psk, p->valuestring, n + 1);
    }
    snprintf(o->psk, sizeof o->psk, "%s", psk);
    return svc_dev_device_id(o->protocol, o->product, o->node_id, o->device_id, sizeof o->device_id, err,
                             errcap);
}

int svc_dev_mod_parse(const cJSON *body, struct svc_dev_mod *o, char *err, size_t errcap)
{
    memset(o, 0, sizeof *o);
    if (!cJSON_IsObject(body))
        return fail(err, errcap, "%s: %s", "body", "not a JSON object");
    const cJSON *m;
    cJSON_ArrayForEach(m, body) {
        if (strcmp(m->string, "name") != 0 && strcmp(m->string, "endUser") != 0)
            return unknown(m->string, "not a field this call changes (name, endUser)", err, errcap);
    }
    int rc = str_field(body, "name", 1, o->name, sizeof o->name, err, errcap);
    if (rc < 0)
        return -1;
    o->has_name = rc == 1;
    if ((rc = str_field(body, "endUser", 0, o->end_user, sizeof o->end_user, err, errcap)) < 0)
        return -1;
    o->has_end_user = rc == 1;
    if (!o->has_name && !o->has_end_user)
        return fail(err, errcap, "%s: %s", "body", "nothing to change (name, endUser)");
    return 0;
}

static int whole(const char *name, const char *text, long lo, long hi, long *out, char *err, size_t errcap)
{
    char *end;
    if (!text[0] || !isdigit((unsigned char)text[0])) {
        snprintf(err, errcap, "%s: \"%.40s\" is not a whole number", name, text);
        return -1;
    }
    errno = 0;
    long v = strtol(text, &end, 10);
    if (*end || errno) {
        snprintf(err, errcap, "%s: \"%.40s\" is not a whole number", name, text);
        return -1;
    }
    if (v < lo || v > hi) {
        snprintf(err, errcap, "%s: %ld is out of %ld..%ld", name, v, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

int svc_dev_page_parse(const char *page_no, const char *page_size, int def, int max, int *no, int *size, char *err,
                       size_t errcap)
{
    long v;
    *no = 0;
    *size = def;
    if (page_no) {
        if (whole("pageNo", page_no, 0, 1000000, &v, err, errcap) < 0)
            return -1;
        *no = (int)v;
    }
    if (page_size) {
        if (whole("pageSize", page_size, 1, max, &v, err, errcap) < 0)
            return -1;
        *size = (int)v;
    }
    return 0;
}

int svc_dev_time_parse(const char *name, const char *text, int64_t *unix_ms, char *err, size_t errcap)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    bool shape = strlen(text) == 16 && text[8] == 'T' && text[15] == 'Z';
    for (int i = 0; shape && i < 15; i++)
        if (i != 8 && !isdigit((unsigned char)text[i]))
            shape = false;
    if (shape) {
        int y, mo, d, h, mi, s;
        sscanf(text, "%4d%2d%2dT%2d%2d%2d", &y, &mo, &d, &h, &mi, &s);
        tm.tm_year = y - 1900;
        tm.tm_mon = mo - 1;
        tm.tm_mday = d;
        tm.tm_hour = h;
        tm.tm_min = mi;
        tm.tm_sec = s;
        time_t t = timegm(&tm);
        /* timegm normalises 20260231 into March: a date that does not exist is refused */
        if (y >= 1970 && tm.tm_year == y - 1900 && tm.tm_mon == mo - 1 && tm.tm_mday == d && tm.tm_hour == h &&
            tm.tm_min == mi && tm.tm_sec == s) {
            *unix_ms = (int64_t)t * 1000;
            return 0;
        }
    }
    snprintf(err, errcap, "%s: \"%.40s\" is not a time yyyyMMddTHHmmssZ (UTC)", name, text);
    return -1;
}

int svc_dev_status_parse(const char *text)
{
    for (int s = 0; s < DS__COUNT; s++)
        if (strcmp(text, dev_status_name((enum dev_status)s)) == 0)
            return s;
    return -1;
}
