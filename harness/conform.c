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
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness/run.h"
#include "harness/textfile.h"

#define MAX_SUITES 64
#define MAX_JOBS 64
#define SERVE_START_MS 15000     /* the embedded platform accepts connections by then */
#define SERVE_STOP_MS 5000       /* ... and is gone after SIGTERM by then (else SIGKILL) */

static const char *const embedded_caps[] = {"embedded", "commands"};

volatile int conform_interrupted;

static void on_stop(int sig)
{
    (void)sig;
    conform_interrupted = 1;
}

/* SIGINT and SIGTERM end the run with what it has (no SA_RESTART: a poll returns);
 * the platform and the jobs, in the same process group, get them from a terminal. */
static void catch_stop(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

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
                const struct conform_suite *s = &suites[*n_suites];
                for (int q = 0; q < *n_suites; q++) {
                    if (strcmp(suites[q].name, s->name) == 0) {
                        fprintf(stderr, "fleetsim conform: %s: suite name \"%s\" is also %s's\n", dirs[k],
                                suites[q].name, suites[q].dir);
                        bad = 1;
                    }
                    /* a report names its cases by id: one id, one case, over all the suites of a run */
                    int clashes = 0;
                    for (int a = 0; a < s->n_cases; a++)
                        for (int b = 0; b < suites[q].n_cases; b++) {
                            const char *same = conform_case_id_clash(&s->cases[a], &suites[q].cases[b]);
                            if (same && clashes++ == 0)
                                fprintf(stderr, "fleetsim conform: %s: case id %s is also the id of a case in %s",
                                        s->cases[a].file, same, suites[q].cases[b].file);
                        }
                    if (clashes > 1)
                        fprintf(stderr, " (and %d more of suite %s are suite %s's)", clashes - 1, s->name,
                                suites[q].name);
                    if (clashes) {
                        fprintf(stderr, "\n");
                        bad = 1;
                    }
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
        int cases = 0; /* a scenario case is a case per expectation */
        for (int k = 0; k < suites[i].n_cases; k++)
            cases += suites[i].cases[k].kind == CONFORM_SCENARIO ? suites[i].cases[k].n_sub : 1;
        printf("%-16s %-8s %6d  %s\n", suites[i].name, suites[i].protocol, cases, suites[i].dir);
        total += cases;
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

/* --tls: the files of the run's TLS (made for it, or the platform's given). */
struct tls_files {
    char dir[600];                  /* where the run's certificates are */
    bool tmp;                       /* a folder of the run's own, removed at the end */
    char ca[1100], cert[1100], key[1100];    /* the platform's certificate and its CA */
    char device_ca[700], device_cert[700], device_key[700], foreign_cert[700], foreign_key[700];
};

/* `fleetsim serve` on a free loopback port with a database of its own, as suite s's
 * "platform" says (NULL: the defaults), with TLS when tf is given; 0 or -1 (said). */
static int embedded_start(const char *self, const struct conform_suite *s, const struct tls_files *tf,
                          struct embedded *e)
{
    char idle[32] = "", triples[1100] = "";
    const char *av[28];
    int ac = 0;
    if (s && s->idle_timeout_ms)
        snprintf(idle, sizeof idle, "%llums", (unsigned long long)s->idle_timeout_ms);
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
            av[ac] = NULL;
            execv(self, (char *const *)av);
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

/* What every case run needs besides its case. */
struct runctx {
    const struct conform_target *t;
    const char *self;               /* the fleetsim binary */
    const char *target_url;         /* NULL: embedded */
};

static void rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    for (struct dirent *de; d && (de = readdir(d)) != NULL;) {
        char p[1200];
        struct stat st;
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            rm_tree(p);
        else
            unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

static enum verdict verdict_of(const char *name)
{
    static const char *const names[] = {"PASS", "INCONCLUSIVE", "FAIL", "ERROR"};
    for (int i = 0; i < 4; i++)
        if (name && strcmp(name, names[i]) == 0)
            return (enum verdict)i;
    return VERDICT_ERROR;
}

static void all_error(struct case_result *out, int n, const char *expected, const char *observed)
{
    for (int i = 0; i < n; i++) {
        out[i].verdict = VERDICT_ERROR;
        snprintf(out[i].expected, sizeof out[i].expected, "%s", expected);
        snprintf(out[i].observed, sizeof out[i].observed, "%s", observed);
    }
}

/* A scenario case: `fleetsim run` of its scenario (its own embedded platform, or the
 * target), its report read back; out[k] is the result of expectation subs[k].  The
 * embedded platform of a suite with platform settings is served as they say: the
 * run gets them as --set platform.* (the scenario may not set them itself,
 * conform_case.c). */
static void run_scenario_case(const struct runctx *rc, const struct conform_suite *s, const struct conform_case *c,
                              const int *subs, int n, struct case_result *out)
{
    const char *tmp = getenv("TMPDIR");
    char dir[256], path[600], rep[600], log[600];
    snprintf(dir, sizeof dir, "%s/fleetsim-conform-run-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL) {
        all_error(out, n, "a folder for the run", strerror(errno));
        return;
    }
    snprintf(rep, sizeof rep, "%s/report", dir);
    snprintf(log, sizeof log, "%s/run.log", dir);
    snprintf(path, sizeof path, "%s", c->scenario_path);
    if (!c->scenario_path[0]) {
        snprintf(path, sizeof path, "%s/scenario.json", dir);
        FILE *f = fopen(path, "w");
        if (f == NULL || fputs(c->scenario_text, f) < 0 || fclose(f) != 0) {
            all_error(out, n, "the inline scenario in a file", strerror(errno));
            rm_tree(dir);
            return;
        }
    }
    const char *av[16];
    int ac = 0;
    char set_auth[64] = "", set_triples[1200] = "", set_idle[64] = "";
    av[ac++] = rc->self;
    av[ac++] = "run";
    av[ac++] = path;
    av[ac++] = "--quiet";
    av[ac++] = "--report";
    av[ac++] = rep;
    if (rc->target_url) {
        av[ac++] = "--target";
        av[ac++] = rc->target_url;
    } else if (s->platform_set) {
        snprintf(set_auth, sizeof set_auth, "platform.auth=%s", s->auth);
        av[ac++] = "--set";
        av[ac++] = set_auth;
        if (s->triples[0]) {
            /* relative to the suite's folder; the run would take it relative to the scenario's */
            char rel[1100], full[PATH_MAX];
            snprintf(rel, sizeof rel, "%s%s%s", s->triples[0] == '/' ? "" : s->dir, s->triples[0] == '/' ? "" : "/",
                     s->triples);
            if (realpath(rel, full) == NULL) {
                char why[700];
                snprintf(why, sizeof why, "%s: %s", rel, strerror(errno));
                all_error(out, n, "the suite's platform.triples", why);
                rm_tree(dir);
                return;
            }
            snprintf(set_triples, sizeof set_triples, "platform.triples=%s", full);
            av[ac++] = "--set";
            av[ac++] = set_triples;
        }
        if (s->idle_timeout_ms) {
            snprintf(set_idle, sizeof set_idle, "platform.idle_timeout=%llums", (unsigned long long)s->idle_timeout_ms);
            av[ac++] = "--set";
            av[ac++] = set_idle;
        }
    }
    av[ac] = NULL;
    uint64_t t0 = mono_ms();
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
        }
        execv(rc->self, (char *const *)av);
        _exit(RUN_EXIT_HARNESS);
    }
    if (pid < 0) {
        all_error(out, n, "`fleetsim run` of the scenario", strerror(errno));
        rm_tree(dir);
        return;
    }
    int st = 0;
    bool timed_out = false, stopped = false;
    /* the run drains and judges after its duration: a minute more is plenty */
    uint64_t until = t0 + c->scenario_wall_ms + 60000;
    while (waitpid(pid, &st, WNOHANG) == 0) {
        if (conform_interrupted && !stopped) {
            kill(pid, SIGINT); /* it writes its report of what it saw, then exits */
            until = mono_ms() + 5000;
            stopped = true;
        }
        if (mono_ms() > until) {
            kill(pid, SIGTERM);
            usleep(500000);
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            timed_out = true;
            break;
        }
        usleep(50000);
    }
    double took = (double)(mono_ms() - t0) / 1000.0;
    char *text = NULL;
    size_t len = 0;
    snprintf(path, sizeof path, "%s/report.json", rep);
    cJSON *root = textfile_read(path, 64u << 20, &text, &len) == 0 ? cJSON_Parse(text) : NULL;
    free(text);
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(root, "cases");
    char tail[200] = "";
    if (cases == NULL) {
        FILE *f = fopen(log, "r");
        char buf[4096];
        size_t got = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
        buf[got] = '\0';
        if (f)
            fclose(f);
        while (got > 0 && (buf[got - 1] == '\n' || buf[got - 1] == ' '))
            buf[--got] = '\0';
        const char *last = strrchr(buf, '\n');
        snprintf(tail, sizeof tail, "%s", last ? last + 1 : buf);
    }
    for (int k = 0; k < n; k++) {
        const char *id = c->sub[subs[k]].id;
        const cJSON *hit = NULL;
        for (const cJSON *e = cases ? cases->child : NULL; e && !hit; e = e->next) {
            const cJSON *i = cJSON_GetObjectItemCaseSensitive(e, "id");
            if (cJSON_IsString(i) && strcmp(i->valuestring, id) == 0)
                hit = e;
        }
        if (hit == NULL) {
            out[k].verdict = VERDICT_ERROR;
            snprintf(out[k].expected, sizeof out[k].expected, "expectation %s judged by `fleetsim run`", id);
            if (stopped)
                snprintf(out[k].observed, sizeof out[k].observed, "interrupted (SIGINT or SIGTERM)");
            else if (timed_out)
                snprintf(out[k].observed, sizeof out[k].observed, "the run took over %.0fs and was stopped", took);
            else
                snprintf(out[k].observed, sizeof out[k].observed, "no verdict (run exit %d)%s%s",
                         WIFEXITED(st) ? WEXITSTATUS(st) : -1, tail[0] ? ": " : "", tail);
            continue;
        }
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(hit, "verdict");
        const cJSON *ex = cJSON_GetObjectItemCaseSensitive(hit, "expected");
        const cJSON *ob = cJSON_GetObjectItemCaseSensitive(hit, "observed");
        const cJSON *du = cJSON_GetObjectItemCaseSensitive(hit, "duration_s");
        const cJSON *wl = cJSON_GetObjectItemCaseSensitive(hit, "wire_log");
        out[k].verdict = verdict_of(cJSON_IsString(v) ? v->valuestring : NULL);
        snprintf(out[k].expected, sizeof out[k].expected, "%s", cJSON_IsString(ex) ? ex->valuestring : "");
        snprintf(out[k].observed, sizeof out[k].observed, "%s", cJSON_IsString(ob) ? ob->valuestring : "");
        out[k].duration_s = cJSON_IsNumber(du) ? du->valuedouble : took;
        out[k].wire_log = cJSON_IsString(wl) ? strdup(wl->valuestring) : NULL;
    }
    cJSON_Delete(root);
    rm_tree(dir);
}

/* One chosen case: an exchange case, or the chosen expectations of a scenario case. */
struct pick {
    const struct conform_suite *s;
    const struct conform_target *t;  /* where it runs (its suite's embedded platform), NULL: the runner's */
    const struct conform_case *c;
    int slot;                       /* its first result */
    int n_slots;                    /* 1, or the scenario expectations chosen */
    int subs[CONFORM_MAX_SUBS];     /* those expectations */
};

/* The results of p into out[0 .. p->n_slots). */
static void run_pick(const struct runctx *rc, const struct pick *p, struct case_result *out)
{
    for (int k = 0; k < p->n_slots; k++) {
        conform_case_result_init(p->s, p->c, &out[k]);
        if (p->c->kind == CONFORM_SCENARIO) {
            const struct conform_sub *sub = &p->c->sub[p->subs[k]];
            snprintf(out[k].id, sizeof out[k].id, "%s", sub->id);
            if (sub->desc[0])
                snprintf(out[k].desc, sizeof out[k].desc, "%s", sub->desc);
        }
    }
    const struct conform_target *t = p->t ? p->t : rc->t;
    if (conform_case_unmet(p->c, t, &out[0])) {
        for (int k = 1; k < p->n_slots; k++) {
            out[k].verdict = out[0].verdict;
            memcpy(out[k].expected, out[0].expected, sizeof out[k].expected);
            memcpy(out[k].observed, out[0].observed, sizeof out[k].observed);
        }
        return;
    }
    if (p->c->kind == CONFORM_SCENARIO)
        run_scenario_case(rc, p->s, p->c, p->subs, p->n_slots, out);
    else
        conform_exchange_run(p->s, p->c, t, &out[0]);
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

/* One job's results on its pipe: slot, the result, the wire log's length and bytes. */
static void job_main(const struct runctx *rc, const struct pick *picks, int n, int job, int jobs, int fd)
{
    for (int i = job; i < n && !conform_interrupted; i += jobs) {
        struct case_result r[CONFORM_MAX_SUBS];
        run_pick(rc, &picks[i], r);
        for (int k = 0; k < picks[i].n_slots; k++) {
            uint32_t len = r[k].wire_log ? (uint32_t)strlen(r[k].wire_log) : 0;
            char *log = r[k].wire_log;
            r[k].wire_log = NULL;
            int32_t idx = picks[i].slot + k;
            if (write_all(fd, &idx, sizeof idx) < 0 || write_all(fd, &r[k], sizeof r[k]) < 0 ||
                write_all(fd, &len, sizeof len) < 0 || (len && write_all(fd, log, len) < 0))
                _exit(RUN_EXIT_HARNESS);
            free(log);
        }
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

static int run_jobs(const struct runctx *rc, const struct pick *picks, int n, int jobs, struct case_result *results,
                    bool *have, int n_slots)
{
    struct reader rd[MAX_JOBS];
    int live = 0;
    memset(rd, 0, sizeof rd);
    for (int j = 0; j < MAX_JOBS; j++)
        rd[j].fd = -1;
    fflush(NULL);
    for (int j = 0; j < jobs; j++) {
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
            break;
        pid_t pid = fork();
        if (pid < 0) {
            close(p[0]);
            close(p[1]);
            break;
        }
        if (pid == 0) {
            close(p[0]);
            for (int k = 0; k < j; k++)
                if (rd[k].fd >= 0)
                    close(rd[k].fd);
            job_main(rc, picks, n, j, jobs, p[1]);
            close(p[1]);
            _exit(0);
        }
        close(p[1]);
        rd[j].fd = p[0];
        rd[j].pid = pid;
        live++;
    }
    bool forwarded = false;
    while (live > 0) {
        if (conform_interrupted && !forwarded) {
            /* a signal to this process alone: the jobs stop too */
            for (int j = 0; j < jobs; j++)
                if (rd[j].pid > 0)
                    kill(rd[j].pid, SIGTERM);
            forwarded = true;
        }
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
                    break;
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
            take_records(r, results, have, n_slots);
        }
    }
    int bad = 0;
    for (int j = 0; j < jobs; j++) {
        int st;
        if (rd[j].fd >= 0)
            close(rd[j].fd);
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

static const char *const tls_caps[] = {"tls"};
static const char *const embedded_tls_caps[] = {"embedded", "commands", "tls"};

static int parse_target(const struct conform_opts *o, struct conform_target *t)
{
    const char *s = o->target;
    memset(t, 0, sizeof t[0]);
    t->listen_fd = -1;
    bool embedded = !o->terminal && (s == NULL || strcmp(s, "embedded") == 0);
    if ((o->platform_cert || o->platform_key) && !(embedded && o->tls)) {
        fprintf(stderr, "fleetsim conform: --platform-cert and --platform-key are the embedded platform's (with --tls)\n");
        return -1;
    }
    if (o->client_ca && !(o->terminal && o->tls)) {
        fprintf(stderr, "fleetsim conform: --client-ca is for --terminal --tls (the CA device certificates are "
                "checked against)\n");
        return -1;
    }
    if (o->terminal || o->listen) {
        /* the runner is the platform: conform_main listens once the cases are chosen */
        if (!o->terminal || s || o->tls_ca) {
            fprintf(stderr, "fleetsim conform: %s\n", !o->terminal ? "--listen is for --terminal (the address "
                    "devices connect to)" : "--terminal runs the platform side: no --target or --tls-ca with it");
            return -1;
        }
        if ((o->tls_cert || o->tls_key) && !o->tls) {
            fprintf(stderr, "fleetsim conform: --terminal: --tls-cert and --tls-key go with --tls\n");
            return -1;
        }
        if (!o->tls_cert != !o->tls_key) {
            fprintf(stderr, "fleetsim conform: --tls-cert and --tls-key go together\n");
            return -1;
        }
        snprintf(t->host, sizeof t->host, "127.0.0.1");
        return 0;
    }
    if (embedded) {
        if (o->tls_cert || o->tls_key || (o->tls_ca && !o->tls)) {
            fprintf(stderr, "fleetsim conform: %s\n", o->tls ? "--tls-cert and --tls-key are for a tls:// target "
                    "(the embedded platform's device certificates are made for the run)"
                    : "--tls-ca, --tls-cert and --tls-key are for a tls:// target (or --tls)");
            return -1;
        }
        if (o->tls && (!o->platform_cert != !o->platform_key || !o->platform_cert != !o->tls_ca)) {
            fprintf(stderr, "fleetsim conform: --tls: --platform-cert, --platform-key and --tls-ca (the CA that "
                    "issued the certificate) go together\n");
            return -1;
        }
        t->embedded = true;
        t->caps = o->tls ? embedded_tls_caps : embedded_caps;
        t->n_caps = o->tls ? sizeof embedded_tls_caps / sizeof embedded_tls_caps[0]
                           : sizeof embedded_caps / sizeof embedded_caps[0];
        snprintf(t->host, sizeof t->host, "127.0.0.1");
        return 0;
    }
    bool tls = strncmp(s, "tls://", 6) == 0;
    const char *hp = tls || strncmp(s, "tcp://", 6) == 0 ? s + 6 : NULL;
    const char *colon = hp ? strrchr(hp, ':') : NULL;
    char *end = NULL;
    unsigned long port = colon ? strtoul(colon + 1, &end, 10) : 0;
    if (!hp || !colon || (size_t)(colon - hp) >= sizeof t->host || colon == hp || !end || *end || port < 1 ||
        port > 65535) {
        fprintf(stderr, "fleetsim conform: --target '%s': expected embedded, tcp://HOST:PORT or tls://HOST:PORT\n", s);
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
    if (!tls && (o->tls_ca || o->tls_cert || o->tls_key || o->tls)) {
        fprintf(stderr, "fleetsim conform: --tls, --tls-ca, --tls-cert and --tls-key are for a tls:// target\n");
        return -1;
    }
    if (tls) {
        char err[700];
        t->tls = conform_tls_new(o->tls_ca, o->tls_cert, o->tls_key, err, sizeof err);
        if (t->tls == NULL) {
            fprintf(stderr, "fleetsim conform: %s\n", err);
            return -1;
        }
        t->tls_judged = o->tls_ca != NULL;
        t->tls_alt[0] = o->tls_cert ? conform_tls_new(o->tls_ca, NULL, NULL, err, sizeof err) : t->tls;
        t->caps = tls_caps;
        t->n_caps = 1;
    }
    return 0;
}

/* --tls: the run's certificates, in REPORT/tls or a folder of the run's own. */
static int tls_setup(const struct conform_opts *o, struct tls_files *tf)
{
    char err[1200];
    if (o->report_dir) {
        snprintf(tf->dir, sizeof tf->dir, "%s/tls", o->report_dir);
    } else {
        const char *tmp = getenv("TMPDIR");
        snprintf(tf->dir, sizeof tf->dir, "%s/fleetsim-conform-tls-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (mkdtemp(tf->dir) == NULL) {
            fprintf(stderr, "fleetsim conform: cannot make a folder for the run's certificates: %s\n", strerror(errno));
            return -1;
        }
        tf->tmp = true;
    }
    if (conform_tls_make(tf->dir, err, sizeof err) < 0) {
        fprintf(stderr, "fleetsim conform: the run's certificates: %s\n", err);
        return -1;
    }
    snprintf(tf->device_ca, sizeof tf->device_ca, "%s/device-ca.crt", tf->dir);
    snprintf(tf->device_cert, sizeof tf->device_cert, "%s/device.crt", tf->dir);
    snprintf(tf->device_key, sizeof tf->device_key, "%s/device.key", tf->dir);
    snprintf(tf->foreign_cert, sizeof tf->foreign_cert, "%s/foreign.crt", tf->dir);
    snprintf(tf->foreign_key, sizeof tf->foreign_key, "%s/foreign.key", tf->dir);
    return 0;
}

/* Choose c's cases: none (false), or p filled with the results it will give. */
static bool choose(const struct conform_opts *o, const struct conform_suite *s, const struct conform_case *c,
                   struct pick *p)
{
    memset(p, 0, sizeof *p);
    p->s = s;
    p->c = c;
    if (c->kind == CONFORM_EXCHANGE) {
        p->n_slots = 1;
        return !(o->cases_glob && !glob_any(o->cases_glob, c->id)) &&
               !(o->exclude_glob && glob_any(o->exclude_glob, c->id));
    }
    /* a scenario case: its expectations chosen by their ids or by the case's */
    bool whole = o->cases_glob == NULL || glob_any(o->cases_glob, c->id);
    if (o->exclude_glob && glob_any(o->exclude_glob, c->id))
        return false;
    for (int k = 0; k < c->n_sub && p->n_slots < CONFORM_MAX_SUBS; k++)
        if ((whole || glob_any(o->cases_glob, c->sub[k].id)) &&
            !(o->exclude_glob && glob_any(o->exclude_glob, c->sub[k].id)))
            p->subs[p->n_slots++] = k;
    return p->n_slots > 0;
}

bool conform_in_shard(int pos, uint32_t k, uint32_t n)
{
    if (n <= 1)
        return true;
    return pos >= 0 && k >= 1 && k <= n && (uint32_t)pos % n == k - 1;
}

/* The id of p's k-th result. */
static const char *pick_id(const struct pick *p, int k)
{
    return p->c->kind == CONFORM_SCENARIO ? p->c->sub[p->subs[k]].id : p->c->id;
}

static void dry_line(const struct pick *p, const char *tail)
{
    for (int k = 0; k < p->n_slots; k++) {
        bool sc = p->c->kind == CONFORM_SCENARIO;
        const char *id = pick_id(p, k);
        const char *obj = sc && p->c->sub[p->subs[k]].desc[0] ? p->c->sub[p->subs[k]].desc : p->c->objective;
        printf("%-22s %-6s %-44s %s%s\n", id, p->c->level, obj, p->c->ref, tail);
    }
}

int conform_main(const struct conform_opts *o)
{
    if (o->list)
        return list_suites(o);
    struct conform_target t;
    memset(&t, 0, sizeof t);
    if (!o->dryrun && parse_target(o, &t) < 0)
        return RUN_EXIT_USAGE;
    static struct conform_suite suites[MAX_SUITES];
    int n_suites = 0, rc = RUN_EXIT_PASS;
    struct pick *picks = NULL, *skipped = NULL;
    struct case_result *results = NULL;
    bool *have = NULL;
    cJSON *chosen = NULL;
    struct embedded emb = {0};
    struct tls_files tf;
    const struct tls_files *tfp = NULL;  /* --tls with the embedded platform */
    void *dev_tls = NULL;                /* ... its client context with the run's device certificate */
    memset(&tf, 0, sizeof tf);
    static struct embedded own_emb[MAX_SUITES];      /* suites with a "platform" of their own */
    static struct conform_target own_t[MAX_SUITES];
    memset(own_emb, 0, sizeof own_emb);
    if (load_all(o, suites, &n_suites) < 0) {
        rc = RUN_EXIT_USAGE;
        goto out;
    }
    int total = 0;
    for (int i = 0; i < n_suites; i++)
        total += suites[i].n_cases;
    picks = calloc((size_t)total + 1, sizeof *picks);
    skipped = calloc((size_t)total + 1, sizeof *skipped);
    int n = 0, n_skipped = 0, n_slots = 0, n_skipped_slots = 0;
    if (!picks || !skipped) {
        rc = RUN_EXIT_HARNESS;
        goto out;
    }
    for (int i = 0; i < n_suites; i++)
        for (int k = 0; k < suites[i].n_cases; k++) {
            const struct conform_case *c = &suites[i].cases[k];
            struct pick p;
            if (!choose(o, &suites[i], c, &p))
                continue;
            if (c->terminal != (o->terminal != 0) || (strcmp(c->level, "MUST") != 0 && !o->strict)) {
                n_skipped_slots += p.n_slots;
                skipped[n_skipped++] = p;
            } else {
                p.slot = n_slots;
                n_slots += p.n_slots;
                picks[n++] = p;
            }
        }
    /* --shard K/N: every case chosen, in order, is the whole run's (report.json
     * keeps the list, so the merge of the shards can tell it has them all); this
     * process keeps the picks at positions i % N == K-1 */
    uint32_t shard = o->shards > 1 ? o->shard : 1, shards = o->shards > 1 ? o->shards : 1;
    int n_chosen = n, n_chosen_slots = n_slots;
    chosen = cJSON_CreateArray();
    for (int i = 0; chosen && i < n; i++)
        for (int k = 0; k < picks[i].n_slots; k++)
            if (!cJSON_AddItemToArray(chosen, cJSON_CreateString(pick_id(&picks[i], k)))) {
                cJSON_Delete(chosen);
                chosen = NULL;
                break;
            }
    if (chosen == NULL) {
        fprintf(stderr, "fleetsim conform: out of memory\n");
        rc = RUN_EXIT_HARNESS;
        goto out;
    }
    if (shards > 1) {
        int m = 0;
        n_slots = 0;
        for (int i = 0; i < n; i++)
            if (conform_in_shard(i, shard, shards)) {
                picks[m] = picks[i];
                picks[m].slot = n_slots;
                n_slots += picks[m].n_slots;
                m++;
            }
        n = m;
    }
    if (o->dryrun) {
        printf("%-22s %-6s %-44s %s\n", "ID", "LEVEL", "OBJECTIVE", "REF");
        for (int i = 0; i < n; i++)
            dry_line(&picks[i], "");
        for (int i = 0; i < n_skipped; i++)
            dry_line(&skipped[i], skipped[i].c->terminal != (o->terminal != 0)
                                      ? (o->terminal ? " (not run: a platform case)" : " (not run: --terminal runs it)")
                                      : " (not run without --strict)");
        if (shards > 1)
            printf("shard %u/%u: %d of the %d cases chosen to run, %d not run (SHOULD or MAY without --strict, or of "
                   "the other side)\n", shard, shards, n_slots, n_chosen_slots, n_skipped_slots);
        else
            printf("%d cases to run, %d not run (SHOULD or MAY without --strict, or of the other side)\n", n_slots,
                   n_skipped_slots);
        goto out;
    }
    if (n_chosen == 0) {
        int other = 0;
        for (int i = 0; i < n_skipped; i++)
            other += skipped[i].c->terminal != (o->terminal != 0);
        fprintf(stderr, "fleetsim conform: no case left to run (--cases, --exclude%s%s)\n",
                n_skipped > other ? ", or --strict for SHOULD and MAY cases" : "",
                !other ? "" : o->terminal ? "; the platform cases run without --terminal"
                                          : "; the terminal cases (\"side\": \"terminal\") run with --terminal");
        rc = RUN_EXIT_USAGE;
        goto out;
    }
    if (o->report_dir && mkdir_p(o->report_dir) < 0) {
        fprintf(stderr, "fleetsim conform: --report %s: %s\n", o->report_dir, strerror(errno));
        rc = RUN_EXIT_USAGE;
        goto out;
    }
    if (n == 0)
        fprintf(stderr, "fleetsim conform: shard %u/%u: none of the %d cases chosen falls to this shard (case i of "
                "the run is shard i %% %u + 1); its report holds no case\n", shard, shards, n_chosen_slots, shards);
    catch_stop();
    if (o->tls && (t.embedded || !o->tls_cert) && tls_setup(o, &tf) < 0) {
        rc = RUN_EXIT_HARNESS;
        goto out;
    }
    if (o->tls && t.embedded) {
        char err[700];
        bool given = o->platform_cert != NULL;
        snprintf(tf.ca, sizeof tf.ca, "%s%s%s", given ? o->tls_ca : tf.dir, given ? "" : "/", given ? "" : "server-ca.crt");
        snprintf(tf.cert, sizeof tf.cert, "%s%s%s", given ? o->platform_cert : tf.dir, given ? "" : "/",
                 given ? "" : "server.crt");
        snprintf(tf.key, sizeof tf.key, "%s%s%s", given ? o->platform_key : tf.dir, given ? "" : "/",
                 given ? "" : "server.key");
        if ((t.tls = conform_tls_new(tf.ca, NULL, NULL, err, sizeof err)) == NULL ||
            (t.tls_alt[1] = conform_tls_new(tf.ca, tf.foreign_cert, tf.foreign_key, err, sizeof err)) == NULL ||
            (dev_tls = conform_tls_new(tf.ca, tf.device_cert, tf.device_key, err, sizeof err)) == NULL) {
            fprintf(stderr, "fleetsim conform: %s\n", err);
            rc = given ? RUN_EXIT_USAGE : RUN_EXIT_HARNESS;
            goto out;
        }
        t.tls_alt[0] = t.tls;
        tfp = &tf;
    }
    if (o->terminal && n > 0) {
        char err[700];
        if (o->tls) {
            char cert[1100], key[1100];
            snprintf(cert, sizeof cert, "%s%s%s", o->tls_cert ? o->tls_cert : tf.dir, o->tls_cert ? "" : "/",
                     o->tls_cert ? "" : "server.crt");
            snprintf(key, sizeof key, "%s%s%s", o->tls_key ? o->tls_key : tf.dir, o->tls_key ? "" : "/",
                     o->tls_key ? "" : "server.key");
            if ((t.tls = conform_tls_server_new(cert, key, o->client_ca, err, sizeof err)) == NULL) {
                fprintf(stderr, "fleetsim conform: %s\n", err);
                rc = RUN_EXIT_USAGE;
                goto out;
            }
            t.client_ca = o->client_ca != NULL;
        }
        if (conform_terminal_listen(o->listen, &t, err, sizeof err) < 0) {
            fprintf(stderr, "fleetsim conform: %s\n", err);
            rc = RUN_EXIT_USAGE;
            goto out;
        }
        char how[1200] = "";
        if (o->tls)
            snprintf(how, sizeof how, " over TLS (%s%s%s%s)", o->tls_cert ? "certificate " : "the certificate's CA: ",
                     o->tls_cert ? o->tls_cert : tf.dir, o->tls_cert ? "" : "/server-ca.crt",
                     o->client_ca ? "; device certificates checked against --client-ca" : "");
        fprintf(stderr, "fleetsim conform: listening on %s:%u for the devices%s (each case waits %ds for one)\n",
                t.host, t.port, how, CONFORM_ACCEPT_MS / 1000);
    }
    if (t.embedded) {
        bool shared = false, bad = false;
        for (int i = 0; i < n; i++)
            shared |= !picks[i].s->platform_set;
        if (shared && embedded_start(o->self, NULL, tfp, &emb) < 0)
            bad = true;
        t.port = emb.port;
        for (int si = 0; si < n_suites && !bad; si++) {
            bool used = false;
            for (int i = 0; i < n; i++)
                used |= picks[i].s == &suites[si];
            if (!used || !suites[si].platform_set)
                continue;
            if (embedded_start(o->self, &suites[si], tfp, &own_emb[si]) < 0) {
                bad = true;
                break;
            }
            own_t[si] = t;
            own_t[si].port = own_emb[si].port;
            if (tfp && suites[si].device_verification)
                own_t[si].tls = dev_tls; /* the platform asks for a device certificate: the run's device */
            for (int i = 0; i < n; i++)
                if (picks[i].s == &suites[si])
                    picks[i].t = &own_t[si];
        }
        if (bad) {
            embedded_stop(&emb);
            for (int si = 0; si < n_suites; si++)
                embedded_stop(&own_emb[si]);
            rc = RUN_EXIT_HARNESS;
            goto out;
        }
    } else {
        for (int si = 0; si < n_suites; si++)
            if (suites[si].platform_set)
                fprintf(stderr, "fleetsim conform: suite %s: its platform settings (auth %s%s%s, idle timeout "
                        "%llums) are the embedded platform's; %s must be served that way\n", suites[si].name,
                        suites[si].auth, suites[si].triples[0] ? ", triples " : "", suites[si].triples,
                        (unsigned long long)suites[si].idle_timeout_ms, o->target);
    }
    struct runctx ctx = {.t = &t, .self = o->self, .target_url = t.embedded ? NULL : o->target};
    uint64_t t0 = mono_ms();
    results = calloc((size_t)n_slots, sizeof *results);
    have = calloc((size_t)n_slots, sizeof *have);
    int jobs = o->jobs < 1 ? 1 : o->jobs > MAX_JOBS ? MAX_JOBS : o->jobs;
    if (o->terminal)
        jobs = 1; /* one listening socket: the cases take the devices in turn */
    if (jobs > n)
        jobs = n > 0 ? n : 1;
    int harness_bad = results == NULL || have == NULL;
    if (!harness_bad && jobs == 1) {
        for (int i = 0; i < n && !conform_interrupted; i++) {
            run_pick(&ctx, &picks[i], &results[picks[i].slot]);
            for (int k = 0; k < picks[i].n_slots; k++) {
                have[picks[i].slot + k] = true;
                if (!o->quiet)
                    fprintf(stderr, "%-22s %s\n", results[picks[i].slot + k].id,
                            verdict_name(results[picks[i].slot + k].verdict));
            }
        }
    } else if (!harness_bad) {
        harness_bad = run_jobs(&ctx, picks, n, jobs, results, have, n_slots) < 0;
    }
    if (t.embedded) {
        embedded_stop(&emb);
        for (int si = 0; si < n_suites; si++)
            embedded_stop(&own_emb[si]);
    }

    struct run_report r;
    char names[512] = "";
    for (int i = 0; i < n_suites; i++)
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? "," : "", suites[i].name);
    report_init(&r, "conform", names);
    r.duration_s = (double)(mono_ms() - t0) / 1000.0;
    for (int i = 0; results && i < n; i++)
        for (int k = 0; k < picks[i].n_slots; k++) {
            struct case_result *res = &results[picks[i].slot + k];
            if (!have[picks[i].slot + k]) {
                /* interrupted before it ran, or a job that died took it with it */
                conform_case_result_init(picks[i].s, picks[i].c, res);
                if (picks[i].c->kind == CONFORM_SCENARIO)
                    snprintf(res->id, sizeof res->id, "%s", picks[i].c->sub[picks[i].subs[k]].id);
                res->verdict = VERDICT_ERROR;
                snprintf(res->expected, sizeof res->expected, "the case run");
                snprintf(res->observed, sizeof res->observed, "%s", conform_interrupted
                         ? "not run: interrupted (SIGINT or SIGTERM)" : "its job process ended before it reported");
            }
            report_add_case(&r, res);
            free(res->wire_log);
        }
    char of_shard[96] = "";
    if (shards > 1)
        snprintf(of_shard, sizeof of_shard, " (shard %u/%u of %d cases)", shard, shards, n_chosen_slots);
    snprintf(r.ledger_text, sizeof r.ledger_text, "%d cases run%s against %s, %d not run (SHOULD or MAY without "
             "--strict, or of the other side)", n_slots, of_shard, t.embedded ? (o->tls ? "the embedded platform over TLS" : "the embedded platform")
             : o->terminal ? (o->tls ? "a device over TLS" : "a device") : o->target, n_skipped_slots);
    if (r.metrics) {
        char where[96];
        snprintf(where, sizeof where, "terminal:%s:%u", t.host, t.port);
        cJSON_AddStringToObject(r.metrics, "target", t.embedded ? "embedded" : o->terminal ? where : o->target);
        cJSON *nr = cJSON_AddArrayToObject(r.metrics, "not_run");
        for (int i = 0; nr && i < n_skipped; i++)
            for (int k = 0; k < skipped[i].n_slots; k++)
                cJSON_AddItemToArray(nr, cJSON_CreateString(skipped[i].c->kind == CONFORM_SCENARIO
                                                                ? skipped[i].c->sub[skipped[i].subs[k]].id
                                                                : skipped[i].c->id));
        cJSON_AddNumberToObject(r.metrics, "jobs", jobs);
        /* which slice of which run: [{"count": N, "of": [K], "cases": [every case chosen]}] */
        cJSON *sh = cJSON_AddArrayToObject(r.metrics, "shards"), *g = cJSON_CreateObject(), *of = NULL;
        if (sh && g && cJSON_AddItemToArray(sh, g)) {
            cJSON_AddNumberToObject(g, "count", shards);
            of = cJSON_AddArrayToObject(g, "of");
            cJSON_AddItemToArray(of, cJSON_CreateNumber(shard));
            cJSON_AddItemToObject(g, "cases", chosen);
            chosen = NULL;
        } else if (!sh) {
            cJSON_Delete(g);
        }
        cJSON_AddBoolToObject(r.metrics, "tls", t.tls != NULL);
    }
    report_print_table(&r, stdout);
    for (int i = 0; i < n_skipped; i++)
        for (int k = 0; k < skipped[i].n_slots; k++)
            printf("not run: %s (%s)\n",
                   skipped[i].c->kind == CONFORM_SCENARIO ? skipped[i].c->sub[skipped[i].subs[k]].id : skipped[i].c->id,
                   skipped[i].c->terminal != (o->terminal != 0)
                       ? (o->terminal ? "a platform case; run without --terminal" : "a terminal case; --terminal runs it")
                       : strcmp(skipped[i].c->level, "SHOULD") == 0 ? "SHOULD; --strict runs it" : "MAY; --strict runs it");
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
        snprintf(path, sizeof path, "%s/report.html", o->report_dir);
        if (report_write_html(&r, path, err, sizeof err) < 0) {
            fprintf(stderr, "fleetsim conform: %s\n", err);
            harness_bad = 1;
        }
    }
    rc = run_exit_status(harness_bad ? VERDICT_ERROR : report_overall(&r));
    report_free(&r);
out:
    cJSON_Delete(chosen);
    if (t.tls)
        conform_tls_free(t.tls);
    if (t.tls_alt[0] && t.tls_alt[0] != t.tls)
        conform_tls_free(t.tls_alt[0]);
    if (t.tls_alt[1])
        conform_tls_free(t.tls_alt[1]);
    if (dev_tls)
        conform_tls_free(dev_tls);
    if (tf.tmp)
        rm_tree(tf.dir);
    if (t.terminal && t.listen_fd >= 0)
        close(t.listen_fd);
    free(results);
    free(have);
    free(picks);
    free(skipped);
    for (int i = 0; i < n_suites; i++)
        conform_suite_free(&suites[i]);
    return rc;
}
