/* The platform core's table of the devices online: which front-end connection
 * (and handle on it) each (protocol, device id) is online through.  Open
 * addressing, linear probing, backward-shift deletion; it grows at 3/4 full and
 * keeps core_slot.online current.  The rest of the core is core.c. */
#include "sim/platform/core/core_internal.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t hash_id(int proto, const char *id)
{
    uint32_t h = 2166136261u ^ (uint32_t)proto;
    for (; *id; id++) {
        h ^= (unsigned char)*id;
        h *= 16777619u;
    }
    return h;
}

static struct online *on_find(struct online *t, size_t cap, int proto, const char *id, uint32_t h)
{
    size_t mask = cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        struct online *e = &t[i];
        if (!e->id[0] || (e->hash == h && e->proto == proto && strcmp(e->id, id) == 0))
            return e;
    }
}

static int on_grow(struct core *k)
{
    size_t ncap = k->on_cap ? k->on_cap * 2 : 1024;
    struct online *nt = calloc(ncap, sizeof *nt);
    if (!nt)
        return -1;
    for (size_t i = 0; i < k->on_cap; i++)
        if (k->on[i].id[0])
            *on_find(nt, ncap, k->on[i].proto, k->on[i].id, k->on[i].hash) = k->on[i];
    free(k->on);
    k->on = nt;
    k->on_cap = ncap;
    return 0;
}

void core_online_put(struct core *k, int proto, const char *id, int peer, uint32_t handle)
{
    if ((k->on_used + 1) * 4 > k->on_cap * 3 && on_grow(k) < 0) {
        core_error(k, "out of memory for the devices online");
        return;
    }
    uint32_t h = hash_id(proto, id);
    struct online *e = on_find(k->on, k->on_cap, proto, id, h);
    if (!e->id[0]) {
        snprintf(e->id, sizeof e->id, "%s", id);
        e->hash = h;
        e->proto = (uint8_t)proto;
        k->on_used++;
    }
    e->peer = (uint16_t)peer;
    e->handle = handle;
    k->st->online = k->on_used;
}

void core_online_remove_slot(struct core *k, size_t i)
{
    size_t mask = k->on_cap - 1;
    k->on[i].id[0] = '\0';
    k->on_used--;
    /* move later members of the run back so no probe stops short */
    for (size_t j = (i + 1) & mask; k->on[j].id[0]; j = (j + 1) & mask) {
        size_t home = k->on[j].hash & mask;
        bool between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (between)
            continue;
        k->on[i] = k->on[j];
        k->on[j].id[0] = '\0';
        i = j;
    }
    k->st->online = k->on_used;
}

const struct online *core_online_get(struct core *k, int proto, const char *id)
{
    if (!k->on_cap)
        return NULL;
    const struct online *e = on_find(k->on, k->on_cap, proto, id, hash_id(proto, id));
    return e->id[0] ? e : NULL;
}

/* Offline, if this connection is still the one it is online through. */
bool core_online_remove(struct core *k, int proto, const char *id, int peer, uint32_t handle, bool any_handle)
{
    if (!k->on_cap)
        return false;
    uint32_t h = hash_id(proto, id);
    struct online *e = on_find(k->on, k->on_cap, proto, id, h);
    if (!e->id[0] || (!any_handle && (e->peer != peer || e->handle != handle)))
        return false;
    core_online_remove_slot(k, (size_t)(e - k->on));
    return true;
}

