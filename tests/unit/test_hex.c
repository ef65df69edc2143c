/* Hex digits <-> bytes (sim/proto/hex.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sim/proto/hex.h"

struct decode_case {
    const char *name;
    const char *in;
    size_t n;          /* characters of in to read */
    unsigned flags;
    size_t cap;        /* output room */
    enum hex_rc rc;
    size_t pos;        /* err_pos on error */
    const char *want;  /* bytes on success */
    size_t want_n;
};

#define S(s) s, sizeof(s) - 1

static const struct decode_case decode_cases[] = {
    {"empty", S(""), HEX_SPACES, 8, HEX_OK, 0, "", 0},
    {"both cases", S("00aBcD7e"), HEX_STRICT, 8, HEX_OK, 0, "\x00\xAB\xCD\x7E", 4},
    {"spaces skipped", S("FF fe\t01\n"), HEX_SPACES, 8, HEX_OK, 0, "\xFF\xFE\x01", 3},
    {"space inside a byte", S("F F\r\n\v\f0 1"), HEX_SPACES, 8, HEX_OK, 0, "\xFF\x01", 2},
    {"only spaces", S("  \n "), HEX_SPACES, 8, HEX_OK, 0, "", 0},
    {"strict: a space is bad", S("FF FE"), HEX_STRICT, 8, HEX_E_CHAR, 2, NULL, 0},
    {"strict: a tab is bad", S("\t00"), HEX_STRICT, 8, HEX_E_CHAR, 0, NULL, 0},
    {"bad letter", S("FFG0"), HEX_SPACES, 8, HEX_E_CHAR, 2, NULL, 0},
    {"bad low nibble", S("0G"), HEX_STRICT, 8, HEX_E_CHAR, 1, NULL, 0},
    {"0x prefix", S("0x12"), HEX_SPACES, 8, HEX_E_CHAR, 1, NULL, 0},
    {"control byte", S("12\x01"), HEX_SPACES, 8, HEX_E_CHAR, 2, NULL, 0},
    {"NUL inside n", "12\0" "34", 5, HEX_SPACES, 8, HEX_E_CHAR, 2, NULL, 0},
    {"non-ASCII", S("12\xC3\xA9"), HEX_SPACES, 8, HEX_E_CHAR, 2, NULL, 0},
    {"odd", S("F F F"), HEX_SPACES, 8, HEX_E_ODD, 4, NULL, 0},
    {"odd strict", S("012"), HEX_STRICT, 8, HEX_E_ODD, 2, NULL, 0},
    {"bad char beats odd", S("01G"), HEX_STRICT, 8, HEX_E_CHAR, 2, NULL, 0},
    {"full", S("010203"), HEX_SPACES, 2, HEX_E_NOSPACE, 4, NULL, 0},
    {"full at once", S("01"), HEX_STRICT, 0, HEX_E_NOSPACE, 0, NULL, 0},
    {"exactly full", S("0102"), HEX_STRICT, 2, HEX_OK, 0, "\x01\x02", 2},
    {"n shorter than the text", "0102FF", 4, HEX_STRICT, 8, HEX_OK, 0, "\x01\x02", 2},
#define SEP (HEX_SPACES | HEX_SEPARATORS | HEX_PREFIX)
    {"colons", S("7E:00:02"), HEX_SEPARATORS, 8, HEX_OK, 0, "\x7E\x00\x02", 3},
    {"dashes", S("7e-00-02"), HEX_SEPARATORS, 8, HEX_OK, 0, "\x7E\x00\x02", 3},
    {"separators mixed", S("7E:00-02 03"), SEP, 8, HEX_OK, 0, "\x7E\x00\x02\x03", 4},
    {"separators doubled and at the ends", S(":7E::00-"), HEX_SEPARATORS, 8, HEX_OK, 0, "\x7E\x00", 2},
    {"separator inside a byte", S("7E:0:0"), HEX_SEPARATORS, 8, HEX_E_CHAR, 4, NULL, 0},
    {"separator without the flag", S("7E:00"), HEX_SPACES, 8, HEX_E_CHAR, 2, NULL, 0},
    {"other punctuation", S("7E.00"), SEP, 8, HEX_E_CHAR, 2, NULL, 0},
    {"0x skipped", S("0x7E00"), HEX_PREFIX, 8, HEX_OK, 0, "\x7E\x00", 2},
    {"0X skipped", S("0X7e"), HEX_PREFIX, 8, HEX_OK, 0, "\x7E", 1},
    {"0x per word", S("0x7E 0x00\t0x02"), SEP, 8, HEX_OK, 0, "\x7E\x00\x02", 3},
    {"0x after a separator", S("0x7E:0x00"), SEP, 8, HEX_OK, 0, "\x7E\x00", 2},
    {"0x alone", S("0x"), HEX_PREFIX, 8, HEX_OK, 0, "", 0},
    {"0x inside a word", S("7E0x00"), SEP, 8, HEX_E_CHAR, 3, NULL, 0},
    {"0x twice", S("0x0x7E"), SEP, 8, HEX_E_CHAR, 3, NULL, 0},
    {"0x after a digit", S("00x7E"), SEP, 8, HEX_E_CHAR, 2, NULL, 0},
    {"0x after a space inside a byte", S("7 0x"), SEP, 8, HEX_E_CHAR, 3, NULL, 0},
    {"0x without the flag", S("0x7E"), HEX_SPACES | HEX_SEPARATORS, 8, HEX_E_CHAR, 1, NULL, 0},
    {"0x at the end: '0' is a digit", S("7E 0"), SEP, 8, HEX_E_ODD, 3, NULL, 0},
    {"odd with separators", S("7E:0"), SEP, 8, HEX_E_ODD, 3, NULL, 0},
#undef SEP
};

static void test_decode_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof decode_cases / sizeof decode_cases[0]; i++) {
        const struct decode_case *c = &decode_cases[i];
        uint8_t out[8];
        size_t n = 99, pos = 99;
        enum hex_rc rc = hex_decode(c->in, c->n, c->flags, out, c->cap, &n, &pos);
        if (rc != c->rc)
            fail_msg("%s: rc %d, want %d", c->name, rc, c->rc);
        if (rc != HEX_OK) {
            if (pos != c->pos)
                fail_msg("%s: pos %zu, want %zu", c->name, pos, c->pos);
            assert_int_equal(n, 0);
            continue;
        }
        assert_int_equal(pos, 99);  /* untouched on success */
        if (n != c->want_n || memcmp(out, c->want, n) != 0)
            fail_msg("%s: %zu bytes, want %zu", c->name, n, c->want_n);
    }
}

/* out NULL with cap 0 counts; the outputs are optional. */
static void test_decode_count_and_null_outputs(void **state)
{
    (void)state;
    size_t n = 99, pos = 99;
    assert_int_equal(hex_decode("0102 03", 7, HEX_SPACES, NULL, 0, &n, &pos), HEX_OK);
    assert_int_equal(n, 3);
    assert_int_equal(hex_decode("0102 03", 7, HEX_STRICT, NULL, 0, &n, &pos), HEX_E_CHAR);
    assert_int_equal(pos, 4);
    assert_int_equal(hex_decode("012", 3, HEX_STRICT, NULL, 0, &n, &pos), HEX_E_ODD);
    assert_int_equal(pos, 2);
    uint8_t b[1];
    assert_int_equal(hex_decode("7E", 2, HEX_STRICT, b, 1, NULL, NULL), HEX_OK);
    assert_int_equal(b[0], 0x7E);
    assert_int_equal(hex_decode("7G", 2, HEX_STRICT, b, 1, NULL, NULL), HEX_E_CHAR);
}

static void test_digit(void **state)
{
    (void)state;
    static const char digits[] = "0123456789abcdefABCDEF";
    static const int values[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 10, 11, 12, 13, 14, 15};
    for (size_t i = 0; digits[i]; i++)
        assert_int_equal(hex_digit(digits[i]), values[i]);
    int valid = 0;
    for (int c = -128; c < 128; c++)
        valid += hex_digit((char)c) >= 0;
    assert_int_equal(valid, 22);
    assert_int_equal(hex_digit('g'), -1);
    assert_int_equal(hex_digit('/'), -1);
    assert_int_equal(hex_digit(':'), -1);
    assert_int_equal(hex_digit('@'), -1);
    assert_int_equal(hex_digit('`'), -1);
    assert_int_equal(hex_digit(' '), -1);
}

static void test_format_error(void **state)
{
    (void)state;
    char msg[96];
    size_t pos = 0;

    assert_int_equal(hex_decode("FFG0", 4, HEX_SPACES, NULL, 0, NULL, &pos), HEX_E_CHAR);
    hex_format_error(HEX_E_CHAR, "FFG0", 4, pos, msg, sizeof msg);
    assert_string_equal(msg, "bad hex character 'G' at position 3");
    hex_format_error(HEX_E_CHAR, "12\x01", 3, 2, msg, sizeof msg);
    assert_string_equal(msg, "bad hex character 0x01 at position 3");
    hex_format_error(HEX_E_CHAR, "1 ", 2, 1, msg, sizeof msg);
    assert_string_equal(msg, "bad hex character 0x20 at position 2");
    hex_format_error(HEX_E_CHAR, "12\xC3", 3, 2, msg, sizeof msg);
    assert_string_equal(msg, "bad hex character 0xC3 at position 3");
    hex_format_error(HEX_E_ODD, "F F F", 5, 4, msg, sizeof msg);
    assert_string_equal(msg, "odd number of hex digits: the digit at position 5 has no partner");
    hex_format_error(HEX_E_NOSPACE, "010203", 6, 4, msg, sizeof msg);
    assert_string_equal(msg, "too many hex digits: output full at position 5");
    hex_format_error(HEX_OK, "", 0, 0, msg, sizeof msg);
    assert_string_equal(msg, "ok");
    hex_format_error_at(HEX_E_CHAR, 'G', "column 5 of argument 2", msg, sizeof msg);
    assert_string_equal(msg, "bad hex character 'G' at column 5 of argument 2");
    hex_format_error_at(HEX_E_CHAR, '\t', "column 1", msg, sizeof msg);
    assert_string_equal(msg, "bad hex character 0x09 at column 1");
    hex_format_error_at(HEX_E_ODD, '7', "column 3", msg, sizeof msg);
    assert_string_equal(msg, "odd number of hex digits: the digit at column 3 has no partner");
    char small[8];
    hex_format_error(HEX_E_NOSPACE, "010203", 6, 4, small, sizeof small);
    assert_string_equal(small, "too man");
}

static void test_encode(void **state)
{
    (void)state;
    const uint8_t in[] = {0x00, 0xAB, 0x7E, 0xF0};
    char s[32];

    assert_int_equal(hex_encode(in, 4, s, sizeof s), 8);
    assert_string_equal(s, "00AB7EF0");
    assert_int_equal(hex_encode_lower(in, 4, s, sizeof s), 8);
    assert_string_equal(s, "00ab7ef0");
    assert_int_equal(hex_encode(in, 4, s, 9), 8);   /* exactly enough */
    assert_string_equal(s, "00AB7EF0");
    assert_int_equal(hex_encode(in, 4, s, 8), 6);   /* stops at a byte boundary */
    assert_string_equal(s, "00AB7E");
    assert_int_equal(hex_encode(in, 4, s, 2), 0);
    assert_string_equal(s, "");
    s[0] = 'x';
    assert_int_equal(hex_encode(in, 4, s, 0), 0);   /* nothing written */
    assert_int_equal(s[0], 'x');
    assert_int_equal(hex_encode(in, 0, s, sizeof s), 0);
    assert_string_equal(s, "");

    char *a = hex_encode_alloc(in, 4);
    assert_non_null(a);
    assert_string_equal(a, "00AB7EF0");
    free(a);
    a = hex_encode_alloc(NULL, 0);
    assert_non_null(a);
    assert_string_equal(a, "");
    free(a);
}

/* Every byte value encodes and decodes back, in either case. */
static void test_round_trip(void **state)
{
    (void)state;
    uint8_t all[256], back[256];
    char s[2 * 256 + 1];
    size_t n = 0;
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;

    assert_int_equal(hex_encode(all, 256, s, sizeof s), 512);
    assert_int_equal(hex_decode(s, 512, HEX_STRICT, back, sizeof back, &n, NULL), HEX_OK);
    assert_int_equal(n, 256);
    assert_memory_equal(all, back, 256);

    assert_int_equal(hex_encode_lower(all, 256, s, sizeof s), 512);
    assert_int_equal(hex_decode(s, 512, HEX_STRICT, back, sizeof back, &n, NULL), HEX_OK);
    assert_memory_equal(all, back, 256);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_table),
        cmocka_unit_test(test_decode_count_and_null_outputs),
        cmocka_unit_test(test_digit),
        cmocka_unit_test(test_format_error),
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
