/* Layout bodies <-> JSON, by field name.  Shape of a body:
 *   numbers (BYTE/WORD/DWORD) are JSON numbers; STRING and BCD fields strings
 *   (BCD as its digits); BYTES hex strings; lists arrays of objects; a location the
 *   object of 0x0200's body; a compressed block "data" (hex as sent) and, on output,
 *   "data_inflated" (hex) - on input either one (inflated content is gzip-compressed);
 *   "trailing_hex": bytes after the last field.
 * Fields absent from an edition or whose condition is false are left out.  Length and
 * count fields that another field refers to are optional on input: they are computed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/proto/hex.h"
#include "sim/proto/jt808_json.h"
#include "sim/proto/jt808_layout_int.h"

static void add_hex(cJSON *o, const char *key, const uint8_t *p, size_t n)
{
    char *s = hex_encode_alloc(p, n);
    if (s)
        cJSON_AddStringToObject(o, key, s);
    free(s);
}

/* The location JSON of a raw location body, through the 0x0200 codec. */
static cJSON *loc_json(const struct jt808_lv *v, enum jt808_version ver)
{
    struct jt808_msg *t = calloc(1, sizeof *t);
    cJSON *out = NULL;
    struct jt808_err e;
    if (!t)
        return NULL;
    t->h.msg_id = 0x0200;
    t->h.version = ver;
    if (jt808_body_decode(v->bytes, v->n, t, &e) == JT808_OK) {
        cJSON *whole = jt808_to_json(t);
        out = cJSON_DetachItemFromObjectCaseSensitive(whole, "body");
        cJSON_Delete(whole);
    }
    jt808_msg_free(t);
    free(t);
    return out;
}

static cJSON *group_json(const struct jt808_fd *f, size_t nf, const struct jt808_lv *g,
                         enum jt808_version ver)
{
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; o && i < nf; i++) {
        const struct jt808_lv *v = &g[i];
        if (!v->present || !jt808_lay_field_on(&f[i], g, ver))
            continue;
        const char *k = f[i].name;
        switch (f[i].kind) {
        case JT808_FK_BYTE:
        case JT808_FK_WORD:
        case JT808_FK_DWORD: cJSON_AddNumberToObject(o, k, v->u); break;
        case JT808_FK_BCD:
        case JT808_FK_STRING: cJSON_AddStringToObject(o, k, v->str ? v->str : ""); break;
        case JT808_FK_BYTES: add_hex(o, k, v->bytes, v->n); break;
        case JT808_FK_ZIP: {
            char key[64];
            add_hex(o, k, v->bytes, v->n);
            snprintf(key, sizeof key, "%s_inflated", k);
            add_hex(o, key, v->inflated, v->u);
            break;
        }
        case JT808_FK_LOC: {
            cJSON *l = loc_json(v, ver);
            if (l)
                cJSON_AddItemToObject(o, k, l);
            else
                add_hex(o, k, v->bytes, v->n);
            break;
        }
        case JT808_FK_LIST: {
            cJSON *a = cJSON_AddArrayToObject(o, k);
            for (size_t j = 0; a && j < v->n; j++)
                cJSON_AddItemToArray(a, group_json(f[i].sub, f[i].nsub, v->items + j * f[i].nsub, ver));
            break;
        }
        }
    }
    return o;
}

cJSON *jt808_lay_to_json(const struct jt808_lay_body *b)
{
    cJSON *o = group_json(b->lay->f, b->lay->n, b->root, b->version);
    if (o && b->n_trailing)
        add_hex(o, "trailing_hex", b->trailing, b->n_trailing);
    return o;
}

/* --- from JSON ------------------------------------------------------------- */

struct lctx {
    struct jt808_arena *a;
    enum jt808_version ver;
    char *err;
    size_t errcap;
};

static bool lfail(struct lctx *c, const char *path, const char *key, const char *what)
{
    if (c->err && c->errcap)
        snprintf(c->err, c->errcap, "%s%s%s: %s", path, key ? "." : "", key ? key : "", what);
    return false;
}

static bool is_ref(const struct jt808_fd *f, size_t nf, size_t i)
{
    for (size_t j = i + 1; j < nf; j++)
        if (f[j].size == JT808_SZ_REF && (size_t)f[j].ref == i)
            return true;
    return false;
}

static bool get_hex(struct lctx *c, const cJSON *v, const char *path, const char *k,
                    uint8_t **out, uint32_t *n)
{
    if (!cJSON_IsString(v))
        return lfail(c, path, k, "expected a hex string");
    size_t len = strlen(v->valuestring), got = 0, pos = 0;
    *out = jt808_arena_alloc(c->a, len / 2 + 1);
    if (!*out)
        return lfail(c, path, k, "out of memory");
    enum hex_rc rc = hex_decode(v->valuestring, len, HEX_STRICT, *out, len / 2 + 1, &got, &pos);
    if (rc != HEX_OK) {
        char msg[120];
        hex_format_error(rc, v->valuestring, len, pos, msg, sizeof msg);
        return lfail(c, path, k, msg);
    }
    *n = (uint32_t)got;
    return true;
}

/* A location object -> raw location body, through the 0x0200 codec. */
static bool loc_bytes(struct lctx *c, const cJSON *v, const char *path, const char *k,
                      struct jt808_lv *lv)
{
    if (cJSON_IsString(v))
        return get_hex(c, v, path, k, &lv->bytes, &lv->n);
    cJSON *wrap = cJSON_CreateObject();
    struct jt808_msg *t = calloc(1, sizeof *t);
    /* As long as a body can be once reassembled from subpackages, as the decoder
     * takes it (a location of 0x0500 after its ack serial may hold over 1023 bytes
     * of items); only the bytes written are kept in the arena. */
    size_t cap = JT808_MAX_LONG_BODY;
    uint8_t *buf = malloc(cap);
    char err[200];
    bool ok = false;
    if (wrap && t && buf) {
        cJSON_AddStringToObject(wrap, "msg_id", "0x0200");
        cJSON_AddStringToObject(wrap, "phone", "0");
        cJSON_AddItemToObject(wrap, "body", cJSON_Duplicate(v, 1));
        size_t n = 0;
        struct jt808_err e;
        if (jt808_from_json(wrap, t, NULL, 0, err, sizeof err) != JT808_OK)
            lfail(c, path, k, strchr(err, ' ') ? strchr(err, ' ') + 1 : err);
        else if (jt808_body_encode(t, buf, cap, &n, &e) != JT808_OK)
            lfail(c, path, k, jt808_rc_text(e.rc));
        else if (n && !(lv->bytes = jt808_arena_alloc(c->a, n)))
            lfail(c, path, k, "out of memory");
        else {
            if (n)
                memcpy(lv->bytes, buf, n);
            lv->n = (uint32_t)n;
            ok = true;
        }
    } else {
        lfail(c, path, k, "out of memory");
    }
    if (t)
        jt808_msg_free(t);
    free(t);
    free(buf);
    cJSON_Delete(wrap);
    return ok;
}

static bool zip_bytes(struct lctx *c, const cJSON *o, const char *path, const char *k,
                      struct jt808_lv *lv)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (v)
        return get_hex(c, v, path, k, &lv->bytes, &lv->n);
    char key[64];
    snprintf(key, sizeof key, "%s_inflated", k);
    v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v)
        return lfail(c, path, k, "missing (or its _inflated content)");
    uint8_t *raw;
    uint32_t n;
    if (!get_hex(c, v, path, key, &raw, &n))
        return false;
    size_t cap = n + n / 100 + 64, got = 0;
    if (!(lv->bytes = jt808_arena_alloc(c->a, cap)) ||
        jt808_lay_gzip(raw, n, lv->bytes, cap, &got) != JT808_OK)
        return lfail(c, path, key, "cannot compress");
    lv->n = (uint32_t)got;
    return true;
}

static bool group_from(struct lctx *c, const cJSON *o, const char *path, const struct jt808_fd *f,
                       size_t nf, struct jt808_lv *g, bool root)
{
    if (!cJSON_IsObject(o))
        return lfail(c, path, NULL, "expected an object");
    for (size_t i = 0; i < nf; i++) {
        const char *k = f[i].name;
        struct jt808_lv *lv = &g[i];
        lv->present = jt808_lay_field_on(&f[i], g, c->ver);
        if (!lv->present)
            continue;
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
        if (!v && f[i].kind != JT808_FK_ZIP) {
            if (is_ref(f, nf, i) && f[i].kind <= JT808_FK_DWORD)
                continue; /* computed by the encoder */
            return lfail(c, path, k, "missing");
        }
        switch (f[i].kind) {
        case JT808_FK_BYTE:
        case JT808_FK_WORD:
        case JT808_FK_DWORD: {
            double max = f[i].kind == JT808_FK_BYTE ? 255 : f[i].kind == JT808_FK_WORD ? 65535 : 4294967295.0;
            if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > max ||
                v->valuedouble != (double)(uint32_t)v->valuedouble) {
                char msg[64];
                snprintf(msg, sizeof msg, "expected an integer 0..%.0f", max);
                return lfail(c, path, k, msg);
            }
            lv->u = (uint32_t)v->valuedouble;
            break;
        }
        case JT808_FK_BCD:
        case JT808_FK_STRING: {
            if (!cJSON_IsString(v))
                return lfail(c, path, k, "expected a string");
            size_t n = strlen(v->valuestring);
            if (f[i].kind == JT808_FK_BCD && (n > 2u * f[i].n || strspn(v->valuestring, "0123456789") != n)) {
                char msg[64];
                snprintf(msg, sizeof msg, "expected up to %u digits", 2u * f[i].n);
                return lfail(c, path, k, msg);
            }
            if (!(lv->str = jt808_arena_alloc(c->a, n + 1)))
                return lfail(c, path, k, "out of memory");
            memcpy(lv->str, v->valuestring, n);
            break;
        }
        case JT808_FK_BYTES:
            if (!get_hex(c, v, path, k, &lv->bytes, &lv->n))
                return false;
            break;
        case JT808_FK_ZIP:
            if (!zip_bytes(c, o, path, k, lv))
                return false;
            break;
        case JT808_FK_LOC:
            if (!loc_bytes(c, v, path, k, lv))
                return false;
            break;
        case JT808_FK_LIST: {
            if (!cJSON_IsArray(v))
                return lfail(c, path, k, "expected an array");
            size_t n = (size_t)cJSON_GetArraySize(v), j = 0;
            if (!jt808_lay_resize_in(c->a, &f[i], lv, n, c->ver))
                return lfail(c, path, k, "too many items");
            for (const cJSON *e = v->child; e; e = e->next, j++) {
                char sub[160];
                snprintf(sub, sizeof sub, "%s.%s[%zu]", path, k, j);
                if (!group_from(c, e, sub, f[i].sub, f[i].nsub, lv->items + j * f[i].nsub, false))
                    return false;
            }
            break;
        }
        }
    }
    /* Every key must be a field of this body. */
    for (const cJSON *e = o->child; e; e = e->next) {
        bool ok = root && strcmp(e->string, "trailing_hex") == 0;
        for (size_t i = 0; i < nf && !ok; i++) {
            if (!g[i].present)
                continue;
            size_t l = strlen(f[i].name);
            ok = strcmp(e->string, f[i].name) == 0 ||
                 (f[i].kind == JT808_FK_ZIP && strncmp(e->string, f[i].name, l) == 0 &&
                  strcmp(e->string + l, "_inflated") == 0);
        }
        if (!ok)
            return lfail(c, path, e->string, "unknown field (or not in this edition or case)");
    }
    return true;
}

enum jt808_rc jt808_lay_from_json(const cJSON *o, const struct jt808_header *h, uint8_t *out,
                                  size_t cap, size_t *out_len, char *errbuf, size_t errcap)
{
    const struct jt808_layout *lay = jt808_lay_find(h->msg_id);
    if (!lay)
        return JT808_E_UNKNOWN_ID;
    struct jt808_arena a = {0};
    struct lctx c = {&a, h->version, errbuf, errcap};
    enum jt808_rc rc = JT808_E_VALUE;
    struct jt808_lay_body *b = jt808_lay_new_in(&a, lay, h->version);
    if (!b) {
        lfail(&c, "body", NULL, "out of memory");
        goto done;
    }
    if (!group_from(&c, o, "body", lay->f, lay->n, b->root, true))
        goto done;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "trailing_hex");
    if (t) {
        uint8_t *tb;
        uint32_t tn;
        if (!get_hex(&c, t, "body", "trailing_hex", &tb, &tn))
            goto done;
        b->trailing = tb;
        b->n_trailing = tn;
    }
    struct jt808_err e = {0};
    rc = jt808_lay_encode(b, out, cap, out_len, &e);
    if (rc != JT808_OK && errbuf && errcap)
        snprintf(errbuf, errcap, "%s: %s", e.field ? e.field : "body", jt808_rc_text(rc));
done:
    jt808_arena_free(&a);
    return rc;
}
