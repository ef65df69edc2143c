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

static void usage(void)
{
    printf(
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
            "  -n, --dry-run           check the scenario, paths and port, print the plan and\n"
            "                          its cases, start nothing\n"
            "  -q, --quiet             no status lines\n"
            "  -v, --verbose           the gateway logs every rejected frame\n"
            "      --shard K/N         run only shard K of N of every fleet: the terminals\n"
            "                          i with i %% N == K-1 (fleetsim report merge joins them)\n"
            "      --stats PATH        serve the live snapshot on a unix socket: a JSON line\n"
            "                          on connect, then one every status interval\n"
            "  -h, --help              this text\n"
            "\n"
            "exit status: the worst verdict of the cases (error > fail > inconclusive > pass)\n"
            "  0  every expectation passed\n"
            "  1  an expectation failed\n"
            "  2  usage or input error: bad option, scenario, path or port (nothing started)\n"
            "  3  harness error: a process died, the run could not start or complete, or it\n"
            "     was interrupted (the HARNESS case in the table says why)\n"
            "  4  none failed, but one or more were inconclusive (could not be judged)\n"
            "\n"
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
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":r:t:p:s:i:nqvh", opts, NULL)) != -1) {
        switch (c) {
        case 'r': o.report_dir = optarg; break;
        case 't': o.target = optarg; break;
        case 'd': o.db = optarg; break;
        case 'q': o.quiet = 1; break;
        case 'n': o.dry_run = 1; break;
        case 'v': o.verbose = 1; break;
        case 'h': usage(); return 0;
        case 'T': o.stats_addr = optarg; break;
        case 'S':
            if (parse_shard(optarg, &o.shard, &o.shards) < 0)
                return cmd_usage_error("run", "--shard: '%s' is not K/N with 1 <= K <= N <= %d", optarg,
                                       SNAPSHOT_MAX_SHARDS);
            break;
        case 'p': {
            uint64_t n;
            if (units_count(optarg, &n, err, sizeof err) < 0 || n < 1 || n > 64)
                return cmd_usage_error("run", "--procs: '%s' is not 1..64", optarg);
            o.procs = (int)n;
            break;
        }
        case 's': {
            char *end;
            o.time_scale = strtod(optarg, &end);
            if (*end || !(o.time_scale > 0) || o.time_scale > 100000)
                return cmd_usage_error("run", "--time-scale: '%s' is not a number in (0, 100000]", optarg);
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
        default: return cmd_bad_option("run", opts, c, argv);
        }
    }
    if (optind == argc)
        return cmd_usage_error("run", "expected a SCENARIO file");
    if (optind < argc - 1)
        return cmd_usage_error("run", "one SCENARIO file expected; '%s' is more", argv[optind + 1]);
    o.scenario = argv[optind];
    return run_scenario(&o);
}
