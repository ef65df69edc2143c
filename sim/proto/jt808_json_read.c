/* JT/T 808 JSON -> message (jt808_from_json, for `fleetsim encode`, the vectors
 * checker and the scenario's command bodies): exactly the fields of the shape told
 * in jt808_json.c, which writes it; every other key, a wrong type or a value out of
 * range is an error naming its path ("body.items[2].id: expected a number"). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/proto/hex.h"
#include "sim/proto/jt808_json.h"
#include "sim/proto/jt808_internal.h"
#include "sim/proto/jt808_layout_int.h"

struct jctx {
    char *err;
    size_t errcap;
    uint8_t *store;
    size_t store_cap;
    size_t store_used;
    enum jt808_rc rc;
    struct jt808_arena *arena;  /* the message's: lists of items, parameters, locations */
};

/* Writes "path.key: message" and returns false so callers can `return jfail(...)`. */
static bool jfail(struct jctx *c, const char *path, const char *key, const char *fmt, ...)
{
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->err && c->errcap) {
        const char *dot = path[0] && key ? "." : "";
        if (!path[0] && !key)
            path = "message"; /* the top-level value itself */
        snprintf(c->err, c->errcap, "%s%s%s: %s", path, dot, key ? key : "", msg);
    }
    if (c->rc == JT808_OK)
        c->rc = JT808_E_VALUE;
    return false;
}

/* n zeroed bytes from the message's arena; NULL after jfail when out of memory. */
static void *jarena(struct jctx *c, size_t n, const char *path, const char *key)
{
    void *p = c->arena ? jt808_arena_alloc(c->arena, n) : NULL;
    if (!p) {
        jfail(c, path, key, "out of memory");
        c->rc = JT808_E_NOSPACE;
    }
    return p;
}

static bool only_keys(struct jctx *c, const cJSON *o, const char *path, const char *const *keys)
{
    if (!cJSON_IsObject(o))
        return jfail(c, path, NULL, "expected an object");
    for (const cJSON *e = o->child; e; e = e->next) {
        bool ok = false;
        for (const char *const *k = keys; *k && !ok; k++)
            ok = strcmp(*k, e->string) == 0;
        if (!ok)
            return jfail(c, path, e->string, "unknown field");
        for (const cJSON *d = o->child; d != e; d = d->next)
            if (strcmp(d->string, e->string) == 0)
                return jfail(c, path, e->string, "duplicate field");
    }
    return true;
}

static bool get_uint(struct jctx *c, const cJSON *o, const char *path, const char *key,
                     uint64_t max, bool required, uint64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v) {
        if (required)
            return jfail(c, path, key, "missing");
        return true;
    }
    if (!cJSON_IsNumber(v))
        return jfail(c, path, key, "expected a number");
    double d = v->valuedouble;
    if (!(d >= 0 && d <= (double)max) || d != (double)(uint64_t)d)
        return jfail(c, path, key, "expected an integer 0..%llu", (unsigned long long)max);
    *out = (uint64_t)d;
    return true;
}

#define GET_U(c, o, path, key, max, req, dst)                                              \
    do {                                                                                   \
        uint64_t v_ = (dst);                                                               \
        if (!get_uint(c, o, path, key, max, req, &v_))                                     \
            return false;                                                                  \
        (dst) = v_;                                                                        \
    } while (0)

static bool get_str(struct jctx *c, const cJSON *o, const char *path, const char *key,
                    bool required, char *out, size_t cap)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v) {
        if (required)
            return jfail(c, path, key, "missing");
        return true;
    }
    if (!cJSON_IsString(v))
        return jfail(c, path, key, "expected a string");
    size_t n = strlen(v->valuestring);
    if (n >= cap)
        return jfail(c, path, key, "too long (at most %zu bytes)", cap - 1);
    memcpy(out, v->valuestring, n + 1);
    return true;
}

static bool get_hex_id(struct jctx *c, const cJSON *o, const char *path, const char *key,
                       uint32_t max, uint32_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v)
        return jfail(c, path, key, "missing");
    const char *s = cJSON_IsString(v) ? v->valuestring : NULL;
    size_t n = s ? strlen(s) : 0;
    uint64_t x = 0;
    bool ok = s && n > 2 && n <= 10 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    for (size_t i = 2; ok && i < n; i++) {
        int h = hex_digit(s[i]);
        ok = h >= 0;
        x = x << 4 | (uint64_t)(h < 0 ? 0 : h);
    }
    if (!ok)
        return jfail(c, path, key, "expected a hex string like \"%s\"",
                     max > 0xFF ? "0x0200" : "0x01");
    if (x > max)
        return jfail(c, path, key, "above 0x%X", (unsigned)max);
    *out = (uint32_t)x;
    return true;
}

/* Hex string -> bytes in buf (cap bytes). */
static bool get_hex_bytes(struct jctx *c, const cJSON *o, const char *path, const char *key,
                          uint8_t *buf, size_t cap, size_t *n_out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v)
        return jfail(c, path, key, "missing");
    if (!cJSON_IsString(v))
        return jfail(c, path, key, "expected a hex string");
    const char *s = v->valuestring;
    size_t len = strlen(s);
    if (len % 2)
        return jfail(c, path, key, "odd number of hex digits");
    if (len / 2 > cap)
        return jfail(c, path, key, "too long (at most %zu bytes)", cap);
    /* strict: the length checks above count every character as a digit */
    size_t pos = 0;
    if (hex_decode(s, len, HEX_STRICT, buf, cap, n_out, &pos) != HEX_OK)
        return jfail(c, path, key, "not a hex digit at position %zu", pos);
    return true;
}

/* Hex bytes that do not fit a struct field go to the caller's store. */
static bool get_hex_store(struct jctx *c, const cJSON *o, const char *path, const char *key,
                          const uint8_t **p, size_t *n)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    size_t room = c->store_cap - c->store_used;
    if (v && cJSON_IsString(v) && strlen(v->valuestring) / 2 > room) {
        jfail(c, path, key, "longer than the %zu bytes of scratch", room);
        c->rc = JT808_E_NOSPACE;
        return false;
    }
    uint8_t *dst = c->store ? c->store + c->store_used : NULL;
    uint8_t dummy;
    if (!get_hex_bytes(c, o, path, key, dst ? dst : &dummy, dst ? room : 0, n))
        return false;
    c->store_used += *n;
    *p = dst;
    return true;
}

static const char *const item_keys[] = {"id", "len", "value", "raw", NULL};

static bool item_from_json(struct jctx *c, const cJSON *o, const char *path,
                           struct jt808_loc_item *it)
{
    if (!only_keys(c, o, path, item_keys))
        return false;
    uint32_t id;
    if (!get_hex_id(c, o, path, "id", 0xFF, &id))
        return false;
    it->id = (uint8_t)id;
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(o, "value");
    const cJSON *raw = cJSON_GetObjectItemCaseSensitive(o, "raw");
    if ((value != NULL) == (raw != NULL))
        return jfail(c, path, NULL, "needs exactly one of value and raw");
    uint64_t len = UINT64_MAX;
    if (!get_uint(c, o, path, "len", 255, false, &len))
        return false;
    if (value) {
        uint8_t want = jt808_loc_item_len(it->id);
        if (!want)
            return jfail(c, path, "value", "item 0x%02X has no known type; use raw", it->id);
        uint64_t max = want == 4 ? 0xFFFFFFFFu : (1u << (8 * want)) - 1;
        uint64_t val = 0;
        if (!get_uint(c, o, path, "value", max, true, &val))
            return false;
        if (len != UINT64_MAX && len != want)
            return jfail(c, path, "len", "item 0x%02X takes %u bytes", it->id, want);
        it->known = true;
        it->len = want;
        it->value = (uint32_t)val;
        for (unsigned b = 0; b < want; b++)
            it->raw[b] = (uint8_t)(val >> (8 * (want - 1 - b)));
        return true;
    }
    size_t n = 0;
    if (!get_hex_bytes(c, o, path, "raw", it->raw, sizeof it->raw, &n))
        return false;
    if (len != UINT64_MAX && len != n)
        return jfail(c, path, "len", "disagrees with raw (%zu bytes)", n);
    it->known = false;
    it->len = (uint8_t)n;
    it->value = 0;
    return true;
}

static const char *const loc_keys[] = {"alarm", "status", "lat", "lon", "altitude", "speed",
                                       "direction", "time", "items", NULL};

static bool loc_from_json(struct jctx *c, const cJSON *o, const char *path,
                          struct jt808_location *l)
{
    if (!only_keys(c, o, path, loc_keys))
        return false;
    GET_U(c, o, path, "alarm", 0xFFFFFFFFu, true, l->alarm);
    GET_U(c, o, path, "status", 0xFFFFFFFFu, true, l->status);
    GET_U(c, o, path, "lat", 0xFFFFFFFFu, true, l->lat);
    GET_U(c, o, path, "lon", 0xFFFFFFFFu, true, l->lon);
    GET_U(c, o, path, "altitude", 0xFFFF, true, l->altitude);
    GET_U(c, o, path, "speed", 0xFFFF, true, l->speed);
    GET_U(c, o, path, "direction", 0xFFFF, true, l->direction);
    if (!get_str(c, o, path, "time", true, l->time, sizeof l->time))
        return false;
    if (strlen(l->time) != 12 || strspn(l->time, "0123456789") != 12)
        return jfail(c, path, "time", "expected 12 digits YYMMDDhhmmss");
    l->n_items = 0;
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(o, "items");
    if (!items)
        return true;
    if (!cJSON_IsArray(items))
        return jfail(c, path, "items", "expected an array");
    int n = cJSON_GetArraySize(items);
    /* An item takes 2 bytes at least; a location inside a reassembled body may hold
     * more than one frame's worth. */
    if (n > (int)(JT808_MAX_LONG_BODY / 2))
        return jfail(c, path, "items", "more than %u items", JT808_MAX_LONG_BODY / 2);
    if (n && !(l->items = jarena(c, (size_t)n * sizeof *l->items, path, "items")))
        return false;
    int i = 0;
    for (const cJSON *e = items->child; e; e = e->next, i++) {
        char sub[96];
        snprintf(sub, sizeof sub, "%s%sitems[%d]", path, path[0] ? "." : "", i);
        if (!item_from_json(c, e, sub, &l->items[i]))
            return false;
    }
    l->n_items = (uint16_t)n;
    return true;
}

static const char *const param_keys[] = {"id", "len", "value", "raw", NULL};

static bool param_from_json(struct jctx *c, const cJSON *o, const char *path, struct jt808_param *p)
{
    if (!only_keys(c, o, path, param_keys))
        return false;
    if (!get_hex_id(c, o, path, "id", 0xFFFFFFFFu, &p->id))
        return false;
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(o, "value");
    const cJSON *raw = cJSON_GetObjectItemCaseSensitive(o, "raw");
    if ((value != NULL) == (raw != NULL))
        return jfail(c, path, NULL, "needs exactly one of value and raw");
    uint64_t len = UINT64_MAX;
    if (!get_uint(c, o, path, "len", 255, false, &len))
        return false;
    p->num = 0;
    p->str[0] = '\0';
    if (raw) {
        size_t n = 0;
        if (!get_hex_bytes(c, o, path, "raw", p->raw, sizeof p->raw, &n))
            return false;
        if (len != UINT64_MAX && len != n)
            return jfail(c, path, "len", "disagrees with raw (%zu bytes)", n);
        p->type = JT808_PT_RAW;
        p->len = (uint8_t)n;
        return true;
    }
    p->type = jt808_param_type_of(p->id);
    if (p->type == JT808_PT_RAW)
        return jfail(c, path, "value", "parameter 0x%04X has no known type; use raw", (unsigned)p->id);
    if (p->type == JT808_PT_STRING) {
        if (!cJSON_IsString(value))
            return jfail(c, path, "value", "parameter 0x%04X is a STRING", (unsigned)p->id);
        if (!get_str(c, o, path, "value", true, p->str, sizeof p->str))
            return false;
        size_t n = 0;
        enum jt808_rc rc = jt808_utf8_to_gbk(p->str, p->raw, sizeof p->raw, &n);
        if (rc != JT808_OK)
            return jfail(c, path, "value", rc == JT808_E_NOSPACE ? "longer than 255 bytes in GBK"
                                                                 : "not representable in GBK");
        if (len != UINT64_MAX && len != n)
            return jfail(c, path, "len", "disagrees with the value (%zu bytes in GBK)", n);
        p->len = (uint8_t)n;
        return true;
    }
    unsigned size = jt808_param_size(p->id);
    if (p->type == JT808_PT_BYTES) {
        size_t n = 0;
        if (!cJSON_IsString(value))
            return jfail(c, path, "value", "parameter 0x%04X is a BYTE[%u] (hex)", (unsigned)p->id, size);
        if (!get_hex_bytes(c, o, path, "value", p->raw, sizeof p->raw, &n))
            return false;
        if (n != size)
            return jfail(c, path, "value", "parameter 0x%04X takes %u bytes, got %zu", (unsigned)p->id, size, n);
        if (len != UINT64_MAX && len != size)
            return jfail(c, path, "len", "parameter 0x%04X takes %u bytes", (unsigned)p->id, size);
        p->len = (uint8_t)size;
        return true;
    }
    uint64_t max = size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
    uint64_t val = 0;
    if (!get_uint(c, o, path, "value", max, true, &val))
        return false;
    if (len != UINT64_MAX && len != size)
        return jfail(c, path, "len", "parameter 0x%04X takes %u bytes", (unsigned)p->id, size);
    p->num = (uint32_t)val;
    p->len = (uint8_t)size;
    for (unsigned b = 0; b < size; b++)
        p->raw[b] = (uint8_t)(val >> (8 * (size - 1 - b)));
    return true;
}

/* body[key] as an array of at most max items (what: "parameters", ...), with an
 * optional "count" field that must agree with it; NULL after jfail on error. */
static const cJSON *counted_array(struct jctx *c, const cJSON *o, const char *key, int max,
                                  const char *what, uint64_t count_max, int *n)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!arr) {
        jfail(c, "body", key, "missing");
        return NULL;
    }
    if (!cJSON_IsArray(arr)) {
        jfail(c, "body", key, "expected an array");
        return NULL;
    }
    *n = cJSON_GetArraySize(arr);
    if (*n > max) {
        jfail(c, "body", key, "more than %d %s", max, what);
        return NULL;
    }
    uint64_t count = (uint64_t)*n;
    if (!get_uint(c, o, "body", "count", count_max, false, &count))
        return NULL;
    if (count != (uint64_t)*n) {
        jfail(c, "body", "count", "disagrees with %s (%d)", key, *n);
        return NULL;
    }
    return arr;
}

static bool params_from_json(struct jctx *c, const cJSON *o, struct jt808_params *ps)
{
    int n;
    const cJSON *arr = counted_array(c, o, "params", 255, "parameters", 255, &n);
    if (!arr)
        return false;
    if (n && !(ps->params = jarena(c, (size_t)n * sizeof *ps->params, "body", "params")))
        return false;
    int i = 0;
    for (const cJSON *e = arr->child; e; e = e->next, i++) {
        char sub[48];
        snprintf(sub, sizeof sub, "body.params[%d]", i);
        if (!param_from_json(c, e, sub, &ps->params[i]))
            return false;
    }
    ps->count = ps->n_params = (uint8_t)n;
    return true;
}

#define KEYS(...) ((const char *const[]){__VA_ARGS__, NULL})

static bool body_from_json(struct jctx *c, const cJSON *o, struct jt808_msg *m)
{
    bool v19 = m->h.version == JT808_V2019;
    switch (m->h.msg_id) {
    case 0x0001:
    case 0x8001: {
        struct jt808_gen_resp *b = &m->b.gen_resp;
        uint32_t ack_id;
        if (!only_keys(c, o, "body", KEYS("ack_serial", "ack_id", "result")))
            return false;
        GET_U(c, o, "body", "ack_serial", 0xFFFF, true, b->ack_serial);
        if (!get_hex_id(c, o, "body", "ack_id", 0xFFFF, &ack_id))
            return false;
        b->ack_id = (uint16_t)ack_id;
        GET_U(c, o, "body", "result", 0xFF, true, b->result);
        return true;
    }
    case 0x0100: {
        struct jt808_register *b = &m->b.reg;
        char layout[8];
        if (!only_keys(c, o, "body", KEYS("layout", "province", "city", "manufacturer", "model",
                                          "terminal_id", "plate_color", "plate")))
            return false;
        strcpy(layout, v19 ? "2019" : "2013");
        if (!get_str(c, o, "body", "layout", false, layout, sizeof layout))
            return false;
        if (strcmp(layout, "2011") == 0)
            b->layout = JT808_REG_2011;
        else if (strcmp(layout, "2013") == 0)
            b->layout = JT808_REG_2013;
        else if (strcmp(layout, "2019") == 0)
            b->layout = JT808_REG_2019;
        else
            return jfail(c, "body", "layout", "expected \"2011\", \"2013\" or \"2019\"");
        if ((b->layout == JT808_REG_2019) != v19)
            return jfail(c, "body", "layout", "layout %s needs a %s header", layout,
                         v19 ? "2013" : "2019");
        GET_U(c, o, "body", "province", 0xFFFF, true, b->province);
        GET_U(c, o, "body", "city", 0xFFFF, true, b->city);
        GET_U(c, o, "body", "plate_color", 0xFF, true, b->plate_color);
        return get_str(c, o, "body", "manufacturer", true, b->manufacturer, sizeof b->manufacturer) &&
               get_str(c, o, "body", "model", true, b->model, sizeof b->model) &&
               get_str(c, o, "body", "terminal_id", true, b->terminal_id, sizeof b->terminal_id) &&
               get_str(c, o, "body", "plate", true, b->plate, sizeof b->plate);
    }
    case 0x8100: {
        struct jt808_register_resp *b = &m->b.reg_resp;
        if (!only_keys(c, o, "body", KEYS("ack_serial", "result", "auth_code")))
            return false;
        GET_U(c, o, "body", "ack_serial", 0xFFFF, true, b->ack_serial);
        GET_U(c, o, "body", "result", 0xFF, true, b->result);
        if (b->result != 0) {
            if (cJSON_GetObjectItemCaseSensitive(o, "auth_code"))
                return jfail(c, "body", "auth_code", "only present when result is 0");
            return true;
        }
        return get_str(c, o, "body", "auth_code", true, b->auth_code, sizeof b->auth_code);
    }
    case 0x0102: {
        struct jt808_auth *b = &m->b.auth;
        if (v19 ? !only_keys(c, o, "body", KEYS("auth_code", "imei", "sw_version"))
                : !only_keys(c, o, "body", KEYS("auth_code")))
            return false;
        if (!get_str(c, o, "body", "auth_code", true, b->auth_code, sizeof b->auth_code))
            return false;
        return !v19 || (get_str(c, o, "body", "imei", true, b->imei, sizeof b->imei) &&
                        get_str(c, o, "body", "sw_version", true, b->sw_version, sizeof b->sw_version));
    }
    case 0x0200:
        return loc_from_json(c, o, "body", &m->b.loc);
    case 0x0201: {
        if (!only_keys(c, o, "body", KEYS("ack_serial", "location")))
            return false;
        GET_U(c, o, "body", "ack_serial", 0xFFFF, true, m->b.loc_resp.ack_serial);
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(o, "location");
        if (!l)
            return jfail(c, "body", "location", "missing");
        return loc_from_json(c, l, "body.location", &m->b.loc_resp.loc);
    }
    case 0x0704: {
        struct jt808_batch *b = &m->b.batch;
        if (!only_keys(c, o, "body", KEYS("count", "type", "locations")))
            return false;
        GET_U(c, o, "body", "type", 0xFF, true, b->type);
        int n;
        /* A location takes its length W and 28 bytes at least. */
        const cJSON *arr = counted_array(c, o, "locations", JT808_MAX_BODY / 30, "locations", 0xFFFF, &n);
        if (!arr)
            return false;
        if (n && !(b->locs = jarena(c, (size_t)n * sizeof *b->locs, "body", "locations")))
            return false;
        int i = 0;
        for (const cJSON *e = arr->child; e; e = e->next, i++) {
            char sub[48];
            snprintf(sub, sizeof sub, "body.locations[%d]", i);
            if (!loc_from_json(c, e, sub, &b->locs[i]))
                return false;
        }
        b->count = b->n_locs = (uint16_t)n;
        return true;
    }
    case 0x8103:
        return only_keys(c, o, "body", KEYS("count", "params")) &&
               params_from_json(c, o, &m->b.params);
    case 0x0104:
        if (!only_keys(c, o, "body", KEYS("ack_serial", "count", "params")))
            return false;
        GET_U(c, o, "body", "ack_serial", 0xFFFF, true, m->b.params_resp.ack_serial);
        return params_from_json(c, o, &m->b.params_resp.p);
    case 0x8105:
        if (jt808_ctl_from_json(o, &m->b.control, c->arena, c->err, c->errcap))
            return true;
        c->rc = JT808_E_VALUE;
        return false;
    case 0x8300: {
        struct jt808_text *b = &m->b.text;
        if (v19 ? !only_keys(c, o, "body", KEYS("flag", "text_type", "text"))
                : !only_keys(c, o, "body", KEYS("flag", "text")))
            return false;
        GET_U(c, o, "body", "flag", 0xFF, true, b->flag);
        if (v19)
            GET_U(c, o, "body", "text_type", 0xFF, true, b->text_type);
        return get_str(c, o, "body", "text", true, b->text, sizeof b->text);
    }
    case 0x8108: {
        struct jt808_upgrade *b = &m->b.upgrade;
        if (!only_keys(c, o, "body", KEYS("type", "manufacturer", "version", "package_len",
                                          "package_hex")))
            return false;
        GET_U(c, o, "body", "type", 0xFF, true, b->type);
        GET_U(c, o, "body", "package_len", 0xFFFFFFFFu, true, b->pkg_len);
        if (!get_str(c, o, "body", "manufacturer", true, b->manufacturer, sizeof b->manufacturer) ||
            !get_str(c, o, "body", "version", true, b->version, sizeof b->version) ||
            !get_hex_store(c, o, "body", "package_hex", &b->pkg, &b->pkg_bytes))
            return false;
        if (b->pkg_bytes > b->pkg_len)
            return jfail(c, "body", "package_len", "smaller than package_hex (%zu bytes)",
                         b->pkg_bytes);
        return true;
    }
    case 0x0108: {
        if (!only_keys(c, o, "body", KEYS("type", "result")))
            return false;
        GET_U(c, o, "body", "type", 0xFF, true, m->b.upgrade_result.type);
        GET_U(c, o, "body", "result", 0xFF, true, m->b.upgrade_result.result);
        return true;
    }
    default: /* 0x0002, 0x0003, 0x8104, 0x8201 */
        return only_keys(c, o, "body", KEYS(NULL));
    }
}

static const char *const top_keys[] = {"msg_id", "name", "version", "proto_version", "phone",
                                       "serial", "encryption", "decrypted", "reserved", "subpackage", "body", "body_hex",
                                       "deviations", "deviations_total", NULL};

static bool header_from_json(struct jctx *c, const cJSON *j, struct jt808_header *h)
{
    uint32_t id;
    if (!get_hex_id(c, j, "", "msg_id", 0xFFFF, &id))
        return false;
    h->msg_id = (uint16_t)id;

    const cJSON *name = cJSON_GetObjectItemCaseSensitive(j, "name");
    const char *want = jt808_msg_name(h->msg_id);
    if (name && !cJSON_IsString(name))
        return jfail(c, "", "name", "expected a string");
    if (name && !want)
        return jfail(c, "", "name", "0x%04X has no name", h->msg_id);
    if (name && strcmp(name->valuestring, want) != 0)
        return jfail(c, "", "name", "0x%04X is \"%s\"", h->msg_id, want);

    char ver[8] = "2013";
    if (!get_str(c, j, "", "version", false, ver, sizeof ver))
        return false;
    if (strcmp(ver, "2019") == 0)
        h->version = JT808_V2019;
    else if (strcmp(ver, "2013") == 0)
        h->version = JT808_V2013;
    else
        return jfail(c, "", "version", "expected \"2013\" or \"2019\"");
    bool v19 = h->version == JT808_V2019;
    if (!v19 && cJSON_GetObjectItemCaseSensitive(j, "proto_version"))
        return jfail(c, "", "proto_version", "only in 2019 headers");
    h->proto_version = v19 ? 1 : 0;
    GET_U(c, j, "", "proto_version", 0xFF, false, h->proto_version);

    size_t max_digits = v19 ? 20 : 12;
    if (!get_str(c, j, "", "phone", true, h->phone, sizeof h->phone))
        return false;
    size_t n = strlen(h->phone);
    if (n > max_digits || strspn(h->phone, "0123456789") != n)
        return jfail(c, "", "phone", "expected up to %zu digits", max_digits);

    h->serial = 0;
    h->encryption = 0;
    GET_U(c, j, "", "serial", 0xFFFF, false, h->serial);
    GET_U(c, j, "", "encryption", 7, false, h->encryption);
    uint8_t rsv = 0;
    GET_U(c, j, "", "reserved", 1, false, rsv);
    h->reserved15 = rsv != 0;

    h->subpackage = false;
    h->pkg_total = h->pkg_index = 0;
    const cJSON *sp = cJSON_GetObjectItemCaseSensitive(j, "subpackage");
    if (sp) {
        if (!only_keys(c, sp, "subpackage", KEYS("total", "index")))
            return false;
        GET_U(c, sp, "subpackage", "total", 0xFFFF, true, h->pkg_total);
        GET_U(c, sp, "subpackage", "index", 0xFFFF, true, h->pkg_index);
        if (h->pkg_total == 0)
            return jfail(c, "subpackage", "total", "must be at least 1");
        if (h->pkg_index == 0 || h->pkg_index > h->pkg_total)
            return jfail(c, "subpackage", "index", "must be 1..total");
        h->subpackage = true;
    }
    return true;
}

enum jt808_rc jt808_from_json(const cJSON *j, struct jt808_msg *m, uint8_t *store, size_t cap,
                              char *errbuf, size_t errcap)
{
    struct jctx c = {errbuf, errcap, store, store ? cap : 0, 0, JT808_OK, NULL};
    if (errbuf && errcap)
        errbuf[0] = '\0';
    struct jt808_arena arena = m->arena; /* kept: the lists below go into it */
    memset(m, 0, sizeof *m);
    m->arena = arena;
    jt808_arena_reset(&m->arena);
    c.arena = &m->arena;
    if (!only_keys(&c, j, "", top_keys) || !header_from_json(&c, j, &m->h))
        return c.rc;
    const cJSON *dec = cJSON_GetObjectItemCaseSensitive(j, "decrypted");
    if (dec && !cJSON_IsTrue(dec))
        return jfail(&c, "", "decrypted", "expected true (or leave it out)"), c.rc;
    if (dec && m->h.encryption != 1)
        return jfail(&c, "", "decrypted", "only with \"encryption\": 1 (RSA)"), c.rc;
    m->rsa_plain = dec != NULL;

    const cJSON *body = cJSON_GetObjectItemCaseSensitive(j, "body");
    const cJSON *hex = cJSON_GetObjectItemCaseSensitive(j, "body_hex");
    if (body && hex)
        return jfail(&c, "", "body", "give body or body_hex, not both"), c.rc;
    if (!body && !hex)
        return jfail(&c, "", "body", "missing (or body_hex)"), c.rc;
    if (hex) {
        if (!get_hex_store(&c, j, "", "body_hex", &m->body, &m->body_bytes))
            return c.rc;
        if (m->body_bytes > JT808_MAX_BODY)
            return jfail(&c, "", "body_hex", "longer than %d bytes", JT808_MAX_BODY), c.rc;
        if (!m->body)
            m->body = (const uint8_t *)""; /* empty but present: still "raw" to the encoder */
        if (jt808_body_is_typed(m) && !jt808_lay_find(m->h.msg_id)) {
            struct jt808_err e;
            (void)jt808_body_decode(m->body, m->body_bytes, m, &e);
        }
        return JT808_OK;
    }
    if (!jt808_msg_known(m->h.msg_id))
        return jfail(&c, "", "body", "0x%04X has no typed layout; use body_hex", m->h.msg_id), c.rc;
    if (m->h.subpackage || (m->h.encryption && !m->rsa_plain))
        return jfail(&c, "", "body", "fragments and encrypted bodies carry body_hex"), c.rc;
    if (jt808_lay_find(m->h.msg_id)) { /* jt808_layout_json.c: straight to body bytes */
        size_t n = 0;
        enum jt808_rc rc = jt808_lay_from_json(body, &m->h, c.store, c.store_cap, &n, errbuf, errcap);
        if (rc != JT808_OK)
            return rc;
        m->body = n ? c.store : (const uint8_t *)"";
        m->body_bytes = n;
        return JT808_OK;
    }
    if (!body_from_json(&c, body, m))
        return c.rc;
    return JT808_OK;
}
