/* httpd_parse.c - strict HTTP/1.1 request heads and chunked bodies (see
 * httpd_parse.h). */
#include "httpd_parse.h"

#include <string.h>

/* tchar of RFC 9110 5.6.2 */
static int is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return 1;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int ieq(const char *a, const char *b)
{
    while (*a != '\0' && lower((unsigned char)*a) == lower((unsigned char)*b)) {
        a++;
        b++;
    }
    return *a == '\0' && *b == '\0';
}

long httpd_head_end(const char *buf, size_t len)
{
    size_t i = 0, line = 0;
    /* empty lines before the request line are skipped */
    while (i + 1 < len && buf[i] == '\r' && buf[i + 1] == '\n') {
        i += 2;
        if (i > 8)
            return -1;
    }
    line = i;
    for (; i < len; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (c == '\0')
            return -1;
        if (c == '\n')
            return -1; /* a LF not after a CR */
        if (c != '\r')
            continue;
        if (i + 1 >= len)
            return 0;
        if (buf[i + 1] != '\n')
            return -1; /* a bare CR */
        if (i == line)
            return (long)(i + 2); /* the blank line: end of the head */
        i++;
        line = i + 1;
    }
    return 0;
}

/* Split the request line [p, end) into its three parts. */
static int parse_request_line(char *p, char *end, httpd_head *h, const char **why)
{
    char *sp1 = memchr(p, ' ', (size_t)(end - p)), *sp2, *version;
    size_t mlen, tlen;
    if (sp1 == NULL)
        goto bad;
    sp2 = memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1));
    if (sp2 == NULL)
        goto bad;
    mlen = (size_t)(sp1 - p);
    tlen = (size_t)(sp2 - sp1 - 1);
    version = sp2 + 1;
    if (mlen == 0 || mlen >= HTTPD_MAX_METHOD || tlen == 0)
        goto bad;
    for (size_t i = 0; i < mlen; i++) {
        if (!is_tchar((unsigned char)p[i]))
            goto bad;
    }
    if (tlen > HTTPD_MAX_TARGET) {
        *why = "the request target is too long";
        return 414;
    }
    for (char *t = sp1 + 1; t < sp2; t++) {
        if ((unsigned char)*t <= 0x20 || (unsigned char)*t >= 0x7f)
            goto bad;
    }
    if (sp1[1] != '/') {
        *why = "the request target must be a path (origin-form)";
        return 400;
    }
    /* HTTP-version = "HTTP/" DIGIT "." DIGIT, exactly */
    if ((size_t)(end - version) != 8 || memcmp(version, "HTTP/", 5) != 0 || version[5] < '0' ||
        version[5] > '9' || version[6] != '.' || version[7] < '0' || version[7] > '9')
        goto bad;
    if (version[5] != '1' || (version[7] != '0' && version[7] != '1')) {
        *why = "only HTTP/1.0 and HTTP/1.1 are served";
        return 505;
    }
    h->minor = version[7] - '0';
    *sp1 = '\0';
    *sp2 = '\0';
    *end = '\0';
    h->method = p;
    h->path = sp1 + 1;
    return 0;
bad:
    *why = "malformed request line (expected: METHOD SP /path SP HTTP/1.1)";
    return 400;
}

/* One header line [p, end): name ":" OWS value OWS. */
static int parse_header_line(char *p, char *end, httpd_head *h, const char **why)
{
    char *colon = memchr(p, ':', (size_t)(end - p)), *v;
    if (p < end && (*p == ' ' || *p == '\t')) {
        *why = "folded header lines are not accepted";
        return 400;
    }
    if (colon == NULL || colon == p) {
        *why = "malformed header line";
        return 400;
    }
    for (char *n = p; n < colon; n++) {
        if (!is_tchar((unsigned char)*n)) {
            *why = "malformed header name (no space before the colon)";
            return 400;
        }
    }
    v = colon + 1;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    for (char *c = v; c < end; c++) {
        unsigned char ch = (unsigned char)*c;
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
            *why = "a control character in a header value";
            return 400;
        }
    }
    if (h->n_headers >= HTTPD_MAX_HEADERS) {
        *why = "too many header lines";
        return 431;
    }
    *colon = '\0';
    *end = '\0';
    h->headers[h->n_headers].name = p;
    h->headers[h->n_headers].value = v;
    h->n_headers++;
    return 0;
}

const char *httpd_head_get(const httpd_head *h, const char *name)
{
    for (size_t i = 0; i < h->n_headers; i++) {
        if (ieq(h->headers[i].name, name))
            return h->headers[i].value;
    }
    return NULL;
}

static size_t head_count(const httpd_head *h, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < h->n_headers; i++)
        n += ieq(h->headers[i].name, name);
    return n;
}

/* Does a comma-separated list hold token (case-insensitive)? */
static int list_has(const char *list, const char *token)
{
    size_t tl = strlen(token);
    const char *p = list;
    while (p != NULL && *p != '\0') {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *e = p;
        while (*e != '\0' && *e != ',' && *e != ' ' && *e != '\t')
            e++;
        if ((size_t)(e - p) == tl) {
            size_t k = 0;
            while (k < tl && lower((unsigned char)p[k]) == lower((unsigned char)token[k]))
                k++;
            if (k == tl)
                return 1;
        }
        p = e;
    }
    return 0;
}

/* Headers a request may carry once only: the guard and the framing rely
 * on them, and a second copy is a smuggling or confusion trick. */
static const char *const single_headers[] = {
    "Host",   "Content-Length", "Transfer-Encoding", "Content-Type", "Authorization", "Cookie",
    "Origin", "Sec-Fetch-Site", "X-TMI-Secret",      "Expect",       "Connection"};

/* Content-Length, Transfer-Encoding, Expect, Connection. */
static int parse_framing(httpd_head *h, const char **why)
{
    const char *cl = httpd_head_get(h, "Content-Length");
    const char *te = httpd_head_get(h, "Transfer-Encoding");
    const char *ex = httpd_head_get(h, "Expect");
    const char *conn = httpd_head_get(h, "Connection");
    for (size_t i = 0; i < sizeof(single_headers) / sizeof(single_headers[0]); i++) {
        if (head_count(h, single_headers[i]) > 1) {
            *why = "a header that may appear once is given more than once";
            return 400;
        }
    }
    h->content_length = -1;
    if (cl != NULL && te != NULL) {
        *why = "Content-Length together with Transfer-Encoding";
        return 400;
    }
    if (cl != NULL) {
        size_t n = strlen(cl);
        long long v = 0;
        if (n == 0 || n > 15) {
            *why = "Content-Length must be a number of at most 15 digits";
            return 400;
        }
        for (size_t i = 0; i < n; i++) {
            if (cl[i] < '0' || cl[i] > '9') {
                *why = "Content-Length must be digits only";
                return 400;
            }
            v = v * 10 + (cl[i] - '0');
        }
        h->content_length = v;
    }
    if (te != NULL) {
        if (h->minor == 0) {
            *why = "Transfer-Encoding in an HTTP/1.0 request";
            return 400;
        }
        if (!ieq(te, "chunked")) {
            *why = "the only transfer coding accepted is \"chunked\"";
            return 501;
        }
        h->chunked = 1;
    }
    if (ex != NULL) {
        if (!ieq(ex, "100-continue")) {
            *why = "the only expectation accepted is \"100-continue\"";
            return 417;
        }
        h->expect_continue = h->minor == 1;
    }
    h->close = h->minor == 0 ? !(conn != NULL && list_has(conn, "keep-alive"))
                             : conn != NULL && list_has(conn, "close");
    return 0;
}

int httpd_parse_head(char *buf, size_t head_len, httpd_head *h, const char **why)
{
    char *p = buf, *end = buf + head_len, *eol, *q;
    int st;
    memset(h, 0, sizeof(*h));
    h->head_len = head_len;
    *why = "";
    while (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
        p += 2;
    eol = p;
    while (eol < end - 1 && !(eol[0] == '\r' && eol[1] == '\n'))
        eol++;
    if (eol >= end - 1) {
        *why = "incomplete request head";
        return 400;
    }
    st = parse_request_line(p, eol, h, why);
    if (st != 0)
        return st;
    p = eol + 2;
    while (p < end - 2) {
        eol = p;
        while (eol < end - 1 && !(eol[0] == '\r' && eol[1] == '\n'))
            eol++;
        st = parse_header_line(p, eol, h, why);
        if (st != 0)
            return st;
        p = eol + 2;
    }
    /* path and query: the target with its '?' turned into a NUL */
    q = strchr((char *)h->path, '?');
    if (q != NULL) {
        *q = '\0';
        h->query = q + 1;
    }
    return parse_framing(h, why);
}

/* ---- chunked bodies ---- */

enum {
    CH_SIZE = 0, /* reading hex digits */
    CH_SIZE_LF,  /* after the size's CR */
    CH_DATA,     /* reading data */
    CH_DATA_CR,  /* expecting the CR after data */
    CH_DATA_LF,  /* expecting its LF */
    CH_LAST_CR,  /* after "0\r\n": expecting the blank line's CR */
    CH_LAST_LF,  /* and its LF */
    CH_DONE,
};

void httpd_chunked_init(httpd_chunked *c)
{
    memset(c, 0, sizeof(*c));
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* One framing byte (not data). 0, or -1 with *why. */
static int chunk_byte(httpd_chunked *c, char ch, const char **why)
{
    int v;
    switch (c->state) {
    case CH_SIZE:
        v = hexval(ch);
        if (v >= 0) {
            if (c->digits >= 8) {
                *why = "chunk size too long";
                return -1;
            }
            c->remaining = c->remaining << 4 | (uint32_t)v;
            c->digits++;
            return 0;
        }
        if (ch != '\r' || c->digits == 0) {
            *why = "malformed chunk size (no extensions are accepted)";
            return -1;
        }
        c->state = CH_SIZE_LF;
        return 0;
    case CH_SIZE_LF:
        if (ch != '\n')
            break;
        c->state = c->remaining == 0 ? CH_LAST_CR : CH_DATA;
        return 0;
    case CH_DATA_CR:
        if (ch != '\r')
            break;
        c->state = CH_DATA_LF;
        return 0;
    case CH_DATA_LF:
        if (ch != '\n')
            break;
        c->state = CH_SIZE;
        c->digits = 0;
        c->remaining = 0;
        return 0;
    case CH_LAST_CR:
        if (ch != '\r') {
            *why = "trailer fields are not accepted";
            return -1;
        }
        c->state = CH_LAST_LF;
        return 0;
    case CH_LAST_LF:
        if (ch != '\n')
            break;
        c->state = CH_DONE;
        return 0;
    default:
        break;
    }
    *why = "malformed chunked framing (CRLF expected)";
    return -1;
}

long httpd_chunked_decode(httpd_chunked *c, char *in, size_t in_len, size_t *out_len, int *done,
                          const char **why)
{
    size_t i = 0, out = 0;
    *why = "";
    while (i < in_len && c->state != CH_DONE) {
        if (c->state == CH_DATA) {
            size_t n = in_len - i < c->remaining ? in_len - i : c->remaining;
            memmove(in + out, in + i, n);
            out += n;
            i += n;
            c->remaining -= (uint32_t)n;
            if (c->remaining == 0)
                c->state = CH_DATA_CR;
            continue;
        }
        if (chunk_byte(c, in[i], why) != 0)
            return -1;
        i++;
    }
    *out_len = out;
    *done = c->state == CH_DONE;
    return (long)i;
}
