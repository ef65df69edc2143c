/* `fleetsim conform`: the options checked, the suites read (conform_suites.c),
 * the cases chosen (--cases, --exclude, --strict, the side, --shard), the target set
 * up (the embedded platform, conform_embedded.c, started once and stopped at the
 * end; a tcp:// or tls:// target; --terminal's listener), the cases run
 * (conform_jobs.c, each case its own phone), the verdicts reported. */
#include "harness/conform_runner.h"

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
        return !(o->cases_glob && !conform_glob_any(o->cases_glob, c->id)) &&
               !(o->exclude_glob && conform_glob_any(o->exclude_glob, c->id));
    }
    /* a scenario case: its expectations chosen by their ids or by the case's */
    bool whole = o->cases_glob == NULL || conform_glob_any(o->cases_glob, c->id);
    if (o->exclude_glob && conform_glob_any(o->exclude_glob, c->id))
        return false;
    for (int k = 0; k < c->n_sub && p->n_slots < CONFORM_MAX_SUBS; k++)
        if ((whole || conform_glob_any(o->cases_glob, c->sub[k].id)) &&
            !(o->exclude_glob && conform_glob_any(o->exclude_glob, c->sub[k].id)))
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
        return conform_list_suites(o);
    struct conform_target t;
    memset(&t, 0, sizeof t);
    if (!o->dryrun && (parse_target(o, &t) < 0 || conform_api_target(o, &t) < 0))
        return RUN_EXIT_USAGE;
    t.receiver_bind = o->receiver;
    t.receiver_port = o->receiver_port;
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
    if (conform_load_all(o, suites, &n_suites) < 0) {
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
        emb.api = conform_api_wanted(picks, n);
        emb.mutant = o->platform_mutant;
        emb.apps = o->jobs;
        if (shared && conform_embedded_start(o->self, NULL, tfp, &emb) < 0)
            bad = true;
        t.port = emb.port;
        conform_api_embedded(&emb, &t);
        for (int si = 0; si < n_suites && !bad; si++) {
            bool used = false;
            for (int i = 0; i < n; i++)
                used |= picks[i].s == &suites[si];
            if (!used || !suites[si].platform_set)
                continue;
            own_emb[si].api = emb.api;
            own_emb[si].mutant = o->platform_mutant;
            own_emb[si].apps = o->jobs;
            if (conform_embedded_start(o->self, &suites[si], tfp, &own_emb[si]) < 0) {
                bad = true;
                break;
            }
            own_t[si] = t;
            own_t[si].port = own_emb[si].port;
            conform_api_embedded(&own_emb[si], &own_t[si]);
            if (tfp && suites[si].device_verification)
                own_t[si].tls = dev_tls; /* the platform asks for a device certificate: the run's device */
            for (int i = 0; i < n; i++)
                if (picks[i].s == &suites[si])
                    picks[i].t = &own_t[si];
        }
        if (bad) {
            conform_embedded_stop(&emb);
            for (int si = 0; si < n_suites; si++)
                conform_embedded_stop(&own_emb[si]);
            rc = RUN_EXIT_HARNESS;
            goto out;
        }
    } else {
        for (int si = 0; si < n_suites; si++)
            if (suites[si].platform_set) {
                char reasm[64] = "";
                if (suites[si].reasm_timeout_ms)
                    snprintf(reasm, sizeof reasm, ", reassembly timeout %llums",
                             (unsigned long long)suites[si].reasm_timeout_ms);
                if (suites[si].rsa[0])
                    snprintf(reasm + strlen(reasm), sizeof reasm - strlen(reasm), ", rsa %s", suites[si].rsa);
                fprintf(stderr, "fleetsim conform: suite %s: its platform settings (auth %s%s%s, idle timeout "
                        "%llums%s) are the embedded platform's; %s must be served that way\n", suites[si].name,
                        suites[si].auth, suites[si].triples[0] ? ", triples " : "", suites[si].triples,
                        (unsigned long long)suites[si].idle_timeout_ms, reasm, o->target);
            }
    }
    struct runctx ctx = {.t = &t, .self = o->self, .target_url = t.embedded ? NULL : o->target,
                         .target_api = t.embedded ? NULL : o->target_api, .api_app = o->api_app, .api_ca = o->api_ca};
    uint64_t t0 = conform_mono_ms();
    results = calloc((size_t)n_slots, sizeof *results);
    have = calloc((size_t)n_slots, sizeof *have);
    int jobs = o->jobs < 1 ? 1 : o->jobs > MAX_JOBS ? MAX_JOBS : o->jobs;
    if (o->terminal || o->receiver_port)
        jobs = 1; /* one listening socket (the devices', the receivers'): the cases take it in turn */
    if (jobs > n)
        jobs = n > 0 ? n : 1;
    int harness_bad = results == NULL || have == NULL;
    if (!harness_bad && jobs == 1) {
        for (int i = 0; i < n && !conform_interrupted; i++) {
            conform_run_pick(&ctx, &picks[i], &results[picks[i].slot]);
            for (int k = 0; k < picks[i].n_slots; k++) {
                have[picks[i].slot + k] = true;
                if (!o->quiet)
                    fprintf(stderr, "%-22s %s\n", results[picks[i].slot + k].id,
                            verdict_name(results[picks[i].slot + k].verdict));
            }
        }
    } else if (!harness_bad) {
        harness_bad = conform_run_jobs(&ctx, picks, n, jobs, results, have, n_slots) < 0;
    }
    if (t.embedded) {
        conform_embedded_stop(&emb);
        for (int si = 0; si < n_suites; si++)
            conform_embedded_stop(&own_emb[si]);
    }

    struct run_report r;
    char names[512] = "";
    for (int i = 0; i < n_suites; i++)
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? "," : "", suites[i].name);
    report_init(&r, "conform", names);
    r.duration_s = (double)(conform_mono_ms() - t0) / 1000.0;
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
        conform_rm_tree(tf.dir);
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
