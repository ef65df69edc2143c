/* Units users type: durations, counts, rates.  Numbers are read digit by digit
 * in integer arithmetic, so "1.1s" is exactly 1100000 us and the result does not
 * depend on the C locale's decimal point. */
#include "sim/core/units.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

enum units_rc { UNITS_OK = 0, UNITS_ERR = -1 };

/* More fraction digits than this cannot come out whole for any unit here
 * (the largest multiplier, a day in us, has 10^8 as its largest power of ten). */
#define UNITS_MAX_FRAC_DIGITS 19

#define UNITS_DURATION_HELP "use us, ms, s, m, h, d"

/* A decimal as written: ip.frac, frac having fd digits (trailing zeros dropped). */
struct units_dec {
    uint64_t ip;
    bool ip_overflow;
    uint64_t frac;
    unsigned fd;
    bool frac_too_long;
    double approx;           /* the same value as a double, for rates */
    const char *end;         /* first character after the number */
};

struct units_scale {
    const char *name;
    uint64_t mult;
};

static const struct units_scale duration_units[] = {
    {"us", 1ULL},
    {"ms", 1000ULL},
    {"s", 1000000ULL},
    {"m", 60000000ULL},
    {"h", 3600000000ULL},
    {"d", 86400000000ULL},
};

static const struct units_scale count_units[] = {
    {"", 1ULL},
    {"k", 1000ULL},
    {"M", 1000000ULL},
};

void units_quote(const char *s, char *out, size_t cap, size_t limit)
{
    size_t n = 0, i = 0;
    if (cap == 0)
        return;
    for (; s[i] != '\0' && i < limit && n + 1 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        out[n++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    if (s[i] != '\0') {
        /* do not leave half a UTF-8 sequence before the ellipsis */
        while (n > 0 && ((unsigned char)out[n - 1] & 0xC0) == 0x80)
            n--;
        if (n > 0 && ((unsigned char)out[n - 1] & 0xC0) == 0xC0)
            n--;
        if (n + 3 < cap) {
            memcpy(out + n, "...", 3);
            n += 3;
        }
    }
    out[n] = '\0';
}

__attribute__((format(printf, 4, 5)))
static int units_fail(char *err, size_t errcap, const char *s, const char *fmt, ...)
{
    char q[64];
    char msg[192];
    va_list ap;
    if (err == NULL || errcap == 0)
        return UNITS_ERR;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (s == NULL) {
        snprintf(err, errcap, "%s", msg);
        return UNITS_ERR;
    }
    units_quote(s, q, sizeof q, 40);
    snprintf(err, errcap, "'%s': %s", q, msg);
    return UNITS_ERR;
}

static bool units_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Reads [0-9]+(.[0-9]+)? from s.  Returns false when s does not start with one. */
static bool units_read_dec(const char *s, struct units_dec *d)
{
    const char *p = s;
    double scale = 0.1;
    memset(d, 0, sizeof *d);
    if (!units_is_digit(*p))
        return false;
    for (; units_is_digit(*p); p++) {
        unsigned digit = (unsigned)(*p - '0');
        if (d->ip > (UINT64_MAX - digit) / 10)
            d->ip_overflow = true;
        else
            d->ip = d->ip * 10 + digit;
        d->approx = d->approx * 10 + digit;
    }
    if (*p == '.') {
        const char *f = p + 1, *last_nonzero = NULL;
        if (!units_is_digit(*f))
            return false;
        for (p = f; units_is_digit(*p); p++) {
            d->approx += (*p - '0') * scale;
            scale /= 10;
            if (*p != '0')
                last_nonzero = p;
        }
        if (last_nonzero != NULL) {
            size_t n = (size_t)(last_nonzero - f) + 1;
            if (n > UNITS_MAX_FRAC_DIGITS) {
                d->frac_too_long = true;
            } else {
                for (size_t i = 0; i < n; i++)
                    d->frac = d->frac * 10 + (uint64_t)(f[i] - '0');
                d->fd = (unsigned)n;
            }
        }
    }
    d->end = p;
    return true;
}

static uint64_t units_gcd(uint64_t a, uint64_t b)
{
    while (b != 0) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

enum units_scale_rc { SCALE_OK = 0, SCALE_OVERFLOW, SCALE_NOT_WHOLE };

/* d * mult as a whole number: overflow and fractions left over are reported. */
static enum units_scale_rc units_apply(const struct units_dec *d, uint64_t mult, uint64_t *out)
{
    uint64_t whole, part = 0;
    if (d->frac_too_long)
        return SCALE_NOT_WHOLE;
    if (d->ip_overflow || (mult != 0 && d->ip > UINT64_MAX / mult))
        return SCALE_OVERFLOW;
    whole = d->ip * mult;
    if (d->fd > 0) {
        uint64_t pow10 = 1, g, denom;
        for (unsigned i = 0; i < d->fd; i++)
            pow10 *= 10;
        /* frac * mult / 10^fd, reduced first so nothing overflows */
        g = units_gcd(mult, pow10);
        denom = pow10 / g;
        if (d->frac % denom != 0)
            return SCALE_NOT_WHOLE;
        part = d->frac / denom;
        if (part > UINT64_MAX / (mult / g))
            return SCALE_OVERFLOW;
        part *= mult / g;
    }
    if (whole > UINT64_MAX - part)
        return SCALE_OVERFLOW;
    *out = whole + part;
    return SCALE_OK;
}

static const struct units_scale *units_find(const struct units_scale *t, size_t n, const char *name,
                                            size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(t[i].name) == len && strncmp(t[i].name, name, len) == 0)
            return &t[i];
    return NULL;
}

/* The checks every kind shares before the number: missing, empty, negative. */
static int units_precheck(const char *s, const char *what, char *err, size_t errcap)
{
    if (s == NULL)
        return units_fail(err, errcap, NULL, "missing %s", what);
    if (s[0] == '\0')
        return units_fail(err, errcap, s, "empty %s", what);
    if (s[0] == '-')
        return units_fail(err, errcap, s, "negative %s", what);
    return UNITS_OK;
}

int units_duration_us(const char *s, uint64_t *out_us, char *err, size_t errcap)
{
    struct units_dec d;
    const struct units_scale *u;
    char unit[24];
    if (units_precheck(s, "duration", err, errcap) != UNITS_OK)
        return UNITS_ERR;
    if (!units_read_dec(s, &d))
        return units_fail(err, errcap, s, "expected a number followed by a unit, e.g. 30s or 250ms");
    if (*d.end == '\0')
        return units_fail(err, errcap, s, "units required (" UNITS_DURATION_HELP ")");
    u = units_find(duration_units, sizeof duration_units / sizeof duration_units[0], d.end,
                   strlen(d.end));
    if (u == NULL) {
        units_quote(d.end, unit, sizeof unit, 40);
        return units_fail(err, errcap, s, "unknown unit '%s' (" UNITS_DURATION_HELP ")", unit);
    }
    switch (units_apply(&d, u->mult, out_us)) {
    case SCALE_OK:
        return UNITS_OK;
    case SCALE_OVERFLOW:
        return units_fail(err, errcap, s, "too large");
    case SCALE_NOT_WHOLE:
        break;
    }
    return units_fail(err, errcap, s, "finer than a microsecond");
}

/* Rounds up, so a duration that is not zero never becomes a zero timer. */
int units_duration_ms(const char *s, uint64_t *out_ms, char *err, size_t errcap)
{
    uint64_t us;
    if (units_duration_us(s, &us, err, errcap) != UNITS_OK)
        return UNITS_ERR;
    *out_ms = us / 1000 + (us % 1000 != 0);
    return UNITS_OK;
}

int units_duration_range_us(const char *s, uint64_t min_us, uint64_t max_us, uint64_t *out_us,
                            char *err, size_t errcap)
{
    uint64_t us;
    char lim[32];
    if (units_duration_us(s, &us, err, errcap) != UNITS_OK)
        return UNITS_ERR;
    if (us < min_us) {
        if (min_us == 1)
            return units_fail(err, errcap, s, "must be above 0s");
        units_format_exact_us(min_us, lim, sizeof lim);
        return units_fail(err, errcap, s, "must be at least %s", lim);
    }
    if (max_us != 0 && us > max_us) {
        units_format_exact_us(max_us, lim, sizeof lim);
        return units_fail(err, errcap, s, "must be at most %s", lim);
    }
    *out_us = us;
    return UNITS_OK;
}

int units_duration_range_ms(const char *s, uint64_t min_us, uint64_t max_us, uint64_t *out_ms,
                            char *err, size_t errcap)
{
    uint64_t us;
    if (units_duration_range_us(s, min_us, max_us, &us, err, errcap) != UNITS_OK)
        return UNITS_ERR;
    *out_ms = us / 1000 + (us % 1000 != 0);
    return UNITS_OK;
}

/* Number and optional k/M suffix in s[0..len).  A whole result is required
 * unless approx is asked for (rates). */
static int units_count_part(const char *s, size_t len, const char *full, uint64_t *out,
                            double *approx, char *err, size_t errcap)
{
    struct units_dec d;
    const struct units_scale *u;
    char suffix[24];
    size_t slen;
    if (!units_read_dec(s, &d) || (size_t)(d.end - s) > len)
        return UNITS_ERR;
    slen = len - (size_t)(d.end - s);
    u = units_find(count_units, sizeof count_units / sizeof count_units[0], d.end, slen);
    if (u == NULL) {
        size_t n = slen < sizeof suffix - 1 ? slen : sizeof suffix - 1;
        char raw[24];
        memcpy(raw, d.end, n);
        raw[n] = '\0';
        units_quote(raw, suffix, sizeof suffix, 40);
        return units_fail(err, errcap, full, "unknown suffix '%s' (use k or M)", suffix);
    }
    if (approx != NULL) {
        if (d.ip_overflow)
            return units_fail(err, errcap, full, "too large");
        *approx = d.approx * (double)u->mult;
        return UNITS_OK;
    }
    switch (units_apply(&d, u->mult, out)) {
    case SCALE_OK:
        return UNITS_OK;
    case SCALE_OVERFLOW:
        return units_fail(err, errcap, full, "too large");
    case SCALE_NOT_WHOLE:
        break;
    }
    return units_fail(err, errcap, full, "not a whole number");
}

int units_count(const char *s, uint64_t *out, char *err, size_t errcap)
{
    struct units_dec d;
    if (units_precheck(s, "count", err, errcap) != UNITS_OK)
        return UNITS_ERR;
    if (!units_read_dec(s, &d))
        return units_fail(err, errcap, s, "expected a count like 1000 or 10k");
    if (units_count_part(s, strlen(s), s, out, NULL, err, errcap) != UNITS_OK)
        return UNITS_ERR;
    return UNITS_OK;
}

int units_rate_per_s(const char *s, double *out, char *err, size_t errcap)
{
    static const struct units_scale per[] = {
        {"s", 1}, {"m", 60}, {"min", 60}, {"h", 3600},
    };
    struct units_dec d;
    const struct units_scale *u;
    const char *slash;
    char unit[24];
    double n;
    if (units_precheck(s, "rate", err, errcap) != UNITS_OK)
        return UNITS_ERR;
    if (!units_read_dec(s, &d))
        return units_fail(err, errcap, s, "expected a rate like 200/s or 50/min");
    slash = strchr(s, '/');
    if (slash == NULL) {
        if (units_count_part(s, strlen(s), s, NULL, &n, err, errcap) != UNITS_OK)
            return UNITS_ERR;
        return units_fail(err, errcap, s, "a rate needs a time unit (use /s, /m or /min, /h)");
    }
    if (slash < d.end)
        return units_fail(err, errcap, s, "expected a rate like 200/s or 50/min");
    if (units_count_part(s, (size_t)(slash - s), s, NULL, &n, err, errcap) != UNITS_OK)
        return UNITS_ERR;
    u = units_find(per, sizeof per / sizeof per[0], slash + 1, strlen(slash + 1));
    if (u == NULL) {
        units_quote(slash, unit, sizeof unit, 40);
        return units_fail(err, errcap, s, "unknown rate unit '%s' (use /s, /m or /min, /h)", unit);
    }
    *out = n / (double)u->mult;
    return UNITS_OK;
}

/* Rounds to the nearest unit shown; a value that rounds up to the next unit's
 * size is shown in that unit ("999.96ms" is "1.00s"). */
void units_format_us(uint64_t us, char *buf, size_t cap)
{
    const uint64_t S = 1000000ULL, MIN = 60 * S;
    uint64_t tenths_ms, hundredths_s, secs, mins;
    if (buf == NULL || cap == 0)
        return;
    if (us < 1000) {
        snprintf(buf, cap, "%lluus", (unsigned long long)us);
        return;
    }
    tenths_ms = us / 100 + (us % 100 >= 50);
    if (tenths_ms < 10000) {
        snprintf(buf, cap, "%llu.%llums", (unsigned long long)(tenths_ms / 10),
                 (unsigned long long)(tenths_ms % 10));
        return;
    }
    hundredths_s = us / 10000 + (us % 10000 >= 5000);
    if (hundredths_s < 6000) {
        snprintf(buf, cap, "%llu.%02llus", (unsigned long long)(hundredths_s / 100),
                 (unsigned long long)(hundredths_s % 100));
        return;
    }
    secs = us / S + (us % S >= S / 2);
    if (secs < 3600) {
        snprintf(buf, cap, "%llum%02llus", (unsigned long long)(secs / 60),
                 (unsigned long long)(secs % 60));
        return;
    }
    mins = us / MIN + (us % MIN >= MIN / 2);
    snprintf(buf, cap, "%lluh%02llum", (unsigned long long)(mins / 60),
             (unsigned long long)(mins % 60));
}

void units_format_exact_us(uint64_t us, char *buf, size_t cap)
{
    const struct units_scale *u = &duration_units[0];
    if (buf == NULL || cap == 0)
        return;
    for (size_t i = sizeof duration_units / sizeof duration_units[0]; us != 0 && i-- > 0;) {
        if (us % duration_units[i].mult == 0) {
            u = &duration_units[i];
            break;
        }
    }
    snprintf(buf, cap, "%llu%s", (unsigned long long)(us / u->mult), us ? u->name : "s");
}
