#include "sim/core/stats.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>


struct stats_shm *stats_map(void)
{
    void *p = mmap(NULL, sizeof(struct stats_shm), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void stats_unmap(struct stats_shm *s)
{
    if (s)
        munmap(s, sizeof *s);
}

void stats_fleet_add(struct fleet_stats *d, const struct fleet_stats *s)
{
    /* Every field up to the ledger is a uint64_t counter. */
    const uint64_t *sp = (const uint64_t *)s;
    uint64_t *dp = (uint64_t *)d;
    size_t n = offsetof(struct fleet_stats, ledger) / sizeof(uint64_t);
    for (size_t i = 0; i < n; i++)
        dp[i] += sp[i];
    ledger_add(&d->ledger, &s->ledger);
    hist_merge(&d->report_latency, &s->report_latency);
    hist_merge(&d->ack_latency, &s->ack_latency);
    hist_merge(&d->online_latency, &s->online_latency);
}

void stats_merge_fleets(const struct stats_shm *s, int n_workers, int n_fleets, int f, struct fleet_stats *out)
{
    memset(out, 0, sizeof *out);
    hist_reset(&out->report_latency);
    hist_reset(&out->ack_latency);
    hist_reset(&out->online_latency);
    for (int w = 0; w < n_workers; w++)
        for (int k = 0; k < n_fleets; k++)
            if (f < 0 || f == k)
                stats_fleet_add(out, &s->workers[w].fleets[k]);
}

uint64_t stats_gw_sum(const struct stats_shm *s, int n_gw, size_t offset)
{
    uint64_t v = 0;
    for (int g = 0; g < n_gw; g++)
        v += *(const uint64_t *)((const char *)&s->gateways[g] + offset);
    return v;
}

uint64_t stats_rss_kb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, rss = 0;
    if (!f)
        return 0;
    if (fscanf(f, "%lu %lu", &size, &rss) != 2)
        rss = 0;
    fclose(f);
    return (uint64_t)rss * (uint64_t)sysconf(_SC_PAGESIZE) / 1024u;
}
