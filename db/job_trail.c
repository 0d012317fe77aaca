/*
 * job_trail.c - one job's audit rows and scans (see job_trail.h).
 */
#include "job_trail.h"

#include <stdlib.h>
#include <string.h>

#include "audit_int.h"
#include "err.h"

/* The job's rows: "job": ID in the details (a CASE, so that no text that
 * is not JSON reaches json_extract), or a scan row of one of its scans. */
static const char trail_sql[] =
    "SELECT seq, time_ns, time, actor, auth, action, target, params, outcome, details,"
    " prev_hash, hash FROM audit"
    " WHERE seq >= ?2 AND ("
    "  (CASE WHEN json_valid(details) THEN json_extract(details, '$.job') END) = ?1"
    "  OR (action = 'scan' AND (CASE WHEN json_valid(details)"
    "      THEN json_extract(details, '$.scan_id') END)"
    "      IN (SELECT id FROM scans WHERE job_id = ?1)))"
    " ORDER BY seq LIMIT ?3";

/* One row of trail_sql into *r. */
static int read_row(sqlite3_stmt *st, audit_row *r)
{
    int rc = TMI_OK;
    char **cols[] = {&r->time,   &r->actor,  &r->auth,    &r->action,
                     &r->target, &r->params, &r->outcome, &r->details};
    memset(r, 0, sizeof(*r));
    r->seq = sqlite3_column_int64(st, 0);
    r->time_ns = sqlite3_column_int64(st, 1);
    for (size_t i = 0; rc == TMI_OK && i < sizeof(cols) / sizeof(cols[0]); i++)
        rc = store_col_strdup(st, (int)i + 2, cols[i]);
    if (sqlite3_column_bytes(st, 10) == 32)
        memcpy(r->prev_hash, sqlite3_column_blob(st, 10), 32);
    if (sqlite3_column_bytes(st, 11) == 32)
        memcpy(r->hash, sqlite3_column_blob(st, 11), 32);
    return rc;
}

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

static int read_trail(store *s, int64_t job_id, int64_t lo, audit_rows *rows)
{
    sqlite3_stmt *st = NULL;
    int src, rc = store_prepare(s, trail_sql, &st);
    if (rc != TMI_OK)
        return rc;
    sqlite3_bind_int64(st, 1, job_id);
    sqlite3_bind_int64(st, 2, lo);
    sqlite3_bind_int(st, 3, JOB_TRAIL_MAX_ROWS);
    while ((src = sqlite3_step(st)) == SQLITE_ROW && rows->count < JOB_TRAIL_MAX_ROWS) {
        rc = read_row(st, &rows->rows[rows->count]);
        rows->count++;
        if (rc != TMI_OK) {
            store_fail(s, rc, "out of memory");
            break;
        }
    }
    if (rc == TMI_OK && src != SQLITE_DONE && src != SQLITE_ROW)
        rc = store_fail_sqlite(s, src, "cannot read the job's audit rows");
    sqlite3_finalize(st);
    return rc;
}

int job_trail_audit(store *s, int64_t job_id, audit_rows *out)
{
    audit_rows rows = {NULL, 0};
    int64_t created = 0, lo = 1, hi = 0;
    int began = 0, rc;
    if (s == NULL || out == NULL || job_id <= 0)
        return TMI_EINVAL;
    store_clear_error(s);
    out->rows = NULL;
    out->count = 0;
    rows.rows = calloc(JOB_TRAIL_MAX_ROWS, sizeof(*rows.rows));
    if (rows.rows == NULL)
        return store_fail(s, TMI_ENOMEM, "out of memory");
    rc = store_read_begin(s, &began);
    if (rc == TMI_OK)
        rc = job_created(s, job_id, &created);
    /* the job's rows come after its row was written: start the search there */
    if (rc == TMI_OK)
        rc = audit_seq_range(s, 1, created, 0, 0, &lo, &hi);
    if (rc == TMI_OK)
        rc = read_trail(s, job_id, lo, &rows);
    store_read_end(s, began);
    if (rc != TMI_OK) {
        audit_rows_free(&rows);
        return rc;
    }
    *out = rows;
    return TMI_OK;
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
