/* The replay dialect's terminal behaviour.
 *
 *   connected --handshake messages--> authenticating --their replies--> authenticated
 *   connected (no handshake) -------------------------------------------> authenticated
 *   authenticated: every periodic message on its schedule (a request when it has a
 *   reply pattern: in the ledger, answered within the ack timeout); frames from the
 *   platform settle the oldest request whose reply they match, or get an answer,
 *   or are counted as unmatched.
 *
 * A periodic message with a reply is the fleet's "report": reports, reports_acked
 * and report latency (from when it was due) are the figures a load run reads. */
#include "sim/dev/replay_term.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/dev/fleet.h"

struct replay_tstate {
    uint64_t next_due_us[REPLAY_MAX_MSGS]; /* 0: not scheduled */
    uint32_t serial;                       /* next {serial} */
    uint32_t counter;                      /* {counter}: frames sent so far */
    uint16_t frame_pos[REPLAY_MAX_MSGS];   /* next frame of a vectors message */
    uint8_t handshakes_open;               /* handshake replies still awaited */
};

static inline struct replay_tstate *rs(const struct term *t) { return term_dstate(t); }
static inline const struct replay_fleet_cfg *rcfg(const struct term *t) { return term_cfg(t); }

static uint8_t out_frame[REPLAY_MAX_FRAME];
static uint8_t wire_frame[2 * REPLAY_MAX_FRAME]; /* out_frame stuffed for the wire */
static uint8_t in_frame[REPLAY_MAX_FRAME * 2];   /* a received frame unstuffed */

/* Put a rendered frame on the wire, stuffed when the framing says so. */
static bool send_frame(struct term *t, size_t len)
{
    const struct replay_framing *f = &rcfg(t)->framing;
    if (!replay_framing_stuffs(f))
        return term_send(t, out_frame, len);
    struct replay_err err;
    size_t n = replay_framing_stuff(f, out_frame, len, wire_frame, sizeof wire_frame, &err);
    if (!n) {
        term_count(t, REPLAY_C_RENDER_ERRORS, 1);
        return false;
    }
    return term_send(t, wire_frame, n);
}

void replay_fleet_cfg_clear(struct replay_fleet_cfg *c)
{
    for (int i = 0; i < c->n_msgs; i++) {
        struct replay_msg_cfg *m = &c->msgs[i];
        for (int k = 0; k < m->n_frames; k++)
            replay_tmpl_free(m->frames[k]);
        free(m->frames);
        replay_pat_free(m->reply);
    }
    for (int i = 0; i < c->n_answers; i++) {
        replay_pat_free(c->answers[i].match);
        replay_tmpl_free(c->answers[i].send);
    }
    memset(c, 0, sizeof *c);
}

/* What templates and patterns know of this terminal; id is the caller's buffer. */
static void vars_of(struct term *t, struct replay_vars *v, char *id, size_t idcap, uint32_t *rng)
{
    term_ident(t, id, idcap);
    memset(v, 0, sizeof *v);
    v->index = t->index;
    v->gindex = term_gindex(t);
    v->id = id;
    v->unix_s = clock_unix_at(term_now());
    v->utc_offset_s = rcfg(t)->utc_offset_s;
    v->rng = rng;
}

/* Render and send message i (a request when it has a reply pattern); due_us is
 * when it was scheduled, for the latency of reports. */
static bool send_msg(struct term *t, int i, uint64_t due_us)
{
    const struct replay_msg_cfg *m = &rcfg(t)->msgs[i];
    struct replay_tstate *s = rs(t);
    char id[FLEET_IDENT_LEN + 24];
    struct replay_vars v;
    uint32_t rng = term_rand(t);
    vars_of(t, &v, id, sizeof id, &rng);
    v.serial = s->serial;
    v.counter = s->counter;
    const struct replay_tmpl *tp = m->frames[s->frame_pos[i] % m->n_frames];
    struct replay_err err;
    size_t len = replay_tmpl_render(tp, &v, out_frame, sizeof out_frame, &err);
    if (!len) {
        term_count(t, REPLAY_C_RENDER_ERRORS, 1);
        return false;
    }
    s->frame_pos[i] = (uint16_t)((s->frame_pos[i] + 1) % m->n_frames);
    uint32_t serial = s->serial++;
    s->counter++;
    if (m->reply)
        term_expect_at(t, serial, (uint16_t)i, due_us);
    return send_frame(t, len);
}

static void schedule(struct term *t)
{
    const struct replay_fleet_cfg *c = rcfg(t);
    struct replay_tstate *s = rs(t);
    uint64_t now = term_now();
    for (int i = 0; i < c->n_msgs; i++) {
        const struct replay_msg_cfg *m = &c->msgs[i];
        if (m->handshake)
            continue;
        if (!m->every_ms) {
            send_msg(t, i, 0); /* once per connection */
            if (!conn_open(&t->conn))
                return;
            continue;
        }
        if (!s->next_due_us[i]) {
            /* spread the first of each over one period, so a fleet does not send in lockstep */
            s->next_due_us[i] = now + (uint64_t)(term_rand(t) % (m->every_ms + 1u)) * 1000u;
        }
        term_wake_at(t, s->next_due_us[i]);
    }
}

static void go_online(struct term *t)
{
    term_set_state(t, TS_AUTHENTICATED);
    schedule(t);
}

static void rp_on_connected(struct term *t)
{
    const struct replay_fleet_cfg *c = rcfg(t);
    struct replay_tstate *s = rs(t);
    if (!c->has_handshake) {
        go_online(t);
        return;
    }
    term_set_state(t, TS_AUTHENTICATING);
    s->handshakes_open = 0;
    for (int i = 0; i < c->n_msgs && conn_open(&t->conn); i++) {
        if (!c->msgs[i].handshake)
            continue;
        if (send_msg(t, i, 0) && c->msgs[i].reply)
            s->handshakes_open++;
    }
    if (conn_open(&t->conn) && !s->handshakes_open)
        go_online(t); /* handshakes that expect nothing back */
}

static uint64_t rp_on_tick(struct term *t, uint64_t now)
{
    const struct replay_fleet_cfg *c = rcfg(t);
    struct replay_tstate *s = rs(t);
    uint64_t next = 0;
    if (term_draining(t))
        return 0;
    uint64_t slack = term_tick_us(t);
    for (int i = 0; i < c->n_msgs; i++) {
        const struct replay_msg_cfg *m = &c->msgs[i];
        if (!m->every_ms || !s->next_due_us[i])
            continue;
        if (now >= s->next_due_us[i]) {
            uint64_t due = s->next_due_us[i];
            if (term_paused(t) && strcmp(m->name, "heartbeat") != 0) {
                /* paused: only a message named "heartbeat" goes on, keeping the
                 * connection up; the others keep their phase */
            } else if (t->state != TS_AUTHENTICATED || !conn_open(&t->conn) || (m->reply && !term_can_request(t))) {
                term_count(t, REPLAY_C_SKIPPED, 1);
            } else {
                bool report = m->reply != NULL;
                /* lateness within one turn of the wheel is its resolution, not a stall */
                if (send_msg(t, i, now - due <= slack ? now : due) && report)
                    t->fleet->st->reports++;
            }
            s->next_due_us[i] = term_next_due(due, m->every_ms * 1000ull, now); /* a long stall: skip, don't burst */
        }
        if (!next || s->next_due_us[i] < next)
            next = s->next_due_us[i];
    }
    return next;
}

/* A frame from the platform: the reply to a request in flight, something to
 * answer, or unmatched. */
static void on_frame(struct term *t, const uint8_t *f, size_t n)
{
    const struct replay_fleet_cfg *c = rcfg(t);
    struct replay_tstate *s = rs(t);
    char id[FLEET_IDENT_LEN + 24];
    struct replay_vars v;
    struct replay_capture cap;
    struct replay_err err;
    vars_of(t, &v, id, sizeof id, NULL);
    t->fleet->st->frames_in++;
    if (replay_framing_stuffs(&c->framing)) {
        /* patterns describe the frame's own bytes, not the escaped wire */
        size_t wire = n;
        n = replay_framing_unstuff(&c->framing, f, n, in_frame, sizeof in_frame, &err);
        if (!n) {
            t->fleet->st->decode_errors++; /* a bad escape: the delimiters resynchronise */
            term_event(t, LEV_DECODE_ERROR, f, wire, "a frame's escaping: %s", err.msg);
            return;
        }
        f = in_frame;
    }
    /* the oldest request whose reply this is */
    for (int k = 0; k < t->npend; k++) {
        const struct replay_msg_cfg *m = &c->msgs[t->pend[k].kind];
        v.serial = t->pend[k].serial;
        if (!m->reply || replay_pat_match(m->reply, f, n, &v, REPLAY_CHECK_SERIAL, &cap, &err) != 1)
            continue;
        uint16_t kind = 0;
        uint64_t sent = 0;
        term_settle(t, t->pend[k].serial, true, LEDGER_REFUSED, &kind, &sent);
        term_count(t, REPLAY_C_MATCHED, 1);
        if (m->handshake) {
            if (s->handshakes_open && --s->handshakes_open == 0)
                go_online(t);
        } else if (m->every_ms) {
            t->fleet->st->reports_acked++;
            hist_record(&t->fleet->st->report_latency, clock_wall_since_us(sent));
        }
        return;
    }
    for (int i = 0; i < c->n_answers; i++) {
        const struct replay_answer_cfg *a = &c->answers[i];
        if (replay_pat_match(a->match, f, n, &v, 0, &cap, &err) != 1)
            continue;
        t->fleet->st->commands++;
        uint32_t rng = term_rand(t);
        v.rng = &rng;
        v.serial = cap.has_serial ? cap.serial : s->serial++;
        v.counter = s->counter++;
        size_t len = replay_tmpl_render(a->send, &v, out_frame, sizeof out_frame, &err);
        if (!len) {
            term_count(t, REPLAY_C_RENDER_ERRORS, 1);
            return;
        }
        if (send_frame(t, len)) {
            t->fleet->st->replies++;
            term_count(t, REPLAY_C_ANSWERS, 1);
        }
        return;
    }
    term_count(t, REPLAY_C_UNMATCHED, 1);
}

static long rp_on_data(struct term *t, const uint8_t *buf, size_t n)
{
    const struct replay_fleet_cfg *c = rcfg(t);
    if (t->conn.tp.tp->datagram || c->framing.kind == REPLAY_FRAME_NONE) {
        on_frame(t, buf, n);
        return (long)n;
    }
    size_t off = 0;
    while (off < n && conn_open(&t->conn)) {
        size_t start = 0, len = 0, skipped = 0;
        struct replay_err err;
        long used = replay_framing_next(&c->framing, buf + off, n - off, &start, &len, &skipped, &err);
        if (used < 0) {
            t->fleet->st->decode_errors++;
            term_event(t, LEV_DECODE_ERROR, buf + off, n - off, "framing: %s; the connection is dropped",
                       err.msg);
            return -1; /* the stream cannot be trusted past a bad length */
        }
        if (used == 0)
            break;
        if (len)
            on_frame(t, buf + off + start, len);
        off += (size_t)used;
    }
    return (long)off;
}

static void rp_on_timeout(struct term *t, uint16_t kind)
{
    /* an unanswered handshake: start over on a new connection */
    if (kind < rcfg(t)->n_msgs && rcfg(t)->msgs[kind].handshake)
        term_drop(t, 0, false);
}

static void rp_on_disconnected(struct term *t)
{
    rs(t)->handshakes_open = 0;
}

static void rp_drain(struct term *t)
{
    memset(rs(t)->next_due_us, 0, sizeof rs(t)->next_due_us);
}

/* The fault "corrupt": invert the byte in the middle of the request, which is
 * payload in any framing (the first and last bytes may be delimiters, lengths or
 * checks that would make the frame unreadable rather than wrong). */
static size_t rp_corrupt(struct term *t, uint8_t *frame, size_t len, size_t cap)
{
    (void)t;
    (void)cap;
    if (len)
        frame[len / 2] ^= 0xFF;
    return len;
}

#define C(id, n, d) {"terminal." n, id, d}
static const struct stats_counter rp_counters[] = {
    C(REPLAY_C_MATCHED, "matched", "replies matched to a request in flight"),
    C(REPLAY_C_ANSWERS, "answers", "answers sent to frames from the platform"),
    C(REPLAY_C_UNMATCHED, "unmatched", "frames from the platform that matched no reply or answer pattern"),
    C(REPLAY_C_SKIPPED, "skipped", "scheduled sends skipped (offline, or too many in flight)"),
    C(REPLAY_C_RENDER_ERRORS, "render_errors", "frames a template could not render"),
};
#undef C

const struct dialect replay_dialect = {
    .name = "replay",
    .io = DIALECT_IO_SOCKET, /* a datagram transport makes every read one frame */
    .state_size = sizeof(struct replay_tstate),
    .on_connected = rp_on_connected,
    .on_data = rp_on_data,
    .on_tick = rp_on_tick,
    .on_timeout = rp_on_timeout,
    .on_disconnected = rp_on_disconnected,
    .drain = rp_drain,
    .corrupt = rp_corrupt,
    .counters = rp_counters,
    .n_counters = (int)(sizeof rp_counters / sizeof rp_counters[0]),
};
