/* test_reqparse.c - the request parts the server parses itself: paths,
 * query strings, numbers, JSON bodies, cookies, bearer tokens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "reqparse.h"

static int clean(const char *raw, char *out)
{
    const char *why = NULL;
    int rc = req_path_clean(raw, out, REQ_MAX_PATH + 1, &why);
    if (rc != TMI_OK)
        assert_non_null(why);
    return rc;
}

/* /reqparse/path/accepts-plain-and-decodes */
static void test_path_ok(void **state)
{
    char out[REQ_MAX_PATH + 1];
    (void)state;
    assert_int_equal(clean("/", out), TMI_OK);
    assert_string_equal(out, "/");
    assert_int_equal(clean("/api/status", out), TMI_OK);
    assert_string_equal(out, "/api/status");
    assert_int_equal(clean("/api/files/mrf%2Eexe/history", out), TMI_OK);
    assert_string_equal(out, "/api/files/mrf.exe/history");
    assert_int_equal(clean("/api/files/MRF%20CM.dll/history", out), TMI_OK);
    assert_string_equal(out, "/api/files/MRF CM.dll/history");
    assert_int_equal(clean("/api/", out), TMI_OK);
    assert_string_equal(out, "/api/");
    assert_int_equal(clean("/a/%C3%A9", out), TMI_OK); /* UTF-8 e-acute */
    assert_string_equal(out, "/a/\xc3\xa9");
}

/* /reqparse/path/refuses-traversal-nul-backslash */
static void test_path_refused(void **state)
{
    char out[REQ_MAX_PATH + 1];
    static const char *const bad[] = {
        "",         "api",           "/api/../x",   "/api/./x",
        "/..",      "/api/%2e%2e/x", "/api/%2E%2e", "/api/.%2e/x",
        "/a%00b",   "/a%00",         "/a\\b",       "/a%5cb",
        "/a%5Cb",   "/a%2fb",        "/a%2Fb",      "/a//b",
        "//",       "/a%zz",         "/a%4",        "/a%",
        "/a%0a",    "/a%7f",         "/a%C3",       "/a%ff",
        "/a%C0%AF",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (clean(bad[i], out) == TMI_OK)
            fail_msg("path '%s' was accepted as '%s'", bad[i], out);
    }
    assert_int_equal(req_path_clean(NULL, out, sizeof(out), NULL), TMI_EINVAL);
}

/* /reqparse/path/too-long */
static void test_path_too_long(void **state)
{
    char out[REQ_MAX_PATH + 1];
    char *raw = malloc(REQ_MAX_PATH + 2);
    (void)state;
    assert_non_null(raw);
    memset(raw, 'a', REQ_MAX_PATH + 1);
    raw[0] = '/';
    raw[REQ_MAX_PATH + 1] = '\0';
    assert_int_equal(clean(raw, out), TMI_ETOOBIG);
    raw[REQ_MAX_PATH] = '\0';
    assert_int_equal(clean(raw, out), TMI_OK);
    free(raw);
}

/* /reqparse/query/parses-and-decodes */
static void test_query_ok(void **state)
{
    req_query q;
    const char *why = NULL;
    (void)state;
    assert_int_equal(req_query_parse(NULL, &q, &why), TMI_OK);
    assert_int_equal(q.n, 0);
    assert_int_equal(req_query_parse("", &q, &why), TMI_OK);
    assert_int_equal(q.n, 0);
    assert_int_equal(req_query_parse("limit=10&before=5&&action=scan+x%2Fy&flag", &q, &why),
                     TMI_OK);
    assert_int_equal(q.n, 4);
    assert_string_equal(req_query_get(&q, "limit"), "10");
    assert_string_equal(req_query_get(&q, "before"), "5");
    assert_string_equal(req_query_get(&q, "action"), "scan x/y");
    assert_string_equal(req_query_get(&q, "flag"), "");
    assert_null(req_query_get(&q, "nothing"));
    assert_int_equal(req_query_parse("since=2026-01-01T00%3A00%3A00%2B01%3A00", &q, &why), TMI_OK);
    assert_string_equal(req_query_get(&q, "since"), "2026-01-01T00:00:00+01:00");
}

/* /reqparse/query/refuses-malformed-duplicates-too-many */
static void test_query_refused(void **state)
{
    req_query q;
    const char *why = NULL;
    char big[REQ_MAX_QUERY + 2];
    char many[512] = "";
    (void)state;
    assert_int_equal(req_query_parse("a=1&a=2", &q, &why), TMI_EINVAL);
    assert_int_equal(req_query_parse("A=1", &q, &why), TMI_EINVAL);
    assert_int_equal(req_query_parse("=1", &q, &why), TMI_EINVAL);
    assert_int_equal(req_query_parse("a%20b=1", &q, &why), TMI_EINVAL);
    assert_int_equal(req_query_parse("a=%00", &q, &why), TMI_EINVAL);
    assert_int_equal(req_query_parse("a=%0d%0a", &q, &why), TMI_EINVAL);
    assert_int_equal(req_query_parse("a=%zz", &q, &why), TMI_EINVAL);
    assert_int_equal(req_query_parse("a=%ff", &q, &why), TMI_EINVAL);
    memset(big, 'a', sizeof(big) - 1);
    big[0] = 'x';
    big[1] = '=';
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(req_query_parse(big, &q, &why), TMI_ETOOBIG);
    for (int i = 0, used = 0; i <= REQ_MAX_PARAMS; i++)
        used += snprintf(many + used, sizeof(many) - (size_t)used, "%sp%d=1", i ? "&" : "", i);
    assert_int_equal(req_query_parse(many, &q, &why), TMI_ETOOBIG);
}

/* /reqparse/query/only-allowed-names */
static void test_query_only(void **state)
{
    req_query q;
    const char *bad = NULL;
    (void)state;
    assert_int_equal(req_query_parse("limit=1&before=2", &q, NULL), TMI_OK);
    assert_int_equal(req_query_only(&q, "before limit", &bad), TMI_OK);
    assert_int_equal(req_query_only(&q, "limit", &bad), TMI_EINVAL);
    assert_string_equal(bad, "before");
    assert_int_equal(req_query_only(&q, NULL, &bad), TMI_EINVAL);
    assert_int_equal(req_query_only(&q, "lim before", &bad), TMI_EINVAL);
    assert_string_equal(bad, "limit");
    assert_int_equal(req_query_parse(NULL, &q, NULL), TMI_OK);
    assert_int_equal(req_query_only(&q, NULL, &bad), TMI_OK);
}

/* /reqparse/u64/digits-only-and-bounds */
static void test_u64(void **state)
{
    uint64_t v = 0;
    static const char *const bad[] = {"",
                                      "-1",
                                      "+1",
                                      " 1",
                                      "1 ",
                                      "0x10",
                                      "1e3",
                                      "1.0",
                                      "abc",
                                      "18446744073709551616",
                                      "000000000000000000001"};
    (void)state;
    assert_int_equal(req_parse_u64("0", 0, 10, &v), TMI_OK);
    assert_int_equal(v, 0);
    assert_int_equal(req_parse_u64("500", 1, 500, &v), TMI_OK);
    assert_int_equal(v, 500);
    assert_int_equal(req_parse_u64("501", 1, 500, &v), TMI_EINVAL);
    assert_int_equal(req_parse_u64("0", 1, 500, &v), TMI_EINVAL);
    assert_int_equal(req_parse_u64("18446744073709551615", 0, UINT64_MAX, &v), TMI_OK);
    assert_true(v == UINT64_MAX);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (req_parse_u64(bad[i], 0, UINT64_MAX, &v) == TMI_OK)
            fail_msg("'%s' was accepted", bad[i]);
    }
    assert_int_equal(req_parse_u64(NULL, 0, 1, &v), TMI_EINVAL);
}

/* /reqparse/json/body-rules */
static void test_json(void **state)
{
    cJSON *j = NULL;
    const char *why = NULL;
    char deep[64];
    (void)state;
    assert_int_equal(req_json_parse("", 0, 16, &j, &why), TMI_OK);
    assert_null(j);
    assert_int_equal(req_json_parse(" {} \r\n", 6, 16, &j, &why), TMI_OK);
    assert_true(cJSON_IsObject(j));
    cJSON_Delete(j);
    assert_int_equal(req_json_parse("{\"a\":\"[[[[\"}", 12, 2, &j, &why), TMI_OK);
    cJSON_Delete(j);
    assert_int_equal(req_json_parse("{", 1, 16, &j, &why), TMI_EFORMAT);
    assert_null(j);
    assert_int_equal(req_json_parse("{} {}", 5, 16, &j, &why), TMI_EFORMAT);
    assert_int_equal(req_json_parse("{}x", 3, 16, &j, &why), TMI_EFORMAT);
    assert_int_equal(req_json_parse("{\"a\":1}\0", 8, 16, &j, &why), TMI_EINVAL);
    assert_int_equal(req_json_parse("\"\xff\"", 3, 16, &j, &why), TMI_EINVAL);
    memset(deep, '[', 17);
    memset(deep + 17, ']', 17);
    assert_int_equal(req_json_parse(deep, 34, 16, &j, &why), TMI_ETOOBIG);
    assert_int_equal(req_json_parse(deep + 1, 32, 16, &j, &why), TMI_OK);
    cJSON_Delete(j);
}

/* /reqparse/json/refuses-duplicate-keys-and-nul */
static void test_json_ambiguous(void **state)
{
    static const char *const bad[] = {
        "{\"action\":\"backup\",\"action\":\"repair\"}",
        "{\"action\":\"backup\",\"\\u0061ction\":\"repair\"}",
        "{\"a\":{\"x\":1,\"y\":2,\"x\":3}}",
        "[{\"k\":1,\"k\":1}]",
        "{\"action\":\"back\\u0000up\"}",
        "{\"\\u0000\":1}",
    };
    static const char *const good[] = {
        "{\"a\":1,\"b\":{\"a\":2}}", "[{\"k\":1},{\"k\":2}]",
        "{\"path\":\"C:\\\\u0000\"}", /* an escaped backslash, then text */
    };
    cJSON *j = NULL;
    const char *why = NULL;
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(req_json_parse(bad[i], strlen(bad[i]), 16, &j, &why), TMI_EINVAL);
        assert_null(j);
    }
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        assert_int_equal(req_json_parse(good[i], strlen(good[i]), 16, &j, &why), TMI_OK);
        cJSON_Delete(j);
    }
}

/* /reqparse/cookie/finds-occurrences */
static void test_cookie(void **state)
{
    char v[80];
    (void)state;
    assert_int_equal(req_cookie_get("a=1; tmi_session=abc; b=2", "tmi_session", 0, v, sizeof(v)),
                     TMI_OK);
    assert_string_equal(v, "abc");
    assert_int_equal(req_cookie_get("tmi_session=x;tmi_session=y", "tmi_session", 1, v, sizeof(v)),
                     TMI_OK);
    assert_string_equal(v, "y");
    assert_int_equal(req_cookie_get("tmi_session=x", "tmi_session", 1, v, sizeof(v)), TMI_ENOENT);
    assert_int_equal(req_cookie_get("xtmi_session=x", "tmi_session", 0, v, sizeof(v)), TMI_ENOENT);
    assert_int_equal(req_cookie_get(NULL, "tmi_session", 0, v, sizeof(v)), TMI_ENOENT);
    assert_int_equal(req_cookie_get("tmi_session=\"q\"", "tmi_session", 0, v, sizeof(v)), TMI_OK);
    assert_string_equal(v, "q");
    assert_int_equal(req_cookie_get("tmi_session=0123456789", "tmi_session", 0, v, 4), TMI_ETOOBIG);
}

/* /reqparse/bearer/scheme-and-token68 */
static void test_bearer(void **state)
{
    const char *tok = NULL;
    size_t len = 0;
    (void)state;
    assert_int_equal(req_bearer_token("Bearer abc123", &tok, &len), TMI_OK);
    assert_int_equal(len, 6);
    assert_memory_equal(tok, "abc123", 6);
    assert_int_equal(req_bearer_token("bearer   a.b-c_d~e+f/g== ", &tok, &len), TMI_OK);
    assert_int_equal(len, 15);
    assert_int_equal(req_bearer_token("Basic abc", &tok, &len), TMI_EINVAL);
    assert_int_equal(req_bearer_token("Bearer", &tok, &len), TMI_EINVAL);
    assert_int_equal(req_bearer_token("Bearer ", &tok, &len), TMI_EINVAL);
    assert_int_equal(req_bearer_token("Bearerabc", &tok, &len), TMI_EINVAL);
    assert_int_equal(req_bearer_token("Bearer a b", &tok, &len), TMI_EINVAL);
    assert_int_equal(req_bearer_token("Bearer a\"b", &tok, &len), TMI_EINVAL);
    assert_int_equal(req_bearer_token(NULL, &tok, &len), TMI_EINVAL);
}

/* Accept: a browser's navigation wants the page, a script JSON. */
static void test_accept_prefers_html(void **state)
{
    static const char *const html[] = {
        "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
        "text/html",
        "TEXT/HTML; charset=utf-8",
        "application/json;q=0.5, text/html",
        "text/*, application/json;q=0.9",
        "application/json;q=0, text/html;q=0.1",
    };
    static const char *const json[] = {
        "application/json",
        "application/problem+json",
        "*/*",
        "",
        "text/html;q=0.5, application/json",
        "text/html, application/json",
        "text/html;q=0, */*",
        "text/html;q=abc",
        "text/html;q=2",
        "image/png",
        "text/plain, */*;q=0.1",
    };
    (void)state;
    assert_false(req_accept_prefers_html(NULL));
    for (size_t i = 0; i < sizeof(html) / sizeof(html[0]); i++)
        assert_true(req_accept_prefers_html(html[i]));
    for (size_t i = 0; i < sizeof(json) / sizeof(json[0]); i++)
        assert_false(req_accept_prefers_html(json[i]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path_ok),      cmocka_unit_test(test_accept_prefers_html),
        cmocka_unit_test(test_path_refused), cmocka_unit_test(test_path_too_long),
        cmocka_unit_test(test_query_ok),     cmocka_unit_test(test_query_refused),
        cmocka_unit_test(test_query_only),   cmocka_unit_test(test_u64),
        cmocka_unit_test(test_json),         cmocka_unit_test(test_json_ambiguous),
        cmocka_unit_test(test_cookie),       cmocka_unit_test(test_bearer),
    };
    return cmocka_run_group_tests_name("reqparse", tests, NULL, NULL);
}
