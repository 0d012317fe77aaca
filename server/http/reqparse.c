/*
 * reqparse.c - pure parsers for the request parts tmi-console reads itself
 * (see reqparse.h). Fuzzed by tests/fuzz/fuzz_http_parse.c.
 */
#include "reqparse.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "hex.h"
#include "strutil.h"

size_t req_bounded_len(const char *s, size_t max)
{
    size_t n = 0;
    while (n <= max && s[n] != '\0')
        n++;
    return n;
}

static int is_control(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

/*
 * Percent-decode src[0..len) into dst (dstlen bytes, NUL-terminated).
 * plus_space: '+' means ' ' (query strings). Refuses malformed escapes,
 * control characters (raw or encoded, NUL included) and invalid UTF-8.
 */
static int pct_decode(const char *src, size_t len, int plus_space, char *dst, size_t dstlen,
                      size_t *outlen, const char **why)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c == '%') {
            int hi, lo;
            if (i + 2 >= len) {
                *why = "truncated percent escape";
                return TMI_EINVAL;
            }
            hi = hex_digit(src[i + 1]);
            lo = hex_digit(src[i + 2]);
            if (hi < 0 || lo < 0) {
                *why = "malformed percent escape";
                return TMI_EINVAL;
            }
            c = (unsigned char)(hi * 16 + lo);
            i += 2;
            if (c == 0) {
                *why = "encoded NUL";
                return TMI_EINVAL;
            }
        } else if (c == '+' && plus_space) {
            c = ' ';
        }
        if (is_control(c)) {
            *why = "control character";
            return TMI_EINVAL;
        }
        if (o + 1 >= dstlen) {
            *why = "too long";
            return TMI_ETOOBIG;
        }
        dst[o++] = (char)c;
    }
    dst[o] = '\0';
    if (!str_utf8_valid(dst, o)) {
        *why = "not valid UTF-8";
        return TMI_EINVAL;
    }
    *outlen = o;
    return TMI_OK;
}

int req_path_clean(const char *raw, char *out, size_t outlen, const char **why)
{
    const char *why_local = NULL;
    size_t len, o = 0, i = 1;
    if (why == NULL)
        why = &why_local;
    if (raw == NULL || raw[0] != '/') {
        *why = "the path must start with '/'";
        return TMI_EINVAL;
    }
    len = req_bounded_len(raw, REQ_MAX_PATH);
    if (len > REQ_MAX_PATH) {
        *why = "the path is too long";
        return TMI_ETOOBIG;
    }
    if (outlen < 2)
        return TMI_ETOOBIG;
    if (memchr(raw, '\\', len) != NULL) {
        *why = "backslash in the path";
        return TMI_EINVAL;
    }
    out[o++] = '/';
    out[o] = '\0';
    while (i <= len) {
        const char *seg = raw + i;
        const char *end = memchr(seg, '/', len - i);
        size_t seglen = end != NULL ? (size_t)(end - seg) : len - i;
        char dec[REQ_MAX_PATH + 1];
        size_t declen = 0;
        int rc;
        if (seglen == 0) {
            if (end == NULL) {
                /* the path ends with '/': keep it, so "/api/" does not match "/api" */
                if (o > 1) {
                    if (o + 1 >= outlen)
                        return TMI_ETOOBIG;
                    out[o++] = '/';
                    out[o] = '\0';
                }
                break;
            }
            *why = "empty path segment";
            return TMI_EINVAL;
        }
        rc = pct_decode(seg, seglen, 0, dec, sizeof(dec), &declen, why);
        if (rc != TMI_OK) {
            if (rc == TMI_ETOOBIG)
                *why = "the path is too long";
            return rc;
        }
        if (memchr(dec, '/', declen) != NULL || memchr(dec, '\\', declen) != NULL) {
            *why = "encoded slash or backslash in the path";
            return TMI_EINVAL;
        }
        if (strcmp(dec, ".") == 0 || strcmp(dec, "..") == 0) {
            *why = "dot segment in the path";
            return TMI_EINVAL;
        }
        if (o > 1) {
            if (o + 1 >= outlen)
                return TMI_ETOOBIG;
            out[o++] = '/';
        }
        if (o + declen >= outlen) {
            *why = "the path is too long";
            return TMI_ETOOBIG;
        }
        memcpy(out + o, dec, declen);
        o += declen;
        out[o] = '\0';
        i += seglen + 1;
    }
    return TMI_OK;
}

static int valid_name(const char *s, size_t len)
{
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return 0;
    }
    return 1;
}

int req_query_parse(const char *raw, req_query *q, const char **why)
{
    const char *why_local = NULL;
    size_t len, i = 0;
    if (why == NULL)
        why = &why_local;
    q->n = 0;
    if (raw == NULL)
        return TMI_OK;
    len = req_bounded_len(raw, REQ_MAX_QUERY);
    if (len > REQ_MAX_QUERY) {
        *why = "the query string is too long";
        return TMI_ETOOBIG;
    }
    while (i < len) {
        const char *piece = raw + i;
        const char *amp = memchr(piece, '&', len - i);
        size_t plen = amp != NULL ? (size_t)(amp - piece) : len - i;
        const char *eq = memchr(piece, '=', plen);
        size_t nlen = eq != NULL ? (size_t)(eq - piece) : plen;
        req_param *p;
        size_t vlen = 0;
        int rc;
        i += plen + 1;
        if (plen == 0)
            continue;
        if (!valid_name(piece, nlen) || nlen >= REQ_MAX_NAME) {
            *why = "malformed query parameter name";
            return TMI_EINVAL;
        }
        if (q->n >= REQ_MAX_PARAMS) {
            *why = "too many query parameters";
            return TMI_ETOOBIG;
        }
        p = &q->p[q->n];
        memcpy(p->name, piece, nlen);
        p->name[nlen] = '\0';
        if (req_query_get(q, p->name) != NULL) {
            *why = "a query parameter is given twice";
            return TMI_EINVAL;
        }
        p->value[0] = '\0';
        if (eq != NULL) {
            rc = pct_decode(eq + 1, plen - nlen - 1, 1, p->value, sizeof(p->value), &vlen, why);
            if (rc != TMI_OK) {
                *why = rc == TMI_ETOOBIG ? "a query value is too long"
                                         : "malformed query value (bad escape, control "
                                           "character or invalid UTF-8)";
                return rc == TMI_ETOOBIG ? TMI_EINVAL : rc;
            }
        }
        q->n++;
    }
    return TMI_OK;
}

const char *req_query_get(const req_query *q, const char *name)
{
    for (size_t i = 0; i < q->n; i++) {
        if (strcmp(q->p[i].name, name) == 0)
            return q->p[i].value;
    }
    return NULL;
}

static int word_in_list(const char *list, const char *word)
{
    size_t wlen = strlen(word);
    const char *p = list;
    while (p != NULL && *p != '\0') {
        const char *sp = strchr(p, ' ');
        size_t len = sp != NULL ? (size_t)(sp - p) : strlen(p);
        if (len == wlen && strncmp(p, word, len) == 0)
            return 1;
        p = sp != NULL ? sp + 1 : NULL;
    }
    return 0;
}

int req_query_only(const req_query *q, const char *allowed, const char **bad)
{
    for (size_t i = 0; i < q->n; i++) {
        if (allowed == NULL || !word_in_list(allowed, q->p[i].name)) {
            *bad = q->p[i].name;
            return TMI_EINVAL;
        }
    }
    return TMI_OK;
}

int req_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    size_t n = 0;
    if (s == NULL || *s == '\0')
        return TMI_EINVAL;
    for (; *s != '\0'; s++, n++) {
        unsigned d;
        if (*s < '0' || *s > '9' || n >= 20)
            return TMI_EINVAL;
        d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return TMI_EINVAL;
        v = v * 10 + d;
    }
    if (v < min || v > max)
        return TMI_EINVAL;
    *out = v;
    return TMI_OK;
}

/* ---- Accept ---- */

/* The quality of one media range's parameters (";q=0.5"): 0..1000, or -1
 * when malformed. p..end excludes the range itself. */
static int accept_q(const char *p, const char *end)
{
    int q = 1000;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == ';'))
            p++;
        if (end - p >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
            int v = 0, scale = 1000;
            p += 2;
            if (p >= end || (*p != '0' && *p != '1'))
                return -1;
            v = (*p++ - '0') * 1000;
            if (p < end && *p == '.')
                for (p++; p < end && *p >= '0' && *p <= '9' && scale > 1; p++) {
                    scale /= 10;
                    v += (*p - '0') * scale;
                }
            q = v > 1000 ? -1 : v;
        }
        while (p < end && *p != ';')
            p++;
    }
    return q;
}

/* How specifically range r..r+n matches type/sub: 3 exact, 2 "type/\*",
 * 1 "\*\/\*", 0 not at all. */
static int accept_match(const char *r, size_t n, const char *type)
{
    size_t tl = strchr(type, '/') - type;
    if (n == strlen(type) && str_ascii_ieq(r, type, n))
        return 3;
    if (n == tl + 2 && str_ascii_ieq(r, type, tl + 1) && r[tl + 1] == '*')
        return 2;
    return n == 3 && memcmp(r, "*/*", 3) == 0 ? 1 : 0;
}

/* The quality the header gives type (0..1000): that of its most specific
 * matching range; 0 when none matches; -1 when the header is malformed. */
static int accept_quality(const char *accept, const char *type)
{
    const char *p = accept;
    int best = 0, q = 0;
    for (int i = 0; *p != '\0' && i < REQ_MAX_ACCEPT_RANGES; i++) {
        const char *end = strchr(p, ','), *semi, *r;
        size_t n;
        int m, rq;
        if (end == NULL)
            end = p + strlen(p);
        for (r = p; r < end && (*r == ' ' || *r == '\t'); r++)
            ;
        semi = memchr(r, ';', (size_t)(end - r));
        if (semi == NULL)
            semi = end;
        for (n = (size_t)(semi - r); n > 0 && (r[n - 1] == ' ' || r[n - 1] == '\t'); n--)
            ;
        rq = accept_q(semi, end);
        if (rq < 0)
            return -1;
        m = n > 0 ? accept_match(r, n, type) : 0;
        if (m > best) {
            best = m;
            q = rq;
        }
        p = *end == ',' ? end + 1 : end;
    }
    return q;
}

int req_accept_prefers_html(const char *accept)
{
    int html, json, problem;
    if (accept == NULL || strlen(accept) > REQ_MAX_ACCEPT)
        return 0;
    html = accept_quality(accept, "text/html");
    json = accept_quality(accept, "application/json");
    problem = accept_quality(accept, "application/problem+json");
    if (html <= 0 || json < 0 || problem < 0)
        return 0;
    return html > json && html > problem;
}

/* Deepest nesting of arrays/objects outside strings, stopping past limit. */
static int json_depth_ok(const char *buf, size_t len, int max_depth)
{
    int depth = 0, in_str = 0, esc = 0;
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        if (in_str) {
            if (esc)
                esc = 0;
            else if (c == '\\')
                esc = 1;
            else if (c == '"')
                in_str = 0;
            continue;
        }
        if (c == '"') {
            in_str = 1;
        } else if (c == '[' || c == '{') {
            if (++depth > max_depth)
                return 0;
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return 1;
}

/* Does the JSON text hold a \u0000 escape (a NUL inside a string, which
 * cJSON would cut the string at)? Escaped backslashes are skipped. */
static int has_escaped_nul(const char *buf, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (buf[i] != '\\')
            continue;
        if (buf[i + 1] == 'u' && i + 5 < len && memcmp(buf + i + 2, "0000", 4) == 0)
            return 1;
        i++; /* the escaped character, a backslash included */
    }
    return 0;
}

static int cmp_key(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Does any object in the tree give one key twice? (JSON allows it, and
 * then readers disagree on which value counts.) Recursion is bounded by
 * the depth checked before parsing. -1 when out of memory. */
static int has_duplicate_key(const cJSON *j)
{
    const cJSON *c;
    size_t n = 0, k = 0;
    const char **keys;
    int dup = 0;
    for (c = j->child; c != NULL; c = c->next) {
        int d = has_duplicate_key(c);
        if (d != 0)
            return d;
        n++;
    }
    if (!cJSON_IsObject(j) || n < 2)
        return 0;
    keys = malloc(n * sizeof(*keys));
    if (keys == NULL)
        return -1;
    for (c = j->child; c != NULL; c = c->next)
        keys[k++] = c->string != NULL ? c->string : "";
    qsort(keys, n, sizeof(*keys), cmp_key);
    for (k = 1; k < n && !dup; k++)
        dup = strcmp(keys[k - 1], keys[k]) == 0;
    free(keys);
    return dup;
}

int req_json_parse(const char *buf, size_t len, int max_depth, cJSON **out, const char **why)
{
    const char *why_local = NULL;
    const char *end = NULL;
    cJSON *j;
    if (why == NULL)
        why = &why_local;
    *out = NULL;
    if (len == 0)
        return TMI_OK;
    if (!str_utf8_valid(buf, len)) {
        *why = "the body is not valid UTF-8 (or holds a NUL byte)";
        return TMI_EINVAL;
    }
    if (!json_depth_ok(buf, len, max_depth)) {
        *why = "the JSON body is nested too deeply";
        return TMI_ETOOBIG;
    }
    j = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
    if (j == NULL) {
        *why = "the body is not well-formed JSON";
        return TMI_EFORMAT;
    }
    while (end != NULL && end < buf + len &&
           (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
        end++;
    if (end == NULL || end != buf + len) {
        cJSON_Delete(j);
        *why = "the body holds data after the JSON value";
        return TMI_EFORMAT;
    }
    if (has_escaped_nul(buf, len)) {
        cJSON_Delete(j);
        *why = "a string in the JSON body holds a NUL character (\\u0000)";
        return TMI_EINVAL;
    }
    if (has_duplicate_key(j) != 0) {
        cJSON_Delete(j);
        *why = "a key is given twice in one JSON object";
        return TMI_EINVAL;
    }
    *out = j;
    return TMI_OK;
}

static const char *skip_ows(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

int req_cookie_get(const char *header, const char *name, size_t index, char *out, size_t outlen)
{
    size_t nlen = strlen(name), seen = 0;
    const char *p = header;
    if (header == NULL)
        return TMI_ENOENT;
    if (req_bounded_len(header, 8193) > 8192)
        return TMI_EINVAL;
    while (*p != '\0') {
        const char *semi, *eq, *v, *vend;
        p = skip_ows(p);
        semi = strchr(p, ';');
        vend = semi != NULL ? semi : p + strlen(p);
        eq = memchr(p, '=', (size_t)(vend - p));
        if (eq != NULL && (size_t)(eq - p) == nlen && strncmp(p, name, nlen) == 0) {
            if (seen++ == index) {
                size_t vlen;
                v = eq + 1;
                while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t'))
                    vend--;
                if (vend - v >= 2 && v[0] == '"' && vend[-1] == '"') {
                    v++;
                    vend--;
                }
                vlen = (size_t)(vend - v);
                if (vlen + 1 > outlen)
                    return TMI_ETOOBIG;
                memcpy(out, v, vlen);
                out[vlen] = '\0';
                return TMI_OK;
            }
        }
        if (semi == NULL)
            break;
        p = semi + 1;
    }
    return TMI_ENOENT;
}

static int is_token68(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
}

int req_bearer_token(const char *header, const char **tok, size_t *len)
{
    static const char scheme[] = "bearer";
    const char *p, *start;
    if (header == NULL || req_bounded_len(header, 1025) > 1024)
        return TMI_EINVAL;
    for (size_t i = 0; i < sizeof(scheme) - 1; i++) {
        char c = header[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != scheme[i])
            return TMI_EINVAL;
    }
    p = header + sizeof(scheme) - 1;
    if (*p != ' ')
        return TMI_EINVAL;
    p = skip_ows(p);
    start = p;
    while (is_token68(*p))
        p++;
    while (*p == '=')
        p++;
    if (p == start)
        return TMI_EINVAL;
    *len = (size_t)(p - start);
    if (*skip_ows(p) != '\0')
        return TMI_EINVAL;
    *tok = start;
    return TMI_OK;
}
