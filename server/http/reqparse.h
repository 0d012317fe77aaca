/*
 * reqparse.h - the parts of an HTTP request that tmi-console parses itself:
 * the request path, the query string, numbers in it, JSON bodies, the
 * Cookie and Authorization headers. (Times in queries: db/timefmt.h.)
 *
 * Everything here is a pure function of its input (no I/O, no allocation
 * except req_json_parse's cJSON tree), so the fuzz target and the unit tests
 * call it without a socket. Every input is bounded by the REQ_MAX_* limits;
 * on failure a function returns a TMI_E* code and, where it takes `why`, sets
 * *why to a short static English reason fit for an HTTP error's detail.
 *
 *   TMI_ETOOBIG  the input exceeds a bound (the caller answers 413 or 414)
 *   TMI_EINVAL   the input is malformed or not allowed (400)
 *   TMI_EFORMAT  a JSON body does not parse (400)
 */
#ifndef TMI_REQPARSE_H
#define TMI_REQPARSE_H

#include <stddef.h>
#include <stdint.h>

struct cJSON;

#define REQ_MAX_PATH       1024 /* raw request path, bytes */
#define REQ_MAX_QUERY      2048 /* raw query string, bytes */
#define REQ_MAX_PARAMS     12   /* query parameters */
#define REQ_MAX_NAME       32   /* query parameter name, bytes including the NUL */
#define REQ_MAX_VALUE      256  /* decoded query value, bytes including the NUL */
#define REQ_MAX_JSON_DEPTH 16   /* nesting of arrays and objects in a body */

/* strlen(s), but looks at no more than max + 1 bytes: returns max + 1 when s
 * is longer than max. (strnlen is POSIX, not C11.) */
size_t req_bounded_len(const char *s, size_t max);

/*
 * Check a raw request path (as sent, still percent-encoded, without the
 * query) and write its decoded form into out. Refused: anything not starting
 * with '/', longer than REQ_MAX_PATH (TMI_ETOOBIG), a backslash (raw or
 * %5C), an encoded slash (%2F), a malformed escape, an encoded NUL or other
 * control character, invalid UTF-8, a "." or ".." segment (raw or encoded),
 * and an empty segment ("//") anywhere but at the end. out must hold
 * REQ_MAX_PATH + 1 bytes.
 */
int req_path_clean(const char *raw, char *out, size_t outlen, const char **why);

/* One decoded query parameter. */
typedef struct req_param {
    char name[REQ_MAX_NAME];
    char value[REQ_MAX_VALUE];
} req_param;

typedef struct req_query {
    req_param p[REQ_MAX_PARAMS];
    size_t n;
} req_query;

/*
 * Parse a raw query string (may be NULL or empty) into q. Names must be
 * [a-z0-9_]+; values are percent-decoded ('+' is a space) and must be valid
 * UTF-8 without control characters. Empty pieces ("a=1&&b=2") are skipped. A
 * name given twice is refused (parameter pollution). Over REQ_MAX_QUERY
 * bytes or REQ_MAX_PARAMS parameters: TMI_ETOOBIG.
 */
int req_query_parse(const char *raw, req_query *q, const char **why);

/* The value of parameter name, or NULL when absent. */
const char *req_query_get(const req_query *q, const char *name);

/*
 * Are all of q's names in `allowed` (space-separated, may be NULL for none)?
 * TMI_OK, or TMI_EINVAL with *bad set to the first unknown name (a pointer
 * into q).
 */
int req_query_only(const req_query *q, const char *allowed, const char **bad);

/* Parse a decimal number: digits only (no sign, space or leading '+'), at most
 * 20 of them, no overflow, within [min, max]. TMI_OK or TMI_EINVAL. */
int req_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/*
 * Does a client that sent this Accept header (NULL: none) want an HTML page
 * rather than JSON? 1 when text/html's quality (RFC 9110, 12.5.1: the most
 * specific range that matches, "q" 0 to 1, default 1) is above that of
 * application/json and application/problem+json, else 0. So a browser's
 * navigation ("text/html,...,*\/\*;q=0.8") gets HTML; "application/json",
 * "*\/\*" (curl), no header or a malformed one get JSON. Looks at no more
 * than REQ_MAX_ACCEPT bytes and REQ_MAX_ACCEPT_RANGES ranges.
 */
#define REQ_MAX_ACCEPT        2048
#define REQ_MAX_ACCEPT_RANGES 32
int req_accept_prefers_html(const char *accept);

/*
 * Parse a JSON body of len bytes. len 0: TMI_OK with *out NULL (no body).
 * Otherwise the bytes must be valid UTF-8, nest at most max_depth deep, and
 * hold exactly one JSON value (whitespace around it allowed), with no object
 * giving a key twice and no string holding a NUL (\u0000). On TMI_OK *out
 * is the caller's (cJSON_Delete). TMI_EINVAL (encoding), TMI_ETOOBIG (too
 * deep) or TMI_EFORMAT (syntax).
 */
int req_json_parse(const char *buf, size_t len, int max_depth, struct cJSON **out,
                   const char **why);

/*
 * The value of the index-th (0-based) cookie called name in a Cookie header
 * ("a=b; c=d"), copied into out (NUL-terminated). TMI_ENOENT when there is no
 * such occurrence, TMI_ETOOBIG when it does not fit, TMI_EINVAL when the
 * header is malformed.
 */
int req_cookie_get(const char *header, const char *name, size_t index, char *out, size_t outlen);

/*
 * The credential of an "Authorization: Bearer <token>" header: scheme
 * case-insensitive, token68 characters only. On TMI_OK *tok points into
 * header and *len is its length. TMI_EINVAL for another scheme or a
 * malformed header.
 */
int req_bearer_token(const char *header, const char **tok, size_t *len);

#endif
