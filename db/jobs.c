/* jobs.c - the job journal (see jobs.h). */
#include "jobs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "scan_json.h"
#include "store_int.h"
#include "timefmt.h"

#define JOB_TEXT_MAX 4096

static int exec_stmt(store *s, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        int code = store_fail_sqlite(s, rc, what);
        sqlite3_finalize(st);
        return code;
    }
    sqlite3_finalize(st);
    return TMI_OK;
}

/* Bind text cut to JOB_TEXT_MAX bytes (messages come from anywhere). */
static int bind_bounded(sqlite3_stmt *st, int idx, const char *p)
{
    if (p == NULL)
        return sqlite3_bind_null(st, idx);
    size_t n = strlen(p);
    return sqlite3_bind_text(st, idx, p, (int)(n > JOB_TEXT_MAX ? JOB_TEXT_MAX : n),
                             SQLITE_TRANSIENT);
}

int jobs_create(store *s, const char *action, const audit_actor *actor, const char *params_json,
                int64_t *id)
{
    sqlite3_stmt *st = NULL;
    char user[256];
    int rc;
    store_clear_error(s);
    if (actor != NULL && actor->user != NULL)
        snprintf(user, sizeof(user), "%s", actor->user);
    else if (plat_user_name(user, sizeof(user)) != TMI_OK)
        snprintf(user, sizeof(user), "unknown");
    rc = store_prepare(s,
                       "INSERT INTO jobs(action, status, actor, auth, params, pid, created_ns)"
                       " VALUES(?1, 'running', ?2, ?3, ?4, ?5, ?6)",
                       &st);
    if (rc != TMI_OK)
        return rc;
    bind_bounded(st, 1, action);
    bind_bounded(st, 2, user);
    bind_bounded(st, 3, actor != NULL && actor->auth != NULL ? actor->auth : "cli");
    bind_bounded(st, 4, params_json);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)plat_pid());
    sqlite3_bind_int64(st, 6, plat_now_ns());
    rc = exec_stmt(s, st, "cannot create the job");
    if (rc == TMI_OK)
        *id = sqlite3_last_insert_rowid(s->db);
    return rc;
}

int jobs_step_begin(store *s, int64_t id, const char *step, const char *what)
{
    sqlite3_stmt *st = NULL;
    int rc;
    store_clear_error(s);
    rc = store_begin(s);
    if (rc != TMI_OK)
        return rc;
    rc = store_prepare(s,
                       "INSERT INTO job_steps(job_id, step, what, outcome, started_ns)"
                       " VALUES(?1, ?2, ?3, 'running', ?4)",
                       &st);
    if (rc == TMI_OK) {
        sqlite3_bind_int64(st, 1, id);
        bind_bounded(st, 2, step);
        bind_bounded(st, 3, what);
        sqlite3_bind_int64(st, 4, plat_now_ns());
        rc = exec_stmt(s, st, "cannot journal the step");
    }
    if (rc == TMI_OK)
        rc = store_prepare(s, "UPDATE jobs SET step = ?2 WHERE id = ?1", &st);
    if (rc == TMI_OK) {
        sqlite3_bind_int64(st, 1, id);
        bind_bounded(st, 2, step);
        rc = exec_stmt(s, st, "cannot journal the step");
    }
    if (rc == TMI_OK)
        return store_commit(s);
    store_rollback(s);
    return rc;
}

int jobs_step_end(store *s, int64_t id, const char *step, const char *outcome, const char *message)
{
    sqlite3_stmt *st = NULL;
    int rc;
    store_clear_error(s);
    /* a step that failed before it was journaled gets its row now */
    rc = store_prepare(s,
                       "INSERT INTO job_steps(job_id, step, outcome, started_ns)"
                       " SELECT ?1, ?2, 'running', ?3 WHERE NOT EXISTS (SELECT 1 FROM job_steps"
                       " WHERE job_id = ?1 AND step = ?2 AND outcome = 'running')",
                       &st);
    if (rc != TMI_OK)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    bind_bounded(st, 2, step);
    sqlite3_bind_int64(st, 3, plat_now_ns());
    rc = exec_stmt(s, st, "cannot journal the step");
    if (rc != TMI_OK)
        return rc;
    rc = store_prepare(s,
                       "UPDATE job_steps SET outcome = ?3, message = ?4, finished_ns = ?5"
                       " WHERE id = (SELECT max(id) FROM job_steps WHERE job_id = ?1 AND step = ?2"
                       " AND outcome = 'running')",
                       &st);
    if (rc != TMI_OK)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    bind_bounded(st, 2, step);
    bind_bounded(st, 3, outcome);
    bind_bounded(st, 4, message);
    sqlite3_bind_int64(st, 5, plat_now_ns());
    return exec_stmt(s, st, "cannot journal the step");
}

int jobs_set_backup(store *s, int64_t id, const char *backup_id)
{
    sqlite3_stmt *st = NULL;
    int rc;
    store_clear_error(s);
    rc = store_prepare(s, "UPDATE jobs SET backup_id = ?2 WHERE id = ?1", &st);
    if (rc != TMI_OK)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    bind_bounded(st, 2, backup_id);
    return exec_stmt(s, st, "cannot record the backup");
}

int jobs_status_valid(const char *status)
{
    static const char *const known[] = {"succeeded", "succeeded_service_down", "failed",
                                        "recovered"};
    for (size_t i = 0; status != NULL && i < sizeof(known) / sizeof(known[0]); i++) {
        if (strcmp(status, known[i]) == 0)
            return 1;
    }
    return 0;
}

int jobs_set_summary(store *s, int64_t id, const char *summary_json)
{
    sqlite3_stmt *st = NULL;
    cJSON *j;
    int ok, rc;
    store_clear_error(s);
    if (summary_json == NULL || strlen(summary_json) > JOB_TEXT_MAX)
        return store_fail(s, TMI_EINVAL, "a job summary is a JSON object of at most %d bytes",
                          JOB_TEXT_MAX);
    j = cJSON_ParseWithOpts(summary_json, NULL, 1); /* nothing after the object */
    ok = cJSON_IsObject(j) && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "text"));
    cJSON_Delete(j);
    if (!ok)
        return store_fail(s, TMI_EINVAL, "a job summary is a JSON object with a \"text\"");
    rc = store_prepare(s, "UPDATE jobs SET summary = ?2 WHERE id = ?1", &st);
    if (rc != TMI_OK)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, summary_json, -1, SQLITE_TRANSIENT);
    return exec_stmt(s, st, "cannot record the job's summary");
}

int jobs_finish(store *s, int64_t id, const char *status, const char *message, int rolled_back)
{
    sqlite3_stmt *st = NULL;
    int rc;
    store_clear_error(s);
    if (!jobs_status_valid(status))
        return store_fail(s, TMI_EINVAL, "'%.40s' is not a job status", status ? status : "");
    rc = store_prepare(s,
                       "UPDATE jobs SET status = ?2, message = ?3, finished_ns = ?4,"
                       " rolled_back = ?5 WHERE id = ?1",
                       &st);
    if (rc != TMI_OK)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    bind_bounded(st, 2, status);
    bind_bounded(st, 3, message);
    sqlite3_bind_int64(st, 4, plat_now_ns());
    sqlite3_bind_int(st, 5, rolled_back ? 1 : 0);
    return exec_stmt(s, st, "cannot finish the job");
}

static void add_text(cJSON *o, const char *key, sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    if (t != NULL)
        cJSON_AddStringToObject(o, key, (const char *)t);
    else
        cJSON_AddNullToObject(o, key);
}

static void add_time(cJSON *o, const char *key, sqlite3_stmt *st, int col)
{
    char when[40];
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        cJSON_AddNullToObject(o, key);
    else
        cJSON_AddStringToObject(o, key, time_format_utc(sqlite3_column_int64(st, col), when, 40));
}

/* The first and last audit row of the job: two lookups in the index
 * audit_job_by_job (schema.c, v7). */
#define JOB_COLUMNS                                                                                \
    "id, action, status, actor, auth, params, created_ns, finished_ns, backup_id, step, "          \
    "message, rolled_back, summary,"                                                               \
    " (SELECT min(seq) FROM audit_job WHERE job = jobs.id),"                                       \
    " (SELECT max(seq) FROM audit_job WHERE job = jobs.id)"

/* "summary" (the object stored when the job ended, or null), "report" (the
 * path of the job's report page) and "audit" ({first_seq, last_seq} of the
 * job's audit rows, or null when it has none yet). */
static void add_outcome(cJSON *o, sqlite3_stmt *st, int64_t id)
{
    char path[64];
    const unsigned char *sum = sqlite3_column_text(st, 12);
    cJSON *p = sum != NULL ? cJSON_Parse((const char *)sum) : NULL;
    if (cJSON_IsObject(p))
        cJSON_AddItemToObject(o, "summary", p);
    else {
        cJSON_Delete(p);
        cJSON_AddNullToObject(o, "summary");
    }
    snprintf(path, sizeof(path), "/api/jobs/%lld/report", (long long)id);
    cJSON_AddStringToObject(o, "report", path);
    if (sqlite3_column_type(st, 13) == SQLITE_NULL) {
        cJSON_AddNullToObject(o, "audit");
        return;
    }
    cJSON *a = cJSON_AddObjectToObject(o, "audit");
    if (a != NULL) {
        cJSON_AddNumberToObject(a, "first_seq", (double)sqlite3_column_int64(st, 13));
        cJSON_AddNumberToObject(a, "last_seq", (double)sqlite3_column_int64(st, 14));
    }
}

static cJSON *job_from_row(sqlite3_stmt *st)
{
    cJSON *o = cJSON_CreateObject();
    if (o == NULL)
        return NULL;
    cJSON_AddNumberToObject(o, "id", (double)sqlite3_column_int64(st, 0));
    add_text(o, "action", st, 1);
    add_text(o, "status", st, 2);
    add_text(o, "actor", st, 3);
    add_text(o, "auth", st, 4);
    const unsigned char *params = sqlite3_column_text(st, 5);
    cJSON *p = params != NULL ? cJSON_Parse((const char *)params) : NULL;
    if (p != NULL)
        cJSON_AddItemToObject(o, "params", p);
    else
        cJSON_AddNullToObject(o, "params");
    add_time(o, "created", st, 6);
    add_time(o, "finished", st, 7);
    add_text(o, "backup", st, 8);
    add_text(o, "step", st, 9);
    add_text(o, "message", st, 10);
    cJSON_AddBoolToObject(o, "rolled_back", sqlite3_column_int(st, 11));
    add_outcome(o, st, sqlite3_column_int64(st, 0));
    return o;
}

static int add_steps(store *s, int64_t id, cJSON *job)
{
    sqlite3_stmt *st = NULL;
    cJSON *steps = cJSON_AddArrayToObject(job, "steps");
    int rc = store_prepare(s,
                           "SELECT step, what, outcome, message, started_ns, finished_ns"
                           " FROM job_steps WHERE job_id = ?1 ORDER BY id",
                           &st);
    if (rc != TMI_OK)
        return rc;
    if (steps == NULL) {
        sqlite3_finalize(st);
        return TMI_ENOMEM;
    }
    sqlite3_bind_int64(st, 1, id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        cJSON *o = cJSON_CreateObject();
        if (o == NULL)
            break;
        add_text(o, "step", st, 0);
        add_text(o, "what", st, 1);
        add_text(o, "outcome", st, 2);
        add_text(o, "message", st, 3);
        add_time(o, "started", st, 4);
        add_time(o, "finished", st, 5);
        cJSON_AddItemToArray(steps, o);
    }
    rc = rc == SQLITE_DONE ? TMI_OK : store_fail_sqlite(s, rc, "cannot read the job's steps");
    sqlite3_finalize(st);
    return rc;
}

int jobs_get_json(store *s, int64_t id, cJSON **out)
{
    sqlite3_stmt *st = NULL;
    cJSON *job = NULL;
    int began = 0;
    int rc;
    store_clear_error(s);
    *out = NULL;
    rc = store_read_begin(s, &began);
    if (rc != TMI_OK)
        return rc;
    rc = store_prepare(s, "SELECT " JOB_COLUMNS " FROM jobs WHERE id = ?1", &st);
    if (rc == TMI_OK) {
        sqlite3_bind_int64(st, 1, id);
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW)
            job = job_from_row(st);
        else if (step == SQLITE_DONE)
            rc = store_fail(s, TMI_ENOENT, "no job %lld", (long long)id);
        else
            rc = store_fail_sqlite(s, step, "cannot read the job");
        sqlite3_finalize(st);
    }
    if (rc == TMI_OK && job == NULL)
        rc = TMI_ENOMEM;
    if (rc == TMI_OK)
        rc = add_steps(s, id, job);
    store_read_end(s, began);
    if (rc != TMI_OK) {
        cJSON_Delete(job);
        return rc;
    }
    *out = job;
    return TMI_OK;
}

int jobs_list_json(store *s, int64_t before, size_t limit, cJSON **out)
{
    sqlite3_stmt *st = NULL;
    cJSON *arr = cJSON_CreateArray();
    int rc;
    store_clear_error(s);
    *out = NULL;
    if (arr == NULL)
        return TMI_ENOMEM;
    rc = store_prepare(s,
                       "SELECT " JOB_COLUMNS " FROM jobs WHERE (?1 = 0 OR id < ?1)"
                       " ORDER BY id DESC LIMIT ?2",
                       &st);
    if (rc != TMI_OK) {
        cJSON_Delete(arr);
        return rc;
    }
    sqlite3_bind_int64(st, 1, before);
    sqlite3_bind_int(st, 2, store_clamp_limit(limit));
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        cJSON *o = job_from_row(st);
        if (o == NULL)
            break;
        cJSON_AddItemToArray(arr, o);
    }
    rc = rc == SQLITE_DONE ? TMI_OK : store_fail_sqlite(s, rc, "cannot list the jobs");
    sqlite3_finalize(st);
    if (rc != TMI_OK) {
        cJSON_Delete(arr);
        return rc;
    }
    *out = arr;
    return TMI_OK;
}

void jobs_pending_free(jobs_pending *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->backup_ids[i]);
        free(p->actions[i]);
    }
    free(p->ids);
    free(p->backup_ids);
    free(p->actions);
    memset(p, 0, sizeof(*p));
}

int jobs_unfinished(store *s, jobs_pending *out)
{
    sqlite3_stmt *st = NULL;
    size_t cap = 0;
    int rc;
    store_clear_error(s);
    memset(out, 0, sizeof(*out));
    rc = store_prepare(
        s, "SELECT id, backup_id, action FROM jobs WHERE status = 'running' ORDER BY id", &st);
    if (rc != TMI_OK)
        return rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (out->n == cap) {
            size_t ncap = cap ? cap * 2 : 4;
            int64_t *ids = realloc(out->ids, ncap * sizeof(*ids));
            if (ids != NULL)
                out->ids = ids;
            char **b = realloc(out->backup_ids, ncap * sizeof(*b));
            if (b != NULL)
                out->backup_ids = b;
            char **a = realloc(out->actions, ncap * sizeof(*a));
            if (a != NULL)
                out->actions = a;
            if (ids == NULL || b == NULL || a == NULL) {
                rc = SQLITE_NOMEM;
                break;
            }
            cap = ncap;
        }
        out->ids[out->n] = sqlite3_column_int64(st, 0);
        out->backup_ids[out->n] = NULL;
        out->actions[out->n] = NULL;
        out->n++;
        if (store_col_strdup(st, 1, &out->backup_ids[out->n - 1]) != TMI_OK ||
            store_col_strdup(st, 2, &out->actions[out->n - 1]) != TMI_OK) {
            rc = SQLITE_NOMEM;
            break;
        }
    }
    rc = rc == SQLITE_DONE ? TMI_OK : store_fail_sqlite(s, rc, "cannot list unfinished jobs");
    sqlite3_finalize(st);
    if (rc != TMI_OK)
        jobs_pending_free(out);
    return rc;
}
