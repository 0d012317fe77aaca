/*
 * test_job_trail.c - one job's audit rows and scans (db/job_trail.h): the
 * rows whose details name the job and the scan rows of its scans, oldest
 * first, and nobody else's; its first and last scan; the scan before a time.
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

#include "audit.h"
#include "detect.h"
#include "err.h"
#include "job_trail.h"
#include "jobs.h"
#include "plat.h"
#include "scans.h"
#include "store.h"
#include "storetest.h"

static void append(store *s, const char *action, const char *details)
{
    audit_event ev = {action, "t", NULL, "ok", details};
    assert_int_equal(audit_append(s, &st_actor, &ev, NULL), TMI_OK);
}

static int64_t record_scan(store *s, int64_t job, scan_reason why)
{
    scan_result *r = st_scan("/tmi", 2, 0, 0);
    scan_origin origin = {why, job};
    int64_t id = 0;
    assert_int_equal(scans_record_from(s, r, &st_actor, &origin, &id), TMI_OK);
    scan_result_free(r);
    return id;
}

static void rows_of_one_job(void **state)
{
    char dir[512];
    audit_rows rows = {NULL, 0};
    int64_t job1 = 0, job2 = 0, first = 0, last = 0, before = 0, user_scan;
    store *s;
    (void)state;
    st_tmpdir(dir, sizeof(dir));
    s = st_open(dir);
    user_scan = record_scan(s, 0, SCAN_BY_USER);
    assert_int_equal(jobs_create(s, "repair", &st_actor, "{\"root\":\"/r\"}", &job1), TMI_OK);
    assert_int_equal(jobs_create(s, "backup", &st_actor, NULL, &job2), TMI_OK);
    first = record_scan(s, job1, SCAN_BY_JOB_CHECK);
    append(s, "repair.backup", "{\"job\":1,\"message\":\"m\"}");
    append(s, "backup.backup", "{\"job\":2,\"message\":\"other job\"}");
    append(s, "login", "{\"jobs\":1}");
    append(s, "note", "[1]");
    append(s, "note", NULL);
    last = record_scan(s, job1, SCAN_BY_JOB);
    append(s, "repair", "{\"job\":1,\"backup\":\"b\"}");
    assert_int_equal(job1, 1);

    assert_int_equal(job_trail_audit(s, job1, &rows), TMI_OK);
    assert_int_equal(rows.count, 4);
    assert_string_equal(rows.rows[0].action, "scan");
    assert_string_equal(rows.rows[1].action, "repair.backup");
    assert_string_equal(rows.rows[2].action, "scan");
    assert_string_equal(rows.rows[3].action, "repair");
    for (size_t i = 1; i < rows.count; i++)
        assert_true(rows.rows[i].seq > rows.rows[i - 1].seq);
    audit_rows_free(&rows);
    assert_int_equal(job_trail_audit(s, job2, &rows), TMI_OK);
    assert_int_equal(rows.count, 1);
    assert_string_equal(rows.rows[0].action, "backup.backup");
    audit_rows_free(&rows);
    assert_int_equal(job_trail_audit(s, 99, &rows), TMI_ENOENT);
    assert_int_equal(rows.count, 0);
    assert_int_equal(job_trail_audit(s, 0, &rows), TMI_EINVAL);

    {
        int64_t f = 0, l = 0, none_f = 1, none_l = 1, latest = 0;
        assert_int_equal(job_trail_scans(s, job1, &f, &l), TMI_OK);
        assert_int_equal(f, first);
        assert_int_equal(l, last);
        assert_int_equal(job_trail_scans(s, job2, &none_f, &none_l), TMI_OK);
        assert_int_equal(none_f, 0);
        assert_int_equal(none_l, 0);
        assert_int_equal(job_trail_scan_latest(s, &latest), TMI_OK);
        assert_int_equal(latest, last);
    }
    assert_int_equal(job_trail_scan_before(s, plat_now_ns() + 1000000000LL, &before), TMI_OK);
    assert_int_equal(before, last);
    assert_int_equal(job_trail_scan_before(s, 0, &before), TMI_OK);
    assert_int_equal(before, 0);
    assert_true(user_scan < first);
    store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        ST_TEST("/store/job-trail/rows-and-scans-of-one-job", rows_of_one_job),
    };
    return cmocka_run_group_tests_name("job_trail", tests, NULL, NULL);
}
