/* Subcommand entry points.  main() dispatches `fleetsim NAME ARGS...` to
 * cmd_NAME(argc, argv) with argv[0] = NAME; each returns the exit status:
 * 0 all passed, 1 a check failed, 2 usage or input error. */
#ifndef FLEETSIM_CMD_H
#define FLEETSIM_CMD_H

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

#endif
