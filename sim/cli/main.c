/* fleetsim: device-fleet simulator and conformance harness. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "sim/cli/cmd.h"
#include "sim/cli/version.h"

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} cmds[] = {
    {"run", cmd_run, "run a scenario and print the verdict table"},
    {"serve", cmd_serve, "run the reference platform alone"},
    {"conform", cmd_conform, "run conformance suites against a platform"},
    {"report", cmd_report, "render a report again (html, junit, json); merge the shards of a run"},
    {"vectors", cmd_vectors, "check golden vector files both ways"},
    {"decode", cmd_decode, "decode one frame (jt808 | pcp) to JSON"},
    {"encode", cmd_encode, "encode one frame (jt808 | pcp) from JSON"},
    {"top", cmd_top, "the live dashboard of running runs (their --stats sockets)"},
    {"verifier", cmd_verifier, "a third-party verification endpoint for gateway tests"},
    {"receiver", cmd_receiver, "a push endpoint (callback receiver) that answers by a plan"},
    {"apiload", cmd_apiload, "load a platform's northbound API and measure it"},
};
#define N_CMDS (sizeof cmds / sizeof cmds[0])

static void usage(void)
{
    printf("usage: fleetsim COMMAND [ARGS...]\n"
           "       fleetsim help COMMAND   (or fleetsim COMMAND --help)\n"
           "       fleetsim --version\n\n");
    for (size_t i = 0; i < N_CMDS; i++)
        printf("  %-9s %s\n", cmds[i].name, cmds[i].help);
    printf("\nexit status: 0 all passed, 1 a check failed, 2 usage or input error,\n"
           "             3 harness error, 4 inconclusive (nothing failed, not all judged)\n");
}

static int find(const char *name)
{
    for (size_t i = 0; i < N_CMDS; i++)
        if (strcmp(name, cmds[i].name) == 0)
            return (int)i;
    return -1;
}

static int unknown(const char *name)
{
    fprintf(stderr, "fleetsim: unknown command '%s'\nsee 'fleetsim --help'\n", name);
    return RUN_EXIT_USAGE;
}

int main(int argc, char **argv)
{
    /* Output into a closed pipe (`fleetsim run X | head -1`) must not kill the run
     * before it has written its reports and judged: a write to it fails instead. */
    signal(SIGPIPE, SIG_IGN);
    if (argc < 2) {
        fprintf(stderr, "fleetsim: a COMMAND is needed\nsee 'fleetsim --help'\n");
        return RUN_EXIT_USAGE;
    }
    const char *a = argv[1];
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0 || (strcmp(a, "help") == 0 && argc == 2)) {
        usage();
        return RUN_EXIT_PASS;
    }
    if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
        printf("fleetsim %s\n", FLEETSIM_VERSION);
        return RUN_EXIT_PASS;
    }
    if (strcmp(a, "help") == 0) {
        if (argc > 3) {
            fprintf(stderr, "fleetsim help: one COMMAND at a time\nsee 'fleetsim --help'\n");
            return RUN_EXIT_USAGE;
        }
        int k = find(argv[2]);
        if (k < 0)
            return unknown(argv[2]);
        char help[] = "--help";
        char *args[] = {argv[2], help, NULL};
        return cmds[k].fn(2, args);
    }
    if (a[0] == '-') {
        fprintf(stderr, "fleetsim: unknown option '%s' (options come after the COMMAND)\nsee 'fleetsim --help'\n", a);
        return RUN_EXIT_USAGE;
    }
    int k = find(a);
    if (k < 0)
        return unknown(a);
    return cmds[k].fn(argc - 1, argv + 1);
}
