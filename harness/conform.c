/* The runner of `fleetsim conform`: suites read, cases chosen (--cases,
 * --exclude, --strict), the target set up (the embedded platform: `fleetsim
 * serve` started once on a free loopback port and stopped at the end), the cases
 * run (in --jobs processes, each case its own phone), the verdicts reported. */
#include "harness/conform.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness/run.h"

#define MAX_SUITES 64
#define MAX_JOBS 64
#define SERVE_START_MS 15000     /* the embedded platform accepts connections by then */
#define SERVE_STOP_MS 5000       /* ... and is gone after SIGTERM by then (else SIGKILL) */

static const char *const embedded_caps[] = {"embedded", "commands"};

struct pick {
    const struct conform_suite *s;
    const struct conform_case *c;
};

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static bool is_suite(const char *dir)
{
    char p[1024];
    struct stat st;
    snprintf(p, sizeof p, "%s/suite.json", dir);
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* dir itself when it is a suite, else the suites in it (name order); count or -1. */
static int suite_dirs(const char *dir, char **out, int cap)
{
    if (is_suite(dir)) {
        out[0] = strdup(dir);
        return out[0] ? 1 : -1;
    }
    DIR *d = opendir(dir);
    if (d == NULL)
        return -1;
    int n = 0;
    for (struct dirent *de; (de = readdir(d)) != NULL && n < cap;) {
        char p[1024];
        if (de->d_name[0] == '.')
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        if (is_suite(p) && (out[n] = strdup(p)) != NULL)
            n++;
    }
    closedir(d);
    qsort(out, (size_t)n, sizeof out[0], by_name);
    return n;
}

static int load_all(const struct conform_opts *o, struct conform_suite *suites, int *n_suites)
{
    int bad = 0;
    *n_suites = 0;
    for (int i = 0; i < o->n_suites; i++) {
        char *dirs[MAX_SUITES];
        int n = suite_dirs(o->suites[i], dirs, MAX_SUITES - *n_suites);
        if (n <= 0) {
            fprintf(stderr, "fleetsim conform: %s: %s\n", o->suites[i],
                    n < 0 ? strerror(errno) : "neither a suite (a folder with a suite.json) nor a folder of suites");
            bad = 1;
            continue;
        }
        for (int k = 0; k < n; k++) {
            char err[16384];
            if (conform_suite_load(dirs[k], &suites[*n_suites], err, sizeof err) < 0) {
                fprintf(stderr, "%s\n", err);
                bad = 1;
            } else {
                for (int q = 0; q < *n_suites; q++)
                    if (strcmp(suites[q].name, suites[*n_suites].name) == 0) {
                        fprintf(stderr, "fleetsim conform: %s: suite name \"%s\" is also %s's\n", dirs[k],
                                suites[q].name, suites[q].dir);
                        bad = 1;
                    }
                (*n_suites)++;
            }
            free(dirs[k]);
        }
    }
    return bad ? -1 : 0;
}

/* GLOB or GLOB,GLOB,...: any matches. */
static bool glob_any(const char *globs, const char *id)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", globs);
    char *save = NULL;
    for (char *g = strtok_r(buf, ",", &save); g; g = strtok_r(NULL, ",", &save))
        if (fnmatch(g, id, 0) == 0)
            return true;
    return false;
}

static int list_suites(const struct conform_opts *o)
{
    struct conform_suite suites[MAX_SUITES];
    int n = 0;
    if (load_all(o, suites, &n) < 0) {
        for (int i = 0; i < n; i++)
            conform_suite_free(&suites[i]);
        return RUN_EXIT_USAGE;
    }
    printf("%-16s %-8s %6s  %s\n", "SUITE", "PROTOCOL", "CASES", "FOLDER");
    int total = 0;
    for (int i = 0; i < n; i++) {
        printf("%-16s %-8s %6d  %s\n", suites[i].name, suites[i].protocol, suites[i].n_cases, suites[i].dir);
        total += suites[i].n_cases;
        conform_suite_free(&suites[i]);
    }
    printf("%d suite%s, %d cases\n", n, n == 1 ? "" : "s", total);
    return RUN_EXIT_PASS;
}

/* --- the embedded platform ------------------------------------------------------------- */

struct embedded {
    pid_t pid;
    char dir[256];
    uint16_t port;
};

static uint16_t free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    uint16_t port = 0;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &l) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port >= 1024 ? port : 0;
}

static bool accepts(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

static void embedded_stop(struct embedded *e)
{
    if (e->pid > 0) {
        kill(e->pid, SIGTERM);
        uint64_t until = mono_ms() + SERVE_STOP_MS;
        int st;
        while (waitpid(e->pid, &st, WNOHANG) == 0) {
            if (mono_ms() > until) {
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

/* `fleetsim serve` on a free loopback port with a database of its own; 0 or -1 (said). */
static int embedded_start(const char *self, struct embedded *e)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(e->dir, sizeof e->dir, "%s/fleetsim-conform-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(e->dir) == NULL) {
        fprintf(stderr, "fleetsim conform: cannot make a folder for the embedded platform: %s\n", strerror(errno));
        e->dir[0] = '\0';
        return -1;
    }
    for (int attempt = 0; attempt < 3; attempt++) {
        e->port = free_port();
        char port[8], db[300], log[300];
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
            FILE *f = freopen(log, "w", stderr);
            (void)f;
            int null = open("/dev/null", 0);
            if (null >= 0) {
                dup2(null, STDIN_FILENO);
                dup2(null, STDOUT_FILENO);
            }
            execl(self, self, "serve", "--port", port, "--bind", "127.0.0.1", "--db", db, "--quiet", (char *)NULL);
            fprintf(stderr, "exec %s: %s\n", self, strerror(errno));
            _exit(RUN_EXIT_HARNESS);
        }
        e->pid = pid;
        uint64_t until = mono_ms() + SERVE_START_MS;
        int st = 0;
        bool gone = false;
        while (mono_ms() < until) {
            if (waitpid(pid, &st, WNOHANG) == pid) {
                gone = true;
                break;
            }
            if (accepts(e->port))
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

/* --- running ---------------------------------------------------------------------------- */

static void run_one(const struct pick *p, const struct conform_target *t, struct case_result *out)
{
    conform_case_result_init(p->s, p->c, out);
    if (conform_case_unmet(p->c, t, out))
        return;
    conform_exchange_run(p->s, p->c, t, out);
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *b = p;
    while (n > 0) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

/* One job's results on its pipe: index, the result, the wire log's length and bytes. */
static void job_main(const struct pick *picks, int n, int job, int jobs, const struct conform_target *t, int fd)
{
    for (int i = job; i < n; i += jobs) {
        struct case_result r;
        run_one(&picks[i], t, &r);
        uint32_t len = r.wire_log ? (uint32_t)strlen(r.wire_log) : 0;
        char *log = r.wire_log;
        r.wire_log = NULL;
        int32_t idx = i;
        if (write_all(fd, &idx, sizeof idx) < 0 || write_all(fd, &r, sizeof r) < 0 ||
            write_all(fd, &len, sizeof len) < 0 || (len && write_all(fd, log, len) < 0))
            _exit(RUN_EXIT_HARNESS);
        free(log);
    }
}

struct reader {
    int fd;
    pid_t pid;
    uint8_t *buf;
    size_t n, cap;
};

/* Whole records of rd's buffer into results; the rest stays. */
static void take_records(struct reader *rd, struct case_result *results, bool *have, int n)
{
    size_t head = sizeof(int32_t) + sizeof(struct case_result) + sizeof(uint32_t);
    size_t off = 0;
    while (rd->n - off >= head) {
        int32_t idx;
        uint32_t len;
        memcpy(&idx, rd->buf + off, sizeof idx);
        memcpy(&len, rd->buf + off + sizeof idx + sizeof(struct case_result), sizeof len);
        if (rd->n - off < head + len)
            break;
        if (idx >= 0 && idx < n) {
            memcpy(&results[idx], rd->buf + off + sizeof idx, sizeof(struct case_result));
            results[idx].wire_log = NULL;
            if (len) {
                results[idx].wire_log = malloc(len + 1);
                if (results[idx].wire_log) {
                    memcpy(results[idx].wire_log, rd->buf + off + head, len);
                    results[idx].wire_log[len] = '\0';
                }
            }
            have[idx] = true;
        }
        off += head + len;
    }
    memmove(rd->buf, rd->buf + off, rd->n - off);
    rd->n -= off;
}

static int run_jobs(const struct pick *picks, int n, int jobs, const struct conform_target *t,
                    struct case_result *results, bool *have)
{
    struct reader rd[MAX_JOBS];
    int live = 0;
    memset(rd, 0, sizeof rd);
    fflush(NULL);
    for (int j = 0; j < jobs; j++) {
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
            return -1;
        pid_t pid = fork();
        if (pid < 0) {
            close(p[0]);
            close(p[1]);
            return -1;
        }
        if (pid == 0) {
            close(p[0]);
            for (int k = 0; k < j; k++)
                if (rd[k].fd >= 0)
                    close(rd[k].fd);
            job_main(picks, n, j, jobs, t, p[1]);
            close(p[1]);
            _exit(0);
        }
        close(p[1]);
        rd[j].fd = p[0];
        rd[j].pid = pid;
        live++;
    }
    while (live > 0) {
        struct pollfd pf[MAX_JOBS];
        int map[MAX_JOBS], np = 0;
        for (int j = 0; j < jobs; j++)
            if (rd[j].fd >= 0) {
                pf[np] = (struct pollfd){.fd = rd[j].fd, .events = POLLIN};
                map[np++] = j;
            }
        if (poll(pf, (nfds_t)np, 1000) < 0 && errno != EINTR)
            break;
        for (int i = 0; i < np; i++) {
            if (!pf[i].revents)
                continue;
            struct reader *r = &rd[map[i]];
            if (r->cap - r->n < 65536) {
                size_t cap = r->cap ? r->cap * 2 : 1 << 20;
                uint8_t *b = realloc(r->buf, cap);
                if (b == NULL)
                    return -1;
                r->buf = b;
                r->cap = cap;
            }
            ssize_t got = read(r->fd, r->buf + r->n, r->cap - r->n);
            if (got < 0 && errno == EINTR)
                continue;
            if (got <= 0) {
                close(r->fd);
                r->fd = -1;
                live--;
                continue;
            }
            r->n += (size_t)got;
            take_records(r, results, have, n);
        }
    }
    int bad = 0;
    for (int j = 0; j < jobs; j++) {
        int st;
        if (rd[j].pid > 0 && waitpid(rd[j].pid, &st, 0) == rd[j].pid && !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
            bad = 1;
        free(rd[j].buf);
    }
    return bad ? -1 : 0;
}

static int mkdir_p(const char *path)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

static int parse_target(const char *s, struct conform_target *t)
{
    memset(t, 0, sizeof t[0]);
    if (s == NULL || strcmp(s, "embedded") == 0) {
        t->embedded = true;
        t->caps = embedded_caps;
        t->n_caps = sizeof embedded_caps / sizeof embedded_caps[0];
        snprintf(t->host, sizeof t->host, "127.0.0.1");
        return 0;
    }
    if (strncmp(s, "tls://", 6) == 0) {
        fprintf(stderr, "fleetsim conform: --target %s: tls:// targets are not run yet (exchange cases speak "
                        "plain TCP); use tcp://HOST:PORT\n", s);
        return -1;
    }
    const char *hp = strncmp(s, "tcp://", 6) == 0 ? s + 6 : NULL;
    const char *colon = hp ? strrchr(hp, ':') : NULL;
    char *end = NULL;
    unsigned long port = colon ? strtoul(colon + 1, &end, 10) : 0;
    if (!hp || !colon || (size_t)(colon - hp) >= sizeof t->host || colon == hp || !end || *end || port < 1 ||
        port > 65535) {
        fprintf(stderr, "fleetsim conform: --target '%s': expected embedded or tcp://HOST:PORT\n", s);
        return -1;
    }
    memcpy(t->host, hp, (size_t)(colon - hp));
    t->host[colon - hp] = '\0';
    struct in_addr a;
    if (inet_pton(AF_INET, t->host, &a) != 1 || (ntohl(a.s_addr) >> 24) != 127) {
        fprintf(stderr, "fleetsim conform: --target '%s': HOST is an IPv4 address on loopback (127.0.0.0/8)\n", s);
        return -1;
    }
    t->port = (uint16_t)port;
    return 0;
}

int conform_main(const struct conform_opts *o)
{
    if (o->list)
        return list_suites(o);
    struct conform_target t;
    if (!o->dryrun && parse_target(o->target, &t) < 0)
        return RUN_EXIT_USAGE;
    static struct conform_suite suites[MAX_SUITES];
    int n_suites = 0, rc = RUN_EXIT_PASS;
    if (load_all(o, suites, &n_suites) < 0) {
        rc = RUN_EXIT_USAGE;
        goto out;
    }
    int total = 0;
    for (int i = 0; i < n_suites; i++)
        total += suites[i].n_cases;
    struct pick *picks = calloc((size_t)total + 1, sizeof *picks);
    struct pick *skipped = calloc((size_t)total + 1, sizeof *skipped);
    int n = 0, n_skipped = 0;
    if (!picks || !skipped) {
        free(picks);
        free(skipped);
        rc = RUN_EXIT_HARNESS;
        goto out;
    }
    for (int i = 0; i < n_suites; i++)
        for (int k = 0; k < suites[i].n_cases; k++) {
            const struct conform_case *c = &suites[i].cases[k];
            if ((o->cases_glob && !glob_any(o->cases_glob, c->id)) ||
                (o->exclude_glob && glob_any(o->exclude_glob, c->id)))
                continue;
            struct pick p = {&suites[i], c};
            if (strcmp(c->level, "MUST") != 0 && !o->strict)
                skipped[n_skipped++] = p;
            else
                picks[n++] = p;
        }
    if (o->dryrun) {
        printf("%-22s %-6s %-44s %s\n", "ID", "LEVEL", "OBJECTIVE", "REF");
        for (int i = 0; i < n; i++)
            printf("%-22s %-6s %-44s %s\n", picks[i].c->id, picks[i].c->level, picks[i].c->objective, picks[i].c->ref);
        for (int i = 0; i < n_skipped; i++)
            printf("%-22s %-6s %-44s %s (not run without --strict)\n", skipped[i].c->id, skipped[i].c->level,
                   skipped[i].c->objective, skipped[i].c->ref);
        printf("%d cases to run, %d not run (SHOULD or MAY, without --strict)\n", n, n_skipped);
        free(picks);
        free(skipped);
        goto out;
    }
    if (n == 0) {
        fprintf(stderr, "fleetsim conform: no case left to run (--cases, --exclude%s)\n",
                n_skipped ? ", or --strict for SHOULD and MAY cases" : "");
        free(picks);
        free(skipped);
        rc = RUN_EXIT_USAGE;
        goto out;
    }
    if (o->report_dir && mkdir_p(o->report_dir) < 0) {
        fprintf(stderr, "fleetsim conform: --report %s: %s\n", o->report_dir, strerror(errno));
        free(picks);
        free(skipped);
        rc = RUN_EXIT_USAGE;
        goto out;
    }
    struct embedded emb = {0};
    if (t.embedded) {
        if (embedded_start(o->self, &emb) < 0) {
            embedded_stop(&emb);
            free(picks);
            free(skipped);
            rc = RUN_EXIT_HARNESS;
            goto out;
        }
        t.port = emb.port;
    }
    uint64_t t0 = mono_ms();
    struct case_result *results = calloc((size_t)n, sizeof *results);
    bool *have = calloc((size_t)n, sizeof *have);
    int jobs = o->jobs < 1 ? 1 : o->jobs > MAX_JOBS ? MAX_JOBS : o->jobs;
    if (jobs > n)
        jobs = n;
    int harness_bad = results == NULL || have == NULL;
    if (!harness_bad && jobs == 1) {
        for (int i = 0; i < n; i++) {
            run_one(&picks[i], &t, &results[i]);
            have[i] = true;
            if (!o->quiet)
                fprintf(stderr, "%-22s %s\n", results[i].id, verdict_name(results[i].verdict));
        }
    } else if (!harness_bad) {
        harness_bad = run_jobs(picks, n, jobs, &t, results, have) < 0;
    }
    if (t.embedded)
        embedded_stop(&emb);

    struct run_report r;
    char names[512] = "";
    for (int i = 0; i < n_suites; i++)
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? "," : "", suites[i].name);
    report_init(&r, "conform", names);
    r.duration_s = (double)(mono_ms() - t0) / 1000.0;
    for (int i = 0; results && i < n; i++) {
        if (!have[i]) {
            /* a job that died took this case with it */
            conform_case_result_init(picks[i].s, picks[i].c, &results[i]);
            results[i].verdict = VERDICT_ERROR;
            snprintf(results[i].expected, sizeof results[i].expected, "the case run by its job");
            snprintf(results[i].observed, sizeof results[i].observed, "its job process ended before it reported");
        }
        report_add_case(&r, &results[i]);
        free(results[i].wire_log);
    }
    snprintf(r.ledger_text, sizeof r.ledger_text, "%d cases run against %s, %d not run (SHOULD or MAY without "
             "--strict)", n, t.embedded ? "the embedded platform" : o->target, n_skipped);
    if (r.metrics) {
        cJSON_AddStringToObject(r.metrics, "target", t.embedded ? "embedded" : o->target);
        cJSON *nr = cJSON_AddArrayToObject(r.metrics, "not_run");
        for (int i = 0; nr && i < n_skipped; i++)
            cJSON_AddItemToArray(nr, cJSON_CreateString(skipped[i].c->id));
        cJSON_AddNumberToObject(r.metrics, "jobs", jobs);
    }
    report_print_table(&r, stdout);
    for (int i = 0; i < n_skipped; i++)
        printf("not run: %s (%s; --strict runs it)\n", skipped[i].c->id, skipped[i].c->level);
    if (o->report_dir) {
        char path[1200], err[256];
        snprintf(path, sizeof path, "%s/report.json", o->report_dir);
        if (report_write_json(&r, path, err, sizeof err) < 0) {
            fprintf(stderr, "fleetsim conform: %s\n", err);
            harness_bad = 1;
        }
        snprintf(path, sizeof path, "%s/junit.xml", o->report_dir);
        if (report_write_junit(&r, path, err, sizeof err) < 0) {
            fprintf(stderr, "fleetsim conform: %s\n", err);
            harness_bad = 1;
        }
    }
    rc = run_exit_status(harness_bad ? VERDICT_ERROR : report_overall(&r));
    report_free(&r);
    free(results);
    free(have);
    free(picks);
    free(skipped);
out:
    for (int i = 0; i < n_suites; i++)
        conform_suite_free(&suites[i]);
    return rc;
}
