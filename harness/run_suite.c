/* `fleetsim run DIR`: every scenario of a folder (a suite), one after the other,
 * each with its reports in DIR-of-reports/<name>/, and one line per scenario at
 * the end.  The suite's exit status is its worst scenario's: a harness error,
 * then an input error, then a failed check, then an inconclusive one. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness/run.h"

#define SUITE_MAX 512

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* How bad an exit status is, for choosing the suite's. */
static int rank(int rc)
{
    switch (rc) {
    case RUN_EXIT_PASS: return 0;
    case RUN_EXIT_INCONCLUSIVE: return 1;
    case RUN_EXIT_FAIL: return 2;
    case RUN_EXIT_USAGE: return 3;
    default: return 4;
    }
}

static const char *rc_word(int rc)
{
    switch (rc) {
    case RUN_EXIT_PASS: return "pass";
    case RUN_EXIT_INCONCLUSIVE: return "inconclusive";
    case RUN_EXIT_FAIL: return "fail";
    case RUN_EXIT_USAGE: return "input error";
    default: return "harness error";
    }
}

int run_suite(const struct run_opts *o)
{
    if (o->csv || o->pcap || o->trace_ids) {
        fprintf(stderr, "fleetsim run: %s is a folder of scenarios: --csv, --trace and --pcap name one file; "
                        "run its scenarios one by one for them\nsee 'fleetsim run --help'\n", o->scenario);
        return RUN_EXIT_USAGE;
    }
    DIR *d = opendir(o->scenario);
    if (!d) {
        fprintf(stderr, "fleetsim run: %s: %s\n", o->scenario, strerror(errno));
        return RUN_EXIT_USAGE;
    }
    char *names[SUITE_MAX];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l < 6 || strcmp(e->d_name + l - 5, ".json") != 0 || e->d_name[0] == '.')
            continue;
        if (n == SUITE_MAX) {
            fprintf(stderr, "fleetsim run: %s: more than %d scenarios\n", o->scenario, SUITE_MAX);
            break;
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (n == 0) {
        fprintf(stderr, "fleetsim run: %s: no *.json scenario in it\n", o->scenario);
        return RUN_EXIT_USAGE;
    }
    qsort(names, (size_t)n, sizeof names[0], cmp);
    int *rcs = calloc((size_t)n, sizeof *rcs);
    int worst = RUN_EXIT_PASS;
    for (int i = 0; i < n; i++) {
        char path[2048], rep[2048];
        snprintf(path, sizeof path, "%s/%s", o->scenario, names[i]);
        struct run_opts one = *o;
        one.scenario = path;
        if (o->report_dir) {
            snprintf(rep, sizeof rep, "%s/%.*s", o->report_dir, (int)(strlen(names[i]) - 5), names[i]);
            one.report_dir = rep;
        }
        if (!o->quiet)
            printf("\n=== %s (%d of %d)\n", path, i + 1, n);
        fflush(stdout);
        rcs[i] = run_scenario(&one);
        if (rank(rcs[i]) > rank(worst))
            worst = rcs[i];
    }
    printf("\nsuite %s: %d scenario%s\n", o->scenario, n, n == 1 ? "" : "s");
    for (int i = 0; i < n; i++) {
        printf("  %-40s %s\n", names[i], rc_word(rcs[i]));
        free(names[i]);
    }
    free(rcs);
    return worst;
}
