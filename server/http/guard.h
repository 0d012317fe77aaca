/*
 * guard.h - the checks every request passes before any handler runs.
 *
 * Localhost is not a trust boundary: every local user, and every web page a
 * local browser opens, can reach 127.0.0.1. These checks hold the line:
 *
 *   guard_target        the raw path and query are well-formed and bounded
 *   guard_host          Host is 127.0.0.1:PORT or localhost:PORT (DNS rebinding)
 *   guard_origin        a present Origin is exactly our own
 *   guard_fetch_site    a browser's Sec-Fetch-Site is "same-origin" or "none"
 *   guard_content_type  bodies are application/json
 *   guard_body_length   bodies are bounded before a byte is read
 *
 * Each is a pure function: it returns 0 when the request may go on, or the
 * HTTP status to answer with and a short static English reason in *detail.
 * http.c calls them in this order for every request, before any handler.
 */
#ifndef TMI_GUARD_H
#define TMI_GUARD_H

#include <stddef.h>

/* Largest request body accepted, bytes. */
#define GUARD_MAX_BODY (64 * 1024)

/*
 * raw_path: the path as sent (percent-encoded); raw_query: the query string
 * (NULL when none). On 0, path (REQ_MAX_PATH + 1 bytes) holds the decoded
 * path. 400 for a malformed path (NUL, backslash, dot segment, ...), 414 for
 * an over-long path or query.
 */
int guard_target(const char *raw_path, const char *raw_query, char *path, size_t pathlen,
                 const char **detail);

/* 0 when host is "127.0.0.1:port" or "localhost:port" (letter case ignored;
 * without ":port" only when port is 80). 400 when missing, 421 otherwise. */
int guard_host(const char *host, int port, const char **detail);

/* 0 when origin is NULL (not sent) or exactly "http://127.0.0.1:port" or
 * "http://localhost:port"; 403 otherwise ("null" included). */
int guard_origin(const char *origin, int port, const char **detail);

/* 0 when the header is absent, "same-origin" or "none" (typed, or a link
 * from outside the browser); 403 otherwise: "cross-site", and "same-site",
 * which includes every page on another port of localhost. */
int guard_fetch_site(const char *sec_fetch_site, const char **detail);

/* 0 for "application/json" with optional parameters (charset=utf-8 only);
 * 415 otherwise, missing included. */
int guard_content_type(const char *content_type, const char **detail);

/*
 * content_length: the Content-Length (-1 when not sent); chunked: the body
 * uses chunked transfer coding (its size is unknown here: the reader bounds
 * it). 0 when the declared length is at most max, 413 when it is larger.
 */
int guard_body_length(long long content_length, int chunked, size_t max, const char **detail);

/* Is method one that changes state (anything but GET, HEAD, OPTIONS)? */
int guard_method_unsafe(const char *method);

#endif
