/*
 * store.h - the SQLite store: open/close, schema checks and migrations,
 * transactions, error messages.
 *
 * The store lives in one folder (the data folder): the database
 * `tmi-console.db` (WAL mode, so also `-wal` and `-shm` next to it while it
 * is open) and the audit chain's head anchor `audit-head` (see audit.h).
 *
 * Threads: a `store` is one SQLite connection and belongs to one thread at a
 * time. Never share one between threads; open one per worker thread (or per
 * process). Several connections, in one process or many, may use the same
 * folder at once: writers are serialised by SQLite's lock (BEGIN IMMEDIATE
 * with a 5 s busy timeout), readers see consistent snapshots.
 *
 * Errors: every function returns TMI_OK or a TMI_E* code (err.h). Functions
 * that take a store also leave a one-line English message in the store,
 * readable with store_errmsg() until the next call. Nothing here exits.
 *
 * Atomicity: every write (a scan with its observations and audit row, an
 * audit row, a migration) happens in one transaction; on any error it is
 * rolled back and the database is as it was.
 *
 * Inside db/ every call goes down this list, never up (a file may skip
 * levels; store.c, at the bottom, calls none of them):
 *
 *   store_open.c    open: checks, WAL, schema_migrate(), audit_anchor_init()
 *   job_trail.c     one job's audit rows and scans (audit_seq_range)
 *   scans.c         a scan with its audit row (audit_append), file history
 *   sig_digests.c   the signed files' digests a scan keeps (scans.c records)
 *   export.c        history and audit streamed (audit_seq_range)
 *   audit_verify.c  verify the chain, re-anchor (audit_append, the anchor)
 *   audit_append.c  append a row; asks for audit_anchor_after_commit()
 *   audit_anchor.c  the anchor file audit-head
 *   audit_read.c    a page of rows, a time range as a seq range, row JSON
 *   audit_file.c    an exported trail checked without a database (audit_hash)
 *   audit_chain.c   the hash, head text, canonical rows, the last row
 *   schema.c, jobs.c, alert_state.c, logincode.c, stamp.c, page.c
 *   store.c         errors, statement cache, transactions, commit hooks, close
 *
 * The one call up, anchoring after a commit, goes through a function
 * pointer: audit_append() registers it with store_after_commit()
 * (store_int.h) and store_commit() runs it after the outermost COMMIT.
 */
#ifndef TMI_STORE_H
#define TMI_STORE_H

#include <stddef.h>
#include <stdint.h>

struct sqlite3;

typedef struct store store;

/* Name of the database file inside the data folder. */
#define STORE_DB_NAME "tmi-console.db"

/* Flags for store_open_ex(). */
#define STORE_OPEN_EXISTING 0x1 /* fail with TMI_ENOENT instead of creating a new store */
#define STORE_OPEN_NO_CHECK 0x2 /* skip PRAGMA quick_check (extra connections) */

/* Upper bound for every page size a query takes (larger limits are capped). */
#define STORE_MAX_LIMIT 500
/* Page size used when a query gives limit 0. */
#define STORE_DEFAULT_LIMIT 50

/*
 * Open (creating if needed) the store in data_dir.
 *
 * Creates data_dir and its parents if missing (data_dir itself with mode
 * 0700 on POSIX) and the database in it. Then, before writing anything to an
 * existing file, checks that it is a tmi-console database: the SQLite header
 * must be valid, `PRAGMA application_id` must be STORE_APPLICATION_ID (schema.h; or the
 * file must be empty / brand new), `PRAGMA user_version` must not be newer
 * than this program, and `PRAGMA quick_check` must say "ok". Only then it
 * switches to WAL mode and runs the forward migrations (schema.h) in one
 * transaction.
 *
 * Returns TMI_OK with *out set (free with store_close()), or:
 *   TMI_ECORRUPT  not a database, damaged, or another program's database
 *   TMI_ESCHEMA   written by a newer tmi-console (user_version too high)
 *   TMI_EACCES    the folder or the file is not writable (or readable)
 *   TMI_EROFS     read-only file system
 *   TMI_ENOSPC    disk full while creating or migrating
 *   TMI_EBUSY     another process held the database lock for 5 s
 *   TMI_ENOENT    (STORE_OPEN_EXISTING only) no database in data_dir
 *   TMI_EINVAL / TMI_ENOMEM / TMI_EIO
 * and a one-line message naming the file in err (errlen bytes, may be 0).
 * On error *out is NULL and an existing file is left byte-for-byte unchanged.
 */
int store_open(const char *data_dir, store **out, char *err, size_t errlen);

/* store_open() with STORE_OPEN_* flags. */
int store_open_ex(const char *data_dir, unsigned flags, store **out, char *err, size_t errlen);

/* Close the connection and free s. Rolls back an open transaction. NULL is fine. */
void store_close(store *s);

/* The last error message of an operation on s ("" after success). Valid
 * until the next call on s. */
const char *store_errmsg(const store *s);

/*
 * Transactions. store_begin() starts a write transaction (BEGIN IMMEDIATE,
 * waiting up to the busy timeout for other writers) or, when one is already
 * open on s, a nested savepoint. store_commit() ends the innermost level;
 * store_rollback() undoes it. Every store_begin() must be matched by exactly
 * one store_commit() or store_rollback(). When the commit fails the level is
 * rolled back and the error returned. After the outermost commit, audit rows
 * appended inside are anchored (audit.h; the hook audit_append() registered);
 * a failure there does not undo the commit (it is reported by
 * audit_verify() as unanchored rows).
 */
int store_begin(store *s);
int store_commit(store *s);
void store_rollback(store *s);

/*
 * The raw SQLite connection, for tests and the benchmark (raw SQL on the
 * real file) and for tools. Product code uses the functions of db/ instead.
 * Owned by s.
 */
struct sqlite3 *store_handle(store *s);

/* The schema version of the open database (PRAGMA user_version). */
int store_schema_version(store *s, int *version);

#endif
