/* JT/T 808 terminals' areas and routes (sim/dev/jt808_term_area.c): the geometry of
 * each shape against distances worked out by hand, the store's set attributes and
 * deletes, 0x0608 decoded back with the codec's layouts into the items sent, the
 * caps, and the alarms a report raises when a terminal crosses an area.  Terminals
 * are driven with tests/unit/jt808_term_fixture.h: one terminal on the memory
 * transport, a frozen clock, positions set between reports. */
#include <stdio.h>

#include "tests/unit/jt808_term_fixture.h"
#include "sim/dev/jt808_term_area.h"
#include "sim/dev/jt808_term_int.h"
#include "sim/proto/jt808.h"
#include "sim/proto/jt808_layout.h"
#include "sim/proto/jt808_pkgs.h"
#include "sim/proto/jt808_rsa.h"

#define PT(la, lo) ((struct jt808_pt){(int32_t)(la), (int32_t)(lo)})

/* 1e-3 degree of latitude on a sphere of 6371 km: 111.195 m */
#define MDEG_M 111.19492664455873

/* --- geometry -------------------------------------------------------------------------- */

static void test_distance(void **state)
{
    (void)state;
    assert_float_equal(jt808_area_dist_m(PT(22000000, 114000000), PT(22001000, 114000000)), MDEG_M, 1e-6);
    /* at 60° a degree of longitude is half one of latitude */
    assert_float_equal(jt808_area_dist_m(PT(60000000, 10000000), PT(60000000, 10002000)), MDEG_M, 1e-3);
    /* across 180°: the short way, 2e-3 degree at the equator */
    assert_float_equal(jt808_area_dist_m(PT(0, 179999000), PT(0, -179999000)), 2 * MDEG_M, 1e-6);
    assert_float_equal(jt808_area_dist_m(PT(0, -179999000), PT(0, 179999000)), 2 * MDEG_M, 1e-6);
    /* past the pole a latitude counts as 90°: (95°, x) is the pole itself */
    assert_float_equal(jt808_area_dist_m(PT(95000000, 0), PT(89999000, 0)), MDEG_M, 1e-6);
    assert_float_equal(jt808_area_dist_m(PT(90000000, 0), PT(90000000, 123000000)), 0, 1e-9);
}

static void test_circle(void **state)
{
    (void)state;
    struct jt808_pt c = PT(22000000, 114000000);
    assert_true(jt808_area_in_circle(c, 112, PT(22001000, 114000000)));
    assert_false(jt808_area_in_circle(c, 111, PT(22001000, 114000000)));
    assert_true(jt808_area_in_circle(c, 0, c));
    /* a circle on 180°: a point on the other side of it is 22 m away */
    assert_true(jt808_area_in_circle(PT(0, 179999900), 30, PT(0, -179999900)));
    assert_false(jt808_area_in_circle(PT(0, 179999900), 20, PT(0, -179999900)));
    /* at the pole any longitude is the centre */
    assert_true(jt808_area_in_circle(PT(90000000, 0), 1, PT(91000000, -170000000)));
    /* a crossing: from inside to outside along the way */
    int in = 0, flips = 0;
    for (int32_t d = 0; d <= 3000; d += 100) {
        int now = jt808_area_in_circle(c, 200, PT(22000000 + d, 114000000));
        flips += d && now != in;
        in = now;
    }
    assert_int_equal(flips, 1);
    assert_false(in);
}

static void test_rectangle(void **state)
{
    (void)state;
    struct jt808_pt tl = PT(22600000, 114000000), br = PT(22500000, 114100000);
    assert_true(jt808_area_in_rect(tl, br, PT(22550000, 114050000)));
    assert_true(jt808_area_in_rect(tl, br, tl)); /* edges count */
    assert_true(jt808_area_in_rect(tl, br, br));
    assert_false(jt808_area_in_rect(tl, br, PT(22600001, 114050000)));
    assert_false(jt808_area_in_rect(tl, br, PT(22499999, 114050000)));
    assert_false(jt808_area_in_rect(tl, br, PT(22550000, 113999999)));
    assert_false(jt808_area_in_rect(tl, br, PT(22550000, 114100001)));
    /* across 180°: from 179° E to 179° W */
    struct jt808_pt tl2 = PT(10000000, 179000000), br2 = PT(-10000000, -179000000);
    assert_true(jt808_area_in_rect(tl2, br2, PT(0, 179500000)));
    assert_true(jt808_area_in_rect(tl2, br2, PT(0, -179500000)));
    assert_true(jt808_area_in_rect(tl2, br2, PT(0, 180000000)));
    assert_false(jt808_area_in_rect(tl2, br2, PT(0, 178500000)));
    assert_false(jt808_area_in_rect(tl2, br2, PT(0, 0)));
    /* up to the pole: a latitude past it is the pole */
    assert_true(jt808_area_in_rect(PT(90000000, -10000000), PT(80000000, 10000000), PT(95000000, 0)));
}

static void test_polygon(void **state)
{
    (void)state;
    /* a U open to the north (1e-6 degree): arms x 0..1 and 2..3, base y 0..1, up to y 3 */
    const struct jt808_pt u[] = {PT(0, 0),       PT(0, 3000000),       PT(3000000, 3000000), PT(3000000, 2000000),
                                 PT(1000000, 2000000), PT(1000000, 1000000), PT(3000000, 1000000), PT(3000000, 0)};
    size_t n = sizeof u / sizeof u[0];
    assert_true(jt808_area_in_polygon(u, n, PT(2000000, 500000)));  /* left arm */
    assert_true(jt808_area_in_polygon(u, n, PT(2000000, 2500000))); /* right arm */
    assert_true(jt808_area_in_polygon(u, n, PT(500000, 1500000)));  /* the base, under the notch */
    assert_false(jt808_area_in_polygon(u, n, PT(2000000, 1500000))); /* in the notch: outside */
    assert_false(jt808_area_in_polygon(u, n, PT(2000000, 3500000)));
    assert_false(jt808_area_in_polygon(u, n, PT(-1, 1500000)));
    assert_false(jt808_area_in_polygon(u, n, PT(3500000, 500000)));
    /* a ray along the level of a vertex is counted once */
    assert_true(jt808_area_in_polygon(u, n, PT(1000000, 500000)));
    assert_false(jt808_area_in_polygon(u, n, PT(1000000, -500000)));
    /* a square across 180° */
    const struct jt808_pt sq[] = {PT(1000000, 179000000), PT(1000000, -179000000), PT(-1000000, -179000000),
                                  PT(-1000000, 179000000)};
    assert_true(jt808_area_in_polygon(sq, 4, PT(0, 179900000)));
    assert_true(jt808_area_in_polygon(sq, 4, PT(0, -179900000)));
    assert_false(jt808_area_in_polygon(sq, 4, PT(0, 178900000)));
    assert_false(jt808_area_in_polygon(sq, 4, PT(0, 0)));
    assert_false(jt808_area_in_polygon(sq, 2, PT(0, 179900000))); /* no polygon under 3 vertices */
}

static void test_route(void **state)
{
    (void)state;
    /* east along the equator 2e-3 degree, then north 2e-3 degree; 20 m then 40 m wide */
    const struct jt808_pt r[] = {PT(0, 0), PT(0, 2000), PT(2000, 2000)};
    const uint8_t w[] = {20, 40, 0};
    /* 1e-6 degree = 0.111 m: 89e-6 degree = 9.9 m, 91e-6 = 10.1 m */
    assert_true(jt808_area_on_route(r, w, 3, PT(89, 1000)));
    assert_false(jt808_area_on_route(r, w, 3, PT(91, 1000)));
    assert_true(jt808_area_on_route(r, w, 3, PT(-89, 1000)));
    assert_true(jt808_area_on_route(r, w, 3, PT(1000, 2000 + 179)));  /* second leg: 19.9 m */
    assert_false(jt808_area_on_route(r, w, 3, PT(1000, 2000 + 181)));
    /* before the start: the distance to the first point, not to the line's extension */
    assert_true(jt808_area_on_route(r, w, 3, PT(0, -89)));
    assert_false(jt808_area_on_route(r, w, 3, PT(0, -91)));
    /* past the end: the distance to the last point, against the last segment's width */
    assert_true(jt808_area_on_route(r, w, 3, PT(2000 + 179, 2000)));
    assert_false(jt808_area_on_route(r, w, 3, PT(2000 + 181, 2000)));
    /* one point: a circle of its width */
    assert_true(jt808_area_on_route(r, w, 1, PT(0, 89)));
    assert_false(jt808_area_on_route(r, w, 1, PT(0, 91)));
    /* across 180° */
    const struct jt808_pt r2[] = {PT(0, 179999000), PT(0, -179999000)};
    assert_true(jt808_area_on_route(r2, w, 2, PT(89, 180000000)));
    assert_false(jt808_area_on_route(r2, w, 2, PT(91, -180000000)));
    assert_false(jt808_area_on_route(r2, w, 2, PT(0, 0)));
}

/* --- a terminal ------------------------------------------------------------------------- */

/* extra: more fleet options ("" or starting with a comma) */
static const char *one_fleet(int version, const char *extra)
{
    static char json[1024];
    snprintf(json, sizeof json,
             "{\"name\": \"a\", \"duration\": \"1h\", \"fleets\": [{\"id\": \"f\", \"protocol\": \"jt808\", "
             "\"count\": 1, \"version\": %d, \"phone\": \"13800000000+\", \"ack_timeout\": \"10s\", "
             "\"heartbeat\": \"1h\", \"report\": {\"every\": \"10s\", \"location\": \"fixed\", \"lat\": 22.5, "
             "\"lon\": 114.0}%s}]}",
             version, extra);
    return json;
}

/* The one 0x0001 the terminal sent for request (serial, id): its result. */
static int answer(struct term *t, uint16_t serial, uint16_t id)
{
    struct sent s = {0};
    sent_take(&s, t);
    const struct jt808_msg *m = want(&s, 0x0001);
    assert_int_equal(m->b.gen_resp.ack_serial, serial);
    assert_int_equal(m->b.gen_resp.ack_id, id);
    int r = m->b.gen_resp.result;
    want_none(&s);
    sent_free(&s);
    return r;
}

static struct dh *online_x(int version, const char *extra)
{
    return online_from(one_fleet(version, extra));
}

static struct dh *online(int version)
{
    return online_x(version, "");
}

/* kv lists built at run time: paths kept in a pool */
struct kvs {
    struct jt808_lay_kv kv[2048];
    char paths[2048][40];
    size_t n;
};

static void kv_u(struct kvs *k, uint32_t v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(k->paths[k->n], sizeof k->paths[k->n], fmt, ap);
    va_end(ap);
    k->kv[k->n] = (struct jt808_lay_kv){.path = k->paths[k->n], .u = v};
    k->n++;
}

static void kv_s(struct kvs *k, const char *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(k->paths[k->n], sizeof k->paths[k->n], fmt, ap);
    va_end(ap);
    k->kv[k->n] = (struct jt808_lay_kv){.path = k->paths[k->n], .s = v};
    k->n++;
}

struct circle {
    uint32_t id, attr, lat, lon, radius;
};

/* 0x8600 with set attribute mode; its 0x0001 result. */
static int set_circles(struct term *t, uint32_t mode, const struct circle *c, size_t n)
{
    static struct kvs k;
    k.n = 0;
    kv_u(&k, mode, "attr");
    bool v19 = ((const struct jt808_fleet_cfg *)term_cfg(t))->version == 2019;
    char names[8][16];
    for (size_t i = 0; i < n; i++) {
        kv_u(&k, c[i].id, "areas[%zu].id", i);
        kv_u(&k, c[i].attr, "areas[%zu].attr", i);
        kv_u(&k, c[i].lat, "areas[%zu].lat", i);
        kv_u(&k, c[i].lon, "areas[%zu].lon", i);
        kv_u(&k, c[i].radius, "areas[%zu].radius", i);
        if (v19 && i < 8) {
            snprintf(names[i], sizeof names[i], "zone %u", c[i].id);
            kv_s(&k, names[i], "areas[%zu].name", i);
        }
    }
    uint16_t q = send_lay(t, 0x8600, k.kv, k.n);
    return answer(t, q, 0x8600);
}

static int delete_ids(struct term *t, uint16_t msg_id, const uint32_t *ids, size_t n)
{
    static struct kvs k;
    k.n = 0;
    for (size_t i = 0; i < n; i++)
        kv_u(&k, ids[i], "ids[%zu].id", i);
    uint16_t q = send_lay(t, msg_id, k.kv, k.n);
    return answer(t, q, msg_id);
}

/* A 0x8604 of nv vertices on a small ring around (lat, lon); its result. */
static int set_polygon(struct term *t, uint32_t id, uint32_t attr, uint32_t lat, uint32_t lon, size_t nv)
{
    static struct kvs k;
    k.n = 0;
    kv_u(&k, id, "id");
    kv_u(&k, attr, "attr");
    for (size_t i = 0; i < nv; i++) {
        /* a square's corners, then points along its edges: every vertex on the square */
        static const int cx[4] = {-1, -1, 1, 1}, cy[4] = {-1, 1, 1, -1};
        size_t side = i * 4 / nv, j = i - side * nv / 4;
        double f = nv > 4 ? (double)j / (double)(nv / 4 + 1) : 0;
        int x0 = cx[side], y0 = cy[side], x1 = cx[(side + 1) % 4], y1 = cy[(side + 1) % 4];
        kv_u(&k, (uint32_t)((int64_t)lat + (int64_t)(1000 * (y0 + f * (y1 - y0)))), "vertices[%zu].lat", i);
        kv_u(&k, (uint32_t)((int64_t)lon + (int64_t)(1000 * (x0 + f * (x1 - x0)))), "vertices[%zu].lon", i);
    }
    uint16_t q = send_lay(t, 0x8604, k.kv, k.n);
    return answer(t, q, 0x8604);
}

/* 0x8608 of type with ids; the 0x0608 (reassembled when subpackaged) decoded into dec. */
static const struct jt808_msg *query(struct term *t, uint32_t type, const uint32_t *ids, size_t n)
{
    static struct kvs k;
    k.n = 0;
    kv_u(&k, type, "type");
    for (size_t i = 0; i < n; i++)
        kv_u(&k, ids[i], "ids[%zu].id", i);
    send_lay(t, 0x8608, k.kv, k.n);
    struct sent s = {0};
    sent_take(&s, t);
    struct jt808_reasm r;
    jt808_reasm_init(&r, 256 * 1024, 60000);
    const struct jt808_msg *m;
    bool done = false;
    uint8_t *whole = NULL;
    size_t whole_len = 0;
    while (!done && (m = sent_next(&s)) != NULL) {
        assert_int_equal(m->h.msg_id, 0x0608);
        if (!m->h.subpackage) {
            whole = malloc(m->body_bytes + 1);
            memcpy(whole, m->body, m->body_bytes);
            whole_len = m->body_bytes;
            done = true;
            break;
        }
        struct jt808_err e;
        assert_int_equal(jt808_reasm_feed(&r, &m->h, m->body, m->body_bytes, 0, &done, &whole, &whole_len, &e),
                         JT808_OK);
    }
    want_none(&s);
    sent_free(&s);
    jt808_reasm_free(&r);
    if (!done)
        fail_msg("no whole 0x0608");
    jt808_msg_free(&dec);
    memset(&dec, 0, sizeof dec);
    dec.h.msg_id = 0x0608;
    dec.h.version = platform_header(t, 0x0608).version;
    struct jt808_err e;
    if (jt808_lay_decode(whole, whole_len, &dec, &e) != JT808_OK)
        fail_msg("0x0608 does not decode: %s (%s)", jt808_rc_name(e.rc), e.field ? e.field : "");
    assert_int_equal(dec.devs.n, 0);
    free(whole);
    return &dec;
}

static uint32_t u32(const struct jt808_lay_body *b, const char *path)
{
    uint32_t v = 0;
    if (!jt808_lay_get_u32(b, path, &v))
        fail_msg("no %s", path);
    return v;
}

/* The data of a 0x0608 of circles decoded as the 0x8600 body it is a list of; the
 * decoded tree is in m2 (whose arena holds it). */
static const struct jt808_lay_body *as_circles(const struct jt808_msg *q, struct jt808_msg *m2, enum jt808_version v)
{
    const uint8_t *data;
    size_t n;
    if (!jt808_lay_get_bytes(q->lay, "data", &data, &n))
        fail_msg("0x0608 without data");
    uint32_t count = u32(q->lay, "count");
    assert_true(count <= 255);
    uint8_t *body = malloc(n + 2);
    body[0] = 0;
    body[1] = (uint8_t)count;
    memcpy(body + 2, data, n);
    jt808_msg_free(m2);
    memset(m2, 0, sizeof *m2);
    m2->h.msg_id = 0x8600;
    m2->h.version = v;
    struct jt808_err e;
    if (jt808_lay_decode(body, n + 2, m2, &e) != JT808_OK)
        fail_msg("0x0608 data are not 0x8600 items: %s (%s)", jt808_rc_name(e.rc), e.field ? e.field : "");
    assert_null(m2->lay->trailing);
    free(body);
    return m2->lay;
}

static void check_circles(const struct jt808_lay_body *b, const struct circle *c, size_t n, bool v19)
{
    size_t got = 0;
    assert_true(jt808_lay_list_len(b, "areas", &got));
    assert_int_equal(got, n);
    char path[48], name[16];
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof path, "areas[%zu].id", i);
        assert_int_equal(u32(b, path), c[i].id);
        snprintf(path, sizeof path, "areas[%zu].attr", i);
        assert_int_equal(u32(b, path), c[i].attr);
        snprintf(path, sizeof path, "areas[%zu].lat", i);
        assert_int_equal(u32(b, path), c[i].lat);
        snprintf(path, sizeof path, "areas[%zu].lon", i);
        assert_int_equal(u32(b, path), c[i].lon);
        snprintf(path, sizeof path, "areas[%zu].radius", i);
        assert_int_equal(u32(b, path), c[i].radius);
        if (v19) {
            const char *s = NULL;
            snprintf(path, sizeof path, "areas[%zu].name", i);
            assert_true(jt808_lay_get_str(b, path, &s));
            snprintf(name, sizeof name, "zone %u", c[i].id);
            assert_string_equal(s, name);
        }
    }
}

/* The set attributes of 0x8600 (0 update, 1 append, 2 modify), each answered 0x0001,
 * as 0x8608 shows the store afterwards; in both editions. */
static void test_store_circles(void **state)
{
    (void)state;
    for (int e = 0; e < 2; e++) {
        struct dh *h = online(e ? 2019 : 2013);
        struct term *t = dh_term(h, 0, 0);
        struct fleet_stats *st = dh_stats(h, 0);
        enum jt808_version v = e ? JT808_V2019 : JT808_V2013;
        static struct jt808_msg m2;
        const struct circle c12[] = {{1, 0, 22500000, 114000000, 500}, {2, 0x28, 22510000, 114010000, 700}};
        assert_int_equal(set_circles(t, 0, c12, 2), 0);
        check_circles(as_circles(query(t, 1, NULL, 0), &m2, v), c12, 2, e);
        assert_int_equal(u32(dec.lay, "type"), 1);
        assert_int_equal(u32(dec.lay, "count"), 2);

        const struct circle c3[] = {{3, 0x08, 22520000, 114020000, 900}};
        assert_int_equal(set_circles(t, 1, c3, 1), 0); /* append */
        const struct circle c123[] = {c12[0], c12[1], c3[0]};
        check_circles(as_circles(query(t, 1, NULL, 0), &m2, v), c123, 3, e);

        const struct circle c2b[] = {{2, 0x10, 22530000, 114030000, 1234}};
        assert_int_equal(set_circles(t, 2, c2b, 1), 0); /* modify: id 2 in its place */
        const struct circle c12b3[] = {c12[0], c2b[0], c3[0]};
        check_circles(as_circles(query(t, 1, NULL, 0), &m2, v), c12b3, 3, e);

        /* the ids asked, in the order asked; one not stored left out, one asked twice once */
        const uint32_t ask[] = {3, 77, 1, 3};
        const struct circle c31[] = {c3[0], c12[0]};
        check_circles(as_circles(query(t, 1, ask, 4), &m2, v), c31, 2, e);
        assert_int_equal(u32(dec.lay, "count"), 2);

        /* an append of an id stored replaces it, as modify does */
        const struct circle c1b[] = {{1, 0, 1000000, 2000000, 5}};
        assert_int_equal(set_circles(t, 1, c1b, 1), 0);
        const struct circle c1b2b3[] = {c1b[0], c2b[0], c3[0]};
        check_circles(as_circles(query(t, 1, NULL, 0), &m2, v), c1b2b3, 3, e);

        /* update: these replace all circles, and only circles */
        static struct kvs k;
        k.n = 0;
        kv_u(&k, 5, "id");
        kv_u(&k, 0, "attr");
        for (int i = 0; i < 3; i++) {
            kv_u(&k, 22500000u + (uint32_t)i * 1000u, "vertices[%d].lat", i);
            kv_u(&k, 114000000u + (uint32_t)(i == 1) * 1000u, "vertices[%d].lon", i);
        }
        uint16_t q = send_lay(t, 0x8604, k.kv, k.n);
        assert_int_equal(answer(t, q, 0x8604), 0);
        const struct circle c9[] = {{9, 0, 22540000, 114040000, 100}};
        assert_int_equal(set_circles(t, 0, c9, 1), 0);
        check_circles(as_circles(query(t, 1, NULL, 0), &m2, v), c9, 1, e);
        query(t, 3, NULL, 0);
        assert_int_equal(u32(dec.lay, "count"), 1);

        /* a set attribute the standard does not have: result 2, nothing changed */
        assert_int_equal(set_circles(t, 3, c3, 1), 2);
        check_circles(as_circles(query(t, 1, NULL, 0), &m2, v), c9, 1, e);
        /* a latitude past 90°: result 2 */
        const struct circle bad[] = {{10, 0, 90000001, 0, 1}};
        assert_int_equal(set_circles(t, 1, bad, 1), 2);
        assert_int_equal(jt808_term_area_count(t, NULL), 2);
        assert_int_equal(st->dc[JT808_C_AREA_SETS], 6);
        assert_int_equal(st->dc[JT808_C_AREA_REFUSED], 2);
        jt808_msg_free(&m2);
        finish(h);
    }
}

/* Deletes: the listed ids of the kind; none listed: every one of the kind; other
 * kinds stay.  A store emptied is given back. */
static void test_store_delete(void **state)
{
    (void)state;
    struct dh *h = online(2013);
    struct term *t = dh_term(h, 0, 0);
    struct fleet_stats *st = dh_stats(h, 0);
    static struct jt808_msg m2;
    const struct circle c[] = {{1, 0, 22500000, 114000000, 500}, {2, 0, 22510000, 114010000, 700},
                               {3, 0, 22520000, 114020000, 900}};
    assert_int_equal(set_circles(t, 0, c, 3), 0);
    /* a rectangle with the same id 2 as a circle */
    const struct jt808_lay_kv rect[] = {
        {.path = "attr", .u = 0}, {.path = "areas[0].id", .u = 2}, {.path = "areas[0].attr", .u = 0},
        {.path = "areas[0].top_left_lat", .u = 22600000}, {.path = "areas[0].top_left_lon", .u = 114000000},
        {.path = "areas[0].bottom_right_lat", .u = 22500000}, {.path = "areas[0].bottom_right_lon", .u = 114100000}};
    uint16_t q = send_lay(t, 0x8602, rect, 7);
    assert_int_equal(answer(t, q, 0x8602), 0);
    /* a rectangle upside down is refused */
    const struct jt808_lay_kv flipped[] = {
        {.path = "attr", .u = 1}, {.path = "areas[0].id", .u = 3}, {.path = "areas[0].attr", .u = 0},
        {.path = "areas[0].top_left_lat", .u = 22500000}, {.path = "areas[0].top_left_lon", .u = 114000000},
        {.path = "areas[0].bottom_right_lat", .u = 22600000}, {.path = "areas[0].bottom_right_lon", .u = 114100000}};
    q = send_lay(t, 0x8602, flipped, 7);
    assert_int_equal(answer(t, q, 0x8602), 2);
    assert_int_equal(jt808_term_area_count(t, NULL), 4);

    const uint32_t two[] = {2, 42};
    assert_int_equal(delete_ids(t, 0x8601, two, 2), 0);
    const struct circle c13[] = {c[0], c[2]};
    check_circles(as_circles(query(t, 1, NULL, 0), &m2, JT808_V2013), c13, 2, false);
    query(t, 2, NULL, 0);
    assert_int_equal(u32(dec.lay, "count"), 1); /* the rectangle 2 stays */
    assert_int_equal(delete_ids(t, 0x8601, NULL, 0), 0);
    query(t, 1, NULL, 0);
    assert_int_equal(u32(dec.lay, "count"), 0);
    assert_int_equal(jt808_term_area_count(t, NULL), 1);
    assert_int_equal(delete_ids(t, 0x8603, NULL, 0), 0);
    assert_int_equal(jt808_term_area_count(t, NULL), 0);
    assert_null(jt_more(t, false)->areas); /* nothing kept for an empty store */
    /* deletes with nothing stored are answered all the same */
    assert_int_equal(delete_ids(t, 0x8607, two, 1), 0);
    assert_null(jt_more(t, false)->areas);
    assert_int_equal(st->dc[JT808_C_AREA_DELETES], 4);
    jt808_msg_free(&m2);
    finish(h);
}

/* Polygons and routes: one per message, replacing one of its id; 0x0608 holds their
 * bodies one after the other, each decoding as the 0x8604 / 0x8606 sent. */
static void test_store_polygon_route(void **state)
{
    (void)state;
    for (int e = 0; e < 2; e++) {
        struct dh *h = online(e ? 2019 : 2013);
        struct term *t = dh_term(h, 0, 0);
        enum jt808_version v = e ? JT808_V2019 : JT808_V2013;
        assert_int_equal(set_polygon(t, 7, 0x28, 22500000, 114000000, 4), 0);
        /* a polygon with times and a speed limit */
        static struct kvs k;
        k.n = 0;
        kv_u(&k, 8, "id");
        kv_u(&k, 0x03, "attr");
        kv_s(&k, "261203080000", "start");
        kv_s(&k, "261203180000", "end");
        kv_u(&k, 800, "max_speed");
        kv_u(&k, 10, "overspeed_duration");
        if (e) {
            kv_u(&k, 600, "night_max_speed");
            kv_s(&k, "yard", "name");
        }
        for (int i = 0; i < 3; i++) {
            kv_u(&k, 22600000u + (uint32_t)i * 1000u, "vertices[%d].lat", i);
            kv_u(&k, 114000000u + (uint32_t)(i == 1) * 1000u, "vertices[%d].lon", i);
        }
        uint16_t q = send_lay(t, 0x8604, k.kv, k.n);
        assert_int_equal(answer(t, q, 0x8604), 0);
        assert_int_equal(set_polygon(t, 7, 0x08, 22700000, 114000000, 6), 0); /* id 7 again: replaced */
        /* two polygons, in the order set, each a whole 0x8604 body */
        const struct jt808_msg *qm = query(t, 3, NULL, 0);
        assert_int_equal(u32(qm->lay, "count"), 2);
        const uint8_t *data;
        size_t n;
        assert_true(jt808_lay_get_bytes(qm->lay, "data", &data, &n));
        uint8_t copy[4096];
        assert_true(n <= sizeof copy);
        memcpy(copy, data, n);
        static struct jt808_msg p;
        memset(&p, 0, sizeof p);
        p.h.msg_id = 0x8604;
        p.h.version = v;
        struct jt808_err err;
        assert_int_equal(jt808_lay_decode(copy, n, &p, &err), JT808_OK);
        assert_int_equal(u32(p.lay, "id"), 7);
        assert_int_equal(u32(p.lay, "attr"), 0x08);
        assert_int_equal(u32(p.lay, "vertex_count"), 6);
        assert_int_equal(u32(p.lay, "vertices[0].lat"), 22700000 - 1000);
        assert_non_null(p.lay->trailing); /* the second body follows */
        size_t first = n - p.lay->n_trailing;
        jt808_msg_free(&p);
        memset(&p, 0, sizeof p);
        p.h.msg_id = 0x8604;
        p.h.version = v;
        assert_int_equal(jt808_lay_decode(copy + first, n - first, &p, &err), JT808_OK);
        assert_null(p.lay->trailing);
        assert_int_equal(u32(p.lay, "id"), 8);
        assert_int_equal(u32(p.lay, "max_speed"), 800);
        assert_int_equal(u32(p.lay, "overspeed_duration"), 10);
        const char *s = NULL;
        assert_true(jt808_lay_get_str(p.lay, "start", &s));
        assert_string_equal(s, "261203080000");
        assert_true(jt808_lay_get_str(p.lay, "end", &s));
        assert_string_equal(s, "261203180000");
        assert_int_equal(u32(p.lay, "vertices[1].lon"), 114001000);
        if (e) {
            assert_int_equal(u32(p.lay, "night_max_speed"), 600);
            assert_true(jt808_lay_get_str(p.lay, "name", &s));
            assert_string_equal(s, "yard");
        }
        jt808_msg_free(&p);

        /* a route: points with their own attributes (segment thresholds, west) */
        const struct jt808_lay_kv route[] = {
            {.path = "id", .u = 4}, {.path = "attr", .u = 0x20},
            {.path = "points[0].point_id", .u = 1}, {.path = "points[0].road_id", .u = 11},
            {.path = "points[0].lat", .u = 22500000}, {.path = "points[0].lon", .u = 114000000},
            {.path = "points[0].width", .u = 20}, {.path = "points[0].attr", .u = 0x01},
            {.path = "points[0].long_threshold", .u = 600}, {.path = "points[0].short_threshold", .u = 30},
            {.path = "points[1].point_id", .u = 2}, {.path = "points[1].road_id", .u = 12},
            {.path = "points[1].lat", .u = 22510000}, {.path = "points[1].lon", .u = 114000000},
            {.path = "points[1].width", .u = 30}, {.path = "points[1].attr", .u = 0x08}};
        q = send_lay(t, 0x8606, route, sizeof route / sizeof route[0]);
        assert_int_equal(answer(t, q, 0x8606), 0);
        const struct jt808_lay_kv empty_route[] = {{.path = "id", .u = 5}, {.path = "attr", .u = 0}};
        q = send_lay(t, 0x8606, empty_route, 2);
        assert_int_equal(answer(t, q, 0x8606), 2); /* a route without points */
        qm = query(t, 4, NULL, 0);
        assert_int_equal(u32(qm->lay, "count"), 1);
        assert_true(jt808_lay_get_bytes(qm->lay, "data", &data, &n));
        memcpy(copy, data, n);
        memset(&p, 0, sizeof p);
        p.h.msg_id = 0x8606;
        p.h.version = v;
        assert_int_equal(jt808_lay_decode(copy, n, &p, &err), JT808_OK);
        assert_null(p.lay->trailing);
        assert_int_equal(u32(p.lay, "id"), 4);
        assert_int_equal(u32(p.lay, "attr"), 0x20);
        assert_int_equal(u32(p.lay, "point_count"), 2);
        assert_int_equal(u32(p.lay, "points[0].long_threshold"), 600);
        assert_int_equal(u32(p.lay, "points[0].short_threshold"), 30);
        assert_int_equal(u32(p.lay, "points[1].road_id"), 12);
        assert_int_equal(u32(p.lay, "points[1].width"), 30);
        assert_int_equal(u32(p.lay, "points[1].attr"), 0x08);
        jt808_msg_free(&p);

        /* an unknown query type: result 2 */
        const struct jt808_lay_kv bad[] = {{.path = "type", .u = 5}};
        q = send_lay(t, 0x8608, bad, 1);
        assert_int_equal(answer(t, q, 0x8608), 2);
        finish(h);
    }
}

/* The caps: 1024 items, 60 KiB of item bytes; a set that would pass either is refused
 * whole (result 1, counted) and changes nothing.  A 0x0608 of 60 KiB goes in
 * subpackages and reassembles into every polygon. */
static void test_caps(void **state)
{
    (void)state;
    struct dh *h = online(2013);
    struct term *t = dh_term(h, 0, 0);
    struct fleet_stats *st = dh_stats(h, 0);
    static struct circle c[255];
    uint32_t id = 1;
    size_t held0 = jt808_term_held(t);
    /* 51 circles of 18 bytes a message: 20 messages */
    for (int round = 0; round < 20; round++) {
        for (int i = 0; i < 51; i++)
            c[i] = (struct circle){id++, 0, 22500000, 114000000, 100};
        assert_int_equal(set_circles(t, round ? 1 : 0, c, 51), 0);
    }
    assert_int_equal(jt808_term_area_count(t, NULL), 1020);
    /* what the terminal holds counts the store: at least each item's bytes and centre */
    assert_true(jt808_term_held(t) >= held0 + 1020 * (18 + sizeof(struct jt808_pt)));
    assert_true(jt808_term_held(t) <= JT808_TERM_HELD_MAX);
    for (int i = 0; i < 5; i++)
        c[i] = (struct circle){id++, 0, 22500000, 114000000, 100};
    assert_int_equal(set_circles(t, 1, c, 5), 1); /* 1025 */
    assert_int_equal(jt808_term_area_count(t, NULL), 1020);
    assert_int_equal(st->dc[JT808_C_AREA_REFUSED], 1);
    assert_int_equal(set_circles(t, 1, c, 4), 0); /* 1024 */
    /* modifying stored ones when full is fine */
    c[0].radius = 999;
    assert_int_equal(set_circles(t, 2, c, 1), 0);
    assert_int_equal(set_polygon(t, 1, 0, 22500000, 114000000, 3), 1);
    assert_int_equal(delete_ids(t, 0x8601, NULL, 0), 0);
    assert_int_equal(jt808_term_area_count(t, NULL), 0);

    /* bytes: polygons of 124 vertices are 2 + 4 + 2 + 124 * 8 = 1000 bytes each */
    size_t bytes = 0;
    for (uint32_t p = 1; p <= 61; p++)
        assert_int_equal(set_polygon(t, p, 0, 22500000, 114000000, 124), 0);
    assert_int_equal(jt808_term_area_count(t, &bytes), 61);
    assert_int_equal(bytes, 61000);
    assert_int_equal(set_polygon(t, 62, 0, 22500000, 114000000, 124), 1);
    assert_int_equal(st->dc[JT808_C_AREA_REFUSED], 3);
    assert_int_equal(set_polygon(t, 61, 0, 22500000, 114000000, 50), 0); /* smaller in its place */
    assert_int_equal(set_polygon(t, 62, 0, 22500000, 114000000, 124), 0);
    assert_int_equal(jt808_term_area_count(t, &bytes), 62);
    assert_int_equal(bytes, 60000 + 408 + 1000);
    assert_true(jt808_term_held(t) >= held0 + bytes + (61 * 124 + 50) * sizeof(struct jt808_pt));
    assert_true(jt808_term_held(t) <= JT808_TERM_HELD_MAX);

    const struct jt808_msg *q = query(t, 3, NULL, 0);
    assert_int_equal(u32(q->lay, "count"), 62);
    const uint8_t *data;
    size_t n;
    assert_true(jt808_lay_get_bytes(q->lay, "data", &data, &n));
    assert_int_equal(n, bytes);
    uint8_t *copy = malloc(n);
    memcpy(copy, data, n);
    size_t off = 0;
    for (uint32_t p = 1; p <= 62; p++) {
        static struct jt808_msg pm;
        memset(&pm, 0, sizeof pm);
        pm.h.msg_id = 0x8604;
        pm.h.version = JT808_V2013;
        struct jt808_err err;
        assert_int_equal(jt808_lay_decode(copy + off, n - off, &pm, &err), JT808_OK);
        assert_int_equal(u32(pm.lay, "id"), p);
        assert_int_equal(u32(pm.lay, "vertex_count"), p == 61 ? 50 : 124);
        off = n - pm.lay->n_trailing;
        jt808_msg_free(&pm);
    }
    assert_int_equal(off, n);
    free(copy);
    finish(h);
}

/* --- alarms ------------------------------------------------------------------------------- */

struct report {
    uint16_t serial;
    uint32_t alarm;
    int n12;
    uint8_t type[8], dir[8];
    uint32_t id[8];
};

/* Run to the next 0x0200 (at most 11 s on), the terminal at (lat, lon) for it. */
static struct report next_report(struct dh *h, struct term *t, int32_t lat, int32_t lon)
{
    JT(t)->lat = lat;
    JT(t)->lon = lon;
    struct report r = {0};
    uint64_t until = clock_now_us() + 11 * S;
    struct sent s = {0};
    while (clock_now_us() < until) {
        dh_run_to(h, clock_now_us() + S / 10);
        sent_take(&s, t);
        const struct jt808_msg *m = sent_next(&s);
        if (!m)
            continue;
        assert_int_equal(m->h.msg_id, 0x0200);
        r.serial = m->h.serial;
        r.alarm = m->b.loc.alarm;
        for (int i = 0; i < m->b.loc.n_items; i++) {
            const struct jt808_loc_item *it = &m->b.loc.items[i];
            if (it->id != 0x12)
                continue;
            assert_int_equal(it->len, 6);
            assert_true(r.n12 < 8);
            r.type[r.n12] = it->raw[0];
            r.id[r.n12] = (uint32_t)it->raw[1] << 24 | (uint32_t)it->raw[2] << 16 | (uint32_t)it->raw[3] << 8 |
                          it->raw[4];
            r.dir[r.n12] = it->raw[5];
            r.n12++;
        }
        want_none(&s);
        sent_free(&s);
        return r;
    }
    fail_msg("no 0x0200 within 11 s");
    return r;
}

#define LAT0 22500000
#define LON0 114000000

/* Entering and leaving: bit 20 and item 0x12 in the report that crosses, the bit held
 * until a report carrying it is acknowledged; only areas asking for a platform alarm
 * on that side raise one. */
static void test_alarm_circle(void **state)
{
    (void)state;
    struct dh *h = online(2013);
    struct term *t = dh_term(h, 0, 0);
    struct fleet_stats *st = dh_stats(h, 0);
    JT(t)->lat = LAT0 + 50000; /* outside while the areas are set */
    JT(t)->lon = LON0;
    /* 1: alarms both ways; 2: entering only, to the driver (no platform alarm); 3: leaving only */
    const struct circle c[] = {{1, JT808_AREA_IN_PLATFORM | JT808_AREA_OUT_PLATFORM, LAT0, LON0, 200},
                               {2, JT808_AREA_IN_DRIVER | JT808_AREA_OUT_DRIVER, LAT0, LON0, 300},
                               {3, JT808_AREA_OUT_PLATFORM, LAT0, LON0, 400}};
    assert_int_equal(set_circles(t, 0, c, 3), 0);
    struct report r = next_report(h, t, LAT0 + 50000, LON0);
    assert_int_equal(r.n12, 0);
    assert_int_equal(r.alarm & JT808_ALARM_AREA, 0);
    ack(t, r.serial, 0x0200);
    /* into all three: only area 1 reports entering */
    r = next_report(h, t, LAT0, LON0);
    assert_int_equal(r.n12, 1);
    assert_int_equal(r.type[0], 1);
    assert_int_equal(r.id[0], 1);
    assert_int_equal(r.dir[0], 0);
    assert_true(r.alarm & JT808_ALARM_AREA);
    assert_int_equal(r.alarm & JT808_ALARM_ROUTE, 0);
    /* not acknowledged: the bit stays, without a new item */
    r = next_report(h, t, LAT0, LON0);
    assert_int_equal(r.n12, 0);
    assert_true(r.alarm & JT808_ALARM_AREA);
    ack(t, r.serial, 0x0200);
    r = next_report(h, t, LAT0, LON0);
    assert_int_equal(r.alarm & JT808_ALARM_AREA, 0);
    ack(t, r.serial, 0x0200);
    /* 250 m north (2.25e-3 degree = 250.2 m): out of 1, still in 2 and 3 */
    r = next_report(h, t, LAT0 + 2250, LON0);
    assert_int_equal(r.n12, 1);
    assert_int_equal(r.id[0], 1);
    assert_int_equal(r.dir[0], 1);
    assert_true(r.alarm & JT808_ALARM_AREA);
    ack(t, r.serial, 0x0200);
    /* far out: area 3 reports leaving */
    r = next_report(h, t, LAT0 + 50000, LON0);
    assert_int_equal(r.n12, 1);
    assert_int_equal(r.id[0], 3);
    assert_int_equal(r.dir[0], 1);
    ack(t, r.serial, 0x0200);
    /* in and out of all in one step each: both sides of area 1 and area 3's leaving */
    r = next_report(h, t, LAT0, LON0);
    assert_int_equal(r.n12, 1);
    ack(t, r.serial, 0x0200);
    r = next_report(h, t, LAT0 - 50000, LON0);
    assert_int_equal(r.n12, 2);
    assert_int_equal(r.id[0], 1);
    assert_int_equal(r.id[1], 3);
    assert_int_equal(st->dc[JT808_C_AREA_ALARMS], 6);
    /* 0x8203 confirming bit 20 clears it as an acknowledgement does */
    const struct jt808_lay_kv conf[] = {{.path = "ack_serial", .u = 0}, {.path = "alarm_type", .u = JT808_ALARM_AREA}};
    uint16_t q = send_lay(t, 0x8203, conf, 2);
    assert_int_equal(answer(t, q, 0x8203), 0);
    r = next_report(h, t, LAT0 - 50000, LON0);
    assert_int_equal(r.alarm & JT808_ALARM_AREA, 0);
    /* a new area the terminal is already in: entering on the next report */
    const struct circle c4[] = {{4, JT808_AREA_IN_PLATFORM, LAT0 - 50000, LON0, 10}};
    assert_int_equal(set_circles(t, 1, c4, 1), 0);
    r = next_report(h, t, LAT0 - 50000, LON0);
    assert_int_equal(r.n12, 1);
    assert_int_equal(r.id[0], 4);
    assert_int_equal(r.dir[0], 0);
    finish(h);
}

/* Each shape raises its own type; a route bit 21; south and west coordinates. */
static void test_alarm_shapes(void **state)
{
    (void)state;
    struct dh *h = online(2019);
    struct term *t = dh_term(h, 0, 0);
    uint32_t both = JT808_AREA_IN_PLATFORM | JT808_AREA_OUT_PLATFORM;
    /* a rectangle in the south-west: 33.9° S .. 33.8° S, 151.3° W .. 151.2° W */
    const struct jt808_lay_kv rect[] = {
        {.path = "attr", .u = 0}, {.path = "areas[0].id", .u = 20},
        {.path = "areas[0].attr", .u = both | JT808_AREA_SOUTH | JT808_AREA_WEST},
        {.path = "areas[0].top_left_lat", .u = 33800000}, {.path = "areas[0].top_left_lon", .u = 151300000},
        {.path = "areas[0].bottom_right_lat", .u = 33900000}, {.path = "areas[0].bottom_right_lon", .u = 151200000},
        {.path = "areas[0].name", .s = "box"}};
    uint16_t q = send_lay(t, 0x8602, rect, 8);
    assert_int_equal(answer(t, q, 0x8602), 0);
    /* a concave polygon (the U of test_polygon, around 0, 0) */
    static struct kvs k;
    k.n = 0;
    kv_u(&k, 30, "id");
    kv_u(&k, both, "attr");
    const int32_t u[8][2] = {{0, 0}, {0, 3000}, {3000, 3000}, {3000, 2000}, {1000, 2000}, {1000, 1000}, {3000, 1000}, {3000, 0}};
    for (int i = 0; i < 8; i++) {
        kv_u(&k, (uint32_t)u[i][0], "vertices[%d].lat", i);
        kv_u(&k, (uint32_t)u[i][1], "vertices[%d].lon", i);
    }
    q = send_lay(t, 0x8604, k.kv, k.n);
    assert_int_equal(answer(t, q, 0x8604), 0);
    /* a route north from (10°, 10°) for 1e-2 degree, 40 m wide */
    const struct jt808_lay_kv route[] = {
        {.path = "id", .u = 40}, {.path = "attr", .u = both},
        {.path = "points[0].lat", .u = 10000000}, {.path = "points[0].lon", .u = 10000000},
        {.path = "points[0].width", .u = 40}, {.path = "points[1].lat", .u = 10010000},
        {.path = "points[1].lon", .u = 10000000}};
    q = send_lay(t, 0x8606, route, sizeof route / sizeof route[0]);
    assert_int_equal(answer(t, q, 0x8606), 0);

    struct report r = next_report(h, t, -33850000, -151250000);
    assert_int_equal(r.n12, 1);
    assert_int_equal(r.type[0], 2);
    assert_int_equal(r.id[0], 20);
    assert_true(r.alarm & JT808_ALARM_AREA);
    ack(t, r.serial, 0x0200);
    r = next_report(h, t, -33850000, 151250000); /* the same longitude east: out */
    assert_int_equal(r.n12, 1);
    assert_int_equal(r.dir[0], 1);
    ack(t, r.serial, 0x0200);
    r = next_report(h, t, 2000, 1500); /* the notch of the U */
    assert_int_equal(r.n12, 0);
    r = next_report(h, t, 2000, 2500); /* its right arm */
    assert_int_equal(r.n12, 1);
    assert_int_equal(r.type[0], 3);
    assert_int_equal(r.id[0], 30);
    assert_int_equal(r.dir[0], 0);
    ack(t, r.serial, 0x0200);
    r = next_report(h, t, 10005000, 10000000 + 150); /* 16 m east of the route */
    assert_int_equal(r.n12, 2); /* out of the polygon, onto the route */
    assert_int_equal(r.type[0], 3);
    assert_int_equal(r.dir[0], 1);
    assert_int_equal(r.type[1], 4);
    assert_int_equal(r.id[1], 40);
    assert_int_equal(r.dir[1], 0);
    assert_true(r.alarm & JT808_ALARM_ROUTE);
    ack(t, r.serial, 0x0200);
    r = next_report(h, t, 10005000, 10000000 + 200); /* 22 m: off it */
    assert_int_equal(r.n12, 1);
    assert_int_equal(r.type[0], 4);
    assert_int_equal(r.dir[0], 1);
    assert_true(r.alarm & JT808_ALARM_ROUTE);
    assert_int_equal(r.alarm & JT808_ALARM_AREA, 0);
    assert_int_equal(dh_stats(h, 0)->dc[JT808_C_AREA_ALARMS], 6);
    finish(h);
}

/* An area with times (attribute bit 0) counts only between them (GMT+8 report time). */
static void test_alarm_timed(void **state)
{
    (void)state;
    struct dh *h = online(2013);
    struct term *t = dh_term(h, 0, 0);
    /* a window from 30 s to 60 s of virtual time from now */
    char from[13], to[13];
    jt808_time_text(clock_unix_at(clock_now_us() + 30 * S), from);
    jt808_time_text(clock_unix_at(clock_now_us() + 60 * S), to);
    JT(t)->lat = LAT0;
    JT(t)->lon = LON0;
    const struct jt808_lay_kv kv[] = {
        {.path = "attr", .u = 0}, {.path = "areas[0].id", .u = 1},
        {.path = "areas[0].attr", .u = JT808_AREA_TIMED | JT808_AREA_IN_PLATFORM | JT808_AREA_OUT_PLATFORM},
        {.path = "areas[0].lat", .u = LAT0}, {.path = "areas[0].lon", .u = LON0},
        {.path = "areas[0].radius", .u = 100}, {.path = "areas[0].start", .s = from},
        {.path = "areas[0].end", .s = to}};
    uint16_t q = send_lay(t, 0x8600, kv, 8);
    assert_int_equal(answer(t, q, 0x8600), 0);
    uint64_t t0 = clock_now_us();
    int entered = -1, left = -1;
    for (int i = 0; i < 10; i++) {
        struct report r = next_report(h, t, LAT0, LON0);
        uint64_t at = clock_now_us() - t0;
        if (r.n12) {
            if (r.dir[0] == 0) {
                entered = (int)(at / S);
            } else {
                left = (int)(at / S);
            }
        }
        ack(t, r.serial, 0x0200);
    }
    /* reports every 10 s: the first at or after 30 s enters, the first after 60 s leaves */
    assert_true(entered >= 30 && entered < 40);
    assert_true(left > 60 && left <= 70);
    finish(h);
}

/* Terminals that never get an area keep no state for it, and their reports carry no
 * alarm. */
static void test_no_state(void **state)
{
    (void)state;
    struct dh *h = online(2013);
    struct term *t = dh_term(h, 0, 0);
    struct report r = next_report(h, t, LAT0, LON0);
    assert_int_equal(r.n12, 0);
    assert_int_equal(r.alarm, 0);
    assert_int_equal(JT(t)->more, 0);
    /* a query with nothing stored: an empty 0x0608, still no state */
    const struct jt808_msg *m = query(t, 2, NULL, 0);
    assert_int_equal(u32(m->lay, "type"), 2);
    assert_int_equal(u32(m->lay, "count"), 0);
    assert_int_equal(JT(t)->more, 0);
    finish(h);
}

/* --- subpackaged 0x0608: kept for 0x8003, encrypted package by package ---------------- */

#define RSA_TEST_KEY "tests/data/jt808-rsa-test-key.pem"
#define MAXPK 16

/* The packages of one subpackaged 0x0608 as the terminal sent them. */
struct pk_set {
    uint8_t frame[MAXPK][JT808_MAX_FRAME];
    size_t len[MAXPK];
    uint8_t enc[MAXPK];
    size_t n;
    uint16_t first;
};

static struct pk_set got, again;

/* 0x8608 of type 3 (polygons) and the packages it is answered with, each checked
 * (consecutive serials, index, total, a body that fits a frame), decrypted with k when
 * it says it is encrypted, reassembled and decoded into dec (jt808_reasm_decode: its
 * deviations kept in dec.devs). */
static void query_packages(struct term *t, EVP_PKEY *k, struct pk_set *ps)
{
    const struct jt808_lay_kv kv[] = {{.path = "type", .u = 3}};
    send_lay(t, 0x8608, kv, 1);
    struct sent s = {0};
    sent_take(&s, t);
    struct jt808_reasm r;
    jt808_reasm_init(&r, 256 * 1024, 60000);
    static uint8_t pscratch[2 * JT808_MAX_FRAME];
    static struct jt808_msg pm;
    bool done = false;
    uint8_t *whole = NULL;
    size_t whole_len = 0;
    struct jt808_header last = {0};
    memset(ps, 0, sizeof *ps);
    while (!done && sent_next(&s)) {
        assert_int_equal(rx.h.msg_id, 0x0608);
        assert_true(rx.h.subpackage);
        assert_true(ps->n < MAXPK);
        assert_int_equal(rx.h.pkg_index, ps->n + 1);
        assert_true(rx.body_bytes <= JT808_MAX_BODY);
        if (ps->n == 0)
            ps->first = rx.h.serial;
        assert_int_equal(rx.h.serial, (uint16_t)(ps->first + ps->n));
        memcpy(ps->frame[ps->n], s.frame, s.frame_len);
        ps->len[ps->n] = s.frame_len;
        ps->enc[ps->n] = rx.h.encryption;
        ps->n++;
        struct jt808_err e;
        memset(&pm.h, 0, sizeof pm.h);
        assert_int_equal(jt808_rsa_decode(s.frame, s.frame_len, pscratch, sizeof pscratch, k, &pm, &e), JT808_OK);
        assert_int_equal(pm.rsa_plain, pm.h.encryption == JT808_ENC_RSA);
        if (pm.h.encryption == JT808_ENC_RSA) /* 128 bytes a started block of 117 */
            assert_int_equal(rx.body_bytes, jt808_rsa_cipher_len(pm.body_bytes));
        last = pm.h;
        assert_int_equal(jt808_reasm_feed(&r, &pm.h, pm.body, pm.body_bytes, 0, &done, &whole, &whole_len, &e),
                         JT808_OK);
    }
    want_none(&s);
    sent_free(&s);
    if (!done)
        fail_msg("no whole 0x0608 (%zu packages)", ps->n);
    assert_int_equal(ps->n, last.pkg_total);
    jt808_msg_free(&dec);
    memset(&dec, 0, sizeof dec);
    struct jt808_err e;
    if (jt808_reasm_decode(&r, &last, whole, whole_len, &dec, &e) != JT808_OK)
        fail_msg("0x0608 does not decode: %s (%s)", jt808_rc_name(e.rc), e.field ? e.field : "");
    dec.body = NULL; /* whole goes */
    free(whole);
    jt808_reasm_free(&r);
    jt808_msg_free(&pm);
}

/* 0x8003 for the message of first naming ids: what the terminal sends back into ps. */
static void resend_8003(struct term *t, uint16_t first, const uint32_t *ids, size_t n, struct pk_set *ps)
{
    static struct kvs k;
    k.n = 0;
    kv_u(&k, first, "orig_serial");
    for (size_t i = 0; i < n; i++)
        kv_u(&k, ids[i], "ids[%zu].id", i);
    send_lay(t, 0x8003, k.kv, k.n);
    struct sent s = {0};
    sent_take(&s, t);
    memset(ps, 0, sizeof *ps);
    while (sent_next(&s)) {
        assert_true(ps->n < MAXPK);
        memcpy(ps->frame[ps->n], s.frame, s.frame_len);
        ps->len[ps->n] = s.frame_len;
        ps->n++;
    }
    sent_free(&s);
}

/* The frame of ps must be package index of got, byte for byte. */
static void same_package(const struct pk_set *ps, size_t i, unsigned index)
{
    assert_true(i < ps->n);
    assert_true(index >= 1 && index <= got.n);
    assert_int_equal(ps->len[i], got.len[index - 1]);
    assert_memory_equal(ps->frame[i], got.frame[index - 1], got.len[index - 1]);
}

/* The one 0x0001 in ps answering (serial, 0x8003): its result. */
static int resend_refused(const struct pk_set *ps, uint16_t serial)
{
    assert_int_equal(ps->n, 1);
    struct jt808_msg m;
    memset(&m, 0, sizeof m);
    static uint8_t sc[JT808_MAX_FRAME];
    struct jt808_err e;
    assert_int_equal(jt808_decode(ps->frame[0], ps->len[0], sc, sizeof sc, &m, &e), JT808_OK);
    assert_int_equal(m.h.msg_id, 0x0001);
    assert_int_equal(m.b.gen_resp.ack_serial, serial);
    assert_int_equal(m.b.gen_resp.ack_id, 0x8003);
    int r = m.b.gen_resp.result;
    jt808_msg_free(&m);
    return r;
}

/* A subpackaged 0x0608 is kept as sent: 0x8003 naming its packages gets exactly those
 * again, byte for byte, in the order listed, each once however often listed; ids of
 * none of its packages are a bad message (result 2); another message's serial, or the
 * same after the connection went, is no longer held (result 1). */
static void test_query_resend_8003(void **state)
{
    (void)state;
    struct dh *h = online(2013);
    struct term *t = dh_term(h, 0, 0);
    struct fleet_stats *st = dh_stats(h, 0);
    for (uint32_t id = 1; id <= 3; id++) /* 3 x 968 bytes: 3 packages of 1000 */
        assert_int_equal(set_polygon(t, id, 0, 22500000 + id * 10000, 114000000, 120), 0);
    query_packages(t, NULL, &got);
    assert_int_equal(got.n, 3);
    assert_int_equal(u32(dec.lay, "count"), 3);
    assert_int_equal(dec.devs.total, 0);
    for (size_t i = 0; i < got.n; i++)
        assert_int_equal(got.enc[i], 0);

    const uint32_t ids[] = {3, 1, 3, 9};
    resend_8003(t, got.first, ids, 4, &again);
    assert_int_equal(again.n, 2);
    same_package(&again, 0, 3);
    same_package(&again, 1, 1);
    assert_int_equal(st->dc[JT808_C_PKGS_RESENT], 2);
    const uint32_t two[] = {2};
    resend_8003(t, got.first, two, 1, &again);
    assert_int_equal(again.n, 1);
    same_package(&again, 0, 2);
    assert_int_equal(st->dc[JT808_C_PKGS_RESENT], 3);

    const uint32_t none[] = {4, 0};
    uint16_t q = pserial;
    resend_8003(t, got.first, none, 2, &again);
    assert_int_equal(resend_refused(&again, q), 2);
    q = pserial;
    resend_8003(t, (uint16_t)(got.first + 40), two, 1, &again);
    assert_int_equal(resend_refused(&again, q), 1);
    assert_true(jt808_term_held(t) <= JT808_TERM_HELD_MAX);
    jt808_term_area_forget(t); /* the connection went */
    q = pserial;
    resend_8003(t, got.first, two, 1, &again);
    assert_int_equal(resend_refused(&again, q), 1);
    assert_int_equal(st->dc[JT808_C_PKGS_RESENT], 3);
    finish(h);
}

/* 0x8A00 with the test key's public half; the terminal's key from its 0x0A00. */
static EVP_PKEY *exchange(struct term *t, EVP_PKEY *plat)
{
    uint32_t e = 0;
    uint8_t n[JT808_RSA_N_BYTES];
    char err[256];
    assert_int_equal(jt808_rsa_public(plat, &e, n), 0);
    const struct jt808_lay_kv kv[] = {{.path = "e", .u = e}, {.path = "n", .p = n, .n = sizeof n}};
    send_lay(t, 0x8A00, kv, 2);
    struct sent s = {0};
    sent_take(&s, t);
    const struct jt808_msg *m = want(&s, 0x0A00);
    const uint8_t *tn = NULL;
    size_t tl = 0;
    uint32_t te = 0;
    assert_true(jt808_lay_get_u32(m->lay, "e", &te) && jt808_lay_get_bytes(m->lay, "n", &tn, &tl));
    assert_int_equal(tl, JT808_RSA_N_BYTES);
    EVP_PKEY *k = jt808_rsa_from_public(te, tn, err, sizeof err);
    assert_non_null(k);
    want_none(&s);
    sent_free(&s);
    return k;
}

/* Fleet option rsa after-exchange: a 0x0608 over 819 bytes goes in packages each
 * encrypted on its own (819 bytes of plaintext at most, 128 bytes a block), which
 * decrypt with the platform's key and reassemble into the very 0x0608 sent in the
 * clear before the exchange; 0x8003 gets the same ciphertext again.  The other way, a
 * subpackaged 0x8604 encrypted package by package for the terminal is decrypted,
 * reassembled and applied. */
static void test_query_rsa(void **state)
{
    (void)state;
    char err[256];
    EVP_PKEY *plat = jt808_rsa_load(RSA_TEST_KEY, err, sizeof err);
    if (!plat)
        fail_msg("%s", err);
    struct dh *h = online_x(2019, ", \"rsa\": \"after-exchange\"");
    struct term *t = dh_term(h, 0, 0);
    struct fleet_stats *st = dh_stats(h, 0);
    for (uint32_t id = 1; id <= 3; id++)
        assert_int_equal(set_polygon(t, id, 0, 22500000 + id * 10000, 114000000, 120), 0);
    query_packages(t, NULL, &got);
    assert_int_equal(got.n, 3); /* in the clear: 1000 bytes a package */
    const uint8_t *data = NULL;
    size_t dn = 0;
    assert_true(jt808_lay_get_bytes(dec.lay, "data", &data, &dn));
    static uint8_t clear[4096];
    assert_true(dn <= sizeof clear);
    memcpy(clear, data, dn);
    size_t clear_n = dn;

    EVP_PKEY *term_pub = exchange(t, plat);
    uint64_t enc0 = st->dc[JT808_C_RSA_ENCRYPTED];
    query_packages(t, plat, &got);
    size_t body_n = 5 + clear_n; /* type, count, then the polygons; 2019: as laid out */
    assert_int_equal(got.n, (body_n + JT808_RSA_MAX_PLAIN - 1) / JT808_RSA_MAX_PLAIN);
    for (size_t i = 0; i < got.n; i++)
        assert_int_equal(got.enc[i], JT808_ENC_RSA);
    assert_int_equal(dec.h.encryption, JT808_ENC_RSA);
    assert_true(dec.rsa_plain);
    assert_int_equal(dec.devs.total, 0);
    assert_int_equal(u32(dec.lay, "count"), 3);
    assert_true(jt808_lay_get_bytes(dec.lay, "data", &data, &dn));
    assert_int_equal(dn, clear_n);
    assert_memory_equal(data, clear, dn);
    assert_int_equal(st->dc[JT808_C_RSA_ENCRYPTED] - enc0, got.n);
    assert_int_equal(st->dc[JT808_C_RSA_CLEAR], 0);

    const uint32_t ids[] = {got.n, 1};
    resend_8003(t, got.first, ids, 2, &again);
    assert_int_equal(again.n, 2);
    same_package(&again, 0, (unsigned)got.n);
    same_package(&again, 1, 1);

    /* the platform's subpackaged 0x8604, encrypted for the terminal package by package */
    static struct kvs k;
    k.n = 0;
    kv_u(&k, 9, "id");
    kv_u(&k, 0, "attr");
    for (int i = 0; i < 110; i++) {
        kv_u(&k, 23000000u + (uint32_t)(i % 2) * 1000u, "vertices[%d].lat", i);
        kv_u(&k, 114000000u + (uint32_t)i * 100u, "vertices[%d].lon", i);
    }
    struct jt808_header hd = platform_header(t, 0x8604);
    struct jt808_err e;
    assert_int_equal(jt808_lay_build(&tx, &hd, k.kv, k.n, &e), JT808_OK);
    static uint8_t body[2048];
    size_t n = 0;
    assert_int_equal(jt808_body_encode(&tx, body, sizeof body, &n, &e), JT808_OK);
    assert_true(n > JT808_RSA_MAX_PLAIN);
    struct jt808_pkgs *pk = jt808_pkgs_make(term_pub, JT808_PKGS_ALL, &hd, hd.serial, body, n, JT808_PKGS_RSA_CHUNK, &e);
    assert_non_null(pk);
    assert_int_equal(pk->total, 2);
    pserial = (uint16_t)(hd.serial + pk->total);
    uint64_t dec0 = st->dc[JT808_C_RSA_DECRYPTED];
    size_t items = jt808_term_area_count(t, NULL);
    for (unsigned i = 1; i <= pk->total; i++) {
        static uint8_t f[JT808_MAX_FRAME];
        size_t fl = 0;
        assert_int_equal(jt808_pkgs_frame(pk, i, f, sizeof f, &fl, &e), JT808_OK);
        term_input(t, f, fl);
    }
    assert_int_equal(st->dc[JT808_C_RSA_DECRYPTED] - dec0, 2);
    assert_int_equal(jt808_term_area_count(t, NULL), items + 1);
    /* each package answered, encrypted for the platform: the last one's answer is the message's */
    struct sent s = {0};
    sent_take(&s, t);
    static uint8_t pscratch[2 * JT808_MAX_FRAME];
    static struct jt808_msg pm;
    for (unsigned i = 0; i < pk->total; i++) {
        want(&s, 0x0001);
        assert_int_equal(rx.h.encryption, JT808_ENC_RSA);
        assert_int_equal(jt808_rsa_decode(s.frame, s.frame_len, pscratch, sizeof pscratch, plat, &pm, &e), JT808_OK);
        assert_int_equal(pm.b.gen_resp.ack_serial, (uint16_t)(hd.serial + i));
        assert_int_equal(pm.b.gen_resp.result, 0);
    }
    want_none(&s);
    sent_free(&s);
    jt808_msg_free(&pm);
    jt808_pkgs_free(pk);
    EVP_PKEY_free(term_pub);
    EVP_PKEY_free(plat);
    finish(h);
}

/* Fleet option deviate mixed-encryption: every other package goes in the clear; the
 * reassembled message reads so and carries one mixed-encryption deviation where the
 * first clear package starts. */
static void test_query_mixed(void **state)
{
    (void)state;
    char err[256];
    EVP_PKEY *plat = jt808_rsa_load(RSA_TEST_KEY, err, sizeof err);
    if (!plat)
        fail_msg("%s", err);
    struct dh *h = online_x(2013, ", \"rsa\": \"after-exchange\", "
                                  "\"deviate\": {\"kinds\": [\"mixed-encryption\"], \"share\": 1}");
    struct term *t = dh_term(h, 0, 0);
    struct fleet_stats *st = dh_stats(h, 0);
    for (uint32_t id = 1; id <= 3; id++)
        assert_int_equal(set_polygon(t, id, 0, 22500000 + id * 10000, 114000000, 120), 0);
    EVP_PKEY *term_pub = exchange(t, plat);
    query_packages(t, plat, &got);
    assert_int_equal(got.n, 4);
    for (size_t i = 0; i < got.n; i++)
        assert_int_equal(got.enc[i], i % 2 ? 0 : JT808_ENC_RSA);
    assert_int_equal(u32(dec.lay, "count"), 3);
    assert_int_equal(dec.devs.total, 1);
    assert_int_equal(dec.devs.d[0].kind, JT808_DEV_MIXED_ENCRYPTION);
    assert_int_equal(dec.devs.d[0].offset, JT808_RSA_MAX_PLAIN);
    assert_string_equal(dec.devs.d[0].field, "header.encryption");
    assert_int_equal(st->dc[JT808_C_DEV_FIRST + JT808_DEV_MIXED_ENCRYPTION], 1);
    assert_int_equal(st->dc[JT808_C_RSA_ENCRYPTED], 2);
    EVP_PKEY_free(term_pub);
    EVP_PKEY_free(plat);
    finish(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_distance),
        cmocka_unit_test(test_circle),
        cmocka_unit_test(test_rectangle),
        cmocka_unit_test(test_polygon),
        cmocka_unit_test(test_route),
        cmocka_unit_test(test_store_circles),
        cmocka_unit_test(test_store_delete),
        cmocka_unit_test(test_store_polygon_route),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_alarm_circle),
        cmocka_unit_test(test_alarm_shapes),
        cmocka_unit_test(test_alarm_timed),
        cmocka_unit_test(test_no_state),
        cmocka_unit_test(test_query_resend_8003),
        cmocka_unit_test(test_query_rsa),
        cmocka_unit_test(test_query_mixed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
