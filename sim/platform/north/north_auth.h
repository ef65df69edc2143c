/* The northbound API's applications and their tokens (004 §2's application: an
 * appId and its secret; its login gives an accessToken, which every call carries as
 * "Authorization: Bearer TOKEN" beside "app_key: APPID", and a refreshToken that
 * gets a new pair).  Tokens expire on the virtual clock, so a test at a high time
 * scale sees an expiry in seconds.  Pure but for the random bytes of the tokens. */
#ifndef FLEETSIM_NORTH_AUTH_H
#define FLEETSIM_NORTH_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NORTH_APP_ID_MAX 64          /* bytes of an appId, with its NUL */
#define NORTH_SECRET_MAX 128
#define NORTH_TOKEN_LEN 32           /* hex digits of a token */
#define NORTH_TOKEN_TTL_MS (3600ll * 1000)         /* accessToken: expiresIn 3600 s */
#define NORTH_REFRESH_TTL_MS (30ll * 24 * 3600 * 1000)  /* refreshToken: 30 days */
#define NORTH_MAX_APPS 64

struct north_app {
    char id[NORTH_APP_ID_MAX];
    char secret[NORTH_SECRET_MAX];
    char access[NORTH_TOKEN_LEN + 1];   /* "" none */
    char refresh[NORTH_TOKEN_LEN + 1];
    int64_t access_until_ms, refresh_until_ms;
};

struct north_auth {
    int n;
    struct north_app apps[NORTH_MAX_APPS];
    const char *mutant;     /* a rule broken on purpose (svc_mutant.c's "api-*"), NULL none */
};
/* Is rule name the one broken (mutant, NULL or "" none)? */
bool north_mutant(const char *mutant, const char *name);

/* Why a call is refused. */
enum north_deny {
    ND_OK = 0,
    ND_BAD_CREDENTIALS,     /* login / refresh: no such appId, or not its secret */
    ND_BAD_REFRESH,         /* refresh: not the app's refreshToken, or expired */
    ND_NO_APP_KEY,          /* a call without app_key */
    ND_NO_TOKEN,            /* a call without "Authorization: Bearer ..." */
    ND_BAD_TOKEN,           /* not the app's current accessToken */
    ND_EXPIRED,             /* its accessToken, expired */
    ND_UNKNOWN_APP,         /* app_key names no application */
};
const char *north_deny_text(enum north_deny d);

/* Add an application ("ID:SECRET" as the command line gives it, or id and secret);
 * 0, or -1 with err (bad characters, too long, a second one of the same id). */
int north_auth_add(struct north_auth *a, const char *id, const char *secret, char *err, size_t cap);
int north_auth_add_spec(struct north_auth *a, const char *spec, char *err, size_t cap);

/* Login: a new pair of tokens (the old ones stop working).  ND_OK with *app set. */
enum north_deny north_login(struct north_auth *a, const char *id, const char *secret, int64_t now_ms,
                            const struct north_app **app);
/* Refresh: the app's refreshToken gives a new pair. */
enum north_deny north_refresh(struct north_auth *a, const char *id, const char *secret, const char *refresh,
                              int64_t now_ms, const struct north_app **app);
/* A call's headers: app_key and the Authorization value (either may be NULL). */
enum north_deny north_check(const struct north_auth *a, const char *app_key, const char *authorization,
                            int64_t now_ms, const struct north_app **app);

#endif
