/* test_auth.c - constant-time compare, the API token file and its cache,
 * web sessions (cookie and page secret) and the brake on failed
 * authentication. */
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
    char id[AUTH_SECRET_HEX_LEN + 1], sec[AUTH_SECRET_HEX_LEN + 1];
    char id2[AUTH_SECRET_HEX_LEN + 1], sec2[AUTH_SECRET_HEX_LEN + 1];
    int64_t t = 1000 * SEC;
    (void)state;
    assert_int_equal(auth_sessions_new(&s), TMI_OK);
    assert_int_equal(auth_session_create(s, "admin", t, id, sec), TMI_OK);
    assert_int_equal(strlen(id), AUTH_SECRET_HEX_LEN);
    assert_int_equal(strlen(sec), AUTH_SECRET_HEX_LEN);
    assert_string_not_equal(id, sec);
    assert_int_equal(auth_session_check(s, id, sec, t + SEC, &info), TMI_OK);
    assert_string_equal(info.user, "admin");
    /* unknown, malformed */
    assert_int_equal(auth_session_create(s, "other", t, id2, sec2), TMI_OK);
    assert_string_not_equal(id, id2);
    assert_string_not_equal(sec, sec2);
    id2[5] = id2[5] == '0' ? '1' : '0';
    assert_int_equal(auth_session_check(s, id2, sec2, t, &info), TMI_EAUTH);
    assert_int_equal(auth_session_check(s, "short", sec, t, &info), TMI_EAUTH);
    assert_int_equal(auth_session_check(s, NULL, sec, t, &info), TMI_EAUTH);
    /* idle expiry: used within the window stays alive */
    t += AUTH_SESSION_IDLE_NS - SEC;
    assert_int_equal(auth_session_check(s, id, sec, t, &info), TMI_OK);
    t += AUTH_SESSION_IDLE_NS + SEC;
    assert_int_equal(auth_session_check(s, id, sec, t, &info), TMI_EAUTH);
    /* logout */
    assert_int_equal(auth_session_create(s, "admin", t, id, sec), TMI_OK);
    assert_int_equal(auth_session_end(s, id), TMI_OK);
    assert_int_equal(auth_session_check(s, id, sec, t, &info), TMI_EAUTH);
    assert_int_equal(auth_session_end(s, id), TMI_ENOENT);
    /* absolute expiry, however busy */
    assert_int_equal(auth_session_create(s, "admin", t, id, sec), TMI_OK);
    for (int64_t u = t; u < t + AUTH_SESSION_MAX_NS; u += 3600 * SEC)
        assert_int_equal(auth_session_check(s, id, sec, u, &info), TMI_OK);
    assert_int_equal(auth_session_check(s, id, sec, t + AUTH_SESSION_MAX_NS + SEC, &info),
                     TMI_EAUTH);
    auth_sessions_free(s);
}

/* /auth/session/cookie-alone-is-nothing */
static void test_session_secret(void **state)
{
    auth_sessions *s = NULL;
    auth_session_info info;
    char id[AUTH_SECRET_HEX_LEN + 1], sec[AUTH_SECRET_HEX_LEN + 1];
    char id2[AUTH_SECRET_HEX_LEN + 1], sec2[AUTH_SECRET_HEX_LEN + 1];
    char other[AUTH_SECRET_HEX_LEN + 1];
    int64_t t = 7 * SEC;
    (void)state;
    assert_int_equal(auth_sessions_new(&s), TMI_OK);
    assert_int_equal(auth_session_create(s, "admin", t, id, sec), TMI_OK);
    assert_int_equal(auth_session_create(s, "admin", t, id2, sec2), TMI_OK);
    /* the cookie without its secret, with a wrong one, with another
     * session's, with the id as secret */
    assert_int_equal(auth_session_check(s, id, NULL, t, &info), TMI_EAUTH);
    assert_int_equal(auth_session_check(s, id, "", t, &info), TMI_EAUTH);
    memcpy(other, sec, sizeof(other));
    other[AUTH_SECRET_HEX_LEN - 1] = other[AUTH_SECRET_HEX_LEN - 1] == 'a' ? 'b' : 'a';
    assert_int_equal(auth_session_check(s, id, other, t, &info), TMI_EAUTH);
    assert_int_equal(auth_session_check(s, id, sec2, t, &info), TMI_EAUTH);
    assert_int_equal(auth_session_check(s, id2, sec, t, &info), TMI_EAUTH);
    assert_int_equal(auth_session_check(s, id, id, t, &info), TMI_EAUTH);
    other[10] = '\0';
    assert_int_equal(auth_session_check(s, id, other, t, &info), TMI_EAUTH);
    memcpy(other, sec, sizeof(other));
    other[0] = other[0] >= 'a' ? (char)(other[0] - 'a' + 'A') : other[0];
    if (strcmp(other, sec) != 0) /* upper case: not the secret as sent */
        assert_int_equal(auth_session_check(s, id, other, t, &info), TMI_EAUTH);
    assert_int_equal(auth_session_check(s, id, sec, t, &info), TMI_OK);
    assert_int_equal(auth_session_check(s, id2, sec2, t, &info), TMI_OK);
    /* the cookie alone does not keep a session alive: failed checks do not
     * count as use */
    t += AUTH_SESSION_IDLE_NS - SEC;
    assert_int_equal(auth_session_check(s, id, NULL, t, &info), TMI_EAUTH);
    assert_int_equal(auth_session_check(s, id, sec2, t, &info), TMI_EAUTH);
    assert_int_equal(auth_session_check(s, id2, sec2, t, &info), TMI_OK);
    t += 2 * SEC;
    assert_int_equal(auth_session_check(s, id, sec, t, &info), TMI_EAUTH);
    assert_int_equal(auth_session_check(s, id2, sec2, t, &info), TMI_OK);
    auth_sessions_free(s);
}

/* /auth/session/cookie-name-carries-the-port */
static void test_cookie_name(void **state)
{
    char name[AUTH_COOKIE_NAME_MAX], small[8];
    (void)state;
    assert_int_equal(auth_cookie_name(8917, name, sizeof(name)), TMI_OK);
    assert_string_equal(name, "tmi_session_8917");
    assert_int_equal(auth_cookie_name(65535, name, sizeof(name)), TMI_OK);
    assert_string_equal(name, "tmi_session_65535");
    assert_int_equal(auth_cookie_name(1, name, sizeof(name)), TMI_OK);
    assert_string_equal(name, "tmi_session_1");
    assert_int_equal(auth_cookie_name(0, name, sizeof(name)), TMI_EINVAL);
    assert_int_equal(auth_cookie_name(65536, name, sizeof(name)), TMI_EINVAL);
    assert_int_equal(auth_cookie_name(8917, small, sizeof(small)), TMI_ETOOBIG);
}

/* /auth/session/oldest-dropped-when-full */
static void test_session_eviction(void **state)
{
    auth_sessions *s = NULL;
    auth_session_info info;
    char first[AUTH_SECRET_HEX_LEN + 1], fsec[AUTH_SECRET_HEX_LEN + 1];
    char id[AUTH_SECRET_HEX_LEN + 1], sec[AUTH_SECRET_HEX_LEN + 1];
    int64_t t = 5 * SEC;
    (void)state;
    assert_int_equal(auth_sessions_new(&s), TMI_OK);
    assert_int_equal(auth_session_create(s, "u", t, first, fsec), TMI_OK);
    for (int i = 1; i < AUTH_MAX_SESSIONS; i++)
        assert_int_equal(auth_session_create(s, "u", t + i, id, sec), TMI_OK);
    assert_int_equal(auth_session_count(s), AUTH_MAX_SESSIONS);
    assert_int_equal(auth_session_check(s, first, fsec, t + 100, &info), TMI_OK); /* now recent */
    assert_int_equal(auth_session_create(s, "u", t + 200, id, sec), TMI_OK);
    assert_int_equal(auth_session_count(s), AUTH_MAX_SESSIONS);
    assert_int_equal(auth_session_check(s, first, fsec, t + 300, &info), TMI_OK);
    assert_int_equal(auth_session_check(s, id, sec, t + 300, &info), TMI_OK);
    auth_sessions_free(s);
}

/* /auth/throttle/hold-bounded-in-time-and-number */
static void test_throttle_hold(void **state)
{
    auth_throttle t;
    int64_t now = 80 * SEC;
    unsigned ms;
    (void)state;
    memset(&t, 0, sizeof(t));
    /* no brake, no hold */
    assert_int_equal(auth_throttle_hold(&t, now), 0);
    for (int i = 0; i < AUTH_THROTTLE_FREE; i++)
        auth_throttle_fail(&t, now);
    assert_int_equal(auth_throttle_hold(&t, now), 0);
    /* the first block is shorter than the cap: held for the rest of it */
    ms = auth_throttle_fail(&t, now);
    assert_int_equal(ms, AUTH_THROTTLE_BASE_MS);
    assert_int_equal(auth_throttle_hold(&t, now + 100 * 1000000LL), AUTH_THROTTLE_BASE_MS - 100);
    auth_throttle_release(&t);
    /* a long block: held at most AUTH_HOLD_MAX_MS, and only so many at once */
    for (int i = 0; i < 8; i++)
        auth_throttle_fail(&t, now);
    assert_true(auth_throttle_wait_ms(&t, now) > AUTH_HOLD_MAX_MS);
    for (int i = 0; i < AUTH_HOLD_MAX_HELD; i++)
        assert_int_equal(auth_throttle_hold(&t, now), AUTH_HOLD_MAX_MS);
    assert_int_equal(auth_throttle_hold(&t, now), 0);
    assert_int_equal(auth_throttle_hold(&t, now), 0);
    auth_throttle_release(&t);
    assert_int_equal(auth_throttle_hold(&t, now), AUTH_HOLD_MAX_MS);
    for (int i = 0; i < AUTH_HOLD_MAX_HELD; i++)
        auth_throttle_release(&t);
    assert_int_equal(t.held, 0);
    auth_throttle_release(&t); /* one too many is harmless */
    assert_int_equal(t.held, 0);
    /* once the block is over, nothing is held */
    assert_int_equal(auth_throttle_hold(&t, now + (int64_t)AUTH_THROTTLE_MAX_MS * 1000000LL), 0);
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
        cmocka_unit_test(test_session_secret),   cmocka_unit_test(test_cookie_name),
        cmocka_unit_test(test_session_eviction), cmocka_unit_test(test_throttle),
        cmocka_unit_test(test_throttle_hold),
    };
    return cmocka_run_group_tests_name("auth", tests, NULL, NULL);
}
