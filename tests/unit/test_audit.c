/*
 * test_audit.c - the audit trail: append-only rows, seq without gaps, the
 * hash layout, filters and pagination, and verify against tampering done
 * with raw SQL on the real database file (triggers dropped, rows edited,
 * deleted, rewritten with recomputed hashes, a deleted tail).
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
#include "store.h"
#include "storetest.h"
#include "testutil.h"

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
               "DROP TRIGGER audit_head_no_delete");
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

static void write_row(store *s, const row_copy *c)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(store_handle(s),
                                        "UPDATE audit SET details = ?, prev_hash = ?, hash = ?"
                                        " WHERE seq = ?",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, c->f.details, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, c->prev, 32, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, c->hash, 32, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, c->f.seq);
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
 * knows the layout would (keeping its prev_hash). */
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
        assert_string_equal(r->time, format_utc(r->time_ns, when, sizeof(when)));
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
    assert_int_equal(st_exec_rc(s, "UPDATE audit SET outcome = 'failed' WHERE seq = 2"),
                     SQLITE_CONSTRAINT);
    assert_int_equal(st_exec_rc(s, "DELETE FROM audit WHERE seq = 3"), SQLITE_CONSTRAINT);
    assert_int_equal(st_exec_rc(s, "DELETE FROM audit_head"), SQLITE_CONSTRAINT);
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
    st_exec(s, "UPDATE audit SET details = '{\"i\":4,\"sha256_before\":\"forged\"}'"
               " WHERE seq = 5");
    expect_break(s, AUDIT_BAD_HASH, 5);
    store_close(s);
}

static void verify_detects_edit_of_each_field(void **state)
{
    (void)state;
    static const char *const edits[] = {
        "UPDATE audit SET actor = 'mallory' WHERE seq = 3",
        "UPDATE audit SET auth = 'token' WHERE seq = 3",
        "UPDATE audit SET action = 'scan' WHERE seq = 3",
        "UPDATE audit SET target = NULL WHERE seq = 3",
        "UPDATE audit SET params = '{\"dry_run\":true}' WHERE seq = 3",
        "UPDATE audit SET outcome = 'failed' WHERE seq = 3",
        "UPDATE audit SET time_ns = time_ns + 1 WHERE seq = 3",
    };
    for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
        char dir[PLAT_PATH_MAX];
        store *s = store_with_rows(dir, sizeof(dir), 4);
        drop_triggers(s);
        st_exec(s, edits[i]);
        expect_break(s, AUDIT_BAD_HASH, 3);
        store_close(s);
    }
}

static void verify_detects_deleted_row(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX];
    store *s = store_with_rows(dir, sizeof(dir), 10);
    drop_triggers(s);
    st_exec(s, "DELETE FROM audit WHERE seq = 4");
    expect_break(s, AUDIT_SEQ_GAP, 4);
    store_close(s);
}

static void verify_detects_deleted_first_row(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX];
    store *s = store_with_rows(dir, sizeof(dir), 3);
    drop_triggers(s);
    st_exec(s, "DELETE FROM audit WHERE seq = 1");
    expect_break(s, AUDIT_SEQ_GAP, 1);
    store_close(s);
}

/* Row 5 rewritten and its hash recomputed: row 6 no longer links to it. */
static void verify_detects_recomputed_row(void **state)
{
    (void)state;
    char dir[PLAT_PATH_MAX];
    row_copy c;
    store *s = store_with_rows(dir, sizeof(dir), 10);
    drop_triggers(s);
    rewrite_with_recomputed_hash(s, 5, "{\"i\":4,\"sha256_before\":\"forged\"}", &c);
    expect_break(s, AUDIT_BAD_PREV, 6);
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
    st_exec(s, "DELETE FROM audit WHERE seq > 7");
    /* the head table still names seq 10 */
    expect_break(s, AUDIT_TAIL_MISSING, 8);
    /* the head table fixed up as well: the anchor file still names seq 10 */
    read_row(s, 7, &c);
    set_head_table(s, 7, c.hash);
    expect_break(s, AUDIT_TAIL_MISSING, 8);
    audit_report rep = verify(s);
    assert_non_null(strstr(rep.detail, "rows 8..10 are missing"));
    /* deleting everything is no way out either */
    st_exec(s, "DELETE FROM audit; UPDATE audit_head SET seq = 0");
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
    assert_int_equal(st_exec_rc(s, "UPDATE audit SET hash = x'00' WHERE seq = 2"),
                     SQLITE_CONSTRAINT);
    st_exec(s, "UPDATE audit SET time_ns = 'yesterday' WHERE seq = 2");
    expect_break(s, AUDIT_BAD_ROW, 2);
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
        ST_TEST("/store/audit/filters-and-pages", filters_and_pages),
        ST_TEST("/store/audit/verify-empty", verify_empty_chain),
        ST_TEST("/store/audit/verify-detects-edit", verify_detects_edit),
        ST_TEST("/store/audit/verify-detects-edit-of-each-field",
                verify_detects_edit_of_each_field),
        ST_TEST("/store/audit/verify-detects-deleted-row", verify_detects_deleted_row),
        ST_TEST("/store/audit/verify-detects-deleted-first-row", verify_detects_deleted_first_row),
        ST_TEST("/store/audit/verify-detects-recomputed-row", verify_detects_recomputed_row),
        ST_TEST("/store/audit/verify-detects-rechained-tail", verify_detects_rechained_tail),
        ST_TEST("/store/audit/verify-detects-rewritten-last-row",
                verify_detects_rewritten_last_row),
        ST_TEST("/store/audit/verify-detects-deleted-tail", verify_detects_deleted_tail),
        ST_TEST("/store/audit/verify-detects-missing-anchor", verify_detects_missing_anchor),
        ST_TEST("/store/audit/verify-detects-malformed-row", verify_detects_malformed_row),
        ST_TEST("/store/audit/verify-reports-unanchored", verify_reports_unanchored_rows),
        ST_TEST("/store/audit/verify-against-expected-head", verify_against_expected_head),
    };
    return cmocka_run_group_tests_name("audit", tests, NULL, NULL);
}
