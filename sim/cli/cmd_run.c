/* fleetsim run SCENARIO [options] */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/run.h"
#include "harness/snapshot.h"
#include "sim/cli/cmd.h"
#include "sim/core/units.h"

/* "K/N" with 1 <= K <= N; 0 or -1. */
static int parse_shard(const char *text, uint32_t *k, uint32_t *n)
{
    char *end;
    errno = 0;
    unsigned long a = strtoul(text, &end, 10);
    if (end == text || *end != '/' || text[0] == '-' || text[0] == '+' || errno)
        return -1;
    const char *p = end + 1;
    unsigned long b = strtoul(p, &end, 10);
    if (end == p || *end || p[0] == '-' || p[0] == '+' || errno)
        return -1;
    if (a < 1 || b < a || b > SNAPSHOT_MAX_SHARDS)
        return -1;
    *k = (uint32_t)a;
    *n = (uint32_t)b;
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: fleetsim run SCENARIO [options]\n"
            "\n"
            "Run a scenario: start the embedded gateway (unless the target is elsewhere),\n"
            "ramp the fleets, play the steps, drain, and print the verdict table.\n"
            "\n"
            "  -r, --report DIR        write DIR/report.json and DIR/junit.xml\n"
            "  -t, --target URL        tcp://HOST:PORT of a third-party platform\n"
            "  -p, --procs N           worker processes (default: number of cores; raised\n"
            "                          when the open-file limit needs more)\n"
            "  -s, --time-scale X      run virtual time X times faster (embedded target only)\n"
            "      --db FILE           embedded platform database (default: a temporary file)\n"
            "  -i, --status-interval D status line period (default 1s)\n"
            "  -n, --dry-run           check the scenario, print the plan and its cases, run nothing\n"
            "  -q, --quiet             no status lines\n"
            "  -v, --verbose           the gateway logs every rejected frame\n"
            "      --shard K/N         run only shard K of N of every fleet: the terminals i\n"
            "                          with i %% N == K-1 (merge the reports: fleetsim report merge)\n"
            "      --stats PATH        serve the live snapshot on a unix socket: one JSON line\n"
            "                          on connect, then one every status interval\n"
            "  -h, --help              this text\n"
            "\n"
            "exit status: 0 every expectation passed, 1 one did not, 2 bad usage or scenario\n"
            "example: fleetsim run scenarios/quickstart.json --report out/\n"
            "         fleetsim run my.json --shard 2/4 --report out/shard-2/\n");
}

int cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"report", required_argument, 0, 'r'},
        {"target", required_argument, 0, 't'},
        {"procs", required_argument, 0, 'p'},
        {"time-scale", required_argument, 0, 's'},
        {"db", required_argument, 0, 'd'},
        {"status-interval", required_argument, 0, 'i'},
        {"quiet", no_argument, 0, 'q'},
        {"dry-run", no_argument, 0, 'n'},
        {"verbose", no_argument, 0, 'v'},
        {"shard", required_argument, 0, 'S'},
        {"stats", required_argument, 0, 'T'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    struct run_opts o = {0};
    char err[256];
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "r:t:p:s:i:nqvh", opts, NULL)) != -1) {
        switch (c) {
        case 'r': o.report_dir = optarg; break;
        case 't': o.target = optarg; break;
        case 'd': o.db = optarg; break;
        case 'q': o.quiet = 1; break;
        case 'n': o.dry_run = 1; break;
        case 'v': o.verbose = 1; break;
        case 'h': usage(stdout); return 0;
        case 'T': o.stats_addr = optarg; break;
        case 'S':
            if (parse_shard(optarg, &o.shard, &o.shards) < 0) {
                fprintf(stderr, "fleetsim run: --shard: '%s' is not K/N with 1 <= K <= N <= %d\n", optarg,
                        SNAPSHOT_MAX_SHARDS);
                return 2;
            }
            break;
        case 'p': {
            uint64_t n;
            if (units_count(optarg, &n, err, sizeof err) < 0 || n < 1 || n > 64) {
                fprintf(stderr, "fleetsim run: --procs: '%s' is not 1..64\n", optarg);
                return 2;
            }
            o.procs = (int)n;
            break;
        }
        case 's': {
            char *end;
            o.time_scale = strtod(optarg, &end);
            if (*end || !(o.time_scale > 0) || o.time_scale > 100000) {
                fprintf(stderr, "fleetsim run: --time-scale: '%s' is not a number in (0, 100000]\n", optarg);
                return 2;
            }
            break;
        }
        case 'i': {
            uint64_t ms;
            if (units_duration_range_ms(optarg, 100000, 86400000000ULL, &ms, err, sizeof err) < 0) {
                fprintf(stderr, "fleetsim run: --status-interval: %s\n", err);
                return 2;
            }
            o.status_interval_ms = (int)ms;
            break;
        }
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "fleetsim run: expected one SCENARIO file\n");
        usage(stderr);
        return 2;
    }
    o.scenario = argv[optind];
    return run_scenario(&o);
}
