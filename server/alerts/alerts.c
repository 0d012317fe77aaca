/*
 * alerts.c - the alert outputs (alerts.h): checking alerts and the
 * configuration, formatting each alert once per output on the caller's
 * thread, the file and event-log threads, status and shutdown. The syslog
 * thread is in alert_syslog.c; the queues and reports in alert_output.c.
 */
#include "alerts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_format.h"
#include "alert_output.h"
#include "alert_syslog.h"
#include "err.h"
#include "plat.h"
#include "strutil.h"
#include "timefmt.h"

/* How long alert_outputs_free waits past the flush deadline for a thread
 * in a system call that cannot be cut (at least the connect timeout),
 * before leaving it behind. */
#define STOP_GRACE_MS 1000

struct alert_outputs {
    alert_output out[ALERT_OUT_COUNT];
    alert_syslog_origin origin;
    char hostname[256];
    char app_name[49];
    char *file_path;
    char *scope; /* the event log's (POSIX sandbox), or NULL */
    unsigned flush_ms, grace_ms;
};

/* ---- kinds and checks ---- */

static const struct {
    const char *kind;
    unsigned event_id;
} kinds[] = {
    {"verdict_change", ALERT_EVENT_VERDICT_CHANGE}, {"outside_change", ALERT_EVENT_OUTSIDE_CHANGE},
    {"job_failed", ALERT_EVENT_JOB_FAILED},         {"service_down", ALERT_EVENT_SERVICE_DOWN},
    {"chain_broken", ALERT_EVENT_CHAIN_BROKEN},
};

unsigned alert_kind_event_id(const char *kind)
{
    for (size_t i = 0; kind != NULL && i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (strcmp(kinds[i].kind, kind) == 0)
            return kinds[i].event_id;
    return 0;
}

/* NULL, or 1..32 of [A-Za-z0-9._+-]. */
static int token_ok(const char *s)
{
    size_t n;
    if (s == NULL)
        return 1;
    n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-");
    return n >= 1 && n <= 32 && s[n] == '\0';
}

/* NULL, or 64 hex digits. */
static int sha_ok(const char *s)
{
    return s == NULL || (strspn(s, "0123456789abcdefABCDEF") == 64 && s[64] == '\0');
}

int alert_validate(const alert *a, char *err, size_t errlen)
{
    const char *why = NULL;
    char buf[96];
    if (a == NULL)
        why = "no alert";
    else if (alert_kind_event_id(a->kind) == 0)
        why = "kind is not one of the known kinds";
    else if (a->severity < 0 || a->severity > 7)
        why = "severity is not 0..7";
    else if (a->time_ns < 0)
        why = "time is negative";
    else if (a->message == NULL)
        why = "no message";
    else if (!token_ok(a->verdict) || !token_ok(a->changed_by))
        why = "verdict or changed_by is not a token of 1..32 letters, digits, '.', '_', '+', '-'";
    else if (!token_ok(a->old_version) || !token_ok(a->new_version))
        why = "a version is not a token of 1..32 letters, digits, '.', '_', '+', '-'";
    else if (!sha_ok(a->old_sha256) || !sha_ok(a->new_sha256))
        why = "a SHA-256 is not 64 hex digits";
    else if (a->job < 0 || a->audit_seq < 0)
        why = "job or audit_seq is negative";
    if (why == NULL)
        return TMI_OK;
    if (a != NULL && a->kind != NULL && alert_kind_event_id(a->kind) == 0) {
        snprintf(buf, sizeof(buf), "kind '%.40s' is not known", a->kind);
        why = buf;
    }
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "%s", why);
    return TMI_EINVAL;
}

/* ---- configuration ---- */

void alert_outputs_config_init(alert_outputs_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->syslog_facility = 3;
    cfg->app_name = ALERT_EVENT_SOURCE;
    cfg->queue_max = 256;
    cfg->retry_min_ms = 250;
    cfg->retry_max_ms = 30000;
    cfg->connect_timeout_ms = 3000;
    cfg->send_timeout_ms = 5000;
    cfg->flush_ms = 2000;
}

/* 1..max characters in '!'..'~' (RFC 5424 PRINTUSASCII). */
static int printable(const char *s, size_t max)
{
    size_t n = 0;
    for (; s[n] != '\0'; n++)
        if (n >= max || s[n] < '!' || s[n] > '~')
            return 0;
    return n >= 1;
}

static int check_config(const alert_outputs_config *cfg, char *err, size_t errlen)
{
    const char *why = NULL;
    if (cfg->syslog_facility < 0 || cfg->syslog_facility > 23)
        why = "the syslog facility must be 0..23";
    else if (cfg->app_name == NULL || !printable(cfg->app_name, 48) ||
             strspn(cfg->app_name,
                    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
                 strlen(cfg->app_name))
        why = "the app name must be 1..48 letters, digits, '.', '_' or '-'";
    else if (cfg->hostname != NULL && !printable(cfg->hostname, 255))
        why = "the host name must be 1..255 printable ASCII characters";
    else if (cfg->queue_max < 1 || cfg->queue_max > 65536)
        why = "the queue size must be 1..65536";
    else if (cfg->retry_min_ms < 1 || cfg->retry_max_ms < cfg->retry_min_ms)
        why = "the retry times must be >= 1 ms, the longest >= the first";
    else if (cfg->connect_timeout_ms < 1 || cfg->send_timeout_ms < 1)
        why = "the timeouts must be >= 1 ms";
    else if (cfg->event_log && PLAT_EVENT_LOG_SANDBOX && cfg->event_log_scope == NULL)
        why = "the event log output needs the sandbox's folder on this system";
    else if (cfg->file_path != NULL &&
             (cfg->file_path[0] == '\0' || strlen(cfg->file_path) >= PLAT_PATH_MAX))
        why = "the alert file's path is empty or too long";
    if (why == NULL)
        return TMI_OK;
    snprintf(err, errlen, "%s", why);
    return TMI_EINVAL;
}

/* The default report: one line on stderr. */
static void report_stderr(void *arg, const char *line)
{
    (void)arg;
    fprintf(stderr, "tmi-console: alerts: %s\n", line);
    fflush(stderr);
}

/* ---- the file and event-log threads ---- */

static int deliver_file(alert_outputs *os, const char *data, size_t len, char *err, size_t errlen)
{
    int rc = plat_append_record(os->file_path, data, len);
    if (rc == TMI_ELINK)
        snprintf(err, errlen, "%s is a link, which is never followed", os->file_path);
    else if (rc == TMI_EINVAL)
        snprintf(err, errlen, "%s is not a regular file", os->file_path);
    else if (rc != TMI_OK)
        snprintf(err, errlen, "cannot write to %s: %s", os->file_path, tmi_strerror(rc));
    return rc;
}

static int deliver_event(alert_outputs *os, const alert_entry *e, char *err, size_t errlen)
{
    const char *strings[ALERT_EVENT_STRINGS];
    const char *p = e->data, *end = e->data + e->len;
    int rc;
    for (size_t i = 0; i < ALERT_EVENT_STRINGS; i++) {
        strings[i] = p < end ? p : "";
        p += p < end ? strlen(p) + 1 : 0;
    }
    rc = plat_event_report(os->scope, os->app_name, e->event_id, e->level, strings,
                           ALERT_EVENT_STRINGS);
    if (rc != TMI_OK)
        snprintf(err, errlen, "cannot write to the event log: %s", tmi_strerror(rc));
    return rc;
}

typedef struct worker_arg {
    alert_outputs *os;
    alert_output *o;
} worker_arg;

static void generic_main(void *arg)
{
    alert_outputs *os = ((worker_arg *)arg)->os;
    alert_output *o = ((worker_arg *)arg)->o;
    char err[ALERT_ERROR_MAX];
    int stopping = 0;
    free(arg);
    /* the file is created (and checked) at once, so that a path that cannot
     * be written is reported at start, not at the first alert */
    if (o->kind == ALERT_OUT_FILE) {
        if (deliver_file(os, NULL, 0, err, sizeof(err)) == TMI_OK)
            output_connected(o);
        else
            output_failed(o, err, 0);
    }
    for (;;) {
        alert_entry *e = output_next(o, 1, &stopping, NULL);
        output_flush_reports(o);
        if (e == NULL) {
            if (stopping)
                break;
            continue;
        }
        if ((o->kind == ALERT_OUT_FILE ? deliver_file(os, e->data, e->len, err, sizeof(err))
                                       : deliver_event(os, e, err, sizeof(err))) == TMI_OK)
            output_delivered(o, 1);
        else
            output_failed(o, err, 1);
    }
    output_finish(o);
}

static int start_generic(alert_outputs *os, alert_output *o)
{
    worker_arg *w = malloc(sizeof(*w));
    int rc;
    if (w == NULL)
        return TMI_ENOMEM;
    w->os = os;
    w->o = o;
    rc = plat_thread_spawn(generic_main, w, &o->thread);
    if (rc != TMI_OK)
        free(w);
    return rc;
}

/* ---- the outputs ---- */

static const char *const output_names[ALERT_OUT_COUNT] = {"syslog", "file", "event_log"};

/* The names and origin fields every message carries. */
static void set_origin(alert_outputs *os, const alert_outputs_config *cfg)
{
    snprintf(os->app_name, sizeof(os->app_name), "%s", cfg->app_name);
    if (cfg->hostname != NULL)
        snprintf(os->hostname, sizeof(os->hostname), "%s", cfg->hostname);
    else if (plat_host_name(os->hostname, sizeof(os->hostname)) != TMI_OK ||
             !printable(os->hostname, 255))
        snprintf(os->hostname, sizeof(os->hostname), "-"); /* RFC 5424 NILVALUE */
    os->origin.facility = cfg->syslog_facility;
    os->origin.hostname = os->hostname;
    os->origin.app_name = os->app_name;
    os->origin.procid = plat_pid();
}

static int start_outputs(alert_outputs *os, const alert_outputs_config *cfg,
                         const alert_syslog_url *url)
{
    void (*report)(void *, const char *) = cfg->report != NULL ? cfg->report : report_stderr;
    char target[ALERT_TARGET_MAX];
    int rc = TMI_OK;
    if (cfg->syslog_url != NULL) {
        snprintf(target, sizeof(target), "syslog %s://%s:%d",
                 url->proto == ALERT_PROTO_TCP ? "tcp" : "udp", url->host, url->port);
        rc = output_init(&os->out[ALERT_OUT_SYSLOG], ALERT_OUT_SYSLOG, target, cfg->queue_max,
                         report, cfg->report_arg);
        if (rc == TMI_OK)
            rc = alert_syslog_start(&os->out[ALERT_OUT_SYSLOG], url, cfg);
    }
    if (rc == TMI_OK && cfg->file_path != NULL) {
        snprintf(target, sizeof(target), "alert file %s", cfg->file_path);
        rc = output_init(&os->out[ALERT_OUT_FILE], ALERT_OUT_FILE, target, cfg->queue_max, report,
                         cfg->report_arg);
        if (rc == TMI_OK)
            rc = start_generic(os, &os->out[ALERT_OUT_FILE]);
    }
    if (rc == TMI_OK && cfg->event_log) {
        if (PLAT_EVENT_LOG_SANDBOX)
            snprintf(target, sizeof(target), "event log of the sandbox %s", os->scope);
        else
            snprintf(target, sizeof(target), "Application log");
        rc = output_init(&os->out[ALERT_OUT_EVENT_LOG], ALERT_OUT_EVENT_LOG, target, cfg->queue_max,
                         report, cfg->report_arg);
        if (rc == TMI_OK)
            rc = start_generic(os, &os->out[ALERT_OUT_EVENT_LOG]);
    }
    return rc;
}

int alert_outputs_new(const alert_outputs_config *cfg, alert_outputs **out, char *err,
                      size_t errlen)
{
    alert_syslog_url url;
    alert_outputs *os;
    int rc;
    *out = NULL;
    if (check_config(cfg, err, errlen) != TMI_OK)
        return TMI_EINVAL;
    if (cfg->syslog_url != NULL) {
        char why[256];
        if (alert_syslog_url_parse(cfg->syslog_url, &url, why, sizeof(why)) != TMI_OK) {
            snprintf(err, errlen, "syslog URL: %s", why);
            return TMI_EINVAL;
        }
    }
    os = calloc(1, sizeof(*os));
    if (os == NULL)
        return TMI_ENOMEM;
    os->flush_ms = cfg->flush_ms;
    os->grace_ms =
        cfg->connect_timeout_ms > STOP_GRACE_MS ? cfg->connect_timeout_ms : STOP_GRACE_MS;
    set_origin(os, cfg);
    if ((cfg->file_path != NULL && (os->file_path = str_dup(cfg->file_path)) == NULL) ||
        (cfg->event_log_scope != NULL && (os->scope = str_dup(cfg->event_log_scope)) == NULL)) {
        alert_outputs_free(os);
        return TMI_ENOMEM;
    }
    rc = start_outputs(os, cfg, &url);
    if (rc != TMI_OK) {
        snprintf(err, errlen, "cannot start the alert outputs: %s", tmi_strerror(rc));
        alert_outputs_free(os);
        return rc;
    }
    *out = os;
    return TMI_OK;
}

static int event_level(int severity)
{
    return severity <= 3 ? 2 : severity == 4 ? 3 : 4;
}

/* Queue a copy of data[0..len) for o; NULL data (out of memory while
 * formatting) is counted as a drop. */
static int push_copy(alert_output *o, const void *data, size_t len, const alert *a)
{
    alert_entry *e = data != NULL && len > 0 ? alert_entry_new(data, len) : NULL;
    if (e == NULL) {
        output_failed(o, "out of memory while queueing an alert", 0);
        plat_mutex_lock(o->mu);
        o->dropped++;
        plat_mutex_unlock(o->mu);
        return TMI_ENOMEM;
    }
    e->event_id = alert_kind_event_id(a->kind);
    e->level = event_level(a->severity);
    output_push(o, e);
    return TMI_OK;
}

int alert_outputs_send(alert_outputs *os, const alert *a)
{
    const char *strings[ALERT_EVENT_STRINGS];
    char *buf = NULL, *line = NULL;
    size_t len = 0;
    int rc = TMI_OK, r;
    if (os == NULL)
        return TMI_OK;
    if (alert_validate(a, NULL, 0) != TMI_OK)
        return TMI_EINVAL;
    if (os->out[ALERT_OUT_SYSLOG].configured || os->out[ALERT_OUT_EVENT_LOG].configured)
        buf = malloc(ALERT_EVENT_BUF_MAX);
    if (os->out[ALERT_OUT_SYSLOG].configured) {
        if (buf != NULL)
            len = alert_syslog_format(a, &os->origin, buf,
                                      alert_syslog_max(&os->out[ALERT_OUT_SYSLOG]));
        r = push_copy(&os->out[ALERT_OUT_SYSLOG], buf, len, a);
        rc = rc == TMI_OK ? r : rc;
    }
    if (os->out[ALERT_OUT_FILE].configured) {
        line = alert_json_line(a, os->hostname, os->app_name, &len);
        r = push_copy(&os->out[ALERT_OUT_FILE], line, line != NULL ? len : 0, a);
        rc = rc == TMI_OK ? r : rc;
    }
    if (os->out[ALERT_OUT_EVENT_LOG].configured) {
        len = buf != NULL ? alert_event_strings(a, buf, ALERT_EVENT_BUF_MAX, strings) : 0;
        r = push_copy(&os->out[ALERT_OUT_EVENT_LOG], buf, len, a);
        rc = rc == TMI_OK ? r : rc;
    }
    free(line);
    free(buf);
    return rc;
}

void alert_outputs_status_get(alert_outputs *os, alert_outputs_status *st)
{
    for (int i = 0; i < ALERT_OUT_COUNT; i++) {
        if (os == NULL)
            memset(&st->out[i], 0, sizeof(st->out[i]));
        else
            output_status(&os->out[i], &st->out[i]);
    }
}

static cJSON *time_or_null(int64_t ns)
{
    char ts[TIME_UTC_LEN];
    return ns > 0 ? cJSON_CreateString(time_format_utc(ns, ts, sizeof(ts))) : cJSON_CreateNull();
}

static cJSON *output_json(const alert_output_status *s)
{
    cJSON *o = cJSON_CreateObject();
    int bad = o == NULL;
    bad = bad || cJSON_AddBoolToObject(o, "configured", s->configured) == NULL;
    bad =
        bad || !cJSON_AddItemToObject(
                   o, "target", s->configured ? cJSON_CreateString(s->target) : cJSON_CreateNull());
    bad = bad || !cJSON_AddItemToObject(o, "working",
                                        s->state == ALERT_STATE_UNKNOWN
                                            ? cJSON_CreateNull()
                                            : cJSON_CreateBool(s->state == ALERT_STATE_OK));
    bad = bad || !cJSON_AddItemToObject(
                     o, "error", s->error[0] ? cJSON_CreateString(s->error) : cJSON_CreateNull());
    bad = bad || !cJSON_AddItemToObject(o, "error_time", time_or_null(s->error_ns));
    bad = bad || !cJSON_AddItemToObject(o, "last_sent", time_or_null(s->last_sent_ns));
    bad = bad || cJSON_AddNumberToObject(o, "sent", (double)s->sent) == NULL;
    bad = bad || cJSON_AddNumberToObject(o, "dropped", (double)s->dropped) == NULL;
    bad = bad || cJSON_AddNumberToObject(o, "queued", (double)s->queued) == NULL;
    if (bad) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

cJSON *alert_outputs_status_json(alert_outputs *os)
{
    alert_outputs_status *st = malloc(sizeof(*st));
    cJSON *o = st != NULL ? cJSON_CreateObject() : NULL, *item;
    if (o == NULL)
        goto out;
    alert_outputs_status_get(os, st);
    for (int i = 0; i < ALERT_OUT_COUNT; i++) {
        item = output_json(&st->out[i]);
        if (item == NULL || !cJSON_AddItemToObject(o, output_names[i], item)) {
            cJSON_Delete(item);
            cJSON_Delete(o);
            o = NULL;
            break;
        }
    }
out:
    free(st);
    return o;
}

void alert_outputs_free(alert_outputs *os)
{
    int64_t deadline, give_up;
    int waiting;
    if (os == NULL)
        return;
    deadline = plat_monotonic_ns() + (int64_t)os->flush_ms * 1000000;
    give_up = deadline + (int64_t)os->grace_ms * 1000000;
    for (int i = 0; i < ALERT_OUT_COUNT; i++)
        if (os->out[i].thread != NULL)
            output_stop(&os->out[i], deadline);
    do {
        waiting = 0;
        for (int i = 0; i < ALERT_OUT_COUNT; i++)
            waiting += os->out[i].thread != NULL && !output_done(&os->out[i]);
        if (waiting > 0)
            plat_sleep_ms(5);
    } while (waiting > 0 && plat_monotonic_ns() < give_up);
    if (waiting > 0)
        return; /* a thread is stuck in the system: leave it its memory */
    for (int i = 0; i < ALERT_OUT_COUNT; i++) {
        plat_thread_join(os->out[i].thread);
        if (i == ALERT_OUT_SYSLOG && os->out[i].impl != NULL)
            alert_syslog_release(&os->out[i]);
        if (os->out[i].mu != NULL)
            output_release(&os->out[i]);
    }
    free(os->file_path);
    free(os->scope);
    free(os);
}
