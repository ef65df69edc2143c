/* conform --shard K/N: the slice rule puts every chosen case in exactly one shard,
 * the slices differ by one case at most, and case i is shard i % N + 1 whatever
 * else (--jobs) the run is given. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness/conform.h"

static void test_every_case_once(void **state)
{
    (void)state;
    for (uint32_t n = 1; n <= 9; n++)
        for (int cases = 0; cases <= 50; cases++) {
            int size[10] = {0};
            for (int pos = 0; pos < cases; pos++) {
                int owners = 0;
                for (uint32_t k = 1; k <= n; k++)
                    if (conform_in_shard(pos, k, n)) {
                        owners++;
                        size[k]++;
                    }
                if (owners != 1)
                    fail_msg("case %d of %d is in %d of %u shards", pos, cases, owners, n);
            }
            int lo = cases, hi = 0;
            for (uint32_t k = 1; k <= n; k++) {
                lo = size[k] < lo ? size[k] : lo;
                hi = size[k] > hi ? size[k] : hi;
            }
            if (hi - lo > 1)
                fail_msg("%d cases over %u shards: slices of %d to %d", cases, n, lo, hi);
        }
}

static void test_the_rule(void **state)
{
    (void)state;
    /* case i: shard i % N + 1 */
    assert_true(conform_in_shard(0, 1, 3));
    assert_false(conform_in_shard(0, 2, 3));
    assert_true(conform_in_shard(4, 2, 3));
    assert_true(conform_in_shard(5, 3, 3));
    assert_true(conform_in_shard(65535, 65536, 65536));
    assert_false(conform_in_shard(65535, 1, 65536));
    /* no --shard, or 1/1: every case */
    for (int pos = 0; pos < 10; pos++) {
        assert_true(conform_in_shard(pos, 0, 0));
        assert_true(conform_in_shard(pos, 1, 1));
    }
    /* outside the rule's domain: no case (the command line refuses these) */
    assert_false(conform_in_shard(-1, 1, 2));
    assert_false(conform_in_shard(0, 0, 2));
    assert_false(conform_in_shard(1, 3, 2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_case_once),
        cmocka_unit_test(test_the_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
