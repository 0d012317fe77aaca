/* test_guard.c - the decisions taken before any handler: target, Host,
 * Origin, Sec-Fetch-Site, content type, body length, unsafe methods. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "guard.h"
#include "reqparse.h"

#define PORT 43210

/* /guard/target/status-per-fault */
static void test_target(void **state)
{
    char path[REQ_MAX_PATH + 1];
    const char *d = NULL;
    char longq[REQ_MAX_QUERY + 2];
    (void)state;
    assert_int_equal(guard_target("/api/status", NULL, path, sizeof(path), &d), 0);
    assert_string_equal(path, "/api/status");
    assert_int_equal(guard_target("/api/status", "limit=1", path, sizeof(path), &d), 0);
    assert_int_equal(guard_target(NULL, NULL, path, sizeof(path), &d), 400);
    assert_int_equal(guard_target("/api/../x", NULL, path, sizeof(path), &d), 400);
    assert_int_equal(guard_target("/api/%2e%2e/x", NULL, path, sizeof(path), &d), 400);
    assert_int_equal(guard_target("/api/%00", NULL, path, sizeof(path), &d), 400);
    assert_int_equal(guard_target("/api\\x", NULL, path, sizeof(path), &d), 400);
    assert_non_null(d);
    memset(longq, 'a', sizeof(longq) - 1);
    longq[sizeof(longq) - 1] = '\0';
    assert_int_equal(guard_target("/api/status", longq, path, sizeof(path), &d), 414);
    {
        char longp[REQ_MAX_PATH + 3];
        memset(longp, 'a', sizeof(longp) - 1);
        longp[0] = '/';
        longp[sizeof(longp) - 1] = '\0';
        assert_int_equal(guard_target(longp, NULL, path, sizeof(path), &d), 414);
    }
}

/* /guard/host/only-loopback-names-with-our-port */
static void test_host(void **state)
{
    const char *d = NULL;
    (void)state;
    assert_int_equal(guard_host("127.0.0.1:43210", PORT, &d), 0);
    assert_int_equal(guard_host("localhost:43210", PORT, &d), 0);
    assert_int_equal(guard_host("LocalHost:43210", PORT, &d), 0);
    assert_int_equal(guard_host(NULL, PORT, &d), 400);
    assert_int_equal(guard_host("", PORT, &d), 400);
    assert_int_equal(guard_host("127.0.0.1", PORT, &d), 421);
    assert_int_equal(guard_host("127.0.0.1:43211", PORT, &d), 421);
    assert_int_equal(guard_host("127.0.0.1:432100", PORT, &d), 421);
    assert_int_equal(guard_host("evil.example:43210", PORT, &d), 421);
    assert_int_equal(guard_host("localhost.evil.example:43210", PORT, &d), 421);
    assert_int_equal(guard_host("127.0.0.1:43210.evil", PORT, &d), 421);
    assert_int_equal(guard_host("127.0.0.2:43210", PORT, &d), 421);
    assert_int_equal(guard_host("[::1]:43210", PORT, &d), 421);
    assert_int_equal(guard_host("127.0.0.1:43210 ", PORT, &d), 421);
    /* port 80: browsers leave the port out */
    assert_int_equal(guard_host("localhost", 80, &d), 0);
    assert_int_equal(guard_host("localhost:80", 80, &d), 0);
}

/* /guard/origin/absent-or-exactly-ours */
static void test_origin(void **state)
{
    const char *d = NULL;
    (void)state;
    assert_int_equal(guard_origin(NULL, PORT, &d), 0);
    assert_int_equal(guard_origin("http://127.0.0.1:43210", PORT, &d), 0);
    assert_int_equal(guard_origin("http://localhost:43210", PORT, &d), 0);
    assert_int_equal(guard_origin("null", PORT, &d), 403);
    assert_int_equal(guard_origin("", PORT, &d), 403);
    assert_int_equal(guard_origin("https://127.0.0.1:43210", PORT, &d), 403);
    assert_int_equal(guard_origin("http://127.0.0.1:8080", PORT, &d), 403);
    assert_int_equal(guard_origin("http://evil.example", PORT, &d), 403);
    assert_int_equal(guard_origin("http://127.0.0.1:43210/", PORT, &d), 403);
    assert_int_equal(guard_origin("http://127.0.0.1", PORT, &d), 403);
}

/* /guard/fetch-site/cross-site-refused */
static void test_fetch_site(void **state)
{
    const char *d = NULL;
    (void)state;
    assert_int_equal(guard_fetch_site(NULL, &d), 0);
    assert_int_equal(guard_fetch_site("same-origin", &d), 0);
    assert_int_equal(guard_fetch_site("none", &d), 0);
    assert_int_equal(guard_fetch_site("cross-site", &d), 403);
    assert_int_equal(guard_fetch_site("same-site", &d), 403); /* another port */
    assert_int_equal(guard_fetch_site("bogus", &d), 403);
}

/* /guard/content-type/json-only */
static void test_content_type(void **state)
{
    const char *d = NULL;
    (void)state;
    assert_int_equal(guard_content_type("application/json", &d), 0);
    assert_int_equal(guard_content_type("Application/JSON", &d), 0);
    assert_int_equal(guard_content_type("application/json; charset=utf-8", &d), 0);
    assert_int_equal(guard_content_type("application/json;charset=UTF-8", &d), 0);
    assert_int_equal(guard_content_type(NULL, &d), 415);
    assert_int_equal(guard_content_type("text/plain", &d), 415);
    assert_int_equal(guard_content_type("application/x-www-form-urlencoded", &d), 415);
    assert_int_equal(guard_content_type("multipart/form-data; boundary=x", &d), 415);
    assert_int_equal(guard_content_type("application/jsonx", &d), 415);
    assert_int_equal(guard_content_type("application/json; charset=latin1", &d), 415);
    assert_int_equal(guard_content_type("application/json; charset=utf-8; x=y", &d), 415);
}

/* /guard/body-length/declared-size-bounded */
static void test_body_length(void **state)
{
    const char *d = NULL;
    (void)state;
    assert_int_equal(guard_body_length(-1, 0, GUARD_MAX_BODY, &d), 0);
    assert_int_equal(guard_body_length(0, 0, GUARD_MAX_BODY, &d), 0);
    assert_int_equal(guard_body_length(GUARD_MAX_BODY, 0, GUARD_MAX_BODY, &d), 0);
    assert_int_equal(guard_body_length(GUARD_MAX_BODY + 1, 0, GUARD_MAX_BODY, &d), 413);
    assert_int_equal(guard_body_length(1LL << 62, 0, GUARD_MAX_BODY, &d), 413);
    assert_int_equal(guard_body_length(-1, 1, GUARD_MAX_BODY, &d), 0);
}

/* /guard/method/unsafe */
static void test_unsafe(void **state)
{
    (void)state;
    assert_false(guard_method_unsafe("GET"));
    assert_false(guard_method_unsafe("HEAD"));
    assert_false(guard_method_unsafe("OPTIONS"));
    assert_true(guard_method_unsafe("POST"));
    assert_true(guard_method_unsafe("PUT"));
    assert_true(guard_method_unsafe("DELETE"));
    assert_true(guard_method_unsafe("PATCH"));
    assert_true(guard_method_unsafe("get"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_target),       cmocka_unit_test(test_host),
        cmocka_unit_test(test_origin),       cmocka_unit_test(test_fetch_site),
        cmocka_unit_test(test_content_type), cmocka_unit_test(test_body_length),
        cmocka_unit_test(test_unsafe),
    };
    return cmocka_run_group_tests_name("guard", tests, NULL, NULL);
}
