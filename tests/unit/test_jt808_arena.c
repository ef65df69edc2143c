/* The JT/T 808 codec's per-message arena and deviation list. */
#include <stdalign.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sim/proto/jt808.h"

#include <setjmp.h>
#include <cmocka.h>

static void test_arena_alloc(void **state)
{
    (void)state;
    struct jt808_arena a = {0};
    unsigned char *p = jt808_arena_alloc(&a, 3);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % alignof(max_align_t), 0);
    assert_true(p[0] == 0 && p[1] == 0 && p[2] == 0);
    memset(p, 0xAA, 3);
    unsigned char *q = jt808_arena_alloc(&a, 10);
    assert_non_null(q);
    assert_true(q >= p + 3);                 /* no overlap with the first block */
    assert_int_equal((uintptr_t)q % alignof(max_align_t), 0);
    /* larger than a chunk: a chunk of its own, zeroed */
    unsigned char *big = jt808_arena_alloc(&a, 100000);
    assert_non_null(big);
    for (size_t i = 0; i < 100000; i += 997)
        assert_int_equal(big[i], 0);
    memset(big, 0x55, 100000);
    assert_true(a.bytes >= 100000 + 13);
    assert_int_equal(p[0], 0xAA);            /* earlier blocks untouched by growth */
    jt808_arena_reset(&a);
    assert_int_equal(a.bytes, 0);
    assert_non_null(a.head);                 /* the newest chunk stays for the next message */
    unsigned char *again = jt808_arena_alloc(&a, 50000);
    assert_non_null(again);
    assert_int_equal(again[49999], 0);       /* reused memory comes back zeroed */
    jt808_arena_free(&a);
    assert_null(a.head);
    assert_int_equal(a.bytes, 0);
}

static void test_msg_free(void **state)
{
    (void)state;
    struct jt808_msg m;
    memset(&m, 0, sizeof m);
    assert_non_null(jt808_arena_alloc(&m.arena, 64));
    jt808_msg_free(&m);
    assert_null(m.arena.head);
    jt808_msg_free(&m);                      /* twice is harmless */
}

static void test_devs(void **state)
{
    (void)state;
    struct jt808_devs d = {0};
    jt808_devs_add(NULL, JT808_DEV_TRAILING_BYTES, 1, "x"); /* no list: nothing, no crash */
    for (unsigned i = 0; i < JT808_MAX_DEVIATIONS + 5; i++)
        jt808_devs_add(&d, (enum jt808_dev_kind)(i % JT808_DEV__COUNT), i * 3, "body.items");
    assert_int_equal(d.n, JT808_MAX_DEVIATIONS);
    assert_int_equal(d.total, JT808_MAX_DEVIATIONS + 5);
    assert_int_equal(d.d[4].offset, 12);
    assert_int_equal(d.d[4].kind, 4 % JT808_DEV__COUNT);
    assert_string_equal(d.d[4].field, "body.items");
}

static void test_dev_names(void **state)
{
    (void)state;
    assert_string_equal(jt808_dev_name(JT808_DEV_ITEM_LENGTH), "item-length");
    assert_string_equal(jt808_dev_name(JT808_DEV_PARAM_LENGTH), "param-length");
    assert_string_equal(jt808_dev_name(JT808_DEV_COUNT_OVERRUN), "count-overrun");
    assert_string_equal(jt808_dev_name(JT808_DEV_TRAILING_BYTES), "trailing-bytes");
    assert_string_equal(jt808_dev_name(JT808_DEV_UNESCAPED_CHECK), "unescaped-check");
    assert_string_equal(jt808_dev_name(JT808_DEV__COUNT), "unknown");
    for (int k = 0; k < JT808_DEV__COUNT; k++) {
        assert_string_not_equal(jt808_dev_name((enum jt808_dev_kind)k), "unknown");
        assert_string_not_equal(jt808_dev_text((enum jt808_dev_kind)k), "unknown deviation");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arena_alloc),
        cmocka_unit_test(test_msg_free),
        cmocka_unit_test(test_devs),
        cmocka_unit_test(test_dev_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
