/* The per-message arena of struct jt808_msg: a list of chunks, the newest first.
 * A reset frees all but the newest chunk, which is the largest, so a decoder that
 * handles one message after another settles on one chunk and allocates nothing. */
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "sim/proto/jt808.h"

#define CHUNK_MIN 4096

struct jt808_chunk {
    struct jt808_chunk *next;
    size_t cap, used;
    alignas(max_align_t) unsigned char data[];
};

void *jt808_arena_alloc(struct jt808_arena *a, size_t n)
{
    const size_t al = alignof(max_align_t);
    n = (n + al - 1) / al * al;
    if (n == 0)
        n = al;
    struct jt808_chunk *c = a->head;
    if (!c || c->cap - c->used < n) {
        size_t cap = CHUNK_MIN;
        if (c && c->cap * 2 > cap)
            cap = c->cap * 2;
        while (cap < n)
            cap *= 2;
        struct jt808_chunk *nc = malloc(sizeof *nc + cap);
        if (!nc)
            return NULL;
        nc->next = c;
        nc->cap = cap;
        nc->used = 0;
        a->head = c = nc;
    }
    void *p = c->data + c->used;
    c->used += n;
    a->bytes += n;
    memset(p, 0, n);
    return p;
}

void jt808_arena_reset(struct jt808_arena *a)
{
    struct jt808_chunk *c = a->head;
    if (!c)
        return;
    struct jt808_chunk *old = c->next;
    while (old) {
        struct jt808_chunk *next = old->next;
        free(old);
        old = next;
    }
    c->next = NULL;
    c->used = 0;
    a->bytes = 0;
}

void jt808_arena_free(struct jt808_arena *a)
{
    struct jt808_chunk *c = a->head;
    while (c) {
        struct jt808_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
    a->bytes = 0;
}

void jt808_msg_free(struct jt808_msg *msg)
{
    jt808_arena_free(&msg->arena);
}
