/* fleetsim serve: the reference platform alone: the platform core and the JT/T 808 gateway. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim/cli/cmd.h"
#include "sim/core/clock.h"
#include "sim/core/stats.h"
#include "sim/core/super.h"
#include "sim/core/units.h"
#include "sim/platform/core/core.h"
#include "sim/platform/jt808/jt808_gw.h"

#define STOP_GRACE_MS 2000 /* a gateway closes its connections; the core then flushes the store */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: fleetsim serve [options]\n"
            "\n"
            "Run the reference platform until interrupted: the platform core (the store)\n"
            "and the JT/T 808 gateway in front of it; print its counters every second.\n"
            "\n"
            "  -P, --port N            TCP port, 1024-65535 (default 7999)\n"
            "  -b, --bind ADDR         IPv4 address to listen on (default 127.0.0.1)\n"
            "  -d, --db FILE           SQLite database (default fleetsim-platform.db)\n"
            "  -a, --auth MODE         open (default) or one-party\n"
            "  -T, --triples FILE      CSV of manufacturer,model,terminal_id[,colour,plate]\n"
            "  -p, --procs N           gateway processes sharing the port (default 1)\n"
            "  -I, --idle-timeout D    close silent connections after D (default 180s)\n"
            "  -s, --time-scale X      virtual time runs X times faster (default 1)\n"
            "  -v, --verbose           log every rejected frame\n"
            "  -h, --help              this text\n"
            "\n"
            "example: fleetsim serve --port 7999 --auth one-party --triples terminals.csv\n");
}

static volatile sig_atomic_t stop;
static void on_sig(int s) { stop = s; }

/* One gateway process: its listening socket among all of them. */
struct serve_gw {
    const struct gw_config *cfg;
    struct stats_shm *shm;
    int idx;
    const int *lfds;
    int core_lfd;
};

struct serve_core {
    const struct core_config *cfg;
    struct stats_shm *shm;
    int lfd;
    const int *gw_lfds;
    int n_gw;
};

static int core_child(void *arg, int ctl_fd)
{
    const struct serve_core *k = arg;
    for (int i = 0; i < k->n_gw; i++)
        close(k->gw_lfds[i]);
    return core_main(k->cfg, k->lfd, ctl_fd, &k->shm->core);
}

static int gateway_main(void *arg, int ctl_fd)
{
    const struct serve_gw *g = arg;
    close(g->core_lfd);
    for (int k = 0; k < g->cfg->procs; k++)
        if (k != g->idx)
            close(g->lfds[k]);
    return gw_main(g->cfg, g->idx, g->lfds[g->idx], ctl_fd, &g->shm->gateways[g->idx]);
}

/* A gateway that fails is said by name, and serve stops. */
static void on_gateway(void *ctx, struct super *s, int id, enum super_event ev, const struct ctl_msg *m,
                       const char *payload)
{
    int *failed = ctx;
    if (ev != SUPER_EV_FAILED)
        return;
    fprintf(stderr, "\nfleetsim serve: %s\n", super_comp(s, id)->reason);
    *failed = 1;
    (void)m;
    (void)payload;
}

int cmd_serve(int argc, char **argv)
{
    static const struct option opts[] = {
        {"port", required_argument, 0, 'P'}, {"bind", required_argument, 0, 'b'},
        {"db", required_argument, 0, 'd'}, {"auth", required_argument, 0, 'a'},
        {"triples", required_argument, 0, 'T'}, {"procs", required_argument, 0, 'p'},
        {"idle-timeout", required_argument, 0, 'I'}, {"time-scale", required_argument, 0, 's'},
        {"verbose", no_argument, 0, 'v'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
    };
    struct gw_config cfg = {.port = 7999, .idle_timeout_ms = 180000, .cmd_timeout_ms = 10000, .procs = 1};
    snprintf(cfg.bind, sizeof cfg.bind, "127.0.0.1");
    struct core_config kcfg = {.provision = jt808_frontend.provision, .provision_arg = &cfg};
    snprintf(kcfg.db, sizeof kcfg.db, "fleetsim-platform.db");
    double scale = 1.0;
    char err[256];
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "P:b:d:a:T:p:I:s:vh", opts, NULL)) != -1) {
        char *end;
        uint64_t v;
        switch (c) {
        case 'P':
            v = strtoull(optarg, &end, 10);
            if (*end || v < 1024 || v > 65535) {
                fprintf(stderr, "fleetsim serve: --port: '%s' is not 1024-65535\n", optarg);
                return 2;
            }
            cfg.port = (uint16_t)v;
            break;
        case 'b': snprintf(cfg.bind, sizeof cfg.bind, "%s", optarg); break;
        case 'd': snprintf(kcfg.db, sizeof kcfg.db, "%s", optarg); break;
        case 'T': snprintf(cfg.triples, sizeof cfg.triples, "%s", optarg); break;
        case 'v': cfg.verbose = kcfg.verbose = 1; break;
        case 'a':
            if (strcmp(optarg, "open") == 0) cfg.one_party = 0;
            else if (strcmp(optarg, "one-party") == 0) cfg.one_party = 1;
            else {
                fprintf(stderr, "fleetsim serve: --auth: '%s' is not open or one-party\n", optarg);
                return 2;
            }
            break;
        case 'p':
            v = strtoull(optarg, &end, 10);
            if (*end || v < 1 || v > STATS_MAX_GATEWAYS) {
                fprintf(stderr, "fleetsim serve: --procs: '%s' is not 1..%d\n", optarg, STATS_MAX_GATEWAYS);
                return 2;
            }
            cfg.procs = (int)v;
            break;
        case 'I':
            if (units_duration_range_ms(optarg, 1, 0, &cfg.idle_timeout_ms, err, sizeof err) < 0) {
                fprintf(stderr, "fleetsim serve: --idle-timeout: %s\n", err);
                return 2;
            }
            break;
        case 's':
            scale = strtod(optarg, &end);
            if (*end || !(scale > 0)) {
                fprintf(stderr, "fleetsim serve: --time-scale: '%s' is not a positive number\n", optarg);
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "fleetsim serve: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (cfg.one_party && !cfg.triples[0]) {
        fprintf(stderr, "fleetsim serve: --auth one-party needs --triples FILE\n");
        return 2;
    }
    if (cfg.triples[0] && access(cfg.triples, R_OK) != 0) {
        fprintf(stderr, "fleetsim serve: --triples: cannot read %s\n", cfg.triples);
        return 2;
    }
    clock_init(scale);
    struct stats_shm *shm = stats_map();
    int lfds[STATS_MAX_GATEWAYS];
    if (!shm || gw_listen(&cfg, lfds, cfg.procs, err, sizeof err) < 0) {
        fprintf(stderr, "fleetsim serve: %s\n", shm ? err : "cannot map statistics");
        return 1;
    }
    int core_lfd = core_listen(cfg.core, sizeof cfg.core, err, sizeof err);
    if (core_lfd < 0) {
        fprintf(stderr, "fleetsim serve: %s\n", err);
        return 1;
    }
    int failed = 0;
    struct super_opts so = {.on_event = on_gateway, .ctx = &failed, .stop_grace_ms = STOP_GRACE_MS};
    struct super *sup = super_new(&so);
    if (!sup) {
        fprintf(stderr, "fleetsim serve: cannot supervise the gateways: %s\n", strerror(errno));
        stats_unmap(shm);
        return 1;
    }
    struct serve_gw gws[STATS_MAX_GATEWAYS];
    int rc = 1;
    /* the core first: the gateways connect to it as they start */
    struct serve_core kc = {.cfg = &kcfg, .shm = shm, .lfd = core_lfd, .gw_lfds = lfds, .n_gw = cfg.procs};
    struct super_spec ksp = {.name = "platform core", .comm = "core", .kind = SUPER_CORE, .main = core_child, .arg = &kc,
                             .error = shm->core.error, .error_cap = sizeof shm->core.error};
    if (super_add(sup, &ksp, err, sizeof err) < 0) {
        fprintf(stderr, "fleetsim serve: %s\n", err);
        goto stop;
    }
    for (int i = 0; i < cfg.procs; i++) {
        gws[i] = (struct serve_gw){.cfg = &cfg, .shm = shm, .idx = i, .lfds = lfds, .core_lfd = core_lfd};
        char name[32];
        snprintf(name, sizeof name, "gateway %d", i);
        struct super_spec sp = {.name = name, .kind = SUPER_GATEWAY, .main = gateway_main, .arg = &gws[i],
                                .error = shm->gateways[i].error, .error_cap = sizeof shm->gateways[i].error};
        if (super_add(sup, &sp, err, sizeof err) < 0) {
            fprintf(stderr, "fleetsim serve: %s\n", err);
            goto stop;
        }
    }
    /* the children start with the default SIGTERM and SIGINT ignored; this process
     * stops them in order */
    signal(SIGINT, on_sig);
    signal(SIGTERM, on_sig);
    int spawned = super_spawn(sup, err, sizeof err);
    for (int i = 0; i < cfg.procs; i++)
        close(lfds[i]);
    close(core_lfd);
    if (spawned < 0) {
        fprintf(stderr, "fleetsim serve: %s\n", err);
        goto stop;
    }
    printf("fleetsim serve: JT/T 808 gateway on %s:%u (%s, %d process%s, db %s)\n", cfg.bind, cfg.port,
           cfg.one_party ? "one-party" : "open", cfg.procs, cfg.procs > 1 ? "es" : "", kcfg.db);
    fflush(stdout);
    int tty = isatty(STDOUT_FILENO);
    uint64_t next = clock_mono_us() + 1000000u;
    while (!stop && !failed) {
        uint64_t now = clock_mono_us();
        if (now < next) {
            super_poll(sup, (int)((next - now + 999) / 1000)); /* a signal cuts it short */
            continue;
        }
        next = now + 1000000u;
        uint64_t conns = 0, frames = 0, bad = 0, regs = 0, auths = 0, pos = 0;
        for (int i = 0; i < cfg.procs; i++) {
            struct gw_slot *g = &shm->gateways[i];
            conns += g->connections;
            frames += g->frames_in;
            bad += g->rejected;
            regs += g->c[GWC_REGISTRATIONS];
            auths += g->c[GWC_AUTHENTICATIONS];
            pos += g->c[GWC_POSITIONS];
            if (g->error[0]) {
                fprintf(stderr, "fleetsim serve: %s\n", g->error);
                g->error[0] = 0;
            }
        }
        if (shm->core.error[0]) {
            fprintf(stderr, "fleetsim serve: %s\n", shm->core.error);
            shm->core.error[0] = 0;
        }
        printf("%sconnections %" PRIu64 "  frames %" PRIu64 "  bad %" PRIu64 "  registered %" PRIu64
               "  authenticated %" PRIu64 "  positions %" PRIu64 "%s",
               tty ? "\r" : "", conns, frames, bad, regs, auths, pos, tty ? "   " : "\n");
        fflush(stdout);
    }
    rc = 0;
stop:
    /* the gateways first, so that the core stores the last of what they send it */
    super_stop(sup, SUPER_GATEWAY);
    super_wait(sup, SUPER_GATEWAY, -1);
    super_stop(sup, SUPER_ALL);
    super_wait(sup, SUPER_ALL, -1);
    for (int i = 0; i < super_count(sup); i++) {
        const struct super_comp *k = super_comp(sup, i);
        if (k->failed || (k->reaped && (k->status == -1 || !WIFEXITED(k->status) || WEXITSTATUS(k->status))))
            rc = 1;
    }
    super_free(sup);
    printf("\nfleetsim serve: stopped\n");
    stats_unmap(shm);
    return rc;
}
