/* Control messages between the parent of a run and its worker and gateway
 * processes, over SOCK_SEQPACKET socketpairs (one message per packet, so no
 * framing code).  Statistics do not travel here: they live in the shared region
 * of stats.h.  A message is a fixed header plus an optional text payload (the
 * JSON body of a command). */
#ifndef FLEETSIM_CTL_H
#define FLEETSIM_CTL_H

#include <stddef.h>
#include <stdint.h>

enum ctl_type {
    CTL_START = 1,    /* parent -> worker: begin the ramp */
    CTL_FAULT,        /* parent -> worker: a fault (enum ctl_fault) on a fraction of a fleet */
    CTL_COMMAND,      /* parent -> front-end: send request kind to a fraction of a fleet */
    CTL_UNREGISTER,   /* parent -> worker: a fraction of a fleet says goodbye on purpose */
    CTL_DRAIN,        /* parent -> all: stop new traffic, settle what is in flight */
    CTL_STOP,         /* parent -> all: close everything and exit */
    CTL_DRAINED,      /* child -> parent: in-flight traffic settled, stats final */
    CTL_READY,        /* child -> parent: listening / set up */
    CTL_FAILED,       /* child -> parent: cannot go on; the slot's error says why */
    CTL_PAUSE,        /* parent -> worker: the fleet's new traffic stops (heartbeats and
                         answers to the platform go on) */
    CTL_RESUME,       /* parent -> worker: the fleet's new traffic starts again */
    CTL_INSPECT,      /* parent -> worker: terminal index kind of fleet, asked as step */
    CTL_INSPECTED,    /* worker -> parent: the answer to step (JSON payload) */
};

/* Faults the engine injects into terminals, whatever their protocol. */
enum ctl_fault {
    CTL_FAULT_DISCONNECT = 0, /* close the connection; come back after down_us (or the backoff) */
    CTL_FAULT_CUT,            /* the connection breaks without a goodbye (TCP: reset) */
    CTL_FAULT_CORRUPT,        /* the next request is damaged by the dialect (JT/T 808: bad check) */
};

struct ctl_msg {
    uint32_t type;          /* enum ctl_type */
    uint32_t fleet;         /* fleet index in the scenario */
    uint32_t kind;          /* CTL_COMMAND: index in the dialect's cmds[]; CTL_FAULT: enum ctl_fault */
    uint32_t step;          /* step index, for logs */
    double fraction;        /* share of the fleet, (0,1] */
    uint64_t down_us;       /* CTL_FAULT: stay away this long (virtual) */
    uint64_t settle_us;     /* CTL_DRAIN: give up on answers after this; CTL_COMMAND: the
                               answer's deadline (0: the front-end's default) (virtual) */
    char ident[40];         /* CTL_COMMAND: the fleet's first device id (fleet_spec.ident
                               without its '+') */
    uint32_t count;         /* CTL_COMMAND: fleet size */
    char protocol[16];      /* CTL_COMMAND: the fleet's protocol (the front-ends it goes through) */
    char what[24];          /* CTL_COMMAND: the request's name ("0x8104"), kept with the task */
    uint32_t payload_len;   /* bytes of text after the header */
};

#define CTL_MAX_PAYLOAD (200 * 1024)

/* Which members of a fleet a step with this fraction addresses: exactly
 * ctl_pick_count(n, fraction) of the n, spread evenly over the indices.  The
 * parent, the workers and the gateways all use this, so they agree on who was
 * addressed without telling each other. */
uint64_t ctl_pick_count(uint64_t n, double fraction);
int ctl_picked(uint64_t k, uint64_t n, double fraction);
/* How many of the picked members have an index i with i % shards == shard
 * (0-based): the share of a step that one shard of a run addresses. */
uint64_t ctl_pick_count_shard(uint64_t n, double fraction, uint32_t shard, uint32_t shards);

/* socketpair(AF_UNIX, SOCK_SEQPACKET); 0 or -1 with errno. */
int ctl_pair(int fds[2]);
/* Send header + payload as one packet; 0 or -1. */
int ctl_send(int fd, const struct ctl_msg *m, const char *payload);
/* Receive one packet into m (and payload, NUL-terminated, when cap > 0).
 * 1 got one, 0 peer closed, -1 error (EAGAIN when non-blocking and empty). */
int ctl_recv(int fd, struct ctl_msg *m, char *payload, size_t cap);

#endif
