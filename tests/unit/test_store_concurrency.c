/*
 * test_store_concurrency.c - two processes (POSIX fork) writing scans and
 * audit rows into one store at the same time: every row arrives, seq has no
 * gaps, the audit chain verifies. POSIX only (registered in CMake so).
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

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audit.h"
#include "err.h"
#include "plat.h"
#include "scans.h"
#include "store.h"
#include "storetest.h"

#define WRITERS 2
#define ROUNDS  60

/* One writer process: ROUNDS scans (with a changing file each time) and
 * ROUNDS extra audit rows, through its own connection. Exit code 0 on success. */
static int writer(const char *dir, int id)
{
    char err[512], tmi[64];
    store *s = NULL;
    int rc = store_open(dir, &s, err, sizeof(err));
    if (rc != TMI_OK) {
        fprintf(stderr, "writer %d: open: %s\n", id, err);
        return 1;
    }
    snprintf(tmi, sizeof(tmi), "/tmi%d", id);
    scan_result *r = st_scan(tmi, 8, 1, 8);
    audit_actor actor = {id == 0 ? "writer0" : "writer1", "system"};
    for (int i = 0; i < ROUNDS && rc == TMI_OK; i++) {
        char details[64];
        r->files[i % 8].size += 1;
        r->started_ns += 1000000;
        rc = scans_record(s, r, &actor, NULL);
        if (rc != TMI_OK)
            break;
        snprintf(details, sizeof(details), "{\"writer\":%d,\"round\":%d}", id, i);
        audit_event ev = {"settings", tmi, NULL, "ok", details};
        rc = audit_append(s, &actor, &ev, NULL);
    }
    if (rc != TMI_OK)
        fprintf(stderr, "writer %d: %s: %s\n", id, tmi_strerror(rc), store_errmsg(s));
    scan_result_free(r);
    store_close(s);
    return rc == TMI_OK ? 0 : 1;
}

static void two_processes_write_at_once(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX];
    pid_t pids[WRITERS];
    st_tmpdir(dir, sizeof(dir));
    /* no store open in the parent across fork: each writer opens its own,
     * and both race to create and migrate the new database */
    for (int i = 0; i < WRITERS; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0)
            _exit(writer(dir, i));
    }
    for (int i = 0; i < WRITERS; i++) {
        int status = 0;
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    store *s = st_open(dir);
    const int64_t n = WRITERS * ROUNDS;
    assert_int_equal(st_int(s, "SELECT count(*) FROM scans"), n);
    assert_int_equal(st_int(s, "SELECT count(*) FROM audit"), 2 * n);
    assert_int_equal(st_int(s, "SELECT min(seq) FROM audit"), 1);
    assert_int_equal(st_int(s, "SELECT max(seq) FROM audit"), 2 * n);
    assert_int_equal(st_int(s, "SELECT count(*) FROM audit WHERE action = 'scan'"), n);
    assert_int_equal(st_int(s, "SELECT count(*) FROM audit WHERE actor = 'writer0'"), n);
    /* every scan row has its audit row naming it */
    assert_int_equal(st_int(s, "SELECT count(*) FROM scans s WHERE NOT EXISTS (SELECT 1 FROM"
                               " audit a WHERE a.action = 'scan' AND"
                               " json_extract(a.details, '$.scan_id') = s.id)"),
                     0);
    /* the first scan of each writer adds 16 rows, each later one exactly 1 */
    assert_int_equal(st_int(s, "SELECT count(*) FROM observations"), WRITERS * (16 + ROUNDS - 1));
    assert_int_equal(st_int(s, "SELECT count(*) FROM files"), WRITERS * 16);
    audit_report rep;
    assert_int_equal(audit_verify(s, NULL, &rep), TMI_OK);
    if (!rep.intact)
        fail_msg("verify: %s", rep.detail);
    assert_int_equal(rep.rows, 2 * n);
    assert_true(rep.anchored);
    assert_int_equal(rep.unanchored, 0);
    store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        ST_TEST("/store/concurrency/two-processes-write-at-once", two_processes_write_at_once),
    };
    return cmocka_run_group_tests_name("store_concurrency", tests, NULL, NULL);
}
