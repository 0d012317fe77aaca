/* runner.c - the job runner (see runner.h). */
#include "runner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "pathutil.h"
#include "plat.h"
#include "scan_json.h"

#include "jobs.h"
#include "scans.h"
#include "timefmt.h"

#define LOCK_NAME    "job.lock"
#define CURRENT_NAME "job.current"
#define LOCK_TRIES   20 /* times 50 ms: how long a new job waits for the lock */
#define BACKUPS_NAME "backups"

struct runner {
    runner_config cfg;
    char data_dir[PLAT_PATH_MAX];
    char backup_root[PLAT_PATH_MAX];
    plat_mutex *mu; /* guards running and refusing */
    int running;    /* jobs of runner_start that have not ended */
    int refusing;   /* runner_shutdown was called */
};

struct runner_job {
    runner *r;
    char restore_id[128];
    char digest[65];
    char job_name[64];
    char user[256];
    char auth[32];
    repair_action action;
    int accept_untrusted_root;
    int64_t id;
    plat_lock *lock;
    /* while executing */
    store *st;
    runner_progress_fn progress;
    void *progress_arg;
};

void runner_config_init(runner_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->stop_timeout_ms = 30000;
    cfg->start_timeout_ms = 30000;
    cfg->stay_ms = 5000;
}

static void copy_str(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", src != NULL ? src : "");
}

/* Where audit rows of the job point: the TMI folder if given, else the root. */
static const char *audit_target(const runner *r)
{
    const char *dir = tmi_target_tmi_dir(r->cfg.target);
    return dir != NULL ? dir : r->cfg.target->root;
}

static void fill_env(const runner_job *h, repair_env *env)
{
    const runner *r = h->r;
    memset(env, 0, sizeof(*env));
    env->target = r->cfg.target;
    env->backup_root = r->backup_root;
    env->job_id = h->job_name;
    env->restore_id = h->restore_id[0] ? h->restore_id : NULL;
    env->confirmed_digest = h->digest[0] ? h->digest : NULL;
    env->stop_timeout_ms = r->cfg.stop_timeout_ms;
    env->start_timeout_ms = r->cfg.start_timeout_ms;
    env->stay_ms = r->cfg.stay_ms;
    env->accept_untrusted_root = h->accept_untrusted_root;
}

int runner_new(const runner_config *cfg, runner **out)
{
    runner *r;
    int rc;
    *out = NULL;
    if (cfg->data_dir == NULL || cfg->target == NULL || cfg->target->pb == NULL)
        return TMI_EINVAL;
    r = calloc(1, sizeof(*r));
    if (r == NULL)
        return TMI_ENOMEM;
    r->cfg = *cfg;
    rc = strlen(cfg->data_dir) < sizeof(r->data_dir) ? TMI_OK : TMI_ETOOBIG;
    if (rc == TMI_OK) {
        copy_str(r->data_dir, sizeof(r->data_dir), cfg->data_dir);
        r->cfg.data_dir = r->data_dir;
        rc = path_join(r->backup_root, sizeof(r->backup_root), r->data_dir, BACKUPS_NAME);
    }
    if (rc == TMI_OK)
        rc = plat_mutex_new(&r->mu);
    if (rc != TMI_OK) {
        free(r);
        return rc;
    }
    *out = r;
    return TMI_OK;
}

void runner_free(runner *r)
{
    if (r == NULL)
        return;
    plat_mutex_free(r->mu);
    free(r);
}

static int make_job(runner *r, runner_job **out)
{
    runner_job *h = calloc(1, sizeof(*h));
    if (h == NULL)
        return TMI_ENOMEM;
    h->r = r;
    *out = h;
    return TMI_OK;
}

/* Read DATA/job.current for the "busy" message. */
static void describe_running(const char *data_dir, char *err, size_t errlen)
{
    char path[PLAT_PATH_MAX];
    uint8_t *buf = NULL;
    size_t len = 0;
    if (path_join(path, sizeof(path), data_dir, CURRENT_NAME) == TMI_OK &&
        plat.read_file(path, 512, &buf, &len) == TMI_OK && len > 0) {
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
            buf[--len] = '\0';
        snprintf(err, errlen, "busy: %s; wait for it to finish", (char *)buf);
    } else {
        snprintf(err, errlen, "busy: another job is running; wait for it to finish");
    }
    free(buf);
}

static int take_lock(runner_job *h, char *err, size_t errlen)
{
    const char *data_dir = h->r->data_dir;
    char path[PLAT_PATH_MAX];
    int rc = plat_make_dirs(data_dir);
    if (rc == TMI_OK)
        rc = path_join(path, sizeof(path), data_dir, LOCK_NAME);
    /* a job that has just ended still holds the lock while it writes its
     * last audit row: a client that saw it end may start the next one */
    for (int i = 0; rc == TMI_OK || rc == TMI_EBUSY; i++) {
        rc = plat_lock_acquire(path, &h->lock);
        if (rc != TMI_EBUSY || i >= LOCK_TRIES)
            break;
        plat_sleep_ms(50);
    }
    if (rc == TMI_EBUSY)
        describe_running(data_dir, err, errlen);
    else if (rc != TMI_OK)
        snprintf(err, errlen, "cannot take the job lock in %s: %s", data_dir, tmi_strerror(rc));
    return rc;
}

/* ---- audit and journal hooks ---- */

static void audit_step(runner_job *h, const char *step, const char *outcome, const char *message,
                       const cJSON *details)
{
    char action[64];
    audit_actor actor = {h->user[0] ? h->user : NULL, h->auth[0] ? h->auth : "cli"};
    audit_event ev;
    cJSON *d = cJSON_CreateObject();
    char *text = NULL;
    snprintf(action, sizeof(action), "%s.%s", repair_action_name(h->action), step);
    if (d != NULL) {
        cJSON_AddNumberToObject(d, "job", (double)h->id);
        cJSON_AddStringToObject(d, "message", message != NULL ? message : "");
        if (details != NULL)
            cJSON_AddItemToObject(d, "details", cJSON_Duplicate(details, 1));
        text = cJSON_PrintUnformatted(d);
        cJSON_Delete(d);
    }
    memset(&ev, 0, sizeof(ev));
    ev.action = action;
    ev.target = audit_target(h->r);
    ev.outcome = outcome;
    ev.details = text;
    audit_append(h->st, &actor, &ev, NULL);
    free(text);
}

/* Record a scan the job made (or the one after it), attributed to the job:
 * a change it saw after it changed something is the job's. */
static void record_scan(store *st, const audit_actor *actor, int64_t job_id, const scan_result *r,
                        int changed)
{
    scan_origin origin = {changed ? SCAN_BY_JOB : SCAN_BY_JOB_CHECK, job_id};
    if (scans_record_from(st, r, actor, &origin, NULL) != TMI_OK)
        fprintf(stderr, "tmi-console: job %lld: the scan was not recorded: %s\n", (long long)job_id,
                store_errmsg(st));
}

/* After a job (or a recovery): the state it left, recorded as its own, so
 * that a later scan does not take its writes (a rollback's included) for a
 * change made outside. */
static void record_final_scan(runner *r, store *st, const audit_actor *actor, int64_t job_id)
{
    scan_result *res = NULL;
    if (scan_run(r->cfg.target, &res) == TMI_OK)
        record_scan(st, actor, job_id, res, 1);
    scan_result_free(res);
}

static void hook_scan(void *arg, const scan_result *r, int changed)
{
    runner_job *h = arg;
    audit_actor actor = {h->user[0] ? h->user : NULL, h->auth[0] ? h->auth : "cli"};
    record_scan(h->st, &actor, h->id, r, changed);
}

static int hook_begin(void *arg, const char *step, const char *what)
{
    runner_job *h = arg;
    int rc = jobs_step_begin(h->st, h->id, step, what);
    if (h->progress != NULL)
        h->progress(h->progress_arg, step, "running", what);
    return rc;
}

static void hook_end(void *arg, const char *step, const char *outcome, const char *message,
                     const cJSON *details)
{
    runner_job *h = arg;
    jobs_step_end(h->st, h->id, step, outcome, message);
    if (strcmp(step, "backup") == 0 && strcmp(outcome, "ok") == 0)
        jobs_set_backup(h->st, h->id, h->job_name);
    audit_step(h, step, outcome, message, details);
    if (h->progress != NULL)
        h->progress(h->progress_arg, step, outcome, message);
}

/* ---- recovery ---- */

static int recover_locked(runner_job *h, store *st, int *recovered)
{
    jobs_pending p;
    int rc = jobs_unfinished(st, &p);
    if (rc != TMI_OK)
        return rc;
    for (size_t i = 0; i < p.n; i++) {
        repair_env env;
        repair_result res;
        repair_hooks hooks = {NULL, NULL, NULL, NULL};
        audit_actor actor = {NULL, "system"};
        audit_event ev;
        char details[1400];
        fill_env(h, &env);
        rc = repair_recover(&env, p.backup_ids[i], &hooks, &res);
        record_final_scan(h->r, st, &actor, p.ids[i]);
        jobs_finish(st, p.ids[i], rc == TMI_OK ? "recovered" : "failed", res.message,
                    res.rolled_back);
        cJSON *d = cJSON_CreateObject();
        cJSON_AddNumberToObject(d, "job", (double)p.ids[i]);
        cJSON_AddStringToObject(d, "action", p.actions[i] ? p.actions[i] : "");
        cJSON_AddStringToObject(d, "message", res.message);
        if (p.backup_ids[i] != NULL)
            cJSON_AddStringToObject(d, "backup", p.backup_ids[i]);
        char *text = cJSON_PrintUnformatted(d);
        cJSON_Delete(d);
        snprintf(details, sizeof(details), "%s", text != NULL ? text : "{}");
        free(text);
        memset(&ev, 0, sizeof(ev));
        ev.action = "recover";
        ev.target = h->r->cfg.target->root;
        ev.outcome = rc == TMI_OK ? "ok" : "failed";
        ev.details = details;
        audit_append(st, &actor, &ev, NULL);
        if (recovered != NULL)
            (*recovered)++;
    }
    jobs_pending_free(&p);
    return TMI_OK;
}

int runner_recover_now(runner *r, int *recovered, char *err, size_t errlen)
{
    runner_job *h = NULL;
    store *st = NULL;
    int rc = make_job(r, &h);
    if (recovered != NULL)
        *recovered = 0;
    if (rc != TMI_OK)
        return rc;
    rc = take_lock(h, err, errlen);
    if (rc == TMI_OK)
        rc = store_open(r->data_dir, &st, err, errlen);
    if (rc == TMI_OK)
        rc = recover_locked(h, st, recovered);
    store_close(st);
    runner_end(h);
    return rc;
}

int runner_begin(runner *r, repair_action action, const char *restore_id,
                 const char *confirmed_digest, int accept_untrusted_root, const audit_actor *actor,
                 runner_job **out, int64_t *job_id, char *err, size_t errlen)
{
    runner_job *h = NULL;
    store *st = NULL;
    char path[PLAT_PATH_MAX], line[256], when[40];
    cJSON *params = NULL;
    char *ptext = NULL;
    int rc = make_job(r, &h);
    *out = NULL;
    if (rc != TMI_OK)
        return rc;
    h->action = action;
    h->accept_untrusted_root = accept_untrusted_root != 0;
    copy_str(h->restore_id, sizeof(h->restore_id), restore_id);
    copy_str(h->digest, sizeof(h->digest), confirmed_digest);
    if (actor != NULL) {
        copy_str(h->user, sizeof(h->user), actor->user);
        copy_str(h->auth, sizeof(h->auth), actor->auth);
    }
    rc = take_lock(h, err, errlen);
    if (rc == TMI_OK)
        rc = store_open(r->data_dir, &st, err, errlen);
    if (rc == TMI_OK) {
        rc = recover_locked(h, st, NULL);
        if (rc != TMI_OK)
            snprintf(err, errlen, "recovery of an interrupted job failed: %s", store_errmsg(st));
    }
    if (rc == TMI_OK) {
        params = cJSON_CreateObject();
        cJSON_AddStringToObject(params, "root", r->cfg.target->root);
        if (h->restore_id[0])
            cJSON_AddStringToObject(params, "backup", h->restore_id);
        if (h->digest[0])
            cJSON_AddStringToObject(params, "confirmed_plan", h->digest);
        if (h->accept_untrusted_root)
            cJSON_AddBoolToObject(params, "accept_untrusted_root", 1);
        ptext = cJSON_PrintUnformatted(params);
        cJSON_Delete(params);
        rc = jobs_create(st, repair_action_name(action), actor, ptext, &h->id);
        free(ptext);
        if (rc != TMI_OK)
            snprintf(err, errlen, "cannot create the job: %s", store_errmsg(st));
    }
    store_close(st);
    if (rc != TMI_OK) {
        runner_end(h);
        return rc;
    }
    /* backup folder names sort by time and name their job */
    time_format_utc(plat_now_ns(), when, sizeof(when));
    for (char *p = when; *p; p++) {
        if (*p == ':' || *p == '.')
            *p = '-';
    }
    snprintf(h->job_name, sizeof(h->job_name), "%s-job%lld", when, (long long)h->id);
    snprintf(line, sizeof(line), "job %lld (%s) is running, started by pid %ld\n", (long long)h->id,
             repair_action_name(action), plat_pid());
    if (path_join(path, sizeof(path), r->data_dir, CURRENT_NAME) == TMI_OK)
        plat.write_file(path, line, strlen(line));
    *job_id = h->id;
    *out = h;
    return TMI_OK;
}

const char *runner_status(const repair_result *res)
{
    if (res->rc != TMI_OK)
        return "failed";
    return res->service_down ? "succeeded_service_down" : "succeeded";
}

/* The job's summary in one line and in parts (jobs.h, "summary"). */
static cJSON *summary_json(const runner_job *h, const repair_result *res)
{
    char text[512];
    const char *backup = res->backup_id[0] ? res->backup_id : NULL;
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return NULL;
    if (res->rc == TMI_OK && res->n_files > 0)
        snprintf(text, sizeof(text), "%zu files: %s -> %s", res->n_files, res->from_version,
                 res->to_version);
    else if (res->rolled_back)
        snprintf(text, sizeof(text), "failed at %s: every file was put back", res->failed_step);
    else if (res->rc != TMI_OK)
        snprintf(text, sizeof(text), "failed at %s: no file was changed",
                 res->failed_step[0] ? res->failed_step : "the start");
    else
        snprintf(text, sizeof(text), "no file was changed");
    if (backup != NULL)
        snprintf(text + strlen(text), sizeof(text) - strlen(text), ", backup %s", backup);
    if (h->restore_id[0] && res->rc == TMI_OK)
        snprintf(text + strlen(text), sizeof(text) - strlen(text), "; restored from backup %s",
                 h->restore_id);
    if (res->service_down)
        snprintf(text + strlen(text), sizeof(text) - strlen(text), "; the service did not start");
    cJSON_AddStringToObject(o, "text", text);
    cJSON_AddNumberToObject(o, "files", res->rc == TMI_OK ? (double)res->n_files : 0);
    if (res->rc == TMI_OK && res->n_files > 0) {
        cJSON_AddStringToObject(o, "from", res->from_version);
        cJSON_AddStringToObject(o, "to", res->to_version);
    }
    if (backup != NULL)
        cJSON_AddStringToObject(o, "backup", backup);
    if (h->restore_id[0])
        cJSON_AddStringToObject(o, "restored", h->restore_id);
    if (res->event[0]) {
        cJSON_AddStringToObject(o, "event", res->event);
        cJSON_AddNumberToObject(o, "event_id", res->event_id);
    }
    return o;
}

/* Close the job row: its summary, then its status. */
static void finish_job(runner_job *h, const repair_result *res, const cJSON *summary)
{
    char *text = summary != NULL ? cJSON_PrintUnformatted(summary) : NULL;
    if (text != NULL && jobs_set_summary(h->st, h->id, text) != TMI_OK)
        fprintf(stderr, "tmi-console: job %lld: the summary was not recorded: %s\n",
                (long long)h->id, store_errmsg(h->st));
    free(text);
    jobs_finish(h->st, h->id, runner_status(res), res->message, res->rolled_back);
}

/* The audit outcome of the job's own record. */
static const char *job_outcome(const repair_result *res)
{
    if (res->rc == TMI_OK)
        return res->service_down ? "service_down" : "ok";
    return (res->rc == TMI_EINVAL || res->rc == TMI_ECONFLICT) ? "refused" : "failed";
}

int runner_execute(runner_job *h, runner_progress_fn progress, void *arg, repair_result *res)
{
    char err[512];
    repair_env env;
    repair_hooks hooks = {h, hook_begin, hook_end, hook_scan};
    audit_actor actor = {h->user[0] ? h->user : NULL, h->auth[0] ? h->auth : "cli"};
    audit_event ev;
    int rc = store_open(h->r->data_dir, &h->st, err, sizeof(err));
    memset(res, 0, sizeof(*res));
    if (rc != TMI_OK) {
        res->rc = rc;
        snprintf(res->message, sizeof(res->message), "%s", err);
        return rc;
    }
    h->progress = progress;
    h->progress_arg = arg;
    fill_env(h, &env);
    repair_run(h->action, &env, &hooks, res);
    record_final_scan(h->r, h->st, &actor, h->id);
    cJSON *summary = summary_json(h, res);
    finish_job(h, res, summary);
    cJSON *d = cJSON_CreateObject();
    cJSON_AddNumberToObject(d, "job", (double)h->id);
    cJSON_AddStringToObject(d, "status", runner_status(res));
    cJSON_AddStringToObject(d, "message", res->message);
    if (summary != NULL && !cJSON_AddItemToObject(d, "summary", summary))
        cJSON_Delete(summary);
    cJSON_AddStringToObject(d, "failed_step", res->failed_step);
    cJSON_AddBoolToObject(d, "rolled_back", res->rolled_back);
    if (res->backup_id[0])
        cJSON_AddStringToObject(d, "backup", res->backup_id);
    if (h->accept_untrusted_root) {
        cJSON_AddBoolToObject(d, "accept_untrusted_root", 1);
        cJSON_AddStringToObject(d, "untrusted_root_accepted", res->untrusted_root_accepted);
    }
    char *text = cJSON_PrintUnformatted(d);
    cJSON_Delete(d);
    memset(&ev, 0, sizeof(ev));
    ev.action = repair_action_name(h->action);
    ev.target = audit_target(h->r);
    ev.outcome = job_outcome(res);
    ev.details = text;
    audit_append(h->st, &actor, &ev, NULL);
    free(text);
    store_close(h->st);
    h->st = NULL;
    return res->rc;
}

void runner_end(runner_job *h)
{
    char path[PLAT_PATH_MAX];
    if (h == NULL)
        return;
    if (h->lock != NULL) {
        if (h->id > 0 && path_join(path, sizeof(path), h->r->data_dir, CURRENT_NAME) == TMI_OK)
            plat.remove_file(path);
        plat_lock_release(h->lock);
    }
    store_close(h->st);
    free(h);
}

/* ---- jobs on threads of their own ---- */

/* Count a job as running before anything of it exists, so that shutdown
 * (which sets `refusing` under the same lock) either refuses it here or
 * waits for it: there is no gap between the check and the count. 0 when the
 * runner is shutting down. */
static int slot_reserve(runner *r)
{
    int ok;
    plat_mutex_lock(r->mu);
    ok = !r->refusing;
    if (ok)
        r->running++;
    plat_mutex_unlock(r->mu);
    return ok;
}

static void slot_release(runner *r)
{
    plat_mutex_lock(r->mu);
    r->running--;
    plat_mutex_unlock(r->mu);
}

static void job_thread_main(void *arg)
{
    runner_job *h = arg;
    runner *r = h->r;
    repair_result res;
    runner_execute(h, NULL, NULL, &res);
    runner_end(h);
    slot_release(r);
}

int runner_start(runner *r, repair_action action, const char *restore_id,
                 const char *confirmed_digest, int accept_untrusted_root, const audit_actor *actor,
                 int64_t *job_id, char *err, size_t errlen)
{
    runner_job *h = NULL;
    int rc;
    if (!slot_reserve(r)) {
        snprintf(err, errlen, "shutting down: no new jobs");
        return TMI_EINTR;
    }
    rc = runner_begin(r, action, restore_id, confirmed_digest, accept_untrusted_root, actor, &h,
                      job_id, err, errlen);
    if (rc == TMI_OK) {
        rc = plat_thread_start(job_thread_main, h);
        if (rc != TMI_OK) {
            snprintf(err, errlen, "cannot start a thread for the job");
            runner_end(h); /* the row stays "running": recovery closes it */
        }
    }
    if (rc != TMI_OK)
        slot_release(r);
    return rc;
}

int runner_job_locked(const char *data_dir)
{
    char path[PLAT_PATH_MAX];
    plat_lock *lock = NULL;
    plat_stat st;
    if (path_join(path, sizeof(path), data_dir, LOCK_NAME) != TMI_OK ||
        plat.stat(path, &st) != TMI_OK)
        return 0;
    if (plat_lock_acquire(path, &lock) == TMI_EBUSY)
        return 1;
    plat_lock_release(lock);
    return 0;
}

int runner_busy(runner *r)
{
    int n;
    plat_mutex_lock(r->mu);
    n = r->running;
    plat_mutex_unlock(r->mu);
    return n;
}

void runner_shutdown(runner *r)
{
    if (r == NULL)
        return;
    plat_mutex_lock(r->mu);
    r->refusing = 1;
    plat_mutex_unlock(r->mu);
    while (runner_busy(r) > 0)
        plat_sleep_ms(50);
}
