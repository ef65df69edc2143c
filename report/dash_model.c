/* The dashboard's model: the sources' latest documents summed (snapshot_merge,
 * the same sum `fleetsim report merge` makes), and what successive sums tell:
 * rates, the last interval's latency, 60 s of history. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "report/dash.h"

int dash_model_init(struct dash_model *m)
{
    memset(m, 0, sizeof *m);
    m->cpu_pct = -1;
    m->cur = snapshot_new();
    m->prev = snapshot_new();
    m->tmp = snapshot_new();
    if (!m->cur || !m->prev || !m->tmp) {
        dash_model_free(m);
        return -1;
    }
    return 0;
}

void dash_model_free(struct dash_model *m)
{
    for (int i = 0; i < m->n_src; i++) {
        cJSON_Delete(m->src[i].doc);
        cJSON_Delete(m->src[i].live);
    }
    snapshot_free(m->cur);
    snapshot_free(m->prev);
    snapshot_free(m->tmp);
    memset(m, 0, sizeof *m);
}

int dash_model_add_source(struct dash_model *m, const char *addr)
{
    if (m->n_src >= DASH_MAX_SOURCES)
        return -1;
    struct dash_source *s = &m->src[m->n_src];
    memset(s, 0, sizeof *s);
    snprintf(s->addr, sizeof s->addr, "%s", addr);
    s->state = DS_CONNECTING;
    return m->n_src++;
}

void dash_model_gone(struct dash_model *m, int i, const char *why)
{
    struct dash_source *s = &m->src[i];
    if (s->state == DS_GONE)
        return;
    s->state = DS_GONE;
    snprintf(s->why, sizeof s->why, "%s", why);
    m->generation++;
}

int dash_model_running(const struct dash_model *m)
{
    for (int i = 0; i < m->n_src; i++)
        if (m->src[i].state != DS_GONE)
            return 1;
    return 0;
}

enum dash_line dash_model_line(struct dash_model *m, int i, const char *line, size_t len, cJSON **reply, char *err,
                               size_t errcap)
{
    struct dash_source *s = &m->src[i];
    *reply = NULL;
    cJSON *j = cJSON_ParseWithLength(line, len);
    if (!j || !cJSON_IsObject(j)) {
        snprintf(err, errcap, "%s: a line that is not a JSON object (%zu bytes)", s->addr, len);
        cJSON_Delete(j);
        return DL_BAD;
    }
    if (cJSON_GetObjectItemCaseSensitive(j, "reply")) {
        *reply = j;
        return DL_REPLY;
    }
    /* "live" is the run's extra beside the snapshot: kept apart, so the snapshot
     * reader sees the document it knows */
    cJSON *live = cJSON_DetachItemFromObjectCaseSensitive(j, "live");
    if (snapshot_from_json(m->tmp, j, s->addr, "", err, errcap) < 0) {
        cJSON_Delete(j);
        cJSON_Delete(live);
        return DL_BAD;
    }
    cJSON_Delete(s->doc);
    cJSON_Delete(s->live);
    s->doc = j;
    s->live = live;
    s->fresh = 1;
    s->docs++;
    if (s->state == DS_CONNECTING)
        s->state = DS_UP;
    if (live)
        m->live_seen = 1;
    return DL_DOC;
}

static int fleet_slot(struct dash_model *m, const char *id)
{
    for (int i = 0; i < m->n_fleets; i++)
        if (strcmp(m->fleets[i].id, id) == 0)
            return i;
    if (m->n_fleets >= STATS_MAX_FLEETS)
        return -1;
    struct dash_fleet *f = &m->fleets[m->n_fleets];
    memset(f, 0, sizeof *f);
    snprintf(f->id, sizeof f->id, "%s", id);
    f->active = f->max = -1; /* unknown until a "live" member says */
    hist_reset(&f->last);
    return m->n_fleets++;
}

static void spark_push(struct dash_fleet *d)
{
    if (d->n_spark < DASH_SPARK) {
        d->spark_in[d->n_spark] = (float)d->in_per_s;
        d->spark_out[d->n_spark++] = (float)d->out_per_s;
        return;
    }
    memmove(d->spark_in, d->spark_in + 1, (DASH_SPARK - 1) * sizeof *d->spark_in);
    memmove(d->spark_out, d->spark_out + 1, (DASH_SPARK - 1) * sizeof *d->spark_out);
    d->spark_in[DASH_SPARK - 1] = (float)d->in_per_s;
    d->spark_out[DASH_SPARK - 1] = (float)d->out_per_s;
}

static void json_text(const cJSON *v, char *buf, size_t cap)
{
    buf[0] = 0;
    if (!v)
        return;
    if (cJSON_IsString(v)) {
        snprintf(buf, cap, "%s", v->valuestring);
        return;
    }
    char *t = cJSON_PrintUnformatted(v);
    if (t) {
        snprintf(buf, cap, "%s", t);
        cJSON_free(t);
    }
}

static void member_text(const cJSON *o, const char *key, char *buf, size_t cap)
{
    json_text(cJSON_GetObjectItemCaseSensitive(o, key), buf, cap);
}

static double member_num(const cJSON *o, const char *key, double dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static int event_cmp(const void *a, const void *b)
{
    double x = ((const struct dash_event *)a)->t, y = ((const struct dash_event *)b)->t;
    return x < y ? -1 : x > y;
}

/* The "live" members of every source: events by time (newest last), verdicts of
 * the first source that has them, paused and active/max per fleet summed. */
static void live_take(struct dash_model *m)
{
    static struct dash_event all[DASH_MAX_EVENTS * DASH_MAX_SOURCES];
    int n = 0, any = 0;
    for (int i = 0; i < m->n_src; i++)
        any |= m->src[i].live != NULL;
    if (!any)
        return; /* what replies said (paused) stays */
    m->n_verdicts = 0;
    for (int f = 0; f < m->n_fleets; f++) {
        m->fleets[f].active = m->fleets[f].max = -1;
        m->fleets[f].paused = 0;
    }
    for (int i = 0; i < m->n_src; i++) {
        const cJSON *live = m->src[i].live;
        if (!live)
            continue;
        const cJSON *e;
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(live, "events"))
        {
            if (n >= (int)(sizeof all / sizeof *all) || !cJSON_IsObject(e))
                break;
            struct dash_event *d = &all[n++];
            memset(d, 0, sizeof *d);
            d->t = member_num(e, "t", 0);
            member_text(e, "fleet", d->fleet, sizeof d->fleet);
            member_text(e, "terminal", d->terminal, sizeof d->terminal);
            member_text(e, "kind", d->kind, sizeof d->kind);
            member_text(e, "text", d->text, sizeof d->text);
            member_text(e, "hex", d->hex, sizeof d->hex);
            member_text(e, "decoded", d->decoded, sizeof d->decoded);
        }
        if (!m->n_verdicts) {
            cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(live, "verdicts"))
            {
                if (m->n_verdicts >= DASH_MAX_VERDICTS || !cJSON_IsObject(e))
                    break;
                struct dash_verdict *v = &m->verdicts[m->n_verdicts++];
                member_text(e, "id", v->id, sizeof v->id);
                member_text(e, "verdict", v->verdict, sizeof v->verdict);
                member_text(e, "expected", v->expected, sizeof v->expected);
                member_text(e, "observed", v->observed, sizeof v->observed);
            }
        }
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(live, "paused"))
        {
            if (!cJSON_IsString(e))
                continue;
            int k = fleet_slot(m, e->valuestring);
            if (k >= 0)
                m->fleets[k].paused = 1;
        }
        const char *keys[2] = {"active", "max"};
        for (int w = 0; w < 2; w++) {
            cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(live, keys[w]))
            {
                /* a fleet's terminals are counted in 32 bits: anything else is not a count
                 * (and would not convert to an integer: undefined) */
                if (!cJSON_IsNumber(e) || !e->string || !(e->valuedouble >= 0 && e->valuedouble <= UINT32_MAX))
                    continue;
                int k = fleet_slot(m, e->string);
                if (k < 0)
                    continue;
                int64_t *p = w ? &m->fleets[k].max : &m->fleets[k].active;
                *p = (*p < 0 ? 0 : *p) + (int64_t)e->valuedouble;
            }
        }
    }
    qsort(all, (size_t)n, sizeof *all, event_cmp);
    int from = n > DASH_MAX_EVENTS ? n - DASH_MAX_EVENTS : 0;
    m->n_events = n - from;
    memcpy(m->events, all + from, (size_t)m->n_events * sizeof *all);
}

/* utime + stime of the run's processes, from /proc (a stats socket is a unix
 * socket: the run is on this machine); 0 when none could be read. */
static uint64_t cpu_ticks(const struct run_snapshot *s)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < s->n_components; i++) {
        char path[64], buf[1024];
        snprintf(path, sizeof path, "/proc/%d/stat", (int)s->components[i].pid);
        FILE *f = s->components[i].pid > 0 ? fopen(path, "r") : NULL;
        if (!f)
            continue;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = 0;
        /* after the command's closing parenthesis: state, then fields 4..; utime and
         * stime are fields 14 and 15 */
        const char *p = strrchr(buf, ')');
        unsigned long long ut = 0, st = 0;
        if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) == 2)
            sum += ut + st;
    }
    return sum;
}

/* A counter's increase per second; 0 when it went back (a process counting from
 * 0 again), which the unsigned difference would make about 2^64. */
static double rate(uint64_t cur, uint64_t prev, double dt)
{
    return cur >= prev ? (double)(cur - prev) / dt : 0;
}

int dash_model_merge(struct dash_model *m, double now, int force)
{
    int any = 0, all = 1;
    for (int i = 0; i < m->n_src; i++) {
        any |= m->src[i].fresh;
        if (m->src[i].state == DS_UP && !m->src[i].fresh)
            all = 0;
    }
    if (!any || (!all && !force))
        return 0;
    struct run_snapshot *t = m->prev;
    m->prev = m->cur;
    m->cur = t;
    m->have_prev = m->have_cur;
    m->have_cur = 0;
    m->merge_err[0] = 0;
    char err[512];
    for (int i = 0; i < m->n_src; i++) {
        struct dash_source *s = &m->src[i];
        s->fresh = 0;
        if (!s->doc)
            continue;
        struct run_snapshot *into = m->have_cur ? m->tmp : m->cur;
        if (snapshot_from_json(into, s->doc, s->addr, "", err, sizeof err) < 0) {
            snprintf(m->merge_err, sizeof m->merge_err, "%s", err);
            continue;
        }
        if (!m->have_cur) {
            m->have_cur = 1;
            continue;
        }
        if (snapshot_merge(m->cur, m->tmp, err, sizeof err) < 0)
            snprintf(m->merge_err, sizeof m->merge_err, "%s not summed: %s", s->addr, err);
    }
    if (!m->have_cur) {
        m->have_cur = m->have_prev;
        struct run_snapshot *u = m->prev;
        m->prev = m->cur;
        m->cur = u;
        return 0;
    }
    /* an interval of at least 1 ms to divide by: documents closer than that in the
     * run's time (or not moving, or NaN) give rates over the local interval, or none */
    double dt = m->have_prev ? m->cur->wall_s - m->prev->wall_s : 0;
    if (m->have_prev && !(dt >= 1e-3))
        dt = now - m->merged_at;
    if (!(dt >= 1e-3))
        dt = 0;
    uint64_t ticks = cpu_ticks(m->cur);
    long hz = sysconf(_SC_CLK_TCK);
    double wall = now - m->merged_at;
    m->cpu_pct = m->have_prev && m->cpu_ticks && ticks >= m->cpu_ticks && wall > 0.05 && hz > 0
                     ? (double)(ticks - m->cpu_ticks) / (double)hz / wall * 100
                     : -1;
    m->cpu_ticks = ticks;
    m->merged_at = now;
    for (int f = 0; f < m->cur->n_fleets; f++) {
        const struct snapshot_fleet *c = &m->cur->fleets[f];
        int k = fleet_slot(m, c->id);
        if (k < 0)
            continue;
        struct dash_fleet *d = &m->fleets[k];
        const struct snapshot_fleet *p = m->have_prev ? snapshot_fleet(m->prev, c->id) : NULL;
        if (p && dt > 0) {
            d->in_per_s = rate(c->st.frames_in, p->st.frames_in, dt);
            d->out_per_s = rate(c->st.frames_out, p->st.frames_out, dt);
            d->reports_per_s = rate(c->st.reports_acked, p->st.reports_acked, dt);
            if (c->st.report_latency.n >= p->st.report_latency.n)
                hist_window(&d->last, &c->st.report_latency, &p->st.report_latency);
            else
                hist_reset(&d->last); /* a source went away: no difference to take */
            spark_push(d);
        } else {
            d->in_per_s = d->out_per_s = d->reports_per_s = -1; /* one document: no rate yet */
            d->last = c->st.report_latency;
        }
    }
    live_take(m);
    m->generation++;
    return 1;
}

static void frame_take(struct dash_frame *fr, const cJSON *e)
{
    memset(fr, 0, sizeof *fr);
    char dir[4];
    member_text(e, "dir", dir, sizeof dir);
    fr->dir = dir[0] == '<' ? '<' : '>';
    fr->t = member_num(e, "t", 0);
    member_text(e, "hex", fr->hex, sizeof fr->hex);
    member_text(e, "decoded", fr->decoded, sizeof fr->decoded);
}

int dash_model_inspect(struct dash_model *m, const cJSON *reply, char *err, size_t errcap)
{
    struct dash_inspect *in = &m->inspect;
    const cJSON *ok = cJSON_GetObjectItemCaseSensitive(reply, "ok");
    if (!cJSON_IsTrue(ok)) {
        char e[200];
        member_text(reply, "error", e, sizeof e);
        snprintf(err, errcap, "inspect: %s", e[0] ? e : "refused");
        return -1;
    }
    char term[32];
    member_text(reply, "terminal", term, sizeof term);
    if (term[0])
        snprintf(in->terminal, sizeof in->terminal, "%s", term);
    member_text(reply, "fleet", in->fleet, sizeof in->fleet);
    double ix = member_num(reply, "index", -1);
    in->index = ix >= 0 && ix <= INT32_MAX ? (int)ix : -1; /* out of range would not convert */
    member_text(reply, "state", in->state, sizeof in->state);
    in->counters[0] = 0;
    const cJSON *c;
    size_t used = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(reply, "counters"))
    {
        char v[40];
        json_text(c, v, sizeof v);
        int n = snprintf(in->counters + used, sizeof in->counters - used, "%s%s %s", used ? ", " : "",
                         c->string ? c->string : "?", v);
        if (n < 0 || (size_t)n >= sizeof in->counters - used)
            break;
        used += (size_t)n;
    }
    /* the terminal's times, run time in seconds: "started 0.30s, connect 0.30s, authenticated 0.35s" */
    char since[200] = "";
    size_t sl = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(reply, "since"))
    {
        const cJSON *e = cJSON_IsObject(t) ? t->child : t; /* first_reached: each state's */
        for (; e; e = cJSON_IsObject(t) ? e->next : NULL) {
            if (!cJSON_IsNumber(e) || !e->string || sl >= sizeof since)
                continue;
            int n = snprintf(since + sl, sizeof since - sl, "%s%s %.2fs", sl ? ", " : "", e->string, e->valuedouble);
            if (n > 0)
                sl += (size_t)n;
        }
    }
    snprintf(in->since, sizeof in->since, "%.2fs (run time)%s%s", member_num(reply, "watching_since", 0),
             since[0] ? "; " : "", since);
    in->n_frames = 0;
    const cJSON *frames = cJSON_GetObjectItemCaseSensitive(reply, "frames");
    int total = cJSON_GetArraySize(frames), k = 0;
    cJSON_ArrayForEach(c, frames)
    {
        /* the newest DASH_MAX_FRAMES */
        if (k++ < total - DASH_MAX_FRAMES || !cJSON_IsObject(c))
            continue;
        frame_take(&in->frames[in->n_frames++], c);
    }
    in->have = 1;
    m->generation++;
    return 0;
}

void dash_model_reply(struct dash_model *m, const cJSON *reply)
{
    /* pause and resume say which fleets are paused now: the next document would
     * too, this is sooner (and the only word from a run without "live") */
    const cJSON *paused = cJSON_GetObjectItemCaseSensitive(reply, "paused");
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(reply, "ok")) || !cJSON_IsArray(paused))
        return;
    for (int f = 0; f < m->n_fleets; f++)
        m->fleets[f].paused = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, paused)
    {
        int k = cJSON_IsString(e) ? fleet_slot(m, e->valuestring) : -1;
        if (k >= 0)
            m->fleets[k].paused = 1;
    }
    m->generation++;
}
