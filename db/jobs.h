/*
 * jobs.h - the journal of repair jobs.
 *
 * A job row is written before the job does anything, and each step is
 * journaled before it runs (outcome "running") and updated after it. A job
 * whose status is still "running" while no process holds the job lock was
 * interrupted (crash, power loss, kill): it is rolled back at the next start
 * (see server/jobs.h). Job rows are working state, not evidence: the audit
 * trail (audit.h) is the record an auditor reads.
 *
 * Statuses: "running", "succeeded", "succeeded_service_down" (the job put
 * its files in place but the service did not come back: a warning, not a
 * success), "failed", "recovered".
 * Step outcomes: "running", "ok", "failed", "skipped".
 */
#ifndef TMI_JOBS_H
#define TMI_JOBS_H

#include <stddef.h>
#include <stdint.h>

#include "audit.h"
#include "store.h"

struct cJSON;

/* Create a job row (status "running", this process's pid) and set *id. */
int jobs_create(store *s, const char *action, const audit_actor *actor, const char *params_json,
                int64_t *id);

/* Journal a step before it runs. */
int jobs_step_begin(store *s, int64_t id, const char *step, const char *what);

/* Record the outcome of the step most recently begun with this name. */
int jobs_step_end(store *s, int64_t id, const char *step, const char *outcome, const char *message);

/* Remember the backup the job took (recovery restores from it). */
int jobs_set_backup(store *s, int64_t id, const char *backup_id);

/* Is status one a job can end in (all but "running")? 1 yes, 0 no. */
int jobs_status_valid(const char *status);

/* Close the job: status "succeeded", "succeeded_service_down", "failed" or
 * "recovered"; TMI_EINVAL (nothing changed) for anything else. */
int jobs_finish(store *s, int64_t id, const char *status, const char *message, int rolled_back);

/* Store the job's summary, written when it ends: a JSON object of at most
 * 4096 bytes with at least "text" (one line), and as the runner writes it
 * "files" (how many it put in place), "from" and "to" (their version before
 * and after), "backup" (the backup it took), "restored" (the backup a
 * restore put back) and "event" (the event-log record that says why the
 * service did not run). TMI_EINVAL (nothing changed) for anything else. */
int jobs_set_summary(store *s, int64_t id, const char *summary_json);

/* One job with its steps as JSON (caller frees with cJSON_Delete):
 * {id, action, status, actor, auth, params, created, finished, backup, step,
 *  message, rolled_back, summary (object or null), report (the path of its
 *  report page, "/api/jobs/ID/report"), audit ({first_seq, last_seq} of its
 *  audit rows, or null), steps: [{step, what, outcome, message, started,
 *  finished}]}. TMI_ENOENT for an unknown id. */
int jobs_get_json(store *s, int64_t id, struct cJSON **out);

/* Newest first, ids below `before` (0: from the newest), without steps. */
int jobs_list_json(store *s, int64_t before, size_t limit, struct cJSON **out);

/* The jobs still marked running: ids and backup ids (NULL where none) in
 * new arrays; free with jobs_pending_free. */
typedef struct jobs_pending {
    int64_t *ids;
    char **backup_ids;
    char **actions;
    size_t n;
} jobs_pending;
int jobs_unfinished(store *s, jobs_pending *out);
void jobs_pending_free(jobs_pending *p);

#endif
