/* store: the flush a slice at a time (store_flush_slice) and the WAL checkpoints on
 * a thread of their own (store_checkpointer_start).  Many values flushed over
 * several slices are all written, in the order they first changed, with their
 * latest value; changes made between slices are written too; a flush cut short by
 * a close completes; a failed slice keeps its values; the WAL file stays bounded
 * while many times its bound goes through it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "tests/unit/scratch.h"
#include <cmocka.h>
#include <sqlite3.h>

#include "sim/platform/core/store.h"
#include "sim/platform/core/store_internal.h" /* the connection, to read rows in write order */

static char progdir[256];
static char tmpdir[320];

static void path_of(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", tmpdir, name);
    unlink(out);
    char side[400];
    snprintf(side, sizeof side, "%s-wal", out);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", out);
    unlink(side);
}

static struct store *open_ok(const char *path)
{
    struct store *s = NULL;
    char err[256] = "";
    if (store_open(&s, path, err, sizeof err) != 0)
        fail_msg("store_open %s: %s", path, err);
    return s;
}

/* Device i's id: not in numeric order of i, so write order is not key order. */
static void dev_id(char *out, size_t cap, int i)
{
    snprintf(out, cap, "dev%05d", (i * 7919) % 100003);
}

static void report(struct store *s, int i, int version)
{
    char id[32], data[96];
    dev_id(id, sizeof id, i);
    snprintf(data, sizeof data, "{\"i\":%d,\"v\":%d,\"pad\":\"%040d\"}", i, version, i);
    assert_int_equal(store_report(s, "p1", id, "loc", data, 1000 + version), 0);
}

/* The latest value of device i's "loc" is version v. */
static void assert_value(struct store *s, int i, int v)
{
    char id[32], data[STORE_DATA_MAX + 1], want[96];
    int64_t at = 0;
    dev_id(id, sizeof id, i);
    snprintf(want, sizeof want, "{\"i\":%d,\"v\":%d,\"pad\":\"%040d\"}", i, v, i);
    if (!store_last_report(s, "p1", id, "loc", data, sizeof data, &at))
        fail_msg("device %d (%s): no row", i, id);
    assert_string_equal(data, want);
    assert_int_equal(at, 1000 + v);
}

/* Slices until nothing is left; how many it took. */
static int slice_all(struct store *s, double budget)
{
    char err[256];
    int n = 0, rc;
    do {
        rc = store_flush_slice(s, budget, err, sizeof err);
        if (rc < 0)
            fail_msg("slice %d: %s", n, err);
        if (rc == STORE_FLUSH_WAIT) {
            const struct timespec ms = {0, 1000000L};
            nanosleep(&ms, NULL);
            continue;
        }
        n++;
    } while (rc != STORE_FLUSH_DONE);
    return n;
}

/* 3,000 values over many slices: every one written, in the order reported
 * (new rows take ascending rowids in the order they are inserted). */
static void test_slices_write_all_in_order(void **state)
{
    (void)state;
    char path[400];
    path_of(path, sizeof path, "order.db");
    struct store *s = open_ok(path);
    enum { N = 3000 };
    for (int i = 0; i < N; i++)
        report(s, i, 0);
    assert_int_equal(store_pending(s), N);
    int slices = slice_all(s, 0.0002);
    assert_true(slices > 1);
    assert_int_equal(store_pending(s), 0);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(s->db, "SELECT device_id FROM reports ORDER BY rowid", -1, &st, NULL),
                     SQLITE_OK);
    int i = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        char id[32];
        dev_id(id, sizeof id, i);
        if (i >= N || strcmp((const char *)sqlite3_column_text(st, 0), id) != 0)
            fail_msg("row %d is %s, reported %d-th was %s", i, sqlite3_column_text(st, 0), i, id);
        i++;
    }
    sqlite3_finalize(st);
    assert_int_equal(i, N);
    for (int k = 0; k < N; k += 97)
        assert_value(s, k, 0);
    store_close(s);
}

/* A zero budget writes exactly one value a slice; a large one all in one. */
static void test_slice_budget(void **state)
{
    (void)state;
    struct store *s = open_ok(":memory:");
    char err[256];
    for (int i = 0; i < 10; i++)
        report(s, i, 0);
    assert_int_equal(store_flush_slice(s, 0, err, sizeof err), STORE_FLUSH_MORE);
    assert_int_equal(store_pending(s), 9);
    assert_value(s, 0, 0);
    char id[32], data[128];
    dev_id(id, sizeof id, 1);
    assert_false(store_last_report(s, "p1", id, "loc", data, sizeof data, NULL));
    assert_int_equal(store_flush_slice(s, 10.0, err, sizeof err), STORE_FLUSH_DONE);
    assert_int_equal(store_pending(s), 0);
    for (int i = 0; i < 10; i++)
        assert_value(s, i, 0);
    assert_int_equal(store_flush_slice(s, 10.0, err, sizeof err), STORE_FLUSH_DONE);
    store_close(s);
}

/* Changes between slices: a value already written is written again with its new
 * value, one still waiting goes out with its latest; status entries too. */
static void test_changes_between_slices(void **state)
{
    (void)state;
    struct store *s = open_ok(":memory:");
    char err[256];
    enum { N = 200 };
    for (int i = 0; i < N; i++)
        report(s, i, 0);
    store_status(s, "p1", "dev-status", true, 5);
    for (int k = 0; k < 50; k++)
        assert_int_equal(store_flush_slice(s, 0, err, sizeof err), STORE_FLUSH_MORE);
    assert_int_equal(store_pending(s), N + 1 - 50);
    report(s, 3, 1);       /* written already: joins the end */
    report(s, 150, 1);     /* still waiting: stays where it is, latest value */
    store_status(s, "p1", "dev-status", false, 9);
    assert_int_equal(store_pending(s), N + 1 - 50 + 1);
    slice_all(s, 0.0001);
    for (int i = 0; i < N; i++)
        assert_value(s, i, i == 3 || i == 150 ? 1 : 0);
    bool online = true;
    int64_t at = 0;
    assert_true(store_last_status(s, "p1", "dev-status", &online, &at));
    assert_false(online);
    assert_int_equal(at, 9);
    store_close(s);
}

/* Reports keep coming while slices go out (more than the dirty list's first
 * capacity, so its written front is reused): the last of each is what is stored. */
static void test_interleaved_load(void **state)
{
    (void)state;
    struct store *s = open_ok(":memory:");
    char err[256];
    enum { DEVS = 1500, ROUNDS = 7 };
    int last[DEVS];
    for (int i = 0; i < DEVS; i++)
        last[i] = -1;
    for (int r = 0; r < ROUNDS; r++) {
        for (int i = 0; i < DEVS; i++) {
            if ((i + r) % 3 == 0)
                continue;
            report(s, i, r);
            last[i] = r;
            if (i % 100 == 0)
                assert_true(store_flush_slice(s, 0.00005, err, sizeof err) >= 0);
        }
    }
    slice_all(s, 0.0005);
    for (int i = 0; i < DEVS; i++) {
        assert_true(last[i] >= 0);
        assert_value(s, i, last[i]);
    }
    store_close(s);
}

/* A flush cut short: close (a shutdown) writes what the slices left. */
static void test_close_completes_flush(void **state)
{
    (void)state;
    char path[400];
    path_of(path, sizeof path, "close.db");
    struct store *s = open_ok(path);
    char err[256];
    enum { N = 2000 };
    for (int i = 0; i < N; i++)
        report(s, i, 2);
    assert_int_equal(store_flush_slice(s, 0, err, sizeof err), STORE_FLUSH_MORE);
    assert_int_equal(store_flush_slice(s, 0, err, sizeof err), STORE_FLUSH_MORE);
    assert_int_equal(store_pending(s), N - 2);
    report(s, 0, 3); /* written by a slice, changed again */
    store_close(s);
    s = open_ok(path);
    for (int i = 0; i < N; i++)
        assert_value(s, i, i == 0 ? 3 : 2);
    store_close(s);
}

/* store_flush writes what slices left, in one go. */
static void test_flush_after_slices(void **state)
{
    (void)state;
    struct store *s = open_ok(":memory:");
    char err[256];
    for (int i = 0; i < 100; i++)
        report(s, i, 0);
    for (int k = 0; k < 10; k++)
        assert_int_equal(store_flush_slice(s, 0, err, sizeof err), STORE_FLUSH_MORE);
    assert_int_equal(store_flush(s, err, sizeof err), 0);
    assert_int_equal(store_pending(s), 0);
    for (int i = 0; i < 100; i++)
        assert_value(s, i, 0);
    store_close(s);
}

/* Inside a batch a slice writes everything, and the batch's commit makes it clean. */
static void test_slice_in_batch(void **state)
{
    (void)state;
    struct store *s = open_ok(":memory:");
    char err[256];
    for (int i = 0; i < 50; i++)
        report(s, i, 0);
    assert_int_equal(store_flush_slice(s, 0, err, sizeof err), STORE_FLUSH_MORE);
    assert_int_equal(store_begin(s, err, sizeof err), 0);
    assert_int_equal(store_flush_slice(s, 0, err, sizeof err), STORE_FLUSH_DONE);
    assert_int_equal(store_commit(s, err, sizeof err), 0);
    assert_int_equal(store_pending(s), 0);
    for (int i = 0; i < 50; i++)
        assert_value(s, i, 0);
    store_close(s);
}

/* A slice that fails writes nothing and keeps its values waiting. */
static void test_failed_slice_keeps_values(void **state)
{
    (void)state;
    struct store *s = open_ok(":memory:");
    char err[256] = "";
    for (int i = 0; i < 20; i++)
        report(s, i, 0);
    assert_int_equal(store_flush_slice(s, 0, err, sizeof err), STORE_FLUSH_MORE);
    assert_int_equal(sqlite3_exec(s->db, "DROP TABLE reports", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(store_flush_slice(s, 10.0, err, sizeof err), -1);
    assert_non_null(strstr(err, "database"));
    assert_int_equal(store_pending(s), 19);
    assert_true(sqlite3_get_autocommit(s->db)); /* rolled back, no transaction left open */
    /* the table back (empty): the 19 go out, the one written before is gone with the old table */
    assert_int_equal(sqlite3_exec(s->db,
                                  "CREATE TABLE reports(protocol TEXT NOT NULL, device_id TEXT NOT NULL,"
                                  " service TEXT NOT NULL, data TEXT NOT NULL, at_ms INTEGER NOT NULL,"
                                  " updated_at INTEGER NOT NULL, PRIMARY KEY(protocol, device_id, service))",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(slice_all(s, 10.0), 1);
    char id[32], data[128];
    dev_id(id, sizeof id, 0);
    assert_false(store_last_report(s, "p1", id, "loc", data, sizeof data, NULL));
    for (int i = 1; i < 20; i++)
        assert_value(s, i, 0);
    store_close(s);
}

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

/* The checkpointer keeps the WAL file bounded: ten times its bound goes through it,
 * the WAL starts over again and again, and every value is there after a reopen. */
static void test_checkpointer_bounds_wal(void **state)
{
    (void)state;
    char path[400], wal[420], err[256] = "";
    path_of(path, sizeof path, "ckpt.db");
    snprintf(wal, sizeof wal, "%s-wal", path);
    struct store *s = open_ok(path);
    enum { FRAMES = 100, BOUND_FRAMES = 1000, DEVS = 4000 };
    assert_int_equal(store_checkpointer_start(s, FRAMES, 0, err, sizeof err), 0);
    assert_int_equal(store_checkpointer_start(s, FRAMES, 0, err, sizeof err), -1); /* once */
    struct store_wal_stats w;
    off_t wal_max = 0;
    int r = 0;
    for (;; r++) {
        for (int i = 0; i < DEVS; i += 1 + r % 3)
            report(s, i, r);
        slice_all(s, 0.0005);
        off_t n = file_size(wal);
        if (n > wal_max)
            wal_max = n;
        store_wal_stats(s, &w);
        if (w.frames_written >= 10 * BOUND_FRAMES || r > 2000)
            break;
    }
    assert_int_equal(w.page_size, 4096);
    print_message("# %d rounds: %" PRIu64 " frames through the WAL, at most %" PRIu64 " at once, file at most %lld"
                  " bytes, %" PRIu64 " restarts, %" PRIu64 " checkpoints (%" PRIu64 " incomplete, longest %.1f ms),"
                  " %" PRIu64 " slices waited\n",
                  r + 1, w.frames_written, w.frames_max, (long long)wal_max, w.restarts, w.checkpoints,
                  w.incomplete, w.ckpt_longest_s * 1e3, w.flush_waits);
    assert_true(w.frames_written >= 10 * BOUND_FRAMES);
    assert_true(w.checkpoints > 0);
    assert_true(w.restarts > 0);
    assert_true(w.frames_max <= BOUND_FRAMES);
    assert_true(wal_max > 0);
    assert_true(wal_max <= (off_t)BOUND_FRAMES * (4096 + 24) + 32);
    store_close(s);
    s = open_ok(path);
    for (int i = 0; i < DEVS; i++) {
        int v = r;
        while ((i % (1 + v % 3)) != 0) /* the last round that reported i */
            v--;
        assert_value(s, i, v);
    }
    store_close(s);
}

/* A memory database has no WAL: nothing to start, nothing counted. */
static void test_checkpointer_memory(void **state)
{
    (void)state;
    struct store *s = open_ok(":memory:");
    char err[256] = "";
    assert_int_equal(store_checkpointer_start(s, 10, 0, err, sizeof err), 0);
    report(s, 1, 0);
    slice_all(s, 0.001);
    struct store_wal_stats w;
    store_wal_stats(s, &w);
    assert_int_equal(w.checkpoints, 0);
    assert_int_equal(w.frames_written, 0);
    store_close(s);
}

static int setup_tmpdir(void **state)
{
    (void)state;
    return scratch_make(progdir, "test_store_slice", tmpdir, sizeof tmpdir);
}

static int remove_tmpdir(void **state)
{
    (void)state;
    return scratch_remove(tmpdir);
}

int main(int argc, char **argv)
{
    snprintf(progdir, sizeof progdir, "%s", argc > 0 ? argv[0] : "");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slices_write_all_in_order),
        cmocka_unit_test(test_slice_budget),
        cmocka_unit_test(test_changes_between_slices),
        cmocka_unit_test(test_interleaved_load),
        cmocka_unit_test(test_close_completes_flush),
        cmocka_unit_test(test_flush_after_slices),
        cmocka_unit_test(test_slice_in_batch),
        cmocka_unit_test(test_failed_slice_keeps_values),
        cmocka_unit_test(test_checkpointer_bounds_wal),
        cmocka_unit_test(test_checkpointer_memory),
    };
    return cmocka_run_group_tests(tests, setup_tmpdir, remove_tmpdir);
}
