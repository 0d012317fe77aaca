/*
 * test_jobs.c - how a job's outcome is kept (db/jobs.h): the statuses a job
 * ends in (succeeded_service_down among them, anything else refused), its
 * summary, the link to its report and the span of its audit rows; the job
 * each audit row belongs to (audit_job, schema v7) and the audit list of
 * one job; and the migration of a v6 database to v7.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "audit.h"
#include "err.h"
#include "jobs.h"
#include "plat.h"
#include "scans.h"
#include "schema.h"
#include "store.h"
#include "storetest.h"

static int64_t append(store *s, const char *action, const char *details)
{
    audit_event ev;
    int64_t seq = 0;
    memset(&ev, 0, sizeof(ev));
    ev.action = action;
    ev.target = "/tmi";
    ev.outcome = "ok";
    ev.details = details;
    assert_int_equal(audit_append(s, &st_actor, &ev, &seq), TMI_OK);
    return seq;
}

static cJSON *job_json(store *s, int64_t id)
{
    cJSON *j = NULL;
    assert_int_equal(jobs_get_json(s, id, &j), TMI_OK);
    return j;
}

static const char *str_of(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int64_t num_of(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : -1;
}

/* ---- statuses and summaries ---- */

static void statuses_and_summary_are_kept(void **state)
{
    char dir[PLAT_PATH_MAX];
    int64_t id = 0;
    (void)state;
    st_tmpdir(dir, sizeof(dir));
    store *s = st_open(dir);
    assert_int_equal(jobs_create(s, "restore", &st_actor, "{}", &id), TMI_OK);

    /* before it ends: no summary, no audit rows yet, the report's link */
    cJSON *j = job_json(s, id);
    assert_string_equal(str_of(j, "status"), "running");
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "summary")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "audit")));
    assert_string_equal(str_of(j, "report"), "/api/jobs/1/report");
    cJSON_Delete(j);

    /* a summary must be a JSON object with a "text", of bounded size */
    const char *bad[] = {
        "[1]", "{}", "{\"text\":3}", "not json", "{\"text\":\"a\"", "", "{\"text\":\"a\"} {}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(jobs_set_summary(s, id, bad[i]), TMI_EINVAL);
    assert_int_equal(jobs_set_summary(s, id, NULL), TMI_EINVAL);
    char *big = malloc(5000);
    assert_non_null(big);
    memset(big, 'x', 4999);
    memcpy(big, "{\"text\":\"", 9);
    memcpy(big + 4996, "\"}", 3);
    assert_int_equal(jobs_set_summary(s, id, big), TMI_EINVAL);
    free(big);
    assert_int_equal(st_int(s, "SELECT count(*) FROM jobs WHERE summary IS NOT NULL"), 0);

    /* unknown statuses are refused and change nothing */
    const char *bad_status[] = {"done", "running", "", "SUCCEEDED", "succeeded_service"};
    for (size_t i = 0; i < sizeof(bad_status) / sizeof(bad_status[0]); i++)
        assert_int_equal(jobs_finish(s, id, bad_status[i], "m", 0), TMI_EINVAL);
    assert_int_equal(jobs_finish(s, id, NULL, "m", 0), TMI_EINVAL);
    assert_int_equal(st_int(s, "SELECT count(*) FROM jobs WHERE status = 'running'"), 1);

    const char *sum = "{\"text\":\"8 files: 1.12.0.1266 -> 1.12.0.1156, backup b2\",\"files\":8,"
                      "\"from\":\"1.12.0.1266\",\"to\":\"1.12.0.1156\",\"backup\":\"b2\","
                      "\"event\":\"event 800 from TMI: not ready\"}";
    assert_int_equal(jobs_set_summary(s, id, sum), TMI_OK);
    assert_int_equal(jobs_finish(s, id, "succeeded_service_down",
                                 "restored; the service did "
                                 "not start",
                                 0),
                     TMI_OK);
    j = job_json(s, id);
    assert_string_equal(str_of(j, "status"), "succeeded_service_down");
    const cJSON *got = cJSON_GetObjectItemCaseSensitive(j, "summary");
    assert_true(cJSON_IsObject(got));
    assert_string_equal(str_of(got, "text"), "8 files: 1.12.0.1266 -> 1.12.0.1156, backup b2");
    assert_int_equal(num_of(got, "files"), 8);
    assert_string_equal(str_of(got, "event"), "event 800 from TMI: not ready");
    cJSON_Delete(j);

    /* the list says the same */
    cJSON *list = NULL;
    assert_int_equal(jobs_list_json(s, 0, 10, &list), TMI_OK);
    assert_int_equal(cJSON_GetArraySize(list), 1);
    assert_string_equal(str_of(cJSON_GetArrayItem(list, 0), "status"), "succeeded_service_down");
    assert_string_equal(
        str_of(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(list, 0), "summary"), "text"),
        "8 files: 1.12.0.1266 -> 1.12.0.1156, backup b2");
    cJSON_Delete(list);

    /* every status a job ends in is taken */
    const char *ok[] = {"succeeded", "failed", "recovered", "succeeded_service_down"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_true(jobs_status_valid(ok[i]));
        assert_int_equal(jobs_finish(s, id, ok[i], "m", 0), TMI_OK);
    }
    store_close(s);
}

/* ---- the audit rows of a job ---- */

/* Rows of job 1 and 2 and of none: the ids of job 1's, newest first. */
static size_t fill_trail(store *s, int64_t mine[16])
{
    int64_t scan_id = 0;
    size_t n = 0;
    append(s, "login", NULL);
    mine[n++] = append(s, "repair.preflight", "{\"job\":1,\"message\":\"ok\"}");
    append(s, "repair.preflight", "{\"job\":2,\"message\":\"ok\"}");
    /* what is not a job: a string, a fraction, zero, a nested "job", an array */
    append(s, "alert", "{\"job\":\"1\"}");
    append(s, "alert", "{\"job\":1.5}");
    append(s, "alert", "{\"job\":0}");
    append(s, "alert", "{\"details\":{\"job\":1}}");
    append(s, "alert", "[{\"job\":1}]");
    /* a job's scan names its job in its details */
    scan_result *r = st_scan("/tmi", 2, 0, 0);
    scan_origin by_job = {SCAN_BY_JOB, 1};
    assert_int_equal(scans_record_from(s, r, &st_actor, &by_job, &scan_id), TMI_OK);
    mine[n++] = st_int(s, "SELECT max(seq) FROM audit_log");
    /* a compact scan summary is the job's whose scan it sums up */
    scan_origin by_user_for_job = {SCAN_BY_USER, 2};
    assert_int_equal(scans_record_from(s, r, &st_actor, &by_user_for_job, &scan_id), TMI_OK);
    assert_int_equal(st_int(s, "SELECT count(*) FROM audit_log WHERE seq = (SELECT max(seq) FROM"
                               " audit_log) AND scan_back IS NOT NULL"),
                     1);
    scan_result_free(r);
    mine[n++] = append(s, "repair.commit", "{\"job\":1,\"message\":\"every file was replaced\"}");
    mine[n++] = append(s, "repair", "{\"job\":1,\"status\":\"succeeded\"}");
    append(s, "logout", "{}");
    /* newest first */
    for (size_t i = 0; i < n / 2; i++) {
        int64_t t = mine[i];
        mine[i] = mine[n - 1 - i];
        mine[n - 1 - i] = t;
    }
    return n;
}

/* Job 1's rows: all of them, with an action, and page by page. */
static void check_job_one(store *s, const int64_t *mine, size_t n)
{
    audit_rows rows = {NULL, 0};
    audit_query q;
    memset(&q, 0, sizeof(q));
    q.job = 1;
    assert_int_equal(audit_list(s, &q, &rows), TMI_OK);
    assert_int_equal(rows.count, n);
    for (size_t i = 0; i < rows.count; i++) {
        assert_int_equal(rows.rows[i].seq, mine[i]);
        assert_int_equal(rows.rows[i].job, 1);
    }
    cJSON *o = audit_row_json(&rows.rows[0]);
    assert_int_equal(num_of(o, "job"), 1);
    cJSON_Delete(o);
    audit_rows_free(&rows);
    q.action = "repair.commit";
    assert_int_equal(audit_list(s, &q, &rows), TMI_OK);
    assert_int_equal(rows.count, 1);
    assert_string_equal(rows.rows[0].action, "repair.commit");
    audit_rows_free(&rows);
    q.action = NULL;
    q.limit = 1;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(audit_list(s, &q, &rows), TMI_OK);
        assert_int_equal(rows.count, 1);
        assert_int_equal(rows.rows[0].seq, mine[i]);
        q.before = rows.rows[0].seq;
        audit_rows_free(&rows);
    }
    assert_int_equal(audit_list(s, &q, &rows), TMI_OK);
    assert_int_equal(rows.count, 0);
    audit_rows_free(&rows);
}

/* The whole trail: each row with its job, or none. */
static void check_whole_trail(store *s, size_t n)
{
    audit_rows rows = {NULL, 0};
    audit_query q;
    size_t of_one = 0, of_none = 0;
    memset(&q, 0, sizeof(q));
    q.limit = 100;
    assert_int_equal(audit_list(s, &q, &rows), TMI_OK);
    for (size_t i = 0; i < rows.count; i++) {
        of_one += rows.rows[i].job == 1;
        of_none += rows.rows[i].job == 0;
        if (strcmp(rows.rows[i].action, "alert") == 0 || strcmp(rows.rows[i].action, "login") == 0)
            assert_int_equal(rows.rows[i].job, 0);
    }
    assert_int_equal(of_one, n);
    assert_int_equal(of_none, rows.count - n - 2);
    cJSON *o = audit_row_json(&rows.rows[0]); /* logout: no job */
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "job")));
    cJSON_Delete(o);
    audit_rows_free(&rows);
}

static void list_of_one_job(void **state)
{
    char dir[PLAT_PATH_MAX];
    int64_t mine[16], a = 0, b = 0;
    audit_rows rows = {NULL, 0};
    audit_query q;
    (void)state;
    st_tmpdir(dir, sizeof(dir));
    store *s = st_open(dir);
    assert_int_equal(jobs_create(s, "repair", &st_actor, "{}", &a), TMI_OK);
    assert_int_equal(jobs_create(s, "repair", &st_actor, "{}", &b), TMI_OK);
    size_t n = fill_trail(s, mine);
    check_job_one(s, mine, n);

    /* job 2: its step and the scan it ran; a job with no rows: none */
    memset(&q, 0, sizeof(q));
    q.job = 2;
    assert_int_equal(audit_list(s, &q, &rows), TMI_OK);
    assert_int_equal(rows.count, 2);
    assert_string_equal(rows.rows[0].action, "scan");
    assert_string_equal(rows.rows[1].action, "repair.preflight");
    audit_rows_free(&rows);
    q.job = 99;
    assert_int_equal(audit_list(s, &q, &rows), TMI_OK);
    assert_int_equal(rows.count, 0);
    audit_rows_free(&rows);
    q.job = -1;
    assert_int_equal(audit_list(s, &q, &rows), TMI_EINVAL);
    check_whole_trail(s, n);

    /* the job's span of audit rows */
    cJSON *j = job_json(s, 1);
    const cJSON *span = cJSON_GetObjectItemCaseSensitive(j, "audit");
    assert_int_equal(num_of(span, "first_seq"), mine[n - 1]);
    assert_int_equal(num_of(span, "last_seq"), mine[0]);
    cJSON_Delete(j);

    /* beside the chain, not in it: the chain verifies, and the side table
     * is append-only like the rows */
    audit_report rep;
    assert_int_equal(audit_verify(s, NULL, &rep), TMI_OK);
    assert_true(rep.intact);
    assert_int_not_equal(st_exec_rc(s, "UPDATE audit_job SET job = 2"), 0);
    assert_int_not_equal(st_exec_rc(s, "DELETE FROM audit_job"), 0);
    assert_int_equal(st_int(s, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND"
                               " name = 'audit_job_by_job'"),
                     1);
    store_close(s);
}

/* ---- v6 -> v7 ---- */

static void v6_row(sqlite3 *raw, int64_t seq, int64_t action, const char *details,
                   int64_t scan_back)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(raw,
                                        "INSERT INTO audit_log (seq, time_ns, actor, auth, action,"
                                        " target, outcome, details, scan_back, verdict, changed,"
                                        " hash) VALUES (?1, ?1, 2, 3, ?2, NULL, 4, ?3, ?4, ?5, ?6,"
                                        " zeroblob(32))",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_int64(st, 2, action);
    if (details != NULL)
        sqlite3_bind_text(st, 3, details, -1, SQLITE_TRANSIENT);
    if (scan_back > 0) {
        sqlite3_bind_int64(st, 4, scan_back);
        sqlite3_bind_int64(st, 5, 6);
        sqlite3_bind_int64(st, 6, 0);
    }
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
}

static void migrates_v6_to_v7(void **state)
{
    char dir[PLAT_PATH_MAX], db[PLAT_PATH_MAX], err[256];
    sqlite3 *raw = NULL;
    (void)state;
    st_tmpdir(dir, sizeof(dir));
    st_path(db, sizeof(db), dir, STORE_DB_NAME);
    assert_int_equal(sqlite3_open(db, &raw), SQLITE_OK);
    assert_int_equal(schema_migrate(raw, 6, err, sizeof(err)), TMI_OK);
    assert_int_equal(
        sqlite3_exec(raw,
                     "INSERT INTO audit_text (id, text) VALUES (2, 'alice'), (3, 'cli'), (4, 'ok'),"
                     " (5, 'repair'), (6, 'healthy');"
                     "INSERT INTO scan_docs (id, sha256, verdict, json) VALUES (1, zeroblob(32),"
                     " 'healthy', '{}');"
                     "INSERT INTO scans (id, started_ns, duration_ns, doc_id, reason, job_id)"
                     " VALUES (1, 1, 1, 1, 0, 3), (2, 1, 1, 1, 0, NULL);"
                     "INSERT INTO jobs (id, action, status, actor, auth, pid, created_ns)"
                     " VALUES (3, 'repair', 'succeeded', 'alice', 'cli', 1, 1),"
                     " (4, 'restore', 'failed', 'alice', 'cli', 1, 2);",
                     NULL, NULL, NULL),
        SQLITE_OK);
    v6_row(raw, 1, 5, "{\"job\":3,\"message\":\"x\"}", 0);
    v6_row(raw, 2, 1, NULL, 1); /* a summary of scan 1 (job 3) */
    v6_row(raw, 3, 1, NULL, 1); /* a summary of scan 2 (no job) */
    v6_row(raw, 4, 5, "{\"job\":\"3\"}", 0);
    v6_row(raw, 5, 5, "{\"job\":2.5}", 0);
    v6_row(raw, 6, 5, "[{\"job\":3}]", 0);
    v6_row(raw, 7, 5, "not json {", 0);
    v6_row(raw, 8, 5, NULL, 0);
    v6_row(raw, 9, 5, "{\"job\":0}", 0);
    v6_row(raw, 10, 5, "{\"details\":{\"job\":3}}", 0);
    v6_row(raw, 11, 5, "{\"job\":4,\"status\":\"failed\"}", 0);
    sqlite3_close(raw);

    store *s = st_open(dir); /* migrates */
    assert_int_equal(st_int(s, "PRAGMA user_version"), SCHEMA_VERSION);
    assert_int_equal(st_int(s, "SELECT count(*) FROM audit_job"), 3);
    assert_int_equal(st_int(s, "SELECT group_concat(seq || ':' || job, ',') = '1:3,2:3,11:4'"
                               " FROM (SELECT * FROM audit_job ORDER BY seq)"),
                     1);
    assert_int_equal(st_int(s, "SELECT count(*) FROM jobs WHERE summary IS NULL"), 2);
    /* the old jobs read back, with their span of audit rows */
    cJSON *j = job_json(s, 3);
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "summary")));
    const cJSON *span = cJSON_GetObjectItemCaseSensitive(j, "audit");
    assert_int_equal(num_of(span, "first_seq"), 1);
    assert_int_equal(num_of(span, "last_seq"), 2);
    cJSON_Delete(j);
    audit_rows rows = {NULL, 0};
    audit_query q;
    memset(&q, 0, sizeof(q));
    q.job = 4;
    assert_int_equal(audit_list(s, &q, &rows), TMI_OK);
    assert_int_equal(rows.count, 1);
    assert_int_equal(rows.rows[0].seq, 11);
    audit_rows_free(&rows);
    store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        ST_TEST("/jobs/statuses_and_summary_are_kept", statuses_and_summary_are_kept),
        ST_TEST("/jobs/list_of_one_job", list_of_one_job),
        ST_TEST("/jobs/migrates_v6_to_v7", migrates_v6_to_v7),
    };
    return cmocka_run_group_tests_name("jobs", tests, NULL, NULL);
}
