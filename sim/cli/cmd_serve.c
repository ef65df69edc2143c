/* fleetsim serve: the reference platform alone: the platform core and the JT/T 808 gateway. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ev.h>
#include <getopt.h>
#include <inttypes.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/prom.h"
#include "harness/prom_http.h"
#include "harness/live_doc.h"
#include "harness/live_req.h"
#include "harness/scenario.h"
#include "harness/snapshot.h"
#include "harness/stats_srv.h"
#include "harness/textfile.h"
#include "sim/platform/north/north.h"
#include "sim/cli/cmd.h"
#include "sim/core/clock.h"
#include "sim/core/stats.h"
#include "sim/core/super.h"
#include "sim/core/super_ev.h"
#include "sim/core/units.h"
#include "sim/net/transport.h"
#include "sim/platform/core/core.h"
#include "sim/platform/core/svc.h"
#include "sim/net/tls.h"
#include "sim/platform/jt808/jt808_gw.h"
#include "sim/platform/jt808/jt808_gw_rsa.h"
#include "sim/platform/jt808/jt808_verify.h"
#include "sim/proto/pcodec.h"

#define STOP_GRACE_MS 2000 /* a gateway closes its connections; the core then flushes the store */

static void usage(void)
{
    printf(
            "usage: fleetsim serve [options]\n"
            "\n"
            "Run the reference platform until interrupted: the platform core (the store)\n"
            "and the JT/T 808 gateway in front of it; print its counters every second.\n"
            "A port that another process already serves is refused (the gateway's sockets\n"
            "use SO_REUSEPORT, so it would silently take part of that one's terminals)\n"
            "unless --join asks for exactly that.\n"
            "\n"
            "  -P, --port N            TCP port, 1024-65535 (default 7999)\n"
            "  -b, --bind ADDR         IPv4 address to listen on (default 127.0.0.1)\n"
            "  -d, --db FILE           SQLite database (default fleetsim-platform.db)\n"
            "  -a, --auth MODE         open (default), one-party or third-party\n"
            "  -T, --triples FILE      CSV of manufacturer,model,terminal_id[,colour,plate]\n"
            "      --verify-url URL    third-party: the verification endpoint (seed 000's\n"
            "                          register/auth/unregister JSON), http:// or https://\n"
            "      --verify-timeout D  third-party: an answer later than D fails closed\n"
            "                          (default 2s, real time)\n"
            "      --verify-events L   third-party: the actions asked, a list of register,\n"
            "                          auth, unregister (default all three)\n"
            "  -p, --procs N           gateway processes sharing the port (default 1)\n"
            "  -j, --join              share the port with the server already on it (another\n"
            "                          fleetsim serve): the kernel spreads new connections\n"
            "                          over both, each with its own database\n"
            "  -I, --idle-timeout D    close silent connections after D (default 180s)\n"
            "      --reasm-timeout D   a subpackaged message missing packages this long: ask\n"
            "                          the terminal for them, 0x8003 (default 30s)\n"
            "      --tls-cert FILE     serve TLS with this server certificate (PEM chain)\n"
            "      --tls-key FILE      ... and its private key (PEM)\n"
            "      --device-ca FILE    X.509 device verification: terminals must present a\n"
            "                          certificate signed by this device root CA (PEM)\n"
            "      --ocsp-responder URL  with --device-ca: OCSP for device certificates against\n"
            "                          this responder (http://host:port/); revoked: refused\n"
            "      --staple-responder URL  OCSP stapling: the server certificate's status from\n"
            "                          this responder, sent to clients that ask for it\n"
            "      --trusted-ca FILE   ... the server root CA that issued the certificate\n"
            "      --rsa MODE          JT/T 808 RSA: on (default: the gateway's key goes in\n"
            "                          0x8A00, encrypted bodies from terminals are decrypted),\n"
            "                          encrypt (also encrypt for terminals that sent 0x0A00)\n"
            "                          or off\n"
            "      --rsa-key FILE      the gateway's 1024-bit RSA private key (PEM; default:\n"
            "                          one made at start)\n"
            "  -s, --time-scale X      virtual time runs X times faster (default 1)\n"
            "  -i, --status-interval D counters line period (default 1s)\n"
            "  -q, --quiet             no counters lines\n"
            "      --prometheus ADDR   serve the platform's metrics at http://ADDR/metrics\n"
            "                          (PORT, :PORT or HOST:PORT; loopback unless HOST says otherwise)\n"
            "      --api ADDR          the northbound API (docs/api.md) at http://ADDR (PORT,\n"
            "                          :PORT or HOST:PORT): login, then the calls of the\n"
            "                          platform's services (a device: GET\n"
            "                          /iocm/app/dm/v1.4.0/devices/ID)\n"
            "      --app ID:SECRET     an application that may log in to the API (repeat it)\n"
            "      --api-cert FILE     the API over HTTPS: its certificate (PEM), with --api-key FILE\n"
            "                          its private key\n"
            "      --short-connection PROTO  devices of PROTO (jt808) are short-connection ones:\n"
            "                          they take cached commands (expireTime > 0), sent when\n"
            "                          they come online or report (docs/api.md, Commands)\n"
            "      --profile FILE      a product model the platform knows (docs/profiles.md;\n"
            "                          repeat it): a device registered with its productId\n"
            "                          has a shadow of it (JT/T 808 terminals without one:\n"
            "                          the built-in profiles/jt808-terminal.json)\n"
            "      --mutant RULE       break RULE on purpose, to show a conformance suite catches it\n"
            "                          (docs/conformance.md, Mutants; --mutant list names them)\n"
            "      --push-ca FILE      the CA certificates (PEM) HTTPS push callbacks are verified\n"
            "                          with (default: the system's; never unverified)\n"
            "      --stats PATH        the platform's snapshot, live, on a unix socket at PATH: a\n"
            "                          JSON line each status interval, with the latest frames\n"
            "                          the gateways rejected or read with a deviation\n"
            "                          (docs/live.md); `fleetsim top PATH` shows it\n"
            "  -v, --verbose           log every rejected frame\n"
            "  -h, --help              this text\n"
            "\n"
            "exit status:\n"
            "  0  stopped by SIGINT or SIGTERM, every process cleanly\n"
            "  2  usage or input error: bad option, database, triples file, or a port in\n"
            "     use (nothing started)\n"
            "  3  harness error: a process of the platform died or could not start\n"
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

/* A process that fails stops serve.  The first failure is said once the others
 * had a moment to show (cause_of); later ones, while stopping, at once. */
struct serve_watch {
    int failed;                   /* a component failed: serve stops */
    int first;                    /* the first that did, -1 none */
    int said;                     /* the cause is on stderr: say the rest as they come */
};

static void on_gateway(void *ctx, struct super *s, int id, enum super_event ev, const struct ctl_msg *m,
                       const char *payload)
{
    struct serve_watch *w = ctx;
    if (ev != SUPER_EV_FAILED)
        return;
    if (w->said)
        fprintf(stderr, "fleetsim serve: %s\n", super_comp(s, id)->reason);
    else if (w->first < 0)
        w->first = id;
    w->failed = 1;
    (void)m;
    (void)payload;
}

/* When the platform core dies its gateways fail too ("the platform core went
 * away"), and a gateway's word can arrive before the core's death is seen: give
 * the core a moment to show, then name it as the cause, or else the first. */
#define CAUSE_GRACE_MS 300
static void cause_of(struct super *sup, struct serve_watch *w)
{
    uint64_t until = clock_mono_us() + CAUSE_GRACE_MS * 1000u;
    while (!super_failed(sup, SUPER_CORE) && clock_mono_us() < until)
        super_poll(sup, 20);
    const struct super_comp *core = super_failed(sup, SUPER_CORE);
    fprintf(stderr, "\nfleetsim serve: %s\n", core ? core->reason : super_comp(sup, w->first)->reason);
    for (int i = 0; i < super_count(sup); i++) {
        const struct super_comp *k = super_comp(sup, i);
        if (k->failed && k != core && (core || i != w->first))
            fprintf(stderr, "fleetsim serve: %s\n", k->reason);
    }
    w->said = 1;
}

/* The port the gateways are to listen on: refused when another process serves it,
 * unless asked to join one that shares it.  0, or the exit status. */
static int check_port(const struct gw_config *cfg, int join)
{
    struct sockaddr_storage ss;
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    memset(&ss, 0, sizeof ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(cfg->port);
    if (inet_pton(AF_INET, cfg->bind, &a->sin_addr) != 1)
        return cmd_usage_error("serve", "--bind: '%s' is not an IPv4 address", cfg->bind);
    char addr[96];
    snprintf(addr, sizeof addr, "%s:%u", cfg->bind, cfg->port);
    int e = 0;
    switch (listen_port_use(SOCK_STREAM, &ss, &e)) {
    case LISTEN_PORT_FREE:
        return 0;
    case LISTEN_PORT_SHARED:
        if (join)
            return 0;
        fprintf(stderr, "fleetsim serve: port %u is already served by another process; --join to share it\n",
                cfg->port);
        return RUN_EXIT_USAGE;
    case LISTEN_PORT_TAKEN:
        fprintf(stderr, "fleetsim serve: port %u is already in use by another process, which does not share it%s\n",
                cfg->port, join ? " (--join cannot)" : "");
        return RUN_EXIT_USAGE;
    default:
        fprintf(stderr, "fleetsim serve: cannot listen on %s: %s\n", addr, strerror(e));
        return RUN_EXIT_USAGE;
    }
}

/* The parent's loop: the supervisor, the counters line each status interval,
 * the --prometheus and --stats endpoints. */
struct serve_loop {
    struct ev_loop *loop;
    struct super *sup;
    struct super_ev sup_ev;
    ev_timer tick;
    struct stats_shm *shm;
    const struct gw_config *cfg;
    struct serve_watch *watch;
    struct prom_http *prom;
    struct run_snapshot *snap;   /* refreshed each tick when an endpoint shows it */
    struct prom_buf *text;
    struct stats_srv *stats;
    uint64_t started;
    int quiet, tty;
};

static void serve_tick(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct serve_loop *L = t->data;
    struct stats_shm *shm = L->shm;
    uint64_t now = clock_mono_us();
    uint64_t conns = 0, frames = 0, bad = 0, regs = 0, auths = 0, pos = 0;
    for (int i = 0; i < L->cfg->procs; i++) {
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
    if (L->snap) {
        snapshot_take(L->snap, shm, 0, L->cfg->procs);
        L->snap->embedded = 1;
        L->snap->wall_s = (double)(now - L->started) / 1e6;
        L->snap->virtual_s = (double)clock_now_us() / 1e6;
    }
    if (L->prom && prom_render(L->text, L->snap, NULL, &jt808_frontend, (double)(now - L->started) / 1e6) == 0)
        prom_http_publish(L->prom, L->text->p, L->text->len);
    stats_srv_publish(L->stats);
    if (!L->quiet) {
        printf("%sconnections %" PRIu64 "  frames %" PRIu64 "  bad %" PRIu64 "  registered %" PRIu64
               "  authenticated %" PRIu64 "  positions %" PRIu64 "%s",
               L->tty ? "\r" : "", conns, frames, bad, regs, auths, pos, L->tty ? "   " : "\n");
        fflush(stdout);
    }
    (void)loop;
    (void)revents;
}

/* --stats: the platform's snapshot with its "live" member (docs/live.md). */
static char *serve_document(void *ctx, int fresh, size_t *len)
{
    struct serve_loop *L = ctx;
    if (fresh) {
        snapshot_take(L->snap, L->shm, 0, L->cfg->procs);
        L->snap->embedded = 1;
        L->snap->wall_s = (double)(clock_mono_us() - L->started) / 1e6;
        L->snap->virtual_s = (double)clock_now_us() / 1e6;
    }
    cJSON *j = snapshot_to_json(L->snap);
    cJSON *live = j ? cJSON_AddObjectToObject(j, "live") : NULL;
    if (live) {
        struct live_doc_src src = {.shm = L->shm, .n_workers = 0, .n_gw = L->cfg->procs,
                                   .start_us = 0, .fe = &jt808_frontend};
        cJSON_AddItemToObject(live, "events", live_doc_events(&src));
        cJSON_AddArrayToObject(live, "verdicts");
        cJSON_AddArrayToObject(live, "paused");
        cJSON_AddObjectToObject(live, "active");
        cJSON_AddObjectToObject(live, "max");
    }
    return live_json_line(j, len);
}

/* A request is parsed as a run parses it (so a bad one gets the same error),
 * but every op acts on fleets, and serve runs none. */
static void serve_request(void *ctx, const char *line, size_t len, int client, uint32_t gen)
{
    struct serve_loop *L = ctx;
    struct live_req q;
    char err[300];
    if (live_req_parse(line, len, &q, err, sizeof err) < 0) {
        stats_srv_reply(L->stats, client, gen, live_reply_error(q.id, err));
        return;
    }
    snprintf(err, sizeof err, "serve runs no fleets: op \"%s\" is for a run's socket (fleetsim run --stats)",
             live_op_name(q.op));
    stats_srv_reply(L->stats, client, gen, live_reply_error(q.id, err));
}

static const struct stats_srv_ops serve_stats_ops = {.document = serve_document, .request = serve_request};

/* --profile FILE: a product model into kcfg (the core inherits them); 0, or -1 said. */
#define SERVE_MAX_PROFILES 64
static int add_profile(struct core_config *kcfg, const char *path)
{
    static const struct pc_product *models[SERVE_MAX_PROFILES];
    char *text = NULL, err[700];
    size_t len = 0;
    if (kcfg->n_products >= SERVE_MAX_PROFILES) {
        fprintf(stderr, "fleetsim serve: --profile %s: more than %d profiles\n", path, SERVE_MAX_PROFILES);
        return -1;
    }
    if (textfile_read(path, 4u << 20, &text, &len) != 0) {
        fprintf(stderr, "fleetsim serve: --profile %s: cannot read it\n", path);
        return -1;
    }
    struct pc_product *p = NULL;
    int rc = pc_product_parse_text(text, len, path, &p, err, sizeof err);
    free(text);
    if (rc != 0) {
        fprintf(stderr, "fleetsim serve: --profile %s\n", err);
        return -1;
    }
    for (int i = 0; i < kcfg->n_products; i++)
        if (strcmp(models[i]->id, p->id) == 0) {
            fprintf(stderr, "fleetsim serve: --profile %s: product %s is given twice\n", path, p->id);
            pc_product_free(p);
            return -1;
        }
    models[kcfg->n_products++] = p; /* the process's: the core forked from it holds them */
    kcfg->products = models;
    return 0;
}

/* --api-cert and --api-key: PEM texts read now, checked to be a certificate and its
 * key (the core's TLS starts after the fork, where an error would come late). */
static int api_pem_pair(const char *cert_file, const char *key_file, char **cert, char **key, char *why, size_t cap)
{
    size_t len;
    if (textfile_read(cert_file, 1u << 20, cert, &len) != 0) {
        snprintf(why, cap, "--api-cert %s: cannot read it", cert_file);
        return -1;
    }
    if (textfile_read(key_file, 1u << 20, key, &len) != 0) {
        snprintf(why, cap, "--api-key %s: cannot read it", key_file);
        return -1;
    }
    BIO *cb = BIO_new_mem_buf(*cert, -1), *kb = BIO_new_mem_buf(*key, -1);
    X509 *x = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
    EVP_PKEY *k = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
    int rc = 0;
    if (!x) {
        snprintf(why, cap, "--api-cert %s: not a PEM certificate", cert_file);
        rc = -1;
    } else if (!k) {
        snprintf(why, cap, "--api-key %s: not a PEM private key (without a passphrase)", key_file);
        rc = -1;
    } else if (X509_check_private_key(x, k) != 1) {
        snprintf(why, cap, "--api-key %s: not the key of --api-cert %s", key_file, cert_file);
        rc = -1;
    }
    X509_free(x);
    EVP_PKEY_free(k);
    BIO_free(cb);
    BIO_free(kb);
    ERR_clear_error();
    return rc;
}

int cmd_serve(int argc, char **argv)
{
    static const struct option opts[] = {
        {"port", required_argument, 0, 'P'}, {"bind", required_argument, 0, 'b'},
        {"db", required_argument, 0, 'd'}, {"auth", required_argument, 0, 'a'},
        {"triples", required_argument, 0, 'T'}, {"procs", required_argument, 0, 'p'},
        {"idle-timeout", required_argument, 0, 'I'}, {"time-scale", required_argument, 0, 's'},
        {"join", no_argument, 0, 'j'}, {"status-interval", required_argument, 0, 'i'},
        {"quiet", no_argument, 0, 'q'}, {"verbose", no_argument, 0, 'v'}, {"help", no_argument, 0, 'h'},
        {"prometheus", required_argument, 0, 'M'},
        {"tls-cert", required_argument, 0, 'C'}, {"tls-key", required_argument, 0, 'K'},
        {"device-ca", required_argument, 0, 'A'}, {"ocsp-responder", required_argument, 0, 'O'},
        {"staple-responder", required_argument, 0, 'S'}, {"trusted-ca", required_argument, 0, 'R'},
        {"verify-url", required_argument, 0, 'U'}, {"verify-timeout", required_argument, 0, 'W'},
        {"verify-events", required_argument, 0, 'E'},
        {"rsa", required_argument, 0, 'r'}, {"rsa-key", required_argument, 0, 'k'},
        {"reasm-timeout", required_argument, 0, 'G'}, {"stats", required_argument, 0, 'X'},
        {"api", required_argument, 0, 'N'}, {"app", required_argument, 0, 'Y'},
        {"short-connection", required_argument, 0, 'Z'},
        {"profile", required_argument, 0, 'F'},
        {"push-ca", required_argument, 0, 'H'},  {"api-cert", required_argument, 0, 0x302},
        {"api-key", required_argument, 0, 0x303},  {"mutant", required_argument, 0, 0x301},
        {0, 0, 0, 0},
    };
    struct gw_config cfg = {.port = 7999, .idle_timeout_ms = 180000, .cmd_timeout_ms = 10000, .procs = 1,
                            .verify_timeout_ms = 2000, .verify_events = JT808_VERIFY_ALL};
    snprintf(cfg.bind, sizeof cfg.bind, "127.0.0.1");
    static struct north_auth api_apps; /* --app: in memory the core inherits */
    memset(&api_apps, 0, sizeof api_apps);
    const char *api_cert_file = NULL, *api_key_file = NULL;
    struct core_config kcfg = {.provision = jt808_frontend.provision, .provision_arg = &cfg, .api_apps = &api_apps,
                               .maps = {{jt808_frontend.name, jt808_frontend.map_command}}};
    snprintf(kcfg.db, sizeof kcfg.db, "fleetsim-platform.db");
    double scale = 1.0;
    int join = 0, quiet = 0;
    const char *prometheus = NULL, *stats_path = NULL;
    struct stats_srv *stats = NULL;  /* --stats: the live statistics socket */
    struct serve_loop L = {0};
    struct prom_http *prom = NULL;   /* --prometheus: the endpoint, the snapshot it renders */
    struct run_snapshot *snap = NULL;
    struct prom_buf text = {0};
    uint64_t interval_ms = 1000;
    const char *rsa_mode = "on", *rsa_key = "";
    char err[256];
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":P:b:d:a:T:p:I:s:ji:qvh", opts, NULL)) != -1) {
        char *end;
        uint64_t v;
        switch (c) {
        case 'P':
            v = strtoull(optarg, &end, 10);
            if (*end || v < 1024 || v > 65535)
                return cmd_usage_error("serve", "--port: '%s' is not 1024-65535", optarg);
            cfg.port = (uint16_t)v;
            break;
        case 'b': snprintf(cfg.bind, sizeof cfg.bind, "%s", optarg); break;
        case 'd': snprintf(kcfg.db, sizeof kcfg.db, "%s", optarg); break;
        case 'T': snprintf(cfg.triples, sizeof cfg.triples, "%s", optarg); break;
        case 'v': cfg.verbose = kcfg.verbose = 1; break;
        case 'j': join = 1; break;
        case 'q': quiet = 1; break;
        case 'M': prometheus = optarg; break;
        case 'X': stats_path = optarg; break;
        case 'N': {
            char host[64];
            uint16_t p;
            if (north_addr(optarg, host, sizeof host, &p, err, sizeof err) < 0)
                return cmd_usage_error("serve", "--api: %s", err);
            snprintf(kcfg.api, sizeof kcfg.api, "%s", optarg);
            break;
        }
        case 0x302: api_cert_file = optarg; break;
        case 0x303: api_key_file = optarg; break;
        case 0x301: {
            if (strcmp(optarg, "list") == 0) {
                for (const struct svc_mutant_info *m = svc_mutants; m->name; m++)
                    printf("%-24s %s\n", m->name, m->rule);
                return RUN_EXIT_PASS;
            }
            if (!svc_mutant_find(optarg))
                return cmd_usage_error("serve", "--mutant: '%s' is not a rule the platform can break "
                                       "(fleetsim serve --mutant list)", optarg);
            snprintf(kcfg.mutant, sizeof kcfg.mutant, "%s", optarg);
            break;
        }
        case 'H':
            if (access(optarg, R_OK) < 0)
                return cmd_usage_error("serve", "--push-ca: cannot read '%s': %s", optarg, strerror(errno));
            if (strlen(optarg) >= sizeof kcfg.push_ca)
                return cmd_usage_error("serve", "--push-ca: the path is over %zu bytes", sizeof kcfg.push_ca - 1);
            snprintf(kcfg.push_ca, sizeof kcfg.push_ca, "%s", optarg);
            break;
        case 'Y':
            if (north_auth_add_spec(&api_apps, optarg, err, sizeof err) < 0)
                return cmd_usage_error("serve", "--app: %s", err);
            break;
        case 'Z':
            if (strcmp(optarg, jt808_frontend.name) != 0)
                return cmd_usage_error("serve", "--short-connection: '%s' is not a protocol serve speaks (jt808)", optarg);
            snprintf(kcfg.short_conn, sizeof kcfg.short_conn, "%s", optarg);
            break;
        case 'F':
            if (add_profile(&kcfg, optarg) < 0)
                return RUN_EXIT_USAGE;
            break;
        case 'C': snprintf(cfg.tls.cert, sizeof cfg.tls.cert, "%s", optarg); break;
        case 'K': snprintf(cfg.tls.key, sizeof cfg.tls.key, "%s", optarg); break;
        case 'A': snprintf(cfg.tls.ca, sizeof cfg.tls.ca, "%s", optarg); break;
        case 'O': snprintf(cfg.tls.ocsp_url, sizeof cfg.tls.ocsp_url, "%s", optarg); break;
        case 'S': snprintf(cfg.tls.staple_url, sizeof cfg.tls.staple_url, "%s", optarg); break;
        case 'R': snprintf(cfg.tls.staple_ca, sizeof cfg.tls.staple_ca, "%s", optarg); break;
        case 'r':
            if (strcmp(optarg, "on") != 0 && strcmp(optarg, "encrypt") != 0 && strcmp(optarg, "off") != 0)
                return cmd_usage_error("serve", "--rsa: '%s' is not on, encrypt or off", optarg);
            rsa_mode = optarg;
            break;
        case 'k': rsa_key = optarg; break;
        case 'a':
            cfg.one_party = strcmp(optarg, "one-party") == 0;
            cfg.third_party = strcmp(optarg, "third-party") == 0;
            if (!cfg.one_party && !cfg.third_party && strcmp(optarg, "open") != 0)
                return cmd_usage_error("serve", "--auth: '%s' is not open, one-party or third-party", optarg);
            break;
        case 'U':
            if ((strncmp(optarg, "http://", 7) != 0 && strncmp(optarg, "https://", 8) != 0) ||
                strlen(optarg) >= sizeof cfg.verify_url)
                return cmd_usage_error("serve", "--verify-url: '%s' is not an http:// or https:// URL of at most %zu bytes",
                                       optarg, sizeof cfg.verify_url - 1);
            snprintf(cfg.verify_url, sizeof cfg.verify_url, "%s", optarg);
            break;
        case 'W':
            if (units_duration_range_ms(optarg, 1000, 600000000, &cfg.verify_timeout_ms, err, sizeof err) < 0)
                return cmd_usage_error("serve", "--verify-timeout: %s", err);
            break;
        case 'E':
            if (jt808_verify_events_parse(optarg, &cfg.verify_events, err, sizeof err) < 0 || !cfg.verify_events)
                return cmd_usage_error("serve", "--verify-events: %s", err[0] ? err : "no action listed");
            break;
        case 'p':
            v = strtoull(optarg, &end, 10);
            if (*end || v < 1 || v > STATS_MAX_GATEWAYS)
                return cmd_usage_error("serve", "--procs: '%s' is not 1..%d", optarg, STATS_MAX_GATEWAYS);
            cfg.procs = (int)v;
            break;
        case 'I':
            if (units_duration_range_ms(optarg, 1, 0, &cfg.idle_timeout_ms, err, sizeof err) < 0) {
                fprintf(stderr, "fleetsim serve: --idle-timeout: %s\n", err);
                return 2;
            }
            break;
        case 'G':
            if (units_duration_range_ms(optarg, 1, 0, &cfg.reasm_timeout_ms, err, sizeof err) < 0) {
                fprintf(stderr, "fleetsim serve: --reasm-timeout: %s\n", err);
                return 2;
            }
            break;
        case 'i':
            if (units_duration_ms(optarg, &interval_ms, err, sizeof err) < 0)
                return cmd_usage_error("serve", "--status-interval: %s", err);
            if (interval_ms < 100)
                return cmd_usage_error("serve", "--status-interval: '%s' is less than 100ms", optarg);
            break;
        case 's':
            scale = strtod(optarg, &end);
            if (*end || !(scale > 0))
                return cmd_usage_error("serve", "--time-scale: '%s' is not a positive number", optarg);
            break;
        case 'h': usage(); return 0;
        default: return cmd_bad_option("serve", opts, c, argv);
        }
    }
    if (optind != argc)
        return cmd_usage_error("serve", "unexpected argument '%s'", argv[optind]);
    if (cfg.one_party && !cfg.triples[0])
        return cmd_usage_error("serve", "--auth one-party needs --triples FILE");
    if (kcfg.api[0] && !api_apps.n)
        return cmd_usage_error("serve", "--api needs an application to log in: --app ID:SECRET");
    if (!kcfg.api[0] && api_apps.n)
        return cmd_usage_error("serve", "--app is for --api ADDR");
    if (!api_cert_file != !api_key_file)
        return cmd_usage_error("serve", "--api-cert FILE and --api-key FILE go together");
    if (api_cert_file && !kcfg.api[0])
        return cmd_usage_error("serve", "--api-cert is for --api ADDR");
    static char *api_cert, *api_key;
    if (api_cert_file) {
        char why_pem[300];
        if (api_pem_pair(api_cert_file, api_key_file, &api_cert, &api_key, why_pem, sizeof why_pem) < 0) {
            fprintf(stderr, "fleetsim serve: %s\n", why_pem);
            return RUN_EXIT_USAGE;
        }
        kcfg.api_cert_pem = api_cert;
        kcfg.api_key_pem = api_key;
    }
    if (cfg.third_party != !!cfg.verify_url[0])
        return cmd_usage_error("serve", "--auth third-party and --verify-url URL go together");
    /* everything the processes will need, before any starts */
    char why[1200];
    int fd = cfg.triples[0] ? open(cfg.triples, O_RDONLY | O_CLOEXEC) : -1;
    if (cfg.triples[0] && fd < 0) {
        fprintf(stderr, "fleetsim serve: --triples %s: cannot read it: %s\n", cfg.triples, strerror(errno));
        return RUN_EXIT_USAGE;
    }
    if (fd >= 0)
        close(fd);
    if (cfg.tls.ocsp_url[0] && (!cfg.tls.ca[0] || strncmp(cfg.tls.ocsp_url, "http://", 7) != 0))
        return cmd_usage_error("serve", "--ocsp-responder needs --device-ca and an http://host:port/ URL");
    if (!cfg.tls.staple_url[0] != !cfg.tls.staple_ca[0] || (cfg.tls.staple_url[0] && strncmp(cfg.tls.staple_url, "http://", 7) != 0))
        return cmd_usage_error("serve", "--staple-responder http://host:port/ and --trusted-ca FILE go together");
    if ((cfg.tls.cert[0] || cfg.tls.key[0] || cfg.tls.ca[0]) && tls_opts_check(&cfg.tls, 1, why, sizeof why) < 0) {
        fprintf(stderr, "fleetsim serve: %s\n", why);
        return RUN_EXIT_USAGE;
    }
    if (gw_rsa_configure(&cfg, rsa_mode, rsa_key, why, sizeof why) < 0) {
        fprintf(stderr, "fleetsim serve: --rsa-key %s\n", why);
        return RUN_EXIT_USAGE;
    }
    if (run_check_db(kcfg.db, why, sizeof why) < 0) {
        fprintf(stderr, "fleetsim serve: --db %s: %s\n", kcfg.db, why);
        return RUN_EXIT_USAGE;
    }
    int refused = check_port(&cfg, join);
    if (refused)
        return refused;
    if (kcfg.api[0]) {
        /* the core listens once it runs: a port taken is said now, before anything starts */
        char host[64];
        uint16_t p = 0;
        north_addr(kcfg.api, host, sizeof host, &p, why, sizeof why);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(p)};
        inet_pton(AF_INET, host, &a.sin_addr);
        int probe = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int taken = probe >= 0 && bind(probe, (struct sockaddr *)&a, sizeof a) < 0;
        int e = errno;
        if (probe >= 0)
            close(probe);
        if (taken) {
            fprintf(stderr, "fleetsim serve: --api %s: cannot listen there: %s\n", kcfg.api, strerror(e));
            return RUN_EXIT_USAGE;
        }
    }
    if (stats_path && !(stats = stats_srv_open(stats_path, why, sizeof why))) {
        fprintf(stderr, "fleetsim serve: %s\n", why);
        return RUN_EXIT_USAGE;
    }
    clock_init(scale);
    struct stats_shm *shm = stats_map();
    int lfds[STATS_MAX_GATEWAYS];
    if (!shm || gw_listen(&cfg, lfds, cfg.procs, err, sizeof err) < 0) {
        fprintf(stderr, "fleetsim serve: %s\n", shm ? err : "cannot map statistics");
        if (shm)
            stats_unmap(shm);
        stats_srv_close(stats);
        return RUN_EXIT_HARNESS;
    }
    int core_lfd = core_listen(cfg.core, sizeof cfg.core, err, sizeof err);
    if (core_lfd < 0) {
        fprintf(stderr, "fleetsim serve: %s\n", err);
        for (int i = 0; i < cfg.procs; i++)
            close(lfds[i]);
        stats_unmap(shm);
        stats_srv_close(stats);
        return RUN_EXIT_HARNESS;
    }
    struct serve_watch watch = {.first = -1};
    struct super_opts so = {.on_event = on_gateway, .ctx = &watch, .stop_grace_ms = STOP_GRACE_MS};
    struct super *sup = super_new(&so);
    if (!sup) {
        fprintf(stderr, "fleetsim serve: cannot supervise the gateways: %s\n", strerror(errno));
        for (int i = 0; i < cfg.procs; i++)
            close(lfds[i]);
        close(core_lfd);
        stats_unmap(shm);
        stats_srv_close(stats);
        return RUN_EXIT_HARNESS;
    }
    struct serve_gw gws[STATS_MAX_GATEWAYS];
    int rc = RUN_EXIT_HARNESS;
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
    printf("fleetsim serve: JT/T 808 gateway on %s:%u (%s, %d process%s, db %s)%s\n", cfg.bind, cfg.port,
           cfg.one_party ? "one-party" : cfg.third_party ? "third-party" : "open", cfg.procs, cfg.procs > 1 ? "es" : "", kcfg.db,
           join ? ", joining the server already on the port" : "");
    fflush(stdout);
    /* after the last fork: the endpoint's thread must be in no child */
    L = (struct serve_loop){.sup = sup, .shm = shm, .cfg = &cfg, .watch = &watch, .quiet = quiet,
                            .tty = isatty(STDOUT_FILENO), .started = clock_mono_us(), .stats = stats};
    if (prometheus) {
        prom = prom_http_start(prometheus, err, sizeof err);
        if (!prom) {
            fprintf(stderr, "fleetsim serve: --prometheus %s\n", err);
            rc = RUN_EXIT_USAGE;
            goto stop;
        }
        printf("fleetsim serve: metrics at http://%s/metrics\n", prometheus);
        fflush(stdout);
    }
    if (prom || stats) {
        snap = snapshot_new();
        if (!snap) {
            fprintf(stderr, "fleetsim serve: out of memory\n");
            goto stop;
        }
        static struct scenario none; /* the platform alone: no fleets, no expectations */
        snprintf(none.name, sizeof none.name, "serve");
        snapshot_begin(snap, &none, "", 1, 1);
        snap->embedded = 1;
        snap->time_scale = scale;
        snap->interval_ms = (uint32_t)interval_ms;
        snprintf(snap->frontend, sizeof snap->frontend, "%s", jt808_frontend.name);
    }
    L.prom = prom;
    L.snap = snap;
    L.text = &text;
    L.loop = ev_loop_new(EVFLAG_AUTO);
    if (!L.loop) {
        fprintf(stderr, "fleetsim serve: cannot make an event loop\n");
        goto stop;
    }
    super_ev_start(&L.sup_ev, L.loop, sup);
    ev_timer_init(&L.tick, serve_tick, interval_ms / 1000.0, interval_ms / 1000.0);
    L.tick.data = &L;
    ev_timer_start(L.loop, &L.tick);
    if (kcfg.api[0]) {
        printf("fleetsim serve: northbound API at %s://%s (%d application%s)\n", api_cert ? "https" : "http",
               kcfg.api, api_apps.n,
               api_apps.n > 1 ? "s" : "");
        fflush(stdout);
    }
    if (kcfg.mutant[0])
        fprintf(stderr, "fleetsim serve: mutant: breaking on purpose: %s (%s)\n", kcfg.mutant,
                svc_mutant_find(kcfg.mutant)->rule);
    if (stats) {
        stats_srv_start(stats, L.loop, &serve_stats_ops, &L);
        printf("fleetsim serve: live statistics on %s\n", stats_path);
        fflush(stdout);
    }
    /* a signal cuts the wait short (its handler sets stop); the tick bounds it anyway */
    while (!stop && !watch.failed)
        ev_run(L.loop, EVRUN_ONCE);
    rc = RUN_EXIT_PASS;
    if (watch.failed)
        cause_of(sup, &watch);
stop:
    stats_srv_close(stats); /* before the loop its watchers are on */
    if (L.loop) {
        super_ev_stop(&L.sup_ev);
        ev_loop_destroy(L.loop);
    }
    prom_http_stop(prom);
    prom_buf_free(&text);
    snapshot_free(snap);
    watch.said = 1;
    /* the gateways first, so that the core stores the last of what they send it */
    super_stop(sup, SUPER_GATEWAY);
    super_wait(sup, SUPER_GATEWAY, -1);
    super_stop(sup, SUPER_ALL);
    super_wait(sup, SUPER_ALL, -1);
    for (int i = 0; i < super_count(sup); i++) {
        const struct super_comp *k = super_comp(sup, i);
        if (k->failed || (k->reaped && (k->status == -1 || !WIFEXITED(k->status) || WEXITSTATUS(k->status))))
            rc = RUN_EXIT_HARNESS;
    }
    super_free(sup);
    printf("%sfleetsim serve: stopped\n", quiet ? "" : "\n");
    stats_unmap(shm);
    return rc;
}
