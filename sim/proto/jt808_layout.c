/* The layout engine: reads and writes the bodies described in jt808_layouts.c, and
 * the accessors over the decoded value tree (see jt808_layout.h). */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "sim/proto/jt808.h"
#include "sim/proto/jt808_internal.h"
#include "sim/proto/jt808_layout.h"
#include "sim/proto/jt808_layout_int.h"

#define ZIP_MAX (1u << 20) /* largest inflated 0x0901 content */

static bool ed_ok(const struct jt808_fd *f, enum jt808_version v)
{
    return f->ed == 0 || (f->ed == 1) == (v != JT808_V2019);
}

static bool cond_ok(const struct jt808_fd *f, const struct jt808_lv *g)
{
    switch (f->cond) {
    case JT808_IF_BIT: return g[f->cref].present && (g[f->cref].u >> f->arg & 1u);
    case JT808_IF_EQ: return g[f->cref].present && g[f->cref].u == f->arg;
    default: return true;
    }
}

bool jt808_lay_field_on(const struct jt808_fd *f, const struct jt808_lv *g, enum jt808_version v)
{
    return ed_ok(f, v) && cond_ok(f, g);
}

/* Fewest bytes an item of this group takes (so a count cannot ask for more memory
 * than the body could fill). */
static size_t min_size(const struct jt808_fd *f, size_t n)
{
    size_t s = 0;
    for (size_t i = 0; i < n; i++) {
        if (f[i].ed || f[i].cond)
            continue;
        switch (f[i].kind) {
        case JT808_FK_BYTE: s += 1; break;
        case JT808_FK_WORD: s += 2; break;
        case JT808_FK_DWORD: s += 4; break;
        default: s += f[i].size == JT808_SZ_FIXED ? f[i].n : 0; break;
        }
    }
    return s ? s : 1;
}

static enum jt808_rc zip_inflate(struct jt808_rd *r, struct jt808_lv *v, const char *field)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 32) != Z_OK) /* +32: gzip or zlib header, detected */
        return jt808_fail(r->err, JT808_E_NOSPACE, r->pos, field);
    size_t cap = 4096, used = 0;
    uint8_t *out = malloc(cap);
    z.next_in = v->bytes;
    z.avail_in = v->n;
    int zr = Z_OK;
    while (out && zr == Z_OK) {
        if (used == cap) {
            uint8_t *bigger = cap < ZIP_MAX ? realloc(out, cap * 2) : NULL;
            if (!bigger)
                break;
            out = bigger;
            cap *= 2;
        }
        z.next_out = out + used;
        z.avail_out = (uInt)(cap - used);
        zr = inflate(&z, Z_NO_FLUSH);
        used = cap - z.avail_out;
    }
    inflateEnd(&z);
    enum jt808_rc rc = JT808_OK;
    if (zr != Z_STREAM_END || !out)
        rc = jt808_fail(r->err, JT808_E_VALUE, r->pos - v->n + z.total_in, field);
    else if ((v->inflated = jt808_rd_alloc(r, used, field)) == NULL)
        rc = JT808_E_NOSPACE;
    else {
        memcpy(v->inflated, out, used);
        v->u = (uint32_t)used;
    }
    free(out);
    return rc;
}

enum jt808_rc jt808_lay_gzip(const uint8_t *in, size_t n, uint8_t *out, size_t cap, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return JT808_E_NOSPACE;
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    int zr = deflate(&z, Z_FINISH);
    *out_len = z.total_out;
    deflateEnd(&z);
    return zr == Z_STREAM_END ? JT808_OK : JT808_E_NOSPACE;
}

static enum jt808_rc read_group(struct jt808_rd *r, const struct jt808_fd *f, size_t nf,
                                struct jt808_lv *g, enum jt808_version ver);

static enum jt808_rc read_field(struct jt808_rd *r, const struct jt808_fd *f, struct jt808_lv *g,
                                struct jt808_lv *v, enum jt808_version ver)
{
    const char *nm = f->path;
    size_t size = f->n;
    if (f->size == JT808_SZ_REF)
        size = g[f->ref].u;
    else if (f->size == JT808_SZ_REST)
        size = r->end - r->pos;
    switch (f->kind) {
    case JT808_FK_BYTE: {
        uint8_t b;
        JT808_TRY(jt808_rd_u8(r, &b, nm));
        v->u = b;
        return JT808_OK;
    }
    case JT808_FK_WORD: {
        uint16_t w;
        JT808_TRY(jt808_rd_u16(r, &w, nm));
        v->u = w;
        return JT808_OK;
    }
    case JT808_FK_DWORD: return jt808_rd_u32(r, &v->u, nm);
    case JT808_FK_BCD: {
        JT808_TRY(jt808_rd_need(r, size, nm));
        if (!(v->str = jt808_rd_alloc(r, size * 2 + 1, nm)))
            return JT808_E_NOSPACE;
        size_t bad = 0;
        if (jt808_bcd_decode(r->p + r->pos, size, v->str, &bad) != JT808_OK)
            return jt808_fail(r->err, JT808_E_BCD, r->pos + bad, nm);
        r->pos += size;
        return JT808_OK;
    }
    case JT808_FK_STRING: {
        if (!(v->str = jt808_rd_alloc(r, size * 2 + 1, nm)))
            return JT808_E_NOSPACE;
        v->n = (uint32_t)size;
        if (f->size == JT808_SZ_FIXED)
            return jt808_rd_fixed(r, size, v->str, size * 2 + 1, nm);
        /* A NUL would end the text early and be lost on the way back: refuse it. */
        if (r->end - r->pos >= size && memchr(r->p + r->pos, 0, size))
            return jt808_fail(r->err, JT808_E_VALUE, r->pos, nm);
        return jt808_rd_string(r, size, v->str, size * 2 + 1, nm);
    }
    case JT808_FK_BYTES:
    case JT808_FK_ZIP:
    case JT808_FK_LOC: {
        JT808_TRY(jt808_rd_need(r, size, nm));
        if (!(v->bytes = jt808_rd_alloc(r, size, nm)))
            return JT808_E_NOSPACE;
        memcpy(v->bytes, r->p + r->pos, size);
        v->n = (uint32_t)size;
        if (f->kind == JT808_FK_LOC) { /* checked here, typed on demand (jt808_lay_get_loc) */
            struct jt808_location loc;
            struct jt808_rd sub = *r;
            sub.end = r->pos + size;
            JT808_TRY(jt808_loc_read(&sub, &loc, &jt808_loc_names_0200));
        }
        r->pos += size;
        if (f->kind == JT808_FK_ZIP)
            return zip_inflate(r, v, nm);
        return JT808_OK;
    }
    case JT808_FK_LIST: {
        size_t left = r->end - r->pos, each = min_size(f->sub, f->nsub);
        size_t want = f->size == JT808_SZ_REF ? g[f->ref].u : SIZE_MAX;
        /* one item more than the bytes can hold, so a cut item names its field */
        size_t cap = left / each + 1 < want ? left / each + 1 : want;
        if (cap && !(v->items = jt808_rd_alloc(r, cap * f->nsub * sizeof *v->items, nm)))
            return JT808_E_NOSPACE;
        size_t i = 0;
        for (; i < want && r->pos < r->end && i < cap; i++)
            JT808_TRY(read_group(r, f->sub, f->nsub, v->items + i * f->nsub, ver));
        v->n = (uint32_t)i;
        if (i < want && want != SIZE_MAX) {
            jt808_rd_deviate(r, JT808_DEV_COUNT_OVERRUN, r->pos, nm);
        }
        return JT808_OK;
    }
    }
    return jt808_fail(r->err, JT808_E_VALUE, r->pos, nm);
}

static enum jt808_rc read_group(struct jt808_rd *r, const struct jt808_fd *f, size_t nf,
                                struct jt808_lv *g, enum jt808_version ver)
{
    for (size_t i = 0; i < nf; i++) {
        if (!jt808_lay_field_on(&f[i], g, ver))
            continue;
        g[i].present = true;
        JT808_TRY(read_field(r, &f[i], g, &g[i], ver));
    }
    return JT808_OK;
}

enum jt808_rc jt808_lay_read(struct jt808_rd *r, struct jt808_msg *msg)
{
    const struct jt808_layout *lay = jt808_lay_find(msg->h.msg_id);
    msg->lay = NULL;
    if (!lay)
        return JT808_OK;
    struct jt808_lay_body *b = jt808_rd_alloc(r, sizeof *b, "body");
    if (!b || !(b->root = jt808_rd_alloc(r, lay->n * sizeof *b->root, "body")))
        return JT808_E_NOSPACE;
    b->lay = lay;
    b->version = msg->h.version;
    JT808_TRY(read_group(r, lay->f, lay->n, b->root, b->version));
    if (r->pos < r->end) {
        b->n_trailing = r->end - r->pos;
        uint8_t *t = jt808_rd_alloc(r, b->n_trailing, "body.trailing");
        if (!t)
            return JT808_E_NOSPACE;
        memcpy(t, r->p + r->pos, b->n_trailing);
        b->trailing = t;
        jt808_rd_deviate(r, JT808_DEV_TRAILING_BYTES, r->pos, "body");
        r->pos = r->end;
    }
    msg->lay = b;
    return JT808_OK;
}

enum jt808_rc jt808_lay_decode(const uint8_t *body, size_t n, struct jt808_msg *msg,
                               struct jt808_err *err)
{
    msg->devs.n = 0;
    msg->devs.total = 0;
    jt808_arena_reset(&msg->arena);
    struct jt808_rd r = {body, 0, n, err, &msg->devs, &msg->arena};
    return jt808_lay_read(&r, msg);
}

/* --- writing ---------------------------------------------------------------- */

static size_t width(const struct jt808_fd *f)
{
    return f->kind == JT808_FK_BYTE ? 1 : f->kind == JT808_FK_WORD ? 2 : 4;
}

static enum jt808_rc put_num(struct jt808_wr *w, size_t at, size_t wd, uint32_t v, const char *nm)
{
    if (wd < 4 && v >> (8 * wd))
        return jt808_fail(w->err, JT808_E_VALUE, at, nm);
    for (size_t k = 0; k < wd; k++)
        w->p[at + k] = (uint8_t)(v >> (8 * (wd - 1 - k)));
    return JT808_OK;
}

static enum jt808_rc write_group(struct jt808_wr *w, const struct jt808_fd *f, size_t nf,
                                 const struct jt808_lv *g, enum jt808_version ver)
{
    size_t at[64];
    for (size_t i = 0; i < nf && i < 64; i++) {
        const struct jt808_fd *fi = &f[i];
        const struct jt808_lv *v = &g[i];
        const char *nm = fi->path;
        at[i] = SIZE_MAX;
        if (!jt808_lay_field_on(fi, g, ver))
            continue;
        at[i] = w->pos;
        size_t written = 0;
        switch (fi->kind) {
        case JT808_FK_BYTE:
        case JT808_FK_WORD:
        case JT808_FK_DWORD:
            JT808_TRY(jt808_wr_need(w, width(fi), nm));
            JT808_TRY(put_num(w, w->pos, width(fi), v->u, nm));
            w->pos += width(fi);
            continue;
        case JT808_FK_BCD:
            JT808_TRY(jt808_wr_need(w, fi->n, nm));
            if (jt808_bcd_encode(v->str ? v->str : "", w->p + w->pos, fi->n) != JT808_OK)
                return jt808_fail(w->err, JT808_E_VALUE, w->pos, nm);
            w->pos += fi->n;
            continue;
        case JT808_FK_STRING:
            if (fi->size == JT808_SZ_FIXED) {
                JT808_TRY(jt808_wr_fixed(w, v->str ? v->str : "", fi->n, nm));
                continue;
            }
            JT808_TRY(jt808_wr_string(w, v->str ? v->str : "",
                                      fi->size == JT808_SZ_REF ? (1u << 8 * width(&f[fi->ref])) - 1
                                                               : JT808_MAX_BODY * 64u,
                                      &written, nm));
            break;
        case JT808_FK_BYTES:
        case JT808_FK_ZIP:
        case JT808_FK_LOC:
            if (fi->size == JT808_SZ_FIXED && v->n != fi->n)
                return jt808_fail(w->err, JT808_E_VALUE, w->pos, nm);
            JT808_TRY(jt808_wr_bytes(w, v->bytes, v->n, nm));
            written = v->n;
            break;
        case JT808_FK_LIST:
            for (size_t k = 0; k < v->n; k++)
                JT808_TRY(write_group(w, fi->sub, fi->nsub, v->items + k * fi->nsub, ver));
            written = v->n;
            break;
        }
        if (fi->size == JT808_SZ_REF) {
            if (at[fi->ref] == SIZE_MAX)
                return jt808_fail(w->err, JT808_E_VALUE, w->pos, f[fi->ref].path);
            JT808_TRY(put_num(w, at[fi->ref], width(&f[fi->ref]), (uint32_t)written,
                              f[fi->ref].path));
        }
    }
    return JT808_OK;
}

enum jt808_rc jt808_lay_write(struct jt808_wr *w, const struct jt808_lay_body *b)
{
    JT808_TRY(write_group(w, b->lay->f, b->lay->n, b->root, b->version));
    return jt808_wr_bytes(w, b->trailing, b->n_trailing, "body.trailing");
}

enum jt808_rc jt808_lay_encode(const struct jt808_lay_body *b, uint8_t *out, size_t cap,
                               size_t *out_len, struct jt808_err *err)
{
    struct jt808_wr w = {out, 0, cap, err};
    JT808_TRY(jt808_lay_write(&w, b));
    *out_len = w.pos;
    return JT808_OK;
}

/* --- building and accessors ------------------------------------------------- */

static void init_group(const struct jt808_fd *f, size_t nf, struct jt808_lv *g,
                       enum jt808_version ver)
{
    for (size_t i = 0; i < nf; i++)
        g[i].present = ed_ok(&f[i], ver);
}

bool jt808_lay_resize_in(struct jt808_arena *a, const struct jt808_fd *f, struct jt808_lv *v,
                         size_t n, enum jt808_version ver)
{
    if (n > 65535)
        return false;
    struct jt808_lv *items = NULL;
    if (n) {
        items = jt808_arena_alloc(a, n * f->nsub * sizeof *items);
        if (!items)
            return false;
        size_t keep = n < v->n ? n : v->n;
        if (keep)
            memcpy(items, v->items, keep * f->nsub * sizeof *items);
        for (size_t k = keep; k < n; k++)
            init_group(f->sub, f->nsub, items + k * f->nsub, ver);
    }
    v->items = items;
    v->n = (uint32_t)n;
    return true;
}

struct jt808_lay_body *jt808_lay_new_in(struct jt808_arena *a, const struct jt808_layout *lay,
                                        enum jt808_version v)
{
    struct jt808_lay_body *b = jt808_arena_alloc(a, sizeof *b);
    if (!b || !(b->root = jt808_arena_alloc(a, lay->n * sizeof *b->root)))
        return NULL;
    b->lay = lay;
    b->version = v;
    init_group(lay->f, lay->n, b->root, v);
    return b;
}

struct jt808_lay_body *jt808_lay_new(struct jt808_msg *msg)
{
    const struct jt808_layout *lay = jt808_lay_find(msg->h.msg_id);
    msg->lay = lay ? jt808_lay_new_in(&msg->arena, lay, msg->h.version) : NULL;
    return msg->lay;
}

/* Walk path to a field; grow (with arena a) lists named past their end. */
static bool resolve(const struct jt808_lay_body *b, const char *path, struct jt808_arena *grow,
                    const struct jt808_fd **fo, struct jt808_lv **vo)
{
    const struct jt808_fd *f = b->lay->f;
    size_t nf = b->lay->n;
    struct jt808_lv *g = b->root;
    const char *p = path;
    for (;;) {
        size_t len = strcspn(p, ".[");
        const struct jt808_fd *hit = NULL;
        struct jt808_lv *hv = NULL;
        for (size_t i = 0; i < nf && !hit; i++)
            if (strlen(f[i].name) == len && memcmp(f[i].name, p, len) == 0 && ed_ok(&f[i], b->version)) {
                hit = &f[i];
                hv = &g[i];
            }
        if (!hit)
            return false;
        p += len;
        if (*p == '\0') {
            *fo = hit;
            *vo = hv;
            return true;
        }
        if (*p != '[' || hit->kind != JT808_FK_LIST)
            return false;
        char *endp;
        unsigned long idx = strtoul(p + 1, &endp, 10);
        if (endp == p + 1 || *endp != ']' || idx > 65534)
            return false;
        if (idx >= hv->n) {
            if (!grow || !jt808_lay_resize_in(grow, hit, hv, idx + 1, b->version))
                return false;
            hv->present = true;
        }
        g = hv->items + idx * hit->nsub;
        f = hit->sub;
        nf = hit->nsub;
        p = endp + 1;
        if (*p != '.')
            return false;
        p++;
    }
}

bool jt808_lay_get_u32(const struct jt808_lay_body *b, const char *path, uint32_t *v)
{
    const struct jt808_fd *f;
    struct jt808_lv *lv;
    if (!b || !resolve(b, path, NULL, &f, &lv) || !lv->present || f->kind > JT808_FK_DWORD)
        return false;
    *v = lv->u;
    return true;
}

bool jt808_lay_set_u32(struct jt808_lay_body *b, struct jt808_msg *msg, const char *path, uint32_t v)
{
    const struct jt808_fd *f;
    struct jt808_lv *lv;
    if (!b || !resolve(b, path, &msg->arena, &f, &lv) || f->kind > JT808_FK_DWORD)
        return false;
    if (width(f) < 4 && v >> (8 * width(f)))
        return false;
    lv->u = v;
    lv->present = true;
    return true;
}

bool jt808_lay_get_str(const struct jt808_lay_body *b, const char *path, const char **s)
{
    const struct jt808_fd *f;
    struct jt808_lv *lv;
    if (!b || !resolve(b, path, NULL, &f, &lv) || !lv->present ||
        (f->kind != JT808_FK_STRING && f->kind != JT808_FK_BCD))
        return false;
    *s = lv->str ? lv->str : "";
    return true;
}

bool jt808_lay_set_str(struct jt808_lay_body *b, struct jt808_msg *msg, const char *path,
                       const char *s)
{
    const struct jt808_fd *f;
    struct jt808_lv *lv;
    if (!b || !resolve(b, path, &msg->arena, &f, &lv) ||
        (f->kind != JT808_FK_STRING && f->kind != JT808_FK_BCD))
        return false;
    size_t n = strlen(s);
    char *c = jt808_arena_alloc(&msg->arena, n + 1);
    if (!c)
        return false;
    memcpy(c, s, n);
    lv->str = c;
    lv->present = true;
    return true;
}

bool jt808_lay_get_bytes(const struct jt808_lay_body *b, const char *path, const uint8_t **p,
                         size_t *n)
{
    const struct jt808_fd *f;
    struct jt808_lv *lv;
    if (!b || !resolve(b, path, NULL, &f, &lv) || !lv->present ||
        (f->kind != JT808_FK_BYTES && f->kind != JT808_FK_ZIP && f->kind != JT808_FK_LOC))
        return false;
    *p = lv->bytes;
    *n = lv->n;
    return true;
}

bool jt808_lay_set_bytes(struct jt808_lay_body *b, struct jt808_msg *msg, const char *path,
                         const uint8_t *p, size_t n)
{
    const struct jt808_fd *f;
    struct jt808_lv *lv;
    if (!b || !resolve(b, path, &msg->arena, &f, &lv) ||
        (f->kind != JT808_FK_BYTES && f->kind != JT808_FK_ZIP && f->kind != JT808_FK_LOC))
        return false;
    uint8_t *c = jt808_arena_alloc(&msg->arena, n);
    if (!c)
        return false;
    if (n)
        memcpy(c, p, n);
    lv->bytes = c;
    lv->n = (uint32_t)n;
    lv->present = true;
    return true;
}

bool jt808_lay_list_len(const struct jt808_lay_body *b, const char *path, size_t *n)
{
    const struct jt808_fd *f;
    struct jt808_lv *lv;
    if (!b || !resolve(b, path, NULL, &f, &lv) || !lv->present || f->kind != JT808_FK_LIST)
        return false;
    *n = lv->n;
    return true;
}

bool jt808_lay_list_resize(struct jt808_lay_body *b, struct jt808_msg *msg, const char *path,
                           size_t n)
{
    const struct jt808_fd *f;
    struct jt808_lv *lv;
    if (!b || !resolve(b, path, &msg->arena, &f, &lv) || f->kind != JT808_FK_LIST)
        return false;
    lv->present = true;
    return jt808_lay_resize_in(&msg->arena, f, lv, n, b->version);
}

/* The list at path and the index of its item field `field` (numeric). */
static bool list_field(const struct jt808_lay_body *b, const char *list, const char *field,
                       const struct jt808_fd **fo, struct jt808_lv **vo, size_t *k)
{
    const struct jt808_fd *f;
    struct jt808_lv *lv;
    if (!b || !resolve(b, list, NULL, &f, &lv) || f->kind != JT808_FK_LIST)
        return false;
    for (size_t i = 0; i < f->nsub; i++)
        if (strcmp(f->sub[i].name, field) == 0 && ed_ok(&f->sub[i], b->version) &&
            f->sub[i].kind <= JT808_FK_DWORD) {
            *fo = f;
            *vo = lv;
            *k = i;
            return true;
        }
    return false;
}

bool jt808_lay_list_set_u32(struct jt808_lay_body *b, struct jt808_msg *msg, const char *list,
                            const char *field, const uint32_t *v, size_t n)
{
    const struct jt808_fd *f;
    struct jt808_lv *lv;
    size_t k;
    if (!list_field(b, list, field, &f, &lv, &k))
        return false;
    size_t wd = width(&f->sub[k]);
    for (size_t i = 0; i < n; i++)
        if (wd < 4 && v[i] >> (8 * wd))
            return false;
    if (!jt808_lay_resize_in(&msg->arena, f, lv, n, b->version))
        return false;
    lv->present = true;
    for (size_t i = 0; i < n; i++) {
        struct jt808_lv *item = &lv->items[i * f->nsub + k];
        item->u = v[i];
        item->present = true;
    }
    return true;
}

bool jt808_lay_list_get_u32(const struct jt808_lay_body *b, const char *list, const char *field,
                            uint32_t *out, size_t cap, size_t *n)
{
    const struct jt808_fd *f;
    struct jt808_lv *lv;
    size_t k;
    if (!list_field(b, list, field, &f, &lv, &k) || !lv->present)
        return false;
    *n = lv->n;
    for (size_t i = 0; i < lv->n && i < cap; i++) {
        const struct jt808_lv *item = &lv->items[i * f->nsub + k];
        out[i] = item->present ? item->u : 0;
    }
    return true;
}

bool jt808_lay_get_loc(const struct jt808_lay_body *b, struct jt808_msg *msg, const char *path,
                       struct jt808_location *out)
{
    const struct jt808_fd *f;
    struct jt808_lv *lv;
    if (!b || !resolve(b, path, NULL, &f, &lv) || !lv->present || f->kind != JT808_FK_LOC)
        return false;
    struct jt808_err e;
    struct jt808_rd r = {lv->bytes, 0, lv->n, &e, NULL, &msg->arena};
    return jt808_loc_read(&r, out, &jt808_loc_names_0200) == JT808_OK;
}

enum jt808_rc jt808_lay_build(struct jt808_msg *msg, const struct jt808_header *h,
                              const struct jt808_lay_kv *kvs, size_t n, struct jt808_err *err)
{
    jt808_arena_reset(&msg->arena);
    msg->h = *h;
    msg->body = NULL;
    msg->body_bytes = 0;
    if (!jt808_lay_new(msg))
        return jt808_fail(err, JT808_E_UNKNOWN_ID, 0, "header.msg_id");
    for (size_t i = 0; i < n; i++) {
        const struct jt808_lay_kv *kv = &kvs[i];
        bool ok = kv->s   ? jt808_lay_set_str(msg->lay, msg, kv->path, kv->s)
                  : kv->p ? jt808_lay_set_bytes(msg->lay, msg, kv->path, kv->p, kv->n)
                          : jt808_lay_set_u32(msg->lay, msg, kv->path, kv->u);
        if (!ok)
            return jt808_fail(err, JT808_E_VALUE, i, kv->path);
    }
    return JT808_OK;
}
