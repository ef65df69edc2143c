#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sim/core/metrics.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

/* xorshift64*: deterministic, so a failure reproduces. */
static uint64_t rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

/* Values spread over every magnitude below 2^41. */
static uint64_t rng_value(void)
{
    unsigned bits = (unsigned)(rng() % 42);
    return bits ? rng() >> (64 - bits) : 0;
}

static void test_bucket_boundaries(void **state)
{
    (void)state;
    assert_int_equal(hist_bucket(0), 0);
    assert_int_equal(hist_bucket(1), 1);
    assert_int_equal(hist_bucket(63), 63);
    assert_int_equal(hist_bucket(64), 64);
    assert_int_equal(hist_bucket(65), 64);
    assert_int_equal(hist_bucket(66), 65);
    assert_int_equal(hist_bucket(127), 95);
    assert_int_equal(hist_bucket(128), 96);
    assert_int_equal(hist_bucket(131), 96);
    assert_int_equal(hist_bucket(132), 97);
    assert_int_equal(hist_bucket((1ull << 20) - 1), 64 + 14 * 32 - 1);
    assert_int_equal(hist_bucket(1ull << 20), 64 + 14 * 32);
    assert_int_equal(hist_bucket((1ull << 20) + (1ull << 15) - 1), 64 + 14 * 32);
    assert_int_equal(hist_bucket((1ull << 20) + (1ull << 15)), 64 + 14 * 32 + 1);
    assert_int_equal(hist_bucket(1ull << 40), 64 + 34 * 32);
    assert_int_equal(hist_bucket((1ull << 41) - 1), HIST_BUCKETS - 1);
    assert_int_equal(hist_bucket(1ull << 41), HIST_BUCKETS - 1);
    assert_int_equal(hist_bucket(UINT64_MAX), HIST_BUCKETS - 1);

    assert_int_equal(hist_bucket_upper(0), 0);
    assert_int_equal(hist_bucket_upper(63), 63);
    assert_int_equal(hist_bucket_upper(64), 65);
    assert_int_equal(hist_bucket_upper(95), 127);
    assert_int_equal(hist_bucket_upper(96), 131);
    assert_int_equal(hist_bucket_upper(64 + 14 * 32), (1ull << 20) + (1ull << 15) - 1);
    assert_int_equal(hist_bucket_upper(HIST_BUCKETS - 2), (1ull << 41) - (1ull << 35) - 1);
    assert_true(hist_bucket_upper(HIST_BUCKETS - 1) == UINT64_MAX);
    assert_true(hist_bucket_upper(HIST_BUCKETS + 5) == UINT64_MAX);
}

/* Buckets tile the value range with no gap and no overlap. */
static void test_buckets_contiguous(void **state)
{
    (void)state;
    for (size_t b = 0; b + 1 < HIST_BUCKETS; b++) {
        uint64_t up = hist_bucket_upper(b);
        assert_int_equal(hist_bucket(up), b);
        assert_int_equal(hist_bucket(up + 1), b + 1);
        if (b > 0)
            assert_true(up > hist_bucket_upper(b - 1));
    }
}

static void test_relative_error(void **state)
{
    (void)state;
    double worst = 0;
    for (int i = 0; i < 200000; i++) {
        /* the stated range is up to 2^40; the last bucket is open-ended */
        uint64_t v = i == 0 ? 1ull << 40 : rng_value() >> 1;
        uint64_t up = hist_bucket_upper(hist_bucket(v));
        assert_true(up >= v);
        if (v < 64) {
            assert_true(up == v);
            continue;
        }
        double err = (double)(up - v) / (double)v;
        if (err > worst)
            worst = err;
    }
    assert_true(worst < 1.0 / 32);
    assert_true(worst > 0.02);   /* the sample really reached the coarse end of buckets */
}

static void test_empty(void **state)
{
    (void)state;
    struct hist h;
    hist_reset(&h);
    assert_int_equal(h.n, 0);
    assert_true(h.min == UINT64_MAX);
    assert_int_equal(h.max, 0);
    assert_int_equal(hist_percentile(&h, 50), 0);
    assert_int_equal(hist_percentile(&h, 100), 0);
    assert_true(hist_mean(&h) == 0.0);
    char buf[128];
    hist_format(&h, buf, sizeof buf);
    assert_string_equal(buf, "no samples");
    cJSON *j = hist_to_json(&h);
    assert_non_null(j);
    assert_true(cJSON_GetObjectItem(j, "n")->valuedouble == 0);
    assert_true(cJSON_GetObjectItem(j, "max_us")->valuedouble == 0);
    assert_true(cJSON_GetObjectItem(j, "p99_us")->valuedouble == 0);
    cJSON_Delete(j);
}

static void test_percentile_uniform(void **state)
{
    (void)state;
    struct hist *h = malloc(sizeof *h);
    assert_non_null(h);
    hist_reset(h);
    for (uint64_t v = 1; v <= 10000; v++)
        hist_record(h, v);
    assert_int_equal(h->n, 10000);
    assert_int_equal(h->sum, 50005000);
    assert_int_equal(h->min, 1);
    assert_int_equal(h->max, 10000);
    assert_true(fabs(hist_mean(h) - 5000.5) < 1e-9);

    const double ps[] = {50, 90, 99, 99.9};
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
        double want = ps[i] * 100;
        uint64_t got = hist_percentile(h, ps[i]);
        assert_true(got >= want);
        assert_true((got - want) / want < 0.032);
    }
    /* 5000 lies in [4992, 5119] (width 128 from 4096 on) */
    assert_int_equal(hist_percentile(h, 50), 5119);
    assert_int_equal(hist_percentile(h, 0), 1);
    assert_int_equal(hist_percentile(h, -3), 1);
    assert_int_equal(hist_percentile(h, NAN), 1);
    assert_int_equal(hist_percentile(h, 100), 10000);
    assert_int_equal(hist_percentile(h, 250), 10000);
    free(h);
}

static void test_percentile_exact_ranks(void **state)
{
    (void)state;
    struct hist h;
    hist_reset(&h);
    /* p99.9 of 1000 samples is rank 999, not 1000, despite 99.9/100 being inexact. */
    for (int i = 0; i < 999; i++)
        hist_record(&h, 10);
    hist_record(&h, 1000000);
    assert_int_equal(hist_percentile(&h, 99.9), 10);
    assert_int_equal(hist_percentile(&h, 99.95), 1000000);
    assert_int_equal(hist_percentile(&h, 100), 1000000);

    /* exact below 64 */
    hist_reset(&h);
    for (uint64_t v = 1; v <= 63; v++)
        hist_record(&h, v);
    assert_int_equal(hist_percentile(&h, 50), 32);
    assert_int_equal(hist_percentile(&h, 10), 7);

    /* one value: every percentile is that value, clamped from its bucket bound */
    hist_reset(&h);
    for (int i = 0; i < 5; i++)
        hist_record(&h, 1234);
    assert_int_equal(hist_percentile(&h, 0), 1234);
    assert_int_equal(hist_percentile(&h, 50), 1234);
    assert_int_equal(hist_percentile(&h, 100), 1234);

    /* beyond 2^41: clamped bucket, percentile still the real max */
    hist_reset(&h);
    hist_record(&h, UINT64_MAX - 1);
    assert_true(hist_percentile(&h, 50) == UINT64_MAX - 1);
    assert_true(h.sum == UINT64_MAX - 1);
    hist_record(&h, 5);
    assert_true(h.sum == UINT64_MAX);   /* saturates, does not wrap */
}

/* A window is exactly what was recorded between the two snapshots. */
static void test_window(void **state)
{
    (void)state;
    struct hist *cum = malloc(sizeof *cum), *snap = malloc(sizeof *snap);
    struct hist *only = malloc(sizeof *only), *w = malloc(sizeof *w);
    assert_true(cum && snap && only && w);
    hist_reset(cum);
    hist_reset(only);
    for (int i = 0; i < 3000; i++)
        hist_record(cum, 10 + (uint64_t)i % 500);        /* the first "second" */
    *snap = *cum;
    for (int i = 0; i < 1000; i++) {
        uint64_t v = 20000 + (uint64_t)i * 37;          /* the second "second": slower */
        hist_record(cum, v);
        hist_record(only, v);
    }
    hist_window(w, cum, snap);
    assert_int_equal(w->n, 1000);
    assert_int_equal(w->sum, only->sum);
    assert_memory_equal(w->counts, only->counts, sizeof w->counts);
    /* percentiles of the window are those of the window's samples, not the run's */
    assert_int_equal(hist_percentile(w, 50), hist_percentile(only, 50));
    assert_int_equal(hist_percentile(w, 99), hist_percentile(only, 99));
    assert_true(w->max >= only->max && w->max <= cum->max);
    assert_true(w->min <= only->min && w->min >= hist_bucket_upper(hist_bucket(only->min) - 1));
    /* an empty window */
    hist_window(w, cum, cum);
    assert_int_equal(w->n, 0);
    assert_int_equal(hist_percentile(w, 99), 0);
    free(cum);
    free(snap);
    free(only);
    free(w);
}

static void test_merge(void **state)
{
    (void)state;
    struct hist *a = malloc(sizeof *a), *b = malloc(sizeof *b), *all = malloc(sizeof *all);
    struct hist *e = malloc(sizeof *e);
    assert_true(a && b && all && e);
    hist_reset(a);
    hist_reset(b);
    hist_reset(all);
    hist_reset(e);
    for (int i = 0; i < 5000; i++) {
        uint64_t v = rng_value();
        hist_record(i % 3 ? a : b, v);
        hist_record(all, v);
    }
    hist_merge(a, e);                       /* merging empty changes nothing */
    hist_merge(a, b);
    assert_memory_equal(a, all, sizeof *all);
    hist_merge(e, all);                     /* into empty: a copy */
    assert_memory_equal(e, all, sizeof *all);
    free(a);
    free(b);
    free(all);
    free(e);
}

static void test_corrected_small(void **state)
{
    (void)state;
    struct hist h;
    hist_reset(&h);
    hist_record_corrected(&h, 1000, 100);
    /* 1000 plus the 9 that stalled behind it: 900, 800, ..., 100 */
    assert_int_equal(h.n, 10);
    assert_int_equal(h.sum, 5500);
    assert_int_equal(h.min, 100);
    assert_int_equal(h.max, 1000);
    for (uint64_t v = 100; v <= 1000; v += 100)
        assert_true(h.counts[hist_bucket(v)] >= 1);

    hist_reset(&h);
    hist_record_corrected(&h, 200, 100);    /* exactly two intervals: one missing sample of 100 */
    assert_int_equal(h.n, 2);
    assert_int_equal(h.min, 100);

    hist_reset(&h);
    hist_record_corrected(&h, 199, 100);    /* under two intervals: nothing missing */
    assert_int_equal(h.n, 1);
    hist_record_corrected(&h, 50, 100);
    assert_int_equal(h.n, 2);
    hist_record_corrected(&h, 5000, 0);     /* no interval: no correction */
    assert_int_equal(h.n, 3);

    hist_reset(&h);
    hist_record_corrected(&h, 1050, 100);   /* 950, 850, ..., 150 */
    assert_int_equal(h.n, 10);
    assert_int_equal(h.min, 150);
    assert_int_equal(h.sum, 1050 + (150 + 950) * 9 / 2);
}

/* The per-bucket path must give exactly what recording one by one gives. */
static void test_corrected_bulk_matches_loop(void **state)
{
    (void)state;
    struct hist *fast = malloc(sizeof *fast), *slow = malloc(sizeof *slow);
    assert_true(fast && slow);
    const uint64_t cases[][2] = {
        {10000000, 7}, {1000000, 1}, {65 * 1000 + 3, 1000}, {123456789, 1000},
        {(1ull << 20) + 17, 1ull << 10}, {4096, 63}, {8191, 64},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t us = cases[i][0], iv = cases[i][1];
        hist_reset(fast);
        hist_reset(slow);
        hist_record_corrected(fast, us, iv);
        hist_record(slow, us);
        for (uint64_t v = us - iv; v >= iv; v -= iv)
            hist_record(slow, v);
        assert_memory_equal(fast, slow, sizeof *slow);
    }
    for (int i = 0; i < 200; i++) {
        uint64_t us = rng() % 3000000, iv = 1 + rng() % 5000;
        hist_reset(fast);
        hist_reset(slow);
        hist_record_corrected(fast, us, iv);
        hist_record(slow, us);
        for (uint64_t v = us >= iv ? us - iv : 0; v >= iv; v -= iv)
            hist_record(slow, v);
        assert_memory_equal(fast, slow, sizeof *slow);
    }
    free(fast);
    free(slow);
}

/* A stall of 2^40 µs at 1 µs intervals is 2^40 missing samples: must not loop over them. */
static void test_corrected_huge(void **state)
{
    (void)state;
    struct hist *h = malloc(sizeof *h);
    assert_non_null(h);
    hist_reset(h);
    hist_record_corrected(h, 1ull << 40, 1);
    assert_true(h->n == 1ull << 40);
    assert_int_equal(h->min, 1);
    assert_true(h->max == 1ull << 40);
    assert_true(h->sum == UINT64_MAX);        /* 2^79: saturated */
    assert_int_equal(h->counts[1], 1);
    assert_true(h->counts[HIST_BUCKETS - 33] == UINT32_MAX);  /* 2^34 values: saturated */
    assert_int_equal(hist_percentile(h, 0), 1);
    free(h);
}

static void test_json_fields(void **state)
{
    (void)state;
    struct hist h;
    hist_reset(&h);
    for (int i = 0; i < 100; i++)
        hist_record(&h, 10);
    hist_record(&h, 50);
    cJSON *j = hist_to_json(&h);
    assert_non_null(j);
    assert_int_equal(cJSON_GetArraySize(j), 7);
    const char *names[] = {"n", "mean_us", "p50_us", "p90_us", "p99_us", "p999_us", "max_us"};
    const double want[] = {101, 1050.0 / 101, 10, 10, 10, 50, 50};
    for (size_t i = 0; i < 7; i++) {
        cJSON *f = cJSON_GetObjectItemCaseSensitive(j, names[i]);
        assert_non_null(f);
        assert_true(cJSON_IsNumber(f));
        assert_true(fabs(f->valuedouble - want[i]) < 1e-9);
    }
    cJSON_Delete(j);
}

static void test_format(void **state)
{
    (void)state;
    struct hist h;
    hist_reset(&h);
    for (int i = 0; i < 10; i++)
        hist_record(&h, 850);
    char buf[128];
    hist_format(&h, buf, sizeof buf);
    assert_string_equal(buf, "p50 850us p90 850us p99 850us p99.9 850us max 850us");
    /* percentiles report their bucket's upper bound: 1200 reads as 1215 */
    hist_reset(&h);
    for (int i = 0; i < 90; i++)
        hist_record(&h, 1200);
    for (int i = 0; i < 10; i++)
        hist_record(&h, 12000);
    assert_int_equal(hist_percentile(&h, 50), 1215);
    hist_format(&h, buf, sizeof buf);
    assert_string_equal(buf, "p50 1.2ms p90 1.2ms p99 12.0ms p99.9 12.0ms max 12.0ms");
    char small[8];
    hist_format(&h, small, sizeof small);
    assert_string_equal(small, "p50 1.2");
    hist_format(&h, NULL, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket_boundaries),
        cmocka_unit_test(test_buckets_contiguous),
        cmocka_unit_test(test_relative_error),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_percentile_uniform),
        cmocka_unit_test(test_percentile_exact_ranks),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_corrected_small),
        cmocka_unit_test(test_corrected_bulk_matches_loop),
        cmocka_unit_test(test_corrected_huge),
        cmocka_unit_test(test_json_fields),
        cmocka_unit_test(test_window),
        cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
