/*
 * fuzz_http_parse.c - libFuzzer target for the request parts the HTTP server
 * parses itself (server/reqparse.h, server/guard.h, server/routes.h): the
 * request path, the query string and its numbers, JSON bodies, the Cookie
 * and Authorization headers, the Accept header (page or JSON), the
 * Host/Origin/Content-Type checks and route matching. Every parser gets
 * the same input (as a C string where it takes one). Besides the
 * sanitizers' checks it asserts the parsers' contracts: a cleaned path
 * starts with '/', is bounded, holds no control character, backslash, "."
 * or ".." segment; query names are [a-z0-9_]+ and values bounded; a parsed
 * number is within its bounds; results are NUL-terminated.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "guard.h"
#include "reqparse.h"
#include "routes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MUST(cond)                                                                                 \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

static void check_path(const char *s)
{
    char out[REQ_MAX_PATH + 1];
    const char *why = NULL;
    size_t len;
    int rc = req_path_clean(s, out, sizeof(out), &why);
    if (rc != TMI_OK) {
        MUST(why != NULL || rc == TMI_ETOOBIG);
        return;
    }
    len = strlen(out);
    MUST(len >= 1 && len <= REQ_MAX_PATH && out[0] == '/');
    MUST(strchr(out, '\\') == NULL);
    MUST(strstr(out, "//") == NULL);
    MUST(strstr(out, "/../") == NULL && strstr(out, "/./") == NULL);
    MUST(!(len >= 3 && strcmp(out + len - 3, "/..") == 0));
    MUST(!(len >= 2 && strcmp(out + len - 2, "/.") == 0));
    for (size_t i = 0; i < len; i++)
        MUST((unsigned char)out[i] >= 0x20 && out[i] != 0x7f);
    {
        const route *r = NULL;
        route_params p;
        char allow[64];
        int st = routes_find("GET", out, &r, &p, allow, sizeof(allow));
        MUST(st == 0 || st == 404 || st == 405);
        if (st == 0) {
            MUST(r != NULL && route_match(r->pattern, out, &p));
            for (size_t i = 0; i < p.n; i++)
                MUST(p.p[i].value[0] != '\0' && strchr(p.p[i].value, '/') == NULL);
        }
    }
}

static void check_query(const char *s)
{
    req_query q;
    const char *why = NULL, *bad = NULL;
    int rc = req_query_parse(s, &q, &why);
    if (rc != TMI_OK)
        return;
    MUST(q.n <= REQ_MAX_PARAMS);
    for (size_t i = 0; i < q.n; i++) {
        uint64_t v = 0;
        size_t nlen = strlen(q.p[i].name);
        MUST(nlen > 0 && nlen < REQ_MAX_NAME && strlen(q.p[i].value) < REQ_MAX_VALUE);
        for (size_t k = 0; k < nlen; k++) {
            char c = q.p[i].name[k];
            MUST((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
        }
        MUST(req_query_get(&q, q.p[i].name) == q.p[i].value);
        if (req_parse_u64(q.p[i].value, 1, 500, &v) == TMI_OK)
            MUST(v >= 1 && v <= 500);
    }
    if (req_query_only(&q, "before limit", &bad) != TMI_OK)
        MUST(bad != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    cJSON *j = NULL;
    const char *why = NULL, *tok = NULL, *detail = NULL;
    char cookie[80], path[REQ_MAX_PATH + 1];
    size_t toklen = 0;
    uint64_t v;
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';

    check_path(s);
    check_query(s);
    if (req_parse_u64(s, 0, UINT64_MAX, &v) == TMI_OK)
        MUST(strlen(s) <= 20);
    if (req_json_parse((const char *)data, size, REQ_MAX_JSON_DEPTH, &j, &why) == TMI_OK)
        MUST((size == 0) == (j == NULL));
    else
        MUST(j == NULL && why != NULL);
    cJSON_Delete(j);
    for (size_t i = 0; i < 4; i++) {
        if (req_cookie_get(s, "tmi_session", i, cookie, sizeof(cookie)) == TMI_OK)
            MUST(strlen(cookie) < sizeof(cookie));
    }
    if (req_bearer_token(s, &tok, &toklen) == TMI_OK)
        MUST(toklen > 0 && tok >= s && tok + toklen <= s + strlen(s));
    /* an Accept header: a yes or no, and never HTML for one that names no
     * text/html range */
    {
        int html = req_accept_prefers_html(s);
        MUST(html == 0 || html == 1);
        if (html)
            MUST(strchr(s, '/') != NULL);
    }
    (void)guard_host(s, 8917, &detail);
    (void)guard_origin(s, 8917, &detail);
    (void)guard_content_type(s, &detail);
    (void)guard_fetch_site(s, &detail);
    {
        const char *q = strchr(s, '?');
        int st = guard_target(s, q != NULL ? q + 1 : NULL, path, sizeof(path), &detail);
        MUST(st == 0 || st == 400 || st == 414);
    }
    free(s);
    return 0;
}
