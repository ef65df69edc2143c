/* The text written on the report path without snprintf: a position's JSON for the
 * core (gw_location_json), the JT/T 808 time field (jt808_time_text) and a
 * terminal's identity (fleet_ident_format).  Each is checked against what
 * snprintf and gmtime_r make of the same values, the way the code did before,
 * over edge values and a seeded pseudo-random sweep. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/dev/fleet.h"
#include "sim/platform/jt808/jt808_gw_internal.h"
#include "sim/proto/jt808.h"

static uint64_t rng = 0x9E3779B97F4A7C15u;

static uint32_t rnd32(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

/* --- the position's JSON ---------------------------------------------------------- */

static void ref_json(const struct jt808_location *loc, char *out, size_t cap)
{
    const char *t = loc->time;
    for (const char *p = t; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'F') || (*p >= 'a' && *p <= 'f')))
            t = "";
    snprintf(out, cap,
             "{\"lat\":%u,\"lon\":%u,\"altitude\":%u,\"speed\":%u,\"direction\":%u,\"alarm\":%u,"
             "\"status\":%u,\"time\":\"%s\"}",
             loc->lat, loc->lon, loc->altitude, loc->speed, loc->direction, loc->alarm, loc->status, t);
}

static void check_json(const struct jt808_location *loc)
{
    char want[256], got[GW_LOCATION_JSON_MAX];
    ref_json(loc, want, sizeof want);
    memset(got, 'x', sizeof got);
    size_t n = gw_location_json(loc, got);
    assert_string_equal(got, want);
    assert_int_equal(n, strlen(want));
}

static void test_location_json_edges(void **state)
{
    (void)state;
    struct jt808_location loc;
    memset(&loc, 0, sizeof loc);
    check_json(&loc); /* all zero, empty time */
    char want[256];
    ref_json(&loc, want, sizeof want);
    assert_string_equal(want, "{\"lat\":0,\"lon\":0,\"altitude\":0,\"speed\":0,\"direction\":0,\"alarm\":0,"
                              "\"status\":0,\"time\":\"\"}");
    loc.lat = loc.lon = loc.alarm = loc.status = UINT32_MAX;
    loc.altitude = loc.speed = loc.direction = UINT16_MAX;
    memcpy(loc.time, "991231235959", 13);
    check_json(&loc); /* the longest it gets */
    memcpy(loc.time, "2312AbCdEf09", 13);
    check_json(&loc); /* hex digits are kept */
    memcpy(loc.time, "2312\"1235959", 13);
    check_json(&loc); /* a quote: the time is left empty */
    memcpy(loc.time, "23121", 6);
    check_json(&loc); /* short */
    loc.lat = 9, loc.lon = 10, loc.alarm = 99, loc.status = 100, loc.speed = 1000000 % 65536;
    check_json(&loc);
}

static void test_location_json_sweep(void **state)
{
    (void)state;
    static const char digits[] = "0123456789ABCDEFabcdef-Z";
    for (int i = 0; i < 20000; i++) {
        struct jt808_location loc;
        memset(&loc, 0, sizeof loc);
        /* a spread of magnitudes, not only 10-digit numbers */
        loc.lat = rnd32() >> (rnd32() % 32);
        loc.lon = rnd32() >> (rnd32() % 32);
        loc.alarm = rnd32() >> (rnd32() % 32);
        loc.status = rnd32() >> (rnd32() % 32);
        loc.altitude = (uint16_t)(rnd32() >> (rnd32() % 32));
        loc.speed = (uint16_t)(rnd32() >> (rnd32() % 32));
        loc.direction = (uint16_t)(rnd32() % 360);
        int tl = (int)(rnd32() % 13);
        for (int k = 0; k < tl; k++)
            loc.time[k] = digits[rnd32() % (i % 7 ? 22 : 24)];
        check_json(&loc);
    }
}

/* --- the time field ---------------------------------------------------------------- */

static void ref_time(int64_t unix_s, char out[13])
{
    time_t t = (time_t)(unix_s + 8 * 3600);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, 13, "%02d%02d%02d%02d%02d%02d", tm.tm_year % 100, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec);
}

static void check_time(int64_t s)
{
    char want[13], got[13];
    ref_time(s, want);
    memset(got, 'x', sizeof got);
    jt808_time_text(s, got);
    assert_memory_equal(got, want, 13);
}

static void test_time_text_known(void **state)
{
    (void)state;
    char got[13];
    /* values from date -u -d @$((S + 28800)) +%y%m%d%H%M%S */
    jt808_time_text(1700000000, got);
    assert_string_equal(got, "231115061320");
    jt808_time_text(0, got);
    assert_string_equal(got, "700101080000");
    jt808_time_text(-28801, got);
    assert_string_equal(got, "691231235959");
    jt808_time_text(951782399, got);
    assert_string_equal(got, "000229075959"); /* 2000 is a leap year */
    jt808_time_text(1700000000, got);         /* the cached day again, after others */
    assert_string_equal(got, "231115061320");
}

static void test_time_text_sweep(void **state)
{
    (void)state;
    /* around every day boundary of a few years, both sides of the 8-hour shift */
    for (int64_t d = -3; d < 3 * 366; d++) {
        int64_t b = 1700000000 - 1700000000 % 86400 + d * 86400 - 8 * 3600;
        for (int64_t k = -2; k <= 2; k++)
            check_time(b + k);
    }
    /* the edges of the fast path and beyond */
    static const int64_t edges[] = {-8 * 3600 - 1, -8 * 3600, -8 * 3600 + 1, -86400 * 400, 253402300799,
                                    253402300800, 253402300799 - 86400, 4102444800, 946684800 - 1};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
        check_time(edges[i]);
    /* jumps back and forth, so the cached day is changed and found again */
    for (int i = 0; i < 20000; i++) {
        int64_t s = (int64_t)(rnd32() % 4102444800u);
        check_time(s);
        check_time(s + (int64_t)(rnd32() % 5));
    }
    /* a second at a time through two days */
    for (int64_t s = 1700000000; s < 1700000000 + 2 * 86400; s += 7)
        check_time(s);
}

/* --- a terminal's identity ---------------------------------------------------------- */

static void check_ident(const char *prefix, bool numbered, int digits, uint64_t n, size_t cap)
{
    char want[128], got[128];
    memset(want, 'x', sizeof want);
    memset(got, 'x', sizeof got);
    if (numbered)
        snprintf(want, cap, "%s%0*" PRIu64, prefix, digits, n);
    else
        snprintf(want, cap, "%s", prefix);
    fleet_ident_format(prefix, numbered, digits, n, got, cap);
    assert_memory_equal(got, want, sizeof got);
}

static void test_ident(void **state)
{
    (void)state;
    static const char *prefixes[] = {"", "1", "dev-", "139000", "a-prefix-of-thirty-nine-characters-long"};
    static const uint64_t ns[] = {0, 1, 9, 10, 99999, 100000, 13900000000u, UINT64_MAX};
    static const int digitss[] = {0, 1, 5, 11, 12, 25};
    static const size_t caps[] = {0, 1, 2, 5, 12, 13, 21, 80, 128};
    for (size_t p = 0; p < sizeof prefixes / sizeof *prefixes; p++)
        for (size_t i = 0; i < sizeof ns / sizeof *ns; i++)
            for (size_t d = 0; d < sizeof digitss / sizeof *digitss; d++)
                for (size_t c = 0; c < sizeof caps / sizeof *caps; c++) {
                    check_ident(prefixes[p], true, digitss[d], ns[i], caps[c]);
                    check_ident(prefixes[p], false, digitss[d], ns[i], caps[c]);
                }
    char got[21];
    fleet_ident_format("139", true, 8, 42, got, sizeof got);
    assert_string_equal(got, "13900000042");
}

/* --- BCD of a phone ------------------------------------------------------------------ */

/* The nibble at a time formulation jt808_bcd_encode had */
static int ref_bcd(const char *digits, uint8_t *out, size_t n)
{
    size_t len = strlen(digits);
    if (len > 2 * n)
        return -1;
    for (size_t i = 0; i < len; i++)
        if (digits[i] < '0' || digits[i] > '9')
            return -1;
    size_t pad = 2 * n - len;
    for (size_t i = 0; i < 2 * n; i++) {
        uint8_t d = i < pad ? 0 : (uint8_t)(digits[i - pad] - '0');
        if (i & 1)
            out[i / 2] |= d;
        else
            out[i / 2] = (uint8_t)(d << 4);
    }
    return 0;
}

static void test_bcd_encode(void **state)
{
    (void)state;
    uint8_t got[12], want[12];
    assert_int_equal(jt808_bcd_encode("13912345678", got, 6), JT808_OK);
    assert_memory_equal(got, "\x01\x39\x12\x34\x56\x78", 6); /* odd length: a leading 0 */
    assert_int_equal(jt808_bcd_encode("139123456789", got, 6), JT808_OK);
    assert_memory_equal(got, "\x13\x91\x23\x45\x67\x89", 6);
    char digits[24];
    for (size_t n = 1; n <= 10; n++)
        for (size_t len = 0; len <= 2 * n + 1; len++)
            for (int r = 0; r < 20; r++) {
                for (size_t k = 0; k < len; k++)
                    digits[k] = (char)('0' + rnd32() % 10);
                digits[len] = '\0';
                if (r == 19 && len)
                    digits[rnd32() % len] = (char)(len & 1 ? 'A' : '/'); /* refused, out untouched */
                memset(got, 0xAA, sizeof got);
                memset(want, 0xAA, sizeof want);
                int wr = ref_bcd(digits, want, n);
                enum jt808_rc gr = jt808_bcd_encode(digits, got, n);
                assert_int_equal(gr == JT808_OK, wr == 0);
                assert_memory_equal(got, want, sizeof got);
            }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_location_json_edges),
        cmocka_unit_test(test_location_json_sweep),
        cmocka_unit_test(test_time_text_known),
        cmocka_unit_test(test_time_text_sweep),
        cmocka_unit_test(test_ident),
        cmocka_unit_test(test_bcd_encode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
