#include "sim/core/clock.h"

#include <stdio.h>
#include <time.h>

static uint64_t epoch_us;
static double scale = 1.0;
static time_t wall_at_epoch;

uint64_t clock_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void clock_set(uint64_t epoch_mono_us, double s)
{
    epoch_us = epoch_mono_us;
    scale = s > 0 ? s : 1.0;
    wall_at_epoch = time(NULL) - (time_t)((clock_mono_us() - epoch_us) / 1000000u);
}

void clock_init(double s) { clock_set(clock_mono_us(), s); }
double clock_scale(void) { return scale; }
uint64_t clock_epoch_mono_us(void) { return epoch_us; }

uint64_t clock_now_us(void)
{
    uint64_t now = clock_mono_us();
    if (now <= epoch_us)
        return 0;
    return (uint64_t)((double)(now - epoch_us) * scale);
}

double clock_real_seconds(uint64_t virtual_us) { return (double)virtual_us / 1e6 / scale; }

double clock_real_delay(uint64_t at_us)
{
    uint64_t now = clock_now_us();
    return at_us > now ? clock_real_seconds(at_us - now) : 0.0;
}

void clock_bcd_time(char out[13]) { clock_bcd_time_at(clock_now_us(), out); }

void clock_bcd_time_at(uint64_t virtual_us, char out[13])
{
    time_t t = wall_at_epoch + (time_t)(virtual_us / 1000000u) + 8 * 3600;
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, 13, "%02d%02d%02d%02d%02d%02d", tm.tm_year % 100, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec);
}
