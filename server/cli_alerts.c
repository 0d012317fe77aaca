/*
 * cli_alerts.c - `tmi-console alerts`: the open alerts and the recent ones,
 * as GET /api/alerts gives them (shape: db/alert_list.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "alert_list.h"
#include "cli.h"
#include "err.h"
#include "store.h"

static const char usage_alerts[] =
    "usage: tmi-console alerts [--limit N] [--before SEQ] [--json]\n\n"
    "The alerts raised while 'serve' watches: first the open ones (a state that\n"
    "is bad now: the TMI folder affected, the service down while the files are\n"
    "good, the audit chain broken), each with the time it became so and the time\n"
    "an alert about it last went out; then the recent alerts, newest first (each\n"
    "one audit row of action 'alert': verdict changes, files changed outside\n"
    "tmi-console, failed or rolled-back jobs, the service down, a broken chain).\n\n"
    "options:\n"
    "  --limit N       recent alerts per page, 1 to 500 (default 50)\n"
    "  --before SEQ    the next page: alerts older than SEQ (printed at the end of\n"
    "                  a full page)\n"
    "  --json          print {\"open\": [...], \"recent\": {\"items\": [...],\n"
    "                  \"next_before\": SEQ or null}} (as GET /api/alerts)\n\n"
    "exit: 0 no alert open, 1 an alert is open, 2 error (no store in the data\n"
    "folder, bad option)\n";

static const char *text_of(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "-";
}

static void print_human(const cJSON *list)
{
    const cJSON *open = cJSON_GetObjectItemCaseSensitive(list, "open");
    const cJSON *recent = cJSON_GetObjectItemCaseSensitive(list, "recent");
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(recent, "items");
    const cJSON *next = cJSON_GetObjectItemCaseSensitive(recent, "next_before");
    const cJSON *a;
    printf("open alerts:%s\n", cJSON_GetArraySize(open) == 0 ? " none" : "");
    cJSON_ArrayForEach(a, open)
    {
        printf("  %-8s %-9s since %s  last sent %s  %s\n", text_of(a, "kind"), text_of(a, "state"),
               text_of(a, "since"), text_of(a, "last_sent"), text_of(a, "subject"));
    }
    printf("recent alerts:%s\n", cJSON_GetArraySize(items) == 0 ? " none" : "");
    cJSON_ArrayForEach(a, items)
    {
        const cJSON *seq = cJSON_GetObjectItemCaseSensitive(a, "seq");
        printf("  %6" PRId64 "  %s  %-14s %s\n",
               cJSON_IsNumber(seq) ? (int64_t)seq->valuedouble : 0, text_of(a, "time"),
               text_of(a, "kind"), text_of(a, "message"));
    }
    if (cJSON_IsNumber(next))
        printf("more: add --before %" PRId64 "\n", (int64_t)next->valuedouble);
}

static int run_alerts(cli_ctx *ctx, int argc, char **argv)
{
    const char *limit = NULL, *before = NULL, *json = NULL;
    const cli_opt opts[] = {{"--limit", 1, &limit}, {"--before", 1, &before}, {"--json", 0, &json}};
    size_t n = STORE_DEFAULT_LIMIT, b = 0, npos = 0;
    cJSON *list = NULL;
    store *s = NULL;
    int rc, code;

    if (cli_parse("alerts", argc, argv, opts, sizeof(opts) / sizeof(opts[0]), NULL, 0, &npos) != 0)
        return CLI_EXIT_ERROR;
    if (limit != NULL && (cli_parse_size(limit, STORE_MAX_LIMIT, &n) != 0 || n < 1)) {
        cli_error("alerts", "--limit must be a whole number from 1 to %d", STORE_MAX_LIMIT);
        return CLI_EXIT_ERROR;
    }
    if (before != NULL && (cli_parse_size(before, (size_t)INT64_MAX / 2, &b) != 0 || b < 1)) {
        cli_error("alerts", "--before must be a whole number from 1 (an alert's seq)");
        return CLI_EXIT_ERROR;
    }
    if (cli_open_store("alerts", ctx->data_dir, STORE_OPEN_EXISTING, &s) != TMI_OK)
        return CLI_EXIT_ERROR;
    rc = alert_list_json(s, (int64_t)b, n, &list);
    if (rc != TMI_OK) {
        const char *msg = store_errmsg(s);
        cli_error("alerts", "%s", msg[0] != '\0' ? msg : tmi_strerror(rc));
        store_close(s);
        return CLI_EXIT_ERROR;
    }
    store_close(s);
    code = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(list, "open")) > 0 ? CLI_EXIT_FINDING
                                                                                  : CLI_EXIT_OK;
    if (json != NULL) {
        if (cli_print_json(list) != 0)
            code = CLI_EXIT_ERROR;
    } else {
        print_human(list);
    }
    cJSON_Delete(list);
    return code;
}

const cli_command cli_cmd_alerts = {"alerts", "the open alerts and the recent ones", usage_alerts,
                                    run_alerts};
