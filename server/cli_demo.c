/*
 * cli_demo.c - `tmi-console demo`: a sandbox that reproduces the fault, then
 * the web console on it (the `serve` command, on a free port) until Ctrl+C.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "detect.h"
#include "err.h"
#include "pathutil.h"
#include "plat.h"
#include "sandbox.h"
#include "service.h"

#define DEMO_FILE_SIZE (256 * 1024)

static const char usage[] =
    "usage: tmi-console demo [--dir DIR] [--file-size BYTES] [--port N] [--no-serve] [--json]\n\n"
    "Create a fresh sandbox that reproduces the fault as the Trend Micro article\n"
    "describes it: the eight TMI files at 1.12.0.1156 under\n"
    "  DIR/Program Files (x86)/Trend Micro/COMMON/TMI\n"
    "and the good 1.12.0.1266 set in its is_backup/filegroup100 folder, each a real\n"
    "PE file, with the sandbox's TMI service already failing (event 800); scan it,\n"
    "then serve the web console on it and print its one-time login URL. Open the\n"
    "URL in a browser on this machine; stop with Ctrl+C (the sandbox's service is\n"
    "stopped too; the sandbox and the data folder stay for a look afterwards).\n\n"
    "options:\n"
    "  --dir DIR   where to make the sandbox (default: DATA/demo/root); a folder\n"
    "              that holds anything but an earlier sandbox is refused\n"
    "  --file-size BYTES\n"
    "              size of each PE file (default 262144, at most 67108864)\n"
    "  --port N    serve on this port of 127.0.0.1 (default 0: a free one)\n"
    "  --no-serve  only make the sandbox and print the scan, then exit\n"
    "  --json      print the scan as JSON (implies --no-serve)\n";

/* A sandbox made earlier may still run its service: stop it before the
 * folder goes. */
static void stop_old_service(cli_ctx *ctx, const char *root)
{
    service_ref svc;
    char marker[PLAT_PATH_MAX];
    plat_stat st;
    if (path_join(marker, sizeof(marker), root, SANDBOX_MARKER) != TMI_OK ||
        plat.stat(marker, &st) != TMI_OK)
        return;
    if (service_resolve(ctx->pb, root, NULL, &svc) == TMI_OK)
        service_stop_wait(&svc, 10000, NULL);
}

/* Serve the web console on the sandbox: the `serve` command, as if run as
 * `tmi-console serve --port PORT --root ROOT`. Returns its exit code. */
static int serve_sandbox(cli_ctx *ctx, const char *root, const char *port)
{
    char *argv[] = {"serve", "--port", (char *)port, "--root", (char *)root, NULL};
    printf("Starting the web console on the sandbox (stop with Ctrl+C) ...\n");
    fflush(stdout);
    return cli_cmd_serve.run(ctx, 5, argv);
}

/* Start the sandbox's TMI service once, as an admin would, and show that it
 * starts and stops at once with event 800 - the symptom of the fault. */
static void show_service_failure(cli_ctx *ctx, const char *root, int print)
{
    char why[256];
    service_ref svc;
    plat_event ev;
    size_t n = 0;
    plat_svc_status st;
    int rc = service_resolve(ctx->pb, root, NULL, &svc);
    if (rc == TMI_OK)
        rc = service_start_verify(&svc, 5000, 1000, &st, why, sizeof(why));
    if (!print)
        return;
    if (rc == TMI_OK) {
        printf("service: '%s' is running (unexpected for a faulty sandbox)\n", svc.name);
        return;
    }
    printf("service: '%s' (%s): %s\n", svc.name, ctx->pb->service_display_name,
           rc == TMI_ESERVICE ? why : tmi_strerror(rc));
    if (plat.event_query(root, ctx->pb->event_provider, ctx->pb->event_id, 0, &ev, 1, &n) ==
            TMI_OK &&
        n == 1)
        printf("event:   %s %d: %s\n", ev.provider, ev.id, ev.message);
}

/* The options of `demo`, checked. */
typedef struct demo_opts {
    const char *json, *port;
    int serve;                /* neither --no-serve nor --json */
    char root[PLAT_PATH_MAX]; /* --dir, or DATA/demo/root */
    size_t file_size;         /* --file-size */
} demo_opts;

static int parse_opts(cli_ctx *ctx, int argc, char **argv, demo_opts *o)
{
    const char *dir = NULL, *size = NULL, *no_serve = NULL;
    const cli_opt opts[] = {{"--dir", 1, &dir},
                            {"--json", 0, &o->json},
                            {"--file-size", 1, &size},
                            {"--port", 1, &o->port},
                            {"--no-serve", 0, &no_serve}};
    size_t npos = 0, port_n = 0;

    if (cli_parse("demo", argc, argv, opts, sizeof(opts) / sizeof(opts[0]), NULL, 0, &npos) != 0)
        return -1;
    o->serve = no_serve == NULL && o->json == NULL;
    if (o->port != NULL && cli_parse_size(o->port, 65535, &port_n) != 0) {
        cli_error("demo", "--port: expected a number from 0 to 65535");
        return -1;
    }
    if (o->serve && cli_server_running(ctx->data_dir) == 1) {
        cli_error("demo",
                  "a tmi-console server is already running on %s; stop it first, or "
                  "give this demo its own --data folder",
                  ctx->data_dir);
        return -1;
    }
    o->file_size = DEMO_FILE_SIZE;
    if (size != NULL && cli_parse_size(size, 64u << 20, &o->file_size) != 0) {
        cli_error("demo", "--file-size must be a number of bytes from 0 to 67108864");
        return -1;
    }
    if (dir != NULL) {
        if (strlen(dir) >= sizeof(o->root)) {
            cli_error("demo", "--dir: path too long");
            return -1;
        }
        snprintf(o->root, sizeof(o->root), "%s", dir);
    } else if (path_join(o->root, sizeof(o->root), ctx->data_dir, "demo/root") != TMI_OK) {
        cli_error("demo", "data folder path too long");
        return -1;
    }
    return 0;
}

/* A fresh sandbox in o->root (an earlier one removed first, its service
 * stopped), its service run once to show the failure. 0 or -1 (printed). */
static int make_sandbox(cli_ctx *ctx, const demo_opts *o)
{
    char tmi[PLAT_PATH_MAX], self[PLAT_PATH_MAX];
    sandbox_spec spec;
    int rc;

    sandbox_spec_init(&spec);
    spec.pad_to = o->file_size;
    stop_old_service(ctx, o->root);
    rc = sandbox_remove(o->root);
    if (rc == TMI_EACCES) {
        cli_error("demo", "%s exists and is not a sandbox; refusing to touch it", o->root);
        return -1;
    }
    if (rc == TMI_OK)
        rc = plat_self_exe(self, sizeof(self));
    spec.service_program = self;
    spec.playbook_path = ctx->playbook_path;
    if (rc == TMI_OK)
        rc = sandbox_create(ctx->pb, o->root, &spec, tmi, sizeof(tmi));
    if (rc != TMI_OK) {
        cli_error("demo", "cannot create the sandbox in %s: %s", o->root, tmi_strerror(rc));
        return -1;
    }
    if (o->json == NULL)
        printf("sandbox: %s\n", o->root);
    show_service_failure(ctx, o->root, o->json == NULL);
    if (o->json == NULL)
        printf("\n");
    return 0;
}

/* Scan the sandbox and print the scan: CLI_EXIT_FINDING when it shows the
 * fault, as it should. */
static int scan_sandbox(cli_ctx *ctx, const demo_opts *o)
{
    tmi_target t;
    scan_result *r = NULL;
    if (cli_target(ctx, "demo", o->root, NULL, NULL, &t) != 0)
        return CLI_EXIT_ERROR;
    int rc = scan_run(&t, &r);
    if (rc != TMI_OK) {
        cli_error("demo", "scan failed: %s", tmi_strerror(rc));
        return CLI_EXIT_ERROR;
    }
    rc = cli_print_scan(r, o->json != NULL);
    scan_result_free(r);
    return rc;
}

static int run(cli_ctx *ctx, int argc, char **argv)
{
    demo_opts o;
    int rc;

    memset(&o, 0, sizeof(o));
    if (parse_opts(ctx, argc, argv, &o) != 0 || make_sandbox(ctx, &o) != 0)
        return CLI_EXIT_ERROR;
    /* the demo succeeded when it shows the fault */
    if (scan_sandbox(ctx, &o) != CLI_EXIT_FINDING)
        return CLI_EXIT_ERROR;
    if (!o.serve) {
        if (o.json == NULL)
            printf("\nTry: tmi-console scan --root '%s'\n", o.root);
        return CLI_EXIT_OK;
    }
    printf("\n");
    rc = serve_sandbox(ctx, o.root, o.port != NULL ? o.port : "0");
    stop_old_service(ctx, o.root);
    return rc;
}

const cli_command cli_cmd_demo = {
    "demo", "make a sandbox that reproduces the fault and serve the console on it", usage, run};
