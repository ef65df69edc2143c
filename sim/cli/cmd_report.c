/* fleetsim report merge A.json B.json [...] -o C.json [--junit C.xml] [--html C.html]
 * fleetsim report DIR... -o OUT [--format html|junit|json]: the same, rendered in
 * the format asked for. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "harness/run_summary.h"
#include "harness/scenario.h"
#include "harness/snapshot.h"
#include "report/report.h"
#include "sim/cli/cmd.h"

static void usage(const char *name)
{
    if (strcmp(name, "report") == 0)
        printf("usage: fleetsim report REPORT... -o OUT [--format html|junit|json] [options]\n"
               "\n"
               "Render the report of a run again, or of several runs merged: each REPORT is a\n"
               "report.json, a directory holding one (fleetsim run --report DIR) or a bare\n"
               "snapshot.  As with fleetsim report merge, the snapshots are added and every\n"
               "expectation of the scenario is judged on the sum, then OUT is written in the\n"
               "format asked for.\n");
    else
        printf("usage: fleetsim report merge REPORT... [options]\n"
               "\n"
               "Merge the reports of the shards of one run (fleetsim run --shard K/N --report DIR)\n"
               "and judge the whole again: the snapshots in the reports are added (counters,\n"
               "histograms bucket by bucket, ledgers, per-terminal partials, timelines tick by\n"
               "tick), every expectation of the scenario is evaluated on the sum, and the verdict\n"
               "table is printed.  The reports must come from the same scenario file (same bytes)\n"
               "and from different shards.  A REPORT is a report.json, a directory holding one,\n"
               "or a bare snapshot file.\n");
    printf("\n"
           "  -o, --output FILE       write the merged report to FILE, in --format\n"
           "      --format FMT        json (report.json with its snapshot), junit (JUnit XML)\n"
           "                          or html (one self-contained page with the verdict matrix\n"
           "                          and the plots); default: from FILE's name (.html, .htm:\n"
           "                          html; .xml: junit), else json\n"
           "      --junit FILE        also write the JUnit XML to FILE\n"
           "      --html FILE         also write the HTML page to FILE\n"
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
           "  4  none failed, but one or more were inconclusive\n");
    if (strcmp(name, "report") == 0)
        printf("example: fleetsim report out/1 out/2 -o out/report.html\n");
    else
        printf("example: fleetsim report merge out/1/report.json out/2/report.json -o out/report.json\n");
}

enum out_format { FMT_NONE = 0, FMT_JSON, FMT_JUNIT, FMT_HTML };

static enum out_format format_named(const char *s)
{
    if (strcmp(s, "json") == 0)
        return FMT_JSON;
    if (strcmp(s, "junit") == 0 || strcmp(s, "xml") == 0)
        return FMT_JUNIT;
    if (strcmp(s, "html") == 0)
        return FMT_HTML;
    return FMT_NONE;
}

/* The format a file's name suggests: .html/.htm, .xml, else json. */
static enum out_format format_of_path(const char *path)
{
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    if (!dot || (slash && dot < slash))
        return FMT_JSON;
    if (strcasecmp(dot, ".html") == 0 || strcasecmp(dot, ".htm") == 0)
        return FMT_HTML;
    if (strcasecmp(dot, ".xml") == 0)
        return FMT_JUNIT;
    return FMT_JSON;
}

static int write_format(const struct run_report *rep, enum out_format fmt, const char *path, char *err,
                        size_t errcap)
{
    switch (fmt) {
    case FMT_JUNIT: return report_write_junit(rep, path, err, errcap);
    case FMT_HTML: return report_write_html(rep, path, err, errcap);
    default: return report_write_json(rep, path, err, errcap);
    }
}

/* A directory stands for the report.json in it. */
static const char *report_path(const char *arg, char *buf, size_t cap)
{
    struct stat st;
    if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(buf, cap, "%s/report.json", arg);
        return buf;
    }
    return arg;
}

/* name: "report merge" or "report" (the same work, said in that command's name). */
static int merge(const char *name, int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'},
        {"junit", required_argument, 0, 'j'},
        {"html", required_argument, 0, 'H'},
        {"format", required_argument, 0, 'f'},
        {"scenario", required_argument, 0, 's'},
        {"quiet", no_argument, 0, 'q'},
        {"no-color", no_argument, 0, 'N'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *out = NULL, *junit = NULL, *html = NULL, *scenario = NULL;
    enum out_format fmt = FMT_NONE;
    int quiet = 0, no_color = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'j': junit = optarg; break;
        case 'H': html = optarg; break;
        case 'f':
            fmt = format_named(optarg);
            if (fmt == FMT_NONE)
                return cmd_usage_error(name, "--format %s: expected html, junit or json", optarg);
            break;
        case 's': scenario = optarg; break;
        case 'q': quiet = 1; break;
        case 'N': no_color = 1; break;
        case 'h': usage(name); return 0;
        default: return cmd_bad_option(name, opts, c, argv);
        }
    }
    if (optind >= argc)
        return cmd_usage_error(name, "expected one or more reports (report.json files or directories)");
    if (fmt != FMT_NONE && !out)
        return cmd_usage_error(name, "--format needs -o FILE");
    if (out && fmt == FMT_NONE)
        fmt = format_of_path(out);
    static char err[SCENARIO_ERR_BYTES]; /* a scenario's every error */
    int rc = 2;
    static struct scenario sc;
    struct run_snapshot *sum = snapshot_new(), *one = snapshot_new();
    memset(&sc, 0, sizeof sc);
    if (!sum || !one) {
        fprintf(stderr, "fleetsim %s: out of memory\n", name);
        goto done;
    }
    for (int i = optind; i < argc; i++) {
        struct run_snapshot *dst = i == optind ? sum : one;
        char file[4096];
        if (snapshot_load(dst, report_path(argv[i], file, sizeof file), err, sizeof err) < 0) {
            fprintf(stderr, "fleetsim %s: %s\n", name, err);
            goto done;
        }
        if (dst != sum && snapshot_merge(sum, one, err, sizeof err) < 0) {
            fprintf(stderr, "fleetsim %s: %s: cannot merge with %s: %s\n", name, argv[i],
                    i == optind + 1 ? argv[optind] : "the reports before it", err);
            goto done;
        }
    }
    const char *path = scenario ? scenario : sum->path;
    char hash[SNAPSHOT_HASH_LEN];
    if (!path[0] || snapshot_hash_file(path, hash, sizeof hash) < 0) {
        fprintf(stderr, "fleetsim %s: cannot read the scenario %s; name it with --scenario FILE\n", name,
                path[0] ? path : "(no path recorded)");
        goto done;
    }
    if (strcmp(hash, sum->hash) != 0) {
        fprintf(stderr, "fleetsim %s: %s is not the scenario the runs had (its bytes hash to %s, "
                "theirs to %s)\n", name, path, hash, sum->hash);
        goto done;
    }
    if (scenario_load(path, &sc, err, sizeof err) < 0) {
        fprintf(stderr, "fleetsim %s: %s\n", name, err);
        goto done;
    }
    char shards[128];
    snapshot_shards_text(sum, shards, sizeof shards);
    if (!snapshot_complete(sum))
        fprintf(stderr, "fleetsim %s: shards %s only: the verdicts judge the terminals of these shards\n", name,
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
    const struct {
        const char *path;
        enum out_format fmt;
    } outs[] = {{out, fmt}, {junit, FMT_JUNIT}, {html, FMT_HTML}};
    int wrote = 0;
    for (size_t k = 0; k < sizeof outs / sizeof outs[0]; k++) {
        if (!outs[k].path)
            continue;
        if (write_format(&rep, outs[k].fmt, outs[k].path, err, sizeof err) < 0) {
            fprintf(stderr, "fleetsim %s: %s\n", name, err);
            rc = RUN_EXIT_USAGE;
            continue;
        }
        if (!quiet)
            printf("%s %s", wrote++ ? "" : "reports:", outs[k].path);
    }
    if (wrote)
        printf("\n");
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
        return cmd_usage_error("report", "expected reports to render, or merge REPORT...");
    if (strcmp(argv[1], "merge") == 0)
        return merge("report merge", argc - 1, argv + 1);
    return merge("report", argc, argv);
}
