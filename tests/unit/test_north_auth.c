/* The northbound API's applications and tokens (sim/platform/north/north_auth.c):
 * login, refresh, every way a call is refused, expiry on the clock given. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sim/platform/north/north_auth.h"

static void test_login_and_calls(void **state)
{
    (void)state;
    static struct north_auth a;
    memset(&a, 0, sizeof a);
    char err[200], bearer[80];
    assert_int_equal(north_auth_add_spec(&a, "app1:s3cret", err, sizeof err), 0);
    assert_int_equal(north_auth_add(&a, "app2", "other", err, sizeof err), 0);
    const struct north_app *p = NULL;
    assert_int_equal(north_login(&a, "app1", "wrong", 0, &p), ND_BAD_CREDENTIALS);
    assert_int_equal(north_login(&a, "nope", "s3cret", 0, &p), ND_BAD_CREDENTIALS);
    assert_int_equal(north_login(&a, "app1", "s3cret", 1000, &p), ND_OK);
    assert_int_equal(strlen(p->access), NORTH_TOKEN_LEN);
    assert_int_equal(p->access_until_ms, 1000 + NORTH_TOKEN_TTL_MS);
    char first[NORTH_TOKEN_LEN + 1];
    memcpy(first, p->access, sizeof first);
    snprintf(bearer, sizeof bearer, "Bearer %s", first);
    assert_int_equal(north_check(&a, "app1", bearer, 2000, &p), ND_OK);
    assert_string_equal(p->id, "app1");
    snprintf(bearer, sizeof bearer, "bearer   %s", first); /* the scheme is case-blind, spaces skipped */
    assert_int_equal(north_check(&a, "app1", bearer, 2000, &p), ND_OK);
    /* refused calls */
    assert_int_equal(north_check(&a, NULL, bearer, 2000, &p), ND_NO_APP_KEY);
    assert_int_equal(north_check(&a, "", bearer, 2000, &p), ND_NO_APP_KEY);
    assert_int_equal(north_check(&a, "app9", bearer, 2000, &p), ND_UNKNOWN_APP);
    assert_int_equal(north_check(&a, "app1", NULL, 2000, &p), ND_NO_TOKEN);
    assert_int_equal(north_check(&a, "app1", "Basic abc", 2000, &p), ND_NO_TOKEN);
    assert_int_equal(north_check(&a, "app1", "Bearer ", 2000, &p), ND_NO_TOKEN);
    assert_int_equal(north_check(&a, "app2", bearer, 2000, &p), ND_BAD_TOKEN); /* another app's token */
    assert_int_equal(north_check(&a, "app1", bearer, 1000 + NORTH_TOKEN_TTL_MS, &p), ND_EXPIRED);
    /* a second login: the first token no longer works */
    assert_int_equal(north_login(&a, "app1", "s3cret", 3000, &p), ND_OK);
    assert_string_not_equal(p->access, first);
    assert_int_equal(north_check(&a, "app1", bearer, 3001, &p), ND_BAD_TOKEN);
    assert_string_equal(north_deny_text(ND_EXPIRED), "the accessToken has expired: log in again or refresh it");
}

static void test_refresh(void **state)
{
    (void)state;
    static struct north_auth a;
    memset(&a, 0, sizeof a);
    char err[200];
    assert_int_equal(north_auth_add(&a, "app1", "s", err, sizeof err), 0);
    const struct north_app *p = NULL;
    assert_int_equal(north_refresh(&a, "app1", "s", "x", 0, &p), ND_BAD_REFRESH); /* never logged in */
    assert_int_equal(north_login(&a, "app1", "s", 0, &p), ND_OK);
    char refresh[NORTH_TOKEN_LEN + 1], access[NORTH_TOKEN_LEN + 1];
    memcpy(refresh, p->refresh, sizeof refresh);
    memcpy(access, p->access, sizeof access);
    assert_int_equal(north_refresh(&a, "app1", "bad", refresh, 10, &p), ND_BAD_CREDENTIALS);
    assert_int_equal(north_refresh(&a, "app1", "s", "0123", 10, &p), ND_BAD_REFRESH);
    assert_int_equal(north_refresh(&a, "app1", "s", refresh, 10, &p), ND_OK);
    assert_string_not_equal(p->access, access);
    assert_int_equal(north_refresh(&a, "app1", "s", refresh, 20, &p), ND_BAD_REFRESH); /* used once */
    memcpy(refresh, p->refresh, sizeof refresh);
    assert_int_equal(north_refresh(&a, "app1", "s", refresh, 10 + NORTH_REFRESH_TTL_MS, &p), ND_BAD_REFRESH);
}

static void test_bad_apps(void **state)
{
    (void)state;
    static struct north_auth a;
    memset(&a, 0, sizeof a);
    char err[200];
    assert_int_equal(north_auth_add_spec(&a, "nocolon", err, sizeof err), -1);
    assert_string_equal(err, "\"nocolon\": expected APPID:SECRET");
    assert_int_equal(north_auth_add_spec(&a, ":s", err, sizeof err), -1);
    assert_int_equal(north_auth_add_spec(&a, "a b:s", err, sizeof err), -1);
    assert_string_equal(err, "appId \"a b\": 1 to 63 characters of A-Z a-z 0-9 _ - .");
    assert_int_equal(north_auth_add_spec(&a, "a:", err, sizeof err), -1);
    assert_string_equal(err, "appId a: a secret of 1 to 127 bytes");
    assert_int_equal(north_auth_add_spec(&a, "a:x y", err, sizeof err), -1);
    assert_int_equal(north_auth_add_spec(&a, "a:b:c", err, sizeof err), 0); /* the secret may hold a colon */
    assert_string_equal(a.apps[0].secret, "b:c");
    assert_int_equal(north_auth_add_spec(&a, "a:d", err, sizeof err), -1);
    assert_string_equal(err, "appId a: given twice");
}

/* Mutants: each breaks its one rule, and only with its name. */
static void test_mutants(void **state)
{
    (void)state;
    static struct north_auth a;
    memset(&a, 0, sizeof a);
    char err[200], bearer[80];
    assert_int_equal(north_auth_add_spec(&a, "app1:s3cret", err, sizeof err), 0);
    const struct north_app *p = NULL;
    a.mutant = "api-any-token"; /* another rule's mutant changes nothing here */
    assert_int_equal(north_login(&a, "app1", "wrong", 0, &p), ND_BAD_CREDENTIALS);
    a.mutant = "api-any-secret";
    assert_int_equal(north_login(&a, "app1", "wrong", 0, &p), ND_OK);
    a.mutant = NULL;
    assert_int_equal(north_login(&a, "app1", "s3cret", 0, &p), ND_OK);
    snprintf(bearer, sizeof bearer, "Bearer %s", p->access);
    assert_int_equal(north_check(&a, NULL, bearer, 10, &p), ND_NO_APP_KEY);
    assert_int_equal(north_check(&a, "app1", NULL, 10, &p), ND_NO_TOKEN);
    assert_int_equal(north_check(&a, "app1", "Bearer 00", 10, &p), ND_BAD_TOKEN);
    assert_int_equal(north_check(&a, "app1", bearer, NORTH_TOKEN_TTL_MS + 1, &p), ND_EXPIRED);
    a.mutant = "api-no-app-key";
    assert_int_equal(north_check(&a, NULL, bearer, 10, &p), ND_OK);
    a.mutant = "api-no-token";
    assert_int_equal(north_check(&a, "app1", NULL, 10, &p), ND_OK);
    a.mutant = "api-any-token";
    assert_int_equal(north_check(&a, "app1", "Bearer 00", 10, &p), ND_OK);
    a.mutant = "api-expired-token";
    assert_int_equal(north_check(&a, "app1", bearer, NORTH_TOKEN_TTL_MS + 1, &p), ND_OK);
    a.mutant = "api-refresh-reuse";
    assert_int_equal(north_refresh(&a, "app1", "s3cret", "not-it", 10, &p), ND_OK);
    a.mutant = "";
    assert_int_equal(north_refresh(&a, "app1", "s3cret", "not-it", 10, &p), ND_BAD_REFRESH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_login_and_calls),
        cmocka_unit_test(test_refresh),
        cmocka_unit_test(test_bad_apps),
        cmocka_unit_test(test_mutants),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
