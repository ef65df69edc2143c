/* fleetsim conform SUITE... [options] */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/conform.h"
#include "sim/platform/core/svc.h"
#include "sim/cli/cmd.h"

#define CONFORM_ROOT "scenarios/conformance"

static void usage(void)
{
    printf(
            "usage: fleetsim conform SUITE... [options]\n"
            "       fleetsim conform --list [DIR]\n"
            "\n"
            "Run conformance suites against a platform: each case one rule of the standard,\n"
            "its verdict with what was expected, what arrived and the frames (hex and\n"
            "decoded).  SUITE is a suite's folder (with a suite.json) or a folder of suites\n"
            "(" CONFORM_ROOT " runs them all).\n"
            "\n"
            "  -t, --target T        embedded (default: the reference platform, started on a\n"
            "                        free loopback port for the run and stopped after it) or\n"
            "                        tcp://HOST:PORT or tls://HOST:PORT (loopback)\n"
            "      --target-api URL  the target's northbound API (http:// or https://), for the\n"
            "                        cases that need northbound-api (the embedded platform\n"
            "                        serves its own when a chosen case needs it)\n"
            "      --api-app ID:SECRET  the application the api steps log in as\n"
            "      --api-ca FILE     the CA of an https:// --target-api's certificate\n"
            "      --tls             the embedded platform serves TLS (a server certificate,\n"
            "                        device CA and devices made for the run, in REPORT/tls)\n"
            "                        and every case connects over TLS; with --terminal the\n"
            "                        runner listens with TLS\n"
            "      --tls-ca FILE     tls://: the CA that issued the server's certificate (PEM;\n"
            "                        default the system's trust store); the certificate must\n"
            "                        name HOST.  Given, a certificate that does not verify\n"
            "                        fails the cases; not given, it is a harness error\n"
            "      --tls-cert FILE   tls://: a device certificate to present (PEM) ...\n"
            "      --tls-key FILE    ... and its private key; --terminal --tls: the runner's\n"
            "                        server certificate and key (default: made for the run)\n"
            "      --platform-cert FILE  --tls: the embedded platform's certificate instead of\n"
            "      --platform-key FILE   one made for the run, and its key (--tls-ca its CA)\n"
            "      --client-ca FILE  --terminal --tls: devices must present a certificate this\n"
            "                        CA issued; one without, or with another, fails the case\n"
            "      --terminal        check a device instead: the runner is the platform; it\n"
            "                        listens, and each case (\"side\": \"terminal\") takes the\n"
            "                        next device that connects (waiting 30s for it); the\n"
            "                        platform cases are not run (nor terminal cases without it)\n"
            "      --listen HOST:PORT  --terminal: where to listen (loopback; default\n"
            "                        127.0.0.1 and a free port, printed at the start)\n"
            "      --platform-mutant RULE  the embedded platform breaks RULE on purpose (fleetsim serve\n"
            "                          --mutant list): the suite's case of that rule must fail\n"
            "      --receiver ADDR[:PORT]  where the callback receiver of a case with push steps\n"
            "                        listens (an IPv4 or IPv6 address the target can reach,\n"
            "                        IPv6 with a port in brackets; default 127.0.0.1), a free\n"
            "                        port each case unless PORT (then one case at a time):\n"
            "                        the cases' ${receiver_url}\n"
            "  -c, --cases GLOB      only the cases whose id matches (GLOB,GLOB,... any of them)\n"
            "  -x, --exclude GLOB    not the cases whose id matches\n"
            "  -s, --strict          also the SHOULD and MAY cases (else listed as not run)\n"
            "  -j, --jobs N          run the cases in N processes (default 1, at most 64); each\n"
            "                        case has its own phone number, so none share a device\n"
            "      --shard K/N       run the K-th of N slices of the chosen cases (case i of the\n"
            "                        run, in suite and file order, is shard i %% N + 1): N runs\n"
            "                        with the same suites and options cover each case once, and\n"
            "                        as each case has its own phone, never share a device;\n"
            "                        fleetsim report DIR... merges their reports\n"
            "  -r, --report DIR      write DIR/report.json, DIR/junit.xml and DIR/report.html\n"
            "  -n, --dryrun          list the cases (id, level, objective, reference), run nothing\n"
            "  -l, --list            every suite (of DIR, default " CONFORM_ROOT ") and its case count\n"
            "  -q, --quiet           no line per case while running\n"
            "  -h, --help            this text\n"
            "\n"
            "exit status:\n"
            "  0  every case run passed      1  a case failed (the target is wrong)\n"
            "  2  usage or case file error   3  harness error (a case or the platform could not run)\n"
            "  4  nothing failed, a case was inconclusive (the target lacks what it needs)\n"
            "\n"
            "example: fleetsim conform " CONFORM_ROOT "/jt808 --report out/conform\n"
            "         fleetsim conform " CONFORM_ROOT "/jt808 --shard 2/3 --report out/shard-2\n"
            "         fleetsim conform --terminal --listen 127.0.0.1:7808 " CONFORM_ROOT "/jt808-terminal\n"
            "         fleetsim conform --tls " CONFORM_ROOT "/jt808 --report out/conform-tls\n");
}

/* The suites folder: the tree's, else the installed one. */
static const char *default_root(char *buf, size_t cap)
{
    struct stat st;
    if (stat(CONFORM_ROOT, &st) == 0 && S_ISDIR(st.st_mode))
        return CONFORM_ROOT;
    if (cmd_share_path("scenarios/conformance", buf, cap) == 0 && stat(buf, &st) == 0 && S_ISDIR(st.st_mode))
        return buf;
    return CONFORM_ROOT;
}

/* --receiver: ADDR, ADDR:PORT, [IPV6]:PORT or IPV6; 0 or -1. */
static int parse_receiver(const char *s, char *host, size_t cap, uint16_t *port)
{
    unsigned char a[16];
    const char *h = s, *p = NULL;
    size_t hl = strlen(s);
    if (s[0] == '[') {
        const char *e = strchr(s, ']');
        if (!e || e[1] != ':')
            return -1;
        h = s + 1;
        hl = (size_t)(e - h);
        p = e + 2;
    } else if (strchr(s, ':') && strchr(s, ':') == strrchr(s, ':')) {
        hl = (size_t)(strchr(s, ':') - s);
        p = s + hl + 1;
    }
    if (hl == 0 || hl >= cap)
        return -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    if (inet_pton(AF_INET, host, a) != 1 && inet_pton(AF_INET6, host, a) != 1)
        return -1;
    *port = 0;
    if (p) {
        char *end = NULL;
        long v = strtol(p, &end, 10);
        if (end == p || *end || v < 1 || v > 65535)
            return -1;
        *port = (uint16_t)v;
    }
    return 0;
}

int cmd_conform(int argc, char **argv)
{
    static const struct option opts[] = {
        {"target", required_argument, 0, 't'}, {"cases", required_argument, 0, 'c'},
        {"exclude", required_argument, 0, 'x'}, {"strict", no_argument, 0, 's'},
        {"jobs", required_argument, 0, 'j'}, {"report", required_argument, 0, 'r'},
        {"dryrun", no_argument, 0, 'n'}, {"dry-run", no_argument, 0, 'n'},
        {"list", no_argument, 0, 'l'}, {"tls-ca", required_argument, 0, 'A'},
        {"tls-cert", required_argument, 0, 'C'}, {"tls-key", required_argument, 0, 'K'}, {"quiet", no_argument, 0, 'q'}, {"help", no_argument, 0, 'h'},
        {"terminal", no_argument, 0, 'T'}, {"listen", required_argument, 0, 'L'},
        {"shard", required_argument, 0, 'S'},
        {"tls", no_argument, 0, 'W'}, {"platform-cert", required_argument, 0, 'P'},
        {"platform-key", required_argument, 0, 'Q'}, {"client-ca", required_argument, 0, 'V'},
        {"target-api", required_argument, 0, 0x201}, {"api-app", required_argument, 0, 0x202},
        {"api-ca", required_argument, 0, 0x203},
        {"receiver", required_argument, 0, 'R'},
        {"platform-mutant", required_argument, 0, 0x204},
        {0, 0, 0, 0},
    };
    struct conform_opts o = {.jobs = 1};
    static char recv_host[64];
    char self[4096], root[4096];
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":t:c:x:sj:r:nlqh", opts, NULL)) != -1) {
        char *end;
        long v;
        switch (c) {
        case 't': o.target = optarg; break;
        case 'c': o.cases_glob = optarg; break;
        case 'x': o.exclude_glob = optarg; break;
        case 's': o.strict = 1; break;
        case 'r': o.report_dir = optarg; break;
        case 'n': o.dryrun = 1; break;
        case 'l': o.list = 1; break;
        case 'q': o.quiet = 1; break;
        case 'A': o.tls_ca = optarg; break;
        case 'C': o.tls_cert = optarg; break;
        case 'K': o.tls_key = optarg; break;
        case 'T': o.terminal = 1; break;
        case 'L': o.listen = optarg; break;
        case 'S':
            if (cmd_parse_shard(optarg, CONFORM_MAX_SHARDS, &o.shard, &o.shards) < 0)
                return cmd_usage_error("conform", "--shard: '%s' is not K/N with 1 <= K <= N <= %d", optarg,
                                       CONFORM_MAX_SHARDS);
            break;
        case 'W': o.tls = 1; break;
        case 'P': o.platform_cert = optarg; break;
        case 'Q': o.platform_key = optarg; break;
        case 'V': o.client_ca = optarg; break;
        case 0x201: o.target_api = optarg; break;
        case 0x202: o.api_app = optarg; break;
        case 0x203: o.api_ca = optarg; break;
        case 0x204:
            if (!svc_mutant_find(optarg))
                return cmd_usage_error("conform", "--platform-mutant: '%s' is not a rule the platform can break "
                                       "(fleetsim serve --mutant list)", optarg);
            o.platform_mutant = optarg;
            break;
        case 'R':
            if (parse_receiver(optarg, recv_host, sizeof recv_host, &o.receiver_port) < 0)
                return cmd_usage_error("conform", "--receiver: '%s' is not an IPv4 or IPv6 address, with a port "
                                       "or without (1.2.3.4, 1.2.3.4:8090, ::1, [::1]:8090)", optarg);
            o.receiver = recv_host;
            break;
        case 'j':
            v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 64)
                return cmd_usage_error("conform", "--jobs: '%s' is not 1-64", optarg);
            o.jobs = (int)v;
            break;
        case 'h': usage(); return RUN_EXIT_PASS;
        default: return cmd_bad_option("conform", opts, c, argv);
        }
    }
    const char *one[1];
    if (optind == argc) {
        if (!o.list)
            return cmd_usage_error("conform", "a SUITE is needed (a folder like %s/jt808, or %s for all)",
                                   CONFORM_ROOT, CONFORM_ROOT);
        one[0] = default_root(root, sizeof root);
        o.suites = one;
        o.n_suites = 1;
    } else {
        o.suites = (const char *const *)(argv + optind);
        o.n_suites = argc - optind;
    }
    if (o.list && (o.dryrun || o.cases_glob || o.exclude_glob || o.report_dir || o.target || o.shards))
        return cmd_usage_error("conform", "--list takes no other option");
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return cmd_usage_error("conform", "cannot find the fleetsim binary (/proc/self/exe)");
    self[n] = '\0';
    o.self = self;
    return conform_main(&o);
}
