/* Internals shared by the gateway's files: jt808_gw.c (connections, terminal
 * messages, the process) and jt808_gw_cmd.c (platform requests). */
#ifndef FLEETSIM_JT808_GW_INTERNAL_H
#define FLEETSIM_JT808_GW_INTERNAL_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#include "sim/core/ctl.h"
#include "sim/core/wheel.h"
#include "sim/net/conn.h"
#include "sim/platform/jt808_gw.h"
#include "sim/proto/jt808.h"
#include "sim/proto/jt808_kinds.h"

#define GW_MAX_PEND 4
#define GW_MAX_RBUF (64 * 1024)
#define GW_MAX_WBUF (256 * 1024)
#define GW_TICK_S 0.01

struct gw_pend {
    uint64_t sent_us;
    uint64_t due_us;          /* unanswered by then: timed out */
    uint16_t serial, msg_id;
    uint8_t fleet, cmd;
};

struct gw;

struct gw_conn {
    struct wheel_node timer;  /* idle and command timeouts; first member */
    ev_io io;
    struct conn conn;         /* the socket, partial input, queued output */
    struct gw *gw;
    struct gw_conn *prev, *next;
    uint8_t authed;
    uint8_t closing;
    enum jt808_version version;
    char phone[21];
    uint64_t phone_num;
    uint16_t serial;
    uint8_t npend;
    struct gw_pend pend[GW_MAX_PEND];
    uint64_t last_rx_us;
    struct jt808_reasm *reasm;
};

struct gw {
    const struct gw_config *cfg;
    int id;
    struct ev_loop *loop;
    struct tp_conn listener;      /* the listening socket, shared with the other processes */
    ev_io accept_io;
    ev_io ctl_io;
    ev_timer tick, flush;
    ev_signal sigint, sigterm;
    int ctl_fd;
    struct gw_slot *st;
    struct registry *reg;
    struct wheel wheel;
    struct gw_conn *conns;
    uint64_t inflight;
    int draining;
    int accept_paused;            /* out of descriptors: not accepting until one frees */
    struct gw_cmd_job *jobs;      /* commands still being fanned out, oldest first */
    ev_timer cmd_timer;           /* a batch of them per tick */
    uint64_t drain_deadline_us;
    uint8_t rscratch[65536];
};

/* Queue bytes for a terminal (sent now when the socket takes them). */
void gw_conn_send(struct gw_conn *c, const uint8_t *buf, size_t n);
/* Re-arm the connection's timer: idle timeout or the earliest command deadline. */
void gw_conn_reschedule(struct gw_conn *c);
struct gw_cmd_job;
/* CTL_COMMAND: send a platform request to the addressed terminals of a fleet,
 * a batch now and the rest a batch per tick (gw_cmd_pump). */
void gw_cmd_send(struct gw *g, const struct ctl_msg *cm, const char *body);
void gw_cmd_pump(struct gw *g);
/* c is closing: a command on its way must not look at it. */
void gw_cmd_forget_conn(struct gw *g, struct gw_conn *c);
void gw_cmd_free_all(struct gw *g);

#endif
