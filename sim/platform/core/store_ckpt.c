/* WAL checkpoints on a thread of their own (see store_checkpointer_start in
 * store.h).  The writer's connection tells, after every commit, how many pages the
 * WAL holds (sqlite3_wal_hook, which also turns SQLite's auto-checkpoint off); past
 * the threshold the thread runs a passive checkpoint on its own connection (SQLite
 * in multi-thread mode: one connection per thread, none shared).  The writer's flush
 * slices wait while it runs, so the checkpoint copies every frame and the next
 * commit starts the WAL over instead of growing it. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "sim/platform/core/store_internal.h"

struct store_ckpt {
    sqlite3 *db;                /* the thread's own connection */
    pthread_t thread;
    pthread_mutex_t mu;         /* guards what follows up to the writer's own fields */
    pthread_cond_t cv;
    bool kick;                  /* a checkpoint is wanted */
    bool stop;
    bool running;               /* wanted or running: the writer's slices wait */
    double running_since;
    uint64_t checkpoints, incomplete;
    double longest;
    /* the writer's thread only */
    unsigned frames;            /* the threshold */
    int nice;
    int last_frames;
    uint64_t frames_max, frames_written, restarts, flush_waits;
    uint32_t page_size;
};

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* On the writer's thread, after each commit: n pages in the WAL now. */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int n)
{
    struct store_ckpt *c = arg;
    (void)db, (void)name;
    if (n < c->last_frames) {
        c->restarts++;
        c->frames_written += (uint64_t)n;
    } else {
        c->frames_written += (uint64_t)(n - c->last_frames);
    }
    c->last_frames = n;
    if ((uint64_t)n > c->frames_max)
        c->frames_max = (uint64_t)n;
    if ((unsigned)n >= c->frames) {
        pthread_mutex_lock(&c->mu);
        if (!c->running) {
            c->running = true;
            c->running_since = mono_s();
            c->kick = true;
            pthread_cond_signal(&c->cv);
        }
        pthread_mutex_unlock(&c->mu);
    }
    return SQLITE_OK;
}

static void *ckpt_main(void *arg)
{
    struct store_ckpt *c = arg;
    pthread_setname_np(pthread_self(), "fs-checkpoint"); /* apart from its loop in top and perf */
    /* Linux: a thread's nice is its own */
    pid_t tid = gettid();
    errno = 0;
    int prio = getpriority(PRIO_PROCESS, (id_t)tid);
    if (c->nice && errno == 0)
        setpriority(PRIO_PROCESS, (id_t)tid, prio + c->nice);
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->kick && !c->stop)
            pthread_cond_wait(&c->cv, &c->mu);
        if (c->stop)
            break;
        c->kick = false;
        pthread_mutex_unlock(&c->mu);
        int log = 0, done = 0;
        double t0 = mono_s();
        int rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
        double took = mono_s() - t0;
        pthread_mutex_lock(&c->mu);
        c->running = false;
        c->checkpoints++;
        if (rc != SQLITE_OK || log < 0 || done < log)
            c->incomplete++;
        if (took > c->longest)
            c->longest = took;
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

int store_checkpointer_start(struct store *s, unsigned frames, int nice, char *err, size_t errcap)
{
    if (!s) {
        store__err(err, errcap, "store_checkpointer_start: store is NULL");
        return -1;
    }
    if (s->ckpt) {
        store__err(err, errcap, "store_checkpointer_start: already started");
        return -1;
    }
    const char *path = sqlite3_db_filename(s->db, "main");
    if (!path || !*path)
        return 0; /* a memory database has no WAL */
    if (!sqlite3_threadsafe()) {
        store__err(err, errcap, "%s: checkpointer: SQLite is built without threads", path);
        return -1;
    }
    struct store_ckpt *c = calloc(1, sizeof *c);
    if (!c) {
        store__err(err, errcap, "%s: checkpointer: out of memory", path);
        return -1;
    }
    c->frames = frames ? frames : 1;
    c->nice = nice;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "PRAGMA page_size", -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        c->page_size = (uint32_t)sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    int rc = sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        store__err(err, errcap, "%s: checkpointer: %s", path, c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
        sqlite3_close(c->db);
        free(c);
        return -1;
    }
    /* a connection opens the WAL on its first read: until then a checkpoint does nothing */
    rc = sqlite3_exec(c->db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        store__err(err, errcap, "%s: checkpointer: %s", path, sqlite3_errmsg(c->db));
        sqlite3_close(c->db);
        free(c);
        return -1;
    }
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    rc = pthread_create(&c->thread, NULL, ckpt_main, c);
    if (rc != 0) {
        store__err(err, errcap, "%s: checkpointer: thread: %s", path, strerror(rc));
        pthread_cond_destroy(&c->cv);
        pthread_mutex_destroy(&c->mu);
        sqlite3_close(c->db);
        free(c);
        return -1;
    }
    s->ckpt = c;
    sqlite3_wal_hook(s->db, wal_hook, c);
    return 0;
}

bool store__ckpt_busy(struct store *s)
{
    struct store_ckpt *c = s->ckpt;
    if (!c)
        return false;
    pthread_mutex_lock(&c->mu);
    bool busy = c->running && mono_s() - c->running_since < STORE_CKPT_WAIT_S;
    pthread_mutex_unlock(&c->mu);
    if (busy)
        c->flush_waits++;
    return busy;
}

void store__ckpt_stop(struct store *s)
{
    struct store_ckpt *c = s->ckpt;
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    c->stop = true;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    sqlite3_close(c->db);
    /* back to SQLite's own checkpoints on commit */
    sqlite3_wal_autocheckpoint(s->db, 1000);
    free(c);
    s->ckpt = NULL;
}

void store_wal_stats(struct store *s, struct store_wal_stats *out)
{
    memset(out, 0, sizeof *out);
    struct store_ckpt *c = s ? s->ckpt : NULL;
    if (!c)
        return;
    out->frames_max = c->frames_max;
    out->frames_written = c->frames_written;
    out->restarts = c->restarts;
    out->flush_waits = c->flush_waits;
    out->page_size = c->page_size;
    pthread_mutex_lock(&c->mu);
    out->checkpoints = c->checkpoints;
    out->incomplete = c->incomplete;
    out->ckpt_longest_s = c->longest;
    pthread_mutex_unlock(&c->mu);
}
