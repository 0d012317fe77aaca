/*
 * cli_serve.c - `tmi-console serve`: the web UI and JSON API server, with the
 * job runner it starts jobs on. Start-up, in order: the target (--root ...),
 * the store, the server lock, the API token, the stop handler, recovery of
 * an interrupted job, the HTTP server, `server.json`, a login URL; then it
 * waits for Ctrl+C / SIGTERM (or the Windows service's stop) and shuts down
 * in reverse: running jobs finish, requests in flight finish, new ones get
 * 503. The files it leaves in the data folder: see cli_token.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "audit.h"
#include "auth.h"
#include "cli.h"
#include "err.h"
#include "http.h"
#include "pathutil.h"
#include "plat.h"
#include "runner.h"
#include "alerts.h"
#include "watcher.h"
#include "store.h"
#include "timefmt.h"

static const char serve_usage[] =
    "usage: tmi-console serve [--port N] [--root DIR] [--tmi-dir DIR] [--service NAME]\n"
    "                         [--stay-seconds N] [--watch-interval SECONDS]\n"
    "                         [--auto-repair SECONDS] [--syslog URL] [--alert-file PATH]\n\n"
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
    "  --stay-seconds N  how long a started service must stay up (default 5)\n"
    "  --watch-interval SECONDS\n"
    "                 scan on this timer too (default 900; 0: off); changes in the TMI\n"
    "                 and source folders are scanned as they happen either way\n"
    "  --auto-repair SECONDS\n"
    "                 when the files turn bad and good copies exist, repair after this\n"
    "                 delay unless a person acts first (off by default; at most once\n"
    "                 per occurrence, never again after a failed attempt until a person\n"
    "                 runs a job)\n"
    "  --syslog udp://HOST:PORT | tcp://HOST:PORT\n"
    "                 send each alert as an RFC 5424 message (TCP: octet counting)\n"
    "  --alert-file PATH\n"
    "                 append each alert as one JSON line (never rewritten)\n"
    "Alerts (also audit rows and, on Windows, Application log events of the source\n"
    "'tmi-console'): the verdict changed, a file changed outside tmi-console, a job\n"
    "failed or rolled back, the service is down while the files are good, the audit\n"
    "chain is broken.\n";

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
    rc = path_join(path, sizeof(path), data_dir, CLI_SERVER_JSON);
    if (rc == TMI_OK)
        rc = path_join(tmp, sizeof(tmp), data_dir, CLI_SERVER_JSON ".tmp");
    if (rc == TMI_OK)
        rc = plat_write_file_private(tmp, text, strlen(text));
    if (rc == TMI_OK)
        rc = plat.rename_replace(tmp, path);
out:
    free(text);
    cJSON_Delete(o);
    return rc;
}

/* ---- serve ---- */

/* The options, parsed and checked. */
typedef struct serve_opts {
    const char *root, *tmi_dir, *service;
    size_t port;
    size_t stay_s;
    size_t watch_interval_s;
    size_t auto_repair_s;
    const char *syslog, *alert_file;
} serve_opts;

/* What a running server holds, released by serve_cleanup in reverse. */
typedef struct serve_state {
    tmi_target target;
    store *st;
    plat_lock *lock;
    runner *jobs;
    watcher *watch;
    alert_outputs *alerts;
    http_server *srv;
    int wrote_json;
} serve_state;

static int parse_opts(int argc, char **argv, serve_opts *o)
{
    const char *port = NULL, *stay = NULL, *interval = NULL, *autorep = NULL;
    const cli_opt opts[] = {{"--port", 1, &port},
                            {"--root", 1, &o->root},
                            {"--tmi-dir", 1, &o->tmi_dir},
                            {"--service", 1, &o->service},
                            {"--stay-seconds", 1, &stay},
                            {"--watch-interval", 1, &interval},
                            {"--auto-repair", 1, &autorep},
                            {"--syslog", 1, &o->syslog},
                            {"--alert-file", 1, &o->alert_file}};
    size_t npos = 0;
    memset(o, 0, sizeof(*o));
    o->port = HTTP_DEFAULT_PORT;
    o->stay_s = 5;
    o->watch_interval_s = WATCHER_DEFAULT_INTERVAL_S;
    if (cli_parse("serve", argc, argv, opts, sizeof(opts) / sizeof(opts[0]), NULL, 0, &npos) != 0)
        return -1;
    if (port != NULL && cli_parse_size(port, 65535, &o->port) != 0) {
        cli_error("serve", "--port: expected a number from 0 to 65535");
        return -1;
    }
    if (stay != NULL && cli_parse_size(stay, 600, &o->stay_s) != 0) {
        cli_error("serve", "--stay-seconds: expected a number from 0 to 600");
        return -1;
    }
    if (interval != NULL && cli_parse_size(interval, 7 * 86400, &o->watch_interval_s) != 0) {
        cli_error("serve", "--watch-interval: expected seconds from 0 (off) to 604800");
        return -1;
    }
    if (autorep != NULL &&
        (cli_parse_size(autorep, 86400, &o->auto_repair_s) != 0 || o->auto_repair_s == 0)) {
        cli_error("serve", "--auto-repair: expected a delay in seconds from 1 to 86400");
        return -1;
    }
    return 0;
}

static void serve_cleanup(serve_state *ss, const char *data_dir)
{
    char path[PLAT_PATH_MAX];
    if (ss->srv != NULL)
        http_refuse_new(ss->srv);
    watcher_stop(ss->watch);   /* no new scans or automatic jobs */
    runner_shutdown(ss->jobs); /* a running job is finished, never cut */
    if (ss->srv != NULL) {
        http_stop(ss->srv); /* waits for requests in flight; closes worker stores */
        ss->srv = NULL;
        if (ss->st != NULL)
            cli_audit(ss->st, "serve", "server_stop", NULL, "ok", NULL);
    }
    runner_free(ss->jobs);
    alert_outputs_free(ss->alerts); /* what is queued gets a moment to go out */
    if (ss->wrote_json && path_join(path, sizeof(path), data_dir, CLI_SERVER_JSON) == TMI_OK)
        plat.remove_file(path);
    plat_lock_release(ss->lock);
    store_close(ss->st);
    memset(ss, 0, sizeof(*ss));
}

/* The store, the server lock (one server per data folder) and the token. */
static int take_data_dir(cli_ctx *ctx, serve_state *ss)
{
    char lock_path[PLAT_PATH_MAX], token[AUTH_TOKEN_HEX_LEN + 1];
    int rc;
    if (cli_open_store("serve", ctx->data_dir, 0, &ss->st) != TMI_OK)
        return -1;
    if (path_join(lock_path, sizeof(lock_path), ctx->data_dir, CLI_SERVER_LOCK) != TMI_OK) {
        cli_error("serve", "data folder path too long");
        return -1;
    }
    rc = plat_lock_acquire(lock_path, &ss->lock);
    if (rc == TMI_EBUSY) {
        cli_error("serve", "another 'tmi-console serve' is running on %s (see %s there)",
                  ctx->data_dir, CLI_SERVER_JSON);
        return -1;
    }
    if (rc != TMI_OK) {
        cli_error("serve", "cannot lock %s: %s", lock_path, tmi_strerror(rc));
        return -1;
    }
    rc = cli_ensure_token("serve", ss->st, ctx->data_dir, token);
    memset(token, 0, sizeof(token));
    return rc == TMI_OK ? 0 : -1;
}

/* The job runner, and the rollback of a job interrupted earlier. */
static int start_runner(cli_ctx *ctx, const serve_opts *o, serve_state *ss)
{
    runner_config rc_cfg;
    char err[512] = "";
    int n = 0, rc;
    runner_config_init(&rc_cfg);
    rc_cfg.data_dir = ctx->data_dir;
    rc_cfg.target = &ss->target;
    rc_cfg.stay_ms = (unsigned)o->stay_s * 1000;
    rc = runner_new(&rc_cfg, &ss->jobs);
    if (rc != TMI_OK) {
        cli_error("serve", "cannot set up the job runner: %s", tmi_strerror(rc));
        return -1;
    }
    rc = runner_recover_now(ss->jobs, &n, err, sizeof(err));
    if (rc == TMI_OK && n > 0)
        printf("tmi-console: rolled back %d interrupted job(s); see 'tmi-console jobs'\n", n);
    else if (rc != TMI_OK && rc != TMI_EBUSY)
        cli_error("serve", "recovery of interrupted jobs failed: %s",
                  err[0] ? err : tmi_strerror(rc));
    return 0;
}

/* Where alerts go: --syslog, --alert-file, and the event log. */
static int start_alerts(const serve_opts *o, serve_state *ss)
{
    alert_outputs_config ac;
    char err[512];
    alert_outputs_config_init(&ac);
    ac.syslog_url = o->syslog;
    ac.file_path = o->alert_file;
    ac.event_log = 1;
    ac.event_log_scope = ss->target.root;
    if (alert_outputs_new(&ac, &ss->alerts, err, sizeof(err)) != TMI_OK) {
        cli_error("serve", "%s", err);
        return -1;
    }
    return 0;
}

/* The watcher: watched folders, scans, alerts, auto-repair. */
static int start_watcher(cli_ctx *ctx, const serve_opts *o, serve_state *ss)
{
    watcher_config wc;
    char err[256];
    memset(&wc, 0, sizeof(wc));
    wc.data_dir = ctx->data_dir;
    wc.target = &ss->target;
    wc.jobs = ss->jobs;
    wc.interval_s = (unsigned)o->watch_interval_s;
    wc.auto_repair_s = (unsigned)o->auto_repair_s;
    wc.outputs = ss->alerts;
    if (watcher_start(&wc, &ss->watch, err, sizeof(err)) != TMI_OK) {
        cli_error("serve", "%s", err);
        return -1;
    }
    return 0;
}

/* The HTTP server, server.json, the start's audit row and the login URL. */
static int start_http(cli_ctx *ctx, const serve_opts *o, serve_state *ss)
{
    http_config cfg;
    char err[512], url[160], details[96];
    int rc;
    memset(&cfg, 0, sizeof(cfg));
    cfg.data_dir = ctx->data_dir;
    cfg.target = &ss->target;
    cfg.jobs = ss->jobs;
    cfg.watch = ss->watch;
    cfg.alerts = ss->alerts;
    cfg.port = (int)o->port;
    rc = http_start(&cfg, &ss->srv, err, sizeof(err));
    if (rc != TMI_OK) {
        cli_error("serve", "%s%s", err,
                  rc == TMI_EBUSY ? " (port in use? try --port 0 for a free one)" : "");
        return -1;
    }
    if (write_server_json(ctx->data_dir, http_port(ss->srv)) != TMI_OK) {
        cli_error("serve", "cannot write %s in %s", CLI_SERVER_JSON, ctx->data_dir);
        return -1;
    }
    ss->wrote_json = 1;
    snprintf(details, sizeof(details), "{\"port\":%d}", http_port(ss->srv));
    cli_audit(ss->st, "serve", "server_start", "127.0.0.1", "ok", details);
    if (cli_mint_login_url("serve", ss->st, http_port(ss->srv), url, sizeof(url)) != TMI_OK)
        return -1;
    printf("tmi-console: serving http://127.0.0.1:%d/ (data: %s)\n", http_port(ss->srv),
           ctx->data_dir);
    printf("login (one-time, valid 2 minutes): %s\n", url);
    printf("API token for scripts: 'tmi-console token'; stop with Ctrl+C\n");
    fflush(stdout);
    memset(url, 0, sizeof(url));
    return 0;
}

static int serve_run(cli_ctx *ctx, int argc, char **argv)
{
    serve_opts o;
    serve_state ss;
    int exit_code = CLI_EXIT_ERROR;

    memset(&ss, 0, sizeof(ss));
    if (parse_opts(argc, argv, &o) != 0 ||
        cli_target(ctx, "serve", o.root, o.tmi_dir, o.service, &ss.target) != 0)
        return CLI_EXIT_ERROR;
    if (take_data_dir(ctx, &ss) != 0)
        goto out;
    /* from here Ctrl+C / SIGTERM only ask to stop: the recovery below and a
     * job started later are finished, never cut */
    plat_install_stop_handler();
    if (start_alerts(&o, &ss) != 0 || start_runner(ctx, &o, &ss) != 0 ||
        start_watcher(ctx, &o, &ss) != 0 || start_http(ctx, &o, &ss) != 0)
        goto out;
    while (!plat_stop_requested())
        plat_sleep_ms(100);
    printf("tmi-console: stopping\n");
    fflush(stdout);
    exit_code = CLI_EXIT_OK;
out:
    serve_cleanup(&ss, ctx->data_dir);
    return exit_code;
}

const cli_command cli_cmd_serve = {
    .name = "serve",
    .summary = "serve the web UI and JSON API on 127.0.0.1",
    .usage = serve_usage,
    .run = serve_run,
};
