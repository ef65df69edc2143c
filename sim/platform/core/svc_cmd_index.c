/* The commands service's indexes of its live commands (svc_cmd.h): chained hash
 * tables by device, commandId and task, each device's list in creation order, and
 * a binary heap by the instant cmd_fsm_tick could change a command, with one timer
 * at the heap's first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/platform/core/core_internal.h"
#include "sim/platform/core/svc.h"
#include "sim/platform/core/svc_cmd.h"

/* --- the indexes ------------------------------------------------------------------------ */

static uint32_t hash_str(const char *p)
{
    uint32_t h = 2166136261u;
    for (; *p; p++) {
        h ^= (unsigned char)*p;
        h *= 16777619u;
    }
    return h;
}

static uint32_t hash_u32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    return x;
}

/* Grow a chained table of type's entries, linked by field and hashed by key, to
 * twice its buckets (1024 the first time): 0, or -1 out of memory.  One function
 * per table, so every entry is read through its own type. */
#define REHASH(name, type, field, key)                                                                            \
    static int name(type ***b, size_t *nb)                                                                        \
    {                                                                                                             \
        size_t n2 = *nb ? *nb * 2 : 1024;                                                                         \
        type **nbk = calloc(n2, sizeof *nbk);                                                                     \
        if (!nbk)                                                                                                 \
            return -1;                                                                                            \
        for (size_t i = 0; i < *nb; i++)                                                                          \
            for (type *e = (*b)[i], *nx; e; e = nx) {                                                             \
                nx = e->field;                                                                                    \
                size_t j = key(e) & (n2 - 1);                                                                     \
                e->field = nbk[j];                                                                                \
                nbk[j] = e;                                                                                       \
            }                                                                                                     \
        free(*b);                                                                                                 \
        *b = nbk;                                                                                                 \
        *nb = n2;                                                                                                 \
        return 0;                                                                                                 \
    }
#define DEV_KEY(e) hash_str((e)->id)
#define ID_KEY(e) hash_str((e)->id)
#define TASK_KEY(e) hash_u32((e)->task)
REHASH(rehash_dev, struct sdev, next, DEV_KEY)
REHASH(rehash_id, struct scmd, id_next, ID_KEY)
REHASH(rehash_task, struct scmd, task_next, TASK_KEY)

struct sdev *scmd_dev_get(struct svc_cmd *s, const char *id, bool make)
{
    if (s->dev_nb)
        for (struct sdev *d = s->dev_b[hash_str(id) & (s->dev_nb - 1)]; d; d = d->next)
            if (strcmp(d->id, id) == 0)
                return d;
    if (!make)
        return NULL;
    if ((s->dev_n + 1) * 4 > s->dev_nb * 3 &&
        rehash_dev(&s->dev_b, &s->dev_nb) < 0)
        return NULL;
    struct sdev *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    snprintf(d->id, sizeof d->id, "%s", id);
    size_t j = hash_str(id) & (s->dev_nb - 1);
    d->next = s->dev_b[j];
    s->dev_b[j] = d;
    s->dev_n++;
    return d;
}

struct scmd *scmd_find(struct svc_cmd *s, const char *command_id)
{
    if (!s->id_nb)
        return NULL;
    for (struct scmd *c = s->id_b[hash_str(command_id) & (s->id_nb - 1)]; c; c = c->id_next)
        if (strcmp(c->id, command_id) == 0)
            return c;
    return NULL;
}

struct scmd *scmd_task_find(struct svc_cmd *s, uint32_t task)
{
    if (!s->task_nb || !task)
        return NULL;
    for (struct scmd *c = s->task_b[hash_u32(task) & (s->task_nb - 1)]; c; c = c->task_next)
        if (c->task == task)
            return c;
    return NULL;
}

void scmd_task_unindex(struct svc_cmd *s, struct scmd *c)
{
    if (!c->task || !s->task_nb)
        return;
    for (struct scmd **pp = &s->task_b[hash_u32(c->task) & (s->task_nb - 1)]; *pp; pp = &(*pp)->task_next)
        if (*pp == c) {
            *pp = c->task_next;
            c->task_next = NULL;
            return;
        }
}

int scmd_task_index(struct svc_cmd *s, struct scmd *c)
{
    if (!c->task)
        return 0;
    if ((!s->task_nb || s->n_live * 4 > s->task_nb * 3) &&
        rehash_task(&s->task_b, &s->task_nb) < 0)
        return -1;
    size_t j = hash_u32(c->task) & (s->task_nb - 1);
    c->task_next = s->task_b[j];
    s->task_b[j] = c;
    return 0;
}

/* --- the heap of instants ------------------------------------------------------------------ */

static void heap_swap(struct svc_cmd *s, size_t i, size_t j)
{
    struct scmd *t = s->heap[i];
    s->heap[i] = s->heap[j];
    s->heap[j] = t;
    s->heap[i]->heap_at = i;
    s->heap[j]->heap_at = j;
}

static void heap_fix(struct svc_cmd *s, size_t i)
{
    while (i > 0 && s->heap[(i - 1) / 2]->heap_ms > s->heap[i]->heap_ms) {
        heap_swap(s, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < s->heap_n && s->heap[l]->heap_ms < s->heap[m]->heap_ms)
            m = l;
        if (r < s->heap_n && s->heap[r]->heap_ms < s->heap[m]->heap_ms)
            m = r;
        if (m == i)
            return;
        heap_swap(s, i, m);
        i = m;
    }
}

void scmd_heap_remove(struct svc_cmd *s, struct scmd *c)
{
    size_t i = c->heap_at;
    if (i == SIZE_MAX)
        return;
    c->heap_at = SIZE_MAX;
    if (i != --s->heap_n) {
        s->heap[i] = s->heap[s->heap_n];
        s->heap[i]->heap_at = i;
        heap_fix(s, i);
    }
}

/* Put c in the heap at the instant cmd_fsm_tick could change it (or take it out). */
void scmd_heap_update(struct svc_cmd *s, struct scmd *c)
{
    int64_t at = cmd_fsm_next_ms(&c->f);
    if (at == INT64_MAX) {
        scmd_heap_remove(s, c);
        return;
    }
    if (c->heap_at != SIZE_MAX) {
        if (c->heap_ms != at) {
            c->heap_ms = at;
            heap_fix(s, c->heap_at);
        }
        return;
    }
    if (s->heap_n == s->heap_cap) {
        size_t nc = s->heap_cap ? s->heap_cap * 2 : 1024;
        struct scmd **nh = realloc(s->heap, nc * sizeof *nh);
        if (!nh) {
            core_error(s->k, "commands: out of memory for the timers");
            return;
        }
        s->heap = nh;
        s->heap_cap = nc;
    }
    c->heap_ms = at;
    c->heap_at = s->heap_n;
    s->heap[s->heap_n++] = c;
    heap_fix(s, c->heap_at);
}

void scmd_arm(struct svc_cmd *s)
{
    if (!s->heap_n) {
        ev_timer_stop(s->k->loop, &s->timer);
        return;
    }
    svc_timer_at(s->k, &s->timer, s->heap[0]->heap_ms);
}

/* --- a command's life ------------------------------------------------------------------- */

void scmd_free(struct scmd *c)
{
    free(c->origin);
    free(c->callback_url);
    free(c->body);
    free(c);
}

/* Index a live command (created, or read back at start): its device's list, by id,
 * by task, in the heap. */
int scmd_add_live(struct svc_cmd *s, struct scmd *c)
{
    struct sdev *d = scmd_dev_get(s, c->device, true);
    if (!d)
        return -1;
    if ((s->n_live + 1) * 4 > s->id_nb * 3 &&
        rehash_id(&s->id_b, &s->id_nb) < 0)
        return -1;
    size_t j = hash_str(c->id) & (s->id_nb - 1);
    c->id_next = s->id_b[j];
    s->id_b[j] = c;
    s->n_live++;
    c->dev_next = NULL;
    if (d->tail)
        d->tail->dev_next = c;
    else
        d->head = c;
    d->tail = c;
    c->heap_at = SIZE_MAX;
    scmd_task_index(s, c);
    scmd_heap_update(s, c);
    return 0;
}

void scmd_drop_live(struct svc_cmd *s, struct scmd *c)
{
    struct sdev *d = scmd_dev_get(s, c->device, false);
    if (d) {
        struct scmd *prev = NULL;
        for (struct scmd *e = d->head; e; prev = e, e = e->dev_next)
            if (e == c) {
                if (prev)
                    prev->dev_next = c->dev_next;
                else
                    d->head = c->dev_next;
                if (d->tail == c)
                    d->tail = prev;
                break;
            }
    }
    for (struct scmd **pp = &s->id_b[hash_str(c->id) & (s->id_nb - 1)]; *pp; pp = &(*pp)->id_next)
        if (*pp == c) {
            *pp = c->id_next;
            break;
        }
    scmd_task_unindex(s, c);
    scmd_heap_remove(s, c);
    s->n_live--;
}
