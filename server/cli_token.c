/*
 * cli_token.c - the credentials of the web console: `tmi-console token` (the
 * API token for scripts), `tmi-console login-url` (a one-time login URL for
 * the running server), and what `serve` shares with them (the audit rows of
 * the command line, the token made on first need, minting a login code).
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
#include "cli.h"
#include "err.h"
#include "logincode.h"
#include "pathutil.h"
#include "plat.h"
#include "store.h"

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

static void cli_actor_init(audit_actor *a)
{
    a->user = NULL; /* the OS user of this process */
    a->auth = "cli";
}

int cli_audit(store *s, const char *cmd, const char *action, const char *target,
              const char *outcome, const char *details)
{
    audit_actor actor;
    audit_event ev;
    int rc;
    cli_actor_init(&actor);
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

int cli_ensure_token(const char *cmd, store *s, const char *data_dir, char *hex)
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

int cli_mint_login_url(const char *cmd, store *s, int port, char *url, size_t urllen)
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

static int read_server_port(const char *data_dir, int *port)
{
    char path[PLAT_PATH_MAX];
    uint8_t *data = NULL;
    size_t len = 0;
    cJSON *o = NULL, *p;
    int rc = path_join(path, sizeof(path), data_dir, CLI_SERVER_JSON);
    if (rc == TMI_OK)
        rc = plat.read_file(path, CLI_SERVER_JSON_MAX, &data, &len);
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
    if (cli_open_store("token", ctx->data_dir, 0, &s) != TMI_OK)
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
    } else if (cli_ensure_token("token", s, ctx->data_dir, token) != TMI_OK) {
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
        cli_error("login-url", "cannot read %s in %s: %s", CLI_SERVER_JSON, ctx->data_dir,
                  tmi_strerror(rc));
        return CLI_EXIT_ERROR;
    }
    rc = cli_server_running(ctx->data_dir);
    if (rc == 0) {
        cli_error("login-url",
                  "no 'tmi-console serve' is running on %s (a stale %s is left from one "
                  "that stopped abruptly); start one first",
                  ctx->data_dir, CLI_SERVER_JSON);
        return CLI_EXIT_ERROR;
    }
    if (rc < 0) {
        cli_error("login-url", "cannot tell whether a server runs on %s: %s", ctx->data_dir,
                  tmi_strerror(rc));
        return CLI_EXIT_ERROR;
    }
    if (cli_open_store("login-url", ctx->data_dir, STORE_OPEN_EXISTING | STORE_OPEN_NO_CHECK, &s) !=
        TMI_OK)
        return CLI_EXIT_ERROR;
    if (cli_mint_login_url("login-url", s, port, url, sizeof(url)) == TMI_OK) {
        printf("%s\n", url);
        exit_code = CLI_EXIT_OK;
    }
    memset(url, 0, sizeof(url));
    store_close(s);
    return exit_code;
}

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
