/* libFuzzer target: any text as a run snapshot (what `fleetsim report merge`
 * reads): an error naming the file, or a snapshot that writes back as JSON and
 * reads back again; never a crash, and everything freed. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "harness/snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = 0;
    cJSON *j = cJSON_Parse(text);
    free(text);
    if (!j)
        return 0;
    struct run_snapshot *s = snapshot_new(), *t = snapshot_new();
    char err[512];
    if (s && t && snapshot_from_json(s, j, "fuzz.json", "", err, sizeof err) == 0) {
        /* what was read writes back, and that reads again */
        cJSON *back = snapshot_to_json(s);
        if (back && snapshot_from_json(t, back, "back.json", "", err, sizeof err) != 0)
            abort();
        cJSON_Delete(back);
    } else if (s && t && strncmp(err, "fuzz.json", 9) != 0) {
        abort(); /* every error names the file */
    }
    snapshot_free(s);
    snapshot_free(t);
    cJSON_Delete(j);
    return 0;
}
