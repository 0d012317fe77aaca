/* test_logincode.c - one-time login codes in the store: issue, redeem once,
 * expiry, unknown and malformed codes, two connections (two processes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "logincode.h"
#include "plat.h"
#include "store.h"
#include "testutil.h"

#define SEC 1000000000LL

typedef struct fx {
    char dir[PLAT_PATH_MAX];
    store *a; /* stands for the CLI process */
    store *b; /* stands for the server */
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    char err[256];
    if (f == NULL)
        return -1;
    tu_mkdtemp(f->dir, sizeof(f->dir));
    if (store_open(f->dir, &f->a, err, sizeof(err)) != TMI_OK ||
        store_open(f->dir, &f->b, err, sizeof(err)) != TMI_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    store_close(f->a);
    store_close(f->b);
    plat_remove_tree(f->dir);
    free(f);
    return 0;
}

/* /logincode/works-once-across-connections */
static void test_once(void **state)
{
    fx *f = *state;
    char code[LOGINCODE_HEX_LEN + 1], user[LOGINCODE_MAX_USER];
    int64_t now = plat_now_ns();
    assert_int_equal(logincode_issue(f->a, "admin", now, LOGINCODE_TTL_NS, code), TMI_OK);
    assert_int_equal(strlen(code), LOGINCODE_HEX_LEN);
    assert_int_equal(logincode_redeem(f->b, code, now + SEC, user, sizeof(user)), TMI_OK);
    assert_string_equal(user, "admin");
    assert_int_equal(logincode_redeem(f->b, code, now + 2 * SEC, user, sizeof(user)), TMI_EAUTH);
    assert_int_equal(logincode_redeem(f->a, code, now + 2 * SEC, user, sizeof(user)), TMI_EAUTH);
}

/* /logincode/expires */
static void test_expiry(void **state)
{
    fx *f = *state;
    char code[LOGINCODE_HEX_LEN + 1], user[LOGINCODE_MAX_USER];
    int64_t now = plat_now_ns();
    assert_int_equal(logincode_issue(f->a, "admin", now, LOGINCODE_TTL_NS, code), TMI_OK);
    assert_int_equal(logincode_redeem(f->b, code, now + LOGINCODE_TTL_NS, user, sizeof(user)),
                     TMI_EAUTH);
    /* the refusal did not use the code up: within its lifetime it still works */
    assert_int_equal(logincode_redeem(f->b, code, now + SEC, user, sizeof(user)), TMI_OK);
}

/* /logincode/unknown-and-malformed */
static void test_unknown(void **state)
{
    fx *f = *state;
    char code[LOGINCODE_HEX_LEN + 1], user[LOGINCODE_MAX_USER];
    int64_t now = plat_now_ns();
    assert_int_equal(logincode_issue(f->a, "admin", now, LOGINCODE_TTL_NS, code), TMI_OK);
    code[0] = code[0] == 'a' ? 'b' : 'a';
    assert_int_equal(logincode_redeem(f->b, code, now, user, sizeof(user)), TMI_EAUTH);
    assert_int_equal(logincode_redeem(f->b, "", now, user, sizeof(user)), TMI_EAUTH);
    assert_int_equal(logincode_redeem(f->b, "zz", now, user, sizeof(user)), TMI_EAUTH);
    assert_int_equal(logincode_redeem(f->b, NULL, now, user, sizeof(user)), TMI_EAUTH);
    code[0] = 'G';
    assert_int_equal(logincode_redeem(f->b, code, now, user, sizeof(user)), TMI_EAUTH);
    assert_int_equal(logincode_issue(f->a, NULL, now, LOGINCODE_TTL_NS, code), TMI_EINVAL);
    assert_int_equal(logincode_issue(f->a, "x", now, 0, code), TMI_EINVAL);
}

/* /logincode/old-codes-cleaned */
static void test_cleanup(void **state)
{
    fx *f = *state;
    char code[LOGINCODE_HEX_LEN + 1], code2[LOGINCODE_HEX_LEN + 1], user[LOGINCODE_MAX_USER];
    int64_t now = plat_now_ns();
    assert_int_equal(logincode_issue(f->a, "old", now - 7200 * SEC, LOGINCODE_TTL_NS, code),
                     TMI_OK);
    assert_int_equal(logincode_issue(f->a, "new", now, LOGINCODE_TTL_NS, code2), TMI_OK);
    /* the old code is gone; redeeming it in its own time window fails now */
    assert_int_equal(logincode_redeem(f->b, code, now - 7200 * SEC + SEC, user, sizeof(user)),
                     TMI_EAUTH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cleanup, setup, teardown),
    };
    return cmocka_run_group_tests_name("logincode", tests, NULL, NULL);
}
