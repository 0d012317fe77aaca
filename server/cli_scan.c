/* cli_scan.c - `tmi-console scan`: detect the fault and print the evidence. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "detect.h"
#include "err.h"
#include "hex.h"
#include "plat.h"
#include "scan_json.h"
#include "scans.h"
#include "sig_digests.h"
#include "store.h"

static const char usage[] =
    "usage: tmi-console scan [--root DIR] [--tmi-dir DIR] [--no-record] [--no-cache]\n"
    "                        [--json]\n\n"
    "Find the TMI folder, read the version of the eight MRF files, compare them\n"
    "with the version Control Manager 6.0 SP3 or later needs (1.12.0.1266), and\n"
    "look for a complete set of good copies in the patch's backup folders\n"
    "(is_backup\\filegroup100, backup*).\n\n"
    "options:\n"
    "  --root DIR     the folder that stands for the system drive (C:\\ on Windows,\n"
    "                 the default there; required on other systems)\n"
    "  --tmi-dir DIR  use this TMI folder instead of searching for it\n"
    "  --no-record    do not store the scan in the history (DATA/tmi-console.db)\n"
    "  --no-cache     recompute every signed file's Authenticode digest; by default\n"
    "                 a file whose SHA-256 an earlier scan saw takes the digest kept\n"
    "                 then (the signature and chain are checked anew either way;\n"
    "                 a repair always recomputes)\n"
    "  --json         print the scan as JSON: verdict, tmi_dir, expected_version,\n"
    "                 files[] {name, path, version, sha256, status, signature},\n"
    "                 repair {possible, source, reason}, sources[]\n\n"
    "verdicts: affected (some file is old, missing, invalid or unreadable), healthy\n"
    "(all at 1.12.0.1266 or newer), not_installed (no TMI folder or none of its files)\n"
    "file status: ok, newer (never a fault), old, missing, invalid (read, but not a\n"
    "PE file with a version: backed up as it is and replaced like an old file),\n"
    "unreadable (its bytes cannot be read, or it is a link, never followed: the\n"
    "repair is refused until it can be read)\n"
    "exit: 0 healthy or not_installed, 1 affected, 2 error\n";

static const char *status_label(const scan_file *f)
{
    if (f->status == FILE_OLD && f->known_bad)
        return "OLD*";
    switch (f->status) {
    case FILE_OK:
        return "ok";
    case FILE_NEWER:
        return "newer";
    case FILE_OLD:
        return "OLD";
    case FILE_MISSING:
        return "MISSING";
    case FILE_INVALID:
        return "INVALID";
    default:
        return "UNREADABLE";
    }
}

static void print_headline(const scan_result *r)
{
    char want[TMI_VERSION_STRLEN];
    size_t bad = 0;
    version_format(&r->expected_version, want, sizeof(want));
    for (size_t i = 0; i < r->n_files; i++)
        bad += r->files[i].status == FILE_OLD || r->files[i].status == FILE_MISSING ||
               r->files[i].status == FILE_UNREADABLE || r->files[i].status == FILE_INVALID;
    switch (r->verdict) {
    case SCAN_AFFECTED:
        printf("AFFECTED: %zu of %zu TMI files are not at %s; the TMI service will not stay "
               "running\n",
               bad, r->n_files, want);
        break;
    case SCAN_HEALTHY:
        printf("HEALTHY: all %zu TMI files are at %s or newer\n", r->n_files, want);
        break;
    default:
        printf("NOT INSTALLED: %s\n", r->repair_reason);
        break;
    }
}

static int print_human(const scan_result *r)
{
    char v[TMI_VERSION_STRLEN], hex[65];
    int any_bad = 0;
    print_headline(r);
    printf("\n%-12s %s\n", "root", r->root);
    if (r->tmi_dir != NULL)
        printf("%-12s %s (%s)\n", "TMI folder", r->tmi_dir, r->tmi_dir_origin);
    printf("%-12s %s\n", "expected", version_format(&r->expected_version, v, sizeof(v)));
    if (r->n_files > 0) {
        printf("\n%-26s %-14s %-10s %s\n", "FILE", "VERSION", "STATUS", "SHA-256");
        for (size_t i = 0; i < r->n_files; i++) {
            const scan_file *f = &r->files[i];
            any_bad |= f->known_bad;
            printf("%-26s %-14s %-10s %.16s\n", f->name,
                   f->has_version ? version_format(&f->version, v, sizeof(v)) : "-",
                   status_label(f), f->has_sha256 ? hex_encode(f->sha256, 32, hex) : "-");
            if (f->error != NULL)
                printf("%-26s   %s\n", "", f->error);
        }
        if (any_bad)
            printf("* a known-bad version: incompatible with Control Manager 6.0 SP3 or "
                   "later (not a vulnerability)\n");
    }
    if (r->n_sources > 0) {
        printf("\nsources:\n");
        for (size_t s = 0; s < r->n_sources; s++) {
            const scan_source *src = &r->sources[s];
            printf("  %s\n    %s%s%s\n", src->path, scan_source_state(src),
                   src->complete ? "" : ": ", src->complete ? "" : src->reason);
        }
    }
    if (r->verdict == SCAN_AFFECTED)
        printf("\nrepair: %s - %s\n", r->repair_possible ? "possible" : "not possible",
               r->repair_reason);
    return r->verdict == SCAN_AFFECTED ? CLI_EXIT_FINDING : CLI_EXIT_OK;
}

int cli_print_scan(const scan_result *r, int json)
{
    if (json) {
        cJSON *o = scan_to_json(r);
        int rc = o != NULL ? cli_print_json(o) : -1;
        cJSON_Delete(o);
        if (rc != 0)
            return CLI_EXIT_ERROR;
        return r->verdict == SCAN_AFFECTED ? CLI_EXIT_FINDING : CLI_EXIT_OK;
    }
    return print_human(r);
}

static void not_recorded(const char *err)
{
    cli_error("scan", "the scan was not recorded: %s (use --no-record to skip)", err);
}

/* Store the scan in the history (and its audit record). */
static int record(store *st, const scan_result *r)
{
    audit_actor actor = {NULL, "cli"};
    int rc = scans_record(st, r, &actor, NULL);
    if (rc != TMI_OK)
        not_recorded(store_errmsg(st));
    return rc;
}

static int run(cli_ctx *ctx, int argc, char **argv)
{
    const char *root = NULL, *tmi_dir = NULL, *json = NULL, *no_record = NULL, *no_cache = NULL;
    const cli_opt opts[] = {{"--root", 1, &root},
                            {"--tmi-dir", 1, &tmi_dir},
                            {"--json", 0, &json},
                            {"--no-record", 0, &no_record},
                            {"--no-cache", 0, &no_cache}};
    tmi_target t;
    scan_result *r = NULL;
    store *st = NULL;
    scan_digest_cache digests;
    scan_options so = {0, NULL};
    char err[512];
    size_t npos = 0;
    int rc;

    if (cli_parse("scan", argc, argv, opts, sizeof(opts) / sizeof(opts[0]), NULL, 0, &npos) != 0)
        return CLI_EXIT_ERROR;
    if (cli_target(ctx, "scan", root, tmi_dir, NULL, &t) != 0)
        return CLI_EXIT_ERROR;
    /* the store the scan goes into also knows the digests of the signed
     * files it has seen (sig_digests.h) */
    if (no_record == NULL && store_open(ctx->data_dir, &st, err, sizeof(err)) == TMI_OK &&
        no_cache == NULL) {
        sig_digests_cache(st, &digests);
        so.digests = &digests;
    }
    rc = scan_run_opts(&t, &so, &r);
    if (rc != TMI_OK) {
        if (tmi_dir != NULL && rc == TMI_ENOENT)
            cli_error("scan", "--tmi-dir %s: no such folder", tmi_dir);
        else
            cli_error("scan", "%s: %s", t.root, tmi_strerror(rc));
        store_close(st);
        return CLI_EXIT_ERROR;
    }
    rc = cli_print_scan(r, json != NULL);
    if (no_record != NULL) {
        /* not recorded, as asked */
    } else if (st == NULL) {
        not_recorded(err); /* the scan is shown all the same */
        rc = CLI_EXIT_ERROR;
    } else if (record(st, r) != TMI_OK) {
        rc = CLI_EXIT_ERROR;
    }
    store_close(st);
    scan_result_free(r);
    return rc;
}

const cli_command cli_cmd_scan = {"scan", "detect the fault and show the evidence", usage, run};
