/*
 * fuzz_httpd_parse.c - libFuzzer target for the HTTP engine's own parsers
 * (server/http/httpd_parse.h): the end of a request head, the head itself,
 * and chunked bodies. Contracts checked besides the sanitizers': every
 * parsed string lies inside the head, the header count is bounded, a
 * refusal has a reason; a chunked body decodes to the same payload whether
 * it arrives at once or one byte at a time, never to more bytes than it
 * consumed, and is never "done" before its last chunk was consumed.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "httpd_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MUST(cond)                                                                                 \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

static int inside(const char *p, const char *buf, size_t len)
{
    return p >= buf && p < buf + len;
}

static void check_head(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    httpd_head h;
    const char *why = NULL;
    long end;
    if (buf == NULL)
        return;
    memcpy(buf, data, size);
    end = httpd_head_end(buf, size);
    MUST(end >= -1 && end <= (long)size);
    if (end > 0) {
        int st = httpd_parse_head(buf, (size_t)end, &h, &why);
        if (st != 0) {
            MUST(st >= 400 && st < 600 && why != NULL && why[0] != '\0');
        } else {
            MUST(h.n_headers <= HTTPD_MAX_HEADERS);
            MUST(inside(h.method, buf, (size_t)end) && inside(h.path, buf, (size_t)end));
            MUST(h.path[0] == '/' && (h.minor == 0 || h.minor == 1));
            MUST(h.content_length >= -1 && !(h.content_length >= 0 && h.chunked));
            for (size_t i = 0; i < h.n_headers; i++)
                MUST(inside(h.headers[i].name, buf, (size_t)end) &&
                     inside(h.headers[i].value, buf, (size_t)end + 1));
        }
    }
    free(buf);
}

/* Decode data feeding step bytes at a time; the payload into out. */
static int decode(const uint8_t *data, size_t size, size_t step, char *out, size_t *out_len,
                  size_t *consumed)
{
    httpd_chunked c;
    char piece[64];
    const char *why;
    int done = 0;
    size_t pos = 0, total = 0;
    httpd_chunked_init(&c);
    while (pos < size && !done) {
        size_t n = size - pos < step ? size - pos : step, got = 0;
        memcpy(piece, data + pos, n);
        long used = httpd_chunked_decode(&c, piece, n, &got, &done, &why);
        if (used < 0)
            return -1;
        MUST((size_t)used <= n && got <= (size_t)used && (used == (long)n || done));
        memcpy(out + total, piece, got);
        total += got;
        pos += (size_t)used;
    }
    *out_len = total;
    *consumed = pos;
    return done;
}

static void check_chunked(const uint8_t *data, size_t size)
{
    char *a = malloc(size + 1), *b = malloc(size + 1);
    size_t la = 0, lb = 0, ca = 0, cb = 0;
    if (a != NULL && b != NULL) {
        int ra = decode(data, size, 64, a, &la, &ca);
        int rb = decode(data, size, 1, b, &lb, &cb);
        MUST(ra == rb);
        if (ra >= 0)
            MUST(la == lb && ca == cb && memcmp(a, b, la) == 0 && la <= ca);
    }
    free(a);
    free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_head(data, size);
    check_chunked(data, size);
    return 0;
}
