/* fleetsim report merge A.json B.json [...] -o C.json [--junit C.xml] */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/run_summary.h"
#include "harness/scenario.h"
#include "harness/snapshot.h"
#include "report/report.h"
#include "sim/cli/cmd.h"

static void usage(void)
{
    printf(
            "usage: fleetsim report merge REPORT.json... [options]\n"
            "\n"
            "Merge the reports of the shards of one run (fleetsim run --shard K/N --report DIR)\n"
            "and judge the whole again: the snapshots in the reports are added (counters,\n"
            "histograms bucket by bucket, ledgers, per-terminal partials, timelines tick by\n"
            "tick), every expectation of the scenario is evaluated on the sum, and the verdict\n"
            "table is printed.  The reports must come from the same scenario file (same bytes)\n"
            "and from different shards.  A bare snapshot file is read as well as a report.json.\n"
            "\n"
            "  -o, --output FILE       write the merged report.json (with its snapshot) to FILE\n"
            "      --junit FILE        write the merged JUnit XML to FILE\n"
            "      --scenario FILE     the scenario (default: the path the runs recorded); its\n"
            "                          bytes must be those the runs had\n"
            "  -q, --quiet             no verdict table, figures or summary, only the exit status\n"
            "      --no-color          no ANSI colours in the closing summary (also: NO_COLOR set)\n"
            "  -h, --help              this text\n"
            "\n"
            "exit status: the worst verdict of the merged cases, as for fleetsim run:\n"
            "  0  every expectation passed\n"
            "  1  an expectation failed\n"
            "  2  usage or input error: an unreadable or damaged report, different\n"
            "     scenarios, a shard twice; or a merged report that cannot be written\n"
            "  3  a shard's run had a harness error (its HARNESS case is merged)\n"
            "  4  none failed, but one or more were inconclusive\n"
            "example: fleetsim report merge out/1/report.json out/2/report.json -o out/report.json\n");
}

static int merge(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'},
        {"junit", required_argument, 0, 'j'},
        {"scenario", required_argument, 0, 's'},
        {"quiet", no_argument, 0, 'q'},
        {"no-color", no_argument, 0, 'N'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *out = NULL, *junit = NULL, *scenario = NULL;
    int quiet = 0, no_color = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'j': junit = optarg; break;
        case 's': scenario = optarg; break;
        case 'q': quiet = 1; break;
        case 'N': no_color = 1; break;
        case 'h': usage(); return 0;
        default: return cmd_bad_option("report merge", opts, c, argv);
        }
    }
    if (optind >= argc)
        return cmd_usage_error("report merge", "expected one or more REPORT.json files");
    static char err[SCENARIO_ERR_BYTES]; /* a scenario's every error */
    int rc = 2;
    static struct scenario sc;
    struct run_snapshot *sum = snapshot_new(), *one = snapshot_new();
    memset(&sc, 0, sizeof sc);
    if (!sum || !one) {
        fprintf(stderr, "fleetsim report merge: out of memory\n");
        goto done;
    }
    for (int i = optind; i < argc; i++) {
        struct run_snapshot *dst = i == optind ? sum : one;
        if (snapshot_load(dst, argv[i], err, sizeof err) < 0) {
            fprintf(stderr, "fleetsim report merge: %s\n", err);
            goto done;
        }
        if (dst != sum && snapshot_merge(sum, one, err, sizeof err) < 0) {
            fprintf(stderr, "fleetsim report merge: %s: cannot merge with %s: %s\n", argv[i],
                    i == optind + 1 ? argv[optind] : "the reports before it", err);
            goto done;
        }
    }
    const char *path = scenario ? scenario : sum->path;
    char hash[SNAPSHOT_HASH_LEN];
    if (!path[0] || snapshot_hash_file(path, hash, sizeof hash) < 0) {
        fprintf(stderr, "fleetsim report merge: cannot read the scenario %s; name it with --scenario FILE\n",
                path[0] ? path : "(no path recorded)");
        goto done;
    }
    if (strcmp(hash, sum->hash) != 0) {
        fprintf(stderr, "fleetsim report merge: %s is not the scenario the runs had (its bytes hash to %s, "
                "theirs to %s)\n", path, hash, sum->hash);
        goto done;
    }
    if (scenario_load(path, &sc, err, sizeof err) < 0) {
        fprintf(stderr, "fleetsim report merge: %s\n", err);
        goto done;
    }
    char shards[128];
    snapshot_shards_text(sum, shards, sizeof shards);
    if (!snapshot_complete(sum))
        fprintf(stderr, "fleetsim report merge: shards %s only: the verdicts judge the terminals of these shards\n",
                shards);
    struct run_report rep;
    report_init(&rep, sum->scenario, path);
    run_build_report(&sc, sum, &rep);
    if (!quiet) {
        printf("merged %d report(s) of %s: shards %s\n\n", argc - optind, sum->scenario, shards);
        report_print_table(&rep, stdout);
    }
    run_print_figures(&sc, sum, &rep, quiet ? NULL : stdout);
    rc = run_exit_status(report_overall(&rep));
    if (out && report_write_json(&rep, out, err, sizeof err) < 0) {
        fprintf(stderr, "fleetsim report merge: %s\n", err);
        rc = RUN_EXIT_USAGE;
    }
    if (junit && report_write_junit(&rep, junit, err, sizeof err) < 0) {
        fprintf(stderr, "fleetsim report merge: %s\n", err);
        rc = RUN_EXIT_USAGE;
    }
    if (!quiet && (out || junit))
        printf("reports:%s%s%s%s\n", out ? " " : "", out ? out : "", junit ? " " : "", junit ? junit : "");
    if (!quiet) {
        printf("\n");
        report_print_summary(&rep, stdout, report_summary_style(stdout, no_color));
    }
    report_free(&rep);
done:
    scenario_free(&sc);
    snapshot_free(sum);
    snapshot_free(one);
    return rc;
}

int cmd_report(int argc, char **argv)
{
    if (argc < 2)
        return cmd_usage_error("report", "expected a subcommand (merge)");
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        printf("usage: fleetsim report merge REPORT.json... [-o FILE] [--junit FILE]\n"
               "                            [--scenario FILE]\n"
               "       (fleetsim report merge --help for the details)\n"
               "\n"
               "exit status: as for fleetsim run: 0 all passed, 1 a case failed, 2 usage or\n"
               "             input error, 3 a harness error in a shard, 4 inconclusive\n");
        return RUN_EXIT_PASS;
    }
    if (strcmp(argv[1], "merge") == 0)
        return merge(argc - 1, argv + 1);
    return cmd_usage_error("report", "unknown subcommand '%s' (there is: merge)", argv[1]);
}
