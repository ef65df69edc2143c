/* The platform core process: the bus addresses, the connections of the
 * front-ends and the records they send (registrations, authentications, status,
 * reports, command results) in transactions, the store's flush in slices, the
 * control channel and core_main.  The table of the devices online is
 * core_online.c's, the fan-out of commands core_cmd.c's; the state they share is
 * in core_internal.h. */
#include "sim/platform/core/core.h"
#include "sim/platform/core/core_internal.h"

#include <errno.h>
#include <ev.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "sim/core/ctl.h"
#include "sim/core/lag.h"
#include "sim/platform/core/bus.h"
#include "sim/platform/core/svc.h"

#define CORE_TICK_S 0.001
#define CORE_FLUSH_S 0.05            /* 20,000 values/s: 1,000 a transaction; at 0.2 s the 4,000 of
                                       one took the core 22-72 ms of CPU at once */
#define CORE_NICE 5
#define CORE_SLICE_S 0.0006         /* a flush slice's budget for its rows: the loop serves its other
                                       events between slices; with the commit (0.2-0.5 ms at 20,000
                                       values/s, 10,000 devices) about 1 ms of CPU a slice */
#define CORE_CKPT_FRAMES 1000       /* WAL pages that start a checkpoint (SQLite's own default) */
#define CORE_CKPT_NICE 0            /* the checkpointing thread at the core's own nice: lower, it
                                       was starved past STORE_CKPT_WAIT_S on a busy machine and the
                                       WAL grew meanwhile */
#define CORE_READ_BURST 64          /* messages read from one front-end before the others */

/* --- addresses ------------------------------------------------------------------------ */

static socklen_t make_addr(struct sockaddr_un *sa, const char *addr)
{
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    size_t n = strlen(addr);
    if (n == 0 || n >= sizeof sa->sun_path)
        return 0;
    memcpy(sa->sun_path, addr, n);
    if (addr[0] == '@')
        sa->sun_path[0] = '\0'; /* abstract: no file to clean up */
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
}

int core_listen(char *addr, size_t cap, char *err, size_t errcap)
{
    static unsigned seq;
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        snprintf(err, errcap, "platform core: socket: %s", strerror(errno));
        return -1;
    }
    for (int tries = 0; tries < 100; tries++) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        snprintf(addr, cap, "@fleetsim-core-%d-%u-%ld", (int)getpid(), seq++, (long)(ts.tv_nsec & 0xFFFFF));
        struct sockaddr_un sa;
        socklen_t len = make_addr(&sa, addr);
        if (!len) {
            snprintf(err, errcap, "platform core: address %s is too long", addr);
            break;
        }
        if (bind(fd, (struct sockaddr *)&sa, len) == 0) {
            if (listen(fd, CORE_MAX_PEERS * 2) == 0)
                return fd;
            snprintf(err, errcap, "platform core: listen on %s: %s", addr, strerror(errno));
            break;
        }
        if (errno != EADDRINUSE) {
            snprintf(err, errcap, "platform core: bind %s: %s", addr, strerror(errno));
            break;
        }
    }
    if (!err[0])
        snprintf(err, errcap, "platform core: no free address");
    close(fd);
    return -1;
}

int core_connect(const char *addr, char *err, size_t errcap)
{
    struct sockaddr_un sa;
    socklen_t len = make_addr(&sa, addr);
    if (!len) {
        snprintf(err, errcap, "platform core: bad bus address '%s'", addr);
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errcap, "platform core: socket: %s", strerror(errno));
        return -1;
    }
    int rc;
    do
        rc = connect(fd, (struct sockaddr *)&sa, len);
    while (rc < 0 && errno == EINTR);
    if (rc < 0) {
        snprintf(err, errcap, "platform core: cannot connect to %s: %s", addr, strerror(errno));
        close(fd);
        return -1;
    }
    /* room for a few bursts of reports either way */
    int sz = 1 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
    return fd;
}

void core_error(struct core *k, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (!k->st->error[0])
        snprintf(k->st->error, sizeof k->st->error, "platform core: %s", buf);
    if (k->cfg->verbose)
        fprintf(stderr, "platform core: %s\n", buf);
}

int64_t core_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int proto_index(struct core *k, const char *name)
{
    for (int i = 0; i < k->n_protos; i++)
        if (strcmp(k->protos[i], name) == 0)
            return i;
    if (k->n_protos >= CORE_MAX_PROTOS)
        return -1;
    snprintf(k->protos[k->n_protos], sizeof k->protos[0], "%s", name);
    return k->n_protos++;
}

/* --- transactions ------------------------------------------------------------------------ */

/* Replies wait until what they answer is committed. */
void core_batch_begin(struct core *k)
{
    if (k->in_batch)
        return;
    char err[256];
    if (store_begin(k->store, err, sizeof err) < 0) {
        core_error(k, "%s", err);
        return;
    }
    k->in_batch = true;
    for (int i = 0; i < CORE_MAX_PEERS; i++)
        k->peers[i].out.hold = true;
}

static void peer_close(struct core *k, struct peer *p);

static void flush_peers(struct core *k)
{
    for (int i = 0; i < CORE_MAX_PEERS; i++) {
        struct peer *p = &k->peers[i];
        if (p->fd < 0)
            continue;
        p->out.hold = false;
        if (!bus_out_dirty(&p->out))
            continue;
        uint64_t before = p->out.records;
        if (bus_out_flush(&p->out) < 0) {
            core_error(k, "front-end %u: %s", p->index, p->out.err);
            peer_close(k, p);
            continue;
        }
        (void)before;
        int ev = EV_READ | (bus_out_pending(&p->out) ? EV_WRITE : 0);
        if (p->io.events != ev) {
            ev_io_stop(k->loop, &p->io);
            ev_io_set(&p->io, p->fd, ev);
            ev_io_start(k->loop, &p->io);
        }
    }
}

void core_batch_end(struct core *k)
{
    if (k->in_batch) {
        char err[256];
        if (store_commit(k->store, err, sizeof err) < 0)
            core_error(k, "%s", err);
        k->in_batch = false;
        k->st->transactions++;
    }
    flush_peers(k);
}

/* --- records from the front-ends ----------------------------------------------------- */

static void on_register(struct core *k, struct peer *p, const struct bus_rec *r)
{
    char id[STORE_ID_MAX + 2], name[STORE_NAME_MAX + 2], binding[STORE_BINDING_MAX + 2], product[130];
    static char attrs[4096];
    char secret[STORE_SECRET_MAX + 1] = "", why[200] = "";
    enum store_reg_result res = STORE_REG_ERROR;
    if (!bus_str_copy(r->s[0], id, sizeof id) || !bus_str_copy(r->s[1], name, sizeof name) ||
        !bus_str_copy(r->s[2], binding, sizeof binding) || !bus_str_copy(r->s[3], product, sizeof product) ||
        !bus_str_copy(r->s[4], attrs, sizeof attrs)) {
        snprintf(why, sizeof why, "registration: a field is too long or holds a NUL byte");
    } else {
        core_batch_begin(k);
        struct store_device d = {.protocol = k->protos[p->proto], .device_id = id, .name = name,
                                 .binding = binding, .product = product, .attrs = attrs[0] ? attrs : NULL};
        res = store_register(k->store, &d, (r->u8 & BUS_REG_PROVISIONED) != 0, secret, sizeof secret, why,
                             sizeof why);
    }
    if (res == STORE_REG_OK) {
        k->st->registrations++;
        svc_on_registered(k, p->proto, id);
    } else
        k->st->reg_refused++;
    bus_reg_reply(&p->out, r->token, (uint8_t)res, secret, why);
}

static void on_auth(struct core *k, struct peer *p, const struct bus_rec *r)
{
    char id[STORE_ID_MAX + 2], secret[STORE_SECRET_MAX + 2];
    bool ok = bus_str_copy(r->s[0], id, sizeof id) && bus_str_copy(r->s[1], secret, sizeof secret) &&
              store_auth(k->store, k->protos[p->proto], id, secret);
    if (ok) {
        k->st->auths++;
        core_online_put(k, p->proto, id, (int)(p - k->peers), r->handle);
        store_status(k->store, k->protos[p->proto], id, true, core_wall_ms());
    } else {
        k->st->auth_refused++;
    }
    bus_auth_reply(&p->out, r->token, ok);
    /* after the reply: what the services send the device now (a cached command, a
     * shadow's sync) must reach the front-end after it knows the device is in */
    if (ok)
        svc_on_online(k, p->proto, id);
}

static void on_record(struct core *k, struct peer *p, const struct bus_rec *r)
{
    char id[STORE_ID_MAX + 2];
    if (p->proto < 0 && r->type != BUS_HELLO) {
        core_error(k, "front-end sent %s before hello", bus_type_name(r->type));
        k->st->bus_errors++;
        return;
    }
    switch (r->type) {
    case BUS_HELLO: {
        char proto[STORE_PROTOCOL_MAX + 1];
        if (!bus_str_copy(r->s[0], proto, sizeof proto) || !proto[0] || (p->proto = proto_index(k, proto)) < 0) {
            core_error(k, "front-end hello: protocol '%.*s' refused", (int)r->s[0].n, r->s[0].p);
            k->st->bus_errors++;
            return;
        }
        p->index = r->token;
        return;
    }
    case BUS_REGISTER:
        on_register(k, p, r);
        return;
    case BUS_AUTH:
        on_auth(k, p, r);
        return;
    case BUS_OFFLINE:
        if (bus_str_copy(r->s[0], id, sizeof id) &&
            core_online_remove(k, p->proto, id, (int)(p - k->peers), r->handle, false)) {
            store_status(k->store, k->protos[p->proto], id, false, core_wall_ms());
            svc_on_offline(k, p->proto, id);
        }
        return;
    case BUS_UNREGISTER:
        if (!bus_str_copy(r->s[0], id, sizeof id))
            break;
        core_batch_begin(k);
        store_unregister(k->store, k->protos[p->proto], id);
        if (core_online_remove(k, p->proto, id, 0, 0, true))
            svc_on_offline(k, p->proto, id);
        svc_on_deleted(k, p->proto, id);
        return;
    case BUS_REPORT: {
        char service[STORE_SERVICE_MAX + 2];
        static char data[STORE_DATA_MAX + 2];
        if (!bus_str_copy(r->s[0], id, sizeof id) || !bus_str_copy(r->s[1], service, sizeof service) ||
            !bus_str_copy(r->s[2], data, sizeof data))
            break;
        if (store_report(k->store, k->protos[p->proto], id, service, data, (int64_t)r->u64) == 0)
            k->st->reports++;
        else
            break;
        svc_on_report(k, p->proto, id, service, data, (int64_t)r->u64);
        return;
    }
    case BUS_CMD_RESULT:
        if (!bus_str_copy(r->s[0], id, sizeof id) || r->u8 >= STORE_CMD__COUNT)
            break;
        core_batch_begin(k);
        k->st->results++;
        if (!svc_cmd_result(k, r->token, p->proto, id, r->u8))
            store_command_state(k->store, r->token, k->protos[p->proto], id, (enum store_cmd_state)r->u8, core_wall_ms());
        return;
    case BUS_SYNC:
        bus_sync_reply(&p->out, r->token);
        return;
    default:
        core_error(k, "front-end %u sent %s, which only the core sends", p->index, bus_type_name(r->type));
        k->st->bus_errors++;
        return;
    }
    core_error(k, "front-end %u: %s record with a field too long or holding a NUL byte", p->index,
               bus_type_name(r->type));
    k->st->bus_errors++;
}

static void on_message(struct core *k, struct peer *p, const uint8_t *msg, size_t len)
{
    struct bus_reader rd;
    struct bus_rec r;
    char err[256];
    int rc;
    bus_reader_init(&rd, msg, len);
    k->st->msgs_in++;
    while ((rc = bus_next(&rd, &r, err, sizeof err)) > 0) {
        k->st->records_in++;
        on_record(k, p, &r);
    }
    if (rc < 0) {
        core_error(k, "front-end %u: %s", p->index, err);
        k->st->bus_errors++;
    }
}

static void peer_close(struct core *k, struct peer *p)
{
    if (p->fd < 0)
        return;
    ev_io_stop(k->loop, &p->io);
    close(p->fd);
    p->fd = -1;
    bus_out_free(&p->out);
    int pi = (int)(p - k->peers);
    /* its devices are offline: their connections went with it */
    for (size_t i = 0; i < k->on_cap;) {
        struct online *e = &k->on[i];
        if (e->id[0] && e->peer == pi) {
            store_status(k->store, k->protos[e->proto], e->id, false, core_wall_ms());
            core_online_remove_slot(k, i); /* a later entry may have moved here: look again */
            continue;
        }
        i++;
    }
    /* and commands on their way to it go nowhere */
    for (struct job *j = k->jobs; j; j = j->next) {
        j->p[pi].at = j->p[pi].n;
        j->p[pi].begun = false;
    }
    k->st->peers--;
}

/* A front-end gone while the core runs (it hung up, or cannot be written to): its
 * devices' connections went with it, and the services hear of each as offline, as
 * from the front-end itself (at the end of the process the services are stopped
 * first, and peer_close alone runs). */
static void peer_lost(struct core *k, struct peer *p)
{
    struct gone {
        int proto;
        char id[STORE_ID_MAX + 1];
    } *gone = NULL;
    size_t n = 0, cap = 0;
    int pi = (int)(p - k->peers);
    for (size_t i = 0; i < k->on_cap; i++) {
        const struct online *e = &k->on[i];
        if (!e->id[0] || e->peer != pi)
            continue;
        if (n == cap) {
            struct gone *g = realloc(gone, (cap = cap ? cap * 2 : 64) * sizeof *gone);
            if (!g)
                break;
            gone = g;
        }
        gone[n].proto = e->proto;
        memcpy(gone[n++].id, e->id, sizeof e->id);
    }
    peer_close(k, p);
    for (size_t i = 0; i < n; i++)
        svc_on_offline(k, gone[i].proto, gone[i].id);
    free(gone);
}

/* Read what a front-end sent; false when it hung up. */
static bool peer_read(struct core *k, struct peer *p, int burst)
{
    for (int i = 0; i < burst; i++) {
        long n = bus_recv(p->fd, k->rbuf, sizeof k->rbuf);
        if (n == 0) {
            peer_lost(k, p);
            return false;
        }
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return true;
            if (errno == EMSGSIZE) {
                core_error(k, "front-end %u: a bus message over %d bytes", p->index, BUS_MAX_MSG);
                k->st->bus_errors++;
                continue;
            }
            core_error(k, "front-end %u: recv: %s", p->index, strerror(errno));
            peer_lost(k, p);
            return false;
        }
        on_message(k, p, k->rbuf, (size_t)n);
    }
    return true;
}

static void peer_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct peer *p = io->data;
    struct core *k = p->core;
    if (revents & EV_READ)
        peer_read(k, p, CORE_READ_BURST);
    core_batch_end(k);
    (void)loop;
}

static void accept_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct core *k = io->data;
    for (;;) {
        int fd = accept4(k->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                core_error(k, "accept: %s", strerror(errno));
            return;
        }
        struct peer *p = NULL;
        for (int i = 0; i < CORE_MAX_PEERS && !p; i++)
            if (k->peers[i].fd < 0)
                p = &k->peers[i];
        if (!p) {
            core_error(k, "more than %d front-ends", CORE_MAX_PEERS);
            close(fd);
            continue;
        }
        int sz = 1 << 20;
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
        p->fd = fd;
        p->core = k;
        p->proto = -1;
        bus_out_init(&p->out, fd);
        ev_io_init(&p->io, peer_cb, fd, EV_READ);
        p->io.data = p;
        ev_io_start(loop, &p->io);
        k->st->peers++;
    }
    (void)revents;
}

/* --- the process ---------------------------------------------------------------------- */

static void read_all(struct core *k)
{
    for (int i = 0; i < CORE_MAX_PEERS; i++)
        if (k->peers[i].fd >= 0)
            while (k->peers[i].fd >= 0) {
                uint64_t before = k->st->msgs_in;
                if (!peer_read(k, &k->peers[i], CORE_READ_BURST) || k->st->msgs_in == before)
                    break;
            }
    core_batch_end(k);
}

static void store_flush_now(struct core *k)
{
    char err[256];
    if (store_flush(k->store, err, sizeof err) < 0)
        core_error(k, "%s", err);
    k->st->flushes++;
}

static void maybe_drained(struct core *k)
{
    if (k->draining != 1 || k->jobs)
        return;
    read_all(k);
    store_flush_now(k);
    k->draining = 2;
    k->st->phase = WP_DONE;
    struct ctl_msg m = {.type = CTL_DRAINED};
    ctl_send(k->ctl_fd, &m, NULL);
}

static void tick_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct core *k = t->data;
    core_cmd_fan_out(k);
    if (!k->jobs)
        ev_timer_stop(loop, t);
    maybe_drained(k);
    (void)revents;
}

/* One slice of the flush; the next on the loop's next pass while some are left
 * (not while a checkpoint catches up with the WAL, or after an error: the next
 * flush tick tries again). */
static void flush_slice(struct core *k)
{
    char err[256];
    struct lag_mark t0 = lag_begin();
    int rc = store_flush_slice(k->store, CORE_SLICE_S, err, sizeof err);
    lag_end("store-flush", t0);
    if (rc < 0)
        core_error(k, "%s", err);
    if (rc != STORE_FLUSH_WAIT)
        k->st->flushes++;
    if (rc == STORE_FLUSH_MORE) {
        if (!ev_is_active(&k->flush_more)) {
            ev_check_start(k->loop, &k->flush_more);
            ev_idle_start(k->loop, &k->flush_idle);
        }
    } else if (ev_is_active(&k->flush_more)) {
        ev_check_stop(k->loop, &k->flush_more);
        ev_idle_stop(k->loop, &k->flush_idle);
    }
}

static void flush_more_cb(struct ev_loop *loop, ev_check *w, int revents)
{
    flush_slice(w->data);
    (void)loop;
    (void)revents;
}

static void flush_idle_cb(struct ev_loop *loop, ev_idle *w, int revents)
{
    (void)loop, (void)w, (void)revents;
}

static void wal_figures(struct core *k)
{
    struct store_wal_stats w;
    store_wal_stats(k->store, &w);
    k->st->wal_max_kb = w.frames_max * w.page_size / 1024;
    k->st->wal_restarts = w.restarts;
    k->st->checkpoints = w.checkpoints;
    k->st->checkpoints_incomplete = w.incomplete;
    k->st->checkpoint_max_us = (uint64_t)(w.ckpt_longest_s * 1e6);
}

static void flush_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct core *k = t->data;
    if (!ev_is_active(&k->flush_more))
        flush_slice(k);
    wal_figures(k);
    k->st->rss_kb = stats_rss_kb();
    (void)loop;
    (void)revents;
}

static void ctl_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct core *k = io->data;
    static char payload[CTL_MAX_PAYLOAD + 1];
    struct ctl_msg m;
    int r = ctl_recv(k->ctl_fd, &m, payload, sizeof payload);
    if (r <= 0) {
        ev_break(loop, EVBREAK_ALL);
        return;
    }
    switch (m.type) {
    case CTL_COMMAND:
        core_cmd_new(k, &m, m.payload_len ? payload : NULL);
        core_cmd_fan_out(k); /* the first batch now */
        break;
    case CTL_DRAIN:
        if (!k->draining) {
            k->draining = 1;
            k->st->phase = WP_DRAINING;
        }
        maybe_drained(k);
        break;
    case CTL_STOP:
        ev_break(loop, EVBREAK_ALL);
        break;
    default:
        break;
    }
    (void)revents;
}

static void sig_cb(struct ev_loop *loop, ev_signal *s, int revents)
{
    ev_break(loop, EVBREAK_ALL);
    (void)s;
    (void)revents;
}

static int provision_one(void *ctx, const struct store_provision *p)
{
    struct core *k = ctx;
    char err[256];
    if (store_provision(k->store, p, err, sizeof err) < 0) {
        core_error(k, "%s", err);
        return -1;
    }
    return 0;
}

int core_main(const struct core_config *cfg, int lfd, int ctl_fd, struct core_slot *slot)
{
    static struct core core;
    struct core *k = &core;
    char err[256];
    memset(k, 0, sizeof *k);
    k->cfg = cfg;
    k->st = slot;
    k->lfd = lfd;
    k->ctl_fd = ctl_fd;
    slot->pid = (int32_t)getpid();
    for (int i = 0; i < CORE_MAX_PEERS; i++)
        k->peers[i].fd = -1;
    /* storage is throughput work: on a busy machine the front-ends answering their
     * devices and the workers timing them come first (measured: the report latency
     * of the second after a 0x8104 to 10,000 terminals, max 16.7 ms at nice 0 and
     * 13.7 ms at 5); the core still has the CPU whenever they leave it idle */
    if (setpriority(PRIO_PROCESS, 0, CORE_NICE) < 0 && cfg->verbose)
        fprintf(stderr, "platform core: setpriority: %s\n", strerror(errno));
    if (store_open(&k->store, cfg->db, err, sizeof err) < 0) {
        snprintf(slot->error, sizeof slot->error, "platform core: %s", err);
        slot->phase = WP_FAILED;
        return 1;
    }
    /* checkpoints off the loop: without, the commit crossing 1,000 WAL pages copies
     * them into the file and syncs it on the loop (measured: 30-140 ms) */
    if (store_checkpointer_start(k->store, CORE_CKPT_FRAMES, CORE_CKPT_NICE, err, sizeof err) < 0)
        core_error(k, "%s (checkpoints stay on the loop)", err);
    if (cfg->provision) {
        err[0] = '\0';
        int rc = store_begin(k->store, err, sizeof err);
        if (rc == 0)
            rc = cfg->provision(cfg->provision_arg, provision_one, k, err, sizeof err);
        if (rc >= 0)
            rc = store_commit(k->store, err, sizeof err);
        if (rc < 0) {
            if (!slot->error[0])
                snprintf(slot->error, sizeof slot->error, "platform core: %s", err);
            slot->phase = WP_FAILED;
            store_close(k->store);
            return 1;
        }
    }
    k->loop = ev_loop_new(EVFLAG_AUTO);
    if (!k->loop) {
        snprintf(slot->error, sizeof slot->error, "platform core: cannot create an event loop");
        slot->phase = WP_FAILED;
        store_close(k->store);
        return 1;
    }
    ev_io_init(&k->accept_io, accept_cb, lfd, EV_READ);
    k->accept_io.data = k;
    ev_io_start(k->loop, &k->accept_io);
    ev_timer_init(&k->tick, tick_cb, CORE_TICK_S, CORE_TICK_S);
    k->tick.data = k;
    ev_timer_init(&k->flush, flush_cb, CORE_FLUSH_S, CORE_FLUSH_S);
    k->flush.data = k;
    ev_timer_start(k->loop, &k->flush);
    ev_check_init(&k->flush_more, flush_more_cb);
    ev_set_priority(&k->flush_more, EV_MINPRI); /* after what this pass brought in */
    k->flush_more.data = k;
    ev_idle_init(&k->flush_idle, flush_idle_cb);
    k->flush_idle.data = k;
    lag_start(k->loop, "core", 0);
    if (svc_start_all(k, err, sizeof err) < 0) {
        snprintf(slot->error, sizeof slot->error, "platform core: %s", err);
        slot->phase = WP_FAILED;
        store_close(k->store);
        ev_loop_destroy(k->loop);
        return 1;
    }
    if (core_api_start(k, err, sizeof err) < 0) {
        svc_stop_all(k);
        snprintf(slot->error, sizeof slot->error, "platform core: the northbound API: %s", err);
        slot->phase = WP_FAILED;
        store_close(k->store);
        ev_loop_destroy(k->loop);
        return 1;
    }
    if (ctl_fd >= 0) {
        ev_io_init(&k->ctl_io, ctl_cb, ctl_fd, EV_READ);
        k->ctl_io.data = k;
        ev_io_start(k->loop, &k->ctl_io);
    } else {
        ev_signal_init(&k->sigint, sig_cb, SIGINT);
        ev_signal_init(&k->sigterm, sig_cb, SIGTERM);
        ev_signal_start(k->loop, &k->sigint);
        ev_signal_start(k->loop, &k->sigterm);
    }
    slot->phase = WP_RUNNING;
    if (ctl_fd >= 0) {
        struct ctl_msg m = {.type = CTL_READY};
        ctl_send(ctl_fd, &m, NULL);
    }
    ev_run(k->loop, 0);
    core_api_stop(k);
    /* what the front-ends sent before they went is still stored */
    read_all(k);
    svc_stop_all(k);
    core_batch_end(k);
    core_cmd_free_all(k);
    for (int i = 0; i < CORE_MAX_PEERS; i++)
        peer_close(k, &k->peers[i]);
    store_flush_now(k);
    wal_figures(k);
    store_close(k->store);
    free(k->on);
    close(lfd);
    ev_loop_destroy(k->loop);
    if (slot->phase != WP_FAILED)
        slot->phase = WP_DONE;
    return 0;
}
