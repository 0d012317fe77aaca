/*
 * repair.c - the job executor (see repair.h).
 *
 * Order of a full repair and what a failure at each point leaves behind:
 *   preflight  scan; refuse unless affected with a complete source    nothing changed
 *   backup     copy the current files, verify, write the manifest    nothing changed
 *   stop       stop the service, wait for STOPPED                   nothing changed
 *   stage      write each new file beside its target, verify         temps removed
 *   commit     rename each staged file over its target               rollback
 *   verify     rescan: every file at the expected version, hashes    rollback
 *   start      start, wait RUNNING, check it stays running           rollback
 *   rescan     the verdict must now be healthy                       rollback
 */
#include "repair.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "backup.h"
#include "err.h"
#include "fileops.h"
#include "hex.h"
#include "pathutil.h"
#include "plat.h"
#include "strutil.h"
#include "service.h"

typedef struct job {
    repair_action action;
    const repair_env *env;
    const repair_hooks *hooks;
    repair_result *res;
    scan_result *scan; /* the preflight scan */
    backup_manifest *backup;
    char backup_dir[PLAT_PATH_MAX];
    service_ref svc;
    int have_svc;
    int was_running; /* the service was running when the job stopped it */
    int64_t started_ns;
    char (*targets)[PLAT_PATH_MAX];
    char (*temps)[PLAT_PATH_MAX];
    size_t n_staged;
    int touched;                    /* a rename into the TMI folder may have happened */
    backup_manifest *chosen;        /* restore: the backup to put back */
    char chosen_dir[PLAT_PATH_MAX]; /* and its folder */
} job;

static const char *const action_names[] = {"backup", "replace", "restart", "repair", "restore"};

const char *repair_action_name(repair_action a)
{
    return (unsigned)a < sizeof(action_names) / sizeof(action_names[0]) ? action_names[a] : "?";
}

int repair_action_parse(const char *s, repair_action *out)
{
    for (size_t i = 0; s != NULL && i < sizeof(action_names) / sizeof(action_names[0]); i++) {
        if (strcmp(s, action_names[i]) == 0) {
            *out = (repair_action)i;
            return TMI_OK;
        }
    }
    return TMI_EINVAL;
}

/* ---- reporting ---- */

static int step_begin(job *j, const char *step, const char *what)
{
    if (j->hooks == NULL || j->hooks->step_begin == NULL)
        return TMI_OK;
    return j->hooks->step_begin(j->hooks->arg, step, what);
}

static void step_end(job *j, const char *step, const char *outcome, const char *message,
                     const cJSON *details)
{
    if (j->hooks != NULL && j->hooks->step_end != NULL)
        j->hooks->step_end(j->hooks->arg, step, outcome, message, details);
}

/* Record the job's failure at step (first failure wins) and report the step. */
static int fail(job *j, const char *step, int rc, const char *fmt, ...) TMI_PRINTF(4, 5);

static int fail(job *j, const char *step, int rc, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (j->res->rc == TMI_OK) {
        j->res->rc = rc;
        snprintf(j->res->message, sizeof(j->res->message), "%s", msg);
        snprintf(j->res->failed_step, sizeof(j->res->failed_step), "%s", step);
    }
    step_end(j, step, "failed", msg, NULL);
    return rc;
}

static int begin(job *j, const char *step, const char *what)
{
    int rc = step_begin(j, step, what);
    if (rc != TMI_OK)
        return fail(j, step, rc, "the journal could not record step %s: %s", step,
                    tmi_strerror(rc));
    return TMI_OK;
}

/* ---- details for the audit trail ---- */

/* The signature of f in brief, for the audit trail: status, reason, signer
 * organization and leaf thumbprint; null when the file was not read. */
static cJSON *sig_brief(const scan_file *f)
{
    char hex[65];
    cJSON *o;
    if (!f->has_sig)
        return cJSON_CreateNull();
    o = cJSON_CreateObject();
    if (o == NULL)
        return NULL;
    cJSON_AddStringToObject(o, "status",
                            f->sig.status == SIG_VALID     ? "valid"
                            : f->sig.status == SIG_INVALID ? "invalid"
                                                           : "unsigned");
    const char *why = sig_reason_name(f->sig.reason);
    cJSON_AddItemToObject(o, "reason", why ? cJSON_CreateString(why) : cJSON_CreateNull());
    cJSON_AddItemToObject(
        o, "signer", f->sig.has_signer ? cJSON_CreateString(f->sig.signer_o) : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "thumbprint_sha256",
                          f->sig.has_signer
                              ? cJSON_CreateString(hex_encode(f->sig.thumb_sha256, 32, hex))
                              : cJSON_CreateNull());
    return o;
}

static cJSON *files_list_details(const scan_file *files, size_t n)
{
    char v[TMI_VERSION_STRLEN], hex[65];
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a != NULL && i < n; i++) {
        const scan_file *f = &files[i];
        cJSON *o = cJSON_CreateObject();
        if (o == NULL)
            break;
        cJSON_AddStringToObject(o, "name", f->name);
        cJSON_AddStringToObject(o, "status", file_status_name(f->status));
        if (f->has_version)
            cJSON_AddStringToObject(o, "version", version_format(&f->version, v, sizeof(v)));
        else
            cJSON_AddNullToObject(o, "version");
        if (f->has_sha256)
            cJSON_AddStringToObject(o, "sha256", hex_encode(f->sha256, 32, hex));
        else
            cJSON_AddNullToObject(o, "sha256");
        cJSON_AddItemToObject(o, "signature", sig_brief(f));
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

static cJSON *files_details(const scan_result *r)
{
    return r != NULL ? files_list_details(r->files, r->n_files) : cJSON_CreateArray();
}

static cJSON *before_after(const scan_result *before, const scan_result *after)
{
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return NULL;
    cJSON_AddItemToObject(o, "before", files_details(before));
    if (after != NULL)
        cJSON_AddItemToObject(o, "after", files_details(after));
    return o;
}

/* ---- steps ---- */

/* Scan, and tell the hooks (they record it): changed says whether the job
 * may have changed the folder by now. */
static int do_scan(job *j, scan_result **out, int changed)
{
    /* no digest cache: what a repair copies is checked from its own bytes */
    scan_options opt = {j->env->accept_untrusted_root, NULL};
    int rc = scan_run_opts(j->env->target, &opt, out);
    if (rc == TMI_OK && j->hooks != NULL && j->hooks->scan_done != NULL)
        j->hooks->scan_done(j->hooks->arg, *out, changed);
    return rc;
}

int repair_plan_digest(const scan_result *r, char hex[65])
{
    plat_sha256_ctx *ctx = NULL;
    uint8_t sha[32];
    const scan_source *src;
    int rc;
    if (!r->repair_possible || r->repair_source < 0)
        return TMI_EINVAL;
    src = &r->sources[r->repair_source];
    rc = plat_sha256_init(&ctx);
    if (rc != TMI_OK)
        return rc;
    rc = plat_sha256_update(ctx, src->path, strlen(src->path) + 1);
    memset(sha, 0, sizeof(sha));
    for (size_t i = 0; rc == TMI_OK && i < src->n_files && i < r->n_files; i++) {
        rc = plat_sha256_update(ctx, src->files[i].sha256, 32);
        if (rc == TMI_OK)
            rc = plat_sha256_update(ctx, r->files[i].has_sha256 ? r->files[i].sha256 : sha, 32);
    }
    if (rc != TMI_OK) {
        plat_sha256_free(ctx);
        return rc;
    }
    rc = plat_sha256_final(ctx, sha);
    if (rc == TMI_OK)
        hex_encode(sha, 32, hex);
    return rc;
}

/* Name the source files the override accepted in res->untrusted_root_accepted;
 * 1 when there are any. */
static int note_override(job *j)
{
    const scan_source *src = &j->scan->sources[j->scan->repair_source];
    char *out = j->res->untrusted_root_accepted;
    size_t cap = sizeof(j->res->untrusted_root_accepted), used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < src->n_files && used < cap; i++) {
        if (src->files[i].sig_override) {
            int n = snprintf(out + used, cap - used, "%s%s", used ? ", " : "", src->files[i].name);
            used += n > 0 ? (size_t)n : 0;
        }
    }
    return out[0] != '\0';
}

static int step_preflight(job *j, int need_repair)
{
    char digest[65];
    int rc = begin(j, "preflight", "Scanning the TMI folder");
    if (rc != TMI_OK)
        return rc;
    rc = do_scan(j, &j->scan, 0);
    if (rc != TMI_OK)
        return fail(j, "preflight", rc, "the scan failed: %s", tmi_strerror(rc));
    j->res->verdict = j->scan->verdict;
    if (j->scan->tmi_dir == NULL)
        return fail(j, "preflight", TMI_EINVAL, "refused: %s", j->scan->repair_reason);
    if (need_repair) {
        if (j->scan->verdict != SCAN_AFFECTED)
            return fail(j, "preflight", TMI_EINVAL, "refused: the system is %s; %s",
                        scan_verdict_name(j->scan->verdict), j->scan->repair_reason);
        if (!j->scan->repair_possible)
            return fail(j, "preflight", TMI_EINVAL, "%s%s",
                        strncmp(j->scan->repair_reason, "refused", 7) == 0 ? "" : "refused: ",
                        j->scan->repair_reason);
        if (j->env->confirmed_digest != NULL) {
            rc = repair_plan_digest(j->scan, digest);
            if (rc != TMI_OK || strcmp(digest, j->env->confirmed_digest) != 0)
                return fail(j, "preflight", TMI_ECONFLICT,
                            "refused: the files or the source changed since the plan was "
                            "confirmed; scan again and confirm the new plan");
        }
    }
    for (size_t i = 0; i < j->scan->n_files; i++) {
        if (j->scan->files[i].status == FILE_UNREADABLE)
            return fail(j, "preflight", TMI_EIO, "refused: %s cannot be read (%s)",
                        j->scan->files[i].name,
                        j->scan->files[i].error ? j->scan->files[i].error : "unreadable");
    }
    cJSON *d = files_details(j->scan);
    char msg[1024];
    snprintf(msg, sizeof(msg), "%s", j->scan->repair_reason);
    if (need_repair && note_override(j))
        snprintf(msg, sizeof(msg),
                 "%s; the signatures of %s chain to a root outside the trust "
                 "store, accepted by the admin's override (accept_untrusted_root)",
                 j->scan->repair_reason, j->res->untrusted_root_accepted);
    step_end(j, "preflight", "ok", msg, d);
    cJSON_Delete(d);
    return TMI_OK;
}

static int step_backup(job *j, const char *id)
{
    char err[512];
    int rc = begin(j, "backup", "Backing up the current files");
    if (rc != TMI_OK)
        return rc;
    rc = backup_create(j->env->target->pb, j->scan, j->env->backup_root, id, &j->backup, err,
                       sizeof(err));
    if (rc != TMI_OK)
        return fail(j, "backup", rc, "backup failed: %s", err);
    snprintf(j->res->backup_id, sizeof(j->res->backup_id), "%s", id);
    path_join(j->backup_dir, sizeof(j->backup_dir), j->env->backup_root, id);
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "backup", id);
    cJSON_AddStringToObject(d, "folder", j->backup_dir);
    cJSON_AddItemToObject(d, "files", files_details(j->scan));
    step_end(j, "backup", "ok", j->backup_dir, d);
    cJSON_Delete(d);
    return TMI_OK;
}

static int step_stop(job *j)
{
    plat_svc_status st;
    char msg[512];
    int rc = begin(j, "stop", "Stopping the TMI service");
    if (rc != TMI_OK)
        return rc;
    rc = service_resolve(j->env->target->pb, j->env->target->root,
                         tmi_target_service(j->env->target), &j->svc);
    if (rc == TMI_ENOENT) {
        step_end(j, "stop", "skipped", "the TMI service is not registered", NULL);
        return TMI_OK;
    }
    if (rc != TMI_OK)
        return fail(j, "stop", rc, "cannot find the TMI service: %s", tmi_strerror(rc));
    j->have_svc = 1;
    rc = plat.svc_query(j->svc.scope, j->svc.name, &st);
    if (rc != TMI_OK)
        return fail(j, "stop", rc, "cannot query the service: %s", tmi_strerror(rc));
    j->was_running = st.state == PLAT_SVC_RUNNING || st.state == PLAT_SVC_START_PENDING;
    rc = service_stop_wait(&j->svc, j->env->stop_timeout_ms, &st);
    if (rc != TMI_OK)
        return fail(j, "stop", rc == TMI_ETIMEDOUT ? TMI_ESERVICE : rc,
                    "the service '%s' did not stop within %u ms (state %s): %s", j->svc.name,
                    j->env->stop_timeout_ms, service_state_name(st.state), tmi_strerror(rc));
    snprintf(msg, sizeof(msg), "service '%s' is stopped (it was %s)", j->svc.name,
             j->was_running ? "running" : "not running");
    step_end(j, "stop", "ok", msg, NULL);
    return TMI_OK;
}

static void remove_temps(job *j)
{
    for (size_t i = 0; i < j->n_staged; i++)
        plat.remove_file(j->temps[i]);
    j->n_staged = 0;
    if (j->scan != NULL && j->scan->tmi_dir != NULL)
        fileops_clean_temps(j->scan->tmi_dir);
}

static int stage_one(job *j, size_t i)
{
    const scan_source *src = &j->scan->sources[j->scan->repair_source];
    const scan_file *f = &j->scan->files[i];
    uint8_t *data = NULL, sha[32];
    size_t len = 0;
    char hex[65];
    int rc;
    if (f->present)
        snprintf(j->targets[i], PLAT_PATH_MAX, "%s", f->path);
    else if (path_join(j->targets[i], PLAT_PATH_MAX, j->scan->tmi_dir, f->name) != TMI_OK)
        return fail(j, "stage", TMI_ETOOBIG, "path too long for %s", f->name);
    rc = fileops_temp_path(j->targets[i], j->temps[i], PLAT_PATH_MAX);
    if (rc == TMI_OK)
        rc = fileops_read_hash(src->files[i].path, j->env->target->pb->max_file_size, &data, &len,
                               sha);
    if (rc != TMI_OK)
        return fail(j, "stage", rc, "cannot read the good copy %s: %s", src->files[i].path,
                    tmi_strerror(rc));
    if (memcmp(sha, src->files[i].sha256, 32) != 0) {
        free(data);
        return fail(j, "stage", TMI_ECONFLICT,
                    "the good copy %s changed after the preflight scan (now %s); nothing was "
                    "replaced",
                    src->files[i].path, hex_encode(sha, 32, hex));
    }
    rc = fileops_write_verified(j->temps[i], data, len, sha);
    free(data);
    if (rc != TMI_OK)
        return fail(j, "stage", rc, "cannot write %s: %s%s", j->temps[i], tmi_strerror(rc),
                    rc == TMI_EBUSY ? " (file in use)" : "");
    j->n_staged = i + 1;
    return TMI_OK;
}

/* Remove staged files left in the TMI folder by an earlier job that was cut
 * (".NAME.tmi-new", or anything planted under such a name: the entry itself
 * is removed, a link is never followed), so that each is created anew and
 * exclusively; note says how many, for the step's message ("" for none). */
static void remove_stale(job *j, char *note, size_t notelen)
{
    int n = fileops_clean_temps(j->scan->tmi_dir);
    note[0] = '\0';
    if (n > 0)
        snprintf(note, notelen,
                 "; %d stale staged file%s (.NAME%s) removed first: the name%s itself, never what "
                 "a link points to",
                 n, n == 1 ? "" : "s", FILEOPS_TEMP_SUFFIX, n == 1 ? "" : "s");
}

static int step_stage(job *j)
{
    char which[256], note[192], msg[320];
    int rc = begin(j, "stage", "Copying the good files beside the old ones");
    if (rc != TMI_OK)
        return rc;
    remove_stale(j, note, sizeof(note));
    for (size_t i = 0; i < j->scan->n_files; i++) {
        rc = stage_one(j, i);
        if (rc != TMI_OK)
            return rc;
    }
    /* the service is stopped now: nothing else may have touched the folder */
    if (!backup_matches(j->backup, j->scan->tmi_dir, j->env->target->pb->max_file_size, which,
                        sizeof(which)))
        return fail(j, "stage", TMI_ECONFLICT,
                    "the TMI folder changed after the backup (%s); nothing was replaced", which);
    snprintf(msg, sizeof(msg), "every good file is staged and verified%s", note);
    step_end(j, "stage", "ok", msg, NULL);
    return TMI_OK;
}

static int step_commit(job *j)
{
    int rc = begin(j, "commit", "Replacing the files");
    if (rc != TMI_OK)
        return rc;
    j->touched = 1;
    for (size_t i = 0; i < j->n_staged; i++) {
        rc = plat.rename_replace(j->temps[i], j->targets[i]);
        if (rc != TMI_OK)
            return fail(j, "commit", rc, "replacing %s failed: %s%s", j->targets[i],
                        tmi_strerror(rc), rc == TMI_EBUSY ? " (file in use)" : "");
    }
    j->n_staged = 0;
    /* the files now in place are the staged copies, verified against the source */
    const scan_source *src = &j->scan->sources[j->scan->repair_source];
    cJSON *d = cJSON_CreateObject();
    if (d != NULL) {
        cJSON_AddItemToObject(d, "before", files_details(j->scan));
        cJSON_AddItemToObject(d, "after", files_list_details(src->files, src->n_files));
    }
    step_end(j, "commit", "ok", "every file was replaced", d);
    cJSON_Delete(d);
    return TMI_OK;
}

static int step_verify(job *j)
{
    const scan_source *src = &j->scan->sources[j->scan->repair_source];
    scan_result *after = NULL;
    int rc = begin(j, "verify", "Checking every replaced file");
    if (rc != TMI_OK)
        return rc;
    rc = do_scan(j, &after, 1);
    if (rc != TMI_OK)
        return fail(j, "verify", rc, "the check scan failed: %s", tmi_strerror(rc));
    for (size_t i = 0; i < after->n_files && rc == TMI_OK; i++) {
        const scan_file *f = &after->files[i];
        if (f->status != FILE_OK || !f->has_sha256 ||
            memcmp(f->sha256, src->files[i].sha256, 32) != 0)
            rc = fail(j, "verify", TMI_EIO, "%s is not the good copy after the replace (%s)",
                      f->name, file_status_name(f->status));
    }
    if (rc == TMI_OK) {
        cJSON *d = before_after(j->scan, after);
        step_end(j, "verify", "ok", "every file is at the expected version and matches its source",
                 d);
        cJSON_Delete(d);
    }
    scan_result_free(after);
    return rc;
}

/* The event-log record that explains a failed start, if any, appended to buf. */
static void explain_with_event(job *j, char *buf, size_t buflen)
{
    plat_event ev;
    size_t n = 0;
    const playbook *pb = j->env->target->pb;
    if (pb->event_provider == NULL)
        return;
    if (plat.event_query(j->env->target->root, pb->event_provider, pb->event_id, j->started_ns, &ev,
                         1, &n) != TMI_OK ||
        n == 0)
        return;
    size_t used = strlen(buf);
    /* cut to fit, as below */
    if (snprintf(j->res->event, sizeof(j->res->event), "%s", ev.message) < 0)
        j->res->event[0] = '\0';
    j->res->event_id = ev.id;
    int w = snprintf(buf + used, buflen - used, "; event %d from %s: %s", ev.id, ev.provider,
                     ev.message);
    if (w < 0 || (size_t)w >= buflen - used)
        buf[buflen - 1] = '\0'; /* cut: the start of the record is what matters */
}

static int step_start(job *j)
{
    char why[1024];
    plat_svc_status st;
    int rc = begin(j, "start", "Starting the TMI service and watching it stay up");
    if (rc != TMI_OK)
        return rc;
    if (!j->have_svc) {
        rc = service_resolve(j->env->target->pb, j->env->target->root,
                             tmi_target_service(j->env->target), &j->svc);
        if (rc != TMI_OK)
            return fail(j, "start", rc, "cannot find the TMI service: %s", tmi_strerror(rc));
        j->have_svc = 1;
    }
    rc = service_start_verify(&j->svc, j->env->start_timeout_ms, j->env->stay_ms, &st, why,
                              sizeof(why));
    if (rc != TMI_OK) {
        explain_with_event(j, why, sizeof(why));
        return fail(j, "start", rc, "%s", why);
    }
    snprintf(why, sizeof(why), "service '%s' is running and stayed up for %u ms", j->svc.name,
             j->env->stay_ms);
    step_end(j, "start", "ok", why, NULL);
    return TMI_OK;
}

static int step_rescan(job *j)
{
    scan_result *after = NULL;
    int rc = begin(j, "rescan", "Scanning again");
    if (rc != TMI_OK)
        return rc;
    rc = do_scan(j, &after, 1);
    if (rc != TMI_OK)
        return fail(j, "rescan", rc, "the final scan failed: %s", tmi_strerror(rc));
    j->res->verdict = after->verdict;
    if (after->verdict != SCAN_HEALTHY)
        rc = fail(j, "rescan", TMI_EIO, "the final scan says %s: %s",
                  scan_verdict_name(after->verdict), after->repair_reason);
    else
        step_end(j, "rescan", "ok", "healthy", NULL);
    scan_result_free(after);
    return rc;
}

/* Append ", text" style fragments to the job's message, cut to fit. */
static void message_append(job *j, const char *fmt, ...) TMI_PRINTF(2, 3);

static void message_append(job *j, const char *fmt, ...)
{
    size_t used = strlen(j->res->message);
    va_list ap;
    if (used + 1 >= sizeof(j->res->message))
        return;
    va_start(ap, fmt);
    vsnprintf(j->res->message + used, sizeof(j->res->message) - used, fmt, ap);
    va_end(ap);
}

/* The job stopped a running service: start it again, watch it stay up, and
 * say how that went in the message and as a "start" step. The job's result
 * is left as it is (this is the way back, not the job's aim); returns 1
 * when the service runs again, 0 when it did not come back, -1 when the job
 * had nothing to start. */
static int service_put_back(job *j)
{
    char why[1024];
    if (!j->have_svc || !j->was_running)
        return -1;
    step_begin(j, "start", "Starting the TMI service again, as the job found it");
    if (service_start_verify(&j->svc, j->env->start_timeout_ms, j->env->stay_ms, NULL, why,
                             sizeof(why)) == TMI_OK) {
        message_append(j, "; the service '%s' was started again", j->svc.name);
        step_end(j, "start", "ok", "the service is running again", NULL);
        return 1;
    }
    explain_with_event(j, why, sizeof(why));
    message_append(j, "; the service '%s' did not come back: %s", j->svc.name, why);
    step_end(j, "start", "failed", why, NULL);
    return 0;
}

/* Undo: restore every file from the job's backup, then put the service back
 * the way the job found it. Never returns an error: the result says it. */
static void rollback(job *j)
{
    char err[512];
    remove_temps(j);
    if (!j->touched || j->backup == NULL) {
        service_put_back(j);
        return;
    }
    if (step_begin(j, "rollback", "Restoring every file from the backup") != TMI_OK) {
        /* the journal is failing: restore all the same, it is the safe direction */
    }
    if (j->have_svc)
        service_stop_wait(&j->svc, j->env->stop_timeout_ms, NULL);
    int rc = backup_restore(j->backup, j->backup_dir, j->scan->tmi_dir,
                            j->env->target->pb->max_file_size, err, sizeof(err));
    if (rc == TMI_OK) {
        j->res->rolled_back = 1;
        message_append(j, "; every file was restored from backup %s", j->res->backup_id);
        /* what is in place now: the backup's files, as its manifest lists them */
        cJSON *m = backup_manifest_json(j->backup);
        cJSON *d = cJSON_CreateObject();
        if (d != NULL && m != NULL)
            cJSON_AddItemToObject(d, "after", cJSON_DetachItemFromObjectCaseSensitive(m, "files"));
        cJSON_Delete(m);
        step_end(j, "rollback", "ok", "every file was restored from the backup", d);
        cJSON_Delete(d);
        service_put_back(j);
    } else {
        /* a mixed folder is never started */
        j->res->rollback_failed = 1;
        message_append(j,
                       "; THE RESTORE FAILED (%s): restore backup %s before starting the service",
                       err, j->res->backup_id);
        step_end(j, "rollback", "failed", err, NULL);
    }
}

/* ---- jobs ----
 *
 * Each action is a table of steps, run in order until one fails; the
 * actions that change files end with a rollback when a step failed. These
 * tables are the order of record: repair_action_steps() lists them, and the
 * API and the web page draw a job's steps from that list. */

typedef struct step_def {
    const char *name;
    int (*run)(job *j);
} step_def;

typedef struct action_def {
    const step_def *steps;  /* ends with {NULL, NULL} */
    int rolls_back;         /* a failed step is followed by "rollback" */
    void (*finish)(job *j); /* after the last step succeeded: the result */
} action_def;

static int pre_repair(job *j)
{
    return step_preflight(j, 1);
}

static int pre_check(job *j)
{
    return step_preflight(j, 0);
}

static int take_backup(job *j)
{
    return step_backup(j, j->env->job_id);
}

static int stage_files(job *j)
{
    j->targets = calloc(j->scan->n_files, sizeof(*j->targets));
    j->temps = calloc(j->scan->n_files, sizeof(*j->temps));
    if (j->targets == NULL || j->temps == NULL)
        return fail(j, "stage", TMI_ENOMEM, "out of memory");
    return step_stage(j);
}

/* The one version a set of files shares, for the job's summary. */
typedef struct version_sum {
    int any;   /* a present file with a version was seen */
    int mixed; /* two of them differ, or a present file has none */
    tmi_version v;
} version_sum;

static void version_add(version_sum *s, int present, int has_version, const tmi_version *v)
{
    if (!present)
        return;
    if (!has_version)
        s->mixed = 1;
    else if (!s->any)
        s->v = *v;
    else if (version_compare(&s->v, v) != 0)
        s->mixed = 1;
    s->any |= has_version;
}

static void version_text(const version_sum *s, char out[TMI_VERSION_STRLEN])
{
    if (s->mixed)
        snprintf(out, TMI_VERSION_STRLEN, "mixed");
    else if (!s->any)
        snprintf(out, TMI_VERSION_STRLEN, "none");
    else
        version_format(&s->v, out, TMI_VERSION_STRLEN);
}

/* The summary of a job that put the source's files (repair, replace) in
 * place of the scanned ones. */
static void sum_replaced(job *j)
{
    const scan_source *src = &j->scan->sources[j->scan->repair_source];
    version_sum before = {0, 0, {{0}}}, after = {0, 0, {{0}}};
    for (size_t i = 0; i < j->scan->n_files; i++) {
        const scan_file *f = &j->scan->files[i];
        version_add(&before, f->present, f->has_version, &f->version);
    }
    for (size_t i = 0; i < src->n_files; i++)
        version_add(&after, 1, src->files[i].has_version, &src->files[i].version);
    j->res->n_files = j->scan->n_files;
    version_text(&before, j->res->from_version);
    version_text(&after, j->res->to_version);
}

static void finish_replace(job *j)
{
    sum_replaced(j);
    snprintf(j->res->message, sizeof(j->res->message),
             "replaced all %zu files; the service is stopped: run restart to start it; "
             "backup %s holds the old files",
             j->scan->n_files, j->res->backup_id);
}

static void finish_repair(job *j)
{
    sum_replaced(j);
    snprintf(j->res->message, sizeof(j->res->message),
             "repaired: all %zu files are at the expected version and the service '%s' is "
             "running; backup %s holds the old files",
             j->scan->n_files, j->svc.name, j->res->backup_id);
    j->res->verdict = SCAN_HEALTHY;
}

static void finish_backup(job *j)
{
    snprintf(j->res->message, sizeof(j->res->message), "backup %s holds %zu files",
             j->res->backup_id, j->backup->n_files);
}

/* restart's stop: unlike a replace, a service that is not there is a failure */
static int restart_stop(job *j)
{
    plat_svc_status st;
    int rc = begin(j, "stop", "Stopping the TMI service");
    if (rc != TMI_OK)
        return rc;
    rc = service_resolve(j->env->target->pb, j->env->target->root,
                         tmi_target_service(j->env->target), &j->svc);
    if (rc != TMI_OK)
        return fail(j, "stop", rc, "cannot find the TMI service '%s': %s",
                    j->env->target->pb->service_display_name, tmi_strerror(rc));
    j->have_svc = 1;
    rc = service_stop_wait(&j->svc, j->env->stop_timeout_ms, &st);
    if (rc != TMI_OK)
        return fail(j, "stop", rc == TMI_ETIMEDOUT ? TMI_ESERVICE : rc,
                    "the service did not stop within %u ms (state %s)", j->env->stop_timeout_ms,
                    service_state_name(st.state));
    step_end(j, "stop", "ok", "the service is stopped", NULL);
    return TMI_OK;
}

static void finish_restart(job *j)
{
    snprintf(j->res->message, sizeof(j->res->message),
             "the service '%s' is running and stayed up for %u ms", j->svc.name, j->env->stay_ms);
}

static int valid_backup_id(const char *id)
{
    if (id == NULL || id[0] == '\0' || id[0] == '.' || strlen(id) > 100)
        return 0;
    for (const char *p = id; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.'))
            return 0;
    }
    return 1;
}

/* restore's preflight: the scan, then the chosen backup must be complete,
 * intact and taken from this TMI folder */
static int pre_restore(job *j)
{
    char err[512];
    int rc = step_preflight(j, 0);
    if (rc != TMI_OK)
        return rc;
    rc = path_join(j->chosen_dir, sizeof(j->chosen_dir), j->env->backup_root, j->env->restore_id);
    if (rc == TMI_OK)
        rc = backup_load(j->env->target->pb, j->chosen_dir, &j->chosen, err, sizeof(err));
    if (rc == TMI_OK)
        rc = backup_verify(j->chosen, j->chosen_dir, j->env->target->pb->max_file_size, err,
                           sizeof(err));
    if (rc == TMI_OK && strcmp(j->chosen->tmi_dir, j->scan->tmi_dir) != 0) {
        rc = TMI_ECONFLICT;
        snprintf(err, sizeof(err), "backup %s was taken from %s, not from %s", j->env->restore_id,
                 j->chosen->tmi_dir, j->scan->tmi_dir);
    }
    if (rc != TMI_OK)
        return fail(j, "preflight", rc, "refused: %s", err);
    return TMI_OK;
}

/* the backup step before it is a backup of the present state, so the
 * restore itself can be undone */
static int restore_files(job *j)
{
    char err[512], note[192], msg[320];
    int rc = begin(j, "restore", "Restoring the chosen backup");
    if (rc != TMI_OK)
        return rc;
    j->touched = 1;
    remove_stale(j, note, sizeof(note));
    rc = backup_restore(j->chosen, j->chosen_dir, j->scan->tmi_dir,
                        j->env->target->pb->max_file_size, err, sizeof(err));
    if (rc != TMI_OK)
        return fail(j, "restore", rc, "%s%s", err, note);
    snprintf(msg, sizeof(msg), "the folder matches the chosen backup%s", note);
    step_end(j, "restore", "ok", msg, NULL);
    return TMI_OK;
}

/* restore's start: the service back as the job found it. A service that
 * does not come back leaves the restored files in place (they are what was
 * asked for; the event log says why it stopped): the job ends
 * service_down, not rolled back. */
static int restore_start(job *j)
{
    char why[1024];
    int rc = begin(j, "start", "Starting the TMI service again, as the job found it");
    if (rc != TMI_OK)
        return rc;
    if (!j->have_svc || !j->was_running) {
        step_end(j, "start", "skipped",
                 j->have_svc ? "the service was not running before the job: it stays stopped"
                             : "the TMI service is not registered",
                 NULL);
        return TMI_OK;
    }
    rc = service_start_verify(&j->svc, j->env->start_timeout_ms, j->env->stay_ms, NULL, why,
                              sizeof(why));
    if (rc != TMI_OK) {
        explain_with_event(j, why, sizeof(why));
        j->res->service_down = 1;
        step_end(j, "start", "failed", why, NULL);
        return TMI_OK;
    }
    snprintf(why, sizeof(why), "service '%s' is running and stayed up for %u ms", j->svc.name,
             j->env->stay_ms);
    step_end(j, "start", "ok", why, NULL);
    return TMI_OK;
}

static void finish_restore(job *j)
{
    version_sum before = {0, 0, {{0}}}, after = {0, 0, {{0}}};
    for (size_t i = 0; i < j->scan->n_files; i++) {
        const scan_file *f = &j->scan->files[i];
        version_add(&before, f->present, f->has_version, &f->version);
    }
    for (size_t i = 0; i < j->chosen->n_files; i++) {
        const backup_entry *e = &j->chosen->files[i];
        version_add(&after, e->present, e->has_version, &e->version);
    }
    j->res->n_files = j->chosen->n_files;
    version_text(&before, j->res->from_version);
    version_text(&after, j->res->to_version);
    snprintf(j->res->message, sizeof(j->res->message),
             "restored backup %s; the files replaced by it are in backup %s", j->env->restore_id,
             j->res->backup_id);
    if (j->res->service_down)
        message_append(j, "; but the service '%s' did not start%s%s", j->svc.name,
                       j->res->event[0] ? ": the event log says: " : "", j->res->event);
    else if (j->have_svc && j->was_running)
        message_append(j, "; the service '%s' is running again", j->svc.name);
}

static const step_def backup_steps[] = {
    {"preflight", pre_check}, {"backup", take_backup}, {NULL, NULL}};
static const step_def replace_steps[] = {
    {"preflight", pre_repair}, {"backup", take_backup}, {"stop", step_stop}, {"stage", stage_files},
    {"commit", step_commit},   {"verify", step_verify}, {NULL, NULL}};
static const step_def restart_steps[] = {
    {"stop", restart_stop}, {"start", step_start}, {NULL, NULL}};
static const step_def repair_steps[] = {
    {"preflight", pre_repair}, {"backup", take_backup}, {"stop", step_stop},
    {"stage", stage_files},    {"commit", step_commit}, {"verify", step_verify},
    {"start", step_start},     {"rescan", step_rescan}, {NULL, NULL}};
static const step_def restore_steps[] = {{"preflight", pre_restore}, {"backup", take_backup},
                                         {"stop", step_stop},        {"restore", restore_files},
                                         {"start", restore_start},   {NULL, NULL}};

/* indexed by repair_action */
static const action_def actions[] = {
    {backup_steps, 0, finish_backup},   {replace_steps, 1, finish_replace},
    {restart_steps, 0, finish_restart}, {repair_steps, 1, finish_repair},
    {restore_steps, 1, finish_restore},
};

static const action_def *action_find(repair_action a)
{
    return (unsigned)a < sizeof(actions) / sizeof(actions[0]) ? &actions[a] : NULL;
}

size_t repair_action_steps(repair_action a, const char *names[REPAIR_MAX_STEPS])
{
    const action_def *def = action_find(a);
    size_t n = 0;
    for (size_t i = 0; def != NULL && def->steps[i].name != NULL && n < REPAIR_MAX_STEPS; i++)
        names[n++] = def->steps[i].name;
    if (def != NULL && def->rolls_back && n < REPAIR_MAX_STEPS)
        names[n++] = "rollback";
    return n;
}

/* Run the action's steps in order; on a failure, roll back if the action
 * does, else stop there. */
static void run_action(job *j, const action_def *def)
{
    int rc = TMI_OK;
    for (size_t i = 0; rc == TMI_OK && def->steps[i].name != NULL; i++)
        rc = def->steps[i].run(j);
    if (rc != TMI_OK) {
        if (def->rolls_back)
            rollback(j);
        return;
    }
    def->finish(j);
}

static void job_release(job *j)
{
    remove_temps(j);
    free(j->targets);
    free(j->temps);
    scan_result_free(j->scan);
    backup_manifest_free(j->backup);
    backup_manifest_free(j->chosen);
}

int repair_run(repair_action action, const repair_env *env, const repair_hooks *hooks,
               repair_result *res)
{
    job j;
    memset(res, 0, sizeof(*res));
    memset(&j, 0, sizeof(j));
    j.action = action;
    j.env = env;
    j.hooks = hooks;
    j.res = res;
    j.started_ns = plat_now_ns();
    if (env->job_id == NULL || !valid_backup_id(env->job_id)) {
        res->rc = TMI_EINVAL;
        snprintf(res->message, sizeof(res->message), "invalid job id");
        return res->rc;
    }
    if (action == REPAIR_RESTORE && !valid_backup_id(env->restore_id)) {
        res->rc = TMI_EINVAL;
        snprintf(res->message, sizeof(res->message),
                 "refused: '%.100s' is not a backup id (letters, digits, '-', '_', '.')",
                 env->restore_id ? env->restore_id : "");
        return res->rc;
    }
    if (action_find(action) == NULL) {
        res->rc = TMI_EINVAL;
        snprintf(res->message, sizeof(res->message), "unknown action");
    } else {
        run_action(&j, action_find(action));
    }
    job_release(&j);
    return res->rc;
}

int repair_recover(const repair_env *env, const char *backup_id, const repair_hooks *hooks,
                   repair_result *res)
{
    char dir[PLAT_PATH_MAX], err[512];
    job j;
    int rc;
    memset(res, 0, sizeof(*res));
    memset(&j, 0, sizeof(j));
    j.env = env;
    j.hooks = hooks;
    j.res = res;
    rc = do_scan(&j, &j.scan, 0);
    if (rc != TMI_OK || j.scan->tmi_dir == NULL) {
        scan_result_free(j.scan);
        res->rc = rc != TMI_OK ? rc : TMI_ENOENT;
        snprintf(res->message, sizeof(res->message), "recovery: the TMI folder was not found");
        return res->rc;
    }
    fileops_clean_temps(j.scan->tmi_dir);
    if (backup_id == NULL || !valid_backup_id(backup_id)) {
        snprintf(res->message, sizeof(res->message),
                 "recovered: the job stopped before its backup was complete, so nothing had "
                 "been replaced; staged files removed");
        scan_result_free(j.scan);
        return TMI_OK;
    }
    rc = path_join(dir, sizeof(dir), env->backup_root, backup_id);
    if (rc == TMI_OK)
        rc = backup_load(env->target->pb, dir, &j.backup, err, sizeof(err));
    if (rc == TMI_ENOENT) {
        snprintf(res->message, sizeof(res->message),
                 "recovered: backup %s was never completed, so nothing had been replaced; "
                 "staged files removed",
                 backup_id);
        job_release(&j);
        return TMI_OK;
    }
    if (rc == TMI_OK && strcmp(j.backup->tmi_dir, j.scan->tmi_dir) != 0)
        rc = TMI_ECONFLICT;
    if (rc != TMI_OK) {
        res->rc = rc;
        snprintf(res->message, sizeof(res->message), "recovery from backup %s failed: %s",
                 backup_id, tmi_strerror(rc));
        job_release(&j);
        return rc;
    }
    snprintf(res->backup_id, sizeof(res->backup_id), "%s", backup_id);
    snprintf(j.backup_dir, sizeof(j.backup_dir), "%s", dir);
    if (service_resolve(env->target->pb, env->target->root, tmi_target_service(env->target),
                        &j.svc) == TMI_OK)
        j.have_svc = 1;
    j.touched = 1;
    snprintf(res->message, sizeof(res->message), "recovered an interrupted job");
    rollback(&j);
    if (res->rollback_failed)
        res->rc = TMI_EIO;
    else if (j.have_svc)
        /* how the cut job found the service is not known: it is not guessed */
        message_append(&j, "; the TMI service was left as it is");
    job_release(&j);
    return res->rc;
}
