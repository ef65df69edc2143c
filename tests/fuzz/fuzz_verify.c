/* libFuzzer target: any bytes as a verification endpoint's answer, for each
 * action.  A parse either refuses with a reason and leaves nothing to act on, or
 * gives an answer within the seed's limits (a refused register has code 1-4, an
 * accepted one an auth code, an accepted auth a device triple); never a crash. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim/platform/jt808/jt808_verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int a = 0; a < JT808_VERIFY__N; a++) {
        struct jt808_verify_answer ans;
        char why[160];
        int rc = jt808_verify_parse((enum jt808_verify_action)a, (const char *)data, size, &ans, why, sizeof why);
        if (rc != 0) {
            if (rc != -1 || why[0] == '\0' || ans.ok || ans.code)
                abort();
            continue;
        }
        if (a == JT808_VERIFY_REGISTER && !ans.ok && (ans.code < 1 || ans.code > 4))
            abort();
        if (a == JT808_VERIFY_REGISTER && ans.ok && (ans.auth_code[0] == '\0' || ans.code))
            abort();
        if (a == JT808_VERIFY_AUTH && ans.ok
            && (strlen(ans.dev.manufacturer) < 4 || strlen(ans.dev.model) < 4 || strlen(ans.dev.device_id) < 4))
            abort();
    }
    return 0;
}
