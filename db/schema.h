/*
 * schema.h - the store's schema, written as forward migration steps.
 *
 * Version N of the schema is steps 1..N applied in order to an empty
 * database; `PRAGMA user_version` holds N and `PRAGMA application_id` holds
 * STORE_APPLICATION_ID. Steps are never edited once released: a change is a
 * new step. Tests build a database at every earlier version with
 * schema_migrate(db, N, ...) and then open it with the current code.
 *
 *   v1  scan_docs (a scan's JSON, stored once per distinct content), scans,
 *       files (one row per full path), observations (a row only when
 *       something about the file changed)
 *   v2  audit (append-only, hash-chained; triggers refuse UPDATE and DELETE),
 *       audit_head (the chain's last seq and hash), time index
 *   v3  files.latest_obs_id (the latest observation of each path, backfilled),
 *       index for filtering the audit by action
 *   v4  jobs and job_steps (the repair job journal, jobs.h)
 *   v5  a compact audit trail (audit.h, "Canonical fields and their stored
 *       form"): the rows move into audit_log (texts interned in audit_text,
 *       scan summaries as numbers, no prev_hash, no time index) and the view
 *       `audit` gives them back with the v2 columns (plus action_id); existing
 *       rows are converted in place, keeping every hash. scans.finished_ns
 *       becomes duration_ns. Size: about 88 bytes per unchanged scan (scans
 *       row and audit row) instead of about 250.
 *   v6  scans.reason and scans.job_id (why a scan ran, and which job ran it:
 *       what attributes a change to a job or to the outside), alert_state
 *       (the last state of each alert, for once-only alerts and reminders)
 *   v7  jobs.summary (one line on what a job did), audit_job (the audit rows
 *       of each job, filled at append, outside the hashed fields)
 *   v8  observations.sig_* (each observed file's signature: status, reason,
 *       signer, certificate thumbprint)
 *   v9  sig_digests (the Authenticode image digest of each signed file
 *       content scanned, by its SHA-256: sig_digests.h)
 *
 * Needs SQLite 3.31 or later (generated column `audit.time`).
 */
#ifndef TMI_SCHEMA_H
#define TMI_SCHEMA_H

#include <stddef.h>

struct sqlite3;

/* PRAGMA application_id of a tmi-console database: "TMIC". */
#define STORE_APPLICATION_ID 0x544D4943

/* The schema version this program writes. */
#define SCHEMA_VERSION 9

/*
 * Bring db from its current user_version up to `target` (1..SCHEMA_VERSION)
 * in one IMMEDIATE transaction: all steps or none. The version is read again
 * under the write lock, so concurrent openers migrate once. Refuses (without
 * writing) a database whose application_id is neither 0 nor ours, one at
 * version 0 that already holds tables (TMI_ECORRUPT), and one newer than
 * `target` (TMI_ESCHEMA). Errors are TMI_E* codes with a message in err.
 */
int schema_migrate(struct sqlite3 *db, int target, char *err, size_t errlen);

#endif
