/* fleetsim: device-fleet simulator and conformance harness. */
#include <stdio.h>
#include <string.h>

#include "sim/cli/cmd.h"

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} cmds[] = {
    {"run", cmd_run, "run a scenario and print the verdict table"},
    {"serve", cmd_serve, "run the reference platform alone"},
    {"report", cmd_report, "merge the reports of a run's shards and judge the whole"},
    {"vectors", cmd_vectors, "check golden vector files both ways"},
    {"decode", cmd_decode, "decode one frame (jt808 | pcp) to JSON"},
    {"encode", cmd_encode, "encode one frame (jt808 | pcp) from JSON"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: fleetsim COMMAND [ARGS...]   (fleetsim COMMAND --help for each)\n\n");
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        fprintf(f, "  %-9s %s\n", cmds[i].name, cmds[i].help);
    fprintf(f, "\nexit status: 0 all passed, 1 a check failed, 2 usage or input error\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (strcmp(argv[1], cmds[i].name) == 0)
            return cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "fleetsim: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
