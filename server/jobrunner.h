/*
 * jobrunner.h - runs repair jobs (core/repair.h) for the CLI and the HTTP API:
 * one at a time across processes, journaled in the store, every step in the
 * audit trail, and interrupted jobs rolled back before anything new starts.
 *
 * Life of a job: jobs_begin() takes the job lock (DATA/job.lock), rolls back
 * any interrupted job, and writes the job row; jobs_execute() runs it (in any
 * one thread: it opens its own store connection); jobs_end() releases the
 * lock and frees the handle.
 */
#ifndef TMI_JOBRUNNER_H
#define TMI_JOBRUNNER_H

#include <stddef.h>
#include <stdint.h>

#include "audit.h"
#include "playbook.h"
#include "repair.h"
#include "store.h"

typedef struct jobs_config {
    const char *data_dir;
    const playbook *pb;
    const char *root;    /* scan root and service scope */
    const char *tmi_dir; /* optional */
    int use_registry;
    const char *service_name; /* optional */
    unsigned stop_timeout_ms;
    unsigned start_timeout_ms;
    unsigned stay_ms;
} jobs_config;

/* Defaults: 30 s to stop, 30 s to start, 5 s of staying up. */
void jobs_config_init(jobs_config *cfg);

/* Called after every step: outcome "running" when it begins, then "ok",
 * "failed" or "skipped". May be NULL. */
typedef void (*jobs_progress_fn)(void *arg, const char *step, const char *outcome,
                                 const char *message);

typedef struct job_handle job_handle;

/*
 * Take the lock, recover, create the job. On TMI_EBUSY err names the job that
 * runs ("job 12 (repair) is running, started by pid 345"). restore_id is for
 * REPAIR_RESTORE; confirmed_digest (may be NULL) is the plan the user saw.
 * On TMI_OK *out is the caller's, to pass to jobs_execute and jobs_end.
 */
int jobs_begin(const jobs_config *cfg, repair_action action, const char *restore_id,
               const char *confirmed_digest, const audit_actor *actor, job_handle **out,
               int64_t *job_id, char *err, size_t errlen);

/* Run the job; res receives the outcome. Returns res->rc. */
int jobs_execute(job_handle *h, jobs_progress_fn progress, void *arg, repair_result *res);

/* Release the lock and free the handle (NULL is fine). */
void jobs_end(job_handle *h);

/*
 * Roll back interrupted jobs, if no job runs now (takes and releases the
 * lock; TMI_EBUSY when a job is running, which is not an error for callers
 * at start-up). *recovered (may be NULL) counts them.
 */
int jobs_recover_now(const jobs_config *cfg, int *recovered, char *err, size_t errlen);

#endif
