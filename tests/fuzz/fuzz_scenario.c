/* libFuzzer target: any text as a scenario file: an error message or a scenario,
 * never a crash, and everything freed. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = 0;
    struct scenario *sc = calloc(1, sizeof *sc);
    char err[512];
    if (sc && scenario_parse(text, "fuzz.json", sc, err, sizeof err) == 0)
        scenario_free(sc);
    else if (sc && strncmp(err, "fuzz.json", 9) != 0)
        abort(); /* every error names the file */
    free(sc);
    free(text);
    return 0;
}
