/* libFuzzer target: any text as a conformance case file (beside a fixed
 * suite.json with a fixture): an error naming the file, or cases, never a
 * crash, and everything freed. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness/conform.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char suite[] =
    "{\"name\": \"f\", \"protocol\": \"jt808\", \"defaults\": {\"edition\": 2013, \"phone\": \"0139000#####\"},"
    " \"fixtures\": {\"hb\": [{\"send\": {\"msg_id\": \"0x0002\"}}, {\"expect\": {\"msg_id\": \"0x8001\"}},"
    "                        {\"bind\": {\"r\": \"body.result\"}}],"
    "              \"loop\": [{\"use\": \"loop\"}]}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = 0;
    struct conform_suite s;
    char err[4096];
    if (conform_suite_parse(suite, "fuzz.json", text, &s, err, sizeof err) == 0) {
        for (int i = 0; i < s.n_cases; i++) {
            char phone[24];
            conform_case_phone(&s, &s.cases[i], phone, sizeof phone);
            const struct conform_case *c = &s.cases[i];
            bool steps_ok = c->kind == CONFORM_SCENARIO ? c->n_sub >= 1 && c->n_sub <= CONFORM_MAX_SUBS
                                                        : c->n_steps >= 1 && c->n_steps <= CONFORM_MAX_STEPS;
            if (strlen(phone) != 12 || !steps_ok)
                abort();
        }
        conform_suite_free(&s);
    } else if (strncmp(err, "fuzz.json", 9) != 0 && strncmp(err, "suite.json", 10) != 0) {
        abort(); /* every error names the file */
    }
    free(text);
    return 0;
}
