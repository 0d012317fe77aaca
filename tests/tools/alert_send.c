/*
 * alert_send.c - `alert-send`, a driver of the alert outputs
 * (server/alerts/alerts.h) for the integration test and the benchmark: it
 * starts the outputs its options name, then runs one JSON command per line
 * of stdin and answers each with one JSON line on stdout. The outputs'
 * reports go to stderr as in the server ("tmi-console: alerts: ...").
 *
 *   alert-send [--syslog URL] [--file PATH] [--event-log] [--event-log-scope DIR]
 *              [--hostname NAME] [--facility N] [--queue N] [--retry-min-ms N]
 *              [--retry-max-ms N] [--send-timeout-ms N] [--flush-ms N]
 *
 * Commands:
 *   {"cmd":"send","alert":{ALERT}}          -> {"rc":0}      (alert_outputs_send)
 *   {"cmd":"status"}                        -> the status JSON
 *   {"cmd":"wait","output":"syslog","handled":N,"timeout_ms":T}
 *                                           -> that output's status once sent +
 *                                              dropped >= N (or T passed)
 *   {"cmd":"bench","n":N,"alert":{ALERT}}   -> {"n":N,"median_ns":..,"p99_ns":..,
 *                                              "max_ns":..,"rc_errors":..} (the time
 *                                              of each alert_outputs_send)
 *   {"cmd":"quit"} (or the end of stdin)    -> {"free_ms":..} after alert_outputs_free
 * ALERT has the keys of struct alert ("kind", "severity", "time" as ns or
 * omitted for now, "message", "verdict", "tmi_dir", "file", "old_version",
 * "new_version", "old_sha256", "new_sha256", "job", "changed_by",
 * "audit_seq"). Exit status 0, or 2 for bad options or a bad command.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "alerts.h"
#include "err.h"
#include "plat.h"

#define LINE_MAX_BYTES (1 << 20)

static int usage(void)
{
    fprintf(stderr, "usage: alert-send [--syslog URL] [--file PATH] [--event-log] "
                    "[--event-log-scope DIR] [--hostname NAME] [--facility N] [--queue N] "
                    "[--retry-min-ms N] [--retry-max-ms N] [--send-timeout-ms N] "
                    "[--flush-ms N]\n");
    return 2;
}

static int number(const char *s, unsigned long *out)
{
    char *end = NULL;
    if (s == NULL || s[0] < '0' || s[0] > '9')
        return -1;
    *out = strtoul(s, &end, 10);
    return *end == '\0' ? 0 : -1;
}

static int parse_args(int argc, char **argv, alert_outputs_config *cfg)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        unsigned long n = 0;
        if (strcmp(a, "--event-log") == 0) {
            cfg->event_log = 1;
            continue;
        }
        if (v == NULL)
            return -1;
        i++;
        if (strcmp(a, "--syslog") == 0)
            cfg->syslog_url = v;
        else if (strcmp(a, "--file") == 0)
            cfg->file_path = v;
        else if (strcmp(a, "--event-log-scope") == 0)
            cfg->event_log_scope = v;
        else if (strcmp(a, "--hostname") == 0)
            cfg->hostname = v;
        else if (number(v, &n) != 0)
            return -1;
        else if (strcmp(a, "--facility") == 0)
            cfg->syslog_facility = (int)n;
        else if (strcmp(a, "--queue") == 0)
            cfg->queue_max = n;
        else if (strcmp(a, "--retry-min-ms") == 0)
            cfg->retry_min_ms = (unsigned)n;
        else if (strcmp(a, "--retry-max-ms") == 0)
            cfg->retry_max_ms = (unsigned)n;
        else if (strcmp(a, "--send-timeout-ms") == 0)
            cfg->send_timeout_ms = (unsigned)n;
        else if (strcmp(a, "--flush-ms") == 0)
            cfg->flush_ms = (unsigned)n;
        else
            return -1;
    }
    return 0;
}

static const char *text(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItem(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int64_t num(const cJSON *o, const char *key, int64_t def)
{
    const cJSON *v = cJSON_GetObjectItem(o, key);
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : def;
}

/* The alert described by j (its strings stay in j). */
static alert alert_of(const cJSON *j)
{
    alert a;
    memset(&a, 0, sizeof(a));
    a.kind = text(j, "kind");
    a.severity = (int)num(j, "severity", 4);
    a.time_ns = num(j, "time", plat_now_ns());
    a.message = text(j, "message");
    a.verdict = text(j, "verdict");
    a.tmi_dir = text(j, "tmi_dir");
    a.file = text(j, "file");
    a.old_version = text(j, "old_version");
    a.new_version = text(j, "new_version");
    a.old_sha256 = text(j, "old_sha256");
    a.new_sha256 = text(j, "new_sha256");
    a.job = num(j, "job", 0);
    a.changed_by = text(j, "changed_by");
    a.audit_seq = num(j, "audit_seq", 0);
    return a;
}

static void print_json(cJSON *o)
{
    char *s = o != NULL ? cJSON_PrintUnformatted(o) : NULL;
    printf("%s\n", s != NULL ? s : "null");
    fflush(stdout);
    free(s);
    cJSON_Delete(o);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void bench(alert_outputs *o, const cJSON *cmd)
{
    alert a = alert_of(cJSON_GetObjectItem(cmd, "alert"));
    int64_t n = num(cmd, "n", 1000), errors = 0, *t;
    cJSON *r = cJSON_CreateObject();
    if (n < 1 || n > 10000000 || (t = malloc((size_t)n * sizeof(*t))) == NULL) {
        print_json(NULL);
        return;
    }
    for (int64_t i = 0; i < n; i++) {
        int64_t t0 = plat_monotonic_ns();
        errors += alert_outputs_send(o, &a) != TMI_OK;
        t[i] = plat_monotonic_ns() - t0;
    }
    qsort(t, (size_t)n, sizeof(*t), cmp_i64);
    cJSON_AddNumberToObject(r, "n", (double)n);
    cJSON_AddNumberToObject(r, "median_ns", (double)t[n / 2]);
    cJSON_AddNumberToObject(r, "p99_ns", (double)t[n * 99 / 100]);
    cJSON_AddNumberToObject(r, "max_ns", (double)t[n - 1]);
    cJSON_AddNumberToObject(r, "rc_errors", (double)errors);
    free(t);
    print_json(r);
}

static void wait_output(alert_outputs *o, const cJSON *cmd)
{
    static const char *const names[ALERT_OUT_COUNT] = {"syslog", "file", "event_log"};
    const char *name = text(cmd, "output");
    int64_t want = num(cmd, "handled", 1);
    int64_t end = plat_monotonic_ns() + num(cmd, "timeout_ms", 10000) * 1000000;
    alert_outputs_status st;
    cJSON *all;
    int i = 0;
    while (i < ALERT_OUT_COUNT && (name == NULL || strcmp(name, names[i]) != 0))
        i++;
    if (i == ALERT_OUT_COUNT) {
        print_json(NULL);
        return;
    }
    do {
        alert_outputs_status_get(o, &st);
        if ((int64_t)(st.out[i].sent + st.out[i].dropped) >= want)
            break;
        plat_sleep_ms(5);
    } while (plat_monotonic_ns() < end);
    all = alert_outputs_status_json(o);
    print_json(cJSON_DetachItemFromObject(all, names[i]));
    cJSON_Delete(all);
}

/* One command; 1 to quit, -1 for a bad command. */
static int run_command(alert_outputs *o, const char *line)
{
    cJSON *cmd = cJSON_Parse(line), *r;
    const char *c = text(cmd, "cmd");
    int rc = 0;
    if (c == NULL) {
        rc = -1;
    } else if (strcmp(c, "send") == 0) {
        alert a = alert_of(cJSON_GetObjectItem(cmd, "alert"));
        r = cJSON_CreateObject();
        cJSON_AddNumberToObject(r, "rc", alert_outputs_send(o, &a));
        print_json(r);
    } else if (strcmp(c, "status") == 0) {
        print_json(alert_outputs_status_json(o));
    } else if (strcmp(c, "wait") == 0) {
        wait_output(o, cmd);
    } else if (strcmp(c, "bench") == 0) {
        bench(o, cmd);
    } else if (strcmp(c, "quit") == 0) {
        rc = 1;
    } else {
        rc = -1;
    }
    cJSON_Delete(cmd);
    return rc;
}

int main(int argc, char **argv)
{
    alert_outputs_config cfg;
    alert_outputs *o = NULL;
    char err[512], *line = malloc(LINE_MAX_BYTES);
    int rc = 0;
    int64_t t0;
    cJSON *r;
    alert_outputs_config_init(&cfg);
    if (line == NULL || parse_args(argc, argv, &cfg) != 0)
        return usage();
    if (alert_outputs_new(&cfg, &o, err, sizeof(err)) != TMI_OK) {
        fprintf(stderr, "alert-send: %s\n", err);
        return 2;
    }
    while (rc == 0 && fgets(line, LINE_MAX_BYTES, stdin) != NULL)
        rc = run_command(o, line);
    t0 = plat_monotonic_ns();
    alert_outputs_free(o);
    r = cJSON_CreateObject();
    cJSON_AddNumberToObject(r, "free_ms", (double)(plat_monotonic_ns() - t0) / 1e6);
    print_json(r);
    free(line);
    if (rc < 0)
        fprintf(stderr, "alert-send: bad command\n");
    return rc < 0 ? 2 : 0;
}
