/*
 * api_web.c - the web UI's entry points: the embedded page and assets, the
 * one-time login, the session (who, logout), health and the OpenAPI
 * document.
 */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "api.h"
#include "err.h"
#include "http.h"
#include "logincode.h"
#include "plat.h"
#include "reqparse.h"
#include "web_assets.h"

static int send_asset(http_req *req, const char *name)
{
    const web_asset *a = web_asset_find(name);
    if (a == NULL)
        return http_send_problem(req, 404, "no such file: %s", name);
    return http_send(req, 200, a->content_type, a->data, a->len, NULL);
}

int api_index(http_req *req)
{
    if (web_asset_find("index.html") == NULL)
        return http_send_problem(req, 404,
                                 "the web UI is not built into this binary; the JSON API is "
                                 "under /api (see /api/openapi.json)");
    return send_asset(req, "index.html");
}

/* GET /assets/{name} and /assets/{dir}/{name}: an embedded file, by its
 * exact name ("app.css", "js/api.js"); nothing else can be named. */
int api_asset(http_req *req)
{
    const char *dir = route_param(&req->params, "dir");
    const char *name = route_param(&req->params, "name");
    char path[2 * REQ_MAX_PATH + 2];
    if (dir == NULL)
        return send_asset(req, name);
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return send_asset(req, path);
}

int api_openapi(http_req *req)
{
    return send_asset(req, "openapi.json");
}

int api_health(http_req *req)
{
    static const char body[] = "{\"status\":\"ok\"}";
    return http_send(req, 200, "application/json", body, sizeof(body) - 1, NULL);
}

/* GET /favicon.ico: browsers ask for it whatever the page says; the
 * console's icon, as what it is (SVG), or 204 when the UI is not built in.
 * No authentication, as for every asset. */
int api_favicon(http_req *req)
{
    const web_asset *a = web_asset_find("favicon.svg");
    if (a == NULL)
        return http_send(req, 204, NULL, NULL, 0, NULL);
    return http_send(req, 200, a->content_type, a->data, a->len, NULL);
}

/* The page a browser gets for a login URL that no longer works (text fixed:
 * nothing from the request is in it). Its look is report.css's. */
static const char login_page[] =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>This login URL does not work - tmi-console</title>\n"
    "<link rel=\"stylesheet\" href=\"/assets/report.css\">\n</head>\n<body>\n"
    "<main class=\"standalone\">\n<h1>This login URL does not work</h1>\n"
    "<p>It was already used, has expired, or is not one tmi-console made. A login URL "
    "works once, for 2 minutes.</p>\n"
    "<h2>To sign in</h2>\n<ol>\n<li>On the server, as the administrator who runs "
    "tmi-console, run:<pre><code>tmi-console login-url</code></pre></li>\n"
    "<li>Open the URL it prints in this browser within 2 minutes.</li>\n</ol>\n"
    "<p>A tab that is already signed in goes on working: use that one instead.</p>\n"
    "</main>\n</body>\n</html>\n";

/* Does the client of this request want a page rather than problem+json? A
 * browser's navigation says so in Accept (text/html above JSON); with no
 * Accept header at all, Sec-Fetch-Dest: document (only browsers send it)
 * does. Scripts (Accept: application/json, * / *, or nothing) get JSON. */
static int wants_page(http_req *req)
{
    const char *accept = http_req_header(req, "Accept");
    const char *dest = http_req_header(req, "Sec-Fetch-Dest");
    if (accept != NULL)
        return req_accept_prefers_html(accept);
    return dest != NULL && strcmp(dest, "document") == 0;
}

/* A login refused: the page for a browser, problem+json for a script. */
static int refuse_login(http_req *req, int status, const char *detail)
{
    if (wants_page(req))
        return http_send(req, status, "text/html; charset=utf-8", login_page,
                         sizeof(login_page) - 1, NULL);
    return http_send_problem(req, status, "%s", detail);
}

/* GET /login?code=C: trade a one-time code for a session, then 303 to
 * "/#secret=S": the session id goes into the port's cookie, the page secret
 * into the fragment, which the browser keeps to itself (fragments are never
 * sent to a server) and the page moves into its tab's storage (auth.h). The
 * code leaves the address bar (and, with Referrer-Policy no-referrer, never
 * travels further). */
int api_login(http_req *req)
{
    const char *code = req_query_get(&req->query, "code");
    char user[LOGINCODE_MAX_USER], id[AUTH_SECRET_HEX_LEN + 1], secret[AUTH_SECRET_HEX_LEN + 1];
    char name[AUTH_COOKIE_NAME_MAX], cookie[160], location[16 + AUTH_SECRET_HEX_LEN];
    const char *h[] = {"Location", location, "Set-Cookie", cookie, NULL};
    unsigned wait;
    store *s = NULL;
    int rc, st;

    if (code == NULL || code[0] == '\0')
        return refuse_login(req, 400,
                            "the login URL has no code; run 'tmi-console login-url' for one");
    st = api_store(req, &s);
    if (st != 0)
        return st;
    rc = logincode_redeem(s, code, plat_now_ns(), user, sizeof(user));
    if (rc == TMI_EAUTH) {
        /* as for tokens (http.c): a good code always works */
        wait = http_auth_wait_ms(req);
        if (wait > 0)
            return http_send_throttled(req, wait);
        http_audit(req, "login", "web", "failed",
                   "{\"reason\":\"unknown, used or expired login code\"}");
        http_auth_failed(req);
        return refuse_login(req, 403,
                            "this login code is unknown, already used or expired (codes "
                            "work once, for 2 minutes); run 'tmi-console login-url' for "
                            "a new one");
    }
    if (rc != TMI_OK)
        return http_send_error(req, rc, "cannot check the login code", s);
    rc = auth_cookie_name(http_port(req->srv), name, sizeof(name));
    if (rc == TMI_OK)
        rc = auth_session_create(http_req_sessions(req), user, plat_monotonic_ns(), id, secret);
    if (rc != TMI_OK)
        return http_send_error(req, rc, "cannot start a session", NULL);
    req->auth = HTTP_AUTH_SESSION;
    snprintf(req->user, sizeof(req->user), "%s", user);
    http_audit(req, "login", "web", "ok", NULL);
    snprintf(cookie, sizeof(cookie), "%s=%s; HttpOnly; SameSite=Strict; Path=/", name, id);
    snprintf(location, sizeof(location), "/#secret=%s", secret);
    st = http_send(req, 303, NULL, NULL, 0, h);
    memset(id, 0, sizeof(id));
    memset(secret, 0, sizeof(secret));
    memset(cookie, 0, sizeof(cookie));
    memset(location, 0, sizeof(location));
    return st;
}

/* GET /api/session: who is asking, and how. It tells no secret: a browser
 * session's page already holds its own, and a request that got this far
 * has proved it has. */
int api_session_get(http_req *req)
{
    cJSON *o = cJSON_CreateObject();
    int st;
    if (o == NULL)
        return http_send_problem(req, 503, "out of memory");
    cJSON_AddStringToObject(o, "user", req->user);
    cJSON_AddStringToObject(o, "auth", req->auth == HTTP_AUTH_SESSION ? "session" : "token");
    /* the page shows times in the server's local time, with this offset */
    cJSON_AddNumberToObject(o, "utc_offset_minutes", plat_utc_offset_minutes(plat_now_ns()));
    st = http_send_json(req, 200, o);
    cJSON_Delete(o);
    return st;
}

int api_session_delete(http_req *req)
{
    char name[AUTH_COOKIE_NAME_MAX], clear[96];
    const char *h[] = {"Set-Cookie", clear, NULL};
    if (req->auth != HTTP_AUTH_SESSION)
        return http_send_problem(req, 400, "a bearer token has no session to end");
    if (auth_cookie_name(http_port(req->srv), name, sizeof(name)) != TMI_OK)
        return http_send_problem(req, 500, "no cookie name for this port");
    snprintf(clear, sizeof(clear), "%s=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0", name);
    auth_session_end(http_req_sessions(req), req->session_id);
    http_audit(req, "logout", "web", "ok", NULL);
    return http_send(req, 204, NULL, NULL, 0, h);
}
