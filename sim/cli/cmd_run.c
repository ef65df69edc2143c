/* fleetsim run SCENARIO [options] */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness/run.h"
#include "harness/snapshot.h"
#include "sim/cli/cmd.h"
#include "sim/core/units.h"

#define RUN_MAX_SETS 64

static void usage(void)
{
    printf(
            "usage: fleetsim run SCENARIO|DIR|- [options]\n"
            "       fleetsim run --protocol NAME [-c N] [-d DURATION] [options]\n"
            "\n"
            "Run a scenario: start the embedded platform (unless the target is elsewhere),\n"
            "ramp the fleets, play the steps, drain, and print the verdict table.  DIR runs\n"
            "every *.json in it, one after the other (a suite); - reads the scenario from\n"
            "standard input; --protocol runs one fleet with no file at all.\n"
            "\n"
            "quick runs (each is a --set on the scenario, checked like the file):\n"
            "      --protocol NAME     no file: one fleet of NAME (jt808), 100 terminals for 30s,\n"
            "                          expecting all authenticated within 30s and a balanced ledger\n"
            "  -c, --count N           terminals of every fleet (fleets[*].count)\n"
            "  -d, --duration D        the run's length (duration)\n"
            "      --ramp RATE         terminals started per second, e.g. 200/s (fleets[*].ramp)\n"
            "      --rate R            reports per second per terminal, e.g. 0.5: a report every\n"
            "                          1/R s (fleets[*].report.every; JT/T 808 fleets)\n"
            "      --seed N            the random seed: ids, positions, jitter (seed)\n"
            "      --set PATH=VALUE    any field: fleets[0].report.every=1s, fleets[*].version=2019\n"
            "                          (VALUE as JSON when it is JSON, else a string); repeatable\n"
            "\n"
            "evidence while it runs:\n"
            "      --prometheus ADDR   serve the live metrics at http://ADDR/metrics for Prometheus\n"
            "                          (PORT, :PORT or HOST:PORT; loopback unless HOST says otherwise)\n"
            "      --csv FILE          the timeline as CSV, a row per status interval\n"
            "      --trace ID[,ID...]  every frame of these terminals (device ids), hex and decoded,\n"
            "                          into DIR/trace.txt with --report DIR, else on stderr\n"
            "      --pcap FILE         their traffic as a pcap for Wireshark (without --trace: every\n"
            "                          terminal's, up to --pcap-limit)\n"
            "      --pcap-limit N      bytes of pcap at most (default 100M; k, M, G)\n"
            "\n"
            "  -r, --report DIR        write DIR/report.json, DIR/junit.xml and DIR/report.html\n"
            "  -t, --target URL        tcp://HOST:PORT of a third-party platform\n"
            "      --target-api URL    the api steps call this platform's northbound API\n"
            "                          (http://HOST:PORT or https://...; else platform.api)\n"
            "      --api-app ID:SECRET the application they log in as (with --target-api)\n"
            "      --api-ca FILE       the CA of an https:// --target-api's certificate\n"
            "  -p, --procs N           worker processes (default: number of cores; raised\n"
            "                          when the open-file limit needs more)\n"
            "  -s, --time-scale X      run virtual time X times faster (embedded target only)\n"
            "      --db FILE           embedded platform database (default: a temporary file)\n"
            "  -i, --status-interval D status line period (default 1s)\n"
            "  -n, --dry-run           check the scenario, paths and port, print the plan and\n"
            "                          its cases, start nothing\n"
            "  -q, --quiet             no status lines\n"
            "  -v, --verbose           the gateway logs every rejected frame\n"
            "      --no-color          no ANSI colours in the closing summary (also: NO_COLOR set;\n"
            "                          its marks are ASCII unless the locale is UTF-8)\n"
            "      --shard K/N         run only shard K of N of every fleet: the terminals\n"
            "                          i with i %% N == K-1 (fleetsim report merge joins them)\n"
            "      --stats PATH        serve the live snapshot on a unix socket: a JSON line\n"
            "                          on connect, then one every status interval\n"
            "      --dash              the live dashboard in this terminal while the run goes\n"
            "                          (fleetsim top's; q asks, then stops the run as Ctrl-C does);\n"
            "                          without a terminal, the status lines as usual\n"
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
        {"db", required_argument, 0, 'D'},
        {"status-interval", required_argument, 0, 'i'},
        {"quiet", no_argument, 0, 'q'},
        {"dry-run", no_argument, 0, 'n'},
        {"verbose", no_argument, 0, 'v'},
        {"shard", required_argument, 0, 'S'},
        {"stats", required_argument, 0, 'T'},
        {"protocol", required_argument, 0, 'P'},
        {"count", required_argument, 0, 'c'},
        {"duration", required_argument, 0, 'u'},
        {"ramp", required_argument, 0, 'R'},
        {"rate", required_argument, 0, 'E'},
        {"seed", required_argument, 0, 'K'},
        {"set", required_argument, 0, 'X'},
        {"prometheus", required_argument, 0, 'M'},
        {"csv", required_argument, 0, 'C'},
        {"trace", required_argument, 0, 'A'},
        {"pcap", required_argument, 0, 'W'},
        {"pcap-limit", required_argument, 0, 'L'},
        {"no-color", no_argument, 0, 'N'},
        {"dash", no_argument, 0, 0x200},
        {"target-api", required_argument, 0, 0x201},
        {"api-app", required_argument, 0, 0x202},
        {"api-ca", required_argument, 0, 0x203},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    struct run_opts o = {0};
    char err[256];
    int c;
    optind = 1;
    opterr = 0;
    /* the quick flags become overrides, in the order given, each checked by the parser */
    static char setbuf[RUN_MAX_SETS][300];
    static const char *sets[RUN_MAX_SETS];
    int n_sets = 0;
#define ADD_SET(...)                                                                                 \
    do {                                                                                             \
        if (n_sets >= RUN_MAX_SETS)                                                                  \
            return cmd_usage_error("run", "more than %d overrides", RUN_MAX_SETS);                  \
        snprintf(setbuf[n_sets], sizeof setbuf[0], __VA_ARGS__);                                     \
        sets[n_sets] = setbuf[n_sets];                                                               \
        n_sets++;                                                                                    \
    } while (0)
    while ((c = getopt_long(argc, argv, ":r:t:p:s:i:c:d:nqvh", opts, NULL)) != -1) {
        switch (c) {
        case 'r': o.report_dir = optarg; break;
        case 't': o.target = optarg; break;
        case 'D': o.db = optarg; break;
        case 'P': o.protocol = optarg; break;
        case 'M': o.prometheus = optarg; break;
        case 'C': o.csv = optarg; break;
        case 'A': o.trace_ids = optarg; break;
        case 'W': o.pcap = optarg; break;
        case 'L': {
            uint64_t n;
            if (units_count(optarg, &n, err, sizeof err) < 0 || n < 1024)
                return cmd_usage_error("run", "--pcap-limit: '%s' is not a size of at least 1k bytes", optarg);
            o.pcap_limit = n;
            break;
        }
        case 'c': {
            uint64_t n;
            if (units_count(optarg, &n, err, sizeof err) < 0 || n < 1)
                return cmd_usage_error("run", "--count: '%s' is not a number of terminals (1, 1000, 10k)", optarg);
            ADD_SET("fleets[*].count=%llu", (unsigned long long)n);
            break;
        }
        case 'd': ADD_SET("duration=\"%s\"", optarg); break;
        case 'R': ADD_SET("fleets[*].ramp=\"%s\"", optarg); break;
        case 'E': {
            char *end;
            double rate = strtod(optarg, &end);
            if (end == optarg || *end || !(rate > 0) || rate > 1000)
                return cmd_usage_error("run", "--rate: '%s' is not reports per second per terminal in (0, 1000]",
                                       optarg);
            ADD_SET("fleets[*].report.every=\"%.3fms\"", 1000.0 / rate);
            break;
        }
        case 'K': {
            uint64_t n;
            if (units_count(optarg, &n, err, sizeof err) < 0 || n > UINT32_MAX)
                return cmd_usage_error("run", "--seed: '%s' is not 0..%u", optarg, UINT32_MAX);
            ADD_SET("seed=%llu", (unsigned long long)n);
            break;
        }
        case 'X':
            if (!strchr(optarg, '=') || optarg[0] == '=')
                return cmd_usage_error("run", "--set: '%s' is not PATH=VALUE (fleets[0].count=1000)", optarg);
            ADD_SET("%s", optarg);
            break;
        case 'q': o.quiet = 1; break;
        case 'N': o.no_color = 1; break;
        case 0x200: o.dash = 1; break;
        case 0x201: o.target_api = optarg; break;
        case 0x202: o.api_app = optarg; break;
        case 0x203: o.api_ca = optarg; break;
        case 'n': o.dry_run = 1; break;
        case 'v': o.verbose = 1; break;
        case 'h': usage(); return 0;
        case 'T': o.stats_addr = optarg; break;
        case 'S':
            if (cmd_parse_shard(optarg, SNAPSHOT_MAX_SHARDS, &o.shard, &o.shards) < 0)
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
#undef ADD_SET
    o.sets = sets;
    o.n_sets = n_sets;
    if (o.protocol) {
        if (optind < argc)
            return cmd_usage_error("run", "--protocol runs without a file; '%s' is one too many", argv[optind]);
        return run_scenario(&o);
    }
    if (optind == argc)
        return cmd_usage_error("run", "expected a SCENARIO file, a DIR of them, '-' (standard input) or --protocol");
    if (optind < argc - 1)
        return cmd_usage_error("run", "one SCENARIO file expected; '%s' is more", argv[optind + 1]);
    o.scenario = argv[optind];
    struct stat st;
    /* a bare name that is no file here: a scenario installed with fleetsim */
    static char installed[4096 + 64];
    if (strcmp(o.scenario, "-") != 0 && !strchr(o.scenario, '/') && stat(o.scenario, &st) < 0) {
        char rel[600];
        size_t l = strlen(o.scenario);
        snprintf(rel, sizeof rel, "scenarios/%s%s", o.scenario, l > 5 && !strcmp(o.scenario + l - 5, ".json") ? "" : ".json");
        if (cmd_share_path(rel, installed, sizeof installed) == 0 && stat(installed, &st) == 0)
            o.scenario = installed;
    }
    if (strcmp(o.scenario, "-") != 0 && stat(o.scenario, &st) == 0 && S_ISDIR(st.st_mode))
        return run_suite(&o);
    return run_scenario(&o);
}
