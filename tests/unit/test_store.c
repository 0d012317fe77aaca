/*
 * test_store.c - opening the store: creation, refusals that leave the file
 * untouched (corrupt, foreign, newer schema, read-only), migration from every
 * earlier schema version, disk full, and nested transactions.
 */
#define _POSIX_C_SOURCE 200809L

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#ifndef _WIN32
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#include "audit.h"
#include "err.h"
#include "plat.h"
#include "scans.h"
#include "schema.h"
#include "store.h"
#include "store_int.h"
#include "storetest.h"
#include "testutil.h"

static void db_path_of(char *buf, size_t n, const char *dir)
{
    st_path(buf, n, dir, STORE_DB_NAME);
}

/* A store in dir holding one scan and one extra audit row, then closed. */
static void make_store(const char *dir)
{
    store *s = st_open(dir);
    scan_result *r = st_scan("/tmi", 8, 1, 8);
    audit_event ev = {"login", NULL, NULL, "ok", NULL};
    assert_int_equal(scans_record(s, r, &st_actor, NULL), TMI_OK);
    assert_int_equal(audit_append(s, &st_actor, &ev, NULL), TMI_OK);
    scan_result_free(r);
    store_close(s);
}

/* Expect store_open(dir) to fail with code and a message containing needle,
 * and the database file to be byte-for-byte what it was. */
static void expect_refused(const char *dir, int code, const char *needle)
{
    char db[PLAT_PATH_MAX], err[512];
    size_t len = 0;
    store *s = NULL;
    db_path_of(db, sizeof(db), dir);
    uint8_t *before = st_slurp(db, &len);
    int rc = store_open(dir, &s, err, sizeof(err));
    if (rc != code)
        fail_msg("store_open: got %s (%s), wanted %s", tmi_strerror(rc), err, tmi_strerror(code));
    assert_null(s);
    if (strstr(err, needle) == NULL)
        fail_msg("message '%s' lacks '%s'", err, needle);
    st_assert_file_is(db, before, len);
    free(before);
}

static void open_creates_private_folder(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX], data[PLAT_PATH_MAX], db[PLAT_PATH_MAX];
    int version = 0;
    st_tmpdir(dir, sizeof(dir));
    st_path(data, sizeof(data), dir, "a" PLAT_SEP_STR "b" PLAT_SEP_STR "data");
    store *s = st_open(data);
    assert_int_equal(store_schema_version(s, &version), TMI_OK);
    assert_int_equal(version, SCHEMA_VERSION);
    assert_int_equal(st_int(s, "PRAGMA application_id"), STORE_APPLICATION_ID);
    assert_int_equal(st_int(s, "PRAGMA foreign_keys"), 1);
    assert_int_equal(st_int(s, "PRAGMA busy_timeout"), 5000);
    store_close(s);
    db_path_of(db, sizeof(db), data);
    plat_stat st;
    assert_int_equal(plat.stat(db, &st), TMI_OK);
#ifndef _WIN32
    struct stat sb;
    assert_int_equal(stat(data, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);
#endif
    /* reopen: same data, no second migration */
    s = st_open(data);
    store_close(s);
}

static void open_reports_wal(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX];
    st_tmpdir(dir, sizeof(dir));
    store *s = st_open(dir);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(store_handle(s), "PRAGMA journal_mode", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    store_close(s);
}

static void open_existing_flag(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX], data[PLAT_PATH_MAX], err[512];
    store *s = NULL;
    plat_stat st;
    st_tmpdir(dir, sizeof(dir));
    st_path(data, sizeof(data), dir, "none");
    assert_int_equal(store_open_ex(data, STORE_OPEN_EXISTING, &s, err, sizeof(err)), TMI_ENOENT);
    assert_null(s);
    assert_non_null(strstr(err, "no tmi-console database"));
    assert_int_equal(plat.stat(data, &st), TMI_ENOENT); /* nothing created */
}

static void refuses_random_bytes(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX], db[PLAT_PATH_MAX];
    uint8_t junk[8192];
    st_tmpdir(dir, sizeof(dir));
    db_path_of(db, sizeof(db), dir);
    assert_int_equal(plat_random(junk, sizeof(junk)), TMI_OK);
    tu_write(db, junk, sizeof(junk));
    expect_refused(dir, TMI_ECORRUPT, "not a tmi-console database");
}

static void refuses_damaged_database(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX], db[PLAT_PATH_MAX];
    size_t len = 0;
    st_tmpdir(dir, sizeof(dir));
    make_store(dir);
    db_path_of(db, sizeof(db), dir);
    uint8_t *img = st_slurp(db, &len);
    assert_true(len >= 4 * 4096);
    /* smash the b-tree page header of pages 2 and 3 */
    memset(img + 4096, 0xff, 16);
    memset(img + 2 * 4096, 0xff, 16);
    tu_write(db, img, len);
    free(img);
    expect_refused(dir, TMI_ECORRUPT, "");
}

static void refuses_foreign_database(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX], db[PLAT_PATH_MAX];
    sqlite3 *raw = NULL;
    st_tmpdir(dir, sizeof(dir));
    db_path_of(db, sizeof(db), dir);
    assert_int_equal(sqlite3_open(db, &raw), SQLITE_OK);
    assert_int_equal(sqlite3_exec(raw,
                                  "PRAGMA application_id = 1179211844;" /* another program */
                                  "CREATE TABLE notes (x TEXT); INSERT INTO notes VALUES ('hi');",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(raw);
    expect_refused(dir, TMI_ECORRUPT, "another program's SQLite database");
}

static void refuses_foreign_database_without_id(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX], db[PLAT_PATH_MAX];
    sqlite3 *raw = NULL;
    st_tmpdir(dir, sizeof(dir));
    db_path_of(db, sizeof(db), dir);
    assert_int_equal(sqlite3_open(db, &raw), SQLITE_OK);
    assert_int_equal(sqlite3_exec(raw, "CREATE TABLE notes (x TEXT);", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(raw);
    expect_refused(dir, TMI_ECORRUPT, "another program's");
}

static void refuses_newer_schema(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX], db[PLAT_PATH_MAX];
    sqlite3 *raw = NULL;
    st_tmpdir(dir, sizeof(dir));
    make_store(dir);
    db_path_of(db, sizeof(db), dir);
    assert_int_equal(sqlite3_open(db, &raw), SQLITE_OK);
    assert_int_equal(sqlite3_exec(raw, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(raw);
    expect_refused(dir, TMI_ESCHEMA, "newer tmi-console");
}

/* ---- migrations ---- */

/* Data a database at schema version v can hold, written with raw SQL. */
static void fill_old(sqlite3 *db, int v)
{
    if (v >= 1) {
        char *msg = NULL;
        int rc =
            sqlite3_exec(db,
                         v >= 5 ? "INSERT INTO scans (id, started_ns, duration_ns, doc_id, changed)"
                                  " VALUES (1, 1000, 1000, 1, 3);"
                                : "INSERT INTO scans (id, started_ns, finished_ns, doc_id, changed)"
                                  " VALUES (1, 1000, 2000, 1, 3);",
                         NULL, NULL, &msg);
        if (rc != SQLITE_OK)
            fail_msg("v%d data: %s", v, msg);
        rc = sqlite3_exec(
            db,
            "INSERT INTO scan_docs (id, sha256, verdict, tmi_dir, root, playbook_id, json)"
            " VALUES (1, zeroblob(32), 'healthy', '/tmi', "
            "'/root', 'tmi-mrf-1156', '{\"verdict\":\"healthy\"}');"
            "INSERT INTO files (id, path, name, kind) VALUES (1, '/tmi/f0.dll', 'f0.dll', 'tmi');"
            "INSERT INTO files (id, path, name, kind) VALUES (2, '/tmi/f1.dll', 'f1.dll', 'tmi');"
            "INSERT INTO observations (id, file_id, scan_id, observed_ns, present,"
            " size, mtime_ns, sha256, version, status) VALUES"
            " (1, 1, 1, 1000, 1, 100, 5, NULL, '1.12.0.1156', 'old'),"
            " (2, 2, 1, 1000, 1, 200, 5, NULL, '1.12.0.1266', 'ok'),"
            " (3, 1, 1, 1000, 1, 101, 6, NULL, '1.12.0.1266', 'ok');",
            NULL, NULL, &msg);
        if (rc != SQLITE_OK)
            fail_msg("v%d data: %s", v, msg);
    }
    if (v >= 3) /* from v3 on, the program keeps each path's latest observation */
        assert_int_equal(sqlite3_exec(db,
                                      "UPDATE files SET latest_obs_id = 3 WHERE id = 1;"
                                      "UPDATE files SET latest_obs_id = 2 WHERE id = 2;",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
    if (v >= 2) {
        uint8_t prev[32] = {0}, hash[32];
        for (int64_t seq = 1; seq <= 3; seq++) {
            audit_fields f = {
                seq, 1764064790000000000LL + seq, "old-admin", "cli", "login", NULL, NULL, "ok",
                NULL};
            sqlite3_stmt *st = NULL;
            assert_int_equal(audit_hash(prev, &f, hash), TMI_OK);
            /* v2-v4 keep the rows in `audit`; from v5 on in audit_log, with
             * their texts interned (audit.h) */
            static const char v2_row[] = "INSERT INTO audit (seq, time_ns, actor, auth, action,"
                                         " outcome, prev_hash, hash) VALUES (?, ?, 'old-admin',"
                                         " 'cli', 'login', 'ok', ?, ?)";
            static const char v5_row[] =
                "INSERT INTO audit_log (seq, time_ns, actor, auth, action, outcome, hash)"
                " VALUES (?1, ?2, (SELECT id FROM audit_text WHERE text = 'old-admin'),"
                " (SELECT id FROM audit_text WHERE text = 'cli'),"
                " (SELECT id FROM audit_text WHERE text = 'login'),"
                " (SELECT id FROM audit_text WHERE text = 'ok'), ?4)";
            if (v >= 5)
                assert_int_equal(sqlite3_exec(db,
                                              "INSERT OR IGNORE INTO audit_text (text) VALUES"
                                              " ('old-admin'), ('cli'), ('login'), ('ok')",
                                              NULL, NULL, NULL),
                                 SQLITE_OK);
            assert_int_equal(sqlite3_prepare_v2(db, v >= 5 ? v5_row : v2_row, -1, &st, NULL),
                             SQLITE_OK);
            sqlite3_bind_int64(st, 1, seq);
            sqlite3_bind_int64(st, 2, f.time_ns);
            if (v < 5)
                sqlite3_bind_blob(st, 3, prev, 32, SQLITE_TRANSIENT);
            sqlite3_bind_blob(st, 4, hash, 32, SQLITE_TRANSIENT);
            assert_int_equal(sqlite3_step(st), SQLITE_DONE);
            sqlite3_finalize(st);
            assert_int_equal(
                sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO audit_head VALUES (1, ?, ?)", -1,
                                   &st, NULL),
                SQLITE_OK);
            sqlite3_bind_int64(st, 1, seq);
            sqlite3_bind_blob(st, 2, hash, 32, SQLITE_TRANSIENT);
            assert_int_equal(sqlite3_step(st), SQLITE_DONE);
            sqlite3_finalize(st);
            memcpy(prev, hash, 32);
        }
    }
}

static void migrate_from(int v)
{
    char dir[PLAT_PATH_MAX], db[PLAT_PATH_MAX], err[256];
    sqlite3 *raw = NULL;
    int version = 0;
    st_tmpdir(dir, sizeof(dir));
    db_path_of(db, sizeof(db), dir);
    assert_int_equal(sqlite3_open(db, &raw), SQLITE_OK);
    if (v > 0) {
        assert_int_equal(schema_migrate(raw, v, err, sizeof(err)), TMI_OK);
        assert_int_equal(sqlite3_exec(raw, "SELECT 1", NULL, NULL, NULL), SQLITE_OK);
    }
    fill_old(raw, v);
    sqlite3_close(raw);

    store *s = st_open(dir);
    assert_int_equal(store_schema_version(s, &version), TMI_OK);
    assert_int_equal(version, SCHEMA_VERSION);
    if (v >= 1) {
        scans_obs_list files = {NULL, 0};
        scans_obs_list hist = {NULL, 0};
        history_query q = {"/tmi/f0.dll", 0, 0};
        scans_rows scans = {NULL, 0};
        assert_int_equal(scans_files(s, 0, 10, &files), TMI_OK);
        assert_int_equal(files.count, 2);
        assert_int_equal(files.rows[0].file_id, 2);
        assert_int_equal(files.rows[0].id, 2);
        assert_int_equal(files.rows[1].file_id, 1);
        assert_int_equal(files.rows[1].id, 3); /* backfilled: latest of f0 */
        assert_int_equal(files.rows[1].size, 101);
        assert_int_equal(scans_history(s, &q, &hist), TMI_OK);
        assert_int_equal(hist.count, 2);
        assert_int_equal(hist.rows[0].id, 3);
        assert_int_equal(hist.rows[1].id, 1);
        assert_int_equal(scans_list(s, 0, 10, &scans), TMI_OK);
        assert_int_equal(scans.count, 1);
        assert_string_equal(scans.rows[0].verdict, "healthy");
        /* v5 keeps the finish as a duration: the same times come back */
        assert_int_equal(scans.rows[0].started_ns, 1000);
        assert_int_equal(scans.rows[0].finished_ns, 2000);
        scans_rows_free(&scans);
        scans_obs_list_free(&files);
        scans_obs_list_free(&hist);
    }
    /* the chain goes on across the upgrade */
    audit_event ev = {"settings", "x", "{\"a\":1}", "ok", NULL};
    int64_t seq = 0;
    audit_report rep;
    assert_int_equal(audit_append(s, &st_actor, &ev, &seq), TMI_OK);
    assert_int_equal(seq, v >= 2 ? 4 : 1);
    assert_int_equal(audit_verify(s, NULL, &rep), TMI_OK);
    if (!rep.intact)
        fail_msg("verify after migration from v%d: %s", v, rep.detail);
    assert_int_equal(rep.rows, seq);
    /* and a scan of known paths adds rows only for what changed */
    scan_result *r = st_scan("/tmi", 2, 0, 0);
    int64_t changed = 0;
    int64_t scan_id = 0;
    assert_int_equal(scans_record(s, r, &st_actor, &scan_id), TMI_OK);
    changed = st_int(s, "SELECT changed FROM scans ORDER BY id DESC LIMIT 1");
    assert_int_equal(changed, 2);
    assert_int_equal(scans_record(s, r, &st_actor, &scan_id), TMI_OK);
    assert_int_equal(st_int(s, "SELECT changed FROM scans ORDER BY id DESC LIMIT 1"), 0);
    scan_result_free(r);
    store_close(s);
}

static void migrates_from_v0(void **state)
{
    (void)state;
    migrate_from(0);
}

static void migrates_from_every_version(void **state)
{
    (void)state;
    for (int v = 1; v < SCHEMA_VERSION; v++)
        migrate_from(v);
}

/* ---- v4 -> v5: the compact audit trail ---- */

#define V4_TMI "C:\\Program Files (x86)\\Trend Micro\\COMMON\\TMI"

/* A v4 trail of every shape: scan summaries (numbers from v5 on), near
 * misses that must stay text, NULLs, an empty and a non-ASCII text. */
static const audit_fields v4_rows[] = {
    {1, 1764064790000000000LL, "SYSTEM", "system", "scan", V4_TMI, NULL, "ok",
     "{\"scan_id\":1,\"verdict\":\"healthy\",\"changed\":24}"},
    {2, 1764064850000000000LL, "SYSTEM", "system", "scan", V4_TMI, NULL, "ok",
     "{\"scan_id\":2,\"verdict\":\"healthy\",\"changed\":0}"},
    {3, 1764064851000000000LL, "alice", "session", "login", NULL, NULL, "ok", NULL},
    {4, 1764064852000000000LL, "alice", "session", "replace", V4_TMI "\\mrf.exe",
     "{\"dry_run\":false}", "failed", "{\"before\":\"1.12.0.1156\",\"after\":null}"},
    {5, 1764064910000000000LL, "SYSTEM", "system", "scan", V4_TMI, NULL, "ok",
     "{\"scan_id\":03,\"verdict\":\"healthy\",\"changed\":0}"},
    {6, 1764064911000000000LL, "bob", "token", "settings", "", "{}", "ok",
     "{\"scan_id\":4,\"verdict\":\"Healthy\",\"changed\":0}"},
    {7, 1764064911000000000LL, "\xe6\x97\xa5\xe6\x9c\xac", "cli", "scan", "/tmi \xe2\x9c\x93", NULL,
     "ok", "{\"scan_id\":5,\"verdict\":\"healthy\",\"changed\":0} "},
    {8, 1764064970000000000LL, "SYSTEM", "system", "scan", V4_TMI, NULL, "ok",
     "{\"scan_id\":9,\"verdict\":\"affected\",\"changed\":3}"},
    {9, 1764064971000000000LL, "SYSTEM", "system", "scan", V4_TMI, NULL, "ok",
     "{\"scan_id\":-1,\"verdict\":\"healthy\",\"changed\":0}"},
};
#define N_V4_ROWS    ((int)(sizeof(v4_rows) / sizeof(v4_rows[0])))
#define N_V4_COMPACT 3 /* rows 1, 2 and 8; a negative scan_id (row 9) stays text */

static void bind_text_or_null(sqlite3_stmt *st, int idx, const char *t)
{
    if (t == NULL)
        sqlite3_bind_null(st, idx);
    else
        sqlite3_bind_text(st, idx, t, -1, SQLITE_TRANSIENT);
}

/* A database at schema v4 in dir holding v4_rows (and their head, in the
 * table and the anchor file, as v4 wrote them); hashes[i] of each row. */
static void make_v4_trail(const char *dir, uint8_t hashes[][32])
{
    char db[PLAT_PATH_MAX], err[256], head[PLAT_PATH_MAX], text[200], hex[65];
    uint8_t prev[32] = {0};
    sqlite3 *raw = NULL;
    sqlite3_stmt *st = NULL;
    db_path_of(db, sizeof(db), dir);
    assert_int_equal(sqlite3_open(db, &raw), SQLITE_OK);
    assert_int_equal(schema_migrate(raw, 4, err, sizeof(err)), TMI_OK);
    fill_old(raw, 1); /* a scan, files and observations; no audit rows */
    assert_int_equal(sqlite3_exec(raw,
                                  "INSERT INTO jobs (id, action, status, actor, auth, pid,"
                                  " created_ns) VALUES (1, 'repair', 'done', 'alice', 'session',"
                                  " 42, 5)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(raw,
                                        "INSERT INTO audit (seq, time_ns, actor, auth, action,"
                                        " target, params, outcome, details, prev_hash, hash)"
                                        " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    for (int i = 0; i < N_V4_ROWS; i++) {
        const audit_fields *f = &v4_rows[i];
        assert_int_equal(audit_hash(prev, f, hashes[i]), TMI_OK);
        sqlite3_bind_int64(st, 1, f->seq);
        sqlite3_bind_int64(st, 2, f->time_ns);
        const char *texts[] = {f->actor,  f->auth,    f->action, f->target,
                               f->params, f->outcome, f->details};
        for (int k = 0; k < 7; k++)
            bind_text_or_null(st, 3 + k, texts[k]);
        sqlite3_bind_blob(st, 10, prev, 32, SQLITE_TRANSIENT);
        sqlite3_bind_blob(st, 11, hashes[i], 32, SQLITE_TRANSIENT);
        assert_int_equal(sqlite3_step(st), SQLITE_DONE);
        sqlite3_reset(st);
        memcpy(prev, hashes[i], 32);
    }
    sqlite3_finalize(st);
    assert_int_equal(
        sqlite3_prepare_v2(raw, "INSERT INTO audit_head VALUES (1, ?, ?)", -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_int64(st, 1, N_V4_ROWS);
    sqlite3_bind_blob(st, 2, prev, 32, SQLITE_TRANSIENT);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(raw);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", prev[i]);
    int n = snprintf(text, sizeof(text), "tmi-console audit head v1\nseq %d\nhash %s\n", N_V4_ROWS,
                     hex);
    st_path(head, sizeof(head), dir, "audit-head");
    tu_write(head, text, (size_t)n);
}

static void assert_text_is(const char *got, const char *want)
{
    if (want == NULL)
        assert_null(got);
    else
        assert_string_equal(got, want);
}

/* The v4 trail migrates: every row reads back byte for byte with its hash,
 * the scan summaries are stored as numbers, the near misses as text, the
 * chain verifies against the anchor v4 wrote, and goes on. */
static void migrates_v4_trail(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX];
    uint8_t hashes[N_V4_ROWS][32], zero[32] = {0};
    audit_rows rows = {NULL, 0};
    audit_query q;
    audit_report rep;
    int version = 0;
    st_tmpdir(dir, sizeof(dir));
    make_v4_trail(dir, hashes);
    store *s = st_open(dir);
    assert_int_equal(store_schema_version(s, &version), TMI_OK);
    assert_int_equal(version, SCHEMA_VERSION);
    assert_int_equal(audit_verify(s, NULL, &rep), TMI_OK);
    if (!rep.intact)
        fail_msg("verify after migration: %s", rep.detail);
    assert_int_equal(rep.rows, N_V4_ROWS);
    assert_true(rep.anchored);
    assert_int_equal(rep.anchor_seq, N_V4_ROWS);
    memset(&q, 0, sizeof(q));
    assert_int_equal(audit_list(s, &q, &rows), TMI_OK);
    assert_int_equal(rows.count, N_V4_ROWS);
    for (int i = 0; i < N_V4_ROWS; i++) {
        const audit_row *r = &rows.rows[N_V4_ROWS - 1 - i];
        const audit_fields *f = &v4_rows[i];
        assert_int_equal(r->seq, f->seq);
        assert_int_equal(r->time_ns, f->time_ns);
        assert_text_is(r->actor, f->actor);
        assert_text_is(r->auth, f->auth);
        assert_text_is(r->action, f->action);
        assert_text_is(r->target, f->target);
        assert_text_is(r->params, f->params);
        assert_text_is(r->outcome, f->outcome);
        assert_text_is(r->details, f->details);
        assert_memory_equal(r->hash, hashes[i], 32);
        assert_memory_equal(r->prev_hash, i > 0 ? hashes[i - 1] : zero, 32);
    }
    audit_rows_free(&rows);
    /* the stored form */
    assert_int_equal(st_int(s, "SELECT count(*) FROM audit_log WHERE scan_back IS NOT NULL"),
                     N_V4_COMPACT);
    assert_int_equal(st_int(s, "SELECT count(*) FROM audit_log WHERE seq IN (1, 2, 8)"
                               " AND details IS NULL AND scan_back IS NOT NULL"),
                     3);
    assert_int_equal(st_int(s, "SELECT count(*) FROM audit_text WHERE text = '" V4_TMI "'"), 1);
    assert_int_equal(st_int(s, "SELECT type = 'view' FROM sqlite_schema WHERE name = 'audit'"), 1);
    assert_int_equal(st_int(s, "SELECT count(*) FROM sqlite_schema WHERE name = 'audit_time'"), 0);
    assert_int_equal(st_int(s, "SELECT count(*) FROM jobs"), 1);
    /* the action filter and a time range on migrated rows */
    memset(&q, 0, sizeof(q));
    q.action = "replace";
    assert_int_equal(audit_list(s, &q, &rows), TMI_OK);
    assert_int_equal(rows.count, 1);
    assert_int_equal(rows.rows[0].seq, 4);
    audit_rows_free(&rows);
    memset(&q, 0, sizeof(q));
    q.has_since = q.has_until = 1;
    q.since_ns = v4_rows[5].time_ns; /* rows 6 and 7 share it */
    q.until_ns = v4_rows[7].time_ns;
    assert_int_equal(audit_list(s, &q, &rows), TMI_OK);
    assert_int_equal(rows.count, 2);
    assert_int_equal(rows.rows[0].seq, 7);
    assert_int_equal(rows.rows[1].seq, 6);
    audit_rows_free(&rows);
    /* the chain goes on, and the anchor with it */
    scan_result *r = st_scan("/tmi", 2, 0, 0);
    assert_int_equal(scans_record(s, r, &st_actor, NULL), TMI_OK);
    scan_result_free(r);
    assert_int_equal(audit_verify(s, NULL, &rep), TMI_OK);
    assert_true(rep.intact);
    assert_int_equal(rep.rows, N_V4_ROWS + 1);
    assert_int_equal(rep.anchor_seq, N_V4_ROWS + 1);
    assert_int_equal(st_int(s, "SELECT count(*) FROM audit_log WHERE scan_back IS NOT NULL"),
                     N_V4_COMPACT + 1);
    store_close(s);
}

/* The upgrade turns into numbers exactly the details audit_append would
 * (st_details_cases), and every one reads back byte for byte. */
static void v4_summaries_follow_the_append_rule(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX], db[PLAT_PATH_MAX], err[256], sql[128];
    uint8_t prev[32] = {0}, hash[32];
    sqlite3 *raw = NULL;
    sqlite3_stmt *st = NULL;
    audit_rows rows = {NULL, 0};
    audit_query q;
    audit_report rep;
    const size_t n = st_n_details_cases;
    st_tmpdir(dir, sizeof(dir));
    db_path_of(db, sizeof(db), dir);
    assert_int_equal(sqlite3_open(db, &raw), SQLITE_OK);
    assert_int_equal(schema_migrate(raw, 4, err, sizeof(err)), TMI_OK);
    assert_int_equal(sqlite3_prepare_v2(raw,
                                        "INSERT INTO audit (seq, time_ns, actor, auth, action,"
                                        " outcome, details, prev_hash, hash)"
                                        " VALUES (?, ?, 'SYSTEM', 'system', 'scan', 'ok', ?, ?, ?)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    for (size_t i = 0; i < n; i++) {
        audit_fields f = {(int64_t)i + 1,
                          1764064790000000000LL + (int64_t)i,
                          "SYSTEM",
                          "system",
                          "scan",
                          NULL,
                          NULL,
                          "ok",
                          st_details_cases[i].details};
        assert_int_equal(audit_hash(prev, &f, hash), TMI_OK);
        sqlite3_bind_int64(st, 1, f.seq);
        sqlite3_bind_int64(st, 2, f.time_ns);
        bind_text_or_null(st, 3, f.details);
        sqlite3_bind_blob(st, 4, prev, 32, SQLITE_TRANSIENT);
        sqlite3_bind_blob(st, 5, hash, 32, SQLITE_TRANSIENT);
        assert_int_equal(sqlite3_step(st), SQLITE_DONE);
        sqlite3_reset(st);
        memcpy(prev, hash, 32);
    }
    sqlite3_finalize(st);
    assert_int_equal(
        sqlite3_prepare_v2(raw, "INSERT INTO audit_head VALUES (1, ?, ?)", -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_int64(st, 1, (int64_t)n);
    sqlite3_bind_blob(st, 2, prev, 32, SQLITE_TRANSIENT);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(raw);

    store *s = st_open(dir);
    for (size_t i = 0; i < n; i++) {
        snprintf(sql, sizeof(sql), "SELECT scan_back IS NOT NULL FROM audit_log WHERE seq = %zu",
                 i + 1);
        if (st_int(s, sql) != st_details_cases[i].summary)
            fail_msg("case %zu (%s): the upgrade stored it %s", i,
                     st_details_cases[i].details ? st_details_cases[i].details : "NULL",
                     st_details_cases[i].summary ? "as text" : "as numbers");
    }
    memset(&q, 0, sizeof(q));
    q.limit = 100;
    assert_int_equal(audit_list(s, &q, &rows), TMI_OK);
    assert_int_equal(rows.count, n);
    for (size_t i = 0; i < n; i++) {
        const char *want = st_details_cases[i].details;
        const char *got = rows.rows[n - 1 - i].details;
        if (want == NULL)
            assert_null(got);
        else
            assert_string_equal(got, want);
    }
    audit_rows_free(&rows);
    /* no anchor file was written at v4 here: only the chain itself counts */
    assert_int_equal(audit_verify(s, NULL, &rep), TMI_OK);
    assert_int_equal(rep.why, AUDIT_ANCHOR_MISSING);
    assert_int_equal(rep.rows, (int64_t)n);
    assert_int_equal(rep.head.seq, (int64_t)n);
    assert_memory_equal(rep.head.hash, prev, 32);
    store_close(s);
}

/* A v4 trail tampered with before the upgrade stays broken after it. */
static void migrated_break_stays_broken(void **state)
{
    (void)state;
    static const char *const tamper[] = {
        /* a row edited */
        "UPDATE audit SET outcome = 'failed' WHERE seq = 2",
        /* a scan summary edited (it migrates to numbers all the same) */
        ("UPDATE audit SET details = '{\"scan_id\":2,\"verdict\":\"healthy\",\"changed\":1}'"
         " WHERE seq = 2"),
        /* a row deleted */
        "DELETE FROM audit WHERE seq = 2",
    };
    static const audit_break why[] = {AUDIT_BAD_HASH, AUDIT_BAD_HASH, AUDIT_SEQ_GAP};
    for (size_t i = 0; i < sizeof(tamper) / sizeof(tamper[0]) + 1; i++) {
        char dir[PLAT_PATH_MAX], db[PLAT_PATH_MAX];
        uint8_t hashes[N_V4_ROWS][32];
        sqlite3 *raw = NULL;
        audit_report rep;
        st_tmpdir(dir, sizeof(dir));
        make_v4_trail(dir, hashes);
        db_path_of(db, sizeof(db), dir);
        assert_int_equal(sqlite3_open(db, &raw), SQLITE_OK);
        assert_int_equal(sqlite3_exec(raw,
                                      "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
        if (i < sizeof(tamper) / sizeof(tamper[0])) {
            assert_int_equal(sqlite3_exec(raw, tamper[i], NULL, NULL, NULL), SQLITE_OK);
        } else {
            /* row 2 replaced with a recomputed hash (v4 said: prev_hash
             * mismatch at 3; from v5 on the link is implicit) */
            audit_fields f = v4_rows[1];
            uint8_t h[32];
            sqlite3_stmt *st = NULL;
            f.outcome = "failed";
            assert_int_equal(audit_hash(hashes[0], &f, h), TMI_OK);
            assert_int_equal(sqlite3_prepare_v2(raw,
                                                "UPDATE audit SET outcome = 'failed', hash = ?"
                                                " WHERE seq = 2",
                                                -1, &st, NULL),
                             SQLITE_OK);
            sqlite3_bind_blob(st, 1, h, 32, SQLITE_TRANSIENT);
            assert_int_equal(sqlite3_step(st), SQLITE_DONE);
            sqlite3_finalize(st);
        }
        sqlite3_close(raw);
        store *s = st_open(dir);
        assert_int_equal(audit_verify(s, NULL, &rep), TMI_OK);
        audit_break want = i < sizeof(why) / sizeof(why[0]) ? why[i] : AUDIT_BAD_HASH;
        int64_t want_seq = i < sizeof(why) / sizeof(why[0]) ? 2 : 3;
        if (rep.intact || rep.why != want || rep.broken_seq != want_seq)
            fail_msg("case %zu: intact=%d why=%s seq=%lld (%s)", i, rep.intact,
                     audit_break_name(rep.why), (long long)rep.broken_seq, rep.detail);
        store_close(s);
    }
}

static void migration_is_atomic_when_disk_full(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX], db[PLAT_PATH_MAX], err[256];
    sqlite3 *raw = NULL;
    st_tmpdir(dir, sizeof(dir));
    db_path_of(db, sizeof(db), dir);
    assert_int_equal(sqlite3_open(db, &raw), SQLITE_OK);
    assert_int_equal(schema_migrate(raw, 1, err, sizeof(err)), TMI_OK);
    fill_old(raw, 1);
    /* no room for one more page: the v2 and v3 steps cannot all fit */
    assert_int_equal(sqlite3_exec(raw,
                                  "PRAGMA max_page_count = 1; " /* clamps to the current size */
                                  "SELECT 1",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(schema_migrate(raw, SCHEMA_VERSION, err, sizeof(err)), TMI_ENOSPC);
    assert_non_null(strstr(err, "migration to schema version 2 failed"));
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(raw, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 1);
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(raw,
                                        "SELECT count(*) FROM sqlite_schema WHERE name = 'audit'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(st, 0), 0); /* nothing half-made */
    sqlite3_finalize(st);
    sqlite3_close(raw);
    /* with room again, the store opens and migrates */
    store *s = st_open(dir);
    store_close(s);
}

static void migration_refuses_newer_target(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX], db[PLAT_PATH_MAX], err[256];
    sqlite3 *raw = NULL;
    st_tmpdir(dir, sizeof(dir));
    db_path_of(db, sizeof(db), dir);
    assert_int_equal(sqlite3_open(db, &raw), SQLITE_OK);
    assert_int_equal(schema_migrate(raw, SCHEMA_VERSION, err, sizeof(err)), TMI_OK);
    assert_int_equal(schema_migrate(raw, SCHEMA_VERSION, err, sizeof(err)), TMI_OK); /* no-op */
    assert_int_equal(schema_migrate(raw, 1, err, sizeof(err)), TMI_EINVAL);
    assert_int_equal(schema_migrate(raw, SCHEMA_VERSION + 1, err, sizeof(err)), TMI_EINVAL);
    sqlite3_close(raw);
}

/* ---- disk full while recording ---- */

static void disk_full_writes_nothing(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX], head[PLAT_PATH_MAX];
    size_t head_len = 0;
    audit_report rep;
    st_tmpdir(dir, sizeof(dir));
    store *s = st_open(dir);
    scan_result *small = st_scan("/tmi", 8, 0, 0);
    assert_int_equal(scans_record(s, small, &st_actor, NULL), TMI_OK);
    st_path(head, sizeof(head), dir, "audit-head");
    uint8_t *head_before = st_slurp(head, &head_len);
    int64_t scans = st_int(s, "SELECT count(*) FROM scans");
    int64_t obs = st_int(s, "SELECT count(*) FROM observations");
    int64_t files = st_int(s, "SELECT count(*) FROM files");
    int64_t audit = st_int(s, "SELECT count(*) FROM audit");
    /* the disk is now full: not one more page */
    st_exec(s, "PRAGMA max_page_count = 1");
    scan_result *big = st_scan("/big", 400, 4, 400);
    int rc = scans_record(s, big, &st_actor, NULL);
    assert_int_equal(rc, TMI_ENOSPC);
    assert_non_null(strstr(store_errmsg(s), "disk full"));
    audit_event ev = {"login", NULL, NULL, "ok",
                      "{\"pad\":\"................................"
                      "........................................\"}"};
    /* small rows may still fit in the last page; sooner or later they do not */
    rc = TMI_OK;
    for (int i = 0; i < 200 && rc == TMI_OK; i++)
        rc = audit_append(s, &st_actor, &ev, NULL);
    assert_int_equal(rc, TMI_ENOSPC);
    assert_int_equal(st_int(s, "SELECT count(*) FROM scans"), scans);
    assert_int_equal(st_int(s, "SELECT count(*) FROM observations"), obs);
    assert_int_equal(st_int(s, "SELECT count(*) FROM files"), files);
    assert_int_equal(st_int(s, "SELECT count(*) FROM audit") <= audit + 200, 1);
    int64_t audit_now = st_int(s, "SELECT count(*) FROM audit");
    assert_int_equal(audit_verify(s, NULL, &rep), TMI_OK);
    assert_true(rep.intact);
    assert_int_equal(rep.rows, audit_now);
    if (audit_now == audit)
        st_assert_file_is(head, head_before, head_len);
    /* space again: the same scan goes in whole */
    st_exec(s, "PRAGMA max_page_count = 1073741823");
    assert_int_equal(scans_record(s, big, &st_actor, NULL), TMI_OK);
    assert_int_equal(st_int(s, "SELECT count(*) FROM observations"), obs + 400 + 4 * 400);
    assert_int_equal(audit_verify(s, NULL, &rep), TMI_OK);
    assert_true(rep.intact);
    free(head_before);
    scan_result_free(small);
    scan_result_free(big);
    store_close(s);
}

/* ---- transactions ---- */

static void nested_rollback_keeps_outer(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX];
    audit_event ev = {"backup", "/tmi", NULL, "ok", NULL};
    audit_report rep;
    st_tmpdir(dir, sizeof(dir));
    store *s = st_open(dir);
    assert_int_equal(store_begin(s), TMI_OK);
    assert_int_equal(audit_append(s, &st_actor, &ev, NULL), TMI_OK);
    assert_int_equal(store_begin(s), TMI_OK);
    assert_int_equal(audit_append(s, &st_actor, &ev, NULL), TMI_OK);
    store_rollback(s);
    assert_int_equal(store_commit(s), TMI_OK);
    assert_int_equal(st_int(s, "SELECT count(*) FROM audit"), 1);
    assert_int_equal(audit_verify(s, NULL, &rep), TMI_OK);
    assert_true(rep.intact);
    assert_true(rep.anchored);
    assert_int_equal(rep.unanchored, 0);
    /* an outer rollback undoes everything */
    assert_int_equal(store_begin(s), TMI_OK);
    assert_int_equal(audit_append(s, &st_actor, &ev, NULL), TMI_OK);
    store_rollback(s);
    assert_int_equal(st_int(s, "SELECT count(*) FROM audit"), 1);
    assert_int_equal(store_commit(s), TMI_EINVAL); /* nothing open */
    store_close(s);
}

/* The hooks run after a commit (store_after_commit): counted here. */
static int hook_a_runs, hook_b_runs;
static int hook_a_depth = -1;

static void hook_a(store *s)
{
    hook_a_runs++;
    hook_a_depth = s->tx_depth; /* the transaction is over when it runs */
}

static void hook_b(store *s)
{
    (void)s;
    hook_b_runs++;
}

static void hook_c(store *s)
{
    (void)s;
}

static void hook_d(store *s)
{
    (void)s;
}

static void hook_e(store *s)
{
    (void)s;
}

/* A hook runs once after the outermost commit, however often and however
 * deep it was asked for; a rollback forgets it; it is refused outside a
 * transaction and past STORE_MAX_COMMIT_HOOKS. */
static void commit_hooks_run_once_after_the_outer_commit(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX];
    st_tmpdir(dir, sizeof(dir));
    store *s = st_open(dir);
    hook_a_runs = hook_b_runs = 0;
    assert_int_equal(store_after_commit(s, hook_a), TMI_EINVAL);
    assert_int_equal(store_begin(s), TMI_OK);
    assert_int_equal(store_after_commit(s, hook_a), TMI_OK);
    assert_int_equal(store_begin(s), TMI_OK);
    assert_int_equal(store_after_commit(s, hook_a), TMI_OK);
    assert_int_equal(store_after_commit(s, hook_b), TMI_OK);
    assert_int_equal(store_commit(s), TMI_OK); /* the savepoint: nothing runs yet */
    assert_int_equal(hook_a_runs + hook_b_runs, 0);
    assert_int_equal(store_commit(s), TMI_OK);
    assert_int_equal(hook_a_runs, 1);
    assert_int_equal(hook_b_runs, 1);
    assert_int_equal(hook_a_depth, 0);
    /* forgotten once run, and when rolled back */
    assert_int_equal(store_begin(s), TMI_OK);
    assert_int_equal(store_commit(s), TMI_OK);
    assert_int_equal(store_begin(s), TMI_OK);
    assert_int_equal(store_after_commit(s, hook_a), TMI_OK);
    store_rollback(s);
    assert_int_equal(store_begin(s), TMI_OK);
    assert_int_equal(store_commit(s), TMI_OK);
    assert_int_equal(hook_a_runs, 1);
    /* a bounded list */
    assert_int_equal(store_begin(s), TMI_OK);
    assert_int_equal(store_after_commit(s, hook_a), TMI_OK);
    assert_int_equal(store_after_commit(s, hook_b), TMI_OK);
    assert_int_equal(store_after_commit(s, hook_c), TMI_OK);
    assert_int_equal(store_after_commit(s, hook_d), TMI_OK);
    assert_int_equal(store_after_commit(s, hook_e), TMI_ETOOBIG);
    store_rollback(s);
    store_close(s);
}

/* ---- read-only folder and file (POSIX: permissions, as a non-root user) ---- */

#ifndef _WIN32
/* Run store_open(dir) in a child process without root's override of file
 * permissions; the child exits 0 when it got `code` with `needle` in the
 * message. Returns the exit status, or 77 when privileges cannot be dropped. */
static int open_as_unprivileged(const char *dir, int code, const char *needle)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        char err[512];
        store *s = NULL;
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
            _exit(77);
        if (geteuid() == 0)
            _exit(77);
        if (access(dir, R_OK | X_OK) != 0)
            _exit(77); /* the test folder itself is out of this user's reach */
        int rc = store_open(dir, &s, err, sizeof(err));
        if (rc != code || strstr(err, needle) == NULL) {
            fprintf(stderr, "child: got %s: %s\n", tmi_strerror(rc), err);
            store_close(s);
            _exit(1);
        }
        _exit(0);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

static void refuses_read_only_folder(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX], db[PLAT_PATH_MAX], wal[PLAT_PATH_MAX];
    size_t len = 0;
    plat_stat st;
    st_tmpdir(dir, sizeof(dir));
    make_store(dir);
    db_path_of(db, sizeof(db), dir);
    uint8_t *before = st_slurp(db, &len);
    /* root keeps ownership: the unprivileged child may read, not write */
    assert_int_equal(chmod(dir, geteuid() == 0 ? 0755 : 0555), 0);
    assert_int_equal(chmod(db, 0644), 0);
    int status = open_as_unprivileged(dir, TMI_EACCES, "is not writable");
    assert_int_equal(chmod(dir, 0700), 0);
    if (status == 77) {
        free(before);
        skip();
    }
    assert_int_equal(status, 0);
    st_assert_file_is(db, before, len);
    st_path(wal, sizeof(wal), dir, STORE_DB_NAME "-wal");
    assert_int_equal(plat.stat(wal, &st), TMI_ENOENT);
    free(before);
}

static void refuses_read_only_file(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX], db[PLAT_PATH_MAX];
    size_t len = 0;
    st_tmpdir(dir, sizeof(dir));
    make_store(dir);
    db_path_of(db, sizeof(db), dir);
    uint8_t *before = st_slurp(db, &len);
    /* the folder is writable for everyone, the file only for its owner */
    assert_int_equal(chmod(dir, 0777), 0);
    assert_int_equal(chmod(db, geteuid() == 0 ? 0644 : 0444), 0);
    int status = open_as_unprivileged(dir, TMI_EACCES, "is read-only");
    assert_int_equal(chmod(dir, 0700), 0);
    assert_int_equal(chmod(db, 0600), 0);
    if (status == 77) {
        free(before);
        skip();
    }
    assert_int_equal(status, 0);
    st_assert_file_is(db, before, len);
    free(before);
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        ST_TEST("/store/open/creates-private-folder", open_creates_private_folder),
        ST_TEST("/store/open/wal-mode", open_reports_wal),
        ST_TEST("/store/open/existing-only", open_existing_flag),
        ST_TEST("/store/open/refuses-random-bytes", refuses_random_bytes),
        ST_TEST("/store/open/refuses-damaged-database", refuses_damaged_database),
        ST_TEST("/store/open/refuses-foreign-database", refuses_foreign_database),
        ST_TEST("/store/open/refuses-foreign-database-without-id",
                refuses_foreign_database_without_id),
        ST_TEST("/store/open/refuses-newer-schema", refuses_newer_schema),
#ifndef _WIN32
        ST_TEST("/store/open/refuses-read-only-folder", refuses_read_only_folder),
        ST_TEST("/store/open/refuses-read-only-file", refuses_read_only_file),
#endif
        ST_TEST("/store/migrate/from-v0", migrates_from_v0),
        ST_TEST("/store/migrate/from-every-version", migrates_from_every_version),
        ST_TEST("/store/migrate/v4-trail", migrates_v4_trail),
        ST_TEST("/store/migrate/v4-summaries-follow-the-append-rule",
                v4_summaries_follow_the_append_rule),
        ST_TEST("/store/migrate/v4-break-stays-broken", migrated_break_stays_broken),
        ST_TEST("/store/migrate/atomic-when-disk-full", migration_is_atomic_when_disk_full),
        ST_TEST("/store/migrate/target-checks", migration_refuses_newer_target),
        ST_TEST("/store/tx/disk-full-writes-nothing", disk_full_writes_nothing),
        ST_TEST("/store/tx/nested-rollback", nested_rollback_keeps_outer),
        ST_TEST("/store/tx/commit-hooks", commit_hooks_run_once_after_the_outer_commit),
    };
    return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
