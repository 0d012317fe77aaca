/* test_routes.c - route matching, 404 versus 405, and agreement between the
 * route table and the embedded OpenAPI document (web/openapi.json), whose
 * every operation has a unique operationId. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "detect.h"
#include "routes.h"
#include "web_assets.h"

/* /routes/match/literals-and-params */
static void test_match(void **state)
{
    route_params p;
    (void)state;
    assert_true(route_match("/", "/", &p));
    assert_false(route_match("/", "/x", &p));
    assert_true(route_match("/api/status", "/api/status", &p));
    assert_false(route_match("/api/status", "/api/status/", &p));
    assert_false(route_match("/api/status", "/api/statu", &p));
    assert_false(route_match("/api/status", "/api/statusx", &p));
    assert_false(route_match("/api/status", "/api", &p));
    assert_true(route_match("/api/files/{name}/history", "/api/files/mrf.exe/history", &p));
    assert_int_equal(p.n, 1);
    assert_string_equal(route_param(&p, "name"), "mrf.exe");
    assert_null(route_param(&p, "other"));
    assert_false(route_match("/api/files/{name}/history", "/api/files//history", &p));
    assert_false(route_match("/api/files/{name}/history", "/api/files/a/b/history", &p));
    assert_false(route_match("/api/files/{name}/history", "/api/files/a", &p));
    assert_true(route_match("/api/scans/{id}", "/api/scans/12", &p));
    assert_string_equal(route_param(&p, "id"), "12");
}

/* /routes/find/404-405-and-allow */
static void test_find(void **state)
{
    const route *r = NULL;
    route_params p;
    char allow[64];
    (void)state;
    assert_int_equal(routes_find("GET", "/api/status", &r, &p, allow, sizeof(allow)), 0);
    assert_string_equal(r->pattern, "/api/status");
    assert_int_equal(r->access, ROUTE_AUTH);
    assert_int_equal(routes_find("GET", "/api/health", &r, &p, allow, sizeof(allow)), 0);
    assert_int_equal(r->access, ROUTE_PUBLIC);
    assert_int_equal(routes_find("GET", "/api/nothing", &r, &p, allow, sizeof(allow)), 404);
    assert_int_equal(routes_find("POST", "/api/status", &r, &p, allow, sizeof(allow)), 405);
    assert_string_equal(allow, "GET, HEAD");
    assert_int_equal(routes_find("PUT", "/api/session", &r, &p, allow, sizeof(allow)), 405);
    assert_non_null(strstr(allow, "GET"));
    assert_non_null(strstr(allow, "DELETE"));
    assert_int_equal(routes_find("GET", "/api/scan", &r, &p, allow, sizeof(allow)), 405);
    assert_string_equal(allow, "POST");
    assert_int_equal(routes_find("OPTIONS", "/api/scan", &r, &p, allow, sizeof(allow)), 405);
    assert_int_equal(routes_find("POST", "/api/scan", &r, &p, allow, sizeof(allow)), 0);
    assert_int_equal(r->body, ROUTE_JSON_BODY);
}

/* /routes/table/well-formed */
static void test_table(void **state)
{
    size_t n;
    const route *t = routes_table(&n);
    (void)state;
    assert_true(n > 0);
    for (size_t i = 0; i < n; i++) {
        assert_non_null(t[i].handler);
        assert_true(t[i].pattern[0] == '/');
        /* changes are never public: they need a credential (routes.h) */
        if (strcmp(t[i].method, "GET") != 0)
            assert_int_equal(t[i].access, ROUTE_AUTH);
        for (size_t k = 0; k < i; k++) {
            if (strcmp(t[i].method, t[k].method) == 0 && strcmp(t[i].pattern, t[k].pattern) == 0)
                fail_msg("route %s %s is listed twice", t[i].method, t[i].pattern);
        }
    }
}

static void lower(const char *in, char *out, size_t outlen)
{
    size_t i = 0;
    for (; in[i] != '\0' && i + 1 < outlen; i++)
        out[i] = (char)tolower((unsigned char)in[i]);
    out[i] = '\0';
}

/* Every operation has an operationId, unique in the document (clients
 * generated from it make function names of them); ids[0..n) are those seen
 * so far, and this one is added. */
static void check_operation_id(const cJSON *op, const char **ids, size_t n, const char *path)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(op, "operationId");
    if (!cJSON_IsString(id) || id->valuestring[0] == '\0')
        fail_msg("openapi.json: %s %s has no operationId", op->string, path);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(ids[i], id->valuestring) == 0)
            fail_msg("openapi.json: operationId %s is used twice", id->valuestring);
    }
    ids[n] = id->valuestring;
}

/* /routes/openapi/matches-the-table */
static void test_openapi(void **state)
{
    const web_asset *a = web_asset_find("openapi.json");
    cJSON *doc, *paths, *path, *op;
    size_t n, documented = 0;
    const route *t = routes_table(&n);
    const char *ids[64];
    char m[16];
    (void)state;
    assert_non_null(a);
    doc = cJSON_ParseWithLength((const char *)a->data, a->len);
    assert_non_null(doc);
    assert_string_equal(cJSON_GetObjectItemCaseSensitive(doc, "openapi")->valuestring, "3.1.0");
    paths = cJSON_GetObjectItemCaseSensitive(doc, "paths");
    assert_true(cJSON_IsObject(paths));
    /* every route is documented */
    for (size_t i = 0; i < n; i++) {
        lower(t[i].method, m, sizeof(m));
        path = cJSON_GetObjectItemCaseSensitive(paths, t[i].pattern);
        if (path == NULL || cJSON_GetObjectItemCaseSensitive(path, m) == NULL)
            fail_msg("route %s %s is not in openapi.json", t[i].method, t[i].pattern);
    }
    /* every documented operation is a route */
    cJSON_ArrayForEach(path, paths)
    {
        cJSON_ArrayForEach(op, path)
        {
            int found = 0;
            if (strcmp(op->string, "parameters") == 0 || strcmp(op->string, "summary") == 0 ||
                strcmp(op->string, "description") == 0)
                continue;
            assert_true(documented < sizeof(ids) / sizeof(ids[0]));
            for (size_t i = 0; i < n && !found; i++) {
                lower(t[i].method, m, sizeof(m));
                found = strcmp(m, op->string) == 0 && strcmp(t[i].pattern, path->string) == 0;
            }
            if (!found)
                fail_msg("openapi.json documents %s %s, which is not a route", op->string,
                         path->string);
            check_operation_id(op, ids, documented, path->string);
            documented++;
        }
    }
    assert_int_equal(documented, n);
    cJSON_Delete(doc);
}

/* /routes/openapi/file-status-enum: the documented file statuses are the
 * ones a scan gives, no more and no fewer */
static void test_openapi_file_status(void **state)
{
    const web_asset *a = web_asset_find("openapi.json");
    cJSON *doc, *schemas, *fs, *en, *v;
    int n = 0;
    (void)state;
    assert_non_null(a);
    doc = cJSON_ParseWithLength((const char *)a->data, a->len);
    assert_non_null(doc);
    schemas = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "components"),
                                               "schemas");
    fs = cJSON_GetObjectItemCaseSensitive(schemas, "FileStatus");
    en = cJSON_GetObjectItemCaseSensitive(fs, "enum");
    assert_true(cJSON_IsArray(en));
    cJSON_ArrayForEach(v, en)
    {
        int known = 0;
        assert_true(cJSON_IsString(v));
        for (int s = FILE_OK; s <= FILE_INVALID; s++)
            known |= strcmp(file_status_name((file_status)s), v->valuestring) == 0;
        if (!known)
            fail_msg("openapi.json lists file status '%s', which no scan gives", v->valuestring);
        n++;
    }
    assert_int_equal(n, FILE_INVALID - FILE_OK + 1);
    cJSON_Delete(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match),
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_openapi),
        cmocka_unit_test(test_openapi_file_status),
    };
    return cmocka_run_group_tests_name("routes", tests, NULL, NULL);
}
