/* PCP codec, CRC, identification and JSON mapping (004 §15.2, §15.3). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tests/unit/unhex.h"

#include "sim/proto/hex.h"
#include "sim/proto/pcp.h"
#include "sim/proto/pcp_json.h"

struct golden {
    const char *what;
    const char *hex;
    bool from_device;
    uint8_t code;
    bool response;
    uint16_t length;
};

/* spec.md §1, golden frames of 004 §15.2 */
static const struct golden goldens[] = {
    {"query version", "FFFE01134C9A0000", false, 0x13, false, 0},
    {"version reply V0.9", "FFFE01138DE300110056302E39000000000000000000000000", true, 0x13, true, 17},
    {"new version notice", "FFFE011402F7001656312E3000000000000000000000000001F400011234", false, 0x14, false, 22},
    {"notice reply allow", "FFFE0114D768000100", true, 0x14, true, 1},
    {"chunk request V1.0 #0", "FFFE01155618001256312E300000000000000000000000000000", true, 0x15, false, 18},
    {"chunk #0", "FFFE0115E107001300000048454C4C4F2C20496F5420534F544121", false, 0x15, true, 19},
    {"download result ok", "FFFE0116850E000100", true, 0x16, false, 1},
    {"download result reply", "FFFE0116850E000100", false, 0x16, true, 1},
    {"execute upgrade", "FFFE0117CF900000", false, 0x17, false, 0},
    {"execute reply ok", "FFFE0117B725000100", true, 0x17, true, 1},
    {"upgrade result V1.0", "FFFE0118C7D200110056312E30000000000000000000000000", true, 0x18, false, 17},
    {"upgrade result reply", "FFFE0118AFA1000100", false, 0x18, true, 1},
};
#define N_GOLDEN (sizeof(goldens) / sizeof(goldens[0]))


/* A frame with a correct CRC around the given data. */
static size_t build(uint8_t *out, uint8_t version, uint8_t code, const uint8_t *data, size_t len)
{
    out[0] = 0xFF;
    out[1] = 0xFE;
    out[2] = version;
    out[3] = code;
    out[4] = out[5] = 0;
    out[6] = (uint8_t)(len >> 8);
    out[7] = (uint8_t)len;
    if (len)
        memcpy(out + 8, data, len);
    uint16_t c = crc16_pcp(out, 8 + len);
    out[4] = (uint8_t)(c >> 8);
    out[5] = (uint8_t)c;
    return 8 + len;
}

/* --- CRC ------------------------------------------------------------------ */

static void test_crc_table(void **state)
{
    (void)state;
    /* with crc 0, one byte b gives table[b] */
    for (unsigned i = 0; i < 256; i++) {
        uint16_t c = (uint16_t)(i << 8);
        for (int k = 0; k < 8; k++)
            c = (c & 0x8000) ? (uint16_t)((c << 1) ^ 0x1021) : (uint16_t)(c << 1);
        uint8_t b = (uint8_t)i;
        assert_int_equal(crc16_pcp(&b, 1), c);
    }
    uint8_t one = 1;
    assert_int_equal(crc16_pcp(&one, 1), 0x1021);
    /* entries the seed prints wrongly: 0x59 (0xcdbdc / 0xcdbc), 0x5A (0xfdbbf), 0xD0 (0xcbb7) */
    uint8_t b59 = 0x59, b5a = 0x5A, bd0 = 0xD0;
    assert_int_equal(crc16_pcp(&b59, 1), 0xCBDC);
    assert_int_equal(crc16_pcp(&b5a, 1), 0xFBBF);
    assert_int_equal(crc16_pcp(&bd0, 1), 0xCB7D);
    /* the seed's C sample: FFFE011300000000 -> 4c9a */
    const uint8_t msg[8] = {0xFF, 0xFE, 0x01, 0x13, 0, 0, 0, 0};
    assert_int_equal(crc16_pcp(msg, 8), 0x4C9A);
    assert_int_equal(crc16_pcp(msg, 0), 0);
}

static void test_crc_golden(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_GOLDEN; i++) {
        size_t n;
        uint8_t *b = unhex(goldens[i].hex, &n);
        uint16_t want = (uint16_t)(b[4] << 8 | b[5]);
        b[4] = b[5] = 0;
        assert_int_equal(crc16_pcp(b, n), want);
        free(b);
    }
}

/* --- golden frames ------------------------------------------------------- */

static void test_golden_roundtrip(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_GOLDEN; i++) {
        const struct golden *g = &goldens[i];
        size_t n, out_len = 0;
        uint8_t *b = unhex(g->hex, &n);
        struct pcp_msg m;
        struct pcp_err e;
        uint8_t out[64];

        assert_int_equal(pcp_decode(b, n, g->from_device, &m, &e), PCP_OK);
        assert_int_equal(m.code, g->code);
        assert_int_equal(m.response, g->response);
        assert_int_equal(m.length, g->length);
        assert_int_equal(m.version, 1);
        assert_int_equal(m.check, b[4] << 8 | b[5]);
        assert_int_equal(pcp_encode(&m, out, sizeof(out), &out_len), PCP_OK);
        assert_int_equal(out_len, n);
        assert_memory_equal(out, b, n);
        free(b);
    }
}

static void test_golden_fields(void **state)
{
    (void)state;
    struct pcp_msg m;
    size_t n;
    uint8_t *b;

    b = unhex(goldens[1].hex, &n);
    assert_int_equal(pcp_decode(b, n, true, &m, NULL), PCP_OK);
    assert_int_equal(m.result, 0);
    assert_string_equal(m.version_str, "V0.9");
    free(b);

    b = unhex(goldens[2].hex, &n);
    assert_int_equal(pcp_decode(b, n, false, &m, NULL), PCP_OK);
    assert_string_equal(m.version_str, "V1.0");
    assert_int_equal(m.chunk_size, 500);
    assert_int_equal(m.chunk_count, 1);
    assert_int_equal(m.check_code, 0x1234);
    free(b);

    b = unhex(goldens[4].hex, &n);
    assert_int_equal(pcp_decode(b, n, true, &m, NULL), PCP_OK);
    assert_string_equal(m.version_str, "V1.0");
    assert_int_equal(m.chunk_index, 0);
    free(b);

    b = unhex(goldens[5].hex, &n);
    assert_int_equal(pcp_decode(b, n, false, &m, NULL), PCP_OK);
    assert_int_equal(m.result, 0);
    assert_ptr_equal(m.chunk, b + 11);
    assert_int_equal(m.chunk_len, 16);
    assert_memory_equal(m.chunk, "HELLO, IoT SOTA!", 16);
    free(b);

    b = unhex(goldens[10].hex, &n);
    assert_int_equal(pcp_decode(b, n, true, &m, NULL), PCP_OK);
    assert_int_equal(m.result, 0);
    assert_string_equal(m.version_str, "V1.0");
    free(b);
}

/* The reserved high nibble of the version byte is kept and written back. */
static void test_version_high_nibble(void **state)
{
    (void)state;
    uint8_t f[16], out[16];
    size_t n = build(f, 0x31, 0x17, NULL, 0), out_len = 0;
    struct pcp_msg m;
    assert_int_equal(pcp_decode(f, n, false, &m, NULL), PCP_OK);
    assert_int_equal(m.version, 0x31);
    assert_int_equal(pcp_encode(&m, out, sizeof(out), &out_len), PCP_OK);
    assert_int_equal(out_len, n);
    assert_memory_equal(out, f, n);
}

static void test_is_response_and_names(void **state)
{
    (void)state;
    assert_true(pcp_is_response(0x13, true));
    assert_false(pcp_is_response(0x13, false));
    assert_true(pcp_is_response(0x14, true));
    assert_true(pcp_is_response(0x17, true));
    assert_false(pcp_is_response(0x15, true));
    assert_true(pcp_is_response(0x15, false));
    assert_true(pcp_is_response(0x16, false));
    assert_true(pcp_is_response(0x18, false));
    assert_false(pcp_is_response(0x12, true));
    assert_false(pcp_is_response(0x12, false));

    assert_string_equal(pcp_code_name(0x13), "query version");
    assert_string_equal(pcp_code_name(0x14), "new version notice");
    assert_string_equal(pcp_code_name(0x18), "upgrade result");
    assert_null(pcp_code_name(0x12));
    assert_null(pcp_code_name(0x19));
    assert_null(pcp_code_name(0xFF));

    assert_string_equal(pcp_rc_name(PCP_E_SHORT), "short");
    assert_string_equal(pcp_rc_name(PCP_E_CRC), "crc");
    for (int a = PCP_OK; a <= PCP_E_NOSPACE; a++) {
        assert_string_not_equal(pcp_rc_name((enum pcp_rc)a), "unknown");
        assert_string_not_equal(pcp_rc_text((enum pcp_rc)a), "unknown error");
        for (int b = a + 1; b <= PCP_E_NOSPACE; b++)
            assert_string_not_equal(pcp_rc_name((enum pcp_rc)a), pcp_rc_name((enum pcp_rc)b));
    }
}

/* --- errors ---------------------------------------------------------------- */

struct bad_case {
    const char *what;
    const char *hex;
    bool from_device;
    enum pcp_rc rc;
    size_t offset;
    const char *field;
};

static const struct bad_case bad_hex[] = {
    {"empty", "", true, PCP_E_SHORT, 0, "start"},
    {"one byte", "FF", true, PCP_E_SHORT, 0, "start"},
    {"start only", "FFFE", true, PCP_E_SHORT, 2, "version"},
    {"no code", "FFFE01", true, PCP_E_SHORT, 3, "code"},
    {"no check", "FFFE0113", true, PCP_E_SHORT, 4, "check"},
    {"half check", "FFFE01134C", true, PCP_E_SHORT, 4, "check"},
    {"no length", "FFFE01134C9A", true, PCP_E_SHORT, 6, "length"},
    {"half length", "FFFE01134C9A00", true, PCP_E_SHORT, 6, "length"},
    {"data cut", "FFFE01138DE300110056", true, PCP_E_SHORT, 8, "data"},
    {"seed's printed chunk request", "FFFE01155618001256312E3000", true, PCP_E_SHORT, 8, "data"},
    {"start FFFF", "FFFF01134C9A0000", false, PCP_E_START, 0, "start"},
    {"start 7E", "7E0002000001", false, PCP_E_START, 0, "start"},
    {"version 02", "FFFE02134C9A0000", false, PCP_E_VERSION, 2, "version"},
    {"version 00", "FFFE00134C9A0000", false, PCP_E_VERSION, 2, "version"},
    {"code 0x12", "FFFE01124C9A0000", false, PCP_E_CODE, 3, "code"},
    {"code 0x19", "FFFE01194C9A0000", false, PCP_E_CODE, 3, "code"},
    {"code 0x00", "FFFE01004C9A0000", false, PCP_E_CODE, 3, "code"},
    {"check off by one", "FFFE01134C9B0000", false, PCP_E_CRC, 4, "check"},
    {"check zero", "FFFE011300000000", false, PCP_E_CRC, 4, "check"},
    {"a byte after the frame", "FFFE01134C9A000000", false, PCP_E_LENGTH, 8, "data"},
    {"seed's printed version reply", "FFFE01138DE300110056302E390000000000000000000000000000",
     true, PCP_E_LENGTH, 25, "data"},
    {"length above PCP_MAX_DATA", "FFFE01134C9A0401", false, PCP_E_LENGTH, 6, "length"},
    {"query version request with data", "FFFE011316EC000100", false, PCP_E_LENGTH, 6, "length"},
    {"query version reply without version", "FFFE011316EC000100", true, PCP_E_LENGTH, 6, "length"},
    {"notice reply result 06", "FFFE0114B7AE000106", true, PCP_E_VALUE, 8, "data.result"},
    {"download status 80 from the device", "FFFE01161486000180", true, PCP_E_VALUE, 8, "data.status"},
    {"version padding not zero", "FFFE01133A4900110056302E39004100000000000000000000", true,
     PCP_E_VALUE, 14, "data.version"},
};

static void test_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_hex) / sizeof(bad_hex[0]); i++) {
        const struct bad_case *c = &bad_hex[i];
        size_t n;
        uint8_t *b = unhex(c->hex, &n);
        struct pcp_msg m;
        struct pcp_err e = {PCP_OK, 999, NULL};
        enum pcp_rc rc = pcp_decode(b, n, c->from_device, &m, &e);
        if (rc != c->rc || e.offset != c->offset || strcmp(e.field, c->field) != 0)
            fail_msg("%s: got %s at %zu (%s), want %s at %zu (%s)", c->what, pcp_rc_name(rc),
                     e.offset, e.field ? e.field : "-", pcp_rc_name(c->rc), c->offset, c->field);
        assert_int_equal(e.rc, rc);
        free(b);
    }
}

struct value_case {
    const char *what;
    uint8_t code;
    bool from_device;
    uint8_t data[24];
    size_t len;
    enum pcp_rc rc;
    size_t offset;
    const char *field;
};

/* Data areas built with a correct CRC, so only the message rules can reject them. */
static const struct value_case value_cases[] = {
    {"0x13 reply result 01", 0x13, true, {0x01, 'V', '1'}, 17, PCP_E_VALUE, 8, "data.result"},
    {"0x13 reply version with a control byte", 0x13, true, {0x00, 'V', '1', 0x07}, 17,
     PCP_E_VALUE, 11, "data.version"},
    {"0x13 reply version byte 0x80", 0x13, true, {0x00, 0x80}, 17, PCP_E_VALUE, 9, "data.version"},
    {"0x14 reply result 7F", 0x14, true, {0x7F}, 1, PCP_OK, 0, ""},
    {"0x14 reply result 09", 0x14, true, {0x09}, 1, PCP_OK, 0, ""},
    {"0x14 reply result 08", 0x14, true, {0x08}, 1, PCP_E_VALUE, 8, "data.result"},
    {"0x14 request 21 bytes", 0x14, false, {'V'}, 21, PCP_E_LENGTH, 6, "length"},
    {"0x14 request 23 bytes", 0x14, false, {'V'}, 23, PCP_E_LENGTH, 6, "length"},
    {"0x14 request unprintable version", 0x14, false, {'V', 0x1F}, 22, PCP_E_VALUE, 9,
     "data.version"},
    {"0x15 request 17 bytes", 0x15, true, {'V'}, 17, PCP_E_LENGTH, 6, "length"},
    {"0x15 request 19 bytes", 0x15, true, {'V'}, 19, PCP_E_LENGTH, 6, "length"},
    {"0x15 reply no task", 0x15, false, {0x80, 0x00, 0x03}, 3, PCP_OK, 0, ""},
    {"0x15 reply no such chunk", 0x15, false, {0x81, 0x00, 0x03}, 3, PCP_OK, 0, ""},
    {"0x15 reply no task with chunk bytes", 0x15, false, {0x80, 0x00, 0x03, 0x41}, 4,
     PCP_E_LENGTH, 6, "length"},
    {"0x15 reply 2 bytes", 0x15, false, {0x00, 0x00}, 2, PCP_E_LENGTH, 6, "length"},
    {"0x15 reply result 82", 0x15, false, {0x82, 0x00, 0x00}, 3, PCP_E_VALUE, 8, "data.result"},
    {"0x16 request status 05..08", 0x16, true, {0x08}, 1, PCP_OK, 0, ""},
    {"0x16 request status 09", 0x16, true, {0x09}, 1, PCP_E_VALUE, 8, "data.status"},
    {"0x16 reply result 05", 0x16, false, {0x05}, 1, PCP_E_VALUE, 8, "data.result"},
    {"0x16 request 2 bytes", 0x16, true, {0x00, 0x00}, 2, PCP_E_LENGTH, 6, "length"},
    {"0x16 request empty", 0x16, true, {0}, 0, PCP_E_LENGTH, 6, "length"},
    {"0x17 request with data", 0x17, false, {0x00}, 1, PCP_E_LENGTH, 6, "length"},
    {"0x17 reply result 02", 0x17, true, {0x02}, 1, PCP_E_VALUE, 8, "data.result"},
    {"0x17 reply result 09", 0x17, true, {0x09}, 1, PCP_OK, 0, ""},
    {"0x18 request result 0A", 0x18, true, {0x0A, 'V'}, 17, PCP_OK, 0, ""},
    {"0x18 request result 0B", 0x18, true, {0x0B, 'V'}, 17, PCP_E_VALUE, 8, "data.result"},
    {"0x18 request 1 byte", 0x18, true, {0x00}, 1, PCP_E_LENGTH, 6, "length"},
    {"0x18 reply result 80", 0x18, false, {0x80}, 1, PCP_OK, 0, ""},
    {"0x18 reply result 7F", 0x18, false, {0x7F}, 1, PCP_E_VALUE, 8, "data.result"},
    {"0x18 reply 17 bytes", 0x18, false, {0x00}, 17, PCP_E_LENGTH, 6, "length"},
};

static void test_values_and_lengths(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(value_cases) / sizeof(value_cases[0]); i++) {
        const struct value_case *c = &value_cases[i];
        uint8_t f[64];
        size_t n = build(f, 0x01, c->code, c->data, c->len);
        struct pcp_msg m;
        struct pcp_err e = {PCP_OK, 0, ""};
        enum pcp_rc rc = pcp_decode(f, n, c->from_device, &m, &e);
        if (rc != c->rc || (rc != PCP_OK && (e.offset != c->offset || strcmp(e.field, c->field))))
            fail_msg("%s: got %s at %zu (%s), want %s at %zu (%s)", c->what, pcp_rc_name(rc),
                     e.offset, e.field, pcp_rc_name(c->rc), c->offset, c->field);
        if (rc == PCP_OK) {
            /* whatever decodes must encode back to the same bytes */
            uint8_t out[64];
            size_t out_len = 0;
            assert_int_equal(pcp_encode(&m, out, sizeof(out), &out_len), PCP_OK);
            assert_int_equal(out_len, n);
            assert_memory_equal(out, f, n);
        }
    }
}

/* The largest chunk reply fits exactly; one byte more is a length error. */
static void test_chunk_limits(void **state)
{
    (void)state;
    static uint8_t data[PCP_MAX_DATA + 1], f[PCP_HDR_LEN + PCP_MAX_DATA + 1], out[PCP_HDR_LEN + PCP_MAX_DATA];
    struct pcp_msg m;
    struct pcp_err e;
    size_t out_len = 0;

    for (size_t i = 3; i < sizeof(data); i++)
        data[i] = (uint8_t)i;
    size_t n = build(f, 0x01, 0x15, data, PCP_MAX_DATA);
    assert_int_equal(pcp_decode(f, n, false, &m, &e), PCP_OK);
    assert_int_equal(m.chunk_len, PCP_MAX_DATA - 3);
    assert_int_equal(pcp_encode(&m, out, sizeof(out), &out_len), PCP_OK);
    assert_int_equal(out_len, n);
    assert_memory_equal(out, f, n);
    /* output one byte short */
    assert_int_equal(pcp_encode(&m, out, sizeof(out) - 1, &out_len), PCP_E_NOSPACE);

    n = build(f, 0x01, 0x15, data, PCP_MAX_DATA + 1);
    assert_int_equal(pcp_decode(f, n, false, &m, &e), PCP_E_LENGTH);
    assert_int_equal(e.offset, 6);
    assert_string_equal(e.field, "length");

    /* a result-0 reply with no chunk bytes is 3 bytes and round-trips */
    n = build(f, 0x01, 0x15, (const uint8_t[]){0, 0, 7}, 3);
    assert_int_equal(pcp_decode(f, n, false, &m, &e), PCP_OK);
    assert_int_equal(m.chunk_len, 0);
    assert_null(m.chunk);
    assert_int_equal(m.chunk_index, 7);
}

/* Every prefix of every golden frame is "short", never a crash or overread. */
static void test_truncation(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_GOLDEN; i++) {
        size_t n;
        uint8_t *full = unhex(goldens[i].hex, &n);
        for (size_t k = 0; k < n; k++) {
            uint8_t *cut = malloc(k ? k : 1);
            assert_non_null(cut);
            memcpy(cut, full, k);
            struct pcp_msg m;
            struct pcp_err e;
            const char *why = NULL;
            if (pcp_decode(k ? cut : NULL, k, goldens[i].from_device, &m, &e) != PCP_E_SHORT)
                fail_msg("%s cut to %zu bytes: %s", goldens[i].what, k, pcp_rc_name(e.rc));
            assert_true(e.offset <= k);
            assert_false(pcp_identify(cut, k, true, true, &why));
            assert_non_null(why);
            free(cut);
        }
        free(full);
    }
}

static void test_encode_checks(void **state)
{
    (void)state;
    struct pcp_msg m = {0};
    struct pcp_err e;
    uint8_t out[64];
    size_t out_len = 0;

    m.version = 1;
    m.code = 0x13;
    m.response = false;
    assert_int_equal(pcp_encode(&m, out, 8, &out_len), PCP_OK);
    assert_int_equal(out_len, 8);
    assert_int_equal(pcp_encode(&m, out, 7, &out_len), PCP_E_NOSPACE);
    assert_int_equal(pcp_encode(&m, NULL, 0, &out_len), PCP_E_NOSPACE);

    m.version = 0x02;
    assert_int_equal(pcp_encode(&m, out, sizeof(out), &out_len), PCP_E_VERSION);
    assert_int_equal(pcp_check(&m, &e), PCP_E_VERSION);
    assert_int_equal(e.offset, 2);
    assert_string_equal(e.field, "version");
    m.version = 1;
    m.code = 0x19;
    assert_int_equal(pcp_check(&m, &e), PCP_E_CODE);
    assert_int_equal(e.offset, 3);
    assert_string_equal(e.field, "code");

    /* 0x13 reply: result set {0}, version string rules */
    m.code = 0x13;
    m.response = true;
    m.result = 0x01;
    assert_int_equal(pcp_check(&m, &e), PCP_E_VALUE);
    assert_string_equal(e.field, "data.result");
    assert_int_equal(e.offset, 8);
    m.result = 0;
    memset(m.version_str, 'A', sizeof(m.version_str));  /* 17 chars, no NUL */
    assert_int_equal(pcp_check(&m, &e), PCP_E_VALUE);
    assert_string_equal(e.field, "data.version");
    assert_int_equal(e.offset, 9 + 16);
    m.version_str[16] = '\0';  /* exactly 16 fills the field without padding */
    assert_int_equal(pcp_encode(&m, out, sizeof(out), &out_len), PCP_OK);
    assert_int_equal(out_len, 25);
    assert_memory_equal(out + 9, "AAAAAAAAAAAAAAAA", 16);
    strcpy(m.version_str, "V1\t");
    assert_int_equal(pcp_check(&m, &e), PCP_E_VALUE);
    assert_int_equal(e.offset, 9 + 2);

    /* 0x16: the request's byte is a status */
    memset(&m, 0, sizeof(m));
    m.version = 1;
    m.code = 0x16;
    m.result = 0x80;
    assert_int_equal(pcp_check(&m, &e), PCP_E_VALUE);
    assert_string_equal(e.field, "data.status");
    m.response = true;
    assert_int_equal(pcp_check(&m, &e), PCP_OK);

    /* 0x15 reply chunk rules */
    static const uint8_t big[PCP_MAX_DATA];
    memset(&m, 0, sizeof(m));
    m.version = 1;
    m.code = 0x15;
    m.response = true;
    m.chunk = big;
    m.chunk_len = PCP_MAX_DATA - 2;
    assert_int_equal(pcp_check(&m, &e), PCP_E_LENGTH);
    assert_string_equal(e.field, "data.chunk");
    assert_int_equal(pcp_encode(&m, out, sizeof(out), &out_len), PCP_E_LENGTH);
    m.chunk_len = 4;
    m.result = 0x80;
    assert_int_equal(pcp_check(&m, &e), PCP_E_VALUE);
    assert_string_equal(e.field, "data.chunk");
    m.result = 0;
    m.chunk = NULL;
    assert_int_equal(pcp_check(&m, &e), PCP_E_VALUE);
    m.chunk = big;
    assert_int_equal(pcp_encode(&m, out, sizeof(out), &out_len), PCP_OK);
    assert_int_equal(out_len, 8 + 3 + 4);
}

/* --- identification (15.3 appendix) ------------------------------------------ */

static void test_identify_order(void **state)
{
    (void)state;
    const char *why = NULL;
    size_t n;
    uint8_t *b;

    for (size_t i = 0; i < N_GOLDEN; i++) {
        b = unhex(goldens[i].hex, &n);
        assert_true(pcp_identify(b, n, true, true, &why));
        assert_string_equal(why, "pcp");
        /* the profile comes first: a perfect frame is business data without PCP */
        assert_false(pcp_identify(b, n, false, true, &why));
        assert_string_equal(why, "upgrade");
        assert_false(pcp_identify(b, n, false, false, &why));
        assert_string_equal(why, "upgrade");
        assert_false(pcp_identify(b, n, true, false, &why));
        assert_string_equal(why, "protocol");
        free(b);
    }

    static const struct {
        const char *hex;
        const char *why;
    } cases[] = {
        {"", "start"},
        {"68656C6C6F", "start"},                 /* "hello" */
        {"FFFF01134C9A0000", "start"},
        {"FFFE0F134C9A0000", "version"},
        {"FFFE02FF4C9A0000", "version"},         /* bad version and bad code */
        {"FFFE01FF4C9A0000", "code"},
        {"FFFE01194C9B0000", "code"},            /* bad code and bad CRC */
        {"FFFE0113", "crc"},                     /* ends in the check field */
        {"FFFE01134C9B0000", "crc"},
        {"FFFE01134C9B000000", "crc"},           /* bad CRC and a trailing byte */
        {"FFFE011316EC000100", "length"},        /* CRC right, no 0x13 carries 1 byte */
        {"FFFE01134C9A000000", "length"},        /* CRC right, a byte after the frame */
        {"FFFE01138DE300110056", "length"},      /* ends inside the data */
        {"FFFE0114B7AE000106", "pcp"},           /* a bad result is still PCP */
        {"FFFE0116850E000100", "pcp"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        b = unhex(cases[i].hex, &n);
        bool is = pcp_identify(n ? b : NULL, n, true, true, &why);
        if (strcmp(why, cases[i].why) != 0 || is != (strcmp(cases[i].why, "pcp") == 0))
            fail_msg("%s: why %s, want %s", cases[i].hex, why, cases[i].why);
        free(b);
    }
    /* why may be NULL */
    assert_false(pcp_identify((const uint8_t *)"\xFF", 1, true, true, NULL));
}

/* --- JSON ---------------------------------------------------------------------- */

static void test_json_notice(void **state)
{
    (void)state;
    static const char want[] =
        "{\"code\":\"0x14\",\"name\":\"new version notice\",\"direction\":\"request\","
        "\"from\":\"platform\",\"version\":1,\"check\":\"0x02F7\",\"length\":22,"
        "\"data\":{\"version\":\"V1.0\",\"chunk_size\":500,\"chunk_count\":1,\"check_code\":\"0x1234\"}}";
    size_t n;
    uint8_t *b = unhex(goldens[2].hex, &n);
    struct pcp_msg m;
    assert_int_equal(pcp_decode(b, n, false, &m, NULL), PCP_OK);
    cJSON *got = pcp_to_json(&m);
    cJSON *exp = cJSON_Parse(want);
    assert_non_null(got);
    assert_non_null(exp);
    assert_true(cJSON_Compare(got, exp, true));
    cJSON_Delete(got);
    cJSON_Delete(exp);

    /* the chunk reply carries the chunk in hex */
    free(b);
    b = unhex(goldens[5].hex, &n);
    assert_int_equal(pcp_decode(b, n, false, &m, NULL), PCP_OK);
    got = pcp_to_json(&m);
    cJSON *data = cJSON_GetObjectItemCaseSensitive(got, "data");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(data, "chunk")->valuestring,
                        "48454C4C4F2C20496F5420534F544121");
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(got, "from")->valuestring, "platform");
    cJSON_Delete(got);
    free(b);
}

static void test_json_roundtrip(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_GOLDEN; i++) {
        size_t n, out_len = 0;
        uint8_t *b = unhex(goldens[i].hex, &n);
        struct pcp_msg m, m2;
        uint8_t store[64], out[64];
        char err[128];
        assert_int_equal(pcp_decode(b, n, goldens[i].from_device, &m, NULL), PCP_OK);
        cJSON *j = pcp_to_json(&m);
        assert_non_null(j);
        if (pcp_from_json(j, &m2, store, sizeof(store), err, sizeof(err)) != PCP_OK)
            fail_msg("%s: %s", goldens[i].what, err);
        assert_int_equal(m2.check, m.check);
        assert_int_equal(m2.length, m.length);
        assert_int_equal(pcp_encode(&m2, out, sizeof(out), &out_len), PCP_OK);
        assert_int_equal(out_len, n);
        assert_memory_equal(out, b, n);
        cJSON_Delete(j);
        free(b);
    }
}

static void test_json_errors(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        const char *err;
    } cases[] = {
        {"[]", "(top): expected a JSON object"},
        {"{\"direction\":\"request\"}", "code: missing"},
        {"{\"code\":\"0x12\",\"from\":\"device\"}", "code: 0x12 is not a PCP message code (0x13..0x18)"},
        {"{\"code\":true,\"from\":\"device\"}", "code: expected \"0xHH\" or an integer 0..255"},
        {"{\"code\":\"0x13\"}", "direction: missing (give \"direction\" or \"from\")"},
        {"{\"code\":\"0x13\",\"direction\":\"up\"}", "direction: expected \"request\" or \"response\""},
        {"{\"code\":\"0x13\",\"from\":\"cloud\"}", "from: expected \"device\" or \"platform\""},
        {"{\"code\":\"0x13\",\"direction\":\"request\",\"from\":\"device\"}",
         "from: a 0x13 request comes from the platform, not the device"},
        {"{\"code\":\"0x13\",\"from\":\"platform\",\"extra\":1}", "extra: unknown field"},
        {"{\"code\":\"0x13\",\"from\":\"platform\",\"code\":\"0x13\"}", "code: duplicate field"},
        {"{\"code\":\"0x13\",\"from\":\"platform\",\"name\":\"execute upgrade\"}",
         "name: \"execute upgrade\" does not match code 0x13 (\"query version\")"},
        {"{\"code\":\"0x13\",\"from\":\"platform\",\"version\":1.5}", "version: expected an integer 0..255"},
        {"{\"code\":\"0x13\",\"from\":\"platform\",\"version\":2}",
         "version: 0x02: the low nibble (protocol version) must be 1"},
        {"{\"code\":\"0x13\",\"from\":\"platform\",\"check\":\"0x12345\"}",
         "check: expected \"0xHHHH\" or an integer 0..65535"},
        {"{\"code\":\"0x13\",\"from\":\"platform\",\"length\":-1}", "length: expected an integer 0..65535"},
        {"{\"code\":\"0x13\",\"from\":\"platform\",\"data\":{\"result\":0}}", "data.result: unknown field"},
        {"{\"code\":\"0x13\",\"from\":\"device\"}", "data: missing (query version response has fields)"},
        {"{\"code\":\"0x13\",\"from\":\"device\",\"data\":[]}", "data: expected an object"},
        {"{\"code\":\"0x13\",\"from\":\"device\",\"data\":{\"result\":0}}", "data.version: missing"},
        {"{\"code\":\"0x13\",\"from\":\"device\",\"data\":{\"result\":\"0\",\"version\":\"V1\"}}",
         "data.result: expected an integer 0..255"},
        {"{\"code\":\"0x13\",\"from\":\"device\",\"data\":{\"result\":256,\"version\":\"V1\"}}",
         "data.result: expected an integer 0..255"},
        {"{\"code\":\"0x13\",\"from\":\"device\",\"data\":{\"result\":3,\"version\":\"V1\"}}",
         "data.result: 3 (0x03) is not allowed in a query version response"},
        {"{\"code\":\"0x13\",\"from\":\"device\",\"data\":{\"result\":0,\"version\":5}}",
         "data.version: expected a string"},
        {"{\"code\":\"0x13\",\"from\":\"device\",\"data\":{\"result\":0,\"version\":\"12345678901234567\"}}",
         "data.version: 17 bytes, at most 16 fit"},
        {"{\"code\":\"0x14\",\"from\":\"platform\",\"data\":{\"version\":\"V1\",\"chunk_size\":70000,"
         "\"chunk_count\":1,\"check_code\":\"0x1234\"}}",
         "data.chunk_size: expected an integer 0..65535"},
        {"{\"code\":\"0x14\",\"from\":\"platform\",\"data\":{\"version\":\"V1\",\"chunk_size\":500,"
         "\"chunk_count\":1,\"check_code\":\"1234\"}}",
         "data.check_code: expected \"0xHHHH\" or an integer 0..65535"},
        {"{\"code\":\"0x16\",\"from\":\"device\",\"data\":{\"result\":0}}", "data.result: unknown field"},
        {"{\"code\":\"0x16\",\"from\":\"device\",\"data\":{\"status\":128}}",
         "data.status: 128 (0x80) is not allowed in a download result request"},
        {"{\"code\":\"0x15\",\"from\":\"platform\",\"data\":{\"result\":128,\"chunk_index\":1,\"chunk\":\"\"}}",
         "data.chunk: only allowed when result is 0"},
        {"{\"code\":\"0x15\",\"from\":\"platform\",\"data\":{\"result\":0,\"chunk_index\":1}}",
         "data.chunk: missing (result 0 carries the chunk)"},
        {"{\"code\":\"0x15\",\"from\":\"platform\",\"data\":{\"result\":0,\"chunk_index\":1,\"chunk\":\"ABC\"}}",
         "data.chunk: odd number of hex digits: the digit at position 3 has no partner"},
        {"{\"code\":\"0x15\",\"from\":\"platform\",\"data\":{\"result\":0,\"chunk_index\":1,\"chunk\":\"AZ\"}}",
         "data.chunk: bad hex character 'Z' at position 2"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cJSON *j = cJSON_Parse(cases[i].json);
        struct pcp_msg m;
        uint8_t store[32];
        char err[160] = "";
        assert_non_null(j);
        enum pcp_rc rc = pcp_from_json(j, &m, store, sizeof(store), err, sizeof(err));
        if (rc != PCP_E_VALUE || strcmp(err, cases[i].err) != 0)
            fail_msg("%s: rc %s, err '%s', want '%s'", cases[i].json, pcp_rc_name(rc), err,
                     cases[i].err);
        cJSON_Delete(j);
    }
}

static void test_json_accepts(void **state)
{
    (void)state;
    struct pcp_msg m;
    uint8_t store[4], out[32];
    char err[160];
    size_t n = 0;

    /* minimal form: numbers for code/check_code, direction instead of from */
    cJSON *j = cJSON_Parse("{\"code\":20,\"direction\":\"request\",\"data\":{\"version\":\"V1.0\","
                           "\"chunk_size\":500,\"chunk_count\":1,\"check_code\":4660}}");
    assert_int_equal(pcp_from_json(j, &m, store, sizeof(store), err, sizeof(err)), PCP_OK);
    assert_int_equal(pcp_encode(&m, out, sizeof(out), &n), PCP_OK);
    size_t gn;
    uint8_t *g = unhex(goldens[2].hex, &gn);
    assert_int_equal(n, gn);
    assert_memory_equal(out, g, gn);
    free(g);
    cJSON_Delete(j);

    /* a chunk too big for the caller's store */
    j = cJSON_Parse("{\"code\":\"0x15\",\"from\":\"platform\",\"data\":{\"result\":0,"
                    "\"chunk_index\":0,\"chunk\":\"0102030405\"}}");
    assert_int_equal(pcp_from_json(j, &m, store, sizeof(store), err, sizeof(err)), PCP_E_NOSPACE);
    assert_string_equal(err, "data.chunk: 5 bytes do not fit the 4-byte store");
    cJSON_Delete(j);

    /* an empty chunk with result 0 */
    j = cJSON_Parse("{\"code\":\"0x15\",\"from\":\"platform\",\"data\":{\"result\":0,"
                    "\"chunk_index\":2,\"chunk\":\"\"}}");
    assert_int_equal(pcp_from_json(j, &m, store, sizeof(store), err, sizeof(err)), PCP_OK);
    assert_int_equal(m.chunk_len, 0);
    assert_int_equal(pcp_encode(&m, out, sizeof(out), &n), PCP_OK);
    assert_int_equal(n, 11);
    cJSON_Delete(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc_table),
        cmocka_unit_test(test_crc_golden),
        cmocka_unit_test(test_golden_roundtrip),
        cmocka_unit_test(test_golden_fields),
        cmocka_unit_test(test_version_high_nibble),
        cmocka_unit_test(test_is_response_and_names),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_values_and_lengths),
        cmocka_unit_test(test_chunk_limits),
        cmocka_unit_test(test_truncation),
        cmocka_unit_test(test_encode_checks),
        cmocka_unit_test(test_identify_order),
        cmocka_unit_test(test_json_notice),
        cmocka_unit_test(test_json_roundtrip),
        cmocka_unit_test(test_json_errors),
        cmocka_unit_test(test_json_accepts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
