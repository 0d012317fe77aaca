/*
 * job_trail.h - what the store holds about one job beyond its journal row
 * (jobs.h): its audit rows and the scans it ran. The incident report
 * (server/report) reads a job through these.
 *
 * A job's audit rows are those audit.h assigns to it (the index audit_job:
 * rows whose details hold "job": ID, which the runner writes into every
 * step, the job's own row and a recovery's row, and the scan rows of the
 * scans the job ran). They come oldest first.
 *
 * Ownership as in audit.h: rows are the caller's, freed with
 * audit_rows_free().
 */
#ifndef TMI_JOB_TRAIL_H
#define TMI_JOB_TRAIL_H

#include <stddef.h>
#include <stdint.h>

#include "audit.h"
#include "store.h"

/* Most audit rows one job's trail returns. */
#define JOB_TRAIL_MAX_ROWS 500

/* The audit rows of job job_id, oldest first: the last JOB_TRAIL_MAX_ROWS
 * of them when there are more (a job writes a few dozen).
 * TMI_ENOENT (with the store's message) when there is no such job. */
int job_trail_audit(store *s, int64_t job_id, audit_rows *out);

/* The first and the last scan the job ran (0 when none). */
int job_trail_scans(store *s, int64_t job_id, int64_t *first, int64_t *last);

/* The newest scan started before t_ns (0 when none): what was there
 * before a job began. */
int job_trail_scan_before(store *s, int64_t t_ns, int64_t *scan_id);

/* The newest scan (0 when none). */
int job_trail_scan_latest(store *s, int64_t *scan_id);

#endif
