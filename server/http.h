/*
 * http.h - the HTTP server: civetweb listening on 127.0.0.1 only, the
 * request pipeline, and the helpers handlers answer with.
 *
 * Pipeline, for every request, in civetweb's begin_request callback (so
 * nothing of civetweb's own serving, CORS or authentication runs):
 *   1. shutting down?                         503
 *   2. path and query well-formed, bounded    400 / 414  (guard_target)
 *   3. Host is ours                           400 / 421  (guard_host)
 *   4. Origin, Sec-Fetch-Site are ours        403
 *   5. route for path and method              404 / 405 with Allow
 *   6. query names allowed for the route      400
 *   7. ROUTE_AUTH: bearer token, or session   401 / 429 while throttled
 *      cookie with its page secret header     (any method; auth.h)
 *   8. body: refused on ROUTE_NO_BODY (400); on ROUTE_JSON_BODY
 *      application/json (415), at most GUARD_MAX_BODY bytes (413, checked
 *      on Content-Length before reading and while reading chunked bodies),
 *      well-formed JSON (400)
 *   9. the handler
 * Every response, errors included (civetweb's own through its http_error
 * callback), carries the security headers: CSP, nosniff, no-store,
 * no-referrer, X-Frame-Options DENY. No Access-Control-Allow-* header is
 * ever sent. Errors are problem+json (problem.h).
 *
 * Threads: civetweb runs HTTP_THREADS workers. Each worker opens its own
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
#include "playbook.h"
#include "reqparse.h"
#include "routes.h"
#include "store.h"
#include "strutil.h"
#include "watch.h"

struct mg_connection;
struct cJSON;

#define HTTP_THREADS      16
#define HTTP_DEFAULT_PORT 8917

typedef struct http_config {
    const char *data_dir;     /* required: store, token */
    const char *root;         /* required: the scan root */
    const char *tmi_dir;      /* optional: the TMI folder, skipping the search */
    int use_registry;         /* scans ask the registry (real system root only) */
    const playbook *pb;       /* required; must outlive the server */
    int port;                 /* 0: any free port */
    const char *service_name; /* optional: the TMI service's short name */
    unsigned stay_ms;         /* jobs: how long a started service must stay up (0: default) */
} http_config;

typedef struct http_server http_server;

/*
 * Start serving on 127.0.0.1:cfg->port. The config is copied (pb is not:
 * it must outlive the server). TMI_OK with *out set; TMI_EBUSY when the port
 * is taken, TMI_EIO for other start failures, with a message in err.
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
    struct mg_connection *conn;
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
    int must_close; /* a body was left unread: close the connection after */
    int status;     /* the status sent, 0 before */
} http_req;

/* The server's configuration. */
const http_config *http_req_config(const http_req *req);

/* This worker thread's store connection, opened on first use. TMI_OK with
 * *out set (owned by the worker), or the error of store_open. */
int http_req_store(http_req *req, store **out);

/* GET /api/status's per-thread cache (api_scan.c): the latest scan as JSON
 * text, valid while the worker's store stamp (watch.h) is unchanged, and the
 * whole answer built from it and the live service state and events, which
 * are read again when older than STATUS_LIVE_TTL_MS or when the store
 * changed (a job's step, a scan). */
#define STATUS_LIVE_TTL_MS 1000
typedef struct http_status_cache {
    int valid;
    store_stamp stamp; /* the stamp taken before the scan was read */
    int64_t scan_id;   /* 0: no scan yet */
    char *scan_json;   /* heap, owned by the worker; "null" when no scan */
    char *body;        /* heap: the last answer, or NULL */
    size_t body_len;
    int64_t body_ns; /* monotonic time its live part was read */
} http_status_cache;

/* This worker thread's status cache, and a stamp of its store taken now.
 * TMI_OK with both set, or a store error. */
int http_req_status_cache(http_req *req, http_status_cache **cache, store_stamp *now);

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
