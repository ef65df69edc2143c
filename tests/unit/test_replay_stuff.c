/* replay codec: byte stuffing of delimited framings (escape=, mappings, xor=, the
 * jt808 and hdlc presets), against hand-built frames, the JT/T 808 vectors in
 * vectors/jt808.json, the JT/T 808 codec's own escaping and random frames. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tests/unit/unhex.h"

#include <cjson/cJSON.h>

#include "sim/proto/hex.h"
#include "sim/proto/jt808.h"
#include "sim/proto/replay_tmpl.h"

#define VECTORS "vectors/jt808.json"


static struct replay_framing framing(const char *spec)
{
    struct replay_framing f;
    struct replay_err e;
    if (replay_framing_parse(spec, &f, &e) != 0)
        fail_msg("\"%s\": %s", spec, e.msg);
    return f;
}

/* Compare bytes, showing both in hex when they differ. */
static void bytes_are(const char *what, const uint8_t *got, size_t gn, const uint8_t *want,
                      size_t wn)
{
    if (gn != wn || memcmp(got, want, gn) != 0) {
        char *g = hex_encode_alloc(got, gn), *w = hex_encode_alloc(want, wn);
        print_error("%s:\n  got  %s\n  want %s\n", what, g, w);
        free(g);
        free(w);
    }
    assert_int_equal(gn, wn);
    assert_memory_equal(got, want, gn);
}

/* Stuff, then unstuff, into buffers of exactly the size needed (the NOSPACE offset
 * says it); the wire must hold no delimiter inside and cut as one whole frame. */
static size_t stuff_exact(const struct replay_framing *f, const uint8_t *in, size_t n,
                          uint8_t **wire)
{
    struct replay_err e;
    assert_int_equal(replay_framing_stuff(f, in, n, NULL, 0, &e), 0);
    assert_int_equal(e.rc, REPLAY_E_NOSPACE);
    size_t need = e.offset;
    *wire = malloc(need);
    assert_non_null(*wire);
    size_t wn = replay_framing_stuff(f, in, n, *wire, need, &e);
    if (wn == 0)
        fail_msg("stuff: %s", e.msg);
    assert_int_equal(wn, need);
    return wn;
}

static size_t unstuff_exact(const struct replay_framing *f, const uint8_t *in, size_t n,
                            uint8_t **out)
{
    struct replay_err e;
    assert_int_equal(replay_framing_unstuff(f, in, n, NULL, 0, &e), 0);
    if (e.rc != REPLAY_E_NOSPACE)
        fail_msg("unstuff: %s", e.msg);
    size_t need = e.offset;
    *out = malloc(need);
    assert_non_null(*out);
    size_t on = replay_framing_unstuff(f, in, n, *out, need, &e);
    if (on == 0)
        fail_msg("unstuff: %s", e.msg);
    assert_int_equal(on, need);
    return on;
}

static void cuts_whole(const struct replay_framing *f, const uint8_t *wire, size_t wn)
{
    for (size_t i = 1; i + 1 < wn; i++)
        assert_int_not_equal(wire[i], f->delim);
    if (wn == 2)
        return; /* "7E 7E" is a run of delimiters to the framing, not a frame */
    size_t start, len, skipped;
    assert_int_equal(replay_framing_next(f, wire, wn, &start, &len, &skipped, NULL), (long)wn);
    assert_int_equal(start, 0);
    assert_int_equal(len, wn);
}

/* --- spec syntax ------------------------------------------------------------- */

struct parse_case {
    const char *spec;
    uint8_t delim;
    uint8_t escape;
    size_t max_frame;
    const char *map; /* "from to" pairs in hex, in order: "7E02 7D01" */
};

static const struct parse_case parse_cases[] = {
    {"delim:7E,escape=7D,7E=02,7D=01", 0x7E, 0x7D, 65535, "7E02 7D01"},
    {"delim:jt808", 0x7E, 0x7D, 65535, "7E02 7D01"},
    {"delim:7E,escape=7D,xor=20", 0x7E, 0x7D, 65535, "7E5E 7D5D"},
    {"delim:hdlc", 0x7E, 0x7D, 65535, "7E5E 7D5D"},
    {"delim:jt808,max=1024", 0x7E, 0x7D, 1024, "7E02 7D01"},
    {"delim:hdlc,max=1500", 0x7E, 0x7D, 1500, "7E5E 7D5D"},
    {"delim:7E,xor=20,escape=7D", 0x7E, 0x7D, 65535, "7E5E 7D5D"},
    {" delim : 0x7e , 7d = 01 , 7E=0x02 , escape = 7D ", 0x7E, 0x7D, 65535, "7D01 7E02"},
    {"delim:C0,escape=DB,C0=DC,DB=DD", 0xC0, 0xDB, 65535, "C0DC DBDD"},
    {"delim:jt808,0D=03", 0x7E, 0x7D, 65535, "7E02 7D01 0D03"},
    {"delim:7E,escape=7D,7E=02,7D=01,00=03,01=04,02=05,03=06,04=07,05=08", 0x7E, 0x7D, 65535,
     "7E02 7D01 0003 0104 0205 0306 0407 0508"},
    {"delim:7E,escape=7D,7E=7D,7D=01", 0x7E, 0x7D, 65535, "7E7D 7D01"},
    {"delim:7E", 0x7E, 0, 65535, ""},
};

static void test_parse(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++) {
        const struct parse_case *c = &parse_cases[i];
        struct replay_framing f = framing(c->spec);
        size_t mn;
        uint8_t *map = unhex(c->map, &mn);
        if (f.nstuff * 2 != mn || f.delim != c->delim)
            print_error("\"%s\": %zu mappings, delimiter 0x%02X\n", c->spec, f.nstuff, f.delim);
        assert_int_equal(f.kind, REPLAY_FRAME_DELIM);
        assert_int_equal(f.delim, c->delim);
        assert_int_equal(f.max_frame, c->max_frame);
        assert_int_equal(f.nstuff * 2, mn);
        assert_int_equal(replay_framing_stuffs(&f), mn > 0);
        if (mn)
            assert_int_equal(f.escape, c->escape);
        for (size_t k = 0; k < f.nstuff; k++) {
            assert_int_equal(f.stuff[k].from, map[2 * k]);
            assert_int_equal(f.stuff[k].to, map[2 * k + 1]);
        }
        free(map);
    }
    /* other framings never stuff */
    struct replay_framing f = framing("length:offset=1,size=2,adjust=4");
    assert_false(replay_framing_stuffs(&f));
    f = framing("none");
    assert_false(replay_framing_stuffs(&f));
    /* nor does a delim framing with mappings but another kind */
    f = framing("delim:jt808");
    f.kind = REPLAY_FRAME_FIXED;
    assert_false(replay_framing_stuffs(&f));
}

struct perr_case {
    const char *spec;
    size_t offset;
    const char *msg;
};

static const struct perr_case perr_cases[] = {
    {"delim:7E,escape=7D", 18, "offset 18: escape=7D needs xor= or mappings, e.g. 7E=02,7D=01"},
    {"delim:7E,7E=02,7D=01", 20, "offset 20: stuffing needs escape=, e.g. escape=7D"},
    {"delim:7E,xor=20", 15, "offset 15: stuffing needs escape=, e.g. escape=7D"},
    {"delim:7E,escape=7D,7E=02", 24,
     "offset 24: the escape byte 0x7D has no mapping (add one, e.g. 7D=01)"},
    {"delim:7E,escape=7D,7D=01", 24,
     "offset 24: the delimiter 0x7E has no mapping (add one, e.g. 7E=02)"},
    {"delim:7E,escape=7D,0D=03", 24,
     "offset 24: the delimiter 0x7E has no mapping (add one, e.g. 7E=01)"},
    {"delim:7E,escape=7E,7E=02", 16,
     "offset 16: escape 0x7E is the delimiter; the escape byte must be another"},
    {"delim:7E,escape=7G", 16, "offset 16: escape \"7G\" is not one hex byte (like 7D)"},
    {"delim:7E,escape=", 16, "offset 16: escape \"\" is not one hex byte (like 7D)"},
    {"delim:7E,escape", 9, "offset 9: \"escape\" needs a value, e.g. escape=7D"},
    {"delim:7E,escape=7D,escape=7D", 19, "offset 19: \"escape\" given twice"},
    {"delim:7E,escape=7D,7E=7E,7D=01", 22,
     "offset 22: 0x7E maps to 0x7E, the delimiter (which cannot be inside a frame)"},
    {"delim:7E,escape=7D,7E=02,7D=02", 28, "offset 28: 0x7D maps to 0x02, as 0x7E does already"},
    {"delim:7E,escape=7D,7E=02,7E=03", 25, "offset 25: 0x7E is mapped twice"},
    {"delim:7E,escape=7D,7E=2", 22,
     "offset 22: 0x7E maps to \"2\", which is not one hex byte (like 02)"},
    {"delim:7E,escape=7D,7E", 19, "offset 19: \"7E\" needs a value, e.g. 7E=02"},
    {"delim:7E,escape=7D,7E=02,7D=01,00=03,01=04,02=05,03=06,04=07,05=08,06=09", 67,
     "offset 67: more than 8 mappings"},
    {"delim:7E,escape=7D,xor=20,7E=02", 26,
     "offset 26: xor= and mappings like 7E=02 do not mix (use one)"},
    {"delim:7E,escape=7D,7E=02,7D=01,xor=20", 31,
     "offset 31: xor= and mappings like 7E=02 do not mix (use one)"},
    {"delim:jt808,xor=20", 12, "offset 12: xor= and mappings like 7E=02 do not mix (use one)"},
    {"delim:hdlc,7E=02", 11, "offset 11: xor= and mappings like 7E=02 do not mix (use one)"},
    {"delim:hdlc,xor=20", 11, "offset 11: \"xor\" given twice"},
    {"delim:jt808,escape=7D", 12, "offset 12: \"escape\" given twice"},
    {"delim:7E,escape=7D,xor=00", 23, "offset 23: xor=00 would send every byte as it is"},
    {"delim:7E,escape=7D,xor=03", 23, "offset 23: xor=03 would send 0x7D as 7D 7E, the delimiter"},
    {"delim:7E,xor=03,escape=7D", 13, "offset 13: xor=03 would send 0x7D as 7D 7E, the delimiter"},
    {"delim:7E,escape=7D,xor=2", 23, "offset 23: xor \"2\" is not one hex byte (like 20)"},
    {"delim:7E,escape=7D,xor", 19, "offset 19: \"xor\" needs a value, e.g. xor=20"},
    {"delim:jt809", 6, "offset 6: unknown delimiter preset \"jt809\" (did you mean \"jt808\"?)"},
    {"delim:hdcl", 6, "offset 6: unknown delimiter preset \"hdcl\" (did you mean \"hdlc\"?)"},
    {"delim:JT808", 6, "offset 6: unknown delimiter preset \"JT808\" (did you mean \"jt808\"?)"},
    {"delim:ppp", 6, "offset 6: delimiter \"ppp\" is not one hex byte (like 7E) or jt808 or hdlc"},
    {"delim:7E,escpe=7D", 9,
     "offset 9: unknown framing option \"escpe\" (did you mean \"escape\"?)"},
    {"fixed:4,escape=7D", 8, "offset 8: unknown framing option \"escape\""},
    {"fixed:4,7E=02", 8, "offset 8: unknown framing option \"7E\""},
    {"none:xor=20", 5, "offset 5: unknown framing option \"xor\""},
};

static void test_parse_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof perr_cases / sizeof perr_cases[0]; i++) {
        const struct perr_case *c = &perr_cases[i];
        struct replay_framing f;
        struct replay_err e;
        memset(&e, 0, sizeof e);
        int r = replay_framing_parse(c->spec, &f, &e);
        if (r != -1 || e.offset != c->offset || strcmp(e.msg, c->msg) != 0)
            print_error("\"%s\": got %d offset %zu \"%s\"\n", c->spec, r, e.offset, e.msg);
        assert_int_equal(r, -1);
        assert_int_equal(e.rc, REPLAY_E_SYNTAX);
        assert_int_equal(e.offset, c->offset);
        assert_string_equal(e.msg, c->msg);
    }
}

/* --- JT/T 808 ---------------------------------------------------------------- */

#define HEARTBEAT "7E [0002 0000 {id:bcd6} {serial:2}] {xor8} 7E"

/* Render tmpl with id and serial into out.  @return the frame's length. */
static size_t render(const char *tmpl, const char *id, uint64_t serial, uint8_t *out, size_t cap)
{
    struct replay_tmpl *t = NULL;
    struct replay_err e;
    if (replay_tmpl_compile(tmpl, &t, &e) != 0)
        fail_msg("\"%s\": %s", tmpl, e.msg);
    struct replay_vars v = {.id = id, .serial = serial};
    size_t n = replay_tmpl_render(t, &v, out, cap, &e);
    if (n == 0)
        fail_msg("\"%s\": %s", tmpl, e.msg);
    replay_tmpl_free(t);
    return n;
}

/* A heartbeat whose serial is 0x007E: the template renders 7E at offset 12, the
 * wire has 7D 02 there, and the platform's JT/T 808 codec reads serial 0x007E with
 * a good check byte (computed over the unescaped bytes). */
static void test_jt808_serial(void **state)
{
    (void)state;
    const struct {
        uint16_t serial;
        const char *frame;
        const char *wire;
    } cases[] = {
        {0x0013, "7E 0002 0000 013912345678 0013 21 7E", "7E 0002 0000 013912345678 0013 21 7E"},
        {0x007E, "7E 0002 0000 013912345678 007E 4C 7E", "7E 0002 0000 013912345678 007D02 4C 7E"},
        {0x7D7E, "7E 0002 0000 013912345678 7D7E 31 7E",
         "7E 0002 0000 013912345678 7D017D02 31 7E"},
        /* a serial that makes the check byte 0x7E */
        {0x004C, "7E 0002 0000 013912345678 004C 7E 7E", "7E 0002 0000 013912345678 004C 7D02 7E"},
    };
    struct replay_framing f = framing("delim:jt808");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t frame[64];
        size_t n = render(HEARTBEAT, "013912345678", cases[i].serial, frame, sizeof frame);
        size_t fn, wn;
        uint8_t *want_frame = unhex(cases[i].frame, &fn);
        uint8_t *want_wire = unhex(cases[i].wire, &wn);
        bytes_are("rendered", frame, n, want_frame, fn);

        uint8_t *wire, *back;
        size_t got = stuff_exact(&f, frame, n, &wire);
        bytes_are("stuffed", wire, got, want_wire, wn);
        cuts_whole(&f, wire, got);
        size_t bn = unstuff_exact(&f, wire, got, &back);
        bytes_are("unstuffed", back, bn, frame, n);

        uint8_t scratch[64];
        struct jt808_msg *m = calloc(1, sizeof *m);
        assert_non_null(m);
        struct jt808_err je = {0};
        enum jt808_rc rc = jt808_decode(wire, got, scratch, sizeof scratch, m, &je);
        if (rc != JT808_OK)
            fail_msg("serial 0x%04X: jt808_decode: %s at %zu", cases[i].serial, jt808_rc_name(rc),
                     je.offset);
        assert_int_equal(m->h.msg_id, 0x0002);
        assert_int_equal(m->h.serial, cases[i].serial);
        assert_string_equal(m->h.phone, "013912345678");
        free(m);
        free(wire);
        free(back);
        free(want_frame);
        free(want_wire);
    }
}

/* The vectors of vectors/jt808.json that hold escapes, each re-encoded by hand from
 * its "fields" as a template (no escapes in it; the check byte is the template's
 * {xor8}): unstuff(hex) is what the template renders, and stuff of that is hex. */
struct vector_case {
    const char *name; /* as in vectors/jt808.json */
    const char *tmpl;
    const char *id;
    uint16_t serial;
    const char *hex; /* the vector's hex, as in the file */
};

#define LOC_BODY "00000000 00000003 01DC89D0 073D8AA5"

static const struct vector_case vector_cases[] = {
    {"0x0200 location, 0x7E and 0x7D inside the content (2013)",
     "7E [0200 0026 {id:bcd6} {serial:2} " LOC_BODY " 007D 025D 007E 240315083000"
     " 01 04 7E7D7E7D  E2 02 7D7E] {xor8} 7E",
     "013912345678", 32381,
     "7E020000260139123456787D027D01000000000000000301DC89D0073D8AA5007D01025D007D0224031508300001"
     "047D027D017D027D01E2027D017D02357E"},
    {"0x8108 upgrade package, whole (2019)",
     "7E [8108 404A 01 {id:bcd10} {serial:2} 00 464C45455453494D303031 09 322E312E302D726331"
     " 00000030 A0A1A2A3A47EA6A7A8A9AAABACADAEAFB0B1B2B3B4B5B6B7B8B9BABBBCBDBEBFC0C1C2C3C4C5C6C7"
     "C8C9CACBCCCDCECF] {xor8} 7E",
     "013912345678", 336,
     "7E8108404A0100000000013912345678015000464C45455453494D30303109322E312E302D72633100000030A0A1"
     "A2A3A47D02A6A7A8A9AAABACADAEAFB0B1B2B3B4B5B6B7B8B9BABBBCBDBEBFC0C1C2C3C4C5C6C7C8C9CACBCCCDCE"
     "CF077E"},
    {"0x8108 upgrade package as 3 subpackages (2019), fragment 2/3",
     "7E [8108 601E 01 {id:bcd10} {serial:2} 0003 0002"
     " A47EA6A7A8A9AAABACADAEAFB0B1B2B3B4B5B6B7B8B9BABBBCBDBEBFC0C1] {xor8} 7E",
     "013912345678", 353,
     "7E8108601E0100000000013912345678016100030002A47D02A6A7A8A9AAABACADAEAFB0B1B2B3B4B5B6B7B8B9BA"
     "BBBCBDBEBFC0C17D017E"},
    {"0x0200 location whose check byte is 0x7E (2013)",
     "7E [0200 001C {id:bcd6} {serial:2} " LOC_BODY " 000C 025D 005A 240315083000] {xor8} 7E",
     "013912345678", 193,
     "7E0200001C01391234567800C1000000000000000301DC89D0073D8AA5000C025D005A2403150830007D027E"},
    {"0x0200 location whose check byte is 0x7D (2019)",
     "7E [0200 401C 01 {id:bcd10} {serial:2} " LOC_BODY " 000C 025D 005A 240315083000] {xor8} 7E",
     "013912345678", 131,
     "7E0200401C01000000000139123456780083000000000000000301DC89D0073D8AA5000C025D005A240315083000"
     "7D017E"},
};
#define N_VECTOR_CASES (sizeof vector_cases / sizeof vector_cases[0])

static void test_jt808_vectors(void **state)
{
    (void)state;
    struct replay_framing f = framing("delim:jt808");
    for (size_t i = 0; i < N_VECTOR_CASES; i++) {
        const struct vector_case *c = &vector_cases[i];
        uint8_t frame[256];
        size_t n = render(c->tmpl, c->id, c->serial, frame, sizeof frame);
        size_t vn;
        uint8_t *vec = unhex(c->hex, &vn);
        uint8_t *back, *wire;
        size_t bn = unstuff_exact(&f, vec, vn, &back);
        bytes_are(c->name, back, bn, frame, n);
        size_t wn = stuff_exact(&f, frame, n, &wire);
        bytes_are(c->name, wire, wn, vec, vn);
        assert_true(wn > n); /* each holds at least one escape */
        free(vec);
        free(back);
        free(wire);
    }
}

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    rewind(fp);
    char *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, fp), (size_t)n);
    b[n] = '\0';
    fclose(fp);
    return b;
}

/* Every vector of the file: a good frame unstuffs, its check byte is the XOR of the
 * unescaped header and body, and stuffing gives the vector back byte for byte; a
 * frame with escapes is one of vector_cases, with the same hex; the vectors whose
 * error is "escape" fail to unstuff at the same wire offset. */
static void test_jt808_vector_file(void **state)
{
    (void)state;
    char *text = slurp(VECTORS);
    if (!text)
        fail_msg("cannot read %s (tests run from the repo root)", VECTORS);
    cJSON *root = cJSON_Parse(text);
    assert_non_null(root);
    const cJSON *vectors = cJSON_GetObjectItem(root, "vectors");
    assert_true(cJSON_IsArray(vectors));
    struct replay_framing f = framing("delim:jt808");
    size_t good = 0, escaped = 0, bad_escapes = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, vectors)
    {
        const char *name = cJSON_GetObjectItem(v, "name")->valuestring;
        const char *hex = cJSON_GetObjectItem(v, "hex")->valuestring;
        const cJSON *verr = cJSON_GetObjectItem(v, "error");
        size_t n;
        uint8_t *wire = unhex(hex, &n);
        uint8_t *out = malloc(n);
        assert_non_null(out);
        struct replay_err e;
        size_t on = replay_framing_unstuff(&f, wire, n, out, n, &e);
        const char *code = verr ? cJSON_GetObjectItem(verr, "code")->valuestring : "";
        if (strcmp(code, "escape") == 0) {
            size_t off = (size_t)cJSON_GetObjectItem(verr, "offset")->valuedouble;
            if (on != 0 || e.rc != REPLAY_E_FRAME || e.offset != off)
                fail_msg("%s: got %zu bytes, rc %d at %zu (%s), want an error at %zu", name, on,
                         (int)e.rc, on ? 0 : e.offset, on ? "" : e.msg, off);
            bad_escapes++;
        } else if (!verr && !cJSON_GetObjectItem(cJSON_GetObjectItem(v, "fields"), "deviations")) {
            /* (frames that deviate are the codec's business, not the framing's) */
            if (on == 0)
                fail_msg("%s: %s", name, e.msg);
            uint8_t x = 0;
            for (size_t i = 1; i + 2 < on; i++)
                x ^= out[i];
            if (x != out[on - 2])
                fail_msg("%s: check byte 0x%02X, the unescaped bytes give 0x%02X", name,
                         out[on - 2], x);
            uint8_t *again = malloc(2 * n);
            assert_non_null(again);
            size_t an = replay_framing_stuff(&f, out, on, again, 2 * n, &e);
            bytes_are(name, again, an, wire, n);
            free(again);
            good++;
            if (on < n) {
                size_t k = 0;
                while (k < N_VECTOR_CASES && strcmp(vector_cases[k].name, name) != 0)
                    k++;
                if (k == N_VECTOR_CASES)
                    fail_msg("%s: holds escapes, but is not in vector_cases", name);
                assert_string_equal(vector_cases[k].hex, hex);
                escaped++;
            }
        }
        free(wire);
        free(out);
    }
    assert_true(good >= 40);
    assert_int_equal(escaped, N_VECTOR_CASES);
    /* 7D 03 inside the frame; a lone 7D before the closing flag is read by the codec
     * as the check byte (an unescaped-check deviation), so that vector is a check error */
    assert_int_equal(bad_escapes, 1);
    cJSON_Delete(root);
    free(text);
}

/* --- HDLC / PPP and others --------------------------------------------------- */

struct pair_case {
    const char *what;
    const char *spec;
    const char *frame;
    const char *wire;
};

static const struct pair_case pair_cases[] = {
    {"hdlc: 7E and 7D inside", "delim:hdlc", "7E FF 03 7E 7D 20 5E 7E",
     "7E FF 03 7D5E 7D5D 20 5E 7E"},
    {"hdlc: nothing to escape", "delim:hdlc", "7E FF 03 C0 21 7E", "7E FF 03 C0 21 7E"},
    {"hdlc: only escapes", "delim:7E,escape=7D,xor=20", "7E 7D 7D 7E 7E", "7E 7D5D 7D5D 7D5E 7E"},
    {"hdlc: empty frame", "delim:hdlc", "7E 7E", "7E 7E"},
    {"jt808: empty frame", "delim:jt808", "7E 7E", "7E 7E"},
    {"jt808: 7D 02 in the frame is not an escape there", "delim:jt808", "7E 7D 02 7E",
     "7E 7D01 02 7E"},
    {"slip-like: C0 and DB", "delim:C0,escape=DB,C0=DC,DB=DD", "C0 01 C0 DB DC DD C0",
     "C0 01 DBDC DBDD DC DD C0"},
    {"an extra mapping", "delim:jt808,0D=03", "7E 0D 0A 7E", "7E 7D03 0A 7E"},
    {"a mapping to the escape byte", "delim:7E,escape=7D,7E=7D,7D=01", "7E 7E 7D 7E",
     "7E 7D7D 7D01 7E"},
};

static void test_pairs(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof pair_cases / sizeof pair_cases[0]; i++) {
        const struct pair_case *c = &pair_cases[i];
        struct replay_framing f = framing(c->spec);
        size_t fn, wn;
        uint8_t *frame = unhex(c->frame, &fn), *want = unhex(c->wire, &wn);
        uint8_t *wire, *back;
        size_t got = stuff_exact(&f, frame, fn, &wire);
        bytes_are(c->what, wire, got, want, wn);
        cuts_whole(&f, wire, got);
        size_t bn = unstuff_exact(&f, wire, got, &back);
        bytes_are(c->what, back, bn, frame, fn);
        free(frame);
        free(want);
        free(wire);
        free(back);
    }
    /* a mapped byte that arrives unescaped (other than 7E, 7D) is taken as it is */
    struct replay_framing f = framing("delim:jt808,0D=03");
    const uint8_t in[] = {0x7E, 0x0D, 0x7E};
    uint8_t out[3];
    assert_int_equal(replay_framing_unstuff(&f, in, 3, out, 3, NULL), 3);
    assert_memory_equal(out, in, 3);
}

/* Without stuffing, both copy, whatever the bytes (and framing). */
static void test_copy(void **state)
{
    (void)state;
    const char *specs[] = {"delim:7E", "length:offset=1,size=2,adjust=4", "fixed:4", "none"};
    const uint8_t in[] = {0x01, 0x7E, 0x7D, 0x02};
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        struct replay_framing f = framing(specs[i]);
        uint8_t out[4];
        struct replay_err e;
        assert_int_equal(replay_framing_stuff(&f, in, 4, out, 4, &e), 4);
        assert_memory_equal(out, in, 4);
        assert_int_equal(replay_framing_unstuff(&f, in, 4, out, 4, &e), 4);
        assert_memory_equal(out, in, 4);
        assert_int_equal(replay_framing_stuff(&f, in, 4, out, 3, &e), 0);
        assert_int_equal(e.rc, REPLAY_E_NOSPACE);
        assert_int_equal(e.offset, 4);
        assert_string_equal(e.msg, "the frame is 4 bytes, the buffer holds 3");
        assert_int_equal(replay_framing_unstuff(&f, in, 4, NULL, 4, &e), 0);
        assert_int_equal(e.rc, REPLAY_E_NOSPACE);
        assert_string_equal(e.msg, "the frame is 4 bytes, the buffer holds 0");
        assert_int_equal(replay_framing_stuff(&f, in, 0, out, 4, &e), 0);
        assert_int_equal(e.rc, REPLAY_E_VALUE);
        assert_string_equal(e.msg, "frame offset 0: an empty frame");
    }
}

/* --- errors ------------------------------------------------------------------ */

struct serr_case {
    const char *what;
    const char *spec;
    bool unstuff;
    const char *in;
    size_t cap; /* 0: 64 */
    enum replay_rc rc;
    size_t offset;
    const char *msg;
};

static const struct serr_case serr_cases[] = {
    {"stuff: empty", "delim:jt808", false, "", 0, REPLAY_E_VALUE, 0,
     "frame offset 0: an empty frame"},
    {"stuff: one byte", "delim:jt808", false, "7E", 0, REPLAY_E_VALUE, 0,
     "frame offset 0: a frame of one byte, which cannot open and close with 0x7E"},
    {"stuff: no opening delimiter", "delim:jt808", false, "00 02 7E", 0, REPLAY_E_VALUE, 0,
     "frame offset 0: the frame starts with 0x00, not the delimiter 0x7E"},
    {"stuff: no closing delimiter", "delim:jt808", false, "7E 00 02 21", 0, REPLAY_E_VALUE, 3,
     "frame offset 3: the frame ends with 0x21, not the delimiter 0x7E"},
    {"stuff: no room", "delim:jt808", false, "7E 01 7E 7D 7E", 6, REPLAY_E_NOSPACE, 7,
     "the frame is 7 bytes stuffed, the buffer holds 6"},
    {"stuff: no room (hdlc)", "delim:hdlc", false, "7E 7E 7E", 1, REPLAY_E_NOSPACE, 4,
     "the frame is 4 bytes stuffed, the buffer holds 1"},
    {"unstuff: 7D 03", "delim:jt808", true, "7E 00 02 00 00 01 39 7D 03 21 7E", 0, REPLAY_E_FRAME,
     7, "frame offset 7: 0x7D followed by 0x03, which is no escape (use 7E=02, 7D=01)"},
    {"unstuff: 7D 7D", "delim:jt808", true, "7E 7D 7D 01 7E", 0, REPLAY_E_FRAME, 1,
     "frame offset 1: 0x7D followed by 0x7D, which is no escape (use 7E=02, 7D=01)"},
    {"unstuff: hdlc 7D 02", "delim:hdlc", true, "7E 01 7D 02 7E", 0, REPLAY_E_FRAME, 2,
     "frame offset 2: 0x7D followed by 0x02, which is no escape (use 7E=5E, 7D=5D)"},
    {"unstuff: 7D before the closing flag", "delim:jt808", true, "7E 00 02 7D 7E", 0,
     REPLAY_E_FRAME, 3,
     "frame offset 3: 0x7D right before the closing 0x7E (an escape needs a second byte)"},
    {"unstuff: a frame of 7D only", "delim:jt808", true, "7E 7D 7E", 0, REPLAY_E_FRAME, 1,
     "frame offset 1: 0x7D right before the closing 0x7E (an escape needs a second byte)"},
    {"unstuff: a delimiter inside", "delim:jt808", true, "7E 01 7E 02 7E", 0, REPLAY_E_FRAME, 2,
     "frame offset 2: the delimiter 0x7E inside the frame"},
    {"unstuff: no opening delimiter", "delim:hdlc", true, "01 7E", 0, REPLAY_E_VALUE, 0,
     "frame offset 0: the frame starts with 0x01, not the delimiter 0x7E"},
    {"unstuff: no closing delimiter", "delim:hdlc", true, "7E 01 7D 5E", 0, REPLAY_E_VALUE, 3,
     "frame offset 3: the frame ends with 0x5E, not the delimiter 0x7E"},
    {"unstuff: one byte", "delim:hdlc", true, "7E", 0, REPLAY_E_VALUE, 0,
     "frame offset 0: a frame of one byte, which cannot open and close with 0x7E"},
    {"unstuff: empty", "delim:hdlc", true, "", 0, REPLAY_E_VALUE, 0,
     "frame offset 0: an empty frame"},
    {"unstuff: no room", "delim:jt808", true, "7E 01 7D 02 7D 01 7E", 4, REPLAY_E_NOSPACE, 5,
     "the frame is 5 bytes unescaped, the buffer holds 4"},
};

static void test_stuff_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof serr_cases / sizeof serr_cases[0]; i++) {
        const struct serr_case *c = &serr_cases[i];
        struct replay_framing f = framing(c->spec);
        size_t n;
        uint8_t *in = unhex(c->in, &n);
        size_t cap = c->cap ? c->cap : 64;
        uint8_t *out = malloc(cap);
        assert_non_null(out);
        struct replay_err e;
        memset(&e, 0, sizeof e);
        size_t r = c->unstuff ? replay_framing_unstuff(&f, in, n, out, cap, &e)
                              : replay_framing_stuff(&f, in, n, out, cap, &e);
        if (r != 0 || e.rc != c->rc || e.offset != c->offset || strcmp(e.msg, c->msg) != 0)
            print_error("%s: got %zu, rc %d offset %zu \"%s\"\n", c->what, r, (int)e.rc, e.offset,
                        e.msg);
        assert_int_equal(r, 0);
        assert_int_equal(e.rc, c->rc);
        assert_int_equal(e.offset, c->offset);
        assert_string_equal(e.msg, c->msg);
        /* err may be NULL */
        r = c->unstuff ? replay_framing_unstuff(&f, in, n, out, cap, NULL)
                       : replay_framing_stuff(&f, in, n, out, cap, NULL);
        assert_int_equal(r, 0);
        free(in);
        free(out);
    }
}

/* A framing filled by hand whose stuffing could not be undone is refused. */
static void test_bad_framings(void **state)
{
    (void)state;
    struct replay_framing good = framing("delim:jt808");
    const uint8_t in[] = {0x7E, 0x7D, 0x7E};
    uint8_t out[8];
    struct replay_err e;
    struct {
        struct replay_framing f;
        const char *msg;
    } bad[6];
    for (size_t i = 0; i < 6; i++)
        bad[i].f = good;
    bad[0].f.nstuff = 9;
    bad[0].msg = "bad framing: 9 stuffed bytes (at most 8)";
    bad[1].f.escape = 0x7E;
    bad[1].msg = "bad framing: the escape byte is the delimiter 0x7E";
    bad[2].f.stuff[1].to = 0x7E;
    bad[2].msg = "bad framing: 0x7D maps to the delimiter 0x7E";
    bad[3].f.stuff[1].to = 0x02;
    bad[3].msg = "bad framing: 0x7E=02 and 0x7D=02 overlap";
    bad[4].f.stuff[1].from = 0x7E;
    bad[4].msg = "bad framing: 0x7E=02 and 0x7E=01 overlap";
    bad[5].f.nstuff = 1;
    bad[5].msg = "bad framing: the delimiter 0x7E and the escape byte 0x7D must both be mapped";
    for (size_t i = 0; i < 6; i++) {
        memset(&e, 0, sizeof e);
        assert_int_equal(replay_framing_stuff(&bad[i].f, in, 3, out, sizeof out, &e), 0);
        assert_int_equal(e.rc, REPLAY_E_FRAME);
        assert_string_equal(e.msg, bad[i].msg);
        memset(&e, 0, sizeof e);
        assert_int_equal(replay_framing_unstuff(&bad[i].f, in, 3, out, sizeof out, &e), 0);
        assert_int_equal(e.rc, REPLAY_E_FRAME);
        assert_string_equal(e.msg, bad[i].msg);
    }
}

/* --- random frames ----------------------------------------------------------- */

static uint32_t next_rand(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

/* Random frames, heavy in the bytes that get stuffed: stuff then unstuff gives the
 * frame back, the wire has no delimiter inside and is as long as the escapes say,
 * and with delim:jt808 the wire is what the JT/T 808 codec's own escaping gives. */
static void test_random_round_trip(void **state)
{
    (void)state;
    const char *specs[] = {"delim:jt808", "delim:hdlc", "delim:C0,escape=DB,C0=DC,DB=DD",
                           "delim:7E,escape=7D,7E=02,7D=01,00=03,01=04,02=05,03=06,04=07,05=08",
                           "delim:00,escape=FF,xor=80"};
    uint32_t seed = 0x5EED1234u;
    for (size_t s = 0; s < sizeof specs / sizeof specs[0]; s++) {
        struct replay_framing f = framing(specs[s]);
        const uint8_t hot[] = {f.delim, f.escape, f.stuff[0].to, f.stuff[1].to};
        for (int iter = 0; iter < 2000; iter++) {
            size_t n = 2 + next_rand(&seed) % 300;
            uint8_t *frame = malloc(n);
            assert_non_null(frame);
            size_t mapped = 0;
            for (size_t i = 0; i < n; i++) {
                uint32_t r = next_rand(&seed);
                frame[i] = r % 3 ? (uint8_t)(r >> 8) : hot[(r >> 8) % 4];
                if (i > 0 && i + 1 < n)
                    for (size_t k = 0; k < f.nstuff; k++)
                        mapped += f.stuff[k].from == frame[i];
            }
            frame[0] = frame[n - 1] = f.delim;
            uint8_t *wire, *back;
            size_t wn = stuff_exact(&f, frame, n, &wire);
            assert_int_equal(wn, n + mapped);
            assert_true(wn <= 2 * n - 2);
            cuts_whole(&f, wire, wn);
            size_t bn = unstuff_exact(&f, wire, wn, &back);
            bytes_are(specs[s], back, bn, frame, n);
            if (s == 0) {
                uint8_t *j = malloc(2 * n);
                assert_non_null(j);
                size_t jn = 0;
                assert_int_equal(jt808_escape(frame + 1, n - 2, j, 2 * n, &jn), JT808_OK);
                bytes_are("jt808_escape", wire + 1, wn - 2, j, jn);
                free(j);
            }
            free(frame);
            free(wire);
            free(back);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_jt808_serial),
        cmocka_unit_test(test_jt808_vectors),
        cmocka_unit_test(test_jt808_vector_file),
        cmocka_unit_test(test_pairs),
        cmocka_unit_test(test_copy),
        cmocka_unit_test(test_stuff_errors),
        cmocka_unit_test(test_bad_framings),
        cmocka_unit_test(test_random_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
