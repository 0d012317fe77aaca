/*
 * report_data.c - gathering a report (report.h): the job and its steps, the
 * scans before and after, the job's audit rows and the chain's check from
 * the store; the host, the service and the event evidence from the system.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "evidence.h"
#include "job_trail.h"
#include "jobs.h"
#include "plat.h"
#include "report.h"
#include "scans.h"
#include "timefmt.h"

static void copy_text(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", src != NULL ? src : "");
}

static const char *json_text(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The report's file row for name (added when new); NULL when full. */
static report_file *file_row(report *r, const char *name)
{
    for (size_t i = 0; i < r->n_files; i++) {
        if (strcmp(r->files[i].name, name) == 0)
            return &r->files[i];
    }
    if (r->n_files >= REPORT_MAX_FILES)
        return NULL;
    report_file *f = &r->files[r->n_files++];
    memset(f, 0, sizeof(*f));
    copy_text(f->name, sizeof(f->name), name);
    return f;
}

/* A scan's "signature" object of a file in words (report_file's before_sig). */
static void sig_words(const cJSON *sig, char *buf, size_t buflen)
{
    const char *status = json_text(sig, "status");
    const char *org = json_text(cJSON_GetObjectItemCaseSensitive(sig, "signer"), "organization");
    const char *reason = json_text(sig, "reason");
    buf[0] = '\0';
    if (status == NULL)
        return;
    if (strcmp(status, "valid") == 0)
        snprintf(buf, buflen, "valid, O=%s", org != NULL ? org : "?");
    else if (strcmp(status, "invalid") == 0)
        snprintf(buf, buflen, "invalid: %s", reason != NULL ? reason : "?");
    else
        snprintf(buf, buflen, "%s", status);
}

/* The TMI folder's files of scan scan_id into the before (after = 0) or
 * after (after = 1) columns, and its verdict. */
static int take_scan(store *s, report *r, int64_t scan_id, int after)
{
    cJSON *doc = NULL, *f;
    int rc = scans_doc_json(s, scan_id, &doc);
    if (rc != TMI_OK)
        return rc;
    copy_text(after ? r->verdict_after : r->verdict_before, sizeof(r->verdict_after),
              json_text(doc, "verdict"));
    if (json_text(doc, "tmi_dir") != NULL)
        copy_text(r->tmi_dir, sizeof(r->tmi_dir), json_text(doc, "tmi_dir"));
    if (r->root[0] == '\0' && json_text(doc, "root") != NULL)
        copy_text(r->root, sizeof(r->root), json_text(doc, "root"));
    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(doc, "files"))
    {
        const char *name = json_text(f, "name");
        report_file *row = name != NULL ? file_row(r, name) : NULL;
        if (row == NULL)
            continue;
        copy_text(after ? row->after_version : row->before_version, sizeof(row->after_version),
                  json_text(f, "version"));
        copy_text(after ? row->after_sha256 : row->before_sha256, sizeof(row->after_sha256),
                  json_text(f, "sha256"));
        copy_text(after ? row->after_status : row->before_status, sizeof(row->after_status),
                  json_text(f, "status"));
        sig_words(cJSON_GetObjectItemCaseSensitive(f, "signature"),
                  after ? row->after_sig : row->before_sig, sizeof(row->after_sig));
    }
    cJSON_Delete(doc);
    return TMI_OK;
}

/* The change in one line: the job's own summary when it has one, else
 * made from the files ("8 files: 1.12.0.1156 -> 1.12.0.1266, backup B"). */
static void make_summary(report *r)
{
    const cJSON *sum = cJSON_GetObjectItemCaseSensitive(r->job, "summary");
    const char *backup = json_text(r->job, "backup");
    const char *from = NULL, *to = NULL;
    size_t changed = 0, n;
    int same = 1;
    if (json_text(sum, "text") != NULL) {
        copy_text(r->summary, sizeof(r->summary), json_text(sum, "text"));
        return;
    }
    for (size_t i = 0; i < r->n_files; i++) {
        const report_file *f = &r->files[i];
        if (strcmp(f->before_sha256, f->after_sha256) == 0 &&
            strcmp(f->before_version, f->after_version) == 0)
            continue;
        changed++;
        if (from == NULL) {
            from = f->before_version;
            to = f->after_version;
        } else if (strcmp(from, f->before_version) != 0 || strcmp(to, f->after_version) != 0) {
            same = 0;
        }
    }
    if (changed == 0)
        n = (size_t)snprintf(r->summary, sizeof(r->summary), "no file changed");
    else if (same && from[0] != '\0' && to[0] != '\0' && strcmp(from, to) != 0)
        n = (size_t)snprintf(r->summary, sizeof(r->summary), "%zu file%s: %s -> %s", changed,
                             changed == 1 ? "" : "s", from, to);
    else
        n = (size_t)snprintf(r->summary, sizeof(r->summary), "%zu file%s changed", changed,
                             changed == 1 ? "" : "s");
    if (backup != NULL && n < sizeof(r->summary))
        snprintf(r->summary + n, sizeof(r->summary) - n, ", backup %s", backup);
}

/* The service and the events of t, or of the recorded root when t is NULL
 * (the service "unknown" when that does not resolve). */
static void read_system(report *r, const tmi_target *t, const playbook *pb)
{
    tmi_target own;
    char why[PLAT_PATH_MAX + 128];
    if (t == NULL && pb != NULL && r->root[0] != '\0' &&
        tmi_target_init(&own, pb, r->root, r->tmi_dir[0] ? r->tmi_dir : NULL, NULL, why,
                        sizeof(why)) == TMI_OK)
        t = &own;
    if (t != NULL) {
        r->service = evidence_service_json(t);
        r->events = evidence_events_json(t, 0, EVIDENCE_EVENTS_MAX);
        return;
    }
    r->service = cJSON_CreateObject();
    r->events = cJSON_CreateArray();
    cJSON_AddStringToObject(r->service, "state", "unknown");
    cJSON_AddStringToObject(r->service, "detail",
                            "not read: the target is not known (give --root DIR)");
}

/* What every report has: host, time, service, events, the chain's check. */
static int gather_common(store *s, const tmi_target *t, const playbook *pb, report *r, char *err,
                         size_t errlen)
{
    int rc;
    r->made_ns = plat_now_ns();
    if (plat_host_name(r->host, sizeof(r->host)) != TMI_OK)
        copy_text(r->host, sizeof(r->host), "(unknown)");
    read_system(r, t, pb);
    if (r->service == NULL || r->events == NULL) {
        snprintf(err, errlen, "out of memory");
        return TMI_ENOMEM;
    }
    rc = audit_verify(s, NULL, &r->verify);
    if (rc != TMI_OK) {
        snprintf(err, errlen, "cannot verify the audit trail: %s", store_errmsg(s));
        return rc;
    }
    r->verify_ran = 1;
    return TMI_OK;
}

/* The job's scans: before and after (report.h). */
static int job_scans(store *s, report *r)
{
    int64_t first = 0, last = 0, created = 0;
    const char *when = json_text(r->job, "created");
    char perr[64];
    int rc = job_trail_scans(s, r->job_id, &first, &last);
    if (rc == TMI_OK && first != last) {
        r->scan_before = first;
    } else if (rc == TMI_OK && when != NULL &&
               time_parse(when, &created, perr, sizeof(perr)) == TMI_OK) {
        rc = job_trail_scan_before(s, created, &r->scan_before);
    }
    r->scan_after = last;
    if (rc == TMI_OK && r->scan_before > 0)
        rc = take_scan(s, r, r->scan_before, 0);
    if (rc == TMI_OK && r->scan_after > 0)
        rc = take_scan(s, r, r->scan_after, 1);
    return rc;
}

int report_gather_job(store *s, const tmi_target *t, const playbook *pb, int64_t job_id,
                      report *out, char *err, size_t errlen)
{
    report *r = out;
    int rc;
    memset(r, 0, sizeof(*r));
    r->job_id = job_id;
    rc = jobs_get_json(s, job_id, &r->job);
    if (rc == TMI_ENOENT) {
        snprintf(err, errlen, "no job %lld (see 'tmi-console jobs')", (long long)job_id);
        return rc;
    }
    if (rc == TMI_OK)
        copy_text(r->root, sizeof(r->root),
                  json_text(cJSON_GetObjectItemCaseSensitive(r->job, "params"), "root"));
    if (rc == TMI_OK)
        rc = job_scans(s, r);
    if (rc == TMI_OK)
        rc = job_trail_audit(s, job_id, &r->audit);
    if (rc != TMI_OK) {
        snprintf(err, errlen, "cannot read job %lld: %s", (long long)job_id, store_errmsg(s));
        report_release(r);
        return rc;
    }
    if (r->audit.count > 0) {
        const audit_row *last = &r->audit.rows[r->audit.count - 1];
        r->job_head.seq = last->seq;
        memcpy(r->job_head.hash, last->hash, 32);
    }
    make_summary(r);
    rc = gather_common(s, t, pb, r, err, errlen);
    if (rc != TMI_OK)
        report_release(r);
    return rc;
}

int report_gather_now(store *s, const tmi_target *t, const playbook *pb, report *out, char *err,
                      size_t errlen)
{
    report *r = out;
    cJSON *jobs = NULL;
    int rc;
    memset(r, 0, sizeof(*r));
    rc = job_trail_scan_latest(s, &r->scan_after);
    if (rc == TMI_OK && r->scan_after > 0)
        rc = take_scan(s, r, r->scan_after, 1);
    if (rc == TMI_OK)
        rc = jobs_list_json(s, 0, 1, &jobs);
    if (rc == TMI_OK && cJSON_GetArraySize(jobs) > 0)
        r->job = cJSON_DetachItemFromArray(jobs, 0);
    cJSON_Delete(jobs);
    if (rc != TMI_OK) {
        snprintf(err, errlen, "cannot read the store: %s", store_errmsg(s));
        report_release(r);
        return rc;
    }
    rc = gather_common(s, t, pb, r, err, errlen);
    if (rc != TMI_OK)
        report_release(r);
    return rc;
}

void report_release(report *r)
{
    if (r == NULL)
        return;
    cJSON_Delete(r->job);
    cJSON_Delete(r->service);
    cJSON_Delete(r->events);
    audit_rows_free(&r->audit);
    memset(r, 0, sizeof(*r));
}

void report_file_name(const report *r, char *buf, size_t buflen)
{
    if (r->job_id > 0)
        snprintf(buf, buflen, "tmi-console-job-%lld.html", (long long)r->job_id);
    else
        snprintf(buf, buflen, "tmi-console-report.html");
}
