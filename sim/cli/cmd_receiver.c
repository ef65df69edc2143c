/* `fleetsim receiver`: the callback receiver (harness/cb_recv.h) alone, an
 * application server's push endpoint that answers by a plan, for checking by hand
 * or from a script how a platform pushes. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness/cb_recv.h"
#include "harness/textfile.h"
#include "sim/cli/cmd.h"
#include "sim/core/units.h"

#define PEM_MAX (256 * 1024)

static int usage(void)
{
    printf("usage: fleetsim receiver [options]\n"
           "\n"
           "An application server's push endpoint: every request is recorded, printed as a\n"
           "JSON line and answered by the plan.  The first line on stdout is the receiver's\n"
           "URL (http://HOST:PORT or https://...), then a line per request as it arrives;\n"
           "at the end a summary line: \"summary: N requests: 200 xA, 503 xB, ...\".\n"
           "\n"
           "  -l, --listen HOST:PORT  where to listen (default 127.0.0.1:0, any free port);\n"
           "                          an IPv6 address in brackets: [::1]:8090\n"
           "  -p, --plan PLAN         the answers in turn, entries STATUS[@DELAY][xCOUNT]\n"
           "                          separated by commas, the last one from then on\n"
           "                          (default 200): \"503x3,200\" three 503s then 200s;\n"
           "                          \"200@20s\" 200 after 20 s; \"drop\" closes the\n"
           "                          connection without an answer.  STATUS 100-599, DELAY\n"
           "                          at most 10m, COUNT 1-1000000, at most 32 entries\n"
           "  -o, --log FILE          also append each request's line to FILE (flushed per line)\n"
           "      --tls-cert FILE     serve HTTPS with this certificate (PEM)\n"
           "      --tls-key FILE      ... and its private key (PEM)\n"
           "  -d, --duration D        stop after D (like 30s, 5m; default: until SIGINT or\n"
           "                          SIGTERM)\n"
           "  -h, --help              this text\n"
           "\n"
           "A request line: {\"seq\":N,\"t_ms\":UNIX_MS,\"method\":..,\"path\":..,\"bytes\":N,\n"
           "\"body\":JSON (or \"body_text\" when the body is not JSON),\"status\":S} and\n"
           "\"content_type\", \"delay_ms\", \"drop\":true, \"too_big\":true when they apply.\n"
           "A body over 1 MiB is answered 413.\n"
           "\n"
           "exit status: 0 stopped by a signal or at the end of --duration; 2 usage error,\n"
           "or the address, plan or TLS files refused\n"
           "\n"
           "example: fleetsim receiver --listen 127.0.0.1:8090 --plan 503x3,200 --log push.jsonl\n");
    return RUN_EXIT_PASS;
}

static void print_line(void *arg, const char *line)
{
    (void)arg;
    printf("%s\n", line);
    fflush(stdout);
}

/* HOST:PORT or [HOST]:PORT into host and port; 0 or -1. */
static int split_listen(const char *s, char *host, size_t cap, uint16_t *port)
{
    const char *colon;
    size_t hl;
    const char *h = s;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':')
            return -1;
        h = s + 1;
        hl = (size_t)(close - s - 1);
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon || memchr(s, ':', (size_t)(colon - s)))
            return -1;
        hl = (size_t)(colon - s);
    }
    if (hl == 0 || hl >= cap)
        return -1;
    char *end = NULL;
    errno = 0;
    long p = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || *end || errno || p < 0 || p > 65535)
        return -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = (uint16_t)p;
    return 0;
}

static int read_pem(const char *flag, const char *path, char **out)
{
    size_t len;
    int e = textfile_read(path, PEM_MAX, out, &len);
    if (e != 0) {
        fprintf(stderr, "fleetsim receiver: %s %s: %s\n", flag, path, strerror(e));
        return -1;
    }
    return 0;
}

int cmd_receiver(int argc, char **argv)
{
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'},   {"plan", required_argument, NULL, 'p'},
        {"log", required_argument, NULL, 'o'},      {"tls-cert", required_argument, NULL, 'C'},
        {"tls-key", required_argument, NULL, 'K'},  {"duration", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    const char *listen = "127.0.0.1:0", *plan = NULL, *log_path = NULL, *cert_path = NULL, *key_path = NULL;
    uint64_t duration_ms = 0;
    char err[256];
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":l:p:o:d:h", opts, NULL)) != -1) {
        switch (c) {
        case 'l':
            listen = optarg;
            break;
        case 'p':
            if (cb_recv_plan_check(optarg, err, sizeof err) != 0)
                return cmd_usage_error("receiver", "--plan: %s", err);
            plan = optarg;
            break;
        case 'o':
            log_path = optarg;
            break;
        case 'C':
            cert_path = optarg;
            break;
        case 'K':
            key_path = optarg;
            break;
        case 'd':
            if (units_duration_range_ms(optarg, 1, 0, &duration_ms, err, sizeof err) != 0)
                return cmd_usage_error("receiver", "--duration: %s", err);
            break;
        case 'h':
            return usage();
        default:
            return cmd_bad_option("receiver", opts, c, argv);
        }
    }
    if (optind < argc)
        return cmd_usage_error("receiver", "unexpected argument '%s'", argv[optind]);
    char host[64];
    uint16_t port = 0;
    if (split_listen(listen, host, sizeof host, &port) != 0) {
        char q[64];
        units_quote(listen, q, sizeof q, 40);
        return cmd_usage_error("receiver", "--listen: '%s' is not HOST:PORT (or [IPV6]:PORT)", q);
    }
    if (!cert_path != !key_path)
        return cmd_usage_error("receiver", "--tls-cert and --tls-key go together");
    char *cert = NULL, *key = NULL;
    if (cert_path && (read_pem("--tls-cert", cert_path, &cert) != 0 || read_pem("--tls-key", key_path, &key) != 0)) {
        free(cert);
        return RUN_EXIT_USAGE;
    }
    /* SIGINT and SIGTERM taken by sigtimedwait below; blocked before the receiver's
     * threads start, so that they inherit the mask and the signal comes here */
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    struct cb_recv_opts o = {.bind = host, .port = port, .tls_cert_pem = cert, .tls_key_pem = key, .plan = plan,
                             .log_path = log_path, .on_line = print_line};
    struct cb_recv *r = cb_recv_start(&o, err, sizeof err);
    free(cert);
    free(key);
    if (!r) {
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        fprintf(stderr, "fleetsim receiver: %s\n", err);
        return RUN_EXIT_USAGE;
    }
    printf("%s\n", cb_recv_url(r));
    fflush(stdout);
    if (duration_ms) {
        struct timespec ts = {(time_t)(duration_ms / 1000), (long)(duration_ms % 1000) * 1000000L};
        struct timespec end, now;
        clock_gettime(CLOCK_MONOTONIC, &end);
        end.tv_sec += ts.tv_sec;
        end.tv_nsec += ts.tv_nsec;
        if (end.tv_nsec >= 1000000000L) {
            end.tv_sec++;
            end.tv_nsec -= 1000000000L;
        }
        for (;;) {
            int s = sigtimedwait(&set, NULL, &ts);
            if (s == SIGINT || s == SIGTERM || (s < 0 && errno == EAGAIN))
                break;
            /* EINTR (another signal): the time left */
            clock_gettime(CLOCK_MONOTONIC, &now);
            long long left = (long long)(end.tv_sec - now.tv_sec) * 1000000000LL + (end.tv_nsec - now.tv_nsec);
            if (left <= 0)
                break;
            ts.tv_sec = (time_t)(left / 1000000000LL);
            ts.tv_nsec = (long)(left % 1000000000LL);
        }
    } else {
        while (sigwaitinfo(&set, NULL) < 0 && errno == EINTR)
            ;
    }
    char sum[512];
    cb_recv_summary(r, sum, sizeof sum);
    cb_recv_stop(r);
    printf("summary: %s\n", sum);
    fflush(stdout);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return RUN_EXIT_PASS;
}
