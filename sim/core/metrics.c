#include "sim/core/metrics.h"

#include <stdio.h>
#include <string.h>

#include "sim/core/units.h"

/* log2 of HIST_LINEAR and HIST_SUB: the index arithmetic below is shifts. */
#define LINEAR_BITS 6
#define SUB_BITS 5

_Static_assert(HIST_LINEAR == 1 << LINEAR_BITS, "HIST_LINEAR must be 2^LINEAR_BITS");
_Static_assert(HIST_SUB == 1 << SUB_BITS, "HIST_SUB must be 2^SUB_BITS");
_Static_assert(HIST_LINEAR == 2 * HIST_SUB, "linear range must end where the first octave starts");

/* Percentiles are resolved to 1e-4 percent so that ranks are computed in integers:
 * p / 100 is rarely exact in binary and p99.9 of 1000 samples must be rank 999. */
#define PCT_SCALE 1000000u

/* Above this many missing samples, corrected recording counts them per bucket
 * instead of one by one, so a long stall at a short interval stays cheap. */
#define CORRECT_LOOP_MAX 64

static uint32_t add_sat32(uint32_t a, uint64_t b)
{
    return b >= (uint64_t)(UINT32_MAX - a) ? UINT32_MAX : a + (uint32_t)b;
}

static uint64_t add_sat64(uint64_t a, uint64_t b)
{
    uint64_t r;
    return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

static uint64_t mul_sat64(uint64_t a, uint64_t b)
{
    uint64_t r;
    return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

size_t hist_bucket(uint64_t us)
{
    if (us < HIST_LINEAR)
        return (size_t)us;
    int e = 63 - __builtin_clzll(us);
    if (e > HIST_MAX_EXP)
        return HIST_BUCKETS - 1;
    size_t sub = (size_t)(us >> (e - SUB_BITS)) - HIST_SUB;
    return HIST_LINEAR + (size_t)(e - LINEAR_BITS) * HIST_SUB + sub;
}

static uint64_t bucket_lower(size_t b)
{
    if (b < HIST_LINEAR)
        return b;
    size_t e = LINEAR_BITS + (b - HIST_LINEAR) / HIST_SUB;
    uint64_t sub = (b - HIST_LINEAR) % HIST_SUB;
    return (HIST_SUB + sub) << (e - SUB_BITS);
}

uint64_t hist_bucket_upper(size_t b)
{
    /* The last bucket also holds every clamped value. */
    if (b >= HIST_BUCKETS - 1)
        return UINT64_MAX;
    return bucket_lower(b + 1) - 1;
}

void hist_reset(struct hist *h)
{
    memset(h, 0, sizeof *h);
    h->min = UINT64_MAX;
}

static void add_samples(struct hist *h, size_t b, uint64_t count)
{
    h->counts[b] = add_sat32(h->counts[b], count);
    h->n = add_sat64(h->n, count);
}

void hist_record(struct hist *h, uint64_t us)
{
    add_samples(h, hist_bucket(us), 1);
    h->sum = add_sat64(h->sum, us);
    if (us < h->min)
        h->min = us;
    if (us > h->max)
        h->max = us;
}

/* Adds lo, lo + iv, ..., hi (k values) bucket by bucket. */
static void record_series(struct hist *h, uint64_t lo, uint64_t hi, uint64_t iv, uint64_t k)
{
    for (size_t b = hist_bucket(lo);; b++) {
        uint64_t a = bucket_lower(b) > lo ? bucket_lower(b) : lo;
        uint64_t u = hist_bucket_upper(b) < hi ? hist_bucket_upper(b) : hi;
        uint64_t first = (a - lo) / iv + ((a - lo) % iv != 0);
        uint64_t last = (u - lo) / iv;
        if (last >= first)
            add_samples(h, b, last - first + 1);
        if (u == hi)
            break;
    }
    /* k (lo + hi) / 2 without overflow: when k is odd, hi - lo = (k-1) iv is even. */
    uint64_t s = k % 2 ? mul_sat64(k, lo + (hi - lo) / 2)
                       : add_sat64(mul_sat64(k / 2, lo), mul_sat64(k / 2, hi));
    h->sum = add_sat64(h->sum, s);
    if (lo < h->min)
        h->min = lo;
    if (hi > h->max)
        h->max = hi;
}

void hist_record_corrected(struct hist *h, uint64_t us, uint64_t expected_interval_us)
{
    uint64_t iv = expected_interval_us;
    hist_record(h, us);
    if (iv == 0 || us / iv < 2)
        return;
    /* The requests a stalled sender did not send would have waited us - iv,
     * us - 2 iv, ... down to the last one still at least one interval late. */
    uint64_t k = us / iv - 1;
    uint64_t hi = us - iv;
    uint64_t lo = iv + us % iv;
    if (k > CORRECT_LOOP_MAX) {
        record_series(h, lo, hi, iv, k);
        return;
    }
    for (uint64_t v = hi; v >= iv; v -= iv)
        hist_record(h, v);
}

void hist_merge(struct hist *dst, const struct hist *src)
{
    for (size_t b = 0; b < HIST_BUCKETS; b++)
        dst->counts[b] = add_sat32(dst->counts[b], src->counts[b]);
    dst->n = add_sat64(dst->n, src->n);
    dst->sum = add_sat64(dst->sum, src->sum);
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
}

void hist_window(struct hist *dst, const struct hist *later, const struct hist *earlier)
{
    size_t lo = HIST_BUCKETS, hi = 0;
    dst->n = later->n >= earlier->n ? later->n - earlier->n : 0;
    dst->sum = later->sum >= earlier->sum ? later->sum - earlier->sum : 0;
    for (size_t b = 0; b < HIST_BUCKETS; b++) {
        uint32_t c = later->counts[b] >= earlier->counts[b] ? later->counts[b] - earlier->counts[b] : 0;
        dst->counts[b] = c;
        if (c) {
            if (lo == HIST_BUCKETS)
                lo = b;
            hi = b;
        }
    }
    if (lo == HIST_BUCKETS) {
        dst->min = UINT64_MAX;
        dst->max = 0;
        return;
    }
    uint64_t lo_v = lo ? hist_bucket_upper(lo - 1) + 1 : 0, hi_v = hist_bucket_upper(hi);
    dst->min = lo_v < later->min ? later->min : lo_v;
    dst->max = hi_v > later->max ? later->max : hi_v;
}

uint64_t hist_percentile(const struct hist *h, double p)
{
    if (h->n == 0)
        return 0;
    if (!(p > 0))   /* also NaN */
        p = 0;
    if (p > 100)
        p = 100;
    uint64_t pm = (uint64_t)(p * (PCT_SCALE / 100) + 0.5);
    uint64_t rank = h->n / PCT_SCALE * pm + ((h->n % PCT_SCALE) * pm + PCT_SCALE - 1) / PCT_SCALE;
    if (rank < 1)
        rank = 1;
    uint64_t cum = 0;
    for (size_t b = 0; b < HIST_BUCKETS; b++) {
        cum += h->counts[b];
        if (cum < rank)
            continue;
        uint64_t v = hist_bucket_upper(b);
        if (v < h->min)
            return h->min;
        return v > h->max ? h->max : v;
    }
    /* Only reached when bucket counts saturated below n. */
    return h->max;
}

double hist_mean(const struct hist *h)
{
    return h->n ? (double)h->sum / (double)h->n : 0.0;
}

cJSON *hist_to_json(const struct hist *h)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    const struct {
        const char *name;
        double v;
    } f[] = {
        {"n", (double)h->n},
        {"mean_us", hist_mean(h)},
        {"p50_us", (double)hist_percentile(h, 50)},
        {"p90_us", (double)hist_percentile(h, 90)},
        {"p99_us", (double)hist_percentile(h, 99)},
        {"p999_us", (double)hist_percentile(h, 99.9)},
        {"max_us", (double)(h->n ? h->max : 0)},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        if (!cJSON_AddNumberToObject(o, f[i].name, f[i].v)) {
            cJSON_Delete(o);
            return NULL;
        }
    }
    return o;
}

void hist_format(const struct hist *h, char *buf, size_t cap)
{
    if (!buf || cap == 0)
        return;
    if (h->n == 0) {
        snprintf(buf, cap, "no samples");
        return;
    }
    char v[5][32];
    units_format_us(hist_percentile(h, 50), v[0], sizeof v[0]);
    units_format_us(hist_percentile(h, 90), v[1], sizeof v[1]);
    units_format_us(hist_percentile(h, 99), v[2], sizeof v[2]);
    units_format_us(hist_percentile(h, 99.9), v[3], sizeof v[3]);
    units_format_us(h->max, v[4], sizeof v[4]);
    snprintf(buf, cap, "p50 %s p90 %s p99 %s p99.9 %s max %s", v[0], v[1], v[2], v[3], v[4]);
}
