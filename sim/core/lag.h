/* Loop-lag probe: how long each iteration of a process's event loop runs between two
 * polls (the time a ready socket waits at worst), and which named section took the
 * longest.  Off unless FLEETSIM_LOOP_LAG names a directory: then each process writes
 * DIR/lag-<who>-<id>.txt, one line a second (wall time, iterations, busy share, the
 * longest iteration, iterations over 1 ms and over 5 ms, the longest section). */
#ifndef FLEETSIM_LAG_H
#define FLEETSIM_LAG_H

#include <ev.h>

/* Watch loop (one per process); who names the process ("gateway", "core", "worker"). */
void lag_start(struct ev_loop *loop, const char *who, int id);
void lag_stop(void);
/* A section's start (monotonic seconds; 0 when the probe is off) and its end. */
double lag_begin(void);
void lag_end(const char *what, double t0);

#endif
