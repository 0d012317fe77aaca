/* guard.c - the request checks that run before every handler (see guard.h). */
#include "guard.h"

#include <stdio.h>
#include <string.h>

#include "err.h"
#include "reqparse.h"
#include "strutil.h"

int guard_target(const char *raw_path, const char *raw_query, char *path, size_t pathlen,
                 const char **detail)
{
    const char *why = NULL;
    int rc;
    if (raw_path == NULL) {
        *detail = "only origin-form request targets (\"/path\") are accepted";
        return 400;
    }
    rc = req_path_clean(raw_path, path, pathlen, &why);
    if (rc == TMI_ETOOBIG) {
        *detail = "the request path is too long";
        return 414;
    }
    if (rc != TMI_OK) {
        *detail = why != NULL ? why : "malformed request path";
        return 400;
    }
    if (raw_query != NULL && req_bounded_len(raw_query, REQ_MAX_QUERY) > REQ_MAX_QUERY) {
        *detail = "the query string is too long";
        return 414;
    }
    return 0;
}

/* Does s equal "<name>:<port>" (or "<name>" for port 80), name case-insensitive? */
static int is_local_authority(const char *s, size_t len, int port)
{
    static const char *const names[] = {"127.0.0.1", "localhost"};
    char portstr[16];
    snprintf(portstr, sizeof(portstr), ":%d", port);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        size_t nlen = strlen(names[i]), plen = strlen(portstr);
        if (len < nlen || !str_ascii_ieq(s, names[i], nlen))
            continue;
        if (len == nlen && port == 80)
            return 1;
        if (len == nlen + plen && memcmp(s + nlen, portstr, plen) == 0)
            return 1;
    }
    return 0;
}

int guard_host(const char *host, int port, const char **detail)
{
    if (host == NULL || host[0] == '\0') {
        *detail = "the Host header is required";
        return 400;
    }
    if (!is_local_authority(host, req_bounded_len(host, 256), port)) {
        *detail = "this server only answers to Host 127.0.0.1:PORT or localhost:PORT";
        return 421;
    }
    return 0;
}

int guard_origin(const char *origin, int port, const char **detail)
{
    static const char scheme[] = "http://";
    size_t len;
    if (origin == NULL)
        return 0;
    len = req_bounded_len(origin, 256);
    if (len > sizeof(scheme) - 1 && memcmp(origin, scheme, sizeof(scheme) - 1) == 0 &&
        is_local_authority(origin + sizeof(scheme) - 1, len - (sizeof(scheme) - 1), port))
        return 0;
    *detail = "cross-origin requests are not allowed";
    return 403;
}

int guard_fetch_site(const char *sec_fetch_site, const char **detail)
{
    /* "same-site" is refused too: every page on another port of this
     * machine is same-site with us (and SameSite=Strict cookies go there) */
    if (sec_fetch_site == NULL || strcmp(sec_fetch_site, "same-origin") == 0 ||
        strcmp(sec_fetch_site, "none") == 0)
        return 0;
    *detail = "requests started by another site or another port are not allowed";
    return 403;
}

int guard_content_type(const char *ct, const char **detail)
{
    static const char want[] = "application/json";
    const char *p;
    if (ct == NULL || req_bounded_len(ct, 128) >= 128 ||
        !str_ascii_ieq(ct, want, sizeof(want) - 1)) {
        *detail = "request bodies must be application/json";
        return 415;
    }
    p = ct + sizeof(want) - 1;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\0')
        return 0;
    if (*p == ';') {
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        if (str_ascii_ieq(p, "charset=utf-8", 13) || str_ascii_ieq(p, "charset=\"utf-8\"", 15)) {
            const char *q = p + (p[8] == '"' ? 15 : 13);
            while (*q == ' ' || *q == '\t')
                q++;
            if (*q == '\0')
                return 0;
        }
    }
    *detail = "request bodies must be application/json (charset utf-8)";
    return 415;
}

int guard_body_length(long long content_length, int chunked, size_t max, const char **detail)
{
    if (chunked)
        return 0; /* bounded while reading */
    if (content_length < 0)
        return 0; /* no body */
    if ((unsigned long long)content_length > (unsigned long long)max) {
        *detail = "the request body is too large";
        return 413;
    }
    return 0;
}

int guard_method_unsafe(const char *method)
{
    return !(strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ||
             strcmp(method, "OPTIONS") == 0);
}
