/* Stepping a dialect without a network or a wall clock: terminals of one worker on
 * a memory transport (what they send is kept per terminal; what the test feeds is
 * handed to the dialect as if read), on a frozen virtual clock that the test moves.
 * A state machine is then tested in microseconds and exactly: "the report is due
 * at 5.000 s, the ack timeout fires at 15.000 s".  Header-only, for tests/unit. */
#ifndef FLEETSIM_DIALECT_HARNESS_H
#define FLEETSIM_DIALECT_HARNESS_H

#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "harness/expect.h"
#include "harness/scenario.h"
#include "sim/core/clock.h"
#include "sim/core/ctl.h"
#include "sim/dev/fleet.h"

/* --- the memory transport ---------------------------------------------------- */

struct mem_conn {
    uint8_t *out;          /* every byte the terminal wrote since the last take */
    size_t len, cap;
    int aborted;           /* closed with abort() (the fault "cut") */
};

/* Connections that are gone, so a test can still ask how they ended. */
static int mem_closed, mem_aborted;
static int mem_refuse;     /* > 0: that many connects fail (ECONNREFUSED) */

static enum tp_rc mem_connect(struct tp_conn *c, const struct sockaddr_storage *dst,
                              const struct sockaddr_storage *src)
{
    (void)dst;
    (void)src;
    if (mem_refuse > 0) {
        mem_refuse--;
        c->err = 111; /* ECONNREFUSED */
        return TP_ERR;
    }
    c->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); /* a real descriptor that never gets ready */
    c->state = calloc(1, sizeof(struct mem_conn));
    return c->fd >= 0 && c->state ? TP_OK : TP_ERR;
}

static enum tp_rc mem_finish(struct tp_conn *c)
{
    (void)c;
    return TP_OK;
}

static enum tp_rc mem_read(struct tp_conn *c, uint8_t *buf, size_t n, size_t *got)
{
    (void)c;
    (void)buf;
    (void)n;
    *got = 0;
    return TP_WANT_READ; /* input comes through term_input */
}

static enum tp_rc mem_write(struct tp_conn *c, const uint8_t *buf, size_t n, size_t *put)
{
    struct mem_conn *m = c->state;
    if (m->len + n > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 4096;
        while (cap < m->len + n)
            cap *= 2;
        uint8_t *nb = realloc(m->out, cap);
        if (!nb)
            return TP_ERR;
        m->out = nb;
        m->cap = cap;
    }
    memcpy(m->out + m->len, buf, n);
    m->len += n;
    *put = n;
    return TP_OK;
}

static void mem_close(struct tp_conn *c)
{
    struct mem_conn *m = c->state;
    if (m) {
        mem_aborted += m->aborted;
        free(m->out);
        free(m);
    }
    mem_closed++;
    c->state = NULL;
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

static void mem_abort(struct tp_conn *c)
{
    if (c->state)
        ((struct mem_conn *)c->state)->aborted = 1;
    mem_close(c);
}

static const struct transport transport_mem = {
    .name = "mem", .connect = mem_connect, .finish = mem_finish, .read = mem_read,
    .write = mem_write, .close = mem_close, .abort = mem_abort,
};

/* The same, with datagram semantics: every term_input is one whole datagram. */
static const struct transport transport_mem_dgram = {
    .name = "mem-dgram", .datagram = 1, .connect = mem_connect, .finish = mem_finish, .read = mem_read,
    .write = mem_write, .close = mem_close, .abort = mem_abort,
};

/* --- a worker on it ------------------------------------------------------------ */

struct dh {
    struct scenario sc;
    struct worker *w;
    struct worker_slot *slot;
    struct sockaddr_storage targets[SC_MAX_FLEETS];
    struct term_pred preds[SC_MAX_EXPECT];
    int ctl[2];
};

/* Parse the scenario text, set up one worker for all of it on the memory
 * transport and start the ramp at virtual time 0.  NULL with err on failure. */
static inline struct dh *dh_start_on(const char *json, const struct transport *tp, char *err, size_t cap)
{
    struct dh *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    mem_closed = mem_aborted = mem_refuse = 0;
    clock_init(1.0);
    clock_freeze(0);
    if (scenario_parse(json, "dialect.json", &h->sc, err, cap) != 0) {
        free(h);
        return NULL;
    }
    h->w = calloc(1, sizeof *h->w);
    h->slot = calloc(1, sizeof *h->slot);
    if (!h->w || !h->slot || ctl_pair(h->ctl) != 0)
        return NULL;
    struct worker_plan plan = {
        .fleets = h->sc.fleets, .n_fleets = h->sc.n_fleets, .targets = h->targets,
        .preds = h->preds, .n_preds = expect_compile(&h->sc, h->preds, SC_MAX_EXPECT),
        .seed = h->sc.seed, .transport = tp,
    };
    if (worker_setup(h->w, &plan, 0, 1, h->slot, h->ctl[1], err, cap) != 0)
        return NULL;
    worker_start(h->w);
    return h;
}

static inline struct dh *dh_start(const char *json, char *err, size_t cap)
{
    return dh_start_on(json, &transport_mem, err, cap);
}

static inline void dh_free(struct dh *h)
{
    if (!h)
        return;
    if (h->w) {
        worker_free(h->w);
        free(h->w);
    }
    free(h->slot);
    scenario_free(&h->sc);
    close(h->ctl[0]);
    close(h->ctl[1]);
    clock_thaw();
    free(h);
}

static inline struct term *dh_term(struct dh *h, int fleet, uint32_t k) { return &h->w->fleets[fleet].terms[k]; }
static inline struct fleet_stats *dh_stats(struct dh *h, int fleet) { return &h->slot->fleets[fleet]; }

/* Move virtual time to at_us in steps of at most step_us, firing what comes due. */
static inline void dh_run_to(struct dh *h, uint64_t at_us)
{
    uint64_t step = h->w->wheel.width_us;
    while (clock_now_us() < at_us) {
        uint64_t d = at_us - clock_now_us();
        clock_advance(d < step ? d : step);
        worker_poll(h->w);
    }
    worker_poll(h->w);
}

/* What terminal t sent since the last take (the caller frees it); *n its length. */
static inline uint8_t *dh_take(struct term *t, size_t *n)
{
    struct mem_conn *m = t->conn.tp.state;
    *n = 0;
    if (!m || !m->len)
        return NULL;
    uint8_t *out = m->out;
    *n = m->len;
    m->out = NULL;
    m->len = m->cap = 0;
    return out;
}

#endif
