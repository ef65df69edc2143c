/* JT/T 808 terminal: areas and routes (see jt808_term_area.h, and README.md,
 * "Scenarios": the terminals' request/answer table and the paragraph after it).
 *
 *   0x8600 circles, 0x8602 rectangles: set attribute 0 update (the kind's stored
 *          areas replaced by these), 1 append, 2 modify; an id already stored is
 *          replaced in either of the last two (modify of an id not stored adds it)
 *   0x8604 polygon, 0x8606 route: one each, replacing a stored one of its id
 *   0x8601/0x8603/0x8605/0x8607: the listed ids of the kind go (count 0: all of them)
 *   each -> 0x0001: 0 done; 1 the store would pass its caps (nothing changed);
 *          2 a set attribute above 2, a polygon of fewer than 3 vertices, a route
 *          without points, a rectangle whose top is south of its bottom, a latitude
 *          above 90° or a longitude above 180° (nothing changed)
 *   0x8608 -> 0x0608: the stored items of the type asked (the ids listed, in the
 *          order asked, those not stored left out; none listed: all), the data being
 *          the items as the set bodies lay them out (0x8600/0x8602: one area item
 *          each; 0x8604/0x8606: one whole body each), in the terminal's edition;
 *          a body over 1023 bytes (819 once encrypted: fleet option rsa) goes in
 *          subpackages, each encrypted on its own after the key exchange, and the
 *          last such 0x0608 is kept as sent (on its connection, up to
 *          JT808_TERM_KEPT_MAX) so that 0x8003 gets the packages it lists again
 *          byte for byte.  An unknown type: 0x0001 result 2.
 *
 * Alarms: each 0x0200 of the periodic reports tests the terminal's position against
 * every area active at the report's time (attribute bit 0: between start and end,
 * GMT+8 as every JT/T 808 time).  A new or changed area starts as "outside", so a
 * terminal already in it enters it on its next report.  A crossing into an area
 * whose attribute has bit 3 (entering: alarm to the platform), or out of one with
 * bit 5 (leaving: to the platform), sets alarm bit 20 (areas) or 21 (routes) and
 * adds item 0x12 (type BYTE, id DWORD, direction BYTE 0 in, 1 out) to that report;
 * bits 2 and 4 (alarm to the driver) stay in the cab.  The bit is held in later
 * reports until the platform acknowledges one carrying it (or confirms it, 0x8203).
 */
#include "sim/dev/jt808_term_area.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/core/clock.h"
#include "sim/dev/jt808_term_int.h"
#include "sim/proto/jt808_layout.h"
#include "sim/proto/jt808_pkgs.h"
#include "sim/proto/jt808_rsa.h"

/* --- geometry ------------------------------------------------------------------ */

#define EARTH_M 6371000.0
#define UDEG_RAD (3.14159265358979323846 / 180e6) /* radians per 1e-6 degree */
#define D90 90000000
#define D180 180000000
#define D360 360000000

static double clamp_lat(int32_t lat)
{
    return lat > D90 ? D90 : lat < -D90 ? -D90 : lat;
}

/* b - a in longitude, the short way round: -180° .. 180°. */
static double dlon(int32_t a, int32_t b)
{
    int64_t d = ((int64_t)b - a) % D360;
    if (d > D180)
        d -= D360;
    else if (d < -D180)
        d += D360;
    return (double)d;
}

double jt808_area_dist_m(struct jt808_pt a, struct jt808_pt b)
{
    double la = clamp_lat(a.lat), lb = clamp_lat(b.lat);
    double x = dlon(a.lon, b.lon) * cos((la + lb) / 2 * UDEG_RAD), y = lb - la;
    return EARTH_M * UDEG_RAD * sqrt(x * x + y * y);
}

bool jt808_area_in_circle(struct jt808_pt centre, uint32_t radius_m, struct jt808_pt p)
{
    return jt808_area_dist_m(centre, p) <= radius_m;
}

bool jt808_area_in_rect(struct jt808_pt top_left, struct jt808_pt bottom_right, struct jt808_pt p)
{
    double lat = clamp_lat(p.lat);
    if (lat > clamp_lat(top_left.lat) || lat < clamp_lat(bottom_right.lat))
        return false;
    /* every longitude into -180° .. 180° */
    double left = dlon(0, top_left.lon), right = dlon(0, bottom_right.lon), lon = dlon(0, p.lon);
    return left <= right ? lon >= left && lon <= right : lon >= left || lon <= right;
}

bool jt808_area_in_polygon(const struct jt808_pt *v, size_t n, struct jt808_pt p)
{
    if (n < 3)
        return false;
    /* Even-odd rule for a ray from p eastwards.  Longitudes run from the first
     * vertex, each edge the short way, so that a polygon across 180° stays one
     * piece; p's longitude may then be a turn away from them: all three tried. */
    double py = clamp_lat(p.lat), px0 = dlon(v[0].lon, p.lon);
    const double px[3] = {px0, px0 + D360, px0 - D360};
    bool in[3] = {false, false, false};
    double xa = 0;
    for (size_t i = 1; i <= n; i++) {
        const struct jt808_pt *a = &v[i - 1], *b = &v[i % n];
        double xb = xa + dlon(a->lon, b->lon), ya = clamp_lat(a->lat) - py, yb = clamp_lat(b->lat) - py;
        if ((ya > 0) != (yb > 0)) {
            double xc = xa + (0 - ya) * (xb - xa) / (yb - ya);
            for (int k = 0; k < 3; k++)
                in[k] ^= xc > px[k];
        }
        xa = xb;
    }
    return in[0] || in[1] || in[2];
}

bool jt808_area_on_route(const struct jt808_pt *v, const uint8_t *width, size_t n, struct jt808_pt p)
{
    /* metres in a plane where p is the origin */
    double py = clamp_lat(p.lat), kx = EARTH_M * UDEG_RAD * cos(py * UDEG_RAD), ky = EARTH_M * UDEG_RAD;
    for (size_t i = 0; i < n; i++) {
        double ax = dlon(p.lon, v[i].lon) * kx, ay = (clamp_lat(v[i].lat) - py) * ky;
        double qx = ax, qy = ay; /* the nearest point of the segment */
        if (n == 1) {
            /* a route of one point: the point itself */
        } else if (i + 1 == n) {
            break;
        } else {
            /* the segment the short way from its first point */
            double bx = ax + dlon(v[i].lon, v[i + 1].lon) * kx, by = (clamp_lat(v[i + 1].lat) - py) * ky;
            double dx = bx - ax, dy = by - ay, l2 = dx * dx + dy * dy;
            double s = l2 > 0 ? -(ax * dx + ay * dy) / l2 : 0;
            s = s < 0 ? 0 : s > 1 ? 1 : s;
            qx = ax + s * dx;
            qy = ay + s * dy;
        }
        if (sqrt(qx * qx + qy * qy) <= width[i] / 2.0)
            return true;
    }
    return false;
}

/* --- the store --------------------------------------------------------------------- */

struct area {
    uint32_t id;
    uint16_t attr;
    uint8_t kind;          /* enum jt808_area_kind; 0: a slot given up while building */
    bool inside;           /* at the last report tested */
    uint32_t radius;       /* circle, metres */
    uint32_t n_pts;
    struct jt808_pt *pts;  /* circle: the centre; rectangle: top left, bottom right;
                              polygon: vertices; route: points (one block with width, wire) */
    uint8_t *width;        /* route: of the segment from each point, metres */
    uint8_t *wire;         /* the item as its set body lays it out (terminal's edition) */
    uint32_t wire_len;
    char start[13], end[13]; /* attribute bit 0: YYMMDDhhmmss */
};

struct jt808_areas {
    struct area *a;
    uint32_t n, cap;
    uint32_t bytes;        /* sum of wire_len */
    uint16_t held_serial;  /* the last report that carried the held alarm bits */
    bool held;             /* bits 20/21 set by a crossing, not yet acknowledged */
};

static void area_release(struct area *a)
{
    free(a->pts);
    a->pts = NULL;
}

static int find(const struct jt808_areas *s, uint8_t kind, uint32_t id)
{
    for (uint32_t i = 0; s && i < s->n; i++)
        if (s->a[i].kind == kind && s->a[i].id == id)
            return (int)i;
    return -1;
}

/* Drop the items of kind that del says (NULL: all of them), keeping the order. */
static void drop(struct jt808_areas *s, uint8_t kind, bool (*del)(const struct area *, const void *),
                 const void *arg)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < s->n; i++) {
        struct area *a = &s->a[i];
        if (a->kind == kind && (!del || del(a, arg))) {
            s->bytes -= a->wire_len;
            area_release(a);
            continue;
        }
        s->a[k++] = *a;
    }
    s->n = k;
}

/* --- reading a set body ------------------------------------------------------------ */

struct set_kind {
    uint16_t set, del;
    uint8_t kind;
    bool listed;  /* a set body holds a list of items ("areas"), else it is the item */
};
static const struct set_kind set_kinds[] = {
    {0x8600, 0x8601, JT808_AREA_CIRCLE, true},
    {0x8602, 0x8603, JT808_AREA_RECT, true},
    {0x8604, 0x8605, JT808_AREA_POLYGON, false},
    {0x8606, 0x8607, JT808_AREA_ROUTE, false},
};

struct rd {
    const struct jt808_lay_body *b;
    char pfx[24];  /* "areas[3]." or "" */
    bool ok;
};

static uint32_t rd_u32(struct rd *r, const char *field)
{
    char path[64];
    uint32_t v = 0;
    snprintf(path, sizeof path, "%s%s", r->pfx, field);
    if (!jt808_lay_get_u32(r->b, path, &v))
        r->ok = false;
    return v;
}

static uint32_t rd_u32_at(struct rd *r, const char *list, size_t i, const char *field)
{
    char path[80];
    snprintf(path, sizeof path, "%s[%zu].%s", list, i, field);
    uint32_t v = 0;
    if (!jt808_lay_get_u32(r->b, path, &v))
        r->ok = false;
    return v;
}

static void rd_time(struct rd *r, const char *field, char out[13])
{
    char path[64];
    const char *s = NULL;
    snprintf(path, sizeof path, "%s%s", r->pfx, field);
    if (!jt808_lay_get_str(r->b, path, &s) || strlen(s) != 12)
        r->ok = false;
    else
        memcpy(out, s, 13);
}

/* A coordinate of the wire (unsigned, 1e-6 degree) with its hemisphere; false when
 * past 90° / 180°. */
static bool coord(uint32_t v, bool negative, uint32_t max, int32_t *out)
{
    if (v > max)
        return false;
    *out = negative ? -(int32_t)v : (int32_t)v;
    return true;
}

/* The item as its set body lays it out in edition ver: for a listed kind one item
 * of the list (the body's set attribute and count left off), else the body. */
static enum jt808_rc item_wire(const struct jt808_lay_body *b, size_t i, bool listed, enum jt808_version ver,
                               uint8_t *out, size_t cap, size_t *len)
{
    struct jt808_lv root[3];
    struct jt808_lay_body one = {.lay = b->lay, .version = ver, .root = b->root};
    struct jt808_err err;
    if (listed) {
        /* the same tree with only item i in its list: attr, count, areas */
        if (b->lay->n != 3 || strcmp(b->lay->f[2].name, "areas") != 0)
            return JT808_E_VALUE;
        memcpy(root, b->root, sizeof root);
        root[2].items = b->root[2].items + i * b->lay->f[2].nsub;
        root[2].n = 1;
        one.root = root;
    }
    size_t n = 0;
    enum jt808_rc rc = jt808_lay_encode(&one, out, cap, &n, &err);
    if (rc != JT808_OK)
        return rc;
    size_t skip = listed ? 2 : 0;
    memmove(out, out + skip, n - skip);
    *len = n - skip;
    return JT808_OK;
}

/* Item i of set body b into *a (its memory allocated): 0, or the 0x0001 result that
 * refuses the body (1: out of memory or over the caps, 2: a bad item). */
static uint8_t parse_item(const struct jt808_lay_body *b, const struct set_kind *k, size_t i,
                          enum jt808_version ver, struct area *a)
{
    static uint8_t wire[JT808_MAX_LONG_BODY];
    struct rd r = {.b = b, .ok = true};
    if (k->listed)
        snprintf(r.pfx, sizeof r.pfx, "areas[%zu].", i);
    memset(a, 0, sizeof *a);
    a->kind = k->kind;
    a->id = rd_u32(&r, "id");
    a->attr = (uint16_t)rd_u32(&r, "attr");
    if (a->attr & JT808_AREA_TIMED) {
        rd_time(&r, "start", a->start);
        rd_time(&r, "end", a->end);
    }
    bool south = a->attr & JT808_AREA_SOUTH, west = a->attr & JT808_AREA_WEST;
    const char *list = k->kind == JT808_AREA_POLYGON ? "vertices" : "points";
    size_t n = k->kind == JT808_AREA_CIRCLE ? 1 : k->kind == JT808_AREA_RECT ? 2 : 0;
    if (!k->listed && !jt808_lay_list_len(b, list, &n))
        n = 0;
    if (!r.ok || (k->kind == JT808_AREA_POLYGON && n < 3) || (k->kind == JT808_AREA_ROUTE && n < 1))
        return 2;
    size_t wlen = 0;
    enum jt808_rc rc = item_wire(b, i, k->listed, ver, wire, sizeof wire, &wlen);
    if (rc != JT808_OK)
        return rc == JT808_E_NOSPACE ? 1 : 2;
    if (wlen > JT808_AREA_MAX_BYTES)
        return 1;
    size_t pts_bytes = n * sizeof *a->pts, w_bytes = k->kind == JT808_AREA_ROUTE ? n : 0;
    uint8_t *blk = malloc(pts_bytes + w_bytes + wlen);
    if (!blk)
        return 1;
    a->pts = (struct jt808_pt *)(void *)blk;
    a->width = w_bytes ? blk + pts_bytes : NULL;
    a->wire = blk + pts_bytes + w_bytes;
    memcpy(a->wire, wire, wlen);
    a->wire_len = (uint32_t)wlen;
    a->n_pts = (uint32_t)n;
    bool ok = true;
    switch (k->kind) {
    case JT808_AREA_CIRCLE:
        ok = coord(rd_u32(&r, "lat"), south, D90, &a->pts[0].lat) &&
             coord(rd_u32(&r, "lon"), west, D180, &a->pts[0].lon);
        a->radius = rd_u32(&r, "radius");
        break;
    case JT808_AREA_RECT:
        ok = coord(rd_u32(&r, "top_left_lat"), south, D90, &a->pts[0].lat) &&
             coord(rd_u32(&r, "top_left_lon"), west, D180, &a->pts[0].lon) &&
             coord(rd_u32(&r, "bottom_right_lat"), south, D90, &a->pts[1].lat) &&
             coord(rd_u32(&r, "bottom_right_lon"), west, D180, &a->pts[1].lon) &&
             a->pts[0].lat >= a->pts[1].lat;
        break;
    case JT808_AREA_POLYGON:
        for (size_t j = 0; j < n && ok; j++)
            ok = coord(rd_u32_at(&r, list, j, "lat"), south, D90, &a->pts[j].lat) &&
                 coord(rd_u32_at(&r, list, j, "lon"), west, D180, &a->pts[j].lon);
        break;
    case JT808_AREA_ROUTE:
        for (size_t j = 0; j < n && ok; j++) {
            uint32_t pa = rd_u32_at(&r, list, j, "attr"), w = rd_u32_at(&r, list, j, "width");
            ok = coord(rd_u32_at(&r, list, j, "lat"), pa & JT808_POINT_SOUTH, D90, &a->pts[j].lat) &&
                 coord(rd_u32_at(&r, list, j, "lon"), pa & JT808_POINT_WEST, D180, &a->pts[j].lon);
            a->width[j] = (uint8_t)w;
        }
        break;
    default:
        ok = false;
        break;
    }
    if (!ok || !r.ok) {
        area_release(a);
        return 2;
    }
    return 0;
}

/* --- the store's operations, terminal-free ------------------------------------------- */

void jt808_areas_free(struct jt808_areas *s)
{
    if (!s)
        return;
    for (uint32_t i = 0; i < s->n; i++)
        area_release(&s->a[i]);
    free(s->a);
    free(s);
}

size_t jt808_areas_count(const struct jt808_areas *s, size_t *bytes)
{
    if (bytes)
        *bytes = s ? s->bytes : 0;
    return s ? s->n : 0;
}

_Static_assert(sizeof(struct area) <= 96 && sizeof(struct jt808_areas) <= 64, "JT808_AREA_HELD_MAX");

size_t jt808_areas_held(const struct jt808_areas *s)
{
    if (!s)
        return 0;
    size_t n = sizeof *s + (size_t)s->cap * sizeof *s->a;
    for (uint32_t i = 0; i < s->n; i++) {
        const struct area *a = &s->a[i];
        /* one block: points, route widths, wire bytes (parse_item) */
        n += (size_t)a->n_pts * sizeof *a->pts + (a->width ? a->n_pts : 0) + a->wire_len;
    }
    return n;
}

/* An empty store holding no alarm is given back. */
static void tidy(struct jt808_areas **sp)
{
    if (*sp && !(*sp)->n && !(*sp)->held) {
        jt808_areas_free(*sp);
        *sp = NULL;
    }
}

static uint8_t set_items(struct jt808_areas **sp, const struct jt808_lay_body *b, const struct set_kind *k,
                         enum jt808_version ver)
{
    uint32_t mode = 1; /* polygon, route: an id stored is replaced, as an append does */
    size_t n = 1;
    if (k->listed && (!jt808_lay_get_u32(b, "attr", &mode) || !jt808_lay_list_len(b, "areas", &n) || mode > 2))
        return 2;
    if (!*sp && !(*sp = calloc(1, sizeof **sp)))
        return 1;
    struct jt808_areas *s = *sp;
    struct area *add = n ? calloc(n, sizeof *add) : NULL;
    if (n && !add)
        return 1;
    uint8_t result = 0;
    for (size_t i = 0; i < n && !result; i++)
        result = parse_item(b, k, i, ver, &add[i]);
    /* the projected store: one id twice in the body keeps the later one */
    uint64_t count = s->n, bytes = s->bytes;
    if (mode == 0)
        for (uint32_t i = 0; i < s->n; i++)
            if (s->a[i].kind == k->kind) {
                count--;
                bytes -= s->a[i].wire_len;
            }
    for (size_t i = 0; i < n && !result; i++) {
        for (size_t j = i + 1; j < n; j++)
            if (add[j].id == add[i].id) {
                area_release(&add[i]);
                add[i].kind = 0;
                break;
            }
        if (!add[i].kind)
            continue;
        int at = mode == 0 ? -1 : find(s, k->kind, add[i].id);
        if (at < 0)
            count++;
        else
            bytes -= s->a[at].wire_len;
        bytes += add[i].wire_len;
    }
    if (!result && (count > JT808_AREA_MAX_ITEMS || bytes > JT808_AREA_MAX_BYTES))
        result = 1;
    if (!result && count > s->cap) {
        uint32_t cap = s->cap ? s->cap : 8;
        while (cap < count)
            cap *= 2;
        struct area *na = realloc(s->a, cap * sizeof *na);
        if (na) {
            s->a = na;
            s->cap = cap;
        } else {
            result = 1;
        }
    }
    if (result) {
        for (size_t i = 0; i < n; i++)
            if (add[i].kind)
                area_release(&add[i]);
        free(add);
        return result;
    }
    if (mode == 0)
        drop(s, k->kind, NULL, NULL);
    for (size_t i = 0; i < n; i++) {
        if (!add[i].kind)
            continue;
        int at = find(s, k->kind, add[i].id);
        if (at >= 0) {
            s->bytes -= s->a[at].wire_len;
            area_release(&s->a[at]);
            s->a[at] = add[i];
        } else {
            s->a[s->n++] = add[i];
        }
        s->bytes += add[i].wire_len;
    }
    free(add);
    return 0;
}

struct id_list {
    const uint32_t *ids;
    size_t n;
};

static bool listed_id(const struct area *a, const void *arg)
{
    const struct id_list *l = arg;
    for (size_t i = 0; i < l->n; i++)
        if (l->ids[i] == a->id)
            return true;
    return false;
}

/* The ids of list "ids" of b (malloc'd into *out, NULL when none); false when b has
 * no such list or out of memory. */
static bool read_ids(const struct jt808_lay_body *b, uint32_t **out, size_t *n)
{
    *out = NULL;
    if (!jt808_lay_list_len(b, "ids", n))
        return false;
    if (!*n)
        return true;
    uint32_t *ids = malloc(*n * sizeof *ids);
    if (!ids)
        return false;
    char path[32];
    for (size_t i = 0; i < *n; i++) {
        snprintf(path, sizeof path, "ids[%zu].id", i);
        if (!jt808_lay_get_u32(b, path, &ids[i])) {
            free(ids);
            return false;
        }
    }
    *out = ids;
    return true;
}

static uint8_t delete_items(struct jt808_areas **sp, const struct jt808_lay_body *b, const struct set_kind *k)
{
    struct id_list l;
    uint32_t *ids;
    if (!read_ids(b, &ids, &l.n))
        return 2;
    l.ids = ids;
    if (*sp)
        drop(*sp, k->kind, l.n ? listed_id : NULL, &l);
    free(ids);
    return 0;
}

static const struct set_kind *kind_of(uint16_t msg_id, bool *del)
{
    for (size_t i = 0; i < sizeof set_kinds / sizeof set_kinds[0]; i++)
        if (msg_id == set_kinds[i].set || msg_id == set_kinds[i].del) {
            *del = msg_id == set_kinds[i].del;
            return &set_kinds[i];
        }
    return NULL;
}

uint8_t jt808_areas_apply(struct jt808_areas **sp, const struct jt808_lay_body *b, enum jt808_version ver)
{
    bool del = false;
    const struct set_kind *k = b ? kind_of(b->lay->id, &del) : NULL;
    if (!k)
        return 2;
    uint8_t r = del ? delete_items(sp, b, k) : set_items(sp, b, k, ver);
    tidy(sp);
    return r;
}

size_t jt808_areas_query(const struct jt808_areas *s, const struct jt808_lay_body *q, uint8_t *out, size_t cap)
{
    uint32_t type = 0, *ids = NULL;
    size_t n_ids = 0;
    if (!q || q->lay->id != 0x8608 || cap < 5 || !jt808_lay_get_u32(q, "type", &type) ||
        type < JT808_AREA_CIRCLE || type > JT808_AREA_ROUTE || !read_ids(q, &ids, &n_ids))
        return 0;
    size_t len = 5;
    uint32_t count = 0;
    /* the store's bytes cap keeps every item of one kind within JT808_MAX_LONG_BODY */
    for (uint32_t i = 0; s && !n_ids && i < s->n; i++)
        if (s->a[i].kind == type && len + s->a[i].wire_len <= cap) {
            memcpy(out + len, s->a[i].wire, s->a[i].wire_len);
            len += s->a[i].wire_len;
            count++;
        }
    for (size_t i = 0; s && i < n_ids; i++) {
        int at = find(s, (uint8_t)type, ids[i]);
        bool again = false; /* an id asked twice is answered once */
        for (size_t j = 0; j < i && at >= 0 && !again; j++)
            again = ids[j] == ids[i];
        if (at < 0 || again || len + s->a[at].wire_len > cap)
            continue;
        memcpy(out + len, s->a[at].wire, s->a[at].wire_len);
        len += s->a[at].wire_len;
        count++;
    }
    free(ids);
    /* type BYTE, count DWORD, data (the 0x0608 layout) */
    out[0] = (uint8_t)type;
    for (int b = 0; b < 4; b++)
        out[1 + b] = (uint8_t)(count >> (24 - 8 * b));
    return len;
}

static bool contains(const struct area *a, struct jt808_pt p)
{
    switch (a->kind) {
    case JT808_AREA_CIRCLE: return jt808_area_in_circle(a->pts[0], a->radius, p);
    case JT808_AREA_RECT: return jt808_area_in_rect(a->pts[0], a->pts[1], p);
    case JT808_AREA_POLYGON: return jt808_area_in_polygon(a->pts, a->n_pts, p);
    case JT808_AREA_ROUTE: return jt808_area_on_route(a->pts, a->width, a->n_pts, p);
    default: return false;
    }
}

int jt808_areas_cross(struct jt808_areas *s, struct jt808_pt p, int64_t unix_s, struct jt808_loc_item *items,
                      int cap, uint32_t *alarm)
{
    char now[13] = "";
    int k = 0;
    for (uint32_t i = 0; s && i < s->n && k < cap; i++) {
        struct area *a = &s->a[i];
        bool active = true;
        if (a->attr & JT808_AREA_TIMED) {
            if (!now[0])
                jt808_time_text(unix_s, now);
            active = strcmp(a->start, now) <= 0 && strcmp(now, a->end) <= 0;
        }
        bool in = active && contains(a, p);
        if (in == a->inside)
            continue;
        a->inside = in;
        if (!(a->attr & (in ? JT808_AREA_IN_PLATFORM : JT808_AREA_OUT_PLATFORM)))
            continue;
        struct jt808_loc_item *it = &items[k++];
        memset(it, 0, offsetof(struct jt808_loc_item, raw));
        it->id = 0x12;
        it->len = 6;
        it->raw[0] = a->kind;
        for (int b = 0; b < 4; b++)
            it->raw[1 + b] = (uint8_t)(a->id >> (24 - 8 * b));
        it->raw[5] = in ? 0 : 1;
        *alarm |= a->kind == JT808_AREA_ROUTE ? JT808_ALARM_ROUTE : JT808_ALARM_AREA;
    }
    return k;
}

/* --- the terminal's side ----------------------------------------------------------------- */

void jt808_term_area_free(struct jt808_more *x)
{
    jt808_areas_free(x->areas);
    x->areas = NULL;
    jt808_pkgs_free(x->kept);
    x->kept = NULL;
}

size_t jt808_term_area_held(const struct jt808_more *x)
{
    return jt808_pkgs_held(x->kept);
}

void jt808_term_area_forget(struct term *t)
{
    struct jt808_more *x = jt_more(t, false);
    if (x) {
        jt808_pkgs_free(x->kept);
        x->kept = NULL;
    }
}

size_t jt808_term_area_count(struct term *t, size_t *bytes)
{
    struct jt808_more *x = jt_more(t, false);
    return jt808_areas_count(x ? x->areas : NULL, bytes);
}

#define QUERY_CHUNK 1000 /* body bytes per 0x0608 package (819 when encrypted) */

static void query(struct term *t, const struct jt808_msg *m)
{
    static uint8_t body[JT808_MAX_LONG_BODY];
    struct jt808_more *x = jt_more(t, false);
    size_t len = jt808_areas_query(x ? x->areas : NULL, m->lay, body, sizeof body);
    if (!len) {
        jt_general_reply(t, &m->h, 2);
        return;
    }
    jt_header(t, 0x0608);
    /* one frame when it fits one, encrypted (819 bytes of plaintext) or not */
    if (len <= (jt808_term_rsa_active(t) ? JT808_RSA_MAX_PLAIN : JT808_MAX_BODY)) {
        jt_out.body = body;
        jt_out.body_bytes = len;
        bool sent = jt_send(t, false);
        jt_out.body = NULL;
        jt_out.body_bytes = 0;
        if (sent)
            jt_count_reply(t);
        return;
    }
    /* subpackages, each package encrypted on its own after the key exchange, kept
     * as sent so that 0x8003 gets them again byte for byte */
    struct jt808_pkgs *p = jt808_term_pkgs(t, body, len, QUERY_CHUNK);
    if (!p)
        return;
    static uint8_t frame[JT808_MAX_FRAME];
    bool ok = true;
    for (unsigned i = 1; ok && i <= p->total; i++) {
        size_t flen = 0;
        ok = jt808_pkgs_frame(p, i, frame, sizeof frame, &flen, NULL) == JT808_OK && term_send(t, frame, flen);
    }
    jt808_term_keep(t, p);
    if (!ok)
        return;
    ts(t)->last_tx_us = term_now();
    jt_count_reply(t);
}

void jt808_term_keep(struct term *t, struct jt808_pkgs *p)
{
    struct jt808_more *x = jt_more(t, true);
    if (x && p->bytes <= JT808_TERM_KEPT_MAX) {
        jt808_pkgs_free(x->kept);
        x->kept = p;
    } else {
        jt808_pkgs_free(p); /* a 0x8003 for it is answered "no longer held" (0x0001 result 1) */
    }
}

bool jt808_term_area_resend(struct term *t, const struct jt808_msg *m)
{
    static uint8_t seen[(UINT16_MAX + 1) / 8];
    static uint8_t frame[JT808_MAX_FRAME];
    struct jt808_more *x = jt_more(t, false);
    const struct jt808_pkgs *p = x ? x->kept : NULL;
    uint32_t orig = 0;
    if (!p || !jt808_lay_get_u32(m->lay, "orig_serial", &orig) || orig != p->first_serial)
        return false;
    /* the listed packages in the order listed, each once however often listed (a list
     * of 65535 ids costs at most the message's own packages); ids of none left out */
    size_t n = 0, named = 0;
    jt808_lay_list_len(m->lay, "ids", &n);
    memset(seen, 0, (size_t)p->total / 8 + 1);
    char path[24];
    for (size_t i = 0; i < n && conn_open(&t->conn); i++) {
        uint32_t idx = 0;
        snprintf(path, sizeof path, "ids[%zu].id", i);
        if (!jt808_lay_get_u32(m->lay, path, &idx) || idx < 1 || idx > p->total)
            continue;
        named++;
        if (seen[idx / 8] >> (idx % 8) & 1u)
            continue;
        seen[idx / 8] |= (uint8_t)(1u << (idx % 8));
        size_t flen = 0;
        if (jt808_pkgs_frame(p, idx, frame, sizeof frame, &flen, NULL) == JT808_OK && term_send(t, frame, flen)) {
            term_count(t, JT808_C_PKGS_RESENT, 1);
            ts(t)->last_tx_us = term_now();
        }
    }
    if (!named)
        jt_general_reply(t, &m->h, 2); /* ids of none of its packages: a bad message */
    return true;
}

bool jt808_term_area(struct term *t, const struct jt808_msg *m)
{
    if (m->h.msg_id == 0x8608) {
        query(t, m);
        return true;
    }
    bool del = false;
    if (!kind_of(m->h.msg_id, &del))
        return false;
    /* a delete needs no store where there is none */
    struct jt808_more *x = jt_more(t, !del);
    struct jt808_areas *none = NULL, **sp = x ? &x->areas : &none;
    uint8_t r = !x && !del ? 1 : jt808_areas_apply(sp, m->lay, jt_version(t));
    term_count(t, r ? JT808_C_AREA_REFUSED : del ? JT808_C_AREA_DELETES : JT808_C_AREA_SETS, 1);
    jt_general_reply(t, &m->h, r);
    return true;
}

int jt808_term_area_check(struct term *t, uint64_t now_us, uint16_t serial, struct jt808_loc_item *items,
                          int cap)
{
    struct jt808_more *x = jt_more(t, false);
    struct jt808_areas *s = x ? x->areas : NULL;
    if (!s)
        return 0;
    struct jt808_tstate *st = ts(t);
    struct jt808_pt p = {st->lat, st->lon};
    int k = jt808_areas_cross(s, p, clock_unix_at(now_us), items, cap, &st->alarm_bits);
    term_count(t, JT808_C_AREA_ALARMS, (uint64_t)k);
    s->held = (st->alarm_bits & (JT808_ALARM_AREA | JT808_ALARM_ROUTE)) != 0;
    if (s->held)
        s->held_serial = serial;
    return k;
}

void jt808_term_area_acked(struct term *t, uint16_t serial)
{
    struct jt808_more *x = jt_more(t, false);
    struct jt808_areas *s = x ? x->areas : NULL;
    if (!s || !s->held || s->held_serial != serial)
        return;
    ts(t)->alarm_bits &= ~(JT808_ALARM_AREA | JT808_ALARM_ROUTE);
    s->held = false;
    tidy(&x->areas);
}
