/* Applications and tokens; see north_auth.h. */
#include "sim/platform/north/north_auth.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "sim/proto/hex.h"

static const char *const deny_text[] = {
    [ND_OK] = "",
    [ND_BAD_CREDENTIALS] = "appId or secret is not right",
    [ND_BAD_REFRESH] = "the refreshToken is not the application's current one, or it expired",
    [ND_NO_APP_KEY] = "the app_key header (the appId) is missing",
    [ND_NO_TOKEN] = "the Authorization header (Bearer accessToken) is missing",
    [ND_BAD_TOKEN] = "the accessToken is not the application's current one",
    [ND_EXPIRED] = "the accessToken has expired: log in again or refresh it",
    [ND_UNKNOWN_APP] = "app_key names no application",
};

const char *north_deny_text(enum north_deny d)
{
    return (unsigned)d < sizeof deny_text / sizeof *deny_text ? deny_text[d] : "?";
}

static bool id_ok(const char *s)
{
    if (!s[0])
        return false;
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' ||
              *s == '-' || *s == '.'))
            return false;
    return true;
}

int north_auth_add(struct north_auth *a, const char *id, const char *secret, char *err, size_t cap)
{
    if (strlen(id) >= NORTH_APP_ID_MAX || !id_ok(id)) {
        snprintf(err, cap, "appId \"%s\": 1 to %d characters of A-Z a-z 0-9 _ - .", id, NORTH_APP_ID_MAX - 1);
        return -1;
    }
    if (!secret[0] || strlen(secret) >= NORTH_SECRET_MAX) {
        snprintf(err, cap, "appId %s: a secret of 1 to %d bytes", id, NORTH_SECRET_MAX - 1);
        return -1;
    }
    for (const char *s = secret; *s; s++)
        if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e) {
            snprintf(err, cap, "appId %s: the secret is printable ASCII without spaces", id);
            return -1;
        }
    for (int i = 0; i < a->n; i++)
        if (strcmp(a->apps[i].id, id) == 0) {
            snprintf(err, cap, "appId %s: given twice", id);
            return -1;
        }
    if (a->n >= NORTH_MAX_APPS) {
        snprintf(err, cap, "more than %d applications", NORTH_MAX_APPS);
        return -1;
    }
    struct north_app *p = &a->apps[a->n++];
    memset(p, 0, sizeof *p);
    memcpy(p->id, id, strlen(id) + 1);
    memcpy(p->secret, secret, strlen(secret) + 1);
    return 0;
}

int north_auth_add_spec(struct north_auth *a, const char *spec, char *err, size_t cap)
{
    const char *colon = strchr(spec, ':');
    if (!colon || colon == spec) {
        snprintf(err, cap, "\"%s\": expected APPID:SECRET", spec);
        return -1;
    }
    char id[NORTH_APP_ID_MAX + 1];
    size_t n = (size_t)(colon - spec);
    if (n >= sizeof id) {
        snprintf(err, cap, "\"%.*s\": an appId of at most %d characters", (int)n, spec, NORTH_APP_ID_MAX - 1);
        return -1;
    }
    memcpy(id, spec, n);
    id[n] = 0;
    return north_auth_add(a, id, colon + 1, err, cap);
}

static struct north_app *app_of(struct north_auth *a, const char *id)
{
    for (int i = 0; id && i < a->n; i++)
        if (strcmp(a->apps[i].id, id) == 0)
            return &a->apps[i];
    return NULL;
}

static void token(char out[NORTH_TOKEN_LEN + 1])
{
    uint8_t b[NORTH_TOKEN_LEN / 2];
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t r = getrandom(b + got, sizeof b - got, 0);
        if (r > 0)
            got += (size_t)r;
    }
    hex_encode_lower(b, sizeof b, out, NORTH_TOKEN_LEN + 1);
}

bool north_mutant(const char *mutant, const char *name)
{
    return mutant && mutant[0] && strcmp(mutant, name) == 0;
}

/* Constant-time equality of two tokens or secrets. */
static bool same(const char *x, const char *y)
{
    size_t n = strlen(x), m = strlen(y);
    unsigned char d = (unsigned char)(n != m);
    for (size_t i = 0; i < n && i < m; i++)
        d |= (unsigned char)(x[i] ^ y[i]);
    return d == 0;
}

static void issue(struct north_app *p, int64_t now_ms)
{
    token(p->access);
    token(p->refresh);
    p->access_until_ms = now_ms + NORTH_TOKEN_TTL_MS;
    p->refresh_until_ms = now_ms + NORTH_REFRESH_TTL_MS;
}

enum north_deny north_login(struct north_auth *a, const char *id, const char *secret, int64_t now_ms,
                            const struct north_app **app)
{
    struct north_app *p = app_of(a, id);
    /* mutant: any secret logs in */
    if (!p || !secret || (!same(p->secret, secret) && !north_mutant(a->mutant, "api-any-secret")))
        return ND_BAD_CREDENTIALS;
    issue(p, now_ms);
    *app = p;
    return ND_OK;
}

enum north_deny north_refresh(struct north_auth *a, const char *id, const char *secret, const char *refresh,
                              int64_t now_ms, const struct north_app **app)
{
    struct north_app *p = app_of(a, id);
    if (!p || !secret || !same(p->secret, secret))
        return ND_BAD_CREDENTIALS;
    /* mutant: any refreshToken is good, a used one too */
    if ((!refresh || !p->refresh[0] || !same(p->refresh, refresh) || now_ms >= p->refresh_until_ms) &&
        !north_mutant(a->mutant, "api-refresh-reuse"))
        return ND_BAD_REFRESH;
    issue(p, now_ms);
    *app = p;
    return ND_OK;
}

enum north_deny north_check(const struct north_auth *a, const char *app_key, const char *authorization,
                            int64_t now_ms, const struct north_app **app)
{
    /* mutant: a call without app_key is the first application's */
    if ((!app_key || !app_key[0]) && north_mutant(a->mutant, "api-no-app-key") && a->n > 0)
        app_key = a->apps[0].id;
    if (!app_key || !app_key[0])
        return ND_NO_APP_KEY;
    const struct north_app *p = app_of((struct north_auth *)a, app_key);
    if (!p)
        return ND_UNKNOWN_APP;
    if ((!authorization || strncasecmp(authorization, "Bearer", 6) != 0) && north_mutant(a->mutant, "api-no-token")) {
        *app = p; /* mutant: a call without a token is taken */
        return ND_OK;
    }
    if (!authorization || strncasecmp(authorization, "Bearer", 6) != 0)
        return ND_NO_TOKEN;
    const char *t = authorization + 6;
    while (*t == ' ')
        t++;
    if (!*t)
        return ND_NO_TOKEN;
    if ((!p->access[0] || !same(p->access, t)) && !north_mutant(a->mutant, "api-any-token"))
        return ND_BAD_TOKEN;
    if (now_ms >= p->access_until_ms && !north_mutant(a->mutant, "api-expired-token"))
        return ND_EXPIRED; /* (mutants: any token, an expired one, is good) */
    *app = p;
    return ND_OK;
}
