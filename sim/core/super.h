/* The supervisor: one table of the processes of a run or of `fleetsim serve`
 * (workers, gateways, external programs such as mosquitto) and one lifecycle
 * for all of them: spawn, ready, drain, stop, reap.
 *
 * A component is either a C function run in a forked child, which talks to the
 * parent over a SOCK_SEQPACKET control pair (ctl.h: it sends CTL_READY,
 * CTL_DRAINED, CTL_FAILED; it obeys CTL_DRAIN and CTL_STOP), or a program the
 * child execs, ready when a TCP port on 127.0.0.1 accepts or when a line of its
 * stdout says so.
 *
 * Deaths are noticed without SIGCHLD: each child has a pidfd (Linux >= 5.3), or
 * is polled with waitpid(pid, WNOHANG) where there is none.  The supervisor only
 * ever signals and reaps the pids it forked, and never one <= 0.  A process that
 * uses a supervisor must not use libev's default loop or ev_child: libev reaps
 * every child there with waitpid(-1).
 *
 * One rule for a component that fails -- it dies while nobody stopped it, says
 * CTL_FAILED, or misses its ready or drain deadline: the supervisor records why
 * (name, pid, exit status or signal, the component's own error text), tells the
 * caller once through the callback (SUPER_EV_FAILED) and stops what is left of
 * it.  The caller decides what the failure means for the rest.
 *
 * Nothing here blocks except super_wait (and super_poll up to its timeout).  From
 * a libev loop: watch super_fd() for EV_READ and call super_poll(s, 0) then, and
 * again after the number of ms it returns (a timer).  super_fd also turns readable
 * when super_spawn, super_drain or super_stop set a deadline or owe an event, so
 * those two watchers are all a loop needs.  Callbacks run only inside
 * super_poll and super_wait; they may call anything here except super_poll,
 * super_wait and super_free. */
#ifndef FLEETSIM_SUPER_H
#define FLEETSIM_SUPER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sim/core/ctl.h"

#define SUPER_MAX 96                 /* components per supervisor */
#define SUPER_READY_TIMEOUT_MS 20000 /* default ready deadline */
#define SUPER_STOP_GRACE_MS 1000     /* default pause between CTL_STOP, SIGTERM and SIGKILL */

enum super_state {
    SUPER_NEW = 0,   /* added, not spawned yet */
    SUPER_SPAWNED,   /* running, not ready yet */
    SUPER_READY,
    SUPER_DRAINING,  /* told to drain, CTL_DRAINED not there yet */
    SUPER_DRAINED,
    SUPER_STOPPING,  /* told to stop (CTL_STOP, then SIGTERM, then SIGKILL), not reaped yet */
    SUPER_STOPPED,   /* gone after it was told to stop or after it drained (or never started) */
    SUPER_DEAD,      /* gone after it failed, or could not be started */
};

/* What a component is; masks of these choose several at once. */
enum super_kind {
    SUPER_WORKER = 1u << 0,
    SUPER_GATEWAY = 1u << 1,
    SUPER_EXTERNAL = 1u << 2,
    SUPER_CORE = 1u << 3,       /* the platform core */
};
#define SUPER_ALL 0xFFFFFFFFu

enum super_ready_rule {
    SUPER_READY_CTL = 0, /* function components: it sends CTL_READY */
    SUPER_READY_NOW,     /* as soon as it runs (exec'd: once the exec succeeded) */
    SUPER_READY_PORT,    /* 127.0.0.1:ready_port accepts a TCP connection */
    SUPER_READY_LINE,    /* exec'd: a line of its stdout contains ready_line */
};

struct super_spec {
    const char *name;                   /* "worker 3", "gateway 0", "mosquitto" */
    const char *comm;                   /* a function component's process name after "fs-" (at
                                           most 12 chars shown); NULL: name, spaces as '-' */
    unsigned kind;                      /* one enum super_kind */
    /* a function run in a forked child; its return value is the exit status ... */
    int (*main)(void *arg, int ctl_fd);
    void *arg;
    /* ... or, when main is NULL, a program (argv[0] looked up in PATH) */
    char *const *argv;                  /* NULL-terminated; copied */
    enum super_ready_rule ready;
    uint16_t ready_port;                /* SUPER_READY_PORT */
    const char *ready_line;             /* SUPER_READY_LINE; copied */
    int ready_timeout_ms;               /* 0: SUPER_READY_TIMEOUT_MS; < 0: none */
    const char *error;                  /* text the component writes when it fails (a stats
                                           slot in shared memory), or NULL */
    size_t error_cap;                   /* bytes of it to read */
};

/* What the supervisor knows of one component; read-only for the caller. */
struct super_comp {
    char name[64];
    unsigned kind;
    enum super_state state;
    pid_t pid;            /* > 0 once forked; 0 before, and when the fork failed */
    int reaped;           /* status is valid */
    int status;           /* waitpid() status (-1 when another reaper took it) */
    int failed;           /* the failure rule fired for it */
    char reason[400];     /* why it failed: "worker 0 (pid 812) died of signal 9" */
};

enum super_event {
    SUPER_EV_READY,       /* it became ready */
    SUPER_EV_DRAINED,     /* it sent CTL_DRAINED */
    SUPER_EV_MESSAGE,     /* any other control message: m and payload */
    SUPER_EV_FAILED,      /* the failure rule, once per component; reason says why */
    SUPER_EV_EXITED,      /* reaped (or given up on): state is STOPPED or DEAD now */
};

struct super;
typedef void (*super_event_fn)(void *ctx, struct super *s, int id, enum super_event ev,
                               const struct ctl_msg *m, const char *payload);

struct super_opts {
    super_event_fn on_event;  /* NULL: none */
    void *ctx;
    int stop_grace_ms;        /* 0: SUPER_STOP_GRACE_MS */
    pid_t (*fork_fn)(void);   /* NULL: fork(); tests inject failures here */
};

/* NULL when out of memory or out of descriptors (errno says which). */
struct super *super_new(const struct super_opts *o);
/* Stop and reap whatever still runs (blocking, bounded by the stop escalation, no
 * callbacks), close every descriptor, free. */
void super_free(struct super *s);

/* Add a component (state NEW); its id >= 0, or -1 with err. */
int super_add(struct super *s, const struct super_spec *spec, char *err, size_t errcap);
/* Fork every NEW component, in the order added.  0, or -1 with err naming the one
 * that could not start ("cannot start worker 3: fork: ..."): that one is DEAD with
 * pid 0, those before it run, those after it stay NEW (super_stop makes them
 * STOPPED).  This failure is not also reported through the callback. */
int super_spawn(struct super *s, char *err, size_t errcap);
/* Send CTL_DRAIN (with m's other fields, e.g. settle_us; m may be NULL) to every
 * READY or SPAWNED component of mask and expect CTL_DRAINED within timeout_ms
 * (<= 0: no limit).
 * Exec'd components have nothing to drain and are DRAINED at once.  Returns how
 * many were told. */
int super_drain(struct super *s, unsigned mask, const struct ctl_msg *m, int timeout_ms);
/* Begin stopping every live component of mask: CTL_STOP (an exec'd one: SIGTERM),
 * SIGTERM after the grace, SIGKILL after another, given up on after a third (left
 * unreaped, said in its reason).  NEW ones become STOPPED. */
void super_stop(struct super *s, unsigned mask);
/* Send one control message to a running function component: 0 sent, 1 it is not
 * running (or has no control channel), -1 with errno. */
int super_send(struct super *s, int id, const struct ctl_msg *m, const char *payload);

/* One descriptor, readable when super_poll has something to do (an epoll set). */
int super_fd(const struct super *s);
/* Wait up to timeout_ms (0: not at all) for something, handle all that is due
 * (messages, readiness, deaths, deadlines, stop escalation), deliver the events.
 * Returns the ms after which it wants to be called again even if super_fd stays
 * quiet, or -1 when no deadline is pending. */
int super_poll(struct super *s, int timeout_ms);
/* Components of mask still waiting on a step: SPAWNED, DRAINING, STOPPING. */
int super_pending(const struct super *s, unsigned mask);
/* super_poll until super_pending(mask) is 0: 0, or -1 when timeout_ms (< 0: no
 * limit of the caller's own) passed first. */
int super_wait(struct super *s, unsigned mask, int timeout_ms);

int super_count(const struct super *s);
const struct super_comp *super_comp(const struct super *s, int id);
/* The first component of mask that failed, or NULL. */
const struct super_comp *super_failed(const struct super *s, unsigned mask);
/* Components of mask in state st. */
int super_in_state(const struct super *s, unsigned mask, enum super_state st);
const char *super_state_name(enum super_state st);

#endif
