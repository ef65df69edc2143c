#include "sim/core/wheel.h"

#include <string.h>

static void list_init(struct wheel_node *h) { h->next = h->prev = h; }

void wheel_init(struct wheel *w, uint64_t width_us, uint64_t now_us, wheel_fn fire, void *arg)
{
    memset(w, 0, sizeof *w);
    w->width_us = width_us ? width_us : 1000;
    w->cursor = now_us / w->width_us;
    w->fire = fire;
    w->arg = arg;
    for (size_t i = 0; i < WHEEL_SLOTS; i++)
        list_init(&w->slots[i]);
}

void wheel_cancel(struct wheel *w, struct wheel_node *n)
{
    if (!n->prev)
        return;
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->next = n->prev = NULL;
    w->scheduled--;
}

void wheel_schedule(struct wheel *w, struct wheel_node *n, uint64_t at_us)
{
    wheel_cancel(w, n);
    n->at_us = at_us;
    uint64_t slot = at_us / w->width_us;
    if (slot < w->cursor)
        slot = w->cursor; /* overdue: next advance */
    /* inside an advance, the slot being processed has had its due nodes taken out
     * already: a node put back there would wait a whole turn of the ring */
    if (w->advancing && slot == w->cursor && w->cursor < w->adv_end)
        slot = w->cursor + 1;
    struct wheel_node *h = &w->slots[slot % WHEEL_SLOTS];
    n->prev = h->prev;
    n->next = h;
    h->prev->next = n;
    h->prev = n;
    w->scheduled++;
}

size_t wheel_advance(struct wheel *w, uint64_t now_us)
{
    uint64_t end = now_us / w->width_us; /* process slots cursor..end inclusive */
    size_t fired = 0;
    w->advancing = 1;
    w->adv_end = end;
    /* After a long stall, one pass over the ring is enough. */
    if (end >= w->cursor + WHEEL_SLOTS)
        w->cursor = end - WHEEL_SLOTS + 1;
    while (w->cursor <= end) {
        struct wheel_node *h = &w->slots[w->cursor % WHEEL_SLOTS];
        /* Detach the due nodes first so callbacks may reschedule into this slot. */
        struct wheel_node due;
        list_init(&due);
        struct wheel_node *n = h->next;
        while (n != h) {
            struct wheel_node *next = n->next;
            if (n->at_us <= now_us) {
                n->prev->next = n->next;
                n->next->prev = n->prev;
                n->prev = due.prev;
                n->next = &due;
                due.prev->next = n;
                due.prev = n;
            }
            n = next;
        }
        while (due.next != &due) {
            n = due.next;
            due.next = n->next;
            n->next->prev = &due;
            n->next = n->prev = NULL;
            w->scheduled--;
            fired++;
            w->fire(n, w->arg);
        }
        if (w->cursor == end)
            break;
        w->cursor++;
    }
    w->advancing = 0;
    return fired;
}
