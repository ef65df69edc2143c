/* libFuzzer target: any bytes as a conformance report.json (what `fleetsim report
 * DIR...` reads): an error naming the file, or a report that writes back as the
 * same text and reads back again, and merges with a copy of itself (a repeated
 * run) into a report that is a conformance report too; never a crash, and
 * everything freed. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "harness/conform_report.h"
#include "report/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char err[8192], note[4096];
    struct run_report r[2], m;
    if (conform_report_parse((const char *)data, size, "fuzz.json", &r[0], err, sizeof err) != 0) {
        if (strncmp(err, "fuzz.json", 9) != 0)
            abort(); /* every error names the file */
        report_free(&r[0]);
        return 0;
    }
    char *text = report_json_text(&r[0]);
    if (text == NULL) {
        report_free(&r[0]);
        return 0;
    }
    /* what was read writes back, that reads again and writes the same text */
    if (conform_report_parse(text, strlen(text), "back.json", &r[1], err, sizeof err) != 0)
        abort();
    char *again = report_json_text(&r[1]);
    if (again && strcmp(text, again) != 0)
        abort();
    cJSON_free(again);
    cJSON_free(text);
    /* a repeated run: the merge has every case once, and is a conformance report */
    static const char *const files[] = {"a.json", "b.json"};
    if (conform_report_merge(r, files, 2, true, &m, note, sizeof note, err, sizeof err) == 0) {
        if (m.n_cases != r[0].n_cases || conform_report_check(&m, "merged.json", err, sizeof err) != 0)
            abort();
        report_free(&m);
    }
    report_free(&r[0]);
    report_free(&r[1]);
    return 0;
}
