/* libFuzzer target: any JSON as the snapshot of a report, and any bytes as a
 * case's text, rendered as report.html: never a crash, a hang or a leak, and
 * the page written whatever the input. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "report/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = 0;
    struct run_report r;
    report_init(&r, "fuzz", "fuzz.json");
    struct case_result c;
    memset(&c, 0, sizeof c);
    snprintf(c.id, sizeof c.id, "%s", text);
    snprintf(c.desc, sizeof c.desc, "%s", text);
    snprintf(c.suite, sizeof c.suite, "%s", text);
    c.verdict = size ? (enum verdict)(data[0] % 5) : VERDICT_PASS;   /* 4: out of range */
    c.wire_log = text;
    report_add_case(&r, &c);
    r.snapshot = cJSON_Parse(text);
    free(text);
    char err[256];
    if (report_write_html(&r, "/dev/null", err, sizeof err) != 0)
        abort();
    report_free(&r);
    return 0;
}
