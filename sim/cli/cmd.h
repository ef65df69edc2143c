/* Subcommand entry points.  main() dispatches `fleetsim NAME ARGS...` to
 * cmd_NAME(argc, argv) with argv[0] = NAME; each returns its exit status, one of
 * enum run_exit (harness/run.h): 0 all passed, 1 a check failed, 2 usage or
 * input error, 3 harness error, 4 inconclusive. */
#ifndef FLEETSIM_CMD_H
#define FLEETSIM_CMD_H

#include <getopt.h>
#include <stdint.h>

#include "harness/run.h"

/* `fleetsim vectors [-q] [FILE...]`: check golden vector files (cmd_codec.c) */
int cmd_vectors(int argc, char **argv);
/* `fleetsim decode [--from device|platform] jt808|pcp HEX...|-`: one frame to JSON */
int cmd_decode(int argc, char **argv);
/* `fleetsim encode jt808|pcp JSON|@FILE|-`: JSON to one frame in hex */
int cmd_encode(int argc, char **argv);

/* `fleetsim run SCENARIO [options]` (cmd_run.c) */
int cmd_run(int argc, char **argv);
/* `fleetsim serve [options]`: the reference platform alone (cmd_serve.c) */
int cmd_serve(int argc, char **argv);
/* `fleetsim report merge REPORT.json... [-o FILE]`: join shard reports (cmd_report.c) */
int cmd_report(int argc, char **argv);

/* `fleetsim conform SUITE... [options]`: conformance suites (cmd_conform.c) */
int cmd_conform(int argc, char **argv);

/* `fleetsim top [options] ADDR...`: the live dashboard of running runs (cmd_top.c) */
int cmd_top(int argc, char **argv);

/* `fleetsim verifier [options]`: a third-party verification endpoint (cmd_verifier.c) */
int cmd_verifier(int argc, char **argv);

/* `fleetsim receiver [options]`: a push endpoint that answers by a plan (cmd_receiver.c) */
int cmd_receiver(int argc, char **argv);

/* `fleetsim apiload [options]`: load a northbound API and measure it (cmd_apiload.c) */
int cmd_apiload(int argc, char **argv);

/* A usage error, said the same way by every subcommand (cmd.c): one line
 * "fleetsim NAME: WHAT" and a pointer to the help, "see 'fleetsim NAME --help'",
 * on stderr; returns RUN_EXIT_USAGE.  NAME is "run", "report merge", ... */
int cmd_usage_error(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The '?' and ':' of getopt_long (called with opterr = 0 and optstring starting
 * with ':'): an unknown, ambiguous or incomplete option of opts; a usage error. */
int cmd_bad_option(const char *name, const struct option *opts, int c, char **argv);
/* The installed share directory beside the binary (<bin>/../share/fleetsim), joined
 * with rel; 0, or -1 when the binary's path is unknown. */
int cmd_share_path(const char *rel, char *out, size_t cap);
/* --shard K/N: "K/N" with 1 <= K <= N <= max (digits only); 0, or -1. */
int cmd_parse_shard(const char *text, uint32_t max, uint32_t *k, uint32_t *n);

#endif
