/*
 * cli_report.c - `tmi-console report JOB_ID|now [--out FILE]`: the incident
 * report (report.h) as the API serves it, written to stdout or, atomically,
 * to a file. The file holds its stylesheet, so it prints well opened from
 * a disk or a ticket.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "err.h"
#include "hex.h"
#include "plat.h"
#include "report.h"
#include "reqparse.h"
#include "store.h"
#include "web_assets.h"

#define N_OPTS(a) (sizeof(a) / sizeof((a)[0]))

static const char usage_report[] =
    "usage: tmi-console report JOB_ID|now [--out FILE] [--root DIR] [--tmi-dir DIR]\n"
    "                          [--service NAME]\n\n"
    "The incident report, one printable HTML document for a change ticket (the\n"
    "browser's Print makes the PDF); the same as GET /api/jobs/{id}/report and\n"
    "GET /api/report.\n\n"
    "  JOB_ID   a job's report: server, who ran it, when (start and end, server time\n"
    "           with its UTC offset), the verdict before and after, each file's\n"
    "           version and SHA-256 before and after, the backup, the steps with their\n"
    "           times and outcomes, the service and the event evidence, the job's audit\n"
    "           records with the chain head after them, and whether the chain verifies\n"
    "  now      the state now: verdict, files, service, evidence, the last job, the\n"
    "           chain's head and check\n\n"
    "options:\n"
    "  --out FILE        write the report to FILE (replaced whole, never half-written)\n"
    "                    instead of standard output\n"
    "  --root DIR        the target whose service and event log are read (default: the\n"
    "                    root the job or the latest scan recorded)\n"
    "  --tmi-dir DIR     the TMI folder (with --root)\n"
    "  --service NAME    the TMI service's short name (with --root)\n\n"
    "exit: 0 written, 2 error (unknown job, no store, cannot write FILE)\n";

/* Write the whole text to out through a new temporary file and a rename. */
static int write_atomic(const char *out, const char *text, size_t len)
{
    char tmp[PLAT_PATH_MAX];
    FILE *f = NULL;
    int rc;
    if (cli_temp_name(out, tmp, sizeof(tmp)) != 0) {
        cli_error("report", "--out: invalid file name");
        return -1;
    }
    if (plat_fopen_new(tmp, &f) != TMI_OK) {
        cli_error("report", "cannot create %s next to %s", tmp, out);
        return -1;
    }
    rc = fwrite(text, 1, len, f) == len ? TMI_OK : TMI_EIO;
    if (fclose(f) != 0 && rc == TMI_OK)
        rc = TMI_EIO;
    if (rc == TMI_OK)
        rc = plat.rename_replace(tmp, out);
    if (rc != TMI_OK) {
        plat.remove_file(tmp);
        cli_error("report", "cannot write %s: %s", out, tmi_strerror(rc));
        return -1;
    }
    return 0;
}

/* Gather (job_id 0: now), render with the stylesheet inside, write. */
static int make(cli_ctx *ctx, const tmi_target *t, int64_t job_id, const char *out)
{
    const web_asset *css = web_asset_find("report.css");
    char err[512];
    report *r = calloc(1, sizeof(*r));
    store *s = NULL;
    char *html = NULL;
    size_t len = 0;
    int rc, code = CLI_EXIT_ERROR;
    if (r == NULL) {
        cli_error("report", "out of memory");
        return CLI_EXIT_ERROR;
    }
    if (cli_open_store("report", ctx->data_dir, STORE_OPEN_EXISTING, &s) != TMI_OK)
        goto out;
    rc = job_id > 0 ? report_gather_job(s, t, ctx->pb, job_id, r, err, sizeof(err))
                    : report_gather_now(s, t, ctx->pb, r, err, sizeof(err));
    if (rc != TMI_OK) {
        cli_error("report", "%s", err);
        goto out;
    }
    rc = report_html(r, css != NULL ? (const char *)css->data : "", &html, &len);
    report_release(r);
    if (rc != TMI_OK) {
        cli_error("report", "out of memory");
        goto out;
    }
    if (out != NULL)
        code = write_atomic(out, html, len) == 0 ? CLI_EXIT_OK : CLI_EXIT_ERROR;
    else
        code = fwrite(html, 1, len, stdout) == len ? CLI_EXIT_OK : CLI_EXIT_ERROR;
out:
    free(html);
    free(r);
    store_close(s);
    return code;
}

static int run_report(cli_ctx *ctx, int argc, char **argv)
{
    const char *out = NULL, *root = NULL, *tmi_dir = NULL, *service = NULL;
    const cli_opt opts[] = {{"--out", 1, &out},
                            {"--root", 1, &root},
                            {"--tmi-dir", 1, &tmi_dir},
                            {"--service", 1, &service}};
    tmi_target t;
    uint64_t id = 0;
    char *pos[1];
    size_t npos = 0;

    if (cli_parse("report", argc, argv, opts, N_OPTS(opts), pos, 1, &npos) != 0)
        return CLI_EXIT_ERROR;
    if (npos != 1) {
        cli_error("report", "which report? give a job id (see 'tmi-console jobs') or 'now'");
        return CLI_EXIT_ERROR;
    }
    if (strcmp(pos[0], "now") != 0 && req_parse_u64(pos[0], 1, (uint64_t)1 << 53, &id) != TMI_OK) {
        cli_error("report", "'%.40s' is not a job id (a positive number) or 'now'", pos[0]);
        return CLI_EXIT_ERROR;
    }
    if (out != NULL && out[0] == '\0') {
        cli_error("report", "--out: invalid file name");
        return CLI_EXIT_ERROR;
    }
    if ((tmi_dir != NULL || service != NULL) && root == NULL) {
        cli_error("report", "--tmi-dir and --service go with --root");
        return CLI_EXIT_ERROR;
    }
    if (root != NULL && cli_target(ctx, "report", root, tmi_dir, service, &t) != 0)
        return CLI_EXIT_ERROR;
    return make(ctx, root != NULL ? &t : NULL, (int64_t)id, out);
}

const cli_command cli_cmd_report = {"report", "the incident report of a job, or of now (HTML)",
                                    usage_report, run_report};
