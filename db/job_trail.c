/*
 * job_trail.c - one job's audit rows and scans (see job_trail.h).
 */
#include "job_trail.h"

#include <stdlib.h>
#include <string.h>

#include "audit_int.h"
#include "err.h"

/* When job job_id was created. TMI_ENOENT when there is no such job. */
static int job_created(store *s, int64_t job_id, int64_t *created_ns)
{
    sqlite3_stmt *st = NULL;
    int rc = store_prepare(s, "SELECT created_ns FROM jobs WHERE id = ?", &st);
    if (rc != TMI_OK)
        return rc;
    sqlite3_bind_int64(st, 1, job_id);
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        *created_ns = sqlite3_column_int64(st, 0);
    else if (src == SQLITE_DONE)
        rc = store_fail(s, TMI_ENOENT, "no job %lld", (long long)job_id);
    else
        rc = store_fail_sqlite(s, src, "cannot read the job");
    sqlite3_finalize(st);
    return rc;
}

/* Oldest first: audit_list gives the newest first. */
static void reverse_rows(audit_rows *rows)
{
    for (size_t i = 0, j = rows->count; i + 1 < j; i++, j--) {
        audit_row t = rows->rows[i];
        rows->rows[i] = rows->rows[j - 1];
        rows->rows[j - 1] = t;
    }
}

int job_trail_audit(store *s, int64_t job_id, audit_rows *out)
{
    audit_query q;
    int64_t created = 0;
    int rc;
    if (s == NULL || out == NULL || job_id <= 0)
        return TMI_EINVAL;
    store_clear_error(s);
    out->rows = NULL;
    out->count = 0;
    rc = job_created(s, job_id, &created);
    if (rc != TMI_OK)
        return rc;
    memset(&q, 0, sizeof(q));
    q.job = job_id; /* the audit_job index: the rule of audit.h, schema v7 */
    q.limit = JOB_TRAIL_MAX_ROWS;
    rc = audit_list(s, &q, out);
    if (rc == TMI_OK)
        reverse_rows(out);
    return rc;
}

/* One integer of a one-row query with an optional int64 argument; 0 when
 * no row or NULL. */
static int query_id(store *s, const char *sql, int nargs, int64_t arg, int64_t *out)
{
    sqlite3_stmt *st = NULL;
    int rc = store_prepare(s, sql, &st);
    *out = 0;
    if (rc != TMI_OK)
        return rc;
    if (nargs > 0)
        sqlite3_bind_int64(st, 1, arg);
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    else if (src != SQLITE_DONE)
        rc = store_fail_sqlite(s, src, "cannot read the scans");
    sqlite3_finalize(st);
    return rc;
}

int job_trail_scans(store *s, int64_t job_id, int64_t *first, int64_t *last)
{
    int rc;
    store_clear_error(s);
    rc = query_id(s, "SELECT min(id) FROM scans WHERE job_id = ?", 1, job_id, first);
    if (rc == TMI_OK)
        rc = query_id(s, "SELECT max(id) FROM scans WHERE job_id = ?", 1, job_id, last);
    return rc;
}

int job_trail_scan_before(store *s, int64_t t_ns, int64_t *scan_id)
{
    store_clear_error(s);
    return query_id(s, "SELECT max(id) FROM scans WHERE started_ns < ?", 1, t_ns, scan_id);
}

int job_trail_scan_latest(store *s, int64_t *scan_id)
{
    store_clear_error(s);
    return query_id(s, "SELECT max(id) FROM scans", 0, 0, scan_id);
}
