/* The processes' event rings for the live statistics (sim/core/live_events.c):
 * order, overwriting, the rate limit, and a reader beside a writer in another
 * process never seeing a torn event. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "sim/core/live_events.h"

static void put(struct live_ring *r, uint64_t at, int i)
{
    uint8_t frame[300];
    for (size_t k = 0; k < sizeof frame; k++)
        frame[k] = (uint8_t)(i + k);
    assert_true(live_ev_admit(r, at));
    live_ev_put(r, at, i % 3, LEV_DECODE_ERROR, "13800000001", frame, (size_t)(i % 300), "event %d", i);
}

static void test_order_and_overwrite(void **state)
{
    (void)state;
    struct live_ring *r = calloc(1, sizeof *r);
    struct live_event out[LIVE_EV_RING];
    assert_int_equal(live_ev_read(r, out, LIVE_EV_RING), 0);
    for (int i = 1; i <= 5; i++)
        put(r, (uint64_t)i * 1000000u, i); /* one a second: never over the rate */
    int n = live_ev_read(r, out, LIVE_EV_RING);
    assert_int_equal(n, 5);
    for (int i = 0; i < n; i++) {
        char want[32];
        snprintf(want, sizeof want, "event %d", i + 1);
        assert_string_equal(out[i].text, want);
        assert_int_equal(out[i].seq, i + 1);
        assert_int_equal(out[i].fleet, (i + 1) % 3);
        assert_int_equal(out[i].len, (i + 1) % 300);
        assert_int_equal(out[i].frame[0], (uint8_t)(i + 1));
        assert_string_equal(out[i].terminal, "13800000001");
    }
    /* 100 more: only the newest LIVE_EV_RING stay, oldest first */
    for (int i = 6; i <= 105; i++)
        put(r, (uint64_t)i * 1000000u, i);
    n = live_ev_read(r, out, LIVE_EV_RING);
    assert_int_equal(n, LIVE_EV_RING);
    assert_string_equal(out[0].text, "event 74");
    assert_string_equal(out[n - 1].text, "event 105");
    /* a frame longer than is kept: cut, its length said */
    put(r, 200000000u, 299);
    n = live_ev_read(r, out, LIVE_EV_RING);
    assert_int_equal(out[n - 1].len, LIVE_EV_FRAME);
    assert_int_equal(out[n - 1].frame_len, 299);
    /* a reader with less room gets the oldest of what is there */
    assert_int_equal(live_ev_read(r, out, 3), 3);
    assert_string_equal(out[0].text, "event 75");
    free(r);
}

static void test_rate(void **state)
{
    (void)state;
    struct live_ring *r = calloc(1, sizeof *r);
    int admitted = 0;
    for (int i = 0; i < 500; i++)
        admitted += live_ev_admit(r, 5000000u + (uint64_t)i * 1000u); /* 500 in half a second */
    assert_int_equal(admitted, LIVE_EV_PER_SEC);
    assert_int_equal(r->dropped, 500 - LIVE_EV_PER_SEC);
    /* the next second has room again */
    assert_true(live_ev_admit(r, 6000000u));
    /* time going backwards (another clock) does not stall it */
    assert_true(live_ev_admit(r, 1000u));
    free(r);
}

static void test_kind_names(void **state)
{
    (void)state;
    assert_string_equal(live_ev_kind_name(LEV_DECODE_ERROR), "decode_error");
    assert_string_equal(live_ev_kind_name(LEV_DEVIATION), "deviation");
    for (int k = 0; k < LEV__COUNT; k++)
        assert_non_null(strchr("abcdefghijklmnopqrstuvwxyz", live_ev_kind_name((enum live_ev_kind)k)[0]));
    assert_string_equal(live_ev_kind_name(LEV__COUNT), "?");
}

/* A writer in another process writes as fast as it can; every event the reader
 * takes is whole: its text, time, fleet and frame all say the same number. */
static void test_reader_beside_writer(void **state)
{
    (void)state;
    struct live_ring *r = mmap(NULL, sizeof *r, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(r != MAP_FAILED);
    memset(r, 0, sizeof *r);
    const int total = 200000;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        for (int i = 1; i <= total; i++) {
            uint8_t frame[8];
            memset(frame, i & 0xFF, sizeof frame);
            live_ev_put(r, (uint64_t)i, i & 0x7FFF, LEV_TIMEOUT, "t", frame, sizeof frame, "n=%d", i);
        }
        _exit(0);
    }
    struct live_event out[LIVE_EV_RING];
    uint64_t seen = 0, last_head = 0;
    /* bounded by the wall clock, not by a count of rounds: on a loaded machine the
     * child may not run at all for longer than a million empty rounds take */
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        assert_true(now.tv_sec - t0.tv_sec < 60); /* the writer finishes long before */
        uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
        int n = live_ev_read(r, out, LIVE_EV_RING);
        for (int i = 0; i < n; i++) {
            char want[32];
            snprintf(want, sizeof want, "n=%llu", (unsigned long long)out[i].seq);
            assert_string_equal(out[i].text, want);
            assert_int_equal(out[i].at_us, out[i].seq);
            assert_int_equal(out[i].fleet, (int)(out[i].seq & 0x7FFF));
            assert_int_equal(out[i].frame[7], (uint8_t)(out[i].seq & 0xFF));
            if (i)
                assert_true(out[i].seq > out[i - 1].seq);
        }
        seen += (uint64_t)n;
        assert_true(head >= last_head);
        last_head = head;
        if (head == (uint64_t)total)
            break;
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(live_ev_read(r, out, LIVE_EV_RING), LIVE_EV_RING); /* all whole once it stopped */
    assert_int_equal(out[LIVE_EV_RING - 1].seq, total);
    assert_true(seen > 0);
    munmap(r, sizeof *r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_and_overwrite),
        cmocka_unit_test(test_rate),
        cmocka_unit_test(test_kind_names),
        cmocka_unit_test(test_reader_beside_writer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
