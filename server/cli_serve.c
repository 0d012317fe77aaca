/*
 * cli_serve.c - `tmi-console serve`, `tmi-console token` and
 * `tmi-console login-url`: the web UI / JSON API server and its credentials.
 *
 * A running server leaves two files in the data folder: `server.lock`, held
 * locked while it runs (so a second server on the same folder is refused and
 * `login-url` can tell whether one is running), and `server.json`
 * ({"port", "pid", "url", "started"}), which tells `login-url` the port. The
 * login code `login-url` mints goes into the store, where the server finds
 * it (db/logincode.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "audit.h"
#include "auth.h"
#include "api.h"
#include "cli.h"
#include "jobrunner.h"
#include "err.h"
#include "http.h"
#include "logincode.h"
#include "pathutil.h"
#include "plat.h"
#include "scan_json.h"
#include "store.h"
#include "timefmt.h"

#define SERVER_JSON     "server.json"
#define SERVER_JSON_TMP "server.json.tmp"
#define SERVER_LOCK     "server.lock"
#define SERVER_JSON_MAX 4096

static const char serve_usage[] =
    "usage: tmi-console serve [--port N] [--root DIR] [--tmi-dir DIR] [--service NAME]\n"
    "                         [--stay-seconds N]\n\n"
    "Serve the web UI and the JSON API on http://127.0.0.1:PORT/ (this machine only).\n"
    "Prints the URL and a one-time login URL for the browser (valid 2 minutes, once;\n"
    "'tmi-console login-url' makes another). Scripts use the API token instead:\n"
    "'tmi-console token', sent as 'Authorization: Bearer <token>'.\n"
    "Stop with Ctrl+C (or SIGTERM): requests in flight finish, new ones get 503,\n"
    "and a running repair job is finished first. At start, a job that was\n"
    "interrupted earlier (crash, power loss) is rolled back from its backup.\n\n"
    "options:\n"
    "  --port N       TCP port on 127.0.0.1 (default 8917; 0 picks a free one)\n"
    "  --root DIR     the folder that stands for the system drive, for scans (C:\\ on\n"
    "                 Windows, the default there; required on other systems)\n"
    "  --tmi-dir DIR  scan this TMI folder instead of searching for it\n"
    "  --service NAME the TMI service's short name (default: found from its display\n"
    "                 name or from mrf.exe)\n"
    "  --stay-seconds N  how long a started service must stay up (default 5)\n";

static const char token_usage[] =
    "usage: tmi-console token [--rotate]\n\n"
    "Print the API token (made on first use; stored in the data folder, readable\n"
    "by its owner only). Scripts send it as 'Authorization: Bearer <token>'.\n\n"
    "options:\n"
    "  --rotate   replace the token with a new one (the old one stops working; a\n"
    "             running server notices within a second)\n";

static const char login_usage[] =
    "usage: tmi-console login-url\n\n"
    "Print a fresh one-time login URL for the server running on this data folder\n"
    "(valid 2 minutes, works once). Opening it in a browser logs the browser in.\n";

static void cli_actor(audit_actor *a)
{
    a->user = NULL; /* the OS user of this process */
    a->auth = "cli";
}

/* Append an audit row from the command line; reports a failure on stderr. */
static int cli_audit(store *s, const char *cmd, const char *action, const char *target,
                     const char *outcome, const char *details)
{
    audit_actor actor;
    audit_event ev;
    int rc;
    cli_actor(&actor);
    memset(&ev, 0, sizeof(ev));
    ev.action = action;
    ev.target = target;
    ev.outcome = outcome;
    ev.details = details;
    rc = audit_append(s, &actor, &ev, NULL);
    if (rc != TMI_OK)
        cli_error(cmd, "cannot write the audit record: %s", store_errmsg(s));
    return rc;
}

static int open_store(const char *cmd, const char *data_dir, unsigned flags, store **s)
{
    char err[512];
    int rc = store_open_ex(data_dir, flags, s, err, sizeof(err));
    if (rc == TMI_ENOENT && (flags & STORE_OPEN_EXISTING)) {
        cli_error(cmd, "no tmi-console data in %s: start 'tmi-console serve' first", data_dir);
        return rc;
    }
    if (rc != TMI_OK)
        cli_error(cmd, "%s", err);
    return rc;
}

/* Token ensure, with the audit record when it had to be made. */
static int ensure_token(const char *cmd, store *s, const char *data_dir, char *hex)
{
    int created = 0;
    int rc = auth_token_ensure(data_dir, hex, &created);
    if (rc != TMI_OK) {
        cli_error(cmd, "cannot read or create the API token in %s: %s", data_dir, tmi_strerror(rc));
        return rc;
    }
    if (created)
        cli_audit(s, cmd, "token_change", AUTH_TOKEN_FILE, "ok", "{\"reason\":\"created\"}");
    return TMI_OK;
}

static int user_name(char *buf, size_t len)
{
    if (plat_user_name(buf, len) != TMI_OK)
        snprintf(buf, len, "unknown");
    return TMI_OK;
}

static int mint_login_url(const char *cmd, store *s, int port, char *url, size_t urllen)
{
    char user[LOGINCODE_MAX_USER], code[LOGINCODE_HEX_LEN + 1];
    int rc;
    user_name(user, sizeof(user));
    rc = logincode_issue(s, user, plat_now_ns(), LOGINCODE_TTL_NS, code);
    if (rc != TMI_OK) {
        cli_error(cmd, "cannot make a login code: %s", store_errmsg(s));
        return rc;
    }
    snprintf(url, urllen, "http://127.0.0.1:%d/login?code=%s", port, code);
    memset(code, 0, sizeof(code));
    cli_audit(s, cmd, "login_code", "web", "ok", NULL);
    return TMI_OK;
}

static int write_server_json(const char *data_dir, int port)
{
    char path[PLAT_PATH_MAX], tmp[PLAT_PATH_MAX], url[64], started[40];
    cJSON *o = cJSON_CreateObject();
    char *text = NULL;
    int rc = TMI_ENOMEM;
    if (o == NULL)
        return TMI_ENOMEM;
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
    time_format_utc(plat_now_ns(), started, sizeof(started));
    if (cJSON_AddNumberToObject(o, "port", port) == NULL ||
        cJSON_AddNumberToObject(o, "pid", (double)plat_pid()) == NULL ||
        cJSON_AddStringToObject(o, "url", url) == NULL ||
        cJSON_AddStringToObject(o, "started", started) == NULL)
        goto out;
    text = cJSON_Print(o);
    if (text == NULL)
        goto out;
    rc = path_join(path, sizeof(path), data_dir, SERVER_JSON);
    if (rc == TMI_OK)
        rc = path_join(tmp, sizeof(tmp), data_dir, SERVER_JSON_TMP);
    if (rc == TMI_OK)
        rc = plat_write_file_private(tmp, text, strlen(text));
    if (rc == TMI_OK)
        rc = plat.rename_replace(tmp, path);
out:
    free(text);
    cJSON_Delete(o);
    return rc;
}

static int read_server_port(const char *data_dir, int *port)
{
    char path[PLAT_PATH_MAX];
    uint8_t *data = NULL;
    size_t len = 0;
    cJSON *o = NULL, *p;
    int rc = path_join(path, sizeof(path), data_dir, SERVER_JSON);
    if (rc == TMI_OK)
        rc = plat.read_file(path, SERVER_JSON_MAX, &data, &len);
    if (rc != TMI_OK)
        return rc;
    o = cJSON_ParseWithLength((const char *)data, len);
    p = cJSON_GetObjectItemCaseSensitive(o, "port");
    if (cJSON_IsNumber(p) && p->valuedouble >= 1 && p->valuedouble <= 65535) {
        *port = p->valueint;
        rc = TMI_OK;
    } else {
        rc = TMI_ECORRUPT;
    }
    cJSON_Delete(o);
    free(data);
    return rc;
}

/* Is a server running on data_dir? 1 yes (its lock is held), 0 no, <0 error. */
static int server_running(const char *data_dir)
{
    char path[PLAT_PATH_MAX];
    plat_lock *lock = NULL;
    int rc = path_join(path, sizeof(path), data_dir, SERVER_LOCK);
    if (rc != TMI_OK)
        return rc;
    rc = plat_lock_acquire(path, &lock);
    if (rc == TMI_EBUSY)
        return 1;
    if (rc != TMI_OK)
        return rc;
    plat_lock_release(lock);
    return 0;
}

/* ---- serve ---- */

typedef struct serve_state {
    store *st;
    plat_lock *lock;
    http_server *srv;
    int wrote_json;
} serve_state;

static void serve_cleanup(serve_state *ss, const char *data_dir)
{
    char path[PLAT_PATH_MAX];
    if (ss->srv != NULL) {
        api_jobs_wait_idle(); /* a running job is finished, never cut */
        http_refuse_new(ss->srv);
        http_stop(ss->srv); /* waits for requests in flight; closes worker stores */
        ss->srv = NULL;
        if (ss->st != NULL)
            cli_audit(ss->st, "serve", "server_stop", NULL, "ok", NULL);
    }
    if (ss->wrote_json && path_join(path, sizeof(path), data_dir, SERVER_JSON) == TMI_OK)
        plat.remove_file(path);
    plat_lock_release(ss->lock);
    store_close(ss->st);
    memset(ss, 0, sizeof(*ss));
}

/* Roll back a job interrupted earlier, before serving (see jobrunner.h). */
static void recover_jobs(cli_ctx *ctx, const http_config *cfg)
{
    jobs_config jc;
    char err[512] = "";
    int n = 0;
    jobs_config_init(&jc);
    jc.data_dir = cfg->data_dir;
    jc.pb = ctx->pb;
    jc.root = cfg->root;
    jc.tmi_dir = cfg->tmi_dir;
    jc.use_registry = cfg->use_registry;
    jc.service_name = cfg->service_name;
    int rc = jobs_recover_now(&jc, &n, err, sizeof(err));
    if (rc == TMI_OK && n > 0)
        printf("tmi-console: rolled back %d interrupted job(s); see 'tmi-console jobs'\n", n);
    else if (rc != TMI_OK && rc != TMI_EBUSY)
        cli_error("serve", "recovery of interrupted jobs failed: %s",
                  err[0] ? err : tmi_strerror(rc));
}

static int serve_run(cli_ctx *ctx, int argc, char **argv)
{
    const char *port_s = NULL, *root = NULL, *tmi_dir = NULL, *service = NULL, *stay = NULL;
    const cli_opt opts[] = {{"--port", 1, &port_s},
                            {"--root", 1, &root},
                            {"--tmi-dir", 1, &tmi_dir},
                            {"--service", 1, &service},
                            {"--stay-seconds", 1, &stay}};
    size_t stay_s = 5;
    char root_buf[PLAT_PATH_MAX], lock_path[PLAT_PATH_MAX], token[AUTH_TOKEN_HEX_LEN + 1];
    char err[512], url[160], details[96];
    size_t npos = 0, port = HTTP_DEFAULT_PORT;
    http_config cfg;
    serve_state ss;
    plat_stat sb;
    int rc, exit_code = CLI_EXIT_ERROR;

    memset(&ss, 0, sizeof(ss));
    memset(&cfg, 0, sizeof(cfg));
    if (cli_parse("serve", argc, argv, opts, sizeof(opts) / sizeof(opts[0]), NULL, 0, &npos) != 0)
        return CLI_EXIT_ERROR;
    if (port_s != NULL && cli_parse_size(port_s, 65535, &port) != 0) {
        cli_error("serve", "--port: expected a number from 0 to 65535");
        return CLI_EXIT_ERROR;
    }
    if (stay != NULL && cli_parse_size(stay, 600, &stay_s) != 0) {
        cli_error("serve", "--stay-seconds: expected a number from 0 to 600");
        return CLI_EXIT_ERROR;
    }
    if (root == NULL) {
        rc = plat_default_root(root_buf, sizeof(root_buf));
        if (rc != TMI_OK) {
            cli_error("serve", rc == TMI_ENOTSUP ? "--root DIR is required on this system"
                                                 : "cannot find the system drive");
            return CLI_EXIT_ERROR;
        }
        root = root_buf;
        cfg.use_registry = 1;
    }
    if (plat.stat(root, &sb) != TMI_OK || !sb.is_dir) {
        cli_error("serve", "--root %s: no such folder", root);
        return CLI_EXIT_ERROR;
    }
    if (open_store("serve", ctx->data_dir, 0, &ss.st) != TMI_OK)
        return CLI_EXIT_ERROR;
    if (path_join(lock_path, sizeof(lock_path), ctx->data_dir, SERVER_LOCK) != TMI_OK) {
        cli_error("serve", "data folder path too long");
        goto out;
    }
    rc = plat_lock_acquire(lock_path, &ss.lock);
    if (rc == TMI_EBUSY) {
        cli_error("serve", "another 'tmi-console serve' is running on %s (see %s there)",
                  ctx->data_dir, SERVER_JSON);
        goto out;
    }
    if (rc != TMI_OK) {
        cli_error("serve", "cannot lock %s: %s", lock_path, tmi_strerror(rc));
        goto out;
    }
    if (ensure_token("serve", ss.st, ctx->data_dir, token) != TMI_OK)
        goto out;
    memset(token, 0, sizeof(token));

    cfg.data_dir = ctx->data_dir;
    cfg.root = root;
    cfg.tmi_dir = tmi_dir;
    cfg.pb = ctx->pb;
    cfg.port = (int)port;
    cfg.service_name = service;
    cfg.stay_ms = (unsigned)stay_s * 1000;
    /* from here Ctrl+C / SIGTERM only ask to stop: the recovery below and a
     * job started later are finished, never cut */
    plat_install_stop_handler();
    recover_jobs(ctx, &cfg);
    if (api_jobs_init() != TMI_OK) {
        cli_error("serve", "out of memory");
        goto out;
    }
    rc = http_start(&cfg, &ss.srv, err, sizeof(err));
    if (rc != TMI_OK) {
        cli_error("serve", "%s%s", err,
                  rc == TMI_EBUSY ? " (port in use? try --port 0 for a free one)" : "");
        goto out;
    }
    if (write_server_json(ctx->data_dir, http_port(ss.srv)) != TMI_OK) {
        cli_error("serve", "cannot write %s in %s", SERVER_JSON, ctx->data_dir);
        goto out;
    }
    ss.wrote_json = 1;
    snprintf(details, sizeof(details), "{\"port\":%d}", http_port(ss.srv));
    cli_audit(ss.st, "serve", "server_start", "127.0.0.1", "ok", details);
    if (mint_login_url("serve", ss.st, http_port(ss.srv), url, sizeof(url)) != TMI_OK)
        goto out;

    printf("tmi-console: serving http://127.0.0.1:%d/ (data: %s)\n", http_port(ss.srv),
           ctx->data_dir);
    printf("login (one-time, valid 2 minutes): %s\n", url);
    printf("API token for scripts: 'tmi-console token'; stop with Ctrl+C\n");
    fflush(stdout);
    memset(url, 0, sizeof(url));

    while (!plat_stop_requested())
        plat_sleep_ms(100);
    printf("tmi-console: stopping\n");
    fflush(stdout);
    exit_code = CLI_EXIT_OK;
out:
    serve_cleanup(&ss, ctx->data_dir);
    return exit_code;
}

/* ---- token ---- */

static int token_run(cli_ctx *ctx, int argc, char **argv)
{
    const char *rotate = NULL;
    const cli_opt opts[] = {{"--rotate", 0, &rotate}};
    char token[AUTH_TOKEN_HEX_LEN + 1];
    size_t npos = 0;
    store *s = NULL;
    int rc, exit_code = CLI_EXIT_ERROR;

    if (cli_parse("token", argc, argv, opts, 1, NULL, 0, &npos) != 0)
        return CLI_EXIT_ERROR;
    if (open_store("token", ctx->data_dir, 0, &s) != TMI_OK)
        return CLI_EXIT_ERROR;
    if (rotate != NULL) {
        rc = auth_token_rotate(ctx->data_dir, token);
        if (rc != TMI_OK) {
            cli_error("token", "cannot replace the API token: %s", tmi_strerror(rc));
            cli_audit(s, "token", "token_change", AUTH_TOKEN_FILE, "failed",
                      "{\"reason\":\"rotated\"}");
            goto out;
        }
        cli_audit(s, "token", "token_change", AUTH_TOKEN_FILE, "ok", "{\"reason\":\"rotated\"}");
    } else if (ensure_token("token", s, ctx->data_dir, token) != TMI_OK) {
        goto out;
    }
    printf("%s\n", token);
    exit_code = CLI_EXIT_OK;
out:
    memset(token, 0, sizeof(token));
    store_close(s);
    return exit_code;
}

/* ---- login-url ---- */

static int login_url_run(cli_ctx *ctx, int argc, char **argv)
{
    char url[160];
    size_t npos = 0;
    store *s = NULL;
    int port = 0, rc, exit_code = CLI_EXIT_ERROR;

    if (cli_parse("login-url", argc, argv, NULL, 0, NULL, 0, &npos) != 0)
        return CLI_EXIT_ERROR;
    rc = read_server_port(ctx->data_dir, &port);
    if (rc == TMI_ENOENT) {
        cli_error("login-url", "no 'tmi-console serve' is running on %s; start one first",
                  ctx->data_dir);
        return CLI_EXIT_ERROR;
    }
    if (rc != TMI_OK) {
        cli_error("login-url", "cannot read %s in %s: %s", SERVER_JSON, ctx->data_dir,
                  tmi_strerror(rc));
        return CLI_EXIT_ERROR;
    }
    rc = server_running(ctx->data_dir);
    if (rc == 0) {
        cli_error("login-url",
                  "no 'tmi-console serve' is running on %s (a stale %s is left from one "
                  "that stopped abruptly); start one first",
                  ctx->data_dir, SERVER_JSON);
        return CLI_EXIT_ERROR;
    }
    if (rc < 0) {
        cli_error("login-url", "cannot tell whether a server runs on %s: %s", ctx->data_dir,
                  tmi_strerror(rc));
        return CLI_EXIT_ERROR;
    }
    if (open_store("login-url", ctx->data_dir, STORE_OPEN_EXISTING | STORE_OPEN_NO_CHECK, &s) !=
        TMI_OK)
        return CLI_EXIT_ERROR;
    if (mint_login_url("login-url", s, port, url, sizeof(url)) == TMI_OK) {
        printf("%s\n", url);
        exit_code = CLI_EXIT_OK;
    }
    memset(url, 0, sizeof(url));
    store_close(s);
    return exit_code;
}

const cli_command cli_cmd_serve = {
    .name = "serve",
    .summary = "serve the web UI and JSON API on 127.0.0.1",
    .usage = serve_usage,
    .run = serve_run,
};

const cli_command cli_cmd_token = {
    .name = "token",
    .summary = "print (or --rotate) the API token for scripts",
    .usage = token_usage,
    .run = token_run,
};

const cli_command cli_cmd_login_url = {
    .name = "login-url",
    .summary = "print a one-time login URL for the running server",
    .usage = login_usage,
    .run = login_url_run,
};
