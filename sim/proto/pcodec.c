/* A product's messages: bytes <-> JSON (pcodec.h). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/proto/hex.h"
#include "sim/proto/pcodec.h"

static const char *ftype_name(const struct pc_field *f)
{
    static const char *const ints[] = {"", "8", "16", "24", "32", "", "", "", "64"};
    static char buf[16];
    switch (f->type) {
    case PF_UINT: snprintf(buf, sizeof buf, "uint%s", f->len <= 8 ? ints[f->len] : "?"); return buf;
    case PF_INT: snprintf(buf, sizeof buf, "int%s", f->len <= 8 ? ints[f->len] : "?"); return buf;
    case PF_FLOAT: return f->len == 4 ? "float32" : "float64";
    case PF_BOOL: return "bool";
    case PF_STRING: return "string";
    case PF_VARSTRING: return "varstring";
    case PF_HEX: return "hex";
    case PF_VARHEX: return "varhex";
    }
    return "?";
}

__attribute__((format(printf, 5, 6))) static int bad(char *err, size_t cap, const struct pc_field *f, size_t off,
                                                      const char *fmt, ...)
{
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (f)
        snprintf(err, cap, "field %s (%s) at offset %zu: %s", f->name, ftype_name(f), off, msg);
    else
        snprintf(err, cap, "offset %zu: %s", off, msg);
    return -1;
}

static uint64_t get_uint(const uint8_t *b, uint32_t len, bool little)
{
    uint64_t v = 0;
    for (uint32_t i = 0; i < len; i++)
        v |= (uint64_t)b[little ? i : len - 1 - i] << (8 * i);
    return v;
}

static void put_uint(uint8_t *b, uint32_t len, bool little, uint64_t v)
{
    for (uint32_t i = 0; i < len; i++)
        b[little ? i : len - 1 - i] = (uint8_t)(v >> (8 * i));
}

static int64_t sign_extend(uint64_t v, uint32_t len)
{
    if (len >= 8)
        return (int64_t)v;
    uint64_t m = 1ull << (8 * len - 1);
    return (int64_t)((v ^ m) - m);
}

static void deviation(cJSON **devs, const char *kind, const struct pc_field *f, size_t off, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void deviation(cJSON **devs, const char *kind, const struct pc_field *f, size_t off, const char *fmt, ...)
{
    if (!*devs && !(*devs = cJSON_CreateArray()))
        return;
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "kind", kind);
    if (f)
        cJSON_AddStringToObject(d, "field", f->name);
    cJSON_AddNumberToObject(d, "offset", (double)off);
    cJSON_AddStringToObject(d, "text", msg);
    cJSON_AddItemToArray(*devs, d);
}

/* raw * scale + add, exact where it can be: a scale of 0.01 divides by 100 (the
 * double nearest raw/100), as 0.01 itself is not a double. */
static double scaled(double raw, const struct pc_field *f)
{
    double inv = 1.0 / f->scale, r = nearbyint(inv);
    if (f->scale < 1 && r > 0 && fabs(inv - r) < 1e-9 * r)
        return raw / r + f->add;
    return raw * f->scale + f->add;
}

/* The reverse: the raw value for v. */
static double unscaled(double v, const struct pc_field *f)
{
    double inv = 1.0 / f->scale, r = nearbyint(inv);
    if (f->scale < 1 && r > 0 && fabs(inv - r) < 1e-9 * r)
        return (v - f->add) * r;
    return (v - f->add) / f->scale;
}

/* A number against its model field: range, enum. */
static void check_number(cJSON **devs, const struct pc_field *f, size_t off, double v)
{
    const struct pc_prop *p = f->prop;
    if ((p->has_min && v < p->min) || (p->has_max && v > p->max))
        deviation(devs, "out-of-range", f, off, "%.17g is outside %s's range %g..%g", v, p->name,
                  p->has_min ? p->min : -INFINITY, p->has_max ? p->max : INFINITY);
    if (p->n_enum && p->enums) {
        int in = 0;
        for (int i = 0; i < p->n_enum && !in; i++)
            in = p->enums[i] == v;
        if (!in)
            deviation(devs, "not-in-enum", f, off, "%.17g is not in %s's enumList", v, p->name);
    }
}

/* len bytes as a JSON string: valid UTF-8 as it is (trailing NULs of a fixed
 * string cut), anything else replaced by U+FFFD with a deviation. */
static cJSON *string_value(cJSON **devs, const struct pc_field *f, size_t off, const uint8_t *b, size_t len)
{
    size_t n = len;
    if (f->type == PF_STRING)
        while (n && b[n - 1] == 0)
            n--;
    char *s = malloc(3 * n + 1);
    if (!s)
        return NULL;
    size_t o = 0;
    int bad_utf8 = 0, nul = 0;
    for (size_t i = 0; i < n;) {
        uint8_t c = b[i];
        size_t need = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        bool ok = need && i + need <= n && (need != 2 || c >= 0xC2);
        for (size_t k = 1; ok && k < need; k++)
            ok = (b[i + k] & 0xC0) == 0x80;
        if (ok && c == 0) {
            nul++;
            ok = false;
        }
        if (!ok) {
            bad_utf8 += c != 0;
            memcpy(s + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
            continue;
        }
        memcpy(s + o, b + i, need);
        o += need;
        i += need;
    }
    s[o] = 0;
    if (bad_utf8)
        deviation(devs, "not-utf8", f, off, "%d byte%s that are not UTF-8, shown as U+FFFD", bad_utf8,
                  bad_utf8 > 1 ? "s" : "");
    if (nul)
        deviation(devs, "nul-in-string", f, off, "%d NUL byte%s inside the string", nul, nul > 1 ? "s" : "");
    const struct pc_prop *p = f->prop;
    if (p && p->max_len && o > p->max_len)
        deviation(devs, "too-long", f, off, "%zu bytes, %s's maxLength is %u", o, p->name, p->max_len);
    if (p && p->n_enum && p->senums) {
        int in = 0;
        for (int i = 0; i < p->n_enum && !in; i++)
            in = strcmp(p->senums[i], s) == 0;
        if (!in)
            deviation(devs, "not-in-enum", f, off, "\"%s\" is not in %s's enumList", s, p->name);
    }
    cJSON *j = cJSON_CreateString(s);
    free(s);
    return j;
}

static const struct pc_message *identify(const struct pc_product *p, bool up, const uint8_t *b, size_t n,
                                         char *err, size_t errcap)
{
    const struct pc_field *idf = NULL;
    for (int i = 0; i < p->n_messages; i++) {
        const struct pc_message *m = &p->messages[i];
        if ((m->kind == PK_COMMAND) == up)
            continue;
        if (!m->has_id)
            return m; /* no messageId: the only one of this direction (the parser saw to it) */
        idf = &m->fields[0];
    }
    if (!idf) {
        snprintf(err, errcap, "the product's codec has no message %s the device", up ? "from" : "to");
        return NULL;
    }
    if (n < idf->len) {
        bad(err, errcap, idf, 0, "needs %u byte%s, %zu there", idf->len, idf->len > 1 ? "s" : "", n);
        return NULL;
    }
    uint64_t id = get_uint(b, idf->len, idf->little);
    char known[200] = "";
    for (int i = 0; i < p->n_messages; i++) {
        const struct pc_message *m = &p->messages[i];
        if ((m->kind == PK_COMMAND) == up)
            continue;
        if (m->id == id)
            return m;
        snprintf(known + strlen(known), sizeof known - strlen(known), "%s%llu %s", known[0] ? ", " : "",
                 (unsigned long long)m->id, m->name);
    }
    bad(err, errcap, idf, 0, "%llu is no message %s the device (%s)", (unsigned long long)id, up ? "from" : "to",
        known);
    return NULL;
}

int pc_decode(const struct pc_product *p, bool up, const uint8_t *b, size_t n, cJSON **out, char *err,
              size_t errcap)
{
    *out = NULL;
    const struct pc_message *m = identify(p, up, b, n, err, errcap);
    if (!m)
        return -1;
    uint64_t raw[1024 + 1];
    cJSON *o = cJSON_CreateObject(), *data = cJSON_CreateObject(), *devs = NULL;
    if (!o || !data) {
        cJSON_Delete(o);
        cJSON_Delete(data);
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    const struct pc_service *s = &p->services[m->service];
    cJSON_AddStringToObject(o, "message", m->name);
    cJSON_AddStringToObject(o, "kind", pc_kind_name(m->kind));
    cJSON_AddStringToObject(o, "serviceId", s->id);
    if (m->kind != PK_REPORT)
        cJSON_AddStringToObject(o, "command", s->cmds[m->command].name);
    size_t off = 0;
    for (int i = 0; i < m->n_fields; i++) {
        const struct pc_field *f = &m->fields[i];
        uint32_t len = f->len;
        if (f->type == PF_VARSTRING || f->type == PF_VARHEX) {
            uint64_t want = raw[f->length_from];
            if (want > n - off) {
                cJSON_Delete(o);
                cJSON_Delete(data);
                cJSON_Delete(devs);
                return bad(err, errcap, f, off, "its length field %s says %llu bytes, %zu left",
                           m->fields[f->length_from].name, (unsigned long long)want, n - off);
            }
            len = (uint32_t)want;
        } else if (len > n - off) {
            cJSON_Delete(o);
            cJSON_Delete(data);
            cJSON_Delete(devs);
            return bad(err, errcap, f, off, "needs %u byte%s, %zu left", len, len > 1 ? "s" : "", n - off);
        }
        const uint8_t *at = b + off;
        cJSON *v = NULL;
        raw[i] = 0;
        switch (f->type) {
        case PF_UINT:
        case PF_INT: {
            uint64_t u = get_uint(at, len, f->little);
            raw[i] = u;
            if (f->role == PR_CONST && u != f->cval)
                deviation(&devs, "constant", f, off, "%llu where the codec says %llu", (unsigned long long)u,
                          (unsigned long long)f->cval);
            if (f->role == PR_MID)
                cJSON_AddNumberToObject(o, "mid", (double)u);
            if (f->role == PR_ERRCODE)
                cJSON_AddNumberToObject(o, "errcode", (double)u);
            if (f->role != PR_DATA)
                break;
            if (f->prop->type == PD_BOOL) {
                if (u > 1)
                    deviation(&devs, "bool-value", f, off, "%llu for a bool (0 or 1)", (unsigned long long)u);
                v = cJSON_CreateBool(u != 0);
                break;
            }
            double x = scaled(f->type == PF_INT ? (double)sign_extend(u, len) : (double)u, f);
            if (f->scale == 1 && f->add == 0 && f->type == PF_UINT && u > (1ull << 53)) {
                char t[24];
                snprintf(t, sizeof t, "%llu", (unsigned long long)u);
                v = cJSON_CreateString(t); /* past a JSON number's exact range: its digits */
            } else {
                v = cJSON_CreateNumber(x);
            }
            check_number(&devs, f, off, x);
            break;
        }
        case PF_FLOAT: {
            uint64_t u = get_uint(at, len, f->little);
            double x;
            if (len == 4) {
                uint32_t w = (uint32_t)u;
                float fl;
                memcpy(&fl, &w, 4);
                x = fl;
            } else {
                memcpy(&x, &u, 8);
            }
            if (!isfinite(x)) {
                deviation(&devs, "not-finite", f, off, "a NaN or infinity (shown as null)");
                v = cJSON_CreateNull();
                break;
            }
            x = scaled(x, f);
            v = cJSON_CreateNumber(x);
            check_number(&devs, f, off, x);
            break;
        }
        case PF_BOOL:
            if (*at > 1)
                deviation(&devs, "bool-value", f, off, "%u for a bool (0 or 1)", *at);
            v = cJSON_CreateBool(*at != 0);
            break;
        case PF_STRING:
        case PF_VARSTRING:
            v = string_value(&devs, f, off, at, len);
            break;
        case PF_HEX:
        case PF_VARHEX: {
            char *h = malloc(2 * (size_t)len + 1);
            if (h) {
                hex_encode_lower(at, len, h, 2 * (size_t)len + 1);
                v = cJSON_CreateString(h);
                free(h);
            }
            if (f->prop && f->prop->max_len && 2 * (size_t)len > f->prop->max_len)
                deviation(&devs, "too-long", f, off, "%u bytes (%u hex digits), %s's maxLength is %u", len,
                          2 * len, f->prop->name, f->prop->max_len);
            break;
        }
        }
        if (f->role == PR_DATA) {
            if (!v) {
                cJSON_Delete(o);
                cJSON_Delete(data);
                cJSON_Delete(devs);
                snprintf(err, errcap, "out of memory");
                return -1;
            }
            cJSON_AddItemToObject(data, f->prop->name, v);
        }
        off += len;
    }
    if (off < n)
        deviation(&devs, "trailing-bytes", NULL, off, "%zu byte%s after the last field of %s", n - off,
                  n - off > 1 ? "s" : "", m->name);
    cJSON_AddItemToObject(o, "data", data);
    if (devs)
        cJSON_AddItemToObject(o, "deviations", devs);
    *out = o;
    return 0;
}

/* --- encoding ------------------------------------------------------------------------- */

__attribute__((format(printf, 5, 6))) static int refuse_at(char *err, size_t cap, const char *prefix,
                                                            const char *name, const char *fmt, ...)
{
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(err, cap, "%s%s%s: %s", prefix, prefix[0] ? "." : "", name, msg);
    return -1;
}
#define refuse(err, cap, ...) refuse_at(err, cap, "data", __VA_ARGS__)

int pc_prop_value(const struct pc_prop *p, const cJSON *v, const char *prefix, double *num, const char **str, char *err,
                  size_t cap)
{
    if (p->type == PD_BOOL) {
        if (!cJSON_IsBool(v))
            return refuse_at(err, cap, prefix, p->name, "expected true or false (a bool)");
        *num = cJSON_IsTrue(v);
        return 0;
    }
    if (p->type == PD_STRING || p->type == PD_DATETIME) {
        if (!cJSON_IsString(v))
            return refuse_at(err, cap, prefix, p->name, "expected a string");
        *str = v->valuestring;
        if (p->max_len && strlen(*str) > p->max_len)
            return refuse_at(err, cap, prefix, p->name, "%zu bytes, its maxLength is %u", strlen(*str), p->max_len);
        if (p->n_enum && p->senums) {
            int in = 0;
            for (int i = 0; i < p->n_enum && !in; i++)
                in = strcmp(p->senums[i], *str) == 0;
            if (!in)
                return refuse_at(err, cap, prefix, p->name, "\"%s\" is not in its enumList", *str);
        }
        return 0;
    }
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return refuse_at(err, cap, prefix, p->name, "expected a number (%s)", p->type == PD_INT ? "an int" : "a decimal");
    *num = v->valuedouble;
    if (p->type == PD_INT && *num != floor(*num))
        return refuse_at(err, cap, prefix, p->name, "%.17g is not an integer", *num);
    if ((p->has_min && *num < p->min) || (p->has_max && *num > p->max))
        return refuse_at(err, cap, prefix, p->name, "%.17g is outside its range %g..%g", *num, p->has_min ? p->min : -INFINITY,
                      p->has_max ? p->max : INFINITY);
    if (p->n_enum && p->enums) {
        int in = 0;
        for (int i = 0; i < p->n_enum && !in; i++)
            in = p->enums[i] == *num;
        if (!in)
            return refuse_at(err, cap, prefix, p->name, "%.17g is not in its enumList", *num);
    }
    return 0;
}

static bool fits(const struct pc_field *f, double raw)
{
    double lim = ldexp(1.0, (int)(8 * f->len));
    if (f->type == PF_UINT)
        return raw >= 0 && raw < lim;
    return raw >= -lim / 2 && raw < lim / 2;
}

int pc_encode(const struct pc_product *p, int mi, const cJSON *values, uint64_t mid, uint64_t errcode, uint8_t *out,
              size_t cap, size_t *len, char *err, size_t errcap)
{
    *len = 0;
    if (mi < 0 || mi >= p->n_messages) {
        snprintf(err, errcap, "no message %d in the codec", mi);
        return -1;
    }
    const struct pc_message *m = &p->messages[mi];
    if (!cJSON_IsObject(values)) {
        snprintf(err, errcap, "data: expected an object of %s's fields", m->name);
        return -1;
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, values)
    {
        int found = 0;
        for (int i = 0; i < m->n_fields && !found; i++)
            found = m->fields[i].role == PR_DATA && strcmp(m->fields[i].prop->name, e->string) == 0;
        if (!found)
            return refuse(err, errcap, e->string, "not a field of message %s", m->name);
    }
    size_t off = 0;
    for (int i = 0; i < m->n_fields; i++) {
        const struct pc_field *f = &m->fields[i];
        double num = 0;
        const char *str = NULL;
        uint8_t hexbuf[PC_MAX_MSG];
        size_t hexlen = 0;
        if (f->role == PR_DATA) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(values, f->prop->name);
            if (!v)
                return refuse(err, errcap, f->prop->name, "missing");
            if (pc_prop_value(f->prop, v, "data", &num, &str, err, errcap) < 0)
                return -1;
            if (str && (f->type == PF_HEX || f->type == PF_VARHEX)) {
                size_t epos = 0;
                if (hex_decode(str, strlen(str), HEX_STRICT, hexbuf, sizeof hexbuf, &hexlen, &epos) != HEX_OK)
                    return refuse(err, errcap, f->prop->name, "\"%s\" is not hex (character %zu)", str, epos + 1);
            }
        } else if (f->role == PR_LENGTH) {
            /* the length of the field it names, taken from that field's value */
            const struct pc_field *t = &m->fields[f->length_of];
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(values, t->prop->name);
            if (!v)
                return refuse(err, errcap, t->prop->name, "missing");
            if (pc_prop_value(t->prop, v, "data", &num, &str, err, errcap) < 0)
                return -1;
            size_t l = strlen(str);
            if (t->type == PF_VARHEX)
                l /= 2;
            num = (double)l;
            str = NULL;
            if (!fits(f, num))
                return refuse(err, errcap, t->prop->name, "%zu bytes do not fit its length field %s (%s)", l, f->name,
                              ftype_name(f));
        }
        uint32_t flen = f->len;
        if (f->type == PF_VARSTRING)
            flen = (uint32_t)strlen(str);
        else if (f->type == PF_VARHEX)
            flen = (uint32_t)hexlen;
        if (flen > cap - off) {
            snprintf(err, errcap, "%s: %zu bytes of room, the message needs more", m->name, cap);
            return -1;
        }
        uint8_t *at = out + off;
        switch (f->type) {
        case PF_UINT:
        case PF_INT: {
            uint64_t u;
            if (f->role == PR_MESSAGE_ID || f->role == PR_CONST) {
                u = f->cval;
            } else if (f->role == PR_MID || f->role == PR_ERRCODE) {
                u = f->role == PR_MID ? mid : errcode;
                if (f->len < 8 && u >= (1ull << (8 * f->len)))
                    return refuse(err, errcap, f->name, "%llu does not fit %s", (unsigned long long)u, ftype_name(f));
            } else {
                double raw = unscaled(num, f);
                double r = nearbyint(raw);
                if (fabs(raw - r) > 1e-6 * (fabs(raw) > 1 ? fabs(raw) : 1))
                    return refuse(err, errcap, f->prop->name, "%.17g is not a step of the scale %g%s", num, f->scale,
                                  f->add ? " from its add" : "");
                if (!fits(f, r))
                    return refuse(err, errcap, f->prop->name, "%.17g (raw %.17g) does not fit %s", num, r,
                                  ftype_name(f));
                u = f->type == PF_INT ? (uint64_t)(int64_t)r : (uint64_t)r;
            }
            put_uint(at, f->len, f->little, u);
            break;
        }
        case PF_FLOAT: {
            double raw = unscaled(num, f);
            if (f->len == 4) {
                if (fabs(raw) > 3.4028234663852886e38)
                    return refuse(err, errcap, f->prop->name, "%.17g does not fit float32", num);
                float fl = (float)raw;
                uint32_t w;
                memcpy(&w, &fl, 4);
                put_uint(at, 4, f->little, w);
            } else {
                uint64_t w;
                memcpy(&w, &raw, 8);
                put_uint(at, 8, f->little, w);
            }
            break;
        }
        case PF_BOOL: *at = num != 0; break;
        case PF_STRING:
            if (strlen(str) > f->len)
                return refuse(err, errcap, f->prop->name, "%zu bytes, the field holds %u", strlen(str), f->len);
            memset(at, 0, f->len);
            memcpy(at, str, strlen(str));
            break;
        case PF_VARSTRING: memcpy(at, str, flen); break;
        case PF_HEX:
            if (hexlen != f->len)
                return refuse(err, errcap, f->prop->name, "%zu bytes of hex, the field holds exactly %u", hexlen, f->len);
            memcpy(at, hexbuf, hexlen);
            break;
        case PF_VARHEX: memcpy(at, hexbuf, hexlen); break;
        }
        off += flen;
    }
    *len = off;
    return 0;
}
