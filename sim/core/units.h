/* Parsing of the units users type: durations ("250ms", "30s", "2h", "1d", "1.5s",
 * "500us"), counts ("10k", "1.5M", "2000"), rates ("200/s", "10k/s", "50/min").
 * One place for all of them, used by the CLI and the scenario parser. */
#ifndef FLEETSIM_UNITS_H
#define FLEETSIM_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* Each returns 0 on success, -1 on error with a message in err (e.g.
 * "'30x': unknown unit 'x' (use us, ms, s, m, h, d)"). */
int units_duration_ms(const char *s, uint64_t *out_ms, char *err, size_t errcap);
int units_duration_us(const char *s, uint64_t *out_us, char *err, size_t errcap);
int units_count(const char *s, uint64_t *out, char *err, size_t errcap);
int units_rate_per_s(const char *s, double *out, char *err, size_t errcap);

/* Every duration a user gives (scenario fields, command-line flags) goes through
 * these, so a mistake reads the same wherever it is made.  A bare number ("30")
 * is refused: "'30': units required (use us, ms, s, m, h, d)".  The value must lie
 * in [min_us, max_us] (max_us 0: no upper limit), else "'50ms': must be at least
 * 100ms", "'0s': must be above 0s" (min_us 1) or "'2d': must be at most 1d". */
int units_duration_range_us(const char *s, uint64_t min_us, uint64_t max_us, uint64_t *out_us,
                            char *err, size_t errcap);
/* The same, the result in milliseconds (rounded up, as units_duration_ms). */
int units_duration_range_ms(const char *s, uint64_t min_us, uint64_t max_us, uint64_t *out_ms,
                            char *err, size_t errcap);

/* Copy user text for quoting in a message: at most limit bytes (then "...", never
 * half a UTF-8 sequence), control bytes as '?'. */
void units_quote(const char *s, char *out, size_t cap, size_t limit);

/* Format µs as "850us", "12.3ms", "4.20s", "3m05s", "2h00m". */
void units_format_us(uint64_t us, char *buf, size_t cap);
/* Format µs exactly, in the largest unit that divides it: "100ms", "90s", "1d", "1500us". */
void units_format_exact_us(uint64_t us, char *buf, size_t cap);

#endif
