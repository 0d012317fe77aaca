/*
 * cli_store.c - `tmi-console history`, `audit`, `audit verify` and `export`:
 * what the store recorded, for administrators, scripts and auditors.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "audit.h"
#include "audit_file.h"
#include "cli.h"
#include "err.h"
#include "export.h"
#include "plat.h"
#include "scan_json.h"
#include "scans.h"
#include "store.h"
#include "hex.h"
#include "page.h"
#include "timefmt.h"

#define N_OPTS(a) (sizeof(a) / sizeof((a)[0]))

static const char usage_history[] =
    "usage: tmi-console history [--file NAME|PATH] [--limit N] [--before ID] [--json]\n\n"
    "What the scans saw, newest first: one row each time a file's presence, size,\n"
    "modification time, SHA-256, version or status changed (scans that found\n"
    "everything as before add nothing). Files are the eight TMI files and the\n"
    "files of every backup folder examined, each keyed by its full path.\n\n"
    "options:\n"
    "  --file NAME|PATH  only this file: a name such as mrf.exe (every folder's\n"
    "                    copy, any letter case) or one full path\n"
    "  --limit N         rows per page, 1 to 500 (default 50)\n"
    "  --before ID       the next page: rows older than ID (printed at the end of a\n"
    "                    full page)\n"
    "  --json            print {\"items\": [...], \"next_before\": ID or null}\n\n"
    "exit: 0 success, 2 error (no store in the data folder, bad option)\n";

static const char usage_audit[] =
    "usage: tmi-console audit [--action A] [--since T] [--until T] [--limit N]\n"
    "                         [--before SEQ] [--job N] [--json]\n"
    "       tmi-console audit verify [--head SEQ:HASH] [--json]\n"
    "       tmi-console audit verify --file EXPORT.json [--head SEQ:HASH] [--json]\n"
    "       tmi-console audit reanchor\n\n"
    "The audit trail: every action (scan, backup, replace, restart, login, token\n"
    "change, settings, ...) with who did it, how they signed in, the target, the\n"
    "parameters, the outcome and the details, newest first. Rows are append-only\n"
    "and hash-chained.\n\n"
    "options:\n"
    "  --action A      only rows of this action (e.g. replace)\n"
    "  --since T       rows at or after T\n"
    "  --until T       rows before T (exclusive)\n"
    "  --limit N       rows per page, 1 to 500 (default 50)\n"
    "  --before SEQ    the next page: rows older than SEQ\n"
    "  --job N         only the rows of job N (its steps, its scans, its result)\n"
    "  --json          print {\"items\": [...], \"next_before\": SEQ or null}\n"
    "                  (as GET /api/audit; verify: as GET /api/audit/verify)\n\n"
    "T is an RFC 3339 time (2026-11-25T10:00:00Z, or with an offset such as\n"
    "+09:00) or a date (2026-11-25, meaning 00:00 UTC that day).\n\n"
    "audit verify recomputes every row's hash from seq 1 and checks the chain's\n"
    "end against the head kept in the database and in the file audit-head in the\n"
    "data folder; it prints the first broken row and why (hash mismatch: that row\n"
    "was edited, or the row before it was replaced with a recomputed hash; seq gap:\n"
    "rows deleted; missing rows at the end; anchor mismatch: the last row rewritten\n"
    "with a recomputed hash). Someone who can rewrite both the database and\n"
    "audit-head can rewrite history unseen: note the printed head elsewhere and\n"
    "check against it with\n"
    "  --head SEQ:HASH  the row SEQ must exist with this hash\n\n"
    "audit verify --file EXPORT.json checks an exported trail (the JSON export:\n"
    "the console's Audit view, GET /api/export/audit.json, or 'tmi-console export\n"
    "--what audit --format json') without a database or data folder: each row's\n"
    "hash is recomputed, each link to the row before it checked, and with --head\n"
    "the head the server printed must be a row of the file with that hash. An\n"
    "export of a time range is checked from its first row on. At most 256 MiB and\n"
    "2,000,000 rows. Exit 0 intact (and matching --head), 1 not (the first bad\n"
    "row and why are printed; a file cut short is not intact), 2 the file cannot\n"
    "be read or is not an audit export.\n\n"
    "audit reanchor: after the file audit-head was lost or damaged (verify says\n"
    "anchor missing / anchor mismatch while the rows are intact), record what was\n"
    "wrong in an audit_reanchor row and anchor the chain at its new head. The\n"
    "console never recreates a missing anchor by itself. Refused when the rows\n"
    "themselves are broken.\n\n"
    "exit: 0 success / chain intact, 1 chain broken (verify) or re-anchoring\n"
    "refused, 2 error\n";

static const char usage_export[] =
    "usage: tmi-console export --what history|audit --format csv|json\n"
    "                          [--since T] [--until T] [--out FILE]\n\n"
    "Write the whole file history or the whole audit trail, oldest first.\n"
    "CSV: RFC 4180, UTF-8, CRLF line ends, a header row; a text cell starting with\n"
    "= + - @ (or TAB, CR) gets a leading ' so that spreadsheets do not run it as a\n"
    "formula. JSON: one array of objects. Audit rows carry time_ns and both hashes,\n"
    "so the exported chain can be checked again elsewhere (layout: db/audit.h).\n\n"
    "options:\n"
    "  --what W     history or audit\n"
    "  --format F   csv or json\n"
    "  --since T    rows at or after T\n"
    "  --until T    rows before T (exclusive)\n"
    "  --out FILE   write FILE (through a temporary file, renamed when complete)\n"
    "               instead of standard output\n\n"
    "T is an RFC 3339 time (2026-11-25T10:00:00Z) or a date (2026-11-25, 00:00 UTC).\n"
    "exit: 0 success, 2 error\n";

/* ---- shared helpers ---- */

/* Parse a decimal integer in [min, max]; 0 on success, else prints an error. */
static int parse_int(const char *cmd, const char *opt, const char *text, int64_t min, int64_t max,
                     int64_t *out)
{
    int64_t v = 0;
    size_t n = text != NULL ? strlen(text) : 0;
    if (n == 0 || n > 18) {
        cli_error(cmd, "%s: expected a number from %" PRId64 " to %" PRId64, opt, min, max);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (text[i] < '0' || text[i] > '9') {
            cli_error(cmd, "%s: '%s' is not a number", opt, text);
            return -1;
        }
        v = v * 10 + (text[i] - '0');
    }
    if (v < min || v > max) {
        cli_error(cmd, "%s: %s is out of range (%" PRId64 " to %" PRId64 ")", opt, text, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_time(const char *cmd, const char *opt, const char *text, int64_t *out)
{
    char err[256];
    if (time_parse(text, out, err, sizeof(err)) != TMI_OK) {
        cli_error(cmd, "%s: %s", opt, err);
        return -1;
    }
    return 0;
}

/* --since / --until into *range; 0 or -1 (error printed). */
static int parse_range(const char *cmd, const char *since, const char *until, export_range *range)
{
    memset(range, 0, sizeof(*range));
    if (since != NULL) {
        if (parse_time(cmd, "--since", since, &range->since_ns) != 0)
            return -1;
        range->has_since = 1;
    }
    if (until != NULL) {
        if (parse_time(cmd, "--until", until, &range->until_ns) != 0)
            return -1;
        range->has_until = 1;
    }
    if (range->has_since && range->has_until && range->until_ns <= range->since_ns) {
        cli_error(cmd, "--until (%s) must be later than --since (%s)", until, since);
        return -1;
    }
    return 0;
}

/* Open the existing store of ctx; NULL (error printed) when there is none. */
static store *open_store(const char *cmd, cli_ctx *ctx)
{
    store *s = NULL;
    return cli_open_store(cmd, ctx->data_dir, STORE_OPEN_EXISTING, &s) == TMI_OK ? s : NULL;
}
static int store_error(const char *cmd, store *s, int rc)
{
    const char *msg = store_errmsg(s);
    cli_error(cmd, "%s", msg[0] != '\0' ? msg : tmi_strerror(rc));
    return CLI_EXIT_ERROR;
}

/* Print the page of rows (page.h, as the API sends it); count rows of limit
 * asked for, next the last row's cursor. Takes items. */
static int print_page(cJSON *items, size_t count, size_t limit, int64_t next)
{
    cJSON *o = page_json(items, count, limit, next);
    int rc;
    if (o == NULL) {
        cli_error(NULL, "out of memory");
        return CLI_EXIT_ERROR;
    }
    rc = cli_print_json(o);
    cJSON_Delete(o);
    return rc == 0 ? CLI_EXIT_OK : CLI_EXIT_ERROR;
}

/* ---- history ---- */

static void print_history(const scans_obs_list *l)
{
    char when[40], h[65], size[24];
    if (l->count == 0) {
        printf("no history\n");
        return;
    }
    printf("%-8s %-24s %-10s %-14s %10s  %-12s  %s\n", "ID", "TIME", "STATUS", "VERSION", "SIZE",
           "SHA-256", "PATH");
    for (size_t i = 0; i < l->count; i++) {
        const scans_obs *o = &l->rows[i];
        if (o->has_size)
            snprintf(size, sizeof(size), "%" PRIu64, o->size);
        else
            snprintf(size, sizeof(size), "-");
        if (o->has_sha256)
            hex_encode(o->sha256, 32, h);
        else
            snprintf(h, sizeof(h), "-");
        printf("%-8" PRId64 " %-24s %-10s %-14s %10s  %-12.12s  %s\n", o->id,
               time_format_utc(o->observed_ns, when, sizeof(when)), o->status ? o->status : "-",
               o->version ? o->version : "-", size, h, o->path ? o->path : "-");
    }
}

static int run_history(cli_ctx *ctx, int argc, char **argv)
{
    const char *file = NULL, *limit = NULL, *before = NULL, *json = NULL;
    const cli_opt opts[] = {{"--file", 1, &file},
                            {"--limit", 1, &limit},
                            {"--before", 1, &before},
                            {"--json", 0, &json}};
    history_query q;
    scans_obs_list l = {NULL, 0};
    int64_t n = STORE_DEFAULT_LIMIT, b = 0;
    size_t npos = 0;
    int rc, code;

    if (cli_parse("history", argc, argv, opts, N_OPTS(opts), NULL, 0, &npos) != 0)
        return CLI_EXIT_ERROR;
    if (limit != NULL && parse_int("history", "--limit", limit, 1, STORE_MAX_LIMIT, &n) != 0)
        return CLI_EXIT_ERROR;
    if (before != NULL && parse_int("history", "--before", before, 1, INT64_MAX / 2, &b) != 0)
        return CLI_EXIT_ERROR;
    if (file != NULL && file[0] == '\0') {
        cli_error("history", "--file: give a file name (mrf.exe) or a full path");
        return CLI_EXIT_ERROR;
    }
    store *s = open_store("history", ctx);
    if (s == NULL)
        return CLI_EXIT_ERROR;
    memset(&q, 0, sizeof(q));
    q.file = file;
    q.before = b;
    q.limit = (size_t)n;
    rc = scans_history(s, &q, &l);
    if (rc != TMI_OK) {
        code = store_error("history", s, rc);
        goto out;
    }
    int64_t next = l.count == (size_t)n ? l.rows[l.count - 1].id : 0;
    if (json != NULL) {
        cJSON *items = cJSON_CreateArray();
        for (size_t i = 0; items != NULL && i < l.count; i++)
            cJSON_AddItemToArray(items, scans_obs_json(&l.rows[i]));
        code = print_page(items, l.count, (size_t)n, next);
    } else {
        print_history(&l);
        if (next > 0)
            printf("more: tmi-console history%s%s --before %" PRId64 "\n",
                   file != NULL ? " --file " : "", file != NULL ? file : "", next);
        code = CLI_EXIT_OK;
    }
out:
    scans_obs_list_free(&l);
    store_close(s);
    return code;
}

/* ---- audit ---- */

static void print_audit(const audit_rows *rows)
{
    char who[300];
    if (rows->count == 0) {
        printf("no audit rows\n");
        return;
    }
    printf("%-8s %-24s %-24s %-18s %-9s %s\n", "SEQ", "TIME", "ACTOR", "ACTION", "OUTCOME",
           "TARGET");
    for (size_t i = 0; i < rows->count; i++) {
        const audit_row *r = &rows->rows[i];
        snprintf(who, sizeof(who), "%s (%s)", r->actor ? r->actor : "?", r->auth ? r->auth : "?");
        printf("%-8" PRId64 " %-24s %-24s %-18s %-9s %s\n", r->seq, r->time ? r->time : "-", who,
               r->action ? r->action : "-", r->outcome ? r->outcome : "-",
               r->target ? r->target : "-");
    }
}

static int run_verify(cli_ctx *ctx, const char *head, int json)
{
    audit_head expect;
    audit_report rep;
    char text[100];
    int rc, code;

    if (head != NULL && audit_head_parse(head, &expect) != TMI_OK) {
        cli_error("audit verify", "--head: expected SEQ:HASH (a seq and 64 hex digits, as "
                                  "printed by 'tmi-console audit verify')");
        return CLI_EXIT_ERROR;
    }
    store *s = open_store("audit verify", ctx);
    if (s == NULL)
        return CLI_EXIT_ERROR;
    rc = audit_verify(s, head != NULL ? &expect : NULL, &rep);
    if (rc != TMI_OK) {
        code = store_error("audit verify", s, rc);
        store_close(s);
        return code;
    }
    code = rep.intact ? CLI_EXIT_OK : CLI_EXIT_FINDING;
    if (json) {
        cJSON *o = audit_report_json(&rep);
        if (o == NULL || cli_print_json(o) != 0)
            code = CLI_EXIT_ERROR;
        cJSON_Delete(o);
    } else if (rep.intact) {
        printf("audit trail intact: %" PRId64 " rows\n", rep.rows);
        if (rep.rows > 0)
            printf("head: %s\n", audit_head_format(&rep.head, text, sizeof(text)));
        if (rep.unanchored > 0)
            printf("note: the last %" PRId64 " rows were committed but not yet anchored in "
                   "audit-head (interrupted?); the next action anchors them\n",
                   rep.unanchored);
        if (head != NULL)
            printf("matches the given head %.20s...\n", head);
    } else {
        printf("audit trail BROKEN at seq %" PRId64 ": %s\n", rep.broken_seq,
               audit_break_name(rep.why));
        printf("%s\n", rep.detail);
        if (rep.rows > 0 && rep.head.seq > 0)
            printf("rows 1..%" PRId64 " verified before the break\n",
                   rep.broken_seq > 1 ? rep.broken_seq - 1 : 0);
    }
    store_close(s);
    return code;
}

/* The offline check's report as `--json` prints it. */
static cJSON *file_report_json(const audit_file_report *rep, int head_given)
{
    char head[100];
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return NULL;
    cJSON_AddBoolToObject(o, "intact", rep->intact);
    cJSON_AddNumberToObject(o, "rows", (double)rep->rows);
    cJSON_AddNumberToObject(o, "first_seq", (double)rep->first_seq);
    if (rep->rows > 0)
        cJSON_AddStringToObject(o, "head", audit_head_format(&rep->head, head, sizeof(head)));
    else
        cJSON_AddNullToObject(o, "head");
    cJSON_AddStringToObject(o, "break", audit_break_name(rep->why));
    if (rep->broken_seq > 0)
        cJSON_AddNumberToObject(o, "broken_seq", (double)rep->broken_seq);
    else
        cJSON_AddNullToObject(o, "broken_seq");
    cJSON_AddStringToObject(o, "detail", rep->detail);
    if (head_given)
        cJSON_AddBoolToObject(o, "head_matched", rep->head_checked == 1);
    return o;
}

static void print_file_report(const audit_file_report *rep, const char *head)
{
    char text[100];
    if (!rep->intact) {
        printf("audit export BROKEN at seq %" PRId64 ": %s\n%s\n", rep->broken_seq,
               audit_break_name(rep->why), rep->detail);
        if (rep->rows > 0)
            printf("rows %" PRId64 "..%" PRId64 " verified before the break\n", rep->first_seq,
                   rep->head.seq);
        return;
    }
    if (rep->rows == 0) {
        printf("audit export intact: it holds no rows\n");
        return;
    }
    printf("audit export intact: %" PRId64 " rows (seq %" PRId64 "..%" PRId64 ")\n", rep->rows,
           rep->first_seq, rep->head.seq);
    printf("head: %s\n", audit_head_format(&rep->head, text, sizeof(text)));
    if (rep->first_seq > 1)
        printf("note: the export starts at row %" PRId64 "; its link to the rows before it is "
               "taken as given\n",
               rep->first_seq);
    if (head != NULL)
        printf("matches the given head %.20s...\n", head);
}

/* `audit verify --file`: an exported trail, checked without a store. */
static int run_verify_file(const char *path, const char *head, int json)
{
    audit_head expect;
    audit_file_report rep;
    uint8_t *data = NULL;
    size_t len = 0;
    int rc, code;

    if (head != NULL && audit_head_parse(head, &expect) != TMI_OK) {
        cli_error("audit verify", "--head: expected SEQ:HASH (a seq and 64 hex digits, as "
                                  "printed by 'tmi-console audit verify')");
        return CLI_EXIT_ERROR;
    }
    rc = plat.read_file(path, AUDIT_FILE_MAX_BYTES, &data, &len);
    if (rc != TMI_OK) {
        cli_error("audit verify", "cannot read %s: %s", path,
                  rc == TMI_ETOOBIG ? "larger than 256 MiB (export a time range: --since, "
                                      "--until)"
                                    : tmi_strerror(rc));
        return CLI_EXIT_ERROR;
    }
    rc = audit_file_verify((const char *)data, len, head != NULL ? &expect : NULL, 0, &rep);
    free(data);
    if (rc != TMI_OK) {
        cli_error("audit verify", "%s: %s", path, rep.detail);
        return CLI_EXIT_ERROR;
    }
    code = rep.intact ? CLI_EXIT_OK : CLI_EXIT_FINDING;
    if (json) {
        cJSON *o = file_report_json(&rep, head != NULL);
        if (o == NULL || cli_print_json(o) != 0)
            code = CLI_EXIT_ERROR;
        cJSON_Delete(o);
    } else {
        print_file_report(&rep, head);
    }
    return code;
}

static int run_reanchor(cli_ctx *ctx)
{
    audit_actor actor = {NULL, "cli"};
    audit_report before;
    char text[100];
    audit_head head;
    int rc, code = CLI_EXIT_OK;
    store *s = open_store("audit reanchor", ctx);
    if (s == NULL)
        return CLI_EXIT_ERROR;
    rc = audit_reanchor(s, &actor, &before);
    if (rc == TMI_EEXIST) {
        printf("the audit head anchor is in place and matches: nothing to do\n");
    } else if (rc == TMI_ECORRUPT) {
        cli_error("audit reanchor", "%s", store_errmsg(s));
        code = CLI_EXIT_FINDING;
    } else if (rc != TMI_OK) {
        code = store_error("audit reanchor", s, rc);
    } else {
        printf("was: %s: %s\n", audit_break_name(before.why), before.detail);
        if (audit_head_get(s, &head) == TMI_OK)
            printf("re-anchored at %s (recorded as an audit_reanchor row)\n",
                   audit_head_format(&head, text, sizeof(text)));
    }
    store_close(s);
    return code;
}

/* The options of `audit`, as given (NULL when absent). */
typedef struct audit_opts {
    const char *action, *since, *until, *limit, *before, *json, *head, *file, *job;
} audit_opts;

/* Print a page of audit rows of limit asked for: JSON (page.h) or a table. */
static int print_audit_page(const audit_rows *rows, size_t limit, int json)
{
    int64_t next = rows->count == limit ? rows->rows[rows->count - 1].seq : 0;
    if (json) {
        cJSON *items = cJSON_CreateArray();
        for (size_t i = 0; items != NULL && i < rows->count; i++)
            cJSON_AddItemToArray(items, audit_row_json(&rows->rows[i]));
        return print_page(items, rows->count, limit, next);
    }
    print_audit(rows);
    if (next > 0)
        printf("more: add --before %" PRId64 "\n", next);
    return CLI_EXIT_OK;
}

/* `audit` without a subcommand: a page of the trail. */
static int run_list(cli_ctx *ctx, const audit_opts *o)
{
    export_range range;
    audit_query q;
    audit_rows rows = {NULL, 0};
    int64_t n = STORE_DEFAULT_LIMIT, b = 0, job = 0;
    int rc, code;

    if (o->limit != NULL && parse_int("audit", "--limit", o->limit, 1, STORE_MAX_LIMIT, &n) != 0)
        return CLI_EXIT_ERROR;
    if (o->before != NULL && parse_int("audit", "--before", o->before, 1, INT64_MAX / 2, &b) != 0)
        return CLI_EXIT_ERROR;
    if (o->job != NULL && parse_int("audit", "--job", o->job, 1, INT64_C(1) << 53, &job) != 0)
        return CLI_EXIT_ERROR;
    if (parse_range("audit", o->since, o->until, &range) != 0)
        return CLI_EXIT_ERROR;
    store *s = open_store("audit", ctx);
    if (s == NULL)
        return CLI_EXIT_ERROR;
    memset(&q, 0, sizeof(q));
    q.action = o->action;
    q.has_since = range.has_since;
    q.since_ns = range.since_ns;
    q.has_until = range.has_until;
    q.until_ns = range.until_ns;
    q.before = b;
    q.job = job;
    q.limit = (size_t)n;
    rc = audit_list(s, &q, &rows);
    if (rc == TMI_OK) {
        code = print_audit_page(&rows, (size_t)n, o->json != NULL);
    } else if (rc == TMI_EINVAL && o->action != NULL) {
        cli_error("audit",
                  "--action: '%s' is not an action name (letters a-z, digits, "
                  "'_', '.', '-')",
                  o->action);
        code = CLI_EXIT_ERROR;
    } else {
        code = store_error("audit", s, rc);
    }
    audit_rows_free(&rows);
    store_close(s);
    return code;
}

static int run_audit(cli_ctx *ctx, int argc, char **argv)
{
    audit_opts o;
    memset(&o, 0, sizeof(o));
    const cli_opt opts[] = {
        {"--action", 1, &o.action}, {"--since", 1, &o.since},   {"--until", 1, &o.until},
        {"--limit", 1, &o.limit},   {"--before", 1, &o.before}, {"--json", 0, &o.json},
        {"--head", 1, &o.head},     {"--file", 1, &o.file},     {"--job", 1, &o.job}};
    char *pos[1];
    size_t npos = 0;

    if (cli_parse("audit", argc, argv, opts, N_OPTS(opts), pos, 1, &npos) != 0)
        return CLI_EXIT_ERROR;
    if (npos == 1 && strcmp(pos[0], "reanchor") == 0) {
        if (o.action || o.since || o.until || o.limit || o.before || o.head || o.json || o.file ||
            o.job) {
            cli_error("audit reanchor", "'audit reanchor' takes no options");
            return CLI_EXIT_ERROR;
        }
        return run_reanchor(ctx);
    }
    if (npos == 1) {
        if (strcmp(pos[0], "verify") != 0) {
            cli_error("audit",
                      "unknown subcommand '%s' (only 'verify' or 'reanchor'; see "
                      "'tmi-console audit --help')",
                      pos[0]);
            return CLI_EXIT_ERROR;
        }
        if (o.action || o.since || o.until || o.limit || o.before || o.job) {
            cli_error("audit verify", "only --file, --head and --json apply to 'audit verify'");
            return CLI_EXIT_ERROR;
        }
        if (o.file != NULL)
            return run_verify_file(o.file, o.head, o.json != NULL);
        return run_verify(ctx, o.head, o.json != NULL);
    }
    if (o.file != NULL) {
        cli_error("audit", "--file belongs to 'audit verify'");
        return CLI_EXIT_ERROR;
    }
    if (o.head != NULL) {
        cli_error("audit", "--head belongs to 'audit verify'");
        return CLI_EXIT_ERROR;
    }
    return run_list(ctx, &o);
}

/* ---- export ---- */

static int write_stream(void *arg, const char *buf, size_t len)
{
    FILE *f = arg;
    if (fwrite(buf, 1, len, f) != len)
        return TMI_EIO;
    return 0;
}

static int run_export(cli_ctx *ctx, int argc, char **argv)
{
    const char *what = NULL, *format = NULL, *since = NULL, *until = NULL, *out = NULL;
    const cli_opt opts[] = {{"--what", 1, &what},
                            {"--format", 1, &format},
                            {"--since", 1, &since},
                            {"--until", 1, &until},
                            {"--out", 1, &out}};
    char tmp[PLAT_PATH_MAX];
    export_format fmt;
    export_range range;
    FILE *f = NULL;
    size_t npos = 0;
    int rc, code = CLI_EXIT_ERROR, is_audit;

    if (cli_parse("export", argc, argv, opts, N_OPTS(opts), NULL, 0, &npos) != 0)
        return CLI_EXIT_ERROR;
    if (what == NULL || (strcmp(what, "history") != 0 && strcmp(what, "audit") != 0)) {
        cli_error("export", "--what history or --what audit is required");
        return CLI_EXIT_ERROR;
    }
    is_audit = strcmp(what, "audit") == 0;
    if (format == NULL || export_format_parse(format, &fmt) != TMI_OK) {
        cli_error("export", "--format csv or --format json is required");
        return CLI_EXIT_ERROR;
    }
    if (parse_range("export", since, until, &range) != 0)
        return CLI_EXIT_ERROR;
    if (out != NULL && (out[0] == '\0' || cli_temp_name(out, tmp, sizeof(tmp)) != 0)) {
        cli_error("export", "--out: invalid file name");
        return CLI_EXIT_ERROR;
    }
    store *s = open_store("export", ctx);
    if (s == NULL)
        return CLI_EXIT_ERROR;
    if (out != NULL) {
        /* exclusive: never follows or clobbers an existing file */
        if (plat_fopen_new(tmp, &f) != TMI_OK) {
            cli_error("export", "cannot create %s next to %s", tmp, out);
            goto done;
        }
    } else {
        plat_stdout_binary(); /* keep CSV's CRLF as written */
        f = stdout;
    }
    if (is_audit)
        rc = export_audit(s, fmt, &range, write_stream, f);
    else
        rc = export_history(s, fmt, &range, write_stream, f);
    if (rc == TMI_OK && fflush(f) != 0)
        rc = TMI_EIO;
    if (out != NULL) {
        if (fclose(f) != 0 && rc == TMI_OK)
            rc = TMI_EIO;
        f = NULL;
        if (rc == TMI_OK) {
            rc = plat.rename_replace(tmp, out);
            if (rc != TMI_OK) {
                cli_error("export", "cannot rename %s to %s: %s", tmp, out, tmi_strerror(rc));
                plat.remove_file(tmp);
                goto done;
            }
        } else {
            plat.remove_file(tmp);
        }
    }
    if (rc != TMI_OK) {
        store_error("export", s, rc);
        goto done;
    }
    code = CLI_EXIT_OK;
done:
    store_close(s);
    return code;
}

const cli_command cli_cmd_history = {"history", "what the scans saw, per file, when it changed",
                                     usage_history, run_history};
const cli_command cli_cmd_audit = {"audit", "the audit trail; 'audit verify' checks its chain",
                                   usage_audit, run_audit};
const cli_command cli_cmd_export = {"export", "history or audit trail as CSV or JSON", usage_export,
                                    run_export};
