/* What every subcommand says the same way: usage errors. */
#include "sim/cli/cmd.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int cmd_usage_error(const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fleetsim %s: ", name);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nsee 'fleetsim %s --help'\n", name);
    return RUN_EXIT_USAGE;
}

int cmd_bad_option(const char *name, const struct option *opts, int c, char **argv)
{
    const char *arg = optind > 0 ? argv[optind - 1] : "";
    if (c == ':')
        return cmd_usage_error(name, "option '%s' needs an argument", arg);
    if (strncmp(arg, "--", 2) == 0) {
        size_t n = strcspn(arg, "=");
        /* getopt_long names the option in optopt when it exists but got a value it
         * does not take */
        if (arg[n] == '=' && optopt)
            return cmd_usage_error(name, "option '%.*s' takes no argument", (int)n, arg);
        char also[256] = "";
        size_t used = 0;
        int matches = 0;
        for (const struct option *o = opts; o && o->name; o++)
            if (n > 2 && strncmp(o->name, arg + 2, n - 2) == 0 && used < sizeof also) {
                used += (size_t)snprintf(also + used, sizeof also - used, "%s--%s", matches ? ", " : "", o->name);
                matches++;
            }
        if (matches > 1)
            return cmd_usage_error(name, "option '%.*s' is ambiguous (%s)", (int)n, arg, also);
        return cmd_usage_error(name, "unknown option '%.*s'", (int)n, arg);
    }
    if (optopt)
        return cmd_usage_error(name, "unknown option '-%c'", optopt);
    return cmd_usage_error(name, "unknown option '%s'", arg);
}

int cmd_share_path(const char *rel, char *out, size_t cap)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return -1;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    snprintf(out, cap, "%s/../share/fleetsim/%s", exe, rel);
    return 0;
}

int cmd_parse_shard(const char *text, uint32_t max, uint32_t *k, uint32_t *n)
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
    if (a < 1 || b < a || b > max)
        return -1;
    *k = (uint32_t)a;
    *n = (uint32_t)b;
    return 0;
}
