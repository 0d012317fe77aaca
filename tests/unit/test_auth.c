/* test_auth.c - constant-time compare, the API token file and its cache,
 * web sessions, CSRF tokens and the brake on failed authentication. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifndef _WIN32
#include <sys/stat.h>
#endif

#include "auth.h"
#include "err.h"
#include "pathutil.h"
#include "plat.h"
#include "testutil.h"

#define SEC 1000000000LL

/* /auth/ct-equal */
static void test_ct_equal(void **state)
{
    (void)state;
    assert_true(auth_ct_equal("abc", "abc", 3));
    assert_false(auth_ct_equal("abc", "abd", 3));
    assert_false(auth_ct_equal("xbc", "abc", 3));
    assert_true(auth_ct_equal("", "", 0));
}

/* /auth/token/create-read-rotate-private */
static void test_token_file(void **state)
{
    char dir[PLAT_PATH_MAX], path[PLAT_PATH_MAX];
    char a[AUTH_TOKEN_HEX_LEN + 1], b[AUTH_TOKEN_HEX_LEN + 1], c[AUTH_TOKEN_HEX_LEN + 1];
    int created = -1;
    (void)state;
    tu_mkdtemp(dir, sizeof(dir));
    assert_int_equal(auth_token_read(dir, a), TMI_ENOENT);
    assert_int_equal(auth_token_ensure(dir, a, &created), TMI_OK);
    assert_int_equal(created, 1);
    assert_int_equal(strlen(a), AUTH_TOKEN_HEX_LEN);
    assert_int_equal(auth_token_ensure(dir, b, &created), TMI_OK);
    assert_int_equal(created, 0);
    assert_string_equal(a, b);
    tu_join(path, sizeof(path), dir, AUTH_TOKEN_FILE);
#ifndef _WIN32
    {
        struct stat sb;
        assert_int_equal(stat(path, &sb), 0);
        assert_int_equal(sb.st_mode & 0777, 0600);
    }
#endif
    assert_int_equal(auth_token_rotate(dir, c), TMI_OK);
    assert_string_not_equal(a, c);
    assert_int_equal(auth_token_read(dir, b), TMI_OK);
    assert_string_equal(b, c);
#ifndef _WIN32
    {
        struct stat sb;
        assert_int_equal(stat(path, &sb), 0);
        assert_int_equal(sb.st_mode & 0777, 0600);
    }
#endif
    /* a damaged file is reported, not silently replaced */
    tu_write(path, "not a token\n", 12);
    assert_int_equal(auth_token_read(dir, b), TMI_ECORRUPT);
    assert_int_equal(auth_token_ensure(dir, b, &created), TMI_ECORRUPT);
    tu_write(path, "ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789", 64);
    assert_int_equal(auth_token_read(dir, b), TMI_ECORRUPT); /* upper case: not ours */
    plat_remove_tree(dir);
}

/* /auth/token/cache-sees-rotation */
static void test_token_cache(void **state)
{
    char dir[PLAT_PATH_MAX], tok[AUTH_TOKEN_HEX_LEN + 1], tok2[AUTH_TOKEN_HEX_LEN + 1];
    auth_token_cache *c = NULL;
    int created;
    int64_t t = 100 * SEC;
    (void)state;
    tu_mkdtemp(dir, sizeof(dir));
    assert_int_equal(auth_token_cache_new(dir, &c), TMI_OK);
    assert_false(auth_token_check(c, "x", 1, t)); /* no token file yet */
    assert_int_equal(auth_token_ensure(dir, tok, &created), TMI_OK);
    assert_false(auth_token_check(c, tok, AUTH_TOKEN_HEX_LEN, t)); /* not re-read within 1 s */
    t += 2 * SEC;
    assert_true(auth_token_check(c, tok, AUTH_TOKEN_HEX_LEN, t));
    assert_false(auth_token_check(c, tok, AUTH_TOKEN_HEX_LEN - 1, t));
    assert_false(auth_token_check(c, "", 0, t));
    tok[0] = tok[0] == 'a' ? 'b' : 'a';
    assert_false(auth_token_check(c, tok, AUTH_TOKEN_HEX_LEN, t));
    assert_int_equal(auth_token_rotate(dir, tok2), TMI_OK);
    t += 2 * SEC;
    assert_true(auth_token_check(c, tok2, AUTH_TOKEN_HEX_LEN, t));
    auth_token_cache_free(c);
    plat_remove_tree(dir);
}

/* /auth/session/lifecycle */
static void test_sessions(void **state)
{
    auth_sessions *s = NULL;
    auth_session_info info;
    char id[AUTH_SECRET_HEX_LEN + 1], csrf[AUTH_SECRET_HEX_LEN + 1];
    char id2[AUTH_SECRET_HEX_LEN + 1], csrf2[AUTH_SECRET_HEX_LEN + 1];
    int64_t t = 1000 * SEC;
    (void)state;
    assert_int_equal(auth_sessions_new(&s), TMI_OK);
    assert_int_equal(auth_session_create(s, "admin", t, id, csrf), TMI_OK);
    assert_int_equal(strlen(id), AUTH_SECRET_HEX_LEN);
    assert_int_equal(strlen(csrf), AUTH_SECRET_HEX_LEN);
    assert_string_not_equal(id, csrf);
    assert_int_equal(auth_session_check(s, id, t + SEC, &info), TMI_OK);
    assert_string_equal(info.user, "admin");
    assert_string_equal(info.csrf, csrf);
    /* unknown, malformed */
    assert_int_equal(auth_session_create(s, "other", t, id2, csrf2), TMI_OK);
    assert_string_not_equal(id, id2);
    id2[5] = id2[5] == '0' ? '1' : '0';
    assert_int_equal(auth_session_check(s, id2, t, &info), TMI_EAUTH);
    assert_int_equal(auth_session_check(s, "short", t, &info), TMI_EAUTH);
    assert_int_equal(auth_session_check(s, NULL, t, &info), TMI_EAUTH);
    /* idle expiry: used within the window stays alive */
    t += AUTH_SESSION_IDLE_NS - SEC;
    assert_int_equal(auth_session_check(s, id, t, &info), TMI_OK);
    t += AUTH_SESSION_IDLE_NS + SEC;
    assert_int_equal(auth_session_check(s, id, t, &info), TMI_EAUTH);
    /* logout */
    assert_int_equal(auth_session_create(s, "admin", t, id, csrf), TMI_OK);
    assert_int_equal(auth_session_end(s, id), TMI_OK);
    assert_int_equal(auth_session_check(s, id, t, &info), TMI_EAUTH);
    assert_int_equal(auth_session_end(s, id), TMI_ENOENT);
    /* absolute expiry, however busy */
    assert_int_equal(auth_session_create(s, "admin", t, id, csrf), TMI_OK);
    for (int64_t u = t; u < t + AUTH_SESSION_MAX_NS; u += 3600 * SEC)
        assert_int_equal(auth_session_check(s, id, u, &info), TMI_OK);
    assert_int_equal(auth_session_check(s, id, t + AUTH_SESSION_MAX_NS + SEC, &info), TMI_EAUTH);
    auth_sessions_free(s);
}

/* /auth/session/oldest-dropped-when-full */
static void test_session_eviction(void **state)
{
    auth_sessions *s = NULL;
    auth_session_info info;
    char first[AUTH_SECRET_HEX_LEN + 1], id[AUTH_SECRET_HEX_LEN + 1], csrf[AUTH_SECRET_HEX_LEN + 1];
    int64_t t = 5 * SEC;
    (void)state;
    assert_int_equal(auth_sessions_new(&s), TMI_OK);
    assert_int_equal(auth_session_create(s, "u", t, first, csrf), TMI_OK);
    for (int i = 1; i < AUTH_MAX_SESSIONS; i++)
        assert_int_equal(auth_session_create(s, "u", t + i, id, csrf), TMI_OK);
    assert_int_equal(auth_session_count(s), AUTH_MAX_SESSIONS);
    assert_int_equal(auth_session_check(s, first, t + 100, &info), TMI_OK); /* now recent */
    assert_int_equal(auth_session_create(s, "u", t + 200, id, csrf), TMI_OK);
    assert_int_equal(auth_session_count(s), AUTH_MAX_SESSIONS);
    assert_int_equal(auth_session_check(s, first, t + 300, &info), TMI_OK);
    assert_int_equal(auth_session_check(s, id, t + 300, &info), TMI_OK);
    auth_sessions_free(s);
}

/* /auth/csrf/matches-only-the-session-token */
static void test_csrf(void **state)
{
    auth_session_info info;
    char other[AUTH_SECRET_HEX_LEN + 1];
    (void)state;
    memset(&info, 0, sizeof(info));
    assert_int_equal(auth_random_hex(AUTH_SECRET_HEX_LEN / 2, info.csrf), TMI_OK);
    assert_true(auth_csrf_ok(&info, info.csrf));
    memcpy(other, info.csrf, sizeof(other));
    other[AUTH_SECRET_HEX_LEN - 1] = other[AUTH_SECRET_HEX_LEN - 1] == 'a' ? 'b' : 'a';
    assert_false(auth_csrf_ok(&info, other));
    assert_false(auth_csrf_ok(&info, NULL));
    assert_false(auth_csrf_ok(&info, ""));
    other[10] = '\0';
    assert_false(auth_csrf_ok(&info, other));
}

/* /auth/throttle/free-then-doubling-capped-reset */
static void test_throttle(void **state)
{
    auth_throttle t;
    int64_t now = 50 * SEC;
    unsigned ms, prev = 0;
    (void)state;
    memset(&t, 0, sizeof(t));
    for (int i = 0; i < AUTH_THROTTLE_FREE; i++) {
        assert_int_equal(auth_throttle_wait_ms(&t, now), 0);
        assert_int_equal(auth_throttle_fail(&t, now), 0);
    }
    ms = auth_throttle_fail(&t, now);
    assert_int_equal(ms, AUTH_THROTTLE_BASE_MS);
    assert_int_equal(auth_throttle_wait_ms(&t, now), AUTH_THROTTLE_BASE_MS);
    assert_int_equal(auth_throttle_wait_ms(&t, now + (int64_t)ms * 1000000), 0);
    for (int i = 0; i < 20; i++) {
        now += 1 * SEC;
        ms = auth_throttle_fail(&t, now);
        assert_true(ms >= prev);
        assert_true(ms <= AUTH_THROTTLE_MAX_MS);
        prev = ms;
    }
    assert_int_equal(ms, AUTH_THROTTLE_MAX_MS);
    assert_int_equal(t.total, AUTH_THROTTLE_FREE + 21);
    /* a quiet spell forgets the count */
    now += AUTH_THROTTLE_RESET_NS + SEC;
    assert_int_equal(auth_throttle_wait_ms(&t, now), 0);
    assert_int_equal(auth_throttle_fail(&t, now), 0);
    assert_int_equal(t.failures, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ct_equal),         cmocka_unit_test(test_token_file),
        cmocka_unit_test(test_token_cache),      cmocka_unit_test(test_sessions),
        cmocka_unit_test(test_session_eviction), cmocka_unit_test(test_csrf),
        cmocka_unit_test(test_throttle),
    };
    return cmocka_run_group_tests_name("auth", tests, NULL, NULL);
}
