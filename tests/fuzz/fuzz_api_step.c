/* libFuzzer target: the text of an api step's parts (harness/api_client.c,
 * harness/scenario_api.c): any bytes as a capture path (checked, then looked up in
 * an answer), as an answer looked up by a few paths, and as a template filled with
 * a captured value and ${device:FLEET:N}: never a crash; a path looked up is one
 * api_json_path_ok takes; a filled template fits its buffer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/api_client.h"
#include "harness/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct scenario sc;
static int ready;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready) {
        char err[SCENARIO_ERR_BYTES];
        const char *doc = "{\"name\":\"f\",\"duration\":\"10s\",\"fleets\":[{\"id\":\"vans\",\"protocol\":\"jt808\","
                          "\"count\":3,\"phone\":\"13500000000+\",\"version\":2013}],"
                          "\"expect\":[{\"id\":\"L\",\"ledger\":\"balanced\"}]}";
        if (scenario_parse(doc, "f.json", &sc, err, sizeof err) != 0)
            abort();
        ready = 1;
    }
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    static const char answer[] = "{\"commandId\":\"c1\",\"services\":[{\"data\":{\"lat\":1}}],\"a\":[[1,[2]]]}";
    cJSON *ans = cJSON_Parse(answer);
    const cJSON *v = api_json_at(ans, s);
    if (v && !api_json_path_ok(s))
        abort();
    char text[64];
    if (v)
        api_json_text(v, text, sizeof text);
    cJSON_Delete(ans);
    cJSON *j = cJSON_ParseWithLength((const char *)data, size);
    static const char *const paths[] = {"commandId", "services[0].data.lat", "a[0][1][0]", "x.y.z", "a[99999999999]"};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        const cJSON *w = api_json_at(j, paths[i]);
        if (w)
            api_json_text(w, text, sizeof text);
    }
    cJSON_Delete(j);
    const char names[2][SC_API_NAME_MAX] = {"cmd1", "x"};
    const char *vals[2] = {"c0ffee", ""};
    char out[256], why[128];
    if (scenario_api_subst(&sc, s, names, vals, 2, out, sizeof out, why, sizeof why) == 0 && strlen(out) >= sizeof out)
        abort();
    free(s);
    return 0;
}
