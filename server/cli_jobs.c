/*
 * cli_jobs.c - `tmi-console backup|replace|restart|repair|restore`, and the
 * lists `backups` and `jobs`: the changing actions, with the plan shown and
 * confirmed first, progress on the terminal, and the job in the journal and
 * the audit trail.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "backup.h"
#include "cli.h"
#include "detect.h"
#include "err.h"
#include "jobs.h"
#include "pathutil.h"
#include "plat.h"
#include "repair.h"
#include "runner.h"
#include "store.h"

#define JOB_OPTIONS_HELP                                                                           \
    "  --root DIR          the folder that stands for the system drive (required on\n"             \
    "                      systems other than Windows)\n"                                          \
    "  --tmi-dir DIR       use this TMI folder instead of searching for it\n"                      \
    "  --service NAME      the TMI service's short name (default: found from its display\n"        \
    "                      name \"Trend Micro Management Infrastructure\" or from mrf.exe)\n"      \
    "  --stay-seconds N    how long the service must stay running to count as started\n"           \
    "                      (default 5)\n"                                                          \
    "  --timeout-seconds N how long to wait for the service to stop or start (default 30)\n"       \
    "  --accept-untrusted-root  (replace, repair) accept source files whose signature\n"           \
    "                      fails only because its root is not in the trust store; the\n"           \
    "                      publisher must still be the playbook's, a changed file is\n"            \
    "                      never accepted; recorded in the audit trail\n"                          \
    "  --yes               do not ask for confirmation\n"                                          \
    "  --json              print the finished job as JSON (progress goes to stderr)\n\n"           \
    "exit: 0 done, 1 refused (nothing to do, or the plan changed) or done with the\n"              \
    "service not running (status succeeded_service_down), 2 failed or error\n"

static const char usage_repair[] =
    "usage: tmi-console repair [OPTIONS]\n\n"
    "The whole fix, as one job: back up the eight files, stop the TMI service,\n"
    "replace the files with the good 1.12.0.1266 copies (each staged beside its\n"
    "target, verified, then renamed over it), verify every file, start the service\n"
    "and check that it stays running, and scan again. Any failure after the first\n"
    "file was replaced restores every file from the backup.\n\noptions:\n" JOB_OPTIONS_HELP;

static const char usage_replace[] =
    "usage: tmi-console replace [OPTIONS]\n\n"
    "Back up the eight files, stop the TMI service and replace the files with the\n"
    "good copies, verified; the service is left stopped (see restart). Refused\n"
    "unless the scan says affected and a complete set of good copies exists; a file\n"
    "newer than 1.12.0.1266 is never replaced.\n\noptions:\n" JOB_OPTIONS_HELP;

static const char usage_backup[] =
    "usage: tmi-console backup [OPTIONS]\n\n"
    "Copy the current eight files (as many as exist) into a new backup folder under\n"
    "DATA/backups with a manifest of sizes, SHA-256 and versions, verified after\n"
    "copying.\n\noptions:\n" JOB_OPTIONS_HELP;

static const char usage_restart[] =
    "usage: tmi-console restart [OPTIONS]\n\n"
    "Stop the TMI service if it runs, start it, wait until it is running and check\n"
    "that it stays running; when it stops again, show its exit code and the\n"
    "matching event-log record.\n\noptions:\n" JOB_OPTIONS_HELP;

static const char usage_restore[] =
    "usage: tmi-console restore BACKUP_ID [OPTIONS]\n\n"
    "Put the files of a backup (see 'tmi-console backups') back into the TMI\n"
    "folder. The present files are backed up first, so a restore can be undone.\n"
    "\noptions:\n" JOB_OPTIONS_HELP;

static const char usage_backups[] = "usage: tmi-console backups [--json]\n\n"
                                    "List the backups in DATA/backups, newest first.\n";

static const char usage_jobs[] = "usage: tmi-console jobs [ID] [--limit N] [--json]\n\n"
                                 "List the jobs, newest first, or show one job with its steps.\n";

typedef struct job_opts {
    const char *root, *tmi_dir, *service, *stay, *timeout, *yes, *json, *accept_root;
    char *pos[2];
    size_t npos;
} job_opts;

static int parse_job_opts(const char *cmd, int argc, char **argv, job_opts *o, size_t max_pos)
{
    const cli_opt opts[] = {
        {"--root", 1, &o->root},
        {"--tmi-dir", 1, &o->tmi_dir},
        {"--service", 1, &o->service},
        {"--stay-seconds", 1, &o->stay},
        {"--timeout-seconds", 1, &o->timeout},
        {"--yes", 0, &o->yes},
        {"--json", 0, &o->json},
        {"--accept-untrusted-root", 0, &o->accept_root},
    };
    memset(o, 0, sizeof(*o));
    return cli_parse(cmd, argc, argv, opts, sizeof(opts) / sizeof(opts[0]), o->pos, max_pos,
                     &o->npos);
}

/* Resolve the target and fill cfg from the options. 0 or -1 (said). */
static int make_config(const char *cmd, cli_ctx *ctx, const job_opts *o, tmi_target *t,
                       runner_config *cfg)
{
    size_t n;
    runner_config_init(cfg);
    cfg->data_dir = ctx->data_dir;
    cfg->target = t;
    if (cli_target(ctx, cmd, o->root, o->tmi_dir, o->service, t) != 0)
        return -1;
    if (o->stay != NULL) {
        if (cli_parse_size(o->stay, 600, &n) != 0) {
            cli_error(cmd, "--stay-seconds must be a whole number from 0 to 600");
            return -1;
        }
        cfg->stay_ms = (unsigned)n * 1000;
    }
    if (o->timeout != NULL) {
        if (cli_parse_size(o->timeout, 3600, &n) != 0 || n == 0) {
            cli_error(cmd, "--timeout-seconds must be a whole number from 1 to 3600");
            return -1;
        }
        cfg->stop_timeout_ms = cfg->start_timeout_ms = (unsigned)n * 1000;
    }
    return 0;
}

/* Show what the job will do; for replace/repair also compute the plan digest.
 * Returns 0 to go on, 1 when the scan already says no, -1 on error. */
static int show_plan(const char *cmd, cli_ctx *ctx, const runner_config *cfg, repair_action a,
                     char digest[65], const job_opts *o)
{
    scan_result *r = NULL;
    char v1[TMI_VERSION_STRLEN], v2[TMI_VERSION_STRLEN];
    FILE *out = o->json != NULL ? stderr : stdout;
    scan_options so = {o->accept_root != NULL, NULL};
    int rc = scan_run_opts(cfg->target, &so, &r);
    digest[0] = '\0';
    if (rc != TMI_OK) {
        cli_error(cmd, "%s: %s", cfg->target->root, tmi_strerror(rc));
        return -1;
    }
    if (a == REPAIR_REPLACE || a == REPAIR_FULL) {
        if (!r->repair_possible) {
            fprintf(out, "%s: %s (%s)\n",
                    r->verdict == SCAN_AFFECTED ? "Refused, nothing was changed" : "Nothing to do",
                    r->repair_reason, scan_verdict_name(r->verdict));
            scan_result_free(r);
            return 1;
        }
        const scan_source *src = &r->sources[r->repair_source];
        repair_plan_digest(r, digest);
        fprintf(out, "Plan: replace %zu files in\n  %s\nwith the good copies from\n  %s (%s)\n\n",
                r->n_files, r->tmi_dir, src->path, src->variant);
        if (src->n_override > 0)
            fprintf(out,
                    "Untrusted root accepted (--accept-untrusted-root) for %zu file%s: their "
                    "chain ends at a root outside the trust store.\n\n",
                    src->n_override, src->n_override == 1 ? "" : "s");
        for (size_t i = 0; i < r->n_files; i++) {
            const scan_file *f = &r->files[i];
            fprintf(out, "  %-26s %-14s -> %s\n", f->name,
                    f->has_version ? version_format(&f->version, v1, sizeof(v1)) : "(missing)",
                    version_format(&src->files[i].version, v2, sizeof(v2)));
        }
        fprintf(out,
                "\nSteps: back up the current files, stop the TMI service, stage and verify\n"
                "the new files, replace, verify%s. Any failure after\n"
                "the first replacement restores every file from the backup.\n",
                a == REPAIR_FULL ? ", start the service and check it stays up, scan again"
                                 : " (the service stays stopped)");
    } else if (a == REPAIR_BACKUP) {
        fprintf(out, "Plan: back up the files of %s into %s/backups\n",
                r->tmi_dir ? r->tmi_dir : "(no TMI folder)", ctx->data_dir);
    } else if (a == REPAIR_RESTART) {
        fprintf(out,
                "Plan: stop and start the service \"%s\" and check that it stays up for "
                "%u s\n",
                ctx->pb->service_display_name, cfg->stay_ms / 1000);
    }
    scan_result_free(r);
    return 0;
}

/* What a restore puts back: the backup's files, with their versions and
 * hashes, and where they go. 0, or -1 when the backup cannot be read (said). */
static int show_restore_plan(const char *cmd, cli_ctx *ctx, const char *id, FILE *out)
{
    char root[PLAT_PATH_MAX], dir[PLAT_PATH_MAX], err[256], v[TMI_VERSION_STRLEN];
    backup_manifest *m = NULL;
    int rc = path_join(root, sizeof(root), ctx->data_dir, "backups");
    if (rc == TMI_OK)
        rc = path_join(dir, sizeof(dir), root, id);
    if (rc == TMI_OK)
        rc = backup_load(ctx->pb, dir, &m, err, sizeof(err));
    if (rc != TMI_OK) {
        cli_error(cmd, "backup %s: %s (see 'tmi-console backups')", id,
                  rc == TMI_ENOENT ? "no such backup, or an incomplete one" : err);
        return -1;
    }
    fprintf(out, "Plan: restore backup %s (taken %s) into\n  %s\n\n", m->id, m->created,
            m->tmi_dir);
    for (size_t i = 0; i < m->n_files; i++) {
        const backup_entry *e = &m->files[i];
        char hex[17];
        for (int k = 0; k < 8; k++)
            snprintf(hex + 2 * k, 3, "%02x", e->sha256[k]);
        if (e->present)
            fprintf(out, "  %-26s %-14s sha256 %s...\n", e->name,
                    e->has_version ? version_format(&e->version, v, sizeof(v)) : "(no version)",
                    hex);
        else
            fprintf(out, "  %-26s (absent in the backup: removed)\n", e->name);
    }
    fprintf(out, "\nSteps: back up the current files first, stop the TMI service, put the\n"
                 "backup's files back (verified), start the service again if it was running\n"
                 "(if it does not come back, the restored files stay: exit 1). Any failure\n"
                 "while the files are put back restores every file from the first backup.\n");
    backup_manifest_free(m);
    return 0;
}

static int confirm(const char *cmd, FILE *out)
{
    char line[16];
    fprintf(out, "Proceed? [y/N] ");
    fflush(out);
    if (fgets(line, sizeof(line), stdin) == NULL || (line[0] != 'y' && line[0] != 'Y')) {
        fprintf(out, "\n");
        cli_error(cmd, "not confirmed; nothing was changed");
        return 0;
    }
    return 1;
}

static void progress(void *arg, const char *step, const char *outcome, const char *message)
{
    (void)arg;
    if (strcmp(outcome, "running") == 0)
        fprintf(stderr, "  %-10s %s ...\n", step, message ? message : "");
    else
        fprintf(stderr, "  %-10s %s%s%s\n", step, outcome, message && *message ? ": " : "",
                message ? message : "");
}

static int print_job(cli_ctx *ctx, int64_t id)
{
    char err[256];
    store *st = NULL;
    cJSON *job = NULL;
    int rc = store_open(ctx->data_dir, &st, err, sizeof(err));
    if (rc == TMI_OK)
        rc = jobs_get_json(st, id, &job);
    if (rc == TMI_OK)
        cli_print_json(job);
    else
        cli_error(NULL, "cannot read job %lld: %s", (long long)id, tmi_strerror(rc));
    cJSON_Delete(job);
    store_close(st);
    return rc;
}

static int run_job(cli_ctx *ctx, int argc, char **argv, repair_action a)
{
    const char *cmd = repair_action_name(a);
    char digest[65], err[512];
    job_opts o;
    tmi_target t;
    runner_config cfg;
    runner *run = NULL;
    runner_job *h = NULL;
    int64_t id = 0;
    repair_result res;
    audit_actor actor = {NULL, "cli"};
    int rc;
    if (!plat_is_elevated()) {
        cli_error(cmd, "changing the TMI files and service needs administrator rights: run from "
                       "an elevated (Administrator) prompt");
        return CLI_EXIT_ERROR;
    }
    if (parse_job_opts(cmd, argc, argv, &o, a == REPAIR_RESTORE ? 1 : 0) != 0)
        return CLI_EXIT_ERROR;
    if (a == REPAIR_RESTORE && o.npos != 1) {
        cli_error(cmd, "give the BACKUP_ID to restore (see 'tmi-console backups')");
        return CLI_EXIT_ERROR;
    }
    if (make_config(cmd, ctx, &o, &t, &cfg) != 0)
        return CLI_EXIT_ERROR;
    /* with --json, stdout carries only the JSON: the plan and prompt go to stderr */
    FILE *out = o.json ? stderr : stdout;
    if (a == REPAIR_RESTORE && show_restore_plan(cmd, ctx, o.pos[0], out) != 0)
        return CLI_EXIT_ERROR;
    if (o.accept_root != NULL && a != REPAIR_REPLACE && a != REPAIR_FULL) {
        cli_error(cmd, "--accept-untrusted-root goes with replace and repair only");
        return CLI_EXIT_ERROR;
    }
    rc = show_plan(cmd, ctx, &cfg, a, digest, &o);
    if (rc < 0)
        return CLI_EXIT_ERROR;
    if (rc > 0)
        return CLI_EXIT_FINDING;
    if (o.yes == NULL && !confirm(cmd, out))
        return CLI_EXIT_FINDING;
    rc = runner_new(&cfg, &run);
    if (rc == TMI_OK)
        rc = runner_begin(run, a, a == REPAIR_RESTORE ? o.pos[0] : NULL, digest[0] ? digest : NULL,
                          o.accept_root != NULL, &actor, &h, &id, err, sizeof(err));
    else
        snprintf(err, sizeof(err), "%s", tmi_strerror(rc));
    if (rc != TMI_OK) {
        cli_error(cmd, "%s", err);
        runner_free(run);
        return CLI_EXIT_ERROR;
    }
    fprintf(stderr, "job %lld: %s\n", (long long)id, cmd);
    plat_install_stop_handler(); /* finish the job; Ctrl-C does not cut it half-way */
    runner_execute(h, progress, NULL, &res);
    runner_end(h);
    runner_free(run);
    if (o.json != NULL)
        print_job(ctx, id);
    else
        printf("%s: %s\n",
               res.rc != TMI_OK   ? "FAILED"
               : res.service_down ? "DONE, BUT THE SERVICE IS NOT RUNNING"
                                  : "DONE",
               res.message);
    if (res.rc == TMI_OK)
        return res.service_down ? CLI_EXIT_FINDING : CLI_EXIT_OK;
    return (res.rc == TMI_EINVAL || res.rc == TMI_ECONFLICT) ? CLI_EXIT_FINDING : CLI_EXIT_ERROR;
}

static int run_repair(cli_ctx *ctx, int argc, char **argv)
{
    return run_job(ctx, argc, argv, REPAIR_FULL);
}
static int run_replace(cli_ctx *ctx, int argc, char **argv)
{
    return run_job(ctx, argc, argv, REPAIR_REPLACE);
}
static int run_backup(cli_ctx *ctx, int argc, char **argv)
{
    return run_job(ctx, argc, argv, REPAIR_BACKUP);
}
static int run_restart(cli_ctx *ctx, int argc, char **argv)
{
    return run_job(ctx, argc, argv, REPAIR_RESTART);
}
static int run_restore(cli_ctx *ctx, int argc, char **argv)
{
    return run_job(ctx, argc, argv, REPAIR_RESTORE);
}

static int run_backups(cli_ctx *ctx, int argc, char **argv)
{
    const char *json = NULL;
    const cli_opt opts[] = {{"--json", 0, &json}};
    char root[PLAT_PATH_MAX];
    cJSON *list = NULL, *b;
    size_t npos;
    if (cli_parse("backups", argc, argv, opts, 1, NULL, 0, &npos) != 0)
        return CLI_EXIT_ERROR;
    if (path_join(root, sizeof(root), ctx->data_dir, "backups") != TMI_OK ||
        backup_list_json(ctx->pb, root, &list) != TMI_OK) {
        cli_error("backups", "cannot list %s", root);
        return CLI_EXIT_ERROR;
    }
    if (json != NULL) {
        cli_print_json(list);
    } else if (cJSON_GetArraySize(list) == 0) {
        printf("no backups in %s\n", root);
    } else {
        printf("%-36s %-26s %s\n", "ID", "CREATED", "FILES");
        cJSON_ArrayForEach(b, list)
        {
            printf("%-36s %-26s %d\n", cJSON_GetObjectItem(b, "id")->valuestring,
                   cJSON_GetObjectItem(b, "created")->valuestring,
                   cJSON_GetArraySize(cJSON_GetObjectItem(b, "files")));
        }
    }
    cJSON_Delete(list);
    return CLI_EXIT_OK;
}

static int run_jobs(cli_ctx *ctx, int argc, char **argv)
{
    const char *json = NULL, *limit = NULL;
    const cli_opt opts[] = {{"--json", 0, &json}, {"--limit", 1, &limit}};
    char *pos[1];
    char err[256];
    size_t npos, n = 20, id = 0;
    store *st = NULL;
    cJSON *list = NULL, *j;
    int rc;
    if (cli_parse("jobs", argc, argv, opts, 2, pos, 1, &npos) != 0)
        return CLI_EXIT_ERROR;
    if (limit != NULL && (cli_parse_size(limit, 500, &n) != 0 || n == 0)) {
        cli_error("jobs", "--limit must be a whole number from 1 to 500");
        return CLI_EXIT_ERROR;
    }
    if (npos == 1 && (cli_parse_size(pos[0], (size_t)1 << 50, &id) != 0 || id == 0)) {
        cli_error("jobs", "ID must be a job number");
        return CLI_EXIT_ERROR;
    }
    if (npos == 1)
        return print_job(ctx, (int64_t)id) == TMI_OK ? CLI_EXIT_OK : CLI_EXIT_ERROR;
    rc = store_open(ctx->data_dir, &st, err, sizeof(err));
    if (rc == TMI_OK)
        rc = jobs_list_json(st, 0, n, &list);
    if (rc != TMI_OK) {
        cli_error("jobs", "%s", st != NULL ? store_errmsg(st) : err);
        store_close(st);
        return CLI_EXIT_ERROR;
    }
    if (json != NULL) {
        cli_print_json(list);
    } else {
        printf("%-6s %-8s %-22s %-25s %s\n", "ID", "ACTION", "STATUS", "CREATED", "MESSAGE");
        cJSON_ArrayForEach(j, list)
        {
            const cJSON *m = cJSON_GetObjectItem(j, "message");
            printf("%-6.0f %-8s %-22s %-25s %s\n", cJSON_GetObjectItem(j, "id")->valuedouble,
                   cJSON_GetObjectItem(j, "action")->valuestring,
                   cJSON_GetObjectItem(j, "status")->valuestring,
                   cJSON_GetObjectItem(j, "created")->valuestring,
                   cJSON_IsString(m) ? m->valuestring : "");
        }
    }
    cJSON_Delete(list);
    store_close(st);
    return CLI_EXIT_OK;
}

static const char usage_recover[] =
    "usage: tmi-console recover [--root DIR] [--tmi-dir DIR] [--service NAME]\n\n"
    "Roll back jobs that were interrupted (the process was killed, the machine\n"
    "lost power): every file is restored from the job's backup. This also happens\n"
    "by itself before any new job and when the server starts.\n\n"
    "exit: 0 nothing to do or recovered, 2 error\n";

static int run_recover(cli_ctx *ctx, int argc, char **argv)
{
    char err[512] = "";
    job_opts o;
    tmi_target t;
    runner_config cfg;
    runner *run = NULL;
    int n = 0, rc;
    if (parse_job_opts("recover", argc, argv, &o, 0) != 0)
        return CLI_EXIT_ERROR;
    if (make_config("recover", ctx, &o, &t, &cfg) != 0)
        return CLI_EXIT_ERROR;
    rc = runner_new(&cfg, &run);
    if (rc == TMI_OK)
        rc = runner_recover_now(run, &n, err, sizeof(err));
    runner_free(run);
    if (rc != TMI_OK) {
        cli_error("recover", "%s", err[0] ? err : tmi_strerror(rc));
        return CLI_EXIT_ERROR;
    }
    printf(n == 0 ? "no interrupted job\n" : "rolled back %d interrupted job(s)\n", n);
    return CLI_EXIT_OK;
}

const cli_command cli_cmd_recover = {"recover", "roll back interrupted jobs", usage_recover,
                                     run_recover};
const cli_command cli_cmd_repair = {"repair", "back up, replace, restart and verify: the whole fix",
                                    usage_repair, run_repair};
const cli_command cli_cmd_replace = {
    "replace", "back up and replace the files (service left stopped)", usage_replace, run_replace};
const cli_command cli_cmd_backup = {"backup", "back up the current files", usage_backup,
                                    run_backup};
const cli_command cli_cmd_restart = {"restart", "restart the TMI service and check it stays up",
                                     usage_restart, run_restart};
const cli_command cli_cmd_restore = {"restore", "put a backup back", usage_restore, run_restore};
const cli_command cli_cmd_backups = {"backups", "list the backups", usage_backups, run_backups};
const cli_command cli_cmd_jobs = {"jobs", "list the jobs, or show one with its steps", usage_jobs,
                                  run_jobs};
