/*
 * test_audit.c - the audit trail: append-only rows, seq without gaps, the
 * hash layout, the compact stored form (interned texts, scan summaries as
 * numbers) read back byte for byte, filters and pagination, and verify
 * against tampering done with raw SQL on the real stored data (table
 * audit_log and its interned texts audit_text; triggers dropped, rows
 * edited, deleted, rewritten with recomputed hashes, a deleted tail).
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

#include "audit.h"
#include "err.h"
#include "plat.h"
#include "scan_json.h"
#include "scans.h"
#include "store.h"
#include "storetest.h"
#include "testutil.h"
#include "timefmt.h"

/* A store with n rows of mixed actions. */
static store *store_with_rows(char *dir, size_t dirlen, int n)
{
    static const char *const actions[] = {"login", "backup", "replace", "restart", "settings"};
    st_tmpdir(dir, dirlen);
    store *s = st_open(dir);
    for (int i = 0; i < n; i++) {
        char details[96];
        int64_t seq = 0;
        snprintf(details, sizeof(details), "{\"i\":%d,\"sha256_before\":\"%08x\"}", i, i * 7919);
        audit_event ev = {actions[i % 5], "/tmi/mrf.exe", "{\"dry_run\":false}", "ok", details};
        assert_int_equal(audit_append(s, &st_actor, &ev, &seq), TMI_OK);
        assert_int_equal(seq, i + 1);
    }
    return s;
}

static audit_report verify(store *s)
{
    audit_report rep;
    assert_int_equal(audit_verify(s, NULL, &rep), TMI_OK);
    return rep;
}

static void expect_break(store *s, audit_break why, int64_t seq)
{
    audit_report rep = verify(s);
    if (rep.intact || rep.why != why || rep.broken_seq != seq)
        fail_msg("verify: intact=%d why=%s seq=%lld (%s); wanted %s at %lld", rep.intact,
                 audit_break_name(rep.why), (long long)rep.broken_seq, rep.detail,
                 audit_break_name(why), (long long)seq);
}

static void drop_triggers(store *s)
{
    st_exec(s, "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;"
               "DROP TRIGGER audit_head_no_delete; DROP TRIGGER audit_text_no_update;"
               "DROP TRIGGER audit_text_no_delete");
}

/* Point column `col` of stored row seq at text (interned first, as the
 * store would), with raw SQL. */
static void set_text(store *s, int64_t seq, const char *col, const char *text)
{
    char sql[256];
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(store_handle(s),
                                        "INSERT OR IGNORE INTO audit_text (text) VALUES (?)", -1,
                                        &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    snprintf(sql, sizeof(sql),
             "UPDATE audit_log SET %s = (SELECT id FROM audit_text WHERE text = ?) WHERE seq = ?",
             col);
    assert_int_equal(sqlite3_prepare_v2(store_handle(s), sql, -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, seq);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
}

/* Read row seq's hashed fields (strings copied into the arena). */
typedef struct row_copy {
    audit_fields f;
    uint8_t prev[32];
    uint8_t hash[32];
    char text[7][512];
    int is_null[7];
} row_copy;

static void read_row(store *s, int64_t seq, row_copy *c)
{
    sqlite3_stmt *st = NULL;
    memset(c, 0, sizeof(*c));
    assert_int_equal(sqlite3_prepare_v2(store_handle(s),
                                        "SELECT time_ns, actor, auth, action, target, params,"
                                        " outcome, details, prev_hash, hash FROM audit"
                                        " WHERE seq = ?",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(st, 1, seq);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    c->f.seq = seq;
    c->f.time_ns = sqlite3_column_int64(st, 0);
    for (int i = 0; i < 7; i++) {
        const char *t = (const char *)sqlite3_column_text(st, i + 1);
        c->is_null[i] = t == NULL;
        snprintf(c->text[i], sizeof(c->text[i]), "%s", t ? t : "");
    }
    memcpy(c->prev, sqlite3_column_blob(st, 8), 32);
    memcpy(c->hash, sqlite3_column_blob(st, 9), 32);
    sqlite3_finalize(st);
    const char **dst[] = {&c->f.actor,  &c->f.auth,    &c->f.action, &c->f.target,
                          &c->f.params, &c->f.outcome, &c->f.details};
    for (int i = 0; i < 7; i++)
        *dst[i] = c->is_null[i] ? NULL : c->text[i];
}

/* Store c's details (as plain text) and hash into row c->f.seq. The previous
 * hash is not stored (it is the row before's hash). */
static void write_row(store *s, const row_copy *c)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(store_handle(s),
                                        "UPDATE audit_log SET details = ?, scan_back = NULL,"
                                        " verdict = NULL, changed = NULL, hash = ? WHERE seq = ?",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, c->f.details, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, c->hash, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, c->f.seq);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
}

static void set_head_table(store *s, int64_t seq, const uint8_t hash[32])
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(store_handle(s),
                                        "UPDATE audit_head SET seq = ?, hash = ? WHERE one = 1", -1,
                                        &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_blob(st, 2, hash, 32, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
}

/* Rewrite row seq's details and recompute its hash the way an attacker who
 * knows the layout would (from the previous row's hash). */
static void rewrite_with_recomputed_hash(store *s, int64_t seq, const char *details, row_copy *c)
{
    read_row(s, seq, c);
    snprintf(c->text[6], sizeof(c->text[6]), "%s", details);
    c->f.details = c->text[6];
    assert_int_equal(audit_hash(c->prev, &c->f, c->hash), TMI_OK);
    write_row(s, c);
}

/* ---- basics ---- */

static void append_and_list(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX], when[40];
    store *s = store_with_rows(dir, sizeof(dir), 7);
    audit_rows rows = {NULL, 0};
    audit_query q;
    memset(&q, 0, sizeof(q));
    assert_int_equal(audit_list(s, &q, &rows), TMI_OK);
    assert_int_equal(rows.count, 7);
    for (size_t i = 0; i < rows.count; i++) {
        audit_row *r = &rows.rows[i];
        assert_int_equal(r->seq, 7 - (int64_t)i);
        assert_string_equal(r->actor, "tester");
        assert_string_equal(r->auth, "cli");
        assert_string_equal(r->target, "/tmi/mrf.exe");
        assert_string_equal(r->params, "{\"dry_run\":false}");
        assert_string_equal(r->outcome, "ok");
        /* the RFC 3339 text agrees with time_ns */
        assert_string_equal(r->time, time_format_utc(r->time_ns, when, sizeof(when)));
        if (i + 1 < rows.count)
            assert_memory_equal(r->prev_hash, rows.rows[i + 1].hash, 32);
    }
    uint8_t zero[32] = {0};
    assert_memory_equal(rows.rows[6].prev_hash, zero, 32);
    audit_rows_free(&rows);
    audit_head h;
    assert_int_equal(audit_head_get(s, &h), TMI_OK);
    assert_int_equal(h.seq, 7);
    audit_report rep = verify(s);
    assert_true(rep.intact);
    assert_int_equal(rep.rows, 7);
    assert_true(rep.anchored);
    assert_int_equal(rep.anchor_seq, 7);
    assert_int_equal(rep.unanchored, 0);
    assert_string_equal(rep.detail, "intact");
    store_close(s);
}

static void default_actor_is_os_user(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX], me[256];
    st_tmpdir(dir, sizeof(dir));
    store *s = st_open(dir);
    audit_actor a = {NULL, "token"};
    audit_event ev = {"token_change", NULL, NULL, "ok", NULL};
    assert_int_equal(audit_append(s, &a, &ev, NULL), TMI_OK);
    audit_rows rows = {NULL, 0};
    audit_query q;
    memset(&q, 0, sizeof(q));
    assert_int_equal(audit_list(s, &q, &rows), TMI_OK);
    assert_int_equal(plat_user_name(me, sizeof(me)), TMI_OK);
    assert_string_equal(rows.rows[0].actor, me);
    assert_string_equal(rows.rows[0].auth, "token");
    assert_null(rows.rows[0].target);
    assert_null(rows.rows[0].params);
    assert_null(rows.rows[0].details);
    audit_rows_free(&rows);
    store_close(s);
}

static void triggers_refuse_update_and_delete(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX];
    store *s = store_with_rows(dir, sizeof(dir), 3);
    assert_int_equal(st_exec_rc(s, "UPDATE audit_log SET outcome = 1 WHERE seq = 2"),
                     SQLITE_CONSTRAINT);
    assert_int_equal(st_exec_rc(s, "DELETE FROM audit_log WHERE seq = 3"), SQLITE_CONSTRAINT);
    assert_int_equal(st_exec_rc(s, "DELETE FROM audit_head"), SQLITE_CONSTRAINT);
    /* the interned texts are part of every row that names them */
    assert_int_equal(st_exec_rc(s, "UPDATE audit_text SET text = 'mallory' WHERE text = 'tester'"),
                     SQLITE_CONSTRAINT);
    assert_int_equal(st_exec_rc(s, "DELETE FROM audit_text WHERE text = 'ok'"), SQLITE_CONSTRAINT);
    /* the view of canonical rows cannot be written at all */
    assert_int_equal(st_exec_rc(s, "UPDATE audit SET outcome = 'failed' WHERE seq = 2"),
                     SQLITE_ERROR);
    assert_int_equal(st_exec_rc(s, "DELETE FROM audit WHERE seq = 3"), SQLITE_ERROR);
    assert_int_equal(st_int(s, "SELECT count(*) FROM audit"), 3);
    assert_true(verify(s).intact);
    store_close(s);
}

static void refuses_bad_input(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX];
    char big[AUDIT_MAX_TARGET + 2];
    st_tmpdir(dir, sizeof(dir));
    store *s = st_open(dir);
    audit_event ok = {"login", NULL, NULL, "ok", NULL};
    audit_event ev;
    audit_actor a = {"tester", "cli"};

    ev = ok;
    ev.action = "Login"; /* not [a-z0-9_.-] */
    assert_int_equal(audit_append(s, &st_actor, &ev, NULL), TMI_EINVAL);
    ev.action = "drop table; --";
    assert_int_equal(audit_append(s, &st_actor, &ev, NULL), TMI_EINVAL);
    ev.action = "";
    assert_int_equal(audit_append(s, &st_actor, &ev, NULL), TMI_EINVAL);
    ev.action = "a_very_long_action_name_over_32_bytes";
    assert_int_equal(audit_append(s, &st_actor, &ev, NULL), TMI_ETOOBIG);
    ev = ok;
    ev.outcome = NULL;
    assert_int_equal(audit_append(s, &st_actor, &ev, NULL), TMI_EINVAL);
    ev = ok;
    ev.params = "{not json";
    assert_int_equal(audit_append(s, &st_actor, &ev, NULL), TMI_EINVAL);
    assert_non_null(strstr(store_errmsg(s), "params"));
    ev.params = "42"; /* JSON, but not an object or array */
    assert_int_equal(audit_append(s, &st_actor, &ev, NULL), TMI_EINVAL);
    ev = ok;
    ev.details = "{\"a\":1} trailing";
    assert_int_equal(audit_append(s, &st_actor, &ev, NULL), TMI_EINVAL);
    ev = ok;
    ev.target = "bad \xc3\x28 utf-8";
    assert_int_equal(audit_append(s, &st_actor, &ev, NULL), TMI_EINVAL);
    ev.target = "overlong \xc0\xaf";
    assert_int_equal(audit_append(s, &st_actor, &ev, NULL), TMI_EINVAL);
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    ev.target = big;
    assert_int_equal(audit_append(s, &st_actor, &ev, NULL), TMI_ETOOBIG);
    a.auth = "root";
    assert_int_equal(audit_append(s, &a, &ok, NULL), TMI_EINVAL);
    a.auth = "cli";
    a.user = "";
    assert_int_equal(audit_append(s, &a, &ok, NULL), TMI_EINVAL);
    assert_int_equal(st_int(s, "SELECT count(*) FROM audit"), 0);
    /* quotes and non-ASCII are fine, stored as given (bound, never formatted in) */
    ev = ok;
    ev.target = "C:\\Program Files (x86)\\Trend Micro\\'; DROP TABLE audit; --\xe2\x9c\x93";
    assert_int_equal(audit_append(s, &st_actor, &ev, NULL), TMI_OK);
    assert_int_equal(st_int(s, "SELECT count(*) FROM audit"), 1);
    assert_true(verify(s).intact);
    store_close(s);
}

/* The hash computed here byte by byte from the layout documented in audit.h. */
static void hash_layout_is_as_documented(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX];
    uint8_t buf[1024], want[32];
    size_t n = 0;
    st_tmpdir(dir, sizeof(dir));
    store *s = st_open(dir);
    audit_event ev = {"replace", "/tmi/mrf.exe", NULL, "ok", "{}"};
    audit_actor a = {"alice", "session"};
    assert_int_equal(audit_append(s, &a, &ev, NULL), TMI_OK);
    audit_rows rows = {NULL, 0};
    audit_query q;
    memset(&q, 0, sizeof(q));
    assert_int_equal(audit_list(s, &q, &rows), TMI_OK);
    int64_t t = rows.rows[0].time_ns;

    memset(buf, 0, 32); /* prev_hash of seq 1 */
    n = 32;
    memcpy(buf + n, "TMIA1", 5);
    n += 5;
    for (int i = 7; i >= 0; i--)
        buf[n++] = (uint8_t)(1ULL >> (8 * i)); /* seq 1, big-endian */
    for (int i = 7; i >= 0; i--)
        buf[n++] = (uint8_t)((uint64_t)t >> (8 * i));
    const char *fields[] = {"alice", "session", "replace", "/tmi/mrf.exe", NULL, "ok", "{}"};
    for (int k = 0; k < 7; k++) {
        if (fields[k] == NULL) {
            memset(buf + n, 0xff, 4);
            n += 4;
            continue;
        }
        uint32_t len = (uint32_t)strlen(fields[k]);
        buf[n++] = (uint8_t)(len >> 24);
        buf[n++] = (uint8_t)(len >> 16);
        buf[n++] = (uint8_t)(len >> 8);
        buf[n++] = (uint8_t)len;
        memcpy(buf + n, fields[k], len);
        n += len;
    }
    assert_int_equal(plat_sha256(buf, n, want), TMI_OK);
    assert_memory_equal(rows.rows[0].hash, want, 32);
    audit_rows_free(&rows);

    /* NULL and "" are different fields */
    uint8_t h1[32], h2[32], zero[32] = {0};
    audit_fields f = {1, 5, "a", "cli", "x", NULL, NULL, "ok", NULL};
    assert_int_equal(audit_hash(zero, &f, h1), TMI_OK);
    f.target = "";
    assert_int_equal(audit_hash(zero, &f, h2), TMI_OK);
    assert_memory_not_equal(h1, h2, 32);
    /* and moving bytes between fields changes the hash */
    audit_fields g = {1, 5, "ab", "cli", "x", NULL, NULL, "ok", NULL};
    audit_fields h = {1, 5, "a", "bcli", "x", NULL, NULL, "ok", NULL};
    assert_int_equal(audit_hash(zero, &g, h1), TMI_OK);
    assert_int_equal(audit_hash(zero, &h, h2), TMI_OK);
    assert_memory_not_equal(h1, h2, 32);
    store_close(s);
}

static void head_text_round_trips(void **state)
{
    (void)state;
    audit_head h, back;
    char buf[100];
    h.seq = 12345;
    for (int i = 0; i < 32; i++)
        h.hash[i] = (uint8_t)(i * 9);
    audit_head_format(&h, buf, sizeof(buf));
    assert_int_equal(audit_head_parse(buf, &back), TMI_OK);
    assert_int_equal(back.seq, h.seq);
    assert_memory_equal(back.hash, h.hash, 32);
    assert_int_equal(audit_head_parse("12:abcd", &back), TMI_EINVAL);
    assert_int_equal(
        audit_head_parse("x:"
                         "0000000000000000000000000000000000000000000000000000000000000000",
                         &back),
        TMI_EINVAL);
    assert_int_equal(
        audit_head_parse("0:"
                         "0000000000000000000000000000000000000000000000000000000000000000",
                         &back),
        TMI_EINVAL);
    assert_int_equal(
        audit_head_parse("5:"
                         "000000000000000000000000000000000000000000000000000000000000000g",
                         &back),
        TMI_EINVAL);
    assert_int_equal(audit_head_parse("5", &back), TMI_EINVAL);
}

/* ---- the stored form ---- */

/* Details are stored as numbers only when they are exactly a scan summary;
 * anything else, however close, is kept as text. Either way they read back
 * byte for byte, and the chain verifies. */
static void details_read_back_exactly(void **state)
{
    (void)state;
    const st_details_case *cases = st_details_cases;
    const size_t n = st_n_details_cases;
    char dir[PLAT_PATH_MAX], sql[128];
    st_tmpdir(dir, sizeof(dir));
    store *s = st_open(dir);
    for (size_t i = 0; i < n; i++) {
        audit_event ev = {i % 2 ? "scan" : "settings", "/tmi", NULL, "ok", cases[i].details};
        int64_t seq = 0;
        assert_int_equal(audit_append(s, &st_actor, &ev, &seq), TMI_OK);
        snprintf(sql, sizeof(sql), "SELECT scan_back IS NOT NULL FROM audit_log WHERE seq = %lld",
                 (long long)seq);
        if (st_int(s, sql) != cases[i].summary)
            fail_msg("case %zu (%s): stored %s", i, cases[i].details ? cases[i].details : "NULL",
                     cases[i].summary ? "as text" : "as numbers");
    }
    audit_rows rows = {NULL, 0};
    audit_query q;
    memset(&q, 0, sizeof(q));
    q.limit = 100;
    assert_int_equal(audit_list(s, &q, &rows), TMI_OK);
    assert_int_equal(rows.count, n);
    for (size_t i = 0; i < n; i++) {
        const audit_row *r = &rows.rows[n - 1 - i];
        if (cases[i].details == NULL)
            assert_null(r->details);
        else
            assert_string_equal(r->details, cases[i].details);
    }
    audit_rows_free(&rows);
    audit_report rep = verify(s);
    assert_true(rep.intact);
    assert_int_equal(rep.rows, (int64_t)n);
    store_close(s);
}

/* Repeated actors, targets, ... are stored once; prev_hash reads back as
 * the previous row's hash. */
static void texts_are_interned(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX];
    store *s = store_with_rows(dir, sizeof(dir), 50);
    /* tester, cli, 5 actions, /tmi/mrf.exe, ok, and 'scan' (always there) */
    assert_int_equal(st_int(s, "SELECT count(*) FROM audit_text"), 10);
    assert_int_equal(st_int(s, "SELECT id FROM audit_text WHERE text = 'scan'"), 1);
    assert_int_equal(st_int(s, "SELECT count(*) FROM audit a JOIN audit b ON b.seq = a.seq - 1"
                               " WHERE a.prev_hash IS NOT b.hash"),
                     0);
    assert_int_equal(st_int(s, "SELECT prev_hash = zeroblob(32) FROM audit WHERE seq = 1"), 1);
    store_close(s);
}

/* ---- filters and pagination ---- */

static void filters_and_pages(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX];
    st_tmpdir(dir, sizeof(dir));
    store *s = st_open(dir);
    int64_t times[31];
    for (int i = 1; i <= 30; i++) {
        audit_event ev = {i % 3 == 0 ? "replace" : "login", NULL, NULL, "ok", NULL};
        assert_int_equal(audit_append(s, &st_actor, &ev, NULL), TMI_OK);
        plat_sleep_ms(1);
    }
    audit_rows rows = {NULL, 0};
    audit_query q;
    memset(&q, 0, sizeof(q));
    q.limit = 100;
    assert_int_equal(audit_list(s, &q, &rows), TMI_OK);
    assert_int_equal(rows.count, 30);
    for (size_t i = 0; i < rows.count; i++)
        times[rows.rows[i].seq] = rows.rows[i].time_ns;
    audit_rows_free(&rows);

    /* action filter */
    q.action = "replace";
    assert_int_equal(audit_list(s, &q, &rows), TMI_OK);
    assert_int_equal(rows.count, 10);
    for (size_t i = 0; i < rows.count; i++)
        assert_int_equal(rows.rows[i].seq % 3, 0);
    audit_rows_free(&rows);

    /* time range: since inclusive, until exclusive */
    memset(&q, 0, sizeof(q));
    q.has_since = 1;
    q.since_ns = times[5];
    q.has_until = 1;
    q.until_ns = times[12];
    assert_int_equal(audit_list(s, &q, &rows), TMI_OK);
    assert_int_equal(rows.count, 7);
    assert_int_equal(rows.rows[0].seq, 11);
    assert_int_equal(rows.rows[6].seq, 5);
    audit_rows_free(&rows);

    /* pages of 4 over a filter: no gaps, no duplicates */
    memset(&q, 0, sizeof(q));
    q.action = "login";
    q.limit = 4;
    int64_t seen = 0, last = INT64_MAX;
    for (;;) {
        assert_int_equal(audit_list(s, &q, &rows), TMI_OK);
        for (size_t i = 0; i < rows.count; i++) {
            assert_true(rows.rows[i].seq < last);
            assert_string_equal(rows.rows[i].action, "login");
            last = rows.rows[i].seq;
        }
        seen += (int64_t)rows.count;
        size_t got = rows.count;
        if (got == 4)
            q.before = rows.rows[3].seq;
        audit_rows_free(&rows);
        if (got < 4)
            break;
    }
    assert_int_equal(seen, 20);

    /* bad queries */
    memset(&q, 0, sizeof(q));
    q.action = "x' OR 1=1 --";
    assert_int_equal(audit_list(s, &q, &rows), TMI_EINVAL);
    memset(&q, 0, sizeof(q));
    q.has_since = q.has_until = 1;
    q.since_ns = q.until_ns = times[3];
    assert_int_equal(audit_list(s, &q, &rows), TMI_EINVAL);
    q.has_until = 0;
    q.before = -3;
    assert_int_equal(audit_list(s, &q, &rows), TMI_EINVAL);
    store_close(s);
}

/* ---- verify: tampering with raw SQL on the real file ---- */

static void verify_detects_edit(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX];
    store *s = store_with_rows(dir, sizeof(dir), 10);
    drop_triggers(s);
    st_exec(s, "UPDATE audit_log SET details = '{\"i\":4,\"sha256_before\":\"forged\"}'"
               " WHERE seq = 5");
    expect_break(s, AUDIT_BAD_HASH, 5);
    store_close(s);
}

static void verify_detects_edit_of_each_field(void **state)
{
    (void)state;
    /* columns holding texts by id, pointed at another text */
    static const char *const text_edits[][2] = {
        {"actor", "mallory"}, {"auth", "token"},     {"action", "scan"},
        {"target", "/x"},     {"outcome", "failed"},
    };
    static const char *const edits[] = {
        "UPDATE audit_log SET target = NULL WHERE seq = 3",
        "UPDATE audit_log SET params = '{\"dry_run\":true}' WHERE seq = 3",
        "UPDATE audit_log SET params = NULL WHERE seq = 3",
        "UPDATE audit_log SET details = NULL WHERE seq = 3",
        "UPDATE audit_log SET time_ns = time_ns + 1 WHERE seq = 3",
    };
    size_t n_text = sizeof(text_edits) / sizeof(text_edits[0]);
    for (size_t i = 0; i < n_text + sizeof(edits) / sizeof(edits[0]); i++) {
        char dir[PLAT_PATH_MAX];
        store *s = store_with_rows(dir, sizeof(dir), 4);
        drop_triggers(s);
        if (i < n_text)
            set_text(s, 3, text_edits[i][0], text_edits[i][1]);
        else
            st_exec(s, edits[i - n_text]);
        expect_break(s, AUDIT_BAD_HASH, 3);
        store_close(s);
    }
}

/* A text shared by many rows edited in place: the first row naming it breaks. */
static void verify_detects_edited_shared_text(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX];
    store *s = store_with_rows(dir, sizeof(dir), 6);
    drop_triggers(s);
    st_exec(s, "UPDATE audit_text SET text = 'mallory' WHERE text = 'tester'");
    expect_break(s, AUDIT_BAD_HASH, 1);
    store_close(s);
    /* a text that only later rows name */
    s = store_with_rows(dir, sizeof(dir), 6);
    drop_triggers(s);
    st_exec(s, "UPDATE audit_text SET text = 'replace-all' WHERE text = 'replace'");
    expect_break(s, AUDIT_BAD_HASH, 3);
    store_close(s);
}

/* A text removed (foreign keys off, as a raw editor could): the rows naming
 * it have a field missing. */
static void verify_detects_missing_text(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX];
    store *s = store_with_rows(dir, sizeof(dir), 6);
    drop_triggers(s);
    st_exec(s, "PRAGMA foreign_keys = OFF;"
               "DELETE FROM audit_text WHERE text = 'backup'");
    expect_break(s, AUDIT_BAD_ROW, 2);
    store_close(s);
}

/* Scans recorded through the store: n scans, the last with changed files. */
static store *store_with_scans(char *dir, size_t dirlen, int n)
{
    st_tmpdir(dir, dirlen);
    store *s = st_open(dir);
    scan_result *r = st_scan("/tmi", 2, 0, 0);
    for (int i = 0; i < n; i++) {
        if (i == n - 1)
            r->files[1].size++;
        r->started_ns += 60000000000LL;
        r->finished_ns += 60000000000LL;
        assert_int_equal(scans_record(s, r, &st_actor, NULL), TMI_OK);
    }
    scan_result_free(r);
    return s;
}

/* A scan's audit row keeps its summary as numbers; each of them is covered. */
static void verify_detects_edit_of_scan_summary(void **state)
{
    (void)state;
    static const char *const edits[] = {
        "UPDATE audit_log SET changed = changed + 1 WHERE seq = 3",
        "UPDATE audit_log SET scan_back = scan_back - 1 WHERE seq = 3",
        "UPDATE audit_log SET verdict = (SELECT id FROM audit_text WHERE text = 'scan')"
        " WHERE seq = 3",
        /* the summary replaced with other text */
        "UPDATE audit_log SET scan_back = NULL, verdict = NULL, changed = NULL,"
        " details = '{\"scan_id\":3,\"verdict\":\"healthy\",\"changed\":1}' WHERE seq = 3",
    };
    for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
        char dir[PLAT_PATH_MAX];
        store *s = store_with_scans(dir, sizeof(dir), 4);
        assert_int_equal(st_int(s, "SELECT count(*) FROM audit_log WHERE details IS NULL"
                                   " AND scan_back IS NOT NULL"),
                         4);
        drop_triggers(s);
        st_exec(s, edits[i]);
        expect_break(s, AUDIT_BAD_HASH, 3);
        store_close(s);
    }
}

/* What is hashed is the canonical text, not its stored form: the same row
 * stored the other way (summary as plain text) still verifies. */
static void stored_form_is_not_hashed(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX];
    store *s = store_with_scans(dir, sizeof(dir), 4);
    drop_triggers(s);
    st_exec(s, "UPDATE audit_log SET details = (SELECT details FROM audit WHERE seq = 4),"
               " scan_back = NULL, verdict = NULL, changed = NULL WHERE seq = 4");
    audit_report rep = verify(s);
    assert_true(rep.intact);
    assert_int_equal(rep.rows, 4);
    store_close(s);
}

static void verify_detects_deleted_row(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX];
    store *s = store_with_rows(dir, sizeof(dir), 10);
    drop_triggers(s);
    st_exec(s, "DELETE FROM audit_log WHERE seq = 4");
    expect_break(s, AUDIT_SEQ_GAP, 4);
    store_close(s);
}

static void verify_detects_deleted_first_row(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX];
    store *s = store_with_rows(dir, sizeof(dir), 3);
    drop_triggers(s);
    st_exec(s, "DELETE FROM audit_log WHERE seq = 1");
    expect_break(s, AUDIT_SEQ_GAP, 1);
    store_close(s);
}

/* Row 5 rewritten and its hash recomputed: row 6's hash, made from the old
 * row 5's, no longer follows. */
static void verify_detects_recomputed_row(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX];
    row_copy c;
    store *s = store_with_rows(dir, sizeof(dir), 10);
    drop_triggers(s);
    rewrite_with_recomputed_hash(s, 5, "{\"i\":4,\"sha256_before\":\"forged\"}", &c);
    expect_break(s, AUDIT_BAD_HASH, 6);
    audit_report rep = verify(s);
    assert_non_null(strstr(rep.detail, "seq 5 was replaced"));
    store_close(s);
}

/* The whole chain re-linked from row 5 on, and the head table updated: only
 * the anchor outside the database can tell. */
static void verify_detects_rechained_tail(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX];
    row_copy c;
    uint8_t prev[32];
    store *s = store_with_rows(dir, sizeof(dir), 10);
    drop_triggers(s);
    rewrite_with_recomputed_hash(s, 5, "{\"forged\":true}", &c);
    memcpy(prev, c.hash, 32);
    for (int64_t seq = 6; seq <= 10; seq++) {
        read_row(s, seq, &c);
        memcpy(c.prev, prev, 32);
        assert_int_equal(audit_hash(c.prev, &c.f, c.hash), TMI_OK);
        write_row(s, &c);
        memcpy(prev, c.hash, 32);
    }
    set_head_table(s, 10, prev);
    expect_break(s, AUDIT_ANCHOR_MISMATCH, 10);
    store_close(s);
}

/* The last row rewritten with a recomputed hash, head table updated too. */
static void verify_detects_rewritten_last_row(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX];
    row_copy c;
    store *s = store_with_rows(dir, sizeof(dir), 10);
    drop_triggers(s);
    rewrite_with_recomputed_hash(s, 10, "{\"nothing\":\"happened\"}", &c);
    /* without touching the head table, the table already disagrees */
    expect_break(s, AUDIT_HEAD_MISMATCH, 10);
    set_head_table(s, 10, c.hash);
    expect_break(s, AUDIT_ANCHOR_MISMATCH, 10);
    /* an append after that does not move the anchor past the break */
    audit_event ev = {"login", NULL, NULL, "ok", NULL};
    assert_int_equal(audit_append(s, &st_actor, &ev, NULL), TMI_OK);
    expect_break(s, AUDIT_ANCHOR_MISMATCH, 10);
    store_close(s);
}

static void verify_detects_deleted_tail(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX];
    row_copy c;
    store *s = store_with_rows(dir, sizeof(dir), 10);
    drop_triggers(s);
    st_exec(s, "DELETE FROM audit_log WHERE seq > 7");
    /* the head table still names seq 10 */
    expect_break(s, AUDIT_TAIL_MISSING, 8);
    /* the head table fixed up as well: the anchor file still names seq 10 */
    read_row(s, 7, &c);
    set_head_table(s, 7, c.hash);
    expect_break(s, AUDIT_TAIL_MISSING, 8);
    audit_report rep = verify(s);
    assert_non_null(strstr(rep.detail, "rows 8..10 are missing"));
    /* deleting everything is no way out either */
    st_exec(s, "DELETE FROM audit_log; UPDATE audit_head SET seq = 0");
    expect_break(s, AUDIT_TAIL_MISSING, 1);
    store_close(s);
}

static void verify_detects_missing_anchor(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX], head[PLAT_PATH_MAX];
    store *s = store_with_rows(dir, sizeof(dir), 3);
    st_path(head, sizeof(head), dir, "audit-head");
    assert_int_equal(plat.remove_file(head), TMI_OK);
    expect_break(s, AUDIT_ANCHOR_MISSING, 3);
    tu_write(head, "tmi-console audit head v1\nseq 3\nhash zz\n", 40);
    expect_break(s, AUDIT_ANCHOR_MISMATCH, 3);
    store_close(s);
}

/* A deleted anchor is never made again by later appends (that would erase
 * the evidence); `audit reanchor` records what was wrong and anchors anew. */
static void missing_anchor_stays_missing_until_reanchored(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX], head[PLAT_PATH_MAX];
    audit_report before, rep;
    store *s = store_with_rows(dir, sizeof(dir), 3);
    audit_event ev = {"scan", "/tmi", NULL, "ok", NULL};
    st_path(head, sizeof(head), dir, "audit-head");
    assert_int_equal(audit_reanchor(s, &st_actor, NULL), TMI_EEXIST);
    assert_int_equal(plat.remove_file(head), TMI_OK);
    assert_int_equal(audit_append(s, &st_actor, &ev, NULL), TMI_OK);
    expect_break(s, AUDIT_ANCHOR_MISSING, 4);
    /* the same after the store is opened again (no upgrade) */
    store_close(s);
    s = st_open(dir);
    assert_int_equal(audit_append(s, &st_actor, &ev, NULL), TMI_OK);
    expect_break(s, AUDIT_ANCHOR_MISSING, 5);

    assert_int_equal(audit_reanchor(s, &st_actor, &before), TMI_OK);
    assert_int_equal(before.why, AUDIT_ANCHOR_MISSING);
    rep = verify(s);
    assert_true(rep.intact);
    assert_true(rep.anchored);
    assert_int_equal(rep.head.seq, 6);
    assert_int_equal(st_int(s, "SELECT count(*) FROM audit WHERE seq = 6 AND action = "
                               "'audit_reanchor' AND details LIKE '%anchor missing%'"),
                     1);
    store_close(s);

    /* rows broken: nothing is blessed, nothing written */
    s = store_with_rows(dir, sizeof(dir), 3);
    drop_triggers(s);
    st_exec(s, "UPDATE audit_log SET params = '{}' WHERE seq = 2");
    assert_int_equal(audit_reanchor(s, &st_actor, NULL), TMI_ECORRUPT);
    assert_int_equal(st_int(s, "SELECT count(*) FROM audit"), 3);
    store_close(s);
}

/* A new store is anchored before its first row (seq 0, the zero hash): a
 * crash between the first commit and its anchoring leaves rows that are
 * unanchored, not a missing anchor, and the next append anchors them. */
static void first_rows_cut_before_anchoring(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX], head[PLAT_PATH_MAX];
    size_t len = 0;
    audit_event ev = {"scan", "/tmi", NULL, "ok", NULL};
    st_tmpdir(dir, sizeof(dir));
    store *s = st_open(dir);
    st_path(head, sizeof(head), dir, "audit-head");
    uint8_t *at0 = st_slurp(head, &len);
    assert_non_null(strstr((const char *)at0, "\nseq 0\nhash 0000000000"));
    audit_report rep = verify(s);
    assert_true(rep.intact && rep.anchored && rep.head.seq == 0);
    assert_int_equal(audit_append(s, &st_actor, &ev, NULL), TMI_OK);
    assert_int_equal(audit_append(s, &st_actor, &ev, NULL), TMI_OK);
    tu_write(head, at0, len); /* the anchor as a crash right after commit left it */
    free(at0);
    store_close(s);
    s = st_open(dir); /* reopening does not move it */
    rep = verify(s);
    assert_true(rep.intact);
    assert_int_equal(rep.anchor_seq, 0);
    assert_int_equal(rep.unanchored, 2);
    assert_int_equal(audit_append(s, &st_actor, &ev, NULL), TMI_OK);
    rep = verify(s);
    assert_true(rep.intact && rep.anchored);
    assert_int_equal(rep.anchor_seq, 3);
    assert_int_equal(rep.unanchored, 0);
    /* a seq-0 anchor must carry the zero hash */
    static const char bad0[] = "tmi-console audit head v1\nseq 0\nhash "
                               "00000000000000000000000000000000000000000000000000000000000000ff\n";
    tu_write(head, bad0, strlen(bad0));
    expect_break(s, AUDIT_ANCHOR_MISMATCH, 3);
    store_close(s);
}

/* Rows committed just before a crash, before the anchor was rewritten. */
static void verify_reports_unanchored_rows(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX], head[PLAT_PATH_MAX];
    size_t len = 0;
    store *s = store_with_rows(dir, sizeof(dir), 3);
    st_path(head, sizeof(head), dir, "audit-head");
    uint8_t *at3 = st_slurp(head, &len);
    audit_event ev = {"restart", "TrendMicro Infrastructure", NULL, "ok", NULL};
    assert_int_equal(audit_append(s, &st_actor, &ev, NULL), TMI_OK);
    assert_int_equal(audit_append(s, &st_actor, &ev, NULL), TMI_OK);
    tu_write(head, at3, len); /* the anchor as a crash would have left it */
    free(at3);
    audit_report rep = verify(s);
    assert_true(rep.intact);
    assert_int_equal(rep.anchor_seq, 3);
    assert_int_equal(rep.unanchored, 2);
    /* the next append anchors everything */
    assert_int_equal(audit_append(s, &st_actor, &ev, NULL), TMI_OK);
    rep = verify(s);
    assert_true(rep.intact);
    assert_int_equal(rep.anchor_seq, 6);
    assert_int_equal(rep.unanchored, 0);
    store_close(s);
}

/* Checked against a head noted elsewhere (event log, a report). */
static void verify_against_expected_head(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX], text[100];
    audit_head noted, h;
    audit_report rep;
    row_copy c;
    store *s = store_with_rows(dir, sizeof(dir), 6);
    assert_int_equal(audit_head_get(s, &noted), TMI_OK);
    audit_head_parse(audit_head_format(&noted, text, sizeof(text)), &h);
    assert_int_equal(audit_verify(s, &h, &rep), TMI_OK);
    assert_true(rep.intact);
    /* a later head is fine; a head beyond the last row is a deleted tail */
    audit_event ev = {"login", NULL, NULL, "ok", NULL};
    assert_int_equal(audit_append(s, &st_actor, &ev, NULL), TMI_OK);
    assert_int_equal(audit_verify(s, &noted, &rep), TMI_OK);
    assert_true(rep.intact);
    h.seq = 9;
    assert_int_equal(audit_verify(s, &h, &rep), TMI_OK);
    assert_false(rep.intact);
    assert_int_equal(rep.why, AUDIT_TAIL_MISSING);
    /* someone rewrites everything, anchor file included: only the noted head can tell */
    drop_triggers(s);
    rewrite_with_recomputed_hash(s, 6, "{\"forged\":1}", &c);
    uint8_t prev[32];
    memcpy(prev, c.hash, 32);
    read_row(s, 7, &c);
    memcpy(c.prev, prev, 32);
    assert_int_equal(audit_hash(c.prev, &c.f, c.hash), TMI_OK);
    write_row(s, &c);
    set_head_table(s, 7, c.hash);
    audit_head forged = {7, {0}};
    memcpy(forged.hash, c.hash, 32);
    char head[PLAT_PATH_MAX], hex[65], body[200];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", c.hash[i]);
    int n = snprintf(body, sizeof(body), "tmi-console audit head v1\nseq 7\nhash %s\n", hex);
    st_path(head, sizeof(head), dir, "audit-head");
    tu_write(head, body, (size_t)n);
    assert_int_equal(audit_verify(s, NULL, &rep), TMI_OK);
    assert_true(rep.intact); /* the documented limit */
    assert_int_equal(audit_verify(s, &noted, &rep), TMI_OK);
    assert_false(rep.intact);
    assert_int_equal(rep.why, AUDIT_ANCHOR_MISMATCH);
    assert_int_equal(rep.broken_seq, 6);
    store_close(s);
}

/* Time ranges are found by binary search on seq (no time index): checked
 * against a plain filter, over runs of equal times and gaps in seq. */
static void time_ranges_match_a_plain_filter(void **state)
{
    (void)state;
    const int64_t t0 = 1764064790000000000LL;
    char dir[PLAT_PATH_MAX];
    sqlite3_stmt *ins = NULL, *plain = NULL;
    st_tmpdir(dir, sizeof(dir));
    store *s = st_open(dir);
    sqlite3 *db = store_handle(s);
    /* rows written directly (hashes are not checked here) */
    st_exec(s, "INSERT INTO audit_text (id, text) VALUES (2, 'x')");
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "INSERT INTO audit_log (seq, time_ns, actor, auth, action,"
                                        " outcome, hash) VALUES (?, ?, 2, 2, 2, 2, randomblob(32))",
                                        -1, &ins, NULL),
                     SQLITE_OK);
    for (int64_t seq = 1; seq <= 300; seq++) {
        if (seq % 7 == 3 || (seq >= 100 && seq < 140))
            continue; /* gaps, one of them long */
        sqlite3_bind_int64(ins, 1, seq);
        sqlite3_bind_int64(ins, 2, t0 + (seq / 4) * 1000); /* four rows per time */
        assert_int_equal(sqlite3_step(ins), SQLITE_DONE);
        sqlite3_reset(ins);
    }
    sqlite3_finalize(ins);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT count(*), max(seq), min(seq) FROM audit_log"
                                        " WHERE time_ns >= ? AND time_ns < ?",
                                        -1, &plain, NULL),
                     SQLITE_OK);
    for (int64_t a = -2000; a <= 78000; a += 500) {
        for (int k = 0; k < 3; k++) {
            audit_query q;
            audit_rows rows = {NULL, 0};
            memset(&q, 0, sizeof(q));
            q.limit = STORE_MAX_LIMIT;
            q.has_since = k != 1;
            q.since_ns = t0 + a;
            q.has_until = k != 0;
            q.until_ns = t0 + a + (k == 1 ? 0 : 7500);
            assert_int_equal(audit_list(s, &q, &rows), TMI_OK);
            sqlite3_bind_int64(plain, 1, q.has_since ? q.since_ns : INT64_MIN);
            sqlite3_bind_int64(plain, 2, q.has_until ? q.until_ns : INT64_MAX);
            assert_int_equal(sqlite3_step(plain), SQLITE_ROW);
            int64_t count = sqlite3_column_int64(plain, 0);
            if ((int64_t)rows.count != count ||
                (count > 0 && (rows.rows[0].seq != sqlite3_column_int64(plain, 1) ||
                               rows.rows[count - 1].seq != sqlite3_column_int64(plain, 2))))
                fail_msg("since %d:%lld until %d:%lld: %zu rows, want %lld", q.has_since,
                         (long long)a, q.has_until, (long long)(q.until_ns - t0), rows.count,
                         (long long)count);
            sqlite3_reset(plain);
            audit_rows_free(&rows);
        }
    }
    sqlite3_finalize(plain);
    store_close(s);
}

static void verify_empty_chain(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX];
    st_tmpdir(dir, sizeof(dir));
    store *s = st_open(dir);
    audit_report rep = verify(s);
    assert_true(rep.intact);
    assert_int_equal(rep.rows, 0);
    assert_int_equal(rep.head.seq, 0);
    store_close(s);
}

static void verify_detects_malformed_row(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX];
    store *s = store_with_rows(dir, sizeof(dir), 3);
    drop_triggers(s);
    /* the CHECK constraints stop a short hash; a wrong type gets past them */
    assert_int_equal(st_exec_rc(s, "UPDATE audit_log SET hash = x'00' WHERE seq = 2"),
                     SQLITE_CONSTRAINT);
    st_exec(s, "UPDATE audit_log SET time_ns = 'yesterday' WHERE seq = 2");
    expect_break(s, AUDIT_BAD_ROW, 2);
    store_close(s);
    /* a hash of the right length but the wrong type */
    s = store_with_rows(dir, sizeof(dir), 3);
    drop_triggers(s);
    st_exec(s, "UPDATE audit_log SET hash = hex(randomblob(16)) WHERE seq = 2");
    expect_break(s, AUDIT_BAD_ROW, 2);
    store_close(s);
}

/* Bytes hidden after a NUL inside a text are an edit too (the hash covers a
 * text up to its C-string length, so a NUL is refused as a malformed row). */
static void verify_detects_text_hidden_after_nul(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX];
    store *s = store_with_rows(dir, sizeof(dir), 3);
    drop_triggers(s);
    st_exec(s, "UPDATE audit_log SET params = params || char(0) || 'hidden' WHERE seq = 2");
    expect_break(s, AUDIT_BAD_ROW, 2);
    store_close(s);
    s = store_with_rows(dir, sizeof(dir), 3);
    drop_triggers(s);
    st_exec(s, "UPDATE audit_text SET text = text || char(0) || 'x' WHERE text = 'tester'");
    expect_break(s, AUDIT_BAD_ROW, 1);
    store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        ST_TEST("/store/audit/append-and-list", append_and_list),
        ST_TEST("/store/audit/default-actor", default_actor_is_os_user),
        ST_TEST("/store/audit/triggers-refuse-update-delete", triggers_refuse_update_and_delete),
        ST_TEST("/store/audit/refuses-bad-input", refuses_bad_input),
        ST_TEST("/store/audit/hash-layout", hash_layout_is_as_documented),
        ST_TEST("/store/audit/head-text", head_text_round_trips),
        ST_TEST("/store/audit/details-read-back-exactly", details_read_back_exactly),
        ST_TEST("/store/audit/texts-are-interned", texts_are_interned),
        ST_TEST("/store/audit/filters-and-pages", filters_and_pages),
        ST_TEST("/store/audit/time-ranges-match-a-plain-filter", time_ranges_match_a_plain_filter),
        ST_TEST("/store/audit/verify-empty", verify_empty_chain),
        ST_TEST("/store/audit/verify-detects-edit", verify_detects_edit),
        ST_TEST("/store/audit/verify-detects-edit-of-each-field",
                verify_detects_edit_of_each_field),
        ST_TEST("/store/audit/verify-detects-edited-shared-text",
                verify_detects_edited_shared_text),
        ST_TEST("/store/audit/verify-detects-missing-text", verify_detects_missing_text),
        ST_TEST("/store/audit/verify-detects-edit-of-scan-summary",
                verify_detects_edit_of_scan_summary),
        ST_TEST("/store/audit/stored-form-is-not-hashed", stored_form_is_not_hashed),
        ST_TEST("/store/audit/verify-detects-deleted-row", verify_detects_deleted_row),
        ST_TEST("/store/audit/verify-detects-deleted-first-row", verify_detects_deleted_first_row),
        ST_TEST("/store/audit/verify-detects-recomputed-row", verify_detects_recomputed_row),
        ST_TEST("/store/audit/verify-detects-rechained-tail", verify_detects_rechained_tail),
        ST_TEST("/store/audit/verify-detects-rewritten-last-row",
                verify_detects_rewritten_last_row),
        ST_TEST("/store/audit/verify-detects-deleted-tail", verify_detects_deleted_tail),
        ST_TEST("/store/audit/verify-detects-missing-anchor", verify_detects_missing_anchor),
        ST_TEST("/store/audit/verify-detects-malformed-row", verify_detects_malformed_row),
        ST_TEST("/store/audit/verify-detects-text-hidden-after-nul",
                verify_detects_text_hidden_after_nul),
        ST_TEST("/store/audit/verify-reports-unanchored", verify_reports_unanchored_rows),
        ST_TEST("/store/audit/first-rows-cut-before-anchoring", first_rows_cut_before_anchoring),
        ST_TEST("/store/audit/missing-anchor-stays-missing-until-reanchored",
                missing_anchor_stays_missing_until_reanchored),
        ST_TEST("/store/audit/verify-against-expected-head", verify_against_expected_head),
    };
    return cmocka_run_group_tests_name("audit", tests, NULL, NULL);
}
