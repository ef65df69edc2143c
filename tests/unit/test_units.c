/* units: durations, counts, rates and the duration formatter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sim/core/units.h"

struct dur_case {
    const char *in;
    uint64_t us;
};

static void test_duration_valid(void **state)
{
    static const struct dur_case cases[] = {
        {"0s", 0},
        {"500us", 500},
        {"250ms", 250000},
        {"30s", 30000000},
        {"1.5s", 1500000},
        {"1.1s", 1100000},
        {"0.001ms", 1},
        {"2m", 120000000},
        {"2h", 7200000000ULL},
        {"1d", 86400000000ULL},
        {"1.50000s", 1500000},
        {"0.000000005d", 432},
        {"007s", 7000000},
        {"18446744073709551615us", UINT64_MAX},
        {"213503982d", 213503982ULL * 86400000000ULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t v = 12345;
        char err[128] = "";
        int rc = units_duration_us(cases[i].in, &v, err, sizeof err);
        if (rc != 0)
            fail_msg("%s: %s", cases[i].in, err);
        assert_int_equal(v, cases[i].us);
    }
}

struct err_case {
    const char *in;
    const char *err;
};

static void test_duration_errors(void **state)
{
    static const struct err_case cases[] = {
        {"", "'': empty duration"},
        {"30", "'30': units required (use us, ms, s, m, h, d)"},
        {"1.5", "'1.5': units required (use us, ms, s, m, h, d)"},
        {"30x", "'30x': unknown unit 'x' (use us, ms, s, m, h, d)"},
        {"30s5", "'30s5': unknown unit 's5' (use us, ms, s, m, h, d)"},
        {"30 s", "'30 s': unknown unit ' s' (use us, ms, s, m, h, d)"},
        {"30S", "'30S': unknown unit 'S' (use us, ms, s, m, h, d)"},
        {"-5s", "'-5s': negative duration"},
        {"s", "'s': expected a number followed by a unit, e.g. 30s or 250ms"},
        {" 5s", "' 5s': expected a number followed by a unit, e.g. 30s or 250ms"},
        {".5s", "'.5s': expected a number followed by a unit, e.g. 30s or 250ms"},
        {"1.s", "'1.s': expected a number followed by a unit, e.g. 30s or 250ms"},
        {"1.5us", "'1.5us': finer than a microsecond"},
        {"0.0000000001s", "'0.0000000001s': finer than a microsecond"},
        {"0.00000000000000000000001s", "'0.00000000000000000000001s': finer than a microsecond"},
        {"18446744073709551616us", "'18446744073709551616us': too large"},
        {"213503983d", "'213503983d': too large"},
        {"99999999999999999999999d", "'99999999999999999999999d': too large"},
        {"5s\n", "'5s?': unknown unit 's?' (use us, ms, s, m, h, d)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t v = 777;
        char err[128] = "";
        assert_int_equal(units_duration_us(cases[i].in, &v, err, sizeof err), -1);
        assert_string_equal(err, cases[i].err);
        assert_int_equal(v, 777);
    }
}

static void test_duration_null_and_long_input(void **state)
{
    uint64_t v;
    char err[128];
    char longin[200];
    assert_int_equal(units_duration_us(NULL, &v, err, sizeof err), -1);
    assert_string_equal(err, "missing duration");
    memset(longin, 'x', sizeof longin - 1);
    longin[sizeof longin - 1] = '\0';
    longin[0] = '5';
    assert_int_equal(units_duration_us(longin, &v, err, sizeof err), -1);
    /* the text is quoted shortened, never whole */
    assert_true(strncmp(err, "'5xxxxxxxxx", 11) == 0);
    assert_non_null(strstr(err, "...': unknown unit 'xxxx"));
    /* a tiny or absent error buffer is respected */
    assert_int_equal(units_duration_us("x", &v, err, 4), -1);
    assert_string_equal(err, "'x'");
    assert_int_equal(units_duration_us("x", &v, NULL, 0), -1);
}

static void test_duration_ms(void **state)
{
    uint64_t v;
    char err[128];
    assert_int_equal(units_duration_ms("30s", &v, err, sizeof err), 0);
    assert_int_equal(v, 30000);
    assert_int_equal(units_duration_ms("1.5s", &v, err, sizeof err), 0);
    assert_int_equal(v, 1500);
    assert_int_equal(units_duration_ms("0s", &v, err, sizeof err), 0);
    assert_int_equal(v, 0);
    /* rounded up: a non-zero duration never becomes a zero timer */
    assert_int_equal(units_duration_ms("500us", &v, err, sizeof err), 0);
    assert_int_equal(v, 1);
    assert_int_equal(units_duration_ms("1001us", &v, err, sizeof err), 0);
    assert_int_equal(v, 2);
    assert_int_equal(units_duration_ms("18446744073709551615us", &v, err, sizeof err), 0);
    assert_int_equal(v, UINT64_MAX / 1000 + 1);
    assert_int_equal(units_duration_ms("30", &v, err, sizeof err), -1);
    assert_string_equal(err, "'30': units required (use us, ms, s, m, h, d)");
}

/* One parser for every duration a user gives: the same words for a missing unit
 * and for a value out of range, whatever the flag or field. */
static void test_duration_range(void **state)
{
    static const struct {
        const char *in;
        uint64_t min_us, max_us;
        const char *err;
    } bad[] = {
        {"5", 100000, 86400000000ULL, "'5': units required (use us, ms, s, m, h, d)"},
        {"5 s", 100000, 0, "'5 s': unknown unit ' s' (use us, ms, s, m, h, d)"},
        {"50ms", 100000, 86400000000ULL, "'50ms': must be at least 100ms"},
        {"99999us", 100000, 0, "'99999us': must be at least 100ms"},
        {"0s", 1, 0, "'0s': must be above 0s"},
        {"0.5s", 1500000, 0, "'0.5s': must be at least 1500ms"},
        {"2d", 0, 86400000000ULL, "'2d': must be at most 1d"},
        {"24.5h", 0, 86400000000ULL, "'24.5h': must be at most 1d"},
        {"-1s", 0, 0, "'-1s': negative duration"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t v = 777;
        char err[128] = "";
        assert_int_equal(units_duration_range_us(bad[i].in, bad[i].min_us, bad[i].max_us, &v, err,
                                                 sizeof err), -1);
        assert_string_equal(err, bad[i].err);
        assert_int_equal(v, 777);
        /* the millisecond form says the same */
        err[0] = '\0';
        assert_int_equal(units_duration_range_ms(bad[i].in, bad[i].min_us, bad[i].max_us, &v, err,
                                                 sizeof err), -1);
        assert_string_equal(err, bad[i].err);
    }
    uint64_t v;
    char err[128];
    assert_int_equal(units_duration_range_us("100ms", 100000, 86400000000ULL, &v, err, sizeof err), 0);
    assert_int_equal(v, 100000);
    assert_int_equal(units_duration_range_us("1d", 100000, 86400000000ULL, &v, err, sizeof err), 0);
    assert_int_equal(v, 86400000000ULL);
    assert_int_equal(units_duration_range_us("0s", 0, 0, &v, err, sizeof err), 0);
    assert_int_equal(v, 0);
    /* the bound is on the value given; the milliseconds round up after it */
    assert_int_equal(units_duration_range_ms("500us", 1, 0, &v, err, sizeof err), 0);
    assert_int_equal(v, 1);
    assert_int_equal(units_duration_range_ms("2.5s", 1, 0, &v, err, sizeof err), 0);
    assert_int_equal(v, 2500);
}

static void test_format_exact(void **state)
{
    static const struct {
        uint64_t us;
        const char *out;
    } cases[] = {
        {0, "0s"},          {1, "1us"},           {1500, "1500us"},     {100000, "100ms"},
        {1000000, "1s"},    {90000000, "90s"},    {120000000, "2m"},    {5400000000ULL, "90m"},
        {3600000000ULL, "1h"}, {86400000000ULL, "1d"}, {172800000001ULL, "172800000001us"},
    };
    char buf[32];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        units_format_exact_us(cases[i].us, buf, sizeof buf);
        assert_string_equal(buf, cases[i].out);
    }
    units_format_exact_us(100000, buf, 3);
    assert_string_equal(buf, "10");
    units_format_exact_us(1, NULL, 0);
}

struct count_case {
    const char *in;
    uint64_t v;
};

static void test_count_valid(void **state)
{
    static const struct count_case cases[] = {
        {"0", 0},
        {"2000", 2000},
        {"10k", 10000},
        {"1.5k", 1500},
        {"1.5M", 1500000},
        {"0.001k", 1},
        {"2.0", 2},
        {"18446744073709551615", UINT64_MAX},
        {"18446744073709M", 18446744073709000000ULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t v = 99;
        char err[128] = "";
        if (units_count(cases[i].in, &v, err, sizeof err) != 0)
            fail_msg("%s: %s", cases[i].in, err);
        assert_int_equal(v, cases[i].v);
    }
}

static void test_count_errors(void **state)
{
    static const struct err_case cases[] = {
        {"", "'': empty count"},
        {"-3", "'-3': negative count"},
        {"abc", "'abc': expected a count like 1000 or 10k"},
        {"1.5", "'1.5': not a whole number"},
        {"1.2345k", "'1.2345k': not a whole number"},
        {"10K", "'10K': unknown suffix 'K' (use k or M)"},
        {"10m", "'10m': unknown suffix 'm' (use k or M)"},
        {"10kk", "'10kk': unknown suffix 'kk' (use k or M)"},
        {"10 ", "'10 ': unknown suffix ' ' (use k or M)"},
        {"18446744073709551616", "'18446744073709551616': too large"},
        {"18446744073710M", "'18446744073710M': too large"},
        {"+5", "'+5': expected a count like 1000 or 10k"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t v = 777;
        char err[128] = "";
        assert_int_equal(units_count(cases[i].in, &v, err, sizeof err), -1);
        assert_string_equal(err, cases[i].err);
        assert_int_equal(v, 777);
    }
}

struct rate_case {
    const char *in;
    double v;
};

static void test_rate_valid(void **state)
{
    static const struct rate_case cases[] = {
        {"200/s", 200},
        {"10k/s", 10000},
        {"1.5k/s", 1500},
        {"0.5/s", 0.5},
        {"60/min", 1},
        {"120/m", 2},
        {"3600/h", 1},
        {"1M/h", 1000000.0 / 3600},
        {"0/s", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double v = -1;
        char err[128] = "";
        if (units_rate_per_s(cases[i].in, &v, err, sizeof err) != 0)
            fail_msg("%s: %s", cases[i].in, err);
        assert_float_equal(v, cases[i].v, 1e-9);
    }
}

static void test_rate_errors(void **state)
{
    static const struct err_case cases[] = {
        {"", "'': empty rate"},
        {"200", "'200': a rate needs a time unit (use /s, /m or /min, /h)"},
        {"200/", "'200/': unknown rate unit '/' (use /s, /m or /min, /h)"},
        {"200/d", "'200/d': unknown rate unit '/d' (use /s, /m or /min, /h)"},
        {"200/sec", "'200/sec': unknown rate unit '/sec' (use /s, /m or /min, /h)"},
        {"200x/s", "'200x/s': unknown suffix 'x' (use k or M)"},
        {"200x", "'200x': unknown suffix 'x' (use k or M)"},
        {"200 /s", "'200 /s': unknown suffix ' ' (use k or M)"},
        {"-1/s", "'-1/s': negative rate"},
        {"/s", "'/s': expected a rate like 200/s or 50/min"},
        {"fast", "'fast': expected a rate like 200/s or 50/min"},
        {"99999999999999999999/s", "'99999999999999999999/s': too large"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double v = 777;
        char err[128] = "";
        assert_int_equal(units_rate_per_s(cases[i].in, &v, err, sizeof err), -1);
        assert_string_equal(err, cases[i].err);
        assert_true(v == 777);
    }
}

static void test_format(void **state)
{
    static const struct {
        uint64_t us;
        const char *out;
    } cases[] = {
        {0, "0us"},
        {850, "850us"},
        {999, "999us"},
        {1000, "1.0ms"},
        {12345, "12.3ms"},
        {12350, "12.4ms"},
        {999949, "999.9ms"},
        {999950, "1.00s"},
        {4200000, "4.20s"},
        {59994999, "59.99s"},
        {59995000, "1m00s"},
        {185000000, "3m05s"},
        {3599499999ULL, "59m59s"},
        {3599500000ULL, "1h00m"},
        {7200000000ULL, "2h00m"},
        {90000000000ULL, "25h00m"},
        {UINT64_MAX, "5124095576h02m"},
    };
    char buf[32];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        units_format_us(cases[i].us, buf, sizeof buf);
        assert_string_equal(buf, cases[i].out);
    }
    /* truncated, still terminated */
    units_format_us(12345, buf, 4);
    assert_string_equal(buf, "12.");
    units_format_us(12345, NULL, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duration_valid),
        cmocka_unit_test(test_duration_errors),
        cmocka_unit_test(test_duration_null_and_long_input),
        cmocka_unit_test(test_duration_ms),
        cmocka_unit_test(test_duration_range),
        cmocka_unit_test(test_format_exact),
        cmocka_unit_test(test_count_valid),
        cmocka_unit_test(test_count_errors),
        cmocka_unit_test(test_rate_valid),
        cmocka_unit_test(test_rate_errors),
        cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
