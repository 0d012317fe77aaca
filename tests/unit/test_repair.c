/*
 * test_repair.c - the repair jobs on a real sandbox with a real service
 * process, and failures injected through the platform table at every step:
 * the TMI folder must end byte-identical to before or to the full new set,
 * never mixed, with the backup intact and every step reported. POSIX only
 * (the service is a real child process; see tests/CMakeLists.txt).
 */
#define _POSIX_C_SOURCE 200809L /* kill() */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <sys/types.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h> /* symlink() */

#include <cjson/cJSON.h>

#include "backup.h"
#include "detect.h"
#include "err.h"
#include "fileops.h"
#include "pathutil.h"
#include "plat.h"
#include "playbook.h"
#include "repair.h"
#include "sandbox.h"
#include "service.h"
#include "testutil.h"

#define NFILES 8

typedef struct snapshot {
    uint8_t sha[NFILES][32];
    int present[NFILES];
} snapshot;

typedef struct fx {
    playbook *pb;
    char root[PLAT_PATH_MAX];
    char tmi[PLAT_PATH_MAX];
    char src[PLAT_PATH_MAX];
    char backups[PLAT_PATH_MAX];
    tmi_target target;
    repair_env env;
    snapshot before, good;
    /* what the hooks saw */
    char steps[64][32];
    char outcomes[64][16];
    char ended[64][32];
    char messages[64][320];
    int n_begin, n_end;
    int run_first; /* steps[] index of the last run's first step */
    /* injection knobs */
    int fail_temp_write_at; /* fail the Nth write of a staged file (1-based) */
    int write_err;
    int fail_rename_at; /* fail the Nth rename into the TMI folder */
    int renames_failing_forever;
    const char *journal_fail_step;
    const char *tamper_at_step;  /* modify a source file when this step begins */
    const char *corrupt_at_step; /* overwrite a TMI file when this step begins */
    int writes, renames;
} fx;

static fx *current;

static void snap(const fx *f, const char *dir, snapshot *s)
{
    char path[PLAT_PATH_MAX];
    memset(s, 0, sizeof(*s));
    for (size_t i = 0; i < f->pb->n_files; i++) {
        if (path_find_ci(dir, f->pb->files[i], path, sizeof(path)) != TMI_OK)
            continue;
        uint8_t *buf = NULL;
        size_t len = 0;
        assert_int_equal(plat.read_file(path, 1 << 26, &buf, &len), TMI_OK);
        plat_sha256(buf, len, s->sha[i]);
        s->present[i] = 1;
        free(buf);
    }
}

static int same(const snapshot *a, const snapshot *b)
{
    return memcmp(a, b, sizeof(*a)) == 0;
}

/* The folder must be exactly the old set or exactly the new set. */
static void assert_not_mixed(fx *f, int want_new)
{
    snapshot now;
    snap(f, f->tmi, &now);
    if (want_new == 0 && !same(&now, &f->before))
        fail_msg("the TMI folder is not byte-identical to before the job");
    if (want_new == 1 && !same(&now, &f->good))
        fail_msg("the TMI folder is not the full new set");
    if (!same(&now, &f->before) && !same(&now, &f->good))
        fail_msg("the TMI folder is mixed");
    /* no staged leftovers */
    plat_dirlist list = {NULL, 0};
    assert_int_equal(plat.list_dir(f->tmi, &list), TMI_OK);
    for (size_t i = 0; i < list.count; i++) {
        if (strstr(list.names[i], ".tmi-new") != NULL)
            fail_msg("staged file left behind: %s", list.names[i]);
    }
    plat_dirlist_free(&list);
}

/* ---- hooks ---- */

static int hook_begin(void *arg, const char *step, const char *what)
{
    fx *f = arg;
    (void)what;
    if (f->journal_fail_step != NULL && strcmp(step, f->journal_fail_step) == 0)
        return TMI_EIO;
    if (f->tamper_at_step != NULL && strcmp(step, f->tamper_at_step) == 0) {
        char path[PLAT_PATH_MAX];
        tu_join(path, sizeof(path), f->src, "libMRF_Common.dll");
        tu_write_pe(path, "1.12.0.1266", 0, 4242); /* same version, other bytes */
    }
    if (f->corrupt_at_step != NULL && strcmp(step, f->corrupt_at_step) == 0) {
        char path[PLAT_PATH_MAX];
        tu_join(path, sizeof(path), f->tmi, "libMRF_DM.dll");
        tu_write(path, "garbage", 7);
    }
    if (f->n_begin < 64)
        snprintf(f->steps[f->n_begin], 32, "%s", step);
    f->n_begin++;
    return TMI_OK;
}

static void hook_end(void *arg, const char *step, const char *outcome, const char *message,
                     const cJSON *details)
{
    fx *f = arg;
    (void)details;
    if (f->n_end < 64) {
        snprintf(f->outcomes[f->n_end], 16, "%s", outcome);
        snprintf(f->ended[f->n_end], 32, "%s", step);
        snprintf(f->messages[f->n_end], 320, "%s", message != NULL ? message : "");
    }
    f->n_end++;
}

/* The message the last report of step carried ("" when none). */
static const char *message_of(const fx *f, const char *step)
{
    for (int i = (f->n_end < 64 ? f->n_end : 64) - 1; i >= 0; i--) {
        if (strcmp(f->ended[i], step) == 0)
            return f->messages[i];
    }
    return "";
}

static const repair_hooks hooks = {NULL, hook_begin, hook_end, NULL};

static repair_hooks hooks_for(fx *f)
{
    repair_hooks h = hooks;
    h.arg = f;
    return h;
}

/* ---- injected platform calls ---- */

static int inj_write_file(const char *path, const void *data, size_t len)
{
    fx *f = current;
    if (strstr(path, ".tmi-new") != NULL && strstr(path, f->tmi) == path) {
        f->writes++;
        if (f->writes == f->fail_temp_write_at) {
            /* half-way: part of the data lands, then the error */
            plat_os_ops.write_file(path, data, len / 2);
            return f->write_err ? f->write_err : TMI_EIO;
        }
    }
    return plat_os_ops.write_file(path, data, len);
}

static int inj_rename(const char *from, const char *to)
{
    fx *f = current;
    if (strstr(to, f->tmi) == to && strstr(from, ".tmi-new") != NULL) {
        f->renames++;
        if (f->renames == f->fail_rename_at ||
            (f->renames_failing_forever && f->renames >= f->fail_rename_at))
            return TMI_EBUSY;
    }
    return plat_os_ops.rename_replace(from, to);
}

/* Make the sandbox's TMI service run `sh -c script` instead of the mrf.exe
 * stand-in: a real process that misbehaves as told. */
static void service_program(fx *f, const char *script)
{
    char image[PLAT_PATH_MAX];
    const char *argv[] = {"/bin/sh", "-c", script, NULL};
    tu_join(image, sizeof(image), f->tmi, f->pb->service_image_name);
    assert_int_equal(
        plat_svc_register(f->root, SANDBOX_SERVICE_NAME, f->pb->service_display_name, image, argv),
        TMI_OK);
}

/* Start the service and wait until it runs; returns its pid. */
static long service_up(fx *f)
{
    plat_svc_status st;
    assert_int_equal(plat.svc_start(f->root, SANDBOX_SERVICE_NAME), TMI_OK);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(plat.svc_query(f->root, SANDBOX_SERVICE_NAME, &st), TMI_OK);
        if (st.state == PLAT_SVC_RUNNING && st.pid > 0)
            return st.pid;
        plat_sleep_ms(20);
    }
    fail_msg("the service did not start");
    return 0;
}

/* ---- fixture ---- */

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));
    sandbox_spec spec;
    const char *bin = getenv("TMI_CONSOLE_BIN");
    char data[PLAT_PATH_MAX];
    if (bin == NULL) {
        fprintf(stderr, "test_repair: set TMI_CONSOLE_BIN to the tmi-console program\n");
        free(f);
        return -1;
    }
    if (f == NULL || playbook_load_default(&f->pb) != TMI_OK)
        return -1;
    tu_mkdtemp(data, sizeof(data));
    tu_join(f->root, sizeof(f->root), data, "root");
    tu_join(f->backups, sizeof(f->backups), data, "backups");
    sandbox_spec_init(&spec);
    spec.service_program = bin;
    spec.pad_to = 40000;
    if (sandbox_create(f->pb, f->root, &spec, f->tmi, sizeof(f->tmi)) != TMI_OK)
        return -1;
    tu_join(f->src, sizeof(f->src), f->tmi, "is_backup/filegroup100");
    snap(f, f->tmi, &f->before);
    snap(f, f->src, &f->good);
    tu_target(&f->target, f->pb, f->root, NULL);
    f->env.target = &f->target;
    f->env.backup_root = f->backups;
    f->env.job_id = "job-1";
    f->env.stop_timeout_ms = 3000;
    f->env.start_timeout_ms = 3000;
    f->env.stay_ms = 900;
    current = f;
    plat.write_file = inj_write_file;
    plat.rename_replace = inj_rename;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    service_ref svc;
    plat = plat_os_ops;
    if (service_resolve(f->pb, f->root, NULL, &svc) == TMI_OK)
        service_stop_wait(&svc, 3000, NULL);
    playbook_free(f->pb);
    free(f);
    current = NULL;
    return 0;
}

static repair_result run(fx *f, repair_action a)
{
    repair_result res;
    repair_hooks h = hooks_for(f);
    f->run_first = f->n_begin;
    repair_run(a, &f->env, &h, &res);
    /* every step that began was reported as ended */
    if (f->n_begin != f->n_end && !(f->journal_fail_step != NULL && f->n_end == f->n_begin + 1))
        fail_msg("%d steps began but %d ended", f->n_begin, f->n_end);
    return res;
}

static void assert_backup_intact(fx *f, const char *id)
{
    char dir[PLAT_PATH_MAX], err[256];
    backup_manifest *m = NULL;
    tu_join(dir, sizeof(dir), f->backups, id);
    assert_int_equal(backup_load(f->pb, dir, &m, err, sizeof(err)), TMI_OK);
    assert_int_equal(backup_verify(m, dir, 1 << 26, err, sizeof(err)), TMI_OK);
    snapshot s;
    snap(f, dir, &s);
    assert_true(same(&s, &f->before));
    backup_manifest_free(m);
}

static void assert_service(fx *f, plat_svc_state want)
{
    service_ref svc;
    plat_svc_status st;
    assert_int_equal(service_resolve(f->pb, f->root, NULL, &svc), TMI_OK);
    assert_int_equal(plat_os_ops.svc_query(f->root, svc.name, &st), TMI_OK);
    if (st.state != want)
        fail_msg("service is %s, wanted %s", service_state_name(st.state),
                 service_state_name(want));
}

/* The last run began its steps in the order repair_action_steps() lists
 * them (what the API and the page show): all but "rollback" when it
 * succeeded, else those up to the failed one and then "rollback" where the
 * action has it; a "start" may follow (the service put back as the job
 * found it). */
static void assert_steps_listed(fx *f, repair_action a, const repair_result *r)
{
    const char *names[REPAIR_MAX_STEPS];
    size_t n = repair_action_steps(a, names), k = 0;
    int i = f->run_first, failed = r->rc != TMI_OK, rolls = 0;
    assert_true(n > 0);
    rolls = strcmp(names[n - 1], "rollback") == 0;
    for (; k < n - (size_t)rolls && i < f->n_begin; k++, i++) {
        if (strcmp(f->steps[i], names[k]) != 0)
            fail_msg("%s: step %d is %s, listed as %s", repair_action_name(a), i - f->run_first,
                     f->steps[i], names[k]);
        if (failed && strcmp(names[k], r->failed_step) == 0) {
            k++;
            i++;
            break;
        }
    }
    if (!failed && k != n - (size_t)rolls)
        fail_msg("%s: only %zu of the %zu listed steps ran", repair_action_name(a), k,
                 n - (size_t)rolls);
    if (failed && rolls && r->rolled_back) {
        assert_true(i < f->n_begin);
        assert_string_equal(f->steps[i++], "rollback");
    }
    for (; i < f->n_begin; i++)
        if (strcmp(f->steps[i], "start") != 0)
            fail_msg("%s: unlisted step %s after the listed ones", repair_action_name(a),
                     f->steps[i]);
}

/* /repair/steps/listed-for-every-action */
static void steps_are_listed(void **state)
{
    const char *names[REPAIR_MAX_STEPS];
    (void)state;
    assert_int_equal(repair_action_steps(REPAIR_FULL, names), 9);
    assert_string_equal(names[0], "preflight");
    assert_string_equal(names[7], "rescan");
    assert_string_equal(names[8], "rollback");
    assert_int_equal(repair_action_steps(REPAIR_BACKUP, names), 2);
    assert_string_equal(names[1], "backup");
    assert_int_equal(repair_action_steps(REPAIR_RESTART, names), 2);
    assert_string_equal(names[0], "stop");
    assert_int_equal(repair_action_steps(REPAIR_REPLACE, names), 7);
    assert_string_equal(names[6], "rollback");
    assert_int_equal(repair_action_steps(REPAIR_RESTORE, names), 6);
    assert_string_equal(names[3], "restore");
    assert_string_equal(names[4], "start");
    assert_string_equal(names[5], "rollback");
    assert_int_equal(repair_action_steps((repair_action)99, names), 0);
}

/* ---- the tests ---- */

static void full_repair_succeeds(void **state)
{
    fx *f = *state;
    repair_result r = run(f, REPAIR_FULL);
    if (r.rc != TMI_OK)
        fail_msg("repair failed at %s: %s", r.failed_step, r.message);
    assert_not_mixed(f, 1);
    assert_backup_intact(f, "job-1");
    assert_int_equal(r.verdict, SCAN_HEALTHY);
    assert_service(f, PLAT_SVC_RUNNING);
    assert_false(r.rolled_back);
    const char *want[] = {"preflight", "backup", "stop",  "stage",
                          "commit",    "verify", "start", "rescan"};
    assert_int_equal(f->n_begin, 8);
    for (int i = 0; i < 8; i++)
        assert_string_equal(f->steps[i], want[i]);
    assert_steps_listed(f, REPAIR_FULL, &r);
}

static void replace_then_restart(void **state)
{
    fx *f = *state;
    repair_result r = run(f, REPAIR_REPLACE);
    assert_int_equal(r.rc, TMI_OK);
    assert_steps_listed(f, REPAIR_REPLACE, &r);
    assert_not_mixed(f, 1);
    assert_service(f, PLAT_SVC_STOPPED);
    f->env.job_id = "job-2";
    r = run(f, REPAIR_RESTART);
    if (r.rc != TMI_OK)
        fail_msg("restart failed: %s", r.message);
    assert_steps_listed(f, REPAIR_RESTART, &r);
    assert_service(f, PLAT_SVC_RUNNING);
}

static void restart_reports_event_when_it_fails(void **state)
{
    fx *f = *state;
    repair_result r = run(f, REPAIR_RESTART);
    assert_int_equal(r.rc, TMI_ESERVICE);
    assert_string_equal(r.failed_step, "start");
    assert_non_null(strstr(r.message, "started and then stopped"));
    assert_non_null(strstr(r.message, "errcode=-107"));
    assert_not_mixed(f, 0);
}

static void copy_fails_half_way(void **state)
{
    fx *f = *state;
    f->fail_temp_write_at = 4;
    repair_result r = run(f, REPAIR_FULL);
    assert_int_equal(r.rc, TMI_EIO);
    assert_string_equal(r.failed_step, "stage");
    assert_not_mixed(f, 0);
    assert_backup_intact(f, "job-1");
    assert_false(r.rolled_back); /* nothing had been replaced */
}

static void disk_full_while_staging(void **state)
{
    fx *f = *state;
    f->fail_temp_write_at = 7;
    f->write_err = TMI_ENOSPC;
    repair_result r = run(f, REPAIR_REPLACE);
    assert_int_equal(r.rc, TMI_ENOSPC);
    assert_non_null(strstr(r.message, "no space"));
    assert_not_mixed(f, 0);
    assert_backup_intact(f, "job-1");
}

static void rename_fails_during_commit(void **state)
{
    fx *f = *state;
    f->fail_rename_at = 3;
    repair_result r = run(f, REPAIR_FULL);
    assert_int_equal(r.rc, TMI_EBUSY);
    assert_string_equal(r.failed_step, "commit");
    assert_non_null(strstr(r.message, "file in use"));
    assert_true(r.rolled_back);
    assert_not_mixed(f, 0);
    assert_backup_intact(f, "job-1");
}

static void rollback_that_fails_is_reported(void **state)
{
    fx *f = *state;
    f->fail_rename_at = 5;
    f->renames_failing_forever = 1;
    repair_result r = run(f, REPAIR_REPLACE);
    assert_int_equal(r.rc, TMI_EBUSY);
    assert_true(r.rollback_failed);
    assert_non_null(strstr(r.message, "THE RESTORE FAILED"));
    assert_backup_intact(f, "job-1");
    /* recovery with a working file system puts it right */
    plat.rename_replace = plat_os_ops.rename_replace;
    repair_hooks h = hooks_for(f);
    repair_result rr;
    assert_int_equal(repair_recover(&f->env, "job-1", &h, &rr), TMI_OK);
    assert_not_mixed(f, 0);
}

static void source_changed_after_preflight(void **state)
{
    fx *f = *state;
    f->tamper_at_step = "stage";
    repair_result r = run(f, REPAIR_FULL);
    assert_int_equal(r.rc, TMI_ECONFLICT);
    assert_non_null(strstr(r.message, "changed after the preflight"));
    assert_not_mixed(f, 0);
    assert_backup_intact(f, "job-1");
}

static void tmi_changed_after_backup(void **state)
{
    fx *f = *state;
    f->corrupt_at_step = "stop";
    repair_result r = run(f, REPAIR_REPLACE);
    assert_int_equal(r.rc, TMI_ECONFLICT);
    assert_non_null(strstr(r.message, "changed after the backup"));
    assert_backup_intact(f, "job-1");
}

static void verify_failure_rolls_back(void **state)
{
    fx *f = *state;
    f->corrupt_at_step = "verify";
    repair_result r = run(f, REPAIR_FULL);
    assert_int_equal(r.rc, TMI_EIO);
    assert_string_equal(r.failed_step, "verify");
    assert_true(r.rolled_back);
    assert_steps_listed(f, REPAIR_FULL, &r);
    assert_not_mixed(f, 0);
}

/* A running service that ignores the stop request (a real process that
 * ignores SIGTERM): the job gives up before touching a file. */
static void service_refuses_to_stop(void **state)
{
    fx *f = *state;
    char ready[PLAT_PATH_MAX], script[PLAT_PATH_MAX + 64];
    plat_stat sb;
    tu_join(ready, sizeof(ready), f->root, "trap-set");
    /* the marker says the trap is in place: a stop sent before it would work */
    snprintf(script, sizeof(script), "trap '' TERM; : > '%s'; while :; do sleep 1; done", ready);
    service_program(f, script);
    long pid = service_up(f);
    for (int i = 0; i < 200 && plat.stat(ready, &sb) != TMI_OK; i++)
        plat_sleep_ms(10);
    assert_int_equal(plat.stat(ready, &sb), TMI_OK);
    f->env.stop_timeout_ms = 600;
    repair_result r = run(f, REPAIR_FULL);
    kill((pid_t)pid, SIGKILL);
    assert_int_equal(r.rc, TMI_ESERVICE);
    assert_string_equal(r.failed_step, "stop");
    assert_non_null(strstr(r.message, "did not stop"));
    assert_not_mixed(f, 0);
    assert_backup_intact(f, "job-1");
}

/* The fault's own shape, with the new files in place: the service starts,
 * runs a moment, then exits (a real process, exit status 3). */
static void service_starts_then_stops(void **state)
{
    fx *f = *state;
    service_program(f, "sleep 0.3; exit 3");
    repair_result r = run(f, REPAIR_FULL);
    assert_int_equal(r.rc, TMI_ESERVICE);
    assert_string_equal(r.failed_step, "start");
    if (strstr(r.message, "started and then stopped") == NULL)
        fail_msg("not reported as started and then stopped: %s", r.message);
    assert_true(r.rolled_back);
    assert_not_mixed(f, 0);
    assert_backup_intact(f, "job-1");
}

/* The sandbox's mrf.exe stays up only while its folder holds the good set:
 * an old file put back under it stops it, with the event-800 record. */
static void sandbox_service_stops_when_its_files_go_bad(void **state)
{
    fx *f = *state;
    char path[PLAT_PATH_MAX];
    plat_svc_status st;
    plat_event ev;
    size_t n = 0;
    repair_result r = run(f, REPAIR_FULL);
    assert_int_equal(r.rc, TMI_OK);
    int64_t t0 = plat_now_ns();
    plat_sleep_ms(1200);
    assert_service(f, PLAT_SVC_RUNNING); /* untouched: it stays up */
    tu_join(path, sizeof(path), f->tmi, "libMRF_CM.dll");
    tu_write_pe(path, "1.12.0.1156", 0, 77);
    for (int i = 0; i < 60; i++) {
        assert_int_equal(plat.svc_query(f->root, SANDBOX_SERVICE_NAME, &st), TMI_OK);
        if (st.state == PLAT_SVC_STOPPED)
            break;
        plat_sleep_ms(50);
    }
    assert_int_equal(st.state, PLAT_SVC_STOPPED);
    assert_true(st.has_exit_code && st.exit_code == 1);
    assert_int_equal(
        plat.event_query(f->root, f->pb->event_provider, f->pb->event_id, t0, &ev, 1, &n), TMI_OK);
    assert_int_equal(n, 1);
    assert_non_null(strstr(ev.message, "errcode=-107"));
}

/* A restore while the service runs: the files come back, the service is
 * started again, and when it does not stay up (the old set), the job says
 * so with the event record instead of claiming all is well. */
static void restore_reports_the_service_that_does_not_come_back(void **state)
{
    fx *f = *state;
    repair_result r = run(f, REPAIR_FULL);
    assert_int_equal(r.rc, TMI_OK);
    assert_service(f, PLAT_SVC_RUNNING);
    f->env.job_id = "job-2";
    f->env.restore_id = "job-1";
    r = run(f, REPAIR_RESTORE);
    if (r.rc != TMI_OK)
        fail_msg("restore failed: %s", r.message);
    assert_steps_listed(f, REPAIR_RESTORE, &r);
    assert_not_mixed(f, 0);
    if (strstr(r.message, "did not start") == NULL || strstr(r.message, "errcode=-107") == NULL)
        fail_msg("the service's failure is not reported: %s", r.message);
    assert_string_equal(f->steps[f->n_begin - 1], "start");
    assert_string_equal(f->outcomes[f->n_end - 1], "failed");
    /* the files stay: a warning outcome, not a rollback */
    assert_int_equal(r.service_down, 1);
    assert_int_equal(r.rolled_back, 0);
    assert_string_equal(r.failed_step, "");
    assert_non_null(strstr(r.event, "is not ready"));
    assert_int_equal(r.event_id, 800);
    /* the summary's parts: what the restore changed */
    assert_int_equal(r.n_files, f->pb->n_files);
    assert_string_equal(r.from_version, "1.12.0.1266");
    assert_string_equal(r.to_version, "1.12.0.1156");
}

static void restore_of_a_stopped_service_skips_the_start(void **state)
{
    fx *f = *state;
    repair_result r = run(f, REPAIR_BACKUP);
    assert_int_equal(r.rc, TMI_OK);
    assert_int_equal(r.n_files, 0);      /* a backup changes no file */
    assert_service(f, PLAT_SVC_STOPPED); /* the sandbox's service does not run */
    f->env.job_id = "job-2";
    f->env.restore_id = "job-1";
    r = run(f, REPAIR_RESTORE);
    if (r.rc != TMI_OK)
        fail_msg("restore failed: %s", r.message);
    assert_int_equal(r.service_down, 0);
    assert_string_equal(f->steps[f->n_begin - 1], "start");
    assert_string_equal(f->outcomes[f->n_end - 1], "skipped");
    assert_service(f, PLAT_SVC_STOPPED);
}

static void journal_failure_stops_before_the_step(void **state)
{
    fx *f = *state;
    f->journal_fail_step = "commit";
    repair_result r = run(f, REPAIR_FULL);
    assert_int_equal(r.rc, TMI_EIO);
    assert_string_equal(r.failed_step, "commit");
    assert_not_mixed(f, 0);
}

static void refuses_when_healthy_or_newer(void **state)
{
    fx *f = *state;
    for (int round = 0; round < 2; round++) {
        const char *v = round == 0 ? "1.12.0.1266" : "1.13.0.0";
        for (size_t i = 0; i < f->pb->n_files; i++) {
            char path[PLAT_PATH_MAX];
            tu_join(path, sizeof(path), f->tmi, f->pb->files[i]);
            tu_write_pe(path, v, 0, (uint32_t)(900 + i));
        }
        snap(f, f->tmi, &f->before);
        repair_result r = run(f, REPAIR_REPLACE);
        assert_int_equal(r.rc, TMI_EINVAL);
        assert_non_null(strstr(r.message, "refused"));
        assert_not_mixed(f, 0);
        snapshot after;
        snap(f, f->tmi, &after);
        assert_true(same(&after, &f->before));
    }
}

static void refuses_a_changed_plan(void **state)
{
    fx *f = *state;
    f->env.confirmed_digest = "0000000000000000000000000000000000000000000000000000000000000000";
    repair_result r = run(f, REPAIR_FULL);
    assert_int_equal(r.rc, TMI_ECONFLICT);
    assert_non_null(strstr(r.message, "confirmed"));
    assert_not_mixed(f, 0);
}

static void accepts_the_confirmed_plan(void **state)
{
    fx *f = *state;
    scan_result *s = NULL;
    char digest[65];
    assert_int_equal(scan_run(&f->target, &s), TMI_OK);
    assert_int_equal(repair_plan_digest(s, digest), TMI_OK);
    scan_result_free(s);
    f->env.confirmed_digest = digest;
    repair_result r = run(f, REPAIR_REPLACE);
    assert_int_equal(r.rc, TMI_OK);
    assert_not_mixed(f, 1);
}

static void restore_puts_the_old_files_back(void **state)
{
    fx *f = *state;
    repair_result r = run(f, REPAIR_FULL);
    assert_int_equal(r.rc, TMI_OK);
    f->env.job_id = "job-2";
    f->env.restore_id = "job-1";
    r = run(f, REPAIR_RESTORE);
    if (r.rc != TMI_OK)
        fail_msg("restore failed: %s", r.message);
    assert_steps_listed(f, REPAIR_RESTORE, &r);
    assert_not_mixed(f, 0);
    /* the restore backed up the good set first */
    char dir[PLAT_PATH_MAX];
    snapshot s;
    tu_join(dir, sizeof(dir), f->backups, "job-2");
    snap(f, dir, &s);
    assert_true(same(&s, &f->good));
    f->env.restore_id = "../job-1";
    f->env.job_id = "job-3";
    r = run(f, REPAIR_RESTORE);
    assert_int_equal(r.rc, TMI_EINVAL);
}

static void recover_restores_a_mixed_folder(void **state)
{
    fx *f = *state;
    repair_result r = run(f, REPAIR_BACKUP);
    assert_int_equal(r.rc, TMI_OK);
    /* a crash half-way through a commit: three new files, one staged leftover */
    for (int i = 0; i < 3; i++) {
        char from[PLAT_PATH_MAX], to[PLAT_PATH_MAX];
        tu_join(from, sizeof(from), f->src, f->pb->files[i]);
        tu_join(to, sizeof(to), f->tmi, f->pb->files[i]);
        uint8_t *buf = NULL;
        size_t len = 0;
        assert_int_equal(plat.read_file(from, 1 << 26, &buf, &len), TMI_OK);
        tu_write(to, buf, len);
        free(buf);
    }
    char leftover[PLAT_PATH_MAX];
    tu_join(leftover, sizeof(leftover), f->tmi, ".libMRF_AP.dll.tmi-new");
    tu_write(leftover, "x", 1);
    repair_hooks h = hooks_for(f);
    repair_result rr;
    assert_int_equal(repair_recover(&f->env, "job-1", &h, &rr), TMI_OK);
    assert_true(rr.rolled_back);
    assert_not_mixed(f, 0);
    /* a job that died before its backup was complete: nothing to restore */
    assert_int_equal(repair_recover(&f->env, "no-such-backup", &h, &rr), TMI_OK);
    assert_not_mixed(f, 0);
}

static void backup_alone_and_tampered_manifest(void **state)
{
    fx *f = *state;
    char dir[PLAT_PATH_MAX], path[PLAT_PATH_MAX], err[256];
    backup_manifest *m = NULL;
    repair_result r = run(f, REPAIR_BACKUP);
    assert_int_equal(r.rc, TMI_OK);
    assert_steps_listed(f, REPAIR_BACKUP, &r);
    assert_backup_intact(f, "job-1");
    tu_join(dir, sizeof(dir), f->backups, "job-1");
    tu_join(path, sizeof(path), dir, BACKUP_MANIFEST);
    static const char evil[] = "{\"format\":1,\"id\":\"x\",\"created\":\"c\",\"tmi_dir\":\"/\","
                               "\"files\":[{\"name\":\"../../etc/passwd\",\"file\":\"x\","
                               "\"present\":true,\"size\":1,\"sha256\":null}]}";
    tu_write(path, evil, sizeof(evil) - 1);
    assert_int_equal(backup_load(f->pb, dir, &m, err, sizeof(err)), TMI_EFORMAT);
    assert_null(m);
}

/* Damage three TMI files the way a failed patch does: truncated, zeroed,
 * garbage. */
static void damage_three(fx *f)
{
    char path[PLAT_PATH_MAX];
    uint8_t *img = NULL;
    size_t len = 0;
    tu_join(path, sizeof(path), f->tmi, "libMRF_AP.dll");
    assert_int_equal(plat.read_file(path, 1 << 26, &img, &len), TMI_OK);
    tu_write(path, img, 300);
    tu_join(path, sizeof(path), f->tmi, "libMRF_DM.dll");
    memset(img, 0, len);
    tu_write(path, img, len);
    free(img);
    tu_join(path, sizeof(path), f->tmi, "libMRF_Entity.dll");
    tu_write(path, "garbage, not a PE file", 22);
    snap(f, f->tmi, &f->before);
}

/* Invalid files (read, but no PE with a version) are what the admin most
 * needs repaired: backed up byte for byte, replaced like old ones, and a
 * restore of that backup puts the very same damaged bytes back. */
static void damaged_files_are_backed_up_replaced_and_restored(void **state)
{
    fx *f = *state;
    char dir[PLAT_PATH_MAX], err[256];
    backup_manifest *m = NULL;
    damage_three(f);
    repair_result r = run(f, REPAIR_FULL);
    if (r.rc != TMI_OK)
        fail_msg("repair failed at %s: %s", r.failed_step, r.message);
    assert_not_mixed(f, 1);
    assert_backup_intact(f, "job-1"); /* the damaged bytes, exactly */
    tu_join(dir, sizeof(dir), f->backups, "job-1");
    assert_int_equal(backup_load(f->pb, dir, &m, err, sizeof(err)), TMI_OK);
    for (size_t i = 0; i < m->n_files; i++) {
        int damaged = strcmp(m->files[i].name, "libMRF_AP.dll") == 0 ||
                      strcmp(m->files[i].name, "libMRF_DM.dll") == 0 ||
                      strcmp(m->files[i].name, "libMRF_Entity.dll") == 0;
        assert_true(m->files[i].present);
        assert_int_equal(m->files[i].has_version, !damaged);
    }
    backup_manifest_free(m);

    f->env.job_id = "job-2";
    f->env.restore_id = "job-1";
    r = run(f, REPAIR_RESTORE);
    if (r.rc != TMI_OK)
        fail_msg("restore failed: %s", r.message);
    assert_not_mixed(f, 0); /* byte-identical to the damaged folder */
    scan_result *s = NULL;
    assert_int_equal(scan_run(&f->target, &s), TMI_OK);
    size_t invalid = 0;
    for (size_t i = 0; i < s->n_files; i++)
        invalid += s->files[i].status == FILE_INVALID;
    assert_int_equal(invalid, 3);
    scan_result_free(s);
}

/* Bytes that cannot be read cannot be backed up: the job is refused before
 * anything is touched (a folder in place of the file stops root too). */
static void unreadable_file_blocks_the_repair(void **state)
{
    fx *f = *state;
    char path[PLAT_PATH_MAX];
    plat_stat st;
    damage_three(f); /* damaged files beside it do not change that */
    tu_join(path, sizeof(path), f->tmi, "libMRF_Common.dll");
    assert_int_equal(plat.remove_file(path), TMI_OK);
    tu_mkdirs(path);
    repair_result r = run(f, REPAIR_FULL);
    assert_int_equal(r.rc, TMI_EINVAL);
    assert_string_equal(r.failed_step, "preflight");
    if (strstr(r.message, "libMRF_Common.dll cannot be read") == NULL)
        fail_msg("the reason is not given: %s", r.message);
    assert_int_equal(plat.stat(f->backups, &st), TMI_ENOENT); /* nothing was even backed up */
    assert_int_equal(f->n_begin, 1);
}

/* ---- links (real symbolic links in the sandbox) ---- */

/* A file outside the sandbox with known bytes; path into victim. */
static void make_victim(char *victim, const char *content)
{
    char elsewhere[PLAT_PATH_MAX];
    tu_mkdtemp(elsewhere, sizeof(elsewhere));
    tu_join(victim, PLAT_PATH_MAX, elsewhere, "victim.dll");
    tu_write(victim, content, strlen(content));
}

static void assert_still(const char *path, const char *content)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(plat_os_ops.read_file(path, 1 << 20, &buf, &len), TMI_OK);
    if (len != strlen(content) || memcmp(buf, content, len) != 0)
        fail_msg("%s was written through a link", path);
    free(buf);
}

/* The attack from the field: a link planted at a staging name, pointing at
 * a file elsewhere (and a dangling one). The job removes the links - the
 * names, not their targets - says so, and stages fresh files. */
static void planted_link_at_staging_name_is_not_followed(void **state)
{
    fx *f = *state;
    char victim[PLAT_PATH_MAX], nowhere[PLAT_PATH_MAX], link[PLAT_PATH_MAX];
    plat_stat st;
    make_victim(victim, "precious bytes elsewhere");
    tu_join(link, sizeof(link), f->tmi, ".libMRF_AP.dll" FILEOPS_TEMP_SUFFIX);
    assert_int_equal(symlink(victim, link), 0);
    tu_join(nowhere, sizeof(nowhere), f->root, "created-through-a-link");
    tu_join(link, sizeof(link), f->tmi, ".mrf.exe" FILEOPS_TEMP_SUFFIX);
    assert_int_equal(symlink(nowhere, link), 0);
    repair_result r = run(f, REPAIR_REPLACE);
    if (r.rc != TMI_OK)
        fail_msg("replace failed at %s: %s", r.failed_step, r.message);
    assert_not_mixed(f, 1);
    assert_still(victim, "precious bytes elsewhere");
    assert_int_equal(plat.stat(nowhere, &st), TMI_ENOENT);
    if (strstr(message_of(f, "stage"), "2 stale staged files") == NULL)
        fail_msg("the stage step does not say it removed them: %s", message_of(f, "stage"));
}

/* A TMI file that is a link - here to a good copy, which a scan that
 * followed it would call ok - and a source file that is one: reported as
 * unreadable "is a link", never hashed, and the repair refused before
 * anything is copied or written. */
static void linked_files_are_reported_and_not_followed(void **state)
{
    fx *f = *state;
    char target[PLAT_PATH_MAX], link[PLAT_PATH_MAX], victim[PLAT_PATH_MAX];
    scan_result *s = NULL;
    plat_stat st;
    tu_join(target, sizeof(target), f->src, "libMRF_CM.dll");
    tu_join(link, sizeof(link), f->tmi, "libMRF_CM.dll");
    assert_int_equal(plat.remove_file(link), TMI_OK);
    assert_int_equal(symlink(target, link), 0);
    assert_int_equal(scan_run(&f->target, &s), TMI_OK);
    for (size_t i = 0; i < s->n_files; i++) {
        if (strcmp(s->files[i].name, "libMRF_CM.dll") != 0)
            continue;
        assert_int_equal(s->files[i].status, FILE_UNREADABLE);
        assert_string_equal(s->files[i].error, "is a link");
        assert_false(s->files[i].has_sha256);
    }
    scan_result_free(s);
    repair_result r = run(f, REPAIR_FULL);
    assert_int_equal(r.rc, TMI_EINVAL);
    assert_string_equal(r.failed_step, "preflight");
    assert_non_null(strstr(r.message, "is a link"));
    assert_int_equal(plat.stat(f->backups, &st), TMI_ENOENT);
    assert_int_equal(plat.stat(link, &st), TMI_OK);
    assert_true(st.is_link); /* left as it was */

    /* the TMI file back; now a source file is the link */
    assert_int_equal(plat.remove_file(link), TMI_OK);
    tu_write_pe(link, "1.12.0.1156", 0, 55);
    make_victim(victim, "not the good copy");
    tu_join(link, sizeof(link), f->src, "libMRF_AP.dll");
    assert_int_equal(plat.remove_file(link), TMI_OK);
    assert_int_equal(symlink(victim, link), 0);
    assert_int_equal(scan_run(&f->target, &s), TMI_OK);
    assert_false(s->repair_possible);
    assert_non_null(strstr(s->sources[0].reason, "libMRF_AP.dll cannot be used: is a link"));
    scan_result_free(s);
    assert_still(victim, "not the good copy");
}

/* A rollback that finds a link where a TMI file was replaces the link with
 * the backed-up file; what the link points to keeps its bytes. */
static void recovery_replaces_a_link_not_its_target(void **state)
{
    fx *f = *state;
    char victim[PLAT_PATH_MAX], link[PLAT_PATH_MAX];
    repair_result r = run(f, REPAIR_BACKUP);
    assert_int_equal(r.rc, TMI_OK);
    make_victim(victim, "precious bytes elsewhere");
    tu_join(link, sizeof(link), f->tmi, "libMRF_DM.dll");
    assert_int_equal(plat.remove_file(link), TMI_OK);
    assert_int_equal(symlink(victim, link), 0);
    repair_hooks h = hooks_for(f);
    repair_result rr;
    assert_int_equal(repair_recover(&f->env, "job-1", &h, &rr), TMI_OK);
    assert_not_mixed(f, 0);
    assert_still(victim, "precious bytes elsewhere");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(steps_are_listed),
        T(full_repair_succeeds),
        T(replace_then_restart),
        T(restart_reports_event_when_it_fails),
        T(copy_fails_half_way),
        T(disk_full_while_staging),
        T(rename_fails_during_commit),
        T(rollback_that_fails_is_reported),
        T(source_changed_after_preflight),
        T(tmi_changed_after_backup),
        T(verify_failure_rolls_back),
        T(service_refuses_to_stop),
        T(service_starts_then_stops),
        T(journal_failure_stops_before_the_step),
        T(refuses_when_healthy_or_newer),
        T(refuses_a_changed_plan),
        T(accepts_the_confirmed_plan),
        T(restore_puts_the_old_files_back),
        T(restore_reports_the_service_that_does_not_come_back),
        T(restore_of_a_stopped_service_skips_the_start),
        T(sandbox_service_stops_when_its_files_go_bad),
        T(recover_restores_a_mixed_folder),
        T(backup_alone_and_tampered_manifest),
        T(damaged_files_are_backed_up_replaced_and_restored),
        T(unreadable_file_blocks_the_repair),
        T(planted_link_at_staging_name_is_not_followed),
        T(linked_files_are_reported_and_not_followed),
        T(recovery_replaces_a_link_not_its_target),
    };
    return cmocka_run_group_tests_name("repair", tests, NULL, NULL);
}
