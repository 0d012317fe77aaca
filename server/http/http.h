/*
 * http.h - the HTTP server: the engine (httpd.h) listening on 127.0.0.1
 * only, the request pipeline, and the helpers handlers answer with.
 *
 * The engine has already refused what is not a well-formed HTTP/1.x request
 * (httpd_parse.h: framing, header count, sizes, deadlines). Then, for every
 * request, on a worker thread:
 *   1. shutting down?                         503
 *   2. path and query well-formed, bounded    400 / 414  (guard_target)
 *   3. Host is ours                           400 / 421  (guard_host)
 *   4. Origin, Sec-Fetch-Site are ours        403
 *   5. route for path and method              404 / 405 with Allow; HEAD is
 *                                             served by the GET route
 *   6. query names allowed for the route      400
 *   7. ROUTE_AUTH: bearer token, or session   401 / 429 while throttled
 *      cookie with its page secret header     (any method; auth.h)
 *   8. body: refused on ROUTE_NO_BODY (400); on ROUTE_JSON_BODY
 *      application/json (415), at most GUARD_MAX_BODY bytes (413, checked
 *      on Content-Length before reading and while reading chunked bodies),
 *      complete (400 when it ends early or its chunks are malformed, 408
 *      when it is too slow), well-formed JSON (400)
 *   9. the handler
 * Every response, errors included, carries the security headers: CSP,
 * nosniff, no-store, no-referrer, X-Frame-Options DENY. No
 * Access-Control-Allow-* header is ever sent. Errors are problem+json
 * (problem.h).
 *
 * Threads: the engine runs HTTP_THREADS workers. Each worker opens its own
 * store connection on first use (store.h: one connection per thread) and
 * closes it when it exits. Shutdown: http_refuse_new() makes new requests
 * get 503, http_stop() stops accepting, waits for requests in flight, joins
 * the workers (closing their stores) and frees the server.
 */
#ifndef TMI_HTTP_H
#define TMI_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "reqparse.h"
#include "routes.h"
#include "runner.h"
#include "watcher.h"
#include "store.h"
#include "strutil.h"
#include "target.h"

struct httpd_conn;
struct cJSON;

#define HTTP_THREADS      16
#define HTTP_DEFAULT_PORT 8917

typedef struct http_config {
    const char *data_dir;     /* required: store, token; copied */
    const tmi_target *target; /* required: what scans and jobs work on; must outlive the server */
    runner *jobs;             /* required: runs the jobs POST /api/jobs starts; must outlive it */
    watcher *watch;           /* optional: its state in GET /api/status; must outlive it */
    alert_outputs *alerts;    /* optional: their state in GET /api/status; must outlive it */
    int port;                 /* 0: any free port */
} http_config;

typedef struct http_server http_server;

/*
 * Start serving on 127.0.0.1:cfg->port. The config is copied (the target
 * and the runner are not: they must outlive the server). TMI_OK with *out set; TMI_EBUSY when the
 * port is taken, TMI_EIO for other start failures, with a message in err.
 */
int http_start(const http_config *cfg, http_server **out, char *err, size_t errlen);

/* The port actually bound (the free one picked for port 0). */
int http_port(const http_server *srv);

/* From now on answer every new request with 503 (first step of shutdown). */
void http_refuse_new(http_server *srv);

/* Stop: see the file comment. NULL is fine. */
void http_stop(http_server *srv);

/* ---- one request, as handlers see it ---- */

typedef enum http_auth {
    HTTP_AUTH_NONE = 0,
    HTTP_AUTH_TOKEN,   /* Authorization: Bearer <API token> */
    HTTP_AUTH_SESSION, /* the web session cookie */
} http_auth;

typedef struct http_req {
    struct httpd_conn *conn;
    http_server *srv;
    const route *route;
    const char *method;
    char path[REQ_MAX_PATH + 1]; /* decoded and checked */
    route_params params;
    req_query query;
    struct cJSON *body; /* the parsed JSON body, or NULL when none was sent */
    http_auth auth;
    char user[AUTH_MAX_USER];                 /* who, for the audit trail */
    char session_id[AUTH_SECRET_HEX_LEN + 1]; /* HTTP_AUTH_SESSION: the cookie value */
    auth_session_info session;                /* HTTP_AUTH_SESSION: its data */
    int head_only;                            /* a HEAD request: answers carry no body */
    int status;                               /* the status sent, 0 before */
} http_req;

/* The server's configuration. */
const http_config *http_req_config(const http_req *req);

/* This worker thread's store connection, opened on first use. TMI_OK with
 * *out set (owned by the worker), or the error of store_open. */
int http_req_store(http_req *req, store **out);

/* The value of the request's first header called name (ASCII case-
 * insensitive), or NULL. Valid until the request ends. */
const char *http_req_header(const http_req *req, const char *name);

/* One pointer kept for the life of this worker thread, for a handler's own
 * per-thread state (GET /api/status keeps its cache there). It starts NULL;
 * the handler that sets ptr also sets release, which the worker calls when
 * it ends, before it closes its store. NULL only when called outside a
 * worker. */
typedef struct http_thread_slot {
    void *ptr;
    void (*release)(void *ptr);
} http_thread_slot;
http_thread_slot *http_req_thread_slot(http_req *req);

/* The server's web sessions and failure brake. */
auth_sessions *http_req_sessions(http_req *req);

/* Is the failure brake engaged? 0, or the ms it still holds. Callers check
 * the credential first: a right one passes; a wrong one while the brake holds
 * is answered 429 with http_send_throttled (and not counted or audited
 * again). */
unsigned http_auth_wait_ms(http_req *req);

/* Count a failed credential (wrong token, bad login code, session cookie
 * without its secret or with a wrong one): feeds the brake and, when it
 * engages, reports it on stderr and in the audit trail (action
 * "auth_throttle"). While the brake holds, returns only after holding the
 * request (auth_throttle_hold: at most AUTH_HOLD_MAX_MS). */
void http_auth_failed(http_req *req);

/* Append an audit row by the request's user ("anonymous" when not
 * authenticated) with auth "token", "session" or "none" (not authenticated:
 * a login attempt). details: JSON text or NULL. A failure is
 * logged to stderr and returned; handlers decide whether it matters. */
int http_audit(http_req *req, const char *action, const char *target, const char *outcome,
               const char *details);

/* ---- answering ---- */

/*
 * Send a whole response: status, Content-Type ctype (NULL: none), the
 * security headers, extra headers (NULL, or name/value pairs ending with
 * NULL), Content-Length, and body[0..len). Returns status.
 */
int http_send(http_req *req, int status, const char *ctype, const void *body, size_t len,
              const char *const *headers);

/* Send json (compact) as application/json. Returns status, or 500 sent
 * instead when out of memory. */
int http_send_json(http_req *req, int status, const struct cJSON *json);

/* Send a problem+json error; detail is printf-style. Returns status. */
int http_send_problem(http_req *req, int status, const char *fmt, ...) TMI_PRINTF(3, 4);

/* Send the problem for a TMI_E* code (status from problem_status_for());
 * detail: "what: <tmi_strerror>" plus the store's message when s is given. */
int http_send_error(http_req *req, int tmi_err, const char *what, store *s);

/* 429 with Retry-After for a throttled credential check, sent after holding
 * the request as http_auth_failed does. */
int http_send_throttled(http_req *req, unsigned wait_ms);

/*
 * Streamed responses (exports): begin sends 200 with chunked transfer coding
 * and, when filename is not NULL, Content-Disposition: attachment. write
 * sends one chunk (returns 0 or TMI_EIO when the client went away). end with
 * complete = 1 sends the last chunk; complete = 0 closes the connection
 * without it, so the client sees the transfer as cut short.
 */
int http_stream_begin(http_req *req, const char *ctype, const char *filename);
int http_stream_write(http_req *req, const void *data, size_t len);
int http_stream_end(http_req *req, int complete);

#endif
