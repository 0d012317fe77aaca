/*
 * http.c - the request pipeline (see http.h) over the HTTP engine (httpd.h):
 * per-worker state, the response helpers, and start/stop.
 */
#include "http.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "audit.h"
#include "err.h"
#include "guard.h"
#include "httpd.h"
#include "plat.h"
#include "problem.h"
#include "strutil.h"
#include "timefmt.h"

#define ALLOW_MAX 64

struct http_server {
    httpd *engine;
    http_config cfg;
    char data_dir[PLAT_PATH_MAX];
    int port;
    atomic_int refusing; /* set once at shutdown, read by workers */
    auth_token_cache *token;
    auth_sessions *sessions;
    char token_user[AUTH_MAX_USER]; /* who a bearer token stands for: the server's user */
    plat_mutex *mu;                 /* guards throttle */
    auth_throttle throttle;
};

/* One worker thread's state (httpd_conn_worker). */
typedef struct http_worker {
    store *st;
    http_thread_slot slot;
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

/* IMF-fixdate ("Wed, 25 Nov 2026 11:09:39 GMT") of ns since the epoch. */
static void http_date(int64_t ns, char *buf, size_t buflen)
{
    static const char *const wd[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const mn[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_civil t;
    time_to_civil(ns, &t);
    snprintf(buf, buflen, "%s, %02d %s %04d %02d:%02d:%02d GMT", wd[t.weekday], t.day,
             mn[t.month - 1], t.year, t.hour, t.minute, t.second);
}

/* The response is built in a str_buf (strutil.h). */
typedef str_buf out_buf;

static void ob_add(out_buf *b, const void *data, size_t n)
{
    str_buf_add(b, data, n);
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

/* ---- sending ---- */

/* The head of a response: status line, security headers, Content-Type,
 * extras, Date, then Content-Length (length >= 0), chunked coding (length
 * -1) or neither (204/304), and "Connection: close" when the connection
 * ends after it. */
static void put_head(out_buf *b, int status, const char *ctype, const char *const *extra,
                     long long length, int closing)
{
    char line[96];
    snprintf(line, sizeof(line), "HTTP/1.1 %d %s\r\n", status, problem_title(status));
    ob_str(b, line);
    for (size_t i = 0; i < N_SECURITY_HEADERS; i++)
        ob_header(b, security_headers[i].name, security_headers[i].value);
    if (ctype != NULL)
        ob_header(b, "Content-Type", ctype);
    for (size_t i = 0; extra != NULL && extra[i] != NULL && extra[i + 1] != NULL; i += 2)
        ob_header(b, extra[i], extra[i + 1]);
    http_date(plat_now_ns(), line, sizeof(line));
    ob_header(b, "Date", line);
    if (status == 204 || status == 304) {
        /* no body, and no Content-Length either (RFC 9110, 8.6) */
    } else if (length >= 0) {
        snprintf(line, sizeof(line), "%lld", length);
        ob_header(b, "Content-Length", line);
    } else {
        ob_header(b, "Transfer-Encoding", "chunked");
    }
    if (closing)
        ob_header(b, "Connection", "close");
    ob_add(b, "\r\n", 2);
}

/* The whole response in one buffer and one write. A HEAD request gets the
 * head alone, with the Content-Length the body would have. */
int http_send(http_req *req, int status, const char *ctype, const void *body, size_t len,
              const char *const *headers)
{
    out_buf b = {NULL, 0, 0, 1};
    req->status = status;
    b.p = malloc(len + 1024);
    b.cap = b.p != NULL ? len + 1024 : 0;
    b.ok = b.p != NULL;
    put_head(&b, status, ctype, headers, (long long)len, httpd_conn_closing(req->conn));
    if (len > 0 && !req->head_only)
        ob_add(&b, body, len);
    if (!b.ok || httpd_conn_write(req->conn, b.p, b.len) != TMI_OK)
        httpd_conn_close_after(req->conn);
    free(b.p);
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

/* A held request keeps its worker (the engine reads heads on its own thread,
 * but a handler runs on one of HTTP_THREADS workers): the hold may take a
 * quarter of them at most, so right credentials and other requests always
 * find free ones. */
_Static_assert(AUTH_HOLD_MAX_HELD * 4 <= HTTP_THREADS,
               "the brake's hold must leave most workers free");

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

/*
 * Streamed responses (exports): chunked transfer coding, and the connection
 * closes after it, so a stream cut short (complete = 0: no last chunk) shows
 * as such to the client.
 */
int http_stream_begin(http_req *req, const char *ctype, const char *filename)
{
    char disp[160];
    const char *h[] = {"Content-Disposition", disp, NULL};
    out_buf b = {NULL, 0, 0, 1};
    int rc;
    req->status = 200;
    snprintf(disp, sizeof(disp), "attachment; filename=\"%s\"", filename != NULL ? filename : "");
    httpd_conn_close_after(req->conn);
    put_head(&b, 200, ctype, filename != NULL ? h : NULL, req->head_only ? 0 : -1, 1);
    rc = b.ok ? httpd_conn_write(req->conn, b.p, b.len) : TMI_ENOMEM;
    free(b.p);
    return rc == TMI_OK ? TMI_OK : TMI_EIO;
}

int http_stream_write(http_req *req, const void *data, size_t len)
{
    char size[24];
    if (len == 0 || req->head_only)
        return TMI_OK;
    snprintf(size, sizeof(size), "%zx\r\n", len);
    if (httpd_conn_write(req->conn, size, strlen(size)) != TMI_OK ||
        httpd_conn_write(req->conn, data, len) != TMI_OK ||
        httpd_conn_write(req->conn, "\r\n", 2) != TMI_OK)
        return TMI_EIO;
    return TMI_OK;
}

int http_stream_end(http_req *req, int complete)
{
    if (!complete || req->head_only)
        return TMI_OK; /* no last chunk: the connection closes, the client sees a cut */
    return httpd_conn_write(req->conn, "0\r\n\r\n", 5) == TMI_OK ? TMI_OK : TMI_EIO;
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

const char *http_req_header(const http_req *req, const char *name)
{
    return httpd_head_get(httpd_conn_head(req->conn), name);
}

int http_req_store(http_req *req, store **out)
{
    http_worker *w = httpd_conn_worker(req->conn);
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

http_thread_slot *http_req_thread_slot(http_req *req)
{
    http_worker *w = httpd_conn_worker(req->conn);
    return w != NULL ? &w->slot : NULL;
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

/* The web session of the request: a session cookie of this port's name
 * (up to four of them: another local port may have set its own copy, see
 * auth.h) together with the page secret header. Returns 1 when one is
 * valid (req->auth, user, session filled), 0 when none is, -1 when the
 * request carries no such cookie at all. */
static int session_credential(http_req *req)
{
    const char *cookie = http_req_header(req, "Cookie");
    const char *secret = http_req_header(req, AUTH_SECRET_HEADER);
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
    const char *authz = http_req_header(req, "Authorization");
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
    if (sess == 0 && http_req_header(req, AUTH_SECRET_HEADER) == NULL)
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
static int read_json_body(http_req *req)
{
    const httpd_head *hd = httpd_conn_head(req->conn);
    const char *detail = NULL;
    char *buf = NULL;
    size_t got = 0;
    long n;
    int status, rc;

    if (!httpd_conn_has_body(req->conn))
        return 0;
    status = guard_content_type(http_req_header(req, "Content-Type"), &detail);
    if (status != 0)
        return http_send_problem(req, status, "%s", detail);
    status = guard_body_length(hd->content_length, hd->chunked, GUARD_MAX_BODY, &detail);
    if (status != 0)
        return http_send_problem(req, status, "%s (limit %d bytes)", detail, GUARD_MAX_BODY);
    buf = malloc(GUARD_MAX_BODY + 1);
    if (buf == NULL)
        return http_send_problem(req, 503, "out of memory");
    do {
        n = httpd_conn_read(req->conn, buf + got, GUARD_MAX_BODY + 1 - got);
        if (n > 0)
            got += (size_t)n;
    } while (n > 0 && got <= GUARD_MAX_BODY);
    if (n < 0 || got > GUARD_MAX_BODY) {
        free(buf);
        if (got > GUARD_MAX_BODY)
            return http_send_problem(req, 413, "the request body is too large (limit %d bytes)",
                                     GUARD_MAX_BODY);
        if (n == TMI_ETIMEDOUT)
            return http_send_problem(req, 408, "the request body did not arrive in time");
        return http_send_problem(req, 400, "%s",
                                 n == TMI_EFORMAT ? "malformed chunked request body"
                                                  : "the request body ended early");
    }
    rc = req_json_parse(buf, got, REQ_MAX_JSON_DEPTH, &req->body, &detail);
    free(buf);
    if (rc == TMI_ETOOBIG)
        return http_send_problem(req, 400, "%s (at most %d levels)", detail, REQ_MAX_JSON_DEPTH);
    if (rc != TMI_OK)
        return http_send_problem(req, 400, "%s", detail);
    return 0;
}

/* The guard's checks of target, Host, Origin and Sec-Fetch-Site. 0 or the
 * status of the answer sent. */
static int guard_request(http_req *req, const httpd_head *hd)
{
    const char *detail = NULL;
    int status = guard_target(hd->path, hd->query, req->path, sizeof(req->path), &detail);
    if (status == 0)
        status = guard_host(http_req_header(req, "Host"), req->srv->port, &detail);
    if (status == 0)
        status = guard_origin(http_req_header(req, "Origin"), req->srv->port, &detail);
    if (status == 0)
        status = guard_fetch_site(http_req_header(req, "Sec-Fetch-Site"), &detail);
    return status != 0 ? http_send_problem(req, status, "%s", detail) : 0;
}

/* The route, and its query parameters. HEAD is served by the GET route,
 * without the body. 0 or the status of the answer sent. */
static int find_route(http_req *req, const httpd_head *hd)
{
    const char *detail = NULL, *bad = NULL;
    char allow[ALLOW_MAX];
    int status;
    req->head_only = strcmp(req->method, "HEAD") == 0;
    status = routes_find(req->head_only ? "GET" : req->method, req->path, &req->route, &req->params,
                         allow, sizeof(allow));
    if (status == 404)
        return http_send_problem(req, 404, "no such resource: %s", req->path);
    if (status == 405) {
        const char *h[] = {"Allow", allow, NULL};
        char d[160];
        snprintf(d, sizeof(d), "%s is not allowed here; allowed: %s", req->method, allow);
        return send_problem_text(req, 405, d, h);
    }
    if (req_query_parse(hd->query, &req->query, &detail) != TMI_OK)
        return http_send_problem(req, 400, "%s", detail);
    if (req_query_only(&req->query, req->route->query, &bad) != TMI_OK)
        return http_send_problem(req, 400, "unknown query parameter '%s'%s%s", bad,
                                 req->route->query != NULL ? "; accepted: " : "",
                                 req->route->query != NULL ? req->route->query : "");
    return 0;
}

static int run_pipeline(http_req *req)
{
    const httpd_head *hd = httpd_conn_head(req->conn);
    int status;

    req->method = hd->method;
    if (atomic_load(&req->srv->refusing))
        return http_send_problem(req, 503, "the server is shutting down");
    status = guard_request(req, hd);
    if (status == 0)
        status = find_route(req, hd);
    if (status == 0 && req->route->access == ROUTE_AUTH)
        status = authenticate(req);
    if (status != 0)
        return status;
    if (req->route->body == ROUTE_NO_BODY) {
        if (httpd_conn_has_body(req->conn))
            return http_send_problem(req, 400, "%s %s takes no request body", req->method,
                                     req->route->pattern);
    } else {
        status = read_json_body(req);
        if (status != 0)
            return status;
    }
    status = req->route->handler(req);
    return status > 0 ? status : 500;
}

/* The engine's handler: one request, on a worker. */
static void on_request(void *arg, httpd_conn *conn)
{
    http_req *req = calloc(1, sizeof(*req));
    if (req == NULL) {
        static const char resp[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: "
                                   "0\r\nConnection: close\r\n\r\n";
        httpd_conn_close_after(conn);
        httpd_conn_write(conn, resp, sizeof(resp) - 1);
        return;
    }
    req->conn = conn;
    req->srv = arg;
    run_pipeline(req);
    if (req->status == 0) /* a handler that forgot to answer */
        http_send_problem(req, 500, "no response was produced");
    cJSON_Delete(req->body);
    memset(req->session_id, 0, sizeof(req->session_id));
    free(req);
}

/* What the engine refuses itself (a malformed, too large or too slow head,
 * no room): the same problem+json with the same headers, and the
 * connection closes. */
static size_t on_refusal(void *arg, int status, const char *detail, char *out, size_t outlen)
{
    out_buf b = {NULL, 0, 0, 1};
    char *text = problem_json(status, detail);
    size_t n = 0;
    (void)arg;
    if (text == NULL)
        return 0;
    put_head(&b, status, PROBLEM_CONTENT_TYPE, NULL, (long long)strlen(text), 1);
    ob_str(&b, text);
    if (b.ok && b.len <= outlen) {
        memcpy(out, b.p, b.len);
        n = b.len;
    }
    free(b.p);
    free(text);
    return n;
}

static void *on_worker_init(void *arg)
{
    (void)arg;
    return calloc(1, sizeof(http_worker));
}

static void on_worker_exit(void *arg, void *state)
{
    http_worker *w = state;
    (void)arg;
    if (w == NULL)
        return;
    if (w->slot.release != NULL)
        w->slot.release(w->slot.ptr);
    store_close(w->st);
    free(w);
}

/* ---- start and stop ---- */

static void server_free(http_server *srv)
{
    if (srv == NULL)
        return;
    auth_token_cache_free(srv->token);
    auth_sessions_free(srv->sessions);
    plat_mutex_free(srv->mu);
    free(srv);
}

/* The server's own state: config, the token's owner, token cache, sessions. */
static int server_new(const http_config *cfg, http_server **out, char *err, size_t errlen)
{
    http_server *srv = calloc(1, sizeof(*srv));
    int rc;
    if (srv == NULL) {
        snprintf(err, errlen, "out of memory");
        return TMI_ENOMEM;
    }
    srv->cfg = *cfg;
    if (strlen(cfg->data_dir) >= sizeof(srv->data_dir)) {
        snprintf(err, errlen, "the data folder's path is too long");
        free(srv);
        return TMI_ETOOBIG;
    }
    snprintf(srv->data_dir, sizeof(srv->data_dir), "%s", cfg->data_dir);
    srv->cfg.data_dir = srv->data_dir;
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
        server_free(srv);
        return rc;
    }
    *out = srv;
    return TMI_OK;
}

int http_start(const http_config *cfg, http_server **out, char *err, size_t errlen)
{
    httpd_config ec;
    http_server *srv = NULL;
    int rc;

    if (cfg->data_dir == NULL || cfg->target == NULL || cfg->jobs == NULL || cfg->port < 0 ||
        cfg->port > 65535) {
        snprintf(err, errlen, "bad server configuration");
        return TMI_EINVAL;
    }
    rc = server_new(cfg, &srv, err, errlen);
    if (rc != TMI_OK)
        return rc;
    httpd_config_init(&ec);
    ec.ip = "127.0.0.1";
    ec.port = cfg->port;
    ec.workers = HTTP_THREADS;
    ec.handle = on_request;
    ec.refusal = on_refusal;
    ec.worker_init = on_worker_init;
    ec.worker_exit = on_worker_exit;
    ec.arg = srv;
    rc = httpd_start(&ec, &srv->engine, err, errlen);
    if (rc != TMI_OK) {
        server_free(srv);
        return rc;
    }
    srv->port = httpd_port(srv->engine);
    *out = srv;
    return TMI_OK;
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
    httpd_stop(srv->engine);
    server_free(srv);
}
