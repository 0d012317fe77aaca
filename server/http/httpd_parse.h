/*
 * httpd_parse.h - the HTTP/1.1 request head and chunked body, parsed
 * strictly (RFC 9112). Pure functions of their input: no I/O, no allocation,
 * so the fuzz target and the unit tests call them without a socket.
 *
 * What is refused, and how (the status the engine answers before closing):
 *   400  a request line that is not `METHOD SP origin-form SP HTTP/1.x CRLF`;
 *        a bare CR or LF, a NUL or another control character in the head;
 *        whitespace before a header's colon; a folded (obs-fold) line;
 *        Content-Length that is not 1*DIGIT, or given twice, or with
 *        Transfer-Encoding; Transfer-Encoding in HTTP/1.0; a header that
 *        must appear once given twice (Host, Content-Length, ...)
 *   414  a request target longer than HTTPD_MAX_TARGET
 *   431  more than HTTPD_MAX_HEADERS header lines (all are counted), or a
 *        head longer than the engine's buffer
 *   501  a transfer coding other than exactly "chunked"
 *   505  an HTTP version other than 1.0 and 1.1
 *   417  an Expect other than "100-continue"
 * A chunked body: chunk sizes of 1 to 8 hex digits, no extensions, CRLF
 * after each size and each chunk's data, the last chunk `0 CRLF CRLF` (no
 * trailer fields). Anything else is an error, and so is an end of input
 * before the last chunk.
 */
#ifndef TMI_HTTPD_PARSE_H
#define TMI_HTTPD_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define HTTPD_MAX_HEADERS 64
#define HTTPD_MAX_METHOD  16
#define HTTPD_MAX_TARGET  3100 /* path (1024) + '?' + query (2048), with room */

typedef struct httpd_header {
    const char *name; /* into the head buffer, NUL-terminated */
    const char *value;
} httpd_header;

typedef struct httpd_head {
    const char *method; /* "GET" */
    const char *path;   /* the request target up to '?', raw (still percent-encoded) */
    const char *query;  /* the target after '?', or NULL */
    int minor;          /* HTTP/1.<minor>: 0 or 1 */
    httpd_header headers[HTTPD_MAX_HEADERS];
    size_t n_headers;
    long long content_length; /* -1: none */
    int chunked;              /* Transfer-Encoding: chunked */
    int expect_continue;      /* Expect: 100-continue */
    int close;                /* Connection: close, or HTTP/1.0 without keep-alive */
    size_t head_len;          /* bytes of the head, its final CRLF CRLF included */
} httpd_head;

/*
 * Find the end of a head in buf[0..len): the offset just past its blank line,
 * 0 when it is not complete yet, or -1 when the bytes so far cannot be a
 * head (a bare LF or CR, a NUL). Empty lines before the request line are
 * skipped (RFC 9112 2.2) and counted in the offset.
 */
long httpd_head_end(const char *buf, size_t len);

/*
 * Parse a complete head of head_len bytes (httpd_head_end's offset) in place:
 * the buffer is modified (NULs end names, values and the parts of the
 * request line) and h points into it. 0 with *h filled, or the HTTP status
 * above with a short static reason in *why.
 */
int httpd_parse_head(char *buf, size_t head_len, httpd_head *h, const char **why);

/* The value of the first header called name (ASCII case-insensitive), or
 * NULL. */
const char *httpd_head_get(const httpd_head *h, const char *name);

/* ---- chunked bodies ---- */

typedef struct httpd_chunked {
    int state;
    uint32_t remaining; /* bytes left in the current chunk */
    unsigned digits;
} httpd_chunked;

/* Start decoding a chunked body. */
void httpd_chunked_init(httpd_chunked *c);

/*
 * Decode in[0..in_len) in place: the payload bytes are moved to the start
 * of in. Returns the number of input bytes consumed (all of them unless the
 * body ended inside this input: the rest belongs to the next request), with
 * *out_len the payload bytes now at the start of in and *done set once the
 * last chunk and its blank line were read; -1 on malformed framing (*why
 * set).
 */
long httpd_chunked_decode(httpd_chunked *c, char *in, size_t in_len, size_t *out_len, int *done,
                          const char **why);

#endif
