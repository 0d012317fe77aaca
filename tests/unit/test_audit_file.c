/*
 * test_audit_file.c - an exported audit trail checked without a database
 * (db/audit_file.h): a real store's JSON export verifies; an edited record,
 * a deleted one, a file cut short, a wrong or absent head, a range export,
 * malformed records and the bounds are each reported as such.
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

#include "audit.h"
#include "audit_file.h"
#include "err.h"
#include "export.h"
#include "store.h"
#include "storetest.h"

#define ROWS 6

/* The JSON export of a fresh store with ROWS rows (details with non-ASCII
 * text and escapes, a NULL target); the caller frees. *head: the head. */
static char *make_export(audit_head *head, const export_range *range)
{
    char dir[512];
    st_sink k;
    store *s;
    memset(&k, 0, sizeof(k));
    st_tmpdir(dir, sizeof(dir));
    s = st_open(dir);
    for (int i = 0; i < ROWS; i++) {
        char details[128];
        audit_event ev = {"token_change", i % 2 ? NULL : "api-token", "{\"n\":1}", "ok", details};
        snprintf(details, sizeof(details), "{\"i\":%d,\"who\":\"J\xC3\xBCrgen \\\"q\\\"\"}", i);
        assert_int_equal(audit_append(s, &st_actor, &ev, NULL), TMI_OK);
    }
    assert_int_equal(audit_head_get(s, head), TMI_OK);
    assert_int_equal(export_audit(s, EXPORT_JSON, range, st_sink_write, &k), TMI_OK);
    store_close(s);
    return k.data;
}

static void verify_text(const char *text, const audit_head *expect, audit_file_report *rep)
{
    assert_int_equal(audit_file_verify(text, strlen(text), expect, 0, rep), TMI_OK);
}

/* text with the first occurrence of from replaced by to (new string). */
static char *replace(const char *text, const char *from, const char *to)
{
    const char *at = strstr(text, from);
    size_t n = strlen(text) - strlen(from) + strlen(to) + 1;
    char *out = malloc(n);
    assert_non_null(at);
    snprintf(out, n, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    return out;
}

static void intact_export_verifies(void **state)
{
    audit_head head;
    audit_file_report rep;
    char *text = make_export(&head, NULL);
    (void)state;
    verify_text(text, NULL, &rep);
    assert_true(rep.intact);
    assert_int_equal(rep.rows, ROWS);
    assert_int_equal(rep.first_seq, 1);
    assert_int_equal(rep.head.seq, head.seq);
    assert_memory_equal(rep.head.hash, head.hash, 32);
    /* and against the server's head */
    verify_text(text, &head, &rep);
    assert_true(rep.intact);
    assert_int_equal(rep.head_checked, 1);
    free(text);
}

static void edited_record_fails(void **state)
{
    audit_head head;
    audit_file_report rep;
    char *text = make_export(&head, NULL);
    char *bad = replace(text, "\"outcome\":\"ok\"", "\"outcome\":\"failed\"");
    (void)state;
    verify_text(bad, NULL, &rep);
    assert_false(rep.intact);
    assert_int_equal(rep.why, AUDIT_BAD_HASH);
    assert_int_equal(rep.broken_seq, 1);
    free(bad);
    /* the derived time text is checked too: it is not hashed */
    bad = replace(text, "\"time\":\"20", "\"time\":\"19");
    verify_text(bad, NULL, &rep);
    assert_false(rep.intact);
    assert_int_equal(rep.why, AUDIT_BAD_ROW);
    free(bad);
    free(text);
}

static void deleted_record_fails(void **state)
{
    audit_head head;
    audit_file_report rep;
    char *text = make_export(&head, NULL);
    char *second = strstr(text, "{\"seq\":2,");
    char *third = strstr(text, "{\"seq\":3,");
    (void)state;
    assert_non_null(second);
    assert_non_null(third);
    memmove(second, third, strlen(third) + 1);
    verify_text(text, NULL, &rep);
    assert_false(rep.intact);
    assert_int_equal(rep.why, AUDIT_SEQ_GAP);
    assert_int_equal(rep.broken_seq, 2);
    assert_int_equal(rep.rows, 1);
    free(text);
}

static void truncated_export_fails(void **state)
{
    audit_head head;
    audit_file_report rep;
    char *text = make_export(&head, NULL);
    size_t len = strlen(text);
    (void)state;
    /* cut inside the last record, and just before the closing ']' */
    assert_int_equal(audit_file_verify(text, len - 40, NULL, 0, &rep), TMI_OK);
    assert_false(rep.intact);
    assert_int_equal(rep.why, AUDIT_TAIL_MISSING);
    assert_int_equal(rep.broken_seq, ROWS);
    assert_int_equal(rep.rows, ROWS - 1);
    assert_int_equal(audit_file_verify(text, (size_t)(strrchr(text, ']') - text), NULL, 0, &rep),
                     TMI_OK);
    assert_false(rep.intact);
    assert_int_equal(rep.why, AUDIT_TAIL_MISSING);
    assert_int_equal(rep.rows, ROWS);
    free(text);
}

static void wrong_head_fails(void **state)
{
    audit_head head, other;
    audit_file_report rep;
    char *text = make_export(&head, NULL);
    (void)state;
    other = head;
    other.hash[0] ^= 1;
    verify_text(text, &other, &rep);
    assert_false(rep.intact);
    assert_int_equal(rep.why, AUDIT_ANCHOR_MISMATCH);
    assert_int_equal(rep.broken_seq, head.seq);
    /* a head past the file's end: rows missing at the end */
    other = head;
    other.seq = head.seq + 3;
    verify_text(text, &other, &rep);
    assert_false(rep.intact);
    assert_int_equal(rep.why, AUDIT_TAIL_MISSING);
    assert_int_equal(rep.broken_seq, head.seq + 1);
    free(text);
}

static void range_export_starts_later(void **state)
{
    audit_head head;
    audit_file_report rep;
    char *full = make_export(&head, NULL);
    char *part = strstr(full, "{\"seq\":3,");
    char *text;
    (void)state;
    assert_non_null(part);
    text = malloc(strlen(part) + 3);
    snprintf(text, strlen(part) + 3, "[\n%s", part);
    verify_text(text, &head, &rep);
    assert_true(rep.intact);
    assert_int_equal(rep.first_seq, 3);
    assert_int_equal(rep.rows, ROWS - 2);
    /* the head's row before the file's first: not in it */
    head.seq = 1;
    verify_text(text, &head, &rep);
    assert_false(rep.intact);
    assert_int_equal(rep.why, AUDIT_ANCHOR_MISMATCH);
    free(text);
    free(full);
}

static void malformed_input(void **state)
{
    static const char *const not_export[] = {"", "   ", "{\"seq\":1}", "null", "\xEF\xBB\xBF"};
    static const char *const bad_rows[] = {
        "[1]",
        "[{\"seq\":1}]",
        "[{\"seq\":\"1\"}]",
        "[{]",
        "[{\"seq\":1.5,\"time_ns\":\"0\"}]",
        "[]x",
        "[{\"a\":\"}\"} {}]",
    };
    audit_file_report rep;
    (void)state;
    for (size_t i = 0; i < sizeof(not_export) / sizeof(not_export[0]); i++)
        assert_int_equal(audit_file_verify(not_export[i], strlen(not_export[i]), NULL, 0, &rep),
                         TMI_EFORMAT);
    for (size_t i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
        verify_text(bad_rows[i], NULL, &rep);
        assert_false(rep.intact);
        assert_true(rep.broken_seq >= 1);
    }
    verify_text("[ ]", NULL, &rep);
    assert_true(rep.intact);
    assert_int_equal(rep.rows, 0);
}

static void bounds(void **state)
{
    audit_head head;
    audit_file_report rep;
    char *text = make_export(&head, NULL);
    char *big;
    size_t n = AUDIT_FILE_MAX_RECORD + 64;
    (void)state;
    /* more rows than allowed */
    assert_int_equal(audit_file_verify(text, strlen(text), NULL, ROWS - 1, &rep), TMI_ETOOBIG);
    assert_int_equal(audit_file_verify(text, strlen(text), NULL, ROWS, &rep), TMI_OK);
    /* a file over the size cap is refused before a byte is read */
    assert_int_equal(audit_file_verify(text, (size_t)AUDIT_FILE_MAX_BYTES + 1, NULL, 0, &rep),
                     TMI_ETOOBIG);
    /* one record over the record cap */
    big = malloc(n + 1);
    memset(big, ' ', n);
    memcpy(big, "[{\"x\":\"", 7);
    big[n - 3] = '"';
    big[n - 2] = '}';
    big[n - 1] = ']';
    big[n] = '\0';
    assert_int_equal(audit_file_verify(big, n, NULL, 0, &rep), TMI_ETOOBIG);
    free(big);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        ST_TEST("/store/audit-file/intact-export-verifies", intact_export_verifies),
        ST_TEST("/store/audit-file/edited-record-fails", edited_record_fails),
        ST_TEST("/store/audit-file/deleted-record-fails", deleted_record_fails),
        ST_TEST("/store/audit-file/truncated-export-fails", truncated_export_fails),
        ST_TEST("/store/audit-file/wrong-head-fails", wrong_head_fails),
        ST_TEST("/store/audit-file/range-export-starts-later", range_export_starts_later),
        ST_TEST("/store/audit-file/malformed-input", malformed_input),
        ST_TEST("/store/audit-file/bounds", bounds),
    };
    return cmocka_run_group_tests_name("audit_file", tests, NULL, NULL);
}
