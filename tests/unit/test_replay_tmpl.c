/* replay codec: templates, reply patterns, stream framing (docs/replay-templates.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sim/proto/hex.h"
#include "sim/proto/replay_tmpl.h"

/* Hex to a malloc'd buffer of exactly the frame's size, so ASan sees overreads. */
static uint8_t *unhex(const char *hex, size_t *n)
{
    size_t len = strlen(hex);
    uint8_t *b = malloc(len / 2 + 1);
    assert_non_null(b);
    assert_int_equal(hex_decode(hex, len, HEX_STRICT, b, len / 2 + 1, n, NULL), HEX_OK);
    uint8_t *exact = malloc(*n ? *n : 1);
    assert_non_null(exact);
    memcpy(exact, b, *n);
    free(b);
    return exact;
}

static struct replay_tmpl *compile_ok(const char *text)
{
    struct replay_tmpl *t = NULL;
    struct replay_err e;
    int rc = replay_tmpl_compile(text, &t, &e);
    if (rc != 0)
        print_error("template \"%s\": %s\n", text, e.msg);
    assert_int_equal(rc, 0);
    assert_non_null(t);
    return t;
}

static struct replay_pat *pat_ok(const char *text)
{
    struct replay_pat *p = NULL;
    struct replay_err e;
    int rc = replay_pat_compile(text, &p, &e);
    if (rc != 0)
        print_error("pattern \"%s\": %s\n", text, e.msg);
    assert_int_equal(rc, 0);
    return p;
}

/* Render text with v and compare with the hex; returns nothing, fails loudly. */
static void render_is(const char *what, const char *text, const struct replay_vars *v,
                      const char *hex)
{
    struct replay_tmpl *t = compile_ok(text);
    uint8_t out[REPLAY_MAX_FRAME];
    struct replay_err e;
    size_t n = replay_tmpl_render(t, v, out, sizeof out, &e);
    if (n == 0)
        print_error("%s: %s\n", what, e.msg);
    size_t wn;
    uint8_t *want = unhex(hex, &wn);
    if (n != wn || memcmp(out, want, n) != 0) {
        char *got = hex_encode_alloc(out, n);
        print_error("%s: \"%s\" rendered %s, expected %s\n", what, text, got, hex);
        free(got);
    }
    assert_int_equal(n, wn);
    assert_memory_equal(out, want, n);
    assert_int_equal(replay_tmpl_size(t, v), n);
    free(want);
    replay_tmpl_free(t);
}

/* --- templates: every placeholder to exact bytes ---------------------------- */

struct render_case {
    const char *what;
    const char *tmpl;
    struct replay_vars v;
    const char *hex;
};

static const struct render_case render_cases[] = {
    {"literal with separators", "7E 00_01\tab\n", {0}, "7E0001AB"},
    {"index:1", "{index:1}", {.index = 5}, "05"},
    {"index:4 big-endian", "{index:4}", {.index = 0x01020304}, "01020304"},
    {"index:4:le", "{index:4:le}", {.index = 0x01020304}, "04030201"},
    {"index:4:be explicit", "{index:4:be}", {.index = 0x01020304}, "01020304"},
    {"index:2 keeps the low bytes", "{index:2}", {.index = 0x12345}, "2345"},
    {"index:8:le", "{index:8:le}", {.index = 0x0102030405060708}, "0807060504030201"},
    {"gindex:8", "{gindex:8}", {.gindex = 258}, "0000000000000102"},
    {"serial:2", "{serial:2}", {.serial = 0x1234}, "1234"},
    {"serial:2:le", "{serial:2:le}", {.serial = 0x1234}, "3412"},
    {"serial wraps", "{serial:1}", {.serial = 0x1FF}, "FF"},
    {"counter:3", "{counter:3}", {.counter = 0xABCDEF}, "ABCDEF"},
    {"spaces inside braces", "{ serial : 2 : le }", {.serial = 0x1234}, "3412"},
    {"id:bcd6 full", "{id:bcd6}", {.id = "013912345678"}, "013912345678"},
    {"id:bcd6 padded", "{id:bcd6}", {.id = "12345"}, "000000012345"},
    {"id:bcd2 odd digits", "{id:bcd2}", {.id = "123"}, "0123"},
    {"id:bcd1", "{id:bcd1}", {.id = "7"}, "07"},
    {"id:bcd10 (2019 phone)", "{id:bcd10}", {.id = "13800000001"}, "00000000013800000001"},
    {"id:bcd3 empty id", "{id:bcd3}", {.id = ""}, "000000"},
    {"id:ascii15 padded", "{id:ascii15}", {.id = "123"}, "303030303030303030303030313233"},
    {"id:ascii3 exact", "{id:ascii3}", {.id = "123"}, "313233"},
    {"id:str", "01 {id:str} 02", {.id = "AB1"}, "0141423102"},
    {"id:str empty", "01 {id:str}", {.id = ""}, "01"},
    {"time:bcd6 UTC", "{time:bcd6}", {.unix_s = 1700000000}, "231114221320"},
    {"time:bcd6 UTC+8",
     "{time:bcd6}",
     {.unix_s = 1700000000, .utc_offset_s = 28800},
     "231115061320"},
    {"time:bcd6 UTC-1",
     "{time:bcd6}",
     {.unix_s = 1700000000, .utc_offset_s = -3600},
     "231114211320"},
    {"time:bcd6 epoch", "{time:bcd6}", {.unix_s = 0}, "700101000000"},
    {"time:bcd6 2000-02-29", "{time:bcd6}", {.unix_s = 951782400}, "000229000000"},
    {"time:bcd6 2024-02-29 noon", "{time:bcd6}", {.unix_s = 1709208000}, "240229120000"},
    {"time:bcd6 before the epoch", "{time:bcd6}", {.unix_s = -1}, "691231235959"},
    {"time:bcd6 2100-01-01", "{time:bcd6}", {.unix_s = 4102444800}, "000101000000"},
    {"time:unix4", "{time:unix4}", {.unix_s = 1700000000}, "6553F100"},
    {"time:unix4:le", "{time:unix4:le}", {.unix_s = 1700000000}, "00F15365"},
    {"time:unix8", "{time:unix8}", {.unix_s = 1700000000}, "000000006553F100"},
    {"time:unix4 ignores the UTC offset",
     "{time:unix4}",
     {.unix_s = 1700000000, .utc_offset_s = 3600},
     "6553F100"},
    {"time:unix4 of -1", "{time:unix4}", {.unix_s = -1}, "FFFFFFFF"},
    {"len:2 without span counts what follows", "{len:2} 010203", {0}, "0003010203"},
    {"len:1 in its own span counts itself", "01 [02 {len:1} 03]", {0}, "01020303"},
    {"len:2:le after its span", "[01 02] {len:2:le}", {0}, "01020200"},
    {"len counts a variable id", "[{len:1} {id:str}]", {.id = "12345"}, "063132333435"},
    {"len without span counts a later crc", "AA {len:1} 01 02 {crc16}", {0}, "AA040102C9AE"},
    {"xor8 of everything before", "01 02 04 {xor8}", {0}, "01020407"},
    {"sum8 mod 256", "FF 02 {sum8}", {0}, "FF0201"},
    {"two checksums without span", "01 02 {xor8} {sum8}", {0}, "01020306"},
    {"xor8 in its own span reads itself as 0", "[01 02 {xor8} 04]", {0}, "01020704"},
    {"outside checksum reads the inside one", "[01 {sum8} 02] {xor8}", {0}, "01030200"},
    {"crc16 CCITT-FALSE check value", "313233343536373839 {crc16}", {0}, "31323334353637383929B1"},
    {"crc16:le", "313233343536373839 {crc16:le}", {0}, "313233343536373839B129"},
    {"crc16:modbus check value",
     "313233343536373839 {crc16:modbus}",
     {0},
     "3132333435363738394B37"},
    {"crc16:modbus:le", "313233343536373839 {crc16:modbus:le}", {0}, "313233343536373839374B"},
    {"crc16 le:modbus order free",
     "313233343536373839 {crc16:le:modbus}",
     {0},
     "313233343536373839374B"},
    {"crc16 over a span", "7E [313233343536373839] {crc16} 7E", {0}, "7E31323334353637383929B17E"},
    {"Modbus RTU read holding registers",
     "01 03 0000 000A {crc16:modbus:le}",
     {0},
     "01030000000AC5CD"},
    {"JT/T 808 heartbeat",
     "7E [0002 0000 {id:bcd6} {serial:2}] {xor8} 7E",
     {.id = "013912345678", .serial = 0x0013},
     "7E000200000139123456780013217E"},
};

static void test_render_golden(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof render_cases / sizeof render_cases[0]; i++)
        render_is(render_cases[i].what, render_cases[i].tmpl, &render_cases[i].v,
                  render_cases[i].hex);
}

/* The brief's example frame, byte for byte, and its check byte by hand. */
static void test_jt808_heartbeat(void **state)
{
    (void)state;
    struct replay_tmpl *t = compile_ok("7E [0002 0000 {id:bcd6} {serial:2}] {xor8} 7E");
    struct replay_vars v = {.id = "013912345678", .serial = 0x0013};
    const uint8_t want[] = {0x7E, 0x00, 0x02, 0x00, 0x00, 0x01, 0x39, 0x12,
                            0x34, 0x56, 0x78, 0x00, 0x13, 0x21, 0x7E};
    uint8_t out[64];
    size_t n = replay_tmpl_render(t, &v, out, sizeof out, NULL);
    assert_int_equal(n, sizeof want);
    assert_memory_equal(out, want, sizeof want);
    uint8_t x = 0;
    for (size_t i = 1; i < 13; i++)
        x ^= out[i];
    assert_int_equal(x, 0x21);
    assert_int_equal(replay_tmpl_min_size(t), 15);
    /* exactly the frame's size is enough */
    assert_int_equal(replay_tmpl_render(t, &v, out, 15, NULL), 15);
    replay_tmpl_free(t);
}

static void test_crc_check_values(void **state)
{
    (void)state;
    /* "123456789": CRC-16/CCITT-FALSE 0x29B1, CRC-16/MODBUS 0x4B37, xor 0x31, sum 0xDD
     * (the 8-bit ones are read with the 00 after them) */
    const struct {
        const char *tmpl;
        uint16_t want;
    } cases[] = {
        {"[313233343536373839] {crc16}", 0x29B1},
        {"[313233343536373839] {crc16:modbus}", 0x4B37},
        {"313233343536373839 {crc16}", 0x29B1},
        {"{crc16} [313233343536373839]", 0x29B1},
        {"[313233343536373839] {xor8} 00", 0x3100},
        {"[313233343536373839] {sum8} 00", 0xDD00},
        {"[] {crc16}", 0xFFFF}, /* empty span: the init value */
        {"[] {crc16:modbus}", 0xFFFF},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct replay_tmpl *t = compile_ok(cases[i].tmpl);
        uint8_t out[16];
        size_t n = replay_tmpl_render(t, NULL, out, sizeof out, NULL);
        size_t at = cases[i].tmpl[0] == '{' ? 0 : n - 2;
        assert_int_equal(out[at] << 8 | out[at + 1], cases[i].want);
        replay_tmpl_free(t);
    }
}

/* xorshift32 from a caller's state: golden values, advanced, deterministic. */
static void test_rand(void **state)
{
    (void)state;
    uint32_t rng = 1;
    struct replay_vars v = {.rng = &rng};
    /* seed 1: 270369 (0x00042021) then 67634689 (0x04080601) */
    render_is("rand:4 seed 1", "{rand:4}", &v, "00042021");
    assert_int_equal(rng, 270369);
    rng = 1;
    render_is("rand:8 seed 1", "{rand:8}", &v, "0004202104080601");
    assert_int_equal(rng, 67634689);
    rng = 1;
    render_is("rand:3 drops the rest of a step", "{rand:3}", &v, "000420");
    assert_int_equal(rng, 270369);
    rng = 12345;
    render_is("rand:6 seed 12345", "{rand:6}", &v, "C6E5747A652A");
    assert_int_equal(rng, 1697253807);
    rng = 0;
    render_is("rand:4 seed 0 acts as 2463534242", "{rand:4}", &v, "2B1F4D63");
    assert_int_equal(rng, 723471715);

    /* two renders continue the stream; the same seed gives the same frames */
    struct replay_tmpl *t = compile_ok("AA {rand:5} {rand:2}");
    uint8_t a[16], b[16], c[16];
    rng = 99;
    assert_int_equal(replay_tmpl_render(t, &v, a, sizeof a, NULL), 8);
    uint32_t after = rng;
    assert_int_equal(replay_tmpl_render(t, &v, b, sizeof b, NULL), 8);
    assert_memory_not_equal(a, b, 8);
    rng = 99;
    assert_int_equal(replay_tmpl_render(t, &v, c, sizeof c, NULL), 8);
    assert_memory_equal(a, c, 8);
    assert_int_equal(rng, after);
    /* 1024 bytes at most, and all of them */
    replay_tmpl_free(t);
    t = compile_ok("{rand:1024}");
    uint8_t big[1024];
    assert_int_equal(replay_tmpl_render(t, &v, big, sizeof big, NULL), 1024);
    replay_tmpl_free(t);
}

static void test_has_and_sizes(void **state)
{
    (void)state;
    struct replay_tmpl *t = compile_ok("7E [0002 {len:2} {id:str} {serial:2}] {crc16:modbus} 7E");
    assert_true(replay_tmpl_has(t, "serial"));
    assert_true(replay_tmpl_has(t, "id"));
    assert_true(replay_tmpl_has(t, "len"));
    assert_true(replay_tmpl_has(t, "crc16"));
    assert_false(replay_tmpl_has(t, "index"));
    assert_false(replay_tmpl_has(t, "xor8"));
    assert_false(replay_tmpl_has(t, "rand"));
    assert_false(replay_tmpl_has(t, "nonsense"));
    assert_false(replay_tmpl_has(t, NULL));
    assert_int_equal(replay_tmpl_min_size(t), 10);
    struct replay_vars v = {.id = "ABCDE"};
    assert_int_equal(replay_tmpl_size(t, &v), 15);
    assert_int_equal(replay_tmpl_size(t, NULL), 10);
    replay_tmpl_free(t);
    replay_tmpl_free(NULL);

    struct replay_pat *p = pat_ok("7E {serial:2} * {index:1}");
    assert_true(replay_pat_has(p, "serial"));
    assert_true(replay_pat_has(p, "index"));
    assert_false(replay_pat_has(p, "counter"));
    replay_pat_free(p);
    replay_pat_free(NULL);
}

/* --- compile errors: offset and message ------------------------------------- */

struct err_case {
    const char *text;
    bool pattern;
    enum replay_rc rc;
    size_t offset;
    const char *msg;
};

static const struct err_case err_cases[] = {
    {"7E [0002 0000 {idx:2}] 7E", false, REPLAY_E_SYNTAX, 14,
     "offset 14: unknown placeholder \"idx\" (did you mean \"index\"?)"},
    {"{INDEX:1}", false, REPLAY_E_SYNTAX, 0,
     "offset 0: unknown placeholder \"INDEX\" (did you mean \"index\"?)"},
    {"{seriel:2}", false, REPLAY_E_SYNTAX, 0,
     "offset 0: unknown placeholder \"seriel\" (did you mean \"serial\"?)"},
    {"01 {foo}", false, REPLAY_E_SYNTAX, 3, "offset 3: unknown placeholder \"foo\""},
    {"7E 0", false, REPLAY_E_SYNTAX, 3,
     "offset 3: odd number of hex digits (\"0\" has no partner)"},
    {"7E0", false, REPLAY_E_SYNTAX, 2, "offset 2: odd number of hex digits (\"0\" has no partner)"},
    {"7 E", false, REPLAY_E_SYNTAX, 0, "offset 0: odd number of hex digits (\"7\" has no partner)"},
    {"7E G1", false, REPLAY_E_SYNTAX, 3, "offset 3: unexpected character \"G\""},
    {"7E \x01", false, REPLAY_E_SYNTAX, 3, "offset 3: unexpected byte 0x01"},
    {"7E {serial}", false, REPLAY_E_SYNTAX, 3,
     "offset 3: {serial} needs a width in bytes, e.g. {serial:2}"},
    {"{serial:9}", false, REPLAY_E_SYNTAX, 8, "offset 8: width \"9\" of {serial} is not 1..8"},
    {"{index:0}", false, REPLAY_E_SYNTAX, 7, "offset 7: width \"0\" of {index} is not 1..8"},
    {"{len:two}", false, REPLAY_E_SYNTAX, 5, "offset 5: width \"two\" of {len} is not 1..8"},
    {"{serial:2:xx}", false, REPLAY_E_SYNTAX, 10,
     "offset 10: \"xx\" is not a byte order of {serial} (le or be)"},
    {"{serial:2:le:x}", false, REPLAY_E_SYNTAX, 13,
     "offset 13: {serial} takes a width and a byte order, not \"x\""},
    {"{serial:}", false, REPLAY_E_SYNTAX, 8, "offset 8: an empty argument after \":\""},
    {"{}", false, REPLAY_E_SYNTAX, 0, "offset 0: a placeholder without a name"},
    {"{a:b:c:d:e}", false, REPLAY_E_SYNTAX, 9, "offset 9: too many \":\" parts in a placeholder"},
    {"{id}", false, REPLAY_E_SYNTAX, 0,
     "offset 0: {id} needs a form: bcdN, asciiN or str, e.g. {id:bcd6}"},
    {"{id:bcd}", false, REPLAY_E_SYNTAX, 4,
     "offset 4: {id:bcdN} needs a width of 1..16 bytes, e.g. {id:bcd6}"},
    {"{id:bcd17}", false, REPLAY_E_SYNTAX, 4,
     "offset 4: {id:bcdN} needs a width of 1..16 bytes, e.g. {id:bcd6}"},
    {"{id:ascii0}", false, REPLAY_E_SYNTAX, 4,
     "offset 4: {id:asciiN} needs a width of 1..64 bytes, e.g. {id:ascii15}"},
    {"{id:hex6}", false, REPLAY_E_SYNTAX, 4,
     "offset 4: unknown id form \"hex6\" (bcdN, asciiN or str)"},
    {"{id:str:le}", false, REPLAY_E_SYNTAX, 8, "offset 8: {id} takes a form only, not \"le\""},
    {"{time}", false, REPLAY_E_SYNTAX, 0, "offset 0: {time} needs a form: bcd6, unix4 or unix8"},
    {"{time:bcd7}", false, REPLAY_E_SYNTAX, 6,
     "offset 6: {time:bcd} is 6 bytes (YYMMDDhhmmss): write {time:bcd6}"},
    {"{time:unix5}", false, REPLAY_E_SYNTAX, 6,
     "offset 6: {time:unix} is 4 or 8 bytes: write {time:unix4} or {time:unix8}"},
    {"{time:utc}", false, REPLAY_E_SYNTAX, 6,
     "offset 6: unknown time form \"utc\" (bcd6, unix4 or unix8)"},
    {"{time:bcd6:le}", false, REPLAY_E_SYNTAX, 11,
     "offset 11: {time:bcd6} takes no byte order, not \"le\""},
    {"{rand}", false, REPLAY_E_SYNTAX, 0, "offset 0: {rand} needs a width in bytes, e.g. {rand:4}"},
    {"{rand:0}", false, REPLAY_E_SYNTAX, 6, "offset 6: width \"0\" of {rand} is not 1..1024"},
    {"{rand:1025}", false, REPLAY_E_SYNTAX, 6, "offset 6: width \"1025\" of {rand} is not 1..1024"},
    {"{rand:4:le}", false, REPLAY_E_SYNTAX, 8, "offset 8: {rand} takes a width only, not \"le\""},
    {"01 {xor8:1}", false, REPLAY_E_SYNTAX, 9, "offset 9: {xor8} takes no argument, not \"1\""},
    {"{crc16:modbos}", false, REPLAY_E_SYNTAX, 7,
     "offset 7: unknown {crc16} option \"modbos\" (did you mean \"modbus\"?)"},
    {"{crc16:xyzzy}", false, REPLAY_E_SYNTAX, 7,
     "offset 7: unknown {crc16} option \"xyzzy\" (modbus, le or be)"},
    {"{crc16:le:be}", false, REPLAY_E_SYNTAX, 10, "offset 10: {crc16} has \"a byte order\" twice"},
    {"01 {serial:2", false, REPLAY_E_SYNTAX, 3, "offset 3: \"{\" is never closed"},
    {"01 }", false, REPLAY_E_SYNTAX, 3, "offset 3: \"}\" without \"{\""},
    {"{ser{ial}", false, REPLAY_E_SYNTAX, 4,
     "offset 4: \"{\" inside a placeholder (is the \"}\" of offset 0 missing?)"},
    {"[01 [02]]", false, REPLAY_E_SYNTAX, 4, "offset 4: \"[\" inside the span opened at offset 0"},
    {"[01] [02]", false, REPLAY_E_SYNTAX, 5,
     "offset 5: a second span (a template has at most one [...])"},
    {"[01] [02]", true, REPLAY_E_SYNTAX, 5,
     "offset 5: a second span (a pattern has at most one [...])"},
    {"01]", false, REPLAY_E_SYNTAX, 2, "offset 2: \"]\" without \"[\""},
    {"7E [01 02", false, REPLAY_E_SYNTAX, 3, "offset 3: \"[\" is never closed"},
    {"", false, REPLAY_E_SYNTAX, 0, "offset 0: empty template"},
    {"  []", false, REPLAY_E_SYNTAX, 4, "offset 4: empty template"},
    {"", true, REPLAY_E_SYNTAX, 0, "offset 0: empty pattern (\"*\" matches any frame)"},
    {"01 ??", false, REPLAY_E_SYNTAX, 3,
     "offset 3: \"??\" is for reply patterns; a template sends exact bytes"},
    {"01 *", false, REPLAY_E_SYNTAX, 3,
     "offset 3: \"*\" is for reply patterns; a template sends exact bytes"},
    {"01 ? 02", true, REPLAY_E_SYNTAX, 3, "offset 3: a lone \"?\" (any byte is \"??\")"},
    {"* 01 *", true, REPLAY_E_SYNTAX, 5, "offset 5: a second \"*\" (a pattern has at most one)"},
    {"01 {time:bcd6}", true, REPLAY_E_SYNTAX, 3,
     "offset 3: {time} cannot be matched in a pattern: write ?? for each of its bytes"},
    {"{rand:2}", true, REPLAY_E_SYNTAX, 0,
     "offset 0: {rand} cannot be matched in a pattern: write ?? for each of its bytes"},
    {"{len:1} {rand:256}", false, REPLAY_E_LIMIT, 0,
     "offset 0: {len:1} cannot hold the 256 bytes it counts"},
};

static void check_err(const char *text, bool pattern, enum replay_rc rc, size_t offset,
                      const char *msg)
{
    struct replay_err e;
    memset(&e, 0x55, sizeof e);
    int r;
    if (pattern) {
        struct replay_pat *p = (struct replay_pat *)1;
        r = replay_pat_compile(text, &p, &e);
        assert_null(p);
    } else {
        struct replay_tmpl *t = (struct replay_tmpl *)1;
        r = replay_tmpl_compile(text, &t, &e);
        assert_null(t);
    }
    if (r != -1 || e.rc != rc || e.offset != offset || strcmp(e.msg, msg) != 0)
        print_error("\"%s\": got rc %d offset %zu \"%s\"\n   expected offset %zu \"%s\"\n", text, r,
                    e.offset, r ? e.msg : "", offset, msg);
    assert_int_equal(r, -1);
    assert_int_equal(e.rc, rc);
    assert_int_equal(e.offset, offset);
    assert_string_equal(e.msg, msg);
}

static void test_compile_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof err_cases / sizeof err_cases[0]; i++) {
        const struct err_case *c = &err_cases[i];
        check_err(c->text, c->pattern, c->rc, c->offset, c->msg);
    }
    /* no text at all */
    struct replay_tmpl *t;
    struct replay_err e;
    assert_int_equal(replay_tmpl_compile(NULL, &t, &e), -1);
    assert_int_equal(e.rc, REPLAY_E_SYNTAX);
}

/* 65,535 bytes compile; one more does not, and the offset is where it tips over. */
static void test_size_limit(void **state)
{
    (void)state;
    char text[64 * 12 + 16];
    size_t o = 0;
    for (int i = 0; i < 63; i++)
        o += (size_t)snprintf(text + o, sizeof text - o, "{rand:1024}");
    snprintf(text + o, sizeof text - o, "{rand:1023}");
    struct replay_tmpl *t = compile_ok(text);
    assert_int_equal(replay_tmpl_min_size(t), 65535);
    replay_tmpl_free(t);

    snprintf(text + o, sizeof text - o, "{rand:1024}");
    check_err(text, false, REPLAY_E_LIMIT, 63 * 11,
              "offset 693: the frame would be over 65535 bytes");

    /* literal bytes: the byte that crosses is the one named */
    size_t n = 65536 * 2;
    char *hex = malloc(n + 1);
    assert_non_null(hex);
    memset(hex, 'A', n);
    hex[n] = 0;
    check_err(hex, false, REPLAY_E_LIMIT, 65535 * 2,
              "offset 131070: the frame would be over 65535 bytes");
    hex[n - 2] = 0;
    t = compile_ok(hex);
    assert_int_equal(replay_tmpl_min_size(t), 65535);
    replay_tmpl_free(t);
    free(hex);
}

/* --- render errors ---------------------------------------------------------- */

struct render_err_case {
    const char *tmpl;
    struct replay_vars v;
    size_t cap;
    enum replay_rc rc;
    size_t offset;
    const char *msg;
};

static const struct render_err_case render_errs[] = {
    {"{id:bcd2}",
     {.id = "12345"},
     64,
     REPLAY_E_VALUE,
     0,
     "offset 0: id \"12345\" has 5 digits; {id:bcd2} holds 4"},
    {"01 {id:bcd6}",
     {.id = "12a"},
     64,
     REPLAY_E_VALUE,
     3,
     "offset 3: id \"12a\" is not decimal (character 2) for {id:bcd6}"},
    {"01 {id:ascii3}",
     {.id = "1234"},
     64,
     REPLAY_E_VALUE,
     3,
     "offset 3: id \"1234\" has 4 characters; {id:ascii3} holds 3"},
    {"01 {id:bcd6}", {0}, 64, REPLAY_E_VALUE, 3, "offset 3: {id:bcd6} but no id given"},
    {"01 02 {id:str}", {0}, 64, REPLAY_E_VALUE, 6, "offset 6: {id:str} but no id given"},
    {"{id:str}",
     {.id = ""},
     64,
     REPLAY_E_VALUE,
     0,
     "offset 0: the frame would be empty (empty id)"},
    {"AA {rand:2}", {0}, 64, REPLAY_E_VALUE, 3, "offset 3: {rand:2} but no rng state given"},
    {"7E [0002 0000 {id:bcd6} {serial:2}] {xor8} 7E",
     {.id = "1"},
     10,
     REPLAY_E_NOSPACE,
     15,
     "the frame is 15 bytes, the buffer holds 10"},
};

static void test_render_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof render_errs / sizeof render_errs[0]; i++) {
        const struct render_err_case *c = &render_errs[i];
        struct replay_tmpl *t = compile_ok(c->tmpl);
        uint8_t *out = malloc(c->cap);
        struct replay_err e;
        size_t n = replay_tmpl_render(t, &c->v, out, c->cap, &e);
        if (n != 0 || e.rc != c->rc || e.offset != c->offset || strcmp(e.msg, c->msg) != 0)
            print_error("\"%s\": got %zu rc %d offset %zu \"%s\"\n", c->tmpl, n, e.rc, e.offset,
                        e.msg);
        assert_int_equal(n, 0);
        assert_int_equal(e.rc, c->rc);
        assert_int_equal(e.offset, c->offset);
        assert_string_equal(e.msg, c->msg);
        free(out);
        replay_tmpl_free(t);
    }

    /* a span of 257 bytes does not fit its {len:1} */
    struct replay_tmpl *t = compile_ok("[{len:1} {id:str}]");
    char id[1100];
    memset(id, '7', 256);
    id[256] = 0;
    struct replay_vars v = {.id = id};
    struct replay_err e;
    uint8_t out[1100];
    assert_int_equal(replay_tmpl_render(t, &v, out, sizeof out, &e), 0);
    assert_int_equal(e.rc, REPLAY_E_VALUE);
    assert_int_equal(e.offset, 1);
    assert_string_equal(e.msg, "offset 1: {len:1} cannot hold the 257 bytes it counts");
    id[254] = 0;
    assert_int_equal(replay_tmpl_render(t, &v, out, sizeof out, &e), 255);
    assert_int_equal(out[0], 255);
    replay_tmpl_free(t);

    /* a failed render leaves the rng state alone */
    t = compile_ok("{rand:4} {id:bcd1}");
    uint32_t rng = 7;
    v = (struct replay_vars){.id = "123", .rng = &rng};
    assert_int_equal(replay_tmpl_render(t, &v, out, sizeof out, NULL), 0);
    assert_int_equal(rng, 7);
    /* no buffer at all */
    v.id = "1";
    assert_int_equal(replay_tmpl_render(t, &v, NULL, 0, &e), 0);
    assert_int_equal(e.rc, REPLAY_E_NOSPACE);
    assert_int_equal(e.offset, 5);
    replay_tmpl_free(t);

    /* with {id:str} the static size passes compile but this id breaks the limit */
    char text[64 * 12 + 16];
    size_t o = 0;
    for (int i = 0; i < 63; i++)
        o += (size_t)snprintf(text + o, sizeof text - o, "{rand:1024}");
    snprintf(text + o, sizeof text - o, "{id:str}");
    t = compile_ok(text);
    memset(id, '9', sizeof id - 1);
    id[sizeof id - 1] = 0;
    v.id = id;
    uint8_t *big = malloc(70000);
    assert_non_null(big);
    assert_int_equal(replay_tmpl_render(t, &v, big, 70000, &e), 0);
    assert_int_equal(e.rc, REPLAY_E_LIMIT);
    assert_int_equal(e.offset, 63 * 1024 + 1099);
    assert_string_equal(e.msg, "the frame would be 65611 bytes with this id, over 65535");
    id[1023] = 0;
    assert_int_equal(replay_tmpl_render(t, &v, big, 70000, &e), 65535);
    free(big);
    replay_tmpl_free(t);
}

/* --- patterns --------------------------------------------------------------- */

/* The platform's general reply (0x8001) to the heartbeat above: platform serial
 * 0007, reply serial 0013, reply id 0002, result 00. */
#define JT_8001 "7E8001000501391234567800070013000200A27E"
#define JT_8001_PAT "7E [8001 0005 {id:bcd6} ???? {serial:2} 0002 ??] {xor8} 7E"

struct match_case {
    const char *what;
    const char *pat;
    const char *frame;
    struct replay_vars v;
    bool no_vars; /* pass v = NULL */
    unsigned check;
    int want;
    size_t offset;   /* on a mismatch */
    const char *msg; /* on a mismatch */
};

static const struct match_case match_cases[] = {
    {"8001 matches",
     JT_8001_PAT,
     JT_8001,
     {.id = "013912345678", .serial = 0x13},
     false,
     REPLAY_CHECK_SERIAL,
     1,
     0,
     NULL},
    {"8001 id left-padded", JT_8001_PAT, JT_8001, {.id = "13912345678"}, false, 0, 1, 0, NULL},
    {"8001 other serial, captured only",
     JT_8001_PAT,
     JT_8001,
     {.id = "013912345678", .serial = 0x14},
     false,
     0,
     1,
     0,
     NULL},
    {"8001 other serial, checked",
     JT_8001_PAT,
     JT_8001,
     {.id = "013912345678", .serial = 0x14},
     false,
     REPLAY_CHECK_SERIAL,
     0,
     13,
     "frame offset 13: {serial:2} is 0x0013, expected 0x0014 (pattern offset 29)"},
    {"8001 other terminal",
     JT_8001_PAT,
     JT_8001,
     {.id = "013912345679"},
     false,
     0,
     0,
     10,
     "frame offset 10: {id:bcd6} is 013912345678, expected 013912345679 (pattern offset 14)"},
    {"8001 id too long for the field",
     JT_8001_PAT,
     JT_8001,
     {.id = "0139123456789"},
     false,
     0,
     0,
     5,
     "frame offset 5: id \"0139123456789\" has 13 digits; {id:bcd6} holds 12"},
    {"8001 without vars", JT_8001_PAT, JT_8001, {0}, true, REPLAY_CHECK_SERIAL, 1, 0, NULL},
    {"8001 bad check byte",
     JT_8001_PAT,
     "7E8001000501391234567800070013000200A37E",
     {.id = "013912345678"},
     false,
     0,
     0,
     18,
     "frame offset 18: {xor8} is 0xA3, computed 0xA2 (pattern offset 49)"},
    {"8001 other message id",
     JT_8001_PAT,
     "7E8101000501391234567800070013000200A27E",
     {0},
     true,
     0,
     0,
     1,
     "frame offset 1: 0x81 where the pattern has 0x80 (pattern offset 4)"},
    {"8001 second byte of a run",
     JT_8001_PAT,
     "7E8001000601391234567800070013000200A27E",
     {0},
     true,
     0,
     0,
     4,
     "frame offset 4: 0x06 where the pattern has 0x05 (pattern offset 11)"},
    {"8001 truncated",
     JT_8001_PAT,
     "7E80010005013912",
     {0},
     true,
     0,
     0,
     8,
     "frame offset 8: the frame ends after 8 bytes; the pattern needs 20"},
    {"8001 truncated, a literal differs first",
     JT_8001_PAT,
     "7E80020005",
     {0},
     true,
     0,
     0,
     2,
     "frame offset 2: 0x02 where the pattern has 0x01 (pattern offset 6)"},
    {"8001 one byte too many",
     JT_8001_PAT,
     JT_8001 "00",
     {0},
     true,
     0,
     0,
     20,
     "frame offset 20: 1 bytes more than the pattern's 20"},
    {"8001 empty frame",
     JT_8001_PAT,
     "",
     {0},
     true,
     0,
     0,
     0,
     "frame offset 0: the frame ends after 0 bytes; the pattern needs 20"},
    {"star: empty run", "7E [8001 *] {xor8} 7E", "7E8001817E", {0}, true, 0, 1, 0, NULL},
    {"star: a long run", "7E [8001 *] {xor8} 7E", JT_8001, {0}, true, 0, 1, 0, NULL},
    {"star: too short",
     "7E [8001 *] {xor8} 7E",
     "7E80017E",
     {0},
     true,
     0,
     0,
     4,
     "frame offset 4: the frame ends after 4 bytes; the pattern needs at least 5"},
    {"star: suffix differs",
     "7E * 7E",
     "7E01027F",
     {0},
     true,
     0,
     0,
     3,
     "frame offset 3: 0x7F where the pattern has 0x7E (pattern offset 5)"},
    {"star alone", "*", "", {0}, true, 0, 1, 0, NULL},
    {"?? any byte", "01 ?? ?? 04", "01FF0004", {0}, true, 0, 1, 0, NULL},
    {"len in a pattern", "[{len:1} ??] *", "020099", {0}, true, 0, 1, 0, NULL},
    {"len wrong",
     "[{len:1} ??] *",
     "030099",
     {0},
     true,
     0,
     0,
     0,
     "frame offset 0: {len:1} is 3, but the span is 2 bytes (pattern offset 1)"},
    {"len without span", "AA {len:2} *", "AA0003010203", {0}, true, 0, 1, 0, NULL},
    {"len without span wrong",
     "AA {len:2} *",
     "AA000401020304FF",
     {0},
     true,
     0,
     0,
     1,
     "frame offset 1: {len:2} is 4, but after it come 5 bytes (pattern offset 3)"},
    {"index checked", "{index:2} ??", "0007FF", {.index = 7}, false, 0, 1, 0, NULL},
    {"index differs",
     "{index:2} ??",
     "0008FF",
     {.index = 7},
     false,
     0,
     0,
     0,
     "frame offset 0: {index:2} is 0x0008, expected 0x0007 (pattern offset 0)"},
    {"gindex low bytes", "{gindex:1:le}", "01", {.gindex = 0x101}, false, 0, 1, 0, NULL},
    {"counter checked",
     "{counter:4:le}",
     "05000000",
     {.counter = 5},
     false,
     REPLAY_CHECK_COUNTER,
     1,
     0,
     NULL},
    {"counter differs",
     "{counter:4:le}",
     "06000000",
     {.counter = 5},
     false,
     REPLAY_CHECK_COUNTER,
     0,
     0,
     "frame offset 0: {counter:4:le} is 0x00000006, expected 0x00000005 (pattern offset 0)"},
    {"a serial twice agrees", "{serial:1} 00 {serial:1}", "050005", {0}, true, 0, 1, 0, NULL},
    {"a serial twice differs",
     "{serial:1} 00 {serial:1}",
     "050006",
     {0},
     true,
     0,
     0,
     2,
     "frame offset 2: {serial:1} is 0x06, an earlier one 0x05 (pattern offset 14)"},
    {"a serial in two widths", "{serial:1} {serial:2}", "340134", {0}, true, 0, 1, 0, NULL},
    {"a serial in two widths differs",
     "{serial:2} {serial:1}",
     "013435",
     {0},
     true,
     0,
     0,
     2,
     "frame offset 2: {serial:1} is 0x35, an earlier one 0x0134 (pattern offset 11)"},
    {"id:ascii", "{id:ascii5} ??", "3030313233FF", {.id = "123"}, false, 0, 1, 0, NULL},
    {"id:ascii differs",
     "{id:ascii5}",
     "3030313234",
     {.id = "123"},
     false,
     0,
     0,
     4,
     "frame offset 4: {id:ascii5} is 00124, expected 00123 (pattern offset 0)"},
    {"id:str", "01 {id:str} *", "01414243FFFF", {.id = "ABC"}, false, 0, 1, 0, NULL},
    {"id:str without an id",
     "01 {id:str} *",
     "01414243",
     {0},
     true,
     0,
     0,
     0,
     "frame offset 0: the pattern has {id:str} but no id was given"},
    {"Modbus response", "01 03 ?? * {crc16:modbus:le}", "010302000A3843", {0}, true, 0, 1, 0, NULL},
    {"Modbus response bad crc",
     "01 03 ?? * {crc16:modbus:le}",
     "010302000A3844",
     {0},
     true,
     0,
     0,
     5,
     "frame offset 5: {crc16:modbus:le} is 0x4438, computed 0x4338 (pattern offset 11)"},
};

static void test_match(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof match_cases / sizeof match_cases[0]; i++) {
        const struct match_case *c = &match_cases[i];
        struct replay_pat *p = pat_ok(c->pat);
        size_t n;
        uint8_t *f = unhex(c->frame, &n);
        struct replay_err e;
        memset(&e, 0, sizeof e);
        int r = replay_pat_match(p, f, n, c->no_vars ? NULL : &c->v, c->check, NULL, &e);
        if (r != c->want || (c->msg && (e.offset != c->offset || strcmp(e.msg, c->msg) != 0)))
            print_error("%s: got %d offset %zu \"%s\"\n", c->what, r, e.offset, e.msg);
        assert_int_equal(r, c->want);
        if (c->want == 0) {
            assert_int_equal(e.rc, REPLAY_E_MISMATCH);
            assert_int_equal(e.offset, c->offset);
            assert_string_equal(e.msg, c->msg);
        }
        free(f);
        replay_pat_free(p);
    }
}

static void test_capture(void **state)
{
    (void)state;
    struct replay_pat *p = pat_ok(JT_8001_PAT);
    size_t n;
    uint8_t *f = unhex(JT_8001, &n);
    struct replay_capture cap;
    memset(&cap, 0xAA, sizeof cap);
    struct replay_vars v = {.id = "013912345678"};
    assert_int_equal(replay_pat_match(p, f, n, &v, 0, &cap, NULL), 1);
    assert_true(cap.has_serial);
    assert_int_equal(cap.serial, 0x13);
    assert_false(cap.has_counter);
    assert_false(cap.has_index);
    assert_false(cap.has_gindex);
    /* the serial is captured even when the check byte fails after it */
    f[18] ^= 1;
    struct replay_err e;
    assert_int_equal(replay_pat_match(p, f, n, &v, 0, &cap, &e), 0);
    assert_true(cap.has_serial);
    assert_int_equal(cap.serial, 0x13);
    free(f);
    replay_pat_free(p);

    p = pat_ok("{index:1} {gindex:2:le} {counter:3} {serial:4:le}");
    f = unhex("0502010A0B0C04030201", &n);
    assert_int_equal(replay_pat_match(p, f, n, NULL, 0, &cap, NULL), 1);
    assert_true(cap.has_index && cap.has_gindex && cap.has_counter && cap.has_serial);
    assert_int_equal(cap.index, 5);
    assert_int_equal(cap.gindex, 0x0102);
    assert_int_equal(cap.counter, 0x0A0B0C);
    assert_int_equal(cap.serial, 0x01020304);
    free(f);
    replay_pat_free(p);
}

/* What a template renders, the same text as a pattern matches. */
static void test_render_then_match(void **state)
{
    (void)state;
    const char *texts[] = {
        "7E [0002 0000 {id:bcd6} {serial:2}] {xor8} 7E",
        "[{len:2} {index:2} {id:str} {counter:4:le}] {crc16}",
        "[01 {crc16} 02 {xor8} {len:1}] {sum8} {crc16:modbus:le}",
        "AA {len:1} {gindex:3} {id:ascii8} {xor8} {sum8} {crc16:le}",
        "{serial:1} {serial:2} {serial:8:le} {xor8}",
    };
    struct replay_vars v = {
        .index = 3, .gindex = 70000, .serial = 0xBEEF, .counter = 9, .id = "4711"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        struct replay_tmpl *t = compile_ok(texts[i]);
        struct replay_pat *p = pat_ok(texts[i]);
        uint8_t out[256];
        size_t n = replay_tmpl_render(t, &v, out, sizeof out, NULL);
        assert_true(n > 0);
        struct replay_err e;
        int r =
            replay_pat_match(p, out, n, &v, REPLAY_CHECK_SERIAL | REPLAY_CHECK_COUNTER, NULL, &e);
        if (r != 1)
            print_error("%s: %s\n", texts[i], e.msg);
        assert_int_equal(r, 1);
        /* any one bit flipped anywhere is caught (the templates carry a checksum) */
        for (size_t b = 0; b < n * 8; b++) {
            out[b / 8] ^= (uint8_t)(1u << (b % 8));
            assert_int_equal(replay_pat_match(p, out, n, &v,
                                              REPLAY_CHECK_SERIAL | REPLAY_CHECK_COUNTER, NULL, &e),
                             0);
            assert_int_equal(e.rc, REPLAY_E_MISMATCH);
            assert_true(e.offset < n);
            out[b / 8] ^= (uint8_t)(1u << (b % 8));
        }
        replay_pat_free(p);
        replay_tmpl_free(t);
    }
}

/* --- framing ---------------------------------------------------------------- */

struct framing_ok_case {
    const char *spec;
    struct replay_framing f;
};

static const struct framing_ok_case framing_ok[] = {
    {"delim:7E", {.kind = REPLAY_FRAME_DELIM, .delim = 0x7E, .max_frame = 65535}},
    {"delim:0x7e,max=1024", {.kind = REPLAY_FRAME_DELIM, .delim = 0x7E, .max_frame = 1024}},
    {"length:offset=1,size=2,adjust=4",
     {.kind = REPLAY_FRAME_LENGTH,
      .len_offset = 1,
      .len_size = 2,
      .len_adjust = 4,
      .max_frame = 65535}},
    {"length:size=4,le,adjust=-2,offset=0x10,max=4096",
     {.kind = REPLAY_FRAME_LENGTH,
      .len_offset = 16,
      .len_size = 4,
      .len_le = true,
      .len_adjust = -2,
      .max_frame = 4096}},
    {" length : offset = 1 , size = 1 , be ",
     {.kind = REPLAY_FRAME_LENGTH, .len_offset = 1, .len_size = 1, .max_frame = 65535}},
    {"fixed:16", {.kind = REPLAY_FRAME_FIXED, .fixed = 16, .max_frame = 16}},
    {"fixed:100000", {.kind = REPLAY_FRAME_FIXED, .fixed = 100000, .max_frame = 100000}},
    {"fixed:16,max=32", {.kind = REPLAY_FRAME_FIXED, .fixed = 16, .max_frame = 32}},
    {"none", {.kind = REPLAY_FRAME_NONE, .max_frame = 65535}},
    {"none:max=1500", {.kind = REPLAY_FRAME_NONE, .max_frame = 1500}},
};

static void test_framing_parse(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof framing_ok / sizeof framing_ok[0]; i++) {
        struct replay_framing f;
        struct replay_err e;
        memset(&f, 0x55, sizeof f);
        int r = replay_framing_parse(framing_ok[i].spec, &f, &e);
        if (r != 0)
            print_error("\"%s\": %s\n", framing_ok[i].spec, e.msg);
        assert_int_equal(r, 0);
        const struct replay_framing *w = &framing_ok[i].f;
        assert_int_equal(f.kind, w->kind);
        assert_int_equal(f.delim, w->delim);
        assert_int_equal(f.len_offset, w->len_offset);
        assert_int_equal(f.len_size, w->len_size);
        assert_int_equal(f.len_le, w->len_le);
        assert_int_equal(f.len_adjust, w->len_adjust);
        assert_int_equal(f.fixed, w->fixed);
        assert_int_equal(f.max_frame, w->max_frame);
    }
}

static const struct err_case framing_errs[] = {
    {"lenght:size=2", false, REPLAY_E_SYNTAX, 0,
     "offset 0: unknown framing \"lenght\" (did you mean \"length\"?)"},
    {"slip", false, REPLAY_E_SYNTAX, 0,
     "offset 0: unknown framing \"slip\" (delim, length, fixed or none)"},
    {"", false, REPLAY_E_SYNTAX, 0,
     "offset 0: unknown framing \"\" (delim, length, fixed or none)"},
    {"delim", false, REPLAY_E_SYNTAX, 5, "offset 5: \"delim\" needs a byte, e.g. delim:7E"},
    {"delim:7", false, REPLAY_E_SYNTAX, 6,
     "offset 6: delimiter \"7\" is not one hex byte (like 7E) or jt808 or hdlc"},
    {"delim:7E7E", false, REPLAY_E_SYNTAX, 6,
     "offset 6: delimiter \"7E7E\" is not one hex byte (like 7E) or jt808 or hdlc"},
    {"delim:7E,size=2", false, REPLAY_E_SYNTAX, 9, "offset 9: unknown framing option \"size\""},
    {"delim:7E,mx=2", false, REPLAY_E_SYNTAX, 9,
     "offset 9: unknown framing option \"mx\" (did you mean \"max\"?)"},
    {"delim:7E,max=0", false, REPLAY_E_SYNTAX, 13, "offset 13: max \"0\" is not 1..16777216"},
    {"delim:7E,", false, REPLAY_E_SYNTAX, 9, "offset 9: an empty framing option"},
    {"fixed", false, REPLAY_E_SYNTAX, 5, "offset 5: \"fixed\" needs a size, e.g. fixed:16"},
    {"fixed:0", false, REPLAY_E_SYNTAX, 6, "offset 6: size \"0\" is not 1..16777216"},
    {"fixed:32,max=16", false, REPLAY_E_SYNTAX, 15, "offset 15: fixed:32 is over max=16"},
    {"length", false, REPLAY_E_SYNTAX, 6,
     "offset 6: \"length\" needs size=, e.g. length:offset=1,size=2,adjust=4"},
    {"length:offset=1", false, REPLAY_E_SYNTAX, 15,
     "offset 15: length framing needs size=, e.g. size=2"},
    {"length:ofset=1,size=2", false, REPLAY_E_SYNTAX, 7,
     "offset 7: unknown framing option \"ofset\" (did you mean \"offset\"?)"},
    {"length:size=9", false, REPLAY_E_SYNTAX, 12, "offset 12: size \"9\" is not 1..8"},
    {"length:size=2,size=2", false, REPLAY_E_SYNTAX, 14, "offset 14: \"size\" given twice"},
    {"length:size=2,le,be", false, REPLAY_E_SYNTAX, 17, "offset 17: \"le/be\" given twice"},
    {"length:size=2,le=1", false, REPLAY_E_SYNTAX, 14, "offset 14: \"le\" takes no value"},
    {"length:size", false, REPLAY_E_SYNTAX, 7, "offset 7: \"size\" needs a value, e.g. size=2"},
    {"length:size=2,adjust=x", false, REPLAY_E_SYNTAX, 21,
     "offset 21: adjust \"x\" is not a number"},
    {"length:size=2,offset=-1", false, REPLAY_E_SYNTAX, 21,
     "offset 21: offset \"-1\" is not a byte offset"},
    {"length:offset=9,size=2,max=10", false, REPLAY_E_SYNTAX, 29,
     "offset 29: the length field ends at byte 11, past max=10"},
    {"none:", false, REPLAY_E_SYNTAX, 5, "offset 5: an empty framing option"},
    {"none x", false, REPLAY_E_SYNTAX, 5, "offset 5: expected \":\" after \"none\""},
};

static void test_framing_parse_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof framing_errs / sizeof framing_errs[0]; i++) {
        const struct err_case *c = &framing_errs[i];
        struct replay_framing f;
        struct replay_err e;
        memset(&e, 0, sizeof e);
        int r = replay_framing_parse(c->text, &f, &e);
        if (r != -1 || e.offset != c->offset || strcmp(e.msg, c->msg) != 0)
            print_error("\"%s\": got %d offset %zu \"%s\"\n", c->text, r, e.offset, e.msg);
        assert_int_equal(r, -1);
        assert_int_equal(e.rc, c->rc);
        assert_int_equal(e.offset, c->offset);
        assert_string_equal(e.msg, c->msg);
    }
}

/* Feed a stream to the framer in chunks of `chunk` bytes, as reads would come, and
 * collect the frames as hex joined by '|'.  Returns the garbage bytes skipped, or
 * -1 on a framing error (*err filled). */
static long feed(const struct replay_framing *f, const uint8_t *s, size_t n, size_t chunk,
                 char *frames, size_t cap, struct replay_err *err)
{
    uint8_t buf[512];
    size_t have = 0, fed = 0;
    long skipped_total = 0;
    frames[0] = 0;
    while (fed < n || have) {
        size_t k = n - fed < chunk ? n - fed : chunk;
        memcpy(buf + have, s + fed, k);
        have += k;
        fed += k;
        for (;;) {
            size_t start, len, skipped;
            long r = replay_framing_next(f, buf, have, &start, &len, &skipped, err);
            if (r < 0)
                return -1;
            if (r == 0)
                break;
            assert_true((size_t)r <= have);
            assert_true(start + len <= (size_t)r);
            assert_int_equal(skipped, start);
            skipped_total += (long)skipped;
            if (len) {
                char hex[256];
                hex_encode(buf + start, len, hex, sizeof hex);
                if (frames[0])
                    strncat(frames, "|", cap - strlen(frames) - 1);
                strncat(frames, hex, cap - strlen(frames) - 1);
            }
            memmove(buf, buf + r, have - (size_t)r);
            have -= (size_t)r;
        }
        if (fed == n)
            break;
    }
    return skipped_total;
}

struct stream_case {
    const char *what;
    const char *spec;
    const char *stream;
    const char *frames;
    long skipped;
    size_t left; /* bytes still waiting for more at the end */
};

static const struct stream_case stream_cases[] = {
    {"delim: garbage, back to back, a doubled delimiter", "delim:7E",
     "FFFF7E01027E7E037E007E7E047E", "7E01027E|7E037E|7E047E", 4, 0},
    {"delim: JT/T 808 heartbeat then 8001", "delim:7E", "7E000200000139123456780013217E" JT_8001,
     "7E000200000139123456780013217E|" JT_8001, 0, 0},
    {"delim: only garbage", "delim:7E", "FFFFFF", "", 3, 0},
    {"delim: an unfinished frame waits", "delim:7E", "AA7E0102", "", 1, 3},
    {"delim: other byte", "delim:C0", "C0DB01C0C0", "C0DB01C0", 0, 1},
    {"length: two frames", "length:offset=1,size=2,adjust=4", "010002AABBCC020000DD",
     "010002AABBCC|020000DD", 0, 0},
    {"length: little-endian, adjust 0", "length:offset=0,size=2,le", "0300AA0200", "0300AA|0200", 0,
     0},
    {"length: a partial frame waits", "length:offset=1,size=2,adjust=4", "010005AABB", "", 0, 5},
    {"length: field not complete yet", "length:offset=1,size=2,adjust=4", "0100", "", 0, 2},
    {"fixed: 4", "fixed:4", "0102030405060708090A", "01020304|05060708", 0, 2},
    {"none: one frame per read", "none", "0102", "0102", 0, 0},
};

static void test_framing_streams(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof stream_cases / sizeof stream_cases[0]; i++) {
        const struct stream_case *c = &stream_cases[i];
        struct replay_framing f;
        assert_int_equal(replay_framing_parse(c->spec, &f, NULL), 0);
        size_t n;
        uint8_t *s = unhex(c->stream, &n);
        /* NONE frames each read, so only whole-stream reads apply to it */
        size_t max_chunk = f.kind == REPLAY_FRAME_NONE ? n : 1;
        for (size_t chunk = n; chunk >= max_chunk && chunk > 0; chunk--) {
            char frames[1024];
            struct replay_err e;
            long sk = feed(&f, s, n, chunk, frames, sizeof frames, &e);
            if (sk != c->skipped || strcmp(frames, c->frames) != 0)
                print_error("%s (reads of %zu): got \"%s\" skipped %ld (%s)\n", c->what, chunk,
                            frames, sk, sk < 0 ? e.msg : "");
            assert_int_equal(sk, c->skipped);
            assert_string_equal(frames, c->frames);
        }
        /* and what is left waiting, fed whole */
        size_t start, len, skipped, have = n;
        const uint8_t *b = s;
        long r;
        while ((r = replay_framing_next(&f, b, have, &start, &len, &skipped, NULL)) > 0) {
            b += r;
            have -= (size_t)r;
        }
        assert_int_equal(r, 0);
        assert_int_equal(have, c->left);
        free(s);
    }
}

struct framing_err_case {
    const char *what;
    const char *spec;
    const char *stream;
    enum replay_rc rc;
    size_t offset;
    const char *msg;
};

static const struct framing_err_case framing_bad[] = {
    {"delim: no close within max", "delim:7E,max=8", "00007E01020304050607", REPLAY_E_LIMIT, 2,
     "frame offset 2: no closing 0x7E within max_frame 8 bytes"},
    {"delim: a whole frame over max", "delim:7E,max=4", "7E0102037E", REPLAY_E_LIMIT, 0,
     "frame offset 0: a frame of 5 bytes, over max_frame 4"},
    {"length: over max", "length:offset=1,size=2,adjust=4,max=64", "010100", REPLAY_E_LIMIT, 1,
     "frame offset 1: the length field says 256, a frame of 260 bytes, over max_frame 64"},
    {"length: shorter than its own field", "length:offset=0,size=1", "00", REPLAY_E_FRAME, 0,
     "frame offset 0: the length field says 0 (frame size 0+0), less than the 1 bytes up to its "
     "end"},
    {"length: negative size", "length:offset=1,size=1,adjust=-8", "0102", REPLAY_E_FRAME, 1,
     "frame offset 1: the length field says 2 (frame size 2-8), less than the 2 bytes up to its "
     "end"},
    {"length: 8-byte field at the top", "length:offset=0,size=8,adjust=1", "FFFFFFFFFFFFFFFF",
     REPLAY_E_FRAME, 0,
     "frame offset 0: the length field says 18446744073709551615 (frame size "
     "18446744073709551615+1), less than "
     "the 8 bytes up to its end"},
    {"none: datagram over max", "none:max=2", "010203", REPLAY_E_LIMIT, 0,
     "frame offset 0: a datagram of 3 bytes, over max_frame 2"},
};

static void test_framing_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof framing_bad / sizeof framing_bad[0]; i++) {
        const struct framing_err_case *c = &framing_bad[i];
        struct replay_framing f;
        assert_int_equal(replay_framing_parse(c->spec, &f, NULL), 0);
        size_t n, start, len, skipped;
        uint8_t *s = unhex(c->stream, &n);
        struct replay_err e;
        memset(&e, 0, sizeof e);
        long r = replay_framing_next(&f, s, n, &start, &len, &skipped, &e);
        if (r != -1 || e.offset != c->offset || strcmp(e.msg, c->msg) != 0)
            print_error("%s: got %ld offset %zu \"%s\"\n", c->what, r, e.offset, e.msg);
        assert_int_equal(r, -1);
        assert_int_equal(e.rc, c->rc);
        assert_int_equal(e.offset, c->offset);
        assert_string_equal(e.msg, c->msg);
        free(s);
    }

    /* a framing filled by hand: bad field widths are errors, 0 max means the default */
    struct replay_framing f = {.kind = REPLAY_FRAME_LENGTH, .len_size = 0};
    size_t start, len, skipped;
    const uint8_t b[4] = {0};
    struct replay_err e;
    assert_int_equal(replay_framing_next(&f, b, 4, &start, &len, &skipped, &e), -1);
    assert_int_equal(e.rc, REPLAY_E_FRAME);
    f = (struct replay_framing){.kind = REPLAY_FRAME_FIXED, .fixed = 0};
    assert_int_equal(replay_framing_next(&f, b, 4, &start, &len, &skipped, &e), -1);
    f = (struct replay_framing){.kind = REPLAY_FRAME_FIXED, .fixed = 4};
    assert_int_equal(replay_framing_next(&f, b, 4, &start, &len, &skipped, &e), 4);
    f = (struct replay_framing){.kind = (enum replay_framing_kind)9};
    assert_int_equal(replay_framing_next(&f, b, 4, &start, &len, &skipped, &e), -1);
    /* nothing in, nothing out */
    f = (struct replay_framing){.kind = REPLAY_FRAME_NONE};
    assert_int_equal(replay_framing_next(&f, b, 0, &start, &len, &skipped, &e), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_golden),
        cmocka_unit_test(test_jt808_heartbeat),
        cmocka_unit_test(test_crc_check_values),
        cmocka_unit_test(test_rand),
        cmocka_unit_test(test_has_and_sizes),
        cmocka_unit_test(test_compile_errors),
        cmocka_unit_test(test_size_limit),
        cmocka_unit_test(test_render_errors),
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_capture),
        cmocka_unit_test(test_render_then_match),
        cmocka_unit_test(test_framing_parse),
        cmocka_unit_test(test_framing_parse_errors),
        cmocka_unit_test(test_framing_streams),
        cmocka_unit_test(test_framing_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
