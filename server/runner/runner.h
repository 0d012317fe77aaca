/*
 * runner.h - runs repair jobs (core/repair.h) for the CLI, the HTTP API and
 * the watcher: one at a time across processes, journaled in the store, every
 * step in the audit trail, and interrupted jobs rolled back before anything
 * new starts.
 *
 * A `runner` holds what every job of one process shares: the data folder,
 * the target (core/target.h), the service timeouts, and the slot that counts
 * the jobs running on threads of their own, so that shutdown waits for them
 * (a job is finished, never cut half-way) and refuses new ones.
 *
 * Life of a job: runner_begin() takes the job lock (DATA/job.lock), rolls
 * back any interrupted job, and writes the job row; runner_execute() runs it
 * (in any one thread: it opens its own store connection); runner_end()
 * releases the lock and frees the job. runner_start() does all three on a
 * thread of its own.
 *
 * Threads: runner_start, runner_shutdown and runner_busy may be called from
 * any thread; a runner_job belongs to one thread at a time.
 */
#ifndef TMI_RUNNER_H
#define TMI_RUNNER_H

#include <stddef.h>
#include <stdint.h>

#include "audit.h"
#include "repair.h"
#include "target.h"

typedef struct runner_config {
    const char *data_dir;     /* required; copied */
    const tmi_target *target; /* required; borrowed: must outlive the runner */
    unsigned stop_timeout_ms;
    unsigned start_timeout_ms;
    unsigned stay_ms;
} runner_config;

/* Defaults: 30 s to stop, 30 s to start, 5 s of staying up. */
void runner_config_init(runner_config *cfg);

typedef struct runner runner;
typedef struct runner_job runner_job;

/* A runner for cfg. TMI_OK with *out set (free with runner_free), TMI_ENOMEM,
 * or TMI_ETOOBIG when the data folder's path is too long. */
int runner_new(const runner_config *cfg, runner **out);

/* Free the runner. Call runner_shutdown first if jobs may be running. NULL
 * is fine. */
void runner_free(runner *r);

/* Called after every step: outcome "running" when it begins, then "ok",
 * "failed" or "skipped". */
typedef void (*runner_progress_fn)(void *arg, const char *step, const char *outcome,
                                   const char *message);

/*
 * Take the lock, recover, create the job. On TMI_EBUSY err names the job that
 * runs ("job 12 (repair) is running, started by pid 345"). restore_id is for
 * REPAIR_RESTORE; confirmed_digest (may be NULL) is the plan the user saw;
 * accept_untrusted_root is the admin's override of a missing trust root for
 * the source files (repair_env), recorded in the job's params and its audit
 * record. On TMI_OK *out is the caller's, to pass to runner_execute and runner_end.
 */
int runner_begin(runner *r, repair_action action, const char *restore_id,
                 const char *confirmed_digest, int accept_untrusted_root, const audit_actor *actor,
                 runner_job **out, int64_t *job_id, char *err, size_t errlen);

/* Run the job; res receives the outcome; progress (may be NULL) is called
 * after every step. Returns res->rc. */
int runner_execute(runner_job *j, runner_progress_fn progress, void *arg, repair_result *res);

/* The job status a result ends in (jobs.h): "succeeded", "failed", or
 * "succeeded_service_down" when the files are in place but the service did
 * not come back. A static string. */
const char *runner_status(const repair_result *res);

/* Release the lock and free the job (NULL is fine). */
void runner_end(runner_job *j);

/*
 * runner_begin, then runner_execute and runner_end on a thread of their own.
 * TMI_OK with *job_id set once the job row exists; TMI_EINTR when the runner
 * is shutting down; otherwise runner_begin's errors (err set) or TMI_EIO /
 * TMI_ENOMEM when no thread could be made.
 */
int runner_start(runner *r, repair_action action, const char *restore_id,
                 const char *confirmed_digest, int accept_untrusted_root, const audit_actor *actor,
                 int64_t *job_id, char *err, size_t errlen);

/* Is a job running on data_dir right now, in this process or another (is
 * its job lock held)? 1 yes, 0 no. */
int runner_job_locked(const char *data_dir);

/* How many jobs started by runner_start have not ended. */
int runner_busy(runner *r);

/* Refuse new runner_start calls from now on and wait until the running ones
 * have ended. */
void runner_shutdown(runner *r);

/*
 * Roll back interrupted jobs, if no job runs now (takes and releases the
 * lock; TMI_EBUSY when a job is running, which is not an error for callers
 * at start-up). *recovered (may be NULL) counts them.
 */
int runner_recover_now(runner *r, int *recovered, char *err, size_t errlen);

#endif
