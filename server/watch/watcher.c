/*
 * watcher.c - the watcher's thread (see watcher.h): the folders it watches,
 * when it scans, and what it records. The alert rules and auto-repair are in
 * watch_rules.c.
 */
#include "watcher.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "jobs.h"
#include "pathutil.h"
#include "plat.h"
#include "sig_digests.h"
#include "timefmt.h"
#include "watch_int.h"

#define MS 1000000LL

/* ---- the watched folders ---- */

static void set_add(folder_set *s, const char *p)
{
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->path[i], p) == 0)
            return;
    }
    if (s->n < PLAT_WATCH_MAX)
        snprintf(s->path[s->n++], PLAT_PATH_MAX, "%s", p);
}

/* p's parent folder into out; 0 when p has none (a root). */
static int parent_of(const char *p, char *out, size_t outlen)
{
    const char *sep = strrchr(p, PLAT_SEP);
    if (sep == NULL || sep == p || (sep == p + 2 && p[1] == ':'))
        return 0;
    snprintf(out, outlen, "%.*s", (int)(sep - p), p);
    return 1;
}

/* p and the folder above it; when p does not exist, the nearest folder
 * above it that does (no higher than the root). */
static void add_with_parent(folder_set *s, const char *root, const char *p)
{
    char cur[PLAT_PATH_MAX], up[PLAT_PATH_MAX];
    plat_stat st;
    snprintf(cur, sizeof(cur), "%s", p);
    while (plat.stat(cur, &st) != TMI_OK || !st.is_dir) {
        if (strlen(cur) <= strlen(root) || !parent_of(cur, up, sizeof(up)))
            return;
        snprintf(cur, sizeof(cur), "%s", up);
    }
    set_add(s, cur);
    if (strlen(cur) > strlen(root) && parent_of(cur, up, sizeof(up)))
        set_add(s, up);
}

static void folders_of(const watcher *w, const scan_result *r, folder_set *s)
{
    const tmi_target *t = w->cfg.target;
    char p[PLAT_PATH_MAX];
    s->n = 0;
    if (r != NULL && r->tmi_dir != NULL) {
        add_with_parent(s, t->root, r->tmi_dir);
        for (size_t i = 0; i < r->n_sources; i++)
            add_with_parent(s, t->root, r->sources[i].path);
        return;
    }
    for (size_t i = 0; i < t->pb->n_tmi_folders; i++) {
        if (path_join(p, sizeof(p), t->root, t->pb->tmi_folders[i]) == TMI_OK)
            add_with_parent(s, t->root, p);
    }
    if (s->n == 0)
        set_add(s, t->root);
}

/* Watch the folders of the latest scan; say how in the status. 1 when the
 * set changed (a change made while the watches were being set up would be
 * missed: the caller scans once more). */
static int rewatch(watcher *w, const scan_result *r)
{
    folder_set *s = calloc(1, sizeof(*s));
    int polled = 0, watched = 0;
    char why[160] = "";
    if (s == NULL)
        return 0;
    folders_of(w, r, s);
    if (w->watched != NULL && w->watched->n == s->n &&
        memcmp(w->watched->path, s->path, s->n * sizeof(s->path[0])) == 0) {
        free(s); /* the same folders: the watches stand */
        return 0;
    }
    free(w->watched);
    w->watched = s;
    if (w->pw != NULL)
        plat_watch_clear(w->pw);
    for (size_t i = 0; i < s->n; i++) {
        int rc = w->pw != NULL ? plat_watch_add(w->pw, s->path[i]) : TMI_ENOTSUP;
        if (rc == TMI_OK) {
            watched++;
        } else if (rc != TMI_ENOENT && rc != TMI_ENOTDIR) {
            polled++;
            snprintf(why, sizeof(why), "%s: %s", s->path[i], tmi_strerror(rc));
        }
    }
    plat_mutex_lock(w->mu);
    w->folders = watched + polled;
    w->mode = polled > 0 ? "poll" : "notify";
    w->ok = 1;
    if (polled > 0)
        snprintf(w->detail, sizeof(w->detail),
                 "%d folder(s) cannot give change notifications (%s); checked every %d s", polled,
                 why, WATCHER_POLL_S);
    else
        snprintf(w->detail, sizeof(w->detail), "watching %d folder(s) for changes", watched);
    plat_mutex_unlock(w->mu);
    return 1;
}

/* ---- scans ---- */

/* The latest job's id (0: none), to tell whether one started meanwhile. */
static int64_t latest_job(watcher *w)
{
    cJSON *list = NULL;
    int64_t id = 0;
    if (jobs_list_json(w->st, 0, 1, &list) == TMI_OK && cJSON_GetArraySize(list) > 0) {
        const cJSON *j = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(list, 0), "id");
        if (cJSON_IsNumber(j))
            id = (int64_t)j->valuedouble;
    }
    cJSON_Delete(list);
    return id;
}

static int job_running(watcher *w)
{
    return (w->cfg.jobs != NULL && runner_busy(w->cfg.jobs) > 0) || runner_job_locked(w->data_dir);
}

/* Scan and record it. TMI_EBUSY when a job runs (or started meanwhile): the
 * caller tries again later; nothing is recorded then. */
static int scan_now(watcher *w, scan_reason reason)
{
    audit_actor actor = {NULL, "system"};
    scan_origin origin = {reason, 0};
    scan_result *r = NULL;
    scans_rows prev = {NULL, 0};
    char prev_verdict[32] = "";
    scan_digest_cache digests;
    scan_options so = {0, &digests};
    int64_t before, id = 0;
    int rc;
    if (job_running(w))
        return TMI_EBUSY;
    before = latest_job(w);
    sig_digests_cache(w->st, &digests); /* the signed files seen before: no second pass */
    rc = scan_run_opts(w->cfg.target, &so, &r);
    if (rc != TMI_OK) {
        plat_mutex_lock(w->mu);
        w->ok = 0;
        snprintf(w->detail, sizeof(w->detail), "the scan failed: %s", tmi_strerror(rc));
        plat_mutex_unlock(w->mu);
        return rc;
    }
    if (job_running(w) || latest_job(w) != before) {
        scan_result_free(r);
        return TMI_EBUSY;
    }
    if (scans_list(w->st, 0, 1, &prev) == TMI_OK && prev.count > 0)
        snprintf(prev_verdict, sizeof(prev_verdict), "%s", prev.rows[0].verdict);
    scans_rows_free(&prev);
    rc = scans_record_from(w->st, r, &actor, &origin, &id);
    if (rc != TMI_OK) {
        fprintf(stderr, "tmi-console serve: the watcher's scan was not recorded: %s\n",
                store_errmsg(w->st));
    } else {
        plat_mutex_lock(w->mu);
        w->last_scan_id = id;
        w->last_scan_ns = r->started_ns;
        w->last_reason = reason;
        snprintf(w->last_verdict, sizeof(w->last_verdict), "%s", scan_verdict_name(r->verdict));
        snprintf(w->subject, sizeof(w->subject), "%s",
                 r->tmi_dir != NULL ? r->tmi_dir : w->cfg.target->root);
        plat_mutex_unlock(w->mu);
        rules_after_scan(w, r, id, reason, prev_verdict);
    }
    int again = rewatch(w, r) && w->watched_once;
    w->watched_once = 1;
    scan_result_free(r);
    if (again && rc == TMI_OK)
        return scan_now(w, reason);
    return rc;
}

/* ---- the thread ---- */

static int64_t min_due(int64_t a, int64_t b)
{
    return a == 0 ? b : (b == 0 || a < b ? a : b);
}

/* Milliseconds until the next thing to do (-1: none). */
static int next_wait(watcher *w, const loop_state *ls, int64_t now)
{
    int64_t due = min_due(ls->next_timer, w->next_check_ns);
    if (strcmp(w->mode, "poll") == 0)
        due = min_due(due, ls->next_poll);
    if (ls->pending_since > 0) {
        int64_t quiet = ls->pending_last + WATCHER_DEBOUNCE_MS * MS;
        int64_t latest = ls->pending_since + WATCHER_DEBOUNCE_MAX_MS * MS;
        due = min_due(due, quiet < latest ? quiet : latest);
    }
    plat_mutex_lock(w->mu);
    if (w->auto_state == AUTO_SCHEDULED)
        due = min_due(due, w->auto_due_ns);
    plat_mutex_unlock(w->mu);
    if (due == 0)
        return -1;
    return due <= now ? 0 : (int)((due - now + MS - 1) / MS);
}

/* Scan for reason now; when a job runs, keep it pending and look again in
 * a second. */
static void scan_or_retry(watcher *w, loop_state *ls, scan_reason reason, int64_t now)
{
    if (scan_now(w, reason) == TMI_EBUSY) {
        if (ls->pending_since == 0)
            ls->pending_reason = reason;
        ls->pending_since = now;
        ls->pending_last = now + (1000 - WATCHER_DEBOUNCE_MS) * MS;
    } else {
        ls->pending_since = 0;
    }
}

static void step(watcher *w, loop_state *ls, int changed)
{
    int64_t now = plat_monotonic_ns();
    if (changed) {
        if (ls->pending_since == 0) {
            ls->pending_since = now;
            ls->pending_reason = SCAN_BY_WATCH;
        }
        ls->pending_last = now;
    }
    if (ls->pending_since > 0 && (now - ls->pending_last >= WATCHER_DEBOUNCE_MS * MS ||
                                  now - ls->pending_since >= WATCHER_DEBOUNCE_MAX_MS * MS))
        scan_or_retry(w, ls, ls->pending_reason, now);
    if (ls->next_timer > 0 && now >= ls->next_timer) {
        ls->next_timer = now + (int64_t)w->cfg.interval_s * 1000 * MS;
        scan_or_retry(w, ls, SCAN_BY_TIMER, now);
    }
    if (strcmp(w->mode, "poll") == 0 && now >= ls->next_poll) {
        ls->next_poll = now + WATCHER_POLL_S * 1000 * MS;
        scan_or_retry(w, ls, SCAN_BY_WATCH, now);
    }
    rules_periodic(w, plat_now_ns());
}

static int stopping(watcher *w)
{
    int s;
    plat_mutex_lock(w->mu);
    s = w->stopping;
    plat_mutex_unlock(w->mu);
    return s;
}

static void watcher_main(void *arg)
{
    watcher *w = arg;
    loop_state *ls = &w->loop;
    while (!stopping(w)) {
        int timeout = next_wait(w, ls, plat_monotonic_ns());
        int rc = w->pw != NULL ? plat_watch_wait(w->pw, timeout) : 0;
        if (w->pw == NULL && timeout != 0)
            plat_sleep_ms(timeout < 0 || timeout > 1000 ? 1000 : (unsigned)timeout);
        if (stopping(w))
            break;
        step(w, ls, rc > 0);
    }
    store_close(w->st);
    w->st = NULL;
}

/* ---- start, stop, status ---- */

int watcher_start(const watcher_config *cfg, watcher **out, char *err, size_t errlen)
{
    watcher *w;
    int rc;
    *out = NULL;
    if (cfg->data_dir == NULL || cfg->target == NULL || strlen(cfg->data_dir) >= PLAT_PATH_MAX) {
        snprintf(err, errlen, "bad watcher configuration");
        return TMI_EINVAL;
    }
    w = calloc(1, sizeof(*w));
    if (w == NULL || plat_mutex_new(&w->mu) != TMI_OK) {
        free(w);
        snprintf(err, errlen, "out of memory");
        return TMI_ENOMEM;
    }
    w->cfg = *cfg;
    snprintf(w->data_dir, sizeof(w->data_dir), "%s", cfg->data_dir);
    w->cfg.data_dir = w->data_dir;
    snprintf(w->subject, sizeof(w->subject), "%s", cfg->target->root);
    w->mode = "notify";
    w->ok = 1;
    snprintf(w->detail, sizeof(w->detail), "starting");
    rc = plat_watch_new(&w->pw);
    if (rc != TMI_OK) {
        w->pw = NULL;
        w->mode = "poll";
        snprintf(w->detail, sizeof(w->detail),
                 "no change notifications here (%s); checked every %d s", tmi_strerror(rc),
                 WATCHER_POLL_S);
    }
    rc = store_open_ex(w->data_dir, STORE_OPEN_EXISTING | STORE_OPEN_NO_CHECK, &w->st, err, errlen);
    if (rc == TMI_OK) {
        /* the start's scan, before the server answers: the first page a
         * browser loads has it */
        int64_t now = plat_monotonic_ns();
        w->last_job_seen = latest_job(w);
        w->loop.next_poll = now + WATCHER_POLL_S * 1000 * MS;
        if (cfg->interval_s > 0)
            w->loop.next_timer = now + (int64_t)cfg->interval_s * 1000 * MS;
        scan_or_retry(w, &w->loop, SCAN_BY_START, now);
        if (w->loop.pending_since > 0)
            w->loop.pending_reason = SCAN_BY_START;
        rc = plat_thread_spawn(watcher_main, w, &w->thread);
        if (rc != TMI_OK)
            snprintf(err, errlen, "cannot start the watcher: %s", tmi_strerror(rc));
    }
    if (rc != TMI_OK) {
        store_close(w->st);
        free(w->watched);
        plat_watch_free(w->pw);
        plat_mutex_free(w->mu);
        free(w);
        return rc;
    }
    *out = w;
    return TMI_OK;
}

void watcher_stop(watcher *w)
{
    if (w == NULL)
        return;
    plat_mutex_lock(w->mu);
    w->stopping = 1;
    plat_mutex_unlock(w->mu);
    if (w->pw != NULL)
        plat_watch_wake(w->pw);
    plat_thread_join(w->thread);
    store_close(w->st);
    plat_watch_free(w->pw);
    free(w->watched);
    plat_mutex_free(w->mu);
    free(w);
}

static const char *auto_state_name(auto_state s)
{
    static const char *const names[] = {"idle", "scheduled", "running", "done", "held"};
    return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "idle";
}

static void add_time_or_null(cJSON *o, const char *name, int64_t ns)
{
    char when[TIME_UTC_LEN];
    if (ns > 0)
        cJSON_AddStringToObject(o, name, time_format_utc(ns, when, sizeof(when)));
    else
        cJSON_AddNullToObject(o, name);
}

cJSON *watcher_status_json(watcher *w)
{
    cJSON *o = cJSON_CreateObject(), *last, *ar;
    if (o == NULL)
        return NULL;
    plat_mutex_lock(w->mu);
    cJSON_AddStringToObject(o, "mode", w->cfg.interval_s == 0 && w->pw == NULL ? "off" : w->mode);
    cJSON_AddBoolToObject(o, "ok", w->ok);
    cJSON_AddStringToObject(o, "detail", w->detail);
    cJSON_AddNumberToObject(o, "folders", w->folders);
    cJSON_AddNumberToObject(o, "interval_s", w->cfg.interval_s);
    if (w->last_scan_id > 0) {
        last = cJSON_AddObjectToObject(o, "last_scan");
        cJSON_AddNumberToObject(last, "id", (double)w->last_scan_id);
        add_time_or_null(last, "time", w->last_scan_ns);
        cJSON_AddStringToObject(last, "reason", scan_reason_name(w->last_reason));
        cJSON_AddStringToObject(last, "verdict", w->last_verdict);
    } else {
        cJSON_AddNullToObject(o, "last_scan");
    }
    ar = cJSON_AddObjectToObject(o, "auto_repair");
    cJSON_AddBoolToObject(ar, "enabled", w->cfg.auto_repair_s > 0);
    cJSON_AddNumberToObject(ar, "delay_s", w->cfg.auto_repair_s);
    cJSON_AddStringToObject(ar, "state", auto_state_name(w->auto_state));
    add_time_or_null(ar, "due", w->auto_state == AUTO_SCHEDULED ? w->auto_due_wall_ns : 0);
    if (w->auto_job > 0)
        cJSON_AddNumberToObject(ar, "job", (double)w->auto_job);
    else
        cJSON_AddNullToObject(ar, "job");
    cJSON_AddStringToObject(ar, "detail", w->auto_detail);
    plat_mutex_unlock(w->mu);
    return o;
}
