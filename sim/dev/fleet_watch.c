/* Inspecting one terminal of a worker (CTL_INSPECT from the parent, for the
 * live statistics socket): its state, its times, and the last frames both ways
 * once it is watched.  Nothing here runs for a terminal nobody inspected but
 * the test of its watched bit. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/core/ctl.h"
#include "sim/dev/fleet.h"
#include "sim/proto/hex.h"

static struct watch *watch_of(struct worker *w, const struct term *t)
{
    for (int i = 0; i < WATCH_MAX; i++)
        if (w->watch[i] && w->watch[i]->t == t)
            return w->watch[i];
    return NULL;
}

void watch_record(struct term *t, bool out, const uint8_t *buf, size_t n)
{
    struct watch *x = watch_of(t->fleet->w, t);
    if (!x)
        return;
    struct watch_frame *f = &x->f[(x->head + x->n) % WATCH_FRAMES];
    if (x->n == WATCH_FRAMES)
        x->head = (x->head + 1) % WATCH_FRAMES; /* the oldest makes room */
    else
        x->n++;
    f->at_us = term_now();
    f->out = out;
    f->len = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
    memcpy(f->b, buf, n < WATCH_BYTES ? n : WATCH_BYTES);
}

/* Watch t from now on (the one watched longest makes room); NULL when out of memory. */
static struct watch *watch_start(struct worker *w, struct term *t)
{
    struct watch *x = watch_of(w, t);
    if (x)
        return x;
    int slot = -1;
    for (int i = 0; i < WATCH_MAX && slot < 0; i++)
        if (!w->watch[i] || !w->watch[i]->t)
            slot = i;
    if (slot < 0) {
        slot = 0;
        for (int i = 1; i < WATCH_MAX; i++)
            if (w->watch[i]->since_us < w->watch[slot]->since_us)
                slot = i;
        w->watch[slot]->t->watched = 0;
    }
    if (!w->watch[slot] && !(w->watch[slot] = malloc(sizeof *w->watch[slot])))
        return NULL;
    x = w->watch[slot];
    memset(x, 0, offsetof(struct watch, f));
    x->t = t;
    x->since_us = term_now();
    t->watched = 1;
    return x;
}

void watch_forget(struct worker *w)
{
    for (int i = 0; i < WATCH_MAX; i++) {
        free(w->watch[i]);
        w->watch[i] = NULL;
    }
}

static double secs(const struct worker *w, uint64_t at_us)
{
    return at_us > w->start_us ? (double)(at_us - w->start_us) / 1e6 : 0;
}

/* The dialect's reading of the bytes: an object for one frame, an array for
 * several, NULL when it has none. */
static cJSON *decoded(const struct dialect *d, const uint8_t *b, size_t n)
{
    if (!d->describe)
        return NULL;
    static char text[16384];
    d->describe(b, n, text, sizeof text);
    cJSON *all = cJSON_CreateArray();
    const char *p = text;
    for (int i = 0; all && i < WATCH_FRAMES && *p; i++) {
        const char *end = NULL;
        cJSON *j = cJSON_ParseWithOpts(p, &end, 0);
        if (!j)
            break;
        cJSON_AddItemToArray(all, j);
        p = end;
        while (*p == ' ')
            p++;
    }
    int k = cJSON_GetArraySize(all);
    if (k == 1) {
        cJSON *one = cJSON_DetachItemFromArray(all, 0);
        cJSON_Delete(all);
        return one;
    }
    if (k == 0) {
        cJSON_Delete(all);
        return NULL;
    }
    return all;
}

static cJSON *inspect_json(struct worker *w, struct term *t, const struct watch *x, bool fresh)
{
    const struct fleet_rt *fr = t->fleet;
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    char id[80];
    term_ident(t, id, sizeof id);
    cJSON_AddStringToObject(o, "fleet", fr->spec->id);
    cJSON_AddNumberToObject(o, "index", t->index);
    cJSON_AddStringToObject(o, "terminal", id);
    cJSON_AddStringToObject(o, "state", term_state_name((enum term_state)t->state));
    cJSON_AddNumberToObject(o, "worker", w->id);
    cJSON *c = cJSON_AddObjectToObject(o, "counters");
    cJSON_AddNumberToObject(c, "pending", t->npend);
    cJSON_AddNumberToObject(c, "reconnect_attempts", t->attempt);
    cJSON_AddNumberToObject(c, "next_serial", t->serial);
    cJSON_AddBoolToObject(c, "connected", conn_open(&t->conn));
    cJSON_AddBoolToObject(c, "stays_away", t->stay_away);
    cJSON *since = cJSON_AddObjectToObject(o, "since");
    if (t->started) {
        cJSON_AddNumberToObject(since, "started", secs(w, t->start_us));
        if (t->conn_start_us)
            cJSON_AddNumberToObject(since, "connect", secs(w, t->conn_start_us));
        if (t->state == TS_DISCONNECTED && t->reconnect_at_us)
            cJSON_AddNumberToObject(since, "reconnect_at", secs(w, t->reconnect_at_us));
        cJSON *first = cJSON_AddObjectToObject(since, "first_reached");
        for (int s = 1; s < TS__COUNT; s++)
            if (t->first_reach_ms[s])
                cJSON_AddNumberToObject(first, term_state_name((enum term_state)s),
                                        secs(w, t->start_us) + (double)(t->first_reach_ms[s] - 1) / 1e3);
    }
    cJSON_AddNumberToObject(o, "watching_since", secs(w, x ? x->since_us : term_now()));
    cJSON_AddBoolToObject(o, "watch_started", fresh);
    cJSON *frames = cJSON_AddArrayToObject(o, "frames");
    for (uint32_t i = 0; x && i < x->n; i++) {
        const struct watch_frame *f = &x->f[(x->head + i) % WATCH_FRAMES];
        size_t n = f->len < WATCH_BYTES ? f->len : WATCH_BYTES;
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "dir", f->out ? ">" : "<");
        cJSON_AddNumberToObject(j, "t", secs(w, f->at_us));
        char hex[2 * WATCH_BYTES + 1];
        hex_encode_lower(f->b, n, hex, sizeof hex);
        cJSON_AddStringToObject(j, "hex", hex);
        if (f->len > WATCH_BYTES) {
            cJSON_AddBoolToObject(j, "truncated", true);
            cJSON_AddNumberToObject(j, "bytes", f->len);
        }
        cJSON *d = f->len <= WATCH_BYTES ? decoded(fr->d, f->b, n) : NULL;
        if (d)
            cJSON_AddItemToObject(j, "decoded", d);
        cJSON_AddItemToArray(frames, j);
    }
    return o;
}

void worker_inspect(struct worker *w, const struct ctl_msg *m)
{
    struct ctl_msg r = {.type = CTL_INSPECTED, .step = m->step, .fleet = m->fleet, .kind = m->kind};
    struct term *t = NULL;
    if (m->fleet < (uint32_t)w->n_fleets) {
        struct fleet_rt *fr = &w->fleets[m->fleet];
        for (uint32_t k = 0; k < fr->n && !t; k++)
            if (fr->terms[k].index == m->kind)
                t = &fr->terms[k];
    }
    cJSON *o = NULL;
    if (t) {
        bool fresh = !t->watched;
        /* what was seen before the watch began is not there: the ring starts now */
        struct watch *x = watch_start(w, t);
        o = inspect_json(w, t, x, fresh);
    }
    char *text = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (text && strlen(text) >= CTL_MAX_PAYLOAD) {
        cJSON_free(text);
        text = NULL;
    }
    r.payload_len = text ? (uint32_t)strlen(text) : 0;
    ctl_send(w->ctl_fd, &r, text);
    cJSON_free(text);
}
