/*
 * audit_read.c - reading the trail back (audit.h): a page of rows newest
 * first, a time range turned into a seq range, and a row as JSON.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "audit_int.h"
#include "err.h"
#include "hex.h"

/* ---- a time range is a seq range ---- */

/* The first row at or after seq `from`: *found 0 when there is none. */
static int probe(store *s, int64_t from, int *found, int64_t *seq, int64_t *time_ns)
{
    sqlite3_stmt *st = NULL;
    int rc =
        store_stmt(s, STMT_AUDIT_PROBE,
                   "SELECT seq, time_ns FROM audit_log WHERE seq >= ? ORDER BY seq LIMIT 1", &st);
    if (rc != TMI_OK)
        return rc;
    sqlite3_bind_int64(st, 1, from);
    *found = 0;
    int src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        *found = 1;
        *seq = sqlite3_column_int64(st, 0);
        *time_ns = sqlite3_column_int64(st, 1);
        src = SQLITE_DONE;
    }
    if (src != SQLITE_DONE)
        rc = store_fail_sqlite(s, src, "cannot read the audit trail");
    store_stmt_release(st);
    return rc;
}

/* The seq of the first row (in seq order) whose time is >= t; *found 0 when
 * none. A binary search over seq, as time never goes backwards along seq:
 * about log2(rows) lookups by primary key, and no time index. */
static int first_at_or_after(store *s, int64_t t, int *found, int64_t *seq)
{
    audit_head last;
    int64_t lo, hi, r_seq = 0, r_time = 0;
    int any = 0;
    int rc = audit_read_last(s, &last, NULL);
    *found = 0;
    if (rc == TMI_OK)
        rc = probe(s, INT64_MIN, &any, &lo, &r_time);
    if (rc != TMI_OK || !any)
        return rc;
    hi = last.seq;
    /* Invariant: the answer, if any, lies in [lo, hi] or is *seq already. */
    while (lo <= hi) {
        int64_t mid = lo + (int64_t)(((uint64_t)hi - (uint64_t)lo) / 2);
        rc = probe(s, mid, &any, &r_seq, &r_time);
        if (rc != TMI_OK || !any)
            return rc;
        if (r_time >= t) {
            *found = 1;
            *seq = r_seq;
            if (mid == lo)
                break;
            hi = mid - 1;
        } else {
            if (r_seq >= hi)
                break;
            lo = r_seq + 1;
        }
    }
    return TMI_OK;
}

int audit_seq_range(store *s, int has_since, int64_t since_ns, int has_until, int64_t until_ns,
                    int64_t *lo, int64_t *hi)
{
    int64_t a = 0, b = 0;
    int found = 0;
    int rc = TMI_OK;
    *lo = 1;
    *hi = INT64_MAX;
    if (has_since) {
        rc = first_at_or_after(s, since_ns, &found, &a);
        if (rc != TMI_OK)
            return rc;
        *lo = found ? a : INT64_MAX; /* nothing that late: empty */
    }
    if (has_until) {
        rc = first_at_or_after(s, until_ns, &found, &b);
        if (rc != TMI_OK)
            return rc;
        /* the rows before the first one at or after `until` (all when none is) */
        *hi = !found ? INT64_MAX : b > INT64_MIN ? b - 1 : INT64_MIN;
    }
    return TMI_OK;
}

/* ---- list ---- */

void audit_rows_free(audit_rows *rows)
{
    if (rows == NULL)
        return;
    for (size_t i = 0; i < rows->count; i++) {
        audit_row *r = &rows->rows[i];
        free(r->time);
        free(r->actor);
        free(r->auth);
        free(r->action);
        free(r->target);
        free(r->params);
        free(r->outcome);
        free(r->details);
    }
    free(rows->rows);
    rows->rows = NULL;
    rows->count = 0;
}

static int read_row(sqlite3_stmt *st, audit_row *r)
{
    int rc = TMI_OK;
    memset(r, 0, sizeof(*r));
    r->seq = sqlite3_column_int64(st, 0);
    r->time_ns = sqlite3_column_int64(st, 1);
    char **cols[] = {&r->time,   &r->actor,  &r->auth,    &r->action,
                     &r->target, &r->params, &r->outcome, &r->details};
    for (size_t i = 0; rc == TMI_OK && i < sizeof(cols) / sizeof(cols[0]); i++)
        rc = store_col_strdup(st, (int)i + 2, cols[i]);
    if (sqlite3_column_bytes(st, 10) == 32)
        memcpy(r->prev_hash, sqlite3_column_blob(st, 10), 32);
    if (sqlite3_column_bytes(st, 11) == 32)
        memcpy(r->hash, sqlite3_column_blob(st, 11), 32);
    r->job = sqlite3_column_int64(st, 12); /* NULL reads as 0: none */
    return rc;
}

static int check_query(store *s, const audit_query *q)
{
    if (q->before < 0)
        return store_fail(s, TMI_EINVAL, "audit: 'before' must be a positive seq");
    if (q->job < 0)
        return store_fail(s, TMI_EINVAL, "audit: 'job' must be a positive job id");
    if (q->has_since && q->has_until && q->until_ns <= q->since_ns)
        return store_fail(s, TMI_EINVAL, "audit: 'until' must be later than 'since'");
    if (q->action != NULL && audit_check_word(s, "action", q->action) != TMI_OK)
        return TMI_EINVAL;
    return TMI_OK;
}

/* The SELECT of audit_list() for q into sql. Only fixed fragments go into
 * it; every value is bound: ?1..?2 seq range, ?3 action, ?4 since, ?5 until,
 * ?6 limit, ?7 job. The action is matched by its id in audit_text
 * (schema.c, v5). A job's rows are read from its entries in audit_job
 * (index (job, seq), newest first), each row by its seq: the CROSS JOIN
 * keeps that order of the loops. */
static int list_sql(store *s, const audit_query *q, char *sql, size_t sqllen)
{
    const char *from = q->job > 0 ? " FROM audit_job j CROSS JOIN audit a ON a.seq = j.seq"
                                    " WHERE j.job = ?7 AND j.seq BETWEEN ?1 AND ?2"
                                  : " FROM audit a WHERE a.seq BETWEEN ?1 AND ?2";
    const char *job_col =
        q->job > 0 ? "j.job" : "(SELECT aj.job FROM audit_job aj WHERE aj.seq = a.seq)";
    const char *action_sql;
    if (q->action == NULL)
        action_sql = "";
    else if (strcmp(q->action, "scan") == 0)
        action_sql = " AND a.action_id = (SELECT id FROM audit_text WHERE text = ?3)";
    else /* lets the planner use the partial index audit_action (id 1 is 'scan') */
        action_sql = " AND a.action_id = (SELECT id FROM audit_text WHERE text = ?3)"
                     " AND a.action_id <> 1";
    int n = snprintf(sql, sqllen,
                     "SELECT a.seq, a.time_ns, a.time, a.actor, a.auth, a.action, a.target,"
                     " a.params, a.outcome, a.details, a.prev_hash, a.hash, %s%s%s%s%s"
                     " ORDER BY %s DESC LIMIT ?6",
                     job_col, from, action_sql, q->has_since ? " AND +a.time_ns >= ?4" : "",
                     q->has_until ? " AND +a.time_ns < ?5" : "", q->job > 0 ? "j.seq" : "a.seq");
    if (n < 0 || (size_t)n >= sqllen)
        return store_fail(s, TMI_EINVAL, "audit: query too long");
    return TMI_OK;
}

/* Run the list_sql() statement over seq range [lo, hi] into rows (room for
 * limit rows). */
static int read_page(store *s, const audit_query *q, const char *sql, int64_t lo, int64_t hi,
                     int limit, audit_rows *rows)
{
    sqlite3_stmt *st = NULL;
    int src = SQLITE_DONE;
    int rc = store_prepare(s, sql, &st);
    if (rc != TMI_OK)
        return rc;
    sqlite3_bind_int64(st, 1, lo);
    sqlite3_bind_int64(st, 2, hi);
    if (q->action)
        sqlite3_bind_text(st, 3, q->action, -1, SQLITE_STATIC);
    if (q->has_since)
        sqlite3_bind_int64(st, 4, q->since_ns);
    if (q->has_until)
        sqlite3_bind_int64(st, 5, q->until_ns);
    sqlite3_bind_int(st, 6, limit);
    if (q->job > 0)
        sqlite3_bind_int64(st, 7, q->job);
    while ((src = sqlite3_step(st)) == SQLITE_ROW && rows->count < (size_t)limit) {
        rc = read_row(st, &rows->rows[rows->count]);
        rows->count++;
        if (rc != TMI_OK) {
            store_fail(s, rc, "out of memory");
            goto out;
        }
    }
    if (src != SQLITE_DONE && src != SQLITE_ROW)
        rc = store_fail_sqlite(s, src, "cannot read the audit trail");
out:
    sqlite3_finalize(st);
    return rc;
}

int audit_list(store *s, const audit_query *q, audit_rows *out)
{
    char sql[1024];
    audit_rows rows = {NULL, 0};
    int64_t lo = 1, hi = INT64_MAX;
    int limit, rc, began = 0;

    if (s == NULL || q == NULL || out == NULL)
        return TMI_EINVAL;
    store_clear_error(s);
    out->rows = NULL;
    out->count = 0;
    rc = check_query(s, q);
    if (rc == TMI_OK)
        rc = list_sql(s, q, sql, sizeof(sql));
    if (rc != TMI_OK)
        return rc;
    limit = store_clamp_limit(q->limit);
    rows.rows = calloc((size_t)limit, sizeof(*rows.rows));
    if (rows.rows == NULL)
        return store_fail(s, TMI_ENOMEM, "out of memory");
    rc = store_read_begin(s, &began);
    if (rc != TMI_OK)
        goto out;
    /* time order is seq order (audit_append), so a time range is a seq range */
    rc = audit_seq_range(s, q->has_since, q->since_ns, q->has_until, q->until_ns, &lo, &hi);
    if (rc != TMI_OK)
        goto out;
    if (q->before > 0 && hi >= q->before)
        hi = q->before - 1;
    rc = read_page(s, q, sql, lo, hi, limit, &rows);
out:
    store_read_end(s, began);
    if (rc != TMI_OK) {
        audit_rows_free(&rows);
        return rc;
    }
    *out = rows;
    return TMI_OK;
}

/* ---- JSON ---- */

/* Add name: the parsed JSON text (or the text itself if it does not parse,
 * or null). */
static void add_json_text(cJSON *o, const char *name, const char *text)
{
    cJSON *v = text != NULL ? cJSON_Parse(text) : NULL;
    if (v != NULL)
        cJSON_AddItemToObject(o, name, v);
    else if (text != NULL)
        cJSON_AddStringToObject(o, name, text);
    else
        cJSON_AddNullToObject(o, name);
}

static void add_str_or_null(cJSON *o, const char *name, const char *text)
{
    if (text != NULL)
        cJSON_AddStringToObject(o, name, text);
    else
        cJSON_AddNullToObject(o, name);
}

cJSON *audit_row_json(const audit_row *r)
{
    char hex[65], ns[32];
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return NULL;
    cJSON_AddNumberToObject(o, "seq", (double)r->seq);
    add_str_or_null(o, "time", r->time);
    snprintf(ns, sizeof(ns), "%lld", (long long)r->time_ns);
    cJSON_AddStringToObject(o, "time_ns", ns); /* a string: exact beyond 2^53 */
    add_str_or_null(o, "actor", r->actor);
    add_str_or_null(o, "auth", r->auth);
    add_str_or_null(o, "action", r->action);
    add_str_or_null(o, "target", r->target);
    add_json_text(o, "params", r->params);
    add_str_or_null(o, "outcome", r->outcome);
    add_json_text(o, "details", r->details);
    hex_encode(r->prev_hash, 32, hex);
    cJSON_AddStringToObject(o, "prev_hash", hex);
    hex_encode(r->hash, 32, hex);
    cJSON_AddStringToObject(o, "hash", hex);
    if (r->job > 0)
        cJSON_AddNumberToObject(o, "job", (double)r->job);
    else
        cJSON_AddNullToObject(o, "job");
    return o;
}
