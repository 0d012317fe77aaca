/*
 * store.c - opening, checking, migrating and closing the store; transactions;
 * the statement cache and error messages shared by the modules of db/.
 */
#include "store.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "schema.h"
#include "store_int.h"

#define BUSY_TIMEOUT_MS 5000

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

static const char *hint_for(int rc)
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
    snprintf(s->errmsg, sizeof(s->errmsg), "%s: %s%s", what, sqlite3_errstr(rc), hint_for(rc));
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

const char *store_dir(const store *s)
{
    return s->dir;
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

int store_commit(store *s)
{
    int rc;
    if (s->tx_depth <= 0)
        return store_fail(s, TMI_EINVAL, "commit without a transaction");
    if (sqlite3_get_autocommit(s->db)) {
        /* SQLite already rolled the whole transaction back (disk full, I/O). */
        s->tx_depth--;
        if (s->tx_depth == 0)
            s->audit_pending = 0;
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
        s->audit_pending = 0;
        return code;
    }
    if (s->audit_pending) {
        s->audit_pending = 0;
        /* The rows are committed; a failure to anchor them is reported by
         * audit_verify() as unanchored rows, and fixed by the next append. */
        if (audit_anchor_sync(s, s->anchor_adopt) == TMI_OK)
            s->anchor_adopt = 0;
    }
    return TMI_OK;
}

void store_rollback(store *s)
{
    if (s->tx_depth <= 0)
        return;
    s->tx_depth--;
    if (sqlite3_get_autocommit(s->db)) {
        if (s->tx_depth == 0)
            s->audit_pending = 0;
        return; /* already rolled back by SQLite */
    }
    if (s->tx_depth > 0) {
        sqlite3_exec(s->db, "ROLLBACK TO tmi_sp", NULL, NULL, NULL);
        sqlite3_exec(s->db, "RELEASE tmi_sp", NULL, NULL, NULL);
        return;
    }
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    s->audit_pending = 0;
}

/* ---- open / close ---- */

static int query_int(sqlite3 *db, const char *sql, int *out)
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

static int quick_check(sqlite3 *db, char *msg, size_t msglen, int *ok)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &st, NULL);
    *ok = 0;
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            const char *t = (const char *)sqlite3_column_text(st, 0);
            *ok = t != NULL && strcmp(t, "ok") == 0;
            snprintf(msg, msglen, "%s", t != NULL ? t : "");
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

static int set_path(char *buf, size_t buflen, const char *dir, const char *name)
{
    int n = snprintf(buf, buflen, "%s%s%s", dir, PLAT_SEP_STR, name);
    return (n < 0 || (size_t)n >= buflen) ? TMI_EINVAL : TMI_OK;
}

/* Report an error of the open sequence into err and return code. */
static int open_fail(char *err, size_t errlen, int code, const char *fmt, ...) TMI_PRINTF(4, 5);

static int open_fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
    if (errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

static int check_writable(const store *s, int exists, char *err, size_t errlen)
{
    int rc = plat_check_writable(s->dir);
    if (rc == TMI_EACCES || rc == TMI_EROFS)
        return open_fail(err, errlen, rc,
                         "data folder %s is not writable (%s): the store needs to write its "
                         "database and journal files there; run as the folder's owner or an "
                         "administrator",
                         s->dir, tmi_strerror(rc));
    if (!exists)
        return TMI_OK;
    rc = plat_check_writable(s->db_path);
    if (rc == TMI_EACCES || rc == TMI_EROFS)
        return open_fail(err, errlen, rc,
                         "database %s is read-only (%s): the store needs write access; run as "
                         "its owner or an administrator",
                         s->db_path, tmi_strerror(rc));
    return TMI_OK;
}

/* Checks on an existing file before anything is written to it. */
static int validate_existing(store *s, unsigned flags, char *err, size_t errlen)
{
    int app_id = 0, version = 0, n_objects = 0, ok = 0;
    char msg[256];
    /* One snapshot: another process may be creating the same store right now. */
    int rc = sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = query_int(s->db, "PRAGMA application_id", &app_id);
    if (rc == SQLITE_OK)
        rc = query_int(s->db, "PRAGMA user_version", &version);
    if (rc == SQLITE_OK)
        rc = query_int(s->db, "SELECT count(*) FROM sqlite_schema", &n_objects);
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        int code = store_map_sqlite(rc);
        if (code == TMI_ECORRUPT)
            return open_fail(err, errlen, code,
                             "%s is not a tmi-console database (%s); the file was not changed",
                             s->db_path, sqlite3_errstr(rc));
        return open_fail(err, errlen, code, "cannot read %s: %s%s", s->db_path, sqlite3_errstr(rc),
                         hint_for(rc));
    }
    if (app_id != STORE_APPLICATION_ID && (app_id != 0 || version != 0 || n_objects != 0))
        return open_fail(err, errlen, TMI_ECORRUPT,
                         "%s is another program's SQLite database (application_id 0x%08x, "
                         "expected 0x%08x); the file was not changed",
                         s->db_path, (unsigned)app_id, (unsigned)STORE_APPLICATION_ID);
    if (version > SCHEMA_VERSION)
        return open_fail(err, errlen, TMI_ESCHEMA,
                         "%s has schema version %d, written by a newer tmi-console (this one "
                         "knows up to %d); upgrade tmi-console. The file was not changed",
                         s->db_path, version, SCHEMA_VERSION);
    if (version < 0)
        return open_fail(err, errlen, TMI_ECORRUPT, "%s has an invalid schema version %d",
                         s->db_path, version);
    if (version == 0 || (flags & STORE_OPEN_NO_CHECK))
        return TMI_OK;
    rc = quick_check(s->db, msg, sizeof(msg), &ok);
    if (rc != SQLITE_OK) {
        int code = store_map_sqlite(rc);
        return open_fail(err, errlen, code, "cannot check %s: %s%s", s->db_path, sqlite3_errstr(rc),
                         hint_for(rc));
    }
    if (!ok)
        return open_fail(err, errlen, TMI_ECORRUPT,
                         "%s is damaged (integrity check: %s); the file was not changed; "
                         "restore it from a backup",
                         s->db_path, msg);
    return TMI_OK;
}

/* Run a journal_mode pragma; *wal 1 when the database is (now) in WAL mode. */
static int journal_mode(sqlite3 *db, const char *sql, int *wal)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    *wal = 0;
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            const char *m = (const char *)sqlite3_column_text(st, 0);
            *wal = m != NULL && strcmp(m, "wal") == 0;
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

static int configure(store *s, char *err, size_t errlen)
{
    int wal = 0;
    int64_t deadline = plat_monotonic_ns() + (int64_t)BUSY_TIMEOUT_MS * 1000000;
    int rc = journal_mode(s->db, "PRAGMA journal_mode", &wal);
    /* Switching to WAL needs the database to itself and does not wait for
     * the busy handler: retry while another process (creating the same new
     * store, say) holds it, up to the busy timeout. */
    while (rc == SQLITE_OK && !wal) {
        rc = journal_mode(s->db, "PRAGMA journal_mode = WAL", &wal);
        if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
            if (plat_monotonic_ns() > deadline)
                break;
            plat_sleep_ms(20);
            rc = journal_mode(s->db, "PRAGMA journal_mode", &wal);
            continue;
        }
        break;
    }
    if (rc != SQLITE_OK)
        return open_fail(err, errlen, store_map_sqlite(rc), "cannot set WAL mode on %s: %s%s",
                         s->db_path, sqlite3_errstr(rc), hint_for(rc));
    if (!wal)
        return open_fail(err, errlen, TMI_EIO,
                         "%s: WAL mode is not available (network or read-only file system?)",
                         s->db_path);
    /* FULL: a committed audit row survives a power cut. */
    rc = sqlite3_exec(s->db, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON", NULL, NULL,
                      NULL);
    if (rc != SQLITE_OK)
        return open_fail(err, errlen, store_map_sqlite(rc), "cannot configure %s: %s", s->db_path,
                         sqlite3_errmsg(s->db));
    return TMI_OK;
}

int store_open(const char *data_dir, store **out, char *err, size_t errlen)
{
    return store_open_ex(data_dir, 0, out, err, errlen);
}

int store_open_ex(const char *data_dir, unsigned flags, store **out, char *err, size_t errlen)
{
    store *s = NULL;
    plat_stat st;
    int exists = 0;
    int rc = TMI_OK, src;
    char merr[384];

    if (errlen > 0)
        err[0] = '\0';
    if (out == NULL)
        return TMI_EINVAL;
    *out = NULL;
    if (data_dir == NULL || data_dir[0] == '\0')
        return open_fail(err, errlen, TMI_EINVAL, "no data folder given");
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return open_fail(err, errlen, TMI_ENOMEM, "out of memory");
    if (strlen(data_dir) >= sizeof(s->dir) ||
        set_path(s->db_path, sizeof(s->db_path), data_dir, STORE_DB_NAME) != TMI_OK ||
        set_path(s->head_path, sizeof(s->head_path), data_dir, STORE_HEAD_NAME) != TMI_OK ||
        set_path(s->head_tmp_path, sizeof(s->head_tmp_path), data_dir, STORE_HEAD_TMP_NAME) !=
            TMI_OK) {
        rc = open_fail(err, errlen, TMI_EINVAL, "data folder path too long");
        goto out;
    }
    snprintf(s->dir, sizeof(s->dir), "%s", data_dir);

    if (flags & STORE_OPEN_EXISTING) {
        rc = plat.stat(s->db_path, &st);
        if (rc != TMI_OK) {
            rc = open_fail(err, errlen, rc == TMI_ENOENT ? TMI_ENOENT : rc,
                           "no tmi-console database in %s (%s)", s->dir, tmi_strerror(rc));
            goto out;
        }
    } else {
        rc = plat_make_private_dir(s->dir);
        if (rc != TMI_OK) {
            rc = open_fail(err, errlen, rc, "cannot create the data folder %s: %s", s->dir,
                           tmi_strerror(rc));
            goto out;
        }
    }
    exists = plat.stat(s->db_path, &st) == TMI_OK;
    if (exists && st.is_link) { /* SQLite would follow it */
        rc = open_fail(err, errlen, TMI_ELINK,
                       "%s is a link: tmi-console never follows a link in its data folder",
                       s->db_path);
        goto out;
    }
    if (exists && !st.is_file) {
        rc = open_fail(err, errlen, TMI_ECORRUPT, "%s is not a file", s->db_path);
        goto out;
    }
    rc = check_writable(s, exists, err, errlen);
    if (rc != TMI_OK)
        goto out;

    src = sqlite3_open_v2(s->db_path, &s->db,
                          SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
                              ((flags & STORE_OPEN_EXISTING) ? 0 : SQLITE_OPEN_CREATE),
                          NULL);
    if (src != SQLITE_OK) {
        rc = open_fail(err, errlen, store_map_sqlite(src), "cannot open %s: %s%s", s->db_path,
                       s->db != NULL ? sqlite3_errmsg(s->db) : sqlite3_errstr(src), hint_for(src));
        goto out;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
    if (sqlite3_db_readonly(s->db, "main") == 1) {
        rc = open_fail(err, errlen, TMI_EACCES,
                       "database %s is read-only: the store needs write access", s->db_path);
        goto out;
    }
    rc = validate_existing(s, flags, err, errlen);
    if (rc != TMI_OK)
        goto out;
    rc = configure(s, err, errlen);
    if (rc != TMI_OK)
        goto out;
    int before = 0;
    rc = query_int(s->db, "PRAGMA user_version", &before);
    if (rc != SQLITE_OK) {
        rc = open_fail(err, errlen, store_map_sqlite(rc), "%s: cannot read the schema version",
                       s->db_path);
        goto out;
    }
    rc = schema_migrate(s->db, SCHEMA_VERSION, merr, sizeof(merr));
    if (rc != TMI_OK) {
        rc = open_fail(err, errlen, rc, "%s: %s", s->db_path, merr);
        goto out;
    }
    /* a trail from before the anchor file gets one at its next append; an
     * empty chain gets its seq-0 anchor now; afterwards a missing anchor is
     * evidence */
    s->anchor_adopt = before > 0 && before < SCHEMA_VERSION;
    rc = audit_anchor_init(s);
    if (rc != TMI_OK) {
        rc = open_fail(err, errlen, rc, "%s", store_errmsg(s));
        goto out;
    }
out:
    if (rc != TMI_OK) {
        store_close(s);
        return rc;
    }
    *out = s;
    return TMI_OK;
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

int store_schema_version(store *s, int *version)
{
    int rc = query_int(s->db, "PRAGMA user_version", version);
    if (rc != SQLITE_OK)
        return store_fail_sqlite(s, rc, "cannot read the schema version");
    return TMI_OK;
}
