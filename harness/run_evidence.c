/* What a run writes besides its reports, while it goes: the timeline as CSV
 * (--csv FILE: a row per status interval, flushed at once, so a plot can follow
 * the run), the frames of traced terminals and a pcap (--trace, --pcap), and the
 * live metrics for Prometheus (--prometheus). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <libgen.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness/prom_http.h"
#include "harness/run_internal.h"
#include "sim/core/clock.h"

static const char HEADER[] =
    "time_s,elapsed_s,terminals,online,reports_per_s,latency_p50_us,latency_p99_us,latency_max_us,"
    "pending,disconnects,connect_failures,bad_frames,platform_requests\n";

int run_csv_open(struct run *r, const char *path, char *err, size_t errcap)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, errcap, "--csv: cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    if (fputs(HEADER, f) == EOF || fflush(f) == EOF) {
        snprintf(err, errcap, "--csv: cannot write %s: %s", path, strerror(errno));
        fclose(f);
        return -1;
    }
    r->csv = f;
    return 0;
}

void run_csv_row(struct run *r, const struct snapshot_sample *smp, const struct hist *win,
                 const struct fleet_stats *tot, uint64_t bad_frames)
{
    double elapsed = (double)(clock_mono_us() - r->wall_start_us) / 1e6;
    int rc = fprintf(r->csv,
                     "%.3f,%.3f,%" PRIu64 ",%" PRIu64 ",%.1f,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
                     ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\n",
                     smp->t_s, elapsed, r->total_terminals, smp->online, smp->reports_per_s,
                     hist_percentile(win, 50), hist_percentile(win, 99), win->n ? win->max : 0, smp->pending,
                     smp->disconnects, tot->connect_failures, bad_frames, tot->commands);
    if (rc < 0 || fflush(r->csv) == EOF) {
        fprintf(stderr, "fleetsim: --csv: %s; no more rows\n", strerror(errno));
        fclose(r->csv);
        r->csv = NULL;
    }
}

void run_csv_close(struct run *r)
{
    if (r->csv)
        fclose(r->csv);
    r->csv = NULL;
    prom_buf_free(&r->prom_text);
}

/* The directory of path takes new files. */
static int dir_writable(const char *flag, const char *path, char *err, size_t errcap)
{
    char copy[1024];
    snprintf(copy, sizeof copy, "%s", path);
    const char *dir = dirname(copy);
    if (access(dir, W_OK | X_OK) < 0) {
        snprintf(err, errcap, "%s %s: cannot create files in %s: %s", flag, path, dir, strerror(errno));
        return -1;
    }
    return 0;
}

/* A port Prometheus can be given: the address parses and nothing listens there. */
static int prom_port_free(const char *text, char *err, size_t errcap)
{
    char host[64], why[200];
    uint16_t port;
    if (prom_http_addr(text, host, sizeof host, &port, why, sizeof why) < 0) {
        snprintf(err, errcap, "--prometheus %s", why);
        return -1;
    }
    if (!port)
        return 0;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, host, &a.sin_addr);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    int rc = bind(fd, (struct sockaddr *)&a, sizeof a);
    int e = errno;
    close(fd);
    if (rc < 0) {
        snprintf(err, errcap, "--prometheus %s: cannot listen there: %s", text, strerror(e));
        return -1;
    }
    return 0;
}

int run_evidence_check(struct run *r, char *err, size_t errcap)
{
    const struct run_opts *o = r->o;
    if (o->csv && dir_writable("--csv", o->csv, err, errcap) < 0)
        return -1;
    if (o->pcap && dir_writable("--pcap", o->pcap, err, errcap) < 0)
        return -1;
    if (o->trace_ids) {
        char why[200];
        if (trace_ids_check(o->trace_ids, why, sizeof why) < 0) {
            snprintf(err, errcap, "--trace %s", why);
            return -1;
        }
    }
    if (o->prometheus && prom_port_free(o->prometheus, err, errcap) < 0)
        return -1;
    return 0;
}

int run_evidence_open(struct run *r, char *err, size_t errcap)
{
    const struct run_opts *o = r->o;
    if (o->csv && run_csv_open(r, o->csv, err, errcap) < 0)
        return -1;
    memset(&r->trace, 0, sizeof r->trace);
    if (o->trace_ids || o->pcap) {
        r->trace.ids = o->trace_ids;
        r->trace.pcap_path = o->pcap;
        r->trace.pcap_limit = o->pcap_limit;
        /* the text trace beside the reports; without a report directory, on stderr */
        if (o->trace_ids && o->report_dir) {
            snprintf(r->trace_path, sizeof r->trace_path, "%s/trace.txt", o->report_dir);
            r->trace.text_path = r->trace_path;
        }
        if (trace_create(&r->trace, err, errcap) < 0)
            return -1;
    }
    return 0;
}

void run_prom_publish(struct run *r)
{
    double elapsed = (double)(clock_mono_us() - r->wall_start_us) / 1e6;
    if (prom_render(&r->prom_text, r->snap, &r->sc, r->fe, elapsed) == 0)
        prom_http_publish(r->prom, r->prom_text.p, r->prom_text.len);
}
