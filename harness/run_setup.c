/* The set-up of a run, before any process starts: where each fleet goes, the
 * embedded platform's configuration, database and bus socket, the descriptor
 * budget of a process, and the checks of every path and port the options and the
 * scenario name (preflight), so that bad input is an input error naming the option
 * or field.  The processes, the timeline and the drain are run.c's. */
#include "harness/run.h"
#include "harness/run_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "harness/scenario.h"
#include "harness/scenario_dialect.h"
#include "sim/dev/fleet.h"
#include "sim/net/transport.h"
#include "sim/platform/frontend.h"

#define FD_RESERVE 64             /* descriptors a process keeps for itself */

void run_error(const char *fmt, ...)
{
    static char msg[SCENARIO_ERR_BYTES + 512]; /* every error of a scenario, whole */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    for (const char *p = msg; *p;) {
        size_t n = strcspn(p, "\n");
        fprintf(stderr, "fleetsim run: %.*s\n", (int)n, p);
        p += n + (p[n] == '\n');
    }
}

uint64_t run_setup_fd_budget(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return 1024 - FD_RESERVE;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl); /* children inherit it */
    }
    getrlimit(RLIMIT_NOFILE, &rl);
    return rl.rlim_cur > FD_RESERVE ? (uint64_t)rl.rlim_cur - FD_RESERVE : 1;
}

/* Where each fleet goes: its own target, the one the command line or scenario
 * names, or the embedded platform's front-end for its dialect. */
int run_setup_target(struct run *r, char *err, size_t errcap)
{
    const char *t = r->o->target ? r->o->target : r->sc.target;
    r->embedded = !t[0] || strcmp(t, "embedded") == 0;
    for (int f = 0; f < r->sc.n_fleets; f++) {
        struct fleet_spec *fl = &r->sc.fleets[f];
        const char *ft = fl->target[0] ? fl->target : r->embedded ? NULL : t;
        /* a TLS terminal checks the gateway's certificate for the host it was
         * told to reach, unless the fleet names another (the embedded
         * platform listens on 127.0.0.1) */
        if (strcmp(fl->transport, "tls") == 0 && !fl->tls.server_name[0] &&
            transport_host(ft ? ft : "127.0.0.1:1", fl->tls.server_name, sizeof fl->tls.server_name) < 0)
            fl->tls.server_name[0] = 0;
        if (!ft) {
            const struct sc_dialect *d = sc_dialect_of(fl);
            if (!d->frontend) {
                snprintf(err, errcap, "fleet %s: the embedded platform does not serve %s terminals; give the "
                         "fleet a \"target\" (or --target)", fl->id, fl->protocol);
                return -1;
            }
            if (r->fe && r->fe != d->frontend) {
                snprintf(err, errcap, "fleet %s: the embedded platform runs one front-end per run (%s already)",
                         fl->id, r->fe->name);
                return -1;
            }
            bool tls_fleet = strcmp(fl->transport, "tls") == 0, tls_platform = r->sc.platform.tls.cert[0] != 0;
            if (tls_fleet != tls_platform) {
                snprintf(err, errcap, tls_fleet ? "fleet %s: a tls fleet needs the platform's \"tls\" (its server "
                                                  "certificate)"
                                                : "fleet %s: the platform speaks TLS (platform.tls): give the fleet "
                                                  "\"transport\": \"tls\"",
                         fl->id);
                return -1;
            }
            r->fe = d->frontend;
            continue;
        }
        if (strcmp(transport_scheme(ft), fl->transport[0] ? fl->transport : "tcp") != 0) {
            snprintf(err, errcap, "fleet %s: a %s fleet cannot reach %s", fl->id, fl->transport, ft);
            return -1;
        }
        if (transport_resolve(ft, &r->targets[f], err, errcap) < 0)
            return -1;
        if (!r->target_text[0])
            snprintf(r->target_text, sizeof r->target_text, "%s", ft);
    }
    return 0;
}

/* How many gateway processes the embedded platform needs for the terminals of
 * this run; an input error when more than it can have. */
static int plan_gateways(struct run *r, uint64_t per_proc, char *err, size_t errcap)
{
    uint64_t total = 0;
    for (int f = 0; f < r->sc.n_fleets; f++)
        total += fleet_shard_size(fleet_capacity(&r->sc.fleets[f]), r->shard - 1, r->shards);
    int want = r->sc.platform.procs > 0 ? r->sc.platform.procs : 1;
    r->n_gw = run_procs_needed(total, per_proc, want, STATS_MAX_GATEWAYS);
    if (r->n_gw < 0) {
        snprintf(err, errcap, "%" PRIu64 " terminals need more than %d gateway processes of %" PRIu64
                 " descriptors each", total, STATS_MAX_GATEWAYS, per_proc);
        return -1;
    }
    return 0;
}

/* The embedded platform's configuration, its database and the core's bus socket.
 * Its input was checked already (preflight): a failure here is the harness's. */
int run_setup_frontend(struct run *r, char *err, size_t errcap)
{
    struct frontend_opts fo;
    memset(&fo, 0, sizeof fo);
    snprintf(fo.bind, sizeof fo.bind, "127.0.0.1");
    fo.port = r->sc.platform.port;
    snprintf(fo.auth, sizeof fo.auth, "%s", r->sc.platform.auth);
    snprintf(fo.triples, sizeof fo.triples, "%s", r->sc.platform.triples);
    snprintf(fo.verify_url, sizeof fo.verify_url, "%s", r->sc.platform.verify_url);
    fo.verify_timeout_ms = r->sc.platform.verify_timeout_ms;
    fo.verify_events = r->sc.platform.verify_events;
    fo.idle_timeout_ms = r->sc.platform.idle_timeout_ms;
    fo.reasm_timeout_ms = r->sc.platform.reasm_timeout_ms;
    fo.tls = r->sc.platform.tls;
    snprintf(fo.rsa, sizeof fo.rsa, "%s", r->sc.platform.rsa);
    snprintf(fo.rsa_key, sizeof fo.rsa_key, "%s", r->sc.platform.rsa_key);
    fo.cmd_timeout_ms = RUN_CMD_TIMEOUT_MS;
    fo.verbose = r->o->verbose;
    if (r->o->db) {
        snprintf(fo.db, sizeof fo.db, "%s", r->o->db);
    } else {
        snprintf(r->tmpdir, sizeof r->tmpdir, "/tmp/fleetsim-run-XXXXXX");
        if (!mkdtemp(r->tmpdir)) {
            snprintf(err, errcap, "cannot create a temporary directory: %s", strerror(errno));
            r->tmpdir[0] = 0;
            return -1;
        }
        snprintf(fo.db, sizeof fo.db, "%s/platform.db", r->tmpdir);
    }
    r->core_lfd = core_listen(fo.core, sizeof fo.core, err, errcap);
    if (r->core_lfd < 0)
        return -1;
    snprintf(r->core_cfg.db, sizeof r->core_cfg.db, "%s", fo.db);
    r->core_cfg.verbose = fo.verbose;
    r->fe_cfg = calloc(1, r->fe->cfg_size);
    if (!r->fe_cfg) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    if (r->fe->configure(r->fe_cfg, &fo, err, errcap) < 0)
        return -1;
    r->core_cfg.provision = r->fe->provision;
    r->core_cfg.provision_arg = r->fe_cfg;
    r->core_cfg.maps[0] = (struct core_map){r->fe->name, r->fe->map_command};
    return 0;
}

void run_setup_rm_tmpdir(struct run *r)
{
    if (!r->tmpdir[0])
        return;
    char p[600];
    const char *suffix[] = {"/platform.db", "/platform.db-wal", "/platform.db-shm"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", r->tmpdir, suffix[i]);
        unlink(p);
    }
    rmdir(r->tmpdir);
}

/* mkdir -p: the report directory may be several levels new. */
int run_setup_mkdir_p(const char *path)
{
    char buf[1024];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != 0)
            continue;
        char c = buf[i];
        buf[i] = 0;
        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
            return -1;
        buf[i] = c;
    }
    struct stat st;
    if (stat(path, &st) < 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

/* --- checks before anything starts ------------------------------------------------------ */

/* 0 when files can be created in the directory dir, else an errno: what SQLite
 * needs for a database's -wal and -shm files, and the reports. */
static int dir_writable(const char *dir)
{
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0) {
        close(fd);
        return 0;
    }
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
        return errno;
    /* a file system without unnamed files: a named one, removed at once */
    char probe[1100];
    snprintf(probe, sizeof probe, "%s/.fleetsim-probe-%ld", dir, (long)getpid());
    fd = open(probe, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno;
    close(fd);
    unlink(probe);
    return 0;
}

/* The directory part of path ("." for a bare name) into buf. */
static void dir_of(const char *path, char *buf, size_t cap)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(buf, cap, ".");
    else if (slash == path)
        snprintf(buf, cap, "/");
    else
        snprintf(buf, cap, "%.*s", (int)(slash - path), path);
}

/* A directory that must exist and take new files; 0 or -1 with err. */
static int check_dir(const char *dir, char *err, size_t errcap)
{
    struct stat st;
    if (stat(dir, &st) < 0) {
        if (errno == ENOENT)
            snprintf(err, errcap, "directory %s does not exist", dir);
        else
            snprintf(err, errcap, "directory %s: %s", dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errcap, "%s is not a directory", dir);
        return -1;
    }
    int e = dir_writable(dir);
    if (e) {
        snprintf(err, errcap, "cannot create files in %s: %s", dir, strerror(e));
        return -1;
    }
    return 0;
}

/* A file the run will write (when it exists): a regular file it can open for
 * writing, without changing it.  0 or -1 with err. */
static int check_file_writable(const char *path, char *err, size_t errcap)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return errno == ENOENT ? 0 : (snprintf(err, errcap, "%s: %s", path, strerror(errno)), -1);
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errcap, "%s is not a regular file", path);
        return -1;
    }
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errcap, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    close(fd);
    return 0;
}

int run_check_db(const char *path, char *err, size_t errcap)
{
    char dir[1024];
    if (!path[0]) {
        snprintf(err, errcap, "an empty path");
        return -1;
    }
    dir_of(path, dir, sizeof dir);
    if (check_dir(dir, err, errcap) < 0 || check_file_writable(path, err, errcap) < 0)
        return -1;
    /* a file that is there already must be a database (an empty one becomes one) */
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    static const char magic[16] = "SQLite format 3";
    char head[16];
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    if (n > 0 && (n < sizeof head || memcmp(head, magic, sizeof magic) != 0)) {
        snprintf(err, errcap, "%s is not an SQLite database", path);
        return -1;
    }
    return 0;
}

/* --report DIR: the directory, or the deepest of its parents that exists, takes
 * new files, and the reports in it can be overwritten.  Nothing is created. */
static int check_report_dir(const char *dir, char *err, size_t errcap)
{
    char p[1024];
    struct stat st;
    if (!dir[0] || strlen(dir) >= sizeof p - 16) {
        snprintf(err, errcap, "%s", dir[0] ? "path too long" : "an empty path");
        return -1;
    }
    snprintf(p, sizeof p, "%s", dir);
    while (stat(p, &st) < 0) {
        if (errno != ENOENT && errno != ENOTDIR) {
            snprintf(err, errcap, "%s: %s", p, strerror(errno));
            return -1;
        }
        char up[1024];
        dir_of(p, up, sizeof up);
        if (strcmp(up, p) == 0) { /* "." or "/" gone: the working directory was removed */
            snprintf(err, errcap, "%s: %s", p, strerror(ENOENT));
            return -1;
        }
        snprintf(p, sizeof p, "%s", up);
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errcap, "%s is not a directory", p);
        return -1;
    }
    if (check_dir(p, err, errcap) < 0)
        return -1;
    const char *files[] = {"report.json", "junit.xml", "report.html"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char f[1100];
        snprintf(f, sizeof f, "%s/%s", dir, files[i]);
        if (check_file_writable(f, err, errcap) < 0)
            return -1;
    }
    return 0;
}

/* --stats PATH: a unix socket path the run can bind (what run_stats_open will
 * find there, a stale socket or nothing, without binding it yet). */
static int check_stats_path(const char *path, char *err, size_t errcap)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (!path[0] || strlen(path) >= sizeof sa.sun_path) {
        snprintf(err, errcap, "a unix socket path of 1 to %zu bytes", sizeof sa.sun_path - 1);
        return -1;
    }
    char dir[sizeof sa.sun_path];
    dir_of(path, dir, sizeof dir);
    if (check_dir(dir, err, errcap) < 0)
        return -1;
    struct stat st;
    if (lstat(path, &st) < 0)
        return 0;
    if (!S_ISSOCK(st.st_mode)) {
        snprintf(err, errcap, "exists and is not a socket");
        return -1;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int alive = probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0;
    if (probe >= 0)
        close(probe);
    if (alive) {
        snprintf(err, errcap, "another run is serving it");
        return -1;
    }
    return 0;
}

/* The scenario's fixed platform.port: nobody else may serve it, or the run's own
 * gateway would share it (SO_REUSEPORT) and get some of its terminals only. */
static int check_fixed_port(uint16_t port, char *err, size_t errcap)
{
    struct sockaddr_storage ss;
    char addr[32], e[128];
    snprintf(addr, sizeof addr, "127.0.0.1:%u", port);
    if (transport_resolve(addr, &ss, e, sizeof e) < 0) {
        snprintf(err, errcap, "%s: %s", addr, e);
        return -1;
    }
    int why = 0;
    switch (listen_port_use(SOCK_STREAM, &ss, &why)) {
    case LISTEN_PORT_FREE:
        return 0;
    case LISTEN_PORT_SHARED:
        snprintf(err, errcap, "port %u is already served by another process; the run's gateway would share it "
                 "and get only part of the terminals (leave platform.port out for a free one)", port);
        return -1;
    case LISTEN_PORT_TAKEN:
        snprintf(err, errcap, "port %u is already in use by another process (leave platform.port out for a "
                 "free one)", port);
        return -1;
    default:
        snprintf(err, errcap, "cannot listen on %s: %s", addr, strerror(why));
        return -1;
    }
}

/* Every path and port the options and the scenario name, before any process
 * starts (and in a dry run): a bad one is an input error that names the option
 * or field, not a dead process later. */
int run_setup_preflight(struct run *r, uint64_t per_proc)
{
    const struct run_opts *o = r->o;
    char err[1200];
    if (r->fe && o->db && run_check_db(o->db, err, sizeof err) < 0) {
        run_error("--db %s: %s", o->db, err);
        return -1;
    }
    if (o->report_dir && check_report_dir(o->report_dir, err, sizeof err) < 0) {
        run_error("--report %s: %s", o->report_dir, err);
        return -1;
    }
    if (o->stats_addr && check_stats_path(o->stats_addr, err, sizeof err) < 0) {
        run_error("--stats %s: %s", o->stats_addr, err);
        return -1;
    }
    if (!r->fe)
        return 0;
    const char *triples = r->sc.platform.triples;
    int fd = triples[0] ? open(triples, O_RDONLY | O_CLOEXEC) : -1;
    if (triples[0] && fd < 0) {
        run_error("%s: platform.triples: cannot read %s: %s", r->scen_name, triples, strerror(errno));
        return -1;
    }
    if (fd >= 0)
        close(fd);
    /* a key is the front-end's to read: a file that is not one is an input error too */
    const char *rsa_key = r->sc.platform.rsa_key;
    fd = rsa_key[0] ? open(rsa_key, O_RDONLY | O_CLOEXEC) : -1;
    if (rsa_key[0] && fd < 0) {
        run_error("%s: platform.rsa_key: cannot read %s: %s", r->scen_name, rsa_key, strerror(errno));
        return -1;
    }
    if (fd >= 0)
        close(fd);
    if (r->fe->check) {
        struct frontend_opts fo;
        memset(&fo, 0, sizeof fo);
        snprintf(fo.rsa, sizeof fo.rsa, "%s", r->sc.platform.rsa);
        snprintf(fo.rsa_key, sizeof fo.rsa_key, "%s", rsa_key);
        if (r->fe->check(&fo, err, sizeof err) < 0) {
            run_error("%s: %s", r->scen_name, err);
            return -1;
        }
    }
    if (r->sc.platform.port && check_fixed_port(r->sc.platform.port, err, sizeof err) < 0) {
        run_error("%s: platform.port: %s", r->scen_name, err);
        return -1;
    }
    if (plan_gateways(r, per_proc, err, sizeof err) < 0) {
        run_error("%s", err);
        return -1;
    }
    return 0;
}

