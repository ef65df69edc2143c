/* 0x8105 terminal control <-> JSON (jt808_json.c hands the body object here).
 *   commands 1 and 2: {"command":1,"url":"...","apn":"...",...,"tcp_port":N,...}
 *     numbers for BYTE/WORD fields, strings for STRING and BYTE[5] ones, in the
 *     order of jt808_ctl_fields; a binary field kept raw is "<name>_hex"; bytes after
 *     the last field "trailing_hex".  On input the fields given are sent in that
 *     order and the list stops after the last one given (fields may be left out only
 *     at the end: command 2 with connection 1 is {"command":2,"connection":1}).
 *   other commands: {"command":N,"params":"..."} */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/proto/hex.h"
#include "sim/proto/jt808_json.h"
#include "sim/proto/jt808_internal.h"

static void add_hex(cJSON *o, const char *key, const uint8_t *p, size_t n)
{
    char *s = hex_encode_alloc(p, n);
    if (s)
        cJSON_AddStringToObject(o, key, s);
    free(s);
}

void jt808_ctl_to_json(cJSON *o, const struct jt808_control *b)
{
    cJSON_AddNumberToObject(o, "command", b->command);
    size_t nf;
    const struct jt808_cfd *fd = jt808_ctl_fields(b->command, &nf);
    if (!fd) {
        cJSON_AddStringToObject(o, "params", b->params);
        return;
    }
    for (size_t i = 0; i < b->n_fields && i < nf; i++) {
        const struct jt808_ctl_val *v = &b->f[fd[i].id];
        if (v->kept_raw) {
            char key[40];
            snprintf(key, sizeof key, "%s_hex", fd[i].name);
            add_hex(o, key, v->raw, v->raw_len);
        } else if (fd[i].type == JT808_CFT_STRING || fd[i].type == JT808_CFT_BYTES5) {
            cJSON_AddStringToObject(o, fd[i].name, v->str ? v->str : "");
        } else {
            cJSON_AddNumberToObject(o, fd[i].name, v->num);
        }
    }
    if (b->n_trailing)
        add_hex(o, "trailing_hex", b->trailing, b->n_trailing);
}

/* --- from JSON ------------------------------------------------------------- */

static bool cfail(char *err, size_t cap, const char *key, const char *fmt, const char *arg)
{
    if (err && cap) {
        char what[160];
        snprintf(what, sizeof what, fmt, arg);
        snprintf(err, cap, "body%s%s: %s", key[0] ? "." : "", key, what);
    }
    return false;
}

static bool hex_value(const cJSON *v, const char *key, struct jt808_arena *a, const uint8_t **out,
                      size_t *n, char *err, size_t cap)
{
    if (!cJSON_IsString(v))
        return cfail(err, cap, key, "expected a hex string", NULL);
    size_t len = strlen(v->valuestring), pos = 0;
    uint8_t *p = jt808_arena_alloc(a, len / 2 + 1);
    if (!p)
        return cfail(err, cap, key, "out of memory", NULL);
    enum hex_rc rc = hex_decode(v->valuestring, len, HEX_STRICT, p, len / 2 + 1, n, &pos);
    if (rc != HEX_OK) {
        char msg[120];
        hex_format_error(rc, v->valuestring, len, pos, msg, sizeof msg);
        return cfail(err, cap, key, "%s", msg);
    }
    if (*n > JT808_MAX_BODY)
        return cfail(err, cap, key, "longer than a body", NULL);
    *out = p;
    return true;
}

static bool known_key(const char *k, const struct jt808_cfd *fd, size_t nf)
{
    if (strcmp(k, "command") == 0 || strcmp(k, "trailing_hex") == 0)
        return true;
    size_t n = strlen(k);
    for (size_t i = 0; i < nf; i++) {
        size_t m = strlen(fd[i].name);
        if (strcmp(k, fd[i].name) == 0 ||
            (fd[i].type != JT808_CFT_STRING && n == m + 4 && strncmp(k, fd[i].name, m) == 0 &&
             strcmp(k + m, "_hex") == 0))
            return true;
    }
    return false;
}

/* One field's value (v: the plain key, h: "<name>_hex"). */
static bool field_from_json(const struct jt808_cfd *d, const cJSON *v, const cJSON *h,
                            struct jt808_arena *a, struct jt808_ctl_val *out, char *err, size_t cap)
{
    char hk[40];
    snprintf(hk, sizeof hk, "%s_hex", d->name);
    if (v && h)
        return cfail(err, cap, d->name, "give it or %s, not both", hk);
    if (h) {
        size_t n = 0;
        if (!hex_value(h, hk, a, &out->raw, &n, err, cap))
            return false;
        out->raw_len = (uint16_t)n;
        out->kept_raw = true;
        return true;
    }
    if (d->type == JT808_CFT_BYTE || d->type == JT808_CFT_WORD) {
        double max = d->type == JT808_CFT_BYTE ? 0xFF : 0xFFFF;
        if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= max) ||
            v->valuedouble != (double)(uint32_t)v->valuedouble)
            return cfail(err, cap, d->name, "expected an integer 0..%s",
                         d->type == JT808_CFT_BYTE ? "255" : "65535");
        out->num = (uint32_t)v->valuedouble;
        return true;
    }
    if (!cJSON_IsString(v))
        return cfail(err, cap, d->name, "expected a string", NULL);
    const char *s = v->valuestring;
    uint8_t gbk[JT808_MAX_BODY];
    size_t n = 0;
    enum jt808_rc rc = jt808_utf8_to_gbk(s, gbk, sizeof gbk, &n);
    if (rc != JT808_OK)
        return cfail(err, cap, d->name, rc == JT808_E_NOSPACE ? "longer than a body" : "not representable in GBK", NULL);
    if (d->type == JT808_CFT_BYTES5 && n > 5)
        return cfail(err, cap, d->name, "longer than the 5 bytes of the field", NULL);
    if (d->type == JT808_CFT_STRING && memchr(gbk, ';', n))
        return cfail(err, cap, d->name, "';' separates the fields; a STRING cannot hold it", NULL);
    size_t len = strlen(s);
    char *copy = jt808_arena_alloc(a, len + 1);
    if (!copy)
        return cfail(err, cap, d->name, "out of memory", NULL);
    memcpy(copy, s, len + 1);
    out->str = copy;
    return true;
}

bool jt808_ctl_from_json(const cJSON *o, struct jt808_control *b, struct jt808_arena *a, char *err,
                         size_t cap)
{
    if (!cJSON_IsObject(o))
        return cfail(err, cap, "", "expected an object", NULL);
    const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(o, "command");
    if (!cmd)
        return cfail(err, cap, "command", "missing", NULL);
    if (!cJSON_IsNumber(cmd) || !(cmd->valuedouble >= 0 && cmd->valuedouble <= 255) ||
        cmd->valuedouble != (double)(uint8_t)cmd->valuedouble)
        return cfail(err, cap, "command", "expected an integer 0..255", NULL);
    memset(b, 0, sizeof *b);
    b->command = (uint8_t)cmd->valuedouble;
    size_t nf;
    const struct jt808_cfd *fd = jt808_ctl_fields(b->command, &nf);
    for (const cJSON *e = o->child; e; e = e->next) {
        bool ok = fd ? known_key(e->string, fd, nf)
                     : strcmp(e->string, "command") == 0 || strcmp(e->string, "params") == 0;
        if (!ok && fd && strcmp(e->string, "params") == 0)
            return cfail(err, cap, "params", "commands 1 and 2 take typed fields (url, apn, ...), "
                                             "not params", NULL);
        if (!ok)
            return cfail(err, cap, e->string, "unknown field", NULL);
        for (const cJSON *d = o->child; d != e; d = d->next)
            if (strcmp(d->string, e->string) == 0)
                return cfail(err, cap, e->string, "duplicate field", NULL);
    }
    if (!fd) {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "params");
        if (!p)
            return cfail(err, cap, "params", "missing", NULL);
        if (!cJSON_IsString(p))
            return cfail(err, cap, "params", "expected a string", NULL);
        if (strlen(p->valuestring) >= sizeof b->params)
            return cfail(err, cap, "params", "too long", NULL);
        strcpy(b->params, p->valuestring);
        return true;
    }
    const char *gap = NULL; /* the first field left out */
    for (size_t i = 0; i < nf; i++) {
        char hk[40];
        snprintf(hk, sizeof hk, "%s_hex", fd[i].name);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, fd[i].name);
        const cJSON *h = cJSON_GetObjectItemCaseSensitive(o, hk);
        if (!v && !h) {
            if (!gap)
                gap = fd[i].name;
            continue;
        }
        if (gap)
            return cfail(err, cap, gap, "missing: the fields are a list, only the last ones can be "
                                        "left out (%s is given)", fd[i].name);
        if (!field_from_json(&fd[i], v, h, a, &b->f[fd[i].id], err, cap))
            return false;
        b->n_fields = (uint8_t)(i + 1);
    }
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "trailing_hex");
    if (t) {
        size_t n = 0;
        if (b->n_fields != nf)
            return cfail(err, cap, "trailing_hex", "only after the last field (%s)", fd[nf - 1].name);
        if (!hex_value(t, "trailing_hex", a, &b->trailing, &n, err, cap))
            return false;
        b->n_trailing = (uint16_t)n;
    }
    return true;
}
