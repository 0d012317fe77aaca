/*
 * repair.h - the jobs that change the system: backup, replace, restart, the
 * full repair (all three, with the checks between), and restore.
 *
 * Every job is a fixed sequence of named steps. Before a step runs,
 * hooks->step_begin is called (the journal: if it fails, the step does not
 * run); after it, hooks->step_end reports the outcome with details (file
 * hashes and versions before and after), which the caller records in the
 * audit trail. The TMI folder is never left mixed: files are staged beside
 * their targets and verified before the first rename, and any failure after
 * the first rename restores every file from the backup taken at the start
 * of the job. A newer file is never replaced (the scan refuses the plan).
 *
 * Steps: preflight, backup, stop, stage, commit, verify, start, rescan,
 * rollback (only on failure), restore. Which ones an action runs, and in
 * what order, is repair_action_steps().
 */
#ifndef TMI_REPAIR_H
#define TMI_REPAIR_H

#include <stddef.h>

#include "detect.h"
#include "playbook.h"
#include "target.h"

struct cJSON;

typedef enum repair_action {
    REPAIR_BACKUP = 0,
    REPAIR_REPLACE,
    REPAIR_RESTART,
    REPAIR_FULL, /* "repair": backup, replace, restart */
    REPAIR_RESTORE,
} repair_action;

/* "backup", "replace", "restart", "repair", "restore". */
const char *repair_action_name(repair_action a);
/* Parse one of the names above; TMI_EINVAL otherwise. */
int repair_action_parse(const char *s, repair_action *out);

#define REPAIR_MAX_STEPS 12

/* The steps action a runs, in order, as the job runs them (the executor's
 * own table, not a copy): their names (static strings) into names[], and
 * their number as the result (0 for an unknown action). The actions that
 * restore every file from the job's backup when a step fails after the
 * first change end the list with "rollback", which runs only then:
 *   repair   preflight backup stop stage commit verify start rescan rollback
 *   replace  preflight backup stop stage commit verify rollback
 *   backup   preflight backup
 *   restart  stop start
 *   restore  preflight backup stop restore start rollback
 * A failed repair or restore may also report a second "start" (the
 * service put back as the job found it). A restore's "start" starts the
 * service again if the job found it running (else it is "skipped"); when
 * it does not come back, the restored files stay (no rollback) and the
 * result says so (service_down). */
size_t repair_action_steps(repair_action a, const char *names[REPAIR_MAX_STEPS]);

typedef struct repair_env {
    const tmi_target *target;     /* what to repair; its root is also the service scope */
    const char *backup_root;      /* DATA/backups */
    const char *job_id;           /* names the backup taken by this job */
    const char *restore_id;       /* REPAIR_RESTORE: the backup to put back */
    const char *confirmed_digest; /* optional: repair_plan_digest() of the plan the user
                                     confirmed; the job refuses if the plan differs now */
    unsigned stop_timeout_ms;
    unsigned start_timeout_ms;
    unsigned stay_ms;          /* how long the service must stay running */
    int accept_untrusted_root; /* the admin's override: a source file whose signature
                                  fails only for a root outside the trust store is
                                  accepted (detect.h); the job's scans use it */
} repair_env;

typedef struct repair_hooks {
    void *arg;
    /* The journal: called before each step; non-TMI_OK stops the job there. */
    int (*step_begin)(void *arg, const char *step, const char *what);
    /* After each step: outcome "ok", "failed" or "skipped"; details may be NULL. */
    void (*step_end)(void *arg, const char *step, const char *outcome, const char *message,
                     const struct cJSON *details);
    /* After each scan the job makes (may be NULL): changed is 0 before the
     * job changed anything (its preflight, a recovery's first look), 1
     * after (verify, rescan). The caller records it; r is the job's. */
    void (*scan_done)(void *arg, const scan_result *r, int changed);
} repair_hooks;

typedef struct repair_result {
    int rc;               /* TMI_OK, or the error that ended the job */
    char message[1024];   /* the result in words */
    char failed_step[32]; /* "" when it succeeded */
    int rolled_back;      /* files were restored from the backup */
    int rollback_failed;  /* the restore did not complete: see message */
    char backup_id[128];  /* the backup taken or used; "" for none */
    scan_verdict verdict; /* of the last scan the job made */
    /* The files are in place but the service did not come back (a restore
     * whose "start" failed): rc is TMI_OK, the job is not rolled back. */
    int service_down;
    /* What the job changed, for its summary: how many files it put in
     * place (0 when it changed none), and their version before and after:
     * "a.b.c.d" when all present files share it, "mixed" when they differ,
     * "none" when none is present, "" when not known. */
    size_t n_files;
    char from_version[TMI_VERSION_STRLEN];
    char to_version[TMI_VERSION_STRLEN];
    /* The text of the event-log record that tells why the service did not
     * run, and its id; "" and 0 when no start failed or none was found. */
    char event[512];
    int event_id;
    /* the source files the override accepted, ", "-separated; "" for none */
    char untrusted_root_accepted[512];
} repair_result;

/* Run one job to its end. Returns res->rc. */
int repair_run(repair_action action, const repair_env *env, const repair_hooks *hooks,
               repair_result *res);

/*
 * Roll back a job that was interrupted (found unfinished in the journal):
 * if backup_id names a complete backup, stop the service and restore the
 * folder from it; remove leftover staged files either way.
 */
int repair_recover(const repair_env *env, const char *backup_id, const repair_hooks *hooks,
                   repair_result *res);

/* A digest of a scan's repair plan (source folder, every source file's hash,
 * every target file's hash), as lower-case hex in hex[65]. Two scans with the
 * same digest would make the same changes. TMI_EINVAL when no repair is
 * possible. */
int repair_plan_digest(const scan_result *r, char hex[65]);

#endif
