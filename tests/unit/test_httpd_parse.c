/* test_httpd_parse.c - strict request heads and chunked bodies
 * (server/http/httpd_parse.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "httpd_parse.h"

/* Parse text as a whole head; returns the status (0 for a good head). */
static int parse(const char *text, httpd_head *h, char *buf, size_t buflen)
{
    const char *why = NULL;
    long end;
    snprintf(buf, buflen, "%s", text);
    end = httpd_head_end(buf, strlen(buf));
    if (end < 0)
        return 400;
    if (end == 0)
        return -1;
    int st = httpd_parse_head(buf, (size_t)end, h, &why);
    if (st != 0)
        assert_true(why != NULL && why[0] != '\0');
    return st;
}

/* /httpd/head/good-ones */
static void good_heads(void **state)
{
    char buf[8192];
    httpd_head h;
    (void)state;
    assert_int_equal(parse("GET /api/files?limit=5 HTTP/1.1\r\nHost: a\r\nX-A:  b c \r\n\r\n", &h,
                           buf, sizeof(buf)),
                     0);
    assert_string_equal(h.method, "GET");
    assert_string_equal(h.path, "/api/files");
    assert_string_equal(h.query, "limit=5");
    assert_int_equal(h.minor, 1);
    assert_int_equal(h.n_headers, 2);
    assert_string_equal(httpd_head_get(&h, "x-a"), "b c");
    assert_int_equal(h.content_length, -1);
    assert_false(h.close);
    assert_int_equal(parse("\r\nPOST / HTTP/1.1\r\nContent-Length: 012\r\nExpect: 100-continue\r\n"
                           "Connection: close\r\n\r\n",
                           &h, buf, sizeof(buf)),
                     0);
    assert_int_equal(h.content_length, 12);
    assert_true(h.expect_continue);
    assert_true(h.close);
    assert_int_equal(parse("GET / HTTP/1.0\r\n\r\n", &h, buf, sizeof(buf)), 0);
    assert_true(h.close);
    assert_int_equal(
        parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &h, buf, sizeof(buf)), 0);
    assert_false(h.close);
    assert_int_equal(
        parse("POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n", &h, buf, sizeof(buf)), 0);
    assert_true(h.chunked);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\n", &h, buf, sizeof(buf)), -1);
}

/* /httpd/head/refused */
static void refused_heads(void **state)
{
    static const struct {
        const char *text;
        int status;
    } cases[] = {
        {"GET  / HTTP/1.1\r\n\r\n", 400},
        {"GET / HTTP/1.1 \r\n\r\n", 400},
        {"GET http://x/ HTTP/1.1\r\n\r\n", 400},
        {"GET /\x7f HTTP/1.1\r\n\r\n", 400},
        {"G(T / HTTP/1.1\r\n\r\n", 400},
        {"GET / HTTP/2.0\r\n\r\n", 505},
        {"GET / HTTP/1.2\r\n\r\n", 505},
        {"GET / HTTP/1.x\r\n\r\n", 400},
        {"GET / HTTP/1.1\nHost: a\n\n", 400},
        {"GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nX-A : b\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nX-A: b\r\n c\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nContent-Length: 2abc\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nContent-Length: 0x40\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nContent-Length: 2, 40\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nContent-Length: \r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", 400},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
        {"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
        {"GET / HTTP/1.1\r\nExpect: magic\r\n\r\n", 417},
    };
    char buf[8192];
    httpd_head h;
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int st = parse(cases[i].text, &h, buf, sizeof(buf));
        if (st != cases[i].status)
            fail_msg("case %zu (%s): got %d, want %d", i, cases[i].text, st, cases[i].status);
    }
}

/* /httpd/head/counts-every-header */
static void too_many_headers(void **state)
{
    char text[8192], buf[8192];
    size_t n;
    httpd_head h;
    (void)state;
    n = (size_t)snprintf(text, sizeof(text), "GET / HTTP/1.1\r\n");
    for (int i = 0; i < HTTPD_MAX_HEADERS; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "X-%d: v\r\n", i);
    snprintf(text + n, sizeof(text) - n, "\r\n");
    assert_int_equal(parse(text, &h, buf, sizeof(buf)), 0);
    assert_int_equal(h.n_headers, HTTPD_MAX_HEADERS);
    snprintf(text + n, sizeof(text) - n, "Origin: http://evil.example\r\n\r\n");
    assert_int_equal(parse(text, &h, buf, sizeof(buf)), 431);
}

/* Decode text as a whole; returns bytes consumed (-1 malformed). */
static long chunks(const char *text, char *out, size_t *out_len, int *done)
{
    httpd_chunked c;
    const char *why;
    size_t n = strlen(text);
    httpd_chunked_init(&c);
    memcpy(out, text, n);
    return httpd_chunked_decode(&c, out, n, out_len, done, &why);
}

/* /httpd/chunked/strict */
static void chunked_bodies(void **state)
{
    static const char *const bad[] = {
        "zz\r\nab\r\n0\r\n\r\n",
        "2;x=1\r\nab\r\n0\r\n\r\n",
        "2\r\nab0\r\n\r\n",
        "2\nab\r\n0\r\n\r\n",
        "123456789\r\n",
        "\r\n",
        "2\r\nab\r\n0\r\nT: 1\r\n\r\n",
    };
    char out[256];
    size_t len = 0;
    int done = 0;
    (void)state;
    assert_int_equal(chunks("5\r\nhello\r\nA\r\n0123456789\r\n0\r\n\r\nNEXT", out, &len, &done),
                     (long)strlen("5\r\nhello\r\nA\r\n0123456789\r\n0\r\n\r\n"));
    assert_true(done);
    assert_int_equal(len, 15);
    assert_memory_equal(out, "hello0123456789", 15);
    /* not finished: no "done", nothing wrong yet */
    assert_int_equal(chunks("5\r\nhel", out, &len, &done), 6);
    assert_false(done);
    assert_int_equal(len, 3);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (chunks(bad[i], out, &len, &done) != -1)
            fail_msg("bad chunks %zu accepted", i);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(good_heads),
        cmocka_unit_test(refused_heads),
        cmocka_unit_test(too_many_headers),
        cmocka_unit_test(chunked_bodies),
    };
    return cmocka_run_group_tests_name("httpd_parse", tests, NULL, NULL);
}
