#include "sim/core/clock.h"

#include <time.h>

static uint64_t epoch_us;
static double scale = 1.0;
static time_t wall_at_epoch;
static int frozen;
static uint64_t frozen_us;

void clock_freeze(uint64_t virtual_us)
{
    frozen = 1;
    frozen_us = virtual_us;
}

void clock_advance(uint64_t virtual_us) { frozen_us += virtual_us; }
void clock_thaw(void) { frozen = 0; }

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
    if (frozen)
        return frozen_us;
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

int64_t clock_unix_at(uint64_t virtual_us)
{
    return (int64_t)wall_at_epoch + (int64_t)(virtual_us / 1000000u);
}

int64_t clock_unix_ms_at(uint64_t virtual_us)
{
    return (int64_t)wall_at_epoch * 1000 + (int64_t)(virtual_us / 1000u);
}

uint64_t clock_wall_since_us(uint64_t then_virtual_us)
{
    uint64_t now = clock_now_us();
    if (now <= then_virtual_us)
        return 0;
    return scale == 1.0 ? now - then_virtual_us : (uint64_t)((double)(now - then_virtual_us) / scale + 0.5);
}
