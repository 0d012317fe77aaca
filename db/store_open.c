/*
 * store_open.c - opening a store (store.h, store_open()): the data folder
 * and the file checked before anything is written to it, WAL mode, the
 * migrations (schema.c), and the anchor of an empty audit chain
 * (audit_anchor.c). The connection's basics are store.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_int.h"
#include "err.h"
#include "schema.h"
#include "store.h"
#include "store_int.h"

#define BUSY_TIMEOUT_MS 5000

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
        rc = store_sql_int(s->db, "PRAGMA application_id", &app_id);
    if (rc == SQLITE_OK)
        rc = store_sql_int(s->db, "PRAGMA user_version", &version);
    if (rc == SQLITE_OK)
        rc = store_sql_int(s->db, "SELECT count(*) FROM sqlite_schema", &n_objects);
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        int code = store_map_sqlite(rc);
        if (code == TMI_ECORRUPT)
            return open_fail(err, errlen, code,
                             "%s is not a tmi-console database (%s); the file was not changed",
                             s->db_path, sqlite3_errstr(rc));
        return open_fail(err, errlen, code, "cannot read %s: %s%s", s->db_path, sqlite3_errstr(rc),
                         store_sqlite_hint(rc));
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
                         store_sqlite_hint(rc));
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
                         s->db_path, sqlite3_errstr(rc), store_sqlite_hint(rc));
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

/* s->dir and the paths of the files in it, from data_dir. */
static int set_paths(store *s, const char *data_dir, char *err, size_t errlen)
{
    if (strlen(data_dir) >= sizeof(s->dir) ||
        set_path(s->db_path, sizeof(s->db_path), data_dir, STORE_DB_NAME) != TMI_OK ||
        set_path(s->head_path, sizeof(s->head_path), data_dir, STORE_HEAD_NAME) != TMI_OK ||
        set_path(s->head_tmp_path, sizeof(s->head_tmp_path), data_dir, STORE_HEAD_TMP_NAME) !=
            TMI_OK)
        return open_fail(err, errlen, TMI_EINVAL, "data folder path too long");
    snprintf(s->dir, sizeof(s->dir), "%s", data_dir);
    return TMI_OK;
}

/* The data folder made (or, STORE_OPEN_EXISTING, the database found);
 * *exists: the database file is there. */
static int prepare_folder(store *s, unsigned flags, int *exists, char *err, size_t errlen)
{
    plat_stat st;
    int rc;
    if (flags & STORE_OPEN_EXISTING) {
        rc = plat.stat(s->db_path, &st);
        if (rc != TMI_OK)
            return open_fail(err, errlen, rc == TMI_ENOENT ? TMI_ENOENT : rc,
                             "no tmi-console database in %s (%s)", s->dir, tmi_strerror(rc));
    } else {
        rc = plat_make_private_dir(s->dir);
        if (rc != TMI_OK)
            return open_fail(err, errlen, rc, "cannot create the data folder %s: %s", s->dir,
                             tmi_strerror(rc));
    }
    *exists = plat.stat(s->db_path, &st) == TMI_OK;
    if (*exists && st.is_link) /* SQLite would follow it */
        return open_fail(err, errlen, TMI_ELINK,
                         "%s is a link: tmi-console never follows a link in its data folder",
                         s->db_path);
    if (*exists && !st.is_file)
        return open_fail(err, errlen, TMI_ECORRUPT, "%s is not a file", s->db_path);
    return check_writable(s, *exists, err, errlen);
}

/* The SQLite connection, read-write. */
static int open_connection(store *s, unsigned flags, char *err, size_t errlen)
{
    int src = sqlite3_open_v2(s->db_path, &s->db,
                              SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
                                  ((flags & STORE_OPEN_EXISTING) ? 0 : SQLITE_OPEN_CREATE),
                              NULL);
    if (src != SQLITE_OK)
        return open_fail(err, errlen, store_map_sqlite(src), "cannot open %s: %s%s", s->db_path,
                         s->db != NULL ? sqlite3_errmsg(s->db) : sqlite3_errstr(src),
                         store_sqlite_hint(src));
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
    if (sqlite3_db_readonly(s->db, "main") == 1)
        return open_fail(err, errlen, TMI_EACCES,
                         "database %s is read-only: the store needs write access", s->db_path);
    return TMI_OK;
}

/* The migrations, then the audit chain's anchor: a trail from before the
 * anchor file gets one at its next append; an empty chain gets its seq-0
 * anchor now; afterwards a missing anchor is evidence. */
static int migrate(store *s, char *err, size_t errlen)
{
    char merr[384];
    int before = 0;
    int rc = store_sql_int(s->db, "PRAGMA user_version", &before);
    if (rc != SQLITE_OK)
        return open_fail(err, errlen, store_map_sqlite(rc), "%s: cannot read the schema version",
                         s->db_path);
    rc = schema_migrate(s->db, SCHEMA_VERSION, merr, sizeof(merr));
    if (rc != TMI_OK)
        return open_fail(err, errlen, rc, "%s: %s", s->db_path, merr);
    s->anchor_adopt = before > 0 && before < SCHEMA_VERSION;
    rc = audit_anchor_init(s);
    if (rc != TMI_OK)
        return open_fail(err, errlen, rc, "%s", store_errmsg(s));
    return TMI_OK;
}

int store_open(const char *data_dir, store **out, char *err, size_t errlen)
{
    return store_open_ex(data_dir, 0, out, err, errlen);
}

int store_open_ex(const char *data_dir, unsigned flags, store **out, char *err, size_t errlen)
{
    store *s = NULL;
    int exists = 0;
    int rc;

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
    rc = set_paths(s, data_dir, err, errlen);
    if (rc == TMI_OK)
        rc = prepare_folder(s, flags, &exists, err, errlen);
    if (rc == TMI_OK)
        rc = open_connection(s, flags, err, errlen);
    if (rc == TMI_OK)
        rc = validate_existing(s, flags, err, errlen);
    if (rc == TMI_OK)
        rc = configure(s, err, errlen);
    if (rc == TMI_OK)
        rc = migrate(s, err, errlen);
    if (rc != TMI_OK) {
        store_close(s);
        return rc;
    }
    *out = s;
    return TMI_OK;
}
