/* Where a run's scenario comes from: a file, standard input ("-"), or the command
 * line alone (`--protocol jt808 -c 1000 -d 30s`), and the overrides laid over it
 * (`--set fleets[0].report.every=1s`, which the quick flags become).  The result
 * is scenario text that the parser then checks like any file, so an override is
 * held to the same rules, with the same messages, as the file it changes. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/scenario.h"
#include "harness/scenario_dialect.h"

#define STDIN_MAX (16u << 20)

static char *read_stdin(char *err, size_t cap)
{
    size_t len = 0, room = 65536;
    char *buf = malloc(room + 1);
    if (!buf) {
        snprintf(err, cap, "<stdin>: out of memory");
        return NULL;
    }
    for (;;) {
        if (len == room) {
            if (room >= STDIN_MAX) {
                snprintf(err, cap, "<stdin>: over %u MiB", STDIN_MAX >> 20);
                free(buf);
                return NULL;
            }
            char *nb = realloc(buf, room * 2 + 1);
            if (!nb) {
                snprintf(err, cap, "<stdin>: out of memory");
                free(buf);
                return NULL;
            }
            buf = nb;
            room *= 2;
        }
        size_t n = fread(buf + len, 1, room - len, stdin);
        len += n;
        if (n == 0) {
            if (ferror(stdin)) {
                snprintf(err, cap, "<stdin>: %s", strerror(errno));
                free(buf);
                return NULL;
            }
            break;
        }
    }
    buf[len] = '\0';
    return buf;
}

/* The one-fleet scenario of a run with no file. */
static char *quick_scenario(const char *protocol, char *err, size_t cap)
{
    if (!sc_dialect_find(protocol)) {
        char known[200] = "";
        for (int i = 0; sc_dialects[i]; i++) {
            size_t l = strlen(known);
            snprintf(known + l, sizeof known - l, "%s%s", i ? ", " : "", sc_dialects[i]->name);
        }
        snprintf(err, cap, "--protocol: '%s' is not one of %s", protocol, known);
        return NULL;
    }
    cJSON *j = cJSON_CreateObject();
    char name[64];
    snprintf(name, sizeof name, "quick-%s", protocol);
    cJSON_AddStringToObject(j, "name", name);
    cJSON_AddStringToObject(j, "duration", "30s");
    cJSON *fleets = cJSON_AddArrayToObject(j, "fleets");
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "id", "quick");
    cJSON_AddStringToObject(f, "protocol", protocol);
    cJSON_AddNumberToObject(f, "count", 100);
    cJSON_AddItemToArray(fleets, f);
    /* what any load test wants to know: did they all get on, did every message settle */
    cJSON *ex = cJSON_AddArrayToObject(j, "expect");
    cJSON *e1 = cJSON_CreateObject();
    cJSON_AddStringToObject(e1, "id", "QUICK-ONLINE-001");
    cJSON_AddStringToObject(e1, "state", "authenticated");
    cJSON_AddStringToObject(e1, "within", "30s");
    cJSON_AddItemToArray(ex, e1);
    cJSON *e2 = cJSON_CreateObject();
    cJSON_AddStringToObject(e2, "id", "QUICK-LEDGER-001");
    cJSON_AddStringToObject(e2, "ledger", "balanced");
    cJSON_AddItemToArray(ex, e2);
    char *text = cJSON_Print(j);
    cJSON_Delete(j);
    if (!text)
        snprintf(err, cap, "out of memory");
    return text;
}

/* --- PATH=VALUE ------------------------------------------------------------------------ */

/* A value as JSON when it reads as JSON (1000, true, "x", {..}), else as a string (30s):
 * the whole of it, so that 30s is not the number 30 with "s" after it. */
static cJSON *set_value(const char *v)
{
    cJSON *x = cJSON_ParseWithOpts(v, NULL, 1);
    if (x && (cJSON_IsNumber(x) || cJSON_IsBool(x) || cJSON_IsNull(x) || cJSON_IsString(x) || cJSON_IsObject(x) ||
              cJSON_IsArray(x)))
        return x;
    cJSON_Delete(x);
    return cJSON_CreateString(v);
}

/* Apply value at path below node; 0, or -1 with err. at is the path's rest. */
static int set_at(cJSON *node, const char *path, const char *at, const char *value, char *err, size_t cap)
{
    /* one step: a key, then maybe [N] or [*] */
    size_t kl = strcspn(at, ".[");
    char key[128];
    if (kl == 0 && *at != '[') {
        snprintf(err, cap, "--set %s: an empty name in the path", path);
        return -1;
    }
    if (kl >= sizeof key) {
        snprintf(err, cap, "--set %s: a name over %zu chars", path, sizeof key - 1);
        return -1;
    }
    memcpy(key, at, kl);
    key[kl] = '\0';
    const char *rest = at + kl;
    cJSON *child = node;
    if (kl) {
        if (!cJSON_IsObject(node)) {
            snprintf(err, cap, "--set %s: '%s' is inside something that is not an object", path, key);
            return -1;
        }
        child = cJSON_GetObjectItemCaseSensitive(node, key);
        if (!*rest) {
            cJSON *v = set_value(value);
            if (!v) {
                snprintf(err, cap, "out of memory");
                return -1;
            }
            if (child)
                cJSON_ReplaceItemInObjectCaseSensitive(node, key, v);
            else
                cJSON_AddItemToObject(node, key, v);
            return 0;
        }
        if (!child) {
            if (*rest == '[') {
                snprintf(err, cap, "--set %s: there is no '%s' to index", path, key);
                return -1;
            }
            child = cJSON_AddObjectToObject(node, key);
        }
    }
    if (*rest == '[') {
        const char *close = strchr(rest, ']');
        if (!close) {
            snprintf(err, cap, "--set %s: '[' without ']'", path);
            return -1;
        }
        if (!cJSON_IsArray(child)) {
            snprintf(err, cap, "--set %s: '%s' is not a list", path, key);
            return -1;
        }
        const char *after = close + 1;
        if (*after == '.')
            after++;
        else if (*after && *after != '[') {
            snprintf(err, cap, "--set %s: '.' or '[' expected after ']'", path);
            return -1;
        }
        int n = cJSON_GetArraySize(child);
        if (close - rest == 2 && rest[1] == '*') {
            if (!*after) {
                snprintf(err, cap, "--set %s: [*] needs a field after it", path);
                return -1;
            }
            for (int i = 0; i < n; i++)
                if (set_at(cJSON_GetArrayItem(child, i), path, after, value, err, cap) < 0)
                    return -1;
            return 0;
        }
        char *end;
        long idx = strtol(rest + 1, &end, 10);
        if (end != close || rest + 1 == close || idx < 0) {
            snprintf(err, cap, "--set %s: the index must be a number or *", path);
            return -1;
        }
        if (idx >= n) {
            snprintf(err, cap, "--set %s: '%s' has %d item%s", path, key, n, n == 1 ? "" : "s");
            return -1;
        }
        if (!*after) {
            cJSON *v = set_value(value);
            if (!v) {
                snprintf(err, cap, "out of memory");
                return -1;
            }
            cJSON_ReplaceItemInArray(child, (int)idx, v);
            return 0;
        }
        return set_at(cJSON_GetArrayItem(child, (int)idx), path, after, value, err, cap);
    }
    /* '.' */
    return set_at(child, path, rest + 1, value, err, cap);
}

int scenario_set(cJSON *root, const char *assignment, char *err, size_t cap)
{
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment) {
        snprintf(err, cap, "--set '%s': expected PATH=VALUE (fleets[0].count=1000)", assignment);
        return -1;
    }
    char path[256];
    size_t pl = (size_t)(eq - assignment);
    if (pl >= sizeof path) {
        snprintf(err, cap, "--set: a path over %zu chars", sizeof path - 1);
        return -1;
    }
    memcpy(path, assignment, pl);
    path[pl] = '\0';
    return set_at(root, path, path, eq + 1, err, cap);
}

char *scenario_source_text(const struct scenario_source *src, char *err, size_t cap)
{
    char *text;
    if (src->path && strcmp(src->path, "-") == 0) {
        text = read_stdin(err, cap);
    } else if (src->path) {
        text = scenario_read_text(src->path, err, cap);
    } else if (src->protocol) {
        text = quick_scenario(src->protocol, err, cap);
    } else {
        snprintf(err, cap, "expected a SCENARIO file, '-' for standard input, or --protocol NAME");
        return NULL;
    }
    if (!text || !src->n_sets)
        return text;
    /* the overrides: through JSON, then back to text for the parser */
    cJSON *root = cJSON_Parse(text);
    if (!root) {
        /* the parser says where the file is broken, with its line */
        return text;
    }
    free(text);
    for (int i = 0; i < src->n_sets; i++)
        if (scenario_set(root, src->sets[i], err, cap) < 0) {
            cJSON_Delete(root);
            return NULL;
        }
    text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text)
        snprintf(err, cap, "out of memory");
    return text;
}
