/* The virtual clock.  Every timer in fleetsim reads this module, never the wall
 * clock, so a run can go faster than real time (--time-scale): 48 h expiries and
 * 25 h status rules become testable in seconds against the embedded platform.
 * Virtual time is (monotonic now - epoch) * scale, in µs since the epoch.  The
 * epoch is set once in the parent before it forks, so every process of a run
 * agrees on virtual time without talking. */
#ifndef FLEETSIM_CLOCK_H
#define FLEETSIM_CLOCK_H

#include <stdint.h>

void clock_init(double scale);                    /* epoch = now */
void clock_set(uint64_t epoch_mono_us, double scale);
double clock_scale(void);
uint64_t clock_epoch_mono_us(void);
uint64_t clock_mono_us(void);                     /* real CLOCK_MONOTONIC, µs */
uint64_t clock_now_us(void);                      /* virtual µs since epoch */
/* Tests of dialect logic: hold virtual time at virtual_us (clock_now_us returns it
 * until moved on with clock_advance), so a state machine can be stepped without
 * sleeping; clock_thaw lets it run again. */
void clock_freeze(uint64_t virtual_us);
void clock_advance(uint64_t virtual_us);
void clock_thaw(void);
static inline uint64_t clock_now_ms(void) { return clock_now_us() / 1000; }
/* Real seconds until virtual time reaches at_us (0 if past); for libev timers. */
double clock_real_delay(uint64_t at_us);
/* Real seconds a virtual duration takes. */
double clock_real_seconds(uint64_t virtual_us);
/* Wall-clock µs since the virtual instant then (0 if it is ahead): latency is
 * always measured on the wall clock, whatever the time scale. */
uint64_t clock_wall_since_us(uint64_t then_virtual_us);
/* Unix time (seconds) of a virtual instant (µs since the epoch): the wall clock at
 * the epoch plus that much virtual time.  Protocols put it on the wire their way. */
int64_t clock_unix_at(uint64_t virtual_us);
/* The same in unix ms. */
int64_t clock_unix_ms_at(uint64_t virtual_us);

#endif
