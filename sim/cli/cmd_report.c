/* fleetsim report merge A.json B.json [...] -o C.json [--junit C.xml] [--html C.html]
 * fleetsim report DIR... -o OUT [--format html|junit|json]: the same, rendered in
 * the format asked for. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "harness/conform_report.h"
#include "harness/report_read.h"
#include "harness/run_summary.h"
#include "harness/scenario.h"
#include "harness/snapshot.h"
#include "report/report.h"
#include "harness/textfile.h"
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
               "format asked for.\n"
               "\n"
               "Conformance reports (fleetsim conform --report DIR) merge too, by case: the\n"
               "union of the cases of the shards (--shard K/N) or of repeated runs; a case in\n"
               "several reports keeps its worst verdict (every attempt's is in the JSON's\n"
               "metrics.attempts), and a sharded run must have all its shards given.  Load runs\n"
               "and conformance reports do not merge with each other.\n");
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
           "                          bytes must be those the runs had (load runs)\n"
           "      --partial           conformance reports: merge although shards of a sharded\n"
           "                          run are missing (said on stderr; else an input error)\n"
           "  -q, --quiet             no verdict table, figures or summary, only the exit status\n"
           "      --no-color          no ANSI colours in the closing summary (also: NO_COLOR set)\n"
           "  -h, --help              this text\n"
           "\n"
           "exit status: the worst verdict of the merged cases, as for fleetsim run:\n"
           "  0  every expectation passed\n"
           "  1  an expectation failed\n"
           "  2  usage or input error: an unreadable or damaged report, different\n"
           "     scenarios, a shard twice, a conformance report given twice or a shard of\n"
           "     one missing, a load run with a conformance report; or a merged report that\n"
           "     cannot be written\n"
           "  3  a shard's run had a harness error (its HARNESS case is merged)\n"
           "  4  none failed, but one or more were inconclusive\n");
    if (strcmp(name, "report") == 0)
        printf("example: fleetsim report out/1 out/2 -o out/report.html\n"
               "         fleetsim report out/shard-1 out/shard-2 out/shard-3 -o out/junit.xml\n");
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
/* The merged report in each format asked for (-o in its format, --junit, --html),
 * then the closing summary; rc, or the usage exit when a file cannot be written. */
static int write_outputs(const struct run_report *rep, const char *name, const char *out, enum out_format fmt,
                         const char *junit, const char *html, int quiet, int no_color, int rc)
{
    char err[4096];
    const struct {
        const char *path;
        enum out_format fmt;
    } outs[] = {{out, fmt}, {junit, FMT_JUNIT}, {html, FMT_HTML}};
    int wrote = 0;
    for (size_t k = 0; k < sizeof outs / sizeof outs[0]; k++) {
        if (!outs[k].path)
            continue;
        if (write_format(rep, outs[k].fmt, outs[k].path, err, sizeof err) < 0) {
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
        report_print_summary(rep, stdout, report_summary_style(stdout, no_color));
    }
    return rc;
}

static const char *report_path(const char *arg, char *buf, size_t cap)
{
    struct stat st;
    if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(buf, cap, "%s/report.json", arg);
        return buf;
    }
    return arg;
}

enum report_kind { KIND_BAD = 0, KIND_RUN, KIND_CONFORM };

/* What path holds: a load run's report or a bare snapshot (KIND_RUN), or a
 * conformance report (KIND_CONFORM, read into *r); KIND_BAD with the reason said. */
static enum report_kind classify(const char *name, const char *path, struct run_report *r)
{
    static char err[16384];
    char *text = NULL;
    size_t len = 0;
    memset(r, 0, sizeof *r);
    int e = textfile_read(path, 256u << 20, &text, &len);
    if (e) {
        fprintf(stderr, "fleetsim %s: %s: %s\n", name, path, e == EFBIG ? "larger than 256 MiB" : strerror(e));
        return KIND_BAD;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
    if (!root) {
        report_json_syntax_error(path, text, end, err, sizeof err);
        fprintf(stderr, "fleetsim %s: %s\n", name, err);
        free(text);
        return KIND_BAD;
    }
    free(text);
    enum report_kind k = KIND_BAD;
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(root, "scenario");
    if (cJSON_IsObject(root) && (cJSON_GetObjectItemCaseSensitive(root, "snapshot") ||
                                 cJSON_GetObjectItemCaseSensitive(root, "format")))
        k = KIND_RUN;
    else if (!cJSON_IsObject(root) || !cJSON_IsString(sc) || strcmp(sc->valuestring, "conform") != 0)
        fprintf(stderr, "fleetsim %s: %s: neither a load run's report (a report.json with a \"snapshot\", or a bare "
                "snapshot: fleetsim run --report) nor a conformance report (\"scenario\": \"conform\": fleetsim "
                "conform --report)\n", name, path);
    else if (report_from_json(root, path, r, err, sizeof err) < 0 || conform_report_check(r, path, err, sizeof err) < 0)
        fprintf(stderr, "fleetsim %s: %s\n", name, err);
    else
        k = KIND_CONFORM;
    cJSON_Delete(root);
    if (k != KIND_CONFORM)
        report_free(r);
    return k;
}

/* The conformance reports in[0..n) merged, printed and written. */
static int merge_conform(const char *name, struct run_report *in, const char *const *files, int n, bool partial,
                         int quiet, int no_color, const char *out, enum out_format fmt, const char *junit,
                         const char *html)
{
    static char err[4096], note[8192];
    struct run_report rep;
    if (conform_report_merge(in, files, n, partial, &rep, note, sizeof note, err, sizeof err) < 0) {
        fprintf(stderr, "fleetsim %s: %s\n", name, err);
        return RUN_EXIT_USAGE;
    }
    if (note[0]) {
        /* a line each, after the command's name */
        for (char *line = note, *nl; line && *line; line = nl ? nl + 1 : NULL) {
            nl = strchr(line, '\n');
            fprintf(stderr, "fleetsim %s: %.*s\n", name, nl ? (int)(nl - line) : (int)strlen(line), line);
        }
    }
    if (!quiet) {
        printf("merged %d conformance report(s): %s\n\n", n, rep.ledger_text);
        report_print_table(&rep, stdout);
    }
    int rc = run_exit_status(report_overall(&rep));
    rc = write_outputs(&rep, name, out, fmt, junit, html, quiet, no_color, rc);
    report_free(&rep);
    return rc;
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
        {"partial", no_argument, 0, 'P'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *out = NULL, *junit = NULL, *html = NULL, *scenario = NULL;
    enum out_format fmt = FMT_NONE;
    int quiet = 0, no_color = 0, partial = 0, c;
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
        case 'P': partial = 1; break;
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

    /* conformance reports merge by case; load runs through their snapshots */
    {
        int n = argc - optind, n_conform = 0, first_run = -1, first_conform = -1;
        struct run_report *in = calloc((size_t)n, sizeof *in);
        char (*files)[4096] = calloc((size_t)n, sizeof *files);
        const char **names = calloc((size_t)n, sizeof *names);
        struct stat *ids = calloc((size_t)n, sizeof *ids);
        int crc = -1;
        if (!in || !files || !names || !ids) {
            fprintf(stderr, "fleetsim %s: out of memory\n", name);
            crc = RUN_EXIT_USAGE;
        }
        for (int i = 0; crc < 0 && i < n; i++) {
            names[i] = report_path(argv[optind + i], files[i], sizeof files[i]);
            if (names[i] != files[i])
                snprintf(files[i], sizeof files[i], "%s", names[i]);
            names[i] = files[i];
            enum report_kind k = classify(name, files[i], &in[n_conform]);
            if (k == KIND_BAD) {
                crc = RUN_EXIT_USAGE;
                break;
            }
            if (k == KIND_RUN) {
                if (first_run < 0)
                    first_run = i;
                continue;
            }
            if (first_conform < 0)
                first_conform = i;
            stat(files[i], &ids[n_conform]);
            for (int q = 0; q < n_conform; q++)
                if (ids[q].st_dev == ids[n_conform].st_dev && ids[q].st_ino == ids[n_conform].st_ino) {
                    fprintf(stderr, "fleetsim %s: %s is given twice (also as %s)\n", name, files[i], names[q]);
                    crc = RUN_EXIT_USAGE;
                }
            names[n_conform] = files[i];
            n_conform++;
        }
        if (crc < 0 && first_run >= 0 && first_conform >= 0) {
            fprintf(stderr, "fleetsim %s: %s is a load run's report (fleetsim run), %s a conformance report "
                    "(fleetsim conform): they do not merge; render each on its own\n", name, argv[optind + first_run],
                    argv[optind + first_conform]);
            crc = RUN_EXIT_USAGE;
        }
        if (crc < 0 && n_conform > 0 && scenario) {
            crc = cmd_usage_error(name, "--scenario is for load runs; these are conformance reports");
        }
        if (crc < 0 && n_conform == 0 && partial)
            crc = cmd_usage_error(name, "--partial is for conformance reports (load runs merge whatever shards are "
                                  "given)");
        if (crc < 0 && n_conform > 0)
            crc = merge_conform(name, in, names, n_conform, partial, quiet, no_color, out, fmt, junit, html);
        for (int i = 0; in && i < n_conform; i++)
            report_free(&in[i]);
        free(in);
        free(files);
        free(names);
        free(ids);
        if (crc >= 0)
            return crc;
    }
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
    rc = write_outputs(&rep, name, out, fmt, junit, html, quiet, no_color, rc);
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
