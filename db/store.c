/*
 * store.c - the connection's basics that every module of db/ uses: error
 * codes and messages, the statement cache, transactions (and the hooks run
 * after a commit), closing. Opening is store_open.c.
 */
#include "store.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "store_int.h"

int store_map_sqlite(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
        return TMI_OK;
    case SQLITE_NOMEM:
        return TMI_ENOMEM;
    case SQLITE_FULL:
        return TMI_ENOSPC;
    case SQLITE_READONLY:
        return TMI_EACCES;
    case SQLITE_PERM:
    case SQLITE_AUTH:
        return TMI_EACCES;
    case SQLITE_CANTOPEN:
        return TMI_EACCES;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return TMI_EBUSY;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return TMI_ECORRUPT;
    case SQLITE_TOOBIG:
        return TMI_ETOOBIG;
    case SQLITE_CONSTRAINT:
        return TMI_ECONFLICT;
    case SQLITE_MISUSE:
    case SQLITE_RANGE:
        return TMI_EINVAL;
    case SQLITE_INTERRUPT:
        return TMI_EINTR;
    default:
        return TMI_EIO;
    }
}

const char *store_sqlite_hint(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_FULL:
        return " (disk full: free some space; nothing was written)";
    case SQLITE_READONLY:
    case SQLITE_PERM:
        return " (the database is read-only for this user)";
    case SQLITE_CANTOPEN:
        return " (cannot open the database or its -wal/-shm files: is the folder writable?)";
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return " (another process kept the database locked for 5 s)";
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return " (the database file is damaged)";
    default:
        return "";
    }
}

int store_fail_sqlite(store *s, int rc, const char *what)
{
    snprintf(s->errmsg, sizeof(s->errmsg), "%s: %s%s", what, sqlite3_errstr(rc),
             store_sqlite_hint(rc));
    return store_map_sqlite(rc);
}

int store_fail(store *s, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->errmsg, sizeof(s->errmsg), fmt, ap);
    va_end(ap);
    return code;
}

void store_clear_error(store *s)
{
    s->errmsg[0] = '\0';
}

const char *store_errmsg(const store *s)
{
    return s != NULL ? s->errmsg : "no store";
}

struct sqlite3 *store_handle(store *s)
{
    return s->db;
}

int store_stmt(store *s, enum store_stmt_id id, const char *sql, sqlite3_stmt **out)
{
    sqlite3_stmt *st = s->cache[id];
    if (st != NULL) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        *out = st;
        return TMI_OK;
    }
    int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (rc != SQLITE_OK)
        return store_fail_sqlite(s, rc, "cannot prepare a statement");
    s->cache[id] = st;
    *out = st;
    return TMI_OK;
}

void store_stmt_release(sqlite3_stmt *st)
{
    if (st != NULL) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
}

int store_prepare(store *s, const char *sql, sqlite3_stmt **out)
{
    int rc = sqlite3_prepare_v2(s->db, sql, -1, out, NULL);
    if (rc != SQLITE_OK) {
        *out = NULL;
        return store_fail_sqlite(s, rc, "cannot prepare a statement");
    }
    return TMI_OK;
}

int store_bind_text(sqlite3_stmt *st, int idx, const char *p)
{
    if (p == NULL)
        return sqlite3_bind_null(st, idx);
    return sqlite3_bind_text(st, idx, p, -1, SQLITE_TRANSIENT);
}

int store_col_strdup(sqlite3_stmt *st, int col, char **out)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    *out = NULL;
    if (t == NULL)
        return sqlite3_errcode(sqlite3_db_handle(st)) == SQLITE_NOMEM ? TMI_ENOMEM : TMI_OK;
    size_t n = (size_t)sqlite3_column_bytes(st, col);
    char *p = malloc(n + 1);
    if (p == NULL)
        return TMI_ENOMEM;
    memcpy(p, t, n);
    p[n] = '\0';
    *out = p;
    return TMI_OK;
}

int store_clamp_limit(size_t limit)
{
    if (limit == 0)
        return STORE_DEFAULT_LIMIT;
    if (limit > STORE_MAX_LIMIT)
        return STORE_MAX_LIMIT;
    return (int)limit;
}

int store_read_begin(store *s, int *began)
{
    *began = 0;
    if (s->tx_depth > 0 || !sqlite3_get_autocommit(s->db))
        return TMI_OK;
    int rc = sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return store_fail_sqlite(s, rc, "cannot start a read");
    *began = 1;
    return TMI_OK;
}

void store_read_end(store *s, int began)
{
    if (began && !sqlite3_get_autocommit(s->db)) {
        if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    }
}

/* ---- transactions ---- */

int store_begin(store *s)
{
    int rc;
    store_clear_error(s);
    if (s->tx_depth == 0)
        rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    else
        rc = sqlite3_exec(s->db, "SAVEPOINT tmi_sp", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return store_fail_sqlite(s, rc, "cannot start a transaction");
    s->tx_depth++;
    return TMI_OK;
}

int store_after_commit(store *s, store_commit_fn fn)
{
    if (s->tx_depth <= 0 || fn == NULL)
        return store_fail(s, TMI_EINVAL, "a commit hook outside a transaction");
    for (int i = 0; i < s->n_after_commit; i++) {
        if (s->after_commit[i] == fn)
            return TMI_OK;
    }
    if (s->n_after_commit == STORE_MAX_COMMIT_HOOKS)
        return store_fail(s, TMI_ETOOBIG, "too many commit hooks");
    s->after_commit[s->n_after_commit++] = fn;
    return TMI_OK;
}

/* The outermost transaction ended: run the hooks when it committed, and
 * forget them either way. */
static void end_transaction(store *s, int committed)
{
    int n = s->n_after_commit;
    s->n_after_commit = 0;
    for (int i = 0; committed && i < n; i++)
        s->after_commit[i](s);
}

int store_commit(store *s)
{
    int rc;
    if (s->tx_depth <= 0)
        return store_fail(s, TMI_EINVAL, "commit without a transaction");
    if (sqlite3_get_autocommit(s->db)) {
        /* SQLite already rolled the whole transaction back (disk full, I/O). */
        s->tx_depth--;
        if (s->tx_depth == 0)
            end_transaction(s, 0);
        if (s->errmsg[0] == '\0')
            store_fail(s, TMI_EIO, "the transaction was rolled back after an earlier error");
        return TMI_EIO;
    }
    if (s->tx_depth > 1) {
        rc = sqlite3_exec(s->db, "RELEASE tmi_sp", NULL, NULL, NULL);
        s->tx_depth--;
        if (rc != SQLITE_OK)
            return store_fail_sqlite(s, rc, "cannot commit");
        return TMI_OK;
    }
    rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    s->tx_depth = 0;
    if (rc != SQLITE_OK) {
        int code = store_fail_sqlite(s, rc, "cannot commit");
        if (!sqlite3_get_autocommit(s->db))
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        end_transaction(s, 0);
        return code;
    }
    end_transaction(s, 1);
    return TMI_OK;
}

void store_rollback(store *s)
{
    if (s->tx_depth <= 0)
        return;
    s->tx_depth--;
    if (sqlite3_get_autocommit(s->db)) {
        if (s->tx_depth == 0)
            end_transaction(s, 0);
        return; /* already rolled back by SQLite */
    }
    if (s->tx_depth > 0) {
        sqlite3_exec(s->db, "ROLLBACK TO tmi_sp", NULL, NULL, NULL);
        sqlite3_exec(s->db, "RELEASE tmi_sp", NULL, NULL, NULL);
        return;
    }
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    end_transaction(s, 0);
}

void store_close(store *s)
{
    if (s == NULL)
        return;
    for (int i = 0; i < STMT__COUNT; i++)
        sqlite3_finalize(s->cache[i]);
    if (s->db != NULL) {
        if (!sqlite3_get_autocommit(s->db))
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close_v2(s->db);
    }
    free(s);
}

int store_sql_int(sqlite3 *db, const char *sql, int *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *out = sqlite3_column_int(st, 0);
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

int store_schema_version(store *s, int *version)
{
    int rc = store_sql_int(s->db, "PRAGMA user_version", version);
    if (rc != SQLITE_OK)
        return store_fail_sqlite(s, rc, "cannot read the schema version");
    return TMI_OK;
}
