/*
 * store_int.h - what the modules of db/ share among themselves: the store
 * object, the statement cache and error helpers. Not for use outside db/
 * (tests may include it to reach internals they check).
 */
#ifndef TMI_STORE_INT_H
#define TMI_STORE_INT_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "plat.h"
#include "store.h"
#include "strutil.h"

/* Name of the audit head anchor file inside the data folder (audit.h). */
#define STORE_HEAD_NAME     "audit-head"
#define STORE_HEAD_TMP_NAME "audit-head.tmp"

/* Prepared statements kept for the life of a connection (hot paths only). */
enum store_stmt_id {
    STMT_FILE_INSERT,
    STMT_FILE_GET,
    STMT_OBS_GET,
    STMT_OBS_INSERT,
    STMT_FILE_SET_LATEST,
    STMT_DOC_INSERT,
    STMT_DOC_GET,
    STMT_SCAN_INSERT,
    STMT_SCAN_SET_CHANGED,
    STMT_AUDIT_LAST,
    STMT_AUDIT_INSERT,
    STMT_AUDIT_HEAD_SET,
    STMT_AUDIT_TEXT_GET,
    STMT_AUDIT_TEXT_ADD,
    STMT_AUDIT_PROBE,
    STMT_AUDIT_JOB,
    STMT_SIGDIG_GET,
    STMT_SIGDIG_PUT,
    STMT__COUNT
};

/* A function the store runs after the outermost commit (store_after_commit). */
typedef void (*store_commit_fn)(store *s);

/* Most distinct functions one transaction may ask to run after its commit. */
#define STORE_MAX_COMMIT_HOOKS 4

struct store {
    sqlite3 *db;
    char dir[PLAT_PATH_MAX];
    char db_path[PLAT_PATH_MAX];
    char head_path[PLAT_PATH_MAX];
    char head_tmp_path[PLAT_PATH_MAX];
    char errmsg[512];
    int tx_depth; /* 0: no transaction; 1: BEGIN; >1: savepoints */
    /* run after the outermost commit, then forgotten (also on rollback) */
    store_commit_fn after_commit[STORE_MAX_COMMIT_HOOKS];
    int n_after_commit;
    int anchor_adopt; /* audit_anchor.c's: opened as an upgrade, so a missing
                       * anchor is made at the next append, not reported */
    sqlite3_stmt *cache[STMT__COUNT];
};

/* Map an SQLite result code (primary or extended) to a TMI_E* code. */
int store_map_sqlite(int rc);

/*
 * Record an SQLite failure: sets s->errmsg to "WHAT: <sqlite message>" with a
 * plain-language hint for the common cases (disk full, read-only, locked),
 * and returns the mapped TMI_E* code.
 */
int store_fail_sqlite(store *s, int rc, const char *what);

/* Set s->errmsg (printf-style) and return code. */
int store_fail(store *s, int code, const char *fmt, ...) TMI_PRINTF(3, 4);

/* The plain-language hint store_fail_sqlite() adds for SQLite code rc
 * (" (disk full: ...)"), or "". */
const char *store_sqlite_hint(int rc);

/* Run sql (one row, one integer column: a pragma or a count) on db into
 * *out. An SQLite result code. */
int store_sql_int(sqlite3 *db, const char *sql, int *out);

/* Clear s->errmsg (called at the start of each public operation). */
void store_clear_error(store *s);

/*
 * A cached prepared statement: prepared on first use, then reused. The
 * statement comes back reset with bindings cleared; the caller must
 * sqlite3_reset() it when done (store_stmt_release) so that it does not keep
 * a read snapshot open. Owned by s; finalized by store_close().
 */
int store_stmt(store *s, enum store_stmt_id id, const char *sql, sqlite3_stmt **out);
void store_stmt_release(sqlite3_stmt *st);

/* Prepare an uncached statement (caller finalizes). */
int store_prepare(store *s, const char *sql, sqlite3_stmt **out);

/*
 * Ask for fn(s) to run once after the open write transaction's outermost
 * commit (however often it is asked for in that transaction); forgotten when
 * the whole transaction is rolled back (a rolled-back savepoint keeps it, so
 * fn must do no harm when nothing it expected was committed). This is how a module above the store
 * acts on a commit without the store calling it by name (audit_append: the anchor). fn's failure
 * does not undo the commit. TMI_EINVAL outside a transaction; TMI_ETOOBIG past
 * STORE_MAX_COMMIT_HOOKS distinct functions.
 */
int store_after_commit(store *s, store_commit_fn fn);

/* Begin / end a read snapshot (deferred transaction) when no transaction is
 * open; no-ops inside one. */
int store_read_begin(store *s, int *began);
void store_read_end(store *s, int began);

/* Bind text of known length, or NULL when p is NULL. */
int store_bind_text(sqlite3_stmt *st, int idx, const char *p);

/* Copy a text column into a new heap string; *out NULL for SQL NULL.
 * TMI_ENOMEM on failure. */
int store_col_strdup(sqlite3_stmt *st, int col, char **out);

/* Clamp a caller's limit to 1..STORE_MAX_LIMIT (0 means the default). */
int store_clamp_limit(size_t limit);

#endif
