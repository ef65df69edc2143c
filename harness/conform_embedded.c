/* The embedded platform of `fleetsim conform`: `fleetsim serve` started in a
 * child on a free loopback port with a database of its own (the suite's "platform"
 * settings, TLS with --tls), waited for until it accepts, and stopped at the end. */
#include "harness/conform_runner.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/run.h"
#include "sim/net/transport.h"

#define SERVE_START_MS 15000     /* the embedded platform accepts connections by then */
#define SERVE_STOP_MS 5000       /* ... and is gone after SIGTERM by then (else SIGKILL) */

static bool accepts(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

void conform_embedded_stop(struct embedded *e)
{
    if (e->pid > 0) {
        kill(e->pid, SIGTERM);
        uint64_t until = conform_mono_ms() + SERVE_STOP_MS;
        int st;
        while (waitpid(e->pid, &st, WNOHANG) == 0) {
            if (conform_mono_ms() > until) {
                kill(e->pid, SIGKILL);
                waitpid(e->pid, &st, 0);
                break;
            }
            usleep(20000);
        }
        e->pid = 0;
    }
    if (e->dir[0]) {
        char p[512];
        const char *files[] = {"platform.db", "platform.db-wal", "platform.db-shm", "serve.log"};
        for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
            snprintf(p, sizeof p, "%s/%s", e->dir, files[i]);
            unlink(p);
        }
        rmdir(e->dir);
        e->dir[0] = '\0';
    }
}


int conform_embedded_start(const char *self, const struct conform_suite *s, const struct tls_files *tf,
                           struct embedded *e)
{
    char idle[32] = "", reasm[32] = "", triples[1100] = "", scale[32] = "";
    const char *av[48 + 2 * 64];
    char apps[64][64];
    int ac = 0;
    if (s && s->idle_timeout_ms)
        snprintf(idle, sizeof idle, "%llums", (unsigned long long)s->idle_timeout_ms);
    if (s && s->reasm_timeout_ms)
        snprintf(reasm, sizeof reasm, "%llums", (unsigned long long)s->reasm_timeout_ms);
    if (s && s->time_scale > 0)
        snprintf(scale, sizeof scale, "%g", s->time_scale);
    if (s && s->triples[0])
        snprintf(triples, sizeof triples, "%s%s%s", s->triples[0] == '/' ? "" : s->dir,
                 s->triples[0] == '/' ? "" : "/", s->triples);
    const char *tmp = getenv("TMPDIR");
    snprintf(e->dir, sizeof e->dir, "%s/fleetsim-conform-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(e->dir) == NULL) {
        fprintf(stderr, "fleetsim conform: cannot make a folder for the embedded platform: %s\n", strerror(errno));
        e->dir[0] = '\0';
        return -1;
    }
    if (e->api) {
        /* an application of the run's own for the api steps (conform_api.c) */
        FILE *r = fopen("/dev/urandom", "rb");
        unsigned char b[12] = {0};
        if (!r || fread(b, 1, sizeof b, r) != sizeof b)
            for (size_t i = 0; i < sizeof b; i++)
                b[i] = (unsigned char)(rand() ^ getpid());
        if (r)
            fclose(r);
        for (size_t i = 0; i < sizeof b; i++)
            snprintf(e->api_secret + 2 * i, sizeof e->api_secret - 2 * i, "%02x", b[i]);
    }
    for (int attempt = 0; attempt < 3; attempt++) {
        e->port = transport_free_port();
        e->api_port = e->api ? transport_free_port() : 0;
        char port[8], db[300], log[300], api[32], app[64];
        snprintf(api, sizeof api, "127.0.0.1:%u", e->api_port);
        snprintf(app, sizeof app, "conform:%s", e->api_secret);
        snprintf(port, sizeof port, "%u", e->port);
        snprintf(db, sizeof db, "%s/platform.db", e->dir);
        snprintf(log, sizeof log, "%s/serve.log", e->dir);
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0) {
            fprintf(stderr, "fleetsim conform: fork: %s\n", strerror(errno));
            return -1;
        }
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGTERM); /* a runner that dies takes its platform with it */
            FILE *f = freopen(log, "w", stderr);
            (void)f;
            int null = open("/dev/null", 0);
            if (null >= 0) {
                dup2(null, STDIN_FILENO);
                dup2(null, STDOUT_FILENO);
            }
            const char *base[] = {self, "serve", "--port", port, "--bind", "127.0.0.1", "--db", db, "--quiet"};
            ac = 0;
            for (size_t i = 0; i < sizeof base / sizeof base[0]; i++)
                av[ac++] = base[i];
            if (s && strcmp(s->auth, "open") != 0) {
                av[ac++] = "--auth";
                av[ac++] = s->auth;
            }
            if (triples[0]) {
                av[ac++] = "--triples";
                av[ac++] = triples;
            }
            if (idle[0]) {
                av[ac++] = "--idle-timeout";
                av[ac++] = idle;
            }
            if (reasm[0]) {
                av[ac++] = "--reasm-timeout";
                av[ac++] = reasm;
            }
            if (s && s->rsa[0]) {
                av[ac++] = "--rsa";
                av[ac++] = s->rsa;
            }
            if (scale[0]) {
                av[ac++] = "--time-scale";
                av[ac++] = scale;
            }
            if (s && s->short_conn[0]) {
                av[ac++] = "--short-connection";
                av[ac++] = s->short_conn;
            }
            if (e->mutant) {
                av[ac++] = "--mutant";
                av[ac++] = e->mutant;
            }
            if (tf) {
                av[ac++] = "--tls-cert";
                av[ac++] = tf->cert;
                av[ac++] = "--tls-key";
                av[ac++] = tf->key;
                if (s && s->device_verification) {
                    av[ac++] = "--device-ca";
                    av[ac++] = tf->device_ca;
                }
            }
            if (e->api) {
                av[ac++] = "--api";
                av[ac++] = api;
                av[ac++] = "--app";
                av[ac++] = app;
                for (int k = 1; k < e->apps && k < 64; k++) {
                    snprintf(apps[k], sizeof apps[k], "conform-%d:%s", k, e->api_secret);
                    av[ac++] = "--app";
                    av[ac++] = apps[k];
                }
            }
            av[ac] = NULL;
            execv(self, (char *const *)av);
            fprintf(stderr, "exec %s: %s\n", self, strerror(errno));
            _exit(RUN_EXIT_HARNESS);
        }
        e->pid = pid;
        uint64_t until = conform_mono_ms() + SERVE_START_MS;
        int st = 0;
        bool gone = false;
        while (conform_mono_ms() < until) {
            if (waitpid(pid, &st, WNOHANG) == pid) {
                gone = true;
                break;
            }
            if (accepts(e->port) && (!e->api || accepts(e->api_port)))
                return 0;
            usleep(20000);
        }
        e->pid = 0;
        if (!gone) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
        }
        /* a port taken between the probe and serve's start: another try */
        if (gone && WIFEXITED(st) && WEXITSTATUS(st) == RUN_EXIT_USAGE && attempt < 2)
            continue;
        char buf[1024] = "";
        FILE *f = fopen(log, "r");
        size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
        buf[n] = '\0';
        if (f)
            fclose(f);
        fprintf(stderr, "fleetsim conform: the embedded platform did not start (%s)%s%s\n",
                gone ? "it exited" : "no connection accepted in time", buf[0] ? ": " : "", buf);
        return -1;
    }
    return -1;
}
