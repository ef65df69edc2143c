#include "harness/live_doc.h"

#include <stdlib.h>
#include <string.h>

#include "harness/run_summary.h"
#include "harness/expect.h"
#include "harness/scenario_dialect.h"
#include "sim/proto/hex.h"

struct sourced {
    struct live_event e;
    int proc;                   /* worker index, or n_workers + gateway index */
};

static int by_time(const void *a, const void *b)
{
    const struct sourced *x = a, *y = b;
    if (x->e.at_us != y->e.at_us)
        return x->e.at_us < y->e.at_us ? -1 : 1;
    if (x->proc != y->proc)
        return x->proc < y->proc ? -1 : 1;
    return x->e.seq < y->e.seq ? -1 : x->e.seq > y->e.seq;
}

/* The dialect that reads the event's frame: its fleet's, or, for a platform
 * process's, the one the front-end serves. */
static const struct dialect *dialect_of(const struct live_doc_src *s, const struct sourced *x)
{
    if (x->e.fleet >= 0 && s->sc && x->e.fleet < s->sc->n_fleets) {
        const struct sc_dialect *d = sc_dialect_of(&s->sc->fleets[x->e.fleet]);
        return d ? d->dev : NULL;
    }
    if (!s->fe)
        return NULL;
    for (int i = 0; sc_dialects[i]; i++)
        if (sc_dialects[i]->frontend == s->fe)
            return sc_dialects[i]->dev;
    return NULL;
}

static void add_event(cJSON *arr, const struct live_doc_src *s, const struct sourced *x)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return;
    const struct live_event *e = &x->e;
    double t = e->at_us > s->start_us ? (double)(e->at_us - s->start_us) / 1e6 : 0;
    cJSON_AddNumberToObject(o, "t", (double)(int64_t)(t * 1000) / 1000);
    cJSON_AddStringToObject(o, "fleet", e->fleet >= 0 && s->sc && e->fleet < s->sc->n_fleets
                                            ? s->sc->fleets[e->fleet].id : "");
    cJSON_AddStringToObject(o, "terminal", e->terminal);
    cJSON_AddStringToObject(o, "kind", live_ev_kind_name((enum live_ev_kind)e->kind));
    cJSON_AddStringToObject(o, "text", e->text);
    if (x->proc < s->n_workers)
        cJSON_AddNumberToObject(o, "worker", x->proc);
    else
        cJSON_AddNumberToObject(o, "gateway", x->proc - s->n_workers);
    char hex[2 * LIVE_EV_FRAME + 1];
    hex_encode_lower(e->frame, e->len, hex, sizeof hex);
    cJSON_AddStringToObject(o, "hex", hex);
    if (e->frame_len > e->len)
        cJSON_AddNumberToObject(o, "bytes", e->frame_len); /* the frame was longer: cut */
    const struct dialect *d = e->len && e->frame_len == e->len ? dialect_of(s, x) : NULL;
    static char text[4096];
    text[0] = 0;
    if (d && d->describe)
        d->describe(e->frame, e->len, text, sizeof text);
    cJSON_AddStringToObject(o, "decoded", text);
    cJSON_AddItemToArray(arr, o);
}

cJSON *live_doc_events(const struct live_doc_src *s)
{
    cJSON *arr = cJSON_CreateArray();
    int procs = s->n_workers + s->n_gw;
    struct sourced *all = procs > 0 ? malloc((size_t)procs * LIVE_EV_RING * sizeof *all) : NULL;
    if (!arr || !all) {
        free(all);
        return arr;
    }
    int n = 0;
    static struct live_event buf[LIVE_EV_RING];
    for (int p = 0; p < procs; p++) {
        const struct live_ring *r = p < s->n_workers ? &s->shm->workers[p].events
                                                     : &s->shm->gateways[p - s->n_workers].events;
        int k = live_ev_read(r, buf, LIVE_EV_RING);
        for (int i = 0; i < k; i++) {
            all[n].e = buf[i];
            all[n].proc = p;
            n++;
        }
    }
    qsort(all, (size_t)n, sizeof *all, by_time);
    for (int i = n > LIVE_DOC_EVENTS ? n - LIVE_DOC_EVENTS : 0; i < n; i++)
        add_event(arr, s, &all[i]);
    free(all);
    return arr;
}

cJSON *live_doc_verdicts(const struct scenario *sc, const struct run_snapshot *s)
{
    cJSON *arr = cJSON_CreateArray();
    if (!arr || !sc)
        return arr;
    struct run_report rep;
    report_init(&rep, "", "");
    struct expect_ctx ec = {.sc = sc, .snap = s, .fe = run_frontend_of(sc, s), .live = true};
    expect_evaluate(&ec, &rep);
    for (int i = 0; i < rep.n_cases; i++) {
        const struct case_result *c = &rep.cases[i];
        cJSON *o = cJSON_CreateObject();
        if (!o)
            break;
        cJSON_AddStringToObject(o, "id", c->id);
        cJSON_AddStringToObject(o, "verdict", verdict_name(c->verdict));
        cJSON_AddStringToObject(o, "expected", c->expected);
        cJSON_AddStringToObject(o, "observed", c->observed);
        cJSON_AddItemToArray(arr, o);
    }
    report_free(&rep);
    return arr;
}
