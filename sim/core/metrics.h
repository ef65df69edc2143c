/* Latency histograms (µs) and rate meters.  A histogram is a fixed array of
 * log-linear buckets (exact below 64 µs, then 32 sub-buckets per power of two:
 * relative error under 3.2%), so it can be merged by adding arrays and shipped
 * between processes as plain bytes. */
#ifndef FLEETSIM_METRICS_H
#define FLEETSIM_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#define HIST_SUB 32
#define HIST_LINEAR 64
#define HIST_MAX_EXP 40  /* values up to 2^40 µs (~12.7 days); larger clamp to the last bucket */
#define HIST_BUCKETS (HIST_LINEAR + (HIST_MAX_EXP - 5) * HIST_SUB)

struct hist {
    uint64_t n;          /* samples recorded */
    uint64_t sum;        /* sum of samples, µs */
    uint64_t min;        /* smallest sample (UINT64_MAX when n == 0) */
    uint64_t max;        /* largest sample */
    uint32_t counts[HIST_BUCKETS];
};

void hist_reset(struct hist *h);
void hist_record(struct hist *h, uint64_t us);
/* Record a sample taken at a fixed send interval, adding the samples a stalled
 * sender would have taken (coordinated omission correction, as HdrHistogram's
 * recordValueWithExpectedInterval): us - k*interval for k = 1.. while > interval. */
void hist_record_corrected(struct hist *h, uint64_t us, uint64_t expected_interval_us);
void hist_merge(struct hist *dst, const struct hist *src);
/* The samples recorded between two snapshots of one cumulative histogram
 * (earlier <= later): dst = later - earlier.  This is how the per-second
 * histograms are made: the parent keeps last second's merge and subtracts it.
 * min and max are bucket bounds (clamped to later's min and max), since the
 * exact extremes of a window are not kept. */
void hist_window(struct hist *dst, const struct hist *later, const struct hist *earlier);
/* p in [0,100]: the smallest bucket upper bound at or above that rank, clamped to
 * [min,max]; 0 when empty. */
uint64_t hist_percentile(const struct hist *h, double p);
double hist_mean(const struct hist *h);
/* {"n":..,"mean_us":..,"p50_us":..,"p90_us":..,"p99_us":..,"p999_us":..,"max_us":..} */
cJSON *hist_to_json(const struct hist *h);
/* "p50 1.2ms p90 3.4ms p99 8ms p99.9 12ms max 15ms" */
void hist_format(const struct hist *h, char *buf, size_t cap);

/* Bucket index for a value, and the highest value a bucket holds (for tests). */
size_t hist_bucket(uint64_t us);
uint64_t hist_bucket_upper(size_t b);

#endif
