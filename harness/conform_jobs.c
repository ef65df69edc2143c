/* Running the chosen cases of `fleetsim conform`: a case's needs checked, an
 * exchange case run by the interpreter (conform_exchange.c), a scenario case by
 * `fleetsim run` and its report read back; in this process, or spread over --jobs
 * child processes whose results come back on pipes. */
#include "harness/conform_runner.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/run.h"
#include "harness/textfile.h"
#include "sim/core/fdio.h"

void conform_rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    for (struct dirent *de; d && (de = readdir(d)) != NULL;) {
        char p[1200];
        struct stat st;
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            conform_rm_tree(p);
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
            conform_rm_tree(dir);
            return;
        }
    }
    const char *av[32];
    int ac = 0;
    char set_auth[64] = "", set_triples[1200] = "", set_idle[64] = "", set_reasm[64] = "", set_rsa[32] = "";
    av[ac++] = rc->self;
    av[ac++] = "run";
    av[ac++] = path;
    av[ac++] = "--quiet";
    av[ac++] = "--report";
    av[ac++] = rep;
    if (rc->target_url) {
        av[ac++] = "--target";
        av[ac++] = rc->target_url;
        if (rc->target_api) {
            /* the scenario's api steps call the target's API */
            av[ac++] = "--target-api";
            av[ac++] = rc->target_api;
            av[ac++] = "--api-app";
            av[ac++] = rc->api_app;
            if (rc->api_ca) {
                av[ac++] = "--api-ca";
                av[ac++] = rc->api_ca;
            }
        }
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
                conform_rm_tree(dir);
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
        if (s->reasm_timeout_ms) {
            snprintf(set_reasm, sizeof set_reasm, "platform.reasm_timeout=%llums",
                     (unsigned long long)s->reasm_timeout_ms);
            av[ac++] = "--set";
            av[ac++] = set_reasm;
        }
        if (s->rsa[0]) {
            snprintf(set_rsa, sizeof set_rsa, "platform.rsa=%s", s->rsa);
            av[ac++] = "--set";
            av[ac++] = set_rsa;
        }
    }
    av[ac] = NULL;
    uint64_t t0 = conform_mono_ms();
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
        conform_rm_tree(dir);
        return;
    }
    int st = 0;
    bool timed_out = false, stopped = false;
    /* the run drains and judges after its duration: a minute more is plenty */
    uint64_t until = t0 + c->scenario_wall_ms + 60000;
    while (waitpid(pid, &st, WNOHANG) == 0) {
        if (conform_interrupted && !stopped) {
            kill(pid, SIGINT); /* it writes its report of what it saw, then exits */
            until = conform_mono_ms() + 5000;
            stopped = true;
        }
        if (conform_mono_ms() > until) {
            kill(pid, SIGTERM);
            usleep(500000);
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            timed_out = true;
            break;
        }
        usleep(50000);
    }
    double took = (double)(conform_mono_ms() - t0) / 1000.0;
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
    conform_rm_tree(dir);
}


void conform_run_pick(const struct runctx *rc, const struct pick *p, struct case_result *out)
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

/* One job's results on its pipe: slot, the result, the wire log's length and bytes. */
static void job_main(const struct runctx *rc, const struct pick *picks, int n, int job, int jobs, int fd)
{
    conform_job_index = job;
    for (int i = job; i < n && !conform_interrupted; i += jobs) {
        struct case_result r[CONFORM_MAX_SUBS];
        conform_run_pick(rc, &picks[i], r);
        for (int k = 0; k < picks[i].n_slots; k++) {
            uint32_t len = r[k].wire_log ? (uint32_t)strlen(r[k].wire_log) : 0;
            char *log = r[k].wire_log;
            r[k].wire_log = NULL;
            int32_t idx = picks[i].slot + k;
            if (fd_write_all(fd, &idx, sizeof idx) < 0 || fd_write_all(fd, &r[k], sizeof r[k]) < 0 ||
                fd_write_all(fd, &len, sizeof len) < 0 || (len && fd_write_all(fd, log, len) < 0))
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

int conform_run_jobs(const struct runctx *rc, const struct pick *picks, int n, int jobs,
                     struct case_result *results, bool *have, int n_slots)
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
