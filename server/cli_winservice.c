/*
 * cli_winservice.c - `tmi-console service install|uninstall|status|run`:
 * the web UI / JSON API server (`serve`) as a Windows service of its own.
 *
 * `install` registers the service "tmi-console" with the Service Control
 * Manager; its command line is this executable with `--data DIR service run`
 * and the serve options given to install. The SCM starts that command, which
 * connects to the SCM (plat_run_as_service) and runs `serve` as the service
 * body: a stop request from the SCM sets the same flag Ctrl+C sets, so the
 * server shuts down the same way. install also registers the event source
 * "tmi-console" of the Application log (its message table is in this exe:
 * server/alerts/tmi_messages.mc), under which the alerts are written, and
 * uninstall removes it. On other systems the commands say that there is no
 * service manager to register with.
 */
#include <stdio.h>
#include <string.h>

#include "alerts.h"
#include "cli.h"
#include "err.h"
#include "plat.h"

#define SELF_SERVICE_NAME    "tmi-console"
#define SELF_SERVICE_DISPLAY "tmi-console (TMI repair console)"
#define SELF_SERVICE_DESC                                                                          \
    "Web UI and JSON API on 127.0.0.1 that finds and repairs the Trend Micro Management "          \
    "Infrastructure (TMI) file-version fault."
/* Most arguments passed on to serve: each option and its value. */
#define SERVE_ARGS_MAX 14 /* the serve options install passes on, with values */

static const char usage[] =
    "usage: tmi-console service install [--port N] [--root DIR] [--tmi-dir DIR]\n"
    "           [--watch-interval SECONDS] [--auto-repair SECONDS] [--syslog URL]\n"
    "           [--alert-file PATH]\n"
    "       tmi-console service uninstall\n"
    "       tmi-console service status\n\n"
    "Run 'tmi-console serve' as a Windows service of its own, named \"" SELF_SERVICE_NAME "\"\n"
    "(started on demand, as LocalSystem: 'sc start " SELF_SERVICE_NAME "'). install registers\n"
    "it with the serve options given and this data folder; uninstall stops and removes\n"
    "it; status shows its state. install also registers the event source \"" ALERT_EVENT_SOURCE
    "\"\n"
    "in the Application log (the texts of its alerts are in this program, so keep it where\n"
    "it is), and uninstall removes it. install and uninstall need an elevated\n"
    "(Administrator) prompt. The API token is in the data folder as usual ('tmi-console "
    "token').\n\n"
    "options (install; see 'tmi-console serve --help'):\n"
    "  --port N       TCP port on 127.0.0.1 (default 8917)\n"
    "  --root DIR     the folder that stands for the system drive (default C:\\)\n"
    "  --tmi-dir DIR  scan this TMI folder instead of searching for it\n"
    "  --watch-interval, --auto-repair, --syslog, --alert-file: as for serve\n\n"
    "exit: 0 done, 2 error\n";

static int not_here(const char *what, int rc)
{
    if (rc == TMI_ENOTSUP) {
        cli_error("service", "%s: there is no Windows Service Control Manager on this system",
                  what);
        return 1;
    }
    return 0;
}

/* The serve options install passes on to the service. */
static const char *const passed_on[] = {"--port",           "--root",        "--tmi-dir",
                                        "--watch-interval", "--auto-repair", "--syslog",
                                        "--alert-file"};
#define N_PASSED (sizeof(passed_on) / sizeof(passed_on[0]))

static int install(cli_ctx *ctx, int argc, char **argv)
{
    const char *val[N_PASSED] = {NULL};
    cli_opt opts[N_PASSED];
    const char *args[SERVE_ARGS_MAX + 5];
    size_t npos = 0, n = 0, portnum;
    int rc;
    for (size_t i = 0; i < N_PASSED; i++) {
        opts[i].name = passed_on[i];
        opts[i].takes_value = 1;
        opts[i].value = &val[i];
    }
    if (cli_parse("service install", argc, argv, opts, N_PASSED, NULL, 0, &npos) != 0)
        return CLI_EXIT_ERROR;
    if (val[0] != NULL && cli_parse_size(val[0], 65535, &portnum) != 0) {
        cli_error("service", "--port: expected a number from 0 to 65535");
        return CLI_EXIT_ERROR;
    }
    if (!plat_is_elevated()) {
        cli_error("service", "install needs administrator rights: run from an elevated "
                             "(Administrator) prompt");
        return CLI_EXIT_ERROR;
    }
    args[n++] = "--data";
    args[n++] = ctx->data_dir;
    if (ctx->playbook_path != NULL) {
        args[n++] = "--playbook";
        args[n++] = ctx->playbook_path;
    }
    args[n++] = "service";
    args[n++] = "run";
    for (size_t i = 0; i < N_PASSED; i++) {
        if (val[i] != NULL) {
            args[n++] = passed_on[i];
            args[n++] = val[i];
        }
    }
    args[n] = NULL;
    rc = plat_service_install(SELF_SERVICE_NAME, SELF_SERVICE_DISPLAY, SELF_SERVICE_DESC, args);
    if (not_here("install", rc))
        return CLI_EXIT_ERROR;
    if (rc == TMI_EEXIST) {
        cli_error("service", "a service named \"%s\" exists already (uninstall it first)",
                  SELF_SERVICE_NAME);
        return CLI_EXIT_ERROR;
    }
    if (rc != TMI_OK) {
        cli_error("service", "cannot install the service: %s", tmi_strerror(rc));
        return CLI_EXIT_ERROR;
    }
    rc = plat_event_source_install(ALERT_EVENT_SOURCE);
    if (rc != TMI_OK) {
        cli_error("service",
                  "cannot register the event source \"%s\": %s; the service is not "
                  "installed either",
                  ALERT_EVENT_SOURCE, tmi_strerror(rc));
        plat_service_uninstall(SELF_SERVICE_NAME);
        return CLI_EXIT_ERROR;
    }
    printf("installed the service \"%s\" (data: %s) and the event source \"%s\"; start it "
           "with 'sc start %s'\n",
           SELF_SERVICE_NAME, ctx->data_dir, ALERT_EVENT_SOURCE, SELF_SERVICE_NAME);
    return CLI_EXIT_OK;
}

static int uninstall(void)
{
    int rc, src_rc;
    if (!plat_is_elevated()) {
        cli_error("service", "uninstall needs administrator rights: run from an elevated "
                             "(Administrator) prompt");
        return CLI_EXIT_ERROR;
    }
    rc = plat_service_uninstall(SELF_SERVICE_NAME);
    if (not_here("uninstall", rc))
        return CLI_EXIT_ERROR;
    /* the event source goes too, even when the service was gone already */
    src_rc = plat_event_source_uninstall(ALERT_EVENT_SOURCE);
    if (src_rc != TMI_OK && src_rc != TMI_ENOENT)
        cli_error("service", "cannot remove the event source \"%s\": %s", ALERT_EVENT_SOURCE,
                  tmi_strerror(src_rc));
    if (rc == TMI_ENOENT) {
        cli_error("service", "no service named \"%s\" is installed", SELF_SERVICE_NAME);
        return CLI_EXIT_ERROR;
    }
    if (rc != TMI_OK) {
        cli_error("service", "cannot uninstall the service: %s", tmi_strerror(rc));
        return CLI_EXIT_ERROR;
    }
    printf("removed the service \"%s\"%s\n", SELF_SERVICE_NAME,
           src_rc == TMI_OK ? " and its event source" : "");
    return src_rc == TMI_OK || src_rc == TMI_ENOENT ? CLI_EXIT_OK : CLI_EXIT_ERROR;
}

static int status(void)
{
    plat_svc_status st;
    int rc = plat.svc_query(NULL, SELF_SERVICE_NAME, &st);
    if (rc == TMI_OK && st.state == PLAT_SVC_NOT_FOUND) {
        printf("%s: not installed\n", SELF_SERVICE_NAME);
        return CLI_EXIT_OK;
    }
    if (not_here("status", rc))
        return CLI_EXIT_ERROR;
    if (rc != TMI_OK) {
        cli_error("service", "cannot query the service: %s", tmi_strerror(rc));
        return CLI_EXIT_ERROR;
    }
    printf("%s: %s", SELF_SERVICE_NAME,
           st.state == PLAT_SVC_RUNNING   ? "running"
           : st.state == PLAT_SVC_STOPPED ? "stopped"
                                          : "changing state");
    if (st.pid > 0)
        printf(" (pid %ld)", st.pid);
    if (st.state == PLAT_SVC_STOPPED && st.has_exit_code && st.exit_code != 0)
        printf(" (last exit code %d)", st.exit_code);
    printf("\n");
    return CLI_EXIT_OK;
}

/* The service body: `serve` with the options install recorded. */
typedef struct serve_call {
    cli_ctx *ctx;
    int argc;
    char **argv;
} serve_call;

static int serve_body(void *arg)
{
    serve_call *c = arg;
    return cli_cmd_serve.run(c->ctx, c->argc, c->argv);
}

static int run(cli_ctx *ctx, int argc, char **argv)
{
    char *serve_argv[SERVE_ARGS_MAX + 2];
    serve_call call;
    int rc;
    if (argc - 1 > SERVE_ARGS_MAX) {
        cli_error("service", "run: too many options");
        return CLI_EXIT_ERROR;
    }
    /* argv[0] is "run": serve's argv is "serve" and the same options */
    serve_argv[0] = (char *)"serve";
    for (int i = 1; i < argc; i++)
        serve_argv[i] = argv[i];
    serve_argv[argc] = NULL;
    call.ctx = ctx;
    call.argc = argc;
    call.argv = serve_argv;
    rc = plat_run_as_service(serve_body, &call);
    if (rc >= 0)
        return rc;
    if (not_here("run", rc))
        return CLI_EXIT_ERROR;
    if (rc == TMI_EINVAL)
        cli_error("service", "run is started by the Service Control Manager (see 'tmi-console "
                             "service install'); use 'tmi-console serve' at a prompt");
    else
        cli_error("service", "cannot connect to the Service Control Manager: %s", tmi_strerror(rc));
    return CLI_EXIT_ERROR;
}

static int service_run(cli_ctx *ctx, int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : NULL;
    if (sub == NULL) {
        fputs(usage, stderr);
        return CLI_EXIT_ERROR;
    }
    if (strcmp(sub, "install") == 0)
        return install(ctx, argc - 1, argv + 1);
    if (strcmp(sub, "run") == 0)
        return run(ctx, argc - 1, argv + 1);
    if (argc > 2) {
        cli_error("service", "%s takes no options", sub);
        return CLI_EXIT_ERROR;
    }
    if (strcmp(sub, "uninstall") == 0)
        return uninstall();
    if (strcmp(sub, "status") == 0)
        return status();
    cli_error("service", "unknown subcommand '%s' (install, uninstall, status)", sub);
    return CLI_EXIT_ERROR;
}

const cli_command cli_cmd_service = {
    .name = "service",
    .summary = "install / uninstall 'serve' as a Windows service",
    .usage = usage,
    .run = service_run,
};
