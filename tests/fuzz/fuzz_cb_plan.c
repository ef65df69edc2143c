/* libFuzzer target: any bytes as a callback receiver's plan (harness/cb_recv.c,
 * "STATUS[@DELAY][xCOUNT],..."): never a crash; a refusal names the plan or its
 * entry, and an accepted plan is accepted again (the parse keeps no state). */
#include <stdlib.h>
#include <string.h>

#include "harness/cb_recv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *plan = malloc(size + 1);
    if (!plan)
        abort();
    memcpy(plan, data, size);
    plan[size] = 0;
    char err[256] = "";
    int rc = cb_recv_plan_check(plan, err, sizeof err);
    if (rc != 0 && rc != -1)
        abort();
    if (rc == -1 && strncmp(err, "plan", 4) != 0)
        abort();
    if (rc == 0 && cb_recv_plan_check(plan, err, sizeof err) != 0)
        abort();
    free(plan);
    return 0;
}
