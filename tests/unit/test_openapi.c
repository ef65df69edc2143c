/* docs/openapi.json against the routes the platform serves (core_api_routes, and the
 * front door's login and refreshToken): every route documented with its method, no
 * documented call the platform lacks, each operation with a summary, a 2xx answer and
 * (but for the logins) a 401, each path parameter of the route declared, and every
 * "$ref" resolving inside the file. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/textfile.h"
#include "sim/platform/core/core.h"
#include "sim/platform/north/north.h"
#include <cmocka.h>

#define SPEC "docs/openapi.json"

static cJSON *spec;

static int setup(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    if (textfile_read(SPEC, 1 << 22, &text, &len) < 0)
        return -1;
    spec = cJSON_Parse(text);
    free(text);
    return spec ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    cJSON_Delete(spec);
    return 0;
}

static void lower(const char *in, char *out, size_t cap)
{
    size_t i = 0;
    for (; in[i] && i + 1 < cap; i++)
        out[i] = (char)tolower((unsigned char)in[i]);
    out[i] = '\0';
}

struct call {
    const char *method, *path;
};

/* The routes served: the core's and its services', then the front door's own. */
static size_t served(struct call *out, size_t cap)
{
    size_t n = 0, nr = 0;
    const struct north_route *r = core_api_routes(&nr);
    for (size_t i = 0; i < nr && n < cap; i++)
        out[n++] = (struct call){r[i].method, r[i].pattern};
    if (n + 2 <= cap) {
        out[n++] = (struct call){"POST", "/iocm/app/sec/v1.1.0/login"};
        out[n++] = (struct call){"POST", "/iocm/app/sec/v1.1.0/refreshToken"};
    }
    return n;
}

static const cJSON *resolve(const char *ref)
{
    if (strncmp(ref, "#/", 2) != 0)
        return NULL;
    const cJSON *o = spec;
    char part[128];
    for (const char *p = ref + 2; o && *p;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (len >= sizeof part)
            return NULL;
        memcpy(part, p, len);
        part[len] = '\0';
        o = cJSON_GetObjectItemCaseSensitive(o, part);
        p += len + (slash != NULL);
    }
    return o;
}

static void check_refs(const cJSON *o, const char *where)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, o)
    {
        if (c->string && strcmp(c->string, "$ref") == 0) {
            if (!cJSON_IsString(c) || !resolve(c->valuestring))
                fail_msg("%s: $ref %s resolves to nothing", where, cJSON_IsString(c) ? c->valuestring : "?");
        } else if (cJSON_IsObject(c) || cJSON_IsArray(c)) {
            check_refs(c, where);
        }
    }
}

static void test_shape(void **state)
{
    (void)state;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(spec, "openapi");
    assert_true(cJSON_IsString(v) && strncmp(v->valuestring, "3.0.", 4) == 0);
    assert_non_null(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(spec, "info"), "title"));
    assert_true(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(spec, "paths")));
    check_refs(spec, SPEC);
}

static void test_every_route_documented(void **state)
{
    (void)state;
    struct call calls[512];
    size_t n = served(calls, 512);
    assert_true(n >= 3);
    const cJSON *paths = cJSON_GetObjectItemCaseSensitive(spec, "paths");
    for (size_t i = 0; i < n; i++) {
        char m[16];
        lower(calls[i].method, m, sizeof m);
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(paths, calls[i].path);
        const cJSON *op = cJSON_GetObjectItemCaseSensitive(p, m);
        if (!cJSON_IsObject(op))
            fail_msg("%s %s is served but not in %s", calls[i].method, calls[i].path, SPEC);
        if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(op, "summary")))
            fail_msg("%s %s: no summary", calls[i].method, calls[i].path);
        const cJSON *rs = cJSON_GetObjectItemCaseSensitive(op, "responses"), *r;
        bool ok2xx = false;
        cJSON_ArrayForEach(r, rs) ok2xx |= r->string && r->string[0] == '2';
        if (!ok2xx)
            fail_msg("%s %s: no 2xx answer documented", calls[i].method, calls[i].path);
        bool open = strstr(calls[i].path, "/sec/") != NULL;
        if (!open && !cJSON_GetObjectItemCaseSensitive(rs, "401"))
            fail_msg("%s %s: its 401 is not documented", calls[i].method, calls[i].path);
        /* every {x} of the path is a declared path parameter */
        for (const char *b = strchr(calls[i].path, '{'); b; b = strchr(b + 1, '{')) {
            const char *e = strchr(b, '}');
            assert_non_null(e);
            char name[64];
            snprintf(name, sizeof name, "%.*s", (int)(e - b - 1), b + 1);
            bool found = false;
            const cJSON *prm, *params = cJSON_GetObjectItemCaseSensitive(op, "parameters");
            if (!params)
                params = cJSON_GetObjectItemCaseSensitive(p, "parameters");
            cJSON_ArrayForEach(prm, params)
            {
                const cJSON *ref = cJSON_GetObjectItemCaseSensitive(prm, "$ref");
                const cJSON *d = cJSON_IsString(ref) ? resolve(ref->valuestring) : prm;
                const cJSON *nm = cJSON_GetObjectItemCaseSensitive(d, "name");
                const cJSON *in = cJSON_GetObjectItemCaseSensitive(d, "in");
                found |= cJSON_IsString(nm) && strcmp(nm->valuestring, name) == 0 && cJSON_IsString(in) &&
                         strcmp(in->valuestring, "path") == 0;
            }
            if (!found)
                fail_msg("%s %s: path parameter %s not declared", calls[i].method, calls[i].path, name);
        }
    }
}

static void test_nothing_documented_unserved(void **state)
{
    (void)state;
    struct call calls[512];
    size_t n = served(calls, 512);
    const cJSON *paths = cJSON_GetObjectItemCaseSensitive(spec, "paths"), *p, *op;
    static const char *const methods[] = {"get", "post", "put", "delete", "patch"};
    cJSON_ArrayForEach(p, paths)
    {
        cJSON_ArrayForEach(op, p)
        {
            bool is_method = false;
            for (size_t k = 0; k < sizeof methods / sizeof *methods; k++)
                is_method |= strcmp(op->string, methods[k]) == 0;
            if (!is_method)
                continue;
            bool found = false;
            for (size_t i = 0; i < n && !found; i++) {
                char m[16];
                lower(calls[i].method, m, sizeof m);
                found = strcmp(m, op->string) == 0 && strcmp(calls[i].path, p->string) == 0;
            }
            if (!found)
                fail_msg("%s documents %s %s, which the platform does not serve", SPEC, op->string, p->string);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shape),
        cmocka_unit_test(test_every_route_documented),
        cmocka_unit_test(test_nothing_documented_unserved),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
