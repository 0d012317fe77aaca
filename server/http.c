/*
 * http.c - civetweb glue: start/stop, the request pipeline (see http.h),
 * per-thread store connections, and the response helpers.
 */
#include "http.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <civetweb.h>
#include <cjson/cJSON.h>

#include "audit.h"
#include "err.h"
#include "guard.h"
#include "plat.h"
#include "problem.h"

#define ALLOW_MAX 64

struct http_server {
    struct mg_context *ctx;
    http_config cfg;
    char data_dir[PLAT_PATH_MAX];
    char root[PLAT_PATH_MAX];
    char tmi_dir[PLAT_PATH_MAX];
    char service_name[256];
    int port;
    atomic_int refusing; /* set once at shutdown, read by workers */
    auth_token_cache *token;
    auth_sessions *sessions;
    int library;                    /* mg_init_library was called for this server */
    char token_user[AUTH_MAX_USER]; /* who a bearer token stands for: the server's user */
    plat_mutex *mu;                 /* guards throttle */
    auth_throttle throttle;
};

/* One civetweb worker thread's state (its thread pointer). */
typedef struct http_worker {
    store *st;
    store_watch *watch; /* on st, for the status cache */
    http_status_cache status;
    int open_failed_logged;
} http_worker;

/* Sent with every response, errors included. */
static const struct {
    const char *name;
    const char *value;
} security_headers[] = {
    {"Content-Security-Policy",
     "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"},
    {"X-Content-Type-Options", "nosniff"},
    {"Cache-Control", "no-store"},
    {"Referrer-Policy", "no-referrer"},
    {"X-Frame-Options", "DENY"},
    {"Cross-Origin-Resource-Policy", "same-origin"},
};
#define N_SECURITY_HEADERS (sizeof(security_headers) / sizeof(security_headers[0]))

/* ---- sending ---- */

static int add_headers(struct mg_connection *conn, const char *const *h)
{
    for (size_t i = 0; h != NULL && h[i] != NULL && h[i + 1] != NULL; i += 2) {
        if (mg_response_header_add(conn, h[i], h[i + 1], -1) != 0)
            return -1;
    }
    return 0;
}

/* Start a response through civetweb's header calls: status, security
 * headers, extras, length or chunked coding, and "Connection: close" when
 * asked (civetweb then closes the connection after the response). Used for
 * everything that may not take the fast path (send_whole). */
static int send_head(struct mg_connection *conn, int status, const char *ctype,
                     const char *const *extra, long long length, int must_close)
{
    char len[32];
    if (mg_response_header_start(conn, status) != 0)
        return -1;
    for (size_t i = 0; i < N_SECURITY_HEADERS; i++) {
        if (mg_response_header_add(conn, security_headers[i].name, security_headers[i].value, -1) !=
            0)
            return -1;
    }
    if (ctype != NULL && mg_response_header_add(conn, "Content-Type", ctype, -1) != 0)
        return -1;
    if (add_headers(conn, extra) != 0)
        return -1;
    if (status == 204 || status == 304) {
        /* no body, and no Content-Length either (RFC 9110, 8.6) */
    } else if (length >= 0) {
        snprintf(len, sizeof(len), "%lld", length);
        if (mg_response_header_add(conn, "Content-Length", len, -1) != 0)
            return -1;
    } else if (mg_response_header_add(conn, "Transfer-Encoding", "chunked", -1) != 0) {
        return -1;
    }
    if (must_close && mg_response_header_add(conn, "Connection", "close", -1) != 0)
        return -1;
    return mg_response_header_send(conn);
}

/* IMF-fixdate ("Wed, 25 Nov 2026 11:09:39 GMT") of ns since the epoch. */
static void http_date(int64_t ns, char *buf, size_t buflen)
{
    static const char *const wd[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
    static const char *const mn[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int64_t secs = ns / 1000000000LL, days = secs / 86400, rem = secs % 86400;
    int64_t z = days + 719468, era = z / 146097, doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = yoe + era * 400 + (m <= 2);
    snprintf(buf, buflen, "%s, %02d %s %04d %02d:%02d:%02d GMT", wd[days % 7], (int)d, mn[m - 1],
             (int)y, (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
}

/* A growing byte buffer for one response; on allocation failure it stops
 * growing and remembers that (ok = 0). */
typedef struct out_buf {
    char *p;
    size_t len, cap;
    int ok;
} out_buf;

static void ob_add(out_buf *b, const void *data, size_t n)
{
    if (!b->ok)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap * 2 > b->len + n ? b->cap * 2 : b->len + n + 1024;
        char *np = realloc(b->p, cap);
        if (np == NULL) {
            b->ok = 0;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
}

static void ob_str(out_buf *b, const char *s)
{
    ob_add(b, s, strlen(s));
}

static void ob_header(out_buf *b, const char *name, const char *value)
{
    ob_str(b, name);
    ob_add(b, ": ", 2);
    ob_str(b, value);
    ob_add(b, "\r\n", 2);
}

/*
 * The fast path: the whole response (head and body) in one buffer and one
 * write, which on a keep-alive connection with TCP_NODELAY is several times
 * faster than civetweb's header calls (one send per header line). Only for
 * responses after which the connection stays open as usual (see
 * fast_path_ok); civetweb then carries on with the next request.
 */
static int send_whole(struct mg_connection *conn, int status, const char *ctype,
                      const char *const *extra, const void *body, size_t len)
{
    out_buf b = {NULL, 0, 0, 1};
    char line[96];
    int rc;
    snprintf(line, sizeof(line), "HTTP/1.1 %d %s\r\n", status, problem_title(status));
    b.p = malloc(len + 1024);
    b.cap = b.p != NULL ? len + 1024 : 0;
    b.ok = b.p != NULL;
    ob_str(&b, line);
    for (size_t i = 0; i < N_SECURITY_HEADERS; i++)
        ob_header(&b, security_headers[i].name, security_headers[i].value);
    if (ctype != NULL)
        ob_header(&b, "Content-Type", ctype);
    for (size_t i = 0; extra != NULL && extra[i] != NULL && extra[i + 1] != NULL; i += 2)
        ob_header(&b, extra[i], extra[i + 1]);
    http_date(plat_now_ns(), line, sizeof(line));
    ob_header(&b, "Date", line);
    if (status != 204 && status != 304) {
        snprintf(line, sizeof(line), "%zu", len);
        ob_header(&b, "Content-Length", line);
    }
    ob_add(&b, "\r\n", 2);
    if (len > 0)
        ob_add(&b, body, len);
    rc = b.ok && mg_write(conn, b.p, b.len) == (int)b.len ? 0 : -1;
    free(b.p);
    return rc;
}

/* May this response take the fast path? Only when civetweb will keep the
 * connection open exactly as the response says (HTTP/1.1 keep-alive, the
 * request body consumed, not a 401, which civetweb always closes after). */
static int fast_path_ok(const http_req *req, int status)
{
    const struct mg_request_info *ri = mg_get_request_info(req->conn);
    const char *c = mg_get_header(req->conn, "Connection");
    if (req->must_close || status == 401 || ri->http_version == NULL ||
        strcmp(ri->http_version, "1.1") != 0)
        return 0;
    return c == NULL || mg_strcasecmp(c, "keep-alive") == 0;
}

int http_send(http_req *req, int status, const char *ctype, const void *body, size_t len,
              const char *const *headers)
{
    req->status = status;
    if (len > (size_t)0x7fffffff)
        len = 0;
    if (fast_path_ok(req, status)) {
        send_whole(req->conn, status, ctype, headers, body, len);
        return status;
    }
    if (send_head(req->conn, status, ctype, headers, (long long)len, req->must_close) != 0)
        return status;
    if (len > 0)
        mg_write(req->conn, body, len);
    return status;
}

int http_send_json(http_req *req, int status, const cJSON *json)
{
    char *text = cJSON_PrintUnformatted(json);
    int rc;
    if (text == NULL)
        return http_send_problem(req, 500, "out of memory while writing the response");
    rc = http_send(req, status, "application/json", text, strlen(text), NULL);
    free(text);
    return rc;
}

static int send_problem_text(http_req *req, int status, const char *detail,
                             const char *const *headers)
{
    char *text = problem_json(status, detail);
    static const char fallback[] = "{\"title\":\"Internal Server Error\",\"status\":500}";
    if (text == NULL)
        return http_send(req, 500, PROBLEM_CONTENT_TYPE, fallback, sizeof(fallback) - 1, NULL);
    http_send(req, status, PROBLEM_CONTENT_TYPE, text, strlen(text), headers);
    free(text);
    return status;
}

int http_send_problem(http_req *req, int status, const char *fmt, ...)
{
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    return send_problem_text(req, status, detail, NULL);
}

int http_send_error(http_req *req, int tmi_err, const char *what, store *s)
{
    const char *msg = s != NULL ? store_errmsg(s) : "";
    int status = problem_status_for(tmi_err);
    if (status < 400)
        status = 500;
    if (msg != NULL && msg[0] != '\0')
        return http_send_problem(req, status, "%s: %s", what, msg);
    return http_send_problem(req, status, "%s: %s", what, tmi_strerror(tmi_err));
}

/* While the brake holds, hold a failing request before it is answered (at
 * most AUTH_HOLD_MAX_MS, and only AUTH_HOLD_MAX_HELD at once: auth.h). */
static void auth_hold(http_req *req)
{
    unsigned ms;
    plat_mutex_lock(req->srv->mu);
    ms = auth_throttle_hold(&req->srv->throttle, plat_monotonic_ns());
    plat_mutex_unlock(req->srv->mu);
    if (ms == 0)
        return;
    plat_sleep_ms(ms);
    plat_mutex_lock(req->srv->mu);
    auth_throttle_release(&req->srv->throttle);
    plat_mutex_unlock(req->srv->mu);
}

int http_send_throttled(http_req *req, unsigned wait_ms)
{
    char secs[16], detail[160];
    const char *h[] = {"Retry-After", secs, NULL};
    unsigned s = (wait_ms + 999) / 1000;
    auth_hold(req);
    snprintf(secs, sizeof(secs), "%u", s);
    snprintf(detail, sizeof(detail), "too many failed authentication attempts; try again in %u s",
             s);
    return send_problem_text(req, 429, detail, h);
}

int http_stream_begin(http_req *req, const char *ctype, const char *filename)
{
    char disp[160];
    const char *h[] = {"Content-Disposition", disp, NULL};
    req->status = 200;
    snprintf(disp, sizeof(disp), "attachment; filename=\"%s\"", filename != NULL ? filename : "");
    /* one-off downloads: closing afterwards also lets an aborted stream show */
    req->must_close = 1;
    if (send_head(req->conn, 200, ctype, filename != NULL ? h : NULL, -1, 1) != 0)
        return TMI_EIO;
    return TMI_OK;
}

int http_stream_write(http_req *req, const void *data, size_t len)
{
    if (len == 0)
        return TMI_OK;
    if (len > 0x7fffffffu || mg_send_chunk(req->conn, data, (unsigned)len) < 0)
        return TMI_EIO;
    return TMI_OK;
}

int http_stream_end(http_req *req, int complete)
{
    if (!complete)
        return TMI_OK; /* no last chunk: the connection closes, the client sees a cut */
    return mg_send_chunk(req->conn, "", 0) < 0 ? TMI_EIO : TMI_OK;
}

/* ---- per-request state ---- */

const http_config *http_req_config(const http_req *req)
{
    return &req->srv->cfg;
}

auth_sessions *http_req_sessions(http_req *req)
{
    return req->srv->sessions;
}

int http_req_store(http_req *req, store **out)
{
    http_worker *w = mg_get_thread_pointer(req->conn);
    char err[512];
    int rc;
    if (w == NULL)
        return TMI_EIO;
    if (w->st == NULL) {
        rc = store_open_ex(req->srv->cfg.data_dir, STORE_OPEN_EXISTING | STORE_OPEN_NO_CHECK,
                           &w->st, err, sizeof(err));
        if (rc != TMI_OK) {
            if (!w->open_failed_logged)
                fprintf(stderr, "tmi-console serve: cannot open the store: %s\n", err);
            w->open_failed_logged = 1;
            return rc;
        }
    }
    *out = w->st;
    return TMI_OK;
}

int http_req_status_cache(http_req *req, http_status_cache **cache, store_stamp *now)
{
    http_worker *w = mg_get_thread_pointer(req->conn);
    store *s = NULL;
    int rc = http_req_store(req, &s);
    if (rc != TMI_OK)
        return rc;
    if (w->watch == NULL) {
        rc = store_watch_open(s, &w->watch);
        if (rc != TMI_OK)
            return rc;
    }
    rc = store_watch_stamp(w->watch, now);
    if (rc != TMI_OK)
        return rc;
    *cache = &w->status;
    return TMI_OK;
}

unsigned http_auth_wait_ms(http_req *req)
{
    unsigned ms;
    plat_mutex_lock(req->srv->mu);
    ms = auth_throttle_wait_ms(&req->srv->throttle, plat_monotonic_ns());
    plat_mutex_unlock(req->srv->mu);
    return ms;
}

void http_auth_failed(http_req *req)
{
    unsigned ms;
    uint64_t total;
    plat_mutex_lock(req->srv->mu);
    ms = auth_throttle_fail(&req->srv->throttle, plat_monotonic_ns());
    total = req->srv->throttle.total;
    plat_mutex_unlock(req->srv->mu);
    if (ms > 0) {
        char details[96];
        fprintf(stderr,
                "tmi-console serve: %llu failed authentication attempts; credential checks "
                "paused for %u ms\n",
                (unsigned long long)total, ms);
        snprintf(details, sizeof(details), "{\"failures\":%llu,\"pause_ms\":%u}",
                 (unsigned long long)total, ms);
        http_audit(req, "auth_throttle", req->path, "paused", details);
    }
    auth_hold(req);
}

int http_audit(http_req *req, const char *action, const char *target, const char *outcome,
               const char *details)
{
    audit_actor actor;
    audit_event ev;
    store *s = NULL;
    int rc = http_req_store(req, &s);
    memset(&actor, 0, sizeof(actor));
    memset(&ev, 0, sizeof(ev));
    actor.user = req->user[0] != '\0' ? req->user : "anonymous";
    actor.auth = req->auth == HTTP_AUTH_TOKEN     ? "token"
                 : req->auth == HTTP_AUTH_SESSION ? "session"
                                                  : "none";
    ev.action = action;
    ev.target = target;
    ev.outcome = outcome;
    ev.details = details;
    if (rc == TMI_OK)
        rc = audit_append(s, &actor, &ev, NULL);
    if (rc != TMI_OK)
        fprintf(stderr, "tmi-console serve: cannot write the audit record '%s %s': %s\n", action,
                outcome, s != NULL ? store_errmsg(s) : tmi_strerror(rc));
    return rc;
}

/* ---- the pipeline ---- */

static int is_chunked(const char *te)
{
    return te != NULL && mg_strcasecmp(te, "chunked") == 0;
}

/* Does the request carry a body (or claim to)? */
static int has_body(const struct mg_request_info *ri, const char *te)
{
    return ri->content_length > 0 || te != NULL;
}

/* The web session of the request: a session cookie of this port's name
 * (up to four of them: another local port may have set its own copy, see
 * auth.h) together with the page secret header. Returns 1 when one is
 * valid (req->auth, user, session filled), 0 when none is, -1 when the
 * request carries no such cookie at all. */
static int session_credential(http_req *req)
{
    const char *cookie = mg_get_header(req->conn, "Cookie");
    const char *secret = mg_get_header(req->conn, AUTH_SECRET_HEADER);
    char name[AUTH_COOKIE_NAME_MAX];
    int found = -1;
    if (auth_cookie_name(req->srv->port, name, sizeof(name)) != TMI_OK)
        return -1;
    for (size_t i = 0; i < 4; i++) {
        int rc = req_cookie_get(cookie, name, i, req->session_id, sizeof(req->session_id));
        if (rc != TMI_OK && rc != TMI_ETOOBIG)
            break;
        found = 0; /* a value too long to be ours is still a failed credential */
        if (rc == TMI_OK && auth_session_check(req->srv->sessions, req->session_id, secret,
                                               plat_monotonic_ns(), &req->session) == TMI_OK) {
            req->auth = HTTP_AUTH_SESSION;
            snprintf(req->user, sizeof(req->user), "%s", req->session.user);
            return 1;
        }
    }
    req->session_id[0] = '\0';
    return found;
}

/* A failed credential: counted by the brake (and answered 429 while it
 * holds), audited, and answered 401 with the detail. */
static int refuse_credential(http_req *req, http_auth means, const char *reason, const char *detail)
{
    static const char *const www[] = {"WWW-Authenticate", "Bearer realm=\"tmi-console\"", NULL};
    char details[160];
    unsigned wait = http_auth_wait_ms(req);
    if (wait > 0)
        return http_send_throttled(req, wait);
    req->auth = means; /* the audit row names the means tried */
    snprintf(details, sizeof(details), "{\"reason\":\"%s\"}", reason);
    http_audit(req, "auth", req->path, "failed", details);
    req->auth = HTTP_AUTH_NONE;
    http_auth_failed(req);
    return send_problem_text(req, 401, detail, www);
}

/* Authenticate for a ROUTE_AUTH route; on failure the answer is sent and its
 * status returned, else 0. */
static int authenticate(http_req *req)
{
    const char *authz = mg_get_header(req->conn, "Authorization");
    const char *tok = NULL;
    size_t toklen = 0;
    int sess;
    static const char *const www[] = {"WWW-Authenticate", "Bearer realm=\"tmi-console\"", NULL};

    if (authz != NULL) {
        /* The right token always passes: the brake slows the failing client
         * (and keeps the trail from flooding) but never locks the holder of
         * a real credential out; 256 random bits need no guessing brake. */
        if (req_bearer_token(authz, &tok, &toklen) != TMI_OK ||
            !auth_token_check(req->srv->token, tok, toklen, plat_monotonic_ns()))
            return refuse_credential(req, HTTP_AUTH_TOKEN, "wrong API token",
                                     "the API token is wrong (see 'tmi-console token'); send "
                                     "Authorization: Bearer <token>");
        req->auth = HTTP_AUTH_TOKEN;
        memcpy(req->user, req->srv->token_user, sizeof(req->user));
        return 0;
    }
    /* The session cookie counts only with its page secret: on its own it
     * may have been sent to another local user's port (auth.h). Every
     * method, GET included, needs both, which also makes cross-site request
     * forgery impossible: no other origin can send the secret header. */
    sess = session_credential(req);
    if (sess > 0)
        return 0;
    if (sess == 0 && mg_get_header(req->conn, AUTH_SECRET_HEADER) == NULL)
        return refuse_credential(req, HTTP_AUTH_SESSION, "session cookie without its page secret",
                                 "this request has the session cookie but not the page's "
                                 "secret (" AUTH_SECRET_HEADER " header); open the console "
                                 "from a signed-in tab, or a new login URL ('tmi-console "
                                 "login-url')");
    if (sess == 0)
        return refuse_credential(req, HTTP_AUTH_SESSION, "unknown session or wrong page secret",
                                 "the web session has ended (expired, logged out or the server "
                                 "restarted) or does not match this tab's secret; open a new "
                                 "login URL ('tmi-console login-url')");
    return send_problem_text(req, 401,
                             "authentication required: send Authorization: Bearer <token> "
                             "('tmi-console token'), or log in with the URL from 'tmi-console "
                             "login-url'",
                             www);
}

/* Read and parse the JSON body of a ROUTE_JSON_BODY request. 0 or the
 * status of the answer sent. */
static int read_json_body(http_req *req, const struct mg_request_info *ri, const char *te)
{
    const char *detail = NULL;
    char *buf = NULL;
    size_t got = 0;
    int status, rc;

    if (!has_body(ri, te))
        return 0;
    if (te != NULL && !is_chunked(te))
        return http_send_problem(req, 400, "unsupported Transfer-Encoding");
    status = guard_content_type(mg_get_header(req->conn, "Content-Type"), &detail);
    if (status != 0)
        return http_send_problem(req, status, "%s", detail);
    status = guard_body_length(ri->content_length, is_chunked(te), GUARD_MAX_BODY, &detail);
    if (status != 0)
        return http_send_problem(req, status, "%s (limit %d bytes)", detail, GUARD_MAX_BODY);
    buf = malloc(GUARD_MAX_BODY + 1);
    if (buf == NULL)
        return http_send_problem(req, 503, "out of memory");
    for (;;) {
        int n = mg_read(req->conn, buf + got, GUARD_MAX_BODY + 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
        if (got > GUARD_MAX_BODY)
            break;
    }
    if (got > GUARD_MAX_BODY) {
        free(buf);
        return http_send_problem(req, 413, "the request body is too large (limit %d bytes)",
                                 GUARD_MAX_BODY);
    }
    if (ri->content_length > 0 && got != (size_t)ri->content_length) {
        free(buf);
        return http_send_problem(req, 400, "the request body is shorter than its Content-Length");
    }
    req->must_close = 0; /* the whole body was read */
    rc = req_json_parse(buf, got, REQ_MAX_JSON_DEPTH, &req->body, &detail);
    free(buf);
    if (rc == TMI_ETOOBIG)
        return http_send_problem(req, 400, "%s (at most %d levels)", detail, REQ_MAX_JSON_DEPTH);
    if (rc != TMI_OK)
        return http_send_problem(req, 400, "%s", detail);
    return 0;
}

/* Headers the guard and the pipeline rely on must not be sent twice (a
 * second Host or Content-Length is a request smuggling or confusion trick). */
static const char *duplicate_header(const struct mg_request_info *ri)
{
    static const char *const single[] = {"Host",
                                         "Origin",
                                         "Authorization",
                                         "Content-Type",
                                         "Content-Length",
                                         "Transfer-Encoding",
                                         AUTH_SECRET_HEADER,
                                         "Sec-Fetch-Site",
                                         "Cookie",
                                         NULL};
    for (size_t k = 0; single[k] != NULL; k++) {
        int n = 0;
        for (int i = 0; i < ri->num_headers && i < MG_MAX_HEADERS; i++)
            n += mg_strcasecmp(ri->http_headers[i].name, single[k]) == 0;
        if (n > 1)
            return single[k];
    }
    return NULL;
}

static int run_pipeline(http_req *req)
{
    const struct mg_request_info *ri = mg_get_request_info(req->conn);
    const char *detail = NULL, *bad = NULL;
    const char *te = mg_get_header(req->conn, "Transfer-Encoding");
    char allow[ALLOW_MAX];
    int status;

    req->method = ri->request_method;
    req->must_close = has_body(ri, te);
    if (atomic_load(&req->srv->refusing))
        return http_send_problem(req, 503, "the server is shutting down");
    detail = duplicate_header(ri);
    if (detail != NULL)
        return http_send_problem(req, 400, "the %s header is given more than once", detail);
    status =
        guard_target(ri->local_uri_raw, ri->query_string, req->path, sizeof(req->path), &detail);
    if (status == 0)
        status = guard_host(mg_get_header(req->conn, "Host"), req->srv->port, &detail);
    if (status == 0)
        status = guard_origin(mg_get_header(req->conn, "Origin"), req->srv->port, &detail);
    if (status == 0)
        status = guard_fetch_site(mg_get_header(req->conn, "Sec-Fetch-Site"), &detail);
    if (status != 0)
        return http_send_problem(req, status, "%s", detail);

    status = routes_find(req->method, req->path, &req->route, &req->params, allow, sizeof(allow));
    if (status == 404)
        return http_send_problem(req, 404, "no such resource: %s", req->path);
    if (status == 405) {
        const char *h[] = {"Allow", allow, NULL};
        char d[160];
        snprintf(d, sizeof(d), "%s is not allowed here; allowed: %s", req->method, allow);
        return send_problem_text(req, 405, d, h);
    }
    if (req_query_parse(ri->query_string, &req->query, &detail) != TMI_OK)
        return http_send_problem(req, 400, "%s", detail);
    if (req_query_only(&req->query, req->route->query, &bad) != TMI_OK)
        return http_send_problem(req, 400, "unknown query parameter '%s'%s%s", bad,
                                 req->route->query != NULL ? "; accepted: " : "",
                                 req->route->query != NULL ? req->route->query : "");
    if (req->route->access == ROUTE_AUTH) {
        status = authenticate(req);
        if (status != 0)
            return status;
    }
    if (req->route->body == ROUTE_NO_BODY) {
        if (has_body(ri, te))
            return http_send_problem(req, 400, "%s %s takes no request body", req->method,
                                     req->route->pattern);
    } else {
        status = read_json_body(req, ri, te);
        if (status != 0)
            return status;
    }
    status = req->route->handler(req);
    return status > 0 ? status : 500;
}

static int on_begin_request(struct mg_connection *conn)
{
    const struct mg_request_info *ri = mg_get_request_info(conn);
    http_req *req = calloc(1, sizeof(*req));
    int status;
    if (req == NULL) {
        static const char body[] = "{\"title\":\"Service Unavailable\",\"status\":503}";
        send_head(conn, 503, PROBLEM_CONTENT_TYPE, NULL, sizeof(body) - 1, 1);
        mg_write(conn, body, sizeof(body) - 1);
        return 503;
    }
    req->conn = conn;
    req->srv = ri->user_data;
    status = run_pipeline(req);
    if (req->status == 0) /* a handler that forgot to answer */
        status = http_send_problem(req, 500, "no response was produced");
    cJSON_Delete(req->body);
    memset(req->session_id, 0, sizeof(req->session_id));
    free(req);
    return status;
}

/* civetweb's own errors (malformed request line, headers too large, ...):
 * answer them in the same shape, with the same headers. */
static int on_http_error(struct mg_connection *conn, int status, const char *msg)
{
    char *text = problem_json(status, msg);
    int rc = -1;
    if (text != NULL) {
        rc = send_head(conn, status, PROBLEM_CONTENT_TYPE, NULL, (long long)strlen(text), 1);
        if (rc == 0)
            mg_write(conn, text, strlen(text));
        free(text);
    }
    return rc == 0 ? 0 : 1; /* 1: let civetweb answer after all */
}

static int on_log_message(const struct mg_connection *conn, const char *msg)
{
    (void)conn;
    fprintf(stderr, "tmi-console serve: civetweb: %s\n", msg);
    return 1;
}

static void *on_init_thread(const struct mg_context *ctx, int thread_type)
{
    (void)ctx;
    if (thread_type != 1)
        return NULL;
    return calloc(1, sizeof(http_worker));
}

static void on_exit_thread(const struct mg_context *ctx, int thread_type, void *ptr)
{
    http_worker *w = ptr;
    (void)ctx;
    (void)thread_type;
    if (w == NULL)
        return;
    free(w->status.scan_json);
    free(w->status.body);
    store_watch_close(w->watch);
    store_close(w->st);
    free(w);
}

/* ---- start and stop ---- */

static int copy_str(char *dst, size_t dstlen, const char *src)
{
    if (src == NULL) {
        dst[0] = '\0';
        return TMI_OK;
    }
    if (strlen(src) >= dstlen)
        return TMI_ETOOBIG;
    memcpy(dst, src, strlen(src) + 1);
    return TMI_OK;
}

static void server_free(http_server *srv)
{
    if (srv == NULL)
        return;
    if (srv->library)
        mg_exit_library();
    auth_token_cache_free(srv->token);
    auth_sessions_free(srv->sessions);
    plat_mutex_free(srv->mu);
    free(srv);
}

int http_start(const http_config *cfg, http_server **out, char *err, size_t errlen)
{
    struct mg_callbacks cb;
    struct mg_init_data init;
    struct mg_error_data error;
    struct mg_server_port ports[2];
    char listen[32], threads[16], errtext[256] = "";
    unsigned errcode = 0;
    http_server *srv;
    int rc;

    if (cfg->data_dir == NULL || cfg->root == NULL || cfg->pb == NULL || cfg->port < 0 ||
        cfg->port > 65535) {
        snprintf(err, errlen, "bad server configuration");
        return TMI_EINVAL;
    }
    srv = calloc(1, sizeof(*srv));
    if (srv == NULL) {
        snprintf(err, errlen, "out of memory");
        return TMI_ENOMEM;
    }
    srv->cfg = *cfg;
    rc = copy_str(srv->data_dir, sizeof(srv->data_dir), cfg->data_dir);
    if (rc == TMI_OK)
        rc = copy_str(srv->root, sizeof(srv->root), cfg->root);
    if (rc == TMI_OK)
        rc = copy_str(srv->tmi_dir, sizeof(srv->tmi_dir), cfg->tmi_dir);
    if (rc == TMI_OK)
        rc = copy_str(srv->service_name, sizeof(srv->service_name), cfg->service_name);
    if (rc != TMI_OK) {
        snprintf(err, errlen, "a path is too long");
        goto fail;
    }
    srv->cfg.data_dir = srv->data_dir;
    srv->cfg.root = srv->root;
    srv->cfg.tmi_dir = cfg->tmi_dir != NULL ? srv->tmi_dir : NULL;
    srv->cfg.service_name = cfg->service_name != NULL ? srv->service_name : NULL;
    /* the token belongs to whoever can read the data folder: the server's user */
    if (plat_user_name(srv->token_user, sizeof(srv->token_user)) != TMI_OK)
        snprintf(srv->token_user, sizeof(srv->token_user), "token");
    rc = auth_token_cache_new(srv->data_dir, &srv->token);
    if (rc == TMI_OK)
        rc = auth_sessions_new(&srv->sessions);
    if (rc == TMI_OK)
        rc = plat_mutex_new(&srv->mu);
    if (rc != TMI_OK) {
        snprintf(err, errlen, "%s", tmi_strerror(rc));
        goto fail;
    }

    snprintf(listen, sizeof(listen), "127.0.0.1:%d", cfg->port);
    snprintf(threads, sizeof(threads), "%d", HTTP_THREADS);
    {
        /* Known traps (DESIGN.md): tcp_nodelay, a modest thread count, CORS
         * options emptied (civetweb answers preflights itself otherwise),
         * no document_root, raw (undecoded) URLs so the guard sees %00, %2e. */
        const char *options[] = {
            "listening_ports",
            listen,
            "num_threads",
            threads,
            "tcp_nodelay",
            "1",
            "enable_keep_alive",
            "yes",
            "keep_alive_timeout_ms",
            "2000",
            "request_timeout_ms",
            "10000",
            "max_request_size",
            "16384",
            "decode_url",
            "no",
            "enable_directory_listing",
            "no",
            "access_control_allow_origin",
            "",
            "access_control_allow_methods",
            "",
            "access_control_allow_headers",
            "",
            NULL,
        };
        memset(&cb, 0, sizeof(cb));
        cb.begin_request = on_begin_request;
        cb.http_error = on_http_error;
        cb.log_message = on_log_message;
        cb.init_thread = on_init_thread;
        cb.exit_thread = on_exit_thread;
        memset(&init, 0, sizeof(init));
        /* explicitly, before the first context: no features (no TLS, no
         * IPv6, no websockets); balanced by mg_exit_library in http_stop */
        mg_init_library(0);
        srv->library = 1;
        init.callbacks = &cb;
        init.user_data = srv;
        init.configuration_options = options;
        memset(&error, 0, sizeof(error));
        error.code = &errcode;
        error.text = errtext;
        error.text_buffer_size = sizeof(errtext);
        srv->ctx = mg_start2(&init, &error);
    }
    if (srv->ctx == NULL) {
        snprintf(err, errlen, "cannot listen on %s: %s", listen,
                 errtext[0] != '\0' ? errtext : "civetweb failed to start");
        rc = strstr(errtext, "port") != NULL || strstr(errtext, "bind") != NULL ? TMI_EBUSY
                                                                                : TMI_EIO;
        goto fail;
    }
    memset(ports, 0, sizeof(ports));
    if (mg_get_server_ports(srv->ctx, 2, ports) < 1 || ports[0].port <= 0) {
        snprintf(err, errlen, "cannot find the bound port");
        mg_stop(srv->ctx);
        rc = TMI_EIO;
        goto fail;
    }
    srv->port = ports[0].port;
    *out = srv;
    return TMI_OK;
fail:
    server_free(srv);
    return rc;
}

int http_port(const http_server *srv)
{
    return srv->port;
}

void http_refuse_new(http_server *srv)
{
    if (srv != NULL)
        atomic_store(&srv->refusing, 1);
}

void http_stop(http_server *srv)
{
    if (srv == NULL)
        return;
    atomic_store(&srv->refusing, 1);
    mg_stop(srv->ctx);
    server_free(srv);
}
