/* The platform core's commands: a scenario step's command (CTL_COMMAND) becomes a
 * task in the store and a job, the devices of the step's fleet online now, listed
 * per front-end; each tick sends every front-end a batch of the oldest job's
 * devices (CORE_BATCH, core_config.cmd_batch), so a request to 10,000 terminals
 * never holds the core's loop.  The rest of the core is core.c. */
#include "sim/platform/core/core_internal.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/core/ctl.h"
#include "sim/platform/core/bus.h"

/* A fleet's devices are its id pattern: a prefix and a decimal number from ident on,
 * count of them ("13800000000" + 0..count-1; "dev-0001" + ...).  The index of id
 * in the fleet, or -1. */
static int64_t fleet_index(const char *ident, uint32_t count, const char *id)
{
    size_t n = strlen(ident), d = n;
    while (d > 0 && ident[d - 1] >= '0' && ident[d - 1] <= '9')
        d--;
    if (d == n || n - d > 19 || strncmp(id, ident, d) != 0)
        return -1;
    unsigned long long first = 0, v = 0;
    for (size_t i = d; i < n; i++)
        first = first * 10 + (unsigned)(ident[i] - '0');
    const char *s = id + d;
    size_t len = strlen(s);
    if (!len)
        return -1;
    /* leading zeros do not count (a 2019 JT/T 808 phone is 20 BCD digits) */
    while (len > 1 && *s == '0') {
        s++;
        len--;
    }
    if (len > 19)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    if (v < first || v - first >= count)
        return -1;
    return (int64_t)(v - first);
}

static void job_free(struct job *j)
{
    for (int i = 0; i < CORE_MAX_PEERS; i++)
        free(j->p[i].t);
    free(j);
}

static int job_add(struct job_peer *jp, uint32_t handle, const char *id)
{
    if (jp->n == jp->cap) {
        size_t nc = jp->cap ? jp->cap * 2 : 256;
        struct target *nt = realloc(jp->t, nc * sizeof *nt);
        if (!nt)
            return -1;
        jp->t = nt;
        jp->cap = nc;
    }
    jp->t[jp->n].handle = handle;
    snprintf(jp->t[jp->n].id, sizeof jp->t[0].id, "%s", id);
    jp->n++;
    return 0;
}

/* A step's command (CTL_COMMAND): a task in the store and a job of the devices it
 * addresses that are online now, one list per front-end. */
void core_cmd_new(struct core *k, const struct ctl_msg *m, const char *body)
{
    if (k->draining) {
        core_error(k, "step %u: a command while draining", m->step);
        return;
    }
    struct job *j = calloc(1, sizeof *j);
    char err[256];
    if (!j) {
        core_error(k, "step %u: out of memory", m->step);
        return;
    }
    j->m = *m;
    j->proto = -1;
    for (int i = 0; i < k->n_protos; i++)
        if (strcmp(k->protos[i], m->protocol) == 0)
            j->proto = i;
    /* the addressed devices that are online now; the others are not the step's */
    for (size_t i = 0; i < k->on_cap && j->proto >= 0; i++) {
        const struct online *e = &k->on[i];
        if (!e->id[0] || e->proto != j->proto)
            continue;
        int64_t idx = fleet_index(m->ident, m->count, e->id);
        if (idx < 0 || !ctl_picked((uint64_t)idx, m->count, m->fraction))
            continue;
        if (job_add(&j->p[e->peer], e->handle, e->id) < 0) {
            core_error(k, "step %u: out of memory", m->step);
            job_free(j);
            return;
        }
    }
    j->task = store_task_new(k->store, m->what, body, core_wall_ms(), err, sizeof err);
    if (j->task < 0) {
        core_error(k, "step %u: %s", m->step, err);
        job_free(j);
        return;
    }
    k->st->tasks++;
    for (int i = 0; i < CORE_MAX_PEERS; i++) {
        if (!j->p[i].n || k->peers[i].fd < 0)
            continue;
        bus_cmd_begin(&k->peers[i].out, (uint32_t)j->task, m->kind, m->fleet, m->step, m->settle_us, body);
        j->p[i].begun = true;
    }
    struct job **tail = &k->jobs;
    while (*tail)
        tail = &(*tail)->next;
    *tail = j;
    if (!ev_is_active(&k->tick))
        ev_timer_start(k->loop, &k->tick);
}

/* One tick of fan-out: a batch per front-end, the oldest command first. */
void core_cmd_fan_out(struct core *k)
{
    int batch = k->cfg->cmd_batch > 0 ? k->cfg->cmd_batch : CORE_BATCH;
    int64_t now = core_wall_ms();
    int budget[CORE_MAX_PEERS];
    for (int i = 0; i < CORE_MAX_PEERS; i++)
        budget[i] = batch;
    while (k->jobs) {
        struct job *j = k->jobs;
        bool left = false;
        for (int i = 0; i < CORE_MAX_PEERS; i++) {
            struct job_peer *jp = &j->p[i];
            struct peer *p = &k->peers[i];
            while (jp->at < jp->n && budget[i] > 0 && p->fd >= 0) {
                uint32_t h[BUS_MAX_TARGETS];
                const char *ids[BUS_MAX_TARGETS];
                uint32_t n = 0;
                core_batch_begin(k);
                while (jp->at < jp->n && budget[i] > 0 && n < BUS_MAX_TARGETS) {
                    const struct target *t = &jp->t[jp->at++];
                    ids[n] = t->id;
                    h[n++] = t->handle;
                    budget[i]--;
                    store_command_put(k->store, j->task, k->protos[j->proto], t->id, STORE_CMD_SENT, now);
                    k->st->commands++;
                }
                bus_cmd_to(&p->out, (uint32_t)j->task, h, ids, n);
            }
            if (jp->at < jp->n && p->fd >= 0)
                left = true;
        }
        if (left)
            break;
        for (int i = 0; i < CORE_MAX_PEERS; i++)
            if (j->p[i].begun && k->peers[i].fd >= 0)
                bus_cmd_end(&k->peers[i].out, (uint32_t)j->task);
        k->jobs = j->next;
        job_free(j);
    }
    core_batch_end(k);
}

void core_cmd_free_all(struct core *k)
{
    while (k->jobs) {
        struct job *j = k->jobs;
        k->jobs = j->next;
        job_free(j);
    }
}
