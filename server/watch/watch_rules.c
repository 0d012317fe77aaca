/*
 * watch_rules.c - when the watcher raises an alert, and the auto-repair
 * policy (see watcher.h). Alert states live in the store (db/alerts.h), so a
 * restart does not repeat an alert; each alert is an audit row first, then
 * goes to the outputs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "alert_state.h"
#include "audit.h"
#include "err.h"
#include "hex.h"
#include "jobs.h"
#include "service.h"
#include "timefmt.h"
#include "watch_int.h"

#define DAY_NS          (24LL * 3600 * 1000000000LL)
#define MAX_FILE_ALERTS 16 /* outside changes alerted per scan */

static const audit_actor system_actor = {NULL, "system"};
static const audit_actor policy_actor = {"policy", "system"};

/* ---- raising ---- */

static void add_str(cJSON *o, const char *name, const char *v)
{
    if (v != NULL)
        cJSON_AddStringToObject(o, name, v);
}

void rules_emit(watcher *w, alert *a)
{
    audit_event ev;
    cJSON *d = cJSON_CreateObject();
    char *text = NULL;
    if (d != NULL) {
        cJSON_AddStringToObject(d, "message", a->message);
        add_str(d, "verdict", a->verdict);
        add_str(d, "file", a->file);
        add_str(d, "old_version", a->old_version);
        add_str(d, "new_version", a->new_version);
        add_str(d, "old_sha256", a->old_sha256);
        add_str(d, "new_sha256", a->new_sha256);
        add_str(d, "changed_by", a->changed_by);
        if (a->job > 0)
            cJSON_AddNumberToObject(d, "job", (double)a->job);
        text = cJSON_PrintUnformatted(d);
        cJSON_Delete(d);
    }
    memset(&ev, 0, sizeof(ev));
    ev.action = "alert";
    ev.target = a->kind;
    ev.outcome = "raised";
    ev.details = text;
    a->time_ns = plat_now_ns();
    a->tmi_dir = w->subject;
    if (audit_append(w->st, &system_actor, &ev, &a->audit_seq) != TMI_OK)
        fprintf(stderr, "tmi-console serve: cannot write the alert's audit row: %s\n",
                store_errmsg(w->st));
    free(text);
    fprintf(stderr, "tmi-console serve: alert %s: %s\n", a->kind, a->message);
    if (alert_outputs_send(w->cfg.outputs, a) == TMI_EINVAL)
        fprintf(stderr, "tmi-console serve: the alert above is malformed (not sent)\n");
}

/* Move (kind, subject) to state; 1 when that is a change (the caller
 * alerts), and then the state is kept as sent now. */
static int state_changes(watcher *w, const char *kind, const char *subject, const char *state)
{
    alert_state_row row;
    int64_t now = plat_now_ns();
    if (alert_state_get(w->st, kind, subject, &row) != TMI_OK)
        return 0;
    if (row.found && strcmp(row.state, state) == 0)
        return 0;
    snprintf(row.state, sizeof(row.state), "%s", state);
    row.since_ns = now;
    row.sent_ns = now;
    alert_state_put(w->st, kind, subject, &row);
    return 1;
}

/* A bad state last sent a day ago or more: 1 (and marked sent now). */
static int reminder_due(watcher *w, const char *kind, const char *subject, const char *bad)
{
    alert_state_row row;
    int64_t now = plat_now_ns();
    if (alert_state_get(w->st, kind, subject, &row) != TMI_OK || !row.found ||
        strcmp(row.state, bad) != 0 || now - row.sent_ns < DAY_NS)
        return 0;
    row.sent_ns = now;
    alert_state_put(w->st, kind, subject, &row);
    return 1;
}

/* ---- after a scan ---- */

/* The verdict against the last one alerted (or, the first time, the scan
 * before): an alert when it changed. */
static void verdict_alert(watcher *w, const scan_result *r, const char *prev_verdict)
{
    const char *v = scan_verdict_name(r->verdict);
    char msg[512], was[ALERT_STATE_MAX];
    alert_state_row row;
    alert a;
    if (alert_state_get(w->st, "verdict", w->subject, &row) != TMI_OK)
        return;
    snprintf(was, sizeof(was), "%s", row.found ? row.state : prev_verdict);
    if (row.found && strcmp(row.state, v) == 0)
        return;
    state_changes(w, "verdict", w->subject, v);
    if (was[0] == '\0' || strcmp(was, v) == 0)
        return;
    memset(&a, 0, sizeof(a));
    a.kind = "verdict_change";
    a.severity = r->verdict == SCAN_AFFECTED ? 3 : 5;
    snprintf(msg, sizeof(msg), "The TMI folder is now %s (was %s): %s", v, was,
             r->repair_reason != NULL ? r->repair_reason : "");
    a.message = msg;
    a.verdict = v;
    rules_emit(w, &a);
}

static void change_alert(watcher *w, const scan_result *r, const scans_change *c, int64_t since,
                         scan_reason reason)
{
    char msg[1024], when[TIME_UTC_LEN], oldh[65], newh[65];
    alert a;
    memset(&a, 0, sizeof(a));
    a.kind = "outside_change";
    a.severity = 4;
    a.verdict = scan_verdict_name(r->verdict);
    a.file = c->now.path;
    a.old_version = c->before_version;
    a.new_version = c->now.version;
    a.old_sha256 = c->before_has_sha256 ? hex_encode(c->before_sha256, 32, oldh) : NULL;
    a.new_sha256 = c->now.has_sha256 ? hex_encode(c->now.sha256, 32, newh) : NULL;
    a.changed_by = "outside";
    snprintf(msg, sizeof(msg), "%s changed outside tmi-console%s%s: %s -> %s (%s)", c->now.path,
             reason == SCAN_BY_START ? " while not watched, since " : " since ",
             since > 0 ? time_format_utc(since, when, sizeof(when)) : "the first scan",
             c->before_version != NULL ? c->before_version
                                       : (c->before_present ? "no version" : "absent"),
             c->now.version != NULL ? c->now.version : (c->now.present ? "no version" : "absent"),
             c->now.status != NULL ? c->now.status : "");
    a.message = msg;
    rules_emit(w, &a);
}

static void changes_alerts(watcher *w, const scan_result *r, int64_t scan_id, scan_reason reason)
{
    scans_change_list ch = {NULL, 0};
    int64_t prev_id = 0, since = 0;
    size_t sent = 0;
    if (reason == SCAN_BY_JOB || reason == SCAN_BY_JOB_CHECK)
        return;
    if (scans_before(w->st, scan_id, &prev_id, &since) != TMI_OK || prev_id == 0)
        return; /* the first scan: what it saw is the start, not a change */
    if (scans_changes(w->st, scan_id, MAX_FILE_ALERTS, &ch) != TMI_OK)
        return;
    for (size_t i = 0; i < ch.count && sent < MAX_FILE_ALERTS; i++) {
        if (!ch.rows[i].has_before)
            continue; /* a path seen the first time (a new source folder) */
        change_alert(w, r, &ch.rows[i], since, reason);
        sent++;
    }
    scans_change_list_free(&ch);
}

static void auto_after_scan(watcher *w, const scan_result *r);

void rules_after_scan(watcher *w, const scan_result *r, int64_t scan_id, scan_reason reason,
                      const char *prev_verdict)
{
    changes_alerts(w, r, scan_id, reason);
    verdict_alert(w, r, prev_verdict);
    auto_after_scan(w, r);
}

/* ---- auto-repair ---- */

static void policy_audit(watcher *w, const char *outcome, const char *detail)
{
    audit_event ev;
    char details[512];
    cJSON *d = cJSON_CreateObject();
    char *text = NULL;
    if (d != NULL) {
        cJSON_AddStringToObject(d, "detail", detail);
        cJSON_AddNumberToObject(d, "delay_s", w->cfg.auto_repair_s);
        text = cJSON_PrintUnformatted(d);
        cJSON_Delete(d);
    }
    snprintf(details, sizeof(details), "%s", text != NULL ? text : "{}");
    free(text);
    memset(&ev, 0, sizeof(ev));
    ev.action = "auto_repair";
    ev.target = w->subject;
    ev.outcome = outcome;
    ev.details = details;
    audit_append(w->st, &policy_actor, &ev, NULL);
    plat_mutex_lock(w->mu);
    snprintf(w->auto_detail, sizeof(w->auto_detail), "%s", detail);
    plat_mutex_unlock(w->mu);
}

/* due: monotonic ns, or 0 */
static void auto_set(watcher *w, auto_state s, int64_t due)
{
    plat_mutex_lock(w->mu);
    w->auto_state = s;
    w->auto_due_ns = due;
    w->auto_due_wall_ns = due > 0 ? plat_now_ns() + (due - plat_monotonic_ns()) : 0;
    plat_mutex_unlock(w->mu);
}

static auto_state auto_get(watcher *w)
{
    auto_state s;
    plat_mutex_lock(w->mu);
    s = w->auto_state;
    plat_mutex_unlock(w->mu);
    return s;
}

static void auto_after_scan(watcher *w, const scan_result *r)
{
    auto_state s;
    char detail[256];
    if (w->cfg.auto_repair_s == 0 || w->cfg.jobs == NULL)
        return;
    s = auto_get(w);
    if (r->verdict != SCAN_AFFECTED) {
        /* the fault is gone: the next occurrence may be repaired again
         * (a hold after a failure stays until a person acts) */
        if (s == AUTO_SCHEDULED || s == AUTO_DONE) {
            if (s == AUTO_SCHEDULED)
                policy_audit(w, "skipped", "the fault went away before the repair was due");
            auto_set(w, AUTO_IDLE, 0);
        }
        return;
    }
    if (s != AUTO_IDLE)
        return;
    if (!r->repair_possible) {
        snprintf(detail, sizeof(detail), "not scheduled: %s", r->repair_reason);
        if (state_changes(w, "auto_repair", w->subject, "impossible"))
            policy_audit(w, "skipped", detail);
        return;
    }
    state_changes(w, "auto_repair", w->subject, "scheduled");
    snprintf(detail, sizeof(detail),
             "repair scheduled in %u s (cancel it in the console or start "
             "a job yourself)",
             w->cfg.auto_repair_s);
    auto_set(w, AUTO_SCHEDULED, plat_monotonic_ns() + (int64_t)w->cfg.auto_repair_s * 1000000000LL);
    policy_audit(w, "scheduled", detail);
}

static void auto_run(watcher *w)
{
    char err[512];
    int64_t id = 0;
    int rc =
        runner_start(w->cfg.jobs, REPAIR_FULL, NULL, NULL, 0, &policy_actor, &id, err, sizeof(err));
    if (rc != TMI_OK) {
        policy_audit(w, "skipped", err[0] ? err : tmi_strerror(rc));
        auto_set(w, AUTO_DONE, 0);
        return;
    }
    plat_mutex_lock(w->mu);
    w->auto_state = AUTO_RUNNING;
    w->auto_job = id;
    plat_mutex_unlock(w->mu);
    snprintf(err, sizeof(err), "repair job %lld started", (long long)id);
    policy_audit(w, "ran", err);
}

int watcher_cancel_auto_repair(watcher *w, const char *user)
{
    audit_actor actor = {user, "session"};
    audit_event ev;
    store *s = NULL;
    char err[256];
    plat_mutex_lock(w->mu);
    if (w->auto_state != AUTO_SCHEDULED) {
        plat_mutex_unlock(w->mu);
        return TMI_ENOENT;
    }
    w->auto_state = AUTO_DONE;
    w->auto_due_ns = 0;
    snprintf(w->auto_detail, sizeof(w->auto_detail), "cancelled by %s", user);
    plat_mutex_unlock(w->mu);
    if (store_open_ex(w->data_dir, STORE_OPEN_EXISTING | STORE_OPEN_NO_CHECK, &s, err,
                      sizeof(err)) == TMI_OK) {
        memset(&ev, 0, sizeof(ev));
        ev.action = "auto_repair";
        ev.target = "cancel";
        ev.outcome = "cancelled";
        audit_append(s, &actor, &ev, NULL);
    }
    store_close(s);
    return TMI_OK;
}

/* ---- the periodic checks ---- */

/* Jobs that ended since the last look: alerts for failures, and what they
 * mean for auto-repair (a person's job lifts a hold; the policy's own
 * outcome decides whether it may run again). */
static void check_jobs(watcher *w)
{
    cJSON *list = NULL, *j;
    int64_t newest = w->last_job_seen;
    if (jobs_list_json(w->st, 0, 20, &list) != TMI_OK)
        return;
    for (int i = cJSON_GetArraySize(list) - 1; i >= 0; i--) {
        j = cJSON_GetArrayItem(list, i);
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
        const cJSON *status = cJSON_GetObjectItemCaseSensitive(j, "status");
        const cJSON *actor = cJSON_GetObjectItemCaseSensitive(j, "actor");
        const cJSON *rb = cJSON_GetObjectItemCaseSensitive(j, "rolled_back");
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(j, "message");
        const cJSON *action = cJSON_GetObjectItemCaseSensitive(j, "action");
        int64_t jid = cJSON_IsNumber(id) ? (int64_t)id->valuedouble : 0;
        int by_policy = cJSON_IsString(actor) && strcmp(actor->valuestring, "policy") == 0;
        int failed = cJSON_IsString(status) && strcmp(status->valuestring, "failed") == 0;
        if (jid <= w->last_job_seen)
            continue;
        if (!by_policy && auto_get(w) == AUTO_SCHEDULED)
            policy_audit(w, "cancelled", "a person started a job first");
        if (!by_policy && (auto_get(w) == AUTO_SCHEDULED || auto_get(w) == AUTO_HELD))
            auto_set(w, AUTO_DONE, 0);
        if (cJSON_IsString(status) && strcmp(status->valuestring, "running") == 0)
            break; /* look at it again when it has ended */
        newest = jid;
        if (by_policy && jid == w->auto_job)
            auto_set(w, failed || cJSON_IsTrue(rb) ? AUTO_HELD : AUTO_DONE, 0);
        if (by_policy && jid == w->auto_job && (failed || cJSON_IsTrue(rb)))
            policy_audit(w, "held",
                         "the automatic repair failed: no new attempt until a person "
                         "runs a job");
        if (failed || cJSON_IsTrue(rb)) {
            char text[768];
            alert a;
            memset(&a, 0, sizeof(a));
            a.kind = "job_failed";
            a.severity = 3;
            a.job = jid;
            a.changed_by = by_policy ? "policy" : "job";
            snprintf(text, sizeof(text), "Job %lld (%s) %s: %s", (long long)jid,
                     cJSON_IsString(action) ? action->valuestring : "?",
                     cJSON_IsTrue(rb) ? "was rolled back" : "failed",
                     cJSON_IsString(msg) ? msg->valuestring : "");
            a.message = text;
            rules_emit(w, &a);
        }
    }
    w->last_job_seen = newest;
    cJSON_Delete(list);
}

/* The service down while the files are good (two looks in a row). */
static void check_service(watcher *w)
{
    const tmi_target *t = w->cfg.target;
    service_ref svc;
    plat_svc_status st;
    char verdict[32], msg[512];
    alert a;
    plat_mutex_lock(w->mu);
    snprintf(verdict, sizeof(verdict), "%s", w->last_verdict);
    plat_mutex_unlock(w->mu);
    if (strcmp(verdict, "healthy") != 0 || runner_job_locked(w->data_dir) ||
        service_resolve(t->pb, t->root, tmi_target_service(t), &svc) != TMI_OK ||
        plat.svc_query(svc.scope, svc.name, &st) != TMI_OK || st.state == PLAT_SVC_NOT_FOUND)
        return;
    if (!state_changes(
            w, "service", svc.name,
            st.state == PLAT_SVC_RUNNING || st.state == PLAT_SVC_START_PENDING ? "up" : "down") &&
        !reminder_due(w, "service", svc.name, "down"))
        return;
    if (st.state == PLAT_SVC_RUNNING || st.state == PLAT_SVC_START_PENDING)
        return;
    memset(&a, 0, sizeof(a));
    a.kind = "service_down";
    a.severity = 3;
    a.verdict = verdict;
    snprintf(msg, sizeof(msg), "The service '%s' is %s although the TMI files are good%s", svc.name,
             service_state_name(st.state),
             st.has_exit_code ? "; see its last exit code and event 800" : "");
    a.message = msg;
    rules_emit(w, &a);
}

static void check_chain(watcher *w)
{
    audit_report rep;
    char state[48], msg[400];
    alert a;
    if (audit_verify(w->st, NULL, &rep) != TMI_OK)
        return;
    snprintf(state, sizeof(state), rep.intact ? "intact" : "broken:%lld",
             (long long)rep.broken_seq);
    if (!state_changes(w, "chain", "audit", state) &&
        !(rep.intact ? 0 : reminder_due(w, "chain", "audit", state)))
        return;
    if (rep.intact)
        return;
    memset(&a, 0, sizeof(a));
    a.kind = "chain_broken";
    a.severity = 2;
    snprintf(msg, sizeof(msg), "The audit trail does not verify: %s (row %lld)", rep.detail,
             (long long)rep.broken_seq);
    a.message = msg;
    rules_emit(w, &a);
}

void rules_periodic(watcher *w, int64_t now_ns)
{
    int64_t mono = plat_monotonic_ns();
    int due;
    plat_mutex_lock(w->mu);
    due = w->auto_state == AUTO_SCHEDULED && mono >= w->auto_due_ns;
    plat_mutex_unlock(w->mu);
    if (due)
        auto_run(w);
    (void)now_ns;
    if (auto_get(w) == AUTO_RUNNING)
        check_jobs(w); /* its outcome decides the next state at once */
    if (mono < w->next_check_ns)
        return;
    w->next_check_ns = mono + WATCHER_CHECK_S * 1000000000LL;
    check_jobs(w);
    check_service(w);
    if (mono >= w->next_chain_ns) {
        w->next_chain_ns = mono + DAY_NS;
        check_chain(w);
    }
    if (reminder_due(w, "verdict", w->subject, "affected")) {
        alert a;
        memset(&a, 0, sizeof(a));
        a.kind = "verdict_change";
        a.severity = 3;
        a.verdict = "affected";
        a.message = "Reminder: the TMI folder is still affected";
        rules_emit(w, &a);
    }
}
