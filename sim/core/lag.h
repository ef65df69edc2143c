/* Loop-lag probe: how long each iteration of a process's event loop runs between two
 * polls (the time a ready socket waits at worst), and which named section took the
 * longest.  Off unless FLEETSIM_LOOP_LAG names a directory: then each process writes
 * DIR/lag-<who>-<id>-<pid>.txt, one line a second (wall time, iterations, busy share,
 * the loop thread's CPU share and involuntary context switches, the longest iteration,
 * iterations over 1 ms and over 5 ms, the longest section).  The longest iteration and
 * the longest section each carry the CPU the loop's thread spent in them, how many
 * times it was descheduled while runnable (involuntary context switches, "ivcsw") and
 * how many times it blocked in a system call (voluntary ones, "vcsw"): a long one
 * with little CPU and involuntary switches is the machine's other work, with
 * voluntary ones a wait (an fsync, a lock), and with its length in CPU, ours, or
 * the hypervisor's: each line ends with the share of the machine's CPU time stolen
 * by the hypervisor in that second (/proc/stat), which counts as the thread's CPU. */
#ifndef FLEETSIM_LAG_H
#define FLEETSIM_LAG_H

#include <ev.h>

/* A point in time on the loop's thread: monotonic and CPU seconds, involuntary and
 * voluntary context switches so far.  t is 0 when the probe is off. */
struct lag_mark {
    double t, cpu;
    long ivcsw, vcsw;
};

/* Watch loop (one per process); who names the process ("gateway", "core", "worker"). */
void lag_start(struct ev_loop *loop, const char *who, int id);
void lag_stop(void);
/* A section's start and its end. */
struct lag_mark lag_begin(void);
void lag_end(const char *what, struct lag_mark start);

#endif
